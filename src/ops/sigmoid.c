/* Sigmoid — y = 1 / (1 + exp(-x)), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Sigmoid.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = y (1 - y).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"
#include "ops/kernels/vmath_impl.h"
#include "util/parallel.h"

/* exp of a non-positive number only, so nothing overflows */
static inline double
sigmoid_d(double v)
{
    if (v >= 0.0)
        return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

/* float32: lrpx__sigmoidf (the same formula, with a vectorisable exp;
 * within 3 ulp), over ranges of elements on the session's threads */
struct sigmoid_ctx {
    const float *x;
    float       *y;
};

LRPX_TARGET_CLONES
static void
sigmoid_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct sigmoid_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++)
        c->y[i] = lrpx__sigmoidf(c->x[i]);
}

static lrpx_status
sigmoid_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
sigmoid_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, sigmoid_range,
                           &(struct sigmoid_ctx){a->f32, y->f32});
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, sigmoid_d(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
sigmoid_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, g * y * (1.0f - y));
}

const struct lrpx_op_def lrpx__op_sigmoid = {
    .onnx_name     = "Sigmoid",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = sigmoid_prepare,
    .forward       = sigmoid_forward,
    .backward      = sigmoid_backward,
    .relevance     = lrpx__back_identity,
    .lrp_class     = LRPX_LRP_CLASS_GATE,
    .elementwise   = true,
};
