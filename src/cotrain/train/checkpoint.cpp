#include "cotrain/train/checkpoint.h"

#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/train/checksum.h"

namespace fs = std::filesystem;

namespace cotrain::train {

std::string checkpoint_name(int64_t update) { return fmt::format("update-{:07}", update); }

void test_kill_point(const char* point) {
  const char* env = std::getenv("COTRAIN_TEST_KILL_AT");
  if (!env) return;
  const std::string spec = env;
  const std::string name = spec.substr(0, spec.find(':'));
  if (name != point) return;
  const int64_t nth = spec.find(':') == std::string::npos ? 1 : std::atoll(spec.c_str() + spec.find(':') + 1);
  static std::map<std::string, int64_t> reached;
  if (++reached[name] == nth) ::kill(::getpid(), SIGKILL);
}

namespace {

// Folders a killed writer left behind (".update-N.partial-PID", "update-N.old-PID"):
// removed when their process is gone, so that crashed runs do not pile them up.
void remove_stale_partials(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string n = entry.path().filename().string();
    size_t at = n.rfind(".partial-");
    if (at == std::string::npos) at = n.rfind(".old-");
    if (at == std::string::npos || !entry.is_directory()) continue;
    const pid_t pid = static_cast<pid_t>(std::atoll(n.c_str() + n.find('-', at) + 1));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

std::string write_checkpoint(const std::string& run_dir, int64_t update, int64_t keep,
                             const std::function<void(const std::string&)>& fill) {
  const std::string parent = join_path(run_dir, "checkpoints");
  ensure_directory(parent);
  remove_stale_partials(parent);
  const std::string name = checkpoint_name(update);
  const std::string final_dir = join_path(parent, name);
  const std::string temp_dir = join_path(parent, fmt::format(".{}.partial-{}", name, ::getpid()));
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  ensure_directory(temp_dir);
  try {
    fill(temp_dir);
    test_kill_point("checkpoint-write");
    write_checksum_manifest(temp_dir);
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
  test_kill_point("checkpoint-publish");
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

std::optional<std::string> resumable_checkpoint(const std::string& run_dir) {
  // Candidates, best first: what `latest` names, then every complete-looking
  // checkpoint folder from the newest down.
  std::vector<std::string> candidates;
  const std::string pointer = join_path(run_dir, "latest");
  if (is_regular_file(pointer)) {
    std::string relative = read_whole_file(pointer);
    while (!relative.empty() && (relative.back() == '\n' || relative.back() == ' ')) relative.pop_back();
    candidates.push_back(join_path(run_dir, relative));
  }
  const std::string parent = join_path(run_dir, "checkpoints");
  std::vector<std::string> folders;
  std::error_code ec;
  if (is_directory(parent)) {
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      const std::string n = entry.path().filename().string();
      if (entry.is_directory() && n.rfind("update-", 0) == 0 && n.find('.') == std::string::npos)
        folders.push_back(join_path(parent, n));
    }
  }
  std::sort(folders.rbegin(), folders.rend());
  for (const auto& f : folders)
    if (candidates.empty() || fs::path(f).lexically_normal() != fs::path(candidates[0]).lexically_normal())
      candidates.push_back(f);
  if (candidates.empty()) return std::nullopt;

  std::vector<std::string> problems;
  for (const auto& dir : candidates) {
    std::string problem;
    if (!is_directory(dir)) {
      problem = fmt::format("{}: missing", dir);
    } else if (!is_regular_file(join_path(dir, "progress.json"))) {
      problem = fmt::format("{}: incomplete (no progress.json)", dir);
    } else {
      try {
        problem = verify_checksum_manifest(dir);
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
    if (problem.empty()) {
      for (const auto& p : problems) log::warn("checkpoint damaged, not resumed from: {}", p);
      if (!problems.empty()) log::warn("resuming from the older checkpoint {} instead", dir);
      return dir;
    }
    problems.push_back(problem);
  }
  std::string all;
  for (const auto& p : problems) all += "\n  " + p;
  fail("{}: no intact checkpoint to resume from:{}", run_dir, all);
}

void check_free_space(const std::string& run_dir, uint64_t bytes) {
  struct statvfs st {};
  if (::statvfs(run_dir.c_str(), &st) != 0) return;  // cannot tell: the writes will say
  const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes < bytes)
    fail("{}: only {:.1f} MB free, but checkpoints need about {:.1f} MB: free some space or choose another --out",
         run_dir, free_bytes / 1e6, bytes / 1e6);
}

std::string resolve_model_dir(const std::string& path) {
  if (!path_exists(path)) fail("{}: no such model folder", path);
  if (is_regular_file(join_path(path, "config.json"))) return path;
  if (auto latest = latest_checkpoint(path)) return *latest;
  fail("{}: not a model folder (no config.json) and not a run folder (no 'latest' checkpoint)", path);
}

}  // namespace cotrain::train
