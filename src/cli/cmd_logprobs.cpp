// `r1 logprobs`: teacher-forced per-token log-probs of given completions after given prompts
// (rows as text or as token ids), for checking another implementation's log-probs against
// r1's. The rules are in sample/logprobs.h and docs/verify.md "Teacher-forced log-probs".
#include <cstdio>

#include "cli/command.h"
#include "cli/model_dir.h"
#include "sample/logprobs.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 logprobs --model DIR --data ROWS.jsonl [--temperature T] [--batch B] [--device cpu|cuda]\n"
    "                   [--json | --out FILE.jsonl]\n"
    "  Each row gives {\"prompt\": TEXT, \"completion\": TEXT} (needs DIR/tokenizer.json; prompt and\n"
    "  completion are encoded separately, no template) or {\"prompt_ids\": [...], \"completion_ids\": [...]}.\n"
    "  lp_t = log_softmax(logits / T)[token] at each completion token (T = 0 means 1, as the sampler\n"
    "  reports greedy tokens; default T 1). The completion is scored up to and including its first\n"
    "  <|endoftext|> (the tokenizer's; none without tokenizer.json); tokens after it are padding,\n"
    "  excluded and counted in \"dropped\". Rows run --batch at a time (default 8), right-padded.\n"
    "  Output: one JSON row per input, {\"ids\": [...], \"tokens\": [...] (with a tokenizer),\n"
    "  \"logprobs\": [...], \"sum\": x, \"dropped\": k}, as JSONL on stdout, or written to --out\n"
    "  (atomically), or --json: {\"rows\": [...], \"tokens\": n, \"sum\": x}.";

// The token ids of a row's field pair: "<name>_ids" or the text "<name>" (encoded).
static Ids row_ids(const Json& row, const std::string& name, const LoadedModel& lm, const std::string& dir,
                   const std::string& where) {
  const Json* ids = row.find(name + "_ids");
  const Json* text = row.find(name);
  if ((ids != nullptr) == (text != nullptr))
    throw Error(cat(where, ": give exactly one of '", name, "' (text) or '", name, "_ids'"));
  Ids out;
  if (ids) {
    if (!ids->is_array()) throw Error(cat(where, ": field '", name, "_ids' must be an array of token ids"));
    for (size_t i = 0; i < ids->size(); i++) {
      const Json& x = (*ids)[i];
      if (!x.is_number()) throw Error(cat(where, ": field '", name, "_ids'[", i, "] is not a number"));
      int64_t id = x.as_int(), V = lm.model.config().vocab_size;
      if (id < 0 || id >= V) throw Error(cat(where, ": field '", name, "_ids'[", i, "]: id ", id, " is outside [0, ", V, ")"));
      out.push_back(int32_t(id));
    }
    return out;
  }
  if (!text->is_string()) throw Error(cat(where, ": field '", name, "' must be a string"));
  std::vector<int> enc = need_tokenizer(lm, dir, cat(where, ": field '", name, "'")).encode(text->as_string());
  return Ids(enc.begin(), enc.end());
}

static int run(Args& args) {
  std::string dir = args.str("model"), data = args.str("data"), out_path = args.str("out", "");
  float temperature = float(args.number("temperature", 1.0));
  int64_t batch = args.integer("batch", 8);
  bool json = args.flag("json");
  const Device device = usable_device(args.str("device", "cpu"));
  args.finish();
  if (json && !out_path.empty()) throw Error("r1 logprobs: give at most one of --json and --out");
  LoadedModel lm = load_model_dir(dir, device);
  std::vector<int64_t> lines;
  std::vector<Json> rows = read_jsonl(data, &lines);
  if (rows.empty()) throw Error(cat(data, ": no rows"));
  int eos = eos_id(lm);
  std::vector<Ids> prompts, completions;
  std::vector<int64_t> dropped(rows.size(), 0);
  for (size_t i = 0; i < rows.size(); i++) {
    std::string where = cat(data, ":", lines[i]);
    if (!rows[i].is_object()) throw Error(cat(where, ": expected a JSON object"));
    prompts.push_back(row_ids(rows[i], "prompt", lm, dir, where));
    if (prompts.back().empty()) throw Error(cat(where, ": the prompt has no tokens"));
    completions.push_back(cut_after_eos(row_ids(rows[i], "completion", lm, dir, where), eos, &dropped[i]));
  }
  std::vector<std::vector<double>> lps = teacher_forced_logprobs(lm.model, prompts, completions, temperature, batch);

  Json all = Json::array();
  double total = 0;
  int64_t ntok = 0;
  std::string jsonl;
  for (size_t i = 0; i < rows.size(); i++) {
    Json r = Json::object();
    r["ids"] = Json(completions[i]);
    if (lm.tokenizer) {
      Json toks = Json::array();
      for (int32_t t : completions[i]) toks.push_back(lm.tokenizer->decode({t}));
      r["tokens"] = toks;
    }
    double sum = 0;
    for (double x : lps[i]) sum += x;
    r["logprobs"] = Json(lps[i]);
    r["sum"] = sum;
    r["dropped"] = dropped[i];
    total += sum;
    ntok += int64_t(lps[i].size());
    jsonl += r.dump() + "\n";
    all.push_back(r);
  }
  if (json) {
    Json doc = Json::object();
    doc["rows"] = all;
    doc["tokens"] = ntok;
    doc["sum"] = total;
    std::printf("%s\n", doc.dump().c_str());
  } else if (!out_path.empty()) {
    write_file_atomic(out_path, jsonl);
    std::printf("wrote %zu rows (%lld completion tokens, sum of log-probs %.6f) to %s\n", rows.size(),
                (long long)ntok, total, out_path.c_str());
  } else {
    std::fputs(jsonl.c_str(), stdout);
  }
  return 0;
}

static const bool registered =
    register_command({"logprobs", "teacher-forced log-probs of given completions (reference numbers)", kUsage, run});

}  // namespace r1
