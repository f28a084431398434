// Prompt formatting.
//   r1zero  DeepSeek-R1-Zero's template (Table 1 of the R1 paper), for base models: the model
//           continues after "Assistant:" with <think> ... </think> <answer> ... </answer>.
//   chat    our chat format for SFT'd models, built from the tokenizer's role markers:
//           "<|user|>" user text "<|assistant|>" assistant text "<|endoftext|>" ...
//           A generation prompt ends with "<|assistant|>" (plus "<think>" when forced).
//   none    the text as it is.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace r1 {

// The R1-Zero prompt for one question.
std::string r1zero_prompt(const std::string& question);

// A conversation (role, content) in chat format. Roles: "user", "assistant" (an assistant
// turn ends with <|endoftext|>). Throws r1::Error on another role.
std::string chat_format(const std::vector<std::pair<std::string, std::string>>& messages);
// The prompt that asks for the next assistant turn after `user`.
std::string chat_prompt(const std::string& user, bool force_think);

// kind: "r1zero" | "chat" | "none"; force_think appends "<think>" (chat only; r1zero's
// template already asks for it in words).
std::string format_prompt(const std::string& kind, const std::string& text, bool force_think = false);

}  // namespace r1
