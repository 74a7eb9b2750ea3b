/* Tanh — y = tanh(x), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Tanh.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = 1 - y^2.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
tanh_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
tanh_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, tanhf(v));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, tanh(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
tanh_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, g * (1.0f - y * y));
}

const struct lrpx_op_def lrpx__op_tanh = {
    .onnx_name     = "Tanh",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = tanh_prepare,
    .forward       = tanh_forward,
    .backward      = tanh_backward,
    .relevance     = lrpx__back_identity,
    .lrp_class     = LRPX_LRP_CLASS_GATE,
    .elementwise   = true,
};
