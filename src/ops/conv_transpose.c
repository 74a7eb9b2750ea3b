/* ConvTranspose — the adjoint (data gradient) of an N-D convolution, plus
 * an optional per-channel bias:
 *   Y[b, m, i*s - p + k*d] += X[b, c, i] W[c, m', k]   (m in c's group)
 * X [N, C, in...], W [C, M/group, k...], Y [N, M, out...] with
 *   out = s (in - 1) + output_padding + (k - 1) d + 1 - pad_begin - pad_end,
 * or out = output_shape (pads derived), or out = in * s for SAME_* auto_pad.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ConvTranspose.html  (opsets 1,
 *       11; float32). With output_shape or SAME_*, total padding
 *       full - out is split with the odd pixel at the end for SAME_UPPER and
 *       at the beginning otherwise (the formula of the spec); a requested
 *       output larger than the full extent is zero (plus bias) at the end.
 * Kernels: src/ops/kernels/conv_impl.c — this op is the convolution of conv_impl
 *       with input and output swapped ("conv terms": in = Y side, out = X).
 * LRP:  a linear layer (lrpx__lrp_linear through conv_transpose_linear:
 *       apply = the transposed convolution with a substitute weight and no
 *       bias, apply_t = its data gradient, i.e. the plain convolution).
 */
#include "core/rules.h"
#include "ops/kernels/conv_impl.h"
#include "core/linear.h"

struct conv_transpose_params {
    struct lrpx_linear_roles roles;      /* first member (LRPX_LINEAR_PARAMS) */
    struct lrpx_conv_geom    geom;       /* conv terms: in = Y, out = X  */
    size_t                   scratch;
};
LRPX_LINEAR_PARAMS(struct conv_transpose_params);

static lrpx_status
conv_transpose_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_dtype(x, n, 1, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
        return rc;

    struct conv_transpose_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    int64_t dims[LRPX_MAX_RANK];
    if ((rc = lrpx__conv_prepare_common(x, n, true, &p->geom, &p->roles, dims)) != LRPX_OK)
        return rc;

    p->scratch = lrpx__conv_scratch_bytes(&p->geom);
    lrpx__scratch_request(x, p->scratch);
    return lrpx__set_output(x, n, 0, LRPX_DTYPE_FLOAT32, lrpx__in(x, n, 0)->rank, dims);
}

static lrpx_status
conv_transpose_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_transpose_params *p = LRPX_PARAMS(x, n, struct conv_transpose_params);
    const struct lrpx_tensor           *b = lrpx__in(x, n, 2);
    struct lrpx_tensor                 *y = lrpx__out(x, n, 0);
    lrpx_status rc;

    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    if (b != NULL)
        lrpx__channel_bias_fill(y->f32, b->f32, p->geom.batch, p->geom.in_c, p->geom.in_size);
    lrpx__conv_bwd_data(&p->geom, lrpx__in(x, n, 0)->f32, lrpx__in(x, n, 1)->f32, y->f32,
                        b != NULL, x->scratch, x->pool);
    return LRPX_OK;
}

static lrpx_status
conv_transpose_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_transpose_params *p = LRPX_PARAMS(x, n, struct conv_transpose_params);
    const float *gy = lrpx__back_out(x, n, 0);
    float *gx = lrpx__back_in(x, n, 0);
    float *gw = lrpx__back_in(x, n, 1);
    float *gb = lrpx__back_in(x, n, 2);
    lrpx_status rc;

    if (gy == NULL)
        return LRPX_OK;
    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    /* Y = A_W^T X for the convolution A_W, so dX = A_W dY and, since
     * <dY, A_W^T X> = <A_W dY, X>, dW is the conv weight gradient with
     * input dY and output gradient X */
    if (gx != NULL)
        lrpx__conv_fwd(&p->geom, gy, lrpx__in(x, n, 1)->f32, gx, true, x->scratch,
                       x->pool);
    if (gw != NULL)
        lrpx__conv_bwd_weight(&p->geom, gy, lrpx__in(x, n, 0)->f32, gw, x->scratch);
    if (gb != NULL)
        lrpx__channel_bias_grad(gy, gb, p->geom.batch, p->geom.in_c, p->geom.in_size);
    return LRPX_OK;
}

/* ---- linear form for the LRP rules ---- */

static void
conv_transpose_apply(struct lrpx_exec *x, const struct lrpx_node *n, const float *in,
                     const float *w, float *out, void *scratch)
{
    const struct conv_transpose_params *p = LRPX_PARAMS(x, n, struct conv_transpose_params);
    lrpx__conv_bwd_data(&p->geom, in, w, out, false, scratch, x->pool);
}

static void
conv_transpose_apply_t(struct lrpx_exec *x, const struct lrpx_node *n, const float *gout,
                       const float *w, float *gin, void *scratch)
{
    const struct conv_transpose_params *p = LRPX_PARAMS(x, n, struct conv_transpose_params);
    lrpx__conv_fwd(&p->geom, gout, w, gin, false, scratch, x->pool);
}

static void
conv_transpose_add_bias(struct lrpx_exec *x, const struct lrpx_node *n, const float *b,
                        float *out)
{
    const struct conv_transpose_params *p = LRPX_PARAMS(x, n, struct conv_transpose_params);
    lrpx__channel_bias_add(out, b, p->geom.batch, p->geom.in_c, p->geom.in_size);
}

static size_t
conv_transpose_scratch_bytes(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return LRPX_PARAMS(x, n, struct conv_transpose_params)->scratch;
}

/* W [C, M/group, k...]: input channel c of group c / (C/group) feeds
 * output channels group * (M/group) + j through the slice W[c, j]. */
static bool
conv_transpose_channel_layout(const struct lrpx_node *n, const struct lrpx_tensor *w,
                              int in_index, int out_rank, struct lrpx_chan_layout *l)
{
    (void)out_rank;
    int64_t group = lrpx__attr_int(n, "group", 1);
    if (in_index != 0 || w->rank < 3 || group < 1 || w->dims[1] < 1 || w->dims[0] < group ||
        w->dims[0] % group != 0)
        return false;
    int64_t k = w->n_elems / (w->dims[0] * w->dims[1]);
    *l = (struct lrpx_chan_layout){.inner = k, .per = w->dims[1],
                                   .group_span = w->dims[0] / group, .n_c = w->dims[1] * group};
    return k > 0;
}

static const struct lrpx_linear_def conv_transpose_linear = {
    .in_index       = 0,
    .w_index        = 1,
    .b_index        = 2,
    .kind           = LRPX_LAYER_CONV,
    .apply          = conv_transpose_apply,
    .apply_t        = conv_transpose_apply_t,
    .add_bias       = conv_transpose_add_bias,
    .scratch_bytes  = conv_transpose_scratch_bytes,
    .channel_layout = conv_transpose_channel_layout,
};

const struct lrpx_op_def lrpx__op_conv_transpose = {
    .onnx_name     = "ConvTranspose",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = conv_transpose_prepare,
    .forward       = conv_transpose_forward,
    .backward      = conv_transpose_backward,
    .relevance     = lrpx__lrp_linear,
    .linear        = &conv_transpose_linear,
    .lrp_class     = LRPX_LRP_CLASS_LINEAR,
};
