/* Suite "testlib": the shared test helpers themselves (lrpx_test.c), so a
 * broken comparison or model builder cannot make other suites pass
 * vacuously. The builder's bytes are decoded here with protobuf-c directly,
 * not with the lrpx loader.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "onnx.pb-c.h"

/* ---- comparisons ---- */

START_TEST(test_compare_floats)
{
    char  msg[512];
    float e[4] = { 1.0f, -2.0f, 100.0f, 0.0f };
    float a[4] = { 1.0f, -2.0f, 100.0f, 0.0f };
    ck_assert(lrpx_test_compare(LRPX_DTYPE_FLOAT32, a, e, 4, NULL, 0, 0, 0, msg, sizeof msg));

    /* within atol + rtol |e|: 100 * 1e-3 + 1e-6 */
    a[2] = 100.09f;
    ck_assert(lrpx_test_compare(LRPX_DTYPE_FLOAT32, a, e, 4, NULL, 0, 1e-3, 1e-6, msg, sizeof msg));
    a[2] = 100.2f;
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT32, a, e, 4, NULL, 0, 1e-3, 1e-6, msg, sizeof msg));

    /* the worst of two bad elements is reported, with a multi-index */
    a[3] = 5.0f;
    int64_t dims[2] = { 2, 2 };
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT32, a, e, 4, dims, 2, 1e-3, 1e-6, msg, sizeof msg));
    ck_assert_msg(strstr(msg, "2 of 4") != NULL, "%s", msg);
    ck_assert_msg(strstr(msg, "[1,1]") != NULL, "%s", msg);
    ck_assert_msg(strstr(msg, "actual 5") != NULL, "%s", msg);
    ck_assert_msg(strstr(msg, "expected 0") != NULL, "%s", msg);
}
END_TEST

START_TEST(test_compare_nan_inf)
{
    char   msg[512];
    double e[3] = { NAN, INFINITY, 1.0 };
    double a[3] = { NAN, INFINITY, 1.0 };
    ck_assert(lrpx_test_compare(LRPX_DTYPE_FLOAT64, a, e, 3, NULL, 0, 0, 0, msg, sizeof msg));
    a[0] = 0.0;            /* NaN expected, number given */
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT64, a, e, 3, NULL, 0, 1, 1, msg, sizeof msg));
    a[0] = NAN;
    a[1] = -INFINITY;      /* wrong infinity */
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT64, a, e, 3, NULL, 0, 1, 1, msg, sizeof msg));
    a[1] = 1e300;          /* a finite number is not infinity, however large the tolerance */
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT64, a, e, 3, NULL, 0, 1e9, 1e9, msg, sizeof msg));
    a[1] = INFINITY;
    a[2] = NAN;            /* NaN given, number expected */
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_FLOAT64, a, e, 3, NULL, 0, 1, 1, msg, sizeof msg));
}
END_TEST

START_TEST(test_compare_ints_exact)
{
    char    msg[512];
    int64_t e[3] = { 1, INT64_MAX, -5 };
    int64_t a[3] = { 1, INT64_MAX, -5 };
    ck_assert(lrpx_test_compare(LRPX_DTYPE_INT64, a, e, 3, NULL, 0, 1, 1, msg, sizeof msg));
    a[1] = INT64_MAX - 1;  /* tolerances do not apply to integers */
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_INT64, a, e, 3, NULL, 0, 1, 1, msg, sizeof msg));
    ck_assert_msg(strstr(msg, "[1]") != NULL, "%s", msg);

    uint8_t be[2] = { 0, 1 }, ba[2] = { 1, 1 };
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_BOOL, ba, be, 2, NULL, 0, 0, 0, msg, sizeof msg));
    ck_assert(!lrpx_test_compare(LRPX_DTYPE_STRING, ba, be, 2, NULL, 0, 0, 0, msg, sizeof msg));
    ck_assert(lrpx_test_compare(LRPX_DTYPE_INT32, NULL, NULL, 0, NULL, 0, 0, 0, msg, sizeof msg));
}
END_TEST

START_TEST(test_view_cmp_shape_and_dtype)
{
    char               msg[512];
    float              d[6] = { 1, 2, 3, 4, 5, 6 };
    lrpx_tensor_view   v    = { .dtype = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = { 2, 3 },
                                .n_elems = 6, .data = d };
    struct lrpx_tensor t;
    memset(&t, 0, sizeof t);
    ck_assert(lrpx__tensor_shape(&t, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 2, 3 }));
    t.data = d;
    ck_assert(lrpx_test_view_cmp(&v, &t, 0, 0, msg, sizeof msg));
    ck_assert(lrpx__tensor_shape(&t, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 }));
    ck_assert(!lrpx_test_view_cmp(&v, &t, 0, 0, msg, sizeof msg));
    ck_assert_msg(strstr(msg, "2x3") && strstr(msg, "3x2"), "%s", msg);
    ck_assert(lrpx__tensor_shape(&t, LRPX_DTYPE_INT32, 2, (int64_t[]){ 2, 3 }));
    ck_assert(!lrpx_test_view_cmp(&v, &t, 0, 0, msg, sizeof msg));
    ck_assert_msg(strstr(msg, "int32") != NULL, "%s", msg);
}
END_TEST

/* ---- paths ---- */

START_TEST(test_paths)
{
    ck_assert_int_eq(setenv("LRPX_TESTDATA", "/data/root", 1), 0);
    ck_assert_str_eq(lrpx_test_path("a/b.onnx"), "/data/root/a/b.onnx");
    /* several results can be alive at once */
    const char *p1 = lrpx_test_path("one");
    const char *p2 = lrpx_test_path("two");
    ck_assert_str_eq(p1, "/data/root/one");
    ck_assert_str_eq(p2, "/data/root/two");
    ck_assert_int_eq(setenv("LRPX_ONNX_TESTDATA", "/onnx", 1), 0);
    ck_assert_str_eq(lrpx_test_onnx_data("node/test_relu"), "/onnx/node/test_relu");
    ck_assert_int_eq(unsetenv("LRPX_ONNX_TESTDATA"), 0);
    ck_assert_str_eq(lrpx_test_onnx_data("x"), LRPX_TEST_ONNX_DATA "/x");
}
END_TEST

/* ---- model builder, decoded with protobuf-c ---- */

START_TEST(test_builder_round_trip)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    const float      w[6] = { 1, 2, 3, 4, 5, 6 };
    const int64_t    shape[2] = { 3, 2 };
    lrpx_test_model_input_sym(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ -1, 3 },
                              (const char *const[]){ "batch", NULL });
    lrpx_test_model_init_f32(m, "W", 2, (int64_t[]){ 3, 2 }, w);
    lrpx_test_model_init_i64(m, "S", 1, (int64_t[]){ 2 }, shape);
    lrpx_test_model_init(m, "R", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 2 }, w);
    lrpx_test_model_init_external(m, "E", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 2 }, "e.bin", 8, -1);
    lrpx_test_model_node(m, "Gemm", "g1", LT_IO("x", "W", ""), LT_IO("y"),
                         LT_FLOAT("alpha", 0.5f), LT_INT("transB", 1), LT_INTS("perm", 1, 0),
                         LT_FLOATS("scales", 1.0f, 2.5f), LT_STRING("mode", "linear"),
                         LT_STRINGS("names", "a", "bc"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 2 }, w), NULL);
    lrpx_test_model_node(m, "Relu", NULL, LT_IO("y"), LT_IO("z"), NULL);
    lrpx_test_model_output(m, "z");
    lrpx_test_model_output_typed(m, "y", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ -1, 2 });

    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    lrpx_test_model_free(m);
    Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    ck_assert_ptr_nonnull(p);

    ck_assert_int_eq(p->ir_version, 7);
    ck_assert_uint_eq(p->n_opset_import, 1);
    ck_assert_str_eq(p->opset_import[0]->domain, "");
    ck_assert_int_eq(p->opset_import[0]->version, 13);
    const Onnx__GraphProto *g = p->graph;
    ck_assert_ptr_nonnull(g);

    /* input with a symbolic first dimension */
    ck_assert_uint_eq(g->n_input, 1);
    const Onnx__TypeProto__Tensor *tt = g->input[0]->type->tensor_type;
    ck_assert_int_eq(tt->elem_type, 1);
    ck_assert_uint_eq(tt->shape->n_dim, 2);
    ck_assert_int_eq(tt->shape->dim[0]->value_case,
                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM);
    ck_assert_str_eq(tt->shape->dim[0]->dim_param, "batch");
    ck_assert_int_eq(tt->shape->dim[1]->dim_value, 3);

    /* initializers in the typed fields, raw_data and external */
    ck_assert_uint_eq(g->n_initializer, 4);
    ck_assert_str_eq(g->initializer[0]->name, "W");
    ck_assert_uint_eq(g->initializer[0]->n_float_data, 6);
    ck_assert_float_eq(g->initializer[0]->float_data[5], 6.0f);
    ck_assert_uint_eq(g->initializer[0]->n_dims, 2);
    ck_assert_uint_eq(g->initializer[1]->n_int64_data, 2);
    ck_assert_int_eq(g->initializer[1]->int64_data[0], 3);
    ck_assert_int_eq(g->initializer[1]->data_type, 7);
    ck_assert(g->initializer[2]->has_raw_data);
    ck_assert_uint_eq(g->initializer[2]->raw_data.len, 8);
    ck_assert_int_eq(memcmp(g->initializer[2]->raw_data.data, w, 8), 0);
    const Onnx__TensorProto *ext = g->initializer[3];
    ck_assert_int_eq(ext->data_location, ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL);
    ck_assert_uint_eq(ext->n_external_data, 2);
    ck_assert_str_eq(ext->external_data[0]->key, "location");
    ck_assert_str_eq(ext->external_data[0]->value, "e.bin");
    ck_assert_str_eq(ext->external_data[1]->key, "offset");
    ck_assert_str_eq(ext->external_data[1]->value, "8");

    /* nodes, with an omitted optional input and every attribute kind */
    ck_assert_uint_eq(g->n_node, 2);
    const Onnx__NodeProto *n = g->node[0];
    ck_assert_str_eq(n->op_type, "Gemm");
    ck_assert_str_eq(n->name, "g1");
    ck_assert_uint_eq(n->n_input, 3);
    ck_assert_str_eq(n->input[2], "");
    ck_assert_uint_eq(n->n_attribute, 7);
    ck_assert_str_eq(n->attribute[0]->name, "alpha");
    ck_assert_int_eq(n->attribute[0]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    ck_assert_float_eq(n->attribute[0]->f, 0.5f);
    ck_assert_int_eq(n->attribute[1]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    ck_assert_int_eq(n->attribute[1]->i, 1);
    ck_assert_int_eq(n->attribute[2]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    ck_assert_uint_eq(n->attribute[2]->n_ints, 2);
    ck_assert_int_eq(n->attribute[2]->ints[0], 1);
    ck_assert_int_eq(n->attribute[2]->ints[1], 0);
    ck_assert_int_eq(n->attribute[3]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    ck_assert_float_eq(n->attribute[3]->floats[1], 2.5f);
    ck_assert_int_eq(n->attribute[4]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    ck_assert_uint_eq(n->attribute[4]->s.len, 6);
    ck_assert_int_eq(memcmp(n->attribute[4]->s.data, "linear", 6), 0);
    ck_assert_int_eq(n->attribute[5]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    ck_assert_uint_eq(n->attribute[5]->n_strings, 2);
    ck_assert_uint_eq(n->attribute[5]->strings[1].len, 2);
    ck_assert_int_eq(n->attribute[6]->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    ck_assert_uint_eq(n->attribute[6]->t->raw_data.len, 8);
    ck_assert_ptr_null(g->node[1]->name);

    /* outputs: untyped and typed */
    ck_assert_uint_eq(g->n_output, 2);
    ck_assert_str_eq(g->output[0]->name, "z");
    ck_assert_ptr_null(g->output[0]->type);
    ck_assert_ptr_nonnull(g->output[1]->type);
    onnx__model_proto__free_unpacked(p, NULL);
}
END_TEST

static Suite *
testlib_suite(void)
{
    Suite *s  = suite_create("testlib");
    TCase *tc = tcase_create("compare");
    tcase_add_test(tc, test_compare_floats);
    tcase_add_test(tc, test_compare_nan_inf);
    tcase_add_test(tc, test_compare_ints_exact);
    tcase_add_test(tc, test_view_cmp_shape_and_dtype);
    suite_add_tcase(s, tc);

    tc = tcase_create("paths");
    tcase_add_test(tc, test_paths);
    suite_add_tcase(s, tc);

    tc = tcase_create("builder");
    tcase_add_test(tc, test_builder_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(testlib_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
