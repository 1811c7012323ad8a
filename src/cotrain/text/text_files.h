// Reading and writing the small vocabulary files of the tokenizers; failures are
// cotrain::Error naming the path.
#pragma once
#include <string>

namespace cotrain::text {

std::string read_text_file(const std::string& path);
// Writes `contents` to `path`, creating the parent folders.
void write_text_file(const std::string& path, const std::string& contents);
bool is_folder(const std::string& path);
bool is_file(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace cotrain::text
