// Tests for strata/core/arithmetic.hpp: + - * / with broadcasting, scalars on either side, the in-place
// forms (also when the operand overlaps the target), every error message, and a naive reference over a
// grid of shapes, broadcast patterns and strides (one thread and two).
#include <strata/core/arithmetic.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

template <typename T>
class ArithmeticTest : public ::testing::Test {};
TYPED_TEST_SUITE(ArithmeticTest, strata_test::ScalarTypes);

/// A tensor of `shape` with values drawn from gen, laid out as asked: 0 contiguous, 1 dims reversed
/// (transposed storage), 2 the last dim narrowed out of a wider one (gaps), 3 the first two dims swapped.
template <typename T>
Tensor<T> arith_layout(const Shape& shape, int layout, strata::Generator& gen) {
  const std::size_t rank = shape.size();
  if (rank == 0 || layout == 0) return Tensor<T>::randn(shape, gen);
  std::vector<index_t> sizes = shape.vec();
  if (layout == 1 || (layout == 3 && rank >= 2)) {
    std::vector<index_t> perm(rank);
    for (std::size_t i = 0; i < rank; ++i) perm[i] = static_cast<index_t>(i);
    if (layout == 1) {
      std::reverse(perm.begin(), perm.end());
    } else {
      std::swap(perm[0], perm[1]);
    }
    std::vector<index_t> stored(rank);
    for (std::size_t i = 0; i < rank; ++i) stored[i] = sizes[static_cast<std::size_t>(perm[i])];
    // perm is its own inverse for a reversal and a swap.
    return Tensor<T>::randn(Shape(stored), gen).permute(perm);
  }
  sizes.back() += 3;
  return Tensor<T>::randn(Shape(sizes), gen).narrow(-1, 1, shape.back());
}

/// The broadcast result computed one element at a time through at().
template <typename T, typename F>
Tensor<T> arith_naive(const Tensor<T>& a, const Tensor<T>& b, F f) {
  const std::size_t rank = std::max(a.shape().size(), b.shape().size());
  std::vector<index_t> sizes(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const index_t sa = i + a.shape().size() >= rank ? a.shape()[i + a.shape().size() - rank] : 1;
    const index_t sb = i + b.shape().size() >= rank ? b.shape()[i + b.shape().size() - rank] : 1;
    sizes[i] = sa == 1 ? sb : sa;
  }
  Tensor<T> out = Tensor<T>::zeros(Shape(sizes));
  std::vector<index_t> idx(rank, 0), ia(a.shape().size()), ib(b.shape().size());
  for (index_t flat = 0; flat < out.numel(); ++flat) {
    index_t rest = flat;
    for (std::size_t d = rank; d-- > 0;) {
      idx[d] = rest % sizes[d];
      rest /= sizes[d];
    }
    for (std::size_t d = 0; d < ia.size(); ++d) ia[d] = a.shape()[d] == 1 ? 0 : idx[d + rank - ia.size()];
    for (std::size_t d = 0; d < ib.size(); ++d) ib[d] = b.shape()[d] == 1 ? 0 : idx[d + rank - ib.size()];
    out.at(idx) = f(a.at(ia), b.at(ib));
  }
  return out;
}

TYPED_TEST(ArithmeticTest, HandComputedBroadcasts) {
  using T = TypeParam;
  const Tensor<T> a({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor<T> row({3}, {10, 20, 30});
  const Tensor<T> col({2, 1}, {2, 4});
  EXPECT_TRUE(strata_test::same_bits(a + row, Tensor<T>({2, 3}, {11, 22, 33, 14, 25, 36})));
  EXPECT_TRUE(strata_test::same_bits(a - col, Tensor<T>({2, 3}, {-1, 0, 1, 0, 1, 2})));
  EXPECT_TRUE(strata_test::same_bits(col * row, Tensor<T>({2, 3}, {20, 40, 60, 40, 80, 120})));
  EXPECT_TRUE(strata_test::same_bits(row / col, Tensor<T>({2, 3}, {5, 10, 15, T(2.5), 5, T(7.5)})));
  EXPECT_TRUE(strata_test::same_bits(a.transpose(0, 1) * col.reshape({2}), Tensor<T>({3, 2}, {2, 16, 4, 20, 6, 24})));
  const Tensor<T> zero_d({}, {3});
  EXPECT_TRUE(strata_test::same_bits(zero_d * a, a * T(3)));
  EXPECT_EQ((zero_d + zero_d).shape(), Shape{});
  // A new contiguous tensor that shares nothing.
  const Tensor<T> sum = a + a;
  EXPECT_TRUE(sum.is_contiguous());
  EXPECT_FALSE(sum.shares_storage_with(a));
  // Empty broadcasts.
  EXPECT_EQ((Tensor<T>::zeros({0, 3}) + Tensor<T>::ones({1, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ((Tensor<T>::zeros({2, 0}) * T(2)).shape(), (Shape{2, 0}));
}

TYPED_TEST(ArithmeticTest, ScalarsOnEitherSideOfAnyArithmeticType) {
  using T = TypeParam;
  const Tensor<T> a({4}, {1, 2, 4, -8});
  EXPECT_TRUE(strata_test::same_bits(a + 1, Tensor<T>({4}, {2, 3, 5, -7})));
  EXPECT_TRUE(strata_test::same_bits(1.5 + a, Tensor<T>({4}, {T(2.5), T(3.5), T(5.5), T(-6.5)})));
  EXPECT_TRUE(strata_test::same_bits(a - 1, Tensor<T>({4}, {0, 1, 3, -9})));
  EXPECT_TRUE(strata_test::same_bits(10 - a, Tensor<T>({4}, {9, 8, 6, 18})));
  EXPECT_TRUE(strata_test::same_bits(a * 0.5f, Tensor<T>({4}, {T(0.5), 1, 2, -4})));
  EXPECT_TRUE(strata_test::same_bits(index_t{3} * a, Tensor<T>({4}, {3, 6, 12, -24})));
  EXPECT_TRUE(strata_test::same_bits(a / 2, Tensor<T>({4}, {T(0.5), 1, 2, -4})));
  EXPECT_TRUE(strata_test::same_bits(8 / a, Tensor<T>({4}, {8, 4, 2, -1})));
  // The scalar is converted to T first (0.1 as a float for a float tensor), as torch does.
  const T converted = static_cast<T>(0.1);
  EXPECT_EQ((a * 0.1)(1), T(2) * converted);
  // s / a is true division (libtorch's C++ operator), not s * reciprocal(a).
  const Tensor<T> thirds({3}, {3, 7, 11});
  const Tensor<T> q = T(0.1) / thirds;
  for (index_t i = 0; i < 3; ++i) EXPECT_EQ(q(i), T(0.1) / thirds(i));
  // IEEE special values.
  const Tensor<T> z({2}, {0, -1});
  const Tensor<T> inv = 1 / z;
  EXPECT_EQ(inv(0), std::numeric_limits<T>::infinity());
  EXPECT_EQ(inv(1), T(-1));
  EXPECT_TRUE(std::isnan((z / 0)(0)));
}

TYPED_TEST(ArithmeticTest, InPlaceFormsBroadcastIntoTheTargetAndWriteThroughViews) {
  using T = TypeParam;
  Tensor<T> a({2, 3}, {1, 2, 3, 4, 5, 6});
  const T* storage = a.data();
  Tensor<T>& same = (a += Tensor<T>({3}, {10, 20, 30}));
  EXPECT_EQ(&same, &a);
  EXPECT_EQ(a.data(), storage);
  EXPECT_TRUE(strata_test::same_bits(a, Tensor<T>({2, 3}, {11, 22, 33, 14, 25, 36})));
  a -= Tensor<T>({2, 1}, {1, 4});
  a *= Tensor<T>({}, {2});
  a /= Tensor<T>({1, 3}, {2, 1, 4});
  EXPECT_TRUE(strata_test::same_bits(a, Tensor<T>({2, 3}, {10, 42, 16, 10, 42, 16})));
  a += 1;
  a -= 1.0;
  a *= 3;
  a /= 2.0f;
  EXPECT_TRUE(strata_test::same_bits(a, Tensor<T>({2, 3}, {15, 63, 24, 15, 63, 24})));
  // Through a view: a temporary view works, and the base sees the writes.
  Tensor<T> base = Tensor<T>::zeros({3, 4});
  base.narrow(1, 1, 2) += 5;
  base.transpose(0, 1).narrow(0, 3, 1) -= Tensor<T>({1, 3}, {1, 2, 3});
  EXPECT_TRUE(strata_test::same_bits(base, Tensor<T>({3, 4}, {0, 5, 5, -1, 0, 5, 5, -2, 0, 5, 5, -3})));
  Tensor<T> empty = Tensor<T>::zeros({0, 2});
  empty += Tensor<T>::ones({2});
  empty *= 2;
  EXPECT_EQ(empty.shape(), (Shape{0, 2}));
}

/// in place `a op= b` must equal `a op= b.clone()` (torch on independent copies).
template <typename T>
void arith_expect_as_if_copied(Tensor<T> target, const std::function<Tensor<T>(Tensor<T>)>& operand, const char* what) {
  Tensor<T> expected = target.clone();
  expected += operand(expected).clone();
  expected *= operand(expected).clone() + 1;
  target += operand(target);
  target *= operand(target) + 1;
  EXPECT_TRUE(strata_test::same_bits(target, expected)) << what;
}

TYPED_TEST(ArithmeticTest, InPlaceWithAnOverlappingOperandReadsItAsACopy) {
  using T = TypeParam;
  strata::Generator gen(7);
  using Op = std::function<Tensor<T>(Tensor<T>)>;
  const std::vector<std::pair<const char*, Op>> operands = {
      {"itself", [](Tensor<T> t) { return t; }},
      {"its transpose", [](Tensor<T> t) { return t.transpose(0, 1); }},
      {"its first row, broadcast", [](Tensor<T> t) { return t.narrow(0, 0, 1); }},
      {"its last column, broadcast", [](Tensor<T> t) { return t.narrow(1, 4, 1); }},
      {"its reversed permutation",
       [](Tensor<T> t) {
         return t.permute({1, 0});
       }},
  };
  for (const auto& [what, op] : operands) arith_expect_as_if_copied<T>(Tensor<T>::randn({5, 5}, gen), op, what);
  // Shifted windows of one storage: a[:, 1:4] += a[:, 0:3] and the reverse.
  for (int shift : {1, -1}) {
    Tensor<T> x = Tensor<T>::randn({4, 6}, gen);
    const Tensor<T> copy = x.clone();
    const index_t dst = shift > 0 ? 1 : 0, src = shift > 0 ? 0 : 1;
    x.narrow(1, dst, 4) += x.narrow(1, src, 4);
    const Tensor<T> want = copy.narrow(1, dst, 4) + copy.narrow(1, src, 4);
    EXPECT_TRUE(strata_test::same_bits(x.narrow(1, dst, 4), want)) << "shift " << shift;
  }
  // Disjoint views of one storage (chunks) need no copy and get none wrong.
  Tensor<T> y = Tensor<T>::randn({2, 8}, gen);
  const Tensor<T> y0 = y.clone();
  auto halves = y.chunk(2, 1);
  halves[0] *= halves[1];
  EXPECT_TRUE(strata_test::same_bits(y.narrow(1, 0, 4), y0.narrow(1, 0, 4) * y0.narrow(1, 4, 4)));
  EXPECT_TRUE(strata_test::same_bits(y.narrow(1, 4, 4), y0.narrow(1, 4, 4)));
}

TYPED_TEST(ArithmeticTest, ErrorsNameTheOpAndBothShapes) {
  using T = TypeParam;
  const Tensor<T> a = Tensor<T>::ones({2, 3}), b = Tensor<T>::ones({2, 4}), u;
  // torch: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1
  EXPECT_THROW_WITH(a + b, strata::Error,
                    "add: the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 "
                    "(shapes [2, 3] and [2, 4])");
  EXPECT_THROW_WITH(a - b, strata::Error, "sub: the size of tensor a (3) must match the size of tensor b (4)");
  EXPECT_THROW_WITH(b * a, strata::Error, "mul: the size of tensor a (4) must match the size of tensor b (3)");
  EXPECT_THROW_WITH(a / b, strata::Error, "div: the size of tensor a (3)");
  EXPECT_THROW_WITH(a + u, strata::Error, "add: operand b is undefined");
  EXPECT_THROW_WITH(u * a, strata::Error, "mul: operand a is undefined");
  EXPECT_THROW_WITH(u / 2, strata::Error, "div: operand a is undefined");
  EXPECT_THROW_WITH(2 - u, strata::Error, "sub: operand b is undefined");
  // In place: torch's "output with shape [2, 1] doesn't match the broadcast shape [2, 3]".
  Tensor<T> col = Tensor<T>::ones({2, 1});
  EXPECT_THROW_WITH(col += a, strata::Error, "add_: output with shape [2, 1] doesn't match the broadcast shape [2, 3]");
  Tensor<T> target = a.clone();
  EXPECT_THROW_WITH(target *= Tensor<T>::ones({1, 2, 3}), strata::Error,
                    "mul_: output with shape [2, 3] doesn't match the broadcast shape [1, 2, 3]");
  EXPECT_THROW_WITH(target -= b, strata::Error,
                    "sub_: the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 "
                    "(shapes [2, 3] and [2, 4])");
  EXPECT_THROW_WITH(target /= u, strata::Error, "div_: operand b is undefined");
  Tensor<T> undefined;
  EXPECT_THROW_WITH(undefined += a, strata::Error, "add_: operand a is undefined");
  EXPECT_THROW_WITH(undefined *= 2, strata::Error, "mul_: operand a is undefined");
  EXPECT_TRUE(strata_test::same_bits(target, a));  // a failed op changes nothing
}

// Every op over shape pairs x layouts of each operand, against the naive reference, bit for bit.
TYPED_TEST(ArithmeticTest, MatchesNaiveReferenceOverShapesBroadcastsAndStrides) {
  using T = TypeParam;
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{2, 3}, {2, 3}},
      {{2, 3}, {3}},
      {{4, 1, 3}, {2, 1}},
      {{2, 3, 4, 5}, {1, 3, 1, 1}},
      {{2, 3, 4, 5}, {2, 3, 1, 1}},
      {{}, {2, 3}},
      {{3, 1}, {1, 4}},
      {{5, 1, 7}, {5, 6, 1}},
      {{1, 1, 9}, {4, 9}},
      {{300}, {300}},
      {{3, 2, 600}, {3, 1, 600}},
  };
  using Fn = std::function<T(T, T)>;
  const std::vector<Fn> fns = {[](T x, T y) { return x + y; }, [](T x, T y) { return x - y; },
                               [](T x, T y) { return x * y; }, [](T x, T y) { return x / y; }};
  strata::Generator gen(11);
  const int saved_threads = strata::get_num_threads();
  for (int threads : {1, 2}) {
    strata::set_num_threads(threads);
    for (const auto& [sa, sb] : pairs) {
      for (int la = 0; la < 4; ++la) {
        for (int lb = 0; lb < 4; ++lb) {
          const Tensor<T> a = arith_layout<T>(sa, la, gen), b = arith_layout<T>(sb, lb, gen);
          const Tensor<T> got[] = {a + b, a - b, a * b, a / b};
          for (std::size_t op = 0; op < 4; ++op) {
            ASSERT_TRUE(strata_test::same_bits(got[op], arith_naive(a, b, fns[op])))
                << "op " << op << " shapes " << sa << " " << sb << " layouts " << la << " " << lb;
          }
          // In place when b broadcasts to a's shape (a has any layout; a fresh copy each time).
          if (arith_naive(a, b, fns[0]).shape() == sa) {
            Tensor<T> base = arith_layout<T>(sa, la, gen);
            const Tensor<T> before = base.clone();
            base /= b;
            ASSERT_TRUE(strata_test::same_bits(base, arith_naive(before, b, fns[3]))) << sa << " " << sb;
          }
        }
      }
    }
  }
  strata::set_num_threads(saved_threads);
}

// The CNN shapes large enough to run on two threads: residual add, SE gate, per-channel bias.
TYPED_TEST(ArithmeticTest, LargeCnnCasesOnTwoThreads) {
  using T = TypeParam;
  strata::Generator gen(5);
  const int saved_threads = strata::get_num_threads();
  strata::set_num_threads(2);
  const Tensor<T> x = Tensor<T>::randn({2, 16, 40, 40}, gen), r = Tensor<T>::randn({2, 16, 40, 40}, gen);
  const Tensor<T> gate = Tensor<T>::rand({2, 16, 1, 1}, gen), bias = Tensor<T>::randn({1, 16, 1, 1}, gen);
  EXPECT_TRUE(strata_test::same_bits(x + r, arith_naive(x, r, [](T p, T q) { return p + q; })));
  EXPECT_TRUE(strata_test::same_bits(x * gate, arith_naive(x, gate, [](T p, T q) { return p * q; })));
  EXPECT_TRUE(strata_test::same_bits(x + bias, arith_naive(x, bias, [](T p, T q) { return p + q; })));
  const Tensor<T> xt = x.permute({0, 2, 3, 1});  // a channels-last view
  EXPECT_TRUE(strata_test::same_bits(xt - bias.permute({0, 2, 3, 1}),
                                     arith_naive(xt, bias.permute({0, 2, 3, 1}), [](T p, T q) { return p - q; })));
  Tensor<T> y = x.clone();
  y += r;
  y *= gate;
  EXPECT_TRUE(strata_test::same_bits(y, (x + r) * gate));
  strata::set_num_threads(saved_threads);
}

}  // namespace
