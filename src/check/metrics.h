/* The few explanation metrics `lrpx check` needs, as plain computations on
 * float arrays (no model, no session): the definitions of Quantus 0.6.0 as
 * ../shared/specs/quantus-metrics.md states them (section numbers below).
 *
 * This is a stop-gap with a narrow interface: the metrics library of
 * `lrpx eval` (issue 8) will compute the same quantities, and when it lands
 * each function here should become a call into it. Nothing here knows about
 * assertions or thresholds (src/check/ does that).
 *
 * Layout: one sample at a time. A map `a` and an input `x` are C x H x W in
 * C order (rank-2 and rank-1 samples are 1 x H x W and 1 x 1 x W). Sums are
 * accumulated in double; Quantus sums in float32 (numpy pairwise), so
 * results differ from its in about the 7th digit.
 */
#ifndef LRPX_CHECK_METRICS_H
#define LRPX_CHECK_METRICS_H

#include "lrpx_internal.h"

/* ---- map preprocessing (spec section 1, item 4) ---- */

/* In place: normalise (a /= max|a| over the n values; nothing when all are
 * 0), then abs (a = |a|), each only when asked. */
void   lrpx__check_normalise_abs(float *a, int64_t n, bool normalise, bool abs);

/* ---- localisation ---- */

/* RelevanceMassAccuracy (section 8): sum(a * [s]) / sum(a) over n values,
 * s nonzero = inside. NaN for an empty mask; +-inf or NaN for a zero
 * total. */
double lrpx__check_relevance_mass(const float *a, const uint8_t *s, int64_t n);

/* ---- similarity of two maps ---- */

/* Cosine similarity a.b / (|a| |b|); NaN when either is all zero. (Quantus's
 * `cosine` similarity_func is the distance, 1 minus this.) */
double lrpx__check_cosine(const float *a, const float *b, int64_t n);
/* Spearman rank correlation (scipy.stats.spearmanr): the Pearson
 * correlation of the ranks, ties given their average rank; NaN when either
 * map is constant. Allocates 3n doubles and n int64s; LRPX_ENOMEM. */
lrpx_status lrpx__check_spearman(const float *a, const float *b, int64_t n, double *out);
/* SSIM as Quantus's `ssim` similarity_func computes it with
 * skimage.metrics.structural_similarity: data range = max - min over both
 * maps, 7 x 7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance
 * (49/48), the mean over the positions whose window lies inside the image
 * (3 pixels cut at each border). Maps are C x H x W: the SSIM of each
 * channel plane with the common data range, averaged over channels.
 * LRPX_EINVAL when H or W < 7; NaN when both maps are one constant. */
lrpx_status lrpx__check_ssim(const float *a, const float *b, int64_t c, int64_t h, int64_t w,
                            double *out);

/* ---- faithfulness: region perturbation (section 3) ---- */

enum lrpx_check_order {
    LRPX_CHECK_ORDER_MORF = 0,     /* most relevant first  */
    LRPX_CHECK_ORDER_LERF,         /* least relevant first */
    LRPX_CHECK_ORDER_COUNT
};

/* What a removed patch is filled with (section 1.1), computed again at
 * every step on the current (padded) array. */
enum lrpx_check_baseline {
    LRPX_CHECK_BASELINE_BLACK = 0, /* min                 */
    LRPX_CHECK_BASELINE_WHITE,     /* max                 */
    LRPX_CHECK_BASELINE_MEAN,      /* mean (drifts)       */
    LRPX_CHECK_BASELINE_VALUE,     /* a constant          */
    LRPX_CHECK_BASELINE_COUNT
};

struct lrpx_check_region_opts {
    int                     patch_size;       /* P >= 1 (Quantus: 8)          */
    enum lrpx_check_order    order;            /* (morf)                       */
    int                     regions;          /* patches removed (100)        */
    enum lrpx_check_baseline baseline;         /* (black)                      */
    double                  baseline_value;   /* for BASELINE_VALUE           */
    int                     batch;            /* perturbed inputs per predict
                                                 call, >= 1                   */
};

/* The model's score for the explained class of n samples (each C x H x W,
 * consecutive in x): scores[i] = f(x_i). Returns LRPX_OK or an error whose
 * message the callback keeps. */
typedef lrpx_status (*lrpx__check_predict_fn)(void *ctx, const float *x, int64_t n,
                                             double *scores);

/* RegionPerturbation for one sample x (C x H x W) and its map a (a_c
 * channels: C, or 1 for a map copied to every channel). H and W are padded
 * to multiples of P (floor(t/2) before, ceil(t/2) after; the image by edge
 * values, the map by zeros); patches are the P x P blocks of the padded
 * plane over all channels, numbered row-major; a patch's score is the sum
 * of the map over it. They are removed cumulatively in order (ties: lower
 * patch number first; Quantus's numpy argsort leaves ties unspecified),
 * min(regions, patches) of them, each time predicting the cropped image.
 * curve[k] = f(x) - f(x after k+1 patches); *n_curve receives the count
 * (curve holds at least min(regions, patches) doubles).
 * Returns LRPX_OK, LRPX_EINVAL (bad options or sizes), LRPX_ENOMEM, or
 * what predict returned. */
lrpx_status lrpx__check_region_perturbation(const float *x, const float *a, int64_t a_c,
                                           int64_t c, int64_t h, int64_t w,
                                           const struct lrpx_check_region_opts *o,
                                           lrpx__check_predict_fn predict, void *ctx,
                                           double *curve, int *n_curve);
/* Number of patches of an H x W plane for patch size P (after padding). */
int64_t lrpx__check_n_patches(int64_t h, int64_t w, int patch_size);
/* AOPC of a region-perturbation curve (Samek et al. 2017, eq. 12):
 * the mean over k = 0..K of f(x) - f(x after k patches), with the k = 0
 * term 0: sum(curve) / (K + 1). NaN for K = 0. */
double  lrpx__check_aopc(const double *curve, int n_curve);

#endif /* LRPX_CHECK_METRICS_H */
