// Linear cases of strata_bench: PERF.md's shapes, strata's nn::Linear next to
// at::linear on the same weights and inputs.

#include <memory>

#include <benchmark/benchmark.h>
#include <strata/kernels/linear.hpp>
#include <strata/nn/linear.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::index_t;
using strata::Tensor;

void add_linear(std::vector<Case>& cases, std::string name, std::string what, const Tensor<float>& x,
                index_t in_features, index_t out_features, double goal) {
  strata::Generator gen(1);
  auto layer = std::make_shared<strata::nn::Linear<float>>(in_features, out_features);
  layer->reset_parameters(gen);
  const index_t rows = x.numel() / in_features;

  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  c.flops = 2.0 * static_cast<double>(rows) * static_cast<double>(in_features) * static_cast<double>(out_features);
  // The memory traffic a run cannot avoid (read x, w, b; write y), for the
  // table's roofline: the single-row Linear is bound by reading its weight.
  c.bytes = sizeof(float) * (static_cast<double>(out_features) * static_cast<double>(in_features + 1) +
                             static_cast<double>(rows) * static_cast<double>(in_features + out_features));
  c.goal = goal;
  c.output_bytes = rows * out_features * static_cast<index_t>(sizeof(float));
  c.strata = [layer, x] {
    Tensor<float> y = layer->forward(x);
    benchmark::DoNotOptimize(y.data());
  };
  // The path strata's Linear took before its fast paths: one Eigen GEMM.
  c.reference_name = "eigen_gemm";
  c.reference = [layer, x, rows, in_features, out_features] {
    Tensor<float> y = Tensor<float>::empty({rows, out_features});
    strata::kernels::linear_gemm(x.data(), layer->weight().data(), layer->bias().data(), y.data(), rows,
                                 in_features, out_features);
    benchmark::DoNotOptimize(y.data());
  };
  c.torch = torch_linear(x, layer->weight(), layer->bias());
  cases.push_back(std::move(c));
}

Tensor<float> randn(strata::Shape shape, std::uint64_t seed) {
  strata::Generator gen(seed);
  return Tensor<float>::randn(std::move(shape), gen);
}

}  // namespace

const Tensor<float>& classic_input() {
  static const Tensor<float> x = randn({128, 256, 8}, 10);
  return x;
}

// Goals of the speed issue (13); Linear(1024, 1024)'s is also >= 80% of the FMA peak (the table's limit column).
void add_linear_cases(std::vector<Case>& cases) {
  add_linear(cases, "LinearClassic", "Linear(8, 32) on [128, 256, 8]", classic_input(), 8, 32, 0.40);
  add_linear(cases, "Linear1024", "Linear(1024, 1024) on [4096, 1024]", randn({4096, 1024}, 11), 1024, 1024, 1.0);
  add_linear(cases, "LinearSmall", "Linear(20, 30) on [128, 20]", randn({128, 20}, 12), 20, 30, 0.35);
  add_linear(cases, "LinearRow", "Linear(4096, 4096) on [1, 4096]", randn({1, 4096}, 13), 4096, 4096, 0.30);
}

}  // namespace strata_bench
