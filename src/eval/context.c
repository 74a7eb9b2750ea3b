/* What every metric shares: feeding batches of (perturbed) inputs through
 * the session, reading the scored output, explaining batches with
 * lrpx_session_attribute, Quantus's normalise/abs, numpy's float32 sums,
 * a stable arg sort, the seeded generator and the perturbation baselines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "eval/eval_impl.h"
#include "core/op.h"

/* Feed n samples (n * e->f floats) as one batch. */
static lrpx_status
feed(struct eval_ctx *e, const float *xs, int64_t n)
{
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, e->dims, sizeof dims);
    dims[0] = n;
    return lrpx_session_set_input(e->s, e->o->input_name, LRPX_DTYPE_FLOAT32, e->rank, dims, xs);
}

/* The pre-softmax output of the last pass: output 0 (or the one named),
 * or the input of a trailing Softmax/LogSoftmax. */
static const struct lrpx_tensor *
logits(struct eval_ctx *e, int64_t n, int64_t *classes)
{
    const struct lrpx_graph *g = &e->s->model->g;
    if (g->n_outputs < 1)
        return NULL;
    int v = g->outputs[0];
    if (e->output_name && (v = lrpx__graph_find_value(g, e->output_name)) < 0)
        return NULL;
    int prod = g->values[v].producer;
    if (prod >= 0 && g->nodes[prod].def && g->nodes[prod].def->output_normalizer &&
        g->nodes[prod].inputs[0] >= 0)
        v = g->nodes[prod].inputs[0];
    const struct lrpx_tensor *t = &e->s->plan.x.vals[v];
    if (t->dtype != LRPX_DTYPE_FLOAT32 || !t->data || n < 1 || t->n_elems % n)
        return NULL;
    *classes = t->n_elems / n;
    return t;
}

/* f and argmax of the n samples of the last pass. */
static lrpx_status
read_outputs(struct eval_ctx *e, int64_t n, const int64_t *cls, bool softmax, float *f,
             int64_t *argmax)
{
    int64_t                   k;
    const struct lrpx_tensor *t = logits(e, n, &k);
    if (!t || k < 1)
        return lrpx__error(&e->s->err, LRPX_EINVAL,
                           "the model's %s output is not a float32 score per sample",
                           e->output_name ? e->output_name : "first");
    for (int64_t i = 0; i < n; i++) {
        const float *row = t->f32 + i * k;
        int64_t      am  = 0;
        for (int64_t j = 1; j < k; j++)
            if (row[j] > row[am])
                am = j;
        if (argmax)
            argmax[i] = am;
        if (!f)
            continue;
        if (cls[i] < 0 || cls[i] >= k)
            return lrpx__error(&e->s->err, LRPX_EINVAL,
                               "class %lld is out of range (the model has %lld outputs)",
                               (long long)cls[i], (long long)k);
        if (!softmax) {
            f[i] = row[cls[i]];
            continue;
        }
        double z = 0.0;
        for (int64_t j = 0; j < k; j++)
            z += exp((double)row[j] - (double)row[am]);
        f[i] = (float)(exp((double)row[cls[i]] - (double)row[am]) / z);
    }
    return LRPX_OK;
}

lrpx_status
eval_predict(struct eval_ctx *e, const float *xs, int64_t n, const int64_t *cls, bool softmax,
             float *f, int64_t *argmax)
{
    for (int64_t b = 0; b < n; b += e->max_batch) {
        int64_t     nb = n - b < e->max_batch ? n - b : e->max_batch;
        lrpx_status rc = feed(e, xs + b * e->f, nb);
        if (rc == LRPX_OK)
            rc = lrpx_session_run(e->s);
        if (rc == LRPX_OK)
            rc = read_outputs(e, nb, cls ? cls + b : NULL, softmax, f ? f + b : NULL,
                              argmax ? argmax + b : NULL);
        if (rc != LRPX_OK)
            return rc;
    }
    return LRPX_OK;
}

/* The maps of the nb samples fed, for classes cls, into maps. */
static lrpx_status
attribute(struct eval_ctx *e, const int64_t *cls, int64_t nb, float *maps)
{
    e->method.lrp.targets   = cls;
    e->method.lrp.n_targets = nb;
    lrpx_status rc          = lrpx_session_attribute(e->s, &e->method);
    e->method.lrp.targets   = NULL;
    lrpx_tensor_view v;
    if (rc != LRPX_OK)
        return rc;
    if (lrpx_session_attribution(e->s, &v) != LRPX_OK || v.dtype != LRPX_DTYPE_FLOAT32 ||
        v.n_elems != nb * e->f)
        return lrpx__error(&e->s->err, LRPX_ESHAPE, "%s: the map does not have the input's "
                           "%lld values", lrpx_attr_method_name(e->method.method),
                           (long long)(nb * e->f));
    memcpy(maps, v.data, (size_t)(nb * e->f) * sizeof *maps);
    return LRPX_OK;
}

lrpx_status
eval_explain(struct eval_ctx *e, const float *xs, int64_t n, const int64_t *cls, float *maps,
             int64_t *argmax)
{
    for (int64_t b = 0; b < n; b += e->max_batch) {
        int64_t     nb = n - b < e->max_batch ? n - b : e->max_batch;
        lrpx_status rc = feed(e, xs + b * e->f, nb);
        if (rc == LRPX_OK)
            rc = attribute(e, cls + b, nb, maps + b * e->f);
        if (rc == LRPX_OK && argmax)
            rc = read_outputs(e, nb, NULL, false, NULL, argmax + b);
        if (rc != LRPX_OK)
            return rc;
    }
    return LRPX_OK;
}

void
lrpx__eval_normalise_abs(float *a, int64_t n, bool normalise, bool abs)
{
    if (normalise) {
        float mx = 0.0f;
        for (int64_t i = 0; i < n; i++)
            mx = fabsf(a[i]) > mx ? fabsf(a[i]) : mx;
        if (mx > 0.0f)
            for (int64_t i = 0; i < n; i++)
                a[i] /= mx;
    }
    if (abs)
        for (int64_t i = 0; i < n; i++)
            a[i] = fabsf(a[i]);
}

void
eval_postprocess(const struct eval_ctx *e, float *a, int64_t count)
{
    lrpx__eval_normalise_abs(a, count, e->m->has[K_NORMALISE] && eval_bool(e->m, K_NORMALISE),
                             e->m->has[K_ABS] && eval_bool(e->m, K_ABS));
}

lrpx_status
eval_explain_steps(struct eval_ctx *e, const float *xs, int64_t n, const int64_t *cls,
                   float *maps, int64_t *argmax)
{
    lrpx_status rc = eval_explain(e, xs, n, cls, maps, argmax);
    if (rc != LRPX_OK)
        return rc;
    int64_t chunk = e->m->has[K_BATCH_SIZE] ? eval_int(e->m, K_BATCH_SIZE) : n;
    for (int64_t b = 0; b < n; b += chunk)
        eval_postprocess(e, maps + b * e->f, (n - b < chunk ? n - b : chunk) * e->f);
    return LRPX_OK;
}

lrpx_status
eval_given_maps(struct eval_ctx *e, enum eval_maps how, float **out, int64_t *per)
{
    const lrpx_tensor_view *av = e->o->attr;
    int64_t                 hw = e->f / e->c;
    float                  *a  = lrpx__malloc((size_t)(e->n * e->f) * sizeof *a);
    const float            *src;
    bool                    one_c;
    *out = NULL;
    if (!a)
        return lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory for the maps");
    if (!av) {
        lrpx_status rc = eval_explain(e, e->x, e->n, e->targets, a, NULL);
        if (rc != LRPX_OK) {
            lrpx__free(a);
            return rc;
        }
        src   = a;
        one_c = false;
    } else {
        one_c = e->c > 1 && av->n_elems == e->n * hw;
        if (av->dtype != LRPX_DTYPE_FLOAT32 || !av->data ||
            (av->n_elems != e->n * e->f && !one_c)) {
            lrpx__free(a);
            return lrpx__error(&e->s->err, LRPX_ESHAPE,
                               "the relevance must be float32 with %lld values (%lld inputs of "
                               "%lld, or %lld without the channel axis); it has %lld",
                               (long long)(e->n * e->f), (long long)e->n, (long long)e->f,
                               (long long)hw, (long long)av->n_elems);
        }
        src = av->data;
    }
    int64_t in_per = one_c ? hw : e->f;
    *per = how == MAPS_PIXELS || (how == MAPS_GIVEN && one_c) ? hw : e->f;
    if (how == MAPS_PIXELS && !one_c) {         /* sum over channels */
        for (int64_t i = 0; i < e->n; i++)
            for (int64_t p = 0; p < hw; p++) {
                float sum = 0.0f;
                for (int64_t c = 0; c < e->c; c++)
                    sum += src[i * e->f + (e->nhwc ? p * e->c + c : c * hw + p)];
                a[i * hw + p] = sum;             /* in place: row i is read first */
            }
    } else if (how == MAPS_FULL && one_c) {     /* copy to every channel */
        for (int64_t i = 0; i < e->n; i++)
            for (int64_t c = 0; c < e->c; c++)
                for (int64_t p = 0; p < hw; p++)
                    a[i * e->f + (e->nhwc ? p * e->c + c : c * hw + p)] = src[i * in_per + p];
    } else if (src != a) {
        memcpy(a, src, (size_t)(e->n * *per) * sizeof *a);
    }
    eval_postprocess(e, a, e->n * *per);
    *out = a;
    return LRPX_OK;
}

/* ---- numbers ---- */

/* numpy's pairwise_sum for float32 (blocks of 8 below 128 values, halves
 * rounded to multiples of 8 above) */
float
eval_sum_f32(const float *a, int64_t n)
{
    if (n < 8) {
        float r = 0.0f;
        for (int64_t i = 0; i < n; i++)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        float   r[8];
        int64_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return eval_sum_f32(a, n2) + eval_sum_f32(a + n2, n - n2);
}

/* whether index a goes before index b: by key, then by index (stable);
 * NaN compares equal to everything, so it keeps its index order */
static inline bool
before(const float *k, int64_t a, int64_t b, bool desc)
{
    float x = k[a], y = k[b];
    if (desc ? x > y : x < y)
        return true;
    if (desc ? x < y : x > y)
        return false;
    return a < b;
}

static void
merge_sort(int64_t *idx, int64_t *tmp, int64_t n, const float *k, bool desc)
{
    if (n <= 16) {                              /* insertion sort */
        for (int64_t i = 1; i < n; i++) {
            int64_t v = idx[i], j = i;
            while (j > 0 && before(k, v, idx[j - 1], desc)) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = v;
        }
        return;
    }
    int64_t h = n / 2;
    merge_sort(idx, tmp, h, k, desc);
    merge_sort(idx + h, tmp, n - h, k, desc);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        tmp[o++] = before(k, idx[j], idx[i], desc) ? idx[j++] : idx[i++];
    while (i < h)
        tmp[o++] = idx[i++];
    while (j < n)
        tmp[o++] = idx[j++];
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

lrpx_status
eval_argsort(const float *a, int64_t n, bool descending, int64_t *idx)
{
    int64_t *tmp = lrpx__malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return LRPX_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    merge_sort(idx, tmp, n, a, descending);
    lrpx__free(tmp);
    return LRPX_OK;
}

/* ---- perturbation baselines ---- */

/* Box blur of each channel of z (c, h, w in e's layout), the window cut at
 * the border (the mean of the pixels inside). */
static void
box_blur(const struct eval_ctx *e, const float *z, int64_t c, int64_t h, int64_t w, int k,
         float *out)
{
    int64_t r = k / 2;
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double  sum = 0.0;
                int64_t cnt = 0;
                for (int64_t yy = y - r; yy <= y - r + k - 1; yy++)
                    for (int64_t xx = x - r; xx <= x - r + k - 1; xx++)
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                            sum += z[e->nhwc ? (yy * w + xx) * c + ch : (ch * h + yy) * w + xx];
                            cnt++;
                        }
                out[e->nhwc ? (y * w + x) * c + ch : (ch * h + y) * w + x] = (float)(sum / cnt);
            }
}

void
eval_baseline(const struct eval_ctx *e, const float *z, int64_t c, int64_t h, int64_t w,
              struct lrpx_rng *rng, float *val)
{
    const lrpx_metric *m = e->m;
    int64_t            n = c * h * w;
    float              v = 0.0f;
    switch (eval_choice(m, K_PERTURB_BASELINE)) {
    case BASE_BLACK:
    case BASE_WHITE: {
        bool black = eval_choice(m, K_PERTURB_BASELINE) == BASE_BLACK;
        v          = z[0];
        for (int64_t i = 1; i < n; i++)
            v = black ? (z[i] < v ? z[i] : v) : (z[i] > v ? z[i] : v);
        break;
    }
    case BASE_MEAN:
        v = eval_sum_f32(z, n) / (float)n;
        break;
    case BASE_UNIFORM: {
        double lo = eval_num(m, K_UNIFORM_LOW), hi = eval_num(m, K_UNIFORM_HIGH);
        v         = (float)(lo + (hi - lo) * lrpx__rng_uniform(rng));
        break;
    }
    case BASE_BLUR:
        box_blur(e, z, c, h, w, eval_int(m, K_BLUR_KERNEL_SIZE), val);
        return;
    default:
        v = (float)eval_num(m, K_PERTURB_BASELINE);
        break;
    }
    for (int64_t i = 0; i < n; i++)
        val[i] = v;
}

/* ---- results ---- */

double
eval_trapezoid(const double *y, int64_t n)
{
    double a = 0.0;
    for (int64_t k = 0; k + 1 < n; k++)
        a += (y[k] + y[k + 1]) / 2.0;
    return a;
}

void
eval_set_score(struct eval_ctx *e, int64_t i, lrpx_score_kind kind, double score)
{
    struct eval_sample_res *r = &e->r->s[i];
    r->kind                   = kind == LRPX_SCORE_NUMBER && !isfinite(score) ? LRPX_SCORE_NULL
                                                                               : kind;
    r->score                  = score;
    r->summary                = score;
}

lrpx_status
eval_set_curve(struct eval_ctx *e, int64_t i, const double *curve, int64_t n)
{
    struct eval_sample_res *r = &e->r->s[i];
    lrpx__free(r->curve);
    r->curve = lrpx__malloc((size_t)(n ? n : 1) * sizeof *r->curve);
    if (!r->curve)
        return lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory for a curve");
    memcpy(r->curve, curve, (size_t)n * sizeof *curve);
    r->n_curve = n;
    return LRPX_OK;
}

void
eval_add_extra(struct eval_ctx *e, int64_t i, const char *name, double v)
{
    struct eval_sample_res *r = &e->r->s[i];
    if (r->n_extra < EVAL_MAX_EXTRA) {
        r->extra_names[r->n_extra] = name;
        r->extra[r->n_extra++]     = v;
    }
}
