/* Suite "oom": fail the N-th allocation (lrpx__alloc_fail_after) for
 * N = 1, 2, ... until the whole job succeeds. Every failing run must return
 * LRPX_ENOMEM with handles that can still be freed, and nothing may leak:
 * run under `meson test --setup=valgrind --suite oom` to check the leaks.
 *
 * The job: load a small model (Conv → Relu → MatMul → Identity, weights as
 * initializers), make a session, set the input, run, read the output, explain
 * it with the default LRP options and read the input relevance.
 * test_oom_attribute does the same for lrpx_session_attribute with every
 * method (the failures land in the method's buffers and in the second
 * session it feeds batches through).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

#define OOM_MAX_STEPS 200000

static lrpx_test_model *
small_model(void)
{
    static float w[2 * 1 * 3 * 3], b[2], w2[4 * 3];
    for (int i = 0; i < 18; i++)
        w[i] = (float)((i * 7) % 11 - 5) / 8.0f;
    b[0] = 0.125f;
    b[1] = -0.25f;
    for (int i = 0; i < 12; i++)
        w2[i] = (float)((i * 5) % 7 - 3) / 4.0f;

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){ 1, 1, 4, 4 });
    lrpx_test_model_init_f32(m, "W", 4, (int64_t[]){ 2, 1, 3, 3 }, w);
    lrpx_test_model_init(m, "B", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 2 }, b);
    lrpx_test_model_init_f32(m, "W2", 2, (int64_t[]){ 4, 3 }, w2);
    lrpx_test_model_node(m, "Conv", "conv1", LT_IO("x", "W", "B"), LT_IO("c"),
                         LT_INTS("pads", 1, 1, 1, 1), LT_INTS("kernel_shape", 3, 3), NULL);
    lrpx_test_model_node(m, "Relu", "relu1", LT_IO("c"), LT_IO("r"), NULL);
    lrpx_test_model_node(m, "MatMul", "mm1", LT_IO("r", "W2"), LT_IO("m"), NULL);
    lrpx_test_model_node(m, "Identity", "out", LT_IO("m"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    return m;
}

static const float oom_x[16] = { 0.5f, -1.0f, 2.0f,  0.25f, 1.0f, 1.5f, -0.5f, 0.0f,
                                 -2.0f, 0.75f, 1.0f, -1.0f, 0.5f, 0.5f, 3.0f,  -0.25f };

enum job_stage { STAGE_LOAD = 0, STAGE_SESSION, STAGE_INPUT, STAGE_RUN, STAGE_OUTPUT,
                 STAGE_EXPLAIN, STAGE_RELEVANCE, STAGE_DONE };
static const char *const stage_names[] = { "load", "session_init", "set_input", "run",
                                           "output", "explain", "relevance", "done" };

struct job {
    enum job_stage stage;           /* where it stopped                   */
    lrpx_status    rc;
    char           msg[LRPX_ERRMSG_SIZE];
    float          y[2 * 4 * 3];
    float          rel[16];
};

/* Run the job; the allocation hook is whatever the caller set. Frees all. */
static void
run_job(const uint8_t *buf, size_t len, struct job *j)
{
    lrpx_model   *model = NULL;
    lrpx_session *s     = NULL;
    memset(j, 0, sizeof *j);

    j->stage = STAGE_LOAD;
    j->rc    = lrpx_model_load_buffer(buf, len, NULL, NULL, &model);
    if (j->rc != LRPX_OK) {
        snprintf(j->msg, sizeof j->msg, "%s", lrpx_model_errmsg(model));
        goto out;
    }
    j->stage = STAGE_SESSION;
    j->rc    = lrpx_session_init(model, &s);
    if (j->rc != LRPX_OK)
        goto session_err;
    j->stage = STAGE_INPUT;
    j->rc    = lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4, (int64_t[]){ 1, 1, 4, 4 },
                                      oom_x);
    if (j->rc != LRPX_OK)
        goto session_err;
    j->stage = STAGE_RUN;
    j->rc    = lrpx_session_run(s);
    if (j->rc != LRPX_OK)
        goto session_err;
    j->stage = STAGE_OUTPUT;
    lrpx_tensor_view v;
    j->rc = lrpx_session_output(s, 0, &v);
    if (j->rc != LRPX_OK)
        goto session_err;
    if (v.n_elems == 24 && v.dtype == LRPX_DTYPE_FLOAT32)
        memcpy(j->y, v.data, sizeof j->y);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    j->stage = STAGE_EXPLAIN;
    j->rc    = lrpx_session_explain(s, &o);
    if (j->rc != LRPX_OK)
        goto session_err;
    j->stage = STAGE_RELEVANCE;
    j->rc    = lrpx_session_relevance(s, NULL, &v);
    if (j->rc != LRPX_OK)
        goto session_err;
    if (v.n_elems == 16 && v.dtype == LRPX_DTYPE_FLOAT32)
        memcpy(j->rel, v.data, sizeof j->rel);
    j->stage = STAGE_DONE;
    goto out;

session_err:
    snprintf(j->msg, sizeof j->msg, "%s", s ? lrpx_session_errmsg(s) : "(no session handle)");
out:
    lrpx_session_free(s);
    lrpx_model_free(model);
}

/* N = 1, 2, ... until the job completes; each failure must be ENOMEM and
 * the completed job must give the same numbers as the unhindered one. */
static uint8_t *model_buf;   /* freed by the fixture, also when a check fails */

static void
free_model_buf(void)
{
    free(model_buf);
    model_buf = NULL;
}

static void
oom_sweep(void)
{
    lrpx_test_model *m = small_model();
    size_t           len;
    lrpx_test_model_serialize(m, &model_buf, &len);
    lrpx_test_model_free(m);
    const uint8_t *buf = model_buf;

    struct job ref;
    lrpx__alloc_fail_after(0);
    run_job(buf, len, &ref);
    ck_assert_msg(ref.stage == STAGE_DONE, "reference job failed at %s: %s: %s",
                  stage_names[ref.stage], lrpx_status_name(ref.rc), ref.msg);
    int64_t n_allocs = lrpx__alloc_count();
    /* the comparisons below mean something only if there is something */
    double sum_y = 0, sum_rel = 0;
    for (int i = 0; i < 24; i++)
        sum_y += fabs(ref.y[i]);
    for (int i = 0; i < 16; i++)
        sum_rel += fabs(ref.rel[i]);
    ck_assert_msg(sum_y > 0 && sum_rel > 0, "reference output or relevance is all zero");

    int64_t n;
    int     by_stage[STAGE_DONE + 1] = { 0 };
    int     n_wrong = 0;
    char    wrong[2048] = "";
    int     seen[STAGE_DONE + 1][LRPX_STATUS_COUNT] = { { 0 } };
    for (n = 1; n <= OOM_MAX_STEPS; n++) {
        struct job j;
        lrpx__alloc_fail_after(n);
        run_job(buf, len, &j);
        lrpx__alloc_fail_after(0);
        if (j.stage == STAGE_DONE) {
            ck_assert_tensor_near(j.y, ref.y, 24, 0.0, 0.0);
            ck_assert_tensor_near(j.rel, ref.rel, 16, 0.0, 0.0);
            break;
        }
        /* keep sweeping: one report lists every kind of wrong status */
        if (j.rc != LRPX_ENOMEM) {
            n_wrong++;
            /* first example of each (stage, status) pair */
            if (!seen[j.stage][j.rc < LRPX_STATUS_COUNT ? j.rc : 0]++) {
                size_t off = strlen(wrong);
                snprintf(wrong + off, sizeof wrong - off,
                         "\n  allocation %lld: %s returned %s: %.200s", (long long)n,
                         stage_names[j.stage], lrpx_status_name(j.rc), j.msg);
            }
        }
        by_stage[j.stage]++;
    }
    ck_assert_msg(n <= OOM_MAX_STEPS, "job never completed");
    ck_assert_msg(n_wrong == 0, "%d of %lld injected failures gave a status other than "
                  "LRPX_ENOMEM; first of each kind:%s", n_wrong, (long long)(n - 1), wrong);
    printf("oom: %lld allocations in the job; %lld injected failures (load %d, session %d, "
           "input %d, run %d, output %d, explain %d, relevance %d), all LRPX_ENOMEM\n",
           (long long)n_allocs, (long long)(n - 1), by_stage[STAGE_LOAD],
           by_stage[STAGE_SESSION], by_stage[STAGE_INPUT], by_stage[STAGE_RUN],
           by_stage[STAGE_OUTPUT], by_stage[STAGE_EXPLAIN], by_stage[STAGE_RELEVANCE]);
}

START_TEST(test_oom_forward)
{
    oom_sweep();
}
END_TEST

/* Loading from a file adds the file read to the allocations. */
START_TEST(test_oom_load_file)
{
    char dir[LRPX_TEST_PATH_MAX], path[LRPX_TEST_PATH_MAX];
    lrpx_test_tmpdir(dir, sizeof dir);
    lrpx_test_snprintf(path, sizeof path, "%s/small.onnx", dir);
    lrpx_test_model *m = small_model();
    lrpx_test_model_save(m, path);
    lrpx_test_model_free(m);

    int64_t n;
    int     n_wrong = 0;
    char    first[LRPX_ERRMSG_SIZE + 64] = "";
    for (n = 1; n <= OOM_MAX_STEPS; n++) {
        lrpx_model *model = NULL;
        lrpx__alloc_fail_after(n);
        lrpx_status rc = lrpx_model_load_file(path, NULL, &model);
        lrpx__alloc_fail_after(0);
        char msg[LRPX_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", lrpx_model_errmsg(model));
        lrpx_model_free(model);
        if (rc == LRPX_OK)
            break;
        if (rc != LRPX_ENOMEM && n_wrong++ == 0)
            snprintf(first, sizeof first, "allocation %lld: %s: %s", (long long)n,
                     lrpx_status_name(rc), msg);
    }
    lrpx_test_rmtree(dir);
    ck_assert_int_le(n, OOM_MAX_STEPS);
    ck_assert_msg(n_wrong == 0, "%d of %lld injected failures gave a status other than "
                  "LRPX_ENOMEM; first: %s", n_wrong, (long long)(n - 1), first);
}
END_TEST

/* Every attribution method: fail the N-th allocation of
 * lrpx_session_attribute on a fresh session until it succeeds; each failure
 * is LRPX_ENOMEM and the final map equals the unhindered one. */
START_TEST(test_oom_attribute)
{
    lrpx_test_model *tm = small_model();
    lrpx_model      *model;
    ck_assert_int_eq(lrpx_test_model_load(tm, &model), LRPX_OK);
    lrpx_test_model_free(tm);
    for (int k = 0; k < LRPX_ATTR_COUNT; k++) {
        struct lrpx_attr_options o;
        lrpx_attr_options_default(&o);
        o.method  = (lrpx_attr_method)k;
        o.steps   = 4;
        o.samples = 3;
        float   ref[16];
        int64_t n;
        for (n = 0; n <= OOM_MAX_STEPS; n++) {
            lrpx_session *s;
            ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
            ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4,
                                                    (int64_t[]){ 1, 1, 4, 4 }, oom_x),
                             LRPX_OK);
            lrpx__alloc_fail_after(n);
            lrpx_status rc = lrpx_session_attribute(s, &o);
            lrpx__alloc_fail_after(0);
            lrpx_tensor_view v;
            if (rc == LRPX_OK) {
                ck_assert_int_eq(lrpx_session_attribution(s, &v), LRPX_OK);
                ck_assert_int_eq(v.n_elems, 16);
                if (n == 0)
                    memcpy(ref, v.data, sizeof ref);
                else
                    ck_assert_tensor_near((const float *)v.data, ref, 16, 0.0, 0.0);
            } else {
                ck_assert_msg(rc == LRPX_ENOMEM, "%s, allocation %lld: %s: %s",
                              lrpx_attr_method_name(o.method), (long long)n,
                              lrpx_status_name(rc), lrpx_session_errmsg(s));
                ck_assert_int_eq(lrpx_session_attribution(s, &v), LRPX_EINVAL);
            }
            lrpx_session_free(s);
            if (rc == LRPX_OK && n > 0)
                break;
        }
        ck_assert_int_le(n, OOM_MAX_STEPS);
    }
    lrpx_model_free(model);
}
END_TEST

static Suite *
oom_suite(void)
{
    Suite *s  = suite_create("oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, free_model_buf);
    tcase_add_test(tc, test_oom_forward);
    tcase_add_test(tc, test_oom_load_file);
    tcase_add_test(tc, test_oom_attribute);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(oom_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
