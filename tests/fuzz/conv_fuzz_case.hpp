#pragma once
// The decoder and oracle behind the conv fuzzer (tests/fuzz/conv_fuzz.cpp,
// libFuzzer) and its corpus replay (tests/fuzz/corpus_replay_test.cpp, a plain
// GoogleTest run on every build): turns any byte string into one layer call —
// Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d (layer or
// functional form), Linear or Bilinear, options,
// input shape, layout and data — runs it, and judges the answer:
//  - strata::Error is a right answer only when the case is invalid by the
//    rules written out below (torch's, plus strata's allocation limit), which
//    share no code with strata's own checks, or when a buffer some
//    implementation may need is over the limit (then the message must say
//    "refusing to"); conv_output_shape must refuse exactly the cases whose
//    shapes are invalid;
//  - a result must have the shape of the output-size formula, agree with
//    conv_output_shape and conv_output_size, and match a naive direct
//    computation in double (tests/reference_conv.hpp for convolutions) within
//    the rounding bound reference_tolerance<T> (Higham 3.1: any summation
//    order of R products errs by at most ~R*eps*sum|terms|), NaN where the
//    reference is NaN and the same infinity where it is infinite;
//  - anything else (another exception type, std::bad_alloc, a sanitizer
//    report) is a finding.
//
// Byte layout (tests/fuzz/make_seeds.py writes seeds in it; missing bytes read
// as 0, extra bytes are data):
//   0: kind: below 240, % 4: 0 Conv1d, 1 Conv2d, 2 Linear, 3 Bilinear; from 240, (byte - 240) % 3:
//      0 ConvTranspose1d, 1 ConvTranspose2d, 2 Conv3d (conv_transpose_fuzz_case.hpp has the
//      ConvTranspose layout; Conv3d reads the conv layout below)
//   1: flags: 1 double, 2 non-contiguous input, 4 gaussian data, 8 NaN/Inf in
//      the input, 16 also run the functional form, 32 no bias
//   then per kind (param(): byte < 240 -> lo + byte % span, else one of the
//   16 special values of kSpecials, e.g. 0, -1, 2^40, INT64_MAX):
//   conv:  groups, in/groups, out/groups, channel tweak, D x (kernel, stride,
//          dilation), padding kind (% 8: 4 same, 5 valid, else explicit) and
//          D padding values, padding mode (% 5; 4 is an out-of-range enum
//          value), input rank (% 8: 0 unbatched, 1 and 2 wrong ranks), batch
//          (% 4), input channel tweak, D spatial sizes (% 7 for 3-d, % 13 for 2-d, % 25 for 1-d)
//   linear: in_features, out_features, rank (1 + % 3), 2 leading sizes (% 4), last-dim tweak
//   bilinear: in1, in2, out, rank (1 + % 3), 2 leading sizes (% 4), mismatch kind (% 8)
//   then: 8 bytes of generator seed (gaussian data), 4 special positions and
//   kinds (with flag 8), then one byte per input element and weight element.
//
// Sizes stay small (each run takes well under a millisecond without
// sanitizers) except through the special values, which are large enough that
// every allocation they imply is over the limit below: a valid case is
// computed, an absurd one refused, never one that allocates gigabytes.

// Allocations above 64 MiB are refused (strata::Error), so an absurd size is
// answered in microseconds. Must precede every strata include of the translation unit.
#ifndef STRATA_MAX_ALLOC_BYTES
#define STRATA_MAX_ALLOC_BYTES (std::int64_t{64} << 20)
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <strata/strata.hpp>

#include "reference_conv.hpp"

static_assert(STRATA_MAX_ALLOC_BYTES <= (std::int64_t{1} << 30),
              "the conv fuzzer needs a small STRATA_MAX_ALLOC_BYTES: include conv_fuzz_case.hpp before strata");

namespace strata_fuzz {

using strata::index_t;

/// What a run concluded: ok, or a finding described in `message`.
struct Outcome {
  bool ok = true;
  bool refused = false;     ///< strata answered with strata::Error (rightly, when ok)
  std::string description;  ///< the decoded case, for messages
  std::string message;      ///< what went wrong (empty when ok)
};

/// Reads the fuzzer's bytes front to back; past the end every byte is 0, so
/// every byte string decodes to exactly one case.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// lo + byte % span.
  index_t small(index_t lo, index_t span) { return lo + static_cast<index_t>(byte()) % span; }
  /// Mostly lo + byte % span; bytes 240..255 pick a special value.
  index_t param(index_t lo, index_t span) {
    static constexpr std::array<index_t, 16> kSpecials = {0,
                                                          -1,
                                                          -2,
                                                          index_t{1} << 20,
                                                          index_t{1} << 31,
                                                          index_t{1} << 40,
                                                          index_t{1} << 62,
                                                          std::numeric_limits<index_t>::max(),
                                                          std::numeric_limits<index_t>::min(),
                                                          7,
                                                          8,
                                                          13,
                                                          16,
                                                          0,
                                                          -1,
                                                          3};
    const std::uint8_t b = byte();
    return b < 240 ? lo + static_cast<index_t>(b) % span : kSpecials[static_cast<std::size_t>(b - 240)];
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Flags of byte 1.
enum Flag : std::uint8_t {
  kDouble = 1,
  kNonContiguous = 2,
  kGaussian = 4,
  kSpecialValues = 8,
  kFunctional = 16,
  kNoBias = 32,
};

/// Valid cases larger than these are decoded and checked up to the output
/// shape, but not computed: a fuzzer should spend its time on many small
/// cases, and a naive reference over millions of products would dominate.
/// (A 2-million-element output took 10 s under ASan/UBSan: such cases teach
/// the fuzzer nothing the small ones do not.)
constexpr index_t kMaxWeightElements = index_t{1} << 16;
constexpr index_t kMaxOutputElements = index_t{1} << 16;
constexpr double kMaxReferenceProducts = 1 << 20;

/// a * b for the decoder's channel counts, saturating instead of overflowing.
inline index_t saturating_mul(index_t a, index_t b) {
  index_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    return (a < 0) != (b < 0) ? std::numeric_limits<index_t>::min() : std::numeric_limits<index_t>::max();
  return r;
}

/// Exact-enough size arithmetic for the oracle: long double holds every
/// int64 exactly and products far past int64 without overflow.
using Big = long double;
inline Big big(index_t v) { return static_cast<Big>(v); }
inline Big limit_bytes() { return static_cast<Big>(STRATA_MAX_ALLOC_BYTES); }
inline bool fits_int64(Big v) { return v <= static_cast<Big>(std::numeric_limits<index_t>::max()); }
/// True when a tensor of `count` elements of T would be allocated by strata (not over the limit).
template <typename T>
bool allocatable(Big count) {
  return fits_int64(count) && count * static_cast<Big>(sizeof(T)) <= limit_bytes();
}

/// Data for the tensors: small exact values k/4 (k in -8..8), whose sums of
/// products are exact in float, or N(0, 1) samples from a generator seeded by
/// the bytes; the input may get NaN and infinities at byte-chosen positions.
struct DataSource {
  ByteReader* reader;
  bool gaussian;
  strata::Generator gen;
  template <typename T>
  T next() {
    if (gaussian) return gen.normal<T>();
    return static_cast<T>(static_cast<int>(reader->byte() % 17) - 8) / T(4);
  }
};

/// Fills t (any strides) in row-major order from the data source.
template <typename T>
void fill(strata::Tensor<T>& t, DataSource& data) {
  std::vector<T> values(static_cast<std::size_t>(t.numel()));
  for (T& v : values) v = data.next<T>();
  std::size_t i = 0;
  t.for_each_offset([&](index_t offset) { t.data()[offset] = values[i++]; });
}

/// A tensor of `shape`, contiguous or (non_contiguous) a permuted view of
/// storage laid out with the dimensions reversed; the logical values are the
/// same either way.
template <typename T>
strata::Tensor<T> make_input(const strata::Shape& shape, bool non_contiguous, DataSource& data) {
  strata::Tensor<T> t;
  if (non_contiguous && shape.size() >= 2) {
    std::vector<index_t> reversed(shape.vec().rbegin(), shape.vec().rend()), order;
    for (std::size_t d = shape.size(); d-- > 0;) order.push_back(static_cast<index_t>(d));
    t = strata::Tensor<T>::empty(strata::Shape(reversed)).permute(order);
  } else {
    t = strata::Tensor<T>::empty(shape);
  }
  fill(t, data);
  return t;
}

/// Up to 4 NaN / +Inf / -Inf written into the input at byte-chosen elements.
template <typename T>
void add_special_values(strata::Tensor<T>& t, ByteReader& reader) {
  const int count = reader.byte() % 5;
  std::vector<std::uint8_t> where(static_cast<std::size_t>(count)), kind(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    where[static_cast<std::size_t>(i)] = reader.byte();
    kind[static_cast<std::size_t>(i)] = reader.byte();
  }
  if (t.numel() == 0) return;
  std::vector<index_t> offsets;
  t.for_each_offset([&](index_t offset) { offsets.push_back(offset); });
  for (int i = 0; i < count; ++i) {
    const auto at = static_cast<std::size_t>(where[static_cast<std::size_t>(i)]) % offsets.size();
    const int k = kind[static_cast<std::size_t>(i)] % 3;
    t.data()[offsets[at]] = k == 0   ? std::numeric_limits<T>::quiet_NaN()
                            : k == 1 ? std::numeric_limits<T>::infinity()
                                     : -std::numeric_limits<T>::infinity();
  }
}

/// Compares got with reference values and magnitudes (sum of |terms|) over
/// `reduction` products: NaN where the reference is NaN, the same infinity
/// where it is infinite, else within reference_tolerance<T>.
template <typename T>
bool values_match(const strata::Tensor<T>& got, const std::vector<double>& ref, const std::vector<double>& magnitude,
                  index_t reduction, std::string& message) {
  const std::vector<double> values = strata_test::reference_values(got);
  if (values.size() != ref.size()) {
    message = strata::detail::concat("got ", values.size(), " values, the reference has ", ref.size());
    return false;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i], r = ref[i];
    bool same = false;
    if (std::isnan(r)) {
      same = std::isnan(v);
    } else if (std::isinf(r)) {
      same = v == r;
    } else {
      same = std::abs(v - r) <= strata_test::reference_tolerance<T>(magnitude[i], reduction);
    }
    if (!same) {
      message = strata::detail::concat("element ", i, ": got ", v, ", reference ", r, " (sum |terms| ", magnitude[i],
                                       ", ", reduction, " products)");
      return false;
    }
  }
  return true;
}

/// Runs `call`; a strata::Error is recorded as a refusal, any other exception
/// is a finding. Returns true when `call` returned normally.
template <typename F>
bool attempt(F&& call, Outcome& outcome, const char* what, std::string* error = nullptr) {
  try {
    call();
    return true;
  } catch (const strata::Error& e) {
    if (error != nullptr) *error = e.what();
    return false;
  } catch (const std::bad_alloc&) {
    outcome.ok = false;
    outcome.message = strata::detail::concat(what, ": std::bad_alloc escaped (an allocation was not size-checked)");
  } catch (const std::exception& e) {
    outcome.ok = false;
    outcome.message = strata::detail::concat(what, ": an exception other than strata::Error escaped: ", e.what());
  }
  return false;
}

inline Outcome fail(Outcome outcome, const std::string& message) {
  outcome.ok = false;
  outcome.message = message;
  return outcome;
}

// ---- convolutions ----------------------------------------------------------

/// A decoded convolution case.
template <std::size_t D>
struct ConvCase {
  index_t groups = 1, in_channels = 1, out_channels = 1;
  std::array<index_t, D> kernel{}, stride{}, dilation{}, padding{};
  int padding_kind = 0;  // 0 explicit, 1 same, 2 valid
  strata::PaddingMode mode = strata::PaddingMode::Zeros;
  bool bias = true;
  std::vector<index_t> input_shape;
};

template <std::size_t D>
std::string describe(const ConvCase<D>& c, bool is_double) {
  std::ostringstream out;
  out << "Conv" << D << "d<" << (is_double ? "double" : "float") << ">(in=" << c.in_channels
      << ", out=" << c.out_channels << ", kernel=" << strata::nn::ExpandingArray<D>(c.kernel)
      << ", stride=" << strata::nn::ExpandingArray<D>(c.stride)
      << ", dilation=" << strata::nn::ExpandingArray<D>(c.dilation) << ", padding=";
  if (c.padding_kind == 1) {
    out << "same";
  } else if (c.padding_kind == 2) {
    out << "valid";
  } else {
    out << strata::nn::ExpandingArray<D>(c.padding);
  }
  out << ", groups=" << c.groups << ", bias=" << c.bias << ", mode=" << static_cast<int>(c.mode) << ") on input "
      << strata::Shape(c.input_shape);
  return out.str();
}

/// The oracle's verdict on a convolution case, from torch's rules written out
/// independently of strata's checks, in long double so that no size overflows.
template <std::size_t D>
struct ConvVerdict {
  bool options_ok = false;  ///< the layer can be built (ignoring the weight's allocation)
  bool shapes_ok = false;   ///< options_ok and the input fits: conv_output_shape answers
  bool weight_fits = false, output_fits = false;
  /// Some buffer an implementation may need is over the limit: the column
  /// matrix of im2col, or the phase-plane kernel's index tables or planes
  /// (which grow with the padded size and the dilation: strata refuses a
  /// padding or dilation far beyond the input, see kernels/conv_planes.hpp).
  /// A size refusal is then right, but not required.
  bool may_refuse_for_size = false;
  std::array<index_t, D> before{}, after{};
  std::vector<index_t> output_shape;
  Big weight_elements = 0;  ///< of the layer's weight
  Big products = 0;         ///< multiply-adds of the whole convolution
  Big output_elements = 0;
};

template <std::size_t D, typename T>
ConvVerdict<D> judge(const ConvCase<D>& c) {
  ConvVerdict<D> v;
  bool ok = c.in_channels > 0 && c.out_channels > 0 && c.groups > 0;
  ok = ok && c.in_channels % c.groups == 0 && c.out_channels % c.groups == 0;
  const bool mode_ok = static_cast<int>(c.mode) >= 0 && static_cast<int>(c.mode) <= 3;
  ok = ok && mode_ok;
  for (std::size_t d = 0; d < D; ++d) {
    ok = ok && c.kernel[d] >= 1 && c.stride[d] >= 1 && c.dilation[d] >= 1;
    if (c.padding_kind == 1) ok = ok && c.stride[d] == 1;
    if (c.padding_kind == 0) ok = ok && c.padding[d] >= 0;
  }
  // The dilated kernel extent must fit int64: for padding='same' the
  // constructor computes it, otherwise forward does.
  std::array<Big, D> extent{};
  bool extent_fits = true;
  for (std::size_t d = 0; ok && d < D; ++d) {
    const Big total = big(c.dilation[d]) * (big(c.kernel[d]) - 1);  // 'same' pads this much
    extent[d] = total + 1;
    extent_fits = extent_fits && fits_int64(extent[d]);
    if (c.padding_kind == 0) {
      v.before[d] = v.after[d] = c.padding[d];
    } else if (c.padding_kind == 1) {
      ok = fits_int64(total);
      if (!ok) break;  // (a fuzz finding: converting the unrepresentable total was undefined)
      const auto t = static_cast<index_t>(total);
      v.before[d] = t / 2;
      v.after[d] = t - t / 2;
    }
  }
  v.options_ok = ok;
  if (ok) {
    Big weight = big(c.out_channels) * big(c.in_channels / c.groups);
    for (index_t k : c.kernel) weight *= big(k);
    v.weight_fits = allocatable<T>(weight);
    v.weight_elements = weight;
  }

  const std::size_t rank = c.input_shape.size();
  ok = ok && extent_fits && (rank == D + 1 || rank == D + 2);
  if (!ok) return v;
  const bool batched = rank == D + 2;
  const index_t batch = batched ? c.input_shape[0] : 1;
  const index_t channels = c.input_shape[batched ? 1 : 0];
  ok = channels == c.in_channels;
  std::array<index_t, D> in{};
  std::array<Big, D> out{}, padded_sizes{};
  for (std::size_t d = 0; ok && d < D; ++d) {
    in[d] = c.input_shape[rank - D + d];
    const bool padded = v.before[d] > 0 || v.after[d] > 0;
    if (c.mode == strata::PaddingMode::Reflect && padded) ok = v.before[d] < in[d] && v.after[d] < in[d];
    if (c.mode == strata::PaddingMode::Circular && padded) ok = ok && v.before[d] <= in[d] && v.after[d] <= in[d];
    // torch: "Only zero batch or zero channel inputs are supported"
    if (batch > 0) ok = ok && in[d] > 0;
    const Big padded_size = big(in[d]) + big(v.before[d]) + big(v.after[d]);
    ok = ok && fits_int64(padded_size) && padded_size >= extent[d];
    if (ok) out[d] = std::floor((padded_size - extent[d]) / big(c.stride[d])) + 1;
    if (ok) padded_sizes[d] = padded_size;
  }
  v.shapes_ok = ok;
  if (!ok) return v;
  Big output = big(batch) * big(c.out_channels), workspace = big(c.in_channels / c.groups);
  v.products = big(c.in_channels / c.groups);
  bool pointwise = true;
  if (batched) v.output_shape.push_back(batch);
  v.output_shape.push_back(c.out_channels);
  for (std::size_t d = 0; d < D; ++d) {
    output *= out[d];
    workspace *= big(c.kernel[d]) * out[d];
    v.products *= big(c.kernel[d]);
    pointwise = pointwise && c.kernel[d] == 1 && c.stride[d] == 1 && v.before[d] == 0 && v.after[d] == 0;
    v.output_shape.push_back(static_cast<index_t>(out[d]));
  }
  v.output_fits = allocatable<T>(output);
  v.products *= output;
  v.output_elements = output;
  // Buffers are needed only when there is an image to convolve.
  if constexpr (D == 3) {
    // Conv3d runs im2col + GEMM (kernels/conv_plan.hpp's plan_conv<3>): a column tile of at most the whole
    // column matrix, and index tables of sum(kernel * output) entries, allowed up to
    // max(2^22, 4 * (input volume + output volume)).
    if (!pointwise && batch > 0) {
      Big entries = 0, volume_in = 1, volume_out = 1;
      for (std::size_t d = 0; d < D; ++d) {
        entries += big(c.kernel[d]) * out[d];
        volume_in *= big(in[d]);
        volume_out *= out[d];
      }
      v.may_refuse_for_size =
          !allocatable<T>(workspace) || entries > std::max(Big(1 << 22), 4 * (volume_in + volume_out));
    }
    return v;
  }
  if (!pointwise && batch > 0) {
    // The phase-plane tables: stride_h * stride_w + stride_w * (ceil(padded_w / stride_w) + 2) entries, the
    // strides clamped to the padded size (a larger one changes nothing), allowed up to
    // max(2^22, 4 * (input plane + output plane)) and the allocation limit.
    const std::size_t w = D - 1;
    const Big stride_w = std::min(big(c.stride[w]), padded_sizes[w]);
    const Big stride_h = D == 2 ? std::min(big(c.stride[0]), padded_sizes[0]) : 1;
    const Big entries = stride_h * stride_w + stride_w * (std::ceil(padded_sizes[w] / stride_w) + 2);
    Big planes_in = 1, planes_out = 1;
    for (std::size_t d = 0; d < D; ++d) {
      planes_in *= big(in[d]);
      planes_out *= out[d];
    }
    const Big allowed = std::min(std::max(Big(1 << 22), 4 * (planes_in + planes_out)), limit_bytes() / 8);
    // The phase planes of one output row: phases x channels x plane_w x (row_reach + 1), allowed up to
    // max(2^22, 4 * channels * (input plane + output plane)). A phase is a distinct pair of tap offsets
    // modulo the strides; row_reach is the largest row offset of a tap divided by the row stride.
    const index_t sw = static_cast<index_t>(stride_w), sh = static_cast<index_t>(stride_h);
    const index_t kh = D == 2 ? c.kernel[0] : 1, dh = D == 2 ? c.dilation[0] : 1;
    // The offsets i * dilation (i < kernel) modulo a stride repeat with period stride / gcd(dilation, stride),
    // so min(kernel, that period) of them are distinct, and the row and column phases combine freely.
    // (Counted, not enumerated: a CI fuzz finding: 'same' padding with a 2^62 kernel made the oracle itself
    // list 2^62 taps and run out of memory.)
    const auto distinct = [](index_t kernel, index_t dilation, index_t stride) {
      return std::min(kernel, stride / std::gcd(dilation, stride));
    };
    const Big phase_count = big(distinct(kh, dh, sh)) * big(distinct(c.kernel[w], c.dilation[w], sw));
    const Big channels = big(c.in_channels / c.groups);
    const Big row_reach = big((kh - 1) * dh / sh);
    const Big planes = phase_count * channels * std::ceil(padded_sizes[w] / stride_w) *
                       (row_reach + 1);
    const Big planes_allowed = std::max(Big(1 << 22), 4 * channels * (planes_in + planes_out));
    v.may_refuse_for_size = !allocatable<T>(workspace) || entries > allowed || planes > planes_allowed;
  }
  return v;
}

template <std::size_t D>
strata::nn::ConvOptions<D> options_of(const ConvCase<D>& c) {
  strata::nn::ConvOptions<D> options(c.in_channels, c.out_channels, c.kernel);
  options.stride(c.stride).dilation(c.dilation).groups(c.groups).bias(c.bias).padding_mode(c.mode);
  if (c.padding_kind == 1) {
    options.padding(strata::nn::kSame);
  } else if (c.padding_kind == 2) {
    options.padding(strata::nn::kValid);
  } else {
    options.padding(c.padding);
  }
  return options;
}

template <std::size_t D, typename T>
Outcome run_conv(ByteReader& reader, std::uint8_t flags) {
  ConvCase<D> c;
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
  }
  const int padding_kind = reader.byte() % 8;
  c.padding_kind = padding_kind == 4 ? 1 : padding_kind == 5 ? 2 : 0;
  for (std::size_t d = 0; d < D; ++d) c.padding[d] = reader.param(0, 5);
  const int mode = reader.byte() % 5;
  c.mode = static_cast<strata::PaddingMode>(mode == 4 ? 7 : mode);  // 7: no such mode
  c.bias = (flags & kNoBias) == 0;
  const int rank_kind = reader.byte() % 8;
  const index_t batch = reader.small(0, 4);
  const std::uint8_t channel_tweak = reader.byte();
  // Input channels: the layer's (when it is a size an input can have), sometimes one more.
  index_t channels = c.in_channels >= 1 && c.in_channels <= 64 ? c.in_channels : 1 + channel_tweak % 4;
  if (channel_tweak % 16 == 3) channels += 1;
  std::vector<index_t> spatial;
  for (std::size_t d = 0; d < D; ++d) spatial.push_back(reader.small(0, D == 1 ? 25 : D == 2 ? 13 : 7));
  if (rank_kind == 0) {
    c.input_shape = {channels};
  } else if (rank_kind == 1) {
    c.input_shape = {};  // rank D: too few dimensions
  } else if (rank_kind == 2) {
    c.input_shape = {batch, channels, 2};  // rank D + 3
  } else {
    c.input_shape = {batch, channels};
  }
  c.input_shape.insert(c.input_shape.end(), spatial.begin(), spatial.end());

  Outcome outcome;
  outcome.description = describe(c, sizeof(T) == sizeof(double));
  DataSource data{&reader, (flags & kGaussian) != 0, strata::Generator(reader.u64())};
  strata::Tensor<T> input = make_input<T>(strata::Shape(c.input_shape), (flags & kNonContiguous) != 0, data);
  if (flags & kSpecialValues) add_special_values(input, reader);

  const ConvVerdict<D> verdict = judge<D, T>(c);
  const strata::nn::ConvOptions<D> options = options_of(c);

  // conv_output_shape answers exactly when the options and the input shape are
  // valid, except that it refuses, as forward does, what the planner refuses
  // (a padding or dilation far beyond the input, sizes past int64).
  strata::Shape helper_shape;
  std::string error;
  const bool helper_answered =
      attempt([&] { helper_shape = strata::nn::conv_output_shape<D>(options, strata::Shape(c.input_shape)); }, outcome,
              "conv_output_shape", &error);
  if (!outcome.ok) return outcome;
  const bool size_refusal = error.find("refusing to") != std::string::npos ||
                            error.find("overflows int64") != std::string::npos;
  const bool helper_refused_for_size =
      !helper_answered && verdict.shapes_ok && size_refusal && (verdict.may_refuse_for_size || !verdict.output_fits);
  if (helper_answered != verdict.shapes_ok && !helper_refused_for_size) {
    return fail(outcome, helper_answered ? "conv_output_shape accepted an invalid case"
                                         : "conv_output_shape refused a valid case: " + error);
  }
  if (helper_answered && helper_shape != strata::Shape(verdict.output_shape)) {
    return fail(outcome, strata::detail::concat("conv_output_shape gave ", helper_shape, ", expected ",
                                                strata::Shape(verdict.output_shape)));
  }
  if (helper_answered) {
    const std::size_t rank = c.input_shape.size();
    for (std::size_t d = 0; d < D; ++d) {
      index_t size = -1;
      if (!attempt(
              [&] {
                size = strata::nn::conv_output_size(c.input_shape[rank - D + d], c.kernel[d], c.stride[d],
                                                    verdict.before[d], verdict.after[d], c.dilation[d]);
              },
              outcome, "conv_output_size", &error)) {
        return outcome.ok ? fail(outcome, "conv_output_size refused a valid case: " + error) : outcome;
      }
      if (size != helper_shape[helper_shape.size() - D + d]) {
        return fail(outcome, strata::detail::concat("conv_output_size gave ", size, " in dimension ", d,
                                                    ", conv_output_shape ", helper_shape));
      }
    }
  }

  const bool should_build = verdict.options_ok && verdict.weight_fits;
  const bool may_answer = verdict.shapes_ok && verdict.output_fits;
  const bool should_answer = may_answer && !verdict.may_refuse_for_size;
  if (should_build && (verdict.weight_elements > big(kMaxWeightElements) ||
                       (may_answer && (verdict.products > static_cast<Big>(kMaxReferenceProducts) ||
                                       verdict.output_elements > big(kMaxOutputElements))))) {
    return outcome;  // valid but too large to compute here (see kMaxWeightElements)
  }

  // The layer: built when the options are valid and the weight fits the limit.
  std::unique_ptr<strata::nn::Conv<D, T>> layer;
  const bool built = attempt([&] { layer = std::make_unique<strata::nn::Conv<D, T>>(options); }, outcome,
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
  const bool answered = attempt([&] { output = layer->forward(input); }, outcome, "forward", &error);
  if (!outcome.ok) return outcome;
  if (answered && !may_answer) return fail(outcome, "forward accepted an invalid case");
  if (answered && helper_refused_for_size) return fail(outcome, "conv_output_shape refused a case forward computed");
  if (!answered && should_answer) return fail(outcome, "forward refused a valid case: " + error);
  if (!answered && may_answer && error.find("refusing to") == std::string::npos) {
    return fail(outcome, "forward refused a valid case for a reason other than a size limit: " + error);
  }
  const bool planner_refusal = error.find("refusing to build") != std::string::npos ||
                               error.find("refusing to lay out") != std::string::npos;
  if (!answered && helper_answered && planner_refusal) {
    return fail(outcome, "forward's planner refused a case conv_output_shape accepted: " + error);
  }
  if (!answered) {
    outcome.refused = true;
    return outcome;
  }
  if (output.shape() != strata::Shape(verdict.output_shape)) {
    return fail(outcome, strata::detail::concat("forward gave shape ", output.shape(), ", expected ",
                                                strata::Shape(verdict.output_shape)));
  }

  // An empty output has no values to compare (and its plane may hold more than 2^63 positions).
  if (output.numel() == 0) return outcome;
  const bool batched = c.input_shape.size() == D + 2;
  const strata::Tensor<T> batched_input = batched ? input : input.unsqueeze(0);
  const strata_test::ReferenceConv ref =
      strata_test::reference_conv<D, T>(batched_input, layer->weight(), layer->bias(), c.stride, verdict.before,
                                        verdict.after, c.dilation, c.groups, c.mode);
  std::string mismatch;
  if (!values_match(output, ref.values, ref.magnitudes, ref.reduction, mismatch)) return fail(outcome, mismatch);

  // The functional form (zero padding only) computes the same thing the same way: bitwise equal.
  if ((flags & kFunctional) && c.mode == strata::PaddingMode::Zeros) {
    strata::Tensor<T> functional;
    const strata::nn::ConvPadding<D> padding = options.padding();
    const bool ran = attempt(
        [&] {
          if constexpr (D == 1) {
            functional = strata::nn::functional::conv1d(input, layer->weight(), layer->bias(), c.stride, padding,
                                                        c.dilation, c.groups);
          } else if constexpr (D == 3) {
            functional = strata::nn::functional::conv3d(input, layer->weight(), layer->bias(), c.stride, padding,
                                                        c.dilation, c.groups);
          } else {
            functional = strata::nn::functional::conv2d(input, layer->weight(), layer->bias(), c.stride, padding,
                                                        c.dilation, c.groups);
          }
        },
        outcome, "the functional form", &error);
    if (!outcome.ok) return outcome;
    if (!ran) return fail(outcome, "the functional form refused what the layer computed: " + error);
    if (functional.shape() != output.shape()) {
      return fail(outcome, strata::detail::concat("the functional form gave shape ", functional.shape()));
    }
    if (!values_match(functional, ref.values, ref.magnitudes, ref.reduction, mismatch)) {
      return fail(outcome, "the functional form: " + mismatch);
    }
  }
  return outcome;
}

// ---- Linear and Bilinear --------------------------------------------------

template <typename T>
Outcome run_linear(ByteReader& reader, std::uint8_t flags) {
  const index_t in_features = reader.param(1, 8), out_features = reader.param(1, 8);
  const index_t rank = reader.small(1, 3);
  const index_t lead0 = reader.small(0, 4), lead1 = reader.small(0, 4);
  const std::uint8_t tweak = reader.byte();
  index_t last = in_features >= 1 && in_features <= 64 ? in_features : 1 + tweak % 4;
  if (tweak % 8 == 5) last += 1;
  std::vector<index_t> shape;
  if (rank >= 3) shape.push_back(lead1);
  if (rank >= 2) shape.push_back(lead0);
  shape.push_back(last);
  const bool bias = (flags & kNoBias) == 0;

  Outcome outcome;
  outcome.description =
      strata::detail::concat("Linear<", sizeof(T) == sizeof(double) ? "double" : "float", ">(", in_features, ", ",
                             out_features, ", bias=", bias, ") on input ", strata::Shape(shape));
  DataSource data{&reader, (flags & kGaussian) != 0, strata::Generator(reader.u64())};
  strata::Tensor<T> input = make_input<T>(strata::Shape(shape), (flags & kNonContiguous) != 0, data);
  if (flags & kSpecialValues) add_special_values(input, reader);

  const bool options_ok = in_features > 0 && out_features > 0 && allocatable<T>(big(in_features) * big(out_features));
  if (options_ok && big(in_features) * big(out_features) > big(kMaxWeightElements)) return outcome;  // too large here
  std::unique_ptr<strata::nn::Linear<T>> layer;
  std::string error;
  const bool built = attempt(
      [&] {
        layer =
            std::make_unique<strata::nn::Linear<T>>(strata::nn::LinearOptions(in_features, out_features).bias(bias));
      },
      outcome, "Linear's constructor", &error);
  if (!outcome.ok) return outcome;
  if (built != options_ok) return fail(outcome, built ? "Linear accepted invalid options" : "Linear refused: " + error);
  if (!built) {
    outcome.refused = true;
    return outcome;
  }
  fill(layer->weight(), data);
  if (bias) fill(layer->bias(), data);

  strata::Tensor<T> output;
  const bool answered = attempt([&] { output = layer->forward(input); }, outcome, "Linear::forward", &error);
  if (!outcome.ok) return outcome;
  if (answered != (last == in_features)) {
    return fail(outcome, answered ? "Linear accepted a mismatched input" : "Linear refused a valid input: " + error);
  }
  if (!answered) {
    outcome.refused = true;
    return outcome;
  }
  std::vector<index_t> expected = shape;
  expected.back() = out_features;
  if (output.shape() != strata::Shape(expected)) {
    return fail(outcome,
                strata::detail::concat("Linear gave shape ", output.shape(), ", expected ", strata::Shape(expected)));
  }
  const std::vector<double> x = strata_test::reference_values(input),
                            w = strata_test::reference_values(layer->weight());
  const std::vector<double> b = bias ? strata_test::reference_values(layer->bias()) : std::vector<double>();
  std::vector<double> ref, magnitude;
  const index_t rows = in_features == 0 ? 0 : static_cast<index_t>(x.size()) / in_features;
  for (index_t m = 0; m < rows; ++m) {
    for (index_t n = 0; n < out_features; ++n) {
      double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(n)], mag = std::abs(sum);
      for (index_t k = 0; k < in_features; ++k) {
        const double term =
            x[static_cast<std::size_t>(m * in_features + k)] * w[static_cast<std::size_t>(n * in_features + k)];
        sum += term;
        mag += std::abs(term);
      }
      ref.push_back(sum);
      magnitude.push_back(mag);
    }
  }
  std::string mismatch;
  if (!values_match(output, ref, magnitude, in_features, mismatch)) return fail(outcome, mismatch);

  if (flags & kFunctional) {
    strata::Tensor<T> functional;
    if (!attempt([&] { functional = strata::nn::functional::linear(input, layer->weight(), layer->bias()); }, outcome,
                 "functional::linear", &error)) {
      return outcome.ok ? fail(outcome, "functional::linear refused what Linear computed: " + error) : outcome;
    }
    if (!values_match(functional, ref, magnitude, in_features, mismatch)) {
      return fail(outcome, "functional::linear: " + mismatch);
    }
  }
  return outcome;
}

template <typename T>
Outcome run_bilinear(ByteReader& reader, std::uint8_t flags) {
  const index_t in1 = reader.param(1, 5), in2 = reader.param(1, 5), out_features = reader.param(1, 5);
  const index_t rank = reader.small(1, 3);
  const index_t lead0 = reader.small(0, 4), lead1 = reader.small(0, 4);
  const int mismatch_kind = reader.byte() % 8;
  const index_t last1 = in1 >= 1 && in1 <= 64 ? in1 : 2, last2 = in2 >= 1 && in2 <= 64 ? in2 : 3;
  std::vector<index_t> lead;
  if (rank >= 3) lead.push_back(lead1);
  if (rank >= 2) lead.push_back(lead0);
  std::vector<index_t> shape1 = lead, shape2 = lead;
  shape1.push_back(last1 + (mismatch_kind == 0 ? 1 : 0));
  shape2.push_back(last2 + (mismatch_kind == 1 ? 1 : 0));
  if (mismatch_kind == 2 && rank >= 2) shape2[0] += 1;
  if (mismatch_kind == 3) shape2.insert(shape2.begin(), 1);
  const bool bias = (flags & kNoBias) == 0;

  Outcome outcome;
  outcome.description = strata::detail::concat("Bilinear<", sizeof(T) == sizeof(double) ? "double" : "float", ">(", in1,
                                               ", ", in2, ", ", out_features, ", bias=", bias, ") on inputs ",
                                               strata::Shape(shape1), " and ", strata::Shape(shape2));
  DataSource data{&reader, (flags & kGaussian) != 0, strata::Generator(reader.u64())};
  strata::Tensor<T> input1 = make_input<T>(strata::Shape(shape1), (flags & kNonContiguous) != 0, data);
  strata::Tensor<T> input2 = make_input<T>(strata::Shape(shape2), false, data);
  if (flags & kSpecialValues) add_special_values(input1, reader);

  const bool options_ok =
      in1 > 0 && in2 > 0 && out_features > 0 && allocatable<T>(big(out_features) * big(in1) * big(in2));
  if (options_ok && big(out_features) * big(in1) * big(in2) > big(kMaxWeightElements)) return outcome;  // too large
  std::unique_ptr<strata::nn::Bilinear<T>> layer;
  std::string error;
  const bool built = attempt(
      [&] {
        layer =
            std::make_unique<strata::nn::Bilinear<T>>(strata::nn::BilinearOptions(in1, in2, out_features).bias(bias));
      },
      outcome, "Bilinear's constructor", &error);
  if (!outcome.ok) return outcome;
  if (built != options_ok) {
    return fail(outcome, built ? "Bilinear accepted invalid options" : "Bilinear refused: " + error);
  }
  if (!built) {
    outcome.refused = true;
    return outcome;
  }
  fill(layer->weight(), data);
  if (bias) fill(layer->bias(), data);

  strata::Tensor<T> output;
  const bool answered = attempt([&] { output = layer->forward(input1, input2); }, outcome, "Bilinear::forward", &error);
  if (!outcome.ok) return outcome;
  const bool valid = shape1.size() == shape2.size() && std::equal(shape1.begin(), shape1.end() - 1, shape2.begin()) &&
                     shape1.back() == in1 && shape2.back() == in2;
  if (answered != valid) {
    return fail(outcome, answered ? "Bilinear accepted mismatched inputs" : "Bilinear refused valid inputs: " + error);
  }
  if (!answered) {
    outcome.refused = true;
    return outcome;
  }
  std::vector<index_t> expected = shape1;
  expected.back() = out_features;
  if (output.shape() != strata::Shape(expected)) {
    return fail(outcome,
                strata::detail::concat("Bilinear gave shape ", output.shape(), ", expected ", strata::Shape(expected)));
  }
  const std::vector<double> x1 = strata_test::reference_values(input1), x2 = strata_test::reference_values(input2);
  const std::vector<double> w = strata_test::reference_values(layer->weight());
  const std::vector<double> b = bias ? strata_test::reference_values(layer->bias()) : std::vector<double>();
  std::vector<double> ref, magnitude;
  const index_t rows = static_cast<index_t>(x1.size()) / in1;
  for (index_t m = 0; m < rows; ++m) {
    for (index_t o = 0; o < out_features; ++o) {
      double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(o)], mag = std::abs(sum);
      for (index_t i = 0; i < in1; ++i) {
        for (index_t j = 0; j < in2; ++j) {
          const double term = x1[static_cast<std::size_t>(m * in1 + i)] *
                              w[static_cast<std::size_t>((o * in1 + i) * in2 + j)] *
                              x2[static_cast<std::size_t>(m * in2 + j)];
          sum += term;
          mag += std::abs(term);
        }
      }
      ref.push_back(sum);
      magnitude.push_back(mag);
    }
  }
  // Two rounded products per term: 2 * in1 * in2 roundings bound the error.
  std::string mismatch;
  if (!values_match(output, ref, magnitude, 2 * in1 * in2, mismatch)) return fail(outcome, mismatch);
  return outcome;
}

}  // namespace strata_fuzz

#include "conv_transpose_fuzz_case.hpp"  // ConvTranspose1d / ConvTranspose2d, on the helpers above

namespace strata_fuzz {

/// Decodes and runs one case; never throws.
inline Outcome run_case(const std::uint8_t* data, std::size_t size) {
  ByteReader reader(data, size);
  // Bytes below 240 keep the first four kinds (the corpus predates the others); 240..255 pick the later ones.
  const std::uint8_t kind_byte = reader.byte();
  const int kind = kind_byte < 240 ? kind_byte % 4 : 4 + (kind_byte - 240) % 3;
  const std::uint8_t flags = reader.byte();
  const bool is_double = (flags & kDouble) != 0;
  try {
    switch (kind) {
      case 4:
        return is_double ? run_conv_transpose<1, double>(reader, flags) : run_conv_transpose<1, float>(reader, flags);
      case 5:
        return is_double ? run_conv_transpose<2, double>(reader, flags) : run_conv_transpose<2, float>(reader, flags);
      case 6:
        return is_double ? run_conv<3, double>(reader, flags) : run_conv<3, float>(reader, flags);
      case 0:
        return is_double ? run_conv<1, double>(reader, flags) : run_conv<1, float>(reader, flags);
      case 1:
        return is_double ? run_conv<2, double>(reader, flags) : run_conv<2, float>(reader, flags);
      case 2:
        return is_double ? run_linear<double>(reader, flags) : run_linear<float>(reader, flags);
      default:
        return is_double ? run_bilinear<double>(reader, flags) : run_bilinear<float>(reader, flags);
    }
  } catch (const std::exception& e) {
    // Outside the calls under test: the decoder or the reference threw.
    Outcome outcome;
    outcome.ok = false;
    outcome.message = strata::detail::concat("exception outside the checked calls: ", e.what());
    return outcome;
  }
}

}  // namespace strata_fuzz
