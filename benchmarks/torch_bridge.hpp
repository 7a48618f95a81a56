#pragma once
// The libtorch side of strata_bench. Only torch_bridge.cpp includes libtorch's
// headers; without STRATA_BENCH_WITH_LIBTORCH every runner below is empty.
// Torch tensors are views (from_blob) of the strata tensors' own memory, with
// the same sizes and strides, so both libraries read the very same inputs.

#include <cstdint>
#include <string>
#include <vector>

#include <strata/core/tensor.hpp>

#include "bench_case.hpp"

namespace strata_bench {

/// True when this binary was built with libtorch.
bool libtorch_available();
/// "libtorch 1.13.1, OpenBLAS 0.3.21 ..." (or why there is none).
std::string libtorch_description();
/// at::set_num_threads(n), and OpenBLAS's own pool when libtorch uses it.
void set_libtorch_threads(int n);

/// at::linear(x, w, b); b may be undefined.
Runner torch_linear(const strata::Tensor<float>& x, const strata::Tensor<float>& w, const strata::Tensor<float>& b);
/// at::bilinear(x1, x2, w, b).
Runner torch_bilinear(const strata::Tensor<float>& x1, const strata::Tensor<float>& x2,
                      const strata::Tensor<float>& w, const strata::Tensor<float>& b);
/// at::conv1d / at::conv2d / at::conv3d (chosen by x's rank) with zero padding.
Runner torch_conv(const strata::Tensor<float>& x, const strata::Tensor<float>& w, const strata::Tensor<float>& b,
                  const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding,
                  const std::vector<std::int64_t>& dilation, std::int64_t groups);
/// at::conv_transpose1d / at::conv_transpose2d (chosen by x's rank), torch's argument order.
Runner torch_conv_transpose(const strata::Tensor<float>& x, const strata::Tensor<float>& w,
                            const strata::Tensor<float>& b, const std::vector<std::int64_t>& stride,
                            const std::vector<std::int64_t>& padding, const std::vector<std::int64_t>& output_padding,
                            std::int64_t groups, const std::vector<std::int64_t>& dilation);
/// DCGAN's generator on z: at::conv_transpose2d with weights[i], biases[i] (kernel 4; stride 1, padding 0
/// first, then stride 2, padding 1), at::relu between the layers, at::tanh after the last.
Runner torch_dcgan_generator(const strata::Tensor<float>& z, const std::vector<strata::Tensor<float>>& weights,
                             const std::vector<strata::Tensor<float>>& biases);
/// at::im2col (torch.nn.functional.unfold) of a 4-D input.
Runner torch_im2col(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                    const std::vector<std::int64_t>& dilation, const std::vector<std::int64_t>& padding,
                    const std::vector<std::int64_t>& stride);

/// at::add(a, b) and at::mul(a, b), broadcasting as torch does.
Runner torch_add(const strata::Tensor<float>& a, const strata::Tensor<float>& b);
Runner torch_mul(const strata::Tensor<float>& a, const strata::Tensor<float>& b);
/// at::mean(x, dims, keepdim).
Runner torch_mean(const strata::Tensor<float>& x, const std::vector<std::int64_t>& dims, bool keepdim);
/// at::<op>(x) for op relu, silu, gelu, hardswish, sigmoid or tanh; at::<op>(x, dim) for softmax, log_softmax.
Runner torch_activation(const strata::Tensor<float>& x, const std::string& op, std::int64_t dim = -1);
/// at::batch_norm in eval mode (running statistics).
Runner torch_batch_norm(const strata::Tensor<float>& x, const strata::Tensor<float>& weight,
                        const strata::Tensor<float>& bias, const strata::Tensor<float>& running_mean,
                        const strata::Tensor<float>& running_var, double eps);
/// at::max_pool2d / at::avg_pool2d (ceil_mode false, count_include_pad true) and at::adaptive_avg_pool2d.
Runner torch_max_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                        const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding);
Runner torch_avg_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& kernel,
                        const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding);
Runner torch_adaptive_avg_pool2d(const strata::Tensor<float>& x, const std::vector<std::int64_t>& output_size);

/// A whole TorchScript model: torch::jit::load(path), then torch::jit::optimize_for_inference (oneDNN
/// convolutions; a module that went through it cannot be saved, so it is done here), warmed up, run
/// on x. Empty when the file does not exist or the build has no libtorch; `output`, when given, gets
/// the logits of one run.
Runner torch_script_module(const std::string& path, const strata::Tensor<float>& x, strata::Tensor<float>* output);

}  // namespace strata_bench
