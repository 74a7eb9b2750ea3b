/* GlobalAveragePool — the mean over all spatial positions of each channel:
 * N x C x D1 x ... x Dk  ->  N x C x 1 x ... x 1.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html  (opset 1)
 *       dtypes float32, float64; input rank >= 2 (rank 2 is an identity).
 * Gradient: g_i += g_j / P, P = D1 * ... * Dk.
 * LRP:  proportional split, z_ij = x_i / P, z_j = y_j:
 *       R_i += x_i / (P stab(y_j)) R_j, stabilizer lrpx__rule(x, n)->stab
 *       (as AveragePool, see average_pool.c).
 */
#include "core/rules.h"
#include "ops/kernels/pool_impl.h"
#include "util/parallel.h"

static lrpx_status
global_average_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__global_pool_prepare(x, n, "GlobalAveragePool");
}

static inline double
global_average_pool_sum(const struct lrpx_tensor *in, int64_t start, int64_t count)
{
    double s = 0.0;
    if (in->dtype == LRPX_DTYPE_FLOAT64)
        for (int64_t i = 0; i < count; i++)
            s += in->f64[start + i];
    else
        for (int64_t i = 0; i < count; i++)
            s += in->f32[start + i];
    return s;
}

/* float32 planes [pl0, pl1): the sum in double over 8 interleaved partial
 * sums (vectorisable; the same order whatever the thread count) */
struct global_average_pool_ctx {
    const struct lrpx_global_pool *p;
    const float                   *x;
    float                         *y;
};

LRPX_TARGET_CLONES
static void
global_average_pool_range(void *ctx_, int64_t pl0, int64_t pl1)
{
    const struct global_average_pool_ctx *c = ctx_;
    const int64_t                         P = c->p->plane, P8 = P - P % 8;
    for (int64_t pl = pl0; pl < pl1; pl++) {
        const float *xp = c->x + pl * P;
        double       acc[8] = {0};
        for (int64_t i = 0; i < P8; i += 8)
            for (int l = 0; l < 8; l++)
                acc[l] += xp[i + l];
        double s = 0.0;
        for (int l = 0; l < 8; l++)
            s += acc[l];
        for (int64_t i = P8; i < P; i++)
            s += xp[i];
        c->y[pl] = P > 0 ? (float)(s / (double)P) : 0.0f;
    }
}

static lrpx_status
global_average_pool_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_global_pool *p = LRPX_PARAMS(x, n, struct lrpx_global_pool);
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y  = lrpx__out(x, n, 0);

    if (in->dtype == LRPX_DTYPE_FLOAT32) {
        struct global_average_pool_ctx c = {p, in->f32, y->f32};
        lrpx__parallel_for(x->pool, p->n_planes, 1 + (1 << 14) / (p->plane + 1),
                           global_average_pool_range, &c);
        return LRPX_OK;
    }
    for (int64_t pl = 0; pl < p->n_planes; pl++) {
        /* an empty plane (a zero-sized spatial dim) averages to 0 */
        double m = p->plane > 0
                       ? global_average_pool_sum(in, pl * p->plane, p->plane) / (double)p->plane
                       : 0.0;
        if (y->dtype == LRPX_DTYPE_FLOAT64)
            y->f64[pl] = m;
        else
            y->f32[pl] = (float)m;
    }
    return LRPX_OK;
}

static lrpx_status
global_average_pool_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_global_pool *p = LRPX_PARAMS(x, n, struct lrpx_global_pool);
    float       *gin  = lrpx__back_in(x, n, 0);
    const float *gout = lrpx__back_out(x, n, 0);

    if (!gin || !gout || p->plane == 0)
        return LRPX_OK;
    for (int64_t pl = 0; pl < p->n_planes; pl++) {
        float q = (float)((double)gout[pl] / (double)p->plane);
        for (int64_t i = 0; i < p->plane; i++)
            gin[pl * p->plane + i] += q;
    }
    return LRPX_OK;
}

static lrpx_status
global_average_pool_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_global_pool *p = LRPX_PARAMS(x, n, struct lrpx_global_pool);
    const struct lrpx_tensor *in   = lrpx__in(x, n, 0);
    float                    *rin  = lrpx__back_in(x, n, 0);
    const float              *rout = lrpx__back_out(x, n, 0);
    double                    stab = lrpx__rule(x, n)->stab;

    if (!rin || !rout || p->plane == 0)
        return LRPX_OK;
    if (in->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "relevance through a %s GlobalAveragePool is not supported",
                                lrpx_dtype_name(in->dtype));
    for (int64_t pl = 0; pl < p->n_planes; pl++) {
        const float *xp  = in->f32 + pl * p->plane;
        double       P   = (double)p->plane;
        double       sum = global_average_pool_sum(in, pl * p->plane, p->plane);
        /* R_i = (x_i / P) / stab(sum / P) * R_j */
        double q = (double)rout[pl] / (P * lrpx__stabilize(sum / P, stab));
        for (int64_t i = 0; i < p->plane; i++)
            rin[pl * p->plane + i] += (float)(xp[i] * q);
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_global_average_pool = {
    .onnx_name     = "GlobalAveragePool",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = global_average_pool_prepare,
    .forward       = global_average_pool_forward,
    .backward      = global_average_pool_backward,
    .relevance     = global_average_pool_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
