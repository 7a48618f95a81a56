// libFuzzer target for strata::io::load_pt: every input becomes a torch.save
// file (zip or legacy format, or the bytes as they are; see pt_fuzz_case.hpp),
// loaded as float and as double; an escaping non-strata exception, a
// disagreement between the two loads, or any ASan/UBSan report aborts.
// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined) and
// run by .ci/fuzz for a bounded time over tests/fuzz/pt_corpus, the committed
// fixtures of tests/data/pt and its hostile corpus.
#include "pt_fuzz_case.hpp"  // first: it sets STRATA_MAX_ALLOC_BYTES for strata

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const strata_pt_fuzz::Outcome outcome = strata_pt_fuzz::run_case(data, size);
  if (!outcome.ok) {
    std::fprintf(stderr, "pt_fuzz finding: %s\n", outcome.message.c_str());
    std::abort();
  }
  return 0;
}
