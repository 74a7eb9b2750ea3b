"""Model.eval against `lrpx eval --json` on the same model, inputs,
metric and flags: the rows must agree (the CLI prints 9 significant
digits, so numbers are compared to that precision)."""
import json
import os

import numpy as np
import pytest

import lrpx


def cli_rows(cli, *args):
    p = cli("eval", *args, "--json")
    return [json.loads(line) for line in p.stdout.splitlines()]


def assert_rows_match(got, want):
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        for key in ("method", "target", "metric", "params"):
            assert g[key] == w[key], key
        if isinstance(w["score"], bool) or w["score"] is None:
            assert g["score"] == w["score"]
        else:
            assert g["score"] == pytest.approx(w["score"], rel=1e-8, abs=1e-12)
        if w["curve"] is None:
            assert g["curve"] is None
        else:
            np.testing.assert_allclose(g["curve"], np.array(w["curve"], np.float64),
                                       rtol=1e-8, atol=1e-12)
        assert g.get("curve_labels") == w.get("curve_labels")
        assert sorted(g["extra"]) == sorted(w["extra"])
        for k, v in w["extra"].items():
            assert g["extra"][k] == pytest.approx(v, rel=1e-8, abs=1e-12, nan_ok=True), k


@pytest.fixture
def x3(batch8, tmp_path):
    np.save(tmp_path / "x.npy", batch8[:3])
    return batch8[:3], tmp_path / "x.npy"


# (CLI flags, Model.eval keyword arguments): the same request both ways,
# with parameters as a kebab-case dict, as snake_case keywords and inside
# the metric string.
CASES = {
    "region-perturbation": (
        ["--metric", "region-perturbation:patch-size=4,order=lerf"],
        dict(metric="region-perturbation", params={"patch-size": 4}, order="lerf")),
    "pixel-flipping-gradient": (
        ["--metric", "pixel-flipping:features-in-step=28,perturb-baseline=mean",
         "--method", "gradient", "--target", "1,2,3"],
        dict(metric="pixel-flipping", features_in_step=28, perturb_baseline="mean",
             method="gradient", target=[1, 2, 3])),
    "selectivity-rules": (
        ["--metric", "selectivity:patch-size=7", "--composite", "epsilon_plus_flat",
         "--rule", "Gemm=epsilon:0.1", "--target", "4"],
        dict(metric="selectivity:patch-size=7", composite="epsilon_plus_flat",
             rules={"Gemm": "epsilon:0.1"}, target=4)),
    "relevance-mass-box": (
        ["--metric", "relevance-mass", "--metric", "pointing-game", "--mask", "4,4,14,14"],
        None),
    "max-sensitivity-seed": (
        ["--metric", "max-sensitivity:nr-samples=3,lower-bound=0.1", "--seed", "5",
         "--method", "gradxinput"],
        dict(metric="max-sensitivity", params={"nr_samples": 3, "lower_bound": 0.1}, seed=5,
             method="gradxinput")),
    "composite-as-method": (
        ["--metric", "sparseness", "--method", "lrp0"], dict(metric="sparseness", method="lrp0")),
    "complexity-ig": (
        ["--metric", "complexity", "--method", "integrated-gradients", "--steps", "8",
         "--baseline", "0.25"],
        dict(metric="complexity", method="integrated-gradients", steps=8, baseline=0.25)),
    "smoothgrad-seed": (
        ["--metric", "sparseness", "--method", "smoothgrad", "--samples", "4", "--seed", "9"],
        dict(metric="sparseness", method="smoothgrad", samples=4, seed=9)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_eval_matches_cli(cli, fmnist, x3, case):
    x, path = x3
    flags, kw = CASES[case]
    want = cli_rows(cli, fmnist, path, *flags)
    m = lrpx.Model(fmnist)
    if kw is None:           # two metrics on one box mask
        got = (m.eval(x, "relevance-mass", mask=(4, 4, 14, 14)).rows() +
               m.eval(x, "pointing-game", mask=(4, 4, 14, 14)).rows())
    else:
        got = m.eval(x, **kw).rows()
    assert_rows_match(got, want)


def test_eval_of_given_maps_and_mask_files(cli, fmnist, x3, tmp_path):
    x, path = x3
    R = lrpx.Model(fmnist).explain(x, method="saliency")
    np.save(tmp_path / "r.npy", R[:, 0])                    # maps without the channel axis
    mask = np.zeros((3, 28, 28), np.uint8)
    mask[0, 10:20, 5:25], mask[1, :14], mask[2, :, :9] = 1, 1, 1
    np.save(tmp_path / "mask.npy", mask)
    want = cli_rows(cli, fmnist, path, "--metric", "relevance-rank", "--metric",
                    "sparseness", "--relevance", tmp_path / "r.npy", "--mask",
                    tmp_path / "mask.npy")
    m = lrpx.Model(fmnist)
    got = (m.eval(x, "relevance-rank", relevance=R[:, 0], mask=mask).rows() +
           m.eval(x, "sparseness", relevance=R[:, 0], mask=tmp_path / "mask.npy").rows())
    for g in got:
        assert g["method"] == "relevance"
        g["method"] = "relevance:%s" % (tmp_path / "r.npy")    # the CLI names the file
    assert_rows_match(got, want)


def test_eval_result_arrays(fmnist, batch8):
    m = lrpx.Model(fmnist)
    r = m.eval(batch8[:4], "region-perturbation", patch_size=7, regions_evaluation=5)
    assert r.metric == "region-perturbation" and r.method == "epsilon_plus" and len(r) == 4
    assert r.params["patch-size"] == 7 and r.params["regions-evaluation"] == 5
    assert r.curves.shape == (4, 5) and r.curves.dtype == np.float64
    assert np.isnan(r.scores).all() and r.score_kinds == [None] * 4
    np.testing.assert_array_equal(r.targets, m.run(batch8[:4])["logits"].argmax(1))
    # the curve holds the output drops d_k; AOPC is their mean (docs/evaluation.md)
    aopc = r.curves.mean(axis=1)
    np.testing.assert_allclose(r.extra["aopc"], aopc, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(r.summary, r.extra["aopc"])
    p = m.eval(batch8[:4], "pointing-game", mask=(0, 0, 28, 14))
    assert p.score_kinds == ["bool"] * 4 and set(p.scores) <= {0.0, 1.0}
    assert p.curves is None
    mr = m.eval(batch8[:2], "model-randomisation", layer_order="bottom_up")
    assert mr.curve_labels and mr.curves.shape == (2, len(mr.curve_labels))


def test_eval_errors(fmnist, batch8, tmp_path):
    m = lrpx.Model(fmnist)
    x = batch8[:2]
    with pytest.raises(lrpx.Error, match="pixel-flipping") as e:      # lists the metrics
        m.eval(x, "no-such-metric")
    assert e.value.status_name == "LRPX_EINVAL"
    with pytest.raises(lrpx.Error, match="patch-sise"):
        m.eval(x, "region-perturbation", patch_sise=4)
    with pytest.raises(lrpx.Error, match="order"):
        m.eval(x, "region-perturbation", order="sideways")
    with pytest.raises(lrpx.Error, match="mask"):                     # needs a mask
        m.eval(x, "relevance-mass")
    with pytest.raises(lrpx.Error, match="box"):
        m.eval(x, "relevance-mass", mask=(20, 20, 10, 10))
    with pytest.raises(lrpx.Error, match="exclude"):
        m.eval(x, "sparseness", relevance=x, method="gradient")
    with pytest.raises(lrpx.Error, match="3 classes for 2"):
        m.eval(x, "sparseness", target=[1, 2, 3])
    with pytest.raises(lrpx.Error, match="unknown method"):
        m.eval(x, "sparseness", method="nope")
    with pytest.raises(FileNotFoundError):
        m.eval(x, "relevance-mass", mask=tmp_path / "missing.npy")
    with pytest.raises(lrpx.Error):
        m.eval(x, "sparseness", relevance=np.zeros((2, 5), np.float32))
    assert m.eval(x, "sparseness").scores.shape == (2,)              # still usable
    assert "patch-size" in lrpx.metric_params("region-perturbation")
    assert len(lrpx.metrics()) == 15 and "region-perturbation" in lrpx.metrics()
