// `cotrain bench`: times training steps of a task's model on synthetic batches of
// explicit sizes and prints one JSON line. bench/run.sh compares it with PyTorch.
#include <CLI/CLI.hpp>

#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/tasks/bench_erica.h"
#include "cotrain/tasks/bench_mlm.h"
#include "cotrain/tasks/bench_peak.h"
#include "cotrain/tasks/bench_unimo.h"
#include "cotrain/tasks/bench_vilbert.h"

namespace cotrain::app {
namespace {

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<tasks::BenchOptions>();
  auto fast = std::make_shared<std::string>("on");
  auto bf16 = std::make_shared<std::string>("off");
  cmd.add_option("--task", o->task, "which step to time: mlm, erica, unimo, vilbert, or peak (oneDNN matrix-product GFLOP/s)")->default_val("mlm");
  cmd.add_option("--layers", o->layers, "Transformer layers")->default_val(4);
  cmd.add_option("--hidden", o->hidden, "hidden width")->default_val(256);
  cmd.add_option("--heads", o->heads, "attention heads")->default_val(4);
  cmd.add_option("--ffn", o->ffn, "feed-forward width")->default_val(1024);
  cmd.add_option("--vocab", o->vocab, "vocabulary size")->default_val(30522);
  cmd.add_option("--seq", o->seq, "tokens per sequence")->default_val(128);
  cmd.add_option("--batch", o->batch, "sequences per step")->default_val(32);
  cmd.add_option("--regions", o->regions, "image regions per example (unimo, vilbert)")->default_val(36);
  cmd.add_option("--entities", o->entities, "entities per document, 3 mentions of 2 tokens each (erica)")->default_val(8);
  cmd.add_option("--steps", o->steps, "timed steps (the median is reported)")->default_val(10);
  cmd.add_option("--warmup", o->warmup, "untimed steps first")->default_val(2);
  cmd.add_option("--threads", o->threads, "intra-op threads (0: all cores)")->default_val(0);
  cmd.add_option("--mask-prob", o->mask_prob, "fraction of positions predicted (mlm)")->default_val(0.15);
  cmd.add_option("--dropout", o->dropout, "dropout probability")->default_val(0.1);
  cmd.add_option("--seed", o->seed, "seed of weights, batches and dropout")->default_val(1);
  cmd.add_option("--profile", o->profile,
                 "after timing, run one more step under LibTorch's profiler and write it to this\n"
                 "chrome://tracing file (not counted; bench/profile_summary.py FILE: self time per op)");
  cmd.add_option("--fast-paths", *fast, "oneDNN products and fused kernels: on or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->default_val("on");
  cmd.add_option("--bf16", *bf16, "bfloat16 operands in the linear layers' products (fp32 accumulation): on or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->default_val("off");
  cmd.footer(
      "Prints one JSON line: {\"step_ms\": median, \"samples_per_s\", \"gflops\", \"peak_rss_mb\", ...}.\n"
      "gflops counts matrix-product FLOPs only (forward x 3).\n"
      "Example (the issue-6 configuration):\n"
      "  cotrain bench --task mlm --layers 4 --hidden 256 --heads 4 --ffn 1024 --vocab 30522 \\\n"
      "    --seq 128 --batch 32 --steps 10 --threads 2\n"
      "vilbert: text stream --layers/--hidden/--heads/--ffn; image stream --layers layers of width --hidden\n"
      "  (feed-forward --hidden, the reference's narrow one); --layers co-attention layers of width --hidden,\n"
      "  one after each text layer; --batch pairs of --seq tokens and --regions 2048-d regions (+ the IMG token).");
  cmd.footer(cmd.get_footer() +
             "\nerica: --batch rows of --seq tokens (batch/2 ED rows, the rest RD rows), --entities entities per\n"
             "  document; MLM + entity + relation discrimination as `cotrain pretrain --task erica` sums them.");
  cmd.footer(cmd.get_footer() +
             "\nunimo: --batch image-text pairs of --seq tokens and --regions 2048-d regions (1601 classes);\n"
             "  MLM (--mask-prob) + masked region modelling (15%) on the joint pass + CMCL with in-batch negatives.");
  return [o, fast, bf16] {
    apply_thread_count(o->threads);
    nn::set_fast_paths(*fast == "on");
    nn::set_bf16_matmul(*bf16 == "on");
    if (o->task == "peak") {
      nlohmann::json j = tasks::bench_matmul_peak(*o);
      j["threads"] = o->threads;
      std::cout << j.dump() << std::endl;
      return 0;
    }
    tasks::BenchResult result;
    if (o->task == "mlm") {
      result = tasks::bench_mlm(*o);
    } else if (o->task == "erica") {
      result = tasks::bench_erica(*o);
    } else if (o->task == "unimo") {
      result = tasks::bench_unimo(*o);
    } else if (o->task == "vilbert") {
      result = tasks::bench_vilbert(*o);
    } else {
      fail("bench: --task {}: not implemented yet (available: mlm, erica, unimo, vilbert, peak)", o->task);
    }
    nlohmann::json j = tasks::bench_json(*o, result);
    j["fast_paths"] = *fast;
    j["bf16"] = *bf16;
    j["kernel_threads"] = nn::kernel_threads();  // what the fused kernels really ran on
    std::cout << j.dump() << std::endl;
    return 0;
  };
}

Registration reg("bench", "time training steps on synthetic batches (mlm, erica, unimo, vilbert, peak)", setup);

}  // namespace
}  // namespace cotrain::app
