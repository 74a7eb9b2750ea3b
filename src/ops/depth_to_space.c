/* DepthToSpace — move blocks of channels into b x b spatial blocks:
 * (N, C, H, W) -> (N, C / b^2, H b, W b).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__DepthToSpace.html  (opsets 1, 11, 13)
 *       mode DCR (default; depth-column-row: channel (i b + j) C' + c) or,
 *       from opset 11, CRD (channel c b^2 + i b + j). Any element type.
 * LRP:  a pure rearrangement: gradient and relevance are routed back to
 *       the element each output came from.
 *
 * The output, read row-major as (n, c', h, i, w, j), is a strided view of
 * the input.
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

static lrpx_status
depth_to_space_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK || (rc = lrpx__check_rank(x, n, 0, 4, 4)) != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int64_t             b  = lrpx__attr_int(n, "blocksize", 0);
    const char               *mode = lrpx__attr_string(n, "mode", "DCR");
    const bool                crd  = strcmp(mode, "CRD") == 0;

    if (!crd && strcmp(mode, "DCR") != 0)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "mode '%s' is not supported", mode);
    if (b <= 0 || b > (int64_t)1 << 20)
        return lrpx__node_error(x, n, LRPX_EINVAL, "blocksize = %lld is invalid", (long long)b);
    const int64_t N = in->dims[0], C = in->dims[1], H = in->dims[2], W = in->dims[3];
    if (C % (b * b) != 0)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "%lld channels do not divide into %lldx%lld "
                                "blocks", (long long)C, (long long)b, (long long)b);
    const int64_t Co = C / (b * b);
    int64_t       dims[4] = {N, Co, 0, 0};
    if (!lrpx__mul_i64(H, b, &dims[2]) || !lrpx__mul_i64(W, b, &dims[3]))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "output size overflows");
    rc = lrpx__set_output(x, n, 0, in->dtype, 4, dims);
    if (rc != LRPX_OK)
        return rc;

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t s[4];
    lrpx__move_strides(in, s);   /* s[1] = H W, s[2] = W, s[3] = 1 */
    const int64_t vd[6] = {N, Co, H, b, W, b};
    /* strides of n, c', h, i, w, j in the input */
    const int64_t dcr[6] = {s[0], s[1], s[2], b * Co * s[1], s[3], Co * s[1]};
    const int64_t crd_[6] = {s[0], b * b * s[1], s[2], b * s[1], s[3], s[1]};
    v->rank   = 6;
    v->offset = 0;
    for (int k = 0; k < 6; k++) {
        v->dims[k]    = vd[k];
        v->strides[k] = crd ? crd_[k] : dcr[k];
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_depth_to_space = {
    .onnx_name     = "DepthToSpace",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = depth_to_space_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
