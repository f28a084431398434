// Loading a model directory for the model commands (sample, chat, logprobs): the model, and
// its tokenizer when DIR/tokenizer.json exists. A directory written by `r1 init` without
// --tokenizer has none; the commands then work on token ids only.
// Does not do: chat templates or generation options (each command sets its own).
#pragma once
#include <optional>
#include <string>

#include "model/device.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace r1 {

struct LoadedModel {
  Transformer model;
  std::optional<Tokenizer> tokenizer;  // absent when the directory has no tokenizer.json
};

// Throws r1::Error when the tokenizer has more tokens than the model's vocab_size.
LoadedModel load_model_dir(const std::string& dir, Device device);

// The tokenizer, or r1::Error "<what> needs DIR/tokenizer.json ...; give token ids instead".
const Tokenizer& need_tokenizer(const LoadedModel& lm, const std::string& dir, const std::string& what);

// The end-of-sequence id: the tokenizer's <|endoftext|>, or -1 (none: ids-only directory).
int eos_id(const LoadedModel& lm);

}  // namespace r1
