/* Suite "status": the LRPX_STATUS_MAP codes, their names and texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

/* The list as the header defines it, expanded here independently of
 * src/util/error.c, so a drift between the two is caught. */
static const struct {
    lrpx_status code;
    const char *name;
    const char *text;
} status_table[] = {
#define X(nm, txt) { LRPX_##nm, "LRPX_" #nm, txt },
    LRPX_STATUS_MAP(X)
#undef X
};
#define N_STATUS ((int)(sizeof status_table / sizeof status_table[0]))

START_TEST(test_codes_are_dense)
{
    ck_assert_int_eq(N_STATUS, LRPX_STATUS_COUNT);
    ck_assert_int_eq(LRPX_OK, 0);
    for (int i = 0; i < N_STATUS; i++)
        ck_assert_int_eq(status_table[i].code, i);
}
END_TEST

START_TEST(test_names_match_symbols)
{
    for (int i = 0; i < N_STATUS; i++)
        ck_assert_str_eq(lrpx_status_name(status_table[i].code), status_table[i].name);
}
END_TEST

START_TEST(test_texts_match_map)
{
    for (int i = 0; i < N_STATUS; i++) {
        const char *s = lrpx_status_str(status_table[i].code);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_gt(strlen(s), 0);
        ck_assert_str_eq(s, status_table[i].text);
    }
}
END_TEST

START_TEST(test_names_and_texts_distinct)
{
    for (int i = 0; i < N_STATUS; i++)
        for (int j = i + 1; j < N_STATUS; j++) {
            ck_assert_str_ne(lrpx_status_name(i), lrpx_status_name(j));
            ck_assert_str_ne(lrpx_status_str(i), lrpx_status_str(j));
        }
}
END_TEST

START_TEST(test_out_of_range)
{
    /* never NULL, never one of the real texts */
    const lrpx_status bad[] = { LRPX_STATUS_COUNT, (lrpx_status)(LRPX_STATUS_COUNT + 100),
                                (lrpx_status)-1 };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *s = lrpx_status_str(bad[k]);
        const char *n = lrpx_status_name(bad[k]);
        ck_assert_ptr_nonnull(s);
        ck_assert_ptr_nonnull(n);
        for (int i = 0; i < N_STATUS; i++) {
            ck_assert_str_ne(s, status_table[i].text);
            ck_assert_str_ne(n, status_table[i].name);
        }
    }
}
END_TEST

START_TEST(test_dtype_names_and_sizes)
{
    /* sizes from the ONNX TensorProto.DataType definitions */
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_FLOAT32), 4);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_FLOAT64), 8);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_INT64), 8);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_INT32), 4);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_UINT8), 1);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_BOOL), 1);
    ck_assert_uint_eq(lrpx_dtype_size(LRPX_DTYPE_COUNT), 0);
    ck_assert_uint_eq(lrpx_dtype_size((lrpx_dtype)-3), 0);
    ck_assert_str_eq(lrpx_dtype_name(LRPX_DTYPE_FLOAT32), "float32");
    ck_assert_str_eq(lrpx_dtype_name(LRPX_DTYPE_COUNT), "?");
    for (int i = LRPX_DTYPE_FLOAT32; i < LRPX_DTYPE_COUNT; i++)
        for (int j = i + 1; j < LRPX_DTYPE_COUNT; j++)
            ck_assert_str_ne(lrpx_dtype_name(i), lrpx_dtype_name(j));
}
END_TEST

START_TEST(test_error_formatting)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    ck_assert_int_eq(err.status, LRPX_OK);
    ck_assert_str_eq(err.msg, "");
    ck_assert_int_eq(lrpx__error(&err, LRPX_ESHAPE, "W has rank %d, expected %d", 3, 4),
                     LRPX_ESHAPE);
    ck_assert_int_eq(err.status, LRPX_ESHAPE);
    ck_assert_str_eq(err.msg, "W has rank 3, expected 4");
    lrpx__error_prefix(&err, "%s", "net.onnx");
    ck_assert_str_eq(err.msg, "net.onnx: W has rank 3, expected 4");

    /* a message longer than the buffer is truncated, not overflowed */
    char big[3 * LRPX_ERRMSG_SIZE];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lrpx__error(&err, LRPX_EINVAL, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), LRPX_ERRMSG_SIZE - 1);
    lrpx__error_prefix(&err, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), LRPX_ERRMSG_SIZE - 1);
}
END_TEST

/* The version macros, the running library and lrpx_features agree. */
START_TEST(test_version_and_features)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", LRPX_VERSION_MAJOR, LRPX_VERSION_MINOR,
             LRPX_VERSION_PATCH);
    ck_assert_str_eq(lrpx_version(), want);
    ck_assert_int_eq(lrpx_version_number(), LRPX_VERSION_NUMBER);
    int64_t lo = -1, hi = -1;
    lrpx_opset_range(&lo, &hi);
    ck_assert_int_eq(lo, 1);                 /* e.g. Relu, Add since opset 1..7 */
    ck_assert_int_eq(hi, 17);
    lrpx_opset_range(NULL, NULL);
    const char *f = lrpx_features();
    ck_assert_ptr_eq(f, lrpx_features());    /* static, made once */
    ck_assert_ptr_nonnull(strstr(f, "simd:"));
    ck_assert(strstr(f, "simd:avx512f+avx2+fma") || strstr(f, "simd:avx2+fma") ||
              strstr(f, "simd:baseline"));
}
END_TEST

static Suite *
status_suite(void)
{
    Suite *s  = suite_create("status");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, test_codes_are_dense);
    tcase_add_test(tc, test_names_match_symbols);
    tcase_add_test(tc, test_texts_match_map);
    tcase_add_test(tc, test_names_and_texts_distinct);
    tcase_add_test(tc, test_out_of_range);
    tcase_add_test(tc, test_dtype_names_and_sizes);
    tcase_add_test(tc, test_error_formatting);
    tcase_add_test(tc, test_version_and_features);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(status_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
