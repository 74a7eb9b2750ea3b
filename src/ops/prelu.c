/* PRelu — y = x for x >= 0, slope * x otherwise, element-wise; slope
 * broadcasts to x (unidirectionally: the output has x's shape).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__PRelu.html  (opsets 1, 6, 7, 9, 16)
 *       Before 7 a 1-D slope with one value per channel is laid along axis 1
 *       (as PyTorch exported nn.PReLU then); from 7 numpy alignment applies.
 * Types: float32, float64 (the integer types of opset 16 are not taken).
 * Backward: dy/dx = 1 for x > 0, slope otherwise; dy/dslope = x for
 *       x <= 0, 0 otherwise (summed over the broadcast), as PyTorch.
 * LRP:  relevance passes through to x unchanged (an element-wise activation);
 *       the slope, a weight, gets none.
 */
#include "ops/kernels/broadcast_impl.h"

static lrpx_status
prelu_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;
    if ((rc = lrpx__unary_prepare(x, n, LRPX_DT_FLOATS)) != LRPX_OK)
        return rc;
    const struct lrpx_tensor *a = lrpx__in(x, n, 0), *s = lrpx__in(x, n, 1);
    if (!s)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input 1 (slope) is missing");
    if (s->dtype != a->dtype)
        return lrpx__node_error(x, n, LRPX_EINVAL, "slope has type %s but X has %s",
                                lrpx_dtype_name(s->dtype), lrpx_dtype_name(a->dtype));
    struct lrpx_bcast *it = lrpx__params_alloc(x, n, sizeof *it);
    if (!it)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");

    int64_t sdims[LRPX_MAX_RANK];
    int     srank = s->rank;
    for (int d = 0; d < s->rank; d++)
        sdims[d] = s->dims[d];
    if (x->opset < 7 && s->rank == 1 && a->rank >= 2 && s->dims[0] == a->dims[1]) {
        srank = a->rank - 1;                     /* [C] -> [C, 1, ..., 1] */
        for (int d = 1; d < srank; d++)
            sdims[d] = 1;
    }
    const int      ranks[2] = {a->rank, srank};
    const int64_t *dims[2]  = {a->dims, sdims};
    if (!lrpx__bcast_init(it, a->rank, a->dims, 2, ranks, dims)) {
        char da[96], ds[96];
        return lrpx__node_error(x, n, LRPX_ESHAPE, "slope %s does not broadcast to X %s",
                                lrpx__dims_str(s->dims, s->rank, ds, sizeof ds),
                                lrpx__dims_str(a->dims, a->rank, da, sizeof da));
    }
    return LRPX_OK;
}

LRPX_ROW2(prelu_f32, float, float, float, av < 0.0f ? bv * av : av)
LRPX_ROW2(prelu_f64, double, double, double, av < 0.0 ? bv * av : av)

static const lrpx_bcast_row2 prelu_rows[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_FLOAT32] = prelu_f32,
    [LRPX_DTYPE_FLOAT64] = prelu_f64,
};

static lrpx_status
prelu_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), prelu_rows);
}

static void
prelu_backward_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *c  = ctx;
    const float                *a  = c->op[0] + off[0], *s = c->op[1] + off[1];
    const float                *g  = c->g + o;
    const int                   sa = in[0], ss = in[1];
    if (c->gin[0])
        LRPX_ACC_ROW(c->gin[0] + off[0], sa, n, a[i * sa] > 0.0f ? g[i] : g[i] * s[i * ss]);
    if (c->gin[1])
        LRPX_ACC_ROW(c->gin[1] + off[1], ss, n, a[i * sa] > 0.0f ? 0.0f : g[i] * a[i * sa]);
}

static lrpx_status
prelu_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {0};
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               prelu_backward_row, &c);
}

const struct lrpx_op_def lrpx__op_prelu = {
    .onnx_name     = "PRelu",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = prelu_prepare,
    .forward       = prelu_forward,
    .backward      = prelu_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
