#!/usr/bin/python3
"""Float64 references for lrpx's attribution methods (tests/test_methods.c).

This is NOT Captum and its output is NOT Captum's output: Captum cannot be
installed here. It is an independent re-implementation, in PyTorch autograd
and float64, of the definitions Captum 0.8.0 uses for Saliency,
InputXGradient, IntegratedGradients (every quadrature rule), NoiseTunnel
(smoothgrad, smoothgrad_sq, vargrad over given noise), Occlusion,
FeatureAblation, Deconvolution and GuidedBackprop, as written down in
/work/shared/specs/captum-methods.md. lrpx computes the same quantities with
its own C code in float32; the test asks for 1e-4 relative L2.

The ONNX graph runs in a small float64 PyTorch interpreter (the ops of the
bundled models). Two details decide the numbers on inputs with constant
regions and are implemented here explicitly rather than left to PyTorch's
float64 kernels:

  MaxPool  the whole gradient of a window goes to its FIRST maximal element
           (row-major), and "maximal" means equal to the maximum in exact
           arithmetic: values within 1e-11 (relative) of the window's
           maximum count as ties, so 1-ulp differences of float64
           convolutions over constant regions do not pick another element.
           This is what float32 PyTorch (and so Captum) does on such
           inputs, where equal patches give bit-identical convolutions.
  Relu     derivative 1 where the input is > 0, else 0; deconvnet passes
           max(0, g), guided backprop max(0, g * 1[x > 0]) at every Relu.

Everything else is float64 autograd, except the inputs Captum itself makes
in float32 before they reach the model: the path points of integrated
gradients, fl(b + fl(alpha * fl(x - b))), and the noisy copies of the noise
tunnel, fl(x + e). The quadrature points are Captum's float32 values, made
the way Captum makes them: numpy's leggauss for Gauss-Legendre,
torch.linspace in float32 for the Riemann rules (with Captum's bounds and
weights, including its trapezoid weights that sum to (n-1)/n).

The explained class is the float64 arg max of the logits (or the case's
target). Writes testdata/expected/methods/<case>.npy (float32, the
attribution) and testdata/expected/methods/index.json (every case with its
settings, class, score and, for integrated gradients, F(baseline) and the
convergence delta). Also makes testdata/models/tie_cnn.onnx (a small CNN
with overlapping max pools) and its input with constant regions when they
are missing (--remake-model rewrites them).

  /usr/bin/python3 scripts/methods_reference.py            # everything
  /usr/bin/python3 scripts/methods_reference.py --list     # the cases
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
TESTDATA = os.path.join(ROOT, "testdata")
OUT_DIR = os.path.join(TESTDATA, "expected", "methods")
TIE_MODEL = os.path.join(TESTDATA, "models", "tie_cnn.onnx")
TIE_INPUT = os.path.join(OUT_DIR, "tie_input.npy")
RESNET_INPUT = os.path.join(OUT_DIR, "resnet_tiny_input.npy")

TIE_TOL = 1e-11

# --------------------------------------------------------------------------
# A float64 ONNX interpreter
# --------------------------------------------------------------------------


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class ReluMode(torch.autograd.Function):
    """Relu with the backward rule of the method."""

    @staticmethod
    def forward(ctx, x, mode):
        ctx.mode = mode
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.mode == "deconvnet":
            return g.clamp(min=0), None
        gi = g * (x > 0).to(g)
        if ctx.mode == "guided":
            gi = gi.clamp(min=0)
        return gi, None


def maxpool_first(x, a):
    """MaxPool whose gradient goes to the first maximal element of each
    window (ties in exact arithmetic: within TIE_TOL relative)."""
    if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool ceil_mode/dilations")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    n, c, h, w = x.shape
    xp = F.pad(x, (pl, pr, pt, pb), value=-np.inf)
    hp, wp = xp.shape[2:]
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    cols = F.unfold(xp.reshape(n * c, 1, hp, wp), (kh, kw), stride=(sh, sw))
    mx = cols.max(dim=1, keepdim=True).values
    near = cols >= mx - TIE_TOL * mx.abs()
    idx = near.to(torch.uint8).argmax(dim=1, keepdim=True)     # the first tie
    return cols.gather(1, idx).reshape(n, c, ho, wo)


def conv(x, w, b, a):
    n_sp = w.dim() - 2
    pads = list(a.get("pads", [0] * (2 * n_sp)))
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    fpad = []
    for k in reversed(range(n_sp)):
        fpad += [pads[k], pads[k + n_sp]]
    if any(fpad):
        x = F.pad(x, fpad)
    return F.conv2d(x, w, b, stride=a.get("strides", [1] * n_sp),
                    dilation=a.get("dilations", [1] * n_sp), groups=a.get("group", 1))


class Graph:
    def __init__(self, path):
        m = onnx.load(path)
        self.consts = {}
        for i in m.graph.initializer:
            v = numpy_helper.to_array(i)
            self.consts[i.name] = torch.from_numpy(
                v.astype(np.float64) if v.dtype.kind == "f" else v.copy())
        self.nodes = list(m.graph.node)
        init = set(self.consts)
        self.input = [i.name for i in m.graph.input if i.name not in init][0]
        self.output = m.graph.output[0].name

    def run(self, x, mode="plain"):
        env = dict(self.consts)
        env[self.input] = x
        for n in self.nodes:
            a = attrs(n)
            i = [env[k] if k else None for k in n.input]
            t = n.op_type
            if t == "Conv":
                y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
            elif t == "Relu":
                y = ReluMode.apply(i[0], mode)
            elif t == "MaxPool":
                y = maxpool_first(i[0], a)
            elif t == "Flatten":
                y = i[0].reshape(i[0].shape[0], -1)
            elif t == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise NotImplementedError("Gemm attributes")
                y = i[0] @ (i[1].t() if a.get("transB", 0) else i[1])
                if len(i) > 2 and i[2] is not None:
                    y = y + i[2]
            elif t == "Add":
                y = i[0] + i[1]
            elif t == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            else:
                raise NotImplementedError(t)
            env[n.output[0]] = y
        return env[self.output]


# --------------------------------------------------------------------------
# The methods (Captum's definitions)
# --------------------------------------------------------------------------


def grads(g, xs, targets, mode="plain"):
    """Scores F_t and their gradients for a batch of inputs."""
    xs = xs.detach().clone().requires_grad_(True)
    out = g.run(xs, mode)
    sc = out[torch.arange(len(targets)), torch.tensor(targets)]
    (gr,) = torch.autograd.grad(sc.sum(), xs)
    return sc.detach(), gr


def scores(g, xs, targets):
    with torch.no_grad():
        out = g.run(xs)
    return out[torch.arange(len(targets)), torch.tensor(targets)]


def quadrature(rule, n):
    """Captum 0.8.0's alphas and step sizes, as the float32 values it uses."""
    if rule == "gausslegendre":
        xi, wi = np.polynomial.legendre.leggauss(n)
        alphas, w = 0.5 * (1 + xi), 0.5 * wi
    else:
        lo, hi = {"riemann_left": (0.0, 1 - 1 / n), "riemann_right": (1 / n, 1.0),
                  "riemann_middle": (1 / (2 * n), 1 - 1 / (2 * n)),
                  "riemann_trapezoid": (0.0, 1.0)}[rule]
        alphas = torch.linspace(lo, hi, n, dtype=torch.float32).tolist()
        w = [1 / n] * n
        if rule == "riemann_trapezoid":
            w[0] = w[-1] = 1 / (2 * n)
    a32 = np.asarray(alphas, dtype=np.float64).astype(np.float32).astype(np.float64)
    w32 = np.asarray(w, dtype=np.float64).astype(np.float32).astype(np.float64)
    return a32, w32


def integrated_gradients(g, x, targets, base, rule, n):
    """The path points are the float32 values Captum feeds the model,
    z_k = fl(b + fl(alpha_k * fl(x - b))); the gradients and the sum are
    float64."""
    a, w = quadrature(rule, n)
    x32, b32 = x.float(), base.float().expand_as(x)
    d32 = x32 - b32
    acc = torch.zeros_like(x)
    for k in range(n):
        z = (b32 + torch.tensor(a[k], dtype=torch.float32) * d32).double()
        _, gr = grads(g, z, targets)
        acc += w[k] * gr
    attr = acc * d32.double()
    fx, fb = scores(g, x, targets), scores(g, base.expand_as(x), targets)
    delta = attr.reshape(len(targets), -1).sum(1) - (fx - fb)
    return attr, {"ref_score": fb.tolist(), "delta": delta.tolist()}


def occlusion(g, x, targets, win, strides, fill):
    dims = x.shape[1:]
    pos = [(D - s + r - 1) // r + 1 for D, s, r in zip(dims, win, strides)]
    fx = scores(g, x, targets)
    acc, cnt = torch.zeros_like(x), torch.zeros_like(x)
    for k in range(int(np.prod(pos))):
        sl, kk = [slice(None)], k
        for d in range(len(dims)):      # the first axis varies fastest
            o = (kk % pos[d]) * strides[d]
            kk //= pos[d]
            sl.append(slice(o, min(o + win[d], dims[d])))
        xk = x.clone()
        xk[tuple(sl)] = fill
        drop = fx - scores(g, xk, targets)
        m = torch.zeros_like(x)
        m[tuple(sl)] = 1.0
        acc += drop.reshape(-1, *[1] * len(dims)) * m
        cnt += m
    return acc / cnt


def feature_ablation(g, x, targets, mask, fill):
    mask = torch.from_numpy(mask).expand_as(x)
    fx = scores(g, x, targets)
    attr = torch.zeros_like(x)
    for j in range(int(mask.min()), int(mask.max()) + 1):
        sel = mask == j
        if not sel.any():
            continue
        xj = torch.where(sel, torch.full_like(x, fill), x)
        drop = fx - scores(g, xj, targets)
        attr += drop.reshape(-1, *[1] * (x.dim() - 1)) * sel.to(x)
    return attr


def noise_tunnel(g, x, targets, noise, n, kind, of):
    """noise: [n, sample] (the same for every sample) or [N*n, sample]
    (row b*n + k, Captum's layout)."""
    nb = x.shape[0]
    eps = torch.from_numpy(noise.astype(np.float64))
    if noise.shape[0] == n:
        eps = eps.repeat(nb, *[1] * (x.dim() - 1))
    assert eps.shape[0] == nb * n
    # the noisy inputs Captum feeds the model: fl(x + e) in float32
    xs = (x.float().repeat_interleave(n, dim=0) + eps.float()).double()
    tg = [t for t in targets for _ in range(n)]
    _, gr = grads(g, xs, tg)
    a = {"saliency": gr.abs(), "gradient": gr, "gradxinput": xs * gr}[of]
    a = a.reshape(nb, n, *x.shape[1:])
    mean, msq = a.mean(1), (a * a).mean(1)
    return {"smoothgrad": mean, "smoothgrad-sq": msq, "vargrad": msq - mean * mean}[kind]


def attribute(g, x, targets, case):
    m = case["method"]
    if m in ("gradient", "saliency", "gradxinput", "sensitivity", "deconvnet", "guided-backprop"):
        mode = {"deconvnet": "deconvnet", "guided-backprop": "guided"}.get(m, "plain")
        _, gr = grads(g, x, targets, mode)
        return {"gradient": gr, "saliency": gr.abs(), "gradxinput": x * gr,
                "sensitivity": gr * gr}.get(m, gr), {}
    if m == "integrated-gradients":
        b = case.get("baseline", 0.0)
        base = (torch.from_numpy(np.load(os.path.join(TESTDATA, b)).astype(np.float64))
                if isinstance(b, str) else torch.full_like(x[:1], float(b)))
        return integrated_gradients(g, x, targets, base, case["quadrature"], case["steps"])
    if m == "occlusion":
        return occlusion(g, x, targets, case["patch"], case["patch_stride"], case["fill"]), {}
    if m == "feature-ablation":
        mask = np.load(os.path.join(TESTDATA, case["feature_mask"]))
        return feature_ablation(g, x, targets, mask, case["fill"]), {}
    if m in ("smoothgrad", "smoothgrad-sq", "vargrad"):
        noise = np.load(os.path.join(TESTDATA, case["noise"]))
        return noise_tunnel(g, x, targets, noise, case["samples"], m, case["of"]), {}
    raise ValueError(m)


# --------------------------------------------------------------------------
# Test models and inputs
# --------------------------------------------------------------------------


def make_tie_model(force):
    """A small CNN with padded and overlapping max pools, and a 1x16x16
    input made of constant regions (zero background, two constant blocks)
    and a little texture."""
    if os.path.exists(TIE_MODEL) and os.path.exists(TIE_INPUT) and not force:
        return
    torch.manual_seed(7)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, stride=2, padding=1),          # overlapping, padded
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, stride=2),
        torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 5)).float().eval()
    x = np.zeros((1, 1, 16, 16), np.float32)
    x[0, 0, 2:9, 3:12] = 0.5
    x[0, 0, 10:15, 1:7] = 1.0
    rng = np.random.default_rng(3)
    x[0, 0, 10:14, 9:14] = rng.uniform(0, 1, (4, 5)).astype(np.float32)
    os.makedirs(OUT_DIR, exist_ok=True)
    np.save(TIE_INPUT, x)
    torch.onnx.export(net, torch.from_numpy(x), TIE_MODEL, input_names=["input"],
                      output_names=["logits"], opset_version=13,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def make_resnet_input(force):
    """resnet_tiny's input with a constant band (ties in its overlapping
    3x3 stride-2 max pool)."""
    if os.path.exists(RESNET_INPUT) and not force:
        return
    x = np.load(os.path.join(TESTDATA, "models", "zoo_small", "resnet_tiny.input.npy"))
    x = x.astype(np.float32).copy()
    x[:, :, 40:, :] = -1.5
    np.save(RESNET_INPUT, x)


def make_side_files():
    """Masks, noise and baselines the cases read (small, seeded)."""
    rng = np.random.default_rng(11)
    files = {}
    r, c = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    files["fmnist_mask7.npy"] = ((r // 7) * 4 + c // 7).astype(np.int64).reshape(1, 1, 28, 28)
    files["fmnist_noise8.npy"] = (0.15 * rng.standard_normal((8, 1, 28, 28))).astype(np.float32)
    files["fmnist_noise2x4.npy"] = (0.1 * rng.standard_normal((8, 1, 28, 28))).astype(np.float32)
    files["fmnist_baseline.npy"] = (0.2 + 0.05 * rng.standard_normal((1, 28, 28))).astype(
        np.float32)
    r, c = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    files["tie_mask.npy"] = ((r // 4) * 10 + (c // 5) - 3).astype(np.int32).reshape(16, 16)
    files["tie_noise6.npy"] = (0.2 * rng.standard_normal((6, 1, 16, 16))).astype(np.float32)
    for name, arr in files.items():
        np.save(os.path.join(OUT_DIR, name), arr)


FM = "models/fmnist_cnn.onnx"
TIE = "models/tie_cnn.onnx"
RES = "models/zoo_small/resnet_tiny.onnx"
IMG0 = "images/fmnist_0_ankle_boot.npy"
IMG3 = "images/fmnist_3_shirt.npy"
TIN = "expected/methods/tie_input.npy"
RIN = "expected/methods/resnet_tiny_input.npy"
M = "expected/methods/"


def cases():
    out = []

    def add(name, model, inp, method, **kw):
        out.append(dict(name=name, model=model, input=inp, method=method, **kw))

    for model, inp, tag in ((FM, IMG0, "fmnist0"), (FM, IMG3, "fmnist3"), (TIE, TIN, "tie")):
        for m in ("gradient", "saliency", "gradxinput", "sensitivity", "deconvnet",
                  "guided-backprop"):
            add("%s_%s" % (tag, m), model, inp, m)
    for q in ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
              "riemann_trapezoid"):
        add("fmnist0_ig_%s16" % q, FM, IMG0, "integrated-gradients", quadrature=q, steps=16)
        add("tie_ig_%s16" % q, TIE, TIN, "integrated-gradients", quadrature=q, steps=16)
    add("fmnist0_ig_gl50", FM, IMG0, "integrated-gradients", quadrature="gausslegendre", steps=50)
    add("fmnist3_ig_trapezoid50_b", FM, IMG3, "integrated-gradients",
        quadrature="riemann_trapezoid", steps=50, baseline=M + "fmnist_baseline.npy")
    add("fmnist3_ig_left7_scalar", FM, IMG3, "integrated-gradients", quadrature="riemann_left",
        steps=7, baseline=0.25)
    add("fmnist_batch_ig_middle20", FM, "images/fmnist_batch8.npy[:2]", "integrated-gradients",
        quadrature="riemann_middle", steps=20)
    add("fmnist0_ig_gl16_target2", FM, IMG0, "integrated-gradients", quadrature="gausslegendre",
        steps=16, target=2)
    add("fmnist0_occ_1x4x4_s2", FM, IMG0, "occlusion", patch=[1, 4, 4], patch_stride=[1, 2, 2],
        fill=0.0)
    add("fmnist3_occ_1x5x5_s3", FM, IMG3, "occlusion", patch=[1, 5, 5], patch_stride=[1, 3, 3],
        fill=0.5)
    add("tie_occ_1x3x2_s1x2", TIE, TIN, "occlusion", patch=[1, 3, 2], patch_stride=[1, 1, 2],
        fill=0.25)
    add("fmnist0_ablation7", FM, IMG0, "feature-ablation", feature_mask=M + "fmnist_mask7.npy",
        fill=0.0)
    add("fmnist3_ablation7_fill", FM, IMG3, "feature-ablation",
        feature_mask=M + "fmnist_mask7.npy", fill=0.3)
    add("tie_ablation", TIE, TIN, "feature-ablation", feature_mask=M + "tie_mask.npy", fill=-0.5)
    for kind in ("smoothgrad", "smoothgrad-sq", "vargrad"):
        add("fmnist0_%s_saliency" % kind, FM, IMG0, kind, noise=M + "fmnist_noise8.npy",
            samples=8, of="saliency")
        add("tie_%s_gradient" % kind, TIE, TIN, kind, noise=M + "tie_noise6.npy", samples=6,
            of="gradient")
    add("fmnist3_smoothgrad_gradxinput", FM, IMG3, "smoothgrad", noise=M + "fmnist_noise8.npy",
        samples=8, of="gradxinput")
    add("fmnist_batch_smoothgrad_rows", FM, "images/fmnist_batch8.npy[:2]", "smoothgrad",
        noise=M + "fmnist_noise2x4.npy", samples=4, of="saliency")
    # a residual network (a Relu used after each Add; an overlapping padded
    # max pool over a constant band): three maps of 3x64x64, kept few
    for m in ("saliency", "guided-backprop"):
        add("resnet_%s" % m, RES, RIN, m)
    add("resnet_ig_gl16_b", RES, RIN, "integrated-gradients", quadrature="gausslegendre",
        steps=16, baseline=-1.0)
    return out


def load_input(spec):
    path, _, sl = spec.partition("[")
    x = np.load(os.path.join(TESTDATA, path)).astype(np.float32)
    if x.ndim == 3:
        x = x[None]
    if sl:
        x = x[:int(sl.strip("]:"))]
    return torch.from_numpy(x.astype(np.float64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--remake-model", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in cases():
            print(c["name"], c["method"])
        return 0
    torch.set_grad_enabled(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    make_tie_model(args.remake_model)
    make_resnet_input(args.remake_model)
    make_side_files()
    graphs, index = {}, []
    for c in cases():
        g = graphs.setdefault(c["model"], Graph(os.path.join(TESTDATA, c["model"])))
        x = load_input(c["input"])
        with torch.no_grad():
            logits = g.run(x)
        targets = [c["target"]] * len(x) if "target" in c else logits.argmax(1).tolist()
        attr, extra = attribute(g, x, targets, c)
        out = c["name"] + ".npy"
        np.save(os.path.join(OUT_DIR, out), attr.numpy().astype(np.float32))
        entry = dict(c, expected=M + out, classes=targets,
                     scores=[float(logits[b, t]) for b, t in enumerate(targets)], **extra)
        index.append(entry)
        print("%-34s classes %s  |attr| %.4g" % (c["name"], targets, float(attr.norm())))
    with open(os.path.join(OUT_DIR, "index.json"), "w") as f:
        json.dump({"generator": "scripts/methods_reference.py", "torch": torch.__version__,
                   "cases": index}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
