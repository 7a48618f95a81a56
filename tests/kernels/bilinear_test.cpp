// Tests for strata/kernels/bilinear.hpp: the outer-product + GEMM Bilinear kernel.
#include <strata/kernels/bilinear.hpp>

#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;

template <typename T>
class BilinearKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(BilinearKernelTest, strata_test::ScalarTypes);

TYPED_TEST(BilinearKernelTest, HandComputed) {
  using T = TypeParam;
  // x1 = [1, 2], x2 = [3, 4], W[0] = [[1, 2], [3, 4]], W[1] = [[0, 1], [-1, 0]], b = [0.5, -1]
  // y0 = 1*1*3 + 1*2*4 + 2*3*3 + 2*4*4 = 3 + 8 + 18 + 32 = 61; y1 = 1*1*4 - 2*1*3 = -2
  const std::vector<T> x1{1, 2}, x2{3, 4}, w{1, 2, 3, 4, 0, 1, -1, 0}, b{T(0.5), -1};
  std::vector<T> out(2, T(-99));
  strata::kernels::bilinear(x1.data(), x2.data(), w.data(), b.data(), out.data(), 1, 2, 2, 2);
  EXPECT_EQ(out, (std::vector<T>{T(61.5), -3}));
  strata::kernels::bilinear(x1.data(), x2.data(), w.data(), static_cast<const T*>(nullptr), out.data(), 1, 2, 2, 2);
  EXPECT_EQ(out, (std::vector<T>{61, -2}));
}

TYPED_TEST(BilinearKernelTest, EmptyBatchOrOutputWritesNothing) {
  using T = TypeParam;
  const std::vector<T> x{1, 2}, w{1, 2, 3, 4}, b{4};
  std::vector<T> out{T(-7)};
  strata::kernels::bilinear(x.data(), x.data(), w.data(), b.data(), out.data(), 0, 2, 2, 1);
  strata::kernels::bilinear(x.data(), x.data(), w.data(), b.data(), out.data(), 1, 2, 2, 0);
  EXPECT_EQ(out[0], T(-7));
}

TYPED_TEST(BilinearKernelTest, NoInputFeaturesGivesTheBias) {
  using T = TypeParam;
  const std::vector<T> x2{1, 2, 3, 4}, b{5, 6};
  std::vector<T> out(4, T(-99));
  const T dummy = 0;
  strata::kernels::bilinear(&dummy, x2.data(), &dummy, b.data(), out.data(), 2, 0, 2, 2);
  EXPECT_EQ(out, (std::vector<T>{5, 6, 5, 6}));
}

TEST(BilinearKernelChunks, BoundTheBufferButKeepGemmRows) {
  using strata::kernels::detail::bilinear_chunk_rows;
  EXPECT_EQ(bilinear_chunk_rows(128, 20, 30), 128);      // 128 * 600 elements fit at once
  EXPECT_EQ(bilinear_chunk_rows(100000, 20, 30), 1747);  // 2^20 / 600
  EXPECT_EQ(bilinear_chunk_rows(100000, 256, 256), 64);  // at least 64 rows per GEMM
  EXPECT_EQ(bilinear_chunk_rows(3, 256, 256), 3);
  EXPECT_EQ(bilinear_chunk_rows(5, 0, 7), 5);
}

TYPED_TEST(BilinearKernelTest, MatchesNaiveReferenceOverShapeGrid) {
  using T = TypeParam;
  using Tensor = strata::Tensor<T>;
  strata::Generator gen(12);
  for (index_t M : {1, 4, 70}) {
    for (index_t I : {1, 3, 20}) {
      for (index_t J : {1, 5, 30}) {
        for (index_t N : {1, 4, 40}) {
          const bool with_bias = (M + I + J + N) % 2 == 0;
          const Tensor x1 = Tensor::randn({M, I}, gen), x2 = Tensor::randn({M, J}, gen);
          const Tensor w = Tensor::randn({N, I, J}, gen);
          const Tensor b = with_bias ? Tensor::randn({N}, gen) : Tensor();
          Tensor out = Tensor::empty({M, N});
          strata::kernels::bilinear(x1.data(), x2.data(), w.data(), with_bias ? b.data() : nullptr, out.data(), M, I, J,
                                    N);
          EXPECT_TRUE(strata_test::matches_reference(out, strata_test::naive_bilinear(x1, x2, w, b)))
              << "M=" << M << " I=" << I << " J=" << J << " N=" << N << " bias=" << with_bias;
        }
      }
    }
  }
}

TYPED_TEST(BilinearKernelTest, SeveralChunksMatchTheReference) {
  // I*J = 16900 gives chunks of 64 rows: 200 rows run as 64 + 64 + 64 + 8.
  using T = TypeParam;
  using Tensor = strata::Tensor<T>;
  ASSERT_EQ(strata::kernels::detail::bilinear_chunk_rows(200, 130, 130), 64);
  strata::Generator gen(13);
  const Tensor x1 = Tensor::randn({200, 130}, gen), x2 = Tensor::randn({200, 130}, gen);
  const Tensor w = Tensor::randn({3, 130, 130}, gen), b = Tensor::randn({3}, gen);
  Tensor out = Tensor::empty({200, 3});
  strata::kernels::bilinear(x1.data(), x2.data(), w.data(), b.data(), out.data(), 200, 130, 130, 3);
  EXPECT_TRUE(strata_test::matches_reference(out, strata_test::naive_bilinear(x1, x2, w, b)));
}

}  // namespace
