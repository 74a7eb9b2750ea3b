/* BatchNormalization (inference) — y = scale (x - mean) / sqrt(var + eps) + B,
 * per channel, with the given running mean and variance.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__BatchNormalization.html
 *       (opsets 1, 6, 7, 9, 14, 15), float32.
 *       Opsets 1-7 attributes: consumed_inputs (ignored), is_test, spatial,
 *       momentum (ignored). spatial = 0 (opsets < 9) takes scale, B, mean
 *       and var per activation, shaped C x D1 x ... x Dk. lrpx always runs
 *       inference with the given statistics, which is what is_test = 1
 *       means; is_test = 0 with only the output Y requested is run the same
 *       way (ONNX Runtime has no kernel for those opsets; exporters that mean
 *       inference set is_test = 1 or omit the extra outputs).
 *       Training is not supported: training_mode = 1 (opset >= 14) or any of
 *       the optional outputs (running / saved mean and variance) requested
 *       is LRPX_EUNSUPPORTED.
 * Gradient: g_x = a g_y with a = scale / sqrt(var + eps); also g_scale, g_B,
 *       g_mean, g_var when those inputs carry gradient buffers.
 * LRP:  the layer is the affine map y = a x + b per channel
 *       (b = B - a mean), treated like an Add of a constant bias: the
 *       bias absorbs its share, R_x = a x / stab(y) R_y with the stabilizer
 *       lrpx__rule(x, n)->stab. (Folding BatchNorm into a preceding Conv/Gemm
 *       happens before this, in the graph passes, when it is possible.)
 */
#include <math.h>

#include "core/rules.h"
#include "core/op.h"
#include "ops/kernels/pgemm_impl.h"
#include "util/parallel.h"

struct batch_normalization_params {
    float   epsilon;
    int64_t n_batch;   /* N                                               */
    int64_t groups;    /* parameter entries: C (spatial) or C*D1*...*Dk   */
    int64_t inner;     /* elements per (n, group): D1*...*Dk or 1         */
    /* a Relu or Clip reading the output, computed here (x->fused, as for
     * Conv: DenseNet's BatchNormalization -> Relu), into act_value */
    struct lrpx_act act;
    int             act_value;
};

static lrpx_status
batch_normalization_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    static const char *const names[5] = {"X", "scale", "B", "input_mean", "input_var"};
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    if (n->n_inputs != 5)
        return lrpx__node_error(x, n, LRPX_EPARSE, "has %d inputs, expected 5 "
                                "(X, scale, B, input_mean, input_var)", n->n_inputs);
    for (int i = 0; i < 5; i++) {
        if (!lrpx__in(x, n, i))
            return lrpx__node_error(x, n, LRPX_EPARSE, "input %s is missing", names[i]);
        if ((rc = lrpx__check_dtype(x, n, i, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
            return rc;
    }
    if (x->opset >= 14 && lrpx__attr_int(n, "training_mode", 0) != 0)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "training_mode = 1 is not supported (inference only)");
    for (int i = 1; i < n->n_outputs; i++)
        if (n->outputs[i] >= 0)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "output %d (running or saved statistics) is requested: "
                                    "training mode is not supported (inference only)", i);
    if (in->rank < 2)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "input X has rank %d, expected N x C x ... (rank >= 2)",
                                in->rank);

    struct batch_normalization_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->epsilon = lrpx__attr_float(n, "epsilon", 1e-5f);
    if (!(p->epsilon >= 0.0f))
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute epsilon = %g is negative",
                                (double)p->epsilon);

    bool    spatial = x->opset >= 9 || lrpx__attr_int(n, "spatial", 1) != 0;
    int64_t inner   = 1;
    for (int d = 2; d < in->rank; d++)
        inner *= in->dims[d];
    p->n_batch = in->dims[0];
    p->groups  = spatial ? in->dims[1] : in->dims[1] * inner;
    p->inner   = spatial ? inner : 1;
    for (int i = 1; i < 5; i++)
        if (lrpx__in(x, n, i)->n_elems != p->groups)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "input %s has %lld elements, expected %lld (%s)", names[i],
                                    (long long)lrpx__in(x, n, i)->n_elems,
                                    (long long)p->groups,
                                    spatial ? "one per channel" : "spatial = 0: C x D1 x ...");
    p->act_value = lrpx__fuse_act(x, n, &p->act);
    return lrpx__set_output_like(x, n, 0, in);
}

/* Per group: y = a x + shift. */
static inline void
batch_normalization_affine(const struct lrpx_exec *x, const struct lrpx_node *n,
                           const struct batch_normalization_params *p, int64_t g,
                           double *a, double *shift)
{
    double s = lrpx__in(x, n, 1)->f32[g], b = lrpx__in(x, n, 2)->f32[g];
    double m = lrpx__in(x, n, 3)->f32[g], v = lrpx__in(x, n, 4)->f32[g];
    *a     = s / sqrt(v + (double)p->epsilon);
    *shift = b - *a * m;
}

/* channels [g0, g1) on the session's threads */
struct batch_normalization_ctx {
    struct lrpx_exec                        *x;
    const struct lrpx_node                  *n;
    const struct batch_normalization_params *p;
    const float                             *xd;
    float                                   *yd;
    const struct lrpx_act                   *act;   /* or NULL */
};

LRPX_TARGET_CLONES
static void
batch_normalization_range(void *ctx_, int64_t g0, int64_t g1)
{
    const struct batch_normalization_ctx    *c = ctx_;
    const struct batch_normalization_params *p = c->p;
    for (int64_t g = g0; g < g1; g++) {
        double a, shift;
        batch_normalization_affine(c->x, c->n, p, g, &a, &shift);
        for (int64_t b = 0; b < p->n_batch; b++) {
            int64_t off = (b * p->groups + g) * p->inner;
            for (int64_t i = 0; i < p->inner; i++)
                c->yd[off + i] = (float)(a * c->xd[off + i] + shift);
            if (c->act)
                for (int64_t i = 0; i < p->inner; i++)
                    c->act->out[off + i] = lrpx__act_apply(c->act->kind, c->act->lo, c->act->hi,
                                                           c->yd[off + i]);
        }
    }
}

static lrpx_status
batch_normalization_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct batch_normalization_params *p =
        LRPX_PARAMS(x, n, struct batch_normalization_params);
    struct lrpx_act                act = p->act;
    act.out = p->act_value >= 0 ? x->vals[p->act_value].f32 : NULL;
    struct batch_normalization_ctx c = {x, n, p, lrpx__in(x, n, 0)->f32,
                                        lrpx__out(x, n, 0)->f32, act.out ? &act : NULL};
    lrpx__parallel_for(x->pool, p->groups,
                       1 + (1 << 14) / (p->inner * p->n_batch + 1),
                       batch_normalization_range, &c);
    return LRPX_OK;
}

static lrpx_status
batch_normalization_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct batch_normalization_params *p =
        LRPX_PARAMS(x, n, struct batch_normalization_params);
    const float *xd    = lrpx__in(x, n, 0)->f32;
    const float *gy    = lrpx__back_out(x, n, 0);
    float       *gx    = lrpx__back_in(x, n, 0);
    float       *gs    = lrpx__back_in(x, n, 1);
    float       *gb    = lrpx__back_in(x, n, 2);
    float       *gm    = lrpx__back_in(x, n, 3);
    float       *gv    = lrpx__back_in(x, n, 4);
    const float *scale = lrpx__in(x, n, 1)->f32;
    const float *mean  = lrpx__in(x, n, 3)->f32;
    const float *var   = lrpx__in(x, n, 4)->f32;

    if (!gy)
        return LRPX_OK;
    for (int64_t g = 0; g < p->groups; g++) {
        double inv = 1.0 / sqrt((double)var[g] + (double)p->epsilon);
        double a   = scale[g] * inv;
        double sg = 0.0, sgxc = 0.0;     /* sum g_y, sum g_y (x - mean) */
        for (int64_t b = 0; b < p->n_batch; b++) {
            int64_t off = (b * p->groups + g) * p->inner;
            for (int64_t i = 0; i < p->inner; i++) {
                double gyi = gy[off + i];
                if (gx)
                    gx[off + i] += (float)(a * gyi);
                sg   += gyi;
                sgxc += gyi * ((double)xd[off + i] - mean[g]);
            }
        }
        if (gs)
            gs[g] += (float)(sgxc * inv);
        if (gb)
            gb[g] += (float)sg;
        if (gm)
            gm[g] += (float)(-a * sg);
        if (gv)
            gv[g] += (float)(-0.5 * scale[g] * sgxc * inv * inv * inv);
    }
    return LRPX_OK;
}

static lrpx_status
batch_normalization_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct batch_normalization_params *p =
        LRPX_PARAMS(x, n, struct batch_normalization_params);
    const float *xd   = lrpx__in(x, n, 0)->f32;
    const float *rout = lrpx__back_out(x, n, 0);
    float       *rin  = lrpx__back_in(x, n, 0);
    double       stab = lrpx__rule(x, n)->stab;

    if (!rin || !rout)
        return LRPX_OK;
    for (int64_t g = 0; g < p->groups; g++) {
        double a, shift;
        batch_normalization_affine(x, n, p, g, &a, &shift);
        for (int64_t b = 0; b < p->n_batch; b++) {
            int64_t off = (b * p->groups + g) * p->inner;
            for (int64_t i = 0; i < p->inner; i++) {
                double z = a * xd[off + i];
                rin[off + i] += (float)(z / lrpx__stabilize(z + shift, stab) * rout[off + i]);
            }
        }
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_batch_normalization = {
    .onnx_name     = "BatchNormalization",
    .since_version = 1,
    .n_inputs_min  = 5,
    .n_inputs_max  = 5,
    .n_outputs_min = 1,
    .n_outputs_max = 5,
    .prepare       = batch_normalization_prepare,
    .forward       = batch_normalization_forward,
    .backward      = batch_normalization_backward,
    .relevance     = batch_normalization_relevance,
    .lrp_class     = LRPX_LRP_CLASS_PROPORTIONAL,
};
