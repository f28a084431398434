// Runs a table of (gold, prediction, other grader's verdict) cases through verify_math and
// tallies the agreement per category (see math_table.h).
#include "reward/math_table.h"

#include <cstdio>

#include "reward/math_verifier.h"
#include "util/error.h"

namespace r1 {

std::vector<MathCaseOutcome> run_math_cases(const std::vector<Json>& rows, const std::string& source) {
  std::vector<MathCaseOutcome> out;
  for (size_t i = 0; i < rows.size(); i++) {
    const Json& row = rows[i];
    std::string where = cat(source, ":", i + 1);
    check(row.is_object(), cat(where, ": expected a JSON object"));
    const Json* mv = row.find("mv");
    check(mv && mv->is_number() && (mv->as_number() == 0 || mv->as_number() == 1),
          cat(where, ": field 'mv' must be 0 or 1"));
    for (const char* field : {"source", "category", "gold", "pred"})
      check(row.find(field) && row.at(field).is_string(), cat(where, ": missing string field '", field, "'"));
    MathCaseOutcome o;
    o.source = row.at("source").as_string();
    o.category = row.at("category").as_string();
    o.expected = mv->as_number() == 1;
    o.differs = row.get_string("r1_differs", "");
    MathResult r = verify_math(row.at("gold").as_string(), row.at("pred").as_string(), /*whole_if_none=*/true);
    o.r1 = r.correct;
    o.verdict = r.verdict;
    o.extracted = r.extracted;
    out.push_back(o);
  }
  return out;
}

std::vector<MathCategoryTally> tally_math_cases(const std::vector<MathCaseOutcome>& outcomes) {
  std::vector<MathCategoryTally> t;
  MathCategoryTally all;
  all.category = "all";
  for (const MathCaseOutcome& o : outcomes) {
    size_t k = 0;
    while (k < t.size() && t[k].category != o.category) k++;
    if (k == t.size()) {
      t.emplace_back();
      t.back().category = o.category;
    }
    for (MathCategoryTally* c : {&t[k], &all}) {
      c->cases++;
      c->agree += o.agrees();
      c->deliberate += !o.agrees() && !o.differs.empty();
      c->unexplained += o.unexplained();
      c->stale += o.stale();
    }
  }
  t.push_back(all);
  return t;
}

// A table cell: one line, '|' escaped, cut to `max` characters.
static std::string cell(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c == '\n' || c == '\r') out += ' ';
    else if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

std::string math_table_markdown(const std::vector<MathCaseOutcome>& outcomes) {
  std::string s = "| category | cases | agree | agreement | deliberate differences | unexplained |\n"
                  "|---|---:|---:|---:|---:|---:|\n";
  for (const MathCategoryTally& c : tally_math_cases(outcomes)) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", c.cases ? 100.0 * c.agree / c.cases : 0.0);
    s += cat("| ", c.category, " | ", c.cases, " | ", c.agree, " | ", pct, " | ", c.deliberate, " | ",
             c.unexplained, " |\n");
  }
  s += "\n| case | category | Math-Verify | r1 (verdict) | reason |\n|---|---|---|---|---|\n";
  for (const MathCaseOutcome& o : outcomes) {
    if (o.agrees() && !o.stale()) continue;
    std::string reason = o.stale() ? "STALE: r1 now agrees; remove the reason" :
                         o.differs.empty() ? "UNEXPLAINED" : o.differs;
    s += cat("| ", o.source, " | ", o.category, " | ", o.expected ? "1" : "0", " | ", o.r1 ? "1" : "0", " (",
             o.verdict, ", extracted `", cell(o.extracted, 60), "`) | ", cell(reason, 300), " |\n");
  }
  return s;
}

}  // namespace r1
