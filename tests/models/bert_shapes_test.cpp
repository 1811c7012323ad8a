#include <gtest/gtest.h>
#include <torch/types.h>

#include "cotrain/models/bert/bert.h"

using namespace cotrain;

namespace {
ModelConfig tiny_config() {
  ModelConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 32;
  c.max_position_embeddings = 20;
  return c;
}
}  // namespace

TEST(BertModel, ParameterNamesAreHuggingFaceNames) {
  models::BertForMaskedLM model(tiny_config());
  std::set<std::string> names;
  for (auto& p : model->named_parameters()) names.insert(p.key());
  for (const char* expected :
       {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
        "bert.encoder.layer.1.attention.self.query.weight", "bert.encoder.layer.0.attention.output.dense.bias",
        "bert.encoder.layer.0.attention.output.LayerNorm.weight", "bert.encoder.layer.0.intermediate.dense.weight",
        "bert.encoder.layer.1.output.LayerNorm.bias", "bert.pooler.dense.weight",
        "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.bias",
        "cls.predictions.bias"})
    EXPECT_TRUE(names.count(expected)) << expected;
  // The decoder is tied to the word embeddings, not a parameter of its own.
  for (const auto& n : names) EXPECT_EQ(n.find("decoder"), std::string::npos) << n;
}

TEST(BertModel, MaskedLMLossOnlyOverLabelledPositions) {
  torch::manual_seed(0);
  models::BertForMaskedLM model(tiny_config());
  model->eval();
  at::Tensor ids = torch::randint(5, 50, {2, 7}, at::kLong);
  at::Tensor mask = torch::ones({2, 7}, at::kLong);
  at::Tensor labels = torch::full({2, 7}, -100, at::kLong);
  labels[0][3] = 11;
  labels[1][5] = 42;
  auto out = model->forward(ids, mask, {}, labels);
  EXPECT_EQ(out.hidden.sizes(), (std::vector<int64_t>{2, 7, 16}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 50}));
  // Same loss from the full projection, the straightforward way.
  at::Tensor all = model->head->forward(out.hidden);
  at::Tensor expected = at::cross_entropy_loss(all.reshape({-1, 50}), labels.reshape({-1}), {}, at::Reduction::Mean, -100);
  EXPECT_NEAR(out.loss.item<double>(), expected.item<double>(), 1e-6);
}

TEST(BertModel, PaddingDoesNotChangeRealTokens) {
  torch::manual_seed(1);
  models::BertForMaskedLM model(tiny_config());
  model->eval();
  at::Tensor ids = torch::randint(5, 50, {1, 5}, at::kLong);
  at::Tensor padded = torch::cat({ids, torch::zeros({1, 3}, at::kLong)}, 1);
  at::Tensor mask = torch::cat({torch::ones({1, 5}, at::kLong), torch::zeros({1, 3}, at::kLong)}, 1);
  at::Tensor a = model->bert->forward(ids, torch::ones({1, 5}, at::kLong));
  at::Tensor b = model->bert->forward(padded, mask).narrow(1, 0, 5);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5);
}
