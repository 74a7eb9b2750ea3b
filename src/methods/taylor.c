/* Simple Taylor decomposition (Montavon, Samek, Müller 2017, section 4.2):
 *
 *   R_i = (dF/dx_i at x~) * (x_i - x~_i)
 *
 * around a root point x~ with F(x~) ~ 0 near x. The root is searched for
 * each sample along the gradient, inside the input domain [low, high]
 * (the LRP options' box bounds, scalar or per channel on axis 1, when
 * set; unbounded otherwise):
 *
 *   z = x; repeat at most root_iters times:
 *     stop when |F(z)| <= tol = 1e-4 |F(x)| (or the gradient vanishes);
 *     Newton step on the line: z' = clip(z - F(z) g / |g|^2), g = dF/dz;
 *     if F(z') has the other sign: the root lies on [z, z']; bisect the
 *       segment (40 halvings at most) down to |F| <= tol, and stop;
 *     else if |F(z')| < |F(z)|: accept z';
 *     else halve the step (up to 30 times) until |F| decreases, or stop.
 *
 * For a piecewise-linear network each Newton step lands on the root of
 * the local linear piece, so few steps are needed. The report gives F(x~)
 * (ref_score), the residual sum(R) - F(x) (gap; the first-order terms
 * give -F(x~), the rest is curvature between x~ and x) and |x - x~|.
 */
#include <math.h>
#include <string.h>

#include "methods/methods_impl.h"

struct point {
    float *z, *g;       /* input and gradient there (per floats)          */
    double f;
};

struct tay {
    struct lrpx_meth *m;
    int64_t           b;
    struct point     *p;       /* the point being evaluated                */
    int64_t           evals;
};

static void
tay_fill(void *ctx, int64_t r, float *row, int64_t *sample)
{
    const struct tay *c = ctx;
    (void)r;
    memcpy(row, c->p->z, (size_t)c->m->per * sizeof(float));
    *sample = c->b;
}

static void
tay_take(void *ctx, int64_t r, const float *row, const float *g, double score)
{
    struct tay *c = ctx;
    (void)r, (void)row;
    memcpy(c->p->g, g, (size_t)c->m->per * sizeof(float));
    c->p->f = score;
    c->evals++;
}

static lrpx_status
evaluate(struct tay *c, struct point *p)
{
    c->p                 = p;
    struct lrpx_rows job = {.n_rows = 1, .grad = true, .fill = tay_fill, .take = tay_take,
                            .ctx = c};
    return lrpx__meth_rows(c->m, &job);
}

/* The domain of element i of a sample (channel = axis 1). */
static void
bounds(const struct lrpx_meth *m, int64_t i, float *lo, float *hi)
{
    const struct lrpx_lrp_options *o  = &m->o->lrp;
    const float                   *lc = o->box_low_c ? o->box_low_c : o->box_low_own;
    const float                   *hc = o->box_high_c ? o->box_high_c : o->box_high_own;
    *lo = -INFINITY;
    *hi = INFINITY;
    if (o->n_box_c > 0 && m->rank >= 2) {
        int64_t inner = m->per / m->dims[1], ch = (i / inner) % m->dims[1];
        if (ch < o->n_box_c) {
            *lo = lc[ch];
            *hi = hc[ch];
        }
    } else if (!isnan(o->box_low) && !isnan(o->box_high)) {
        *lo = (float)o->box_low;
        *hi = (float)o->box_high;
    }
}

/* dst = clip(z - t g) */
static void
step_to(const struct lrpx_meth *m, const struct point *from, double t, float *dst)
{
    for (int64_t i = 0; i < m->per; i++) {
        float lo, hi, v = (float)(from->z[i] - t * from->g[i]);
        bounds(m, i, &lo, &hi);
        dst[i] = v < lo ? lo : v > hi ? hi : v;
    }
}

static double
norm2(const float *g, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return s;
}

static void
swap_points(struct point *a, struct point *b)
{
    struct point t = *a;
    *a             = *b;
    *b             = t;
}

/* Bisect the segment [a, b] (F of opposite signs) into a (the result). */
static lrpx_status
bisect(struct tay *c, struct point *a, struct point *b, struct point *mid, double tol)
{
    const struct lrpx_meth *m  = c->m;
    float                  *za = lrpx__malloc((size_t)m->per * 2 * sizeof(float));
    if (!za)
        return lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for the root search");
    float *zb = za + m->per;
    memcpy(za, a->z, (size_t)m->per * sizeof(float));
    memcpy(zb, b->z, (size_t)m->per * sizeof(float));
    double      fa = a->f, lo = 0.0, hi = 1.0;
    lrpx_status rc = LRPX_OK;
    for (int it = 0; it < 40 && rc == LRPX_OK; it++) {
        double s = 0.5 * (lo + hi);
        for (int64_t i = 0; i < m->per; i++)
            mid->z[i] = (float)(za[i] + s * ((double)zb[i] - za[i]));
        if ((rc = evaluate(c, mid)) != LRPX_OK)
            break;
        if ((mid->f > 0) == (fa > 0))
            lo = s;
        else
            hi = s;
        /* keep the best point seen in a */
        if (fabs(mid->f) < fabs(a->f))
            swap_points(a, mid);
        if (fabs(a->f) <= tol)
            break;
    }
    lrpx__free(za);
    return rc;
}

/* The root search of sample b; the root ends up in *cur. */
static lrpx_status
root_search(struct tay *c, struct point *cur, struct point *nxt, struct point *mid)
{
    const struct lrpx_meth *m  = c->m;
    const float            *xb = m->x + c->b * m->per;
    memcpy(cur->z, xb, (size_t)m->per * sizeof(float));
    lrpx_status rc = evaluate(c, cur);
    if (rc != LRPX_OK)
        return rc;
    const double tol = 1e-4 * fabs(cur->f);
    for (int it = 0; it < m->o->root_iters; it++) {
        double gg = norm2(cur->g, m->per);
        if (fabs(cur->f) <= tol || !(gg > 0.0) || !isfinite(cur->f))
            break;
        double t        = cur->f / gg;
        bool   improved = false;
        for (int half = 0; half < 30 && !improved; half++, t *= 0.5) {
            step_to(m, cur, t, nxt->z);
            if ((rc = evaluate(c, nxt)) != LRPX_OK)
                return rc;
            if ((nxt->f > 0) != (cur->f > 0) && fabs(nxt->f) > tol)
                return bisect(c, cur, nxt, mid, tol);
            improved = fabs(nxt->f) < fabs(cur->f);
        }
        if (!improved)
            break;
        swap_points(cur, nxt);
    }
    return LRPX_OK;
}

lrpx_status
lrpx__meth_taylor(struct lrpx_meth *m)
{
    float *buf = lrpx__malloc((size_t)m->per * 6 * sizeof(float));
    if (!buf)
        return lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for the root search");
    struct point pts[3];
    for (int i = 0; i < 3; i++)
        pts[i] = (struct point){buf + 2 * i * m->per, buf + (2 * i + 1) * m->per, 0.0};
    lrpx_status rc = LRPX_OK;
    for (int64_t b = 0; b < m->n && rc == LRPX_OK; b++) {
        struct tay   c   = {.m = m, .b = b};
        struct point cur = pts[0], nxt = pts[1], mid = pts[2];
        if ((rc = root_search(&c, &cur, &nxt, &mid)) != LRPX_OK)
            break;
        const float *xb   = m->x + b * m->per;
        double       dist = 0.0;
        for (int64_t i = 0; i < m->per; i++) {
            m->out[b * m->per + i] = cur.g[i] * (xb[i] - cur.z[i]);
            dist += ((double)xb[i] - cur.z[i]) * ((double)xb[i] - cur.z[i]);
        }
        m->rep[b].ref_score = cur.f;
        m->rep[b].distance  = sqrt(dist);
        m->rep[b].n_evals   = c.evals + 1;
    }
    lrpx__free(buf);
    return rc;
}
