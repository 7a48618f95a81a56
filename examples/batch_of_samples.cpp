// batch_of_samples: three samples A, B and C, five features each, through one
// Linear(5, 10) at once.
//
//   PyTorch:
//   x = torch.tensor([[0.1, 0.2, 0.3, 0.3, 0.3],    # sample A
//                     [0.4, 0.5, 0.6, 0.6, 0.6],    # sample B
//                     [0.7, 0.8, 0.9, 0.9, 0.9]])   # sample C
//   m = nn.Linear(5, 10)
//   print(m(x).shape)   # torch.Size([3, 10])
//
// The first dimension is the batch: a Linear treats each row on its own, so
// row i of the output is what sample i alone would give. Batching changes
// nothing in the numbers; it only lets one matrix product do all the rows.
#include <strata/strata.hpp>

#include <iostream>

int main() {
  using strata::Tensor;
  strata::manual_seed(2);  // fixed initial weights: the same printout on every run

  const Tensor<float> x({3, 5}, {0.1f, 0.2f, 0.3f, 0.3f, 0.3f,    // A
                                 0.4f, 0.5f, 0.6f, 0.6f, 0.6f,    // B
                                 0.7f, 0.8f, 0.9f, 0.9f, 0.9f});  // C
  strata::nn::Linear fc(5, 10);
  const auto y = fc(x);

  std::cout << fc << "\n\n";
  std::cout << "input, one row per sample (A, B, C), shape " << x.shape() << ":\n" << x << "\n\n";
  std::cout << "weight, one row per output feature, shape " << fc.weight().shape() << ":\n"
            << fc.weight() << "\n\n";
  std::cout << "bias, shape " << fc.bias().shape() << ":\n" << fc.bias() << "\n\n";
  std::cout << "output, one row per sample, shape " << y.shape() << ":\n" << y << "\n\n";
  std::cout << "output size: " << y.shape() << "   (3 samples, 10 features each)\n";

  // Sample B on its own, as a batch of one ([1, 5] -> [1, 10]), gives row 1.
  const auto b_alone = fc(x.narrow(0, 1, 1));
  const auto row_b = y.narrow(0, 1, 1);
  const float difference = strata::max_abs_diff(b_alone, row_b);
  // The same dot products of 5 terms: equal up to float rounding.
  const bool equal = difference <= 1e-6f;
  std::cout << "sample B alone, as a batch of one:\n" << b_alone << "\n";
  std::cout << "sample B alone equals row 1 of the batch: " << (equal ? "yes" : "no, FAILED")
            << " (max |difference| " << difference << ")\n";
  return equal && y.shape() == strata::Shape{3, 10} ? 0 : 1;
}
