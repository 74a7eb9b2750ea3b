/* Floor — y = floor(x), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Floor.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = 0 almost everywhere: nothing is added.
 * LRP:  relevance passes through unchanged (y differs from x by less than
 *       one; the op only rounds, as Cast does).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
floor_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
floor_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        LRPX_MAP(float, float, a->f32, y->f32, a->n_elems, floorf(v));
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, floor(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

/* the derivative is 0 wherever it exists: nothing to add */
static lrpx_status
floor_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    (void)x;
    (void)n;
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_floor = {
    .onnx_name     = "Floor",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = floor_prepare,
    .forward       = floor_forward,
    .backward      = floor_backward,
    .relevance     = lrpx__back_identity,
};
