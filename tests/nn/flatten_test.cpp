// Tests for strata/nn/flatten.hpp and nn/functional/flatten.hpp: Flatten with torch's semantics.
#include <sstream>

#include <strata/nn/flatten.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;

template <typename T>
class FlattenTest : public ::testing::Test {
 protected:
  static strata::Tensor<T> iota(Shape shape) {
    return strata::Tensor<T>::arange(strata::detail::checked_numel(shape, "iota")).reshape(std::move(shape));
  }
};
TYPED_TEST_SUITE(FlattenTest, strata_test::ScalarTypes);

// Shapes from torch.nn.Flatten(start, end)(torch.zeros(shape)).shape
TYPED_TEST(FlattenTest, ShapesLikeTorch) {
  using T = TypeParam;
  using strata::nn::Flatten;
  EXPECT_EQ(Flatten<T>()(this->iota({2, 3, 4})).shape(), (Shape{2, 12}));
  EXPECT_EQ(Flatten<T>()(this->iota({2, 3})).shape(), (Shape{2, 3}));
  EXPECT_EQ(Flatten<T>(0)(this->iota({2, 3, 4})).shape(), (Shape{24}));
  EXPECT_EQ(Flatten<T>(0, 1)(this->iota({2, 3, 4, 5})).shape(), (Shape{6, 4, 5}));
  EXPECT_EQ(Flatten<T>(1, 2)(this->iota({2, 3, 4, 5})).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(Flatten<T>(-3, -2)(this->iota({2, 3, 4, 5})).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(Flatten<T>(1, 1)(this->iota({2, 3, 4})).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(Flatten<T>(1)(strata::Tensor<T>::empty({2, 0, 4})).shape(), (Shape{2, 0}));
  // A 0-d tensor flattens to [1]; its dims wrap as for rank 1.
  EXPECT_EQ(Flatten<T>(0, -1)(strata::Tensor<T>({}, {5})).shape(), (Shape{1}));
  EXPECT_EQ(strata::nn::functional::flatten(strata::Tensor<T>({}, {5})).shape(), (Shape{1}));
}

TYPED_TEST(FlattenTest, ValuesInRowMajorOrderAndViews) {
  using T = TypeParam;
  const auto x = this->iota({2, 3, 4});
  const auto y = strata::nn::Flatten<T>()(x);
  EXPECT_TRUE(y.shares_storage_with(x));  // contiguous input: a view, like torch
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 12; ++i) EXPECT_EQ(y(n, i), T(n * 12 + i));
  // A permuted input cannot be viewed: a copy with the permuted order.
  const auto p = x.permute({0, 2, 1});
  const auto z = strata::nn::Flatten<T>()(p);
  EXPECT_EQ(z.shape(), (Shape{2, 12}));
  EXPECT_FALSE(z.shares_storage_with(x));
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 4; ++k)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(z(n, k * 3 + c), x(n, c, k));
  // start_dim == end_dim gives the input itself.
  EXPECT_TRUE(strata::nn::Flatten<T>(2, 2)(p).shares_storage_with(x));
}

// torch: IndexError: Dimension out of range (expected to be in range of [-1, 0], but got 1)
//        RuntimeError: flatten() has invalid args: start_dim cannot come after end_dim
TYPED_TEST(FlattenTest, Errors) {
  using T = TypeParam;
  EXPECT_THROW_WITH(strata::nn::Flatten<T>()(this->iota({2})), strata::Error,
                    "flatten: dimension out of range (expected to be in range of [-1, 0], but got 1)");
  EXPECT_THROW_WITH(strata::nn::Flatten<T>()(strata::Tensor<T>({}, {1})), strata::Error,
                    "expected to be in range of [-1, 0], but got 1");
  EXPECT_THROW_WITH(strata::nn::Flatten<T>(5)(this->iota({2, 3, 4})), strata::Error,
                    "expected to be in range of [-3, 2], but got 5");
  EXPECT_THROW_WITH(strata::nn::Flatten<T>(2, 1)(this->iota({2, 3, 4})), strata::Error,
                    "start_dim cannot come after end_dim");
  EXPECT_THROW_WITH(strata::nn::Flatten<T>()(strata::Tensor<T>()), strata::Error, "flatten: the input is undefined");
}

TYPED_TEST(FlattenTest, ModuleInterface) {
  strata::nn::Flatten<TypeParam> flat(2, -2);
  EXPECT_EQ(flat.start_dim(), 2);
  EXPECT_EQ(flat.end_dim(), -2);
  EXPECT_EQ(flat.num_parameters(), 0);
  EXPECT_EQ(flat.name(), "Flatten");
  std::ostringstream out;
  out << strata::nn::Flatten<TypeParam>() << ' ' << flat;
  EXPECT_EQ(out.str(), "strata::nn::Flatten(start_dim=1, end_dim=-1) strata::nn::Flatten(start_dim=2, end_dim=-2)");
}

}  // namespace
