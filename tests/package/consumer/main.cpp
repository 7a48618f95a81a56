// A consumer of strata: if this builds and prints "consumer ok", the package works.
#include <strata/strata.hpp>

#include <iostream>

int main() {
  strata::Generator gen(7);
  const auto x = strata::Tensor<float>::randn({4, 3}, gen);
  const auto y = x.permute({1, 0}).contiguous();
  if (y.shape() != strata::Shape{3, 4} || y(2, 1) != x(1, 2)) return 1;
  std::cout << y.shape() << "\nconsumer ok\n";
  return 0;
}
