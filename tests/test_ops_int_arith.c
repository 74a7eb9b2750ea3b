/* Suite "ops_int_arith": integer element-wise arithmetic.
 *
 *   ints       int64/int32/uint8/int8/... arithmetic against C written
 *              here: truncating division, wrap-around, INT_MIN / -1,
 *              integer Pow; a PyTorch-style Shape → Mul → Add → Div →
 *              Equal → Where chain folded to constants
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "ops_elemwise_util.h"

/* ==== ints: integer arithmetic ==== */

/* The reference is C: integer division truncates toward zero (the ONNX
 * reference and ONNX Runtime agree); overflow wraps (computed unsigned). */
static int64_t
ref_i64(const char *op, int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    if (!strcmp(op, "Add"))
        return (int64_t)(ua + ub);
    if (!strcmp(op, "Sub"))
        return (int64_t)(ua - ub);
    if (!strcmp(op, "Mul"))
        return (int64_t)(ua * ub);
    /* Div */
    if (a == INT64_MIN && b == -1)
        return INT64_MIN;
    return a / b;
}

START_TEST(test_int64_arith)
{
    static const int64_t av[] = {7, -7, 7, -7, 0, INT64_MAX, INT64_MIN, INT64_MIN, 123456789012345,
                                 -1, 3, 1LL << 40};
    static const int64_t bv[] = {2, 2, -2, -2, 5, 1, -1, 1, -1000, 3, 7, 1LL << 30};
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    const int64_t n = (int64_t)(sizeof av / sizeof av[0]);
    for (int o = 0; o < 4; o++) {
        for (int dt = 0; dt < 2; dt++) {             /* int64, then int32 */
            const lrpx_dtype d = dt ? LRPX_DTYPE_INT32 : LRPX_DTYPE_INT64;
            struct tt        in[2];
            tt_init(&in[0], "a", d, 1, &n);
            tt_init(&in[1], "b", d, 1, &n);
            for (int64_t k = 0; k < n; k++) {
                if (dt) {   /* int32 operands: the same values, wrapped to 32 bits */
                    ((int32_t *)in[0].data)[k] = (int32_t)(uint32_t)(uint64_t)av[k];
                    ((int32_t *)in[1].data)[k] = (int32_t)(uint32_t)(uint64_t)bv[k];
                    if (((int32_t *)in[1].data)[k] == 0)
                        ((int32_t *)in[1].data)[k] = 3;
                } else {
                    ((int64_t *)in[0].data)[k] = av[k];
                    ((int64_t *)in[1].data)[k] = bv[k];
                }
            }
            lrpx_test_model *m = lrpx_test_model_new(14);
            declare_inputs(m, in, 2);
            lrpx_test_model_node(m, ops[o], "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
            lrpx_test_model_output(m, "y");
            lrpx_model      *model;
            lrpx_session    *s = run_ok(m, in, 2, &model);
            lrpx_tensor_view v;
            ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
            ck_assert_int_eq(v.dtype, d);
            for (int64_t k = 0; k < n; k++) {
                if (dt) {
                    int32_t a = ((int32_t *)in[0].data)[k], b = ((int32_t *)in[1].data)[k];
                    int32_t e;
                    if (!strcmp(ops[o], "Div"))
                        e = (a == INT32_MIN && b == -1) ? INT32_MIN : a / b;
                    else
                        e = (int32_t)(uint32_t)(uint64_t)ref_i64(ops[o], a, b);
                    ck_assert_msg(((const int32_t *)v.data)[k] == e,
                                  "int32 %s(%d, %d) = %d, expected %d", ops[o], a, b,
                                  ((const int32_t *)v.data)[k], e);
                } else {
                    int64_t e = ref_i64(ops[o], av[k], bv[k]);
                    ck_assert_msg(((const int64_t *)v.data)[k] == e,
                                  "int64 %s(%lld, %lld) = %lld, expected %lld", ops[o],
                                  (long long)av[k], (long long)bv[k],
                                  (long long)((const int64_t *)v.data)[k], (long long)e);
                }
            }
            lrpx_session_free(s);
            lrpx_model_free(model);
            lrpx_test_model_free(m);
            tt_free(&in[0]);
            tt_free(&in[1]);
        }
    }
}
END_TEST

/* Small integer types: wrap-around, unsigned division, Max/Min. */
START_TEST(test_small_int_types)
{
    /* uint8: 250 + 10 wraps to 4; 200 * 2 wraps to 144; 7 / 2 = 3 */
    static const struct {
        const char *op;
        lrpx_dtype  dt;
        int64_t     a[3], b[3], y[3];
    } cases[] = {
        {"Add", LRPX_DTYPE_UINT8, {250, 1, 0}, {10, 2, 255}, {4, 3, 255}},
        {"Mul", LRPX_DTYPE_UINT8, {200, 3, 16}, {2, 5, 16}, {144, 15, 0}},
        {"Div", LRPX_DTYPE_UINT8, {7, 255, 0}, {2, 16, 9}, {3, 15, 0}},
        {"Sub", LRPX_DTYPE_INT8, {-128, 100, 0}, {1, -100, 5}, {127, -56, -5}},
        {"Div", LRPX_DTYPE_INT8, {-128, -7, 9}, {-1, 2, -4}, {-128, -3, -2}},
        {"Mul", LRPX_DTYPE_INT16, {300, -300, 2}, {300, 300, -3}, {24464, -24464, -6}},
        {"Max", LRPX_DTYPE_INT8, {-5, 3, -128}, {-6, 3, 127}, {-5, 3, 127}},
        {"Min", LRPX_DTYPE_UINT16, {65535, 0, 9}, {1, 7, 9}, {1, 0, 9}},
        {"Max", LRPX_DTYPE_UINT32, {4000000000, 1, 2}, {3, 2, 1}, {4000000000, 2, 2}},
        {"Min", LRPX_DTYPE_INT32, {-2147483647 - 1, 5, 0}, {0, -5, 0}, {-2147483647 - 1, -5, 0}},
        {"Equal", LRPX_DTYPE_INT64, {1, 2, -3}, {1, 3, -3}, {1, 0, 1}},
        {"Less", LRPX_DTYPE_UINT8, {1, 200, 3}, {2, 100, 3}, {1, 0, 0}},
        {"GreaterOrEqual", LRPX_DTYPE_INT16, {1, -200, 3}, {2, -300, 3}, {0, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t n3 = 3;
        const size_t  sz = lrpx_dtype_size(cases[c].dt);
        uint8_t       a[24], b[24];
        for (int k = 0; k < 3; k++) {       /* little-endian truncation of the value */
            uint64_t ua = (uint64_t)cases[c].a[k], ub = (uint64_t)cases[c].b[k];
            memcpy(a + k * sz, &ua, sz);
            memcpy(b + k * sz, &ub, sz);
        }
        lrpx_test_model *m = lrpx_test_model_new(14);
        lrpx_test_model_input(m, "a", cases[c].dt, 1, &n3);
        lrpx_test_model_init(m, "b", cases[c].dt, 1, &n3, b);
        lrpx_test_model_node(m, cases[c].op, "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct tt in = {.dt = cases[c].dt, .rank = 1, .dims = {3}, .n = 3, .data = a};
        snprintf(in.name, sizeof in.name, "a");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 3; k++)
            ck_assert_msg(lrpx__tensor_get_i64(&t, k) == cases[c].y[k],
                          "%s %s element %d: %lld, expected %lld", cases[c].op,
                          lrpx_dtype_name(cases[c].dt), k, (long long)lrpx__tensor_get_i64(&t, k),
                          (long long)cases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Pow with integer bases and every exponent type. */
START_TEST(test_pow_int)
{
    /* int64 ^ int64: exact, wraps; negative exponents truncate */
    static const int64_t base[] = {2, 3, -2, 1, -1, -1, 5, 0, 2, 7};
    static const int64_t expo[] = {62, 3, 5, -4, -3, -2, -1, 0, 64, 1};
    static const int64_t want[] = {1LL << 62, 27, -32, 1, -1, 1, 0, 1, 0, 7};
    const int64_t        n      = 10;
    lrpx_test_model     *m      = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_INT64, 1, &n);
    lrpx_test_model_init_i64(m, "b", 1, &n, expo);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in = {.name = "a", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {10}, .n = 10,
                    .data = (void *)base};
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, &in, 1, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    for (int k = 0; k < n; k++)
        ck_assert_msg(((const int64_t *)v.data)[k] == want[k], "%lld^%lld = %lld, expected %lld",
                      (long long)base[k], (long long)expo[k],
                      (long long)((const int64_t *)v.data)[k], (long long)want[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* int32 ^ float32: the real power truncated toward zero */
    static const int32_t b32[] = {2, 9, -8, 10};
    static const float   e32[] = {0.5f, 0.5f, 1.0f / 3.0f, -1.0f};
    const int64_t        n4    = 4;
    m                          = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_INT32, 1, &n4);
    lrpx_test_model_init_f32(m, "b", 1, &n4, e32);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in2 = {.name = "a", .dt = LRPX_DTYPE_INT32, .rank = 1, .dims = {4}, .n = 4,
                     .data = (void *)b32};
    s = run_ok(m, &in2, 1, &model);
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT32);
    for (int k = 0; k < 4; k++) {
        double  r = pow((double)b32[k], (double)e32[k]);
        int32_t e = isnan(r) ? 0 : (int32_t)trunc(r);
        ck_assert_msg(((const int32_t *)v.data)[k] == e, "%d^%g = %d, expected %d", b32[k],
                      (double)e32[k], ((const int32_t *)v.data)[k], e);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* float32 ^ 2.0f: the square, exactly x * x rounded once */
    {
        const float   xs[5] = {1.1f, -3.3f, 1e-20f, 3e19f, 0.7f}, two = 2.0f;
        const int64_t n5    = 5;
        m                   = lrpx_test_model_new(15);
        lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 1, &n5);
        lrpx_test_model_init_f32(m, "b", 0, NULL, &two);
        lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct tt ins = {.name = "a", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {5}, .n = 5,
                         .data = (void *)xs};
        s             = run_ok(m, &ins, 1, &model);
        double *sq    = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n5);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(sq[k], (double)(float)((double)xs[k] * xs[k]));
        free(sq);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* float32 ^ int64 exponent (PyTorch's x ** 2 with an integer constant) */
    static const float   xf[] = {1.5f, -2.0f, 0.25f};
    static const int64_t ei[] = {2, 3, -1};
    const int64_t        n3   = 3;
    m                         = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 1, &n3);
    lrpx_test_model_init_i64(m, "b", 1, &n3, ei);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in3 = {.name = "a", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {3}, .n = 3,
                     .data = (void *)xf};
    s = run_ok(m, &in3, 1, &model);
    double *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n3);
    for (int k = 0; k < 3; k++)
        ck_assert_double_eq_tol(out[k], pow(xf[k], (double)ei[k]), 1e-6);
    free(out);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* A PyTorch-style shape chain on int64, folded to constants while
 * planning: Shape(x) → Mul 2 → Add 1 → Div 2 → Equal → Where. */
START_TEST(test_int64_shape_chain)
{
    const int64_t    d4[4] = {2, 3, 5, 7}, one = 1, four = 4;
    const int64_t    two[1] = {2}, onev[1] = {1}, cmp[4] = {2, 3, 6, 7};
    const int64_t    alt[4] = {-1, -2, -3, -4};
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, d4);
    lrpx_test_model_init_i64(m, "two", 1, &one, two);
    lrpx_test_model_init_i64(m, "one", 0, NULL, onev);
    lrpx_test_model_init_i64(m, "cmp", 1, &four, cmp);
    lrpx_test_model_init_i64(m, "alt", 1, &four, alt);
    lrpx_test_model_node(m, "Shape", "shape", LT_IO("x"), LT_IO("s"), NULL);
    lrpx_test_model_node(m, "Mul", "mul", LT_IO("s", "two"), LT_IO("s2"), NULL);
    lrpx_test_model_node(m, "Add", "add", LT_IO("s2", "one"), LT_IO("s3"), NULL);
    lrpx_test_model_node(m, "Div", "div", LT_IO("s3", "two"), LT_IO("s4"), NULL);
    lrpx_test_model_node(m, "Equal", "eq", LT_IO("s4", "cmp"), LT_IO("e"), NULL);
    lrpx_test_model_node(m, "Where", "where", LT_IO("e", "s4", "alt"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt x;
    tt_init(&x, "x", LRPX_DTYPE_FLOAT32, 4, d4);
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, &x, 1, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT64);
    ck_assert_int_eq(v.n_elems, 4);
    for (int k = 0; k < 4; k++) {
        int64_t s4 = (d4[k] * 2 + 1) / 2;
        int64_t e  = s4 == cmp[k] ? s4 : alt[k];
        ck_assert_int_eq(((const int64_t *)v.data)[k], e);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    tt_free(&x);
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_int_arith_suite(void)
{
    Suite *s  = suite_create("ops_int_arith");
    TCase *tc = tcase_create("ints");
    tcase_add_test(tc, test_int64_arith);
    tcase_add_test(tc, test_small_int_types);
    tcase_add_test(tc, test_pow_int);
    tcase_add_test(tc, test_int64_shape_chain);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(ops_int_arith_suite());
}
