/* ReduceProd — y = product of x over the axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ReduceProd.html  (opsets 1, 11,
 *       13, 18);
 *       axes / keepdims / noop_with_empty_axes and dtypes as described in
 *       reduce_impl.h.
 * Gradient: g_i = g_j prod_{k != i} x_k (exact with zeros present).
 * LRP:  none (relevance = NULL): a product has no additive decomposition; an
 *       error naming the node on the relevance path.
 */
#include "ops/kernels/reduce_impl.h"

static lrpx_status
reduce_prod_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__reduce_prepare(x, n, LRPX_REDUCE_PROD);
}

const struct lrpx_op_def lrpx__op_reduce_prod = {
    .onnx_name     = "ReduceProd",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reduce_prod_prepare,
    .forward       = lrpx__reduce_forward,
    .backward      = lrpx__reduce_backward,
    .relevance     = NULL,
};
