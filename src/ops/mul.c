/* Mul — C = A * B, element-wise with numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Mul.html  (opsets 1, 6, 7, 13, 14;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: all ten numeric types; integers wrap on overflow.
 * LRP:  a product is not a sum of contributions, so Mul does not split:
 *       - one operand carries relevance (the other is a constant, e.g. a
 *         scale): all relevance passes to it (summed over the broadcast);
 *       - both do (gating, x * sigmoid(s) in SE blocks, SiLU/Swish): all
 *         relevance goes to the operand that is not the gate. The gate is
 *         the operand with fewer elements (the broadcast one); with equal
 *         counts, the one produced by Sigmoid, HardSigmoid or Tanh; if that
 *         still does not decide, the relevance is split evenly.
 */
#include <string.h>

#include "ops/kernels/broadcast_impl.h"
#include "util/parallel.h"

LRPX_ROW2_WRAPPING(mul, av * bv)

static const lrpx_bcast_row2 mul_rows[LRPX_DTYPE_COUNT] = {LRPX_ROW2_TABLE(mul)};

static lrpx_status
mul_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC, LRPX_DTYPE_UNDEFINED);
}

static lrpx_status
mul_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), mul_rows);
}

/* ga += g * b and gb += g * a over a row where neither operand is
 * broadcast (SiLU's x * s, gates of equal shape): the float product of two
 * floats is the double product rounded once, so this is the general row's
 * arithmetic, vectorised. */
LRPX_TARGET_CLONES
static void
mul_backward_unit(float *restrict ga, float *restrict gb, const float *restrict a,
                  const float *restrict b, const float *restrict g, int64_t n)
{
    if (ga)
        for (int64_t i = 0; i < n; i++)
            ga[i] += g[i] * b[i];
    if (gb)
        for (int64_t i = 0; i < n; i++)
            gb[i] += g[i] * a[i];
}

static void
mul_backward_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *c  = ctx;
    const float                *a  = c->op[0] + off[0], *b = c->op[1] + off[1];
    const float                *g  = c->g + o;
    const int                   sa = in[0], sb = in[1];
    if (sa == 1 && sb == 1 && c->gin[0] != c->gin[1]) {
        mul_backward_unit(c->gin[0] ? c->gin[0] + off[0] : NULL,
                          c->gin[1] ? c->gin[1] + off[1] : NULL, a, b, g, n);
        return;
    }
    if (c->gin[0])
        LRPX_ACC_ROW(c->gin[0] + off[0], sa, n, (double)g[i] * b[i * sb]);
    if (c->gin[1])
        LRPX_ACC_ROW(c->gin[1] + off[1], sb, n, (double)g[i] * a[i * sa]);
}

static lrpx_status
mul_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {0};
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               mul_backward_row, &c);
}

/* Is input i the output of a squashing node (a gate)? */
static bool
mul_is_gate(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    int p = x->g->values[n->inputs[i]].producer;
    if (p < 0)
        return false;
    return lrpx__node_is(&x->g->nodes[p], LRPX_LRP_CLASS_GATE);
}

static lrpx_status
mul_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const bool ra = lrpx__back_in(x, n, 0) != NULL;
    const bool rb = lrpx__back_in(x, n, 1) != NULL;
    if (!ra || !rb)              /* at most one carries relevance: all to it */
        return lrpx__elem_pass_to(x, n, ra ? 0 : 1, 1.0f);

    int64_t na = lrpx__in(x, n, 0)->n_elems, nb = lrpx__in(x, n, 1)->n_elems;
    int     gate = -1;
    if (na != nb)
        gate = na < nb ? 0 : 1;
    else if (mul_is_gate(x, n, 0) != mul_is_gate(x, n, 1))
        gate = mul_is_gate(x, n, 0) ? 0 : 1;
    if (gate >= 0)
        return lrpx__elem_pass_to(x, n, 1 - gate, 1.0f);
    lrpx_status rc = lrpx__elem_pass_to(x, n, 0, 0.5f);
    if (rc == LRPX_OK)
        rc = lrpx__elem_pass_to(x, n, 1, 0.5f);
    return rc;
}

const struct lrpx_op_def lrpx__op_mul = {
    .onnx_name     = "Mul",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = mul_prepare,
    .forward       = mul_forward,
    .backward      = mul_backward,
    .relevance     = mul_relevance,
    .elementwise   = true,
};
