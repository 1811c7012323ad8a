// models::load_weights: tensors copied by name; missing, unexpected and mis-shaped
// tensors named in the report, and an Error in strict mode.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <functional>

#include "cotrain/core/error.h"
#include "cotrain/models/bert/bert.h"
#include "cotrain/models/weights.h"

using namespace cotrain;

namespace {
ModelConfig tiny() {
  ModelConfig c;
  c.vocab_size = 30;
  c.hidden_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 12;
  c.max_position_embeddings = 10;
  return c;
}

// Another model's weights, so that a load visibly changes the target.
io::TensorMap donor_weights() {
  torch::manual_seed(3);
  models::BertForMaskedLM donor(tiny());
  return models::weights_of(*donor);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(LoadWeights, CopiesEveryTensorByName) {
  io::TensorMap w = donor_weights();
  // Stored in another dtype (as F16/BF16 checkpoints are): converted on copy.
  w["cls.predictions.bias"] = w["cls.predictions.bias"].to(at::kDouble);
  torch::manual_seed(4);
  models::BertForMaskedLM model(tiny());
  auto report = models::load_weights(*model, w);
  EXPECT_TRUE(report.complete()) << report.describe();
  EXPECT_EQ(report.loaded.size(), model->named_parameters().size());
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), at::kFloat) << p.key();
    EXPECT_TRUE(at::equal(p.value(), w.at(p.key()).to(at::kFloat))) << p.key();
  }
}

TEST(LoadWeights, StrictNamesMissingUnexpectedAndMisshapedTensors) {
  io::TensorMap w = donor_weights();
  w.erase("bert.encoder.layer.0.attention.self.key.bias");
  w["bert.encoder.layer.0.output.dense.weight"] = at::zeros({8, 13});  // [H, I] is [8, 12]
  w["bert.encoder.layer.7.output.dense.weight"] = at::zeros({8, 12});
  torch::manual_seed(4);
  models::BertForMaskedLM model(tiny());
  at::Tensor before = model->bert->embeddings->word_embeddings->weight.clone();

  std::string message = error_of([&] { models::load_weights(*model, w, models::LoadMode::strict, "ckpt/model.safetensors"); });
  EXPECT_NE(message.find("ckpt/model.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("missing: bert.encoder.layer.0.attention.self.key.bias"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected: bert.encoder.layer.7.output.dense.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("shape of bert.encoder.layer.0.output.dense.weight: expected [8, 12], found [8, 13]"),
            std::string::npos)
      << message;
  // A failed strict load changes nothing.
  EXPECT_TRUE(at::equal(before, model->bert->embeddings->word_embeddings->weight));
}

TEST(LoadWeights, PartialLoadsWhatFitsAndReportsTheRest) {
  io::TensorMap w = donor_weights();
  w.erase("cls.predictions.bias");
  w["bert.pooler.dense.weight"] = at::zeros({3, 8});
  w["bert.encoder.layer.0.intermediate.dense.bias"] = at::zeros({12}, at::kLong);  // not floating point
  w["extra.tensor"] = at::zeros({1});
  torch::manual_seed(4);
  models::BertForMaskedLM model(tiny());
  auto report = models::load_weights(*model, w, models::LoadMode::partial);
  EXPECT_FALSE(report.complete());
  EXPECT_EQ(report.missing, std::vector<std::string>{"cls.predictions.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.tensor"});
  ASSERT_EQ(report.mismatched.size(), 2u);
  EXPECT_EQ(report.mismatched[0].name, "bert.encoder.layer.0.intermediate.dense.bias");
  EXPECT_NE(report.mismatched[0].why.find("not floating point"), std::string::npos);
  EXPECT_EQ(report.mismatched[1].name, "bert.pooler.dense.weight");
  EXPECT_EQ(report.mismatched[1].found, (std::vector<int64_t>{3, 8}));
  EXPECT_EQ(report.loaded.size(), model->named_parameters().size() - 3);
  EXPECT_TRUE(at::equal(model->bert->embeddings->word_embeddings->weight,
                        w.at("bert.embeddings.word_embeddings.weight")));
  EXPECT_FALSE(at::equal(model->bert->pooler_dense->weight.narrow(0, 0, 3), at::zeros({3, 8})));
}
