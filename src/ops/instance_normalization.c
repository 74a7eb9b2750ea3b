/* InstanceNormalization — per sample and channel, normalise over the
 * spatial positions: y = scale_c (x - mu_nc) / sqrt(var_nc + eps) + B_c,
 * mu and var (biased) over D1 x ... x Dk.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__InstanceNormalization.html
 *       (opsets 1, 6; the consumed_inputs attribute of opset 1 is ignored),
 *       float32, input rank >= 2.
 * Gradient: the full Jacobian of the normalisation (statistics depend on x):
 *       with xh = (x - mu) r, r = 1/sqrt(var + eps), gh = scale g_y, M positions,
 *       g_x = r (gh - mean(gh) - xh mean(gh xh)); g_scale = sum g_y xh,
 *       g_B = sum g_y when those inputs carry gradient buffers.
 * LRP:  pass-through: R_x = R_y element by element (the normalisation is
 *       treated as an identity for relevance, as Zennit effectively does for
 *       normalisation layers it does not canonize; the rule at the next
 *       linear layer decides the distribution). Conservative by construction.
 */
#include <math.h>

#include "core/op.h"

struct instance_normalization_params {
    float   epsilon;
    int64_t n_batch;   /* N                        */
    int64_t channels;  /* C                        */
    int64_t plane;     /* D1 * ... * Dk            */
};

static lrpx_status
instance_normalization_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    for (int i = 0; i < 3; i++) {
        if (!lrpx__in(x, n, i))
            return lrpx__node_error(x, n, LRPX_EPARSE, "input %d is missing", i);
        if ((rc = lrpx__check_dtype(x, n, i, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
            return rc;
    }
    if (in->rank < 2)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "input has rank %d, expected N x C x D1 x ... (rank >= 2)",
                                in->rank);
    struct instance_normalization_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->epsilon = lrpx__attr_float(n, "epsilon", 1e-5f);
    if (!(p->epsilon >= 0.0f))
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute epsilon = %g is negative",
                                (double)p->epsilon);
    p->n_batch  = in->dims[0];
    p->channels = in->dims[1];
    p->plane    = 1;
    for (int d = 2; d < in->rank; d++)
        p->plane *= in->dims[d];
    for (int i = 1; i < 3; i++)
        if (lrpx__in(x, n, i)->n_elems != p->channels)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "input %s has %lld elements, expected one per channel (%lld)",
                                    i == 1 ? "scale" : "B",
                                    (long long)lrpx__in(x, n, i)->n_elems,
                                    (long long)p->channels);
    return lrpx__set_output_like(x, n, 0, in);
}

/* Mean and 1/sqrt(var + eps) of one (n, c) plane (two-pass, double). */
static void
instance_normalization_stats(const float *xp, int64_t m, double eps, double *mu, double *r)
{
    double s = 0.0, v = 0.0;
    for (int64_t i = 0; i < m; i++)
        s += xp[i];
    *mu = m > 0 ? s / (double)m : 0.0;
    for (int64_t i = 0; i < m; i++) {
        double c = xp[i] - *mu;
        v += c * c;
    }
    v  = m > 0 ? v / (double)m : 0.0;
    *r = 1.0 / sqrt(v + eps);
}

static lrpx_status
instance_normalization_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct instance_normalization_params *p =
        LRPX_PARAMS(x, n, struct instance_normalization_params);
    const float *xd    = lrpx__in(x, n, 0)->f32;
    const float *scale = lrpx__in(x, n, 1)->f32;
    const float *bias  = lrpx__in(x, n, 2)->f32;
    float       *yd    = lrpx__out(x, n, 0)->f32;

    for (int64_t b = 0; b < p->n_batch; b++)
        for (int64_t c = 0; c < p->channels; c++) {
            int64_t off = (b * p->channels + c) * p->plane;
            double  mu, r;
            instance_normalization_stats(xd + off, p->plane, p->epsilon, &mu, &r);
            double a = scale[c] * r;
            for (int64_t i = 0; i < p->plane; i++)
                yd[off + i] = (float)(a * (xd[off + i] - mu) + bias[c]);
        }
    return LRPX_OK;
}

static lrpx_status
instance_normalization_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct instance_normalization_params *p =
        LRPX_PARAMS(x, n, struct instance_normalization_params);
    const float *xd    = lrpx__in(x, n, 0)->f32;
    const float *scale = lrpx__in(x, n, 1)->f32;
    const float *gy    = lrpx__back_out(x, n, 0);
    float       *gx    = lrpx__back_in(x, n, 0);
    float       *gs    = lrpx__back_in(x, n, 1);
    float       *gb    = lrpx__back_in(x, n, 2);

    if (!gy || p->plane == 0)
        return LRPX_OK;
    for (int64_t b = 0; b < p->n_batch; b++)
        for (int64_t c = 0; c < p->channels; c++) {
            int64_t off = (b * p->channels + c) * p->plane;
            double  mu, r, sg = 0.0, sgxh = 0.0;
            instance_normalization_stats(xd + off, p->plane, p->epsilon, &mu, &r);
            for (int64_t i = 0; i < p->plane; i++) {
                double xh = (xd[off + i] - mu) * r;
                sg   += gy[off + i];
                sgxh += gy[off + i] * xh;
            }
            if (gs)
                gs[c] += (float)sgxh;
            if (gb)
                gb[c] += (float)sg;
            if (!gx)
                continue;
            double m = (double)p->plane, k = scale[c] * r;
            for (int64_t i = 0; i < p->plane; i++) {
                double xh = (xd[off + i] - mu) * r;
                gx[off + i] += (float)(k * (gy[off + i] - sg / m - xh * sgxh / m));
            }
        }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_instance_normalization = {
    .onnx_name     = "InstanceNormalization",
    .since_version = 1,
    .n_inputs_min  = 3,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = instance_normalization_prepare,
    .forward       = instance_normalization_forward,
    .backward      = instance_normalization_backward,
    .relevance     = lrpx__back_identity,
};
