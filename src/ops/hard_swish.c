/* HardSwish — y = x * max(0, min(1, x / 6 + 1 / 2)), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__HardSwish.html  (opsets 14)
 * Types: float32, float64.
 * Backward: dy/dx = 0 for x < -3, x / 3 + 1/2 up to 3, 1 above (as PyTorch).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

/* max(0, min(1, z)) as comparisons (NaN stays NaN; vectorizes) */
static inline float
hard_swish_gate_f(float z)
{
    const float t = z > 1.0f ? 1.0f : z;
    return t < 0.0f ? 0.0f : t;
}

static inline double
hard_swish_gate_d(double z)
{
    const double t = z > 1.0 ? 1.0 : z;
    return t < 0.0 ? 0.0 : t;
}

static lrpx_status
hard_swish_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
hard_swish_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems,
                 v * hard_swish_gate_f((1.0f / 6.0f) * v + 0.5f));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 v * hard_swish_gate_d(v / 6.0 + 0.5));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
hard_swish_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, v < -3.0f ? 0.0f : v <= 3.0f ? g * (v / 3.0f + 0.5f) : g);
}

const struct lrpx_op_def lrpx__op_hard_swish = {
    .onnx_name     = "HardSwish",
    .since_version = 14,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = hard_swish_prepare,
    .forward       = hard_swish_forward,
    .backward      = hard_swish_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
