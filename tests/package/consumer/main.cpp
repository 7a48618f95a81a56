// A consumer of strata: if this builds and prints "consumer ok", the package works.
#include <strata/strata.hpp>

#include <iostream>

int main() {
  strata::Generator gen(7);
  const auto x = strata::Tensor<float>::randn({4, 3}, gen);
  const auto y = x.permute({1, 0}).contiguous();
  if (y.shape() != strata::Shape{3, 4} || y(2, 1) != x(1, 2)) return 1;
#ifdef STRATA_CONSUMER_NATIVE
  // Linked with strata::native, the kernels use the widest instructions of this CPU.
  if (strata::instruction_set() != strata::cpu_instruction_set()) {
    std::cout << "kernels built for " << strata::instruction_set() << ", CPU has " << strata::cpu_instruction_set()
              << "\n";
    return 1;
  }
#endif
  std::cout << y.shape() << "\nkernels: " << strata::instruction_set() << "\nconsumer ok\n";
  return 0;
}
