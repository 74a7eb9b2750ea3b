/* Faithfulness: pixel-flipping, region-perturbation, selectivity and the
 * area between the LeRF and MoRF curves (docs/evaluation.md). Each input
 * is perturbed cumulatively, step by step; the perturbed copies are
 * collected and go through the session max_batch at a time. Ties in the
 * ranking go to the lower flat index (numpy's argsort is not stable and
 * defines no order there). */
#include <math.h>
#include <string.h>

#include "eval/eval_impl.h"

/* A run of perturbed copies of one input, scored in batches. */
struct seq {
    struct eval_ctx *e;
    float           *xs;       /* max_batch samples                          */
    int64_t         *cls;      /* max_batch copies of the target             */
    int64_t          n_buf;
    int64_t          done;
    float           *f;        /* one output per pushed copy                 */
};

static lrpx_status
seq_flush(struct seq *q)
{
    struct eval_ctx *e = q->e;
    if (q->n_buf == 0)
        return LRPX_OK;
    lrpx_status rc = eval_predict(e, q->xs, q->n_buf, q->cls, eval_bool(e->m, K_SOFTMAX),
                                  q->f + q->done, NULL);
    q->done += q->n_buf;
    q->n_buf = 0;
    return rc;
}

static lrpx_status
seq_push(struct seq *q, const float *z)
{
    memcpy(q->xs + q->n_buf * q->e->f, z, (size_t)q->e->f * sizeof *z);
    if (++q->n_buf == q->e->max_batch)
        return seq_flush(q);
    return LRPX_OK;
}

/* ---- pixel-flipping ---- */

static lrpx_status
pixel_flipping(struct eval_ctx *e, const float *a, struct seq *q, float *z, float *val,
               int64_t *order, double *curve)
{
    int64_t s = eval_int(e->m, K_FEATURES_IN_STEP);
    if (e->f % s)
        return lrpx__error(&e->s->err, LRPX_EINVAL,
                           "pixel-flipping: features-in-step=%lld does not divide the %lld "
                           "features of an input", (long long)s, (long long)e->f);
    int64_t n_steps = e->f / s;
    for (int64_t i = 0; i < e->n; i++) {
        const float *ai = a + i * e->f;
        lrpx_status  rc = eval_argsort(ai, e->f, true, order);
        if (rc != LRPX_OK)
            return lrpx__error(&e->s->err, rc, "out of memory");
        memcpy(z, e->x + i * e->f, (size_t)e->f * sizeof *z);
        q->done = 0;
        for (int64_t j = 0; j < e->max_batch; j++)
            q->cls[j] = e->targets[i];
        for (int64_t k = 0; k < n_steps && rc == LRPX_OK; k++) {
            struct lrpx_rng rng;
            lrpx__rng_init(&rng, e->seed, (uint64_t)i, (uint64_t)k);
            eval_baseline(e, z, e->c, e->h, e->w, &rng, val);
            for (int64_t j = k * s; j < (k + 1) * s; j++)
                z[order[j]] = val[order[j]];
            rc = seq_push(q, z);
        }
        if (rc == LRPX_OK)
            rc = seq_flush(q);
        if (rc != LRPX_OK)
            return rc;
        for (int64_t k = 0; k < n_steps; k++)
            curve[k] = q->f[k];
        double auc = eval_trapezoid(curve, n_steps);
        if (eval_bool(e->m, K_RETURN_AUC_PER_SAMPLE)) {
            eval_set_score(e, i, LRPX_SCORE_NUMBER, auc);
        } else {
            if ((rc = eval_set_curve(e, i, curve, n_steps)) != LRPX_OK)
                return rc;
            e->r->s[i].summary = auc;
            eval_add_extra(e, i, "auc", auc);
        }
    }
    return LRPX_OK;
}

/* ---- patches: region-perturbation, selectivity, lerf-morf-area ---- */

struct grid {
    int64_t p, hp, wp, top, left, n_patches;
};

static void
grid_init(const struct eval_ctx *e, int64_t p, struct grid *g)
{
    int64_t th = e->h % p ? p - e->h % p : 0, tw = e->w % p ? p - e->w % p : 0;
    g->p         = p;
    g->hp        = e->h + th;
    g->wp        = e->w + tw;
    g->top       = th / 2;
    g->left      = tw / 2;
    g->n_patches = (g->hp / p) * (g->wp / p);
}

static inline int64_t
pad_at(const struct eval_ctx *e, const struct grid *g, int64_t c, int64_t y, int64_t x)
{
    return e->nhwc ? (y * g->wp + x) * e->c + c : (c * g->hp + y) * g->wp + x;
}

static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The order of the patches of map a (one input) for `order`. */
static lrpx_status
patch_order(struct eval_ctx *e, const struct grid *g, const float *a, int order, int64_t i,
            float *sums, int64_t *idx)
{
    int64_t nbx = g->wp / g->p;
    for (int64_t j = 0; j < g->n_patches; j++) {
        int64_t by = j / nbx, bx = j % nbx;
        double  sum = 0.0;
        for (int64_t c = 0; c < e->c; c++)
            for (int64_t u = 0; u < g->p; u++)
                for (int64_t v = 0; v < g->p; v++) {
                    int64_t y = by * g->p + u - g->top, x = bx * g->p + v - g->left;
                    if (y >= 0 && y < e->h && x >= 0 && x < e->w)   /* a is zero-padded */
                        sum += a[eval_at(e, c, y, x)];
                }
        sums[j] = (float)sum;
    }
    if (order != ORDER_RANDOM)
        return eval_argsort(sums, g->n_patches, order == ORDER_MORF, idx);
    struct lrpx_rng rng;                        /* Fisher-Yates, seeded per input */
    lrpx__rng_init(&rng, e->seed, (uint64_t)i, UINT64_MAX);
    for (int64_t j = 0; j < g->n_patches; j++)
        idx[j] = j;
    for (int64_t j = g->n_patches - 1; j > 0; j--) {
        int64_t k = (int64_t)(lrpx__rng_uniform(&rng) * (double)(j + 1));
        int64_t t = idx[j];
        idx[j]    = idx[k];
        idx[k]    = t;
    }
    return LRPX_OK;
}

struct patch_work {
    float   *zp, *val, *crop, *sums;
    int64_t *idx;
};

/* Outputs f(z_1..z_K) of input i with its patches removed in `order`
 * (cumulative; the baseline over the padded array), into q->f. */
static lrpx_status
patch_run(struct eval_ctx *e, const struct grid *g, const float *ai, int order, int64_t i,
          int64_t k_max, struct seq *q, struct patch_work *w)
{
    lrpx_status rc = patch_order(e, g, ai, order, i, w->sums, w->idx);
    if (rc != LRPX_OK)
        return lrpx__error(&e->s->err, rc, "out of memory");
    const float *x = e->x + i * e->f;
    for (int64_t c = 0; c < e->c; c++)          /* edge padding */
        for (int64_t y = 0; y < g->hp; y++)
            for (int64_t xx = 0; xx < g->wp; xx++)
                w->zp[pad_at(e, g, c, y, xx)] =
                    x[eval_at(e, c, clamp64(y - g->top, 0, e->h - 1),
                              clamp64(xx - g->left, 0, e->w - 1))];
    q->done = 0;
    for (int64_t j = 0; j < e->max_batch; j++)
        q->cls[j] = e->targets[i];
    int64_t nbx = g->wp / g->p;
    for (int64_t k = 0; k < k_max && rc == LRPX_OK; k++) {
        struct lrpx_rng rng;
        lrpx__rng_init(&rng, e->seed, (uint64_t)i, (uint64_t)k);
        eval_baseline(e, w->zp, e->c, g->hp, g->wp, &rng, w->val);
        int64_t by = w->idx[k] / nbx, bx = w->idx[k] % nbx;
        for (int64_t c = 0; c < e->c; c++)
            for (int64_t u = 0; u < g->p; u++)
                for (int64_t v = 0; v < g->p; v++) {
                    int64_t at = pad_at(e, g, c, by * g->p + u, bx * g->p + v);
                    w->zp[at]  = w->val[at];
                }
        for (int64_t c = 0; c < e->c; c++)
            for (int64_t y = 0; y < e->h; y++)
                for (int64_t xx = 0; xx < e->w; xx++)
                    w->crop[eval_at(e, c, y, xx)] = w->zp[pad_at(e, g, c, y + g->top, xx + g->left)];
        rc = seq_push(q, w->crop);
    }
    return rc == LRPX_OK ? seq_flush(q) : rc;
}

static lrpx_status
patches(struct eval_ctx *e, const float *a, struct seq *q, double *curve)
{
    lrpx_metric_id id = e->m->id;
    struct grid    g;
    if (e->rank != 4)
        return lrpx__error(&e->s->err, LRPX_EINVAL, "%s needs image inputs (rank 4)",
                           lrpx_metric_id_name(id));
    grid_init(e, eval_int(e->m, K_PATCH_SIZE), &g);
    int64_t k_max = g.n_patches;
    if (id != LRPX_METRIC_SELECTIVITY && eval_int(e->m, K_REGIONS_EVALUATION) < k_max)
        k_max = eval_int(e->m, K_REGIONS_EVALUATION);
    int64_t           npad = e->c * g.hp * g.wp;
    struct patch_work w    = {
           .zp   = lrpx__malloc((size_t)npad * sizeof(float)),
           .val  = lrpx__malloc((size_t)npad * sizeof(float)),
           .crop = lrpx__malloc((size_t)e->f * sizeof(float)),
           .sums = lrpx__malloc((size_t)g.n_patches * sizeof(float)),
           .idx  = lrpx__malloc((size_t)g.n_patches * sizeof(int64_t)),
    };
    float      *y0  = lrpx__malloc((size_t)e->n * sizeof(float));
    double     *lerf = lrpx__malloc((size_t)k_max * sizeof(double));
    lrpx_status rc  = LRPX_OK;
    if (!w.zp || !w.val || !w.crop || !w.sums || !w.idx || !y0 || !lerf)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory for the patches");
    bool softmax = eval_bool(e->m, K_SOFTMAX);
    if (rc == LRPX_OK && id != LRPX_METRIC_SELECTIVITY)
        rc = eval_predict(e, e->x, e->n, e->targets, softmax, y0, NULL);
    for (int64_t i = 0; i < e->n && rc == LRPX_OK; i++) {
        const float *ai    = a + i * e->f;
        int          order = id == LRPX_METRIC_REGION_PERTURBATION ? eval_choice(e->m, K_ORDER)
                                                                   : ORDER_MORF;
        if ((rc = patch_run(e, &g, ai, order, i, k_max, q, &w)) != LRPX_OK)
            break;
        for (int64_t k = 0; k < k_max; k++)     /* float32 differences, as Quantus */
            curve[k] = id == LRPX_METRIC_SELECTIVITY ? (double)q->f[k] : (double)(y0[i] - q->f[k]);
        if (id == LRPX_METRIC_LERF_MORF_AREA) {
            if ((rc = patch_run(e, &g, ai, ORDER_LERF, i, k_max, q, &w)) != LRPX_OK)
                break;
            double area = 0.0;
            for (int64_t k = 0; k < k_max; k++) {
                lerf[k] = (double)(y0[i] - q->f[k]);
                curve[k] -= lerf[k];
                area += curve[k];
            }
            eval_set_score(e, i, LRPX_SCORE_NUMBER, area / (double)k_max);
            rc = eval_set_curve(e, i, curve, k_max);
            continue;
        }
        if ((rc = eval_set_curve(e, i, curve, k_max)) != LRPX_OK)
            break;
        double auc = eval_trapezoid(curve, k_max);
        if (id == LRPX_METRIC_REGION_PERTURBATION) {
            double aopc = 0.0;
            for (int64_t k = 0; k < k_max; k++)
                aopc += curve[k];
            aopc /= (double)k_max;
            eval_add_extra(e, i, "aopc", aopc);
            e->r->s[i].summary = aopc;
        } else {
            e->r->s[i].summary = auc;
        }
        eval_add_extra(e, i, "auc", auc);
    }
    lrpx__free(w.zp);
    lrpx__free(w.val);
    lrpx__free(w.crop);
    lrpx__free(w.sums);
    lrpx__free(w.idx);
    lrpx__free(y0);
    lrpx__free(lerf);
    return rc;
}

lrpx_status
eval_faithfulness(struct eval_ctx *e)
{
    float      *a = NULL;
    int64_t     per;
    lrpx_status rc = eval_given_maps(e, MAPS_FULL, &a, &per);
    if (rc != LRPX_OK)
        return rc;
    int64_t     n_curve = e->f;                 /* enough for any of them */
    struct seq  q       = {.e = e};
    q.xs                = lrpx__malloc((size_t)(e->max_batch * e->f) * sizeof(float));
    q.cls               = lrpx__malloc((size_t)e->max_batch * sizeof(int64_t));
    q.f                 = lrpx__malloc((size_t)n_curve * sizeof(float));
    double  *curve      = lrpx__malloc((size_t)n_curve * sizeof(double));
    float   *z          = lrpx__malloc((size_t)e->f * sizeof(float));
    float   *val        = lrpx__malloc((size_t)e->f * sizeof(float));
    int64_t *order      = lrpx__malloc((size_t)e->f * sizeof(int64_t));
    if (!q.xs || !q.cls || !q.f || !curve || !z || !val || !order)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory for the perturbed inputs");
    else if (e->m->id == LRPX_METRIC_PIXEL_FLIPPING)
        rc = pixel_flipping(e, a, &q, z, val, order, curve);
    else
        rc = patches(e, a, &q, curve);
    lrpx__free(a);
    lrpx__free(q.xs);
    lrpx__free(q.cls);
    lrpx__free(q.f);
    lrpx__free(curve);
    lrpx__free(z);
    lrpx__free(val);
    lrpx__free(order);
    return rc;
}
