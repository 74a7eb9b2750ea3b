/* MaxPool — the maximum over each pooling window (padding excluded), and
 * optionally the flat index of that maximum.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__MaxPool.html  (opsets 1, 8, 10,
 *       11, 12). Any spatial rank (1-D, 2-D, 3-D, ...); attributes
 *       kernel_shape, strides, pads, dilations, ceil_mode, auto_pad,
 *       storage_order; dtypes float32, float64, int8, uint8.
 *       Output 1 (Indices, int64): the index of the chosen element in the
 *       flattened input, N and C included and padding not counted; with
 *       storage_order = 1 the spatial part of the index is column-major
 *       (first spatial dimension fastest). Ties go to the first maximum in
 *       row-major window order. Window geometry and the ceil_mode rule:
 *       src/ops/kernels/pool_impl.h.
 * Gradient: all of g_j to the window's first maximum (PyTorch's rule).
 * LRP:  by lrpx__rule(x, n)->maxpool:
 *       LRPX_MAXPOOL_WINNER       all of R_j to the first maximum;
 *       LRPX_MAXPOOL_WINNER_SPLIT R_j shared evenly by the tied maxima;
 *       LRPX_MAXPOOL_SUM          as a sum-pool: R_i += x_i / stab(sum_w x) R_j,
 *                                 padding contributing nothing.
 *       Overlapping windows add their shares. A window with no input
 *       element (possible only with odd padding/dilation) drops its R_j.
 */
#include <float.h>
#include <math.h>

#include "core/rules.h"
#include "ops/kernels/pool_impl.h"
#include "util/parallel.h"

/* the geometry must stay the first member (lrpx__pool_params_alloc) */
struct max_pool_params {
    struct lrpx_pool_geom g;
    int64_t               storage_order;
    int64_t               cm_stride[LRPX_POOL_MAX_SPATIAL]; /* column-major */
};

static lrpx_status
max_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    if (in->dtype != LRPX_DTYPE_FLOAT32 && in->dtype != LRPX_DTYPE_FLOAT64 &&
        in->dtype != LRPX_DTYPE_UINT8 && in->dtype != LRPX_DTYPE_INT8)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input X has dtype %s; MaxPool supports float32, float64, "
                                "int8 and uint8", lrpx_dtype_name(in->dtype));

    /* g is the first member: lrpx__pool_params_alloc fills it and the tables */
    struct max_pool_params *p = lrpx__pool_params_alloc(x, n, in, sizeof *p, &rc);
    if (!p)
        return rc;

    p->storage_order = lrpx__attr_int(n, "storage_order", 0);
    if (p->storage_order != 0 && p->storage_order != 1)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute storage_order = %lld, expected 0 (row-major) "
                                "or 1 (column-major)", (long long)p->storage_order);
    int64_t s = 1;
    for (int d = 0; d < p->g.n_spatial; d++) {
        p->cm_stride[d] = s;
        s *= p->g.in[d];
    }

    if ((rc = lrpx__set_output(x, n, 0, in->dtype, p->g.out_rank, p->g.out_dims)) != LRPX_OK)
        return rc;
    if (lrpx__out(x, n, 1) &&
        (rc = lrpx__set_output(x, n, 1, LRPX_DTYPE_INT64, p->g.out_rank, p->g.out_dims)) != LRPX_OK)
        return rc;
    return LRPX_OK;
}

/* ---- forward ---- */

/* Index of the current tap in the flat input (without the plane offset). */
static inline int64_t
max_pool_index(const struct max_pool_params *p, const struct lrpx_pool_iter *it)
{
    if (p->storage_order == 0)
        return it->off;
    int64_t idx = 0;
    for (int d = 0; d < p->g.n_spatial; d++)
        idx += it->coord[d] * p->cm_stride[d];
    return idx;
}

#define MAX_POOL_FORWARD(NAME, T, LOWEST)                                               \
    static void                                                                         \
    NAME(const struct max_pool_params *p, const T *xd, T *yd, int64_t *id)              \
    {                                                                                   \
        const struct lrpx_pool_geom *g = &p->g;                                         \
        for (int64_t pl = 0; pl < g->n_planes; pl++) {                                  \
            const T *xp = xd + pl * g->in_plane;                                        \
            int64_t  opos[LRPX_POOL_MAX_SPATIAL] = {0};                                 \
            for (int64_t o = 0; o < g->out_plane; o++) {                                \
                struct lrpx_pool_iter it;                                               \
                T       best = LOWEST;                                                  \
                int64_t bidx = -1;                                                      \
                if (lrpx__pool_iter_begin(&it, g, opos)) {                              \
                    best = xp[it.off];                                                  \
                    bidx = id ? max_pool_index(p, &it) : 0;                             \
                    while (lrpx__pool_iter_next(&it))                                   \
                        if (xp[it.off] > best) {                                        \
                            best = xp[it.off];                                          \
                            if (id)                                                     \
                                bidx = max_pool_index(p, &it);                          \
                        }                                                               \
                    bidx += pl * g->in_plane;                                           \
                }                                                                       \
                yd[pl * g->out_plane + o] = best;                                       \
                if (id)                                                                 \
                    id[pl * g->out_plane + o] = bidx;                                   \
                lrpx__pool_opos_next(g, opos);                                          \
            }                                                                           \
        }                                                                               \
    }

MAX_POOL_FORWARD(max_pool_forward_f32, float, -INFINITY)

/* The common case, 2-D float32, without the generic iterator. */
static void
max_pool_forward_2d_f32(const struct max_pool_params *p, const float *xd, float *yd, int64_t *id)
{
    const struct lrpx_pool_geom *g = &p->g;
    int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    int64_t dh = g->dilation[0], dw = g->dilation[1];

    for (int64_t pl = 0; pl < g->n_planes; pl++) {
        const float *xp = xd + pl * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0 = oh * g->stride[0] - g->pad_head[0];
            int64_t hlo = g->lo[0][oh], hhi = g->hi[0][oh];
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = ow * g->stride[1] - g->pad_head[1];
                int64_t wlo = g->lo[1][ow], whi = g->hi[1][ow];
                float   best = -INFINITY;
                int64_t bh = -1, bw = -1;
                for (int64_t th = hlo; th < hhi; th++) {
                    int64_t      h   = h0 + th * dh;
                    const float *row = xp + h * W + w0;
                    for (int64_t tw = wlo; tw < whi; tw++) {
                        float v = row[tw * dw];
                        if (v > best || bh < 0) {
                            best = v;
                            bh   = h;
                            bw   = w0 + tw * dw;
                        }
                    }
                }
                int64_t o = (pl * OH + oh) * OW + ow;
                yd[o] = best;
                if (id)
                    id[o] = bh < 0 ? -1
                                   : pl * H * W + (p->storage_order ? bh + bw * H : bh * W + bw);
            }
        }
    }
}
/* The same without indices, vectorised over output columns: each output
 * starts from its window's first tap inside the input, then every tap
 * (th, tw) in row-major window order updates the contiguous range of
 * columns where it lies inside the row. Every output thus sees its taps in
 * the order above, so ties and NaNs resolve the same way. */
struct max_pool_2d_ctx {
    const struct max_pool_params *p;
    const float                  *xd;
    float                        *yd;
    const int64_t                *col_a, *col_b;   /* per tap tw: columns */
};

LRPX_TARGET_CLONES
static void
max_pool_2d_range(void *ctx_, int64_t pl0, int64_t pl1)
{
    const struct max_pool_2d_ctx *c = ctx_;
    const struct lrpx_pool_geom  *g = &c->p->g;
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    const int64_t dh = g->dilation[0], dw = g->dilation[1], sw = g->stride[1];
    const int64_t kw = g->kernel[1], pw = g->pad_head[1];

    for (int64_t pl = pl0; pl < pl1; pl++) {
        const float *xp = c->xd + pl * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            const int64_t h0 = oh * g->stride[0] - g->pad_head[0];
            const int64_t hlo = g->lo[0][oh], hhi = g->hi[0][oh];
            float *y = c->yd + (pl * OH + oh) * OW;
            if (hlo >= hhi) {
                for (int64_t ow = 0; ow < OW; ow++)
                    y[ow] = -INFINITY;
                continue;
            }
            const float *first = xp + (h0 + hlo * dh) * W - pw;
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t wlo = g->lo[1][ow];
                y[ow] = wlo < g->hi[1][ow] ? first[ow * sw + wlo * dw] : -INFINITY;
            }
            for (int64_t th = hlo; th < hhi; th++) {
                const float *row = xp + (h0 + th * dh) * W - pw;
                for (int64_t tw = 0; tw < kw; tw++) {
                    const float  *src = row + tw * dw;
                    const int64_t a = c->col_a[tw], b = c->col_b[tw];
                    if (sw == 1) {
                        for (int64_t ow = a; ow < b; ow++) {
                            const float v = src[ow];
                            y[ow] = v > y[ow] ? v : y[ow];
                        }
                    } else if (sw == 2) {
                        for (int64_t ow = a; ow < b; ow++) {
                            const float v = src[2 * ow];
                            y[ow] = v > y[ow] ? v : y[ow];
                        }
                    } else {
                        for (int64_t ow = a; ow < b; ow++) {
                            const float v = src[ow * sw];
                            y[ow] = v > y[ow] ? v : y[ow];
                        }
                    }
                }
            }
        }
    }
}

/* Planes that fit SEP_MAX floats once padded (undilated windows): the
 * plane is copied into a buffer padded with -inf, the row maxima over the
 * kernel width are taken in place, then the column maxima over the kernel
 * height at the strided positions. The maximum of the same taps, in another
 * order: equal values may differ in the sign of a zero, and a NaN inside a
 * window gives NaN or not depending on its position (as in the per-window
 * loop, where only a NaN first tap comes through). */
#define SEP_MAX 16384

LRPX_TARGET_CLONES
static void
max_pool_sep_range(void *ctx_, int64_t pl0, int64_t pl1)
{
    const struct max_pool_2d_ctx *c = ctx_;
    const struct lrpx_pool_geom  *g = &c->p->g;
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    const int64_t kh = g->kernel[0], kw = g->kernel[1], sh = g->stride[0], sw = g->stride[1];
    const int64_t ph = g->pad_head[0], pw = g->pad_head[1];
    const int64_t PH = (OH - 1) * sh + kh, PW = (OW - 1) * sw + kw;
    const int64_t lo = pw < PW ? pw : PW, hi = pw + W < PW ? pw + W : PW;
    float         pad[SEP_MAX], m[SEP_MAX];
    const int64_t n  = PH * PW;

    for (int64_t pl = pl0; pl < pl1; pl++) {
        const float *xp = c->xd + pl * H * W;
        float       *yp = c->yd + pl * OH * OW;
        for (int64_t r = 0; r < PH; r++) {
            float        *d  = pad + r * PW;
            const int64_t ih = r - ph;
            if (ih < 0 || ih >= H) {
                for (int64_t j = 0; j < PW; j++)
                    d[j] = -INFINITY;
                continue;
            }
            for (int64_t j = 0; j < lo; j++)
                d[j] = -INFINITY;
            for (int64_t j = lo; j < hi; j++)
                d[j] = xp[ih * W + j - pw];
            for (int64_t j = hi; j < PW; j++)
                d[j] = -INFINITY;
        }
        /* over the plane as one array (positions whose window would run
         * past a row's end are computed but never used): the row maxima
         * m[i] = max pad[i .. i + kw - 1], then the column maxima back in
         * pad: pad[i] = max m[i + t PW], t < kh */
        const int64_t nr = n - (kw - 1), nc = nr - (kh - 1) * PW;
        for (int64_t i = 0; i < nr; i++)
            m[i] = pad[i];
        for (int64_t t = 1; t < kw; t++)
            for (int64_t i = 0; i < nr; i++)
                m[i] = pad[i + t] > m[i] ? pad[i + t] : m[i];
        for (int64_t i = 0; i < nc; i++)
            pad[i] = m[i];
        for (int64_t t = 1; t < kh; t++)
            for (int64_t i = 0; i < nc; i++)
                pad[i] = m[i + t * PW] > pad[i] ? m[i + t * PW] : pad[i];
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *r0 = pad + oh * sh * PW;
            float       *y  = yp + oh * OW;
            if (sw == 1)
                for (int64_t o = 0; o < OW; o++)
                    y[o] = r0[o];
            else
                for (int64_t o = 0; o < OW; o++)
                    y[o] = r0[o * sw];
        }
    }
}

static void
max_pool_forward_2d_noidx_f32(const struct max_pool_params *p, const float *xd, float *yd,
                              struct lrpx_pool *pool)
{
    {
        const struct lrpx_pool_geom *g = &p->g;
        const int64_t PH = (g->out[0] - 1) * g->stride[0] + g->kernel[0];
        const int64_t PW = (g->out[1] - 1) * g->stride[1] + g->kernel[1];
        if (g->dilation[0] == 1 && g->dilation[1] == 1 && PH * PW <= SEP_MAX) {
            struct max_pool_2d_ctx c = {p, xd, yd, NULL, NULL};
            lrpx__parallel_for(pool, g->n_planes, 1 + 4096 / (PH * PW), max_pool_sep_range,
                               &c);
            return;
        }
    }
    const struct lrpx_pool_geom *g = &p->g;
    int64_t col_a[64], col_b[64];
    struct max_pool_2d_ctx c = {p, xd, yd, col_a, col_b};
    /* tap tw lies inside the row for columns ow with lo[ow] <= tw < hi[ow];
     * lo and hi never increase with ow, so that is a range */
    for (int64_t tw = 0; tw < g->kernel[1]; tw++) {
        int64_t a = 0, b;
        while (a < g->out[1] && !(g->lo[1][a] <= tw && tw < g->hi[1][a]))
            a++;
        b = a;
        while (b < g->out[1] && g->lo[1][b] <= tw && tw < g->hi[1][b])
            b++;
        col_a[tw] = a;
        col_b[tw] = b;
    }
    lrpx__parallel_for(pool, g->n_planes, 1, max_pool_2d_range, &c);
}

MAX_POOL_FORWARD(max_pool_forward_f64, double, -INFINITY)
MAX_POOL_FORWARD(max_pool_forward_u8, uint8_t, 0)
MAX_POOL_FORWARD(max_pool_forward_i8, int8_t, INT8_MIN)

static lrpx_status
max_pool_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct max_pool_params *p  = LRPX_PARAMS(x, n, struct max_pool_params);
    const struct lrpx_tensor     *in = lrpx__in(x, n, 0);
    struct lrpx_tensor           *y  = lrpx__out(x, n, 0);
    struct lrpx_tensor           *ix = lrpx__out(x, n, 1);
    int64_t                      *id = ix ? ix->i64 : NULL;

    switch (in->dtype) {
    case LRPX_DTYPE_FLOAT32:
        if (p->g.n_spatial == 2 && !id && p->g.kernel[1] <= 64)
            max_pool_forward_2d_noidx_f32(p, in->f32, y->f32, x->pool);
        else if (p->g.n_spatial == 2)
            max_pool_forward_2d_f32(p, in->f32, y->f32, id);
        else
            max_pool_forward_f32(p, in->f32, y->f32, id);
        break;
    case LRPX_DTYPE_FLOAT64: max_pool_forward_f64(p, in->f64, y->f64, id); break;
    case LRPX_DTYPE_UINT8:   max_pool_forward_u8(p, in->u8, y->u8, id); break;
    case LRPX_DTYPE_INT8:    max_pool_forward_i8(p, in->i8, y->i8, id); break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "dtype %s",
                                lrpx_dtype_name(in->dtype));
    }
    return LRPX_OK;
}

/* ---- gradient and relevance ---- */

static inline double
max_pool_val(const struct lrpx_tensor *t, int64_t i)
{
    return t->dtype == LRPX_DTYPE_FLOAT32 ? (double)t->f32[i] : lrpx__tensor_get_f64(t, i);
}

/* max_pool_route for 2-D float32 windows in LRPX_MAXPOOL_WINNER mode:
 * each output's g to the first maximum of its window (taps row by row, a
 * NaN first tap kept, as lrpx__maxlike_add does), without the generic
 * iterator. */
static void
max_pool_route_2d(const struct lrpx_pool_geom *g, const float *in, const float *gout,
                  float *gin)
{
    const int64_t OH = g->out[0], OW = g->out[1], IW = g->in[1];
    const int64_t sh = g->stride[0], sw = g->stride[1], dh = g->dilation[0];
    const int64_t dw = g->dilation[1], ph = g->pad_head[0], pw = g->pad_head[1];
    for (int64_t pl = 0; pl < g->n_planes; pl++) {
        const float *xp = in + pl * g->in_plane;
        float       *gp = gin + pl * g->in_plane;
        const float *go = gout + pl * g->out_plane;
        for (int64_t oh = 0; oh < OH; oh++) {
            const int64_t hlo = g->lo[0][oh], hhi = g->hi[0][oh], h0 = oh * sh - ph;
            for (int64_t ow = 0; ow < OW; ow++) {
                const float r = go[oh * OW + ow];
                const int64_t wlo = g->lo[1][ow], whi = g->hi[1][ow], w0 = ow * sw - pw;
                if (r == 0.0f || hlo >= hhi || wlo >= whi)
                    continue;
                int64_t arg  = (h0 + hlo * dh) * IW + w0 + wlo * dw;
                float   best = xp[arg];
                for (int64_t th = hlo; th < hhi; th++) {
                    const float *row = xp + (h0 + th * dh) * IW + w0;
                    for (int64_t tw = th == hlo ? wlo + 1 : wlo; tw < whi; tw++)
                        if (row[tw * dw] > best) {
                            best = row[tw * dw];
                            arg  = (h0 + th * dh) * IW + w0 + tw * dw;
                        }
                }
                gp[arg] += r;
            }
        }
    }
}

/* Route g (gradient or relevance) of every output back to its window by
 * mode; `stab` only matters for LRPX_MAXPOOL_SUM. */
static void
max_pool_route(const struct max_pool_params *p, const struct lrpx_tensor *in,
               const float *gout, float *gin, lrpx_maxpool_mode mode, double stab)
{
    const struct lrpx_pool_geom *g = &p->g;
    if (g->n_spatial == 2 && mode == LRPX_MAXPOOL_WINNER && in->dtype == LRPX_DTYPE_FLOAT32) {
        max_pool_route_2d(g, in->f32, gout, gin);
        return;
    }

    for (int64_t pl = 0; pl < g->n_planes; pl++) {
        int64_t xo = pl * g->in_plane;
        float  *gp = gin + xo;
        int64_t opos[LRPX_POOL_MAX_SPATIAL] = {0};
        for (int64_t o = 0; o < g->out_plane; o++, lrpx__pool_opos_next(g, opos)) {
            double r = gout[pl * g->out_plane + o];
            struct lrpx_pool_iter it;
            if (r == 0.0 || !lrpx__pool_iter_begin(&it, g, opos))
                continue;
            struct lrpx_pool_iter start = it;
            struct lrpx_maxlike   m;
            lrpx__maxlike_init(&m, true);
            do {
                lrpx__maxlike_add(&m, max_pool_val(in, xo + it.off), it.off);
            } while (lrpx__pool_iter_next(&it));
            if (lrpx__maxlike_single(&m, mode)) {
                gp[m.arg] += (float)r;
                continue;
            }
            it = start;
            do {
                gp[it.off] += (float)lrpx__maxlike_share(&m, mode, stab, r,
                                                         max_pool_val(in, xo + it.off), it.off);
            } while (lrpx__pool_iter_next(&it));
        }
    }
}

static lrpx_status
max_pool_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    float       *gin  = lrpx__back_in(x, n, 0);
    const float *gout = lrpx__back_out(x, n, 0);

    if (gin && gout)
        max_pool_route(LRPX_PARAMS(x, n, struct max_pool_params), lrpx__in(x, n, 0),
                       gout, gin, LRPX_MAXPOOL_WINNER, 0.0);
    return LRPX_OK;
}

static lrpx_status
max_pool_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    float                      *rin  = lrpx__back_in(x, n, 0);
    const float                *rout = lrpx__back_out(x, n, 0);
    const struct lrpx_rule_cfg *rule = lrpx__rule(x, n);

    if (rin && rout)
        max_pool_route(LRPX_PARAMS(x, n, struct max_pool_params), lrpx__in(x, n, 0),
                       rout, rin, rule->maxpool, rule->stab);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_max_pool = {
    .onnx_name     = "MaxPool",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 2,
    .prepare       = max_pool_prepare,
    .forward       = max_pool_forward,
    .backward      = max_pool_backward,
    .relevance     = max_pool_relevance,
    .lrp_class     = LRPX_LRP_CLASS_MAXLIKE,
};
