/* Not — Y = not X (logical), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Not.html  (opset 1)
 * Types: bool only (stored as one byte; any non-zero byte is true).
 * LRP:  none: bool values carry neither gradient nor relevance, so backward
 *       and relevance are NULL.
 */
#include "ops/kernels/broadcast_impl.h"

static lrpx_status
not_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT(BOOL));
}

static lrpx_status
not_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    LRPX_MAP(uint8_t, uint8_t, a->b, lrpx__out(x, n, 0)->b, a->n_elems, v == 0);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_not = {
    .onnx_name     = "Not",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = not_prepare,
    .forward       = not_forward,
};
