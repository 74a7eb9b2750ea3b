/* Sign — y = -1, 0 or 1 by the sign of x, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Sign.html  (opsets 9, 13)
 * Types: all ten numeric types (0 and NaN map to themselves).
 * Backward: dy/dx = 0 almost everywhere: nothing is added.
 * LRP:  relevance passes through unchanged, as for the other element-wise
 *       functions (Sign is rarely on a relevance path; this keeps it from
 *       stopping an explanation).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
sign_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_NUMERIC);
}

static lrpx_status
sign_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems,
                 v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v);
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems,
                 v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : v);
        break;
    case LRPX_DTYPE_INT8:
        LRPX_MAP(int8_t, int8_t, (int8_t *)a->data, (int8_t *)y->data, a->n_elems,
                 (v > 0) - (v < 0));
        break;
    case LRPX_DTYPE_INT16:
        LRPX_MAP(int16_t, int16_t, (int16_t *)a->data, (int16_t *)y->data, a->n_elems,
                 (v > 0) - (v < 0));
        break;
    case LRPX_DTYPE_INT32:
        LRPX_MAP(int32_t, int32_t, (int32_t *)a->data, (int32_t *)y->data, a->n_elems,
                 (v > 0) - (v < 0));
        break;
    case LRPX_DTYPE_INT64:
        LRPX_MAP(int64_t, int64_t, (int64_t *)a->data, (int64_t *)y->data, a->n_elems,
                 (v > 0) - (v < 0));
        break;
    case LRPX_DTYPE_UINT8:
        LRPX_MAP(uint8_t, uint8_t, (uint8_t *)a->data, (uint8_t *)y->data, a->n_elems,
                 v > 0);
        break;
    case LRPX_DTYPE_UINT16:
        LRPX_MAP(uint16_t, uint16_t, (uint16_t *)a->data, (uint16_t *)y->data, a->n_elems,
                 v > 0);
        break;
    case LRPX_DTYPE_UINT32:
        LRPX_MAP(uint32_t, uint32_t, (uint32_t *)a->data, (uint32_t *)y->data, a->n_elems,
                 v > 0);
        break;
    case LRPX_DTYPE_UINT64:
        LRPX_MAP(uint64_t, uint64_t, (uint64_t *)a->data, (uint64_t *)y->data, a->n_elems,
                 v > 0);
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

/* the derivative is 0 wherever it exists: nothing to add */
static lrpx_status
sign_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    (void)x;
    (void)n;
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_sign = {
    .onnx_name     = "Sign",
    .since_version = 9,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = sign_prepare,
    .forward       = sign_forward,
    .backward      = sign_backward,
    .relevance     = lrpx__back_identity,
};
