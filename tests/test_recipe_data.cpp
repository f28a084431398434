// Tests for the data of the R1 recipe: general prompts and their gold judge (tasks/general,
// reward/general), the corpus's explain style and second language (tasks/corpus), the cold-start
// and general SFT rows (tasks/sft_data), the R1 layout's format check, and the rejection filters
// (rl/rejection).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "reward/format.h"
#include "reward/general.h"
#include "reward/reward.h"
#include "rl/rejection.h"
#include "tasks/corpus.h"
#include "tasks/general.h"
#include "tasks/sft_data.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/json.h"

using r1::Json;

namespace {

// The content of the assistant message of an SFT row.
std::string reply_of(const Json& row) { return row.at("messages").as_array()[1].at("content").as_string(); }

bool has_non_ascii(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return (unsigned char)c >= 0x80; });
}

}  // namespace

// --- general prompts ---------------------------------------------------------------------

TEST(RecipeGeneral, EveryKindAnswersItsPrompt) {
  std::map<std::string, int> kinds;
  for (const Json& row : r1::generate_general_tasks(400, 5, 1)) {
    std::string kind = row.at("kind").as_string(), prompt = row.at("prompt").as_string();
    std::string answer = row.at("answer").as_string();
    kinds[kind]++;
    std::vector<std::string> list = r1::listed_words(row);
    if (kind == "reverse") {
      std::reverse(list.begin(), list.end());
      EXPECT_EQ(r1::split_words(answer), list) << prompt;
    } else if (kind == "sort") {
      std::sort(list.begin(), list.end());
      EXPECT_EQ(r1::split_words(answer), list) << prompt;
    } else if (kind == "count") {
      EXPECT_EQ(answer, std::to_string(list.size())) << prompt;
    } else if (kind == "last") {
      EXPECT_EQ(answer, list.back()) << prompt;
    } else if (kind == "upper") {
      for (char c : answer) EXPECT_TRUE(c == ' ' || (c >= 'A' && c <= 'Z')) << prompt;
    } else if (kind == "repeat") {
      std::vector<std::string> w = r1::split_words(answer);
      EXPECT_EQ(int64_t(w.size()), row.at("n").as_int()) << prompt;
      EXPECT_EQ(std::set<std::string>(w.begin(), w.end()).size(), 1u) << prompt;
    } else {
      ASSERT_EQ(kind, "fact");
      bool known = false;
      for (const auto& [thing, color] : r1::general_facts())
        known = known || (prompt == "What color is " + thing + "?" && answer == color);
      EXPECT_TRUE(known) << prompt;
    }
  }
  EXPECT_EQ(kinds.size(), 7u);  // every kind appears in 400 rows
  EXPECT_THROW(r1::generate_general_tasks(1, 0, 4), r1::Error);
}

TEST(RecipeGeneral, DeterministicAndSplitByContent) {
  EXPECT_EQ(Json(r1::generate_general_tasks(50, 3, 2)).dump(), Json(r1::generate_general_tasks(50, 3, 2)).dump());
  for (const Json& row : r1::generate_tasks("general", 100, 1, 1, r1::Split::Train)) EXPECT_FALSE(r1::in_eval_split(row));
}

TEST(RecipeGeneral, GoldJudge) {
  Json row = Json::parse(R"({"task": "general", "kind": "reverse", "prompt": "Reverse the words: cat sun pen",
                             "answer": "pen sun cat", "n": 3})");
  auto judge = [&](const std::string& c) { return r1::judge_general(row, c).verdict; };
  EXPECT_EQ(judge("<think> x </think> <answer> pen sun cat </answer>"), "correct");
  EXPECT_EQ(judge("<answer>  Pen  sun cat. </answer>"), "correct");  // white space, case, end punctuation
  EXPECT_EQ(judge("<answer> cat sun pen </answer>"), "wrong");
  EXPECT_EQ(judge("<answer> pen sun cat dog </answer>"), "wrong");
  EXPECT_EQ(judge("<answer></answer>"), "wrong");
  EXPECT_EQ(judge("pen sun cat"), "no_answer");                      // no tag, no answer
  EXPECT_EQ(judge("<think> <answer> pen sun cat </answer> </think> <answer> cat </answer>"), "wrong");  // the last one counts
  Json up = Json::parse(R"({"task": "general", "kind": "upper", "prompt": "Write in capitals: cat", "answer": "CAT"})");
  EXPECT_TRUE(r1::judge_general(up, "<answer> CAT </answer>").correct);
  EXPECT_FALSE(r1::judge_general(up, "<answer> cat </answer>").correct);  // case is the task here
  // compute_reward dispatches general rows to the judge.
  EXPECT_EQ(r1::compute_reward(row, "<think> a </think> <answer> pen sun cat </answer>").accuracy, 1.0);
}

// --- corpus ------------------------------------------------------------------------------

TEST(RecipeCorpus, ExplainStyleAndSecondLanguage) {
  Json lin = Json::parse(R"({"task": "linear", "prompt": "Solve for x: 7x-6=43", "answer": "7", "a": 7, "b": -6, "c": 43})");
  EXPECT_EQ(r1::worked_solution(lin, "explain", 1),
            "we need x with 7x-6=43. move 6 to the right: 7x = 43+6 = 49. divide by 7: x = 49/7 = 7. "
            "check: 7*7-6 = 43, correct.");
  Json ar = Json::parse(R"({"task": "arith", "prompt": "Compute: (12+3)*4", "answer": "60"})");
  EXPECT_EQ(r1::worked_solution(ar, "explain", 1),
            "we compute (12+3)*4 step by step. 12+3 = 15. 15*4 = 60. check: 60/4 = 15, correct.");
  std::string ru = r1::second_language("check: 60/4 = 15, correct. so the x");
  EXPECT_EQ(ru, "\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb2\xd0\xb5\xd1\x80\xd0\xba\xd0\xb0: 60/4 = 15, "
                "\xd0\xb2\xd0\xb5\xd1\x80\xd0\xbd\xd0\xbe. \xd0\xb8\xd1\x82\xd0\xb0\xd0\xba x");  // "the" is dropped
  EXPECT_LT(r1::language_consistency(r1::second_language(r1::worked_solution(lin, "explain", 1))), 0.5);
}

TEST(RecipeCorpus, MixingShareAndNewDocumentKinds) {
  r1::CorpusConfig c;
  c.n_docs = 2000;
  c.w_general = 0.3;
  c.w_facts = 0.1;
  c.w_explain = 0.3;
  c.w_mixed = 0.2;
  int mixed = 0, facts = 0, general = 0;
  for (const std::string& d : r1::generate_corpus(c)) {
    mixed += has_non_ascii(d);
    facts += d.find(" is ") != std::string::npos && d.find("Q:") == std::string::npos && d.find("<") == std::string::npos;
    general += d.find("words") != std::string::npos || d.find("What color") != std::string::npos;
  }
  // At most the w_mixed share: documents whose reasoning has no word with a translation (bare
  // answers, arithmetic steps) and facts documents stay in English.
  EXPECT_GT(mixed, 0.05 * 2000);
  EXPECT_LE(mixed, 0.2 * 2000);
  EXPECT_NEAR(facts, 0.1 / 1.4 * 2000, 60);  // Binomial(2000, 1/14): sd 11.5, so 5 sd
  EXPECT_GT(general, 300);
  // Without the new weights the corpus is the one earlier presets made: no second language.
  r1::CorpusConfig old;
  old.n_docs = 300;
  for (const std::string& d : r1::generate_corpus(old)) EXPECT_FALSE(has_non_ascii(d));
}

// --- SFT rows --------------------------------------------------------------------------------

TEST(RecipeSftData, ColdStartRowsAreReadableAndCorrect) {
  r1::RewardWeights w;
  w.allow_summary = true;
  std::vector<Json> rows = r1::cold_start_rows(60, 3, {"linear", "arith"});
  ASSERT_EQ(rows.size(), 60u);
  std::map<std::string, int> tasks;
  for (const Json& row : rows) {
    tasks[row.at("task").as_string()]++;
    std::string reply = reply_of(row);
    EXPECT_EQ(row.at("source").as_string(), "cold_start");
    r1::FormatResult f = r1::check_format(reply, true);
    EXPECT_TRUE(f.ok) << reply;
    EXPECT_FALSE(r1::check_format(reply, false).ok) << "the summary stands between </think> and <answer>";
    EXPECT_DOUBLE_EQ(r1::language_consistency(f.think), 1.0) << reply;  // one language
    EXPECT_NE(f.think.find("check:"), std::string::npos) << reply;
    EXPECT_EQ(f.think.find("wait"), std::string::npos) << reply;        // no slips, no repetition
    EXPECT_NE(reply.find("</think> so "), std::string::npos) << reply;  // a summary
  }
  EXPECT_EQ(tasks["linear"], 30);
  EXPECT_EQ(tasks["arith"], 30);
  // Each reply's answer is the row's: score it against the generator's row.
  std::vector<Json> lin = r1::generate_tasks("linear", 30, 3, 1, r1::Split::Train);
  for (size_t i = 0; i < lin.size(); i++) EXPECT_EQ(r1::compute_reward(lin[i], reply_of(rows[2 * i]), w).total, 2.0);
}

TEST(RecipeSftData, GeneralRowsPassTheGoldJudge) {
  std::vector<Json> rows = r1::general_sft_rows(40, 9);
  std::vector<Json> gen = r1::generate_tasks("general", 40, 9, 1, r1::Split::Train);
  for (size_t i = 0; i < rows.size(); i++) {
    EXPECT_EQ(reply_of(rows[i]).find("<think> "), 0u);
    EXPECT_TRUE(r1::judge_general(gen[i], reply_of(rows[i])).correct) << reply_of(rows[i]);
  }
}

// --- rejection filters ----------------------------------------------------------------------

TEST(RecipeRejection, FiltersAreIndependent) {
  r1::RejectionOptions opt;
  auto gen = [](bool correct, bool format, double language, const std::string& finish, int64_t length) {
    Json g = Json::object();
    g["correct"] = correct;
    g["format"] = format;
    g["language"] = language;
    g["finish"] = finish;
    g["length"] = length;
    return g;
  };
  auto failing = [&](const Json& g) {
    std::string out;
    for (const auto& [filter, ok] : r1::rejection_filters(g, opt))
      if (!ok) out += filter + " ";
    return out;
  };
  EXPECT_EQ(failing(gen(true, true, 1.0, "stop", 50)), "");
  EXPECT_EQ(failing(gen(false, true, 1.0, "stop", 50)), "correct ");
  EXPECT_EQ(failing(gen(true, false, 1.0, "eos", 50)), "format ");
  EXPECT_EQ(failing(gen(true, true, 0.9, "stop", 50)), "language ");
  EXPECT_EQ(failing(gen(true, true, 1.0, "length", 128)), "length ");
  EXPECT_EQ(failing(gen(false, false, 0.5, "length", 128)), "correct format language length ");
  opt.max_length = 40;
  EXPECT_EQ(failing(gen(true, true, 1.0, "stop", 50)), "length ");
  opt.min_language = 0.8;
  EXPECT_EQ(failing(gen(true, true, 0.9, "stop", 30)), "");
}

TEST(RecipeLanguage, CountsWordsAndTargetWords) {
  r1::LanguageCount c = r1::count_language("so \xd0\xb8\xd1\x82\xd0\xb0\xd0\xba x = 7.");  // "so итак x = 7."
  EXPECT_EQ(c.words, 3u);
  EXPECT_EQ(c.target, 2u);
  c = r1::count_language("12+3 = 15. 15*4 = 60.");  // no words: nothing to measure mixing on
  EXPECT_EQ(c.words, 0u);
  EXPECT_DOUBLE_EQ(r1::language_consistency("12+3 = 15."), 0.0);  // ... while the reward scores it 0
}
