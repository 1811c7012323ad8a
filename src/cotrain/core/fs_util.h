// Small file-system helpers whose failures are cotrain::Error naming the path, so
// that callers never have to translate std::filesystem or errno codes themselves.
#pragma once
#include <string>

namespace cotrain {

bool path_exists(const std::string& path);
bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

// Creates `path` and its parents if needed; an existing non-folder is an error.
void ensure_directory(const std::string& path);

// `dir` + "/" + `name`, without doubling the separator.
std::string join_path(const std::string& dir, const std::string& name);
// The folder part of `path` ("." when there is none).
std::string parent_directory(const std::string& path);

// Flushes a folder's entries to disk, so that a rename inside it survives a crash.
void fsync_directory(const std::string& dir);

// strerror(err), thread-safe, with a hint for the errors users can act on.
std::string describe_errno(int err);

}  // namespace cotrain
