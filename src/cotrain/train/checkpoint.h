// Checkpoint folders of a run:
//   RUN/config.yaml                the resolved config
//   RUN/metrics.jsonl              one JSON record per display period
//   RUN/checkpoints/update-NNNNNNN/
//       model.safetensors, config.json, vocabulary   (a Hugging Face folder)
//       config.yaml                                   (the resolved cotrain config)
//       optimizer.safetensors                         (AdamW moments, RNG state)
//       progress.json                                 (update, data position, RNG)
//   RUN/latest                     names the newest complete checkpoint
// A checkpoint is written into a temporary folder and renamed into place, and only
// then does `latest` (itself replaced atomically) point at it: a crash at any moment
// leaves the previous checkpoint intact and named.
#pragma once
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

// Resolves what a user passes as --model: a Hugging Face folder or checkpoint
// (has config.json), or a run folder (uses its latest checkpoint).
std::string resolve_model_dir(const std::string& path);

}  // namespace cotrain::train
