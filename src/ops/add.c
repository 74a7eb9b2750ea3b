/* Add — C = A + B, element-wise with numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Add.html  (opsets 1, 6, 7, 13, 14;
 *       before 7 the limited broadcast of attributes `broadcast`/`axis`)
 * Types: all ten numeric types; integers wrap on overflow.
 * LRP:  proportional split. Output element j is the sum of the contributions
 *       z_aj = a_j and z_bj = b_j (after broadcasting), so
 *           R_a += a_j / stab(a_j + b_j) * R_j   (summed over the broadcast),
 *       and the same for b; stab(z) = z + eps*sign(z) with eps the rule's
 *       stabilizer. An operand that carries no relevance (a constant: a bias)
 *       absorbs its share, which gives the bias rule R_x = x / stab(x + c) R.
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"
#include "core/rules.h"
#include "util/parallel.h"

LRPX_ROW2_WRAPPING(add, av + bv)

static const lrpx_bcast_row2 add_rows[LRPX_DTYPE_COUNT] = {LRPX_ROW2_TABLE(add)};

static lrpx_status
add_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_prepare(x, n, LRPX_DT_NUMERIC, LRPX_DTYPE_UNDEFINED);
}

static lrpx_status
add_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__binary_forward(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), add_rows);
}

static lrpx_status
add_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__elem_pass_to(x, n, 0, 1.0f);
    if (rc == LRPX_OK)
        rc = lrpx__elem_pass_to(x, n, 1, 1.0f);
    return rc;
}

/* lrpx__stabilize without branches (the same values), so that the
 * loop below vectorises */
static inline double
add_stab(double z, double eps)
{
    const double d = z + (z >= 0.0 ? eps : -eps);
    return d != 0.0 ? d : INFINITY;
}

/* both operands of the output's shape: the rows of add_relevance_row
 * without strides */
LRPX_TARGET_CLONES
static void
add_relevance_flat(const struct lrpx_back_ctx *c, int64_t n, int64_t o, const int64_t *off)
{
    const float *restrict a = c->op[0] + off[0], *restrict b = c->op[1] + off[1];
    const float *restrict r   = c->g + o;
    const double          eps = c->eps;
    float *restrict       ga  = c->gin[0] ? c->gin[0] + off[0] : NULL;
    float *restrict       gb  = c->gin[1] ? c->gin[1] + off[1] : NULL;
    if (ga)
        for (int64_t i = 0; i < n; i++)
            ga[i] += (float)(a[i] * (r[i] / add_stab((double)a[i] + b[i], eps)));
    if (gb)
        for (int64_t i = 0; i < n; i++)
            gb[i] += (float)(b[i] * (r[i] / add_stab((double)a[i] + b[i], eps)));
}

static void
add_relevance_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *c  = ctx;
    const float                *a  = c->op[0] + off[0], *b = c->op[1] + off[1];
    const float                *r  = c->g + o;
    const int                   sa = in[0], sb = in[1];
    const double                eps = c->eps;
    if (sa == 1 && sb == 1) {
        add_relevance_flat(c, n, o, off);
        return;
    }
    if (c->gin[0])
        LRPX_ACC_ROW(c->gin[0] + off[0], sa, n,
                     a[i * sa] * (r[i] / lrpx__stabilize((double)a[i * sa] + b[i * sb], eps)));
    if (c->gin[1])
        LRPX_ACC_ROW(c->gin[1] + off[1], sb, n,
                     b[i * sb] * (r[i] / lrpx__stabilize((double)a[i * sa] + b[i * sb], eps)));
}

static lrpx_status
add_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {.eps = lrpx__rule(x, n)->stab};
    /* relevance is added, never assigned: a value may feed several nodes */
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               add_relevance_row, &c);
}

const struct lrpx_op_def lrpx__op_add = {
    .onnx_name     = "Add",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = add_prepare,
    .forward       = add_forward,
    .backward      = add_backward,
    .relevance     = add_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
    .elementwise   = true,
};
