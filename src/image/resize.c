/* Image resampling, matching PIL's Image.resize.
 *
 * Bilinear (PIL BILINEAR, the default of torchvision's Resize on PIL
 * images) is a separable convolution with the triangle filter
 * tri(t) = max(0, 1 - |t|). Output sample i of an axis sits at source
 * coordinate c = (i + 0.5) * s with s = n_in / n_out. When shrinking
 * (s > 1) with antialias on, the filter is stretched by s, so every source
 * pixel under the output pixel contributes: weight of source j is
 * tri((j + 0.5 - c) / f) with f = max(s, 1), taps j from round(c - f) to
 * round(c + f) clipped to the image, weights normalised to sum 1. Rows are
 * resampled first (horizontal pass), then columns.
 *
 * PIL computes 8-bit images in fixed point: weights are rounded to
 * multiples of 2^-22, sums are rounded half up and clamped to 0..255 after
 * each pass. With quantize set we do exactly that and reproduce PIL bit for
 * bit; without it both passes stay in float.
 *
 * Nearest (PIL NEAREST) takes source floor(c) with c accumulated as PIL
 * does (c starts at s/2 and grows by s), so rounding of c agrees as well.
 */
#include <math.h>
#include <string.h>

#include "image/image_impl.h"

#define FIXED_BITS 22                 /* PIL's PRECISION_BITS for 8-bit images */

/* Taps of one axis: output i reads n[i] source samples from lo[i] on, with
 * weights w[i*ksize ..] (and their fixed-point copies wq). */
struct resize_axis {
    int      n_out;
    int      ksize;
    int     *lo;
    int     *n;
    double  *w;
    int32_t *wq;
};

static void
axis_free(struct resize_axis *a)
{
    LRPX_FREE(a->lo);
    LRPX_FREE(a->n);
    LRPX_FREE(a->w);
    LRPX_FREE(a->wq);
}

static double
resize_triangle(double t)
{
    if (t < 0.0)
        t = -t;
    return t < 1.0 ? 1.0 - t : 0.0;
}

static lrpx_status
axis_bilinear(struct resize_axis *a, int n_in, int n_out, bool antialias, struct lrpx_err *err)
{
    memset(a, 0, sizeof *a);
    double scale   = (double)n_in / n_out;
    double fscale  = antialias && scale > 1.0 ? scale : 1.0;
    double support = fscale;            /* the triangle's radius is 1 */
    double inv     = 1.0 / fscale;
    int    ksize   = (int)ceil(support) * 2 + 1;
    size_t nw;
    if (!lrpx__mul_size((size_t)ksize, (size_t)n_out, &nw))
        return lrpx__error(err, LRPX_ELIMIT, "resize %d -> %d: too many filter taps", n_in, n_out);
    a->n_out = n_out;
    a->ksize = ksize;
    a->lo    = lrpx__malloc(sizeof(int) * (size_t)n_out);
    a->n     = lrpx__malloc(sizeof(int) * (size_t)n_out);
    a->w     = lrpx__calloc(nw, sizeof(double));
    a->wq    = lrpx__calloc(nw, sizeof(int32_t));
    if (!a->lo || !a->n || !a->w || !a->wq) {
        axis_free(a);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for resize weights");
    }
    for (int i = 0; i < n_out; i++) {
        double centre = (i + 0.5) * scale;
        int    lo     = (int)(centre - support + 0.5);
        int    hi     = (int)(centre + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > n_in)
            hi = n_in;
        int cnt = hi - lo;
        if (cnt > ksize)
            cnt = ksize;
        if (cnt < 1) {                    /* cannot happen for n_in >= 1; be safe */
            lo  = centre < n_in ? (int)centre : n_in - 1;
            cnt = 1;
        }
        double *w   = a->w + (size_t)i * ksize;
        double  sum = 0.0;
        for (int k = 0; k < cnt; k++) {
            w[k] = resize_triangle((lo + k - centre + 0.5) * inv);
            sum += w[k];
        }
        if (sum == 0.0) {                 /* degenerate: fall back to the nearest tap */
            w[0] = 1.0;
            sum  = 1.0;
        }
        for (int k = 0; k < cnt; k++) {
            w[k] /= sum;
            double q = w[k] * (double)(1 << FIXED_BITS);
            a->wq[(size_t)i * ksize + k] = (int32_t)(q < 0.0 ? q - 0.5 : q + 0.5);
        }
        a->lo[i] = lo;
        a->n[i]  = cnt;
    }
    return LRPX_OK;
}

static float
resize_fixed(int64_t acc)
{
    acc >>= FIXED_BITS;
    return (float)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
}

/* One pass along x (horizontal) over rows [y0, y0 + n_rows) of in. */
static void
pass_horizontal(const lrpx_image *in, int y0, const struct resize_axis *a, bool quantize,
                lrpx_image *out)
{
    int c = in->channels;
    for (int y = 0; y < out->height; y++) {
        const float *src = in->data + (size_t)(y + y0) * in->width * c;
        float       *dst = out->data + (size_t)y * out->width * c;
        for (int x = 0; x < a->n_out; x++) {
            const float *s  = src + (size_t)a->lo[x] * c;
            size_t       wi = (size_t)x * a->ksize;
            for (int ch = 0; ch < c; ch++) {
                if (quantize) {
                    int64_t acc = (int64_t)1 << (FIXED_BITS - 1);
                    for (int k = 0; k < a->n[x]; k++)
                        acc += (int64_t)(int)s[(size_t)k * c + ch] * a->wq[wi + k];
                    dst[(size_t)x * c + ch] = resize_fixed(acc);
                } else {
                    double acc = 0.0;
                    for (int k = 0; k < a->n[x]; k++)
                        acc += s[(size_t)k * c + ch] * a->w[wi + k];
                    dst[(size_t)x * c + ch] = (float)acc;
                }
            }
        }
    }
}

/* One pass along y (vertical); source row lo is row lo - y0 of in. */
static void
pass_vertical(const lrpx_image *in, int y0, const struct resize_axis *a, bool quantize,
              lrpx_image *out)
{
    int    c      = in->channels;
    size_t stride = (size_t)in->width * c;
    for (int y = 0; y < a->n_out; y++) {
        const float *src = in->data + (size_t)(a->lo[y] - y0) * stride;
        float       *dst = out->data + (size_t)y * stride;
        size_t       wi  = (size_t)y * a->ksize;
        for (size_t i = 0; i < stride; i++) {
            if (quantize) {
                int64_t acc = (int64_t)1 << (FIXED_BITS - 1);
                for (int k = 0; k < a->n[y]; k++)
                    acc += (int64_t)(int)src[(size_t)k * stride + i] * a->wq[wi + k];
                dst[i] = resize_fixed(acc);
            } else {
                double acc = 0.0;
                for (int k = 0; k < a->n[y]; k++)
                    acc += src[(size_t)k * stride + i] * a->w[wi + k];
                dst[i] = (float)acc;
            }
        }
    }
}

static lrpx_status
resize_bilinear(const lrpx_image *in, int width, int height, bool antialias, bool quantize,
                lrpx_image *out, struct lrpx_err *err)
{
    bool need_h = width != in->width, need_v = height != in->height;
    struct resize_axis ax = {0}, ay = {0};
    lrpx_image        *tmp = NULL;
    lrpx_status        rc;

    if (need_v && (rc = axis_bilinear(&ay, in->height, height, antialias, err)) != LRPX_OK)
        return rc;
    /* rows the vertical pass will read (all of them without one) */
    int y0 = 0, y1 = in->height;
    if (need_v) {
        y0 = ay.lo[0];
        y1 = ay.lo[height - 1] + ay.n[height - 1];
    }
    const lrpx_image *src = in;
    if (need_h) {
        if ((rc = axis_bilinear(&ax, in->width, width, antialias, err)) != LRPX_OK)
            goto done;
        if (need_v) {
            if ((rc = lrpx__image_new(width, y1 - y0, in->channels, &tmp, err)) != LRPX_OK)
                goto done;
            pass_horizontal(in, y0, &ax, quantize, tmp);
            src = tmp;
            /* tmp row 0 is source row y0 */
        } else {
            pass_horizontal(in, 0, &ax, quantize, out);
        }
    }
    if (need_v)
        pass_vertical(src, src == tmp ? y0 : 0, &ay, quantize, out);
    if (!need_h && !need_v)
        memcpy(out->data, in->data, sizeof(float) * (size_t)width * height * in->channels);
    rc = LRPX_OK;
done:
    axis_free(&ax);
    axis_free(&ay);
    lrpx_image_free(tmp);
    return rc;
}

static lrpx_status
nearest_table(int n_in, int n_out, int **out, struct lrpx_err *err)
{
    int *t = lrpx__malloc(sizeof(int) * (size_t)n_out);
    if (!t)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for resize table");
    double scale = (double)n_in / n_out;
    double pos   = scale * 0.5;
    for (int i = 0; i < n_out; i++) {
        int j = (int)pos;
        t[i]  = j < 0 ? 0 : j >= n_in ? n_in - 1 : j;
        pos += scale;
    }
    *out = t;
    return LRPX_OK;
}

static lrpx_status
resize_nearest(const lrpx_image *in, lrpx_image *out, struct lrpx_err *err)
{
    int        *tx = NULL, *ty = NULL;
    lrpx_status rc = nearest_table(in->width, out->width, &tx, err);
    if (rc == LRPX_OK)
        rc = nearest_table(in->height, out->height, &ty, err);
    if (rc == LRPX_OK) {
        int c = in->channels;
        for (int y = 0; y < out->height; y++)
            for (int x = 0; x < out->width; x++)
                memcpy(out->data + ((size_t)y * out->width + x) * c,
                       in->data + ((size_t)ty[y] * in->width + tx[x]) * c,
                       sizeof(float) * (size_t)c);
    }
    lrpx__free(tx);
    lrpx__free(ty);
    return rc;
}

lrpx_status
lrpx__resample(const lrpx_image *in, int width, int height, lrpx_interp interp, int antialias,
               int quantize, lrpx_image **out, struct lrpx_err *err)
{
    *out = NULL;
    if (width < 1 || height < 1)
        return lrpx__error(err, LRPX_EINVAL, "resize to %dx%d", width, height);
    lrpx_image *img;
    lrpx_status rc = lrpx__image_new(width, height, in->channels, &img, err);
    if (rc != LRPX_OK)
        return rc;
    if (interp == LRPX_INTERP_NEAREST)
        rc = resize_nearest(in, img, err);
    else
        rc = resize_bilinear(in, width, height, antialias != 0, quantize != 0, img, err);
    if (rc != LRPX_OK) {
        lrpx_image_free(img);
        return rc;
    }
    img->bit_depth   = in->bit_depth;
    img->file_width  = in->file_width;
    img->file_height = in->file_height;
    img->orientation = in->orientation;
    memcpy(img->format, in->format, sizeof img->format);
    *out = img;
    return LRPX_OK;
}

lrpx_status
lrpx_image_resize(const lrpx_image *img, int width, int height, lrpx_interp interp,
                  int antialias, lrpx_image **out, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc;
    if (!out)
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL output");
    else if (!img || !img->data)
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL image");
    else if ((unsigned)interp >= LRPX_INTERP_COUNT)
        rc = lrpx__error(&err, LRPX_EINVAL, "unknown interpolation %d", (int)interp);
    else
        rc = lrpx__resample(img, width, height, interp, antialias, 0, out, &err);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}
