/* Conv — N-D convolution (1-D, 2-D, 3-D) with groups, strides, dilations,
 * explicit or automatic padding and an optional per-channel bias:
 *   Y[b, m, o] = B[m] + sum_{c in group(m), k} W[m, c, k] X[b, c, o*s - p + k*d]
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Conv.html  (opsets 1, 11;
 *       float32). kernel_shape is optional and checked against W; pads are
 *       ignored when auto_pad is SAME_UPPER, SAME_LOWER or VALID.
 * Kernels: src/ops/conv_impl.c (im2col + sgemm, pointwise and depthwise
 *       paths).
 * LRP:  a linear layer: lrpx__lrp_linear applies the node's rule through
 *       conv_linear (apply = the convolution with a substitute weight and no
 *       bias, apply_t = its data gradient, add_bias = + B per channel).
 * Backward: gradients for X, and for W and B when they carry one (e.g.
 *       weights fed as graph inputs).
 */
#include "lrp/rules.h"
#include "ops/conv_impl.h"
#include "ops/linear_impl.h"

struct conv_params {
    struct lrpx_linear_roles roles;      /* first member: linear_impl.h */
    struct lrpx_conv_geom    geom;
    size_t                   scratch;
};

static lrpx_status
conv_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_dtype(x, n, 1, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
        return rc;

    struct conv_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    int64_t dims[LRPX_MAX_RANK];
    if ((rc = lrpx__conv_geom_init(x, n, false, &p->geom, dims)) != LRPX_OK)
        return rc;

    const struct lrpx_tensor *b = lrpx__in(x, n, 2);
    if (b != NULL) {
        char buf[96];
        if ((rc = lrpx__check_dtype(x, n, 2, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
            return rc;
        if (b->rank != 1 || b->dims[0] != p->geom.out_c)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "bias B has shape %s, expected [%lld]",
                                    lrpx__dims_str(b->dims, b->rank, buf, sizeof buf),
                                    (long long)p->geom.out_c);
    }
    p->roles.in_index = 0;
    p->roles.w_index  = 1;
    p->roles.b_index  = b != NULL ? 2 : -1;
    p->roles.w_known  = lrpx__in_known(x, n, 1);

    p->scratch = lrpx__conv_scratch_bytes(&p->geom);
    lrpx__scratch_request(x, p->scratch);
    return lrpx__set_output(x, n, 0, LRPX_DTYPE_FLOAT32, lrpx__in(x, n, 0)->rank, dims);
}

static lrpx_status
conv_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const struct lrpx_tensor *b = lrpx__in(x, n, 2);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    lrpx_status rc;

    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    if (b != NULL)
        lrpx__channel_bias_fill(y->f32, b->f32, p->geom.batch, p->geom.out_c,
                                p->geom.out_size);
    lrpx__conv_fwd(&p->geom, lrpx__in(x, n, 0)->f32, lrpx__in(x, n, 1)->f32, y->f32,
                   b != NULL, x->scratch);
    return LRPX_OK;
}

static lrpx_status
conv_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const float *gy = lrpx__back_out(x, n, 0);
    float *gx = lrpx__back_in(x, n, 0);
    float *gw = lrpx__back_in(x, n, 1);
    float *gb = lrpx__back_in(x, n, 2);
    lrpx_status rc;

    if (gy == NULL)
        return LRPX_OK;
    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    if (gx != NULL)
        lrpx__conv_bwd_data(&p->geom, gy, lrpx__in(x, n, 1)->f32, gx, true, x->scratch);
    if (gw != NULL)
        lrpx__conv_bwd_weight(&p->geom, lrpx__in(x, n, 0)->f32, gy, gw, x->scratch);
    if (gb != NULL)
        lrpx__channel_bias_grad(gy, gb, p->geom.batch, p->geom.out_c, p->geom.out_size);
    return LRPX_OK;
}

/* ---- linear form for the LRP rules ---- */

static void
conv_apply(struct lrpx_exec *x, const struct lrpx_node *n, const float *in, const float *w,
           float *out, void *scratch)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    lrpx__conv_fwd(&p->geom, in, w, out, false, scratch);
}

static void
conv_apply_t(struct lrpx_exec *x, const struct lrpx_node *n, const float *gout,
             const float *w, float *gin, void *scratch)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    lrpx__conv_bwd_data(&p->geom, gout, w, gin, false, scratch);
}

static void
conv_add_bias(struct lrpx_exec *x, const struct lrpx_node *n, const float *b, float *out)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    lrpx__channel_bias_add(out, b, p->geom.batch, p->geom.out_c, p->geom.out_size);
}

static size_t
conv_scratch_bytes(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return LRPX_PARAMS(x, n, struct conv_params)->scratch;
}

static const struct lrpx_linear_def conv_linear = {
    .in_index      = 0,
    .w_index       = 1,
    .b_index       = 2,
    .apply         = conv_apply,
    .apply_t       = conv_apply_t,
    .add_bias      = conv_add_bias,
    .scratch_bytes = conv_scratch_bytes,
};

const struct lrpx_op_def lrpx__op_conv = {
    .onnx_name     = "Conv",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = conv_prepare,
    .forward       = conv_forward,
    .backward      = conv_backward,
    .relevance     = lrpx__lrp_linear,
    .linear        = &conv_linear,
};
