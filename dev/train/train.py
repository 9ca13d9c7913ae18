#!/usr/bin/python3
"""train.py -- train a small BitNet b1.58 language model with quantization-
aware training (model.py), on CPU, reproducibly, and export it as a latent
F32 GGUF.

Data: DATA/train.txt and DATA/heldout.txt from extract.py, tokenized by
DATA/tokenizer.json (bpe.py); each document becomes BOS + its tokens, and
the documents are concatenated into one stream per split.  A training batch
is B windows of ctx + 1 tokens at uniformly random offsets of the training
stream (torch.Generator seeded with --seed), so a window may start inside
a document and cross into the next one, as `tritcheck accuracy --corpus`
chunks do.

Optimisation: AdamW (betas 0.9/0.95), linear warm-up then cosine decay of
the learning rate to 10 % of its peak; weight decay 0.1 on the linear
(latent) weights during the first half and 0 in the second, the two-stage
schedule of the BitNet b1.58 2B4T report; no decay on the embedding and the
norms; gradients clipped to norm 1.

Every --eval-every steps: the loss on fixed samples of the training and the
held-out streams (the same quantized forward as training).  At the end: the
loss on the whole held-out stream in three precisions (qat: ternary weights
and int8 activations, = tritcheck's i2s; ternary: ternary weights, float
activations, = tritcheck's fp32 on the I2_S file; latent: the latent F32
weights, = tritcheck's fp32 on the latent file).

Writes OUT/log.jsonl (one line per evaluation), OUT/loss.png, OUT/ckpt.pt
(every --save-every steps, at --stop-after and at the end; --resume
continues from it bit for bit), OUT/final.json and OUT/latent.gguf.

Threads: torch.set_num_threads(--threads), default 2.  Runs are bit-for-bit
repeatable on one machine with one thread count; other CPUs (other SIMD
paths in the BLAS) give slightly different floats.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

import bpe
import model

DOC_SEPARATOR = "\n" + bpe.DOC_SEPARATOR + "\n"


def token_stream(tok, path):
    with open(path, encoding="utf-8") as f:
        docs = f.read().split(DOC_SEPARATOR)
    ids = []
    for d in docs:
        ids.append(tok.bos)
        ids.extend(tok.encode(d))
    return torch.tensor(ids, dtype=torch.int64), len(docs)


def fixed_chunks(stream, n, ctx):
    """n windows of ctx + 1 tokens spread evenly over the stream."""
    last = len(stream) - (ctx + 1)
    starts = [round(i * last / max(1, n - 1)) for i in range(n)]
    return torch.stack([stream[s:s + ctx + 1] for s in starts])


@torch.no_grad()
def mean_loss(net, chunks, batch=16):
    total, count = 0.0, 0
    for i in range(0, len(chunks), batch):
        x = chunks[i:i + batch]
        logits = net(x[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        count += x[:, 1:].numel()
    return total / count


def lr_at(step, o):
    if step < o.warmup:
        return o.lr * (step + 1) / o.warmup
    t = (step - o.warmup) / max(1, o.steps - o.warmup)
    return o.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def plot(log, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [r["step"] for r in log]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    ax.plot(steps, [r["train_loss"] for r in log], label="train (fixed sample)")
    ax.plot(steps, [r["heldout_loss"] for r in log], label="held-out (fixed sample)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("BitNet b1.58 QAT (ternary weights, int8 activations)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="train.txt, heldout.txt, tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-chunks", type=int, default=48)
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this step, checkpointed (then --resume)")
    ap.add_argument("--name", default="tritcheck-pydoc-bitnet")
    for f in model.Config.__dataclass_fields__.values():
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    o = ap.parse_args()
    cfg = model.Config(**{k: getattr(o, k) for k in model.Config.__dataclass_fields__})
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    torch.use_deterministic_algorithms(True)
    os.makedirs(o.out, exist_ok=True)

    tok = bpe.Tokenizer.load(os.path.join(o.data, "tokenizer.json"))
    assert tok.n_vocab == cfg.vocab, f"tokenizer has {tok.n_vocab} tokens, --vocab {cfg.vocab}"
    train, n_train = token_stream(tok, os.path.join(o.data, "train.txt"))
    held, n_held = token_stream(tok, os.path.join(o.data, "heldout.txt"))
    print(f"train: {n_train} documents, {len(train)} tokens; held-out: {n_held} documents, {len(held)} tokens",
          flush=True)
    train_eval = fixed_chunks(train, o.eval_chunks, cfg.ctx)
    held_eval = fixed_chunks(held, o.eval_chunks, cfg.ctx)

    net = model.BitNet(cfg)
    n_params = sum(p.numel() for p in net.parameters())
    decay = [p for n, p in net.named_parameters() if p.dim() == 2 and not n.startswith("token_embd")]
    rest = [p for n, p in net.named_parameters() if not (p.dim() == 2 and not n.startswith("token_embd"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o.wd}, {"params": rest, "weight_decay": 0.0}],
                            lr=o.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(o.seed)
    log, step, elapsed, run_loss, run_n = [], 0, 0.0, 0.0, 0
    ckpt = os.path.join(o.out, "ckpt.pt")
    if o.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        gen.set_state(st["gen"])
        torch.set_rng_state(st["rng"])
        log, step, elapsed = st["log"], st["step"], st["elapsed"]
        run_loss, run_n = st.get("run", (0.0, 0))
        print(f"resumed at step {step}", flush=True)
    print(f"config: {cfg}; {n_params} parameters; {o.steps} steps of {o.batch} x {cfg.ctx} tokens; "
          f"lr {o.lr}, warm-up {o.warmup}, seed {o.seed}, threads {o.threads}", flush=True)

    def save():
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "rng": torch.get_rng_state(), "log": log, "step": step, "elapsed": time.time() - t0,
                    "run": (run_loss, run_n),
                    "config": vars(cfg), "args": vars(o)}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    t0 = time.time() - elapsed
    while step < o.steps:
        lr = lr_at(step, o)
        opt.param_groups[0]["lr"] = opt.param_groups[1]["lr"] = lr
        opt.param_groups[0]["weight_decay"] = o.wd if step < o.steps // 2 else 0.0
        starts = torch.randint(0, len(train) - cfg.ctx - 1, (o.batch,), generator=gen)
        x = torch.stack([train[s:s + cfg.ctx + 1] for s in starts.tolist()])
        logits = net(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0).item()
        opt.step()
        step += 1
        run_loss += loss.item()
        run_n += 1
        if step % o.eval_every == 0 or step == o.steps:
            elapsed = time.time() - t0
            r = {"step": step, "tokens": step * o.batch * cfg.ctx, "lr": lr, "grad_norm": gnorm,
                 "batch_loss": run_loss / run_n, "train_loss": mean_loss(net, train_eval),
                 "heldout_loss": mean_loss(net, held_eval), "elapsed_s": round(elapsed, 1)}
            run_loss, run_n = 0.0, 0
            log.append(r)
            print(f"step {step:5d}/{o.steps}  tokens {r['tokens']:9d}  lr {lr:.2e}  batch {r['batch_loss']:.4f}  "
                  f"train {r['train_loss']:.4f}  held-out {r['heldout_loss']:.4f}  "
                  f"({elapsed:.0f} s, {elapsed / step:.2f} s/step)", flush=True)
            with open(os.path.join(o.out, "log.jsonl"), "w") as f:
                f.writelines(json.dumps(x) + "\n" for x in log)
            plot(log, os.path.join(o.out, "loss.png"))
        if step % o.save_every == 0 or step == o.steps or step == o.stop_after:
            save()
        if step == o.stop_after:
            print(f"stopped after step {step}; continue with --resume", flush=True)
            return

    elapsed = time.time() - t0
    # the whole held-out stream, in non-overlapping windows, three precisions
    n = (len(held) - 1) // cfg.ctx
    all_held = torch.stack([held[i * cfg.ctx:i * cfg.ctx + cfg.ctx + 1] for i in range(n)])
    final = {"steps": step, "train_seconds": round(elapsed, 1), "parameters": n_params, "config": vars(cfg),
             "args": vars(o), "train_tokens": len(train), "heldout_tokens": len(held),
             "last": log[-1] if log else None, "heldout_full": {}}
    for p in ("qat", "ternary", "latent"):
        net.set_mode(p)
        final["heldout_full"][p] = mean_loss(net, all_held)
        print(f"held-out loss, all {n} windows of {cfg.ctx}, {p}: {final['heldout_full'][p]:.4f} "
              f"(perplexity {math.exp(final['heldout_full'][p]):.3f})", flush=True)
    net.set_mode("qat")
    with open(os.path.join(o.out, "final.json"), "w") as f:
        json.dump(final, f, indent=1)
    model.export_gguf(net, tok, os.path.join(o.out, "latent.gguf"), o.name)
    print(f"done: {step} steps in {elapsed:.0f} s; wrote {o.out}/latent.gguf", flush=True)


if __name__ == "__main__":
    main()
