// Tests for the registry of strata/nn/module.hpp as a user sees it: modules of
// one's own built with register_module / register_parameter / register_buffer,
// their names, listings, state_dict with buffers, strict loading, printing of
// the module tree, registration errors, and user modules inside Sequentials
// (and Sequentials inside them).
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <strata/nn/conv.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/module.hpp>
#include <strata/nn/sequential.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;

/// A residual block the way a user writes one: two children, a parameter and a buffer of its own.
template <typename T>
struct RegistryBlock : strata::nn::Module<T> {
  std::shared_ptr<strata::nn::Conv2d<T>> conv;
  std::shared_ptr<strata::nn::Sequential<T>> head;
  strata::Tensor<T> scale;
  strata::Tensor<T> counter;
  explicit RegistryBlock(strata::index_t c) {
    conv = this->register_module("conv", strata::nn::Conv2d<T>(strata::nn::Conv2dOptions(c, c, 3).padding(1)));
    head = this->register_module("head", strata::nn::Sequential<T>(strata::nn::Conv2d<T>(c, c, 1)));
    scale = this->register_parameter("scale", strata::Tensor<T>::full({c}, T(2)));
    counter = this->register_buffer("counter", strata::Tensor<T>::zeros({}));
  }
  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    return head->forward(conv->forward(x)) * scale.reshape({-1, 1, 1}) + x;
  }
  std::string name() const override { return "RegistryBlock"; }
};

template <typename T>
class ModuleRegistryTest : public ::testing::Test {};
TYPED_TEST_SUITE(ModuleRegistryTest, strata_test::ScalarTypes);

TYPED_TEST(ModuleRegistryTest, NamesInTorchOrder) {
  RegistryBlock<TypeParam> block(3);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : block.named_parameters()) names.push_back(name);
  // The module's own first, then each child's in registration order.
  EXPECT_EQ(names, (std::vector<std::string>{"scale", "conv.weight", "conv.bias", "head.0.weight", "head.0.bias"}));
  const auto buffers = block.named_buffers();
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0].first, "counter");
  EXPECT_EQ(buffers[0].second.dim(), 0);
  const auto children = block.named_children();
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].first, "conv");
  EXPECT_EQ(children[0].second.get(), block.conv.get());
  EXPECT_EQ(children[1].first, "head");
  EXPECT_EQ(block.num_parameters(), 3 + 3 * 3 * 9 + 3 + 3 * 3 + 3);
  const auto sd = block.state_dict();
  EXPECT_EQ(sd.size(), 6u);  // parameters and buffers
  EXPECT_TRUE(sd.count("counter"));
  EXPECT_TRUE(sd.at("conv.weight").shares_storage_with(block.conv->weight()));
}

TYPED_TEST(ModuleRegistryTest, LoadStateDictFillsTheTensorsTheModuleHolds) {
  using T = TypeParam;
  RegistryBlock<T> source(2), target(2);
  source.state_dict().at("scale").fill_(T(5));
  source.state_dict().at("counter").fill_(T(7));
  target.load_state_dict(source.state_dict());
  // The copies kept from register_parameter / register_buffer see the loaded values.
  EXPECT_EQ(target.scale(1), T(5));
  EXPECT_EQ(target.counter.item(), T(7));
  strata::Generator gen(3);
  const auto x = strata::Tensor<T>::randn({1, 2, 4, 4}, gen);
  EXPECT_EQ(strata::max_abs_diff(target.forward(x), source.forward(x)), T(0));
  // Strict over buffers too: one error lists every problem.
  auto sd = source.state_dict();
  sd.erase("counter");
  sd["extra"] = strata::Tensor<T>::zeros({1});
  sd["scale"] = strata::Tensor<T>::zeros({3});
  EXPECT_THROW_WITH(target.load_state_dict(sd), strata::Error,
                    "Error(s) in loading state_dict for RegistryBlock:\n\tMissing key(s) in state_dict: \"counter\".\n"
                    "\tUnexpected key(s) in state_dict: \"extra\".\n\tsize mismatch for scale: copying a param with "
                    "shape [3], the shape in current model is [2].");
  EXPECT_EQ(target.scale(0), T(5));  // nothing changed
}

TYPED_TEST(ModuleRegistryTest, PrintsTheModuleTreeLikeTorch) {
  RegistryBlock<TypeParam> block(2);
  std::ostringstream out;
  out << block;
  EXPECT_EQ(out.str(),
            "RegistryBlock(\n"
            "  (conv): strata::nn::Conv2d(2, 2, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1])\n"
            "  (head): strata::nn::Sequential(\n"
            "    (0): strata::nn::Conv2d(2, 2, kernel_size=[1, 1], stride=[1, 1])\n"
            "  )\n"
            ")");
  struct Empty : strata::nn::Module<TypeParam> {};
  std::ostringstream empty;
  empty << Empty();
  EXPECT_EQ(empty.str(), "Module()");
}

TYPED_TEST(ModuleRegistryTest, RegistrationErrors) {
  using T = TypeParam;
  struct Host : strata::nn::Module<T> {
    using strata::nn::Module<T>::register_module;
  };
  auto host = std::make_shared<Host>();
  host->register_parameter("w", strata::Tensor<T>::zeros({1}));
  EXPECT_THROW_WITH(host->register_parameter("w", strata::Tensor<T>::zeros({1})), strata::Error,
                    "register_parameter: a parameter named \"w\" already exists");
  EXPECT_THROW_WITH(host->register_buffer("w", strata::Tensor<T>::zeros({1})), strata::Error,
                    "register_buffer: a parameter named \"w\" already exists");
  EXPECT_THROW_WITH(host->register_module("w", strata::nn::Linear<T>(1, 1)), strata::Error,
                    "register_module: a parameter named \"w\" already exists");
  EXPECT_THROW_WITH(host->register_buffer("a.b", strata::Tensor<T>::zeros({1})), strata::Error,
                    "register_buffer: buffer name can't contain \".\", got: a.b");
  EXPECT_THROW_WITH(host->register_module("", strata::nn::Linear<T>(1, 1)), strata::Error,
                    "register_module: module name can't be empty string");
  EXPECT_THROW_WITH(host->register_module("null", std::shared_ptr<strata::nn::Linear<T>>()), strata::Error,
                    "register_module: child \"null\" is a null pointer");
  EXPECT_THROW_WITH(host->register_module("self", host), strata::Error, "would make a cycle");
  auto outer = std::make_shared<Host>();
  outer->register_module("inner", host);
  EXPECT_THROW_WITH(host->register_module("up", outer), strata::Error, "would make a cycle");
  // An undefined tensor registers an absent parameter, like torch's register_parameter(name, None).
  host->register_parameter("none", strata::Tensor<T>());
  EXPECT_EQ(host->named_parameters().size(), 1u);
  EXPECT_EQ(host->state_dict().count("none"), 0u);
}

TYPED_TEST(ModuleRegistryTest, UserModulesAndSequentialsNest) {
  using T = TypeParam;
  strata::nn::Sequential<T> net(RegistryBlock<T>(2), strata::nn::Conv2d<T>(2, 1, 1));
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : net.state_dict()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"0.conv.bias", "0.conv.weight", "0.counter", "0.head.0.bias",
                                            "0.head.0.weight", "0.scale", "1.bias", "1.weight"}));
  strata::Generator gen(4);
  const auto x = strata::Tensor<T>::randn({2, 2, 5, 5}, gen);
  const auto& block = net.template at<RegistryBlock<T>>(0);
  const auto expected = net.template at<strata::nn::Conv2d<T>>(1).forward(block.forward(x));
  EXPECT_EQ(strata::max_abs_diff(net(x), expected), T(0));
  // Copying a module shares its children and tensors.
  RegistryBlock<T> original(2);
  RegistryBlock<T> copy = original;
  EXPECT_EQ(copy.conv.get(), original.conv.get());
  EXPECT_TRUE(copy.state_dict().at("scale").shares_storage_with(original.scale));
}

}  // namespace
