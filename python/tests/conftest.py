"""Shared fixtures: the lrpx CLI of the same build, the test data, and a
helper that runs the CLI and fails the test with its stderr."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import lrpx  # noqa: E402


def _path(env, default):
    p = os.environ.get(env) or os.path.join(ROOT, default)
    if not os.path.exists(p):
        pytest.exit("%s not found: build lrpx first (meson setup build && ninja -C build) "
                    "or set %s" % (p, env), returncode=1)
    return p


@pytest.fixture(scope="session")
def cli_path():
    return _path("LRPX_CLI", "build/src/cli/lrpx")


@pytest.fixture(scope="session")
def testdata():
    return _path("LRPX_TESTDATA", "testdata")


@pytest.fixture(scope="session")
def fmnist(testdata):
    return os.path.join(testdata, "models", "fmnist_cnn.onnx")


@pytest.fixture(scope="session")
def batch8(testdata):
    return np.load(os.path.join(testdata, "images", "fmnist_batch8.npy"))


@pytest.fixture
def cli(cli_path):
    def run(*args, ok=True):
        p = subprocess.run([cli_path] + [str(a) for a in args], capture_output=True, text=True)
        if ok and p.returncode != 0:
            pytest.fail("lrpx %s failed (%d): %s" % (" ".join(map(str, args)), p.returncode,
                                                     p.stderr))
        return p
    return run
