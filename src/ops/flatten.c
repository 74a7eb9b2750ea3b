/* Flatten — reshape to 2-D: (d_0 * ... * d_{axis-1}, d_axis * ... * d_{r-1}).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Flatten.html  (opsets 1, 9, 11, 13)
 *       axis in [0, r] before opset 11, [-r, r] from 11; any element type.
 * LRP:  a pure rearrangement (element i of the output is element i of the
 *       input): gradient and relevance pass through unchanged.
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
flatten_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in   = lrpx__in(x, n, 0);
    int64_t                   axis = lrpx__attr_int(n, "axis", 1);
    int64_t                   low  = x->opset < 11 ? 0 : -(int64_t)in->rank;

    if (axis < low || axis > in->rank)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "axis = %lld is out of range [%lld, %d]",
                                (long long)axis, (long long)low, in->rank);
    if (axis < 0)
        axis += in->rank;

    /* checked: with a zero-size axis the other factors are unbounded */
    int64_t dims[2] = {1, 1};
    for (int k = 0; k < in->rank; k++) {
        int64_t *d = &dims[k < axis ? 0 : 1];
        if (!lrpx__mul_i64(*d, in->dims[k], d))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "flattened size overflows int64");
    }
    return lrpx__set_output(x, n, 0, in->dtype, 2, dims);
}

const struct lrpx_op_def lrpx__op_flatten = {
    .onnx_name     = "Flatten",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = flatten_prepare,
    .forward       = lrpx__move_copy_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
};
