/* SmoothGrad (Smilkov et al. 2017) and its variants, as Captum 0.8.0's
 * NoiseTunnel computes them (../shared/specs/captum-methods.md, section
 * 8): for each sample, n noisy copies x_k = fl(x + e_k), the map a_k of
 * each (gradient, saliency |g| or gradxinput x_k * g at the noisy copy),
 * then in float32
 *
 *   smoothgrad      fl(sum_k a_k / n)
 *   smoothgrad-sq   fl(sum_k fl(a_k^2) / n)
 *   vargrad         fl(sum_k fl(a_k^2) / n - (sum_k a_k / n)^2)
 *
 * The noise is given (noise: [n, sample shape] shared by the samples, or
 * [batch * n, sample shape], row b * n + k as Captum lays it out) or drawn
 * here: N(0, sigma_b^2) with sigma_b = sigma * (max(x_b) - min(x_b)), by
 * Box-Muller from a splitmix64 stream seeded by (seed, k) for copy k: the
 * draw depends neither on the internal batch size nor on the other samples
 * of the batch (a sample gives the same map alone). It is not PyTorch's
 * generator, so comparing with another tool needs the noise given.
 */
#include <math.h>
#include <string.h>

#include "methods/methods_impl.h"

static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* n standard normal numbers (Box-Muller on 53-bit uniforms). */
static void
normals(uint64_t *state, double *out, int64_t n)
{
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = ((double)(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;   /* (0, 1] */
        double u2 = (double)(splitmix64(state) >> 11) * 0x1.0p-53;           /* [0, 1) */
        double r  = sqrt(-2.0 * log(u1));
        out[i]    = r * cos(2.0 * M_PI * u2);
        if (i + 1 < n)
            out[i + 1] = r * sin(2.0 * M_PI * u2);
    }
}

struct noise {
    struct lrpx_meth *m;
    int64_t           n_smp;        /* noisy copies per sample              */
    const float      *given;        /* noise rows, or NULL                  */
    int64_t           given_rows;
    const double     *sigma;        /* per sample                           */
    double           *draw;         /* per floats                           */
    float            *acc, *acc2;   /* sums of a_k and of a_k^2, n * per    */
};

static void
noise_fill(void *ctx, int64_t r, float *row, int64_t *sample)
{
    struct noise     *c   = ctx;
    const int64_t     per = c->m->per, b = r / c->n_smp;
    const float      *x   = c->m->x + b * per;
    *sample = b;
    if (c->given) {
        const float *e = c->given + (c->given_rows == c->n_smp ? r % c->n_smp : r) * per;
        for (int64_t i = 0; i < per; i++)
            row[i] = x[i] + e[i];
    } else {
        uint64_t k  = (uint64_t)(r % c->n_smp);
        uint64_t st = c->m->o->seed ^ (0xd1b54a32d192ed03ull * (k + 1));
        normals(&st, c->draw, per);
        for (int64_t i = 0; i < per; i++)
            row[i] = x[i] + (float)(c->sigma[b] * c->draw[i]);
    }
}

static void
noise_take(void *ctx, int64_t r, const float *xn, const float *g, double score)
{
    struct noise *c   = ctx;
    const int64_t per = c->m->per, b = r / c->n_smp;
    float        *a1 = c->acc + b * per, *a2 = c->acc2 + b * per;
    (void)score;
    for (int64_t i = 0; i < per; i++) {
        float a = c->m->o->of == LRPX_ATTR_SALIENCY ? fabsf(g[i])
                : c->m->o->of == LRPX_ATTR_GRADIENT_X_INPUT ? xn[i] * g[i] : g[i];
        float sq = a * a;
        a1[i] += a;
        a2[i] += sq;
    }
}

/* The given noise must be [n, sample shape] or [batch * n, sample shape]. */
static lrpx_status
check_noise(struct lrpx_meth *m, const lrpx_tensor_view *e)
{
    char d1[128], d2[128];
    bool ok = e->dtype == LRPX_DTYPE_FLOAT32 && e->rank == m->rank &&
              (e->dims[0] == m->o->samples || e->dims[0] == m->n * m->o->samples) &&
              e->n_elems == e->dims[0] * m->per;
    for (int k = 1; ok && k < m->rank; k++)
        ok = e->dims[k] == m->dims[k];
    if (ok)
        return LRPX_OK;
    int64_t want[LRPX_MAX_RANK];
    memcpy(want, m->dims, sizeof want);
    want[0] = m->o->samples;
    return lrpx__error(&m->s->err, LRPX_EINVAL, "%s: the noise is %s %s; it must be float32 "
                       "%s (one row per noisy copy) or with %lld rows (batch x samples)",
                       lrpx_attr_method_name(m->o->method), lrpx_dtype_name(e->dtype),
                       lrpx__dims_str(e->dims, e->rank, d1, sizeof d1),
                       lrpx__dims_str(want, m->rank, d2, sizeof d2),
                       (long long)(m->n * m->o->samples));
}

lrpx_status
lrpx__meth_noise(struct lrpx_meth *m)
{
    const struct lrpx_attr_options *o     = m->o;
    const int64_t                   total = m->n * m->per;
    lrpx_status                     rc;
    if (o->noise.data && (rc = check_noise(m, &o->noise)) != LRPX_OK)
        return rc;
    struct noise c = {.m = m, .n_smp = o->samples, .given = o->noise.data,
                      .given_rows = o->noise.dims[0]};
    double *sig  = lrpx__malloc((size_t)(m->n + m->per) * sizeof(double));
    float  *fbuf = lrpx__calloc((size_t)(2 * total), sizeof(float));
    if (!sig || !fbuf) {
        rc = lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for %s",
                         lrpx_attr_method_name(o->method));
        goto done;
    }
    c.sigma = sig;
    c.draw  = sig + m->n;
    c.acc   = fbuf;
    c.acc2  = fbuf + total;
    for (int64_t b = 0; b < m->n; b++) {
        const float *x  = m->x + b * m->per;
        float        lo = x[0], hi = x[0];
        for (int64_t i = 1; i < m->per; i++) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        sig[b] = o->sigma * ((double)hi - lo);
    }
    struct lrpx_rows job = {.n_rows = m->n * o->samples, .grad = true, .fill = noise_fill,
                            .take = noise_take, .ctx = &c};
    if ((rc = lrpx__meth_rows(m, &job)) != LRPX_OK)
        goto done;
    const float n = (float)o->samples;
    for (int64_t i = 0; i < total; i++) {
        float mean = c.acc[i] / n, msq = c.acc2[i] / n;
        m->out[i]  = o->method == LRPX_ATTR_SMOOTHGRAD    ? mean
                   : o->method == LRPX_ATTR_SMOOTHGRAD_SQ ? msq
                                                          : msq - mean * mean;
    }
    for (int64_t b = 0; b < m->n; b++)
        m->rep[b].n_evals = o->samples + 1;
done:
    lrpx__free(sig);
    lrpx__free(fbuf);
    return rc;
}
