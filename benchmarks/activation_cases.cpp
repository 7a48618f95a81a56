// Activation cases of strata_bench: the element-wise layers of CNNs on a ResNet
// feature map, [8, 64, 56, 56], and softmax / log_softmax of classifier logits,
// strata's layers next to libtorch's at:: functions on the same tensors.
// Memory-bound (ReLU) to compute-bound (GELU's erf): the table shows GB/s of
// the bytes each run reads and writes.

#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>
#include <strata/nn/activation.hpp>
#include <strata/nn/softmax.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::Tensor;

template <typename Layer>
Case activation_case(std::string name, std::string what, Layer layer, const Tensor<float>& x, const std::string& op,
                     std::int64_t dim = -1) {
  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  const double bytes = static_cast<double>(x.numel()) * sizeof(float);
  c.bytes = 2 * bytes;  // read once, written once
  c.output_bytes = static_cast<std::int64_t>(bytes);
  auto shared = std::make_shared<Layer>(std::move(layer));
  c.strata = [shared, x] {
    Tensor<float> y = shared->forward(x);
    benchmark::DoNotOptimize(y.data());
  };
  c.torch = torch_activation(x, op, dim);
  return c;
}

}  // namespace

void add_activation_cases(std::vector<Case>& cases) {
  namespace nn = strata::nn;
  strata::Generator gen(40);
  const Tensor<float> map = Tensor<float>::randn({8, 64, 56, 56}, gen) * 3.f;
  const std::string on = " on [8, 64, 56, 56]";
  cases.push_back(activation_case("ReLU", "ReLU" + on, nn::ReLU<float>(), map, "relu"));
  cases.push_back(activation_case("SiLU", "SiLU" + on, nn::SiLU<float>(), map, "silu"));
  cases.push_back(activation_case("GELU", "GELU" + on, nn::GELU<float>(), map, "gelu"));
  cases.push_back(activation_case("Hardswish", "Hardswish" + on, nn::Hardswish<float>(), map, "hardswish"));
  cases.push_back(activation_case("Sigmoid", "Sigmoid" + on, nn::Sigmoid<float>(), map, "sigmoid"));
  cases.push_back(activation_case("Tanh", "Tanh" + on, nn::Tanh<float>(), map, "tanh"));
  const Tensor<float> logits = Tensor<float>::randn({256, 1000}, gen) * 5.f;
  cases.push_back(
      activation_case("Softmax", "Softmax(dim=1) on [256, 1000]", nn::Softmax<float>(1), logits, "softmax", 1));
  cases.push_back(activation_case("LogSoftmax", "LogSoftmax(dim=1) on [256, 1000]", nn::LogSoftmax<float>(1), logits,
                                  "log_softmax", 1));
  // Softmax over channels of a feature map: the inner-stride path (torch's too).
  cases.push_back(activation_case("SoftmaxChannels", "Softmax(dim=1) on [8, 64, 56, 56]", nn::Softmax<float>(1), map,
                                  "softmax", 1));
}

}  // namespace strata_bench
