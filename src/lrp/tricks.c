/* The paper's tricks on top of the explanation passes (Montavon, Samek,
 * Müller 2017): they only feed inputs and read maps through the public
 * session API, plus lrpx__exec_seed to read the explained output.
 *
 *   translation trick   lrpx_session_explain_translated: average the maps
 *                       of the input shifted by every (dy, dx) in [-K, K]^2,
 *                       each map shifted back first. Strided convolutions
 *                       and pooling leave a checkerboard that depends on
 *                       the position modulo the stride; averaging over
 *                       shifts removes it.
 *   sliding window      lrpx_session_explain_windows: explain an image
 *                       larger than a fixed-size model window by window and
 *                       stitch the maps, averaging where windows overlap.
 *
 * Shifting: the shifted image is x'(y, x) = x(y - dy, x - dx); pixels that
 * come from outside the frame repeat the nearest border pixel (EDGE,
 * default: no artificial edge for the model to react to) or are 0 (ZERO).
 * The map is shifted back, R(y, x) = R'(y + dy, x + dx); a pixel whose
 * (y + dy, x + dx) falls outside has no value for that shift, and the
 * average of each pixel is over the shifts that kept it inside. The class
 * is fixed across shifts and windows, so every map explains the same
 * output. Sums are accumulated in double.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"

void
lrpx_trick_options_default(struct lrpx_trick_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = LRPX_ATTR_LRP;
    o->pad    = LRPX_SHIFT_PAD_EDGE;
    o->stride_x = o->stride_y = 1;
}

int
lrpx_window_count(int size, int win, int stride)
{
    if (size < 1 || win < 1 || stride < 1 || win > size)
        return 0;
    int n = (size - win) / stride + 1;            /* starts 0, s, 2s, ... <= size - win */
    return (n - 1) * stride == size - win ? n : n + 1;   /* + one at the border */
}

static int
window_start(int k, int size, int win, int stride)
{
    int s = k * stride;
    return s > size - win ? size - win : s;
}

/* Geometry of one sample of x. */
struct geo {
    int64_t c, h, w;
    bool    nhwc;
};

static inline int64_t
at(const struct geo *g, int64_t c, int64_t y, int64_t x)
{
    return g->nhwc ? (y * g->w + x) * g->c + c : (c * g->h + y) * g->w + x;
}

/* One pass over a batch-1 input xs (geometry g): the map of the trick's
 * method (lrpx_session_attribute) into out, and its class into *cls. */
static lrpx_status
attr_once(lrpx_session *s, const struct lrpx_trick_options *to, const struct lrpx_lrp_options *lo,
          const struct geo *g, const float *xs, float *out, int64_t *cls)
{
    int64_t dims[4] = {1, g->nhwc ? g->h : g->c, g->nhwc ? g->w : g->h, g->nhwc ? g->c : g->w};
    int64_t n       = g->c * g->h * g->w;
    lrpx_status rc  = lrpx_session_set_input(s, to->input_name, LRPX_DTYPE_FLOAT32, 4, dims, xs);
    if (rc != LRPX_OK)
        return rc;
    struct lrpx_attr_options ao;
    if (to->attr)
        ao = *to->attr;
    else
        lrpx_attr_options_default(&ao);
    ao.method     = to->method;
    ao.input_name = to->input_name;
    ao.lrp        = *lo;
    if ((rc = lrpx_session_attribute(s, &ao)) != LRPX_OK)
        return rc;
    lrpx_tensor_view v;
    lrpx_attr_report rep;
    if (lrpx_session_attribution(s, &v) != LRPX_OK ||
        lrpx_session_attribution_report(s, 0, &rep) != LRPX_OK)
        return lrpx__error(&s->err, LRPX_EINVAL, "no map reached the input");
    if (v.n_elems != n || v.dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(&s->err, LRPX_ESHAPE, "the map has %lld values, the input %lld",
                           (long long)v.n_elems, (long long)n);
    memcpy(out, v.data, (size_t)n * sizeof *out);
    *cls = rep.cls;
    lrpx__progress_step(s);
    return LRPX_OK;
}

static int64_t
clampi(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The translation average of one batch-1 sample x (geometry g) into out.
 * *lo may be switched from PREDICTED to TARGET after the first pass; work
 * holds 2n floats + n doubles. */
static lrpx_status
translate_one(lrpx_session *s, const struct lrpx_trick_options *to,
              struct lrpx_lrp_options *lo, const struct geo *g, const float *x, float *out,
              float *xs, float *map, double *acc)
{
    int     k = to->translate;
    int64_t n = g->c * g->h * g->w;
    memset(acc, 0, (size_t)n * sizeof *acc);
    for (int pass = 0; pass < (2 * k + 1) * (2 * k + 1); pass++) {
        /* (0, 0) first: it fixes the class for the other shifts */
        int idx = pass == 0 ? 0 : pass <= (2 * k + 1) * k + k ? pass - 1 : pass;
        int dy  = pass == 0 ? 0 : idx / (2 * k + 1) - k;
        int dx  = pass == 0 ? 0 : idx % (2 * k + 1) - k;
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t y = 0; y < g->h; y++)
                for (int64_t xx = 0; xx < g->w; xx++) {
                    int64_t sy = y - dy, sx = xx - dx;
                    float   v;
                    if (sy >= 0 && sy < g->h && sx >= 0 && sx < g->w)
                        v = x[at(g, c, sy, sx)];
                    else if (to->pad == LRPX_SHIFT_PAD_ZERO)
                        v = 0.0f;
                    else
                        v = x[at(g, c, clampi(sy, 0, g->h - 1), clampi(sx, 0, g->w - 1))];
                    xs[at(g, c, y, xx)] = v;
                }
        int64_t     cls;
        lrpx_status rc = attr_once(s, to, lo, g, xs, map, &cls);
        if (rc != LRPX_OK)
            return rc;
        if (pass == 0 && lo->seed == LRPX_SEED_PREDICTED && k > 0) {
            if (cls < 0)
                return lrpx__error(&s->err, LRPX_EINVAL, "no class was explained");
            lo->seed   = LRPX_SEED_TARGET;
            lo->target = cls;
        }
        /* shift back: R(y, x) = R'(y + dy, x + dx) where that is inside */
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t y = 0; y < g->h; y++) {
                int64_t ty = y + dy;
                if (ty < 0 || ty >= g->h)
                    continue;
                for (int64_t xx = 0; xx < g->w; xx++) {
                    int64_t tx = xx + dx;
                    if (tx >= 0 && tx < g->w)
                        acc[at(g, c, y, xx)] += map[at(g, c, ty, tx)];
                }
            }
    }
    /* shifts that kept (y, x) inside: independent per axis */
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t y = 0; y < g->h; y++) {
            int64_t ny = (y + k < g->h - 1 ? y + k : g->h - 1) - (y - k > 0 ? y - k : 0) + 1;
            for (int64_t xx = 0; xx < g->w; xx++) {
                int64_t nx = (xx + k < g->w - 1 ? xx + k : g->w - 1) - (xx - k > 0 ? xx - k : 0) + 1;
                out[at(g, c, y, xx)] = (float)(acc[at(g, c, y, xx)] / (double)(ny * nx));
            }
        }
    return LRPX_OK;
}

/* Passes per image of the translation trick (1 without it). */
static int64_t
shifts(const struct lrpx_trick_options *to)
{
    int64_t k = to->translate > 0 ? to->translate : 0;
    return (2 * k + 1) * (2 * k + 1);
}

/* Common checks; fills the per-sample geometry and the batch size. */
static lrpx_status
trick_check(lrpx_session *s, const lrpx_tensor_view *x, const struct lrpx_trick_options *to,
            const float *out, struct geo *g, int64_t *batch)
{
    if (!x || !to || !out || !x->data)
        return lrpx__error(&s->err, LRPX_EINVAL, "NULL argument");
    if (x->dtype != LRPX_DTYPE_FLOAT32 || x->rank != 4)
        return lrpx__error(&s->err, LRPX_EINVAL, "the tricks take a rank-4 float32 image "
                           "batch (got %s, rank %d)", lrpx_dtype_name(x->dtype), x->rank);
    if ((unsigned)to->method >= LRPX_ATTR_COUNT || (unsigned)to->pad >= LRPX_SHIFT_PAD_COUNT)
        return lrpx__error(&s->err, LRPX_EINVAL, "bad method or padding");
    if (to->translate < 0 || to->translate > LRPX_TRICK_MAX_TRANSLATE)
        return lrpx__error(&s->err, LRPX_EINVAL, "translate %d is out of range (0..%d)",
                           to->translate, LRPX_TRICK_MAX_TRANSLATE);
    g->nhwc = to->nhwc != 0;
    g->c    = g->nhwc ? x->dims[3] : x->dims[1];
    g->h    = g->nhwc ? x->dims[1] : x->dims[2];
    g->w    = g->nhwc ? x->dims[2] : x->dims[3];
    *batch  = x->dims[0];
    if (*batch < 1 || g->c < 1 || g->h < 1 || g->w < 1 || g->h > INT32_MAX || g->w > INT32_MAX)
        return lrpx__error(&s->err, LRPX_ESHAPE, "bad image batch shape");
    if (*batch * g->c * g->h * g->w != x->n_elems)
        return lrpx__error(&s->err, LRPX_EINVAL, "n_elems does not match the shape");
    return LRPX_OK;
}

/* Per-sample seed: a tensor seed covers the whole batch; slice it. */
static lrpx_status
sample_options(lrpx_session *s, const struct lrpx_lrp_options *lo, int64_t b, int64_t batch,
               struct lrpx_lrp_options *out)
{
    *out = *lo;
    if (lo->seed == LRPX_SEED_TENSOR && batch > 1) {
        if (!lo->seed_data || lo->seed_n_elems % batch)
            return lrpx__error(&s->err, LRPX_EINVAL, "the seed has %lld values, not a multiple "
                               "of the batch %lld", (long long)lo->seed_n_elems, (long long)batch);
        out->seed_n_elems = lo->seed_n_elems / batch;
        out->seed_data    = lo->seed_data + b * out->seed_n_elems;
    }
    return LRPX_OK;
}

lrpx_status
lrpx_session_explain_translated(lrpx_session *s, const lrpx_tensor_view *x,
                                const struct lrpx_lrp_options *lo,
                                const struct lrpx_trick_options *to, float *out)
{
    struct lrpx_lrp_options def;
    struct geo              g;
    int64_t                 batch;
    if (!s)
        return LRPX_EINVAL;
    if (!lo) {
        lrpx_lrp_options_default(&def);
        lo = &def;
    }
    lrpx_status rc = trick_check(s, x, to, out, &g, &batch);
    if (rc != LRPX_OK)
        return rc;
    int64_t n   = g.c * g.h * g.w;
    float  *xs  = lrpx__malloc((size_t)n * 2 * sizeof(float));
    double *acc = lrpx__malloc((size_t)n * sizeof(double));
    if (!xs || !acc) {
        lrpx__free(xs);
        lrpx__free(acc);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the translation trick");
    }
    lrpx__progress_begin(s, batch * shifts(to));
    for (int64_t b = 0; b < batch && rc == LRPX_OK; b++) {
        struct lrpx_lrp_options so;
        rc = sample_options(s, lo, b, batch, &so);
        if (rc == LRPX_OK)
            rc = translate_one(s, to, &so, &g, (const float *)x->data + b * n, out + b * n, xs,
                               xs + n, acc);
    }
    lrpx__free(xs);
    lrpx__free(acc);
    /* leave the session with the plain pass over x, for reports */
    if (rc == LRPX_OK && (batch > 1 || to->translate > 0)) {
        rc = lrpx_session_set_input(s, to->input_name, LRPX_DTYPE_FLOAT32, 4, x->dims, x->data);
        if (rc == LRPX_OK)
            rc = to->method == LRPX_ATTR_LRP ? lrpx_session_explain(s, lo)
                                             : lrpx_session_gradient(s, lo);
    }
    return rc;
}

/* Sum over windows of the explained output (forward passes only), for the
 * class of a PREDICTED seed. */
static lrpx_status
window_class(lrpx_session *s, const struct lrpx_trick_options *to,
             const struct lrpx_lrp_options *lo, const struct geo *g, const struct geo *wg,
             const float *x, float *xw, int nwy, int nwx, int64_t *cls)
{
    double *sum = NULL;
    int64_t n_cls = 0;
    lrpx_status rc = LRPX_OK;
    for (int wy = 0; wy < nwy && rc == LRPX_OK; wy++)
        for (int wx = 0; wx < nwx && rc == LRPX_OK; wx++) {
            int y0 = window_start(wy, (int)g->h, (int)wg->h, to->stride_y);
            int x0 = window_start(wx, (int)g->w, (int)wg->w, to->stride_x);
            for (int64_t c = 0; c < g->c; c++)
                for (int64_t y = 0; y < wg->h; y++)
                    for (int64_t xx = 0; xx < wg->w; xx++)
                        xw[at(wg, c, y, xx)] = x[at(g, c, y0 + y, x0 + xx)];
            int64_t dims[4] = {1, wg->nhwc ? wg->h : wg->c, wg->nhwc ? wg->w : wg->h,
                               wg->nhwc ? wg->c : wg->w};
            if ((rc = lrpx_session_set_input(s, to->input_name, LRPX_DTYPE_FLOAT32, 4, dims, xw)))
                break;
            int    v;
            float *seed = NULL;
            if ((rc = lrpx__exec_seed(s, lo, LRPX_PHASE_BACKWARD, &v, &seed)) != LRPX_OK)
                break;
            lrpx__free(seed);
            const struct lrpx_tensor *t = &s->plan.x.vals[v];
            if (!sum) {
                n_cls = t->n_elems;
                sum   = lrpx__calloc((size_t)(n_cls ? n_cls : 1), sizeof *sum);
                if (!sum)
                    rc = lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
            }
            for (int64_t k = 0; sum && k < n_cls && k < t->n_elems; k++)
                sum[k] += t->f32[k];
        }
    if (rc == LRPX_OK) {
        int64_t best = 0;
        for (int64_t k = 1; k < n_cls; k++)
            if (sum[k] > sum[best])
                best = k;
        *cls = best;
    }
    lrpx__free(sum);
    return rc;
}

lrpx_status
lrpx_session_explain_windows(lrpx_session *s, const lrpx_tensor_view *x,
                             const struct lrpx_lrp_options *lo,
                             const struct lrpx_trick_options *to, float *out)
{
    struct lrpx_lrp_options def;
    struct geo              g, wg;
    int64_t                 batch;
    if (!s)
        return LRPX_EINVAL;
    if (!lo) {
        lrpx_lrp_options_default(&def);
        lo = &def;
    }
    lrpx_status rc = trick_check(s, x, to, out, &g, &batch);
    if (rc != LRPX_OK)
        return rc;
    if (to->window_width < 1 || to->window_height < 1 || to->stride_x < 1 || to->stride_y < 1)
        return lrpx__error(&s->err, LRPX_EINVAL, "window %dx%d, stride %dx%d: all must be >= 1",
                           to->window_width, to->window_height, to->stride_x, to->stride_y);
    if (to->stride_x > to->window_width || to->stride_y > to->window_height)
        return lrpx__error(&s->err, LRPX_EINVAL, "stride %dx%d is larger than the window "
                           "%dx%d: pixels between windows would not be explained",
                           to->stride_x, to->stride_y, to->window_width, to->window_height);
    if (to->window_width > g.w || to->window_height > g.h)
        return lrpx__error(&s->err, LRPX_ESHAPE, "the window %dx%d is larger than the image "
                           "%lldx%lld", to->window_width, to->window_height, (long long)g.w,
                           (long long)g.h);
    wg   = g;
    wg.h = to->window_height;
    wg.w = to->window_width;
    int     nwy = lrpx_window_count((int)g.h, (int)wg.h, to->stride_y);
    int     nwx = lrpx_window_count((int)g.w, (int)wg.w, to->stride_x);
    int64_t n   = g.c * g.h * g.w, nw = wg.c * wg.h * wg.w;
    /* xw, map | translation: xs, map2 | acc (per window) | sum, count */
    float   *fb  = lrpx__malloc((size_t)nw * 4 * sizeof(float));
    double  *acc = lrpx__malloc((size_t)nw * sizeof(double));
    double  *sum = lrpx__malloc((size_t)n * sizeof(double));
    int32_t *cnt = lrpx__malloc((size_t)g.h * g.w * sizeof(int32_t));
    if (!fb || !acc || !sum || !cnt) {
        rc = lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the sliding window");
        goto done;
    }
    float *xw = fb, *map = fb + nw;
    lrpx__progress_begin(s, batch * nwy * nwx * shifts(to));
    for (int64_t b = 0; b < batch && rc == LRPX_OK; b++) {
        const float            *xb = (const float *)x->data + b * n;
        struct lrpx_lrp_options so;
        if ((rc = sample_options(s, lo, b, batch, &so)) != LRPX_OK)
            break;
        if (so.seed == LRPX_SEED_PREDICTED) {
            int64_t cls = 0;
            if ((rc = window_class(s, to, &so, &g, &wg, xb, xw, nwy, nwx, &cls)) != LRPX_OK)
                break;
            so.seed   = LRPX_SEED_TARGET;
            so.target = cls;
        }
        memset(sum, 0, (size_t)n * sizeof *sum);
        memset(cnt, 0, (size_t)g.h * g.w * sizeof *cnt);
        for (int wy = 0; wy < nwy && rc == LRPX_OK; wy++)
            for (int wx = 0; wx < nwx && rc == LRPX_OK; wx++) {
                int y0 = window_start(wy, (int)g.h, (int)wg.h, to->stride_y);
                int x0 = window_start(wx, (int)g.w, (int)wg.w, to->stride_x);
                for (int64_t c = 0; c < g.c; c++)
                    for (int64_t y = 0; y < wg.h; y++)
                        for (int64_t xx = 0; xx < wg.w; xx++)
                            xw[at(&wg, c, y, xx)] = xb[at(&g, c, y0 + y, x0 + xx)];
                if (to->translate > 0)
                    rc = translate_one(s, to, &so, &wg, xw, map, fb + 2 * nw, fb + 3 * nw, acc);
                else
                    rc = attr_once(s, to, &so, &wg, xw, map, &(int64_t){0});
                if (rc != LRPX_OK)
                    break;
                for (int64_t c = 0; c < g.c; c++)
                    for (int64_t y = 0; y < wg.h; y++)
                        for (int64_t xx = 0; xx < wg.w; xx++)
                            sum[at(&g, c, y0 + y, x0 + xx)] += map[at(&wg, c, y, xx)];
                for (int64_t y = 0; y < wg.h; y++)
                    for (int64_t xx = 0; xx < wg.w; xx++)
                        cnt[(y0 + y) * g.w + x0 + xx]++;
            }
        if (rc != LRPX_OK)
            break;
        float *ob = out + b * n;
        for (int64_t c = 0; c < g.c; c++)
            for (int64_t y = 0; y < g.h; y++)
                for (int64_t xx = 0; xx < g.w; xx++)
                    ob[at(&g, c, y, xx)] =
                        (float)(sum[at(&g, c, y, xx)] / (double)cnt[y * g.w + xx]);
    }
done:
    lrpx__free(fb);
    lrpx__free(acc);
    lrpx__free(sum);
    lrpx__free(cnt);
    return rc;
}
