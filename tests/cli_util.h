// Helpers for tests that run the `r1` binary (the CLI suites) or read run folders.
#pragma once
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "util/fs.h"
#include "util/json.h"

namespace r1::testing {

// The r1 binary the CLI tests run: $R1_BIN (`make test` sets it), else the r1 beside the running
// test binary, else "" (the tests then skip).
inline std::string r1_bin() {
  const char* env = std::getenv("R1_BIN");
  if (env && *env) return env;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string path(self, size_t(n));
  path = path.substr(0, path.rfind('/') + 1) + "r1";
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? path : "";
}

struct CliRun {
  int code = -1;
  std::string out, err;
};

// Runs `OMP_NUM_THREADS=1 r1 args` (r1_bin()); stderr goes through a file in scratch.
inline CliRun run_r1(const std::string& args, const TempDir& scratch) {
  std::string err_path = scratch.file("stderr.txt");
  std::string cmd = "OMP_NUM_THREADS=1 " + r1_bin() + " " + args + " 2>" + err_path;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_path);
  return r;
}

// The non-empty lines of a metrics.jsonl, parsed.
inline std::vector<Json> metrics_lines(const std::string& path) {
  std::vector<Json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(Json::parse(line, path));
  return out;
}

}  // namespace r1::testing
