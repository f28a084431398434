// Tests for tasks/code: determinism, row shape, difficulty, and that every family's
// reference Python program passes its own hidden tests in the sandbox (expected outputs
// are computed in C++, so this checks the two against each other).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "reward/code.h"
#include "tasks/code.h"
#include "util/error.h"

namespace {

std::string dump_all(const std::vector<r1::Json>& rows) {
  std::string s;
  for (const auto& r : rows) s += r.dump() + "\n";
  return s;
}

r1::SandboxLimits task_limits() {
  r1::SandboxLimits l;
  l.wall_seconds = 5;  // reference programs finish in ~30 ms; this only bounds a hang
  l.cpu_seconds = 2;
  return l;
}

}  // namespace

TEST(CodeTasks, DeterministicBySeedAndRowIndependentOfCount) {
  auto a = r1::generate_code_tasks(12, 7, 2);
  auto b = r1::generate_code_tasks(12, 7, 2);
  auto c = r1::generate_code_tasks(12, 8, 2);
  auto prefix = r1::generate_code_tasks(4, 7, 2);
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(dump_all(a), dump_all(b));
  EXPECT_NE(dump_all(a), dump_all(c));
  EXPECT_EQ(dump_all(prefix), dump_all(std::vector<r1::Json>(a.begin(), a.begin() + 4)));
  EXPECT_TRUE(r1::generate_code_tasks(0, 7, 2).empty());
}

TEST(CodeTasks, RowsHaveTheDatasetShape) {
  for (const r1::Json& row : r1::generate_code_tasks(20, 3, 3)) {
    EXPECT_EQ(row.at("task").as_string(), "code");
    const std::string& prompt = row.at("prompt").as_string();
    const r1::Json& tests = row.at("tests");
    ASSERT_EQ(tests.size(), 5u);
    for (size_t i = 0; i < tests.size(); i++) {
      EXPECT_TRUE(tests[i].at("input").is_string());
      EXPECT_FALSE(tests[i].at("output").as_string().empty());
    }
    // The prompt shows the first test as its example.
    EXPECT_NE(prompt.find("Example input:\n" + tests[0].at("input").as_string() + "Example output:\n" +
                          tests[0].at("output").as_string()),
              std::string::npos)
        << prompt;
    EXPECT_NE(row.at("answer").as_string().find("print("), std::string::npos);
  }
}

TEST(CodeTasks, DifficultyAddsFamiliesAndIsChecked) {
  auto f1 = r1::code_task_families(1), f2 = r1::code_task_families(2), f3 = r1::code_task_families(3);
  EXPECT_EQ(f1.size(), 12u);
  EXPECT_EQ(f2.size(), 16u);
  EXPECT_EQ(f3.size(), 19u);
  for (const auto& name : f1) EXPECT_NE(std::find(f3.begin(), f3.end(), name), f3.end()) << name;
  EXPECT_THROW(r1::generate_code_tasks(1, 1, 0), r1::Error);
  EXPECT_THROW(r1::generate_code_tasks(1, 1, 4), r1::Error);
  EXPECT_THROW(r1::generate_code_tasks(-1, 1, 1), r1::Error);
}

// One row per family (the reference program identifies the family): every reference
// program passes all five of its tests in the sandbox; a wrong program does not.
TEST(CodeTasks, ReferenceProgramsPassTheirOwnTestsInTheSandbox) {
  std::map<std::string, r1::Json> one_per_family;  // reference program -> row
  for (const r1::Json& row : r1::generate_code_tasks(120, 11, 3))
    one_per_family.emplace(row.at("answer").as_string(), row);
  ASSERT_EQ(one_per_family.size(), r1::code_task_families(3).size()) << "120 rows should cover every family";
  for (const auto& kv : one_per_family) {
    r1::CodeResult r = r1::verify_code(kv.first, kv.second.at("tests"), "python", task_limits());
    EXPECT_TRUE(r.correct) << r.verdict << " " << r.detail << "\nprompt:\n"
                           << kv.second.at("prompt").as_string() << "\nprogram:\n"
                           << kv.first << (r.tests.empty() ? "" : "\ngot:\n" + r.tests.back().stdout_excerpt);
    EXPECT_EQ(r.tests.size(), 5u);
  }
  // A negative control: a program that prints nothing fails the first row's tests.
  const r1::Json& any = one_per_family.begin()->second;
  r1::CodeResult wrong = r1::verify_code("pass\n", any.at("tests"), "python", task_limits());
  EXPECT_EQ(wrong.verdict, "wrong_answer");
}
