/* Shared by Softmax and LogSoftmax: the axis rule of each opset and the
 * row-wise kernels.
 *
 * Opsets < 13: the input is coerced to 2-D at `axis` (default 1): rows are
 * the dimensions before axis, and one row is everything from axis on.
 * Opset >= 13: the normalisation runs along the single dimension `axis`
 * (default -1). Both are described as (outer, len, inner): element
 * (o, j, i) sits at (o * len + j) * inner + i and is normalised over j.
 */
#ifndef LRPX_SOFTMAX_IMPL_H
#define LRPX_SOFTMAX_IMPL_H

#include "core/op.h"

struct lrpx_softmax_params {
    int64_t outer, len, inner;
};

/* Check dtype (float32) and axis, fill params, set output 0 like input 0
 * and request len doubles of scratch. */
lrpx_status lrpx__softmax_prepare(struct lrpx_exec *x, const struct lrpx_node *n);

/* y = softmax (use_log = false) or log-softmax (use_log = true) of x. */
void lrpx__softmax_forward(const struct lrpx_softmax_params *p, const float *x, float *y,
                           bool use_log);
/* gx += J^T gy for softmax / log-softmax at x; scratch holds len doubles. */
void lrpx__softmax_backward(const struct lrpx_softmax_params *p, const float *x,
                            const float *gy, float *gx, bool use_log, double *scratch);

#endif /* LRPX_SOFTMAX_IMPL_H */
