/* Helpers shared by the Check test programs (tests/test_<area>.c):
 *
 *   paths      lrpx_test_path("models/x.onnx") under $LRPX_TESTDATA,
 *              lrpx_test_onnx_data("node/test_relu") under the ONNX backend
 *              test data, scratch folders under $TMPDIR (lrpx_test_scratch
 *              with its fixture)
 *   hangs      lrpx_test_in_child: a call under an alarm in a child
 *   compare    ck_assert_tensor_near(actual, expected, n, rtol, atol): fails
 *              with the worst element, its index and both values
 *   files      lrpx_test_npy_load (via lrpx_npy_read), lrpx_test_read_file
 *   models     an in-memory ONNX model builder (protobuf-c), so op tests
 *              need no Python:
 *
 *       lrpx_test_model *m = lrpx_test_model_new(13);
 *       lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 5, 5});
 *       lrpx_test_model_init_f32(m, "W", 4, (int64_t[]){2, 1, 3, 3}, w);
 *       lrpx_test_model_node(m, "Conv", "conv1", LT_IO("x", "W"), LT_IO("y"),
 *                            LT_INTS("pads", 1, 1, 1, 1), LT_INT("group", 1), NULL);
 *       lrpx_test_model_output(m, "y");
 *       lrpx_model *model;
 *       ck_assert_int_eq(lrpx_test_model_load(m, &model), LRPX_OK);
 *       ...
 *       lrpx_model_free(model);
 *       lrpx_test_model_free(m);
 *
 * Helpers that cannot go on (a path too long, out of memory, a file that
 * should be there and is not) fail the current Check test with a message;
 * they never return an error. The builder allocates with the C library, not
 * lrpx__malloc, so OOM injection (lrpx__alloc_fail_after) leaves it alone.
 */
#ifndef LRPX_TEST_H
#define LRPX_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lrpx.h"
#include "lrpx_internal.h"

/* ---- paths ---- */

#define LRPX_TEST_PATH_MAX 4096
/* Default for lrpx_test_onnx_data; $LRPX_ONNX_TESTDATA overrides it. */
#define LRPX_TEST_ONNX_DATA "/usr/share/libonnx-testdata/data"

/* "$LRPX_TESTDATA/rel". The result lives in one of 8 rotating static
 * buffers, so a few can be used in one expression; copy it to keep it. */
const char *lrpx_test_path(const char *rel);
/* "/usr/share/libonnx-testdata/data/rel" (or $LRPX_ONNX_TESTDATA/rel). */
const char *lrpx_test_onnx_data(const char *rel);
/* true when the ONNX backend test data is installed. */
bool        lrpx_test_have_onnx_data(void);
/* snprintf into buf that fails the test when the result does not fit. */
void        lrpx_test_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A fresh empty folder under $TMPDIR (or /tmp), written into buf. */
void lrpx_test_tmpdir(char *buf, size_t size);
/* Remove a folder made by lrpx_test_tmpdir and everything in it (files,
 * symlinks and sub-folders; symlinks are not followed). */
void lrpx_test_rmtree(const char *dir);
/* Write len bytes to path (fails the test on error). */
void lrpx_test_write_file(const char *path, const void *buf, size_t len);
/* Whole file into a malloc'd buffer (free with free()); fails the test. */
void *lrpx_test_read_file(const char *path, size_t *len);

/* The scratch folder of the current test, as a Check fixture:
 *     tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
 * lrpx_test_scratch(NULL) is the folder, lrpx_test_scratch("a.bin") a path
 * in it (rotating buffers, as lrpx_test_path). */
void        lrpx_test_scratch_setup(void);
void        lrpx_test_scratch_teardown(void);
const char *lrpx_test_scratch(const char *name);

/* ---- calls that might hang ---- */

/* Run fn(arg) in a forked child under an alarm of `seconds`, so a call that
 * hangs (a blocking open of a FIFO) fails the test instead of stalling the
 * run, with CK_FORK=no too. fn returns 0 when all went well and prints its
 * own diagnostics on stderr. Fails the current test, naming what, when fn
 * returned non-zero, crashed or hung. */
void lrpx_test_in_child(const char *what, unsigned seconds, int (*fn)(const void *arg),
                        const void *arg);

/* ---- comparisons ---- */

/* Compare n elements of dtype: floats by |a - e| <= atol + rtol * |e| with
 * NaN equal to NaN and infinities equal only to themselves; integers and
 * bools exactly. On mismatch writes "N of M elements differ; worst at
 * [i,j,..] (flat k): actual A, expected E, |diff| D > tol T" into msg and
 * returns false. dims/rank (may be NULL/0) give the index in
 * multi-dimensional form. */
/* max |a - ref| / max |ref| (max |a - ref| when ref is all 0), in double:
 * a map's error relative to its largest value. */
double lrpx_test_rel_err_f32(const float *a, const float *ref, int64_t n);
bool lrpx_test_compare(lrpx_dtype dtype, const void *actual, const void *expected,
                       int64_t n, const int64_t *dims, int rank,
                       double rtol, double atol, char *msg, size_t msg_size);

/* Fail the test unless float arrays actual and expected (n elements) agree
 * within atol + rtol * |expected|; the message names the worst element. */
#define ck_assert_tensor_near(actual, expected, n, rtol, atol)                         \
    do {                                                                             \
        char lrpx_msg_[512];                                                         \
        bool lrpx_ok_ = lrpx_test_compare(LRPX_DTYPE_FLOAT32, (actual), (expected),  \
                                          (int64_t)(n), NULL, 0, (rtol), (atol),     \
                                          lrpx_msg_, sizeof lrpx_msg_);              \
        ck_assert_msg(lrpx_ok_, "%s vs %s: %s", #actual, #expected, lrpx_msg_);      \
    } while (0)

/* Same for double arrays. */
#define ck_assert_tensor_near_f64(actual, expected, n, rtol, atol)                     \
    do {                                                                             \
        char lrpx_msg_[512];                                                         \
        bool lrpx_ok_ = lrpx_test_compare(LRPX_DTYPE_FLOAT64, (actual), (expected),  \
                                          (int64_t)(n), NULL, 0, (rtol), (atol),     \
                                          lrpx_msg_, sizeof lrpx_msg_);              \
        ck_assert_msg(lrpx_ok_, "%s vs %s: %s", #actual, #expected, lrpx_msg_);      \
    } while (0)

/* A tensor view (e.g. from lrpx_session_output) against a tensor (e.g.
 * from a .pb or .npy): same dtype, same shape, then lrpx_test_compare. */
#define ck_assert_view_near(view, expected, rtol, atol)                                \
    do {                                                                             \
        char lrpx_msg_[512];                                                         \
        bool lrpx_ok_ = lrpx_test_view_cmp((view), (expected), (rtol), (atol),      \
                                           lrpx_msg_, sizeof lrpx_msg_);             \
        ck_assert_msg(lrpx_ok_, "%s vs %s: %s", #view, #expected, lrpx_msg_);        \
    } while (0)

bool lrpx_test_view_cmp(const lrpx_tensor_view *view, const struct lrpx_tensor *expected,
                        double rtol, double atol, char *msg, size_t msg_size);

/* ---- files ---- */

/* lrpx_npy_read that fails the test with the reader's message. */
lrpx_npy *lrpx_test_npy_load(const char *path);
/* An lrpx_npy as a borrowed struct lrpx_tensor (no copy). */
struct lrpx_tensor lrpx_test_npy_tensor(const lrpx_npy *npy);

/* ---- in-memory ONNX models ---- */

typedef struct lrpx_test_model lrpx_test_model;

enum lrpx_test_attr_type {
    LT_ATTR_INT = 1,
    LT_ATTR_INTS,
    LT_ATTR_FLOAT,
    LT_ATTR_FLOATS,
    LT_ATTR_STRING,
    LT_ATTR_STRINGS,
    LT_ATTR_TENSOR,
};

/* One attribute of lrpx_test_model_node; make them with the LT_* macros. */
typedef struct lrpx_test_attr {
    const char              *name;
    enum lrpx_test_attr_type type;
    int64_t                  i;
    float                    f;
    const char              *s;
    int                      n;          /* ints/floats/strings count */
    const int64_t           *ints;
    const float             *floats;
    const char *const       *strings;
    /* LT_ATTR_TENSOR */
    lrpx_dtype               dtype;
    int                      rank;
    const int64_t           *dims;
    const void              *data;
} lrpx_test_attr;

/* Lists of names for node inputs and outputs: LT_IO("x", "W", "B").
 * "" is an omitted optional input. */
#define LT_IO(...) ((const char *const[]){__VA_ARGS__, NULL})
#define LT_NONE    ((const char *const[]){NULL})

#define LT_INT(nm, v) \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INT, .i = (v) })
#define LT_FLOAT(nm, v) \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_FLOAT, .f = (v) })
#define LT_STRING(nm, v) \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_STRING, .s = (v) })
/* LT_INTS("pads", 1, 1, 1, 1); an empty list is LT_INTS_N("axes", 0, NULL) */
#define LT_INTS(nm, ...)                                                               \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INTS,                      \
        .n = (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),          \
        .ints = (const int64_t[]){__VA_ARGS__} })
#define LT_INTS_N(nm, count, arr) \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INTS, .n = (count), .ints = (arr) })
#define LT_FLOATS(nm, ...)                                                             \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_FLOATS,                    \
        .n = (int)(sizeof((const float[]){__VA_ARGS__}) / sizeof(float)),              \
        .floats = (const float[]){__VA_ARGS__} })
#define LT_FLOATS_N(nm, count, arr) \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_FLOATS, .n = (count), .floats = (arr) })
#define LT_STRINGS(nm, ...)                                                            \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_STRINGS,                   \
        .n = (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)),       \
        .strings = (const char *const[]){__VA_ARGS__} })
/* A tensor attribute (Constant's "value"): data holds the product of dims
 * elements of dtype, stored as raw_data. */
#define LT_TENSOR(nm, dt, rk, dms, dat)                                                \
    (&(const lrpx_test_attr){ .name = (nm), .type = LT_ATTR_TENSOR, .dtype = (dt),     \
        .rank = (rk), .dims = (dms), .data = (dat) })

/* CONSTRUCTOR: an empty model importing the default domain at opset. The
 * IR version follows the opset (opset 13 → IR 7); override with
 * lrpx_test_model_set_ir_version. */
lrpx_test_model *lrpx_test_model_new(int64_t opset);
void             lrpx_test_model_free(lrpx_test_model *m);   /* NULL is a no-op */
void             lrpx_test_model_set_ir_version(lrpx_test_model *m, int64_t ir_version);
/* Import another domain too ("com.microsoft", 1). */
void             lrpx_test_model_opset_import(lrpx_test_model *m, const char *domain,
                                              int64_t version);

/* Graph input with a tensor type. dims[i] < 0 is a symbolic dimension,
 * named by dim_params[i] when given (lrpx_test_model_input_sym), else
 * "N<i>"; rank < 0 declares no shape at all. */
void lrpx_test_model_input(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                           const int64_t *dims);
void lrpx_test_model_input_sym(lrpx_test_model *m, const char *name, lrpx_dtype dtype,
                               int rank, const int64_t *dims, const char *const *dim_params);
/* Graph output without a type (lrpx infers it) or with one. */
void lrpx_test_model_output(lrpx_test_model *m, const char *name);
void lrpx_test_model_output_typed(lrpx_test_model *m, const char *name, lrpx_dtype dtype,
                                  int rank, const int64_t *dims);
/* A value_info entry (type of an intermediate value). */
void lrpx_test_model_value_info(lrpx_test_model *m, const char *name, lrpx_dtype dtype,
                                int rank, const int64_t *dims);

/* Initializers; data holds the product of dims elements and is copied.
 * _init stores raw_data, _init_f32/_init_i64 the typed fields
 * (float_data / int64_data), as exporters do. */
void lrpx_test_model_init(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                          const int64_t *dims, const void *data);
void lrpx_test_model_init_f32(lrpx_test_model *m, const char *name, int rank,
                              const int64_t *dims, const float *data);
void lrpx_test_model_init_i64(lrpx_test_model *m, const char *name, int rank,
                              const int64_t *dims, const int64_t *data);
/* Malformed-model tests: raw_data of any length, whatever the shape. */
void lrpx_test_model_init_raw(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                              const int64_t *dims, const void *raw, size_t raw_len);
/* External data: data_location EXTERNAL with "location" (and "offset" /
 * "length" when >= 0). */
void lrpx_test_model_init_external(lrpx_test_model *m, const char *name, lrpx_dtype dtype,
                                   int rank, const int64_t *dims, const char *location,
                                   int64_t offset, int64_t length);

/* A node: inputs and outputs are LT_IO(...) lists, then attributes made by
 * the LT_* macros, then NULL. name may be NULL (no name in the file). */
void lrpx_test_model_node(lrpx_test_model *m, const char *op_type, const char *name,
                          const char *const *inputs, const char *const *outputs, ...);
/* Same, in a domain other than the default one. */
void lrpx_test_model_node_domain(lrpx_test_model *m, const char *domain, const char *op_type,
                                 const char *name, const char *const *inputs,
                                 const char *const *outputs, ...);

/* Serialize the model: *buf is malloc'd (free with free()). */
void        lrpx_test_model_serialize(lrpx_test_model *m, uint8_t **buf, size_t *len);
/* Serialize and write to path. */
void        lrpx_test_model_save(lrpx_test_model *m, const char *path);
/* Serialize and lrpx_model_load_buffer with no base folder and default
 * options. Returns the loader's status; *out as lrpx_model_load_buffer. */
lrpx_status lrpx_test_model_load(lrpx_test_model *m, lrpx_model **out);

/* ---- random numbers ---- */

/* A reproducible xorshift generator for test data (one stream per
 * program): seed it, then draw uniform numbers in [lo, hi). */
void   lrpx_test_rng_seed(uint64_t seed);
double lrpx_test_uniform(double lo, double hi);
/* a[0..n) = uniform numbers in [lo, hi) */
void   lrpx_test_fill(float *a, int64_t n, double lo, double hi);

/* ---- running ---- */

/* The whole main of a test program: run every test of suite s (Check's
 * CK_NORMAL output) and return EXIT_SUCCESS when none failed:
 *     int main(void) { return lrpx_test_main(my_suite()); } */
int lrpx_test_main(Suite *s);

/* Load m, make a session, set input 0 (float32, dims) and run; fails the
 * test with the message on any error. Free with lrpx_session_free then
 * lrpx_model_free. */
void lrpx_test_run_f32(lrpx_test_model *m, int rank, const int64_t *dims, const float *x,
                       lrpx_model **model, lrpx_session **session);

/* A small text file into buf (NUL-terminated, cut at size - 1); "" when it
 * cannot be read. */
void lrpx_test_read_text(const char *path, char *buf, size_t size);

/* JSON files of the test data, with cJSON: $LRPX_TESTDATA/rel parsed (fails
 * the test when unreadable or not JSON; free with cJSON_Delete), and the
 * number member key of o (fails the test when there is none). */
struct cJSON;
struct cJSON *lrpx_test_json_load(const char *rel);
double        lrpx_test_json_number(const struct cJSON *o, const char *key);

/* Run the built lrpx ($LRPX_CLI, set by tests/meson.build) with the
 * arguments args (NULL-terminated, without the program name) through
 * posix_spawn; its stdout and stderr pass through files in dir and are
 * read back into out and err (NUL-terminated, cut at their sizes). Returns
 * the exit status, -1 when a signal ended it. */
int lrpx_test_run_cli(const char *dir, char *out, size_t out_size, char *err, size_t err_size,
                      const char *const *args);

#endif /* LRPX_TEST_H */
