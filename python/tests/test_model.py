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


def test_transformer_composite_and_stabilizer_match_cli(cli, testdata, batch8, tmp_path):
    vit = os.path.join(testdata, "models", "transformers", "vit_cls_op17.onnx")
    x = tmp_path / "x.npy"
    np.save(x, batch8[:1])
    m = lrpx.Model(vit)
    for comp, stab in (("attn_lrp", None), ("cp_lrp", 1e-3)):
        flags = ["--stabilizer", str(stab)] if stab is not None else []
        cli("explain", vit, x, "--composite", comp, *flags, "-o", tmp_path / "r.npy")
        np.testing.assert_array_equal(m.explain(batch8[:1], composite=comp, stabilizer=stab),
                                      np.load(tmp_path / "r.npy"))
    with pytest.raises(lrpx.Error, match="stabilizer"):
        m.explain(batch8[:1], composite="attn_lrp", stabilizer=-1)


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


@pytest.mark.parametrize("flags,kw", [
    ([], {}),
    (["--steps", "16", "--quadrature", "riemann_trapezoid", "--baseline", "0.25"],
     {"steps": 16, "quadrature": "riemann_trapezoid", "baseline": 0.25}),
    (["--steps", "8", "--baseline", "BASE"], {"steps": 8, "baseline": "BASE"}),
])
def test_integrated_gradients_matches_cli(cli, fmnist, batch8, tmp_path, flags, kw):
    """The method's options as keyword arguments give what the flags of
    `lrpx explain --method integrated-gradients` give, bit for bit."""
    x = tmp_path / "x.npy"
    np.save(x, batch8[:2])
    base = np.linspace(-0.5, 0.5, 28 * 28, dtype=np.float32).reshape(1, 28, 28)
    np.save(tmp_path / "base.npy", base)
    flags = [str(tmp_path / "base.npy") if f == "BASE" else f for f in flags]
    kw = {k: base if v == "BASE" else v for k, v in kw.items()}
    cli("explain", fmnist, x, "--method", "integrated-gradients", *flags, "--target", 3,
        "-o", tmp_path / "r.npy")
    s = lrpx.Model(fmnist).session()
    R = s.explain(batch8[:2], method="integrated-gradients", target=3, **kw)
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))
    rep = s.reports()
    assert [r["class"] for r in rep] == [3, 3]
    for r, row in zip(rep, R):
        # completeness: the sum is F(x) - F(baseline) up to the gap reported
        assert r["sum"] == pytest.approx(float(row.sum(dtype=np.float64)), rel=1e-5, abs=1e-5)
        assert r["gap"] == pytest.approx(r["sum"] - (r["score"] - r["ref_score"]), abs=1e-6)
        assert r["evals"] > 0


@pytest.mark.parametrize("method,flags,kw", [
    ("smoothgrad", ["--samples", "6", "--sigma", "0.3", "--seed", "7", "--of", "gradxinput"],
     {"samples": 6, "sigma": 0.3, "seed": 7, "of": "gradxinput"}),
    ("vargrad", ["--samples", "4", "--noise", "NOISE"], {"samples": 4, "noise": "NOISE"}),
    ("occlusion", ["--patch", "1,4,4", "--patch-stride", "1,2,2", "--fill", "0.5"],
     {"patch": (1, 4, 4), "patch_stride": (1, 2, 2), "fill": 0.5}),
    ("feature-ablation", ["--feature-mask", "MASK"], {"feature_mask": "MASK"}),
    ("taylor", ["--root-iters", "5", "--low", "-1", "--high", "1"],
     {"root_iters": 5, "low": -1, "high": 1}),
    ("smoothgrad-sq", ["--samples", "3", "--internal-batch", "2"],
     {"samples": 3, "internal_batch": 2}),
])
def test_method_options_match_cli(cli, fmnist, batch8, tmp_path, method, flags, kw):
    x = tmp_path / "x.npy"
    np.save(x, batch8[:2])
    rng = np.random.default_rng(1)
    files = {"NOISE": rng.normal(0, 0.2, (4, 1, 28, 28)).astype(np.float32),
             "MASK": (np.arange(28 * 28).reshape(1, 1, 28, 28) // 98).astype(np.int64)}
    for name, a in files.items():
        np.save(tmp_path / (name + ".npy"), a)
    flags = [str(tmp_path / (f + ".npy")) if f in files else f for f in flags]
    kw = {k: files[v] if isinstance(v, str) and v in files else v for k, v in kw.items()}
    cli("explain", fmnist, x, "--method", method, *flags, "-o", tmp_path / "r.npy")
    R = lrpx.Model(fmnist).explain(batch8[:2], method=method, **kw)
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))


def test_method_option_errors(fmnist, batch8):
    m = lrpx.Model(fmnist)
    x = batch8[:1]
    with pytest.raises(lrpx.Error, match="steps") as e:
        m.explain(x, method="integrated-gradients", steps=0)
    assert e.value.status_name == "LRPX_EINVAL"
    with pytest.raises(lrpx.Error, match="steps must be a whole number"):
        m.explain(x, method="integrated-gradients", steps=2.5)
    with pytest.raises(lrpx.Error, match="quadrature: unknown rule 'simpson'.*riemann_left"):
        m.explain(x, method="integrated-gradients", quadrature="simpson")
    with pytest.raises(lrpx.Error, match="of: unknown method 'grad'"):
        m.explain(x, method="smoothgrad", of="grad")
    with pytest.raises(lrpx.Error, match="seed must be in"):
        m.explain(x, method="smoothgrad", seed=-1)
    with pytest.raises(lrpx.Error, match="baseline"):
        m.explain(x, method="integrated-gradients", baseline=np.zeros((3, 5), np.float32))
    with pytest.raises(lrpx.Error, match="patch_stride needs patch"):
        m.explain(x, method="occlusion", patch_stride=(1, 2, 2))
    with pytest.raises(lrpx.Error, match="patch"):
        m.explain(x, method="occlusion", patch=(1, 40, 4))
    with pytest.raises(lrpx.Error, match="integers"):
        m.explain(x, method="feature-ablation", feature_mask=np.zeros((1, 28, 28), np.float32))
    with pytest.raises(TypeError, match="stepz"):
        m.explain(x, method="integrated-gradients", stepz=4)
    assert m.run(x)["logits"].shape == (1, 10)


def test_a_composite_name_as_method(fmnist, batch8):
    m = lrpx.Model(fmnist)
    np.testing.assert_array_equal(m.explain(batch8[:2], method="epsilon_plus_flat"),
                                  m.explain(batch8[:2], composite="epsilon_plus_flat"))
    with pytest.raises(lrpx.Error, match="contradicts"):
        m.explain(batch8[:2], method="lrp0", composite="epsilon_plus")


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


@pytest.mark.parametrize("method", ["lrp", "gradient", "integrated-gradients"])
def test_a_target_per_sample(fmnist, batch8, method):
    s = lrpx.Model(fmnist).session()
    kw = {"steps": 8} if method == "integrated-gradients" else {}
    R = s.explain(batch8[:3], method=method, target=[3, 0, 7], **kw)
    assert [r["class"] for r in s.reports()] == [3, 0, 7]
    for i, t in enumerate([3, 0, 7]):
        np.testing.assert_allclose(R[i:i + 1], s.explain(batch8[i:i + 1], method=method,
                                                         target=t, **kw), rtol=1e-5, atol=1e-6)
    for bad in ([3, -1, 2], [1.5, 2, 3], [[1, 2, 3]]):
        with pytest.raises(lrpx.Error, match="target"):
            s.explain(batch8[:3], target=bad)
    with pytest.raises(lrpx.Error, match="3"):                # one per sample: 3 samples
        s.explain(batch8[:3], target=[1, 2])


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
    assert [f for f in info["features"] if f.startswith("simd:")]       # the SIMD level
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
