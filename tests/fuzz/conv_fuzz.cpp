// libFuzzer target: every input decodes into one Conv1d / Conv2d / Linear /
// Bilinear call (see conv_fuzz_case.hpp for the byte layout and the oracle);
// a wrong refusal, a wrong shape, a value outside the rounding bound or an
// escaping non-strata exception aborts, and so does any ASan/UBSan report.
// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined) and
// run by .ci/fuzz for a bounded time over tests/fuzz/corpus.
#include "conv_fuzz_case.hpp"  // first: it sets STRATA_MAX_ALLOC_BYTES for strata

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const strata_fuzz::Outcome outcome = strata_fuzz::run_case(data, size);
  if (!outcome.ok) {
    std::fprintf(stderr, "conv_fuzz finding: %s\n  case: %s\n", outcome.message.c_str(), outcome.description.c_str());
    std::abort();
  }
  return 0;
}
