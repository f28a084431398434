#!/usr/bin/env python3
"""PyTorch eager (float32, CPU or CUDA) counterpart of `r1 bench generate`, for the comparison in
docs/perf.md: loads the same model directory (config.json + model.safetensors, read by hand),
prefills B random prompts of P tokens in one batched forward, then decodes N tokens per
sequence one step at a time with a KV cache, sampling at temperature 1 (softmax, one
multinomial draw per row; the token's log-prob is kept, as r1 does). No EOS: every sequence
runs N tokens. Timed like r1: decode tokens/s = B * (N - 1) / (time of the N - 1 decode steps).

The KV cache grows with torch.cat every step, as Hugging Face's default DynamicCache does;
--cache static preallocates it for P + N slots and writes each step in place (StaticCache).
The MoE dispatch is sparse like r1's: tokens sorted by expert, each expert on its own rows,
weighted index_add back. Attention uses scaled_dot_product_attention when this torch has it.

  /usr/bin/python3 data/bench/bench_generate_torch.py --model /tmp/gen/moe --batch 16 --prompt-len 32 \
      --new-tokens 64 --threads 1

Side by side with r1 (the machine is shared, so loads vary): --compare R1 [R1 ...] runs, for each
of --rounds rounds and each --batches size, `R1 bench generate` for each binary and then this
script (each run a fresh process) and prints the median decode tokens/s of each and the ratios
(two binaries give a before/after under the same load):

  /usr/bin/python3 data/bench/bench_generate_torch.py --model /tmp/gen/moe --compare build/r1 \
      --batches 1,16,64 --rounds 5 --threads 1

On a GPU add --device cuda (needs torch >= 2.0; passed on to `r1 bench generate` with --compare);
timings then synchronize the device before each clock read.

Needs torch (Debian: apt-get install python3-torch). Not used by make, make test or r1.
"""
import argparse
import json
import math
import statistics
import struct
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


# --- model directory ------------------------------------------------------------------------
def load_safetensors(path):
    """name -> float32 tensor, parsed by hand (the safetensors package may be absent)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(blob[a:b]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = t.to(torch.float32)
    return out


def load_config(path):
    c = json.load(open(path))
    c.setdefault("head_dim", c["hidden_size"] // c["num_attention_heads"])
    c.setdefault("num_key_value_heads", c["num_attention_heads"])
    c.setdefault("tie_word_embeddings", False)
    c.setdefault("attention_bias", c["model_type"] == "qwen2")
    return c


def is_moe_layer(c, i):
    return c.get("n_routed_experts", 0) > 0 and i >= c["first_k_dense_replace"] and i % c["moe_layer_freq"] == 0


# --- the model (inference only) -------------------------------------------------------------
def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


def linear(x, P, name):
    return F.linear(x, P[name + ".weight"], P.get(name + ".bias"))


def mlp(x, P, p):
    return linear(F.silu(linear(x, P, p + "gate_proj")) * linear(x, P, p + "up_proj"), P, p + "down_proj")


class Cache:
    """Per layer k, v: (B, Hkv, S, Dh) with RoPE applied."""

    def __init__(self, c, B, capacity, static):
        self.static, self.S = static, 0
        shape = (B, c["num_key_value_heads"], capacity, c["head_dim"])
        n = c["num_hidden_layers"]
        self.k = [torch.empty(shape) if static else None for _ in range(n)]
        self.v = [torch.empty(shape) if static else None for _ in range(n)]

    def append(self, i, k, v):  # k, v: (B, Hkv, T, Dh) -> all keys/values so far
        T = k.shape[2]
        if self.static:
            self.k[i][:, :, self.S:self.S + T] = k
            self.v[i][:, :, self.S:self.S + T] = v
            return self.k[i][:, :, :self.S + T], self.v[i][:, :, :self.S + T]
        if self.k[i] is not None:
            k, v = torch.cat((self.k[i], k), 2), torch.cat((self.v[i], v), 2)
        self.k[i], self.v[i] = k, v
        return k, v


def attention(x, P, p, c, i, cache, cos, sin):
    B, T, _ = x.shape
    H, Hkv, Dh = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    q = linear(x, P, p + "q_proj").view(B, T, H, Dh).transpose(1, 2)
    k = linear(x, P, p + "k_proj").view(B, T, Hkv, Dh).transpose(1, 2)
    v = linear(x, P, p + "v_proj").view(B, T, Hkv, Dh).transpose(1, 2)
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    k, v = cache.append(i, k, v)
    k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)  # HF repeat_kv
    causal = T > 1  # a prefill from an empty cache; a decode step sees every key
    if hasattr(F, "scaled_dot_product_attention"):
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    else:
        s = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)
        if causal:
            s = s + torch.full((T, T), float("-inf")).triu(1)
        o = torch.softmax(s, -1) @ v
    return linear(o.transpose(1, 2).reshape(B, T, H * Dh), P, p + "o_proj")


def route(choice, c):
    """Top-k expert ids (N, K) from the scores used for choosing (N, E), DeepSeek-V3 style: with
    n_group > 1 only the topk_group best groups are eligible (a group's score is the sum of its two
    best choice scores under noaux_tc, else its best score)."""
    K, G = c["num_experts_per_tok"], c.get("n_group", 1)
    if G > 1:
        N, E = choice.shape
        grouped = choice.view(N, G, E // G)
        gs = grouped.topk(2, -1)[0].sum(-1) if c["topk_method"] == "noaux_tc" else grouped.max(-1)[0]
        keep = torch.zeros_like(gs).scatter_(1, gs.topk(c["topk_group"], -1)[1], 1.0)  # (N, G)
        choice = choice.masked_fill(keep.repeat_interleave(E // G, 1) == 0, float("-inf"))
    return choice.topk(K, -1)[1]


def moe(x, P, p, c):
    B, T, D = x.shape
    E, K = c["n_routed_experts"], c["num_experts_per_tok"]
    xf = x.reshape(-1, D)
    logits = F.linear(xf, P[p + "gate.weight"])
    scores = torch.sigmoid(logits) if c["scoring_func"] == "sigmoid" else torch.softmax(logits, -1)
    choice = scores + P[p + "gate.e_score_correction_bias"] if c["topk_method"] == "noaux_tc" else scores
    idx = route(choice, c)  # (N, K)
    w = scores.gather(1, idx)
    if c["norm_topk_prob"] and K > 1:
        w = w / w.sum(-1, keepdim=True)
    w = w * c["routed_scaling_factor"]
    flat = idx.view(-1)
    order = flat.argsort()
    tok = order // K
    counts = torch.bincount(flat, minlength=E)
    xs = xf[tok]
    outs, start = [], 0
    for e, n in enumerate(counts.tolist()):
        if n:
            outs.append(mlp(xs[start:start + n], P, f"{p}experts.{e}."))
            start += n
    ys = torch.cat(outs) * w.view(-1)[order].unsqueeze(1)
    y = torch.zeros_like(xf).index_add(0, tok, ys)
    if c["n_shared_experts"]:
        y = y + mlp(xf, P, p + "shared_experts.")
    return y.view(B, T, D)


def forward(P, c, ids, cache, rope):
    """ids: (B, T) new tokens at positions cache.S.. -> logits of the last token (B, V)."""
    T, eps = ids.shape[1], c["rms_norm_eps"]
    cos, sin = rope[0][cache.S:cache.S + T], rope[1][cache.S:cache.S + T]
    h = P["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = h + attention(rmsnorm(h, P[p + "input_layernorm.weight"], eps), P, p + "self_attn.", c, i, cache, cos, sin)
        x = rmsnorm(h, P[p + "post_attention_layernorm.weight"], eps)
        h = h + (moe(x, P, p + "mlp.", c) if is_moe_layer(c, i) else mlp(x, P, p + "mlp."))
    cache.S += T
    head = P["model.embed_tokens.weight"] if c["tie_word_embeddings"] else P["lm_head.weight"]
    return F.linear(rmsnorm(h[:, -1], P["model.norm.weight"], eps), head)


def sample(logits, gen):
    """Temperature 1: one draw per row from softmax(logits); returns tokens (B, 1) and their log-probs."""
    lp = torch.log_softmax(logits, -1)
    tok = torch.multinomial(lp.exp(), 1, generator=gen)
    return tok, lp.gather(1, tok)


def rope_tables(n, Dh, theta):
    inv = 1.0 / (theta ** (torch.arange(0, Dh, 2, dtype=torch.float32) / Dh))
    f = torch.outer(torch.arange(n, dtype=torch.float32), inv)
    emb = torch.cat((f, f), -1)
    return emb.cos(), emb.sin()


def sync():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def generate(P, c, prompts, N, static, gen, rope):
    """prompts: (B, P) -> (tokens (B, N), prefill seconds, decode seconds)."""
    B, Pl = prompts.shape
    sync()
    t0 = time.perf_counter()
    cache = Cache(c, B, Pl + N, static)
    tok, _ = sample(forward(P, c, prompts, cache, rope), gen)
    out = [tok]
    sync()
    t1 = time.perf_counter()
    for _ in range(N - 1):
        tok, _ = sample(forward(P, c, tok, cache, rope), gen)
        out.append(tok)
    sync()
    t2 = time.perf_counter()
    return torch.cat(out, 1), t1 - t0, t2 - t1


def run_json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def compare(a):
    """Interleaved rounds of each r1 binary and torch; prints the medians per batch size as JSON lines."""
    common = ["--model", a.model, "--prompt-len", str(a.prompt_len), "--new-tokens", str(a.new_tokens),
              "--threads", str(a.threads), "--seed", str(a.seed), "--device", a.device]
    batches = [int(b) for b in a.batches.split(",")]
    cmds = {r1: [r1, "bench", "generate", "--json"] for r1 in a.compare}
    cmds["torch"] = [sys.executable, __file__, "--cache", a.cache]
    runs = {(b, name): [] for b in batches for name in cmds}
    for r in range(a.rounds):
        for b in batches:
            for name, cmd in cmds.items():
                runs[b, name].append(run_json(cmd + ["--batch", str(b)] + common)["tokens_per_s"])
            print(f"round {r + 1}/{a.rounds} batch {b}: " +
                  ", ".join(f"{name} {runs[b, name][-1]:.0f}" for name in cmds) + " tokens/s", file=sys.stderr)
    for b in batches:
        med = {name: statistics.median(runs[b, name]) for name in cmds}
        print(json.dumps({"batch": b, "threads": a.threads, "rounds": a.rounds, "cache": a.cache,
                          "median_tokens_per_s": {name: round(m) for name, m in med.items()},
                          "ratio_to_torch": {r1: round(med[r1] / med["torch"], 2) for r1 in a.compare},
                          "runs": {name: [round(x) for x in runs[b, name]] for name in cmds}}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="model directory (config.json + model.safetensors)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", choices=("dynamic", "static"), default="dynamic")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--compare", metavar="R1", nargs="+", help="r1 binaries: interleave their runs with torch's")
    ap.add_argument("--batches", default="1,16,64", help="with --compare: batch sizes")
    ap.add_argument("--rounds", type=int, default=5, help="with --compare: runs of each per batch size")
    a = ap.parse_args()
    if a.compare:
        return compare(a)
    torch.set_num_threads(a.threads)
    c = load_config(a.model + "/config.json")
    P = {n: t.to(a.device) for n, t in load_safetensors(a.model + "/model.safetensors").items()}
    if a.device == "cuda":
        torch.set_default_device("cuda")  # caches, masks and rope tables on the GPU
    B, Pl, N = a.batch, a.prompt_len, a.new_tokens
    assert N >= 2 and Pl + N <= c["max_position_embeddings"]
    gen = torch.Generator(device=a.device).manual_seed(a.seed)
    prompts = torch.randint(0, c["vocab_size"], (B, Pl), generator=gen)
    rope = rope_tables(Pl + N, c["head_dim"], c["rope_theta"])
    with torch.inference_mode():
        generate(P, c, prompts, 4, a.cache == "static", gen, rope)  # warm-up
        _, prefill_s, decode_s = generate(P, c, prompts, N, a.cache == "static", gen, rope)
    print(json.dumps({"tokens_per_s": B * (N - 1) / decode_s, "prefill_tokens_per_s": B * Pl / prefill_s,
                      "batch": B, "prompt_len": Pl, "new_tokens": N, "threads": a.threads, "cache": a.cache,
                      "device": a.device, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
