/* Similarity of two maps (Spearman, SSIM, cosine), the AOPC with its k = 0
 * term: used by model-randomisation and random-logit here, and by lrpx
 * check's explanation and randomisation assertions. See eval.h. */
#include <math.h>

#include "eval/eval.h"
#include "eval/eval_impl.h"

double
lrpx__eval_cosine(const float *a, const float *b, int64_t n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0.0 && bb > 0.0 ? ab / (sqrt(aa) * sqrt(bb)) : NAN;
}

/* ranks 1..n, ties averaged (scipy.stats.rankdata) */
static void
ranks(const float *v, const int64_t *idx, int64_t n, double *r)
{
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        double avg = (double)(i + j) / 2.0 + 1.0;
        for (int64_t k = i; k <= j; k++)
            r[idx[k]] = avg;
        i = j + 1;
    }
}

lrpx_status
lrpx__eval_spearman(const float *a, const float *b, int64_t n, double *out)
{
    *out = NAN;
    if (n < 2)
        return LRPX_OK;
    double  *r   = lrpx__malloc((size_t)n * 2 * sizeof *r);
    int64_t *idx = lrpx__malloc((size_t)n * sizeof *idx);
    lrpx_status rc = r && idx ? LRPX_OK : LRPX_ENOMEM;
    if (rc == LRPX_OK && (rc = eval_argsort(a, n, false, idx)) == LRPX_OK)
        ranks(a, idx, n, r);
    if (rc == LRPX_OK && (rc = eval_argsort(b, n, false, idx)) == LRPX_OK)
        ranks(b, idx, n, r + n);
    if (rc == LRPX_OK) {
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
    }
    lrpx__free(r);
    lrpx__free(idx);
    return rc;
}

#define SSIM_WIN 7

/* Mean SSIM of one h x w plane pair over the positions whose wh x ww
 * window lies inside (skimage crops (7 - 1) / 2 at each border, where its
 * reflected filter would read outside). */
static double
ssim_plane(const float *a, const float *b, int64_t h, int64_t w, int64_t wh, int64_t ww,
           double range)
{
    const double np_ = (double)(wh * ww), cov = np_ / (np_ - 1.0);
    const double c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
    double       total = 0.0;
    int64_t      count = 0;
    for (int64_t y = 0; y + wh <= h; y++)
        for (int64_t x = 0; x + ww <= w; x++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int64_t u = 0; u < wh; u++)
                for (int64_t v = 0; v < ww; v++) {
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
lrpx__eval_ssim(const float *a, const float *b, int64_t c, int64_t h, int64_t w, double *out)
{
    *out = NAN;
    if (c < 1 || w < SSIM_WIN || h < 1 || (h > 1 && h < SSIM_WIN))
        return LRPX_EINVAL;
    int64_t n  = c * h * w;
    float   lo = a[0], hi = a[0];
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, fminf(a[i], b[i]));
        hi = fmaxf(hi, fmaxf(a[i], b[i]));
    }
    double range = fabs((double)hi - (double)lo), sum = 0.0;
    for (int64_t k = 0; k < c; k++)
        sum += ssim_plane(a + k * h * w, b + k * h * w, h, w, h > 1 ? SSIM_WIN : 1, SSIM_WIN,
                          range);
    *out = sum / (double)c;
    return LRPX_OK;
}

double
lrpx__eval_aopc0(const double *curve, int64_t n)
{
    if (n < 1)
        return NAN;
    double s = 0.0;
    for (int64_t k = 0; k < n; k++)
        s += curve[k];
    return s / (double)(n + 1);
}
