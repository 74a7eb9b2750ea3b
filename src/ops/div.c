/* Div — C = A / B, element-wise with numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Div.html  (opsets 1, 6, 7, 13, 14;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: all ten numeric types. Integer division truncates toward zero (as
 *       C, ONNX Runtime and the ONNX reference implementation do: numpy's
 *       true division cast back to the integer type); a zero divisor is an
 *       error naming the node; INT_MIN / -1 wraps to INT_MIN.
 * LRP:  the quotient is treated as a rescaling of A by a factor 1/B (as a
 *       normalization layer, x / sqrt(var + eps), is): all relevance passes
 *       to A when A carries relevance, else to B (1 / x, as Reciprocal).
 */
#include "ops/kernels/broadcast_impl.h"

#define DIV_SIGNED (bv == -1 ? (int64_t)(0u - (uint64_t)av) : av / bv)

LRPX_ROW2(div_f32, float, float, float, av / bv)
LRPX_ROW2(div_f64, double, double, double, av / bv)
LRPX_ROW2(div_i8, int8_t, int64_t, int8_t, DIV_SIGNED)
LRPX_ROW2(div_i16, int16_t, int64_t, int16_t, DIV_SIGNED)
LRPX_ROW2(div_i32, int32_t, int64_t, int32_t, DIV_SIGNED)
LRPX_ROW2(div_i64, int64_t, int64_t, int64_t, DIV_SIGNED)
LRPX_ROW2(div_u8, uint8_t, uint32_t, uint8_t, av / bv)
LRPX_ROW2(div_u16, uint16_t, uint32_t, uint16_t, av / bv)
LRPX_ROW2(div_u32, uint32_t, uint32_t, uint32_t, av / bv)
LRPX_ROW2(div_u64, uint64_t, uint64_t, uint64_t, av / bv)

static const lrpx_bcast_row2 div_rows[LRPX_DTYPE_COUNT] = {LRPX_ROW2_TABLE(div)};

static lrpx_status
div_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC, LRPX_DTYPE_UNDEFINED);
}

static lrpx_status
div_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *b = lrpx__in(x, n, 1);
    const struct lrpx_tensor *y = lrpx__out(x, n, 0);
    if (b->dtype != LRPX_DTYPE_FLOAT32 && b->dtype != LRPX_DTYPE_FLOAT64 && y->n_elems > 0)
        for (int64_t i = 0; i < b->n_elems; i++)
            if (lrpx__tensor_get_i64(b, i) == 0)
                return lrpx__node_error(x, n, LRPX_EINVAL,
                                        "integer division by zero (element %lld of B)",
                                        (long long)i);
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), div_rows);
}

static void
div_backward_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *c  = ctx;
    const float                *a  = c->op[0] + off[0], *b = c->op[1] + off[1];
    const float                *g  = c->g + o;
    const int                   sa = in[0], sb = in[1];
    if (c->gin[0])
        LRPX_ACC_ROW(c->gin[0] + off[0], sa, n, (double)g[i] / b[i * sb]);
    if (c->gin[1])   /* d(a/b)/db = -a / b^2 */
        LRPX_ACC_ROW(c->gin[1] + off[1], sb, n,
                     -(double)g[i] * a[i * sa] / ((double)b[i * sb] * b[i * sb]));
}

static lrpx_status
div_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {0};
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               div_backward_row, &c);
}

static lrpx_status
div_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__elem_pass_to(x, n, lrpx__back_in(x, n, 0) ? 0 : 1, 1.0f);
}

const struct lrpx_op_def lrpx__op_div = {
    .onnx_name     = "Div",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = div_prepare,
    .forward       = div_forward,
    .backward      = div_backward,
    .relevance     = div_relevance,
    .elementwise   = true,
};
