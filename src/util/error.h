// r1::Error: the one exception type for user mistakes (bad flag, malformed file, shape
// mismatch). The CLI prints "error: <message>" and exits 2. Internal bugs use assert or
// std::logic_error and exit 1. This file does not format messages for you beyond
// concatenation: name the file/line/field or op/shapes in the message.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace r1 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// cat("shape ", 3, "x", 4) -> "shape 3x4": builds a message from any streamable parts.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

// check(cond, "msg", ...): throws Error(cat(msg...)) when cond is false.
template <typename... Parts>
inline void check(bool cond, const Parts&... parts) {
  if (!cond) throw Error(cat(parts...));
}

}  // namespace r1
