// Tests for strata/core/reduce.hpp: Tensor::sum(dims, keepdim) and Tensor::mean(dims, keepdim) — hand
// cases, torch's empty-dims and empty-tensor rules, every error, and a long-double reference over every
// subset of dims of a 4-D tensor in several layouts (one thread and two).
#include <strata/core/reduce.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

template <typename T>
class ReduceTest : public ::testing::Test {};
TYPED_TEST_SUITE(ReduceTest, strata_test::ScalarTypes);

template <typename T>
Tensor<T> reduce_iota(Shape shape) {
  const index_t n = strata::detail::checked_numel(shape, "iota");
  return Tensor<T>::arange(n).reshape(std::move(shape));
}

TYPED_TEST(ReduceTest, HandComputed) {
  using T = TypeParam;
  const Tensor<T> x = reduce_iota<T>({2, 3, 4});  // x[i][j][k] = 12i + 4j + k
  EXPECT_TRUE(strata_test::same_bits(x.sum({1}), Tensor<T>({2, 4}, {12, 15, 18, 21, 48, 51, 54, 57})));
  EXPECT_TRUE(strata_test::same_bits(x.mean({0, 2}, true), Tensor<T>({1, 3, 1}, {T(7.5), T(11.5), T(15.5)})));
  EXPECT_TRUE(
      strata_test::same_bits(x.mean({-1}), Tensor<T>({2, 3}, {T(1.5), T(5.5), T(9.5), T(13.5), T(17.5), T(21.5)})));
  // Empty dims reduce everything, as torch's dim=[].
  EXPECT_EQ(x.sum({}).shape(), Shape{});
  EXPECT_EQ(x.sum({}).item(), T(276));
  EXPECT_EQ(x.mean({}, true).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(x.mean({}, true).item(), T(11.5));
  EXPECT_EQ(x.mean({0, 1, 2}).item(), x.mean());
  // Order of dims does not matter; results are new contiguous tensors.
  EXPECT_TRUE(strata_test::same_bits(x.sum({2, 0}), x.sum({0, 2})));
  EXPECT_TRUE(x.sum({1}).is_contiguous());
  EXPECT_FALSE(x.sum({1}).shares_storage_with(x));
  // A 0-d tensor takes dim 0 or -1.
  const Tensor<T> s({}, {2});
  EXPECT_EQ(s.mean({0}).shape(), Shape{});
  EXPECT_EQ(s.mean({-1}, true).item(), T(2));
  // Views.
  EXPECT_TRUE(strata_test::same_bits(x.transpose(0, 2).sum({2}), x.sum({0}).transpose(0, 1).contiguous()));
  EXPECT_TRUE(strata_test::same_bits(x.narrow(2, 1, 2).mean({1, 2}), Tensor<T>({2}, {T(5.5), T(17.5)})));
}

TYPED_TEST(ReduceTest, EmptyReductionsFollowTorch) {
  using T = TypeParam;
  const Tensor<T> e = Tensor<T>::zeros({0, 3});
  // torch.zeros(0, 3).mean(0) -> [nan, nan, nan]; .sum(0) -> zeros; .mean(1) -> shape [0]
  const Tensor<T> m = e.mean({0});
  ASSERT_EQ(m.shape(), Shape{3});
  for (index_t i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(m(i)));
  EXPECT_TRUE(strata_test::same_bits(e.sum({0}), Tensor<T>::zeros({3})));
  EXPECT_EQ(e.mean({1}).shape(), Shape{0});
  EXPECT_TRUE(std::isnan(e.mean({}).item()));
  EXPECT_EQ(Tensor<T>::zeros({0, index_t{1} << 40, index_t{1} << 40}).sum({1, 2}).shape(), Shape{0});
  // NaN and inf propagate.
  const Tensor<T> v({3}, {1, std::numeric_limits<T>::quiet_NaN(), 2});
  EXPECT_TRUE(std::isnan(v.mean({0}).item()));
  const Tensor<T> w({2}, {std::numeric_limits<T>::infinity(), 1});
  EXPECT_EQ(w.sum({0}).item(), std::numeric_limits<T>::infinity());
}

TYPED_TEST(ReduceTest, Errors) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::ones({2, 3});
  // torch: RuntimeError: dim 1 appears multiple times in the list of dims
  EXPECT_THROW_WITH(x.mean({1, 1}), strata::Error, "mean: dim 1 appears multiple times in the list of dims");
  EXPECT_THROW_WITH(x.sum({1, -1}), strata::Error, "sum: dim 1 appears multiple times in the list of dims");
  // torch: IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)
  EXPECT_THROW_WITH(x.mean({2}), strata::Error,
                    "mean: dimension out of range (expected to be in range of [-2, 1], "
                    "but got 2)");
  EXPECT_THROW_WITH(x.sum({0, -3}), strata::Error, "sum: dimension out of range");
  EXPECT_THROW_WITH(Tensor<T>({}, {1}).mean({0, -1}), strata::Error, "mean: dim 0 appears multiple times");
  EXPECT_THROW_WITH(Tensor<T>().mean({0}), strata::Error, "Tensor::mean: the tensor is undefined");
  EXPECT_THROW_WITH(Tensor<T>().sum({}), strata::Error, "Tensor::sum: the tensor is undefined");
}

/// Sums over `mask` in long double, with the sum of |x| alongside (for the error bound).
template <typename T>
void reduce_naive(const Tensor<T>& x, const std::vector<bool>& mask, bool keepdim, std::vector<long double>& sums,
                  std::vector<long double>& abs_sums, Shape& shape, long double& count) {
  const Shape& in = x.shape();
  std::vector<index_t> out_sizes, kept_sizes;
  count = 1;
  for (std::size_t d = 0; d < in.size(); ++d) {
    if (mask[d]) {
      count *= in[d];
      if (keepdim) out_sizes.push_back(1);
    } else {
      out_sizes.push_back(in[d]);
      kept_sizes.push_back(in[d]);
    }
  }
  shape = Shape(out_sizes);
  index_t kept = 1;
  for (index_t s : kept_sizes) kept *= s;
  sums.assign(static_cast<std::size_t>(kept), 0);
  abs_sums.assign(static_cast<std::size_t>(kept), 0);
  std::vector<index_t> idx(in.size(), 0);
  for (index_t flat = 0; flat < x.numel(); ++flat) {
    index_t rest = flat, out = 0, stride = 1;
    for (std::size_t d = in.size(); d-- > 0;) {
      idx[d] = rest % in[d];
      rest /= in[d];
    }
    for (std::size_t d = in.size(); d-- > 0;) {
      if (mask[d]) continue;
      out += idx[d] * stride;
      stride *= in[d];
    }
    const long double v = x.at(idx);
    sums[static_cast<std::size_t>(out)] += v;
    abs_sums[static_cast<std::size_t>(out)] += std::fabs(v);
  }
}

template <typename T>
void reduce_expect_close(const Tensor<T>& x, const std::vector<index_t>& dims, bool keepdim, const char* what) {
  std::vector<bool> mask(x.shape().size(), dims.empty());
  for (index_t d : dims) mask[static_cast<std::size_t>(d < 0 ? d + x.dim() : d)] = true;
  std::vector<long double> sums, abs_sums;
  Shape shape;
  long double count = 0;
  reduce_naive(x, mask, keepdim, sums, abs_sums, shape, count);
  const Tensor<T> s = x.sum(dims, keepdim), m = x.mean(dims, keepdim);
  ASSERT_EQ(s.shape(), shape) << what;
  ASSERT_EQ(m.shape(), shape) << what;
  // Float runs summed in float by blocks of 64 (a packet tree six roundings deep), everything else in
  // double, then one rounding to T.
  const long double u = std::numeric_limits<T>::epsilon() / 2;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const long double bound = 2 * u * std::fabs(sums[i]) + 8 * u * abs_sums[i] + count * 1.2e-16L * abs_sums[i];
    ASSERT_LE(std::fabs(s.data()[i] - sums[i]), bound) << what << " element " << i;
    ASSERT_LE(std::fabs(m.data()[i] - sums[i] / count), bound / count + u * std::fabs(sums[i] / count))
        << what << " element " << i;
  }
}

TYPED_TEST(ReduceTest, MatchesLongDoubleReferenceOverDimSubsetsAndLayouts) {
  using T = TypeParam;
  strata::Generator gen(21);
  const Tensor<T> base = Tensor<T>::randn({3, 4, 5, 6}, gen) + 0.25;
  const Tensor<T> wide = Tensor<T>::randn({3, 4, 5, 9}, gen);
  const Tensor<T> layouts[] = {base, Tensor<T>::randn({6, 5, 4, 3}, gen).permute({3, 2, 1, 0}), wide.narrow(3, 2, 6),
                               base.permute({0, 2, 1, 3})};
  for (const Tensor<T>& x : layouts) {
    for (int subset = 0; subset < 16; ++subset) {
      std::vector<index_t> dims;
      for (index_t d = 0; d < 4; ++d) {
        if (subset & (1 << d)) dims.push_back(d == 3 && subset % 3 == 0 ? -1 : d);
      }
      for (bool keepdim : {false, true}) reduce_expect_close(x, dims, keepdim, "layout grid");
    }
  }
}

TYPED_TEST(ReduceTest, LargeReductionsOnTwoThreads) {
  using T = TypeParam;
  strata::Generator gen(8);
  const int saved_threads = strata::get_num_threads();
  strata::set_num_threads(2);
  const Tensor<T> x = Tensor<T>::randn({8, 32, 20, 20}, gen);
  reduce_expect_close(x, {2, 3}, true, "global average pool");
  reduce_expect_close(x, {1}, false, "over channels");
  reduce_expect_close(x, {0}, false, "over the batch");
  reduce_expect_close(x.permute({0, 2, 3, 1}), {1, 2}, false, "channels-last view");
  reduce_expect_close(Tensor<T>::randn({4000, 64}, gen), {0}, false, "long columns");
  reduce_expect_close(Tensor<T>::randn({64, 4000}, gen), {1}, false, "long rows");
  strata::set_num_threads(saved_threads);
}

}  // namespace
