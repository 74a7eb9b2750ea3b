/* Sigmoid — y = 1 / (1 + exp(-x)), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Sigmoid.html  (opsets 1, 6, 13)
 * Types: float32, float64.
 * Backward: dy/dx = y (1 - y).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"
#include "ops/kernels/vmath_impl.h"
#include "util/parallel.h"

/* exp of a non-positive number only, so nothing overflows */
static inline double
sigmoid_d(double v)
{
    if (v >= 0.0)
        return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

/* float32: lrpx__sigmoidf (the same formula, with a vectorisable exp;
 * within 3 ulp), over ranges of elements on the session's threads. silu:
 * the output of a Mul(x, Sigmoid(x)) fused into this node (SiLU/Swish as
 * exporters write it), or NULL. */
struct sigmoid_ctx {
    const float *x;
    float       *y, *silu;
};

/* Per node: the Mul computing x * Sigmoid(x) that this node's forward
 * computes along (its output value), or -1. */
struct sigmoid_params {
    int silu_out;
};

LRPX_TARGET_CLONES_512
static void
sigmoid_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct sigmoid_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++)
        c->y[i] = lrpx__sigmoidf(c->x[i]);
}

/* y = x * s with s = sigmoid(x) in the same pass: one read of x and one
 * write instead of a second pass reading both. The product is the Mul's
 * own (float multiplication commutes exactly), so the bits are those of
 * the two nodes run one after the other. When the plan gives both outputs
 * one buffer (lrpx run), s is written and then y over it. */
LRPX_TARGET_CLONES_512
static void
silu_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct sigmoid_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++) {
        const float v = c->x[i], s = lrpx__sigmoidf(v);
        c->y[i]       = s;
        c->silu[i]    = v * s;
    }
}

/* Fuse the Mul that multiplies our input by our output (either order, both
 * operands the same shape, so no broadcasting): the forward executor then
 * skips it (x->fused) and the backward passes visit it as usual. Only for
 * float32 nodes that run (input not constant), not in the trial plan. */
static void
sigmoid_fuse_silu(struct lrpx_exec *x, const struct lrpx_node *n, struct sigmoid_params *p)
{
    const struct lrpx_graph *g = x->g;
    const int                v = n->outputs[0], a = n->inputs[0];

    p->silu_out = -1;
    if (x->trial || v < 0 || a < 0 || x->known[a] || x->vals[a].dtype != LRPX_DTYPE_FLOAT32)
        return;
    for (int i = 0; i < g->values[v].n_consumers; i++) {
        const int               ci = g->values[v].consumers[i];
        const struct lrpx_node *c  = &g->nodes[ci];
        if (c->op != LRPX_OP_MUL || !c->def || c->n_inputs != 2 || c->n_outputs < 1 ||
            c->outputs[0] < 0 || x->fused[ci])
            continue;
        if (!((c->inputs[0] == a && c->inputs[1] == v) || (c->inputs[0] == v && c->inputs[1] == a)))
            continue;
        p->silu_out  = c->outputs[0];
        x->fused[ci] = 1;
        return;
    }
}

static lrpx_status
sigmoid_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
    if (rc != LRPX_OK)
        return rc;
    struct sigmoid_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    sigmoid_fuse_silu(x, n, p);
    return LRPX_OK;
}

static lrpx_status
sigmoid_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32: {
        const struct sigmoid_params *p = LRPX_PARAMS(x, n, struct sigmoid_params);
        float *silu = p->silu_out >= 0 ? x->vals[p->silu_out].f32 : NULL;
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, silu ? silu_range : sigmoid_range,
                           &(struct sigmoid_ctx){a->f32, y->f32, silu});
        break;
    }
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, sigmoid_d(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

/* gx += g y (1 - y), vectorised (the generic unary backward's arithmetic:
 * (g y)(1 - y) in float); gx shares memory with neither y nor g */
struct sigmoid_back_ctx {
    const float *y, *g;
    float       *gx;
};

LRPX_TARGET_CLONES
static void
sigmoid_back_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct sigmoid_back_ctx *c  = ctx_;
    float *restrict                gx = c->gx;
    const float *restrict          y  = c->y, *restrict g = c->g;
    for (int64_t i = i0; i < i1; i++)
        gx[i] += g[i] * y[i] * (1.0f - y[i]);
}

static lrpx_status
sigmoid_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a  = lrpx__in(x, n, 0);
    float                    *gx = lrpx__back_in(x, n, 0);
    const float              *gy = lrpx__back_out(x, n, 0);
    if (a->dtype == LRPX_DTYPE_FLOAT32 && gx && gy) {
        struct sigmoid_back_ctx c = {lrpx__out(x, n, 0)->f32, gy, gx};
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, sigmoid_back_range, &c);
        return LRPX_OK;
    }
    LRPX_UNARY_BACKWARD(x, n, g * y * (1.0f - y));
}

const struct lrpx_op_def lrpx__op_sigmoid = {
    .onnx_name     = "Sigmoid",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = sigmoid_prepare,
    .forward       = sigmoid_forward,
    .backward      = sigmoid_backward,
    .relevance     = lrpx__back_identity,
    .lrp_class     = LRPX_LRP_CLASS_GATE,
    .elementwise   = true,
};
