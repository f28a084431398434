// The code sandbox: runs one untrusted program with limits and reports what happened.
// See sandbox.h for the contract and docs/rewards.md ("Code sandbox") for the threat model.
//
// Process layout of one run:
//   r1 (parent)        feeds nothing (stdin is a memfd), drains stdout/stderr with caps,
//    |                 kills everything on the wall deadline, reaps the supervisor
//    +- supervisor     our code, cloned into new pid/mount/net namespaces when available
//        |             (it is pid 1 there: when it exits the kernel kills every process
//        |             left in the namespace); builds the minimal root, forks, waits
//        +- program    rlimits, unprivileged uid when we are root, no_new_privs, execve
#include "reward/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace r1 {

// --- the plan a child follows ----------------------------------------------------------
// Everything the cloned supervisor and the program need is prepared before clone(): the
// parent may have other threads, so the child only makes async-signal-safe system calls
// (no malloc, no glibc fork() or setuid(): see their call sites).

enum Step : int32_t {
  kRan = 0, kMountPrivate, kMountTmpfs, kSystemDir, kDevice, kProc, kWorkMount, kPivotRoot,
  kRemountRoot, kChdir, kFork, kWait, kRedirect, kRlimit, kSetUid, kExec,
};
static const char* const kStepNames[] = {
    "ran", "make mounts private", "mount tmpfs root", "bind system folder", "bind device",
    "mount /proc", "bind work folder", "pivot_root", "remount root read-only", "chdir",
    "fork", "wait", "redirect stdio", "setrlimit", "drop to sandbox uid", "execve",
};

// What the supervisor (step kRan) or a failing child (any other step) writes to the parent.
struct Report {
  int32_t step;
  int32_t err;          // errno of the failed step
  int32_t wait_status;  // the program's wait status (step kRan)
  int32_t unused;
  int64_t cpu_us;       // the program's user+sys time (step kRan)
};

struct BindOrLink {
  std::string src, dst;  // host path -> path under the new root; src is the target for a link
  bool link;
};

struct Plan {
  bool namespaces = false, separate_uid = false;
  uid_t uid = 0;
  // Minimal root (namespaces only): host paths prepared by the parent.
  std::string root, dev_dir, proc_dir, work_host, work_mnt, old_root;
  std::vector<BindOrLink> system;                        // /usr, /bin -> usr/bin, /etc, ...
  std::vector<std::pair<std::string, std::string>> devices;  // /dev/null -> root/dev/null
  std::string cwd;                                       // the folder, as the program sees it
  std::vector<std::pair<int, rlimit>> rlimits;
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, envp;  // null-terminated views of argv_s, env_s
  int stdin_fd = -1, out_w = -1, err_w = -1, status_w = -1;
};

[[noreturn]] static void fail(int status_fd, Step step) {
  Report r{step, errno, 0, 0, 0};
  ssize_t n = write(status_fd, &r, sizeof r);
  (void)n;
  _exit(127);
}

// --- the supervisor and the program (child side) ---------------------------------------

// Builds root/ = a tmpfs holding read-only binds of the system folders, four device nodes,
// a fresh /proc for the new pid namespace and the work folder at /work, then pivots into it
// and detaches the old root: nothing else of the host's file system stays reachable.
static void enter_minimal_root(const Plan& p) {
  auto need = [&](bool ok, Step s) { if (!ok) fail(p.status_w, s); };
  const unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
  need(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, kMountPrivate);
  need(mount("r1box", p.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=64,mode=755") == 0,
       kMountTmpfs);
  for (const BindOrLink& m : p.system) {
    if (m.link) {
      need(symlink(m.src.c_str(), m.dst.c_str()) == 0, kSystemDir);
      continue;
    }
    need(mkdir(m.dst.c_str(), 0755) == 0, kSystemDir);
    need(mount(m.src.c_str(), m.dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0, kSystemDir);
    need(mount(nullptr, m.dst.c_str(), nullptr, ro, nullptr) == 0, kSystemDir);
  }
  need(mkdir(p.dev_dir.c_str(), 0755) == 0, kDevice);
  for (const auto& d : p.devices) {
    int fd = open(d.second.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    need(fd >= 0, kDevice);
    close(fd);
    need(mount(d.first.c_str(), d.second.c_str(), nullptr, MS_BIND, nullptr) == 0, kDevice);
  }
  need(mkdir(p.proc_dir.c_str(), 0555) == 0, kProc);
  need(mount("proc", p.proc_dir.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0, kProc);
  need(mkdir(p.work_mnt.c_str(), 0755) == 0, kWorkMount);
  need(mount(p.work_host.c_str(), p.work_mnt.c_str(), nullptr, MS_BIND, nullptr) == 0, kWorkMount);
  need(mount(nullptr, p.work_mnt.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, nullptr) == 0,
       kWorkMount);
  need(mkdir(p.old_root.c_str(), 0700) == 0, kPivotRoot);
  need(syscall(SYS_pivot_root, p.root.c_str(), p.old_root.c_str()) == 0, kPivotRoot);
  need(chdir("/") == 0, kPivotRoot);
  need(umount2("/.old", MNT_DETACH) == 0, kPivotRoot);
  need(rmdir("/.old") == 0, kPivotRoot);
  need(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0, kRemountRoot);
}

[[noreturn]] static void exec_program(const Plan& p) {
  if (dup2(p.stdin_fd, 0) < 0 || dup2(p.out_w, 1) < 0 || dup2(p.err_w, 2) < 0) fail(p.status_w, kRedirect);
  // Every other inherited descriptor closes at execve; the status pipe (already
  // close-on-exec) stays usable until then to report a failed step.
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    for (rlim_t fd = 3; fd < nofile.rlim_cur; fd++) fcntl(int(fd), F_SETFD, FD_CLOEXEC);
  }
  for (const auto& l : p.rlimits)
    if (setrlimit(l.first, &l.second) != 0) fail(p.status_w, kRlimit);
  // Raw system calls again: glibc's setuid() would try to signal the parent's other threads
  // (its thread list is a copy) under a lock one of them may have held.
  if (p.separate_uid && (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, p.uid, p.uid, p.uid) != 0 ||
                         syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0))
    fail(p.status_w, kSetUid);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);  // setuid binaries under /usr gain nothing
  prctl(PR_SET_PDEATHSIG, SIGKILL);         // (cleared by setuid above, so set after it)
  execve(p.argv[0], p.argv.data(), p.envp.data());
  fail(p.status_w, kExec);
}

// Closes every descriptor >= 3 except those in `keep`. Another thread's run may have
// been creating its pipes when we cloned; holding its write ends would delay its EOF.
static void close_all_but(int keep[4]) {
  std::sort(keep, keep + 4);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  unsigned lo = 3;
  for (int i = 0; i <= 4; i++) {
    unsigned hi = i < 4 ? unsigned(keep[i]) : ~0u;  // close [lo, hi)
    if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) != 0)
      for (unsigned fd = lo; fd < hi && fd < nofile.rlim_cur; fd++) close(int(fd));
    if (i < 4) lo = std::max(lo, hi + 1);
  }
}

static int supervisor(void* arg) {
  const Plan& p = *static_cast<const Plan*>(arg);
  int keep[4] = {p.stdin_fd, p.out_w, p.err_w, p.status_w};
  close_all_but(keep);
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // r1 dies -> we die -> (pid namespace) everything dies
  if (p.namespaces) enter_minimal_root(p);
  if (chdir(p.cwd.c_str()) != 0) fail(p.status_w, kChdir);
  // The raw system call, not glibc's fork(): that takes malloc and other locks that some
  // thread of the parent may have held at the moment we were cloned (a deadlock).
  pid_t pid = pid_t(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (pid < 0) fail(p.status_w, kFork);
  if (pid == 0) exec_program(p);
  close(p.stdin_fd);
  close(p.out_w);
  close(p.err_w);
  // Wait for the program. As pid 1 we also reap the orphans it leaves behind.
  int status = 0;
  rusage ru{};
  while (true) {
    pid_t w = wait4(-1, &status, 0, &ru);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) fail(p.status_w, kWait);
  }
  int64_t cpu_us = int64_t(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
                   ru.ru_stime.tv_usec;
  Report r{kRan, 0, status, 0, cpu_us};
  ssize_t n = write(p.status_w, &r, sizeof r);
  (void)n;
  _exit(0);
}

// --- the sandbox folder --------------------------------------------------------------------

// Each SandboxDir made by a root process gets its own uid from a range no real account uses,
// so RLIMIT_NPROC counts only that program's processes. Two folders share a uid only when
// (pid * 4099 + counter) collide modulo 2^24; they would then share a process budget.
static uint32_t fresh_uid() {
  static std::atomic<uint32_t> counter{0};
  const uint32_t kBase = 0x60000000u, kRange = 1u << 24;
  return kBase + (uint32_t(getpid()) * 4099u + counter++) % kRange;
}

SandboxDir::SandboxDir() {
  const char* t = std::getenv("TMPDIR");
  std::string base = t && *t ? t : "/tmp";
  std::string tmpl = base + "/r1box.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw Error(cat("sandbox: cannot create a folder in ", base, ": ", std::strerror(errno)));
  box_ = buf.data();
  work_ = box_ + "/work";
  bool root = geteuid() == 0;
  uid_ = root ? fresh_uid() : geteuid();
  // box: 0711 so the sandbox uid may pass through to work/ (it cannot list box/).
  bool ok = chmod(box_.c_str(), 0711) == 0 && mkdir(work_.c_str(), 0700) == 0 &&
            mkdir((box_ + "/root").c_str(), 0755) == 0 && (!root || chown(work_.c_str(), uid_, uid_) == 0);
  if (!ok) throw Error(cat("sandbox: cannot prepare ", box_, ": ", std::strerror(errno)));
}

// Removes the tree under `path` without recursion, long paths or following links: it walks
// down by directory descriptors, unlinks files, and climbs back with "..", finding the
// emptied folder's name by its inode. A hostile program may leave 100k nested folders.
static void remove_tree(const std::string& path) {
  int cur = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cur < 0) return;
  struct stat top{};
  fstat(cur, &top);
  while (true) {
    // List cur, deleting non-folders; remember one subfolder.
    std::string sub;
    int dup_fd = dup(cur);
    DIR* d = dup_fd >= 0 ? fdopendir(dup_fd) : nullptr;
    if (!d) break;
    rewinddir(d);  // the duplicate shares cur's offset, which an earlier listing moved
    while (dirent* e = readdir(d)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      struct stat st{};
      if (fstatat(cur, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) { if (sub.empty()) sub = e->d_name; }
      else unlinkat(cur, e->d_name, 0);
    }
    closedir(d);
    if (!sub.empty()) {  // go down
      fchmodat(cur, sub.c_str(), 0700, 0);  // a program may have left it mode 000
      int next = openat(cur, sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) {
        if (unlinkat(cur, sub.c_str(), AT_REMOVEDIR) != 0) break;  // cannot enter nor remove: give up
        continue;
      }
      close(cur);
      cur = next;
      continue;
    }
    // cur is empty: climb to its parent and remove it there (or stop at the top).
    struct stat me{};
    fstat(cur, &me);
    if (me.st_dev == top.st_dev && me.st_ino == top.st_ino) break;
    int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(cur);
    if (up < 0) return;
    cur = up;
    int dup_up = dup(cur);
    DIR* pd = dup_up >= 0 ? fdopendir(dup_up) : nullptr;
    if (!pd) break;
    rewinddir(pd);
    bool removed = false;
    while (dirent* e = readdir(pd)) {
      struct stat st{};
      if (fstatat(cur, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == me.st_dev && st.st_ino == me.st_ino &&
          std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) {
        removed = unlinkat(cur, e->d_name, AT_REMOVEDIR) == 0;
        break;
      }
    }
    closedir(pd);
    if (!removed) break;  // something in it could not be deleted: give up rather than loop
  }
  close(cur);
  rmdir(path.c_str());
}

SandboxDir::~SandboxDir() { remove_tree(box_); }

std::string SandboxDir::work_inside() const { return sandbox_isolation().namespaces ? "/work" : work_; }

void SandboxDir::write_file(const std::string& name, const std::string& content) const {
  std::string path = work_ + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < content.size();) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n <= 0 && errno != EINTR) ok = false;
    if (n > 0) done += size_t(n);
  }
  if (ok && geteuid() == 0) ok = fchown(fd, uid_, uid_) == 0;
  if (fd >= 0) close(fd);
  if (!ok) throw Error(cat("sandbox: cannot write ", path, ": ", std::strerror(errno)));
}

// --- one run (parent side) ---------------------------------------------------------------

// Processes+threads `uid` has now (RLIMIT_NPROC counts them all, so an unprivileged caller
// grants the program this many plus its budget).
static int count_tasks_of(uid_t uid) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string task = std::string("/proc/") + e->d_name + "/task";
    struct stat st{};
    if (stat(task.c_str(), &st) != 0 || st.st_uid != uid) continue;
    if (DIR* t = opendir(task.c_str())) {
      while (dirent* te = readdir(t)) n += te->d_name[0] != '.';
      closedir(t);
    }
  }
  closedir(d);
  return n;
}

static Plan make_plan(const SandboxDir& dir, const SandboxIsolation& iso, const std::vector<std::string>& argv,
                      const SandboxLimits& lim) {
  Plan p;
  p.namespaces = iso.namespaces;
  p.separate_uid = iso.separate_uid;
  p.uid = dir.uid();
  if (iso.namespaces) {
    p.root = dir.box() + "/root";
    for (const char* name : {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"}) {
      std::string host = std::string("/") + name;
      struct stat st{};
      if (lstat(host.c_str(), &st) != 0) continue;
      if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(host.c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        p.system.push_back({std::string(target, size_t(n)), p.root + host, true});
      } else if (S_ISDIR(st.st_mode)) {
        p.system.push_back({host, p.root + host, false});
      }
    }
    p.dev_dir = p.root + "/dev";
    for (const char* dev : {"null", "zero", "random", "urandom"})
      p.devices.push_back({std::string("/dev/") + dev, p.dev_dir + "/" + dev});
    p.proc_dir = p.root + "/proc";
    p.work_host = dir.work();
    p.work_mnt = p.root + "/work";
    p.old_root = p.root + "/.old";
    p.cwd = "/work";
  } else {
    p.cwd = dir.work();
  }
  rlim_t cpu = rlim_t(std::ceil(std::max(lim.cpu_seconds, 0.001)));
  rlim_t nproc = rlim_t(lim.max_processes) + (iso.separate_uid ? 0 : rlim_t(count_tasks_of(geteuid())));
  p.rlimits = {
      {RLIMIT_CPU, rlimit{cpu, cpu + 1}},  // SIGXCPU at the soft limit, SIGKILL one second later
      {RLIMIT_AS, rlimit{rlim_t(lim.memory_bytes), rlim_t(lim.memory_bytes)}},
      {RLIMIT_FSIZE, rlimit{rlim_t(lim.file_bytes), rlim_t(lim.file_bytes)}},
      {RLIMIT_NPROC, rlimit{nproc, nproc}},
      {RLIMIT_NOFILE, rlimit{rlim_t(lim.max_open_files), rlim_t(lim.max_open_files)}},
      {RLIMIT_CORE, rlimit{0, 0}},
  };
  p.argv_s = argv;
  p.env_s = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + p.cwd, "TMPDIR=" + p.cwd, "LANG=C.UTF-8"};
  return p;
}

static bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

static SandboxRun run_with(const SandboxDir& dir, const SandboxIsolation& iso, const std::vector<std::string>& argv,
                           const std::string& stdin_data, const SandboxLimits& lim) {
  SandboxRun r;
  auto sandbox_error = [&](const std::string& what) {
    r.verdict = "sandbox_error";
    r.detail = what + ": " + std::strerror(errno);
    return r;
  };
  if (argv.empty()) { errno = EINVAL; return sandbox_error("empty argv"); }
  Plan p = make_plan(dir, iso, argv, lim);
  for (auto& s : p.argv_s) p.argv.push_back(&s[0]);
  p.argv.push_back(nullptr);
  for (auto& s : p.env_s) p.envp.push_back(&s[0]);
  p.envp.push_back(nullptr);

  // stdin: an anonymous file the program reads; no writer to block on, no SIGPIPE.
  int in = memfd_create("r1-stdin", MFD_CLOEXEC);
  if (in < 0) return sandbox_error("memfd_create");
  for (size_t done = 0; done < stdin_data.size();) {
    ssize_t n = write(in, stdin_data.data() + done, stdin_data.size() - done);
    if (n < 0 && errno != EINTR) { close(in); return sandbox_error("write stdin"); }
    if (n > 0) done += size_t(n);
  }
  lseek(in, 0, SEEK_SET);
  int out[2], err[2], status[2];
  if (pipe2(out, O_CLOEXEC) != 0) { close(in); return sandbox_error("pipe"); }
  if (pipe2(err, O_CLOEXEC) != 0) { close(in); close(out[0]); close(out[1]); return sandbox_error("pipe"); }
  if (pipe2(status, O_CLOEXEC) != 0) {
    for (int fd : {in, out[0], out[1], err[0], err[1]}) close(fd);
    return sandbox_error("pipe");
  }
  // The child's ends must not sit on 0-2 (possible when r1 runs with stdio closed), or
  // the program's dup2() calls would overwrite one another.
  for (int* fd : {&in, &out[1], &err[1], &status[1]})
    if (*fd < 3) {
      int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
      close(*fd);
      *fd = moved;
    }
  if (in < 0 || out[1] < 0 || err[1] < 0 || status[1] < 0) {
    for (int fd : {in, out[0], out[1], err[0], err[1], status[0], status[1]})
      if (fd >= 0) close(fd);
    return sandbox_error("fcntl");
  }
  p.stdin_fd = in;
  p.out_w = out[1];
  p.err_w = err[1];
  p.status_w = status[1];

  auto start = std::chrono::steady_clock::now();
  std::vector<char> stack(256 << 10);  // the supervisor's stack (a copy: no CLONE_VM)
  int flags = SIGCHLD | (iso.namespaces ? CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET : 0);
  pid_t pid = clone(supervisor, stack.data() + stack.size(), flags, &p);
  int clone_errno = errno;
  for (int fd : {in, out[1], err[1], status[1]}) close(fd);
  if (pid < 0) {
    for (int fd : {out[0], err[0], status[0]}) close(fd);
    errno = clone_errno;
    return sandbox_error("clone");
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first

  // Drain stdout, stderr and the status pipe until the supervisor is gone and the output
  // pipes are closed, or until the deadline or an output cap.
  std::chrono::steady_clock::time_point deadline =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(lim.wall_seconds));
  std::string reports;
  bool timed_out = false;
  std::string over;  // "stdout" or "stderr" when a cap was exceeded
  struct Stream { int fd; std::string* buf; int64_t cap; const char* name; };
  Stream streams[3] = {{out[0], &r.out, lim.output_bytes, "stdout"},
                       {err[0], &r.err, lim.stderr_bytes, "stderr"},
                       {status[0], &reports, 1 << 16, "status"}};
  bool open_[3] = {true, true, true};
  std::vector<char> chunk(1 << 16);
  while ((open_[0] || open_[1] || open_[2]) && over.empty()) {
    double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = open_[2];  // past the deadline while the program still ran
      break;
    }
    pollfd fds[3];
    int nfds = 0, which[3];
    for (int i = 0; i < 3; i++)
      if (open_[i]) { fds[nfds] = {streams[i].fd, POLLIN, 0}; which[nfds++] = i; }
    int ready = poll(fds, nfds_t(nfds), int(std::ceil(left * 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int k = 0; k < nfds && ready > 0; k++) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Stream& s = streams[which[k]];
      ssize_t n = read(s.fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        open_[which[k]] = false;
        if (which[k] == 2) {  // the supervisor exited: the program is done
          kill(-pid, SIGKILL);  // leftovers of its group go too
          // Without a pid namespace a setsid() orphan may hold the pipes open: wait for
          // the pipes at most 100 ms more, not until the deadline.
          deadline = std::min(deadline, std::chrono::steady_clock::now() +
                                            std::chrono::steady_clock::duration(std::chrono::milliseconds(100)));
        }
        continue;
      }
      size_t room = size_t(s.cap) - std::min(s.buf->size(), size_t(s.cap));
      s.buf->append(chunk.data(), std::min(size_t(n), room));
      if (size_t(n) > room) over = s.name;
    }
  }
  kill(-pid, SIGKILL);  // the process group (all of it outside namespaces)
  kill(pid, SIGKILL);   // the supervisor: in a pid namespace its death kills everything else
  int sup_status = 0;
  while (waitpid(pid, &sup_status, 0) < 0 && errno == EINTR) {}
  for (int fd : {out[0], err[0], status[0]}) close(fd);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // --- verdict ---
  const Report* ran = nullptr;
  const Report* failed = nullptr;
  for (size_t off = 0; off + sizeof(Report) <= reports.size(); off += sizeof(Report)) {
    const Report* rep = reinterpret_cast<const Report*>(reports.data() + off);
    if (rep->step == kRan) ran = rep;
    else if (!failed) failed = rep;
  }
  if (ran) {
    r.cpu_seconds = double(ran->cpu_us) * 1e-6;
    if (WIFEXITED(ran->wait_status)) r.exit_code = WEXITSTATUS(ran->wait_status);
    if (WIFSIGNALED(ran->wait_status)) r.signal = WTERMSIG(ran->wait_status);
  }
  bool memory_words = contains(r.err, "MemoryError") || contains(r.err, "std::bad_alloc") ||
                      contains(r.err, "Cannot allocate memory") || contains(r.err, "out of memory");
  if (!over.empty()) {
    r.verdict = "output_limit";
    r.detail = cat(over, " exceeded ", over == "stdout" ? lim.output_bytes : lim.stderr_bytes, " bytes");
  } else if (timed_out) {
    r.verdict = "time_limit";
    r.detail = cat("wall clock limit of ", lim.wall_seconds, " s");
  } else if (failed) {
    int code = failed->step;
    r.verdict = "sandbox_error";
    r.detail = cat("sandbox step '", code >= 0 && code <= kExec ? kStepNames[code] : "?", "' failed: ",
                   std::strerror(failed->err));
  } else if (!ran) {
    r.verdict = "runtime_error";
    r.detail = "the supervisor died without a report (killed by the program?)";
  } else if (r.signal == SIGXCPU || (r.signal == SIGKILL && r.cpu_seconds >= double(std::ceil(lim.cpu_seconds)))) {
    r.verdict = "time_limit";
    r.detail = cat("cpu limit of ", std::ceil(lim.cpu_seconds), " s");
  } else if (r.signal == SIGXFSZ || (r.exit_code != 0 && contains(r.err, "File too large"))) {
    // (Python ignores SIGXFSZ, so there the write fails with EFBIG: "File too large".)
    r.verdict = "output_limit";
    r.detail = cat("wrote a file larger than ", lim.file_bytes, " bytes");
  } else if (r.exit_code == 0) {
    r.verdict = "ok";
  } else if (memory_words) {
    r.verdict = "memory_limit";
    r.detail = cat("allocation failed under the ", lim.memory_bytes, "-byte address-space limit");
  } else {
    r.verdict = "runtime_error";
    r.detail = r.signal ? cat("killed by signal ", r.signal, " (", strsignal(r.signal), ")")
                        : cat("exit status ", r.exit_code);
  }
  return r;
}

// --- isolation probe and public entry points ------------------------------------------------

static std::string first_executable(std::initializer_list<const char*> paths) {
  for (const char* p : paths)
    if (access(p, X_OK) == 0) return p;
  return "";
}

static SandboxIsolation probe_isolation() {
  SandboxIsolation iso;
  iso.separate_uid = geteuid() == 0;
  if (!iso.separate_uid) return iso;  // namespaces without a user namespace need root
  iso.namespaces = true;
  std::string why;
  std::string truth = first_executable({"/usr/bin/true", "/bin/true"});
  try {
    SandboxDir dir;
    SandboxRun r = run_with(dir, iso, {truth}, "", SandboxLimits{});
    if (r.verdict != "ok") why = r.verdict + ": " + r.detail;
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!why.empty()) {
    iso.namespaces = false;
    std::fprintf(stderr, "r1: sandbox: namespaces unavailable (%s); programs run with rlimits and a separate uid only\n",
                 why.c_str());
  }
  return iso;
}

SandboxIsolation sandbox_isolation() {
  static const SandboxIsolation iso = probe_isolation();
  return iso;
}

SandboxRun sandbox_run(const SandboxDir& dir, const std::vector<std::string>& argv, const std::string& stdin_data,
                       const SandboxLimits& limits) {
  return run_with(dir, sandbox_isolation(), argv, stdin_data, limits);
}

std::string find_python3() { return first_executable({"/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"}); }

}  // namespace r1
