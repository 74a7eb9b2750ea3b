#!/usr/bin/python3
"""Export torchvision-style models to ONNX (opset 13) with PyTorch reference outputs.

Runs offline: every model gets random weights from a fixed seed; nothing is
downloaded.  Inputs are real photos shipped with scikit-image and
scikit-learn, preprocessed the ImageNet way (resize the short side, center
crop, normalise with the ImageNet mean/std).

Two sets:

  big    torchvision ImageNet models at 1x3x224x224 written to --out-dir
         (default models/zoo/, git-ignored; several are hundreds of MB).
  small  narrow look-alikes (< 2 MB each) at 1x3x64x64 written to
         --small-out-dir (default testdata/models/zoo_small/, committed) that
         cover the same operator mix for unit tests.

For every model NAME the script writes NAME.onnx, NAME.input.npy (one photo,
float32 NCHW), NAME.torch.npy (PyTorch's float32 output for that input,
computed on the same eval-mode module that was exported) and NAME.torch64.npy
(the same module run in float64: the gap between the two is the model's
float32 rounding noise, a yardstick for any runtime's difference).

Random weights make some networks collapse: BatchNorm running statistics of
mean 0 / variance 1 do not match what the randomly initialised convolutions
produce, so activations shrink to ~1e-10 (mobilenet_v2, efficientnet_b0) or
the logits stop depending on the input (googlenet).  Such models get their
BatchNorm running statistics calibrated on a batch of real photos (BN layers
in train mode with momentum=None, one pass, then eval).  The *_bn variants
(BatchNormalization kept in the graph) are always calibrated so that their BN
nodes are not near-identities, and small models also get random BN scale and
shift so a runtime that ignores them fails.

Usage:
  /usr/bin/python3 scripts/export_zoo.py                       # both sets
  /usr/bin/python3 scripts/export_zoo.py --set small
  /usr/bin/python3 scripts/export_zoo.py --models resnet18,resnet18_bn
"""

import argparse
import collections
import importlib
import os
import sys
import time
import warnings
import zlib

import numpy as np

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms as T  # noqa: E402
from PIL import Image  # noqa: E402

OPSET = 13
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------

def load_photos():
    """Real RGB photos that ship with skimage and sklearn (no download)."""
    import skimage.data as sd
    from sklearn.datasets import load_sample_images

    photos = collections.OrderedDict()
    for name in ("chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry",
                 "hubble_deep_field", "retina"):
        try:
            photos[name] = np.asarray(getattr(sd, name)())[..., :3]
        except Exception as e:  # a photo that needs pooch is simply skipped
            print(f"note: skimage.data.{name} unavailable ({type(e).__name__})",
                  file=sys.stderr)
    try:
        photos["motorcycle"] = np.asarray(sd.stereo_motorcycle()[0])[..., :3]
    except Exception as e:
        print(f"note: stereo_motorcycle unavailable ({type(e).__name__})", file=sys.stderr)
    sample = load_sample_images()
    for fname, img in zip(sample.filenames, sample.images):
        photos[os.path.splitext(os.path.basename(fname))[0]] = np.asarray(img)[..., :3]
    if len(photos) < 4:
        raise SystemExit("export_zoo: fewer than 4 photos available")
    return photos


def preprocess(img, size):
    """ImageNet preprocessing scaled to `size`: short side to size*256/224, center crop."""
    resize = int(round(size * 256 / 224))
    tf = T.Compose([T.Resize(resize), T.CenterCrop(size), T.ToTensor(),
                    T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    return tf(Image.fromarray(img.astype(np.uint8)))


def photo_batch(photos, size):
    """All photos plus their mirror images, N x 3 x size x size."""
    x = torch.stack([preprocess(p, size) for p in photos.values()])
    return torch.cat([x, torch.flip(x, dims=[3])])


# --------------------------------------------------------------------------
# BatchNorm calibration
# --------------------------------------------------------------------------

BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def has_bn(model):
    return any(isinstance(m, BN_TYPES) for m in model.modules())


def randomize_bn_affine(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, BN_TYPES) and m.affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) - 0.5) * 0.4)


def calibrate_bn(model, batch):
    """Set BN running stats to the statistics of `batch` (one cumulative pass)."""
    model.eval()
    for m in model.modules():
        if isinstance(m, BN_TYPES):
            m.reset_running_stats()
            m.momentum = None
            m.train()
    with torch.no_grad():
        model(batch)
    model.eval()


def collapse_ratio(model, batch):
    """Mean over classes of the std across photos, over the mean |logit|."""
    with torch.no_grad():
        y = model(batch).double().numpy()
    mag = np.abs(y).mean()
    spread = y.std(axis=0).mean()
    return spread / (mag + 1e-300), mag


def is_collapsed(model, batch):
    ratio, mag = collapse_ratio(model, batch)
    return (not np.isfinite(ratio)) or ratio < 1e-3 or mag < 1e-6, ratio, mag


# --------------------------------------------------------------------------
# Big models (torchvision, 224x224)
# --------------------------------------------------------------------------

BIG = ["resnet18", "resnet50", "vgg16", "alexnet", "squeezenet1_1", "mobilenet_v2",
       "densenet121", "efficientnet_b0", "googlenet", "resnet18_bn", "mobilenet_v2_bn"]


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def build_big(base):
    torch.manual_seed(seed_of(base))
    kwargs = {}
    if base == "googlenet":
        kwargs = dict(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, base)(weights=None, **kwargs).eval()


# --------------------------------------------------------------------------
# Small models (64x64) covering the same operator mix
# --------------------------------------------------------------------------

class TinyResNet(nn.Module):
    """ResNet-style: 7x7 stem, MaxPool, BasicBlocks with 1x1 downsample, GAP, Gemm."""

    def __init__(self, num_classes=10):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, conv1x1
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

        def down(cin, cout):
            return nn.Sequential(conv1x1(cin, cout, 2), nn.BatchNorm2d(cout))
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, 2, down(16, 32))
        self.layer3 = BasicBlock(32, 64, 2, down(32, 64))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TinySqueezeNet(nn.Module):
    """SqueezeNet-style: Fire modules (Concat), MaxPool ceil_mode, 1x1 conv head, GAP.

    The stem keeps an even spatial size (64 -> 32) so the first ceil_mode pool
    really differs from floor mode (32 -> 16 instead of 15).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        Fire = importlib.import_module("torchvision.models.squeezenet").Fire
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 4, 8, 8), Fire(16, 4, 8, 8),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 8, 16, 16))
        final_conv = nn.Conv2d(32, num_classes, 1)
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))
        # torchvision's SqueezeNet initialisation: with PyTorch's default conv
        # init the biases dominate and the logits barely depend on the input.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class TinyGoogLeNet(nn.Module):
    """GoogLeNet-style: BasicConv2d (conv+BN eps 1e-3), Inception blocks, ceil_mode pools."""

    def __init__(self, num_classes=10):
        super().__init__()
        g = importlib.import_module("torchvision.models.googlenet")
        self.conv1 = g.BasicConv2d(3, 16, kernel_size=3, stride=2, padding=1)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inc3a = g.Inception(16, 8, 8, 16, 4, 8, 8)      # -> 40 channels
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inc4a = g.Inception(40, 16, 8, 16, 4, 8, 8)     # -> 48 channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(48, num_classes)

    def forward(self, x):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.inc3a(x))
        x = self.inc4a(x)
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class TinyAlexNet(nn.Module):
    """AlexNet/VGG-style: plain conv stack, adaptive avg pool (-> AveragePool), MLP head."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 5, 2, 2), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))          # 8x8 -> 4x4
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(32 * 16, 64), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def tiny_efficientnet(num_classes=10):
    """EfficientNet-style: MBConv with depthwise conv, SiLU (Sigmoid*Mul), SE blocks."""
    e = importlib.import_module("torchvision.models.efficientnet")
    setting = [
        e.MBConvConfig(1, 3, 1, 16, 8, 1),
        e.MBConvConfig(4, 3, 2, 8, 16, 2),      # second layer has a residual Add
        e.MBConvConfig(4, 5, 2, 16, 24, 2),
    ]
    return e.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2,
                          num_classes=num_classes, last_channel=64)


SMALL = collections.OrderedDict([
    ("resnet_tiny", lambda: TinyResNet()),
    ("resnet_tiny_bn", lambda: TinyResNet()),
    ("mobilenet_v2_tiny", lambda: torchvision.models.mobilenet_v2(weights=None, width_mult=0.25,
                                                                  num_classes=10)),
    ("mobilenet_v2_tiny_bn", lambda: torchvision.models.mobilenet_v2(weights=None,
                                                                     width_mult=0.25,
                                                                     num_classes=10)),
    ("squeezenet_tiny", lambda: TinySqueezeNet()),
    ("densenet_tiny", lambda: torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2),
                                                          num_init_features=16, bn_size=2,
                                                          num_classes=10)),
    ("googlenet_tiny", lambda: TinyGoogLeNet()),
    ("efficientnet_tiny", lambda: tiny_efficientnet()),
    ("alexnet_tiny", lambda: TinyAlexNet()),
])


def base_name(name):
    return name[:-3] if name.endswith("_bn") else name


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

def export(model, x, path, preserve_bn):
    kwargs = {}
    if preserve_bn:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"],
                          output_names=["logits"], do_constant_folding=True, **kwargs)


def op_counts(path):
    import onnx
    m = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(path if os.path.getsize(path) > 2e9 else m)
    return collections.Counter(n.op_type for n in m.graph.node)


def human(nbytes):
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024.0


def export_one(name, model, batch, photo_names, photo_index, out_dir, preserve_bn, calibrate,
               randomize_gen=None):
    notes = []
    if randomize_gen is not None and has_bn(model):
        randomize_bn_affine(model, randomize_gen)
        notes.append("random BN affine")
    collapsed, ratio, mag = is_collapsed(model, batch)
    do_cal = has_bn(model) and (calibrate == "all" or
                                (calibrate == "auto" and (collapsed or preserve_bn
                                                          or randomize_gen is not None)))
    if do_cal:
        calibrate_bn(model, batch)
        new_collapsed, new_ratio, new_mag = is_collapsed(model, batch)
        notes.append(f"BN calibrated (spread/|mean| {ratio:.1e} -> {new_ratio:.1e}, "
                     f"|mean| {mag:.1e} -> {new_mag:.1e})")
        collapsed, ratio = new_collapsed, new_ratio
    if collapsed:
        notes.append("WARNING: output still collapsed")

    # input: one photo (not mirrored); batch is [photos..., mirrored photos...]
    x = batch[photo_index:photo_index + 1].contiguous()
    with torch.no_grad():
        y = model(x)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".onnx")
    export(model, x, path, preserve_bn)
    np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + ".torch.npy"), y.numpy().astype(np.float32))

    # float64 run of the same module: tells how much float32 rounding alone
    # moves this model's output (compare_models.py prints it as a noise floor).
    with torch.no_grad():
        y64 = model.double()(x.double())
    np.save(os.path.join(out_dir, name + ".torch64.npy"), y64.numpy())
    model.float()
    noise = float((y64 - y.double()).abs().max() / y64.abs().max())

    ops = op_counts(path)
    n_bn = ops.get("BatchNormalization", 0)
    if preserve_bn and n_bn == 0:
        notes.append("WARNING: no BatchNormalization node kept")
    yn = y.numpy().ravel()
    size = os.path.getsize(path)
    print(f"{name:22s} {human(size):>9s}  photo={photo_names[photo_index]:<12s} "
          f"out std={yn.std():.4g} top1={int(yn.argmax())} fp32-vs-fp64={noise:.1e} "
          f"spread/|mean|={ratio:.2g} nodes={sum(ops.values())} BN={n_bn}"
          + ("  [" + "; ".join(notes) + "]" if notes else ""), flush=True)
    print("    ops: " + ", ".join(f"{k}x{v}" for k, v in sorted(ops.items())), flush=True)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=("big", "small", "all"), default="all")
    ap.add_argument("--models", default="", help="comma-separated subset (names of either set)")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "models", "zoo"))
    ap.add_argument("--small-out-dir", default=os.path.join(ROOT, "testdata", "models",
                                                            "zoo_small"))
    ap.add_argument("--calibrate", choices=("auto", "all", "none"), default="auto",
                    help="auto: BN stats calibrated only for collapsed, *_bn and small models")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    if args.list:
        print("big:   " + " ".join(BIG))
        print("small: " + " ".join(SMALL))
        return 0
    torch.set_num_threads(args.threads)
    wanted = [m for m in args.models.split(",") if m]
    unknown = [m for m in wanted if m not in BIG and m not in SMALL]
    if unknown:
        ap.error("unknown model(s): " + ", ".join(unknown) + " (see --list)")

    photos = load_photos()
    photo_names = list(photos)
    print(f"photos: {', '.join(photo_names)} (+ mirrored) ; torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}, opset {OPSET}", flush=True)

    total = {"big": 0, "small": 0}
    t0 = time.time()
    if args.set in ("big", "all"):
        names = [m for m in BIG if not wanted or m in wanted]
        batch = photo_batch(photos, 224) if names else None
        for i, name in enumerate(names):
            t = time.time()
            model = build_big(base_name(name))
            idx = BIG.index(base_name(name)) % len(photo_names)
            total["big"] += export_one(name, model, batch, photo_names, idx, args.out_dir,
                                       preserve_bn=name.endswith("_bn"),
                                       calibrate=args.calibrate)
            print(f"    ({time.time() - t:.1f} s)", flush=True)
            del model
    if args.set in ("small", "all"):
        names = [m for m in SMALL if not wanted or m in wanted]
        batch = photo_batch(photos, 64) if names else None
        for name in names:
            base = base_name(name)
            torch.manual_seed(seed_of(base))
            model = SMALL[name]().eval()
            gen = torch.Generator().manual_seed(seed_of(base) + 1)
            idx = list(SMALL).index(base) % len(photo_names)
            total["small"] += export_one(name, model, batch, photo_names, idx,
                                         args.small_out_dir, preserve_bn=name.endswith("_bn"),
                                         calibrate=args.calibrate, randomize_gen=gen)
    print(f"total onnx: big {human(total['big'])}, small {human(total['small'])} "
          f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
