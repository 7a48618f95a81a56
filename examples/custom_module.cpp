// custom_module: your own module with a residual block, the way torch.nn.Module
// subclasses are written.
//
//   PyTorch                                        strata (this file)
//   class ResidualBlock(nn.Module):                template <typename T> struct ResidualBlock : Module<T> {
//     def __init__(self, c):                         explicit ResidualBlock(index_t c) {
//       super().__init__()
//       self.conv1 = nn.Conv2d(c, c, 3, padding=1,     conv1 = this->register_module("conv1", Conv2d<T>(...));
//                              bias=False)
//       self.bn1 = nn.BatchNorm2d(c)                   bn1 = this->register_module("bn1", BatchNorm2d<T>(c));
//       ...                                            ...
//     def forward(self, x):                          Tensor<T> forward(const Tensor<T>& x) const {
//       out = F.relu(self.bn1(self.conv1(x)))          Tensor<T> out = relu(bn1->forward(conv1->forward(x)));
//       out = self.bn2(self.conv2(out))                out = bn2->forward(conv2->forward(out));
//       return F.relu(out + x)                         return relu(out + x);
//                                                    }
//
// register_module names the child (its parameters become "conv1.weight", and
// "blocks.0.conv1.weight" once the block sits in a Sequential named "blocks"),
// so state_dict() has torch's keys and a PyTorch state_dict of the same
// network loads as is. Printing lists the children as torch does.
#include <strata/strata.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

namespace {

using strata::index_t;
using strata::Tensor;
namespace nn = strata::nn;

/// relu(bn2(conv2(relu(bn1(conv1(x))))) + x): the shape stays (N, c, H, W).
template <typename T = float>
struct ResidualBlock : nn::Module<T> {
  std::shared_ptr<nn::Conv2d<T>> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d<T>> bn1, bn2;

  explicit ResidualBlock(index_t c) {
    conv1 = this->register_module("conv1", nn::Conv2d<T>(nn::Conv2dOptions(c, c, 3).padding(1).bias(false)));
    bn1 = this->register_module("bn1", nn::BatchNorm2d<T>(c));
    conv2 = this->register_module("conv2", nn::Conv2d<T>(nn::Conv2dOptions(c, c, 3).padding(1).bias(false)));
    bn2 = this->register_module("bn2", nn::BatchNorm2d<T>(c));
  }

  Tensor<T> forward(const Tensor<T>& x) const {
    Tensor<T> out = nn::functional::relu(bn1->forward(conv1->forward(x)));
    out = bn2->forward(conv2->forward(out));
    return nn::functional::relu(out + x);  // the residual connection
  }

  std::string name() const override { return "ResidualBlock"; }  // what printing shows
};

/// A small classifier around two blocks: a stem, the blocks in a Sequential, a pooled linear head.
template <typename T = float>
struct TinyResNet : nn::Module<T> {
  std::shared_ptr<nn::Sequential<T>> stem, blocks, head;

  explicit TinyResNet(index_t num_classes = 10) {
    stem = this->register_module("stem",
                                 nn::Sequential<T>(nn::Conv2d<T>(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)),
                                                   nn::BatchNorm2d<T>(16), nn::ReLU<T>()));
    blocks = this->register_module("blocks", nn::Sequential<T>(ResidualBlock<T>(16), ResidualBlock<T>(16)));
    head = this->register_module(
        "head", nn::Sequential<T>(nn::AdaptiveAvgPool2d<T>(1), nn::Flatten<T>(), nn::Linear<T>(16, num_classes)));
  }

  Tensor<T> forward(const Tensor<T>& x) const { return head->forward(blocks->forward(stem->forward(x))); }

  std::string name() const override { return "TinyResNet"; }
};

int run() {
  strata::manual_seed(0);
  TinyResNet<float> net;
  // 1. Printing: the module tree, as torch prints it.
  std::cout << net << "\n\n";

  // 2. state_dict: parameters and buffers under torch's dotted keys.
  const auto state = net.state_dict();
  std::cout << "state_dict: " << state.size() << " entries, " << net.num_parameters() << " parameters\n";
  for (const auto& [key, tensor] : state) {
    if (key.rfind("blocks.0.", 0) == 0) std::cout << "  " << key << "  " << tensor.shape() << "\n";
  }

  // 3. forward: a batch of two 32 x 32 RGB images.
  strata::Generator gen(1);
  const Tensor<float> x = Tensor<float>::randn({2, 3, 32, 32}, gen);
  const Tensor<float> logits = net.forward(x);
  std::cout << "\noutput size: " << logits.shape() << "\n";

  // 4. The residual connection, checked: with conv2's weights zero (and bn2 at its defaults,
  //    the identity), a block computes relu(x).
  ResidualBlock<float> block(16);
  block.conv2->weight().fill_(0.0f);
  const Tensor<float> h = Tensor<float>::randn({2, 16, 8, 8}, gen);
  const double residual_diff = strata::max_abs_diff(block.forward(h), nn::functional::relu(h));
  std::printf("with conv2 = 0 the block is relu(x): %s\n", residual_diff == 0 ? "yes" : "no  FAILED");

  // 5. A strict load: save the weights, load them into a second, differently initialised copy.
  const std::string path = (std::filesystem::temp_directory_path() / "strata_custom_module.safetensors").string();
  strata::io::save_safetensors(path, state);
  strata::manual_seed(42);
  TinyResNet<float> copy;
  const double before = strata::max_abs_diff(copy.forward(x), logits);
  copy.load_state_dict(strata::io::load_safetensors<float>(path));
  const double after = strata::max_abs_diff(copy.forward(x), logits);
  std::filesystem::remove(path);
  std::printf("a fresh copy differs by %.3g; reloaded from the file, its logits equal the original's: %s\n", before,
              after == 0 ? "yes" : "no  FAILED");

  // 6. Strictness: a state_dict for another head (5 classes) is refused, naming every problem at once.
  auto other = TinyResNet<float>(5).state_dict();
  other.erase("head.2.bias");
  try {
    net.load_state_dict(other);
    std::cout << "the 5-class state_dict loaded  FAILED\n";
    return 1;
  } catch (const strata::Error& e) {
    std::cout << "a 5-class state_dict without head.2.bias is refused:\n" << e.what() << "\n";
  }
  return residual_diff == 0 && after == 0 ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const strata::Error& e) {
    std::cerr << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
