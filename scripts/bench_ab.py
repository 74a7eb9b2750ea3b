#!/usr/bin/python3
"""A/B timing of two lrpx binaries, interleaved, by process CPU time.

    scripts/bench_ab.py A_BINARY B_BINARY [--models a,b] [--threads 1]
        [--batch 1] [-n RUNS] [-r ROUNDS] [--explain C1,C2] [--gradient]

For every model the two binaries take turns ROUNDS times (A, B, A, B,
...), each turn a `lrpx bench` of RUNS passes after a warm-up. For each
figure `lrpx bench` prints (run_cpu, explain_<C>_cpu, gradient_cpu) the
table gives the median over turns of A and of B, and B/A. Meant for single
changes: copy the old build's binary (cp build/src/cli/lrpx /tmp/lrpx-a)
before rebuilding. Models are names in models/zoo or paths to NAME.onnx
with NAME.input.npy beside them; --batch > 1 reuses scripts/bench.py's
batched copies (under its cache).
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--models", default="resnet18")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("-r", "--rounds", type=int, default=5)
    ap.add_argument("--explain", default="")
    ap.add_argument("--gradient", action="store_true")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "lrpx-bench"))
    a = ap.parse_args()
    print("load average at start: %s" % bench.loadavg())
    print("| model | threads | figure | A CPU ms | B CPU ms | B/A |")
    print("|---|---|---|---|---|---|")
    for name in [m for m in a.models.split(",") if m]:
        model = name if name.endswith(".onnx") else os.path.join(bench.ROOT, "models", "zoo",
                                                                  name + ".onnx")
        model, inp = bench.batched_model(model, a.batch, a.cache)
        for threads in [int(t) for t in a.threads.split(",")]:
            res = {"a": {}, "b": {}}
            for _ in range(a.rounds):
                for side, binary in (("a", a.a), ("b", a.b)):
                    cmd = [binary, "bench", model, inp, "-n", str(a.n), "--warmup", "1",
                           "--threads", str(threads)]
                    if a.explain:
                        cmd += ["--explain", a.explain, "--low", "-2.1179", "--high", "2.6400"]
                    if a.gradient:
                        cmd += ["--gradient"]
                    env = dict(os.environ, LRPX_NUM_THREADS=str(threads),
                               OPENBLAS_NUM_THREADS=str(threads))
                    j = bench.last_json(bench.sh(cmd, env=env).stdout)
                    for k, v in j.items():
                        if k.endswith("_cpu") and isinstance(v, dict):
                            res[side].setdefault(k, []).append(v["median_ms"])
            for k in res["a"]:
                ma, mb = statistics.median(res["a"][k]), statistics.median(res["b"].get(k, [0]))
                print("| %s | %d | %s | %.1f | %.1f | %.3f |" % (os.path.basename(model)[:-5],
                                                                 threads, k, ma, mb, mb / ma),
                      flush=True)
    print("load average at end: %s" % bench.loadavg())


if __name__ == "__main__":
    main()
