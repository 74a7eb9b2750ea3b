"""The paper's tricks (translation averaging, sliding windows) and the
heatmap options from Python give what `lrpx explain` writes with the same
flags: identical maps and identical pictures."""
import os

import numpy as np
import pytest
from PIL import Image

import lrpx


@pytest.fixture
def x1(testdata):
    x = np.load(os.path.join(testdata, "images", "fmnist_1_pullover.npy"))
    return x if x.ndim == 4 else x[None]          # (1, 1, 28, 28)


@pytest.fixture
def big(batch8):
    """A 40x40 image (larger than the model's 28x28 window): four samples
    tiled and cropped."""
    b = batch8[:4, 0]
    return np.ascontiguousarray(np.block([[b[0], b[1]], [b[2], b[3]]])[None, None, 8:48, 8:48])


@pytest.mark.parametrize("flags,kw", [
    (["--translate", "2"], {"translate": 2}),
    (["--translate", "1", "--translate-pad", "zero", "--method", "gradient", "--target", "3"],
     {"translate": 1, "translate_pad": "zero", "method": "gradient", "target": 3}),
    (["--translate", "1", "--composite", "epsilon_plus_flat", "--rule", "Gemm=epsilon:0.5"],
     {"translate": 1, "composite": "epsilon_plus_flat", "rules": {"Gemm": "epsilon:0.5"}}),
    (["--translate", "1", "--method", "integrated-gradients", "--steps", "4"],
     {"translate": 1, "method": "integrated-gradients", "steps": 4}),
])
def test_translation_trick_matches_cli(cli, fmnist, batch8, tmp_path, flags, kw):
    x = batch8[:2]
    np.save(tmp_path / "x.npy", x)
    cli("explain", fmnist, tmp_path / "x.npy", *flags, "-o", tmp_path / "r.npy")
    R = lrpx.Model(fmnist).explain(x, **kw)
    assert R.shape == x.shape and R.dtype == np.float32
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))


def test_translation_trick_averages_shifted_maps(fmnist, x1):
    """translate=1 by hand: the map of each shifted image (edge padding)
    shifted back, averaged per pixel over the shifts that keep it inside
    (float64 here)."""
    m = lrpx.Model(fmnist)
    s = m.session()
    cls = int(m.run(x1)["logits"].argmax())
    H = W = 28
    acc = np.zeros((H, W))
    cnt = np.zeros((H, W))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            # the image moved by (dy, dx): pixel (i, j) shows x[i - dy, j - dx] (edge)
            iy = np.clip(np.arange(H) - dy, 0, H - 1)
            ix = np.clip(np.arange(W) - dx, 0, W - 1)
            r = s.explain(x1[:, :, iy][:, :, :, ix], target=cls)[0, 0].astype(np.float64)
            for i in range(H):
                for j in range(W):
                    if 0 <= i + dy < H and 0 <= j + dx < W:
                        acc[i, j] += r[i + dy, j + dx]
                        cnt[i, j] += 1
    want = acc / cnt
    got = s.explain(x1, translate=1)[0, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert s.explained()[0][0] == cls                 # the unshifted pass is kept


@pytest.mark.parametrize("flags,kw", [
    (["--window", "28x28"], {"window": 28}),
    (["--window", "28x28", "--stride", "12x6"], {"window": (28, 28), "stride": (12, 6)}),
    (["--window", "28x28", "--stride", "6", "--translate", "1", "--method", "gradxinput"],
     {"window": (28, 28), "stride": 6, "translate": 1, "method": "gradxinput"}),
])
def test_sliding_window_matches_cli(cli, fmnist, big, tmp_path, flags, kw):
    np.save(tmp_path / "big.npy", big)
    cli("explain", fmnist, tmp_path / "big.npy", *flags, "-o", tmp_path / "r.npy")
    R = lrpx.Model(fmnist).explain(big, **kw)
    assert R.shape == big.shape
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))


def test_sliding_window_by_hand(fmnist, big):
    """Windows at 0 and 12 on each axis (stride 12 lands on the border):
    the maps of the four windows for one class, added at their places and
    divided by the number of windows over each pixel."""
    s = lrpx.Model(fmnist).session()
    got = s.explain(big, window=28, stride=12, target=5)
    acc = np.zeros((40, 40))
    cnt = np.zeros((40, 40))
    for y in (0, 12):
        for x in (0, 12):
            acc[y:y + 28, x:x + 28] += s.explain(big[:, :, y:y + 28, x:x + 28],
                                                 target=5)[0, 0]
            cnt[y:y + 28, x:x + 28] += 1
    np.testing.assert_allclose(got[0, 0], acc / cnt, rtol=1e-5, atol=1e-6)


def test_trick_progress(fmnist, batch8, big):
    s = lrpx.Model(fmnist).session()
    seen = []
    R = s.explain(batch8[:2], translate=1, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 18) for k in range(1, 19)]          # 2 samples x (2K + 1)^2 shifts
    np.testing.assert_array_equal(R, s.explain(batch8[:2], translate=1))
    seen.clear()
    s.explain(big, window=28, stride=12, progress=lambda d, t: seen.append(t))
    assert seen == [4] * 4                                   # 2 x 2 windows

    def stop(done, total):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        s.explain(batch8[:1], translate=1, progress=stop)
    np.testing.assert_array_equal(s.explain(batch8[:2], translate=1), R)   # still usable


def test_trick_errors(fmnist, batch8, big):
    m = lrpx.Model(fmnist)
    with pytest.raises(lrpx.Error, match="translate"):
        m.explain(batch8[:1], translate=-1)
    with pytest.raises(lrpx.Error, match="translate"):
        m.explain(batch8[:1], translate=65)
    with pytest.raises(lrpx.Error, match="edge or zero"):
        m.explain(batch8[:1], translate=1, translate_pad="wrap")
    with pytest.raises(lrpx.Error, match="stride goes with window"):
        m.explain(batch8[:1], stride=4)
    with pytest.raises(lrpx.Error) as e:                      # window larger than the image
        m.explain(batch8[:1], window=(40, 40))
    assert e.value.status_name == "LRPX_ESHAPE"
    with pytest.raises(lrpx.Error, match="stride"):           # stride larger than the window
        m.explain(big, window=28, stride=30)
    with pytest.raises(lrpx.Error, match="rank-4"):
        m.explain(batch8[0, 0], translate=1)
    assert m.explain(batch8[:1]).shape == (1, 1, 28, 28)


# ---- heatmap options against the pictures `lrpx explain --heatmap` writes ----

CMAP_FILE = """# a colour table of our own: black - green - white
0.0 0 0 0
0.5 0 1 0
1.0 1 1 1
"""


@pytest.mark.parametrize("flags,kw", [
    (["--cmap", "CMAPFILE"], {"cmap": "CMAPFILE"}),
    (["--reduce", "l2", "--cmap", "hot"], {"reduce": "l2", "cmap": "hot"}),
    (["--overlay", "0.4", "--cmap", "seismic", "--clip", "95"],
     {"overlay": 0.4, "cmap": "seismic", "clip": 95.0, "image": "X"}),
    (["--panel", "--zoom", "3", "--gamma", "0.5"],
     {"panel": True, "zoom": 3, "gamma": 0.5, "image": "X"}),
    (["--panel", "--overlay", "1", "--cmap", "gray-red"],
     {"panel": True, "overlay": 1.0, "cmap": "gray-red", "image": "X"}),
    (["--translate", "1", "--cmap", "coldnhot"], {"cmap": "coldnhot"}),
])
def test_heatmap_options_match_cli(cli, fmnist, x1, tmp_path, flags, kw):
    (tmp_path / "table.txt").write_text(CMAP_FILE)
    flags = [str(tmp_path / "table.txt") if f == "CMAPFILE" else f for f in flags]
    kw = {k: str(tmp_path / "table.txt") if v == "CMAPFILE" else x1 if k == "image" else v
          for k, v in kw.items()}
    np.save(tmp_path / "x.npy", x1)
    cli("explain", fmnist, tmp_path / "x.npy", *flags, "-o", tmp_path / "r.npy",
        "--heatmap", tmp_path / "h.png")
    h = lrpx.heatmap(np.load(tmp_path / "r.npy"), **kw)
    np.testing.assert_array_equal(h, np.asarray(Image.open(tmp_path / "h.png")))


def test_heatmap_layouts_images_and_errors(x1, tmp_path):
    R = np.random.default_rng(0).normal(size=(1, 3, 6, 5)).astype(np.float32)
    h = lrpx.heatmap(R)
    assert h.shape == (6, 5, 3)
    np.testing.assert_array_equal(lrpx.heatmap(R.transpose(0, 2, 3, 1)), h)   # guessed NHWC
    np.testing.assert_array_equal(lrpx.heatmap(R[0].transpose(1, 2, 0), layout="nhwc"), h)
    # the L2 reduction is the norm over channels, drawn with minmax on gray
    g = lrpx.heatmap(R, reduce="l2", cmap="gray", norm="minmax")
    n = np.sqrt((R[0].astype(np.float64) ** 2).sum(0))
    want = np.rint((n - n.min()) / (n.max() - n.min()) * 255)
    np.testing.assert_allclose(g[:, :, 0], want, atol=1)
    # overlay with uint8 pixels: (1 - a) * image + a * heat, rounded
    px = np.full((6, 5, 3), 200, np.uint8)
    o = lrpx.heatmap(R, image=px, overlay=0.25)
    np.testing.assert_allclose(o, np.rint(0.75 * 200 + 0.25 * h.astype(float)), atol=1)
    p = lrpx.heatmap(R, image=px[:, :, 0], panel=True, zoom=2)
    assert p.shape[0] > 12 and p.shape[1] > 20 and p.shape[1] % 2 == 0
    with pytest.raises(lrpx.Error, match="need the image"):
        lrpx.heatmap(R, overlay=0.5)
    with pytest.raises(lrpx.Error, match="alpha"):
        lrpx.heatmap(R, image=px, overlay=1.5)
    with pytest.raises(lrpx.Error, match="5x6"):
        lrpx.heatmap(R, image=np.zeros((4, 4, 3), np.uint8), overlay=0.5)
    (tmp_path / "bad.txt").write_text("0.0 0 0\n")
    with pytest.raises(lrpx.Error) as e:
        lrpx.heatmap(R, cmap=str(tmp_path / "bad.txt"))
    assert e.value.status_name == "LRPX_EPARSE" and "bad.txt" in str(e.value)
    with pytest.raises(lrpx.Error, match="zoom"):
        lrpx.heatmap(R, zoom=0)
