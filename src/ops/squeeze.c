/* Squeeze — remove axes of size 1.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Squeeze.html  (opsets 1, 11, 13)
 *       axes: attribute before opset 13, optional input from 13 (known at
 *       prepare); negative axes count from the back; no axes = every size-1
 *       axis. Any element type.
 * LRP:  a pure rearrangement: gradient and relevance pass through
 *       unchanged.
 */
#include <stdio.h>

#include "ops/kernels/move_impl.h"

static lrpx_status
squeeze_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    int64_t axes[LRPX_MAX_RANK];
    int     n_axes = 0;
    bool    given  = false;
    if (x->opset < 13) {
        const int64_t *a;
        int            count = lrpx__attr_ints(n, "axes", &a);
        given = lrpx__attr_find(n, "axes") != NULL;
        if (count > r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "%d axes for a rank-%d input", count, r);
        for (int k = 0; k < count; k++)
            axes[k] = a[k];
        n_axes = count;
    } else if (lrpx__in(x, n, 1)) {
        given = true;
        rc    = lrpx__move_ints(x, n, 1, "axes", axes, r, &n_axes);
        if (rc != LRPX_OK)
            return rc;
    }

    bool drop[LRPX_MAX_RANK] = {false};
    if (given) {
        for (int k = 0; k < n_axes; k++) {
            int  a;
            char what[32];
            snprintf(what, sizeof what, "axes[%d]", k);
            rc = lrpx__move_axis(x, n, axes[k], r, what, &a);
            if (rc != LRPX_OK)
                return rc;
            if (drop[a])
                return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d is listed twice", a);
            if (in->dims[a] != 1)
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "cannot squeeze axis %d of size %lld", a,
                                        (long long)in->dims[a]);
            drop[a] = true;
        }
    } else {
        for (int k = 0; k < r; k++)
            drop[k] = in->dims[k] == 1;
    }

    int64_t dims[LRPX_MAX_RANK];
    int     rank = 0;
    for (int k = 0; k < r; k++)
        if (!drop[k])
            dims[rank++] = in->dims[k];
    return lrpx__set_output(x, n, 0, in->dtype, rank, dims);
}

const struct lrpx_op_def lrpx__op_squeeze = {
    .onnx_name     = "Squeeze",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = squeeze_prepare,
    .forward       = lrpx__move_copy_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
};
