#!/usr/bin/python3
"""Compare lrpx and ONNX Runtime against PyTorch reference outputs.

For every NAME.onnx in the given folders that has NAME.input.npy and a
reference NAME.torch.npy (or NAME.expected.npy, e.g. numpy-computed), run

  lrpx run NAME.onnx NAME.input.npy -o OUT.npy          (first output)
  node scripts/node/ort_run.js NAME.onnx OUTDIR NAME.input.npy

and print a Markdown table of relative differences
max|a - b| / max|b| and top-1 agreement.  A row passes when every
difference that could be computed is <= --tol (default 1e-4) and lrpx ran
(unless --no-lrpx).  ORT is a peer: if it cannot run, its columns say so
and the row is judged on lrpx vs the reference alone.  Where NAME.torch64.npy
exists (the PyTorch module run in float64), the table also shows how far
PyTorch's own float32 result is from it: the model's rounding-noise floor.
Exit status 1 if any row fails, 2 if no model was found.

Usage:
  /usr/bin/python3 scripts/compare_models.py [DIR ...]   (default models/zoo)
      [--lrpx build/src/cli/lrpx] [--models a,b] [--tol 1e-4] [--threads 1]
      [--no-lrpx] [--no-ort] [--timeout 900] [--keep DIR] [--json FILE]
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_models(dirs, only):
    found = []
    for d in dirs:
        for onnx_path in sorted(glob.glob(os.path.join(d, "*.onnx"))):
            name = os.path.basename(onnx_path)[:-5]
            if only and name not in only:
                continue
            base = onnx_path[:-5]
            inp = base + ".input.npy"
            ref = None
            for suffix, kind in ((".torch.npy", "torch"), (".expected.npy", "expected")):
                if os.path.exists(base + suffix):
                    ref = (base + suffix, kind)
                    break
            if os.path.exists(inp) and ref:
                ref64 = base + ".torch64.npy"
                found.append(dict(name=name, onnx=onnx_path, input=inp, ref=ref[0],
                                  ref_kind=ref[1],
                                  ref64=ref64 if os.path.exists(ref64) else None))
    return found


def tail(text, n=300):
    text = (text or "").strip().replace("\n", " | ").replace("`", "'")
    return text if len(text) <= n else "..." + text[-n:]


def run(cmd, timeout):
    """Run a command; return (ok, stdout, message)."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
    except FileNotFoundError as e:
        return False, "", f"cannot start: {e}"
    except subprocess.TimeoutExpired:
        return False, "", f"timed out after {timeout} s"
    if p.returncode != 0:
        how = (f"killed by signal {-p.returncode}" if p.returncode < 0
               else f"exit {p.returncode}")
        return False, p.stdout, f"{how}: {tail(p.stderr) or tail(p.stdout)}"
    return True, p.stdout, ""


def load_npy(path):
    try:
        return np.load(path, allow_pickle=False), ""
    except Exception as e:  # noqa: BLE001 - reported per row
        return None, f"cannot read {path}: {e}"


def rel_diff(a, b):
    """max|a-b| / max|b| in float64; None with a reason if not comparable."""
    if a is None or b is None:
        return None, ""
    if a.shape != b.shape:
        if a.size == b.size:
            a = a.reshape(b.shape)
        else:
            return None, f"shape {a.shape} vs {b.shape}"
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    if not np.all(np.isfinite(a64)):
        return float("inf"), "non-finite values"
    scale = np.abs(b64).max() if b64.size else 0.0
    diff = np.abs(a64 - b64).max() if b64.size else 0.0
    return (diff / scale if scale > 0 else diff), ""


def top1(a):
    if a is None or a.size == 0:
        return None
    return int(np.argmax(a.reshape(-1)))


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.2e}"


def compare_one(m, args, work):
    row = dict(model=m["name"], ref_kind=m["ref_kind"], notes=[])
    ref, err = load_npy(m["ref"])
    if ref is None:
        row["notes"].append(err)

    lrpx_out = None
    row["lrpx_status"] = "skipped"
    if not args.no_lrpx:
        if not (os.path.isfile(args.lrpx) and os.access(args.lrpx, os.X_OK)):
            row["lrpx_status"] = "missing"
            row["notes"].append(f"lrpx binary not found: {args.lrpx}")
        else:
            out = os.path.join(work, m["name"] + ".lrpx.npy")
            ok, _, msg = run([args.lrpx, "run", m["onnx"], m["input"], "-o", out], args.timeout)
            if ok:
                lrpx_out, err = load_npy(out)
                row["lrpx_status"] = "ok" if lrpx_out is not None else "bad output"
                if err:
                    row["notes"].append("lrpx: " + err)
            else:
                row["lrpx_status"] = "failed"
                row["notes"].append("lrpx: " + msg)

    ort_out = None
    row["ort_status"] = "skipped"
    if not args.no_ort:
        outdir = os.path.join(work, m["name"] + ".ort")
        ok, stdout, msg = run([args.node, args.ort_script, m["onnx"], outdir, m["input"],
                               "--threads", str(args.threads)], args.timeout)
        if ok:
            try:
                info = json.loads(stdout.strip().splitlines()[-1])
                ort_out, err = load_npy(info["outputs"][0]["file"])
                row["ort_status"] = "ok" if ort_out is not None else "bad output"
                if err:
                    row["notes"].append("ort: " + err)
            except (ValueError, KeyError, IndexError) as e:
                row["ort_status"] = "bad output"
                row["notes"].append(f"ort: cannot parse report ({e})")
        else:
            row["ort_status"] = "failed"
            row["notes"].append("ort: " + msg)

    row["noise"] = None
    if m["ref64"]:
        ref64, _ = load_npy(m["ref64"])
        row["noise"], _ = rel_diff(ref, ref64)
    row["lrpx_ref"], e1 = rel_diff(lrpx_out, ref)
    row["ort_ref"], e2 = rel_diff(ort_out, ref)
    row["lrpx_ort"], e3 = rel_diff(lrpx_out, ort_out)
    for label, e in (("lrpx vs ref", e1), ("ort vs ref", e2), ("lrpx vs ort", e3)):
        if e:
            row["notes"].append(f"{label}: {e}")
    row["top1"] = [top1(lrpx_out), top1(ref), top1(ort_out)]

    ok = ref is not None
    if not args.no_lrpx:
        ok = ok and row["lrpx_status"] == "ok" and row["lrpx_ref"] is not None
    for key in ("lrpx_ref", "ort_ref", "lrpx_ort"):
        if row[key] is not None and not row[key] <= args.tol:
            ok = False
    if args.no_lrpx and row["ort_ref"] is None:
        ok = False          # nothing was compared at all
    row["pass"] = bool(ok)
    return row


def print_table(rows, args):
    print(f"| model | lrpx vs torch | ORT vs torch | lrpx vs ORT | top-1 lrpx/torch/ORT "
          f"| torch fp32 vs fp64 | result (tol {args.tol:g}) | notes |")
    print("|---|---:|---:|---:|---|---:|---|---|")
    for r in rows:
        t = r["top1"]
        cells = ["–" if v is None else str(v) for v in t]
        known = [v for v in t if v is not None]
        agree = " ✓" if len(known) >= 2 and len(set(known)) == 1 else (
            " ✗" if len(set(known)) > 1 else "")
        name = r["model"] + ("" if r["ref_kind"] == "torch" else f" (ref: {r['ref_kind']})")
        lrpx_cell = fmt(r["lrpx_ref"]) if r["lrpx_ref"] is not None else (
            r["lrpx_status"] if r["lrpx_status"] != "ok" else "–")
        ort_cell = fmt(r["ort_ref"]) if r["ort_ref"] is not None else (
            r["ort_status"] if r["ort_status"] != "ok" else "–")
        notes = "; ".join(r["notes"]).replace("|", "\\|")
        print(f"| {name} | {lrpx_cell} | {ort_cell} | {fmt(r['lrpx_ort'])} | "
              f"{'/'.join(cells)}{agree} | {fmt(r['noise'])} | "
              f"{'pass' if r['pass'] else '**FAIL**'} | {notes} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="*", default=[os.path.join(ROOT, "models", "zoo")])
    ap.add_argument("--lrpx", default=os.path.join(ROOT, "build", "src", "cli", "lrpx"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--ort-script", default=os.path.join(ROOT, "scripts", "node", "ort_run.js"))
    ap.add_argument("--models", default="", help="comma-separated subset")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1, help="ORT intra-op threads")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run")
    ap.add_argument("--no-lrpx", action="store_true", help="compare ORT vs reference only")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--keep", default="", help="keep outputs in this folder")
    ap.add_argument("--json", default="", help="also write the rows as JSON here")
    args = ap.parse_args()
    if args.no_lrpx and args.no_ort:
        ap.error("--no-lrpx and --no-ort leave nothing to compare")

    only = {m for m in args.models.split(",") if m}
    models = find_models(args.dirs, only)
    if not models:
        print(f"compare_models: no NAME.onnx with NAME.input.npy and NAME.torch.npy "
              f"in {', '.join(args.dirs)}", file=sys.stderr)
        return 2

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix="lrpx-compare-")
    rows = []
    try:
        for m in models:
            print(f"compare_models: {m['name']} ...", file=sys.stderr, flush=True)
            rows.append(compare_one(m, args, work))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print_table(rows, args)
    n_fail = sum(not r["pass"] for r in rows)
    print(f"\n{len(rows) - n_fail} passed, {n_fail} failed")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
