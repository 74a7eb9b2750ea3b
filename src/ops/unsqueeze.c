/* Unsqueeze — insert axes of size 1.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Unsqueeze.html  (opsets 1, 11, 13)
 *       axes (required): attribute before opset 13, input from 13 (known at
 *       prepare); they index the output, negative ones from its back. Any
 *       element type.
 * LRP:  a pure rearrangement: gradient and relevance pass through
 *       unchanged.
 */
#include <stdio.h>

#include "ops/kernels/move_impl.h"

static lrpx_status
unsqueeze_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);

    int64_t axes[LRPX_MAX_RANK];
    int     n_axes = 0;
    if (x->opset < 13) {
        const int64_t *a;
        n_axes = lrpx__attr_ints(n, "axes", &a);
        if (!lrpx__attr_find(n, "axes"))
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'axes' is missing");
        if (in->rank + n_axes > LRPX_MAX_RANK)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "output rank %d exceeds %d",
                                    in->rank + n_axes, LRPX_MAX_RANK);
        for (int k = 0; k < n_axes; k++)
            axes[k] = a[k];
    } else {
        rc = lrpx__move_ints(x, n, 1, "axes", axes, LRPX_MAX_RANK - in->rank, &n_axes);
        if (rc != LRPX_OK)
            return rc;
    }

    const int r = in->rank + n_axes;
    bool      ones[LRPX_MAX_RANK] = {false};
    for (int k = 0; k < n_axes; k++) {
        int  a;
        char what[32];
        snprintf(what, sizeof what, "axes[%d]", k);
        rc = lrpx__move_axis(x, n, axes[k], r, what, &a);
        if (rc != LRPX_OK)
            return rc;
        if (ones[a])
            return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d is listed twice", a);
        ones[a] = true;
    }
    int64_t dims[LRPX_MAX_RANK];
    for (int k = 0, j = 0; k < r; k++)
        dims[k] = ones[k] ? 1 : in->dims[j++];
    return lrpx__set_output(x, n, 0, in->dtype, r, dims);
}

const struct lrpx_op_def lrpx__op_unsqueeze = {
    .onnx_name     = "Unsqueeze",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = unsqueeze_prepare,
    .forward       = lrpx__move_copy_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
};
