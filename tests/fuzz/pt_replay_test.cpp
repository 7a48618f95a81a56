// Replays every committed load_pt fuzz input through the fuzzer's decoder and
// oracle on every ordinary build and compiler (the fuzz target itself needs
// clang): tests/fuzz/pt_corpus (seeds and what fuzz runs added),
// tests/fuzz/pt_regressions (every input that ever found a defect), and the
// fixtures the fuzzer also starts from, tests/data/pt and its hostile corpus.
#include "fuzz/pt_fuzz_case.hpp"  // first: it sets STRATA_MAX_ALLOC_BYTES for strata

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

const fs::path kPtFuzzDir = fs::path(STRATA_TEST_DATA_DIR) / ".." / "fuzz";

struct PtReplayTally {
  int files = 0, refused = 0, loaded = 0;
};

PtReplayTally pt_replay(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  PtReplayTally tally;
  for (const fs::path& path : paths) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const strata_pt_fuzz::Outcome outcome = strata_pt_fuzz::run_case(bytes.data(), bytes.size());
    EXPECT_TRUE(outcome.ok) << path.filename() << ": " << outcome.message;
    ++tally.files;
    ++(outcome.refused ? tally.refused : tally.loaded);
  }
  return tally;
}

TEST(PtFuzzReplay, EveryCorpusInputPasses) {
  const PtReplayTally tally = pt_replay(kPtFuzzDir / "pt_corpus");
  std::cout << "[ pt fuzz  ] corpus: " << tally.files << " inputs, " << tally.loaded << " loaded, " << tally.refused
            << " rightly refused\n";
  EXPECT_GE(tally.files, 7);
  EXPECT_GT(tally.loaded, 0);
}

TEST(PtFuzzReplay, EveryRegressionInputPasses) {
  const PtReplayTally tally = pt_replay(kPtFuzzDir / "pt_regressions");
  std::cout << "[ pt fuzz  ] regressions: " << tally.files << " inputs, " << tally.loaded << " loaded, "
            << tally.refused << " rightly refused\n";
  EXPECT_GE(tally.files, 1);
}

TEST(PtFuzzReplay, FixturesAndHostileFilesPass) {
  const PtReplayTally valid = pt_replay(fs::path(STRATA_TEST_DATA_DIR) / "pt");
  const PtReplayTally hostile = pt_replay(fs::path(STRATA_TEST_DATA_DIR) / "pt" / "hostile");
  std::cout << "[ pt fuzz  ] fixtures: " << valid.files << " files (" << valid.loaded
            << " loaded), hostile: " << hostile.files << " files (" << hostile.refused << " refused)\n";
  EXPECT_GE(hostile.refused, 100);
}

}  // namespace
