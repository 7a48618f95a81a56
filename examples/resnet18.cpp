// resnet18: run a torchvision ResNet-18 with strata.
//
// The network is written in examples/models/resnet.hpp as the twin of
// torchvision/models/resnet.py, module for module and with the same names,
// so the state_dict PyTorch saved loads as it is. Its residual block:
//
//   PyTorch (torchvision 0.14)                strata (examples/models/resnet.hpp)
//   class BasicBlock(nn.Module):              class BasicBlock : public strata::nn::Module<T> {
//     def __init__(self, inplanes, planes,      BasicBlock(index_t inplanes, index_t planes, index_t stride = 1,
//                  stride=1, ds=None):                     std::shared_ptr<Sequential<T>> ds = nullptr) {
//       self.conv1 = conv3x3(inplanes,            conv1 = register_module("conv1",
//                            planes, stride)                              conv3x3<T>(inplanes, planes, stride));
//       self.bn1 = nn.BatchNorm2d(planes)         bn1 = register_module("bn1", BatchNorm2d<T>(planes));
//       self.relu = nn.ReLU(inplace=True)         relu = register_module("relu", ReLU<T>());
//       self.conv2 = conv3x3(planes, planes)      conv2 = register_module("conv2", conv3x3<T>(planes, planes));
//       self.bn2 = nn.BatchNorm2d(planes)         bn2 = register_module("bn2", BatchNorm2d<T>(planes));
//       self.downsample = ds                      if (ds) downsample = register_module("downsample", ds);
//                                               }
//     def forward(self, x):                     Tensor<T> forward(const Tensor<T>& x) const {
//       out = self.relu(self.bn1(                 Tensor<T> out = relu->forward(bn1->forward(
//                 self.conv1(x)))                                  conv1->forward(x)));
//       out = self.bn2(self.conv2(out))           out = bn2->forward(conv2->forward(out));
//       if self.downsample is not None:           out += downsample ? downsample->forward(x) : x;
//         x = self.downsample(x)
//       out += x
//       return self.relu(out)                     return relu->forward(out);
//                                               }
//
// and ResNet itself: conv1, bn1, relu, maxpool, layer1..layer4 (Sequentials of
// BasicBlocks), avgpool and fc, exactly as torchvision's.
//
// Usage: resnet18 [STATE_DICT [IMAGES]]
//   STATE_DICT  a torchvision resnet18() state_dict: model.safetensors (safetensors.torch.save_file)
//               or model.pt (torch.save(model.state_dict(), ...)); keys saved from DataParallel
//               ("module.conv1.weight") work too. Without it the network keeps strata's default
//               initialisation (random weights) and says so.
//   IMAGES      [N, 3, H, W] float images, normalised as torchvision's transforms do: a .npy file
//               or a .safetensors file with a tensor "input". Without it: one random 224 x 224 image.
// Prints the top-5 classes of the first image and the time per image.
#include <strata/strata.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "models/resnet.hpp"

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Milliseconds per image of net.forward(images): the median of 5 timed runs after a warm-up.
template <typename Net>
double ms_per_image(const Net& net, const strata::Tensor<float>& images) {
  net.forward(images);
  std::vector<double> ms;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    net.forward(images);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[2] / static_cast<double>(images.size(0));
}

/// The 5 most probable classes of row 0 of the logits, with their softmax probabilities.
std::vector<std::pair<strata::index_t, float>> top5(const strata::Tensor<float>& logits) {
  const strata::Tensor<float> probs = strata::nn::functional::softmax(logits, 1);
  std::vector<std::pair<strata::index_t, float>> classes;
  for (strata::index_t c = 0; c < probs.size(1); ++c) classes.emplace_back(c, probs(0, c));
  std::partial_sort(classes.begin(), classes.begin() + 5, classes.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second; });
  classes.resize(5);
  return classes;
}

int run(const std::string& weights, const std::string& images_path) {
  // 1. The network, as torchvision.models.resnet18() builds it: 1000 classes.
  models::ResNet<float> net = models::resnet18<float>();
  std::cout << "ResNet-18: " << net.num_parameters() << " parameters, " << net.state_dict().size()
            << " state_dict entries (first: " << net.state_dict().begin()->first << ")\n";

  // 2. PyTorch's weights, loaded strictly: every key and shape must match, or one error lists them all.
  if (weights.empty()) {
    std::cout << "no state_dict given: using strata's default initialisation (random weights)\n";
  } else {
    auto state =
        ends_with(weights, ".pt") ? strata::io::load_pt<float>(weights) : strata::io::load_safetensors<float>(weights);
    state = strata::nn::strip_prefix(state, "module.");  // a checkpoint saved from nn.DataParallel
    net.load_state_dict(state);
    std::cout << "loaded " << state.size() << " tensors from " << weights << "\n";
  }

  // 3. The input: [N, 3, H, W] images, normalised as for torchvision's pretrained models.
  strata::Tensor<float> images;
  if (images_path.empty()) {
    strata::Generator gen(0);
    images = strata::Tensor<float>::randn({1, 3, 224, 224}, gen);
    std::cout << "input: one random image " << images.shape() << "\n";
  } else {
    images = ends_with(images_path, ".npy") ? strata::io::load_npy<float>(images_path)
                                            : strata::io::load_safetensors<float>(images_path).at("input");
    std::cout << "input: " << images.shape() << " from " << images_path << "\n";
  }

  // 4. Classify: the logits' softmax gives the class probabilities.
  const strata::Tensor<float> logits = net.forward(images);
  std::cout << "logits " << logits.shape() << "\ntop-5 classes of image 0:\n";
  const auto best = top5(logits);
  for (const auto& [c, p] : best) std::printf("  %4lld  %.4f\n", static_cast<long long>(c), static_cast<double>(p));

  // 5. For deployment, fold every BatchNorm into its convolution once: the same classes, less work.
  const double ms = ms_per_image(net, images);
  net.fuse_conv_bn();
  const strata::Tensor<float> fused_logits = net.forward(images);
  const double diff = strata::max_abs_diff(fused_logits, logits);
  double scale = 1;  // the logit scale: folding changes only roundings, ~1e-6 of it in float
  for (strata::index_t i = 0; i < logits.numel(); ++i)
    scale = std::max(scale, std::abs(static_cast<double>(logits.data()[i])));
  const bool same = diff <= 1e-4 * scale;
  auto classes = [](const std::vector<std::pair<strata::index_t, float>>& top) {
    std::vector<strata::index_t> out;
    for (const auto& entry : top) out.push_back(entry.first);
    return out;
  };
  std::printf("BatchNorms folded into the convolutions: max |logit diff| %.3g%s, top-5 classes %s\n", diff,
              same ? "" : "  FAILED (tolerance 1e-4 x the logit scale)",
              classes(top5(fused_logits)) == classes(best) ? "unchanged" : "reordered (near ties)");
  const double fused_ms = ms_per_image(net, images);
  std::printf("time per image: %.1f ms (%.1f ms with folded BatchNorms), batch of %lld, %d thread(s)\n", ms, fused_ms,
              static_cast<long long>(images.size(0)), strata::get_num_threads());
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? argv[1] : "", argc > 2 ? argv[2] : "");
  } catch (const strata::Error& e) {
    // A missing or malformed file, or weights that are not a ResNet-18's.
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
