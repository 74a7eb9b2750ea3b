/* Greater — C = A > B, element-wise with numpy broadcasting; C is bool.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Greater.html  (opsets 1, 7, 9, 13;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: all ten numeric types.
 * LRP:  none. The output is bool, which carries neither gradient nor
 *       relevance, so no backward pass reaches this node; backward and
 *       relevance are NULL.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2_NATURAL(greater, LRPX_TO_BOOL, av > bv)

static const lrpx_bcast_row2 greater_rows[LRPX_DTYPE_COUNT] = {
    LRPX_ROW2_TABLE(greater),
};

static lrpx_status
greater_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC, LRPX_DTYPE_BOOL);
}

static lrpx_status
greater_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), greater_rows);
}

const struct lrpx_op_def lrpx__op_greater = {
    .onnx_name     = "Greater",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = greater_prepare,
    .forward       = greater_forward,
};
