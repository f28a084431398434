// `r1 verify`: runs one verifier or rule-based reward on one prediction, for checking
// verdicts by hand or against another implementation. One function per --task below;
// each returns {"correct", "reward", "verdict", "extracted"} (plus any task extras).
// Exit code 0 whatever the verdict; 2 only for bad usage.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>

#include "cli/command.h"
#include "reward/code.h"
#include "reward/countdown.h"
#include "reward/format.h"
#include "reward/math_table.h"
#include "reward/math_verifier.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 verify --task TASK [--gold STR] --pred STR [--json]\n"
    "  --task math       --gold ANSWER --pred TEXT [--rel-tol X]\n"
    "                    TEXT's final answer (<answer> tag, else \\boxed{}, else the whole text)\n"
    "                    against ANSWER, exactly; --rel-tol > 0 allows a relative error on\n"
    "                    numeric answers (default 0: exact)\n"
    "  --task math --cases FILE.jsonl\n"
    "                    runs a table of {\"source\", \"category\", \"gold\", \"pred\", \"mv\": 0|1,\n"
    "                    [\"r1_differs\": reason]} rows (data/golden/math_verify/cases.jsonl: Math-Verify's\n"
    "                    own test cases) and prints the agreement per category and every\n"
    "                    disagreement; --json prints the tallies and outcomes instead; exit code 1\n"
    "                    when a disagreement has no reason or a reason no longer applies"
    "  --task countdown  --gold TASK --pred TEXT; TASK is \"numbers=3,5,7 target=22\" or a\n"
    "                    JSON row {\"numbers\": [3,5,7], \"target\": 22, ...}\n"
    "  --task format     --pred TEXT: <think>...</think><answer>...</answer> format (reward 1/0)\n"
    "  --task language   --pred TEXT: fraction of ASCII-letter words in the chain of thought\n"
    "  --task code       --tests FILE.json --pred FILE [--language python|cpp]: runs the program\n"
    "                    in FILE (its final <answer>, or a ``` block in it, else the whole file) in\n"
    "                    the sandbox on each {\"input\", \"output\"} of the JSON array FILE.json;\n"
    "                    --json adds \"detail\" and \"tests\" (per-test verdict, stdout, seconds)\n"
    "  --pred -          reads TEXT from stdin (for multi-line completions)\n"
    "  --json            print {\"correct\", \"reward\", \"verdict\", \"extracted\"} on stdout\n"
    "  exit code: 0 whatever the verdict, 2 for bad usage";

static Json outcome(bool correct, double reward, const std::string& verdict, const std::string& extracted) {
  return Json(Json::Object{
      {"correct", correct}, {"reward", reward}, {"verdict", verdict}, {"extracted", extracted}});
}

// --pred STR, or "-" for stdin.
static std::string prediction(Args& args) {
  std::string pred = args.str("pred");
  if (pred != "-") return pred;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// --- one function per task ------------------------------------------------------------

static Json verify_math_task(Args& args) {
  MathOptions opt;
  std::string gold = args.str("gold");
  std::string pred = prediction(args);
  opt.rel_tol = args.number("rel-tol", 0.0);
  check(opt.rel_tol >= 0, "r1 verify: --rel-tol must be >= 0");
  args.finish();
  MathResult r = verify_math(gold, pred, /*whole_if_none=*/true, opt);
  return outcome(r.correct, r.correct ? 1.0 : 0.0, r.verdict, r.extracted);
}

static Json verify_countdown_task(Args& args) {
  CountdownProblem p = parse_countdown_spec(args.str("gold"));
  std::string pred = prediction(args);
  args.finish();
  CountdownResult r = verify_countdown(p, pred, /*whole_if_none=*/true);
  return outcome(r.correct, r.correct ? 1.0 : 0.0, r.verdict, r.extracted);
}

static Json verify_format_task(Args& args) {
  std::string pred = prediction(args);
  args.finish();
  FormatResult r = check_format(pred);
  return outcome(r.ok, r.ok ? 1.0 : 0.0, r.verdict, r.answer);
}

static Json verify_language_task(Args& args) {
  std::string pred = prediction(args);
  args.finish();
  std::string cot = chain_of_thought(pred);
  double frac = language_consistency(cot);
  return outcome(frac == 1.0, frac, "fraction of target-language words", cot);
}

static Json verify_code_task(Args& args) {
  Json tests = Json::parse_file(args.str("tests"));
  std::string path = args.str("pred");
  std::string pred = path == "-" ? prediction(args) : read_file(path);
  std::string language = args.str("language", "python");
  args.finish();
  std::string program = extract_program(pred, /*whole_if_none=*/true);
  CodeResult r = verify_code_completion(pred, tests, language, SandboxLimits{}, /*whole_if_none=*/true);
  return code_result_json(r, program);
}

static const std::map<std::string, Json (*)(Args&)> kTasks = {
    {"math", verify_math_task},
    {"countdown", verify_countdown_task},
    {"format", verify_format_task},
    {"language", verify_language_task},
    {"code", verify_code_task},
};

// --task math --cases FILE: the agreement table (see reward/math_table.h).
static int run_math_table(Args& args, bool json) {
  std::string path = args.str("cases");
  args.finish();
  std::vector<MathCaseOutcome> outcomes = run_math_cases(read_jsonl(path), path);
  std::vector<MathCategoryTally> tallies = tally_math_cases(outcomes);
  if (json) {
    Json doc = Json::object(), cats = Json::array(), cases = Json::array();
    for (const MathCategoryTally& t : tallies)
      cats.push_back(Json(Json::Object{{"category", t.category}, {"cases", t.cases}, {"agree", t.agree},
                                       {"deliberate", t.deliberate}, {"unexplained", t.unexplained},
                                       {"stale", t.stale}}));
    for (const MathCaseOutcome& o : outcomes)
      cases.push_back(Json(Json::Object{{"source", o.source}, {"category", o.category}, {"mv", o.expected},
                                        {"r1", o.r1}, {"verdict", o.verdict}, {"extracted", o.extracted},
                                        {"r1_differs", o.differs}}));
    doc["categories"] = cats;
    doc["cases"] = cases;
    std::printf("%s\n", doc.dump().c_str());
  } else {
    std::printf("%s", math_table_markdown(outcomes).c_str());
  }
  const MathCategoryTally& all = tallies.back();
  return all.unexplained == 0 && all.stale == 0 ? 0 : 1;
}

// --- command -------------------------------------------------------------------------------

static int run_verify(Args& args) {
  std::string task = args.str("task");
  bool json = args.flag("json");
  if (task == "math" && args.has("cases")) return run_math_table(args, json);
  auto it = kTasks.find(task);
  if (it == kTasks.end()) {
    std::string names;
    for (const auto& kv : kTasks) names += (names.empty() ? "" : ", ") + kv.first;
    throw Error(cat("r1 verify: unknown --task '", task, "' (expected one of: ", names, ")"));
  }
  Json r = it->second(args);
  if (json) {
    std::printf("%s\n", r.dump().c_str());
  } else {
    std::printf("%s  reward %g  verdict: %s\nextracted: %s\n", r.at("correct").as_bool() ? "correct" : "wrong",
                r.at("reward").as_number(), r.at("verdict").as_string().c_str(),
                r.at("extracted").as_string().c_str());
  }
  return 0;
}

static const bool registered = register_command(
    {"verify", "check one answer: r1 verify --task math|countdown|format|language|code --gold A --pred B", kUsage,
     run_verify});

}  // namespace r1
