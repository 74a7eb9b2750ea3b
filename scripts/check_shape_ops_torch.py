#!/usr/bin/python3
# Cross-check of the shape / data-movement ops against PyTorch: small
# functions (interpolate in every mode, view/cat/permute, slicing with
# steps, flip, F.pad modes, repeat/expand, pixel_shuffle, chunk, index
# select, (un)squeeze) are exported with torch.onnx at opsets 11 and 13,
# run through liblrpx via ctypes, and compared with PyTorch's own outputs
# (rtol 1e-4, atol 1e-5). Needs Debian's torch (python3-torch).
#
#   /usr/bin/python3 scripts/check_shape_ops_torch.py BUILD/src/liblrpx.so
import ctypes, numpy as np, torch, torch.nn.functional as F, io, sys
if len(sys.argv) != 2:
    sys.exit("usage: check_shape_ops_torch.py path/to/liblrpx.so")
lib = ctypes.CDLL(sys.argv[1])
class View(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int), ("dims", ctypes.c_int64 * 8),
                ("n_elems", ctypes.c_int64), ("data", ctypes.c_void_p)]
lib.lrpx_model_errmsg.restype = ctypes.c_char_p
lib.lrpx_session_errmsg.restype = ctypes.c_char_p
def run(onnx_bytes, x):
    m = ctypes.c_void_p()
    rc = lib.lrpx_model_load_buffer(onnx_bytes, ctypes.c_size_t(len(onnx_bytes)), None, None, ctypes.byref(m))
    if rc: raise RuntimeError(lib.lrpx_model_errmsg(m))
    s = ctypes.c_void_p()
    assert lib.lrpx_session_init(m, ctypes.byref(s)) == 0
    x = np.ascontiguousarray(x, dtype=np.float32)
    dims = (ctypes.c_int64 * 8)(*x.shape)
    rc = lib.lrpx_session_set_input(s, None, 1, x.ndim, dims, x.ctypes.data_as(ctypes.c_void_p))
    if rc == 0: rc = lib.lrpx_session_run(s)
    if rc: raise RuntimeError(lib.lrpx_session_errmsg(s))
    v = View(); assert lib.lrpx_session_output(s, 0, ctypes.byref(v)) == 0
    out = np.ctypeslib.as_array(ctypes.cast(v.data, ctypes.POINTER(ctypes.c_float)), shape=(v.n_elems,)).copy().reshape(tuple(v.dims[:v.rank]))
    lib.lrpx_session_free(s); lib.lrpx_model_free(m)
    return out
class M(torch.nn.Module):
    def __init__(s, f): super().__init__(); s.f = f
    def forward(s, x): return s.f(x)
cases = {
 "bilinear_ac_false": lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False),
 "bilinear_ac_true": lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
 "bilinear_down": lambda x: F.interpolate(x, size=(3, 2), mode="bilinear", align_corners=False),
 "nearest_2x": lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
 "nearest_size": lambda x: F.interpolate(x, size=(7, 11), mode="nearest"),
 "bicubic": lambda x: F.interpolate(x, size=(8, 9), mode="bicubic", align_corners=False),
 "view_cat_permute": lambda x: torch.cat([x.view(x.size(0), -1), x.flatten(1) * 2], 1).view(2, -1, 4).permute(2, 0, 1),
 "slice_step": lambda x: x[:, 1:3, ::2, 1:],
 "flip": lambda x: torch.flip(x, [2, 3]),
 "pad_reflect": lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
 "pad_replicate": lambda x: F.pad(x, (3, 0, 0, 2), mode="replicate"),
 "pad_const": lambda x: F.pad(x, (1, 2, 0, 1), value=0.5),
 "repeat_expand": lambda x: x[:, :1].repeat(1, 2, 1, 3) + x.mean(1, keepdim=True).expand(-1, 3, -1, -1).repeat(1, 1, 1, 3)[:, :2],
 "pixel_shuffle": lambda x: F.pixel_shuffle(torch.cat([x, x + 1, x * 2, x - 1], 1), 2),
 "chunk_stack": lambda x: torch.stack(torch.chunk(x, 3, dim=1), dim=0).sum(0),
 "index_select": lambda x: x[:, [2, 0, 2]],
 "unsqueeze_squeeze": lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze(0).squeeze(-1).transpose(1, 3),
}
torch.manual_seed(0)
x = torch.randn(2, 3, 5, 6)
fails = 0
for opset in (11, 13):
  for name, f in cases.items():
    buf = io.BytesIO()
    try:
        torch.onnx.export(M(f), (x,), buf, opset_version=opset, input_names=["x"], output_names=["y"])
    except Exception as e:
        print(f"opset {opset} {name}: export failed: {e}".splitlines()[0]); continue
    ref = f(x).detach().numpy()
    try:
        got = run(buf.getvalue(), x.numpy())
        err = np.abs(got - ref).max() if got.shape == ref.shape else float("inf")
        ok = got.shape == ref.shape and np.allclose(got, ref, rtol=1e-4, atol=1e-5)
    except RuntimeError as e:
        ok = False; err = str(e)
    fails += not ok
    print(f"opset {opset} {name:20s} {'ok' if ok else 'FAIL'} {err}")
print("fails", fails)
sys.exit(1 if fails else 0)
