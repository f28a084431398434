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

// {%- set ns.system_prompt = message['content'] %} (last system wins) ... {{bos_token}}{{ns.system_prompt}}
// user: '<｜User｜>' + content; assistant: content.split('</think>')[-1] between
// '<｜Assistant｜>' and '<｜end▁of▁sentence｜>'; generation: '<｜Assistant｜><think>\n'.
// DeepSeek-V3 (joined systems, whole assistant turns, no <think>) differs where `r1` is false.
std::string render_deepseek(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos, bool r1) {
  std::string system;
  bool first_system = true;
  for (const ChatMessage& m : msgs)
    if (m.role == "system") {
      system = r1 ? m.content : first_system ? m.content : system + "\n\n" + m.content;
      first_system = false;
    }
  std::string out = bos + system;
  for (const ChatMessage& m : msgs) {
    if (m.role == "user") out += "<｜User｜>" + m.content;
    if (m.role == "assistant") {
      std::string content = r1 && has(m.content, "</think>") ? after_last(m.content, "</think>") : m.content;
      out += "<｜Assistant｜>" + content + "<｜end▁of▁sentence｜>";
    }
  }
  if (gen) out += r1 ? "<｜Assistant｜><think>\n" : "<｜Assistant｜>";
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

// '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + content | trim + '<|eot_id|>',
// bos_token before the first; generation: the assistant header.
std::string render_llama3(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos) {
  std::string out = bos;
  for (const ChatMessage& m : msgs)
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
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
  bool deepseek = has(s, "<｜User｜>") && has(s, "<｜Assistant｜>") && has(s, "{{bos_token}}");
  if (deepseek && has_marker(s, "'<｜Assistant｜><think>\\n'") && has(s, "split('</think>')[-1]"))
    ct.name_ = "deepseek_r1";
  else if (deepseek && !has(s, "<think>") && has(s, "ns.is_first_sp") &&
           has_marker(s, "ns.system_prompt + '\\n\\n' + message['content']"))
    ct.name_ = "deepseek_v3";
  else if (has_marker(s, "'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>'") &&
           has(s, "last_query_index") && has(s, "reasoning_content") && has_marker(s, "'<|im_start|>assistant\\n'"))
    ct.name_ = "qwen3";
  else if (has_marker(s, "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
                         "'<|eot_id|>'") &&
           has(s, "bos_token + content") && !has(s, "tools"))
    ct.name_ = "llama3";
  else
    throw Error(cat(where, ": chat_template is not one r1 recognises (known: DeepSeek-R1/R1-Distill, DeepSeek-V3, "
                           "Qwen3, Llama 3; see docs/tokenizer.md); use --template chat|r1zero|none instead"));
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
  if (name_ == "deepseek_r1") return render_deepseek(messages, add_generation_prompt, bos_, true);
  if (name_ == "deepseek_v3") return render_deepseek(messages, add_generation_prompt, bos_, false);
  if (name_ == "qwen3") return render_qwen3(messages, add_generation_prompt);
  return render_llama3(messages, add_generation_prompt, bos_);
}

}  // namespace r1
