/* ReduceLogSumExp — y = log(sum of exp(x)) over the axes, computed with the group maximum subtracted.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceLogSumExp.html  (opsets 1,
 *       11, 13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: g_i = g_j softmax(x)_i over the group.
 * LRP:  none (relevance = NULL, like Softmax): an error naming the node on the
 *       relevance path.
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_log_sum_exp_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_LOG_SUM_EXP);
}

const struct lrpx_op_def lrpx__op_reduce_log_sum_exp = {
    .onnx_name     = "ReduceLogSumExp",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_log_sum_exp_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = NULL,
};
