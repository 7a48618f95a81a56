// Tests for strata/nn/activation.hpp: ReLU, ReLU6, LeakyReLU, GELU, SiLU,
// Sigmoid, Tanh, Hardswish, Hardsigmoid as modules (their values are tested
// with the functional forms, tests/nn/functional/activation_test.cpp).
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <strata/nn/activation.hpp>
#include <strata/nn/sequential.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;

template <typename T>
class ReLUTest : public ::testing::Test {};
TYPED_TEST_SUITE(ReLUTest, strata_test::ScalarTypes);

TYPED_TEST(ReLUTest, ClampsNegativesToZero) {
  using T = TypeParam;
  const strata::Tensor<T> x({2, 3}, {-2, -0.5, 0, 0.25, 3, -1e-30});
  const strata::nn::ReLU<T> relu;
  const strata::Tensor<T> y = relu(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  const std::vector<T> expected{0, 0, 0, T(0.25), 3, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data()[i], expected[i]) << i;
  EXPECT_FALSE(y.shares_storage_with(x));
  EXPECT_EQ(x(0, 0), T(-2));  // the input is left alone
}

// torch.relu(torch.tensor([-0.0, nan, -inf, inf])) == [-0.0, nan, 0.0, inf]
TYPED_TEST(ReLUTest, EdgeValuesLikeTorch) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity();
  const strata::Tensor<T> x({4}, {T(-0.0), std::numeric_limits<T>::quiet_NaN(), -inf, inf});
  const strata::Tensor<T> y = strata::nn::functional::relu(x);
  EXPECT_EQ(y(0), T(0));
  EXPECT_TRUE(std::signbit(y(0)));
  EXPECT_TRUE(std::isnan(y(1)));
  EXPECT_EQ(y(2), T(0));
  EXPECT_FALSE(std::signbit(y(2)));
  EXPECT_EQ(y(3), inf);
}

TYPED_TEST(ReLUTest, NonContiguousAndLargeInputs) {
  using T = TypeParam;
  strata::Generator gen(3);
  // Large enough to take the parallel path of the kernel.
  const auto x = strata::Tensor<T>::randn({300, 700}, gen).transpose(0, 1);
  ASSERT_FALSE(x.is_contiguous());
  const auto y = strata::nn::ReLU<T>()(x);
  EXPECT_EQ(y.shape(), (Shape{700, 300}));
  EXPECT_TRUE(y.is_contiguous());
  for (int i = 0; i < 700; i += 37)
    for (int j = 0; j < 300; j += 11) EXPECT_EQ(y(i, j), x(i, j) > 0 ? x(i, j) : T(0));
}

TYPED_TEST(ReLUTest, ZeroDimAndEmpty) {
  using T = TypeParam;
  EXPECT_EQ(strata::nn::ReLU<T>()(strata::Tensor<T>({}, {-3})).item(), T(0));
  EXPECT_EQ(strata::nn::ReLU<T>()(strata::Tensor<T>::empty({0, 4})).shape(), (Shape{0, 4}));
}

TYPED_TEST(ReLUTest, ModuleInterface) {
  strata::nn::ReLU<TypeParam> relu;
  EXPECT_EQ(relu.num_parameters(), 0);
  EXPECT_TRUE(relu.state_dict().empty());
  EXPECT_EQ(relu.name(), "ReLU");
  std::ostringstream out;
  out << relu;
  EXPECT_EQ(out.str(), "strata::nn::ReLU()");
  relu.load_state_dict({});
  EXPECT_THROW_WITH(relu.load_state_dict({{"weight", strata::Tensor<TypeParam>::zeros({1})}}), strata::Error,
                    "Unexpected key(s) in state_dict: \"weight\"");
}

TYPED_TEST(ReLUTest, UndefinedInput) {
  EXPECT_THROW_WITH(strata::nn::ReLU<TypeParam>()(strata::Tensor<TypeParam>()), strata::Error,
                    "relu: the input is undefined");
}

TEST(ReLUTest, DeducesFloat) {
  strata::nn::ReLU relu;
  static_assert(std::is_same_v<decltype(relu)::value_type, float>);
}

template <typename T>
class ActivationModuleTest : public ::testing::Test {};
TYPED_TEST_SUITE(ActivationModuleTest, strata_test::ScalarTypes);

/// One layer of the family: its printed form and its functional twin.
template <typename T>
struct ActivationModuleRow {
  std::shared_ptr<strata::nn::Module<T>> module;
  std::function<strata::Tensor<T>(const strata::Tensor<T>&)> forward;
  std::function<strata::Tensor<T>(const strata::Tensor<T>&)> functional;
  std::string name, printed;
};

template <typename M, typename T, typename Fn>
ActivationModuleRow<T> activation_module_row(M m, Fn functional, std::string name, std::string printed) {
  auto module = std::make_shared<M>(std::move(m));
  return {module, [module](const strata::Tensor<T>& x) { return (*module)(x); }, functional, std::move(name),
          std::move(printed)};
}

template <typename T>
std::vector<ActivationModuleRow<T>> activation_module_rows() {
  namespace nn = strata::nn;
  namespace F = strata::nn::functional;
  using X = const strata::Tensor<T>&;
  return {
      activation_module_row<nn::ReLU<T>, T>(
          {}, [](X x) { return F::relu(x); }, "ReLU", "strata::nn::ReLU()"),
      activation_module_row<nn::ReLU6<T>, T>(
          {}, [](X x) { return F::relu6(x); }, "ReLU6", "strata::nn::ReLU6()"),
      activation_module_row<nn::LeakyReLU<T>, T>(
          nn::LeakyReLU<T>(), [](X x) { return F::leaky_relu(x); }, "LeakyReLU",
          "strata::nn::LeakyReLU(negative_slope=0.01)"),
      activation_module_row<nn::LeakyReLU<T>, T>(
          nn::LeakyReLU<T>(0.2), [](X x) { return F::leaky_relu(x, 0.2); }, "LeakyReLU",
          "strata::nn::LeakyReLU(negative_slope=0.2)"),
      activation_module_row<nn::LeakyReLU<T>, T>(
          nn::LeakyReLU<T>(nn::LeakyReLUOptions().negative_slope(1e-7)), [](X x) { return F::leaky_relu(x, 1e-7); },
          "LeakyReLU", "strata::nn::LeakyReLU(negative_slope=1e-07)"),
      activation_module_row<nn::GELU<T>, T>(
          {}, [](X x) { return F::gelu(x); }, "GELU", "strata::nn::GELU()"),
      activation_module_row<nn::GELU<T>, T>(
          nn::GELU<T>(nn::GELUOptions().approximate("tanh")), [](X x) { return F::gelu(x, "tanh"); }, "GELU",
          "strata::nn::GELU(approximate='tanh')"),
      activation_module_row<nn::SiLU<T>, T>(
          {}, [](X x) { return F::silu(x); }, "SiLU", "strata::nn::SiLU()"),
      activation_module_row<nn::Sigmoid<T>, T>(
          {}, [](X x) { return F::sigmoid(x); }, "Sigmoid", "strata::nn::Sigmoid()"),
      activation_module_row<nn::Tanh<T>, T>(
          {}, [](X x) { return F::tanh(x); }, "Tanh", "strata::nn::Tanh()"),
      activation_module_row<nn::Hardswish<T>, T>(
          {}, [](X x) { return F::hardswish(x); }, "Hardswish", "strata::nn::Hardswish()"),
      activation_module_row<nn::Hardsigmoid<T>, T>(
          {}, [](X x) { return F::hardsigmoid(x); }, "Hardsigmoid", "strata::nn::Hardsigmoid()"),
  };
}

// Printing as libtorch's pretty_print (torch::nn::LeakyReLU(negative_slope=0.01), torch::nn::GELU(), ...),
// Hardswish / Hardsigmoid (not in libtorch 1.13) as their Python reprs.
TYPED_TEST(ActivationModuleTest, PrintsNamesAndForwardsToTheFunctionalForm) {
  using T = TypeParam;
  strata::Generator gen(9);
  const strata::Tensor<T> x = strata::Tensor<T>::randn({3, 4, 5}, gen) * T(5);
  for (const auto& row : activation_module_rows<T>()) {
    std::ostringstream out;
    out << *row.module;
    EXPECT_EQ(out.str(), row.printed);
    EXPECT_EQ(row.module->name(), row.name);
    EXPECT_TRUE(strata_test::same_bits(row.forward(x), row.functional(x))) << row.printed;
    EXPECT_TRUE(strata_test::same_bits(row.forward(x.transpose(0, 2)), row.functional(x.transpose(0, 2))));
    EXPECT_EQ(row.module->num_parameters(), 0);
    EXPECT_TRUE(row.module->state_dict().empty());
    row.module->load_state_dict({});
    EXPECT_THROW_WITH(
        row.module->load_state_dict({{"weight", strata::Tensor<T>::zeros({1})}}), strata::Error,
        "Error(s) in loading state_dict for " + row.name + ":\n\tUnexpected key(s) in state_dict: \"weight\".");
    EXPECT_THROW_WITH(row.forward(strata::Tensor<T>()), strata::Error, "the input is undefined");
  }
}

TYPED_TEST(ActivationModuleTest, Options) {
  using T = TypeParam;
  EXPECT_EQ(strata::nn::LeakyReLU<T>().negative_slope(), 0.01);
  EXPECT_EQ(strata::nn::LeakyReLU<T>(-2).negative_slope(), -2.0);
  EXPECT_EQ(strata::nn::LeakyReLU<T>(strata::nn::LeakyReLUOptions().negative_slope(0.42)).negative_slope(), 0.42);
  EXPECT_EQ(strata::nn::LeakyReLUOptions().negative_slope(), 0.01);
  EXPECT_EQ(strata::nn::GELU<T>().approximate(), "none");
  EXPECT_EQ(strata::nn::GELU<T>(strata::nn::GELUOptions().approximate("tanh")).approximate(), "tanh");
  EXPECT_EQ(strata::nn::GELUOptions().approximate(), "none");
  // torch: RuntimeError: approximate argument must be either none or tanh.
  EXPECT_THROW_WITH(strata::nn::GELU<T>(strata::nn::GELUOptions().approximate("erf")), strata::Error,
                    "GELU: approximate argument must be either none or tanh, got 'erf'");
}

TYPED_TEST(ActivationModuleTest, CopiesAndSequentialChildren) {
  using T = TypeParam;
  namespace nn = strata::nn;
  const nn::LeakyReLU<T> a(0.3);
  const nn::LeakyReLU<T> b = a;  // copies keep the options
  EXPECT_EQ(b.negative_slope(), 0.3);
  nn::Sequential<T> net(nn::Hardswish<T>(), nn::LeakyReLU<T>(0.5), nn::GELU<T>(), nn::Hardsigmoid<T>());
  const strata::Tensor<T> x({5}, {-4, -1, 0, 1, 4});
  namespace F = strata::nn::functional;
  EXPECT_TRUE(strata_test::same_bits(net(x), F::hardsigmoid(F::gelu(F::leaky_relu(F::hardswish(x), 0.5)))));
  std::ostringstream out;
  out << net;
  EXPECT_EQ(out.str(),
            "strata::nn::Sequential(\n"
            "  (0): strata::nn::Hardswish()\n"
            "  (1): strata::nn::LeakyReLU(negative_slope=0.5)\n"
            "  (2): strata::nn::GELU()\n"
            "  (3): strata::nn::Hardsigmoid()\n"
            ")");
}

TEST(ActivationModuleDeduction, DefaultsToFloat) {
  strata::nn::ReLU6 a;
  strata::nn::LeakyReLU b(0.1);
  strata::nn::GELU c;
  strata::nn::SiLU d;
  strata::nn::Sigmoid e;
  strata::nn::Tanh f;
  strata::nn::Hardswish g;
  strata::nn::Hardsigmoid h;
  static_assert(std::is_same_v<decltype(a), strata::nn::ReLU6<float>>);
  static_assert(std::is_same_v<decltype(b), strata::nn::LeakyReLU<float>>);
  static_assert(std::is_same_v<decltype(c), strata::nn::GELU<float>>);
  static_assert(std::is_same_v<decltype(d), strata::nn::SiLU<float>>);
  static_assert(std::is_same_v<decltype(e), strata::nn::Sigmoid<float>>);
  static_assert(std::is_same_v<decltype(f), strata::nn::Tanh<float>>);
  static_assert(std::is_same_v<decltype(g), strata::nn::Hardswish<float>>);
  static_assert(std::is_same_v<decltype(h), strata::nn::Hardsigmoid<float>>);
  EXPECT_EQ(g(strata::Tensor<float>({1}, {3})).item(), 3.f);
}

}  // namespace
