// Whole-file reads and crash-safe writes. A file written with write_file_atomically
// is either the old version or the complete new one, never a torn mix: the data
// goes to a temporary file in the same folder, is flushed, and is renamed over
// the target (rename is atomic within one file system), then the folder is flushed.
#pragma once
#include <string>

namespace cotrain {

// Replaces `path` with `contents`. Errors (full disk, no permission, missing folder)
// are cotrain::Error naming `path`; the temporary file is removed on failure.
void write_file_atomically(const std::string& path, const std::string& contents);

// The whole file as bytes. A missing, unreadable or non-regular file is a
// cotrain::Error naming `path`.
std::string read_whole_file(const std::string& path);

}  // namespace cotrain
