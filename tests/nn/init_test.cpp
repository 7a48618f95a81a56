// Tests for strata/nn/init.hpp: torch.nn.init's uniform_, fan-in and kaiming_uniform_.
#include <strata/nn/init.hpp>

#include <cmath>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;

template <typename T>
class InitTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(InitTest, strata_test::ScalarTypes);

namespace init = strata::nn::init;

TYPED_TEST(InitTest, UniformFillsEveryElementFromTheGenerator) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  Tensor t = Tensor::full({100, 50}, T(7));
  strata::Generator gen(1), same(1);
  init::uniform_(t, -2.0, 3.0, gen);
  for (index_t i = 0; i < 100; ++i) {
    for (index_t j = 0; j < 50; ++j) {
      ASSERT_GE(t(i, j), T(-2));
      ASSERT_LT(t(i, j), T(3));
    }
  }
  // Row-major order, same numbers as Tensor::uniform with the same seed.
  EXPECT_EQ(strata::max_abs_diff(t, Tensor::uniform({100, 50}, T(-2), T(3), same)), T(0));
  Tensor centred = Tensor::zeros({20000});
  init::uniform_(centred, -0.3, 0.3, gen);
  EXPECT_TRUE(strata_test::looks_uniform(centred, 0.3));
}

TYPED_TEST(InitTest, UniformWritesOnlyTheView) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  Tensor base = Tensor::zeros({4, 6});
  Tensor view = base.narrow(1, 2, 3).transpose(0, 1);  // (3, 4), non-contiguous
  strata::Generator gen(2);
  init::uniform_(view, 1.0, 2.0, gen);
  for (index_t i = 0; i < 4; ++i) {
    for (index_t j = 0; j < 6; ++j) {
      if (j >= 2 && j < 5) {
        EXPECT_GE(base(i, j), T(1));
      } else {
        EXPECT_EQ(base(i, j), T(0));
      }
    }
  }
}

TYPED_TEST(InitTest, UniformErrors) {
  typename TestFixture::Tensor undefined;
  strata::Generator gen(3);
  EXPECT_THROW_WITH(init::uniform_(undefined, 0.0, 1.0, gen), strata::Error, "init::uniform_: the tensor is undefined");
}

TYPED_TEST(InitTest, FanIn) {
  using Tensor = typename TestFixture::Tensor;
  EXPECT_EQ(init::calculate_fan_in(Tensor::empty({30, 20})), 20);
  EXPECT_EQ(init::calculate_fan_in(Tensor::empty({40, 20, 30})), 600);  // Bilinear's weight: torch's formula
  EXPECT_EQ(init::calculate_fan_in(Tensor::empty({8, 4, 3})), 12);      // Conv1d
  EXPECT_EQ(init::calculate_fan_in(Tensor::empty({8, 4, 3, 5})), 60);   // Conv2d
  EXPECT_THROW_WITH(init::calculate_fan_in(Tensor::empty({5})), strata::Error,
                    "init: fan in can not be computed for a tensor with fewer than 2 dimensions, got shape [5]");
  EXPECT_THROW_WITH(init::calculate_fan_in(Tensor()), strata::Error, "fewer than 2 dimensions");
  EXPECT_DOUBLE_EQ(init::fan_in_bound(400), 0.05);
  EXPECT_DOUBLE_EQ(init::fan_in_bound(1), 1.0);
  EXPECT_EQ(init::fan_in_bound(0), 0.0);
}

TYPED_TEST(InitTest, KaimingUniformBounds) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(4);
  // a = sqrt(5), torch's choice for every layer: gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in) = 1/sqrt(fan_in).
  Tensor w = Tensor::empty({300, 400});
  init::kaiming_uniform_(w, std::sqrt(5.0), gen);
  EXPECT_TRUE(strata_test::looks_uniform(w, 0.05));
  // a = 0 (ReLU gain sqrt(2)): bound sqrt(6 / fan_in).
  Tensor relu = Tensor::empty({200, 24});
  init::kaiming_uniform_(relu, 0.0, gen);
  EXPECT_TRUE(strata_test::looks_uniform(relu, 0.5));
  // fan_in counts the kernel dimensions: (16, 3, 5, 5) has fan_in 75.
  Tensor conv = Tensor::empty({16, 3, 5, 5});
  init::kaiming_uniform_(conv, std::sqrt(5.0), gen);
  EXPECT_TRUE(strata_test::looks_uniform(conv, 1 / std::sqrt(75.0)));
}

TYPED_TEST(InitTest, KaimingUniformErrors) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(5);
  Tensor empty_fan = Tensor::empty({3, 0});
  EXPECT_THROW_WITH(init::kaiming_uniform_(empty_fan, std::sqrt(5.0), gen), strata::Error,
                    "init::kaiming_uniform_: fan_in must be positive, got shape [3, 0]");
  Tensor vector = Tensor::empty({3});
  EXPECT_THROW_WITH(init::kaiming_uniform_(vector, 0.0, gen), strata::Error, "fewer than 2 dimensions");
}

TYPED_TEST(InitTest, SameSeedSameNumbers) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator g1(6), g2(6);
  Tensor a = Tensor::empty({10, 10}), b = Tensor::empty({10, 10});
  init::kaiming_uniform_(a, std::sqrt(5.0), g1);
  init::kaiming_uniform_(b, std::sqrt(5.0), g2);
  EXPECT_EQ(strata::max_abs_diff(a, b), T(0));
  init::kaiming_uniform_(b, std::sqrt(5.0), g2);
  EXPECT_GT(strata::max_abs_diff(a, b), T(0));
}

}  // namespace
