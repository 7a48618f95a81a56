// Replays every committed fuzz input (tests/fuzz/corpus: the seeds and what
// fuzz runs added; tests/fuzz/regressions: every input that ever found a
// defect) through the fuzzer's decoder and oracle, on every ordinary build
// and compiler: the fuzz target itself needs clang, this test does not.
#include "fuzz/conv_fuzz_case.hpp"  // first: it sets STRATA_MAX_ALLOC_BYTES for strata

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

// The corpus lives next to this file; tests/data is its sibling.
const fs::path kFuzzDir = fs::path(STRATA_TEST_DATA_DIR) / ".." / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint8_t> bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Tally {
  int files = 0, refused = 0, computed = 0;
};

Tally replay(const fs::path& dir) {
  Tally tally;
  for (const fs::path& path : files_in(dir)) {
    const std::vector<std::uint8_t> bytes = bytes_of(path);
    const strata_fuzz::Outcome outcome = strata_fuzz::run_case(bytes.data(), bytes.size());
    EXPECT_TRUE(outcome.ok) << path.filename() << ": " << outcome.message << "\n  case: " << outcome.description;
    ++tally.files;
    ++(outcome.refused ? tally.refused : tally.computed);
  }
  return tally;
}

TEST(FuzzCorpusReplay, EveryCorpusInputPasses) {
  const Tally tally = replay(kFuzzDir / "corpus");
  std::cout << "[ fuzz     ] corpus: " << tally.files << " inputs, " << tally.computed << " computed, " << tally.refused
            << " rightly refused\n";
  // A corpus that lost its files, or that never reaches one side of the oracle, tests nothing.
  EXPECT_GE(tally.files, 24);
  EXPECT_GT(tally.computed, 0);
  EXPECT_GT(tally.refused, 0);
}

TEST(FuzzCorpusReplay, EveryRegressionInputPasses) {
  const Tally tally = replay(kFuzzDir / "regressions");
  std::cout << "[ fuzz     ] regressions: " << tally.files << " inputs\n";
  EXPECT_GE(tally.files, 1);
}

}  // namespace
