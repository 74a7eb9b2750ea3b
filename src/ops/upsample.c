/* Upsample — the pre-Resize interpolation: out dim = floor(dim * scale).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Upsample.html  (opsets 7, 9, 10)
 *       opset 7: `scales` attribute; 9 and 10: scales input (known at
 *       prepare). mode nearest (default) or linear, on asymmetric
 *       coordinates (x_in = x_out / scale); nearest takes the floor. Nearest
 *       moves any element type, linear needs float32.
 * LRP:  as Resize: nearest sums relevance back to the source; linear splits
 *       it in proportion to w_ij x_i / stab(z_j).
 */
#include <string.h>

#include "ops/kernels/resample_impl.h"

static lrpx_status
upsample_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;
    double                    scales[LRPX_MAX_RANK];
    int64_t                   dims[LRPX_MAX_RANK];
    struct lrpx_resample_cfg    cfg;
    memset(&cfg, 0, sizeof cfg);

    const char *mode = lrpx__attr_string(n, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        cfg.mode = LRPX_RESAMPLE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        cfg.mode = LRPX_RESAMPLE_LINEAR;
    else
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "mode '%s' is not supported", mode);
    cfg.coord   = LRPX_RESAMPLE_ASYMMETRIC;
    cfg.nearest = LRPX_RESAMPLE_SIMPLE;

    if (x->opset < 9) {
        const float *s;
        int          count = lrpx__attr_floats(n, "scales", &s);
        if (!lrpx__attr_find(n, "scales"))
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'scales' is missing");
        if (count != r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "scales has %d values for rank %d", count,
                                    r);
        for (int k = 0; k < r; k++)
            scales[k] = s[k];
    } else {
        const struct lrpx_tensor *t = lrpx__in(x, n, 1);
        if (!t)
            return lrpx__node_error(x, n, LRPX_EINVAL, "input 1 (scales) is missing");
        if (!lrpx__in_known(x, n, 1))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "input 1 (scales) must be constant (known before the run)");
        if (t->dtype != LRPX_DTYPE_FLOAT32 && t->dtype != LRPX_DTYPE_FLOAT64)
            return lrpx__node_error(x, n, LRPX_EINVAL, "scales has dtype %s, expected float32",
                                    lrpx_dtype_name(t->dtype));
        if (t->n_elems != r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "scales has %lld values for rank %d",
                                    (long long)t->n_elems, r);
        for (int k = 0; k < r; k++)
            scales[k] = lrpx__tensor_get_f64(t, k);
    }
    lrpx__resample_scaled_dims(in, scales, dims);
    cfg.scales   = scales;
    cfg.out_dims = dims;
    return lrpx__resample_prepare(x, n, &cfg);
}

const struct lrpx_op_def lrpx__op_upsample = {
    .onnx_name     = "Upsample",
    .since_version = 7,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = upsample_prepare,
    .forward       = lrpx__resample_forward,
    .backward      = lrpx__resample_backward,
    .relevance     = lrpx__resample_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
