/* Abs — y = |x|, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Abs.html  (opsets 1, 6, 13)
 * Types: all ten numeric types (the most negative integer wraps to itself).
 * Backward: dy/dx = sign(x), 0 at 0 (as PyTorch).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

/* |v| with -v computed unsigned: the most negative value wraps (no UB) */
#define ABS_WRAP(T, U, v) ((v) < 0 ? (T)(0u - (U)(v)) : (v))

static lrpx_status
abs_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_NUMERIC);
}

static lrpx_status
abs_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, fabsf(v));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, fabs(v));
        break;
    case LRPX_DTYPE_INT8:
        LRPX_MAP(int8_t, int8_t, (int8_t *)a->data, (int8_t *)y->data, a->n_elems,
                 ABS_WRAP(int8_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT16:
        LRPX_MAP(int16_t, int16_t, (int16_t *)a->data, (int16_t *)y->data, a->n_elems,
                 ABS_WRAP(int16_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT32:
        LRPX_MAP(int32_t, int32_t, (int32_t *)a->data, (int32_t *)y->data, a->n_elems,
                 ABS_WRAP(int32_t, uint32_t, v));
        break;
    case LRPX_DTYPE_INT64:
        LRPX_MAP(int64_t, int64_t, (int64_t *)a->data, (int64_t *)y->data, a->n_elems,
                 ABS_WRAP(int64_t, uint64_t, v));
        break;
    case LRPX_DTYPE_UINT8:
        LRPX_MAP(uint8_t, uint8_t, (uint8_t *)a->data, (uint8_t *)y->data, a->n_elems, v);
        break;
    case LRPX_DTYPE_UINT16:
        LRPX_MAP(uint16_t, uint16_t, (uint16_t *)a->data, (uint16_t *)y->data, a->n_elems,
                 v);
        break;
    case LRPX_DTYPE_UINT32:
        LRPX_MAP(uint32_t, uint32_t, (uint32_t *)a->data, (uint32_t *)y->data, a->n_elems,
                 v);
        break;
    case LRPX_DTYPE_UINT64:
        LRPX_MAP(uint64_t, uint64_t, (uint64_t *)a->data, (uint64_t *)y->data, a->n_elems,
                 v);
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
abs_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, v > 0.0f ? g : v < 0.0f ? -g : 0.0f);
}

const struct lrpx_op_def lrpx__op_abs = {
    .onnx_name     = "Abs",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = abs_prepare,
    .forward       = abs_forward,
    .backward      = abs_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
};
