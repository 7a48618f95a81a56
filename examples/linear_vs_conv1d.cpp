// linear_vs_conv1d: a Linear applied at every position of a sequence is a
// Conv1d with kernel size 1: same parameters, same numbers.
//
//   PyTorch (the classic comparison):
//   x = torch.randn(128, 256, 8)            # batch 128, 256 positions, 8 features
//   fc = nn.Linear(8, 32)
//   conv = nn.Conv1d(8, 32, 1)
//   conv.weight = nn.Parameter(fc.weight.unsqueeze(2))   # [32, 8] -> [32, 8, 1]
//   conv.bias = fc.bias
//   y_fc = fc(x)                                       # [128, 256, 32]
//   y_conv = conv(x.permute(0, 2, 1)).permute(0, 2, 1)  # [128, 32, 256] -> [128, 256, 32]
//
// A Linear wants the features last, (N, L, C); a Conv1d wants the channels
// second, (N, C, L): a permute moves between the two. Both layers have
// 32*8 weights + 32 biases = 288 parameters. PyTorch users often measure the
// conv path several times (up to 10x) slower than the Linear; the last lines
// time both here. strata runs a kernel-1 convolution without im2col: the
// channel planes of a sample already form the matrix that the weight multiplies.
#include <strata/strata.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>

namespace {

// Best wall time of `rounds` calls of f, in milliseconds: the minimum is the
// least disturbed by whatever else the machine is doing.
template <typename F>
double best_ms(F&& f, int rounds) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const auto stop = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(stop - start).count());
  }
  return best;
}

}  // namespace

int main() {
  using strata::Tensor;
  strata::manual_seed(0);
  strata::Generator gen(42);

  strata::nn::Linear fc(8, 32);
  strata::nn::Conv1d conv(strata::nn::Conv1dOptions(8, 32, 1));
  // Share the parameters: unsqueeze is a view, so after these two lines the
  // conv reads the very same memory as the Linear (reference semantics, like torch).
  conv.weight() = fc.weight().unsqueeze(2);  // [32, 8] -> [32, 8, 1]
  conv.bias() = fc.bias();
  // (strata::nn::to_conv1d(fc) builds the same conv with copies of the parameters.)

  std::cout << fc << "\n" << conv << "\n";
  std::cout << "weights: Linear " << fc.weight().shape() << ", Conv1d " << conv.weight().shape()
            << ", shared: " << (conv.weight().shares_storage_with(fc.weight()) ? "yes" : "no") << "\n";
  std::cout << "parameters: Linear " << fc.num_parameters() << ", Conv1d " << conv.num_parameters() << "\n\n";

  const auto x = Tensor<float>::randn({128, 256, 8}, gen);  // (N, L, C): features last
  const auto x_ncl = x.permute({0, 2, 1}).contiguous();      // (N, C, L): channels second

  const auto y_fc = fc(x);                                      // [128, 256, 32]
  const auto y_conv = conv(x_ncl);                              // [128, 32, 256]
  const auto y_conv_nlc = y_conv.permute({0, 2, 1}).contiguous();  // back to [128, 256, 32]
  std::cout << "Linear on " << x.shape() << " -> " << y_fc.shape() << "\n";
  std::cout << "Conv1d on " << x_ncl.shape() << " -> " << y_conv.shape() << ", permuted back "
            << y_conv_nlc.shape() << "\n";

  // Each output is a sum of 8 products of numbers of size ~1, rounded to float
  // (about 6e-8 relative): two summation orders differ by far less than 1e-5.
  const float difference = strata::max_abs_diff(y_fc, y_conv_nlc);
  const float tolerance = 1e-5f;
  const bool equal = difference <= tolerance && y_conv_nlc.shape() == y_fc.shape();
  std::printf("max |difference| (Linear vs Conv1d, tolerance %.0e): %.3e -> %s\n\n", static_cast<double>(tolerance),
              static_cast<double>(difference), equal ? "equal" : "FAILED: they differ");

  // Time each layer on the layout it wants (the permutes are not timed).
  // Warm up first (first-touch page faults, thread start-up), then interleave
  // the two so that a slow phase of the machine hits both.
  // One thread, as in the classic comparison (and PERF.md): on a shared
  // machine, single-thread times are the ones that repeat from run to run.
  strata::set_num_threads(1);
  const int rounds = 30;
  fc(x);
  conv(x_ncl);
  double linear_ms = std::numeric_limits<double>::infinity();
  double conv_ms = std::numeric_limits<double>::infinity();
  for (int r = 0; r < 5; ++r) {
    linear_ms = std::min(linear_ms, best_ms([&] { fc(x); }, rounds));
    conv_ms = std::min(conv_ms, best_ms([&] { conv(x_ncl); }, rounds));
  }
  std::printf("time, best of %d runs, one thread:\n", 5 * rounds);
  std::printf("  Linear(8, 32)     on [128, 256, 8]: %.3f ms\n", linear_ms);
  std::printf("  Conv1d(8, 32, 1)  on [128, 8, 256]: %.3f ms   (%.2fx the Linear)\n", conv_ms, conv_ms / linear_ms);
  return equal && fc.num_parameters() == 288 && conv.num_parameters() == 288 ? 0 : 1;
}
