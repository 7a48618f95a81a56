// forward is a const member function that may run on one layer from several
// threads at once (API.md): each call must own its temporaries (im2col
// workspace, Bilinear's outer products, Linear's transposed weight) and only
// read the layer. Here several std::threads call forward on one const layer
// at the same time, repeatedly, and every result must equal the one the
// layer gave on a single thread. The same binary is the whole ThreadSanitizer
// run (`cmake --workflow --preset tsan`), which reports any data race even
// when the results happen to agree.
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <strata/strata.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;
using strata::Tensor;
using namespace strata::nn;

constexpr int kThreads = 4;
constexpr int kRepeats = 3;

/// Runs `call` on kThreads threads started together, kRepeats times each, and
/// checks every result against `expected` (computed before, on one thread).
/// Results are compared on the main thread: GoogleTest itself is not built
/// with TSan, so no assertion runs on the workers.
template <typename T>
void expect_same_on_every_thread(const std::function<Tensor<T>()>& call, const Tensor<T>& expected) {
  std::vector<std::vector<Tensor<T>>> results(kThreads);
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();  // start together, to overlap the calls
      try {
        for (int r = 0; r < kRepeats; ++r) results[t].push_back(call());
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    ASSERT_EQ(results[t].size(), static_cast<std::size_t>(kRepeats)) << "thread " << t;
    for (const Tensor<T>& got : results[t]) {
      ASSERT_EQ(got.shape(), expected.shape());
      // Same inputs, same code path, same thread count: the same bits.
      EXPECT_EQ(strata::max_abs_diff(got, expected), T(0)) << "thread " << t;
    }
  }
}

template <typename T>
class ConcurrencyTest : public ::testing::Test {
 protected:
  strata::Generator gen{7};
};
TYPED_TEST_SUITE(ConcurrencyTest, strata_test::ScalarTypes);

TYPED_TEST(ConcurrencyTest, Linear) {
  using T = TypeParam;
  // One layer per kernel path: skinny (small K*N, many rows), few rows (GEMV-like), general GEMM.
  const Linear<T> skinny(8, 32), wide(96, 80), plain(20, 30, false);
  const Tensor<T> many_rows = Tensor<T>::randn({16, 64, 8}, this->gen);
  const Tensor<T> few_rows = Tensor<T>::randn({3, 96}, this->gen);
  const Tensor<T> rows = Tensor<T>::randn({70, 20}, this->gen);
  expect_same_on_every_thread<T>([&] { return skinny(many_rows); }, skinny(many_rows));
  expect_same_on_every_thread<T>([&] { return wide(few_rows); }, wide(few_rows));
  expect_same_on_every_thread<T>([&] { return plain(rows); }, plain(rows));
  // A strided view as input (the kernel reads its rows in place).
  const Tensor<T> view = Tensor<T>::randn({40, 30}, this->gen).narrow(1, 5, 20);
  expect_same_on_every_thread<T>([&] { return plain(view); }, plain(view));
  expect_same_on_every_thread<T>([&] { return functional::linear(rows, plain.weight(), plain.bias()); }, plain(rows));
}

TYPED_TEST(ConcurrencyTest, Conv1dEveryPaddingModeAndGroups) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::randn({3, 6, 29}, this->gen);
  for (PaddingMode mode : {kZeros, kReflect, kReplicate, kCircular}) {
    SCOPED_TRACE(strata::nn::padding_mode_name(mode));
    const Conv1d<T> conv(Conv1dOptions(6, 4, 3).stride(2).padding(2).groups(2).padding_mode(mode));
    expect_same_on_every_thread<T>([&] { return conv(x); }, conv(x));
  }
  const Conv1d<T> same(Conv1dOptions(6, 6, 4).padding(kSame).dilation(2).groups(6));  // depthwise
  expect_same_on_every_thread<T>([&] { return same(x); }, same(x));
  const Conv1d<T> pointwise(Conv1dOptions(6, 8, 1));  // no im2col: reads the input in place
  expect_same_on_every_thread<T>([&] { return pointwise(x); }, pointwise(x));
}

TYPED_TEST(ConcurrencyTest, Conv2dEveryPaddingModeAndGroups) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::randn({2, 4, 11, 13}, this->gen);
  for (PaddingMode mode : {kZeros, kReflect, kReplicate, kCircular}) {
    SCOPED_TRACE(strata::nn::padding_mode_name(mode));
    const Conv2d<T> conv(
        Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({2, 1}).dilation({1, 2}).groups(2).padding_mode(mode));
    expect_same_on_every_thread<T>([&] { return conv(x); }, conv(x));
  }
  const Conv2d<T> same(Conv2dOptions(4, 8, 3).padding(kSame).groups(4));
  expect_same_on_every_thread<T>([&] { return same(x); }, same(x));
  // Unbatched and non-contiguous inputs, and the functional form.
  const Conv2d<T> conv(Conv2dOptions(4, 5, 3).padding(1));
  const Tensor<T> unbatched = Tensor<T>::randn({4, 9, 7}, this->gen);
  const Tensor<T> permuted = Tensor<T>::randn({2, 9, 7, 4}, this->gen).permute({0, 3, 1, 2});
  expect_same_on_every_thread<T>([&] { return conv(unbatched); }, conv(unbatched));
  expect_same_on_every_thread<T>([&] { return conv(permuted); }, conv(permuted));
  expect_same_on_every_thread<T>([&] { return functional::conv2d(x, conv.weight(), conv.bias(), 1, 1); }, conv(x));
}

TYPED_TEST(ConcurrencyTest, Bilinear) {
  using T = TypeParam;
  const Bilinear<T> bilinear(20, 30, 40);
  const Tensor<T> x1 = Tensor<T>::randn({130, 20}, this->gen), x2 = Tensor<T>::randn({130, 30}, this->gen);
  expect_same_on_every_thread<T>([&] { return bilinear(x1, x2); }, bilinear(x1, x2));
  const Tensor<T> row1 = Tensor<T>::randn({20}, this->gen), row2 = Tensor<T>::randn({30}, this->gen);
  expect_same_on_every_thread<T>([&] { return bilinear(row1, row2); }, bilinear(row1, row2));
}

TYPED_TEST(ConcurrencyTest, SequentialOfEveryLayerKind) {
  using T = TypeParam;
  const Sequential<T> net(Conv1d<T>(Conv1dOptions(2, 8, 5).padding(2).padding_mode(kReflect)), ReLU<T>(),
                          Conv1d<T>(Conv1dOptions(8, 8, 3).stride(2).groups(4)), Identity<T>(), Flatten<T>(),
                          Linear<T>(8 * 15, 10), ReLU<T>(), Linear<T>(10, 3));
  const Tensor<T> x = Tensor<T>::randn({6, 2, 32}, this->gen);
  expect_same_on_every_thread<T>([&] { return net(x); }, net(x));
}

/// A user module: a residual block over registered children, forward const.
template <typename T>
struct ConcurrentBlock : Module<T> {
  std::shared_ptr<Conv2d<T>> conv;
  std::shared_ptr<Sequential<T>> tail;
  ConcurrentBlock() {
    conv = this->register_module("conv", Conv2d<T>(Conv2dOptions(3, 3, 3).padding(1)));
    tail = this->register_module("tail", Sequential<T>(ReLU<T>(), Conv2d<T>(3, 3, 1)));
  }
  Tensor<T> forward(const Tensor<T>& x) const { return tail->forward(conv->forward(x)) + x; }
};

TYPED_TEST(ConcurrencyTest, UserModuleAndLazyLinearInASequential) {
  using T = TypeParam;
  const Sequential<T> net(ConcurrentBlock<T>(), Flatten<T>(), LazyLinear<T>(4));
  const Tensor<T> x = Tensor<T>::randn({2, 3, 5, 5}, this->gen);
  // The first forwards race to initialise the LazyLinear: one of them does, under its lock.
  std::vector<std::thread> first;
  for (int t = 0; t < kThreads; ++t) first.emplace_back([&] { (void)net(x); });
  for (std::thread& thread : first) thread.join();
  expect_same_on_every_thread<T>([&] { return net(x); }, net(x));
}

TYPED_TEST(ConcurrencyTest, LayersBuiltOnSeveralThreadsAtOnce) {
  // Construction draws from the default generator under its lock: layers
  // built at the same time get distinct, valid parameters and no race.
  using T = TypeParam;
  std::vector<std::thread> threads;
  std::vector<Tensor<T>> weights(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&weights, t] {
      const Linear<T> fc(16, 16);
      const Conv2d<T> conv(Conv2dOptions(2, 3, 3));
      weights[t] = fc.weight().clone();
      (void)conv;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int a = 0; a < kThreads; ++a) {
    EXPECT_LT(strata::max_abs_diff(weights[a], Tensor<T>::zeros({16, 16})), T(0.25) + T(1e-6));  // U(-1/4, 1/4)
    for (int b = a + 1; b < kThreads; ++b) EXPECT_GT(strata::max_abs_diff(weights[a], weights[b]), T(0));
  }
}

}  // namespace
