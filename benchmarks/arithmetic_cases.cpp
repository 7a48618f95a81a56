// Tensor arithmetic cases of strata_bench: the element-wise operations of a CNN's forward pass
// (a residual add, a squeeze-excitation gate, a global average pool by mean), strata's operators
// next to at::add / at::mul / at::mean on the same tensors. Memory-bound: the table shows GB/s of
// the bytes each run reads and writes.

#include <benchmark/benchmark.h>
#include <strata/core/tensor.hpp>

#include "bench_case.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

using strata::Tensor;

Tensor<float> randn_arith(strata::Shape shape, std::uint64_t seed) {
  strata::Generator gen(seed);
  return Tensor<float>::randn(std::move(shape), gen);
}

Case arith_case(std::string name, std::string what, double bytes, std::int64_t output_bytes) {
  Case c;
  c.name = std::move(name);
  c.what = std::move(what);
  c.bytes = bytes;
  c.output_bytes = output_bytes;
  return c;
}

}  // namespace

void add_arithmetic_cases(std::vector<Case>& cases) {
  const Tensor<float> x = randn_arith({8, 64, 56, 56}, 30), r = randn_arith({8, 64, 56, 56}, 31);
  const Tensor<float> gate = randn_arith({8, 64, 1, 1}, 32);
  const double map_bytes = static_cast<double>(x.numel()) * sizeof(float);
  const auto out_bytes = static_cast<std::int64_t>(map_bytes);

  Case add = arith_case("AddResidual", "[8, 64, 56, 56] + [8, 64, 56, 56]", 3 * map_bytes, out_bytes);
  add.strata = [x, r] {
    Tensor<float> y = x + r;
    benchmark::DoNotOptimize(y.data());
  };
  add.torch = torch_add(x, r);
  cases.push_back(std::move(add));

  Case mul = arith_case("MulSEGate", "[8, 64, 56, 56] * [8, 64, 1, 1]", 2 * map_bytes, out_bytes);
  mul.strata = [x, gate] {
    Tensor<float> y = x * gate;
    benchmark::DoNotOptimize(y.data());
  };
  mul.torch = torch_mul(x, gate);
  cases.push_back(std::move(mul));

  Case mean = arith_case("MeanHW", "[8, 64, 56, 56].mean({2, 3}, keepdim)", map_bytes, 8 * 64 * sizeof(float));
  mean.strata = [x] {
    Tensor<float> y = x.mean({2, 3}, true);
    benchmark::DoNotOptimize(y.data());
  };
  mean.torch = torch_mean(x, {2, 3}, true);
  cases.push_back(std::move(mean));
}

}  // namespace strata_bench
