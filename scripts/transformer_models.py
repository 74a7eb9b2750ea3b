"""The small transformer models lrpx bundles for its transformer LRP tests.

Imported by scripts/train_transformers.py (training and ONNX export) and by
scripts/transformer_reference.py (the float64 reference of AttnLRP and
CP-LRP). Plain PyTorch modules, written so that torch 1.13's exporter emits
the node patterns docs/transformers.md describes:

  ViT (Fashion-MNIST, 28x28 -> 16 patches of 7x7, dim 32, 4 heads, 2 pre-LN
  blocks, MLP 64 with GELU): Conv patch embedding -> Reshape -> Transpose,
  Concat of a CLS initializer (pool "cls") or none (pool "mean"), Add of the
  position embedding, per block LN -> qkv MatMul+Add -> Split -> Reshape ->
  Transpose (k transposed in one Transpose) -> q * scale -> q k^T -> Softmax
  -> attn v -> Transpose -> Reshape -> proj MatMul+Add -> residual Add, LN
  -> fc1 -> GELU (Div/Erf/Add/Mul/Mul) -> fc2 -> residual Add; a final LN,
  Gather of token 0 (cls) or ReduceMean over the tokens (mean), Gemm head.

  BERT-style encoder (input: the embedded token sequence [1, 12, 32]):
  position embedding Add, embedding LN (eps 1e-12), 2 post-LN blocks, a
  pooler Gather(0) -> Gemm -> Tanh, a classifier Gemm.

Every module takes a `mode` at call time for the reference implementation:
"plain" (the model itself), "attn_lrp" or "cp_lrp" (see
transformer_reference.py); only "plain" is exported.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# Hooks of the reference (transformer_reference.py sets them); the plain
# model uses the identities below.
HOOKS = {}


def hook(name, *args):
    """The reference's version of a step, or the step itself."""
    fn = HOOKS.get(name)
    if fn:
        return fn(*args)
    if name == "matmul":
        return torch.matmul(*args)
    if name == "softmax":
        return torch.softmax(args[0], -1)
    if name == "act":                   # (x, "gelu" | "relu" | "tanh")
        return ACTS[args[1]](args[0])
    return args[0]


ACTS = {"gelu": F.gelu, "relu": F.relu, "tanh": torch.tanh}


class LayerNorm(nn.Module):
    """F.layer_norm with an optional bias (torch 1.13's nn.LayerNorm always
    has one). Exports as LayerNormalization at opset 17 (B = "" without
    bias) and as the ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul(/Add)
    pattern below."""

    def __init__(self, dim, eps, bias=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        if HOOKS.get("layer_norm"):
            return HOOKS["layer_norm"](x, self.weight, self.bias, self.eps)
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def linear(layer, x):
    y = layer(x)
    return hook("linear", y)


class Attention(nn.Module):
    def __init__(self, dim, heads, bias=True):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)

    def forward(self, x):
        t, c = x.shape[1], x.shape[2]
        h, d = self.heads, c // self.heads
        q, k, v = linear(self.qkv, x).split(c, dim=-1)
        q = q.reshape(-1, t, h, d).permute(0, 2, 1, 3)
        k = k.reshape(-1, t, h, d).permute(0, 2, 3, 1)      # k^T in one Transpose
        v = v.reshape(-1, t, h, d).permute(0, 2, 1, 3)
        q = q * self.scale
        scores = hook("matmul", q, k)
        attn = hook("softmax", scores)
        out = hook("matmul", attn, v)
        out = out.permute(0, 2, 1, 3).reshape(-1, t, c)
        return linear(self.proj, out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden, act, bias=True):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=bias)
        self.fc2 = nn.Linear(hidden, dim, bias=bias)
        self.act = act

    def forward(self, x):
        h = linear(self.fc1, x)
        h = hook("act", h, self.act)
        return linear(self.fc2, h)


def residual(a, b):
    return hook("add", a + b)


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, eps, act, bias, post_ln):
        super().__init__()
        self.post_ln = post_ln
        self.ln1 = LayerNorm(dim, eps, bias)
        self.attn = Attention(dim, heads, bias)
        self.ln2 = LayerNorm(dim, eps, bias)
        self.mlp = Mlp(dim, hidden, act, bias)

    def forward(self, x):
        if self.post_ln:                                     # BERT
            x = self.ln1(residual(x, self.attn(x)))
            return self.ln2(residual(x, self.mlp(x)))
        x = residual(x, self.attn(self.ln1(x)))              # ViT
        return residual(x, self.mlp(self.ln2(x)))


class ViT(nn.Module):
    """pool "cls" or "mean"; bias False: no biases anywhere, no LN beta, no
    position embedding, no CLS token (a bias-free network)."""

    def __init__(self, pool="cls", bias=True, act="gelu", dim=32, heads=4, hidden=64,
                 depth=2, patch=7, image=28, classes=10):
        super().__init__()
        self.pool, self.bias = pool, bias
        n = (image // patch) ** 2
        self.patch = nn.Conv2d(1, dim, patch, stride=patch, bias=bias)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02) if pool == "cls" else None
        self.pos = (nn.Parameter(torch.randn(1, n + (pool == "cls"), dim) * 0.02)
                    if bias else None)
        self.blocks = nn.ModuleList(
            [Block(dim, heads, hidden, 1e-5, act, bias, False) for _ in range(depth)])
        self.norm = LayerNorm(dim, 1e-5, bias)
        self.head = nn.Linear(dim, classes, bias=bias)

    def forward(self, x):
        x = hook("linear", self.patch(x))
        x = x.flatten(2).transpose(1, 2)                     # [1, 16, 32]
        if self.cls is not None:
            x = torch.cat([self.cls, x], 1)                  # batch 1, as exported
        if self.pos is not None:
            x = hook("add", x + self.pos)
        for b in self.blocks:
            x = b(x)
        x = self.norm(x)
        x = x[:, 0] if self.pool == "cls" else hook("mean", x.mean(1))
        return linear(self.head, x)


class Bert(nn.Module):
    """Encoder classifier over an embedded sequence [1, T, dim]."""

    def __init__(self, bias=True, act="gelu", dim=32, heads=4, hidden=64, depth=2,
                 tokens=12, classes=2):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02) if bias else None
        self.ln = LayerNorm(dim, 1e-12, bias)
        self.blocks = nn.ModuleList(
            [Block(dim, heads, hidden, 1e-12, act, bias, True) for _ in range(depth)])
        self.pooler = nn.Linear(dim, dim, bias=bias)
        self.classifier = nn.Linear(dim, classes, bias=bias)

    def forward(self, x):
        if self.pos is not None:
            x = hook("add", x + self.pos)
        x = self.ln(x)
        for b in self.blocks:
            x = b(x)
        p = linear(self.pooler, x[:, 0])
        p = hook("act", p, "tanh")
        return linear(self.classifier, p)


# name: (constructor, family)
MODELS = {
    "vit_cls":         (lambda: ViT("cls"), "vit"),
    "vit_mean":        (lambda: ViT("mean"), "vit"),
    "vit_nobias":      (lambda: ViT("mean", bias=False), "vit"),
    "vit_nobias_relu": (lambda: ViT("mean", bias=False, act="relu"), "vit"),
    "bert":            (lambda: Bert(), "bert"),
}
OPSETS = (14, 17)

# The text model's toy vocabulary: sentiment words decide the class
# (0 negative, 1 positive), the rest is filler.
POSITIVE = ["good", "great", "fine", "lovely", "excellent", "enjoyed", "fun", "superb"]
NEGATIVE = ["bad", "awful", "boring", "poor", "terrible", "hated", "dull", "weak"]
FILLER = ["the", "film", "was", "a", "and", "plot", "acting", "it", "story", "very",
          "quite", "but", "cast", "music", "ending", "i", "this", "movie", "of", "too"]
VOCAB = ["[CLS]"] + POSITIVE + NEGATIVE + FILLER
