// BatchNorm and pooling cases of strata_bench: the layers of a CNN's forward
// pass between its convolutions (ResNet's BatchNorm2d(64) and stem max pool,
// a 2x2 average pool, the classifier's global average pool), strata's
// layers next to at::batch_norm / at::max_pool2d / at::avg_pool2d /
// at::adaptive_avg_pool2d on the same tensors. Memory-bound: the table shows
// GB/s of the bytes each run reads and writes.

#include <benchmark/benchmark.h>
#include <strata/core/tensor.hpp>
#include <strata/nn/batchnorm.hpp>
#include <strata/nn/pooling.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::Tensor;

Tensor<float> randn_pool_bn(strata::Shape shape, std::uint64_t seed) {
  strata::Generator gen(seed);
  return Tensor<float>::randn(std::move(shape), gen);
}

/// A case over input x whose output has `output_numel` elements: bytes = what it reads and writes.
Case pool_bn_case(std::string name, std::string what, const Tensor<float>& x, std::int64_t output_numel) {
  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  c.bytes = static_cast<double>(x.numel() + output_numel) * sizeof(float);
  c.output_bytes = output_numel * static_cast<std::int64_t>(sizeof(float));
  return c;
}

/// The case of a layer (a strata module) applied to x.
template <typename Layer>
Case pool_bn_layer_case(std::string name, std::string what, Layer layer, const Tensor<float>& x) {
  Case c = pool_bn_case(std::move(name), std::move(what), x, layer(x).numel());
  c.strata = [layer, x] {
    Tensor<float> y = layer(x);
    benchmark::DoNotOptimize(y.data());
  };
  return c;
}

}  // namespace

void add_pool_bn_cases(std::vector<Case>& cases) {
  using namespace strata::nn;
  {
    const Tensor<float> x = randn_pool_bn({8, 64, 56, 56}, 40);
    BatchNorm2d<float> bn(64);
    bn.weight().copy_(randn_pool_bn({64}, 41));
    bn.bias().copy_(randn_pool_bn({64}, 42));
    bn.running_mean().copy_(randn_pool_bn({64}, 43));
    strata::Generator gen(44);
    bn.running_var().copy_(Tensor<float>::rand({64}, gen) + 0.5f);
    Case c = pool_bn_layer_case("BatchNorm2d", "BatchNorm2d(64) on [8, 64, 56, 56]", bn, x);
    c.torch = torch_batch_norm(x, bn.weight(), bn.bias(), bn.running_mean(), bn.running_var(), 1e-5);
    cases.push_back(std::move(c));
  }
  for (std::int64_t batch : {1, 8}) {
    const Tensor<float> x = randn_pool_bn({batch, 64, 112, 112}, 45);
    Case c = pool_bn_layer_case("MaxPool2dStem" + std::to_string(batch),
                                "MaxPool2d(3, 2, 1) on [" + std::to_string(batch) + ", 64, 112, 112]",
                                MaxPool2d<float>(MaxPool2dOptions(3).stride(2).padding(1)), x);
    c.torch = torch_max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
    cases.push_back(std::move(c));
  }
  {
    const Tensor<float> x = randn_pool_bn({8, 64, 56, 56}, 46);
    Case c = pool_bn_layer_case("AvgPool2d", "AvgPool2d(2) on [8, 64, 56, 56]", AvgPool2d<float>(2), x);
    c.torch = torch_avg_pool2d(x, {2, 2}, {2, 2}, {0, 0});
    cases.push_back(std::move(c));
  }
  {
    const Tensor<float> x = randn_pool_bn({8, 512, 7, 7}, 47);
    Case c = pool_bn_layer_case("AdaptiveAvgPool2dGlobal", "AdaptiveAvgPool2d(1) on [8, 512, 7, 7]",
                                AdaptiveAvgPool2d<float>(1), x);
    c.torch = torch_adaptive_avg_pool2d(x, {1, 1});
    cases.push_back(std::move(c));
  }
}

}  // namespace strata_bench
