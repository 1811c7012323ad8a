// Shared by the ERICA task tests: the hand-made fixture (tests/tasks/fixtures) and a
// tiny BERT over its vocabulary.
#pragma once
#include <string>

#include "cotrain/core/config.h"
#include "cotrain/data/docred.h"
#include "cotrain/tasks/erica_documents.h"
#include "cotrain/text/tokenizer.h"
#include "support/support.h"

namespace cotrain::testing {

inline std::string erica_fixture(const std::string& name) { return source_path("tests/tasks/fixtures/" + name); }

inline std::unique_ptr<text::Tokenizer> erica_tokenizer() { return text::load_tokenizer(erica_fixture("vocab.txt"), true); }

inline tasks::EricaCorpus erica_fixture_corpus(const text::Tokenizer& tokenizer, int64_t max_length) {
  return tasks::read_erica_corpus({erica_fixture("erica_small.json")}, tokenizer, max_length,
                                  data::read_relation_names_json(erica_fixture("rel_info.json")),
                                  data::OnBadRecord::fail);
}

// A config for the fixture: every document in the first batch, a negative cap and
// an NA cap that both bind.
inline Config erica_fixture_config() {
  Config c;
  c.model.hidden_size = 32;
  c.model.num_hidden_layers = 2;
  c.model.num_attention_heads = 4;
  c.model.intermediate_size = 64;
  c.model.max_position_embeddings = 64;
  c.data.max_length = 64;
  c.data.train = {erica_fixture("erica_small.json")};
  c.data.vocab = erica_fixture("vocab.txt");
  c.erica.ed_docs = 4;
  c.erica.rd_docs = 4;
  c.erica.max_na_pairs = 2;
  c.erica.max_negatives = 6;
  c.trainer.seed = 5;
  return c;
}

// Writes a tiny random BERT over the fixture vocabulary to `dir`, with weights
// spread enough (LayerNorm gains ~1 +- 0.1, biases ~0.1) that a swapped or dropped
// parameter changes every output.
void write_erica_test_model(const std::string& dir, uint64_t seed);

}  // namespace cotrain::testing
