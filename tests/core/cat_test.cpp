// Tests for strata/core/cat.hpp: strata::cat with torch.cat's rules (torch 1.13's legacy [0]-shaped
// empties included), views as inputs, and every error message.
#include <strata/core/cat.hpp>

#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

template <typename T>
class CatTest : public ::testing::Test {};
TYPED_TEST_SUITE(CatTest, strata_test::ScalarTypes);

TYPED_TEST(CatTest, JoinsAlongADim) {
  using T = TypeParam;
  const Tensor<T> a({2, 2}, {1, 2, 3, 4}), b({2, 1}, {5, 6}), c({1, 2}, {7, 8});
  EXPECT_TRUE(
      strata_test::same_bits(strata::cat(std::vector<Tensor<T>>{a, b}, 1), Tensor<T>({2, 3}, {1, 2, 5, 3, 4, 6})));
  EXPECT_TRUE(strata_test::same_bits(strata::cat({a, c}), Tensor<T>({3, 2}, {1, 2, 3, 4, 7, 8})));
  EXPECT_TRUE(strata_test::same_bits(strata::cat({a, b, a}, -1), Tensor<T>({2, 5}, {1, 2, 5, 1, 2, 3, 4, 6, 3, 4})));
  // One tensor: a copy that shares nothing.
  const Tensor<T> one = strata::cat({a}, 0);
  EXPECT_TRUE(strata_test::same_bits(one, a));
  EXPECT_FALSE(one.shares_storage_with(a));
}

TYPED_TEST(CatTest, ViewsAndEmptyTensors) {
  using T = TypeParam;
  strata::Generator gen(4);
  const Tensor<T> x = Tensor<T>::randn({2, 6, 3, 3}, gen);
  const auto parts = x.chunk(3, 1);
  EXPECT_TRUE(strata_test::same_bits(strata::cat(parts, 1), x));
  // Transposed and narrowed inputs.
  const Tensor<T> t = Tensor<T>::randn({3, 4}, gen);
  const Tensor<T> y = strata::cat({t.transpose(0, 1), t.narrow(1, 1, 3).transpose(0, 1)}, 0);
  EXPECT_EQ(y.shape(), (Shape{7, 3}));
  EXPECT_EQ(y(4, 2), t(2, 0 + 1));
  EXPECT_EQ(y(3, 1), t(1, 3));
  // Size-0 parts along dim, and an all-empty result.
  EXPECT_TRUE(strata_test::same_bits(strata::cat({Tensor<T>::zeros({0, 3}), t.narrow(1, 0, 3)}, 0), t.narrow(1, 0, 3)));
  EXPECT_EQ(strata::cat({Tensor<T>::zeros({2, 0}), Tensor<T>::zeros({2, 0})}, 0).shape(), (Shape{4, 0}));
  // torch 1.13 skips 1-D [0] tensors, whatever the others' ranks; only such tensors give [0].
  const Tensor<T> legacy = Tensor<T>::zeros({0});
  EXPECT_TRUE(strata_test::same_bits(strata::cat({legacy, t, legacy}, 1), t));
  EXPECT_TRUE(strata_test::same_bits(strata::cat({t, legacy}, -1), t));
  EXPECT_EQ(strata::cat({legacy, legacy}, 0).shape(), Shape{0});
  EXPECT_EQ(strata::cat({legacy}, 5).shape(), Shape{0});  // torch checks nothing then, not even the dim
  const Tensor<T> v({3}, {1, 2, 3});
  EXPECT_TRUE(strata_test::same_bits(strata::cat({legacy, v}, 0), v));
}

TYPED_TEST(CatTest, ErrorsInTorchsWords) {
  using T = TypeParam;
  const Tensor<T> a = Tensor<T>::ones({2, 3}), b = Tensor<T>::ones({3, 4});
  EXPECT_THROW_WITH(strata::cat(std::vector<Tensor<T>>{}, 0), strata::Error,
                    "cat: torch.cat(): expected a non-empty list of Tensors");
  EXPECT_THROW_WITH(strata::cat({a, Tensor<T>::ones({2, 3, 1})}), strata::Error,
                    "cat: Tensors must have same number of dimensions: got 2 and 3 (tensor number 1 in the list; "
                    "shapes [2, 3] and [2, 3, 1])");
  EXPECT_THROW_WITH(strata::cat({a, b}, 1), strata::Error,
                    "cat: Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for "
                    "tensor number 1 in the list (shapes [2, 3] and [3, 4])");
  // The position counts the skipped legacy empties, as torch's does.
  EXPECT_THROW_WITH(strata::cat({Tensor<T>::ones({3, 4}), Tensor<T>::zeros({0}), Tensor<T>::ones({2, 5})}, 1),
                    strata::Error, "Expected size 3 but got size 2 for tensor number 2 in the list");
  // A [0, 1] tensor is 2-D: not skipped.
  EXPECT_THROW_WITH(strata::cat({Tensor<T>::ones({3, 4}), Tensor<T>::zeros({0, 1})}, 1), strata::Error,
                    "Expected size 3 but got size 0 for tensor number 1");
  EXPECT_THROW_WITH(strata::cat({a, b}, 2), strata::Error,
                    "cat: dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_WITH(strata::cat({a, b}, -3), strata::Error, "but got -3)");
  // torch checks for 0-d tensors first (before the dim).
  EXPECT_THROW_WITH(strata::cat({a, Tensor<T>({}, {1})}, 5), strata::Error,
                    "cat: zero-dimensional tensor (at position 1) cannot be concatenated");
  EXPECT_THROW_WITH(strata::cat({a, Tensor<T>()}, 0), strata::Error, "cat: tensor number 1 in the list is undefined");
}

}  // namespace
