/* Suite "kernels": the fast paths of the forward pass (docs/performance.md)
 * against independent references.
 *   - Winograd F(2x2, 3x3) convolutions and the packed-weight product
 *     (lrpx__pgemm) against a float64 direct convolution, over shapes that
 *     hit partial tiles, several K blocks, odd sizes, pads 0..2, groups;
 *   - the LRP hooks of Conv (apply, apply_t; Winograd where it fits) with
 *     a weight other than the model's against float64 convolutions and
 *     their adjoints;
 *   - lrpx__pgemm's two tile shapes and thread counts give the same bits;
 *   - depthwise 3x3 / 5x5 convolutions of stride 1 and 2 against float64;
 *   - Conv + Relu / Clip fusion: the Relu / Clip output is exactly the op
 *     applied to the stored Conv output, which stays pre-activation;
 *   - separable MaxPool against a float64 window loop, large planes;
 *   - the vectorised Sigmoid against double precision over a dense sweep;
 *   - the thread pool: every index once, any thread count; a model gives
 *     the same output run after run and (up to rounding in OpenBLAS's
 *     blocks) for 1, 2 and 3 threads;
 *   - the profiling API.
 * Shapes are made with the test model builder; references are computed
 * here from the formulas in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "lrpx_test.h"
#include "core/op.h"
#include "ops/kernels/pgemm_impl.h"
#include "util/parallel.h"

/* ---- helpers ---- */

static uint64_t rng_state = 88172645463325252ull;

static double
rnd(void)   /* uniform [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static float *
rnd_array(int64_t n, double lo, double hi)
{
    float *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * rnd());
    return a;
}

static lrpx_session *
run_model(lrpx_test_model *m, lrpx_model **model, const char *in, int rank,
          const int64_t *dims, const float *x, int threads)
{
    ck_assert_int_eq(lrpx_test_model_load(m, model), LRPX_OK);
    lrpx_session *s = NULL;
    ck_assert_int_eq(lrpx_session_init(*model, &s), LRPX_OK);
    if (threads > 0)
        ck_assert_int_eq(lrpx_session_set_threads(s, threads), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, in, LRPX_DTYPE_FLOAT32, rank, dims, x),
                     LRPX_OK);
    ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    return s;
}

static const float *
value(lrpx_session *s, const char *name, int64_t *n)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_value(s, name, &v), LRPX_OK);
    *n = v.n_elems;
    return v.data;
}

/* ---- convolutions against float64 ---- */

struct conv_case {
    int64_t c, m, h, w, k, s, p, group;
    bool    bias;
};

/* float64 direct convolution; also the sum of |terms| per output, the
 * scale of float32 rounding */
static void
conv_ref(const struct conv_case *cc, const float *x, const float *wt, const float *b,
         int64_t oh, int64_t ow, double *y, double *scale)
{
    const int64_t cg = cc->c / cc->group, mg = cc->m / cc->group;
    for (int64_t o = 0; o < cc->m; o++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                double acc = cc->bias ? b[o] : 0.0, sc = cc->bias ? fabs(b[o]) : 0.0;
                const int64_t g0 = (o / mg) * cg;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t u = 0; u < cc->k; u++)
                        for (int64_t v = 0; v < cc->k; v++) {
                            const int64_t ih = i * cc->s - cc->p + u, iw = j * cc->s - cc->p + v;
                            if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                                continue;
                            const double t = (double)wt[((o * cg + ci) * cc->k + u) * cc->k + v] *
                                             x[((g0 + ci) * cc->h + ih) * cc->w + iw];
                            acc += t;
                            sc += fabs(t);
                        }
                y[(o * oh + i) * ow + j]     = acc;
                scale[(o * oh + i) * ow + j] = sc;
            }
}

static const struct conv_case conv_cases[] = {
    /* Winograd: 3x3 stride 1, >= 16 channels; odd and even sizes, pads */
    {16, 16, 8, 8, 3, 1, 1, 1, true},
    {32, 24, 13, 11, 3, 1, 1, 1, true},
    {24, 40, 9, 14, 3, 1, 0, 1, false},
    {20, 17, 7, 9, 3, 1, 2, 1, true},
    {128, 32, 14, 14, 3, 1, 1, 1, true},     /* packed Winograd weights (K >= 96) */
    {96, 100, 6, 5, 3, 1, 1, 1, true},
    /* packed product: 1x1, im2col, several K blocks, partial tiles */
    {300, 13, 5, 7, 1, 1, 0, 1, true},
    {7, 130, 9, 4, 1, 1, 0, 1, false},
    {64, 10, 12, 12, 3, 1, 1, 1, true},       /* K = 576 > 256 */
    {40, 50, 11, 11, 3, 2, 1, 1, true},
    {3, 16, 23, 23, 7, 2, 3, 1, true},
    {600, 130, 3, 3, 1, 1, 0, 1, true},       /* few columns: the 16 x 6 tiles */
    {16, 12, 9, 9, 3, 1, 1, 2, true},         /* grouped */
    /* depthwise, the vectorised kernels: 3x3 / 5x5, stride 1 / 2 */
    {8, 8, 15, 13, 3, 1, 1, 8, true},
    {8, 8, 16, 17, 3, 2, 1, 8, true},
    {6, 6, 12, 9, 5, 1, 2, 6, true},
    {6, 6, 13, 20, 5, 2, 2, 6, false},
    {5, 5, 7, 7, 3, 1, 0, 5, true},
    {4, 8, 10, 10, 3, 1, 1, 4, true},         /* channel multiplier 2 */
};

START_TEST(test_conv_vs_f64)
{
    const struct conv_case *cc = &conv_cases[_i];
    const int64_t oh = (cc->h + 2 * cc->p - cc->k) / cc->s + 1;
    const int64_t ow = (cc->w + 2 * cc->p - cc->k) / cc->s + 1;
    const int64_t nx = cc->c * cc->h * cc->w, nw = cc->m * (cc->c / cc->group) * cc->k * cc->k;
    float *x = rnd_array(nx, -1.0, 1.0), *wt = rnd_array(nw, -0.5, 0.5);
    float *b = rnd_array(cc->m, -0.2, 0.2);

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, cc->c, cc->h, cc->w});
    lrpx_test_model_init_f32(m, "w", 4, (int64_t[]){cc->m, cc->c / cc->group, cc->k, cc->k}, wt);
    lrpx_test_model_init_f32(m, "b", 1, (int64_t[]){cc->m}, b);
    lrpx_test_model_node(m, "Conv", "conv", cc->bias ? LT_IO("x", "w", "b") : LT_IO("x", "w"),
                         LT_IO("y"), LT_INTS("strides", cc->s, cc->s),
                         LT_INTS("pads", cc->p, cc->p, cc->p, cc->p),
                         LT_INT("group", cc->group), NULL);
    lrpx_test_model_output(m, "y");
    for (int threads = 1; threads <= 3; threads += 2) {
        lrpx_model   *model;
        lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, cc->c, cc->h, cc->w}, x,
                                    threads);
        int64_t      n;
        const float *y   = value(s, "y", &n);
        double      *ref = malloc((size_t)n * sizeof *ref), *sc = malloc((size_t)n * sizeof *sc);
        ck_assert_ptr_nonnull(ref);
        ck_assert_ptr_nonnull(sc);
        ck_assert_int_eq(n, cc->m * oh * ow);
        conv_ref(cc, x, wt, b, oh, ow, ref, sc);
        /* float32 rounding of the sum and of the transforms: a few ulps of
         * the largest terms, far below a wrong tap (>= 1e-3 here) */
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(fabs(y[i] - ref[i]) <= 2e-6 * sc[i] + 1e-6,
                          "case %d (%d threads): y[%lld] = %.9g, float64 %.9g (terms %.3g)",
                          _i, threads, (long long)i, y[i], ref[i], sc[i]);
        free(ref);
        free(sc);
        lrpx_session_free(s);
        lrpx_model_free(model);
    }
    lrpx_test_model_free(m);
    free(x);
    free(wt);
    free(b);
}
END_TEST

/* ---- the LRP hooks of Conv with a substitute weight ---- */

START_TEST(test_conv_lrp_hooks_vs_f64)
{
    struct conv_case cc = conv_cases[_i];
    cc.bias = false;
    const int64_t oh = (cc.h + 2 * cc.p - cc.k) / cc.s + 1;
    const int64_t ow = (cc.w + 2 * cc.p - cc.k) / cc.s + 1;
    const int64_t cg = cc.c / cc.group, mg = cc.m / cc.group;
    const int64_t nx = cc.c * cc.h * cc.w, ny = cc.m * oh * ow, nw = cc.m * cg * cc.k * cc.k;
    float *x = rnd_array(nx, -1.0, 1.0), *wt = rnd_array(nw, -0.5, 0.5);
    float *w2 = rnd_array(nw, -0.2, 0.7), *gout = rnd_array(ny, -1.0, 1.0);
    float *y = malloc((size_t)ny * sizeof *y), *gin = malloc((size_t)nx * sizeof *gin);
    double *ref = malloc((size_t)(nx > ny ? nx : ny) * sizeof *ref);
    double *sc  = malloc((size_t)(nx > ny ? nx : ny) * sizeof *sc);
    ck_assert(y && gin && ref && sc);

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, cc.c, cc.h, cc.w});
    lrpx_test_model_init_f32(m, "w", 4, (int64_t[]){cc.m, cg, cc.k, cc.k}, wt);
    lrpx_test_model_node(m, "Conv", "conv", LT_IO("x", "w"), LT_IO("y"),
                         LT_INTS("strides", cc.s, cc.s),
                         LT_INTS("pads", cc.p, cc.p, cc.p, cc.p), LT_INT("group", cc.group),
                         NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model;
    lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, cc.c, cc.h, cc.w}, x, 2);
    struct lrpx_exec       *ex = &s->plan.x;
    const struct lrpx_node *n  = NULL;
    for (int i = 0; i < ex->g->n_nodes; i++)
        if (strcmp(ex->g->nodes[i].op_type, "Conv") == 0)
            n = &ex->g->nodes[i];
    ck_assert_ptr_nonnull(n);
    const struct lrpx_linear_def *L = n->def->linear;
    ck_assert_uint_le(L->scratch_bytes(ex, n), ex->scratch_size);

    /* apply: conv(x; w2), no bias */
    for (int64_t i = 0; i < ny; i++)
        y[i] = 1e3f;
    L->apply(ex, n, x, w2, y, ex->scratch);
    conv_ref(&cc, x, w2, NULL, oh, ow, ref, sc);
    for (int64_t i = 0; i < ny; i++)
        ck_assert_msg(fabs(y[i] - ref[i]) <= 2e-6 * sc[i] + 1e-6,
                      "case %d: apply y[%lld] = %.9g, float64 %.9g", _i, (long long)i, y[i],
                      ref[i]);

    /* apply_t: the adjoint, gin[c, ih, iw] = sum w2[o, c, u, v] gout[o, i, j]
     * over the taps with ih = i s - p + u, iw = j s - p + v */
    for (int64_t i = 0; i < nx; i++) {
        gin[i] = -1e3f;
        ref[i] = 0.0;
        sc[i]  = 0.0;
    }
    L->apply_t(ex, n, gout, w2, gin, ex->scratch);
    for (int64_t o = 0; o < cc.m; o++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++)
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t u = 0; u < cc.k; u++)
                        for (int64_t v = 0; v < cc.k; v++) {
                            const int64_t ih = i * cc.s - cc.p + u, iw = j * cc.s - cc.p + v;
                            if (ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w)
                                continue;
                            const int64_t c = (o / mg) * cg + ci;
                            const double  t = (double)w2[((o * cg + ci) * cc.k + u) * cc.k + v] *
                                             gout[(o * oh + i) * ow + j];
                            ref[(c * cc.h + ih) * cc.w + iw] += t;
                            sc[(c * cc.h + ih) * cc.w + iw] += fabs(t);
                        }
    for (int64_t i = 0; i < nx; i++)
        ck_assert_msg(fabs(gin[i] - ref[i]) <= 2e-6 * sc[i] + 1e-6,
                      "case %d: apply_t gin[%lld] = %.9g, float64 %.9g", _i, (long long)i,
                      gin[i], ref[i]);

    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    free(x), free(wt), free(w2), free(gout), free(y), free(gin), free(ref), free(sc);
}
END_TEST

/* ---- the packed product itself ---- */

START_TEST(test_pgemm_bits)
{
    if (!lrpx__pgemm_available())
        return;                                 /* the kernels need AVX2 + FMA */
    static const int64_t shapes[][3] = {{2, 100, 576}, {7, 37, 300}, {13, 33, 513},
                                        {130, 49, 700}, {96, 7, 30}, {1, 1, 1}, {6, 16, 256},
                                        {25, 96, 40}, {12, 64, 257}, {19, 70, 9}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int64_t m = shapes[t][0], n = shapes[t][1], k = shapes[t][2];
        const int64_t ldb = n + 3, ldc = n + 5;
        float *a = rnd_array(m * k, -1, 1), *b = rnd_array(k * ldb, -1, 1);
        float *bias = rnd_array(m, -1, 1);
        float *pr = malloc(lrpx__pgemm_packed_floats(m, k) * sizeof(float));
        float *pc = malloc(lrpx__pgemm_packed_floats(m, k) * sizeof(float));
        float *c1 = calloc((size_t)(m * ldc), sizeof(float));
        float *c2 = calloc((size_t)(m * ldc), sizeof(float));
        float *a1 = calloc((size_t)(m * ldc), sizeof(float));
        ck_assert(pr && pc && c1 && c2 && a1);
        lrpx__pgemm_pack(a, k, m, k, 0, pr);           /* 6 x 16 tiles */
        lrpx__pgemm_pack(a, k, m, k, 1, pc);           /* few columns: 16 x 6 if m allows */
        float *c3 = calloc((size_t)(m * ldc), sizeof(float));
        ck_assert(c3);
        struct lrpx_pool *pool = lrpx__pool_init(3);
        struct lrpx_act   act  = {LRPX_ACT_CLIP, -0.5f, 0.75f, a1};
        lrpx__pgemm(NULL, m, n, k, pr, b, ldb, bias, c1, ldc, NULL);
        lrpx__pgemm(pool, m, n, k, pc, b, ldb, bias, c2, ldc, &act);
        /* the AVX2 tiles where the CPU has AVX-512: the same bits */
        lrpx__cpu_hide(LRPX_CPU_AVX512F);
        lrpx__pgemm(pool, m, n, k, pr, b, ldb, bias, c3, ldc, NULL);
        lrpx__cpu_hide(0);
        ck_assert_msg(memcmp(c1, c3, (size_t)(m * ldc) * sizeof(float)) == 0,
                      "shape %zu: AVX2 and AVX-512 tiles differ", t);
        free(c3);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double ref = bias[i], sc = fabs(bias[i]);
                for (int64_t q = 0; q < k; q++) {
                    ref += (double)a[i * k + q] * b[q * ldb + j];
                    sc += fabs((double)a[i * k + q] * b[q * ldb + j]);
                }
                const float z = c1[i * ldc + j];
                ck_assert_msg(z == c2[i * ldc + j], "shape %zu: tile shapes / threads differ", t);
                ck_assert_msg(fabs(z - ref) <= 2e-6 * sc + 1e-7, "shape %zu [%lld,%lld]: %g vs %g",
                              t, (long long)i, (long long)j, z, ref);
                const float want = z < -0.5f ? -0.5f : z > 0.75f ? 0.75f : z;
                ck_assert(a1[i * ldc + j] == want);
            }
        lrpx__pool_free(pool);
        free(a), free(b), free(bias), free(pr), free(pc), free(c1), free(c2), free(a1);
    }
}
END_TEST

/* ---- Conv + activation fusion ---- */

START_TEST(test_fused_activation)
{
    /* _i: 0 Relu (1x1, packed product), 1 Clip (depthwise), 2 Relu
     * (Winograd), 3 Clip with attributes (opset 6), 4 Relu also read by a
     * second consumer of the Conv */
    static const struct { int64_t c, m, k, group; int opset; bool clip, second; } cs[] = {
        {8, 12, 1, 1, 13, false, false},
        {16, 16, 3, 16, 13, true, false},
        {32, 32, 3, 1, 13, false, false},
        {8, 12, 3, 1, 6, true, false},
        {8, 12, 1, 1, 13, false, true},
    };
    const int64_t H = 9, W = 11;
    const int64_t c = cs[_i].c, mo = cs[_i].m, k = cs[_i].k, grp = cs[_i].group;
    float *x  = rnd_array(c * H * W, -1, 1);
    float *wt = rnd_array(mo * (c / grp) * k * k, -0.5, 0.5);
    lrpx_test_model *m = lrpx_test_model_new(cs[_i].opset);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, c, H, W});
    lrpx_test_model_init_f32(m, "w", 4, (int64_t[]){mo, c / grp, k, k}, wt);
    lrpx_test_model_node(m, "Conv", "conv", LT_IO("x", "w"), LT_IO("z"),
                         LT_INTS("pads", k / 2, k / 2, k / 2, k / 2), LT_INT("group", grp), NULL);
    const float lo = -0.25f, hi = 0.3f;
    if (!cs[_i].clip) {
        lrpx_test_model_node(m, "Relu", "act", LT_IO("z"), LT_IO("a"), NULL);
    } else if (cs[_i].opset >= 11) {
        lrpx_test_model_init_f32(m, "lo", 0, NULL, &lo);
        lrpx_test_model_init_f32(m, "hi", 0, NULL, &hi);
        lrpx_test_model_node(m, "Clip", "act", LT_IO("z", "lo", "hi"), LT_IO("a"), NULL);
    } else {
        lrpx_test_model_node(m, "Clip", "act", LT_IO("z"), LT_IO("a"), LT_FLOAT("min", lo),
                             LT_FLOAT("max", hi), NULL);
    }
    if (cs[_i].second) {
        lrpx_test_model_node(m, "Neg", "neg", LT_IO("z"), LT_IO("n"), NULL);
        lrpx_test_model_output(m, "n");
    }
    lrpx_test_model_output(m, "a");
    lrpx_model   *model;
    lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, c, H, W}, x, 2);
    int64_t       nz, na;
    const float  *z = value(s, "z", &nz), *a = value(s, "a", &na);
    ck_assert_int_eq(nz, na);
    bool any_neg = false;
    for (int64_t i = 0; i < nz; i++) {
        float want;
        if (!cs[_i].clip) {
            want = z[i] > 0.0f ? z[i] : 0.0f;
        } else {
            const float l = z[i] < lo ? lo : z[i];
            want          = l > hi ? hi : l;
        }
        ck_assert_msg(a[i] == want, "a[%lld] = %g, act(z) = %g", (long long)i, a[i], want);
        any_neg = any_neg || z[i] < lo;
    }
    ck_assert_msg(any_neg, "the Conv output must stay pre-activation");
    if (cs[_i].second) {
        int64_t      nn;
        const float *ng = value(s, "n", &nn);
        for (int64_t i = 0; i < nn; i++)
            ck_assert(ng[i] == -z[i]);
    }
    /* the LRP pass still visits the activation node */
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "epsilon", NULL, 0), LRPX_OK);
    ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    free(x);
    free(wt);
}
END_TEST

/* ---- MaxPool on planes large enough for the separable path ---- */

START_TEST(test_maxpool_separable)
{
    static const struct { int64_t h, w, kh, kw, s, p, ceil; } cs[] = {
        {20, 23, 3, 3, 1, 1, 0}, {21, 18, 3, 3, 2, 0, 1}, {17, 17, 2, 2, 2, 0, 1},
        {30, 25, 5, 4, 3, 2, 0}, {9, 40, 3, 5, 1, 2, 1},
    };
    const int64_t C = 3;
    const int64_t h = cs[_i].h, w = cs[_i].w, kh = cs[_i].kh, kw = cs[_i].kw;
    const int64_t st = cs[_i].s, p = cs[_i].p;
    float *x = rnd_array(C * h * w, -2, 2);
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, C, h, w});
    lrpx_test_model_node(m, "MaxPool", "mp", LT_IO("x"), LT_IO("y"), LT_INTS("kernel_shape", kh, kw),
                         LT_INTS("strides", st, st), LT_INTS("pads", p, p, p, p),
                         LT_INT("ceil_mode", cs[_i].ceil), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model;
    lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, C, h, w}, x, 2);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_value(s, "y", &v), LRPX_OK);
    const int64_t oh = v.dims[2], ow = v.dims[3];
    const float  *y  = v.data;
    for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                double best = -INFINITY;
                for (int64_t u = 0; u < kh; u++)
                    for (int64_t t = 0; t < kw; t++) {
                        const int64_t ih = i * st - p + u, iw = j * st - p + t;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                            best = fmax(best, x[(c * h + ih) * w + iw]);
                    }
                ck_assert_msg(y[(c * oh + i) * ow + j] == (float)best, "case %d (%lld,%lld,%lld)",
                              _i, (long long)c, (long long)i, (long long)j);
            }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    free(x);
}
END_TEST

/* ---- Sigmoid accuracy ---- */

START_TEST(test_sigmoid_sweep)
{
    /* dense steps over [-100, 100], then exact points and the extremes */
    enum { N = 400001 };
    float *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < N; i++)
        x[i] = (float)(-100.0 + 200.0 * i / (N - 1));
    x[0] = -1000.0f, x[1] = 1000.0f, x[2] = -0.0f, x[3] = 0.0f, x[4] = -86.9f, x[5] = 17.5f;
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){N});
    lrpx_test_model_node(m, "Sigmoid", "sg", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model;
    lrpx_session *s = run_model(m, &model, "x", 1, (int64_t[]){N}, x, 2);
    int64_t       n;
    const float  *y = value(s, "y", &n);
    for (int i = 0; i < N; i++) {
        const double ref = 1.0 / (1.0 + exp(-(double)x[i]));
        /* within 3e-7 relative (a few ulps) where the result is normal */
        if (ref > 1e-37)
            ck_assert_msg(fabs(y[i] - ref) <= 3e-7 * ref, "sigmoid(%.9g) = %.9g, want %.9g",
                          x[i], y[i], ref);
        else   /* near underflow: below the smallest normal, absolutely */
            ck_assert_msg(y[i] >= 0.0f && fabs(y[i] - ref) <= 1.2e-38,
                          "sigmoid(%.9g) = %.9g, want %.9g", x[i], y[i], ref);
    }
    ck_assert(y[0] == 0.0f && y[1] == 1.0f && y[2] == 0.5f && y[3] == 0.5f);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    free(x);
}
END_TEST

/* ---- threads ---- */

struct count_ctx {
    int *hits;
};

static void
count_range(void *ctx, int64_t b, int64_t e)
{
    struct count_ctx *c = ctx;
    for (int64_t i = b; i < e; i++)
        c->hits[i]++;          /* ranges are disjoint: no race */
}

START_TEST(test_pool_ranges)
{
    for (int t = 1; t <= 5; t++) {
        struct lrpx_pool *pool = lrpx__pool_init(t);
        ck_assert_int_eq(lrpx__pool_threads(pool), t > 1 ? t : 1);
        static const int64_t ns[] = {0, 1, 2, 3, 7, 64, 1000};
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
            for (int64_t grain = 1; grain <= 9; grain += 4)
                for (int rep = 0; rep < 20; rep++) {
                    int hits[1000] = {0};
                    struct count_ctx c = {hits};
                    lrpx__parallel_for(pool, ns[k], grain, count_range, &c);
                    for (int64_t i = 0; i < ns[k]; i++)
                        ck_assert_int_eq(hits[i], 1);
                }
        lrpx__pool_free(pool);
    }
}
END_TEST

/* A small network through every fast path: the same bits run after run;
 * across thread counts the same up to rounding (Gemm's blocks go to
 * OpenBLAS, whose kernels may round a split differently). */
START_TEST(test_threads_deterministic)
{
    float *x  = rnd_array(16 * 12 * 12, -1, 1);
    float *w1 = rnd_array(32 * 16 * 9, -0.2, 0.2), *w2 = rnd_array(32 * 9, -0.3, 0.3);
    float *w3 = rnd_array(24 * 32, -0.2, 0.2), *wg = rnd_array(10 * 24 * 36, -0.1, 0.1);
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 16, 12, 12});
    lrpx_test_model_init_f32(m, "w1", 4, (int64_t[]){32, 16, 3, 3}, w1);
    lrpx_test_model_init_f32(m, "w2", 4, (int64_t[]){32, 1, 3, 3}, w2);
    lrpx_test_model_init_f32(m, "w3", 4, (int64_t[]){24, 32, 1, 1}, w3);
    lrpx_test_model_init_f32(m, "wg", 2, (int64_t[]){10, 24 * 36}, wg);
    lrpx_test_model_node(m, "Conv", "c1", LT_IO("x", "w1"), LT_IO("z1"), LT_INTS("pads", 1, 1, 1, 1), NULL);
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("z1"), LT_IO("a1"), NULL);
    lrpx_test_model_node(m, "Conv", "c2", LT_IO("a1", "w2"), LT_IO("z2"), LT_INTS("pads", 1, 1, 1, 1),
                         LT_INT("group", 32), NULL);
    lrpx_test_model_node(m, "Sigmoid", "sg", LT_IO("z2"), LT_IO("s2"), NULL);
    lrpx_test_model_node(m, "Mul", "mu", LT_IO("z2", "s2"), LT_IO("a2"), NULL);
    lrpx_test_model_node(m, "Conv", "c3", LT_IO("a2", "w3"), LT_IO("z3"), NULL);
    lrpx_test_model_node(m, "MaxPool", "mp", LT_IO("z3"), LT_IO("p3"), LT_INTS("kernel_shape", 2, 2),
                         LT_INTS("strides", 2, 2), NULL);
    lrpx_test_model_node(m, "Flatten", "fl", LT_IO("p3"), LT_IO("f"), NULL);
    lrpx_test_model_node(m, "Gemm", "fc", LT_IO("f", "wg"), LT_IO("y"), LT_INT("transB", 1), NULL);
    lrpx_test_model_output(m, "y");
    float first[3][10];
    for (int t = 1; t <= 3; t++) {
        lrpx_model   *model;
        lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, 16, 12, 12}, x, t);
        for (int rep = 0; rep < 3; rep++) {
            ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
            int64_t      n;
            const float *y = value(s, "y", &n);
            ck_assert_int_eq(n, 10);
            if (rep == 0)
                memcpy(first[t - 1], y, sizeof first[0]);
            else
                ck_assert_msg(memcmp(first[t - 1], y, sizeof first[0]) == 0,
                              "%d threads: run %d differs from run 0", t, rep);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
    }
    ck_assert_tensor_near(first[1], first[0], 10, 1e-6, 1e-7);
    ck_assert_tensor_near(first[2], first[0], 10, 1e-6, 1e-7);
    lrpx_test_model_free(m);
    free(x), free(w1), free(w2), free(w3), free(wg);
}
END_TEST

/* ---- profiling ---- */

START_TEST(test_profile)
{
    float *x = rnd_array(4 * 6 * 6, -1, 1), *w = rnd_array(4 * 4 * 9, -1, 1);
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 6, 6});
    lrpx_test_model_init_f32(m, "w", 4, (int64_t[]){4, 4, 3, 3}, w);
    lrpx_test_model_node(m, "Conv", "c", LT_IO("x", "w"), LT_IO("z"), NULL);
    lrpx_test_model_node(m, "Sigmoid", "s", LT_IO("z"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    for (int on = 0; on <= 1; on++) {
        if (on)
            setenv("LRPX_PROFILE", "1", 1);
        else
            unsetenv("LRPX_PROFILE");
        lrpx_model   *model;
        lrpx_session *s = run_model(m, &model, "x", 4, (int64_t[]){1, 4, 6, 6}, x, 1);
        ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
        lrpx_profile_entry e[4];
        int n_types = lrpx_session_profile(s, 0, e, 4);
        if (!on) {
            ck_assert_int_eq(n_types, 0);
        } else {
            ck_assert_int_eq(n_types, 2);
            for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(e[i].n_calls, 2);
                ck_assert(e[i].total_ms >= 0.0);
                ck_assert(!strcmp(e[i].op_type, "Conv") || !strcmp(e[i].op_type, "Sigmoid"));
            }
            ck_assert_int_eq(lrpx_session_profile(s, 1, e, 1), 2);   /* counts all */
            ck_assert_str_eq(e[0].name, "c");
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
    }
    unsetenv("LRPX_PROFILE");
    lrpx_test_model_free(m);
    free(x);
    free(w);
}
END_TEST

static Suite *
kernels_suite(void)
{
    Suite *s  = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_conv_vs_f64, 0,
                        (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_loop_test(tc, test_conv_lrp_hooks_vs_f64, 0,
                        (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_test(tc, test_pgemm_bits);
    tcase_add_loop_test(tc, test_fused_activation, 0, 5);
    tcase_add_loop_test(tc, test_maxpool_separable, 0, 5);
    tcase_add_test(tc, test_sigmoid_sweep);
    tcase_add_test(tc, test_pool_ranges);
    tcase_add_test(tc, test_threads_deterministic);
    tcase_add_test(tc, test_profile);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(kernels_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
