// File helpers: read_file, atomic file and directory writes, TempDir. See fs.h for the
// guarantees. POSIX calls are used directly because fsync and O_EXCL have no std:: form.
#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace r1 {

namespace stdfs = std::filesystem;

// --- small helpers ---------------------------------------------------------------

static std::string errno_text() { return std::strerror(errno); }

static std::string parent_dir(const std::string& path) {
  std::string p = stdfs::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

// A suffix no other writer in this or another process uses at the same moment.
static std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return cat(getpid(), "-", counter++);
}

static void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw Error(cat(path, ": cannot open for fsync: ", errno_text()));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) throw Error(cat(path, ": fsync failed: ", errno_text()));
}

static void fsync_dir(const std::string& dir) { fsync_path(dir, O_RDONLY | O_DIRECTORY); }

// fsyncs every file and folder under root, then root itself.
static void fsync_tree(const std::string& root) {
  for (const auto& e : stdfs::recursive_directory_iterator(root)) {
    if (e.is_directory()) fsync_dir(e.path().string());
    else if (e.is_regular_file()) fsync_path(e.path().string(), O_RDONLY);
  }
  fsync_dir(root);
}

static void remove_tree_quietly(const std::string& path) {
  std::error_code ec;
  stdfs::remove_all(path, ec);
}

// --- read --------------------------------------------------------------------------

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(cat(path, ": cannot open file: ", errno_text()));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(cat(path, ": not a regular file"));
  }
  std::string out(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, &out[got], out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n < 0 ? errno_text() : "file shrank while reading";
      ::close(fd);
      throw Error(cat(path, ": read failed after ", got, " of ", out.size(), " bytes: ", why));
    }
    got += size_t(n);
  }
  ::close(fd);
  return out;
}

// --- atomic file write -------------------------------------------------------------

static void write_all(int fd, const void* data, size_t n, const std::string& target) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error(cat(target, ": write failed: ", errno_text()));
    p += w;
    n -= size_t(w);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(const ByteWriter& write)>& fill) {
  // Temp file in the same folder (so rename is atomic), created with O_EXCL so two writers
  // never share one; mode 0666 minus the umask, like any newly created file.
  std::string tmp;
  int fd = -1;
  while (fd < 0) {
    tmp = cat(path, ".tmp-", unique_suffix());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) throw Error(cat(path, ": cannot create temp file ", tmp, ": ", errno_text()));
  }
  try {
    fill([&](const void* data, size_t n) { write_all(fd, data, n, path); });
    if (::fsync(fd) != 0) throw Error(cat(path, ": fsync failed: ", errno_text()));
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) throw Error(cat(path, ": close failed: ", errno_text()));
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw Error(cat(path, ": cannot rename temp file into place: ", errno_text()));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  fsync_dir(parent_dir(path));
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, [&](const ByteWriter& write) { write(bytes.data(), bytes.size()); });
}

// --- atomic directory replace ----------------------------------------------------------

void replace_dir_atomic(const std::string& dir_arg, const std::function<void(const std::string& tmp_dir)>& fill) {
  std::string dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st;
  bool exists = ::stat(dir.c_str(), &st) == 0;
  if (exists && !S_ISDIR(st.st_mode)) throw Error(cat(dir, ": exists and is not a directory"));

  std::string tmp;
  while (true) {
    tmp = cat(dir, ".tmp-", unique_suffix());
    if (::mkdir(tmp.c_str(), 0777) == 0) break;
    if (errno != EEXIST) throw Error(cat(dir, ": cannot create temp folder ", tmp, ": ", errno_text()));
  }
  try {
    fill(tmp);
    fsync_tree(tmp);
  } catch (...) {
    remove_tree_quietly(tmp);
    throw;
  }

  const std::string parent = parent_dir(dir);
  if (!exists) {
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
      std::string why = errno_text();
      remove_tree_quietly(tmp);
      throw Error(cat(dir, ": cannot rename temp folder into place: ", why));
    }
    fsync_dir(parent);
    return;
  }
#ifdef RENAME_EXCHANGE
  // One atomic swap: tmp becomes dir, and the old dir now lives at tmp.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fsync_dir(parent);
    remove_tree_quietly(tmp);
    return;
  }
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    std::string why = errno_text();
    remove_tree_quietly(tmp);
    throw Error(cat(dir, ": cannot swap in the new folder: ", why));
  }
#endif
  // Fallback: two renames; between them dir is absent and dir.old-* holds the old contents.
  std::string old = cat(dir, ".old-", unique_suffix());
  if (::rename(dir.c_str(), old.c_str()) != 0) {
    std::string why = errno_text();
    remove_tree_quietly(tmp);
    throw Error(cat(dir, ": cannot move the old folder aside: ", why));
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    std::string why = errno_text();
    ::rename(old.c_str(), dir.c_str());  // put the old one back
    remove_tree_quietly(tmp);
    throw Error(cat(dir, ": cannot rename temp folder into place: ", why));
  }
  fsync_dir(parent);
  remove_tree_quietly(old);
}

// --- TempDir -------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = cat(base && *base ? base : "/tmp", "/", prefix, "XXXXXX");
  if (::mkdtemp(&templ[0]) == nullptr) throw Error(cat(templ, ": cannot create temp folder: ", errno_text()));
  path_ = templ;
}

TempDir::~TempDir() { remove_tree_quietly(path_); }

}  // namespace r1
