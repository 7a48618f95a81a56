// Weight-file loading: load_pt (torch.save's zip format, and its legacy
// format) beside load_safetensors, on the same weights: a state_dict of 20
// float32 tensors of [1024, 1024] (84 MB), written once per run into the
// temporary directory and removed at exit. The files stay in the page cache,
// so the rows measure parsing, validation and conversion, not the disk; the
// table's "GB/s" column is file bytes per second.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>
#include <strata/io/pt.hpp>
#include <strata/io/safetensors.hpp>

#include "bench_case.hpp"

namespace strata_bench {
namespace {

constexpr int kIoTensors = 20;
constexpr strata::index_t kIoRows = 1024, kIoCols = 1024;

std::string io_le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string io_str(const std::string& s) { return "X" + io_le(s.size(), 4) + s; }
std::string io_int(std::uint64_t v) { return "J" + io_le(v, 4); }

/// The object pickle torch.save writes for the state_dict (legacy: with the
/// sixth, view, item of each persistent id).
std::string io_pickle(bool legacy) {
  std::string p =
      "\x80\x02"
      "ccollections\nOrderedDict\n)R(";
  for (int i = 0; i < kIoTensors; ++i) {
    p += io_str("layers." + std::to_string(i) + ".weight") + "ctorch._utils\n_rebuild_tensor_v2\n((" +
         io_str("storage") + "ctorch\nFloatStorage\n" + io_str(std::to_string(i)) + io_str("cpu") +
         io_int(kIoRows * kIoCols) + (legacy ? "N" : "") + "tQ" + io_int(0) + "(" + io_int(kIoRows) + io_int(kIoCols) +
         "t(" + io_int(kIoCols) + io_int(1) +
         "t\x89"
         "ccollections\nOrderedDict\n)RtR";
  }
  return p + "u.";
}

/// A stored zip archive of (name, bytes), each record's data 64-byte aligned
/// as torch's writer aligns it.
std::string io_zip(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out, dir;
  for (const auto& [name, data] : records) {
    const std::uint64_t offset = out.size();
    const std::size_t pad = (64 - (offset + 30 + name.size() + 4) % 64) % 64;
    const std::string extra = io_le(0x4246, 2) + io_le(pad, 2) + std::string(pad, 'Z');  // torch's "FB" padding field
    const std::string fields = io_le(0, 2) + io_le(0, 2) + io_le(0, 2) + io_le(0x21, 2) + io_le(0, 4) +
                               io_le(data.size(), 4) + io_le(data.size(), 4) + io_le(name.size(), 2);
    out += io_le(0x04034b50, 4) + io_le(20, 2) + fields + io_le(extra.size(), 2) + name + extra + data;
    dir += io_le(0x02014b50, 4) + io_le(20, 2) + io_le(20, 2) + fields + io_le(0, 2) + io_le(0, 2) + io_le(0, 2) +
           io_le(0, 2) + io_le(0, 4) + io_le(offset, 4) + name;
  }
  const std::uint64_t dir_offset = out.size();
  return out + dir + io_le(0x06054b50, 4) + io_le(0, 4) + io_le(records.size(), 2) + io_le(records.size(), 2) +
         io_le(dir.size(), 4) + io_le(dir_offset, 4) + io_le(0, 2);
}

struct IoFiles {
  std::string dir, pt, legacy, safetensors;
  std::uint64_t pt_bytes = 0, legacy_bytes = 0, safetensors_bytes = 0;
};

void io_write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

const IoFiles& io_files() {
  static const IoFiles files = [] {
    IoFiles f;
    f.dir = (std::filesystem::temp_directory_path() / ("strata_bench_io_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(f.dir);
    std::atexit([] { std::filesystem::remove_all(io_files().dir); });
    f.pt = f.dir + "/model.pt";
    f.legacy = f.dir + "/model_legacy.pt";
    f.safetensors = f.dir + "/model.safetensors";
    strata::Generator gen(7);
    std::map<std::string, strata::Tensor<float>> sd;
    std::vector<std::pair<std::string, std::string>> records{{"model/data.pkl", io_pickle(false)}};
    // The legacy format: magic number, protocol version and sys_info pickles, the object pickle, the
    // storage keys, then each storage as an 8-byte element count and its elements.
    const std::string head = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15) +
                             "\x80\x02M\xe9\x03.\x80\x02}." + io_pickle(true);
    std::vector<std::string> storages;
    for (int i = 0; i < kIoTensors; ++i) {
      const auto t = strata::Tensor<float>::randn({kIoRows, kIoCols}, gen);
      sd.emplace("layers." + std::to_string(i) + ".weight", t);
      const std::string bytes(reinterpret_cast<const char*>(t.data()),
                              sizeof(float) * static_cast<std::size_t>(t.numel()));
      records.emplace_back("model/data/" + std::to_string(i), bytes);
      storages.push_back(io_le(static_cast<std::uint64_t>(t.numel()), 8) + bytes);
    }
    records.emplace_back("model/version", "3\n");
    // torch sorts the storage keys as strings: "0", "1", "10", ..., the data follows that order.
    std::vector<std::string> keys;
    for (int i = 0; i < kIoTensors; ++i) keys.push_back(std::to_string(i));
    std::sort(keys.begin(), keys.end());
    std::string key_list = "\x80\x02](", data;
    for (const std::string& key : keys) {
      key_list += io_str(key);
      data += storages[static_cast<std::size_t>(std::stoi(key))];
    }
    io_write(f.legacy, head + key_list + "e." + data);
    io_write(f.pt, io_zip(records));
    strata::io::save_safetensors(f.safetensors, sd);
    f.pt_bytes = std::filesystem::file_size(f.pt);
    f.legacy_bytes = std::filesystem::file_size(f.legacy);
    f.safetensors_bytes = std::filesystem::file_size(f.safetensors);
    return f;
  }();
  return files;
}

}  // namespace

void add_io_cases(std::vector<Case>& cases) {
  const IoFiles& f = io_files();
  const auto add = [&](const std::string& name, const std::string& what, std::uint64_t bytes, Runner run) {
    Case c;
    c.name = name;
    c.what = what;
    c.bytes = static_cast<double>(bytes);
    c.strata = std::move(run);
    cases.push_back(std::move(c));
  };
  add("LoadPt", "load_pt<float>, torch.save zip, 20 x [1024, 1024] float32", f.pt_bytes,
      [&f] { strata::io::load_pt<float>(f.pt); });
  add("LoadPtLegacy", "load_pt<float>, legacy format, same weights", f.legacy_bytes,
      [&f] { strata::io::load_pt<float>(f.legacy); });
  add("LoadSafetensors", "load_safetensors<float>, same weights", f.safetensors_bytes,
      [&f] { strata::io::load_safetensors<float>(f.safetensors); });
  add("LoadPtDouble", "load_pt<double>, torch.save zip, same weights", f.pt_bytes,
      [&f] { strata::io::load_pt<double>(f.pt); });
  add("LoadSafetensorsDouble", "load_safetensors<double>, same weights", f.safetensors_bytes,
      [&f] { strata::io::load_safetensors<double>(f.safetensors); });
}

}  // namespace strata_bench
