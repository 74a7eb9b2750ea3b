/* Elu — y = x for x > 0, alpha * (exp(x) - 1) otherwise, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Elu.html  (opsets 1, 6)
 * Types: float32, float64.
 * Backward: dy/dx = 1 for x > 0, alpha exp(x) otherwise.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

struct elu_params {
    float alpha;
};

static lrpx_status
elu_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct elu_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->alpha = lrpx__attr_float(n, "alpha", 1.0f);
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
elu_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct elu_params *p = LRPX_PARAMS(x, n, struct elu_params);
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems,
                 v > 0.0f ? v : p->alpha * expm1f(v));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 v > 0.0 ? v : (double)p->alpha * expm1(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
elu_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct elu_params *p = LRPX_PARAMS(x, n, struct elu_params);
    LRPX_UNARY_BACKWARD(x, n, v > 0.0f ? g : g * p->alpha * expf(v));
}

const struct lrpx_op_def lrpx__op_elu = {
    .onnx_name     = "Elu",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = elu_prepare,
    .forward       = elu_forward,
    .backward      = elu_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
