"""A PEP 517 build backend of our own for the pure-Python package, so
that `pip install ./python` needs nothing from a package index (pip's
isolated build environment gets no requirements): it zips lrpx/*.py into
a wheel, adding lrpx/_install_hint.py with the liblrpx.so files that
exist when it is built ($LRPX_LIBRARY, pkg-config's libdir of an
installed lrpx, the build tree beside python/, in this order), which the
package tries before the loader's own search.
"""
import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))     # python/
NAME = "lrpx"
SUMMARY = "Run ONNX models and explain them with layer-wise relevance propagation (liblrpx)"


def _version():
    with open(os.path.join(HERE, NAME, "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _libraries():
    """Absolute paths of liblrpx.so that exist now, best first."""
    out = []
    env = os.environ.get("LRPX_LIBRARY")
    if env:
        out.append(os.path.abspath(env))
    exe = shutil.which("pkg-config")
    if exe:
        try:
            libdir = subprocess.run([exe, "--variable=libdir", NAME], capture_output=True,
                                    text=True, timeout=10).stdout.strip()
            if libdir:
                out.append(os.path.join(libdir, "liblrpx.so"))
        except (OSError, subprocess.SubprocessError):
            pass
    out.append(os.path.join(os.path.dirname(HERE), "build", "src", "liblrpx.so"))
    return [p for p in out if os.path.exists(p)]


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "Requires-Python: >=3.9\nRequires-Dist: numpy\nLicense: see the lrpx repository\n"
            % (NAME, _version(), SUMMARY))


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _files():
    """(archive name, bytes) of the package."""
    pkg = os.path.join(HERE, NAME)
    out = []
    for fn in sorted(os.listdir(pkg)):
        if fn.endswith(".py") and fn != "_install_hint.py":
            with open(os.path.join(pkg, fn), "rb") as f:
                out.append(("%s/%s" % (NAME, fn), f.read()))
    hint = "# Written by python/_build/lrpx_backend.py when the wheel was built.\n"
    hint += "LIBRARIES = %r\n" % (_libraries(),)
    out.append(("%s/_install_hint.py" % NAME, hint.encode()))
    di = _dist_info()
    out.append(("%s/METADATA" % di, _metadata().encode()))
    out.append(("%s/WHEEL" % di, b"Wheel-Version: 1.0\nGenerator: lrpx_backend\n"
                                 b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    out.append(("%s/top_level.txt" % di, (NAME + "\n").encode()))
    return out


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (name, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    di = os.path.join(metadata_directory, _dist_info())
    os.makedirs(di, exist_ok=True)
    with open(os.path.join(di, "METADATA"), "w") as f:
        f.write(_metadata())
    return _dist_info()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel = "%s-%s-py3-none-any.whl" % (NAME, _version())
    files = _files()
    record = "".join(_record_line(n, d) for n, d in files) + "%s/RECORD,,\n" % _dist_info()
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            z.writestr(n, d)
        z.writestr("%s/RECORD" % _dist_info(), record)
    return wheel


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/lrpx_backend.py"] + [
                "%s/%s" % (NAME, fn) for fn in sorted(os.listdir(os.path.join(HERE, NAME)))
                if fn.endswith(".py") and fn != "_install_hint.py"]:
            t.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
