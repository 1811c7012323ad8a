#include "cotrain/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain {
namespace {

// Closes the descriptor and removes the temporary file unless the write completed.
struct TempFile {
  std::string path;
  int fd = -1;
  bool committed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed && !path.empty()) ::unlink(path.c_str());
  }
};

void write_all(int fd, const std::string& contents, const std::string& target) {
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: cannot write: {}", target, describe_errno(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string dir = parent_directory(path);
  if (!is_directory(dir)) fail("{}: cannot write: folder {} does not exist", path, dir);
  if (is_directory(path)) fail("{}: cannot write: it is a folder", path);

  TempFile temp;
  std::vector<char> pattern;
  std::string base = path + ".tmp.XXXXXX";
  pattern.assign(base.begin(), base.end());
  pattern.push_back('\0');
  temp.fd = ::mkstemp(pattern.data());
  if (temp.fd < 0) fail("{}: cannot create a temporary file next to it: {}", path, describe_errno(errno));
  temp.path = pattern.data();
  // mkstemp creates 0600; use the usual 0644 minus the umask like any other new file.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(temp.fd, 0666 & ~mask);

  write_all(temp.fd, contents, path);
  if (::fsync(temp.fd) != 0) fail("{}: cannot flush to disk: {}", path, describe_errno(errno));
  int fd = temp.fd;
  temp.fd = -1;
  if (::close(fd) != 0) fail("{}: cannot close: {}", path, describe_errno(errno));
  if (::rename(temp.path.c_str(), path.c_str()) != 0) fail("{}: cannot replace: {}", path, describe_errno(errno));
  temp.committed = true;
  fsync_directory(dir);
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
