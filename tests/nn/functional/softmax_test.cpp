// Tests for strata/nn/functional/softmax.hpp: softmax and log_softmax against
// PyTorch's golden outputs and a long-double reference over every dim of
// several ranks, large inputs, torch's NaN / inf rules, strided inputs, messages.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <strata/nn/functional/softmax.hpp>

#include "activation_reference.hpp"
#include "test_util.hpp"

namespace {

namespace F = strata::nn::functional;
namespace ref = strata_test::activation;
using strata::index_t;
using strata::Shape;
using strata::Tensor;

template <typename T>
class SoftmaxFunctionalTest : public ::testing::Test {};
TYPED_TEST_SUITE(SoftmaxFunctionalTest, strata_test::ScalarTypes);

/// The long-double reference of softmax / log_softmax of x along dim, element by element.
template <typename T>
std::vector<long double> softmax_fn_reference(const Tensor<T>& input, index_t dim, bool log) {
  const Tensor<T> x = input.contiguous();
  const index_t rank = x.dim();
  const std::size_t d = static_cast<std::size_t>(dim < 0 ? dim + std::max<index_t>(rank, 1) : dim);
  index_t outer = 1, size = rank == 0 ? 1 : x.shape()[d], inner = 1;
  for (std::size_t k = 0; k < x.shape().size(); ++k) {
    if (k < d) outer *= x.shape()[k];
    if (k > d) inner *= x.shape()[k];
  }
  std::vector<long double> out(static_cast<std::size_t>(x.numel()));
  for (index_t o = 0; o < outer; ++o)
    for (index_t i = 0; i < inner; ++i) {
      std::vector<long double> slice;
      for (index_t s = 0; s < size; ++s) slice.push_back(x.data()[(o * size + s) * inner + i]);
      const auto r = ref::ref_softmax(slice, log);
      for (index_t s = 0; s < size; ++s) out[(o * size + s) * inner + i] = r[s];
    }
  return out;
}

// Error scale: ulp of the value for softmax. For log_softmax the rounding of
// its terms, (x - max) - log(sum): u |x - max| + u log(sum) <= 2 u |value| (as
// x <= max, |value| = |x - max| + log sum), plus the sum's own rounding,
// which log turns into an absolute error of ~u (sum >= 1): torch's values
// next to 0 (the largest input of a slice) differ from the exact ones by that.
// Against the exact value, softmax's scale also grows with |x - max|: exp turns
// the rounding of x - max into a relative error of u |x - max| (torch's too).
template <typename T>
long double softmax_fn_scale(bool log, long double value, long double distance_to_max = 0) {
  if (!log) return ref::ulp<T>(value) * std::max(1.0L, distance_to_max);
  return std::max(ref::ulp<T>(value), ref::unit_roundoff<T>() * (1 + 2 * std::fabs(value)));
}

// Against torch: both compute exp(x - max) to ~1 ulp and sum in different
// orders (torch: one packet accumulator per row or lane, strata: two), so
// softmax may differ by the sum's rounding, ~ a few ulps for these lengths.
constexpr double kSoftmaxFnTorchTolerance = 6;
// Against the exact value: exp's 1 ulp, the sum's rounding and the product with 1 / sum.
constexpr double kSoftmaxFnExactTolerance = 6;

TYPED_TEST(SoftmaxFunctionalTest, MatchesPyTorchGolden) {
  using T = TypeParam;
  long double worst[2] = {0, 0};
  int cases = 0;
  for (const char* prefix : {"softmax_", "log_softmax_"}) {
    for (const auto& c : ref::golden_cases(prefix)) {
      if (!ref::is_dtype<T>(c)) continue;
      ++cases;
      const bool log = c.layer == "log_softmax";
      const index_t dim = c.ints("dim")[0];
      const Tensor<T> x = ref::tensor_of<T>(c.tensor("input"));
      const Tensor<T> want = ref::tensor_of<T>(c.tensor("output"));
      const Tensor<T> got = log ? F::log_softmax(x, dim) : F::softmax(x, dim);
      ASSERT_EQ(got.shape(), want.shape()) << c.name;
      int failures = 0;
      for (index_t i = 0; i < got.numel(); ++i) {
        const T g = got.data()[i], w = want.data()[i];
        const long double d = ref::distance(g, w, softmax_fn_scale<T>(log, w));
        worst[log] = std::max(worst[log], d);
        if (!(d <= kSoftmaxFnTorchTolerance) && failures++ < 5)
          ADD_FAILURE() << c.name << " [" << i << "]: " << g << " vs torch " << w << " (" << double(d) << " units)";
      }
    }
  }
  EXPECT_GT(cases, 20);
  std::cout << "  " << strata_test::type_name<T>() << " softmax: worst " << double(worst[0])
            << " ulp from torch; log_softmax: " << double(worst[1]) << " units\n";
}

TYPED_TEST(SoftmaxFunctionalTest, MatchesLongDoubleReferenceOverShapesAndDims) {
  using T = TypeParam;
  strata::Generator gen(11);
  // Row and inner lengths around the packet widths (4, 8, 16 floats), partial packets included.
  const std::vector<Shape> shapes{{1}, {5}, {33}, {3, 1}, {2, 17}, {4, 3, 5}, {2, 7, 19}, {3, 2, 4, 6}, {2, 40, 3}};
  long double worst = 0;
  for (const Shape& shape : shapes) {
    for (T scale : {T(1), T(30), T(2000)}) {
      const Tensor<T> x = Tensor<T>::randn(shape, gen) * scale;
      for (index_t dim = -x.dim(); dim < x.dim(); ++dim) {
        for (bool log : {false, true}) {
          const Tensor<T> y = log ? F::log_softmax(x, dim) : F::softmax(x, dim);
          const auto exact = softmax_fn_reference(x, dim, log);
          // |x - max| = -log_softmax(x) (exactly, in long double).
          const auto distance_to_max = softmax_fn_reference(x, dim, true);
          for (index_t i = 0; i < y.numel(); ++i) {
            const long double d = ref::distance(y.data()[i], exact[i],
                                                softmax_fn_scale<T>(log, exact[i], -distance_to_max[i]));
            worst = std::max(worst, d);
            ASSERT_LE(d, kSoftmaxFnExactTolerance) << "shape " << shape << " dim " << dim << (log ? " log" : "") << " ["
                                                   << i << "] " << y.data()[i] << " vs " << double(exact[i]);
          }
        }
      }
    }
  }
  std::cout << "  " << strata_test::type_name<T>() << " worst " << double(worst) << " units from long double\n";
}

// torch.softmax(torch.tensor([[1000., -1000., 0.]]), 1) == [[1, 0, 0]]; log_softmax == [[0, -2000, -1000]].
TYPED_TEST(SoftmaxFunctionalTest, StableOnLargeInputs) {
  using T = TypeParam;
  const Tensor<T> x({2, 3}, {1000, -1000, 0, -1000, -1000, -1001});
  const Tensor<T> s = F::softmax(x, 1), l = F::log_softmax(x, -1);
  EXPECT_EQ(s(0, 0), T(1));
  EXPECT_EQ(s(0, 1), T(0));
  EXPECT_EQ(l(0, 0), T(0));
  EXPECT_EQ(l(0, 1), T(-2000));
  EXPECT_EQ(l(0, 2), T(-1000));
  EXPECT_NEAR(s(1, 0), T(1) / (2 + std::exp(T(-1))), 1e-6);
  EXPECT_NEAR(l(1, 2), T(-1) - std::log(2 + std::exp(T(-1))), 1e-6);
}

// torch 1.13: a slice with NaN or +inf, or only -inf, is NaN; -inf among finite values gives 0 / -inf.
TYPED_TEST(SoftmaxFunctionalTest, NaNAndInfinitiesLikeTorch) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const Tensor<T> x({4, 3}, {1, nan, 2, 1, inf, 2, -inf, -inf, -inf, 1, -inf, 1});
  for (index_t dim : {1, 0}) {
    const Tensor<T> input = dim == 1 ? x : x.transpose(0, 1).contiguous();
    for (bool log : {false, true}) {
      Tensor<T> y = log ? F::log_softmax(input, dim) : F::softmax(input, dim);
      if (dim == 0) y = y.transpose(0, 1).contiguous();
      for (index_t j = 0; j < 3; ++j) {
        EXPECT_TRUE(std::isnan(y(0, j)));
        EXPECT_TRUE(std::isnan(y(1, j)));
        EXPECT_TRUE(std::isnan(y(2, j)));
      }
      EXPECT_EQ(y(3, 1), log ? -inf : T(0));
      EXPECT_EQ(y(3, 0), log ? -std::log(T(2)) : T(0.5));
    }
  }
}

TYPED_TEST(SoftmaxFunctionalTest, StridedZeroDimAndEmpty) {
  using T = TypeParam;
  strata::Generator gen(5);
  const Tensor<T> base = Tensor<T>::randn({6, 5, 7}, gen);
  const Tensor<T> view = base.permute({2, 0, 1});  // [7, 6, 5], not contiguous
  ASSERT_FALSE(view.is_contiguous());
  for (index_t dim = 0; dim < 3; ++dim) {
    const Tensor<T> y = F::softmax(view, dim);
    EXPECT_TRUE(y.is_contiguous());
    EXPECT_TRUE(strata_test::same_bits(y, F::softmax(view.contiguous(), dim)));
    EXPECT_TRUE(strata_test::same_bits(F::log_softmax(view, dim), F::log_softmax(view.contiguous(), dim)));
  }
  // torch.softmax(torch.tensor(5.), 0) == 1, log_softmax == 0; dims of a 0-d tensor are [-1, 0].
  EXPECT_EQ(F::softmax(Tensor<T>({}, {5}), 0).item(), T(1));
  EXPECT_EQ(F::log_softmax(Tensor<T>({}, {5}), -1).item(), T(0));
  EXPECT_EQ(F::softmax(Tensor<T>::empty({0, 3}), 1).shape(), (Shape{0, 3}));
  EXPECT_EQ(F::log_softmax(Tensor<T>::empty({2, 0}), 1).shape(), (Shape{2, 0}));
  const Tensor<T> x = Tensor<T>::ones({2, 3});
  EXPECT_FALSE(F::softmax(x, 0).shares_storage_with(x));
}

// torch: IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)
TYPED_TEST(SoftmaxFunctionalTest, Messages) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::ones({2, 3});
  EXPECT_THROW_WITH(F::softmax(x, 2), strata::Error,
                    "softmax: dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_WITH(F::log_softmax(x, -3), strata::Error,
                    "log_softmax: dimension out of range (expected to be in range of [-2, 1], but got -3)");
  EXPECT_THROW_WITH(F::softmax(Tensor<T>({}, {1}), 1), strata::Error, "expected to be in range of [-1, 0], but got 1");
  EXPECT_THROW_WITH(F::softmax(Tensor<T>(), 0), strata::Error, "softmax: the input is undefined");
  EXPECT_THROW_WITH(F::log_softmax(Tensor<T>(), 0), strata::Error, "log_softmax: the input is undefined");
}

}  // namespace
