// The code verifier: extraction, compilation, running the tests in the sandbox, comparison.
// See code.h.
#include "reward/code.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <exception>

#include "util/error.h"

namespace r1 {

// --- extraction ------------------------------------------------------------------------------

static std::string trim_blank_lines(const std::string& s) {
  size_t b = 0, e = s.size();
  // Drop whole leading blank lines (keep the indentation of the first real line).
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\n') b = i + 1;
    else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') break;
  }
  while (e > b && (s[e - 1] == '\n' || s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) e--;
  return s.substr(b, e - b);
}

std::string extract_program(const std::string& completion, bool whole_if_none) {
  size_t close = completion.rfind("</answer>");
  size_t open = close == std::string::npos ? std::string::npos : completion.rfind("<answer>", close);
  if (open == std::string::npos && !whole_if_none) return "";
  std::string body = open == std::string::npos ? completion : completion.substr(open + 8, close - open - 8);
  size_t fence = body.find("```");
  if (fence != std::string::npos) {
    size_t line_end = body.find('\n', fence);  // skip the language tag ("python", "cpp", ...)
    size_t start = line_end == std::string::npos ? body.size() : line_end + 1;
    size_t end = body.find("```", start);
    body = body.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  std::string program = trim_blank_lines(body);
  return program.empty() ? "" : program + "\n";
}

// --- comparison ------------------------------------------------------------------------------

// Lines without trailing whitespace, trailing empty lines dropped.
static std::vector<std::string> normalized_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string::npos) j = s.size();
    std::string line = s.substr(i, j - i);
    while (!line.empty() && std::string(" \t\r\v\f").find(line.back()) != std::string::npos) line.pop_back();
    lines.push_back(line);
    i = j + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

static std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) i++;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) j++;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

static bool parse_number(const std::string& s, double& x) {
  char* end = nullptr;
  x = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0' && std::isfinite(x);
}

bool outputs_match(const std::string& got, const std::string& want, double tolerance) {
  std::vector<std::string> g = normalized_lines(got), w = normalized_lines(want);
  if (g.size() != w.size()) return false;
  for (size_t i = 0; i < g.size(); i++) {
    if (g[i] == w[i]) continue;
    if (tolerance <= 0) return false;
    std::vector<std::string> gt = tokens(g[i]), wt = tokens(w[i]);
    if (gt.size() != wt.size()) return false;
    for (size_t k = 0; k < gt.size(); k++) {
      double a, b;
      if (gt[k] == wt[k]) continue;
      if (!parse_number(gt[k], a) || !parse_number(wt[k], b)) return false;
      if (std::fabs(a - b) > tolerance * std::max(1.0, std::fabs(b))) return false;
    }
  }
  return true;
}

// --- running ---------------------------------------------------------------------------------

struct TestCase {
  std::string input, output;
  double tolerance = 0;
};

static std::vector<TestCase> parse_tests(const Json& tests) {
  check(tests.is_array(), "code tests: expected a JSON array of {\"input\", \"output\"}, got ",
        Json::type_name(tests.type()));
  check(tests.size() > 0, "code tests: the array is empty");
  std::vector<TestCase> out;
  for (size_t i = 0; i < tests.size(); i++) {
    const Json& t = tests[i];
    check(t.is_object(), "code tests[", i, "]: expected an object, got ", Json::type_name(t.type()));
    const Json* in = t.find("input");
    const Json* want = t.find("output");
    check(in && in->is_string(), "code tests[", i, "]: missing string field 'input'");
    check(want && want->is_string(), "code tests[", i, "]: missing string field 'output'");
    TestCase c{in->as_string(), want->as_string(), t.get_number("tolerance", 0.0)};
    check(c.tolerance >= 0, "code tests[", i, "]: 'tolerance' must be >= 0");
    out.push_back(std::move(c));
  }
  return out;
}

// Compiling is trusted less than nothing (a program may #include "/dev/zero" or explode
// templates), so g++ runs in the sandbox too, with roomier limits of its own.
static SandboxLimits compile_limits() {
  SandboxLimits l;
  l.wall_seconds = 30;
  l.cpu_seconds = 30;
  l.memory_bytes = 2ll << 30;
  l.file_bytes = 64ll << 20;
  l.max_processes = 16;  // g++ -> cc1plus, as, collect2, ld
  l.max_open_files = 256;
  return l;
}

// Valid UTF-8 for JSON output: each byte that does not start a well-formed sequence
// (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) becomes U+FFFD.
static std::string valid_utf8(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; k++) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len >= 3) {  // the second byte's range depends on the first
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d > 0x9F) && !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d > 0x8F);
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i++;
    }
  }
  return out;
}

// The first n bytes of s (marked "..." when cut), as valid UTF-8.
static std::string excerpt(const std::string& s, size_t n) {
  return valid_utf8(s.size() <= n ? s : s.substr(0, n) + "...");
}

static CodeResult fail_all(const std::string& verdict, const std::string& detail) {
  CodeResult r;
  r.verdict = verdict;
  r.detail = detail;
  return r;
}

CodeResult verify_code(const std::string& program, const Json& tests, const std::string& language,
                       const SandboxLimits& limits) {
  std::vector<TestCase> cases = parse_tests(tests);
  check(language == "python" || language == "cpp", "code verifier: unknown language '", language,
        "' (expected python or cpp)");
  try {
    SandboxDir dir;
    std::vector<std::string> argv;
    if (language == "python") {
      std::string python = find_python3();
      if (python.empty()) return fail_all("sandbox_error", "no python3 in /usr/bin, /usr/local/bin or /bin");
      dir.write_file("prog.py", program);
      argv = {python, "-I", "-S", "prog.py"};  // isolated mode, no site-packages: the standard library only
    } else {
      if (access("/usr/bin/g++", X_OK) != 0) return fail_all("sandbox_error", "no /usr/bin/g++");
      dir.write_file("prog.cpp", program);
      SandboxRun c = sandbox_run(dir, {"/usr/bin/g++", "-std=c++17", "-O2", "-pipe", "-o", "prog", "prog.cpp"}, "",
                                 compile_limits());
      if (c.verdict == "sandbox_error") return fail_all("sandbox_error", c.detail);
      if (c.verdict != "ok") return fail_all("compile_error", excerpt(c.detail + "\n" + c.err, 2000));
      argv = {"./prog"};
    }
    CodeResult r;
    r.verdict = "pass";
    for (const TestCase& t : cases) {
      SandboxRun run = sandbox_run(dir, argv, t.input, limits);
      CodeTestResult tr;
      tr.stdout_excerpt = excerpt(run.out, 200);
      tr.seconds = run.wall_seconds;
      if (run.verdict != "ok") {
        tr.verdict = run.verdict;
        tr.detail = run.detail;
        if (!run.err.empty()) tr.detail += "\n" + excerpt(run.err, 1000);
      } else if (outputs_match(run.out, t.output, t.tolerance)) {
        tr.verdict = "pass";
      } else {
        tr.verdict = "wrong_answer";
      }
      r.tests.push_back(tr);
      if (tr.verdict != "pass") {
        r.verdict = tr.verdict;
        r.detail = tr.detail;
        break;
      }
    }
    r.correct = r.verdict == "pass";
    r.reward = r.correct ? 1.0 : 0.0;
    return r;
  } catch (const Error& e) {  // the sandbox folder could not be made or written
    return fail_all("sandbox_error", e.what());
  }
}

CodeResult verify_code_completion(const std::string& completion, const Json& tests, const std::string& language,
                                  const SandboxLimits& limits, bool whole_if_none) {
  std::string program = extract_program(completion, whole_if_none);
  if (program.empty()) {
    parse_tests(tests);  // malformed tests or language are still the caller's mistake
    check(language == "python" || language == "cpp", "code verifier: unknown language '", language,
          "' (expected python or cpp)");
    return fail_all("wrong_answer", "no program: expected <answer>...</answer>, optionally with a ``` block inside");
  }
  return verify_code(program, tests, language, limits);
}

Json code_result_json(const CodeResult& r, const std::string& extracted) {
  Json tests = Json::array();
  for (const CodeTestResult& t : r.tests)
    tests.push_back(Json(Json::Object{{"verdict", t.verdict},
                                      {"stdout", t.stdout_excerpt},
                                      {"seconds", t.seconds},
                                      {"detail", t.detail}}));
  return Json(Json::Object{{"correct", r.correct},
                           {"reward", r.reward},
                           {"verdict", r.verdict},
                           {"extracted", extracted},
                           {"detail", r.detail},
                           {"tests", tests}});
}

}  // namespace r1
