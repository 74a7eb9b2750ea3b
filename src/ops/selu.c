/* Selu — y = gamma * x for x > 0, gamma * alpha * (exp(x) - 1) otherwise,
 * element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Selu.html  (opsets 1, 6)
 * Types: float32, float64.
 * Backward: dy/dx = gamma for x > 0, gamma alpha exp(x) otherwise.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

struct selu_params {
    float alpha;
    float gamma;
};

static inline float
selu_f(float v, const struct selu_params *p)
{
    return v > 0.0f ? p->gamma * v : p->gamma * (p->alpha * expf(v) - p->alpha);
}

static inline double
selu_d(double v, const struct selu_params *p)
{
    const double a = p->alpha, g = p->gamma;
    return v > 0.0 ? g * v : g * (a * exp(v) - a);
}

static lrpx_status
selu_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct selu_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->alpha = lrpx__attr_float(n, "alpha", 1.67326319217681884765625f);
    p->gamma = lrpx__attr_float(n, "gamma", 1.05070102214813232421875f);
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
selu_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct selu_params *p = LRPX_PARAMS(x, n, struct selu_params);
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, selu_f(v, p));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, selu_d(v, p));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
selu_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct selu_params *p = LRPX_PARAMS(x, n, struct selu_params);
    LRPX_UNARY_BACKWARD(x, n, v > 0.0f ? g * p->gamma : g * p->gamma * p->alpha * expf(v));
}

const struct lrpx_op_def lrpx__op_selu = {
    .onnx_name     = "Selu",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = selu_prepare,
    .forward       = selu_forward,
    .backward      = selu_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
