"""model.py -- a BitNet b1.58 language model for quantization-aware training,
the graph of SPEC 2.1 exactly, and its export as a latent F32 GGUF.

Per token position p (SPEC 2.1):
    x = token_embd[tok]
    per layer:
        h = rmsnorm(x) * attn_norm
        q, k, v = bitlinear(Wq, h), bitlinear(Wk, h), bitlinear(Wv, h)
        q, k = rope_neox(q, p), rope_neox(k, p)         pairs (i, i + head_dim/2)
        a = causal GQA attention, scale 1/sqrt(head_dim), KV head = head // (n_head/n_head_kv)
        a = rmsnorm(a) * attn_sub_norm
        x = x + bitlinear(Wo, a)
        h = rmsnorm(x) * ffn_norm
        f = relu(bitlinear(Wgate, h))^2 * bitlinear(Wup, h)
        f = rmsnorm(f) * ffn_sub_norm
        x = x + bitlinear(Wdown, f)
    logits = token_embd . (rmsnorm(x) * output_norm)   (tied head, not quantized)
    rmsnorm(v) = v / sqrt(mean(v^2) + eps)

bitlinear during training (the BitNet b1.58 papers' QAT), with straight-
through estimators (forward: the quantized value; backward: identity):
    weights, per tensor:  m = max(1e-5, mean|W|), W_q = clamp(round(W/m), -1, 1) * m
    activations, per token: s = 127 / max(1e-5, max|x|), x_q = clamp(round(x*s), -128, 127) / s
    y = x_q @ W_q^T
which is tritcheck's I2_S precision (SPEC 2.2) with the latent rule of
`tritcheck quantize` (SPEC 2.3), up to float rounding.

Weight layout: a torch Linear weight is (out, in), row-major; GGUF's
{ne0, ne1} = {in, out} is the same bytes.  Q and K are stored as they are
used (no permutation): rope_neox rotates element i with i + head_dim/2
within each head.
"""
import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCH = "bitnet-b1.58"


@dataclasses.dataclass
class Config:
    vocab: int = 4096        # tokens, BOS/EOS included
    ctx: int = 256           # context length (training window)
    d: int = 256             # embedding length
    n_layer: int = 4         # blocks
    n_head: int = 4          # query heads
    n_head_kv: int = 2       # key/value heads (GQA)
    ffn: int = 512           # feed-forward length (a multiple of 128 for I2_S)
    rope_base: float = 500000.0
    eps: float = 1e-5

    @property
    def head_dim(self):
        return self.d // self.n_head


# ---- quantizers with straight-through gradients ----

def weight_quant(w):
    """Absmean ternary, per tensor: forward W_q, gradient straight to w."""
    m = w.abs().mean().clamp(min=1e-5)
    wq = (w / m).round().clamp(-1, 1) * m
    return w + (wq - w).detach()


def act_quant(x):
    """Absmax int8, per token (last dimension): forward x_q, gradient straight to x."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    xq = (x * s).round().clamp(-128, 127) / s
    return x + (xq - x).detach()


class BitLinear(nn.Linear):
    """y = act_quant(x) @ weight_quant(W)^T, no bias (mode "qat", training).
    For evaluation: "ternary" y = x @ weight_quant(W)^T (tritcheck's fp32 on
    the I2_S file), "latent" y = x @ W^T (fp32 on the latent file)."""

    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out, bias=False)
        self.mode = "qat"

    def forward(self, x):
        if self.mode == "latent":
            return F.linear(x, self.weight)
        if self.mode == "ternary":
            return F.linear(x, weight_quant(self.weight))
        return F.linear(act_quant(x), weight_quant(self.weight))


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n):
    """cos, sin of theta_i = p * base^(-2i/head_dim), i < head_dim/2, p < n; angles in double."""
    hd = cfg.head_dim
    inv = cfg.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]           # (n, hd/2)
    return torch.cos(ang).float(), torch.sin(ang).float()


def rope_neox(x, cos, sin):
    """x (B, H, T, hd): (x_i, x_{i+hd/2}) <- (x_i cos - x_{i+hd/2} sin, x_i sin + x_{i+hd/2} cos)."""
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, dkv = cfg.d, cfg.n_head_kv * cfg.head_dim
        self.cfg = cfg
        self.attn_norm = RMSNorm(d, cfg.eps)
        self.attn_q, self.attn_k, self.attn_v = BitLinear(d, d), BitLinear(d, dkv), BitLinear(d, dkv)
        self.attn_sub_norm = RMSNorm(d, cfg.eps)
        self.attn_output = BitLinear(d, d)
        self.ffn_norm = RMSNorm(d, cfg.eps)
        self.ffn_gate, self.ffn_up = BitLinear(d, cfg.ffn), BitLinear(d, cfg.ffn)
        self.ffn_sub_norm = RMSNorm(cfg.ffn, cfg.eps)
        self.ffn_down = BitLinear(cfg.ffn, d)

    def forward(self, x, cos, sin, mask):
        c = self.cfg
        B, T, _ = x.shape
        h = self.attn_norm(x)
        q = self.attn_q(h).view(B, T, c.n_head, c.head_dim).transpose(1, 2)       # (B, H, T, hd)
        k = self.attn_k(h).view(B, T, c.n_head_kv, c.head_dim).transpose(1, 2)
        v = self.attn_v(h).view(B, T, c.n_head_kv, c.head_dim).transpose(1, 2)
        q, k = rope_neox(q, cos, sin), rope_neox(k, cos, sin)
        g = c.n_head // c.n_head_kv                  # query heads per KV head
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c.head_dim)) + mask
        a = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, c.d)
        x = x + self.attn_output(self.attn_sub_norm(a))
        h = self.ffn_norm(x)
        f = F.relu(self.ffn_gate(h)).square() * self.ffn_up(h)
        return x + self.ffn_down(self.ffn_sub_norm(f))


class BitNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.vocab, cfg.d)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.d, cfg.eps)
        cos, sin = rope_tables(cfg, cfg.ctx)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.init_weights()

    def init_weights(self):
        """GPT-2's: N(0, 0.02), the residual outputs scaled by 1/sqrt(2 n_layer)."""
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * self.cfg.n_layer) if n.endswith(("attn_output.weight", "ffn_down.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def set_mode(self, mode):
        """qat, ternary or latent: see BitLinear."""
        for m in self.modules():
            if isinstance(m, BitLinear):
                m.mode = mode

    def forward(self, tokens):
        """tokens (B, T) -> logits (B, T, vocab)."""
        T = tokens.shape[1]
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.token_embd(tokens)
        for b in self.blocks:
            x = b(x, self.cos[:T], self.sin[:T], mask)
        return self.output_norm(x) @ self.token_embd.weight.t()


# ---- export ----

def export_gguf(model, tok, path, name):
    """The latent F32 model, keys and tensor order as `tritcheck gen` writes them."""
    from gguf_write import ARRAY, F32, I32, STRING, U32, Writer
    c = model.cfg
    w = Writer()
    w.add("general.architecture", STRING, ARCH)
    w.add("general.name", STRING, name)
    w.add(f"{ARCH}.vocab_size", U32, c.vocab)
    w.add(f"{ARCH}.context_length", U32, c.ctx)
    w.add(f"{ARCH}.embedding_length", U32, c.d)
    w.add(f"{ARCH}.block_count", U32, c.n_layer)
    w.add(f"{ARCH}.feed_forward_length", U32, c.ffn)
    w.add(f"{ARCH}.rope.dimension_count", U32, c.head_dim)
    w.add(f"{ARCH}.attention.head_count", U32, c.n_head)
    w.add(f"{ARCH}.attention.head_count_kv", U32, c.n_head_kv)
    w.add(f"{ARCH}.rope.freq_base", F32, c.rope_base)
    w.add(f"{ARCH}.attention.layer_norm_rms_epsilon", F32, c.eps)
    w.add("general.file_type", U32, 0)                      # all F32
    w.add("general.quantization_version", U32, 2)
    w.add("tokenizer.ggml.model", STRING, "gpt2")
    w.add("tokenizer.ggml.pre", STRING, "llama-bpe")
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, tok.gguf_tokens()))
    w.add("tokenizer.ggml.token_type", ARRAY, (I32, tok.gguf_types()))
    w.add("tokenizer.ggml.merges", ARRAY, (STRING, tok.gguf_merges()))
    w.add("tokenizer.ggml.bos_token_id", U32, tok.bos)
    w.add("tokenizer.ggml.eos_token_id", U32, tok.eos)
    assert tok.n_vocab == c.vocab
    sd = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", sd["token_embd.weight"])           # {d, vocab}
    for i in range(c.n_layer):
        p = f"blocks.{i}."
        for t in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_sub_norm",
                  "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_sub_norm"):
            w.add_tensor(f"blk.{i}.{t}.weight", sd[p + t + ".weight"])
    w.add_tensor("output_norm.weight", sd["output_norm.weight"])
    w.write(path)
