#!/usr/bin/python3
"""Write the hostile / malformed models of testdata/hostile/.

Each file is a minimized reproducer of a bug found by fuzzing lrpx
(libFuzzer + a structure-aware ModelProto mutator, see docs/testing.md) or
a hand-written attack on a limit. tests/test_hostile.c loads and runs every
one of them and checks the status and the message; the table there says
which stage must fail and how.

    /usr/bin/python3 scripts/gen_hostile_models.py [OUTDIR]

Uses Debian's python3-onnx (1.12) only to serialize; lrpx never sees Python.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "hostile")
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def vi(name, dtype, dims):
    return helper.make_tensor_value_info(name, dtype, dims)


def save(name, nodes, inputs, outputs, inits=(), opset=13, value_info=()):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits),
                          value_info=list(value_info))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="lrpx-hostile")
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def f32(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def main():
    os.makedirs(OUT, exist_ok=True)

    # ---- found by fuzzing ----

    # A required input left empty (""): ops read input 0 without checking.
    # Was: NULL dereference in ReduceSum / Resize prepare.
    save("omitted_required_input",
         [helper.make_node("ReduceSum", ["", "axes"], ["y"], name="rs")],
         [vi("x", F, [2, 3])], [vi("y", F, None)], [i64("axes", [1])])
    save("resize_omitted_x",
         [helper.make_node("Resize", ["", "roi", "scales"], ["y"], name="rz")],
         [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
         [f32("roi", []), f32("scales", [1, 1, 2, 2])])

    # The explained output (here a graph input passed through) has no
    # elements. Was: heap over-read seeding the gradient/relevance pass.
    save("empty_output_explain",
         [helper.make_node("Relu", ["x"], ["y"], name="r")],
         [vi("x", F, [1, 0])], [vi("x", F, [1, 0]), vi("y", F, [1, 0])])

    # An empty input (a 0 dimension) whose other dims are huge: the reduce
    # kernel multiplied them. Was: signed overflow (UB) at load.
    save("reduce_empty_huge_dims",
         [helper.make_node("ReduceSum", ["x"], ["y"], name="rs", axes=[2], keepdims=1)],
         [vi("x", F, [1, 2, 0, 2**63 - 1])], [vi("y", F, None)], opset=11)

    # A reduction with an empty output: no scratch memory is planned for
    # it. Was: pointer arithmetic on NULL (UBSan) in forward. Loads and runs.
    save("reduce_empty_output",
         [helper.make_node("ReduceSum", ["x"], ["y"], name="rs", axes=[2], keepdims=1)],
         [vi("x", F, [1, 0, 3, 4])], [vi("y", F, None)], opset=11)

    # Explaining a Sum over empty inputs (batch 0). Was: memset(NULL, 0, 0)
    # in the proportional rule (UBSan); the executors now skip nodes whose
    # outputs are all empty. Loads, runs and explains.
    save("sum_empty_explain",
         [helper.make_node("Sum", ["x", "x"], ["y"], name="s")],
         [vi("x", F, [0, 2, 2])], [vi("y", F, None)], opset=8)

    # Split's "split" attribute given as an int, not a list. Was:
    # memcpy from NULL (UBSan); now refused by type.
    save("split_attr_not_list",
         [helper.make_node("Split", ["x"], ["a", "b"], name="sp", axis=0, split=2)],
         [vi("x", F, [4, 2])], [vi("a", F, None), vi("b", F, None)], opset=11)

    # MaxPool over an empty input that is long on one axis: the window
    # tables follow the output's extent. Was: a 2.5 GB allocation at load
    # from a 150-byte file.
    save("maxpool_empty_long",
         [helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[1, 1])],
         [vi("x", F, [1, 0, 1, 107374182])], [vi("y", F, None)], opset=12)

    # BatchNormalization after a ConvTranspose whose group does not divide
    # its input channels. Was: division by zero in the BatchNorm folding
    # pass (SIGFPE) before ConvTranspose could refuse the group.
    save("convtranspose_bn_bad_group",
         [helper.make_node("ConvTranspose", ["x", "W"], ["t"], name="ct", group=2),
          helper.make_node("BatchNormalization", ["t", "s", "b", "m", "v"], ["y"], name="bn")],
         [vi("x", F, [1, 1, 3, 3])], [vi("y", F, None)],
         [f32("W", np.ones((1, 1, 1, 1))), f32("s", [1, 1]), f32("b", [0, 0]),
          f32("m", [0, 0]), f32("v", [1, 1])])

    # ---- hand-written ----

    # A graph input whose initializer (its default) has another shape.
    save("initializer_input_mismatch",
         [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
         [vi("x", F, [1, 2]), vi("W", F, [2, 2])], [vi("y", F, None)],
         [f32("W", np.ones((3, 2)))], opset=9)

    # Negative dimension in a declared shape.
    save("negative_dim_value_info",
         [helper.make_node("Relu", ["x"], ["y"], name="r")],
         [vi("x", F, [1, -4])], [vi("y", F, None)])

    save("negative_dim_output",
         [helper.make_node("Relu", ["x"], ["y"], name="r")],
         [vi("x", F, [1, 4])], [vi("y", F, [1, -7])])
    # value_info of an intermediate value is not read by lrpx: this loads
    # and runs
    save("negative_dim_intermediate",
         [helper.make_node("Relu", ["x"], ["h"], name="r"),
          helper.make_node("Neg", ["h"], ["y"], name="n")],
         [vi("x", F, [1, 4])], [vi("y", F, [1, 4])],
         value_info=[vi("h", F, [-5, -(2**63)])])

    # A constant whose dims multiply past int64.
    big = TensorProto(name="v", data_type=F, dims=[2**32, 2**32, 2**32], raw_data=b"")
    save("constant_dims_overflow",
         [helper.make_node("Constant", [], ["c"], name="k", value=big),
          helper.make_node("Add", ["x", "c"], ["y"], name="add")],
         [vi("x", F, [1])], [vi("y", F, None)])

    # Tiny files asking for huge tensors: each must be refused by the
    # tensor limit before anything is allocated or looped over.
    save("constant_of_shape_huge",
         [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos"),
          helper.make_node("Add", ["x", "c"], ["y"], name="add")],
         [vi("x", F, [1])], [vi("y", F, None)], [i64("shape", [2**20, 2**20, 2**20])])
    save("expand_huge",
         [helper.make_node("Expand", ["x", "shape"], ["y"], name="ex")],
         [vi("x", F, [1])], [vi("y", F, None)], [i64("shape", [2**16, 2**16, 2**16])])
    save("tile_huge",
         [helper.make_node("Tile", ["x", "reps"], ["y"], name="tl")],
         [vi("x", F, [2, 2])], [vi("y", F, None)], [i64("reps", [2**31, 2**31])])
    save("range_tiny_delta",
         [helper.make_node("Range", ["a", "b", "d"], ["r"], name="rg"),
          helper.make_node("Add", ["x", "r"], ["y"], name="add")],
         [vi("x", F, [1])], [vi("y", F, None)],
         [f32("a", 0.0), f32("b", 1.0), f32("d", 1e-30)])
    save("resize_huge_scales",
         [helper.make_node("Resize", ["x", "roi", "scales"], ["y"], name="rz")],
         [vi("x", F, [1, 1, 4, 4])], [vi("y", F, None)],
         [f32("roi", []), f32("scales", [1, 1, 1e6, 1e6])])
    save("pad_huge",
         [helper.make_node("Pad", ["x", "pads"], ["y"], name="pd")],
         [vi("x", F, [1, 4])], [vi("y", F, None)], [i64("pads", [0, 0, 0, 2**40])])


if __name__ == "__main__":
    main()
