"""The GPT training step written by hand in plain NumPy, with fused manual backward passes.

This is the yardstick for gradstack's speed (bench/gpt_step.py): the same
architecture as ``gradstack.transformer.GPT`` (token + learned position embeddings,
pre-norm blocks of causal multi-head attention and a GELU MLP, final LayerNorm, an
untied linear head without bias), the same cross-entropy loss and the same AdamW
update, with every gradient derived by hand. No framework, no graph: just arrays.
Parameter names follow gradstack's ``named_parameters()`` so weights can be copied
across and the gradients compared (bench/verify_numpy_gpt.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

F32 = np.float32


@dataclass(frozen=True)
class Config:
    """Model size and batch shape of one benchmark configuration."""

    vocab_size: int
    context: int
    num_layers: int
    num_heads: int
    embed_dim: int
    batch_size: int


def init_params(cfg: Config, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters named as in gradstack (GPT-2 style init; values are overwritten when
    weights are copied from a gradstack model)."""
    rng = np.random.default_rng(seed)
    C, V, T = cfg.embed_dim, cfg.vocab_size, cfg.context

    def normal(*shape: int) -> np.ndarray:
        return (0.02 * rng.standard_normal(shape)).astype(F32)

    p = {"token_embedding.weight": normal(V, C), "position_embedding.weight": normal(T, C)}
    for i in range(cfg.num_layers):
        b = f"blocks.{i}."
        p[b + "ln1.gamma"], p[b + "ln1.beta"] = np.ones(C, F32), np.zeros(C, F32)
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            p[b + f"attn.{proj}.weight"], p[b + f"attn.{proj}.bias"] = (
                normal(C, C),
                np.zeros(C, F32),
            )
        p[b + "ln2.gamma"], p[b + "ln2.beta"] = np.ones(C, F32), np.zeros(C, F32)
        p[b + "mlp.linear1.weight"], p[b + "mlp.linear1.bias"] = (
            normal(4 * C, C),
            np.zeros(4 * C, F32),
        )
        p[b + "mlp.linear2.weight"], p[b + "mlp.linear2.bias"] = normal(C, 4 * C), np.zeros(C, F32)
    p["ln_f.gamma"], p["ln_f.beta"] = np.ones(C, F32), np.zeros(C, F32)
    p["lm_head.weight"] = normal(V, C)
    return p


# -- fused pieces: forward returns (out, cache); backward takes (grad, cache) ----------


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5):
    """LayerNorm over the last dim."""
    mean = x.mean(-1, keepdims=True)
    xc = x - mean
    rstd = 1.0 / np.sqrt((xc * xc).mean(-1, keepdims=True) + F32(eps))
    xhat = xc * rstd
    return xhat * gamma + beta, (xhat, rstd, gamma)


def layer_norm_backward(g: np.ndarray, cache):
    """Gradients of LayerNorm for x, gamma, beta."""
    xhat, rstd, gamma = cache
    C = xhat.shape[-1]
    g2 = g.reshape(-1, C)
    xhat2 = xhat.reshape(-1, C)
    dgamma = np.einsum("nc,nc->c", g2, xhat2)
    dbeta = g2.sum(0)
    gx = g * gamma
    dx = rstd * (gx - gx.mean(-1, keepdims=True) - xhat * (gx * xhat).mean(-1, keepdims=True))
    return dx, dgamma, dbeta


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """x @ w.T + b."""
    out = x @ w.T
    if b is not None:
        out += b
    return out


def linear_backward(g: np.ndarray, x: np.ndarray, w: np.ndarray, has_bias: bool):
    """Gradients of ``linear``: batch dims folded into rows, one GEMM each."""
    g2 = g.reshape(-1, g.shape[-1])
    dw = g2.T @ x.reshape(-1, x.shape[-1])
    db = g2.sum(0) if has_bias else None
    return g @ w, dw, db


GELU_C = F32(math.sqrt(2.0 / math.pi))


def gelu(x: np.ndarray):
    """GELU, tanh approximation."""
    t = np.tanh(GELU_C * (x + F32(0.044715) * x * x * x))
    return F32(0.5) * x * (1 + t), (x, t)


def gelu_backward(g: np.ndarray, cache) -> np.ndarray:
    """d GELU(x)."""
    x, t = cache
    dt = GELU_C * (1 + F32(3 * 0.044715) * x * x) * (1 - t * t)
    return g * (F32(0.5) * (1 + t) + F32(0.5) * x * dt)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray):
    """Causal softmax(q kᵀ / sqrt(d)) v on (B, H, T, hd)."""
    scale = F32(1.0 / math.sqrt(q.shape[-1]))
    s = q @ k.swapaxes(-1, -2)  # (B, H, T, T)
    s *= scale
    s[..., mask] = -np.inf
    s -= s.max(-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(-1, keepdims=True)
    return s @ v, (q, k, v, s, scale)


def attention_backward(g: np.ndarray, cache):
    """Gradients of causal attention for q, k, v."""
    q, k, v, p, scale = cache
    dv = p.swapaxes(-1, -2) @ g
    dp = g @ v.swapaxes(-1, -2)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    ds *= scale
    return ds @ k, ds.swapaxes(-1, -2) @ q, dv


def cross_entropy(logits: np.ndarray, targets: np.ndarray):
    """Mean cross-entropy of (N, V) logits and (N,) targets; returns loss and dlogits."""
    n = logits.shape[0]
    shifted = logits - logits.max(-1, keepdims=True)
    np.exp(shifted, out=shifted)
    total = shifted.sum(-1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - np.log(shifted[rows, targets])))
    shifted /= total
    shifted[rows, targets] -= 1
    shifted *= F32(1.0 / n)
    return loss, shifted


def embedding_backward(idx: np.ndarray, g: np.ndarray, vocab_size: int) -> np.ndarray:
    """Scatter-add rows of g (B, T, C) into a (V, C) gradient: a one-hot GEMM, which
    beats np.add.at by ~10x at these sizes."""
    n = idx.size
    onehot = np.zeros((n, vocab_size), dtype=g.dtype)
    onehot[np.arange(n), idx.reshape(-1)] = 1
    return onehot.T @ g.reshape(n, -1)


# -- the model ---------------------------------------------------------------------------


def forward(p: dict[str, np.ndarray], idx: np.ndarray, cfg: Config):
    """Logits (B, T, V) and what the backward pass needs."""
    B, T = idx.shape
    C, H = cfg.embed_dim, cfg.num_heads
    hd = C // H
    mask = np.triu(np.ones((T, T), dtype=bool), k=1)
    caches = []
    x = p["token_embedding.weight"][idx] + p["position_embedding.weight"][:T]  # (B, T, C)
    for i in range(cfg.num_layers):
        b = f"blocks.{i}."
        h, ln1 = layer_norm(x, p[b + "ln1.gamma"], p[b + "ln1.beta"])
        heads = []
        for proj in ("q_proj", "k_proj", "v_proj"):
            t = linear(h, p[b + f"attn.{proj}.weight"], p[b + f"attn.{proj}.bias"])
            heads.append(t.reshape(B, T, H, hd).transpose(0, 2, 1, 3))  # (B, H, T, hd)
        y, att = attention(*heads, mask)
        y = y.transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C)
        x = x + linear(y, p[b + "attn.out_proj.weight"], p[b + "attn.out_proj.bias"])
        h2, ln2 = layer_norm(x, p[b + "ln2.gamma"], p[b + "ln2.beta"])
        a = linear(h2, p[b + "mlp.linear1.weight"], p[b + "mlp.linear1.bias"])  # (B, T, 4C)
        act, gel = gelu(a)
        x = x + linear(act, p[b + "mlp.linear2.weight"], p[b + "mlp.linear2.bias"])
        caches.append((h, ln1, y, att, h2, ln2, act, gel))
    xf, lnf = layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"])
    logits = linear(xf, p["lm_head.weight"], None)  # (B, T, V)
    return logits, (idx, caches, xf, lnf)


def backward(p: dict[str, np.ndarray], dlogits: np.ndarray, state, cfg: Config):
    """Gradients of every parameter, given d loss / d logits (B, T, V)."""
    idx, caches, xf, lnf = state
    B, T = idx.shape
    C, H = cfg.embed_dim, cfg.num_heads
    hd = C // H
    grads: dict[str, np.ndarray] = {}
    dxf, grads["lm_head.weight"], _ = linear_backward(dlogits, xf, p["lm_head.weight"], False)
    dx, grads["ln_f.gamma"], grads["ln_f.beta"] = layer_norm_backward(dxf, lnf)
    for i in reversed(range(cfg.num_layers)):
        b = f"blocks.{i}."
        h, ln1, y, att, h2, ln2, act, gel = caches[i]
        dact, grads[b + "mlp.linear2.weight"], grads[b + "mlp.linear2.bias"] = linear_backward(
            dx, act, p[b + "mlp.linear2.weight"], True
        )
        da = gelu_backward(dact, gel)
        dh2, grads[b + "mlp.linear1.weight"], grads[b + "mlp.linear1.bias"] = linear_backward(
            da, h2, p[b + "mlp.linear1.weight"], True
        )
        dln2, grads[b + "ln2.gamma"], grads[b + "ln2.beta"] = layer_norm_backward(dh2, ln2)
        dx = dx + dln2
        dy, grads[b + "attn.out_proj.weight"], grads[b + "attn.out_proj.bias"] = linear_backward(
            dx, y, p[b + "attn.out_proj.weight"], True
        )
        dy = dy.reshape(B, T, H, hd).transpose(0, 2, 1, 3)  # (B, H, T, hd)
        dq, dk, dv = attention_backward(dy, att)
        dh = np.zeros_like(h)
        for proj, dt in zip(("q_proj", "k_proj", "v_proj"), (dq, dk, dv)):
            dt = dt.transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C)
            dhp, grads[b + f"attn.{proj}.weight"], grads[b + f"attn.{proj}.bias"] = linear_backward(
                dt, h, p[b + f"attn.{proj}.weight"], True
            )
            dh += dhp
        dln1, grads[b + "ln1.gamma"], grads[b + "ln1.beta"] = layer_norm_backward(dh, ln1)
        dx = dx + dln1
    grads["token_embedding.weight"] = embedding_backward(idx, dx, cfg.vocab_size)
    wpe = np.zeros_like(p["position_embedding.weight"])
    wpe[:T] = dx.sum(0)
    grads["position_embedding.weight"] = wpe
    return grads


def loss_and_grads(p: dict[str, np.ndarray], idx: np.ndarray, targets: np.ndarray, cfg: Config):
    """Mean cross-entropy of the next-token predictions and every parameter's gradient."""
    logits, state = forward(p, idx, cfg)
    B, T, V = logits.shape
    loss, dlogits = cross_entropy(logits.reshape(B * T, V), targets.reshape(-1))
    return loss, backward(p, dlogits.reshape(B, T, V), state, cfg)


class AdamW:
    """AdamW with in-place updates, the arithmetic of torch.optim.AdamW."""

    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        self.params, self.lr, self.betas, self.eps, self.wd = params, lr, betas, eps, weight_decay
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter."""
        self.t += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1**self.t, math.sqrt(1 - b2**self.t)
        for k, p in self.params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            p *= 1 - self.lr * self.wd
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / bc1) * m / (np.sqrt(v) / bc2 + self.eps)
