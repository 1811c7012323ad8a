#include <gtest/gtest.h>

#include "cotrain/core/config.h"
#include "cotrain/core/error.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, LaterFilesWinAndOverridesWinLast) {
  const std::string dir = ct::scratch_dir("config-layers");
  ct::write_file(dir + "/a.yaml", "model:\n  hidden_size: 64\n  num_attention_heads: 4\ntrainer:\n  seed: 7\n");
  ct::write_file(dir + "/b.yaml", "model:\n  hidden_size: 128\n");
  Config c;
  ConfigOrigins origins;
  apply_config_files(c, {dir + "/a.yaml", dir + "/b.yaml"}, &origins);
  EXPECT_EQ(c.model.hidden_size, 128);
  EXPECT_EQ(c.model.num_attention_heads, 4);
  EXPECT_EQ(c.trainer.seed, 7);
  EXPECT_EQ(origins["model.hidden_size"], dir + "/b.yaml");
  apply_config_overrides(c, {"model.hidden_size=256", "data.train=[x.txt, y.txt]", "optim.lr=3e-5"}, &origins);
  EXPECT_EQ(c.model.hidden_size, 256);
  EXPECT_EQ(c.data.train, (std::vector<std::string>{"x.txt", "y.txt"}));
  EXPECT_DOUBLE_EQ(c.optim.lr, 3e-5);
  EXPECT_EQ(origins["model.hidden_size"], "--set model.hidden_size=256");
}

TEST(Config, DumpReadsBackToTheSameConfig) {
  Config c;
  apply_config_overrides(c, {"model.hidden_size=96", "model.num_attention_heads=3", "optim.lr=1e-3",
                             "data.vocab=v.txt", "data.lowercase=false", "trainer.max_minutes=2.5"});
  Config d;
  apply_config_yaml(d, dump_config_yaml(c), "dump");
  EXPECT_EQ(dump_config_yaml(c), dump_config_yaml(d));
  EXPECT_EQ(d.model.hidden_size, 96);
  EXPECT_FALSE(d.data.lowercase);
  EXPECT_DOUBLE_EQ(d.trainer.max_minutes, 2.5);
}

TEST(Config, ErrorsNameTheKeyAndTheFile) {
  const std::string dir = ct::scratch_dir("config-errors");
  ct::write_file(dir + "/unknown.yaml", "model:\n  hiden_size: 3\n");
  ct::write_file(dir + "/section.yaml", "modle:\n  hidden_size: 3\n");
  ct::write_file(dir + "/type.yaml", "model:\n  hidden_size: big\n");
  ct::write_file(dir + "/broken.yaml", "model: [\n  hidden_size: 3\n");
  ct::write_file(dir + "/invalid.yaml", "model:\n  hidden_size: 100\n  num_attention_heads: 12\n");
  Config c;
  std::string e = error_of([&] { apply_config_files(c, {dir + "/unknown.yaml"}); });
  EXPECT_NE(e.find("unknown.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("model.hiden_size"), std::string::npos) << e;
  e = error_of([&] { apply_config_files(c, {dir + "/section.yaml"}); });
  EXPECT_NE(e.find("unknown config section 'modle'"), std::string::npos) << e;
  e = error_of([&] { apply_config_files(c, {dir + "/type.yaml"}); });
  EXPECT_NE(e.find("model.hidden_size must be an integer"), std::string::npos) << e;
  e = error_of([&] { apply_config_files(c, {dir + "/broken.yaml"}); });
  EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;
  e = error_of([&] { apply_config_files(c, {dir + "/missing.yaml"}); });
  EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
  Config v;
  ConfigOrigins origins;
  apply_config_files(v, {dir + "/invalid.yaml"}, &origins);
  e = error_of([&] { validate_config(v, origins); });
  EXPECT_NE(e.find("invalid.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("divisible"), std::string::npos) << e;
  e = error_of([&] { apply_config_overrides(c, {"hidden_size=3"}); });
  EXPECT_NE(e.find("section.key=value"), std::string::npos) << e;
}

TEST(Config, PresetsInTheRepositoryAreValid) {
  for (const char* preset : {"configs/mlm-tiny.yaml", "configs/bert-base.yaml", "configs/roberta-base.yaml"}) {
    Config c;
    ConfigOrigins origins;
    apply_config_files(c, {ct::source_path(preset)}, &origins);
    EXPECT_NO_THROW(validate_config(c, origins)) << preset;
  }
}
