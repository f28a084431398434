// Progress bar on stderr for long commands:
//   Progress p(total, "train");
//   for (...) p.update(step, "loss=1.23");
//   p.finish();
// Shows "label  done/total  pct  rate  elapsed  ETA  extra". On a terminal it redraws one
// line in place with '\r' (at most 10 times a second); otherwise (CI logs, pipes) it prints
// a full line at most every few seconds, so logs stay short. Quiet mode prints nothing.
// Does not do: nested bars, multi-threaded updates (call it from one thread).
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace r1 {

class Progress {
 public:
  struct Options {
    bool quiet = default_quiet();  // print nothing at all
    bool tty = stderr_is_tty();    // redraw in place vs. print separate lines
    double line_interval_s = 5.0;  // non-tty: seconds between printed lines
    std::ostream* out = nullptr;   // nullptr means std::cerr
    int64_t initial = 0;           // items done before this run (a resumed job): the rate
                                   // and ETA count only the items done since the bar started
  };

  // total <= 0 means unknown: no percentage or ETA is shown.
  Progress(int64_t total, std::string label);
  Progress(int64_t total, std::string label, Options opt);
  ~Progress();  // calls finish() if it was not called

  // `done` items are complete; `extra` is shown at the end of the line.
  void update(int64_t done, const std::string& extra = "");
  // Prints the final line (always, unless quiet) and a newline. Safe to call twice.
  void finish(const std::string& extra = "");

  // Same as update/finish with an explicit time in seconds since the bar started
  // (update/finish use the steady clock); for tests.
  void update_at(int64_t done, const std::string& extra, double now_s);
  void finish_at(const std::string& extra, double now_s);

  // The line that would be shown now, without '\r' or padding.
  std::string line(int64_t done, const std::string& extra, double now_s) const;

  // Process-wide default for Options::quiet (e.g. a CLI --quiet flag sets it once).
  static void set_default_quiet(bool quiet);
  static bool default_quiet();
  static bool stderr_is_tty();

 private:
  double now_s() const;
  void draw(const std::string& text, bool final_line);

  int64_t total_;
  std::string label_;
  Options opt_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_s_ = -1e9;
  size_t last_len_ = 0;  // tty: length of the line on screen, to blank leftovers
  int64_t done_ = 0;
  std::string extra_;
  bool finished_ = false;
};

// "1:05", "1:02:03", or "?" for a negative or non-finite value.
std::string format_duration(double seconds);

}  // namespace r1
