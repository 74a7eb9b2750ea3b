/* Resize — interpolate to a new size: nearest, linear (bilinear,
 * trilinear, ... on any set of axes) or cubic.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Resize.html  (opsets 10, 11, 13)
 *       opset 10: inputs X, scales; asymmetric coordinates; nearest takes
 *       the floor (the ceil when shrinking, as ONNX Runtime does).
 *       opsets 11/13: inputs X, roi, scales, sizes (exactly one of scales
 *       and sizes non-empty, known at prepare), attributes
 *       coordinate_transformation_mode (half_pixel, asymmetric,
 *       pytorch_half_pixel, tf_half_pixel_for_nn, align_corners,
 *       tf_crop_and_resize with roi and extrapolation_value), mode,
 *       nearest_mode (round_prefer_floor, round_prefer_ceil, floor, ceil),
 *       cubic_coeff_a, exclude_outside. The opset-18 attributes (antialias,
 *       axes, keep_aspect_ratio_policy) are refused when not at their
 *       defaults. Nearest moves any element type; linear and cubic need
 *       float32.
 * LRP:  nearest: each output is a copy of one input, so gradient and
 *       relevance are summed back to it. Linear/cubic: the output is a
 *       weighted sum z_j = sum_i w_ij x_i and relevance is split in
 *       proportion to w_ij x_i / stab(z_j) (see resample_impl.h).
 */
#include <string.h>

#include "ops/kernels/resample_impl.h"
#include "ops/kernels/move_impl.h"

/* Known float values of input i (any float or int type). */
static lrpx_status
resize_floats(struct lrpx_exec *x, const struct lrpx_node *n, int i, const char *what,
              double *out, int64_t want)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!lrpx__in_known(x, n, i))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input %d (%s) must be constant (known before the run)", i, what);
    if (t->dtype != LRPX_DTYPE_FLOAT32 && t->dtype != LRPX_DTYPE_FLOAT64)
        return lrpx__node_error(x, n, LRPX_EINVAL, "%s has dtype %s, expected float", what,
                                lrpx_dtype_name(t->dtype));
    if (t->n_elems != want)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "%s has %lld values, expected %lld", what,
                                (long long)t->n_elems, (long long)want);
    for (int64_t k = 0; k < want; k++)
        out[k] = lrpx__tensor_get_f64(t, k);
    return LRPX_OK;
}

struct resize_name {
    const char *name;
    int         value;
};

static lrpx_status
resize_enum(struct lrpx_exec *x, const struct lrpx_node *n, const char *attr, const char *def,
            const struct resize_name *names, int n_names, int *out)
{
    const char *s = lrpx__attr_string(n, attr, def);
    for (int k = 0; k < n_names; k++)
        if (strcmp(s, names[k].name) == 0) {
            *out = names[k].value;
            return LRPX_OK;
        }
    return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "%s '%s' is not supported", attr, s);
}

static lrpx_status
resize_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    static const struct resize_name modes[] = {
        {"nearest", LRPX_RESAMPLE_NEAREST}, {"linear", LRPX_RESAMPLE_LINEAR},
        {"cubic", LRPX_RESAMPLE_CUBIC}};
    static const struct resize_name coords[] = {
        {"half_pixel", LRPX_RESAMPLE_HALF_PIXEL},
        {"asymmetric", LRPX_RESAMPLE_ASYMMETRIC},
        {"pytorch_half_pixel", LRPX_RESAMPLE_PYTORCH_HALF_PIXEL},
        {"tf_half_pixel_for_nn", LRPX_RESAMPLE_TF_HALF_PIXEL_FOR_NN},
        {"align_corners", LRPX_RESAMPLE_ALIGN_CORNERS},
        {"tf_crop_and_resize", LRPX_RESAMPLE_TF_CROP_AND_RESIZE}};
    static const struct resize_name nearests[] = {
        {"round_prefer_floor", LRPX_RESAMPLE_ROUND_PREFER_FLOOR},
        {"round_prefer_ceil", LRPX_RESAMPLE_ROUND_PREFER_CEIL},
        {"floor", LRPX_RESAMPLE_FLOOR},
        {"ceil", LRPX_RESAMPLE_CEIL}};

    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;
    struct lrpx_resample_cfg    cfg;
    double                    scales[LRPX_MAX_RANK], roi[2 * LRPX_MAX_RANK];
    int64_t                   dims[LRPX_MAX_RANK];
    int                       v = 0;
    lrpx_status               rc;
    memset(&cfg, 0, sizeof cfg);

    if (lrpx__attr_int(n, "antialias", 0) != 0 || lrpx__attr_find(n, "axes") ||
        strcmp(lrpx__attr_string(n, "keep_aspect_ratio_policy", "stretch"), "stretch") != 0)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "antialias, axes and keep_aspect_ratio_policy are not supported");
    if ((rc = resize_enum(x, n, "mode", "nearest", modes, x->opset < 11 ? 2 : 3, &v)) != LRPX_OK)
        return rc;
    cfg.mode = (enum lrpx_resample_mode)v;

    if (x->opset < 11) {
        cfg.coord   = LRPX_RESAMPLE_ASYMMETRIC;
        cfg.nearest = LRPX_RESAMPLE_SIMPLE;
        if (!lrpx__in(x, n, 1))
            return lrpx__node_error(x, n, LRPX_EINVAL, "input 1 (scales) is missing");
        if ((rc = resize_floats(x, n, 1, "scales", scales, r)) != LRPX_OK)
            return rc;
    } else {
        if ((rc = resize_enum(x, n, "coordinate_transformation_mode", "half_pixel", coords,
                              6, &v)) != LRPX_OK)
            return rc;
        cfg.coord = (enum lrpx_resample_coord)v;
        if ((rc = resize_enum(x, n, "nearest_mode", "round_prefer_floor", nearests, 4, &v)) !=
            LRPX_OK)
            return rc;
        cfg.nearest         = (enum lrpx_resample_nearest)v;
        cfg.cubic_a         = lrpx__attr_float(n, "cubic_coeff_a", -0.75f);
        cfg.exclude_outside = lrpx__attr_int(n, "exclude_outside", 0) != 0;
        cfg.extrapolation   = lrpx__attr_float(n, "extrapolation_value", 0.0f);

        const struct lrpx_tensor *ts = lrpx__in(x, n, 2), *tz = lrpx__in(x, n, 3);
        bool has_scales = ts && ts->n_elems > 0, has_sizes = tz && tz->n_elems > 0;
        if (has_scales == has_sizes)
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "exactly one of scales and sizes must be given");
        if (has_sizes) {
            int count;
            if ((rc = lrpx__move_ints(x, n, 3, "sizes", dims, LRPX_MAX_RANK, &count)) != LRPX_OK)
                return rc;
            if (count != r)
                return lrpx__node_error(x, n, LRPX_ESHAPE, "sizes has %d values for rank %d",
                                        count, r);
            for (int k = 0; k < r; k++)
                scales[k] = in->dims[k] > 0 ? (double)dims[k] / (double)in->dims[k] : 1.0;
        } else {
            if ((rc = resize_floats(x, n, 2, "scales", scales, r)) != LRPX_OK)
                return rc;
        }
        if (cfg.coord == LRPX_RESAMPLE_TF_CROP_AND_RESIZE) {
            if (!lrpx__in(x, n, 1))
                return lrpx__node_error(x, n, LRPX_EINVAL,
                                        "tf_crop_and_resize needs input 1 (roi)");
            if ((rc = resize_floats(x, n, 1, "roi", roi, 2 * r)) != LRPX_OK)
                return rc;
            cfg.roi = roi;
        }
    }
    if (x->opset < 11 || !(lrpx__in(x, n, 3) && lrpx__in(x, n, 3)->n_elems > 0))
        lrpx__resample_scaled_dims(in, scales, dims);
    cfg.scales   = scales;
    cfg.out_dims = dims;
    return lrpx__resample_prepare(x, n, &cfg);
}

const struct lrpx_op_def lrpx__op_resize = {
    .onnx_name     = "Resize",
    .since_version = 10,
    .n_inputs_min  = 1,    /* roi is optional from opset 13; prepare checks scales */
    .n_inputs_max  = 4,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = resize_prepare,
    .forward       = lrpx__resample_forward,
    .backward      = lrpx__resample_backward,
    .relevance     = lrpx__resample_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
