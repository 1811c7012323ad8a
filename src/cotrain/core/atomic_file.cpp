#include "cotrain/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain {
AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path), dir_(parent_directory(path)) {
  if (!is_directory(dir_)) fail("{}: cannot write: folder {} does not exist", path, dir_);
  if (is_directory(path)) fail("{}: cannot write: it is a folder", path);
  std::string pattern = path + ".tmp.XXXXXX";
  fd_ = ::mkstemp(&pattern[0]);
  if (fd_ < 0) fail("{}: cannot create a temporary file next to it: {}", path, describe_errno(errno));
  temp_path_ = pattern;
  // mkstemp creates 0600; give the usual 0666 minus the umask like any other new file.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const char* data, size_t size) {
  if (fd_ < 0) fail("{}: write after commit", path_);
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: cannot write: {}", path_, describe_errno(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) fail("{}: committed twice", path_);
  if (::fsync(fd_) != 0) fail("{}: cannot flush to disk: {}", path_, describe_errno(errno));
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("{}: cannot close: {}", path_, describe_errno(errno));
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail("{}: cannot replace: {}", path_, describe_errno(errno));
  committed_ = true;
  fsync_directory(dir_);
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  AtomicFileWriter writer(path);
  writer.write(contents);
  writer.commit();
}

std::string read_whole_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) fail("{}: no such file", path);
    fail("{}: cannot open: {}", path, describe_errno(errno));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("{}: cannot stat: {}", path, describe_errno(errno));
  if (S_ISDIR(st.st_mode)) fail("{}: is a folder, expected a file", path);
  // Read straight into the string, sized from fstat; keep going past that size in
  // case the file grew (or is not a regular file and reported no size).
  std::string out(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0, '\0');
  size_t filled = 0;
  for (;;) {
    if (filled == out.size()) out.resize(out.size() + (1 << 16));
    ssize_t n = ::read(fd, &out[filled], out.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: cannot read: {}", path, describe_errno(errno));
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  out.resize(filled);
  return out;
}

}  // namespace cotrain
