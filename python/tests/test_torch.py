"""A PyTorch model explained in three lines of Python, against `lrpx
explain` on the same ONNX file, and lrpx's gradient against PyTorch's
own autograd."""
import numpy as np
import pytest

import torch  # noqa: E402  (scripts/setup.sh installs python3-torch)


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1))
        self.classifier = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = SmallCNN()
    with torch.no_grad():                  # non-trivial BatchNorm statistics
        net.features[4].running_mean.uniform_(-0.5, 0.5)
        net.features[4].running_var.uniform_(0.5, 2.0)
    net.eval()
    x = torch.rand(2, 3, 16, 16)
    path = tmp_path_factory.mktemp("torch") / "small_cnn.onnx"
    torch.onnx.export(net, x, str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
    return net, x, path


def test_three_lines_match_the_cli(exported, cli, tmp_path):
    net, x, path = exported
    import lrpx                                                   # 1
    m = lrpx.Model(path)                                          # 2
    R = m.explain(x.numpy(), composite="epsilon_plus_flat")       # 3

    np.save(tmp_path / "x.npy", x.numpy())
    cli("explain", path, tmp_path / "x.npy", "--composite", "epsilon_plus_flat",
        "-o", tmp_path / "r.npy")
    np.testing.assert_array_equal(R, np.load(tmp_path / "r.npy"))
    assert R.shape == tuple(x.shape) and np.abs(R).sum() > 0
    # and the forward pass is PyTorch's
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(m.run(x.numpy())["y"], want, rtol=1e-4, atol=1e-5)


def test_gradient_matches_autograd(exported):
    import lrpx
    net, x, path = exported
    m = lrpx.Model(path)
    xg = x.clone().requires_grad_(True)
    y = net(xg)
    cls = y.argmax(1)
    y.gather(1, cls[:, None]).sum().backward()
    g = m.gradient(x.numpy())
    np.testing.assert_allclose(g, xg.grad.numpy(), rtol=1e-3, atol=1e-5)
    gx = m.explain(x.numpy(), method="gradxinput")
    np.testing.assert_allclose(gx, (xg.grad * x).numpy(), rtol=1e-3, atol=1e-5)
    # the explained classes are PyTorch's predictions
    m.explain(x.numpy())
    assert [c for c, _ in m._session().explained()] == cls.tolist()
