// Tests for strata/nn/stateless_module.hpp: the shared body of the
// parameterless layers (forward, operator(), printing) with a layer of its own.
#include <sstream>

#include <strata/nn/identity.hpp>
#include <strata/nn/sequential.hpp>
#include <strata/nn/stateless_module.hpp>

#include "test_util.hpp"

namespace {

using strata::Tensor;

/// A parameterless layer written on the base: y = x * factor.
struct StatelessScaleFn {
  double factor = 2;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& x) const {
    return x * T(factor);
  }
};

template <typename T>
class StatelessScale : public strata::detail::StatelessModule<StatelessScaleFn, T> {
 public:
  explicit StatelessScale(double factor) : strata::detail::StatelessModule<StatelessScaleFn, T>({factor}) {}
  std::string name() const override { return "Scale"; }

 protected:
  void print_options(std::ostream& out) const override { out << "factor=" << this->fn().factor; }
};

template <typename T>
class StatelessModuleTest : public ::testing::Test {};
TYPED_TEST_SUITE(StatelessModuleTest, strata_test::ScalarTypes);

TYPED_TEST(StatelessModuleTest, ForwardPrintingAndModuleInterface) {
  using T = TypeParam;
  const StatelessScale<T> scale(3);
  const Tensor<T> x({2}, {1, -2});
  EXPECT_EQ(scale(x)(1), T(-6));
  EXPECT_EQ(scale.forward(x)(0), T(3));
  std::ostringstream out;
  out << scale << ' ' << strata::nn::Identity<T>();
  EXPECT_EQ(out.str(), "strata::nn::Scale(factor=3) strata::nn::Identity()");
  EXPECT_EQ(scale.num_parameters(), 0);
  EXPECT_TRUE(scale.named_parameters().empty());
  // A Sequential child like any layer; copies share nothing mutable.
  strata::nn::Sequential<T> net(scale, StatelessScale<T>(0.5), strata::nn::Identity<T>());
  EXPECT_EQ(net(x)(1), T(-3));
}

}  // namespace
