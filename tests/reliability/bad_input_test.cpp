// Bad input never crashes: every public entry point, given what a config file
// or someone else's model might contain — negative, zero, huge and
// overflowing sizes, wrong ranks and channel counts, undefined tensors,
// inconsistent options — answers with a strata::Error whose message says what
// is wrong, before it allocates anything absurd. Each row of the tables below
// is one distinct bad input; the test counts them (the number is printed and
// recorded as the `bad_input_cases` property). Under the `sanitize` preset
// the same rows also prove that no refusal reads or computes out of bounds.
//
// Edge inputs with a right answer (empty tensors, NaN/Inf, non-contiguous
// views, aliasing, allocation limits) have their own files in this directory.
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "io/temp_dir.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;
namespace F = strata::nn::functional;

constexpr index_t kMax = std::numeric_limits<index_t>::max();
constexpr index_t kMin = std::numeric_limits<index_t>::min();
constexpr index_t k2p20 = index_t{1} << 20, k2p30 = index_t{1} << 30, k2p32 = index_t{1} << 32;
constexpr index_t k2p40 = index_t{1} << 40, k2p62 = index_t{1} << 62;
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

/// v, hidden from the optimiser: GCC otherwise warns about the loop that a
/// constant huge size would run if the allocation before it did not throw.
index_t at_run_time(index_t v) {
  volatile index_t hidden = v;
  return hidden;
}

/// One bad input: what it is, the call, and the part of the message that must explain it.
struct BadInput {
  std::string name;
  std::function<void()> call;
  std::string message;
};

/// Receives one area's table (the objects its rows use live while it runs).
using Sink = std::function<void(const char* area, const std::vector<BadInput>& rows)>;

/// Runs every row; each must throw strata::Error containing its message.
void expect_all_refused(const char* area, const std::vector<BadInput>& rows) {
  std::set<std::string> names;
  for (const BadInput& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_TRUE(names.insert(row.name).second) << "duplicate row name " << row.name;
    EXPECT_THROW_WITH(row.call(), strata::Error, row.message);
  }
  std::cout << "[ bad input ] " << area << ": " << rows.size() << " cases\n";
  ::testing::Test::RecordProperty("cases", static_cast<int>(rows.size()));
}

Tensor<float> randn(Shape shape) {
  static strata::Generator gen(11);
  return Tensor<float>::randn(std::move(shape), gen);
}

// ---- core -------------------------------------------------------------------

void tensor_factories(const Sink& sink) {
  strata::Generator gen(1);
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "Tensor factories",
      {
          {"empty negative", [] { Tensor<float>::empty({-1}); }, "Tensor: sizes must be non-negative, got shape [-1]"},
          {"zeros negative inner", [] { Tensor<float>::zeros({2, -3}); }, "got shape [2, -3]"},
          {"ones INT64_MIN", [] { Tensor<double>::ones({kMin}); }, "sizes must be non-negative"},
          {"full negative with zero", [] { Tensor<float>::full({0, -1}, 1.f); }, "sizes must be non-negative"},
          {"full overflowing numel", [] { Tensor<float>::full({k2p32, k2p32}, 1.f); },
           "Tensor: the number of elements of shape [4294967296, 4294967296] overflows int64"},
          {"empty numel overflow 2^64", [] { Tensor<float>::empty({k2p62, 4}); }, "overflows int64"},
          {"empty INT64_MAX elements", [] { Tensor<float>::empty({kMax}); }, "Tensor: size product overflows int64"},
          {"empty 2^40 floats over the limit", [] { Tensor<float>::empty({k2p40}); },
           "Tensor: refusing to allocate 4398046511104 bytes (limit STRATA_MAX_ALLOC_BYTES"},
          {"zeros 128 GiB of double", [] { Tensor<double>::zeros({index_t{1} << 33, 2}); }, "refusing to allocate"},
          {"values fewer than the shape", [] { Tensor<float>(Shape{2, 3}, {1, 2, 3}); },
           "Tensor: shape [2, 3] needs 6 values, got 3"},
          {"values more than the shape", [] { Tensor<float>(Shape{1}, {1, 2}); }, "needs 1 values, got 2"},
          {"values for a 32 GiB shape", [] { Tensor<float>(Shape{k2p30, 8}, {1.f}); },
           "Tensor: shape [1073741824, 8] needs 8589934592 values, got 1"},
          {"values negative shape", [] { Tensor<float>(Shape{-2}, {1.f}); }, "sizes must be non-negative"},
          {"arange negative", [] { Tensor<float>::arange(-1); }, "arange: expected n >= 0, got -1"},
          {"arange INT64_MAX", [] { Tensor<float>::arange(at_run_time(kMax)); }, "overflows int64"},
          {"randn negative", [&] { Tensor<float>::randn({-2}, gen); }, "sizes must be non-negative"},
          {"rand overflow", [&] { Tensor<float>::rand({k2p62, 4}, gen); }, "overflows int64"},
          {"randn over the limit", [&] { Tensor<double>::randn({k2p40}, gen); }, "refusing to allocate"},
          {"uniform low > high", [&] { Tensor<float>::uniform({2}, 1.f, 0.f, gen); },
           "uniform: expected low <= high, got low=1 high=0"},
          {"uniform NaN low", [&] { Tensor<float>::uniform({2}, kNaN, 1.f, gen); }, "uniform: expected"},
          {"uniform NaN high", [&] { Tensor<double>::uniform({2}, 0.0, std::nan(""), gen); }, "uniform: expected"},
          {"uniform infinite bounds", [&] { Tensor<float>::uniform({2}, -kInf, kInf, gen); },
           "uniform: expected finite bounds"},
          {"uniform infinite high", [&] { Tensor<double>::uniform({2}, 0.0, HUGE_VAL, gen); },
           "uniform: expected finite bounds"},
          {"uniform range overflows float", [&] { Tensor<float>::uniform({2}, -3e38f, 3e38f, gen); },
           "uniform: expected high - low to be finite"},
      });
  // clang-format on
}

void views_and_element_access(const Sink& sink) {
  const Tensor<float> t = randn({2, 3});
  const Tensor<float> empty = Tensor<float>::zeros({0, 3});
  const Tensor<float> undefined;
  Tensor<float> target = Tensor<float>::zeros({2, 3});
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "views and element access",
      {
          {"reshape wrong count", [&] { t.reshape({4, 2}); },
           "reshape: shape [4, 2] is invalid for input of size 6 (shape [2, 3])"},
          {"reshape two -1", [&] { t.reshape({-1, -1}); }, "reshape: only one dimension can be inferred"},
          {"reshape -2", [&] { t.reshape({-2, 3}); }, "reshape: invalid shape dimension -2"},
          {"reshape INT64_MIN", [&] { t.reshape({kMin}); }, "reshape: invalid shape dimension"},
          {"reshape -1 next to 0", [&] { empty.reshape({0, -1}); }, "is invalid for input of size 0"},
          {"reshape -1 not dividing", [&] { t.reshape({4, -1}); }, "is invalid for input of size 6"},
          {"reshape overflowing product", [&] { t.reshape({k2p62, k2p62}); }, "reshape: size product overflows int64"},
          {"reshape undefined", [&] { undefined.reshape({1}); }, "Tensor::reshape: the tensor is undefined"},
          {"permute repeated dim", [&] { t.permute({0, 0}); }, "permute: repeated dim 0"},
          {"permute too few dims", [&] { t.permute({0}); },
           "permute: expected 2 dims for a tensor of shape [2, 3], got 1"},
          {"permute dim out of range", [&] { t.permute({0, 2}); },
           "permute: dimension out of range (expected to be in range of [-2, 1], but got 2)"},
          {"permute undefined", [&] { undefined.permute({}); }, "Tensor::permute: the tensor is undefined"},
          {"transpose out of range", [&] { t.transpose(0, 5); }, "transpose: dimension out of range"},
          {"transpose INT64_MIN", [&] { t.transpose(kMin, 0); }, "transpose: dimension out of range"},
          {"squeeze out of range", [&] { t.squeeze(3); }, "squeeze: dimension out of range"},
          {"unsqueeze out of range", [&] { t.unsqueeze(4); },
           "unsqueeze: dimension out of range (expected to be in range of [-3, 2], but got 4)"},
          {"unsqueeze INT64_MAX", [&] { t.unsqueeze(kMax); }, "unsqueeze: dimension out of range"},
          {"narrow past the end", [&] { t.narrow(1, 1, 5); },
           "narrow: start (1) + length (5) exceeds dimension size (3)"},
          {"narrow negative length", [&] { t.narrow(0, 0, -1); }, "narrow: start (0) + length (-1) exceeds"},
          {"narrow INT64_MIN start", [&] { t.narrow(0, kMin, 1); }, "narrow: start"},
          {"narrow INT64_MAX length", [&] { t.narrow(0, 2, kMax); }, "exceeds dimension size (2)"},
          {"size out of range", [&] { t.size(2); }, "Tensor::size: dimension out of range"},
          {"stride out of range", [&] { t.stride(-3); }, "Tensor::stride: dimension out of range"},
          {"index out of bounds", [&] { t(0, 5); }, "Tensor: index 5 is out of bounds for dimension 1 with size 3"},
          {"negative index out of bounds", [&] { t(-3, 0); }, "index -3 is out of bounds for dimension 0 with size 2"},
          {"index INT64_MIN", [&] { t.at({kMin, 0}); }, "is out of bounds for dimension 0"},
          {"too few indices", [&] { t(0); }, "Tensor: expected 2 indices for shape [2, 3], got 1"},
          {"index an empty tensor", [&] { empty(0, 0); }, "is out of bounds for dimension 0 with size 0"},
          {"index undefined", [&] { undefined.at({}); }, "Tensor: cannot index an undefined tensor"},
          {"item of many", [&] { t.item(); }, "Tensor::item: expected a tensor with one element, got shape [2, 3]"},
          {"item of empty", [&] { empty.item(); }, "Tensor::item: expected a tensor with one element"},
          {"contiguous undefined", [&] { undefined.contiguous(); }, "Tensor::contiguous: the tensor is undefined"},
          {"clone undefined", [&] { undefined.clone(); }, "Tensor::clone: the tensor is undefined"},
          {"copy_ wrong shape", [&] { target.copy_(randn({3, 2})); },
           "copy_: expected a source of shape [2, 3], got [3, 2]"},
          {"copy_ from undefined", [&] { target.copy_(undefined); }, "Tensor::copy_: the tensor is undefined"},
          {"fill_ undefined", [&] { Tensor<float>().fill_(1.f); }, "Tensor::fill_: the tensor is undefined"},
          {"sum undefined", [&] { undefined.sum(); }, "Tensor::sum: the tensor is undefined"},
          {"mean undefined", [&] { undefined.mean(); }, "Tensor::mean: the tensor is undefined"},
          {"allclose shapes differ", [&] { strata::allclose(t, randn({3, 2})); },
           "allclose: shapes differ: [2, 3] vs [3, 2]"},
          {"allclose undefined", [&] { strata::allclose(t, undefined); }, "allclose: both tensors must be defined"},
          {"max_abs_diff shapes differ", [&] { strata::max_abs_diff(t, randn({6})); }, "max_abs_diff: shapes differ"},
          {"as_matrix 3-D", [&] { strata::as_matrix(randn({2, 2, 2})); },
           "as_matrix: expected a contiguous 2-D tensor, got shape [2, 2, 2]"},
          {"as_matrix non-contiguous", [&] { strata::as_matrix(t.transpose(0, 1)); },
           "as_matrix: expected a contiguous 2-D tensor, got shape [3, 2]"},
          {"as_vector non-contiguous", [&] { strata::as_vector(t.transpose(0, 1)); },
           "as_vector: expected a contiguous tensor"},
          {"set_num_threads 0", [] { strata::set_num_threads(0); },
           "set_num_threads: expected a thread count >= 1, got 0"},
          {"set_num_threads negative", [] { strata::set_num_threads(-4); }, "got -4"},
      });
  // clang-format on
}

// ---- layer options ------------------------------------------------------------

void layer_options(const Sink& sink) {
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "layer options",
      {
          {"Linear in 0", [] { Linear<float>(0, 3); }, "Linear: expected in_features > 0, got 0"},
          {"Linear out 0", [] { Linear<float>(3, 0); }, "Linear: expected out_features > 0, got 0"},
          {"Linear in negative", [] { Linear<float>(LinearOptions(-1, 3)); }, "expected in_features > 0, got -1"},
          {"Linear INT64_MIN", [] { Linear<double>(4, kMin); }, "expected out_features > 0"},
          {"Linear overflowing weight", [] { Linear<float>(k2p40, k2p40); }, "overflows int64"},
          {"Linear weight over the limit", [] { Linear<float>(k2p20, k2p20); }, "refusing to allocate"},
          {"LazyLinear out 0", [] { LazyLinear<float>(0); }, "LazyLinear: expected out_features > 0, got 0"},
          {"LazyLinear out negative", [] { LazyLinear<double>(-3, false); }, "got -3"},
          {"Bilinear in1 0", [] { Bilinear<float>(0, 1, 1); }, "Bilinear: expected in1_features > 0, got 0"},
          {"Bilinear in2 0", [] { Bilinear<float>(1, 0, 1); }, "Bilinear: expected in2_features > 0, got 0"},
          {"Bilinear out negative", [] { Bilinear<float>(1, 1, -1); }, "Bilinear: expected out_features > 0, got -1"},
          {"Bilinear overflowing weight", [] { Bilinear<float>(k2p30, k2p30, k2p30); }, "overflows int64"},
          {"Bilinear weight over the limit", [] { Bilinear<float>(index_t{1} << 15, index_t{1} << 15, 1024); },
           "refusing to allocate"},
          {"Conv in 0", [] { Conv1d<float>(0, 1, 3); }, "Conv1d: expected in_channels > 0, got 0"},
          {"Conv out 0", [] { Conv2d<float>(1, 0, 3); }, "Conv2d: expected out_channels > 0, got 0"},
          {"Conv groups 0", [] { Conv1d<float>(Conv1dOptions(2, 2, 3).groups(0)); },
           "Conv1d: groups must be a positive integer, got groups=0"},
          {"Conv groups negative", [] { Conv2d<float>(Conv2dOptions(2, 2, 3).groups(-2)); },
           "groups must be a positive integer, got groups=-2"},
          {"Conv in not divisible", [] { Conv2d<float>(Conv2dOptions(3, 6, 3).groups(2)); },
           "Conv2d: in_channels must be divisible by groups, got in_channels=3 and groups=2"},
          {"Conv out not divisible", [] { Conv2d<float>(Conv2dOptions(4, 6, 3).groups(4)); },
           "out_channels must be divisible by groups, got out_channels=6 and groups=4"},
          {"Conv kernel 0", [] { Conv1d<float>(1, 1, 0); }, "Conv1d: expected kernel_size > 0 in every dimension"},
          {"Conv kernel negative", [] { Conv2d<float>(Conv2dOptions(1, 1, {3, -1})); },
           "expected kernel_size > 0 in every dimension, got kernel_size=[3, -1]"},
          {"Conv stride 0", [] { Conv2d<float>(Conv2dOptions(1, 1, 3).stride({1, 0})); },
           "Conv2d: expected stride >= 1 in every dimension, got stride=[1, 0] (non-positive stride is not supported)"},
          {"Conv stride negative", [] { Conv1d<float>(Conv1dOptions(1, 1, 3).stride(-1)); }, "got stride=-1"},
          {"Conv dilation 0", [] { Conv2d<float>(Conv2dOptions(1, 1, 3).dilation({1, 0})); },
           "expected dilation >= 1 in every dimension, got dilation=[1, 0] (dilation should be greater than zero)"},
          {"Conv padding negative", [] { Conv1d<float>(Conv1dOptions(1, 1, 3).padding(-1)); },
           "Conv1d: expected padding >= 0 in every dimension, got padding=-1 (negative padding is not supported)"},
          {"Conv same strided", [] { Conv2d<float>(Conv2dOptions(1, 1, 3).stride(2).padding(kSame)); },
           "Conv2d: padding='same' is not supported for strided convolutions"},
          {"Conv same with overflowing dilation",
           [] { Conv1d<float>(Conv1dOptions(1, 1, 3).dilation(kMax).padding(kSame)); },
           "Conv1d: size product overflows int64"},
          {"Conv kernel INT64_MAX", [] { Conv1d<float>(1, 1, kMax); }, "Tensor: size product overflows int64"},
          {"Conv kernel overflowing weight", [] { Conv2d<float>(Conv2dOptions(1, 1, {k2p32, k2p32})); },
           "overflows int64"},
          {"Conv weight over the limit", [] { Conv2d<float>(Conv2dOptions(1024, 1024, 1024)); },
           "refusing to allocate"},
          {"Conv padding mode out of range", [] { Conv1d<float>(Conv1dOptions(1, 1, 3).padding_mode(PaddingMode(7))); },
           "Conv1d: padding_mode must be one of {kZeros, kReflect, kReplicate, kCircular}, got the value 7"},
          {"Conv padding mode negative", [] { Conv2d<float>(Conv2dOptions(1, 1, 3).padding_mode(PaddingMode(-1))); },
           "got the value -1"},
          {"ExpandingArray too many", [] { Conv2dOptions(1, 1, {1, 2, 3}); },
           "ExpandingArray: expected 2 values, got 3 values"},
          {"ExpandingArray empty", [] { Conv1dOptions(1, 1, 3).stride(std::vector<index_t>{}); },
           "ExpandingArray: expected 1 value, got 0 values"},
          {"ConvPadding wrong length", [] { Conv2dOptions(1, 1, 3).padding({1, 2, 3}); },
           "ExpandingArray: expected 2 values, got 3"},
          {"conv_output_size negative input", [] { conv_output_size(-1, 3); },
           "conv_output_size: expected a non-negative input size, got -1"},
          {"conv_output_size kernel 0", [] { conv_output_size(5, 0); }, "conv_output_size: expected kernel_size > 0"},
          {"conv_output_size stride 0", [] { conv_output_size(5, 3, 0); }, "expected stride >= 1 in every dimension, got stride=0"},
          {"conv_output_size dilation 0", [] { conv_output_size(5, 3, 1, 0, 0); }, "expected dilation >= 1 in every dimension, got dilation=0"},
          {"conv_output_size padding negative", [] { conv_output_size(5, 3, 1, -1); }, "expected padding >= 0"},
          {"conv_output_size kernel too large", [] { conv_output_size(2, 3); },
           "Kernel size can't be greater than actual input size"},
          {"conv_output_size overflowing padding", [] { conv_output_size(kMax, 1, 1, 1); },
           "conv_output_size: size sum overflows int64"},
          {"conv_output_size overflowing dilation", [] { conv_output_size(5, 3, 1, 0, kMax); },
           "conv_output_size: size product overflows int64"},
          {"same_padding kernel 0", [] { same_padding(0); },
           "same_padding: expected kernel_size > 0 in every dimension, got kernel_size=0"},
          {"same_padding overflow", [] { same_padding(3, kMax); }, "same_padding: size product overflows int64"},
          {"conv_output_shape bad options",
           [] { conv_output_shape(Conv2dOptions(1, 1, 3).groups(0), Shape{1, 1, 5, 5}); },
           "Conv2d: groups must be a positive integer"},
          {"conv_output_shape wrong rank", [] { conv_output_shape(Conv2dOptions(1, 1, 3), Shape{5, 5}); },
           "Conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [5, 5]"},
          {"conv_output_shape negative size", [] { conv_output_shape(Conv1dOptions(1, 1, 1), Shape{1, 1, -4}); },
           "Conv1d"},
          {"conv_output_shape overflowing padding",
           [] { conv_output_shape(Conv1dOptions(1, 1, 1).padding(kMax), Shape{1, 1, 4}); },
           "Conv1d: size sum overflows int64"},
      });
  // clang-format on
}

void containers_and_state_dicts(const Sink& sink) {
  Sequential<float> net(Linear<float>(2, 3), ReLU<float>());
  Linear<float> fc(2, 3);
  LazyLinear<float> lazy(4);
  auto self = std::make_shared<Sequential<float>>(Linear<float>(2, 2));
  auto outer = std::make_shared<Sequential<float>>();
  outer->push_back("inner", self);
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "containers and state dicts",
      {
          {"push_back empty name", [&] { net.push_back("", ReLU<float>()); }, "module name can't be empty string"},
          {"push_back dotted name", [&] { net.push_back("a.b", ReLU<float>()); },
           "Sequential::push_back: module name can't contain \".\", got: a.b"},
          {"push_back duplicate name", [&] { net.push_back("0", ReLU<float>()); },
           "a child named \"0\" already exists"},
          {"push_back null", [&] { net.push_back(std::shared_ptr<ReLU<float>>()); }, "is a null pointer"},
          {"push_back itself", [&] { self->push_back(self); },
           "Sequential::push_back: adding child \"1\" would make a cycle"},
          {"push_back an ancestor", [&] { self->push_back("up", outer); }, "would make a cycle"},
          {"index out of range", [&] { net[2]; }, "Sequential: index 2 is out of range for a Sequential of 2 children"},
          {"negative index out of range", [&] { net[-3]; }, "index -3 is out of range"},
          {"unknown child name", [&] { net["features"]; }, "Sequential: no child named \"features\""},
          {"at wrong type", [&] { net.at<Linear<float>>(1); },
           "Sequential::at: child (1) is a ReLU, not the requested type"},
          {"ptr out of range", [&] { net.ptr(kMin); }, "Sequential::ptr: index"},
          {"state_dict missing key", [&] { fc.load_state_dict({{"weight", randn({3, 2})}}); },
           "Missing key(s) in state_dict: \"bias\""},
          {"state_dict unexpected key", [&] {
             fc.load_state_dict({{"weight", randn({3, 2})}, {"bias", randn({3})}, {"extra", randn({1})}});
           }, "Unexpected key(s) in state_dict: \"extra\""},
          {"state_dict wrong shape", [&] { fc.load_state_dict({{"weight", randn({2, 3})}, {"bias", randn({3})}}); },
           "size mismatch for weight: copying a param with shape [2, 3], the shape in current model is [3, 2]"},
          {"state_dict undefined tensor",
           [&] { fc.load_state_dict({{"weight", Tensor<float>()}, {"bias", randn({3})}}); },
           "size mismatch for weight: copying an undefined tensor"},
          {"state_dict nested wrong shape",
           [&] { net.load_state_dict({{"0.weight", randn({3, 2})}, {"0.bias", randn({4})}}); },
           "size mismatch for 0.bias"},
          {"LazyLinear state_dict wrong out",
           [&] { lazy.load_state_dict({{"weight", randn({5, 2})}, {"bias", randn({4})}}); },
           "copying a param with shape [5, 2], expected [4, in_features]"},
          {"LazyLinear state_dict in 0", [&] {
             lazy.load_state_dict({{"weight", Tensor<float>::zeros({4, 0})}, {"bias", randn({4})}});
           }, "with in_features > 0"},
      });
  // clang-format on
}

// ---- forward ----------------------------------------------------------------

void linear_and_bilinear_forward(const Sink& sink) {
  const Linear<float> fc(3, 4);
  Linear<float> replaced(3, 4), unbiased(3, 4, false), lost_bias(3, 4);
  replaced.weight() = randn({4, 4});
  unbiased.bias() = randn({4});
  lost_bias.bias() = Tensor<float>();
  LazyLinear<float> lazy(2), sized(2);
  sized(randn({1, 5}));
  const Bilinear<float> bl(3, 2, 4);
  Bilinear<float> bl_replaced(3, 2, 4);
  bl_replaced.weight() = randn({4, 2, 3});
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "Linear, LazyLinear and Bilinear forward",
      {
          {"Linear undefined input", [&] { fc(Tensor<float>()); }, "Linear: the input is undefined"},
          {"Linear 0-d input", [&] { fc(Tensor<float>::zeros({})); },
           "Linear: expected input of shape (*, 3) with in_features=3, got shape []"},
          {"Linear last dim mismatch", [&] { fc(randn({2, 5})); }, "Linear: expected input of shape (*, 3)"},
          {"Linear 1-D mismatch", [&] { fc(randn({5})); }, "got shape [5]"},
          {"Linear empty last dim", [&] { fc(Tensor<float>::zeros({2, 0})); }, "got shape [2, 0]"},
          {"Linear transposed input", [&] { fc(randn({3, 2}).transpose(0, 1).transpose(0, 1)); }, "got shape [3, 2]"},
          {"Linear weight replaced", [&] { replaced(randn({2, 3})); },
           "Linear: expected weight of shape [4, 3], got [4, 4]"},
          {"Linear bias set on bias=false", [&] { unbiased(randn({2, 3})); }, "was built with bias=false"},
          {"Linear bias removed", [&] { lost_bias(randn({2, 3})); },
           "expected bias of shape [4], got an undefined tensor"},
          {"LazyLinear 0-d first input", [&] { lazy(Tensor<float>::zeros({})); },
           "LazyLinear: expected an input of shape (*, in_features) with in_features > 0"},
          {"LazyLinear empty last dim", [&] { lazy(Tensor<float>::zeros({3, 0})); }, "with in_features > 0"},
          {"LazyLinear later mismatch", [&] { sized(randn({1, 6})); }, "LazyLinear: expected input of shape (*, 5)"},
          {"LazyLinear undefined", [&] { lazy(Tensor<float>()); }, "LazyLinear: the input is undefined"},
          {"Bilinear undefined", [&] { bl(Tensor<float>(), randn({2})); }, "Bilinear: input1 is undefined"},
          {"Bilinear ranks differ", [&] { bl(randn({2, 3}), randn({2})); },
           "Bilinear: input dimensions do not match: got 2 and 1"},
          {"Bilinear 0-d", [&] { bl(Tensor<float>::zeros({}), Tensor<float>::zeros({})); },
           "expected inputs with at least 1 dimension"},
          {"Bilinear leading dims differ", [&] { bl(randn({2, 3}), randn({3, 2})); },
           "input batch dimensions do not match at dim 0: got 2 and 3"},
          {"Bilinear in1 mismatch", [&] { bl(randn({2, 4}), randn({2, 2})); },
           "input1 size does not match weight size: got 4 but expected 3"},
          {"Bilinear in2 mismatch", [&] { bl(randn({2, 3}), randn({2, 5})); },
           "input2 size does not match weight size: got 5 but expected 2"},
          {"Bilinear weight replaced", [&] { bl_replaced(randn({3}), randn({2})); },
           "Bilinear: expected weight of shape [4, 3, 2], got [4, 2, 3]"},
      });
  // clang-format on
}

void conv_forward_inputs(const Sink& sink) {
  const Conv1d<float> c1(Conv1dOptions(2, 3, 3));
  const Conv2d<float> c2(Conv2dOptions(2, 3, 3));
  const Conv1d<float> reflect(Conv1dOptions(1, 1, 3).padding(4).padding_mode(kReflect));
  const Conv1d<float> circular(Conv1dOptions(1, 1, 3).padding(5).padding_mode(kCircular));
  const Conv2d<float> padded(Conv2dOptions(2, 3, 1).padding(1));
  const Conv1d<float> replicate(Conv1dOptions(1, 1, 1).padding(2).padding_mode(kReplicate));
  const Conv1d<float> huge_padding(Conv1dOptions(1, 1, 3).padding(k2p40));
  const Conv1d<float> max_padding(Conv1dOptions(1, 1, 3).padding(kMax));
  const Conv1d<float> huge_dilation(Conv1dOptions(1, 1, 3).dilation(k2p62));
  // 2^30 padding with a 2^20 stride: 2049 outputs, but the kernel's tables would follow the 2^31 padded size.
  const Conv1d<float> far_padding(Conv1dOptions(1, 1, 3).stride(k2p20).padding(k2p30));
  // 'same' padding for a 2^20 dilation: 44 outputs, but 4 million padded rows between the kernel's taps.
  const Conv2d<float> far_dilation(Conv2dOptions(1, 3, {5, 2}).dilation({k2p20, 2}).padding(kSame));
  // 2^40 x 2^40 stride phases (2^80 index-table slots) for a 3 x 3 output: a fuzz finding, once refused as an
  // int64 overflow instead of by the size rule.
  const Conv2d<float> far_strides(Conv2dOptions(12, 12, {2, 1}).groups(4).stride(k2p40).padding(k2p40));
  Conv2d<float> replaced(Conv2dOptions(2, 3, 3)), biased(Conv2dOptions(2, 3, 3).bias(false));
  replaced.weight() = randn({3, 2, 3, 2});
  biased.bias() = randn({3});
  Sequential<float> net(Conv1d<float>(Conv1dOptions(2, 4, 3)), ReLU<float>(), Flatten<float>(),
                        Linear<float>(4 * 6, 2));
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "Conv1d, Conv2d and Sequential forward",
      {
          {"Conv1d undefined input", [&] { c1(Tensor<float>()); }, "Conv1d: the input is undefined"},
          {"Conv1d 4-D input", [&] { c1(randn({1, 2, 5, 5})); },
           "Conv1d: expected 3-D input (N, C, L) or 2-D (C, L), got shape [1, 2, 5, 5]"},
          {"Conv1d 1-D input", [&] { c1(randn({5})); }, "got shape [5]"},
          {"Conv1d 0-d input", [&] { c1(Tensor<float>::zeros({})); }, "got shape []"},
          {"Conv1d channels", [&] { c1(randn({1, 3, 5})); },
           "Conv1d: Given groups=1, weight of size [3, 2, 3], expected input[1, 3, 5] to have 2 channels, but got 3 "
           "channels instead"},
          {"Conv1d unbatched channels", [&] { c1(randn({3, 5})); }, "expected input[1, 3, 5] to have 2 channels"},
          {"Conv1d kernel too large", [&] { c1(randn({1, 2, 2})); },
           "Conv1d: Calculated padded input size per channel: (2). Kernel size: (3). Kernel size can't be greater than "
           "actual input size"},
          {"Conv1d zero length", [&] { c1(Tensor<float>::zeros({2, 2, 0})); }, "Kernel size can't be greater"},
          {"Conv1d zero length replicate padded", [&] { replicate(Tensor<float>::zeros({2, 1, 0})); },
           "Conv1d: expected non-empty spatial dimensions for a non-empty batch, got input [2, 1, 0] (Only zero batch "
           "or zero channel inputs are supported)"},
          {"Conv1d zero length unbatched", [&] { replicate(Tensor<float>::zeros({1, 0})); },
           "expected non-empty spatial dimensions"},
          {"Conv2d zero height padded", [&] { padded(Tensor<float>::zeros({1, 2, 0, 4})); },
           "Conv2d: expected non-empty spatial dimensions for a non-empty batch, got input [1, 2, 0, 4]"},
          {"Conv1d reflect padding too large", [&] { reflect(randn({1, 1, 4})); },
           "Conv1d: expected reflect padding smaller than the input size, got padding (4, 4) at dimension 2 of input "
           "[1, 1, 4]"},
          {"Conv1d circular padding too large", [&] { circular(randn({1, 1, 4})); },
           "expected circular padding no larger than the input size, got padding (5, 5)"},
          {"Conv1d output over the limit", [&] { huge_padding(randn({1, 1, 4})); },
           "Tensor: refusing to allocate"},
          {"Conv1d padding overflows", [&] { max_padding(randn({1, 1, 4})); }, "Conv1d: size sum overflows int64"},
          {"Conv1d dilation overflows", [&] { huge_dilation(randn({1, 1, 4})); },
           "Conv1d: size product overflows int64"},
          {"Conv1d padding far beyond the input", [&] { far_padding(randn({1, 1, 4})); },
           "conv: refusing to build index tables of 2151677952 entries (padded size 1 x 2147483652, stride 1 x "
           "1048576"},
          {"Conv2d dilation far beyond the input", [&] { far_dilation(randn({3, 1, 4, 11})); },
           "conv: refusing to lay out 54525965 elements of phase planes for one output row"},
          {"Conv2d strides and padding far beyond the input", [&] { far_strides(randn({3, 12, 11, 11})); },
           "conv: refusing to build index tables of more than 2^63 entries (padded size 2199023255563 x "
           "2199023255563, stride 1099511627776 x 1099511627776"},
          {"Conv2d 2-D input", [&] { c2(randn({2, 5})); },
           "Conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [2, 5]"},
          {"Conv2d 5-D input", [&] { c2(randn({1, 1, 2, 5, 5})); }, "got shape [1, 1, 2, 5, 5]"},
          {"Conv2d channels", [&] { c2(randn({1, 3, 5, 5})); }, "to have 2 channels, but got 3 channels instead"},
          {"Conv2d kernel too large", [&] { c2(randn({1, 2, 2, 5})); },
           "Calculated padded input size per channel: (2 x 5). Kernel size: (3 x 3)"},
          {"Conv2d weight replaced", [&] { replaced(randn({1, 2, 5, 5})); },
           "Conv2d: expected weight of shape [3, 2, 3, 3], got [3, 2, 3, 2]"},
          {"Conv2d bias set on bias=false", [&] { biased(randn({1, 2, 5, 5})); }, "expected no bias"},
          {"Sequential names the child", [&] { net(randn({2, 2, 9})); },
           "Sequential child (3): Linear: expected input of shape (*, 24)"},
          {"Sequential first child", [&] { net(randn({2, 3, 8})); }, "Sequential child (0): Conv1d: Given groups=1"},
      });
  // clang-format on
}

void functional_forms(const Sink& sink) {
  const Tensor<float> x = randn({2, 3}), w = randn({4, 3}), b = randn({4});
  const Tensor<float> x1 = randn({2, 5, 7}), w1 = randn({4, 5, 3});
  const Tensor<float> x2 = randn({1, 4, 6, 6}), w2 = randn({6, 2, 3, 3});
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "functional",
      {
          {"linear undefined input", [&] { F::linear(Tensor<float>(), w); }, "linear: the input is undefined"},
          {"linear undefined weight", [&] { F::linear(x, Tensor<float>()); },
           "linear: expected a 2-D weight (out_features, in_features), got an undefined tensor"},
          {"linear 1-D weight", [&] { F::linear(x, randn({3})); }, "expected a 2-D weight"},
          {"linear 3-D weight", [&] { F::linear(x, randn({4, 3, 1})); }, "got [4, 3, 1]"},
          {"linear 0-d input", [&] { F::linear(Tensor<float>::zeros({}), w); },
           "linear: expected an input with at least 1 dimension"},
          {"linear mismatch", [&] { F::linear(x, randn({4, 2})); },
           "linear: expected input with last dimension 2 (in_features), got shape [2, 3] (mat1 and mat2 shapes "
           "cannot be multiplied)"},
          {"linear bias wrong size", [&] { F::linear(x, w, randn({3})); },
           "linear: expected bias of shape [4], got [3]"},
          {"linear bias 2-D", [&] { F::linear(x, w, randn({1, 4})); }, "got [1, 4]"},
          {"bilinear undefined weight", [&] { F::bilinear(x, x, Tensor<float>()); },
           "bilinear(): expected a 3-D weight (out_features, in1_features, in2_features), got an undefined tensor"},
          {"bilinear 2-D weight", [&] { F::bilinear(x, x, w); }, "got [4, 3]"},
          {"bilinear bias wrong", [&] { F::bilinear(x, x, randn({2, 3, 3}), randn({3})); },
           "bilinear(): expected bias of shape [2] (out_features), got [3]"},
          {"bilinear in1 mismatch", [&] { F::bilinear(x, x, randn({2, 4, 3})); },
           "bilinear(): input1 size does not match weight size: got 3 but expected 4"},
          {"conv1d weight rank", [&] { F::conv1d(x1, randn({4, 5})); },
           "conv1d: expected a 3-D weight (out_channels, in_channels/groups, kL) with positive sizes, got shape "
           "[4, 5]"},
          {"conv1d undefined weight", [&] { F::conv1d(x1, Tensor<float>()); }, "conv1d: the weight is undefined"},
          {"conv1d undefined input", [&] { F::conv1d(Tensor<float>(), w1); }, "conv1d: the input is undefined"},
          {"conv1d empty weight", [&] { F::conv1d(x1, Tensor<float>::zeros({4, 5, 0})); }, "with positive sizes"},
          {"conv1d groups 0", [&] { F::conv1d(x1, w1, Tensor<float>(), 1, 0, 1, 0); },
           "conv1d: groups must be a positive integer, got groups=0"},
          {"conv1d groups do not divide",
           [&] { F::conv1d(randn({1, 6, 7}), randn({4, 2, 3}), Tensor<float>(), 1, 0, 1, 3); },
           "conv1d: expected weight to be divisible by 3 (groups) at dimension 0"},
          {"conv1d stride 0", [&] { F::conv1d(x1, w1, Tensor<float>(), 0); }, "conv1d: expected stride >= 1"},
          {"conv1d dilation negative", [&] { F::conv1d(x1, w1, Tensor<float>(), 1, 0, -1); },
           "conv1d: expected dilation >= 1"},
          {"conv1d padding negative", [&] { F::conv1d(x1, w1, Tensor<float>(), 1, -2); },
           "conv1d: expected padding >= 0 in every dimension, got padding=-2"},
          {"conv1d same strided", [&] { F::conv1d(x1, w1, Tensor<float>(), 2, kSame); },
           "conv1d: padding='same' is not supported for strided convolutions"},
          {"conv1d channels", [&] { F::conv1d(randn({2, 4, 7}), w1); },
           "to have 5 channels, but got 4 channels instead"},
          {"conv1d bias", [&] { F::conv1d(x1, w1, randn({5})); },
           "conv1d: expected bias of shape [4] (out_channels), got shape [5]"},
          {"conv1d kernel too large", [&] { F::conv1d(randn({1, 5, 2}), w1); }, "Kernel size can't be greater"},
          {"conv2d rank", [&] { F::conv2d(x, w2); },
           "conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [2, 3]"},
          {"conv2d groups channels", [&] { F::conv2d(x2, w2, Tensor<float>(), 1, 0, 1, 3); },
           "conv2d: Given groups=3, weight of size [6, 2, 3, 3], expected input[1, 4, 6, 6] to have 6 channels"},
          {"conv2d dilation 0", [&] { F::conv2d(x2, w2, Tensor<float>(), 1, 0, {1, 0}, 2); },
           "got dilation=[1, 0]"},
          {"conv2d same huge dilation", [&] { F::conv2d(x2, w2, Tensor<float>(), 1, kSame, {kMax, 1}, 2); },
           "conv2d: size product overflows int64"},
          {"conv2d zero width", [&] { F::conv2d(Tensor<float>::zeros({1, 4, 6, 0}), w2, Tensor<float>(), 1, 2, 1, 2); },
           "conv2d: expected non-empty spatial dimensions"},
          {"relu undefined", [] { F::relu(Tensor<float>()); }, "relu: the input is undefined"},
          {"flatten undefined", [] { F::flatten(Tensor<float>()); }, "flatten: the input is undefined"},
          {"flatten dim out of range", [&] { F::flatten(x, 0, 2); }, "flatten: dimension out of range"},
          {"flatten start after end", [&] { F::flatten(x1, 2, 1); },
           "flatten: flatten() has invalid args: start_dim cannot come after end_dim"},
          {"flatten overflowing size", [] { F::flatten(Tensor<float>::zeros({0, k2p40, k2p40}), 1); },
           "flatten: size product overflows int64"},
          {"Flatten layer bad dims", [&] { Flatten<float>(3)(x); }, "flatten: dimension out of range"},
      });
  // clang-format on
}

void conversions_and_init(const Sink& sink) {
  const Linear<float> fc(12, 5);
  const LazyLinear<float> lazy(3);
  Tensor<float> scalar = Tensor<float>::zeros({3});
  Tensor<float> huge_fan = Tensor<float>::zeros({0, k2p40, k2p40});
  strata::Generator gen(3);
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "conversions and init",
      {
          {"to_linear kernel 3", [] { to_linear(Conv1d<float>(2, 3, 3)); },
           "to_linear: expected a Conv1d with kernel_size=1, stride=1, padding=0 and groups=1, got "
           "strata::nn::Conv1d(2, 3, kernel_size=3, stride=1)"},
          {"to_linear stride 2", [] { to_linear(Conv1d<float>(Conv1dOptions(2, 3, 1).stride(2))); }, "stride=2"},
          {"to_linear groups 2", [] { to_linear(Conv1d<float>(Conv1dOptions(2, 4, 1).groups(2))); }, "groups=2"},
          {"to_linear padding 1", [] { to_linear(Conv1d<float>(Conv1dOptions(2, 4, 1).padding(1))); }, "padding=1"},
          {"to_linear uninitialised lazy", [&] { to_linear(lazy); }, "to_linear: the LazyLinear is uninitialised"},
          {"to_conv2d kernel 0", [&] { to_conv2d(fc, 0, 3); }, "to_conv2d: expected kernel sizes >= 1, got kh=0, kw=3"},
          {"to_conv2d not a multiple", [&] { to_conv2d(fc, 5, 1); },
           "to_conv2d: expected in_features (12) to be channels * 5 * 1, but it is not a multiple of 5"},
          {"to_conv2d overflowing area", [&] { to_conv2d(fc, kMax, 2); }, "to_conv2d: size product overflows int64"},
          {"init fan in of 1-D", [&] { init::kaiming_uniform_(scalar, 0.0, gen); },
           "init: fan in can not be computed for a tensor with fewer than 2 dimensions"},
          {"init fan in overflows", [&] { init::calculate_fan_in(huge_fan); }, "init: size product overflows int64"},
          {"init uniform undefined", [&] {
             Tensor<float> undefined;
             init::uniform_(undefined, 0, 1, gen);
           }, "init::uniform_: the tensor is undefined"},
      });
  // clang-format on
}

void loaders(const Sink& sink) {
  // The loaders' malformed-file tables live in tests/io; these are the cases
  // they leave out, where the file is fine and the request is not.
  strata_test::TempDir dir;
  // One row per line: the table reads as a table.
  // clang-format off
  sink(
      "loaders",
      {
          {"load_npy a directory", [&] { strata::io::load_npy<float>(dir.file("")); }, "not a regular file"},
          {"load_npy missing", [&] { strata::io::load_npy<double>(dir.file("none.npy")); }, "cannot open"},
          {"save_npy into a missing directory", [&] { strata::io::save_npy(dir.file("a/b.npy"), randn({2})); },
           "cannot open for writing"},
          {"load_safetensors an npy file", [&] {
             strata::io::save_npy(dir.file("x.npy"), randn({2}));
             strata::io::load_safetensors<float>(dir.file("x.npy"));
           }, "load_safetensors: "},
          {"load_npy a safetensors file", [&] {
             const std::map<std::string, Tensor<float>> state{{"w", randn({2})}};
             strata::io::save_safetensors(dir.file("x.safetensors"), state);
             strata::io::load_npy<float>(dir.file("x.safetensors"));
           }, "not a .npy file"},
      });
  // clang-format on
}

/// Every area, in order.
const std::vector<void (*)(const Sink&)> kAreas = {
    tensor_factories,           views_and_element_access,    layer_options,
    containers_and_state_dicts, linear_and_bilinear_forward, conv_forward_inputs,
    functional_forms,           conversions_and_init,        loaders};

TEST(BadInput, TensorFactories) { tensor_factories(expect_all_refused); }
TEST(BadInput, ViewsAndElementAccess) { views_and_element_access(expect_all_refused); }
TEST(BadInput, LayerOptions) { layer_options(expect_all_refused); }
TEST(BadInput, ContainersAndStateDicts) { containers_and_state_dicts(expect_all_refused); }
TEST(BadInput, LinearAndBilinearForward) { linear_and_bilinear_forward(expect_all_refused); }
TEST(BadInput, ConvForward) { conv_forward_inputs(expect_all_refused); }
TEST(BadInput, Functional) { functional_forms(expect_all_refused); }
TEST(BadInput, ConversionsAndInit) { conversions_and_init(expect_all_refused); }
TEST(BadInput, Loaders) { loaders(expect_all_refused); }

TEST(BadInput, TotalCount) {
  int total = 0;
  for (auto area : kAreas)
    area([&](const char*, const std::vector<BadInput>& rows) { total += static_cast<int>(rows.size()); });
  std::cout << "[ bad input ] total: " << total << " distinct bad-input cases, each answered with a strata::Error\n";
  ::testing::Test::RecordProperty("bad_input_cases", total);
  EXPECT_GE(total, 200);
}

}  // namespace
