// Errors. A cotrain::Error is a problem with what the user gave us (a file, a flag,
// a config key): the program prints its message on one line and exits with code 2.
// Anything else escaping to main is a bug in cotrain and is reported as such.
#pragma once
#include <stdexcept>
#include <string>
#include <fmt/format.h>

namespace cotrain {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// fail("{}: line {}: {}", path, line, why) throws cotrain::Error.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace cotrain
