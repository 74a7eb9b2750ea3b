"""Models, sessions, explanations, images and heatmaps over liblrpx."""
import ctypes
import threading
from ctypes import POINTER, byref, c_double, c_float, c_int, c_int64, c_void_p

import numpy as np

from . import _capi as C
from ._capi import lib

_STATUS_ENOMEM = 1
_STATUS_EINVAL = 4


class Error(Exception):
    """An lrpx failure. str(e) is lrpx's message; e.status is the status
    code (an int, 0 never occurs) and e.status_name its symbol, e.g.
    "LRPX_ESHAPE" (docs/errors.md)."""

    def __init__(self, message, status=_STATUS_EINVAL):
        super().__init__(message)
        self.status = int(status)
        self.status_name = C.text(lib.lrpx_status_name(self.status))


def _check(status, message):
    if status != 0:
        msg = message() if callable(message) else message
        raise Error(msg or C.text(lib.lrpx_status_str(status)), status)


class _Handle:
    """A C handle and its destructor. Models and sessions share the model's
    _Handle, so the C model is freed only after the last session on it,
    whatever order the garbage collector finalises the Python objects in
    (a Model and the sessions of its threads are never in a cycle)."""

    def __init__(self, ptr, free, keep=None):
        self.ptr, self._free, self._keep = ptr, free, keep

    def __del__(self):
        if self.ptr:
            self._free(self.ptr)
            self.ptr = None


def _constructed(status, handle, errmsg, free):
    """The handle a constructor filled in. lrpx constructors hand back a
    handle carrying the message even when they fail (NULL only for
    ENOMEM): raise that message, after freeing the handle."""
    if status != 0:
        msg = C.text(errmsg(handle)) if handle else None
        free(handle)
        raise Error(msg or C.text(lib.lrpx_status_str(status)), status)
    return handle


def _errbuf():
    return ctypes.create_string_buffer(1024)


def _enc(s):
    return None if s is None else (s if isinstance(s, bytes) else str(s).encode())


# NumPy dtypes lrpx_session_set_input takes as they are (lrpx.h dtypes).
_DTYPES = {np.dtype(np.float32): C.DTYPE_FLOAT32, np.dtype(np.float64): C.DTYPE_FLOAT64,
           np.dtype(np.int64): C.DTYPE_INT64, np.dtype(np.int32): C.DTYPE_INT32,
           np.dtype(np.uint8): C.DTYPE_UINT8, np.dtype(np.int8): C.DTYPE_INT8,
           np.dtype(np.bool_): C.DTYPE_BOOL}
_NP_OF = {v: k for k, v in _DTYPES.items()}


def _as_array(view):
    """A copy of a tensor view that the session owns (valid only until its
    next call) as a NumPy array of the same dtype and shape."""
    dt = _NP_OF.get(view.dtype)
    if dt is None:
        raise Error("output of dtype %s cannot be read from Python" %
                    C.text(lib.lrpx_dtype_name(view.dtype)), 5)
    shape = tuple(view.dims[:view.rank])
    if view.n_elems == 0:
        return np.zeros(shape, dt)
    buf = (ctypes.c_char * (view.n_elems * dt.itemsize)).from_address(view.data)
    return np.frombuffer(buf, dt).reshape(shape).copy()


class ValueInfo:
    """A declared model input or output: name, dtype (a NumPy dtype or the
    lrpx name), shape (None for symbolic dimensions)."""

    def __init__(self, vi):
        self.name = C.text(vi.name)
        self.dtype = _NP_OF.get(vi.dtype, C.text(lib.lrpx_dtype_name(vi.dtype)))
        self.shape = None if vi.rank < 0 else tuple(
            None if vi.dims[i] < 0 else int(vi.dims[i]) for i in range(vi.rank))

    def __repr__(self):
        return "ValueInfo(%r, %s, %s)" % (self.name, self.dtype, self.shape)


class Model:
    """A loaded ONNX model (read-only once loaded).

        m = lrpx.Model("net.onnx")
        y = m.run(x)                 # {output name: array}
        R = m.explain(x)             # relevance, shape of x

    run/explain/gradient use a session of the calling thread (made on
    first use), so one Model may be used from several threads at once;
    Model.session() gives a session of your own.
    """

    def __init__(self, path, fold_batchnorm=True, max_total_bytes=None):
        opts = C.LoadOptions()
        lib.lrpx_load_options_default(byref(opts))
        opts.fold_batchnorm = 1 if fold_batchnorm else 0
        if max_total_bytes is not None:
            opts.max_total_bytes = int(max_total_bytes)
        handle = c_void_p()
        self._handle = _Handle(
            _constructed(lib.lrpx_model_load_file(_enc(path), byref(opts), byref(handle)),
                         handle, lib.lrpx_model_errmsg, lib.lrpx_model_free), lib.lrpx_model_free)
        self._h = self._handle.ptr
        self.path = str(path)
        self._local = threading.local()
        self.inputs = [self._info(lib.lrpx_model_input_info, i)
                       for i in range(lib.lrpx_model_n_inputs(handle))]
        self.outputs = [self._info(lib.lrpx_model_output_info, i)
                        for i in range(lib.lrpx_model_n_outputs(handle))]
        self.opset = int(lib.lrpx_model_opset(handle))

    def _info(self, fn, i):
        vi = C.ValueInfo()
        _check(fn(self._h, i, byref(vi)), "no value %d" % i)
        return ValueInfo(vi)

    def __repr__(self):
        return "lrpx.Model(%r, inputs=%r, outputs=%r)" % (self.path, self.inputs, self.outputs)

    def session(self, threads=None):
        """A new Session on this model (keeps the model alive)."""
        return Session(self, threads)

    def _session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = Session(self)
        return s

    def run(self, x):
        """Forward pass. x: an array for the first input, or a dict
        {input name: array}. Returns {output name: array}."""
        return self._session().run(x)

    def explain(self, x, composite=None, rules=None, target=None, method="lrp", **kw):
        """The attribution map of x (shape of the input); see
        Session.explain."""
        return self._session().explain(x, composite=composite, rules=rules, target=target,
                                       method=method, **kw)

    def gradient(self, x, target=None, **kw):
        """The gradient of the explained logit with respect to the input."""
        return self._session().explain(x, target=target, method="gradient", **kw)


class Session:
    """One session on a model: the inputs set, activations and maps of the
    last pass. Use a session from one thread at a time (a lock makes a
    second thread wait); make one per thread for parallel work. Calls
    into the library release the GIL."""

    def __init__(self, model, threads=None):
        self.inputs, self.outputs = model.inputs, model.outputs
        self._lock = threading.Lock()
        h = c_void_p()
        # the session's _Handle keeps the model's alive (not the Model itself)
        self._handle = _Handle(_constructed(lib.lrpx_session_init(model._h, byref(h)), h,
                                            lib.lrpx_session_errmsg, lib.lrpx_session_free),
                               lib.lrpx_session_free, keep=model._handle)
        self._h = self._handle.ptr
        if threads is not None:
            self._call(lib.lrpx_session_set_threads(h, int(threads)))

    def _call(self, st):
        _check(st, lambda: C.text(lib.lrpx_session_errmsg(self._h)))

    def _feeds(self, x):
        """[(name or None, contiguous array)]: x for the first input or a
        dict by name. Arrays are passed without a copy when they are
        C-contiguous in a dtype lrpx takes; others become float32. A
        missing batch dimension is added (the input's rank minus one)."""
        items = x.items() if isinstance(x, dict) else [(None, x)]
        out = []
        for name, a in items:
            try:
                a = np.asarray(a)
                if a.dtype not in _DTYPES:
                    a = a.astype(np.float32)
            except (TypeError, ValueError) as e:
                raise Error("input %s is not a numeric array: %s" % (
                    "'%s'" % name if name else "x", e)) from None
            a = np.ascontiguousarray(a)
            info = self._input_info(name)
            if info and info.shape is not None and a.ndim == len(info.shape) - 1:
                a = a[np.newaxis]
            out.append((name, a))
        return out

    def _input_info(self, name):
        for vi in self.inputs:
            if name is None or vi.name == name:
                return vi
        return None

    def _set(self, feeds):
        for name, a in feeds:
            if a.ndim > C.MAX_RANK:
                raise Error("input of rank %d (at most %d)" % (a.ndim, C.MAX_RANK))
            dims = (c_int64 * max(a.ndim, 1))(*a.shape)
            self._call(lib.lrpx_session_set_input(self._h, _enc(name), _DTYPES[a.dtype], a.ndim,
                                                  dims, a.ctypes.data_as(c_void_p)))

    def run(self, x):
        """Forward pass; {output name: array} (copies)."""
        feeds = self._feeds(x)
        with self._lock:
            self._set(feeds)
            self._call(lib.lrpx_session_run(self._h))
            out = {}
            for i, vi in enumerate(self.outputs):
                v = C.TensorView()
                self._call(lib.lrpx_session_output(self._h, i, byref(v)))
                out[vi.name] = _as_array(v)
            return out

    def explain(self, x, composite=None, rules=None, target=None, method="lrp", maxpool=None,
                output=None, input=None, zero_bias=False, low=None, high=None,
                skip_softmax=True, stabilizer=None, **method_options):
        """The map of `method` for x, float32 in the shape of the input.

        method: a name of lrpx.methods() ("lrp", "gradient", "gradxinput",
        "saliency", "integrated-gradients", "smoothgrad", "occlusion",
        ...), the names of `lrpx explain --method`; the library parses
        it, so methods added to the C library work here as they are.
        composite: an LRP rule preset (lrpx.composites()); rules:
        {"Conv": "zplus", "first": "flat"} or ["Conv=zplus", ...]
        (SELECTOR=RULE, later ones win; docs/lrp.md); target: the class
        to explain, or a list of one class per sample (default: each
        sample's predicted class); maxpool:
        "winner", "winner-split" or "sum"; output: the graph output to
        explain (default the first); input: which input's map (default
        the first); low/high: z^B bounds of LRP and taylor's input domain
        (a number or one per channel); stabilizer: the e of LRP's
        epsilon-type splits other than the linear layers' epsilon
        (default: the composite's).

        The options of the other methods are keyword arguments named as
        `lrpx explain`'s flags (docs/methods.md); None or absent: the
        library's default:
          integrated-gradients: steps, quadrature ("gausslegendre",
            "riemann_left", ...), baseline (a number or an array the
            input's shape, one sample's shape or broadcastable);
          smoothgrad, smoothgrad-sq, vargrad: samples, sigma, seed,
            noise (an array [samples, sample shape] or [batch * samples,
            sample shape]), of ("gradient", "saliency", "gradxinput");
          occlusion: patch, patch_stride (one int per axis of a sample),
            fill; feature-ablation: feature_mask (integers), fill;
          taylor: root_iters; the methods that run many inputs:
            internal_batch.
        Session.reports() then gives each sample's class, score and
        completeness numbers.
        """
        ao = _Options(C.AttrOptions, lib.lrpx_attr_options_default)
        ao.struct.method = _method(method)
        _lrp_options(ao, ao.struct.lrp, composite, rules, target, maxpool, output, zero_bias,
                     low, high, skip_softmax, stabilizer)
        _method_options(ao, method_options)
        feeds = self._feeds(x if input is None or isinstance(x, dict) else {input: x})
        which = input
        if which is None and isinstance(x, dict):          # by name: the model's first input
            which = self.inputs[0].name if self.inputs else None
        if not any(n == which for n, _ in feeds):
            raise Error("no array given for input %r" % (which,))
        ao.keep.append(_enc(which))
        ao.struct.input_name = ao.keep[-1]
        with self._lock:
            self._set(feeds)
            self._call(lib.lrpx_session_attribute(self._h, byref(ao.struct)))
            v = C.TensorView()
            self._call(lib.lrpx_session_attribution(self._h, byref(v)))
            return _as_array(v)

    def gradient(self, x, target=None, **kw):
        return self.explain(x, target=target, method="gradient", **kw)

    def reports(self):
        """Per sample of the last explain: {"class", "score", "sum",
        "ref_score", "gap", "distance", "evals"} (lrpx_attr_report:
        class -1 for a tensor seed; score the explained logit; ref_score
        and gap the baseline's score and the completeness gap of
        integrated gradients, or the root's score and the residual of
        taylor, NaN for the other methods; distance taylor's |x - root|;
        evals the model evaluations spent)."""
        out, r = [], C.AttrReport()
        with self._lock:
            while lib.lrpx_session_attribution_report(self._h, len(out), byref(r)) == 0:
                out.append({"class": int(r.cls), "score": r.score, "sum": r.sum,
                            "ref_score": r.ref_score, "gap": r.gap, "distance": r.distance,
                            "evals": int(r.n_evals)})
        return out

    def explained(self):
        """[(class, logit)] per sample of the last explanation (class -1
        for a tensor seed)."""
        return [(r["class"], r["score"]) for r in self.reports()]


class _Options:
    """A struct of options (ctype, filled by its C default) and the
    objects its pointers refer to, kept alive as long as it."""

    def __init__(self, ctype, default):
        self.struct = ctype()
        default(byref(self.struct))
        self.keep = []

    def view(self, a, what):
        """A TensorView of the array a (kept alive here)."""
        if a.ndim > C.MAX_RANK:
            raise Error("%s of rank %d (at most %d)" % (what, a.ndim, C.MAX_RANK))
        self.keep.append(a)
        v = C.TensorView(dtype=_DTYPES[a.dtype], rank=a.ndim, n_elems=a.size,
                         data=a.ctypes.data_as(c_void_p).value)
        for i, d in enumerate(a.shape):
            v.dims[i] = d
        return v


def _method(name, what=None):
    """A method name (lrpx_attr_method_parse) to its enum value; what:
    the option it was given as, for the message."""
    m = c_int()
    if lib.lrpx_attr_method_parse(_enc(name), byref(m)) != 0:
        raise Error("%sunknown method %r (known: %s)" % (what + ": " if what else "", name,
                                                         " ".join(methods())), _STATUS_EINVAL)
    return m.value


def _lrp_options(o, s, composite, rules, target, maxpool, output, zero_bias, low, high,
                 skip_softmax, stabilizer):
    """Fill the lrpx_lrp_options s (part of o.struct) from explain's arguments."""
    err = _errbuf()
    if composite is not None:
        _check(lib.lrpx_lrp_options_set_composite(byref(s), _enc(composite), err, len(err)),
               lambda: C.text(err.value))
    if isinstance(rules, dict):
        rules = ["%s=%s" % kv for kv in rules.items()]
    elif isinstance(rules, str):
        rules = [rules]
    for spec in rules or []:
        _check(lib.lrpx_lrp_options_parse_rule(byref(s), _enc(spec), err, len(err)),
               lambda: C.text(err.value))
    if target is not None:
        t = np.asarray(target)
        if t.dtype.kind not in "iu" or t.ndim > 1 or (t < 0).any():
            raise Error("target must be a class index >= 0 or one per sample, not %r" % (target,))
        if t.ndim == 0:
            s.seed, s.target = C.SEED_TARGET, int(t)
        else:                                   # one class per sample: LRPX_SEED_TARGETS
            t = np.ascontiguousarray(t, np.int64)
            o.keep.append(t)
            s.seed, s.n_targets = C.SEED_TARGETS, t.size
            s.targets = t.ctypes.data_as(POINTER(c_int64))
    if maxpool is not None:
        mode = c_int()
        _check(lib.lrpx_lrp_options_parse_maxpool(_enc(maxpool), byref(mode)),
               "unknown max-pool mode %r (winner, winner-split or sum)" % (maxpool,))
        s.maxpool = mode.value
    if output is not None:
        o.keep.append(_enc(output))
        s.output_name = o.keep[-1]
    s.zero_bias = 1 if zero_bias else 0
    s.skip_softmax = 1 if skip_softmax else 0
    if stabilizer is not None:
        s.stabilizer = float(stabilizer)
    if (low is None) != (high is None):
        raise Error("low and high go together")
    if low is not None:
        lo = np.atleast_1d(np.asarray(low, np.float32))
        hi = np.atleast_1d(np.asarray(high, np.float32))
        if lo.shape != hi.shape or lo.ndim != 1:
            raise Error("low and high need as many values (one, or one per channel)")
        if lo.size == 1:
            s.box_low, s.box_high = float(lo[0]), float(hi[0])
        else:
            o.keep += [lo, hi]
            s.box_low_c = lo.ctypes.data_as(POINTER(c_float))
            s.box_high_c = hi.ctypes.data_as(POINTER(c_float))
            s.n_box_c = lo.size


# explain's method options: keyword -> (field of lrpx_attr_options, kind)
_METHOD_OPTIONS = {
    "steps": ("steps", "int"), "samples": ("samples", "int"),
    "root_iters": ("root_iters", "int"), "internal_batch": ("internal_batch", "int"),
    "sigma": ("sigma", "float"), "fill": ("fill", "float"), "seed": ("seed", "seed"),
    "quadrature": ("quadrature", "quadrature"), "of": ("of", "method"),
    "baseline": ("baseline", "baseline"), "noise": ("noise", "float array"),
    "feature_mask": ("feature_mask", "array"), "patch": ("patch", "axes"),
    "patch_stride": ("patch_stride", "axes"),
}


def _array(value, what, dtype=None):
    try:
        a = np.asarray(value) if dtype is None else np.asarray(value, dtype)
    except (TypeError, ValueError) as e:
        raise Error("%s is not a numeric array: %s" % (what, e)) from None
    if a.dtype not in _DTYPES:
        raise Error("%s: arrays of %s cannot be passed to lrpx" % (what, a.dtype))
    return np.ascontiguousarray(a)


def _method_options(o, options):
    """Set the method options of explain's keyword arguments on the
    lrpx_attr_options o.struct; the library checks the values."""
    s = o.struct
    for key, value in options.items():
        if key not in _METHOD_OPTIONS:
            raise TypeError("explain() got an unexpected keyword argument %r (method options: "
                            "%s)" % (key, ", ".join(sorted(_METHOD_OPTIONS))))
        if value is None:
            continue
        field, kind = _METHOD_OPTIONS[key]
        try:
            if kind == "int":
                setattr(s, field, _int(value, key, -2**31, 2**31 - 1))
            elif kind == "seed":
                s.seed = _int(value, key, 0, 2**64 - 1)
            elif kind == "float":
                setattr(s, field, float(value))
            elif kind == "quadrature":
                q = c_int()
                if lib.lrpx_quadrature_parse(_enc(value), byref(q)) != 0:
                    raise Error("quadrature: unknown rule %r (known: %s)" % (
                        value, " ".join(C.names(lib.lrpx_quadrature_name))))
                s.quadrature = q.value
            elif kind == "method":
                setattr(s, field, _method(value, key))
            elif kind == "baseline" and np.ndim(value) == 0:
                s.baseline = float(value)
            elif kind == "baseline":
                s.baseline_data = o.view(_array(value, key, np.float32), key)
            elif kind == "float array":
                setattr(s, field, o.view(_array(value, key, np.float32), key))
            elif kind == "array":
                setattr(s, field, o.view(_array(value, key), key))
            else:                                           # axes: one int per sample axis
                axes = [_int(v, key, 1, 2**63 - 1) for v in np.atleast_1d(value)]
                if not 1 <= len(axes) <= C.MAX_RANK:
                    raise Error("%s: one value per axis of a sample (at most %d)" % (
                        key, C.MAX_RANK))
                if key == "patch":
                    s.patch_rank = len(axes)
                for i, v in enumerate(axes):
                    getattr(s, field)[i] = v
        except (TypeError, ValueError) as e:
            raise Error("%s: %s" % (key, e)) from None
    stride = options.get("patch_stride")
    if stride is not None and np.size(stride) != s.patch_rank:
        raise Error("patch_stride needs patch, with as many values (%d)" % s.patch_rank)


def _int(value, what, lo, hi):
    if isinstance(value, (bool, np.bool_)) or int(value) != value:
        raise Error("%s must be a whole number, not %r" % (what, value))
    if not lo <= int(value) <= hi:
        raise Error("%s must be in %d..%d, not %r" % (what, lo, hi, value))
    return int(value)


# ---- images ----

def preprocess(path, preset="imagenet", model=None, input=None):
    """The float32 tensor (1, C, H, W) or (1, H, W, C) that a model gets
    for the image at path (JPEG or PNG): `lrpx preprocess`. preset: a
    preset name (lrpx.presets()) or a JSON settings file; model (a Model,
    optional) fills in size, channels and layout from its input."""
    err = _errbuf()
    img = POINTER(C.Image)()
    _check(lib.lrpx_image_load(_enc(path), None, byref(img), err, len(err)),
           lambda: C.text(err.value))
    t = POINTER(C.ImageTensor)()
    try:
        pp = C.Preprocess()
        lib.lrpx_preprocess_init(byref(pp))
        p = str(preset)
        if p.endswith(".json") or "/" in p:
            st = lib.lrpx_preprocess_load_json(byref(pp), _enc(p), err, len(err))
        else:
            st = lib.lrpx_preprocess_preset(byref(pp), _enc(p), err, len(err))
        _check(st, lambda: C.text(err.value))
        if model is not None:
            vi = next((v for v in model.inputs if input is None or v.name == input), None)
            if vi is None:
                raise Error("the model has no input %r" % (input,))
            if vi.shape is not None:
                dims = (c_int64 * C.MAX_RANK)(*[-1 if d is None else d for d in vi.shape])
                if len(vi.shape) == 4:
                    dims[0] = -1
                _check(lib.lrpx_preprocess_from_shape(byref(pp), len(vi.shape), dims, err,
                                                      len(err)),
                       lambda: "input %r of %s: %s" % (vi.name, model.path, C.text(err.value)))
        _check(lib.lrpx_image_preprocess(img, byref(pp), byref(t), err, len(err)),
               lambda: C.text(err.value))
        return _as_array(t.contents.view)
    finally:
        lib.lrpx_image_tensor_free(t)
        lib.lrpx_image_free(img)


def heatmap(R, cmap="bwr", reduce="sum", clip=100.0, gamma=1.0, layout="nchw",
            norm="symmetric", vmax=0.0):
    """An RGB picture (H, W, 3) uint8 of a relevance map, as `lrpx explain
    --heatmap` draws it: channels summed (reduce="sum", or "norm"),
    scaled so that 0 is the colour map's centre and the clip-th
    percentile of |R| its ends (norm="symmetric"; "minmax" spans the
    values), sign(x)|x|^gamma, coloured with cmap (lrpx.colormaps():
    "bwr", "seismic", "coldnhot", ...). R: (H, W), (C, H, W) or (H, W, C)
    by layout, or a batch of one."""
    a = np.ascontiguousarray(R, np.float32)
    if a.ndim > C.MAX_RANK:
        raise Error("map of rank %d" % a.ndim, 6)
    v = C.TensorView(dtype=C.DTYPE_FLOAT32, rank=a.ndim, n_elems=a.size,
                     data=a.ctypes.data_as(c_void_p).value)
    for i, d in enumerate(a.shape):
        v.dims[i] = d
    lay = {"nchw": C.LAYOUT_NCHW, "nhwc": C.LAYOUT_NHWC}.get(layout)
    if lay is None or reduce not in C.HEAT_REDUCE or norm not in C.HEAT_NORM:
        raise Error("layout is nchw or nhwc, reduce sum or norm, norm symmetric or minmax")
    cm = lib.lrpx_colormap_builtin(_enc(cmap))
    if not cm:
        raise Error("unknown colour map %r (known: %s)" % (cmap, ", ".join(colormaps())))
    ho = C.HeatmapOptions()
    lib.lrpx_heatmap_options_default(byref(ho))
    ho.cmap, ho.norm = cm, C.HEAT_NORM[norm]
    ho.percentile, ho.gamma, ho.vmax = float(clip), float(gamma), float(vmax)
    err = _errbuf()
    img = POINTER(C.Image)()
    pm = POINTER(C.Pixmap)()
    try:
        _check(lib.lrpx_heatmap_reduce(byref(v), lay, C.HEAT_REDUCE[reduce], byref(img), err,
                                       len(err)), lambda: C.text(err.value))
        _check(lib.lrpx_heatmap_render(img, byref(ho), byref(pm), err, len(err)),
               lambda: C.text(err.value))
        p = pm.contents
        n = p.width * p.height * p.channels
        return np.ctypeslib.as_array(p.data, (n,)).reshape(p.height, p.width,
                                                            p.channels).copy()
    finally:
        lib.lrpx_pixmap_free(pm)
        lib.lrpx_image_free(img)


# ---- what the library knows ----

def methods():
    """The attribution methods of the library, by the names explain takes."""
    return C.names(lib.lrpx_attr_method_name)


def composites():
    """The LRP composites (rule presets)."""
    return C.names(lib.lrpx_lrp_composite_name)


def colormaps():
    return C.names(lib.lrpx_colormap_builtin_name)


def presets():
    """The image preprocessing presets."""
    return C.names(lib.lrpx_preprocess_preset_name)


def library_version():
    """The version of the liblrpx that is loaded ("0.2.0")."""
    return C.text(lib.lrpx_version())


def build_info():
    """{"version", "library", "opsets": (lo, hi), "features": [...]}, as
    `lrpx --version` prints them."""
    lo, hi = c_int64(), c_int64()
    lib.lrpx_opset_range(byref(lo), byref(hi))
    return {"version": library_version(), "library": C.library_path,
            "opsets": (lo.value, hi.value), "features": C.text(lib.lrpx_features()).split()}
