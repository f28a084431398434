// The search task and its traces (tasks/search.h), the search documents of the corpus, and the
// emergence metrics (rl/emergence.h, the pass@k / candidates / reflection / by-difficulty fields of
// rl/eval.h). Traces are checked by an independent reader below: it re-does every step's
// arithmetic with its own code and the countdown verifier grades the answers.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cli_util.h"
#include "reward/countdown.h"
#include "rl/emergence.h"
#include "rl/eval.h"
#include "tasks/corpus.h"
#include "tasks/search.h"
#include "tasks/tasks.h"
#include "train/data.h"
#include "util/error.h"

namespace r1 {
namespace {

CountdownProblem problem(const Json& row) { return countdown_problem_from_row(row); }

std::vector<std::string> split_sentences(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(". ", i);
    if (j == std::string::npos) j = text.size();
    std::string s = text.substr(i, j - i);
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (!s.empty()) out.push_back(s);
    i = j + 2;
  }
  return out;
}

struct Parsed {
  int64_t a = 0, b = 0, c = 0;
  char op = 0;
};

// "12*3 = 36" -> a, op, b, c; false if the sentence is not a step.
bool parse_step(const std::string& s, Parsed& p) {
  size_t k = 0;
  auto number = [&](int64_t& v) {
    size_t start = k;
    while (k < s.size() && isdigit((unsigned char)s[k])) k++;
    if (k == start) return false;
    v = std::atoll(s.substr(start, k - start).c_str());
    return true;
  };
  if (!number(p.a) || k >= s.size() || std::string("+-*/").find(s[k]) == std::string::npos) return false;
  p.op = s[k++];
  if (!number(p.b) || s.compare(k, 3, " = ") != 0) return false;
  k += 3;
  return number(p.c) && k == s.size();
}

// The true value of a step (division: the exact quotient, or -1 when it is not an integer).
int64_t truth(const Parsed& p) {
  switch (p.op) {
    case '+': return p.a + p.b;
    case '-': return p.a - p.b;
    case '*': return p.a * p.b;
    default: return p.b != 0 && p.a % p.b == 0 ? p.a / p.b : -1;
  }
}

// Reads a trace; fails the test when a step is wrong without a "wait, <correct step>" right
// after it, when a candidate does not use each number once, or a verdict disagrees with the value.
// Returns the number of candidates; *found tells whether the last verdict is "found".
int check_trace(const Json& row, const std::string& reasoning, bool* found) {
  std::multiset<int64_t> numbers;
  for (const Json& x : row.at("numbers").as_array()) numbers.insert(x.as_int());
  int64_t target = row.at("target").as_int();
  std::vector<std::string> s = split_sentences(reasoning);
  int candidates = 0;
  std::multiset<int64_t> used;
  int64_t value = -1;  // the running value of the candidate (-1: none yet)
  *found = false;
  for (size_t i = 0; i < s.size(); i++) {
    EXPECT_FALSE(*found) << "text after 'found': " << reasoning;
    Parsed p;
    bool correction = s[i].rfind("wait, ", 0) == 0;
    std::string body = correction ? s[i].substr(6) : s[i];
    if (parse_step(body, p)) {
      if (correction) {  // must fix the step just before, same operands
        Parsed prev;
        EXPECT_TRUE(i > 0 && parse_step(s[i - 1], prev) && prev.a == p.a && prev.b == p.b && prev.op == p.op &&
                    truth(prev) != prev.c)
            << "'wait' without a slip before it: " << reasoning;
      }
      bool right = truth(p) == p.c;
      bool marked = i + 1 < s.size() && s[i + 1].rfind("wait, ", 0) == 0;
      EXPECT_TRUE(right || marked) << "unmarked wrong step '" << s[i] << "' in: " << reasoning;
      if (!right) continue;  // the slip; its correction follows and stands in for it
      if (value < 0) {
        used = {p.a};
      } else {
        EXPECT_EQ(p.a, value) << "a chain step must continue from the running value: " << reasoning;
      }
      used.insert(p.b);
      value = p.c;
      continue;
    }
    if (s[i] == "give up") {
      EXPECT_EQ(i + 1, s.size()) << reasoning;
      continue;
    }
    EXPECT_TRUE(s[i] == "found" || s[i] == "not " + std::to_string(target)) << "unknown sentence '" << s[i] << "'";
    EXPECT_EQ(used, numbers) << "a candidate must use each number once: " << reasoning;
    EXPECT_EQ(s[i] == "found", value == target) << s[i] << " after value " << value << ": " << reasoning;
    *found = s[i] == "found";
    candidates++;
    value = -1;
  }
  return candidates;
}

// --- the generator ------------------------------------------------------------------------

TEST(SearchTasks, EveryRowIsSolvableAndRecordsItsDifficulty) {
  struct Level { int count, max_number, max_target; };
  const Level levels[] = {{3, 9, 99}, {3, 15, 199}, {4, 9, 199}};
  for (int d = 0; d <= 3; d++) {
    std::vector<Json> rows = generate_search_tasks(300, 5, d);
    for (size_t i = 0; i < rows.size(); i++) {
      const Json& row = rows[i];
      int level = int(row.at("difficulty").as_int());
      EXPECT_EQ(level, d == 0 ? int(1 + i % 3) : d);
      const Level& L = levels[level - 1];
      ASSERT_EQ(int(row.at("numbers").as_array().size()), L.count);
      for (const Json& x : row.at("numbers").as_array()) {
        EXPECT_GE(x.as_int(), 1);
        EXPECT_LE(x.as_int(), L.max_number);
      }
      int64_t target = row.at("target").as_int();
      EXPECT_GE(target, 10);
      EXPECT_LE(target, L.max_target);
      CountdownResult r = check_countdown_expression(problem(row), row.at("answer").as_string());
      EXPECT_TRUE(r.correct) << r.verdict << " " << row.dump();
      // every solver finds a solution among its candidates (the first 50 rows per level: the greedy
      // order sorts up to 1536 candidates)
      if (i >= 50) continue;
      Rng rng(7);
      std::vector<int64_t> nums;
      for (const Json& x : row.at("numbers").as_array()) nums.push_back(x.as_int());
      for (const char* solver : {"dfs", "greedy", "random"}) {
        bool any = false;
        for (const SearchCandidate& c : solver_order(nums, target, solver, rng)) {
          std::vector<ChainStep> st = chain_steps(c);
          ASSERT_FALSE(st.empty());
          if (st.back().c == target) {
            any = true;
            EXPECT_TRUE(check_countdown_expression(problem(row), chain_expression(c)).correct) << chain_expression(c);
          }
        }
        EXPECT_TRUE(any) << solver << " " << row.dump();
      }
    }
  }
}

TEST(SearchTasks, DeterministicPrefixAndErrors) {
  std::vector<Json> a = generate_search_tasks(10, 3, 0), b = generate_search_tasks(20, 3, 0);
  for (size_t i = 0; i < a.size(); i++) EXPECT_EQ(a[i].dump(), b[i].dump());
  EXPECT_NE(generate_search_tasks(1, 4, 1)[0].dump(), a[0].dump());
  EXPECT_THROW(generate_search_tasks(1, 3, 4), Error);
  EXPECT_THROW(generate_search_tasks(1, 3, -1), Error);
  Rng rng(1);
  EXPECT_THROW(solver_order({3, 5, 7}, 22, "bfs", rng), Error);
  // chains print with the parentheses they need
  EXPECT_EQ(chain_expression({{3, 5, 7}, "+*"}), "(3+5)*7");
  EXPECT_EQ(chain_expression({{3, 5, 7}, "*+"}), "3*5+7");
  EXPECT_EQ(chain_expression({{9, 3, 7, 2}, "-*/"}), "(9-3)*7/2");
  EXPECT_TRUE(chain_steps({{3, 5, 7}, "-+"}).empty());  // 3-5 < 0: not a chain the solvers try
  EXPECT_TRUE(chain_steps({{3, 5, 7}, "/+"}).empty());  // 3/5 is not an integer
  // repeated numbers give each candidate once
  std::vector<SearchCandidate> c = solver_order({2, 2, 2}, 8, "dfs", rng);
  std::set<std::string> distinct;
  for (const SearchCandidate& x : c) distinct.insert(chain_expression(x) + x.ops);
  EXPECT_EQ(distinct.size(), c.size());
}

// The committed held-out sets per difficulty are what data/eval/make_eval.sh's commands produce,
// and search.jsonl interleaves them (d1, d2, d3, d1, ...).
TEST(SearchTasks, CommittedEvalSetsMatchTheGenerator) {
  const char* root = std::getenv("R1_ROOT");
  std::string dir = std::string(root ? root : ".") + "/data/eval/";
  std::ifstream probe(dir + "search.jsonl");
  if (!probe) GTEST_SKIP() << "data/eval/search.jsonl not found from " << dir << " (set R1_ROOT to the repository root)";
  std::vector<std::vector<Json>> levels;
  for (int d = 1; d <= 3; d++) {
    levels.push_back(generate_tasks("search", 200, 1000000007, d, Split::Eval));
    std::vector<Json> file = read_jsonl(dir + "search_d" + std::to_string(d) + ".jsonl");
    ASSERT_EQ(file.size(), 200u);
    for (size_t i = 0; i < file.size(); i++) EXPECT_EQ(file[i].dump(), levels.back()[i].dump());
  }
  std::vector<Json> mixed = read_jsonl(dir + "search.jsonl");
  ASSERT_EQ(mixed.size(), 600u);
  for (size_t i = 0; i < mixed.size(); i++) EXPECT_EQ(mixed[i].dump(), levels[i % 3][i / 3].dump());
}

// --- traces --------------------------------------------------------------------------------

TEST(SearchTraces, StepsAreRightUnlessMarkedAndSuccessEndsInASolution) {
  SearchTraceOptions opt;
  opt.slip = 0.2;  // more slips than the default, to exercise the marking
  int solved = 0, gave_up = 0, cut = 0, many = 0;
  std::set<std::string> solvers;
  std::vector<Json> rows = generate_search_tasks(600, 11, 0);
  for (size_t i = 0; i < rows.size(); i++) {
    Rng rng(99, i);
    SearchTrace t = search_trace(rows[i], opt, rng);
    solvers.insert(t.solver);
    bool found = false;
    int n = check_trace(rows[i], t.reasoning, &found);
    EXPECT_EQ(n, t.candidates);
    EXPECT_EQ(count_candidates(t.reasoning), t.candidates);
    EXPECT_EQ(found, t.solved);
    EXPECT_LE(t.candidates - int(t.solved), opt.max_tries);
    many += t.candidates >= 3;
    if (t.solved) {
      solved++;
      EXPECT_TRUE(check_countdown_expression(problem(rows[i]), t.answer).correct) << t.answer << " " << rows[i].dump();
    } else if (t.cut_off) {
      cut++;
      EXPECT_EQ(t.answer, "");
    } else {
      gave_up++;
      EXPECT_NE(t.reasoning.find("give up."), std::string::npos);
      EXPECT_FALSE(check_countdown_expression(problem(rows[i]), t.answer).correct) << t.answer;
    }
  }
  // a mix: successes after several tries, give-ups and cut-offs, from all three solvers
  EXPECT_GT(solved, 150);
  EXPECT_GT(gave_up, 100);
  EXPECT_GT(cut, 10);
  EXPECT_GT(many, 150);
  EXPECT_EQ(solvers.size(), 3u);
}

TEST(SearchTraces, OptimalPathsAreOneCandidate) {
  SearchTraceOptions opt;
  opt.optimal = true;
  opt.slip = 0;
  for (const Json& row : generate_search_tasks(200, 12, 0)) {
    Rng rng(3);
    SearchTrace t = search_trace(row, opt, rng);
    bool found = false;
    EXPECT_EQ(check_trace(row, t.reasoning, &found), 1);
    EXPECT_TRUE(found && t.solved);
    EXPECT_TRUE(check_countdown_expression(problem(row), t.answer).correct);
  }
}

TEST(SearchCorpus, DocumentsAreChatTracesWithTheirAnswers) {
  CorpusConfig cc;
  cc.n_docs = 300;
  cc.w_arith = cc.w_linear = cc.w_countdown = 0;
  cc.w_search = 1;
  cc.w_r1zero = cc.w_qa = 0;
  cc.w_chat = 1;
  int cut = 0;
  for (const std::string& doc : generate_corpus(cc)) {
    ASSERT_EQ(doc.rfind("<|user|>Reach ", 0), 0u) << doc;
    size_t think = doc.find("<|assistant|><think> ");
    ASSERT_NE(think, std::string::npos) << doc;
    size_t close = doc.find(" </think> <answer> ");
    if (close == std::string::npos) {
      cut++;
      continue;
    }
    // Rebuild the row from the prompt and check the trace and the answer against it.
    std::string prompt = doc.substr(8, doc.find("<|assistant|>") - 8);
    Json row = Json::object();
    row["target"] = std::atoll(prompt.substr(6).c_str());
    Json nums = Json::array();
    size_t w = prompt.find(" with ") + 6, u = prompt.find(" using ");
    for (size_t k = w; k < u;) {
      size_t e = prompt.find(' ', k);
      nums.push_back(Json(int64_t(std::atoll(prompt.substr(k, std::min(e, u) - k).c_str()))));
      k = std::min(e, u) + 1;
    }
    row["numbers"] = nums;
    bool found = false;
    check_trace(row, doc.substr(think + 21, close - think - 21), &found);
    std::string answer = doc.substr(close + 19, doc.rfind(" </answer>") - close - 19);
    EXPECT_EQ(found, check_countdown_expression(problem(row), answer).correct) << doc;
  }
  EXPECT_GT(cut, 0);
  Json j = cc.to_json();
  j["search_max_tries"] = 0;
  EXPECT_THROW(CorpusConfig::from_json(j, "preset.json"), Error);
  EXPECT_EQ(CorpusConfig::from_json(cc.to_json(), "x").to_json().dump(), cc.to_json().dump());
}

// --- metrics -------------------------------------------------------------------------------

// pass@k against its definition: the share of k-subsets of the n samples that hold a correct one,
// counted by enumerating every subset (samples 0..c-1 are the correct ones).
TEST(EmergenceMetrics, PassAtKIsTheSubsetProbability) {
  for (int n = 1; n <= 10; n++)
    for (int c = 0; c <= n; c++)
      for (int k = 1; k <= n; k++) {
        int64_t subsets = 0, hit = 0;
        for (uint32_t m = 0; m < (1u << n); m++) {
          if (__builtin_popcount(m) != k) continue;
          subsets++;
          hit += (m & ((1u << c) - 1)) != 0;
        }
        // 1e-12: the product form rounds at most n times in double
        EXPECT_NEAR(pass_at_k(n, c, k), double(hit) / double(subsets), 1e-12) << n << " " << c << " " << k;
      }
  EXPECT_NEAR(pass_at_k(64, 3, 1), 3.0 / 64.0, 1e-15);  // 3 roundings of numbers below 1
  EXPECT_DOUBLE_EQ(pass_at_k(64, 0, 64), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(64, 1, 64), 1.0);
  EXPECT_THROW(pass_at_k(4, 5, 1), Error);
  EXPECT_THROW(pass_at_k(4, 1, 5), Error);
  EXPECT_THROW(pass_at_k(4, 1, 0), Error);
}

TEST(EmergenceMetrics, CandidatesAndReflectionWords) {
  EXPECT_EQ(count_candidates("<think> 3+5 = 8. 8*7 = 56. not 22. 3*5 = 15. 15+7 = 22. found. </think> <answer> 3*5+7 </answer>"), 2);
  EXPECT_EQ(count_candidates("<think> 3+5 = 8. not 22. not 22. give up. </think> not 5"), 2);  // after </think>: not counted
  EXPECT_EQ(count_candidates("3+5 = 8. 8*7 = 56. not 22. 8*7"), 1);                         // no <think>: the whole text
  EXPECT_EQ(count_candidates("<think> it is not here, nothing found"), 1);                     // "not" needs a number
  EXPECT_EQ(reflection_words().size(), 10u);
  EXPECT_EQ(count_reflection_words("Wait, that is wrong. But check: re-evaluate; retry. verify error, mistake? however"), 10);
  EXPECT_EQ(count_reflection_words("waiting checked butter mistakes"), 0);  // whole words only
}

// evaluate(): pass@k for k = 1..K, candidates and lengths by difficulty agree with the generations
// it returns (a model that stops after a random number of tokens, so lengths differ by row).
TEST(EmergenceMetrics, EvalAggregatesByDifficulty) {
  TempDir d;
  Tokenizer tok = testing::write_small_tokenizer(d.file("tok.json"));
  Transformer m = testing::stop_model(tok, 5.0f);
  std::vector<Json> rows = generate_search_tasks(6, 21, 0);
  EvalOptions o;
  o.n_samples = 3;
  o.max_new_tokens = 8;
  o.template_kind = "chat";
  EvalResult r = evaluate(m, tok, rows, o);
  ASSERT_EQ(r.difficulties.size(), 3u);
  ASSERT_EQ(r.overall.pass_at_k.size(), 3u);
  ASSERT_EQ(r.generations.size(), 18u);
  for (int level = 1; level <= 3; level++) {
    double len = 0, n = 0;
    for (size_t i = 0; i < r.generations.size(); i++)
      if (rows[i / 3].at("difficulty").as_int() == level) {
        len += double(r.generations[i].at("length").as_int());
        n++;
      }
    const TaskScore& s = r.difficulties.at("search/d" + std::to_string(level));
    EXPECT_EQ(s.rows, 2);
    EXPECT_DOUBLE_EQ(s.mean_length, len / n);
  }
  double pk[3] = {0, 0, 0}, cands = 0;
  for (size_t row = 0; row < rows.size(); row++) {
    int c = 0;
    for (int k = 0; k < 3; k++) {
      c += r.generations[row * 3 + size_t(k)].at("correct").as_bool();
      cands += double(count_candidates(r.generations[row * 3 + size_t(k)].at("completion").as_string()));
    }
    for (int k = 1; k <= 3; k++) pk[k - 1] += pass_at_k(3, c, k) / double(rows.size());
  }
  for (int k = 0; k < 3; k++) EXPECT_DOUBLE_EQ(r.overall.pass_at_k[size_t(k)], pk[k]);
  EXPECT_DOUBLE_EQ(r.overall.candidates, cands / 18.0);
  EXPECT_DOUBLE_EQ(r.overall.pass_at_k[0], r.overall.pass1);
  Json j = r.to_json();
  EXPECT_TRUE(j.at("difficulties").contains("search/d2"));
  EXPECT_EQ(j.at("overall").at("pass_at_k").as_array().size(), 3u);
}

}  // namespace
}  // namespace r1
