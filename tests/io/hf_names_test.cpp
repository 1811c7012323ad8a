// Tensor-name spellings of BERT / RoBERTa checkpoints <-> cotrain's canonical names.
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/io/hf_folder.h"

namespace cotrain::io {
namespace {

TEST(HfNames, EverySpellingMapsToTheCanonicalName) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bert.embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight"},
      {"embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight"},
      {"roberta.embeddings.position_embeddings.weight", "bert.embeddings.position_embeddings.weight"},
      {"embeddings.LayerNorm.gamma", "bert.embeddings.LayerNorm.weight"},
      {"bert.embeddings.LayerNorm.beta", "bert.embeddings.LayerNorm.bias"},
      {"encoder.layer.11.attention.self.query.weight", "bert.encoder.layer.11.attention.self.query.weight"},
      {"roberta.encoder.layer.3.output.LayerNorm.gamma", "bert.encoder.layer.3.output.LayerNorm.weight"},
      {"bert.encoder.layer.0.attention.output.LayerNorm.beta", "bert.encoder.layer.0.attention.output.LayerNorm.bias"},
      {"bert.encoder.layer.0.intermediate.dense.bias", "bert.encoder.layer.0.intermediate.dense.bias"},
      {"pooler.dense.weight", "bert.pooler.dense.weight"},
      {"roberta.pooler.dense.bias", "bert.pooler.dense.bias"},
      {"cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.weight"},
      {"cls.predictions.transform.LayerNorm.gamma", "cls.predictions.transform.LayerNorm.weight"},
      {"cls.predictions.bias", "cls.predictions.bias"},
      {"lm_head.dense.bias", "cls.predictions.transform.dense.bias"},
      {"lm_head.layer_norm.weight", "cls.predictions.transform.LayerNorm.weight"},
      {"lm_head.bias", "cls.predictions.bias"},
      // Not used by cotrain: buffers, tied decoder, NSP head, other task heads, junk.
      {"embeddings.position_ids", ""},
      {"bert.embeddings.position_ids", ""},
      {"roberta.embeddings.token_type_ids", ""},
      {"cls.predictions.decoder.weight", ""},
      {"cls.predictions.decoder.bias", ""},
      {"lm_head.decoder.weight", ""},
      {"lm_head.decoder.bias", ""},
      {"cls.seq_relationship.weight", ""},
      {"classifier.weight", ""},
      {"bert.encoder.layer.01.output.dense.weight", ""},
      {"bert.encoder.layer..output.dense.weight", ""},
      {"bert.encoder.layer.1.output.dense.kernel", ""},
      {"lm_head.layer_norm.gamma", ""},
      {"", ""},
  };
  for (const auto& [name, want] : cases) {
    EXPECT_EQ(canonical_weight_name(name, "bert"), want) << name;
    EXPECT_EQ(canonical_weight_name(name, "roberta"), want) << name;
  }
}

TEST(HfNames, WritingSpellsTheModelType) {
  EXPECT_EQ(hf_weight_name("bert.encoder.layer.2.output.dense.weight", "bert"), "bert.encoder.layer.2.output.dense.weight");
  EXPECT_EQ(hf_weight_name("bert.encoder.layer.2.output.dense.weight", "roberta"),
            "roberta.encoder.layer.2.output.dense.weight");
  EXPECT_EQ(hf_weight_name("cls.predictions.transform.dense.weight", "roberta"), "lm_head.dense.weight");
  EXPECT_EQ(hf_weight_name("cls.predictions.transform.LayerNorm.bias", "roberta"), "lm_head.layer_norm.bias");
  EXPECT_EQ(hf_weight_name("cls.predictions.bias", "roberta"), "lm_head.bias");
  EXPECT_EQ(hf_weight_name("cls.predictions.bias", "bert"), "cls.predictions.bias");
  EXPECT_THROW(hf_weight_name("cls.predictions.bias", "gpt2"), Error);
}

TEST(HfNames, WrittenNamesReadBackToTheSameCanonicalName) {
  std::vector<std::string> canonical = {
      "bert.embeddings.word_embeddings.weight", "bert.embeddings.token_type_embeddings.weight",
      "bert.embeddings.LayerNorm.bias", "bert.pooler.dense.weight",
      "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight", "cls.predictions.bias"};
  for (const char* p : {"attention.self.key.bias", "attention.self.value.weight", "attention.output.dense.weight",
                        "attention.output.LayerNorm.weight", "intermediate.dense.weight", "output.dense.bias",
                        "output.LayerNorm.bias"})
    canonical.push_back(std::string("bert.encoder.layer.7.") + p);
  for (const std::string type : {"bert", "roberta"})
    for (const auto& c : canonical) EXPECT_EQ(canonical_weight_name(hf_weight_name(c, type), type), c) << c << " " << type;
}

}  // namespace
}  // namespace cotrain::io
