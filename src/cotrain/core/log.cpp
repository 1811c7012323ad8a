#include "cotrain/core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace cotrain::log {
namespace {
std::atomic<Level> current{Level::info};
std::mutex write_mutex;
}  // namespace

void set_level(Level l) { current = l; }
Level level() { return current; }

void write(Level l, const std::string& message) {
  static const char* names[] = {"debug", "info", "warning", "error", ""};
  std::lock_guard<std::mutex> lock(write_mutex);
  if (l == Level::info)
    std::fprintf(stderr, "%s\n", message.c_str());
  else
    std::fprintf(stderr, "%s: %s\n", names[static_cast<int>(l)], message.c_str());
  std::fflush(stderr);
}

}  // namespace cotrain::log
