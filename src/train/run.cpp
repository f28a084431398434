// Run folders: config check, checkpoints, metrics. See run.h.
#include "train/run.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static std::vector<std::string> list_dir(const std::string& p) {
  std::vector<std::string> out;
  DIR* d = opendir(p.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

static void make_dirs(const std::string& p) {
  std::string cur;
  for (size_t i = 0; i <= p.size(); i++) {
    if (i == p.size() || p[i] == '/') {
      if (!cur.empty() && !is_dir(cur) && mkdir(cur.c_str(), 0755) != 0 && !is_dir(cur))
        throw Error(cat(cur, ": cannot create folder"));
    }
    if (i < p.size()) cur += p[i];
  }
}

std::string json_difference(const Json& a, const Json& b, const std::string& prefix) {
  std::string here = prefix.empty() ? "(top level)" : prefix;
  if (a.type() != b.type()) return cat(here, ": ", a.dump(), " vs ", b.dump());
  if (a.is_object()) {
    for (const auto& kv : a.as_object()) {
      std::string key = prefix.empty() ? kv.first : prefix + "." + kv.first;
      const Json* other = b.find(kv.first);
      if (!other) return cat(key, ": ", kv.second.dump(), " vs (absent)");
      std::string d = json_difference(kv.second, *other, key);
      if (!d.empty()) return d;
    }
    for (const auto& kv : b.as_object())
      if (!a.contains(kv.first)) return cat(prefix.empty() ? kv.first : prefix + "." + kv.first, ": (absent) vs ", kv.second.dump());
    return "";
  }
  if (a.dump() != b.dump()) return cat(here, ": ", a.dump(), " vs ", b.dump());
  return "";
}

RunDir::RunDir(const std::string& path, const Json& config, bool resume, bool writer) : path_(path), writer_(writer) {
  std::string cfg_path = file("run_config.json");
  if (resume) {
    if (!is_dir(path)) throw Error(cat("--resume: run folder ", path, " does not exist"));
    Json saved = Json::parse_file(cfg_path);
    std::string diff = json_difference(saved, config);
    if (!diff.empty())
      throw Error(cat("--resume: ", path, " belongs to a different configuration (", diff,
                      "); resume with the same flags or use a new --out folder"));
    return;
  }
  if (!writer) return;
  if (is_dir(path) && !list_dir(path).empty())
    throw Error(cat("run folder ", path, " already exists and is not empty (use --resume to continue it, or remove it)"));
  make_dirs(path);
  write_file_atomic(cfg_path, config.dump(2) + "\n");
}

std::string RunDir::latest_checkpoint() const {
  std::vector<std::string> names = list_dir(file("checkpoints"));
  for (auto it = names.rbegin(); it != names.rend(); ++it)
    if (it->rfind("step_", 0) == 0 && it->find(".tmp") == std::string::npos && it->find(".old") == std::string::npos)
      return file("checkpoints/" + *it);
  return "";
}

std::string RunDir::save_checkpoint(int64_t step, int keep_last, const std::function<void(const std::string&)>& fill) {
  if (writer_) make_dirs(file("checkpoints"));
  char name[64];
  std::snprintf(name, sizeof name, "step_%08lld", (long long)step);
  std::string dir = file(std::string("checkpoints/") + name);
  if (!writer_) return dir;
  replace_dir_atomic(dir, fill);
  if (keep_last > 0) {
    std::vector<std::string> names;
    for (const std::string& n : list_dir(file("checkpoints")))
      if (n.rfind("step_", 0) == 0 && n.find('.') == std::string::npos) names.push_back(n);
    for (size_t i = 0; i + size_t(keep_last) < names.size(); i++) {
      std::string old = file("checkpoints/" + names[i]);
      for (const std::string& f : list_dir(old)) std::remove((old + "/" + f).c_str());
      rmdir(old.c_str());
    }
  }
  return dir;
}

void RunDir::log(const Json& metrics) {
  if (!writer_) return;
  std::ofstream f(file("metrics.jsonl"), std::ios::app);
  if (!f) throw Error(cat(file("metrics.jsonl"), ": cannot open for writing"));
  f << metrics.dump() << "\n";
  f.flush();
}

void RunDir::truncate_metrics(int64_t step) {
  if (!writer_) return;
  std::string path = file("metrics.jsonl");
  std::ifstream f(path);
  if (!f) return;
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  std::string kept;
  for (size_t i = 0; i < lines.size(); i++) {
    if (lines[i].empty()) continue;
    // A crash while a line was written leaves it cut short: only the last line may be, and
    // it is dropped (its step is after the checkpoint anyway).
    Json j;
    try {
      j = Json::parse(lines[i], cat(path, ":", i + 1));
    } catch (const Error&) {
      if (i + 1 == lines.size()) break;
      throw;
    }
    if (j.get_int("step", 0) <= step) kept += lines[i] + "\n";
  }
  write_file_atomic(path, kept);
}

}  // namespace r1
