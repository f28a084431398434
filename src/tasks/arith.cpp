// The arith generator: a random binary expression tree over + - *, printed with only the
// parentheses its precedence needs; the answer is its exact integer value.
#include <algorithm>
#include <memory>

#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

struct ArithLevel {
  int min_operands, max_operands;
  int max_digits;       // each operand has 1..max_digits digits (leading digit nonzero)
  int max_paren_depth;  // nesting of printed parentheses
};

// difficulty 1..4
const ArithLevel kLevels[] = {{2, 3, 2, 1}, {3, 4, 2, 2}, {3, 5, 3, 3}, {4, 6, 3, 3}};

struct Node {
  char op = 0;  // 0 for a leaf
  int64_t value = 0;
  std::unique_ptr<Node> left, right;
};

int precedence(char op) { return op == '*' ? 2 : op == 0 ? 3 : 1; }

std::unique_ptr<Node> random_tree(Rng& rng, int operands, const ArithLevel& L) {
  auto node = std::make_unique<Node>();
  if (operands == 1) {
    int digits = int(rng.range(1, L.max_digits));
    int64_t lo = 1;  // 1..9, 10..99, 100..999
    for (int i = 1; i < digits; i++) lo *= 10;
    node->value = rng.range(lo, lo * 10 - 1);
    return node;
  }
  static const char kOps[] = {'+', '-', '*'};
  node->op = kOps[rng.below(3)];
  int left = int(rng.range(1, operands - 1));
  node->left = random_tree(rng, left, L);
  node->right = random_tree(rng, operands - left, L);
  int64_t a = node->left->value, b = node->right->value;
  node->value = node->op == '+' ? a + b : node->op == '-' ? a - b : a * b;
  return node;
}

// Prints with minimal parentheses; *depth receives the deepest nesting printed.
std::string print(const Node& n, int* depth) {
  if (n.op == 0) {
    *depth = 0;
    return std::to_string(n.value);
  }
  int dl, dr;
  std::string l = print(*n.left, &dl), r = print(*n.right, &dr);
  int p = precedence(n.op);
  if (precedence(n.left->op) < p) { l = "(" + l + ")"; dl++; }
  // a-(b+c) and a-(b-c) need their parentheses; a+(b-c) and a*(b*c) do not.
  bool right_parens = precedence(n.right->op) < p || (n.op == '-' && precedence(n.right->op) == p);
  if (right_parens) { r = "(" + r + ")"; dr++; }
  *depth = std::max(dl, dr);
  return l + n.op + r;
}

}  // namespace

std::vector<Json> generate_arith_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(difficulty >= 1 && difficulty <= 4, "arith: difficulty must be 1..4, got ", difficulty);
  const ArithLevel& L = kLevels[difficulty - 1];
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));
    int operands = int(rng.range(L.min_operands, L.max_operands));
    std::string expr;
    int64_t value = 0;
    while (true) {  // redraw trees nested deeper than the level allows (rare; always ends)
      std::unique_ptr<Node> tree = random_tree(rng, operands, L);
      int depth;
      expr = print(*tree, &depth);
      value = tree->value;
      if (depth <= L.max_paren_depth) break;
    }
    rows.push_back(Json(Json::Object{
        {"task", "arith"}, {"prompt", "Compute: " + expr}, {"answer", std::to_string(value)}}));
  }
  return rows;
}

}  // namespace r1
