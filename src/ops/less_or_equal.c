/* LessOrEqual — C = A <= B, element-wise with numpy broadcasting; C is bool.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__LessOrEqual.html  (opsets 12, 16)
 * Types: all ten numeric types.
 * LRP:  none. The output is bool, which carries neither gradient nor
 *       relevance, so no backward pass reaches this node; backward and
 *       relevance are NULL.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2_NATURAL(less_or_equal, LRPX_TO_BOOL, av <= bv)

static const lrpx_bcast_row2 less_or_equal_rows[LRPX_DTYPE_COUNT] = {
    LRPX_ROW2_TABLE(less_or_equal),
};

static lrpx_status
less_or_equal_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC, LRPX_DTYPE_BOOL);
}

static lrpx_status
less_or_equal_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast),
                                less_or_equal_rows);
}

const struct lrpx_op_def lrpx__op_less_or_equal = {
    .onnx_name     = "LessOrEqual",
    .since_version = 12,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = less_or_equal_prepare,
    .forward       = less_or_equal_forward,
};
