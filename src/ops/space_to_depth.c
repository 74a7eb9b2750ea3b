/* SpaceToDepth — move b x b spatial blocks into channels:
 * (N, C, H, W) -> (N, C b^2, H / b, W / b), output channel (i b + j) C + c
 * holding input (c, h b + i, w b + j).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__SpaceToDepth.html  (opsets 1, 13)
 *       Any element type.
 * LRP:  a pure rearrangement: gradient and relevance are routed back to
 *       the element each output came from.
 *
 * The output, read row-major as (n, i, j, c, h, w), is a strided view of
 * the input.
 */
#include "ops/kernels/move_impl.h"

static lrpx_status
space_to_depth_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK || (rc = lrpx__check_rank(x, n, 0, 4, 4)) != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int64_t             b  = lrpx__attr_int(n, "blocksize", 0);

    if (b <= 0 || b > (int64_t)1 << 20)
        return lrpx__node_error(x, n, LRPX_EINVAL, "blocksize = %lld is invalid", (long long)b);
    const int64_t N = in->dims[0], C = in->dims[1], H = in->dims[2], W = in->dims[3];
    if (H % b != 0 || W % b != 0)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "%lldx%lld does not divide into %lldx%lld "
                                "blocks", (long long)H, (long long)W, (long long)b, (long long)b);
    int64_t dims[4] = {N, 0, H / b, W / b};
    if (!lrpx__mul_i64(C, b * b, &dims[1]))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "output size overflows");
    rc = lrpx__set_output(x, n, 0, in->dtype, 4, dims);
    if (rc != LRPX_OK)
        return rc;

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t s[4];
    lrpx__move_strides(in, s);
    const int64_t vd[6] = {N, b, b, C, H / b, W / b};
    const int64_t vs[6] = {s[0], s[2], s[3], s[1], b * s[2], b * s[3]};
    v->rank   = 6;
    v->offset = 0;
    for (int k = 0; k < 6; k++) {
        v->dims[k]    = vd[k];
        v->strides[k] = vs[k];
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_space_to_depth = {
    .onnx_name     = "SpaceToDepth",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = space_to_depth_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
