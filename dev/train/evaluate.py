#!/usr/bin/python3
"""evaluate.py -- perplexity of the trained model on a text, computed in
torch the way `tritcheck accuracy --corpus FILE --ctx N` computes it, as an
independent check of tritcheck's figures.

tritcheck's scheme: the whole file is tokenized with BOS first, cut into
consecutive chunks of N tokens (the last may be shorter), each chunk runs
from position 0, and position p of a chunk predicts token p + 1 of the same
chunk; perplexity = exp(mean NLL over those predictions).

Three precisions (model.BitLinear): qat = tritcheck's i2s (ternary weights,
int8 activations), ternary = fp32 on the I2_S file, latent = fp32 on the
latent file.  The I2_S file stores token_embd as F16, so for qat and
ternary the embedding is rounded to F16 first, as there.

Usage: evaluate.py --ckpt ckpt.pt --tokenizer tokenizer.json --text F --ctx N [--json OUT]
"""
import argparse
import json
import math

import torch
import torch.nn.functional as F

import bpe
import model


@torch.no_grad()
def nll_chunks(net, ids, ctx):
    total, count = 0.0, 0
    for c0 in range(0, len(ids), ctx):
        x = ids[c0:c0 + ctx][None]
        if x.shape[1] < 2:
            continue
        logits = net(x)[0, :-1]
        total += F.cross_entropy(logits, x[0, 1:], reduction="sum").item()
        count += x.shape[1] - 1
    return total / count, count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    st = torch.load(o.ckpt)
    cfg = model.Config(**st["config"])
    net = model.BitNet(cfg)
    net.load_state_dict(st["model"])
    tok = bpe.Tokenizer.load(o.tokenizer)
    with open(o.text, "rb") as f:
        ids = torch.tensor(tok.encode(f.read().decode("utf-8"), bos=True))
    out = {"text": o.text, "tokens": len(ids), "ctx": o.ctx}
    latent_embd = net.token_embd.weight.detach().clone()
    for mode in ("qat", "ternary", "latent"):
        with torch.no_grad():
            net.token_embd.weight.copy_(latent_embd if mode == "latent" else latent_embd.half().float())
        net.set_mode(mode)
        nll, n = nll_chunks(net, ids, o.ctx)
        out[mode] = {"nll": nll, "perplexity": math.exp(nll), "predictions": n}
        print(f"{mode:8s} NLL {nll:.5f}  perplexity {math.exp(nll):.4f}  ({n} predictions)", flush=True)
    if o.json:
        with open(o.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
