// Tests for strata/io/safetensors.hpp: round trips, the exact file layout, torch's
// F16/BF16/F32/F64 conversions, and every way a hostile or broken file is refused.
#include <cmath>
#include <filesystem>
#include <limits>

#include <strata/io/safetensors.hpp>

#include "io/temp_dir.hpp"
#include "test_util.hpp"

namespace {

using strata::Shape;
using strata::Tensor;
using strata::io::load_safetensors;
using strata::io::save_safetensors;
using strata_test::le_bytes;
using strata_test::same_bits;

/// A safetensors file from a header text and a data section, with the length
/// field set to the header's length unless `length` says otherwise.
std::string container(const std::string& header, const std::string& data, std::int64_t length = -1) {
  return le_bytes(length < 0 ? header.size() : static_cast<std::uint64_t>(length), 8) + header + data;
}

template <typename T>
class SafetensorsTest : public ::testing::Test {
 protected:
  strata_test::TempDir dir;
};
TYPED_TEST_SUITE(SafetensorsTest, strata_test::ScalarTypes);

TYPED_TEST(SafetensorsTest, RoundTripIsBitExact) {
  using T = TypeParam;
  strata::Generator gen(11);
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  std::map<std::string, Tensor<T>> tensors{
      {"0.weight", Tensor<T>::randn({8, 1, 5}, gen)},
      {"0.bias", Tensor<T>::randn({8}, gen)},
      {"features.3.weight", Tensor<T>::randn({3, 4}, gen).transpose(0, 1)},  // non-contiguous
      {"scalar", Tensor<T>({}, {T(2.5)})},
      {"empty", Tensor<T>::empty({0, 7})},
      {"specials",
       Tensor<T>({6}, {T(-0.0), nan, inf, -inf, std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max()})},
  };
  const std::string path = this->dir.file("model.safetensors");
  save_safetensors(path, tensors);
  const auto loaded = load_safetensors<T>(path);
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    ASSERT_EQ(loaded.count(name), 1u) << name;
    EXPECT_TRUE(same_bits(loaded.at(name), tensor)) << name;
    EXPECT_TRUE(loaded.at(name).is_contiguous()) << name;
  }
  // Saving what was loaded gives the same file, byte for byte.
  const std::string again = this->dir.file("again.safetensors");
  save_safetensors(again, loaded);
  EXPECT_EQ(strata_test::read_bytes(again), strata_test::read_bytes(path));
}

TYPED_TEST(SafetensorsTest, FileLayoutFollowsTheFormat) {
  using T = TypeParam;
  const std::string path = this->dir.file("layout.safetensors");
  save_safetensors(path, std::map<std::string, Tensor<T>>{{"b", Tensor<T>({2}, {1, 2})}, {"a", Tensor<T>({1}, {3})}},
                   {{"format", "pt"}});
  const std::string bytes = strata_test::read_bytes(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);  // padded so that the data section is 8-byte aligned
  const std::string header = bytes.substr(8, n);
  const std::string dtype = sizeof(T) == 4 ? "F32" : "F64";
  const std::size_t s = sizeof(T);
  const auto json = nlohmann::json::parse(header);
  EXPECT_EQ(json.at("a").at("dtype"), dtype);
  EXPECT_EQ(json.at("a").at("shape"), nlohmann::json::array({1}));
  // Data in name order: "a" first.
  EXPECT_EQ(json.at("a").at("data_offsets"), nlohmann::json::array({0, s}));
  EXPECT_EQ(json.at("b").at("data_offsets"), nlohmann::json::array({s, 3 * s}));
  EXPECT_EQ(json.at("__metadata__").at("format"), "pt");
  EXPECT_EQ(bytes.size(), 8 + n + 3 * s);
  T first;
  std::memcpy(&first, bytes.data() + 8 + n, s);  // little-endian on every host we run on
  EXPECT_EQ(first, T(3));
  EXPECT_EQ(strata::io::load_safetensors_metadata(path), (std::map<std::string, std::string>{{"format", "pt"}}));
}

// Written by tests/reference/generate_io_fixtures.py: each "<dtype>" tensor holds
// torch's conversion of the same values; "<dtype>_as_f64" is torch's float64 of it.
TYPED_TEST(SafetensorsTest, ReadsTorchConversionsOfEveryDtype) {
  using T = TypeParam;
  const std::string path = std::string(STRATA_TEST_DATA_DIR) + "/io/dtypes.safetensors";
  const auto sd = load_safetensors<T>(path);
  for (const std::string name : {"f16", "bf16", "f32"}) {
    const Tensor<T>& got = sd.at(name);
    const Tensor<T>& want = sd.at(name + "_as_f64");  // F64 -> T rounds exactly like the narrow value
    ASSERT_EQ(got.shape(), (Shape{2, 8})) << name;
    for (strata::index_t i = 0; i < 2; ++i)
      for (strata::index_t j = 0; j < 8; ++j) {
        if (std::isnan(want(i, j))) {
          EXPECT_TRUE(std::isnan(got(i, j))) << name;
        } else {
          EXPECT_EQ(got(i, j), want(i, j)) << name << " element " << i << ", " << j;
          EXPECT_EQ(std::signbit(got(i, j)), std::signbit(want(i, j))) << name;
        }
      }
  }
  // float64 into T: the same rounding as a cast.
  const auto f64 = load_safetensors<double>(path).at("f64");
  for (strata::index_t j = 0; j < 8; ++j) {
    if (!std::isnan(f64(0, j))) {
      EXPECT_EQ(sd.at("f64")(0, j), static_cast<T>(f64(0, j)));
    }
  }
  EXPECT_EQ(sd.at("scalar").item(), T(2.5));
  EXPECT_EQ(sd.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(strata::io::load_safetensors_metadata(path).at("producer"), "generate_io_fixtures.py");
}

// Hand-written bit patterns with known values (IEEE binary16 and bfloat16).
TYPED_TEST(SafetensorsTest, HalfAndBFloat16BitPatterns) {
  using T = TypeParam;
  const std::vector<std::uint16_t> f16{0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0400, 0x8000, 0x7C00, 0xFC00, 0x3555};
  const std::vector<double> f16_values{1,    -2,       65504,     std::ldexp(1.0, -24), std::ldexp(1.0, -14),
                                       -0.0, INFINITY, -INFINITY, 0.333251953125};
  const std::vector<std::uint16_t> bf16{0x3F80, 0xC040, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0x3EAB, 0x7FC0};
  const std::vector<double> bf16_values{1,    -3,       3.3895313892515355e38, std::ldexp(1.0, -133),
                                        -0.0, INFINITY, 0.333984375,           NAN};
  std::string data;
  for (auto v : f16) data += le_bytes(v, 2);
  for (auto v : bf16) data += le_bytes(v, 2);
  const std::string header = R"({"h":{"dtype":"F16","shape":[9],"data_offsets":[0,18]},)"
                             R"("b":{"dtype":"BF16","shape":[8],"data_offsets":[18,34]}})";
  const auto sd = load_safetensors<T>(this->dir.write("bits.safetensors", container(header, data)));
  for (std::size_t i = 0; i < f16.size(); ++i) {
    EXPECT_EQ(sd.at("h")(i), static_cast<T>(f16_values[i])) << "F16 0x" << std::hex << f16[i];
    EXPECT_EQ(std::signbit(sd.at("h")(i)), std::signbit(f16_values[i]));
  }
  for (std::size_t i = 0; i + 1 < bf16.size(); ++i) {
    EXPECT_EQ(sd.at("b")(i), static_cast<T>(bf16_values[i])) << "BF16 0x" << std::hex << bf16[i];
    EXPECT_EQ(std::signbit(sd.at("b")(i)), std::signbit(bf16_values[i]));
  }
  EXPECT_TRUE(std::isnan(sd.at("b")(7)));
}

// torchvision state_dicts as they are: BatchNorm's 0-d I64 num_batches_tracked, and
// every integer dtype, converted when T holds the value exactly; BOOL as 0 and 1.
TYPED_TEST(SafetensorsTest, IntegerAndBoolDtypes) {
  using T = TypeParam;
  const std::string header = R"({"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                             R"("i32":{"dtype":"I32","shape":[3],"data_offsets":[8,20]},)"
                             R"("i16":{"dtype":"I16","shape":[2],"data_offsets":[20,24]},)"
                             R"("i8":{"dtype":"I8","shape":[2],"data_offsets":[24,26]},)"
                             R"("u8":{"dtype":"U8","shape":[2],"data_offsets":[26,28]},)"
                             R"("mask":{"dtype":"BOOL","shape":[2,2],"data_offsets":[28,32]}})";
  const std::string data = le_bytes(123456, 8) + le_bytes(static_cast<std::uint32_t>(-7), 4) + le_bytes(1 << 24, 4) +
                           le_bytes(static_cast<std::uint32_t>(-(1 << 24)), 4) + le_bytes(0x8000, 2) +
                           le_bytes(32767, 2) + std::string("\x80\x7f\xff\x00", 4) + std::string("\x01\x00\x00\x01", 4);
  const auto sd = load_safetensors<T>(this->dir.write("ints.safetensors", container(header, data)));
  EXPECT_EQ(sd.at("bn.num_batches_tracked").shape(), Shape{});
  EXPECT_EQ(sd.at("bn.num_batches_tracked").item(), T(123456));
  EXPECT_TRUE(same_bits(sd.at("i32"), Tensor<T>({3}, {-7, 16777216, -16777216})));
  EXPECT_TRUE(same_bits(sd.at("i16"), Tensor<T>({2}, {-32768, 32767})));
  EXPECT_TRUE(same_bits(sd.at("i8"), Tensor<T>({2}, {-128, 127})));
  EXPECT_TRUE(same_bits(sd.at("u8"), Tensor<T>({2}, {255, 0})));
  EXPECT_TRUE(same_bits(sd.at("mask"), Tensor<T>({2, 2}, {1, 0, 0, 1})));
}

TEST(SafetensorsIntegers, ValuesTheTypeCannotHoldAreErrorsNamingTheTensor) {
  strata_test::TempDir dir;
  // 2^24 + 1 is exact in double, not in float; 2^53 + 1 in neither.
  const std::string i32 = container(R"({"n":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                                    le_bytes(3, 4) + le_bytes((1 << 24) + 1, 4));
  const std::string path = dir.write("i32.safetensors", i32);
  EXPECT_THROW_WITH(load_safetensors<float>(path), strata::Error,
                    "load_safetensors: " + path +
                        ": tensor \"n\" (I32): element 1 is 16777217, which float cannot represent exactly");
  EXPECT_EQ(load_safetensors<double>(path).at("n")(1), 16777217.0);
  const std::string i64 =
      dir.write("i64.safetensors", container(R"({"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})",
                                             le_bytes((std::uint64_t{1} << 53) + 1, 8)));
  for (const std::string& who : {std::string("float"), std::string("double")}) {
    const std::string message =
        "tensor \"step\" (I64): element 0 is 9007199254740993, which " + who + " cannot represent exactly";
    if (who == "float") {
      EXPECT_THROW_WITH(load_safetensors<float>(i64), strata::Error, message);
    } else {
      EXPECT_THROW_WITH(load_safetensors<double>(i64), strata::Error, message);
    }
  }
  // -2^63 is a power of two, exact in both; 2^63 - 1 rounds up to 2^63, exact in neither.
  const std::string lowest = dir.write(
      "lowest.safetensors",
      container(R"({"m":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", le_bytes(std::uint64_t{1} << 63, 8)));
  EXPECT_EQ(load_safetensors<float>(lowest).at("m")(0), -std::ldexp(1.f, 63));
  const std::string highest = dir.write(
      "highest.safetensors",
      container(R"({"m":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", le_bytes(~std::uint64_t{0} >> 1, 8)));
  EXPECT_THROW_WITH(load_safetensors<double>(highest), strata::Error, "element 0 is 9223372036854775807, which double");
  const std::string mask = dir.write("bool.safetensors", container(R"({"mask":{"dtype":"BOOL","shape":[3],)"
                                                                   R"("data_offsets":[0,3]}})",
                                                                   std::string("\x01\x00\x02", 3)));
  EXPECT_THROW_WITH(load_safetensors<double>(mask), strata::Error,
                    "tensor \"mask\" (BOOL): element 2 is the byte 2, which is not a bool (0 or 1)");
}

TYPED_TEST(SafetensorsTest, AcceptsAnyEntryOrderAndUnknownFields) {
  // Entries listed against their data order, an unused field, padding spaces, an empty file body.
  const std::string header = R"({"second":{"dtype":"F32","shape":[1],"data_offsets":[4,8],"note":1},)"
                             R"("first":{"shape":[1],"data_offsets":[0,4],"dtype":"F32"}}   )";
  const auto sd = load_safetensors<TypeParam>(
      this->dir.write("order.safetensors", container(header, le_bytes(0x3F800000, 4) + le_bytes(0x40000000, 4))));
  EXPECT_EQ(sd.at("first")(0), TypeParam(1));
  EXPECT_EQ(sd.at("second")(0), TypeParam(2));
  EXPECT_TRUE(load_safetensors<TypeParam>(this->dir.write("none.safetensors", container("{}", ""))).empty());
}

class SafetensorsErrors : public ::testing::Test {
 protected:
  /// Expects load_safetensors on a file with these bytes to throw a message
  /// naming the file and containing `reason`.
  void expect_refused(const std::string& bytes, const std::string& reason) {
    const std::string path = dir.write("bad.safetensors", bytes);
    EXPECT_THROW_WITH(load_safetensors<float>(path), strata::Error, "load_safetensors: " + path + ": ");
    EXPECT_THROW_WITH(load_safetensors<double>(path), strata::Error, reason);
  }
  /// One F32 tensor "x" with this shape and these offsets over `data_bytes` zero bytes.
  void expect_refused_entry(const std::string& entry, std::size_t data_bytes, const std::string& reason) {
    expect_refused(container("{\"x\":" + entry + "}", std::string(data_bytes, '\0')), reason);
  }
  strata_test::TempDir dir;
};

TEST_F(SafetensorsErrors, TruncatedAndBadLengths) {
  expect_refused("", "file is 0 bytes, too short for the 8-byte header length");
  expect_refused(std::string("\x10\x00\x00", 3), "file is 3 bytes, too short for the 8-byte header length");
  expect_refused(container(R"({"x":1})", "", 1000),
                 "header length 1000 exceeds the 7 bytes that follow the length field (file size 15");
  expect_refused(le_bytes(~std::uint64_t{0}, 8) + "{}", "header length 18446744073709551615 exceeds the 2 bytes");
  expect_refused(container("", ""), "header does not start with '{'");
  expect_refused(container(" {}", ""), "header does not start with '{'");
  // A valid file cut short inside its data.
  const std::string whole =
      container(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(16, '\0'));
  expect_refused(whole.substr(0, whole.size() - 3), "data_offsets [0, 16) exceed the data section (13 bytes)");
}

TEST_F(SafetensorsErrors, HeaderLargerThanTheLimitIsRefusedUnread) {
  // A sparse file just past the 100 MB header limit: refused from the length alone.
  const std::uint64_t length = strata::detail::kSafetensorsMaxHeaderBytes + 1;
  const std::string path = dir.write("huge.safetensors", le_bytes(length, 8) + "{");
  std::filesystem::resize_file(path, 8 + length);
  EXPECT_THROW_WITH(load_safetensors<float>(path), strata::Error,
                    "header length 100000001 exceeds the limit of 100000000 bytes");
}

TEST_F(SafetensorsErrors, BadJson) {
  expect_refused(container(R"({"x": {"dtype": "F32",)", ""), "header is not valid JSON: ");
  expect_refused(container(R"({"x": nope})", ""), "header is not valid JSON: ");
  expect_refused(container("{\"\xff\": 1}", ""), "header is not valid JSON: ");  // not UTF-8
  expect_refused(container(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} trailing)", std::string(4, 'x')),
                 "header is not valid JSON: ");
  expect_refused(container(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                           R"("a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})",
                           ""),
                 "header has the key \"a\" twice");
  expect_refused(container(R"({"a":{"dtype":"F32","dtype":"F64","shape":[0],"data_offsets":[0,0]}})", ""),
                 "header has the key \"dtype\" twice");
  expect_refused(container(R"({"a":{"shape":[[[[1]]]]}})", ""), "header nests deeper than the safetensors format");
  expect_refused(container("[1, 2]", ""), "header does not start with '{'");
}

TEST_F(SafetensorsErrors, BadEntries) {
  expect_refused(container(R"({"x":[1,2]})", ""), "tensor \"x\" is not an object");
  expect_refused(container(R"({"x":{"dtype":"F32","shape":[1]}})", ""), "tensor \"x\" has no \"data_offsets\"");
  expect_refused(container(R"({"x":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "tensor \"x\": \"dtype\" is not a string");
  expect_refused_entry(R"({"dtype":"F33","shape":[1],"data_offsets":[0,4]})", 4,
                       "tensor \"x\" has unknown dtype \"F33\" (expected F16, BF16, F32, F64, I64, I32, I16, I8, U8 "
                       "or BOOL)");
  expect_refused_entry(R"({"dtype":"U16","shape":[1],"data_offsets":[0,2]})", 2,
                       "tensor \"x\" has dtype U16, which strata does not load (it loads F16, BF16, F32, F64, I64, "
                       "I32, I16, I8, U8 and BOOL)");
  expect_refused_entry(R"({"dtype":"F32","shape":3,"data_offsets":[0,12]})", 12, "\"shape\" is not an array");
  expect_refused_entry(R"({"dtype":"F32","shape":[-3],"data_offsets":[0,12]})", 12,
                       "tensor \"x\": expected \"shape\" to hold non-negative integers below 2^63, got -3");
  expect_refused_entry(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,12]})", 12,
                       "expected \"shape\" to hold non-negative integers below 2^63, got 1.5");
  expect_refused_entry(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,12]})", 12,
                       "got 9223372036854775808");
  expect_refused_entry(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})", 8,
                       "expected \"data_offsets\" to be [begin, end], got [0,4,8]");
  expect_refused_entry(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})", 8,
                       "expected \"data_offsets\" to hold non-negative integers");
  expect_refused(container(R"({"__metadata__":{"a":1}})", ""), "\"__metadata__\" entry \"a\" is not a string: 1");
  expect_refused(container(R"({"__metadata__":[]})", ""), "\"__metadata__\" is not an object of strings");
}

TEST_F(SafetensorsErrors, ShapeAndByteCount) {
  expect_refused_entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})", 8,
                       "tensor \"x\" shape [3] of F32 needs 12 bytes, but data_offsets [0, 8) hold 8");
  expect_refused_entry(R"({"dtype":"BF16","shape":[2,2],"data_offsets":[0,4]})", 4,
                       "shape [2, 2] of BF16 needs 8 bytes");
  // Huge declared shapes fail on the byte count, before anything is allocated
  // (an allocation would fail with "refusing to allocate" instead).
  expect_refused_entry(
      R"({"dtype":"F16","shape":[1073741824,1073741824],"data_offsets":[0,8]})", 8,
      "shape [1073741824, 1073741824] of F16 needs 2305843009213693952 bytes, but data_offsets [0, 8)");
  expect_refused_entry(R"({"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]})", 8,
                       "shape [4294967296, 4294967296] of F64 overflows int64 bytes");
  expect_refused_entry(R"({"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,4611686018427387904]})", 8,
                       "data_offsets [0, 4611686018427387904) exceed the data section (8 bytes)");
}

TEST_F(SafetensorsErrors, DataRanges) {
  const std::string f32_1 = R"("dtype":"F32","shape":[1])";
  // Beyond the data section (the example from the issue).
  expect_refused(
      container(R"({"0.weight":{"dtype":"F32","shape":[25],"data_offsets":[0,100]}})", std::string(64, '\0')),
      "tensor \"0.weight\" data_offsets [0, 100) exceed the data section (64 bytes)");
  // Reversed.
  expect_refused(container("{\"x\":{" + f32_1 + ",\"data_offsets\":[8,4]}}", std::string(8, '\0')),
                 "tensor \"x\" data_offsets [8, 4) end before they begin");
  // Overlapping.
  expect_refused(container("{\"a\":{" + f32_1 + ",\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2]," +
                               "\"data_offsets\":[2,10]}}",
                           std::string(10, '\0')),
                 "tensor \"b\" data_offsets [2, 10) overlap tensor \"a\" [0, 4)");
  // Two tensors on the same bytes.
  expect_refused(
      container("{\"a\":{" + f32_1 + ",\"data_offsets\":[0,4]},\"b\":{" + f32_1 + ",\"data_offsets\":[0,4]}}",
                std::string(4, '\0')),
      "overlap tensor");
  // A gap between tensors, and one at the start.
  expect_refused(
      container("{\"a\":{" + f32_1 + ",\"data_offsets\":[0,4]},\"b\":{" + f32_1 + ",\"data_offsets\":[8,12]}}",
                std::string(12, '\0')),
      "bytes [4, 8) of the data section belong to no tensor (safetensors requires contiguous data)");
  expect_refused(container("{\"a\":{" + f32_1 + ",\"data_offsets\":[4,8]}}", std::string(8, '\0')),
                 "bytes [0, 4) of the data section belong to no tensor");
  // Trailing bytes after the last tensor.
  expect_refused(container("{\"a\":{" + f32_1 + ",\"data_offsets\":[0,4]}}", std::string(6, '\0')),
                 "bytes [4, 6) of the data section belong to no tensor (trailing data or a wrong header length)");
}

TEST_F(SafetensorsErrors, FilesThatCannotBeRead) {
  const std::string missing = dir.file("missing.safetensors");
  EXPECT_THROW_WITH(load_safetensors<float>(missing), strata::Error,
                    "load_safetensors: " + missing + ": cannot open (No such file or directory)");
  EXPECT_THROW_WITH(load_safetensors<float>(dir.file("")), strata::Error, "not a regular file");
  EXPECT_THROW_WITH(strata::io::load_safetensors_metadata(missing), strata::Error,
                    "load_safetensors_metadata: " + missing + ": cannot open");
}

TEST_F(SafetensorsErrors, Save) {
  const std::string path = dir.file("out.safetensors");
  EXPECT_THROW_WITH(save_safetensors(path, std::map<std::string, Tensor<float>>{{"w", Tensor<float>()}}), strata::Error,
                    "save_safetensors: " + path + ": tensor \"w\" is undefined");
  EXPECT_THROW_WITH(
      save_safetensors(path, std::map<std::string, Tensor<float>>{{"__metadata__", Tensor<float>::zeros({1})}}),
      strata::Error, "\"__metadata__\" cannot name a tensor");
  const std::string nowhere = dir.file("no/such/dir/out.safetensors");
  EXPECT_THROW_WITH(save_safetensors(nowhere, std::map<std::string, Tensor<float>>{}), strata::Error,
                    "save_safetensors: " + nowhere + ": cannot open for writing");
}

// Every prefix of a valid file and many random byte corruptions of it: each
// either loads or throws strata::Error; nothing crashes, hangs or reads out of
// bounds (the sanitizer build runs this too).
TEST(SafetensorsFuzz, CorruptedFilesLoadOrThrowError) {
  strata_test::TempDir dir;
  const std::string valid = strata_test::read_bytes(std::string(STRATA_TEST_DATA_DIR) + "/io/dtypes.safetensors");
  ASSERT_GT(valid.size(), 100u);
  const auto attempt = [&](const std::string& bytes, const std::string& what) {
    const std::string path = dir.write("fuzz.safetensors", bytes);
    try {
      load_safetensors<double>(path);
    } catch (const strata::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": not a strata::Error: " << e.what();
    }
  };
  for (std::size_t n = 0; n < valid.size(); ++n) attempt(valid.substr(0, n), "prefix of " + std::to_string(n));
  strata::Generator gen(2024);
  for (int round = 0; round < 400; ++round) {
    std::string bytes = valid;
    // Mostly the header, where the structure is; sometimes anywhere.
    const std::size_t span = round % 4 == 0 ? bytes.size() : std::min<std::size_t>(bytes.size(), 128);
    for (int k = 0; k < 1 + round % 3; ++k) {
      const auto at = static_cast<std::size_t>(gen.uniform<double>(0, static_cast<double>(span)));
      bytes[std::min(at, bytes.size() - 1)] = static_cast<char>(gen.uniform<double>(0, 256));
    }
    attempt(bytes, "mutation round " + std::to_string(round));
  }
}

}  // namespace
