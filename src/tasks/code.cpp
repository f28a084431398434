// Procedural programming tasks: a table of problem families, each with a statement, a
// reference Python program, an input generator and a C++ solver for the expected output.
// See code.h.
#include "tasks/code.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "util/error.h"
#include "util/rng.h"

namespace r1 {

// --- input helpers ---------------------------------------------------------------------------

static std::vector<int64_t> ints_of(const std::string& text) {
  std::istringstream is(text);
  std::vector<int64_t> v;
  int64_t x;
  while (is >> x) v.push_back(x);
  return v;
}

static std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) s += (i ? " " : "") + std::to_string(v[i]);
  return s;
}

// n numbers: at difficulty d, n in [1, 5 d^2] and values in [0, 100] (d = 1) or
// [-10^(d+1), 10^(d+1)].
static std::vector<int64_t> random_list(Rng& rng, int d, int64_t min_n = 1) {
  int64_t n = rng.range(min_n, std::max<int64_t>(min_n, 5 * d * d));
  int64_t hi = d == 1 ? 100 : (d == 2 ? 1000 : 10000);
  int64_t lo = d == 1 ? 0 : -hi;
  std::vector<int64_t> v(size_t(n), 0);
  for (auto& x : v) x = rng.range(lo, hi);
  return v;
}

static std::string list_input(const std::vector<int64_t>& v) { return std::to_string(v.size()) + "\n" + join(v) + "\n"; }

static std::vector<int64_t> list_of(const std::string& input) {
  std::vector<int64_t> v = ints_of(input);
  return std::vector<int64_t>(v.begin() + 1, v.end());
}

static std::string random_word(Rng& rng, int64_t len, int letters = 26) {
  std::string s;
  for (int64_t i = 0; i < len; i++) s += char('a' + rng.below(uint64_t(letters)));
  return s;
}

static std::string first_token(const std::string& input) {
  std::istringstream is(input);
  std::string s;
  is >> s;
  return s;
}

// --- the families ----------------------------------------------------------------------------

struct Family {
  const char* name;
  int min_difficulty;
  std::string statement;  // the problem, input format and output format
  std::string program;    // the reference solution
  std::string (*input)(Rng& rng, int difficulty);
  std::string (*solve)(const std::string& input);  // the expected stdout
};

// The input format and the reading code shared by the list problems.
static const std::string kListInput =
    "The first line holds an integer n (n >= 1); the second line holds n integers separated by spaces.";
static const std::string kReadList =
    "import sys\ndata = sys.stdin.read().split()\nn = int(data[0])\na = [int(x) for x in data[1:1 + n]]\n";

static std::string list_in(Rng& rng, int d) { return list_input(random_list(rng, d)); }
static std::string list2_in(Rng& rng, int d) {  // at least two distinct values
  std::vector<int64_t> v = random_list(rng, d, 2);
  if (std::set<int64_t>(v.begin(), v.end()).size() < 2) v[0] = v[1] + 1;
  return list_input(v);
}

static const Family kFamilies[] = {
    {"sum", 1, "Read a list of integers and print their sum.\nInput: " + kListInput + "\nOutput: one integer, the sum.",
     kReadList + "print(sum(a))\n", list_in,
     [](const std::string& in) {
       int64_t s = 0;
       for (int64_t x : list_of(in)) s += x;
       return std::to_string(s) + "\n";
     }},
    {"max", 1, "Read a list of integers and print the largest.\nInput: " + kListInput + "\nOutput: one integer, the maximum.",
     kReadList + "print(max(a))\n", list_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       return std::to_string(*std::max_element(v.begin(), v.end())) + "\n";
     }},
    {"min", 1, "Read a list of integers and print the smallest.\nInput: " + kListInput + "\nOutput: one integer, the minimum.",
     kReadList + "print(min(a))\n", list_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       return std::to_string(*std::min_element(v.begin(), v.end())) + "\n";
     }},
    {"sorted", 1,
     "Read a list of integers and print it sorted in increasing order.\nInput: " + kListInput +
     "\nOutput: the n integers in increasing order, on one line, separated by spaces.",
     kReadList + "print(\" \".join(str(x) for x in sorted(a)))\n", list_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       std::sort(v.begin(), v.end());
       return join(v) + "\n";
     }},
    {"count_even", 1,
     "Read a list of integers and print how many of them are even.\nInput: " + kListInput +
     "\nOutput: one integer, the number of even values.",
     kReadList + "print(sum(1 for x in a if x % 2 == 0))\n", list_in,
     [](const std::string& in) {
       int64_t c = 0;
       for (int64_t x : list_of(in)) c += x % 2 == 0;
       return std::to_string(c) + "\n";
     }},
    {"distinct", 1,
     "Read a list of integers and print how many different values it contains.\nInput: " + kListInput +
     "\nOutput: one integer, the number of distinct values.",
     kReadList + "print(len(set(a)))\n",
     [](Rng& rng, int d) {  // small values so that repeats happen
       std::vector<int64_t> v = random_list(rng, d);
       for (auto& x : v) x %= 10;
       return list_input(v);
     },
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       return std::to_string(std::set<int64_t>(v.begin(), v.end()).size()) + "\n";
     }},
    {"reverse", 1,
     "Read a word and print it reversed.\nInput: one line with a word of lowercase letters.\nOutput: the word "
     "spelled backwards.",
     "s = input().strip()\nprint(s[::-1])\n",
     [](Rng& rng, int d) { return random_word(rng, rng.range(1, 10 * d)) + "\n"; },
     [](const std::string& in) {
       std::string s = first_token(in);
       return std::string(s.rbegin(), s.rend()) + "\n";
     }},
    {"vowels", 1,
     "Read a word and count its vowels (a, e, i, o, u).\nInput: one line with a word of lowercase letters.\nOutput: "
     "one integer, the number of vowels.",
     "s = input().strip()\nprint(sum(1 for c in s if c in \"aeiou\"))\n",
     [](Rng& rng, int d) { return random_word(rng, rng.range(1, 10 * d)) + "\n"; },
     [](const std::string& in) {
       int64_t c = 0;
       for (char ch : first_token(in)) c += std::string("aeiou").find(ch) != std::string::npos;
       return std::to_string(c) + "\n";
     }},
    {"palindrome", 1,
     "Read a word and decide whether it reads the same forwards and backwards.\nInput: one line with a word of "
     "lowercase letters.\nOutput: YES if it is a palindrome, otherwise NO.",
     "s = input().strip()\nprint(\"YES\" if s == s[::-1] else \"NO\")\n",
     [](Rng& rng, int d) {  // half of the words are palindromes, over 3 letters so near misses occur
       std::string half = random_word(rng, rng.range(1, 5 * d), 3);
       std::string w = half + std::string(half.rbegin() + int64_t(rng.below(2)), half.rend());
       if (rng.below(2)) w[size_t(rng.below(w.size()))] = char('a' + rng.below(3));
       return w + "\n";
     },
     [](const std::string& in) {
       std::string s = first_token(in);
       return std::string(std::equal(s.begin(), s.end(), s.rbegin()) ? "YES" : "NO") + "\n";
     }},
    {"gcd", 1,
     "Read two positive integers and print their greatest common divisor.\nInput: one line with two positive "
     "integers a and b.\nOutput: one integer, gcd(a, b).",
     "import math\na, b = map(int, input().split())\nprint(math.gcd(a, b))\n",
     [](Rng& rng, int d) {
       int64_t hi = d == 1 ? 100 : (d == 2 ? 10000 : 1000000), g = rng.range(1, 12);
       return std::to_string(g * rng.range(1, hi)) + " " + std::to_string(g * rng.range(1, hi)) + "\n";
     },
     [](const std::string& in) {
       std::vector<int64_t> v = ints_of(in);
       int64_t a = v[0], b = v[1];
       while (b) { int64_t t = a % b; a = b; b = t; }
       return std::to_string(a) + "\n";
     }},
    {"fizzbuzz", 1,
     "Print the numbers from 1 to n, one per line, but print Fizz instead of multiples of 3, Buzz instead of "
     "multiples of 5 and FizzBuzz instead of multiples of both.\nInput: one integer n (n >= 1).\nOutput: n lines.",
     "n = int(input())\nfor i in range(1, n + 1):\n    if i % 15 == 0:\n        print(\"FizzBuzz\")\n    elif i % 3 == 0:\n"
     "        print(\"Fizz\")\n    elif i % 5 == 0:\n        print(\"Buzz\")\n    else:\n        print(i)\n",
     [](Rng& rng, int d) { return std::to_string(rng.range(1, 15 * d)) + "\n"; },
     [](const std::string& in) {
       std::string s;
       for (int64_t i = 1; i <= ints_of(in)[0]; i++)
         s += (i % 15 == 0 ? "FizzBuzz" : i % 3 == 0 ? "Fizz" : i % 5 == 0 ? "Buzz" : std::to_string(i)) + "\n";
       return s;
     }},
    {"digit_sum", 1,
     "Read a (possibly very large) positive integer and print the sum of its decimal digits.\nInput: one line "
     "with the integer.\nOutput: one integer, the digit sum.",
     "s = input().strip()\nprint(sum(int(c) for c in s))\n",
     [](Rng& rng, int d) {
       std::string s(1, char('1' + rng.below(9)));
       for (int64_t i = rng.range(0, 10 * d * d); i > 0; i--) s += char('0' + rng.below(10));
       return s + "\n";
     },
     [](const std::string& in) {
       int64_t c = 0;
       for (char ch : first_token(in)) c += ch - '0';
       return std::to_string(c) + "\n";
     }},
    {"second_largest", 2,
     "Read a list of integers with at least two different values and print the second largest different "
     "value.\nInput: " + kListInput + " (n >= 2)\nOutput: one integer: the largest value that is smaller than the maximum.",
     kReadList + "print(sorted(set(a))[-2])\n", list2_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       std::set<int64_t> s(v.begin(), v.end());
       return std::to_string(*std::next(s.rbegin())) + "\n";
     }},
    {"prefix_sums", 2,
     "Read a list of integers and print its running totals.\nInput: " + kListInput +
     "\nOutput: n integers on one line separated by spaces; the i-th is the sum of the first i values.",
     kReadList + "out = []\ns = 0\nfor x in a:\n    s += x\n    out.append(s)\nprint(\" \".join(map(str, out)))\n",
     list_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       for (size_t i = 1; i < v.size(); i++) v[i] += v[i - 1];
       return join(v) + "\n";
     }},
    {"most_frequent", 2,
     "Read a list of integers and print the value that occurs most often; if several values tie, print the "
     "smallest of them.\nInput: " + kListInput + "\nOutput: one integer.",
     kReadList + "count = {}\nfor x in a:\n    count[x] = count.get(x, 0) + 1\n"
                  "best = max(count.values())\nprint(min(x for x in count if count[x] == best))\n",
     [](Rng& rng, int d) {
       std::vector<int64_t> v = random_list(rng, d);
       for (auto& x : v) x %= 7;
       return list_input(v);
     },
     [](const std::string& in) {
       std::map<int64_t, int64_t> c;
       for (int64_t x : list_of(in)) c[x]++;
       int64_t best = 0, arg = 0;
       for (const auto& kv : c)
         if (kv.second > best) { best = kv.second; arg = kv.first; }  // ascending keys: first max is smallest
       return std::to_string(arg) + "\n";
     }},
    {"fibonacci", 2,
     "Print the n-th Fibonacci number, where F(0) = 0, F(1) = 1 and F(k) = F(k-1) + F(k-2).\nInput: one integer "
     "n (0 <= n <= 90).\nOutput: one integer, F(n).",
     "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)\n",
     [](Rng& rng, int d) { return std::to_string(rng.range(0, 30 * d)) + "\n"; },
     [](const std::string& in) {
       int64_t a = 0, b = 1;
       for (int64_t i = 0; i < ints_of(in)[0]; i++) { int64_t t = a + b; a = b; b = t; }
       return std::to_string(a) + "\n";
     }},
    {"longest_run", 3,
     "Read a list of integers and print the length of its longest strictly increasing run of consecutive "
     "elements.\nInput: " + kListInput + "\nOutput: one integer.",
     kReadList + "best = cur = 1\nfor i in range(1, n):\n    cur = cur + 1 if a[i] > a[i - 1] else 1\n"
                  "    best = max(best, cur)\nprint(best)\n",
     [](Rng& rng, int d) {
       std::vector<int64_t> v = random_list(rng, d);
       for (auto& x : v) x %= 5;  // short runs, often equal neighbours
       return list_input(v);
     },
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       int64_t best = 1, cur = 1;
       for (size_t i = 1; i < v.size(); i++) {
         cur = v[i] > v[i - 1] ? cur + 1 : 1;
         best = std::max(best, cur);
       }
       return std::to_string(best) + "\n";
     }},
    {"pair_sum", 3,
     "Count the pairs of positions i < j whose values add up to k.\nInput: the first line holds n and k; the "
     "second line holds n integers separated by spaces.\nOutput: one integer, the number of pairs.",
     "import sys\ndata = sys.stdin.read().split()\nn, k = int(data[0]), int(data[1])\na = [int(x) for x in data[2:2 + n]]\n"
     "print(sum(1 for i in range(n) for j in range(i + 1, n) if a[i] + a[j] == k))\n",
     [](Rng& rng, int d) {
       std::vector<int64_t> v = random_list(rng, d);
       for (auto& x : v) x = std::llabs(x) % 10;
       return std::to_string(v.size()) + " " + std::to_string(rng.range(0, 18)) + "\n" + join(v) + "\n";
     },
     [](const std::string& in) {
       std::vector<int64_t> v = ints_of(in);
       int64_t n = v[0], k = v[1], c = 0;
       for (int64_t i = 0; i < n; i++)
         for (int64_t j = i + 1; j < n; j++) c += v[size_t(2 + i)] + v[size_t(2 + j)] == k;
       return std::to_string(c) + "\n";
     }},
    {"inversions", 3,
     "Count the pairs of positions i < j with a[i] > a[j].\nInput: " + kListInput + "\nOutput: one integer, the "
     "number of inversions.",
     kReadList + "print(sum(1 for i in range(n) for j in range(i + 1, n) if a[i] > a[j]))\n", list_in,
     [](const std::string& in) {
       std::vector<int64_t> v = list_of(in);
       int64_t c = 0;
       for (size_t i = 0; i < v.size(); i++)
         for (size_t j = i + 1; j < v.size(); j++) c += v[i] > v[j];
       return std::to_string(c) + "\n";
     }},
};

// --- rows --------------------------------------------------------------------------------------

static const int kTestsPerTask = 5;

static std::vector<const Family*> families_at(int difficulty) {
  check(difficulty >= 1 && difficulty <= 3, "code tasks: difficulty must be 1, 2 or 3, got ", difficulty);
  std::vector<const Family*> out;
  for (const Family& f : kFamilies)
    if (f.min_difficulty <= difficulty) out.push_back(&f);
  return out;
}

std::vector<std::string> code_task_families(int difficulty) {
  std::vector<std::string> names;
  for (const Family* f : families_at(difficulty)) names.push_back(f->name);
  return names;
}

std::vector<Json> generate_code_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(n >= 0, "code tasks: n must be >= 0, got ", n);
  std::vector<const Family*> fams = families_at(difficulty);
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));  // row i depends only on (seed, i)
    const Family& f = *fams[size_t(rng.below(fams.size()))];
    Json tests = Json::array();
    std::string example_in, example_out;
    for (int t = 0; t < kTestsPerTask; t++) {
      std::string in = f.input(rng, difficulty), out = f.solve(in);
      if (t == 0) { example_in = in; example_out = out; }
      tests.push_back(Json(Json::Object{{"input", in}, {"output", out}}));
    }
    std::string prompt = std::string("Write a Python 3 program that reads standard input and writes standard output.\n\n") +
                         f.statement + "\n\nExample input:\n" + example_in + "Example output:\n" + example_out;
    rows.push_back(Json(Json::Object{{"task", "code"}, {"prompt", prompt}, {"answer", f.program}, {"tests", tests}}));
  }
  return rows;
}

}  // namespace r1
