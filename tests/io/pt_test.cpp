// Tests for strata/io/pt.hpp: torch.save files (tests/reference/generate_pt_fixtures.py
// wrote them with torch 1.13) load exactly as torch's own conversions of the same tensors,
// a saved model runs to PyTorch's logits, and every hostile or malformed file is refused.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <strata/io/npy.hpp>
#include <strata/io/pt.hpp>
#include <strata/io/safetensors.hpp>
#include <strata/nn/activation.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/flatten.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/sequential.hpp>

#include "io/pt_zip.hpp"
#include "io/temp_dir.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using strata::io::load_pt;

const std::string kPtDir = std::string(STRATA_TEST_DATA_DIR) + "/pt/";

/// Bit-identical, NaN payloads aside (torch and Eigen may quiet them differently).
template <typename T>
::testing::AssertionResult pt_same_values(const Tensor<T>& got, const Tensor<T>& want) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << got.shape() << ", expected " << want.shape();
  const Tensor<T> g = got.contiguous(), w = want.contiguous();
  for (index_t i = 0; i < g.numel(); ++i) {
    const T a = g.data()[i], b = w.data()[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (std::memcmp(&a, &b, sizeof(T)) != 0)
      return ::testing::AssertionFailure() << "element " << i << " is " << a << ", expected " << b;
  }
  return ::testing::AssertionSuccess();
}

/// Expects `file` to load as its twin: the same keys, and for each key the
/// values torch's t.float() (or, for double and float64 tensors, t.double())
/// gave, bit for bit.
template <typename T>
void pt_expect_matches_twin(const std::string& file, const std::string& twin) {
  SCOPED_TRACE(file);
  const auto got = load_pt<T>(kPtDir + file);
  const auto want = strata::io::load_safetensors<T>(kPtDir + twin);
  std::set<std::string> keys;
  for (const auto& [name, tensor] : want) keys.insert(name.substr(4));
  ASSERT_EQ(got.size(), keys.size());
  for (const std::string& key : keys) {
    ASSERT_EQ(got.count(key), 1u) << "missing key \"" << key << "\"";
    const bool f64 = sizeof(T) == 8 && want.count("f64/" + key);
    EXPECT_TRUE(pt_same_values(got.at(key), want.at((f64 ? "f64/" : "f32/") + key))) << key;
    EXPECT_TRUE(got.at(key).is_contiguous()) << key;
  }
}

template <typename T>
class PtTest : public ::testing::Test {};
TYPED_TEST_SUITE(PtTest, strata_test::ScalarTypes);

TYPED_TEST(PtTest, EveryDtypeConvertsAsTorchDoes) {
  pt_expect_matches_twin<TypeParam>("dtypes.pt", "dtypes.twin.safetensors");
  pt_expect_matches_twin<TypeParam>("dtypes_legacy.pt", "dtypes.twin.safetensors");
  const auto sd = load_pt<TypeParam>(kPtDir + "dtypes.pt");
  EXPECT_EQ(sd.at("num_batches_tracked").shape(), Shape{});
  EXPECT_EQ(sd.at("num_batches_tracked").item(), TypeParam(42));
  EXPECT_EQ(sd.at("bool").shape(), Shape{5});
  EXPECT_EQ(sd.at("i8")(0), TypeParam(-128));
}

TYPED_TEST(PtTest, StridesOffsetsAndSharedStorages) {
  using T = TypeParam;
  for (const char* file : {"layouts.pt", "layouts_legacy.pt", "layouts_p3.pt"})
    pt_expect_matches_twin<T>(file, "layouts.twin.safetensors");
  const auto sd = load_pt<T>(kPtDir + "layouts.pt");
  EXPECT_EQ(sd.at("transposed").shape(), (Shape{4, 3}));
  EXPECT_EQ(sd.at("channels_last").shape(), (Shape{2, 3, 4, 5}));
  EXPECT_TRUE(strata_test::same_bits(sd.at("embedding.weight"), sd.at("head.weight")));  // tied weights
  EXPECT_FALSE(sd.at("embedding.weight").shares_storage_with(sd.at("head.weight")));     // each a tensor of its own
  EXPECT_TRUE(strata_test::same_bits(sd.at("slice_a"), sd.at("whole").narrow(0, 2, 3)));
  EXPECT_TRUE(strata_test::same_bits(sd.at("expanded"), Tensor<T>::full({3, 4}, T(1.5))));
  EXPECT_EQ(sd.at("scalar").shape(), Shape{});
  EXPECT_EQ(sd.at("scalar").item(), T(2.5));
  EXPECT_EQ(sd.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(sd.at("empty_offset").shape(), Shape{0});
  EXPECT_EQ(sd.at("int_columns")(3, 1), T(18));  // arange(20).view(4, 5)[:, 1::2]
}

TYPED_TEST(PtTest, CheckpointsNestStateDictsBesidePlainValues) {
  using T = TypeParam;
  pt_expect_matches_twin<T>("nested.pt", "nested.twin.safetensors");
  pt_expect_matches_twin<T>("nested_legacy.pt", "nested.twin.safetensors");
  // Dotted paths, list indices and integer keys in decimal; epoch, lr, names, betas,
  // None, bools, 2^70, torch.Size, a dtype, a layout and empty containers skipped.
  std::set<std::string> keys;
  for (const auto& [key, tensor] : load_pt<T>(kPtDir + "nested.pt")) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"model.0.weight", "model.0.bias", "layers.0", "layers.1.inner", "layers.2.0",
                                         "layers.2.1", "by_index.0", "by_index.7", "by_index.-1",
                                         "optimizer.state.0.step", "optimizer.state.0.exp_avg"}));
}

TYPED_TEST(PtTest, SingleTensorsGpuLocationsAndTorch2Records) {
  using T = TypeParam;
  pt_expect_matches_twin<T>("tensor.pt", "tensor.twin.safetensors");
  EXPECT_EQ(load_pt<T>(kPtDir + "tensor.pt").count(""), 1u);      // torch.save(tensor): the empty key
  pt_expect_matches_twin<T>("cuda.pt", "cuda.twin.safetensors");  // location "cuda:0" loads to the CPU
  pt_expect_matches_twin<T>("cuda_legacy_global.pt", "cuda_legacy_global.twin.safetensors");
  pt_expect_matches_twin<T>("big_endian.pt", "big_endian.twin.safetensors");
  pt_expect_matches_twin<T>("torch2_layout.pt", "torch2_layout.twin.safetensors");
}

/// The network of tests/reference/train_cnn.py, layer for layer (generate_pt_fixtures.py's SmallCnn).
template <typename T>
strata::nn::Sequential<T> pt_small_cnn() {
  using namespace strata::nn;
  return Sequential<T>(Conv1d<T>(Conv1dOptions(1, 8, 5)), ReLU<T>(),
                       Conv1d<T>(Conv1dOptions(8, 16, 3).stride(2).padding(1)), ReLU<T>(), Flatten<T>(),
                       Linear<T>(16 * 14, 4));
}

TYPED_TEST(PtTest, SavedModelLoadsStrictlyAndGivesPyTorchsLogits) {
  using T = TypeParam;
  auto net = pt_small_cnn<T>();
  net.load_state_dict(load_pt<T>(kPtDir + "cnn.pt"));  // strict: every key, every shape
  const Tensor<T> logits = net(strata::io::load_npy<T>(kPtDir + "cnn_inputs.npy"));
  const Tensor<T> torch_f32 = strata::io::load_npy<T>(kPtDir + "cnn_logits.npy");
  const Tensor<T> torch_f64 = strata::io::load_npy<T>(kPtDir + "cnn_logits_f64.npy");
  ASSERT_EQ(logits.shape(), (Shape{16, 4}));
  // Sums of at most 225 products of values below 2 in magnitude: float's rounding
  // stays below 225 * 2^-24 * (sum |terms|), a few 1e-5 here; double's far below 1e-12.
  const double vs_f32 = strata::max_abs_diff(logits, torch_f32), vs_f64 = strata::max_abs_diff(logits, torch_f64);
  std::cout << "[ strata " << strata_test::type_name<T>() << " ] load_pt model: max |logit diff| vs PyTorch float32 "
            << vs_f32 << ", vs float64 " << vs_f64 << "\n";
  EXPECT_LT(sizeof(T) == 4 ? vs_f32 : vs_f64, sizeof(T) == 4 ? 2e-5 : 1e-12);
  for (index_t n = 0; n < 16; ++n) {
    index_t best = 0, torch_best = 0;
    for (index_t c = 1; c < 4; ++c) {
      if (logits(n, c) > logits(n, best)) best = c;
      if (torch_f32(n, c) > torch_f32(n, torch_best)) torch_best = c;
    }
    EXPECT_EQ(best, torch_best) << "sample " << n;
  }
}

TYPED_TEST(PtTest, LegacyCheckpointWithOptimizerState) {
  using T = TypeParam;
  pt_expect_matches_twin<T>("cnn_checkpoint_legacy.pt", "cnn_checkpoint_legacy.twin.safetensors");
  const auto checkpoint = load_pt<T>(kPtDir + "cnn_checkpoint_legacy.pt");
  std::map<std::string, Tensor<T>> model;
  for (const auto& [key, tensor] : checkpoint) {
    if (key.rfind("model.", 0) == 0) model.emplace(key.substr(6), tensor);
  }
  auto net = pt_small_cnn<T>();
  net.load_state_dict(model);
  EXPECT_EQ(checkpoint.at("optimizer.state.0.exp_avg").shape(), (Shape{8, 1, 5}));
  EXPECT_EQ(checkpoint.at("optimizer.state.5.exp_avg_sq").shape(), Shape{4});
  EXPECT_EQ(checkpoint.at("optimizer.state.0.step").item(), T(1));
}

// ---- files built here ----------------------------------------------------

TEST(PtZip64, RecordsThroughZip64FieldsLoad) {
  strata_test::TempDir dir;
  const std::string floats = strata_test::pt_le(0x3f800000, 4) + strata_test::pt_le(0xc0000000, 4);
  for (const bool zip64 : {false, true}) {
    strata_test::PtZipWriter zip(zip64);
    zip.add("model/data.pkl", strata_test::pt_one_tensor_pickle(2));
    zip.add("model/data/0", floats);
    zip.add("model/version", "3\n");
    const auto sd = load_pt<float>(dir.write("small.pt", zip.bytes()));
    EXPECT_EQ(sd.at("w")(1), -2.f) << "zip64=" << zip64;
  }
}

TEST(PtZip64, ArchiveBeyondFourGigabytes) {
  // A sparse file: the storage record starts past 4 GB, behind a hole that
  // never reaches the disk, so its offset is only in the zip64 extra field.
  strata_test::TempDir dir;
  strata_test::PtZipWriter zip;
  zip.add("big/data.pkl", strata_test::pt_one_tensor_pickle(3));
  zip.add("big/version", "3\n");
  zip.add("big/data/0",
          strata_test::pt_le(0x40400000, 4) + strata_test::pt_le(0, 4) + strata_test::pt_le(0x3f000000, 4),
          std::uint64_t{5} << 30);
  const std::string path = dir.file("big.pt");
  {
    std::ofstream out(path, std::ios::binary);
    for (const auto& [offset, piece] : zip.finish()) {
      out.seekp(static_cast<std::streamoff>(offset));
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
    ASSERT_TRUE(out.good());
  }
  ASSERT_GT(std::filesystem::file_size(path), std::uint64_t{5} << 30);
  const auto sd = load_pt<double>(path);
  EXPECT_TRUE(strata_test::same_bits(sd.at("w"), Tensor<double>({3}, {3.0, 0.0, 0.5})));
}

TEST(PtLegacy, BuiltFromParts) {
  // The legacy layout from its parts: preamble, object pickle, key list, storages.
  strata_test::TempDir dir;
  std::string object = strata_test::pt_one_tensor_pickle(2);
  const std::string needle = std::string("K") + '\x02' + "tQ";  // numel, TUPLE, BINPERSID: add the view slot
  object.replace(object.find(needle), needle.size(), std::string("K") + '\x02' + "NtQ");
  const std::string keys = std::string("\x80\x02]X\x01\x00\x00\x00", 8) + "0a.";
  const std::string storage =
      strata_test::pt_le(2, 8) + strata_test::pt_le(0x3f800000, 4) + strata_test::pt_le(0x40000000, 4);
  const auto sd = load_pt<float>(dir.write("legacy.pt", strata_test::pt_legacy_preamble() + object + keys + storage));
  EXPECT_TRUE(strata_test::same_bits(sd.at("w"), Tensor<float>({2}, {1.f, 2.f})));
}

// ---- forms torch accepts that torch.save rarely or no longer writes -------

std::string pt_s(const std::string& text) { return "X" + strata_test::pt_le(text.size(), 4) + text; }
std::string pt_k(unsigned v) { return "K" + strata_test::pt_le(v, 1); }
const std::string kPtHooks = "ccollections\nOrderedDict\n)R";
/// The persistent id of float32 storage "0" of 4 elements; `legacy` adds the view item.
std::string pt_pid(const std::string& view = "", bool legacy = false) {
  return "(" + pt_s("storage") + "ctorch\nFloatStorage\n" + pt_s("0") + pt_s("cuda:1") + pt_k(4) +
         (legacy ? (view.empty() ? "N" : view) : "") + "tQ";
}
/// Loads {data.pkl: `pickle`, data/0: 1, 2, 3, 4 as float32}.
std::map<std::string, Tensor<double>> pt_load_pickle(const std::string& pickle) {
  std::string floats;
  for (std::uint32_t bits : {0x3f800000u, 0x40000000u, 0x40400000u, 0x40800000u}) floats += strata_test::pt_le(bits, 4);
  strata_test::PtZipWriter zip;
  zip.add("a/data.pkl", "\x80\x02" + pickle + ".");
  zip.add("a/data/0", floats);
  zip.add("a/version", "1\n");
  const std::string file = zip.bytes();
  return strata::detail::load_pt_bytes<double>(reinterpret_cast<const unsigned char*>(file.data()), file.size(),
                                               "forms.pt");
}

TEST(PtPickle, FormsTorchAcceptsBesideTodaysTorchSave) {
  const std::string v1 = "ctorch._utils\n_rebuild_tensor\n(" + pt_pid() + pt_k(1) + "(" + pt_k(2) + "t(" + pt_k(1) +
                         "ttR";  // the rebuild function before _v2: elements 1 and 2
  const std::string set = "ctorch\nTensor\n)R(" + pt_pid() + pt_k(2) + "(" + pt_k(2) + "t(" + pt_k(1) +
                          "ttb";  // torch.Tensor(), then Tensor.set_(storage, 2, (2,), (1,)) through BUILD
  const std::string param = "ctorch.nn.parameter\nParameter\n(" + v1 + "t\x81";  // NEWOBJ Parameter(tensor)
  const std::string param_state = "ctorch._utils\n_rebuild_parameter\n(" + v1 + "\x88" + kPtHooks + "tR(\x88N" +
                                  kPtHooks + "tb";  // Parameter.__setstate__((requires_grad, _, hooks))
  const std::string pairs = "ccollections\nOrderedDict\n(](" + pt_s("x") + v1 + "tatR";  // OrderedDict([("x", t)])
  const auto sd = pt_load_pickle(
      "}(" + pt_s("v1") + v1 + pt_s("set") + set + pt_s("param") + param + pt_s("param_state") + param_state +
      pt_s("pairs") + pairs + pt_s("empty") + "ctorch\nTensor\n)R" +
      // Python 2's str (SHORT_BINSTRING) as a key, plain values of every kind beside the tensors.
      "U\x03old" + v1 + pt_s("plain") + "(G" + std::string("\x3f\xb9\x99\x99\x99\x99\x99\x9a", 8) + "\x8a\x09" +
      std::string(8, '\xff') + "\x7f\x8f" + "ctorch\nSize\n((" + pt_k(2) + pt_k(3) + "ttR" + "ctorch\nfloat16\n" +
      "ctorch.serialization\n_get_layout\n(" + pt_s("torch.strided") + "tRt" + "u");
  std::set<std::string> keys;
  for (const auto& [key, tensor] : sd) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"v1", "set", "param", "param_state", "pairs.x", "empty", "old"}));
  for (const char* key : {"v1", "param", "param_state", "pairs.x", "old"})
    EXPECT_TRUE(strata_test::same_bits(sd.at(key), Tensor<double>({2}, {2, 3}))) << key;
  EXPECT_TRUE(strata_test::same_bits(sd.at("set"), Tensor<double>({2}, {3, 4})));
  EXPECT_EQ(sd.at("empty").shape(), Shape{0});  // torch.Tensor(): an empty float32 tensor
}

TEST(PtPickle, DictKeysFollowPythonsEquality) {
  // {1: a, True: b, 1.0: c} is one entry in Python: key 1, value c.
  const std::string t1 =
      "ctorch._utils\n_rebuild_tensor\n(" + pt_pid() + pt_k(0) + "(" + pt_k(1) + "t(" + pt_k(1) + "ttR";
  const std::string t4 =
      "ctorch._utils\n_rebuild_tensor\n(" + pt_pid() + pt_k(3) + "(" + pt_k(1) + "t(" + pt_k(1) + "ttR";
  const auto sd =
      pt_load_pickle("}(" + pt_k(1) + t1 + "\x88" + t1 + "G" + std::string("\x3f\xf0\0\0\0\0\0\0", 8) + t4 + "u");
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd.at("1")(0), 4.0);
}

TEST(PtLegacy, StorageViewsOfOlderTorch) {
  // torch < 0.4 saved views of a storage: ('storage', type, root key, location, root numel, (view key, offset, size)).
  strata_test::TempDir dir;
  const std::string view = "(" + pt_s("v") + pt_k(1) + pt_k(2) + "t";
  const std::string object = "\x80\x02}" + pt_s("w") + "ctorch._utils\n_rebuild_tensor_v2\n(" + pt_pid(view, true) +
                             pt_k(0) + "(" + pt_k(2) + "t(" + pt_k(1) + "t\x89" + kPtHooks + "tRs.";
  std::string storage = strata_test::pt_le(4, 8);
  for (std::uint32_t bits : {0x3f800000u, 0x40000000u, 0x40400000u, 0x40800000u})
    storage += strata_test::pt_le(bits, 4);
  const std::string keys = "\x80\x02]" + pt_s("0") + "a.";
  const auto sd = load_pt<float>(dir.write("views.pt", strata_test::pt_legacy_preamble() + object + keys + storage));
  EXPECT_TRUE(strata_test::same_bits(sd.at("w"), Tensor<float>({2}, {2.f, 3.f})));
}

// ---- hostile and malformed files -----------------------------------------

TEST(PtHostile, ValuesReusedAsKeysAreHashedOnce) {
  // A 1 MB string set as a dict key 100000 times through the memo: hashing it
  // each time would read 100 GB; the pickle is 1.4 MB.
  std::string pickle = "\x80\x02}X" + strata_test::pt_le(1 << 20, 4) + std::string(1 << 20, 'k') + "q" +
                       strata_test::pt_le(0, 1) + "N" + "s";
  for (int i = 0; i < 100000; ++i) pickle += "h" + strata_test::pt_le(0, 1) + "Ns";
  pickle += ".";
  strata_test::PtZipWriter zip;
  zip.add("a/data.pkl", pickle);
  zip.add("a/version", "3\n");
  const std::string file = zip.bytes();
  EXPECT_TRUE(
      strata::detail::load_pt_bytes<float>(reinterpret_cast<const unsigned char*>(file.data()), file.size(), "keys.pt")
          .empty());
}

TEST(PtHostile, EveryFileOfTheCorpusIsRefusedWithItsMessage) {
  const std::string hostile = kPtDir + "hostile/";
  std::ifstream index(hostile + "INDEX.txt");
  ASSERT_TRUE(index.good());
  std::set<std::string> listed;
  std::string line;
  int both = 0, float_only = 0;
  while (std::getline(index, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    ASSERT_NE(tab2, std::string::npos) << line;
    const std::string file = line.substr(0, tab1), which = line.substr(tab1 + 1, tab2 - tab1 - 1),
                      message = line.substr(tab2 + 1);
    SCOPED_TRACE(file);
    listed.insert(file);
    const std::string path = hostile + file;
    EXPECT_THROW_WITH(load_pt<float>(path), strata::Error, "load_pt: " + path + ": ");
    EXPECT_THROW_WITH(load_pt<float>(path), strata::Error, message);
    if (which == "both") {
      EXPECT_THROW_WITH(load_pt<double>(path), strata::Error, message);
      ++both;
    } else {
      ASSERT_EQ(which, "float");
      EXPECT_NO_THROW(load_pt<double>(path));
      ++float_only;
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(hostile)) {
    const std::string name = entry.path().filename().string();
    if (name != "INDEX.txt") {
      EXPECT_EQ(listed.count(name), 1u) << name << " is not in INDEX.txt";
    }
  }
  std::cout << "[ load_pt  ] " << both + float_only << " hostile files refused (" << float_only << " by float only)\n";
  EXPECT_GE(both, 100);
}

TEST(PtHostile, FilesThatCannotBeRead) {
  strata_test::TempDir dir;
  const std::string missing = dir.file("missing.pt");
  EXPECT_THROW_WITH(load_pt<float>(missing), strata::Error,
                    "load_pt: " + missing + ": cannot open (No such file or directory)");
  EXPECT_THROW_WITH(load_pt<float>(dir.file("")), strata::Error, "not a regular file");
}

// Every prefix of valid files of both formats, and random corruptions of them:
// each loads or throws strata::Error naming the file; nothing crashes, hangs or
// reads out of bounds (the sanitize preset runs this too).
TEST(PtHostile, CorruptedFilesLoadOrThrowError) {
  strata_test::TempDir dir;
  strata::Generator gen(2025);
  for (const char* file : {"nested.pt", "layouts_legacy.pt"}) {
    const std::string valid = strata_test::read_bytes(kPtDir + file);
    const auto attempt = [&](const std::string& bytes, const std::string& what) {
      try {
        strata::detail::load_pt_bytes<double>(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                              "corrupt.pt");
      } catch (const strata::Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("load_pt: corrupt.pt: ", 0), 0u) << what << ": " << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << file << " " << what << ": not a strata::Error: " << e.what();
      }
    };
    for (std::size_t n = 0; n < valid.size(); n += 7) attempt(valid.substr(0, n), "prefix of " + std::to_string(n));
    for (int round = 0; round < 300; ++round) {
      std::string bytes = valid;
      for (int k = 0; k < 1 + round % 4; ++k) {
        const auto at = static_cast<std::size_t>(gen.uniform<double>(0, static_cast<double>(bytes.size())));
        bytes[std::min(at, bytes.size() - 1)] = static_cast<char>(gen.uniform<double>(0, 256));
      }
      attempt(bytes, "mutation round " + std::to_string(round));
    }
  }
}

}  // namespace
