// Typed configuration, one struct per concern. Each struct lists its fields once in
// visit(); loading from YAML, --set overrides, --dump-config and validation are all
// generic over that list, so there are no string-keyed look-ups anywhere else.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cotrain {

struct ModelConfig {
  std::string type = "bert";  // bert | roberta
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;

  template <class F> void visit(F&& f) {
    f("type", type, "encoder family: bert or roberta");
    f("vocab_size", vocab_size, "vocabulary size (taken from the vocabulary when one is given)");
    f("hidden_size", hidden_size, "hidden width H");
    f("num_hidden_layers", num_hidden_layers, "number of Transformer layers");
    f("num_attention_heads", num_attention_heads, "attention heads (must divide hidden_size)");
    f("intermediate_size", intermediate_size, "feed-forward width");
    f("hidden_act", hidden_act, "feed-forward activation: gelu (erf)");
    f("hidden_dropout_prob", hidden_dropout_prob, "dropout after embeddings and sublayers");
    f("attention_probs_dropout_prob", attention_probs_dropout_prob, "dropout on attention probabilities");
    f("max_position_embeddings", max_position_embeddings, "learned positions (RoBERTa: tokens + 2)");
    f("type_vocab_size", type_vocab_size, "token type (segment) embeddings");
    f("initializer_range", initializer_range, "std of the N(0, std) weight init");
    f("layer_norm_eps", layer_norm_eps, "LayerNorm epsilon");
    f("pad_token_id", pad_token_id, "id of the padding token");
  }
};

struct DataConfig {
  std::vector<std::string> train;      // training files
  std::vector<std::string> valid;      // validation files
  std::string vocab;                   // vocab.txt, or a folder with vocab.json + merges.txt
  bool lowercase = true;               // WordPiece: uncased
  int64_t max_length = 128;            // tokens per sequence, specials included
  double mask_prob = 0.15;             // MLM: fraction of maskable tokens predicted
  std::string on_bad_record = "fail";  // fail | skip
  int64_t loader_threads = 1;

  template <class F> void visit(F&& f) {
    f("train", train, "training data files");
    f("valid", valid, "validation data files");
    f("vocab", vocab, "vocabulary: vocab.txt (WordPiece) or a folder with vocab.json + merges.txt");
    f("lowercase", lowercase, "lowercase and strip accents (uncased WordPiece)");
    f("max_length", max_length, "maximum tokens per sequence, specials included");
    f("mask_prob", mask_prob, "MLM: probability that a maskable token is predicted");
    f("on_bad_record", on_bad_record, "what to do with a malformed record: fail or skip");
    f("loader_threads", loader_threads, "threads preparing batches");
  }
};

struct OptimizerConfig {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // never applied to biases and LayerNorm
  double clip_norm = 1.0;      // 0 disables clipping

  template <class F> void visit(F&& f) {
    f("lr", lr, "peak learning rate");
    f("beta1", beta1, "AdamW beta1");
    f("beta2", beta2, "AdamW beta2");
    f("eps", eps, "AdamW epsilon");
    f("weight_decay", weight_decay, "decoupled weight decay (not on biases and LayerNorm)");
    f("clip_norm", clip_norm, "clip the global gradient norm to this (0: off)");
  }
};

struct ScheduleConfig {
  std::string kind = "linear";  // linear | constant
  int64_t warmup_updates = 0;
  double warmup_fraction = 0.0;  // used when warmup_updates is 0

  template <class F> void visit(F&& f) {
    f("kind", kind, "learning-rate schedule after warm-up: linear (decay to 0) or constant");
    f("warmup_updates", warmup_updates, "linear warm-up length in updates");
    f("warmup_fraction", warmup_fraction, "warm-up as a fraction of all updates (if warmup_updates is 0)");
  }
};

struct TrainerConfig {
  int64_t batch_size = 32;       // sequences per micro-batch
  int64_t accumulate = 1;        // micro-batches per update
  int64_t max_updates = 1000;    // stop after this many updates
  double max_minutes = 0;        // also stop after this long (0: no limit)
  int64_t save_every = 500;      // checkpoint period in updates (0: only at the end)
  int64_t keep_checkpoints = 2;  // checkpoints kept on disk
  int64_t display_every = 10;    // progress line period in updates
  int64_t seed = 1234;
  int64_t threads = 0;           // 0: all cores

  template <class F> void visit(F&& f) {
    f("batch_size", batch_size, "sequences per micro-batch");
    f("accumulate", accumulate, "micro-batches accumulated per update");
    f("max_updates", max_updates, "number of optimiser updates");
    f("max_minutes", max_minutes, "stop (with a checkpoint) after this many minutes; 0: no limit");
    f("save_every", save_every, "write a checkpoint every N updates; 0: only at the end");
    f("keep_checkpoints", keep_checkpoints, "how many checkpoints to keep");
    f("display_every", display_every, "progress line every N updates");
    f("seed", seed, "seed of every random choice (masking, shuffling, dropout, init)");
    f("threads", threads, "compute threads; 0: all cores");
  }
};

struct Config {
  ModelConfig model;
  DataConfig data;
  OptimizerConfig optim;
  ScheduleConfig schedule;
  TrainerConfig trainer;

  template <class F> void visit_sections(F&& f) {
    f("model", model);
    f("data", data);
    f("optim", optim);
    f("schedule", schedule);
    f("trainer", trainer);
  }
};

// Where each key's value came from ("configs/mlm-tiny.yaml", "--set", "default"),
// so that validation errors can name the file.
using ConfigOrigins = std::map<std::string, std::string>;

// Merges YAML files in order (later wins), then `section.key=value` overrides, into
// `config`. Unknown sections/keys, wrong types and malformed YAML are cotrain::Error
// naming the key and the file.
void apply_config_files(Config& config, const std::vector<std::string>& files, ConfigOrigins* origins = nullptr);
void apply_config_yaml(Config& config, const std::string& yaml_text, const std::string& origin,
                       ConfigOrigins* origins = nullptr);
void apply_config_overrides(Config& config, const std::vector<std::string>& assignments,
                            ConfigOrigins* origins = nullptr);

// Checks ranges and consistency; throws cotrain::Error naming the key and its origin.
void validate_config(const Config& config, const ConfigOrigins& origins = {});

// The resolved config as YAML (what --dump-config prints and checkpoints keep).
std::string dump_config_yaml(const Config& config);

// One line per key with its help text, for --help of commands that take configs.
std::string describe_config_keys();

}  // namespace cotrain
