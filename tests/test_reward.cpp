// Tests for the countdown verifier, the format and language rewards, and the reward
// composition entry point (reward/countdown, reward/format, reward/reward).
#include <gtest/gtest.h>

#include <string>

#include "reward/countdown.h"
#include "reward/format.h"
#include "reward/reward.h"
#include "util/error.h"
#include "util/json.h"

using r1::CountdownProblem;
using r1::Json;

// --- countdown -------------------------------------------------------------------------

static std::string cd(const CountdownProblem& p, const std::string& expr) {
  return r1::check_countdown_expression(p, expr).verdict;
}

TEST(RewardCountdown, ExactRationalEvaluationAndNumberUse) {
  CountdownProblem p{{3, 5, 7}, 22};
  EXPECT_EQ(cd(p, "3*5+7"), "correct");
  EXPECT_EQ(cd(p, "7 + 5 * 3"), "correct");
  EXPECT_EQ(cd(p, "(3 * 5) + 7"), "correct");
  EXPECT_EQ(cd(p, "3\\times5+7"), "correct");
  EXPECT_EQ(cd(p, "3*5+7 = 22"), "correct");
  EXPECT_EQ(cd(p, "3*5+7 = 23"), "wrong_value");
  EXPECT_EQ(cd(p, "3*7+5"), "wrong_value");      // 26
  EXPECT_EQ(cd(p, "3*5+7+0"), "wrong_numbers");  // 0 was not given
  EXPECT_EQ(cd(p, "3*5"), "wrong_numbers");      // 7 unused
  EXPECT_EQ(cd(p, "3*5+7+7"), "wrong_numbers");  // 7 twice
  EXPECT_EQ(cd(p, "35+7"), "wrong_numbers");     // concatenation is not allowed
  EXPECT_EQ(cd(p, "-3+5*7"), "unparsable");      // no unary minus
  EXPECT_EQ(cd(p, "3*5+"), "unparsable");
  EXPECT_EQ(cd(p, "(3*5+7"), "unparsable");
  EXPECT_EQ(cd(p, ""), "unparsable");

  // Fractions in between are fine (TinyZero evaluates with real division): 6/(1-3/4) = 24.
  CountdownProblem q{{6, 1, 3, 4}, 24};
  EXPECT_EQ(cd(q, "6/(1-3/4)"), "correct");
  EXPECT_EQ(cd(q, "6/1-3/4"), "wrong_value");  // 21/4

  // Division by zero is a wrong answer, not a crash.
  CountdownProblem z{{4, 4, 2}, 2};
  EXPECT_EQ(cd(z, "2/(4-4)"), "division_by_zero");
  EXPECT_EQ(cd(z, "(4+4)/2/2"), "wrong_numbers");
  EXPECT_EQ(cd(z, "2*4/4"), "correct");

  // Repeated given numbers must each be used.
  CountdownProblem r{{2, 2, 10}, 14};
  EXPECT_EQ(cd(r, "2+2+10"), "correct");
  EXPECT_EQ(cd(r, "2+10"), "wrong_numbers");
}

TEST(RewardCountdown, ExtractionFromCompletions) {
  CountdownProblem p{{3, 5, 7}, 22};
  EXPECT_TRUE(r1::verify_countdown(p, "<think>try 3*5=15, +7</think>\n<answer>3*5+7</answer>", false).correct);
  EXPECT_EQ(r1::verify_countdown(p, "<think>3*5+7</think>", false).verdict, "no_answer");
  EXPECT_EQ(r1::verify_countdown(p, "<answer>3*5+7</answer><answer>3*7+5</answer>", false).verdict, "hedged");
  EXPECT_TRUE(r1::verify_countdown(p, "3*5+7", true).correct);
}

TEST(RewardCountdown, ProblemSpecs) {
  CountdownProblem a = r1::parse_countdown_spec("numbers=3,5,7 target=22");
  EXPECT_EQ(a.numbers, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(a.target, 22);
  CountdownProblem b = r1::parse_countdown_spec(R"({"task":"countdown","numbers":[1,2],"target":3})");
  EXPECT_EQ(b.numbers, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.target, 3);
  EXPECT_THROW(r1::parse_countdown_spec("numbers=3,5"), r1::Error);
  EXPECT_THROW(r1::parse_countdown_spec("nums=3 target=2"), r1::Error);
  EXPECT_THROW(r1::countdown_problem_from_row(Json::parse(R"({"numbers":[1]})")), r1::Error);
}

// --- format ---------------------------------------------------------------------------------

static std::string fmt(const std::string& c) { return r1::check_format(c).verdict; }

TEST(RewardFormat, ExactlyThinkThenAnswer) {
  EXPECT_EQ(fmt("<think>3+4=7</think><answer>7</answer>"), "ok");
  EXPECT_EQ(fmt("<think>a</think>\n\n<answer>7</answer>\n"), "ok");
  EXPECT_EQ(fmt("  <think>a</think> <answer>7</answer>"), "ok");
  EXPECT_EQ(fmt("<think>a</think><answer>7</answer><|endoftext|>"), "ok");
  EXPECT_EQ(fmt("<think>a</think><answer>7</answer>\n</s>\n"), "ok");
  EXPECT_EQ(fmt("<think></think><answer></answer>"), "ok");  // format only; no accuracy
  EXPECT_EQ(fmt("<answer>7</answer>"), "missing_tag");
  EXPECT_EQ(fmt("<think>a</think>7"), "missing_tag");
  EXPECT_EQ(fmt("<think>a</think><answer>7</answer><answer>8</answer>"), "repeated_tag");
  EXPECT_EQ(fmt("<think>a<think>b</think></think><answer>7</answer>"), "repeated_tag");
  EXPECT_EQ(fmt("<think>a<answer>7</answer></think>"), "wrong_order");
  EXPECT_EQ(fmt("<answer>7</answer><think>a</think>"), "wrong_order");
  EXPECT_EQ(fmt("Sure! <think>a</think><answer>7</answer>"), "text_before_think");
  EXPECT_EQ(fmt("<think>a</think> so <answer>7</answer>"), "text_between");
  EXPECT_EQ(fmt("<think>a</think><answer>7</answer> done"), "text_after_answer");
  EXPECT_EQ(fmt("<think>a</think><answer>7</answer><|endoftext|>more"), "text_after_answer");
  r1::FormatResult r = r1::check_format("<think> why </think><answer> 7 </answer>");
  EXPECT_EQ(r.think, " why ");
  EXPECT_EQ(r.answer, " 7 ");
}

// --- language ----------------------------------------------------------------------------------

TEST(RewardLanguage, FractionOfAsciiWords) {
  EXPECT_DOUBLE_EQ(r1::language_consistency("add three and four"), 1.0);
  EXPECT_DOUBLE_EQ(r1::language_consistency("3+4=7"), 0.0);  // no words at all
  EXPECT_DOUBLE_EQ(r1::language_consistency(""), 0.0);
  // "我们" (one CJK word) among three English words: 3/4.
  EXPECT_DOUBLE_EQ(r1::language_consistency("so \xe6\x88\x91\xe4\xbb\xac add them"), 0.75);
  // CJK punctuation separates words: "我，你" is two words.
  EXPECT_DOUBLE_EQ(r1::language_consistency("\xe6\x88\x91\xef\xbc\x8c\xe4\xbd\xa0 ok"), 1.0 / 3.0);
  // A word mixing scripts is not in the target language; accents make a word non-ASCII.
  EXPECT_DOUBLE_EQ(r1::language_consistency("caf\xc3\xa9 ok"), 0.5);
  // Invalid UTF-8 counts as a foreign letter, never crashes.
  EXPECT_DOUBLE_EQ(r1::language_consistency("\xff\xfe ok"), 0.5);
  EXPECT_EQ(r1::chain_of_thought("<think>abc</think><answer>1</answer>"), "abc");
  EXPECT_EQ(r1::chain_of_thought("abc</think><answer>1</answer>"), "abc");
  EXPECT_EQ(r1::chain_of_thought("abc<answer>1</answer>"), "abc");
}

// --- composition ---------------------------------------------------------------------------------

TEST(RewardCompose, DispatchesByTaskAndWeighs) {
  Json arith = Json::parse(R"({"task":"arith","prompt":"Compute: 3+4","answer":"7"})");
  r1::RewardBreakdown r = r1::compute_reward(arith, "<think>three plus four</think><answer>7</answer>");
  EXPECT_EQ(r.accuracy, 1.0);
  EXPECT_EQ(r.format, 1.0);
  EXPECT_EQ(r.language, 1.0);
  EXPECT_EQ(r.total, 2.0);  // default weights: accuracy 1 + format 1 (+ language 0)
  EXPECT_EQ(r.verdict, "equivalent");
  EXPECT_EQ(r.extracted, "7");

  // Right answer, wrong format: accuracy only.
  r = r1::compute_reward(arith, "\\boxed{7}");
  EXPECT_EQ(r.accuracy, 1.0);
  EXPECT_EQ(r.format, 0.0);
  EXPECT_EQ(r.total, 1.0);

  // Format with no reasoning and no answer: the format weight only, never accuracy.
  r = r1::compute_reward(arith, "<think></think><answer></answer>");
  EXPECT_EQ(r.accuracy, 0.0);
  EXPECT_EQ(r.format, 1.0);
  EXPECT_EQ(r.total, 1.0);
  EXPECT_EQ(r.verdict, "no_answer");

  // A bare number is not an answer for the trainer.
  EXPECT_EQ(r1::compute_reward(arith, "7").accuracy, 0.0);

  r1::RewardWeights w;
  w.accuracy = 1.0;
  w.format = 0.5;
  w.language = 0.25;
  r = r1::compute_reward(arith, "<think>so \xe6\x88\x91\xe4\xbb\xac add them</think><answer>7</answer>", w);
  EXPECT_DOUBLE_EQ(r.total, 1.0 + 0.5 + 0.25 * 0.75);

  Json linear = Json::parse(R"({"task":"linear","prompt":"Solve: 3x+1=3","answer":"2/3"})");
  EXPECT_EQ(r1::compute_reward(linear, "<think>x</think><answer>x = \\frac{2}{3}</answer>").accuracy, 1.0);
  EXPECT_EQ(r1::compute_reward(linear, "<think>x</think><answer>0.667</answer>").accuracy, 0.0);

  Json countdown = Json::parse(R"({"task":"countdown","prompt":"...","answer":"3*5+7","numbers":[3,5,7],"target":22})");
  EXPECT_EQ(r1::compute_reward(countdown, "<think>t</think><answer>7+3*5</answer>").accuracy, 1.0);
  EXPECT_EQ(r1::compute_reward(countdown, "<think>t</think><answer>7+3+5</answer>").verdict, "wrong_value");

  EXPECT_THROW(r1::compute_reward(Json::parse(R"({"task":"poetry","answer":"x"})"), "x"), r1::Error);
  EXPECT_THROW(r1::compute_reward(Json::parse(R"({"task":"arith"})"), "x"), r1::Error);
}
