// core/atomic_file and core/fs_util (tested here with their first user, io/).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "support/support.h"

namespace cotrain {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AtomicFile, WritesReplacesAndLeavesNoTemporaryFiles) {
  const std::string dir = testing::scratch_dir("atomic");
  const std::string path = dir + "/a.bin";
  std::string binary("x\0y\xff", 4);
  write_file_atomically(path, binary);
  EXPECT_EQ(read_whole_file(path), binary);
  std::string big(3 << 20, 'z');  // larger than one read chunk
  big[12345] = 'q';
  write_file_atomically(path, big);
  EXPECT_EQ(read_whole_file(path), big);
  write_file_atomically(path, "");
  EXPECT_EQ(read_whole_file(path), "");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "a.bin");
  }
  EXPECT_EQ(entries, 1);
  // Permissions of a new file follow the umask like any other file, not mkstemp's 0600.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST(AtomicFile, StreamedWriterPublishesOnlyOnCommit) {
  const std::string dir = testing::scratch_dir("atomic-stream");
  const std::string path = dir + "/s.bin";
  write_file_atomically(path, "old");
  {
    AtomicFileWriter writer(path);
    writer.write("new ");
    EXPECT_EQ(read_whole_file(path), "old");  // not yet
    // Abandoned (as when an exception unwinds): the old file stays, no temporary left.
  }
  EXPECT_EQ(read_whole_file(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  AtomicFileWriter writer(path);
  writer.write("new ");
  writer.write(std::string("data"));
  writer.commit();
  EXPECT_EQ(read_whole_file(path), "new data");
  EXPECT_THROW(writer.write("more"), Error);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
}

TEST(AtomicFile, ErrorsNameThePath) {
  const std::string dir = testing::scratch_dir("atomic-errors");
  std::string msg = error_of([&] { write_file_atomically(dir + "/no/such/x.txt", "a"); });
  EXPECT_NE(msg.find(dir + "/no/such/x.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  msg = error_of([&] { write_file_atomically(dir, "a"); });
  EXPECT_NE(msg.find("is a folder"), std::string::npos) << msg;
  msg = error_of([&] { read_whole_file(dir + "/missing.txt"); });
  EXPECT_EQ(msg, dir + "/missing.txt: no such file");
  msg = error_of([&] { read_whole_file(dir); });
  EXPECT_NE(msg.find("is a folder"), std::string::npos) << msg;
}

TEST(AtomicFile, PermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  const std::string dir = testing::scratch_dir("atomic-perm");
  ::chmod(dir.c_str(), 0500);
  std::string msg = error_of([&] { write_file_atomically(dir + "/x.txt", "a"); });
  ::chmod(dir.c_str(), 0700);
  EXPECT_NE(msg.find(dir + "/x.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("permission"), std::string::npos) << msg;
  testing::write_file(dir + "/secret.txt", "s");
  ::chmod((dir + "/secret.txt").c_str(), 0);
  msg = error_of([&] { read_whole_file(dir + "/secret.txt"); });
  EXPECT_NE(msg.find("secret.txt: cannot open"), std::string::npos) << msg;
}

TEST(AtomicFile, UnwritableFolderEvenForRoot) {
  // sysfs refuses new files even to root; the message names the target path.
  if (!is_directory("/sys")) GTEST_SKIP() << "no /sys";
  std::string msg = error_of([] { write_file_atomically("/sys/cotrain-test.bin", "a"); });
  EXPECT_EQ(msg.rfind("/sys/cotrain-test.bin: cannot create a temporary file next to it: ", 0), 0u) << msg;
  EXPECT_FALSE(path_exists("/sys/cotrain-test.bin"));
}

TEST(AtomicFile, DiskFullIsExplained) {
  // /dev/full fails every write with ENOSPC; the message must say what to do.
  EXPECT_NE(describe_errno(ENOSPC).find("disk is full"), std::string::npos);
  EXPECT_NE(describe_errno(EACCES).find("permissions"), std::string::npos);
}

TEST(FsUtil, Paths) {
  EXPECT_EQ(join_path("a", "b"), "a/b");
  EXPECT_EQ(join_path("a/", "b"), "a/b");
  EXPECT_EQ(join_path("", "b"), "b");
  EXPECT_EQ(parent_directory("x.txt"), ".");
  EXPECT_EQ(parent_directory("d/e/x.txt"), "d/e");
  const std::string dir = testing::scratch_dir("fsutil");
  ensure_directory(dir + "/p/q");
  EXPECT_TRUE(is_directory(dir + "/p/q"));
  testing::write_file(dir + "/f", "x");
  EXPECT_TRUE(is_regular_file(dir + "/f"));
  std::string msg = error_of([&] { ensure_directory(dir + "/f"); });
  EXPECT_NE(msg.find("not a folder"), std::string::npos) << msg;
  msg = error_of([&] { ensure_directory(dir + "/f/sub"); });
  EXPECT_NE(msg.find(dir + "/f/sub: cannot create folder"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cotrain
