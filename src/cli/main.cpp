// r1: the one command-line tool. Dispatches `r1 <command> ...` to the registered command
// (see command.h). User mistakes (r1::Error) print "error: <message>" and exit 2;
// anything else unexpected exits 1.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "util/error.h"

static void print_help() {
  std::printf("r1.cpp: the DeepSeek-R1 training pipeline in C++17/CUDA\n\n"
              "usage: r1 <command> [<subcommand>] [--flag value ...]\n"
              "       r1 <command> --help\n\ncommands:\n");
  for (const auto& kv : r1::commands()) std::printf("  %-12s %s\n", kv.first.c_str(), kv.second.help.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  auto it = r1::commands().find(name);
  if (it == r1::commands().end()) {
    std::fprintf(stderr, "error: unknown command '%s' (see 'r1 help')\n", name.c_str());
    return 2;
  }
  for (int i = 2; i < argc && !it->second.handles_help; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", it->second.usage.c_str());
      return 0;
    }
  }
  try {
    r1::Args args(std::vector<std::string>(argv + 2, argv + argc), "r1 " + name);
    return it->second.run(args);
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 1;
  }
}
