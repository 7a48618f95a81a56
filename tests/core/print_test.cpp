// Tests for strata/core/print.hpp. Every expected string was printed by
// PyTorch 1.13 (`str(t)` for the same tensor), noted next to each case.
#include <fstream>
#include <limits>
#include <sstream>

#include "test_util.hpp"

namespace {

using strata::Tensor;

template <typename T>
std::string str(const Tensor<T>& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

Tensor<float> arange(strata::index_t n) { return Tensor<float>::arange(n); }

TEST(Print, FixedPointWithFourDecimals) {
  // torch.tensor([[0.1, 0.2], [0.3, 0.4]])
  EXPECT_EQ(str(Tensor<float>({2, 2}, {0.1f, 0.2f, 0.3f, 0.4f})), "tensor([[0.1000, 0.2000],\n        [0.3000, 0.4000]])");
}

TEST(Print, IntegersGetATrailingPoint) {
  // torch.arange(6.).reshape(2, 3)
  EXPECT_EQ(str(arange(6).reshape({2, 3})), "tensor([[0., 1., 2.],\n        [3., 4., 5.]])");
  // torch.arange(6.).reshape(2, 3).t(): a strided view prints its logical order
  EXPECT_EQ(str(arange(6).reshape({2, 3}).transpose(0, 1)), "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])");
}

TEST(Print, DoubleGetsDtypeSuffixAndBlankLinesBetweenBlocks) {
  // torch.arange(24., dtype=torch.float64).reshape(2, 3, 4) / 7
  Tensor<double> t = Tensor<double>::arange(24).reshape({2, 3, 4});
  for (strata::index_t i = 0; i < 24; ++i) t.data()[i] /= 7;
  EXPECT_EQ(str(t),
            "tensor([[[0.0000, 0.1429, 0.2857, 0.4286],\n         [0.5714, 0.7143, 0.8571, 1.0000],\n"
            "         [1.1429, 1.2857, 1.4286, 1.5714]],\n\n        [[1.7143, 1.8571, 2.0000, 2.1429],\n"
            "         [2.2857, 2.4286, 2.5714, 2.7143],\n         [2.8571, 3.0000, 3.1429, 3.2857]]], "
            "dtype=torch.float64)");
}

TEST(Print, ScientificWhenMagnitudesCallForIt) {
  // torch.tensor([1e-5, 1., 3.]) and torch.tensor([123456789.0, 1.0])
  EXPECT_EQ(str(Tensor<float>({3}, {1e-5f, 1.f, 3.f})), "tensor([1.0000e-05, 1.0000e+00, 3.0000e+00])");
  EXPECT_EQ(str(Tensor<float>({2}, {123456789.f, 1.f})), "tensor([1.2346e+08, 1.0000e+00])");
}

TEST(Print, NonFiniteValues) {
  // torch.tensor([nan, 1.5, inf, -inf])
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(str(Tensor<float>({4}, {std::numeric_limits<float>::quiet_NaN(), 1.5f, inf, -inf})),
            "tensor([   nan, 1.5000,    inf,   -inf])");
}

TEST(Print, ScalarAndEmpty) {
  // torch.tensor(0.5), torch.zeros(0), torch.zeros(0, 3, dtype=torch.float64)
  EXPECT_EQ(str(Tensor<float>({}, {0.5f})), "tensor(0.5000)");
  EXPECT_EQ(str(Tensor<float>::zeros({0})), "tensor([])");
  EXPECT_EQ(str(Tensor<double>::zeros({0, 3})), "tensor([], size=(0, 3), dtype=torch.float64)");
  EXPECT_EQ(str(Tensor<float>()), "tensor(undefined)");
}

TEST(Print, LongRowsWrapAtEightyColumns) {
  // (torch.arange(40.) - 20) / 3
  Tensor<float> t = arange(40);
  for (strata::index_t i = 0; i < 40; ++i) t(i) = (t(i) - 20) / 3;
  EXPECT_EQ(str(t),
            "tensor([-6.6667, -6.3333, -6.0000, -5.6667, -5.3333, -5.0000, -4.6667, -4.3333,\n"
            "        -4.0000, -3.6667, -3.3333, -3.0000, -2.6667, -2.3333, -2.0000, -1.6667,\n"
            "        -1.3333, -1.0000, -0.6667, -0.3333,  0.0000,  0.3333,  0.6667,  1.0000,\n"
            "         1.3333,  1.6667,  2.0000,  2.3333,  2.6667,  3.0000,  3.3333,  3.6667,\n"
            "         4.0000,  4.3333,  4.6667,  5.0000,  5.3333,  5.6667,  6.0000,  6.3333])");
}

TEST(Print, LargeTensorsAreSummarised) {
  // torch.arange(2000.).reshape(2, 1000)
  EXPECT_EQ(str(arange(2000).reshape({2, 1000})),
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n"
            "         9.9900e+02],\n"
            "        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
            "         1.9990e+03]])");
  // torch.arange(1200.).reshape(10, 10, 12) / 1000, saved in tests/data
  Tensor<float> t = arange(1200).reshape({10, 10, 12});
  for (strata::index_t i = 0; i < 1200; ++i) t.data()[i] /= 1000;
  std::ifstream file(STRATA_TEST_DATA_DIR "/print_summarized_3d.txt");
  ASSERT_TRUE(file) << "missing tests/data/print_summarized_3d.txt";
  const std::string expected((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(str(t), expected);
}

}  // namespace
