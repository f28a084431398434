// The search task's generator, solvers and traces. See search.h.
#include "tasks/search.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <set>

#include "util/error.h"

namespace r1 {

namespace {

struct SearchLevel {
  int count;       // how many numbers
  int max_number;  // numbers are drawn from 1..max_number
  int max_target;  // targets are 10..max_target
};

const SearchLevel kLevels[] = {{3, 9, 99}, {3, 15, 199}, {4, 9, 199}};

// Applies one step; false when the result is not a non-negative integer.
bool apply_step(char op, int64_t a, int64_t b, int64_t& c) {
  switch (op) {
    case '+': c = a + b; return true;
    case '-': c = a - b; return c >= 0;
    case '*': c = a * b; return true;
    default:
      if (b == 0 || a % b != 0) return false;
      c = a / b;
      return true;
  }
}

// Every valid candidate in dfs order: orderings of the indices (lexicographic), ops nested;
// a candidate equal to an earlier one (repeated numbers) is listed once.
std::vector<SearchCandidate> all_candidates(const std::vector<int64_t>& numbers) {
  static const char kOps[] = "+-*/";
  std::vector<SearchCandidate> out;
  std::set<std::pair<std::vector<int64_t>, std::string>> seen;
  std::vector<size_t> idx(numbers.size());
  for (size_t i = 0; i < idx.size(); i++) idx[i] = i;
  size_t nops = numbers.size() - 1, combos = 1;
  for (size_t k = 0; k < nops; k++) combos *= 4;
  do {
    for (size_t code = 0; code < combos; code++) {
      SearchCandidate c;
      for (size_t i : idx) c.order.push_back(numbers[i]);
      for (size_t k = 0, x = code; k < nops; k++, x /= 4) c.ops.insert(c.ops.begin(), kOps[x % 4]);
      if (!chain_steps(c).empty() && seen.insert({c.order, c.ops}).second) out.push_back(c);
    }
  } while (std::next_permutation(idx.begin(), idx.end()));
  return out;
}

int64_t chain_value(const SearchCandidate& c) { return chain_steps(c).back().c; }

// Greedy heuristic: how far the value before the last step is from the nearest value the last
// number turns into the target (target -/+ n, target * n, target / n when exact).
int64_t greedy_distance(const SearchCandidate& c, int64_t target) {
  std::vector<ChainStep> s = chain_steps(c);
  int64_t before = s.size() >= 2 ? s[s.size() - 2].c : c.order[0], n = c.order.back();
  std::vector<int64_t> needed = {target - n, target + n, target * n};
  if (n != 0 && target % n == 0) needed.push_back(target / n);
  int64_t best = std::numeric_limits<int64_t>::max();
  for (int64_t v : needed) best = std::min(best, int64_t(std::llabs(before - v)));
  return best;
}

}  // namespace

std::string ChainStep::str() const { return std::to_string(a) + op + std::to_string(b) + " = " + std::to_string(c); }

std::vector<ChainStep> chain_steps(const SearchCandidate& c) {
  std::vector<ChainStep> steps;
  if (c.order.empty() || c.ops.size() + 1 != c.order.size()) return steps;
  int64_t acc = c.order[0];
  for (size_t k = 0; k < c.ops.size(); k++) {
    ChainStep s{acc, c.order[k + 1], 0, c.ops[k]};
    if (!apply_step(s.op, s.a, s.b, s.c)) return {};
    steps.push_back(s);
    acc = s.c;
  }
  return steps;
}

std::string chain_expression(const SearchCandidate& c) {
  std::string s = std::to_string(c.order[0]);
  bool low = false;  // the running expression's top operator is + or -
  for (size_t k = 0; k < c.ops.size(); k++) {
    char op = c.ops[k];
    bool high = op == '*' || op == '/';
    if (high && low) s = "(" + s + ")";
    s += op + std::to_string(c.order[k + 1]);
    low = !high;
  }
  return s;
}

std::vector<SearchCandidate> solver_order(const std::vector<int64_t>& numbers, int64_t target,
                                          const std::string& solver, Rng& rng) {
  check(numbers.size() >= 2, "search: need at least 2 numbers, got ", numbers.size());
  std::vector<SearchCandidate> c = all_candidates(numbers);
  if (solver == "dfs") return c;
  if (solver == "random") {
    for (size_t i = c.size(); i > 1; i--) std::swap(c[i - 1], c[rng.below(i)]);
    return c;
  }
  if (solver == "greedy") {
    std::stable_sort(c.begin(), c.end(), [&](const SearchCandidate& x, const SearchCandidate& y) {
      return greedy_distance(x, target) < greedy_distance(y, target);
    });
    return c;
  }
  throw Error(cat("search: unknown solver '", solver, "' (expected dfs, greedy or random)"));
}

std::vector<Json> generate_search_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(difficulty >= 0 && difficulty <= 3, "search: difficulty must be 0..3 (0 = mixed), got ", difficulty);
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));
    int level = difficulty == 0 ? int(1 + i % 3) : difficulty;
    const SearchLevel& L = kLevels[level - 1];
    std::vector<int64_t> numbers;
    SearchCandidate sol;
    int64_t target = 0;
    while (target == 0) {  // draw numbers and a random valid chain until its value is a target in range
      numbers.clear();
      for (int k = 0; k < L.count; k++) numbers.push_back(rng.range(1, L.max_number));
      for (int attempt = 0; attempt < 50 && target == 0; attempt++) {
        SearchCandidate c;
        c.order = numbers;
        for (size_t k = c.order.size() - 1; k > 0; k--) std::swap(c.order[k], c.order[rng.below(k + 1)]);
        for (int k = 0; k + 1 < L.count; k++) c.ops += "+-*/"[rng.below(4)];
        std::vector<ChainStep> s = chain_steps(c);
        if (s.empty() || s.back().c < 10 || s.back().c > L.max_target) continue;
        target = s.back().c;
        sol = c;
      }
    }
    std::string list;
    Json nums = Json::array();
    for (int64_t x : numbers) {
      list += (list.empty() ? "" : " ") + std::to_string(x);
      nums.push_back(Json(x));
    }
    rows.push_back(Json(Json::Object{{"task", "search"},
                                     {"prompt", "Reach " + std::to_string(target) + " with " + list +
                                                    " using + - * /, each number once."},
                                     {"answer", chain_expression(sol)},
                                     {"numbers", nums},
                                     {"target", Json(target)},
                                     {"difficulty", Json(int64_t(level))}}));
  }
  return rows;
}

SearchTrace search_trace(const Json& row, const SearchTraceOptions& opt, Rng& rng) {
  std::vector<int64_t> numbers;
  for (const Json& x : row.at("numbers").as_array()) numbers.push_back(x.as_int());
  int64_t target = row.at("target").as_int();
  static const char* kSolvers[] = {"dfs", "greedy", "random"};
  SearchTrace t;
  t.solver = kSolvers[rng.below(3)];
  std::vector<SearchCandidate> order = solver_order(numbers, target, t.solver, rng);
  if (opt.optimal) {  // the first solution in the solver's order, alone
    auto it = std::find_if(order.begin(), order.end(), [&](const SearchCandidate& c) { return chain_value(c) == target; });
    check(it != order.end(), "search: no chain reaches ", target, " in ", row.dump());
    order = {*it};
  }
  const SearchCandidate* closest = nullptr;
  int wrong = 0;
  for (const SearchCandidate& c : order) {
    t.candidates++;
    for (const ChainStep& s : chain_steps(c)) {
      if (rng.uniform() < opt.slip) {  // a wrong value, noticed at once
        ChainStep bad = s;
        int64_t sign = rng.below(2) ? 1 : -1;  // two statements: the draws' order is fixed
        bad.c = s.c + sign * rng.range(1, 3);
        if (bad.c < 0) bad.c = s.c + 1;
        t.reasoning += bad.str() + ". wait, " + s.str() + ". ";
      } else {
        t.reasoning += s.str() + ". ";
      }
    }
    int64_t v = chain_value(c);
    if (v == target) {
      t.reasoning += "found.";
      t.answer = chain_expression(c);
      t.solved = true;
      return t;
    }
    t.reasoning += "not " + std::to_string(target) + ".";
    if (!closest || int64_t(std::llabs(v - target)) < int64_t(std::llabs(chain_value(*closest) - target))) closest = &c;
    wrong++;
    if (wrong >= opt.max_tries || rng.uniform() < opt.give_up) break;
    t.reasoning += " ";
  }
  // Stopped before a solution: cut off mid-search, or give up and answer the closest candidate.
  if (rng.uniform() < opt.cutoff) {
    t.cut_off = true;
    return t;
  }
  t.reasoning += " give up.";
  t.answer = chain_expression(*closest);
  return t;
}

}  // namespace r1
