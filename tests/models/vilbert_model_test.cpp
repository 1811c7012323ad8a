// ViLBERT model structure: the co-attention placement of the released presets, the
// reference tensor names and parameter count, and what loading reports.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>

#include "cotrain/core/error.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "support/support.h"

using namespace cotrain;

namespace {

// Narrow widths, real layer counts: placement does not depend on widths.
ModelConfig tiny_text(int64_t layers = 12) {
  ModelConfig c;
  c.vocab_size = 31;
  c.hidden_size = 8;
  c.num_attention_heads = 2;
  c.intermediate_size = 12;
  c.num_hidden_layers = layers;
  c.max_position_embeddings = 16;
  return c;
}

VilbertConfig tiny_vision(int64_t v_layers, std::vector<int64_t> t_ids, std::vector<int64_t> v_ids) {
  VilbertConfig v;
  v.v_feature_size = 6;
  v.v_target_size = 5;
  v.v_hidden_size = 4;
  v.v_num_attention_heads = 2;
  v.v_intermediate_size = 4;
  v.bi_hidden_size = 6;
  v.bi_num_attention_heads = 3;
  v.v_num_hidden_layers = v_layers;
  v.t_biattention_id = std::move(t_ids);
  v.v_biattention_id = std::move(v_ids);
  return v;
}

std::string schedule_of(const VilbertConfig& v) {
  models::VilbertModel m(tiny_text(), v);
  return m->encoder->schedule();
}

}  // namespace

TEST(VilbertModel, MainSixLayerPlacement) {
  // vilbert.md: text layers 0-5 alone; Co-TRM 0; then five times (one TRM per
  // stream, next Co-TRM); a final TRM per stream.
  EXPECT_EQ(schedule_of(tiny_vision(6, {6, 7, 8, 9, 10, 11}, {0, 1, 2, 3, 4, 5})),
            "t0 t1 t2 t3 t4 t5 c0 v0 t6 c1 v1 t7 c2 v2 t8 c3 v3 t9 c4 v4 t10 c5 v5 t11");
}

TEST(VilbertModel, TwoAndFourLayerPlacements) {
  EXPECT_EQ(schedule_of(tiny_vision(2, {10, 11}, {0, 1})), "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 c0 v0 t10 c1 v1 t11");
  EXPECT_EQ(schedule_of(tiny_vision(4, {8, 9, 10, 11}, {0, 1, 2, 3})),
            "t0 t1 t2 t3 t4 t5 t6 t7 c0 v0 t8 c1 v1 t9 c2 v2 t10 c3 v3 t11");
}

TEST(VilbertModel, BadPlacementIsAnErrorNamingTheKey) {
  auto message = [](const VilbertConfig& v) {
    try {
      models::VilbertModel m(tiny_text(4), v);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(tiny_vision(2, {1, 5}, {0, 1})).find("t_biattention_id"), std::string::npos);
  EXPECT_NE(message(tiny_vision(2, {3, 2}, {0, 1})).find("must not decrease"), std::string::npos);
  EXPECT_NE(message(tiny_vision(2, {1, 2}, {0})).find("has 2 entries"), std::string::npos);
  VilbertConfig bad_heads = tiny_vision(2, {1, 2}, {0, 1});
  bad_heads.bi_num_attention_heads = 4;  // 6 % 4 != 0
  EXPECT_NE(message(bad_heads).find("bi_hidden_size"), std::string::npos);
}

TEST(VilbertModel, ReferenceTensorNames) {
  models::VilbertForPretraining m(tiny_text(2), tiny_vision(2, {1, 2}, {0, 1}));
  auto params = m->named_parameters();
  for (const char* name :
       {"bert.embeddings.word_embeddings.weight", "bert.v_embeddings.image_embeddings.weight",
        "bert.v_embeddings.image_location_embeddings.bias", "bert.v_embeddings.LayerNorm.weight",
        "bert.encoder.layer.1.attention.self.query.weight", "bert.encoder.v_layer.1.output.LayerNorm.bias",
        "bert.encoder.c_layer.0.biattention.query1.weight", "bert.encoder.c_layer.1.biattention.value2.bias",
        "bert.encoder.c_layer.0.biOutput.dense1.weight", "bert.encoder.c_layer.0.biOutput.LayerNorm2.weight",
        "bert.encoder.c_layer.1.v_intermediate.dense.weight", "bert.encoder.c_layer.1.v_output.LayerNorm.bias",
        "bert.encoder.c_layer.1.t_intermediate.dense.bias", "bert.encoder.c_layer.0.t_output.dense.weight",
        "bert.t_pooler.dense.weight", "bert.v_pooler.dense.bias", "cls.predictions.transform.dense.weight",
        "cls.predictions.bias", "cls.bi_seq_relationship.weight", "cls.imagePredictions.transform.LayerNorm.weight",
        "cls.imagePredictions.decoder.weight"})
    EXPECT_NE(params.find(name), nullptr) << name;
  // Co-attention widths: text 8 -> bi 6, vision 4 -> bi 6, outputs back to each width.
  EXPECT_EQ(params["bert.encoder.c_layer.0.biattention.query2.weight"].sizes(), (at::IntArrayRef{6, 8}));
  EXPECT_EQ(params["bert.encoder.c_layer.0.biattention.key1.weight"].sizes(), (at::IntArrayRef{6, 4}));
  EXPECT_EQ(params["bert.encoder.c_layer.0.biOutput.dense1.weight"].sizes(), (at::IntArrayRef{4, 6}));
  EXPECT_EQ(params["bert.encoder.c_layer.0.biOutput.dense2.weight"].sizes(), (at::IntArrayRef{8, 6}));
  EXPECT_EQ(params["bert.t_pooler.dense.weight"].sizes(), (at::IntArrayRef{6, 8}));
  EXPECT_EQ(params["cls.imagePredictions.decoder.weight"].sizes(), (at::IntArrayRef{5, 4}));
  // No unused tensors are built.
  for (const auto& p : params) EXPECT_EQ(p.key().find("q_dense"), std::string::npos) << p.key();
}

// vilbert.md: about 247M parameters (6-layer model, no heads), which counts the two
// unused q_dense layers per Co-TRM that the checkpoints carry.
TEST(VilbertModel, MainModelParameterCount) {
  ModelConfig text;  // BERT-base defaults
  VilbertConfig v;   // main model defaults
  models::VilbertModel m(text, v);
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  const int64_t q_dense = 6 * ((1024 * 1024 + 1024) + (1024 * 768 + 768));
  EXPECT_EQ(n, 235705856);  // measured (246.3M with q_dense); pins the architecture
  EXPECT_NEAR(static_cast<double>(n + q_dense) / 1e6, 247.0, 1.0);
}

TEST(VilbertModel, LoadingNamesMissingUnexpectedAndMisShapedTensors) {
  const ModelConfig text = tiny_text(2);
  const VilbertConfig v = tiny_vision(2, {1, 2}, {0, 1});
  models::VilbertForPretraining source(text, v);
  io::TensorMap tensors = models::weights_of(*source);
  tensors["bert.encoder.c_layer.0.biOutput.q_dense1.weight"] = at::zeros({4, 6});  // skipped, like real checkpoints
  tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"];

  // A complete set loads, skipping the known unused tensors.
  models::VilbertForPretraining target(text, v);
  auto ok = models::load_vilbert_weights(*target, tensors);
  EXPECT_TRUE(ok.weights.complete());
  EXPECT_EQ(ok.skipped.size(), 2u);
  EXPECT_TRUE(at::equal(target->named_parameters()["bert.encoder.c_layer.1.biattention.key2.weight"],
                        source->named_parameters()["bert.encoder.c_layer.1.biattention.key2.weight"]));

  // Through a folder on disk: one missing, one mis-shaped, one unexpected tensor.
  io::TensorMap broken = tensors;
  broken.erase("bert.encoder.c_layer.1.biattention.query1.weight");
  broken["bert.encoder.v_layer.0.intermediate.dense.weight"] = at::zeros({5, 4});
  broken["bert.encoder.c_layer.0.biattention.query3.weight"] = at::zeros({6, 4});
  const std::string dir = cotrain::testing::scratch_dir("vilbert-broken-folder");
  models::write_vilbert_folder(dir, text, v, broken);
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  EXPECT_EQ(folder.vilbert.t_biattention_id, v.t_biattention_id);
  EXPECT_EQ(folder.vilbert.v_hidden_size, 4);
  models::VilbertForPretraining fresh(folder.text, folder.vilbert);
  try {
    models::load_vilbert_weights(*fresh, folder.weights, models::LoadMode::strict, dir);
    ADD_FAILURE() << "loading a broken folder succeeded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bert.encoder.c_layer.1.biattention.query1.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("bert.encoder.v_layer.0.intermediate.dense.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("bert.encoder.c_layer.0.biattention.query3.weight"), std::string::npos) << what;
    EXPECT_EQ(what.find("q_dense1"), std::string::npos) << what;
  }
}

// The text stream starts from a BERT folder: embeddings, layers and MLM head copied,
// the co-attention and visual parts untouched; a different geometry is an error.
TEST(VilbertModel, TextStreamFromBertFolder) {
  ModelConfig text = tiny_text(2);
  models::BertForMaskedLM bert(text);
  const std::string dir = cotrain::testing::scratch_dir("vilbert-text-init");
  io::write_hf_folder(dir, text, models::weights_of(*bert));
  models::VilbertForPretraining v(text, tiny_vision(2, {1, 2}, {0, 1}));
  const at::Tensor co_before = v->named_parameters()["bert.encoder.c_layer.0.biattention.query2.weight"].clone();
  std::vector<std::string> names = models::load_text_stream(*v, dir);
  // 5 embedding tensors + 16 per layer x 2 + MLM transform (4) + bias = 42.
  EXPECT_EQ(names.size(), 42u);
  for (const char* name : {"bert.embeddings.word_embeddings.weight", "bert.encoder.layer.1.output.dense.weight",
                           "cls.predictions.transform.LayerNorm.weight", "cls.predictions.bias"})
    EXPECT_TRUE(at::equal(v->named_parameters()[name], bert->named_parameters()[name])) << name;
  EXPECT_TRUE(at::equal(v->named_parameters()["bert.encoder.c_layer.0.biattention.query2.weight"], co_before));
  for (const auto& n : names) EXPECT_EQ(n.find("c_layer"), std::string::npos) << n;

  ModelConfig wider = text;
  wider.hidden_size = 12;
  models::VilbertForPretraining other(wider, tiny_vision(2, {1, 2}, {0, 1}));
  EXPECT_THROW(models::load_text_stream(*other, dir), Error);
}
