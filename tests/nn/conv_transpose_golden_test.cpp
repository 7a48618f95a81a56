// ConvTranspose1d / ConvTranspose2d against PyTorch: every case of
// tests/reference/golden_conv_transpose (written by
// tests/reference/generate_conv_transpose_golden.py with torch 1.13; each
// file's first comment is the producing torch call, its `output_size` line the
// list passed to forward). For each case we build the layer from the case's
// options, copy in torch's weight and bias, run forward on torch's input and
// compare with torch's output, and with the naive scatter reference; a case
// with stride 1, output_padding 0 and padding <= dilation * (kernel - 1) also
// runs its to_conv form (nn/conversions.hpp) against torch's output.
//
// Tolerance: torch and strata each sum at most R = in_channels/groups *
// prod(kernel_size) rounded products plus the bias per output element, in
// some order; each is within ~(R + 2) * eps * sum|terms| of the exact value
// (Higham 3.1), so they may differ by twice that: 2 * reference_tolerance<T>.
#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <strata/nn/conv_transpose.hpp>
#include <strata/nn/conversions.hpp>

#include "golden_reader.hpp"
#include "reference_conv_transpose.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata_test::GoldenCase;
using strata_test::GoldenTensor;

std::string conv_transpose_golden_dir() { return std::string(STRATA_GOLDEN_DIR) + "/../golden_conv_transpose"; }

template <typename T>
strata::Tensor<T> conv_transpose_golden_tensor(const GoldenTensor& g) {
  std::vector<T> values;
  for (double v : g.values) values.push_back(static_cast<T>(v));  // %.9g float32 values round-trip through float
  return strata::Tensor<T>(strata::Shape(std::vector<index_t>(g.shape.begin(), g.shape.end())), values);
}

template <std::size_t D>
std::array<index_t, D> conv_transpose_golden_array(const GoldenCase& c, const std::string& key) {
  const std::vector<std::int64_t> v = c.ints(key);
  std::array<index_t, D> out{};
  for (std::size_t d = 0; d < D; ++d) out[d] = v.at(d);
  return out;
}

struct ConvTransposeWorst {
  double abs = 0, relative = 0;
  int cases = 0, converted = 0;  ///< cases, and those also checked through to_conv
};

template <std::size_t D, typename T>
void conv_transpose_golden_case(const GoldenCase& c, ConvTransposeWorst& worst) {
  SCOPED_TRACE(c.name);
  const auto kernel = conv_transpose_golden_array<D>(c, "kernel_size");
  const auto stride = conv_transpose_golden_array<D>(c, "stride"), padding = conv_transpose_golden_array<D>(c, "padding");
  const auto output_padding = conv_transpose_golden_array<D>(c, "output_padding");
  const auto dilation = conv_transpose_golden_array<D>(c, "dilation");
  const index_t groups = c.ints("groups").at(0);
  const auto options = strata::nn::ConvTransposeOptions<D>(c.ints("in_channels").at(0), c.ints("out_channels").at(0),
                                                           kernel)
                           .stride(stride)
                           .padding(padding)
                           .output_padding(output_padding)
                           .dilation(dilation)
                           .groups(groups)
                           .bias(c.ints("bias").at(0) != 0);
  strata::nn::ConvTranspose<D, T> m(options);
  m.weight().copy_(conv_transpose_golden_tensor<T>(c.tensor("weight")));
  ASSERT_EQ(options.bias(), c.has("bias"));
  if (options.bias()) m.bias().copy_(conv_transpose_golden_tensor<T>(c.tensor("bias")));
  const strata::Tensor<T> input = conv_transpose_golden_tensor<T>(c.tensor("input"));
  const strata::Tensor<T> expected = conv_transpose_golden_tensor<T>(c.tensor("output"));
  std::vector<index_t> output_size;
  if (c.has_option("output_size")) {
    for (std::int64_t v : c.ints("output_size")) output_size.push_back(v);
  }
  const strata::Tensor<T> output = output_size.empty() ? m(input) : m(input, output_size);
  ASSERT_EQ(output.shape(), expected.shape());
  EXPECT_EQ(strata::nn::conv_transpose_output_shape(options, input.shape(), output_size), expected.shape());

  // The naive reference with the output_padding that output_size implies (the output's extra length).
  const bool batched = input.dim() == static_cast<index_t>(D + 2);
  std::array<index_t, D> used_padding = output_padding;
  for (std::size_t d = 0; d < D; ++d) {
    const index_t in = input.size(static_cast<index_t>(input.dim() - D + d));
    const index_t lo = (in - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + 1;
    used_padding[d] = expected.size(static_cast<index_t>(expected.dim() - D + d)) - lo;
  }
  strata_test::ReferenceConv ref = strata_test::reference_conv_transpose<D, T>(
      batched ? input : input.unsqueeze(0), m.weight(), m.bias(), stride, padding, used_padding, dilation, groups);
  if (!batched) ref.shape = expected.shape();
  EXPECT_TRUE(strata_test::matches_reference(output, ref));

  const std::vector<double> ours = strata_test::reference_values(output), torch = strata_test::reference_values(expected);
  int failures = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double diff = std::abs(ours[i] - torch[i]);
    const double tolerance = 2 * strata_test::reference_tolerance<T>(ref.magnitudes[i], ref.reduction);
    if (!(diff <= tolerance) && failures++ == 0) {
      ADD_FAILURE() << "element " << i << ": strata " << ours[i] << ", torch " << torch[i] << ", |diff| " << diff;
    }
    worst.abs = std::max(worst.abs, diff);
    worst.relative = std::max(worst.relative, diff / (1 + std::abs(torch[i])));
  }
  EXPECT_EQ(failures, 0);
  ++worst.cases;

  // The exact Conv form of a stride-1 case: the same products, so the same bound against torch.
  bool convertible = output_size.empty();
  for (std::size_t d = 0; d < D; ++d) {
    convertible = convertible && stride[d] == 1 && output_padding[d] == 0 && padding[d] <= dilation[d] * (kernel[d] - 1);
  }
  if (!convertible) return;
  const strata::Tensor<T> converted = strata::nn::to_conv(m)(input);
  ASSERT_EQ(converted.shape(), expected.shape());
  const std::vector<double> conv_values = strata_test::reference_values(converted);
  int conv_failures = 0;
  for (std::size_t i = 0; i < conv_values.size(); ++i) {
    const double tolerance = 2 * strata_test::reference_tolerance<T>(ref.magnitudes[i], ref.reduction);
    if (!(std::abs(conv_values[i] - torch[i]) <= tolerance) && conv_failures++ == 0) {
      ADD_FAILURE() << "to_conv, element " << i << ": " << conv_values[i] << ", torch " << torch[i];
    }
  }
  ++worst.converted;
}

TEST(ConvTransposeGoldenTest, EveryCaseMatchesPyTorch) {
  ConvTransposeWorst f32, f64;
  int one = 0, two = 0, sized = 0;
  for (const std::string& path : strata_test::list_golden_cases(conv_transpose_golden_dir())) {
    const GoldenCase c = strata_test::read_golden_case(path);
    const bool is_float = c.dtype == "float32";
    ASSERT_TRUE(is_float || c.dtype == "float64") << c.name;
    ConvTransposeWorst& worst = is_float ? f32 : f64;
    sized += c.has_option("output_size") ? 1 : 0;
    if (c.layer == "conv_transpose1d") {
      ++one;
      is_float ? conv_transpose_golden_case<1, float>(c, worst) : conv_transpose_golden_case<1, double>(c, worst);
    } else if (c.layer == "conv_transpose2d") {
      ++two;
      is_float ? conv_transpose_golden_case<2, float>(c, worst) : conv_transpose_golden_case<2, double>(c, worst);
    } else {
      ADD_FAILURE() << c.name << ": unexpected layer " << c.layer;
    }
  }
  EXPECT_GT(one, 0);
  EXPECT_GT(two, 0);
  EXPECT_GT(sized, 0);
  EXPECT_GT(f32.cases, 0);
  EXPECT_GT(f64.cases, 0);
  EXPECT_GE(f32.converted + f64.converted, 10);
  std::cout << "[ golden   ] " << one + two << " ConvTranspose cases (" << one << " 1-d, " << two << " 2-d, " << sized
            << " with output_size, " << f32.converted + f64.converted << " also through to_conv)\n"
            << "[ golden   ] float32: max |strata - torch| = " << f32.abs << ", max |diff| / (1 + |torch|) = "
            << f32.relative << "\n"
            << "[ golden   ] float64: max |strata - torch| = " << f64.abs << ", max |diff| / (1 + |torch|) = "
            << f64.relative << "\n";
}

}  // namespace
