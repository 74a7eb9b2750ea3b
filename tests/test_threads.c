/* Suite "threads": sessions used from several threads at once give the same
 * bits as the same work done on one thread (include/lrpx.h, "Threads").
 *
 * The truth is each model's run (output 0), LRP relevance (one composite per
 * model), input gradient and integrated gradients (lrpx_session_attribute,
 * whose batches run through a second session the session keeps), computed
 * first on the main thread with nothing
 * else running. Then pthreads repeat the same work concurrently: sessions of
 * one shared lrpx_model, sessions of different models, models loaded
 * concurrently, sessions created on one thread and used on another, and
 * sessions with their own thread pools. Every result is compared bit for
 * bit. Worker threads never call Check (its assertions are not
 * thread-safe): they record the first difference and the main thread fails
 * the test with it.
 *
 * scripts/test.sh also runs this program under ThreadSanitizer (build-tsan),
 * which turns any data race these threads meet into a failure. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

#define N_REPEAT 3

/* Models from testdata/models: a plain CNN, depthwise convolutions (lrpx's
 * own AVX2 kernel and packed product), and residual blocks with BatchNorm
 * folded into the convolutions. */
static const struct model_case {
    const char *onnx;
    const char *input;       /* .npy under testdata, NULL: synthetic */
    const char *composite;
} cases[] = {
    {"models/fmnist_cnn.onnx", NULL, "epsilon_plus"},
    {"models/zoo_small/mobilenet_v2_tiny.onnx", "models/zoo_small/mobilenet_v2_tiny.input.npy",
     "epsilon_plus_flat"},
    {"models/zoo_small/resnet_tiny_bn.onnx", "models/zoo_small/resnet_tiny_bn.input.npy",
     "epsilon_alpha2_beta1"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* one input and everything computed from it */
struct result {
    float  *out, *rel, *grad, *ig;
    int64_t n_out, n_in;
};

struct fixture {
    char          path[N_CASES][LRPX_TEST_PATH_MAX];
    lrpx_model   *model[N_CASES];
    int           rank[N_CASES];
    int64_t       dims[N_CASES][LRPX_MAX_RANK];
    float        *input[N_CASES];
    struct result ref1[N_CASES];     /* sessions with 1 thread            */
    struct result ref_def[N_CASES];  /* sessions with the default count    */
};

static struct fixture fx;

static void
result_free(struct result *r)
{
    free(r->out);
    free(r->rel);
    free(r->grad);
    free(r->ig);
    memset(r, 0, sizeof *r);
}

static float *
copy_view(const lrpx_tensor_view *v)
{
    float *p = malloc((size_t)(v->n_elems ? v->n_elems : 1) * sizeof *p);
    if (p)
        memcpy(p, v->data, (size_t)v->n_elems * sizeof *p);
    return p;
}

/* Run, explain and take the gradient of case c on session s. Returns
 * LRPX_OK or the first failing status with its message in msg. Called from
 * any thread: no Check calls. */
static lrpx_status
compute(lrpx_session *s, int c, struct result *r, char *msg, size_t msg_size)
{
    memset(r, 0, sizeof *r);
    struct lrpx_lrp_options o;
    char                    oerr[256] = "";
    lrpx_lrp_options_default(&o);
    lrpx_status rc = lrpx_lrp_options_set_composite(&o, cases[c].composite, oerr, sizeof oerr);
    if (rc != LRPX_OK) {
        snprintf(msg, msg_size, "%s: %s", cases[c].onnx, oerr);
        return rc;
    }
    lrpx_tensor_view v;
    const char      *step = "set_input";
    rc = lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, fx.rank[c], fx.dims[c], fx.input[c]);
    if (rc != LRPX_OK)
        goto fail;
    step = "run";
    if ((rc = lrpx_session_run(s)) != LRPX_OK || (rc = lrpx_session_output(s, 0, &v)) != LRPX_OK)
        goto fail;
    r->n_out = v.n_elems;
    r->out   = copy_view(&v);
    step     = "explain";
    if ((rc = lrpx_session_explain(s, &o)) != LRPX_OK ||
        (rc = lrpx_session_relevance(s, NULL, &v)) != LRPX_OK)
        goto fail;
    r->n_in = v.n_elems;
    r->rel  = copy_view(&v);
    step    = "gradient";
    if ((rc = lrpx_session_gradient(s, &o)) != LRPX_OK ||
        (rc = lrpx_session_gradient_of(s, NULL, &v)) != LRPX_OK)
        goto fail;
    r->grad = copy_view(&v);
    struct lrpx_attr_options ao;
    lrpx_attr_options_default(&ao);
    ao.method         = LRPX_ATTR_INTEGRATED_GRADIENTS;
    ao.steps          = 6;
    ao.internal_batch = 4;
    step              = "integrated gradients";
    if ((rc = lrpx_session_attribute(s, &ao)) != LRPX_OK ||
        (rc = lrpx_session_attribution(s, &v)) != LRPX_OK)
        goto fail;
    r->ig = copy_view(&v);
    if (r->out && r->rel && r->grad && r->ig)
        return LRPX_OK;
    rc   = LRPX_ENOMEM;
    step = "copy";
fail:
    snprintf(msg, msg_size, "%s: %s: %s: %s", cases[c].onnx, step, lrpx_status_name(rc),
             lrpx_session_errmsg(s));
    return rc;
}

/* true when r has the same bits as ref; else the first difference in msg */
static bool
same_bits(int c, const struct result *r, const struct result *ref, char *msg, size_t msg_size)
{
    const struct {
        const char  *what;
        const float *a, *e;
        int64_t      n;
    } parts[] = {
        {"output", r->out, ref->out, ref->n_out},
        {"relevance", r->rel, ref->rel, ref->n_in},
        {"gradient", r->grad, ref->grad, ref->n_in},
        {"integrated gradients", r->ig, ref->ig, ref->n_in},
    };
    if (r->n_out != ref->n_out || r->n_in != ref->n_in) {
        snprintf(msg, msg_size, "%s: sizes %lld/%lld, expected %lld/%lld", cases[c].onnx,
                 (long long)r->n_out, (long long)r->n_in, (long long)ref->n_out,
                 (long long)ref->n_in);
        return false;
    }
    for (int i = 0; i < 4; i++) {
        if (memcmp(parts[i].a, parts[i].e, (size_t)parts[i].n * sizeof(float)) == 0)
            continue;
        char why[400];
        if (lrpx_test_compare(LRPX_DTYPE_FLOAT32, parts[i].a, parts[i].e, parts[i].n, NULL, 0,
                              0.0, 0.0, why, sizeof why))
            snprintf(why, sizeof why, "equal values, different bits (signed zero or NaN)");
        snprintf(msg, msg_size, "%s: %s: %s", cases[c].onnx, parts[i].what, why);
        return false;
    }
    return true;
}

/* ---- worker threads ---- */

struct job {
    int           c;              /* model case                                */
    int           n_threads;      /* for lrpx_session_set_threads (0 default)  */
    bool          load;           /* load the model itself (else shared)       */
    lrpx_session *session;        /* made by the main thread, or NULL          */
    /* out */
    int           n_done;
    int64_t       allocs_seen;
    char          msg[640];
};

static void *
job_main(void *arg)
{
    struct job   *j     = arg;
    lrpx_model   *model = fx.model[j->c];
    lrpx_session *s     = j->session;
    lrpx_status   rc    = LRPX_OK;
    if (j->load) {
        model = NULL;
        rc    = lrpx_model_load_file(fx.path[j->c], NULL, &model);
        if (rc != LRPX_OK)
            snprintf(j->msg, sizeof j->msg, "%s: load: %s: %s", cases[j->c].onnx,
                     lrpx_status_name(rc), model ? lrpx_model_errmsg(model) : "out of memory");
    }
    if (rc == LRPX_OK && !s) {
        rc = lrpx_session_init(model, &s);
        if (rc != LRPX_OK)
            snprintf(j->msg, sizeof j->msg, "%s: session_init: %s", cases[j->c].onnx,
                     lrpx_status_name(rc));
    }
    if (rc == LRPX_OK && (rc = lrpx_session_set_threads(s, j->n_threads)) != LRPX_OK)
        snprintf(j->msg, sizeof j->msg, "set_threads: %s", lrpx_status_name(rc));
    const struct result *ref = j->n_threads == 1 ? &fx.ref1[j->c] : &fx.ref_def[j->c];
    for (int k = 0; rc == LRPX_OK && k < N_REPEAT; k++) {
        struct result r;
        rc = compute(s, j->c, &r, j->msg, sizeof j->msg);
        if (rc == LRPX_OK && !same_bits(j->c, &r, ref, j->msg, sizeof j->msg))
            rc = LRPX_EINVAL;
        result_free(&r);
        if (rc == LRPX_OK)
            j->n_done++;
    }
    if (!j->session)              /* else the main thread frees it */
        lrpx_session_free(s);
    if (j->load)
        lrpx_model_free(model);
    return NULL;
}

/* Start every job on its own thread, wait for all, fail on the first
 * error. */
static void
run_jobs(struct job *jobs, int n)
{
    pthread_t tid[16];
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&tid[i], NULL, job_main, &jobs[i]), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(jobs[i].msg[0] == '\0', "thread %d: %s", i, jobs[i].msg);
        ck_assert_int_eq(jobs[i].n_done, N_REPEAT);
    }
}

/* ---- fixture: models, inputs and the single-threaded truth ---- */

/* Fixed pseudo-random values in [-1, 1) (a 32-bit LCG), so the synthetic
 * input is the same in every run. */
static void
fill_input(float *x, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
    }
}

static void
load_case(int c)
{
    lrpx_test_snprintf(fx.path[c], sizeof fx.path[c], "%s", lrpx_test_path(cases[c].onnx));
    lrpx_status rc = lrpx_model_load_file(fx.path[c], NULL, &fx.model[c]);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", fx.path[c],
                  fx.model[c] ? lrpx_model_errmsg(fx.model[c]) : "out of memory");
    lrpx_value_info info;
    ck_assert_int_eq(lrpx_model_input_info(fx.model[c], 0, &info), LRPX_OK);
    ck_assert_int_ge(info.rank, 1);
    fx.rank[c]  = info.rank;
    int64_t n   = 1;
    for (int d = 0; d < info.rank; d++) {
        fx.dims[c][d] = info.dims[d] > 0 ? info.dims[d] : 1;   /* symbolic batch: 1 */
        n *= fx.dims[c][d];
    }
    fx.input[c] = malloc((size_t)n * sizeof(float));
    ck_assert_ptr_nonnull(fx.input[c]);
    if (cases[c].input) {
        lrpx_npy          *npy = lrpx_test_npy_load(lrpx_test_path(cases[c].input));
        struct lrpx_tensor t   = lrpx_test_npy_tensor(npy);
        ck_assert_int_eq(t.dtype, LRPX_DTYPE_FLOAT32);
        ck_assert_int_eq(t.n_elems, n);
        memcpy(fx.input[c], t.data, (size_t)n * sizeof(float));
        lrpx_npy_free(npy);
    } else {
        fill_input(fx.input[c], n, 12345u + (uint32_t)c);
    }
}

static void
reference(int c, int n_threads, struct result *r)
{
    lrpx_session *s;
    char          msg[640] = "";
    ck_assert_int_eq(lrpx_session_init(fx.model[c], &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_threads(s, n_threads), LRPX_OK);
    lrpx_status rc = compute(s, c, r, msg, sizeof msg);
    lrpx_session_free(s);
    ck_assert_msg(rc == LRPX_OK, "reference: %s", msg);
    /* a meaningful truth: something nonzero and finite in each part */
    double so = 0, sr = 0, sg = 0;
    for (int64_t i = 0; i < r->n_out; i++)
        so += fabs(r->out[i]);
    for (int64_t i = 0; i < r->n_in; i++) {
        sr += fabs(r->rel[i]);
        sg += fabs(r->grad[i]);
    }
    ck_assert_msg(so > 0 && sr > 0 && sg > 0 && isfinite(so + sr + sg),
                  "%s: reference output/relevance/gradient sums %g %g %g", cases[c].onnx, so, sr,
                  sg);
}

static void
setup(void)
{
    memset(&fx, 0, sizeof fx);
    for (int c = 0; c < N_CASES; c++) {
        load_case(c);
        reference(c, 1, &fx.ref1[c]);
        reference(c, 0, &fx.ref_def[c]);
    }
}

static void
teardown(void)
{
    for (int c = 0; c < N_CASES; c++) {
        result_free(&fx.ref1[c]);
        result_free(&fx.ref_def[c]);
        free(fx.input[c]);
        lrpx_model_free(fx.model[c]);
    }
    memset(&fx, 0, sizeof fx);
}

/* ---- tests ---- */

/* A second run of the truth matches the first: the comparisons below can
 * only fail for a reason to do with threads. And they can fail: a result
 * one bit off is caught. */
START_TEST(test_reference_repeatable)
{
    for (int c = 0; c < N_CASES; c++) {
        struct result r;
        char          msg[640] = "";
        reference(c, 1, &r);
        ck_assert_msg(same_bits(c, &r, &fx.ref1[c], msg, sizeof msg), "%s", msg);
        uint32_t u;
        memcpy(&u, &r.rel[r.n_in / 2], sizeof u);
        u ^= 1u;
        memcpy(&r.rel[r.n_in / 2], &u, sizeof u);
        ck_assert(!same_bits(c, &r, &fx.ref1[c], msg, sizeof msg));
        ck_assert_msg(strstr(msg, "relevance") != NULL, "%s", msg);
        result_free(&r);
    }
}
END_TEST

/* One session with a pool of 2, 3 or 4 threads gives the bits of one
 * thread: the output, the relevance, the gradient and integrated
 * gradients (every loop is cut into ranges computed by the same code, and
 * products into blocks that do not depend on the thread count). */
START_TEST(test_thread_counts_same_bits)
{
    for (int c = 0; c < N_CASES; c++)
        for (int t = 2; t <= 4; t++) {
            struct result r;
            char          msg[640] = "";
            reference(c, t, &r);
            ck_assert_msg(same_bits(c, &r, &fx.ref1[c], msg, sizeof msg), "%d threads: %s", t,
                          msg);
            result_free(&r);
        }
}
END_TEST

/* Four sessions of one shared model, one thread each. */
START_TEST(test_same_model)
{
    struct job jobs[4];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 4; i++)
        jobs[i] = (struct job){.c = 0, .n_threads = 1};
    run_jobs(jobs, 4);
}
END_TEST

/* Sessions of all models at once, two per shared model, with the
 * allocation counter of the OOM tests armed (counting, never failing), so
 * it is updated from every thread. */
START_TEST(test_different_models)
{
    struct job jobs[2 * N_CASES];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2 * N_CASES; i++)
        jobs[i] = (struct job){.c = i % N_CASES, .n_threads = 1};
    lrpx__alloc_fail_after(0);
    run_jobs(jobs, 2 * N_CASES);
    ck_assert_int_gt(lrpx__alloc_count(), 0);
}
END_TEST

/* Every thread loads its model itself (two threads per file), while others
 * use the shared ones. */
START_TEST(test_concurrent_load)
{
    struct job jobs[2 * N_CASES + 1];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2 * N_CASES; i++)
        jobs[i] = (struct job){.c = i % N_CASES, .n_threads = 1, .load = true};
    jobs[2 * N_CASES] = (struct job){.c = 1, .n_threads = 1};
    run_jobs(jobs, 2 * N_CASES + 1);
}
END_TEST

/* Sessions made (and first used) on the main thread, then handed to
 * worker threads: one thread at a time is all the API asks. */
START_TEST(test_session_moves_between_threads)
{
    struct job jobs[N_CASES];
    memset(jobs, 0, sizeof jobs);
    for (int c = 0; c < N_CASES; c++) {
        ck_assert_int_eq(lrpx_session_init(fx.model[c], &jobs[c].session), LRPX_OK);
        struct result r;
        char          msg[640] = "";
        ck_assert_msg(compute(jobs[c].session, c, &r, msg, sizeof msg) == LRPX_OK, "%s", msg);
        result_free(&r);
        jobs[c].c         = c;
        jobs[c].n_threads = 1;
    }
    lrpx_session *keep[N_CASES];
    for (int c = 0; c < N_CASES; c++)
        keep[c] = jobs[c].session;
    run_jobs(jobs, N_CASES);
    for (int c = 0; c < N_CASES; c++)
        lrpx_session_free(keep[c]);
}
END_TEST

/* Sessions with the default thread count (each with its own pool when
 * that is more than one) next to single-threaded ones. */
START_TEST(test_default_thread_count)
{
    struct job jobs[4];
    memset(jobs, 0, sizeof jobs);
    jobs[0] = (struct job){.c = 0, .n_threads = 0};
    jobs[1] = (struct job){.c = 1, .n_threads = 0};
    jobs[2] = (struct job){.c = 0, .n_threads = 1};
    jobs[3] = (struct job){.c = 2, .n_threads = 0};
    run_jobs(jobs, 4);
}
END_TEST

static Suite *
threads_suite(void)
{
    Suite *s  = suite_create("threads");
    TCase *tc = tcase_create("concurrent");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* generous: ThreadSanitizer slows these down several times */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reference_repeatable);
    tcase_add_test(tc, test_thread_counts_same_bits);
    tcase_add_test(tc, test_same_model);
    tcase_add_test(tc, test_different_models);
    tcase_add_test(tc, test_concurrent_load);
    tcase_add_test(tc, test_session_moves_between_threads);
    tcase_add_test(tc, test_default_thread_count);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(threads_suite());
}
