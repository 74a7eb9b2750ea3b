/* Softmax — y_j = exp(x_j) / sum_k exp(x_k) along one axis (opset >= 13) or over
 * the trailing block from axis (opsets 1 and 11: the input is coerced to
 * 2-D at axis); see softmax_impl.h.
 *
 * Rows along the last axis (the attention of transformers) are computed
 * in float32, row by row over the session's threads: the row maximum
 * subtracted, exp from vmath_impl.h (within 2 ulp), the sum in 8 partial
 * sums, then one multiplication by its reciprocal; every row by the same
 * code on any thread, so the bits do not depend on the thread count. Rows
 * holding a NaN or an infinity, and other axes, take the double-precision
 * kernel of softmax_impl.c (IEEE rules for those values).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Softmax.html  (opsets 1, 11, 13),
 *       float32.
 * Gradient: g_x = y (g_y - <g_y, y>).
 * LRP:  a trailing Softmax is skipped by the relevance executor, which
 *       explains the logits. Inside the graph the node's rule decides
 *       (src/lrp/transformer.c): taylor (AttnLRP) R_x = x (R - y sum R)
 *       per row, block (CP-LRP) nothing; with no rule (the classic
 *       composites) it is an error naming the node (relevance = NULL).
 */
#include "ops/kernels/softmax_impl.h"
#include "ops/kernels/vmath_impl.h"
#include "util/parallel.h"

/* y = softmax(x) over one contiguous row in float32; false (y untouched)
 * when the row holds a NaN or an infinity. */
LRPX_TARGET_CLONES static bool
softmax_row_f32(const float *x, float *y, int64_t len)
{
    float m = x[0];
    bool  odd = false;
    for (int64_t j = 0; j < len; j++) {
        m = x[j] > m ? x[j] : m;
        odd |= x[j] != x[j];
    }
    if (odd || isinf(m))
        return false;
    float s[8] = {0};
    int64_t j = 0;
    for (; j + 8 <= len; j += 8)
        for (int l = 0; l < 8; l++) {
            const float d = x[j + l] - m;                   /* <= 0, may be -inf */
            const bool  in = d >= -87.6f;
            const float e  = lrpx__selectf(in, lrpx__expf_nonpos(lrpx__selectf(in, d, 0.0f)), 0.0f);
            y[j + l] = e;
            s[l] += e;
        }
    for (; j < len; j++) {
        const float d  = x[j] - m;
        const bool  in = d >= -87.6f;
        const float e  = lrpx__selectf(in, lrpx__expf_nonpos(lrpx__selectf(in, d, 0.0f)), 0.0f);
        y[j] = e;
        s[j & 7] += e;
    }
    const float inv = 1.0f / (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    for (j = 0; j < len; j++)
        y[j] *= inv;
    return true;
}

struct softmax_rows {
    const struct lrpx_softmax_params *p;
    const float *x;
    float       *y;
};

static void
softmax_rows(void *ctx, int64_t r0, int64_t r1)
{
    const struct softmax_rows        *c = ctx;
    const int64_t                     len = c->p->len;
    const struct lrpx_softmax_params  one = {1, len, 1};
    for (int64_t r = r0; r < r1; r++)
        if (!softmax_row_f32(c->x + r * len, c->y + r * len, len))
            lrpx__softmax_forward(&one, c->x + r * len, c->y + r * len, false);
}

static lrpx_status
softmax_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_softmax_params *p = LRPX_PARAMS(x, n, struct lrpx_softmax_params);
    const float *in = lrpx__in(x, n, 0)->f32;
    float       *out = lrpx__out(x, n, 0)->f32;
    if (p->inner != 1 || p->len < 1) {
        lrpx__softmax_forward(p, in, out, false);
        return LRPX_OK;
    }
    struct softmax_rows c = {p, in, out};
    lrpx__parallel_for(x->pool, p->outer, 1 + 4096 / p->len, softmax_rows, &c);
    return LRPX_OK;
}
static lrpx_status
softmax_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const float *gy = lrpx__back_out(x, n, 0);
    float       *gx = lrpx__back_in(x, n, 0);

    if (gy && gx)
        lrpx__softmax_backward(LRPX_PARAMS(x, n, struct lrpx_softmax_params),
                               lrpx__in(x, n, 0)->f32, gy, gx, false, x->scratch);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_softmax = {
    .onnx_name     = "Softmax",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = lrpx__softmax_prepare,
    .forward       = softmax_forward,
    .backward      = softmax_backward,
    .relevance     = NULL,
    .lrp_class     = LRPX_LRP_CLASS_SOFTMAX,
    .output_normalizer = true,
};
