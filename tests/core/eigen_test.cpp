// Tests for strata/core/eigen.hpp: Eigen maps over tensors.
#include "test_util.hpp"

namespace {

template <typename T>
class EigenInterop : public ::testing::Test {};
TYPED_TEST_SUITE(EigenInterop, strata_test::ScalarTypes);

TYPED_TEST(EigenInterop, MatrixMapIsRowMajorAndShared) {
  auto t = strata::Tensor<TypeParam>::arange(6).reshape({2, 3});
  auto m = strata::as_matrix(t);
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m.cols(), 3);
  EXPECT_EQ(m(1, 0), TypeParam(3));
  m(0, 2) = TypeParam(-1);
  EXPECT_EQ(t(0, 2), TypeParam(-1));
  const auto& ct = t;
  EXPECT_EQ((strata::as_matrix(ct) * strata::as_matrix(ct).transpose())(1, 1), TypeParam(9 + 16 + 25));
}

TYPED_TEST(EigenInterop, VectorMapCoversAllElements) {
  auto t = strata::Tensor<TypeParam>::arange(24).reshape({2, 3, 4});
  EXPECT_EQ(strata::as_vector(t).sum(), TypeParam(276));
  strata::as_vector(t).setZero();
  EXPECT_EQ(t.sum(), TypeParam(0));
}

TYPED_TEST(EigenInterop, RefusesWhatItCannotMap) {
  auto t = strata::Tensor<TypeParam>::arange(6).reshape({2, 3});
  EXPECT_THROW_WITH(strata::as_matrix(t.transpose(0, 1)), strata::Error, "contiguous 2-D tensor, got shape [3, 2]");
  auto three = t.reshape({1, 2, 3});
  EXPECT_THROW_WITH(strata::as_matrix(three), strata::Error, "got shape [1, 2, 3]");
  auto tt = t.transpose(0, 1);
  EXPECT_THROW_WITH(strata::as_vector(tt), strata::Error, "expected a contiguous tensor");
}

}  // namespace
