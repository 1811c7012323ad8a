// Acceptance (issue 2): bad input -- a missing file, malformed YAML, an unknown
// config key, a corrupt safetensors file, a wrong tensor shape, non-UTF-8 text, and
// the other mistakes a user makes with `pretrain` and `embed` -- ends the program
// with exit code 2 and ONE line "cotrain: error: ..." that names the file (and key,
// line or tensor), never with a crash or a backtrace.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cli/cli_test_util.h"
#include "cotrain/io/safetensors.h"
#include "support/support.h"

using cotrain::cli_test::expect_clean_error;
using cotrain::cli_test::tiny_pretrain_args;
using cotrain::cli_test::write_tiny_data;
using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::run_reference;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

// A valid BERT folder from the twin (random weights) with a matching vocab.txt.
std::string make_bert_folder(const std::string& dir) {
  const std::string model = dir + "/model";
  const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\n.\n##s\n";
  run_reference("bert_twin.py", {"--out", model, "--vocab", "10", "--hidden", "16", "--heads", "2", "--layers", "1",
                                 "--seq", "13"});
  write_file(model + "/vocab.txt", vocab);
  return model;
}

std::string make_texts(const std::string& dir) {
  write_file(dir + "/texts.txt", "the cat sat.\n");
  return dir + "/texts.txt";
}

TEST(CliBadInput, ValidFolderAndTextsWork) {
  // The control for the cases below: the same folder and text, unspoilt, embed fine.
  const std::string dir = scratch_dir("bad-control");
  const std::string model = make_bert_folder(dir);
  auto r = run_cotrain({"embed", "--model", model, "--input", make_texts(dir), "--out", dir + "/out.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(dir + "/out.jsonl").find("\"embedding\""), std::string::npos);
}

TEST(CliBadInput, MissingDataFile) {
  const std::string dir = scratch_dir("bad-missing-data");
  auto data = write_tiny_data(dir);
  data.corpus = dir + "/no-such-corpus.txt";
  expect_clean_error(run_cotrain(tiny_pretrain_args(data, dir + "/run", 2)), {"no-such-corpus.txt"}, "pretrain --data");
}

TEST(CliBadInput, MissingEmbedInputAndModel) {
  const std::string dir = scratch_dir("bad-missing-input");
  const std::string model = make_bert_folder(dir);
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", dir + "/no-such-texts.txt"}),
                     {"no-such-texts.txt"}, "embed --input");
  expect_clean_error(run_cotrain({"embed", "--model", dir + "/no-such-model", "--input", make_texts(dir)}),
                     {"no-such-model"}, "embed --model");
}

TEST(CliBadInput, MissingConfigFile) {
  const std::string dir = scratch_dir("bad-missing-config");
  expect_clean_error(run_cotrain({"config", "--config", dir + "/no-such-config.yaml"}), {"no-such-config.yaml"},
                     "config --config");
}

TEST(CliBadInput, MalformedYaml) {
  const std::string dir = scratch_dir("bad-yaml");
  write_file(dir + "/broken.yaml", "model:\n  hidden_size: 64\n  num_hidden_layers: [1, 2\ntrainer:\n  seed: 3\n");
  expect_clean_error(run_cotrain({"config", "--config", dir + "/broken.yaml"}), {"broken.yaml", "line"},
                     "config --config");
  auto data = write_tiny_data(dir);
  auto args = tiny_pretrain_args(data, dir + "/run", 2);
  args.insert(args.end(), {"--config", dir + "/broken.yaml"});
  expect_clean_error(run_cotrain(args), {"broken.yaml"}, "pretrain --config");
}

TEST(CliBadInput, UnknownConfigKey) {
  const std::string dir = scratch_dir("bad-key");
  write_file(dir + "/typo.yaml", "model:\n  hiden_size: 64\n");
  expect_clean_error(run_cotrain({"config", "--config", dir + "/typo.yaml"}), {"typo.yaml", "hiden_size"},
                     "unknown key in a file");
  write_file(dir + "/section.yaml", "modle:\n  hidden_size: 64\n");
  expect_clean_error(run_cotrain({"config", "--config", dir + "/section.yaml"}), {"section.yaml", "modle"},
                     "unknown section in a file");
  expect_clean_error(run_cotrain({"config", "--set", "trainer.batchsize=4"}), {"trainer.batchsize"},
                     "unknown key in --set");
  write_file(dir + "/type.yaml", "trainer:\n  batch_size: many\n");
  expect_clean_error(run_cotrain({"config", "--config", dir + "/type.yaml"}), {"type.yaml", "batch_size"},
                     "value of the wrong type");
}

TEST(CliBadInput, CorruptSafetensorsInModelFolder) {
  const std::string dir = scratch_dir("bad-safetensors");
  const std::string model = make_bert_folder(dir);
  const std::string texts = make_texts(dir);
  const std::string good = read_file(model + "/model.safetensors");
  // Truncated: the header promises more data than the file holds.
  write_file(model + "/model.safetensors", good.substr(0, good.size() - 100));
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", texts}), {"model.safetensors"}, "truncated");
  // A header length far beyond the file.
  std::string huge = good;
  huge[5] = '\x7f';
  write_file(model + "/model.safetensors", huge);
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", texts}), {"model.safetensors"},
                     "header length");
  // Garbage inside the JSON header.
  std::string garbled = good;
  for (size_t i = 8; i < 40; ++i) garbled[i] = '#';
  write_file(model + "/model.safetensors", garbled);
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", texts}), {"model.safetensors"},
                     "garbled header");
  // Not a safetensors file at all.
  write_file(model + "/model.safetensors", "hello");
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", texts}), {"model.safetensors"}, "5 bytes");
  // Also as pretrain --init.
  auto data = write_tiny_data(dir);
  expect_clean_error(run_cotrain({"pretrain", "--init", model, "--data", data.corpus, "--out", dir + "/run"}),
                     {"model.safetensors"}, "pretrain --init");
}

TEST(CliBadInput, WrongTensorShapeInModelFolder) {
  const std::string dir = scratch_dir("bad-shape");
  const std::string model = make_bert_folder(dir);
  const std::string path = model + "/model.safetensors";
  const std::string name = "bert.encoder.layer.0.attention.self.query.weight";
  cotrain::io::TensorMap tensors = cotrain::io::load_safetensors(path).tensors;
  ASSERT_TRUE(tensors.count(name));
  for (auto& [n, t] : tensors) t = t.clone();  // detach from the file's mapping before rewriting it
  tensors[name] = at::zeros({16, 15});
  cotrain::io::save_safetensors(path, tensors, {{"format", "pt"}});
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", make_texts(dir)}),
                     {"model.safetensors", name, "16, 15"}, "embed");
}

TEST(CliBadInput, NonUtf8Text) {
  const std::string dir = scratch_dir("bad-utf8");
  const std::string model = make_bert_folder(dir);
  write_file(dir + "/latin1.txt", "the cat sat.\n\nthe caf\xe9 sat.\n");
  expect_clean_error(run_cotrain({"embed", "--model", model, "--input", dir + "/latin1.txt"}), {"latin1.txt:3"},
                     "embed --input");
  auto data = write_tiny_data(dir);
  std::string corpus = read_file(data.corpus);
  size_t pos = 0;
  for (int line = 1; line < 5; ++line) pos = corpus.find('\n', pos) + 1;
  corpus.insert(pos + 2, "\xc3\x28");  // an invalid two-byte sequence on line 5
  write_file(data.corpus, corpus);
  expect_clean_error(run_cotrain(tiny_pretrain_args(data, dir + "/run", 2)), {"corpus.txt:5"}, "pretrain --data");
}

TEST(CliBadInput, PytorchBinOnlyFolder) {
  const std::string dir = scratch_dir("bad-bin");
  const std::string model = make_bert_folder(dir);
  std::rename((model + "/model.safetensors").c_str(), (model + "/pytorch_model.bin").c_str());
  auto r = run_cotrain({"embed", "--model", model, "--input", make_texts(dir)});
  expect_clean_error(r, {"pytorch_model.bin", "safetensors"}, "embed");
}

TEST(CliBadInput, PretrainFromScratchWithoutVocab) {
  const std::string dir = scratch_dir("bad-no-vocab");
  auto args = tiny_pretrain_args(write_tiny_data(dir), dir + "/run", 2);
  auto v = std::find(args.begin(), args.end(), "--vocab");
  ASSERT_NE(v, args.end());
  args.erase(v, v + 2);
  expect_clean_error(run_cotrain(args), {"--vocab"}, "pretrain");
}

TEST(CliBadInput, ResumeWithoutCheckpoint) {
  const std::string dir = scratch_dir("bad-resume");
  auto args = tiny_pretrain_args(write_tiny_data(dir), dir + "/empty-run", 2);
  args.push_back("--resume");
  expect_clean_error(run_cotrain(args), {"empty-run", "checkpoint"}, "pretrain --resume");
}

TEST(CliBadInput, ExistingRunWithoutResume) {
  const std::string dir = scratch_dir("bad-existing-run");
  auto args = tiny_pretrain_args(write_tiny_data(dir), dir + "/run", 1);
  auto first = run_cotrain(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string latest = read_file(dir + "/run/latest");
  expect_clean_error(run_cotrain(args), {"run", "--resume"}, "second pretrain into the same folder");
  EXPECT_EQ(read_file(dir + "/run/latest"), latest);  // the first run is left alone
}

}  // namespace
