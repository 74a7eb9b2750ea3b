/* Integrated gradients (Sundararajan et al. 2017) as Captum 0.8.0
 * computes it (../shared/specs/captum-methods.md, section 3):
 *
 *   d   = fl(x - b)
 *   z_k = fl(b + fl(alpha_k * d))                 k = 0 .. n-1
 *   s   = sum_k fl(grad F(z_k) * w_k)             float32, k in order
 *   IG  = fl(s * d)
 *
 * with the float32 alphas and weights of the quadrature rule below. The
 * points go through the aux session as rows k * batch + sample (Captum's
 * order), followed by one row per sample at the baseline for F(b); the
 * completeness gap sum(IG) - (F(x) - F(b)) is Captum's convergence delta.
 */
#include <math.h>
#include <string.h>

#include "methods/methods_impl.h"

#define IG_MAX_STEPS 10000

/* ---- quadrature points ---- */

/* Gauss-Legendre nodes xi (ascending) and weights on [-1, 1] in double:
 * Newton's method on P_n from the Chebyshev-like first guesses, then
 * symmetrised and the weights scaled to sum 2, as numpy's leggauss does
 * (Captum takes its points from there). */
static void
gauss_legendre(int n, double *xi, double *wt)
{
    for (int i = 0; i < n; i++) {
        double x  = cos(M_PI * (i + 0.75) / (n + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = x;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                p0        = p1;
                p1        = p2;
            }
            dp          = n * (x * p1 - p0) / (x * x - 1.0);
            double step = p1 / dp;
            x -= step;
            if (fabs(step) <= 1e-17)
                break;
        }
        /* recompute the derivative at the final node for the weight */
        double p0 = 1.0, p1 = x;
        for (int k = 2; k <= n; k++) {
            double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
            p0        = p1;
            p1        = p2;
        }
        dp            = n == 1 ? 1.0 : n * (x * p1 - p0) / (x * x - 1.0);
        xi[n - 1 - i] = x;      /* cos is decreasing in i: store ascending */
        wt[n - 1 - i] = 2.0 / ((1.0 - x * x) * dp * dp);
    }
    double sum = 0.0;
    for (int i = 0; i < n / 2; i++) {
        double a = (xi[i] - xi[n - 1 - i]) / 2, w = (wt[i] + wt[n - 1 - i]) / 2;
        xi[i] = a, xi[n - 1 - i] = -a;
        wt[i] = w, wt[n - 1 - i] = w;
    }
    if (n % 2)
        xi[n / 2] = 0.0;
    for (int i = 0; i < n; i++)
        sum += wt[i];
    for (int i = 0; i < n; i++)
        wt[i] *= 2.0 / sum;
}

/* torch.linspace(lo, hi, n) in float32 as PyTorch 1.13's AVX2 kernel
 * computes it: blocks of 8 from whichever end is nearer (one fused
 * multiply-add), the offset inside the block added separately; the tail
 * past the last multiple of 16 element by element. The bounds are rounded
 * to float32 first. */
static void
linspace_f32(double lo, double hi, int n, float *out)
{
    float a = (float)lo, b = (float)hi;
    float step = (b - a) / (float)(n - 1);
    int   half = n / 2, nvec = 16 * (n / 16);
    for (int i = 0; i < n; i++) {
        int   c    = i < nvec ? 8 * (i / 8) : i;
        float base = c < half ? fmaf(step, (float)c, a) : fmaf(-step, (float)(n - 1 - c), b);
        float off  = (float)(i - c) * step;
        out[i]     = base + off;
    }
}

lrpx_status
lrpx_quadrature_points(lrpx_quadrature q, int n, float *alphas, float *weights)
{
    if (!alphas || !weights || (unsigned)q >= LRPX_QUADRATURE_COUNT || n < 1 ||
        n > IG_MAX_STEPS || (q != LRPX_QUADRATURE_GAUSS_LEGENDRE && n < 2))
        return LRPX_EINVAL;
    if (q == LRPX_QUADRATURE_GAUSS_LEGENDRE) {
        double *xi = lrpx__malloc((size_t)n * 2 * sizeof(double));
        if (!xi)
            return LRPX_ENOMEM;
        gauss_legendre(n, xi, xi + n);
        for (int k = 0; k < n; k++) {
            alphas[k]  = (float)(0.5 * (1.0 + xi[k]));
            weights[k] = (float)(0.5 * xi[n + k]);
        }
        lrpx__free(xi);
        return LRPX_OK;
    }
    /* Captum's Riemann rules: the alphas from linspace over these bounds
     * (computed in double), the weights 1/n (halved at both ends for the
     * trapezoid, whose weights therefore sum to (n-1)/n) */
    double lo = 0.0, hi = 1.0;
    switch (q) {
    case LRPX_QUADRATURE_RIEMANN_LEFT:   hi = 1.0 - 1.0 / n; break;
    case LRPX_QUADRATURE_RIEMANN_RIGHT:  lo = 1.0 / n; break;
    case LRPX_QUADRATURE_RIEMANN_MIDDLE: lo = 1.0 / (2.0 * n), hi = 1.0 - 1.0 / (2.0 * n); break;
    default: break;
    }
    linspace_f32(lo, hi, n, alphas);
    for (int k = 0; k < n; k++)
        weights[k] = (float)(1.0 / n);
    if (q == LRPX_QUADRATURE_RIEMANN_TRAPEZOID)
        weights[0] = weights[n - 1] = (float)(1.0 / (2.0 * n));
    return LRPX_OK;
}

/* ---- the method ---- */

struct ig {
    struct lrpx_meth *m;
    int               steps;
    const float      *alpha, *wt;
    const float      *base, *d;     /* baseline and x - baseline, n * per   */
    float            *acc;          /* sum_k fl(g_k * w_k), n * per         */
};

static void
ig_fill(void *ctx, int64_t r, float *row, int64_t *sample)
{
    const struct ig *c = ctx;
    int64_t          n = c->m->n, per = c->m->per;
    if (r >= c->steps * n) {                /* the baseline rows, for F(b) */
        *sample = r - c->steps * n;
        memcpy(row, c->base + *sample * per, (size_t)per * sizeof(float));
        return;
    }
    int64_t      b  = r % n;
    float        a  = c->alpha[r / n];
    const float *bb = c->base + b * per, *d = c->d + b * per;
    for (int64_t i = 0; i < per; i++) {
        float t = a * d[i];
        row[i]  = bb[i] + t;
    }
    *sample = b;
}

static void
ig_take(void *ctx, int64_t r, const float *row, const float *g, double score)
{
    (void)row;
    struct ig *c = ctx;
    int64_t    n = c->m->n, per = c->m->per;
    if (r >= c->steps * n) {
        c->m->rep[r - c->steps * n].ref_score = score;
        return;
    }
    float  w   = c->wt[r / n];
    float *acc = c->acc + (r % n) * per;
    for (int64_t i = 0; i < per; i++) {
        float t = g[i] * w;
        acc[i] += t;
    }
}

lrpx_status
lrpx__meth_integrated_gradients(struct lrpx_meth *m)
{
    const struct lrpx_attr_options *o     = m->o;
    int64_t                         total = m->n * m->per;
    int64_t                        *idx   = NULL;
    lrpx_status                     rc    = LRPX_OK;
    if (o->baseline_data.data) {
        if (o->baseline_data.dtype != LRPX_DTYPE_FLOAT32)
            return lrpx__error(&m->s->err, LRPX_EINVAL, "the baseline must be float32, not %s",
                               lrpx_dtype_name(o->baseline_data.dtype));
        if ((rc = lrpx__meth_broadcast(m, &o->baseline_data, "baseline", &idx)) != LRPX_OK)
            return rc;
    }
    float *buf = lrpx__malloc((size_t)(3 * total + 2 * o->steps) * sizeof(float));
    if (!buf) {
        lrpx__free(idx);
        return lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for integrated gradients");
    }
    struct ig c = {.m = m, .steps = o->steps};
    float *base = buf, *d = buf + total, *alpha = buf + 3 * total, *wt = alpha + o->steps;
    c.acc       = buf + 2 * total;
    c.base      = base;
    c.d         = d;
    c.alpha     = alpha;
    c.wt        = wt;
    const float *bd = o->baseline_data.data;
    for (int64_t i = 0; i < total; i++) {
        base[i] = idx ? bd[idx[i]] : (float)o->baseline;
        d[i]    = m->x[i] - base[i];
        c.acc[i] = 0.0f;
    }
    rc = lrpx_quadrature_points(o->quadrature, o->steps, alpha, wt);
    if (rc == LRPX_OK) {
        struct lrpx_rows job = {.n_rows = (int64_t)o->steps * m->n + m->n, .grad = true,
                                .fill = ig_fill, .take = ig_take, .ctx = &c};
        rc = lrpx__meth_rows(m, &job);
    } else {
        rc = lrpx__error(&m->s->err, rc, "integrated gradients: no %s rule with %d steps",
                         lrpx_quadrature_name(o->quadrature), o->steps);
    }
    if (rc == LRPX_OK) {
        for (int64_t i = 0; i < total; i++)
            m->out[i] = c.acc[i] * d[i];
        for (int64_t b = 0; b < m->n; b++)
            m->rep[b].n_evals = o->steps + 2;
    }
    lrpx__free(buf);
    lrpx__free(idx);
    return rc;
}
