/* HardSigmoid — y = max(0, min(1, alpha * x + beta)), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__HardSigmoid.html  (opsets 1, 6)
 * Types: float32, float64.
 * Backward: dy/dx = alpha where 0 < alpha x + beta < 1, else 0.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

struct hard_sigmoid_params {
    float alpha;
    float beta;
};

/* max(0, min(1, z)) as comparisons: NaN stays NaN (numpy's order), and
 * unlike fminf/fmaxf without -ffinite-math-only this vectorizes */
static inline float
hard_sigmoid_f(float z)
{
    const float t = z > 1.0f ? 1.0f : z;
    return t < 0.0f ? 0.0f : t;
}

static inline double
hard_sigmoid_d(double z)
{
    const double t = z > 1.0 ? 1.0 : z;
    return t < 0.0 ? 0.0 : t;
}

/* strictly inside the linear part, where the derivative is alpha */
static inline bool
hard_sigmoid_inside(float v, const struct hard_sigmoid_params *p)
{
    const float z = p->alpha * v + p->beta;
    return z > 0.0f && z < 1.0f;
}

static lrpx_status
hard_sigmoid_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct hard_sigmoid_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->alpha = lrpx__attr_float(n, "alpha", 0.2f);
    p->beta = lrpx__attr_float(n, "beta", 0.5f);
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
hard_sigmoid_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct hard_sigmoid_params *p = LRPX_PARAMS(x, n, struct hard_sigmoid_params);
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems,
                 hard_sigmoid_f(p->alpha * v + p->beta));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 hard_sigmoid_d((double)p->alpha * v + p->beta));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
hard_sigmoid_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct hard_sigmoid_params *p = LRPX_PARAMS(x, n, struct hard_sigmoid_params);
    LRPX_UNARY_BACKWARD(x, n, hard_sigmoid_inside(v, p) ? g * p->alpha : 0.0f);
}

const struct lrpx_op_def lrpx__op_hard_sigmoid = {
    .onnx_name     = "HardSigmoid",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = hard_sigmoid_prepare,
    .forward       = hard_sigmoid_forward,
    .backward      = hard_sigmoid_backward,
    .relevance     = lrpx__back_identity,
    .lrp_class     = LRPX_LRP_CLASS_GATE,
    .elementwise   = true,
};
