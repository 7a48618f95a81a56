// Tests for strata/kernels/activation.hpp: each functor's scalar form agrees
// with its packet form, a result does not depend on an element's position,
// and kernels::relu keeps torch's edge cases. (Values against torch and long
// double: tests/nn/functional/activation_test.cpp.)
#include <strata/kernels/activation.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "activation_reference.hpp"
#include "test_util.hpp"

namespace {

namespace k = strata::kernels;
using strata::index_t;

template <typename T>
class ActivationKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(ActivationKernelTest, strata_test::ScalarTypes);

/// Every functor on the grid: scalar form within 1 ulp of the packet form
/// (the scalar path may round a fused multiply-add differently), and the
/// same bits whatever the element's offset in the array.
template <typename T, typename Op>
void activation_kernel_check(const Op& op, const char* name) {
  std::vector<T> x;
  for (int i = -400; i <= 400; ++i) x.push_back(T(i) / T(16));
  x.push_back(std::numeric_limits<T>::quiet_NaN());
  x.push_back(std::numeric_limits<T>::infinity());
  x.push_back(-std::numeric_limits<T>::infinity());
  x.push_back(T(-0.0));
  const index_t n = static_cast<index_t>(x.size());
  std::vector<T> y(n);
  k::unary(op, x.data(), y.data(), n);
  for (index_t i = 0; i < n; ++i) {
    const T s = op(x[i]);
    if (std::isnan(y[i]) || std::isnan(s)) {
      EXPECT_TRUE(std::isnan(y[i]) && std::isnan(s)) << name << "(" << x[i] << ")";
    } else {
      EXPECT_LE(strata_test::activation::distance(s, y[i], strata_test::activation::ulp<T>(y[i])), 1.0)
          << name << "(" << x[i] << "): scalar " << s << ", packet " << y[i];
    }
  }
  // Shifted by 1..7 elements: every element meets another lane or the padded tail.
  for (index_t shift = 1; shift < 8; ++shift) {
    std::vector<T> z(n - shift);
    k::unary(op, x.data() + shift, z.data(), n - shift);
    for (index_t i = 0; i < n - shift; ++i)
      EXPECT_TRUE(strata_test::activation::identical(z[i], y[i + shift])) << name << " shift " << shift << " at " << i;
  }
}

TYPED_TEST(ActivationKernelTest, ScalarAndPacketFormsAgreeAnywhere) {
  using T = TypeParam;
  activation_kernel_check<T>(k::Relu{}, "relu");
  activation_kernel_check<T>(k::Relu6{}, "relu6");
  activation_kernel_check<T>(k::LeakyRelu{0.2}, "leaky_relu");
  activation_kernel_check<T>(k::Gelu{}, "gelu");
  activation_kernel_check<T>(k::GeluTanh{}, "gelu tanh");
  activation_kernel_check<T>(k::Sigmoid{}, "sigmoid");
  activation_kernel_check<T>(k::Silu{}, "silu");
  activation_kernel_check<T>(k::Tanh{}, "tanh");
  activation_kernel_check<T>(k::Hardswish{}, "hardswish");
  activation_kernel_check<T>(k::Hardsigmoid{}, "hardsigmoid");
}

// torch.relu(torch.tensor([-0.0, nan, -inf, inf, -1e-30])) == [-0.0, nan, 0.0, inf, 0.0]
TYPED_TEST(ActivationKernelTest, ReluKernelLikeTorch) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> x{T(-0.0), std::numeric_limits<T>::quiet_NaN(), -inf, inf, T(-1e-30), T(2)};
  k::relu(x.data(), x.data(), static_cast<index_t>(x.size()));  // in place
  EXPECT_TRUE(std::signbit(x[0]) && x[0] == 0);
  EXPECT_TRUE(std::isnan(x[1]));
  EXPECT_TRUE(x[2] == 0 && !std::signbit(x[2]));
  EXPECT_EQ(x[3], inf);
  EXPECT_EQ(x[4], T(0));
  EXPECT_EQ(x[5], T(2));
}

TEST(ActivationKernelNames, AreTorchFunctionNames) {
  EXPECT_STREQ(k::LeakyRelu::name, "leaky_relu");
  EXPECT_STREQ(k::GeluTanh::name, "gelu");
  EXPECT_STREQ(k::Hardsigmoid::name, "hardsigmoid");
  EXPECT_EQ(k::LeakyRelu{}.negative_slope, 0.01);
}

}  // namespace
