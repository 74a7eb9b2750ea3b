"""Every struct the package mirrors with ctypes has the C compiler's size
and field offsets (tests/python_abi.c prints them), so the header and
python/lrpx/_capi.py cannot drift apart unnoticed."""
import os
import subprocess

import pytest

from lrpx import _capi


@pytest.fixture(scope="module")
def layout():
    probe = os.environ.get("LRPX_ABI_PROBE")
    if not probe:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        probe = os.path.join(root, "build", "tests", "python_abi")
    out = subprocess.run([probe], capture_output=True, text=True, check=True).stdout
    return dict((k, int(v)) for k, v in (line.split() for line in out.splitlines()))


@pytest.mark.parametrize("cname", sorted(_capi.STRUCTS))
def test_struct_layout(layout, cname):
    cls = _capi.STRUCTS[cname]
    assert layout[cname] == _capi.ctypes.sizeof(cls), "sizeof(%s)" % cname
    for field, _ in cls._fields_:
        key = "%s.%s" % (cname, field)
        assert key in layout, "%s is not printed by tests/python_abi.c" % key
        assert layout[key] == getattr(cls, field).offset, key
    n_c = sum(1 for k in layout if k.startswith(cname + "."))
    assert n_c == len(cls._fields_), "%s: C has %d fields, ctypes %d" % (
        cname, n_c, len(cls._fields_))
