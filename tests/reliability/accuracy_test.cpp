// Numerical accuracy, tracked: for every golden case (tests/reference/golden,
// read with tests/golden_reader.hpp) and both scalar types, the layer runs on
// the case's parameters and input rounded to T, and each output element y is
// compared with an extended-precision computation y* of the same sum from the
// same T values (long double: 64-bit significand on x86-64, so its own error,
// at most (K + 2) * 2^-64 relatively, is negligible next to either bound).
//
// Relative error of an element: |y - y*| / sum|terms|, the sum of the
// magnitudes of its products and bias. (|y - y*| / |y*| is unbounded where
// the terms cancel, and the golden sums do cancel: a random-sign sum of K
// terms is ~sqrt(K) times smaller than sum|terms|.) Each output is a sum of K
// products plus a bias, where K is the reduction length: in_features for
// Linear, in1 * in2 for Bilinear (two products per term), in_channels/groups
// * prod(kernel_size) for a convolution.
//
// The bound, next to each measurement: relative error <= 7 * sqrt(K + 2) * u
// with u = 2^-24 (float) or 2^-53 (double), plus the reference's own error.
// Why: a sum of K rounded products and a bias, in any order (sequential,
// blocked, pairwise, with or without FMA), goes through at most n = K + 2
// roundings per term (product, additions, the final rounding to T), so
// deterministically |y - y*| <= gamma_n * sum|terms| with gamma_n ~ n*u
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 3.1).
// Modelling the rounding errors as independent and mean-zero, Higham & Mary
// (SIAM J. Sci. Comput. 41(5), 2019, Thm. 3.1) give the sharper
// |y - y*| <= lambda * sqrt(n) * u * sum|terms| except with probability at
// most n * 2 * exp(-lambda^2 / 2): lambda = 7 makes that 5e-11 per term, so a
// correct kernel passes on every element of these fixed data, while a kernel
// that lost precision (e.g. a float accumulation at half the bits, or a
// dropped term) fails by orders of magnitude. The deterministic n*u bound is
// checked too, as the hard limit.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <strata/strata.hpp>

#include "golden_reader.hpp"
#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using strata_test::GoldenCase;
using strata_test::GoldenTensor;
using Wide = long double;

constexpr double kLambda = 7.0;

template <typename T>
constexpr double unit_roundoff() {
  return std::numeric_limits<T>::epsilon() / 2;
}

/// The probabilistic bound on |y - y*| / sum|terms| for a reduction of length K, plus the reference's error.
template <typename T>
double probabilistic_bound(index_t K) {
  const double n = static_cast<double>(K + 2);
  return kLambda * std::sqrt(n) * unit_roundoff<T>() + n * std::numeric_limits<Wide>::epsilon();
}

/// The deterministic bound gamma_n = n u / (1 - n u), n = K + 2, plus the reference's error.
template <typename T>
double deterministic_bound(index_t K) {
  const double nu = static_cast<double>(K + 2) * unit_roundoff<T>();
  return nu / (1 - nu) + static_cast<double>(K + 2) * std::numeric_limits<Wide>::epsilon();
}

template <typename T>
Tensor<T> to_tensor(const GoldenTensor& g) {
  std::vector<T> values;
  for (double v : g.values) values.push_back(static_cast<T>(v));  // float32 files round-trip exactly
  return Tensor<T>(Shape(std::vector<index_t>(g.shape.begin(), g.shape.end())), values);
}

std::vector<Wide> wide_values(const std::vector<double>& v) { return std::vector<Wide>(v.begin(), v.end()); }

/// y* and sum|terms| per output element, in long double, row-major.
struct WideReference {
  std::vector<Wide> value, magnitude;
  index_t K = 0;
};

template <typename T>
WideReference linear_reference(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b) {
  const std::vector<Wide> xv = wide_values(strata_test::reference_values(x));
  const std::vector<Wide> wv = wide_values(strata_test::reference_values(w));
  const std::vector<Wide> bv = b.defined() ? wide_values(strata_test::reference_values(b)) : std::vector<Wide>();
  const index_t N = w.size(0), K = w.size(1), M = x.numel() / K;
  WideReference r;
  r.K = K;
  for (index_t m = 0; m < M; ++m) {
    for (index_t n = 0; n < N; ++n) {
      Wide sum = bv.empty() ? 0 : bv[n], mag = std::abs(sum);
      for (index_t k = 0; k < K; ++k) {
        const Wide term = xv[m * K + k] * wv[n * K + k];
        sum += term;
        mag += std::abs(term);
      }
      r.value.push_back(sum);
      r.magnitude.push_back(mag);
    }
  }
  return r;
}

template <typename T>
WideReference bilinear_reference(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& w, const Tensor<T>& b) {
  const std::vector<Wide> av = wide_values(strata_test::reference_values(x1));
  const std::vector<Wide> cv = wide_values(strata_test::reference_values(x2));
  const std::vector<Wide> wv = wide_values(strata_test::reference_values(w));
  const std::vector<Wide> bv = b.defined() ? wide_values(strata_test::reference_values(b)) : std::vector<Wide>();
  const index_t N = w.size(0), I = w.size(1), J = w.size(2), M = x1.numel() / I;
  WideReference r;
  r.K = I * J;
  for (index_t m = 0; m < M; ++m) {
    for (index_t o = 0; o < N; ++o) {
      Wide sum = bv.empty() ? 0 : bv[o], mag = std::abs(sum);
      for (index_t i = 0; i < I; ++i) {
        for (index_t j = 0; j < J; ++j) {
          const Wide term = av[m * I + i] * wv[(o * I + i) * J + j] * cv[m * J + j];
          sum += term;
          mag += std::abs(term);
        }
      }
      r.value.push_back(sum);
      r.magnitude.push_back(mag);
    }
  }
  return r;
}

/// Direct convolution of a batched input in long double; padding per side, any mode.
template <std::size_t D, typename T>
WideReference conv_reference(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                             const std::array<index_t, D>& stride, const std::array<index_t, D>& before,
                             const std::array<index_t, D>& after, const std::array<index_t, D>& dilation,
                             index_t groups, strata::PaddingMode mode) {
  const std::vector<Wide> x = wide_values(strata_test::reference_values(input));
  const std::vector<Wide> w = wide_values(strata_test::reference_values(weight));
  const std::vector<Wide> b = bias.defined() ? wide_values(strata_test::reference_values(bias)) : std::vector<Wide>();
  const index_t batch = input.size(0), channels = input.size(1), out_channels = weight.size(0);
  const index_t cin = channels / groups, cout = out_channels / groups;
  std::array<index_t, D> in{}, k{}, out{};
  index_t in_numel = 1, k_numel = 1, out_numel = 1;
  for (std::size_t d = 0; d < D; ++d) {
    in[d] = input.size(static_cast<index_t>(d + 2));
    k[d] = weight.size(static_cast<index_t>(d + 2));
    out[d] = (in[d] + before[d] + after[d] - dilation[d] * (k[d] - 1) - 1) / stride[d] + 1;
    in_numel *= in[d];
    k_numel *= k[d];
    out_numel *= out[d];
  }
  WideReference r;
  r.K = cin * k_numel;
  for (index_t n = 0; n < batch; ++n) {
    for (index_t oc = 0; oc < out_channels; ++oc) {
      const index_t g = oc / cout;
      for (index_t o = 0; o < out_numel; ++o) {
        Wide sum = b.empty() ? 0 : b[oc], mag = std::abs(sum);
        for (index_t ic = 0; ic < cin; ++ic) {
          for (index_t t = 0; t < k_numel; ++t) {
            index_t xi = 0, rest_o = o, rest_t = t;
            bool zero = false;
            std::array<index_t, D> op{}, kp{};
            for (std::size_t d = D; d-- > 0;) {
              op[d] = rest_o % out[d];
              rest_o /= out[d];
              kp[d] = rest_t % k[d];
              rest_t /= k[d];
            }
            for (std::size_t d = 0; d < D; ++d) {
              const index_t src =
                  strata_test::reference_source(op[d] * stride[d] - before[d] + kp[d] * dilation[d], in[d], mode);
              zero = zero || src < 0;
              xi = xi * in[d] + std::max<index_t>(src, 0);
            }
            if (zero) continue;
            const Wide term = w[(oc * cin + ic) * k_numel + t] * x[(n * channels + g * cin + ic) * in_numel + xi];
            sum += term;
            mag += std::abs(term);
          }
        }
        r.value.push_back(sum);
        r.magnitude.push_back(mag);
      }
    }
  }
  return r;
}

/// The accuracy of one (layer, dtype) over every golden case.
struct Tally {
  int cases = 0;
  index_t elements = 0;
  double worst = 0;        ///< max |y - y*| / sum|terms|
  index_t worst_K = 0;     ///< its reduction length
  double worst_ratio = 0;  ///< max of (relative error) / (probabilistic bound for its K)
  index_t max_K = 0;
};

/// Compares out with the reference, element by element, against both bounds.
template <typename T>
void measure(const std::string& name, const Tensor<T>& out, const WideReference& ref, Tally& tally) {
  const std::vector<double> got = strata_test::reference_values(out);
  ASSERT_EQ(got.size(), ref.value.size()) << name;
  const double bound = probabilistic_bound<T>(ref.K), hard = deterministic_bound<T>(ref.K);
  int failures = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = static_cast<double>(std::abs(static_cast<Wide>(got[i]) - ref.value[i]));
    const double mag = static_cast<double>(ref.magnitude[i]);
    const double rel = mag > 0 ? err / mag : (err == 0 ? 0.0 : std::numeric_limits<double>::infinity());
    if (!(rel <= bound) && failures++ < 3) {
      ADD_FAILURE() << name << " element " << i << ": relative error " << rel << " > 7 sqrt(K+2) u = " << bound
                    << " (K = " << ref.K << ", deterministic bound " << hard << ")";
    }
    EXPECT_LE(rel, hard) << name << " element " << i;
    if (rel > tally.worst) {
      tally.worst = rel;
      tally.worst_K = ref.K;
    }
    tally.worst_ratio = std::max(tally.worst_ratio, rel / bound);
  }
  tally.elements += static_cast<index_t>(got.size());
  tally.max_K = std::max(tally.max_K, ref.K);
  ++tally.cases;
}

template <std::size_t D>
strata::nn::ExpandingArray<D> option_array(const GoldenCase& c, const std::string& key) {
  const std::vector<std::int64_t> values = c.ints(key);
  return strata::nn::ExpandingArray<D>(std::vector<index_t>(values.begin(), values.end()));
}

template <std::size_t D>
strata::nn::ConvOptions<D> conv_options(const GoldenCase& c) {
  strata::nn::ConvOptions<D> options(c.ints("in_channels").at(0), c.ints("out_channels").at(0),
                                     option_array<D>(c, "kernel_size"));
  options.stride(option_array<D>(c, "stride"))
      .dilation(option_array<D>(c, "dilation"))
      .groups(c.ints("groups").at(0))
      .bias(c.ints("bias").at(0) != 0);
  const std::string padding = c.str("padding");
  if (padding == "same") {
    options.padding(strata::nn::kSame);
  } else if (padding == "valid") {
    options.padding(strata::nn::kValid);
  } else {
    options.padding(option_array<D>(c, "padding"));
  }
  const std::map<std::string, strata::PaddingMode> modes = {{"zeros", strata::kZeros},
                                                            {"reflect", strata::kReflect},
                                                            {"replicate", strata::kReplicate},
                                                            {"circular", strata::kCircular}};
  options.padding_mode(modes.at(c.str("padding_mode")));
  return options;
}

template <std::size_t D, typename T>
void run_conv(const GoldenCase& c, Tally& tally) {
  const strata::nn::ConvOptions<D> options = conv_options<D>(c);
  strata::nn::Conv<D, T> conv(options);
  conv.weight().copy_(to_tensor<T>(c.tensor("weight")));
  if (options.bias()) conv.bias().copy_(to_tensor<T>(c.tensor("bias")));
  const Tensor<T> input = to_tensor<T>(c.tensor("input"));
  const Tensor<T> out = conv(input);
  std::array<index_t, D> before{}, after{};
  for (std::size_t d = 0; d < D; ++d) {
    if (options.padding().is_same()) {
      std::tie(before[d], after[d]) = strata::nn::same_padding(options.kernel_size()[d], options.dilation()[d]);
    } else if (options.padding().is_explicit()) {
      before[d] = after[d] = options.padding().values()[d];
    }
  }
  const bool batched = input.dim() == static_cast<index_t>(D + 2);
  const WideReference ref =
      conv_reference<D, T>(batched ? input : input.unsqueeze(0), conv.weight(), conv.bias(), options.stride().array(),
                           before, after, options.dilation().array(), options.groups(), options.padding_mode());
  measure(c.name, out, ref, tally);
}

template <typename T>
void run_case(const GoldenCase& c, Tally& tally) {
  if (c.layer == "linear") {
    strata::nn::Linear<T> fc(strata::nn::LinearOptions(c.ints("in_features").at(0), c.ints("out_features").at(0))
                                 .bias(c.ints("bias").at(0) != 0));
    fc.weight().copy_(to_tensor<T>(c.tensor("weight")));
    if (c.has("bias")) fc.bias().copy_(to_tensor<T>(c.tensor("bias")));
    const Tensor<T> x = to_tensor<T>(c.tensor("input"));
    measure(c.name, fc(x), linear_reference(x, fc.weight(), fc.bias()), tally);
  } else if (c.layer == "bilinear") {
    strata::nn::Bilinear<T> bl(strata::nn::BilinearOptions(c.ints("in1_features").at(0), c.ints("in2_features").at(0),
                                                           c.ints("out_features").at(0))
                                   .bias(c.ints("bias").at(0) != 0));
    bl.weight().copy_(to_tensor<T>(c.tensor("weight")));
    if (c.has("bias")) bl.bias().copy_(to_tensor<T>(c.tensor("bias")));
    const Tensor<T> x1 = to_tensor<T>(c.tensor("input1")), x2 = to_tensor<T>(c.tensor("input2"));
    measure(c.name, bl(x1, x2), bilinear_reference(x1, x2, bl.weight(), bl.bias()), tally);
  } else if (c.layer == "conv1d") {
    run_conv<1, T>(c, tally);
  } else if (c.layer == "conv2d") {
    run_conv<2, T>(c, tally);
  } else {
    ADD_FAILURE() << c.name << ": unknown layer " << c.layer;
  }
}

TEST(Accuracy, EveryGoldenCaseWithinTheRoundingBoundInFloatAndDouble) {
  std::map<std::string, Tally> f32, f64;
  for (const std::string& path : strata_test::list_golden_cases(STRATA_GOLDEN_DIR)) {
    const GoldenCase c = strata_test::read_golden_case(path);
    SCOPED_TRACE(c.name);
    // Both types on every case: a float64 case rounded to float is a float case of its own.
    run_case<float>(c, f32[c.layer]);
    run_case<double>(c, f64[c.layer]);
  }
  std::cout << "[ accuracy ] relative error = |y - y*| / sum|terms| against a long-double computation, bound "
               "7 sqrt(K+2) u (u = 2^-24 float, 2^-53 double)\n";
  std::cout << "[ accuracy ] layer     dtype   cases elements  max K  max rel. error  (its K)  bound at that K  "
               "worst error/bound\n";
  int layers = 0;
  for (const auto& [layer, tally] : f32) {
    for (const auto* table : {&f32, &f64}) {
      const Tally& t = table->at(layer);
      const bool is_float = table == &f32;
      const double bound = is_float ? probabilistic_bound<float>(t.worst_K) : probabilistic_bound<double>(t.worst_K);
      char line[256];
      std::snprintf(line, sizeof line, "[ accuracy ] %-9s %-7s %5d %8lld %6lld  %14.3e  %7lld  %15.3e  %17.3f\n",
                    layer.c_str(), is_float ? "float" : "double", t.cases, static_cast<long long>(t.elements),
                    static_cast<long long>(t.max_K), t.worst, static_cast<long long>(t.worst_K), bound, t.worst_ratio);
      std::cout << line;
      const std::string key = layer + (is_float ? "_float" : "_double");
      ::testing::Test::RecordProperty(key + "_max_relative_error", std::to_string(t.worst));
      ::testing::Test::RecordProperty(key + "_bound", std::to_string(bound));
      EXPECT_GT(t.cases, 0) << key;
    }
    ++layers;
  }
  EXPECT_EQ(layers, 4);  // linear, bilinear, conv1d, conv2d
}

}  // namespace
