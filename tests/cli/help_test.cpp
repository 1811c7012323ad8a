// `cotrain --help` and `cotrain <command> --help` for every command that --help lists:
// exit 0 and explain themselves (issue 2, "Using a trained model").
#include <gtest/gtest.h>

#include "cli/cli_test_util.h"
#include "support/support.h"

using cotrain::cli_test::split_lines;
using cotrain::testing::run_cotrain;

namespace {

constexpr size_t kHelpColumn = 30;  // CLI11's default column width

// The command names under "Subcommands:" in the top-level help, with their summaries.
std::vector<std::pair<std::string, std::string>> listed_commands(const std::string& help) {
  std::vector<std::pair<std::string, std::string>> out;
  bool inside = false;
  for (const auto& line : split_lines(help)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.empty() || line[0] != ' ') break;
    const size_t begin = line.find_first_not_of(' ');
    const size_t end = line.find(' ', begin);
    const std::string name = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const size_t summary = end == std::string::npos ? std::string::npos : line.find_first_not_of(' ', end);
    out.emplace_back(name, summary == std::string::npos ? "" : line.substr(summary));
  }
  return out;
}

TEST(CliHelp, TopLevelListsCommandsAndEachExplainsItself) {
  auto top = run_cotrain({"--help"});
  ASSERT_EQ(top.exit_code, 0) << top.output;
  EXPECT_NE(top.output.find("cotrain"), std::string::npos);
  const auto commands = listed_commands(top.output);
  ASSERT_GE(commands.size(), 4u) << top.output;
  for (const char* required : {"pretrain", "embed", "vocab", "config"}) {
    bool found = false;
    for (const auto& c : commands) found = found || c.first == required;
    EXPECT_TRUE(found) << required << " not listed in:\n" << top.output;
  }
  for (const auto& [name, summary] : commands) {
    SCOPED_TRACE(name);
    EXPECT_GE(summary.size(), 10u) << "no summary for " << name << " in:\n" << top.output;
    auto sub = run_cotrain({name, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << sub.output;
    // The command's own help repeats its summary and lists its options, each explained.
    EXPECT_NE(sub.output.find(summary.substr(0, 20)), std::string::npos) << sub.output;
    EXPECT_NE(sub.output.find("--help"), std::string::npos) << sub.output;
    size_t options = 0;
    const auto lines = split_lines(sub.output);
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      const size_t begin = line.find_first_not_of(' ');
      if (begin == std::string::npos || begin == 0 || line.compare(begin, 2, "--") != 0) continue;
      if (line.find("--help") != std::string::npos) continue;
      ++options;
      // CLI11 puts the explanation from column 30 on, or on the next, indented line
      // when the option's name and type fill the column.
      const bool same_line = line.size() > kHelpColumn + 1;
      const bool next_line = i + 1 < lines.size() && lines[i + 1].size() > kHelpColumn &&
                             lines[i + 1].find_first_not_of(' ') >= kHelpColumn - 2;
      EXPECT_TRUE(same_line || next_line) << "option without an explanation: " << line;
    }
    EXPECT_GE(options, 1u) << sub.output;
  }
}

TEST(CliHelp, UnknownCommandIsAnError) {
  auto r = run_cotrain({"no-such-command"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.output.empty());
}

}  // namespace
