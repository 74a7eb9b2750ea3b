/* Metrics of one map, or of two maps against each other: the map
 * preprocessing, relevance mass, cosine, Spearman and SSIM similarity
 * (../shared/specs/quantus-metrics.md sections 1 and 8; Quantus's
 * similarity functions). See eval.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/metrics.h"

void
lrpx__check_normalise_abs(float *a, int64_t n, bool normalise, bool abs)
{
    if (normalise) {
        float m = 0.0f;
        for (int64_t i = 0; i < n; i++)
            m = fmaxf(m, fabsf(a[i]));
        if (m > 0.0f)
            for (int64_t i = 0; i < n; i++)
                a[i] /= m;
    }
    if (abs)
        for (int64_t i = 0; i < n; i++)
            a[i] = fabsf(a[i]);
}

double
lrpx__check_relevance_mass(const float *a, const uint8_t *s, int64_t n)
{
    double in = 0.0, all = 0.0;
    bool   any = false;
    for (int64_t i = 0; i < n; i++) {
        all += a[i];
        if (s[i]) {
            in += a[i];
            any = true;
        }
    }
    return any ? in / all : NAN;
}

double
lrpx__check_cosine(const float *a, const float *b, int64_t n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0.0 && bb > 0.0 ? ab / (sqrt(aa) * sqrt(bb)) : NAN;
}

/* ---- Spearman ---- */

struct keyed {
    double  v;
    int64_t i;
};

static int
by_value(const void *pa, const void *pb)
{
    const struct keyed *p = pa, *q = pb;
    return p->v < q->v ? -1 : p->v > q->v ? 1 : (p->i > q->i) - (p->i < q->i);
}

/* Ranks 1..n of v into r, ties their average (scipy's rankdata 'average');
 * k is scratch for n entries. */
static void
rank_average(const float *v, int64_t n, struct keyed *k, double *r)
{
    for (int64_t i = 0; i < n; i++)
        k[i] = (struct keyed){v[i], i};
    qsort(k, (size_t)n, sizeof *k, by_value);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && k[j + 1].v == k[i].v)
            j++;
        double avg = 0.5 * (double)(i + j) + 1.0;     /* ranks i+1 .. j+1 */
        for (int64_t t = i; t <= j; t++)
            r[k[t].i] = avg;
        i = j + 1;
    }
}

lrpx_status
lrpx__check_spearman(const float *a, const float *b, int64_t n, double *out)
{
    *out = NAN;
    if (n < 2)
        return LRPX_OK;
    double       *r   = lrpx__malloc((size_t)n * 2 * sizeof *r);
    struct keyed *idx = lrpx__malloc((size_t)n * sizeof *idx);
    if (!r || !idx) {
        lrpx__free(r);
        lrpx__free(idx);
        return LRPX_ENOMEM;
    }
    rank_average(a, n, idx, r);
    rank_average(b, n, idx, r + n);
    /* both rank vectors have mean (n + 1) / 2 */
    double mean = 0.5 * (double)(n + 1), sab = 0.0, saa = 0.0, sbb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double da = r[i] - mean, db = r[n + i] - mean;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa > 0.0 && sbb > 0.0)
        *out = sab / sqrt(saa * sbb);
    lrpx__free(r);
    lrpx__free(idx);
    return LRPX_OK;
}

/* ---- SSIM ---- */

#define SSIM_WIN 7

/* Mean SSIM of one h x w plane pair over the positions whose 7 x 7 window
 * lies inside (skimage crops (7 - 1) / 2 pixels at each border, where its
 * reflected filter would read outside). */
static double
ssim_plane(const float *a, const float *b, int64_t h, int64_t w, double range)
{
    const double np_ = SSIM_WIN * SSIM_WIN, cov = np_ / (np_ - 1.0);
    const double c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
    double       total = 0.0;
    int64_t      count = 0;
    for (int64_t y = 0; y + SSIM_WIN <= h; y++)
        for (int64_t x = 0; x + SSIM_WIN <= w; x++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int64_t u = 0; u < SSIM_WIN; u++)
                for (int64_t v = 0; v < SSIM_WIN; v++) {
                    double p = a[(y + u) * w + x + v], q = b[(y + u) * w + x + v];
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            double ux = sa / np_, uy = sb / np_;
            double vx = cov * (saa / np_ - ux * ux), vy = cov * (sbb / np_ - uy * uy);
            double vxy = cov * (sab / np_ - ux * uy);
            total += ((2 * ux * uy + c1) * (2 * vxy + c2)) /
                     ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            count++;
        }
    return total / (double)count;
}

lrpx_status
lrpx__check_ssim(const float *a, const float *b, int64_t c, int64_t h, int64_t w, double *out)
{
    *out = NAN;
    if (c < 1 || h < SSIM_WIN || w < SSIM_WIN)
        return LRPX_EINVAL;
    int64_t n  = c * h * w;
    float   lo = a[0], hi = a[0];
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, fminf(a[i], b[i]));
        hi = fmaxf(hi, fmaxf(a[i], b[i]));
    }
    double range = fabs((double)hi - (double)lo), sum = 0.0;
    for (int64_t k = 0; k < c; k++)
        sum += ssim_plane(a + k * h * w, b + k * h * w, h, w, range);
    *out = sum / (double)c;
    return LRPX_OK;
}
