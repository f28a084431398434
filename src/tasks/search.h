// The search task (issue #17): Countdown over left-to-right chains, a problem where checking a
// candidate is easy (a few small operations) and finding one is not (the candidates are the
// orderings of the numbers times the operator choices), so trying, checking and retrying pays.
// Rows: {"task":"search","prompt":"Reach 22 with 3 5 7 using + - * /, each number once.",
//        "answer":"3*5+7","numbers":[3,5,7],"target":22,"difficulty":1}
// The answer is graded by the countdown verifier (reward/countdown.h): any expression that uses
// every number once and equals the target is right, not only chains.
// This file also writes the search traces of the pretraining corpus (tasks/corpus.h): a
// heuristic solver (depth-first, greedy best-first or random order) tries candidates one by one
// ("3+5 = 8. 8*7 = 56. not 22."), sometimes slips and notices it ("3+5 = 9. wait, 3+5 = 8."),
// and either finds the target ("3*5 = 15. 15+7 = 22. found.") or gives up after a random number
// of tries (answering its closest candidate) or is cut off, as Stream of Search's traces do.
// Does not do: trees other than chains in the traces, search over more than 4 numbers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/rng.h"

namespace r1 {

// difficulty 1: 3 numbers 1..9; 2: 3 numbers 1..15; 3: 4 numbers 1..9 (a 24x larger search);
// 0: a mix, row i at level 1 + i % 3. Every row records its level in "difficulty".
std::vector<Json> generate_search_tasks(int64_t n, uint64_t seed, int difficulty);

// A candidate: the numbers in `order`, combined left to right with ops[k] between the running
// value and order[k + 1]. Valid when every intermediate value is a non-negative integer.
struct SearchCandidate {
  std::vector<int64_t> order;  // (count)
  std::string ops;             // (count - 1) of + - * /
};

struct ChainStep {
  int64_t a = 0, b = 0, c = 0;
  char op = '+';
  std::string str() const;  // "8*7 = 56"
};

// The steps of a valid candidate (empty when it is not valid).
std::vector<ChainStep> chain_steps(const SearchCandidate& c);
// The candidate as an expression with the parentheses a chain needs: "(3+5)*7".
std::string chain_expression(const SearchCandidate& c);

// Every valid candidate for the numbers in a solver's order: "dfs" (orderings of the numbers
// as given, then operators + - * / nested), "greedy" (best-first: smallest distance between the
// value before the last step and a value the last number can turn into the target; ties in dfs
// order) or "random". Throws r1::Error on another name.
std::vector<SearchCandidate> solver_order(const std::vector<int64_t>& numbers, int64_t target,
                                          const std::string& solver, Rng& rng);

struct SearchTraceOptions {
  bool optimal = false;   // show the solution only (the ablation's optimal paths)
  double give_up = 0.15;  // after each wrong candidate the solver stops with this probability
  int max_tries = 8;      // ... and always after this many wrong candidates
  double slip = 0.05;     // per step: a wrong value, noticed at once ("wait, ...")
  double cutoff = 0.1;   // share of stopped searches that end without an answer (cut off)
};

struct SearchTrace {
  std::string solver;     // dfs | greedy | random
  std::string reasoning;  // the text inside <think>
  std::string answer;     // the expression answered ("" when cut off)
  bool solved = false;    // the trace found the target (then answer is a solution)
  bool cut_off = false;
  int candidates = 0;     // candidates evaluated
};

// A trace for a search (or countdown) row: {"numbers", "target"}.
SearchTrace search_trace(const Json& row, const SearchTraceOptions& opt, Rng& rng);

}  // namespace r1
