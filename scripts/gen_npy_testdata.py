#!/usr/bin/python3
"""Write the NumPy reference files tests/test_npy.c reads (testdata/npy/).

They are made by NumPy itself, so the reader is checked against an
independent writer. Element values follow a formula that the C test
recomputes: v[i] = ((7 * i) % 23) - 11 over the flat C-order index i,
divided by 4 for float types; bools are (i % 3 == 0).

Usage: /usr/bin/python3 scripts/gen_npy_testdata.py [OUTDIR]
(default OUTDIR: testdata/npy next to this script's folder)
"""
import os
import sys

import numpy as np
from numpy.lib import format as npf

SHAPE = (2, 3, 4)


def values(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    v = (np.arange(n, dtype=np.int64) * 7) % 23 - 11
    if dtype == np.bool_:
        v = (np.arange(n) % 3) == 0
    elif np.issubdtype(dtype, np.floating):
        v = v.astype(np.float64) / 4.0
    elif dtype == np.uint8:
        v = v + 11
    return v.astype(dtype).reshape(shape)


def write(path, arr, version=None):
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            npf.write_array(f, arr, version=version)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "testdata", "npy")
    os.makedirs(out, exist_ok=True)
    types = {"f4": np.float32, "f8": np.float64, "i8": np.int64, "i4": np.int32,
             "u1": np.uint8, "i1": np.int8, "b1": np.bool_}
    for code, dt in types.items():
        write(os.path.join(out, f"{code}.npy"), values(dt, SHAPE))
    a = values(np.float32, SHAPE)
    write(os.path.join(out, "f4_v2.npy"), a, version=(2, 0))
    write(os.path.join(out, "f4_v3.npy"), a, version=(3, 0))
    write(os.path.join(out, "f4_scalar.npy"), np.float32(-2.75).reshape(()))
    write(os.path.join(out, "f4_vector.npy"), values(np.float32, (5,)))
    write(os.path.join(out, "i1_empty.npy"), np.zeros((0, 4), np.int8))
    write(os.path.join(out, "f4_fortran.npy"), np.asfortranarray(a))
    write(os.path.join(out, "f4_bigendian.npy"), a.astype(">f4"))
    write(os.path.join(out, "u2.npy"), values(np.int64, SHAPE).astype(np.uint16))
    write(os.path.join(out, "structured.npy"),
          np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))


if __name__ == "__main__":
    main()
