// `cotrain pretrain`: trains a model with one task's objectives, writing
// checkpoints into a run folder.
#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>

#include <iostream>
#include <thread>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/tasks/mlm_task.h"
#include "cotrain/train/trainer.h"

namespace cotrain::app {
namespace {

struct PretrainOptions {
  ConfigOptions config;
  std::string task = "mlm";
  std::vector<std::string> data;
  std::string out;
  std::string init;
  std::string vocab;
  bool resume = false;
  int64_t stop_after = 0;
};

std::unique_ptr<train::TrainTask> make_mlm_task(Config& config, const PretrainOptions& o) {
  models::TextModel model;
  if (!o.init.empty()) {
    model = models::load_text_model(o.init);
    config.model = model.config;  // the folder's architecture wins over presets
  } else {
    if (config.data.vocab.empty())
      fail("pretrain --task mlm: give --init DIR (a Hugging Face folder) or a vocabulary with --vocab "
           "(train one with 'cotrain vocab')");
    model = models::new_text_model(config.model, config.data.vocab, config.data.lowercase);
    config.model = model.config;
  }
  if (config.data.max_length > config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0))
    fail("data.max_length ({}) exceeds what model.max_position_embeddings ({}) allows", config.data.max_length,
         config.model.max_position_embeddings);
  data::TextCorpusOptions corpus_options;
  corpus_options.max_tokens = config.data.max_length - 2;
  corpus_options.skip_bad_records = config.data.on_bad_record == "skip";
  corpus_options.threads = config.data.loader_threads;
  data::TextCorpus corpus = read_text_corpus(config.data.train, *model.tokenizer, corpus_options);
  log::info("corpus: {} sequences, {} tokens ({} lines read, {} truncated)", corpus.sequences.size(), corpus.tokens,
            corpus.lines_read, corpus.truncated_lines);
  return std::make_unique<tasks::MlmTask>(config, std::move(model), std::move(corpus));
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<PretrainOptions>();
  cmd.add_option("--task", o->task, "what to train: mlm")->check(CLI::IsMember({"mlm"}));
  add_config_options(cmd, o->config);
  cmd.add_option("--data", o->data, "training files (overrides data.train); mlm: text, one sequence per line");
  cmd.add_option("--out", o->out, "run folder for checkpoints, metrics.jsonl and config.yaml");
  cmd.add_option("--init", o->init, "start from this Hugging Face folder or cotrain checkpoint");
  cmd.add_option("--vocab", o->vocab, "vocabulary for a model trained from scratch (overrides data.vocab)");
  cmd.add_flag("--resume", o->resume, "continue the run in --out from its latest checkpoint, exactly");
  cmd.add_option("--stop-after", o->stop_after, "stop with a checkpoint after this many updates (then --resume)");
  cmd.footer(
      "Examples:\n"
      "  cotrain pretrain --task mlm --config configs/mlm-tiny.yaml --data corpus.txt --vocab vocab.txt --out runs/x\n"
      "  cotrain pretrain --task mlm --init bert-folder --data corpus.txt --out runs/y --set optim.lr=5e-5\n"
      "  cotrain pretrain --out runs/x --resume --config configs/mlm-tiny.yaml ...   (same arguments + --resume)\n"
      "Ctrl-C (or SIGTERM) writes a checkpoint and exits; --resume continues exactly where it stopped.\n"
      "Config keys: 'cotrain config --keys'.");
  return [o] {
    ConfigOrigins origins;
    Config config = resolve_config(o->config, Config{}, &origins);
    if (!o->data.empty()) config.data.train = o->data;
    if (!o->vocab.empty()) config.data.vocab = o->vocab;
    if (o->config.dump) {
      std::cout << dump_config_yaml(config);
      return 0;
    }
    if (o->out.empty()) fail("pretrain: --out RUN_FOLDER is required");
    if (config.data.train.empty()) fail("pretrain: no training data (--data FILE or data.train in a config)");
    apply_thread_count(config.trainer.threads);
    std::unique_ptr<train::TrainTask> task = make_mlm_task(config, *o);
    validate_config(config, origins);
    train::TrainerOptions options{o->out, o->resume, o->stop_after};
    train::Trainer trainer(config, *task, options);
    train::TrainResult result = trainer.run();
    std::cout << result.checkpoint << "\n";
    return 0;
  };
}

Registration reg("pretrain", "train a model: masked language modelling (mlm)", setup);

}  // namespace
}  // namespace cotrain::app
