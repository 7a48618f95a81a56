// Tests for strata/nn/dropout.hpp: Dropout, the identity in forward (torch's eval mode).
#include <limits>
#include <sstream>
#include <type_traits>

#include <strata/nn/dropout.hpp>
#include <strata/nn/sequential.hpp>

#include "test_util.hpp"

namespace {

namespace nn = strata::nn;
using strata::Tensor;

template <typename T>
class DropoutModuleTest : public ::testing::Test {};
TYPED_TEST_SUITE(DropoutModuleTest, strata_test::ScalarTypes);

TYPED_TEST(DropoutModuleTest, ForwardReturnsTheInputItself) {
  using T = TypeParam;
  strata::Generator gen(2);
  const Tensor<T> x = Tensor<T>::randn({3, 4}, gen);
  for (double p : {0.0, 0.5, 1.0}) {
    const nn::Dropout<T> drop(p);
    EXPECT_EQ(drop.p(), p);
    EXPECT_TRUE(drop(x).shares_storage_with(x));
    EXPECT_EQ(drop.forward(x.transpose(0, 1)).strides(), x.transpose(0, 1).strides());
  }
  EXPECT_EQ(nn::Dropout<T>().p(), 0.5);
  EXPECT_EQ(nn::Dropout<T>(nn::DropoutOptions().p(0.2)).p(), 0.2);
  EXPECT_EQ(nn::Dropout<T>(nn::DropoutOptions(0.3)).p(), 0.3);
  nn::Sequential<T> net(nn::Dropout<T>(0.1));
  EXPECT_TRUE(net(x).shares_storage_with(x));
}

// libtorch: torch::nn::Dropout(p=0.5, inplace=false)
TYPED_TEST(DropoutModuleTest, PrintingAndModuleInterface) {
  using T = TypeParam;
  std::ostringstream out;
  out << nn::Dropout<T>() << ' ' << nn::Dropout<T>(0.25) << ' ' << nn::Dropout<T>(1.0 / 3);
  EXPECT_EQ(out.str(),
            "strata::nn::Dropout(p=0.5, inplace=false) strata::nn::Dropout(p=0.25, inplace=false) "
            "strata::nn::Dropout(p=0.333333, inplace=false)");
  nn::Dropout<T> drop;
  EXPECT_EQ(drop.name(), "Dropout");
  EXPECT_EQ(drop.num_parameters(), 0);
  EXPECT_TRUE(drop.state_dict().empty());
  drop.load_state_dict({});
}

// torch: ValueError: dropout probability has to be between 0 and 1, but got 1.5
TYPED_TEST(DropoutModuleTest, Messages) {
  using T = TypeParam;
  EXPECT_THROW_WITH(nn::Dropout<T>(1.5), strata::Error,
                    "Dropout: dropout probability has to be between 0 and 1, but got 1.5");
  EXPECT_THROW_WITH(nn::Dropout<T>(-0.5), strata::Error,
                    "Dropout: dropout probability has to be between 0 and 1, but got -0.5");
  EXPECT_THROW_WITH(nn::Dropout<T>(nn::DropoutOptions().p(std::numeric_limits<double>::quiet_NaN())), strata::Error,
                    "but got nan");
  EXPECT_THROW_WITH(nn::Dropout<T>()(Tensor<T>()), strata::Error, "dropout: the input is undefined");
}

TEST(DropoutModuleDeduction, DefaultsToFloat) {
  nn::Dropout drop;
  static_assert(std::is_same_v<decltype(drop), nn::Dropout<float>>);
}

}  // namespace
