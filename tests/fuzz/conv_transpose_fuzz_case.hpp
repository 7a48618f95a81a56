#pragma once
// The conv fuzzer's ConvTranspose1d / ConvTranspose2d cases (kinds 240 and
// 241 of conv_fuzz_case.hpp, which includes this file after its helpers):
// the decoder, torch's rules for the case written out independently of
// strata's checks (in long double, so no size overflows), and the run that
// holds the layer, conv_transpose_output_shape and the functional form to
// them, the values to the naive scatter of tests/reference_conv_transpose.hpp.
//
// Byte layout after the kind and flag bytes (param() and small() as in
// conv_fuzz_case.hpp): groups, in/groups, out/groups, channel tweak,
// D x (kernel, stride, dilation, padding, output_padding), padding mode
// (% 8: 0-3 zeros, 4 reflect, 5 replicate, 6 circular, 7 an out-of-range
// enum value: all but zeros refused), input rank (% 8: 0 unbatched, 1 and 2
// wrong ranks), batch (% 4), input channel tweak, D spatial sizes (% 7 for
// 2-d, % 12 for 1-d), output_size kind (% 8: 4 the spatial sizes, 5 torch's
// full form, 6 a wrong count, else none) and D offsets (% 4 - 1) from the
// smallest valid size; then seed, special values and data as for Conv.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "conv_fuzz_case.hpp"
#include "reference_conv_transpose.hpp"

namespace strata_fuzz {

/// A decoded transposed convolution case.
template <std::size_t D>
struct ConvTransposeCase {
  index_t groups = 1, in_channels = 1, out_channels = 1;
  std::array<index_t, D> kernel{}, stride{}, dilation{}, padding{}, output_padding{};
  strata::PaddingMode mode = strata::PaddingMode::Zeros;
  bool bias = true;
  std::vector<index_t> input_shape;
  std::vector<index_t> output_size;  ///< forward(x, output_size) when not empty
};

template <std::size_t D>
std::string describe(const ConvTransposeCase<D>& c, bool is_double) {
  std::ostringstream out;
  out << "ConvTranspose" << D << "d<" << (is_double ? "double" : "float") << ">(in=" << c.in_channels
      << ", out=" << c.out_channels << ", kernel=" << strata::nn::ExpandingArray<D>(c.kernel)
      << ", stride=" << strata::nn::ExpandingArray<D>(c.stride)
      << ", padding=" << strata::nn::ExpandingArray<D>(c.padding)
      << ", output_padding=" << strata::nn::ExpandingArray<D>(c.output_padding)
      << ", dilation=" << strata::nn::ExpandingArray<D>(c.dilation) << ", groups=" << c.groups
      << ", bias=" << c.bias << ", mode=" << static_cast<int>(c.mode) << ") on input " << strata::Shape(c.input_shape);
  if (!c.output_size.empty()) out << " with output_size " << strata::Shape(c.output_size);
  return out.str();
}

/// The oracle's verdict on a transposed convolution case (torch 1.13's rules).
template <std::size_t D>
struct ConvTransposeVerdict {
  bool options_ok = false;  ///< the layer can be built (ignoring the weight's allocation)
  bool shapes_ok = false;   ///< options_ok and the input (and output_size) fit: forward answers
  bool weight_fits = false, output_fits = false;
  bool may_refuse_for_size = false;  ///< the GEMM's buffers may be over the allocation limit
  std::array<index_t, D> output_padding{};  ///< the one forward uses (output_size's, when given)
  std::vector<index_t> output_shape;
  Big weight_elements = 0, products = 0, output_elements = 0;
};

template <std::size_t D, typename T>
ConvTransposeVerdict<D> judge(const ConvTransposeCase<D>& c) {
  ConvTransposeVerdict<D> v;
  bool ok = c.in_channels > 0 && c.out_channels > 0 && c.groups > 0;
  ok = ok && c.in_channels % c.groups == 0 && c.out_channels % c.groups == 0;
  ok = ok && c.mode == strata::PaddingMode::Zeros;  // torch: 'Only "zeros" padding mode is supported'
  for (std::size_t d = 0; d < D; ++d) {
    ok = ok && c.kernel[d] >= 1 && c.stride[d] >= 1 && c.dilation[d] >= 1 && c.padding[d] >= 0;
    ok = ok && c.output_padding[d] >= 0 && (c.output_padding[d] < c.stride[d] || c.output_padding[d] < c.dilation[d]);
  }
  v.options_ok = ok;
  if (!ok) return v;
  Big weight = big(c.in_channels) * big(c.out_channels / c.groups);
  for (index_t k : c.kernel) weight *= big(k);
  v.weight_fits = allocatable<T>(weight);
  v.weight_elements = weight;

  const std::size_t rank = c.input_shape.size();
  if (rank != D + 1 && rank != D + 2) return v;
  const bool batched = rank == D + 2;
  const index_t batch = batched ? c.input_shape[0] : 1;
  if (c.input_shape[batched ? 1 : 0] != c.in_channels) return v;
  // output_size: D sizes or one per input dimension, each in [lo, lo + stride - 1].
  std::vector<index_t> sizes = c.output_size;
  if (sizes.size() == rank) sizes.erase(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(rank - D));
  if (!c.output_size.empty() && sizes.size() != D) return v;
  Big positions = 1, output = big(batch) * big(c.out_channels);
  if (batched) v.output_shape.push_back(batch);
  v.output_shape.push_back(c.out_channels);
  for (std::size_t d = 0; d < D; ++d) {
    const index_t in = c.input_shape[rank - D + d];
    if (batch > 0 && in <= 0) return v;  // torch: "Only zero batch or zero channel inputs are supported"
    // (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1, every partial sum within int64.
    const Big grown = big(in > 0 ? in - 1 : 0) * big(c.stride[d]);
    const Big extent = big(c.dilation[d]) * (big(c.kernel[d]) - 1) + 1;
    const Big cut = 2 * big(c.padding[d]) + (in > 0 ? 0 : big(c.stride[d]));
    const Big lo = grown + extent - cut, hi = lo + big(c.stride[d]) - 1;
    if (!fits_int64(grown + extent) || !fits_int64(cut)) return v;
    Big size = lo + big(c.output_padding[d]);
    if (!c.output_size.empty()) {
      if (!fits_int64(hi) || big(sizes[d]) < lo || big(sizes[d]) > hi) return v;
      size = big(sizes[d]);
    }
    if (!fits_int64(grown + extent + (size - lo))) return v;  // the sum before the padding is cut
    if (size < (batch == 0 ? 0 : 1)) return v;  // "Output size is too small"
    v.output_padding[d] = static_cast<index_t>(size - lo);
    v.output_shape.push_back(static_cast<index_t>(size));
    output *= size;
    positions *= big(in);
  }
  v.shapes_ok = true;
  v.output_fits = allocatable<T>(output);
  v.output_elements = output;
  v.products = big(batch) * positions * weight;  // every input element times its kernel taps
  // The workspace (kernels/conv_transpose.hpp): the packed weight, then per worker (at most 2 here: the
  // tests run on the default thread count of a small machine, and a plan has at most one worker per item)
  // an input tile and a column tile of at most 2^17 / M + 96 columns, M = out/groups * prod(kernel).
  Big taps = 1;
  for (index_t k : c.kernel) taps *= big(k);
  const Big m = big(c.out_channels / c.groups) * taps, k = big(c.in_channels / c.groups);
  const Big width = std::floor(Big(1 << 17) / m) + 96;
  const Big workers = big(std::max(1, strata::get_num_threads()));
  v.may_refuse_for_size = batch > 0 && !allocatable<T>(weight + workers * (k + m) * width);
  return v;
}

template <std::size_t D>
strata::nn::ConvTransposeOptions<D> options_of(const ConvTransposeCase<D>& c) {
  return strata::nn::ConvTransposeOptions<D>(c.in_channels, c.out_channels, c.kernel)
      .stride(c.stride)
      .padding(c.padding)
      .output_padding(c.output_padding)
      .dilation(c.dilation)
      .groups(c.groups)
      .bias(c.bias)
      .padding_mode(c.mode);
}

template <std::size_t D, typename T>
Outcome run_conv_transpose(ByteReader& reader, std::uint8_t flags) {
  ConvTransposeCase<D> c;
  c.groups = reader.param(1, 4);
  const index_t in_per_group = reader.param(1, 3), out_per_group = reader.param(1, 3);
  c.in_channels = saturating_mul(c.groups, in_per_group);
  c.out_channels = saturating_mul(c.groups, out_per_group);
  const std::uint8_t tweak = reader.byte();
  if (tweak % 16 == 1 && c.in_channels < 64) c.in_channels += 1;  // not divisible by groups
  if (tweak % 16 == 2 && c.out_channels < 64) c.out_channels += 1;
  for (std::size_t d = 0; d < D; ++d) {
    c.kernel[d] = reader.param(1, 5);
    c.stride[d] = reader.param(1, 3);
    c.dilation[d] = reader.param(1, 3);
    c.padding[d] = reader.param(0, 4);
    c.output_padding[d] = reader.param(0, 3);
  }
  const int mode = reader.byte() % 8;
  c.mode = static_cast<strata::PaddingMode>(mode < 4 ? 0 : mode == 7 ? 7 : mode - 3);
  c.bias = (flags & kNoBias) == 0;
  const int rank_kind = reader.byte() % 8;
  const index_t batch = reader.small(0, 4);
  const std::uint8_t channel_tweak = reader.byte();
  index_t channels = c.in_channels >= 1 && c.in_channels <= 64 ? c.in_channels : 1 + channel_tweak % 4;
  if (channel_tweak % 16 == 3) channels += 1;
  std::vector<index_t> spatial;
  for (std::size_t d = 0; d < D; ++d) spatial.push_back(reader.small(0, D == 1 ? 12 : 7));
  if (rank_kind == 0) {
    c.input_shape = {channels};
  } else if (rank_kind == 1) {
    c.input_shape = {};
  } else if (rank_kind == 2) {
    c.input_shape = {batch, channels, 2};
  } else {
    c.input_shape = {batch, channels};
  }
  c.input_shape.insert(c.input_shape.end(), spatial.begin(), spatial.end());
  const int size_kind = reader.byte() % 8;
  std::vector<index_t> sizes;
  for (std::size_t d = 0; d < D; ++d) {
    const index_t offset = reader.small(0, 4) - 1;  // -1 is below the range, stride - 1 its top
    // The smallest valid size, when it is a sane number (else any: the case is refused either way).
    const Big lo = (big(spatial[d]) - 1) * big(c.stride[d]) - 2 * big(c.padding[d]) +
                   big(c.dilation[d]) * (big(c.kernel[d]) - 1) + 1;
    sizes.push_back(lo > -1e6L && lo < 1e6L ? static_cast<index_t>(lo) + offset : offset);
  }
  if (size_kind == 4 || size_kind == 6) c.output_size = sizes;
  if (size_kind == 5) {
    c.output_size.assign(c.input_shape.begin(), c.input_shape.end() - static_cast<std::ptrdiff_t>(
                                                                          std::min(D, c.input_shape.size())));
    c.output_size.insert(c.output_size.end(), sizes.begin(), sizes.end());
  }
  if (size_kind == 6) c.output_size.push_back(1);  // D + 1 sizes: right only for an unbatched input

  Outcome outcome;
  outcome.description = describe(c, sizeof(T) == sizeof(double));
  DataSource data{&reader, (flags & kGaussian) != 0, strata::Generator(reader.u64())};
  strata::Tensor<T> input = make_input<T>(strata::Shape(c.input_shape), (flags & kNonContiguous) != 0, data);
  if (flags & kSpecialValues) add_special_values(input, reader);

  const ConvTransposeVerdict<D> verdict = judge<D, T>(c);
  const strata::nn::ConvTransposeOptions<D> options = options_of(c);

  // conv_transpose_output_shape answers exactly the valid cases (or refuses a size past int64).
  strata::Shape helper_shape;
  std::string error;
  const bool helper_answered = attempt(
      [&] {
        helper_shape = strata::nn::conv_transpose_output_shape<D>(options, strata::Shape(c.input_shape), c.output_size);
      },
      outcome, "conv_transpose_output_shape", &error);
  if (!outcome.ok) return outcome;
  if (helper_answered != verdict.shapes_ok) {
    return fail(outcome, helper_answered ? "conv_transpose_output_shape accepted an invalid case"
                                         : "conv_transpose_output_shape refused a valid case: " + error);
  }
  if (helper_answered && helper_shape != strata::Shape(verdict.output_shape)) {
    return fail(outcome, strata::detail::concat("conv_transpose_output_shape gave ", helper_shape, ", expected ",
                                                strata::Shape(verdict.output_shape)));
  }

  const bool should_build = verdict.options_ok && verdict.weight_fits;
  const bool may_answer = verdict.shapes_ok && verdict.output_fits;
  const bool should_answer = may_answer && !verdict.may_refuse_for_size;
  if (should_build && (verdict.weight_elements > big(kMaxWeightElements) ||
                       (may_answer && (verdict.products > static_cast<Big>(kMaxReferenceProducts) ||
                                       verdict.output_elements > big(kMaxOutputElements))))) {
    return outcome;  // valid but too large to compute here
  }

  std::unique_ptr<strata::nn::ConvTranspose<D, T>> layer;
  const bool built = attempt([&] { layer = std::make_unique<strata::nn::ConvTranspose<D, T>>(options); }, outcome,
                             "the layer's constructor", &error);
  if (!outcome.ok) return outcome;
  if (built != should_build) {
    return fail(outcome, built ? "the constructor accepted invalid options" : "the constructor refused: " + error);
  }
  if (!built) {
    outcome.refused = true;
    return outcome;
  }
  fill(layer->weight(), data);
  if (c.bias) fill(layer->bias(), data);

  strata::Tensor<T> output;
  const bool answered = attempt(
      [&] { output = c.output_size.empty() ? layer->forward(input) : layer->forward(input, c.output_size); }, outcome,
      "forward", &error);
  if (!outcome.ok) return outcome;
  if (answered && !may_answer) return fail(outcome, "forward accepted an invalid case");
  if (!answered && should_answer) return fail(outcome, "forward refused a valid case: " + error);
  if (!answered && may_answer && error.find("refusing to") == std::string::npos) {
    return fail(outcome, "forward refused a valid case for a reason other than a size limit: " + error);
  }
  if (!answered) {
    outcome.refused = true;
    return outcome;
  }
  if (output.shape() != strata::Shape(verdict.output_shape)) {
    return fail(outcome, strata::detail::concat("forward gave shape ", output.shape(), ", expected ",
                                                strata::Shape(verdict.output_shape)));
  }
  if (output.numel() == 0) return outcome;
  const bool batched = c.input_shape.size() == D + 2;
  const strata_test::ReferenceConv ref = strata_test::reference_conv_transpose<D, T>(
      batched ? input : input.unsqueeze(0), layer->weight(), layer->bias(), c.stride, c.padding,
      verdict.output_padding, c.dilation, c.groups);
  std::string mismatch;
  if (!values_match(output, ref.values, ref.magnitudes, ref.reduction, mismatch)) return fail(outcome, mismatch);

  // The functional form, with the output_padding forward used, computes the same values.
  if (flags & kFunctional) {
    strata::Tensor<T> functional;
    const bool ran = attempt(
        [&] {
          if constexpr (D == 1) {
            functional = strata::nn::functional::conv_transpose1d(input, layer->weight(), layer->bias(), c.stride,
                                                                  c.padding, verdict.output_padding, c.groups,
                                                                  c.dilation);
          } else {
            functional = strata::nn::functional::conv_transpose2d(input, layer->weight(), layer->bias(), c.stride,
                                                                  c.padding, verdict.output_padding, c.groups,
                                                                  c.dilation);
          }
        },
        outcome, "the functional form", &error);
    if (!outcome.ok) return outcome;
    if (!ran) return fail(outcome, "the functional form refused what the layer computed: " + error);
    if (functional.shape() != output.shape() || !values_match(functional, ref.values, ref.magnitudes, ref.reduction,
                                                              mismatch)) {
      return fail(outcome, "the functional form: " + mismatch);
    }
  }
  return outcome;
}

}  // namespace strata_fuzz
