/* Mean — element-wise mean of one or more inputs, numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Mean.html  (opsets 1, 6, 8, 13;
 *       before 8 all inputs have one shape, which broadcasting also covers)
 * Types: float32, float64 (summed in the type, then divided by the count).
 * LRP:  proportional split over the contributions x_i / K of the K inputs:
 *       R_i += (x_i / K) / stab(mean) * R, summed over the broadcast;
 *       inputs without relevance (constants) absorb their share.
 */
#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2(mean_f32, float, float, float, av + bv)
LRPX_ROW2(mean_f64, double, double, double, av + bv)

static const lrpx_bcast_row2 mean_rows[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_FLOAT32] = mean_f32,
    [LRPX_DTYPE_FLOAT64] = mean_f64,
};

static lrpx_status
mean_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__variadic_prepare(x, n, LRPX_DT_FLOATS, sizeof(double));
}

static lrpx_status
mean_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__variadic_forward(x, n, mean_rows);
    if (rc != LRPX_OK || n->n_inputs == 1)
        return rc;
    struct lrpx_tensor *y = lrpx__out(x, n, 0);
    if (y->dtype == LRPX_DTYPE_FLOAT32)
        LRPX_MAP(float, float, y->f32, y->f32, y->n_elems, v / (float)n->n_inputs);
    else
        LRPX_MAP(double, double, y->f64, y->f64, y->n_elems, v / (double)n->n_inputs);
    return LRPX_OK;
}

static lrpx_status
mean_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = LRPX_OK;
    for (int i = 0; i < n->n_inputs && rc == LRPX_OK; i++)
        rc = lrpx__elem_pass_to(x, n, i, 1.0f / (float)n->n_inputs);
    return rc;
}

const struct lrpx_op_def lrpx__op_mean = {
    .onnx_name     = "Mean",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 255,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = mean_prepare,
    .forward       = mean_forward,
    .backward      = mean_backward,
    .relevance     = lrpx__variadic_proportional,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
