#!/usr/bin/env python3
"""Golden vectors for r1's named GRPO conventions (r1 grpo-loss --convention NAME).

Each convention is written here the way its framework writes it, in PyTorch on padded
(B, T) tensors with a mask, in float64, and its gradient w.r.t. the policy log-probs comes
from torch.autograd (r1 derives its gradients by hand). Nothing is shared with r1 or with
../make_golden.py. The framework code was read at these versions:

  TRL       v1.9.0 (35def3ee)   trl/trainer/grpo_trainer.py (_compute_loss, advantages), grpo_config.py
  verl      v0.7.0 (f9c855f7)   verl/trainer/ppo/core_algos.py (agg_loss, compute_policy_loss_vanilla /
                     _gspo / _cispo, kl_penalty, compute_grpo_outcome_advantage,
                     compute_rloo_outcome_advantage, compute_rewards), rollout_corr_helper.py
                     (compute_rollout_correction_weights), workers/actor/dp_actor.py (kl loss)
  OpenRLHF  v0.11.0 (3c3be623) openrlhf/models/loss.py (PolicyLoss, aggregate_loss), models/utils.py
                     (compute_approx_kl, compute_reward), trainer/ppo_utils/experience_maker.py
                     (group_norm / rloo, get_cumulative_returns), trainer/ray/ppo_actor.py
  DeepSeekMath (arXiv 2402.03300, eq. 3), GSPO (arXiv 2507.18071, eq. 5-7),
  CISPO (MiniMax-M1, arXiv 2506.13585, as TRL v1.9.0 loss_type="cispo").

Batches: ragged lengths; a zero-variance group; negative advantages with large ratios
(dual clip); rollout log-probs far from lp_old (TIS); a reference far from the policy (KL clamps). Inputs are multiples of 1/256, exact
in float32, so r1's float32 training op sees the same numbers.

Output: conventions.json = {"batches": {name: case}, "conventions": {key: {"convention":
NAME, "options": {overrides}, "expected": {batch: output}}}} where output has the fields of
`r1 grpo-loss`: advantages, (token_advantages), loss, kl_mean, clip_fraction,
dual_clip_fraction, tis_capped_fraction, grad_lp. kl_mean is r1's metric: the token mean of
the convention's KL estimator (of lp against lp_ref; of lp_old when the KL is in the reward),
reported also when beta = 0.

Usage: /usr/bin/python3 data/golden/grpo/conventions/make_conventions.py
"""
import json
import os
import random

import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def q(x):
    return round(x * 256) / 256


# --- padded inputs -------------------------------------------------------------------

class Batch:
    def __init__(self, case):
        self.G = case["group_size"]
        self.rewards = torch.tensor(case["rewards"])
        rows = case["lp"]
        self.lengths = [len(r) for r in rows]
        B, T = len(rows), max(self.lengths)
        self.mask = torch.zeros(B, T)

        def pad(key):
            x = torch.zeros(B, T)
            for i, r in enumerate(case[key]):
                x[i, :len(r)] = torch.tensor(r)
            return x

        for i, n in enumerate(self.lengths):
            self.mask[i, :n] = 1
        self.lp = pad("lp").requires_grad_(True)
        self.old = pad("lp_old")
        self.ref = pad("lp_ref")
        self.rollout = pad("lp_rollout")

    def unpad(self, x):
        return [x[i, :n].tolist() for i, n in enumerate(self.lengths)]

    def token_mean(self, x):
        return ((x * self.mask).sum() / self.mask.sum()).item()


def finish(b, loss, adv, kl_tok, clipped, dual, capped, token_adv=None):
    loss.backward()
    out = {"advantages": adv.tolist(), "loss": loss.item(), "kl_mean": b.token_mean(kl_tok),
           "clip_fraction": b.token_mean(clipped.double()), "dual_clip_fraction": b.token_mean(dual.double()),
           "tis_capped_fraction": b.token_mean(capped.double()), "grad_lp": b.unpad(b.lp.grad)}
    if token_adv is not None:
        out["token_advantages"] = b.unpad(token_adv)
    return out


# --- DeepSeekMath (paper, eq. 3 with outcome supervision) ------------------------------

def deepseekmath(b, beta=0.04, eps=0.2):
    r = b.rewards.view(-1, b.G)
    # r~_i = (r_i - mean(r)) / std(r); the paper writes no epsilon: a flat group has advantage 0.
    std = r.std(dim=1, keepdim=True)
    adv = torch.where(std > 0, (r - r.mean(dim=1, keepdim=True)) / torch.where(std > 0, std, 1.0),
                      torch.zeros_like(r)).reshape(-1)
    total = 0.0
    kl_all = torch.zeros_like(b.lp)
    clipped = torch.zeros_like(b.lp, dtype=torch.bool)
    for i, n in enumerate(b.lengths):
        pi, old, ref = b.lp[i, :n], b.old[i, :n], b.ref[i, :n]
        ratio = torch.exp(pi - old)
        a = adv[i]
        unclipped, clip = ratio * a, torch.clamp(ratio, 1 - eps, 1 + eps) * a
        kl = torch.exp(ref - pi) - (ref - pi) - 1  # pi_ref/pi - log(pi_ref/pi) - 1
        total = total + (torch.min(unclipped, clip) - beta * kl).sum() / n
        kl_all[i, :n] = kl.detach()
        clipped[i, :n] = clip < unclipped
    loss = -total / len(b.lengths)  # (1/G) sum_i over each group, averaged over the groups
    zero = torch.zeros_like(clipped)
    return finish(b, loss, adv, kl_all, clipped, zero, zero)


# --- TRL v1.9.0 GRPOTrainer ----------------------------------------------------------

def trl(b, loss_type, beta=0.0, epsilon=0.2, epsilon_high=None, scale_rewards="group",
        importance_sampling_level="token", max_completion_length=256):
    epsilon_low = epsilon
    epsilon_high = epsilon if epsilon_high is None else epsilon_high
    rewards = b.rewards
    mean_grouped = rewards.view(-1, b.G).mean(dim=1).repeat_interleave(b.G)
    if scale_rewards == "group":
        std = rewards.view(-1, b.G).std(dim=1).repeat_interleave(b.G)
    elif scale_rewards == "batch":
        std = rewards.std().expand_as(rewards)
    advantages = rewards - mean_grouped
    if scale_rewards != "none":
        advantages = advantages / (std + 1e-4)
    adv_flat = advantages
    advantages = advantages.unsqueeze(1)
    mask = b.mask
    per_token_logps, old_per_token_logps = b.lp, b.old
    log_ratio = per_token_logps - old_per_token_logps
    if importance_sampling_level == "token":
        log_importance_weights = log_ratio
    else:
        log_importance_weights = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
    coef_1 = torch.exp(log_importance_weights)
    ref = b.ref
    per_token_kl = torch.exp(ref - per_token_logps) - (ref - per_token_logps) - 1
    if loss_type == "cispo":
        clamped = torch.clamp(coef_1, max=epsilon_high).detach()
        per_token_loss = -clamped * advantages * per_token_logps
        clipped = (coef_1 > epsilon_high).expand_as(mask)
    else:
        coef_2 = torch.clamp(coef_1, 1 - epsilon_low, 1 + epsilon_high)
        per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)
        # TRL's clip metrics: low (ratio < 1 - eps, A < 0) or high (ratio > 1 + eps, A > 0)
        is_low = (coef_1 < 1 - epsilon_low) & (advantages < 0)
        is_high = (coef_1 > 1 + epsilon_high) & (advantages > 0)
        clipped = (is_low | is_high).expand_as(mask)
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type in ("bnpo", "dapo", "cispo"):  # dapo/cispo: num_items_in_batch = this batch's tokens
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * max_completion_length)
    kl = per_token_kl.detach()  # r1 reports the mean KL whatever beta is (TRL logs it when beta != 0)
    zero = torch.zeros_like(mask, dtype=torch.bool)
    return finish(b, loss, adv_flat, kl, clipped, zero, zero)


# --- verl v0.7.0 ---------------------------------------------------------------------

def verl_kl_penalty(logprob, ref_logprob, kind):
    if kind in ("kl", "k1"):
        return logprob - ref_logprob
    if kind in ("mse", "k2"):
        return 0.5 * (logprob - ref_logprob).square()
    if kind in ("low_var_kl", "k3"):
        kl = torch.clamp(ref_logprob - logprob, min=-20, max=20)
        return torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)
    raise ValueError(kind)


def verl_agg_loss(loss_mat, loss_mask, mode, loss_scale_factor=None):
    if mode == "token-mean":
        return (loss_mat * loss_mask).sum() / loss_mask.sum()
    if mode == "seq-mean-token-sum":
        seq = (loss_mat * loss_mask).sum(-1)
        seq_mask = (loss_mask.sum(-1) > 0).double()
        return (seq * seq_mask).sum() / seq_mask.sum()
    if mode == "seq-mean-token-mean":
        n = loss_mask.sum(-1)
        seq = (loss_mat * loss_mask).sum(-1) / (n + 1e-8)
        seq_mask = (n > 0).double()
        return (seq * seq_mask).sum() / seq_mask.sum()
    if mode == "seq-mean-token-sum-norm":
        seq = (loss_mat * loss_mask).sum(-1)
        return seq.sum() / (loss_mask.shape[-1] if loss_scale_factor is None else loss_scale_factor)
    raise ValueError(mode)


def verl(b, loss_agg_mode="token-mean", use_kl_loss=True, kl_loss_coef=0.001, kl_loss_type="low_var_kl",
         clip_ratio=0.2, clip_ratio_c=3.0, adv_estimator="grpo", norm_adv_by_std_in_grpo=True, epsilon=1e-6,
         use_kl_in_reward=False, kl_penalty="kl", kl_coef=0.001, rollout_is_threshold=None,
         response_length=None):
    mask = b.mask
    # token_level_scores: the outcome reward on the last response token
    scores_tok = torch.zeros_like(mask)
    for i, n in enumerate(b.lengths):
        scores_tok[i, n - 1] = b.rewards[i]
    if use_kl_in_reward:  # apply_kl_penalty: token_level_rewards = scores - beta * kld(old, ref)
        kld_reward = verl_kl_penalty(b.old, b.ref, kl_penalty) * mask
        token_level_rewards = scores_tok - kl_coef * kld_reward
    else:
        token_level_rewards = scores_tok
    scores = token_level_rewards.sum(dim=-1)
    groups = scores.view(-1, b.G)
    mean = groups.mean(dim=1).repeat_interleave(b.G)
    if adv_estimator == "grpo":
        std = groups.std(dim=1).repeat_interleave(b.G)
        adv = (scores - mean) / (std + epsilon) if norm_adv_by_std_in_grpo else scores - mean
    else:  # rloo
        adv = scores * b.G / (b.G - 1) - mean * b.G / (b.G - 1)
    advantages = adv.unsqueeze(-1) * mask
    log_prob, old_log_prob = b.lp, b.old
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - clip_ratio, 1 + clip_ratio)
    clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)
    clipfrac = torch.gt(pg_losses2, pg_losses1)
    pg_losses3 = -advantages * clip_ratio_c
    clip_pg_losses2 = torch.min(pg_losses3, clip_pg_losses1)
    dualfrac = torch.gt(clip_pg_losses1, pg_losses3) & (advantages < 0)
    pg_losses = torch.where(advantages < 0, clip_pg_losses2, clip_pg_losses1)
    capped = torch.zeros_like(mask, dtype=torch.bool)
    if rollout_is_threshold is not None:  # compute_rollout_correction_weights, rollout_is = "token"
        log_ratio = b.old - b.rollout
        w = torch.exp(torch.clamp(log_ratio, min=-20, max=20)) * mask
        capped = (w > rollout_is_threshold) & (mask > 0)
        pg_losses = pg_losses * w.clamp(max=rollout_is_threshold).detach()
    kld = verl_kl_penalty(log_prob, b.ref, kl_loss_type)
    agg_mask, agg_pg, agg_kld = mask, pg_losses, kld
    if response_length is not None:  # the async agent loop pads every response to rollout.response_length
        extra = response_length - mask.shape[-1]
        agg_mask, agg_pg, agg_kld = (torch.nn.functional.pad(x, (0, extra)) for x in (mask, pg_losses, kld))
    loss = verl_agg_loss(agg_pg, agg_mask, loss_agg_mode)
    kl_tok = kld.detach()  # r1 reports the token mean of the KL estimate, also with use_kl_loss=False
    if use_kl_loss:
        loss = loss + verl_agg_loss(agg_kld, agg_mask, loss_agg_mode) * kl_loss_coef
    if use_kl_in_reward:
        kl_tok = kld_reward
    return finish(b, loss, adv, kl_tok, clipfrac, dualfrac, capped)


# --- OpenRLHF v0.11.0 ----------------------------------------------------------------

def openrlhf_approx_kl(log_probs, log_probs_base, kl_estimator):
    log_ratio = log_probs - log_probs_base
    if kl_estimator == "k2":
        log_ratio = log_ratio ** 2 / 2.0
    elif kl_estimator == "k3":
        log_ratio = (-log_ratio).exp() - 1 + log_ratio
    return log_ratio.clamp(min=-10, max=10)


def openrlhf(b, use_kl_loss=False, kl_estimator="k1", init_kl_coef=0.01, eps_clip=0.2):
    mask = b.mask
    rewards = b.rewards.view(-1, b.G)
    rewards = ((rewards - rewards.mean(-1, keepdim=True)) / (rewards.std(-1, keepdim=True) + 1e-9)).reshape(-1)
    # Without kl.use_loss: the KL of the rollout policy against the reference goes in the reward.
    kl = torch.zeros_like(mask) if use_kl_loss else openrlhf_approx_kl(b.old, b.ref, kl_estimator) * mask
    # compute_reward: -kl_coef * kl on every token, the reward added on the last one
    reward = -init_kl_coef * kl
    for i, n in enumerate(b.lengths):
        reward[i, n - 1] += rewards[i]
    # get_cumulative_returns, gamma = 1: returns_t = sum_{s >= t} reward_s
    returns = torch.zeros_like(mask)
    running = torch.zeros(mask.shape[0])
    for t in reversed(range(mask.shape[1])):
        running = reward[:, t] * mask[:, t] + running
        returns[:, t] = running
    advantages = returns * mask
    log_probs, old_log_probs = b.lp, b.old
    ratio = torch.clamp(log_probs - old_log_probs, min=-20.0, max=20.0).exp()
    surr1 = ratio * advantages
    surr2 = ratio.clamp(1 - eps_clip, 1 + eps_clip) * advantages
    loss = -torch.min(surr1, surr2)
    loss = (loss * mask).sum() / mask.sum()  # token_level_loss: masked mean over all tokens
    clipped = torch.lt(surr2, surr1)
    kl_tok = kl
    if use_kl_loss:
        kl_l = openrlhf_approx_kl(log_probs, b.ref, kl_estimator)
        loss = loss + ((kl_l * mask).sum() / mask.sum()) * init_kl_coef
        kl_tok = kl_l.detach()
    zero = torch.zeros_like(mask, dtype=torch.bool)
    return finish(b, loss, rewards, kl_tok, clipped, zero, zero, token_adv=None if use_kl_loss else advantages)


# --- GSPO (paper) ---------------------------------------------------------------------

def gspo(b, eps_low=3e-4, eps_high=4e-4):
    r = b.rewards.view(-1, b.G)
    adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).reshape(-1)
    total = 0.0
    clipped = torch.zeros_like(b.mask, dtype=torch.bool)
    for i, n in enumerate(b.lengths):
        # s_i = (pi(y_i|x) / pi_old(y_i|x))^(1/|y_i|)
        s = torch.exp((b.lp[i, :n].sum() - b.old[i, :n].sum()) / n)
        unclipped, clip = s * adv[i], torch.clamp(s, 1 - eps_low, 1 + eps_high) * adv[i]
        total = total + torch.min(unclipped, clip)
        clipped[i, :n] = bool(clip < unclipped)
    loss = -total / len(b.lengths)
    zero = torch.zeros_like(b.mask, dtype=torch.bool)
    kl = torch.exp(b.ref - b.lp) - (b.ref - b.lp) - 1  # not in the GSPO loss; r1 reports its mean (k3)
    return finish(b, loss, adv, kl.detach(), clipped, zero, zero)


# --- the conventions and the batches --------------------------------------------------

CONVENTIONS = {
    # key: (r1 convention, option overrides for r1, reference function)
    "deepseekmath": ("deepseekmath", {}, lambda b: deepseekmath(b)),
    "trl-grpo": ("trl-grpo", {}, lambda b: trl(b, "grpo")),
    "trl-grpo+beta": ("trl-grpo", {"beta": 0.04}, lambda b: trl(b, "grpo", beta=0.04)),
    "trl-bnpo": ("trl-bnpo", {}, lambda b: trl(b, "bnpo")),
    "trl-bnpo+beta+batch": ("trl-bnpo", {"beta": 0.04, "scale_rewards": "batch"},
                            lambda b: trl(b, "bnpo", beta=0.04, scale_rewards="batch")),
    "trl-dr_grpo": ("trl-dr_grpo", {}, lambda b: trl(b, "dr_grpo")),
    "trl-dr_grpo+none": ("trl-dr_grpo", {"scale_rewards": "none", "beta": 0.04},
                         lambda b: trl(b, "dr_grpo", scale_rewards="none", beta=0.04)),
    "trl-dapo": ("trl-dapo", {}, lambda b: trl(b, "dapo")),
    "trl-dapo+clip-higher": ("trl-dapo", {"eps_high": 0.28}, lambda b: trl(b, "dapo", epsilon_high=0.28)),
    "verl-token-mean": ("verl-token-mean", {}, lambda b: verl(b, "token-mean")),
    "verl-seq-mean-token-sum": ("verl-seq-mean-token-sum", {}, lambda b: verl(b, "seq-mean-token-sum")),
    "verl-seq-mean-token-mean": ("verl-seq-mean-token-mean", {}, lambda b: verl(b, "seq-mean-token-mean")),
    "verl-seq-mean-token-sum-norm": ("verl-seq-mean-token-sum-norm", {},
                                     lambda b: verl(b, "seq-mean-token-sum-norm", response_length=512)),
    "verl-token-mean+k1": ("verl-token-mean", {"kl": "k1", "beta": 0.05},
                           lambda b: verl(b, kl_loss_type="k1", kl_loss_coef=0.05)),
    "verl-token-mean+k2": ("verl-token-mean", {"kl": "k2", "beta": 0.05},
                           lambda b: verl(b, kl_loss_type="k2", kl_loss_coef=0.05)),
    "verl-kl-in-reward": ("verl-kl-in-reward", {}, lambda b: verl(b, use_kl_loss=False, use_kl_in_reward=True)),
    "verl-kl-in-reward+k3": ("verl-kl-in-reward", {"kl": "low_var_kl", "beta": 0.2},
                             lambda b: verl(b, use_kl_loss=False, use_kl_in_reward=True, kl_penalty="low_var_kl",
                                            kl_coef=0.2)),
    "openrlhf": ("openrlhf", {}, lambda b: openrlhf(b)),
    "openrlhf+beta": ("openrlhf", {"beta": 0.3}, lambda b: openrlhf(b, init_kl_coef=0.3)),
    "openrlhf-kl-loss": ("openrlhf-kl-loss", {}, lambda b: openrlhf(b, use_kl_loss=True, kl_estimator="k3")),
    "gspo": ("gspo", {}, lambda b: gspo(b)),
    "gspo+wide": ("gspo", {"eps_low": 0.02, "eps_high": 0.03}, lambda b: gspo(b, 0.02, 0.03)),
    "gspo-trl+beta": ("gspo", {"beta": 0.04},
                      lambda b: trl(b, "grpo", beta=0.04, epsilon=3e-4, epsilon_high=4e-4,
                                    importance_sampling_level="sequence")),
    "cispo": ("cispo", {}, lambda b: trl(b, "cispo", epsilon_high=5.0)),
    "cispo+tight": ("cispo", {"eps_high": 0.2}, lambda b: trl(b, "cispo", epsilon_high=1.2)),
    "tis": ("tis", {}, lambda b: verl(b, rollout_is_threshold=2.0)),
    "rloo": ("rloo", {}, lambda b: verl(b, adv_estimator="rloo", use_kl_loss=False)),
}


def make_batch(rng, G, prompts, drift, lengths=(1, 9), binary=True, rollout_drift=0.1):
    n = G * prompts
    rewards = [float(rng.random() < 0.5) if binary else q(rng.uniform(-1, 2)) for _ in range(n)]
    case = {"group_size": G, "rewards": rewards, "lp": [], "lp_old": [], "lp_ref": [], "lp_rollout": []}
    for _ in range(n):
        L = rng.randint(*lengths)
        old = [q(-rng.expovariate(1.0)) for _ in range(L)]
        case["lp_old"].append(old)
        case["lp"].append([q(x + rng.uniform(-drift, drift)) for x in old])
        case["lp_ref"].append([q(x + rng.uniform(-drift, drift)) for x in old])
        case["lp_rollout"].append([q(x + rng.uniform(-rollout_drift, rollout_drift)) for x in old])
    return case


def batches():
    rng = random.Random(20261208)
    out = {}
    out["ragged"] = make_batch(rng, 4, 2, drift=0.3)
    c = make_batch(rng, 4, 2, drift=0.2, binary=False)
    c["rewards"][:4] = [0.5] * 4  # a zero-variance group: advantage exactly 0
    out["zero_variance"] = c
    # Negative advantages with ratios far above 1 + eps and above the dual-clip c = 3.
    c = make_batch(rng, 4, 2, drift=0.1, lengths=(2, 7))
    c["rewards"] = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
    for i, r in enumerate(c["rewards"]):
        if r == 0.0:
            c["lp"][i] = [q(x + rng.uniform(0.5, 2.0)) for x in c["lp_old"][i]]
    out["dual_clip"] = c
    # The rollout engine's log-probs differ from the trainer's lp_old by up to 1.5 nats.
    out["tis_mismatch"] = make_batch(rng, 3, 2, drift=0.3, rollout_drift=1.5, binary=False)
    # A reference far from the policy: k3 above 10 and |k1| above 10 on some tokens, so the
    # clamps of verl's low_var_kl and OpenRLHF's compute_approx_kl act.
    c = make_batch(rng, 2, 3, drift=0.2, binary=False)
    for i, row in enumerate(c["lp_ref"]):
        for t in range(len(row)):
            if (i + t) % 3 == 0:
                row[t] = q(c["lp_old"][i][t] + rng.choice([-12.5, -4.0, 3.5]))
    out["far_reference"] = c
    return out


def main():
    bs = batches()
    doc = {"batches": bs, "conventions": {}}
    for key, (name, overrides, fn) in CONVENTIONS.items():
        expected = {}
        for bname, case in bs.items():
            expected[bname] = fn(Batch(case))
        doc["conventions"][key] = {"convention": name, "options": overrides, "expected": expected}
    with open(os.path.join(HERE, "conventions.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(CONVENTIONS)} conventions x {len(bs)} batches to {HERE}/conventions.json")


if __name__ == "__main__":
    main()
