/* Clip — y = min(max(x, min), max), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Clip.html  (opsets 1, 6, 11, 12, 13)
 *       Before 11 the bounds are the float attributes `min`/`max`; from 11
 *       they are the optional scalar inputs 1 and 2 (read at run time, so
 *       they need not be constant). A missing bound is the type's lowest /
 *       highest value. With min > max every element becomes max (numpy's
 *       order of the two clamps). NaN stays NaN.
 * Types: float32, float64; from opset 11 on, the integer types too (the spec
 *       admits them from 12; lrpx does not refuse them at 11).
 * Backward: through the two clamps in order: the gradient goes to x where
 *       min <= x and max(x, min) <= max (ties pass to x, as PyTorch's clamp),
 *       else to the bound that was taken (bounds that are inputs with a
 *       gradient buffer receive the sum).
 * LRP:  relevance passes through to x unchanged (an element-wise activation,
 *       e.g. ReLU6).
 */
#include <float.h>
#include <math.h>

#include "ops/kernels/broadcast_impl.h"
#include "util/parallel.h"

struct clip_params {
    float lo, hi;       /* opset < 11: the attributes */
};

static lrpx_status
clip_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct clip_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    if (x->opset < 11) {
        if (n->n_inputs > 1)
            return lrpx__node_error(x, n, LRPX_EPARSE,
                                    "min/max are attributes before opset 11, not inputs");
        p->lo = lrpx__attr_float(n, "min", -INFINITY);
        p->hi = lrpx__attr_float(n, "max", INFINITY);
        return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
    }
    lrpx_status rc = lrpx__unary_prepare(x, n, LRPX_DT_NUMERIC);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    for (int i = 1; i <= 2; i++) {
        const struct lrpx_tensor *b = lrpx__in(x, n, i);
        if (!b)
            continue;
        if (b->dtype != a->dtype)
            return lrpx__node_error(x, n, LRPX_EINVAL, "%s has type %s but input has %s",
                                    i == 1 ? "min" : "max", lrpx_dtype_name(b->dtype),
                                    lrpx_dtype_name(a->dtype));
        if (b->n_elems != 1) {
            char d[96];
            return lrpx__node_error(x, n, LRPX_ESHAPE, "%s must be a scalar, not %s",
                                    i == 1 ? "min" : "max",
                                    lrpx__dims_str(b->dims, b->rank, d, sizeof d));
        }
    }
    return LRPX_OK;
}

#define CLIP_CASE(DT, T, LOWEST, HIGHEST)                                        \
    case LRPX_DTYPE_##DT: {                                                      \
        const T lo = bl ? ((const T *)bl->data)[0] : (LOWEST);                   \
        const T hi = bh ? ((const T *)bh->data)[0] : (HIGHEST);                  \
        LRPX_MAP(T, T, (const T *)a->data, (T *)y->data, a->n_elems,             \
                 (v < lo ? lo : v) > hi ? hi : (v < lo ? lo : v));               \
        break;                                                                   \
    }

/* float32 over ranges of elements on the session's threads (the same
 * expression as CLIP_CASE) */
struct clip_ctx {
    const float *x;
    float       *y;
    float        lo, hi;
};

LRPX_TARGET_CLONES
static void
clip_range_f32(void *ctx_, int64_t i0, int64_t i1)
{
    const struct clip_ctx *c = ctx_;
    const float            lo = c->lo, hi = c->hi;
    for (int64_t i = i0; i < i1; i++) {
        const float v = c->x[i], l = v < lo ? lo : v;
        c->y[i] = l > hi ? hi : l;
    }
}

static lrpx_status
clip_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct clip_params *p  = LRPX_PARAMS(x, n, struct clip_params);
    const struct lrpx_tensor *a  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y  = lrpx__out(x, n, 0);
    const struct lrpx_tensor *bl = x->opset >= 11 ? lrpx__in(x, n, 1) : NULL;
    const struct lrpx_tensor *bh = x->opset >= 11 ? lrpx__in(x, n, 2) : NULL;
    const bool                old = x->opset < 11;
    if (a->dtype == LRPX_DTYPE_FLOAT32) {
        struct clip_ctx c = {a->f32, y->f32, bl ? bl->f32[0] : old ? p->lo : -INFINITY,
                             bh ? bh->f32[0] : old ? p->hi : INFINITY};
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, clip_range_f32, &c);
        return LRPX_OK;
    }
    switch (a->dtype) {
        CLIP_CASE(FLOAT64, double, old ? (double)p->lo : -INFINITY,
                  old ? (double)p->hi : INFINITY)
        CLIP_CASE(INT8, int8_t, INT8_MIN, INT8_MAX)
        CLIP_CASE(INT16, int16_t, INT16_MIN, INT16_MAX)
        CLIP_CASE(INT32, int32_t, INT32_MIN, INT32_MAX)
        CLIP_CASE(INT64, int64_t, INT64_MIN, INT64_MAX)
        CLIP_CASE(UINT8, uint8_t, 0, UINT8_MAX)
        CLIP_CASE(UINT16, uint16_t, 0, UINT16_MAX)
        CLIP_CASE(UINT32, uint32_t, 0, UINT32_MAX)
        CLIP_CASE(UINT64, uint64_t, 0, UINT64_MAX)
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

struct clip_back_ctx {
    const float *a, *g;
    float       *gx;
    float        lo, hi;
};

/* gx += g where the gradient goes to x (the loop below, without the
 * bounds' sums; selects without branches so that it vectorises; a gx
 * of -0 may become +0) */
LRPX_TARGET_CLONES
static void
clip_back_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct clip_back_ctx *c = ctx_;
    const float lo = c->lo, hi = c->hi;
    const float *restrict a = c->a, *restrict g = c->g;
    float *restrict gx = c->gx;
    for (int64_t i = i0; i < i1; i++) {
        const float v    = a[i];
        const float t    = v < lo ? lo : v;
        const int   pass = (!(t > hi)) & ((v >= lo) | (v != v));
        gx[i] += pass ? g[i] : 0.0f;
    }
}

static lrpx_status
clip_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct clip_params *p  = LRPX_PARAMS(x, n, struct clip_params);
    const struct lrpx_tensor *a  = lrpx__in(x, n, 0);
    const float              *g  = lrpx__back_out(x, n, 0);
    float                    *gx = lrpx__back_in(x, n, 0);
    float *gb[3] = {NULL, x->opset >= 11 ? lrpx__back_in(x, n, 1) : NULL,
                    x->opset >= 11 ? lrpx__back_in(x, n, 2) : NULL};
    if (!g || (!gx && !gb[1] && !gb[2]))
        return LRPX_OK;
    if (a->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__back_not_f32(x, n);
    float lo = p->lo, hi = p->hi;
    if (x->opset >= 11) {
        lo = lrpx__in(x, n, 1) ? lrpx__in(x, n, 1)->f32[0] : -INFINITY;
        hi = lrpx__in(x, n, 2) ? lrpx__in(x, n, 2)->f32[0] : INFINITY;
    }
    if (gx && !gb[1] && !gb[2]) {     /* constant bounds: no sums */
        struct clip_back_ctx c = {a->f32, g, gx, lo, hi};
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, clip_back_range, &c);
        return LRPX_OK;
    }
    double sum_lo = 0.0, sum_hi = 0.0;
    for (int64_t i = 0; i < a->n_elems; i++) {
        const float v = a->f32[i];
        const float t = v < lo ? lo : v;          /* first clamp */
        if (t > hi)
            sum_hi += g[i];
        else if (v >= lo || isnan(v)) {
            if (gx)
                gx[i] += g[i];
        } else
            sum_lo += g[i];
    }
    if (gb[1])
        gb[1][0] += (float)sum_lo;
    if (gb[2])
        gb[2][0] += (float)sum_hi;
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_clip = {
    .onnx_name     = "Clip",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = clip_prepare,
    .forward       = clip_forward,
    .backward      = clip_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
