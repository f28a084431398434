// The countdown generator: draw the numbers, combine all of them in a random expression
// tree with random operators, and keep the tree when its exact value is an integer
// target in range. The tree, printed, is the row's answer: every row is solvable by
// construction (checked again in tests with the countdown verifier).
#include <algorithm>
#include <memory>
#include <numeric>

#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

struct CountdownLevel {
  int count;       // how many numbers
  int max_number;  // numbers are drawn from 1..max_number
  int max_target;  // targets are 1..max_target
};

// difficulty 1..4 (4 is TinyZero's setting: 3-4 numbers up to 99)
const CountdownLevel kLevels[] = {{3, 9, 99}, {3, 20, 99}, {4, 20, 99}, {4, 99, 999}};

// An exact fraction of small integers (values stay far below 2^63 at these sizes).
struct Frac {
  int64_t num = 0, den = 1;
};

Frac make(int64_t num, int64_t den) {
  if (den < 0) { num = -num; den = -den; }
  int64_t g = std::gcd(num < 0 ? -num : num, den);
  return {num / g, den / g};
}

struct Node {
  char op = 0;  // 0 for a leaf
  Frac value;
  bool valid = true;  // false after a division by zero
  std::unique_ptr<Node> left, right;
};

int precedence(char op) { return op == '*' || op == '/' ? 2 : op == 0 ? 3 : 1; }

// A random tree over numbers[lo, hi).
std::unique_ptr<Node> random_tree(Rng& rng, const std::vector<int64_t>& numbers, size_t lo, size_t hi) {
  auto node = std::make_unique<Node>();
  if (hi - lo == 1) {
    node->value = {numbers[lo], 1};
    return node;
  }
  static const char kOps[] = {'+', '-', '*', '/'};
  node->op = kOps[rng.below(4)];
  size_t mid = lo + 1 + rng.below(hi - lo - 1);
  node->left = random_tree(rng, numbers, lo, mid);
  node->right = random_tree(rng, numbers, mid, hi);
  const Frac a = node->left->value, b = node->right->value;
  node->valid = node->left->valid && node->right->valid;
  switch (node->op) {
    case '+': node->value = make(a.num * b.den + b.num * a.den, a.den * b.den); break;
    case '-': node->value = make(a.num * b.den - b.num * a.den, a.den * b.den); break;
    case '*': node->value = make(a.num * b.num, a.den * b.den); break;
    default:
      if (b.num == 0) node->valid = false;
      else node->value = make(a.num * b.den, a.den * b.num);
  }
  return node;
}

// Minimal parentheses: a-(b+c), a/(b*c) keep theirs, a+(b-c) and a*(b/c) are not printed.
// (a*(b/c) = a*b/c also holds exactly over the rationals, so the value is unchanged.)
std::string print(const Node& n) {
  if (n.op == 0) return std::to_string(n.value.num);
  std::string l = print(*n.left), r = print(*n.right);
  int p = precedence(n.op);
  if (precedence(n.left->op) < p) l = "(" + l + ")";
  int pr = precedence(n.right->op);
  if (pr < p || (pr == p && (n.op == '-' || n.op == '/'))) r = "(" + r + ")";
  return l + n.op + r;
}

}  // namespace

std::vector<Json> generate_countdown_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(difficulty >= 1 && difficulty <= 4, "countdown: difficulty must be 1..4, got ", difficulty);
  const CountdownLevel& L = kLevels[difficulty - 1];
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));
    std::vector<int64_t> numbers;
    std::string answer;
    int64_t target = 0;
    while (answer.empty()) {  // draw numbers, then try trees until one hits a valid target
      numbers.clear();
      for (int k = 0; k < L.count; k++) numbers.push_back(rng.range(1, L.max_number));
      for (int attempt = 0; attempt < 50 && answer.empty(); attempt++) {
        std::vector<int64_t> order = numbers;
        for (size_t k = order.size() - 1; k > 0; k--) std::swap(order[k], order[rng.below(k + 1)]);
        std::unique_ptr<Node> tree = random_tree(rng, order, 0, order.size());
        if (!tree->valid || tree->value.den != 1 || tree->value.num < 1 || tree->value.num > L.max_target) continue;
        target = tree->value.num;
        answer = print(*tree);
      }
    }
    std::string list;
    Json nums = Json::array();
    for (int64_t x : numbers) {
      list += (list.empty() ? "" : " ") + std::to_string(x);
      nums.push_back(Json(x));
    }
    std::string prompt = "Make " + std::to_string(target) + " from " + list + " with + - * /, each number once.";
    rows.push_back(Json(Json::Object{{"task", "countdown"},
                                     {"prompt", prompt},
                                     {"answer", answer},
                                     {"numbers", nums},
                                     {"target", Json(target)}}));
  }
  return rows;
}

}  // namespace r1
