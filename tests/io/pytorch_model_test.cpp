// End to end: a 1-D CNN trained in PyTorch (tests/reference/train_cnn.py), exported as
// safetensors + .npy, rebuilt with strata, gives PyTorch's logits and predicted classes.
// The fixture is committed under tests/data/pytorch_cnn/; this test needs no PyTorch.
#include <cmath>
#include <iostream>

#include <strata/io/npy.hpp>
#include <strata/io/safetensors.hpp>
#include <strata/nn/activation.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/flatten.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/sequential.hpp>

#include "io/temp_dir.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;

const std::string kDir = std::string(STRATA_TEST_DATA_DIR) + "/pytorch_cnn/";

/// The network of train_cnn.py, layer for layer.
template <typename T>
strata::nn::Sequential<T> build_cnn() {
  using namespace strata::nn;
  return Sequential<T>(Conv1d<T>(Conv1dOptions(1, 8, 5)),                        // [N, 1, 32] -> [N, 8, 28]
                       ReLU<T>(),                                                //
                       Conv1d<T>(Conv1dOptions(8, 16, 3).stride(2).padding(1)),  // -> [N, 16, 14]
                       ReLU<T>(),                                                //
                       Flatten<T>(),                                             // -> [N, 224]
                       Linear<T>(16 * 14, 4));                                   // -> [N, 4]
}

template <typename T>
Tensor<T> abs(const Tensor<T>& t) {
  Tensor<T> out = t.clone();
  for (index_t i = 0; i < out.numel(); ++i) out.data()[i] = std::abs(out.data()[i]);
  return out;
}

template <typename T>
std::vector<index_t> argmax_rows(const Tensor<T>& logits) {
  std::vector<index_t> out;
  for (index_t n = 0; n < logits.size(0); ++n) {
    index_t best = 0;
    for (index_t c = 1; c < logits.size(1); ++c)
      if (logits(n, c) > logits(n, best)) best = c;
    out.push_back(best);
  }
  return out;
}

/// Per-logit bound on |computed - exact| for any summation order in precision T.
///
/// Each layer computes dot products of n terms plus a bias; rounded in any order
/// they are off by at most gamma_(n+1) * (|W| |x| + |b|), gamma_k ~ k * u, u the
/// unit roundoff. ReLU and Flatten are exact and 1-Lipschitz, so the errors of
/// the three layers (n = 5, 8*3 = 24, 224) reach the logits through |W| and add
/// up to (6 + 25 + 225) * u * A, where A is the same network run on |weights|,
/// |biases| and |input| (it bounds every intermediate |value| from above).
/// Inputs and weights are exact float32 values, so they add no error.
template <typename T>
Tensor<double> rounding_bound(const std::map<std::string, Tensor<double>>& weights, const Tensor<double>& input) {
  auto magnitude = build_cnn<double>();
  std::map<std::string, Tensor<double>> abs_weights;
  for (const auto& [name, w] : weights) abs_weights[name] = abs(w);
  magnitude.load_state_dict(abs_weights);
  Tensor<double> bound = magnitude(abs(input));
  const double u = std::ldexp(1.0, -std::numeric_limits<T>::digits);  // 2^-24 or 2^-53
  const double k = (6 + 25 + 225) * u * 1.01;                         // 1.01 covers the second-order terms
  for (index_t i = 0; i < bound.numel(); ++i) bound.data()[i] *= k;
  return bound;
}

template <typename T>
class PyTorchModelTest : public ::testing::Test {};
TYPED_TEST_SUITE(PyTorchModelTest, strata_test::ScalarTypes);

TYPED_TEST(PyTorchModelTest, ReproducesPyTorchLogitsAndClasses) {
  using T = TypeParam;
  auto net = build_cnn<T>();
  net.load_state_dict(strata::io::load_safetensors<T>(kDir + "model.safetensors"));
  const Tensor<T> inputs = strata::io::load_npy<T>(kDir + "inputs.npy");
  ASSERT_EQ(inputs.shape(), (Shape{16, 1, 32}));

  const Tensor<T> logits = net(inputs);
  ASSERT_EQ(logits.shape(), (Shape{16, 4}));
  const Tensor<double> got = [&] {
    Tensor<double> out = Tensor<double>::empty(logits.shape());
    for (index_t i = 0; i < out.numel(); ++i) out.data()[i] = logits.data()[i];
    return out;
  }();
  // PyTorch's float32 result and its float64 run of the same float32 weights.
  const Tensor<double> torch_f32 = strata::io::load_npy<double>(kDir + "logits.npy");
  const Tensor<double> torch_f64 = strata::io::load_npy<double>(kDir + "logits_f64.npy");
  // strata's own rounding, plus the reference's: torch_f64 is within the float64
  // bound of the exact logits, torch_f32 within the float32 one.
  const auto weights = strata::io::load_safetensors<double>(kDir + "model.safetensors");
  const Tensor<double> inputs_f64 = strata::io::load_npy<double>(kDir + "inputs.npy");
  const Tensor<double> bound = rounding_bound<T>(weights, inputs_f64);
  const Tensor<double> bound_f64 = rounding_bound<double>(weights, inputs_f64);
  const Tensor<double> bound_f32 = rounding_bound<float>(weights, inputs_f64);
  double worst_ratio = 0;
  for (index_t i = 0; i < got.numel(); ++i) {
    const double vs_f64 = std::abs(got.data()[i] - torch_f64.data()[i]);
    const double vs_f32 = std::abs(got.data()[i] - torch_f32.data()[i]);
    EXPECT_LE(vs_f64, bound.data()[i] + bound_f64.data()[i]) << "logit " << i;
    EXPECT_LE(vs_f32, bound.data()[i] + bound_f32.data()[i]) << "logit " << i;
    worst_ratio = std::max(worst_ratio, vs_f64 / (bound.data()[i] + bound_f64.data()[i]));
  }
  const double max_vs_f32 = strata::max_abs_diff(got, torch_f32);
  const double max_vs_f64 = strata::max_abs_diff(got, torch_f64);
  std::cout << "[ strata " << strata_test::type_name<T>() << " ] max |logit diff| vs PyTorch float32 = " << max_vs_f32
            << ", vs PyTorch float64 = " << max_vs_f64 << " (largest diff / bound = " << worst_ratio
            << ", largest bound = " << *std::max_element(bound.data(), bound.data() + bound.numel()) << ")\n";
  // Plain sanity lines beside the derived bound: float agrees with PyTorch's float32 run,
  // double with its float64 run, both far inside the bound.
  if (sizeof(T) == 4) {
    EXPECT_LT(max_vs_f32, 1e-4);
  } else {
    EXPECT_LT(max_vs_f64, 1e-12);
  }

  // Same predicted classes as PyTorch, and they are the true ones.
  const auto classes = argmax_rows(logits);
  EXPECT_EQ(classes, argmax_rows(torch_f32));
  const Tensor<T> labels = strata::io::load_npy<T>(kDir + "labels.npy");
  for (index_t n = 0; n < 16; ++n) EXPECT_EQ(classes[static_cast<std::size_t>(n)], static_cast<index_t>(labels(n)));
}

TYPED_TEST(PyTorchModelTest, UnbatchedSampleGivesTheSameRow) {
  using T = TypeParam;
  auto net = build_cnn<T>();
  net.load_state_dict(strata::io::load_safetensors<T>(kDir + "model.safetensors"));
  const Tensor<T> inputs = strata::io::load_npy<T>(kDir + "inputs.npy");
  // One batch-of-one sample: Flatten(1) keeps the batch dimension, as in torch.
  const Tensor<T> one = net(inputs.narrow(0, 3, 1));
  const Tensor<T> all = net(inputs);
  EXPECT_EQ(one.shape(), (Shape{1, 4}));
  EXPECT_LE(strata::max_abs_diff(one, all.narrow(0, 3, 1)), T(strata_test::tolerance<T>()));
}

TEST(PyTorchModel, StateDictRoundTripsToTheSameFile) {
  // Saving the loaded weights (with the file's metadata) reproduces PyTorch's export byte for byte.
  strata_test::TempDir dir;
  auto net = build_cnn<float>();
  const std::string original = kDir + "model.safetensors";
  net.load_state_dict(strata::io::load_safetensors<float>(original));
  const std::string saved = dir.file("saved.safetensors");
  strata::io::save_safetensors(saved, net.state_dict(), strata::io::load_safetensors_metadata(original));
  EXPECT_EQ(strata_test::read_bytes(saved), strata_test::read_bytes(original));
}

TEST(PyTorchModel, PrintsLikeTorch) {
  std::ostringstream out;
  out << build_cnn<float>();
  const std::string text = out.str();
  // The Conv1d lines are Conv1d's own format (tested with it); here, the listing.
  EXPECT_EQ(text.rfind("strata::nn::Sequential(\n  (0): strata::nn::Conv1d(1, 8, ", 0), 0u) << text;
  EXPECT_NE(text.find(")\n  (1): strata::nn::ReLU()\n  (2): strata::nn::Conv1d(8, 16, "), std::string::npos) << text;
  EXPECT_NE(text.find(")\n  (3): strata::nn::ReLU()\n"
                      "  (4): strata::nn::Flatten(start_dim=1, end_dim=-1)\n"
                      "  (5): strata::nn::Linear(in_features=224, out_features=4, bias=true)\n"
                      ")"),
            std::string::npos)
      << text;
}

TEST(PyTorchModel, WrongArchitectureIsOneErrorListingEverything) {
  // Without the first ReLU every later index shifts and the head has 5 classes: torch lists it all.
  using namespace strata::nn;
  Sequential<float> wrong(Conv1d<float>(Conv1dOptions(1, 8, 5)), Conv1d<float>(Conv1dOptions(8, 16, 3).stride(2)),
                          ReLU<float>(), Flatten<float>(), Linear<float>(224, 4));
  wrong.push_back(ReLU<float>());
  try {
    wrong.load_state_dict(strata::io::load_safetensors<float>(kDir + "model.safetensors"));
    ADD_FAILURE() << "expected load_state_dict to throw";
  } catch (const strata::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Missing key(s) in state_dict: \"1.weight\", \"1.bias\", \"4.weight\", \"4.bias\"."),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("Unexpected key(s) in state_dict: \"2.bias\", \"2.weight\", \"5.bias\", \"5.weight\"."),
              std::string::npos)
        << message;
  }
}

}  // namespace
