// The agreement table between r1's math verifier and another grader's verdicts (made for
// Math-Verify's test suite, data/golden/math_verify/cases.jsonl): runs every case through
// verify_math and counts, per answer category, where r1 agrees, where it differs on
// purpose (the row names the reason) and where it differs without one.
// Does not do: reading files (the caller passes parsed JSONL rows) or running the other
// grader (its verdicts are in the rows).
#pragma once
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

// One row: {"source", "category", "gold", "pred", "mv": 0|1, ["r1_differs": reason]}.
struct MathCaseOutcome {
  std::string source, category;
  bool expected = false;   // the other grader's verdict
  bool r1 = false;         // verify_math's verdict
  std::string verdict;     // verify_math's verdict name
  std::string extracted;   // the prediction's extracted answer
  std::string differs;     // the row's stated reason for a deliberate difference, or ""
  bool agrees() const { return r1 == expected; }
  bool unexplained() const { return !agrees() && differs.empty(); }  // a new disagreement
  bool stale() const { return agrees() && !differs.empty(); }        // a reason that no longer holds
};

// Runs every row; `source` names the rows in errors ("cases.jsonl:12: missing field 'gold'").
std::vector<MathCaseOutcome> run_math_cases(const std::vector<Json>& rows, const std::string& source);

struct MathCategoryTally {
  std::string category;
  int cases = 0, agree = 0, deliberate = 0, unexplained = 0, stale = 0;
};

// Per category in first-seen order, then a final "all" row.
std::vector<MathCategoryTally> tally_math_cases(const std::vector<MathCaseOutcome>& outcomes);

// The markdown table (category | cases | agree | agreement | deliberate | unexplained)
// followed by the list of every disagreement with its reason.
std::string math_table_markdown(const std::vector<MathCaseOutcome>& outcomes);

}  // namespace r1
