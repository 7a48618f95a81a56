// Tests for strata/nn/state_dict.hpp: strip_prefix on DataParallel's
// "module." and nested checkpoints, keys without the prefix kept, shared
// tensors, the refusals, and loading the result into a model.
#include <map>
#include <string>

#include <strata/nn/batchnorm.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/sequential.hpp>
#include <strata/nn/state_dict.hpp>

#include "test_util.hpp"

namespace {

using strata::Tensor;
using strata::nn::strip_prefix;

template <typename T>
class StripPrefixTest : public ::testing::Test {};
TYPED_TEST_SUITE(StripPrefixTest, strata_test::ScalarTypes);

template <typename T>
std::string strip_prefix_keys(const std::map<std::string, Tensor<T>>& sd) {
  std::string out;
  for (const auto& [key, tensor] : sd) out += (out.empty() ? "" : " ") + key;
  return out;
}

TYPED_TEST(StripPrefixTest, RemovesThePrefixAndKeepsTheOtherKeys) {
  using T = TypeParam;
  const std::map<std::string, Tensor<T>> sd{{"module.0.weight", Tensor<T>::ones({2})},
                                            {"module.1.running_mean", Tensor<T>::zeros({2})},
                                            {"step", Tensor<T>::zeros({})},
                                            {"modules.x", Tensor<T>::zeros({1})}};
  const auto out = strip_prefix(sd, "module.");
  EXPECT_EQ(strip_prefix_keys(out), "0.weight 1.running_mean modules.x step");
  EXPECT_TRUE(out.at("0.weight").shares_storage_with(sd.at("module.0.weight")));
  EXPECT_EQ(strip_prefix_keys(strip_prefix(sd, "")), strip_prefix_keys(sd));
  EXPECT_EQ(strip_prefix_keys(strip_prefix(sd, "model.")), strip_prefix_keys(sd));  // nothing to strip
  // A model saved under a key of a checkpoint.
  const std::map<std::string, Tensor<T>> nested{{"model.fc.weight", Tensor<T>::ones({3, 2})}};
  EXPECT_EQ(strip_prefix_keys(strip_prefix(nested, "model.")), "fc.weight");
}

TYPED_TEST(StripPrefixTest, LoadsADataParallelCheckpoint) {
  using T = TypeParam;
  strata::nn::Sequential<T> net(strata::nn::Linear<T>(2, 3), strata::nn::BatchNorm1d<T>(3));
  std::map<std::string, Tensor<T>> saved;
  for (const auto& [key, tensor] : net.state_dict()) saved["module." + key] = tensor.clone() + T(1);
  saved.erase("module.1.num_batches_tracked");
  net.load_state_dict(strip_prefix(saved, "module."));
  EXPECT_EQ(net.state_dict().at("1.running_var")(0), T(2));
}

TYPED_TEST(StripPrefixTest, Refusals) {
  using T = TypeParam;
  const std::map<std::string, Tensor<T>> clash{{"module.a", Tensor<T>::ones({1})}, {"a", Tensor<T>::ones({1})}};
  EXPECT_THROW_WITH(strip_prefix(clash, "module."), strata::Error,
                    "strip_prefix: removing \"module.\" gives the key \"a\" twice (the state_dict holds both \"a\" "
                    "and \"module.a\")");
  const std::map<std::string, Tensor<T>> whole{{"module.", Tensor<T>::ones({1})}};
  EXPECT_THROW_WITH(strip_prefix(whole, "module."), strata::Error,
                    "strip_prefix: removing \"module.\" from the key \"module.\" leaves an empty key");
}

}  // namespace
