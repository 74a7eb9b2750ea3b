/* ReduceMin — y = minimum of x over the axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceMin.html  (opsets 1, 11, 12,
 *       13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: all of g_j to the first minimum (row-major).
 * LRP:  as ReduceMax with the minimum as the winner.
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_min_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_MIN);
}

const struct lrpx_op_def lrpx__op_reduce_min = {
    .onnx_name     = "ReduceMin",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_min_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = lrpx__reduce_relevance,
    .lrp_class     = LRPX_LRP_CLASS_MAXLIKE,
};
