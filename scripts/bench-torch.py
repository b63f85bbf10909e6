#!/usr/bin/env python3
"""PyTorch reference for `swarm bench train` (issue 15).

Trains the same Llama-architecture decoder as src/model/llama.ts for one of
the presets of src/model/config.ts, on the same batch shape, with the same
optimizer (AdamW with DILOCO_INNER's hyper-parameters from src/train/adamw.ts,
global-norm clipping included), and prints training tokens/s. Timing follows
src/cli/bench-train.ts: untimed warm-up steps (WARMUP_STEPS there), then N
timed steps on one fixed random batch, the loss read back every step as our training unit does.

Not a dependency of the project: it needs only the standard library and
torch (Debian: `apt-get install python3-torch`). Idiomatic torch ops are used
(F.silu, F.cross_entropy, torch.softmax) because the point is to compare with
what a PyTorch user would get, not with a replica of our kernels.
"""
import argparse
import json
import math
import os
import sys
import time

# Kept in step with src/model/config.ts by hand; the test compares `params`
# with our paramCount so a drift in either shows up.
PRESETS = {
    "nano": dict(vocab=256, dim=64, hidden=192, layers=2, heads=4, kv_heads=2, max_seq=64, tied=True),
    "micro": dict(vocab=512, dim=192, hidden=576, layers=4, heads=6, kv_heads=3, max_seq=128, tied=True),
    "small": dict(vocab=4096, dim=512, hidden=1408, layers=6, heads=8, kv_heads=4, max_seq=256, tied=False),
}
NORM_EPS = 1e-5
ROPE_THETA = 10000.0
INIT_STD = 0.02
# DILOCO_INNER in src/train/adamw.ts
LR, BETAS, EPS, WEIGHT_DECAY, CLIP = 4e-4, (0.9, 0.95), 1e-8, 0.1, 1.0


def bounded_int(name, least, most):
    def parse(value):
        try:
            n = int(value, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {value!r}")
        if n < least or n > most:
            raise argparse.ArgumentTypeError(f"{name} must be between {least} and {most}, got {n}")
        return n
    return parse


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch training tokens/s for a swarm model preset (reference for `swarm bench train --torch`)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="micro")
    p.add_argument("--batch", type=bounded_int("--batch", 1, 4096), default=8)
    p.add_argument("--seq-len", type=bounded_int("--seq-len", 1, 8192), default=128)
    p.add_argument("--steps", type=bounded_int("--steps", 1, 10000), default=3, help="timed steps")
    p.add_argument("--warmup", type=bounded_int("--warmup", 0, 10000), default=3, help="untimed steps before them")
    p.add_argument("--threads", type=bounded_int("--threads", 1, 256), default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p.parse_args(argv)


def build(torch, cfg, seq_len):
    """Parameters in our canonical order and shapes ([in, out] matrices, so a
    linear layer is x @ W as in llama.ts), with the same initialisation rule."""
    d, f, hd = cfg["dim"], cfg["hidden"], cfg["dim"] // cfg["heads"]
    shapes = [("embed", (cfg["vocab"], d))]
    for i in range(cfg["layers"]):
        shapes += [
            (f"layers.{i}.attnNorm", (d,)),
            (f"layers.{i}.wq", (d, cfg["heads"] * hd)),
            (f"layers.{i}.wk", (d, cfg["kv_heads"] * hd)),
            (f"layers.{i}.wv", (d, cfg["kv_heads"] * hd)),
            (f"layers.{i}.wo", (cfg["heads"] * hd, d)),
            (f"layers.{i}.mlpNorm", (d,)),
            (f"layers.{i}.wGate", (d, f)),
            (f"layers.{i}.wUp", (d, f)),
            (f"layers.{i}.wDown", (f, d)),
        ]
    shapes.append(("norm", (d,)))
    if not cfg["tied"]:
        shapes.append(("lmHead", (d, cfg["vocab"])))
    params = {}
    for name, shape in shapes:
        if len(shape) == 1:
            t = torch.ones(shape)
        else:
            residual = name.endswith(".wo") or name.endswith(".wDown")
            std = INIT_STD / math.sqrt(2 * cfg["layers"]) if residual else INIT_STD
            t = torch.randn(shape) * std
        params[name] = t.requires_grad_(True)
    # Rotary tables in the Hugging Face "rotate half" layout of src/tensor/rope.ts,
    # built for max(seq_len, the preset's context) as bench-train.ts does.
    t_max = max(seq_len, cfg["max_seq"])
    inv_freq = ROPE_THETA ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    freqs = torch.outer(torch.arange(t_max, dtype=torch.float32), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    causal = torch.full((t_max, t_max), float("-inf")).triu(1)
    return params, emb.cos(), emb.sin(), causal


def rms_norm(torch, x, w):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + NORM_EPS) * w


def rope(torch, x, cos, sin):
    h = x.shape[-1] // 2
    rotated = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rotated * sin


def loss_of(torch, F, cfg, p, cos, sin, causal, inputs, targets):
    b, t = inputs.shape
    d, nh, nk = cfg["dim"], cfg["heads"], cfg["kv_heads"]
    e = d // nh
    cos, sin, mask = cos[:t], sin[:t], causal[:t, :t]
    scale = 1.0 / math.sqrt(e)
    h = F.embedding(inputs, p["embed"])  # [B, T, D]
    for i in range(cfg["layers"]):
        w = lambda k: p[f"layers.{i}.{k}"]  # noqa: E731
        x = rms_norm(torch, h, w("attnNorm"))
        heads = lambda m, n: (x @ m).view(b, t, n, e).transpose(1, 2)  # noqa: E731  [B, n, T, E]
        q = rope(torch, heads(w("wq"), nh), cos, sin)
        k = rope(torch, heads(w("wk"), nk), cos, sin)
        v = heads(w("wv"), nk)
        if nk != nh:
            # grouped-query attention: each kv head serves nh/nk query heads, as repeatKv does
            k = k.repeat_interleave(nh // nk, dim=1)
            v = v.repeat_interleave(nh // nk, dim=1)
        att = torch.softmax((q @ k.transpose(-1, -2)) * scale + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(b, t, nh * e)
        h = h + o @ w("wo")
        y = rms_norm(torch, h, w("mlpNorm"))
        h = h + (F.silu(y @ w("wGate")) * (y @ w("wUp"))) @ w("wDown")
    hn = rms_norm(torch, h, p["norm"])
    head = p["lmHead"] if "lmHead" in p else p["embed"].t()
    logits = hn @ head
    return F.cross_entropy(logits.view(b * t, cfg["vocab"]), targets.reshape(b * t))


def blas_in_use():
    """Which BLAS library this process loaded (Linux only). Debian's torch calls
    whatever libblas.so.3 the alternatives system points to, and the default
    there is the netlib reference BLAS, about ten times slower than OpenBLAS:
    a yardstick on it would flatter us, so the row says which one ran."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "blas" in line or "mkl" in line})
    except OSError:
        return "unknown"
    # sgemm comes from libblas.so.3 when one is loaded (it precedes LAPACK, which
    # may be OpenBLAS's and export sgemm too); its real path names the provider.
    blas3 = [p for p in paths if os.path.basename(p).startswith("libblas.so")]
    for path in blas3 or paths:
        for name in ("openblas", "mkl", "blis"):
            if name in path:
                return name
        if "/blas/libblas.so" in path:  # Debian's reference BLAS (package libblas3)
            return "netlib"
    return "unknown"


def main(argv):
    a = parse_args(argv)
    cfg = PRESETS[a.preset]
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("bench-torch: torch is not importable by this python; install it with `apt-get install python3-torch`", file=sys.stderr)
        return 3
    # Inter-op threads can only be set before any parallel work starts.
    torch.set_num_interop_threads(a.threads)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    params, cos, sin, causal = build(torch, cfg, a.seq_len)
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, cfg["vocab"], (a.batch, a.seq_len + 1), generator=g)
    inputs, targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()
    plist = list(params.values())
    # Weight decay on matrices only (rank >= 2), not on norm gains, as in adamw.ts.
    groups = [
        {"params": [t for t in plist if t.dim() >= 2], "weight_decay": WEIGHT_DECAY},
        {"params": [t for t in plist if t.dim() < 2], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of(torch, F, cfg, params, cos, sin, causal, inputs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(plist, CLIP)
        opt.step()
        return loss.item()

    for _ in range(a.warmup):  # allocator, thread pools, lazy initialisation
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    row = {
        "op": "train",
        "backend": "torch",
        "torchVersion": torch.__version__,
        "preset": a.preset,
        "params": sum(t.numel() for t in plist),
        "batch": a.batch,
        "seqLen": a.seq_len,
        "threads": a.threads,
        "steps": a.steps,
        "tokensPerSecond": a.steps * a.batch * a.seq_len / dt,
        "blas": blas_in_use(),
        # GNU OpenMP's waiting policy decides whether torch survives other load
        # on the cores (spinning workers collapse there); the caller may try both.
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "default").lower(),
    }
    if a.json:
        print(json.dumps(row))
    else:
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
