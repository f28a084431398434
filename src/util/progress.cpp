// Progress bar: formatting, throttling and in-place redraw. See progress.h.
#include "util/progress.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "util/error.h"

namespace r1 {

static std::atomic<bool> g_default_quiet{false};
static const double kTtyRedrawS = 0.1;  // a terminal redraws at most 10 times a second

void Progress::set_default_quiet(bool quiet) { g_default_quiet = quiet; }
bool Progress::default_quiet() { return g_default_quiet; }
bool Progress::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

// --- construction ------------------------------------------------------------------------

Progress::Progress(int64_t total, std::string label) : Progress(total, std::move(label), Options()) {}

Progress::Progress(int64_t total, std::string label, Options opt)
    : total_(total), label_(std::move(label)), opt_(opt), start_(std::chrono::steady_clock::now()) {
  if (!opt_.out) opt_.out = &std::cerr;
}

Progress::~Progress() { finish(); }

double Progress::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// --- formatting --------------------------------------------------------------------------

std::string Progress::line(int64_t done, const std::string& extra, double now_s) const {
  std::string s = label_.empty() ? "" : label_ + " ";
  if (total_ > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%5.1f%%", 100.0 * double(done) / double(total_));
    s += cat(done, "/", total_, " ", pct);
  } else {
    s += cat(done);
  }
  const int64_t new_items = done - opt_.initial;
  double rate = now_s > 0 && new_items > 0 ? double(new_items) / now_s : 0;  // items per second, since the start
  char r[32];
  if (rate >= 1 || new_items <= 0) std::snprintf(r, sizeof r, "%.2f it/s", rate);
  else std::snprintf(r, sizeof r, "%.2f s/it", 1.0 / rate);
  s += cat(" | ", r, " | ", format_duration(now_s), " elapsed");
  if (total_ > 0 && done < total_ && rate > 0) s += " | ETA " + format_duration(double(total_ - done) / rate);
  if (!extra.empty()) s += " | " + extra;
  return s;
}

// --- drawing -----------------------------------------------------------------------------

void Progress::draw(const std::string& text, bool final_line) {
  std::ostream& os = *opt_.out;
  if (opt_.tty) {
    // '\r' back to column 0; spaces blank what a longer previous line left behind.
    std::string padded = text;
    if (padded.size() < last_len_) padded.append(last_len_ - padded.size(), ' ');
    os << '\r' << padded;
    if (final_line) os << '\n';
    last_len_ = text.size();
  } else {
    os << text << '\n';
  }
  os.flush();
}

void Progress::update_at(int64_t done, const std::string& extra, double now_s) {
  done_ = done;
  extra_ = extra;
  if (opt_.quiet || finished_) return;
  double interval = opt_.tty ? kTtyRedrawS : opt_.line_interval_s;
  if (now_s - last_draw_s_ < interval) return;
  last_draw_s_ = now_s;
  draw(line(done, extra, now_s), false);
}

void Progress::finish_at(const std::string& extra, double now_s) {
  if (finished_) return;
  finished_ = true;
  if (opt_.quiet) return;
  draw(line(done_, extra.empty() ? extra_ : extra, now_s), true);
}

void Progress::update(int64_t done, const std::string& extra) { update_at(done, extra, now_s()); }
void Progress::finish(const std::string& extra) { finish_at(extra, now_s()); }

}  // namespace r1
