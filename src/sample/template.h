// Prompt formatting.
//   r1zero  DeepSeek-R1-Zero's template (Table 1 of the R1 paper), for base models: the model
//           continues after "Assistant:" with <think> ... </think> <answer> ... </answer>.
//   chat    our chat format for SFT'd models, built from the tokenizer's role markers:
//           "<|user|>" user text "<|assistant|>" assistant text "<|endoftext|>" ...
//           A generation prompt ends with "<|assistant|>" (plus "<think>" when forced).
//   none    the text as it is.
//   model   the model folder's own chat template (tokenizer_config.json, chat_template.h):
//           one user turn and the generation prompt, e.g. DeepSeek-R1's
//           "<｜begin▁of▁sentence｜><｜User｜>TEXT<｜Assistant｜><think>\n".
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace r1 {

// The R1-Zero prompt for one question.
std::string r1zero_prompt(const std::string& question);

// A conversation (role, content) in chat format. Roles: "user", "assistant" (an assistant
// turn ends with <|endoftext|>). Throws r1::Error on another role.
std::string chat_format(const std::vector<std::pair<std::string, std::string>>& messages);
// The prompt that asks for the next assistant turn after `user`.
std::string chat_prompt(const std::string& user, bool force_think);

// kind: "r1zero" | "chat" | "none" | "model"; force_think appends "<think>" (chat) or
// "<think>\n" (model, unless its generation prompt already ends so); r1zero's template
// already asks for it in words. "model" needs model_dir.
std::string format_prompt(const std::string& kind, const std::string& text, bool force_think = false,
                          const std::string& model_dir = "");

// Adds the id of the eos_token of model_dir's tokenizer_config.json (its chat template's end
// of turn: <｜end▁of▁sentence｜>, <|im_end|>, <|eot_id|>) to ids, when the tokenizer has it.
void add_template_eos(const std::string& model_dir, const Tokenizer& tok, std::vector<int>& ids);

}  // namespace r1
