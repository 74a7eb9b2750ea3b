"""The Model/Session API against the lrpx CLI on the same files (same
library, so the numbers must agree exactly), and its errors."""
import os

import numpy as np
import pytest

import lrpx


def test_run_matches_cli(cli, fmnist, batch8, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, batch8)
    cli("run", fmnist, x, "-o", tmp_path / "y.npy")
    y = lrpx.Model(fmnist).run(batch8)
    assert list(y) == ["logits"]
    np.testing.assert_array_equal(y["logits"], np.load(tmp_path / "y.npy"))


@pytest.mark.parametrize("composite,rules", [
    (None, None),
    ("epsilon_plus_flat", None),
    ("epsilon_plus", {"Conv": "zplus", "Gemm": "epsilon:0.1"}),
    ("lrp0", ["first=flat"]),
])
def test_explain_matches_cli(cli, fmnist, batch8, tmp_path, composite, rules):
    x = tmp_path / "x.npy"
    np.save(x, batch8[:2])
    args = ["explain", fmnist, x, "-o", tmp_path / "r.npy"]
    if composite:
        args += ["--composite", composite]
    for spec in (["%s=%s" % kv for kv in rules.items()] if isinstance(rules, dict)
                 else rules or []):
        args += ["--rule", spec]
    cli(*args)
    R = lrpx.Model(fmnist).explain(batch8[:2], composite=composite, rules=rules)
    assert R.dtype == np.float32 and R.shape == batch8[:2].shape
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))


def test_gradient_methods_match_cli(cli, fmnist, batch8, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, batch8[:3])
    cli("gradient", fmnist, x, "--target", 4, "-o", tmp_path / "g.npy")
    cli("gradient", fmnist, x, "--target", 4, "--times-input", "-o", tmp_path / "gx.npy")
    m = lrpx.Model(fmnist)
    g = m.gradient(batch8[:3], target=4)
    np.testing.assert_array_equal(g, np.load(tmp_path / "g.npy"))
    np.testing.assert_array_equal(m.explain(batch8[:3], target=4, method="gradient"), g)
    np.testing.assert_array_equal(m.explain(batch8[:3], target=4, method="gradxinput"),
                                  np.load(tmp_path / "gx.npy"))


def test_every_method_of_the_library_runs(fmnist, batch8):
    m = lrpx.Model(fmnist)
    names = lrpx.methods()
    assert names[:3] == ["lrp", "gradient", "gradxinput"]
    for name in names:
        R = m.explain(batch8[:1], method=name)
        assert R.shape == (1, 1, 28, 28) and np.isfinite(R).all() and np.abs(R).sum() > 0


def test_target_and_explained(fmnist, batch8):
    s = lrpx.Model(fmnist).session()
    y = s.run(batch8[:2])["logits"]
    s.explain(batch8[:2])
    got = s.explained()
    assert [c for c, _ in got] == list(y.argmax(1))
    np.testing.assert_allclose([v for _, v in got], y.max(1), rtol=1e-6)
    R3 = s.explain(batch8[:2], target=3)
    assert [c for c, _ in s.explained()] == [3, 3]
    np.testing.assert_allclose([v for _, v in s.explained()], y[:, 3], rtol=1e-6)
    assert not np.allclose(R3, s.explain(batch8[:2]))


def test_missing_batch_dimension_is_added(fmnist, batch8):
    m = lrpx.Model(fmnist)
    np.testing.assert_array_equal(m.run(batch8[0])["logits"], m.run(batch8[:1])["logits"])
    R = m.explain(batch8[0])
    assert R.shape == (1, 1, 28, 28)


def test_inputs_are_passed_without_a_copy(fmnist, batch8):
    s = lrpx.Model(fmnist).session()
    x = np.ascontiguousarray(batch8[:2])
    ((name, a),) = s._feeds(x)
    assert name is None and a is x                        # float32, C order: as it is
    ((_, a),) = s._feeds(batch8[:2].astype(np.float64))   # float64: lrpx converts it
    assert a.dtype == np.float64
    ((_, a),) = s._feeds(np.asfortranarray(batch8[:2]))   # another layout: one copy
    assert a.flags.c_contiguous
    ((_, a),) = s._feeds(batch8[:2].astype(np.float16))   # a dtype lrpx lacks: float32
    assert a.dtype == np.float32
    # float64 and strided inputs give the same numbers as float32
    np.testing.assert_array_equal(s.run(batch8[:2].astype(np.float64))["logits"],
                                  s.run(batch8[:2])["logits"])
    np.testing.assert_array_equal(s.run(np.asfortranarray(batch8[:2]))["logits"],
                                  s.run(batch8[:2])["logits"])


def test_model_info(fmnist):
    m = lrpx.Model(fmnist)
    assert [(v.name, v.dtype, v.shape) for v in m.inputs] == [
        ("input", np.dtype(np.float32), (None, 1, 28, 28))]
    assert [(v.name, v.shape) for v in m.outputs] == [("logits", (None, 10))]
    assert m.opset > 0 and "fmnist_cnn.onnx" in repr(m)


def test_errors_carry_message_and_status(fmnist, batch8, tmp_path):
    with pytest.raises(lrpx.Error) as e:
        lrpx.Model(tmp_path / "missing.onnx")
    assert e.value.status_name == "LRPX_EIO" and "missing.onnx" in str(e.value)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not a model at all" * 10)
    with pytest.raises(lrpx.Error) as e:
        lrpx.Model(bad)
    assert e.value.status_name == "LRPX_EPARSE" and "bad.onnx" in str(e.value)

    m = lrpx.Model(fmnist)
    with pytest.raises(lrpx.Error) as e:
        m.run(np.zeros((1, 3, 28, 28), np.float32))
    assert e.value.status_name == "LRPX_ESHAPE" and e.value.status > 0
    with pytest.raises(lrpx.Error, match="unknown method 'saliancy'") as e:
        m.explain(batch8[:1], method="saliancy")
    assert e.value.status_name == "LRPX_EINVAL"
    with pytest.raises(lrpx.Error, match="composite"):
        m.explain(batch8[:1], composite="no_such_composite")
    with pytest.raises(lrpx.Error, match="Conv"):
        m.explain(batch8[:1], rules={"Conv": "gamma:x"})
    with pytest.raises(lrpx.Error, match="target"):
        m.explain(batch8[:1], target=-1)
    with pytest.raises(lrpx.Error):
        m.explain(batch8[:1], target=10)                   # 10 classes: 0..9
    with pytest.raises(lrpx.Error, match="max-pool"):
        m.explain(batch8[:1], maxpool="largest")
    with pytest.raises(lrpx.Error):
        m.run({"no_such_input": batch8[:1]})
    for junk in ("abc", [[1, 2], [3]], np.zeros((1,) * 9)):
        with pytest.raises(lrpx.Error):
            m.run(junk)
    # the session is still usable after errors
    assert m.run(batch8[:1])["logits"].shape == (1, 10)


def test_version_agrees_everywhere(cli):
    info = lrpx.build_info()
    assert lrpx.__version__ == lrpx.library_version() == info["version"]
    out = cli("--version").stdout.splitlines()
    assert out[0] == "lrpx " + info["version"]
    assert out[1] == "ONNX opsets %d to %d (default domain)" % info["opsets"]
    assert out[2] == "optional parts: " + " ".join(info["features"])
    assert {"jpeg", "png"} <= set(info["features"])
    assert os.path.exists(info["library"])


def test_sessions_outlive_their_model_object(fmnist, batch8):
    import gc
    s = lrpx.Model(fmnist).session()          # the Model object is gone at once
    gc.collect()
    assert s.run(batch8[:1])["logits"].shape == (1, 10)
    m = lrpx.Model(fmnist)
    m.run(batch8[:1])                          # a thread-local session refers to m's model
    del m
    gc.collect()                               # the C model is freed after that session
    assert s.explain(batch8[:1]).shape == (1, 1, 28, 28)
