// padding_modes: one short signal through the same Conv1d with each padding
// mode, to see what each mode puts at the edges.
//
//   PyTorch:
//   x = torch.tensor([[[1., 2., 3., 4., 5.]]])
//   for mode in ['zeros', 'reflect', 'replicate', 'circular']:
//       conv = nn.Conv1d(1, 1, 3, padding=2, padding_mode=mode, bias=False)
//       conv.weight.data.fill_(1.)     # each output = sum of 3 neighbours
//       print(mode, conv(x))
//
// padding=2 adds two values on each side of the signal before the kernel slides:
//   zeros      0 0 | 1 2 3 4 5 | 0 0     constant zero
//   reflect    3 2 | 1 2 3 4 5 | 4 3     mirror, without repeating the edge value
//   replicate  1 1 | 1 2 3 4 5 | 5 5     repeat the edge value
//   circular   4 5 | 1 2 3 4 5 | 1 2     wrap around, as if the signal were periodic
// The kernel [1, 1, 1] sums three neighbours, so the outputs differ only where
// the window touches the padding: the middle three outputs (6, 9, 12) are the
// same in every mode.
#include <strata/strata.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using strata::index_t;
using strata::Tensor;

// "[1, 2, 3]" for the last dimension of a [1, 1, L] tensor of whole numbers.
std::string list(const Tensor<float>& t) {
  std::string out = "[";
  for (index_t i = 0; i < t.size(-1); ++i) {
    out += (i ? ", " : "") + std::to_string(static_cast<long long>(t(0, 0, i)));
  }
  return out + "]";
}

// The padded signal, built by hand from each mode's definition.
std::vector<float> pad_by_hand(const std::vector<float>& s, index_t pad, strata::nn::PaddingMode mode) {
  const index_t n = static_cast<index_t>(s.size());
  std::vector<float> out;
  for (index_t p = -pad; p < n + pad; ++p) {
    index_t i = p;
    if (p < 0 || p >= n) {
      switch (mode) {
        case strata::nn::kZeros:
          out.push_back(0.0f);
          continue;
        case strata::nn::kReflect:
          i = p < 0 ? -p : 2 * (n - 1) - p;
          break;
        case strata::nn::kReplicate:
          i = p < 0 ? 0 : n - 1;
          break;
        case strata::nn::kCircular:
          i = (p % n + n) % n;
          break;
      }
    }
    out.push_back(s[static_cast<std::size_t>(i)]);
  }
  return out;
}

}  // namespace

int main() {
  strata::manual_seed(0);
  const std::vector<float> signal = {1, 2, 3, 4, 5};
  const Tensor<float> x({1, 1, 5}, signal);  // (N=1, C=1, L=5)
  const index_t pad = 2;

  std::printf("signal %s, Conv1d(1, 1, 3, padding=2, bias=false) with weight [1, 1, 1]\n\n", list(x).c_str());
  bool all_match = true;
  for (auto mode : {strata::nn::kZeros, strata::nn::kReflect, strata::nn::kReplicate, strata::nn::kCircular}) {
    // The same layer each time, only padding_mode changes.
    strata::nn::Conv1d conv(strata::nn::Conv1dOptions(1, 1, 3).padding(pad).bias(false).padding_mode(mode));
    conv.weight().fill_(1.0f);
    const auto y = conv(x);  // [1, 1, 5 + 2*2 - 2] = [1, 1, 7]

    // A kernel-1 conv with weight 1 copies its input, so its output *is* the padded signal.
    strata::nn::Conv1d copy(strata::nn::Conv1dOptions(1, 1, 1).padding(pad).bias(false).padding_mode(mode));
    copy.weight().fill_(1.0f);
    const auto padded = copy(x);  // [1, 1, 9]

    // The same two results from the hand-padded signal.
    const std::vector<float> hand = pad_by_hand(signal, pad, mode);
    const Tensor<float> hand_padded({1, 1, static_cast<index_t>(hand.size())}, hand);
    std::vector<float> sums;
    for (std::size_t i = 0; i + 2 < hand.size(); ++i) sums.push_back(hand[i] + hand[i + 1] + hand[i + 2]);
    const Tensor<float> hand_output({1, 1, static_cast<index_t>(sums.size())}, sums);
    // Sums of three small whole numbers are exact in float.
    const bool match = strata::max_abs_diff(padded, hand_padded) == 0.0f && strata::max_abs_diff(y, hand_output) == 0.0f;
    all_match = all_match && match;

    const std::string name = strata::nn::padding_mode_name(mode) + 1;  // "kReflect" -> "Reflect"
    std::string lower = name;
    lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
    std::printf("%-10s padded %-30s output %-28s%s\n", lower.c_str(), list(padded).c_str(), list(y).c_str(),
                match ? "" : "  FAILED: differs from the hand-padded signal");
  }
  std::printf("\nevery mode matches the hand-padded signal: %s\n", all_match ? "yes" : "no, FAILED");
  return all_match ? 0 : 1;
}
