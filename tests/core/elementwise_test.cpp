// Tests for strata/core/elementwise.hpp: the strided N-ary loop (dimension dropping, memory order,
// merging), its runs over arbitrary element ranges, dense runs (gathered blocks) and unary_map.
#include <strata/core/elementwise.hpp>

#include <algorithm>
#include <array>
#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using strata::detail::StridedLoop;
using Offsets2 = std::array<index_t, 2>;
using Offsets3 = std::array<index_t, 3>;

TEST(ElementwiseLoopTest, SameShapeContiguousIsOneRun) {
  const Shape s{8, 64, 56, 56};
  const auto c = strata::detail::contiguous_strides(s);
  const StridedLoop<3> loop(s, {c, c, c});
  ASSERT_EQ(loop.rank(), 1u);
  EXPECT_EQ(loop.sizes()[0], 8 * 64 * 56 * 56);
  int runs = 0;
  loop.for_each_run(0, loop.numel(), [&](const Offsets3& off, const Offsets3& steps, index_t n) {
    ++runs;
    EXPECT_EQ(off, (Offsets3{0, 0, 0}));
    EXPECT_EQ(steps, (Offsets3{1, 1, 1}));
    EXPECT_EQ(n, loop.numel());
  });
  EXPECT_EQ(runs, 1);
}

TEST(ElementwiseLoopTest, GateAndPerChannelCollapseToRunsAgainstAScalar) {
  const Shape s{8, 64, 56, 56};
  const auto c = strata::detail::contiguous_strides(s);
  // (N, C, H, W) * (N, C, 1, 1): N*C runs of H*W elements, the gate a scalar per run.
  const StridedLoop<3> gate(s, {c, c, {64, 1, 0, 0}});
  ASSERT_EQ(gate.rank(), 2u);
  EXPECT_EQ(gate.sizes(), (std::vector<index_t>{8 * 64, 56 * 56}));
  EXPECT_EQ(gate.stride(2, 0), 1);
  EXPECT_EQ(gate.stride(2, 1), 0);
  index_t runs = 0;
  gate.for_each_run(0, gate.numel(), [&](const Offsets3& off, const Offsets3& steps, index_t n) {
    EXPECT_EQ(n, 56 * 56);
    EXPECT_EQ(steps, (Offsets3{1, 1, 0}));
    EXPECT_EQ(off[2], runs);
    EXPECT_EQ(off[0], runs * 56 * 56);
    ++runs;
  });
  EXPECT_EQ(runs, 8 * 64);
  // (N, C, H, W) + (1, C, 1, 1): N, C and H*W; runs of H*W against one scalar.
  const StridedLoop<3> channel(s, {c, c, {0, 1, 0, 0}});
  EXPECT_EQ(channel.sizes(), (std::vector<index_t>{8, 64, 56 * 56}));
  // (N, C) + (C): runs of C against a contiguous vector.
  const StridedLoop<3> bias({128, 30}, {{{30, 1}, {30, 1}, {0, 1}}});
  EXPECT_EQ(bias.sizes(), (std::vector<index_t>{128, 30}));
  EXPECT_EQ(bias.stride(2, 1), 1);
}

TEST(ElementwiseLoopTest, DropsSizeOneDimsAndFollowsTheFirstOperandsMemoryOrder) {
  // A transposed output [3, 2] with strides [1, 3]: its memory order puts dim 1 outside.
  const StridedLoop<2> t({3, 1, 2}, {{{1, 99, 3}, {2, 7, 1}}});
  ASSERT_EQ(t.rank(), 2u);
  EXPECT_EQ(t.sizes(), (std::vector<index_t>{2, 3}));
  EXPECT_EQ(t.stride(0, 1), 1);
  EXPECT_EQ(t.stride(1, 1), 2);
  // order_by chooses whose memory order the loop follows.
  const StridedLoop<2> by_input({3, 2}, {{{1, 3}, {2, 1}}}, 1);
  EXPECT_EQ(by_input.stride(1, 1), 1);
  // A broadcast (0) stride says nothing: the next operand decides.
  const StridedLoop<3> tie({4, 5}, {{{0, 0}, {1, 4}, {5, 1}}});
  EXPECT_EQ(tie.stride(1, 1), 1);
  // 0-d: one run of one element; empty: none.
  int runs = 0;
  const StridedLoop<2> scalar(Shape{}, {std::vector<index_t>{}, std::vector<index_t>{}});
  scalar.for_each_run(0, 1, [&](const Offsets2&, const Offsets2&, index_t n) { runs += static_cast<int>(n); });
  EXPECT_EQ(runs, 1);
  const StridedLoop<2> empty({3, 0, index_t{1} << 40}, {{{0, 0, 0}, {0, 0, 0}}});
  EXPECT_EQ(empty.numel(), 0);
}

// Every element of [0, numel) exactly once, whatever the range splits.
TEST(ElementwiseLoopTest, RunsOverAnyRangeSplitCoverEachElementOnce) {
  const Shape shape{3, 4, 5};
  // operand 0 contiguous, operand 1 a permuted-and-gapped layout
  const std::vector<index_t> c = strata::detail::contiguous_strides(shape);
  const std::vector<index_t> odd{7, 1, 40};
  const StridedLoop<2> loop(shape, {c, odd});
  std::vector<index_t> expected;
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 4; ++j)
      for (index_t k = 0; k < 5; ++k) expected.push_back(i * 7 + j + k * 40);
  std::sort(expected.begin(), expected.end());
  for (index_t split : {1, 2, 3, 7, 19, 60}) {
    std::vector<index_t> seen;
    std::vector<index_t> out_seen;
    for (index_t begin = 0; begin < loop.numel(); begin += split) {
      loop.for_each_run(begin, std::min(begin + split, loop.numel()),
                        [&](const Offsets2& off, const Offsets2& steps, index_t n) {
                          for (index_t i = 0; i < n; ++i) {
                            out_seen.push_back(off[0] + i * steps[0]);
                            seen.push_back(off[1] + i * steps[1]);
                          }
                        });
    }
    // The output is visited in its memory order: 0, 1, 2, ... (paired with the right input element).
    for (std::size_t i = 0; i < out_seen.size(); ++i) {
      ASSERT_EQ(out_seen[i], static_cast<index_t>(i)) << "split " << split;
      const index_t ii = out_seen[i] / 20, jj = out_seen[i] / 5 % 4, kk = out_seen[i] % 5;
      ASSERT_EQ(seen[i], ii * 7 + jj + kk * 40);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, expected) << "split " << split;
  }
}

TEST(ElementwiseLoopTest, DenseRunsGatherStridedInputsAndScatterStridedOutputs) {
  // in: every other element of 600; out: every third element of 900; the kernel only sees step 1.
  std::vector<double> in(600), out(900, -1);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<double>(i);
  index_t calls = 0;
  strata::detail::unary_map_into(Shape{300}, in.data(), {2}, out.data(), {3},
                                 [&](const double* x, double* y, index_t n) {
                                   ++calls;
                                   EXPECT_LE(n, strata::detail::kDenseRunBlock);
                                   for (index_t i = 0; i < n; ++i) y[i] = x[i] + 0.5;
                                 });
  EXPECT_EQ(calls, 2);  // 256 + 44
  for (std::size_t i = 0; i < 900; ++i) EXPECT_EQ(out[i], i % 3 == 0 ? static_cast<double>(2 * (i / 3)) + 0.5 : -1.0);
  // Broadcast scalars reach a binary kernel as step 0 only when it accepts them.
  const StridedLoop<2> loop(Shape{4}, {{{1}, {0}}});
  std::array<double*, 2> base{out.data(), in.data() + 5};
  strata::detail::for_each_dense_run<true>(loop, base, 0, 4,
                                           [&](const std::array<double*, 2>&, const Offsets2& steps, index_t n) {
                                             EXPECT_EQ(steps[1], 0);
                                             EXPECT_EQ(n, 4);
                                           });
  strata::detail::for_each_dense_run<false>(loop, base, 0, 4,
                                            [&](const std::array<double*, 2>& p, const Offsets2& steps, index_t n) {
                                              EXPECT_EQ(steps[1], 1);
                                              for (index_t i = 0; i < n; ++i) EXPECT_EQ(p[1][i], 5.0);
                                            });
}

template <typename T>
class ElementwiseMapTest : public ::testing::Test {};
TYPED_TEST_SUITE(ElementwiseMapTest, strata_test::ScalarTypes);

TYPED_TEST(ElementwiseMapTest, UnaryMapOverViewsMatchesElementAccess) {
  using T = TypeParam;
  strata::Generator gen(3);
  const auto base = Tensor<T>::randn({6, 7, 9}, gen);
  const auto square = [](const T* x, T* y, index_t n) {
    for (index_t i = 0; i < n; ++i) y[i] = x[i] * x[i];
  };
  for (const Tensor<T>& view :
       {base, base.transpose(0, 2), base.narrow(1, 2, 3), base.permute({1, 2, 0}), base.narrow(2, 4, 1).squeeze(2)}) {
    const Tensor<T> y = strata::detail::unary_map(view, square);
    ASSERT_EQ(y.shape(), view.shape());
    EXPECT_TRUE(y.is_contiguous());
    const Tensor<T> c = view.contiguous();
    for (index_t i = 0; i < c.numel(); ++i) ASSERT_EQ(y.data()[i], c.data()[i] * c.data()[i]);
  }
  // Large enough for threads: each element once.
  const int saved_threads = strata::get_num_threads();
  strata::set_num_threads(2);
  const auto big = Tensor<T>::randn({300, 700}, gen).transpose(0, 1);
  const Tensor<T> y = strata::detail::unary_map(big, square, 1024);
  const Tensor<T> c = big.contiguous();
  for (index_t i = 0; i < c.numel(); ++i) ASSERT_EQ(y.data()[i], c.data()[i] * c.data()[i]);
  strata::set_num_threads(saved_threads);
}

}  // namespace
