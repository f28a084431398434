// r1: the one command-line tool. Dispatches `r1 <command> ...` to the registered command
// (see command.h). User mistakes (r1::Error) print "error: <message>" and exit 2;
// anything else unexpected exits 1. Started by an MPI launcher (mpirun, srun), it joins the job
// first (dist/comm.h); an error on one rank then ends every rank (MPI_Abort) after printing
// "error: rank R: <message>", so no rank waits for a peer that has gone.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "dist/comm.h"
#include "util/error.h"

static void print_help() {
  std::printf("r1.cpp: the DeepSeek-R1 training pipeline in C++17/CUDA\n\n"
              "usage: r1 <command> [<subcommand>] [--flag value ...]\n"
              "       r1 <command> --help\n\ncommands:\n");
  for (const auto& kv : r1::commands()) std::printf("  %-12s %s\n", kv.first.c_str(), kv.second.help.c_str());
}

// Prints the error (naming the rank in a job of several) and exits: the whole job when
// several ranks run, since the others would wait for this one at their next collective.
static int fail(const char* kind, const char* what, int code) {
  r1::Communicator& w = r1::world();
  if (w.size() == 1) {
    std::fprintf(stderr, "%s: %s\n", kind, what);
    return code;
  }
  std::fprintf(stderr, "%s: rank %d of %d: %s\n", kind, w.rank(), w.size(), what);
  w.abort(code);  // [[noreturn]]
  return code;    // (unreachable; virtual [[noreturn]] is not seen through by -Wreturn-type)
}

int main(int argc, char** argv) {
  try {
    r1::init_world(&argc, &argv);
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    print_help();
    r1::finalize_world();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  auto it = r1::commands().find(name);
  if (it == r1::commands().end()) {
    return fail("error", ("unknown command '" + name + "' (see 'r1 help')").c_str(), 2);
  }
  // Data parallel (docs/distributed.md) are the trainers and the training benchmark; any other
  // command under a launcher would run N times and write the same files N times.
  const bool parallel_ok = name == "pretrain" || name == "sft" || name == "grpo" ||
                           (name == "bench" && argc > 2 && std::string(argv[2]) == "train");
  if (r1::world().size() > 1 && !parallel_ok)
    return fail("error", ("r1 " + name + " does not run data parallel (only pretrain, sft, grpo and bench train do):"
                          " start it without mpirun/srun").c_str(), 2);
  for (int i = 2; i < argc && !it->second.handles_help; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", it->second.usage.c_str());
      r1::finalize_world();
      return 0;
    }
  }
  try {
    r1::Args args(std::vector<std::string>(argv + 2, argv + argc), "r1 " + name);
    int rc = it->second.run(args);
    r1::finalize_world();
    return rc;
  } catch (const r1::Error& e) {
    return fail("error", e.what(), 2);
  } catch (const std::exception& e) {
    return fail("internal error", e.what(), 1);
  }
}
