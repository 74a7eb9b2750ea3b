/* Separable interpolation for Resize and Upsample; see resample_impl.h.
 *
 * Coordinates follow the ONNX Resize spec: an output index o on an axis of
 * input length L and scale s maps to the input coordinate x (half_pixel:
 * (o + 0.5) / s - 0.5, asymmetric: o / s, align_corners: o (L - 1) /
 * (s L - 1), ...), with s L as the "resized length" (for sizes, s = size /
 * L). Taps around x that fall off the axis read its edge element (edge
 * padding), except that cubic with exclude_outside drops them and
 * renormalizes the rest.
 */
#include <math.h>
#include <string.h>

#include "core/rules.h"
#include "ops/kernels/resample_impl.h"

/* more tap combinations per output element than this are refused */
#define RESAMPLE_MAX_TAPS 256

struct resample_axis {
    int      n_taps;
    int64_t *off;       /* out_len * n_taps: input index times the axis stride */
    double  *w;         /* out_len * n_taps weights                           */
    uint8_t *outside;   /* tf_crop_and_resize: out_len flags, else NULL        */
};

struct resample_params {
    int                   rank;
    enum lrpx_resample_mode mode;
    float                 extrapolation;
    bool                  any_outside;
    int                   n_active;                 /* axes with several taps */
    int                   active[LRPX_MAX_RANK];
    struct resample_axis    ax[LRPX_MAX_RANK];
};

/* ---- tap tables ---- */

/* Input coordinate of output index o. */
static double
resample_coord(const struct lrpx_resample_cfg *cfg, int k, int rank, double o, int64_t len, double s)
{
    const double lr = s * (double)len;   /* the resized length */
    switch (cfg->coord) {
    case LRPX_RESAMPLE_ASYMMETRIC:
        return o / s;
    case LRPX_RESAMPLE_PYTORCH_HALF_PIXEL:
        return lr > 1.0 ? (o + 0.5) / s - 0.5 : 0.0;
    case LRPX_RESAMPLE_TF_HALF_PIXEL_FOR_NN:
        return (o + 0.5) / s;
    case LRPX_RESAMPLE_ALIGN_CORNERS:
        return lr == 1.0 ? 0.0 : o * (double)(len - 1) / (lr - 1.0);
    case LRPX_RESAMPLE_TF_CROP_AND_RESIZE: {
        const double start = cfg->roi[k], end = cfg->roi[rank + k];
        if (lr > 1.0)
            return start * (double)(len - 1) + o * (end - start) * (double)(len - 1) / (lr - 1.0);
        return 0.5 * (start + end) * (double)(len - 1);
    }
    case LRPX_RESAMPLE_HALF_PIXEL:
    default:
        return (o + 0.5) / s - 0.5;
    }
}

/* Keys' cubic convolution kernel with parameter a at distance d. */
static double
resample_cubic(double d, double a)
{
    d = fabs(d);
    if (d <= 1.0)
        return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
    if (d < 2.0)
        return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
    return 0.0;
}

static int64_t
resample_clamp(int64_t i, int64_t len)
{
    return i < 0 ? 0 : i >= len ? len - 1 : i;
}

/* Nearest input index of coordinate c (before clamping). */
static int64_t
resample_nearest(enum lrpx_resample_nearest mode, double c, double s)
{
    const double f = floor(c);
    if (c == f)
        return (int64_t)f;
    switch (mode) {
    case LRPX_RESAMPLE_ROUND_PREFER_CEIL: return (int64_t)(c - f < 0.5 ? f : f + 1.0);
    case LRPX_RESAMPLE_FLOOR:             return (int64_t)f;
    case LRPX_RESAMPLE_CEIL:              return (int64_t)f + 1;
    case LRPX_RESAMPLE_SIMPLE:            return (int64_t)(s < 1.0 ? f + 1.0 : f);
    case LRPX_RESAMPLE_ROUND_PREFER_FLOOR:
    default:                            return (int64_t)(c - f <= 0.5 ? f : f + 1.0);
    }
}

static lrpx_status
resample_axis_build(struct lrpx_exec *x, const struct lrpx_node *n, const struct lrpx_resample_cfg *cfg,
                  int k, int64_t len, int64_t stride, struct resample_axis *a)
{
    const int64_t out_len = cfg->out_dims[k];
    const double  s       = cfg->scales[k];
    const int     taps    = cfg->mode == LRPX_RESAMPLE_NEAREST  ? 1
                            : cfg->mode == LRPX_RESAMPLE_LINEAR ? 2 : 4;
    a->n_taps  = taps;
    a->off     = lrpx__arena_alloc(x->arena, (size_t)(out_len * taps) * sizeof *a->off);
    a->w       = lrpx__arena_alloc(x->arena, (size_t)(out_len * taps) * sizeof *a->w);
    a->outside = NULL;
    if (cfg->coord == LRPX_RESAMPLE_TF_CROP_AND_RESIZE)
        a->outside = lrpx__arena_alloc(x->arena, (size_t)out_len);
    if (!a->off || !a->w || (cfg->coord == LRPX_RESAMPLE_TF_CROP_AND_RESIZE && !a->outside))
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");

    for (int64_t o = 0; o < out_len; o++) {
        int64_t *off = a->off + o * taps;
        double  *w   = a->w + o * taps;
        double   c   = resample_coord(cfg, k, lrpx__in(x, n, 0)->rank, (double)o, len, s);
        if (!isfinite(c))
            return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d: coordinate of output %lld is "
                                    "not finite", k, (long long)o);
        if (a->outside && (c < 0.0 || c > (double)(len - 1))) {
            a->outside[o] = 1;   /* weights stay 0 */
            continue;
        }
        /* |c| is bounded by the lengths here, so the casts are exact */
        if (c < -1.0e15 || c > 1.0e15)
            return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d: coordinate %g is out of range",
                                    k, c);
        if (taps == 1) {
            off[0] = resample_clamp(resample_nearest(cfg->nearest, c, s), len) * stride;
            w[0]   = 1.0;
            continue;
        }
        const double  f     = floor(c);
        const double  ratio = c - f;
        const int64_t i0    = (int64_t)f;
        if (taps == 2) {
            off[0] = resample_clamp(i0, len) * stride;
            off[1] = resample_clamp(i0 + 1, len) * stride;
            w[0]   = 1.0 - ratio;
            w[1]   = ratio;
            continue;
        }
        /* cubic: taps at i0-1 .. i0+2, at distances ratio+1 .. 2-ratio */
        double sum = 0.0;
        for (int t = 0; t < 4; t++) {
            int64_t i = i0 - 1 + t;
            w[t]      = resample_cubic(ratio + 1.0 - t, cfg->cubic_a);
            if (cfg->exclude_outside && (i < 0 || i >= len))
                w[t] = 0.0;
            sum += w[t];
            off[t] = resample_clamp(i, len) * stride;
        }
        if (cfg->exclude_outside) {
            if (sum == 0.0)
                return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d: no cubic tap inside the axis "
                                        "for output %lld", k, (long long)o);
            for (int t = 0; t < 4; t++)
                w[t] /= sum;
        }
    }

    /* An axis where every output reads exactly one input with weight 1
     * (scale 1, or coordinates on the grid) needs one tap. */
    if (taps > 1) {
        bool single = true;
        for (int64_t o = 0; o < out_len && single; o++) {
            int nonzero = 0, one = 0;
            for (int t = 0; t < taps; t++) {
                nonzero += a->w[o * taps + t] != 0.0;
                one += a->w[o * taps + t] == 1.0;
            }
            single = (nonzero == 1 && one == 1) || (nonzero == 0 && a->outside && a->outside[o]);
        }
        if (single) {
            for (int64_t o = 0; o < out_len; o++) {
                int64_t off = 0;
                for (int t = 0; t < taps; t++)
                    if (a->w[o * taps + t] == 1.0)
                        off = a->off[o * taps + t];
                a->off[o] = off;
                a->w[o]   = 1.0;
            }
            a->n_taps = 1;
        }
    }
    return LRPX_OK;
}

void
lrpx__resample_scaled_dims(const struct lrpx_tensor *in, const double *scales, int64_t *out_dims)
{
    for (int k = 0; k < in->rank; k++) {
        double d    = floor((double)in->dims[k] * scales[k]);
        out_dims[k] = d >= 0.0 && d < 9.0e18 ? (int64_t)d : -1;
    }
}

lrpx_status
lrpx__resample_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                     const struct lrpx_resample_cfg *cfg)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    if (cfg->mode == LRPX_RESAMPLE_NEAREST) {
        if (lrpx_dtype_size(in->dtype) == 0)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "input has unsupported dtype %s",
                                    lrpx_dtype_name(in->dtype));
        if (cfg->coord == LRPX_RESAMPLE_TF_CROP_AND_RESIZE && in->dtype != LRPX_DTYPE_FLOAT32)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "tf_crop_and_resize needs float32 data, not %s",
                                    lrpx_dtype_name(in->dtype));
    } else if (in->dtype != LRPX_DTYPE_FLOAT32) {
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "%s interpolation needs float32, not %s",
                                cfg->mode == LRPX_RESAMPLE_LINEAR ? "linear" : "cubic",
                                lrpx_dtype_name(in->dtype));
    }
    for (int k = 0; k < r; k++) {
        if (!(cfg->scales[k] > 0.0) || !isfinite(cfg->scales[k]))
            return lrpx__node_error(x, n, LRPX_EINVAL, "scale %g on axis %d is not positive",
                                    cfg->scales[k], k);
        if (cfg->out_dims[k] < 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "output size %lld on axis %d is negative",
                                    (long long)cfg->out_dims[k], k);
        if (in->dims[k] == 0 && cfg->out_dims[k] > 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot resize the empty axis %d to %lld",
                                    k, (long long)cfg->out_dims[k]);
    }
    lrpx_status rc = lrpx__set_output(x, n, 0, in->dtype, r, cfg->out_dims);
    if (rc != LRPX_OK)
        return rc;

    struct resample_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->rank          = r;
    p->mode          = cfg->mode;
    p->extrapolation = cfg->extrapolation;
    p->any_outside   = cfg->coord == LRPX_RESAMPLE_TF_CROP_AND_RESIZE;
    if (lrpx__out(x, n, 0)->n_elems == 0)
        return LRPX_OK;   /* nothing to compute: no tables */

    int64_t strides[LRPX_MAX_RANK];
    lrpx__strides(in->dims, r, strides);   /* input is not empty here */
    int64_t combos = 1;
    for (int k = 0; k < r; k++) {
        rc = resample_axis_build(x, n, cfg, k, in->dims[k], strides[k], &p->ax[k]);
        if (rc != LRPX_OK)
            return rc;
        if (p->ax[k].n_taps > 1) {
            p->active[p->n_active++] = k;
            combos *= p->ax[k].n_taps;
            if (combos > RESAMPLE_MAX_TAPS)
                return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                        "interpolating over %d axes at once is not supported",
                                        p->n_active);
        }
    }
    return LRPX_OK;
}

/* ---- walking the taps ---- */

/* Taps of the output element at coordinates o: input offsets and weights.
 * Returns their count, 0 when the element is the extrapolation value. */
static int
resample_taps(const struct resample_params *p, const int64_t *o, int64_t *off, double *w)
{
    int64_t base = 0;
    for (int k = 0; k < p->rank; k++) {
        const struct resample_axis *a = &p->ax[k];
        if (a->outside && a->outside[o[k]])
            return 0;
        if (a->n_taps == 1)
            base += a->off[o[k]];
    }
    int count = 1;
    off[0]    = base;
    w[0]      = 1.0;
    for (int i = 0; i < p->n_active; i++) {
        const struct resample_axis *a  = &p->ax[p->active[i]];
        const int                 na = a->n_taps;
        const int64_t            *ao = a->off + o[p->active[i]] * na;
        const double             *aw = a->w + o[p->active[i]] * na;
        /* expand in place; q = 0 last so that off[t]/w[t] are read before
         * they are overwritten */
        for (int q = na - 1; q >= 0; q--)
            for (int t = 0; t < count; t++) {
                off[q * count + t] = off[t] + ao[q];
                w[q * count + t]   = w[t] * aw[q];
            }
        count *= na;
    }
    return count;
}

static void
resample_next(const struct lrpx_tensor *out, int64_t *o)
{
    for (int k = out->rank - 1; k >= 0; k--) {
        if (++o[k] < out->dims[k])
            return;
        o[k] = 0;
    }
}

lrpx_status
lrpx__resample_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct resample_params *p   = LRPX_PARAMS(x, n, struct resample_params);
    const struct lrpx_tensor   *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor         *out = lrpx__out(x, n, 0);
    const size_t                es  = lrpx_dtype_size(in->dtype);
    int64_t                     o[LRPX_MAX_RANK] = {0};
    int64_t                     off[RESAMPLE_MAX_TAPS];
    double                      w[RESAMPLE_MAX_TAPS];

    for (int64_t j = 0; j < out->n_elems; j++, resample_next(out, o)) {
        int count = resample_taps(p, o, off, w);
        if (count == 0) {
            out->f32[j] = p->extrapolation;   /* float32 only (checked) */
        } else if (p->mode == LRPX_RESAMPLE_NEAREST) {
            memcpy((uint8_t *)out->data + (size_t)j * es,
                   (const uint8_t *)in->data + (size_t)off[0] * es, es);
        } else {
            double acc = 0.0;
            for (int t = 0; t < count; t++)
                acc += w[t] * in->f32[off[t]];
            out->f32[j] = (float)acc;
        }
    }
    return LRPX_OK;
}

lrpx_status
lrpx__resample_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct resample_params *p    = LRPX_PARAMS(x, n, struct resample_params);
    const struct lrpx_tensor   *out  = lrpx__out(x, n, 0);
    float                      *gin  = lrpx__back_in(x, n, 0);
    const float                *gout = lrpx__back_out(x, n, 0);
    int64_t                     o[LRPX_MAX_RANK] = {0};
    int64_t                     off[RESAMPLE_MAX_TAPS];
    double                      w[RESAMPLE_MAX_TAPS];

    if (!gin || !gout)
        return LRPX_OK;
    /* added, never assigned: the input may feed other nodes */
    for (int64_t j = 0; j < out->n_elems; j++, resample_next(out, o)) {
        int count = resample_taps(p, o, off, w);
        for (int t = 0; t < count; t++)
            gin[off[t]] += (float)(w[t] * gout[j]);
    }
    return LRPX_OK;
}

lrpx_status
lrpx__resample_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct resample_params *p = LRPX_PARAMS(x, n, struct resample_params);
    if (p->mode == LRPX_RESAMPLE_NEAREST)
        return lrpx__resample_backward(x, n);   /* pure routing */

    const struct lrpx_tensor *in   = lrpx__in(x, n, 0);
    const struct lrpx_tensor *out  = lrpx__out(x, n, 0);
    float                    *rin  = lrpx__back_in(x, n, 0);
    const float              *rout = lrpx__back_out(x, n, 0);
    const double              eps  = lrpx__rule(x, n)->stab;
    int64_t                   o[LRPX_MAX_RANK] = {0};
    int64_t                   off[RESAMPLE_MAX_TAPS];
    double                    w[RESAMPLE_MAX_TAPS];

    if (!rin || !rout)
        return LRPX_OK;
    for (int64_t j = 0; j < out->n_elems; j++, resample_next(out, o)) {
        int count = resample_taps(p, o, off, w);
        if (count == 0 || rout[j] == 0.0f)
            continue;
        double z = 0.0;
        for (int t = 0; t < count; t++)
            z += w[t] * in->f32[off[t]];
        const double scale = rout[j] / lrpx__stabilize(z, eps);
        for (int t = 0; t < count; t++)
            rin[off[t]] += (float)(w[t] * in->f32[off[t]] * scale);
    }
    return LRPX_OK;
}
