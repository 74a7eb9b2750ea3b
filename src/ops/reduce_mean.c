/* ReduceMean — y = mean of x over the axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceMean.html  (opsets 1, 11,
 *       13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: g_i = g_j / count.
 * LRP:  proportional split, z_ij = x_i / count: R_i += x_i / (count stab(y_j))
 *       R_j.
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_mean_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_MEAN);
}

const struct lrpx_op_def lrpx__op_reduce_mean = {
    .onnx_name     = "ReduceMean",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_mean_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = lrpx__reduce_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
