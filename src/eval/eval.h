/* The computations of src/eval/ that other parts of lrpx share (lrpx
 * check, src/check/run.c): plain functions on float arrays, and the
 * evaluation entry with the options lrpx_session_evaluate does not take.
 * Definitions as ../docs/evaluation.md states them (Quantus 0.6.0). */
#ifndef LRPX_EVAL_H
#define LRPX_EVAL_H

#include "lrpx_internal.h"

/* Quantus's map preprocessing, in place: normalise (a /= max|a| over the
 * n values, float32; nothing when all are 0), then abs, each when asked. */
void        lrpx__eval_normalise_abs(float *a, int64_t n, bool normalise, bool abs);

/* RelevanceMassAccuracy: sum(a * [s]) / sum(a) over n values (s nonzero =
 * inside), numpy's float32 sums, the quotient in double. NaN for an empty
 * mask; +-inf or NaN for a zero total. scratch: room for n floats. */
double      lrpx__eval_relevance_mass(const float *a, const uint8_t *s, int64_t n,
                                      float *scratch);

/* ---- similarity of two maps ---- */

/* Cosine similarity a.b / (|a| |b|) in double; NaN when either is all
 * zero. (Quantus's `cosine` similarity_func is the distance, 1 minus it.) */
double      lrpx__eval_cosine(const float *a, const float *b, int64_t n);
/* Spearman's rank correlation (scipy.stats.spearmanr): Pearson's of the
 * ranks, ties given their average rank; NaN when either map is constant
 * or n < 2. LRPX_ENOMEM. */
lrpx_status lrpx__eval_spearman(const float *a, const float *b, int64_t n, double *out);
/* SSIM as skimage.metrics.structural_similarity computes it (Quantus's
 * `ssim` similarity_func): data range = max - min over both maps, uniform
 * window of 7 (7 x 7 for planes, 7 for a row), K1 = 0.01, K2 = 0.03,
 * sample covariance, the mean over the positions whose window lies inside.
 * The maps are c planes of h x w, each scored with the common data range,
 * the mean over the planes; h = 1 is a row (Quantus's flat maps, MPRT).
 * LRPX_EINVAL when w < 7 or 1 < h < 7; NaN when both maps are one
 * constant. */
lrpx_status lrpx__eval_ssim(const float *a, const float *b, int64_t c, int64_t h, int64_t w,
                            double *out);

/* AOPC of a region-perturbation curve d_1..d_K (Samek et al. 2017, eq. 12)
 * with the k = 0 term (0) included: sum(d) / (K + 1). NaN for K = 0. (The
 * `aopc` extra of region-perturbation is the mean without it.) */
double      lrpx__eval_aopc0(const double *curve, int64_t n);

/* lrpx_session_evaluate, scoring output `output_name` (NULL: the first
 * output; either way the input of a trailing Softmax when it has one). */
lrpx_status lrpx__eval_run(lrpx_session *s, const lrpx_metric *m,
                           const struct lrpx_eval_options *o, const char *output_name,
                           lrpx_eval_result **out);

#endif /* LRPX_EVAL_H */
