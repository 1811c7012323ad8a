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

// ViLBERT (vilbert.md): the visual stream, the co-attention placement and the
// pretraining objectives. The text stream is the `model` section's BERT.
struct VilbertConfig {
  int64_t v_feature_size = 2048;     // region feature width
  int64_t v_target_size = 1601;      // classes of the region targets (detector: 1600 VG + background)
  int64_t v_hidden_size = 1024;
  int64_t v_num_hidden_layers = 6;
  int64_t v_num_attention_heads = 8;
  int64_t v_intermediate_size = 1024;  // narrow: not 4x
  double v_hidden_dropout_prob = 0.1;
  double v_attention_probs_dropout_prob = 0.1;
  int64_t bi_hidden_size = 1024;
  int64_t bi_num_attention_heads = 8;
  std::vector<int64_t> t_biattention_id{6, 7, 8, 9, 10, 11};
  std::vector<int64_t> v_biattention_id{0, 1, 2, 3, 4, 5};
  std::string fusion = "mul";  // mul | sum
  double mlm_weight = 1.0;
  double region_weight = 1.0;
  double alignment_weight = 1.0;
  double region_mask_prob = 0.15;
  std::string region_objective = "kl";  // kl (class distributions) | regression (MSE to the feature)
  double swap_prob = 0.5;
  int64_t max_regions = 36;
  std::string text_init;       // a BERT Hugging Face folder for the text stream
  double text_lr_scale = 0.1;  // learning-rate multiplier of the BERT-initialised text stream

  template <class F> void visit(F&& f) {
    f("v_feature_size", v_feature_size, "region feature width (2048 for detector features)");
    f("v_target_size", v_target_size, "classes of the masked-region targets (1601 detector, or codebook size)");
    f("v_hidden_size", v_hidden_size, "visual stream width");
    f("v_num_hidden_layers", v_num_hidden_layers, "visual TRM layers");
    f("v_num_attention_heads", v_num_attention_heads, "visual attention heads");
    f("v_intermediate_size", v_intermediate_size, "visual feed-forward width (narrow, 1024 in the reference)");
    f("v_hidden_dropout_prob", v_hidden_dropout_prob, "visual dropout after embeddings and sublayers");
    f("v_attention_probs_dropout_prob", v_attention_probs_dropout_prob, "dropout on visual and co-attention probabilities");
    f("bi_hidden_size", bi_hidden_size, "co-attention width (also the pooled width)");
    f("bi_num_attention_heads", bi_num_attention_heads, "co-attention heads");
    f("t_biattention_id", t_biattention_id, "co-attention k follows text layer t_biattention_id[k]-1");
    f("v_biattention_id", v_biattention_id, "co-attention k follows visual layer v_biattention_id[k]-1");
    f("fusion", fusion, "pooled text x image fusion: mul or sum");
    f("mlm_weight", mlm_weight, "weight of masked language modelling");
    f("region_weight", region_weight, "weight of masked region modelling");
    f("alignment_weight", alignment_weight, "weight of image-caption alignment prediction");
    f("region_mask_prob", region_mask_prob, "fraction of real regions masked (90% zeroed, 10% kept)");
    f("region_objective", region_objective, "masked regions: kl (to class distributions) or regression (MSE to features)");
    f("swap_prob", swap_prob, "alignment: probability that the caption is replaced by a random one");
    f("max_regions", max_regions, "regions per image (IMG token excluded)");
    f("text_init", text_init, "BERT Hugging Face folder to initialise the text stream from (empty: random)");
    f("text_lr_scale", text_lr_scale, "learning-rate multiplier of the text stream when text_init is given");
  }
};

// UNIMO (unimo.md): region inputs, objectives and the data mix of task "unimo".
struct UnimoConfig {
  int64_t region_feature_dim = 2048;  // D of the region features (2048 for bottom-up attention)
  int64_t box_dim = 5;                // x1/W, y1/H, x2/W, y2/H, area; fixed by the model
  int64_t max_regions = 36;           // regions per image (more are dropped, in file order)
  int64_t num_region_classes = 0;     // C of the class targets; 0: from the data (0 there: no classification)
  double temperature_init = 0.07;     // CMCL: initial tau; logit_scale = log(1/tau) is learned
  double max_logit_scale = 100.0;     // CMCL: 1/tau is clamped to at most this
  bool learn_temperature = true;      // false: tau stays at temperature_init
  bool span_masking = true;           // MLM: contiguous spans (Geometric(span_p)) instead of single tokens
  double span_p = 0.2;                // span lengths 1 + Geometric(p) failures, mean 1/p
  int64_t max_span = 10;              // longer spans are cut to this
  double region_mask_prob = 0.15;     // MRM: fraction of regions masked (zeroed)
  double region_iou_threshold = 0.4;  // MRM: regions overlapping a masked one above this are masked too
  bool mrm_regression = true;         // MRM: L2 regression of the original feature
  bool mrm_classification = true;     // MRM: KL to the class distribution (needs class targets)
  double mlm_weight = 1.0, mrm_regression_weight = 1.0, mrm_classification_weight = 1.0, cmcl_weight = 1.0;
  double text_ratio = 0.25;           // share of a micro-batch that is text-only examples
  double image_ratio = 0.25;          // share that is image-only examples (the rest: pairs)
  std::string text_corpus;            // text-only corpus (one text per line); empty: none
  std::string image_corpus;           // image-only shards (cotrain prepare); empty: none
  std::string lexicons = "resources/lexicons";  // rewriting lexicons (*.txt) for hard negatives
  int64_t paraphrase_positives = 1;   // CMCL: paraphrases per pair used as positives
  double paraphrase_max_unknown = 0.1;  // CMCL: paraphrases with more [UNK] pieces than this share are not used
  bool in_batch_extra_texts = true;   // CMCL: paraphrases / retrieved texts are also negatives of other pairs' images
  int64_t rewrite_negatives = 2;      // CMCL: lexicon rewrites per pair used as hard negatives
  int64_t tfidf_negatives = 1;        // CMCL: TF-IDF-nearest captions of other images per pair
  int64_t retrieval_positives = 1;    // CMCL: nearest images / texts per pair above the threshold
  double retrieval_threshold = 0.9;   // CMCL: cosine similarity a retrieved image / text must reach

  template <class F> void visit(F&& f) {
    f("region_feature_dim", region_feature_dim, "D: size of a region feature (from the data when prepared shards say so)");
    f("box_dim", box_dim, "size of the box encoding (must be 5)");
    f("max_regions", max_regions, "regions per image kept (36 base, 100 large)");
    f("num_region_classes", num_region_classes, "classes of the region class targets; 0: from the data");
    f("temperature_init", temperature_init, "CMCL: initial temperature tau");
    f("max_logit_scale", max_logit_scale, "CMCL: upper clamp of 1/tau");
    f("learn_temperature", learn_temperature, "CMCL: learn tau (logit_scale, no weight decay)");
    f("span_masking", span_masking, "MLM: mask contiguous spans with Geometric lengths instead of tokens");
    f("span_p", span_p, "MLM: span length is 1 + Geometric(span_p) failures (mean 1/span_p)");
    f("max_span", max_span, "MLM: longest span");
    f("region_mask_prob", region_mask_prob, "MRM: probability that a region is masked");
    f("region_iou_threshold", region_iou_threshold, "MRM: also mask regions with IoU above this with a masked one");
    f("mrm_regression", mrm_regression, "MRM: L2 feature regression on/off");
    f("mrm_classification", mrm_classification, "MRM: KL class prediction on/off (needs class targets)");
    f("mlm_weight", mlm_weight, "loss weight of MLM");
    f("mrm_regression_weight", mrm_regression_weight, "loss weight of MRM feature regression");
    f("mrm_classification_weight", mrm_classification_weight, "loss weight of MRM classification");
    f("cmcl_weight", cmcl_weight, "loss weight of CMCL");
    f("text_ratio", text_ratio, "share of text-only examples in a micro-batch");
    f("image_ratio", image_ratio, "share of image-only examples in a micro-batch (the rest are pairs)");
    f("text_corpus", text_corpus, "text-only corpus, one text per line (empty: none)");
    f("image_corpus", image_corpus, "image-only region shards from 'cotrain prepare' (empty: none)");
    f("lexicons", lexicons, "folder of rewriting lexicons (*.txt) for CMCL hard negatives");
    f("paraphrase_positives", paraphrase_positives, "CMCL: paraphrase positives per pair");
    f("paraphrase_max_unknown", paraphrase_max_unknown,
      "CMCL: a paraphrase is a positive only if at most this share of its word pieces is [UNK]");
    f("in_batch_extra_texts", in_batch_extra_texts,
      "CMCL: a pair's paraphrases and retrieved texts are also in-batch negatives of the other pairs' images "
      "(otherwise they are only ever positives, and texts unlike captions become a target every image can move to)");
    f("rewrite_negatives", rewrite_negatives, "CMCL: lexicon-rewritten hard negatives per pair");
    f("tfidf_negatives", tfidf_negatives, "CMCL: TF-IDF-retrieved captions of other images per pair");
    f("retrieval_positives", retrieval_positives, "CMCL: retrieved image / text positives per pair");
    f("retrieval_threshold", retrieval_threshold, "CMCL: similarity a retrieved positive must reach");
  }
};

// Task "erica" (erica.md): weights of its three objectives and the batch recipe.
struct EricaConfig {
  double ed_weight = 1.0;
  double rd_weight = 1.0;
  double mlm_weight = 1.0;
  double temperature = 0.05;
  int64_t max_na_pairs = 32;     // NA pairs sampled per RD document
  int64_t max_negatives = 64;    // RD negatives kept per anchor
  std::string rd_pairs = "all";  // all | intra | cross
  int64_t ed_docs = 16;          // ED documents per micro-batch
  int64_t rd_docs = 16;          // RD documents per micro-batch
  std::string relation_names;    // {id: name} JSON; empty: rel_info.json beside the first training file
  std::string on_bad_record;     // fail | skip; empty: data.on_bad_record

  template <class F> void visit(F&& f) {
    f("ed_weight", ed_weight, "weight of entity discrimination in the total loss");
    f("rd_weight", rd_weight, "weight of relation discrimination in the total loss");
    f("mlm_weight", mlm_weight, "weight of masked language modelling (0: inputs are not masked)");
    f("temperature", temperature, "temperature tau of the cosine-similarity InfoNCE losses");
    f("max_na_pairs", max_na_pairs, "NA (no-relation) pairs sampled per RD document");
    f("max_negatives", max_negatives, "RD negatives kept per anchor (random subset)");
    f("rd_pairs", rd_pairs, "RD entity pairs: all, intra (co-occur in a sentence) or cross");
    f("ed_docs", ed_docs, "entity-discrimination documents per micro-batch");
    f("rd_docs", rd_docs, "relation-discrimination documents per micro-batch");
    f("relation_names", relation_names, "relation id -> name JSON (ED); default: rel_info.json beside the data");
    f("on_bad_record", on_bad_record, "malformed document: fail or skip (default: data.on_bad_record)");
  }
};

// Task "docred" (erica.md, Downstream): document-level relation extraction
// fine-tuning. Training documents come from data.train; documents per micro-batch
// are trainer.batch_size.
struct DocredConfig {
  std::string dev;               // dev documents: the decision threshold is chosen on them
  std::string test;              // test documents: predictions (and scores when labelled)
  std::string relations;         // {id: name} JSON fixing the relation classes; empty: the training labels
  double train_fraction = 1.0;   // share of (seed-shuffled) training documents kept: 0.01, 0.1, 1
  double na_ratio = 3.0;         // NA pairs sampled per positive pair of a document
  std::string on_bad_record;     // fail | skip; empty: data.on_bad_record

  template <class F> void visit(F&& f) {
    f("dev", dev, "dev documents (DocRED JSON); the threshold maximising dev F1 is chosen on them");
    f("test", test, "test documents (DocRED JSON): predictions written, scored when they have labels");
    f("relations", relations, "relation id -> name JSON fixing the classes; default: relations of the training labels");
    f("train_fraction", train_fraction, "share of training documents kept (first of a seed-shuffled order), in (0, 1]");
    f("na_ratio", na_ratio, "NA entity pairs sampled per positive pair of a document (erica.md: 3)");
    f("on_bad_record", on_bad_record, "malformed document: fail or skip (default: data.on_bad_record)");
  }
};

// Task "relcls" (erica.md, sentence-level RE): relation classification of a marked
// entity pair in a sentence (JSONL, see tasks/relcls_data.h); examples per
// micro-batch are trainer.batch_size.
struct RelclsConfig {
  std::string dev;                   // JSONL scored after training
  std::string test;                  // JSONL scored after training
  std::string na_label = "no_relation";  // the relation left out of micro-F1 (TACRED: no_relation; SemEval: Other)
  double train_fraction = 1.0;       // share of (seed-shuffled) training examples kept
  std::string on_bad_record;         // fail | skip; empty: data.on_bad_record

  template <class F> void visit(F&& f) {
    f("dev", dev, "dev examples (JSONL {tokens, h: {pos}, t: {pos}, relation}) scored after training");
    f("test", test, "test examples (JSONL) scored after training");
    f("na_label", na_label, "relation meaning 'no relation', left out of micro-F1");
    f("train_fraction", train_fraction, "share of training examples kept (first of a seed-shuffled order), in (0, 1]");
    f("on_bad_record", on_bad_record, "malformed line: fail or skip (default: data.on_bad_record)");
  }
};

// UNIMO generation (issue 7, unimo.md "Language learning" and "Downstream"): the
// seq2seq objective, its share of pretraining, caption fine-tuning data and decoding.
struct Seq2seqConfig {
  double ratio = 0.5;             // pretraining: share of micro-batches that are seq2seq (the rest MLM/MRM/CMCL)
  double target_fraction = 0.25;  // fragments are drawn until this share of the text is target
  int64_t min_fragment = 4;       // fragment lengths ~ U[min_fragment, max_fragment] (cut to what is left)
  int64_t max_fragment = 32;
  std::string dev;                // caption fine-tuning: shards to caption and score after training (empty: none)
  int64_t beam_size = 5;          // decoding: 1 is greedy
  double length_penalty = 0.6;    // decoding: beam scores are log p / ((5 + len) / 6)^alpha
  int64_t max_decode_length = 20; // decoding: generated tokens at most (end token included)
  int64_t no_repeat_ngram = 3;    // decoding: never repeat an n-gram of this size (0: off)

  template <class F> void visit(F&& f) {
    f("ratio", ratio, "pretraining (task unimo-seq2seq): share of micro-batches that are seq2seq");
    f("target_fraction", target_fraction, "seq2seq: fragments are drawn until this share of the text is target");
    f("min_fragment", min_fragment, "seq2seq: shortest fragment (U[min, max] tokens)");
    f("max_fragment", max_fragment, "seq2seq: longest fragment");
    f("dev", dev, "caption fine-tuning: shards captioned and scored (BLEU-4, CIDEr-D) after training");
    f("beam_size", beam_size, "decoding: beam size (1: greedy)");
    f("length_penalty", length_penalty, "decoding: alpha of the length penalty ((5 + len) / 6)^alpha");
    f("max_decode_length", max_decode_length, "decoding: most tokens generated");
    f("no_repeat_ngram", no_repeat_ngram, "decoding: n-grams of this size never repeat (0: off)");
  }
};

// Recovery from divergence (issue 8): a non-finite loss or gradient norm, or a loss
// spike against its moving average, rolls the run back to its last checkpoint and
// skips the offending batch.
struct RecoveryConfig {
  int64_t max_rollbacks = 3;  // 0: stop at the first divergence
  double spike_factor = 0;    // 0: no spike check
  int64_t spike_window = 50;  // updates in the moving average (and before the first check)

  template <class F> void visit(F&& f) {
    f("max_rollbacks", max_rollbacks,
      "divergence rolls back to the last checkpoint and skips the batch, at most this many times; 0: stop at once");
    f("spike_factor", spike_factor, "a loss above this multiple of its moving average is divergence; 0: off");
    f("spike_window", spike_window, "updates in the loss moving average (no spike check before that many)");
  }
};

// ViLBERT fine-tuning (vilbert.md "Downstream heads"): tasks vilbert-retrieval,
// vilbert-vqa and vilbert-grounding. Training / dev files are data.train / data.valid.
struct VilbertFinetuneConfig {
  std::string images;             // vqa / grounding: a 'cotrain prepare' folder or a region TSV
  int64_t min_answer_count = 1;   // vqa: answers seen in fewer training questions are left out
  double head_dropout = 0.5;      // vqa: dropout inside the answer MLP
  int64_t hard_negative_pool = 10;  // retrieval: hard negatives come from this many nearest images
  double iou_threshold = 0.5;     // grounding: a region is a positive above this IoU with the box

  template <class F> void visit(F&& f) {
    f("images", images, "vqa/grounding: image regions, a 'cotrain prepare' folder or a region TSV file");
    f("min_answer_count", min_answer_count, "vqa: keep answers seen in at least this many training questions");
    f("head_dropout", head_dropout, "vqa: dropout inside the answer MLP (0.5 in the reference)");
    f("hard_negative_pool", hard_negative_pool, "retrieval: hard negative image drawn from this many nearest images");
    f("iou_threshold", iou_threshold, "grounding: regions with IoU above this against the box are targets");
  }
};

// Task "retrieval" (unimo.md "Downstream"): UNIMO image-text retrieval fine-tuning
// with the pair score head. Training pairs come from data.train (prepared shards),
// dev pairs (evaluated after training) from data.valid.
struct UnimoRetrievalConfig {
  int64_t negative_images = 10;  // random other images scored against each positive's caption
  int64_t negative_texts = 10;   // random captions of other images scored against each positive's image
  std::string loss = "softmax";  // softmax: cross-entropy over [positive, negatives]; circle: circle loss
  double circle_margin = 0.2;    // circle loss: relaxation margin m (UNIMO: 0.2)
  double circle_gamma = 32.0;    // circle loss: scale gamma
  int64_t rerank_k = 10;         // dev evaluation after training: top k re-ranked by the score head (0: off)

  template <class F> void visit(F&& f) {
    f("negative_images", negative_images, "random negative images per positive pair");
    f("negative_texts", negative_texts, "random negative captions per positive pair");
    f("loss", loss, "softmax (cross-entropy over the positive and its negatives) or circle");
    f("circle_margin", circle_margin, "circle loss: margin m");
    f("circle_gamma", circle_gamma, "circle loss: scale gamma");
    f("rerank_k", rerank_k, "dev evaluation: re-rank each query's top k with the score head (0: off)");
  }
};

struct Config {
  ModelConfig model;
  DataConfig data;
  OptimizerConfig optim;
  ScheduleConfig schedule;
  TrainerConfig trainer;
  VilbertConfig vilbert;
  EricaConfig erica;
  DocredConfig docred;
  RelclsConfig relcls;
  UnimoConfig unimo;
  VilbertFinetuneConfig vilbert_ft;
  Seq2seqConfig seq2seq;
  RecoveryConfig recovery;
  UnimoRetrievalConfig unimo_retrieval;

  template <class F> void visit_sections(F&& f) {
    f("model", model);
    f("data", data);
    f("optim", optim);
    f("schedule", schedule);
    f("trainer", trainer);
    f("vilbert", vilbert);
    f("erica", erica);
    f("docred", docred);
    f("relcls", relcls);
    f("unimo", unimo);
    f("vilbert_ft", vilbert_ft);
    f("seq2seq", seq2seq);
    f("recovery", recovery);
    f("unimo_retrieval", unimo_retrieval);
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
