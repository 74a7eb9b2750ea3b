/* Robustness: continuity (translations), local-lipschitz (Gaussian noise)
 * and max-sensitivity (uniform noise). Each builds perturbed copies of
 * every input step by step, explains them again with the method, and
 * keeps the largest ratio per input. As in Quantus, the maps of one step
 * are normalised over a chunk of batch-size inputs; copies of several
 * steps are explained in one session pass when they fit. */
#include <math.h>
#include <string.h>

#include "eval/eval_impl.h"

struct robust {
    struct eval_ctx *e;
    const float     *a;         /* reference maps (n * f)                    */
    int64_t          n_steps;
    int64_t         *shift;     /* continuity: t_k                            */
    int64_t          zero_step; /* continuity: the step with t = 0, or -1     */
    const int64_t   *ref_cls;   /* class a step must keep (NaN rule)          */
    bool             propagate_nan;
};

/* x of input i moved by t columns along the width; uncovered = min(x). */
static void
translate(const struct eval_ctx *e, const float *x, int64_t t, float *out)
{
    float b = x[0];
    for (int64_t j = 1; j < e->f; j++)
        b = x[j] < b ? x[j] : b;
    for (int64_t c = 0; c < e->c; c++)
        for (int64_t y = 0; y < e->h; y++)
            for (int64_t j = 0; j < e->w; j++) {
                int64_t src = j - t;
                out[eval_at(e, c, y, j)] = src >= 0 && src < e->w ? x[eval_at(e, c, y, src)] : b;
            }
}

/* The perturbed copy of input i for step k. */
static void
perturb(const struct robust *rb, int64_t i, int64_t k, float *out)
{
    struct eval_ctx *e = rb->e;
    const float     *x = e->x + i * e->f;
    if (e->m->id == LRPX_METRIC_CONTINUITY) {
        translate(e, x, rb->shift[k], out);
        return;
    }
    const lrpx_tensor_view *nv = e->o->noise;
    if (nv) {                                   /* float32 addition of row k */
        const float *row = (const float *)nv->data + k * e->f;
        for (int64_t j = 0; j < e->f; j++)
            out[j] = x[j] + row[j];
        return;
    }
    struct lrpx_rng rng;
    lrpx__rng_init(&rng, e->seed, (uint64_t)i, (uint64_t)k);
    const lrpx_metric *m = e->m;
    if (m->id == LRPX_METRIC_LOCAL_LIPSCHITZ) {
        double mu = eval_num(m, K_PERTURB_MEAN), sd = eval_num(m, K_PERTURB_STD);
        for (int64_t j = 0; j < e->f; j++)
            out[j] = (float)((double)x[j] + mu + sd * lrpx__rng_normal(&rng));
        return;
    }
    double lo = eval_num(m, K_LOWER_BOUND), hi = lo;
    if (m->v[K_UPPER_BOUND].none)
        lo = -lo;
    else
        hi = eval_num(m, K_UPPER_BOUND);
    for (int64_t j = 0; j < e->f; j++)
        out[j] = (float)((double)x[j] + lo + (hi - lo) * lrpx__rng_uniform(&rng));
}

/* The ratio of step k for input i (x: the input, xk its copy, ak the
 * copy's map after normalise/abs). */
static double
ratio(const struct robust *rb, int64_t i, int64_t k, const float *xk, const float *ak,
      float *diff)
{
    struct eval_ctx *e  = rb->e;
    const float     *x  = e->x + i * e->f;
    const float     *a  = rb->a + i * e->f;
    double           dx = 0.0, da = 0.0, na = 0.0;
    for (int64_t j = 0; j < e->f; j++)
        dx += ((double)x[j] - xk[j]) * ((double)x[j] - xk[j]);
    float den = (float)sqrt(dx);
    switch (e->m->id) {
    case LRPX_METRIC_CONTINUITY:
        if (k == rb->zero_step)
            return 0.0;                         /* x_t == x: the same map */
        for (int64_t j = 0; j < e->f; j++)
            diff[j] = fabsf(a[j] - ak[j]);
        return (double)(eval_sum_f32(diff, e->f) / (den + 1e-9f));
    case LRPX_METRIC_LOCAL_LIPSCHITZ:
        for (int64_t j = 0; j < e->f; j++)
            da += ((double)a[j] - ak[j]) * ((double)a[j] - ak[j]);
        return (double)((float)sqrt(da) / (den + 1e-10f));
    default:                                    /* max-sensitivity */
        for (int64_t j = 0; j < e->f; j++) {
            da += ((double)a[j] - ak[j]) * ((double)a[j] - ak[j]);
            na += (double)a[j] * a[j];
        }
        return (double)((float)sqrt(da) / (float)sqrt(na));
    }
}

struct robust_buf {
    float   *xs, *maps, *diff;
    int64_t *cls, *am;
    double  *best;
    bool    *nan_seen;
};

/* Steps k0..k1-1 of the inputs c0..c1-1 (one Quantus chunk). */
static lrpx_status
run_block(struct robust *rb, int64_t c0, int64_t c1, int64_t k0, int64_t k1, struct robust_buf *b)
{
    struct eval_ctx *e  = rb->e;
    int64_t          nc = c1 - c0, cnt = 0;
    for (int64_t k = k0; k < k1; k++)
        for (int64_t i = c0; i < c1; i++, cnt++) {
            perturb(rb, i, k, b->xs + cnt * e->f);
            b->cls[cnt] = e->targets[i];
        }
    lrpx_status rc = eval_explain(e, b->xs, cnt, b->cls, b->maps, b->am);
    if (rc != LRPX_OK)
        return rc;
    for (int64_t k = k0; k < k1; k++) {
        float *block = b->maps + (k - k0) * nc * e->f;
        eval_postprocess(e, block, nc * e->f);  /* one step of one chunk */
        for (int64_t i = c0; i < c1; i++) {
            int64_t slot = (k - k0) * nc + (i - c0);
            double  r    = ratio(rb, i, k, b->xs + slot * e->f, block + (i - c0) * e->f, b->diff);
            if (eval_bool(e->m, K_RETURN_NAN) && b->am[slot] != rb->ref_cls[i])
                r = NAN;
            if (isnan(r))
                b->nan_seen[i] = true;
            else if (isnan(b->best[i]) || r > b->best[i])
                b->best[i] = r;
        }
    }
    return LRPX_OK;
}

lrpx_status
eval_robustness(struct eval_ctx *e)
{
    const lrpx_metric *m  = e->m;
    struct robust      rb = {.e = e, .zero_step = -1};
    lrpx_status        rc = LRPX_OK;
    int64_t           *pred = NULL;
    float             *a    = NULL;
    if (m->id == LRPX_METRIC_CONTINUITY) {
        rb.n_steps = eval_int(m, K_NR_STEPS);
        int64_t dx = (2 * e->w + 1) / rb.n_steps;
        rb.shift   = lrpx__malloc((size_t)rb.n_steps * sizeof *rb.shift);
        if (!rb.shift)
            return lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
        for (int64_t k = 0; k < rb.n_steps; k++) {
            rb.shift[k] = -e->w + (k + 1) * dx;
            if (rb.shift[k] == 0)
                rb.zero_step = k;
            if (rb.shift[k] > e->w || rb.shift[k] < -e->w) {
                long long t = (long long)rb.shift[k];
                lrpx__free(rb.shift);
                return lrpx__error(&e->s->err, LRPX_EINVAL,
                                   "continuity: nr-steps=%lld gives a shift of %lld columns on an "
                                   "input %lld wide (Quantus raises an IndexError here)",
                                   (long long)rb.n_steps, t, (long long)e->w);
            }
        }
        rb.ref_cls       = e->targets;
        rb.propagate_nan = true;                /* np.max */
        /* a0 = E(x), normalised per chunk like every step (the given map
         * is not used) */
        a = lrpx__malloc((size_t)(e->n * e->f) * sizeof *a);
        if (!a)
            rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
        else
            rc = eval_explain_steps(e, e->x, e->n, e->targets, a, NULL);
    } else {
        rb.n_steps = eval_int(m, K_NR_SAMPLES);
        const lrpx_tensor_view *nv = e->o->noise;
        if (nv && (nv->dtype != LRPX_DTYPE_FLOAT32 || !nv->data || nv->rank < 1 ||
                   nv->n_elems != nv->dims[0] * e->f || nv->dims[0] < rb.n_steps))
            return lrpx__error(&e->s->err, LRPX_ESHAPE,
                               "the noise must be float32 [samples >= nr-samples=%lld, the input's "
                               "shape without its batch axis] (%lld values each)",
                               (long long)rb.n_steps, (long long)e->f);
        int64_t per;
        rb.propagate_nan = eval_bool(m, K_RETURN_NAN);
        pred             = lrpx__malloc((size_t)e->n * sizeof *pred);
        if (!pred)
            return lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
        rc         = eval_predict(e, e->x, e->n, NULL, false, NULL, pred);
        rb.ref_cls = pred;
        if (rc == LRPX_OK)
            rc = eval_given_maps(e, MAPS_FULL, &a, &per);
    }
    rb.a = a;
    int64_t chunk = eval_int(m, K_BATCH_SIZE);
    chunk         = chunk < e->n ? chunk : e->n;
    /* steps per session pass: fill max_batch with copies of one chunk */
    int64_t per_pass = e->max_batch / chunk > 0 ? e->max_batch / chunk : 1;
    int64_t slots    = per_pass * chunk;
    struct robust_buf b = {
        .xs       = lrpx__malloc((size_t)(slots * e->f) * sizeof(float)),
        .maps     = lrpx__malloc((size_t)(slots * e->f) * sizeof(float)),
        .diff     = lrpx__malloc((size_t)e->f * sizeof(float)),
        .cls      = lrpx__malloc((size_t)slots * sizeof(int64_t)),
        .am       = lrpx__malloc((size_t)slots * sizeof(int64_t)),
        .best     = lrpx__malloc((size_t)e->n * sizeof(double)),
        .nan_seen = lrpx__calloc((size_t)e->n, sizeof(bool)),
    };
    if (rc == LRPX_OK && (!b.xs || !b.maps || !b.diff || !b.cls || !b.am || !b.best || !b.nan_seen))
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory for the perturbed inputs");
    for (int64_t i = 0; rc == LRPX_OK && i < e->n; i++)
        b.best[i] = NAN;
    for (int64_t c0 = 0; rc == LRPX_OK && c0 < e->n; c0 += chunk) {
        int64_t c1 = c0 + chunk < e->n ? c0 + chunk : e->n;
        for (int64_t k0 = 0; rc == LRPX_OK && k0 < rb.n_steps; k0 += per_pass)
            rc = run_block(&rb, c0, c1, k0, k0 + per_pass < rb.n_steps ? k0 + per_pass : rb.n_steps,
                           &b);
    }
    for (int64_t i = 0; rc == LRPX_OK && i < e->n; i++)
        eval_set_score(e, i, LRPX_SCORE_NUMBER,
                       b.nan_seen[i] && rb.propagate_nan ? NAN : b.best[i]);
    lrpx__free(b.xs);
    lrpx__free(b.maps);
    lrpx__free(b.diff);
    lrpx__free(b.cls);
    lrpx__free(b.am);
    lrpx__free(b.best);
    lrpx__free(b.nan_seen);
    lrpx__free(rb.shift);
    lrpx__free(pred);
    lrpx__free(a);
    return rc;
}
