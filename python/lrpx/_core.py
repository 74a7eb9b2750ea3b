"""Models, sessions, explanations, images and heatmaps over liblrpx."""
import ctypes
import json
import os
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

    def eval(self, x, metric="region-perturbation", params=None, **kw):
        """Score explanations of x with a metric, as `lrpx eval`; see
        Session.eval."""
        return self._session().eval(x, metric=metric, params=params, **kw)


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
                skip_softmax=True, stabilizer=None, translate=0, translate_pad="edge",
                window=None, stride=None, layout=None, progress=None, **method_options):
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

        The paper's tricks (`lrpx explain --translate/--window`,
        docs/visualization.md), for a rank-4 float32 image batch:
          translate=K: each sample's map averaged over the shifts
            (dy, dx) in [-K, K]^2 ((2K+1)^2 passes); translate_pad
            "edge" (default) or "zero" fills the uncovered border;
          window=(W, H) (or one int): explain an image larger than the
            model's input window by window, stride=(SX, SY) or one int
            (default half a window); with translate, each window is
            explained with the translation trick.
        layout: "nchw" (default) or "nhwc", the layout of x for the
        tricks. The map then comes straight into a new array (no copy).
        progress: a function progress(done, total) called after each pass
        of a trick (on the calling thread; what it raises is raised when
        the trick has finished).
        """
        ao = _Options(C.AttrOptions, lib.lrpx_attr_options_default)
        method, composite = _method_and_composite(method, composite)
        ao.struct.method = _method(method)
        _lrp_options(ao, ao.struct.lrp, composite, rules, target, maxpool, output, zero_bias,
                     low, high, skip_softmax, stabilizer)
        _method_options(ao, method_options)
        feeds, which = self._feeds_for(x, input)
        ao.keep.append(_enc(which))
        ao.struct.input_name = ao.keep[-1]
        trick = _trick_options(ao, translate, translate_pad, window, stride, layout)
        if trick is not None:
            return self._explain_trick(feeds, which, ao, trick, window is not None, progress)
        with self._lock:
            self._set(feeds)
            self._trick = False
            self._call(lib.lrpx_session_attribute(self._h, byref(ao.struct)))
            v = C.TensorView()
            self._call(lib.lrpx_session_attribution(self._h, byref(v)))
            return _as_array(v)

    def _feeds_for(self, x, input):
        """The feeds of x and the name of the input explained (None: the
        first)."""
        feeds = self._feeds(x if input is None or isinstance(x, dict) else {input: x})
        which = input
        if which is None and isinstance(x, dict):          # by name: the model's first input
            which = self.inputs[0].name if self.inputs else None
        if not any(n == which for n, _ in feeds):
            raise Error("no array given for input %r" % (which,))
        return feeds, which

    def _explain_trick(self, feeds, which, ao, to, windows, progress=None):
        """lrpx_session_explain_translated / _windows into a new array."""
        if len(feeds) != 1:
            raise Error("translate/window work on models with one fed input")
        a = feeds[0][1]
        if a.dtype != np.float32 or a.ndim != 4:
            raise Error("translate/window need a rank-4 float32 input (an image batch), not "
                        "%s of shape %s" % (a.dtype, a.shape))
        xv = ao.view(a, "x")
        to.struct.method = ao.struct.method
        to.struct.attr = ctypes.pointer(ao.struct)
        to.struct.input_name = ao.struct.input_name
        out = np.empty(a.shape, np.float32)
        fn = lib.lrpx_session_explain_windows if windows else lib.lrpx_session_explain_translated
        raised = []

        def report(user, done, total):          # exceptions cannot cross the C frames
            if not raised:
                try:
                    progress(int(done), int(total))
                except BaseException as e:      # noqa: B902  (re-raised below)
                    raised.append(e)

        cb = C.PROGRESS_FN(report) if progress is not None else C.PROGRESS_FN()
        with self._lock:
            self._trick = True
            lib.lrpx_session_set_progress(self._h, cb, None)
            try:
                st = fn(self._h, byref(xv), byref(ao.struct.lrp), byref(to.struct),
                        out.ctypes.data_as(POINTER(c_float)))
            finally:
                lib.lrpx_session_set_progress(self._h, C.PROGRESS_FN(), None)
            if raised:
                raise raised[0]
            self._call(st)
        return out

    def eval(self, x, metric="region-perturbation", params=None, method="lrp", composite=None,
             rules=None, target=None, mask=None, relevance=None, noise=None, seed=0, batch=None,
             layout=None, input=None, maxpool=None, output=None, zero_bias=False, low=None,
             high=None, skip_softmax=True, stabilizer=None, **kw):
        """Score explanations of the batch x with a metric: `lrpx eval`
        (docs/evaluation.md has every metric, formula and default).
        Returns an EvalResult: per-sample scores, curves and side values
        as NumPy arrays.

        metric: a name of lrpx.metrics(), optionally with parameters as
        the CLI takes them ("region-perturbation:patch-size=4"); params:
        {name: value} with the CLI's kebab-case names or snake_case
        (patch_size), booleans True/False, None for "none". Keyword
        arguments that are not explain's are the metric's parameters in
        snake_case (patch_size=4, order="lerf").

        The maps are explained as Session.explain makes them (method,
        composite, rules, the method options as keyword arguments) or
        taken from relevance (an array: x's shape, or without the
        channel axis). target: one class, or one per sample (default:
        the predicted ones). mask: the localisation mask, an array
        (nonzero = inside; (H,W), (N,H,W), ...), a box (x, y, w, h) in
        input pixels, or a file (.npy, or an image: >= 128 inside).
        noise: the perturbations of local-lipschitz / max-sensitivity
        ([samples, sample shape]). seed: lrpx's generator (the metrics'
        noise and the smoothgrad family's). batch: perturbed inputs per
        pass (default 16). layout: "nhwc" for N,H,W,C images (default
        N,C,H,W).
        """
        spec = _metric_spec(metric, params, {k: v for k, v in kw.items()
                                             if k not in _METHOD_OPTIONS})
        if relevance is not None and method not in (None, "lrp"):
            raise Error("relevance and method exclude each other")
        ao = _Options(C.AttrOptions, lib.lrpx_attr_options_default)
        method, composite = _method_and_composite(method or "lrp", composite)
        ao.struct.method = _method(method)
        _lrp_options(ao, ao.struct.lrp, composite, rules, None, maxpool, output, zero_bias,
                     low, high, skip_softmax, stabilizer)
        _method_options(ao, {k: v for k, v in kw.items() if k in _METHOD_OPTIONS})
        ao.struct.seed = _int(seed, "seed", 0, 2**64 - 1)
        feeds, which = self._feeds_for(x, input)
        a = dict(feeds)[which]
        if a.dtype != np.float32:
            a = a.astype(np.float32)
            feeds = [(n, a if n == which else b) for n, b in feeds]
        if a.ndim < 2:
            raise Error("eval needs a batch of samples (rank >= 2), not shape %s" % (a.shape,))
        n = a.shape[0]
        eo = C.EvalOptions()
        lib.lrpx_eval_options_default(byref(eo))
        xv = ao.view(a, "x")
        eo.x = ctypes.pointer(xv)
        eo.input_name = _enc(which)
        ao.keep.append(eo.input_name)
        if layout not in (None, "nchw", "nhwc"):
            raise Error("layout is nchw or nhwc, not %r" % (layout,))
        eo.nhwc = 1 if layout == "nhwc" else 0
        eo.seed = ao.struct.seed
        if batch is not None:
            eo.max_batch = _int(batch, "batch", 1, 4096)
        if target is not None:
            t = np.asarray(target)
            if t.dtype.kind not in "iu" or t.ndim > 1 or (t < 0).any():
                raise Error("target must be a class index >= 0 or one per sample, not %r" % (
                    target,))
            if t.ndim == 1 and t.size != n:
                raise Error("target: %d classes for %d samples" % (t.size, n))
            t = np.ascontiguousarray(np.broadcast_to(t, (n,)), np.int64)
            ao.keep.append(t)
            eo.targets = t.ctypes.data_as(POINTER(c_int64))
        if relevance is not None:
            eo.attr = ctypes.pointer(ao.view(_array(relevance, "relevance", np.float32),
                                             "relevance"))
        if noise is not None:
            eo.noise = ctypes.pointer(ao.view(_array(noise, "noise", np.float32), "noise"))
        if mask is not None:
            eo.mask = ctypes.pointer(ao.view(_mask(mask, a, layout == "nhwc"), "mask"))
        eo.method = ctypes.pointer(ao.struct)
        err = _errbuf()
        m = c_void_p()
        _check(lib.lrpx_metric_parse(_enc(spec), byref(m), err, len(err)),
               lambda: C.text(err.value))
        res = c_void_p()
        try:
            with self._lock:
                self._set(feeds)
                self._trick = False
                self._call(lib.lrpx_session_evaluate(self._h, m, byref(eo), byref(res)))
            if relevance is not None:
                label = "relevance"
            elif ao.struct.method == _method("lrp"):       # as the CLI labels its rows
                label = C.text(ao.struct.lrp.composite) + ("+rules" if ao.struct.lrp.n_overrides
                                                            else "")
            else:
                label = C.text(lib.lrpx_attr_method_name(ao.struct.method))
            return EvalResult(m, res, label)
        finally:
            lib.lrpx_eval_result_free(res)
            lib.lrpx_metric_free(m)

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
        for a tensor seed). After the translation trick: the plain
        (unshifted) pass over the batch; after windows: the last
        window's pass."""
        if not getattr(self, "_trick", False):
            return [(r["class"], r["score"]) for r in self.reports()]
        out, cls, val = [], c_int64(), c_double()
        with self._lock:
            while lib.lrpx_session_explained_output(self._h, len(out), byref(cls),
                                                    byref(val)) == 0:
                out.append((int(cls.value), val.value))
        return out


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


def _method_and_composite(method, composite):
    """As the CLI's --method: a composite name stands for lrp with that
    composite."""
    m = c_int()
    if (isinstance(method, str) and lib.lrpx_attr_method_parse(_enc(method), byref(m)) != 0
            and method in composites()):
        if composite is not None and composite != method:
            raise Error("method %r is a composite; composite=%r contradicts it" % (
                method, composite))
        return "lrp", method
    return method, composite


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


def _trick_options(o, translate, pad, window, stride, layout):
    """lrpx_trick_options of explain's trick arguments, or None when no
    trick is asked for."""
    translate = _int(translate or 0, "translate", 0, 64)
    if window is None and stride is not None:
        raise Error("stride goes with window")
    if layout not in (None, "nchw", "nhwc"):
        raise Error("layout is nchw or nhwc, not %r" % (layout,))
    if translate == 0 and window is None:
        return None
    t = _Options(C.TrickOptions, lib.lrpx_trick_options_default)
    t.struct.translate = translate
    if pad not in C.SHIFT_PAD:
        raise Error("translate_pad is edge or zero, not %r" % (pad,))
    t.struct.pad = C.SHIFT_PAD[pad]
    t.struct.nhwc = 1 if layout == "nhwc" else 0
    if window is not None:
        w, h = _pair(window, "window")
        sx, sy = _pair(stride, "stride") if stride is not None else (max(w // 2, 1),
                                                                      max(h // 2, 1))
        t.struct.window_width, t.struct.window_height = w, h
        t.struct.stride_x, t.struct.stride_y = sx, sy
    return t


def _pair(v, what):
    """(a, b) of one positive int or two."""
    vals = [_int(k, what, 1, 1 << 20) for k in np.atleast_1d(v)]
    if len(vals) not in (1, 2):
        raise Error("%s is one number or two (width, height)" % what)
    return (vals[0], vals[-1])


def _metric_value(key, v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    t = str(v)
    if "," in t or "=" in t or ":" in t:
        raise Error("metric parameter %s: %r cannot be written as NAME=VALUE" % (key, v))
    return t


def _metric_spec(metric, params, kw):
    """The CLI's "NAME:k=v,..." of a metric, its params dict and the
    snake_case keyword arguments."""
    items = list((params or {}).items()) + list(kw.items())
    parts = ["%s=%s" % (str(k).replace("_", "-"), _metric_value(k, v)) for k, v in items]
    spec = str(metric)
    if parts:
        spec += ("," if ":" in spec else ":") + ",".join(parts)
    return spec


def _mask(mask, x, nhwc):
    """A mask argument of eval as a contiguous array: an array, a box
    (x, y, w, h) in input pixels, or a file (.npy or an image)."""
    h = x.shape[1 if nhwc else 2] if x.ndim == 4 else 1
    w = x.shape[2 if nhwc else 3] if x.ndim == 4 else x.shape[-1]
    if isinstance(mask, (str, bytes, os.PathLike)):
        path = os.fsdecode(mask)
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic == b"\x93NUMPY":
            return _array(np.load(path), "mask")
        err = _errbuf()
        img = POINTER(C.Image)()
        _check(lib.lrpx_image_load(_enc(path), None, byref(img), err, len(err)),
               lambda: C.text(err.value))
        try:
            im = img.contents
            if (im.width, im.height) != (w, h):
                raise Error("mask %s: the image is %dx%d, the input %dx%d" % (
                    path, im.width, im.height, w, h))
            px = np.ctypeslib.as_array(im.data, (im.height * im.width * im.channels,))
            return np.ascontiguousarray(
                (px[::im.channels] >= 128.0).reshape(h, w).astype(np.uint8))
        finally:
            lib.lrpx_image_free(img)
    if isinstance(mask, tuple) and len(mask) == 4 and all(np.ndim(v) == 0 for v in mask):
        bx, by, bw, bh = (_int(v, "mask box", 0, 1 << 30) for v in mask)
        if bw < 1 or bh < 1 or bx + bw > w or by + bh > h:
            raise Error("mask box %r must lie inside the %dx%d input" % (mask, w, h))
        m = np.zeros((h, w), np.uint8)
        m[by:by + bh, bx:bx + bw] = 1
        return m
    return _array(mask, "mask")


class EvalResult:
    """What Session.eval returns, one entry per sample of x (the rows of
    `lrpx eval --json`):
      metric: its name; method: how the maps were made, named as the
        CLI's "method" column (the composite for LRP, "+rules" with rule
        overrides; "relevance" for given maps); params: every parameter of the metric with
        its value, defaults included (the CLI's "params");
      targets: int64 (N,), the class scored;
      scores: float64 (N,), the metric's scalar (True/False as 1/0, NaN
        where there is none: curve metrics, or not finite);
      score_kinds: per sample "number", "bool" or None (no score);
      curves: float64 (N, K) when every sample has a curve of K points,
        a list of arrays when lengths differ, None when there are none;
      curve_labels: the points' names (layers of model-randomisation)
        or None;
      summary: float64 (N,), one number to average (the score, else the
        curve's AOPC or area);
      extra: {name: float64 (N,)}, side values ("auc", "aopc", ...).
    rows() gives one dict per sample as `lrpx eval --json` prints it."""

    def __init__(self, metric, res, method):
        self.metric = C.text(lib.lrpx_metric_id_name(lib.lrpx_metric_kind(metric)))
        size = lib.lrpx_metric_params_json(metric, None, 0) + 1
        buf = ctypes.create_string_buffer(size)
        lib.lrpx_metric_params_json(metric, buf, size)
        self.params = json.loads(C.text(buf.value))
        self.method = method
        n = lib.lrpx_eval_result_n(res)
        es = C.EvalSample()
        targets, scores, kinds, curves, summary, extra = [], [], [], [], [], {}
        self.curve_labels = None
        for i in range(n):
            _check(lib.lrpx_eval_result_sample(res, i, byref(es)), "no sample %d" % i)
            targets.append(es.target)
            scores.append(es.score)
            kinds.append(C.SCORE_KINDS.get(es.kind))
            curves.append(np.array(es.curve[:es.n_curve], np.float64) if es.n_curve else None)
            if es.curve_labels and self.curve_labels is None:
                self.curve_labels = [C.text(es.curve_labels[k]) for k in range(es.n_curve)]
            summary.append(es.summary)
            for k in range(es.n_extra):
                extra.setdefault(C.text(es.extra_names[k]), [np.nan] * n)[i] = es.extra[k]
        self.targets = np.array(targets, np.int64)
        self.scores = np.array([s if k else np.nan for s, k in zip(scores, kinds)], np.float64)
        self.score_kinds = kinds
        self.summary = np.array(summary, np.float64)
        self.extra = {k: np.array(v, np.float64) for k, v in extra.items()}
        if all(c is None for c in curves):
            self.curves = None
        elif len({None if c is None else c.size for c in curves}) == 1:
            self.curves = np.stack(curves)
        else:
            self.curves = curves
        self._raw_scores = scores

    def __len__(self):
        return self.targets.size

    def __repr__(self):
        return "lrpx.EvalResult(%r, %d samples, mean summary %.6g)" % (
            self.metric, len(self), float(np.nanmean(self.summary)) if len(self) else np.nan)

    def rows(self):
        """One dict per sample with the keys and values of `lrpx eval
        --json` (input left out): method, target, metric, params, score
        (a number, True/False or None), curve (a list or None),
        curve_labels (when there are), extra."""
        out = []
        for i in range(len(self)):
            kind = self.score_kinds[i]
            score = (bool(self._raw_scores[i]) if kind == "bool" else
                     float(self._raw_scores[i]) if kind == "number" else None)
            curve = None
            if isinstance(self.curves, list):
                curve = None if self.curves[i] is None else self.curves[i].tolist()
            elif self.curves is not None:
                curve = self.curves[i].tolist()
            row = {"method": self.method, "target": int(self.targets[i]),
                   "metric": self.metric, "params": self.params, "score": score,
                   "curve": curve}
            if self.curve_labels is not None:
                row["curve_labels"] = list(self.curve_labels)
            row["extra"] = {k: float(v[i]) for k, v in self.extra.items()}
            out.append(row)
        return out


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


def heatmap(R, cmap="bwr", reduce="sum", clip=100.0, gamma=1.0, layout=None,
            norm="symmetric", vmax=0.0, image=None, overlay=None, panel=False, zoom=1):
    """An RGB picture (H, W, 3) uint8 of a relevance map, as `lrpx explain
    --heatmap` draws it: channels summed (reduce="sum", or "norm"/"l2":
    the Euclidean norm), scaled so that 0 is the colour map's centre and
    the clip-th percentile of |R| its ends (norm="symmetric"; "minmax"
    spans the values; vmax > 0 a fixed scale), sign(x)|x|^gamma,
    coloured with cmap (lrpx.colormaps(): "bwr", "seismic", "coldnhot",
    ..., or a colour table file as `--cmap FILE` takes). R: (H, W),
    (C, H, W) or (H, W, C), or a batch of one; layout "nchw" or "nhwc",
    None guesses as the CLI does for .npy maps (channels last when the
    second axis is not 1 or 3 and the last is).

    image: the picture under the map, for overlay (alpha in [0, 1]:
    --overlay) and panel (image | heatmap side by side: --panel):
    uint8 (H, W) or (H, W, C) pixels as they are, or a float input
    tensor (the model's x, a batch of one) stretched from its minimum to
    its maximum as the CLI shows a .npy input. zoom: enlarge the result
    zoom times (nearest neighbour: --zoom)."""
    a = np.ascontiguousarray(R, np.float32)
    if a.ndim > C.MAX_RANK:
        raise Error("map of rank %d" % a.ndim, 6)
    v = C.TensorView(dtype=C.DTYPE_FLOAT32, rank=a.ndim, n_elems=a.size,
                     data=a.ctypes.data_as(c_void_p).value)
    for i, d in enumerate(a.shape):
        v.dims[i] = d
    if layout is None:
        layout = "nhwc" if _channels_last(a.shape) else "nchw"
    lay = {"nchw": C.LAYOUT_NCHW, "nhwc": C.LAYOUT_NHWC}.get(layout)
    if lay is None or reduce not in C.HEAT_REDUCE or norm not in C.HEAT_NORM:
        raise Error("layout is nchw or nhwc, reduce sum or norm, norm symmetric or minmax")
    if overlay is not None and not 0.0 <= float(overlay) <= 1.0:
        raise Error("overlay is an alpha in [0, 1], not %r" % (overlay,))
    if (overlay is not None or panel) and image is None:
        raise Error("overlay and panel need the image")
    zoom = _int(zoom, "zoom", 1, 16)
    owned = c_void_p()
    cm = lib.lrpx_colormap_builtin(_enc(cmap))
    err = _errbuf()
    if not cm:
        if not os.path.isfile(os.fsdecode(cmap)):
            raise Error("unknown colour map %r (known: %s; or a colour table file)" % (
                cmap, ", ".join(colormaps())))
        _check(lib.lrpx_colormap_load(_enc(os.fsdecode(cmap)), byref(owned), err, len(err)),
               lambda: C.text(err.value))
        cm = owned.value
    ho = C.HeatmapOptions()
    lib.lrpx_heatmap_options_default(byref(ho))
    ho.cmap, ho.norm = cm, C.HEAT_NORM[norm]
    ho.percentile, ho.gamma, ho.vmax = float(clip), float(gamma), float(vmax)
    img = POINTER(C.Image)()
    pm = POINTER(C.Pixmap)()
    base = POINTER(C.Pixmap)()
    mix = POINTER(C.Pixmap)()
    try:
        _check(lib.lrpx_heatmap_reduce(byref(v), lay, C.HEAT_REDUCE[reduce], byref(img), err,
                                       len(err)), lambda: C.text(err.value))
        _check(lib.lrpx_heatmap_render(img, byref(ho), byref(pm), err, len(err)),
               lambda: C.text(err.value))
        if image is not None and (overlay is not None or panel):
            base = _pixmap(image)
            p = pm.contents
            if (base.contents.width, base.contents.height) != (p.width, p.height):
                raise Error("the image is %dx%d but the map %dx%d" % (
                    base.contents.width, base.contents.height, p.width, p.height), 6)
            if overlay is not None:
                _check(lib.lrpx_pixmap_overlay(base, pm, float(overlay), byref(mix), err,
                                               len(err)), lambda: C.text(err.value))
                pm, mix = mix, pm
            if panel:
                lib.lrpx_pixmap_free(mix)
                mix = POINTER(C.Pixmap)()
                _check(lib.lrpx_pixmap_panel(base, pm, byref(mix), err, len(err)),
                       lambda: C.text(err.value))
                pm, mix = mix, pm
        p = pm.contents
        n = p.width * p.height * p.channels
        out = np.ctypeslib.as_array(p.data, (n,)).reshape(p.height, p.width, p.channels).copy()
    finally:
        for q in (pm, mix, base):
            lib.lrpx_pixmap_free(q)
        lib.lrpx_image_free(img)
        lib.lrpx_colormap_free(owned)
    if zoom > 1:
        out = np.repeat(np.repeat(out, zoom, axis=0), zoom, axis=1)
    return out


def _channels_last(shape):
    """The CLI's guess for a rank-4 map or input of unknown layout."""
    return len(shape) == 4 and shape[1] not in (1, 3) and shape[3] in (1, 3)


def _pixmap(image):
    """A new lrpx_pixmap of heatmap's image argument."""
    a = np.asarray(image)
    if a.dtype == np.uint8:
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3 or a.shape[2] not in (1, 3):
            raise Error("image: uint8 pixels (H, W) or (H, W, 1 or 3), not shape %s" % (
                a.shape,))
    else:                                   # a float tensor: stretched as the CLI does
        x = np.asarray(a, np.float64)
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0] if not _channels_last(a.shape) else x[0].transpose(2, 0, 1)
        elif x.ndim == 3 and x.shape[0] not in (1, 3) and x.shape[2] in (1, 3):
            x = x.transpose(2, 0, 1)
        elif x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[0] not in (1, 3):
            raise Error("image: a tensor with 1 or 3 channels (a batch of one), not shape %s"
                        % (a.shape,))
        fin = x[np.isfinite(x)]
        lo, hi = (fin.min(), fin.max()) if fin.size else (np.inf, -np.inf)
        if not hi > lo:
            hi = lo + 1.0
        y = np.where(np.isfinite(x), (x - lo) / (hi - lo) * 255.0, 0.0)
        a = np.rint(np.clip(y, 0.0, 255.0)).astype(np.uint8).transpose(1, 2, 0)
    a = np.ascontiguousarray(a)
    pm = POINTER(C.Pixmap)()
    _check(lib.lrpx_pixmap_init(a.shape[1], a.shape[0], a.shape[2], byref(pm)),
           "image of %dx%d pixels" % (a.shape[1], a.shape[0]))
    ctypes.memmove(pm.contents.data, a.ctypes.data, a.size)
    return pm


# ---- what the library knows ----

def methods():
    """The attribution methods of the library, by the names explain takes."""
    return C.names(lib.lrpx_attr_method_name)


def composites():
    """The LRP composites (rule presets)."""
    return C.names(lib.lrpx_lrp_composite_name)


def colormaps():
    """The built-in colour maps."""
    return C.names(lib.lrpx_colormap_builtin_name)


def metrics():
    """The metrics of Session.eval / `lrpx eval`."""
    return C.names(lib.lrpx_metric_id_name)


def metric_params(metric):
    """{parameter: default text} of a metric (kebab-case names, as
    `lrpx eval --list-metrics` shows them)."""
    names = metrics()
    if metric not in names:
        raise Error("unknown metric %r (known: %s)" % (metric, " ".join(names)))
    out, d, i = {}, C.MetricParamDoc(), 0
    while lib.lrpx_metric_param_doc_get(names.index(metric), i, byref(d)) == 0:
        out[C.text(d.name)] = C.text(d.default_text)
        i += 1
    return out


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
