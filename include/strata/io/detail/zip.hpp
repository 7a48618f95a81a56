#pragma once
/// \file
/// A reader for the zip archives torch.save writes (torch >= 1.6): the
/// central directory (zip64 included, so archives and records beyond 4 GB
/// read), each record's local header, and the byte range of its data in the
/// mapped file. Records are read in place: nothing is copied or inflated.
///
/// Archives are untrusted input. Every offset and length is checked against
/// the file and against each other before it is used; an encrypted or
/// multi-disk archive, overlapping or duplicate records are a strata::Error
/// naming the file. Compressed records are listed with their method, for the
/// caller to refuse (torch.save never writes one). CRC-32 values are not
/// verified, as torch does not verify them.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"

namespace strata {
namespace detail {

/// One record of a zip archive: its name and where its bytes lie in the file.
struct ZipRecord {
  std::string name;
  std::uint64_t offset = 0;  // file offset of the first data byte
  std::uint64_t size = 0;    // bytes in the file (compressed, unless method is 0)
  std::uint64_t method = 0;  // 0: stored (torch.save's), 8: deflate, ...
};

/// A name from a file, quoted for a message: printable ASCII kept, every
/// other byte as \xNN, cut after `limit` characters.
inline std::string quoted_bytes(const std::string& bytes, std::size_t limit = 80) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == limit) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "\"";
}

/// Parses the central directory of a zip archive held in [data, data + size).
/// `who` and `path` name the caller and the file in messages.
class ZipReader {
 public:
  ZipReader(const unsigned char* data, std::uint64_t size, const char* who, const std::string& path)
      : data_(data), size_(size), who_(who), path_(path) {
    read_directory();
  }

  /// Every record (directories excluded), in central-directory order.
  const std::vector<ZipRecord>& records() const { return records_; }

 private:
  static constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50,
                                 kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;

  template <typename... Args>
  [[noreturn]] void fail(Args&&... reason) const {
    file_error(who_, path_, std::forward<Args>(reason)...);
  }
  std::uint64_t u16(std::uint64_t at) const { return load_uint<std::uint16_t, false>(data_ + at); }
  std::uint64_t u32(std::uint64_t at) const { return load_uint<std::uint32_t, false>(data_ + at); }
  std::uint64_t u64(std::uint64_t at) const { return load_uint<std::uint64_t, false>(data_ + at); }
  /// Whether [at, at + n) lies inside [0, end).
  static bool fits(std::uint64_t at, std::uint64_t n, std::uint64_t end) { return at <= end && n <= end - at; }

  void read_directory() {
    // The end-of-central-directory record: 22 bytes, then a comment that
    // must reach exactly to the end of the file (torch writes none).
    if (size_ < 22) fail("file is ", size_, " bytes, too short for a zip archive (truncated?)");
    std::uint64_t end = size_;  // where the EOCD record starts, once found
    const std::uint64_t lowest = size_ - 22 > 0xffff ? size_ - 22 - 0xffff : 0;
    for (std::uint64_t at = size_ - 22 + 1; at-- > lowest;) {
      if (u32(at) == kEndSig && u16(at + 20) == size_ - 22 - at) {
        end = at;
        break;
      }
    }
    if (end == size_)
      fail("no zip end-of-central-directory record at the end of the file (truncated, or not a torch.save file?)");
    if (u16(end + 4) != 0 || u16(end + 6) != 0) fail("multi-disk (split) zip archives are not supported");
    std::uint64_t count = u16(end + 10), dir_size = u32(end + 12), dir_offset = u32(end + 16);
    if (u16(end + 8) != count) fail("zip directory counts disagree (", u16(end + 8), " and ", count, " records)");
    std::uint64_t dir_end = end;  // the directory must end where the end records begin

    // zip64: a locator just before the EOCD points to the zip64 EOCD, whose
    // 64-bit fields replace the saturated 32-bit ones.
    if (end >= 20 && u32(end - 20) == kLocator64Sig) {
      const std::uint64_t locator = end - 20;
      if (u32(locator + 4) != 0 || u32(locator + 16) != 1) fail("multi-disk (split) zip archives are not supported");
      const std::uint64_t at = u64(locator + 8);
      if (!fits(at, 56, locator) || u32(at) != kEnd64Sig)
        fail("the zip64 end-of-central-directory locator points to offset ", at,
             ", where there is no zip64 record (truncated or corrupt archive)");
      if (u64(at + 4) != locator - at - 12)
        fail("the zip64 end-of-central-directory record has a bad size (", u64(at + 4), ")");
      if (u32(at + 16) != 0 || u32(at + 20) != 0) fail("multi-disk (split) zip archives are not supported");
      const std::uint64_t count64 = u64(at + 32), size64 = u64(at + 40), offset64 = u64(at + 48);
      if (u64(at + 24) != count64)
        fail("zip64 directory counts disagree (", u64(at + 24), " and ", count64, " records)");
      if ((count != 0xffff && count != count64) || (dir_size != 0xffffffff && dir_size != size64) ||
          (dir_offset != 0xffffffff && dir_offset != offset64))
        fail("the zip and zip64 end-of-central-directory records disagree");
      count = count64;
      dir_size = size64;
      dir_offset = offset64;
      dir_end = at;
    } else if (count == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff) {
      fail("the zip end-of-central-directory record needs a zip64 record, and there is none (truncated?)");
    }
    if (!fits(dir_offset, dir_size, dir_end) || dir_offset + dir_size != dir_end)
      fail("the zip central directory [", dir_offset, ", +", dir_size, ") does not end where the end record begins (",
           dir_end, "; truncated or corrupt archive)");
    if (count > dir_size / 46)
      fail("the zip central directory claims ", count, " records in ", dir_size, " bytes (corrupt archive)");

    records_.reserve(static_cast<std::size_t>(count));
    std::set<std::string> names;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;  // [header, data end) of each record
    std::uint64_t at = dir_offset;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (!fits(at, 46, dir_end) || u32(at) != kCentralSig)
        fail("zip central directory entry ", i, " at offset ", at, " is malformed (corrupt archive)");
      const std::uint64_t flags = u16(at + 8), method = u16(at + 10), name_len = u16(at + 28), extra_len = u16(at + 30),
                          comment_len = u16(at + 32);
      std::uint64_t packed = u32(at + 20), unpacked = u32(at + 24), local = u32(at + 42);
      std::uint64_t disk = u16(at + 34);
      if (!fits(at + 46, name_len + extra_len + comment_len, dir_end))
        fail("zip central directory entry ", i, " runs past the directory (corrupt archive)");
      ZipRecord record;
      record.name.assign(reinterpret_cast<const char*>(data_ + at + 46), static_cast<std::size_t>(name_len));
      read_zip64_extra(at + 46 + name_len, extra_len, record.name, unpacked, packed, local, disk);
      at += 46 + name_len + extra_len + comment_len;

      const std::string shown = quoted_bytes(record.name);
      if (disk != 0) fail("multi-disk (split) zip archives are not supported");
      if (flags & 1) fail("zip entry ", shown, " is encrypted");
      if (method == 0 && packed != unpacked)
        fail("zip entry ", shown, " is stored uncompressed but its sizes differ (", packed, " and ", unpacked, ")");
      if (!names.insert(record.name).second) fail("zip archive has two entries named ", shown);

      // The local header repeats the name; its own lengths place the data.
      if (!fits(local, 30, dir_offset) || u32(local) != kLocalSig)
        fail("zip entry ", shown, ": no local header at offset ", local, " (corrupt archive)");
      const std::uint64_t local_name = u16(local + 26), local_extra = u16(local + 28);
      if (!fits(local + 30, local_name + local_extra, dir_offset) || local_name != name_len ||
          std::memcmp(data_ + local + 30, record.name.data(), static_cast<std::size_t>(name_len)) != 0)
        fail("zip entry ", shown, ": its local header does not match the central directory (corrupt archive)");
      if (u16(local + 8) != method) fail("zip entry ", shown, ": local and central compression methods differ");
      record.offset = local + 30 + local_name + local_extra;
      record.size = packed;
      record.method = method;
      if (!fits(record.offset, record.size, dir_offset))
        fail("zip entry ", shown, " of ", packed, " bytes at offset ", record.offset,
             " runs past the archive's data (truncated or corrupt archive)");
      spans.emplace_back(local, record.offset + record.size);
      const bool directory = !record.name.empty() && record.name.back() == '/' && record.size == 0;
      if (!directory) records_.push_back(std::move(record));
    }
    if (at != dir_end) fail("the zip central directory has ", dir_end - at, " bytes after its last entry");
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) {
      if (spans[i].first < spans[i - 1].second)
        fail("zip entries overlap at offset ", spans[i].first, " (corrupt or crafted archive)");
    }
  }

  /// Reads the zip64 extended-information field (id 1) of a central entry:
  /// in order, whichever of the sizes, the local offset and the disk number
  /// are saturated in the entry itself. Other extra fields are skipped.
  void read_zip64_extra(std::uint64_t at, std::uint64_t length, const std::string& name, std::uint64_t& unpacked,
                        std::uint64_t& packed, std::uint64_t& local, std::uint64_t& disk) const {
    const std::uint64_t end = at + length;
    bool seen = false;
    while (end - at >= 4) {
      const std::uint64_t id = u16(at), n = u16(at + 2);
      if (n > end - at - 4) fail("zip entry ", quoted_bytes(name), " has a malformed extra field");
      if (id == 1) {
        if (seen) fail("zip entry ", quoted_bytes(name), " has two zip64 extra fields");
        seen = true;
        std::uint64_t p = at + 4;
        const std::uint64_t q = p + n;
        for (std::uint64_t* field : {&unpacked, &packed, &local}) {
          if (*field != 0xffffffff) continue;
          if (q - p < 8) fail("zip entry ", quoted_bytes(name), ": its zip64 extra field is too short");
          *field = u64(p);
          p += 8;
        }
        if (disk == 0xffff) {
          if (q - p < 4) fail("zip entry ", quoted_bytes(name), ": its zip64 extra field is too short");
          disk = u32(p);
        }
      }
      at += 4 + n;
    }
    if (at != end) fail("zip entry ", quoted_bytes(name), " has a malformed extra field");
    if (unpacked == 0xffffffff || packed == 0xffffffff || local == 0xffffffff)
      fail("zip entry ", quoted_bytes(name), " needs a zip64 extra field, and has none");
  }

  const unsigned char* data_;
  std::uint64_t size_;
  const char* who_;
  const std::string& path_;
  std::vector<ZipRecord> records_;
};

}  // namespace detail
}  // namespace strata
