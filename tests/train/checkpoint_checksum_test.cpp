// Checkpoint checksums (issue 8): SHA-256 against the FIPS 180-4 examples and
// coreutils' sha256sum, the manifest written inside the atomic checkpoint write, and
// --resume's choice of checkpoint when the newest is damaged.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cotrain/core/error.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/checksum.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;
namespace fs = std::filesystem;

namespace {

std::string sha256_of(const std::string& text, size_t piece = 0) {
  train::Sha256 sha;
  if (piece == 0) {
    sha.update(text.data(), text.size());
  } else {
    for (size_t i = 0; i < text.size(); i += piece) sha.update(text.data() + i, std::min(piece, text.size() - i));
  }
  return sha.hex_digest();
}

// A run folder with checkpoints at `updates`, each holding two small files.
std::string make_run(const std::string& name, const std::vector<int64_t>& updates, int64_t keep = 5) {
  const std::string run = ct::scratch_dir(name);
  for (int64_t u : updates)
    train::write_checkpoint(run, u, keep, [&](const std::string& dir) {
      ct::write_file(dir + "/model.safetensors", std::string(1000, static_cast<char>('a' + u)));
      ct::write_file(dir + "/progress.json", "{\"update\": " + std::to_string(u) + "}\n");
    });
  return run;
}

void flip_byte(const std::string& path, size_t at) {
  std::string bytes = ct::read_file(path);
  ASSERT_LT(at, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  ct::write_file(path, bytes);
}

}  // namespace

TEST(Sha256, FipsExamples) {
  EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in pieces that straddle the 64-byte blocks.
  const std::string million(1000000, 'a');
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(sha256_of(million), expected);
  EXPECT_EQ(sha256_of(million, 7), expected);
  EXPECT_EQ(sha256_of(million, 64), expected);
  EXPECT_EQ(sha256_of(million, 100003), expected);
}

TEST(Sha256, AgreesWithCoreutilsOnFilesOfEveryLengthModulo64) {
  const std::string dir = ct::scratch_dir("sha-files");
  uint32_t state = 12345;
  for (size_t n : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000, (1 << 20) + 3}) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>((state = state * 1103515245u + 12345u) >> 24);
    const std::string path = dir + "/f" + std::to_string(n);
    ct::write_file(path, bytes);
    auto r = ct::run_shell("sha256sum '" + path + "'", false);
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(train::sha256_file(path), r.output.substr(0, 64)) << n << " bytes";
  }
}

TEST(CheckpointChecksums, ManifestCoversEveryFileAndSha256sumAccepts) {
  const std::string run = make_run("manifest", {2});
  const std::string dir = run + "/checkpoints/update-0000002";
  const std::string manifest = ct::read_file(dir + "/checksums.sha256");
  EXPECT_NE(manifest.find("  model.safetensors\n"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("  progress.json\n"), std::string::npos) << manifest;
  EXPECT_EQ(train::verify_checksum_manifest(dir, true), "");
  auto r = ct::run_shell("cd '" + dir + "' && sha256sum --strict -c checksums.sha256");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // No temporary folders are left next to it.
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    EXPECT_EQ(e.path().filename().string().find('.'), std::string::npos) << e.path();
}

TEST(CheckpointChecksums, VerifyNamesWhatIsWrong) {
  const std::string run = make_run("verify", {1});
  const std::string dir = run + "/checkpoints/update-0000001";
  flip_byte(dir + "/model.safetensors", 500);
  EXPECT_NE(train::verify_checksum_manifest(dir).find("model.safetensors: checksum"), std::string::npos);
  flip_byte(dir + "/model.safetensors", 500);
  EXPECT_EQ(train::verify_checksum_manifest(dir), "");
  ct::write_file(dir + "/stray.bin", "x");
  EXPECT_NE(train::verify_checksum_manifest(dir).find("stray.bin: not in the manifest"), std::string::npos);
  fs::remove(dir + "/stray.bin");
  fs::remove(dir + "/progress.json");
  EXPECT_NE(train::verify_checksum_manifest(dir).find("progress.json: listed in the manifest but missing"),
            std::string::npos);
  fs::remove(dir + "/checksums.sha256");
  EXPECT_EQ(train::verify_checksum_manifest(dir), "");  // an old checkpoint without one
  EXPECT_NE(train::verify_checksum_manifest(dir, true), "");
}

TEST(ResumableCheckpoint, IntactLatestIsChosen) {
  const std::string run = make_run("intact", {2, 4, 6});
  EXPECT_EQ(train::resumable_checkpoint(run).value_or(""), run + "/checkpoints/update-0000006");
  EXPECT_FALSE(train::resumable_checkpoint(ct::scratch_dir("empty-run")).has_value());
}

TEST(ResumableCheckpoint, DamagedLatestFallsBackToThePreviousOne) {
  const std::string run = make_run("damaged", {2, 4, 6});
  flip_byte(run + "/checkpoints/update-0000006/model.safetensors", 10);
  EXPECT_EQ(train::resumable_checkpoint(run).value_or(""), run + "/checkpoints/update-0000004");
  // Also damaged: a truncated file in 4 leaves 2.
  ct::write_file(run + "/checkpoints/update-0000004/model.safetensors", "short");
  EXPECT_EQ(train::resumable_checkpoint(run).value_or(""), run + "/checkpoints/update-0000002");
  // Nothing intact: an error listing every checkpoint and its problem.
  flip_byte(run + "/checkpoints/update-0000002/progress.json", 3);
  try {
    train::resumable_checkpoint(run);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no intact checkpoint"), std::string::npos) << what;
    for (const char* n : {"update-0000006", "update-0000004", "update-0000002"})
      EXPECT_NE(what.find(n), std::string::npos) << what;
  }
}

TEST(ResumableCheckpoint, MissingOrIncompleteLatestFallsBack) {
  const std::string run = make_run("missing", {3, 5});
  fs::remove_all(run + "/checkpoints/update-0000005");
  EXPECT_EQ(train::resumable_checkpoint(run).value_or(""), run + "/checkpoints/update-0000003");
  const std::string run2 = make_run("incomplete", {3, 5});
  fs::remove(run2 + "/checkpoints/update-0000005/progress.json");
  EXPECT_EQ(train::resumable_checkpoint(run2).value_or(""), run2 + "/checkpoints/update-0000003");
  // A dead writer's temporary folder is never a candidate.
  const std::string run3 = make_run("partial", {3});
  fs::create_directories(run3 + "/checkpoints/.update-0000004.partial-999999999");
  ct::write_file(run3 + "/checkpoints/.update-0000004.partial-999999999/progress.json", "{}");
  EXPECT_EQ(train::resumable_checkpoint(run3).value_or(""), run3 + "/checkpoints/update-0000003");
}

TEST(ResumableCheckpoint, StalePartialFoldersOfDeadWritersAreRemoved) {
  const std::string run = make_run("stale", {1});
  const std::string stale = run + "/checkpoints/.update-0000002.partial-999999999";
  fs::create_directories(stale);
  train::write_checkpoint(run, 2, 5, [](const std::string& dir) { ct::write_file(dir + "/progress.json", "{}"); });
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(train::resumable_checkpoint(run).value_or(""), run + "/checkpoints/update-0000002");
}

TEST(FreeSpace, RefusesWhatCannotFit) {
  const std::string dir = ct::scratch_dir("space");
  EXPECT_NO_THROW(train::check_free_space(dir, 1024));
  try {
    train::check_free_space(dir, uint64_t{1} << 62);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MB free"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  }
}
