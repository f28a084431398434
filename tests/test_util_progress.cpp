// Tests for util/progress: line format (count, percent, rate, ETA), throttling on and off a
// terminal, in-place redraw with '\r', quiet mode. Times are passed explicitly (update_at).
#include <gtest/gtest.h>

#include <sstream>

#include "util/progress.h"

static r1::Progress::Options opts(std::ostringstream& os, bool tty, bool quiet = false) {
  r1::Progress::Options o;
  o.out = &os;
  o.tty = tty;
  o.quiet = quiet;
  o.line_interval_s = 5.0;
  return o;
}

TEST(UtilProgress, LineShowsCountRateAndEta) {
  std::ostringstream os;
  r1::Progress p(100, "train", opts(os, false));
  // 25 of 100 in 10 s: 2.5 it/s, 75 left -> 30 s.
  EXPECT_EQ(p.line(25, "loss=1.5", 10.0), "train 25/100  25.0% | 2.50 it/s | 0:10 elapsed | ETA 0:30 | loss=1.5");
  // Slow steps show seconds per item; done: no ETA.
  EXPECT_EQ(p.line(100, "", 400.0), "train 100/100 100.0% | 4.00 s/it | 6:40 elapsed");
  EXPECT_EQ(p.line(1, "", 90.0), "train 1/100   1.0% | 90.00 s/it | 1:30 elapsed | ETA 2:28:30");
  r1::Progress unknown(0, "gen", opts(os, false));
  EXPECT_EQ(unknown.line(7, "", 2.0), "gen 7 | 3.50 it/s | 0:02 elapsed");
  p.finish_at("", 0);
  unknown.finish_at("", 0);
}

TEST(UtilProgress, ResumedRunCountsOnlyNewItemsForRateAndEta) {
  std::ostringstream os;
  r1::Progress::Options o = opts(os, false);
  o.initial = 500;  // resumed at step 500 of 1000
  r1::Progress p(1000, "train", o);
  // 20 new steps in 10 s: 2 it/s, 480 left -> 240 s.
  EXPECT_EQ(p.line(520, "", 10.0), "train 520/1000  52.0% | 2.00 it/s | 0:10 elapsed | ETA 4:00");
  EXPECT_EQ(p.line(500, "", 1.0), "train 500/1000  50.0% | 0.00 it/s | 0:01 elapsed");
  p.finish_at("", 0);
}

TEST(UtilProgress, NonTtyPrintsAtMostOneLinePerInterval) {
  std::ostringstream os;
  {
    r1::Progress p(10, "x", opts(os, false));
    p.update_at(1, "", 1.0);  // first update prints
    p.update_at(2, "", 3.0);  // 2 s later: skipped
    p.update_at(3, "", 5.9);  // 4.9 s after the last line: skipped
    p.update_at(4, "", 6.0);  // 5 s: prints
    p.update_at(10, "a=1", 7.0);
    p.finish_at("", 8.0);     // always prints, with the last update's extra
    p.finish_at("", 9.0);     // second finish does nothing
  }
  EXPECT_EQ(os.str(),
            "x 1/10  10.0% | 1.00 it/s | 0:01 elapsed | ETA 0:09\n"
            "x 4/10  40.0% | 1.50 s/it | 0:06 elapsed | ETA 0:09\n"
            "x 10/10 100.0% | 1.25 it/s | 0:08 elapsed | a=1\n");
}

TEST(UtilProgress, TtyRedrawsInPlaceAndBlanksLeftovers) {
  std::ostringstream os;
  r1::Progress p(0, "", opts(os, true));
  p.update_at(5, "long extra text", 1.0);
  p.update_at(6, "", 1.05);  // within 0.1 s: skipped
  p.update_at(7, "", 2.0);
  p.finish_at("", 2.0);
  std::string first = "5 | 5.00 it/s | 0:01 elapsed | long extra text";
  std::string second = "7 | 3.50 it/s | 0:02 elapsed";
  std::string expected = "\r" + first + "\r" + second + std::string(first.size() - second.size(), ' ') + "\r" + second + "\n";
  EXPECT_EQ(os.str(), expected);
}

TEST(UtilProgress, QuietPrintsNothing) {
  std::ostringstream os;
  {
    r1::Progress p(3, "q", opts(os, false, true));
    p.update_at(1, "", 0.5);
    p.finish_at("", 1.0);
  }
  {
    r1::Progress::set_default_quiet(true);
    r1::Progress::Options o;  // picks up the process-wide default
    r1::Progress::set_default_quiet(false);
    EXPECT_TRUE(o.quiet);
  }
  EXPECT_EQ(os.str(), "");
}

TEST(UtilProgress, FormatsDurations) {
  EXPECT_EQ(r1::format_duration(0), "0:00");
  EXPECT_EQ(r1::format_duration(59.4), "0:59");
  EXPECT_EQ(r1::format_duration(61), "1:01");
  EXPECT_EQ(r1::format_duration(3723), "1:02:03");
  EXPECT_EQ(r1::format_duration(-1), "?");
}
