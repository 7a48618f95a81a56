// End to end: torchvision's ResNet-18, MobileNetV2, MobileNetV3-Small, SqueezeNet 1.1 and
// ShuffleNetV2 x1.0, and a 1-D signal CNN of the same blocks, written with strata's public API
// (examples/models/*.hpp), load the state_dicts PyTorch saved strictly and give PyTorch's
// logits and predicted classes, in float and double. The fixtures (tests/data/torchvision/,
// see its README.md) come from tests/reference/generate_torchvision_models.py; this test needs
// no PyTorch. ResNet-18's 11.2 M parameters are made by a formula that the generator and
// tv_formula_tensor below compute alike; a real random ResNet-18 is checked on request
// (STRATA_TORCHVISION_FULL_DIR, written by the generator's --full-resnet18).
//
// MobileNetV2 and ResNet-18 also run with every BatchNorm folded into its convolution.
//
// Tolerance: |strata - PyTorch| <= rel_T * s per logit, s = max |logit| of the fixture (the
// logit scale), rel_float = 1e-4, rel_double = 1e-11. Both sides round every one of 20 to 60
// layers of sums of up to 4608 products; in float32 PyTorch's own logits differ from its float64
// ones by up to 1e-5 s (MobileNetV2: its classifier's weights of 0.01 make the logits small beside
// the 1280 terms each one sums), so two correct float32 implementations may differ by about twice
// that: 1e-4 s leaves a margin of 5 and more, while a wrong layer moves the logits by ~s. In
// double the roundings are 2^29 times smaller (observed below 1e-14 s); 1e-11 s allows the same
// growth with room. The weights are exact in both types (F16 files, float32 .pt, exact formula
// values), so the float64 references are PyTorch's float64 run of the very same network.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "models/mobilenet_v2.hpp"
#include "models/mobilenet_v3.hpp"
#include "models/resnet.hpp"
#include "models/shufflenet_v2.hpp"
#include "models/signal_cnn.hpp"
#include "models/squeezenet.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

const std::string kTvDir = std::string(STRATA_TEST_DATA_DIR) + "/torchvision/";

template <typename T>
constexpr double tv_relative_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-4 : 1e-11;
}

template <typename T>
std::vector<index_t> tv_argmax_rows(const Tensor<T>& logits) {
  std::vector<index_t> out;
  for (index_t n = 0; n < logits.size(0); ++n) {
    index_t best = 0;
    for (index_t c = 1; c < logits.size(1); ++c)
      if (logits(n, c) > logits(n, best)) best = c;
    out.push_back(best);
  }
  return out;
}

/// The fixture's input and PyTorch's logits in T's precision (float32 logits for float, float64 for double).
template <typename T>
struct TvIo {
  Tensor<T> input, logits;
};

template <typename T>
TvIo<T> tv_load_io(const std::string& path) {
  auto io = strata::io::load_safetensors<T>(path);
  return {io.at("input"), io.at(sizeof(T) == sizeof(float) ? "logits_f32" : "logits_f64")};
}

/// Checks logits against PyTorch's within the tolerance above, and the predicted classes; prints the
/// largest difference. Returns it.
template <typename T>
double tv_expect_logits(const std::string& what, const Tensor<T>& got, const Tensor<T>& expected) {
  EXPECT_EQ(got.shape(), expected.shape()) << what;
  if (got.shape() != expected.shape()) return 0;
  double scale = 0;
  for (index_t i = 0; i < expected.numel(); ++i)
    scale = std::max(scale, std::abs(static_cast<double>(expected.contiguous().data()[i])));
  const double diff = strata::max_abs_diff(got, expected);
  const double tolerance = tv_relative_tolerance<T>() * scale;
  EXPECT_LE(diff, tolerance) << what << " (" << strata_test::type_name<T>() << ")";
  EXPECT_EQ(tv_argmax_rows(got), tv_argmax_rows(expected)) << what;
  std::cout << "[ " << strata_test::type_name<T>() << " ] " << what << ": max |logit diff| vs PyTorch = " << diff
            << " = " << diff / scale << " x logit scale " << scale << " (tolerance " << tolerance << ")\n";
  return diff;
}

/// Builds `net`, loads `weights` strictly, runs the fixture's input, compares with PyTorch.
template <typename T, typename Net>
void tv_check_model(const std::string& name, Net net, const std::map<std::string, Tensor<T>>& weights) {
  net.load_state_dict(weights);
  const TvIo<T> io = tv_load_io<T>(kTvDir + name + "_io.safetensors");
  tv_expect_logits(name, net.forward(io.input), io.logits);
}

// ---- torchvision's state_dict keys and shapes (architectures.txt) ----------------------------

using TvKeys = std::vector<std::pair<std::string, Shape>>;

std::map<std::string, TvKeys> tv_read_architectures() {
  std::ifstream file(kTvDir + "architectures.txt");
  EXPECT_TRUE(file.good()) << "cannot read " << kTvDir << "architectures.txt";
  std::map<std::string, TvKeys> out;
  std::string line, model;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "model") {
      words >> model;
      continue;
    }
    std::vector<index_t> dims;
    for (index_t d; words >> d;) dims.push_back(d);
    out[model].emplace_back(key, Shape(dims));
  }
  return out;
}

const std::map<std::string, TvKeys>& tv_architectures() {
  static const std::map<std::string, TvKeys> architectures = tv_read_architectures();
  return architectures;
}

/// Expects the module's state_dict to have exactly torchvision's keys and shapes.
template <typename Net>
void tv_expect_architecture(const std::string& name, const Net& net) {
  ASSERT_TRUE(tv_architectures().count(name)) << name;
  std::map<std::string, Shape> expected;
  for (const auto& [key, shape] : tv_architectures().at(name)) expected.emplace(key, shape);
  std::map<std::string, Shape> got;
  for (const auto& [key, tensor] : net.state_dict()) got.emplace(key, tensor.shape());
  EXPECT_EQ(got, expected) << name;
}

// ---- the ResNet-18 formula of generate_torchvision_models.py (formula_values) ------------------

std::uint32_t tv_crc32(const std::string& text) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : text) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/// c = (top 16 bits of splitmix64(seed + (i + 1) * golden)) - 32768, then the value for the key's kind.
template <typename T>
Tensor<T> tv_formula_tensor(const std::string& key, const Shape& shape) {
  Tensor<T> out = Tensor<T>::empty(shape);
  auto ends_with = [&](const std::string& suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("num_batches_tracked")) return out.fill_(T(7));
  int k = 0;
  if (shape.size() >= 2) {
    index_t fan_in = 1;
    for (std::size_t d = 1; d < shape.size(); ++d) fan_in *= shape[d];
    for (index_t bound = 12; fan_in > bound; bound *= 4) ++k;
  }
  const std::uint64_t seed = tv_crc32(key);
  for (index_t i = 0; i < out.numel(); ++i) {
    std::uint64_t z = seed + static_cast<std::uint64_t>(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double c = static_cast<double>(static_cast<std::int64_t>(z >> 48) - 32768);
    double v;
    if (ends_with("running_var")) {
      v = 1 + std::ldexp(c, -16);
    } else if (ends_with("running_mean") || ends_with("bias")) {
      v = std::ldexp(c, -17);
    } else if (key == "input") {
      v = std::ldexp(c, -14);
    } else if (shape.size() == 1) {
      v = 1 + std::ldexp(c, -17);
    } else {
      v = std::ldexp(c, -15 - k);
    }
    out.data()[i] = static_cast<T>(v);
  }
  return out;
}

template <typename T>
std::map<std::string, Tensor<T>> tv_formula_state_dict(const std::string& model) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& [key, shape] : tv_architectures().at(model)) out.emplace(key, tv_formula_tensor<T>(key, shape));
  return out;
}

// ---- tests -----------------------------------------------------------------------------------

template <typename T>
class TorchvisionModelsTest : public ::testing::Test {};
TYPED_TEST_SUITE(TorchvisionModelsTest, strata_test::ScalarTypes);

TYPED_TEST(TorchvisionModelsTest, ResNet18FromTheFormulaAndFused) {
  using T = TypeParam;
  auto net = models::resnet18<T>(10);
  tv_expect_architecture("resnet18", net);
  net.load_state_dict(tv_formula_state_dict<T>("resnet18"));  // torchvision's keys, strictly
  const TvIo<T> io = tv_load_io<T>(kTvDir + "resnet18_formula_io.safetensors");
  ASSERT_TRUE(strata_test::same_bits(io.input, tv_formula_tensor<T>("input", {2, 3, 40, 48})))
      << "the C++ formula no longer matches the generator's";
  const Tensor<T> logits = net.forward(io.input);
  tv_expect_logits("resnet18 (formula weights)", logits, io.logits);

  // Every conv + bn pair folded once, as a deployment would: the same logits within the tolerance.
  net.fuse_conv_bn();
  tv_expect_logits("resnet18 fused", net.forward(io.input), io.logits);
  EXPECT_EQ(net.state_dict().size(), tv_architectures().at("resnet18").size());  // the loaded tensors stay listed
}

TYPED_TEST(TorchvisionModelsTest, MobileNetV2AndFused) {
  using T = TypeParam;
  auto net = models::mobilenet_v2<T>(10);
  net.load_state_dict(strata::io::load_safetensors<T>(kTvDir + "mobilenet_v2.safetensors"));
  const TvIo<T> io = tv_load_io<T>(kTvDir + "mobilenet_v2_io.safetensors");
  tv_expect_logits("mobilenet_v2", net.forward(io.input), io.logits);
  net.fuse_conv_bn();  // 52 conv + bn pairs folded
  tv_expect_logits("mobilenet_v2 fused", net.forward(io.input), io.logits);
}

TYPED_TEST(TorchvisionModelsTest, MobileNetV3Small) {
  using T = TypeParam;
  tv_check_model<T>("mobilenet_v3_small", models::mobilenet_v3_small<T>(10),
                    strata::io::load_safetensors<T>(kTvDir + "mobilenet_v3_small.safetensors"));
}

TYPED_TEST(TorchvisionModelsTest, SqueezeNet11FromTorchSave) {
  using T = TypeParam;
  // torch.save(model.state_dict(), "squeezenet1_1.pt"), read by load_pt and loaded strictly.
  tv_check_model<T>("squeezenet1_1", models::squeezenet1_1<T>(10), strata::io::load_pt<T>(kTvDir + "squeezenet1_1.pt"));
}

TYPED_TEST(TorchvisionModelsTest, ShuffleNetV2x10) {
  using T = TypeParam;
  tv_check_model<T>("shufflenet_v2_x1_0", models::shufflenet_v2_x1_0<T>(10),
                    strata::io::load_safetensors<T>(kTvDir + "shufflenet_v2_x1_0.safetensors"));
}

TYPED_TEST(TorchvisionModelsTest, SignalCnnSavedFromDataParallel) {
  using T = TypeParam;
  // A checkpoint saved from nn.DataParallel has every key under "module.": strip it, then load strictly.
  std::map<std::string, Tensor<T>> prefixed;
  for (const auto& [key, tensor] : strata::io::load_safetensors<T>(kTvDir + "signal_cnn.safetensors"))
    prefixed.emplace("module." + key, tensor);
  models::SignalCNN<T> net(2, 5);
  EXPECT_THROW(net.load_state_dict(prefixed), strata::Error);
  tv_check_model<T>("signal_cnn", net, strata::nn::strip_prefix(prefixed, "module."));
}

TEST(TorchvisionModels, OtherVariantsHaveTorchvisionsKeysAndShapes) {
  tv_expect_architecture("resnet34", models::resnet34<float>(10));
  tv_expect_architecture("mobilenet_v3_large", models::mobilenet_v3_large<float>(10));
  tv_expect_architecture("squeezenet1_0", models::squeezenet1_0<float>(10));
  tv_expect_architecture("shufflenet_v2_x0_5", models::shufflenet_v2_x0_5<float>(10));
  tv_expect_architecture("shufflenet_v2_x1_5", models::shufflenet_v2_x1_5<float>(10));
  tv_expect_architecture("shufflenet_v2_x2_0", models::shufflenet_v2_x2_0<float>(10));
}

TEST(TorchvisionModels, WrongNumClassesIsOneStrictError) {
  auto net = models::mobilenet_v3_small<float>(1000);
  EXPECT_THROW_WITH(net.load_state_dict(strata::io::load_safetensors<float>(kTvDir + "mobilenet_v3_small.safetensors")),
                    strata::Error,
                    "size mismatch for classifier.3.weight: copying a param with shape [10, 1024], the shape in "
                    "current model is [1000, 1024].");
}

TEST(TorchvisionModels, ChannelShuffleInterleavesTheGroups) {
  const Tensor<float> x = Tensor<float>::arange(8).reshape({1, 4, 1, 2});
  const Tensor<float> y = models::shufflenetv2::channel_shuffle(x, 2);  // channels 0 1 2 3 -> 0 2 1 3
  EXPECT_TRUE(strata_test::same_bits(y, Tensor<float>({1, 4, 1, 2}, {0, 1, 4, 5, 2, 3, 6, 7})));
}

// Opt-in: a real random torchvision resnet18() of 1000 classes (its 47 MB of
// weights are not committed), run only by
//   /usr/bin/python3 tests/reference/generate_torchvision_models.py --full-resnet18 DIR --run BUILD_DIR
// which writes the data and runs this test with STRATA_TORCHVISION_FULL_DIR=DIR;
// CTest's discovery leaves it out (tests/CMakeLists.txt), so it never skips.
TYPED_TEST(TorchvisionModelsTest, FullResNet18) {
  using T = TypeParam;
  const char* dir = std::getenv("STRATA_TORCHVISION_FULL_DIR");
  ASSERT_NE(dir, nullptr) << "set STRATA_TORCHVISION_FULL_DIR (see generate_torchvision_models.py --help)";
  const std::string base = std::string(dir) + "/";
  const TvIo<T> io = tv_load_io<T>(base + "resnet18_io.safetensors");
  for (const std::string file : {"resnet18.safetensors", "resnet18.pt"}) {
    auto net = models::resnet18<T>();
    net.load_state_dict(file == "resnet18.pt" ? strata::io::load_pt<T>(base + file)
                                              : strata::io::load_safetensors<T>(base + file));
    tv_expect_logits("full resnet18 from " + file, net.forward(io.input), io.logits);
    net.fuse_conv_bn();
    tv_expect_logits("full resnet18 from " + file + ", fused", net.forward(io.input), io.logits);
  }
}

}  // namespace
