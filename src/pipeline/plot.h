// Line charts as standalone SVG files (no library): one chart per metric, steps on x, the
// metric on y, with axes, ticks, a title and optional extra series (e.g. held-out pass@1
// over the training curve). A series can also be drawn as points only, which makes an x-y
// scatter plot (e.g. reward against KL, where x does not increase). Used by `r1 report` for
// docs/reproduction.md-style reports.
// Does not do: log scales, legends beyond the series names in the title line.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace r1 {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x increasing when drawn as a line
  std::string color = "#1f77b4";
  bool line = true;  // false: points only (a scatter plot; x may go back and forth)
};

// An SVG document of width x height pixels.
std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           int width = 640, int height = 320);

// Moving average over a window of `w` points (w = 1 returns the input), for noisy RL curves.
std::vector<std::pair<double, double>> smooth(const std::vector<std::pair<double, double>>& pts, int w);

}  // namespace r1
