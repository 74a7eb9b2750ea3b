/* LRN — local response normalisation across channels:
 *   y_c = x_c / (bias + alpha / size * S_c)^beta,
 *   S_c = sum of x_{c'}^2 over c' in [c - floor((size-1)/2), c + ceil((size-1)/2)]
 *         (clipped to the existing channels).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__LRN.html  (opsets 1, 13), float32,
 *       input N x C x D1 x ... (rank >= 2); size is required and >= 1.
 * Gradient: with D_c = bias + alpha/size S_c,
 *       g_x_k = g_k D_k^-beta - 2 alpha beta / size x_k
 *               sum over c whose window holds k of g_c x_c D_c^(-beta-1).
 * LRP:  pass-through: R_x = R_y element by element (the normalisation is
 *       treated as an identity for relevance, as for InstanceNormalization;
 *       see instance_normalization.c).
 */
#include <math.h>

#include "core/op.h"

struct lrn_params {
    double  alpha, beta, bias;
    int64_t size;
    int64_t lo, hi;    /* window reaches lo channels before, hi after   */
    int64_t n_batch, channels, plane;
};

static lrpx_status
lrn_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
        return rc;
    if (in->rank < 2)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "input has rank %d, expected N x C x ... (rank >= 2)", in->rank);
    const struct lrpx_attr *size = lrpx__attr_find(n, "size");
    if (!size || size->type != LRPX_ATTR_INT)
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute size (int) is required");
    if (size->i < 1 || size->i > ((int64_t)1 << 31))
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute size = %lld, expected >= 1",
                                (long long)size->i);

    struct lrn_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->alpha    = lrpx__attr_float(n, "alpha", 1e-4f);
    p->beta     = lrpx__attr_float(n, "beta", 0.75f);
    p->bias     = lrpx__attr_float(n, "bias", 1.0f);
    p->size     = size->i;
    p->lo       = (p->size - 1) / 2;
    p->hi       = p->size - 1 - p->lo;
    p->n_batch  = in->dims[0];
    p->channels = in->dims[1];
    p->plane    = 1;
    for (int d = 2; d < in->rank; d++)
        p->plane *= in->dims[d];

    /* backward: D_c and g_c x_c D_c^(-beta-1) for one column of channels */
    size_t bytes;
    if (!lrpx__mul_size((size_t)p->channels, 2 * sizeof(double), &bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "too many channels");
    lrpx__scratch_request(x, bytes);
    return lrpx__set_output_like(x, n, 0, in);
}

/* D_c for channel c of the column starting at xp (channel stride `st`). */
static inline double
lrn_denominator(const struct lrn_params *p, const float *xp, int64_t st, int64_t c)
{
    int64_t a = c - p->lo < 0 ? 0 : c - p->lo;
    int64_t b = c + p->hi >= p->channels ? p->channels - 1 : c + p->hi;
    double  s = 0.0;
    for (int64_t k = a; k <= b; k++) {
        double v = xp[k * st];
        s += v * v;
    }
    return p->bias + p->alpha / (double)p->size * s;
}

static lrpx_status
lrn_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrn_params *p  = LRPX_PARAMS(x, n, struct lrn_params);
    const float             *xd = lrpx__in(x, n, 0)->f32;
    float                   *yd = lrpx__out(x, n, 0)->f32;

    for (int64_t b = 0; b < p->n_batch; b++)
        for (int64_t s = 0; s < p->plane; s++) {
            int64_t base = b * p->channels * p->plane + s;
            for (int64_t c = 0; c < p->channels; c++) {
                double d = lrn_denominator(p, xd + base, p->plane, c);
                yd[base + c * p->plane] = (float)(xd[base + c * p->plane] * pow(d, -p->beta));
            }
        }
    return LRPX_OK;
}

static lrpx_status
lrn_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrn_params *p  = LRPX_PARAMS(x, n, struct lrn_params);
    const float             *xd = lrpx__in(x, n, 0)->f32;
    const float             *gy = lrpx__back_out(x, n, 0);
    float                   *gx = lrpx__back_in(x, n, 0);
    double                  *dn = x->scratch;
    double                  *t  = dn + p->channels;
    int64_t                  st = p->plane;

    if (!gy || !gx)
        return LRPX_OK;
    double k = 2.0 * p->alpha * p->beta / (double)p->size;
    for (int64_t b = 0; b < p->n_batch; b++)
        for (int64_t s = 0; s < p->plane; s++) {
            int64_t base = b * p->channels * st + s;
            for (int64_t c = 0; c < p->channels; c++) {
                dn[c] = lrn_denominator(p, xd + base, st, c);
                t[c]  = gy[base + c * st] * xd[base + c * st] * pow(dn[c], -p->beta - 1.0);
            }
            for (int64_t c = 0; c < p->channels; c++) {
                /* channels whose window holds c: [c - hi, c + lo] */
                int64_t a = c - p->hi < 0 ? 0 : c - p->hi;
                int64_t e = c + p->lo >= p->channels ? p->channels - 1 : c + p->lo;
                double  sum = 0.0;
                for (int64_t j = a; j <= e; j++)
                    sum += t[j];
                double xc = xd[base + c * st];
                gx[base + c * st] +=
                    (float)(gy[base + c * st] * pow(dn[c], -p->beta) - k * xc * sum);
            }
        }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_lrn = {
    .onnx_name     = "LRN",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = lrn_prepare,
    .forward       = lrn_forward,
    .backward      = lrn_backward,
    .relevance     = lrpx__back_identity,
};
