/* Suite "ops_unary": the unary element-wise ops (the activations, Clip,
 * PRelu, Cast, Dropout).
 *
 *   unary      every unary op (float32 and float64, integer types where
 *              the spec has them) against float64 formulas written here
 *              from the ONNX definitions, including attributes and
 *              extreme inputs (Sigmoid/Softplus at +-100, NaN for Sign)
 *   attrs      Clip (attribute form < 11, omitted bounds, int types,
 *              min > max), Cast (string `to` at opset 1, truncation,
 *              saturation, NaN, wrap, bool), Dropout (mask types by
 *              opset, identity), legacy broadcast of opset < 7 (Add with
 *              axis, PRelu per channel)
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "ops_elemwise_util.h"
#include "exec/session.h"   /* white box: test_silu_fused checks the fusion */

/* ==== unary: float formulas from the ONNX definitions ==== */

static double
ref_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static const struct unary_case {
    const char *op;
    int         opset;
    const char *a1;        /* float attributes, NULL for the default */
    float       v1;
    const char *a2;
    float       v2;
    int         domain;    /* 0 all reals, 1 x >= 0 */
    bool        no_f64;    /* float32 only */
} unary_cases[] = {
    {"Relu", 14, NULL, 0, NULL, 0, 0, true},
    {"LeakyRelu", 16, NULL, 0, NULL, 0, 0, false},
    {"LeakyRelu", 16, "alpha", 0.3f, NULL, 0, 0, false},
    {"Sigmoid", 13, NULL, 0, NULL, 0, 0, false},
    {"Tanh", 13, NULL, 0, NULL, 0, 0, false},
    {"Elu", 6, NULL, 0, NULL, 0, 0, false},
    {"Elu", 6, "alpha", 0.5f, NULL, 0, 0, false},
    {"Selu", 6, NULL, 0, NULL, 0, 0, false},
    {"Selu", 6, "alpha", 2.0f, "gamma", 3.0f, 0, false},
    {"HardSigmoid", 6, NULL, 0, NULL, 0, 0, false},
    {"HardSigmoid", 6, "alpha", 0.5f, "beta", 0.6f, 0, false},
    {"HardSwish", 14, NULL, 0, NULL, 0, 0, false},
    {"Softplus", 1, NULL, 0, NULL, 0, 0, false},
    {"Erf", 13, NULL, 0, NULL, 0, 0, false},
    {"Exp", 13, NULL, 0, NULL, 0, 0, false},
    {"Log", 13, NULL, 0, NULL, 0, 1, false},
    {"Sqrt", 13, NULL, 0, NULL, 0, 1, false},
    {"Neg", 13, NULL, 0, NULL, 0, 0, false},
    {"Abs", 13, NULL, 0, NULL, 0, 0, false},
    {"Reciprocal", 13, NULL, 0, NULL, 0, 0, false},
    {"Floor", 13, NULL, 0, NULL, 0, 0, false},
    {"Ceil", 13, NULL, 0, NULL, 0, 0, false},
    {"Sign", 13, NULL, 0, NULL, 0, 0, false},
    {"Identity", 16, NULL, 0, NULL, 0, 0, false},
    {"Dropout", 13, NULL, 0, NULL, 0, 0, false},
};

static double
unary_ref(const struct unary_case *c, double x)
{
    const char *op = c->op;
    /* attribute values as the file stores them: float32 */
    double a1 = c->a1 ? (double)c->v1 : NAN, a2 = c->a2 ? (double)c->v2 : NAN;
    if (!strcmp(op, "Relu"))
        return x > 0.0 ? x : 0.0;
    if (!strcmp(op, "LeakyRelu")) {
        double alpha = c->a1 ? a1 : (double)0.01f;
        return x >= 0.0 ? x : alpha * x;
    }
    if (!strcmp(op, "Sigmoid"))
        return ref_sigmoid(x);
    if (!strcmp(op, "Tanh"))
        return tanh(x);
    if (!strcmp(op, "Elu")) {
        double alpha = c->a1 ? a1 : 1.0;
        return x > 0.0 ? x : alpha * (exp(x) - 1.0);
    }
    if (!strcmp(op, "Selu")) {
        double alpha = c->a1 ? a1 : (double)1.67326319217681884765625f;
        double gamma = c->a2 ? a2 : (double)1.05070102214813232421875f;
        return x > 0.0 ? gamma * x : gamma * (alpha * exp(x) - alpha);
    }
    if (!strcmp(op, "HardSigmoid")) {
        double alpha = c->a1 ? a1 : (double)0.2f, beta = c->a2 ? a2 : (double)0.5f;
        return fmax(0.0, fmin(1.0, alpha * x + beta));
    }
    if (!strcmp(op, "HardSwish"))
        return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    if (!strcmp(op, "Softplus"))
        return log1p(exp(x));
    if (!strcmp(op, "Erf"))
        return erf(x);
    if (!strcmp(op, "Exp"))
        return exp(x);
    if (!strcmp(op, "Log"))
        return log(x);
    if (!strcmp(op, "Sqrt"))
        return sqrt(x);
    if (!strcmp(op, "Neg"))
        return -x;
    if (!strcmp(op, "Abs"))
        return fabs(x);
    if (!strcmp(op, "Reciprocal"))
        return 1.0 / x;
    if (!strcmp(op, "Floor"))
        return floor(x);
    if (!strcmp(op, "Ceil"))
        return ceil(x);
    if (!strcmp(op, "Sign"))
        return isnan(x) ? x : x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
    return x;                               /* Identity, Dropout */
}

START_TEST(test_unary_float)
{
    const struct unary_case *c = &unary_cases[_i];
    static const double      fixed[] = {-100.0, -3.5, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3,
                                        0.5, 1.0, 2.5, 3.0, 4.0, 100.0, 7.25};
    const int64_t            n_fixed = (int64_t)(sizeof fixed / sizeof fixed[0]);
    const int64_t            n       = n_fixed + 25;
    rng_seed(300 + (uint64_t)_i);
    for (int f64 = 0; f64 < 2; f64++) {
        if (f64 && c->no_f64)
            continue;
        struct tt in;
        tt_init(&in, "x", f64 ? LRPX_DTYPE_FLOAT64 : LRPX_DTYPE_FLOAT32, 1, &n);
        for (int64_t k = 0; k < n; k++) {
            double v = k < n_fixed ? fixed[k] : rng_range(-5.0, 5.0);
            if (c->domain == 1)
                v = fabs(v);
            tt_set(&in, k, (double)(float)v);
        }
        lrpx_test_model *m = lrpx_test_model_new(c->opset);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, c->op, "u", LT_IO("x"), LT_IO("y"),
                             c->a1 ? LT_FLOAT(c->a1, c->v1) : NULL,
                             c->a2 ? LT_FLOAT(c->a2, c->v2) : NULL, NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, in.dt, 1, &n);
        double       *ref = malloc((size_t)n * sizeof(double));
        ck_assert_ptr_nonnull(ref);
        for (int64_t k = 0; k < n; k++) {
            double r = unary_ref(c, tt_get(&in, k));
            ref[k]   = f64 ? r : (double)(float)r;   /* overflow to inf as float32 does */
        }
        char msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, n, NULL, 0,
                                        f64 ? 1e-12 : 1e-5, f64 ? 1e-14 : 1e-6, msg, sizeof msg),
                      "%s (%s): %s", c->op, lrpx_dtype_name(in.dt), msg);
        free(ref);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in);
    }
}
END_TEST

/* Sign of NaN is NaN; Sigmoid and Softplus stay finite at the extremes. */
START_TEST(test_unary_special)
{
    static const char *const ops[] = {"Sign", "Sigmoid", "Softplus", "Abs", "Neg"};
    const float              x[4]  = {NAN, -1000.0f, 1000.0f, -0.0f};
    const int64_t            n     = 4;
    for (int o = 0; o < 5; o++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {4}, .n = 4,
                        .data = (void *)x};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, ops[o], "u", LT_IO("x"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        ck_assert_msg(isnan(out[0]), "%s(NaN) = %g", ops[o], out[0]);
        switch (o) {
        case 0: ck_assert(out[1] == -1.0 && out[2] == 1.0 && out[3] == 0.0); break;
        case 1: ck_assert(out[1] == 0.0 && out[2] == 1.0 && out[3] == 0.5); break;
        case 2:
            ck_assert(out[1] == 0.0 && out[2] == 1000.0);
            ck_assert_double_eq_tol(out[3], log(2.0), 1e-7);
            break;
        case 3: ck_assert(out[1] == 1000.0 && out[2] == 1000.0 && out[3] == 0.0); break;
        default: ck_assert(out[1] == 1000.0 && out[2] == -1000.0 && out[3] == 0.0); break;
        }
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Neg, Abs, Sign on integer types: C semantics, the most negative value
 * wraps to itself. */
START_TEST(test_unary_int)
{
    static const struct {
        const char *op;
        lrpx_dtype  dt;
        int64_t     x[4], y[4];
    } cases[] = {
        {"Neg", LRPX_DTYPE_INT32, {-2147483647 - 1, -5, 0, 7}, {-2147483647 - 1, 5, 0, -7}},
        {"Neg", LRPX_DTYPE_INT64, {INT64_MIN, -5, 0, INT64_MAX}, {INT64_MIN, 5, 0, -INT64_MAX}},
        {"Neg", LRPX_DTYPE_INT8, {-128, -5, 0, 127}, {-128, 5, 0, -127}},
        {"Abs", LRPX_DTYPE_INT8, {-128, -5, 0, 7}, {-128, 5, 0, 7}},
        {"Abs", LRPX_DTYPE_INT64, {INT64_MIN + 1, -5, 0, 7}, {INT64_MAX, 5, 0, 7}},
        {"Abs", LRPX_DTYPE_UINT16, {0, 65535, 1, 2}, {0, 65535, 1, 2}},
        {"Sign", LRPX_DTYPE_INT64, {-9, 0, 9, INT64_MIN}, {-1, 0, 1, -1}},
        {"Sign", LRPX_DTYPE_UINT8, {0, 5, 255, 1}, {0, 1, 1, 1}},
        {"Sign", LRPX_DTYPE_INT16, {-300, 0, 300, -1}, {-1, 0, 1, -1}},
    };
    const int64_t n = 4;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const size_t sz = lrpx_dtype_size(cases[c].dt);
        uint8_t      buf[32];
        for (int k = 0; k < 4; k++) {
            uint64_t u = (uint64_t)cases[c].x[k];
            memcpy(buf + k * sz, &u, sz);
        }
        struct tt in = {.name = "x", .dt = cases[c].dt, .rank = 1, .dims = {4}, .n = 4,
                        .data = buf};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, cases[c].op, "u", LT_IO("x"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, cases[c].dt);
        ck_assert_int_eq(v.n_elems, n);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 4; k++)
            ck_assert_msg(lrpx__tensor_get_i64(&t, k) == cases[c].y[k],
                          "%s %s [%d]: %lld, expected %lld", cases[c].op,
                          lrpx_dtype_name(cases[c].dt), k, (long long)lrpx__tensor_get_i64(&t, k),
                          (long long)cases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* ==== attrs: Clip, Cast, Dropout, legacy broadcasting ==== */

static double
ref_clip(double x, double lo, double hi)
{
    double t = x < lo ? lo : x;
    return t > hi ? hi : t;
}

START_TEST(test_clip_forms)
{
    const float   x[6] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, NAN};
    const int64_t n    = 6;
    struct tt     in   = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {6}, .n = 6,
                          .data = (void *)x};
    /* opset 6: attributes; opset 13: inputs, with either omitted; min > max */
    static const struct {
        int         opset;
        bool        attr_lo, attr_hi;      /* opset 6: attribute given */
        const char *lo_name, *hi_name;     /* opset 13: input names ("" omitted) */
        float       lo, hi;
    } cases[] = {
        {6, true, true, NULL, NULL, -1.0f, 1.0f},
        {6, false, true, NULL, NULL, 0, 0.1f},
        {6, true, false, NULL, NULL, 0.1f, 0},
        {6, false, false, NULL, NULL, 0, 0},
        {13, false, false, "lo", "hi", -1.0f, 1.0f},
        {13, false, false, "", "hi", 0, 0.1f},
        {13, false, false, "lo", "", 0.1f, 0},
        {13, false, false, "", "", 0, 0},
        {13, false, false, "lo", "hi", 1.0f, -1.0f},     /* min > max: all max */
        {11, false, false, "lo", NULL, -0.25f, 0},         /* trailing max left out */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lrpx_test_model *m = lrpx_test_model_new(cases[c].opset);
        declare_inputs(m, &in, 1);
        double lo = -INFINITY, hi = INFINITY;
        if (cases[c].opset < 11) {
            if (cases[c].attr_lo)
                lo = cases[c].lo;
            if (cases[c].attr_hi)
                hi = cases[c].hi;
            if (cases[c].attr_lo && cases[c].attr_hi)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("min", cases[c].lo), LT_FLOAT("max", cases[c].hi),
                                     NULL);
            else if (cases[c].attr_lo)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("min", cases[c].lo), NULL);
            else if (cases[c].attr_hi)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("max", cases[c].hi), NULL);
            else
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"), NULL);
        } else {
            if (cases[c].lo_name[0]) {
                lrpx_test_model_init_f32(m, "lo", 0, NULL, &cases[c].lo);
                lo = cases[c].lo;
            }
            if (cases[c].hi_name && cases[c].hi_name[0]) {
                lrpx_test_model_init_f32(m, "hi", 0, NULL, &cases[c].hi);
                hi = cases[c].hi;
            }
            if (cases[c].hi_name)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x", cases[c].lo_name,
                                                         cases[c].hi_name), LT_IO("y"), NULL);
            else
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x", cases[c].lo_name), LT_IO("y"),
                                     NULL);
        }
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        double        ref[6];
        for (int k = 0; k < 6; k++)
            ref[k] = ref_clip(x[k], lo, hi);
        char msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, n, NULL, 0, 0, 0, msg,
                                        sizeof msg),
                      "case %zu: %s", c, msg);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Clip on int64 and uint8 (opset 12+), bounds from inputs computed at run
 * time (not constants). */
START_TEST(test_clip_int)
{
    const int64_t x[5] = {INT64_MIN, -7, 0, 7, INT64_MAX}, lo = -5, hi = 6, n = 5;
    struct tt     in[3] = {
        {.name = "x", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {5}, .n = 5, .data = (void *)x},
        {.name = "lo", .dt = LRPX_DTYPE_INT64, .rank = 0, .n = 1, .data = (void *)&lo},
        {.name = "hi", .dt = LRPX_DTYPE_INT64, .rank = 0, .n = 1, .data = (void *)&hi},
    };
    lrpx_test_model *m = lrpx_test_model_new(13);
    declare_inputs(m, in, 3);
    lrpx_test_model_node(m, "Clip", "c", LT_IO("x", "lo", "hi"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, in, 3, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT64);
    for (int k = 0; k < n; k++)
        ck_assert_int_eq(((const int64_t *)v.data)[k], x[k] < lo ? lo : x[k] > hi ? hi : x[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* uint8 with only max: no lower bound below 0 */
    const uint8_t xu[4] = {0, 9, 200, 255}, hu = 100;
    const int64_t n4    = 4;
    m                   = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_UINT8, 1, &n4);
    lrpx_test_model_init(m, "hi", LRPX_DTYPE_UINT8, 0, NULL, &hu);
    lrpx_test_model_node(m, "Clip", "c", LT_IO("x", "", "hi"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt inu = {.name = "x", .dt = LRPX_DTYPE_UINT8, .rank = 1, .dims = {4}, .n = 4,
                     .data = (void *)xu};
    s = run_ok(m, &inu, 1, &model);
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(((const uint8_t *)v.data)[k], xu[k] > hu ? hu : xu[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* Cast per the spec text: truncation toward zero; NaN → 0 and saturation
 * (lrpx's documented choice where C is undefined); integer wrap; bool. */
START_TEST(test_cast_values)
{
    const float   xf[8] = {2.9f, -2.9f, 0.0f, NAN, 1e20f, -1e20f, 255.5f, -0.5f};
    const int64_t n8    = 8;
    static const struct {
        lrpx_dtype to;
        double     y[8];
    } fcases[] = {
        {LRPX_DTYPE_INT32, {2, -2, 0, 0, 2147483647.0, -2147483648.0, 255, 0}},
        {LRPX_DTYPE_INT64, {2, -2, 0, 0, 9223372036854775807.0, -9223372036854775808.0, 255, 0}},
        {LRPX_DTYPE_UINT8, {2, 0, 0, 0, 255, 0, 255, 0}},
        {LRPX_DTYPE_INT8, {2, -2, 0, 0, 127, -128, 127, 0}},
        {LRPX_DTYPE_BOOL, {1, 1, 0, 1, 1, 1, 1, 1}},
        {LRPX_DTYPE_FLOAT64, {2.9f, -2.9f, 0.0, NAN, 1e20f, -1e20f, 255.5, -0.5}},
        {LRPX_DTYPE_FLOAT32, {2.9f, -2.9f, 0.0, NAN, 1e20f, -1e20f, 255.5, -0.5}},
    };
    for (size_t c = 0; c < sizeof fcases / sizeof fcases[0]; c++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {8}, .n = 8,
                        .data = (void *)xf};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                             LT_INT("to", fcases[c].to), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, fcases[c].to);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < n8; k++) {
            if (fcases[c].to == LRPX_DTYPE_INT64)
                ck_assert_msg(lrpx__tensor_get_i64(&t, k) ==
                                  (k == 4 ? INT64_MAX : k == 5 ? INT64_MIN
                                                               : (int64_t)fcases[c].y[k]),
                              "to int64 [%d]: %lld", k, (long long)lrpx__tensor_get_i64(&t, k));
            else if (isnan(fcases[c].y[k]))
                ck_assert(isnan(lrpx__tensor_get_f64(&t, k)));
            else
                ck_assert_msg(lrpx__tensor_get_f64(&t, k) == fcases[c].y[k],
                              "cast to %s [%d]: %.17g, expected %.17g",
                              lrpx_dtype_name(fcases[c].to), k, lrpx__tensor_get_f64(&t, k),
                              fcases[c].y[k]);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* integers: int64 → int32/uint8 wrap; int64 → float; bool → int64;
     * float64 → float32 rounds; uint64 → float64 */
    const int64_t xi[4] = {(1LL << 32) + 5, -1, 300, (1LL << 53) + 1};
    static const struct {
        lrpx_dtype to;
        double     y[4];
    } icases[] = {
        {LRPX_DTYPE_INT32, {5, -1, 300, 1}},
        {LRPX_DTYPE_UINT8, {5, 255, 44, 1}},
        {LRPX_DTYPE_UINT16, {5, 65535, 300, 1}},
        {LRPX_DTYPE_FLOAT32, {(float)((1LL << 32) + 5), -1, 300, (float)((1LL << 53) + 1)}},
        {LRPX_DTYPE_FLOAT64, {(double)((1LL << 32) + 5), -1, 300, (double)((1LL << 53) + 1)}},
        {LRPX_DTYPE_BOOL, {1, 1, 1, 1}},
    };
    const int64_t n4 = 4;
    for (size_t c = 0; c < sizeof icases / sizeof icases[0]; c++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {4}, .n = 4,
                        .data = (void *)xi};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                             LT_INT("to", icases[c].to), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, icases[c].to);
        ck_assert_int_eq(v.n_elems, n4);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 4; k++)
            ck_assert_msg(lrpx__tensor_get_f64(&t, k) == icases[c].y[k],
                          "int64 → %s [%d]: %.17g, expected %.17g",
                          lrpx_dtype_name(icases[c].to), k, lrpx__tensor_get_f64(&t, k),
                          icases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* bool → float32 and int64; opset 1 names the type as a string */
    const uint8_t xb[3] = {1, 0, 1};
    for (int form = 0; form < 2; form++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_BOOL, .rank = 1, .dims = {3}, .n = 3,
                        .data = (void *)xb};
        lrpx_test_model *m = lrpx_test_model_new(form ? 1 : 13);
        declare_inputs(m, &in, 1);
        if (form)
            lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                                 LT_STRING("to", "INT64"), NULL);
        else
            lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                                 LT_INT("to", LRPX_DTYPE_FLOAT32), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, form ? LRPX_DTYPE_INT64 : LRPX_DTYPE_FLOAT32);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq(lrpx__tensor_get_f64(&t, k), xb[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Dropout: identity at inference; the mask is bool from opset 10 and has
 * the data type before; is_test = 0 of opset 6 still runs test mode;
 * training_mode = false is fine, and so is true with ratio 0. */
START_TEST(test_dropout_forms)
{
    const float   x[5] = {1.0f, -2.0f, 3.5f, 0.0f, 1e-3f};
    const int64_t n    = 5;
    struct tt     in   = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {5}, .n = 5,
                          .data = (void *)x};
    static const int opsets[] = {6, 7, 10, 12, 13};
    for (int o = 0; o < 5; o++) {
        const int        opset = opsets[o];
        const uint8_t    f     = 0;
        const float      ratio = 0.7f;
        lrpx_test_model *m     = lrpx_test_model_new(opset);
        declare_inputs(m, &in, 1);
        if (opset >= 12) {
            lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &f);
            lrpx_test_model_init_f32(m, "r", 0, NULL, &ratio);
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x", "r", "tm"), LT_IO("y", "mask"),
                                 NULL);
        } else if (opset == 6)
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x"), LT_IO("y", "mask"),
                                 LT_INT("is_test", 0), LT_FLOAT("ratio", 0.9f), NULL);
        else
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x"), LT_IO("y", "mask"),
                                 LT_FLOAT("ratio", 0.9f), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_test_model_output(m, "mask");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], x[k]);
        free(out);
        out = output_f64(s, 1, opset >= 10 ? LRPX_DTYPE_BOOL : LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], 1.0);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
    /* training mode with ratio 0 drops nothing: the identity as well */
    {
        const uint8_t    t    = 1;
        const float      zero = 0.0f;
        lrpx_test_model *m    = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &t);
        lrpx_test_model_init_f32(m, "r", 0, NULL, &zero);
        lrpx_test_model_node(m, "Dropout", "d", LT_IO("x", "r", "tm"), LT_IO("y", "mask"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_test_model_output(m, "mask");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], x[k]);
        free(out);
        out = output_f64(s, 1, LRPX_DTYPE_BOOL, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], 1.0);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Opset < 7: Add with broadcast=1 puts B at `axis` (default: suffix);
 * PRelu lays a [C] slope along axis 1. */
START_TEST(test_legacy_broadcast)
{
    const int64_t da[4] = {2, 3, 4, 5};
    static const struct {
        int     rb;
        int64_t db[4];
        int     axis;       /* -1: attribute absent */
    } cases[] = {
        {2, {3, 4}, 1}, {2, {4, 5}, -1}, {1, {2}, 0}, {0, {0}, -1}, {2, {1, 1}, -1},
        {1, {5}, 3}, {2, {3, 1}, 1},
    };
    rng_seed(77);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct tt in[2];
        tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, 4, da);
        tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, cases[c].rb, cases[c].db);
        tt_rand(&in[0], -1, 1, false);
        tt_rand(&in[1], -1, 1, false);
        lrpx_test_model *m = lrpx_test_model_new(6);
        declare_inputs(m, in, 2);
        if (cases[c].axis >= 0)
            lrpx_test_model_node(m, "Add", "add", LT_IO("a", "b"), LT_IO("y"),
                                 LT_INT("broadcast", 1), LT_INT("axis", cases[c].axis), NULL);
        else
            lrpx_test_model_node(m, "Add", "add", LT_IO("a", "b"), LT_IO("y"),
                                 LT_INT("broadcast", 1), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, in, 2, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 4, da);
        /* B padded with ones around its place in A */
        const int axis = cases[c].axis >= 0 ? cases[c].axis : 4 - cases[c].rb;
        int64_t   pd[4] = {1, 1, 1, 1};
        for (int k = 0; k < cases[c].rb; k++)
            pd[axis + k] = cases[c].db[k];
        for (int64_t k = 0; k < in[0].n; k++) {
            double e = tt_get(&in[0], k) + tt_get(&in[1], ref_bidx(k, 4, da, 4, pd));
            ck_assert_msg(fabs(out[k] - e) <= 1e-6, "case %zu [%lld]: %g vs %g", c,
                          (long long)k, out[k], e);
        }
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }

    /* PRelu at opset 6: x [2,3,4], slope [3] per channel */
    const int64_t dx[3] = {2, 3, 4}, ds = 3;
    const float   slope[3] = {0.1f, 0.2f, 0.3f};
    struct tt     x;
    tt_init(&x, "x", LRPX_DTYPE_FLOAT32, 3, dx);
    tt_rand(&x, -1, 1, false);
    lrpx_test_model *m = lrpx_test_model_new(6);
    declare_inputs(m, &x, 1);
    lrpx_test_model_init_f32(m, "s", 1, &ds, slope);
    lrpx_test_model_node(m, "PRelu", "p", LT_IO("x", "s"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model;
    lrpx_session *s   = run_ok(m, &x, 1, &model);
    double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 3, dx);
    for (int64_t k = 0; k < x.n; k++) {
        double v = tt_get(&x, k), e = v < 0 ? slope[(k / 4) % 3] * v : v;
        ck_assert_double_eq_tol(out[k], e, 1e-7);
    }
    free(out);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    tt_free(&x);
}
END_TEST

/* For the fusion tests: load m, keep only outputs when asked, run it on x
 * (float32, 4 dims) and say whether the node named `node` was computed by
 * its producer (x->fused of the run's plan). */
static lrpx_session *
fusion_run(lrpx_test_model *m, bool keep, const int64_t *dims, const float *x, const char *node,
           lrpx_model **model, int *fused)
{
    ck_assert_int_eq(lrpx_test_model_load(m, model), LRPX_OK);
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(*model, &s), LRPX_OK);
    if (keep)
        ck_assert_int_eq(lrpx_session_set_keep(s, LRPX_KEEP_OUTPUTS), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 4, dims, x), LRPX_OK);
    ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    *fused = -1;
    for (int i = 0; i < (*model)->g.n_nodes; i++)
        if (strcmp((*model)->g.nodes[i].name, node) == 0)
            *fused = s->plan.x.fused[i];
    return s;
}

/* The gradient with respect to x of the output `output` (NULL: the first)
 * seeded with seed[0 .. n). */
static void
fusion_gradient(lrpx_session *s, const float *seed, int64_t n, const char *output,
                lrpx_tensor_view *g)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = n;
    o.output_name  = output;
    ck_assert_msg(lrpx_session_gradient(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    ck_assert_int_eq(lrpx_session_gradient_of(s, "x", g), LRPX_OK);
}

/* SiLU as exporters write it, x * Sigmoid(x): the Sigmoid node computes the
 * Mul along (sigmoid.c) in either operand order, also when its own output
 * is a graph output or has a second reader, in sessions that keep
 * everything and that keep only outputs (there the two share a buffer).
 * Every form must give the bits of the same graph with a Relu between
 * Sigmoid and Mul (s >= 0, so the same values, and nothing fuses), for the
 * output and for the gradient with respect to x, and be within 2e-7
 * relative of x / (1 + exp(-x)) in double (Sigmoid is 0 below -87.6:
 * 1e-30 absolute). */
START_TEST(test_silu_fused)
{
    enum { N = 2 * 3 * 4 * 5 };
    float x[N];
    lrpx_test_rng_seed(7);
    lrpx_test_fill(x, N, -12.0, 12.0);
    x[0] = 0.0f, x[1] = -0.0f, x[2] = 90.0f, x[3] = -90.0f, x[4] = 1e-30f;
    float   ones[N];
    for (int i = 0; i < N; i++)
        ones[i] = 1.0f;
    float   ref_y[N], ref_g[N];
    for (int form = 0; form < 4; form++) {
        for (int keep = 0; keep < 2; keep++) {
            for (int twin = 1; twin >= 0; twin--) {
                struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 4,
                                .dims = {2, 3, 4, 5}, .n = N, .data = (void *)x};
                lrpx_test_model *m = lrpx_test_model_new(13);
                declare_inputs(m, &in, 1);
                lrpx_test_model_node(m, "Sigmoid", "sig", LT_IO("x"), LT_IO("s"), NULL);
                const char *sv = "s";
                if (twin) {
                    lrpx_test_model_node(m, "Relu", "id", LT_IO("s"), LT_IO("t"), NULL);
                    sv = "t";
                }
                if (form == 1)
                    lrpx_test_model_node(m, "Mul", "mul", LT_IO(sv, "x"), LT_IO("y"), NULL);
                else
                    lrpx_test_model_node(m, "Mul", "mul", LT_IO("x", sv), LT_IO("y"), NULL);
                if (form == 3)    /* a second reader of s: still fused */
                    lrpx_test_model_node(m, "Neg", "neg", LT_IO("s"), LT_IO("z"), NULL);
                lrpx_test_model_output(m, "y");
                if (form == 2)
                    lrpx_test_model_output(m, "s");
                if (form == 3)
                    lrpx_test_model_output(m, "z");
                lrpx_model   *model;
                int           fused;
                lrpx_session *s = fusion_run(m, keep, in.dims, x, "mul", &model, &fused);
                ck_assert_msg(fused == !twin, "form %d keep %d twin %d: Mul fused %d", form, keep,
                              twin, fused);
                lrpx_tensor_view y;
                ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
                ck_assert_int_eq(y.n_elems, N);
                float yd[N];
                memcpy(yd, y.data, sizeof yd);
                if (form == 2 || form == 3) {
                    lrpx_tensor_view o;
                    ck_assert_int_eq(lrpx_session_output(s, 1, &o), LRPX_OK);
                    for (int i = 0; i < N; i++) {
                        const double sg = 1.0 / (1.0 + exp(-(double)x[i]));
                        const double want = form == 2 ? sg : -sg;
                        ck_assert_msg(fabs(((const float *)o.data)[i] - want) <= 2e-7 * fabs(want) + 1e-30,
                                      "form %d: s[%d] = %.9g, want %.9g", form, i,
                                      ((const float *)o.data)[i], want);
                    }
                }
                lrpx_tensor_view g;
                fusion_gradient(s, ones, N, "y", &g);
                const float *gd = g.data;
                for (int i = 0; i < N; i++) {
                    if (!twin) {
                        ck_assert_msg(memcmp(&yd[i], &ref_y[i], sizeof(float)) == 0 &&
                                          memcmp(&gd[i], &ref_g[i], sizeof(float)) == 0,
                                      "form %d keep %d: element %d: y %.9g vs %.9g, "
                                      "dy/dx %.9g vs %.9g (unfused)", form, keep, i, yd[i],
                                      ref_y[i], gd[i], ref_g[i]);
                        continue;
                    }
                    const double xd = x[i], want = xd / (1.0 + exp(-xd));
                    ck_assert_msg(fabs(yd[i] - want) <= 2e-7 * fabs(want) + 1e-30,
                                  "x = %.9g: y = %.9g, want %.9g", x[i], yd[i], want);
                    ref_y[i] = yd[i];
                    ref_g[i] = gd[i];
                }
                lrpx_session_free(s);
                lrpx_model_free(model);
                lrpx_test_model_free(m);
            }
        }
    }
}
END_TEST

/* A Relu or Clip(0, 6) after a BatchNormalization or a Conv is computed by
 * that node's forward pass (plan.c, lrpx__fuse_act); with only outputs kept
 * the two share a buffer. Each form must give the bits of the same graph
 * with an Add of zero between the two (which nothing fuses), for the output
 * and for the gradient with respect to x, in both keep modes. */
START_TEST(test_act_fused)
{
    enum { C = 3, H = 6, W = 5, N = 2 * C * H * W, M = 4 };
    float x[N], scale[C], bias[C], mean[C], var[C], w[M * C * 9], cb[M];
    lrpx_test_rng_seed(11);
    lrpx_test_fill(x, N, -4.0, 4.0);
    lrpx_test_fill(scale, C, 0.5, 2.0);
    lrpx_test_fill(bias, C, -1.0, 1.0);
    lrpx_test_fill(mean, C, -0.5, 0.5);
    lrpx_test_fill(var, C, 0.2, 3.0);
    lrpx_test_fill(w, M * C * 9, -0.5, 0.5);
    lrpx_test_fill(cb, M, -0.2, 0.2);
    const float zero = 0.0f, lo = 0.0f, hi = 6.0f;
    for (int form = 0; form < 4; form++) {
        const bool conv = form >= 2, clip = form & 1;
        float      ref_y[2 * M * H * W], ref_g[N];
        int64_t    ny = 0;
        for (int keep = 0; keep < 2; keep++) {
            for (int twin = 1; twin >= 0; twin--) {
                struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 4,
                                .dims = {2, C, H, W}, .n = N, .data = (void *)x};
                lrpx_test_model *m = lrpx_test_model_new(13);
                declare_inputs(m, &in, 1);
                if (conv) {
                    lrpx_test_model_init_f32(m, "w", 4, (int64_t[]){M, C, 3, 3}, w);
                    lrpx_test_model_init_f32(m, "cb", 1, (int64_t[]){M}, cb);
                    lrpx_test_model_node(m, "Conv", "lin", LT_IO("x", "w", "cb"), LT_IO("z"),
                                         LT_INTS("pads", 1, 1, 1, 1), NULL);
                } else {
                    lrpx_test_model_init_f32(m, "s", 1, (int64_t[]){C}, scale);
                    lrpx_test_model_init_f32(m, "b", 1, (int64_t[]){C}, bias);
                    lrpx_test_model_init_f32(m, "mu", 1, (int64_t[]){C}, mean);
                    lrpx_test_model_init_f32(m, "var", 1, (int64_t[]){C}, var);
                    lrpx_test_model_node(m, "BatchNormalization", "lin",
                                         LT_IO("x", "s", "b", "mu", "var"), LT_IO("z"), NULL);
                }
                const char *zv = "z";
                if (twin) {
                    lrpx_test_model_init_f32(m, "zero", 1, (int64_t[]){1}, &zero);
                    lrpx_test_model_node(m, "Add", "add0", LT_IO("z", "zero"), LT_IO("z2"),
                                         NULL);
                    zv = "z2";
                }
                if (clip) {
                    lrpx_test_model_init_f32(m, "lo", 0, NULL, &lo);
                    lrpx_test_model_init_f32(m, "hi", 0, NULL, &hi);
                    lrpx_test_model_node(m, "Clip", "act", LT_IO(zv, "lo", "hi"), LT_IO("y"),
                                         NULL);
                } else {
                    lrpx_test_model_node(m, "Relu", "act", LT_IO(zv), LT_IO("y"), NULL);
                }
                lrpx_test_model_output(m, "y");
                lrpx_model   *model;
                int           fused;
                lrpx_session *s = fusion_run(m, keep, in.dims, x, "act", &model, &fused);
                ck_assert_msg(fused == !twin, "form %d keep %d twin %d: activation fused %d",
                              form, keep, twin, fused);
                lrpx_tensor_view y;
                ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
                ck_assert(y.n_elems <= (int64_t)(sizeof ref_y / sizeof ref_y[0]));
                float yd[2 * M * H * W];
                memcpy(yd, y.data, (size_t)y.n_elems * sizeof(float));
                float ones[2 * M * H * W];
                for (int64_t i = 0; i < y.n_elems; i++)
                    ones[i] = 1.0f + 0.01f * (float)(i % 7);
                lrpx_tensor_view g;
                fusion_gradient(s, ones, y.n_elems, NULL, &g);
                if (twin && keep == 0) {
                    ny = y.n_elems;
                    memcpy(ref_y, yd, (size_t)ny * sizeof(float));
                    memcpy(ref_g, g.data, sizeof ref_g);
                } else {
                    ck_assert_int_eq(y.n_elems, ny);
                    ck_assert_msg(memcmp(yd, ref_y, (size_t)ny * sizeof(float)) == 0,
                                  "form %d keep %d twin %d: output differs", form, keep, twin);
                    ck_assert_msg(memcmp(g.data, ref_g, sizeof ref_g) == 0,
                                  "form %d keep %d twin %d: gradient differs", form, keep, twin);
                }
                lrpx_session_free(s);
                lrpx_model_free(model);
                lrpx_test_model_free(m);
            }
        }
    }
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_unary_suite(void)
{
    Suite *s  = suite_create("ops_unary");
    TCase *tc = tcase_create("unary");
    tcase_add_loop_test(tc, test_unary_float, 0,
                        (int)(sizeof unary_cases / sizeof unary_cases[0]));
    tcase_add_test(tc, test_unary_special);
    tcase_add_test(tc, test_silu_fused);
    tcase_add_test(tc, test_act_fused);
    tcase_add_test(tc, test_unary_int);
    suite_add_tcase(s, tc);

    tc = tcase_create("attrs");
    tcase_add_test(tc, test_clip_forms);
    tcase_add_test(tc, test_clip_int);
    tcase_add_test(tc, test_cast_values);
    tcase_add_test(tc, test_dropout_forms);
    tcase_add_test(tc, test_legacy_broadcast);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(ops_unary_suite());
}
