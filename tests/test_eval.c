/* The evaluation metrics (src/eval/) on a linear model y = W x (Flatten +
 * Gemm) whose curves are worked out by hand in the comments: with the
 * gradient method the map of class k is the row W_k, with gradxinput it is
 * W_k * x, so every perturbed output is a sum of a few products. Then the
 * parser, errors, and independence of threads and batch size. The
 * comparison with an independent float64 re-implementation on the bundled
 * Fashion-MNIST model is test_eval_reference (scripts/eval_reference.py). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

/* x: N x 1 x h x w -> Flatten -> Gemm(W: k x hw, transB) -> logits N x k */
static lrpx_model *
linear_model(int h, int w, int k, const float *W)
{
    lrpx_test_model *tm     = lrpx_test_model_new(13);
    int64_t          xd[4]  = {-1, 1, h, w};
    int64_t          wd[2]  = {k, (int64_t)h * w};
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, xd);
    lrpx_test_model_init_f32(tm, "W", 2, wd, W);
    lrpx_test_model_node(tm, "Flatten", "flat", LT_IO("x"), LT_IO("f"), LT_INT("axis", 1), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("f", "W"), LT_IO("y"), LT_INT("transB", 1), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *m;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    lrpx_test_model_free(tm);
    return m;
}

/* The options of attribution method `name` (lrpx_attr_method_parse). */
static struct lrpx_attr_options
method_opts(const char *name)
{
    struct lrpx_attr_options ao;
    lrpx_attr_options_default(&ao);
    ck_assert_msg(lrpx_attr_method_parse(name, &ao.method) == LRPX_OK, "%s", name);
    return ao;
}

struct run {
    lrpx_model       *m;
    lrpx_session     *s;
    lrpx_eval_result *r;
};

/* Evaluate spec on x (n x 1 x h x w) with method (or attr), target 0. */
static lrpx_status
run_metric(struct run *rr, const char *spec, const float *x, int64_t n, int h, int w,
           const char *method, const float *attr, const lrpx_tensor_view *mask,
           const lrpx_tensor_view *noise)
{
    lrpx_metric *mt;
    char         err[512];
    ck_assert_msg(lrpx_metric_parse(spec, &mt, err, sizeof err) == LRPX_OK, "%s", err);
    if (!rr->s)
        ck_assert_int_eq(lrpx_session_init(rr->m, &rr->s), LRPX_OK);
    lrpx_tensor_view xv = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {n, 1, h, w},
                           .n_elems = n * h * w, .data = x};
    lrpx_tensor_view av = xv;
    av.data             = attr;
    int64_t targets[8]  = {0};
    struct lrpx_attr_options ao = method_opts(method ? method : "lrp");
    struct lrpx_eval_options o;
    lrpx_eval_options_default(&o);
    o.x       = &xv;
    o.targets = targets;
    o.method  = &ao;
    o.attr    = attr ? &av : NULL;
    o.mask    = mask;
    o.noise   = noise;
    lrpx_eval_result_free(rr->r);
    rr->r          = NULL;
    lrpx_status st = lrpx_session_evaluate(rr->s, mt, &o, &rr->r);
    lrpx_metric_free(mt);
    return st;
}

static void
run_free(struct run *rr)
{
    lrpx_eval_result_free(rr->r);
    lrpx_session_free(rr->s);
    lrpx_model_free(rr->m);
}

static lrpx_eval_sample
sample(const struct run *rr, int64_t i)
{
    lrpx_eval_sample es;
    ck_assert_int_eq(lrpx_eval_result_sample(rr->r, i, &es), LRPX_OK);
    return es;
}

static void
check_curve(const lrpx_eval_sample *es, const double *want, int n, double tol)
{
    ck_assert_int_eq(es->n_curve, n);
    for (int k = 0; k < n; k++)
        ck_assert_msg(fabs(es->curve[k] - want[k]) <= tol * (1 + fabs(want[k])),
                      "point %d: %.9g, want %.9g", k, es->curve[k], want[k]);
}

/* W_0 = [1, -2, 3, 0.5], x = [1, 2, 3, 4]: f(x) = 8. Most relevant first
 * (gradient map = W_0): idx 2, 0, 3, 1; black = min x = 1:
 *   z = [1,2,1,4] -> 1-4+3+2 = 2;  [1,2,1,4] -> 2;  [1,2,1,1] -> 0.5;
 *   [1,1,1,1] -> 2.5.  AUC = 2 + 1.25 + 1.5 = 4.75. */
START_TEST(pixel_flipping_by_hand)
{
    const float W[8] = {1, -2, 3, 0.5f, 0, 0, 0, 0};
    const float x[4] = {1, 2, 3, 4};
    struct run  rr   = {.m = linear_model(2, 2, 2, W)};
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false", x, 1, 2, 2, "gradient",
                                NULL, NULL, NULL), LRPX_OK);
    lrpx_eval_sample es = sample(&rr, 0);
    check_curve(&es, (const double[]){2, 2, 0.5, 2.5}, 4, 1e-6);
    ck_assert_int_eq(es.kind, LRPX_SCORE_NULL);
    ck_assert_double_eq_tol(es.summary, 4.75, 1e-6);
    /* two features a step: [1,2,1,4] -> 2, then all 1 -> 2.5 */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false,features-in-step=2", x, 1, 2,
                                2, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){2, 2.5}, 2, 1e-6);
    /* the AUC as the score: (2 + 2.5) / 2 */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false,features-in-step=2,"
                                     "return-auc-per-sample=true",
                                x, 1, 2, 2, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    ck_assert_int_eq(es.kind, LRPX_SCORE_NUMBER);
    ck_assert_double_eq_tol(es.score, 2.25, 1e-6);
    ck_assert_int_eq(es.n_curve, 0);
    /* softmax: logit 1 is 0, so p = 1 / (1 + exp(-l)) */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:features-in-step=2", x, 1, 2, 2, "gradient",
                                NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){1 / (1 + exp(-2.0)), 1 / (1 + exp(-2.5))}, 2, 1e-6);
    /* white = max x = 4, one feature a step, order 2, 0, 3, 1:
     * [1,2,4,4] -> 1-4+12+2 = 11; [4,2,4,4] -> 14; [4,2,4,4] -> 14; [4,4,4,4] -> 10 */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false,perturb-baseline=white", x, 1,
                                2, 2, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){11, 14, 14, 10}, 4, 1e-6);
    /* a constant 0.5: [1,2,.5,4] -> 1-4+1.5+2 = 0.5; [.5,2,.5,4] -> 0; [.5,2,.5,.5] -> -1.75;
     * all .5 -> 1.25 */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false,perturb-baseline=0.5", x, 1,
                                2, 2, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){0.5, 0, -1.75, 1.25}, 4, 1e-6);
    /* mean, recomputed every step on the perturbed array: mean x = 2.5 ->
     * [1,2,2.5,4] -> 1-4+7.5+2 = 6.5; mean 2.375 -> [2.375,2,2.5,4] -> 7.875;
     * mean 2.71875 -> [.., 2.71875] -> 2.375-4+7.5+1.359375 = 7.234375;
     * mean 2.3984375 -> all but idx 1 kept, idx1 = 2.3984375:
     * 2.375 - 4.796875 + 7.5 + 1.359375 = 6.4375 */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:softmax=false,perturb-baseline=mean", x, 1,
                                2, 2, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){6.5, 7.875, 7.234375, 6.4375}, 4, 1e-6);
    /* 3 does not divide 4 features */
    ck_assert_int_eq(run_metric(&rr, "pixel-flipping:features-in-step=3", x, 1, 2, 2, "gradient",
                                NULL, NULL, NULL), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(rr.s), "does not divide"));
    run_free(&rr);
}
END_TEST

/* x(r, c) = 4r + c + 1 on 4x4, patches of 2: sums of x per patch 14, 22,
 * 46, 54; W_0 = 1, 3, -1, 2 on the four patches, so S = 4, 12, -4, 8 and
 * y0 = 14 + 66 - 46 + 108 = 142; black = 1 (a patch becomes 4 ones).
 * MoRF 1, 3, 0, 2: f = 88, -12, -22, 20; d = 54, 154, 164, 122.
 * LeRF 2, 0, 3, 1: f = 184, 174, 74, 20; d = -42, -32, 68, 122. */
START_TEST(patches_by_hand)
{
    float W[2 * 16] = {0}, x[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            static const float pw[4] = {1, 3, -1, 2};
            W[r * 4 + c]             = pw[(r / 2) * 2 + c / 2];
            x[r * 4 + c]             = (float)(4 * r + c + 1);
        }
    struct run rr = {.m = linear_model(4, 4, 2, W)};
    ck_assert_int_eq(run_metric(&rr, "region-perturbation:patch-size=2,softmax=false", x, 1, 4, 4,
                                "gradient", NULL, NULL, NULL), LRPX_OK);
    lrpx_eval_sample es = sample(&rr, 0);
    check_curve(&es, (const double[]){54, 154, 164, 122}, 4, 1e-6);
    ck_assert_double_eq_tol(es.summary, 123.5, 1e-6);   /* AOPC */
    ck_assert_int_eq(run_metric(&rr, "region-perturbation:patch-size=2,softmax=false,order=lerf,"
                                     "regions-evaluation=3",
                                x, 1, 4, 4, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){-42, -32, 68}, 3, 1e-6);
    ck_assert_int_eq(run_metric(&rr, "selectivity:patch-size=2,softmax=false", x, 1, 4, 4,
                                "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){88, -12, -22, 20}, 4, 1e-6);
    /* mean_k (d_morf - d_lerf) = (96 + 186 + 96 + 0) / 4 */
    ck_assert_int_eq(run_metric(&rr, "lerf-morf-area:patch-size=2,softmax=false", x, 1, 4, 4,
                                "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    ck_assert_double_eq_tol(es.score, 94.5, 1e-6);
    /* patch 3 on 4x4: padded to 6x6 with one edge row/column on each side;
     * 4 patches of 3x3 whose sums of W_0 (zero-padded) are: top-left rows
     * 0-1 x cols 0-1 of the image = 4*1 = 4; top-right cols 2-3 = 3*4 = 12;
     * bottom-left -4; bottom-right 8: the same order as above, and the
     * first patch removed (top-right) sets image rows 0-1, cols 2-3 to 1 */
    ck_assert_int_eq(run_metric(&rr, "region-perturbation:patch-size=3,softmax=false,"
                                     "regions-evaluation=1",
                                x, 1, 4, 4, "gradient", NULL, NULL, NULL), LRPX_OK);
    es = sample(&rr, 0);
    check_curve(&es, (const double[]){54}, 1, 1e-6);
    run_free(&rr);
}
END_TEST

/* x = [1, 2, 3, 4] (1x1x1x4), W_0 = 1: gradxinput a = x, normalised x/4.
 * nr-steps 4: dx = 9/4 = 2, t = -2, 0, 2, 4, fill min x = 1:
 *   t=-2: [3,4,1,1], |a0-at|_1 = 2.25, |x-xt|_2 = sqrt(21)
 *   t= 2: [1,1,1,2], 1.25 / 3;  t = 4: [1,1,1,1] (map 1 after normalise),
 *   1.5 / sqrt(14). max = 2.25 / sqrt(21). */
START_TEST(robustness_by_hand)
{
    const float W[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    const float x[4] = {1, 2, 3, 4};
    struct run  rr   = {.m = linear_model(1, 4, 2, W)};
    ck_assert_int_eq(run_metric(&rr, "continuity:nr-steps=4", x, 1, 1, 4, "gradxinput", NULL,
                                NULL, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, 2.25 / sqrt(21.0), 1e-6);
    /* nr-steps 3: dx = 3, t = -1, 2, 5 > 4: Quantus raises */
    ck_assert_int_eq(run_metric(&rr, "continuity:nr-steps=3", x, 1, 1, 4, "gradxinput", NULL,
                                NULL, NULL), LRPX_EINVAL);
    /* noise rows n0 = [.5,0,0,0], n1 = [0,0,0,-1]:
     * local-lipschitz (a = x/4): x0 = [1.5,2,3,4] -> a0 = x0/4, |a-a0| = .125,
     *   |x-x0| = .5 -> .25; x1 = [1,2,3,3] -> a1 = x1/3,
     *   |a-a1| = sqrt(1/144 + 1/36 + 1/16) -> max.
     * max-sensitivity (no normalise, a = x): |a-a0|/|a| = .5/sqrt(30),
     *   1/sqrt(30) -> max. */
    const float      rows[8] = {0.5f, 0, 0, 0, 0, 0, 0, -1};
    lrpx_tensor_view nv      = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {2, 1, 1, 4},
                                .n_elems = 8, .data = rows};
    ck_assert_int_eq(run_metric(&rr, "local-lipschitz:nr-samples=2", x, 1, 1, 4, "gradxinput",
                                NULL, NULL, &nv), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, sqrt(1 / 144.0 + 1 / 36.0 + 1 / 16.0), 1e-6);
    ck_assert_int_eq(run_metric(&rr, "max-sensitivity:nr-samples=2", x, 1, 1, 4, "gradxinput",
                                NULL, NULL, &nv), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, 1 / sqrt(30.0), 1e-6);
    /* more samples than the noise has rows */
    ck_assert_int_eq(run_metric(&rr, "max-sensitivity:nr-samples=3", x, 1, 1, 4, "gradxinput",
                                NULL, NULL, &nv), LRPX_ESHAPE);
    /* the seeded generator: same seed, same score; reruns agree */
    ck_assert_int_eq(run_metric(&rr, "max-sensitivity:nr-samples=5", x, 1, 1, 4, "gradxinput",
                                NULL, NULL, NULL), LRPX_OK);
    double s1 = sample(&rr, 0).score;
    ck_assert_int_eq(run_metric(&rr, "max-sensitivity:nr-samples=5", x, 1, 1, 4, "gradxinput",
                                NULL, NULL, NULL), LRPX_OK);
    ck_assert_double_eq(sample(&rr, 0).score, s1);
    ck_assert(s1 > 0 && s1 < 0.2 / sqrt(30.0) * 2 * 2);   /* |n| <= .2 per feature */
    run_free(&rr);
}
END_TEST

/* a = [.5, -1, 2, .25], mask [1,0,1,0], normalised a/2 = [.25,-.5,1,.125]:
 * RMA = 1.25 / .875; RRA (abs) top 2 = idx 2, 1 -> 1 hit of 2; pointing:
 * the max (idx 2) is inside. Sparseness of |a|/2 (+1e-7): sorted .125,
 * .25, .5, 1 with weights -3,-1,1,3: 2.875 / (4 * 1.875). */
START_TEST(localisation_complexity_by_hand)
{
    const float W[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    const float x[4] = {0, 2, 3, 4}, a[4] = {0.5f, -1, 2, 0.25f};
    const uint8_t in[4] = {1, 0, 1, 0}, out_[4] = {0, 1, 0, 1}, none[4] = {0};
    lrpx_tensor_view mv = {.dtype = LRPX_DTYPE_UINT8, .rank = 2, .dims = {2, 2}, .n_elems = 4,
                           .data = in};
    struct run rr = {.m = linear_model(2, 2, 2, W)};
    ck_assert_int_eq(run_metric(&rr, "relevance-mass", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, 1.25 / 0.875, 1e-6);
    ck_assert_int_eq(run_metric(&rr, "relevance-rank", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, 0.5, 1e-12);
    ck_assert_int_eq(run_metric(&rr, "pointing-game", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_int_eq(sample(&rr, 0).kind, LRPX_SCORE_BOOL);
    ck_assert_double_eq(sample(&rr, 0).score, 1);
    mv.data = out_;
    ck_assert_int_eq(run_metric(&rr, "pointing-game", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_double_eq(sample(&rr, 0).score, 0);
    mv.data = none;                              /* empty: NaN, and True for pointing */
    ck_assert_int_eq(run_metric(&rr, "pointing-game", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_double_eq(sample(&rr, 0).score, 1);
    ck_assert_int_eq(run_metric(&rr, "relevance-rank", x, 1, 2, 2, NULL, a, &mv, NULL), LRPX_OK);
    ck_assert_int_eq(sample(&rr, 0).kind, LRPX_SCORE_NULL);
    ck_assert_int_eq(run_metric(&rr, "relevance-mass", x, 1, 2, 2, NULL, a, NULL, NULL),
                     LRPX_EINVAL);               /* no mask */
    ck_assert_int_eq(run_metric(&rr, "pointing-game:weighted=true", x, 1, 2, 2, NULL, a, &mv,
                                NULL), LRPX_EINVAL);
    ck_assert_int_eq(run_metric(&rr, "sparseness", x, 1, 2, 2, NULL, a, NULL, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, 2.875 / 7.5, 1e-6);
    /* entropy of p = [.25,.5,1,.125] / 1.875 */
    double h = 0;
    for (int i = 0; i < 4; i++) {
        double p = (double[]){0.25, 0.5, 1, 0.125}[i] / 1.875;
        h -= p * log(p);
    }
    ck_assert_int_eq(run_metric(&rr, "complexity", x, 1, 2, 2, NULL, a, NULL, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, h, 1e-6);
    /* completeness: a = W_0 * x = x, black = min x = 0, so f(x) - f(x_b) =
     * 9 = sum a exactly (no normalise); normalised, 9/4 != 9 */
    ck_assert_int_eq(run_metric(&rr, "completeness:normalise=false", x, 1, 2, 2, "gradxinput",
                                NULL, NULL, NULL), LRPX_OK);
    ck_assert_double_eq(sample(&rr, 0).score, 1);
    ck_assert_int_eq(run_metric(&rr, "completeness", x, 1, 2, 2, "gradxinput", NULL, NULL, NULL),
                     LRPX_OK);
    lrpx_eval_sample es = sample(&rr, 0);
    ck_assert_double_eq(es.score, 0);
    ck_assert_int_eq(es.n_extra, 2);
    ck_assert_double_eq_tol(es.extra[0], 9.0 / 4.0, 1e-6);
    ck_assert_double_eq_tol(es.extra[1], 9.0, 1e-6);
    run_free(&rr);
}
END_TEST

/* random-logit: numpy.random.seed(42); numpy.random.choice of the classes
 * other than y gives 1 for (3 classes, y 0), 0 for (3, 2) (numpy 1.24).
 * With the gradient, a_y = W_y, so SSIM/Spearman compare rows of W. */
START_TEST(randomisation)
{
    const float W[3 * 8] = {1, 2, 3, 4, 5, 6, 7, 8,            /* class 0 */
                            8, 7, 6, 5, 4, 3, 2, 1,            /* class 1: reversed */
                            1, 2, 3, 4, 5, 6, 7, 9};           /* class 2 */
    const float x[8]     = {1, 1, 1, 1, 1, 1, 1, 1};
    struct run  rr       = {.m = linear_model(1, 8, 3, W)};
    ck_assert_int_eq(run_metric(&rr, "random-logit:num-classes=3,similarity-func=spearman", x, 1,
                                1, 8, "gradient", NULL, NULL, NULL), LRPX_OK);
    lrpx_eval_sample es = sample(&rr, 0);
    ck_assert_double_eq(es.extra[0], 1);         /* the off class */
    ck_assert_double_eq_tol(es.score, -1.0, 1e-12);   /* reversed ranks */
    ck_assert_int_eq(run_metric(&rr, "random-logit:num-classes=4", x, 1, 1, 8, "gradient", NULL,
                                NULL, NULL), LRPX_EINVAL);   /* the model has 3 */
    /* model-randomisation: one layer; the curve starts with the original
     * model's map against itself (1), labels name the layer */
    ck_assert_int_eq(run_metric(&rr, "model-randomisation", x, 1, 1, 8, "gradient", NULL, NULL,
                                NULL), LRPX_OK);
    es = sample(&rr, 0);
    ck_assert_int_eq(es.n_curve, 2);
    ck_assert_double_eq_tol(es.curve[0], 1.0, 1e-12);
    ck_assert(es.curve[1] < 0.999);              /* new weights, a new map */
    ck_assert_str_eq(es.curve_labels[0], "original");
    ck_assert_str_eq(es.curve_labels[1], "fc");
    ck_assert_int_eq(es.kind, LRPX_SCORE_NULL);
    double last = es.curve[1];
    ck_assert_int_eq(run_metric(&rr, "model-randomisation:return-average-correlation=true", x, 1,
                                1, 8, "gradient", NULL, NULL, NULL), LRPX_OK);
    ck_assert_double_eq_tol(sample(&rr, 0).score, (1.0 + last) / 2, 1e-12);
    ck_assert_int_eq(run_metric(&rr, "model-randomisation:return-average-correlation=true,"
                                     "return-last-correlation=true",
                                x, 1, 1, 8, "gradient", NULL, NULL, NULL), LRPX_EINVAL);
    /* the model is untouched: the original map is W_0 again */
    int64_t                  dims[4] = {1, 1, 1, 8};
    struct lrpx_attr_options ao      = method_opts("gradient");
    lrpx_tensor_view         map;
    ao.lrp.seed   = LRPX_SEED_TARGET;
    ao.lrp.target = 0;
    ck_assert_int_eq(lrpx_session_set_input(rr.s, NULL, LRPX_DTYPE_FLOAT32, 4, dims, x), LRPX_OK);
    ck_assert_int_eq(lrpx_session_attribute(rr.s, &ao), LRPX_OK);
    ck_assert_int_eq(lrpx_session_attribution(rr.s, &map), LRPX_OK);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(((const float *)map.data)[i], W[i]);
    run_free(&rr);
}
END_TEST

/* Every attribution method of lrpx_session_attribute scores and explains
 * again inside the metrics: robustness explains perturbed copies,
 * model-randomisation explains on a session whose weights it replaced,
 * which the methods that batch rows through a second session must see. */
START_TEST(every_method)
{
    const float W[3 * 8] = {1, -2, 3, 4, -5, 6, 7, 8,
                            8, 7, 6, 5, 4, 3, 2, 1,
                            1, 2, -3, 4, 5, 6, 7, 9};
    const float x[8]     = {0.5f, 1, 0.25f, 0.75f, 1, 0.1f, 0.9f, 0.3f};
    struct run  rr       = {.m = linear_model(1, 8, 3, W)};
    for (int k = 0; k < LRPX_ATTR_COUNT; k++) {
        const char *name = lrpx_attr_method_name((lrpx_attr_method)k);
        /* the gradient of a linear model does not vary: vargrad's map is 0 */
        bool zero = k == LRPX_ATTR_VARGRAD;
        ck_assert_msg(run_metric(&rr, "max-sensitivity:nr-samples=3", x, 1, 1, 8, name, NULL, NULL,
                                 NULL) == LRPX_OK, "%s: %s", name, lrpx_session_errmsg(rr.s));
        ck_assert_msg(zero || isfinite(sample(&rr, 0).score), "%s", name);
        ck_assert_msg(run_metric(&rr, "model-randomisation", x, 1, 1, 8, name, NULL, NULL,
                                 NULL) == LRPX_OK, "%s: %s", name, lrpx_session_errmsg(rr.s));
        lrpx_eval_sample es = sample(&rr, 0);
        if (zero)
            continue;
        ck_assert_int_eq(es.n_curve, 2);
        ck_assert_msg(fabs(es.curve[0] - 1.0) < 1e-9, "%s: %g", name, es.curve[0]);
        ck_assert_msg(es.curve[1] < 0.999, "%s: the map did not change with the weights (%g)",
                      name, es.curve[1]);
    }
    run_free(&rr);
}
END_TEST

START_TEST(parse_errors)
{
    lrpx_metric *m;
    char         err[512];
    ck_assert_int_eq(lrpx_metric_parse("pixel-flip", &m, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "pixel-flipping"));     /* lists the names */
    ck_assert_int_eq(lrpx_metric_parse("region-perturbation:patch_size=4", &m, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "patch-size"));
    ck_assert_int_eq(lrpx_metric_parse("region-perturbation:order=best", &m, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "morf, lerf, random"));
    ck_assert_int_eq(lrpx_metric_parse("continuity:abs=yes", &m, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_metric_parse("continuity:nr-steps=2.5", &m, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_metric_parse("continuity:nr-steps=3,nr-steps=4", &m, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_metric_parse("sparseness:", &m, err, sizeof err), LRPX_EINVAL);
    /* every default parses, and the JSON lists every parameter */
    for (int id = 0; id < LRPX_METRIC_COUNT; id++) {
        lrpx_metric_doc d;
        ck_assert_int_eq(lrpx_metric_doc_get((lrpx_metric_id)id, &d), LRPX_OK);
        ck_assert_int_eq(lrpx_metric_parse(d.name, &m, err, sizeof err), LRPX_OK);
        char json[2048];
        lrpx_metric_params_json(m, json, sizeof json);
        for (int i = 0; i < d.n_params; i++) {
            lrpx_metric_param_doc p;
            ck_assert_int_eq(lrpx_metric_param_doc_get((lrpx_metric_id)id, i, &p), LRPX_OK);
            char key[80];
            snprintf(key, sizeof key, "\"%s\": ", p.name);
            ck_assert_msg(strstr(json, key), "%s: %s missing in %s", d.name, p.name, json);
        }
        lrpx_metric_free(m);
    }
    ck_assert_int_eq(lrpx_metric_parse("max-sensitivity:upper-bound=none,perturb-baseline=1", &m,
                                       err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_metric_parse("pixel-flipping:perturb-baseline=0.25", &m, err, sizeof err),
                     LRPX_OK);
    char json[2048];
    lrpx_metric_params_json(m, json, sizeof json);
    ck_assert_ptr_nonnull(strstr(json, "\"perturb-baseline\": 0.25"));
    lrpx_metric_free(m);
}
END_TEST

/* The bundled CNN: the same results for 1 and 2 threads and for any
 * number of perturbed inputs per pass. */
START_TEST(threads_and_batches)
{
    lrpx_model *m;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL, &m),
                     LRPX_OK);
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_tensor_view xv = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {4, 1, 28, 28},
                           .n_elems = 4 * 784, .data = x->data};
    const char *specs[] = {"continuity:nr-steps=7", "region-perturbation:patch-size=7",
                           "max-sensitivity:nr-samples=6", "model-randomisation"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        lrpx_metric *mt;
        ck_assert_int_eq(lrpx_metric_parse(specs[k], &mt, NULL, 0), LRPX_OK);
        double ref[4 * 64];
        for (int run = 0; run < 3; run++) {
            lrpx_session *s;
            ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
            lrpx_session_set_threads(s, run == 1 ? 2 : 1);
            struct lrpx_eval_options o;
            lrpx_eval_options_default(&o);
            o.x         = &xv;
            o.max_batch = run == 2 ? 5 : 16;
            lrpx_eval_result *r;
            ck_assert_msg(lrpx_session_evaluate(s, mt, &o, &r) == LRPX_OK, "%s",
                          lrpx_session_errmsg(s));
            for (int64_t i = 0; i < 4; i++) {
                lrpx_eval_sample es;
                lrpx_eval_result_sample(r, i, &es);
                double v = es.n_curve ? es.curve[es.n_curve - 1] : es.score;
                if (run == 0)
                    ref[i] = v;
                else if (run == 1)
                    ck_assert_msg(v == ref[i], "%s: 2 threads %.9g, 1 thread %.9g", specs[k], v,
                                  ref[i]);
                else      /* another batching may round products differently */
                    ck_assert_msg(fabs(v - ref[i]) <= 1e-5 * (1 + fabs(ref[i])),
                                  "%s: batch 5 %.9g, 16 %.9g", specs[k], v, ref[i]);
            }
            lrpx_eval_result_free(r);
            lrpx_session_free(s);
        }
        lrpx_metric_free(mt);
    }
    lrpx_npy_free(x);
    lrpx_model_free(m);
}
END_TEST

/* Every case of testdata/expected/eval/cases.json (scripts/eval_reference.py:
 * float64 NumPy, no lrpx) on the first 4 images of fmnist_batch8.npy as one
 * batch. Curves and scores agree to 1e-4 relative (float32 model and sums
 * against float64); bools exactly. */
START_TEST(reference_fmnist)
{
    cJSON *root = lrpx_test_json_load("expected/eval/cases.json");
    int n = cJSON_GetObjectItem(root, "n")->valueint;
    lrpx_model *m;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL, &m),
                     LRPX_OK);
    lrpx_npy *x     = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_npy *rel   = lrpx_test_npy_load(lrpx_test_path("expected/eval/relevance.npy"));
    lrpx_npy *noise = lrpx_test_npy_load(lrpx_test_path("expected/eval/noise.npy"));
    lrpx_tensor_view xv = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {n, 1, 28, 28},
                           .n_elems = n * 784, .data = x->data};
    lrpx_tensor_view rv = xv, nv = xv;
    rv.data             = rel->data;
    nv.dims[0]          = noise->dims[0];
    nv.n_elems          = noise->n_elems;
    nv.data             = noise->data;
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    int    n_cases = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
    {
        const char  *spec   = cJSON_GetObjectItem(c, "spec")->valuestring;
        const cJSON *method = cJSON_GetObjectItem(c, "method");
        const cJSON *mask   = cJSON_GetObjectItem(c, "mask");
        const char  *what   = cJSON_GetObjectItem(c, "what")->valuestring;
        uint8_t      box[784] = {0};
        lrpx_tensor_view mv = {.dtype = LRPX_DTYPE_UINT8, .rank = 2, .dims = {28, 28},
                               .n_elems = 784, .data = box};
        if (cJSON_IsArray(mask)) {
            int bx = cJSON_GetArrayItem(mask, 0)->valueint, by = cJSON_GetArrayItem(mask, 1)->valueint,
                bw = cJSON_GetArrayItem(mask, 2)->valueint, bh = cJSON_GetArrayItem(mask, 3)->valueint;
            for (int yy = by; yy < by + bh; yy++)
                memset(box + yy * 28 + bx, 1, (size_t)bw);
        }
        struct lrpx_eval_options o;
        lrpx_eval_options_default(&o);
        o.x      = &xv;
        struct lrpx_attr_options ao = method_opts(cJSON_IsString(method) ? method->valuestring
                                                                          : "lrp");
        o.method = &ao;
        o.attr   = cJSON_IsString(method) ? NULL : &rv;
        o.noise  = cJSON_IsTrue(cJSON_GetObjectItem(c, "noise")) ? &nv : NULL;
        o.mask   = cJSON_IsArray(mask) ? &mv : NULL;
        lrpx_metric *mt;
        ck_assert_int_eq(lrpx_metric_parse(spec, &mt, NULL, 0), LRPX_OK);
        lrpx_eval_result *r;
        ck_assert_msg(lrpx_session_evaluate(s, mt, &o, &r) == LRPX_OK, "%s: %s", spec,
                      lrpx_session_errmsg(s));
        int    i = 0;
        cJSON *want;
        cJSON_ArrayForEach(want, cJSON_GetObjectItem(c, "expected"))
        {
            lrpx_eval_sample es;
            ck_assert_int_eq(lrpx_eval_result_sample(r, i, &es), LRPX_OK);
            if (!strcmp(what, "curve")) {
                ck_assert_msg(es.n_curve == cJSON_GetArraySize(want), "%s: %lld points, want %d",
                              spec, (long long)es.n_curve, cJSON_GetArraySize(want));
                for (int k = 0; k < es.n_curve; k++) {
                    double e = cJSON_GetArrayItem(want, k)->valuedouble;
                    ck_assert_msg(fabs(es.curve[k] - e) <= 1e-4 * (1 + fabs(e)),
                                  "%s input %d point %d: %.9g, reference %.9g", spec, i, k,
                                  es.curve[k], e);
                }
            } else if (cJSON_IsBool(want)) {
                ck_assert_int_eq(es.kind, LRPX_SCORE_BOOL);
                ck_assert_msg((es.score != 0) == cJSON_IsTrue(want), "%s input %d", spec, i);
            } else {
                double got = es.score;
                for (int k = 0; k < es.n_extra; k++)
                    if (!strcmp(es.extra_names[k], what))
                        got = es.extra[k];
                ck_assert_msg(fabs(got - want->valuedouble) <= 1e-4 * (1 + fabs(want->valuedouble)),
                              "%s input %d %s: %.9g, reference %.9g", spec, i, what, got,
                              want->valuedouble);
            }
            i++;
        }
        ck_assert_int_eq(i, n);
        lrpx_eval_result_free(r);
        lrpx_metric_free(mt);
        n_cases++;
    }
    ck_assert_int_ge(n_cases, 15);
    lrpx_session_free(s);
    lrpx_npy_free(x);
    lrpx_npy_free(rel);
    lrpx_npy_free(noise);
    lrpx_model_free(m);
    cJSON_Delete(root);
}
END_TEST

static Suite *
eval_suite(void)
{
    Suite *s  = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, pixel_flipping_by_hand);
    tcase_add_test(tc, patches_by_hand);
    tcase_add_test(tc, robustness_by_hand);
    tcase_add_test(tc, localisation_complexity_by_hand);
    tcase_add_test(tc, randomisation);
    tcase_add_test(tc, every_method);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, threads_and_batches);
    tcase_add_test(tc, reference_fmnist);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(eval_suite());
}
