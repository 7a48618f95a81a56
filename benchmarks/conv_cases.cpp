// Convolution, Bilinear and im2col cases of strata_bench: PERF.md's shapes,
// strata's layers next to at::conv1d / at::conv2d / at::bilinear / at::im2col
// on the same weights and inputs.

#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>
#include <strata/kernels/conv_plan.hpp>
#include <strata/kernels/im2col.hpp>
#include <strata/nn/bilinear.hpp>
#include <strata/nn/conv.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::index_t;
using strata::Tensor;
using Ints = std::vector<std::int64_t>;

/// Geometry of one convolution case, spelled like torch's arguments.
struct ConvSpec {
  index_t in_channels, out_channels;
  Ints kernel, stride, padding, dilation;
  index_t groups = 1;
  strata::kernels::ConvAlgorithm algorithm = strata::kernels::ConvAlgorithm::Auto;
};

template <std::size_t D>
strata::nn::ExpandingArray<D> expand(const Ints& v) {
  return strata::nn::ExpandingArray<D>(v);
}

double product(const Ints& v) {
  double p = 1;
  for (auto x : v) p *= static_cast<double>(x);
  return p;
}

/// A Conv<D> case on input `x` (which may be a view).
template <std::size_t D>
void add_conv(std::vector<Case>& cases, std::string name, std::string what, const ConvSpec& spec,
              const Tensor<float>& x, double goal) {
  strata::Generator gen(2);
  auto options = strata::nn::ConvOptions<D>(spec.in_channels, spec.out_channels, expand<D>(spec.kernel))
                     .stride(expand<D>(spec.stride))
                     .padding(expand<D>(spec.padding))
                     .dilation(expand<D>(spec.dilation))
                     .groups(spec.groups)
                     .algorithm(spec.algorithm);
  auto layer = std::make_shared<strata::nn::Conv<D, float>>(options);
  layer->reset_parameters(gen);
  const Tensor<float> probe = layer->forward(x);

  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  c.flops = 2.0 * static_cast<double>(probe.numel()) * static_cast<double>(spec.in_channels / spec.groups) *
            product(spec.kernel);
  c.goal = goal;
  c.report_workspace = true;
  c.output_bytes = probe.numel() * static_cast<index_t>(sizeof(float));
  c.strata = [layer, x] {
    Tensor<float> y = layer->forward(x);
    benchmark::DoNotOptimize(y.data());
  };
  c.torch = torch_conv(x, layer->weight(), layer->bias(), spec.stride, spec.padding, spec.dilation, spec.groups);
  cases.push_back(std::move(c));
}

void add_bilinear(std::vector<Case>& cases) {
  strata::Generator gen(3);
  auto layer = std::make_shared<strata::nn::Bilinear<float>>(20, 30, 40);
  layer->reset_parameters(gen);
  const Tensor<float> x1 = Tensor<float>::randn({128, 20}, gen), x2 = Tensor<float>::randn({128, 30}, gen);
  Case c;
  c.name = "Bilinear";
  c.what = "Bilinear(20, 30, 40) on [128, 20], [128, 30]";
  c.flops = 2.0 * 128 * 40 * 20 * 30;
  c.goal = 0.5;
  c.output_bytes = 128 * 40 * static_cast<index_t>(sizeof(float));
  c.strata = [layer, x1, x2] {
    Tensor<float> y = layer->forward(x1, x2);
    benchmark::DoNotOptimize(y.data());
  };
  c.torch = torch_bilinear(x1, x2, layer->weight(), layer->bias());
  cases.push_back(std::move(c));
}

/// im2col alone, for the ResNet 3x3 layer's image [1, 64, 56, 56] (padding 1):
/// strata's kernel into a fresh buffer next to at::im2col.
void add_im2col(std::vector<Case>& cases) {
  strata::Generator gen(4);
  const Tensor<float> x = Tensor<float>::randn({1, 64, 56, 56}, gen);
  strata::kernels::ConvShape<2> s;
  s.batch = 1;
  s.in_channels = s.out_channels = 64;
  s.input = {56, 56};
  s.kernel = {3, 3};
  s.stride = {1, 1};
  s.dilation = {1, 1};
  s.pad_before = s.pad_after = {1, 1};
  s.output = {56, 56};
  Case c;
  c.name = "Im2col";
  c.what = "im2col of [1, 64, 56, 56], 3x3, padding 1";
  c.bytes = 64.0 * 9 * 56 * 56 * sizeof(float);
  c.output_bytes = static_cast<index_t>(c.bytes);
  c.report_workspace = true;
  c.strata = [x, s] {
    // The plan is part of the work: the conv kernel builds one per call.
    const strata::kernels::Im2colPlan plan = strata::kernels::make_im2col_plan(s);
    Tensor<float> cols = Tensor<float>::empty({plan.rows(), plan.cols()});
    strata::kernels::im2col(x.data(), plan, cols.data());
    benchmark::DoNotOptimize(cols.data());
  };
  c.torch = torch_im2col(x, {3, 3}, {1, 1}, {1, 1}, {1, 1});
  cases.push_back(std::move(c));
}

}  // namespace

void add_conv_cases(std::vector<Case>& cases) {
  strata::Generator gen(5);
  // The classic speed test's Conv1d: the Linear case's [128, 256, 8] input seen as (N, C, L) by a permute.
  add_conv<1>(cases, "Conv1dClassic", "Conv1d(8, 32, 1) on [128, 256, 8].permute(0, 2, 1)",
              {8, 32, {1}, {1}, {0}, {1}}, classic_input().permute({0, 2, 1}), 0.5);
  // The same work on a contiguous [128, 8, 256] input (no copy before the kernel).
  add_conv<1>(cases, "Conv1dClassicContiguous", "Conv1d(8, 32, 1) on [128, 8, 256]", {8, 32, {1}, {1}, {0}, {1}},
              classic_input().permute({0, 2, 1}).contiguous(), 0.5);
  add_conv<2>(cases, "Conv2dResNet", "Conv2d(64, 64, 3, padding 1) on [1, 64, 56, 56]",
              {64, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}}, Tensor<float>::randn({1, 64, 56, 56}, gen), 0.9);
  add_conv<2>(cases, "Conv2dResNetBatch8", "Conv2d(64, 64, 3, padding 1) on [8, 64, 56, 56]",
              {64, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}}, Tensor<float>::randn({8, 64, 56, 56}, gen), 0.9);
  add_conv<2>(cases, "Conv2dResNet256", "Conv2d(256, 256, 3, padding 1) on [1, 256, 14, 14]",
              {256, 256, {3, 3}, {1, 1}, {1, 1}, {1, 1}}, Tensor<float>::randn({1, 256, 14, 14}, gen), 0.9);
  add_conv<2>(cases, "Conv2dPointwise", "Conv2d(64, 256, 1) on [8, 64, 56, 56]",
              {64, 256, {1, 1}, {1, 1}, {0, 0}, {1, 1}}, Tensor<float>::randn({8, 64, 56, 56}, gen), 0.8);
  add_conv<2>(cases, "Conv2dDepthwise", "Conv2d(128, 128, 3, padding 1, groups 128) on [8, 128, 28, 28]",
              {128, 128, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 128}, Tensor<float>::randn({8, 128, 28, 28}, gen), 1.0);
  add_conv<2>(cases, "Conv2dDocs", "Conv2d(16, 33, 3, stride 2) on [20, 16, 50, 100]",
              {16, 33, {3, 3}, {2, 2}, {0, 0}, {1, 1}}, Tensor<float>::randn({20, 16, 50, 100}, gen), 0.9);
  add_conv<2>(cases, "Conv2dDocsDilated",
              "Conv2d(16, 33, (3, 5), stride (2, 1), padding (4, 2), dilation (3, 1)) on [20, 16, 50, 100]",
              {16, 33, {3, 5}, {2, 1}, {4, 2}, {3, 1}}, Tensor<float>::randn({20, 16, 50, 100}, gen), 0.9);
  add_conv<1>(cases, "Conv1dDocs", "Conv1d(16, 33, 3, stride 2) on [20, 16, 50]", {16, 33, {3}, {2}, {0}, {1}},
              Tensor<float>::randn({20, 16, 50}, gen), 0.9);
  add_conv<2>(cases, "Conv2dResNet512", "Conv2d(512, 512, 3, padding 1) on [1, 512, 7, 7]",
              {512, 512, {3, 3}, {1, 1}, {1, 1}, {1, 1}}, Tensor<float>::randn({1, 512, 7, 7}, gen), 0);
  // Every algorithm of the planner on the layers where the choice is close,
  // so the benchmark shows that Auto picks the faster one.
  using strata::kernels::ConvAlgorithm;
  const std::pair<ConvAlgorithm, const char*> algorithms[] = {{ConvAlgorithm::ImplicitGemm, "ImplicitGemm"},
                                                               {ConvAlgorithm::Im2colGemm, "Im2colGemm"}};
  for (const auto& [algorithm, label] : algorithms) {
    const std::string tag = std::string(" [") + strata::kernels::conv_algorithm_name(algorithm) + "]";
    add_conv<2>(cases, std::string("Conv2dResNet_") + label, "Conv2d(64, 64, 3, padding 1) on [1, 64, 56, 56]" + tag,
                {64, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 64, 56, 56}, gen), 0);
    add_conv<2>(cases, std::string("Conv2dResNet256_") + label,
                "Conv2d(256, 256, 3, padding 1) on [1, 256, 14, 14]" + tag,
                {256, 256, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 256, 14, 14}, gen),
                0);
    add_conv<2>(cases, std::string("Conv2dResNet512_") + label, "Conv2d(512, 512, 3, padding 1) on [1, 512, 7, 7]" + tag,
                {512, 512, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 512, 7, 7}, gen), 0);
    add_conv<2>(cases, std::string("Conv2dStride2_256to512_") + label,
                "Conv2d(256, 512, 3, stride 2, padding 1) on [1, 256, 14, 14]" + tag,
                {256, 512, {3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 256, 14, 14}, gen),
                0);
    add_conv<2>(cases, std::string("Conv2dDocs_") + label, "Conv2d(16, 33, 3, stride 2) on [20, 16, 50, 100]" + tag,
                {16, 33, {3, 3}, {2, 2}, {0, 0}, {1, 1}, 1, algorithm}, Tensor<float>::randn({20, 16, 50, 100}, gen),
                0);
  }
  // Winograd (stride 1 only) beside the direct paths above, and the layers
  // where Auto's choice between them is close.
  add_conv<2>(cases, "Conv2dResNet128", "Conv2d(128, 128, 3, padding 1) on [1, 128, 28, 28]",
              {128, 128, {3, 3}, {1, 1}, {1, 1}, {1, 1}}, Tensor<float>::randn({1, 128, 28, 28}, gen), 0);
  add_conv<2>(cases, "Conv2d5x5", "Conv2d(32, 48, 5, padding 2) on [4, 32, 40, 40]",
              {32, 48, {5, 5}, {1, 1}, {2, 2}, {1, 1}}, Tensor<float>::randn({4, 32, 40, 40}, gen), 0);
  for (const auto& [algorithm, label] : {std::pair<ConvAlgorithm, const char*>{ConvAlgorithm::Winograd, "Winograd"},
                                         std::pair<ConvAlgorithm, const char*>{ConvAlgorithm::ImplicitGemm,
                                                                               "ImplicitGemm"}}) {
    const std::string tag = std::string(" [") + strata::kernels::conv_algorithm_name(algorithm) + "]";
    if (algorithm == ConvAlgorithm::Winograd) {
      add_conv<2>(cases, "Conv2dResNet_Winograd", "Conv2d(64, 64, 3, padding 1) on [1, 64, 56, 56]" + tag,
                  {64, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 64, 56, 56}, gen),
                  0);
      add_conv<2>(cases, "Conv2dResNet256_Winograd", "Conv2d(256, 256, 3, padding 1) on [1, 256, 14, 14]" + tag,
                  {256, 256, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm},
                  Tensor<float>::randn({1, 256, 14, 14}, gen), 0);
      add_conv<2>(cases, "Conv2dResNet512_Winograd", "Conv2d(512, 512, 3, padding 1) on [1, 512, 7, 7]" + tag,
                  {512, 512, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 512, 7, 7}, gen),
                  0);
    }
    add_conv<2>(cases, std::string("Conv2dResNetBatch8_") + label, "Conv2d(64, 64, 3, padding 1) on [8, 64, 56, 56]" + tag,
                {64, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({8, 64, 56, 56}, gen), 0);
    add_conv<2>(cases, std::string("Conv2dResNet128_") + label, "Conv2d(128, 128, 3, padding 1) on [1, 128, 28, 28]" + tag,
                {128, 128, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 128, 28, 28}, gen),
                0);
    add_conv<2>(cases, std::string("Conv2d5x5_") + label, "Conv2d(32, 48, 5, padding 2) on [4, 32, 40, 40]" + tag,
                {32, 48, {5, 5}, {1, 1}, {2, 2}, {1, 1}, 1, algorithm}, Tensor<float>::randn({4, 32, 40, 40}, gen), 0);
    add_conv<2>(cases, std::string("Conv2dSmall32_") + label, "Conv2d(32, 32, 3, padding 1) on [1, 32, 56, 56]" + tag,
                {32, 32, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, algorithm}, Tensor<float>::randn({1, 32, 56, 56}, gen), 0);
    add_conv<1>(cases, std::string("Conv1dK3_") + label, "Conv1d(64, 64, 3, padding 1) on [8, 64, 1000]" + tag,
                {64, 64, {3}, {1}, {1}, {1}, 1, algorithm}, Tensor<float>::randn({8, 64, 1000}, gen), 0);
  }
  add_bilinear(cases);
  add_im2col(cases);
}

}  // namespace strata_bench
