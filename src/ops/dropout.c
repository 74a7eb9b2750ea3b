/* Dropout — at inference, output = data and mask = all true.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Dropout.html  (opsets 1, 6, 7, 10, 12, 13)
 *       lrpx runs inference only. The ratio (attribute before 12, input from
 *       12) and the seed are read by nobody. Before 7 the attribute
 *       `is_test` chose between training and test mode; lrpx runs test mode
 *       whatever it says (exporters often left it 0 in inference graphs).
 *       From 12 a training_mode input that is true is LRPX_EUNSUPPORTED
 *       (unless the ratio is a known 0, which drops nothing);
 *       its value must be known while planning (a constant, a value
 *       folded from constants, or a fed input, which is then read at
 *       planning time).
 *       The optional mask is bool from opset 10, and has data's type before
 *       (then filled with 1).
 * Types: data float32 or float64.
 * Backward/LRP: identity: gradient and relevance pass through unchanged.
 */
#include <string.h>

#include "ops/kernels/broadcast_impl.h"

/* Training with ratio 0 drops nothing and scales by 1: the identity too. */
static bool
dropout_ratio_is_zero(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *r = lrpx__in(x, n, 1);
    if (!r || !lrpx__in_known(x, n, 1) || r->n_elems != 1)
        return false;
    if (r->dtype == LRPX_DTYPE_FLOAT32)
        return r->f32[0] == 0.0f;
    if (r->dtype == LRPX_DTYPE_FLOAT64)
        return r->f64[0] == 0.0;
    return false;
}

static lrpx_status
dropout_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;
    if ((rc = lrpx__unary_prepare(x, n, LRPX_DT_FLOATS)) != LRPX_OK)
        return rc;
    if (x->opset < 12 && n->n_inputs > 1)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "ratio and training_mode are inputs only from opset 12");
    const struct lrpx_tensor *tm = lrpx__in(x, n, 2);
    if (tm) {
        if (!lrpx__in_known(x, n, 2))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "training_mode must be known before the run "
                                    "(lrpx runs inference only)");
        if (tm->dtype != LRPX_DTYPE_BOOL || tm->n_elems != 1)
            return lrpx__node_error(x, n, LRPX_EINVAL, "training_mode must be a bool scalar");
        if (tm->b[0] && !dropout_ratio_is_zero(x, n))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "training_mode is true: lrpx runs inference only");
    }
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    return lrpx__set_output(x, n, 1, x->opset >= 10 ? LRPX_DTYPE_BOOL : a->dtype, a->rank,
                            a->dims);
}

static lrpx_status
dropout_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a    = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y    = lrpx__out(x, n, 0);
    struct lrpx_tensor       *mask = lrpx__out(x, n, 1);
    if (a->n_elems)
        memcpy(y->data, a->data, (size_t)lrpx__tensor_bytes(a));
    if (!mask)
        return LRPX_OK;
    for (int64_t i = 0; i < mask->n_elems; i++) {
        switch (mask->dtype) {
        case LRPX_DTYPE_FLOAT32: mask->f32[i] = 1.0f; break;
        case LRPX_DTYPE_FLOAT64: mask->f64[i] = 1.0; break;
        default:                 mask->b[i] = 1; break;      /* bool */
        }
    }
    return LRPX_OK;
}

/* Graph passes: the node can be removed when the mask is not asked for
 * and training mode is not possible (no training_mode input, or a constant
 * false that the caller cannot override). */
static bool
dropout_inference_identity(const struct lrpx_graph *g, const struct lrpx_node *n)
{
    if (n->n_outputs > 1 && n->outputs[1] >= 0)
        return false;                    /* mask requested */
    if (n->n_inputs > 2 && n->inputs[2] >= 0) {
        const struct lrpx_value *t = &g->values[n->inputs[2]];
        if (t->kind != LRPX_VALUE_CONST || t->overridable || t->data.n_elems != 1 ||
            lrpx__tensor_get_i64(&t->data, 0) != 0)
            return false;                /* training mode possible */
    }
    return true;   /* inference: Dropout is the identity (as ONNX Runtime) */
}

const struct lrpx_op_def lrpx__op_dropout = {
    .onnx_name     = "Dropout",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 2,
    .prepare       = dropout_prepare,
    .forward       = dropout_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
    .inference_identity = dropout_inference_identity,
};
