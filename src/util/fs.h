// File helpers: read a whole file, write a file atomically, replace a directory atomically,
// and a self-deleting temporary directory (for tests and scratch work).
//
// Atomic file write: the bytes go to a temp file in the same folder, the file is fsynced,
// renamed over the target, and the folder is fsynced. Readers and crashes see either the old
// file or the complete new one, never a mix; on any failure the temp file is removed and
// the old file is untouched.
// Does not do: locking against concurrent writers (the last rename wins), Windows.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace r1 {

// Whole file as bytes. Throws Error("<path>: cannot open file: <reason>") and friends.
std::string read_file(const std::string& path);

// True when `path` names an existing regular file.
bool file_exists(const std::string& path);

// Atomically replaces (or creates) `path` with `bytes`.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Same, for big payloads: `fill` is called once with `write`, which appends n bytes to the
// temp file, so the caller streams its buffers without building a second copy in memory.
// An exception thrown by `fill` (or by `write`) aborts: the temp file is removed and the
// exception propagates.
using ByteWriter = std::function<void(const void* data, size_t n)>;
void write_file_atomic(const std::string& path, const std::function<void(const ByteWriter& write)>& fill);

// Atomic directory replace, for checkpoints. `fill(tmp)` writes the new contents into a fresh
// folder `dir.tmp-<unique>` beside `dir`; its files are fsynced, then it takes the place of
// `dir` and the old contents (if any) are deleted.
// Guarantee: at every instant `dir` is either absent-because-never-written, the complete old
// directory, or the complete new one; a crash never leaves a partly written `dir`.
// On Linux the swap is one renameat2(RENAME_EXCHANGE). Where that is unsupported, the old
// directory is first renamed to `dir.old-<unique>`: a crash in the instant between the two
// renames leaves `dir` absent and the complete old contents in `dir.old-<unique>`.
// If `fill` throws, the temp folder is removed and `dir` is untouched.
void replace_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& fill);

// --- temporary directory ---------------------------------------------------------

// A fresh empty folder under $TMPDIR (or /tmp), deleted with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "r1-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace r1
