// The chat templates of released models, chosen from a model folder's tokenizer_config.json
// ("chat_template", "bos_token", "eos_token") and rendered in C++. There is no Jinja engine:
// the chat_template string is recognised by its distinctive markers as one of
//   deepseek_r1  DeepSeek-R1 (as first released, and the later R1 / R1-Distill template):
//                bos + system prompt + <｜User｜>... + <｜Assistant｜>answer<｜end▁of▁sentence｜>
//                (an assistant turn keeps only what follows its last </think>); generation
//                prompt <｜Assistant｜>, or <｜Assistant｜><think>\n in the later template.
//                The system prompt is the last system message, or all of them joined by \n\n
//                in templates that say so (ns.is_first_sp).
//   deepseek_v3  DeepSeek-V3: as R1, with assistant turns kept whole
//   qwen3        Qwen3: <|im_start|>role\n...<|im_end|>\n; assistant turns after the last user
//                turn keep their reasoning as <think>\n...\n</think>\n\n, earlier ones lose it;
//                generation prompt <|im_start|>assistant\n
//   qwen2_5      Qwen2.5-Instruct: the same turns, Qwen's default system prompt when none is given
//   llama3       Llama 3: bos + <|start_header_id|>role<|end_header_id|>\n\n trimmed content
//                <|eot_id|>; generation prompt the assistant header
//   llama3_1     Llama 3.1-Instruct: as Llama 3, after a system header with its knowledge and
//                "Today Date" lines (the template's default date) and the system message
// and any other template is an error naming the file. tests/test_chat_template.cpp checks
// each against the real template rendered by @huggingface/jinja.
// Does not do: tool calls and tool messages, Qwen3's enable_thinking, Llama 3.1's date_string
// or tools arguments, templates other than these (e.g. Llama 3.2's, which reads today's date).
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

  const std::string& name() const { return name_; }  // deepseek_r1 | deepseek_v3 | qwen3 | qwen2_5 | llama3 | llama3_1
  const std::string& bos_token() const { return bos_; }
  const std::string& eos_token() const { return eos_; }

 private:
  std::string name_, bos_, eos_, where_;
  bool join_systems_ = false, strip_think_ = false, think_prompt_ = false;  // DeepSeek variants
  std::string date_;                                                        // llama3_1: Today Date
};

}  // namespace r1
