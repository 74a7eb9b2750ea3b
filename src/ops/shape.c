/* Shape — the input's dims as a 1-D int64 tensor (optionally a slice of
 * them).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Shape.html  (opsets 1, 13, 15)
 *       start/end attributes from opset 15: negative ones count from the
 *       back, both are clamped to [0, rank]. Any input type.
 * LRP:  no float path (the output is int64): no gradient, no relevance.
 *
 * The output depends only on the input's shape, which is fixed by the
 * plan, so prepare computes it and marks it known: Shape -> Gather ->
 * Concat -> Reshape chains then fold even though the input is data.
 */
#include "ops/kernels/move_impl.h"

struct shape_params {
    int start, len;
};

static lrpx_status
shape_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct shape_params *p   = LRPX_PARAMS(x, n, struct shape_params);
    const struct lrpx_tensor  *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor        *out = lrpx__out(x, n, 0);

    for (int k = 0; k < p->len; k++)
        out->i64[k] = in->dims[p->start + k];
    return LRPX_OK;
}

static lrpx_status
shape_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int64_t             r  = in->rank;

    int64_t start = 0, end = r;
    if (x->opset >= 15) {
        start = lrpx__attr_int(n, "start", 0);
        end   = lrpx__attr_int(n, "end", r);
    }
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end   = end < 0 ? 0 : end > r ? r : end;

    struct shape_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->start = (int)start;
    p->len   = end > start ? (int)(end - start) : 0;

    int64_t     dims[1] = {p->len};
    lrpx_status rc      = lrpx__set_output(x, n, 0, LRPX_DTYPE_INT64, 1, dims);
    if (rc != LRPX_OK)
        return rc;
    if (!lrpx__move_known_output(x, n, 0))
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    return shape_forward(x, n);
}

const struct lrpx_op_def lrpx__op_shape = {
    .onnx_name     = "Shape",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = shape_prepare,
    .forward       = shape_forward,
};
