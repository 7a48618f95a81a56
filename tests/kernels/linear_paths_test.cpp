// The Linear kernel's fast paths (skinny register tiles, few-row GEMV split,
// row panels) against a naive double reference, at their edges: row and
// column tails, K = 1, N = 1, M = 0, K = 0, strided rows, non-contiguous
// inputs through functional::linear, and 1 vs 2 threads.

#include <strata/kernels/linear.hpp>
#include <strata/nn/functional/linear.hpp>

#include <string>
#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Tensor;
using strata_test::Layout;

template <typename T>
class LinearPathsTest : public ::testing::Test {
 protected:
  void TearDown() override { strata::set_num_threads(saved_threads_); }

  /// Runs the kernel on x[M, K] (rows ldx apart) and checks every element
  /// against the double reference; bias optional.
  void check_kernel(index_t M, index_t K, index_t N, index_t ldx, bool with_bias) {
    SCOPED_TRACE("M=" + std::to_string(M) + " K=" + std::to_string(K) + " N=" + std::to_string(N) +
                 " ldx=" + std::to_string(ldx) + (with_bias ? " bias" : " no bias"));
    strata::Generator gen(static_cast<std::uint64_t>(M * 7919 + K * 131 + N));
    // x as a narrow() of a [M, ldx] tensor: rows ldx apart, like the kernel reads them.
    const Tensor<T> storage = Tensor<T>::randn({M, ldx}, gen);
    const Tensor<T> x = storage.narrow(1, 0, K);
    const Tensor<T> w = Tensor<T>::randn({N, K}, gen);
    const Tensor<T> b = with_bias ? Tensor<T>::randn({N}, gen) : Tensor<T>();
    Tensor<T> out = Tensor<T>::full({M, N}, T(12345));
    strata::kernels::linear(storage.data(), w.data(), with_bias ? b.data() : nullptr, out.data(), M, K, N, ldx);
    EXPECT_TRUE(strata_test::matches_reference(out, strata_test::naive_linear(x, w, b)));
  }

  /// Every path at 1 and 2 threads.
  template <typename F>
  void at_each_thread_count(F&& f) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("threads=" + std::to_string(threads));
      strata::set_num_threads(threads);
      f();
    }
  }

 private:
  int saved_threads_ = strata::get_num_threads();
};
TYPED_TEST_SUITE(LinearPathsTest, strata_test::ScalarTypes);

TYPED_TEST(LinearPathsTest, SkinnyPathCoversRowAndColumnTails) {
  using T = TypeParam;
  namespace kd = strata::kernels::detail;
  this->at_each_thread_count([&] {
    // M: below, at and past a row tile (8 or 4 rows), odd; N: one column, a
    // partial packet, whole packets, one packet and a bit, two packets and a bit.
    for (index_t M : {4, 5, 8, 9, 13, 31, 300}) {
      for (index_t K : {1, 3, 8, 20}) {
        for (index_t N : {1, 2, 7, 15, 16, 17, 30, 32, 33, 47}) {
          // Narrower outputs take the skinny path only when a packet is at
          // most half padding (it depends on the packet size); these always do.
          if (N >= 15) {
            ASSERT_TRUE(kd::linear_is_skinny<T>(M, K, N)) << M << " " << K << " " << N;
          }
          this->check_kernel(M, K, N, K, true);
        }
      }
    }
    this->check_kernel(9, 5, 17, 5, false);
  });
}

TYPED_TEST(LinearPathsTest, SkinnyPathSplitsLargeBatchesAcrossThreads) {
  using T = TypeParam;
  // Enough rows for two threads (2 x 2^17 multiply-adds): the split point falls
  // inside a row tile for this odd M.
  ASSERT_TRUE(strata::kernels::detail::linear_is_skinny<T>(32771, 8, 31));
  this->at_each_thread_count([&] { this->check_kernel(32771, 8, 31, 8, true); });
}

TYPED_TEST(LinearPathsTest, SkinnyPathStreamsLargeAlignedOutputs) {
  using T = TypeParam;
  namespace kd = strata::kernels::detail;
  // Rows of whole cache lines (N * sizeof(T) a multiple of 64) and an output
  // past the streaming threshold take the streaming stores; an odd M leaves a
  // row tail, which streams too. N + 8 columns are whole lines only for double.
  const index_t N = 64 / static_cast<index_t>(sizeof(T)) * 2;
  const index_t M = kd::kLinearStreamMinBytes / (N * static_cast<index_t>(sizeof(T))) + 3;
  this->at_each_thread_count([&] {
    this->check_kernel(M, 8, N, 8, true);
    this->check_kernel(M, 3, N + 8, 3, false);
  });
}

TYPED_TEST(LinearPathsTest, SkinnyPathLimitIsTheWeightBufferSize) {
  using T = TypeParam;
  namespace kd = strata::kernels::detail;
  const index_t bytes = kd::kLinearSkinnyMaxWeightBytes;
  // The largest square weight that fits the stack buffer (K + 1 rows with the
  // bias, N padded to whole packets), and the next size up, which does not.
  index_t n = 16;
  ASSERT_TRUE(kd::linear_is_skinny<T>(64, n, n));
  while (kd::linear_is_skinny<T>(64, n + 1, n + 1)) ++n;
  EXPECT_LE((n + 1) * kd::linear_skinny_ldw<T>(n) * static_cast<index_t>(sizeof(T)), bytes);
  EXPECT_FALSE(kd::linear_is_skinny<T>(64, n + 1, n + 1));
  EXPECT_FALSE(kd::linear_is_skinny<T>(kd::kLinearSkinnyMinRows - 1, 8, 32));
  this->at_each_thread_count([&] {
    this->check_kernel(64, n, n, n, true);
    this->check_kernel(64, n + 1, n + 1, n + 1, true);
  });
}

TYPED_TEST(LinearPathsTest, FewRowsPathSplitsTheColumns) {
  using T = TypeParam;
  namespace kd = strata::kernels::detail;
  this->at_each_thread_count([&] {
    for (index_t M : std::vector<index_t>{1, 2, 3, kd::kLinearFewRows}) {
      for (index_t N : {1, 33, 515}) {
        // A large, odd reduction (the weight dominates), too large for the skinny buffer.
        const index_t K = N == 1 ? 4099 : 1031;
        ASSERT_FALSE(kd::linear_is_skinny<T>(M, K, N));
        this->check_kernel(M, K, N, K, true);
        this->check_kernel(M, K, N, K + 3, false);
      }
    }
  });
}

TYPED_TEST(LinearPathsTest, PanelPathSplitsTheRows) {
  using T = TypeParam;
  namespace kd = strata::kernels::detail;
  this->at_each_thread_count([&] {
    for (index_t M : std::vector<index_t>{kd::kLinearFewRows + 1, 67, 515}) {
      for (index_t N : {1, 129}) {
        const index_t K = N == 1 ? 4099 : 257;  // too large for the skinny buffer with any packet size
        ASSERT_FALSE(kd::linear_is_skinny<T>(M, K, N));
        this->check_kernel(M, K, N, K, true);
        this->check_kernel(M, K, N, K + 1, false);
      }
    }
    // K = 1 with a weight too wide for the skinny buffer.
    this->check_kernel(40, 1, 5000, 1, true);
  });
}

TYPED_TEST(LinearPathsTest, EmptyShapesWriteNothingOrTheBias) {
  using T = TypeParam;
  const std::vector<T> w(6, T(1)), b = {T(0.5), T(-2)};
  std::vector<T> out(4, T(7));
  // M = 0 and N = 0: nothing to write (the buffers may even be null).
  strata::kernels::linear<T>(nullptr, w.data(), b.data(), out.data(), 0, 3, 2);
  strata::kernels::linear<T>(w.data(), w.data(), nullptr, out.data(), 2, 3, 0);
  EXPECT_EQ(out, std::vector<T>(4, T(7)));
  // K = 0: an empty sum, so every row is the bias, or zeros without one.
  strata::kernels::linear<T>(nullptr, nullptr, b.data(), out.data(), 2, 0, 2);
  EXPECT_EQ(out, (std::vector<T>{T(0.5), T(-2), T(0.5), T(-2)}));
  strata::kernels::linear<T>(nullptr, nullptr, nullptr, out.data(), 2, 0, 2);
  EXPECT_EQ(out, std::vector<T>(4, T(0)));
}

TYPED_TEST(LinearPathsTest, FunctionalReadsEveryInputLayout) {
  using T = TypeParam;
  strata::Generator gen(5);
  // Shapes that land on each path; every layout of random_input (contiguous,
  // permuted, narrowed and strided views), plus transposed and narrowed weights.
  const std::vector<std::pair<strata::Shape, index_t>> cases = {
      {{6, 9, 8}, 32}, {{3, 5, 20}, 30}, {{2, 1031}, 70}, {{4, 3, 129}, 257}, {{1, 17}, 5}, {{9, 1}, 3}};
  this->at_each_thread_count([&] {
    for (const auto& [shape, N] : cases) {
      for (Layout layout : {Layout::kContiguous, Layout::kPermuted, Layout::kNarrowed, Layout::kStrided}) {
        SCOPED_TRACE(strata::to_string(shape) + " " + strata_test::layout_name(layout));
        const index_t K = shape[shape.size() - 1];
        const Tensor<T> x = strata_test::random_input<T>(shape, layout, gen);
        const Tensor<T> w = Tensor<T>::randn({K, N}, gen).transpose(0, 1);
        const Tensor<T> b = Tensor<T>::randn({N + 2}, gen).narrow(0, 1, N);
        const Tensor<T> y = strata::nn::functional::linear(x, w, b);
        EXPECT_TRUE(strata_test::matches_reference(y, strata_test::naive_linear(x, w, b)));
      }
    }
  });
}

TYPED_TEST(LinearPathsTest, StridedRowsGiveExactlyTheContiguousResult) {
  using T = TypeParam;
  strata::Generator gen(11);
  // A narrow() of the last dimension leaves the rows evenly spaced: the kernel
  // reads them where they are, in the same order as it reads a contiguous copy.
  const Tensor<T> base = Tensor<T>::randn({40, 12}, gen);
  const Tensor<T> x = base.narrow(1, 2, 8);
  const Tensor<T> w = Tensor<T>::randn({32, 8}, gen), b = Tensor<T>::randn({32}, gen);
  const Tensor<T> strided = strata::nn::functional::linear(x, w, b);
  const Tensor<T> copied = strata::nn::functional::linear(x.contiguous(), w, b);
  EXPECT_EQ(strata::max_abs_diff(strided, copied), T(0));
  EXPECT_TRUE(strata_test::matches_reference(strided, strata_test::naive_linear(x, w, b)));
}

}  // namespace
