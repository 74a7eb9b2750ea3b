/* Sum — element-wise sum of one or more inputs, numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Sum.html  (opsets 1, 6, 8, 13;
 *       before 8 all inputs have one shape, which broadcasting also covers)
 * Types: float32, float64.
 * LRP:  proportional split, as for Add: R_i += x_i / stab(sum_k x_k) * R
 *       (summed over the broadcast), with the rule's stabilizer; inputs
 *       without relevance (constants) absorb their share.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2(sum_f32, float, float, float, av + bv)
LRPX_ROW2(sum_f64, double, double, double, av + bv)

static const lrpx_bcast_row2 sum_rows[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_FLOAT32] = sum_f32,
    [LRPX_DTYPE_FLOAT64] = sum_f64,
};

static lrpx_status
sum_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    /* scratch: the double-precision sum for the relevance split */
    return lrpx__variadic_prepare(x, n, LRPX_DT_FLOATS, sizeof(double));
}

static lrpx_status
sum_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__variadic_forward(x, n, sum_rows);
}

static lrpx_status
sum_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = LRPX_OK;
    for (int i = 0; i < n->n_inputs && rc == LRPX_OK; i++)
        rc = lrpx__elem_pass_to(x, n, i, 1.0f);
    return rc;
}

const struct lrpx_op_def lrpx__op_sum = {
    .onnx_name     = "Sum",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 255,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = sum_prepare,
    .forward       = sum_forward,
    .backward      = sum_backward,
    .relevance     = lrpx__variadic_proportional,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
