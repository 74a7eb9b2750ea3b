/* Suite "onnx": the loader on good and malformed models.
 *
 * Malformed models are built in memory with the lrpx_test_model builder
 * (protobuf-c) or by damaging valid bytes; each must give the documented
 * status and a message that names the file, the node or tensor, and the
 * reason, and must never crash. Numbers in the positive tests are checked
 * against the formula computed here (MatMul as a double loop).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lrpx_test.h"

static char scratch[LRPX_TEST_PATH_MAX];

static void
setup(void)
{
    lrpx_test_tmpdir(scratch, sizeof scratch);
}

static void
teardown(void)
{
    lrpx_test_rmtree(scratch);
}

static const char *
scratch_path(const char *name)
{
    static char p[2][LRPX_TEST_PATH_MAX];
    static int  k;
    k = !k;
    lrpx_test_snprintf(p[k], sizeof p[k], "%s/%s", scratch, name);
    return p[k];
}

/* Assert status want and that every needle is in the model's message. */
#define expect_load_error(rc, model, want, ...)                                             \
    do {                                                                                  \
        const char *needles_[] = { __VA_ARGS__, NULL };                                   \
        const char *msg_       = (model) ? lrpx_model_errmsg(model) : "(no handle)";      \
        ck_assert_msg((rc) == (want), "status %s, expected %s: %s", lrpx_status_name(rc), \
                      lrpx_status_name(want), msg_);                                      \
        ck_assert_ptr_nonnull(model);                                                     \
        for (int k_ = 0; needles_[k_]; k_++)                                              \
            ck_assert_msg(strstr(msg_, needles_[k_]) != NULL, "message lacks '%s': %s",   \
                          needles_[k_], msg_);                                            \
    } while (0)

/* x[1,4] -> Relu "r1" -> y */
static lrpx_test_model *
relu_model(void)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    return m;
}

/* ---- good models ---- */

START_TEST(test_tiny_model_loads_and_runs)
{
    lrpx_test_model *m = relu_model();
    lrpx_model      *model;
    lrpx_session    *s;
    const float      x[4] = { -1.5f, 0.0f, 2.0f, -0.0f };
    lrpx_test_run_f32(m, 2, (int64_t[]){ 1, 4 }, x, &model, &s);
    ck_assert_int_eq(lrpx_model_n_inputs(model), 1);
    ck_assert_int_eq(lrpx_model_n_outputs(model), 1);
    ck_assert_int_eq(lrpx_model_opset(model), 13);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_int_eq(y.dtype, LRPX_DTYPE_FLOAT32);
    ck_assert_int_eq(y.rank, 2);
    ck_assert_int_eq(y.dims[1], 4);
    const float want[4] = { 0.0f, 0.0f, 2.0f, 0.0f };
    ck_assert_tensor_near((const float *)y.data, want, 4, 0.0, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* An initializer that is also listed as a graph input (IR < 4 style) is a
 * default the caller may override, and is not a required input. */
START_TEST(test_initializer_overrides_graph_input)
{
    lrpx_test_model *m = lrpx_test_model_new(9);
    const float      w[6] = { 1, 2, 3, 4, 5, 6 };   /* [3,2] */
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_input(m, "W", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 });
    lrpx_test_model_init_f32(m, "W", 2, (int64_t[]){ 3, 2 }, w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");

    lrpx_model   *model;
    lrpx_session *s;
    const float   x[3] = { 1.0f, -2.0f, 0.5f };
    lrpx_test_run_f32(m, 2, (int64_t[]){ 1, 3 }, x, &model, &s);
    ck_assert_int_eq(lrpx_model_n_inputs(model), 1);
    lrpx_value_info info;
    ck_assert_int_eq(lrpx_model_input_info(model, 0, &info), LRPX_OK);
    ck_assert_str_eq(info.name, "x");

    float want[2];
    for (int j = 0; j < 2; j++) {
        double acc = 0;
        for (int k = 0; k < 3; k++)
            acc += (double)x[k] * w[k * 2 + j];
        want[j] = (float)acc;
    }
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 2, 1e-6, 1e-6);

    /* feed W explicitly: the fed value wins */
    const float w2[6] = { -1, 0, 0, 1, 2, 2 };
    lrpx_status rc = lrpx_session_set_input(s, "W", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 }, w2);
    ck_assert_msg(rc == LRPX_OK, "set_input W: %s", lrpx_session_errmsg(s));
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    for (int j = 0; j < 2; j++) {
        double acc = 0;
        for (int k = 0; k < 3; k++)
            acc += (double)x[k] * w2[k * 2 + j];
        want[j] = (float)acc;
    }
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 2, 1e-6, 1e-6);

    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* A symbolic batch dimension is bound from the actual input, run after run;
 * a static dimension must match. */
START_TEST(test_symbolic_batch_dim)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input_sym(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ -1, 3 },
                              (const char *const[]){ "batch", NULL });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");

    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_value_info info;
    ck_assert_int_eq(lrpx_model_input_info(model, 0, &info), LRPX_OK);
    ck_assert_int_eq(info.rank, 2);
    ck_assert_int_eq(info.dims[0], -1);
    ck_assert_str_eq(info.dim_params[0], "batch");
    ck_assert_int_eq(info.dims[1], 3);

    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    float x[15];
    for (int i = 0; i < 15; i++)
        x[i] = (float)(i % 4) - 1.5f;
    const int64_t batches[3] = { 5, 2, 5 };
    for (int b = 0; b < 3; b++) {
        int64_t dims[2] = { batches[b], 3 };
        rc = lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2, dims, x);
        ck_assert_msg(rc == LRPX_OK, "batch %lld: %s", (long long)dims[0], lrpx_session_errmsg(s));
        ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
        lrpx_tensor_view y;
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        ck_assert_int_eq(y.rank, 2);
        ck_assert_int_eq(y.dims[0], batches[b]);
        ck_assert_int_eq(y.dims[1], 3);
        ck_assert_int_eq(y.n_elems, batches[b] * 3);
        for (int64_t i = 0; i < y.n_elems; i++)
            ck_assert_float_eq(((const float *)y.data)[i], x[i] > 0 ? x[i] : 0.0f);
    }
    /* the static dimension is checked */
    rc = lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 5, 4 }, x);
    ck_assert_int_eq(rc, LRPX_ESHAPE);
    ck_assert_msg(strstr(lrpx_session_errmsg(s), "x") != NULL, "%s", lrpx_session_errmsg(s));
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* External data inside the model's folder loads, with offset and length. */
START_TEST(test_external_data_legal)
{
    const float w[6] = { 0.5f, -1.0f, 2.0f, 0.25f, -3.0f, 1.5f };   /* [3,2] */
    unsigned char blob[16 + sizeof w];
    memset(blob, 0xee, 16);
    memcpy(blob + 16, w, sizeof w);
    lrpx_test_write_file(scratch_path("weights.bin"), blob, sizeof blob);

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_external(m, "W", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 },
                                  "weights.bin", 16, (int64_t)sizeof w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, scratch_path("model.onnx"));

    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_file(scratch_path("model.onnx"), NULL, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    const float x[3] = { 2.0f, 1.0f, -1.0f };
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 }, x),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    float want[2];
    for (int j = 0; j < 2; j++) {
        double acc = 0;
        for (int k = 0; k < 3; k++)
            acc += (double)x[k] * w[k * 2 + j];
        want[j] = (float)acc;
    }
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 2, 1e-6, 1e-6);
    lrpx_session_free(s);
    lrpx_model_free(model);

    /* the same bytes from memory have no folder: external data is refused */
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    rc = lrpx_model_load_buffer(buf, len, NULL, NULL, &model);
    expect_load_error(rc, model, LRPX_EUNSUPPORTED, "<memory>", "W", "weights.bin");
    lrpx_model_free(model);
    /* ... unless a base folder is given */
    rc = lrpx_model_load_buffer(buf, len, scratch, NULL, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_model_free(model);
    free(buf);
    lrpx_test_model_free(m);
}
END_TEST

/* Same file (device and inode) as path, which stat follows through links. */
static void
assert_same_file(const char *got, const char *path)
{
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(got[0] == '/', "'%s' is not an absolute path", got);
    struct stat a, b;
    ck_assert_msg(lstat(got, &a) == 0 && !S_ISLNK(a.st_mode), "'%s' is not resolved", got);
    ck_assert_int_eq(stat(path, &b), 0);
    ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "'%s' is not '%s'", got, path);
}

/* lrpx_model_n_files / lrpx_model_file: the model, then each external data
 * file once, resolved (the model through a link, a data file through a
 * link in its folder). */
START_TEST(test_model_files)
{
    const float w[3] = { 1, 2, 3 };
    float       two[6];
    memcpy(two, w, sizeof w);
    memcpy(two + 3, w, sizeof w);
    ck_assert_int_eq(mkdir(scratch_path("sub"), 0755), 0);
    lrpx_test_write_file(scratch_path("a.bin"), two, sizeof two);
    lrpx_test_write_file(scratch_path("sub/b.bin"), w, sizeof w);
    ck_assert_int_eq(symlink("sub/b.bin", scratch_path("alias.bin")), 0);

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_external(m, "W1", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 }, "a.bin",
                                  0, -1);
    lrpx_test_model_init_external(m, "W2", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 }, "a.bin",
                                  12, 12);
    lrpx_test_model_init_external(m, "W3", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 },
                                  "alias.bin", -1, -1);
    lrpx_test_model_node(m, "Add", "a1", LT_IO("x", "W1"), LT_IO("y1"), NULL);
    lrpx_test_model_node(m, "Add", "a2", LT_IO("y1", "W2"), LT_IO("y2"), NULL);
    lrpx_test_model_node(m, "Add", "a3", LT_IO("y2", "W3"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, scratch_path("model.onnx"));
    ck_assert_int_eq(symlink("model.onnx", scratch_path("link.onnx")), 0);

    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_file(scratch_path("link.onnx"), NULL, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    ck_assert_int_eq(lrpx_model_n_files(model), 3);
    assert_same_file(lrpx_model_file(model, 0), scratch_path("model.onnx"));
    assert_same_file(lrpx_model_file(model, 1), scratch_path("a.bin"));
    assert_same_file(lrpx_model_file(model, 2), scratch_path("sub/b.bin"));
    ck_assert_ptr_null(lrpx_model_file(model, 3));
    ck_assert_ptr_null(lrpx_model_file(model, -1));
    lrpx_model_free(model);

    /* from memory: the external data files only */
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    rc = lrpx_model_load_buffer(buf, len, scratch, NULL, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    ck_assert_int_eq(lrpx_model_n_files(model), 2);
    assert_same_file(lrpx_model_file(model, 0), scratch_path("a.bin"));
    assert_same_file(lrpx_model_file(model, 1), scratch_path("sub/b.bin"));
    lrpx_model_free(model);
    free(buf);
    lrpx_test_model_free(m);

    /* no external data: the model alone */
    m = relu_model();
    lrpx_test_model_save(m, scratch_path("relu.onnx"));
    lrpx_test_model_free(m);
    rc = lrpx_model_load_file(scratch_path("relu.onnx"), NULL, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    ck_assert_int_eq(lrpx_model_n_files(model), 1);
    assert_same_file(lrpx_model_file(model, 0), scratch_path("relu.onnx"));
    lrpx_model_free(model);
    ck_assert_int_eq(lrpx_model_n_files(NULL), 0);
    ck_assert_ptr_null(lrpx_model_file(NULL, 0));
}
END_TEST

/* ---- malformed bytes ---- */

START_TEST(test_truncated_file)
{
    lrpx_test_model *m = relu_model();
    uint8_t         *buf;
    size_t           len;
    lrpx_test_model_serialize(m, &buf, &len);
    const char *path = scratch_path("cut.onnx");
    lrpx_test_write_file(path, buf, len / 2);
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_file(path, NULL, &model);
    expect_load_error(rc, model, LRPX_EPARSE, path);
    lrpx_model_free(model);

    /* every prefix: an error, never a crash, always a message */
    for (size_t cut = 0; cut < len; cut++) {
        rc = lrpx_model_load_buffer(buf, cut, NULL, NULL, &model);
        ck_assert_msg(rc != LRPX_OK, "prefix of %zu of %zu bytes loaded", cut, len);
        ck_assert_msg(strlen(lrpx_model_errmsg(model)) > 0, "no message for prefix %zu", cut);
        lrpx_model_free(model);
    }
    free(buf);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_empty_and_missing_file)
{
    lrpx_model *model;
    lrpx_test_write_file(scratch_path("empty.onnx"), "", 0);
    lrpx_status rc = lrpx_model_load_file(scratch_path("empty.onnx"), NULL, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "empty.onnx", "empty");
    lrpx_model_free(model);

    rc = lrpx_model_load_file(scratch_path("nope.onnx"), NULL, &model);
    expect_load_error(rc, model, LRPX_EIO, "nope.onnx");
    lrpx_model_free(model);

    /* a folder is not a model */
    rc = lrpx_model_load_file(scratch, NULL, &model);
    ck_assert_int_ne(rc, LRPX_OK);
    ck_assert_ptr_nonnull(strstr(lrpx_model_errmsg(model), scratch));
    lrpx_model_free(model);

    rc = lrpx_model_load_buffer(NULL, 10, NULL, NULL, &model);
    expect_load_error(rc, model, LRPX_EINVAL, "NULL");
    lrpx_model_free(model);
}
END_TEST

/* A FIFO is refused at once instead of waiting for a writer. Checked in a
 * child with an alarm, so a hang cannot stall the run (also with CK_FORK=no). */
START_TEST(test_fifo_does_not_hang)
{
    const char *p = scratch_path("fifo.onnx");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Check's own SIGALRM handler is inherited: it would kill the
         * whole process group, so restore the default first */
        signal(SIGALRM, SIG_DFL);
        alarm(10);
        lrpx_model *model = NULL;
        lrpx_status rc    = lrpx_model_load_file(p, NULL, &model);
        int ok = rc == LRPX_EIO && strstr(lrpx_model_errmsg(model), "fifo.onnx") != NULL;
        lrpx_model_free(model);
        _exit(ok ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "lrpx_model_load_file on a FIFO hung or crashed "
                  "(signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "lrpx_model_load_file on a FIFO did not return LRPX_EIO naming the file");
}
END_TEST

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_random_bytes)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    uint8_t  buf[4096];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 1 + xorshift(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        lrpx_model *model;
        lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, NULL, &model);
        ck_assert_msg(rc != LRPX_OK, "random buffer %d loaded", iter);
        ck_assert_msg(strstr(lrpx_model_errmsg(model), "<memory>") != NULL, "iter %d: %s", iter,
                      lrpx_model_errmsg(model));
        lrpx_model_free(model);
    }

    /* random bytes written into a valid model's bytes */
    lrpx_test_model *m = relu_model();
    uint8_t         *good;
    size_t           len;
    lrpx_test_model_serialize(m, &good, &len);
    for (int iter = 0; iter < 1000; iter++) {
        memcpy(buf, good, len);
        for (int k = 0; k < 3; k++)
            buf[xorshift(&seed) % len] = (uint8_t)xorshift(&seed);
        lrpx_model *model;
        lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, NULL, &model);
        /* may load (a changed name is still a model); must not crash */
        if (rc != LRPX_OK)
            ck_assert_msg(strlen(lrpx_model_errmsg(model)) > 0, "iter %d: empty message", iter);
        lrpx_model_free(model);
    }
    free(good);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- malformed graphs ---- */

START_TEST(test_cycle)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "loop_a", LT_IO("b"), LT_IO("a"), NULL);
    lrpx_test_model_node(m, "Identity", "loop_b", LT_IO("a"), LT_IO("b"), NULL);
    lrpx_test_model_output(m, "b");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "<memory>", "cycle", "loop_");
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_unknown_op)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "fine", LT_IO("x"), LT_IO("h"), NULL);
    lrpx_test_model_node(m, "FrobnicateTensor", "weird", LT_IO("h"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EUNSUPPORTED, "<memory>", "weird", "FrobnicateTensor",
                      "#1");
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* a custom domain */
    m = lrpx_test_model_new(13);
    lrpx_test_model_opset_import(m, "com.example", 1);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node_domain(m, "com.example", "Relu", "custom", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EUNSUPPORTED, "custom", "com.example");
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_dangling_input_and_double_output)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("nowhere"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "r1", "nowhere");
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_node(m, "Relu", "r2", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "r2", "'y'");
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* an output nothing produces */
    m = relu_model();
    lrpx_test_model_output(m, "ghost");
    rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "ghost");
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_raw_data_short)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    const float      w[5] = { 1, 2, 3, 4, 5 };     /* 20 bytes, shape needs 24 */
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_raw(m, "W_short", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 }, w,
                             sizeof w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_short"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "<memory>", "W_short", "raw_data", "20", "24");
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_dims_overflow)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    const float      w[4] = { 1, 2, 3, 4 };
    /* 2^32 * 2^32 elements: the product overflows int64 */
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_raw(m, "W_huge", LRPX_DTYPE_FLOAT32, 2,
                             (int64_t[]){ (int64_t)1 << 32, (int64_t)1 << 32 }, w, sizeof w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_huge"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_ELIMIT, "W_huge", "overflow");
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* large but representable: refused by the tensor limit, not allocated */
    m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_raw(m, "W_big", LRPX_DTYPE_FLOAT32, 2,
                             (int64_t[]){ (int64_t)1 << 20, (int64_t)1 << 20 }, w, sizeof w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_big"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    rc = lrpx_test_model_load(m, &model);
    ck_assert_msg(rc == LRPX_ELIMIT || rc == LRPX_EPARSE, "%s: %s", lrpx_status_name(rc),
                  lrpx_model_errmsg(model));
    ck_assert_ptr_nonnull(strstr(lrpx_model_errmsg(model), "W_big"));
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_negative_dim)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    const float      w[4] = { 1, 2, 3, 4 };
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_raw(m, "W_neg", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ -2, -2 }, w,
                             sizeof w);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_neg"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_load_error(rc, model, LRPX_EPARSE, "W_neg", "negative");
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_node_limit)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("x"), LT_IO("h"), NULL);
    lrpx_test_model_node(m, "Relu", "r2", LT_IO("h"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.max_nodes = 1;
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, &o, &model);
    expect_load_error(rc, model, LRPX_ELIMIT, "nodes");
    lrpx_model_free(model);

    lrpx_load_options_default(&o);
    o.max_file_bytes = 8;
    lrpx_test_write_file(scratch_path("m.onnx"), buf, len);
    rc = lrpx_model_load_file(scratch_path("m.onnx"), &o, &model);
    expect_load_error(rc, model, LRPX_ELIMIT, "m.onnx");
    lrpx_model_free(model);
    free(buf);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- external data that escapes the model's folder ---- */

static lrpx_status
load_with_external(const char *location, lrpx_model **model)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_external(m, "W_ext", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 },
                                  location, -1, -1);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_ext"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, scratch_path("model/model.onnx"));
    lrpx_test_model_free(m);
    return lrpx_model_load_file(scratch_path("model/model.onnx"), NULL, model);
}

START_TEST(test_external_data_escapes)
{
    const float w[6] = { 1, 2, 3, 4, 5, 6 };
    char        sub[LRPX_TEST_PATH_MAX], secret[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(sub, sizeof sub, "%s", scratch_path("model"));
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    lrpx_test_snprintf(secret, sizeof secret, "%s", scratch_path("secret.bin"));
    lrpx_test_write_file(secret, w, sizeof w);
    lrpx_test_write_file(scratch_path("model/inside.bin"), w, sizeof w);

    lrpx_model *model;
    lrpx_status rc = load_with_external("../secret.bin", &model);
    expect_load_error(rc, model, LRPX_EINVAL, "W_ext", "../secret.bin");
    lrpx_model_free(model);

    rc = load_with_external("sub/../../secret.bin", &model);
    expect_load_error(rc, model, LRPX_EINVAL, "W_ext", "sub/../../secret.bin");
    lrpx_model_free(model);

    rc = load_with_external(secret, &model);
    expect_load_error(rc, model, LRPX_EINVAL, "W_ext", "absolute");
    lrpx_model_free(model);

    /* a symlink inside the folder that points outside it */
    char link[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(link, sizeof link, "%s", scratch_path("model/link.bin"));
    ck_assert_int_eq(symlink(secret, link), 0);
    rc = load_with_external("link.bin", &model);
    expect_load_error(rc, model, LRPX_EINVAL, "W_ext", "link.bin", "outside");
    lrpx_model_free(model);

    /* a missing file */
    rc = load_with_external("missing.bin", &model);
    expect_load_error(rc, model, LRPX_EIO, "W_ext", "missing.bin");
    lrpx_model_free(model);

    /* the file in the folder, control case: loads */
    rc = load_with_external("inside.bin", &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_model_free(model);

    /* a symlink inside the folder to a file inside it is fine */
    ck_assert_int_eq(symlink("inside.bin", scratch_path("model/alias.bin")), 0);
    rc = load_with_external("alias.bin", &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_model_free(model);
}
END_TEST

/* External data shorter than the shape, and an offset past the end. */
START_TEST(test_external_data_short)
{
    const float w[4] = { 1, 2, 3, 4 };       /* shape [3,2] needs 6 */
    lrpx_test_write_file(scratch_path("w.bin"), w, sizeof w);
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 3 });
    lrpx_test_model_init_external(m, "W_ext", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 3, 2 },
                                  "w.bin", 0, -1);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W_ext"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, scratch_path("short.onnx"));
    lrpx_test_model_free(m);
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_file(scratch_path("short.onnx"), NULL, &model);
    ck_assert_msg(rc == LRPX_EIO || rc == LRPX_EPARSE, "%s: %s", lrpx_status_name(rc),
                  lrpx_model_errmsg(model));
    ck_assert_ptr_nonnull(strstr(lrpx_model_errmsg(model), "W_ext"));
    lrpx_model_free(model);
}
END_TEST

static Suite *
onnx_suite(void)
{
    Suite *s  = suite_create("onnx");
    TCase *tc = tcase_create("good");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tiny_model_loads_and_runs);
    tcase_add_test(tc, test_initializer_overrides_graph_input);
    tcase_add_test(tc, test_symbolic_batch_dim);
    tcase_add_test(tc, test_external_data_legal);
    tcase_add_test(tc, test_model_files);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_truncated_file);
    tcase_add_test(tc, test_empty_and_missing_file);
    tcase_add_test(tc, test_fifo_does_not_hang);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_cycle);
    tcase_add_test(tc, test_unknown_op);
    tcase_add_test(tc, test_dangling_input_and_double_output);
    tcase_add_test(tc, test_raw_data_short);
    tcase_add_test(tc, test_dims_overflow);
    tcase_add_test(tc, test_negative_dim);
    tcase_add_test(tc, test_node_limit);
    tcase_add_test(tc, test_external_data_escapes);
    tcase_add_test(tc, test_external_data_short);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(onnx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
