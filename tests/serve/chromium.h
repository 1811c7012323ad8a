// Headless Chromium for the browser tests (Debian package `chromium`, installed by
// scripts/setup.sh). Tests skip only when no Chromium binary exists at all.
#pragma once
#include <string>
#include <vector>

namespace cotrain::serve_test {

// Path of a Chromium binary, or "" when none is installed.
std::string find_chromium();

// Runs headless Chromium on `url` with `flags` (e.g. "--dump-dom",
// "--screenshot=PATH", "--virtual-time-budget=MS"); returns stdout (stderr dropped).
std::string run_chromium(const std::string& url, const std::vector<std::string>& flags, int* exit_code = nullptr);

// Where a test keeps files meant to outlive it (screenshots): <build>/test-artifacts.
std::string artifacts_dir();

// Counts pixels of an encoded PNG within `tolerance` (per channel, 0..255) of rgb.
long count_pixels_near(const std::string& png_path, int r, int g, int b, int tolerance);

}  // namespace cotrain::serve_test
