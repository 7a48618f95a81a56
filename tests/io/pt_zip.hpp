#pragma once
// Builds torch.save-shaped files for the load_pt tests and the pt fuzzer: a
// stored zip writer (optionally zip64 throughout, and with holes so that a
// record can lie beyond 4 GB in a sparse file), the fixed pickles of the
// legacy format's preamble, and a minimal state_dict pickle.

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace strata_test {

/// v as `n` little-endian bytes.
inline std::string pt_le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

/// CRC-32 (zip's polynomial), so that the archives are valid zip files.
inline std::uint32_t pt_crc32(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/// A stored zip archive, written as pieces at file offsets: a record may be
/// preceded by a hole (`gap` bytes never written), which a sparse file keeps
/// off the disk. With zip64, every size and offset goes through the zip64
/// extra field and the zip64 end records, as large torch.save files do.
class PtZipWriter {
 public:
  explicit PtZipWriter(bool zip64 = false) : zip64_(zip64) {}

  void add(const std::string& name, const std::string& data, std::uint64_t gap = 0) {
    offset_ += gap;
    Entry e{name, pt_crc32(data), data.size(), offset_};
    std::string local = pt_le(0x04034b50, 4) + pt_le(zip64_ ? 45 : 20, 2) + pt_le(0, 2) + pt_le(0, 2) + pt_le(0, 2) +
                        pt_le(0x21, 2) + pt_le(e.crc, 4) + pt_le(data.size(), 4) + pt_le(data.size(), 4) +
                        pt_le(name.size(), 2) + pt_le(0, 2) + name;
    pieces_.emplace_back(offset_, local + data);
    offset_ += local.size() + data.size();
    entries_.push_back(std::move(e));
  }

  /// The pieces of the finished archive: (file offset, bytes).
  std::vector<std::pair<std::uint64_t, std::string>> finish() {
    std::string dir;
    for (const Entry& e : entries_) {
      const bool big = zip64_ || e.size >= 0xffffffffu || e.offset >= 0xffffffffu;
      const std::string extra =
          big ? pt_le(1, 2) + pt_le(24, 2) + pt_le(e.size, 8) + pt_le(e.size, 8) + pt_le(e.offset, 8) : std::string();
      dir += pt_le(0x02014b50, 4) + pt_le(45, 2) + pt_le(big ? 45 : 20, 2) + pt_le(0, 2) + pt_le(0, 2) + pt_le(0, 2) +
             pt_le(0x21, 2) + pt_le(e.crc, 4) + pt_le(big ? 0xffffffffu : e.size, 4) +
             pt_le(big ? 0xffffffffu : e.size, 4) + pt_le(e.name.size(), 2) + pt_le(extra.size(), 2) + pt_le(0, 2) +
             pt_le(0, 2) + pt_le(0, 2) + pt_le(0, 4) + pt_le(big ? 0xffffffffu : e.offset, 4) + e.name + extra;
    }
    const std::uint64_t dir_offset = offset_, n = entries_.size();
    std::string tail = dir;
    const bool big = zip64_ || dir_offset >= 0xffffffffu;
    if (big) {
      const std::uint64_t end64 = dir_offset + dir.size();
      tail += pt_le(0x06064b50, 4) + pt_le(44, 8) + pt_le(45, 2) + pt_le(45, 2) + pt_le(0, 4) + pt_le(0, 4) +
              pt_le(n, 8) + pt_le(n, 8) + pt_le(dir.size(), 8) + pt_le(dir_offset, 8);
      tail += pt_le(0x07064b50, 4) + pt_le(0, 4) + pt_le(end64, 8) + pt_le(1, 4);
    }
    tail += pt_le(0x06054b50, 4) + pt_le(0, 2) + pt_le(0, 2) + pt_le(big ? 0xffff : n, 2) + pt_le(big ? 0xffff : n, 2) +
            pt_le(big ? 0xffffffffu : dir.size(), 4) + pt_le(big ? 0xffffffffu : dir_offset, 4) + pt_le(0, 2);
    pieces_.emplace_back(dir_offset, tail);
    return pieces_;
  }

  /// The finished archive as one string (for archives without holes).
  std::string bytes() {
    std::string out;
    for (const auto& [offset, piece] : finish()) {
      out.resize(static_cast<std::size_t>(offset), '\0');
      out += piece;
    }
    return out;
  }

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc;
    std::uint64_t size, offset;
  };
  bool zip64_;
  std::uint64_t offset_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::pair<std::uint64_t, std::string>> pieces_;
};

/// The three pickles that open a legacy-format file: torch's magic number,
/// protocol version 1001 and a sys_info dict (here empty: load_pt ignores it).
inline std::string pt_legacy_preamble() {
  return std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15) + "\x80\x02M\xe9\x03." +
         "\x80\x02}.";
}

/// The data.pkl of {"w": tensor} for a float32 tensor of `numel` elements in
/// storage "0": what torch.save writes for it, opcode for opcode.
inline std::string pt_one_tensor_pickle(std::uint64_t numel) {
  const auto str = [](const std::string& s) { return "X" + pt_le(s.size(), 4) + s; };
  const std::string n = numel < 256 ? "K" + pt_le(numel, 1) : "\x8a\x08" + pt_le(numel, 8);
  return "\x80\x02}" + str("w") + "ctorch._utils\n_rebuild_tensor_v2\n" + "((" + str("storage") +
         "ctorch\nFloatStorage\n" + str("0") + str("cpu") + n + "tQ" + "K" + pt_le(0, 1) + "(" + n + "t" + "(K" +
         pt_le(1, 1) + "t" + "\x89" + "ccollections\nOrderedDict\n)R" + "tRs.";
}

}  // namespace strata_test
