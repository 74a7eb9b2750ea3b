/* Tile — repeat the input repeats[k] times along each axis k.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Tile.html  (opsets 6, 13)
 *       The repeats input (int64, one per axis) must be known at prepare.
 *       Any element type.
 * LRP:  each output element is a copy of one input element: gradient and
 *       relevance of all copies are summed back to the source.
 *
 * The output, read row-major, is the view (r_0, d_0, r_1, d_1, ...) of the
 * input with stride 0 on the repeat axes, so Tile is a strided view of
 * twice the rank.
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
tile_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    int64_t reps[LRPX_MAX_RANK];
    int     n_reps;
    rc = lrpx__move_ints(x, n, 1, "repeats", reps, LRPX_MAX_RANK, &n_reps);
    if (rc != LRPX_OK)
        return rc;
    if (n_reps != r)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "repeats has %d values for a rank-%d input",
                                n_reps, r);

    int64_t dims[LRPX_MAX_RANK];
    for (int k = 0; k < r; k++) {
        if (reps[k] < 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "repeats[%d] = %lld is negative", k,
                                    (long long)reps[k]);
        if (!lrpx__mul_i64(in->dims[k], reps[k], &dims[k]))
            return lrpx__node_error(x, n, LRPX_ELIMIT, "axis %d: %lld x %lld overflows int64", k,
                                    (long long)in->dims[k], (long long)reps[k]);
    }
    rc = lrpx__set_output(x, n, 0, in->dtype, r, dims);
    if (rc != LRPX_OK)
        return rc;

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t strides[LRPX_MAX_RANK];
    lrpx__move_strides(in, strides);
    v->rank   = 2 * r;
    v->offset = 0;
    for (int k = 0; k < r; k++) {
        v->dims[2 * k]        = reps[k];
        v->strides[2 * k]     = 0;
        v->dims[2 * k + 1]    = in->dims[k];
        v->strides[2 * k + 1] = strides[k];
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_tile = {
    .onnx_name     = "Tile",
    .since_version = 6,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = tile_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
