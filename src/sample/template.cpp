// Prompt templates. See template.h.
#include "sample/template.h"

#include "sample/chat_template.h"
#include "util/error.h"

namespace r1 {

std::string r1zero_prompt(const std::string& question) {
  return "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
         "The assistant first thinks about the reasoning process in the mind and then provides the user with "
         "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
         "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
         "</answer>. User: " +
         question + ". Assistant:";
}

std::string chat_format(const std::vector<std::pair<std::string, std::string>>& messages) {
  std::string out;
  for (const auto& [role, content] : messages) {
    if (role == "user") out += "<|user|>" + content;
    else if (role == "assistant") out += "<|assistant|>" + content + "<|endoftext|>";
    else throw Error(cat("chat template: unknown role '", role, "' (expected user or assistant)"));
  }
  return out;
}

std::string chat_prompt(const std::string& user, bool force_think) {
  return "<|user|>" + user + "<|assistant|>" + (force_think ? "<think>" : "");
}

std::string format_prompt(const std::string& kind, const std::string& text, bool force_think,
                          const std::string& model_dir) {
  if (kind == "r1zero") return r1zero_prompt(text);
  if (kind == "chat") return chat_prompt(text, force_think);
  if (kind == "none") return text;
  if (kind == "model") {
    check(!model_dir.empty(), "template 'model' needs the model folder (its tokenizer_config.json)");
    std::string p = ChatTemplate::load(model_dir).render({{"user", text}}, true);
    const std::string think = "<think>\n";
    bool ends_thinking = p.size() >= think.size() && p.compare(p.size() - think.size(), think.size(), think) == 0;
    return force_think && !ends_thinking ? p + think : p;
  }
  throw Error(cat("unknown template '", kind, "' (expected r1zero, chat, none or model)"));
}

void add_template_eos(const std::string& model_dir, const Tokenizer& tok, std::vector<int>& ids) {
  int id = tok.token_id(ChatTemplate::load(model_dir).eos_token());
  if (id >= 0) ids.push_back(id);
}

}  // namespace r1
