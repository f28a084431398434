// The pre-tokenizer regex engine (see regex.h): a recursive-descent parser builds a small
// syntax tree, which is compiled to a program of four instructions (match one character of
// a set, split = try x then y, jump, lookahead) run by a backtracking interpreter with an
// explicit stack (so long runs of one class cannot overflow the call stack). Two shortcuts,
// both exact: each set answers ASCII from a bitmap, and a position whose character is in
// none of the sets a match can start with is rejected without running the program.
#include "tokenizer/regex.h"

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace r1 {

void decode_chars(const char* s, size_t n, std::vector<CharInfo>& out) {
  check(n < UINT32_MAX, "pretokenize: a text of ", n, " bytes is over the 4 GiB limit");
  out.clear();
  out.reserve(n + 1);
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    int k = unicode::decode_utf8(s, n, i, &cp);
    out.push_back({cp, uint32_t(i), unicode::props(cp)});
    i += k;
  }
  out.push_back({0, uint32_t(n), 0});
}

void Regex::Set::finish() {
  ascii[0] = ascii[1] = 0;
  for (uint32_t cp = 0; cp < 128; cp++)
    if (has_slow(cp, unicode::props(cp))) ascii[cp >> 6] |= uint64_t(1) << (cp & 63);
}

bool Regex::Set::has_slow(uint32_t cp, uint8_t p) const {
  bool in = (p & props) || (~p & not_props);
  for (size_t k = 0; !in && k < ranges.size(); k++) in = cp >= ranges[k].first && cp <= ranges[k].second;
  return in != negated;
}

// --- parser -------------------------------------------------------------------------

namespace {

struct Node {
  enum Kind { Set, Cat, Alt, Repeat, Look };
  explicit Node(Kind k = Cat) : kind(k) {}
  Kind kind;
  int set = -1;             // Set
  std::vector<Node> kids;   // Cat, Alt: the parts; Repeat, Look: one body
  int min = 0, max = 0;     // Repeat: max -1 = unbounded
  bool negative = false;    // Look
};

bool nullable(const Node& n) {
  switch (n.kind) {
    case Node::Set: return false;
    case Node::Look: return true;
    case Node::Repeat: return n.min == 0 || nullable(n.kids[0]);
    case Node::Cat:
      for (const Node& k : n.kids)
        if (!nullable(k)) return false;
      return true;
    case Node::Alt:
      for (const Node& k : n.kids)
        if (nullable(k)) return true;
      return false;
  }
  return false;
}

}  // namespace

class RegexCompiler {
 public:
  RegexCompiler(Regex& re) : re_(re) {
    const std::string& s = re.source_;
    for (size_t i = 0; i < s.size();) {
      uint32_t cp;
      size_t k = unicode::decode_utf8(s.data(), s.size(), i, &cp);
      check(cp < unicode::kInvalidBase, "regex '", s, "': invalid UTF-8 at byte ", i);
      cps_.push_back(cp);
      at_.push_back(i);
      i += k;
    }
    at_.push_back(s.size());
  }

  void compile() {
    Node root = alternation(false);
    if (i_ < cps_.size()) fail("unmatched ')'");
    if (nullable(root)) fail("a pattern that can match the empty string");
    emit(root);
    put(Regex::Op::Match);
    first_sets(0);
  }

 private:
  Regex& re_;
  std::vector<uint32_t> cps_;  // the pattern's code points
  std::vector<size_t> at_;     // (cps_.size() + 1,) byte offset of each
  size_t i_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(cat("unsupported regex '", re_.source_, "': ", what, " at offset ", at_[std::min(i_, at_.size() - 1)],
                    " (supported: literals, [...] classes, \\p{L|M|N|P|S}, \\s, \\S, (?:), (?i:), (?=), (?!), |, ",
                    "? * + {n,m}; see docs/tokenizer.md)"));
  }
  bool more() const { return i_ < cps_.size(); }
  uint32_t peek(size_t k = 0) const { return i_ + k < cps_.size() ? cps_[i_ + k] : 0; }
  bool eat(uint32_t c) {
    if (peek() != c || !more()) return false;
    i_++;
    return true;
  }
  static bool ascii_letter(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  int add_set(Regex::Set s) {
    s.finish();
    re_.sets_.push_back(std::move(s));
    return int(re_.sets_.size() - 1);
  }
  static Node set_node(int set) {
    Node n(Node::Set);
    n.set = set;
    return n;
  }

  // ASCII case folding, as the reference JS tokenizer rewrites (?i:...): each range gets
  // the other case of the ASCII letters it holds.
  static void fold(Regex::Set& s) {
    size_t n = s.ranges.size();
    for (size_t k = 0; k < n; k++) {
      auto [lo, hi] = s.ranges[k];
      for (uint32_t base : {uint32_t('a'), uint32_t('A')}) {
        uint32_t a = std::max(lo, base), b = std::min(hi, base + 25);
        if (a <= b) s.ranges.push_back({a ^ 0x20, b ^ 0x20});
      }
    }
  }

  Node alternation(bool icase) {
    Node alt(Node::Alt);
    alt.kids.push_back(sequence(icase));
    while (eat('|')) alt.kids.push_back(sequence(icase));
    return alt.kids.size() == 1 ? std::move(alt.kids[0]) : alt;
  }

  Node sequence(bool icase) {
    Node seq(Node::Cat);
    while (more() && peek() != '|' && peek() != ')') seq.kids.push_back(quantified(icase));
    return seq;
  }

  Node quantified(bool icase) {
    Node atom_node = atom(icase);
    for (;;) {
      int lo, hi;
      if (eat('?')) lo = 0, hi = 1;
      else if (eat('*')) lo = 0, hi = -1;
      else if (eat('+')) lo = 1, hi = -1;
      else if (peek() == '{') {
        i_++;
        lo = number();
        hi = lo;
        if (eat(',')) hi = peek() == '}' ? -1 : number();
        if (!eat('}')) fail("malformed {n,m} quantifier");
        if (hi != -1 && hi < lo) fail("{n,m} with m < n");
        if (lo > 1000 || hi > 1000) fail("a repeat count over 1000");
      } else {
        return atom_node;
      }
      if (peek() == '?' || peek() == '+') fail("a lazy or possessive quantifier");
      if (atom_node.kind == Node::Look) fail("a quantified lookahead");
      if (nullable(atom_node) && hi != 1) fail("a repeated item that can match the empty string");
      Node r(Node::Repeat);
      r.min = lo;
      r.max = hi;
      r.kids.push_back(std::move(atom_node));
      atom_node = std::move(r);
    }
  }

  int number() {
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a number in {n,m}");
    int v = 0;
    while (peek() >= '0' && peek() <= '9' && v < 100000) v = v * 10 + int(cps_[i_++] - '0');
    return v;
  }

  Node atom(bool icase) {
    uint32_t c = peek();
    if (c == '(') {
      i_++;
      Node body;
      if (eat('?')) {
        if (eat(':')) {
          body = alternation(icase);
        } else if (peek() == 'i' && peek(1) == ':') {
          i_ += 2;
          body = alternation(true);
        } else if (peek() == '=' || peek() == '!') {
          Node look(Node::Look);
          look.negative = cps_[i_++] == '!';
          look.kids.push_back(alternation(icase));
          body = std::move(look);
        } else {
          fail("a group kind other than (?:, (?i:, (?=, (?!");
        }
      } else {
        re_.has_groups_ = true;
        body = alternation(icase);
      }
      if (!eat(')')) fail("missing ')'");
      return body;
    }
    if (c == '[') return set_node(char_class(icase));
    if (c == '\\') {
      i_++;
      Regex::Set s;
      if (!escape(s)) {
        uint32_t ch = escaped_char();
        s.ranges.push_back({ch, ch});
      }
      if (icase) fold(s);
      return set_node(add_set(std::move(s)));
    }
    if (c == '.' || c == '^' || c == '$') fail(cat("'", char(c), "'"));
    if (c == '*' || c == '+' || c == '?' || c == '{') fail("a quantifier with nothing to repeat");
    i_++;
    Regex::Set s;
    s.ranges.push_back({c, c});
    if (icase) fold(s);
    return set_node(add_set(std::move(s)));
  }

  // After a backslash: a class escape (\p{..} \P{..} \s \S) added to s; false when the escape
  // is a single character instead (read it with escaped_char()).
  bool escape(Regex::Set& s) {
    uint32_t c = peek();
    if (c == 's' || c == 'S') {
      i_++;
      (c == 's' ? s.props : s.not_props) |= unicode::kPropSpace;
      return true;
    }
    if (c == 'p' || c == 'P') {
      i_++;
      if (!eat('{')) fail("\\p without {name}");
      std::string name;
      while (more() && peek() != '}') name += char(cps_[i_++]);
      if (!eat('}')) fail("\\p{ without '}'");
      uint8_t bit = name == "L" || name == "Letter" ? unicode::kPropL
                    : name == "M" || name == "Mark" ? unicode::kPropM
                    : name == "N" || name == "Number" ? unicode::kPropN
                    : name == "P" || name == "Punctuation" ? unicode::kPropP
                    : name == "S" || name == "Symbol" ? unicode::kPropS
                    : 0;
      if (!bit) fail(cat("the property \\", char(c), "{", name, "}"));
      (c == 'p' ? s.props : s.not_props) |= bit;
      return true;
    }
    return false;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; k++) {
      uint32_t h = peek();
      int d = h >= '0' && h <= '9' ? int(h - '0') : h >= 'a' && h <= 'f' ? int(h - 'a' + 10)
              : h >= 'A' && h <= 'F' ? int(h - 'A' + 10) : -1;
      if (d < 0) fail("a malformed \\x or \\u escape");
      v = v * 16 + uint32_t(d);
      i_++;
    }
    return v;
  }

  uint32_t escaped_char() {
    if (!more()) fail("a trailing backslash");
    uint32_t c = cps_[i_++];
    switch (c) {
      case 'r': return '\r';
      case 'n': return '\n';
      case 't': return '\t';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'x': return hex(2);
      case 'u': return hex(4);
      default: break;
    }
    bool word = (c >= '0' && c <= '9') || ascii_letter(c) || c == '_';
    if (word || c >= 0x80) {
      i_ -= 2;  // report the offset of the backslash
      fail(cat("the escape '", std::string(re_.source_, at_[i_], at_[i_ + 2] - at_[i_]), "'"));
    }
    return c;  // \- \[ \\ \' ... : the character itself
  }

  int char_class(bool icase) {
    i_++;  // '['
    Regex::Set s;
    s.negated = eat('^');
    bool first = true;
    while (!(peek() == ']' && more())) {
      if (!more()) fail("missing ']'");
      if (peek() == '[') fail("a nested class");
      uint32_t lo;
      if (eat('\\')) {
        if (escape(s)) {
          if (peek() == '-' && peek(1) != ']') fail("a range from a class escape");
          first = false;
          continue;
        }
        lo = escaped_char();
      } else {
        lo = cps_[i_++];
      }
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && i_ + 1 < cps_.size()) {
        i_++;
        if (eat('\\')) {
          Regex::Set probe;
          if (escape(probe)) fail("a range to a class escape");
          hi = escaped_char();
        } else {
          hi = cps_[i_++];
        }
        if (hi < lo) fail("a range out of order");
      }
      s.ranges.push_back({lo, hi});
      first = false;
    }
    i_++;  // ']'
    if (first) fail("an empty class");
    if (icase) fold(s);
    return add_set(std::move(s));
  }

  // The Set instructions reachable from pc without consuming a character.
  void first_sets(int pc) {
    std::vector<bool> seen(re_.prog_.size(), false);
    std::vector<int> todo = {pc};
    while (!todo.empty()) {
      int p = todo.back();
      todo.pop_back();
      if (seen[p]) continue;
      seen[p] = true;
      const Regex::Inst& in = re_.prog_[p];
      if (in.op == Regex::Op::Set) re_.first_sets_.push_back(in.x);
      else if (in.op == Regex::Op::Split) todo.push_back(in.x), todo.push_back(in.y);
      else if (in.op == Regex::Op::Jmp) todo.push_back(in.x);
      else re_.first_any_ = true;  // a lookahead (or Match) before any character
    }
  }

  // --- code generation ---

  int pc() const { return int(re_.prog_.size()); }
  int put(Regex::Op op, int x = 0, int y = 0) {
    Regex::Inst in;
    in.op = op;
    in.x = x;
    in.y = y;
    re_.prog_.push_back(in);
    return pc() - 1;
  }

  void emit(const Node& n) {
    switch (n.kind) {
      case Node::Set: put(Regex::Op::Set, n.set); return;
      case Node::Cat:
        for (const Node& k : n.kids) emit(k);
        return;
      case Node::Alt: {
        std::vector<int> to_end;
        for (size_t k = 0; k < n.kids.size(); k++) {
          int split = k + 1 < n.kids.size() ? put(Regex::Op::Split, 0, 0) : -1;
          if (split >= 0) re_.prog_[split].x = pc();
          emit(n.kids[k]);
          if (split >= 0) {
            to_end.push_back(put(Regex::Op::Jmp));
            re_.prog_[split].y = pc();
          }
        }
        for (int j : to_end) re_.prog_[j].x = pc();
        return;
      }
      case Node::Repeat: {
        for (int k = 0; k < n.min; k++) emit(n.kids[0]);
        if (n.max == -1) {  // loop: split body, out; body; jmp loop
          int loop = put(Regex::Op::Split);
          re_.prog_[loop].x = pc();
          emit(n.kids[0]);
          put(Regex::Op::Jmp, loop);
          re_.prog_[loop].y = pc();
          return;
        }
        std::vector<int> splits;  // each optional copy: split body, end
        for (int k = n.min; k < n.max; k++) {
          splits.push_back(put(Regex::Op::Split));
          re_.prog_[splits.back()].x = pc();
          emit(n.kids[0]);
        }
        for (int j : splits) re_.prog_[j].y = pc();
        return;
      }
      case Node::Look: {  // look (body at +2); jmp past; body; match
        int look = put(Regex::Op::Look);
        re_.prog_[look].negative = n.negative;
        int skip = put(Regex::Op::Jmp);
        re_.prog_[look].x = pc();
        emit(n.kids[0]);
        put(Regex::Op::Match);
        re_.prog_[skip].x = pc();
        return;
      }
    }
  }
};

Regex::Regex(const std::string& pattern) : source_(pattern) {
  check(!pattern.empty(), "unsupported regex: the empty pattern");
  RegexCompiler(*this).compile();
}

// --- matching ----------------------------------------------------------------------------

long Regex::run(int pc, const CharInfo* c, size_t i, size_t end) const {
  thread_local std::vector<std::pair<int, size_t>> stack;  // backtrack points (pc, position)
  size_t base = stack.size();
  stack.push_back({pc, i});
  while (stack.size() > base) {
    auto [p, s] = stack.back();
    stack.pop_back();
    for (;;) {
      const Inst& in = prog_[p];
      if (in.op == Op::Set) {
        if (s >= end || !sets_[in.x].has(c[s].cp, c[s].props)) break;
        p++;
        s++;
      } else if (in.op == Op::Split) {
        stack.push_back({in.y, s});
        p = in.x;
      } else if (in.op == Op::Jmp) {
        p = in.x;
      } else if (in.op == Op::Look) {
        if ((run(in.x, c, s, end) >= 0) == in.negative) break;
        p++;
      } else {  // Match
        stack.resize(base);
        return long(s);
      }
    }
  }
  return -1;
}

long Regex::match_at(const CharInfo* c, size_t i, size_t end) const {
  if (!first_any_) {  // most positions of most patterns fail on their first character
    bool can_start = false;
    for (size_t k = 0; !can_start && k < first_sets_.size(); k++) can_start = sets_[first_sets_[k]].has(c[i].cp, c[i].props);
    if (!can_start) return -1;
  }
  return run(0, c, i, end);
}

}  // namespace r1
