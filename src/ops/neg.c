/* Neg — y = -x, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Neg.html  (opsets 1, 6, 13)
 * Types: float32, float64, int8/16/32/64 (the most negative integer
 *       wraps to itself).
 * Backward: dy/dx = -1.
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

/* -v computed unsigned, so that the most negative value wraps (no UB) */
#define NEG_WRAP(T, U, v) ((T)(0u - (U)(v)))

static lrpx_status
neg_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS | LRPX_DT_SIGNED);
}

static lrpx_status
neg_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, -v);
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, -v);
        break;
    case LRPX_DTYPE_INT8:
        LRPX_MAP(int8_t, int8_t, (int8_t *)a->data, (int8_t *)y->data, a->n_elems,
                 NEG_WRAP(int8_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT16:
        LRPX_MAP(int16_t, int16_t, (int16_t *)a->data, (int16_t *)y->data, a->n_elems,
                 NEG_WRAP(int16_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT32:
        LRPX_MAP(int32_t, int32_t, (int32_t *)a->data, (int32_t *)y->data, a->n_elems,
                 NEG_WRAP(int32_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT64:
        LRPX_MAP(int64_t, int64_t, (int64_t *)a->data, (int64_t *)y->data, a->n_elems,
                 NEG_WRAP(int64_t, uint64_t, v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
neg_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, -g);
}

const struct lrpx_op_def lrpx__op_neg = {
    .onnx_name     = "Neg",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = neg_prepare,
    .forward       = neg_forward,
    .backward      = neg_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
};
