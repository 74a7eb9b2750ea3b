/* Reshape — the same elements in row-major order under a new shape.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Reshape.html  (opsets 1, 5, 13, 14)
 *       opset < 5: `shape` attribute; from 5: `shape` input (must be known
 *       at prepare). A 0 copies the input's dim at that position (a literal
 *       0 when allowzero = 1, opset 14); one -1 is inferred. Any element
 *       type.
 * LRP:  a pure rearrangement: gradient and relevance pass through
 *       unchanged.
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
reshape_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);

    int64_t shape[LRPX_MAX_RANK];
    int     rank = 0;
    if (x->opset < 5) {
        const int64_t *s;
        rank = lrpx__attr_ints(n, "shape", &s);
        if (!lrpx__attr_find(n, "shape"))
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'shape' is missing");
        if (rank > LRPX_MAX_RANK)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "target rank %d exceeds %d", rank,
                                    LRPX_MAX_RANK);
        for (int k = 0; k < rank; k++)
            shape[k] = s[k];
    } else {
        rc = lrpx__move_ints(x, n, 1, "shape", shape, LRPX_MAX_RANK, &rank);
        if (rc != LRPX_OK)
            return rc;
    }
    bool allowzero = x->opset >= 14 && lrpx__attr_int(n, "allowzero", 0) != 0;

    int64_t dims[LRPX_MAX_RANK];
    int64_t known = 1;         /* product of the dims other than the -1 */
    int     infer = -1;
    bool    has_zero = false;
    for (int k = 0; k < rank; k++) {
        int64_t s = shape[k];
        if (s == -1) {
            if (infer >= 0)
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "shape has more than one -1 (at %d and %d)", infer, k);
            infer = k;
            continue;
        }
        if (s < -1)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "shape[%d] = %lld is invalid", k,
                                    (long long)s);
        if (s == 0 && !allowzero) {
            if (k >= in->rank)
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "shape[%d] = 0 copies a dim the rank-%d input lacks", k,
                                        in->rank);
            s = in->dims[k];
        }
        if (s == 0)
            has_zero = true;
        dims[k] = s;
        if (!lrpx__mul_i64(known, s, &known))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "shape product overflows int64");
    }
    if (infer >= 0) {
        if (allowzero && has_zero)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "allowzero = 1 forbids 0 and -1 in the same shape");
        if (known == 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "cannot infer the -1 next to a zero-size dim");
        if (in->n_elems % known != 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "cannot reshape %lld elements: not a multiple of %lld",
                                    (long long)in->n_elems, (long long)known);
        dims[infer] = in->n_elems / known;
    } else if (known != in->n_elems) {
        char a[128], b[128];
        return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot reshape %s (%lld elements) to %s (%lld elements)",
                                lrpx__dims_str(in->dims, in->rank, a, sizeof a),
                                (long long)in->n_elems, lrpx__dims_str(dims, rank, b, sizeof b),
                                (long long)known);
    }
    return lrpx__set_output(x, n, 0, in->dtype, rank, dims);
}

const struct lrpx_op_def lrpx__op_reshape = {
    .onnx_name     = "Reshape",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = reshape_prepare,
    .forward       = lrpx__move_copy_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
};
