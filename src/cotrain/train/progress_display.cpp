#include "cotrain/train/progress_display.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace cotrain::train {

ProgressDisplay::ProgressDisplay(int64_t total, std::string unit, int64_t line_every)
    : total_(total), line_every_(line_every), unit_(std::move(unit)), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressDisplay::~ProgressDisplay() {
  if (open_line_) std::fprintf(stderr, "\n");
}

std::string ProgressDisplay::format_duration(double s) {
  if (s < 0 || s != s) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

void ProgressDisplay::update(int64_t done, const std::string& fields) {
  const auto now = std::chrono::steady_clock::now();
  if (start_done_ < 0) start_done_ = done > 0 ? done - 1 : 0;  // a resumed run starts mid-way
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = (done - start_done_) / std::max(elapsed, 1e-9);
  const double eta = rate > 0 ? (total_ - done) / rate : -1;
  if (tty_) {
    // Redraw at most ~10 times a second; always draw the last unit.
    if (done != total_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::fprintf(stderr, "\r\033[K[%s] %lld/%lld %s  %s  elapsed %s  ETA %s", bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(), fields.c_str(),
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
    open_line_ = true;
  } else {
    if (done != total_ && done % line_every_ != 0) return;
    if (done == last_line_) return;
    last_line_ = done;
    std::fprintf(stderr, "%s %lld/%lld  %s  elapsed %s\n", unit_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), fields.c_str(), format_duration(elapsed).c_str());
  }
  std::fflush(stderr);
}

void ProgressDisplay::finish(const std::string& message) {
  if (open_line_) std::fprintf(stderr, "\n");
  open_line_ = false;
  if (!message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace cotrain::train
