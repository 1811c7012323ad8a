// Checkpoint folders of a run:
//   RUN/config.yaml                the resolved config
//   RUN/metrics.jsonl              one JSON record per display period
//   RUN/checkpoints/update-NNNNNNN/
//       model.safetensors, config.json, vocabulary   (a Hugging Face folder)
//       config.yaml                                   (the resolved cotrain config)
//       optimizer.safetensors                         (AdamW moments, RNG state)
//       progress.json                                 (update, data position, RNG)
//       checksums.sha256                              (SHA-256 of every file above)
//   RUN/latest                     names the newest complete checkpoint
// A checkpoint is written into a temporary folder, checksummed and renamed into
// place, and only then does `latest` (itself replaced atomically) point at it: a
// crash at any moment leaves the previous checkpoint intact and named. --resume
// checks the checksums and falls back to an older checkpoint when the newest is
// damaged.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cotrain::train {

std::string checkpoint_name(int64_t update);

// Writes a checkpoint: `fill(dir)` writes the files into a fresh temporary folder,
// which then becomes RUN/checkpoints/update-N and RUN/latest. Keeps the newest
// `keep` checkpoints. Returns the checkpoint's folder.
std::string write_checkpoint(const std::string& run_dir, int64_t update, int64_t keep,
                             const std::function<void(const std::string& dir)>& fill);

// The newest complete checkpoint of a run folder, if any.
std::optional<std::string> latest_checkpoint(const std::string& run_dir);

// The checkpoint to resume from: the one `latest` names if its files match their
// checksums, else the newest older checkpoint that does, with a warning naming what
// was wrong. Nothing when the run folder has no checkpoint at all; a cotrain::Error
// when it has some but none is intact.
std::optional<std::string> resumable_checkpoint(const std::string& run_dir);

// Fails before training when `run_dir`'s file system has less than `bytes` free
// (a checkpoint is written beside the previous one, so pass about twice its size).
void check_free_space(const std::string& run_dir, uint64_t bytes);

// Test hook: with COTRAIN_TEST_KILL_AT=POINT[:N] in the environment, the process
// kills itself with SIGKILL the Nth time (default 1) it reaches POINT. Points:
// "checkpoint-write" (files written into the temporary folder, not yet checksummed
// or renamed) and "checkpoint-publish" (folder in place, `latest` not yet updated).
void test_kill_point(const char* point);

// Resolves what a user passes as --model: a Hugging Face folder or checkpoint
// (has config.json), or a run folder (uses its latest checkpoint).
std::string resolve_model_dir(const std::string& path);

}  // namespace cotrain::train
