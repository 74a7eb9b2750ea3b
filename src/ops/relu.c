/* Relu — y = max(0, x), element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Relu.html  (opsets 1, 6, 13, 14)
 * LRP:  relevance passes through unchanged; the rule is applied at the
 *       preceding linear layer (Conv/Gemm), see docs/lrp.md.
 * Gradient: the attribution methods deconvnet and guided-backprop change
 *       this op's backward through x->grad_mode (docs/methods.md).
 */
#include "core/op.h"
#include "util/parallel.h"

static lrpx_status
relu_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__check_float(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    return lrpx__set_output_like(x, n, 0, lrpx__in(x, n, 0));
}

struct relu_ctx {
    const float *x;
    float       *y;
};

LRPX_TARGET_CLONES
static void
relu_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct relu_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++)
        c->y[i] = c->x[i] > 0.0f ? c->x[i] : 0.0f;
}

static lrpx_status
relu_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    lrpx__parallel_for(x->pool, in->n_elems, 1 << 15, relu_range,
                       &(struct relu_ctx){in->f32, out->f32});
    return LRPX_OK;
}

/* dy/dx = 1 where x > 0 (0 at x == 0, as PyTorch). Captum's modified
 * backward rules: deconvnet passes max(0, g) whatever the sign of x, guided
 * backprop max(0, g) where x > 0. */
struct relu_back_ctx {
    const float *x, *go;
    float       *gi;
    int          mode;
};

/* gi += the gradient through the Relu, per the mode; selects without
 * branches so that the loops vectorise (a gi of -0 may become +0) */
LRPX_TARGET_CLONES
static void
relu_back_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct relu_back_ctx *c = ctx_;
    const float *restrict xv = c->x, *restrict go = c->go;
    float *restrict gi = c->gi;
    switch (c->mode) {
    case LRPX_GRAD_DECONV:
        for (int64_t i = i0; i < i1; i++)
            gi[i] += go[i] > 0.0f ? go[i] : 0.0f;
        break;
    case LRPX_GRAD_GUIDED:
        for (int64_t i = i0; i < i1; i++)
            gi[i] += (xv[i] > 0.0f) & (go[i] > 0.0f) ? go[i] : 0.0f;
        break;
    default:
        for (int64_t i = i0; i < i1; i++)
            gi[i] += xv[i] > 0.0f ? go[i] : 0.0f;
        break;
    }
}

static lrpx_status
relu_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const float              *go = lrpx__back_out(x, n, 0);
    float                    *gi = lrpx__back_in(x, n, 0);
    if (!go || !gi)
        return LRPX_OK;
    struct relu_back_ctx c = {in->f32, go, gi, (int)x->grad_mode};
    lrpx__parallel_for(x->pool, in->n_elems, 1 << 15, relu_back_range, &c);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_relu = {
    .onnx_name     = "Relu",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = relu_prepare,
    .forward       = relu_forward,
    .backward      = relu_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
