#pragma once
/// \file
/// Printing a Tensor the way torch prints it: `tensor([[0.1000, 0.2000], ...])`,
/// four decimals, scientific notation when the magnitudes call for it,
/// summarised with `...` past 1000 elements, and `dtype=torch.float64` for double.

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "strata/core/tensor.hpp"

namespace strata {
namespace detail {

/// torch's print options (torch.set_printoptions defaults).
struct PrintOptions {
  int precision = 4;
  index_t threshold = 1000;
  index_t edgeitems = 3;
  index_t linewidth = 80;
};

/// torch's _Formatter: one width and one notation for every element.
class ValueFormatter {
 public:
  ValueFormatter(const std::vector<double>& values, const PrintOptions& options) : precision_(options.precision) {
    double min_abs = 0, max_abs = 0;
    bool any = false;
    for (double v : values) {
      if (!std::isfinite(v) || v == 0) continue;
      const double a = std::abs(v);
      min_abs = any ? std::min(min_abs, a) : a;
      max_abs = any ? std::max(max_abs, a) : a;
      any = true;
      if (v != std::ceil(v)) int_mode_ = false;
    }
    if (!any) return;  // torch keeps the defaults when nothing is finite and non-zero
    if (int_mode_) {
      sci_mode_ = max_abs / min_abs > 1000. || max_abs > 1.e8;
    } else {
      sci_mode_ = max_abs / min_abs > 1000. || max_abs > 1.e8 || min_abs < 1.e-4;
    }
    for (double v : values) {
      if (!std::isfinite(v) || v == 0) continue;
      const std::size_t extra = (int_mode_ && !sci_mode_) ? 1 : 0;  // the trailing '.'
      width_ = std::max(width_, raw(v).size() + extra);
    }
  }

  std::size_t width() const { return width_; }

  std::string format(double v) const {
    std::string s = raw(v);
    if (int_mode_ && !sci_mode_ && std::isfinite(v)) s += '.';
    if (s.size() < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  std::string raw(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buffer[64];
    if (sci_mode_) {
      std::snprintf(buffer, sizeof buffer, "%.*e", precision_, v);
    } else if (int_mode_) {
      std::snprintf(buffer, sizeof buffer, "%.0f", v);
    } else {
      std::snprintf(buffer, sizeof buffer, "%.*f", precision_, v);
    }
    return buffer;
  }

  int precision_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  std::size_t width_ = 1;
};

/// Renders a (sub)tensor the way torch's _tensor_str_with_formatter does.
template <typename T>
class TensorPrinter {
 public:
  TensorPrinter(const Tensor<T>& t, const PrintOptions& options)
      : t_(t), options_(options), summarize_(t.numel() > options.threshold) {}

  /// The values that will be shown (all, or the summarised edges).
  std::vector<double> shown_values() const {
    std::vector<double> values;
    std::vector<index_t> idx;
    collect(idx, values);
    return values;
  }

  std::string render(const ValueFormatter& formatter, index_t indent) const {
    std::vector<index_t> idx;
    return render_from(idx, formatter, indent);
  }

 private:
  /// The indices of dimension `d` that are printed; -1 stands for the "..." gap.
  std::vector<index_t> shown_indices(std::size_t d) const {
    const index_t n = t_.shape()[d];
    std::vector<index_t> out;
    if (summarize_ && n > 2 * options_.edgeitems) {
      for (index_t i = 0; i < options_.edgeitems; ++i) out.push_back(i);
      out.push_back(-1);
      for (index_t i = n - options_.edgeitems; i < n; ++i) out.push_back(i);
    } else {
      for (index_t i = 0; i < n; ++i) out.push_back(i);
    }
    return out;
  }

  void collect(std::vector<index_t>& idx, std::vector<double>& values) const {
    if (idx.size() == t_.shape().size()) {
      values.push_back(static_cast<double>(t_.at(idx)));
      return;
    }
    for (index_t i : shown_indices(idx.size())) {
      if (i < 0) continue;
      idx.push_back(i);
      collect(idx, values);
      idx.pop_back();
    }
  }

  std::string render_from(std::vector<index_t>& idx, const ValueFormatter& formatter, index_t indent) const {
    const std::size_t rank = t_.shape().size();
    const std::size_t d = idx.size();
    if (d == rank) return formatter.format(static_cast<double>(t_.at(idx)));
    std::vector<std::string> parts;
    for (index_t i : shown_indices(d)) {
      if (i < 0) {
        parts.push_back(d + 1 == rank ? " ..." : "...");
        continue;
      }
      idx.push_back(i);
      parts.push_back(render_from(idx, formatter, indent + 1));
      idx.pop_back();
    }
    std::string out = "[";
    if (d + 1 == rank) {
      // Innermost dimension: wrap lines at linewidth like torch's _vector_str.
      const index_t element_length = static_cast<index_t>(formatter.width()) + 2;
      const index_t per_line = std::max<index_t>(1, (options_.linewidth - indent) / element_length);
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
          out += ',';
          out += (static_cast<index_t>(i) % per_line == 0) ? "\n" + std::string(static_cast<std::size_t>(indent) + 1, ' ')
                                                          : std::string(" ");
        }
        out += parts[i];
      }
    } else {
      const std::string separator =
          "," + std::string(rank - d - 1, '\n') + std::string(static_cast<std::size_t>(indent) + 1, ' ');
      for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
    }
    return out + "]";
  }

  const Tensor<T>& t_;
  const PrintOptions& options_;
  bool summarize_;
};

}  // namespace detail

/// Prints like torch: `tensor([[ 0.1000, -0.2000]])`, plus `size=(0, 3)` for
/// empty tensors and `dtype=torch.float64` for double.
template <typename T>
std::ostream& operator<<(std::ostream& out, const Tensor<T>& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  const detail::PrintOptions options;
  const std::string prefix = "tensor(";
  const index_t indent = static_cast<index_t>(prefix.size());
  std::vector<std::string> suffixes;
  std::string body;
  if (t.numel() == 0) {
    body = "[]";
    if (t.dim() != 1) {
      std::string size = "size=(";
      for (index_t d = 0; d < t.dim(); ++d) size += (d ? ", " : "") + std::to_string(t.size(d));
      suffixes.push_back(size + (t.dim() == 1 ? ",)" : ")"));
    }
  } else {
    const detail::TensorPrinter<T> printer(t, options);
    const detail::ValueFormatter formatter(printer.shown_values(), options);
    body = printer.render(formatter, indent);
  }
  if (std::is_same_v<T, double>) suffixes.push_back("dtype=torch.float64");
  // torch's _add_suffixes: a suffix goes on a new line when the last line would pass linewidth.
  std::string text = prefix + body;
  const std::size_t newline = text.rfind('\n');
  index_t last_line = static_cast<index_t>(text.size()) + 1 -
                      (newline == std::string::npos ? index_t{-1} : static_cast<index_t>(newline));
  for (const std::string& suffix : suffixes) {
    const index_t len = static_cast<index_t>(suffix.size());
    if (last_line + len + 2 > options.linewidth) {
      text += ",\n" + std::string(static_cast<std::size_t>(indent), ' ') + suffix;
      last_line = indent + len;
    } else {
      text += ", " + suffix;
      last_line += len + 2;
    }
  }
  return out << text << ')';
}

}  // namespace strata
