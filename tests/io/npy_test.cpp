// Tests for strata/io/npy.hpp: files written by numpy (every version, byte order and
// memory order), byte-identical output, round trips, and refusal of broken files.
#include <cmath>
#include <limits>

#include <strata/io/npy.hpp>

#include "io/temp_dir.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using strata::io::load_npy;
using strata::io::save_npy;
using strata_test::le_bytes;
using strata_test::same_bits;

const std::string kData = std::string(STRATA_TEST_DATA_DIR) + "/io/";

/// The fixture values: (i - 7.5) / 4 for the flat C-order index i, exact in every dtype.
template <typename T>
Tensor<T> iota(Shape shape) {
  const index_t n = strata::detail::checked_numel(shape, "iota");
  Tensor<T> t = Tensor<T>::empty(std::move(shape));
  for (index_t i = 0; i < n; ++i) t.data()[i] = (T(i) - T(7.5)) / T(4);
  return t;
}

/// A .npy file: magic, version, header length (2 bytes for 1.x, else 4), header, data.
std::string npy_file(const std::string& header, const std::string& data, int major = 1, int minor = 0) {
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + static_cast<char>(minor);
  return out + le_bytes(header.size(), major == 1 ? 2 : 4) + header + data;
}

template <typename T>
class NpyTest : public ::testing::Test {
 protected:
  strata_test::TempDir dir;
};
TYPED_TEST_SUITE(NpyTest, strata_test::ScalarTypes);

// Fixtures from tests/reference/generate_io_fixtures.py (numpy 1.24's own writer).
TYPED_TEST(NpyTest, ReadsWhatNumpyWrites) {
  using T = TypeParam;
  const auto expect_iota = [](const std::string& file, Shape shape) {
    const Tensor<T> got = load_npy<T>(kData + file);
    EXPECT_TRUE(got.is_contiguous()) << file;
    EXPECT_TRUE(same_bits(got, iota<T>(shape))) << file << " gave shape " << got.shape();
  };
  expect_iota("c_f4.npy", {2, 3, 4});
  expect_iota("c_f8_1d.npy", {5});
  expect_iota("scalar_f8.npy", {});
  expect_iota("empty_f4.npy", {0, 3});
  expect_iota("v2_f4.npy", {2, 3, 4});
  expect_iota("v3_f4.npy", {2, 3, 4});
  expect_iota("big_endian_f8.npy", {3, 2});
  expect_iota("big_endian_f4.npy", {2, 3, 4});
  expect_iota("fortran_f4.npy", {2, 3, 4});  // np.asfortranarray: same values, column-major bytes
  expect_iota("fortran_big_endian_f8.npy", {3, 2});
}

TYPED_TEST(NpyTest, Float16InBothByteOrders) {
  using T = TypeParam;
  const Tensor<double> want = load_npy<double>(kData + "specials_f2_as_f8.npy");  // numpy's float64 of each value
  for (const std::string file : {"specials_f2.npy", "specials_f2_big_endian.npy"}) {
    const Tensor<T> got = load_npy<T>(kData + file);
    ASSERT_EQ(got.shape(), want.shape()) << file;
    for (index_t i = 0; i < got.numel(); ++i) {
      if (std::isnan(want(i))) {
        EXPECT_TRUE(std::isnan(got(i))) << file << " element " << i;
      } else {
        EXPECT_EQ(got(i), static_cast<T>(want(i))) << file << " element " << i;
        EXPECT_EQ(std::signbit(got(i)), std::signbit(want(i))) << file << " element " << i;
      }
    }
  }
}

TYPED_TEST(NpyTest, WritesExactlyWhatNumpyWrites) {
  using T = TypeParam;
  const bool is_float = sizeof(T) == 4;
  const std::vector<std::pair<std::string, Shape>> cases =
      is_float ? std::vector<std::pair<std::string, Shape>>{{"c_f4.npy", {2, 3, 4}}, {"empty_f4.npy", {0, 3}}}
               : std::vector<std::pair<std::string, Shape>>{{"c_f8_1d.npy", {5}}, {"scalar_f8.npy", {}}};
  for (const auto& [file, shape] : cases) {
    const std::string path = this->dir.file(file);
    save_npy(path, iota<T>(shape));
    EXPECT_EQ(strata_test::read_bytes(path), strata_test::read_bytes(kData + file)) << file;
  }
}

TYPED_TEST(NpyTest, RoundTripIsBitExact) {
  using T = TypeParam;
  strata::Generator gen(5);
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  const std::vector<Tensor<T>> tensors{
      Tensor<T>::randn({4, 1, 7}, gen),
      Tensor<T>::randn({3, 5}, gen).transpose(0, 1),  // non-contiguous: written in row-major order
      Tensor<T>({}, {T(-1.25)}),
      Tensor<T>::empty({2, 0}),
      Tensor<T>({5}, {T(-0.0), nan, -inf, std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::lowest()}),
      Tensor<T>::randn({1234567890123 % 97 + 1, 3}, gen),  // a 2-digit first dim changes the padding
  };
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::string path = this->dir.file("t" + std::to_string(i) + ".npy");
    save_npy(path, tensors[i]);
    EXPECT_EQ(strata_test::read_bytes(path).size() % 64,
              (static_cast<std::size_t>(tensors[i].numel()) * sizeof(T)) % 64)
        << "header must end on a 64-byte boundary";
    EXPECT_TRUE(same_bits(load_npy<T>(path), tensors[i])) << i;
  }
}

TYPED_TEST(NpyTest, LenientWhereNumpyIs) {
  using T = TypeParam;
  const std::string data = le_bytes(0x3F800000, 4) + le_bytes(0x40000000, 4);
  // Any key order, double quotes, no trailing comma, tabs, a Python 2 long, version 2.0.
  for (const auto& [header, major] : std::vector<std::pair<std::string, int>>{
           {"{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}\n", 1},
           {"{\"descr\": \"<f4\",\t\"fortran_order\": True, \"shape\": (2, ), }   \n", 2},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }\n", 1},
           {"{'descr':'<f4','fortran_order':False,'shape':(1,2,)}", 3},
       }) {
    const Tensor<T> t = load_npy<T>(this->dir.write("ok.npy", npy_file(header, data, major)));
    EXPECT_EQ(t.numel(), 2) << header;
    EXPECT_EQ(t.data()[0], T(1)) << header;
    EXPECT_EQ(t.data()[1], T(2)) << header;
  }
}

class NpyErrors : public ::testing::Test {
 protected:
  void expect_refused(const std::string& bytes, const std::string& reason) {
    const std::string path = dir.write("bad.npy", bytes);
    EXPECT_THROW_WITH(load_npy<float>(path), strata::Error, "load_npy: " + path + ": ");
    EXPECT_THROW_WITH(load_npy<double>(path), strata::Error, reason);
  }
  /// A version 1.0 file with this header and `data_bytes` zero bytes.
  void expect_bad_header(const std::string& header, const std::string& reason, std::size_t data_bytes = 8) {
    expect_refused(npy_file(header, std::string(data_bytes, '\0')), reason);
  }
  strata_test::TempDir dir;
};

TEST_F(NpyErrors, MagicVersionAndLengths) {
  expect_refused("", "not a .npy file (it does not start with \"\\x93NUMPY\")");
  expect_refused("PK\x03\x04 a zip, maybe an .npz", "not a .npy file");
  expect_refused(std::string("\x93NUMPX\x01\x00", 8), "not a .npy file");
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  expect_refused(npy_file(header, std::string(8, '\0'), 4, 0),
                 "unsupported .npy version 4.0 (strata reads 1.0, 2.0 and 3.0)");
  expect_refused(npy_file(header, std::string(8, '\0'), 1, 1), "unsupported .npy version 1.1");
  expect_refused(std::string("\x93NUMPY\x01\x00\x10", 9),
                 "file is 9 bytes, too short for the header length (truncated?)");
  expect_refused(std::string("\x93NUMPY\x02\x00\x10\x00\x00", 11), "file is 11 bytes, too short for the header length");
  expect_refused(std::string("\x93NUMPY\x01\x00", 8) + le_bytes(60000, 2) + "{'descr'",
                 "header length 60000 exceeds the 8 bytes after the preamble (truncated?)");
  expect_refused(std::string("\x93NUMPY\x03\x00", 8) + le_bytes(0xFFFFFFFF, 4) + "{}",
                 "header length 4294967295 exceeds the 2 bytes after the preamble");
}

TEST_F(NpyErrors, Header) {
  expect_bad_header("", "bad header at byte 0: expected '{'");
  expect_bad_header("['descr']", "bad header at byte 0: expected '{' in \"['descr']\"");
  expect_bad_header("{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'");
  expect_bad_header("{'fortran_order': False, 'shape': (2,)}", "missing key 'descr'");
  expect_bad_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
                    "unexpected key 'extra' (expected 'descr', 'fortran_order' and 'shape')");
  expect_bad_header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                    "the key 'descr' appears twice");
  expect_bad_header("{descr: '<f4'}", "expected a key in quotes");
  expect_bad_header("{'descr' '<f4'}", "expected ':'");
  expect_bad_header("{'descr': '<f4\\n', 'fortran_order': False, 'shape': (2,)}", "unsupported character in a string");
  expect_bad_header("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}",
                    "expected True or False for 'fortran_order'");
  expect_bad_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} extra",
                    "unexpected text after the closing '}'");
  expect_bad_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) 'x': 1}", "expected '}'");
  expect_bad_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected '}'");
}

TEST_F(NpyErrors, DescrAndShape) {
  const auto header = [](const std::string& descr, const std::string& shape) {
    return "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }";
  };
  expect_bad_header(header("'<i8'", "(1,)"),
                    "unsupported dtype '<i8' (strata reads float16, float32 and float64: '<f2', '<f4', '<f8', or '>' "
                    "for big-endian)");
  expect_bad_header(header("'|b1'", "(1,)"), "unsupported dtype '|b1'");
  expect_bad_header(header("'float32'", "(1,)"), "unsupported dtype 'float32'");
  expect_bad_header(header("[('a', '<f4')]", "(1,)"), "expected 'descr' to be a dtype string such as '<f4'");
  expect_bad_header(header("'<f4'", "(2)"), "'shape' must be a tuple, e.g. (3,)");
  expect_bad_header(header("'<f4'", "[2]"), "expected '('");
  expect_bad_header(header("'<f4'", "(-2,)"), "expected a non-negative integer in 'shape'");
  expect_bad_header(header("'<f4'", "(02,)"), "integer with a leading zero");
  expect_bad_header(header("'<f4'", "(2 2)"), "expected ')'");
  expect_bad_header(header("'<f4'", "(99999999999999999999,)"), "a size in 'shape' overflows int64");
  // Python 2 longs only in versions 1.0 and 2.0.
  expect_refused(npy_file(header("'<f4'", "(2L,)"), std::string(8, '\0'), 3), "expected ')'");
}

TEST_F(NpyErrors, DataSize) {
  const auto header = [](const std::string& descr, const std::string& shape) {
    return "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }\n";
  };
  expect_bad_header(header("'<f4'", "(3,)"), "shape [3] needs 12 data bytes, the file has 8 (truncated?)", 8);
  expect_bad_header(header("'<f8'", "(1,)"), "shape [1] needs 8 data bytes, the file has 9", 9);
  expect_bad_header(header("'<f2'", "(2, 3)"), "shape [2, 3] needs 12 data bytes, the file has 0", 0);
  // Huge declared shapes fail on the size check, never reaching an allocation.
  expect_bad_header(header("'<f4'", "(1073741824, 1073741824)"),
                    "shape [1073741824, 1073741824] needs 4611686018427387904 data bytes, the file has 8", 8);
  expect_bad_header(header("'<f8'", "(4294967296, 4294967296)"),
                    "shape [4294967296, 4294967296] overflows int64 bytes");
}

TEST_F(NpyErrors, FilesThatCannotBeReadOrWritten) {
  const std::string missing = dir.file("missing.npy");
  EXPECT_THROW_WITH(load_npy<float>(missing), strata::Error, "load_npy: " + missing + ": cannot open");
  EXPECT_THROW_WITH(save_npy(dir.file("x.npy"), Tensor<float>()), strata::Error, "the tensor is undefined");
  const std::string nowhere = dir.file("no/such/dir/x.npy");
  EXPECT_THROW_WITH(save_npy(nowhere, Tensor<double>::zeros({1})), strata::Error,
                    "save_npy: " + nowhere + ": cannot open for writing");
}

// Every prefix of a valid file and many random byte corruptions of it: each
// either loads or throws strata::Error; nothing crashes, hangs or reads out of
// bounds (the sanitizer build runs this too).
TEST(NpyFuzz, CorruptedFilesLoadOrThrowError) {
  strata_test::TempDir dir;
  const std::string valid = strata_test::read_bytes(std::string(STRATA_TEST_DATA_DIR) + "/io/fortran_big_endian_f8.npy");
  ASSERT_GT(valid.size(), 100u);
  const auto attempt = [&](const std::string& bytes, const std::string& what) {
    const std::string path = dir.write("fuzz.npy", bytes);
    try {
      load_npy<double>(path);
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
