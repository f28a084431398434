// The chat templates of released models, chosen from a model folder's tokenizer_config.json
// ("chat_template", "bos_token", "eos_token") and rendered in C++. There is no Jinja engine:
// the chat_template string is recognised by its distinctive markers as one of
//   deepseek_r1  DeepSeek-R1 / R1-Distill: bos + last system prompt + <｜User｜>... +
//                <｜Assistant｜>answer<｜end▁of▁sentence｜> (an assistant turn keeps only what
//                follows its last </think>); generation prompt <｜Assistant｜><think>\n
//   deepseek_v3  DeepSeek-V3: as R1, but system prompts joined by \n\n, assistant turns kept
//                whole, generation prompt <｜Assistant｜>
//   qwen3        Qwen3: <|im_start|>role\n...<|im_end|>\n; assistant turns after the last user
//                turn keep their reasoning as <think>\n...\n</think>\n\n, earlier ones lose it;
//                generation prompt <|im_start|>assistant\n
//   llama3       Llama 3: bos + <|start_header_id|>role<|end_header_id|>\n\n trimmed content
//                <|eot_id|>; generation prompt the assistant header
// and any other template is an error naming the file. tests/test_chat_template.cpp checks
// each against the real template rendered by @huggingface/jinja.
// Does not do: tool calls and tool messages, Qwen3's enable_thinking, templates other than
// these four (e.g. Llama 3.1's long tool-calling template).
#pragma once
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

class ChatTemplate {
 public:
  // Reads DIR/tokenizer_config.json. Errors name the file and the field.
  static ChatTemplate load(const std::string& model_dir);
  // From a parsed tokenizer_config.json; `where` names it in errors.
  static ChatTemplate from_config(const Json& cfg, const std::string& where);

  // The prompt text (to be encoded without adding special tokens, as HF's
  // apply_chat_template does: the template writes bos_token itself).
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  const std::string& name() const { return name_; }  // deepseek_r1 | deepseek_v3 | qwen3 | llama3
  const std::string& bos_token() const { return bos_; }
  const std::string& eos_token() const { return eos_; }

 private:
  std::string name_, bos_, eos_, where_;
};

}  // namespace r1
