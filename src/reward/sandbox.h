// The sandbox the code verifier runs untrusted programs in (a model's Python script, a
// compiled C++ binary, and g++ compiling it). Linux only, no extra libraries: clone/fork +
// exec, setrlimit, process groups, and (when this process may) namespaces.
//
// One run = one supervisor process (pid 1 of a new pid namespace when available) that forks
// the program and reports its exit status over a pipe. The parent feeds stdin from a memfd,
// drains stdout/stderr concurrently with caps, and kills the whole tree on the wall-clock
// deadline. When running as root each SandboxDir gets its own unprivileged uid, so
// RLIMIT_NPROC (which does not apply to root) really caps processes; with namespaces the
// program sees a minimal read-only root (/usr, /etc, /dev/{null,zero,random,urandom}, a fresh
// /proc, its own folder at /work) and has no network. docs/rewards.md "Code sandbox" has the
// threat model and what is and is not isolated. Safe to call from several threads.
//
// Does not do: seccomp syscall filtering, cgroup memory/pid accounting, user namespaces for
// unprivileged callers, comparing outputs (reward/code.h does that).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace r1 {

struct SandboxLimits {
  double wall_seconds = 2.0;           // wall clock per run; the whole process tree dies after it
  double cpu_seconds = 2.0;            // RLIMIT_CPU per process, rounded up to whole seconds
  int64_t memory_bytes = 256ll << 20;  // RLIMIT_AS per process (address space, not resident)
  int64_t output_bytes = 1ll << 20;    // stdout kept at most; more -> output_limit
  int64_t stderr_bytes = 64ll << 10;   // stderr kept at most; more -> output_limit
  int64_t file_bytes = 1ll << 20;      // RLIMIT_FSIZE: the largest file the program may write
  int max_processes = 8;               // RLIMIT_NPROC for the sandbox uid (threads count too)
  int max_open_files = 64;             // RLIMIT_NOFILE
};

struct SandboxRun {
  // "ok" (exited with status 0), "runtime_error", "time_limit", "memory_limit",
  // "output_limit" or "sandbox_error" (the sandbox itself failed: not the program's fault).
  std::string verdict;
  int exit_code = -1;  // when the program exited, else -1
  int signal = 0;      // the signal that killed it, else 0
  std::string out;     // stdout, at most limits.output_bytes
  std::string err;     // stderr, at most limits.stderr_bytes
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user+sys of the program and the children it waited for
  std::string detail;      // why, for any verdict but "ok"
};

// How programs are isolated here; probed once (a trial run) on first use.
struct SandboxIsolation {
  bool separate_uid = false;  // we are root: programs run as a fresh unprivileged uid
  bool namespaces = false;    // new pid + mount (minimal read-only root) + network namespaces
};
SandboxIsolation sandbox_isolation();

// A fresh private folder for one program: <TMPDIR or /tmp>/r1box.XXXXXX/work, owned by the
// sandbox uid. Removed with everything in it (whatever its permissions) on destruction.
class SandboxDir {
 public:
  SandboxDir();
  ~SandboxDir();
  SandboxDir(const SandboxDir&) = delete;
  SandboxDir& operator=(const SandboxDir&) = delete;

  const std::string& box() const { return box_; }    // holds work/ and root/ (a mount point)
  const std::string& work() const { return work_; }  // the program's folder and cwd
  uint32_t uid() const { return uid_; }              // the uid programs run as
  // The folder as the program sees it: "/work" inside the namespaces, else work().
  std::string work_inside() const;
  // Writes work()/name (mode 0644, owned by the sandbox uid).
  void write_file(const std::string& name, const std::string& content) const;

 private:
  std::string box_, work_;
  uint32_t uid_ = 0;
};

// Runs argv in dir with stdin = stdin_data. argv[0] is an absolute path that exists inside
// the sandbox (under /usr, /bin, /lib*, /etc); other arguments are usually relative to the
// folder (the cwd). Never throws for the program's behaviour; verdict says what happened.
SandboxRun sandbox_run(const SandboxDir& dir, const std::vector<std::string>& argv,
                       const std::string& stdin_data, const SandboxLimits& limits);

// The first of /usr/bin/python3, /usr/local/bin/python3, /bin/python3 that is executable
// (an interpreter under /root, e.g. pyenv's, is neither visible nor readable to the
// sandbox uid), or "" when none is.
std::string find_python3();

}  // namespace r1
