// Tests for strata/nn/batchnorm.hpp: BatchNorm1d / BatchNorm2d — torch's
// parameters and buffers (names, initial values, absent ones), state_dict and
// loading (num_batches_tracked may be missing), libtorch's printing, the
// layers against PyTorch's golden data (eval mode, with running statistics
// or the batch's own), forward messages, writable tensors checked in forward,
// use in a user module and in a Sequential, concurrent forwards.
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <strata/nn/batchnorm.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/sequential.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;

template <typename T>
class BatchNormLayerTest : public ::testing::Test {};
TYPED_TEST_SUITE(BatchNormLayerTest, strata_test::ScalarTypes);

template <typename M>
std::string bn_layer_printed(const M& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

template <typename T>
std::vector<std::string> bn_layer_keys(const std::vector<std::pair<std::string, Tensor<T>>>& named) {
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : named) keys.push_back(key);
  return keys;
}

TYPED_TEST(BatchNormLayerTest, TorchsParametersAndBuffers) {
  using T = TypeParam;
  BatchNorm2d<T> bn(3);
  EXPECT_EQ(bn_layer_keys(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(bn_layer_keys(bn.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_TRUE(strata::allclose(bn.weight(), Tensor<T>::ones({3})));
  EXPECT_TRUE(strata::allclose(bn.bias(), Tensor<T>::zeros({3})));
  EXPECT_TRUE(strata::allclose(bn.running_mean(), Tensor<T>::zeros({3})));
  EXPECT_TRUE(strata::allclose(bn.running_var(), Tensor<T>::ones({3})));
  EXPECT_EQ(bn.num_batches_tracked().dim(), 0);
  EXPECT_EQ(bn.num_batches_tracked().item(), T(0));
  EXPECT_EQ(bn.num_parameters(), 6);
  EXPECT_EQ(bn.state_dict().size(), 5u);

  BatchNorm1d<T> plain(BatchNorm1dOptions(4).affine(false).track_running_stats(false));
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_TRUE(plain.named_buffers().empty());
  EXPECT_FALSE(plain.weight().defined());
  EXPECT_FALSE(plain.running_mean().defined());
  EXPECT_FALSE(plain.num_batches_tracked().defined());
  BatchNorm1d<T> stats_only(BatchNorm1dOptions(4).affine(false));
  EXPECT_TRUE(stats_only.named_parameters().empty());
  EXPECT_EQ(bn_layer_keys(stats_only.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(stats_only.name(), "BatchNorm1d");
  EXPECT_THROW_WITH(BatchNorm2d<T>(0), strata::Error, "BatchNorm2d: expected num_features > 0, got 0");
}

TEST(BatchNormLayerTest, PrintsLikeLibtorch) {
  EXPECT_EQ(bn_layer_printed(BatchNorm2d<float>(64)),
            "strata::nn::BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  EXPECT_EQ(bn_layer_printed(BatchNorm1d<double>(BatchNorm1dOptions(3).momentum(std::nullopt).affine(false).eps(1e-3))),
            "strata::nn::BatchNorm1d(3, eps=0.001, momentum=None, affine=false, track_running_stats=true)");
  EXPECT_EQ(bn_layer_printed(BatchNorm1d<float>(BatchNorm1dOptions(8).track_running_stats(false).momentum(0.01))),
            "strata::nn::BatchNorm1d(8, eps=1e-05, momentum=0.01, affine=true, track_running_stats=false)");
}

TYPED_TEST(BatchNormLayerTest, StateDictLoadsWithoutNumBatchesTracked) {
  using T = TypeParam;
  BatchNorm2d<T> bn(2);
  Tensor<T> kept = bn.running_mean();  // shares storage: sees the loaded values
  std::map<std::string, Tensor<T>> sd{{"weight", Tensor<T>({2}, {2, 3})},
                                      {"bias", Tensor<T>({2}, {-1, 1})},
                                      {"running_mean", Tensor<T>({2}, {0.5, -0.5})},
                                      {"running_var", Tensor<T>({2}, {4, 9})},
                                      {"num_batches_tracked", Tensor<T>::full(Shape{}, T(12))}};
  bn.load_state_dict(sd);
  EXPECT_EQ(bn.num_batches_tracked().item(), T(12));
  EXPECT_EQ(kept(0), T(0.5));
  sd.erase("num_batches_tracked");  // an older torch checkpoint
  bn.load_state_dict(sd);
  EXPECT_EQ(bn.num_batches_tracked().item(), T(0));
  sd.erase("running_var");
  EXPECT_THROW_WITH(bn.load_state_dict(sd), strata::Error, "Missing key(s) in state_dict: \"running_var\"");
  // A layer without running statistics has no such keys to load.
  BatchNorm2d<T> no_stats(BatchNorm2dOptions(2).track_running_stats(false));
  EXPECT_THROW_WITH(no_stats.load_state_dict(bn.state_dict()), strata::Error,
                    "Unexpected key(s) in state_dict: \"num_batches_tracked\", \"running_mean\", \"running_var\"");
}

/// A golden tensor, or an undefined one when the case has none of that name.
template <typename T>
Tensor<T> bn_layer_optional(const strata_test::GoldenCase& c, const std::string& name) {
  return c.has(name) ? strata_test::pool_bn_golden_tensor<T>(c.tensor(name)) : Tensor<T>();
}

/// The BatchNorm of a golden case, loaded with its tensors, applied to its input.
template <std::size_t D, typename T>
Tensor<T> bn_layer_golden_forward(const strata_test::GoldenCase& c) {
  BatchNorm<D, T> bn(BatchNormOptions(c.ints("num_features")[0])
                         .eps(std::stod(c.str("eps")))
                         .affine(c.ints("affine")[0] != 0)
                         .track_running_stats(c.ints("track_running_stats")[0] != 0));
  std::map<std::string, Tensor<T>> sd;
  for (const char* name : {"weight", "bias", "running_mean", "running_var"}) {
    if (c.has(name)) sd[name] = bn_layer_optional<T>(c, name);
  }
  bn.load_state_dict(sd);  // num_batches_tracked left out: loads as 0
  return bn(strata_test::pool_bn_golden_tensor<T>(c.tensor("input")));
}

TYPED_TEST(BatchNormLayerTest, LayersMatchPyTorch) {
  using T = TypeParam;
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  int cases = 0;
  for (const strata_test::GoldenCase& c : strata_test::pool_bn_golden_cases("batch_norm")) {
    if (c.dtype != dtype) continue;
    const Tensor<T> y = c.layer == "batch_norm1d" ? bn_layer_golden_forward<1, T>(c) : bn_layer_golden_forward<2, T>(c);
    EXPECT_LE(strata_test::pool_bn_rel_diff(y, strata_test::pool_bn_golden_double(c.tensor("output"))),
              sizeof(T) == 4 ? 1e-6 : 1e-14)
        << c.name;
    ++cases;
  }
  EXPECT_EQ(cases, 15);
}

TYPED_TEST(BatchNormLayerTest, TorchsMessages) {
  using T = TypeParam;
  BatchNorm2d<T> bn2(3);
  BatchNorm1d<T> bn1(3);
  EXPECT_THROW_WITH(bn2(Tensor<T>::zeros({2, 3, 4})), strata::Error, "BatchNorm2d: expected 4D input (got 3D input)");
  EXPECT_THROW_WITH(bn1(Tensor<T>::zeros({2, 3, 4, 5})), strata::Error,
                    "BatchNorm1d: expected 2D or 3D input (got 4D input)");
  EXPECT_THROW_WITH(bn1(Tensor<T>::zeros({3})), strata::Error, "BatchNorm1d: expected 2D or 3D input (got 1D input)");
  EXPECT_THROW_WITH(bn2(Tensor<T>::zeros({2, 4, 4, 4})), strata::Error,
                    "BatchNorm2d: running_mean should contain 4 elements not 3");
  EXPECT_THROW_WITH(BatchNorm2d<T>(BatchNorm2dOptions(3).track_running_stats(false))(Tensor<T>::zeros({2, 4, 4, 4})),
                    strata::Error, "BatchNorm2d: weight should contain 4 elements not 3");
  EXPECT_THROW_WITH(BatchNorm2d<T>(BatchNorm2dOptions(3).track_running_stats(false))(Tensor<T>::zeros({1, 3, 1, 1})),
                    strata::Error,
                    "BatchNorm2d: Expected more than 1 value per channel when training, got input size [1, 3, 1, 1]");
  EXPECT_THROW_WITH(bn2(Tensor<T>()), strata::Error, "BatchNorm2d: the input is undefined");
  // Writable tensors are checked at the top of forward.
  bn2.running_var() = Tensor<T>::ones({4});
  EXPECT_THROW_WITH(bn2(Tensor<T>::zeros({1, 3, 2, 2})), strata::Error,
                    "BatchNorm2d: expected running_var of shape [3], got [4]");
  BatchNorm2d<T> plain(BatchNorm2dOptions(3).affine(false));
  plain.weight() = Tensor<T>::ones({3});
  EXPECT_THROW_WITH(plain(Tensor<T>::zeros({1, 3, 2, 2})), strata::Error,
                    "BatchNorm2d: expected no weight (the layer was built with affine=false), got shape [3]");
  BatchNorm1d<T> no_stats(BatchNorm1dOptions(3).track_running_stats(false));
  no_stats.running_mean() = Tensor<T>::zeros({3});
  EXPECT_THROW_WITH(no_stats(Tensor<T>::zeros({2, 3})), strata::Error,
                    "BatchNorm1d: expected no running_mean (the layer was built with track_running_stats=false)");
}

TYPED_TEST(BatchNormLayerTest, EmptyBatchesAndShapes) {
  using T = TypeParam;
  EXPECT_EQ(BatchNorm2d<T>(3)(Tensor<T>::zeros({0, 3, 4, 4})).shape(), (Shape{0, 3, 4, 4}));
  EXPECT_EQ(BatchNorm1d<T>(3)(Tensor<T>::zeros({0, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(BatchNorm1d<T>(BatchNorm1dOptions(3).track_running_stats(false))(Tensor<T>::zeros({0, 3, 5})).shape(),
            (Shape{0, 3, 5}));
  // Without affine or running statistics torch accepts any channel count: so does strata.
  BatchNorm2d<T> free(BatchNorm2dOptions(3).affine(false).track_running_stats(false));
  strata::Generator gen(61);
  EXPECT_EQ(free(Tensor<T>::randn({2, 5, 2, 2}, gen)).shape(), (Shape{2, 5, 2, 2}));
}

/// A residual block as a user would write it: conv, BatchNorm, + x.
template <typename T>
struct BatchNormTestBlock : Module<T> {
  std::shared_ptr<Conv2d<T>> conv;
  std::shared_ptr<BatchNorm2d<T>> bn;
  explicit BatchNormTestBlock(index_t c) {
    conv = this->register_module("conv", Conv2d<T>(Conv2dOptions(c, c, 3).padding(1).bias(false)));
    bn = this->register_module("bn", BatchNorm2d<T>(c));
  }
  Tensor<T> forward(const Tensor<T>& x) const { return bn->forward(conv->forward(x)) + x; }
  std::string name() const override { return "Block"; }
};

TYPED_TEST(BatchNormLayerTest, InUserModulesSequentialsAndThreads) {
  using T = TypeParam;
  BatchNormTestBlock<T> block(4);
  const auto sd = block.state_dict();
  for (const char* key : {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                          "bn.num_batches_tracked"}) {
    EXPECT_EQ(sd.count(key), 1u) << key;
  }
  EXPECT_EQ(bn_layer_printed(block),
            "Block(\n  (conv): strata::nn::Conv2d(4, 4, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1], bias=false)\n"
            "  (bn): strata::nn::BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)\n)");
  strata::Generator gen(62);
  block.bn->running_mean().copy_(Tensor<T>::randn({4}, gen));
  block.bn->running_var().copy_(Tensor<T>::rand({4}, gen) + T(0.5));
  Sequential<T> net(BatchNorm2d<T>(4), block);
  net.load_state_dict(net.state_dict());
  const auto x = Tensor<T>::randn({2, 4, 9, 9}, gen);
  const Tensor<T> once = net(x);
  std::vector<Tensor<T>> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = net(x); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_TRUE(strata_test::same_bits(r, once));
}

}  // namespace
