// Released models' chat templates (src/sample/chat_template.*): every conversation of
// data/tokenizer/expected_chat_templates.json must render exactly as the real Jinja template
// rendered by @huggingface/jinja (make_chat_expected.mjs), for DeepSeek-R1 (first release and
// R1-Distill), DeepSeek-V3, Qwen3, Qwen2.5, Llama 3 and Llama 3.1; unknown templates and roles are errors naming the file;
// `--template model` uses a model folder's template from the CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>

#include "cli_util.h"
#include "model/checkpoint.h"
#include "model/transformer.h"
#include "sample/chat_template.h"
#include "sample/template.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "test_util.h"

using r1::ChatMessage;
using r1::ChatTemplate;
using r1::Json;

namespace {

const Json& fixture() {
  static const Json j = Json::parse_file(r1::testing::repo_root() + "/data/tokenizer/expected_chat_templates.json");
  return j;
}

// A tokenizer_config.json object for template `name` of the fixture.
Json config_of(const std::string& name) {
  const Json& t = fixture().at("templates").at(name);
  Json cfg = Json::object();
  cfg["chat_template"] = t.at("chat_template");
  cfg["bos_token"] = t.at("bos_token");
  cfg["eos_token"] = t.at("eos_token");
  return cfg;
}

std::vector<ChatMessage> messages_of(const Json& conv) {
  std::vector<ChatMessage> m;
  const Json& list = conv.at("messages");
  for (size_t i = 0; i < list.size(); i++) m.push_back({list[i].at("role").as_string(), list[i].at("content").as_string()});
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// One known difference of the JS Jinja engine: @huggingface/jinja 0.5.11 ignores the argument
// of lstrip/rstrip/strip (it strips all white space), while transformers renders with Python's
// jinja2, where content.lstrip('\n') strips newlines only. r1 follows Python; the one fixture
// case this changes (Qwen3, an assistant answer starting "\n\n  ") is checked against the
// Python result written out by hand: content.lstrip('\n') keeps the two spaces.
const char* kQwen3Conversation7Python =
    "<|im_start|>user\n  spaced user text \n<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    "  spaced answer  <|im_end|>\n<|im_start|>assistant\n";

TEST(ChatTemplate, RendersLikeTheRealJinjaTemplates) {
  const std::map<std::string, std::string> kind = {
      {"deepseek_r1", "deepseek_r1"}, {"deepseek_r1_distill", "deepseek_r1"}, {"deepseek_v3", "deepseek_v3"},
      {"qwen3", "qwen3"},           {"qwen2_5_instruct", "qwen2_5"},       {"llama3", "llama3"},
      {"llama3_1_instruct", "llama3_1"}};
  const Json& convs = fixture().at("conversations");
  ASSERT_GE(convs.size(), 8u);
  for (const auto& [name, want_kind] : kind) {
    ChatTemplate t = ChatTemplate::from_config(config_of(name), name);
    EXPECT_EQ(t.name(), want_kind);
    const Json& expected = fixture().at("expected").at(name);
    ASSERT_EQ(expected.size(), convs.size());
    for (size_t i = 0; i < convs.size(); i++) {
      bool python_differs = name == "qwen3" && i == 7;
      EXPECT_EQ(t.render(messages_of(convs[i]), convs[i].at("add_generation_prompt").as_bool()),
                python_differs ? kQwen3Conversation7Python : expected[i].as_string())
          << name << ", conversation " << i;
    }
  }
}

TEST(ChatTemplate, R1GenerationPromptAndThinkStripping) {
  ChatTemplate t = ChatTemplate::from_config(config_of("deepseek_r1_distill"), "r1");
  EXPECT_EQ(t.render({{"user", "2+2?"}}, true), "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n");
  EXPECT_EQ(t.render({{"user", "q"}, {"assistant", "<think>a</think>b</think>c"}}, false),
            "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜>c<｜end▁of▁sentence｜>");  // after the last </think>
  EXPECT_EQ(t.eos_token(), "<｜end▁of▁sentence｜>");
}

TEST(ChatTemplate, ErrorsNameTheFile) {
  Json cfg = config_of("qwen3");
  cfg["chat_template"] = "{% for m in messages %}{{ m.content }}{% endfor %}";
  EXPECT_NE(error_of([&] { ChatTemplate::from_config(cfg, "x/tokenizer_config.json"); })
                .find("x/tokenizer_config.json: chat_template is not one r1 recognises"),
            std::string::npos);
  cfg = Json::object();
  EXPECT_NE(error_of([&] { ChatTemplate::from_config(cfg, "y.json"); }).find("y.json: no string field 'chat_template'"),
            std::string::npos);
  ChatTemplate t = ChatTemplate::from_config(config_of("llama3"), "z.json");
  EXPECT_NE(error_of([&] { t.render({{"tool", "{}"}}, true); }).find("z.json: chat template: message 0 has role 'tool'"),
            std::string::npos);
  r1::TempDir d;
  EXPECT_NE(error_of([&] { ChatTemplate::load(d.path()); }).find(d.file("tokenizer_config.json")), std::string::npos);
}

TEST(ChatTemplate, FormatPromptModelReadsTheFolder) {
  r1::TempDir d;
  r1::write_file_atomic(d.file("tokenizer_config.json"), config_of("deepseek_r1_distill").dump());
  const std::string want = "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜><think>\n";
  EXPECT_EQ(r1::format_prompt("model", "hi", false, d.path()), want);
  EXPECT_EQ(r1::format_prompt("model", "hi", true, d.path()), want);  // already ends with <think>\n
  r1::write_file_atomic(d.file("tokenizer_config.json"), config_of("qwen3").dump());
  EXPECT_EQ(r1::format_prompt("model", "hi", true, d.path()), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n");
  EXPECT_NE(error_of([&] { r1::format_prompt("model", "hi"); }).find("needs the model folder"), std::string::npos);
}

// `r1 sample --template model` on a tiny model folder: runs with a recognised template, and
// fails with `error:` naming tokenizer_config.json (exit 2) with an unknown one.
TEST(ChatTemplate, CliSampleTemplateModel) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "r1 binary not found (set R1_BIN)";
  r1::TempDir d;
  std::string dir = d.file("model");
  r1::Tokenizer tok = r1::testing::write_small_tokenizer(d.file("tokenizer.json"));
  r1::Transformer m(r1::testing::tiny_llama_config(tok.vocab_size()));
  r1::save_model(dir, m, d.file("tokenizer.json"));
  r1::write_file_atomic(dir + "/tokenizer_config.json", config_of("deepseek_r1_distill").dump());
  std::string cmd = "sample --model " + dir + " --prompt hi --template model --max-new-tokens 2 --temperature 0 --json";
  r1::testing::CliRun r = r1::testing::run_r1(cmd, d);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"samples\""), std::string::npos) << r.out;
  Json cfg = config_of("deepseek_r1_distill");
  cfg["chat_template"] = "{{ messages }}";
  r1::write_file_atomic(dir + "/tokenizer_config.json", cfg.dump());
  r = r1::testing::run_r1(cmd, d);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: " + dir + "/tokenizer_config.json: chat_template is not one r1 recognises"),
            std::string::npos)
      << r.err;
}
