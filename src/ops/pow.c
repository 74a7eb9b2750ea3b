/* Pow — Z = X ^ Y, element-wise with numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Pow.html  (opsets 1, 7, 12, 13, 15;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: X (and Z) float32, float64, int32, int64; Y any numeric type (from
 *       opset 12 it may differ from X). Float bases: pow in double, rounded
 *       to X's type. Integer base and exponent: exact integer power, wrapping
 *       on overflow; a negative exponent gives the truncated real result
 *       (1 for base 1, +-1 for base -1, 0 otherwise, also for base 0).
 *       Integer base with float exponent: the real power truncated toward
 *       zero and saturated to int64, as a C cast of ONNX Runtime's result.
 * Backward (float32): dZ/dX = Y X^(Y-1) (0 where Y == 0), dZ/dY = Z ln X
 *       (0 where X == 0 and Y >= 0), as PyTorch defines them.
 * LRP:  Pow acts on X like an activation (x^2, x^0.5 in normalizations): all
 *       relevance passes to X when X carries relevance, else to Y.
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
pow_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;
    if ((rc = lrpx__elem_check_dtype(x, n, 0, LRPX_DT_FLOATS | LRPX_DT(INT32) |
                                                  LRPX_DT(INT64))) != LRPX_OK)
        return rc;
    if (x->opset < 12 && lrpx__in(x, n, 1) &&
        lrpx__in(x, n, 1)->dtype != lrpx__in(x, n, 0)->dtype)
        return lrpx__node_error(x, n, LRPX_EINVAL,
                                "X is %s but Y is %s (mixed types need opset 12)",
                                lrpx_dtype_name(lrpx__in(x, n, 0)->dtype),
                                lrpx_dtype_name(lrpx__in(x, n, 1)->dtype));
    struct lrpx_bcast *it = lrpx__params_alloc(x, n, sizeof *it);
    if (!it)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    /* first = 1: Y's dtype is checked, X only takes part in the shape */
    return lrpx__elem_prepare(x, n, 1, LRPX_DT_NUMERIC, lrpx__in(x, n, 0)->dtype, true, it);
}

/* ---- float base and exponent of the same type: the common case ---- */

static void
pow_f32(void *y_, const void *a_, int sa, const void *b_, int sb, int64_t n)
{
    float       *y = y_;
    const float *a = a_, *b = b_;
    if (!sb && b[0] == 2.0f) {                  /* x^2: exact in both ways */
        for (int64_t i = 0; i < n; i++)
            y[i] = a[i * sa] * a[i * sa];
        return;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)pow(a[i * sa], b[i * sb]);
}

static void
pow_f64(void *y_, const void *a_, int sa, const void *b_, int sb, int64_t n)
{
    double       *y = y_;
    const double *a = a_, *b = b_;
    for (int64_t i = 0; i < n; i++)
        y[i] = pow(a[i * sa], b[i * sb]);
}

/* ---- mixed and integer types ---- */

static int64_t
pow_int(int64_t base, int64_t e)
{
    if (e < 0)
        return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)base;        /* unsigned: wraps */
    while (e > 0) {
        if (e & 1)
            r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

static int64_t
pow_sat_i64(double v)
{
    if (isnan(v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

struct pow_ctx {
    const struct lrpx_tensor *a, *b;
    struct lrpx_tensor       *y;
};

static void
pow_mixed_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct pow_ctx *c      = ctx;
    const bool            b_ints = c->b->dtype != LRPX_DTYPE_FLOAT32 &&
                                   c->b->dtype != LRPX_DTYPE_FLOAT64;
    for (int64_t i = 0; i < n; i++) {
        int64_t ia = off[0] + i * in[0], ib = off[1] + i * in[1];
        switch (c->y->dtype) {
        case LRPX_DTYPE_FLOAT32:
            c->y->f32[o + i] = (float)pow(c->a->f32[ia], lrpx__tensor_get_f64(c->b, ib));
            break;
        case LRPX_DTYPE_FLOAT64:
            c->y->f64[o + i] = pow(c->a->f64[ia], lrpx__tensor_get_f64(c->b, ib));
            break;
        default: {
            int64_t base = lrpx__tensor_get_i64(c->a, ia);
            int64_t r    = b_ints ? pow_int(base, lrpx__tensor_get_i64(c->b, ib))
                                  : pow_sat_i64(pow((double)base,
                                                    lrpx__tensor_get_f64(c->b, ib)));
            if (c->y->dtype == LRPX_DTYPE_INT32)
                c->y->i32[o + i] = (int32_t)r;           /* wraps, as C casts */
            else
                c->y->i64[o + i] = r;
        }
        }
    }
}

static lrpx_status
pow_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_bcast  *it = LRPX_PARAMS(x, n, struct lrpx_bcast);
    const struct lrpx_tensor *a = lrpx__in(x, n, 0), *b = lrpx__in(x, n, 1);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    if (a->dtype == LRPX_DTYPE_FLOAT32 && b->dtype == LRPX_DTYPE_FLOAT32)
        lrpx__bcast_binary(it, pow_f32, y->f32, 4, a->f32, 4, b->f32, 4);
    else if (a->dtype == LRPX_DTYPE_FLOAT64 && b->dtype == LRPX_DTYPE_FLOAT64)
        lrpx__bcast_binary(it, pow_f64, y->f64, 8, a->f64, 8, b->f64, 8);
    else {
        struct pow_ctx c = {a, b, y};
        lrpx__bcast_foreach(it, pow_mixed_row, &c);
    }
    return LRPX_OK;
}

/* ---- backward ---- */

/* dZ/dX = Y X^(Y-1), 0 where Y == 0 */
static double
pow_dbase(double a, double b)
{
    return b == 0.0 ? 0.0 : b * pow(a, b - 1.0);
}

/* dZ/dY = X^Y ln X, 0 where X == 0 and Y >= 0 */
static double
pow_dexp(double a, double b)
{
    return (a == 0.0 && b >= 0.0) ? 0.0 : pow(a, b) * log(a);
}

static void
pow_backward_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *c  = ctx;
    const struct lrpx_tensor   *bt = c->extra;           /* exponent, any type */
    const float                *a  = c->op[0] + off[0];
    const float                *g  = c->g + o;
    const int                   sa = in[0], sb = in[1];
    if (c->gin[0])
        LRPX_ACC_ROW(c->gin[0] + off[0], sa, n, pow_dbase(a[i * sa],
                     lrpx__tensor_get_f64(bt, off[1] + i * sb)) * g[i]);
    if (c->gin[1])
        LRPX_ACC_ROW(c->gin[1] + off[1], sb, n, pow_dexp(a[i * sa],
                     lrpx__tensor_get_f64(bt, off[1] + i * sb)) * g[i]);
}

static lrpx_status
pow_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {.extra = lrpx__in(x, n, 1)};
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               pow_backward_row, &c);
}

static lrpx_status
pow_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__elem_pass_to(x, n, lrpx__back_in(x, n, 0) ? 0 : 1, 1.0f);
}

const struct lrpx_op_def lrpx__op_pow = {
    .onnx_name     = "Pow",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = pow_prepare,
    .forward       = pow_forward,
    .backward      = pow_backward,
    .relevance     = pow_relevance,
    .elementwise   = true,
};
