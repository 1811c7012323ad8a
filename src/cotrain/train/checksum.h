// Checksums of checkpoint folders (issue 8): SHA-256 (FIPS 180-4) of every file,
// kept in a manifest written in the format of `sha256sum`, so that a user can also
// check a checkpoint by hand with `cd CHECKPOINT && sha256sum -c checksums.sha256`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cotrain::train {

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// SHA-256 of a file's bytes, read in pieces; a missing or unreadable file is a
// cotrain::Error naming it.
std::string sha256_file(const std::string& path);

constexpr const char* kChecksumManifest = "checksums.sha256";

// Writes DIR/checksums.sha256 ("HEX  relative/path" per file, sorted) covering every
// regular file under `dir` (recursively) except the manifest itself.
void write_checksum_manifest(const std::string& dir);

// Checks a folder against its manifest. Returns "" when every listed file exists
// with its checksum and no file is unlisted; otherwise what is wrong. A folder
// without a manifest (written before checksums existed) returns "no manifest" only
// when `require` is set, "" otherwise.
std::string verify_checksum_manifest(const std::string& dir, bool require = false);

}  // namespace cotrain::train
