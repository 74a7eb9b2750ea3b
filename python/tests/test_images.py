"""Preprocessing and heatmaps from Python give what the CLI writes."""
import os

import numpy as np
import pytest
from PIL import Image

import lrpx


@pytest.mark.parametrize("photo,preset", [("astronaut.jpg", "imagenet"),
                                          ("chelsea_palette.png", "zero-one")])
def test_preprocess_matches_cli(cli, testdata, tmp_path, photo, preset):
    path = os.path.join(testdata, "images", "photos", photo)
    cli("preprocess", path, "--preprocess", preset, "-o", tmp_path / "x.npy")
    x = lrpx.preprocess(path, preset=preset)
    assert x.dtype == np.float32 and x.ndim == 4 and x.shape[:2] == (1, 3)
    np.testing.assert_array_equal(x, np.load(tmp_path / "x.npy"))


def test_preprocess_for_a_model(cli, testdata, fmnist, tmp_path):
    path = os.path.join(testdata, "images", "photos", "astronaut.jpg")
    cli("preprocess", path, "--model", fmnist, "--preprocess", "zero-one", "-o",
        tmp_path / "x.npy")
    x = lrpx.preprocess(path, preset="zero-one", model=lrpx.Model(fmnist))
    assert x.shape == (1, 1, 28, 28)                       # gray, model size
    np.testing.assert_array_equal(x, np.load(tmp_path / "x.npy"))


def test_preprocess_errors(testdata, tmp_path):
    with pytest.raises(lrpx.Error) as e:
        lrpx.preprocess(tmp_path / "none.jpg")
    assert e.value.status_name == "LRPX_EIO"
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)
    with pytest.raises(lrpx.Error) as e:
        lrpx.preprocess(tmp_path / "junk.jpg")
    assert e.value.status_name == "LRPX_EIMAGE" and "junk.jpg" in str(e.value)
    with pytest.raises(lrpx.Error, match="imagenet"):        # the message lists the presets
        lrpx.preprocess(os.path.join(testdata, "images", "photos", "astronaut.jpg"),
                        preset="no-such-preset")
    assert "imagenet" in lrpx.presets()


@pytest.mark.parametrize("cmap,extra", [("bwr", []), ("coldnhot", ["--gamma", "0.5"]),
                                        ("hot", ["--clip", "99", "--reduce", "norm"])])
def test_heatmap_matches_cli(cli, testdata, fmnist, tmp_path, cmap, extra):
    x = os.path.join(testdata, "images", "fmnist_1_pullover.npy")
    cli("explain", fmnist, x, "-o", tmp_path / "r.npy", "--heatmap", tmp_path / "h.png",
        "--cmap", cmap, *extra)
    kw = dict(zip([a.lstrip("-") for a in extra[::2]], extra[1::2]))
    h = lrpx.heatmap(np.load(tmp_path / "r.npy"), cmap=cmap, reduce=kw.get("reduce", "sum"),
                     clip=float(kw.get("clip", 100)), gamma=float(kw.get("gamma", 1)))
    assert h.dtype == np.uint8 and h.shape == (28, 28, 3)
    np.testing.assert_array_equal(h, np.asarray(Image.open(tmp_path / "h.png")))


def test_heatmap_colours_and_errors():
    R = np.zeros((1, 1, 4, 4), np.float32)
    R[0, 0, 0, 0], R[0, 0, 3, 3] = 1.0, -1.0
    h = lrpx.heatmap(R)                                     # bwr: + red, - blue, 0 white
    assert tuple(h[0, 0]) == (255, 0, 0) and tuple(h[3, 3]) == (0, 0, 255)
    assert tuple(h[1, 1]) == (255, 255, 255)
    np.testing.assert_array_equal(lrpx.heatmap(R[0, 0]), h)           # (H, W)
    np.testing.assert_array_equal(lrpx.heatmap(R[0].transpose(1, 2, 0), layout="nhwc"), h)
    with pytest.raises(lrpx.Error, match="bwr"):
        lrpx.heatmap(R, cmap="no-such-map")
    with pytest.raises(lrpx.Error) as e:
        lrpx.heatmap(np.zeros((2, 1, 4, 4)))                  # a batch of two
    assert e.value.status_name == "LRPX_ESHAPE"
