/* Size — the input's element count as an int64 scalar.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Size.html  (opsets 1, 13)
 * LRP:  no float path (the output is int64): no gradient, no relevance.
 *
 * Like Shape, the output depends only on the input's shape: prepare
 * computes it and marks it known so that its consumers fold.
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
size_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx__out(x, n, 0)->i64[0] = lrpx__in(x, n, 0)->n_elems;
    return LRPX_OK;
}

static lrpx_status
size_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__set_output(x, n, 0, LRPX_DTYPE_INT64, 0, NULL);
    if (rc != LRPX_OK)
        return rc;
    if (!lrpx__move_known_output(x, n, 0))
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    return size_forward(x, n);
}

const struct lrpx_op_def lrpx__op_size = {
    .onnx_name     = "Size",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = size_prepare,
    .forward       = size_forward,
};
