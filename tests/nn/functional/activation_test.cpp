// Tests for strata/nn/functional/activation.hpp: the element-wise activations
// against PyTorch's golden outputs, against long-double references over
// ranges, on torch's edge values, on strided inputs, and their messages.
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <strata/nn/functional/activation.hpp>

#include "activation_reference.hpp"
#include "test_util.hpp"

namespace {

namespace F = strata::nn::functional;
namespace ref = strata_test::activation;
using strata::Shape;
using strata::Tensor;

template <typename T>
class ActivationFunctionalTest : public ::testing::Test {};
TYPED_TEST_SUITE(ActivationFunctionalTest, strata_test::ScalarTypes);

template <typename T>
Tensor<T> activation_fn_apply(const strata_test::GoldenCase& c, const Tensor<T>& x) {
  const std::string& layer = c.layer;
  if (layer == "relu") return F::relu(x);
  if (layer == "relu6") return F::relu6(x);
  if (layer == "leaky_relu") return F::leaky_relu(x, std::stod(c.str("negative_slope")));
  if (layer == "gelu") return F::gelu(x, c.str("approximate"));
  if (layer == "silu") return F::silu(x);
  if (layer == "sigmoid") return F::sigmoid(x);
  if (layer == "tanh") return F::tanh(x);
  if (layer == "hardswish") return F::hardswish(x);
  if (layer == "hardsigmoid") return F::hardsigmoid(x);
  ADD_FAILURE() << "unknown layer " << layer;
  return x;
}

// Tolerances against torch, in ulps of torch's value (GELU: in units of the
// rounding of its terms, u |x|, see ref::gelu_scale). Both sides are about
// 1-2 ulp from the exact value: torch through SLEEF's exp / tanh / erf (1 ulp)
// and its formulas' roundings, strata through kernels/packet_math.hpp (1-1.3
// ulp), so the distance between them may reach the sum. relu, relu6,
// leaky_relu, hardswish and hardsigmoid take the same operations in the same
// order as torch and must agree bit for bit, -0.0 included.
double activation_fn_tolerance(const strata_test::GoldenCase& c) {
  if (c.layer == "gelu" && c.str("onednn") == "1") return 3.0;  // oneDNN's erf: measured 2
  return 2.0;                                                   // gelu, sigmoid, silu, tanh: measured 1
}

bool activation_fn_exact(const std::string& layer) {
  return layer == "relu" || layer == "relu6" || layer == "leaky_relu" || layer == "hardswish" || layer == "hardsigmoid";
}

TYPED_TEST(ActivationFunctionalTest, MatchesPyTorchGolden) {
  using T = TypeParam;
  std::map<std::string, long double> worst;
  int cases = 0;
  for (const auto& c : ref::golden_cases("")) {
    if (!ref::is_dtype<T>(c) || c.layer == "softmax" || c.layer == "log_softmax" || c.layer == "dropout") continue;
    ++cases;
    const Tensor<T> x = ref::tensor_of<T>(c.tensor("input"));
    const Tensor<T> want = ref::tensor_of<T>(c.tensor("output"));
    const Tensor<T> got = activation_fn_apply(c, x);
    ASSERT_EQ(got.shape(), want.shape()) << c.name;
    const bool exact = activation_fn_exact(c.layer);
    const double tolerance = activation_fn_tolerance(c);
    const std::string key = c.layer + (c.has_option("onednn") && c.str("onednn") == "1" ? " (oneDNN)" : "");
    int failures = 0;
    for (strata::index_t i = 0; i < got.numel(); ++i) {
      const T g = got.data()[i], w = want.data()[i], xi = x.data()[i];
      if (exact) {
        if (!ref::identical(g, w) && failures++ < 5)
          ADD_FAILURE() << c.name << " [" << i << "] x=" << xi << ": " << g << " vs torch " << w;
        continue;
      }
      const long double scale = c.layer == "gelu" ? ref::gelu_scale<T>(xi, w) : ref::ulp<T>(w);
      const long double d = ref::distance(g, w, scale);
      worst[key] = std::max(worst[key], d);
      if (!(d <= tolerance) && failures++ < 5)
        ADD_FAILURE() << c.name << " [" << i << "] x=" << xi << ": " << g << " vs torch " << w << " (" << d
                      << " units)";
    }
  }
  EXPECT_GE(cases, 39);  // 3 inputs x 13 (layer, option) pairs, + 2 oneDNN cases for float
  for (const auto& [layer, d] : worst)
    std::cout << "  " << strata_test::type_name<T>() << " " << layer << ": worst " << double(d)
              << " units from torch\n";
}

// Tolerances against the exact (long double) value of the textbook formula, in
// ulps (GELU: in units of u |x|). silu and sigmoid: exp's 1 ulp plus the
// roundings of 1 + e and of the division.
TYPED_TEST(ActivationFunctionalTest, MatchesLongDoubleReferenceOverRanges) {
  using T = TypeParam;
  struct Row {
    const char* name;
    Tensor<T> (*fn)(const Tensor<T>&);
    long double (*exact)(long double);
    double tolerance;
    bool gelu_scaled;
    bool exp_overflow_is_zero;
  };
  const Row rows[] = {
      {"sigmoid", [](const Tensor<T>& x) { return F::sigmoid(x); }, ref::ref_sigmoid, 2.5, false, true},
      {"silu", [](const Tensor<T>& x) { return F::silu(x); }, ref::ref_silu, 2.5, false, true},
      {"tanh", [](const Tensor<T>& x) { return F::tanh(x); }, [](long double x) { return std::tanh(x); }, 1.5, false,
       false},
      {"gelu", [](const Tensor<T>& x) { return F::gelu(x); }, ref::ref_gelu, 2.0, true, false},
      {"gelu tanh", [](const Tensor<T>& x) { return F::gelu(x, "tanh"); }, ref::ref_gelu_tanh, 2.5, true, false},
      {"hardswish", [](const Tensor<T>& x) { return F::hardswish(x); }, ref::ref_hardswish, 2.0, false, false},
      {"hardsigmoid", [](const Tensor<T>& x) { return F::hardsigmoid(x); }, ref::ref_hardsigmoid, 1.0, false, false},
  };
  // Even grids over ranges that cross every branch of the formulas (exp's
  // overflow near +-88 / +-709, tanh's and erf's polynomial boundaries).
  const double ranges[][2] = {{-1, 1}, {-8, 8}, {-30, 30}, {-120, 120}, {-800, 800}, {-1e-3, 1e-3}};
  for (const Row& row : rows) {
    long double worst = 0;
    for (const auto& range : ranges) {
      const strata::index_t n = 20001;
      std::vector<T> values(n);
      for (strata::index_t i = 0; i < n; ++i)
        values[i] = T(range[0] + (range[1] - range[0]) * double(i) / double(n - 1));
      const Tensor<T> x({n}, values);
      const Tensor<T> y = row.fn(x);
      for (strata::index_t i = 0; i < n; ++i) {
        // Where exp(-x) overflows T, torch's formulas give exactly 0 / -0 (EdgeValuesLikeTorch).
        if (row.exp_overflow_is_zero && std::exp(-static_cast<long double>(values[i])) > std::numeric_limits<T>::max())
          continue;
        const long double e = row.exact(values[i]);
        const long double scale = row.gelu_scaled ? ref::gelu_scale<T>(values[i], e) : ref::ulp<T>(e);
        worst = std::max(worst, ref::distance(y.data()[i], e, scale));
      }
    }
    EXPECT_LE(worst, row.tolerance) << row.name;
    std::cout << "  " << strata_test::type_name<T>() << " " << row.name << ": worst " << double(worst)
              << " units from long double\n";
  }
}

// Values torch 1.13 gives (printed by torch for float32 and float64 alike):
// relu6(nan) = nan, relu6(-0.) = -0., relu6(inf) = 6; leaky_relu(-0.) = -0.,
// leaky_relu(-inf, 0.) = nan; hardswish(nan) = nan, hardswish(-inf) = nan,
// hardswish(-5.) = -0.; gelu(-inf) = nan, gelu(-0.) = -0. (ATen's kernel);
// silu(-inf) = nan, silu(-100.) = -0.; sigmoid(-inf) = 0; tanh(-0.) = -0.
TYPED_TEST(ActivationFunctionalTest, EdgeValuesLikeTorch) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const Tensor<T> x({6}, {nan, T(-0.0), inf, -inf, T(-5), T(-100)});
  auto expect = [&](const char* what, const Tensor<T>& y, std::vector<T> want) {
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_TRUE(ref::identical(y.data()[i], want[i]))
          << what << " of " << x.data()[i] << ": " << y.data()[i] << " vs " << want[i];
  };
  expect("relu", F::relu(x), {nan, T(-0.0), inf, 0, 0, 0});
  expect("relu6", F::relu6(x), {nan, T(-0.0), 6, 0, 0, 0});
  expect("leaky_relu", F::leaky_relu(x), {nan, T(-0.0), inf, -inf, T(-5) * T(0.01), T(-100) * T(0.01)});
  expect("leaky_relu 0", F::leaky_relu(x, 0.0), {nan, T(-0.0), inf, nan, T(-0.0), T(-0.0)});
  expect("leaky_relu -2", F::leaky_relu(x, -2.0), {nan, T(0.0), inf, inf, 10, 200});
  expect("hardswish", F::hardswish(x), {nan, T(-0.0), inf, nan, T(-0.0), T(-0.0)});
  expect("hardsigmoid", F::hardsigmoid(x), {nan, T(0.5), 1, 0, 0, 0});
  expect("gelu", F::gelu(x), {nan, T(-0.0), inf, nan, F::gelu(Tensor<T>({}, {T(-5)})).item(), T(-0.0)});
  expect("gelu tanh", F::gelu(x, "tanh"),
         {nan, T(-0.0), inf, nan, F::gelu(Tensor<T>({}, {T(-5)}), "tanh").item(), T(-0.0)});
  expect("silu", F::silu(x),
         {nan, T(-0.0), inf, nan, F::silu(Tensor<T>({}, {T(-5)})).item(),
          sizeof(T) == 4 ? T(-0.0) : F::silu(Tensor<T>({}, {T(-100)})).item()});
  expect("sigmoid", F::sigmoid(x),
         {nan, T(0.5), 1, 0, F::sigmoid(Tensor<T>({}, {T(-5)})).item(), F::sigmoid(Tensor<T>({}, {T(-100)})).item()});
  expect("tanh", F::tanh(x), {nan, T(-0.0), 1, -1, F::tanh(Tensor<T>({}, {T(-5)})).item(), -1});
  // Past exp's overflow (x < -88.7 in float, -709.8 in double) torch's formulas give exactly 0 and -0.
  const T beyond = sizeof(T) == 4 ? T(-89) : T(-710);
  EXPECT_TRUE(ref::identical(F::sigmoid(Tensor<T>({}, {beyond})).item(), T(0)));
  EXPECT_TRUE(ref::identical(F::silu(Tensor<T>({}, {beyond})).item(), T(-0.0)));
}

TYPED_TEST(ActivationFunctionalTest, StridedInputsGiveContiguousOutputs) {
  using T = TypeParam;
  strata::Generator gen(7);
  // Large enough for the parallel path; the transposed and narrowed views are gathered in runs.
  const Tensor<T> base = Tensor<T>::randn({130, 257}, gen) * T(4);
  for (const Tensor<T>& x : {base.transpose(0, 1), base.narrow(1, 3, 200)}) {
    ASSERT_FALSE(x.is_contiguous());
    const Tensor<T> gelu = F::gelu(x), silu = F::silu(x), relu6 = F::relu6(x);
    EXPECT_TRUE(gelu.is_contiguous());
    EXPECT_EQ(gelu.shape(), x.shape());
    // An element's value does not depend on where it sits: the same as the contiguous input's.
    EXPECT_TRUE(strata_test::same_bits(gelu, F::gelu(x.contiguous())));
    EXPECT_TRUE(strata_test::same_bits(silu, F::silu(x.contiguous())));
    EXPECT_TRUE(strata_test::same_bits(relu6, F::relu6(x.contiguous())));
  }
}

TYPED_TEST(ActivationFunctionalTest, ShapesZeroDimAndEmpty) {
  using T = TypeParam;
  EXPECT_EQ(F::silu(Tensor<T>({}, {T(2)})).item(), T(2) / (1 + std::exp(T(-2))));
  EXPECT_EQ(F::hardswish(Tensor<T>::empty({0, 5})).shape(), (Shape{0, 5}));
  EXPECT_EQ(F::gelu(Tensor<T>::zeros({2, 0, 3})).shape(), (Shape{2, 0, 3}));
  const Tensor<T> x = Tensor<T>::ones({2, 3, 4});
  const Tensor<T> y = F::tanh(x);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_FALSE(y.shares_storage_with(x));
  EXPECT_EQ(x(1, 2, 3), T(1));  // the input is left alone
}

TYPED_TEST(ActivationFunctionalTest, Messages) {
  using T = TypeParam;
  const Tensor<T> undefined;
  EXPECT_THROW_WITH(F::relu(undefined), strata::Error, "relu: the input is undefined");
  EXPECT_THROW_WITH(F::relu6(undefined), strata::Error, "relu6: the input is undefined");
  EXPECT_THROW_WITH(F::leaky_relu(undefined, 0.1), strata::Error, "leaky_relu: the input is undefined");
  EXPECT_THROW_WITH(F::gelu(undefined), strata::Error, "gelu: the input is undefined");
  EXPECT_THROW_WITH(F::gelu(undefined, "tanh"), strata::Error, "gelu: the input is undefined");
  EXPECT_THROW_WITH(F::silu(undefined), strata::Error, "silu: the input is undefined");
  EXPECT_THROW_WITH(F::sigmoid(undefined), strata::Error, "sigmoid: the input is undefined");
  EXPECT_THROW_WITH(F::tanh(undefined), strata::Error, "tanh: the input is undefined");
  EXPECT_THROW_WITH(F::hardswish(undefined), strata::Error, "hardswish: the input is undefined");
  EXPECT_THROW_WITH(F::hardsigmoid(undefined), strata::Error, "hardsigmoid: the input is undefined");
  // torch: RuntimeError: approximate argument must be either none or tanh.
  EXPECT_THROW_WITH(F::gelu(Tensor<T>::ones({2}), "Tanh"), strata::Error,
                    "gelu: approximate argument must be either none or tanh, got 'Tanh'");
}

}  // namespace
