// Tests for src/tasks/preferences.h: every chosen reply passes the gold judge and the format
// check, every rejected reply fails what its kind says it fails, all kinds occur, pairs are
// deterministic per (seed, i) and respect the train/eval split.
#include <gtest/gtest.h>

#include <map>

#include "reward/format.h"
#include "reward/general.h"
#include "tasks/preferences.h"

namespace r1 {
namespace {

TEST(PrefPairs, ChosenPassesAndRejectedFailsTheJudge) {
  for (int difficulty = 1; difficulty <= 3; difficulty++) {
    std::map<std::string, int> kinds;
    for (const PreferencePair& p : generate_preference_pairs(400, 11, difficulty)) {
      kinds[p.kind]++;
      EXPECT_TRUE(judge_general(p.row, p.chosen).correct) << p.chosen;
      EXPECT_TRUE(check_format(p.chosen).ok) << p.chosen;
      EXPECT_NE(p.chosen, p.rejected);
      bool judged = judge_general(p.row, p.rejected).correct;
      if (p.kind == "bad_format") {
        EXPECT_TRUE(!judged || !check_format(p.rejected).ok) << p.rejected;
        EXPECT_FALSE(check_format(p.rejected).ok) << p.rejected;
      } else {
        EXPECT_FALSE(judged) << p.kind << ": " << p.row.dump() << " -> " << p.rejected;
      }
      if (p.kind == "truncated") {
        EXPECT_EQ(p.rejected.find("</answer>"), std::string::npos);
        EXPECT_EQ(p.chosen.rfind(p.rejected, 0), 0u) << "a truncated reply is a prefix of the chosen one";
      }
    }
    for (const std::string& k : preference_kinds()) EXPECT_GT(kinds[k], 60) << k;
  }
}

TEST(PrefPairs, DeterministicPerSeedAndIndex) {
  std::vector<PreferencePair> a = generate_preference_pairs(50, 3, 2), b = generate_preference_pairs(80, 3, 2);
  for (size_t i = 0; i < a.size(); i++) EXPECT_EQ(a[i].to_json().dump(), b[i].to_json().dump()) << i;
  std::vector<PreferencePair> c = generate_preference_pairs(50, 4, 2);
  int same = 0;
  for (size_t i = 0; i < a.size(); i++) same += a[i].to_json().dump() == c[i].to_json().dump();
  EXPECT_LT(same, 5);
}

TEST(PrefPairs, RowsAndSplit) {
  for (const PreferencePair& p : generate_preference_pairs(30, 5, 1, Split::Eval)) {
    Json j = p.to_json();
    EXPECT_EQ(j.at("task").as_string(), "general");
    for (const char* f : {"prompt", "answer", "chosen", "rejected", "kind"}) EXPECT_TRUE(j.at(f).is_string()) << f;
    EXPECT_TRUE(in_eval_split(p.row));
  }
  for (const PreferencePair& p : generate_preference_pairs(30, 5, 1)) EXPECT_FALSE(in_eval_split(p.row));
}

}  // namespace
}  // namespace r1
