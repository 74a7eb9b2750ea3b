"""lrpx: run ONNX models and explain their predictions with layer-wise
relevance propagation, from Python, over the C library liblrpx.

    import lrpx
    m = lrpx.Model("net.onnx")
    R = m.explain(x, composite="epsilon_plus_flat", rules={"Conv": "zplus"})
    rgb = lrpx.heatmap(R)                      # (H, W, 3) uint8

Arrays go in and out as NumPy arrays. Errors raise lrpx.Error with lrpx's
message and status. Calls into the library release the GIL; each thread
gets its own session of a Model. See python/README.md.
"""
from ._core import (Error, EvalResult, Model, Session, ValueInfo, build_info, colormaps,
                    composites, heatmap, library_version, methods, metric_params, metrics,
                    preprocess, presets)

__version__ = "0.2.0"

__all__ = ["Error", "EvalResult", "Model", "Session", "ValueInfo", "build_info", "colormaps",
           "composites", "heatmap", "library_version", "methods", "metric_params", "metrics",
           "preprocess", "presets", "__version__"]
