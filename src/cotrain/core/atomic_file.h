// Whole-file reads and crash-safe writes. A file written with write_file_atomically
// is either the old version or the complete new one, never a torn mix: the data
// goes to a temporary file in the same folder, is flushed, and is renamed over
// the target (rename is atomic within one file system), then the folder is flushed.
#pragma once
#include <cstddef>
#include <string>

namespace cotrain {

// Writes a file in pieces, atomically: nothing appears at `path` until commit();
// destroying the writer without commit() removes the temporary file. For large files
// (model weights) that should not be built in memory first.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);  // creates the temporary file
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const char* data, size_t size);
  void write(const std::string& data) { write(data.data(), data.size()); }
  // Flushes, renames over `path` and flushes the folder.
  void commit();

 private:
  std::string path_, temp_path_, dir_;
  int fd_ = -1;
  bool committed_ = false;
};

// Replaces `path` with `contents`. Errors (full disk, no permission, missing folder)
// are cotrain::Error naming `path`; the temporary file is removed on failure.
void write_file_atomically(const std::string& path, const std::string& contents);

// The whole file as bytes. A missing, unreadable or non-regular file is a
// cotrain::Error naming `path`.
std::string read_whole_file(const std::string& path);

}  // namespace cotrain
