// Tests for strata/nn/fusion.hpp: fuse_conv_bn_eval against
// torch.nn.utils.fusion.fuse_conv_bn_eval's fused weight and bias (golden
// data) and against bn(conv(x)); the fused layer's options, its independence
// from its arguments, and the refusals.
#include <map>
#include <string>

#include <strata/nn/fusion.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;

template <typename T>
class FusionTest : public ::testing::Test {};
TYPED_TEST_SUITE(FusionTest, strata_test::ScalarTypes);

template <std::size_t D>
ExpandingArray<D> fusion_option(const strata_test::GoldenCase& c, const std::string& name) {
  const std::vector<std::int64_t> v = c.ints(name);
  return ExpandingArray<D>(std::vector<index_t>(v.begin(), v.end()));
}

/// Builds the case's conv and bn, loads torch's tensors, fuses, and compares.
template <std::size_t D, typename Conv, typename Bn, typename T>
void fusion_golden_check(const strata_test::GoldenCase& c, double& worst) {
  auto opt = [&](const char* key) { return c.ints(key)[0]; };
  Conv conv(ConvOptions<D>(opt("in_channels"), opt("out_channels"), fusion_option<D>(c, "kernel_size"))
                .stride(fusion_option<D>(c, "stride"))
                .padding(fusion_option<D>(c, "padding"))
                .dilation(fusion_option<D>(c, "dilation"))
                .groups(opt("groups"))
                .bias(opt("bias") != 0));
  Bn bn(BatchNormOptions(opt("out_channels")).eps(std::stod(c.str("eps"))).affine(opt("affine") != 0));
  auto tensor = [&](const char* name) { return strata_test::pool_bn_golden_tensor<T>(c.tensor(name)); };
  std::map<std::string, Tensor<T>> conv_sd{{"weight", tensor("conv_weight")}};
  if (c.has("conv_bias")) conv_sd["bias"] = tensor("conv_bias");
  conv.load_state_dict(conv_sd);
  std::map<std::string, Tensor<T>> bn_sd{{"running_mean", tensor("running_mean")}, {"running_var", tensor("running_var")}};
  if (c.has("bn_weight")) bn_sd["weight"] = tensor("bn_weight"), bn_sd["bias"] = tensor("bn_bias");
  bn.load_state_dict(bn_sd);

  const auto fused = fuse_conv_bn_eval(conv, bn);
  const double tol = sizeof(T) == 4 ? 1e-6 : 1e-14;
  for (const auto& [got, name] : {std::pair<Tensor<T>, const char*>{fused.weight(), "fused_weight"},
                                  std::pair<Tensor<T>, const char*>{fused.bias(), "fused_bias"}}) {
    const double diff = strata_test::pool_bn_rel_diff(got, strata_test::pool_bn_golden_double(c.tensor(name)));
    worst = std::max(worst, diff);
    EXPECT_LE(diff, tol) << c.name << " " << name;
  }
  const Tensor<T> x = tensor("input");
  const auto want = strata_test::pool_bn_golden_double(c.tensor("output"));
  EXPECT_LE(strata_test::pool_bn_rel_diff(fused(x), want), 10 * tol) << c.name << " fused(x)";
  EXPECT_LE(strata_test::pool_bn_rel_diff(bn(conv(x)), want), 10 * tol) << c.name << " bn(conv(x))";
}

TYPED_TEST(FusionTest, MatchesTorchNnUtilsFusion) {
  using T = TypeParam;
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  int cases = 0;
  double worst = 0;
  for (const strata_test::GoldenCase& c : strata_test::pool_bn_golden_cases("fuse_conv_bn")) {
    if (c.dtype != dtype) continue;
    if (c.layer == "fuse_conv_bn1d") {
      fusion_golden_check<1, Conv1d<T>, BatchNorm1d<T>, T>(c, worst);
    } else {
      fusion_golden_check<2, Conv2d<T>, BatchNorm2d<T>, T>(c, worst);
    }
    ++cases;
  }
  EXPECT_EQ(cases, 6);
  std::printf("[ golden ] %d fusion cases in %s, fused weight and bias within %.3g of torch\n", cases, dtype.c_str(),
              worst);
}

TYPED_TEST(FusionTest, ANewIndependentLayerWithABias) {
  using T = TypeParam;
  strata::manual_seed(71);
  Conv2d<T> conv(Conv2dOptions(3, 4, 3).stride(2).padding(1).bias(false).padding_mode(kReflect));
  BatchNorm2d<T> bn(4);
  strata::Generator gen(72);
  bn.running_mean().copy_(Tensor<T>::randn({4}, gen));
  bn.running_var().copy_(Tensor<T>::rand({4}, gen) + T(0.5));
  bn.weight().copy_(Tensor<T>::randn({4}, gen));
  const auto conv_weight = conv.weight().clone();
  const auto bn_mean = bn.running_mean().clone();
  auto fused = fuse_conv_bn_eval(conv, bn);
  EXPECT_TRUE(fused.options().bias());
  EXPECT_EQ(fused.options().stride(), ExpandingArray<2>(2));
  EXPECT_EQ(fused.options().padding_mode(), kReflect);
  ASSERT_TRUE(fused.bias().defined());
  EXPECT_FALSE(fused.weight().shares_storage_with(conv.weight()));
  fused.weight().fill_(T(0));
  EXPECT_TRUE(strata_test::same_bits(conv.weight(), conv_weight));  // arguments unchanged
  EXPECT_TRUE(strata_test::same_bits(bn.running_mean(), bn_mean));
  EXPECT_FALSE(conv.bias().defined());
  fused = fuse_conv_bn_eval(conv, bn);
  const auto x = Tensor<T>::randn({2, 3, 9, 8}, gen);
  EXPECT_LE(strata::max_abs_diff(fused(x), bn(conv(x))), strata_test::tolerance<T>(10));
  Conv1d<T> c1(Conv1dOptions(2, 3, 2));
  BatchNorm1d<T> b1(BatchNorm1dOptions(3).affine(false));
  const auto f1 = fuse_conv_bn_eval(c1, b1);
  const auto v = Tensor<T>::randn({2, 2, 7}, gen);
  EXPECT_LE(strata::max_abs_diff(f1(v), b1(c1(v))), strata_test::tolerance<T>(10));
}

TYPED_TEST(FusionTest, Refusals) {
  using T = TypeParam;
  Conv2d<T> conv(Conv2dOptions(3, 4, 3));
  EXPECT_THROW_WITH(fuse_conv_bn_eval(conv, BatchNorm2d<T>(BatchNorm2dOptions(4).track_running_stats(false))),
                    strata::Error,
                    "fuse_conv_bn_eval: expected a BatchNorm2d with running statistics, got one built with "
                    "track_running_stats=false");
  EXPECT_THROW_WITH(fuse_conv_bn_eval(conv, BatchNorm2d<T>(5)), strata::Error,
                    "fuse_conv_bn_eval: expected a BatchNorm2d of 4 features (the convolution's out_channels), got "
                    "num_features=5");
  BatchNorm2d<T> bn(4);
  bn.running_var() = Tensor<T>::ones({3});
  EXPECT_THROW_WITH(fuse_conv_bn_eval(conv, bn), strata::Error,
                    "fuse_conv_bn_eval: expected running_var of shape [4], got [3]");
  conv.weight() = Tensor<T>::ones({4, 3, 1, 1});
  EXPECT_THROW_WITH(fuse_conv_bn_eval(conv, BatchNorm2d<T>(4)), strata::Error,
                    "fuse_conv_bn_eval: expected the convolution's weight of shape [4, 3, 3, 3], got [4, 3, 1, 1]");
}

}  // namespace
