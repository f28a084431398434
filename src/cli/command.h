// The CLI's command registry and flag parser.
// Each src/cli/cmd_<name>.cpp defines one top-level command and registers it with
//   static const bool registered = r1::register_command({"name", "one-line help", kUsage, run});
// main.cpp looks the command up by name. Flags are "--name value", "--name=value", or a
// bare "--name" (a boolean). Args::finish() rejects flags the command never read, so a
// typo is an error (exit 2), never silently ignored.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace r1 {

class Args {
 public:
  // argv excludes the program and command names. `context` names the command in errors
  // ("r1 tokenizer encode").
  Args(std::vector<std::string> argv, std::string context);

  // Leading words before the first flag (subcommands). Consumed in order.
  bool has_positional() const { return next_pos_ < positional_.size(); }
  std::string next_positional(const std::string& what);  // throws when none left

  bool has(const std::string& flag);                      // present at all
  bool flag(const std::string& flag);                     // boolean: present -> true
  std::string str(const std::string& flag);               // required
  std::string str(const std::string& flag, const std::string& def);
  int64_t integer(const std::string& flag);               // required
  int64_t integer(const std::string& flag, int64_t def);
  double number(const std::string& flag);                 // required
  double number(const std::string& flag, double def);
  std::vector<std::string> list(const std::string& flag, const std::string& def = "");  // comma-separated
  std::vector<int64_t> int_list(const std::string& flag, const std::string& def = "");  // "1,2,3"

  // Throws r1::Error naming any flag or positional word that was given but not used.
  void finish();
  const std::string& context() const { return context_; }

 private:
  const std::string* raw(const std::string& flag);
  std::string context_;
  std::vector<std::string> positional_;
  size_t next_pos_ = 0;
  std::map<std::string, std::string> flags_;
  std::set<std::string> used_;
};

struct Command {
  std::string name;   // "tokenizer"
  std::string help;   // one line for `r1 help`
  std::string usage;  // full text for `r1 <name> --help`: synopsis, every flag, defaults
  std::function<int(Args&)> run;  // returns the exit code
  bool handles_help = false;      // true: --help goes to run() (commands with their own sub-helps)
};

bool register_command(Command cmd);
const std::map<std::string, Command>& commands();

// Parses "5,17,3" into integers; throws naming `what` on a malformed entry.
std::vector<int64_t> parse_int_list(const std::string& s, const std::string& what);

// --threads N: the OpenMP thread count for the rest of the process; N <= 0 keeps the default
// (OMP_NUM_THREADS, else all cores).
void set_threads(int64_t threads);

}  // namespace r1
