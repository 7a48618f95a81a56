// Layout never changes a result, and no output overwrites what it reads:
//  - every layer and functional form gives, on a non-contiguous input (a
//    permuted, narrowed or strided view), exactly what it gives on the
//    contiguous copy of that input; non-contiguous weights and biases too;
//  - an output never shares storage with an input or a parameter (except
//    where torch's own semantics say so: Identity returns its input, Flatten
//    a view when it can), and an input that is also a parameter (or both
//    inputs at once) gives the result of independent copies;
//  - copy_ and load_state_dict read their whole source before writing, so
//    overlapping source and destination behave like a copy through a buffer.
#include <memory>
#include <vector>

#include <strata/strata.hpp>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using strata_test::Layout;
using namespace strata::nn;
namespace F = strata::nn::functional;

const std::vector<Layout> kViews = {Layout::kPermuted, Layout::kNarrowed, Layout::kStrided};

template <typename T>
class LayoutTest : public ::testing::Test {
 protected:
  strata::Generator gen{23};

  /// f(view) == f(contiguous copy of view), bit for bit, for every layout
  /// that is non-contiguous for this shape (a 1-D permutation or narrow is not).
  template <typename Fn>
  void expect_layout_free(const Shape& shape, Fn&& f) {
    int views = 0;
    for (Layout layout : kViews) {
      SCOPED_TRACE(strata_test::layout_name(layout));
      const Tensor<T> x = strata_test::random_input<T>(shape, layout, gen);
      if (x.is_contiguous()) continue;
      ++views;
      const Tensor<T> y = f(x), expected = f(x.contiguous());
      ASSERT_EQ(y.shape(), expected.shape());
      EXPECT_EQ(strata::max_abs_diff(y, expected), T(0));
    }
    EXPECT_GE(views, 1) << shape;
  }
};
TYPED_TEST_SUITE(LayoutTest, strata_test::ScalarTypes);

TYPED_TEST(LayoutTest, LinearEveryKernelPath) {
  using T = TypeParam;
  // skinny (many rows, small K*N), few rows, general GEMM; 1-D, 2-D and 3-D inputs.
  const Linear<T> skinny(8, 32), wide(96, 80), plain(20, 30, false);
  this->expect_layout_free({64, 8}, [&](const Tensor<T>& x) { return skinny(x); });
  this->expect_layout_free({4, 16, 8}, [&](const Tensor<T>& x) { return skinny(x); });
  this->expect_layout_free({3, 96}, [&](const Tensor<T>& x) { return wide(x); });
  this->expect_layout_free({40, 20}, [&](const Tensor<T>& x) { return plain(x); });
  this->expect_layout_free({20}, [&](const Tensor<T>& x) { return plain(x); });
  this->expect_layout_free({5, 7, 20}, [&](const Tensor<T>& x) { return F::linear(x, plain.weight()); });
  LazyLinear<T> lazy(6);
  this->expect_layout_free({9, 11}, [&](const Tensor<T>& x) { return lazy(x); });
}

TYPED_TEST(LayoutTest, BilinearBothInputs) {
  using T = TypeParam;
  const Bilinear<T> bl(5, 4, 3);
  const Tensor<T> other = Tensor<T>::randn({6, 4}, this->gen);
  this->expect_layout_free({6, 5}, [&](const Tensor<T>& x) { return bl(x, other); });
  const Tensor<T> first = Tensor<T>::randn({2, 3, 5}, this->gen);
  this->expect_layout_free({2, 3, 4}, [&](const Tensor<T>& x) { return bl(first, x); });
  this->expect_layout_free({6, 5}, [&](const Tensor<T>& x) { return F::bilinear(x, other, bl.weight(), bl.bias()); });
}

TYPED_TEST(LayoutTest, ConvEveryPathAndMode) {
  using T = TypeParam;
  for (PaddingMode mode : {kZeros, kReflect, kReplicate, kCircular}) {
    SCOPED_TRACE(padding_mode_name(mode));
    const Conv1d<T> c1(Conv1dOptions(4, 6, 3).stride(2).padding(2).groups(2).padding_mode(mode));
    this->expect_layout_free({3, 4, 17}, [&](const Tensor<T>& x) { return c1(x); });
    this->expect_layout_free({4, 17}, [&](const Tensor<T>& x) { return c1(x); });  // unbatched
    const Conv2d<T> c2(Conv2dOptions(4, 6, {3, 2}).padding({1, 2}).dilation({2, 1}).padding_mode(mode));
    this->expect_layout_free({2, 4, 9, 8}, [&](const Tensor<T>& x) { return c2(x); });
  }
  const Conv2d<T> depthwise(Conv2dOptions(4, 8, 3).padding(kSame).groups(4));
  this->expect_layout_free({2, 4, 7, 9}, [&](const Tensor<T>& x) { return depthwise(x); });
  const Conv2d<T> pointwise(Conv2dOptions(4, 5, 1));
  this->expect_layout_free({2, 4, 6, 6}, [&](const Tensor<T>& x) { return pointwise(x); });
  this->expect_layout_free({2, 4, 9, 8},
                           [&](const Tensor<T>& x) { return F::conv2d(x, depthwise.weight(), {}, 1, 1, 1, 4); });
  this->expect_layout_free({3, 4, 17}, [&](const Tensor<T>& x) { return F::conv1d(x, Tensor<T>::ones({2, 4, 3})); });
}

TYPED_TEST(LayoutTest, ContainersActivationsAndConversions) {
  using T = TypeParam;
  const Sequential<T> net(Conv1d<T>(Conv1dOptions(3, 4, 3).padding(1)), ReLU<T>(), Flatten<T>(), Linear<T>(4 * 10, 2));
  this->expect_layout_free({5, 3, 10}, [&](const Tensor<T>& x) { return net(x); });
  this->expect_layout_free({4, 6, 5}, [](const Tensor<T>& x) { return F::relu(x); });
  this->expect_layout_free({4, 6, 5}, [](const Tensor<T>& x) { return F::flatten(x, 1); });
  const Linear<T> fc(3, 4);
  const Conv1d<T> conv = to_conv1d(fc);
  this->expect_layout_free({2, 3, 7}, [&](const Tensor<T>& x) { return conv(x); });
}

TYPED_TEST(LayoutTest, NonContiguousParameters) {
  // weight() and bias() may be set to views; results equal contiguous parameters.
  using T = TypeParam;
  Linear<T> fc(6, 5), fc_view(6, 5);
  fc_view.weight() = fc.weight().transpose(0, 1).contiguous().transpose(0, 1);            // same values, column-major
  fc_view.bias() = Tensor<T>::zeros({5, 2}).narrow(1, 0, 1).squeeze(1).copy_(fc.bias());  // stride 2
  ASSERT_FALSE(fc_view.weight().is_contiguous());
  ASSERT_FALSE(fc_view.bias().is_contiguous());
  const Tensor<T> x = Tensor<T>::randn({7, 6}, this->gen);
  EXPECT_EQ(strata::max_abs_diff(fc_view(x), fc(x)), T(0));

  Conv2d<T> conv(Conv2dOptions(2, 3, 3).padding(1)), conv_view(Conv2dOptions(2, 3, 3).padding(1));
  conv_view.weight() = conv.weight().permute({3, 2, 1, 0}).contiguous().permute({3, 2, 1, 0});
  ASSERT_FALSE(conv_view.weight().is_contiguous());
  conv_view.bias().copy_(conv.bias());
  const Tensor<T> image = Tensor<T>::randn({2, 2, 5, 6}, this->gen);
  EXPECT_EQ(strata::max_abs_diff(conv_view(image), conv(image)), T(0));

  Bilinear<T> bl(3, 2, 4), bl_view(3, 2, 4);
  bl_view.weight() = bl.weight().permute({2, 1, 0}).contiguous().permute({2, 1, 0});
  bl_view.bias().copy_(bl.bias());
  const Tensor<T> a = Tensor<T>::randn({5, 3}, this->gen), b = Tensor<T>::randn({5, 2}, this->gen);
  EXPECT_EQ(strata::max_abs_diff(bl_view(a, b), bl(a, b)), T(0));
}

// ---- aliasing -------------------------------------------------------------

TYPED_TEST(LayoutTest, OutputsNeverShareStorageWithInputsOrParameters) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::randn({4, 3}, this->gen);
  const Linear<T> fc(3, 3);
  const Tensor<T> y = fc(x);
  EXPECT_FALSE(y.shares_storage_with(x));
  EXPECT_FALSE(y.shares_storage_with(fc.weight()));
  EXPECT_FALSE(y.shares_storage_with(fc.bias()));
  const Tensor<T> r = F::relu(x);
  EXPECT_FALSE(r.shares_storage_with(x));
  const Tensor<T> x_before = x.clone();
  Tensor<T>(r).fill_(T(7));  // writing the output leaves the input alone
  EXPECT_EQ(strata::max_abs_diff(x, x_before), T(0));
  const Conv1d<T> conv(Conv1dOptions(3, 3, 1));  // pointwise: the kernel reads the input in place
  const Tensor<T> z = conv(x.unsqueeze(0).transpose(1, 2).contiguous());
  EXPECT_FALSE(z.shares_storage_with(conv.weight()));
  // torch's semantics, kept on purpose: Identity returns its input, Flatten a view when it can.
  EXPECT_TRUE(Identity<T>()(x).shares_storage_with(x));
  EXPECT_TRUE(Flatten<T>(0)(x).shares_storage_with(x));
}

TYPED_TEST(LayoutTest, InputThatIsAlsoAParameterOrTheOtherInput) {
  using T = TypeParam;
  // Linear on its own (square) weight, and the functional with input == weight.
  const Linear<T> fc(4, 4);
  const Tensor<T> w_copy = fc.weight().clone();
  Linear<T> twin(4, 4);
  twin.weight().copy_(fc.weight());
  twin.bias().copy_(fc.bias());
  EXPECT_EQ(strata::max_abs_diff(fc(fc.weight()), twin(w_copy)), T(0));
  EXPECT_EQ(strata::max_abs_diff(F::linear(w_copy, w_copy), F::linear(w_copy.clone(), w_copy.clone())), T(0));
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), w_copy), T(0));  // the parameter was only read
  // Bilinear with the same tensor as both inputs.
  const Bilinear<T> bl(3, 3, 2);
  const Tensor<T> a = Tensor<T>::randn({5, 3}, this->gen);
  EXPECT_EQ(strata::max_abs_diff(bl(a, a), bl(a.clone(), a.clone())), T(0));
  // A convolution whose input is a view of its own weight's storage.
  const Tensor<T> w = Tensor<T>::randn({4, 2, 3}, this->gen);
  const Tensor<T> x = w.reshape({2, 2, 6});
  ASSERT_TRUE(x.shares_storage_with(w));
  EXPECT_EQ(strata::max_abs_diff(F::conv1d(x, w, {}, 1, 1), F::conv1d(x.clone(), w.clone(), {}, 1, 1)), T(0));
  // The same layer twice in a Sequential: fc(fc(x)).
  auto shared = std::make_shared<Linear<T>>(4, 4);
  const Sequential<T> twice(shared, shared);
  const Tensor<T> in = Tensor<T>::randn({3, 4}, this->gen);
  EXPECT_EQ(strata::max_abs_diff(twice(in), (*shared)((*shared)(in))), T(0));
  EXPECT_EQ(twice.parameters().size(), 4u);  // as torch's state_dict lists both positions
}

TYPED_TEST(LayoutTest, OverlappingCopiesReadTheWholeSourceFirst) {
  using T = TypeParam;
  // Shift right by one within one tensor: memmove semantics.
  Tensor<T> t = Tensor<T>::arange(6);
  t.narrow(0, 1, 5).copy_(t.narrow(0, 0, 5));
  EXPECT_EQ(strata::max_abs_diff(t, Tensor<T>({6}, {0, 0, 1, 2, 3, 4})), T(0));
  // A matrix replaced by its own transpose (every element read before any is written).
  Tensor<T> m = Tensor<T>::arange(9).reshape({3, 3});
  m.copy_(m.transpose(0, 1));
  EXPECT_EQ(strata::max_abs_diff(m, Tensor<T>({3, 3}, {0, 3, 6, 1, 4, 7, 2, 5, 8})), T(0));
  // load_state_dict from views of the module's own parameters.
  Linear<T> fc(3, 3);
  const Tensor<T> expected = fc.weight().transpose(0, 1).clone();
  fc.load_state_dict({{"weight", fc.weight().transpose(0, 1)}, {"bias", fc.bias()}});
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), expected), T(0));
  fc.load_state_dict(fc.state_dict());  // its own state: a no-op
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), expected), T(0));
}

}  // namespace
