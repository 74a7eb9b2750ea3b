/* The paper's tricks (src/lrp/tricks.c): translation averaging, sliding
 * windows, z^B bounds from an image preset.
 *
 * References are computed here in float64 from the formulas, independently
 * of lrpx's rule kernels:
 *   - a bias-free Conv with positive weights on a positive input, seeded
 *     with ones at every output: LRP-0 gives R_i = x_i sum_j w_ij / z_j,
 *     which the test evaluates for every shifted input itself;
 *   - Flatten + Gemm (no bias, positive weights): LRP-0 of class c gives
 *     R_p = x_p W[p][c], so the stitched map of a sliding window is known
 *     pixel by pixel (windows, overlaps and counts enumerated in the test).
 * The plain explanation of the trained bundled model is the reference for
 * the degenerate cases (K = 0, one window).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

/* ---- helpers ---- */

static float *
xalloc(int64_t n)
{
    float *p = calloc((size_t)(n ? n : 1), sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void
lrp0(struct lrpx_lrp_options *o)
{
    lrpx_lrp_options_default(o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(o, "lrp0", NULL, 0), LRPX_OK);
}

/* The plain relevance of x (copied to out). */
static void
plain_relevance(lrpx_session *s, const lrpx_tensor_view *x, const struct lrpx_lrp_options *o,
                float *out)
{
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, x->rank, x->dims,
                                            x->data), LRPX_OK);
    ck_assert_msg(lrpx_session_explain(s, o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    lrpx_tensor_view r;
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &r), LRPX_OK);
    ck_assert_int_eq(r.n_elems, x->n_elems);
    memcpy(out, r.data, (size_t)r.n_elems * sizeof(float));
}

static lrpx_tensor_view
view4(const float *data, int64_t n, int64_t c, int64_t h, int64_t w)
{
    lrpx_tensor_view v = {0};
    v.dtype            = LRPX_DTYPE_FLOAT32;
    v.rank             = 4;
    v.dims[0]          = n;
    v.dims[1]          = c;
    v.dims[2]          = h;
    v.dims[3]          = w;
    v.n_elems          = n * c * h * w;
    v.data             = data;
    return v;
}

/* ---- the bundled model: degenerate cases equal the plain explanation ---- */

static void
load_fmnist(lrpx_model **m, lrpx_session **s)
{
    ck_assert_int_eq(lrpx_model_load_file(lrpx_test_path("models/fmnist_cnn.onnx"), NULL, m),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(*m, s), LRPX_OK);
}

/* The bundled model, a session on it, and a test array (freed by the caller). */
static lrpx_npy *
fmnist_and(const char *npy, lrpx_model **m, lrpx_session **s)
{
    load_fmnist(m, s);
    return lrpx_test_npy_load(lrpx_test_path(npy));
}

START_TEST(test_translate_k0_is_plain)
{
    lrpx_model   *m;
    lrpx_session *s;
    load_fmnist(&m, &s);
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    ck_assert_int_eq(x->rank, 4);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);            /* epsilon_plus, predicted class */
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.translate = 0;

    /* one sample: bit for bit the plain pass */
    lrpx_tensor_view one = view4(x->data, 1, 1, 28, 28);
    float *plain = xalloc(one.n_elems), *tr = xalloc(one.n_elems);
    plain_relevance(s, &one, &o, plain);
    ck_assert_msg(lrpx_session_explain_translated(s, &one, &o, &to, tr) == LRPX_OK, "%s",
                  lrpx_session_errmsg(s));
    ck_assert_tensor_near(tr, plain, one.n_elems, 0.0, 0.0);
    free(plain);
    free(tr);

    /* a batch of 8 (each sample its own class), every method */
    lrpx_tensor_view all = view4(x->data, 8, 1, 28, 28);
    plain = xalloc(all.n_elems);
    tr    = xalloc(all.n_elems);
    plain_relevance(s, &all, &o, plain);
    int64_t cls[8];
    for (int b = 0; b < 8; b++)
        ck_assert_int_eq(lrpx_session_explained_output(s, b, &cls[b], NULL), LRPX_OK);
    ck_assert_int_eq(lrpx_session_explain_translated(s, &all, &o, &to, tr), LRPX_OK);
    /* a batch-1 pass may sum in another order than the batch of 8 */
    ck_assert_tensor_near(tr, plain, all.n_elems, 1e-4, 1e-6);
    /* afterwards the session holds the plain pass over the batch */
    for (int b = 0; b < 8; b++) {
        int64_t c;
        ck_assert_int_eq(lrpx_session_explained_output(s, b, &c, NULL), LRPX_OK);
        ck_assert_int_eq(c, cls[b]);
    }

    /* gradient x input, K = 0 */
    to.method = LRPX_ATTR_GRADIENT_X_INPUT;
    ck_assert_int_eq(lrpx_session_explain_translated(s, &all, &o, &to, tr), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4, all.dims, all.data),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_gradient(s, &o), LRPX_OK);
    lrpx_tensor_view g;
    ck_assert_int_eq(lrpx_session_gradient_of(s, NULL, &g), LRPX_OK);
    for (int64_t i = 0; i < all.n_elems; i++)
        plain[i] = ((const float *)g.data)[i] * ((const float *)x->data)[i];
    ck_assert_tensor_near(tr, plain, all.n_elems, 1e-4, 1e-6);

    free(plain);
    free(tr);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* lrpx_session_set_progress: one call per pass, in order, with the total
 * known from the first; none once turned off. */
struct progress_log {
    int     n_calls;
    int64_t last_done, total;
    bool    in_order;
};

static void
log_progress(void *user, int64_t done, int64_t total)
{
    struct progress_log *p = user;
    p->in_order = p->in_order && done == p->last_done + 1 && (p->n_calls == 0 || total == p->total);
    p->n_calls++;
    p->last_done = done;
    p->total     = total;
}

START_TEST(test_progress_per_pass)
{
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_npy        *x  = fmnist_and("images/fmnist_batch8.npy", &m, &s);
    lrpx_tensor_view xv = view4(x->data, 2, 1, 28, 28);
    float *out = xalloc(xv.n_elems);
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    struct progress_log log = {.in_order = true};
    lrpx_session_set_progress(s, log_progress, &log);

    to.translate = 1;                              /* 2 images x 9 shifts */
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, out), LRPX_OK);
    ck_assert_int_eq(log.n_calls, 18);
    ck_assert_int_eq(log.total, 18);
    ck_assert_int_eq(log.last_done, 18);
    ck_assert(log.in_order);

    /* 2 images of 36 x 36 (the model's 28 x 28 window), 3 x 3 windows */
    float *big = xalloc(2 * 36 * 36), *bout = xalloc(2 * 36 * 36);
    for (int b = 0; b < 2; b++)
        for (int y = 0; y < 28; y++)
            memcpy(big + (b * 36 + y + 4) * 36 + 4, (const float *)x->data + (b * 28 + y) * 28,
                   28 * sizeof(float));
    lrpx_tensor_view bv = view4(big, 2, 1, 36, 36);
    log = (struct progress_log){.in_order = true};
    to.translate     = 0;
    to.window_width  = to.window_height = 28;
    to.stride_x      = to.stride_y = 4;
    ck_assert_msg(lrpx_session_explain_windows(s, &bv, NULL, &to, bout) == LRPX_OK, "%s",
                  lrpx_session_errmsg(s));
    ck_assert_int_eq(log.total, 2 * 3 * 3);
    ck_assert_int_eq(log.n_calls, 18);
    ck_assert(log.in_order);

    lrpx_session_set_progress(s, NULL, NULL);      /* off */
    log = (struct progress_log){.in_order = true};
    ck_assert_int_eq(lrpx_session_explain_windows(s, &bv, NULL, &to, bout), LRPX_OK);
    ck_assert_int_eq(log.n_calls, 0);
    lrpx_session_set_progress(NULL, log_progress, &log);   /* NULL session: no-op */

    free(big);
    free(bout);
    free(out);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

START_TEST(test_window_one_is_plain)
{
    lrpx_model   *m;
    lrpx_session *s;
    load_fmnist(&m, &s);
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_1_pullover.npy"));
    lrpx_tensor_view one = view4(x->data, 1, 1, 28, 28);
    float *plain = xalloc(one.n_elems), *wm = xalloc(one.n_elems);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "epsilon_alpha2_beta1_flat", NULL, 0),
                     LRPX_OK);
    plain_relevance(s, &one, &o, plain);
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.window_width = to.window_height = 28;
    to.stride_x = to.stride_y = 5;
    ck_assert_int_eq(lrpx_window_count(28, 28, 5), 1);
    ck_assert_msg(lrpx_session_explain_windows(s, &one, &o, &to, wm) == LRPX_OK, "%s",
                  lrpx_session_errmsg(s));
    ck_assert_tensor_near(wm, plain, one.n_elems, 0.0, 0.0);
    /* and the class: the predicted one (pullover, 2), as the plain pass */
    int64_t c;
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, &c, NULL), LRPX_OK);
    ck_assert_int_eq(c, 2);
    free(plain);
    free(wm);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ---- translation on a convolution, against float64 ---- */

#define CI 2
#define CO 2
#define KH 3
#define KW 3

/* R of x (C x H x W, NCHW, one sample) for y = conv(x, w) (no padding,
 * stride 1, no bias) seeded with ones: R_i = x_i sum_j w_ij / z_j. */
static void
conv_lrp0_ref(const double *x, const double *w, int h, int wd, double *r)
{
    int     oh = h - KH + 1, ow = wd - KW + 1;
    double *z  = calloc((size_t)CO * oh * ow, sizeof *z);
    ck_assert_ptr_nonnull(z);
    for (int o = 0; o < CO; o++)
        for (int y = 0; y < oh; y++)
            for (int xx = 0; xx < ow; xx++) {
                double acc = 0.0;
                for (int c = 0; c < CI; c++)
                    for (int ky = 0; ky < KH; ky++)
                        for (int kx = 0; kx < KW; kx++)
                            acc += w[((o * CI + c) * KH + ky) * KW + kx] *
                                   x[(c * h + y + ky) * wd + xx + kx];
                z[(o * oh + y) * ow + xx] = acc;
            }
    memset(r, 0, sizeof(double) * (size_t)CI * h * wd);
    for (int o = 0; o < CO; o++)
        for (int y = 0; y < oh; y++)
            for (int xx = 0; xx < ow; xx++)
                for (int c = 0; c < CI; c++)
                    for (int ky = 0; ky < KH; ky++)
                        for (int kx = 0; kx < KW; kx++) {
                            int i = (c * h + y + ky) * wd + xx + kx;
                            r[i] += x[i] * w[((o * CI + c) * KH + ky) * KW + kx] /
                                    z[(o * oh + y) * ow + xx];
                        }
    free(z);
}

/* The translation trick by its definition, in float64. */
static void
translate_ref(const float *xf, const double *w, int h, int wd, int k, bool zero_pad, double *out)
{
    size_t  n   = (size_t)CI * h * wd;
    double *xs  = calloc(n, sizeof *xs);
    double *r   = calloc(n, sizeof *r);
    double *acc = calloc(n, sizeof *acc);
    double *cnt = calloc(n, sizeof *cnt);
    ck_assert(xs && r && acc && cnt);
    for (int dy = -k; dy <= k; dy++)
        for (int dx = -k; dx <= k; dx++) {
            for (int c = 0; c < CI; c++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < wd; xx++) {
                        int  sy = y - dy, sx = xx - dx;
                        bool in = sy >= 0 && sy < h && sx >= 0 && sx < wd;
                        sy      = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
                        sx      = sx < 0 ? 0 : sx >= wd ? wd - 1 : sx;
                        xs[(c * h + y) * wd + xx] =
                            !in && zero_pad ? 0.0 : xf[(c * h + sy) * wd + sx];
                    }
            conv_lrp0_ref(xs, w, h, wd, r);
            for (int c = 0; c < CI; c++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < wd; xx++) {
                        int ty = y + dy, tx = xx + dx;
                        if (ty < 0 || ty >= h || tx < 0 || tx >= wd)
                            continue;
                        acc[(c * h + y) * wd + xx] += r[(c * h + ty) * wd + tx];
                        cnt[(c * h + y) * wd + xx] += 1.0;
                    }
        }
    for (size_t i = 0; i < n; i++)
        out[i] = acc[i] / cnt[i];
    free(xs);
    free(r);
    free(acc);
    free(cnt);
}

static lrpx_test_model *
conv_model(const float *w, int h, int wd, bool nhwc)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    if (nhwc) {
        lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, h, wd, CI});
        lrpx_test_model_node(tm, "Transpose", "to_nchw", LT_IO("x"), LT_IO("xt"),
                             LT_INTS("perm", 0, 3, 1, 2), NULL);
    } else {
        lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, CI, h, wd});
    }
    lrpx_test_model_init_f32(tm, "W", 4, (int64_t[]){CO, CI, KH, KW}, w);
    lrpx_test_model_node(tm, "Conv", "conv", nhwc ? LT_IO("xt", "W") : LT_IO("x", "W"),
                         LT_IO("y"), LT_INTS("kernel_shape", KH, KW), NULL);
    lrpx_test_model_output(tm, "y");
    return tm;
}

/* loop over: 0 edge NCHW K=1, 1 edge K=2, 2 zero K=2, 3 edge NHWC K=1 */
START_TEST(test_translate_conv_matches_float64)
{
    const int  ks[]   = {1, 2, 2, 1};
    const bool zero[] = {false, false, true, false};
    const bool nh[]   = {false, false, false, true};
    int        k = ks[_i], h = 12, wd = 13;
    int64_t    n = (int64_t)CI * h * wd, no = (int64_t)CO * (h - KH + 1) * (wd - KW + 1);
    float      w[CO * CI * KH * KW];
    double     wd64[CO * CI * KH * KW];
    unsigned   seed = 12345;
    for (int i = 0; i < CO * CI * KH * KW; i++) {
        seed    = seed * 1103515245u + 12345u;
        w[i]    = 0.05f + (float)((seed >> 16) % 1000) / 1000.0f;   /* positive */
        wd64[i] = w[i];
    }
    float *x = xalloc(n), *xn = xalloc(n), *out = xalloc(n), *plain = xalloc(n);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = 0.1f + (float)((seed >> 16) % 1000) / 500.0f;        /* positive */
    }
    float *ones = xalloc(no);
    for (int64_t i = 0; i < no; i++)
        ones[i] = 1.0f;
    lrpx_test_model *tm = conv_model(w, h, wd, nh[_i]);
    lrpx_model      *m;
    lrpx_session    *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);

    struct lrpx_lrp_options o;
    lrp0(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = ones;
    o.seed_n_elems = no;
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.translate = k;
    to.pad       = zero[_i] ? LRPX_SHIFT_PAD_ZERO : LRPX_SHIFT_PAD_EDGE;
    to.nhwc      = nh[_i];

    /* the model's input in its own layout */
    lrpx_tensor_view xv;
    if (nh[_i]) {
        for (int c = 0; c < CI; c++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < wd; xx++)
                    xn[(y * wd + xx) * CI + c] = x[(c * h + y) * wd + xx];
        xv = view4(xn, 1, h, wd, CI);
    } else {
        xv = view4(x, 1, CI, h, wd);
    }
    ck_assert_msg(lrpx_session_explain_translated(s, &xv, &o, &to, out) == LRPX_OK, "%s",
                  lrpx_session_errmsg(s));
    /* back to NCHW for the comparison */
    float *got = out;
    if (nh[_i]) {
        got = xalloc(n);
        for (int c = 0; c < CI; c++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < wd; xx++)
                    got[(c * h + y) * wd + xx] = out[(y * wd + xx) * CI + c];
    }
    double *ref = calloc((size_t)n, sizeof *ref);
    ck_assert_ptr_nonnull(ref);
    translate_ref(x, wd64, h, wd, k, zero[_i], ref);
    float *reff = xalloc(n);
    for (int64_t i = 0; i < n; i++)
        reff[i] = (float)ref[i];
    ck_assert_tensor_near(got, reff, n, 2e-5, 1e-7);

    /* the trick must differ from the plain map somewhere (near the border),
     * or this test could not tell them apart */
    double *pl = calloc((size_t)n, sizeof *pl);
    double *x64 = calloc((size_t)n, sizeof *x64);
    ck_assert(pl && x64);
    for (int64_t i = 0; i < n; i++)
        x64[i] = x[i];
    conv_lrp0_ref(x64, wd64, h, wd, pl);
    double maxd = 0.0;
    for (int64_t i = 0; i < n; i++)
        maxd = fmax(maxd, fabs(pl[i] - ref[i]));
    ck_assert_msg(maxd > 1e-3, "translation changed nothing (max diff %g)", maxd);
    /* equivariance: far enough from the border, averaging shifted maps of
     * a convolution gives the plain map */
    for (int c = 0; c < CI; c++)
        for (int y = k + KH; y < h - k - KH; y++)
            for (int xx = k + KW; xx < wd - k - KW; xx++) {
                int i = (c * h + y) * wd + xx;
                ck_assert_msg(fabs(got[i] - pl[i]) <= 2e-5 * fabs(pl[i]) + 1e-7,
                              "interior (%d,%d,%d): %g vs plain %g", c, y, xx, got[i], pl[i]);
            }
    if (got != out)
        free(got);
    free(pl);
    free(x64);
    free(ref);
    free(reff);
    free(ones);
    free(x);
    free(xn);
    free(out);
    free(plain);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- sliding window on Flatten + Gemm, against the known relevance ---- */

#define WH 4
#define WW 5
#define NC 3

static lrpx_test_model *
gemm_model(const float *wg)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){-1, 1, WH, WW});
    lrpx_test_model_init_f32(tm, "W", 2, (int64_t[]){WH * WW, NC}, wg);
    lrpx_test_model_node(tm, "Flatten", "flat", LT_IO("x"), LT_IO("f"), LT_INT("axis", 1), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("f", "W"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    return tm;
}

/* loop: 0 LRP-0 / predicted class, 1 LRP-0 / target 1, 2 gradient x input,
 * 3 strides that land on the border exactly, 4 stride = window width and
 * an image one window high */
START_TEST(test_window_stitching)
{
    const int sx_[] = {3, 3, 2, 5, 4}, sy_[] = {2, 2, 3, 4, 4};
    const int imw_[] = {13, 13, 13, 15, 9}, imh_[] = {11, 11, 10, 12, 4};
    int       sx = sx_[_i], sy = sy_[_i], imw = imw_[_i], imh = imh_[_i];
    float     wg[WH * WW * NC];
    for (int p = 0; p < WH * WW; p++)
        for (int c = 0; c < NC; c++)
            wg[p * NC + c] = 0.2f + (float)((p * 7 + c * 13) % 11) / 10.0f;
    int64_t n = (int64_t)imh * imw;
    float  *x = xalloc(n), *out = xalloc(n);
    for (int64_t i = 0; i < n; i++)
        x[i] = 0.5f + (float)((i * 37) % 17) / 8.0f;

    /* windows, enumerated independently: starts 0, s, 2s, ... while the
     * window fits, plus one flush with the far border if needed */
    int ys[64], xs[64], nys = 0, nxs = 0;
    for (int y = 0; y + WH <= imh; y += sy)
        ys[nys++] = y;
    if (ys[nys - 1] != imh - WH)
        ys[nys++] = imh - WH;
    for (int xx = 0; xx + WW <= imw; xx += sx)
        xs[nxs++] = xx;
    if (xs[nxs - 1] != imw - WW)
        xs[nxs++] = imw - WW;
    ck_assert_int_eq(lrpx_window_count(imh, WH, sy), nys);
    ck_assert_int_eq(lrpx_window_count(imw, WW, sx), nxs);

    /* the class: largest sum of logits over windows (predicted) */
    int cls = 1;
    if (_i != 1) {
        double tot[NC] = {0};
        for (int a = 0; a < nys; a++)
            for (int b = 0; b < nxs; b++)
                for (int c = 0; c < NC; c++)
                    for (int p = 0; p < WH * WW; p++)
                        tot[c] += (double)x[(ys[a] + p / WW) * imw + xs[b] + p % WW] * wg[p * NC + c];
        cls = 0;
        for (int c = 1; c < NC; c++)
            if (tot[c] > tot[cls])
                cls = c;
    }
    double *sum = calloc((size_t)n, sizeof *sum), *cnt = calloc((size_t)n, sizeof *cnt);
    ck_assert(sum && cnt);
    for (int a = 0; a < nys; a++)
        for (int b = 0; b < nxs; b++)
            for (int p = 0; p < WH * WW; p++) {
                int i = (ys[a] + p / WW) * imw + xs[b] + p % WW;
                sum[i] += (double)x[i] * wg[p * NC + cls];
                cnt[i] += 1.0;
            }
    float *ref = xalloc(n);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_msg(cnt[i] > 0, "pixel %lld not covered by the test's windows", (long long)i);
        ref[i] = (float)(sum[i] / cnt[i]);
    }

    lrpx_test_model *tm = gemm_model(wg);
    lrpx_model      *m;
    lrpx_session    *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    struct lrpx_lrp_options o;
    lrp0(&o);
    if (_i == 1) {
        o.seed   = LRPX_SEED_TARGET;
        o.target = 1;
    }
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.window_width  = WW;
    to.window_height = WH;
    to.stride_x      = sx;
    to.stride_y      = sy;
    if (_i == 2)
        to.method = LRPX_ATTR_GRADIENT_X_INPUT;
    lrpx_tensor_view xv = view4(x, 1, 1, imh, imw);
    ck_assert_msg(lrpx_session_explain_windows(s, &xv, &o, &to, out) == LRPX_OK, "%s",
                  lrpx_session_errmsg(s));
    ck_assert_tensor_near(out, ref, n, 1e-5, 1e-7);
    /* the last pass was on a window, explaining the chosen class */
    int64_t got_cls;
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, &got_cls, NULL), LRPX_OK);
    ck_assert_int_eq(got_cls, cls);

    free(sum);
    free(cnt);
    free(ref);
    free(x);
    free(out);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* Two images in one batch: each gets its own class and its own map. */
START_TEST(test_window_batch)
{
    float wg[WH * WW * NC];
    for (int p = 0; p < WH * WW; p++)
        for (int c = 0; c < NC; c++)
            wg[p * NC + c] = (c == (p % 2 ? 2 : 0)) ? 1.0f : 0.1f;
    int     imh = 6, imw = 8;
    int64_t n   = (int64_t)imh * imw;
    float  *x = xalloc(2 * n), *out = xalloc(2 * n), *one = xalloc(n);
    /* image 0 bright on even pixels of the window, image 1 on odd ones */
    for (int64_t i = 0; i < n; i++) {
        x[i]     = (i % 2) ? 0.1f : 1.0f;
        x[n + i] = (i % 2) ? 1.0f : 0.1f;
    }
    lrpx_test_model *tm = gemm_model(wg);
    lrpx_model      *m;
    lrpx_session    *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    struct lrpx_lrp_options o;
    lrp0(&o);
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.window_width  = WW;
    to.window_height = WH;
    to.stride_x = to.stride_y = 1;
    lrpx_tensor_view xv = view4(x, 2, 1, imh, imw);
    ck_assert_int_eq(lrpx_session_explain_windows(s, &xv, &o, &to, out), LRPX_OK);
    /* each sample alone must give the same map */
    for (int b = 0; b < 2; b++) {
        lrpx_tensor_view xb = view4(x + b * n, 1, 1, imh, imw);
        ck_assert_int_eq(lrpx_session_explain_windows(s, &xb, &o, &to, one), LRPX_OK);
        ck_assert_tensor_near(out + b * n, one, n, 0.0, 0.0);
    }
    /* and the two maps differ (different classes) */
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        d += fabs(out[i] - out[n + i]);
    ck_assert(d > 0.1);
    free(x);
    free(out);
    free(one);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

START_TEST(test_trick_errors)
{
    float wg[WH * WW * NC] = {0};
    lrpx_test_model *tm = gemm_model(wg);
    lrpx_model      *m;
    lrpx_session    *s;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    float x[6 * 8] = {0}, out[6 * 8];
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    lrpx_tensor_view xv = view4(x, 1, 1, 6, 8);

    to.window_width  = 9;                       /* wider than the image */
    to.window_height = 4;
    ck_assert_int_eq(lrpx_session_explain_windows(s, &xv, NULL, &to, out), LRPX_ESHAPE);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "larger than the image"));
    to.window_width = 5;
    to.stride_x     = 0;
    ck_assert_int_eq(lrpx_session_explain_windows(s, &xv, NULL, &to, out), LRPX_EINVAL);
    to.stride_x = 6;                            /* wider than the window: gaps */
    ck_assert_int_eq(lrpx_session_explain_windows(s, &xv, NULL, &to, out), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "stride"));
    to.stride_x  = 1;
    to.translate = -1;
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, out), LRPX_EINVAL);
    to.translate = 1;
    lrpx_tensor_view bad = xv;
    bad.rank             = 3;
    ck_assert_int_eq(lrpx_session_explain_translated(s, &bad, NULL, &to, out), LRPX_EINVAL);
    bad       = xv;
    bad.dtype = LRPX_DTYPE_FLOAT64;
    ck_assert_int_eq(lrpx_session_explain_windows(s, &bad, NULL, &to, out), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, NULL), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_session_explain_translated(NULL, &xv, NULL, &to, out), LRPX_EINVAL);
    /* the model's window is 4x5: translating the whole 6x8 image fails in
     * set_input with the session's shape message */
    to.translate = 0;
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, out), LRPX_ESHAPE);
    ck_assert_int_eq(lrpx_window_count(10, 11, 1), 0);
    ck_assert_int_eq(lrpx_window_count(10, 10, 3), 1);
    ck_assert_int_eq(lrpx_window_count(10, 4, 3), 3);   /* 0 3 6 */
    ck_assert_int_eq(lrpx_window_count(10, 4, 4), 3);   /* 0 4 6 */
    ck_assert_int_eq(lrpx_window_count(10, 4, 0), 0);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- z^B bounds from presets ---- */

START_TEST(test_box_bounds)
{
    struct lrpx_preprocess pp;
    float                  lo[3], hi[3];
    int                    n;
    const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};

    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_preset(&pp, "imagenet", NULL, 0), LRPX_OK);
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, NULL, 0), LRPX_OK);
    ck_assert_int_eq(n, 3);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq_tol(lo[c], (0.0 - mean[c]) / std[c], 1e-6);
        ck_assert_float_eq_tol(hi[c], (1.0 - mean[c]) / std[c], 1e-6);
    }
    /* BGR: channels in B, G, R order, mean/std given in that order */
    lrpx_preprocess_init(&pp);
    pp.color   = LRPX_COLOR_BGR;
    pp.n_mean  = 3;
    pp.mean[0] = 103.939, pp.mean[1] = 116.779, pp.mean[2] = 123.68;
    pp.std[0] = pp.std[1] = pp.std[2] = 1.0;
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, NULL, 0), LRPX_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_float_eq_tol(lo[0], -103.939, 1e-4);
    ck_assert_float_eq_tol(hi[2], 255.0 - 123.68, 1e-4);
    /* gray, [-1, 1] */
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_preset(&pp, "minus-one-one", NULL, 0), LRPX_OK);
    pp.color = LRPX_COLOR_GRAY;
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, NULL, 0), LRPX_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq_tol(lo[0], -1.0, 1e-7);
    ck_assert_float_eq_tol(hi[0], 1.0, 1e-7);
    /* a negative std swaps the ends */
    lrpx_preprocess_init(&pp);
    pp.n_mean = 1;
    pp.mean[0] = 0.0;
    pp.std[0]  = -2.0;
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, NULL, 0), LRPX_OK);
    ck_assert_float_eq_tol(lo[0], -127.5, 1e-5);
    ck_assert_float_eq_tol(hi[0], 0.0, 1e-7);
    /* bad settings */
    char err[256];
    pp.std[0] = 0.0;
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_preprocess_box_bounds(NULL, lo, hi, &n, err, sizeof err), LRPX_EINVAL);

    /* and epsilon_gamma_box accepts them per channel on the fmnist model */
    lrpx_model   *m;
    lrpx_session *s;
    load_fmnist(&m, &s);
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_preset(&pp, "zero-one", NULL, 0), LRPX_OK);
    pp.color = LRPX_COLOR_GRAY;
    ck_assert_int_eq(lrpx_preprocess_box_bounds(&pp, lo, hi, &n, NULL, 0), LRPX_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq(lo[0], 0.0f);
    ck_assert_float_eq(hi[0], 1.0f);
    lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_0_ankle_boot.npy"));
    int64_t dims[4] = {1, 1, 28, 28};
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4, dims, x->data),
                     LRPX_OK);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "epsilon_gamma_box", NULL, 0), LRPX_OK);
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EINVAL);   /* no bounds: refused */
    o.box_low_c  = lo;
    o.box_high_c = hi;
    o.n_box_c    = n;
    ck_assert_msg(lrpx_session_explain(s, &o) == LRPX_OK, "%s", lrpx_session_errmsg(s));
    /* the same as scalar bounds 0, 1 */
    lrpx_tensor_view r;
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &r), LRPX_OK);
    float *a = xalloc(r.n_elems);
    memcpy(a, r.data, (size_t)r.n_elems * sizeof(float));
    o.n_box_c  = 0;
    o.box_low  = 0.0;
    o.box_high = 1.0;
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_OK);
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &r), LRPX_OK);
    ck_assert_tensor_near(a, (const float *)r.data, r.n_elems, 0.0, 0.0);
    free(a);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

static Suite *
tricks_suite(void)
{
    Suite *s  = suite_create("tricks");
    TCase *tc = tcase_create("translate");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_translate_k0_is_plain);
    tcase_add_loop_test(tc, test_translate_conv_matches_float64, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("window");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_progress_per_pass);
    tcase_add_test(tc, test_window_one_is_plain);
    tcase_add_loop_test(tc, test_window_stitching, 0, 5);
    tcase_add_test(tc, test_window_batch);
    tcase_add_test(tc, test_trick_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, test_box_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(tricks_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
