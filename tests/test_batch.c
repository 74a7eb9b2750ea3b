/* Suite "batch": lrpx_session_set_batch_invariant. A sample's output,
 * LRP relevance and input gradient must have the same bits whatever batch
 * it is fed in and at whatever position, batch 1 included — the promise
 * `lrpx batch` builds its byte-identical results on (docs/scale-out.md).
 *
 * The truth is every sample of a bank explained alone (batch 1). The bank
 * is then cut into batches of many sizes (below, at and above the 16-row
 * block of lrpx__sgemm_rows, and not dividing it), starting at several
 * offsets so each sample sits at different positions, and every row is
 * compared bit for bit with its batch-1 result. Models: the bundled
 * Fashion-MNIST CNN (two Gemm layers after convolutions) and an in-memory
 * MatMul/Gemm stack whose sizes are not multiples of anything OpenBLAS
 * blocks by (K = 37, N = 23 and 5), with Gemm's transB and alpha. */
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

#define BANK 41

struct bank {
    lrpx_model *model;
    const char *composite;
    int         rank;
    int64_t     dims[LRPX_MAX_RANK];  /* one sample, dims[0] = 1          */
    int64_t     n_x, n_y;             /* floats per sample: input, output  */
    float      *x;                    /* BANK samples                      */
    float      *y, *rel, *grad;       /* batch-1 truth per sample          */
};

static uint64_t rng_state;

static float
rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(rng_state >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

/* Explain samples [first, first + n) of the bank as one batch; copy the
 * results into y, rel, grad (n samples each). */
static void
explain_batch(const struct bank *b, lrpx_session *s, int first, int n, float *y, float *rel,
              float *grad)
{
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, b->dims, sizeof dims);
    dims[0] = n;
    struct lrpx_lrp_options o;
    char                    err[256];
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, b->composite, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, b->rank, dims,
                                            b->x + first * b->n_x),
                     LRPX_OK);
    lrpx_tensor_view v;
    ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.n_elems, n * b->n_y);
    memcpy(y, v.data, (size_t)v.n_elems * sizeof(float));
    ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &v), LRPX_OK);
    ck_assert_int_eq(v.n_elems, n * b->n_x);
    memcpy(rel, v.data, (size_t)v.n_elems * sizeof(float));
    ck_assert_msg(lrpx_session_gradient(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    ck_assert_int_eq(lrpx_session_gradient_of(s, NULL, &v), LRPX_OK);
    memcpy(grad, v.data, (size_t)v.n_elems * sizeof(float));
}

static void
bank_init(struct bank *b, lrpx_model *model, const char *composite, int rank,
          const int64_t *dims, int64_t n_y)
{
    memset(b, 0, sizeof *b);
    b->model     = model;
    b->composite = composite;
    b->rank      = rank;
    memcpy(b->dims, dims, (size_t)rank * sizeof *dims);
    b->n_x = 1;
    for (int i = 1; i < rank; i++)
        b->n_x *= dims[i];
    b->n_y  = n_y;
    b->x    = malloc((size_t)(BANK * b->n_x) * sizeof(float));
    b->y    = malloc((size_t)(BANK * b->n_y) * sizeof(float));
    b->rel  = malloc((size_t)(BANK * b->n_x) * sizeof(float));
    b->grad = malloc((size_t)(BANK * b->n_x) * sizeof(float));
    ck_assert(b->x && b->y && b->rel && b->grad);
    rng_state = 12345;
    for (int64_t i = 0; i < BANK * b->n_x; i++)
        b->x[i] = rnd();
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    lrpx_session_set_threads(s, 1);
    lrpx_session_set_batch_invariant(s, 1);
    for (int i = 0; i < BANK; i++)
        explain_batch(b, s, i, 1, b->y + i * b->n_y, b->rel + i * b->n_x, b->grad + i * b->n_x);
    lrpx_session_free(s);
}

static void
bank_free(struct bank *b)
{
    free(b->x);
    free(b->y);
    free(b->rel);
    free(b->grad);
    lrpx_model_free(b->model);
}

/* Every cut of the bank into batches of `size` from `offset` gives each
 * sample its batch-1 bits. */
static void
check_cuts(const struct bank *b, const char *what)
{
    static const int sizes[]   = {2, 3, 5, 15, 16, 17, 33, BANK};
    static const int offsets[] = {0, 1, 7};
    float *y    = malloc((size_t)(BANK * b->n_y) * sizeof(float));
    float *rel  = malloc((size_t)(BANK * b->n_x) * sizeof(float));
    float *grad = malloc((size_t)(BANK * b->n_x) * sizeof(float));
    ck_assert(y && rel && grad);
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(b->model, &s), LRPX_OK);
    lrpx_session_set_threads(s, 1);
    lrpx_session_set_batch_invariant(s, 1);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++) {
            for (int first = offsets[oi]; first < BANK; first += sizes[si]) {
                int n = first + sizes[si] <= BANK ? sizes[si] : BANK - first;
                explain_batch(b, s, first, n, y + first * b->n_y, rel + first * b->n_x,
                              grad + first * b->n_x);
            }
            int from = offsets[oi];
            const struct {
                const char  *part;
                const float *got, *want;
                int64_t      per;
            } parts[] = {{"output", y, b->y, b->n_y},
                         {"relevance", rel, b->rel, b->n_x},
                         {"gradient", grad, b->grad, b->n_x}};
            for (int p = 0; p < 3; p++)
                for (int i = from; i < BANK; i++) {
                    const float *g = parts[p].got + i * parts[p].per;
                    const float *w = parts[p].want + i * parts[p].per;
                    if (memcmp(g, w, (size_t)parts[p].per * sizeof(float)) == 0)
                        continue;
                    char why[400];
                    lrpx_test_compare(LRPX_DTYPE_FLOAT32, g, w, parts[p].per, NULL, 0, 0.0,
                                      0.0, why, sizeof why);
                    ck_abort_msg("%s: batches of %d from %d: sample %d (position %d): %s "
                                 "differs from batch 1: %s",
                                 what, sizes[si], from, i, (i - from) % sizes[si],
                                 parts[p].part, why);
                }
        }
    lrpx_session_free(s);
    free(y);
    free(rel);
    free(grad);
}

START_TEST(test_fmnist_cnn)
{
    lrpx_model *m;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL, &m),
                     LRPX_OK);
    struct bank b;
    bank_init(&b, m, "epsilon_plus", 4, (int64_t[]){1, 1, 28, 28}, 10);
    check_cuts(&b, "fmnist_cnn");
    bank_free(&b);
}
END_TEST

/* x [B, 37] -MatMul W1 [37, 23]-> Relu -Gemm(transB, alpha 0.5) W2 [5, 23],
 * c [5]-> y [B, 5] */
START_TEST(test_dense_stack)
{
    enum { K = 37, H = 23, O = 5 };
    static float w1[K * H], w2[O * H], c[O];
    rng_state = 777;
    for (int i = 0; i < K * H; i++)
        w1[i] = rnd();
    for (int i = 0; i < O * H; i++)
        w2[i] = rnd();
    for (int i = 0; i < O; i++)
        c[i] = 0.1f * rnd();
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input_sym(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){-1, K},
                              (const char *const[]){"batch", NULL});
    lrpx_test_model_init_f32(tm, "W1", 2, (int64_t[]){K, H}, w1);
    lrpx_test_model_init_f32(tm, "W2", 2, (int64_t[]){O, H}, w2);
    lrpx_test_model_init_f32(tm, "C", 1, (int64_t[]){O}, c);
    lrpx_test_model_node(tm, "MatMul", "mm", LT_IO("x", "W1"), LT_IO("h"), NULL);
    lrpx_test_model_node(tm, "Relu", "relu", LT_IO("h"), LT_IO("a"), NULL);
    lrpx_test_model_node(tm, "Gemm", "gemm", LT_IO("a", "W2", "C"), LT_IO("y"),
                         LT_INT("transB", 1), LT_FLOAT("alpha", 0.5f), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *m;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    lrpx_test_model_free(tm);
    struct bank b;
    bank_init(&b, m, "epsilon", 2, (int64_t[]){1, K}, O);
    check_cuts(&b, "dense stack");
    bank_free(&b);
}
END_TEST

static Suite *
batch_suite(void)
{
    Suite *s  = suite_create("batch");
    TCase *tc = tcase_create("invariant");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fmnist_cnn);
    tcase_add_test(tc, test_dense_stack);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(batch_suite());
}
