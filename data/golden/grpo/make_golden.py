#!/usr/bin/env python3
"""Golden vectors for the GRPO objective (r1 grpo-loss and the trainer's loss).

An independent implementation of the objective in docs/algorithm.md, written in plain
Python (double precision, no numpy, sharing no code with r1): every option combination
(loss x scale_rewards x std, plus clipping-heavy, beta=0, group-size-1 and ragged cases)
is written as data/golden/grpo/<name>.json = {"input": CASE, "expected": OUTPUT}.

Inputs are multiples of 1/256 so that float32 holds them exactly: the trainer path
(float32 log-probs) then sees the very same numbers.

Usage: python3 data/golden/grpo/make_golden.py   (rewrites the .json files next to it)
"""
import itertools
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def q(x):
    """Rounds to a multiple of 1/256 (exact in float32)."""
    return round(x * 256) / 256


def advantages(rewards, G, scale, std_kind, eps):
    n = len(rewards)
    if G == 1:
        return [0.0] * n

    def stdev(xs):
        m = sum(xs) / len(xs)
        d = len(xs) - 1 if std_kind == "sample" else len(xs)
        if d <= 0:
            return 0.0
        return math.sqrt(sum((x - m) ** 2 for x in xs) / d)

    out = []
    std_all = stdev(rewards)
    for g in range(0, n, G):
        grp = rewards[g:g + G]
        m = sum(grp) / G
        if scale == "group":
            denom = stdev(grp) + eps
        elif scale == "batch":
            denom = std_all + eps
        else:
            denom = 1.0
        out.extend((r - m) / denom for r in grp)
    return out


def objective(adv, lp, lp_old, lp_ref, o):
    n = len(lp)
    total = sum(len(r) for r in lp)
    max_len = o["max_len"] or max(len(r) for r in lp)
    loss, kl_sum, clipped = 0.0, 0.0, 0
    grads = []
    for i in range(n):
        if o["loss"] == "grpo":
            w = 1.0 / (n * len(lp[i]))
        elif o["loss"] == "token-mean":
            w = 1.0 / total
        else:
            w = 1.0 / (n * max_len)
        row = []
        for a, b, c in zip(lp[i], lp_old[i], lp_ref[i]):
            rho = math.exp(a - b)
            lo, hi = 1 - o["eps_low"], 1 + o["eps_high"]
            t1 = rho * adv[i]
            t2 = min(max(rho, lo), hi) * adv[i]
            kl = math.exp(c - a) - (c - a) - 1
            if t2 < t1:  # clipped branch is the min: no gradient through rho
                surr, dsurr = t2, 0.0
                clipped += 1
            else:
                surr, dsurr = t1, t1
            loss += w * -(surr - o["beta"] * kl)
            row.append(w * (-dsurr + o["beta"] * (1 - math.exp(c - a))))
            kl_sum += kl
        grads.append(row)
    return loss, kl_sum / total, clipped / total, grads


DEFAULTS = {"loss": "grpo", "beta": 0.001, "eps_low": 0.2, "eps_high": 0.2,
            "scale_rewards": "group", "std": "sample", "eps": 1e-4, "max_len": 0}


def make_case(rng, G, prompts, options, drift, lengths=(1, 9), binary=True):
    n = G * prompts
    rewards = [float(rng.random() < 0.5) if binary else q(rng.uniform(-1, 2)) for _ in range(n)]
    lp, lp_old, lp_ref = [], [], []
    for _ in range(n):
        L = rng.randint(*lengths)
        row_old = [q(-rng.expovariate(1.0)) for _ in range(L)]
        lp_old.append(row_old)
        lp.append([q(x + rng.uniform(-drift, drift)) for x in row_old])
        lp_ref.append([q(x + rng.uniform(-drift, drift)) for x in row_old])
    case = {"group_size": G, "rewards": rewards, "lp": lp, "lp_old": lp_old, "lp_ref": lp_ref,
            "options": options}
    return case


def solve(case):
    o = dict(DEFAULTS)
    o.update(case["options"])
    adv = advantages(case["rewards"], case["group_size"], o["scale_rewards"], o["std"], o["eps"])
    loss, kl, clip, grads = objective(adv, case["lp"], case["lp_old"], case["lp_ref"], o)
    return {"advantages": adv, "loss": loss, "kl_mean": kl, "clip_fraction": clip, "grad_lp": grads}


def main():
    rng = random.Random(20261128)
    cases = {}
    for loss, scale, std in itertools.product(["grpo", "token-mean", "dr_grpo"], ["group", "batch", "none"],
                                              ["sample", "population"]):
        opts = {"loss": loss, "scale_rewards": scale, "std": std}
        if loss == "dr_grpo":
            opts["max_len"] = 12
        cases[f"{loss}_{scale}_{std}"] = make_case(rng, 4, 3, opts, drift=0.3)
    # Heavy clipping (large drift), asymmetric clip range (DAPO clip-higher), big beta.
    cases["clip_heavy_asymmetric"] = make_case(rng, 4, 2, {"eps_low": 0.2, "eps_high": 0.28, "beta": 0.04},
                                               drift=1.5)
    cases["beta_zero"] = make_case(rng, 3, 2, {"beta": 0.0}, drift=0.5)
    cases["continuous_rewards"] = make_case(rng, 5, 2, {}, drift=0.4, binary=False)
    cases["group_size_one"] = make_case(rng, 1, 4, {}, drift=0.4)
    cases["dr_grpo_default_max_len"] = make_case(rng, 2, 3, {"loss": "dr_grpo"}, drift=0.3)
    # rho == 1 everywhere: the first step of on-policy GRPO (mu = 1), loss ~ 0 from the surrogate.
    c = make_case(rng, 4, 2, {}, drift=0.0)
    cases["on_policy_first_step"] = c
    # All rewards equal in a group: zero-variance group, advantage exactly 0.
    c = make_case(rng, 4, 2, {}, drift=0.2)
    c["rewards"] = [1.0] * 4 + [0.0, 1.0, 0.0, 1.0]
    cases["zero_variance_group"] = c

    for name, case in cases.items():
        doc = {"input": case, "expected": solve(case)}
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    print(f"wrote {len(cases)} cases to {HERE}")


if __name__ == "__main__":
    main()
