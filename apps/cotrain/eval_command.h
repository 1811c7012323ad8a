// `cotrain eval --task NAME`: each evaluation registers itself from its own file
// (cmd_eval_<name>.cpp) with
//   static cotrain::app::EvalRegistration reg("name", "one-line summary", setup);
// The options every evaluation may use (--model, --data, --out, --batch-size,
// --threads) are declared once by cmd_eval.cpp and handed to each setup; a setup
// adds only options of its own (names must not clash with another evaluation's) and
// returns the function that runs when --task names it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "command.h"

namespace cotrain::app {

struct EvalCommon {
  std::string task;
  std::string model;               // --model: a trained model folder or run folder
  std::vector<std::string> data;   // --data: evaluation files
  std::string out;                 // --out: where predictions / reports go
  int64_t batch_size = 64;         // --batch-size
  int64_t threads = 0;             // --threads (0: all cores)
};

using EvalSetup = std::function<Runner(CLI::App& cmd, std::shared_ptr<const EvalCommon> common)>;

struct EvalRegistration {
  EvalRegistration(std::string name, std::string summary, EvalSetup setup);
};

struct EvalEntry {
  std::string name, summary;
  EvalSetup setup;
};
std::vector<EvalEntry>& evaluations();

}  // namespace cotrain::app
