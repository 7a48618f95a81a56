#pragma once
/// \file
/// Reading and writing whole files for the weight loaders: a read-only memory
/// map of a file (POSIX mmap, or one read into memory where there is no mmap)
/// and a checked binary writer. Every failure is a strata::Error naming the
/// caller and the file.

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "strata/core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#define STRATA_IO_HAVE_MMAP 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#define STRATA_IO_HAVE_MMAP 0
#endif

namespace strata {
namespace detail {

/// "<who>: <path>: <reason...>", the shape of every loader message.
template <typename... Args>
[[noreturn]] void file_error(const char* who, const std::string& path, Args&&... reason) {
  throw Error(concat(who, ": ", path, ": ", std::forward<Args>(reason)...));
}

/// The bytes of a file, read-only, for as long as the object lives. The file
/// is memory-mapped, so a loader touches each byte once, straight from the
/// page cache, and never holds a second copy of a multi-GB file.
/// Example: `MappedFile file("model.safetensors", "load_safetensors"); file.size();`
/// Throws strata::Error when the file cannot be opened, is not a regular file,
/// or cannot be read.
class MappedFile {
 public:
  MappedFile(const std::string& path, const char* who) {
#if STRATA_IO_HAVE_MMAP
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) file_error(who, path, "cannot open (", std::strerror(errno), ")");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int saved = errno;
      ::close(fd);
      file_error(who, path, "cannot stat (", std::strerror(saved), ")");
    }
    if (!S_ISREG(info.st_mode)) {
      ::close(fd);
      file_error(who, path, "not a regular file");
    }
    size_ = static_cast<std::uint64_t>(info.st_size);
    if (size_ > 0) {
      void* map = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ, MAP_PRIVATE, fd, 0);
      if (map != MAP_FAILED) {
        map_ = map;
        data_ = static_cast<const unsigned char*>(map);
        ::madvise(map, static_cast<std::size_t>(size_), MADV_SEQUENTIAL);  // a hint; failure is harmless
      } else {
        // Some file systems refuse mmap: read the file once instead.
        read_all(fd, who, path);
      }
    }
    ::close(fd);
#else
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) file_error(who, path, "cannot open");
    const std::streamoff end = in.tellg();
    if (end < 0) file_error(who, path, "cannot determine the file size");
    size_ = static_cast<std::uint64_t>(end);
    buffer_.resize(static_cast<std::size_t>(size_));
    in.seekg(0);
    if (size_ > 0 && !in.read(reinterpret_cast<char*>(buffer_.data()), static_cast<std::streamsize>(size_)))
      file_error(who, path, "read error");
    data_ = buffer_.data();
#endif
  }
  ~MappedFile() {
#if STRATA_IO_HAVE_MMAP
    if (map_ != nullptr) ::munmap(map_, static_cast<std::size_t>(size_));
#endif
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  /// First byte (null for an empty file).
  const unsigned char* data() const { return data_; }
  /// File size in bytes.
  std::uint64_t size() const { return size_; }

 private:
#if STRATA_IO_HAVE_MMAP
  void read_all(int fd, const char* who, const std::string& path) {
    buffer_.resize(static_cast<std::size_t>(size_));
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ::ssize_t got = ::read(fd, buffer_.data() + done, buffer_.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        const int saved = errno;
        ::close(fd);
        file_error(who, path, "read error after ", done, " of ", size_, " bytes",
                   got < 0 ? concat(" (", std::strerror(saved), ")") : std::string());
      }
      done += static_cast<std::size_t>(got);
    }
    data_ = buffer_.data();
  }
  void* map_ = nullptr;
#endif
  const unsigned char* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::vector<unsigned char> buffer_;
};

/// A binary output file that throws strata::Error (naming `who` and the path)
/// when it cannot be opened or a write fails.
class FileWriter {
 public:
  FileWriter(const std::string& path, const char* who) : path_(path), who_(who) {
    out_.open(path, std::ios::binary | std::ios::trunc);
    if (!out_) file_error(who_, path_, "cannot open for writing (", std::strerror(errno), ")");
  }
  void write(const void* bytes, std::size_t count) {
    out_.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(count));
    if (!out_) file_error(who_, path_, "write error");
  }
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  /// Flushes and closes; call it so that a failed final flush is reported.
  void close() {
    out_.close();
    if (!out_) file_error(who_, path_, "write error while closing");
  }

 private:
  std::string path_;
  const char* who_;
  std::ofstream out_;
};

}  // namespace detail
}  // namespace strata
