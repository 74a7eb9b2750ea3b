/* Pad — grow (or, with negative pads, crop) each axis at both ends.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Pad.html  (opsets 1, 2, 11, 13, 18)
 *       pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...]: attribute
 *       `paddings` (opset 1) / `pads` (2-10) with a float `value`; from 11
 *       input 1 (known at prepare) with an optional constant_value input of
 *       the data's type; from 18 an optional axes input naming the padded
 *       axes. Modes: constant (default), reflect (mirror without repeating
 *       the edge; pads longer than the axis keep reflecting), edge, and
 *       wrap (opset 19). Any element type.
 * LRP:  every output element in the data region or made by reflect / edge
 *       / wrap is a copy of one input element: gradient and relevance are
 *       scatter-added back to it. Elements made from the constant have no
 *       source: the relevance that reaches them is dropped, like the share
 *       a bias absorbs (it is 0 for zero padding under LRP-0/epsilon, where
 *       the padded inputs contribute w * 0 to the next layer).
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

struct pad_params {
    int      rank;
    int64_t  in_strides[LRPX_MAX_RANK];
    /* per axis, per output index: the input index or -1 (constant) */
    int64_t *map[LRPX_MAX_RANK];
    uint8_t  value[16];          /* the constant, unless it is an input */
    bool     value_input;
};

/* ---- prepare ---- */

/* The float `value` attribute of opsets < 11 in the data's type; a value
 * the type cannot hold is an error (the conversion would be undefined). */
static lrpx_status
pad_value_from_float(struct lrpx_exec *x, const struct lrpx_node *n, lrpx_dtype t, float f,
                     uint8_t *out)
{
    const double v = f;
    double       lo = 0.0, hi = 0.0;
    switch (t) {
    case LRPX_DTYPE_FLOAT32: memcpy(out, &f, 4); return LRPX_OK;
    case LRPX_DTYPE_FLOAT64: memcpy(out, &v, 8); return LRPX_OK;
    case LRPX_DTYPE_BOOL:    out[0] = f != 0.0f; return LRPX_OK;
    case LRPX_DTYPE_INT8:    lo = INT8_MIN;  hi = INT8_MAX;   break;
    case LRPX_DTYPE_UINT8:   lo = 0;         hi = UINT8_MAX;  break;
    case LRPX_DTYPE_INT16:   lo = INT16_MIN; hi = INT16_MAX;  break;
    case LRPX_DTYPE_UINT16:  lo = 0;         hi = UINT16_MAX; break;
    case LRPX_DTYPE_INT32:   lo = INT32_MIN; hi = INT32_MAX;  break;
    case LRPX_DTYPE_UINT32:  lo = 0;         hi = UINT32_MAX; break;
    case LRPX_DTYPE_INT64:   lo = -9.2e18;   hi = 9.2e18;     break;
    case LRPX_DTYPE_UINT64:  lo = 0;         hi = 1.8e19;     break;
    default:
        if (f == 0.0f)
            return LRPX_OK;   /* all-zero bytes are 0 in the remaining types */
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "pad value %g for dtype %s", v,
                                lrpx_dtype_name(t));
    }
    if (!(v >= lo && v <= hi))
        return lrpx__node_error(x, n, LRPX_EINVAL, "pad value %g does not fit dtype %s", v,
                                lrpx_dtype_name(t));
    switch (t) {
    case LRPX_DTYPE_INT8:   { int8_t w = (int8_t)v; memcpy(out, &w, 1); break; }
    case LRPX_DTYPE_UINT8:  { uint8_t w = (uint8_t)v; memcpy(out, &w, 1); break; }
    case LRPX_DTYPE_INT16:  { int16_t w = (int16_t)v; memcpy(out, &w, 2); break; }
    case LRPX_DTYPE_UINT16: { uint16_t w = (uint16_t)v; memcpy(out, &w, 2); break; }
    case LRPX_DTYPE_INT32:  { int32_t w = (int32_t)v; memcpy(out, &w, 4); break; }
    case LRPX_DTYPE_UINT32: { uint32_t w = (uint32_t)v; memcpy(out, &w, 4); break; }
    case LRPX_DTYPE_INT64:  { int64_t w = (int64_t)v; memcpy(out, &w, 8); break; }
    default:                { uint64_t w = (uint64_t)v; memcpy(out, &w, 8); break; }
    }
    return LRPX_OK;
}

/* Pads (and axes) into begin[]/end[] per axis. */
static lrpx_status
pad_read_pads(struct lrpx_exec *x, const struct lrpx_node *n, int r, int64_t *begin,
              int64_t *end)
{
    int64_t pads[2 * LRPX_MAX_RANK];
    int     n_pads;
    int     axes[LRPX_MAX_RANK];
    int     n_axes = r;
    for (int k = 0; k < r; k++)
        axes[k] = k;

    if (x->opset < 11) {
        const char    *name = x->opset < 2 ? "paddings" : "pads";
        const int64_t *p;
        if (!lrpx__attr_find(n, name))
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute '%s' is missing", name);
        n_pads = lrpx__attr_ints(n, name, &p);
        if (n_pads > 2 * r)
            n_pads = 2 * r + 1;   /* rejected below */
        else
            memcpy(pads, p, (size_t)n_pads * sizeof *p);
    } else {
        lrpx_status rc = lrpx__move_ints(x, n, 1, "pads", pads, 2 * LRPX_MAX_RANK, &n_pads);
        if (rc != LRPX_OK)
            return rc;
        if (lrpx__in(x, n, 3)) {
            int64_t a[LRPX_MAX_RANK];
            bool    seen[LRPX_MAX_RANK] = {false};
            rc = lrpx__move_ints(x, n, 3, "axes", a, r, &n_axes);
            if (rc != LRPX_OK)
                return rc;
            for (int k = 0; k < n_axes; k++) {
                rc = lrpx__move_axis(x, n, a[k], r, "axes", &axes[k]);
                if (rc != LRPX_OK)
                    return rc;
                if (seen[axes[k]])
                    return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d is listed twice", axes[k]);
                seen[axes[k]] = true;
            }
        }
    }
    if (n_pads != 2 * n_axes)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "pads has %d values, expected %d", n_pads,
                                2 * n_axes);
    for (int k = 0; k < r; k++)
        begin[k] = end[k] = 0;
    for (int k = 0; k < n_axes; k++) {
        begin[axes[k]] = pads[k];
        end[axes[k]]   = pads[n_axes + k];
    }
    return LRPX_OK;
}

/* Source index of output index o on an axis of length len, or -1. */
static int64_t
pad_source(enum pad_mode mode, int64_t o, int64_t begin, int64_t len)
{
    int64_t i = o - begin;   /* |begin| <= |out_len| + len: no overflow */
    if (i >= 0 && i < len)
        return i;
    switch (mode) {
    case PAD_CONSTANT:
        return -1;
    case PAD_EDGE:
        return i < 0 ? 0 : len - 1;
    case PAD_WRAP:
        return ((i % len) + len) % len;
    case PAD_REFLECT:
    default: {
        if (len == 1)
            return 0;
        int64_t period = 2 * (len - 1);
        int64_t m      = ((i % period) + period) % period;
        return m < len ? m : period - m;
    }
    }
}

static lrpx_status
pad_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    const char   *mode_s = lrpx__attr_string(n, "mode", "constant");
    enum pad_mode mode;
    if (strcmp(mode_s, "constant") == 0)
        mode = PAD_CONSTANT;
    else if (strcmp(mode_s, "reflect") == 0)
        mode = PAD_REFLECT;
    else if (strcmp(mode_s, "edge") == 0)
        mode = PAD_EDGE;
    else if (strcmp(mode_s, "wrap") == 0)
        mode = PAD_WRAP;
    else
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "mode '%s' is not supported", mode_s);

    struct pad_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->rank = r;

    /* ---- the constant ---- */
    if (x->opset < 11) {
        rc = pad_value_from_float(x, n, in->dtype, lrpx__attr_float(n, "value", 0.0f), p->value);
        if (rc != LRPX_OK)
            return rc;
    } else if (lrpx__in(x, n, 2)) {
        const struct lrpx_tensor *c = lrpx__in(x, n, 2);
        if (c->dtype != in->dtype)
            return lrpx__node_error(x, n, LRPX_EINVAL, "constant_value has dtype %s, data %s",
                                    lrpx_dtype_name(c->dtype), lrpx_dtype_name(in->dtype));
        if (c->n_elems > 1)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "constant_value has %lld elements",
                                    (long long)c->n_elems);
        p->value_input = c->n_elems == 1;   /* an empty one means 0 */
    }

    /* ---- output shape ---- */
    int64_t begin[LRPX_MAX_RANK], end[LRPX_MAX_RANK], dims[LRPX_MAX_RANK];
    rc = pad_read_pads(x, n, r, begin, end);
    if (rc != LRPX_OK)
        return rc;
    for (int k = 0; k < r; k++) {
        const int64_t d = in->dims[k];
        /* |pad| <= 2^62 keeps the index arithmetic of pad_source in range */
        const int64_t lim = (int64_t)1 << 62;
        int64_t       sum;
        if (begin[k] > lim || begin[k] < -lim || end[k] > lim || end[k] < -lim ||
            __builtin_add_overflow(d, begin[k], &sum) ||
            __builtin_add_overflow(sum, end[k], &sum) || sum < 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "pads %lld, %lld on axis %d of size %lld are invalid",
                                    (long long)begin[k], (long long)end[k], k, (long long)d);
        dims[k] = sum;
        if (mode != PAD_CONSTANT && d == 0 && dims[k] > 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot %s-pad the empty axis %d", mode_s, k);
    }
    rc = lrpx__set_output(x, n, 0, in->dtype, r, dims);
    if (rc != LRPX_OK)
        return rc;

    /* ---- index maps (none needed for an empty output) ---- */
    lrpx__move_strides(in, p->in_strides);
    if (lrpx__out(x, n, 0)->n_elems == 0)
        return LRPX_OK;
    for (int k = 0; k < r; k++) {
        p->map[k] = lrpx__arena_alloc(x->arena, (size_t)dims[k] * sizeof(int64_t));
        if (!p->map[k])
            return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
        for (int64_t o = 0; o < dims[k]; o++)
            p->map[k][o] = pad_source(mode, o, begin[k], in->dims[k]);
    }
    return LRPX_OK;
}

/* ---- forward / backward ---- */

/* Walk the output row by row (last axis inner): `src` is the input offset
 * of the row's source row, or -1 when the row lies in the constant. */
#define PAD_ROWS(p, out, BODY)                                                  \
    do {                                                                        \
        const int     r_     = (p)->rank;                                       \
        const int64_t inner_ = r_ > 0 ? (out)->dims[r_ - 1] : 1;                \
        const int64_t rows_  = inner_ > 0 ? (out)->n_elems / inner_ : 0;        \
        int64_t       idx_[LRPX_MAX_RANK] = {0};                                \
        for (int64_t row_ = 0; row_ < rows_; row_++) {                          \
            int64_t src = 0;                                                    \
            for (int k_ = 0; k_ < r_ - 1; k_++) {                               \
                int64_t m_ = (p)->map[k_][idx_[k_]];                            \
                if (m_ < 0) {                                                   \
                    src = -1;                                                   \
                    break;                                                      \
                }                                                               \
                src += m_ * (p)->in_strides[k_];                                \
            }                                                                   \
            const int64_t base = row_ * inner_;                                 \
            BODY;                                                               \
            for (int k_ = r_ - 2; k_ >= 0; k_--) {                              \
                if (++idx_[k_] < (out)->dims[k_])                               \
                    break;                                                      \
                idx_[k_] = 0;                                                   \
            }                                                                   \
        }                                                                       \
    } while (0)

static lrpx_status
pad_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct pad_params  *p   = LRPX_PARAMS(x, n, struct pad_params);
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    const size_t              es  = lrpx_dtype_size(in->dtype);
    const uint8_t            *val = p->value_input ? lrpx__in(x, n, 2)->data : p->value;
    const uint8_t            *s   = in->data;
    uint8_t                  *d   = out->data;

    if (out->n_elems == 0)
        return LRPX_OK;
    if (p->rank == 0) {
        memcpy(d, s, es);
        return LRPX_OK;
    }
    /* all pads zero (PyTorch exports such Pads before AveragePool): a copy */
    bool same = in->n_elems == out->n_elems;
    for (int a = 0; same && a < p->rank; a++)
        for (int64_t i = 0; same && i < out->dims[a]; i++)
            same = in->dims[a] == out->dims[a] && p->map[a][i] == i;
    if (same) {
        memcpy(d, s, (size_t)out->n_elems * es);
        return LRPX_OK;
    }
    const int64_t *last = p->map[p->rank - 1];
    PAD_ROWS(p, out, {
        for (int64_t t = 0; t < inner_; t++) {
            int64_t m = src < 0 ? -1 : last[t];
            memcpy(d + (size_t)(base + t) * es, m < 0 ? val : s + (size_t)(src + m) * es, es);
        }
    });
    return LRPX_OK;
}

static lrpx_status
pad_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct pad_params  *p    = LRPX_PARAMS(x, n, struct pad_params);
    const struct lrpx_tensor *out  = lrpx__out(x, n, 0);
    float                    *gin  = lrpx__back_in(x, n, 0);
    const float              *gout = lrpx__back_out(x, n, 0);

    if (!gin || !gout || out->n_elems == 0)
        return LRPX_OK;
    if (p->rank == 0) {
        gin[0] += gout[0];
        return LRPX_OK;
    }
    const int64_t *last = p->map[p->rank - 1];
    /* added, never assigned; constant positions have no source */
    PAD_ROWS(p, out, {
        if (src >= 0)
            for (int64_t t = 0; t < inner_; t++)
                if (last[t] >= 0)
                    gin[src + last[t]] += gout[base + t];
    });
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_pad = {
    .onnx_name     = "Pad",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 4,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = pad_prepare,
    .forward       = pad_forward,
    .backward      = pad_backward,
    .relevance     = pad_backward,
};
