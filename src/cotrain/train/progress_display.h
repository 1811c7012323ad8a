// Progress of a long job on stderr: a live bar with ETA on a terminal, or one plain
// line per display period when stderr is a pipe or a file (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace cotrain::train {

class ProgressDisplay {
 public:
  // `total` units of work; `unit` names them ("updates", "lines").
  ProgressDisplay(int64_t total, std::string unit, int64_t line_every = 10);
  ~ProgressDisplay();
  // Reports that `done` units are complete; `fields` is shown after the counts
  // ("loss 3.21 lr 1.0e-04 ..."). Lines are printed every `line_every` units.
  void update(int64_t done, const std::string& fields);
  void finish(const std::string& message = "");
  static std::string format_duration(double seconds);

 private:
  int64_t total_, line_every_, last_line_ = -1;
  std::string unit_;
  bool tty_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t start_done_ = -1;
};

}  // namespace cotrain::train
