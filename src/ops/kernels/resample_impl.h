/* Separable N-D interpolation shared by Resize and Upsample: per axis, each
 * output index reads a few input indices ("taps") with weights (1 tap for
 * nearest, 2 for linear, 4 for cubic); an output element is the sum over
 * all tap combinations of the product of the axis weights times the input
 * element. The tap tables are built at prepare from the ONNX coordinate
 * transformation; forward, gradient and relevance only walk them. */
#ifndef LRPX_RESAMPLE_IMPL_H
#define LRPX_RESAMPLE_IMPL_H

#include "core/op.h"

enum lrpx_resample_mode { LRPX_RESAMPLE_NEAREST, LRPX_RESAMPLE_LINEAR, LRPX_RESAMPLE_CUBIC };

enum lrpx_resample_coord {
    LRPX_RESAMPLE_HALF_PIXEL,
    LRPX_RESAMPLE_ASYMMETRIC,
    LRPX_RESAMPLE_PYTORCH_HALF_PIXEL,
    LRPX_RESAMPLE_TF_HALF_PIXEL_FOR_NN,
    LRPX_RESAMPLE_ALIGN_CORNERS,
    LRPX_RESAMPLE_TF_CROP_AND_RESIZE,
};

enum lrpx_resample_nearest {
    LRPX_RESAMPLE_ROUND_PREFER_FLOOR,
    LRPX_RESAMPLE_ROUND_PREFER_CEIL,
    LRPX_RESAMPLE_FLOOR,
    LRPX_RESAMPLE_CEIL,
    /* Resize-10 / Upsample: floor, but ceil when the axis shrinks (the
     * behaviour ONNX Runtime keeps for those opsets) */
    LRPX_RESAMPLE_SIMPLE,
};

struct lrpx_resample_cfg {
    enum lrpx_resample_mode    mode;
    enum lrpx_resample_coord   coord;
    enum lrpx_resample_nearest nearest;
    double                   cubic_a;          /* cubic: kernel parameter A     */
    bool                     exclude_outside;  /* cubic: drop taps off the axis */
    float                    extrapolation;    /* tf_crop_and_resize outside    */
    const double            *scales;           /* per axis, > 0                 */
    const int64_t           *out_dims;         /* per axis                      */
    const double            *roi;              /* tf_crop_and_resize: starts    */
                                               /* then ends, 2 * rank values    */
};

/* out_dims[k] = floor(in->dims[k] * scales[k]); -1 (rejected by
 * lrpx__resample_prepare) when that is not a valid size. */
void lrpx__resample_scaled_dims(const struct lrpx_tensor *in, const double *scales,
                              int64_t *out_dims);

/* Build the tap tables into the node's params (lrpx__params_alloc) and set
 * output 0 (the type of input 0, shape out_dims). Nearest moves any element
 * type by its size; linear and cubic need float32. */
lrpx_status lrpx__resample_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                 const struct lrpx_resample_cfg *cfg);
lrpx_status lrpx__resample_forward(struct lrpx_exec *x, const struct lrpx_node *n);
/* Gradient: each tap receives weight * g. */
lrpx_status lrpx__resample_backward(struct lrpx_exec *x, const struct lrpx_node *n);
/* Relevance: nearest routes R_j to its source; linear/cubic split R_j over
 * the taps in proportion to weight * x_i / stab(z_j) with z_j = sum of
 * those terms (the epsilon rule of an output that is a weighted sum).
 * Outputs set to the extrapolation value have no source: dropped. */
lrpx_status lrpx__resample_relevance(struct lrpx_exec *x, const struct lrpx_node *n);

#endif /* LRPX_RESAMPLE_IMPL_H */
