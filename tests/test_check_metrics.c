/* The metrics of `lrpx check`, computed by src/eval/ (eval/eval.h and
 * lrpx__eval_run), and the model randomisation
 * (lrpx_load_options.randomize_layers, src/graph/randomize.c).
 *
 *   - by hand: each metric on arrays small enough to work out on paper
 *     (numbers in the comments); region perturbation with a "model" that
 *     sums its input (a Gemm with weights 1), so every curve point is a
 *     sum of removed pixels: MoRF, LeRF, ties, fewer regions, batching,
 *     black/white/mean (drift) baselines, edge padding and its floor/ceil
 *     split;
 *   - against scripts/check_metrics_reference.py: a float64 numpy/scipy/
 *     skimage/PyTorch re-implementation on the bundled model, with maps
 *     PyTorch made (testdata/check/metrics_reference.json);
 *   - randomisation: which initializers change, the U(-1/sqrt(fan_in),
 *     1/sqrt(fan_in)) bound per layer, reproducible by seed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval/eval.h"
#include "exec/session.h"
#include "lrpx_test.h"

#define NEAR(a, b, tol) ck_assert_msg(fabs((a) - (b)) <= (tol), "%s = %.12g, expected %.12g", \
                                      #a, (double)(a), (double)(b))

/* ---- by hand ---- */

START_TEST(test_normalise_abs)
{
    float a[4] = {1, -4, 2, 0};
    lrpx__eval_normalise_abs(a, 4, true, false);
    float e1[4] = {0.25f, -1, 0.5f, 0};
    ck_assert_tensor_near(a, e1, 4, 0, 0);
    lrpx__eval_normalise_abs(a, 4, false, true);
    float e2[4] = {0.25f, 1, 0.5f, 0};
    ck_assert_tensor_near(a, e2, 4, 0, 0);
    float z[3] = {0, 0, 0};                        /* all zero: unchanged */
    lrpx__eval_normalise_abs(z, 3, true, true);
    ck_assert(z[0] == 0 && z[1] == 0 && z[2] == 0);
}
END_TEST

START_TEST(test_relevance_mass)
{
    float   a[4] = {1, 2, 3, 4}, scratch[4];
    uint8_t s[4] = {1, 0, 1, 0};
    NEAR(lrpx__eval_relevance_mass(a, s, 4, scratch), 0.4, 1e-15);       /* (1 + 3) / 10 */
    float b[4] = {2, -1, -3, 1};                                /* total -1 */
    NEAR(lrpx__eval_relevance_mass(b, s, 4, scratch), 1.0, 1e-15);       /* (2 - 3) / -1 */
    uint8_t none[4] = {0};
    ck_assert(isnan(lrpx__eval_relevance_mass(a, none, 4, scratch)));
}
END_TEST

START_TEST(test_cosine)
{
    float a[2] = {1, 0}, b[2] = {0, 1}, c[2] = {2, 0}, d[2] = {-1, 1}, z[2] = {0, 0};
    NEAR(lrpx__eval_cosine(a, b, 2), 0.0, 1e-15);
    NEAR(lrpx__eval_cosine(a, c, 2), 1.0, 1e-15);
    NEAR(lrpx__eval_cosine(a, d, 2), -1.0 / sqrt(2.0), 1e-15);
    ck_assert(isnan(lrpx__eval_cosine(a, z, 2)));
}
END_TEST

START_TEST(test_spearman)
{
    double r;
    float  a[4] = {1, 2, 3, 4}, b[4] = {1, 3, 2, 4};
    /* no ties: 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / 60 */
    ck_assert_int_eq(lrpx__eval_spearman(a, b, 4, &r), LRPX_OK);
    NEAR(r, 0.8, 1e-15);
    /* ties: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4); centred
     * (-1, -1, .5, 1.5) . (-1.5, -.5, .5, 1.5) = 4.5, norms^2 4.5 and 5 */
    float t[4] = {7, 7, 8, 9};
    ck_assert_int_eq(lrpx__eval_spearman(t, a, 4, &r), LRPX_OK);
    NEAR(r, 4.5 / sqrt(4.5 * 5.0), 1e-15);
    /* reversed order: -1; a constant map: undefined */
    float rev[4] = {4, 3, 2, 1}, k[4] = {5, 5, 5, 5};
    ck_assert_int_eq(lrpx__eval_spearman(a, rev, 4, &r), LRPX_OK);
    NEAR(r, -1.0, 1e-15);
    ck_assert_int_eq(lrpx__eval_spearman(a, k, 4, &r), LRPX_OK);
    ck_assert(isnan(r));
}
END_TEST

START_TEST(test_ssim)
{
    float  a[49], b[49], big[2 * 8 * 9];
    double r;
    for (int i = 0; i < 49; i++) {
        a[i] = 0.0f;
        b[i] = 1.0f;
    }
    /* one 7x7 window, constant 0 against constant 1: range 1, means 0 and
     * 1, no variance: (C1)(C2) / ((1 + C1)(C2)) with C1 = 0.01^2 */
    ck_assert_int_eq(lrpx__eval_ssim(a, b, 1, 7, 7, &r), LRPX_OK);
    NEAR(r, 1e-4 / (1.0 + 1e-4), 1e-15);
    /* a map against itself: 1, for every channel and window */
    for (int i = 0; i < 2 * 8 * 9; i++)
        big[i] = (float)((i * 37) % 11) - 3.0f;
    ck_assert_int_eq(lrpx__eval_ssim(big, big, 2, 8, 9, &r), LRPX_OK);
    NEAR(r, 1.0, 1e-12);
    /* smaller than the window */
    ck_assert_int_eq(lrpx__eval_ssim(a, b, 1, 6, 8, &r), LRPX_EINVAL);
    ck_assert_int_eq(lrpx__eval_ssim(a, b, 1, 1, 6, &r), LRPX_EINVAL);
    /* a row (h = 1, model-randomisation's flat maps): 7-wide windows,
     * covariance 7/6; 0 against 1 over one window as above */
    ck_assert_int_eq(lrpx__eval_ssim(a, b, 1, 1, 7, &r), LRPX_OK);
    NEAR(r, 1e-4 / (1.0 + 1e-4), 1e-15);
}
END_TEST

START_TEST(test_aopc)
{
    double c[3] = {1, 2, 3};
    NEAR(lrpx__eval_aopc0(c, 3), 1.5, 1e-15);     /* (0 + 1 + 2 + 3) / 4 */
    ck_assert(isnan(lrpx__eval_aopc0(c, 0)));
}
END_TEST

/* region-perturbation (lrpx__eval_run, as lrpx check runs it) of one
 * h x w plane x with map a on a model; softmax off, map used as is */
static lrpx_status
region_run(lrpx_session *s, const float *x, const float *a, int64_t h, int64_t w, int p,
           const char *order, int regions, const char *baseline, int batch, int64_t cls,
           bool softmax, double *curve, int *n)
{
    char spec[256];
    snprintf(spec, sizeof spec, "region-perturbation:patch-size=%d,order=%s,regions-evaluation=%d,"
             "perturb-baseline=%s,softmax=%s,normalise=false,abs=false", p, order, regions,
             baseline, softmax ? "true" : "false");
    lrpx_metric *m;
    char         err[256];
    lrpx_status  rc = lrpx_metric_parse(spec, &m, err, sizeof err);
    if (rc != LRPX_OK)
        return rc;
    lrpx_tensor_view xv = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {1, 1, h, w},
                           .n_elems = h * w, .data = x};
    lrpx_tensor_view av = xv;
    av.data             = a;
    struct lrpx_eval_options eo;
    lrpx_eval_options_default(&eo);
    eo.x         = &xv;
    eo.attr      = &av;
    eo.targets   = &cls;
    eo.max_batch = batch;
    lrpx_eval_result *r;
    rc = lrpx__eval_run(s, m, &eo, NULL, &r);
    lrpx_metric_free(m);
    if (rc != LRPX_OK)
        return rc;
    lrpx_eval_sample es;
    ck_assert_int_eq(lrpx_eval_result_sample(r, 0, &es), LRPX_OK);
    *n = (int)es.n_curve;
    for (int k = 0; k < *n; k++)
        curve[k] = es.curve[k];
    lrpx_eval_result_free(r);
    return LRPX_OK;
}

/* A model whose score is the sum of its h x w input: Flatten, Gemm with
 * weights 1 (one class). */
static lrpx_session *
sum_model(int64_t h, int64_t w, lrpx_model **m)
{
    float W[64];
    for (int i = 0; i < 64; i++)
        W[i] = 1.0f;
    lrpx_test_model *tm    = lrpx_test_model_new(13);
    int64_t          xd[4] = {-1, 1, h, w}, wd[2] = {1, h * w};
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, xd);
    lrpx_test_model_init_f32(tm, "W", 2, wd, W);
    lrpx_test_model_node(tm, "Flatten", "flat", LT_IO("x"), LT_IO("f"), LT_INT("axis", 1), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("f", "W"), LT_IO("y"), LT_INT("transB", 1), NULL);
    lrpx_test_model_output(tm, "y");
    ck_assert_int_eq(lrpx_test_model_load(tm, m), LRPX_OK);
    lrpx_test_model_free(tm);
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(*m, &s), LRPX_OK);
    return s;
}

static void
region(const float *x, const float *a, int64_t h, int64_t w, int p, const char *order,
       int regions, const char *baseline, int batch, const double *expect, int n_expect)
{
    lrpx_model   *m;
    lrpx_session *s = sum_model(h, w, &m);
    double        curve[64];
    int           n;
    ck_assert_int_eq(region_run(s, x, a, h, w, p, order, regions, baseline, batch, 0, false,
                                curve, &n), LRPX_OK);
    ck_assert_int_eq(n, n_expect);
    ck_assert_tensor_near_f64(curve, expect, n, 0, 1e-9);
    lrpx_session_free(s);
    lrpx_model_free(m);
}

START_TEST(test_region_by_hand)
{
    /* x = 0..15 in a 4x4 plane; 2x2 patches P0 = {0,1,4,5} (sum 10),
     * P1 = {2,3,6,7} (18), P2 = {8,9,12,13} (42), P3 = {10,11,14,15} (50).
     * The map puts 3, 1, 4, 2 on P0..P3: MoRF removes P2, P0, P3, P1. */
    float x[16], a[16] = {0}, zero[16] = {0};
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    a[0] = 3, a[2] = 1, a[8] = 4, a[10] = 2;
    /* black = min = 0 all along: f(x) - f = the removed pixels' sum */
    double morf[4] = {42, 52, 102, 120};
    region(x, a, 4, 4, 2, "morf", 100, "black", 16, morf, 4);
    double lerf[4] = {18, 68, 78, 120};
    region(x, a, 4, 4, 2, "lerf", 100, "black", 16, lerf, 4);
    region(x, a, 4, 4, 2, "morf", 2, "black", 16, morf, 2);
    /* batches of 1 and of 3 give the same curve */
    region(x, a, 4, 4, 2, "morf", 100, "black", 1, morf, 4);
    region(x, a, 4, 4, 2, "morf", 100, "black", 3, morf, 4);
    /* ties (a zero map): lower patch number first */
    double tied[4] = {10, 28, 70, 120};
    region(x, zero, 4, 4, 2, "morf", 100, "black", 16, tied, 4);
    region(x, zero, 4, 4, 2, "lerf", 100, "black", 16, tied, 4);
    /* white = max = 15: P2 -> 4 x 15 = 60 for 42: f = 138; P0 -> 60 for
     * 10: 188; P3 -> 60 for 50: 198; P1 -> 60 for 18: 240 */
    double white[4] = {-18, -68, -78, -120};
    region(x, a, 4, 4, 2, "morf", 100, "white", 16, white, 4);
    /* mean drifts: 7.5 -> P2 = 30 for 42, f = 108; mean 6.75 -> P0 = 27
     * for 10, f = 125; mean 7.8125 -> P3 = 31.25 for 50, f = 106.25;
     * mean 6.640625 -> P1 = 26.5625 for 18, f = 114.8125 */
    double mean[4] = {12, -5, 13.75, 5.1875};
    region(x, a, 4, 4, 2, "morf", 100, "mean", 16, mean, 4);
    /* a constant: 100 */
    double hundred[2] = {42 - 400, 52 - 800};
    region(x, a, 4, 4, 2, "morf", 2, "100", 16, hundred, 2);
}
END_TEST

START_TEST(test_region_padding)
{
    /* 3x3 plane 1..9, P = 2: t = 1, nothing before, one row/column after,
     * edge values: padded rows 1 2 3 3 / 4 5 6 6 / 7 8 9 9 / 7 8 9 9.
     * The map (zero-padded) scores P0 = 1, P3 = 5: MoRF P3, P0, then the
     * ties P1, P2. black = min = 1. f = sum of the 3x3 crop = 45:
     * P3 -> 9 becomes 1 (37); P0 -> 1 2 4 5 become 1s (29); P1 -> 3 and
     * 6 (22); P2 -> 7 and 8 (9). */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, a[9] = {1, 0, 0, 0, 0, 0, 0, 0, 5};
    double expect[4] = {8, 16, 23, 36};
    region(x, a, 3, 3, 2, "morf", 100, "black", 16, expect, 4);
    /* 5x5 ones, P = 4: t = 3, so 1 before and 2 after: P0 covers
     * original rows and columns 0..2 (9 pixels, not 16). Filled with 0. */
    float ones[25], hot[25] = {0};
    for (int i = 0; i < 25; i++)
        ones[i] = 1.0f;
    hot[0] = 1.0f;
    double p0[1] = {9};
    region(ones, hot, 5, 5, 4, "morf", 1, "0", 16, p0, 1);
    /* the last patch (P3, rows and columns 3..4) holds 4 pixels */
    float hot3[25] = {0};
    hot3[24]       = 1.0f;
    double p3[1]   = {4};
    region(ones, hot3, 5, 5, 4, "morf", 1, "0", 16, p3, 1);
}
END_TEST

START_TEST(test_region_bad_args)
{
    float         x[4] = {0}, a[4] = {0};
    double        curve[4];
    int           n;
    lrpx_model   *m;
    lrpx_session *s = sum_model(2, 2, &m);
    ck_assert_int_eq(region_run(s, x, a, 2, 2, 0, "morf", 1, "black", 1, 0, false, curve, &n),
                     LRPX_EINVAL);                      /* patch size 0 */
    ck_assert_int_eq(region_run(s, x, a, 2, 2, 1, "morf", 1, "black", 1, 3, false, curve, &n),
                     LRPX_EINVAL);                      /* no class 3 */
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ---- against the float64 reference on the bundled model ---- */

#define jnum lrpx_test_json_number

START_TEST(test_reference_fmnist)
{
    cJSON *ref = lrpx_test_json_load("check/metrics_reference.json");
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    float     maps[8][784], absm[8][784], scratch[784];
    for (int i = 0; i < 8; i++) {
        char p[64];
        snprintf(p, sizeof p, "expected/fmnist_cnn_%d_grad.npy", i);
        lrpx_npy *g = lrpx_test_npy_load(lrpx_test_path(p));
        for (int k = 0; k < 784; k++) {
            maps[i][k] = ((const float *)g->data)[k] * ((const float *)x->data)[i * 784 + k];
            absm[i][k] = fabsf(maps[i][k]);
        }
        lrpx_npy_free(g);
    }
    uint8_t mask[784] = {0};                     /* box x 4, y 4, 20 x 20 */
    for (int y = 4; y < 24; y++)
        for (int xx = 4; xx < 24; xx++)
            mask[y * 28 + xx] = 1;
    lrpx_model *m;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL, &m),
                     LRPX_OK);
    lrpx_session *sess;
    ck_assert_int_eq(lrpx_session_init(m, &sess), LRPX_OK);

    int          i = 0, n_curves = 0;
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(ref, "samples");
    for (const cJSON *sm = samples->child; sm; sm = sm->next, i++) {
        const float *a = maps[i], *b = maps[(i + 1) % 8];
        double       r;
        NEAR(lrpx__eval_relevance_mass(a, mask, 784, scratch), jnum(sm, "relevance_mass"), 1e-5);
        NEAR(lrpx__eval_relevance_mass(absm[i], mask, 784, scratch), jnum(sm, "relevance_mass_abs"),
             1e-6);
        NEAR(lrpx__eval_cosine(a, b, 784), jnum(sm, "cosine_next"), 1e-6);
        ck_assert_int_eq(lrpx__eval_spearman(absm[i], absm[(i + 1) % 8], 784, &r), LRPX_OK);
        NEAR(r, jnum(sm, "spearman_next_abs"), 1e-9);
        ck_assert_int_eq(lrpx__eval_ssim(a, b, 1, 28, 28, &r), LRPX_OK);
        NEAR(r, jnum(sm, "ssim_next"), 1e-6);
        int64_t cls = (int64_t)jnum(sm, "class");
        for (const cJSON *rc = cJSON_GetObjectItemCaseSensitive(sm, "region")->child; rc;
             rc = rc->next, n_curves++) {
            const char *order = cJSON_GetObjectItemCaseSensitive(rc, "order")->valuestring;
            const char *bl    = cJSON_GetObjectItemCaseSensitive(rc, "baseline")->valuestring;
            double       curve[128], expect[128];
            int          n, k = 0;
            ck_assert_int_eq(region_run(sess, (const float *)x->data + i * 784, a, 28, 28,
                                        (int)jnum(rc, "patch_size"), order,
                                        (int)jnum(rc, "regions"), bl, 7, cls, true, curve, &n),
                             LRPX_OK);
            for (const cJSON *v = cJSON_GetObjectItemCaseSensitive(rc, "curve")->child; v;
                 v = v->next)
                expect[k++] = v->valuedouble;
            ck_assert_int_eq(n, k);
            /* float32 networks in PyTorch and lrpx: scores agree to ~1e-6 */
            ck_assert_tensor_near_f64(curve, expect, n, 0, 2e-5);
            NEAR(lrpx__eval_aopc0(curve, n), jnum(rc, "aopc"), 2e-5);
        }
    }
    ck_assert_int_eq(i, 8);
    ck_assert_int_eq(n_curves, 24);
    lrpx_session_free(sess);
    lrpx_model_free(m);
    lrpx_npy_free(x);
    cJSON_Delete(ref);
}
END_TEST

/* ---- model randomisation ---- */

static const struct lrpx_tensor *
weight(const lrpx_model *m, const char *name)
{
    int v = lrpx__graph_find_value(&m->g, name);
    ck_assert_msg(v >= 0, "no value %s", name);
    return &m->g.values[v].data;
}

static lrpx_model *
load_randomized(int layers, uint64_t seed)
{
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.randomize_layers = layers;
    o.randomize_seed   = seed;
    lrpx_model *m;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), &o, &m),
                     LRPX_OK);
    return m;
}

static bool
same(const struct lrpx_tensor *a, const struct lrpx_tensor *b)
{
    return a->n_elems == b->n_elems && !memcmp(a->f32, b->f32, (size_t)a->n_elems * 4);
}

START_TEST(test_randomize)
{
    static const char *const w[4] = {"features.0.weight", "features.3.weight",
                                     "classifier.1.weight", "classifier.3.weight"};
    static const char *const b[4] = {"features.0.bias", "features.3.bias",
                                     "classifier.1.bias", "classifier.3.bias"};
    static const double fan_in[4] = {9, 144, 1568, 64};
    lrpx_model *orig = load_randomized(0, 0), *top = load_randomized(1, 7),
               *two = load_randomized(2, 7), *all = load_randomized(-1, 7),
               *again = load_randomized(-1, 7), *other = load_randomized(-1, 8);
    ck_assert_int_eq(lrpx_model_n_randomized(orig), 0);
    ck_assert_int_eq(lrpx_model_n_randomized(top), 1);
    ck_assert_int_eq(lrpx_model_n_randomized(all), 4);
    for (int k = 0; k < 4; k++) {
        /* top: only the last layer; two: the last two */
        ck_assert(same(weight(orig, w[k]), weight(top, w[k])) == (k < 3));
        ck_assert(same(weight(orig, w[k]), weight(two, w[k])) == (k < 2));
        ck_assert(!same(weight(orig, b[k]), weight(all, b[k])));
        /* the same stream per layer whatever the count; reproducible; seeded */
        if (k == 3)
            ck_assert(same(weight(top, w[k]), weight(all, w[k])));
        ck_assert(same(weight(all, w[k]), weight(again, w[k])));
        ck_assert(!same(weight(all, w[k]), weight(other, w[k])));
        /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): inside the bound, reaching
         * near it, mean about 0, variance bound^2 / 3 */
        const struct lrpx_tensor *t = weight(all, w[k]);
        double bound = 1.0 / sqrt(fan_in[k]), mx = 0, s = 0, ss = 0;
        for (int64_t i = 0; i < t->n_elems; i++) {
            mx = fmax(mx, fabs(t->f32[i]));
            s += t->f32[i];
            ss += (double)t->f32[i] * t->f32[i];
        }
        double n = (double)t->n_elems, var = ss / n - (s / n) * (s / n);
        ck_assert_msg(mx <= bound && mx > 0.9 * bound, "%s: max %g, bound %g", w[k], mx, bound);
        ck_assert_msg(fabs(s / n) < 5 * bound / sqrt(3 * n), "%s: mean %g", w[k], s / n);
        ck_assert_msg(fabs(var / (bound * bound / 3) - 1) < 0.25, "%s: variance %g", w[k], var);
    }
    lrpx_model *models[] = {orig, top, two, all, again, other};
    for (int k = 0; k < 6; k++)
        lrpx_model_free(models[k]);
}
END_TEST

static Suite *
eval_suite(void)
{
    Suite *s  = suite_create("eval");
    TCase *tc = tcase_create("by_hand");
    tcase_add_test(tc, test_normalise_abs);
    tcase_add_test(tc, test_relevance_mass);
    tcase_add_test(tc, test_cosine);
    tcase_add_test(tc, test_spearman);
    tcase_add_test(tc, test_ssim);
    tcase_add_test(tc, test_aopc);
    tcase_add_test(tc, test_region_by_hand);
    tcase_add_test(tc, test_region_padding);
    tcase_add_test(tc, test_region_bad_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("reference");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reference_fmnist);
    tcase_add_test(tc, test_randomize);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(eval_suite());
}
