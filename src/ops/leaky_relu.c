/* LeakyRelu — y = x for x >= 0, alpha * x otherwise, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__LeakyRelu.html  (opsets 1, 6, 16)
 * Types: float32, float64.
 * Backward: dy/dx = 1 for x > 0, alpha otherwise (at 0 too, as PyTorch).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

struct leaky_relu_params {
    float alpha;
};

static lrpx_status
leaky_relu_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct leaky_relu_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->alpha = lrpx__attr_float(n, "alpha", 0.01f);
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
leaky_relu_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct leaky_relu_params *p = LRPX_PARAMS(x, n, struct leaky_relu_params);
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, v >= 0.0f ? v : p->alpha * v);
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 v >= 0.0 ? v : (double)p->alpha * v);
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
leaky_relu_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct leaky_relu_params *p = LRPX_PARAMS(x, n, struct leaky_relu_params);
    LRPX_UNARY_BACKWARD(x, n, v > 0.0f ? g : g * p->alpha);
}

const struct lrpx_op_def lrpx__op_leaky_relu = {
    .onnx_name     = "LeakyRelu",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = leaky_relu_prepare,
    .forward       = leaky_relu_forward,
    .backward      = leaky_relu_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
