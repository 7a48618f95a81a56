// strata_bench: every case of PERF.md through strata (and through libtorch when
// the build has it), first as Google Benchmark cases with a GFLOPS counter,
// then as a side-by-side table: for each case and thread count, strata and
// libtorch run alternately for several rounds and the table reports the median
// of the per-round time ratios, which stays stable on a noisy shared machine.
//
// Before anything else it prints what bounds every row: the compiler, flags
// and instruction sets the binary was built with, and the machine's limits
// measured in the same run (fp32 FMA peak, streaming read and triad
// bandwidth, at 1 and 2 threads); the table then shows the fraction of the
// limit each side reaches (roofline: a case whose flops per byte of memory
// traffic, Case::bytes, fall below peak / bandwidth is memory-bound).
//
// Extra flags (besides Google Benchmark's, e.g. --benchmark_filter, which
// selects the table's cases too):
//   --compare_rounds=N      rounds per case and thread count (default 15)
//   --compare_sample_ms=X   minimum duration of one sample (default 20)
//   --no_compare            skip the side-by-side table
//   --compare_only          skip the Google Benchmark pass

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <strata/core/threads.hpp>

#include "alloc_counter.hpp"
#include "bench_case.hpp"
#include "machine_limits.hpp"
#include "torch_bridge.hpp"

namespace strata_bench {
namespace {

constexpr int kThreadCounts[] = {1, 2};

struct Settings {
  int rounds = 15;
  double sample_seconds = 0.02;
  bool compare = true;
  bool google_benchmark = true;
  std::string filter = ".";
};

void set_threads(int n) {
  strata::set_num_threads(n);
  set_libtorch_threads(n);
}

// ---- Google Benchmark pass -------------------------------------------------

void run_benchmark(benchmark::State& state, const Case* c, const Runner* run, int threads) {
  set_threads(threads);
  (*run)();  // warm-up: first-touch page faults and lazy initialisation stay out of the timing
  for (auto _ : state) (*run)();
  if (c->flops > 0) {
    state.counters["GFLOPS"] = benchmark::Counter(c->flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  } else {
    state.SetBytesProcessed(static_cast<std::int64_t>(c->bytes) * state.iterations());
  }
  if (c->report_workspace) {  // after the timed loop, so one-time allocations are done
    const auto bytes = std::max<std::int64_t>(0, peak_heap_bytes(*run) - c->output_bytes);
    state.counters["workspace_MB"] = static_cast<double>(bytes) / 1e6;
  }
}

void register_benchmarks(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const std::pair<std::string, const Runner*> impls[] = {
        {"", &c.strata}, {"_" + c.reference_name, &c.reference}, {"_libtorch", &c.torch}};
    for (const auto& [suffix, run] : impls) {
      if (!*run) continue;
      for (int threads : kThreadCounts) {
        benchmark::RegisterBenchmark(("BM_" + c.name + suffix + "/threads:" + std::to_string(threads)).c_str(),
                                     run_benchmark, &c, run, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

// ---- side-by-side pass -------------------------------------------------------

double seconds_per_run(const Runner& run, int repeats) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) run();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / repeats;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/// Enough repetitions of `run` to fill one sample.
int repeats_for(const Runner& run, double sample_seconds) {
  const double once = seconds_per_run(run, 1);
  return static_cast<int>(std::clamp(std::ceil(sample_seconds / std::max(once, 1e-9)), 1.0, 1e6));
}

struct Row {
  double strata_s = 0, torch_s = 0, ratio = 0;
};

Row compare(const Case& c, int threads, const Settings& settings) {
  set_threads(threads);
  const bool with_torch = static_cast<bool>(c.torch);
  c.strata();
  if (with_torch) c.torch();
  const int strata_repeats = repeats_for(c.strata, settings.sample_seconds);
  const int torch_repeats = with_torch ? repeats_for(c.torch, settings.sample_seconds) : 0;
  std::vector<double> strata_times, torch_times, ratios;
  for (int round = 0; round < settings.rounds; ++round) {
    double s = 0, t = 0;
    // Alternate who goes first, so neither always runs on a warmer cache or clock.
    if (round % 2 == 0 || !with_torch) {
      s = seconds_per_run(c.strata, strata_repeats);
      if (with_torch) t = seconds_per_run(c.torch, torch_repeats);
    } else {
      t = seconds_per_run(c.torch, torch_repeats);
      s = seconds_per_run(c.strata, strata_repeats);
    }
    strata_times.push_back(s);
    if (with_torch) {
      torch_times.push_back(t);
      ratios.push_back(s / t);
    }
  }
  Row row;
  row.strata_s = median(strata_times);
  if (with_torch) {
    row.torch_s = median(torch_times);
    row.ratio = median(ratios);
  }
  return row;
}

std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

/// Milliseconds with three significant digits, or microseconds below 0.1 ms.
std::string format_time(double seconds) {
  if (seconds < 1e-4) return format("%.1f us", seconds * 1e6);
  return format(seconds < 1e-2 ? "%.3f ms" : "%.1f ms", seconds * 1e3);
}

std::string format_mb(std::int64_t bytes) { return format("%.2f MB", static_cast<double>(bytes) / 1e6); }

/// The fraction of the machine's limit one run of c in `seconds` reaches on
/// `threads` threads: of the FMA peak ("peak") for compute-bound cases, of
/// the read bandwidth of a working set that large ("bw") for memory-bound
/// ones (flops / bytes below peak / bandwidth, or no flops at all).
std::string limit_fraction(const Case& c, double seconds, int threads, const MachineLimits& limits) {
  if (seconds <= 0) return "-";
  const double peak = limits.peak(threads), bandwidth = limits.bandwidth(c.bytes, threads);
  const bool memory_bound = c.bytes > 0 && (c.flops <= 0 || c.flops / c.bytes < peak / bandwidth);
  if (memory_bound) return format("%.0f%% bw", 100.0 * c.bytes / seconds / bandwidth);
  if (c.flops <= 0) return "-";
  return format("%.0f%% peak", 100.0 * c.flops / seconds / peak);
}

void print_build_and_limits(const MachineLimits& limits) {
  std::cout << "strata_bench built with " << compiler_description() << ", flags: " << build_flags() << "\n"
            << "instruction sets: " << instruction_sets() << "\n"
            << format("fp32 FMA peak (measured now): %.0f GFLOP/s on 1 thread, ", limits.peak_gflops[0])
            << format("%.0f on 2\n", limits.peak_gflops[1]) << "memory read bandwidth (measured now):";
  for (int s = 0; s < MachineLimits::kReadSizes; ++s) {
    std::cout << (s > 0 ? ";" : "") << format(" %.0f MB: ", MachineLimits::kReadMegabytes[s])
              << format("%.1f GB/s on 1 thread, ", limits.read_gbs[s][0]) << format("%.1f on 2", limits.read_gbs[s][1]);
  }
  std::cout << format("\nSTREAM triad 3 x 64 MB: %.1f GB/s on 1 thread, ", limits.triad_gbs[0])
            << format("%.1f on 2\n", limits.triad_gbs[1]) << std::endl;
}

void print_table(const std::vector<Case>& cases, const Settings& settings, const MachineLimits& limits) {
  const bool with_torch = libtorch_available();
  std::cout << "\n" << (with_torch ? "strata vs " : "strata alone; ") << libtorch_description() << "\n"
            << (with_torch ? "side by side: " : "") << settings.rounds << " interleaved rounds per row, samples of >= "
            << settings.sample_seconds * 1e3 << " ms"
            << (with_torch ? "; ratio = median over rounds of strata time / libtorch time" : "") << "\n\n";
  std::cout << "| case | threads | strata | GFLOP/s | libtorch | ratio | of limit strata / libtorch | goal | workspace "
               "strata / libtorch |\n"
            << "|---|---|---|---|---|---|---|---|---|\n";
  int met = 0, missed = 0;
  std::map<std::string, double> strata_seconds;  // "<name>/<threads>"
  for (const Case& c : cases) {
    std::string workspace;
    if (c.report_workspace) {
      set_threads(1);
      // Warm first: one-time allocations (oneDNN's primitive cache, thread pools) are not workspace.
      c.strata();
      if (with_torch) c.torch();
      workspace = format_mb(std::max<std::int64_t>(0, peak_heap_bytes(c.strata) - c.output_bytes));
      if (with_torch) workspace += " / " + format_mb(std::max<std::int64_t>(0, peak_heap_bytes(c.torch) - c.output_bytes));
    }
    for (int threads : kThreadCounts) {
      const Row row = compare(c, threads, settings);
      strata_seconds[c.name + "/" + std::to_string(threads)] = row.strata_s;
      std::string goal, verdict;
      if (with_torch && c.goal > 0 && threads == 1) {
        const bool ok = row.ratio <= c.goal;
        (ok ? met : missed) += 1;
        goal = format("<= %.2f", c.goal) + (ok ? " met" : " MISSED");
      }
      std::cout << "| " << c.what << " | " << threads << " | " << format_time(row.strata_s) << " | "
                << (c.flops > 0 ? format("%.1f", c.flops / row.strata_s * 1e-9)
                                : format("%.1f GB/s", c.bytes / row.strata_s * 1e-9))
                << " | "
                << (with_torch ? format_time(row.torch_s) : "-") << " | "
                << (with_torch ? format("%.2f", row.ratio) : "-") << " | "
                << limit_fraction(c, row.strata_s, threads, limits) << " / "
                << (with_torch ? limit_fraction(c, row.torch_s, threads, limits) : "-") << " | " << goal << " | "
                << workspace << " |"
                << std::endl;
    }
  }
  // PERF.md: the classic Conv1d should cost at most 1.1x strata's own Linear on the same data.
  for (const char* name : {"Conv1dClassic", "Conv1dClassicContiguous"}) {
    for (int threads : kThreadCounts) {
      const auto conv = strata_seconds.find(std::string(name) + "/" + std::to_string(threads));
      const auto linear = strata_seconds.find("LinearClassic/" + std::to_string(threads));
      if (conv == strata_seconds.end() || linear == strata_seconds.end()) continue;
      std::cout << "\nstrata Conv1d(8, 32, 1) / strata Linear(8, 32), "
                << (std::string(name) == "Conv1dClassic" ? "permuted view" : "contiguous input") << ", " << threads
                << " thread(s): " << format("%.2f", conv->second / linear->second) << " (goal <= 1.10)";
    }
  }
  std::cout << "\n";
  if (with_torch) std::cout << "\ngoals (1 thread): " << met << " met, " << missed << " missed\n";
}

Settings parse_own_flags(int& argc, char** argv) {
  Settings settings;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) { return arg.substr(flag.size()); };
    if (arg.rfind("--compare_rounds=", 0) == 0) {
      settings.rounds = std::max(1, std::atoi(value_of("--compare_rounds=").c_str()));
    } else if (arg.rfind("--compare_sample_ms=", 0) == 0) {
      settings.sample_seconds = std::max(0.0, std::atof(value_of("--compare_sample_ms=").c_str())) * 1e-3;
    } else if (arg == "--no_compare") {
      settings.compare = false;
    } else if (arg == "--compare_only") {
      settings.google_benchmark = false;
    } else {
      // Google Benchmark's filter also selects the side-by-side rows.
      if (arg.rfind("--benchmark_filter=", 0) == 0) settings.filter = value_of("--benchmark_filter=");
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return settings;
}

}  // namespace
}  // namespace strata_bench

int main(int argc, char** argv) {
  using namespace strata_bench;
  Settings settings = parse_own_flags(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const MachineLimits limits = measure_machine_limits();
  print_build_and_limits(limits);

  std::vector<Case> cases;
  add_linear_cases(cases);
  add_conv_cases(cases);
  add_arithmetic_cases(cases);
  add_activation_cases(cases);
  add_pool_bn_cases(cases);
  add_conv_transpose_cases(cases);
  add_io_cases(cases);

  add_model_cases(cases);

  const std::regex filter(settings.filter);
  std::vector<Case> selected;
  for (Case& c : cases) {
    if (std::regex_search("BM_" + c.name, filter)) selected.push_back(std::move(c));
  }

  if (settings.google_benchmark) {
    register_benchmarks(selected);
    benchmark::RunSpecifiedBenchmarks();
  }
  if (settings.compare) print_table(selected, settings, limits);
  benchmark::Shutdown();
  return 0;
}
