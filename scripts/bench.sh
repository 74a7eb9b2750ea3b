#!/usr/bin/env bash
# Speed and memory of lrpx against ONNX Runtime and PyTorch, interleaved
# rounds in one run, as ratios; records the CPU model, its vector
# extensions and the load average. See scripts/bench.py (--help) for the
# options and what each column means.
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
