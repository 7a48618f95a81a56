// Transposed convolution and Conv3d cases of strata_bench (issue 14): a
// decoder's upsampling ConvTranspose2d(64, 32, 4, stride 2, padding 1), a
// DCGAN generator's forward pass (five ConvTranspose2d layers, ReLU between
// them, Tanh at the end, BatchNorms folded into the biases as for inference),
// and a video model's Conv3d(16, 32, 3, padding 1), strata's layers next to
// at::conv_transpose2d / at::conv3d on the same weights and inputs.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <strata/nn/functional/activation.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/conv_transpose.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::index_t;
using strata::Tensor;

Tensor<float> randn_conv_transpose(strata::Shape shape, std::uint64_t seed) {
  strata::Generator gen(seed);
  return Tensor<float>::randn(std::move(shape), gen);
}

/// Multiply-adds of a transposed convolution: every input element times its
/// out_channels/groups * prod(kernel) taps, two flops each.
double conv_transpose_flops(const Tensor<float>& x, const Tensor<float>& weight) {
  return 2.0 * static_cast<double>(x.numel()) * static_cast<double>(weight.numel() / weight.size(0));
}

/// DCGAN's generator (Radford et al. 2016; the PyTorch DCGAN example): z of 100
/// values -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3.
struct DcganGenerator {
  std::vector<std::shared_ptr<strata::nn::ConvTranspose2d<float>>> layers;
  DcganGenerator() {
    using strata::nn::ConvTranspose2dOptions;
    const index_t channels[] = {100, 512, 256, 128, 64, 3};
    strata::Generator gen(60);
    for (int i = 0; i < 5; ++i) {
      auto o = ConvTranspose2dOptions(channels[i], channels[i + 1], 4).stride(i == 0 ? 1 : 2).padding(i == 0 ? 0 : 1);
      layers.push_back(std::make_shared<strata::nn::ConvTranspose2d<float>>(o));
      layers.back()->reset_parameters(gen);
    }
  }
  Tensor<float> forward(const Tensor<float>& z) const {
    Tensor<float> h = z;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      h = layers[i]->forward(h);
      h = i + 1 < layers.size() ? strata::nn::functional::relu(h) : strata::nn::functional::tanh(h);
    }
    return h;
  }
};

}  // namespace

void add_conv_transpose_cases(std::vector<Case>& cases) {
  using namespace strata::nn;
  {
    const Tensor<float> x = randn_conv_transpose({8, 64, 28, 28}, 61);
    auto up = std::make_shared<ConvTranspose2d<float>>(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));
    Case c;
    c.name = "ConvTranspose2dUp";
    c.what = "ConvTranspose2d(64, 32, 4, stride=2, padding=1) on [8, 64, 28, 28]";
    c.flops = conv_transpose_flops(x, up->weight());
    c.report_workspace = true;
    c.output_bytes = up->forward(x).numel() * static_cast<index_t>(sizeof(float));
    c.strata = [up, x] {
      Tensor<float> y = up->forward(x);
      benchmark::DoNotOptimize(y.data());
    };
    c.torch = torch_conv_transpose(x, up->weight(), up->bias(), {2, 2}, {1, 1}, {0, 0}, 1, {1, 1});
    cases.push_back(std::move(c));
  }
  {
    const Tensor<float> z = randn_conv_transpose({8, 100, 1, 1}, 62);
    auto g = std::make_shared<DcganGenerator>();
    Case c;
    c.name = "DcganGenerator";
    c.what = "DCGAN generator: 5 x ConvTranspose2d(k=4), ReLU, Tanh, [8, 100, 1, 1] -> [8, 3, 64, 64]";
    Tensor<float> h = z;
    std::vector<Tensor<float>> weights, biases;
    for (std::size_t i = 0; i < g->layers.size(); ++i) {
      c.flops += conv_transpose_flops(h, g->layers[i]->weight());
      h = g->layers[i]->forward(h);
      weights.push_back(g->layers[i]->weight());
      biases.push_back(g->layers[i]->bias());
    }
    c.report_workspace = true;
    c.output_bytes = h.numel() * static_cast<index_t>(sizeof(float));
    c.strata = [g, z] {
      Tensor<float> y = g->forward(z);
      benchmark::DoNotOptimize(y.data());
    };
    c.torch = torch_dcgan_generator(z, weights, biases);
    cases.push_back(std::move(c));
  }
  {
    const Tensor<float> x = randn_conv_transpose({2, 16, 16, 32, 32}, 63);
    auto conv = std::make_shared<Conv3d<float>>(Conv3dOptions(16, 32, 3).padding(1));
    Case c;
    c.name = "Conv3dVideo";
    c.what = "Conv3d(16, 32, 3, padding=1) on [2, 16, 16, 32, 32]";
    const Tensor<float> probe = conv->forward(x);
    c.flops = 2.0 * static_cast<double>(probe.numel()) * 16 * 27;
    c.report_workspace = true;
    c.output_bytes = probe.numel() * static_cast<index_t>(sizeof(float));
    c.strata = [conv, x] {
      Tensor<float> y = conv->forward(x);
      benchmark::DoNotOptimize(y.data());
    };
    c.torch = torch_conv(x, conv->weight(), conv->bias(), {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1);
    cases.push_back(std::move(c));
  }
}

}  // namespace strata_bench
