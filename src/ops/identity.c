/* Identity — y = x, any type.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Identity.html  (opsets 1, 13, 14, 16)
 * LRP:  relevance passes through unchanged.
 */
#include <string.h>

#include "core/op.h"

static lrpx_status
identity_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__set_output_like(x, n, 0, lrpx__in(x, n, 0));
}

static lrpx_status
identity_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    if (in->n_elems)
        memcpy(out->data, in->data, (size_t)lrpx__tensor_bytes(in));
    return LRPX_OK;
}

/* Graph passes remove every Identity node. */
static bool
identity_always(const struct lrpx_graph *g, const struct lrpx_node *n)
{
    (void)g;
    (void)n;
    return true;
}

const struct lrpx_op_def lrpx__op_identity = {
    .onnx_name     = "Identity",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = identity_prepare,
    .forward       = identity_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
    .inference_identity = identity_always,
};
