// Whole-model cases of strata_bench: torchvision's ResNet-18 and MobileNetV2 (1000 classes) on
// one [1, 3, 224, 224] image. strata runs the models of examples/models/ with their BatchNorms
// folded into the convolutions (fuse_conv_bn(), as a deployment does once after loading); libtorch
// runs the same networks as TorchScript modules traced and frozen at build time by
// benchmarks/export_torchscript_models.py and passed through torch::jit::optimize_for_inference,
// which is libtorch's deployment form (BatchNorms folded, oneDNN convolutions). With libtorch both
// load the same weights (the script's safetensors state_dict) and setup checks that they give the
// same logits; without it the strata rows run on the default initialisation.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <strata/strata.hpp>

#include "bench_case.hpp"
#include "models/mobilenet_v2.hpp"
#include "models/resnet.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::Tensor;

/// A file the build wrote for the libtorch rows (empty path without them).
std::string model_file(const std::string& name) {
#ifdef STRATA_BENCH_MODEL_DIR
  return std::string(STRATA_BENCH_MODEL_DIR) + "/" + name;
#else
  (void)name;
  return "";
#endif
}

/// Loads `<stem>.safetensors` into the network when the build exported it; says which weights run.
template <typename Net>
void load_model_weights(Net& net, const std::string& stem) {
  const std::string path = model_file(stem + ".safetensors");
  if (!path.empty() && std::ifstream(path).good()) {
    net.load_state_dict(strata::io::load_safetensors<float>(path));
  } else {
    std::fprintf(stderr, "model_cases: %s runs on strata's default initialisation (no %s.safetensors)\n", stem.c_str(),
                 stem.c_str());
  }
}

/// The case: strata's forward of `net` and, when the build has it, libtorch's TorchScript module.
template <typename Net>
Case model_case(std::string name, std::string what, double macs, std::shared_ptr<Net> net, const std::string& stem) {
  strata::Generator gen(40);
  const Tensor<float> x = Tensor<float>::randn({1, 3, 224, 224}, gen);
  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  c.flops = 2 * macs;
  c.strata = [net, x] {
    Tensor<float> y = net->forward(x);
    benchmark::DoNotOptimize(y.data());
  };
  Tensor<float> torch_logits;
  c.torch = torch_script_module(model_file(stem + ".torchscript.pt"), x, &torch_logits);
  if (c.torch && torch_logits.defined()) {
    // Same weights, same image: the logits must agree to float32 rounding (relative to their scale).
    const Tensor<float> logits = net->forward(x);
    double scale = 1e-30;
    for (strata::index_t i = 0; i < torch_logits.numel(); ++i)
      scale = std::max(scale, std::abs(static_cast<double>(torch_logits.data()[i])));
    const double diff = strata::max_abs_diff(logits, torch_logits);
    if (!(diff <= 1e-3 * scale)) {
      std::fprintf(stderr, "model_cases: %s: strata and libtorch logits differ by %g (scale %g)\n", stem.c_str(), diff,
                   scale);
    }
  }
  return c;
}

}  // namespace

void add_model_cases(std::vector<Case>& cases) {
  // torchvision's operation counts (multiply-adds): ResNet-18 1.814 G, MobileNetV2 0.301 G at 224 x 224.
  auto resnet = std::make_shared<models::ResNet<float>>(models::resnet18<float>());
  load_model_weights(*resnet, "resnet18");
  resnet->fuse_conv_bn();
  cases.push_back(model_case("ResNet18", "ResNet-18 (BN folded) on [1, 3, 224, 224]", 1.814e9, resnet, "resnet18"));

  auto mobilenet = std::make_shared<models::MobileNetV2<float>>(models::mobilenet_v2<float>());
  load_model_weights(*mobilenet, "mobilenet_v2");
  mobilenet->fuse_conv_bn();
  cases.push_back(
      model_case("MobileNetV2", "MobileNetV2 (BN folded) on [1, 3, 224, 224]", 0.301e9, mobilenet, "mobilenet_v2"));
}

}  // namespace strata_bench
