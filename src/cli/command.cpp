// Command registry and flag parsing for the r1 CLI. See command.h.
#include "cli/command.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cerrno>
#include <cstdlib>

#include "util/error.h"

namespace r1 {

static std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> r;  // function-local: safe during static init
  return r;
}

bool register_command(Command cmd) {
  std::string name = cmd.name;
  registry()[name] = std::move(cmd);
  return true;
}

const std::map<std::string, Command>& commands() { return registry(); }

void set_threads(int64_t threads) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(int(threads));
#else
  (void)threads;
#endif
}

std::vector<int64_t> parse_int_list(const std::string& s, const std::string& what) {
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string item = s.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) {
      if (s.empty()) break;
      throw Error(cat(what, ": empty entry in list '", s, "'"));
    }
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || errno) throw Error(cat(what, ": '", item, "' is not an integer"));
    out.push_back(v);
    i = j + 1;
  }
  return out;
}

Args::Args(std::vector<std::string> argv, std::string context) : context_(std::move(context)) {
  size_t i = 0;
  for (; i < argv.size() && argv[i].rfind("--", 0) != 0; i++) positional_.push_back(argv[i]);
  for (; i < argv.size(); i++) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2)
      throw Error(cat(context_, ": unexpected argument '", a, "' (flags are --name value)"));
    std::string name = a.substr(2), value = "true";
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argv.size() && argv[i + 1].rfind("--", 0) != 0) {
      value = argv[++i];
    }
    if (flags_.count(name)) throw Error(cat(context_, ": flag --", name, " given twice"));
    flags_[name] = value;
  }
}

std::string Args::next_positional(const std::string& what) {
  if (next_pos_ >= positional_.size()) throw Error(cat(context_, ": missing ", what));
  return positional_[next_pos_++];
}

const std::string* Args::raw(const std::string& flag) {
  used_.insert(flag);
  auto it = flags_.find(flag);
  return it == flags_.end() ? nullptr : &it->second;
}

bool Args::has(const std::string& f) { return raw(f) != nullptr; }

bool Args::flag(const std::string& f) {
  const std::string* v = raw(f);
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  throw Error(cat(context_, ": flag --", f, " takes no value (got '", *v, "')"));
}

std::string Args::str(const std::string& f) {
  const std::string* v = raw(f);
  if (!v) throw Error(cat(context_, ": missing required flag --", f));
  return *v;
}

std::string Args::str(const std::string& f, const std::string& def) {
  const std::string* v = raw(f);
  return v ? *v : def;
}

int64_t Args::integer(const std::string& f) {
  std::string s = str(f);
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno) throw Error(cat(context_, ": flag --", f, " expects an integer, got '", s, "'"));
  return x;
}

int64_t Args::integer(const std::string& f, int64_t def) { return has(f) ? integer(f) : def; }

double Args::number(const std::string& f) {
  std::string s = str(f);
  char* end = nullptr;
  errno = 0;
  double x = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno) throw Error(cat(context_, ": flag --", f, " expects a number, got '", s, "'"));
  return x;
}

double Args::number(const std::string& f, double def) { return has(f) ? number(f) : def; }

std::vector<std::string> Args::list(const std::string& f, const std::string& def) {
  std::string s = str(f, def);
  std::vector<std::string> out;
  size_t i = 0;
  while (!s.empty() && i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<int64_t> Args::int_list(const std::string& f, const std::string& def) {
  return parse_int_list(str(f, def), cat(context_, " --", f));
}

void Args::finish() {
  if (next_pos_ < positional_.size())
    throw Error(cat(context_, ": unexpected argument '", positional_[next_pos_], "'"));
  for (const auto& kv : flags_)
    if (!used_.count(kv.first)) throw Error(cat(context_, ": unknown flag --", kv.first, " (see --help)"));
}

}  // namespace r1
