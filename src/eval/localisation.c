/* Localisation: relevance-mass, relevance-rank and pointing-game against
 * a mask (nonzero = inside) of shape (H,W), (1,H,W), (N,H,W) or (N,1,H,W).
 * A map with several channels is summed over them first (Quantus needs
 * one-channel maps here; its users pass a.sum(axis=1)). */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "eval/eval_impl.h"

double
lrpx__eval_relevance_mass(const float *a, const uint8_t *s, int64_t n, float *scratch)
{
    int64_t n_in = 0;
    for (int64_t p = 0; p < n; p++)
        if (s[p])
            scratch[n_in++] = a[p];
    double inside = eval_sum_f32(scratch, n_in), total = eval_sum_f32(a, n);
    return n_in == 0 ? NAN : inside / total;
}

/* The mask of input i, h*w bytes (0/1) into s; *count the ones. */
static lrpx_status
mask_of(struct eval_ctx *e, int64_t i, uint8_t *s, int64_t *count)
{
    const lrpx_tensor_view *mv = e->o->mask;
    int64_t                 hw = e->f / e->c;
    if (!mv || !mv->data)
        return lrpx__error(&e->s->err, LRPX_EINVAL, "%s needs a mask (--mask FILE or x,y,w,h)",
                           lrpx_metric_id_name(e->m->id));
    int64_t per = mv->n_elems == hw ? 0 : mv->n_elems == e->n * hw ? hw : -1;
    if (per < 0)
        return lrpx__error(&e->s->err, LRPX_ESHAPE,
                           "the mask has %lld values: one %lldx%lld mask, or one per input "
                           "(%lld inputs)", (long long)mv->n_elems, (long long)e->h,
                           (long long)e->w, (long long)e->n);
    *count = 0;
    for (int64_t p = 0; p < hw; p++) {
        int64_t j = i * per + p;
        double  v;
        switch (mv->dtype) {
        case LRPX_DTYPE_FLOAT32: v = ((const float *)mv->data)[j]; break;
        case LRPX_DTYPE_FLOAT64: v = ((const double *)mv->data)[j]; break;
        case LRPX_DTYPE_UINT8:
        case LRPX_DTYPE_BOOL: v = ((const uint8_t *)mv->data)[j]; break;
        case LRPX_DTYPE_INT64: v = (double)((const int64_t *)mv->data)[j]; break;
        case LRPX_DTYPE_INT32: v = ((const int32_t *)mv->data)[j]; break;
        default:
            return lrpx__error(&e->s->err, LRPX_EUNSUPPORTED, "the mask's type %s is not supported",
                               lrpx_dtype_name(mv->dtype));
        }
        s[p] = v != 0.0;
        *count += s[p];
    }
    return LRPX_OK;
}

lrpx_status
eval_localisation(struct eval_ctx *e)
{
    if (e->m->id == LRPX_METRIC_POINTING_GAME && eval_bool(e->m, K_WEIGHTED))
        return lrpx__error(&e->s->err, LRPX_EINVAL,
                           "pointing-game: weighted=true is refused (Quantus 0.6.0 raises a "
                           "TypeError for it)");
    int64_t     hw;
    float      *a  = NULL;
    lrpx_status rc = eval_given_maps(e, MAPS_PIXELS, &a, &hw);
    if (rc != LRPX_OK)
        return rc;
    uint8_t *s   = lrpx__malloc((size_t)hw);
    int64_t *idx = lrpx__malloc((size_t)hw * sizeof *idx);
    float   *in  = lrpx__malloc((size_t)hw * sizeof *in);
    if (!s || !idx || !in)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    for (int64_t i = 0; i < e->n && rc == LRPX_OK; i++) {
        const float *ai = a + i * hw;
        int64_t      k;
        if ((rc = mask_of(e, i, s, &k)) != LRPX_OK)
            break;
        switch (e->m->id) {
        case LRPX_METRIC_RELEVANCE_MASS:
            eval_set_score(e, i, LRPX_SCORE_NUMBER, lrpx__eval_relevance_mass(ai, s, hw, in));
            break;
        case LRPX_METRIC_RELEVANCE_RANK: {
            if ((rc = eval_argsort(ai, hw, true, idx)) != LRPX_OK) {
                rc = lrpx__error(&e->s->err, rc, "out of memory");
                break;
            }
            int64_t hits = 0;
            for (int64_t r = 0; r < k; r++)
                hits += s[idx[r]];
            eval_set_score(e, i, LRPX_SCORE_NUMBER, k == 0 ? NAN : (double)hits / (double)k);
            break;
        }
        default: {                              /* pointing game */
            float mx = ai[0];
            for (int64_t p = 1; p < hw; p++)
                mx = ai[p] > mx ? ai[p] : mx;
            bool hit = k == 0;                  /* Quantus: NaN written to a bool: True */
            for (int64_t p = 0; p < hw && !hit; p++)
                hit = s[p] && ai[p] == mx;
            eval_set_score(e, i, LRPX_SCORE_BOOL, hit);
            break;
        }
        }
    }
    lrpx__free(a);
    lrpx__free(s);
    lrpx__free(idx);
    lrpx__free(in);
    return rc;
}
