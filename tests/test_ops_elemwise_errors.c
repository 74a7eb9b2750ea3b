/* Suite "ops_elemwise_errors": element-wise ops on bad input.
 *
 *   errors     non-broadcastable shapes → LRPX_ESHAPE naming the node,
 *              mixed dtypes, unsupported types (float16, training mode),
 *              integer division by zero, bad Clip bounds, bad Cast `to`
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "ops_elemwise_util.h"

/* ==== errors: malformed and unsupported ==== */

/* Build, load and run; expect status `want` with a message naming the node
 * (by name and op type) and containing `text`. */
static void
expect_error(lrpx_test_model *m, struct tt *in, int n_in, lrpx_status want,
             const char *node, const char *op, const char *text)
{
    lrpx_model   *model;
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE];
    lrpx_status   rc = try_run(m, in, n_in, &model, &s, msg, sizeof msg);
    ck_assert_msg(rc == want, "%s: got %s (%s), expected %s", op, lrpx_status_name(rc), msg,
                  lrpx_status_name(want));
    char label[128];
    snprintf(label, sizeof label, "node '%s'", node);
    ck_assert_msg(strstr(msg, label) && strstr(msg, op), "message does not name %s (%s): %s",
                  label, op, msg);
    ck_assert_msg(strstr(msg, text), "message lacks \"%s\": %s", text, msg);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}

START_TEST(test_errors_shapes)
{
    const int64_t d23[2] = {2, 3}, d4[1] = {4}, d32[2] = {3, 2}, d234[3] = {2, 3, 4};
    struct tt     in[3];
    tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, 2, d23);
    tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, 1, d4);
    tt_init(&in[2], "c", LRPX_DTYPE_FLOAT32, 2, d32);

    /* binary ops: [2,3] with [4] */
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less",
                                      "Greater", "Max", "Min", "Sum", "Mean"};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, ops[o], "bad_node", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "bad_node", ops[o], "do not broadcast");
    }
    /* a third input that breaks an otherwise fine broadcast */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        struct tt        w[3] = {in[0], in[0], in[2]};
        snprintf(w[1].name, sizeof w[1].name, "a2");
        declare_inputs(m, w, 3);
        lrpx_test_model_node(m, "Sum", "sum3", LT_IO("a", "a2", "c"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 3, LRPX_ESHAPE, "sum3", "Sum", "do not broadcast");
    }
    /* Where: condition [3,2] against [2,3] */
    {
        struct tt cond;
        tt_init(&cond, "cond", LRPX_DTYPE_BOOL, 2, d32);
        struct tt        w[3] = {cond, in[0], in[0]};
        lrpx_test_model *m = lrpx_test_model_new(16);
        lrpx_test_model_input(m, "cond", LRPX_DTYPE_BOOL, 2, d32);
        lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 2, d23);
        lrpx_test_model_node(m, "Where", "where1", LT_IO("cond", "a", "a"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_ESHAPE, "where1", "Where", "do not broadcast");
        tt_free(&cond);
    }
    /* PRelu: slope [4] on x [2,3]; also a slope that would need x broadcast */
    {
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "PRelu", "prelu1", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "prelu1", "PRelu", "does not broadcast");
        struct tt big;
        tt_init(&big, "b", LRPX_DTYPE_FLOAT32, 3, d234);
        struct tt x2[2] = {in[0], big};
        x2[0].rank = 1;
        x2[0].dims[0] = 3;
        x2[0].n = 3;
        m = lrpx_test_model_new(16);
        declare_inputs(m, x2, 2);
        lrpx_test_model_node(m, "PRelu", "prelu2", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, x2, 2, LRPX_ESHAPE, "prelu2", "PRelu", "does not broadcast");
        tt_free(&big);
    }
    /* opset 6 limited broadcast: B [3] does not sit at the end of A [2,3,4] */
    {
        struct tt x2[2];
        tt_init(&x2[0], "a", LRPX_DTYPE_FLOAT32, 3, d234);
        tt_init(&x2[1], "b", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){3});
        lrpx_test_model *m = lrpx_test_model_new(6);
        declare_inputs(m, x2, 2);
        lrpx_test_model_node(m, "Add", "legacy", LT_IO("a", "b"), LT_IO("y"),
                             LT_INT("broadcast", 1), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, x2, 2, LRPX_ESHAPE, "legacy", "Add", "does not fit");
        tt_free(&x2[0]);
        tt_free(&x2[1]);
    }
    /* Clip bounds must be scalars */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "Clip", "clip1", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "clip1", "Clip", "must be a scalar");
    }
    for (int i = 0; i < 3; i++)
        tt_free(&in[i]);
}
END_TEST

START_TEST(test_errors_types)
{
    const int64_t d[1] = {3};
    struct tt     f, i64, b, h;
    tt_init(&f, "f", LRPX_DTYPE_FLOAT32, 1, d);
    tt_init(&i64, "i", LRPX_DTYPE_INT64, 1, d);
    tt_init(&b, "b", LRPX_DTYPE_BOOL, 1, d);
    tt_init(&h, "h", LRPX_DTYPE_FLOAT32, 1, d);

    /* mixed dtypes in one op */
    static const char *const ops[] = {"Add", "Mul", "Equal", "Max", "Sum", "Div"};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        struct tt        w[2] = {f, i64};
        lrpx_test_model *m    = lrpx_test_model_new(14);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, ops[o], "mixed", LT_IO("f", "i"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_EINVAL, "mixed", ops[o], "has type int64");
    }
    /* types the op does not take */
    static const struct {
        const char *op;
        int         n_in;
        lrpx_dtype  dt;
        lrpx_status want;
        const char *text;
    } bad[] = {
        {"Sigmoid", 1, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"And", 2, LRPX_DTYPE_FLOAT32, LRPX_EUNSUPPORTED, "float32"},
        {"Not", 1, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"Sum", 2, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"Add", 2, LRPX_DTYPE_BOOL, LRPX_EUNSUPPORTED, "bool"},
        {"Neg", 1, LRPX_DTYPE_UINT8, LRPX_EUNSUPPORTED, "uint8"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct tt w[2];
        tt_init(&w[0], "p", bad[k].dt, 1, d);
        tt_init(&w[1], "q", bad[k].dt, 1, d);
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, w, bad[k].n_in);
        if (bad[k].n_in == 1)
            lrpx_test_model_node(m, bad[k].op, "typed", LT_IO("p"), LT_IO("y"), NULL);
        else
            lrpx_test_model_node(m, bad[k].op, "typed", LT_IO("p", "q"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, bad[k].n_in, bad[k].want, "typed", bad[k].op, bad[k].text);
        tt_free(&w[0]);
        tt_free(&w[1]);
    }
    /* float16: a cast to it, and an op fed with it */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "f", LRPX_DTYPE_FLOAT32, 1, d);
        lrpx_test_model_node(m, "Cast", "tohalf", LT_IO("f"), LT_IO("y"),
                             LT_INT("to", LRPX_DTYPE_FLOAT16), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EUNSUPPORTED, "tohalf", "Cast", "FLOAT16");
        m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "half", LRPX_DTYPE_FLOAT16, 1, d);
        lrpx_test_model_node(m, "Max", "maxhalf", LT_IO("half", "half"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, NULL, 0, LRPX_EUNSUPPORTED, "maxhalf", "Max", "float16");
    }
    /* Cast: strings, unknown numbers, a missing `to` */
    static const struct {
        int64_t     to;
        lrpx_status want;
        const char *text;
    } casts[] = {
        {8, LRPX_EUNSUPPORTED, "STRING"},
        {16, LRPX_EUNSUPPORTED, "BFLOAT16"},
        {14, LRPX_EUNSUPPORTED, "COMPLEX64"},
        {99, LRPX_EPARSE, "not an ONNX data type"},
        {0, LRPX_EPARSE, "not an ONNX data type"},
        {-1, LRPX_EPARSE, "'to' is missing"},
    };
    for (size_t k = 0; k < sizeof casts / sizeof casts[0]; k++) {
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        if (casts[k].to >= 0)
            lrpx_test_model_node(m, "Cast", "cast1", LT_IO("f"), LT_IO("y"),
                                 LT_INT("to", casts[k].to), NULL);
        else
            lrpx_test_model_node(m, "Cast", "cast1", LT_IO("f"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, casts[k].want, "cast1", "Cast", casts[k].text);
    }
    /* Where needs a bool condition; Clip bounds of another type */
    {
        struct tt        w[2] = {f, f};
        lrpx_test_model *m    = lrpx_test_model_new(16);
        declare_inputs(m, w, 1);
        lrpx_test_model_node(m, "Where", "w", LT_IO("f", "f", "f"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 1, LRPX_EUNSUPPORTED, "w", "Where", "float32");
        m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        const int64_t lo = 0;
        lrpx_test_model_init_i64(m, "lo", 0, NULL, &lo);
        lrpx_test_model_node(m, "Clip", "clipt", LT_IO("f", "lo"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EINVAL, "clipt", "Clip", "int64");
    }
    /* Pow: mixed base/exponent types need opset 12 */
    {
        struct tt        w[2] = {f, i64};
        lrpx_test_model *m    = lrpx_test_model_new(11);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, "Pow", "pow11", LT_IO("f", "i"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_EINVAL, "pow11", "Pow", "opset 12");
    }
    tt_free(&f);
    tt_free(&i64);
    tt_free(&b);
    tt_free(&h);
}
END_TEST

/* Dropout in training mode (a constant, or fed and read while planning);
 * an attribute-form Clip given inputs; integer division by zero at run
 * time and while folding constants. */
START_TEST(test_errors_runtime)
{
    const int64_t d[1] = {3};
    struct tt     f;
    tt_init(&f, "f", LRPX_DTYPE_FLOAT32, 1, d);
    {
        const uint8_t    t = 1;
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &t);
        lrpx_test_model_node(m, "Dropout", "drop", LT_IO("f", "", "tm"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EUNSUPPORTED, "drop", "Dropout", "training_mode is true");
    }
    /* a fed training_mode is read while planning: false runs, true fails */
    for (int t = 0; t < 2; t++) {
        struct tt tm = {.name = "tm", .dt = LRPX_DTYPE_BOOL, .rank = 0, .n = 1,
                        .data = (uint8_t[]){(uint8_t)t}};
        struct tt        w[2] = {f, tm};
        lrpx_test_model *m    = lrpx_test_model_new(13);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, "Dropout", "drop2", LT_IO("f", "", "tm"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        if (t) {
            expect_error(m, w, 2, LRPX_EUNSUPPORTED, "drop2", "Dropout", "training_mode is true");
            continue;
        }
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, w, 2, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, d);
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq(out[k], tt_get(&f, k));
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
    {
        const float      lo = 0.0f;
        lrpx_test_model *m  = lrpx_test_model_new(6);
        declare_inputs(m, &f, 1);
        lrpx_test_model_init_f32(m, "lo", 0, NULL, &lo);
        lrpx_test_model_node(m, "Clip", "clip6", LT_IO("f", "lo"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EPARSE, "clip6", "Clip", "attributes before opset 11");
    }
    /* division by zero: fed (run time) and folded (planning) */
    const int64_t a[3] = {6, 7, 8}, z[3] = {2, 0, 1};
    for (int folded = 0; folded < 2; folded++) {
        struct tt in[2] = {
            {.name = "a", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {3}, .n = 3,
             .data = (void *)a},
            {.name = "z", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {3}, .n = 3,
             .data = (void *)z},
        };
        lrpx_test_model *m = lrpx_test_model_new(14);
        if (folded) {
            declare_inputs(m, &f, 1);
            lrpx_test_model_init_i64(m, "a", 1, d, a);
            lrpx_test_model_init_i64(m, "z", 1, d, z);
            lrpx_test_model_node(m, "Identity", "id", LT_IO("f"), LT_IO("y2"), NULL);
            lrpx_test_model_output(m, "y2");
        } else
            declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "Div", "divz", LT_IO("a", "z"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        if (folded)
            expect_error(m, &f, 1, LRPX_EINVAL, "divz", "Div", "division by zero");
        else
            expect_error(m, in, 2, LRPX_EINVAL, "divz", "Div", "division by zero");
    }
    tt_free(&f);
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_elemwise_errors_suite(void)
{
    Suite *s  = suite_create("ops_elemwise_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_errors_shapes);
    tcase_add_test(tc, test_errors_types);
    tcase_add_test(tc, test_errors_runtime);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(ops_elemwise_errors_suite());
}
