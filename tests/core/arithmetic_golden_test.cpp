// PyTorch golden data for tensor arithmetic (tests/reference/golden_arithmetic/, written by
// tests/reference/generate_arithmetic_golden.py): broadcasting + - * / (bit for bit, special values
// included), scalars on either side, in-place forms, torch.cat, torch.chunk's sizes, and sum / mean
// over dims (within a few roundings of torch's float cascade sums).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "golden_reader.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

/// The largest |strata - torch| / (eps sum|x|) over the sum / mean cases (printed at the end).
template <typename T>
double& golden_arith_worst_reduce_ulps() {
  static double worst = 0;
  return worst;
}

std::string golden_arith_dir() { return std::string(STRATA_GOLDEN_DIR) + "/../golden_arithmetic"; }

template <typename T>
Tensor<T> golden_arith_tensor(const strata_test::GoldenTensor& g) {
  std::vector<T> values(g.values.size());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(g.values[i]);
  return Tensor<T>(Shape(std::vector<index_t>(g.shape.begin(), g.shape.end())), values);
}

/// Same shape, and equal values (NaN where torch has NaN, -0 where it has -0).
template <typename T>
void golden_arith_expect_exact(const Tensor<T>& got, const Tensor<T>& want, const std::string& name) {
  ASSERT_EQ(got.shape(), want.shape()) << name;
  const Tensor<T> g = got.contiguous();
  for (index_t i = 0; i < g.numel(); ++i) {
    const T x = g.data()[i], y = want.data()[i];
    if (std::isnan(y)) {
      ASSERT_TRUE(std::isnan(x)) << name << " element " << i;
    } else {
      ASSERT_EQ(x, y) << name << " element " << i;
      ASSERT_EQ(std::signbit(x), std::signbit(y)) << name << " element " << i;
    }
  }
}

template <typename T>
Tensor<T> golden_arith_binary(const std::string& op, const Tensor<T>& a, const Tensor<T>& b) {
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  return a / b;
}

template <typename T>
Tensor<T> golden_arith_inplace(const std::string& op, Tensor<T> a, const Tensor<T>& b) {
  if (op == "add_") return a += b;
  if (op == "sub_") return a -= b;
  if (op == "mul_") return a *= b;
  return a /= b;
}

template <typename T>
Tensor<T> golden_arith_scalar(const std::string& op, const Tensor<T>& a, double s, bool left) {
  if (op == "add_scalar") return left ? s + a : a + s;
  if (op == "sub_scalar") return left ? s - a : a - s;
  if (op == "mul_scalar") return left ? s * a : a * s;
  return left ? s / a : a / s;
}

template <typename T>
int golden_arith_check(const strata_test::GoldenCase& c) {
  const std::string& op = c.layer;
  const Tensor<T> want = golden_arith_tensor<T>(c.tensor("output"));
  if (op == "add" || op == "sub" || op == "mul" || op == "div") {
    const Tensor<T> a = golden_arith_tensor<T>(c.tensor("a")), b = golden_arith_tensor<T>(c.tensor("b"));
    golden_arith_expect_exact(golden_arith_binary(op, a, b), want, c.name);
    // The same through transposed storage when there is something to transpose.
    if (a.dim() >= 2) {
      const Tensor<T> at = a.transpose(0, 1).contiguous().transpose(0, 1);
      golden_arith_expect_exact(golden_arith_binary(op, at, b), want, c.name + " (transposed a)");
    }
  } else if (op.size() == 4 && op.back() == '_') {
    const Tensor<T> a = golden_arith_tensor<T>(c.tensor("a")), b = golden_arith_tensor<T>(c.tensor("b"));
    golden_arith_expect_exact(golden_arith_inplace(op, a.clone(), b), want, c.name);
  } else if (op.find("_scalar") != std::string::npos) {
    const double s = std::strtod(c.str("scalar").c_str(), nullptr);
    const Tensor<T> a = golden_arith_tensor<T>(c.tensor("a"));
    golden_arith_expect_exact(golden_arith_scalar(op, a, s, c.str("side") == "left"), want, c.name);
  } else if (op == "cat") {
    std::vector<Tensor<T>> inputs;
    for (index_t i = 0; i < c.ints("count")[0]; ++i) {
      inputs.push_back(golden_arith_tensor<T>(c.tensor("input" + std::to_string(i))));
    }
    golden_arith_expect_exact(strata::cat(inputs, c.ints("dim")[0]), want, c.name);
  } else if (op == "chunk") {
    const Tensor<T> x = golden_arith_tensor<T>(c.tensor("input"));
    const index_t dim = c.ints("dim")[0];
    const auto parts = x.chunk(c.ints("chunks")[0], dim);
    EXPECT_EQ(static_cast<index_t>(parts.size()), want.numel()) << c.name;
    for (std::size_t i = 0; i < parts.size() && static_cast<index_t>(i) < want.numel(); ++i) {
      EXPECT_EQ(parts[i].size(dim), static_cast<index_t>(want.data()[i])) << c.name << " chunk " << i;
    }
  } else if (op == "sum" || op == "mean") {
    const Tensor<T> x = golden_arith_tensor<T>(c.tensor("input"));
    std::vector<index_t> dims;
    if (c.str("dims") != "all") {
      for (index_t d : c.ints("dims")) dims.push_back(d);
    }
    const bool keepdim = c.ints("keepdim")[0] != 0;
    const Tensor<T> got = op == "sum" ? x.sum(dims, keepdim) : x.mean(dims, keepdim);
    EXPECT_EQ(got.shape(), want.shape()) << c.name;
    // torch sums float32 in float (cascade); strata in double, rounding once: they differ by a few
    // roundings of sum|x| over each reduction (of mean|x| for a mean).
    const Tensor<T> abs_x = strata::detail::unary_map(x, [](const T* in, T* out, index_t n) {
      for (index_t i = 0; i < n; ++i) out[i] = std::abs(in[i]);
    });
    const Tensor<T> scale = op == "sum" ? abs_x.sum(dims, keepdim) : abs_x.mean(dims, keepdim);
    const double eps = std::numeric_limits<T>::epsilon();
    double worst = 0;
    for (index_t i = 0; i < got.numel(); ++i) {
      const double g = got.data()[i], w = want.data()[i], m = scale.data()[i];
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(g)) << c.name;
        continue;
      }
      worst = std::max(worst, std::abs(g - w) / (eps * m));
      EXPECT_LE(std::abs(g - w), 4 * eps * m) << c.name << " element " << i;
    }
    golden_arith_worst_reduce_ulps<T>() = std::max(golden_arith_worst_reduce_ulps<T>(), worst);
  } else {
    ADD_FAILURE() << "unknown golden layer '" << op << "' in " << c.path;
    return 0;
  }
  return 1;
}

TEST(ArithmeticGoldenTest, EveryCaseMatchesPyTorch) {
  const std::vector<std::string> files = strata_test::list_golden_cases(golden_arith_dir());
  int checked = 0;
  for (const std::string& file : files) {
    const strata_test::GoldenCase c = strata_test::read_golden_case(file);
    checked += c.dtype == "float32" ? golden_arith_check<float>(c) : golden_arith_check<double>(c);
  }
  EXPECT_EQ(checked, static_cast<int>(files.size()));
  EXPECT_GE(checked, 190);
  std::printf(
      "golden arithmetic: %d cases; sum/mean differ from torch by at most %.3f (float) and %.3f (double) "
      "eps * sum|x|\n",
      checked, golden_arith_worst_reduce_ulps<float>(), golden_arith_worst_reduce_ulps<double>());
}

}  // namespace
