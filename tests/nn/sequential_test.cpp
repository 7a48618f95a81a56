// Tests for strata/nn/sequential.hpp: chaining, torch's child and state_dict names,
// strict loading, nesting, accessors, printing, and the compile-time child check.
#include <memory>
#include <sstream>

#include <strata/nn/activation.hpp>
#include <strata/nn/bilinear.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/flatten.hpp>
#include <strata/nn/identity.hpp>
#include <strata/nn/lazy_linear.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/sequential.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;

/// A module with a two-input forward, like Bilinear: Sequential must refuse it.
template <typename T>
struct TwoInputs : strata::nn::Module<T> {
  strata::Tensor<T> forward(const strata::Tensor<T>& a, const strata::Tensor<T>&) const { return a; }
  std::string name() const override { return "TwoInputs"; }
  void pretty_print(std::ostream& out) const override { out << "TwoInputs()"; }
};
/// A module whose forward is non-const, like LazyLinear: Sequential must accept it.
template <typename T>
struct CountingModule : strata::nn::Module<T> {
  int calls = 0;
  strata::Tensor<T> forward(const strata::Tensor<T>& x) {
    ++calls;
    return x;
  }
  std::string name() const override { return "CountingModule"; }
  void pretty_print(std::ostream& out) const override { out << "CountingModule()"; }
};
struct NotAModule {
  strata::Tensor<float> forward(const strata::Tensor<float>& x) const { return x; }
};

static_assert(strata::detail::is_sequential_child_v<strata::nn::Linear<float>, float>);
static_assert(strata::detail::is_sequential_child_v<strata::nn::Sequential<float>, float>);
static_assert(strata::detail::is_sequential_child_v<CountingModule<double>, double>);
static_assert(!strata::detail::is_sequential_child_v<TwoInputs<float>, float>);
static_assert(!strata::detail::is_sequential_child_v<strata::nn::Bilinear<float>, float>);
static_assert(strata::detail::is_sequential_child_v<strata::nn::LazyLinear<float>, float>);
static_assert(strata::detail::is_sequential_child_v<strata::nn::Conv2d<double>, double>);
static_assert(!strata::detail::is_sequential_child_v<NotAModule, float>);
static_assert(!strata::detail::is_sequential_child_v<strata::nn::Linear<double>, float>);

template <typename T>
class SequentialTest : public ::testing::Test {
 protected:
  using Linear = strata::nn::Linear<T>;
  using ReLU = strata::nn::ReLU<T>;
  using Sequential = strata::nn::Sequential<T>;
  strata::Generator gen{7};
};
TYPED_TEST_SUITE(SequentialTest, strata_test::ScalarTypes);

TYPED_TEST(SequentialTest, ForwardChainsChildrenInOrder) {
  using T = TypeParam;
  typename TestFixture::Linear fc1(4, 8), fc2(8, 3);
  typename TestFixture::Sequential net(fc1, typename TestFixture::ReLU(), fc2);  // copies share the parameters
  EXPECT_EQ(net.size(), 3u);
  const auto x = strata::Tensor<T>::randn({5, 4}, this->gen);
  const auto expected = fc2(strata::nn::functional::relu(fc1(x)));
  const auto y = net(x);
  EXPECT_EQ(y.shape(), (Shape{5, 3}));
  EXPECT_EQ(strata::max_abs_diff(y, expected), T(0));
  EXPECT_EQ(strata::max_abs_diff(net.forward(x), expected), T(0));
}

TYPED_TEST(SequentialTest, EmptyReturnsInput) {
  const typename TestFixture::Sequential net;
  EXPECT_TRUE(net.empty());
  const auto x = strata::Tensor<TypeParam>::ones({2, 2});
  EXPECT_TRUE(net(x).shares_storage_with(x));
  EXPECT_TRUE(net.state_dict().empty());
}

TYPED_TEST(SequentialTest, StateDictHasTorchNames) {
  using T = TypeParam;
  typename TestFixture::Sequential features(typename TestFixture::Linear(6, 5), typename TestFixture::ReLU());
  typename TestFixture::Sequential net;
  net.push_back("features", features);
  net.push_back(strata::nn::Identity<T>());
  net.push_back(typename TestFixture::Linear(5, 2, false));
  net.push_back("head", typename TestFixture::Linear(2, 1));
  const auto sd = net.state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : sd) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"2.weight", "features.0.bias", "features.0.weight", "head.bias", "head.weight"}));
  EXPECT_EQ(sd.at("features.0.weight").shape(), (Shape{5, 6}));
  EXPECT_EQ(sd.at("2.weight").shape(), (Shape{2, 5}));
  // named_parameters keeps the module order (torch's order), not the map's.
  const auto named = net.named_parameters();
  ASSERT_EQ(named.size(), 5u);
  EXPECT_EQ(named[0].first, "features.0.weight");
  EXPECT_EQ(named[1].first, "features.0.bias");
  EXPECT_EQ(named[2].first, "2.weight");
  EXPECT_EQ(named[4].first, "head.bias");
  EXPECT_EQ(net.num_parameters(), 5 * 6 + 5 + 2 * 5 + 2 + 1);
  // The entries share the layers' storage, as torch's state_dict does.
  EXPECT_TRUE(sd.at("head.weight").shares_storage_with(net.template at<typename TestFixture::Linear>("head").weight()));
}

TYPED_TEST(SequentialTest, LoadStateDictRoundTripsBitExactly) {
  using T = TypeParam;
  using Linear = typename TestFixture::Linear;
  strata::manual_seed(1);
  typename TestFixture::Sequential a(Linear(3, 4), typename TestFixture::ReLU(), Linear(4, 2));
  strata::manual_seed(2);
  typename TestFixture::Sequential b(Linear(3, 4), typename TestFixture::ReLU(), Linear(4, 2));
  const auto x = strata::Tensor<T>::randn({6, 3}, this->gen);
  ASSERT_GT(strata::max_abs_diff(a(x), b(x)), T(0));
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(strata::max_abs_diff(a(x), b(x)), T(0));
  for (const auto& [key, tensor] : a.state_dict()) {
    EXPECT_EQ(strata::max_abs_diff(tensor, b.state_dict().at(key)), T(0)) << key;
    EXPECT_FALSE(tensor.shares_storage_with(b.state_dict().at(key))) << key;  // copied, not aliased
  }
}

// torch: Error(s) in loading state_dict for Sequential:
//   Missing key(s) in state_dict: "2.bias". Unexpected key(s) in state_dict: "5.weight".
//   size mismatch for 0.weight: copying a param with shape torch.Size([3, 4]) from checkpoint, ...
TYPED_TEST(SequentialTest, LoadStateDictIsStrictAndListsEveryProblem) {
  using T = TypeParam;
  using Linear = typename TestFixture::Linear;
  typename TestFixture::Sequential net(Linear(4, 8), typename TestFixture::ReLU(), Linear(8, 2));
  const auto before = net.state_dict().at("0.weight").clone();
  auto sd = net.state_dict();
  sd.erase("2.bias");
  sd["5.weight"] = strata::Tensor<T>::zeros({1});
  sd["0.weight"] = strata::Tensor<T>::zeros({3, 4});
  try {
    net.load_state_dict(sd);
    ADD_FAILURE() << "expected load_state_dict to throw";
  } catch (const strata::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Error(s) in loading state_dict for Sequential:"), std::string::npos) << message;
    EXPECT_NE(message.find("Missing key(s) in state_dict: \"2.bias\"."), std::string::npos) << message;
    EXPECT_NE(message.find("Unexpected key(s) in state_dict: \"5.weight\"."), std::string::npos) << message;
    EXPECT_NE(message.find("size mismatch for 0.weight: copying a param with shape [3, 4], the shape in current "
                           "model is [8, 4]."),
              std::string::npos)
        << message;
  }
  // Nothing changed.
  EXPECT_EQ(strata::max_abs_diff(net.state_dict().at("0.weight"), before), T(0));
}

TYPED_TEST(SequentialTest, NestedSequentialsAndNamedChildren) {
  using T = TypeParam;
  using Linear = typename TestFixture::Linear;
  typename TestFixture::Sequential inner(Linear(4, 4), typename TestFixture::ReLU());
  // With more than one argument a Sequential argument nests; alone it copies.
  typename TestFixture::Sequential outer(inner, Linear(4, 2));
  EXPECT_EQ(outer.size(), 2u);
  EXPECT_EQ(outer[0].name(), "Sequential");
  typename TestFixture::Sequential copy(outer);
  EXPECT_EQ(copy.size(), 2u);
  EXPECT_EQ(&copy[0], &outer[0]);  // copies share children
  auto sd = outer.state_dict();
  EXPECT_EQ(sd.count("0.0.weight"), 1u);
  EXPECT_EQ(sd.count("1.bias"), 1u);
  const auto x = strata::Tensor<T>::randn({3, 4}, this->gen);
  const auto& head = outer.template at<Linear>(1);
  EXPECT_EQ(strata::max_abs_diff(outer(x), head(inner(x))), T(0));
}

TYPED_TEST(SequentialTest, Accessors) {
  using T = TypeParam;
  using Linear = typename TestFixture::Linear;
  typename TestFixture::Sequential net(Linear(2, 3), typename TestFixture::ReLU());
  net.push_back("out", Linear(3, 1));
  EXPECT_EQ(net[0].name(), "Linear");
  EXPECT_EQ(net[-1].name(), "Linear");
  EXPECT_EQ(net[-2].name(), "ReLU");
  EXPECT_EQ(&net["out"], &net[2]);
  EXPECT_EQ(net.template at<Linear>(2).options().in_features(), 3);
  EXPECT_EQ(net.template at<Linear>("out").weight().shape(), (Shape{1, 3}));
  EXPECT_EQ(net.ptr(1).get(), &net[1]);
  const auto children = net.named_children();
  ASSERT_EQ(children.size(), 3u);
  EXPECT_EQ(children[0].first, "0");
  EXPECT_EQ(children[1].first, "1");
  EXPECT_EQ(children[2].first, "out");
  // Writing through an accessor changes the network.
  net.template at<Linear>(0).weight().fill_(T(0));
  net.template at<Linear>(0).bias().fill_(T(-1));
  EXPECT_EQ(net(strata::Tensor<T>::ones({1, 2}))(0, 0), net.template at<Linear>(2).bias()(0));

  EXPECT_THROW_WITH(net[3], strata::Error, "Sequential: index 3 is out of range for a Sequential of 3 children");
  EXPECT_THROW_WITH(net[-4], strata::Error, "index -4 is out of range");
  EXPECT_THROW_WITH(net["nope"], strata::Error, "Sequential: no child named \"nope\"");
  EXPECT_THROW_WITH(net.template at<Linear>(1), strata::Error,
                    "Sequential::at: child (1) is a ReLU, not the requested type");
  EXPECT_THROW_WITH(net.ptr(9), strata::Error, "Sequential::ptr: index 9 is out of range");
}

TYPED_TEST(SequentialTest, SharedPointerChildrenStayShared) {
  using T = TypeParam;
  auto fc = std::make_shared<typename TestFixture::Linear>(2, 2);
  typename TestFixture::Sequential net(fc);
  net.push_back("again", fc);  // the same layer twice, like reusing a torch module
  EXPECT_EQ(&net[0], fc.get());
  EXPECT_EQ(&net[1], fc.get());
  fc->weight().fill_(T(1));
  fc->bias().fill_(T(0));
  const auto y = net(strata::Tensor<T>({1, 2}, {1, 2}));
  EXPECT_EQ(y(0, 0), T(6));  // [1, 2] -> [3, 3] -> [6, 6]
  std::shared_ptr<typename TestFixture::Linear> null;
  EXPECT_THROW_WITH(net.push_back(null), strata::Error, "child \"2\" is a null pointer");
}

TYPED_TEST(SequentialTest, NonConstForwardChildren) {
  using T = TypeParam;
  auto counter = std::make_shared<CountingModule<T>>();
  const typename TestFixture::Sequential net(counter, typename TestFixture::ReLU());
  net(strata::Tensor<T>::ones({2}));
  net(strata::Tensor<T>::ones({2}));
  EXPECT_EQ(counter->calls, 2);
}

TYPED_TEST(SequentialTest, BadNames) {
  typename TestFixture::Sequential net{typename TestFixture::ReLU()};
  EXPECT_THROW_WITH(net.push_back("", typename TestFixture::ReLU()), strata::Error,
                    "module name can't be empty string");
  EXPECT_THROW_WITH(net.push_back("a.b", typename TestFixture::ReLU()), strata::Error,
                    "module name can't contain \".\", got: a.b");
  EXPECT_THROW_WITH(net.push_back("0", typename TestFixture::ReLU()), strata::Error,
                    "a child named \"0\" already exists");
  net.push_back("1", typename TestFixture::ReLU());
  // The next positional name would be "2"; "1" is taken by the named child, "2" is free.
  net.push_back(typename TestFixture::ReLU());
  EXPECT_EQ(net.named_children().back().first, "2");
  net.push_back("4", typename TestFixture::ReLU());
  EXPECT_THROW_WITH(net.push_back(typename TestFixture::ReLU()), strata::Error, "a child named \"4\" already exists");
  EXPECT_EQ(net.size(), 4u);
}

TYPED_TEST(SequentialTest, ForwardErrorsNameTheChild) {
  using T = TypeParam;
  typename TestFixture::Sequential inner(typename TestFixture::Linear(4, 3));
  typename TestFixture::Sequential net{strata::nn::Flatten<T>(), typename TestFixture::ReLU()};
  net.push_back("head", inner);
  EXPECT_THROW_WITH(net(strata::Tensor<T>::zeros({2, 5})), strata::Error,
                    "Sequential child (head): Sequential child (0): Linear: expected input of shape (*, 4)");
  EXPECT_THROW_WITH(net(strata::Tensor<T>::zeros({2})), strata::Error,
                    "Sequential child (0): flatten: dimension out of range");
}

TYPED_TEST(SequentialTest, PrintsLikeLibtorch) {
  using T = TypeParam;
  typename TestFixture::Sequential inner(typename TestFixture::Linear(4, 4), typename TestFixture::ReLU());
  typename TestFixture::Sequential net(typename TestFixture::Linear(2, 4, false), strata::nn::Flatten<T>());
  net.push_back("features", inner);
  net.push_back(typename TestFixture::Sequential());
  std::ostringstream out;
  out << net;
  EXPECT_EQ(out.str(),
            "strata::nn::Sequential(\n"
            "  (0): strata::nn::Linear(in_features=2, out_features=4, bias=false)\n"
            "  (1): strata::nn::Flatten(start_dim=1, end_dim=-1)\n"
            "  (features): strata::nn::Sequential(\n"
            "    (0): strata::nn::Linear(in_features=4, out_features=4, bias=true)\n"
            "    (1): strata::nn::ReLU()\n"
            "  )\n"
            "  (3): strata::nn::Sequential()\n"
            ")");
}

TYPED_TEST(SequentialTest, HoldsConvolutionsAndLazyLinear) {
  using T = TypeParam;
  using namespace strata::nn;
  Sequential<T> net(Conv2d<T>(Conv2dOptions(3, 4, 3).padding(1)), ReLU<T>(), Flatten<T>(), LazyLinear<T>(5));
  EXPECT_EQ(net.state_dict().size(), 2u);  // the LazyLinear has no parameters yet
  const auto x = strata::Tensor<T>::randn({2, 3, 6, 6}, this->gen);
  const auto y = net(x);  // the first forward sizes the LazyLinear: in_features = 4 * 6 * 6
  EXPECT_EQ(y.shape(), (Shape{2, 5}));
  EXPECT_EQ(net.template at<LazyLinear<T>>(3).in_features(), 144);
  const auto sd = net.state_dict();
  EXPECT_EQ(sd.at("0.weight").shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(sd.at("3.weight").shape(), (Shape{5, 144}));
  // A fresh network with an uninitialised LazyLinear takes its size from the loaded state.
  Sequential<T> fresh(Conv2d<T>(Conv2dOptions(3, 4, 3).padding(1)), ReLU<T>(), Flatten<T>(), LazyLinear<T>(5));
  fresh.load_state_dict(sd);
  EXPECT_EQ(fresh.template at<LazyLinear<T>>(3).in_features(), 144);
  EXPECT_EQ(strata::max_abs_diff(fresh(x), y), T(0));
}

TYPED_TEST(SequentialTest, RefusedLoadChangesNoChild) {
  // A LazyLinear that refuses its shapes must refuse before any sibling is
  // overwritten: the whole load is checked first, then copied.
  using T = TypeParam;
  using namespace strata::nn;
  Sequential<T> net(Linear<T>(3, 4), LazyLinear<T>(2));
  const auto before = net.state_dict().at("0.weight").clone();
  auto state = Sequential<T>(Linear<T>(3, 4), Linear<T>(4, 3)).state_dict();  // "1.*" has 3 outputs, not 2
  EXPECT_THROW_WITH(net.load_state_dict(state), strata::Error,
                    "size mismatch for 1.weight: copying a param with shape [3, 4], expected [2, in_features]");
  EXPECT_EQ(strata::max_abs_diff(net.state_dict().at("0.weight"), before), T(0));
  EXPECT_TRUE(net.template at<LazyLinear<T>>(1).has_uninitialized_params());
}

TEST(SequentialDeduction, ScalarTypeFromFirstChild) {
  strata::nn::Sequential net(strata::nn::Linear<double>(2, 3), strata::nn::ReLU<double>());
  static_assert(std::is_same_v<decltype(net), strata::nn::Sequential<double>>);
  strata::nn::Sequential<> empty;
  static_assert(std::is_same_v<decltype(empty), strata::nn::Sequential<float>>);
  EXPECT_EQ(net.size(), 2u);
}

}  // namespace
