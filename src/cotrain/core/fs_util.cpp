#include "cotrain/core/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "cotrain/core/error.h"

namespace cotrain {
namespace fs = std::filesystem;

bool path_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

void ensure_directory(const std::string& path) {
  if (path.empty() || is_directory(path)) return;
  if (path_exists(path)) fail("{}: exists and is not a folder", path);
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) fail("{}: cannot create folder: {}", path, describe_errno(ec.value()));
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string parent_directory(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

void fsync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open folder to flush it: {}", dir, describe_errno(errno));
  // Some file systems (and some containers' overlays) do not support fsync on a
  // folder; EINVAL there means there is nothing more we can do, not a failure.
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS) fail("{}: cannot flush folder: {}", dir, describe_errno(err));
}

std::string describe_errno(int err) {
  char buffer[256];
  // GNU strerror_r may return a static string instead of filling the buffer.
  const char* text = ::strerror_r(err, buffer, sizeof buffer);
  std::string out = text ? text : "unknown error";
  if (err == ENOSPC) out += " (the disk is full: free some space or write elsewhere)";
  if (err == EDQUOT) out += " (disk quota exceeded)";
  if (err == EACCES || err == EPERM) out += " (check the permissions of the file and its folder)";
  if (err == EROFS) out += " (the file system is read-only)";
  return out;
}

}  // namespace cotrain
