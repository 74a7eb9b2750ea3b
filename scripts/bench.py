#!/usr/bin/python3
"""Speed and memory of lrpx against ONNX Runtime and PyTorch, measured in
the same run on the same machine, reported as ratios.

    scripts/bench.sh [--models a,b] [--threads 1,2] [--batch 1,8]
        [-n RUNS] [-r ROUNDS] [--build DIR | --lrpx BINARY] [--explain C1,C2] [--gradient]
        [--torch] [--load] [--rss] [--out FILE.md] [MODEL...]

  the issue's full table:
    scripts/bench.sh --threads 1,2 --batch 1,8 -r 5 \
        --explain epsilon_plus_flat,epsilon_gamma_box --gradient --torch --load --rss

For every model, batch size and thread count the peers take turns ROUNDS
times (lrpx, ONNX Runtime, PyTorch, lrpx, ...), each turn timing RUNS
passes after warm-ups; a figure is the median over the turns of each
turn's median. Interleaving means a change in machine load hits every
peer alike; the ratios are the figures to quote, not the milliseconds.

Columns (ms; ratios as "x ORT" are multiples of ONNX Runtime's inference
time in the same run):
  lrpx, ORT, lrpx/ORT      inference (lrpx bench / onnxruntime-node), wall
  CPU                      the same as process CPU time per pass (all
                           threads): on a loaded machine the steadier
                           figure; at 2 threads it counts both threads'
                           work (ORT's idle workers spin, which adds to
                           its CPU time)
  explain C                lrpx explanation with composite C (forward +
                           relevance pass), as a multiple of ORT inference
                           (wall), and its process CPU time as a multiple
                           of ORT's inference CPU time ("x ORT CPU"; at one
                           thread the steadiest figure on a loaded machine)
  gradient                 lrpx gradient of the predicted class (forward +
                           backward)
  torch lrp                the first composite in float32 PyTorch:
                           scripts/lrp_reference.py's Zennit-style modified
                           gradient (a hook per linear layer re-running it
                           on modified weights, autograd), our
                           re-implementation, not Zennit itself
  torch grad               a plain PyTorch autograd pass (forward +
                           backward) of the torchvision model, the floor of
                           any hook-based explainer
With --load: time to a runnable model (lrpx: load in `lrpx bench`; ORT:
session creation) and the minor page faults and peak RSS of a process that
only loads (`lrpx info` / ort_run.js --load-only), file in the page cache.
With --rss: peak RSS of `lrpx run` and `lrpx explain` (first composite).

The header records the CPU model, its vector extensions, the kernel, the
load average before and after, and the commit. MODEL is a name in
models/zoo (scripts/export_zoo.py) or a path to NAME.onnx with
NAME.input.npy beside it. Batch sizes above the model's fixed one use a
copy with a symbolic batch dimension (made once under --cache).

onnxruntime-node: $LRPX_ORT_NODE_MODULES, else scripts/node/node_modules,
else it is installed (npm install --ignore-scripts) into --cache, outside
the repository.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = ["vgg16", "resnet18", "resnet50", "densenet121", "mobilenet_v2",
                  "efficientnet_b0", "squeezenet1_1", "googlenet"]
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "amx")
ORT_VERSION = "1.30.0"


def sh(cmd, env=None, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return r


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def cpu_info():
    model, flags = "?", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and model == "?":
                    model = v.strip()
                elif k == "flags" and not flags:
                    flags = v.split()
    except OSError:
        pass
    vec = [f for f in flags if f in VECTOR_FLAGS or f.startswith("avx512") or f.startswith("amx")]
    return model, vec


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def ort_modules(cache):
    env = os.environ.get("LRPX_ORT_NODE_MODULES")
    if env and os.path.isdir(os.path.join(env, "onnxruntime-node")):
        return env
    local = os.path.join(ROOT, "scripts", "node", "node_modules")
    if os.path.isdir(os.path.join(local, "onnxruntime-node")):
        return local
    d = os.path.join(cache, "ort")
    mods = os.path.join(d, "node_modules")
    if not os.path.isdir(os.path.join(mods, "onnxruntime-node")):
        os.makedirs(d, exist_ok=True)
        print("installing onnxruntime-node %s into %s" % (ORT_VERSION, d), file=sys.stderr)
        sh(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", d,
            "onnxruntime-node@" + ORT_VERSION])
    return mods


def batched_model(model, batch, cache):
    """(model path, input path) for batch size `batch`."""
    base = model[:-len(".onnx")]
    x = np.load(base + ".input.npy")
    import onnx
    m = onnx.load(model, load_external_data=False)
    dim0 = m.graph.input[0].type.tensor_type.shape.dim[0]
    fixed = dim0.HasField("dim_value") and dim0.dim_value == x.shape[0]
    name = os.path.basename(base)
    if batch == x.shape[0]:
        return model, base + ".input.npy"
    os.makedirs(cache, exist_ok=True)
    inp = os.path.join(cache, "%s.b%d.input.npy" % (name, batch))
    if not os.path.exists(inp):
        np.save(inp, np.ascontiguousarray(np.repeat(x, batch // x.shape[0], axis=0)))
    if not fixed:
        return model, inp
    out = os.path.join(cache, "%s.dynbatch.onnx" % name)
    if not os.path.exists(out):
        m = onnx.load(model)
        for v in list(m.graph.input[:1]) + list(m.graph.output):
            d = v.type.tensor_type.shape.dim[0]
            d.ClearField("dim_value")
            d.dim_param = "N"
        onnx.save(m, out)
    return out, inp


class Runner:
    def __init__(self, args, cache):
        self.a = args
        self.lrpx = args.lrpx or os.path.join(args.build, "src", "cli", "lrpx")
        self.ort_env = dict(os.environ, LRPX_ORT_NODE_MODULES=ort_modules(cache))
        self.ort = ["node", os.path.join(ROOT, "scripts", "node", "ort_run.js")]
        self.tmp = tempfile.mkdtemp(prefix="lrpx-bench-")

    def lrpx_bench(self, model, inp, threads):
        cmd = [self.lrpx, "bench", model, inp, "-n", str(self.a.n), "--warmup", "1",
               "--threads", str(threads)]
        if self.a.explain:
            # epsilon_gamma_box's bounds: the ImageNet-normalised range of
            # [0, 1] pixels, over all channels
            cmd += ["--explain", self.a.explain, "--low", "-2.1179", "--high", "2.6400"]
        if self.a.gradient:
            cmd += ["--gradient"]
        env = dict(os.environ, LRPX_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        return last_json(sh(cmd, env=env).stdout)

    def ort_bench(self, model, inp, threads):
        cmd = self.ort + [model, self.tmp, inp, "--threads", str(threads), "--bench",
                          str(self.a.n)]
        return last_json(sh(cmd, env=self.ort_env).stdout)

    def torch_bench(self, name, model, inp, threads, batch):
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench_torch.py"), model, inp,
               "--threads", str(threads), "-n", str(self.a.n), "--composite",
               self.a.explain.split(",")[0] if self.a.explain else "epsilon_plus_flat",
               "--torchvision", name]
        r = sh(cmd, check=False)
        if r.returncode != 0:
            print("torch peer failed for %s: %s" % (name, r.stderr.strip()[-300:]), file=sys.stderr)
            return {}
        return last_json(r.stdout)

    def timed(self, cmd, env=None):
        """wall s, peak RSS KiB, minor faults, major faults, stdout of cmd under /usr/bin/time"""
        fmt = "TIME %e %M %R %F"
        r = sh(["/usr/bin/time", "-f", fmt] + cmd, env=env)
        line = [l for l in r.stderr.splitlines() if l.startswith("TIME ")][-1].split()
        return float(line[1]), int(line[2]), int(line[3]), int(line[4]), r.stdout


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt(v, nd=1):
    return "—" if v is None else ("%.*f" % (nd, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", default="1")
    ap.add_argument("-n", type=int, default=10, help="timed passes per turn")
    ap.add_argument("-r", "--rounds", type=int, default=5, help="interleaved turns")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--lrpx", help="time this lrpx binary (a copy: rebuilding then cannot "
                    "change it mid-run) instead of building --build")
    ap.add_argument("--explain", default="", help="composites, comma-separated")
    ap.add_argument("--gradient", action="store_true")
    ap.add_argument("--torch", action="store_true", help="PyTorch peers (needs --explain)")
    ap.add_argument("--load", action="store_true", help="load time, page faults, RSS")
    ap.add_argument("--rss", action="store_true", help="peak RSS of lrpx run / explain")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "lrpx-bench"))
    ap.add_argument("--out", help="also write the report (Markdown) here")
    ap.add_argument("model", nargs="*", help="models (instead of --models)")
    a = ap.parse_args()
    if a.model:
        a.models = ",".join(a.model)

    if not a.lrpx:
        if not os.path.exists(os.path.join(a.build, "build.ninja")):
            sh(["meson", "setup", a.build, "-Dbuildtype=release", "-Dtests=false"])
        sh(["ninja", "-C", a.build, "src/cli/lrpx"])
    run = Runner(a, a.cache)

    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    model_name, vec = cpu_info()
    commit = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
               check=False).stdout.strip()
    out("- date: %s, commit %s%s" % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%MZ"),
                                     commit, " (with local changes)" if dirty else ""))
    out("- CPU: %s, %d cores online, kernel %s" % (model_name, os.cpu_count(), platform.release()))
    out("- vector extensions: %s" % " ".join(vec))
    out("- load average at start: %s" % loadavg())
    out("- %d interleaved rounds x %d passes, medians; ONNX Runtime: onnxruntime-node, "
        "all graph optimisations, intra-op threads = lrpx threads" % (a.rounds, a.n))
    out()

    comps = [c for c in a.explain.split(",") if c]
    head = ["model", "batch", "threads", "lrpx ms", "ORT ms", "lrpx/ORT", "lrpx CPU ms",
            "ORT CPU ms", "CPU lrpx/ORT"]
    for c in comps:
        head += ["%s ms" % c, "x ORT", "x ORT CPU"]
    if a.gradient:
        head += ["gradient ms", "x ORT", "x ORT CPU"]
    if a.torch and comps:
        head += ["torch lrp ms", "x ORT", "torch grad ms", "x ORT"]
    out("| " + " | ".join(head) + " |")
    out("|" + "---|" * len(head))
    loads = []
    for name in [m for m in a.models.split(",") if m]:
        model = name if name.endswith(".onnx") else os.path.join(ROOT, "models", "zoo", name + ".onnx")
        if not os.path.exists(model):
            print("skipping %s: %s missing (scripts/export_zoo.py)" % (name, model), file=sys.stderr)
            continue
        short = os.path.basename(model)[:-5]
        for batch in [int(b) for b in a.batch.split(",")]:
            bmodel, binp = batched_model(model, batch, a.cache)
            for threads in [int(t) for t in a.threads.split(",")]:
                L, O, E, G, TL, TG = [], [], {c: [] for c in comps}, [], [], []
                LC, OC, EC, GC = [], [], {c: [] for c in comps}, []
                for _ in range(a.rounds):
                    lj = run.lrpx_bench(bmodel, binp, threads)
                    oj = run.ort_bench(bmodel, binp, threads)
                    L.append(lj["run"]["median_ms"])
                    O.append(oj["median_ms"])
                    LC.append(lj["run_cpu"]["median_ms"])
                    OC.append(oj.get("median_cpu_ms"))
                    for c in comps:
                        E[c].append(lj["explain_" + c]["median_ms"])
                        EC[c].append(lj["explain_%s_cpu" % c]["median_ms"])
                    if a.gradient:
                        G.append(lj["gradient"]["median_ms"])
                        GC.append(lj["gradient_cpu"]["median_ms"])
                    if a.torch and comps:
                        tj = run.torch_bench(short, bmodel, binp, threads, batch)
                        TL.append(tj.get("lrp_ms"))
                        TG.append(tj.get("grad_ms"))
                l, o = med(L), med(O)
                lc, oc = med(LC), med(OC)
                row = [short, str(batch), str(threads), fmt(l), fmt(o), fmt(l / o, 2), fmt(lc),
                       fmt(oc), fmt(lc / oc if oc else None, 2)]
                for c in comps:
                    e, ec = med(E[c]), med(EC[c])
                    row += [fmt(e), fmt(e / o, 1), fmt(ec / oc if oc else None, 1)]
                if a.gradient:
                    g, gc = med(G), med(GC)
                    row += [fmt(g), fmt(g / o, 1), fmt(gc / oc if oc else None, 1)]
                if a.torch and comps:
                    tl, tg = med(TL), med(TG)
                    row += [fmt(tl), fmt(tl / o if tl else None, 1), fmt(tg),
                            fmt(tg / o if tg else None, 1)]
                out("| " + " | ".join(row) + " |")
        if a.load or a.rss:
            loads.append((short, model))
    if a.load or a.rss:
        out()
        head = ["model", "weights MB"]
        if a.load:
            head += ["lrpx load ms", "ORT create ms", "lrpx/ORT", "lrpx info: faults, peak RSS MB",
                     "ORT load: faults, peak RSS MB"]
        if a.rss:
            head += ["lrpx run peak RSS MB"] + (["lrpx explain peak RSS MB"] if comps else [])
        out("| " + " | ".join(head) + " |")
        out("|" + "---|" * len(head))
        for short, model in loads:
            inp = model[:-5] + ".input.npy"
            row = [short, "%.0f" % (os.path.getsize(model) / 1e6)]
            if a.load:
                LL, OL, lf, of = [], [], [], []
                for _ in range(a.rounds):
                    w, rss, minor, major, so = run.timed([run.lrpx, "info", model])
                    lf.append((minor, rss))
                    # load time in-process: lrpx bench with one pass
                    r = sh([run.lrpx, "bench", model, inp, "-n", "1", "--warmup", "0",
                            "--threads", "1"])
                    LL.append(last_json(r.stdout)["load_ms"])
                    w, rss, minor, major, so = run.timed(run.ort + [model, run.tmp, inp, "--load-only"],
                                                         env=run.ort_env)
                    of.append((minor, rss))
                    OL.append(last_json(so)["create_ms"])
                l, o = med(LL), med(OL)
                lmin = min(lf)
                omin = min(of)
                row += [fmt(l, 0), fmt(o, 0), fmt(l / o, 2),
                        "%d, %.0f" % (lmin[0], lmin[1] / 1024), "%d, %.0f" % (omin[0], omin[1] / 1024)]
            if a.rss:
                _, rss, _, _, _ = run.timed([run.lrpx, "run", model, inp])
                row.append("%.0f" % (rss / 1024))
                if comps:
                    rel = os.path.join(run.tmp, "rel.npy")
                    _, rss, _, _, _ = run.timed([run.lrpx, "explain", model, inp, "--composite",
                                                 comps[0], "-o", rel])
                    row.append("%.0f" % (rss / 1024))
            out("| " + " | ".join(row) + " |")
    out()
    out("- load average at end: %s" % loadavg())
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
