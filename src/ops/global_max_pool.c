/* GlobalMaxPool — the maximum over all spatial positions of each channel:
 * N x C x D1 x ... x Dk  ->  N x C x 1 x ... x 1.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__GlobalMaxPool.html  (opset 1)
 *       dtypes float32, float64; input rank >= 2 (rank 2 is an identity).
 * Gradient: all of g_j to the first maximum of the channel (row-major).
 * LRP:  as MaxPool with one window per channel, by lrpx__rule(x, n)->maxpool:
 *       WINNER (first maximum), WINNER_SPLIT (ties share evenly) or SUM
 *       (R_i += x_i / stab(sum x) R_j); see max_pool.c.
 */
#include <math.h>

#include "core/rules.h"
#include "ops/kernels/pool_impl.h"

static lrpx_status
global_max_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__global_pool_prepare(x, n, "GlobalMaxPool");
}

static inline double
global_max_pool_val(const struct lrpx_tensor *t, int64_t i)
{
    return t->dtype == LRPX_DTYPE_FLOAT64 ? t->f64[i] : (double)t->f32[i];
}

static lrpx_status
global_max_pool_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_global_pool *p  = LRPX_PARAMS(x, n, struct lrpx_global_pool);
    const struct lrpx_tensor      *in = lrpx__in(x, n, 0);
    struct lrpx_tensor            *y  = lrpx__out(x, n, 0);

    for (int64_t pl = 0; pl < p->n_planes; pl++) {
        double best = -INFINITY;
        for (int64_t i = 0; i < p->plane; i++) {
            double v = global_max_pool_val(in, pl * p->plane + i);
            if (i == 0 || v > best)
                best = v;
        }
        if (y->dtype == LRPX_DTYPE_FLOAT64)
            y->f64[pl] = best;
        else
            y->f32[pl] = (float)best;
    }
    return LRPX_OK;
}

static void
global_max_pool_route(const struct lrpx_global_pool *p, const struct lrpx_tensor *in,
                      const float *gout, float *gin, lrpx_maxpool_mode mode, double stab)
{
    for (int64_t pl = 0; pl < p->n_planes; pl++) {
        int64_t base = pl * p->plane;
        double  r    = gout[pl];
        if (r == 0.0 || p->plane == 0)
            continue;
        struct lrpx_maxlike m;
        lrpx__maxlike_init(&m, true);
        for (int64_t i = 0; i < p->plane; i++)
            lrpx__maxlike_add(&m, global_max_pool_val(in, base + i), i);
        if (lrpx__maxlike_single(&m, mode)) {
            gin[base + m.arg] += (float)r;
            continue;
        }
        for (int64_t i = 0; i < p->plane; i++)
            gin[base + i] += (float)lrpx__maxlike_share(&m, mode, stab, r,
                                                        global_max_pool_val(in, base + i), i);
    }
}

static lrpx_status
global_max_pool_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    float       *gin  = lrpx__back_in(x, n, 0);
    const float *gout = lrpx__back_out(x, n, 0);

    if (gin && gout)
        global_max_pool_route(LRPX_PARAMS(x, n, struct lrpx_global_pool),
                              lrpx__in(x, n, 0), gout, gin, LRPX_MAXPOOL_WINNER, 0.0);
    return LRPX_OK;
}

static lrpx_status
global_max_pool_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    float                      *rin  = lrpx__back_in(x, n, 0);
    const float                *rout = lrpx__back_out(x, n, 0);
    const struct lrpx_rule_cfg *rule = lrpx__rule(x, n);

    if (rin && rout)
        global_max_pool_route(LRPX_PARAMS(x, n, struct lrpx_global_pool),
                              lrpx__in(x, n, 0), rout, rin, rule->maxpool, rule->stab);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_global_max_pool = {
    .onnx_name     = "GlobalMaxPool",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = global_max_pool_prepare,
    .forward       = global_max_pool_forward,
    .backward      = global_max_pool_backward,
    .relevance     = global_max_pool_relevance,
    .lrp_class     = LRPX_LRP_CLASS_MAXLIKE,
};
