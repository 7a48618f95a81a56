// Golden tests: Linear, LazyLinear and Bilinear against outputs of real
// PyTorch 1.13 (tests/reference/golden, written by tests/reference/generate_golden.py).
// Every linear and bilinear case listed in INDEX.txt is checked.
#include <strata/nn/bilinear.hpp>
#include <strata/nn/lazy_linear.hpp>
#include <strata/nn/linear.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "golden_reader.hpp"
#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;

/// A golden tensor as a strata tensor of T. float32 values were printed with
/// %.9g, so casting the parsed double to float restores them exactly.
template <typename T>
strata::Tensor<T> to_tensor(const strata_test::GoldenTensor& golden) {
  std::vector<T> values;
  values.reserve(golden.values.size());
  for (double v : golden.values) values.push_back(static_cast<T>(v));
  return strata::Tensor<T>(Shape(std::vector<index_t>(golden.shape.begin(), golden.shape.end())), values);
}

/// The largest errors seen for one (layer, dtype).
struct Worst {
  int cases = 0;
  double abs_diff = 0;        // max |strata - torch|
  double bound_fraction = 0;  // max |strata - torch| / tolerance
  std::string abs_case;
};

/// Compares strata's output with torch's. Tolerance: both torch and strata
/// compute each output as a sum of `ops` rounded operations in T (in their own
/// order: OpenBLAS/MKL there, Eigen here), and each differs from the exact sum
/// by at most gamma_ops * sum|terms| (u = eps/2). So the two differ by at most
/// about ops * eps * sum|terms| per element, with the magnitudes taken from the
/// golden data; rounding_bound allows ops + 1. Everything beyond is a bug.
template <typename T>
void compare(const strata_test::GoldenCase& gc, const strata::Tensor<T>& got, const strata_test::Reference& exact,
             Worst& worst) {
  const strata::Tensor<T> expected = to_tensor<T>(gc.tensor("output"));
  ASSERT_EQ(got.shape(), expected.shape()) << gc.name;
  ASSERT_EQ(exact.shape, expected.shape()) << gc.name;
  const std::vector<double> g = strata_test::values_of(got), e = strata_test::values_of(expected);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double diff = std::abs(g[i] - e[i]);
    const double bound = strata_test::rounding_bound<T>(exact.ops, exact.magnitude[i]);
    EXPECT_LE(diff, bound) << gc.name << " element " << i << ": strata " << g[i] << ", torch " << e[i];
    if (diff > worst.abs_diff) {
      worst.abs_diff = diff;
      worst.abs_case = gc.name;
    }
    if (bound > 0) worst.bound_fraction = std::max(worst.bound_fraction, diff / bound);
  }
  ++worst.cases;
}

/// Every golden case of `layer`, grouped by dtype; fails when there are none.
std::map<std::string, std::vector<strata_test::GoldenCase>> golden_cases(const std::string& layer) {
  std::map<std::string, std::vector<strata_test::GoldenCase>> by_dtype;
  for (const std::string& path : strata_test::list_golden_cases(STRATA_GOLDEN_DIR)) {
    strata_test::GoldenCase gc = strata_test::read_golden_case(path);
    if (gc.layer == layer) by_dtype[gc.dtype].push_back(std::move(gc));
  }
  return by_dtype;
}

void report(const std::string& layer, const std::string& dtype, const Worst& worst) {
  std::cout << "[ golden   ] " << layer << " " << dtype << ": " << worst.cases << " cases, largest |strata - torch| "
            << worst.abs_diff << " (" << worst.abs_case << "), at most " << worst.bound_fraction
            << " of the tolerance\n";
  ::testing::Test::RecordProperty(layer + "_" + dtype + "_cases", worst.cases);
  ::testing::Test::RecordProperty(layer + "_" + dtype + "_max_abs_diff", std::to_string(worst.abs_diff));
}

template <typename T>
void check_linear_case(const strata_test::GoldenCase& gc, Worst& worst) {
  SCOPED_TRACE(gc.name);
  const index_t in = gc.ints("in_features").at(0), out = gc.ints("out_features").at(0);
  const bool bias = gc.ints("bias").at(0) != 0;
  ASSERT_EQ(bias, gc.has("bias"));
  const strata::Tensor<T> x = to_tensor<T>(gc.tensor("input"));
  typename strata::nn::Module<T>::StateDict state{{"weight", to_tensor<T>(gc.tensor("weight"))}};
  if (bias) state.emplace("bias", to_tensor<T>(gc.tensor("bias")));

  strata::nn::Linear<T> fc(in, out, bias);
  fc.load_state_dict(state);
  const strata::Tensor<T> y = fc(x);
  compare(gc, y, strata_test::naive_linear(x, fc.weight(), fc.bias()), worst);

  // torch's own initialisation drew these weights: they lie within our bound 1/sqrt(in_features).
  const double bound = 1 / std::sqrt(static_cast<double>(in));
  for (double w : gc.tensor("weight").values) EXPECT_LE(std::abs(w), bound);
  if (bias) {
    for (double b : gc.tensor("bias").values) EXPECT_LE(std::abs(b), bound);
  }

  // The functional and a LazyLinear loaded with the same state give the same numbers.
  const strata::Tensor<T> no_bias;
  EXPECT_EQ(
      strata::max_abs_diff(y, strata::nn::functional::linear(x, state.at("weight"), bias ? state.at("bias") : no_bias)),
      T(0));
  strata::nn::LazyLinear<T> lazy(out, bias);
  lazy.load_state_dict(state);
  EXPECT_EQ(lazy.in_features(), in);
  EXPECT_EQ(strata::max_abs_diff(y, lazy(x)), T(0));
}

template <typename T>
void check_bilinear_case(const strata_test::GoldenCase& gc, Worst& worst) {
  SCOPED_TRACE(gc.name);
  const index_t in1 = gc.ints("in1_features").at(0), in2 = gc.ints("in2_features").at(0);
  const index_t out = gc.ints("out_features").at(0);
  const bool bias = gc.ints("bias").at(0) != 0;
  ASSERT_EQ(bias, gc.has("bias"));
  const strata::Tensor<T> x1 = to_tensor<T>(gc.tensor("input1")), x2 = to_tensor<T>(gc.tensor("input2"));
  typename strata::nn::Module<T>::StateDict state{{"weight", to_tensor<T>(gc.tensor("weight"))}};
  if (bias) state.emplace("bias", to_tensor<T>(gc.tensor("bias")));

  strata::nn::Bilinear<T> m(in1, in2, out, bias);
  m.load_state_dict(state);
  const strata::Tensor<T> y = m(x1, x2);
  compare(gc, y, strata_test::naive_bilinear(x1, x2, m.weight(), m.bias()), worst);

  // torch.nn.Bilinear's initialisation: U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
  const double bound = 1 / std::sqrt(static_cast<double>(in1));
  for (double w : gc.tensor("weight").values) EXPECT_LE(std::abs(w), bound);
  if (bias) {
    for (double b : gc.tensor("bias").values) EXPECT_LE(std::abs(b), bound);
  }
  const strata::Tensor<T> no_bias;
  EXPECT_EQ(strata::max_abs_diff(
                y, strata::nn::functional::bilinear(x1, x2, state.at("weight"), bias ? state.at("bias") : no_bias)),
            T(0));
}

TEST(LinearGolden, EveryLinearCaseMatchesPyTorch) {
  const auto cases = golden_cases("linear");
  ASSERT_EQ(cases.count("float32"), 1u) << "no float32 linear cases found in " << STRATA_GOLDEN_DIR;
  ASSERT_EQ(cases.count("float64"), 1u) << "no float64 linear cases found in " << STRATA_GOLDEN_DIR;
  ASSERT_EQ(cases.size(), 2u) << "a dtype other than float32/float64";
  for (const auto& [dtype, list] : cases) {
    Worst worst;
    for (const auto& gc : list) {
      if (dtype == "float32") {
        check_linear_case<float>(gc, worst);
      } else {
        check_linear_case<double>(gc, worst);
      }
    }
    EXPECT_EQ(worst.cases, static_cast<int>(list.size()));
    report("linear", dtype, worst);
  }
}

TEST(LinearGolden, EveryBilinearCaseMatchesPyTorch) {
  const auto cases = golden_cases("bilinear");
  ASSERT_EQ(cases.count("float32"), 1u) << "no float32 bilinear cases found in " << STRATA_GOLDEN_DIR;
  ASSERT_EQ(cases.count("float64"), 1u) << "no float64 bilinear cases found in " << STRATA_GOLDEN_DIR;
  ASSERT_EQ(cases.size(), 2u) << "a dtype other than float32/float64";
  for (const auto& [dtype, list] : cases) {
    Worst worst;
    for (const auto& gc : list) {
      if (dtype == "float32") {
        check_bilinear_case<float>(gc, worst);
      } else {
        check_bilinear_case<double>(gc, worst);
      }
    }
    EXPECT_EQ(worst.cases, static_cast<int>(list.size()));
    report("bilinear", dtype, worst);
  }
}

}  // namespace
