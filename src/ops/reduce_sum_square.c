/* ReduceSumSquare — y = sum of x^2 over the axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceSumSquare.html  (opsets 1,
 *       11, 13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: g_i = 2 x_i g_j.
 * LRP:  proportional to x_i^2: R_i += x_i^2 / stab(sum x^2) R_j.
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_sum_square_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_SUM_SQUARE);
}

const struct lrpx_op_def lrpx__op_reduce_sum_square = {
    .onnx_name     = "ReduceSumSquare",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_sum_square_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = lrpx__reduce_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
