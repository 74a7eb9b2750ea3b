"""The C library through ctypes: finding liblrpx, the structs of lrpx.h
that Python fills or reads, and the prototype of every function used.

Every struct here mirrors include/lrpx.h field by field; the test
python/tests/test_abi.py compares each offset and size with what the C
compiler says (a probe the test compiles), so a change to the header that is
not made here fails the tests instead of corrupting memory.

ctypes releases the GIL around every call into a CDLL, so model loads,
forward passes and explanations let other Python threads run.
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int,
                    c_int64, c_size_t, c_uint8, c_uint64, c_void_p)

# The sizes of lrpx.h's fixed arrays (the ABI test compares each with the
# header's macro of the same name).
CONSTANTS = {"LRPX_MAX_RANK": 8, "LRPX_LRP_COMPOSITE_MAX": 48, "LRPX_LRP_MAX_OVERRIDES": 64,
             "LRPX_LRP_OVERRIDE_MAX": 128, "LRPX_LRP_MAX_BOX_C": 16,
             "LRPX_IMAGE_FORMAT_MAX": 8, "LRPX_PREPROCESS_NAME_MAX": 32}
MAX_RANK = CONSTANTS["LRPX_MAX_RANK"]
_K = CONSTANTS

# ---- finding the library ----

_SONAMES = ("liblrpx.so",)


def _build_tree_candidates():
    """build/src/liblrpx.so of the source tree this package sits in
    (python/lrpx/ in a checkout of lrpx). Only build/: the sanitizer
    builds (build-asan, build-tsan) cannot load into a plain interpreter."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.isfile(os.path.join(root, "include", "lrpx.h")):
        return []
    return [os.path.join(root, "build", "src", "liblrpx.so")]


def _install_hints():
    """Where the library was when the package was installed (recorded by
    python/_build/lrpx_backend.py), if that file exists."""
    try:
        from . import _install_hint
        return list(_install_hint.LIBRARIES)
    except ImportError:
        return []


def _pkg_config_candidates():
    exe = shutil.which("pkg-config")
    if not exe:
        return []
    try:
        libdir = subprocess.run([exe, "--variable=libdir", "lrpx"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    return [os.path.join(libdir, "liblrpx.so")] if libdir else []


def library_candidates():
    """The paths tried, in order: $LRPX_LIBRARY; a build tree around this
    package; the library recorded at install time; pkg-config's libdir;
    then the dynamic loader's own search (ld.so.conf, LD_LIBRARY_PATH)."""
    env = os.environ.get("LRPX_LIBRARY")
    if env:
        return [env]
    found = ctypes.util.find_library("lrpx")
    return (_build_tree_candidates() + _install_hints() + _pkg_config_candidates() +
            ([found] if found else []) + list(_SONAMES))


def _load():
    tried = []
    for path in library_candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path + " (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("lrpx: cannot find liblrpx.so; build it (meson setup build && ninja -C "
                      "build), install it (meson install), or set LRPX_LIBRARY to its path. "
                      "Tried: " + "; ".join(tried))


class _DlInfo(Structure):
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_void_p), ("dli_sname", c_char_p),
                ("dli_saddr", c_void_p)]


def _real_path(lib, path):
    """The file the dynamic loader opened for lib (dladdr), so that a
    library found by name ("liblrpx.so.0.2") is reported by its path."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
        info = _DlInfo()
        if dladdr(ctypes.cast(lib.lrpx_version, c_void_p), ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(info.dli_fname.decode()) if os.path.sep not in path else path
    except (AttributeError, OSError):
        pass
    return path


lib, library_path = _load()
library_path = _real_path(lib, library_path)

# ---- structs (include/lrpx.h) ----


class TensorView(Structure):
    _fields_ = [("dtype", c_int), ("rank", c_int), ("dims", c_int64 * MAX_RANK),
                ("n_elems", c_int64), ("data", c_void_p)]


class ValueInfo(Structure):
    _fields_ = [("name", c_char_p), ("dtype", c_int), ("rank", c_int),
                ("dims", c_int64 * MAX_RANK), ("dim_params", c_char_p * MAX_RANK)]


class LoadOptions(Structure):
    _fields_ = [("max_file_bytes", c_int64), ("max_nodes", c_int64),
                ("max_tensor_bytes", c_int64), ("max_total_bytes", c_int64),
                ("fold_batchnorm", c_int), ("allow_unsupported", c_int),
                ("randomize_layers", c_int), ("randomize_seed", c_uint64)]


class LrpOptions(Structure):
    _fields_ = [("composite", c_char * _K["LRPX_LRP_COMPOSITE_MAX"]), ("n_overrides", c_int),
                ("overrides",
                 (c_char * _K["LRPX_LRP_OVERRIDE_MAX"]) * _K["LRPX_LRP_MAX_OVERRIDES"]),
                ("box_low", c_double), ("box_high", c_double), ("box_low_c", POINTER(c_float)),
                ("box_high_c", POINTER(c_float)), ("n_box_c", c_int),
                ("box_low_own", c_float * _K["LRPX_LRP_MAX_BOX_C"]),
                ("box_high_own", c_float * _K["LRPX_LRP_MAX_BOX_C"]),
                ("maxpool", c_int), ("zero_bias", c_int), ("seed", c_int),
                ("target", c_int64), ("seed_data", POINTER(c_float)),
                ("seed_n_elems", c_int64), ("skip_softmax", c_int),
                ("output_name", c_char_p), ("stabilizer", c_double),
                ("targets", POINTER(c_int64)), ("n_targets", c_int64)]


class AttrOptions(Structure):
    _fields_ = [("method", c_int), ("lrp", LrpOptions), ("input_name", c_char_p),
                ("internal_batch", c_int), ("steps", c_int), ("quadrature", c_int),
                ("baseline", c_double), ("baseline_data", TensorView), ("samples", c_int),
                ("sigma", c_double), ("seed", c_uint64), ("noise", TensorView), ("of", c_int),
                ("patch_rank", c_int), ("patch", c_int64 * MAX_RANK),
                ("patch_stride", c_int64 * MAX_RANK), ("fill", c_double),
                ("feature_mask", TensorView), ("root_iters", c_int)]


class AttrReport(Structure):
    _fields_ = [("cls", c_int64), ("score", c_double), ("sum", c_double),
                ("ref_score", c_double), ("gap", c_double), ("distance", c_double),
                ("n_evals", c_int64)]


class Image(Structure):
    _fields_ = [("width", c_int), ("height", c_int), ("channels", c_int),
                ("bit_depth", c_int), ("data", POINTER(c_float)), ("file_width", c_int),
                ("file_height", c_int), ("orientation", c_int),
                ("format", c_char * _K["LRPX_IMAGE_FORMAT_MAX"])]


class Pixmap(Structure):
    _fields_ = [("width", c_int), ("height", c_int), ("channels", c_int),
                ("data", POINTER(c_uint8))]


class HeatmapOptions(Structure):
    _fields_ = [("cmap", c_void_p), ("norm", c_int), ("percentile", c_double),
                ("vmax", c_double), ("gamma", c_double)]


class Preprocess(Structure):
    _fields_ = [("name", c_char * _K["LRPX_PREPROCESS_NAME_MAX"]), ("resize", c_int),
                ("resize_shorter", c_int), ("resize_width", c_int), ("resize_height", c_int),
                ("crop_width", c_int), ("crop_height", c_int), ("interp", c_int),
                ("antialias", c_int), ("quantize", c_int), ("scale", c_double), ("n_mean", c_int),
                ("mean", c_double * 3), ("std", c_double * 3), ("color", c_int),
                ("layout", c_int), ("alpha", c_int)]


class ImageGeometry(Structure):
    _fields_ = [("src_width", c_int), ("src_height", c_int), ("resized_width", c_int),
                ("resized_height", c_int), ("crop_x", c_int), ("crop_y", c_int),
                ("width", c_int), ("height", c_int)]


class ImageTensor(Structure):
    _fields_ = [("view", TensorView), ("data", POINTER(c_float)), ("geom", ImageGeometry),
                ("layout", c_int), ("color", c_int)]


class TrickOptions(Structure):
    _fields_ = [("method", c_int), ("attr", POINTER(AttrOptions)), ("input_name", c_char_p),
                ("nhwc", c_int), ("translate", c_int), ("pad", c_int),
                ("window_width", c_int), ("window_height", c_int),
                ("stride_x", c_int), ("stride_y", c_int)]


class EvalOptions(Structure):
    _fields_ = [("x", POINTER(TensorView)), ("input_name", c_char_p), ("nhwc", c_int),
                ("targets", POINTER(c_int64)), ("attr", POINTER(TensorView)),
                ("method", POINTER(AttrOptions)), ("mask", POINTER(TensorView)),
                ("noise", POINTER(TensorView)), ("seed", c_uint64), ("max_batch", c_int)]


class EvalSample(Structure):
    _fields_ = [("target", c_int64), ("kind", c_int), ("score", c_double),
                ("n_curve", c_int64), ("curve", POINTER(c_double)),
                ("curve_labels", POINTER(c_char_p)), ("summary", c_double),
                ("n_extra", c_int), ("extra_names", POINTER(c_char_p)),
                ("extra", POINTER(c_double))]


class MetricParamDoc(Structure):
    _fields_ = [("name", c_char_p), ("type", c_char_p), ("default_text", c_char_p),
                ("help", c_char_p), ("choices", POINTER(c_char_p))]


STRUCTS = {"lrpx_tensor_view": TensorView, "lrpx_value_info": ValueInfo,
           "lrpx_load_options": LoadOptions, "lrpx_lrp_options": LrpOptions,
           "lrpx_attr_options": AttrOptions, "lrpx_attr_report": AttrReport,
           "lrpx_image": Image, "lrpx_pixmap": Pixmap,
           "lrpx_heatmap_options": HeatmapOptions, "lrpx_preprocess": Preprocess,
           "lrpx_image_geometry": ImageGeometry, "lrpx_image_tensor": ImageTensor,
           "lrpx_trick_options": TrickOptions, "lrpx_eval_options": EvalOptions,
           "lrpx_eval_sample": EvalSample, "lrpx_metric_param_doc": MetricParamDoc}

# ---- enums (the values of lrpx.h) ----

DTYPE_FLOAT32, DTYPE_UINT8, DTYPE_INT8 = 1, 2, 3
DTYPE_INT32, DTYPE_INT64, DTYPE_BOOL, DTYPE_FLOAT64 = 6, 7, 9, 11
SEED_PREDICTED, SEED_TARGET, SEED_TENSOR, SEED_TARGETS = 0, 1, 2, 3
LAYOUT_UNSET, LAYOUT_NCHW, LAYOUT_NHWC = 0, 1, 2
HEAT_REDUCE = {"sum": 0, "norm": 1, "l2": 1}
SHIFT_PAD = {"edge": 0, "zero": 1}
SCORE_KINDS = {0: None, 1: "number", 2: "bool"}
HEAT_NORM = {"symmetric": 0, "minmax": 1}

# ---- prototypes ----

PROGRESS_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int64, c_int64)   # lrpx_progress_fn

_status = c_int
_err = [c_char_p, c_size_t]          # char *errbuf, size_t errlen
_P = POINTER
_protos = {
    "lrpx_status_str": (c_char_p, [c_int]),
    "lrpx_status_name": (c_char_p, [c_int]),
    "lrpx_dtype_name": (c_char_p, [c_int]),
    "lrpx_version": (c_char_p, []),
    "lrpx_version_number": (c_int, []),
    "lrpx_opset_range": (None, [_P(c_int64), _P(c_int64)]),
    "lrpx_features": (c_char_p, []),
    "lrpx_load_options_default": (None, [_P(LoadOptions)]),
    "lrpx_model_load_file": (_status, [c_char_p, _P(LoadOptions), _P(c_void_p)]),
    "lrpx_model_errmsg": (c_char_p, [c_void_p]),
    "lrpx_model_free": (None, [c_void_p]),
    "lrpx_model_n_inputs": (c_int, [c_void_p]),
    "lrpx_model_n_outputs": (c_int, [c_void_p]),
    "lrpx_model_input_info": (_status, [c_void_p, c_int, _P(ValueInfo)]),
    "lrpx_model_output_info": (_status, [c_void_p, c_int, _P(ValueInfo)]),
    "lrpx_model_opset": (c_int64, [c_void_p]),
    "lrpx_session_init": (_status, [c_void_p, _P(c_void_p)]),
    "lrpx_session_errmsg": (c_char_p, [c_void_p]),
    "lrpx_session_free": (None, [c_void_p]),
    "lrpx_session_set_input": (_status, [c_void_p, c_char_p, c_int, c_int, _P(c_int64),
                                         c_void_p]),
    "lrpx_session_run": (_status, [c_void_p]),
    "lrpx_session_output": (_status, [c_void_p, c_int, _P(TensorView)]),
    "lrpx_session_set_threads": (_status, [c_void_p, c_int]),
    "lrpx_session_explained_output": (_status, [c_void_p, c_int64, _P(c_int64),
                                                _P(c_double)]),
    "lrpx_lrp_options_default": (None, [_P(LrpOptions)]),
    "lrpx_lrp_composite_name": (c_char_p, [c_int]),
    "lrpx_lrp_options_set_composite": (_status, [_P(LrpOptions), c_char_p] + _err),
    "lrpx_lrp_options_parse_rule": (_status, [_P(LrpOptions), c_char_p] + _err),
    "lrpx_lrp_options_parse_maxpool": (_status, [c_char_p, _P(c_int)]),
    "lrpx_attr_method_name": (c_char_p, [c_int]),
    "lrpx_attr_method_parse": (_status, [c_char_p, _P(c_int)]),
    "lrpx_quadrature_name": (c_char_p, [c_int]),
    "lrpx_quadrature_parse": (_status, [c_char_p, _P(c_int)]),
    "lrpx_attr_options_default": (None, [_P(AttrOptions)]),
    "lrpx_session_attribute": (_status, [c_void_p, _P(AttrOptions)]),
    "lrpx_session_attribution": (_status, [c_void_p, _P(TensorView)]),
    "lrpx_session_attribution_report": (_status, [c_void_p, c_int64, _P(AttrReport)]),
    "lrpx_image_load": (_status, [c_char_p, c_void_p, _P(_P(Image))] + _err),
    "lrpx_image_free": (None, [_P(Image)]),
    "lrpx_preprocess_init": (None, [_P(Preprocess)]),
    "lrpx_preprocess_preset": (_status, [_P(Preprocess), c_char_p] + _err),
    "lrpx_preprocess_preset_name": (c_char_p, [c_int]),
    "lrpx_preprocess_load_json": (_status, [_P(Preprocess), c_char_p] + _err),
    "lrpx_preprocess_from_shape": (_status, [_P(Preprocess), c_int, _P(c_int64)] + _err),
    "lrpx_image_preprocess": (_status, [_P(Image), _P(Preprocess), _P(_P(ImageTensor))] + _err),
    "lrpx_image_tensor_free": (None, [_P(ImageTensor)]),
    "lrpx_colormap_builtin": (c_void_p, [c_char_p]),
    "lrpx_colormap_builtin_name": (c_char_p, [c_int]),
    "lrpx_heatmap_options_default": (None, [_P(HeatmapOptions)]),
    "lrpx_heatmap_reduce": (_status, [_P(TensorView), c_int, c_int, _P(_P(Image))] + _err),
    "lrpx_heatmap_render": (_status, [_P(Image), _P(HeatmapOptions), _P(_P(Pixmap))] + _err),
    "lrpx_pixmap_free": (None, [_P(Pixmap)]),
    "lrpx_pixmap_init": (_status, [c_int, c_int, c_int, _P(_P(Pixmap))]),
    "lrpx_pixmap_overlay": (_status, [_P(Pixmap), _P(Pixmap), c_double, _P(_P(Pixmap))] + _err),
    "lrpx_pixmap_panel": (_status, [_P(Pixmap), _P(Pixmap), _P(_P(Pixmap))] + _err),
    "lrpx_colormap_load": (_status, [c_char_p, _P(c_void_p)] + _err),
    "lrpx_colormap_free": (None, [c_void_p]),
    "lrpx_trick_options_default": (None, [_P(TrickOptions)]),
    "lrpx_session_explain_translated": (_status, [c_void_p, _P(TensorView), _P(LrpOptions),
                                                  _P(TrickOptions), _P(c_float)]),
    "lrpx_session_explain_windows": (_status, [c_void_p, _P(TensorView), _P(LrpOptions),
                                               _P(TrickOptions), _P(c_float)]),
    "lrpx_window_count": (c_int, [c_int, c_int, c_int]),
    "lrpx_session_set_progress": (None, [c_void_p, PROGRESS_FN, c_void_p]),
    "lrpx_metric_id_name": (c_char_p, [c_int]),
    "lrpx_metric_parse": (_status, [c_char_p, _P(c_void_p)] + _err),
    "lrpx_metric_free": (None, [c_void_p]),
    "lrpx_metric_kind": (c_int, [c_void_p]),
    "lrpx_metric_params_json": (c_size_t, [c_void_p, c_char_p, c_size_t]),
    "lrpx_metric_param_doc_get": (_status, [c_int, c_int, _P(MetricParamDoc)]),
    "lrpx_eval_options_default": (None, [_P(EvalOptions)]),
    "lrpx_session_evaluate": (_status, [c_void_p, c_void_p, _P(EvalOptions), _P(c_void_p)]),
    "lrpx_eval_result_n": (c_int64, [c_void_p]),
    "lrpx_eval_result_sample": (_status, [c_void_p, c_int64, _P(EvalSample)]),
    "lrpx_eval_result_free": (None, [c_void_p]),
}


def _bind():
    missing = []
    for name, (restype, argtypes) in _protos.items():
        fn = getattr(lib, name, None)
        if fn is None:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError("lrpx: %s is too old for this package (no %s); version %s" % (
            library_path, ", ".join(missing),
            lib.lrpx_version().decode() if hasattr(lib, "lrpx_version") else "< 0.2.0"))


_bind()


def text(b):
    """A C string (bytes or None) as str."""
    return b.decode("utf-8", "replace") if b is not None else None


def names(fn):
    """The strings fn(0), fn(1), ... up to the first NULL."""
    out, i = [], 0
    while True:
        s = fn(i)
        if s is None:
            return out
        out.append(text(s))
        i += 1
