/* Softplus — y = ln(exp(x) + 1), element-wise. Written as max(x, 0) + ln(1 + exp(-|x|)) so
 *       that large |x| neither overflows nor loses the small term.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Softplus.html  (opsets 1)
 * Types: float32, float64.
 * Backward: dy/dx = sigmoid(x).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

/* sigmoid(v), the derivative, with exp of a non-positive number only */
static inline float
softplus_dx(float v)
{
    if (v >= 0.0f)
        return 1.0f / (1.0f + expf(-v));
    const float e = expf(v);
    return e / (1.0f + e);
}

static lrpx_status
softplus_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
softplus_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems,
                 v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 v > 0.0 ? v + log1p(exp(-v)) : log1p(exp(v)));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
softplus_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, g * softplus_dx(v));
}

const struct lrpx_op_def lrpx__op_softplus = {
    .onnx_name     = "Softplus",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = softplus_prepare,
    .forward       = softplus_forward,
    .backward      = softplus_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
