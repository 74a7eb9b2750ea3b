/* Activation maximisation (lrpx_session_maximize) and its density experts
 * (lrpx_density_*), docs/interpretation.md:
 *   - gradient ascent on a linear model, whose optimum with the penalty is
 *     known in closed form (x* = x0 + w / (2 lambda), clipped to the box);
 *   - the Gaussian expert's mean and covariance (full, and probabilistic
 *     PCA) against NumPy in float64, its log-density against SciPy;
 *   - the mixture's EM against scikit-learn's GaussianMixture on the same
 *     data (mean log-likelihoods; scripts/actmax_reference.py);
 *   - the expert's gradient and the decoder chain's gradient (the VJP of a
 *     second session seeded with the classifier's input gradient) against
 *     central finite differences;
 *   - on the bundled Fashion-MNIST CNN, prototypes of all ten classes made
 *     three ways (plain, Gaussian expert, the bundled decoder); the expert
 *     and code-space ones must be classified as their class;
 *   - errors: a bad class, a bad expert spec, a decoder that does not fit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"
#include "lrpx_internal.h"

/* ---- a linear model: y = W x + b, x [1, 4], y [1, 3] ---- */

static const float lin_w[12] = {0.5f, -1.0f, 2.0f, 0.25f,  1.0f, 1.0f, -0.5f, 0.0f,
                                -2.0f, 0.5f, 0.75f, 1.5f};
static const float lin_b[3]  = {0.1f, -0.2f, 0.3f};

static void
linear_model(lrpx_model **model, lrpx_session **s)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 4});
    lrpx_test_model_init_f32(tm, "W", 2, (int64_t[]){3, 4}, lin_w);
    lrpx_test_model_init_f32(tm, "b", 1, (int64_t[]){3}, lin_b);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("x", "W", "b"), LT_IO("y"), LT_INT("transB", 1),
                         NULL);
    lrpx_test_model_output(tm, "y");
    ck_assert_int_eq(lrpx_test_model_load(tm, model), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(*model, s), LRPX_OK);
    lrpx_test_model_free(tm);
}

START_TEST(test_linear_closed_form)
{
    lrpx_model   *model;
    lrpx_session *s;
    linear_model(&model, &s);
    const float x0[4] = {0.2f, -0.1f, 0.4f, 0.0f};
    struct lrpx_maximize_options o;
    lrpx_maximize_options_default(&o);
    o.target     = 0;
    o.score      = LRPX_MAX_SCORE_LOGIT;
    o.lambda     = 0.5;
    o.step       = 0.5;
    o.iters      = 200;
    o.init_sigma = 0.3;        /* the start is noisy, the optimum is not */
    o.seed       = 7;
    o.start      = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {4},
                                      .n_elems = 4, .data = x0};
    for (int boxed = 0; boxed < 2; boxed++) {
        if (boxed) {
            o.box_low  = -0.5;
            o.box_high = 1.0;
        }
        lrpx_maximize_result *r;
        ck_assert_msg(lrpx_session_maximize(s, &o, &r) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        lrpx_tensor_view x;
        ck_assert_int_eq(lrpx_maximize_result_prototype(r, &x), LRPX_OK);
        ck_assert_int_eq(x.rank, 2);
        ck_assert_int_eq(x.dims[0], 1);
        ck_assert_int_eq(x.dims[1], 4);
        double want[4], J = 0.0;
        for (int i = 0; i < 4; i++) {
            want[i] = x0[i] + lin_w[i] / (2.0 * o.lambda);   /* separable: clip = optimum */
            if (boxed)
                want[i] = want[i] < -0.5 ? -0.5 : want[i] > 1.0 ? 1.0 : want[i];
            ck_assert_msg(fabs(((const float *)x.data)[i] - want[i]) < 1e-5,
                          "boxed %d x[%d] = %g, want %g", boxed, i,
                          ((const float *)x.data)[i], want[i]);
            J += lin_w[i] * want[i] - o.lambda * (want[i] - x0[i]) * (want[i] - x0[i]);
        }
        J += lin_b[0];
        ck_assert_int_eq(lrpx_maximize_result_n_steps(r), o.iters + 1);
        lrpx_maximize_step first, last;
        ck_assert_int_eq(lrpx_maximize_result_step(r, 0, &first), LRPX_OK);
        ck_assert_int_eq(lrpx_maximize_result_step(r, o.iters, &last), LRPX_OK);
        ck_assert_int_eq(lrpx_maximize_result_step(r, o.iters + 1, &last), LRPX_EINVAL);
        ck_assert_int_eq(lrpx_maximize_result_step(r, o.iters, &last), LRPX_OK);
        ck_assert_msg(fabs(last.objective - J) < 1e-5, "J %g, want %g", last.objective, J);
        ck_assert(first.objective < last.objective);
        ck_assert(isnan(last.expert_log_p));
        lrpx_tensor_view z;
        ck_assert_int_eq(lrpx_maximize_result_code(r, &z), LRPX_EINVAL);
        lrpx_maximize_result_free(r);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
}
END_TEST

/* log-probability: the gradient of log softmax_K is one-hot minus softmax;
 * at the optimum of lsm_K(Wx+b) - lambda |x - x0|^2 it balances the
 * penalty: W^T (e_K - softmax) = 2 lambda (x - x0). */
START_TEST(test_linear_logprob_stationary)
{
    lrpx_model   *model;
    lrpx_session *s;
    linear_model(&model, &s);
    struct lrpx_maximize_options o;
    lrpx_maximize_options_default(&o);
    o.target      = 2;
    o.score       = LRPX_MAX_SCORE_LOGPROB;
    o.lambda      = 0.3;
    o.step        = 0.2;
    o.iters       = 2000;
    o.start_value = 0.0;
    lrpx_maximize_result *r;
    ck_assert_msg(lrpx_session_maximize(s, &o, &r) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    lrpx_tensor_view xv;
    lrpx_maximize_result_prototype(r, &xv);
    const float *x = xv.data;
    double       y[3], mx = -INFINITY, se = 0.0;
    for (int k = 0; k < 3; k++) {
        y[k] = lin_b[k];
        for (int i = 0; i < 4; i++)
            y[k] += (double)lin_w[k * 4 + i] * x[i];
        mx = y[k] > mx ? y[k] : mx;
    }
    for (int k = 0; k < 3; k++)
        se += exp(y[k] - mx);
    for (int i = 0; i < 4; i++) {
        double g = 0.0;
        for (int k = 0; k < 3; k++)
            g += lin_w[k * 4 + i] * ((k == 2) - exp(y[k] - mx) / se);
        ck_assert_msg(fabs(g - 2.0 * o.lambda * x[i]) < 1e-4, "not stationary at %d: %g vs %g",
                      i, g, 2.0 * o.lambda * x[i]);
    }
    lrpx_maximize_step last;
    lrpx_maximize_result_step(r, o.iters, &last);
    ck_assert(fabs(last.log_prob - (y[2] - mx - log(se))) < 1e-5);
    ck_assert_int_eq(last.predicted, 2);
    lrpx_maximize_result_free(r);
    lrpx_session_free(s);
    lrpx_model_free(model);
}
END_TEST

/* ---- the experts against NumPy, SciPy and scikit-learn ---- */

static lrpx_tensor_view
view_of(const lrpx_npy *n)
{
    lrpx_tensor_view v = {.dtype = n->dtype, .rank = n->rank, .n_elems = n->n_elems,
                          .data = n->data};
    memcpy(v.dims, n->dims, sizeof v.dims);
    return v;
}

static double
ref_number(const char *key)
{
    cJSON *j = lrpx_test_json_load("expected/actmax/reference.json");
    double v = lrpx_test_json_number(j, key);
    cJSON_Delete(j);
    return v;
}

START_TEST(test_gaussian_vs_numpy)
{
    lrpx_npy *data = lrpx_test_npy_load(lrpx_test_path("expected/actmax/gauss_data.npy"));
    lrpx_npy *mean = lrpx_test_npy_load(lrpx_test_path("expected/actmax/gauss_mean.npy"));
    lrpx_npy *cov  = lrpx_test_npy_load(lrpx_test_path("expected/actmax/gauss_cov.npy"));
    lrpx_tensor_view v = view_of(data);
    struct lrpx_density_options o;
    lrpx_density_options_default(&o);
    o.reg = 0.0;
    lrpx_density *d;
    char          err[256];
    ck_assert_msg(lrpx_density_fit(&v, &o, &d, err, sizeof err) == LRPX_OK, "%s", err);
    lrpx_density_info info;
    ck_assert_int_eq(lrpx_density_get_info(d, &info), LRPX_OK);
    ck_assert_int_eq(info.rank, 6);
    ck_assert(isnan(info.resid_var));
    double w, m[6], c[36];
    ck_assert_int_eq(lrpx_density_component(d, 0, &w, m, c), LRPX_OK);
    ck_assert_double_eq(w, 1.0);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(fabs(m[i] - ((double *)mean->data)[i]) < 1e-9, "mean[%d]", i);
    for (int i = 0; i < 36; i++)
        ck_assert_msg(fabs(c[i] - ((double *)cov->data)[i]) < 1e-8 * (1 + fabs(c[i])),
                      "cov[%d] %g vs %g", i, c[i], ((double *)cov->data)[i]);
    lrpx_density_free(d);
    /* with reg 1e-6: the mean log-density against SciPy */
    o.reg = 1e-6;
    ck_assert_int_eq(lrpx_density_fit(&v, &o, &d, err, sizeof err), LRPX_OK);
    lrpx_density_get_info(d, &info);
    double want = ref_number("gauss_mean_log_lik");
    ck_assert_msg(fabs(info.mean_log_lik - want) < 1e-7 * fabs(want), "%.12g vs %.12g",
                  info.mean_log_lik, want);
    double *lp = malloc((size_t)data->dims[0] * sizeof *lp), s = 0.0;
    ck_assert_int_eq(lrpx_density_log_prob(d, data->data, data->dims[0], lp, NULL), LRPX_OK);
    for (int64_t i = 0; i < data->dims[0]; i++)
        s += lp[i];
    ck_assert(fabs(s / (double)data->dims[0] - want) < 1e-5 * fabs(want));
    free(lp);
    lrpx_density_free(d);
    lrpx_npy_free(data);
    lrpx_npy_free(mean);
    lrpx_npy_free(cov);
}
END_TEST

START_TEST(test_ppca_vs_numpy)
{
    lrpx_npy *data = lrpx_test_npy_load(lrpx_test_path("expected/actmax/ppca_data.npy"));
    lrpx_npy *cov  = lrpx_test_npy_load(lrpx_test_path("expected/actmax/ppca_cov.npy"));
    lrpx_tensor_view v = view_of(data);
    struct lrpx_density_options o;
    lrpx_density_options_default(&o);
    o.rank = 4;
    lrpx_density *d;
    ck_assert_int_eq(lrpx_density_fit(&v, &o, &d, NULL, 0), LRPX_OK);
    lrpx_density_info info;
    lrpx_density_get_info(d, &info);
    ck_assert_int_eq(info.rank, 4);
    ck_assert(fabs(info.resid_var - ref_number("ppca_resid_var")) < 1e-9);
    double *c = malloc(30 * 30 * sizeof *c);
    ck_assert_int_eq(lrpx_density_component(d, 0, NULL, NULL, c), LRPX_OK);
    for (int i = 0; i < 900; i++)
        ck_assert_msg(fabs(c[i] - ((double *)cov->data)[i]) < 1e-7, "cov[%d] %g vs %g", i, c[i],
                      ((double *)cov->data)[i]);
    double want = ref_number("ppca_mean_log_lik");
    ck_assert_msg(fabs(info.mean_log_lik - want) < 1e-6 * fabs(want), "%.12g vs %.12g",
                  info.mean_log_lik, want);
    free(c);
    lrpx_density_free(d);
    /* the Gram-matrix path: fewer examples (12) than values (30) */
    v.dims[0] = 12;
    v.n_elems = 12 * 30;
    o.rank    = 0;
    ck_assert_int_eq(lrpx_density_fit(&v, &o, &d, NULL, 0), LRPX_OK);
    lrpx_density_get_info(d, &info);
    ck_assert_int_le(info.rank, 12);
    ck_assert(info.resid_var > 0.0);
    lrpx_density_free(d);
    lrpx_npy_free(data);
    lrpx_npy_free(cov);
}
END_TEST

START_TEST(test_gmm_vs_sklearn)
{
    lrpx_npy *data = lrpx_test_npy_load(lrpx_test_path("expected/actmax/gmm_data.npy"));
    lrpx_tensor_view v = view_of(data);
    struct lrpx_density_options o;
    lrpx_density_options_default(&o);
    o.kind       = LRPX_DENSITY_GMM;
    o.components = 3;
    o.tol        = 1e-10;
    o.max_iter   = 1000;
    double want  = ref_number("gmm_mean_log_lik");
    for (uint64_t seed = 0; seed < 3; seed++) {
        o.seed = seed;
        lrpx_density *d;
        char          err[256];
        ck_assert_msg(lrpx_density_fit(&v, &o, &d, err, sizeof err) == LRPX_OK, "%s", err);
        lrpx_density_info info;
        lrpx_density_get_info(d, &info);
        ck_assert(info.converged);
        ck_assert_msg(fabs(info.mean_log_lik - want) < 1e-6, "seed %d: %.10g, sklearn %.10g",
                      (int)seed, info.mean_log_lik, want);
        double wsum = 0.0, w;
        for (int k = 0; k < 3; k++) {
            lrpx_density_component(d, k, &w, NULL, NULL);
            wsum += w;
        }
        ck_assert(fabs(wsum - 1.0) < 1e-9);
        lrpx_density_free(d);
    }
    lrpx_npy_free(data);
}
END_TEST

/* d log p / dx of the experts against central differences in double */
START_TEST(test_expert_gradient)
{
    lrpx_npy *data = lrpx_test_npy_load(lrpx_test_path("expected/actmax/ppca_data.npy"));
    lrpx_tensor_view v = view_of(data);
    struct lrpx_density_options o;
    lrpx_density_options_default(&o);
    o.rank = 4;
    for (int kind = 0; kind < 2; kind++) {
        o.kind       = kind ? LRPX_DENSITY_GMM : LRPX_DENSITY_GAUSSIAN;
        o.components = 2;
        o.reg        = 1e-3;
        lrpx_density *d;
        ck_assert_int_eq(lrpx_density_fit(&v, &o, &d, NULL, 0), LRPX_OK);
        float x[30], g[30];
        for (int i = 0; i < 30; i++)
            x[i] = ((float *)data->data)[i] * 0.8f + 0.05f;
        double lp;
        ck_assert_int_eq(lrpx_density_log_prob(d, x, 1, &lp, g), LRPX_OK);
        for (int i = 0; i < 30; i++) {
            float  xp[30], xm[30];
            double a, b, h = 1e-2;
            memcpy(xp, x, sizeof x);
            memcpy(xm, x, sizeof x);
            xp[i] += (float)h;
            xm[i] -= (float)h;
            lrpx_density_log_prob(d, xp, 1, &a, NULL);
            lrpx_density_log_prob(d, xm, 1, &b, NULL);
            double fd = (a - b) / ((double)xp[i] - xm[i]);
            ck_assert_msg(fabs(fd - g[i]) < 1e-3 * (1 + fabs(fd)), "kind %d x[%d]: %g vs %g",
                          kind, i, g[i], fd);
        }
        lrpx_density_free(d);
    }
    lrpx_npy_free(data);
}
END_TEST

/* ---- the decoder chain ---- */

/* decoder g: z [1, 3] -> Tanh(A z + c) [1, 4], the linear classifier
 * above. J(z) = f_K(g(z)) - lambda |z|^2: its gradient from one step of
 * the ascent (start z0, no noise, iters 1: z1 = z0 + step dJ/dz) against
 * central differences of J computed here in double. */
static const float dec_a[12] = {0.3f, -0.7f, 0.2f, 1.1f, 0.4f, -0.3f,
                                -0.5f, 0.6f, 0.9f, 0.2f, 0.1f, -0.8f};
static const float dec_c[4]  = {0.05f, -0.1f, 0.2f, 0.0f};

static double
chain_objective(const double *z, int K, double lambda)
{
    double x[4], y = lin_b[K], pen = 0.0;
    for (int i = 0; i < 4; i++) {
        double t = dec_c[i];
        for (int j = 0; j < 3; j++)
            t += dec_a[i * 3 + j] * z[j];
        x[i] = tanh(t);
        y   += lin_w[K * 4 + i] * x[i];
    }
    for (int j = 0; j < 3; j++)
        pen += z[j] * z[j];
    return y - lambda * pen;
}

START_TEST(test_decoder_chain_gradient)
{
    lrpx_model   *model, *dmodel;
    lrpx_session *s, *ds;
    linear_model(&model, &s);
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "z", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){-1, 3});
    lrpx_test_model_init_f32(tm, "A", 2, (int64_t[]){4, 3}, dec_a);
    lrpx_test_model_init_f32(tm, "c", 1, (int64_t[]){4}, dec_c);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("z", "A", "c"), LT_IO("h"), LT_INT("transB", 1),
                         NULL);
    lrpx_test_model_node(tm, "Tanh", "act", LT_IO("h"), LT_IO("g"), NULL);
    lrpx_test_model_output(tm, "g");
    ck_assert_int_eq(lrpx_test_model_load(tm, &dmodel), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(dmodel, &ds), LRPX_OK);
    lrpx_test_model_free(tm);

    const float z0[3] = {0.3f, -0.2f, 0.5f};
    struct lrpx_maximize_options o;
    lrpx_maximize_options_default(&o);
    o.decoder    = ds;
    o.score      = LRPX_MAX_SCORE_LOGIT;
    o.lambda     = 0.2;
    o.step       = 1.0;
    o.iters      = 1;
    o.init_sigma = 0.0;
    o.start      = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {1, 3},
                                      .n_elems = 3, .data = z0};
    for (int K = 0; K < 3; K++) {
        o.target = K;
        lrpx_maximize_result *r;
        ck_assert_msg(lrpx_session_maximize(s, &o, &r) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        lrpx_tensor_view z1, x1;
        ck_assert_int_eq(lrpx_maximize_result_code(r, &z1), LRPX_OK);
        ck_assert_int_eq(lrpx_maximize_result_prototype(r, &x1), LRPX_OK);
        ck_assert_int_eq(x1.rank, 2);
        ck_assert_int_eq(x1.dims[1], 4);
        lrpx_maximize_step st0;
        lrpx_maximize_result_step(r, 0, &st0);
        double zd[3] = {z0[0], z0[1], z0[2]};
        /* the anchor is the start: the penalty is 0 at z0 and the gradient
         * of lambda |z - z0|^2 vanishes there; compare with lambda = 0's
         * objective of the chain */
        ck_assert(fabs(st0.objective - chain_objective(zd, K, 0.0)) < 1e-5);
        for (int j = 0; j < 3; j++) {
            double zp[3] = {zd[0], zd[1], zd[2]}, zm[3] = {zd[0], zd[1], zd[2]}, h = 1e-5;
            zp[j] += h;
            zm[j] -= h;
            double fd   = (chain_objective(zp, K, 0.0) - chain_objective(zm, K, 0.0)) / (2 * h);
            double grad = ((const float *)z1.data)[j] - z0[j];   /* step 1 */
            ck_assert_msg(fabs(grad - fd) < 1e-5 * (1 + fabs(fd)), "class %d dJ/dz[%d] %g, "
                          "finite differences %g", K, j, grad, fd);
        }
        /* the prototype is g(z1) */
        for (int i = 0; i < 4; i++) {
            double t = dec_c[i];
            for (int j = 0; j < 3; j++)
                t += dec_a[i * 3 + j] * ((const float *)z1.data)[j];
            ck_assert(fabs(((const float *)x1.data)[i] - tanh(t)) < 1e-6);
        }
        lrpx_maximize_result_free(r);
    }
    lrpx_session_free(ds);
    lrpx_model_free(dmodel);
    lrpx_session_free(s);
    lrpx_model_free(model);
}
END_TEST

START_TEST(test_errors_library)
{
    lrpx_model   *model;
    lrpx_session *s;
    linear_model(&model, &s);
    struct lrpx_maximize_options o;
    lrpx_maximize_options_default(&o);
    lrpx_maximize_result *r = (void *)1;
    ck_assert_int_eq(lrpx_session_maximize(s, &o, &r), LRPX_EINVAL);   /* no target */
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "target"));
    o.target = 3;
    ck_assert_int_eq(lrpx_session_maximize(s, &o, &r), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "class 3 is out of range"));
    o.target = 0;
    o.step   = -1;
    ck_assert_int_eq(lrpx_session_maximize(s, &o, &r), LRPX_EINVAL);
    o.step = 0.1;
    o.blur_sigma = 1.0;
    ck_assert_int_eq(lrpx_session_maximize(s, &o, &r), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "rank 4"));
    o.blur_sigma = 0.0;
    /* an expert of the wrong size */
    float data[5 * 3];
    for (int i = 0; i < 15; i++)
        data[i] = (float)((i * 7) % 5) + 0.1f * i;
    lrpx_tensor_view dv = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {5, 3}, .n_elems = 15,
                           .data = data};
    lrpx_density    *d;
    ck_assert_int_eq(lrpx_density_fit(&dv, NULL, &d, NULL, 0), LRPX_OK);
    o.expert = d;
    ck_assert_int_eq(lrpx_session_maximize(s, &o, &r), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "the expert models 3 values"));
    lrpx_density_free(d);
    /* density options */
    struct lrpx_density_options dop;
    lrpx_density_options_default(&dop);
    dop.kind       = LRPX_DENSITY_GMM;
    dop.components = 6;
    char err[256];
    ck_assert_int_eq(lrpx_density_fit(&dv, &dop, &d, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(err, "6 components"));
    dv.dims[0] = 1;
    dv.n_elems = 3;
    ck_assert_int_eq(lrpx_density_fit(&dv, NULL, &d, err, sizeof err), LRPX_EINVAL);
    lrpx_session_free(s);
    lrpx_model_free(model);
}
END_TEST

/* ---- the bundled model: ten prototypes three ways ---- */

START_TEST(test_bundled_prototypes)
{
    lrpx_model   *model, *dmodel;
    lrpx_session *s, *ds;
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL,
                                          &model), LRPX_OK);
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_decoder.onnx"), NULL,
                                          &dmodel), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(dmodel, &ds), LRPX_OK);
    lrpx_npy *data = lrpx_test_npy_load(lrpx_test_path("images/fmnist_train500.npy"));
    lrpx_tensor_view dv = view_of(data);
    lrpx_density    *expert;
    char             err[256];
    ck_assert_msg(lrpx_density_fit(&dv, NULL, &expert, err, sizeof err) == LRPX_OK, "%s", err);
    for (int way = 0; way < 3; way++)
        for (int K = 0; K < 10; K++) {
            struct lrpx_maximize_options o;
            lrpx_maximize_options_default(&o);
            o.target   = K;
            o.box_low  = 0.0;
            o.box_high = 1.0;
            if (way == 0) {           /* plain (docs/interpretation.md's settings) */
                o.start_value = 0.0;
                o.lambda      = 0.05;
                o.blur_sigma  = 0.5;
                o.init_sigma  = 0.02;
            } else if (way == 1) {    /* Gaussian expert */
                o.expert        = expert;
                o.lambda        = 0.0;
                o.step          = 0.01;
                o.expert_weight = 0.1;
                o.iters         = 300;
                o.start_value   = 0.0;
                o.init_sigma    = 0.02;
            } else {                  /* code space */
                o.decoder = ds;
                o.lambda  = 0.05;
                o.step    = 0.1;
                o.box_low = o.box_high = NAN;
            }
            lrpx_maximize_result *r;
            ck_assert_msg(lrpx_session_maximize(s, &o, &r) == LRPX_OK, "%s",
                          lrpx_session_errmsg(s));
            lrpx_maximize_step first, last;
            lrpx_maximize_result_step(r, 0, &first);
            lrpx_maximize_result_step(r, lrpx_maximize_result_n_steps(r) - 1, &last);
            ck_assert_msg(last.objective > first.objective, "way %d class %d: J %g -> %g", way,
                          K, first.objective, last.objective);
            lrpx_tensor_view x;
            lrpx_maximize_result_prototype(r, &x);
            ck_assert_int_eq(x.n_elems, 784);
            for (int64_t i = 0; i < 784; i++) {
                float v = ((const float *)x.data)[i];
                ck_assert_msg(v >= 0.0f && v <= 1.0f, "way %d: x[%d] = %g outside [0, 1]", way,
                              (int)i, v);
            }
            /* classified as its class: an independent forward pass */
            lrpx_tensor_view y;
            ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4, x.dims,
                                                    x.data), LRPX_OK);
            ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
            lrpx_session_output(s, 0, &y);
            int arg = 0;
            for (int k = 1; k < 10; k++)
                if (((const float *)y.data)[k] > ((const float *)y.data)[arg])
                    arg = k;
            ck_assert_msg(fabs(((const float *)y.data)[K] - last.logit) < 1e-4, "logit");
            if (way > 0)
                ck_assert_msg(arg == K, "way %d: the prototype of class %d is classified as %d",
                              way, K, arg);
            lrpx_maximize_result_free(r);
        }
    lrpx_density_free(expert);
    lrpx_npy_free(data);
    lrpx_session_free(ds);
    lrpx_model_free(dmodel);
    lrpx_session_free(s);
    lrpx_model_free(model);
}
END_TEST

/* ---- the command line ---- */

static int
run_cli(char *out, size_t os, char *err, size_t es, const char *const *args)
{
    return lrpx_test_run_cli(lrpx_test_scratch(NULL), out, os, err, es, args);
}

START_TEST(test_cli)
{
    static char out[1 << 16], err[4096];
    char        model[4096], dec[4096], data[4096];
    snprintf(model, sizeof model, "%s", lrpx_test_path("models/fmnist_cnn.onnx"));
    snprintf(dec, sizeof dec, "%s", lrpx_test_path("models/fmnist_decoder.onnx"));
    snprintf(data, sizeof data, "gaussian:%s", lrpx_test_path("images/fmnist_train500.npy"));
    char proto[4096], png[4096];
    snprintf(proto, sizeof proto, "%s", lrpx_test_scratch("p.npy"));
    snprintf(png, sizeof png, "%s", lrpx_test_scratch("p.png"));

    /* plain, with the trajectory */
    int rc = run_cli(out, sizeof out, err, sizeof err,
                     (const char *const[]){"prototype", model, "--class", "7", "-o", proto,
                                           "--image", png, "--iters", "20", "--json", NULL});
    ck_assert_msg(rc == 0, "%s", err);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "trajectory")), 21);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "class_name")->valuestring, "Sneaker");
    cJSON_Delete(j);
    lrpx_npy *p = lrpx_test_npy_load(proto);
    ck_assert_int_eq(p->rank, 4);
    ck_assert_int_eq(p->n_elems, 784);
    lrpx_npy_free(p);
    size_t len;
    free(lrpx_test_read_file(png, &len));
    ck_assert(len > 8);

    /* a bad class: found at run time, exit 1 */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "10", "-o", proto, NULL});
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(err, "class 10 is out of range"), "%s", err);
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "-1", "-o", proto, NULL});
    ck_assert_int_eq(rc, 2);
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "-o", proto, NULL});
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "--class"), "%s", err);
    /* a bad expert spec: exit 2; examples that do not fit: exit 1 */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "1", "-o", proto,
                                       "--expert", "gmm:x:foo.npy", NULL});
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "K must be"), "%s", err);
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "1", "-o", proto,
                                       "--expert", "normal:foo.npy", NULL});
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "gaussian:DATA or gmm:K:DATA"), "%s", err);
    /* the expert, 10 steps */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "1", "-o", proto,
                                       "--expert", data, "--iters", "10", "--step", "0.01",
                                       "--quiet", NULL});
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(strstr(out, "(expert)"), "%s", out);
    /* a decoder whose output does not fit: the classifier as "decoder" */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "1", "-o", proto,
                                       "--decoder", model, NULL});
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(err, "does not fit the input"), "%s", err);
    /* the decoder */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "3", "-o", proto,
                                       "--decoder", dec, "--iters", "30", "--json", NULL});
    ck_assert_msg(rc == 0, "%s", err);
    j = cJSON_Parse(out);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "code")), 16);
    cJSON_Delete(j);
    /* the output may not be an input */
    rc = run_cli(out, sizeof out, err, sizeof err,
                 (const char *const[]){"prototype", model, "--class", "3", "-o", model, NULL});
    ck_assert_int_eq(rc, 2);
}
END_TEST

static Suite *
actmax_suite(void)
{
    Suite *s  = suite_create("actmax");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_linear_closed_form);
    tcase_add_test(tc, test_linear_logprob_stationary);
    tcase_add_test(tc, test_gaussian_vs_numpy);
    tcase_add_test(tc, test_ppca_vs_numpy);
    tcase_add_test(tc, test_gmm_vs_sklearn);
    tcase_add_test(tc, test_expert_gradient);
    tcase_add_test(tc, test_decoder_chain_gradient);
    tcase_add_test(tc, test_errors_library);
    suite_add_tcase(s, tc);
    /* the bundled model and the command line */
    tc = tcase_create("bundled");
    tcase_set_timeout(tc, 900);
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_bundled_prototypes);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(actmax_suite());
}
