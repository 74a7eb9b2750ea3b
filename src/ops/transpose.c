/* Transpose — permute the axes: out.dims[k] = in.dims[perm[k]].
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Transpose.html  (opsets 1, 13)
 *       perm defaults to the reversed axes; any element type.
 * LRP:  a pure rearrangement: gradient and relevance are routed back to
 *       the element each output came from (the same function).
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
transpose_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    int            perm[LRPX_MAX_RANK];
    const int64_t *p;
    int            n_perm = lrpx__attr_ints(n, "perm", &p);
    if (lrpx__attr_find(n, "perm")) {
        if (n_perm != r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "perm has %d entries for a rank-%d input",
                                    n_perm, r);
        bool seen[LRPX_MAX_RANK] = {false};
        for (int k = 0; k < r; k++) {
            if (p[k] < 0 || p[k] >= r || seen[p[k]])
                return lrpx__node_error(x, n, LRPX_EINVAL,
                                        "perm is not a permutation of 0..%d (perm[%d] = %lld)",
                                        r - 1, k, (long long)p[k]);
            seen[p[k]] = true;
            perm[k]    = (int)p[k];
        }
    } else {
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
    }

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t strides[LRPX_MAX_RANK];
    lrpx__move_strides(in, strides);
    int64_t dims[LRPX_MAX_RANK];
    v->rank   = r;
    v->offset = 0;
    for (int k = 0; k < r; k++) {
        dims[k]       = in->dims[perm[k]];
        v->dims[k]    = dims[k];
        v->strides[k] = strides[perm[k]];
    }
    return lrpx__set_output(x, n, 0, in->dtype, r, dims);
}

const struct lrpx_op_def lrpx__op_transpose = {
    .onnx_name     = "Transpose",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = transpose_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
