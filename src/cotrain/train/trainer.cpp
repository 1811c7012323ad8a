#include "cotrain/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/dist/grad_buckets.h"
#include "cotrain/dist/process_group.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/data_parallel.h"
#include "cotrain/train/progress_display.h"
#include "cotrain/train/schedule.h"

namespace cotrain::train {
namespace {

std::atomic<int> stop_signal{0};
void on_stop_signal(int sig) { stop_signal = sig; }

// SIGINT/SIGTERM only set a flag: the loop finishes the update in flight, writes a
// checkpoint and returns. A second signal falls through to the default action.
struct StopSignalScope {
  struct sigaction old_int {}, old_term {};
  StopSignalScope() {
    stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~StopSignalScope() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

at::Tensor torch_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_torch_rng_state(const at::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// Several processes: the values every rank must agree on, summed over ranks.
std::vector<double> sum_over_ranks(std::vector<double> values) {
  if (!dist::world().distributed()) return values;
  at::Tensor t = at::tensor(values, at::kDouble);
  dist::world().all_reduce_sum(t);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

}  // namespace

Rng initial_data_rng(const TrainerConfig& trainer) {
  return Rng(Rng::derive(static_cast<uint64_t>(trainer.seed), 0x747261696e));
}

Trainer::Trainer(Config config, TrainTask& task, TrainerOptions options)
    : config_(std::move(config)), task_(task), options_(std::move(options)),
      rng_(initial_data_rng(config_.trainer)), guard_(config_.recovery) {
  optimizer_ = std::make_unique<AdamW>(task_.parameters(), config_.optim);
  dist::World& world = dist::world();
  if (world.distributed()) {
    auto* parallel = dynamic_cast<DataParallelTask*>(&task_);
    if (!parallel)
      fail("task {} does not support several processes yet (supported: mlm, erica, unimo, vilbert; run it in one process)", task_.name());
    parallel->set_data_shard(world.rank(), world.size());
    std::vector<at::Tensor> params;
    for (const auto& p : optimizer_->parameters()) params.push_back(p.param);
    if (!(options_.bucket_mb > 0)) fail("--bucket-mb must be positive (got {})", options_.bucket_mb);
    buckets_ = std::make_unique<dist::GradientBuckets>(params, static_cast<int64_t>(options_.bucket_mb * 1e6));
  }
}

Trainer::~Trainer() = default;

bool Trainer::writes_files() const { return dist::world().rank() == 0; }

void Trainer::save(int64_t update, double elapsed) {
  if (!writes_files()) {
    // Rank 0 writes; the others wait for it (a rollback may load this checkpoint).
    last_checkpoint_ = join_path(join_path(options_.run_dir, "checkpoints"), checkpoint_name(update));
    dist::world().barrier();
    return;
  }
  last_checkpoint_ = write_checkpoint(options_.run_dir, update, config_.trainer.keep_checkpoints,
                                      [&](const std::string& dir) {
    task_.save_model(dir);
    write_file_atomically(join_path(dir, "config.yaml"), dump_config_yaml(config_));
    io::TensorMap state = optimizer_->state();
    state["__torch_rng_state__"] = torch_rng_state();
    io::save_safetensors(join_path(dir, "optimizer.safetensors"), state);
    nlohmann::json progress = {
        {"update", update},          {"samples", samples_},   {"optimizer_steps", optimizer_->step_count()},
        {"elapsed_seconds", elapsed}, {"rng", rng_.state()},   {"data", task_.data_state()},
        {"task", task_.name()},          {"recovery", guard_.state()},
        {"period", {{"sums", period_.sums}, {"grad_norm", period_.grad_norm}, {"updates", period_.updates},
                    {"samples", period_.samples}, {"tokens", period_.tokens}}},
    };
    write_file_atomically(join_path(dir, "progress.json"), progress.dump(2) + "\n");
  });
  dist::world().barrier();
}

void Trainer::restore() {
  auto latest = resumable_checkpoint(options_.run_dir);
  if (!latest) fail("{}: --resume given, but the run folder has no checkpoint", options_.run_dir);
  load_checkpoint(*latest);
  log::info("resuming from {} (update {})", *latest, update_);
}

void Trainer::roll_back(const std::string& why, const std::string& metrics_path) {
  const int64_t bad = update_ + 1;
  const int64_t allowed = config_.recovery.max_rollbacks;
  if (last_checkpoint_.empty() || !guard_.begin_rollback(bad))
    fail("training diverged at update {}: {} ({}; lower optim.lr or check the data)", bad, why,
         last_checkpoint_.empty() ? "no checkpoint yet to roll back to"
                                  : fmt::format("recovery.max_rollbacks {} reached", allowed));
  load_checkpoint(last_checkpoint_);
  if (!writes_files()) return;
  log::warn("training diverged at update {}: {}: rolled back to {} (update {}), that update's batch will be skipped "
            "(rollback {} of at most {})", bad, why, last_checkpoint_, update_, guard_.rollbacks(), allowed);
  keep_metrics_through(metrics_path, update_);
  std::ofstream(metrics_path, std::ios::app)
      << nlohmann::json{{"event", "rollback"}, {"update", bad}, {"to_update", update_}, {"reason", why}}.dump() << "\n";
}

void Trainer::load_checkpoint(const std::string& dir) {
  nlohmann::json progress;
  try {
    progress = nlohmann::json::parse(read_whole_file(join_path(dir, "progress.json")));
    task_.load_model(dir);
    io::TensorMap state = io::load_safetensors(join_path(dir, "optimizer.safetensors")).tensors;
    auto rng_state = state.find("__torch_rng_state__");
    if (rng_state == state.end()) fail("{}: optimizer.safetensors lacks the RNG state", dir);
    set_torch_rng_state(rng_state->second);
    optimizer_->load_state(state, progress.at("optimizer_steps").get<int64_t>());
    update_ = progress.at("update").get<int64_t>();
    samples_ = progress.at("samples").get<int64_t>();
    elapsed_before_ = progress.at("elapsed_seconds").get<double>();
    rng_.set_state(progress.at("rng").get<std::string>());
    task_.restore_data_state(progress.at("data"));
    const auto& period = progress.at("period");
    period_.reset();
    period_.sums = period.at("sums").get<std::map<std::string, double>>();
    period_.grad_norm = period.at("grad_norm").get<double>();
    period_.updates = period.at("updates").get<int64_t>();
    period_.samples = period.at("samples").get<int64_t>();
    period_.tokens = period.at("tokens").get<int64_t>();
    guard_.restore_state(progress.contains("recovery") ? progress.at("recovery") : nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    fail("{}/progress.json: malformed: {}", dir, e.what());
  }
  last_checkpoint_ = dir;
}

void Trainer::start_run() {
  dist::World& world = dist::world();
  // [started, update resumed from]: rank 0's outcome, broadcast so that the other
  // ranks stop with a clear message rather than wait for a rank 0 that has failed.
  at::Tensor outcome = at::zeros({2}, at::kLong);
  if (writes_files()) {
    try {
      prepare_run_folder();
      outcome[0] = 1;
      outcome[1] = update_;
    } catch (...) {
      world.broadcast(outcome);
      throw;
    }
  }
  world.broadcast(outcome);
  if (!writes_files()) {
    if (outcome[0].item<int64_t>() != 1) fail("rank 0 could not start the run (its message says why)");
    if (options_.resume)
      load_checkpoint(join_path(join_path(options_.run_dir, "checkpoints"), checkpoint_name(outcome[1].item<int64_t>())));
  }
  if (!world.distributed()) return;
  // Everyone starts from rank 0's weights (and buffers), fresh or resumed.
  at::NoGradGuard no_grad;
  for (auto& p : task_.module().parameters()) world.broadcast(p);
  for (auto& b : task_.module().buffers()) world.broadcast(b);
}

void Trainer::prepare_run_folder() {
  ensure_directory(options_.run_dir);
  // Fail before any work if the run folder cannot be written.
  write_file_atomically(join_path(options_.run_dir, ".write-test"), "ok");
  std::filesystem::remove(join_path(options_.run_dir, ".write-test"));
  {
    // Room for a new checkpoint beside the last one: weights and two AdamW moments.
    uint64_t parameter_bytes = 0;
    for (const auto& p : optimizer_->parameters()) parameter_bytes += p.param.nbytes();
    check_free_space(options_.run_dir, 2 * 3 * parameter_bytes + (16u << 20));
  }

  if (options_.resume) {
    restore();
  } else if (latest_checkpoint(options_.run_dir)) {
    fail("{}: already holds a run; pass --resume to continue it, or choose another --out", options_.run_dir);
  }
  write_file_atomically(join_path(options_.run_dir, "config.yaml"), dump_config_yaml(config_));

  // metrics.jsonl: on resume, drop records past the checkpoint so that the file
  // reads as one uninterrupted run.
  const std::string metrics_path = join_path(options_.run_dir, "metrics.jsonl");
  {
    std::string kept;
    if (options_.resume && is_regular_file(metrics_path)) {
      std::ifstream in(metrics_path);
      std::string line;
      while (std::getline(in, line)) {
        auto record = nlohmann::json::parse(line, nullptr, false);
        if (!record.is_discarded() && record.value("update", int64_t{0}) <= update_) kept += line + "\n";
      }
    }
    write_file_atomically(metrics_path, kept);
  }
}

TrainResult Trainer::run() {
  const auto& t = config_.trainer;
  start_run();
  const bool rank0 = writes_files();
  dist::World& world = dist::world();
  const std::string metrics_path = join_path(options_.run_dir, "metrics.jsonl");
  std::ofstream metrics;
  if (rank0) metrics.open(metrics_path, std::ios::app);

  StopSignalScope signals;
  torch::nn::Module& model = task_.module();
  model.train();
  // Only rank 0 shows progress.
  std::optional<ProgressDisplay> display;
  if (rank0) display.emplace(t.max_updates, "update", t.display_every);
  PeriodMeter& period = period_;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return elapsed_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  TrainResult result;
  int64_t last_saved = options_.resume ? update_ : -1;
  const int64_t stop_at = options_.stop_after > 0 ? std::min(options_.stop_after, t.max_updates) : t.max_updates;

  while (update_ < stop_at) {
    const double lr = learning_rate(config_.schedule, config_.optim.lr, update_, t.max_updates);
    optimizer_->zero_grad();
    // Several processes: dropout draws per (seed, rank, update), so that ranks differ
    // and a resumed run draws what an uninterrupted one would (rank 0's checkpointed
    // generator state could not serve the other ranks).
    if (world.distributed())
      at::manual_seed(Rng::derive(static_cast<uint64_t>(t.seed), 0x64726f70 + static_cast<uint64_t>(world.rank()),
                                  static_cast<uint64_t>(update_ + 1)));
    // Batches that diverged before a rollback: drawn again and dropped.
    for (int64_t skip = guard_.skips_at(update_ + 1) * t.accumulate; skip > 0; --skip) task_.next_loss(rng_);
    std::map<std::string, double> values;
    int64_t update_samples = 0, update_tokens = 0;
    for (int64_t micro = 0; micro < t.accumulate; ++micro) {
      LossTerms losses = task_.next_loss(rng_);
      auto total = losses.terms.find("total");
      if (total == losses.terms.end()) fail("task {} returned no 'total' loss", task_.name());
      if (buckets_) buckets_->prepare(micro + 1 == t.accumulate);
      (total->second / static_cast<double>(t.accumulate)).backward();
      for (auto& [name, value] : losses.terms) values[name] += value.item<double>() / static_cast<double>(t.accumulate);
      update_samples += losses.samples;
      update_tokens += losses.tokens;
    }
    if (buckets_) {
      buckets_->finish();
      // Each rank's values are its shares: their sums are the global batch's values.
      std::vector<double> local{static_cast<double>(update_samples), static_cast<double>(update_tokens)};
      for (auto& [name, value] : values) local.push_back(value);
      const std::vector<double> global = sum_over_ranks(local);
      update_samples = static_cast<int64_t>(std::llround(global[0]));
      update_tokens = static_cast<int64_t>(std::llround(global[1]));
      size_t k = 2;
      for (auto& [name, value] : values) value = global[k++];
    }
    samples_ += update_samples;
    period.samples += update_samples;
    period.tokens += update_tokens;
    const double grad_norm = clip_grad_norm(optimizer_->parameters(), config_.optim.clip_norm);
    if (const std::string why = guard_.check(values["total"], grad_norm); !why.empty()) {
      if (rank0) metrics.close();
      roll_back(why, metrics_path);
      if (rank0) metrics.open(metrics_path, std::ios::app);
      continue;
    }
    guard_.accept(values["total"]);
    optimizer_->step(lr);
    ++update_;
    result.last_loss = values["total"];

    for (auto& [name, value] : values) period.sums[name] += value;
    period.grad_norm += grad_norm;
    ++period.updates;
    // Records fall on multiples of display_every (and the last update) only, never on
    // a stop, so that stopped-and-resumed runs log exactly what one run logs.
    if (update_ % t.display_every == 0 || update_ == t.max_updates) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - period.start).count();
      nlohmann::json record = {{"update", update_}, {"samples", samples_}, {"lr", lr},
                               {"grad_norm", period.grad_norm / period.updates},
                               {"samples_per_s", period.samples / std::max(seconds, 1e-9)},
                               {"tokens_per_s", period.tokens / std::max(seconds, 1e-9)},
                               {"elapsed_s", elapsed()}};
      std::string fields = fmt::format("loss {:.4f}", period.sums["total"] / period.updates);
      for (auto& [name, sum] : period.sums) {
        record[name == "total" ? std::string("loss") : "loss/" + name] = sum / period.updates;
        if (name != "total") fields += fmt::format(" {} {:.4f}", name, sum / period.updates);
      }
      fields += fmt::format("  lr {:.2e}  gnorm {:.2f}  {:.1f} samples/s", lr, period.grad_norm / period.updates,
                            period.samples / std::max(seconds, 1e-9));
      if (rank0) {
        metrics << record.dump() << "\n";
        metrics.flush();
        display->update(update_, fields);
      }
      period.reset();
    }

    const bool periodic = t.save_every > 0 && update_ % t.save_every == 0;
    bool out_of_time = t.max_minutes > 0 && elapsed() >= t.max_minutes * 60.0;
    bool stopping = stop_signal != 0;
    if (world.distributed()) {
      // A signal or the time limit on any rank stops every rank at this update.
      const std::vector<double> any = sum_over_ranks({stopping ? 1.0 : 0.0, out_of_time ? 1.0 : 0.0});
      stopping = any[0] > 0;
      out_of_time = any[1] > 0;
    }
    if (periodic || stopping || out_of_time) {
      save(update_, elapsed());
      last_saved = update_;
    }
    if (stopping || out_of_time) {
      if (display) display->finish(stopping ? fmt::format("stopped by signal at update {}: checkpoint {} (continue with --resume)",
                                               update_, last_checkpoint_)
                                 : fmt::format("time limit reached at update {}: checkpoint {}", update_,
                                               last_checkpoint_));
      result.interrupted = true;
      result.updates = update_;
      result.checkpoint = last_checkpoint_;
      return result;
    }
  }
  if (last_saved != update_) save(update_, elapsed());
  if (display) display->finish(fmt::format("done: {} updates in {}, checkpoint {}", update_,
                             ProgressDisplay::format_duration(elapsed()), last_checkpoint_));
  result.interrupted = update_ < t.max_updates;
  result.updates = update_;
  result.checkpoint = last_checkpoint_;
  return result;
}

}  // namespace cotrain::train
