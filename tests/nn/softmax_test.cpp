// Tests for strata/nn/softmax.hpp: Softmax and LogSoftmax as modules (their
// values are tested with the functional forms, tests/nn/functional/softmax_test.cpp).
#include <sstream>
#include <type_traits>

#include <strata/nn/sequential.hpp>
#include <strata/nn/softmax.hpp>

#include "test_util.hpp"

namespace {

namespace nn = strata::nn;
namespace F = strata::nn::functional;
using strata::Tensor;

template <typename T>
class SoftmaxModuleTest : public ::testing::Test {};
TYPED_TEST_SUITE(SoftmaxModuleTest, strata_test::ScalarTypes);

TYPED_TEST(SoftmaxModuleTest, ForwardIsTheFunctionalForm) {
  using T = TypeParam;
  strata::Generator gen(4);
  const Tensor<T> x = Tensor<T>::randn({2, 3, 4}, gen) * T(10);
  for (strata::index_t dim = -3; dim < 3; ++dim) {
    const nn::Softmax<T> softmax(dim);
    const nn::LogSoftmax<T> log_softmax(nn::LogSoftmaxOptions(0).dim(dim));
    EXPECT_EQ(softmax.dim(), dim);
    EXPECT_EQ(log_softmax.dim(), dim);
    EXPECT_TRUE(strata_test::same_bits(softmax(x), F::softmax(x, dim)));
    EXPECT_TRUE(strata_test::same_bits(softmax.forward(x.transpose(0, 2)), F::softmax(x.transpose(0, 2), dim)));
    EXPECT_TRUE(strata_test::same_bits(log_softmax(x), F::log_softmax(x, dim)));
  }
  EXPECT_EQ(nn::Softmax<T>(nn::SoftmaxOptions(2)).dim(), 2);
  EXPECT_EQ(nn::SoftmaxOptions(1).dim(-1).dim(), -1);
}

// libtorch: torch::nn::Softmax(dim=1), torch::nn::LogSoftmax(dim=-1)
TYPED_TEST(SoftmaxModuleTest, PrintingAndModuleInterface) {
  using T = TypeParam;
  std::ostringstream out;
  out << nn::Softmax<T>(1) << ' ' << nn::LogSoftmax<T>(-1);
  EXPECT_EQ(out.str(), "strata::nn::Softmax(dim=1) strata::nn::LogSoftmax(dim=-1)");
  nn::Softmax<T> softmax(0);
  EXPECT_EQ(softmax.name(), "Softmax");
  EXPECT_EQ(nn::LogSoftmax<T>(0).name(), "LogSoftmax");
  EXPECT_EQ(softmax.num_parameters(), 0);
  EXPECT_TRUE(softmax.state_dict().empty());
  EXPECT_THROW_WITH(softmax.load_state_dict({{"bias", Tensor<T>::zeros({1})}}), strata::Error,
                    "Error(s) in loading state_dict for Softmax:\n\tUnexpected key(s) in state_dict: \"bias\".");
  nn::Sequential<T> net(nn::LogSoftmax<T>(1));
  const Tensor<T> x({2, 2}, {1000, -1000, 3, 3});
  EXPECT_EQ(net(x)(0, 1), T(-2000));
}

TYPED_TEST(SoftmaxModuleTest, Messages) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::ones({2, 3});
  EXPECT_THROW_WITH(nn::Softmax<T>(2)(x), strata::Error,
                    "softmax: dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_WITH(nn::LogSoftmax<T>(-3)(x), strata::Error,
                    "log_softmax: dimension out of range (expected to be in range of [-2, 1], but got -3)");
  EXPECT_THROW_WITH(nn::Softmax<T>(0)(Tensor<T>()), strata::Error, "softmax: the input is undefined");
}

TEST(SoftmaxModuleDeduction, DefaultsToFloat) {
  nn::Softmax a(1);
  nn::LogSoftmax b(1);
  static_assert(std::is_same_v<decltype(a), nn::Softmax<float>>);
  static_assert(std::is_same_v<decltype(b), nn::LogSoftmax<float>>);
  EXPECT_EQ(a(Tensor<float>({1, 2}, {0, 0}))(0, 1), 0.5f);
}

}  // namespace
