// Tests for the synthetic pretraining corpus: worked solutions are correct (every step's
// arithmetic checks out and the last result is the answer), styles look as documented,
// documents are deterministic and never contain an eval-split prompt.
#include <gtest/gtest.h>

#include <regex>

#include "tasks/corpus.h"
#include "tasks/tasks.h"
#include "util/error.h"

using namespace r1;

TEST(Corpus, WorkedSolutionsEndInTheAnswer) {
  for (const char* task : {"arith", "linear", "countdown"}) {
    for (const Json& row : generate_tasks(task, 50, 5, 1, Split::Train)) {
      for (const char* style : {"steps", "check", "slip"}) {
        std::string s = worked_solution(row, style, 9);
        std::string ans = row.at("answer").as_string();
        // The last "= value" before any check is the answer (countdown: the target).
        std::string body = s.substr(0, s.find(" check:"));
        size_t eq = body.rfind("= ");
        ASSERT_NE(eq, std::string::npos) << s;
        std::string last = body.substr(eq + 2);
        while (!last.empty() && (last.back() == '.' || last.back() == ' ')) last.pop_back();
        std::string want = std::string(task) == "countdown" ? std::to_string(row.at("target").as_int()) : ans;
        EXPECT_EQ(last, want) << task << " " << style << ": " << s;
        if (std::string(style) == "slip") {
          EXPECT_NE(s.find("wait, "), std::string::npos) << s;
        }
        if (std::string(style) == "check") {
          EXPECT_NE(s.find("check: "), std::string::npos) << s;
        }
      }
    }
  }
}

TEST(Corpus, EveryIntegerStepIsCorrectArithmetic) {
  // "a+b = c" lines (integers) outside of slips must be true.
  std::regex step(R"((-?\d+)([+*-])(-?\d+) = (-?\d+)\.)");
  for (const Json& row : generate_tasks("arith", 100, 6, 2, Split::Train)) {
    std::string s = worked_solution(row, "steps", 1);
    for (std::sregex_iterator it(s.begin(), s.end(), step), end; it != end; ++it) {
      long long a = std::stoll((*it)[1]), b = std::stoll((*it)[3]), c = std::stoll((*it)[4]);
      char op = std::string((*it)[2])[0];
      EXPECT_EQ(op == '+' ? a + b : op == '-' ? a - b : a * b, c) << s;
    }
  }
}

TEST(Corpus, DeterministicPrefixStableAndNoEvalPrompts) {
  CorpusConfig c;
  c.n_docs = 300;
  std::vector<std::string> a = generate_corpus(c), b = generate_corpus(c);
  EXPECT_EQ(a, b);
  c.n_docs = 100;
  std::vector<std::string> prefix = generate_corpus(c);
  EXPECT_EQ(prefix, std::vector<std::string>(a.begin(), a.begin() + 100));
  for (const char* task : {"arith", "linear", "countdown"})
    for (const Json& row : generate_tasks(task, 200, 0, 1, Split::Eval))
      for (const std::string& d : a) ASSERT_EQ(d.find(row.at("prompt").as_string() + "."), std::string::npos) << d;
}

TEST(Corpus, ConfigRejectsUnknownFields) {
  EXPECT_THROW(CorpusConfig::from_json(Json::parse(R"({"n_doc": 5})"), "p.json"), Error);
  EXPECT_EQ(CorpusConfig::from_json(CorpusConfig().to_json(), "x").to_json().dump(), CorpusConfig().to_json().dump());
}
