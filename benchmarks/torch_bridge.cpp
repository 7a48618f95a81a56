// libtorch runners for strata_bench (see torch_bridge.hpp).

#include "torch_bridge.hpp"

#ifdef STRATA_BENCH_WITH_LIBTORCH

#include <dlfcn.h>

#include <benchmark/benchmark.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <fstream>

namespace strata_bench {
namespace {

/// A torch view of a strata tensor's memory: same sizes, strides and data.
at::Tensor view_of(const strata::Tensor<float>& t) {
  const std::vector<std::int64_t> sizes(t.shape().begin(), t.shape().end());
  return torch::from_blob(const_cast<float*>(t.data()), sizes, t.strides(), torch::kFloat32);
}

/// A runner that keeps the strata tensors alive and runs `op` under NoGradGuard.
template <typename Op>
Runner make_runner(std::vector<strata::Tensor<float>> keep, Op op) {
  return [keep = std::move(keep), op]() {
    at::NoGradGuard no_grad;
    at::Tensor y = op();
    benchmark::DoNotOptimize(y.data_ptr());
  };
}

template <typename F>
F blas_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

bool libtorch_available() { return true; }

std::string libtorch_description() {
  std::string text = "libtorch " TORCH_VERSION;
  if (auto config = blas_symbol<char* (*)()>("openblas_get_config")) {
    text += ", GEMM through OpenBLAS (";
    text += config();
    text += ")";
  } else {
    text += ", no OpenBLAS loaded (reference BLAS? install libopenblas0 for a fair comparison)";
  }
  return text;
}

void set_libtorch_threads(int n) {
  at::set_num_threads(n);
  // OpenBLAS's pthread build keeps its own pool, sized to the machine, which
  // at::set_num_threads does not touch.
  if (auto set = blas_symbol<void (*)(int)>("openblas_set_num_threads")) set(n);
}

Runner torch_linear(const strata::Tensor<float>& x, const strata::Tensor<float>& w, const strata::Tensor<float>& b) {
  at::Tensor tx = view_of(x), tw = view_of(w), tb = b.defined() ? view_of(b) : at::Tensor();
  return make_runner({x, w, b}, [=] { return at::linear(tx, tw, tb); });
}

Runner torch_bilinear(const strata::Tensor<float>& x1, const strata::Tensor<float>& x2,
                      const strata::Tensor<float>& w, const strata::Tensor<float>& b) {
  at::Tensor t1 = view_of(x1), t2 = view_of(x2), tw = view_of(w), tb = b.defined() ? view_of(b) : at::Tensor();
  return make_runner({x1, x2, w, b}, [=] { return at::bilinear(t1, t2, tw, tb); });
}

Runner torch_conv(const strata::Tensor<float>& x, const strata::Tensor<float>& w, const strata::Tensor<float>& b,
                  const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding,
                  const std::vector<std::int64_t>& dilation, std::int64_t groups) {
  at::Tensor tx = view_of(x), tw = view_of(w), tb = b.defined() ? view_of(b) : at::Tensor();
  if (x.dim() == 3) {
    return make_runner({x, w, b}, [=] { return at::conv1d(tx, tw, tb, stride, padding, dilation, groups); });
  }
  if (x.dim() == 5) {
    return make_runner({x, w, b}, [=] { return at::conv3d(tx, tw, tb, stride, padding, dilation, groups); });
  }
  return make_runner({x, w, b}, [=] { return at::conv2d(tx, tw, tb, stride, padding, dilation, groups); });
}

Runner torch_conv_transpose(const strata::Tensor<float>& x, const strata::Tensor<float>& w,
                            const strata::Tensor<float>& b, const std::vector<std::int64_t>& stride,
                            const std::vector<std::int64_t>& padding, const std::vector<std::int64_t>& output_padding,
                            std::int64_t groups, const std::vector<std::int64_t>& dilation) {
  at::Tensor tx = view_of(x), tw = view_of(w), tb = b.defined() ? view_of(b) : at::Tensor();
  if (x.dim() == 3) {
    return make_runner({x, w, b}, [=] {
      return at::conv_transpose1d(tx, tw, tb, stride, padding, output_padding, groups, dilation);
    });
  }
  return make_runner({x, w, b}, [=] {
    return at::conv_transpose2d(tx, tw, tb, stride, padding, output_padding, groups, dilation);
  });
}

Runner torch_dcgan_generator(const strata::Tensor<float>& z, const std::vector<strata::Tensor<float>>& weights,
                             const std::vector<strata::Tensor<float>>& biases) {
  std::vector<at::Tensor> tw, tb;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    tw.push_back(view_of(weights[i]));
    tb.push_back(biases[i].defined() ? view_of(biases[i]) : at::Tensor());
  }
  std::vector<strata::Tensor<float>> keep = weights;
  keep.insert(keep.end(), biases.begin(), biases.end());
  keep.push_back(z);
  at::Tensor tz = view_of(z);
  return make_runner(keep, [=] {
    at::Tensor h = tz;
    for (std::size_t i = 0; i < tw.size(); ++i) {
      const std::int64_t s = i == 0 ? 1 : 2, p = i == 0 ? 0 : 1;
      h = at::conv_transpose2d(h, tw[i], tb[i], {s, s}, {p, p});
      h = i + 1 < tw.size() ? at::relu(h) : at::tanh(h);
    }
    return h;
  });
}

Runner torch_im2col(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                    const std::vector<std::int64_t>& dilation, const std::vector<std::int64_t>& padding,
                    const std::vector<std::int64_t>& stride) {
  at::Tensor tx = view_of(x);
  return make_runner({x}, [=] { return at::im2col(tx, kernel, dilation, padding, stride); });
}

Runner torch_add(const strata::Tensor<float>& a, const strata::Tensor<float>& b) {
  at::Tensor ta = view_of(a), tb = view_of(b);
  return make_runner({a, b}, [=] { return at::add(ta, tb); });
}

Runner torch_mul(const strata::Tensor<float>& a, const strata::Tensor<float>& b) {
  at::Tensor ta = view_of(a), tb = view_of(b);
  return make_runner({a, b}, [=] { return at::mul(ta, tb); });
}

Runner torch_mean(const strata::Tensor<float>& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  at::Tensor tx = view_of(x);
  return make_runner({x}, [=] { return at::mean(tx, dims, keepdim); });
}

Runner torch_activation(const strata::Tensor<float>& x, const std::string& op, std::int64_t dim) {
  at::Tensor tx = view_of(x);
  if (op == "relu") return make_runner({x}, [=] { return at::relu(tx); });
  if (op == "silu") return make_runner({x}, [=] { return at::silu(tx); });
  if (op == "gelu") return make_runner({x}, [=] { return at::gelu(tx); });
  if (op == "hardswish") return make_runner({x}, [=] { return at::hardswish(tx); });
  if (op == "sigmoid") return make_runner({x}, [=] { return at::sigmoid(tx); });
  if (op == "tanh") return make_runner({x}, [=] { return at::tanh(tx); });
  if (op == "softmax") return make_runner({x}, [=] { return at::softmax(tx, dim); });
  if (op == "log_softmax") return make_runner({x}, [=] { return at::log_softmax(tx, dim); });
  return {};
}

Runner torch_batch_norm(const strata::Tensor<float>& x, const strata::Tensor<float>& weight,
                        const strata::Tensor<float>& bias, const strata::Tensor<float>& running_mean,
                        const strata::Tensor<float>& running_var, double eps) {
  at::Tensor tx = view_of(x), tw = view_of(weight), tb = view_of(bias), tm = view_of(running_mean),
             tv = view_of(running_var);
  return make_runner({x, weight, bias, running_mean, running_var},
                     [=] { return at::batch_norm(tx, tw, tb, tm, tv, false, 0.1, eps, false); });
}

Runner torch_max_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                        const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding) {
  at::Tensor tx = view_of(x);
  return make_runner({x}, [=] { return at::max_pool2d(tx, kernel, stride, padding); });
}

Runner torch_avg_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                        const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding) {
  at::Tensor tx = view_of(x);
  return make_runner({x}, [=] { return at::avg_pool2d(tx, kernel, stride, padding); });
}

Runner torch_adaptive_avg_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& output_size) {
  at::Tensor tx = view_of(x);
  return make_runner({x}, [=] { return at::adaptive_avg_pool2d(tx, output_size); });
}

Runner torch_script_module(const std::string& path, const strata::Tensor<float>& x, strata::Tensor<float>* output) {
  if (!std::ifstream(path).good()) return {};
  torch::jit::Module loaded = torch::jit::load(path);
  auto module = std::make_shared<torch::jit::Module>(torch::jit::optimize_for_inference(loaded));
  at::Tensor tx = view_of(x);
  at::NoGradGuard no_grad;
  // The profiling executor specialises the graph over the first runs: keep them out of the timing.
  at::Tensor y;
  for (int run = 0; run < 3; ++run) y = module->forward({tx}).toTensor();
  if (output != nullptr) {
    y = y.contiguous();
    std::vector<strata::index_t> sizes(y.sizes().begin(), y.sizes().end());
    *output = strata::Tensor<float>::empty(strata::Shape(sizes));
    std::copy(y.data_ptr<float>(), y.data_ptr<float>() + y.numel(), output->data());
  }
  return [module, tx, keep = x] {
    at::NoGradGuard no_grad_run;
    at::Tensor out = module->forward({tx}).toTensor();
    benchmark::DoNotOptimize(out.data_ptr());
  };
}

}  // namespace strata_bench

#else  // no libtorch in this build

namespace strata_bench {

bool libtorch_available() { return false; }
std::string libtorch_description() {
  return "libtorch: not in this build (configure with -DSTRATA_WITH_LIBTORCH=ON, see the README)";
}
void set_libtorch_threads(int) {}
Runner torch_linear(const strata::Tensor<float>&, const strata::Tensor<float>&, const strata::Tensor<float>&) {
  return {};
}
Runner torch_bilinear(const strata::Tensor<float>&, const strata::Tensor<float>&, const strata::Tensor<float>&,
                      const strata::Tensor<float>&) {
  return {};
}
Runner torch_conv(const strata::Tensor<float>&, const strata::Tensor<float>&, const strata::Tensor<float>&,
                  const std::vector<std::int64_t>&, const std::vector<std::int64_t>&,
                  const std::vector<std::int64_t>&, std::int64_t) {
  return {};
}
Runner torch_im2col(const strata::Tensor<float>&, const std::vector<std::int64_t>&, const std::vector<std::int64_t>&,
                    const std::vector<std::int64_t>&, const std::vector<std::int64_t>&) {
  return {};
}
Runner torch_conv_transpose(const strata::Tensor<float>&, const strata::Tensor<float>&, const strata::Tensor<float>&,
                            const std::vector<std::int64_t>&, const std::vector<std::int64_t>&,
                            const std::vector<std::int64_t>&, std::int64_t, const std::vector<std::int64_t>&) {
  return {};
}
Runner torch_dcgan_generator(const strata::Tensor<float>&, const std::vector<strata::Tensor<float>>&,
                             const std::vector<strata::Tensor<float>>&) {
  return {};
}

Runner torch_add(const strata::Tensor<float>&, const strata::Tensor<float>&) { return {}; }
Runner torch_mul(const strata::Tensor<float>&, const strata::Tensor<float>&) { return {}; }
Runner torch_mean(const strata::Tensor<float>&, const std::vector<std::int64_t>&, bool) { return {}; }
Runner torch_activation(const strata::Tensor<float>&, const std::string&, std::int64_t) { return {}; }
Runner torch_batch_norm(const strata::Tensor<float>&, const strata::Tensor<float>&, const strata::Tensor<float>&,
                        const strata::Tensor<float>&, const strata::Tensor<float>&, double) {
  return {};
}
Runner torch_max_pool2d(const strata::Tensor<float>&, const std::vector<std::int64_t>&,
                        const std::vector<std::int64_t>&, const std::vector<std::int64_t>&) {
  return {};
}
Runner torch_avg_pool2d(const strata::Tensor<float>&, const std::vector<std::int64_t>&,
                        const std::vector<std::int64_t>&, const std::vector<std::int64_t>&) {
  return {};
}
Runner torch_adaptive_avg_pool2d(const strata::Tensor<float>&, const std::vector<std::int64_t>&) { return {}; }

Runner torch_script_module(const std::string&, const strata::Tensor<float>&, strata::Tensor<float>*) { return {}; }

}  // namespace strata_bench

#endif
