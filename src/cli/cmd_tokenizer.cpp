// `r1 tokenizer train|encode|decode`: the byte-level BPE tokenizer from the command line.
// Encoding adds no BOS/EOS unless --add-special-tokens (HF's add_special_tokens: the
// post-processor's template tokens); special tokens written in the text are recognised.
// See docs/tokenizer.md.
#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage:\n"
    "  r1 tokenizer train --input FILE[,FILE...] --vocab-size N --out tokenizer.json\n"
    "                     [--special-tokens TOK,TOK...] [--nfc]\n"
    "      learn a byte-level BPE vocabulary (Qwen2 pre-tokenizer). N counts the 256 byte tokens\n"
    "      and the special tokens; <|endoftext|> <|pad|> <think> </think> <answer> </answer>\n"
    "      <|user|> <|assistant|> are always included. --nfc adds the NFC normalizer (default none).\n"
    "  r1 tokenizer encode --tokenizer FILE --text STR [--json] [--add-special-tokens]\n"
    "      print the ids, space-separated (or {\"ids\": [...]} with --json). Use --text=STR when\n"
    "      STR starts with --. --add-special-tokens adds the tokens of the file's post-processor\n"
    "      template (e.g. Llama 3's <|begin_of_text|>), as HF's add_special_tokens=True does.\n"
    "  r1 tokenizer encode --tokenizer FILE --input FILE.jsonl [--add-special-tokens]\n"
    "      for each line {\"text\": ...} print one line {\"ids\": [...]}\n"
    "  r1 tokenizer decode --tokenizer FILE --ids 1,2,3\n"
    "      print the decoded bytes";

static std::string ids_json(const std::vector<int>& ids) {
  std::string s = "{\"ids\": [";
  for (size_t i = 0; i < ids.size(); i++) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]}";
}

static int run_train(Args& args) {
  std::vector<std::string> inputs = args.list("input");
  check(!inputs.empty(), args.context(), ": missing required flag --input");
  TrainOptions opts;
  opts.vocab_size = int(args.integer("vocab-size"));
  std::string out = args.str("out");
  opts.specials = args.list("special-tokens");
  opts.nfc = args.flag("nfc");
  args.finish();

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (const std::string& p : inputs) {
    texts.push_back(read_file(p));
    bytes += texts.back().size();
  }
  std::fprintf(stderr, "training on %zu file(s), %.1f MB\n", inputs.size(), bytes / 1e6);
  Progress bar(opts.vocab_size - 256, "merges");
  opts.progress = [&](int done, int) { bar.update(done); };
  Tokenizer tok = Tokenizer::train(texts, opts);
  bar.finish();
  tok.save(out);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "wrote %s: vocab size %d in %.1f s\n", out.c_str(), tok.vocab_size(), s);
  return 0;
}

static int run_encode(Args& args) {
  Tokenizer tok = Tokenizer::load(args.str("tokenizer"));
  bool has_text = args.has("text"), has_input = args.has("input");
  bool specials = args.flag("add-special-tokens");
  check(has_text != has_input, args.context(), ": give exactly one of --text or --input");
  if (has_text) {
    std::string text = args.str("text");
    bool json = args.flag("json");
    args.finish();
    std::vector<int> ids = tok.encode(text, specials);
    if (json) {
      std::printf("%s\n", ids_json(ids).c_str());
    } else {
      for (size_t i = 0; i < ids.size(); i++) std::printf(i ? " %d" : "%d", ids[i]);
      std::printf("\n");
    }
    return 0;
  }
  std::string path = args.str("input");
  args.finish();
  std::ifstream f(path, std::ios::binary);
  check(bool(f), path, ": cannot open");
  std::string line, out;
  for (size_t lineno = 1; std::getline(f, line); lineno++) {
    std::string where = cat(path, ":", lineno);
    Json row;
    try {
      row = Json::parse(line, where);
    } catch (const Error& e) {
      std::string msg = e.what();
      throw Error(msg.rfind(where, 0) == 0 ? msg : cat(where, ": ", msg));
    }
    const Json* text = row.is_object() ? row.find("text") : nullptr;
    check(text && text->is_string(), where, ": expected an object with a string field \"text\"");
    out = ids_json(tok.encode(text->as_string(), specials));
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}

static int run_decode(Args& args) {
  Tokenizer tok = Tokenizer::load(args.str("tokenizer"));
  std::vector<int64_t> raw = args.int_list("ids");
  args.finish();
  std::vector<int> ids;
  for (int64_t v : raw) {
    check(v >= 0 && v < tok.vocab_size(), "--ids: token id ", v, " is not in the vocabulary (size ",
          tok.vocab_size(), ")");
    ids.push_back(int(v));
  }
  std::string text = tok.decode(ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
  return 0;
}

static int run(Args& args) {
  std::string sub = args.next_positional("subcommand (train, encode or decode)");
  if (sub == "train") return run_train(args);
  if (sub == "encode") return run_encode(args);
  if (sub == "decode") return run_decode(args);
  throw Error(cat("r1 tokenizer: unknown subcommand '", sub, "' (train, encode or decode)"));
}

static const bool registered =
    register_command({"tokenizer", "byte-level BPE: train a vocabulary, encode, decode", kUsage, run});

}  // namespace r1
