/* Equal — C = A == B, element-wise with numpy broadcasting; C is bool.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Equal.html  (opsets 1, 7, 11, 13;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: all ten numeric types and bool.
 * LRP:  none. The output is bool, which carries neither gradient nor
 *       relevance, so no backward pass reaches this node; backward and
 *       relevance are NULL.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2_NATURAL(equal, LRPX_TO_BOOL, av == bv)

/* bool is stored as one byte, 0 or 1; compare truth values all the same */
LRPX_ROW2(equal_bool, uint8_t, uint8_t, uint8_t, (av != 0) == (bv != 0))

static const lrpx_bcast_row2 equal_rows[LRPX_DTYPE_COUNT] = {
    LRPX_ROW2_TABLE(equal),
    [LRPX_DTYPE_BOOL] = equal_bool,
};

static lrpx_status
equal_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC | LRPX_DT(BOOL), LRPX_DTYPE_BOOL);
}

static lrpx_status
equal_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), equal_rows);
}

const struct lrpx_op_def lrpx__op_equal = {
    .onnx_name     = "Equal",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = equal_prepare,
    .forward       = equal_forward,
};
