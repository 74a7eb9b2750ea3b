#!/usr/bin/python3
"""Float64 PyTorch reference of AttnLRP and CP-LRP for lrpx's transformer
tests (tests/test_transformers.c). Not lrpx's code and not LXT's: the rules
of docs/transformers.md written as modified gradients on the PyTorch models
of scripts/transformer_models.py (the same weights as the bundled ONNX
files, from NAME.npz), then R = x * g at the input.

AttnLRP (seed one_hot(t), R at the logits = the logit):
  - after every epsilon-type step with output z the incoming gradient is
    multiplied by z / stab(z), stab(d) = d + e sign(d), sign(0) = +1: linear
    layers (Conv, Linear; z with the bias, e = eps), the position-embedding
    Add, the residual Adds, the token mean and the LayerNorm (e = stab);
  - a product of two activations (q k^T, attn v): by 1/2 z / stab(z), then
    the plain gradient to both operands (the uniform rule);
  - LayerNorm: y = (x - mean(x)) / sigma * gamma + beta with sigma detached;
  - Softmax: its plain gradient (that is AttnLRP's rule);
  - GELU, Tanh, ReLU: g_x = g_y * f(x) / x (the identity rule), 0 at x = 0;
  - the scale Mul, reshapes, Split, Gather, Concat: plain gradients.
CP-LRP: the plain gradient x input with the attention Softmax output
detached and sigma detached in every LayerNorm.

    /usr/bin/python3 scripts/transformer_reference.py      # writes everything

Writes testdata/expected/transformers/<model>_op<k>__<config>_<i>.npy
(float32, the input relevance, the input's shape) and index.json listing
each with the lrpx options that must reproduce it (composite, rule
overrides, stabiliser), the class and the logit.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "testdata", "models", "transformers")
OUT = os.path.join(ROOT, "testdata", "expected", "transformers")

# config: (composite, eps of the linear layers, stabiliser, lrpx rule
# overrides, lrpx --stabilizer or None)
CONFIGS = {
    "attn_lrp":          ("attn_lrp", 1e-6, 1e-6, [], None),
    "attn_lrp_eps_lin":  ("attn_lrp", 0.01, 1e-6, ["*=epsilon:0.01"], None),
    "attn_lrp_eps_all":  ("attn_lrp", 0.01, 0.01, ["linear=epsilon:0.01"], 0.01),
    "cp_lrp":            ("cp_lrp", 0.0, 0.0, [], None),
}
# model: (inputs, configs)
VIT_INPUTS = ["images/fmnist_0_ankle_boot.npy", "images/fmnist_1_pullover.npy",
              "images/fmnist_6_sneaker.npy"]
BERT_INPUTS = [f"models/transformers/bert_text_{i}.npy" for i in range(3)]
PLAN = {
    "vit_cls":         (VIT_INPUTS, list(CONFIGS)),
    "vit_mean":        (VIT_INPUTS[:2], ["attn_lrp", "cp_lrp", "attn_lrp_eps_all"]),
    "vit_nobias":      (VIT_INPUTS[:1], ["attn_lrp", "cp_lrp"]),
    "vit_nobias_relu": (VIT_INPUTS[:1], ["attn_lrp", "cp_lrp"]),
    "bert":            (BERT_INPUTS, list(CONFIGS)),
}


def sgn(d):
    return torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))


class ScaleGrad(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by k * z / stab_e(z)."""

    @staticmethod
    def forward(ctx, z, e, k):
        ctx.save_for_backward(z)
        ctx.e, ctx.k = e, k
        return z.clone()

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * ctx.k * z / (z + ctx.e * sgn(z)), None, None


class IdentityRule(torch.autograd.Function):
    """y = f(x) forward; backward g * y / x (relevance passes unchanged)."""

    @staticmethod
    def forward(ctx, x, name):
        y = tm.ACTS[name](x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        safe = torch.where(x == 0, torch.ones_like(x), x)
        return torch.where(x == 0, torch.zeros_like(x), g * y / safe), None


def attn_lrp_hooks(eps, stab):
    def layer_norm(x, w, b, e):
        mu = x.mean(-1, keepdim=True)
        sigma = torch.sqrt(((x - mu) ** 2).mean(-1, keepdim=True) + e).detach()
        y = (x - mu) / sigma * w
        if b is not None:
            y = y + b
        return ScaleGrad.apply(y, stab, 1.0)

    return {
        "linear": lambda z: ScaleGrad.apply(z, eps, 1.0),
        "add": lambda y: ScaleGrad.apply(y, stab, 1.0),
        "mean": lambda y: ScaleGrad.apply(y, stab, 1.0),
        "matmul": lambda a, b: ScaleGrad.apply(torch.matmul(a, b), stab, 0.5),
        "softmax": lambda s: torch.softmax(s, -1),
        "act": lambda x, name: IdentityRule.apply(x, name),
        "layer_norm": layer_norm,
    }


def cp_lrp_hooks():
    def layer_norm(x, w, b, e):
        mu = x.mean(-1, keepdim=True)
        sigma = torch.sqrt(((x - mu) ** 2).mean(-1, keepdim=True) + e).detach()
        y = (x - mu) / sigma * w
        return y + b if b is not None else y

    return {
        "softmax": lambda s: torch.softmax(s, -1).detach(),
        "layer_norm": layer_norm,
    }


def load(name):
    make, family = tm.MODELS[name]
    torch.manual_seed(0)
    model = make()
    w = np.load(os.path.join(MODELS, f"{name}.npz"))
    state = {k: torch.from_numpy(w[k]) for k in model.state_dict()}
    model.load_state_dict(state)
    return model.double().eval(), family


def relevance(model, x, config):
    composite, eps, stab, _, _ = CONFIGS[config]
    tm.HOOKS.clear()
    tm.HOOKS.update(attn_lrp_hooks(eps, stab) if composite == "attn_lrp" else cp_lrp_hooks())
    try:
        xin = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
        logits = model(xin)
        t = int(logits[0].argmax())
        (g,) = torch.autograd.grad(logits[0, t], xin)
        return (xin.detach() * g).numpy(), t, float(logits[0, t])
    finally:
        tm.HOOKS.clear()


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    index = {"note": "made by scripts/transformer_reference.py (float64 PyTorch, modified "
                     "gradients); lrpx must match within 1e-4 relative L2", "maps": []}
    for name, (inputs, configs) in PLAN.items():
        model, family = load(name)
        for i, inp in enumerate(inputs):
            x = np.load(os.path.join(ROOT, "testdata", inp)).astype(np.float32)
            if x.ndim == 3 and family == "vit":
                x = x[None]
            with torch.no_grad():
                plain = model(torch.from_numpy(x.astype(np.float64)))
            for config in configs:
                r, t, logit = relevance(model, x, config)
                assert t == int(plain[0].argmax())
                composite, eps, stab, rules, stabilizer = CONFIGS[config]
                for opset in tm.OPSETS:
                    fname = f"{name}_op{opset}__{config}_{i}.npy"
                    np.save(os.path.join(OUT, fname), r.astype(np.float32))
                    index["maps"].append({
                        "file": fname, "model": f"models/transformers/{name}_op{opset}.onnx",
                        "input": inp, "composite": composite, "rules": rules,
                        "stabilizer": stabilizer, "class": t, "logit": logit,
                        "relevance_sum": float(r.sum())})
                print(f"{name} input {i} {config:18s} class {t} logit {logit:+.4f} "
                      f"sum R {r.sum():+.4f}")
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
