// Tests for strata/kernels/batchnorm.hpp: the per-channel coefficients as
// torch forms them, batch_norm_apply against the naive reference
// (tests/pool_bn_reference.hpp) for planes of every length class (one value,
// partial packets, many packets) on one and two threads, in place too, and
// the batch statistics.
#include <cmath>
#include <vector>

#include <strata/kernels/batchnorm.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;

template <typename T>
class BatchNormKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(BatchNormKernelTest, strata_test::ScalarTypes);

/// Random per-channel values in [low, high) as doubles and as T.
template <typename T>
std::vector<double> bn_kernel_values(index_t n, double low, double high, strata::Generator& gen, std::vector<T>& as_t) {
  const auto t = strata::Tensor<T>::uniform({n}, T(low), T(high), gen);
  std::vector<double> out(t.data(), t.data() + n);
  as_t.assign(t.data(), t.data() + n);
  return out;
}

TYPED_TEST(BatchNormKernelTest, CoefficientsAreTorchsAlphaAndBeta) {
  using T = TypeParam;
  const std::vector<T> mean{1, -2}, var{3, 0}, weight{2, -1}, bias{0.5, 4};
  std::vector<T> invstd(2), scale(2), shift(2);
  strata::kernels::batch_norm_inverse_std(var.data(), T(1e-5), 2, invstd.data());
  EXPECT_EQ(invstd[0], T(1) / std::sqrt(T(3) + T(1e-5)));
  EXPECT_EQ(invstd[1], T(1) / std::sqrt(T(1e-5)));
  strata::kernels::batch_norm_coefficients(mean.data(), invstd.data(), weight.data(), bias.data(), 2, scale.data(),
                                           shift.data());
  EXPECT_EQ(scale[0], invstd[0] * T(2));
  EXPECT_EQ(shift[0], T(0.5) - T(1) * scale[0]);
  EXPECT_EQ(shift[1], T(4) - T(-2) * scale[1]);
  // No weight and no bias: ones and zeros.
  strata::kernels::batch_norm_coefficients(mean.data(), invstd.data(), static_cast<const T*>(nullptr),
                                           static_cast<const T*>(nullptr), 2, scale.data(), shift.data());
  EXPECT_EQ(scale[1], invstd[1]);
  EXPECT_EQ(shift[0], -scale[0]);
}

TYPED_TEST(BatchNormKernelTest, ApplyMatchesTheReferenceForEveryPlaneLength) {
  using T = TypeParam;
  strata::Generator gen(21);
  int run = 0;
  for (index_t plane : {1, 3, 16, 17, 70, 3136}) {
    for (index_t channels : {1, 5, 37}) {
      for (index_t batch : {1, 3}) {
        std::vector<T> mean_t, var_t, weight_t, bias_t, invstd(channels), scale(channels), shift(channels);
        const auto mean = bn_kernel_values(channels, -1, 1, gen, mean_t);
        const auto var = bn_kernel_values(channels, 0.1, 3, gen, var_t);
        const auto weight = bn_kernel_values(channels, -2, 2, gen, weight_t);
        const auto bias = bn_kernel_values(channels, -1, 1, gen, bias_t);
        strata::kernels::batch_norm_inverse_std(var_t.data(), T(1e-5), channels, invstd.data());
        strata::kernels::batch_norm_coefficients(mean_t.data(), invstd.data(), weight_t.data(), bias_t.data(),
                                                 channels, scale.data(), shift.data());
        const strata::Shape shape{batch, channels, plane};
        auto x = strata::Tensor<T>::randn(shape, gen);
        const auto ref = strata_test::reference_batch_norm(x, mean, var, weight, bias, 1e-5);
        auto y = strata::Tensor<T>::empty(shape);
        strata::set_num_threads(1 + run % 2);
        strata::kernels::batch_norm_apply(x.data(), batch, channels, plane, scale.data(), shift.data(), y.data());
        EXPECT_LE(strata_test::pool_bn_rel_diff(y, ref), strata_test::tolerance<T>(1))
            << batch << "x" << channels << "x" << plane;
        // In place: x and y the same memory.
        strata::kernels::batch_norm_apply(x.data(), batch, channels, plane, scale.data(), shift.data(), x.data());
        EXPECT_TRUE(strata_test::same_bits(x, y));
        ++run;
      }
    }
  }
  strata::set_num_threads(2);
}

TYPED_TEST(BatchNormKernelTest, BatchStatisticsAreTheMeanAndBiasedVariance) {
  using T = TypeParam;
  strata::Generator gen(22);
  // Channel c holds c + (values of a known spread): mean and variance by hand for one case.
  const strata::Tensor<T> x({2, 2, 2}, {1, 3, 10, 10, 5, 7, 10, 14});
  std::vector<T> mean(2), invstd(2);
  strata::kernels::batch_norm_statistics(x.data(), 2, 2, 2, 0.0, mean.data(), invstd.data());
  EXPECT_EQ(mean[0], T(4));                          // 1, 3, 5, 7
  EXPECT_NEAR(invstd[0], T(1 / std::sqrt(5.0)), 1e-7);  // variance (9 + 1 + 1 + 9) / 4
  EXPECT_EQ(mean[1], T(11));                          // 10, 10, 10, 14
  EXPECT_NEAR(invstd[1], T(1 / std::sqrt(3.0)), 1e-7);  // (1 + 1 + 1 + 9) / 4
  // Against the reference on a larger input, offset so a one-pass variance would cancel badly.
  const strata::Shape shape{4, 6, 50};
  const auto big = strata::Tensor<T>::randn(shape, gen) + T(1000);
  std::vector<T> m(6), s(6), scale(6), shift(6);
  strata::kernels::batch_norm_statistics(big.data(), 4, 6, 50, 1e-5, m.data(), s.data());
  strata::kernels::batch_norm_coefficients(m.data(), s.data(), static_cast<const T*>(nullptr),
                                           static_cast<const T*>(nullptr), 6, scale.data(), shift.data());
  auto y = strata::Tensor<T>::empty(shape);
  strata::kernels::batch_norm_apply(big.data(), 4, 6, 50, scale.data(), shift.data(), y.data());
  const auto ref = strata_test::reference_batch_norm(big, {}, {}, {}, {}, 1e-5);
  // float: x - mean with mean ~1000 rounds at 6e-5 (the input's own rounding).
  EXPECT_LE(strata_test::pool_bn_rel_diff(y, ref), sizeof(T) == 4 ? 2e-4 : 1e-10);
}

}  // namespace
