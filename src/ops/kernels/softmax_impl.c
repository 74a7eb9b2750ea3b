/* Row-wise softmax and log-softmax kernels and their common prepare; see
 * softmax_impl.h for the axis rules. */
#include <math.h>

#include "ops/kernels/softmax_impl.h"

lrpx_status
lrpx__softmax_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
        return rc;
    int     r    = in->rank;
    bool    v13  = x->opset >= 13;
    int64_t axis = lrpx__attr_int(n, "axis", v13 ? -1 : 1);
    /* a scalar input: any axis in [-1, 0] names the single element */
    int     rr   = r == 0 ? 1 : r;
    if (axis < -rr || axis >= rr)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute axis = %lld is out of range for an input of rank %d",
                                (long long)axis, r);
    if (axis < 0)
        axis += rr;

    struct lrpx_softmax_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->outer = p->len = p->inner = 1;
    for (int d = 0; d < r; d++) {
        if (d < axis)
            p->outer *= in->dims[d];
        else if (d == axis || !v13)
            p->len *= in->dims[d];
        else
            p->inner *= in->dims[d];
    }
    size_t bytes;
    if (!lrpx__mul_size((size_t)p->len, sizeof(double), &bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "softmax axis too long");
    lrpx__scratch_request(x, bytes);
    return lrpx__set_output_like(x, n, 0, in);
}

/* max and log(sum exp(x - max)) of one row */
static void
softmax_row_stats(const float *xr, int64_t len, int64_t st, double *mx, double *lse)
{
    double m = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < len; j++)
        if (xr[j * st] > m)
            m = xr[j * st];
    if (isinf(m)) /* all -inf (or +inf present): let IEEE arithmetic decide */
        m = m > 0 ? m : 0.0;
    for (int64_t j = 0; j < len; j++)
        s += exp(xr[j * st] - m);
    *mx  = m;
    *lse = log(s);
}

void
lrpx__softmax_forward(const struct lrpx_softmax_params *p, const float *x, float *y, bool use_log)
{
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t i = 0; i < p->inner; i++) {
            int64_t      base = o * p->len * p->inner + i;
            const float *xr   = x + base;
            float       *yr   = y + base;
            double       mx, lse;
            softmax_row_stats(xr, p->len, p->inner, &mx, &lse);
            for (int64_t j = 0; j < p->len; j++) {
                double z = xr[j * p->inner] - mx - lse;
                yr[j * p->inner] = (float)(use_log ? z : exp(z));
            }
        }
}

void
lrpx__softmax_backward(const struct lrpx_softmax_params *p, const float *x, const float *gy,
                       float *gx, bool use_log, double *s)
{
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t i = 0; i < p->inner; i++) {
            int64_t base = o * p->len * p->inner + i, st = p->inner;
            double  mx, lse, dot = 0.0;
            softmax_row_stats(x + base, p->len, st, &mx, &lse);
            for (int64_t j = 0; j < p->len; j++) {
                s[j] = exp(x[base + j * st] - mx - lse);       /* softmax y_j */
                dot += use_log ? gy[base + j * st] : gy[base + j * st] * s[j];
            }
            /* softmax: y (g - <g, y>); log-softmax: g - y sum(g) */
            for (int64_t j = 0; j < p->len; j++) {
                double g = gy[base + j * st];
                gx[base + j * st] += (float)(use_log ? g - s[j] * dot : s[j] * (g - dot));
            }
        }
}
