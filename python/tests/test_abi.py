"""Every struct the package mirrors with ctypes has the C compiler's size
and field offsets, and its array sizes are the header's macros: the test
writes a C program that prints sizeof and offsetof for each ctypes field
and the value of each macro, compiles it against include/lrpx.h and
compares, so the header and python/lrpx/_capi.py cannot drift apart
unnoticed."""
import os
import shutil
import subprocess

import pytest

from lrpx import _capi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    cc = os.environ.get("CC") or shutil.which("cc")
    assert cc, "no C compiler (scripts/setup.sh installs build-essential)"
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "lrpx.h"',
             'int main(void) {']
    for cname, cls in _capi.STRUCTS.items():
        t = "struct " + cname                  # every mirrored type has this tag
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (cname, t))
        for field, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));' % (cname, field, t, field))
    for macro in _capi.CONSTANTS:
        lines.append('printf("%s %%d\\n", (int)%s);' % (macro, macro))
    lines.append("return 0; }")
    d = tmp_path_factory.mktemp("abi")
    (d / "probe.c").write_text("\n".join(lines) + "\n")
    subprocess.run([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), str(d / "probe.c"),
                    "-o", str(d / "probe")], check=True)
    out = subprocess.run([str(d / "probe")], capture_output=True, text=True, check=True).stdout
    return dict((k, int(v)) for k, v in (line.split() for line in out.splitlines()))


@pytest.mark.parametrize("cname", sorted(_capi.STRUCTS))
def test_struct_layout(layout, cname):
    cls = _capi.STRUCTS[cname]
    assert layout[cname] == _capi.ctypes.sizeof(cls), "sizeof(%s)" % cname
    for field, _ in cls._fields_:
        key = "%s.%s" % (cname, field)
        assert layout[key] == getattr(cls, field).offset, key


@pytest.mark.parametrize("macro", sorted(_capi.CONSTANTS))
def test_array_sizes(layout, macro):
    assert layout[macro] == _capi.CONSTANTS[macro], macro
