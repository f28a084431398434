// Tests for util/fs: read_file, atomic file writes (including failure midway), atomic
// directory replace, TempDir.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "util/error.h"
#include "util/fs.h"

namespace stdfs = std::filesystem;

// Names in a folder, sorted.
static std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

static void expect_error_contains(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needle;
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(UtilFs, WriteThenReadRoundTripsBinaryBytes) {
  r1::TempDir tmp;
  std::string bytes("a\0b\xff\n", 5);
  r1::write_file_atomic(tmp.file("x.bin"), bytes);
  EXPECT_EQ(r1::read_file(tmp.file("x.bin")), bytes);
  r1::write_file_atomic(tmp.file("x.bin"), "second");
  EXPECT_EQ(r1::read_file(tmp.file("x.bin")), "second");
  r1::write_file_atomic(tmp.file("empty"), "");
  EXPECT_EQ(r1::read_file(tmp.file("empty")), "");
  EXPECT_EQ(list_dir(tmp.path()), (std::vector<std::string>{"empty", "x.bin"}));  // no temp files left
}

TEST(UtilFs, StreamingWriterConcatenatesChunks) {
  r1::TempDir tmp;
  std::vector<float> big(100000);
  for (size_t i = 0; i < big.size(); i++) big[i] = float(i);
  r1::write_file_atomic(tmp.file("f"), [&](const r1::ByteWriter& write) {
    write("hdr", 3);
    write(big.data(), big.size() * sizeof(float));
  });
  std::string got = r1::read_file(tmp.file("f"));
  ASSERT_EQ(got.size(), 3 + big.size() * 4);
  EXPECT_EQ(got.substr(0, 3), "hdr");
  EXPECT_EQ(std::memcmp(got.data() + 3, big.data(), big.size() * 4), 0);
}

TEST(UtilFs, FailureMidwayKeepsTheOldFileAndRemovesTheTemp) {
  r1::TempDir tmp;
  r1::write_file_atomic(tmp.file("ckpt"), "good old contents");
  EXPECT_THROW(r1::write_file_atomic(tmp.file("ckpt"),
                                     [&](const r1::ByteWriter& write) {
                                       write("half of the new", 15);
                                       throw std::runtime_error("disk exploded");
                                     }),
               std::runtime_error);
  EXPECT_EQ(r1::read_file(tmp.file("ckpt")), "good old contents");
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"ckpt"});
}

TEST(UtilFs, NewFilesGetTheUmaskMode) {
  r1::TempDir tmp;
  mode_t mask = ::umask(022);  // known umask for this test, restored below
  r1::write_file_atomic(tmp.file("m"), "x");
  ::umask(mask);
  struct stat st;
  ASSERT_EQ(::stat(tmp.file("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);  // 0666 & ~022, not mkstemp's 0600
}

TEST(UtilFs, ErrorsNameThePath) {
  r1::TempDir tmp;
  expect_error_contains([&] { r1::read_file(tmp.file("missing.txt")); }, tmp.file("missing.txt") + ": cannot open file");
  expect_error_contains([&] { r1::read_file(tmp.path()); }, "not a regular file");
  expect_error_contains([&] { r1::write_file_atomic(tmp.file("no/such/dir/f"), "x"); }, tmp.file("no/such/dir/f") + ": cannot create temp file");
  stdfs::create_directory(tmp.file("adir"));
  expect_error_contains([&] { r1::write_file_atomic(tmp.file("adir"), "x"); }, "cannot rename temp file into place");
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"adir"});
}

TEST(UtilFs, ReplaceDirCreatesThenReplacesWholeFolder) {
  r1::TempDir tmp;
  std::string dir = tmp.file("ckpt");
  r1::replace_dir_atomic(dir, [](const std::string& d) {
    r1::write_file_atomic(d + "/a", "old a");
    r1::write_file_atomic(d + "/only_old", "x");
  });
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"a", "only_old"}));
  r1::replace_dir_atomic(dir + "/", [](const std::string& d) {
    r1::write_file_atomic(d + "/a", "new a");
    stdfs::create_directory(d + "/sub");
    r1::write_file_atomic(d + "/sub/b", "b");
  });
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"a", "sub"}));
  EXPECT_EQ(r1::read_file(dir + "/a"), "new a");
  EXPECT_EQ(r1::read_file(dir + "/sub/b"), "b");
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"ckpt"});  // no .tmp-/.old- leftovers
}

TEST(UtilFs, ReplaceDirFailureLeavesOldFolderUntouched) {
  r1::TempDir tmp;
  std::string dir = tmp.file("ckpt");
  r1::replace_dir_atomic(dir, [](const std::string& d) { r1::write_file_atomic(d + "/a", "old"); });
  EXPECT_THROW(r1::replace_dir_atomic(dir,
                                      [](const std::string& d) {
                                        r1::write_file_atomic(d + "/a", "new");
                                        throw r1::Error("trainer crashed");
                                      }),
               r1::Error);
  EXPECT_EQ(r1::read_file(dir + "/a"), "old");
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"ckpt"});
  r1::write_file_atomic(tmp.file("plain"), "x");
  expect_error_contains([&] { r1::replace_dir_atomic(tmp.file("plain"), [](const std::string&) {}); },
                        "exists and is not a directory");
}

TEST(UtilFs, TempDirIsRemovedWithItsContents) {
  std::string path;
  {
    r1::TempDir tmp("r1-test-");
    path = tmp.path();
    EXPECT_TRUE(stdfs::is_directory(path));
    EXPECT_NE(path.find("r1-test-"), std::string::npos);
    stdfs::create_directory(tmp.file("d"));
    r1::write_file_atomic(tmp.file("d/f"), "x");
  }
  EXPECT_FALSE(stdfs::exists(path));
}
