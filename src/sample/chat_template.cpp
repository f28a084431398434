// Released models' chat templates (see chat_template.h): recognition by markers and one
// C++ renderer per template, written from the Jinja source of each (the comments quote the
// parts whose exact behaviour matters).
#include "sample/chat_template.h"

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace r1 {

namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A marker of a template's source, where "\\n" (backslash, n) inside a Jinja string literal
// may also be a real newline (the JSON of some files has one, of others the escape).
bool has_marker(const std::string& s, const std::string& marker) {
  if (has(s, marker)) return true;
  std::string real;
  for (size_t i = 0; i < marker.size(); i++) {
    if (marker.compare(i, 2, "\\n") == 0) {
      real += '\n';
      i++;
    } else {
      real += marker[i];
    }
  }
  return has(s, real);
}

// A token field: a string, {"content": ...} (an AddedToken), or null/absent ("").
std::string token_field(const Json& cfg, const char* key, const std::string& where) {
  const Json* v = cfg.find(key);
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->as_string();
  const Json* c = v->is_object() ? v->find("content") : nullptr;
  check(c && c->is_string(), where, ": ", key, ": expected a string or {\"content\": ...}, got ", v->dump());
  return c->as_string();
}

// Python's str.split(sep)[-1] / [0].
std::string after_last(const std::string& s, const std::string& sep) {
  size_t p = s.rfind(sep);
  return p == std::string::npos ? s : s.substr(p + sep.size());
}
std::string before_first(const std::string& s, const std::string& sep) { return s.substr(0, s.find(sep)); }

// Python's lstrip/rstrip/strip with a set of characters ("\n" here).
std::string lstrip(const std::string& s, char c) {
  size_t b = 0;
  while (b < s.size() && s[b] == c) b++;
  return s.substr(b);
}
std::string rstrip(const std::string& s, char c) {
  size_t e = s.size();
  while (e > 0 && s[e - 1] == c) e--;
  return s.substr(0, e);
}

// Jinja's trim: white space (Unicode White_Space) removed at both ends.
std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  auto space_at = [&](size_t i, uint32_t* len) {
    uint32_t cp;
    *len = uint32_t(unicode::decode_utf8(s.data(), s.size(), i, &cp));
    return (unicode::props(cp) & unicode::kPropSpace) != 0;
  };
  uint32_t len;
  while (b < e && space_at(b, &len)) b += len;
  while (e > b) {
    size_t k = e - 1;
    while (k > b && (s[k] & 0xC0) == 0x80) k--;
    if (!space_at(k, &len) || k + len != e) break;
    e = k;
  }
  return s.substr(b, e - b);
}

// --- the four templates -----------------------------------------------------------------

// The DeepSeek family. {{bos_token}}{{ns.system_prompt}}: the system prompt is the last system
// message, or (`join_systems`, templates with ns.is_first_sp) all of them joined by '\n\n'.
// user: '<｜User｜>' + content; assistant: '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>',
// where content is content.split('</think>')[-1] when `strip_think`; generation prompt
// '<｜Assistant｜>', + '<think>\n' when `think_prompt`.
std::string render_deepseek(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos, bool join_systems,
                            bool strip_think, bool think_prompt) {
  std::string system;
  bool first_system = true;
  for (const ChatMessage& m : msgs)
    if (m.role == "system") {
      system = !join_systems || first_system ? m.content : system + "\n\n" + m.content;
      first_system = false;
    }
  std::string out = bos + system;
  for (const ChatMessage& m : msgs) {
    if (m.role == "user") out += "<｜User｜>" + m.content;
    if (m.role == "assistant") {
      std::string content = strip_think && has(m.content, "</think>") ? after_last(m.content, "</think>") : m.content;
      out += "<｜Assistant｜>" + content + "<｜end▁of▁sentence｜>";
    }
  }
  if (gen) out += think_prompt ? "<｜Assistant｜><think>\n" : "<｜Assistant｜>";
  return out;
}

// Qwen2.5: '<|im_start|>system\n' + the first message if it is a system one, else Qwen's
// default system prompt; then every other message '<|im_start|>' + role + '\n' + content +
// '<|im_end|>\n'; generation prompt '<|im_start|>assistant\n'.
const char* kQwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
std::string render_qwen2_5(const std::vector<ChatMessage>& msgs, bool gen) {
  std::string out = "<|im_start|>system\n" + (msgs[0].role == "system" ? msgs[0].content : kQwenDefaultSystem) +
                    "<|im_end|>\n";
  for (size_t i = msgs[0].role == "system" ? 1 : 0; i < msgs.size(); i++)
    out += "<|im_start|>" + msgs[i].role + "\n" + msgs[i].content + "<|im_end|>\n";
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// Qwen3: see the header; the reasoning of an assistant turn is
//   content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
// and its answer content.split('</think>')[-1].lstrip('\n').
std::string render_qwen3(const std::vector<ChatMessage>& msgs, bool gen) {
  std::string out;
  if (msgs[0].role == "system") out += "<|im_start|>system\n" + msgs[0].content + "<|im_end|>\n";
  size_t last_query = msgs.size() - 1;  // the last user turn that is not a <tool_response>
  for (size_t k = msgs.size(); k-- > 0;) {
    const std::string& c = msgs[k].content;
    bool tool_response = c.rfind("<tool_response>", 0) == 0 && c.size() >= 16 &&
                         c.compare(c.size() - 16, 16, "</tool_response>") == 0;
    if (msgs[k].role == "user" && !tool_response) {
      last_query = k;
      break;
    }
  }
  for (size_t i = 0; i < msgs.size(); i++) {
    const ChatMessage& m = msgs[i];
    if (m.role == "user" || (m.role == "system" && i > 0)) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      continue;
    }
    if (m.role != "assistant") continue;
    std::string content = m.content, reasoning;
    if (has(m.content, "</think>")) {
      content = lstrip(after_last(m.content, "</think>"), '\n');
      reasoning = lstrip(after_last(rstrip(before_first(m.content, "</think>"), '\n'), "<think>"), '\n');
    }
    bool last = i + 1 == msgs.size();
    if (i > last_query && (last || !reasoning.empty()))
      out += "<|im_start|>assistant\n<think>\n" + rstrip(lstrip(reasoning, '\n'), '\n') + "\n</think>\n\n" +
             lstrip(content, '\n');
    else
      out += "<|im_start|>assistant\n" + content;
    out += "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// Llama 3: '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + content | trim + '<|eot_id|>',
// bos_token before the first; generation: the assistant header. Llama 3.1-Instruct (`date`
// not empty) first writes a system header with "Cutting Knowledge Date: December 2023\n",
// "Today Date: " + date + "\n\n" and the first message's content, trimmed, when it is a
// system one.
std::string render_llama3(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos,
                          const std::string& date) {
  std::string out = bos;
  size_t first = 0;
  if (!date.empty()) {
    bool system = msgs[0].role == "system";
    out += "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " + date +
           "\n\n" + (system ? trim(msgs[0].content) : "") + "<|eot_id|>";
    first = system ? 1 : 0;
  }
  for (size_t i = first; i < msgs.size(); i++)
    out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" + trim(msgs[i].content) + "<|eot_id|>";
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

// --- recognition ----------------------------------------------------------------------------

ChatTemplate ChatTemplate::from_config(const Json& cfg, const std::string& where) {
  check(cfg.is_object(), where, ": expected a JSON object");
  const Json* t = cfg.find("chat_template");
  check(t && t->is_string(), where, ": no string field 'chat_template' (r1 needs it for --template model)");
  const std::string& s = t->as_string();
  ChatTemplate ct;
  ct.where_ = where;
  ct.bos_ = token_field(cfg, "bos_token", where);
  ct.eos_ = token_field(cfg, "eos_token", where);
  const std::string llama_turn =
      "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>'";
  const std::string date_marker = "{%- set date_string = \"";
  if (has(s, "<｜User｜>") && has(s, "<｜Assistant｜>") && has(s, "bos_token") && has(s, "ns.system_prompt")) {
    ct.join_systems_ = has(s, "ns.is_first_sp") && has_marker(s, "ns.system_prompt + '\\n\\n' + message['content']");
    ct.strip_think_ = has(s, "split('</think>')[-1]");
    ct.think_prompt_ = has_marker(s, "'<｜Assistant｜><think>\\n'");
    ct.name_ = ct.strip_think_ ? "deepseek_r1" : "deepseek_v3";
  } else if (has_marker(s, "'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>'") &&
             has(s, "last_query_index") && has(s, "reasoning_content") && has_marker(s, "'<|im_start|>assistant\\n'")) {
    ct.name_ = "qwen3";
  } else if (has_marker(s, "'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>'") &&
             has_marker(s, std::string("'<|im_start|>system\\n") + kQwenDefaultSystem + "<|im_end|>") &&
             !has(s, "reasoning_content")) {
    ct.name_ = "qwen2_5";
  } else if (has_marker(s, llama_turn) && has(s, "bos_token + content") && !has(s, "tools")) {
    ct.name_ = "llama3";
  } else if (has_marker(s, llama_turn) && has(s, "Cutting Knowledge Date: December 2023") && has(s, date_marker) &&
             !has(s, "strftime_now")) {
    size_t b = s.find(date_marker) + date_marker.size();
    ct.date_ = s.substr(b, s.find('"', b) - b);  // the template's default date_string
    ct.name_ = "llama3_1";
  } else {
    throw Error(cat(where, ": chat_template is not one r1 recognises (known: DeepSeek-R1/R1-Distill, DeepSeek-V3, "
                           "Qwen3, Qwen2.5, Llama 3, Llama 3.1; see docs/tokenizer.md); use --template chat|r1zero|none "
                           "instead"));
  }
  return ct;
}

ChatTemplate ChatTemplate::load(const std::string& model_dir) {
  std::string path = model_dir + "/tokenizer_config.json";
  Json cfg;
  try {
    cfg = Json::parse_file(path);
  } catch (const Error& e) {
    std::string msg = e.what();
    throw Error(msg.rfind(path, 0) == 0 ? msg : cat(path, ": ", msg));
  }
  return from_config(cfg, path);
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  check(!messages.empty(), where_, ": chat template: no messages");
  for (size_t i = 0; i < messages.size(); i++) {
    const std::string& r = messages[i].role;
    check(r == "system" || r == "user" || r == "assistant", where_, ": chat template: message ", i, " has role '", r,
          "' (supported: system, user, assistant)");
  }
  if (name_ == "deepseek_r1" || name_ == "deepseek_v3")
    return render_deepseek(messages, add_generation_prompt, bos_, join_systems_, strip_think_, think_prompt_);
  if (name_ == "qwen3") return render_qwen3(messages, add_generation_prompt);
  if (name_ == "qwen2_5") return render_qwen2_5(messages, add_generation_prompt);
  return render_llama3(messages, add_generation_prompt, bos_, date_);
}

}  // namespace r1
