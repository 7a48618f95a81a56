// Tests for strata/core/threads.hpp.
#include <atomic>
#include <vector>

#include "test_util.hpp"

namespace {

class Threads : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = strata::get_num_threads(); }
  void TearDown() override { strata::set_num_threads(saved_); }
  int saved_ = 1;
};

TEST_F(Threads, SetAndGet) {
  strata::set_num_threads(1);
  EXPECT_EQ(strata::get_num_threads(), 1);
  EXPECT_EQ(Eigen::nbThreads(), 1);
  strata::set_num_threads(3);
  EXPECT_EQ(strata::get_num_threads(), 3);
  EXPECT_THROW_WITH(strata::set_num_threads(0), strata::Error, "expected a thread count >= 1, got 0");
  EXPECT_EQ(strata::get_num_threads(), 3);
}

TEST_F(Threads, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 4}) {
    strata::set_num_threads(threads);
    for (strata::index_t n : {0, 1, 5, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      strata::detail::parallel_for(n, 1, [&](strata::index_t begin, strata::index_t end) {
        for (strata::index_t i = begin; i < end; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

}  // namespace
