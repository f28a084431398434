// Tests for the math verifier (reward/math_verifier, reward/math_value, reward/bigint):
// equivalences checked in both directions, near misses that must stay wrong, extraction
// and hedging rules, bounded work on hostile inputs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "reward/bigint.h"
#include "reward/math_table.h"
#include "reward/math_value.h"
#include "reward/math_verifier.h"
#include "train/data.h"

using r1::BigInt;
using r1::math_equivalent;
using r1::Rational;

// --- BigInt / Rational ---------------------------------------------------------------

TEST(MathVerifierBigInt, ArithmeticMatchesKnownValues) {
  BigInt a = BigInt::from_digits("123456789012345678901234567890");
  BigInt b = BigInt::from_digits("987654321098765432109876543210");
  EXPECT_EQ((a * b).str(), "121932631137021795226185032733622923332237463801111263526900");
  EXPECT_EQ((b - a).str(), "864197532086419753208641975320");
  EXPECT_EQ((a - b).str(), "-864197532086419753208641975320");
  EXPECT_EQ((b / a).str(), "8");
  EXPECT_EQ((b % a).str(), "9000000000900000000090");
  EXPECT_EQ((BigInt(-7) / BigInt(2)).str(), "-3");  // truncating, like C++
  EXPECT_EQ((BigInt(-7) % BigInt(2)).str(), "-1");
  EXPECT_EQ(BigInt::gcd(BigInt(2).pow(100), BigInt(6).pow(50)).str(), BigInt(2).pow(50).str());
  EXPECT_EQ(BigInt(2).pow(64).str(), "18446744073709551616");
  EXPECT_EQ(BigInt(0).str(), "0");
  EXPECT_EQ(BigInt(-1000000000).str(), "-1000000000");
}

// Division identity on random multi-limb numbers: (a*b + r) / b == a and % b == r for
// 0 <= r < b; digits drawn by a fixed LCG so the test is deterministic.
TEST(MathVerifierBigInt, DivisionRoundTripsOnRandomNumbers) {
  uint64_t state = 12345;
  auto digits = [&](int n) {
    std::string s;
    for (int i = 0; i < n; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      s += char('0' + (state >> 33) % 10);
    }
    if (s[0] == '0') s[0] = '7';
    return s;
  };
  for (int trial = 0; trial < 300; trial++) {
    BigInt a = BigInt::from_digits(digits(1 + trial % 120));
    BigInt b = BigInt::from_digits(digits(1 + (trial * 7) % 100));
    BigInt r = BigInt::from_digits(digits(1 + (trial * 7) % 100)) % b;
    BigInt n = a * b + r;
    ASSERT_EQ((n / b).str(), a.str()) << trial;
    ASSERT_EQ((n % b).str(), r.str()) << trial;
    ASSERT_EQ(((-n) / b).str(), (-a).str()) << trial;
  }
}

TEST(MathVerifierBigInt, RationalsReduceAndCompare) {
  EXPECT_EQ(Rational(BigInt(6), BigInt(-8)).str(), "-3/4");
  EXPECT_EQ(Rational::from_decimal("0.125").str(), "1/8");
  EXPECT_EQ(Rational::from_decimal(".5").str(), "1/2");
  EXPECT_EQ(Rational::from_decimal("-2.50").str(), "-5/2");
  EXPECT_EQ((Rational(1) / Rational(3) + Rational(1) / Rational(6)).str(), "1/2");
  EXPECT_TRUE(Rational::from_decimal("0.333") < Rational(1) / Rational(3));
  EXPECT_THROW(Rational(1) / Rational(0), r1::MathLimit);
}

TEST(MathVerifierBigInt, SizeAndWorkAreBounded) {
  EXPECT_THROW(BigInt(10).pow(1000), r1::MathLimit);  // 1001 digits > the 540-digit cap
  r1::WorkBudget budget(100);
  BigInt big = BigInt(10).pow(100);
  EXPECT_THROW(for (int i = 0; i < 100; i++) { BigInt c = big * big; }, r1::MathLimit);
}

// --- equivalence table ------------------------------------------------------------------

struct Case {
  const char* gold;
  const char* pred;
  bool equal;
};

// Each equivalence is also checked with gold and prediction swapped.
static const std::vector<Case> kCases = {
    // integers of any size, signs
    {"42", "42", true},
    {"42", "+42", true},
    {"-7", "-7", true},
    {"-7", "7", false},
    {"123456789012345678901234567890", "123456789012345678901234567890", true},
    {"123456789012345678901234567890", "123456789012345678901234567891", false},
    {"0", "-0", true},
    {"10", "010", true},
    // decimals, leading dot, trailing zeros
    {"0.5", ".5", true},
    {"0.5", "0.50", true},
    {"2.5", "5/2", true},
    {"-0.25", "-\\frac{1}{4}", true},
    {"3", "3.0", true},
    {"5", "5.", true},
    // thousands separators
    {"1000", "1,000", true},
    {"1000", "1\\,000", true},
    {"1000", "1\\!000", true},
    {"1000", "1{,}000", true},
    {"1234567", "1,234,567", true},
    {"1234.5", "1,234.5", true},
    {"1000", "1,00", false},
    // fractions
    {"\\frac{1}{2}", "1/2", true},
    {"\\frac{1}{2}", "\\dfrac{1}{2}", true},
    {"\\frac{1}{2}", "\\tfrac{1}{2}", true},
    {"\\frac{1}{2}", "\\frac12", true},
    {"\\frac{3}{4}", "\\frac34", true},
    {"\\frac{2}{4}", "\\frac{1}{2}", true},
    {"-\\frac{2}{3}", "\\frac{-2}{3}", true},
    {"-\\frac{2}{3}", "\\frac{2}{-3}", true},
    {"\\frac{2}{3}", "\\frac{3}{2}", false},
    {"\\frac{1}{2}", "0.5", true},
    {"\\frac{\\frac{1}{2}}{3}", "\\frac{1}{6}", true},
    {"\\frac{5}{2}", "2\\frac{1}{2}", true},  // a mixed number
    {"-\\frac{5}{2}", "-2\\frac{1}{2}", true},
    {"1", "2\\cdot\\frac{1}{2}", true},     // an explicit product is not a mixed number
    {"\\frac{2x}{3}", "2\\frac{x}{3}", true},
    // powers
    {"8", "2^3", true},
    {"1024", "2^{10}", true},
    {"\\frac{1}{8}", "2^{-3}", true},
    {"9", "(-3)^2", true},
    {"-9", "-3^2", true},
    {"1", "7^0", true},
    {"2^{100}", "1267650600228229401496703205376", true},
    // square roots and products with rationals
    {"3\\sqrt{13}", "\\sqrt{117}", true},
    {"\\frac{\\sqrt2}{2}", "\\frac{1}{\\sqrt2}", true},
    {"\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", true},
    {"2\\sqrt{2}", "\\sqrt{8}", true},
    {"\\sqrt{4}", "2", true},
    {"\\sqrt{\\frac{1}{4}}", "\\frac{1}{2}", true},
    {"\\sqrt{2}\\sqrt{3}", "\\sqrt{6}", true},
    {"\\sqrt{12}+\\sqrt{3}", "3\\sqrt{3}", true},
    {"(1+\\sqrt{2})^2", "3+2\\sqrt{2}", true},
    {"\\sqrt{2}^2", "2", true},
    {"4^{1/2}", "2", true},
    {"\\sqrt{13}", "13", false},       // dropped \sqrt
    {"3\\sqrt{13}", "3\\sqrt{12}", false},
    {"\\sqrt{2}", "1.414", false},
    // pi kept symbolic
    {"2\\pi", "2\\pi", true},
    {"2\\pi", "\\pi \\cdot 2", true},
    {"\\frac{\\pi}{2}", "\\frac{1}{2}\\pi", true},
    {"\\frac{\\pi}{2}", "0.5\\pi", true},
    {"\\pi", "3.14", false},
    {"\\pi", "3.14159", false},
    {"\\pi^2", "\\pi\\pi", true},
    // percent (the % sign is dropped), degrees, units, currency
    {"50", "50\\%", true},
    {"50\\%", "50", true},
    {"50", "0.5", false},
    {"30", "30^\\circ", true},
    {"30", "30^{\\circ}", true},
    {"30", "30\xc2\xb0", true},
    {"12", "12\\text{ cm}", true},
    {"12", "12 \\mbox{inches}", true},
    {"5", "\\$5", true},
    {"5.50", "\\$5.50", true},
    {"5", "5\\text{ dollars}", true},
    // x = 5 vs 5; wrong variable name
    {"5", "x = 5", true},
    {"x=5", "5", true},
    {"x = 5", "x=5", true},
    {"x = 5", "y = 5", false},
    {"y = 2x+1", "2x+1", true},
    // tuples (ordered), sets (unordered), intervals (bracket kinds matter)
    {"(1,2)", "(1, 2)", true},
    {"(1,2)", "(2,1)", false},
    {"(1,2,3)", "\\left(1,2,3\\right)", true},
    {"\\{1,2\\}", "\\left\\{ 1, 2 \\right.\\}", true},
    {"\\{1,2\\}", "\\{2,1\\}", true},
    {"\\{1,2\\}", "\\{1,2,3\\}", false},
    {"\\{1,2\\}", "(1,2)", false},
    {"1, 2", "2, 1", true},
    {"[1,2)", "[1,2)", true},
    {"[1,2)", "(1,2)", false},
    {"[1,2)", "[1,2]", false},
    {"(-\\infty, 3]", "(-\\infty,3]", true},
    {"(-\\infty, 3]", "(-\\infty,3)", false},
    {"(-\\infty,1)\\cup(2,\\infty)", "(2,\\infty)\\cup(-\\infty,1)", true},
    {"(\\frac{1}{2}, \\sqrt{8})", "(0.5, 2\\sqrt{2})", true},
    {"\\emptyset", "\\{\\}", true},
    // matrices
    {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", true},
    {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}", false},
    {"\\begin{pmatrix} \\frac12 \\\\ 1 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 1 \\end{pmatrix}", true},
    {"\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", false},
    // polynomial expressions in named variables (canonical expanded form)
    {"x^2+2x+1", "(x+1)^2", true},
    {"(x+1)(x-1)", "x^2-1", true},
    {"2x+1", "1+2x", true},
    {"2x+1", "2y+1", false},          // wrong variable name
    {"xy", "yx", true},
    {"x^2 y", "y x x", true},
    {"\\frac{x}{2}", "0.5x", true},
    {"\\frac{x+1}{2}", "\\frac{1}{2}x+\\frac{1}{2}", true},
    {"a^2-b^2", "(a-b)(a+b)", true},
    {"x^2+1", "x^2+2", false},
    {"x_1+x_2", "x_2+x_1", true},
    {"3\\alpha", "\\alpha+2\\alpha", true},
    // near misses stay wrong
    {"\\frac{1}{3}", "0.333", false},
    {"\\frac{1}{3}", "0.3333333333", false},
    {"5", "5.001", false},
    {"5", "4.999", false},
    {"-5", "5", false},
    {"\\frac{1}{2}", "\\frac{2}{1}", false},
    // Math-Verify's answer forms (docs/rewards.md "Math equivalence")
    // number spellings: LaTeX separators with spaces, a plain space, a decimal comma
    {"11111111100", "11,\\! 111,\\! 111,\\! 100", true},
    {"14916", "14 {, }916", true},
    {"1000", "1 000", true},
    {"32349", "32, 349", false},  // a list
    {"\\{1, 2\\}", "1,2", true},  // a comma in an answer separates items (a decimal comma
    {"\\{1, 12\\}", "1,12", true},  // is read only in prose: DecimalCommaOnlyInProse)
    {"1000.99", "1000,99", false},
    {"(12, 102)", "(12,102)", true},  // inside brackets a comma separates
    {"\\{12, 102\\}", "\\{12,102\\}", true},
    // scientific notation, minus signs
    {"0.0015", "1.5e-3", true},
    {"200000", "2E5", true},
    {"300000", "3 \\times 10^{5}", true},
    {"\\frac{1}{1000}", "10^{-3}", true},
    {"-5", "\xe2\x80\x93" "5", true},  // an en dash
    {"2e", "2e", true},                     // not an exponent: the constant e
        // percentages: a sign or a word; X% is X and X/100
    {"28\\%", "28 percent", true},
    {"28\\%", "28 pct", true},
    {"28\\%", "0.28", true},
    {"28\\%", "2.8", false},
    // units after a wrapper, with a power; degrees
    {"15", "15\\mbox{ cm}^2", true},
    {"125", "125 miles", true},
    {"90", "90^\\circ", true},
    // relations: the same relation, not the same string
    {"x \\geq 5", "5 \\leq x", true},
    {"x < 1", "-x > -1", true},
    {"x < 1", "x > -1", false},
    {"x \\le 1", "x < 1", false},
    {"x \\neq 3", "x != 3", true},
    {"2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", true},
    {"x^2/4 + y^2/3 = 1", "x^2/16 + y^2/12 = 1/4", true},
    {"34x+45y-20z+100=0", "-34x-45y+20z-100=0", true},
    {"x = 11", "x = 5+6 = 11", true},
    {"x = \\frac{1}{3}", "x = \\frac{1}{3} \\approx 0.33", true},
    {"-2 \\le x \\le 7", "x \\in [-2,7]", true},
    {"-2 < x \\le 7", "x \\in [-2,7]", false},
    {"x > 5", "(5, \\infty)", true},
    {"7 = 11a+c", "11a+c", false},  // not "name = value"
    // names on the left: tuples, functions, labels, lists of assignments
    {"(p,q)=(3,2)", "(3,2)", true},
    {"f(x) = 1", "1", true},
    {"a=4,\\,-8,\\,-10", "-10,-8,4", true},
    {"k = 45, n = 2", "n = 2, k = 45", true},
    {"k = 45, n = 2", "k = 2, n = 45", false},
    // sets: plain braces, \\pm, "and", semicolons
    {"\\{1, 3\\}", "{3,1}", true},
    {"\\pm 2021", "\\{-2021, 2021\\}", true},
    {"1 \\pm \\sqrt{19}", "\\{1-\\sqrt{19}, 1+\\sqrt{19}\\}", true},
    {"6, 8", "6 \\text{ and } 8", true},
    {"-12;-11;-10", "\\{-10, -11, -12\\}", true},
    {"p=5,q=2;p=7,q=2", "(5,2),(7,2)", true},  // one solution per group
    {"p=5,q=2;p=7,q=2", "(2,5),(2,7)", false},
    {"(0;-2;6)", "(0, -2, 6)", true},
    // set operations: finite sets are computed, intervals stay an unordered expression
    {"\\{1, 2, 3\\}", "\\{1, 2\\} \\cup \\{2, 3\\}", true},
    {"\\{2\\}", "\\{1, 2\\} \\cap \\{2, 3\\}", true},
    {"\\emptyset", "\\{1\\} \\cap \\{2\\}", true},
    {"[0,2] \\cap [1,3]", "[1,3] \\cap [0,2]", true},
    {"[0,2] \\cap [1,3]", "[0,2] \\cup [1,3]", false},
        // matrices: array, sums and products
    {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 4\\end{array}\\right]", true},
    {"\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}",
     "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}", true},
    {"\\begin{pmatrix}19 & 22 \\\\ 43 & 50\\end{pmatrix}",
     "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}", true},
    // radicals: rationalized denominators, opaque square roots of sums
    {"\\frac{1}{1+\\sqrt{2}}", "\\sqrt{2}-1", true},
    {"\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}", "\\frac{\\sqrt{\\sqrt{194}+\\sqrt{11}}}{2\\sqrt{33}+15}", true},
    {"\\sqrt{1+\\sqrt{2}}", "\\sqrt{1+\\sqrt{3}}", false},
    {"\\frac{1}{3}", "\\cfrac{1}{3}", true},
    {"\\frac{1}{2}", "\\\\frac{1}{2}", true},  // a doubled backslash from an escaped string
    // multiple-choice letters in any wrapping
    {"B", "(B)", true},
    {"B", "\\text{(B)}", true},
    {"\\text{(C)}", "C)", true},
    {"B", "(C)", false},
    // text answers fall back to normalized strings
    {"\\text{Yes}", "yes", true},
    {"\\text{(A)}", "(A)", true},
    {"\\text{yes}", "no", false},
};

TEST(MathVerifierTable, EquivalencesBothWaysAndNearMisses) {
  int checked = 0;
  for (const Case& c : kCases) {
    EXPECT_EQ(math_equivalent(c.gold, c.pred), c.equal) << "gold: " << c.gold << "  pred: " << c.pred;
    EXPECT_EQ(math_equivalent(c.pred, c.gold), c.equal) << "swapped: gold: " << c.pred << "  pred: " << c.gold;
    checked++;
  }
  EXPECT_GE(checked, 100);
}

TEST(MathVerifierValue, CanonicalKeys) {
  EXPECT_EQ(r1::parse_math_answer("3\\sqrt{13}").value.key(), "3*sqrt(13)");
  EXPECT_EQ(r1::parse_math_answer("\\frac{1}{\\sqrt2}").value.key(), "1/2*sqrt(2)");
  EXPECT_EQ(r1::parse_math_answer("(x+1)^2").value.key(), "1 + 2*x^1 + 1*x^2");
  EXPECT_EQ(r1::parse_math_answer("x = 3").var, "x");
}

TEST(MathVerifierTolerance, OffByDefaultExplicitWhenOn) {
  r1::MathOptions tol;
  tol.rel_tol = 1e-3;
  EXPECT_FALSE(math_equivalent("\\pi", "3.1416"));
  EXPECT_TRUE(math_equivalent("\\pi", "3.1416", tol));  // |err| = 7e-6 relative
  EXPECT_TRUE(math_equivalent("\\frac{1}{3}", "0.3333", tol));
  EXPECT_FALSE(math_equivalent("\\frac{1}{3}", "0.33", tol));  // 1% off
  EXPECT_FALSE(math_equivalent("x", "1.0001x", tol));        // symbolic: always exact
}

// --- extraction --------------------------------------------------------------------------

TEST(MathVerifierExtraction, AnswerTagBoxesAndThink) {
  using r1::verify_math;
  EXPECT_TRUE(verify_math("7", "<think>3+4</think><answer>7</answer>", false).correct);
  EXPECT_EQ(verify_math("7", "<think>3+4</think><answer> 7 </answer>", false).extracted, "7");
  EXPECT_TRUE(verify_math("7", "so the answer is \\boxed{7}.", false).correct);
  EXPECT_TRUE(verify_math("7", "\\fbox{7}", false).correct);
  EXPECT_TRUE(verify_math("\\frac{1}{2}", "<answer>\\boxed{\\frac{1}{2}}</answer>", false).correct);
  EXPECT_TRUE(verify_math("7", "first \\boxed{7} then again \\boxed{ 7 }", false).correct);
  EXPECT_EQ(verify_math("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}", false).extracted, "\\frac{1}{2}");
  // The answer tag wins over boxes outside it.
  EXPECT_TRUE(verify_math("7", "\\boxed{8} <answer>7</answer>", false).correct);
  // Nothing inside <think> counts.
  EXPECT_EQ(verify_math("7", "<think>\\boxed{7}</think>", false).verdict, "no_answer");
  EXPECT_EQ(verify_math("7", "<think><answer>7</answer></think>", false).verdict, "no_answer");
  EXPECT_EQ(verify_math("7", "<think>unclosed \\boxed{7}", false).verdict, "no_answer");
  // A stray </think> (the opening tag was in the prompt): only what follows counts.
  EXPECT_TRUE(verify_math("7", "\\boxed{8} wait</think><answer>7</answer>", false).correct);
  // No answer at all: the trainer's strict mode finds nothing, the CLI mode takes the text.
  EXPECT_EQ(verify_math("7", "7", false).verdict, "no_answer");
  EXPECT_TRUE(verify_math("7", "7", true).correct);
  // Unclosed box or tag is not an answer.
  EXPECT_EQ(verify_math("7", "\\boxed{7", false).verdict, "no_answer");
  EXPECT_EQ(verify_math("7", "<answer>7", false).verdict, "no_answer");
  EXPECT_EQ(verify_math("7", "<think>x</think><answer></answer>", false).verdict, "no_answer");
}

TEST(MathVerifierExtraction, HedgingFails) {
  using r1::verify_math;
  EXPECT_EQ(verify_math("3", "\\boxed{3} or \\boxed{4}", false).verdict, "hedged");
  EXPECT_EQ(verify_math("4", "\\boxed{3} or \\boxed{4}", false).verdict, "hedged");
  EXPECT_EQ(verify_math("3", "<answer>3</answer><answer>4</answer>", false).verdict, "hedged");
  EXPECT_EQ(verify_math("3", "<answer>\\boxed{3} \\boxed{4}</answer>", false).verdict, "hedged");
  EXPECT_FALSE(verify_math("3", "<answer>3 or 4</answer>", false).correct);
}

TEST(MathVerifierExtraction, VerdictsNameTheReason) {
  using r1::verify_math;
  EXPECT_EQ(verify_math("5", "\\boxed{6}", false).verdict, "not_equivalent");
  EXPECT_EQ(verify_math("x=5", "\\boxed{y=5}", false).verdict, "wrong_variable");
  EXPECT_EQ(verify_math("5", "\\boxed{\\sin x}", false).verdict, "unparsable");
  EXPECT_EQ(verify_math("", "\\boxed{5}", false).verdict, "bad_gold");
  EXPECT_EQ(verify_math("5", "\\boxed{5}", false).verdict, "equivalent");
}

TEST(MathVerifierExtraction, ListsOfBoxesAndLabels) {
  using r1::verify_math;
  // Boxes joined by "and" / "," (and labels of the next one) are one list answer.
  EXPECT_TRUE(verify_math("1, 2", "\\boxed{1} and \\boxed{2}", false).correct);
  EXPECT_TRUE(verify_math("(2, 2), (6, 2)", "\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}", false).correct);
  EXPECT_TRUE(verify_math("k = 45, n = 2", "$\\boxed{k = 45} \\quad \\text{and} \\quad \\boxed{n = 2}$", false).correct);
  EXPECT_TRUE(verify_math("y_1 = 5, y_2 = 7", "\\( y_1 = \\boxed{5} \\) and \\( y_2 = \\boxed{7} \\)", false).correct);
  EXPECT_TRUE(verify_math("(3, 3), (1, 1)", "\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", false).correct);
  EXPECT_EQ(verify_math("1, 2", "\\boxed{1} x_{ = \\boxed{2}", false).verdict, "hedged");  // a broken label
    // A gold's boxes form its list even across other symbols or "papers and".
  EXPECT_TRUE(verify_math("\\boxed{1} papers and \\boxed{2} bins", "\\boxed{1,2}", false).correct);
  EXPECT_TRUE(verify_math("$\\boxed{1}\\boxed{2}$", "\\boxed{2, 1}", false).correct);
  // The last box wins when all boxes agree; the box inside the answer tag wins over outside.
  EXPECT_TRUE(verify_math("7", "\\boxed{7} so \\boxed{7}", false).correct);
}

TEST(MathVerifierExtraction, ProseInWholeTextModeOnly) {
  using r1::verify_math;
  // Whole-text mode (CLI, gold strings): Math-Verify's reading of prose.
  EXPECT_TRUE(verify_math("14916", "Final Answer: The final answer is $14{,}916$. I hope it is correct.", true).correct);
  EXPECT_TRUE(verify_math("34", "Final Answer: The largest $n$ is 34.", true).correct);
  EXPECT_TRUE(verify_math("x \\ge 5", "Therefore $x \\geq 5$ is the solution.", true).correct);
  EXPECT_TRUE(verify_math("1000.99", "the number is not 10 which is 1,000.99 euros", true).correct);
  EXPECT_TRUE(verify_math("0.0015", "so it is about 1.5e-3 in the end", true).correct);
  EXPECT_TRUE(verify_math("$1$ and $2$ and $3$", "\\boxed{3, 2, 1}", true).correct);
  EXPECT_FALSE(verify_math("9", "Answer $ \n 9 \n $", true).correct);  // inline math on several lines
  // The trainer's mode takes nothing from prose.
  EXPECT_EQ(verify_math("14916", "The final answer is $14{,}916$.", false).verdict, "no_answer");
  // A text with no words is still read whole (countdown expressions, "2/(4-4)").
  EXPECT_EQ(r1::extract_final_answer("2/(4-4)", true).answer, "2/(4-4)");
}

// Review findings: each case was rewarded wrongly (or refused wrongly) before its fix.
TEST(MathVerifierSoundness, DecimalCommaOnlyInProse) {
  using r1::verify_math;
  // In a box or an answer tag (the training reward), "a,bb" is a list, as it was before the
  // decimal comma was added for prose.
  EXPECT_TRUE(verify_math("1, 12", "\\boxed{1,12}", false).correct);
  EXPECT_TRUE(verify_math("1,12", "\\boxed{1, 12}", false).correct);
  EXPECT_TRUE(verify_math("-3, 14", "\\boxed{-3,14}", false).correct);
  EXPECT_TRUE(verify_math("-3, 14", "<answer>-3,14</answer>", false).correct);
  EXPECT_FALSE(verify_math("3.14", "\\boxed{3,14}", false).correct);
  EXPECT_FALSE(verify_math("3.14", "<answer>3,14</answer>", false).correct);
  EXPECT_FALSE(verify_math("0.111", "\\boxed{0,111}", false).correct);
  // In running text (whole-text mode: the CLI, prose golds) it is a decimal.
  EXPECT_TRUE(verify_math("2.74", "Soucis : 2,74 $ a..", true).correct);
  EXPECT_TRUE(verify_math("1000.99", "so it comes to 1000,99 euros", true).correct);
  EXPECT_TRUE(verify_math("0.111", "the value is 0,111 here", true).correct);
  EXPECT_TRUE(verify_math("1.2345", "the value is 1,2345 here", true).correct);
  EXPECT_TRUE(verify_math("1000", "the total is 1,000 apples", true).correct);  // a thousand
  EXPECT_TRUE(verify_math("3.14", "The answer is 3,14.", true).correct);
}

TEST(MathVerifierSoundness, EnDashIsMinusOnlyAsASign) {
  using r1::verify_math;
  // Between two values an en dash is a range, never a subtraction.
  EXPECT_FALSE(verify_math("-2", "\\boxed{1\xe2\x80\x93" "3}", false).correct);
  EXPECT_FALSE(verify_math("-2", "\\boxed{5 \xe2\x80\x93 7}", false).correct);
  EXPECT_FALSE(verify_math("-2", "\\boxed{x = 1\xe2\x80\x93" "3}", false).correct);
  EXPECT_EQ(verify_math("-2", "\\boxed{(1)\xe2\x80\x93(3)}", false).verdict, "unparsable");
  // Where a sign stands, it is a minus.
  EXPECT_TRUE(verify_math("-5", "\\boxed{\xe2\x80\x93" "5}", false).correct);
  EXPECT_TRUE(verify_math("(-1, -2)", "\\boxed{(\xe2\x80\x93" "1, \xe2\x80\x93" "2)}", false).correct);
  EXPECT_TRUE(verify_math("x = -3", "\\boxed{x = \xe2\x80\x93" "3}", false).correct);
  EXPECT_TRUE(verify_math("-6", "\\boxed{2 \\cdot \xe2\x80\x93" "3}", false).correct);
  EXPECT_TRUE(verify_math("-\\frac{1}{2}", "\\boxed{\\frac{\xe2\x80\x93" "1}{2}}", false).correct);
  EXPECT_TRUE(verify_math("x \\ge -1", "\\boxed{x \\ge \xe2\x80\x93" "1}", false).correct);
}

TEST(MathVerifierSoundness, NamedChainLinksMustHold) {
  using r1::verify_math;
  // "x = 1 = 2" states 1 = 2: a false relation, not the value 2 (nor 1).
  EXPECT_FALSE(verify_math("2", "\\boxed{x = 1 = 2}", false).correct);
  EXPECT_FALSE(verify_math("1", "\\boxed{x = 1 = 2}", false).correct);
  EXPECT_FALSE(verify_math("x = 2", "\\boxed{x = 1 = 2}", false).correct);
  EXPECT_FALSE(verify_math("2", "\\boxed{x = 1 + 1 = 3 = 2}", false).correct);
  EXPECT_FALSE(verify_math("(1, 2)", "\\boxed{(p, q) = (1, 3) = (1, 2)}", false).correct);
  // True links: the value is the last side.
  EXPECT_TRUE(verify_math("2", "\\boxed{x = 1 + 1 = 2}", false).correct);
  EXPECT_TRUE(verify_math("5", "\\boxed{x = \\frac{10}{2} = 5}", false).correct);
  EXPECT_TRUE(verify_math("3\\sqrt{2}", "\\boxed{x = \\sqrt{18} = 3\\sqrt{2}}", false).correct);
  EXPECT_TRUE(verify_math("(1, 2)", "\\boxed{(p, q) = (2 - 1, 2) = (1, 2)}", false).correct);
  // Sides with symbols are not checked (the text may define y); a chain of numbers only is a
  // calculation, false when its sides differ.
  EXPECT_TRUE(verify_math("6", "\\boxed{x = 2y = 6}", false).correct);
  EXPECT_FALSE(verify_math("4", "\\boxed{3 = 4}", false).correct);
}

// What a policy could try to collect reward with, in both extraction modes.
TEST(MathVerifierExtraction, HacksAreNotAccepted) {
  using r1::verify_math;
  for (bool whole : {false, true}) {
    // Every candidate at once.
    EXPECT_FALSE(verify_math("3", "<answer>1, 2, 3, 4</answer>", whole).correct);
    EXPECT_FALSE(verify_math("3", "\\boxed{1, 2, 3, 4}", whole).correct);
    EXPECT_FALSE(verify_math("3", "\\boxed{1}, \\boxed{2}, \\boxed{3}, \\boxed{4}", whole).correct);
    EXPECT_FALSE(verify_math("3", "\\boxed{\\{1, 2, 3, 4\\}}", whole).correct);
    EXPECT_FALSE(verify_math("3", "\\boxed{3 \\text{ or } 4}", whole).correct);
    EXPECT_FALSE(verify_math("3", "\\boxed{\\pm 3}", whole).correct);
    // Box spam: different boxes without joining words are a hedge, whichever comes last.
    EXPECT_EQ(verify_math("3", "\\boxed{1} \\boxed{2} \\boxed{3}", whole).verdict, "hedged");
    EXPECT_EQ(verify_math("3", "\\boxed{4} wait, no: \\boxed{3}", whole).verdict, "hedged");
    EXPECT_EQ(verify_math("3", "\\boxed{4} or \\boxed{3}", whole).verdict, "hedged");
    // The answer only in the reasoning.
    EXPECT_FALSE(verify_math("3", "<think>so the answer is \\boxed{3}</think> I am not sure.", whole).correct);
    // Relations that mention the value without stating it.
    for (const char* rel : {"x \\neq 3", "x < 3", "x \\le 3", "x > 3", "2 < x < 4", "x + 1 = 3", "3 = 4",
                            "x \\in \\{3, 4\\}", "x = 3 \\text{ or } x = 4", "3 < x"}) {
      EXPECT_FALSE(verify_math("3", std::string("\\boxed{") + rel + "}", whole).correct) << rel;
    }
    EXPECT_EQ(verify_math("x = 3", "\\boxed{y = 3}", whole).verdict, "wrong_variable");
  }
  // Without a tag or a box the trainer finds no answer at all.
  EXPECT_EQ(verify_math("3", "The answer is 3.", false).verdict, "no_answer");
}

// --- Math-Verify's own test cases ------------------------------------------------------------

// data/golden/math_verify/cases.jsonl: every literal case of Math-Verify's test suite with its
// verdict (collect_cases.py). r1 must agree on each row, or the row names why it does not;
// a new disagreement, or a reason that no longer applies, fails here.
TEST(MathVerifierMathVerify, AgreesOrSaysWhy) {
  const char* root = std::getenv("R1_ROOT");
  std::string path = std::string(root ? root : ".") + "/data/golden/math_verify/cases.jsonl";
  if (!std::ifstream(path)) GTEST_SKIP() << path << " not found (set R1_ROOT to the repository root)";
  std::vector<r1::MathCaseOutcome> outcomes = r1::run_math_cases(r1::read_jsonl(path), path);
  for (const r1::MathCaseOutcome& o : outcomes) {
    EXPECT_FALSE(o.unexplained()) << o.source << ": r1 " << o.r1 << " (" << o.verdict << ", extracted '"
                                  << o.extracted << "'), Math-Verify " << o.expected << ": a new disagreement";
    EXPECT_FALSE(o.stale()) << o.source << ": r1 now agrees with Math-Verify; remove its r1_differs reason";
  }
  std::vector<r1::MathCategoryTally> tallies = r1::tally_math_cases(outcomes);
  std::set<std::string> categories;
  for (const r1::MathCategoryTally& t : tallies) categories.insert(t.category);
  for (const char* needed : {"numbers", "percent", "units_text", "sets_intervals", "relations", "matrices", "tuples",
                             "multiple_choice", "boxed_lists", "fractions", "sqrt_pi"})
    EXPECT_TRUE(categories.count(needed)) << needed;
  const r1::MathCategoryTally& all = tallies.back();
  EXPECT_GE(all.cases, 250);
  // 245 of 268 at the time of writing (docs/verify.md "Math answers"); the 23 others are
  // deliberate and each carries its reason.
  EXPECT_GE(all.agree, 245);
  std::string table = r1::math_table_markdown(outcomes);
  std::cout << table.substr(0, table.find("\n\n") + 1);
}

// --- bounded work ----------------------------------------------------------------------------

TEST(MathVerifierLimits, HostileInputsAreRejectedFast) {
  std::string deep(5000, '(');
  std::vector<std::string> hostile = {
      "2^{2^{2^{2^{2^{2}}}}}",
      "10^{100000}",
      "9^{999}",
      "(x+y+z+w)^{16}",
      "(x+1)^{1000}",
      "\\sqrt{123456789012345678901234567890}",
      "0^{-1}",
      "\\frac{1}{0}",
      deep,
      std::string(400, '(') + "1" + std::string(400, ')'),
      std::string(999, '9') + "^{99}",
      "\\frac{" + std::string(300, '7') + "}{" + std::string(300, '3') + "}" + "^{50}",
  };
  for (const std::string& h : hostile) {
    auto t0 = std::chrono::steady_clock::now();
    bool eq = math_equivalent(h, "1");
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_FALSE(eq) << h.substr(0, 60);
    // Generous bound (a loaded 2-core CI box): the budget keeps each call near ~10 ms.
    EXPECT_LT(ms, 1000.0) << h.substr(0, 60);
  }
  EXPECT_FALSE(math_equivalent(std::string(5000, '1'), std::string(5000, '1') + "2"));

  // Deeply nested boxes (found by fuzz_format: unwrapping them once took 2^depth steps).
  std::string nested = "7";
  for (int i = 0; i < 60; i++) nested = "\\boxed{" + nested + "}";
  auto t0 = std::chrono::steady_clock::now();
  r1::MathResult r = r1::verify_math("7", nested, false);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(r.correct);  // only 8 levels are unwrapped; the rest is not a number
  EXPECT_LT(ms, 1000.0);
  EXPECT_TRUE(r1::verify_math("7", "\\boxed{\\boxed{7}}", false).correct);

  // A long completion with many boxes is scanned in linear time.
  std::string many;
  for (int i = 0; i < 20000; i++) many += "\\boxed{7} ";
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(r1::verify_math("7", many, false).correct);
  EXPECT_EQ(r1::verify_math("7", many + "\\boxed{8}", false).verdict, "hedged");
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 2000.0);

  // Prose with thousands of unclosed math delimiters (whole-text mode) is scanned in linear time.
  std::string unclosed = "The answer is ";
  for (int i = 0; i < 20000; i++) unclosed += "\\( $$ \\[ 1 ";
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(r1::verify_math("1", unclosed, true).correct);
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 2000.0);

  std::string closes;
  for (int i = 0; i < 40000; i++) closes += "</think>";
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(r1::verify_math("7", closes + "<answer>7</answer>", false).correct);
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 2000.0);
}
