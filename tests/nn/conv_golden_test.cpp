// Conv1d / Conv2d against PyTorch: every conv case of tests/reference/golden
// (made by tests/reference/generate_golden.py with torch 1.13; each file's first
// comment is the producing torch call). For each case we build the layer from
// the case's options, copy in torch's weight and bias, run forward on torch's
// input and compare with torch's output.
//
// Tolerance: both torch and strata compute each output element as a sum of
// R = in_channels/groups * prod(kernel_size) rounded products plus the bias, in
// the case's dtype, in some order. Each is within gamma_(R+1) * sum|w*x| + |b| of
// the exact value (Higham 3.1), so they differ by at most twice that: we accept
// 2 * reference_tolerance<T> (tests/reference_conv.hpp), i.e. about
// 2 * (R + 2) * eps * sum|terms|, with eps of float or double. sum|terms| comes
// from the naive reference run on the same data, which must also agree.
#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include <strata/nn/conv.hpp>

#include "golden_reader.hpp"
#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata_test::GoldenCase;
using strata_test::GoldenTensor;

template <typename T>
strata::Tensor<T> to_tensor(const GoldenTensor& g) {
  std::vector<T> values;
  values.reserve(g.values.size());
  // float32 values were printed with %.9g: the cast to float restores them exactly.
  for (double v : g.values) values.push_back(static_cast<T>(v));
  return strata::Tensor<T>(strata::Shape(std::vector<index_t>(g.shape.begin(), g.shape.end())), values);
}

template <std::size_t D>
strata::nn::ExpandingArray<D> option_array(const GoldenCase& c, const std::string& key) {
  const std::vector<std::int64_t> values = c.ints(key);
  return strata::nn::ExpandingArray<D>(std::vector<index_t>(values.begin(), values.end()));
}

template <std::size_t D>
strata::nn::ConvOptions<D> options_of(const GoldenCase& c) {
  strata::nn::ConvOptions<D> options(c.ints("in_channels").at(0), c.ints("out_channels").at(0),
                                     option_array<D>(c, "kernel_size"));
  options.stride(option_array<D>(c, "stride"))
      .dilation(option_array<D>(c, "dilation"))
      .groups(c.ints("groups").at(0))
      .bias(c.ints("bias").at(0) != 0);
  const std::string padding = c.str("padding");
  if (padding == "same") {
    options.padding(strata::nn::kSame);
  } else if (padding == "valid") {
    options.padding(strata::nn::kValid);
  } else {
    options.padding(option_array<D>(c, "padding"));
  }
  const std::string mode = c.str("padding_mode");
  if (mode == "zeros") {
    options.padding_mode(strata::nn::kZeros);
  } else if (mode == "reflect") {
    options.padding_mode(strata::nn::kReflect);
  } else if (mode == "replicate") {
    options.padding_mode(strata::nn::kReplicate);
  } else if (mode == "circular") {
    options.padding_mode(strata::nn::kCircular);
  } else {
    ADD_FAILURE() << c.name << ": unknown padding_mode " << mode;
  }
  return options;
}

struct Worst {
  double abs = 0;       // largest |strata - torch|
  double relative = 0;  // largest |strata - torch| / (1 + |torch|)
  int cases = 0;
};

template <std::size_t D, typename T>
void check_case(const GoldenCase& c, Worst& worst) {
  SCOPED_TRACE(c.name);
  const strata::nn::ConvOptions<D> options = options_of<D>(c);
  strata::nn::Conv<D, T> conv(options);
  conv.weight().copy_(to_tensor<T>(c.tensor("weight")));
  if (options.bias()) conv.bias().copy_(to_tensor<T>(c.tensor("bias")));
  ASSERT_EQ(options.bias(), c.has("bias"));

  const strata::Tensor<T> input = to_tensor<T>(c.tensor("input"));
  const strata::Tensor<T> expected = to_tensor<T>(c.tensor("output"));
  const strata::Tensor<T> output = conv(input);
  ASSERT_EQ(output.shape(), expected.shape());
  EXPECT_EQ(strata::nn::conv_output_shape(options, input.shape()), expected.shape());

  // The reference wants a batched input; torch's output of an unbatched case is unbatched.
  const bool batched = input.dim() == static_cast<index_t>(D + 2);
  const strata::Tensor<T> batched_input = batched ? input : input.unsqueeze(0);
  std::array<index_t, D> before{}, after{};
  for (std::size_t d = 0; d < D; ++d) {
    if (c.str("padding") == "same") {
      std::tie(before[d], after[d]) = strata::nn::same_padding(options.kernel_size()[d], options.dilation()[d]);
    } else if (c.str("padding") != "valid") {
      before[d] = after[d] = options.padding().values()[d];
    }
  }
  strata_test::ReferenceConv ref =
      strata_test::reference_conv<D, T>(batched_input, conv.weight(), conv.bias(), options.stride().array(), before,
                                        after, options.dilation().array(), options.groups(), options.padding_mode());
  if (!batched) ref.shape = expected.shape();
  EXPECT_TRUE(strata_test::matches_reference(output, ref));

  // Against torch: both sides carry rounding error, hence twice the tolerance.
  const std::vector<double> ours = strata_test::reference_values(output);
  const std::vector<double> torch = strata_test::reference_values(expected);
  int failures = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double diff = std::abs(ours[i] - torch[i]);
    const double tolerance = 2 * strata_test::reference_tolerance<T>(ref.magnitudes[i], ref.reduction);
    if (!(diff <= tolerance) && failures++ == 0) {  // report the first bad element of a case
      ADD_FAILURE() << "element " << i << ": strata " << ours[i] << ", torch " << torch[i] << ", |diff| " << diff
                    << " > tolerance " << tolerance;
    }
    worst.abs = std::max(worst.abs, diff);
    worst.relative = std::max(worst.relative, diff / (1 + std::abs(torch[i])));
  }
  EXPECT_EQ(failures, 0) << "elements outside the tolerance";
  ++worst.cases;
}

TEST(ConvGoldenTest, EveryConvCaseMatchesPyTorch) {
  const std::vector<std::string> paths = strata_test::list_golden_cases(STRATA_GOLDEN_DIR);
  Worst f32, f64;
  int listed = 0, conv1d = 0, conv2d = 0;
  for (const std::string& path : paths) {
    const std::string file = path.substr(path.find_last_of('/') + 1);
    if (file.rfind("conv", 0) != 0) continue;
    ++listed;
    const GoldenCase c = strata_test::read_golden_case(path);
    const bool is_float = c.dtype == "float32";
    ASSERT_TRUE(is_float || c.dtype == "float64") << c.name << ": dtype " << c.dtype;
    Worst& worst = is_float ? f32 : f64;
    if (c.layer == "conv1d") {
      ++conv1d;
      is_float ? check_case<1, float>(c, worst) : check_case<1, double>(c, worst);
    } else if (c.layer == "conv2d") {
      ++conv2d;
      is_float ? check_case<2, float>(c, worst) : check_case<2, double>(c, worst);
    } else {
      ADD_FAILURE() << c.name << ": unexpected layer " << c.layer;
    }
  }
  // A test that found nothing to compare must not pass.
  EXPECT_GT(conv1d, 0);
  EXPECT_GT(conv2d, 0);
  EXPECT_GT(f32.cases, 0);
  EXPECT_GT(f64.cases, 0);
  EXPECT_EQ(f32.cases + f64.cases, listed);
  std::cout << "[ golden   ] " << listed << " conv cases (" << conv1d << " conv1d, " << conv2d << " conv2d)\n"
            << "[ golden   ] float32: " << f32.cases << " cases, max |strata - torch| = " << f32.abs
            << ", max |diff| / (1 + |torch|) = " << f32.relative << "\n"
            << "[ golden   ] float64: " << f64.cases << " cases, max |strata - torch| = " << f64.abs
            << ", max |diff| / (1 + |torch|) = " << f64.relative << "\n";
  ::testing::Test::RecordProperty("conv_cases", listed);
}

}  // namespace
