// Metrics that watch for R1-Zero's emergent behaviour (issue #17, docs/reproduction.md): the
// unbiased pass@k estimator, candidates tried per completion (search traces, tasks/search.h) and
// reflection words (the R1 paper's list). Used by the evaluation (rl/eval.h) and the GRPO
// trainer's per-step metrics. Does not do: any judgement of whether a reflection was useful.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace r1 {

// The unbiased pass@k of the Codex paper (Chen et al. 2021) for one row with n samples of which
// c are correct: 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1..n} (1 - k/i) so that
// no binomial coefficient overflows. Throws r1::Error unless 0 <= c <= n and 1 <= k <= n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// Candidates tried in a completion's chain of thought (the text inside <think>, or the whole
// text when it has no <think>): the verdicts "not <number>" and "found" a search trace gives
// each candidate (tasks/search.h). 0 for text without a search.
int64_t count_candidates(const std::string& completion);

// The reflection words of the R1 paper (wait, mistake, however, but, retry, error, verify,
// wrong, evaluate, check) and their count in a text: whole words, case-insensitive (a maximal
// run of ASCII letters equal to one of them).
const std::vector<std::string>& reflection_words();
int64_t count_reflection_words(const std::string& text);

}  // namespace r1
