#pragma once
// One benchmark case of strata_bench: the same work done by strata and, when
// the build has libtorch, by libtorch on the very same weights and inputs.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <strata/core/tensor.hpp>

namespace strata_bench {

/// Runs the work once (allocating and dropping its output, as a user's call would).
using Runner = std::function<void()>;

struct Case {
  std::string name;       ///< BM_<name> in Google Benchmark's output
  std::string what;       ///< the torch-style description printed in the table
  double flops = 0;       ///< floating-point operations of one run
  double bytes = 0;       ///< for cases without arithmetic (im2col): bytes written by one run
  double goal = 0;        ///< PERF.md's goal for strata time / libtorch time (0: none)
  bool report_workspace = false;  ///< conv-like cases: print peak extra heap per call
  std::int64_t output_bytes = 0;  ///< subtracted from the peak heap to give the workspace
  Runner strata;          ///< strata's public API (layer forward or kernel)
  Runner reference;       ///< optional: the plain path a fast path replaces
  std::string reference_name;
  Runner torch;           ///< empty without libtorch
};

/// The classic speed test's input, [128, 256, 8] (Linear(8, 32) reads it, Conv1d(8, 32, 1) its permute).
const strata::Tensor<float>& classic_input();

/// Linear cases (linear_cases.cpp).
void add_linear_cases(std::vector<Case>& cases);
/// Conv1d / Conv2d, Bilinear and im2col cases (conv_cases.cpp).
void add_conv_cases(std::vector<Case>& cases);
/// Element-wise add, SE-gate multiply and mean over H, W (arithmetic_cases.cpp).
void add_arithmetic_cases(std::vector<Case>& cases);
/// ReLU, SiLU, GELU, Hardswish, Sigmoid, Tanh, Softmax, LogSoftmax (activation_cases.cpp).
void add_activation_cases(std::vector<Case>& cases);
/// BatchNorm2d, MaxPool2d (the ResNet stem), AvgPool2d, global AdaptiveAvgPool2d (pool_bn_cases.cpp).
void add_pool_bn_cases(std::vector<Case>& cases);
/// ConvTranspose2d(64, 32, 4, 2, 1), a DCGAN generator, Conv3d(16, 32, 3, padding 1) (conv_transpose_cases.cpp).
void add_conv_transpose_cases(std::vector<Case>& cases);
/// load_pt beside load_safetensors on one 84 MB state_dict (io_cases.cpp).
void add_io_cases(std::vector<Case>& cases);

/// Whole models: torchvision's ResNet-18 and MobileNetV2 on [1, 3, 224, 224], libtorch through TorchScript
/// (model_cases.cpp).
void add_model_cases(std::vector<Case>& cases);

}  // namespace strata_bench
