// Tests for strata/nn/functional/batchnorm.hpp: batch_norm against PyTorch's
// golden BatchNorm cases (running statistics and the batch's own), a
// hand-computed case, any rank >= 2, empty and non-contiguous inputs, and
// every message (torch's wording where torch has one).
#include <cmath>
#include <string>
#include <vector>

#include <strata/nn/functional/batchnorm.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
namespace F = strata::nn::functional;

template <typename T>
class FunctionalBatchNormTest : public ::testing::Test {};
TYPED_TEST_SUITE(FunctionalBatchNormTest, strata_test::ScalarTypes);

/// A golden tensor, or an undefined one when the case has none of that name.
template <typename T>
Tensor<T> fbn_optional(const strata_test::GoldenCase& c, const std::string& name) {
  return c.has(name) ? strata_test::pool_bn_golden_tensor<T>(c.tensor(name)) : Tensor<T>();
}

TYPED_TEST(FunctionalBatchNormTest, MatchesPyTorchOnEveryGoldenCase) {
  using T = TypeParam;
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  int cases = 0;
  double worst = 0;
  for (const strata_test::GoldenCase& c : strata_test::pool_bn_golden_cases("batch_norm")) {
    if (c.dtype != dtype) continue;
    const double eps = std::stod(c.str("eps"));
    const Tensor<T> y = F::batch_norm(strata_test::pool_bn_golden_tensor<T>(c.tensor("input")),
                                      fbn_optional<T>(c, "running_mean"), fbn_optional<T>(c, "running_var"),
                                      fbn_optional<T>(c, "weight"), fbn_optional<T>(c, "bias"), eps);
    const double diff = strata_test::pool_bn_rel_diff(y, strata_test::pool_bn_golden_double(c.tensor("output")));
    worst = std::max(worst, diff);
    EXPECT_LE(diff, sizeof(T) == 4 ? 1e-6 : 1e-14) << c.name;
    ++cases;
  }
  EXPECT_EQ(cases, 15);
  std::printf("[ golden ] %d batch_norm cases in %s within %.3g of torch (relative)\n", cases, dtype.c_str(), worst);
}

TYPED_TEST(FunctionalBatchNormTest, HandComputedAndAnyRank) {
  using T = TypeParam;
  // Channel 0: mean 1, var 4 - eps, weight 2, bias 1: y = (x - 1) / 2 * 2 + 1 = x.
  // Channel 1: mean -1, var 1 - eps, no affine change: y = x + 1.
  const double eps = 0.25;
  const Tensor<T> mean({2}, {1, -1}), var({2}, {T(4 - eps), T(1 - eps)}), weight({2}, {2, 1}), bias({2}, {1, 0});
  const Tensor<T> x({1, 2, 3}, {3, 5, -1, 0, 2, 4});
  const auto y = F::batch_norm(x, mean, var, weight, bias, eps);
  const std::vector<T> expected{3, 5, -1, 1, 3, 5};
  for (index_t i = 0; i < 6; ++i) EXPECT_NEAR(y.data()[i], expected[i], strata_test::tolerance<T>(1)) << i;
  // (N, C), (N, C, L), (N, C, D, H, W): the statistics apply along dimension 1.
  strata::Generator gen(41);
  for (const Shape& shape : {Shape{5, 2}, Shape{3, 2, 7}, Shape{2, 2, 3, 2, 4}}) {
    const auto in = Tensor<T>::randn(shape, gen);
    const auto out = F::batch_norm(in, mean, var, weight, bias, eps);
    const auto ref = strata_test::reference_batch_norm(in, {1, -1}, {4 - eps, 1 - eps}, {2, 1}, {1, 0}, eps);
    EXPECT_LE(strata_test::pool_bn_rel_diff(out, ref), strata_test::tolerance<T>(1)) << shape;
    // The batch's own statistics.
    const auto own = F::batch_norm(in, Tensor<T>(), Tensor<T>(), weight, Tensor<T>(), 1e-5);
    const auto own_ref = strata_test::reference_batch_norm(in, {}, {}, {2, 1}, {}, 1e-5);
    EXPECT_LE(strata_test::pool_bn_rel_diff(own, own_ref), strata_test::tolerance<T>(1)) << shape;
  }
}

TYPED_TEST(FunctionalBatchNormTest, EmptyNonContiguousAndSpecialValues) {
  using T = TypeParam;
  const Tensor<T> mean = Tensor<T>::zeros({3}), var = Tensor<T>::ones({3});
  EXPECT_EQ(F::batch_norm(Tensor<T>::zeros({0, 3, 4, 4}), mean, var).shape(), (Shape{0, 3, 4, 4}));
  EXPECT_EQ(F::batch_norm(Tensor<T>::zeros({2, 3, 0, 4}), mean, var).shape(), (Shape{2, 3, 0, 4}));
  EXPECT_EQ(F::batch_norm(Tensor<T>::zeros({0, 3, 2}), Tensor<T>(), Tensor<T>()).shape(), (Shape{0, 3, 2}));
  strata::Generator gen(42);
  const auto t = Tensor<T>::randn({2, 5, 3, 4}, gen).permute({0, 3, 2, 1});  // (2, 4, 3, 5), channels 4
  ASSERT_FALSE(t.is_contiguous());
  const auto m4 = Tensor<T>::randn({4}, gen), v4 = Tensor<T>::ones({4});
  EXPECT_TRUE(strata_test::same_bits(F::batch_norm(t, m4, v4), F::batch_norm(t.contiguous(), m4, v4)));
  // A negative variance gives NaN, as in torch.
  const auto bad = F::batch_norm(Tensor<T>::ones({1, 2, 2}), Tensor<T>::zeros({2}), Tensor<T>::full({2}, T(-1)));
  EXPECT_TRUE(std::isnan(bad(0, 0, 0)));
}

TYPED_TEST(FunctionalBatchNormTest, TorchsMessages) {
  using T = TypeParam;
  const auto x = Tensor<T>::zeros({2, 3, 4});
  const auto c3 = Tensor<T>::ones({3}), c4 = Tensor<T>::ones({4});
  EXPECT_THROW_WITH(F::batch_norm(x, c4, c3), strata::Error, "batch_norm: running_mean should contain 3 elements not 4");
  EXPECT_THROW_WITH(F::batch_norm(x, c3, c4), strata::Error, "batch_norm: running_var should contain 3 elements not 4");
  EXPECT_THROW_WITH(F::batch_norm(x, c3, c3, c4), strata::Error, "batch_norm: weight should contain 3 elements not 4");
  EXPECT_THROW_WITH(F::batch_norm(x, c3, c3, c3, c4), strata::Error,
                    "batch_norm: bias should contain 3 elements not 4");
  EXPECT_THROW_WITH(F::batch_norm(x, Tensor<T>::ones({3, 1}), c3), strata::Error,
                    "running_mean should contain 3 elements not 3 (shape [3, 1])");
  EXPECT_THROW_WITH(F::batch_norm(x, c3, Tensor<T>()), strata::Error,
                    "batch_norm: running_mean and running_var must be both defined (the running statistics) or both "
                    "undefined (the batch's statistics), got running_var undefined");
  EXPECT_THROW_WITH(F::batch_norm(Tensor<T>::zeros({3}), c3, c3), strata::Error,
                    "batch_norm: expected input of shape (N, C, *) with at least 2 dimensions, got shape [3]");
  EXPECT_THROW_WITH(F::batch_norm(Tensor<T>::zeros({1, 3, 1}), Tensor<T>(), Tensor<T>()), strata::Error,
                    "batch_norm: Expected more than 1 value per channel when training, got input size [1, 3, 1]");
  EXPECT_THROW_WITH(F::batch_norm(Tensor<T>(), c3, c3), strata::Error, "batch_norm: the input is undefined");
}

}  // namespace
