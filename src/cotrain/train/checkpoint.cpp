#include "cotrain/train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"

namespace fs = std::filesystem;

namespace cotrain::train {

std::string checkpoint_name(int64_t update) { return fmt::format("update-{:07}", update); }

std::string write_checkpoint(const std::string& run_dir, int64_t update, int64_t keep,
                             const std::function<void(const std::string&)>& fill) {
  const std::string parent = join_path(run_dir, "checkpoints");
  ensure_directory(parent);
  const std::string name = checkpoint_name(update);
  const std::string final_dir = join_path(parent, name);
  const std::string temp_dir = join_path(parent, fmt::format(".{}.partial-{}", name, ::getpid()));
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  ensure_directory(temp_dir);
  try {
    fill(temp_dir);
  } catch (...) {
    fs::remove_all(temp_dir, ec);
    throw;
  }
  fsync_directory(temp_dir);
  if (fs::exists(final_dir)) {
    // Re-saving an update that exists (a resumed run stopping at once): move the old
    // one aside first so that rename() cannot fail on a non-empty folder.
    const std::string old_dir = final_dir + fmt::format(".old-{}", ::getpid());
    fs::rename(final_dir, old_dir, ec);
    if (ec) fail("{}: cannot replace checkpoint: {}", final_dir, ec.message());
    fs::rename(temp_dir, final_dir, ec);
    fs::remove_all(old_dir);
  } else {
    fs::rename(temp_dir, final_dir, ec);
  }
  if (ec) fail("{}: cannot move checkpoint into place: {}", final_dir, ec.message());
  fsync_directory(parent);
  write_file_atomically(join_path(run_dir, "latest"), "checkpoints/" + name + "\n");

  // Prune: keep the newest `keep` complete checkpoints, and never the one just written.
  std::vector<std::string> existing;
  for (const auto& entry : fs::directory_iterator(parent)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind("update-", 0) == 0 && n.find('.') == std::string::npos) existing.push_back(n);
  }
  std::sort(existing.begin(), existing.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < existing.size(); ++i)
    if (existing[i] != name) fs::remove_all(join_path(parent, existing[i]), ec);
  return final_dir;
}

std::optional<std::string> latest_checkpoint(const std::string& run_dir) {
  const std::string pointer = join_path(run_dir, "latest");
  if (!is_regular_file(pointer)) return std::nullopt;
  std::string relative = read_whole_file(pointer);
  while (!relative.empty() && (relative.back() == '\n' || relative.back() == ' ')) relative.pop_back();
  const std::string dir = join_path(run_dir, relative);
  if (!is_regular_file(join_path(dir, "progress.json")))
    fail("{}: names {}, which is missing or incomplete", pointer, dir);
  return dir;
}

std::string resolve_model_dir(const std::string& path) {
  if (!path_exists(path)) fail("{}: no such model folder", path);
  if (is_regular_file(join_path(path, "config.json"))) return path;
  if (auto latest = latest_checkpoint(path)) return *latest;
  fail("{}: not a model folder (no config.json) and not a run folder (no 'latest' checkpoint)", path);
}

}  // namespace cotrain::train
