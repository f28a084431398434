// Math verifier: answer extraction (think blocks, answer tags, boxes, hedging) and the
// comparison of parsed values, with a string fallback for non-math answers.
#include "reward/math_verifier.h"

#include <cctype>
#include <cmath>
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

// Contents of every complete <answer>...</answer> in order.
static std::vector<std::string> answer_tags(const std::string& text) {
  static const std::string open = "<answer>", close = "</answer>";
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t o = text.find(open, i);
    if (o == std::string::npos) break;
    size_t c = text.find(close, o + open.size());
    if (c == std::string::npos) break;
    out.push_back(text.substr(o + open.size(), c - o - open.size()));
    i = c + close.size();
  }
  return out;
}

// Contents of every top-level \boxed{...} / \fbox{...} (brace-matched; an unclosed box
// is ignored; \boxed 5 takes the next word).
static std::vector<std::string> boxes(const std::string& text) {
  std::vector<std::string> out;
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
      out.push_back(text.substr(j + 1, k - j - 1));
      i = k + 1;
    } else {
      size_t k = j;
      while (k < text.size() && !std::isspace(static_cast<unsigned char>(text[k])) && text[k] != '$') k++;
      if (k > j) out.push_back(text.substr(j, k - j));
      i = k;
    }
  }
  return out;
}

// Boxes inside boxes are unwrapped this many levels deep at most (each level rescans its
// text once, so the work stays linear in the input times this bound).
static constexpr int kMaxBoxNesting = 8;

static Extraction pick(const std::vector<std::string>& candidates, int depth);

// The answer inside one candidate: a box inside an answer tag (or inside a box) wins.
static Extraction unwrap(const std::string& candidate, int depth) {
  if (depth < kMaxBoxNesting) {
    std::vector<std::string> inner = boxes(candidate);
    if (!inner.empty()) return pick(inner, depth + 1);
  }
  Extraction e;
  e.answer = clean_answer(candidate);
  e.found = !e.answer.empty();
  return e;
}

// All candidates must agree (ignoring spaces); the last one is the answer.
static Extraction pick(const std::vector<std::string>& candidates, int depth) {
  std::vector<Extraction> found;
  for (const std::string& c : candidates) found.push_back(unwrap(c, depth));
  const Extraction& last = found.back();
  for (const Extraction& e : found) {
    if (e.hedged || strip_spaces(e.answer) != strip_spaces(last.answer)) {
      Extraction h;
      h.hedged = true;
      return h;
    }
  }
  return last;
}

Extraction extract_final_answer(const std::string& text, bool whole_if_none) {
  std::string outside = outside_think(text);
  std::vector<std::string> tags = answer_tags(outside);
  if (!tags.empty()) return pick(tags, 0);
  std::vector<std::string> boxed = boxes(outside);
  if (!boxed.empty()) return pick(boxed, 0);
  Extraction e;
  if (whole_if_none) {
    e.answer = clean_answer(outside);
    e.found = !e.answer.empty();
  }
  return e;
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

// Compares two extracted answers; returns the verdict.
static std::string compare(const std::string& gold, const std::string& pred, const MathOptions& opt) {
  ParsedAnswer g, p;
  bool gold_ok = parse(gold, &g);
  bool text_equal = normalize_text(gold) == normalize_text(pred);
  if (!gold_ok) return text_equal ? "string_match" : "not_equivalent";
  if (!parse(pred, &p)) return text_equal ? "string_match" : "unparsable";
  if (!g.var.empty() && !p.var.empty() && g.var != p.var) return "wrong_variable";
  if (g.value.key() == p.value.key()) return "equivalent";
  if (opt.rel_tol > 0 && close_enough(g.value, p.value, opt.rel_tol)) return "equivalent";
  return "not_equivalent";
}

static bool is_correct(const std::string& verdict) {
  return verdict == "equivalent" || verdict == "string_match";
}

MathResult verify_math(const std::string& gold, const std::string& completion, bool whole_if_none,
                       const MathOptions& opt) {
  MathResult r;
  Extraction g = extract_final_answer(gold, true);
  if (!g.found) {
    r.verdict = "bad_gold";
    return r;
  }
  Extraction p = extract_final_answer(completion, whole_if_none);
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
