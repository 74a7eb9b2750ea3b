#!/usr/bin/python3
"""Check the bundled Fashion-MNIST ONNX model and its reference data.

    /usr/bin/python3 scripts/check_fmnist_onnx.py [--data-dir testdata]

1. onnx.checker (full check) and onnx shape inference: input `input` is
   float32 [batch,1,28,28] and output `logits` is float32 [batch,10], with a
   symbolic batch axis; every intermediate value gets an inferred shape.
2. Independent float64 NumPy forward pass straight from the ONNX graph's
   initializers and attributes (only the ops this model uses: Conv, Relu,
   MaxPool, Flatten, Gemm), compared with the PyTorch logits saved by
   scripts/train_fmnist.py.  This confirms the exported file computes what
   PyTorch computed, without onnxruntime (not packaged) or the onnx reference
   evaluator (not in onnx 1.12).
3. The saved PyTorch gradients are compared with a float64 NumPy backward
   pass that breaks MaxPool ties towards the first maximum in row-major
   window order (PyTorch's CPU convention).  Finite differences cannot check
   these gradients directly: the real images have many tied MaxPool windows
   (flat background), where the network is not differentiable.  So the
   NumPy backward is itself checked against central finite differences at a
   slightly jittered, tie-free input.

Exits 0 when everything passes, 1 otherwise.
"""

import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGIT_TOL = 1e-4       # float32 PyTorch vs float64 NumPy, logits are O(10)
GRAD_RTOL = 1e-3


def dims_of(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else d.dim_value)
    return out


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv2d(x, w, b, pads, strides, dilations, group):
    if group != 1 or any(s != 1 for s in strides) or \
            any(d != 1 for d in dilations):
        raise NotImplementedError("checker only handles plain 2-D Conv")
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh, ow = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    y = np.zeros((n, m, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + oh, j:j + ow]          # n c oh ow
            y += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return y + b[None, :, None, None]


def max_pool2d(x, kernel, strides, pads):
    if any(pads) or list(kernel) != list(strides):
        raise NotImplementedError("checker only handles non-overlapping pools")
    kh, kw = kernel
    n, c, h, w = x.shape
    oh, ow = h // kh, w // kw
    x = x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)
    return x.max(axis=(3, 5))


def run_numpy(model, x, keep=False):
    """Float64 forward pass of `model` on `x` (N x 1 x 28 x 28).  With
    keep=True, returns (output, env) where env holds every tensor."""
    env = {i.name: numpy_helper.to_array(i).astype(np.float64)
           for i in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    for node in model.graph.node:
        a = attrs(node)
        ins = [env[n] for n in node.input]
        if node.op_type == "Conv":
            y = conv2d(ins[0], ins[1], ins[2], a.get("pads", [0] * 4),
                       a.get("strides", [1, 1]), a.get("dilations", [1, 1]),
                       a.get("group", 1))
        elif node.op_type == "Relu":
            y = np.maximum(ins[0], 0.0)
        elif node.op_type == "MaxPool":
            if a.get("ceil_mode", 0) or "dilations" in a:
                raise NotImplementedError("MaxPool ceil_mode/dilations")
            y = max_pool2d(ins[0], a["kernel_shape"],
                           a.get("strides", a["kernel_shape"]),
                           a.get("pads", [0] * 4))
        elif node.op_type == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif node.op_type == "Gemm":
            av = ins[0].T if a.get("transA", 0) else ins[0]
            bv = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * av @ bv
            if len(ins) > 2:
                y = y + a.get("beta", 1.0) * ins[2]
        else:
            raise NotImplementedError(f"op {node.op_type} ({node.name})")
        env[node.output[0]] = y
    out = env[model.graph.output[0].name]
    return (out, env) if keep else out


def conv2d_backward_input(dy, x_shape, w, pads):
    """d(sum dy * conv(x)) / dx for the plain stride-1 Conv above."""
    n, c, h, wd = x_shape
    _, _, kh, kw = w.shape
    oh, ow = dy.shape[2], dy.shape[3]
    dxp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + oh, j:j + ow] += np.einsum("nmhw,mc->nchw", dy,
                                                       w[:, :, i, j])
    return dxp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd]


def max_pool2d_backward(dy, x, kernel):
    """Routes each window's gradient to ONE element: the first maximum in
    row-major window order (PyTorch's documented CPU convention; ONNX leaves
    ties unspecified).  Ties are common here: zero background pixels give
    equal conv outputs, so this choice decides the gradient's support."""
    kh, kw = kernel
    n, c, h, w = x.shape
    oh, ow = h // kh, w // kw
    win = x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)
    win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    first = win.argmax(axis=-1)                       # numpy: first max
    onehot = np.zeros_like(win)
    np.put_along_axis(onehot, first[..., None], 1.0, axis=-1)
    dwin = onehot * dy[..., None]
    dx = np.zeros_like(x)
    dx[:, :, :oh * kh, :ow * kw] = dwin.reshape(n, c, oh, ow, kh, kw) \
        .transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh * kh, ow * kw)
    return dx


def grad_numpy(model, x, cls):
    """Float64 gradient of logit[0, cls] with respect to the input, by a
    hand-written backward pass over the ONNX graph (ReLU'(0) = 0)."""
    out, env = run_numpy(model, x, keep=True)
    grads = {model.graph.output[0].name: np.zeros_like(out)}
    grads[model.graph.output[0].name][0, cls] = 1.0
    for node in reversed(model.graph.node):
        a = attrs(node)
        dy = grads.pop(node.output[0])
        xin = env[node.input[0]]
        if node.op_type == "Conv":
            dx = conv2d_backward_input(dy, xin.shape, env[node.input[1]],
                                       a.get("pads", [0] * 4))
        elif node.op_type == "Relu":
            dx = dy * (xin > 0)
        elif node.op_type == "MaxPool":
            dx = max_pool2d_backward(dy, xin, a["kernel_shape"])
        elif node.op_type == "Flatten":
            dx = dy.reshape(xin.shape)
        elif node.op_type == "Gemm":
            if a.get("transA", 0):
                raise NotImplementedError("Gemm transA")
            bv = env[node.input[1]]
            bv = bv.T if a.get("transB", 0) else bv
            dx = a.get("alpha", 1.0) * dy @ bv.T
        else:
            raise NotImplementedError(f"op {node.op_type} ({node.name})")
        grads[node.input[0]] = dx
    return grads[model.graph.input[0].name]


def max_tie_windows(model, x):
    """Number of MaxPool windows (over all pools) whose maximum is shared by
    two or more elements and is positive, i.e. where tie-breaking decides
    where gradient/relevance goes."""
    _, env = run_numpy(model, x, keep=True)
    count = 0
    for node in model.graph.node:
        if node.op_type != "MaxPool":
            continue
        kh, kw = attrs(node)["kernel_shape"]
        v = env[node.input[0]]
        n, c, h, w = v.shape
        win = v[:, :, :h // kh * kh, :w // kw * kw] \
            .reshape(n, c, h // kh, kh, w // kw, kw)
        mx = win.max(axis=(3, 5), keepdims=True)
        n_max = (win == mx).sum(axis=(3, 5))
        count += int(((n_max > 1) & (mx[:, :, :, 0, :, 0] > 0)).sum())
    return count


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=os.path.join(REPO_ROOT, "testdata"))
    args = ap.parse_args(argv)
    d = args.data_dir
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    path = os.path.join(d, "models", "fmnist_cnn.onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(f"ok   onnx.checker full_check: {path} "
          f"({os.path.getsize(path)} bytes)")
    check(os.path.getsize(path) < 1 << 20, "model file under 1 MiB")
    check([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
          == [13], "default-domain opset is 13")

    inferred = shape_inference.infer_shapes(model, check_type=True,
                                            strict_mode=True)
    gi, go = inferred.graph.input, inferred.graph.output
    check(len(gi) == 1 and gi[0].name == "input", "single input named 'input'")
    check(len(go) == 1 and go[0].name == "logits",
          "single output named 'logits'")
    check(gi[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT and
          go[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT,
          "input and output are float32")
    in_dims, out_dims = dims_of(gi[0]), dims_of(go[0])
    print(f"     input dims {in_dims}, output dims {out_dims}")
    check(isinstance(in_dims[0], str) and in_dims[1:] == [1, 28, 28],
          "input shape [batch,1,28,28] with symbolic batch")
    check(out_dims[0] == in_dims[0] and out_dims[1:] == [10],
          "output shape [batch,10], same batch symbol")
    n_inferred = len(inferred.graph.value_info)
    n_internal = sum(len(n.output) for n in model.graph.node) - 1
    check(n_inferred == n_internal,
          f"shape inference typed all {n_internal} intermediate values")
    for vi in inferred.graph.value_info:
        print(f"     {vi.name}: {dims_of(vi)}")

    with open(os.path.join(d, "models", "fmnist_cnn.json")) as f:
        meta = json.load(f)
    check(len(meta["class_names"]) == 10, "json has 10 class names")

    # Logits of the single images (npy and png) and the batch.
    from PIL import Image
    batch = np.load(os.path.join(d, "images", "fmnist_batch8.npy"))
    check(batch.shape == (8, 1, 28, 28) and batch.dtype == np.float32,
          "batch8 is float32 8x1x28x28")
    got = run_numpy(model, batch)
    want = np.load(os.path.join(d, "expected", "fmnist_cnn_batch8.npy"))
    err = float(np.abs(got - want).max())
    check(want.shape == (8, 10) and err < LOGIT_TOL,
          f"batch8 logits: NumPy(ONNX) vs PyTorch max |diff| {err:.2e}")
    rng = np.random.default_rng(0)
    for item in meta["bundled_images"]:
        i = item["index"]
        img = np.load(os.path.join(d, item["image_npy"]))
        png = np.asarray(Image.open(os.path.join(d, item["image_png"])))
        check(img.shape == (1, 28, 28) and img.dtype == np.float32 and
              png.shape == (28, 28) and png.dtype == np.uint8 and
              np.array_equal(img[0], png.astype(np.float32) / 255),
              f"image {i}: npy is 1x28x28 float32 == png/255")
        check(np.array_equal(img, batch[i]), f"image {i}: equals batch8[{i}]")
        want = np.load(os.path.join(d, item["logits"]))
        got = run_numpy(model, img[None])
        err = float(np.abs(got - want).max())
        check(want.shape == (1, 10) and err < LOGIT_TOL and
              int(got.argmax()) == item["predicted"],
              f"image {i}: logits max |diff| {err:.2e}, predicted "
              f"{meta['class_names'][int(got.argmax())]!r} "
              f"(label {item['label_name']!r})")

        grad = np.load(os.path.join(d, item["grad"]))
        c = item["predicted"]
        mine = grad_numpy(model, img[None], c)
        gerr = float(np.abs(mine - grad).max() / np.abs(grad).max())
        check(grad.shape == (1, 1, 28, 28) and grad.dtype == np.float32 and
              gerr < GRAD_RTOL,
              f"image {i}: PyTorch grad vs NumPy backward (first-max ties, "
              f"{max_tie_windows(model, img[None])} tied pool windows), "
              f"max rel err {gerr:.1e}")

        # The NumPy backward itself, against central finite differences at a
        # slightly jittered input where (almost surely) no MaxPool ties or
        # ReLU kinks lie within +-h, so the network is locally linear.
        xj = img[None] + rng.uniform(0.0, 0.05, size=img[None].shape)
        gj = grad_numpy(model, xj, c)
        worst = 0.0
        for _ in range(3):
            v = rng.standard_normal(xj.shape)
            h = 1e-8
            fd = (run_numpy(model, xj + h * v)[0, c] -
                  run_numpy(model, xj - h * v)[0, c]) / (2 * h)
            an = float((gj * v).sum())
            worst = max(worst, abs(fd - an) / max(abs(an), 1e-6))
        check(worst < GRAD_RTOL,
              f"image {i}: NumPy backward vs finite differences (jittered "
              f"input), worst rel err {worst:.1e}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
