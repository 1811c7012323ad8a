#include "serve/chromium.h"

#include <cmath>
#include <filesystem>

#include "cotrain/io/image.h"
#include "support/support.h"

namespace cotrain::serve_test {

namespace {
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    auto r = testing::run_shell(std::string("command -v ") + name, false);
    std::string path = r.output;
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    if (r.exit_code == 0 && !path.empty()) return path;
  }
  return "";
}

std::string run_chromium(const std::string& url, const std::vector<std::string>& flags, int* exit_code) {
  // --no-sandbox: test machines and CI run as root, where the sandbox refuses to start.
  // A private profile folder per call, so that parallel tests do not share a lock.
  const std::string profile = testing::scratch_dir("chromium-profile");
  std::string cmd = "timeout 90 " + quote(find_chromium()) +
                    " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
                    "--hide-scrollbars --user-data-dir=" + quote(profile);
  for (const auto& f : flags) cmd += " " + quote(f);
  cmd += " " + quote(url) + " 2>/dev/null";
  auto r = testing::run_shell(cmd, false);
  if (exit_code) *exit_code = r.exit_code;
  return r.output;
}

std::string artifacts_dir() {
  const std::string dir = "test-artifacts";
  std::filesystem::create_directories(dir);
  return std::filesystem::absolute(dir).string();
}

long count_pixels_near(const std::string& png_path, int r, int g, int b, int tolerance) {
  const io::Image image = io::load_image(png_path);
  long n = 0;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x) {
      const float* p = image.pixel(y, x);
      if (std::abs(std::lround(p[0] * 255) - r) <= tolerance && std::abs(std::lround(p[1] * 255) - g) <= tolerance &&
          std::abs(std::lround(p[2] * 255) - b) <= tolerance)
        ++n;
    }
  return n;
}

}  // namespace cotrain::serve_test
