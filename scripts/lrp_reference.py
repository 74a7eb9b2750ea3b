#!/usr/bin/python3
"""Reference LRP relevance maps for lrpx's parity test (tests/test_lrp.c).

This is NOT Zennit and its output is NOT Zennit's output: Zennit cannot be
installed here (no PyPI). It is an independent re-implementation, in PyTorch
and float64, of the rule and composite *definitions* Zennit publishes
(zennit/rules.py, zennit/core.py, zennit/composites.py, zennit/canonizers.py),
written the way Zennit computes them: every linear layer gets a "hook" that,
on the backward pass, re-runs the layer on modified inputs with modified
parameters, maps the incoming relevance through a stabilised division and
reduces the resulting input gradients (Zennit's BasicHook scheme). lrpx
computes the same quantities with its own C kernels, so agreement between
the two checks lrpx's rules, composites, canonizers and graph handling
against an implementation that shares no code with it.

The ONNX graph is executed by a small PyTorch interpreter (the ops the small
zoo models and the bundled Fashion-MNIST CNN use). Definitions:

  linear layers (Conv, Gemm)  the composite's rule (below), Zennit's defaults:
                              epsilon 1e-6, gamma 0.25, stabiliser 1e-6
  Relu, Clip                  Pass (relevance unchanged)
  Add of two activations,     Norm: R_i = x_i R / stab(out)
  AveragePool, GlobalAvgPool
  MaxPool                     the plain gradient (PyTorch routes it to the
                              first maximum of each window)
  Concat, Flatten, Pad        the plain gradient (pure data movement)
  BatchNormalization          merged into the Conv/Gemm before it when that
                              layer's output has no other reader (Zennit's
                              SequentialMergeBatchNorm); other BN nodes are
                              not supported here
  LRP-0 ("zero")              epsilon 0, with 0 where z = 0 (lrpx's
                              convention; Zennit would divide by zero there)

Composites (first = the first linear layer in the file's node order):

  epsilon_plus               Conv zplus,         Gemm epsilon
  epsilon_plus_flat          first flat, Conv zplus, Gemm epsilon
  epsilon_alpha2_beta1       Conv alphabeta 2,1, Gemm epsilon
  epsilon_alpha2_beta1_flat  first flat, Conv alphabeta 2,1, Gemm epsilon
  epsilon_gamma_box          first Conv zbox(low, high), Conv gamma, Gemm epsilon
  lrp0                       zero everywhere
  epsilon                    epsilon everywhere

The explained output is the predicted class (float64 arg max) of each
sample, seeded with its logit (one-hot times the logit), as lrpx does.

Writes testdata/expected/lrp/<model>__<composite>[_<i>].npy (float32, the
input relevance) and testdata/expected/lrp/index.json (what was written,
with the class, logit and relevance sum of each map). Run:

  /usr/bin/python3 scripts/lrp_reference.py            # everything
  /usr/bin/python3 scripts/lrp_reference.py --list     # what it would write
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "testdata", "expected", "lrp")

EPSILON = 1e-6
GAMMA = 0.25
STAB = 1e-6

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])

ALL_COMPOSITES = ["epsilon_plus", "epsilon_plus_flat", "epsilon_alpha2_beta1",
                  "epsilon_alpha2_beta1_flat", "epsilon_gamma_box", "lrp0", "epsilon"]
ZOO_COMPOSITES = ["epsilon_plus_flat", "epsilon_alpha2_beta1", "epsilon_gamma_box"]

# (model file under testdata/models, inputs, composites, zbox bounds)
JOBS = [
    ("fmnist_cnn.onnx", ["images/fmnist_0_ankle_boot.npy", "images/fmnist_3_shirt.npy"],
     ALL_COMPOSITES, (0.0, 1.0)),
] + [
    ("zoo_small/%s.onnx" % m, ["models/zoo_small/%s.input.npy" % m], ZOO_COMPOSITES, "imagenet")
    for m in ("alexnet_tiny", "resnet_tiny", "resnet_tiny_bn", "googlenet_tiny",
              "squeezenet_tiny", "mobilenet_v2_tiny")
]


def stab(z, eps=STAB):
    """z + eps * sign(z) with sign(0) = +1."""
    return z + eps * ((z >= 0).to(z) * 2 - 1)


# --------------------------------------------------------------------------
# Rules: each returns R_in from (layer, x, R) in the BasicHook manner:
# modified inputs and parameters -> outputs -> mapped relevance -> autograd
# input gradients -> reduction.
# --------------------------------------------------------------------------

def _hook(layer, x, R, variants, mapper, reducer):
    inputs, outputs = [], []
    with torch.enable_grad():
        for in_mod, w_mod, b_mod in variants:
            xi = in_mod(x).detach().requires_grad_(True)
            w = w_mod(layer.W)
            b = None if layer.b is None else b_mod(layer.b)
            outputs.append(layer.fn(xi, w, b))
            inputs.append(xi)
        grad_outs = mapper(R, outputs)
        keep = [i for i, g in enumerate(grad_outs) if g is not None]
        grads = torch.autograd.grad([outputs[i] for i in keep], [inputs[i] for i in keep],
                                    grad_outputs=[grad_outs[i] for i in keep])
    full = [None] * len(inputs)
    for i, g in zip(keep, grads):
        full[i] = g
    return reducer(inputs, full)


def ident(t):
    return t


def pos(t):
    return t.clamp(min=0)


def neg(t):
    return t.clamp(max=0)


def zero(t):
    return torch.zeros_like(t)


def rule_epsilon(layer, x, R, eps, zero_bias):
    bm = zero if zero_bias else ident
    if eps == 0.0:
        def mapper(R, o):
            z = o[0]
            return [torch.where(z != 0, R / torch.where(z != 0, z, torch.ones_like(z)),
                                torch.zeros_like(z))]
    else:
        def mapper(R, o):
            return [R / stab(o[0], eps)]
    return _hook(layer, x, R, [(ident, ident, bm)], mapper, lambda i, g: i[0] * g[0])


def rule_alphabeta(layer, x, R, alpha, beta, zero_bias):
    bp = zero if zero_bias else pos
    bn = zero if zero_bias else neg
    variants = [(pos, pos, bp), (neg, neg, zero), (pos, neg, bn), (neg, pos, zero)]

    def mapper(R, o):
        p = R / stab(o[0] + o[1])
        n = R / stab(o[2] + o[3])
        return [p, p, n, n]

    def reducer(i, g):
        return (alpha * (i[0] * g[0] + i[1] * g[1])
                - beta * (i[2] * g[2] + i[3] * g[3]))
    return _hook(layer, x, R, variants, mapper, reducer)


def rule_gamma(layer, x, R, gamma, zero_bias):
    def gp(t):
        return t + gamma * t.clamp(min=0)

    def gn(t):
        return t + gamma * t.clamp(max=0)
    bgp = zero if zero_bias else gp
    bgn = zero if zero_bias else gn
    variants = [(pos, gp, bgp), (neg, gn, zero), (pos, gn, bgn), (neg, gp, zero),
                (ident, ident, ident)]

    def mapper(R, o):
        p = (o[4] > 0).to(R) * R / stab(o[0] + o[1])
        n = (o[4] < 0).to(R) * R / stab(o[2] + o[3])
        return [p, p, n, n, None]

    def reducer(i, g):
        return sum(i[k] * g[k] for k in range(4))
    return _hook(layer, x, R, variants, mapper, reducer)


def rule_zbox(layer, x, R, low, high, zero_bias):
    bm = zero if zero_bias else ident
    bp = zero if zero_bias else pos
    bn = zero if zero_bias else neg
    lo = low.expand_as(x) if torch.is_tensor(low) else torch.full_like(x, low)
    hi = high.expand_as(x) if torch.is_tensor(high) else torch.full_like(x, high)
    variants = [(ident, ident, bm), (lambda t: lo, pos, bp), (lambda t: hi, neg, bn)]

    def mapper(R, o):
        d = R / stab(o[0] - o[1] - o[2])
        return [d, d, d]

    def reducer(i, g):
        return i[0] * g[0] - i[1] * g[1] - i[2] * g[2]
    return _hook(layer, x, R, variants, mapper, reducer)


def rule_wsquare(layer, x, R, zero_bias):
    def sq(t):
        return t * t
    return _hook(layer, x, R, [(torch.ones_like, sq, zero if zero_bias else sq)],
                 lambda R, o: [R / stab(o[0])], lambda i, g: g[0])


def rule_flat(layer, x, R, zero_bias):
    return _hook(layer, x, R, [(torch.ones_like, torch.ones_like, zero)],
                 lambda R, o: [R / stab(o[0])], lambda i, g: g[0])


class LinearLRP(torch.autograd.Function):
    """Forward: the layer. Backward: the layer's rule on the incoming relevance."""

    @staticmethod
    def forward(ctx, x, layer):
        ctx.layer = layer
        ctx.save_for_backward(x)
        return layer.fn(x, layer.W, layer.b)

    @staticmethod
    def backward(ctx, R):
        (x,) = ctx.saved_tensors
        layer = ctx.layer
        r = layer.rule
        name = r[0]
        zb = layer.zero_bias
        if name == "epsilon":
            out = rule_epsilon(layer, x, R, r[1], zb)
        elif name == "zero":
            out = rule_epsilon(layer, x, R, 0.0, zb)
        elif name == "alphabeta":
            out = rule_alphabeta(layer, x, R, r[1], r[2], zb)
        elif name == "zplus":
            out = rule_alphabeta(layer, x, R, 1.0, 0.0, zb)
        elif name == "gamma":
            out = rule_gamma(layer, x, R, r[1], zb)
        elif name == "zbox":
            out = rule_zbox(layer, x, R, r[1], r[2], zb)
        elif name == "wsquare":
            out = rule_wsquare(layer, x, R, zb)
        elif name == "flat":
            out = rule_flat(layer, x, R, zb)
        else:
            raise ValueError(name)
        return out, None


class PassFn(torch.autograd.Function):
    """Element-wise activation: relevance passes unchanged."""

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, R):
        return R, None


class NormFn(torch.autograd.Function):
    """Sum-like op out = g(x): R_x = x * grad(g, x, R / stab(out))."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.fn = fn
        ctx.save_for_backward(x)
        return fn(x)

    @staticmethod
    def backward(ctx, R):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xi = x.detach().requires_grad_(True)
            out = ctx.fn(xi)
            (g,) = torch.autograd.grad(out, xi, grad_outputs=R / stab(out))
        return xi.detach() * g, None


class AddNorm(torch.autograd.Function):
    """Residual Add: R_a = a R / stab(a + b), R_b = b R / stab(a + b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b

    @staticmethod
    def backward(ctx, R):
        a, b = ctx.saved_tensors
        s = R / stab(a + b)
        return a * s, b * s


# --------------------------------------------------------------------------
# A small ONNX interpreter in float64
# --------------------------------------------------------------------------

class Layer:
    pass


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv_fn(a, n_sp):
    pads = list(a.get("pads", [0] * (2 * n_sp)))
    strides = list(a.get("strides", [1] * n_sp))
    dil = list(a.get("dilations", [1] * n_sp))
    group = a.get("group", 1)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    # F.pad takes the last axis first: (left, right, top, bottom)
    fpad = []
    for k in reversed(range(n_sp)):
        fpad += [pads[k], pads[k + n_sp]]

    def fn(x, w, b):
        if any(fpad):
            x = F.pad(x, fpad)
        return F.conv2d(x, w, b, stride=strides, dilation=dil, groups=group)
    return fn


def gemm_fn(a):
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise NotImplementedError("Gemm alpha/beta/transA")
    tb = a.get("transB", 0)

    def fn(x, w, b):
        y = x @ (w.t() if tb else w)
        return y if b is None else y + b
    return fn


# Floating-point type of the interpreter: float64 for the references;
# scripts/bench.py sets float32 to time the same computation as a peer.
NP_FLOAT = np.float64


def load_graph(path):
    m = onnx.load(path)
    consts = {i.name: torch.from_numpy(numpy_helper.to_array(i).astype(NP_FLOAT)
                                       if numpy_helper.to_array(i).dtype.kind == "f"
                                       else numpy_helper.to_array(i).copy())
              for i in m.graph.initializer}
    nodes = list(m.graph.node)
    for n in nodes:     # constants made by nodes (Constant, Identity of a weight)
        if n.op_type == "Constant":
            v = numpy_helper.to_array(attrs(n)["value"])
            consts[n.output[0]] = torch.from_numpy(v.astype(NP_FLOAT) if v.dtype.kind == "f"
                                                   else v.copy())
        elif n.op_type == "Identity" and n.input[0] in consts:
            consts[n.output[0]] = consts[n.input[0]]
    consumers = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    graph_outputs = {o.name for o in m.graph.output}
    return m, nodes, consts, consumers, graph_outputs


def build(path, composite, low, high, zero_bias=False):
    """Layers (with their rules) and the node list, BN merged into the layer before."""
    m, nodes, consts, consumers, graph_outputs = load_graph(path)
    layers = {}
    merged_bn = set()
    for n in nodes:
        if n.op_type in ("Conv", "Gemm"):
            a = attrs(n)
            L = Layer()
            L.W = consts[n.input[1]].clone()
            L.b = consts[n.input[2]].clone() if len(n.input) > 2 and n.input[2] else None
            L.fn = conv_fn(a, L.W.dim() - 2) if n.op_type == "Conv" else gemm_fn(a)
            L.out = n.output[0]
            L.zero_bias = zero_bias
            users = consumers.get(n.output[0], [])
            if (len(users) == 1 and users[0].op_type == "BatchNormalization"
                    and n.output[0] not in graph_outputs):
                bn = users[0]
                ba = attrs(bn)
                scale, shift, mean, var = (consts[i] for i in bn.input[1:5])
                a_c = scale / torch.sqrt(var + ba.get("epsilon", 1e-5))
                shape = [-1] + [1] * (L.W.dim() - 1)
                if n.op_type == "Gemm" and not a.get("transB", 0):
                    L.W = L.W * a_c[None, :]
                else:
                    L.W = L.W * a_c.reshape(shape)
                b0 = L.b if L.b is not None else torch.zeros_like(mean)
                L.b = (b0 - mean) * a_c + shift
                L.out = bn.output[0]
                merged_bn.add(bn.name or id(bn))
            layers[id(n)] = L
    # composite
    lin = [n for n in nodes if id(n) in layers]
    first_any = lin[0] if lin else None
    first_conv = next((n for n in lin if n.op_type == "Conv"), None)
    for n in lin:
        L = layers[id(n)]
        conv = n.op_type == "Conv"
        if composite == "lrp0":
            L.rule = ("zero",)
        elif composite == "epsilon":
            L.rule = ("epsilon", EPSILON)
        elif not conv:
            L.rule = ("epsilon", EPSILON)
        elif composite.startswith("epsilon_plus"):
            L.rule = ("zplus",)
        elif composite.startswith("epsilon_alpha2_beta1"):
            L.rule = ("alphabeta", 2.0, 1.0)
        elif composite == "epsilon_gamma_box":
            L.rule = ("gamma", GAMMA)
        else:
            raise ValueError(composite)
        if composite.endswith("_flat") and n is first_any:
            L.rule = ("flat",)
        if composite == "epsilon_gamma_box" and n is first_conv:
            L.rule = ("zbox", low, high)
    return m, nodes, consts, layers, merged_bn


def run(path, x_np, composite, low, high):
    return run_built(build(path, composite, low, high), x_np)


def run_built(built, x_np):
    """One explanation with the layers of build(): forward, seed, backward."""
    m, nodes, consts, layers, merged_bn = built
    x = torch.from_numpy(x_np.astype(NP_FLOAT)).requires_grad_(True)
    vals = dict(consts)
    vals[m.graph.input[0].name] = x
    for n in nodes:
        a = attrs(n)
        t = n.op_type
        if t == "BatchNormalization":
            if (n.name or id(n)) in merged_bn:
                continue
            raise NotImplementedError("BatchNormalization not after a Conv/Gemm")
        ins = [vals[i] if i else None for i in n.input]
        if id(n) in layers:
            L = layers[id(n)]
            vals[L.out] = LinearLRP.apply(ins[0], L)
            continue
        if t == "Relu":
            y = PassFn.apply(ins[0], F.relu)
        elif t == "Clip":
            lo = ins[1].item() if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
            hi = ins[2].item() if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
            y = PassFn.apply(ins[0], lambda v, lo=lo, hi=hi: v.clamp(lo, hi))
        elif t == "Identity":
            y = ins[0]
        elif t == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
            if y.dtype.is_floating_point:
                y = y.to(torch.from_numpy(np.zeros(1, NP_FLOAT)).dtype)
        elif t == "MaxPool":
            k = list(a["kernel_shape"])
            p = list(a.get("pads", [0] * 2 * len(k)))
            if p[:len(k)] != p[len(k):]:
                raise NotImplementedError("asymmetric MaxPool pads")
            y = F.max_pool2d(ins[0], k, stride=list(a.get("strides", k)), padding=p[:len(k)],
                             dilation=list(a.get("dilations", [1] * len(k))),
                             ceil_mode=bool(a.get("ceil_mode", 0)))
        elif t == "AveragePool":
            k = list(a["kernel_shape"])
            p = list(a.get("pads", [0] * 2 * len(k)))
            if p[:len(k)] != p[len(k):]:
                raise NotImplementedError("asymmetric AveragePool pads")
            fn = (lambda v, k=k, a=a, p=p: F.avg_pool2d(
                v, k, stride=list(a.get("strides", k)), padding=p[:len(k)],
                ceil_mode=bool(a.get("ceil_mode", 0)),
                count_include_pad=bool(a.get("count_include_pad", 0))))
            y = NormFn.apply(ins[0], fn)
        elif t == "GlobalAveragePool":
            y = NormFn.apply(ins[0], lambda v: v.mean(dim=(2, 3), keepdim=True))
        elif t == "Add":
            if ins[0].requires_grad and ins[1].requires_grad:
                y = AddNorm.apply(ins[0], ins[1])
            else:
                raise NotImplementedError("Add with a constant")
        elif t == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif t == "Concat":
            y = torch.cat(ins, dim=a["axis"])
        elif t == "Pad":
            mode = a.get("mode", b"constant")
            pads = [int(v) for v in ins[1].tolist()]
            cval = ins[2].item() if len(ins) > 2 and ins[2] is not None else 0.0
            r = len(pads) // 2
            fp = []
            for k in reversed(range(r)):
                fp += [pads[k], pads[k + r]]
            if mode not in (b"constant", "constant"):
                raise NotImplementedError("Pad mode")
            y = F.pad(ins[0], fp, value=cval)
        else:
            raise NotImplementedError(t)
        vals[n.output[0]] = y
    out = vals[m.graph.output[0].name]
    logits = out.detach()
    cls = logits.argmax(dim=1)
    seed = torch.zeros_like(logits)
    for b in range(logits.shape[0]):
        seed[b, cls[b]] = logits[b, cls[b]]
    out.backward(seed)
    return (x.grad.numpy().astype(np.float32), [int(c) for c in cls],
            [float(logits[b, cls[b]]) for b in range(logits.shape[0])])


def bounds(spec, x):
    if spec == "imagenet":
        low = torch.from_numpy(((0.0 - IMAGENET_MEAN) / IMAGENET_STD).reshape(1, 3, 1, 1))
        high = torch.from_numpy(((1.0 - IMAGENET_MEAN) / IMAGENET_STD).reshape(1, 3, 1, 1))
        return low, high, [list(((0.0 - IMAGENET_MEAN) / IMAGENET_STD)),
                           list(((1.0 - IMAGENET_MEAN) / IMAGENET_STD))]
    lo, hi = spec
    return lo, hi, [lo, hi]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the jobs and exit")
    ap.add_argument("--out-dir", default=OUT_DIR)
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out_dir, exist_ok=True)
    index = []
    for model, inputs, comps, bspec in JOBS:
        mpath = os.path.join(ROOT, "testdata", "models", model)
        stem = os.path.splitext(os.path.basename(model))[0]
        for k, inp in enumerate(inputs):
            x = np.load(os.path.join(ROOT, "testdata", inp)).astype(np.float32)
            if x.ndim == 3:
                x = x[None]
            low, high, bjson = bounds(bspec, x)
            for comp in comps:
                suffix = "_%d" % k if len(inputs) > 1 else ""
                fname = "%s__%s%s.npy" % (stem, comp, suffix)
                if args.list:
                    print(fname)
                    continue
                rel, cls, logit = run(mpath, x, comp, low, high)
                np.save(os.path.join(args.out_dir, fname), rel)
                index.append({"file": fname, "model": "models/" + model, "input": inp,
                              "composite": comp, "class": cls[0], "logit": logit[0],
                              "relevance_sum": float(rel.astype(np.float64).sum()),
                              "low": bjson[0], "high": bjson[1]})
                print("%-44s class %d logit %.5f sum %.5f" % (fname, cls[0], logit[0],
                                                             rel.astype(np.float64).sum()))
    if not args.list:
        with open(os.path.join(args.out_dir, "index.json"), "w") as f:
            json.dump({"generator": "scripts/lrp_reference.py",
                       "note": "independent re-implementation of Zennit's rule definitions; "
                               "not Zennit's output",
                       "torch": torch.__version__, "maps": index}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
