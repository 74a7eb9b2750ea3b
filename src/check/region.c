/* Region perturbation (Samek et al. 2017) as Quantus 0.6.0's
 * RegionPerturbation computes it (../shared/specs/quantus-metrics.md,
 * section 3), and its AOPC. See eval.h.
 *
 * The perturbed inputs are made cumulatively, `batch` of them at a time,
 * and handed to the predict callback as one batch, so a model with a
 * dynamic batch axis runs them in one pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/metrics.h"

int64_t
lrpx__check_n_patches(int64_t h, int64_t w, int patch_size)
{
    if (patch_size < 1 || h < 1 || w < 1)
        return 0;
    int64_t p = patch_size;
    return ((h + p - 1) / p) * ((w + p - 1) / p);
}

double
lrpx__check_aopc(const double *curve, int n_curve)
{
    if (n_curve < 1)
        return NAN;
    double s = 0.0;
    for (int k = 0; k < n_curve; k++)
        s += curve[k];
    return s / (double)(n_curve + 1);
}

struct patch {
    double  key;
    int64_t j;
};

static int
by_key(const void *pa, const void *pb)
{
    const struct patch *p = pa, *q = pb;
    return p->key < q->key ? -1 : p->key > q->key ? 1 : (p->j > q->j) - (p->j < q->j);
}

/* Fill value of the baseline over the n values of z (section 1.1). */
static float
baseline(const float *z, int64_t n, const struct lrpx_check_region_opts *o)
{
    if (o->baseline == LRPX_CHECK_BASELINE_VALUE)
        return (float)o->baseline_value;
    float  lo = z[0], hi = z[0];
    double s  = 0.0;
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, z[i]);
        hi = fmaxf(hi, z[i]);
        s += z[i];
    }
    return o->baseline == LRPX_CHECK_BASELINE_BLACK ? lo
         : o->baseline == LRPX_CHECK_BASELINE_WHITE ? hi : (float)(s / (double)n);
}

static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The padded geometry: hp x wp, the original at (top, left). */
struct pad {
    int64_t hp, wp, top, left;
};

static struct pad
pad_geometry(int64_t h, int64_t w, int64_t p)
{
    struct pad g = {h, w, 0, 0};
    if (h % p) {
        g.top = (p - h % p) / 2;
        g.hp  = h + p - h % p;
    }
    if (w % p) {
        g.left = (p - w % p) / 2;
        g.wp   = w + p - w % p;
    }
    return g;
}

/* Patch scores, ordered: order[k] is the k-th patch to remove. */
static void
order_patches(const float *a, int64_t a_c, int64_t h, int64_t w, const struct pad *g,
              int64_t p, enum lrpx_check_order ord, struct patch *order)
{
    int64_t bw = g->wp / p, n = (g->hp / p) * bw;
    for (int64_t j = 0; j < n; j++)
        order[j] = (struct patch){0.0, j};
    /* the map is zero-padded: only original pixels add to a patch */
    for (int64_t k = 0; k < a_c; k++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                int64_t j = ((y + g->top) / p) * bw + (x + g->left) / p;
                order[j].key += a[(k * h + y) * w + x];
            }
    if (ord == LRPX_CHECK_ORDER_MORF)
        for (int64_t j = 0; j < n; j++)
            order[j].key = -order[j].key;
    qsort(order, (size_t)n, sizeof *order, by_key);
}

lrpx_status
lrpx__check_region_perturbation(const float *x, const float *a, int64_t a_c, int64_t c,
                               int64_t h, int64_t w, const struct lrpx_check_region_opts *o,
                               lrpx__check_predict_fn predict, void *ctx, double *curve,
                               int *n_curve)
{
    *n_curve = 0;
    if (!x || !a || !o || !predict || !curve || c < 1 || h < 1 || w < 1 ||
        (a_c != c && a_c != 1) || o->patch_size < 1 || o->regions < 1 || o->batch < 1 ||
        (unsigned)o->order >= LRPX_CHECK_ORDER_COUNT ||
        (unsigned)o->baseline >= LRPX_CHECK_BASELINE_COUNT)
        return LRPX_EINVAL;
    int64_t    p = o->patch_size, n = c * h * w;
    struct pad g = pad_geometry(h, w, p);
    int64_t    n_patches = (g.hp / p) * (g.wp / p), np = c * g.hp * g.wp;
    int64_t    k_max     = o->regions < n_patches ? o->regions : n_patches;
    int64_t    batch     = o->batch < k_max ? o->batch : k_max;

    struct patch *order  = lrpx__malloc((size_t)n_patches * sizeof *order);
    float        *z      = lrpx__malloc((size_t)np * sizeof *z);
    float        *buf    = lrpx__malloc((size_t)(n * batch) * sizeof *buf);
    double       *scores = lrpx__malloc((size_t)batch * sizeof *scores);
    lrpx_status   rc     = LRPX_ENOMEM;
    if (!order || !z || !buf || !scores)
        goto done;
    order_patches(a, a_c, h, w, &g, p, o->order, order);
    /* the image, edge-padded */
    for (int64_t k = 0; k < c; k++)
        for (int64_t y = 0; y < g.hp; y++)
            for (int64_t xx = 0; xx < g.wp; xx++)
                z[(k * g.hp + y) * g.wp + xx] =
                    x[(k * h + clamp64(y - g.top, 0, h - 1)) * w + clamp64(xx - g.left, 0, w - 1)];
    double y0;
    if ((rc = predict(ctx, x, 1, &y0)) != LRPX_OK)
        goto done;
    int64_t bw = g.wp / p;
    for (int64_t k0 = 0; k0 < k_max; k0 += batch) {
        int64_t m = k_max - k0 < batch ? k_max - k0 : batch;
        for (int64_t t = 0; t < m; t++) {
            int64_t j = order[k0 + t].j, by = j / bw * p, bx = j % bw * p;
            float   v = baseline(z, np, o);
            for (int64_t k = 0; k < c; k++)
                for (int64_t y = by; y < by + p; y++)
                    for (int64_t xx = bx; xx < bx + p; xx++)
                        z[(k * g.hp + y) * g.wp + xx] = v;
            float *crop = buf + t * n;
            for (int64_t k = 0; k < c; k++)
                for (int64_t y = 0; y < h; y++)
                    memcpy(crop + (k * h + y) * w, z + (k * g.hp + y + g.top) * g.wp + g.left,
                           (size_t)w * sizeof *crop);
        }
        if ((rc = predict(ctx, buf, m, scores)) != LRPX_OK)
            goto done;
        for (int64_t t = 0; t < m; t++)
            curve[k0 + t] = y0 - scores[t];
    }
    *n_curve = (int)k_max;
    rc       = LRPX_OK;
done:
    lrpx__free(order);
    lrpx__free(z);
    lrpx__free(buf);
    lrpx__free(scores);
    return rc;
}
