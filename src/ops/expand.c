/* Expand — broadcast the input to a shape (numpy rules, both ways: the
 * result has the larger rank and, per axis, the larger of two dims where
 * one of them is 1).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Expand.html  (opsets 8, 13)
 *       The shape input must be known at prepare. Any element type.
 * LRP:  each output element is a copy of one input element: gradient and
 *       relevance of the replicated copies are summed back to the source
 *       (so relevance is conserved).
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

static lrpx_status
expand_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);

    int64_t shape[LRPX_MAX_RANK];
    int     n_shape;
    rc = lrpx__move_ints(x, n, 1, "shape", shape, LRPX_MAX_RANK, &n_shape);
    if (rc != LRPX_OK)
        return rc;

    const int r = in->rank > n_shape ? in->rank : n_shape;
    int64_t   dims[LRPX_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int     ia = k - (r - in->rank), ib = k - (r - n_shape);
        int64_t da = ia >= 0 ? in->dims[ia] : 1;
        int64_t db = ib >= 0 ? shape[ib] : 1;
        if (db < 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "shape[%d] = %lld is negative", ib,
                                    (long long)db);
        if (da == db || db == 1)
            dims[k] = da;
        else if (da == 1)
            dims[k] = db;
        else {
            char s1[128], s2[128];
            return lrpx__node_error(x, n, LRPX_ESHAPE, "input shape %s does not expand to %s",
                                    lrpx__dims_str(in->dims, in->rank, s1, sizeof s1),
                                    lrpx__dims_str(shape, n_shape, s2, sizeof s2));
        }
    }
    rc = lrpx__set_output(x, n, 0, in->dtype, r, dims);
    if (rc != LRPX_OK)
        return rc;

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t strides[LRPX_MAX_RANK];
    lrpx__move_strides(in, strides);
    v->rank   = r;
    v->offset = 0;
    for (int k = 0; k < r; k++) {
        int ia        = k - (r - in->rank);
        v->dims[k]    = dims[k];
        /* a size-1 (or missing) input axis is read again for every index */
        v->strides[k] = ia >= 0 && in->dims[ia] != 1 ? strides[ia] : 0;
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_expand = {
    .onnx_name     = "Expand",
    .since_version = 8,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = expand_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
