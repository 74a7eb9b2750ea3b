/* AveragePool — the mean over each pooling window.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__AveragePool.html  (opsets 1, 7,
 *       10, 11, and the dilations attribute of opset 19). Any spatial rank;
 *       attributes kernel_shape, strides, pads, dilations, ceil_mode,
 *       auto_pad, count_include_pad; dtypes float32, float64.
 *       The divisor is the number of window taps inside the input
 *       (count_include_pad = 0), or inside the padded input
 *       (count_include_pad = 1; a window that ceil_mode lets run past the
 *       end padding is clipped there, as in PyTorch / ONNX Runtime).
 *       Window geometry: src/ops/kernels/pool_impl.h.
 * Gradient: g_i += g_j / divisor for every tap i of window j.
 * LRP:  proportional split of the sum z_j = sum_i z_ij, z_ij = x_i / divisor:
 *       R_i += z_ij / stab(z_j) R_j, stabilizer lrpx__rule(x, n)->stab
 *       (the epsilon rule on a linear layer without bias, as Zennit treats
 *       average pooling). Padding carries no relevance.
 */
#include "core/rules.h"
#include "ops/kernels/pool_impl.h"

/* the geometry must stay the first member (lrpx__pool_params_alloc) */
struct average_pool_params {
    struct lrpx_pool_geom g;
    bool                  count_include_pad;
};

static lrpx_status
average_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    if (in->dtype != LRPX_DTYPE_FLOAT32 && in->dtype != LRPX_DTYPE_FLOAT64)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input X has dtype %s; AveragePool supports float32 and "
                                "float64", lrpx_dtype_name(in->dtype));

    /* g is the first member: lrpx__pool_params_alloc fills it and the tables */
    struct average_pool_params *p = lrpx__pool_params_alloc(x, n, in, sizeof *p, &rc);
    if (!p)
        return rc;

    int64_t cip = lrpx__attr_int(n, "count_include_pad", 0);
    if (cip != 0 && cip != 1)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute count_include_pad = %lld, expected 0 or 1",
                                (long long)cip);
    p->count_include_pad = cip == 1;

    return lrpx__set_output(x, n, 0, in->dtype, p->g.out_rank, p->g.out_dims);
}

/* Sum over the window's taps inside the input and the divisor; returns
 * false for a window without taps (divisor then still set). */
#define AVERAGE_POOL_SUM(NAME, T)                                                       \
    static inline bool                                                                  \
    NAME(const struct average_pool_params *p, const T *xp, const int64_t *opos,          \
         double *sum, double *div)                                                      \
    {                                                                                   \
        struct lrpx_pool_iter it;                                                       \
        bool                  any = lrpx__pool_iter_begin(&it, &p->g, opos);            \
        double                s = 0.0, count = 0.0;                                     \
        if (any)                                                                        \
            do {                                                                        \
                s += (double)xp[it.off];                                                \
                count += 1.0;                                                           \
            } while (lrpx__pool_iter_next(&it));                                        \
        *sum = s;                                                                       \
        *div = p->count_include_pad ? it.n_padded : count;                              \
        return any;                                                                     \
    }

AVERAGE_POOL_SUM(average_pool_sum_f32, float)
AVERAGE_POOL_SUM(average_pool_sum_f64, double)

#define AVERAGE_POOL_FORWARD(NAME, SUM, T)                                              \
    static void                                                                         \
    NAME(const struct average_pool_params *p, const T *xd, T *yd)                       \
    {                                                                                   \
        const struct lrpx_pool_geom *g = &p->g;                                         \
        for (int64_t pl = 0; pl < g->n_planes; pl++) {                                  \
            int64_t opos[LRPX_POOL_MAX_SPATIAL] = {0};                                  \
            for (int64_t o = 0; o < g->out_plane; o++) {                                \
                double sum, div;                                                        \
                SUM(p, xd + pl * g->in_plane, opos, &sum, &div);                        \
                yd[pl * g->out_plane + o] = div > 0.0 ? (T)(sum / div) : (T)0;          \
                lrpx__pool_opos_next(g, opos);                                          \
            }                                                                           \
        }                                                                               \
    }

AVERAGE_POOL_FORWARD(average_pool_forward_f32, average_pool_sum_f32, float)
AVERAGE_POOL_FORWARD(average_pool_forward_f64, average_pool_sum_f64, double)

/* The common case, 2-D float32, without the generic iterator. */
static void
average_pool_forward_2d_f32(const struct average_pool_params *p, const float *xd, float *yd)
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
                double  sum = 0.0;
                for (int64_t th = hlo; th < hhi; th++) {
                    const float *row = xp + (h0 + th * dh) * W + w0;
                    for (int64_t tw = wlo; tw < whi; tw++)
                        sum += row[tw * dw];
                }
                double div = p->count_include_pad
                                 ? (double)g->np[0][oh] * (double)g->np[1][ow]
                                 : (double)((hhi - hlo) * (whi - wlo));
                yd[(pl * OH + oh) * OW + ow] = div > 0.0 ? (float)(sum / div) : 0.0f;
            }
        }
    }
}

static lrpx_status
average_pool_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct average_pool_params *p  = LRPX_PARAMS(x, n, struct average_pool_params);
    const struct lrpx_tensor         *in = lrpx__in(x, n, 0);
    struct lrpx_tensor               *y  = lrpx__out(x, n, 0);

    if (in->dtype == LRPX_DTYPE_FLOAT64)
        average_pool_forward_f64(p, in->f64, y->f64);
    else if (p->g.n_spatial == 2)
        average_pool_forward_2d_f32(p, in->f32, y->f32);
    else
        average_pool_forward_f32(p, in->f32, y->f32);
    return LRPX_OK;
}

/* ---- gradient and relevance ---- */

/* relevance != 0: LRP proportional split, else the plain gradient. */
static lrpx_status
average_pool_route(struct lrpx_exec *x, const struct lrpx_node *n, bool relevance)
{
    const struct average_pool_params *p    = LRPX_PARAMS(x, n, struct average_pool_params);
    const struct lrpx_pool_geom      *g    = &p->g;
    const struct lrpx_tensor         *in   = lrpx__in(x, n, 0);
    float                            *gin  = lrpx__back_in(x, n, 0);
    const float                      *gout = lrpx__back_out(x, n, 0);

    if (!gin || !gout)
        return LRPX_OK;
    if (relevance && in->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "relevance through a %s AveragePool is not supported",
                                lrpx_dtype_name(in->dtype));
    double stab = relevance ? lrpx__rule(x, n)->stab : 0.0;

    for (int64_t pl = 0; pl < g->n_planes; pl++) {
        const float *xp = relevance ? in->f32 + pl * g->in_plane : NULL;
        float       *gp = gin + pl * g->in_plane;
        int64_t      opos[LRPX_POOL_MAX_SPATIAL] = {0};
        for (int64_t o = 0; o < g->out_plane; o++, lrpx__pool_opos_next(g, opos)) {
            double r = gout[pl * g->out_plane + o];
            struct lrpx_pool_iter it;
            if (r == 0.0 || !lrpx__pool_iter_begin(&it, g, opos))
                continue;
            if (!relevance) {
                double div = p->count_include_pad ? it.n_padded : 1.0;
                if (!p->count_include_pad) {
                    /* count the taps first */
                    struct lrpx_pool_iter c = it;
                    div = 1.0;
                    while (lrpx__pool_iter_next(&c))
                        div += 1.0;
                }
                float q = (float)(r / div);
                do {
                    gp[it.off] += q;
                } while (lrpx__pool_iter_next(&it));
            } else {
                double sum, div;
                average_pool_sum_f32(p, xp, opos, &sum, &div);
                /* R_i = (x_i / div) / stab(sum / div) * R_j */
                double q = r / (div * lrpx__stabilize(sum / div, stab));
                do {
                    gp[it.off] += (float)(xp[it.off] * q);
                } while (lrpx__pool_iter_next(&it));
            }
        }
    }
    return LRPX_OK;
}

static lrpx_status
average_pool_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return average_pool_route(x, n, false);
}

static lrpx_status
average_pool_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return average_pool_route(x, n, true);
}

const struct lrpx_op_def lrpx__op_average_pool = {
    .onnx_name     = "AveragePool",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = average_pool_prepare,
    .forward       = average_pool_forward,
    .backward      = average_pool_backward,
    .relevance     = average_pool_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
