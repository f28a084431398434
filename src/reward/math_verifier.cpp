// Math verifier: answer extraction (think blocks, answer tags, boxes, hedging) and the
// comparison of parsed values, with a string fallback for non-math answers.
#include "reward/math_verifier.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "reward/bigint.h"
#include "reward/math_value.h"

namespace r1 {

// Work units (limb operations) one parse may spend: ~10 ms at most on one core; real
// answers use well under 1% of it.
static constexpr uint64_t kParseWorkBudget = 5000000;

// --- text helpers ----------------------------------------------------------------

static std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

static std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

static std::string strip_spaces(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// The answer as written, cleaned of what is never part of it: surrounding spaces and
// $...$, and a sentence's final period ("5." -> "5").
static std::string clean_answer(std::string s) {
  s = trim(s);
  while (s.size() >= 2 && s.front() == '$' && s.back() == '$') s = trim(s.substr(1, s.size() - 2));
  while (!s.empty() && s.back() == '.') s = trim(s.substr(0, s.size() - 1));
  return s;
}

// The text outside <think>...</think>. An unclosed <think> hides everything after it; a
// stray </think> (the <think> was in the prompt) hides everything before it.
static std::string outside_think(const std::string& text) {
  static const std::string open = "<think>", close = "</think>";
  std::string out;
  size_t i = 0, o = text.find(open), c = text.find(close);
  while (i < text.size()) {
    if (o != std::string::npos && o < i) o = text.find(open, i);  // searched again only
    if (c != std::string::npos && c < i) c = text.find(close, i);  // when passed: linear
    if (o == std::string::npos && c == std::string::npos) {
      out += text.substr(i);
      break;
    }
    if (c != std::string::npos && (o == std::string::npos || c < o)) {  // stray close
      out.clear();
      i = c + close.size();
      continue;
    }
    out += text.substr(i, o - i);
    size_t end = text.find(close, o + open.size());
    if (end == std::string::npos) break;
    i = end + close.size();
  }
  return out;
}

// A candidate answer and where it was found: the content and the span of its wrapper.
struct Found {
  std::string text;
  size_t begin, end;
};

// Every complete <answer>...</answer> in order.
static std::vector<Found> answer_tags(const std::string& text) {
  static const std::string open = "<answer>", close = "</answer>";
  std::vector<Found> out;
  size_t i = 0;
  while (true) {
    size_t o = text.find(open, i);
    if (o == std::string::npos) break;
    size_t c = text.find(close, o + open.size());
    if (c == std::string::npos) break;
    out.push_back({text.substr(o + open.size(), c - o - open.size()), o, c + close.size()});
    i = c + close.size();
  }
  return out;
}

// Every top-level \boxed{...} / \fbox{...} (brace-matched; an unclosed box is ignored;
// \boxed 5 takes the next word).
static std::vector<Found> boxes(const std::string& text) {
  std::vector<Found> out;
  size_t i = 0, b = text.find("\\boxed"), f = text.find("\\fbox");
  while (i < text.size()) {
    // The next \boxed and \fbox at or after i, searched again only when passed (linear).
    if (b != std::string::npos && b < i) b = text.find("\\boxed", i);
    if (f != std::string::npos && f < i) f = text.find("\\fbox", i);
    size_t at = std::min(b, f);
    if (at == std::string::npos) break;
    size_t j = at + (at == b ? 6 : 5);
    if (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) { i = j; continue; }
    while (j < text.size() && text[j] == ' ') j++;
    if (j < text.size() && text[j] == '{') {
      int depth = 0;
      size_t k = j;
      for (; k < text.size(); k++) {
        if (text[k] == '\\' && k + 1 < text.size()) { k++; continue; }
        if (text[k] == '{') depth++;
        if (text[k] == '}' && --depth == 0) break;
      }
      if (k >= text.size()) { i = j + 1; continue; }  // unclosed: not an answer
      out.push_back({text.substr(j + 1, k - j - 1), at, k + 1});
      i = k + 1;
    } else {
      size_t k = j;
      while (k < text.size() && !std::isspace(static_cast<unsigned char>(text[k])) && text[k] != '$') k++;
      if (k > j) out.push_back({text.substr(j, k - j), at, k});
      i = k;
    }
  }
  return out;
}

// True when `s` holds only joining marks: "," ";" the word "and", spacing, math delimiters,
// \text{} around them, and labels of the next answer ("y_2 ="); `joined` says whether a
// joining mark (not just spacing) was seen.
static bool only_joining_marks(const std::string& s, bool* joined) {
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '$' || c == '{' || c == '}') { i++; continue; }
    if (c == ',' || c == ';') { *joined = true; i++; continue; }
    if (c == '\\' && i + 1 < s.size()) {
      size_t j = i + 1;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) j++;
      std::string name = s.substr(i + 1, j - i - 1);
      if (name.empty() && std::string("()[],;! ").find(s[i + 1]) != std::string::npos) { i += 2; continue; }
      if (name == "quad" || name == "qquad" || name == "text" || name == "mbox" || name == "textrm" ||
          name == "textnormal") { i = j; continue; }
      return false;
    }
    bool word_start = i == 0 || !std::isalpha(static_cast<unsigned char>(s[i - 1]));
    if (std::isalpha(static_cast<unsigned char>(c)) && word_start) {
      // A label of the next answer: "\boxed{1} and \( y_2 = \boxed{2}"
      size_t j = i + 1;
      if (j + 1 < s.size() && s[j] == '_') {
        size_t close = s[j + 1] == '{' ? s.find('}', j) : j + 1;
        j = close == std::string::npos ? s.size() : close + 1;
      }
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) j++;
      if (j < s.size() && s[j] == '=') {
        i = j + 1;
        continue;
      }
    }
    if (word_start && s.compare(i, 3, "and") == 0 && (i + 3 == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + 3])))) {
      *joined = true;
      i += 3;
      continue;
    }
    return false;
  }
  return true;
}

// True when the text between two different answers makes them one list: only joining marks
// ("\boxed{1} and \boxed{2}", "\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}"), or a
// phrase whose last word is "and" ("\boxed{(3, 3)} for part (a) and \boxed{(1, 1)}"). "or",
// bare spaces or other words ("wait, no:") do not join: two different answers there are a
// hedge. A gold's boxes also join across symbols alone and across any words with an "and".
static bool joins(const std::string& gap, bool gold) {
  std::string low = lower(gap);
  if (gold) {
    bool letters = std::any_of(gap.begin(), gap.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
    if (!letters || low.find("and") != std::string::npos) return true;
  }
  bool joined = false;
  if (only_joining_marks(gap, &joined)) return joined;
  for (size_t at = low.rfind("and"); at != std::string::npos; at = at == 0 ? std::string::npos : low.rfind("and", at - 1)) {
    bool whole_word = (at == 0 || !std::isalpha(static_cast<unsigned char>(low[at - 1]))) &&
                      (at + 3 == low.size() || !std::isalpha(static_cast<unsigned char>(low[at + 3])));
    if (!whole_word) continue;
    bool unused = false;
    return only_joining_marks(gap.substr(at + 3), &unused);  // the last "and": only marks after it
  }
  return false;
}

// Boxes inside boxes are unwrapped this many levels deep at most (each level rescans its
// text once, so the work stays linear in the input times this bound).
static constexpr int kMaxBoxNesting = 8;

static Extraction pick(const std::string& text, const std::vector<Found>& candidates, int depth, bool gold,
                       bool lists);

// The answer inside one candidate: a box inside an answer tag (or inside a box) wins.
static Extraction unwrap(const std::string& candidate, int depth, bool gold, bool lists) {
  if (depth < kMaxBoxNesting) {
    std::vector<Found> inner = boxes(candidate);
    if (!inner.empty()) return pick(candidate, inner, depth + 1, gold, lists);
  }
  Extraction e;
  e.answer = clean_answer(candidate);
  e.found = !e.answer.empty();
  return e;
}

// Candidates that agree (ignoring spaces) are one answer, the last. Different ones are one
// list answer when only joining words separate them ("\boxed{1} and \boxed{2}" is "1, 2"),
// and a hedge otherwise (`lists` false, for countdown: always a hedge). A gold answer's
// boxes also join across symbols and "papers and".
static Extraction pick(const std::string& text, const std::vector<Found>& candidates, int depth, bool gold,
                       bool lists) {
  std::vector<Extraction> found;
  for (const Found& c : candidates) found.push_back(unwrap(c.text, depth, gold, lists));
  Extraction h;
  h.hedged = true;
  bool agree = true;
  for (const Extraction& e : found) {
    if (e.hedged) return h;
    agree = agree && strip_spaces(e.answer) == strip_spaces(found.back().answer);
  }
  if (agree) return found.back();
  if (!lists) return h;
  Extraction list;
  list.found = true;
  for (size_t i = 0; i < found.size(); i++) {
    if (i > 0 && !joins(text.substr(candidates[i - 1].end, candidates[i].begin - candidates[i - 1].end), gold))
      return h;
    if (!found[i].found) continue;
    list.answer += (list.answer.empty() ? "" : ", ") + found[i].answer;
  }
  return list;
}

// --- answers in prose (whole-text mode only) ----------------------------------------------

// A text is prose, not one answer, when it has math delimiters inside it ("is $5$") or a
// word of three or more letters that is not a command (\frac), a unit or a list word.
static bool is_prose(const std::string& t) {
  for (size_t i = 0; i < t.size(); i++) {
    if (t[i] == '$' && (i == 0 || t[i - 1] != '\\')) return true;
    if (t[i] == '\\' && i + 1 < t.size() && (t[i + 1] == '(' || t[i + 1] == '[')) return true;
    if (!std::isalpha(static_cast<unsigned char>(t[i]))) continue;
    size_t j = i;
    while (j < t.size() && std::isalpha(static_cast<unsigned char>(t[j]))) j++;
    bool command = i > 0 && t[i - 1] == '\\';
    bool in_text = i >= 6 && (t.compare(i - 6, 6, "\\text{") == 0 || t.compare(i - 6, 6, "\\mbox{") == 0);
    if (!command && !in_text && j - i >= 3 && !is_answer_word(lower(t.substr(i, j - i)))) return true;
    i = j - 1;
  }
  return false;
}

// The math of a text: $...$, $$...$$, \(...\), \[...\] (inline ones on one line), and plain
// numbers outside them ("1,000.99", "-3", "2/3", "20%"), in order.
static std::vector<Found> math_spans(const std::string& t) {
  std::vector<Found> out;
  // Per closing delimiter, a position after which it does not occur: a later opening of the
  // same kind is not searched again (so the scan stays linear on unclosed delimiters).
  std::map<std::string, size_t> unclosed_after;
  size_t i = 0;
  while (i < t.size()) {
    const char* close = nullptr;
    size_t open_len = 0;
    bool inline_env = false;
    if (t.compare(i, 2, "$$") == 0) { close = "$$"; open_len = 2; }
    else if (t.compare(i, 2, "\\[") == 0) { close = "\\]"; open_len = 2; }
    else if (t.compare(i, 2, "\\(") == 0) { close = "\\)"; open_len = 2; inline_env = true; }
    else if (t[i] == '$' && (i == 0 || t[i - 1] != '\\')) { close = "$"; open_len = 1; inline_env = true; }
    if (close) {
      size_t j = i + open_len;
      size_t end = std::string::npos;
      auto known = unclosed_after.find(close);
      if (known != unclosed_after.end() && j >= known->second) j = t.size();
      for (; j < t.size(); j++) {
        if (t[j] == '\\' && t.compare(j, std::strlen(close), close) != 0) { j++; continue; }  // \$ inside
        if (t.compare(j, std::strlen(close), close) == 0) { end = j; break; }
      }
      if (end == std::string::npos && !unclosed_after.count(close)) unclosed_after[close] = i + open_len;
      std::string body = end == std::string::npos ? "" : t.substr(i + open_len, end - i - open_len);
      if (end != std::string::npos) {
        // An inline one spread over lines is not math; nothing inside it is read either.
        bool broken = inline_env && body.find('\n') != std::string::npos;
        if (!broken && !trim(body).empty()) out.push_back({body, i, end + std::strlen(close)});
        i = end + std::strlen(close);
        continue;
      }
      i += open_len;
      continue;
    }
    bool starts = is_digit(t[i]) && (i == 0 || (!std::isalpha(static_cast<unsigned char>(t[i - 1])) && !is_digit(t[i - 1])));
    if (starts) {
      size_t b = (i > 0 && t[i - 1] == '-') ? i - 1 : i;
      size_t j = i;
      while (j < t.size() && is_digit(t[j])) j++;
      bool lone_zero = j - i == 1 && t[i] == '0';
      size_t digits_end = j;
      while (!lone_zero && j + 3 < t.size() && t[j] == ',' && is_digit(t[j + 1]) && is_digit(t[j + 2]) &&
             is_digit(t[j + 3]) && (j + 4 == t.size() || !is_digit(t[j + 4])))
        j += 4;
      size_t frac = j + 1;
      while (frac < t.size() && is_digit(t[frac])) frac++;
      size_t n = frac - j - 1;  // digits after a '.' or ',' at j
      // A decimal comma, here only, in running text (Math-Verify's reading of prose): right
      // after the integer digits, before two digits, four or more, or after a lone 0 ("2,74",
      // "1000,99", "0,111"; "1,000" is a thousand). Inside a box, an answer tag or an answer
      // string "1,12" stays the list 1, 12. The span reads it with a point.
      size_t decimal_comma = std::string::npos;
      if (n > 0 && t[j] == ',' && j == digits_end && (n == 2 || n >= 4 || lone_zero)) decimal_comma = j;
      if (n > 0 && (t[j] == '.' || decimal_comma == j)) j = frac;
      if (j + 1 < t.size() && t[j] == '/' && is_digit(t[j + 1])) {
        j++;
        while (j < t.size() && is_digit(t[j])) j++;
      }
      if (j + 1 < t.size() && (t[j] == 'e' || t[j] == 'E')) {  // 1.5e-3
        size_t k = j + 1 + (t[j + 1] == '-' || t[j + 1] == '+');
        size_t first = k;
        while (k < t.size() && is_digit(t[k])) k++;
        if (k > first && (k == t.size() || !std::isalpha(static_cast<unsigned char>(t[k])))) j = k;
      }
      if (j < t.size() && t[j] == '%') j++;
      std::string number = t.substr(b, j - b);
      if (decimal_comma != std::string::npos) number[decimal_comma - b] = '.';
      out.push_back({number, b, j});
      i = j;
      continue;
    }
    i++;
  }
  return out;
}

// A text with no answer tag and no box, read the way Math-Verify reads one: the whole text
// when it is one answer; else the last math after the last word "answer" in its sentence
// ("The final answer is $14{,}916$. I hope it is correct.", "Answer: 34."); else the last
// math of the text.
static Extraction from_prose(const std::string& text, bool gold) {
  Extraction e;
  std::string whole = clean_answer(text);
  if (whole.empty()) return e;
  e.found = true;
  e.answer = whole;
  if (!is_prose(whole)) return e;
  std::vector<Found> spans = math_spans(text);
  if (spans.empty()) return e;
  size_t chosen = spans.size() - 1;
  size_t anchor = lower(text).rfind("answer");
  if (anchor != std::string::npos) {
    // The last math in the anchor's sentence, which ends at a newline or at a '.' followed
    // by a space or the end, outside math.
    size_t in_sentence = spans.size();
    size_t k = 0;
    while (k < spans.size() && spans[k].begin < anchor) k++;
    for (size_t p = anchor; p < text.size(); p++) {
      if (k < spans.size() && p == spans[k].begin) {
        in_sentence = k;
        p = spans[k++].end - 1;
        continue;
      }
      if (text[p] == '\n' || (text[p] == '.' && (p + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[p + 1])))))
        break;
    }
    if (in_sentence < spans.size()) chosen = in_sentence;
  }
  // Math joined by "and" or commas is one list answer ("$1$, $2$ and $3$"); a gold's also by "or".
  size_t first = chosen;
  auto joined = [&](size_t i) {
    std::string gap = lower(text.substr(spans[i - 1].end, spans[i].begin - spans[i - 1].end));
    if (gold && trim(gap) == "or") return true;
    return joins(gap, /*gold=*/false);
  };
  while (first > 0 && joined(first)) first--;
  e.answer.clear();
  for (size_t i = first; i <= chosen; i++) e.answer += (i > first ? ", " : "") + clean_answer(spans[i].text);
  return e;
}

// The final answer of a text. `math` is the math verifier's reading: different boxes joined
// by "and" or commas are one list (else they are a hedge), and a text without tag or box is
// read as prose (else it is the answer whole); `gold` is a gold answer's looser joining.
static Extraction extract(const std::string& text, bool whole_if_none, bool gold, bool math) {
  std::string outside = outside_think(text);
  std::vector<Found> tags = answer_tags(outside);
  if (!tags.empty()) return pick(outside, tags, 0, gold, math);
  std::vector<Found> boxed = boxes(outside);
  if (!boxed.empty()) return pick(outside, boxed, 0, gold, math);
  if (whole_if_none && math) return from_prose(outside, gold);
  Extraction e;
  if (whole_if_none) {
    e.answer = clean_answer(outside);
    e.found = !e.answer.empty();
  }
  return e;
}

Extraction extract_final_answer(const std::string& text, bool whole_if_none) {
  return extract(text, whole_if_none, /*gold=*/false, /*math=*/false);
}

// --- comparison ------------------------------------------------------------------

// For answers that are not math: spaces, \left/\right, text wrappers, braces and case
// do not matter ("\text{Yes}" == "yes").
static std::string normalize_text(const std::string& s) {
  std::string t;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\') {
      size_t j = i + 1;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) j++;
      std::string name = s.substr(i + 1, j - i - 1);
      if (name == "text" || name == "mbox" || name == "textbf" || name == "mathrm" || name == "left" ||
          name == "right" || name == "textrm") {
        i = j - 1;
        continue;
      }
    }
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '{' || c == '}' || c == '$') continue;
    t += char(std::tolower(static_cast<unsigned char>(c)));
  }
  // A multiple-choice letter in any wrapping: "(b)", "b)", "b." are "b".
  while (t.size() >= 2 && t.back() == '.') t.pop_back();
  if (t.size() == 3 && t[0] == '(' && t[2] == ')' && std::isalpha(static_cast<unsigned char>(t[1]))) t = t.substr(1, 1);
  if (t.size() == 2 && t[1] == ')' && std::isalpha(static_cast<unsigned char>(t[0]))) t = t.substr(0, 1);
  return t;
}

static bool parse(const std::string& text, ParsedAnswer* out) {
  try {
    WorkBudget budget(kParseWorkBudget);
    *out = parse_math_answer(text);
    return true;
  } catch (const MathLimit&) {
    return false;
  }
}

static bool close_enough(const Value& a, const Value& b, double rel_tol) {
  if (a.kind != b.kind || a.items.size() != b.items.size() || a.open != b.open || a.close != b.close ||
      a.rows != b.rows || a.cols != b.cols)
    return false;
  if (a.kind == Value::Kind::Scalar) {
    if (a.scalar.key() == b.scalar.key()) return true;
    double x, y;
    if (!a.scalar.numeric(&x) || !b.scalar.numeric(&y)) return false;
    return std::fabs(x - y) <= rel_tol * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind == Value::Kind::Tuple || a.kind == Value::Kind::Matrix) {
    for (size_t i = 0; i < a.items.size(); i++)
      if (!close_enough(a.items[i], b.items[i], rel_tol)) return false;
    return true;
  }
  return a.key() == b.key();  // sets and unions: exact
}

// True when a = c * b for a rational c, positive when `positive` (the same inequality).
static bool proportional(const Poly& a, const Poly& b, bool positive) {
  if (a.is_zero() || b.is_zero()) return a.is_zero() && b.is_zero();
  const auto& [m, cb] = *b.terms.begin();
  auto it = a.terms.find(m);
  if (it == a.terms.end()) return false;
  Rational c = it->second / cb;
  if (positive && c.sign() <= 0) return false;
  return (a - b * Poly::constant(c)).is_zero();
}

// The same relations, in any order: each link of one matches a distinct link of the other.
static bool same_relations(const std::vector<Relation>& a, const std::vector<Relation>& b) {
  if (a.empty() || a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Relation& r : a) {
    bool matched = false;
    for (size_t j = 0; j < b.size() && !matched; j++) {
      if (used[j] || r.op != b[j].op) continue;
      if (proportional(r.poly, b[j].poly, r.op == "<" || r.op == "<=")) used[j] = matched = true;
    }
    if (!matched) return false;
  }
  return true;
}

// Equal values; a percentage also equals its value over 100 ("28\%" is 28 and 0.28).
static bool same_value(const ParsedAnswer& g, const ParsedAnswer& p, const MathOptions& opt) {
  if (g.value.key() == p.value.key()) return true;
  if (opt.rel_tol > 0 && close_enough(g.value, p.value, opt.rel_tol)) return true;
  if (g.percent != p.percent && g.value.kind == Value::Kind::Scalar && p.value.kind == Value::Kind::Scalar) {
    const Poly& with = g.percent ? g.value.scalar : p.value.scalar;
    const Poly& without = g.percent ? p.value.scalar : g.value.scalar;
    return (divide(with, Poly::constant(Rational(100))) - without).is_zero();
  }
  return false;
}

// Compares two extracted answers; returns the verdict.
static std::string compare(const std::string& gold, const std::string& pred, const MathOptions& opt) {
  ParsedAnswer g, p;
  bool gold_ok = parse(gold, &g);
  bool text_equal = normalize_text(gold) == normalize_text(pred);
  if (!gold_ok) return text_equal ? "string_match" : "not_equivalent";
  if (!parse(pred, &p)) return text_equal ? "string_match" : "unparsable";
  bool names_agree = g.var.empty() || p.var.empty() || g.var == p.var;
  if (g.relational || p.relational) {
    // Equations and inequalities: the same relation ("x < 1" and "-x > -1"), or the same
    // interval of the same name ("-2 \le x \le 7" and "x \in [-2, 7]"). A relation never
    // equals a bare number: "x < 3" and "x \neq 3" are not "3".
    if (same_relations(g.relations, p.relations)) return "equivalent";
    if (g.has_value && p.has_value && names_agree && g.value.key() == p.value.key()) return "equivalent";
    return "not_equivalent";
  }
  if (!names_agree) return "wrong_variable";
  if (!g.named_key.empty() && !p.named_key.empty()) return g.named_key == p.named_key ? "equivalent" : "not_equivalent";
  if (same_value(g, p, opt)) return "equivalent";
  return "not_equivalent";
}

static bool is_correct(const std::string& verdict) {
  return verdict == "equivalent" || verdict == "string_match";
}

MathResult verify_math(const std::string& gold, const std::string& completion, bool whole_if_none,
                       const MathOptions& opt) {
  MathResult r;
  Extraction g = extract(gold, /*whole_if_none=*/true, /*gold=*/true, /*math=*/true);
  if (!g.found) {
    r.verdict = "bad_gold";
    return r;
  }
  Extraction p = extract(completion, whole_if_none, /*gold=*/false, /*math=*/true);
  if (p.hedged) {
    r.verdict = "hedged";
    return r;
  }
  if (!p.found) {
    r.verdict = "no_answer";
    return r;
  }
  r.extracted = p.answer;
  r.verdict = compare(g.answer, p.answer, opt);
  r.correct = is_correct(r.verdict);
  return r;
}

bool math_equivalent(const std::string& a, const std::string& b, const MathOptions& opt) {
  return is_correct(compare(clean_answer(a), clean_answer(b), opt));
}

}  // namespace r1
