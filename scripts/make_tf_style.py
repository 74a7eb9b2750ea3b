#!/usr/bin/python3
"""Build a small NHWC ONNX graph shaped like tf2onnx output, without TensorFlow.

Graph (opset 13), batch dimension symbolic ('unk__6', as tf2onnx writes it)
unless --static-batch:

  input_1 [N,16,16,3] (NHWC)
    Transpose(perm 0,3,1,2) -> Conv 3x3 pad 1 (+bias, 8 ch) -> Relu
    -> Transpose(perm 0,2,3,1)                        [N,16,16,8] NHWC
    -> Transpose(perm 0,3,1,2) -> MaxPool 2x2/2 -> Transpose(perm 0,2,3,1)
                                                      [N,8,8,8]   NHWC
    -> Reshape(shape initializer int64 [-1,1,512])    [N,1,512]
    -> MatMul(weight [512,10]) -> Add(bias [10])      [N,1,10]
    -> Squeeze(axes from a Constant node, int64 [1])  [N,10]
    -> Softmax(axis -1)                               Identity [N,10]

The expected output is computed here in float64 with numpy, step by step from
the operator definitions and working directly in NHWC (so the graph's
Transposes are checked, not mirrored).  No ONNX runtime is involved.

Writes testdata/models/tf_style_nhwc.{onnx,input.npy,expected.npy}.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H = W = 16
C_IN = 3
C_OUT = 8
K = 3
N_CLASSES = 10
FLAT = (H // 2) * (W // 2) * C_OUT


def build(rng, static_batch):
    w_conv = (rng.standard_normal((C_OUT, C_IN, K, K)) * np.sqrt(2.0 / (C_IN * K * K)))
    b_conv = rng.standard_normal(C_OUT) * 0.1
    w_dense = rng.standard_normal((FLAT, N_CLASSES)) * np.sqrt(1.0 / FLAT) * 2.0
    b_dense = rng.standard_normal(N_CLASSES) * 0.1
    w_conv, b_conv, w_dense, b_dense = (a.astype(np.float32)
                                        for a in (w_conv, b_conv, w_dense, b_dense))

    inits = [
        numpy_helper.from_array(w_conv, "sequential/conv2d/Conv2D/ReadVariableOp:0"),
        numpy_helper.from_array(b_conv, "sequential/conv2d/BiasAdd/ReadVariableOp:0"),
        numpy_helper.from_array(np.array([-1, 1, FLAT], dtype=np.int64),
                                "sequential/reshape/Reshape/shape:0"),
        numpy_helper.from_array(w_dense, "sequential/dense/MatMul/ReadVariableOp:0"),
        numpy_helper.from_array(b_dense, "sequential/dense/BiasAdd/ReadVariableOp:0"),
    ]
    nodes = [
        helper.make_node("Transpose", ["input_1"], ["sequential/conv2d/Conv2D__6:0"],
                         name="sequential/conv2d/Conv2D__6", perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["sequential/conv2d/Conv2D__6:0",
                                  "sequential/conv2d/Conv2D/ReadVariableOp:0",
                                  "sequential/conv2d/BiasAdd/ReadVariableOp:0"],
                         ["sequential/conv2d/BiasAdd:0"], name="sequential/conv2d/BiasAdd",
                         kernel_shape=[K, K], strides=[1, 1], dilations=[1, 1],
                         pads=[1, 1, 1, 1], group=1),
        helper.make_node("Relu", ["sequential/conv2d/BiasAdd:0"], ["sequential/conv2d/Relu:0"],
                         name="sequential/conv2d/Relu"),
        helper.make_node("Transpose", ["sequential/conv2d/Relu:0"],
                         ["sequential/conv2d/Relu__8:0"], name="sequential/conv2d/Relu__8",
                         perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["sequential/conv2d/Relu__8:0"],
                         ["sequential/max_pooling2d/MaxPool__10:0"],
                         name="sequential/max_pooling2d/MaxPool__10", perm=[0, 3, 1, 2]),
        helper.make_node("MaxPool", ["sequential/max_pooling2d/MaxPool__10:0"],
                         ["sequential/max_pooling2d/MaxPool:0"],
                         name="sequential/max_pooling2d/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Transpose", ["sequential/max_pooling2d/MaxPool:0"],
                         ["sequential/max_pooling2d/MaxPool__12:0"],
                         name="sequential/max_pooling2d/MaxPool__12", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["sequential/max_pooling2d/MaxPool__12:0",
                                     "sequential/reshape/Reshape/shape:0"],
                         ["sequential/reshape/Reshape:0"], name="sequential/reshape/Reshape"),
        helper.make_node("MatMul", ["sequential/reshape/Reshape:0",
                                    "sequential/dense/MatMul/ReadVariableOp:0"],
                         ["sequential/dense/MatMul:0"], name="sequential/dense/MatMul"),
        helper.make_node("Add", ["sequential/dense/MatMul:0",
                                 "sequential/dense/BiasAdd/ReadVariableOp:0"],
                         ["sequential/dense/BiasAdd:0"], name="sequential/dense/BiasAdd"),
        helper.make_node("Constant", [], ["const_axes__14"], name="const_axes__14",
                         value=numpy_helper.from_array(np.array([1], dtype=np.int64),
                                                       "const_axes__14")),
        helper.make_node("Squeeze", ["sequential/dense/BiasAdd:0", "const_axes__14"],
                         ["sequential/squeeze/Squeeze:0"], name="sequential/squeeze/Squeeze"),
        helper.make_node("Softmax", ["sequential/squeeze/Squeeze:0"], ["Identity"],
                         name="sequential/softmax/Softmax", axis=-1),
    ]
    batch = 1 if static_batch else "unk__6"
    out_batch = 1 if static_batch else "unk__7"
    graph = helper.make_graph(
        nodes, "tf2onnx",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [batch, H, W, C_IN])],
        [helper.make_tensor_value_info("Identity", TensorProto.FLOAT, [out_batch, N_CLASSES])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="lrpx-make_tf_style",
                              producer_version="1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    model.doc_string = ("NHWC graph in the shape of tf2onnx output, built by "
                        "scripts/make_tf_style.py (no TensorFlow involved).")
    return model, (w_conv, b_conv, w_dense, b_dense)


def reference(x, params):
    """float64 forward pass in NHWC, independent of any ONNX runtime."""
    w_conv, b_conv, w_dense, b_dense = (p.astype(np.float64) for p in params)
    x = x.astype(np.float64)
    n = x.shape[0]
    # Conv 3x3, stride 1, zero padding 1: y[n,i,j,o] = b[o] +
    #   sum_{c,u,v} w[o,c,u,v] * x[n, i+u-1, j+v-1, c]
    xp = np.zeros((n, H + 2, W + 2, C_IN))
    xp[:, 1:H + 1, 1:W + 1, :] = x
    y = np.zeros((n, H, W, C_OUT))
    for i in range(H):
        for j in range(W):
            for o in range(C_OUT):
                patch = xp[:, i:i + K, j:j + K, :]              # n,u,v,c
                y[:, i, j, o] = b_conv[o] + np.sum(
                    patch * w_conv[o].transpose(1, 2, 0)[None], axis=(1, 2, 3))
    y = np.maximum(y, 0.0)
    # MaxPool 2x2 stride 2 (no padding)
    p = np.empty((n, H // 2, W // 2, C_OUT))
    for i in range(H // 2):
        for j in range(W // 2):
            p[:, i, j, :] = y[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].max(axis=(1, 2))
    # Reshape to [n, 1, 512] in row-major NHWC order, dense layer
    f = p.reshape(n, 1, FLAT)
    logits = np.zeros((n, 1, N_CLASSES))
    for k in range(N_CLASSES):
        logits[:, :, k] = (f * w_dense[:, k]).sum(axis=-1) + b_dense[k]
    logits = logits[:, 0, :]                                  # Squeeze axis 1
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "testdata", "models"))
    ap.add_argument("--name", default="tf_style_nhwc")
    ap.add_argument("--seed", type=int, default=20240613)
    ap.add_argument("--static-batch", action="store_true",
                    help="batch dimension 1 instead of the symbolic 'unk__6'")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    model, params = build(rng, args.static_batch)
    onnx.checker.check_model(model, full_check=True)
    x = rng.standard_normal((1, H, W, C_IN)).astype(np.float32)
    expected = reference(x, params)

    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, args.name)
    onnx.save(model, base + ".onnx")
    np.save(base + ".input.npy", x)
    np.save(base + ".expected.npy", expected.astype(np.float32))
    print(f"{base}.onnx: {os.path.getsize(base + '.onnx')} bytes, "
          f"{len(model.graph.node)} nodes; expected {expected.shape} "
          f"max p={expected.max():.4f} argmax={int(expected.argmax())} "
          f"entropy={float(-(expected * np.log(expected)).sum()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
