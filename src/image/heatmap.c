/* Relevance maps to pictures: channel reduction, normalisation, colour
 * lookup, overlay.
 *
 * Normalisation (as in the LRP toolbox's heatmaps and Zennit's imgify with
 * symmetric=True): SYMMETRIC divides by v, the chosen percentile of |R|
 * (max |R| by default), clips to [-1, 1], optionally applies
 * sign(x)|x|^gamma, and looks the colour up at u = (x + 1) / 2, so R = 0
 * always gets the colour map's centre. MINMAX maps [lo, hi] (percentiles
 * 100-p and p of R) to [0, 1]. Percentiles interpolate linearly between
 * order statistics, like numpy.percentile's default.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_impl.h"

void
lrpx_heatmap_options_default(struct lrpx_heatmap_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->cmap       = NULL;
    opts->norm       = LRPX_HEAT_NORM_SYMMETRIC;
    opts->percentile = 100.0;
    opts->vmax       = 0.0;
    opts->gamma      = 1.0;
}

/* ---- channel reduction ---- */

lrpx_status
lrpx_heatmap_reduce(const lrpx_tensor_view *rel, lrpx_layout layout, lrpx_heat_reduce how,
                    lrpx_image **out, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!rel || !rel->data)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL relevance"), &err, errbuf,
                         errlen);
    if (rel->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EUNSUPPORTED, "relevance must be float32, not "
                                     "%s", lrpx_dtype_name(rel->dtype)), &err, errbuf, errlen);
    if ((unsigned)how >= LRPX_HEAT_REDUCE_COUNT || (unsigned)layout >= LRPX_LAYOUT_COUNT)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "bad reduction or layout"), &err,
                         errbuf, errlen);
    bool    nhwc = layout == LRPX_LAYOUT_NHWC;
    int64_t c, h, w;
    char    shape[96];
    lrpx__dims_str(rel->dims, rel->rank >= 0 && rel->rank <= LRPX_MAX_RANK ? rel->rank : 0,
                   shape, sizeof shape);
    const int64_t *d = rel->dims;
    if (rel->rank == 2) {
        c = 1, h = d[0], w = d[1];
    } else if (rel->rank == 3) {
        c = nhwc ? d[2] : d[0];
        h = nhwc ? d[0] : d[1];
        w = nhwc ? d[1] : d[2];
    } else if (rel->rank == 4 && d[0] == 1) {
        c = nhwc ? d[3] : d[1];
        h = nhwc ? d[1] : d[2];
        w = nhwc ? d[2] : d[3];
    } else {
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ESHAPE, "relevance %s: expected HxW, CxHxW, "
                                     "HxWxC or 1xCxHxW/1xHxWxC", shape), &err, errbuf, errlen);
    }
    if (c < 1 || h < 1 || w < 1 || h > INT32_MAX || w > INT32_MAX || c * h * w != rel->n_elems)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ESHAPE, "relevance %s: bad dimensions "
                                     "(%lld elements)", shape, (long long)rel->n_elems),
                         &err, errbuf, errlen);
    lrpx_image *map;
    lrpx_status rc = lrpx__image_new((int)w, (int)h, 1, &map, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    map->bit_depth  = 32;
    const float *r  = rel->data;
    size_t       hw = (size_t)h * w;
    for (size_t i = 0; i < hw; i++) {
        double acc = 0.0;
        for (int64_t k = 0; k < c; k++) {
            double v = nhwc ? r[i * c + k] : r[(size_t)k * hw + i];
            acc += how == LRPX_HEAT_REDUCE_L2 ? v * v : v;
        }
        map->data[i] = (float)(how == LRPX_HEAT_REDUCE_L2 ? sqrt(acc) : acc);
    }
    *out = map;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}

/* ---- normalisation ---- */

static int
heat_cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile of the finite values of v (|v| if absolute), linear
 * between order statistics. 0 when there are none. */
static lrpx_status
heat_percentile(const float *v, size_t n, bool absolute, double p, double *out,
                struct lrpx_err *err)
{
    *out = 0.0;
    size_t m = 0;
    if (p >= 100.0 || p <= 0.0) {
        bool   any  = false;
        double best = 0.0;
        for (size_t i = 0; i < n; i++) {
            double x = absolute ? fabs(v[i]) : v[i];
            if (!isfinite(x))
                continue;
            if (!any || (p >= 100.0 ? x > best : x < best))
                best = x;
            any = true;
        }
        *out = best;
        return LRPX_OK;
    }
    float *s = lrpx__malloc(sizeof(float) * (n ? n : 1));
    if (!s)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for a percentile");
    for (size_t i = 0; i < n; i++) {
        float x = absolute ? fabsf(v[i]) : v[i];
        if (isfinite(x))
            s[m++] = x;
    }
    if (m > 0) {
        qsort(s, m, sizeof *s, heat_cmp);
        double pos  = p / 100.0 * (double)(m - 1);
        size_t lo   = (size_t)floor(pos);
        size_t hi   = lo + 1 < m ? lo + 1 : lo;
        double frac = pos - (double)lo;
        *out = s[lo] + (s[hi] - (double)s[lo]) * frac;
    }
    lrpx__free(s);
    return LRPX_OK;
}

static lrpx_status
heat_check(const lrpx_image *map, const struct lrpx_heatmap_options *o, struct lrpx_err *err)
{
    if (!map || !map->data)
        return lrpx__error(err, LRPX_EINVAL, "NULL map");
    if (map->channels != 1)
        return lrpx__error(err, LRPX_EINVAL, "heatmaps need a 1-channel map (have %d; use "
                           "lrpx_heatmap_reduce)", map->channels);
    if ((unsigned)o->norm >= LRPX_HEAT_NORM_COUNT)
        return lrpx__error(err, LRPX_EINVAL, "bad normalisation %d", (int)o->norm);
    if (!(o->percentile > 0.0 && o->percentile <= 100.0))
        return lrpx__error(err, LRPX_EINVAL, "percentile %g is not in (0, 100]", o->percentile);
    if (!(o->gamma > 0.0) || !isfinite(o->gamma))
        return lrpx__error(err, LRPX_EINVAL, "gamma %g must be positive", o->gamma);
    if (!(o->vmax >= 0.0) || !isfinite(o->vmax))
        return lrpx__error(err, LRPX_EINVAL, "vmax %g", o->vmax);
    return LRPX_OK;
}

static lrpx_status
heat_bounds(const lrpx_image *map, const struct lrpx_heatmap_options *o, double *lo,
            double *hi, struct lrpx_err *err)
{
    size_t      n = (size_t)map->width * map->height;
    lrpx_status rc;
    if (o->norm == LRPX_HEAT_NORM_SYMMETRIC) {
        double v = o->vmax;
        if (v <= 0.0 && (rc = heat_percentile(map->data, n, true, o->percentile, &v, err)))
            return rc;
        *lo = -v;
        *hi = v;
        return LRPX_OK;
    }
    if (o->vmax > 0.0) {
        *lo = -o->vmax;
        *hi = o->vmax;
        return LRPX_OK;
    }
    if ((rc = heat_percentile(map->data, n, false, 100.0 - o->percentile, lo, err)) ||
        (rc = heat_percentile(map->data, n, false, o->percentile, hi, err)))
        return rc;
    return LRPX_OK;
}

lrpx_status
lrpx_heatmap_scale(const lrpx_image *map, const struct lrpx_heatmap_options *opts, double *lo,
                   double *hi, char *errbuf, size_t errlen)
{
    struct lrpx_err             err;
    struct lrpx_heatmap_options d;
    lrpx__error_clear(&err);
    if (!opts) {
        lrpx_heatmap_options_default(&d);
        opts = &d;
    }
    lrpx_status rc = heat_check(map, opts, &err);
    double      l = 0.0, h = 0.0;
    if (rc == LRPX_OK)
        rc = heat_bounds(map, opts, &l, &h, &err);
    if (rc == LRPX_OK) {
        if (lo)
            *lo = l;
        if (hi)
            *hi = h;
    }
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

static uint8_t
heat_u8(double c)
{
    double v = floor(c * 255.0 + 0.5);
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

lrpx_status
lrpx_heatmap_render(const lrpx_image *map, const struct lrpx_heatmap_options *opts,
                    lrpx_pixmap **out, char *errbuf, size_t errlen)
{
    struct lrpx_err             err;
    struct lrpx_heatmap_options d;
    lrpx__error_clear(&err);
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!opts) {
        lrpx_heatmap_options_default(&d);
        opts = &d;
    }
    double      lo = 0.0, hi = 0.0;
    lrpx_status rc = heat_check(map, opts, &err);
    if (rc == LRPX_OK)
        rc = heat_bounds(map, opts, &lo, &hi, &err);
    lrpx_pixmap *pm = NULL;
    if (rc == LRPX_OK)
        rc = lrpx__pixmap_new(map->width, map->height, 3, &pm, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);

    const lrpx_colormap *cm  = opts->cmap ? opts->cmap : lrpx_colormap_builtin("bwr");
    bool                 sym = opts->norm == LRPX_HEAT_NORM_SYMMETRIC;
    double               g   = opts->gamma;
    size_t               n   = (size_t)map->width * map->height;
    for (size_t i = 0; i < n; i++) {
        double r = map->data[i], u;
        if (isnan(r)) {
            u = 0.5;
        } else if (sym) {
            /* all-zero maps (hi == 0) land on the centre */
            double x = hi > 0.0 ? r / hi : 0.0;
            x = x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
            if (g != 1.0)
                x = x < 0.0 ? -pow(-x, g) : pow(x, g);
            u = (x + 1.0) * 0.5;
        } else {
            double x = hi > lo ? (r - lo) / (hi - lo) : 0.5;
            x = x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
            if (g != 1.0)
                x = pow(x, g);
            u = x;
        }
        double rgb[3];
        lrpx_colormap_eval(cm, u, rgb);
        for (int c = 0; c < 3; c++)
            pm->data[i * 3 + c] = heat_u8(rgb[c]);
    }
    *out = pm;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}

/* ---- overlay ---- */

lrpx_status
lrpx_pixmap_overlay(const lrpx_pixmap *base, const lrpx_pixmap *heat, double alpha,
                    lrpx_pixmap **out, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!base || !heat || !base->data || !heat->data)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL pixmap"), &err, errbuf, errlen);
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "alpha %g is not in [0, 1]", alpha),
                         &err, errbuf, errlen);
    if (base->width != heat->width || base->height != heat->height)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ESHAPE, "overlay of %dx%d on %dx%d: sizes "
                                     "differ", heat->width, heat->height, base->width,
                                     base->height), &err, errbuf, errlen);
    lrpx_pixmap *pm;
    lrpx_status  rc = lrpx__pixmap_new(base->width, base->height, 3, &pm, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    size_t n  = (size_t)base->width * base->height;
    int    cb = base->channels, ch = heat->channels;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            double b = base->data[i * cb + (cb == 3 ? c : 0)];
            double h = heat->data[i * ch + (ch == 3 ? c : 0)];
            pm->data[i * 3 + c] = heat_u8(((1.0 - alpha) * b + alpha * h) / 255.0);
        }
    *out = pm;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}
