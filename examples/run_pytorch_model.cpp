// run_pytorch_model: run a network trained in PyTorch with strata.
//
//   PyTorch (tests/reference/train_cnn.py):      strata (this file):
//   model = nn.Sequential(                        strata::nn::Sequential<float> net(
//       nn.Conv1d(1, 8, 5), nn.ReLU(),                Conv1d<float>(Conv1dOptions(1, 8, 5)), ReLU<float>(),
//       nn.Conv1d(8, 16, 3, stride=2, padding=1),     Conv1d<float>(Conv1dOptions(8, 16, 3).stride(2).padding(1)),
//       nn.ReLU(), nn.Flatten(),                      ReLU<float>(), Flatten<float>(),
//       nn.Linear(224, 4))                            Linear<float>(224, 4));
//   ... train ...
//   save_file(model.state_dict(),                 net.load_state_dict(
//             "model.safetensors")                    strata::io::load_safetensors<float>("model.safetensors"));
//   np.save("inputs.npy", x.numpy())              auto x = strata::io::load_npy<float>("inputs.npy");
//   logits = model(x)                             auto logits = net(x);
//
// The weights' names in the file ("0.weight", "0.bias", "2.weight", ..., "5.bias")
// are the positions of the layers in the Sequential, so the same layer list in
// the same order is all it takes; load_state_dict refuses, naming every key,
// a file that does not fit. The network classifies a noisy 1-D signal of
// length 32 as a slow sine, a fast sine, a square wave or a bump.
//
// Usage: run_pytorch_model DIR   where DIR holds model.safetensors, inputs.npy,
// labels.npy and logits.npy (the repository's tests/data/pytorch_cnn).
#include <strata/strata.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

const char* const kClassNames[] = {"slow sine", "fast sine", "square wave", "bump"};

std::vector<strata::index_t> argmax_rows(const strata::Tensor<float>& logits) {
  std::vector<strata::index_t> classes;
  for (strata::index_t n = 0; n < logits.size(0); ++n) {
    strata::index_t best = 0;
    for (strata::index_t c = 1; c < logits.size(1); ++c)
      if (logits(n, c) > logits(n, best)) best = c;
    classes.push_back(best);
  }
  return classes;
}

int run(const std::string& dir) {
  using namespace strata::nn;
  // The same layers in the same order as the PyTorch model.
  Sequential<float> net(Conv1d<float>(Conv1dOptions(1, 8, 5)),                        // [N, 1, 32] -> [N, 8, 28]
                        ReLU<float>(),                                                //
                        Conv1d<float>(Conv1dOptions(8, 16, 3).stride(2).padding(1)),  // -> [N, 16, 14]
                        ReLU<float>(),                                                //
                        Flatten<float>(),                                             // -> [N, 224]
                        Linear<float>(16 * 14, 4));                                   // -> [N, 4]
  std::cout << net << "\n\n";

  const auto weights = strata::io::load_safetensors<float>(dir + "model.safetensors");
  std::cout << "model.safetensors:";
  for (const auto& [name, tensor] : weights) std::cout << "  " << name << " " << tensor.shape();
  std::cout << "\n";
  net.load_state_dict(weights);  // strict: every name and shape must match
  std::cout << "loaded " << weights.size() << " tensors, " << net.num_parameters() << " parameters\n";

  const auto inputs = strata::io::load_npy<float>(dir + "inputs.npy");
  const auto labels = strata::io::load_npy<float>(dir + "labels.npy");
  const auto torch_logits = strata::io::load_npy<float>(dir + "logits.npy");
  const auto logits = net(inputs);
  std::cout << "inputs " << inputs.shape() << " -> logits " << logits.shape() << "\n\n";

  const auto ours = argmax_rows(logits);
  const auto theirs = argmax_rows(torch_logits);
  std::printf("%-7s %-12s %-12s %-12s %s\n", "sample", "true class", "strata", "PyTorch", "max |logit diff|");
  int same = 0, correct = 0;
  for (strata::index_t n = 0; n < logits.size(0); ++n) {
    double row_diff = 0;
    for (strata::index_t c = 0; c < logits.size(1); ++c)
      row_diff = std::max(row_diff, static_cast<double>(std::abs(logits(n, c) - torch_logits(n, c))));
    const auto truth = static_cast<strata::index_t>(labels(n));
    const auto i = static_cast<std::size_t>(n);
    same += ours[i] == theirs[i];
    correct += ours[i] == truth;
    std::printf("%-7lld %-12s %-12s %-12s %.2e\n", static_cast<long long>(n), kClassNames[truth], kClassNames[ours[i]],
                kClassNames[theirs[i]], row_diff);
  }

  // Both sides round in float32: each logit sums ~250 products (5 + 24 + 224
  // through the three layers) of values of order 1, so they may differ by a
  // few units of float32 rounding (~1e-7) times that: 1e-4 is far outside
  // anything but a real mismatch. tests/io/pytorch_model_test.cpp derives a
  // per-logit bound instead and checks float64 as well.
  const double diff = strata::max_abs_diff(logits, torch_logits);
  const int n = static_cast<int>(logits.size(0));
  std::printf("\nlogits match PyTorch: max |diff| = %.3g%s\n", diff, diff <= 1e-4 ? "" : "  FAILED (tolerance 1e-4)");
  std::printf("predicted classes match: %d/%d%s\n", same, n, same == n ? "" : "  FAILED");
  std::printf("accuracy on this batch: %d/%d\n", correct, n);
  return diff <= 1e-4 && same == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef STRATA_PYTORCH_MODEL_DIR
  std::string dir = STRATA_PYTORCH_MODEL_DIR;
#else
  std::string dir;
#endif
  if (argc > 1) dir = argv[1];
  if (dir.empty()) {
    std::cerr << "usage: " << argv[0] << " DIR  (DIR holds model.safetensors, inputs.npy, labels.npy, logits.npy)\n";
    return 2;
  }
  try {
    return run(dir + "/");
  } catch (const strata::Error& e) {
    // A missing or malformed file, or weights that do not fit the network.
    std::cerr << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
