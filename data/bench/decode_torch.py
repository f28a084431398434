#!/usr/bin/env python3
"""PyTorch counterpart of `r1 bench decode` for docs/perf.md: the same dense (qwen2/llama) config
with random weights, the same steps (a prefill of one --prompt-len prompt; then at each --batch
a prefill and --new-tokens one-token decode steps with a KV cache, random ids, logits computed
but not sampled), the same thread count, and the same STREAM-style copy bandwidth measured in
the same process, so that r1 and torch compare as ratios of one run.

  /usr/bin/python3 data/bench/decode_torch.py --config data/presets/r1_distill_qwen_1.5b.json \\
      --batch 1,16 --prompt-len 16 --new-tokens 8 --threads 2 --dtype bf16

--dtype bf16 keeps weights and activations in bfloat16 (torch's usual CPU inference; it rounds the
activations too, unlike r1, which keeps them float32); --dtype f32 is the float32 baseline
(twice the weight bytes per token). Needs torch (Debian: python3-torch); not used by make or r1.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def copy_bandwidth():
    """STREAM Copy convention: (bytes read + bytes written) / s, best of 5, two 256 MiB buffers."""
    a = torch.ones(64 << 20)
    b = torch.empty_like(a)
    best = 1e30
    for _ in range(5):
        t = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.numel() * 4 / best


class Model:
    def __init__(self, c, dtype, gen):
        self.c, D, V = c, c["hidden_size"], c["vocab_size"]
        self.H, self.Hkv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.Dh = c.get("head_dim", D // self.H)
        F_ = c["intermediate_size"]
        bias = c.get("attention_bias", c["model_type"] == "qwen2")

        def w(*shape):  # uniform with std 0.02, like r1's bench
            return ((torch.rand(*shape, generator=gen) * 2 - 1) * 0.02 * math.sqrt(3)).to(dtype)

        self.embed = w(V, D)
        self.layers = []
        for _ in range(c["num_hidden_layers"]):
            L = {"q": w(self.H * self.Dh, D), "k": w(self.Hkv * self.Dh, D), "v": w(self.Hkv * self.Dh, D),
                 "o": w(D, self.H * self.Dh), "gate": w(F_, D), "up": w(F_, D), "down": w(D, F_),
                 "n1": torch.ones(D, dtype=dtype), "n2": torch.ones(D, dtype=dtype)}
            for n in ("q", "k", "v"):
                L[n + "b"] = torch.zeros(L[n].shape[0], dtype=dtype) if bias else None
            self.layers.append(L)
        self.norm = torch.ones(D, dtype=dtype)
        self.head = self.embed if c.get("tie_word_embeddings") else w(V, D)
        self.dtype = dtype
        self.eps = c.get("rms_norm_eps", 1e-6)
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.Dh, 2).double() / self.Dh))
        self.inv_freq = inv

    def weight_bytes(self):
        ts = [self.head] + [t for L in self.layers for t in L.values() if t is not None]
        if not self.c.get("tie_word_embeddings"):
            pass  # the embedding is read one row per token: not counted, as in r1
        return sum(t.numel() * t.element_size() for t in ts)

    def rmsnorm(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(self.dtype) * w

    def rope(self, x, pos):  # x: (B, h, T, Dh), HF rotate_half convention
        f = pos[:, None].double() * self.inv_freq[None]
        emb = torch.cat((f, f), -1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        x1, x2 = x[..., : self.Dh // 2], x[..., self.Dh // 2:]
        return x * cos + torch.cat((-x2, x1), -1) * sin

    def step(self, ids, cache):
        """ids: (B, T) appended after cache[l] = (k, v) of (B, Hkv, S, Dh); returns logits (B, T, V)."""
        B, T = ids.shape
        S = cache[0][0].shape[2] if cache[0] is not None else 0
        pos = torch.arange(S, S + T)
        h = self.embed[ids]
        mask = torch.ones(T, S + T, dtype=torch.bool).tril(S) if T > 1 else None
        for i, L in enumerate(self.layers):
            x = self.rmsnorm(h, L["n1"])
            q = F.linear(x, L["q"], L["qb"]).view(B, T, self.H, self.Dh).transpose(1, 2)
            k = F.linear(x, L["k"], L["kb"]).view(B, T, self.Hkv, self.Dh).transpose(1, 2)
            v = F.linear(x, L["v"], L["vb"]).view(B, T, self.Hkv, self.Dh).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache[i] is not None:
                k, v = torch.cat((cache[i][0], k), 2), torch.cat((cache[i][1], v), 2)
            cache[i] = (k, v)
            rep = self.H // self.Hkv
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            s = (q @ kk.transpose(-1, -2)).float() / math.sqrt(self.Dh)
            if mask is not None:
                s = s.masked_fill(~mask, float("-inf"))
            o = (torch.softmax(s, -1).to(self.dtype) @ vv).transpose(1, 2).reshape(B, T, self.H * self.Dh)
            h = h + F.linear(o, L["o"])
            x = self.rmsnorm(h, L["n2"])
            h = h + F.linear(F.silu(F.linear(x, L["gate"])) * F.linear(x, L["up"]), L["down"])
        return F.linear(self.rmsnorm(h, self.norm), self.head)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="data/presets/r1_distill_qwen_1.5b.json")
    ap.add_argument("--batch", default="1,16")
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c = json.load(open(a.config))
    gen = torch.Generator().manual_seed(a.seed)
    bw = copy_bandwidth()
    t = time.perf_counter()
    m = Model(c, torch.bfloat16 if a.dtype == "bf16" else torch.float32, gen)
    init_s = time.perf_counter() - t
    V, L = c["vocab_size"], c["num_hidden_layers"]
    out = {"torch": torch.__version__, "dtype": a.dtype, "threads": a.threads, "init_s": init_s,
           "copy_bandwidth_bytes_per_s": bw, "step_weight_bytes": m.weight_bytes(), "decode": []}
    with torch.inference_mode():
        m.step(torch.randint(0, V, (1, 4), generator=gen), [None] * L)  # warm-up
        t = time.perf_counter()
        m.step(torch.randint(0, V, (1, a.prompt_len), generator=gen), [None] * L)
        out["prefill_tokens_per_s"] = a.prompt_len / (time.perf_counter() - t)
        for B in [int(b) for b in a.batch.split(",")]:
            cache = [None] * L
            m.step(torch.randint(0, V, (B, a.prompt_len), generator=gen), cache)
            t = time.perf_counter()
            for _ in range(a.new_tokens):
                m.step(torch.randint(0, V, (B, 1), generator=gen), cache)
            s = time.perf_counter() - t
            out["decode"].append({"batch": B, "decode_tokens_per_s": B * a.new_tokens / s,
                                  "step_ms": 1000 * s / a.new_tokens})
    out["bandwidth_limit_tokens_per_s"] = bw / out["step_weight_bytes"]
    if out["decode"] and out["decode"][0]["batch"] == 1:
        out["batch1_fraction_of_limit"] = out["decode"][0]["decode_tokens_per_s"] / out["bandwidth_limit_tokens_per_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
