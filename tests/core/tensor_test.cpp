// Tests for strata/core/tensor.hpp: construction, views (flatten, chunk), copies, reductions, errors.
#include <cmath>
#include <limits>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;

template <typename T>
class TensorTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  /// [[0, 1, 2], [3, 4, 5]] and so on: value == flat row-major index.
  static Tensor iota(Shape shape) {
    const index_t n = strata::detail::checked_numel(shape, "iota");
    return Tensor::arange(n).reshape(std::move(shape));
  }
};
TYPED_TEST_SUITE(TensorTest, strata_test::ScalarTypes);

TYPED_TEST(TensorTest, UndefinedByDefault) {
  typename TestFixture::Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_THROW_WITH(t.reshape({1}), strata::Error, "undefined");
  EXPECT_THROW_WITH(t(0), strata::Error, "undefined");
}

TYPED_TEST(TensorTest, Factories) {
  using Tensor = typename TestFixture::Tensor;
  const Tensor z = Tensor::zeros({2, 3});
  EXPECT_TRUE(z.defined());
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dim(), 2);
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.sum(), TypeParam(0));
  EXPECT_EQ(Tensor::ones({4}).sum(), TypeParam(4));
  EXPECT_EQ(Tensor::full({2, 2}, TypeParam(2.5)).mean(), TypeParam(2.5));
  EXPECT_EQ(Tensor::empty({3, 0}).numel(), 0);
  const Tensor a = Tensor::arange(5);
  EXPECT_EQ(a.shape(), Shape{5});
  EXPECT_EQ(a(4), TypeParam(4));
  EXPECT_EQ(a.sum(), TypeParam(10));
  const Tensor v({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(v(1, 0), TypeParam(3));
  const Tensor scalar({}, {7});
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.item(), TypeParam(7));
}

TYPED_TEST(TensorTest, RandomFactoriesAreSeeded) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator g1(5), g2(5);
  EXPECT_EQ(strata::max_abs_diff(Tensor::randn({3, 4}, g1), Tensor::randn({3, 4}, g2)), TypeParam(0));
  const Tensor u = Tensor::uniform({1000}, TypeParam(-2), TypeParam(3), g1);
  const Tensor r = Tensor::rand({1000}, g1);
  for (index_t i = 0; i < 1000; ++i) {
    EXPECT_GE(u(i), TypeParam(-2));
    EXPECT_LT(u(i), TypeParam(3));
    EXPECT_GE(r(i), TypeParam(0));
    EXPECT_LT(r(i), TypeParam(1));
  }
}

TYPED_TEST(TensorTest, StorageIsAligned) {
  const auto t = TestFixture::Tensor::zeros({3, 5});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
}

TYPED_TEST(TensorTest, CopiesShareStorageCloneDoesNot) {
  using Tensor = typename TestFixture::Tensor;
  Tensor a = Tensor::zeros({2, 2});
  Tensor b = a;
  b(0, 1) = TypeParam(5);
  EXPECT_EQ(a(0, 1), TypeParam(5));
  Tensor c = a.clone();
  c(0, 1) = TypeParam(6);
  EXPECT_EQ(a(0, 1), TypeParam(5));
  EXPECT_FALSE(c.shares_storage_with(a));
  EXPECT_TRUE(b.shares_storage_with(a));
}

TYPED_TEST(TensorTest, ElementAccessHonoursStridesAndNegativeIndices) {
  auto t = TestFixture::iota({2, 3, 4});
  EXPECT_EQ(t(1, 2, 3), TypeParam(23));
  EXPECT_EQ(t(-1, -1, -1), TypeParam(23));
  EXPECT_EQ(t.at({1, 0, 2}), TypeParam(14));
  const auto p = t.permute({2, 0, 1});
  EXPECT_EQ(p(3, 1, 2), TypeParam(23));
  EXPECT_EQ(p(1, 0, 2), t(0, 2, 1));
}

TYPED_TEST(TensorTest, IndexErrors) {
  auto t = TestFixture::iota({2, 3});
  EXPECT_THROW_WITH(t(0), strata::Error, "expected 2 indices for shape [2, 3], got 1");
  EXPECT_THROW_WITH(t(0, 1, 2), strata::Error, "got 3");
  EXPECT_THROW_WITH(t(2, 0), strata::Error, "index 2 is out of bounds for dimension 0 with size 2");
  EXPECT_THROW_WITH(t(0, -4), strata::Error, "index -4 is out of bounds for dimension 1 with size 3");
  EXPECT_THROW_WITH(t.size(2), strata::Error, "dimension out of range");
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_EQ(t.size(-2), 2);
}

TYPED_TEST(TensorTest, NegativeAndOverflowingSizes) {
  using Tensor = typename TestFixture::Tensor;
  EXPECT_THROW_WITH(Tensor::zeros({2, -1}), strata::Error, "sizes must be non-negative, got shape [2, -1]");
  EXPECT_THROW_WITH(Tensor::empty({index_t{1} << 40, index_t{1} << 40}), strata::Error, "overflows int64");
  EXPECT_THROW_WITH(Tensor::empty({index_t{1} << 45}), strata::Error, "refusing to allocate");
  EXPECT_THROW_WITH(Tensor({2, 2}, {1, 2, 3}), strata::Error, "shape [2, 2] needs 4 values, got 3");
  EXPECT_THROW_WITH(Tensor::arange(-1), strata::Error, "arange");
}

TYPED_TEST(TensorTest, PermuteAndTransposeAreViewsWithSwappedStrides) {
  auto base = TestFixture::iota({2, 3, 4});
  EXPECT_EQ(base.strides(), (std::vector<index_t>{12, 4, 1}));
  auto p = base.permute({0, 2, 1});
  EXPECT_EQ(p.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(p.strides(), (std::vector<index_t>{12, 1, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_TRUE(p.shares_storage_with(base));
  p(1, 3, 2) = TypeParam(-1);  // writing through the view shows in the base
  EXPECT_EQ(base(1, 2, 3), TypeParam(-1));
  auto t = base.transpose(0, -1);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (std::vector<index_t>{1, 4, 12}));
  EXPECT_EQ(t(3, 2, 1), TypeParam(-1));
  EXPECT_EQ(base.permute({-3, -1, -2}).shape(), (Shape{2, 4, 3}));
}

TYPED_TEST(TensorTest, PermuteErrors) {
  auto t = TestFixture::iota({2, 3, 4});
  EXPECT_THROW_WITH(t.permute({0, 0, 1}), strata::Error, "repeated dim 0");
  EXPECT_THROW_WITH(t.permute({0, 1, 3}), strata::Error, "dimension out of range");
  EXPECT_THROW_WITH(t.permute({0, 1}), strata::Error, "expected 3 dims for a tensor of shape [2, 3, 4], got 2");
  EXPECT_THROW_WITH(t.transpose(0, 5), strata::Error, "dimension out of range");
}

TYPED_TEST(TensorTest, SqueezeUnsqueeze) {
  auto t = TestFixture::iota({2, 1, 3});
  auto s = t.squeeze(1);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  EXPECT_TRUE(s.shares_storage_with(t));
  EXPECT_EQ(t.squeeze(0).shape(), t.shape());  // size 2: unchanged, like torch
  EXPECT_EQ(t.squeeze().shape(), (Shape{2, 3}));
  auto u = s.unsqueeze(0);
  EXPECT_EQ(u.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(s.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(s.unsqueeze(1).shape(), (Shape{2, 1, 3}));
  EXPECT_TRUE(s.unsqueeze(1).is_contiguous());
  u(0, 1, 2) = TypeParam(42);
  EXPECT_EQ(t(1, 0, 2), TypeParam(42));
  EXPECT_THROW_WITH(s.unsqueeze(3), strata::Error, "dimension out of range");
  EXPECT_THROW_WITH(s.squeeze(2), strata::Error, "dimension out of range");
}

TYPED_TEST(TensorTest, ReshapeIsAViewWhenContiguous) {
  auto t = TestFixture::iota({2, 3, 4});
  auto r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_TRUE(r.shares_storage_with(t));
  EXPECT_EQ(r(5, 3), TypeParam(23));
  EXPECT_EQ(t.reshape({-1}).shape(), Shape{24});
  EXPECT_EQ(t.reshape({4, 3, 2}).shape(), (Shape{4, 3, 2}));
}

TYPED_TEST(TensorTest, ReshapeFollowsTorchViewRules) {
  auto t = TestFixture::iota({2, 3, 4});
  // Transposing the last two dims breaks merging them: a copy, like torch.
  auto p = t.permute({0, 2, 1});
  auto copied = p.reshape({2, 12});
  EXPECT_FALSE(copied.shares_storage_with(t));
  EXPECT_TRUE(copied.is_contiguous());
  EXPECT_EQ(copied(1, 1), p(1, 0, 1));
  // Splitting or merging only the untouched leading dim stays a view.
  auto kept = p.reshape({1, 2, 4, 3});
  EXPECT_TRUE(kept.shares_storage_with(t));
  EXPECT_EQ(kept(0, 1, 3, 2), t(1, 2, 3));
  // A permutation that keeps the (3, 4) block together can be flattened as a view.
  auto q = t.permute({1, 2, 0});  // [3, 4, 2] with strides [4, 1, 12]
  auto merged = q.reshape({12, 2});
  EXPECT_TRUE(merged.shares_storage_with(t));
  EXPECT_EQ(merged.strides(), (std::vector<index_t>{1, 12}));
  EXPECT_EQ(merged(5, 1), t(1, 1, 1));
  // A narrowed (gapped) tensor flattens only by copying.
  auto n = t.narrow(2, 1, 2);
  EXPECT_FALSE(n.reshape({-1}).shares_storage_with(t));
  EXPECT_TRUE(n.reshape({2, 3, 1, 2}).shares_storage_with(t));
}

TYPED_TEST(TensorTest, ReshapeErrorsNameBothShapes) {
  auto t = TestFixture::iota({2, 3});
  EXPECT_THROW_WITH(t.reshape({4, 2}), strata::Error, "shape [4, 2] is invalid for input of size 6 (shape [2, 3])");
  EXPECT_THROW_WITH(t.reshape({-1, -1}), strata::Error, "only one dimension can be inferred");
  EXPECT_THROW_WITH(t.reshape({4, -1}), strata::Error, "shape [4, -1] is invalid for input of size 6");
  EXPECT_THROW_WITH(t.reshape({-2, 3}), strata::Error, "invalid shape dimension -2");
}

TYPED_TEST(TensorTest, NarrowIsAView) {
  auto t = TestFixture::iota({3, 4});
  auto n = t.narrow(1, 1, 2);
  EXPECT_EQ(n.shape(), (Shape{3, 2}));
  EXPECT_EQ(n(2, 1), TypeParam(10));
  EXPECT_FALSE(n.is_contiguous());
  EXPECT_THROW_WITH(t.narrow(1, 3, 2), strata::Error, "exceeds dimension size (4)");
}

TYPED_TEST(TensorTest, ContiguousCopiesOnlyWhenNeeded) {
  auto t = TestFixture::iota({3, 4});
  EXPECT_TRUE(t.contiguous().shares_storage_with(t));
  auto p = t.transpose(0, 1);
  auto c = p.contiguous();
  EXPECT_FALSE(c.shares_storage_with(t));
  EXPECT_TRUE(c.is_contiguous());
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 3; ++j) EXPECT_EQ(c(i, j), t(j, i));
  // Size-1 dimensions do not break contiguity, as in torch.
  EXPECT_TRUE(t.reshape({3, 1, 4}).transpose(0, 1).is_contiguous());
}

TYPED_TEST(TensorTest, CopyAndFill) {
  using Tensor = typename TestFixture::Tensor;
  auto t = TestFixture::iota({2, 3});
  Tensor dst = Tensor::zeros({3, 2});
  dst.copy_(t.transpose(0, 1));
  EXPECT_EQ(dst(2, 1), TypeParam(5));
  dst.transpose(0, 1).fill_(TypeParam(1));
  EXPECT_EQ(dst.sum(), TypeParam(6));
  EXPECT_THROW_WITH(dst.copy_(t), strata::Error, "expected a source of shape [3, 2], got [2, 3]");
}

TYPED_TEST(TensorTest, SumMeanOfViews) {
  auto t = TestFixture::iota({4, 5});
  EXPECT_EQ(t.sum(), TypeParam(190));
  EXPECT_EQ(t.mean(), TypeParam(9.5));
  EXPECT_EQ(t.narrow(0, 1, 2).transpose(0, 1).sum(), TypeParam(5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14));
  EXPECT_TRUE(std::isnan(TestFixture::Tensor::zeros({0}).mean()));
}

TYPED_TEST(TensorTest, AllcloseAndMaxAbsDiff) {
  using Tensor = typename TestFixture::Tensor;
  const Tensor a({3}, {1, 2, 3});
  const Tensor b({3}, {1, 2, TypeParam(3.00001)});
  EXPECT_TRUE(strata::allclose(a, b, 1e-4, 0));
  EXPECT_FALSE(strata::allclose(a, b, 1e-7, 0));
  EXPECT_NEAR(strata::max_abs_diff(a, b), 1e-5, 1e-6);
  const Tensor nan({3}, {1, 2, std::numeric_limits<TypeParam>::quiet_NaN()});
  EXPECT_FALSE(strata::allclose(nan, nan));
  EXPECT_TRUE(std::isnan(strata::max_abs_diff(a, nan)));
  EXPECT_THROW_WITH(strata::allclose(a, Tensor::zeros({2})), strata::Error, "shapes differ: [3] vs [2]");
  EXPECT_THROW_WITH(strata::max_abs_diff(a, Tensor::zeros({3, 1})), strata::Error, "[3] vs [3, 1]");
  EXPECT_TRUE(strata::allclose(a.reshape({3, 1}).transpose(0, 1), a.reshape({1, 3})));
}

TYPED_TEST(TensorTest, FlattenIsAViewWhenTheStridesAllow) {
  auto t = TestFixture::iota({2, 3, 4, 5});
  auto f = t.flatten();
  EXPECT_EQ(f.shape(), Shape{120});
  EXPECT_TRUE(f.shares_storage_with(t));
  EXPECT_EQ(t.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(t.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(t.flatten(-3, -2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(t.flatten(2, 2).strides(), t.strides());  // start == end: the tensor itself
  // Dims 1..2 of a permuted tensor stay mergeable; across the permutation they are copied.
  auto p = t.permute({0, 3, 1, 2});
  EXPECT_TRUE(p.flatten(2).shares_storage_with(t));
  EXPECT_FALSE(p.flatten(1).shares_storage_with(t));
  EXPECT_EQ(p.flatten(1)(1, 13), p(1, 1, 0, 1));
  // 0-d gives [1]; its dims wrap as for rank 1.
  EXPECT_EQ(typename TestFixture::Tensor({}, {5}).flatten(0, -1).shape(), Shape{1});
  EXPECT_THROW_WITH(t.flatten(2, 1), strata::Error,
                    "flatten: flatten() has invalid args: start_dim cannot come after end_dim (start_dim=2, "
                    "end_dim=1, input shape [2, 3, 4, 5])");
  EXPECT_THROW_WITH(t.flatten(0, 4), strata::Error,
                    "flatten: dimension out of range (expected to be in range of [-4, 3], but got 4)");
  EXPECT_THROW_WITH(TestFixture::Tensor::zeros({0, index_t{1} << 40, index_t{1} << 40}).flatten(1), strata::Error,
                    "flatten: size product overflows int64");
  EXPECT_THROW_WITH(typename TestFixture::Tensor().flatten(), strata::Error,
                    "Tensor::flatten: the tensor is undefined");
}

TYPED_TEST(TensorTest, ChunkGivesTorchsSizesAsViews) {
  auto sizes_of = [](const std::vector<typename TestFixture::Tensor>& parts, index_t dim) {
    std::vector<index_t> sizes;
    for (const auto& p : parts) sizes.push_back(p.size(dim));
    return sizes;
  };
  auto t = TestFixture::iota({5, 6});
  // torch: ceil(size / chunks) each, the last smaller, possibly fewer chunks than asked.
  EXPECT_EQ(sizes_of(t.chunk(3), 0), (std::vector<index_t>{2, 2, 1}));
  EXPECT_EQ(sizes_of(t.chunk(4, 1), 1), (std::vector<index_t>{2, 2, 2}));
  EXPECT_EQ(sizes_of(t.chunk(9, -1), 1), (std::vector<index_t>{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(sizes_of(t.chunk(1, 1), 1), (std::vector<index_t>{6}));
  const auto parts = t.chunk(2, 1);
  EXPECT_TRUE(parts[1].shares_storage_with(t));
  EXPECT_EQ(parts[1](4, 0), t(4, 3));
  // A size-0 dim gives `chunks` empty views (torch's split_with_sizes path).
  EXPECT_EQ(sizes_of(TestFixture::Tensor::zeros({2, 0}).chunk(3, 1), 1), (std::vector<index_t>{0, 0, 0}));
  EXPECT_THROW_WITH(t.chunk(0), strata::Error, "chunk: chunk expects `chunks` to be greater than 0, got: 0");
  EXPECT_THROW_WITH(t.chunk(-1), strata::Error, "got: -1");
  EXPECT_THROW_WITH(typename TestFixture::Tensor({}, {1}).chunk(1), strata::Error,
                    "chunk: chunk expects at least a 1-dimensional tensor");
  EXPECT_THROW_WITH(t.chunk(2, 2), strata::Error,
                    "chunk: dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_WITH(typename TestFixture::Tensor().chunk(2), strata::Error, "Tensor::chunk: the tensor is undefined");
}

TYPED_TEST(TensorTest, UniformChecksFinitenessFirst) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(1);
  const TypeParam nan = std::numeric_limits<TypeParam>::quiet_NaN();
  // A NaN bound also fails low <= high; the message names the real reason.
  EXPECT_THROW_WITH(Tensor::uniform({2}, nan, TypeParam(1), gen), strata::Error,
                    "uniform: expected finite bounds, got low=nan high=1");
  EXPECT_THROW_WITH(Tensor::uniform({2}, TypeParam(0), nan, gen), strata::Error, "uniform: expected finite bounds");
  EXPECT_THROW_WITH(Tensor::uniform({2}, TypeParam(1), TypeParam(0), gen), strata::Error,
                    "uniform: expected low <= high, got low=1 high=0");
}

}  // namespace
