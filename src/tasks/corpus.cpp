// Corpus generation: worked solutions for arith, linear and countdown rows, in several
// reasoning styles and document formats. See corpus.h.
#include "tasks/corpus.h"

#include <cstdlib>
#include <memory>
#include <numeric>

#include "sample/template.h"
#include "tasks/general.h"
#include "tasks/search.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

// --- exact values and expression steps ------------------------------------------------

namespace {

// A small exact rational (task values stay far below int64 overflow).
struct Q {
  int64_t n = 0, d = 1;
  static Q make(int64_t n, int64_t d) {
    if (d < 0) { n = -n; d = -d; }
    int64_t g = std::gcd(n < 0 ? -n : n, d);
    if (g > 1) { n /= g; d /= g; }
    return {n, d};
  }
  std::string str() const { return d == 1 ? std::to_string(n) : std::to_string(n) + "/" + std::to_string(d); }
  bool operator==(const Q& o) const { return n == o.n && d == o.d; }
};

Q apply(char op, Q a, Q b) {
  switch (op) {
    case '+': return Q::make(a.n * b.d + b.n * a.d, a.d * b.d);
    case '-': return Q::make(a.n * b.d - b.n * a.d, a.d * b.d);
    case '*': return Q::make(a.n * b.n, a.d * b.d);
    default: return Q::make(a.n * b.d, a.d * b.n);  // '/', divisor checked by the caller
  }
}

struct Expr {
  char op = 0;  // 0: number
  Q value;
  std::unique_ptr<Expr> l, r;
};

// Recursive descent over + - * / ( ) and non-negative integers.
class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}
  std::unique_ptr<Expr> parse() {
    auto e = sum();
    if (i_ != s_.size()) throw Error(cat("corpus: cannot parse expression '", s_, "'"));
    return e;
  }

 private:
  std::unique_ptr<Expr> sum() {
    auto e = product();
    while (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) {
      char op = s_[i_++];  // read before parsing the right operand (argument order is unspecified)
      auto r = product();
      e = bin(op, std::move(e), std::move(r));
    }
    return e;
  }
  std::unique_ptr<Expr> product() {
    auto e = atom();
    while (i_ < s_.size() && (s_[i_] == '*' || s_[i_] == '/')) {
      char op = s_[i_++];
      auto r = atom();
      e = bin(op, std::move(e), std::move(r));
    }
    return e;
  }
  std::unique_ptr<Expr> atom() {
    if (i_ < s_.size() && s_[i_] == '(') {
      i_++;
      auto e = sum();
      if (i_ >= s_.size() || s_[i_] != ')') throw Error(cat("corpus: unbalanced '", s_, "'"));
      i_++;
      return e;
    }
    size_t start = i_;
    while (i_ < s_.size() && isdigit((unsigned char)s_[i_])) i_++;
    if (start == i_) throw Error(cat("corpus: cannot parse expression '", s_, "'"));
    auto e = std::make_unique<Expr>();
    e->value = Q::make(std::atoll(s_.substr(start, i_ - start).c_str()), 1);
    return e;
  }
  static std::unique_ptr<Expr> bin(char op, std::unique_ptr<Expr> l, std::unique_ptr<Expr> r) {
    auto e = std::make_unique<Expr>();
    e->op = op;
    e->value = apply(op, l->value, r->value);
    e->l = std::move(l);
    e->r = std::move(r);
    return e;
  }
  const std::string& s_;
  size_t i_ = 0;
};

struct Step {
  Q a, b, c;
  char op;
  std::string str() const { return a.str() + op + b.str() + " = " + c.str(); }
};

// Post-order: the operations in an order a person computes them.
void collect_steps(const Expr& e, std::vector<Step>& out) {
  if (!e.op) return;
  collect_steps(*e.l, out);
  collect_steps(*e.r, out);
  out.push_back({e.l->value, e.r->value, e.value, e.op});
}

// A plausible wrong result for a step (off by a small amount).
Q slip_of(const Q& c, Rng& rng) {
  int64_t delta = rng.range(1, 3) * (rng.below(2) ? 1 : -1);
  return Q::make(c.n + delta * c.d, c.d);
}

// The inverse operation that checks a step: a+b=c -> c-b=a, a-b=c -> c+b=a, a*b=c -> c/b=a.
std::string check_of(const Step& s) {
  if (s.op == '+') return s.c.str() + "-" + s.b.str() + " = " + s.a.str();
  if (s.op == '-') return s.c.str() + "+" + s.b.str() + " = " + s.a.str();
  if (s.op == '*' && s.b.n != 0) return s.c.str() + "/" + s.b.str() + " = " + s.a.str();
  if (s.op == '/') return s.c.str() + "*" + s.b.str() + " = " + s.a.str();
  return s.str();
}

// Lines for a list of steps in a style: steps, check (of the last step), slip (one step wrong, then fixed).
std::string render_steps(const std::vector<Step>& steps, const std::string& style, Rng& rng) {
  std::string out;
  size_t slip_at = steps.empty() ? 0 : size_t(rng.below(steps.size()));
  for (size_t i = 0; i < steps.size(); i++) {
    if (!out.empty()) out += " ";
    if (style == "slip" && i == slip_at) {
      Step wrong = steps[i];
      wrong.c = slip_of(steps[i].c, rng);
      out += wrong.str() + ". wait, " + steps[i].str() + ".";
    } else {
      out += steps[i].str() + ".";
    }
  }
  if ((style == "check" || style == "explain") && !steps.empty()) out += " check: " + check_of(steps.back()) + ", correct.";
  return out;
}

std::vector<Step> steps_of(const std::string& expr) {
  std::vector<Step> steps;
  collect_steps(*Parser(expr).parse(), steps);
  return steps;
}

// Countdown: a few failed tries (random expressions over the numbers), then the solution.
std::string countdown_reasoning(const Json& row, const std::string& style, Rng& rng) {
  std::vector<int64_t> nums;
  for (const Json& x : row.at("numbers").as_array()) nums.push_back(x.as_int());
  Q target = Q::make(row.at("target").as_int(), 1);
  std::string out;
  if (style == "explain") {
    out = "we need " + target.str() + " from";
    for (int64_t v : nums) out += " " + std::to_string(v);
    out += ", each number once. ";
  }
  int tries = style == "bare" ? 0 : int(rng.below(3));
  for (int t = 0; t < tries; t++) {
    // left-to-right combination of a random permutation with random operators
    std::vector<int64_t> p = nums;
    for (size_t i = p.size() - 1; i > 0; i--) std::swap(p[i], p[rng.below(i + 1)]);
    Q acc = Q::make(p[0], 1);
    std::string line;
    for (size_t i = 1; i < p.size(); i++) {
      char op = "+-*"[rng.below(3)];
      Q next = apply(op, acc, Q::make(p[i], 1));
      line += acc.str() + op + std::to_string(p[i]) + " = " + next.str() + ". ";
      acc = next;
    }
    if (acc == target) break;  // a lucky try is a solution: stop trying
    out += line + "not " + target.str() + ". ";
  }
  std::vector<Step> steps = steps_of(row.at("answer").as_string());
  out += render_steps(steps, style == "bare" ? "steps" : style, rng);
  if (style != "bare") out += " so " + row.at("answer").as_string() + " = " + target.str() + ".";
  return out;
}

// Linear a x + b = c: move b to the right ("7x = 43+6 = 49."), then divide ("x = 49/7 = 7.").
std::string linear_reasoning(const Json& row, const std::string& style, Rng& rng) {
  int64_t a = row.at("a").as_int(), b = row.at("b").as_int(), c = row.at("c").as_int();
  std::string ax = a == 1 ? "x" : a == -1 ? "-x" : std::to_string(a) + "x";
  std::vector<std::pair<std::string, Step>> lines;  // (left side, step)
  Q rhs = Q::make(c, 1);
  if (b != 0) {
    Step move{rhs, Q::make(b < 0 ? -b : b, 1), Q::make(c - b, 1), b < 0 ? '+' : '-'};
    lines.push_back({ax, move});
    rhs = move.c;
  }
  Q x = Q::make(rhs.n, a);
  lines.push_back({"x", Step{rhs, Q::make(a, 1), x, '/'}});
  size_t slip_at = size_t(rng.below(lines.size()));
  std::string out;
  if (style == "explain") out = "we need x with " + row.at("prompt").as_string().substr(13) + ".";
  for (size_t i = 0; i < lines.size(); i++) {
    const auto& [lhs, st] = lines[i];
    if (!out.empty()) out += " ";
    if (style == "explain") out += i + 1 < lines.size() ? "move " + st.b.str() + " to the right: " : "divide by " + st.b.str() + ": ";
    if (style == "slip" && i == slip_at) {
      Step wrong = st;
      wrong.c = slip_of(st.c, rng);
      out += lhs + " = " + wrong.str() + ". wait, " + lhs + " = " + st.str() + ".";
    } else {
      out += lhs + " = " + st.str() + ".";
    }
  }
  if (style == "check" || style == "explain") {
    std::string bterm = b == 0 ? "" : (b < 0 ? "-" : "+") + std::to_string(b < 0 ? -b : b);
    out += " check: " + std::to_string(a) + "*" + x.str() + bterm + " = " + std::to_string(c) + ", correct.";
  }
  return out;
}

}  // namespace

std::string worked_solution(const Json& row, const std::string& style, uint64_t seed) {
  Rng rng(seed);
  const std::string& task = row.at("task").as_string();
  const std::string& answer = row.at("answer").as_string();
  if (style == "bare" && task != "countdown") return answer;
  if (task == "general") return general_reasoning(row);
  if (task == "arith") {
    std::string expr = row.at("prompt").as_string().substr(9);
    return (style == "explain" ? "we compute " + expr + " step by step. " : "") + render_steps(steps_of(expr), style, rng);
  }
  if (task == "linear") return linear_reasoning(row, style, rng);
  if (task == "countdown") return countdown_reasoning(row, style, rng);
  throw Error(cat("corpus: no worked solutions for task '", task, "'"));
}

std::string second_language(const std::string& reasoning) {
  static const std::vector<std::pair<std::string, std::string>> kWords = {
      {"check", "\u043f\u0440\u043e\u0432\u0435\u0440\u043a\u0430"},  // проверка
      {"correct", "\u0432\u0435\u0440\u043d\u043e"},                      // верно
      {"wait", "\u0441\u0442\u043e\u043f"},                                // стоп
      {"not", "\u043d\u0435"},                                               // не
      {"so", "\u0438\u0442\u0430\u043a"},                                  // итак
      {"we", "\u043c\u044b"},                                                // мы
      {"need", "\u0438\u0449\u0435\u043c"},                                // ищем
      {"with", "\u0433\u0434\u0435"},                                       // где
      {"move", "\u043f\u0435\u0440\u0435\u043d\u043e\u0441"},           // перенос
      {"to", "\u043d\u0430"},                                                // на
      {"the", ""},
      {"right", "\u043f\u0440\u0430\u0432\u043e"},                        // право
      {"divide", "\u0434\u0435\u043b\u0438\u043c"},                       // делим
      {"by", "\u043d\u0430"},                                                // на
      {"compute", "\u0441\u0447\u0438\u0442\u0430\u0435\u043c"},        // считаем
      {"step", "\u0448\u0430\u0433"},                                       // шаг
      {"from", "\u0438\u0437"},                                              // из
      {"each", "\u043a\u0430\u0436\u0434\u043e\u0435"},                  // каждое
      {"number", "\u0447\u0438\u0441\u043b\u043e"},                       // число
      {"once", "\u0440\u0430\u0437"},                                       // раз
      {"words", "\u0441\u043b\u043e\u0432\u0430"},                        // слова
      {"are", "\u044d\u0442\u043e"},                                        // это
      {"is", "\u044d\u0442\u043e"},                                         // это
      {"end", "\u043a\u043e\u043d\u0446\u0430"},                          // конца
      {"order", "\u043f\u043e\u0440\u044f\u0434\u043e\u043a"},          // порядок
      {"last", "\u043f\u043e\u0441\u043b\u0435\u0434\u043d\u0435\u0435"},  // последнее
      {"word", "\u0441\u043b\u043e\u0432\u043e"},                         // слово
      {"color", "\u0446\u0432\u0435\u0442"}};                              // цвет
  std::string out, word;
  bool skip_space = false;
  auto flush = [&]() {
    if (word.empty()) return;
    std::string w = word;
    for (const auto& [en, ru] : kWords)
      if (word == en) w = ru;
    out += w;
    if (w.empty()) skip_space = true;  // a dropped article takes its space with it
    word.clear();
  };
  for (char c : reasoning) {
    if (isalpha((unsigned char)c)) {
      word += c;
    } else {
      flush();
      if (!(c == ' ' && skip_space)) out += c;
      skip_space = false;
    }
  }
  flush();
  return out;
}

// --- config ------------------------------------------------------------------------------

CorpusConfig CorpusConfig::from_json(const Json& j, const std::string& source) {
  CorpusConfig c;
  if (!j.is_object()) throw Error(cat(source, ": the corpus section must be an object"));
  reject_unknown_fields(j, {"n_docs", "seed", "w_arith", "w_linear", "w_countdown", "w_general", "w_facts", "w_search", "difficulty",
                                "search_difficulty", "search_optimal", "search_give_up", "search_slip", "search_cutoff",
                                "search_max_tries",
                                "w_bare", "w_steps", "w_check", "w_slip", "w_explain", "w_mixed", "w_r1zero", "w_qa",
                                "w_chat"}, source, "corpus field");
  try {
    c.n_docs = j.get_int("n_docs", c.n_docs);
    c.seed = uint64_t(j.get_int("seed", int64_t(c.seed)));
    c.w_arith = j.get_number("w_arith", c.w_arith);
    c.w_linear = j.get_number("w_linear", c.w_linear);
    c.w_countdown = j.get_number("w_countdown", c.w_countdown);
    c.w_general = j.get_number("w_general", c.w_general);
    c.w_facts = j.get_number("w_facts", c.w_facts);
    c.w_search = j.get_number("w_search", c.w_search);
    c.search_difficulty = int(j.get_int("search_difficulty", c.search_difficulty));
    c.search_optimal = j.get_bool("search_optimal", c.search_optimal);
    c.search_give_up = j.get_number("search_give_up", c.search_give_up);
    c.search_slip = j.get_number("search_slip", c.search_slip);
    c.search_cutoff = j.get_number("search_cutoff", c.search_cutoff);
    c.search_max_tries = int(j.get_int("search_max_tries", c.search_max_tries));
    c.difficulty = int(j.get_int("difficulty", c.difficulty));
    c.w_bare = j.get_number("w_bare", c.w_bare);
    c.w_steps = j.get_number("w_steps", c.w_steps);
    c.w_check = j.get_number("w_check", c.w_check);
    c.w_slip = j.get_number("w_slip", c.w_slip);
    c.w_explain = j.get_number("w_explain", c.w_explain);
    c.w_mixed = j.get_number("w_mixed", c.w_mixed);
    c.w_r1zero = j.get_number("w_r1zero", c.w_r1zero);
    c.w_qa = j.get_number("w_qa", c.w_qa);
    c.w_chat = j.get_number("w_chat", c.w_chat);
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  if (c.n_docs < 1) throw Error(cat(source, ": corpus field 'n_docs' must be >= 1"));
  for (double p : {c.search_give_up, c.search_slip, c.search_cutoff})
    if (!(p >= 0 && p <= 1)) throw Error(cat(source, ": corpus fields search_give_up, search_slip, search_cutoff must be in [0, 1]"));
  if (c.search_max_tries < 1) throw Error(cat(source, ": corpus field 'search_max_tries' must be >= 1"));
  for (double w : {c.w_arith, c.w_linear, c.w_countdown, c.w_general, c.w_facts, c.w_search, c.w_bare, c.w_steps, c.w_check,
                   c.w_slip, c.w_explain, c.w_r1zero, c.w_qa, c.w_chat})
    if (!(w >= 0)) throw Error(cat(source, ": corpus weights must be >= 0"));
  if (!(c.w_mixed >= 0 && c.w_mixed <= 1)) throw Error(cat(source, ": corpus field 'w_mixed' must be in [0, 1]"));
  return c;
}

Json CorpusConfig::to_json() const {
  Json j = Json::object();
  j["n_docs"] = n_docs;
  j["seed"] = int64_t(seed);
  j["w_arith"] = w_arith;
  j["w_linear"] = w_linear;
  j["w_countdown"] = w_countdown;
  j["w_general"] = w_general;
  j["w_facts"] = w_facts;
  j["w_search"] = w_search;
  j["search_difficulty"] = search_difficulty;
  j["search_optimal"] = search_optimal;
  j["search_give_up"] = search_give_up;
  j["search_slip"] = search_slip;
  j["search_cutoff"] = search_cutoff;
  j["search_max_tries"] = search_max_tries;
  j["difficulty"] = difficulty;
  j["w_bare"] = w_bare;
  j["w_steps"] = w_steps;
  j["w_check"] = w_check;
  j["w_slip"] = w_slip;
  j["w_explain"] = w_explain;
  j["w_mixed"] = w_mixed;
  j["w_r1zero"] = w_r1zero;
  j["w_qa"] = w_qa;
  j["w_chat"] = w_chat;
  return j;
}

// --- documents -----------------------------------------------------------------------------

// Index drawn with probability proportional to weights.
static size_t pick(Rng& rng, const std::vector<double>& w) {
  double total = 0;
  for (double x : w) total += x;
  if (total <= 0) throw Error("corpus: a weight group sums to zero");
  double u = rng.uniform() * total;
  for (size_t i = 0; i < w.size(); i++) {
    if (u < w[i]) return i;
    u -= w[i];
  }
  return w.size() - 1;
}

// A search document: a train row and a solver's trace, in one of the formats.
static std::string search_document(const CorpusConfig& cfg, Rng& rng) {
  Json row = generate_tasks("search", 1, rng.next(), cfg.search_difficulty, Split::Train)[0];
  SearchTraceOptions opt;
  opt.optimal = cfg.search_optimal;
  opt.give_up = cfg.search_give_up;
  opt.max_tries = cfg.search_max_tries;
  opt.slip = cfg.search_slip;
  opt.cutoff = cfg.search_cutoff;
  Rng trace_rng(rng.next());
  SearchTrace t = search_trace(row, opt, trace_rng);
  const std::string& prompt = row.at("prompt").as_string();
  size_t format = pick(rng, {cfg.w_r1zero, cfg.w_qa, cfg.w_chat});
  if (format == 1) return "Q: " + prompt + " A: " + t.reasoning + (t.cut_off ? "" : " The answer is " + t.answer + ".");
  std::string head = format == 0 ? r1zero_prompt(prompt) + " <think> " : chat_prompt(prompt, false) + "<think> ";
  return head + t.reasoning + (t.cut_off ? "" : " </think> <answer> " + t.answer + " </answer>");
}

std::vector<std::string> generate_corpus(const CorpusConfig& cfg) {
  static const char* kTasks[] = {"arith", "linear", "countdown", "general", "facts", "search"};
  static const char* kStyles[] = {"bare", "steps", "check", "slip", "explain"};
  std::vector<std::string> docs;
  docs.reserve(size_t(cfg.n_docs));
  for (int64_t i = 0; i < cfg.n_docs; i++) {
    Rng rng(cfg.seed, uint64_t(i));
    std::string task = kTasks[pick(rng, {cfg.w_arith, cfg.w_linear, cfg.w_countdown, cfg.w_general, cfg.w_facts, cfg.w_search})];
    if (task == "facts") {  // three statements of the fact table
      std::string doc;
      const auto& facts = general_facts();
      for (int k = 0; k < 3; k++) {
        const auto& [thing, color] = facts[rng.below(facts.size())];
        doc += std::string(k ? " " : "") + thing + " is " + color + ".";
      }
      docs.push_back(doc);
      continue;
    }
    if (task == "search") {
      docs.push_back(search_document(cfg, rng));
      continue;
    }
    // One row of the task's train split: row (i) of a stream seeded per document.
    Json row = generate_tasks(task, 1, rng.next(), cfg.difficulty, Split::Train)[0];
    std::string style = kStyles[pick(rng, {cfg.w_bare, cfg.w_steps, cfg.w_check, cfg.w_slip, cfg.w_explain})];
    std::string think = worked_solution(row, style, rng.next());
    if (cfg.w_mixed > 0 && rng.uniform() < cfg.w_mixed) think = second_language(think);
    const std::string& prompt = row.at("prompt").as_string();
    const std::string& answer = row.at("answer").as_string();
    size_t format = pick(rng, {cfg.w_r1zero, cfg.w_qa, cfg.w_chat});
    if (format == 0) {
      docs.push_back(r1zero_prompt(prompt) + " <think> " + think + " </think> <answer> " + answer + " </answer>");
    } else if (format == 1) {
      docs.push_back("Q: " + prompt + " A: " + (style == "bare" ? "" : think + " ") + "The answer is " + answer + ".");
    } else {
      docs.push_back(chat_prompt(prompt, false) + "<think> " + think + " </think> <answer> " + answer + " </answer>");
    }
  }
  return docs;
}

}  // namespace r1
