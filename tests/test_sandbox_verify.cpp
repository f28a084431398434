// Tests for reward/code: program extraction, output comparison, verdicts of verify_code for
// Python and C++, malformed tests, and a program that hunts for the expected output.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>

#include "reward/code.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

using r1::Json;

r1::SandboxLimits fast_limits() {
  r1::SandboxLimits l;
  l.wall_seconds = 3;  // generous for a loaded 2-core machine; only the loop test waits for it
  l.cpu_seconds = 1;
  return l;
}

Json tests_of(std::initializer_list<std::pair<const char*, const char*>> cases) {
  Json t = Json::array();
  for (const auto& c : cases) t.push_back(Json(Json::Object{{"input", c.first}, {"output", c.second}}));
  return t;
}

}  // namespace

// --- extraction ----------------------------------------------------------------------------

TEST(SandboxVerify, ExtractsTheFinalAnswerAndItsFencedBlock) {
  EXPECT_EQ(r1::extract_program("<think>x</think><answer>print(1)</answer>"), "print(1)\n");
  EXPECT_EQ(r1::extract_program("<answer>\n```python\nimport sys\nprint(2)\n```\n</answer>"), "import sys\nprint(2)\n");
  // The final answer wins; indentation of the first line is kept.
  EXPECT_EQ(r1::extract_program("<answer>a</answer> then <answer>\n\n    x = 1\n</answer>"), "    x = 1\n");
  // An unclosed fence runs to the end of the answer.
  EXPECT_EQ(r1::extract_program("<answer>```cpp\nint main(){}\n</answer>"), "int main(){}\n");
  EXPECT_EQ(r1::extract_program("print(3)"), "");                      // no tag: nothing for the trainer
  EXPECT_EQ(r1::extract_program("print(3)", true), "print(3)\n");      // the CLI takes the whole text
  EXPECT_EQ(r1::extract_program("```py\nprint(4)\n```", true), "print(4)\n");
  EXPECT_EQ(r1::extract_program("<answer>  \n </answer>"), "");
}

// --- comparison ----------------------------------------------------------------------------

TEST(SandboxVerify, ComparisonIgnoresOnlyTrailingWhitespace) {
  EXPECT_TRUE(r1::outputs_match("1 2 3\n", "1 2 3", 0));
  EXPECT_TRUE(r1::outputs_match("1 2 3   \r\n\n\n", "1 2 3\n", 0));
  EXPECT_TRUE(r1::outputs_match("a\t\nb\n", "a\nb", 0));
  EXPECT_FALSE(r1::outputs_match("1  2 3\n", "1 2 3\n", 0));  // inner spaces matter
  EXPECT_FALSE(r1::outputs_match(" 1\n", "1\n", 0));          // leading spaces matter
  EXPECT_FALSE(r1::outputs_match("a\n\nb\n", "a\nb\n", 0));   // inner blank lines matter
  EXPECT_FALSE(r1::outputs_match("", "0\n", 0));
  EXPECT_TRUE(r1::outputs_match("", "\n\n", 0));
}

TEST(SandboxVerify, FloatToleranceOnlyWhenAsked) {
  EXPECT_FALSE(r1::outputs_match("0.3333333\n", "0.333333333\n", 0));
  EXPECT_TRUE(r1::outputs_match("0.3333333\n", "0.333333333\n", 1e-6));
  EXPECT_TRUE(r1::outputs_match("x 1000000.5\n", "x 1000000\n", 1e-6));  // relative for large values
  EXPECT_FALSE(r1::outputs_match("0.34\n", "0.333333333\n", 1e-6));
  EXPECT_FALSE(r1::outputs_match("y 0.3333333\n", "x 0.333333333\n", 1e-6));  // words stay exact
  EXPECT_FALSE(r1::outputs_match("1 2\n", "1 2 3\n", 1e-6));
}

// --- verdicts ------------------------------------------------------------------------------

TEST(SandboxVerify, PythonPassAndWrongAnswer) {
  Json tests = tests_of({{"1 2\n", "3\n"}, {"10 -4\n", "6"}, {"0 0\n", "0\n"}});
  r1::CodeResult ok = r1::verify_code("a, b = map(int, input().split())\nprint(a + b)\n", tests, "python", fast_limits());
  EXPECT_TRUE(ok.correct) << ok.verdict << ok.detail;
  EXPECT_EQ(ok.reward, 1.0);
  EXPECT_EQ(ok.verdict, "pass");
  ASSERT_EQ(ok.tests.size(), 3u);
  EXPECT_EQ(ok.tests[1].stdout_excerpt, "6\n");
  EXPECT_GT(ok.tests[0].seconds, 0.0);

  // Right on the first test, wrong on the second: stops there (reward is all or nothing).
  r1::CodeResult bad = r1::verify_code("a, b = map(int, input().split())\nprint(a + abs(b))\n", tests, "python",
                                       fast_limits());
  EXPECT_FALSE(bad.correct);
  EXPECT_EQ(bad.reward, 0.0);
  EXPECT_EQ(bad.verdict, "wrong_answer");
  ASSERT_EQ(bad.tests.size(), 2u);
  EXPECT_EQ(bad.tests[0].verdict, "pass");
  EXPECT_EQ(bad.tests[1].verdict, "wrong_answer");
  EXPECT_EQ(bad.tests[1].stdout_excerpt, "14\n");
}

TEST(SandboxVerify, RuntimeErrorAndTimeLimitVerdicts) {
  Json tests = tests_of({{"5\n", "5\n"}});
  r1::CodeResult crash = r1::verify_code("print(int(input()) // 0)\n", tests, "python", fast_limits());
  EXPECT_EQ(crash.verdict, "runtime_error");
  EXPECT_NE(crash.detail.find("ZeroDivisionError"), std::string::npos) << crash.detail;
  r1::SandboxLimits short_wall = fast_limits();
  short_wall.wall_seconds = 1;  // the wall clock or the 1 s CPU limit, whichever comes first
  r1::CodeResult loop = r1::verify_code("while True:\n    pass\n", tests, "python", short_wall);
  EXPECT_EQ(loop.verdict, "time_limit");
  EXPECT_EQ(loop.reward, 0.0);
}

TEST(SandboxVerify, CompletionWithoutAnswerIsWrongWithoutRunning) {
  Json tests = tests_of({{"", "1\n"}});
  r1::CodeResult r = r1::verify_code_completion("<think>print(1)</think>", tests, "python");
  EXPECT_EQ(r.verdict, "wrong_answer");
  EXPECT_TRUE(r.tests.empty());
  r1::CodeResult ok = r1::verify_code_completion("<think>hm</think><answer>```python\nprint(1)\n```</answer>", tests,
                                                 "python", fast_limits());
  EXPECT_TRUE(ok.correct) << ok.verdict << ok.detail;
}

TEST(SandboxVerify, CppCompilesRunsAndReportsCompileErrors) {
  Json tests = tests_of({{"3\n1 2 3\n", "6\n"}, {"1\n-7\n", "-7\n"}});
  r1::CodeResult ok = r1::verify_code(
      "#include <cstdio>\nint main() { int n; long long s = 0, x; std::scanf(\"%d\", &n);\n"
      "  for (int i = 0; i < n; i++) { std::scanf(\"%lld\", &x); s += x; }\n  std::printf(\"%lld\\n\", s); }\n",
      tests, "cpp", fast_limits());
  EXPECT_TRUE(ok.correct) << ok.verdict << ok.detail;
  r1::CodeResult bad = r1::verify_code("int main() { return undefined_name; }\n", tests, "cpp", fast_limits());
  EXPECT_EQ(bad.verdict, "compile_error");
  EXPECT_NE(bad.detail.find("undefined_name"), std::string::npos) << bad.detail;
  EXPECT_TRUE(bad.tests.empty());
}

TEST(SandboxVerify, MalformedTestsAndLanguageAreCallerErrors) {
  EXPECT_THROW(r1::verify_code("print(1)", Json::parse("{}"), "python"), r1::Error);
  EXPECT_THROW(r1::verify_code("print(1)", Json::parse("[]"), "python"), r1::Error);
  EXPECT_THROW(r1::verify_code("print(1)", Json::parse(R"([{"input": "1"}])"), "python"), r1::Error);
  EXPECT_THROW(r1::verify_code("print(1)", Json::parse(R"([{"input": 1, "output": "1"}])"), "python"), r1::Error);
  EXPECT_THROW(r1::verify_code("print(1)", tests_of({{"", "1"}}), "ruby"), r1::Error);
  try {
    r1::verify_code("print(1)", Json::parse(R"([{"input": "", "output": "1"}, {"output": "2"}])"), "python");
    FAIL() << "expected r1::Error";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tests[1]"), std::string::npos) << e.what();
  }
}

TEST(SandboxVerify, ResultJsonHasTheCliShape) {
  r1::CodeResult r = r1::verify_code("print(input())\n", tests_of({{"hi\n", "hi\n"}}), "python", fast_limits());
  Json j = r1::code_result_json(r, "print(input())\n");
  EXPECT_EQ(j.at("correct").as_bool(), true);
  EXPECT_EQ(j.at("reward").as_number(), 1.0);
  EXPECT_EQ(j.at("verdict").as_string(), "pass");
  EXPECT_EQ(j.at("extracted").as_string(), "print(input())\n");
  ASSERT_EQ(j.at("tests").size(), 1u);
  EXPECT_EQ(j.at("tests")[0].at("verdict").as_string(), "pass");
  EXPECT_EQ(j.at("tests")[0].at("stdout").as_string(), "hi\n");
}

TEST(SandboxVerify, ExcerptsAreValidUtf8) {
  // A program printing a stray byte and a cut multibyte character: the excerpt shows U+FFFD
  // for each bad byte, so the JSON result stays valid UTF-8.
  Json tests = tests_of({{"", "x\n"}});
  r1::CodeResult r = r1::verify_code("import sys\nsys.stdout.buffer.write(b'a\\xffb\\xc3\\xa9c\\xe2\\x82')\n", tests,
                                     "python", fast_limits());
  EXPECT_EQ(r.verdict, "wrong_answer");
  ASSERT_EQ(r.tests.size(), 1u);
  EXPECT_EQ(r.tests[0].stdout_excerpt, "a\xEF\xBF\xBD" "b\xC3\xA9" "c\xEF\xBF\xBD\xEF\xBF\xBD");
}

// --- r1 verify --task code ----------------------------------------------------------------

namespace {

// Runs a shell command; returns (exit status, stdout).
std::pair<int, std::string> shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST(SandboxVerify, CliPrintsOneJsonDocumentAndExitsZeroWhateverTheVerdict) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN is not set (make test sets it to build/r1)";
  r1::TempDir dir;
  r1::write_file_atomic(dir.file("tests.json"), R"([{"input": "2 3\n", "output": "5\n"}, {"input": "1 1\n", "output": "2"}])");
  r1::write_file_atomic(dir.file("good.txt"), "<think>sum</think><answer>\n```python\nprint(sum(map(int, input().split())))\n```\n</answer>");
  r1::write_file_atomic(dir.file("bad.txt"), "print(1 / 0)\n");
  std::string base = r1::cat(bin, " verify --task code --json --tests ", dir.file("tests.json"), " --pred ");
  auto [rc, out] = shell(base + dir.file("good.txt"));
  ASSERT_EQ(rc, 0) << out;
  Json j = Json::parse(out);
  EXPECT_TRUE(j.at("correct").as_bool());
  EXPECT_EQ(j.at("verdict").as_string(), "pass");
  EXPECT_EQ(j.at("extracted").as_string(), "print(sum(map(int, input().split())))\n");
  EXPECT_EQ(j.at("tests").size(), 2u);
  auto [rc2, out2] = shell(base + dir.file("bad.txt"));
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(Json::parse(out2).at("verdict").as_string(), "runtime_error");
  auto [rc3, out3] = shell(base + dir.file("bad.txt") + " --language cobol 2>/dev/null");
  EXPECT_EQ(rc3, 2);
  auto [rc4, out4] = shell(r1::cat(bin, " verify --task code --tests ", dir.file("nope.json"), " --pred ",
                                   dir.file("bad.txt"), " 2>/dev/null"));
  EXPECT_EQ(rc4, 2);
}

// --- the expected output stays out of reach ------------------------------------------------

TEST(SandboxVerify, ProgramCannotFindTheExpectedOutput) {
  r1::SandboxIsolation iso = r1::sandbox_isolation();
  if (!iso.separate_uid && !iso.namespaces) GTEST_SKIP() << "not root: the program runs as our own uid";
  // The expected output is a secret; a copy sits in a root-only tests file (as `r1 verify`
  // would read it) whose path the program knows. It also greps every /proc entry it can
  // read, walks its folder and lists the folders above it.
  std::string secret = "r1-secret-" + std::to_string(getpid()) + "-4711";
  char tmpl[] = "/tmp/r1test.XXXXXX";
  std::string folder = mkdtemp(tmpl);
  std::string file = folder + "/tests.json";
  Json tests = tests_of({{"", secret.c_str()}});
  std::ofstream(file) << tests.dump();
  std::string program =
      "import os\nsecret = 'r1-' + 'secret-'  # never spelled out here, so finding this file is no hit\nfound = []\n"
      "def look(path):\n    try:\n        with open(path, 'rb') as f:\n            data = f.read(1 << 20)\n"
      "        i = data.find(secret.encode())\n        if i >= 0:\n            found.append(data[i:i + 40].decode(errors='replace'))\n"
      "    except OSError:\n        pass\n"
      "look('" + file + "')\n"
      "for pid in os.listdir('/proc'):\n    for name in ('cmdline', 'environ', 'mem'):\n        look('/proc/' + pid + '/' + name)\n"
      "for root, dirs, files in os.walk('.'):\n    for f in files:\n        look(os.path.join(root, f))\n"
      "for top in ('..', '../..', '/tmp', '" + folder + "'):\n    try:\n        names = os.listdir(top)\n"
      "    except OSError:\n        names = []\n    for f in names:\n        look(os.path.join(top, f))\n"
      "print(found[0] if found else 'nothing')\n";
  r1::CodeResult r = r1::verify_code(program, tests, "python", fast_limits());
  std::system(("rm -rf '" + folder + "'").c_str());
  EXPECT_EQ(r.verdict, "wrong_answer") << r.detail;
  ASSERT_EQ(r.tests.size(), 1u);
  EXPECT_EQ(r.tests[0].stdout_excerpt, "nothing\n");
}
