/* ReduceLogSum — y = log(sum of x) over the axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceLogSum.html  (opsets 1, 11,
 *       13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: g_i = g_j / sum x.
 * LRP:  proportional split as ReduceSum (the log treated as a pass-through
 *       activation).
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_log_sum_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_LOG_SUM);
}

const struct lrpx_op_def lrpx__op_reduce_log_sum = {
    .onnx_name     = "ReduceLogSum",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_log_sum_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = lrpx__reduce_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
