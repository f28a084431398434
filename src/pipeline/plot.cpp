// SVG line charts. See plot.h.
#include "pipeline/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace r1 {

// "Nice" tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten.
static std::vector<double> ticks(double lo, double hi, int target) {
  double span = hi - lo;
  if (!(span > 0)) return {lo};
  double raw = span / target, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) out.push_back(std::fabs(t) < 1e-12 ? 0 : t);
  return out;
}

static std::string num(double x) {
  char buf[32];
  if (x != 0 && (std::fabs(x) >= 1e5 || std::fabs(x) < 1e-3)) std::snprintf(buf, sizeof buf, "%.1e", x);
  else std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

static std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           int width, int height) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  const double L = 60, R = 15, T = 30, B = 40;
  double pw = width - L - R, ph = height - T - B;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * ph; };
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                width, height);
  s += buf;
  // Title, then each series' name in its colour (the legend).
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"18\" font-size=\"13\">", L);
  s += buf + escape(title);
  if (series.size() > 1)
    for (const Series& se : series) s += "  <tspan fill=\"" + se.color + "\">\u25A0 " + escape(se.name) + "</tspan>";
  s += "</text>\n";
  for (double t : ticks(y0, y1, 5)) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%g\" y=\"%.1f\" "
                  "text-anchor=\"end\">",
                  L, py(t), L + pw, py(t), L - 5, py(t) + 4);
    s += buf + num(t) + "</text>\n";
  }
  for (double t : ticks(x0, x1, 6)) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">", px(t), T + ph + 15);
    s += buf + num(t) + "</text>\n";
  }
  std::snprintf(buf, sizeof buf,
                "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n"
                "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">",
                L, T, pw, ph, L + pw / 2, height - 6);
  s += buf + escape(x_label) + "</text>\n";
  for (const Series& se : series) {
    if (se.line) {
      std::string d;
      for (auto [x, y] : se.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        std::snprintf(buf, sizeof buf, "%s%.1f,%.1f", d.empty() ? "M" : " L", px(x), py(y));
        d += buf;
      }
      s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + se.color + "\" stroke-width=\"1.5\"/>\n";
    }
    if (se.points.size() <= 30 || !se.line)
      for (auto [x, y] : se.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", px(x), py(y),
                      se.color.c_str());
        s += buf;
      }
  }
  return s + "</svg>\n";
}

std::vector<std::pair<double, double>> smooth(const std::vector<std::pair<double, double>>& pts, int w) {
  if (w <= 1) return pts;
  std::vector<std::pair<double, double>> out;
  double sum = 0;
  for (size_t i = 0; i < pts.size(); i++) {
    sum += pts[i].second;
    if (i >= size_t(w)) sum -= pts[i - size_t(w)].second;
    size_t n = std::min(i + 1, size_t(w));
    out.push_back({pts[i].first, sum / double(n)});
  }
  return out;
}

}  // namespace r1
