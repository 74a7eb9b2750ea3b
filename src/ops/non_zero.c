/* NonZero — the indices of the non-zero elements, as an int64 tensor of
 * shape (rank, count), in row-major order (numpy.nonzero stacked).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__NonZero.html  (opsets 9, 13)
 *       The output shape depends on the values, so the input must be known
 *       at prepare (the planner then folds the node). A scalar input is
 *       treated as 1-D of length 1. Any numeric or bool input.
 * LRP:  the output is int64: no gradient, no relevance.
 */
#include "ops/kernels/move_impl.h"

static bool
non_zero_at(const struct lrpx_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case LRPX_DTYPE_FLOAT16: /* +0 and -0 are the only zeros */
        return (((const uint16_t *)t->data)[i] & 0x7fff) != 0;
    case LRPX_DTYPE_FLOAT32:
    case LRPX_DTYPE_FLOAT64:
        return lrpx__tensor_get_f64(t, i) != 0.0;   /* NaN counts as non-zero */
    default:
        return lrpx__tensor_get_i64(t, i) != 0;
    }
}

static lrpx_status
non_zero_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    if (!lrpx__in_known(x, n, 0))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input must be constant (the output shape depends on its values)");
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    int64_t                   count = 0;
    for (int64_t i = 0; i < in->n_elems; i++)
        count += non_zero_at(in, i);
    int64_t dims[2] = {in->rank > 0 ? in->rank : 1, count};
    return lrpx__set_output(x, n, 0, LRPX_DTYPE_INT64, 2, dims);
}

static lrpx_status
non_zero_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in    = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out   = lrpx__out(x, n, 0);
    const int                 r     = in->rank;
    const int64_t             count = out->dims[1];
    int64_t                   idx[LRPX_MAX_RANK] = {0};

    int64_t j = 0;
    for (int64_t i = 0; i < in->n_elems && j < count; i++) {
        if (non_zero_at(in, i)) {
            if (r == 0)
                out->i64[j] = 0;
            for (int k = 0; k < r; k++)
                out->i64[k * count + j] = idx[k];
            j++;
        }
        for (int k = r - 1; k >= 0; k--) {   /* row-major odometer */
            if (++idx[k] < in->dims[k])
                break;
            idx[k] = 0;
        }
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_non_zero = {
    .onnx_name     = "NonZero",
    .since_version = 9,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = non_zero_prepare,
    .forward       = non_zero_forward,
};
