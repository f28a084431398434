// Model directory loading for the model commands. See model_dir.h.
#include "cli/model_dir.h"

#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

LoadedModel load_model_dir(const std::string& dir, Device device) {
  LoadedModel lm{load_model(dir, WeightMemory::Inference), std::nullopt};  // BF16/FP8 matrices stay BF16
  lm.model.to(device);
  std::string tok = dir + "/tokenizer.json";
  if (file_exists(tok)) {
    lm.tokenizer = Tokenizer::load(tok);
    if (lm.tokenizer->vocab_size() > lm.model.config().vocab_size)
      throw Error(cat(dir, ": tokenizer has ", lm.tokenizer->vocab_size(), " tokens but the model's vocab_size is ",
                      lm.model.config().vocab_size));
  }
  return lm;
}

const Tokenizer& need_tokenizer(const LoadedModel& lm, const std::string& dir, const std::string& what) {
  if (!lm.tokenizer)
    throw Error(cat(what, " needs ", dir, "/tokenizer.json, which does not exist; give token ids instead"));
  return *lm.tokenizer;
}

int eos_id(const LoadedModel& lm) { return lm.tokenizer ? lm.tokenizer->token_id("<|endoftext|>") : -1; }

}  // namespace r1
