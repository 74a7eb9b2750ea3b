/* Suite "transformers": AttnLRP and CP-LRP (src/lrp/transformer.c, the
 * patterns of src/graph/patterns.c, LayerNormalization's norm rule).
 *
 *   formulas   each rule on a small in-memory graph with a random output
 *              relevance, against the rule's formula evaluated here in
 *              double (docs/transformers.md): uniform and const-attn on
 *              MatMul, taylor on Softmax, norm on LayerNormalization and on
 *              the same LayerNorm written out node by node (opset 14
 *              export pattern) and on an RMSNorm pattern, pass and taylor on
 *              the exported GELU (Div/Erf/Add/Mul/Mul), on the tanh GELU
 *              (x * x * x, Tanh, ...) and on SiLU
 *   models     lrpx against scripts/transformer_reference.py (float64
 *              PyTorch modified gradients, not lrpx) on the bundled ViT and
 *              BERT models at opsets 14 and 17, both rule sets and the two
 *              epsilon scopes: relative L2 error <= 1e-4 per map
 *   conserve   the bias-free ViT: every node but the Softmax keeps the
 *              relevance it receives (AttnLRP) within 1e-5 of the logit,
 *              the whole map sums to the logit minus what the Softmax
 *              nodes lose, within 1e-5 with epsilon = stabiliser = 0
 *              (1e-4 with the default 1e-6); with ReLU, CP-LRP sums to
 *              the logit
 *   threads    a block large enough that every threaded loop of the
 *              transformer ops and rules splits (written-out LayerNorm,
 *              q.k^T, Softmax, attn.v, exported GELU) gives the same bits
 *              on 1, 2 and 3 threads: the forward output and the input
 *              relevance under attn_lrp and cp_lrp
 *   erf        the float32 Erf against erf in double over [-6, 6] and
 *              special values (within 3 ulp)
 *   errors     no rule for a product or a Softmax under a classic
 *              composite, const-attn without a Softmax operand, rules that
 *              do not fit, a bad stabiliser: a status and a message naming
 *              the node or the option
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"

/* ---- helpers ---- */

static double
stab(double d, double e)
{
    double s = d >= 0 ? d + e : d - e;
    return s != 0 ? s : INFINITY;
}

/* max |a - b| / max |b| */
static double
max_rel(const float *a, const double *b, int64_t n)
{
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        m = fmax(m, fabs(b[i]));
        e = fmax(e, fabs(a[i] - b[i]));
    }
    return m > 0 ? e / m : e;
}

static double
rel_l2(const float *a, const float *b, int64_t n)
{
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        r += (double)b[i] * b[i];
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}

/* Explain with composite comp and a full output relevance seed; fails the
 * test on an error. */
static void
explain_seeded(lrpx_session *s, const char *comp, const float *seed, int64_t n_seed,
               const char *const *rules)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    char err[512] = "";
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, comp, err, sizeof err), LRPX_OK);
    for (int i = 0; rules && rules[i]; i++)
        ck_assert_msg(lrpx_lrp_options_parse_rule(&o, rules[i], err, sizeof err) == LRPX_OK,
                      "%s", err);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = n_seed;
    o.skip_softmax = 0;
    lrpx_status st = lrpx_session_explain(s, &o);
    ck_assert_msg(st == LRPX_OK, "%s", lrpx_session_errmsg(s));
}

static const float *
rel_of(lrpx_session *s, const char *name, int64_t n)
{
    lrpx_tensor_view v;
    ck_assert_msg(lrpx_session_relevance(s, name, &v) == LRPX_OK, "no relevance at %s",
                  name ? name : "the input");
    ck_assert_int_eq(v.n_elems, n);
    return v.data;
}

static const float *
value_of(lrpx_session *s, const char *name, int64_t n)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_value(s, name, &v), LRPX_OK);
    ck_assert_int_eq(v.n_elems, n);
    return v.data;
}

/* ---- products of two computed values ---- */

/* Y = MatMul(A, B), A [1,2,3,4] and B [1,2,4,5] both graph inputs (A made
 * by a Softmax of input S when `softmax_a`). */
static lrpx_test_model *
matmul_model(bool softmax_a)
{
    lrpx_test_model *m = lrpx_test_model_new(14);
    lrpx_test_model_input(m, softmax_a ? "S" : "A", LRPX_DTYPE_FLOAT32, 4,
                          (int64_t[]){1, 2, 3, 4});
    lrpx_test_model_input(m, "B", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 4, 5});
    if (softmax_a)
        lrpx_test_model_node(m, "Softmax", "attn", LT_IO("S"), LT_IO("A"), LT_INT("axis", -1),
                             NULL);
    lrpx_test_model_node(m, "MatMul", "av", LT_IO("A", "B"), LT_IO("Y"), NULL);
    lrpx_test_model_output(m, "Y");
    return m;
}

static lrpx_session *
two_input_session(lrpx_test_model *tm, lrpx_model **model, const char *a_name, const float *a,
                  const float *b)
{
    lrpx_session *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, model), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(*model, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, a_name, LRPX_DTYPE_FLOAT32, 4,
                                            (int64_t[]){1, 2, 3, 4}, a), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, "B", LRPX_DTYPE_FLOAT32, 4,
                                            (int64_t[]){1, 2, 4, 5}, b), LRPX_OK);
    ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    return s;
}

/* z = (A B)[h][i][j] of [1,2,3,4] x [1,2,4,5], and its k-th term */
static double
head_z(const float *a, const float *b, int h, int i, int j)
{
    double z = 0;
    for (int k = 0; k < 4; k++)
        z += (double)a[h * 12 + i * 4 + k] * b[h * 20 + k * 5 + j];
    return z;
}

static double
head_term(const float *a, const float *b, int h, int i, int j, int k)
{
    return (double)a[h * 12 + i * 4 + k] * b[h * 20 + k * 5 + j];
}

START_TEST(test_uniform)
{
    lrpx_test_rng_seed(11);
    float a[24], b[40], r[30];
    lrpx_test_fill(a, 24, -1, 1);
    lrpx_test_fill(b, 40, -1, 1);
    lrpx_test_fill(r, 30, -1, 1);
    lrpx_test_model *tm = matmul_model(false);
    lrpx_model      *m;
    lrpx_session    *s = two_input_session(tm, &m, "A", a, b);
    explain_seeded(s, "attn_lrp", r, 30, NULL);
    /* S = R / stab(Z); R_A = 1/2 A (S B^T), R_B = 1/2 B (A^T S), per head */
    double ra[24] = {0}, rb[40] = {0};
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) {
                double sij = r[h * 15 + i * 5 + j] / stab(head_z(a, b, h, i, j), 1e-6);
                for (int k = 0; k < 4; k++) {
                    ra[h * 12 + i * 4 + k] += 0.5 * head_term(a, b, h, i, j, k) * sij;
                    rb[h * 20 + k * 5 + j] += 0.5 * head_term(a, b, h, i, j, k) * sij;
                }
            }
    double ea = max_rel(rel_of(s, "A", 24), ra, 24), eb = max_rel(rel_of(s, "B", 40), rb, 40);
    ck_assert_msg(ea <= 1e-5 && eb <= 1e-5, "uniform: errors %g %g", ea, eb);
    /* the rule is reported with its stabiliser */
    lrpx_node_relevance nr;
    ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_OK);
    ck_assert_str_eq(nr.rule, "uniform (e 1e-06)");
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

START_TEST(test_const_attn)
{
    lrpx_test_rng_seed(12);
    float sc[24], b[40], r[30];
    lrpx_test_fill(sc, 24, -2, 2);
    lrpx_test_fill(b, 40, -1, 1);
    lrpx_test_fill(r, 30, -1, 1);
    lrpx_test_model *tm = matmul_model(true);
    lrpx_model      *m;
    lrpx_session    *s = two_input_session(tm, &m, "S", sc, b);
    explain_seeded(s, "cp_lrp", r, 30, NULL);
    const float *A = value_of(s, "A", 24);
    /* R_B = B (A^T (R / Z)); nothing reaches the scores */
    double rb[40] = {0};
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                for (int k = 0; k < 4; k++)
                    rb[h * 20 + k * 5 + j] +=
                        head_term(A, b, h, i, j, k) * r[h * 15 + i * 5 + j] / head_z(A, b, h, i, j);
    double e = max_rel(rel_of(s, "B", 40), rb, 40);
    ck_assert_msg(e <= 1e-5, "const-attn: error %g", e);
    const float *rs = rel_of(s, "S", 24);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(rs[i], 0.0f);
    /* a product without a Softmax operand is an error once relevance
     * reaches it */
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
    tm = matmul_model(false);
    s  = two_input_session(tm, &m, "A", sc, b);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "cp_lrp", NULL, 0), LRPX_OK);
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "'av'"));
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "Softmax"));
    /* and so is any product under a classic composite */
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "'av'"));
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "attn_lrp"));
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Softmax ---- */

START_TEST(test_softmax_taylor)
{
    lrpx_test_rng_seed(13);
    float x[24], r[24];
    lrpx_test_fill(x, 24, -3, 3);
    lrpx_test_fill(r, 24, -1, 1);
    lrpx_test_model *tm = lrpx_test_model_new(14);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){1, 4, 6});
    lrpx_test_model_node(tm, "Softmax", "sm", LT_IO("x"), LT_IO("y"), LT_INT("axis", -1), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model   *m;
    lrpx_session *s;
    lrpx_test_run_f32(tm, 3, (int64_t[]){1, 4, 6}, x, &m, &s);
    explain_seeded(s, "attn_lrp", r, 24, NULL);
    double ref[24];
    for (int row = 0; row < 4; row++) {
        double mx = -INFINITY, z = 0, sr = 0, p[6];
        for (int j = 0; j < 6; j++)
            mx = fmax(mx, x[row * 6 + j]);
        for (int j = 0; j < 6; j++)
            z += p[j] = exp(x[row * 6 + j] - mx);
        for (int j = 0; j < 6; j++)
            sr += r[row * 6 + j];
        for (int j = 0; j < 6; j++)
            ref[row * 6 + j] = x[row * 6 + j] * (r[row * 6 + j] - p[j] / z * sr);
    }
    double e = max_rel(rel_of(s, NULL, 24), ref, 24);
    ck_assert_msg(e <= 1e-5, "softmax taylor: error %g", e);
    /* block passes nothing; a classic composite has no rule for it */
    explain_seeded(s, "attn_lrp", r, 24, (const char *const[]){"softmax=block", NULL});
    const float *rz = rel_of(s, NULL, 24);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(rz[i], 0.0f);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.skip_softmax = 0;
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "'sm'"));
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- norms ---- */

enum norm_form { LN_FUSED, LN_WRITTEN, RMS_WRITTEN };

/* y = LayerNorm(x) * gamma + beta over the last axis of [1, 3, 8] (eps
 * 1e-5), as one node (opset 17) or written out as torch exports it at
 * opset 14; or an RMSNorm x / sqrt(mean(x^2) + eps) * gamma. */
static lrpx_test_model *
norm_model(enum norm_form f, const float *gamma, const float *beta)
{
    lrpx_test_model *m = lrpx_test_model_new(f == LN_FUSED ? 17 : 14);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){1, 3, 8});
    lrpx_test_model_init_f32(m, "gamma", 1, (int64_t[]){8}, gamma);
    lrpx_test_model_init_f32(m, "beta", 1, (int64_t[]){8}, beta);
    static const float two = 2.0f, eps = 1e-5f;
    if (f == LN_FUSED) {
        lrpx_test_model_node(m, "LayerNormalization", "ln", LT_IO("x", "gamma", "beta"),
                             LT_IO("y"), LT_INT("axis", -1), LT_FLOAT("epsilon", 1e-5f), NULL);
    } else {
        const char *c = f == LN_WRITTEN ? "d" : "x";
        if (f == LN_WRITTEN) {
            lrpx_test_model_node(m, "ReduceMean", "mean", LT_IO("x"), LT_IO("mu"),
                                 LT_INTS("axes", -1), NULL);
            lrpx_test_model_node(m, "Sub", "sub", LT_IO("x", "mu"), LT_IO("d"), NULL);
        }
        lrpx_test_model_node(m, "Constant", "two", LT_NONE, LT_IO("c2"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &two), NULL);
        lrpx_test_model_node(m, "Pow", "pow", LT_IO(c, "c2"), LT_IO("sq"), NULL);
        lrpx_test_model_node(m, "ReduceMean", "var", LT_IO("sq"), LT_IO("v"),
                             LT_INTS("axes", -1), NULL);
        lrpx_test_model_node(m, "Constant", "eps", LT_NONE, LT_IO("ce"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &eps), NULL);
        lrpx_test_model_node(m, "Add", "add_eps", LT_IO("v", "ce"), LT_IO("ve"), NULL);
        lrpx_test_model_node(m, "Sqrt", "sqrt", LT_IO("ve"), LT_IO("sigma"), NULL);
        lrpx_test_model_node(m, "Div", "div", LT_IO(c, "sigma"), LT_IO("n"), NULL);
        lrpx_test_model_node(m, "Mul", "scale", LT_IO("n", "gamma"), LT_IO("g"), NULL);
        if (f == LN_WRITTEN)
            lrpx_test_model_node(m, "Add", "shift", LT_IO("beta", "g"), LT_IO("y"), NULL);
        else
            lrpx_test_model_node(m, "Identity", "out", LT_IO("g"), LT_IO("y"), NULL);
    }
    lrpx_test_model_output(m, "y");
    return m;
}

/* The norm rule in double: g = gamma R / (sigma stab(y)), R_x = x (g -
 * mean g) (no centring for RMSNorm). */
static void
norm_reference(const float *x, const float *gamma, const float *beta, const float *r, double e,
               bool centre, double *out)
{
    for (int row = 0; row < 3; row++) {
        const float *xr = x + row * 8;
        double       mu = 0, var = 0, g[8], gm = 0;
        for (int k = 0; k < 8; k++)
            mu += xr[k] / 8.0;
        if (!centre)
            mu = 0;
        for (int k = 0; k < 8; k++)
            var += (xr[k] - mu) * (xr[k] - mu) / 8.0;
        double sigma = sqrt(var + 1e-5);
        for (int k = 0; k < 8; k++) {
            double y = (xr[k] - mu) / sigma * gamma[k] + (centre ? beta[k] : 0);
            g[k]     = gamma[k] * r[row * 8 + k] / (sigma * stab(y, e));
            gm += centre ? g[k] / 8.0 : 0;
        }
        for (int k = 0; k < 8; k++)
            out[row * 8 + k] = xr[k] * (g[k] - gm);
    }
}

START_TEST(test_norm)
{
    enum norm_form f = (enum norm_form)_i;
    lrpx_test_rng_seed(14 + (uint64_t)_i);
    float x[24], r[24], gamma[8], beta[8];
    lrpx_test_fill(x, 24, -2, 2);
    lrpx_test_fill(r, 24, -1, 1);
    lrpx_test_fill(gamma, 8, 0.5, 1.5);
    lrpx_test_fill(beta, 8, -0.5, 0.5);
    lrpx_test_model *tm = norm_model(f, gamma, beta);
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_test_run_f32(tm, 3, (int64_t[]){1, 3, 8}, x, &m, &s);
    double ref[24];
    for (int k = 0; k < 3; k++) {
        static const char *const comp[3] = {"attn_lrp", "cp_lrp", "attn_lrp"};
        const double             e[3]    = {1e-6, 0.0, 0.25};
        explain_seeded(s, comp[k], r, 24, NULL);
        if (k == 2) {        /* the stabiliser from the options */
            struct lrpx_lrp_options o;
            lrpx_lrp_options_default(&o);
            strcpy(o.composite, "attn_lrp");
            o.seed         = LRPX_SEED_TENSOR;
            o.seed_data    = r;
            o.seed_n_elems = 24;
            o.stabilizer   = 0.25;
            ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_OK);
        }
        norm_reference(x, gamma, beta, r, e[k], f != RMS_WRITTEN, ref);
        double err = max_rel(rel_of(s, NULL, 24), ref, 24);
        ck_assert_msg(err <= 1e-5, "form %d, %s, e %g: error %g", f, comp[k], e[k], err);
    }
    /* the classic composites pass relevance through, pattern or not */
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = r;
    o.seed_n_elems = 24;
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_OK);
    ck_assert_tensor_near(rel_of(s, NULL, 24), r, 24, 0, 1e-6);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- activations ---- */

/* GELU as torch exports it (kind 0), SiLU x * Sigmoid(x) (1), or the tanh
 * GELU 0.5 x (1 + tanh(0.79788456 (x + 0.044715 x^3))) as torch writes it
 * with x^3 = x * x * x (2), on [1, 2, 6]. */
static lrpx_test_model *
act_model(int kind)
{
    const bool gelu = kind == 0;
    static const float sqrt2 = 1.4142135f, one = 1.0f, half = 0.5f;
    lrpx_test_model   *m = lrpx_test_model_new(14);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){1, 2, 6});
    if (gelu) {
        lrpx_test_model_node(m, "Constant", "c0", LT_NONE, LT_IO("s2"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &sqrt2), NULL);
        lrpx_test_model_node(m, "Constant", "c1", LT_NONE, LT_IO("one"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &one), NULL);
        lrpx_test_model_node(m, "Constant", "c2", LT_NONE, LT_IO("half"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &half), NULL);
        lrpx_test_model_node(m, "Div", "div", LT_IO("x", "s2"), LT_IO("a"), NULL);
        lrpx_test_model_node(m, "Erf", "erf", LT_IO("a"), LT_IO("b"), NULL);
        lrpx_test_model_node(m, "Add", "add", LT_IO("b", "one"), LT_IO("c"), NULL);
        lrpx_test_model_node(m, "Mul", "mul", LT_IO("x", "c"), LT_IO("d"), NULL);
        lrpx_test_model_node(m, "Mul", "mul_half", LT_IO("d", "half"), LT_IO("y"), NULL);
    } else if (kind == 1) {
        lrpx_test_model_node(m, "Sigmoid", "sig", LT_IO("x"), LT_IO("s"), NULL);
        lrpx_test_model_node(m, "Mul", "silu", LT_IO("x", "s"), LT_IO("y"), NULL);
    } else {
        static const float k1 = 0.044715f, k2 = 0.7978845608f;
        lrpx_test_model_node(m, "Constant", "c0", LT_NONE, LT_IO("k1"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &k1), NULL);
        lrpx_test_model_node(m, "Constant", "c1", LT_NONE, LT_IO("k2"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &k2), NULL);
        lrpx_test_model_node(m, "Constant", "c2", LT_NONE, LT_IO("one"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &one), NULL);
        lrpx_test_model_node(m, "Constant", "c3", LT_NONE, LT_IO("half"),
                             LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &half), NULL);
        lrpx_test_model_node(m, "Mul", "sq", LT_IO("x", "x"), LT_IO("x2"), NULL);
        lrpx_test_model_node(m, "Mul", "cube", LT_IO("x2", "x"), LT_IO("x3"), NULL);
        lrpx_test_model_node(m, "Mul", "m1", LT_IO("x3", "k1"), LT_IO("a"), NULL);
        lrpx_test_model_node(m, "Add", "a1", LT_IO("x", "a"), LT_IO("b"), NULL);
        lrpx_test_model_node(m, "Mul", "m2", LT_IO("b", "k2"), LT_IO("c"), NULL);
        lrpx_test_model_node(m, "Tanh", "tanh", LT_IO("c"), LT_IO("d"), NULL);
        lrpx_test_model_node(m, "Add", "a2", LT_IO("d", "one"), LT_IO("e"), NULL);
        lrpx_test_model_node(m, "Mul", "gate", LT_IO("x", "e"), LT_IO("f"), NULL);
        lrpx_test_model_node(m, "Mul", "m3", LT_IO("f", "half"), LT_IO("y"), NULL);
    }
    lrpx_test_model_output(m, "y");
    return m;
}

START_TEST(test_activation)
{
    const bool gelu = _i == 0, tanh_gelu = _i == 2;
    lrpx_test_rng_seed(20 + (uint64_t)_i);
    float x[12], r[12];
    lrpx_test_fill(x, 12, -3, 3);
    lrpx_test_fill(r, 12, -1, 1);
    lrpx_test_model *tm = act_model(_i);
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_test_run_f32(tm, 3, (int64_t[]){1, 2, 6}, x, &m, &s);
    /* AttnLRP: the identity, nothing through the gate */
    explain_seeded(s, "attn_lrp", r, 12, NULL);
    ck_assert_tensor_near(rel_of(s, NULL, 12), r, 12, 1e-6, 1e-7);
    lrpx_node_relevance nr;
    ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_OK);
    ck_assert_str_eq(nr.name, gelu ? "mul_half" : tanh_gelu ? "m3" : "silu");
    ck_assert_str_eq(nr.rule, gelu ? "pass [5]" : tanh_gelu ? "pass [9]" : "pass [2]");
    /* CP-LRP: x f'(x) R / f(x) with the true derivative */
    explain_seeded(s, "cp_lrp", r, 12, NULL);
    double ref[12];
    for (int i = 0; i < 12; i++) {
        double v = x[i], y, d;
        if (gelu) {
            y = 0.5 * v * (1 + erf(v / sqrt(2)));
            d = 0.5 * (1 + erf(v / sqrt(2))) + v * exp(-v * v / 2) / sqrt(2 * M_PI);
        } else if (tanh_gelu) {
            double u = 0.7978845608 * (v + 0.044715 * v * v * v), t = tanh(u);
            y = 0.5 * v * (1 + t);
            d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * 0.7978845608 * (1 + 3 * 0.044715 * v * v);
        } else {
            double sg = 1 / (1 + exp(-v));
            y         = v * sg;
            d         = sg + v * sg * (1 - sg);
        }
        ref[i] = v * d * r[i] / y;
    }
    double e = max_rel(rel_of(s, NULL, 12), ref, 12);
    ck_assert_msg(e <= 1e-5, "activation %d taylor: error %g", _i, e);
    /* a name inside the pattern selects the pattern */
    explain_seeded(s, "attn_lrp", r, 12,
                   (const char *const[]){gelu ? "name:erf=taylor"
                                         : tanh_gelu ? "name:tanh=taylor" : "name:sig=taylor",
                                         NULL});
    ck_assert_double_eq_tol(max_rel(rel_of(s, NULL, 12), ref, 12), 0, 1e-5);
    ck_assert_int_eq(lrpx_session_explained_node(s, 1, &nr), LRPX_OK);
    ck_assert_ptr_nonnull(strstr(nr.rule, "in "));
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- options ---- */

START_TEST(test_options)
{
    struct lrpx_lrp_options o;
    char                    err[512] = "";
    lrpx_lrp_options_default(&o);
    ck_assert(isnan(o.stabilizer));
    /* rules that do not fit the selected ops or kinds */
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "Relu=uniform", err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "products of two computed values"));
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "norm=taylor", err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "first=norm", err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "Relu=block", err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "MatMul=const-attn", err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "LayerNormalization=pass", err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "activation=taylor", err, sizeof err),
                     LRPX_OK);
    /* the stabiliser in a rule file, and a bad one at explain time */
    const char *js = "{\"composite\": \"cp_lrp\", \"stabilizer\": 0.5}";
    ck_assert_int_eq(lrpx_lrp_options_parse_json(&o, js, strlen(js), "t.json", err, sizeof err),
                     LRPX_OK);
    ck_assert_double_eq(o.stabilizer, 0.5);
    ck_assert_str_eq(o.composite, "cp_lrp");
    js = "{\"stabilizer\": -1}";
    ck_assert_int_eq(lrpx_lrp_options_parse_json(&o, js, strlen(js), "t.json", err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "stabilizer"));

    float            x[12] = {0};
    lrpx_test_model *tm    = act_model(1);
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_test_run_f32(tm, 3, (int64_t[]){1, 2, 6}, x, &m, &s);
    lrpx_lrp_options_default(&o);
    o.stabilizer = -1;
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "stabilizer"));
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "name:nope=taylor", err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "nope"));
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- the bundled models ---- */

static lrpx_session *
model_session(const char *model, const char *input, lrpx_model **m)
{
    ck_assert_msg(lrpx_model_load_file(lrpx_test_path(model), NULL, m) == LRPX_OK, "%s: %s",
                  model, lrpx_model_errmsg(*m));
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path(input));
    int64_t   dims[LRPX_MAX_RANK];
    int       rank = x->rank;
    memcpy(dims, x->dims, sizeof dims);
    if (rank == 3 && x->dims[0] == 1 && x->dims[1] == 28) {   /* an image: add the batch */
        memmove(dims + 1, dims, 3 * sizeof dims[0]);
        dims[0] = 1;
        rank    = 4;
    }
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(*m, &s), LRPX_OK);
    ck_assert_msg(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, rank, dims, x->data) ==
                      LRPX_OK, "%s", lrpx_session_errmsg(s));
    lrpx_npy_free(x);
    return s;
}

START_TEST(test_reference_maps)
{
    cJSON *root = lrpx_test_json_load("expected/transformers/index.json");
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(root, "maps");
    ck_assert(cJSON_IsArray(maps));
    int    n_maps = 0;
    double worst  = 0;
    for (const cJSON *e = maps->child; e; e = e->next, n_maps++) {
        const char *file  = cJSON_GetObjectItemCaseSensitive(e, "file")->valuestring;
        const char *model = cJSON_GetObjectItemCaseSensitive(e, "model")->valuestring;
        const char *input = cJSON_GetObjectItemCaseSensitive(e, "input")->valuestring;
        const char *comp  = cJSON_GetObjectItemCaseSensitive(e, "composite")->valuestring;
        const cJSON *rules = cJSON_GetObjectItemCaseSensitive(e, "rules");
        const cJSON *stabj = cJSON_GetObjectItemCaseSensitive(e, "stabilizer");
        int64_t cls_ref = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "class")->valuedouble;

        lrpx_model   *m;
        lrpx_session *s = model_session(model, input, &m);
        struct lrpx_lrp_options o;
        char                    err[512];
        lrpx_lrp_options_default(&o);
        ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, comp, err, sizeof err), LRPX_OK);
        for (const cJSON *r = rules->child; r; r = r->next)
            ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, r->valuestring, err, sizeof err),
                             LRPX_OK);
        if (cJSON_IsNumber(stabj))
            o.stabilizer = stabj->valuedouble;
        ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s: %s", file,
                      lrpx_session_errmsg(s));
        int64_t cls;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, NULL), LRPX_OK);
        ck_assert_int_eq(cls, cls_ref);
        char path[512];
        snprintf(path, sizeof path, "expected/transformers/%s", file);
        lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path(path));
        lrpx_tensor_view rel;
        ck_assert_int_eq(lrpx_session_relevance(s, NULL, &rel), LRPX_OK);
        ck_assert_int_eq(rel.n_elems, ref->n_elems);
        double err2 = rel_l2(rel.data, ref->data, rel.n_elems);
        worst       = fmax(worst, err2);
        printf("reference %-44s relative L2 %.2g\n", file, err2);
        ck_assert_msg(err2 <= 1e-4, "%s: relative L2 error %.3g", file, err2);
        lrpx_npy_free(ref);
        lrpx_session_free(s);
        lrpx_model_free(m);
    }
    printf("transformer references: %d maps, worst relative L2 %.2g\n", n_maps, worst);
    ck_assert_int_ge(n_maps, 40);
    cJSON_Delete(root);
}
END_TEST

/* The bias-free ViT: per node and in total. With epsilon = stabiliser = 0
 * every node but the Softmax conserves exactly (in exact arithmetic); with
 * the default 1e-6 the stabilisers take their small share at each node. */
START_TEST(test_conservation)
{
    static const struct {
        const char *model, *composite;
        bool        exact, softmax_loses;
    } cases[] = {
        {"models/transformers/vit_nobias_op14.onnx", "attn_lrp", true, true},
        {"models/transformers/vit_nobias_op17.onnx", "attn_lrp", true, true},
        {"models/transformers/vit_nobias_op14.onnx", "attn_lrp", false, true},
        {"models/transformers/vit_nobias_op17.onnx", "attn_lrp", false, true},
        {"models/transformers/vit_nobias_relu_op14.onnx", "cp_lrp", true, false},
        {"models/transformers/vit_nobias_relu_op17.onnx", "cp_lrp", true, false},
        {"models/transformers/vit_nobias_relu_op17.onnx", "attn_lrp", true, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lrpx_model   *m;
        lrpx_session *s = model_session(cases[c].model, "images/fmnist_2_trouser.npy", &m);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        strcpy(o.composite, cases[c].composite);
        if (cases[c].exact) {
            o.stabilizer = 0;
            ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "linear=zero", NULL, 0), LRPX_OK);
        }
        ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        double logit, lost = 0, worst = 0;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, NULL, &logit), LRPX_OK);
        int n_softmax = 0;
        for (int i = 0; i < lrpx_session_n_explained(s); i++) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            if (!strcmp(nr.op_type, "Softmax")) {
                lost += nr.r_in - nr.r_out;
                n_softmax++;
                continue;
            }
            worst = fmax(worst, fabs(nr.r_out - nr.r_in) / fabs(logit));
            ck_assert_msg(fabs(nr.r_out - nr.r_in) <= 1e-5 * fabs(logit),
                          "%s, %s: node %s (%s, %s) has in %.9g, out %.9g (logit %.6g)",
                          cases[c].model, cases[c].composite, nr.name, nr.op_type, nr.rule,
                          nr.r_in, nr.r_out, logit);
        }
        lrpx_tensor_view rel;
        ck_assert_int_eq(lrpx_session_relevance(s, NULL, &rel), LRPX_OK);
        double sum = 0;
        for (int64_t i = 0; i < rel.n_elems; i++)
            sum += ((const float *)rel.data)[i];
        double tol = cases[c].exact ? 1e-5 : 1e-4;
        printf("conservation %-46s %-8s %-5s logit %.6f  sum %.6f  softmax loss %.6f  "
               "total %.2g  worst node %.2g\n", cases[c].model, cases[c].composite,
               cases[c].exact ? "e=0" : "e=1e-6", logit, sum, lost,
               fabs(sum - (logit - lost)) / fabs(logit), worst);
        ck_assert_int_eq(n_softmax, 2);
        if (!cases[c].softmax_loses)
            ck_assert_double_eq_tol(lost, 0, 1e-12);
        ck_assert_msg(fabs(sum - (logit - lost)) <= tol * fabs(logit),
                      "%s %s: sum %.9g, logit %.9g, lost at Softmax %.9g", cases[c].model,
                      cases[c].composite, sum, logit, lost);
        lrpx_session_free(s);
        lrpx_model_free(m);
    }
}
END_TEST

/* The exported patterns are found: every LayerNorm (opset 14) and GELU of
 * the ViT heads a pattern of the expected size, and opset 14 and 17 give
 * the same maps. */
START_TEST(test_patterns_in_exports)
{
    int   n_norm[2] = {0}, n_act[2] = {0};
    float first[2][784];
    for (int k = 0; k < 2; k++) {
        lrpx_model   *m;
        lrpx_session *s = model_session(k == 0 ? "models/transformers/vit_cls_op14.onnx"
                                               : "models/transformers/vit_cls_op17.onnx",
                                        "images/fmnist_3_shirt.npy", &m);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        strcpy(o.composite, "attn_lrp");
        ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        for (int i = 0; i < lrpx_session_n_explained(s); i++) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            n_norm[k] += strstr(nr.rule, "norm (e 1e-06)") != NULL;
            n_act[k] += strstr(nr.rule, "pass [5]") != NULL;
            if (k == 0 && strstr(nr.rule, "norm ("))
                ck_assert_str_eq(nr.rule, "norm (e 1e-06) [9]");
        }
        lrpx_tensor_view rel;
        ck_assert_int_eq(lrpx_session_relevance(s, NULL, &rel), LRPX_OK);
        ck_assert_int_eq(rel.n_elems, 784);
        memcpy(first[k], rel.data, sizeof first[k]);
        lrpx_session_free(s);
        lrpx_model_free(m);
    }
    ck_assert_int_eq(n_norm[0], 5);
    ck_assert_int_eq(n_norm[1], 5);
    ck_assert_int_eq(n_act[0], 2);
    ck_assert_int_eq(n_act[1], 2);
    ck_assert_double_le(rel_l2(first[0], first[1], 784), 1e-4);
}
END_TEST

/* ---- thread counts ---- */

/* x [1, T, D] -> written-out LayerNorm -> q, k, v = ln W* -> Softmax(q k^T)
 * -> attn v -> exported GELU (Div, Erf, Add, Mul, Mul) -> y; sizes chosen
 * so the threaded loops (rows of Softmax and of the norm rule, the
 * epsilon division, Erf) split into several ranges. */
enum { TH_T = 160, TH_D = 256 };

static uint64_t th_rng = 88172645463325252ull;

static float
th_rand(void)
{
    th_rng ^= th_rng << 13;
    th_rng ^= th_rng >> 7;
    th_rng ^= th_rng << 17;
    return (float)((double)(th_rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static lrpx_test_model *
block_model(float *w)
{
    lrpx_test_model *m = lrpx_test_model_new(14);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){1, TH_T, TH_D});
    static const float two = 2.0f, eps = 1e-5f, r2 = 1.4142135f, one = 1.0f, half = 0.5f;
    const char *wn[3] = {"Wq", "Wk", "Wv"};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < TH_D * TH_D; i++)
            w[i] = th_rand() * 0.1f;
        lrpx_test_model_init_f32(m, wn[k], 2, (int64_t[]){TH_D, TH_D}, w);
    }
    lrpx_test_model_node(m, "ReduceMean", "mean", LT_IO("x"), LT_IO("mu"), LT_INTS("axes", -1),
                         NULL);
    lrpx_test_model_node(m, "Sub", "sub", LT_IO("x", "mu"), LT_IO("d"), NULL);
    lrpx_test_model_node(m, "Constant", "two", LT_NONE, LT_IO("c2"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &two), NULL);
    lrpx_test_model_node(m, "Pow", "pow", LT_IO("d", "c2"), LT_IO("sq"), NULL);
    lrpx_test_model_node(m, "ReduceMean", "var", LT_IO("sq"), LT_IO("v"), LT_INTS("axes", -1),
                         NULL);
    lrpx_test_model_node(m, "Constant", "eps", LT_NONE, LT_IO("ce"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &eps), NULL);
    lrpx_test_model_node(m, "Add", "add_eps", LT_IO("v", "ce"), LT_IO("ve"), NULL);
    lrpx_test_model_node(m, "Sqrt", "sqrt", LT_IO("ve"), LT_IO("sigma"), NULL);
    lrpx_test_model_node(m, "Div", "div", LT_IO("d", "sigma"), LT_IO("ln"), NULL);
    lrpx_test_model_node(m, "MatMul", "q", LT_IO("ln", "Wq"), LT_IO("Q"), NULL);
    lrpx_test_model_node(m, "MatMul", "k", LT_IO("ln", "Wk"), LT_IO("K"), NULL);
    lrpx_test_model_node(m, "MatMul", "v", LT_IO("ln", "Wv"), LT_IO("V"), NULL);
    lrpx_test_model_node(m, "Transpose", "kt", LT_IO("K"), LT_IO("KT"), LT_INTS("perm", 0, 2, 1),
                         NULL);
    lrpx_test_model_node(m, "MatMul", "qk", LT_IO("Q", "KT"), LT_IO("S"), NULL);
    lrpx_test_model_node(m, "Softmax", "attn", LT_IO("S"), LT_IO("A"), LT_INT("axis", -1), NULL);
    lrpx_test_model_node(m, "MatMul", "av", LT_IO("A", "V"), LT_IO("H"), NULL);
    lrpx_test_model_node(m, "Constant", "r2", LT_NONE, LT_IO("cr2"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &r2), NULL);
    lrpx_test_model_node(m, "Constant", "one", LT_NONE, LT_IO("c1"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &one), NULL);
    lrpx_test_model_node(m, "Constant", "half", LT_NONE, LT_IO("ch"),
                         LT_TENSOR("value", LRPX_DTYPE_FLOAT32, 0, NULL, &half), NULL);
    lrpx_test_model_node(m, "Div", "g_div", LT_IO("H", "cr2"), LT_IO("G1"), NULL);
    lrpx_test_model_node(m, "Erf", "g_erf", LT_IO("G1"), LT_IO("G2"), NULL);
    lrpx_test_model_node(m, "Add", "g_add", LT_IO("G2", "c1"), LT_IO("G3"), NULL);
    lrpx_test_model_node(m, "Mul", "g_mul", LT_IO("H", "G3"), LT_IO("G4"), NULL);
    lrpx_test_model_node(m, "Mul", "g_half", LT_IO("G4", "ch"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    return m;
}

START_TEST(test_threads_identical)
{
    const int64_t n = (int64_t)TH_T * TH_D;
    float *w = malloc(sizeof(float) * TH_D * TH_D), *xin = malloc(sizeof(float) * n);
    float *seed = malloc(sizeof(float) * n), *ref[2] = {malloc(sizeof(float) * n),
                                                       malloc(sizeof(float) * n)};
    float *yref = malloc(sizeof(float) * n);
    ck_assert(w && xin && seed && ref[0] && ref[1] && yref);
    th_rng = 88172645463325252ull;
    lrpx_test_model *tm = block_model(w);
    for (int64_t i = 0; i < n; i++) {
        xin[i]  = th_rand() * 2.0f;
        seed[i] = th_rand();
    }
    lrpx_model *model;
    ck_assert_int_eq(lrpx_test_model_load(tm, &model), LRPX_OK);
    static const char *const comps[2] = {"attn_lrp", "cp_lrp"};
    for (int threads = 1; threads <= 3; threads++) {
        lrpx_session *s;
        ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
        ck_assert_int_eq(lrpx_session_set_threads(s, threads), LRPX_OK);
        ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 3,
                                                (int64_t[]){1, TH_T, TH_D}, xin), LRPX_OK);
        ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        const float *y = value_of(s, "y", n);
        if (threads == 1)
            memcpy(yref, y, sizeof(float) * n);
        else
            ck_assert_msg(memcmp(y, yref, sizeof(float) * n) == 0,
                          "forward output differs on %d threads", threads);
        for (int c = 0; c < 2; c++) {
            explain_seeded(s, comps[c], seed, n, NULL);
            const float *r = rel_of(s, "x", n);
            double       sum = 0;
            for (int64_t i = 0; i < n; i++)
                sum += fabs(r[i]);
            ck_assert_msg(sum > 0 && isfinite(sum), "%s: relevance %g", comps[c], sum);
            if (threads == 1)
                memcpy(ref[c], r, sizeof(float) * n);
            else
                ck_assert_msg(memcmp(r, ref[c], sizeof(float) * n) == 0,
                              "%s: relevance differs on %d threads", comps[c], threads);
        }
        lrpx_session_free(s);
    }
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(w);
    free(xin);
    free(seed);
    free(ref[0]);
    free(ref[1]);
    free(yref);
}
END_TEST

/* ---- Erf ---- */

START_TEST(test_erf_accuracy)
{
    enum { N = 240001 };
    float *xs = malloc(sizeof(float) * (N + 8));
    ck_assert_ptr_nonnull(xs);
    for (int i = 0; i < N; i++)
        xs[i] = -6.0f + 12.0f * (float)i / (float)(N - 1);
    const float special[8] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 0.921875f};
    memcpy(xs + N, special, sizeof special);
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){N + 8});
    lrpx_test_model_node(tm, "Erf", "erf", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model   *model;
    lrpx_session *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, &model), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){N + 8},
                                            xs), LRPX_OK);
    ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    const float *y = value_of(s, "y", N + 8);
    double worst = 0;
    for (int i = 0; i < N + 8; i++) {
        if (isnan(xs[i])) {
            ck_assert(isnan(y[i]));
            continue;
        }
        const double ref = erf((double)xs[i]);
        const float  rf  = (float)ref;
        const double ulp = fabs((double)nextafterf(fabsf(rf), INFINITY) - fabsf(rf));
        const double err = fabs((double)y[i] - ref) / (ulp > 0 ? ulp : 1e-45);
        worst            = fmax(worst, err);
        ck_assert_msg(err <= 3.0, "erf(%.9g): %.9g, expected %.9g (%.2f ulp)", xs[i], y[i], ref,
                      err);
        ck_assert(signbit(y[i]) == signbit(xs[i]));
    }
    printf("erf: worst %.2f ulp over %d points\n", worst, N + 8);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(xs);
}
END_TEST

static Suite *
transformers_suite(void)
{
    Suite *s = suite_create("transformers");
    TCase *t = tcase_create("formulas");
    tcase_add_test(t, test_uniform);
    tcase_add_test(t, test_const_attn);
    tcase_add_test(t, test_softmax_taylor);
    tcase_add_loop_test(t, test_norm, 0, 3);
    tcase_add_loop_test(t, test_activation, 0, 3);
    tcase_add_test(t, test_options);
    tcase_add_test(t, test_erf_accuracy);
    suite_add_tcase(s, t);

    t = tcase_create("threads");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_threads_identical);
    suite_add_tcase(s, t);

    t = tcase_create("models");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_reference_maps);
    tcase_add_test(t, test_conservation);
    tcase_add_test(t, test_patterns_in_exports);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    return lrpx_test_main(transformers_suite());
}
