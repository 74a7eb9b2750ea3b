/* Complexity (sparseness: Gini index; complexity: entropy) and the
 * completeness axiom. They read the maps as given (no channel copies):
 * every element of a map is one value. Sums are numpy's float32 pairwise
 * sums where Quantus sums float32 arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_impl.h"

static int
cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

static double
gini(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        v[i] += 1e-7f;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    double num = 0.0;
    for (int64_t i = 0; i < n; i++)
        num += (double)(2 * (i + 1) - n - 1) * v[i];
    return num / ((double)n * (double)eval_sum_f32(v, n));
}

static double
entropy(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        v[n + i] = fabsf(v[i]);                 /* v has room for 2n */
    float total = eval_sum_f32(v + n, n);
    for (int64_t i = 0; i < n; i++) {
        float p = v[i] / total;
        v[i]    = p * logf(p + 1e-12f);
    }
    return -(double)eval_sum_f32(v, n);
}

lrpx_status
eval_complexity(struct eval_ctx *e)
{
    int64_t     per;
    float      *a  = NULL;
    lrpx_status rc = eval_given_maps(e, MAPS_GIVEN, &a, &per);
    if (rc != LRPX_OK)
        return rc;
    float *work = lrpx__malloc((size_t)(2 * (per > e->f ? per : e->f)) * sizeof *work);
    float  fx, fb;
    if (!work)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    for (int64_t i = 0; i < e->n && rc == LRPX_OK; i++) {
        const float *ai = a + i * per;
        switch (e->m->id) {
        case LRPX_METRIC_SPARSENESS:
            memcpy(work, ai, (size_t)per * sizeof *work);
            eval_set_score(e, i, LRPX_SCORE_NUMBER, gini(work, per));
            break;
        case LRPX_METRIC_COMPLEXITY:
            memcpy(work, ai, (size_t)per * sizeof *work);
            eval_set_score(e, i, LRPX_SCORE_NUMBER, entropy(work, per));
            break;
        default: {                              /* completeness */
            struct lrpx_rng rng;
            lrpx__rng_init(&rng, e->seed, (uint64_t)i, 0);
            eval_baseline(e, e->x + i * e->f, e->c, e->h, e->w, &rng, work);
            bool sm = eval_bool(e->m, K_SOFTMAX);
            rc      = eval_predict(e, e->x + i * e->f, 1, &e->targets[i], sm, &fx, NULL);
            if (rc == LRPX_OK)
                rc = eval_predict(e, work, 1, &e->targets[i], sm, &fb, NULL);
            if (rc != LRPX_OK)
                break;
            float sum = eval_sum_f32(ai, per), delta = fx - fb;
            eval_set_score(e, i, LRPX_SCORE_BOOL, sum == delta);
            e->r->s[i].summary = (double)sum - (double)delta;
            eval_add_extra(e, i, "attribution_sum", sum);
            eval_add_extra(e, i, "output_delta", delta);
            break;
        }
        }
    }
    lrpx__free(work);
    lrpx__free(a);
    return rc;
}
