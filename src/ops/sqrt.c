/* Sqrt — y = sqrt(x), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Sqrt.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = 1 / (2 y) (infinite at 0, as PyTorch).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
sqrt_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
sqrt_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, sqrtf(v));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, sqrt(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
sqrt_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, g * 0.5f / y);
}

const struct lrpx_op_def lrpx__op_sqrt = {
    .onnx_name     = "Sqrt",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = sqrt_prepare,
    .forward       = sqrt_forward,
    .backward      = sqrt_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
};
