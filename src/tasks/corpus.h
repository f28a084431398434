// The synthetic pretraining corpus: documents built from the task generators (train split
// only, so the frozen eval sets stay unseen) with worked solutions in varied styles, plus
// plain question/answer text in the same toy language. This is how r1.cpp grows its own
// base model (the role DeepSeek-V3-Base plays for R1): RL can only sharpen what the base
// model sometimes does, so the corpus contains correct step-by-step work, explicit checks
// and, rarely, a slip that is noticed and fixed ("wait, ...") — latent behaviours that RL
// may amplify, not a script of what it should do. docs/data.md explains the design.
//
// Styles of a worked solution (the reasoning inside <think>):
//   bare     the answer alone:                          "<think> 60 </think>"
//   steps    one line per operation:                    "12+3 = 15. 15*4 = 60."
//   check    steps, then a check of the last step:      "... check: 60/4 = 15, correct."
//   slip     a wrong step noticed and fixed:            "12+3 = 16. wait, 12+3 = 15. ..."
//   explain  readable sentences around the steps, and a check:
//            "we compute (12+3)*4 step by step. 12+3 = 15. 15*4 = 60. check: 60/4 = 15, correct."
//            (the style the cold-start data of the R1 recipe is written in, tasks/cold_start.h)
// Second language: a fraction w_mixed of the documents write the words of their reasoning in
// Russian ("проверка: ..., верно."), so a base model sometimes mixes languages in its chain of
// thought, as R1-Zero did, and the language-consistency reward has something to fix.
// General prompts (tasks/general.h) are documents like the tasks' (the reasoning in <think>),
// and "facts" documents state the fact table ("a lemon is yellow. the sky is blue.").
// Formats of a document:
//   r1zero   the R1-Zero template (sample/template.h) followed by
//            " <think> ... </think> <answer> ... </answer>"
//   qa       "Q: <prompt> A: <reasoning> The answer is <answer>."
//   chat     "<|user|><prompt><|assistant|><think> ... </think> <answer> ... </answer>"
// Does not do: natural-language prose beyond the task phrasing.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

struct CorpusConfig {
  int64_t n_docs = 120000;
  uint64_t seed = 1;
  // Task mix (relative weights) and difficulty.
  double w_arith = 0.45, w_linear = 0.45, w_countdown = 0.1, w_general = 0, w_facts = 0, w_search = 0;
  int difficulty = 1;
  // Search documents (tasks/search.h): their reasoning is a solver's search trace whatever the
  // style below; search_optimal keeps only the solution (the optimal-paths ablation).
  int search_difficulty = 0;  // 0 = levels 1-3 mixed
  bool search_optimal = false;
  double search_give_up = 0.15, search_slip = 0.05, search_cutoff = 0.1;
  int search_max_tries = 8;
  // Reasoning-style mix (relative weights). The slip rate is kept small.
  double w_bare = 0.3, w_steps = 0.45, w_check = 0.2, w_slip = 0.05, w_explain = 0;
  double w_mixed = 0;  // fraction of documents whose reasoning words are in the second language
  // Document-format mix (relative weights).
  double w_r1zero = 0.25, w_qa = 0.5, w_chat = 0.25;  // the R1-Zero preamble is ~85 tokens: use it sparingly

  static CorpusConfig from_json(const Json& j, const std::string& source);  // unknown fields are errors
  Json to_json() const;
};

// Search documents: a trace that stops without an answer (cut off) ends the document after
// "<think> ..." (or "A: ...") with no closing tag and no answer.
// Document i depends only on (seed, i): a larger n_docs extends a smaller one.
std::vector<std::string> generate_corpus(const CorpusConfig& cfg);

// The reasoning inside <think> for a task row in a style ("bare", "steps", "check", "slip",
// "explain"), drawn with rng where the style needs choices (which step slips, failed countdown
// tries). General rows (tasks/general.h) have one reasoning whatever the style but "bare".
std::string worked_solution(const Json& row, const std::string& style, uint64_t seed);

// The reasoning's words in the second language (Russian): every word of a fixed English list is
// replaced, everything else (numbers, x, the words without a translation) is kept.
std::string second_language(const std::string& reasoning);

}  // namespace r1
