/* Erf — y = erf(x), the Gauss error function, element-wise.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Erf.html  (opsets 9, 13)
 * Types: float32, float64 (the spec also lists integer types, which lrpx
 *       does not take).
 * float32: a branch-free approximation the compiler vectorises (no libm
 *       call per element), over ranges of elements on the session's
 *       threads (the same code for every element: the bits do not depend
 *       on the thread count):
 *         |x| <= 0.921875:  erf(x) = x P(x^2), P of degree 5
 *         otherwise:        erf(x) = sign(x) (1 - exp(Q(|x|))), Q of degree
 *                           7 (exp from vmath_impl.h), 1 from |x| >= 3.92
 *       P and Q are least-squares fits (relative for P, weighted by
 *       1 - erf for Q) made with numpy against scipy's erf in double;
 *       within 2.5 ulp over [0, 0.92] and 1.2 ulp above (tests/
 *       test_kernels.c sweeps it against erf in double).
 * Backward: dy/dx = 2 / sqrt(pi) exp(-x^2).
 * LRP:  relevance passes through unchanged (an element-wise activation;
 *       the rule is applied at the linear layers around it).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"
#include "ops/kernels/vmath_impl.h"
#include "util/parallel.h"

static inline float
erf_f32(float v)
{
    const float a = fabsf(v), t = v * v;
    /* small |x|: x P(x^2) */
    float p = -5.986208510863747e-04f;
    p = p * t + 4.99218103788613e-03f;
    p = p * t - 2.6765861225309443e-02f;
    p = p * t + 1.1281792751712232e-01f;
    p = p * t - 3.761249112157321e-01f;
    p = p * t + 1.1283791490985833f;
    const float small = v * p;
    /* larger |x|: 1 - exp(Q(|x|)), Q(|x|) in [-16.3, -1.6] */
    const float b = lrpx__selectf(a < 3.92f, a, 3.92f);    /* NaN -> 3.92 */
    float q = -2.1379372276061662e-05f;
    q = q * b + 4.3763571863253506e-04f;
    q = q * b - 4.185899131613064e-03f;
    q = q * b + 2.5157118172623547e-02f;
    q = q * b - 1.08336313171181e-01f;
    q = q * b - 6.332976244268333e-01f;
    q = q * b - 1.1295384521406775f;
    q = q * b + 1.7940444521672965e-04f;
    const float big = lrpx__selectf(a < 3.92f, 1.0f - lrpx__expf_nonpos(q), 1.0f);
    const float r   = lrpx__selectf(a <= 0.921875f, small, lrpx__selectf(v < 0.0f, -big, big));
    return lrpx__selectf(v == v, r, v);
}

struct erf_ctx {
    const float *x;
    float       *y;
};

LRPX_TARGET_CLONES
static void
erf_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct erf_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++)
        c->y[i] = erf_f32(c->x[i]);
}

static lrpx_status
erf_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__unary_prepare(x, n, LRPX_DT_FLOATS);
}

static lrpx_status
erf_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32:
        lrpx__parallel_for(x->pool, a->n_elems, 1 << 15, erf_range,
                           &(struct erf_ctx){a->f32, y->f32});
        break;
    case LRPX_DTYPE_FLOAT64:
        LRPX_MAP(double, double, a->f64, y->f64, a->n_elems, erf(v));
        break;
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    }
    return LRPX_OK;
}

static lrpx_status
erf_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    LRPX_UNARY_BACKWARD(x, n, g * 1.1283791670955126 * exp(-(double)v * v));
}

const struct lrpx_op_def lrpx__op_erf = {
    .onnx_name     = "Erf",
    .since_version = 9,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = erf_prepare,
    .forward       = erf_forward,
    .backward      = erf_backward,
    .relevance     = lrpx__back_identity,
    .elementwise   = true,
    .lrp_class     = LRPX_LRP_CLASS_ACTIVATION,
};
