/* Softmax — y_j = exp(x_j) / sum_k exp(x_k) along one axis (opset >= 13) or over
 * the trailing block from axis (opsets 1 and 11: the input is coerced to
 * 2-D at axis); see softmax_impl.h. Computed in double with the row
 * maximum subtracted, so large inputs do not overflow.
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

static lrpx_status
softmax_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx__softmax_forward(LRPX_PARAMS(x, n, struct lrpx_softmax_params),
                          lrpx__in(x, n, 0)->f32, lrpx__out(x, n, 0)->f32, false);
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
