/* And — C = A and B (logical), element-wise with numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__And.html  (opsets 1, 7;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: bool only (stored as one byte; any non-zero byte is true).
 * LRP:  none: bool values carry neither gradient nor relevance, so backward
 *       and relevance are NULL.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2(and_bool, uint8_t, uint8_t, uint8_t, (av != 0) && (bv != 0))

static const lrpx_bcast_row2 and_rows[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_BOOL] = and_bool,
};

static lrpx_status
and_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT(BOOL), LRPX_DTYPE_BOOL);
}

static lrpx_status
and_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), and_rows);
}

const struct lrpx_op_def lrpx__op_and = {
    .onnx_name     = "And",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = and_prepare,
    .forward       = and_forward,
};
