/* Reciprocal — y = 1 / x, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Reciprocal.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = -y^2.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
reciprocal_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
reciprocal_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, 1.0f / v);
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, 1.0 / v);
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
reciprocal_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, -g * y * y);
}

const struct lrpx_op_def lrpx__op_reciprocal = {
    .onnx_name     = "Reciprocal",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reciprocal_prepare,
    .forward       = reciprocal_forward,
    .backward      = reciprocal_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
};
