/* Suite "ops_pool": pooling, normalisation, softmax and reduction ops
 * (MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
 * BatchNormalization, InstanceNormalization, LRN, LayerNormalization,
 * Softmax, LogSoftmax, Reduce*).
 *
 * The ONNX backend tests (test_conformance) cover the common forward
 * cases; this file adds what they miss, always against an independent
 * reference:
 *   - a hand-computed 4x4 MaxPool with ties: output, Indices (row- and
 *     column-major) and the relevance of the three max-pool modes (winner,
 *     winner-split, sum-pool), worked out by hand in the comments;
 *   - ceil_mode edge cases against values printed by PyTorch 1.13;
 *   - pooling forward and relevance against float64 re-implementations of
 *     the formulas, over a grid of pads / strides / dilations / ceil_mode /
 *     count_include_pad / auto_pad settings;
 *   - every float op's gradient against central finite differences of the
 *     library's own forward pass;
 *   - relevance conservation (sum R_in == sum R_out) where the rule is
 *     conservative;
 *   - old-opset forms (BatchNormalization spatial = 0, Softmax before 13,
 *     Reduce* axes attribute / input);
 *   - malformed attributes: a status and a message naming the node.
 *
 * Relevance passes are driven through the internal reverse executor
 * (lrpx__exec_backward) with a rule table made here, so each test sets
 * the max-pool mode and the stabilizer exactly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "core/rules.h"
#include "lrpx_test.h"

/* ---- helpers ---- */

static uint64_t rng_state = 88172645463325252ull;

static double
rnd(void) /* uniform in [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void
fill(float *a, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * rnd());
}

/* distinct values (no ties): a shuffled ramp with spacing `gap` */
static void
fill_distinct(float *a, int64_t n, double gap)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)((double)(i - n / 2) * gap);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rnd() * (double)(i + 1));
        float   t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static int64_t
numel(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* A fed float32 input. */
struct tin {
    const char *name;
    int         rank;
    int64_t     dims[LRPX_MAX_RANK];
    float      *data;
};

static lrpx_model *
load_ok(lrpx_test_model *m)
{
    lrpx_model *model = NULL;
    lrpx_status rc    = lrpx_test_model_load(m, &model);
    ck_assert_msg(rc == LRPX_OK, "load: %s: %s", lrpx_status_name(rc),
                  model ? lrpx_model_errmsg(model) : "(no handle)");
    return model;
}

static lrpx_session *
run_ok(lrpx_model *model, const struct tin *in, int n_in)
{
    lrpx_session *s = NULL;
    lrpx_status   rc = lrpx_session_init(model, &s);
    ck_assert_msg(rc == LRPX_OK, "session_init: %s", lrpx_status_name(rc));
    for (int i = 0; i < n_in; i++) {
        rc = lrpx_session_set_input(s, in[i].name, LRPX_DTYPE_FLOAT32, in[i].rank, in[i].dims,
                                    in[i].data);
        ck_assert_msg(rc == LRPX_OK, "set_input %s: %s", in[i].name, lrpx_session_errmsg(s));
    }
    rc = lrpx_session_run(s);
    ck_assert_msg(rc == LRPX_OK, "run: %s: %s", lrpx_status_name(rc), lrpx_session_errmsg(s));
    return s;
}

static const float *
value_f32(lrpx_session *s, const char *name, int64_t *n)
{
    lrpx_tensor_view v;
    ck_assert_msg(lrpx_session_value(s, name, &v) == LRPX_OK, "no value %s", name);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_FLOAT32);
    if (n)
        *n = v.n_elems;
    return v.data;
}

/* Relevance pass seeded at value `out` with every node using the given
 * max-pool mode and stabilizer. Returns the executor's status. */
static lrpx_status
relevance_pass(lrpx_session *s, const char *out, const float *seed, lrpx_maxpool_mode mode,
               double stab)
{
    const struct lrpx_graph *g     = &s->model->g;
    struct lrpx_rule_cfg    *rules = calloc((size_t)g->n_nodes + 1, sizeof *rules);
    ck_assert_ptr_nonnull(rules);
    for (int i = 0; i < g->n_nodes; i++) {
        rules[i].rule    = LRPX_RULE_EPSILON;
        rules[i].eps     = stab;
        rules[i].stab    = stab;
        rules[i].maxpool = mode;
    }
    int v = lrpx__graph_find_value(g, out);
    ck_assert_int_ge(v, 0);
    s->plan.x.rules = rules;
    lrpx_status rc  = lrpx__exec_backward(s, LRPX_PHASE_RELEVANCE, v, seed);
    s->plan.x.rules = NULL;
    free(rules);
    return rc;
}

static const float *
relevance_of(lrpx_session *s, const char *name)
{
    lrpx_tensor_view v;
    ck_assert_msg(lrpx_session_relevance(s, name, &v) == LRPX_OK, "no relevance at %s", name);
    return v.data;
}

/* Gradient of sum(seed * out) with respect to the first n_check of the
 * n_in fed inputs, checked against central differences
 * (f(x+h) - f(x-h)) / 2h of the forward pass:
 * max |g - fd| <= tol * max(1, max |g|) per input. */
static void
fd_check(lrpx_test_model *m, struct tin *in, int n_in, int n_check, const char *out, double h,
         double tol)
{
    lrpx_model   *model = load_ok(m);
    lrpx_session *s     = run_ok(model, in, n_in);
    int64_t       n_out;
    value_f32(s, out, &n_out);
    float *seed = malloc((size_t)n_out * sizeof *seed);
    ck_assert_ptr_nonnull(seed);
    fill(seed, n_out, -1.0, 1.0);

    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = n_out;
    o.output_name  = out;
    o.skip_softmax = 0;
    lrpx_status rc = lrpx_session_gradient(s, &o);
    ck_assert_msg(rc == LRPX_OK, "gradient: %s: %s", lrpx_status_name(rc),
                  lrpx_session_errmsg(s));

    /* copy every gradient first: a new run invalidates them */
    float *grads[8] = {NULL};
    ck_assert_int_le(n_check, 8);
    for (int k = 0; k < n_check; k++) {
        int64_t          n = numel(in[k].rank, in[k].dims);
        lrpx_tensor_view gv;
        ck_assert_msg(lrpx_session_gradient_of(s, in[k].name, &gv) == LRPX_OK,
                      "%s: no gradient at %s", out, in[k].name);
        ck_assert_int_eq(gv.n_elems, n);
        grads[k] = malloc((size_t)n * sizeof *grads[k]);
        ck_assert_ptr_nonnull(grads[k]);
        memcpy(grads[k], gv.data, (size_t)n * sizeof *grads[k]);
    }
    for (int k = 0; k < n_check; k++) {
        int64_t n = numel(in[k].rank, in[k].dims);
        float  *g = grads[k];
        double gmax = 0.0, worst = 0.0;
        int64_t wi = -1;
        double  wfd = 0.0;
        for (int64_t i = 0; i < n; i++)
            gmax = fmax(gmax, fabs(g[i]));
        for (int64_t i = 0; i < n; i++) {
            float  orig = in[k].data[i];
            double f[2];
            for (int side = 0; side < 2; side++) {
                in[k].data[i] = (float)(orig + (side ? -h : h));
                ck_assert_int_eq(lrpx_session_set_input(s, in[k].name, LRPX_DTYPE_FLOAT32,
                                                        in[k].rank, in[k].dims, in[k].data),
                                 LRPX_OK);
                ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
                const float *y = value_f32(s, out, NULL);
                double       acc = 0.0;
                for (int64_t j = 0; j < n_out; j++)
                    acc += (double)seed[j] * y[j];
                f[side] = acc;
            }
            in[k].data[i] = orig;
            /* the perturbation actually applied, in float */
            double hp = ((double)(float)(orig + h) - (double)(float)(orig - h)) / 2.0;
            double fd = (f[0] - f[1]) / (2.0 * hp);
            double d  = fabs(fd - g[i]);
            if (d > worst) {
                worst = d;
                wi    = i;
                wfd   = fd;
            }
        }
        ck_assert_int_eq(lrpx_session_set_input(s, in[k].name, LRPX_DTYPE_FLOAT32, in[k].rank,
                                                in[k].dims, in[k].data),
                         LRPX_OK);
        ck_assert_msg(worst <= tol * fmax(1.0, gmax),
                      "%s: gradient wrt %s: worst at %lld: analytic %g, finite difference %g "
                      "(|diff| %g > %g)", out, in[k].name, (long long)wi,
                      wi >= 0 ? g[wi] : 0.0, wfd, worst, tol * fmax(1.0, gmax));
        free(g);
    }
    free(seed);
    lrpx_session_free(s);
    lrpx_model_free(model);
}

/* Load must fail with `status` and a message that names the node and
 * contains `what`. */
static void
expect_load_error(lrpx_test_model *m, lrpx_status status, const char *node, const char *what)
{
    lrpx_model *model = NULL;
    lrpx_status rc    = lrpx_test_model_load(m, &model);
    ck_assert_ptr_nonnull(model);
    const char *msg = lrpx_model_errmsg(model);
    ck_assert_msg(rc == status, "expected %s, got %s: %s", lrpx_status_name(status),
                  lrpx_status_name(rc), msg);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "'%s'", node);
    ck_assert_msg(strstr(msg, quoted), "message does not name node %s: %s", quoted, msg);
    ck_assert_msg(strstr(msg, what), "message lacks \"%s\": %s", what, msg);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}

/* ---- float64 reference of 2-D pooling ---- */

struct pool2d {
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;   /* pads: top, left, bottom, right */
    int     ceil_mode, cip;   /* count_include_pad              */
    const char *auto_pad;     /* NULL = explicit pads           */
};

static int64_t
ref_out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t *ph, int64_t *pt,
             const char *auto_pad, int ceil_mode)
{
    int64_t keff = (k - 1) * d + 1;
    if (auto_pad && strncmp(auto_pad, "SAME", 4) == 0) {
        int64_t out   = (in + s - 1) / s;
        int64_t total = (out - 1) * s + keff - in;
        if (total < 0)
            total = 0;
        *ph = strcmp(auto_pad, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
        *pt = total - *ph;
        return out;
    }
    if (auto_pad && strcmp(auto_pad, "VALID") == 0)
        *ph = *pt = 0;
    double  q   = (double)(in + *ph + *pt - keff) / (double)s;
    int64_t out = (int64_t)(ceil_mode ? ceil(q) : floor(q)) + 1;
    /* PyTorch: the last window must start inside the input or left pad */
    if (ceil_mode && (out - 1) * s >= in + *ph)
        out--;
    return out;
}

enum { REF_MAX, REF_AVG };

/* y (C planes of oh x ow) from x (C planes of H x W); optionally the
 * relevance of each mode given r (same size as y). */
static void
ref_pool2d(const struct pool2d *p, int kind, int64_t C, int64_t H, int64_t W, const float *x,
           int64_t *oh_out, int64_t *ow_out, double *y, const float *r, double *rin,
           lrpx_maxpool_mode mode, double stab)
{
    int64_t pt = p->pt, pb = p->pb, pl = p->pl, pr = p->pr;
    int64_t OH = ref_out_size(H, p->kh, p->sh, p->dh, &pt, &pb, p->auto_pad, p->ceil_mode);
    int64_t OW = ref_out_size(W, p->kw, p->sw, p->dw, &pl, &pr, p->auto_pad, p->ceil_mode);
    *oh_out = OH;
    *ow_out = OW;
    if (rin)
        memset(rin, 0, (size_t)(C * H * W) * sizeof *rin);
    for (int64_t c = 0; c < C; c++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                const float *xp = x + c * H * W;
                int64_t      taps[4096];
                int64_t      nt = 0, npad = 0;
                for (int64_t i = 0; i < p->kh; i++)
                    for (int64_t j = 0; j < p->kw; j++) {
                        int64_t h = oh * p->sh - pt + i * p->dh;
                        int64_t w = ow * p->sw - pl + j * p->dw;
                        if (h < H + pb && w < W + pr)
                            npad++;
                        if (h >= 0 && h < H && w >= 0 && w < W)
                            taps[nt++] = h * W + w;
                    }
                double best = -INFINITY, sum = 0.0;
                int64_t first = -1, ties = 0;
                for (int64_t t = 0; t < nt; t++) {
                    double v = xp[taps[t]];
                    sum += v;
                    if (first < 0 || v > best) {
                        best  = v;
                        first = taps[t];
                        ties  = 1;
                    } else if (v == best) {
                        ties++;
                    }
                }
                double div = p->cip ? (double)npad : (double)nt;
                double out = kind == REF_MAX ? best : (div > 0 ? sum / div : 0.0);
                y[(c * OH + oh) * OW + ow] = out;
                if (!rin || nt == 0)
                    continue;
                double  R  = r[(c * OH + oh) * OW + ow];
                double *rp = rin + c * H * W;
                if (kind == REF_AVG) {
                    for (int64_t t = 0; t < nt; t++)
                        rp[taps[t]] += (xp[taps[t]] / div) / lrpx__stabilize(out, stab) * R;
                } else if (mode == LRPX_MAXPOOL_WINNER) {
                    rp[first] += R;
                } else if (mode == LRPX_MAXPOOL_WINNER_SPLIT) {
                    for (int64_t t = 0; t < nt; t++)
                        if (xp[taps[t]] == best)
                            rp[taps[t]] += R / (double)ties;
                } else {
                    for (int64_t t = 0; t < nt; t++)
                        rp[taps[t]] += xp[taps[t]] / lrpx__stabilize(sum, stab) * R;
                }
            }
}

/* A one-node pooling model from a pool2d description; x is 1 x C x H x W. */
static lrpx_test_model *
pool_model(const char *op, const struct pool2d *p, int64_t C, int64_t H, int64_t W)
{
    lrpx_test_model *m = lrpx_test_model_new(op[0] == 'M' ? 12 : 11);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, C, H, W});
    if (p->auto_pad)
        lrpx_test_model_node(m, op, "pool", LT_IO("x"), LT_IO("y"),
                             LT_INTS("kernel_shape", p->kh, p->kw),
                             LT_INTS("strides", p->sh, p->sw),
                             LT_INTS("dilations", p->dh, p->dw),
                             LT_STRING("auto_pad", p->auto_pad),
                             LT_INT("ceil_mode", p->ceil_mode),
                             op[0] == 'A' ? LT_INT("count_include_pad", p->cip) : NULL, NULL);
    else
        lrpx_test_model_node(m, op, "pool", LT_IO("x"), LT_IO("y"),
                             LT_INTS("kernel_shape", p->kh, p->kw),
                             LT_INTS("strides", p->sh, p->sw),
                             LT_INTS("dilations", p->dh, p->dw),
                             LT_INTS("pads", p->pt, p->pl, p->pb, p->pr),
                             LT_INT("ceil_mode", p->ceil_mode),
                             op[0] == 'A' ? LT_INT("count_include_pad", p->cip) : NULL, NULL);
    lrpx_test_model_output(m, "y");
    return m;
}

/* ---- MaxPool: the hand-computed example ---- */

/*
 * x (1x1x4x4), kernel 2x2, stride 2:        windows and their maxima:
 *     1 3 | 2 2                             W00 {1,3,3,0}: 3 at (0,1) and (1,0)
 *     3 0 | 2 1                             W01 {2,2,2,1}: 2 at (0,2),(0,3),(1,2)
 *     ----+----                             W10 {0,1,1,2}: 2 at (3,1) only
 *     0 1 | 4 4                             W11 {4,4,4,0}: 4 at (2,2),(2,3),(3,2)
 *     1 2 | 4 0
 * y = [[3, 2], [2, 4]].
 * Indices, first maximum in row-major window order: (0,1) (0,2) (3,1) (2,2)
 *   row-major h*4+w:     1, 2, 13, 10
 *   column-major h+w*4:  4, 8, 7, 10
 * Relevance seeded with R_y = [[1, 3], [2, 6]]:
 *   winner:       (0,1)=1, (0,2)=3, (3,1)=2, (2,2)=6
 *   winner-split: (0,1)=(1,0)=1/2; (0,2)=(0,3)=(1,2)=1; (3,1)=2;
 *                 (2,2)=(2,3)=(3,2)=2
 *   sum-pool:     R_i = x_i / sum_window * R_j:
 *                 W00 sum 7, R 1: 1/7, 3/7, 3/7, 0
 *                 W01 sum 7, R 3: (0,2)=(0,3)=(1,2)=6/7, (1,3)=3/7
 *                 W10 sum 4, R 2: (2,0)=0, (2,1)=1/2, (3,0)=1/2, (3,1)=1
 *                 W11 sum 12, R 6: (2,2)=(2,3)=(3,2)=2, (3,3)=0
 */
static const float hand_x[16] = {1, 3, 2, 2, 3, 0, 2, 1, 0, 1, 4, 4, 1, 2, 4, 0};
static const float hand_r[4]  = {1, 3, 2, 6};

static lrpx_test_model *
hand_model(int storage_order)
{
    lrpx_test_model *m = lrpx_test_model_new(12);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 4, 4});
    lrpx_test_model_node(m, "MaxPool", "pool", LT_IO("x"), LT_IO("y", "idx"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("strides", 2, 2),
                         LT_INT("storage_order", storage_order), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_output(m, "idx");
    return m;
}

START_TEST(test_maxpool_hand_forward)
{
    static const float   want_y[4]     = {3, 2, 2, 4};
    static const int64_t want_idx[2][4] = {{1, 2, 13, 10}, {4, 8, 7, 10}};
    for (int so = 0; so < 2; so++) {
        lrpx_test_model *m     = hand_model(so);
        lrpx_model      *model = load_ok(m);
        struct tin       in    = {"x", 4, {1, 1, 4, 4}, (float *)hand_x};
        lrpx_session    *s     = run_ok(model, &in, 1);
        ck_assert_tensor_near(value_f32(s, "y", NULL), want_y, 4, 0.0, 0.0);
        lrpx_tensor_view iv;
        ck_assert_int_eq(lrpx_session_value(s, "idx", &iv), LRPX_OK);
        ck_assert_int_eq(iv.dtype, LRPX_DTYPE_INT64);
        ck_assert_int_eq(iv.n_elems, 4);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(((const int64_t *)iv.data)[i], want_idx[so][i]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

START_TEST(test_maxpool_hand_relevance)
{
    static const float want[3][16] = {
        /* winner */
        {0, 1, 3, 0,  0, 0, 0, 0,  0, 0, 6, 0,  0, 2, 0, 0},
        /* winner-split */
        {0, 0.5f, 1, 1,  0.5f, 0, 1, 0,  0, 0, 2, 2,  0, 2, 2, 0},
        /* sum-pool */
        {1.0f / 7, 3.0f / 7, 6.0f / 7, 6.0f / 7,  3.0f / 7, 0, 6.0f / 7, 3.0f / 7,
         0, 0.5f, 2, 2,  0.5f, 1, 2, 0},
    };
    static const lrpx_maxpool_mode modes[3] = {LRPX_MAXPOOL_WINNER, LRPX_MAXPOOL_WINNER_SPLIT,
                                               LRPX_MAXPOOL_SUM};
    lrpx_test_model *m     = hand_model(0);
    lrpx_model      *model = load_ok(m);
    struct tin       in    = {"x", 4, {1, 1, 4, 4}, (float *)hand_x};
    lrpx_session    *s     = run_ok(model, &in, 1);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(relevance_pass(s, "y", hand_r, modes[k], 1e-9), LRPX_OK);
        ck_assert_tensor_near(relevance_of(s, "x"), want[k], 16, 1e-6, 1e-7);
    }
    /* the gradient follows the winner rule with g in place of R */
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = hand_r;
    o.seed_n_elems = 4;
    o.output_name  = "y";
    ck_assert_int_eq(lrpx_session_gradient(s, &o), LRPX_OK);
    lrpx_tensor_view g;
    ck_assert_int_eq(lrpx_session_gradient_of(s, "x", &g), LRPX_OK);
    ck_assert_tensor_near(g.data, want[0], 16, 0.0, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- ceil_mode edge cases, expected values printed by PyTorch 1.13 ---- */

static void
run_1d(const char *op, int64_t n, int64_t k, int64_t s, int64_t pad, int ceil_mode, int cip,
       const float *want, int64_t n_want)
{
    float x[16];
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i;
    lrpx_test_model *m = lrpx_test_model_new(11);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){1, 1, n});
    lrpx_test_model_node(m, op, "pool", LT_IO("x"), LT_IO("y"), LT_INTS("kernel_shape", k),
                         LT_INTS("strides", s), LT_INTS("pads", pad, pad),
                         LT_INT("ceil_mode", ceil_mode),
                         op[0] == 'A' ? LT_INT("count_include_pad", cip) : NULL, NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model  *model = load_ok(m);
    struct tin   in    = {"x", 3, {1, 1, n}, x};
    lrpx_session *ss   = run_ok(model, &in, 1);
    int64_t      ny;
    const float *y = value_f32(ss, "y", &ny);
    ck_assert_int_eq(ny, n_want);
    ck_assert_tensor_near(y, want, n_want, 1e-6, 1e-6);
    lrpx_session_free(ss);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}

START_TEST(test_pool_ceil_mode)
{
    /* F.max_pool1d(arange(5), 2, stride=2, padding=1, ceil_mode=True):
     * the 4th window would start in the end padding and is dropped */
    run_1d("MaxPool", 5, 2, 2, 1, 1, 0, (const float[]){0, 2, 4}, 3);
    /* F.avg_pool1d(same, count_include_pad=True / False) */
    run_1d("AveragePool", 5, 2, 2, 1, 1, 1, (const float[]){0, 1.5f, 3.5f}, 3);
    run_1d("AveragePool", 5, 2, 2, 1, 1, 0, (const float[]){0, 1.5f, 3.5f}, 3);
    /* F.avg_pool1d(arange(6), 3, stride=2, padding=1, ceil_mode=True,
     * count_include_pad=True): the last window [5, 6, 7] counts the pad
     * cell 6 but not 7, which lies past the end padding */
    run_1d("AveragePool", 6, 3, 2, 1, 1, 1, (const float[]){1.0f / 3, 2, 4, 2.5f}, 4);
    /* without ceil_mode the partial window disappears */
    run_1d("AveragePool", 6, 3, 2, 1, 0, 1, (const float[]){1.0f / 3, 2, 4}, 3);

    /* F.avg_pool2d(arange(25).view(1,1,5,5), 2, stride=2, ceil_mode=True,
     * count_include_pad=True) */
    static const float want2d[9] = {3, 5, 6.5f, 13, 15, 16.5f, 20.5f, 22.5f, 24};
    float              x[25];
    for (int i = 0; i < 25; i++)
        x[i] = (float)i;
    struct pool2d p = {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .ceil_mode = 1,
                       .cip = 1};
    lrpx_test_model *m     = pool_model("AveragePool", &p, 1, 5, 5);
    lrpx_model      *model = load_ok(m);
    struct tin       in    = {"x", 4, {1, 1, 5, 5}, x};
    lrpx_session    *s     = run_ok(model, &in, 1);
    int64_t          ny;
    const float     *y = value_f32(s, "y", &ny);
    ck_assert_int_eq(ny, 9);
    ck_assert_tensor_near(y, want2d, 9, 1e-6, 1e-6);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- pooling over a grid of settings vs the float64 reference ---- */

static const struct pool2d pool_grid[] = {
    {.kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1},
    {.kh = 3, .kw = 2, .sh = 2, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pl = 0, .pb = 1, .pr = 1},
    {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
     .cip = 1},
    {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
     .ceil_mode = 1},
    {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
     .ceil_mode = 1, .cip = 1},
    {.kh = 2, .kw = 3, .sh = 3, .sw = 2, .dh = 1, .dw = 1, .pt = 0, .pl = 2, .pb = 1, .pr = 0,
     .ceil_mode = 1},
    {.kh = 2, .kw = 2, .sh = 1, .sw = 2, .dh = 2, .dw = 3, .pt = 1, .pl = 1, .pb = 0, .pr = 2},
    {.kh = 3, .kw = 2, .sh = 2, .sw = 2, .dh = 2, .dw = 1, .ceil_mode = 1, .cip = 1, .pt = 2,
     .pb = 1},
    {.kh = 2, .kw = 3, .sh = 2, .sw = 1, .dh = 1, .dw = 1, .auto_pad = "SAME_UPPER"},
    {.kh = 2, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .auto_pad = "SAME_LOWER", .cip = 1},
    {.kh = 4, .kw = 3, .sh = 3, .sw = 2, .dh = 1, .dw = 2, .auto_pad = "SAME_UPPER"},
    {.kh = 2, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .auto_pad = "VALID"},
    {.kh = 2, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .auto_pad = "VALID", .ceil_mode = 1},
};
#define N_POOL_GRID ((int)(sizeof pool_grid / sizeof pool_grid[0]))

/* loop index: grid entry * 2 + (0 MaxPool, 1 AveragePool) */
START_TEST(test_pool_grid)
{
    const struct pool2d *p    = &pool_grid[_i / 2];
    int                  kind = _i % 2 ? REF_AVG : REF_MAX;
    const char          *op   = kind == REF_AVG ? "AveragePool" : "MaxPool";
    enum { C = 2, H = 7, W = 8 };
    float x[C * H * W];
    /* quantized values: ties inside windows are common (max-pool modes) */
    for (int i = 0; i < C * H * W; i++)
        x[i] = (float)(floor(rnd() * 5.0) * 0.5 + (kind == REF_AVG ? 0.25 : -1.0));

    int64_t OH, OW;
    double  yref[4 * C * H * W], rin[C * H * W];
    ref_pool2d(p, kind, C, H, W, x, &OH, &OW, yref, NULL, NULL, LRPX_MAXPOOL_WINNER, 0);

    lrpx_test_model *m     = pool_model(op, p, C, H, W);
    lrpx_model      *model = load_ok(m);
    struct tin       in    = {"x", 4, {1, C, H, W}, x};
    lrpx_session    *s     = run_ok(model, &in, 1);
    lrpx_tensor_view yv;
    ck_assert_int_eq(lrpx_session_value(s, "y", &yv), LRPX_OK);
    ck_assert_int_eq(yv.rank, 4);
    ck_assert_msg(yv.dims[2] == OH && yv.dims[3] == OW,
                  "%s grid %d: output %lldx%lld, want %lldx%lld", op, _i / 2, (long long)yv.dims[2], (long long)yv.dims[3], (long long)OH,
                  (long long)OW);
    float yr[4 * C * H * W];
    for (int64_t i = 0; i < C * OH * OW; i++)
        yr[i] = (float)yref[i];
    ck_assert_tensor_near(yv.data, yr, C * OH * OW, 1e-6, 1e-6);

    /* relevance of every mode against the reference */
    float r[4 * C * H * W];
    ck_assert_int_le(C * OH * OW, 4 * C * H * W);
    fill(r, C * OH * OW, -1.0, 2.0);
    for (int mode = 0; mode < (kind == REF_AVG ? 1 : LRPX_MAXPOOL_COUNT); mode++) {
        double stab = 1e-3;
        ref_pool2d(p, kind, C, H, W, x, &OH, &OW, yref, r, rin, (lrpx_maxpool_mode)mode, stab);
        ck_assert_int_eq(relevance_pass(s, "y", r, (lrpx_maxpool_mode)mode, stab), LRPX_OK);
        float want[C * H * W];
        for (int i = 0; i < C * H * W; i++)
            want[i] = (float)rin[i];
        ck_assert_tensor_near(relevance_of(s, "x"), want, C * H * W, 1e-5, 1e-6);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* 3-D pooling with padding and ceil_mode against a direct float64 loop. */
START_TEST(test_pool_3d)
{
    enum { D = 4, H = 5, W = 3 };
    float x[2 * D * H * W];
    fill_distinct(x, 2 * D * H * W, 0.25);
    lrpx_test_model *m = lrpx_test_model_new(12);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 5, (int64_t[]){1, 2, D, H, W});
    lrpx_test_model_node(m, "MaxPool", "mp", LT_IO("x"), LT_IO("ym"),
                         LT_INTS("kernel_shape", 2, 3, 2), LT_INTS("strides", 2, 2, 1),
                         LT_INTS("pads", 1, 1, 0, 0, 1, 1), LT_INT("ceil_mode", 1), NULL);
    lrpx_test_model_node(m, "AveragePool", "ap", LT_IO("x"), LT_IO("ya"),
                         LT_INTS("kernel_shape", 2, 3, 2), LT_INTS("strides", 2, 2, 1),
                         LT_INTS("pads", 1, 1, 0, 0, 1, 1), LT_INT("ceil_mode", 1),
                         LT_INT("count_include_pad", 1), NULL);
    lrpx_test_model_output(m, "ym");
    lrpx_test_model_output(m, "ya");
    lrpx_model  *model = load_ok(m);
    struct tin   in    = {"x", 5, {1, 2, D, H, W}, x};
    lrpx_session *s    = run_ok(model, &in, 1);

    /* per dim: in, k, s, pad head, pad tail */
    const int64_t g[3][5] = {{D, 2, 2, 1, 0}, {H, 3, 2, 1, 1}, {W, 2, 1, 0, 1}};
    int64_t       o[3];
    for (int d = 0; d < 3; d++) {
        int64_t ph = g[d][3], pt = g[d][4];
        o[d] = ref_out_size(g[d][0], g[d][1], g[d][2], 1, &ph, &pt, NULL, 1);
    }
    int64_t nym, nya;
    const float *ym = value_f32(s, "ym", &nym);
    const float *ya = value_f32(s, "ya", &nya);
    ck_assert_int_eq(nym, 2 * o[0] * o[1] * o[2]);
    ck_assert_int_eq(nya, nym);
    for (int64_t c = 0; c < 2; c++)
        for (int64_t a = 0; a < o[0]; a++)
            for (int64_t b = 0; b < o[1]; b++)
                for (int64_t e = 0; e < o[2]; e++) {
                    double best = -INFINITY, sum = 0.0, npad = 0.0;
                    for (int64_t i = 0; i < 2; i++)
                        for (int64_t j = 0; j < 3; j++)
                            for (int64_t k = 0; k < 2; k++) {
                                int64_t z = a * 2 - 1 + i, h = b * 2 - 1 + j, w = e - 0 + k;
                                if (z < D + 0 && h < H + 1 && w < W + 1)
                                    npad += 1.0;
                                if (z < 0 || z >= D || h < 0 || h >= H || w < 0 || w >= W)
                                    continue;
                                double v = x[((c * D + z) * H + h) * W + w];
                                best = fmax(best, v);
                                sum += v;
                            }
                    int64_t oi = ((c * o[0] + a) * o[1] + b) * o[2] + e;
                    ck_assert_float_eq_tol(ym[oi], best, 1e-6);
                    ck_assert_float_eq_tol(ya[oi], sum / npad, 1e-5);
                }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- global pools ---- */

START_TEST(test_global_pools)
{
    enum { N = 2, C = 3, H = 4, W = 5, P = H * W };
    float x[N * C * P];
    fill(x, N * C * P, 0.1, 2.0);
    x[7] = x[9] = 5.0f;  /* a tie for the maximum of plane 0 */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
    lrpx_test_model_node(m, "GlobalAveragePool", "gap", LT_IO("x"), LT_IO("ya"), NULL);
    lrpx_test_model_node(m, "GlobalMaxPool", "gmp", LT_IO("x"), LT_IO("ym"), NULL);
    lrpx_test_model_output(m, "ya");
    lrpx_test_model_output(m, "ym");
    lrpx_model  *model = load_ok(m);
    struct tin   in    = {"x", 4, {N, C, H, W}, x};
    lrpx_session *s    = run_ok(model, &in, 1);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_value(s, "ya", &v), LRPX_OK);
    ck_assert_int_eq(v.rank, 4);
    ck_assert_int_eq(v.dims[2] * v.dims[3], 1);

    float r[N * C];
    fill(r, N * C, 0.5, 1.5);
    double stab = 1e-4;
    for (int mode = -1; mode < LRPX_MAXPOOL_COUNT; mode++) {
        /* mode -1: GlobalAveragePool; others: GlobalMaxPool */
        const char *out = mode < 0 ? "ya" : "ym";
        float       want[N * C * P], yw[N * C];
        for (int pl = 0; pl < N * C; pl++) {
            const float *xp = x + pl * P;
            double       sum = 0.0, best = -INFINITY;
            int          first = -1, ties = 0;
            for (int i = 0; i < P; i++) {
                sum += xp[i];
                if (first < 0 || xp[i] > best) {
                    best  = xp[i];
                    first = i;
                    ties  = 1;
                } else if (xp[i] == best) {
                    ties++;
                }
            }
            yw[pl] = (float)(mode < 0 ? sum / P : best);
            for (int i = 0; i < P; i++) {
                double R = r[pl], v2 = 0.0;
                if (mode < 0)
                    v2 = (xp[i] / P) / lrpx__stabilize(sum / P, stab) * R;
                else if (mode == LRPX_MAXPOOL_WINNER)
                    v2 = i == first ? R : 0.0;
                else if (mode == LRPX_MAXPOOL_WINNER_SPLIT)
                    v2 = xp[i] == best ? R / ties : 0.0;
                else
                    v2 = xp[i] / lrpx__stabilize(sum, stab) * R;
                want[pl * P + i] = (float)v2;
            }
        }
        ck_assert_tensor_near(value_f32(s, out, NULL), yw, N * C, 1e-6, 1e-6);
        ck_assert_int_eq(relevance_pass(s, out, r, mode < 0 ? 0 : (lrpx_maxpool_mode)mode, stab),
                         LRPX_OK);
        ck_assert_tensor_near(relevance_of(s, "x"), want, N * C * P, 1e-5, 1e-7);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- conservation ---- */

START_TEST(test_conservation)
{
    /* overlapping windows with padding; positive inputs; a tiny
     * stabilizer: sum R_in == sum R_out to float precision */
    struct pool2d p = {.kh = 3, .kw = 3, .sh = 1, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 1,
                       .pb = 1, .pr = 1, .ceil_mode = 1, .cip = 0};
    enum { C = 3, H = 6, W = 7 };
    float x[C * H * W], r[C * H * W];
    fill(x, C * H * W, 0.1, 1.0);
    const char *ops[] = {"AveragePool", "MaxPool"};
    for (int k = 0; k < 2; k++) {
        lrpx_test_model *m     = pool_model(ops[k], &p, C, H, W);
        lrpx_model      *model = load_ok(m);
        struct tin       in    = {"x", 4, {1, C, H, W}, x};
        lrpx_session    *s     = run_ok(model, &in, 1);
        int64_t          ny;
        value_f32(s, "y", &ny);
        fill(r, ny, 0.0, 1.0);
        double rout = 0.0;
        for (int64_t i = 0; i < ny; i++)
            rout += r[i];
        for (int mode = 0; mode < LRPX_MAXPOOL_COUNT; mode++) {
            ck_assert_int_eq(relevance_pass(s, "y", r, (lrpx_maxpool_mode)mode, 1e-9), LRPX_OK);
            const float *ri  = relevance_of(s, "x");
            double       sum = 0.0;
            for (int i = 0; i < C * H * W; i++)
                sum += ri[i];
            ck_assert_msg(fabs(sum - rout) <= 1e-5 * rout, "%s mode %d: sum R_in %.9g, R_out %.9g",
                          ops[k], mode, sum, rout);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* ReduceSum / ReduceMean over two axes, GlobalAveragePool */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){2, C, H, W});
    lrpx_test_model_init_i64(m, "axes", 1, (int64_t[]){2}, (int64_t[]){1, 3});
    lrpx_test_model_node(m, "ReduceSum", "rs", LT_IO("x", "axes"), LT_IO("ys"),
                         LT_INT("keepdims", 0), NULL);
    lrpx_test_model_node(m, "ReduceMean", "rm", LT_IO("x"), LT_IO("ym"), LT_INTS("axes", 0, 2),
                         NULL);
    lrpx_test_model_node(m, "GlobalAveragePool", "gap", LT_IO("x"), LT_IO("yg"), NULL);
    lrpx_test_model_output(m, "ys");
    lrpx_test_model_output(m, "ym");
    lrpx_test_model_output(m, "yg");
    float x2[2 * C * H * W];
    fill(x2, 2 * C * H * W, 0.1, 1.0);
    lrpx_model   *model = load_ok(m);
    struct tin    in    = {"x", 4, {2, C, H, W}, x2};
    lrpx_session *s     = run_ok(model, &in, 1);
    const char   *outs[] = {"ys", "ym", "yg"};
    for (int k = 0; k < 3; k++) {
        int64_t ny;
        value_f32(s, outs[k], &ny);
        fill(r, ny, 0.0, 1.0);
        double rout = 0.0, sum = 0.0;
        for (int64_t i = 0; i < ny; i++)
            rout += r[i];
        ck_assert_int_eq(relevance_pass(s, outs[k], r, LRPX_MAXPOOL_WINNER, 1e-9), LRPX_OK);
        const float *ri = relevance_of(s, "x");
        for (int i = 0; i < 2 * C * H * W; i++)
            sum += ri[i];
        ck_assert_msg(fabs(sum - rout) <= 1e-5 * rout, "%s: sum R_in %.9g, R_out %.9g", outs[k],
                      sum, rout);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- gradients vs finite differences ---- */

START_TEST(test_fd_pools)
{
    enum { C = 2, H = 5, W = 6 };
    float x[C * H * W];
    struct pool2d p = {.kh = 3, .kw = 2, .sh = 2, .sw = 1, .dh = 1, .dw = 2, .pt = 1, .pl = 1,
                       .pb = 1, .pr = 0, .ceil_mode = 1, .cip = 1};
    for (int k = 0; k < 4; k++) {
        /* no ties: finite differences are exact for max-pool away from them */
        fill_distinct(x, C * H * W, 0.05);
        struct tin in = {"x", 4, {1, C, H, W}, x};
        p.cip = k & 1;
        lrpx_test_model *m = pool_model(k < 2 ? "MaxPool" : "AveragePool", &p, C, H, W);
        fd_check(m, &in, 1, 1, "y", 1e-2, 1e-3);
        lrpx_test_model_free(m);
    }
    fill_distinct(x, C * H * W, 0.05);
    struct tin       in = {"x", 4, {1, C, H, W}, x};
    lrpx_test_model *m  = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, C, H, W});
    lrpx_test_model_node(m, "GlobalAveragePool", "gap", LT_IO("x"), LT_IO("a"), NULL);
    lrpx_test_model_node(m, "GlobalMaxPool", "gmp", LT_IO("x"), LT_IO("b"), NULL);
    lrpx_test_model_output(m, "a");
    lrpx_test_model_output(m, "b");
    fd_check(m, &in, 1, 1, "a", 1e-2, 1e-3);
    fd_check(m, &in, 1, 1, "b", 1e-2, 1e-3);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_fd_norms)
{
    enum { N = 2, C = 3, H = 2, W = 3, S = N * C * H * W };
    float x[S], sc[C], b[C], mean[C], var[C];
    fill(x, S, -2.0, 2.0);
    fill(sc, C, 0.5, 1.5);
    fill(b, C, -1.0, 1.0);
    fill(mean, C, -0.5, 0.5);
    fill(var, C, 0.5, 2.0);

    /* BatchNormalization: data, scale, B, mean and var all fed */
    lrpx_test_model *m = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
    const char *pn[4] = {"s", "b", "m", "v"};
    for (int i = 0; i < 4; i++)
        lrpx_test_model_input(m, pn[i], LRPX_DTYPE_FLOAT32, 1, (int64_t[]){C});
    lrpx_test_model_node(m, "BatchNormalization", "bn", LT_IO("x", "s", "b", "m", "v"),
                         LT_IO("y"), LT_FLOAT("epsilon", 1e-3f), NULL);
    lrpx_test_model_output(m, "y");
    struct tin bn_in[5] = {{"x", 4, {N, C, H, W}, x}, {"s", 1, {C}, sc}, {"b", 1, {C}, b},
                           {"m", 1, {C}, mean},       {"v", 1, {C}, var}};
    fd_check(m, bn_in, 5, 5, "y", 1e-2, 1e-3);
    lrpx_test_model_free(m);

    /* InstanceNormalization: data, scale, B */
    m = lrpx_test_model_new(6);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
    lrpx_test_model_input(m, "s", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){C});
    lrpx_test_model_input(m, "b", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){C});
    lrpx_test_model_node(m, "InstanceNormalization", "in", LT_IO("x", "s", "b"), LT_IO("y"),
                         LT_FLOAT("epsilon", 1e-2f), NULL);
    lrpx_test_model_output(m, "y");
    fd_check(m, bn_in, 3, 3, "y", 1e-2, 1e-3);
    lrpx_test_model_free(m);

    /* LRN (size 3: windows clipped at both channel ends) */
    for (int size = 2; size <= 3; size++) {
        m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
        lrpx_test_model_node(m, "LRN", "lrn", LT_IO("x"), LT_IO("y"), LT_INT("size", size),
                             LT_FLOAT("alpha", 0.5f), LT_FLOAT("beta", 0.75f),
                             LT_FLOAT("bias", 1.5f), NULL);
        lrpx_test_model_output(m, "y");
        fd_check(m, bn_in, 1, 1, "y", 1e-2, 1e-3);
        lrpx_test_model_free(m);
    }

    /* LayerNormalization over the last two axes, Scale broadcast over H,
     * all three outputs */
    float ls[W], lb[H * W];
    fill(ls, W, 0.5, 1.5);
    fill(lb, H * W, -1.0, 1.0);
    m = lrpx_test_model_new(17);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
    lrpx_test_model_input(m, "s", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, W});
    lrpx_test_model_input(m, "b", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){H, W});
    lrpx_test_model_node(m, "LayerNormalization", "ln", LT_IO("x", "s", "b"),
                         LT_IO("y", "mu", "inv"), LT_INT("axis", -2),
                         LT_FLOAT("epsilon", 1e-2f), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_output(m, "mu");
    lrpx_test_model_output(m, "inv");
    struct tin ln_in[3] = {{"x", 4, {N, C, H, W}, x}, {"s", 2, {1, W}, ls}, {"b", 2, {H, W}, lb}};
    fd_check(m, ln_in, 3, 3, "y", 1e-2, 1e-3);
    fd_check(m, ln_in, 3, 1, "mu", 1e-2, 1e-3);
    fd_check(m, ln_in, 3, 1, "inv", 1e-2, 1e-3);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_fd_softmax)
{
    enum { A = 2, B = 3, D = 4 };
    float x[A * B * D];
    fill(x, A * B * D, -2.0, 2.0);
    struct tin in = {"x", 3, {A, B, D}, x};
    const char *ops[2] = {"Softmax", "LogSoftmax"};
    for (int k = 0; k < 2; k++)
        for (int opset = 11; opset <= 13; opset += 2)
            for (int axis = -3; axis < 3; axis++) {
                lrpx_test_model *m = lrpx_test_model_new(opset);
                lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){A, B, D});
                lrpx_test_model_node(m, ops[k], "sm", LT_IO("x"), LT_IO("y"),
                                     LT_INT("axis", axis), NULL);
                lrpx_test_model_output(m, "y");
                fd_check(m, &in, 1, 1, "y", 1e-2, 1e-3);
                lrpx_test_model_free(m);
            }
}
END_TEST

static const char *const reduce_ops[] = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
    "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp",
};
#define N_REDUCE ((int)(sizeof reduce_ops / sizeof reduce_ops[0]))

START_TEST(test_fd_reduce)
{
    enum { A = 2, B = 3, D = 4 };
    float x[A * B * D];
    /* distinct, non-zero and positive (ReduceLogSum needs positive sums) */
    fill_distinct(x, A * B * D, 0.1);
    for (int i = 0; i < A * B * D; i++)
        x[i] += 1.45f;
    struct tin in = {"x", 3, {A, B, D}, x};
    for (int k = 0; k < N_REDUCE; k++)
        for (int variant = 0; variant < 3; variant++) {
            lrpx_test_model *m = lrpx_test_model_new(11);
            lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){A, B, D});
            if (variant == 0)        /* two axes, one negative, keepdims */
                lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"),
                                     LT_INTS("axes", 0, -1), NULL);
            else if (variant == 1)   /* the middle axis, keepdims 0 */
                lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"),
                                     LT_INTS("axes", 1), LT_INT("keepdims", 0), NULL);
            else                     /* everything */
                lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"), NULL);
            lrpx_test_model_output(m, "y");
            fd_check(m, &in, 1, 1, "y", 1e-2, 1e-3);
            lrpx_test_model_free(m);
        }
}
END_TEST

/* ---- BatchNormalization ---- */

START_TEST(test_batchnorm_forms)
{
    enum { N = 2, C = 3, H = 2, W = 2, P = H * W, S = N * C * P };
    float x[S], prm[4][C * P];
    fill(x, S, -2.0, 2.0);
    for (int i = 0; i < 4; i++)
        fill(prm[i], C * P, i == 3 ? 0.5 : -1.0, 1.5);
    const float eps = 1e-2f;

    /* opset 6, spatial = 0: per-activation parameters of shape C x H x W;
     * opset 1 with consumed_inputs; opset 7 and 15 with per-channel ones */
    for (int form = 0; form < 4; form++) {
        int         spatial = form != 0;
        int         opset   = form == 0 ? 6 : form == 1 ? 1 : form == 2 ? 7 : 15;
        lrpx_test_model *m  = lrpx_test_model_new(opset);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
        const char *names[4] = {"s", "b", "m", "v"};
        for (int i = 0; i < 4; i++) {
            if (spatial)
                lrpx_test_model_init_f32(m, names[i], 1, (int64_t[]){C}, prm[i]);
            else
                lrpx_test_model_init_f32(m, names[i], 3, (int64_t[]){C, H, W}, prm[i]);
        }
        if (form == 0)
            lrpx_test_model_node(m, "BatchNormalization", "bn", LT_IO("x", "s", "b", "m", "v"),
                                 LT_IO("y"), LT_FLOAT("epsilon", eps), LT_INT("spatial", 0),
                                 LT_INT("is_test", 1), NULL);
        else if (form == 1)
            lrpx_test_model_node(m, "BatchNormalization", "bn", LT_IO("x", "s", "b", "m", "v"),
                                 LT_IO("y"), LT_FLOAT("epsilon", eps), LT_INT("is_test", 1),
                                 LT_INTS("consumed_inputs", 0, 0, 0, 1, 1), NULL);
        else
            lrpx_test_model_node(m, "BatchNormalization", "bn", LT_IO("x", "s", "b", "m", "v"),
                                 LT_IO("y"), LT_FLOAT("epsilon", eps),
                                 LT_FLOAT("momentum", 0.5f), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model  *model = load_ok(m);
        struct tin   in    = {"x", 4, {N, C, H, W}, x};
        lrpx_session *s    = run_ok(model, &in, 1);

        float  want[S], rwant[S], r[S];
        double stab = 1e-2;
        fill(r, S, -1.0, 1.0);
        for (int i = 0; i < S; i++) {
            int    c  = (i / P) % C;
            int    pi = spatial ? c : i % (C * P);
            double a  = prm[0][pi] / sqrt((double)prm[3][pi] + eps);
            double y  = a * (x[i] - prm[2][pi]) + prm[1][pi];
            want[i]   = (float)y;
            /* R_x = a x / stab(y) R */
            rwant[i] = (float)(a * x[i] / lrpx__stabilize(y, stab) * r[i]);
        }
        ck_assert_tensor_near(value_f32(s, "y", NULL), want, S, 1e-5, 1e-6);
        ck_assert_int_eq(relevance_pass(s, "y", r, LRPX_MAXPOOL_WINNER, stab), LRPX_OK);
        ck_assert_tensor_near(relevance_of(s, "x"), rwant, S, 1e-4, 1e-6);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* ---- LayerNormalization / InstanceNormalization / LRN forward ---- */

START_TEST(test_norm_forward)
{
    enum { N = 2, C = 3, H = 2, W = 4, P = H * W, S = N * C * P };
    float x[S], s1[C * H * W], b1[C * H * W];
    fill(x, S, -2.0, 3.0);
    fill(s1, C * H * W, 0.5, 1.5);
    fill(b1, C * H * W, -1.0, 1.0);

    /* LayerNormalization for every axis, Scale shaped like the trailing
     * dims with the first of them set to 1 (broadcast), no B */
    for (int axis = 1; axis < 4; axis++) {
        int64_t xd[4] = {N, C, H, W}, sd[4];
        int     sr    = 4 - axis;
        for (int d = 0; d < sr; d++)
            sd[d] = d == 0 ? 1 : xd[axis + d];
        lrpx_test_model *m = lrpx_test_model_new(17);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, xd);
        lrpx_test_model_init_f32(m, "s", sr, sd, s1);
        lrpx_test_model_node(m, "LayerNormalization", "ln", LT_IO("x", "s"),
                             LT_IO("y", "mu", "inv"), LT_INT("axis", axis),
                             LT_FLOAT("epsilon", 1e-3f), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_test_model_output(m, "mu");
        lrpx_test_model_output(m, "inv");
        lrpx_model  *model = load_ok(m);
        struct tin   in    = {"x", 4, {N, C, H, W}, x};
        lrpx_session *ss   = run_ok(model, &in, 1);
        int64_t      G = numel(axis, xd), M = S / G, snel = numel(sr, sd);
        float        want[S], wmu[S], winv[S];
        for (int64_t gi = 0; gi < G; gi++) {
            double mu = 0.0, var = 0.0;
            for (int64_t k = 0; k < M; k++)
                mu += x[gi * M + k];
            mu /= (double)M;
            for (int64_t k = 0; k < M; k++)
                var += (x[gi * M + k] - mu) * (x[gi * M + k] - mu);
            var /= (double)M;
            for (int64_t k = 0; k < M; k++)   /* scale repeats every snel */
                want[gi * M + k] =
                    (float)((x[gi * M + k] - mu) / sqrt(var + 1e-3) * s1[k % snel]);
            wmu[gi]  = (float)mu;
            winv[gi] = (float)(1.0 / sqrt(var + 1e-3));
        }
        ck_assert_tensor_near(value_f32(ss, "y", NULL), want, S, 1e-5, 1e-5);
        int64_t nmu;
        ck_assert_tensor_near(value_f32(ss, "mu", &nmu), wmu, G, 1e-5, 1e-6);
        ck_assert_int_eq(nmu, G);
        ck_assert_tensor_near(value_f32(ss, "inv", NULL), winv, G, 1e-5, 1e-6);
        /* pass-through relevance */
        float r[S];
        fill(r, S, -1.0, 1.0);
        ck_assert_int_eq(relevance_pass(ss, "y", r, LRPX_MAXPOOL_WINNER, 1e-6), LRPX_OK);
        ck_assert_tensor_near(relevance_of(ss, "x"), r, S, 0.0, 0.0);
        lrpx_session_free(ss);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* InstanceNormalization and LRN (even size: the window reaches one
     * channel further up than down) with pass-through relevance */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){N, C, H, W});
    lrpx_test_model_init_f32(m, "s", 1, (int64_t[]){C}, s1);
    lrpx_test_model_init_f32(m, "b", 1, (int64_t[]){C}, b1);
    lrpx_test_model_node(m, "InstanceNormalization", "in", LT_IO("x", "s", "b"), LT_IO("yi"),
                         NULL);
    lrpx_test_model_node(m, "LRN", "lrn", LT_IO("x"), LT_IO("yl"), LT_INT("size", 2),
                         LT_FLOAT("alpha", 0.3f), LT_FLOAT("beta", 0.6f), LT_FLOAT("bias", 2.0f),
                         NULL);
    lrpx_test_model_output(m, "yi");
    lrpx_test_model_output(m, "yl");
    lrpx_model  *model = load_ok(m);
    struct tin   in    = {"x", 4, {N, C, H, W}, x};
    lrpx_session *ss   = run_ok(model, &in, 1);
    float        wi[S], wl[S];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *xp = x + (n * C + c) * P;
            double       mu = 0.0, var = 0.0;
            for (int k = 0; k < P; k++)
                mu += xp[k];
            mu /= P;
            for (int k = 0; k < P; k++)
                var += (xp[k] - mu) * (xp[k] - mu);
            var /= P;
            for (int k = 0; k < P; k++) {
                wi[(n * C + c) * P + k] = (float)(s1[c] * (xp[k] - mu) / sqrt(var + 1e-5) + b1[c]);
                /* size 2: channels c and c + 1 (floor((2-1)/2) = 0 below,
                 * ceil((2-1)/2) = 1 above) */
                double sq = 0.0;
                for (int cc = c; cc <= c + 1 && cc < C; cc++) {
                    double v = x[(n * C + cc) * P + k];
                    sq += v * v;
                }
                wl[(n * C + c) * P + k] = (float)(xp[k] / pow(2.0 + 0.3 / 2 * sq, 0.6));
            }
        }
    ck_assert_tensor_near(value_f32(ss, "yi", NULL), wi, S, 1e-5, 1e-5);
    ck_assert_tensor_near(value_f32(ss, "yl", NULL), wl, S, 1e-5, 1e-6);
    float r[S];
    fill(r, S, -1.0, 1.0);
    const char *outs[2] = {"yi", "yl"};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(relevance_pass(ss, outs[k], r, LRPX_MAXPOOL_WINNER, 1e-6), LRPX_OK);
        ck_assert_tensor_near(relevance_of(ss, "x"), r, S, 0.0, 0.0);
    }
    lrpx_session_free(ss);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- Softmax: axis rules per opset, relevance inside a graph ---- */

START_TEST(test_softmax_axes)
{
    enum { A = 2, B = 3, D = 4, S = A * B * D };
    float x[S];
    fill(x, S, -3.0, 3.0);
    x[5] = 80.0f;  /* large: needs the max subtraction */
    const int64_t dims[3] = {A, B, D};
    for (int use_log = 0; use_log < 2; use_log++)
        for (int opset = 11; opset <= 13; opset += 2)
            for (int axis = -3; axis < 3; axis++) {
                lrpx_test_model *m = lrpx_test_model_new(opset);
                lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, dims);
                lrpx_test_model_node(m, use_log ? "LogSoftmax" : "Softmax", "sm", LT_IO("x"),
                                     LT_IO("y"), LT_INT("axis", axis), NULL);
                lrpx_test_model_output(m, "y");
                lrpx_model  *model = load_ok(m);
                struct tin   in    = {"x", 3, {A, B, D}, x};
                lrpx_session *s    = run_ok(model, &in, 1);
                /* rows: opset 11 coerces to 2-D at axis, 13 uses one axis */
                int     a = axis < 0 ? axis + 3 : axis;
                int64_t outer = numel(a, dims), len, inner;
                if (opset < 13) {
                    len   = S / outer;
                    inner = 1;
                } else {
                    len   = dims[a];
                    inner = S / outer / len;
                }
                float want[S];
                for (int64_t o = 0; o < outer; o++)
                    for (int64_t i = 0; i < inner; i++) {
                        double mx = -INFINITY, sum = 0.0;
                        for (int64_t j = 0; j < len; j++)
                            mx = fmax(mx, x[(o * len + j) * inner + i]);
                        for (int64_t j = 0; j < len; j++)
                            sum += exp(x[(o * len + j) * inner + i] - mx);
                        for (int64_t j = 0; j < len; j++) {
                            double z = x[(o * len + j) * inner + i] - mx;
                            want[(o * len + j) * inner + i] =
                                (float)(use_log ? z - log(sum) : exp(z) / sum);
                        }
                    }
                ck_assert_tensor_near(value_f32(s, "y", NULL), want, S, 1e-5, 1e-6);
                lrpx_session_free(s);
                lrpx_model_free(model);
                lrpx_test_model_free(m);
            }
}
END_TEST

START_TEST(test_softmax_no_relevance)
{
    /* Softmax feeding another node is not explainable: the relevance pass
     * stops there with an error naming it */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 4});
    lrpx_test_model_node(m, "Softmax", "probs", LT_IO("x"), LT_IO("p"), NULL);
    lrpx_test_model_node(m, "ReduceSum", "total", LT_IO("p"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    float         x[4] = {1, 2, 3, 4}, r[1] = {1};
    lrpx_model   *model = load_ok(m);
    struct tin    in    = {"x", 2, {1, 4}, x};
    lrpx_session *s     = run_ok(model, &in, 1);
    ck_assert_int_eq(relevance_pass(s, "y", r, LRPX_MAXPOOL_WINNER, 1e-6), LRPX_EUNSUPPORTED);
    ck_assert_msg(strstr(lrpx_session_errmsg(s), "'probs'"), "%s", lrpx_session_errmsg(s));
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- Reduce* ---- */

/* float64 reference of every reduction over a 2 x 3 x 4 tensor; `red`
 * says which dims are reduced */
static double
ref_reduce(int k, const float *x, const bool *red, const int64_t *oidx)
{
    double acc = k == 2 ? -INFINITY : k == 3 ? INFINITY : k == 4 ? 1.0 : 0.0, cnt = 0.0;
    double mx = -INFINITY;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++) {
                int64_t idx[3] = {a, b, c};
                bool    in     = true;
                for (int d = 0; d < 3; d++)
                    if (!red[d] && idx[d] != oidx[d])
                        in = false;
                if (!in)
                    continue;
                double v = x[(a * 3 + b) * 4 + c];
                cnt += 1.0;
                mx = fmax(mx, v);
                switch (k) {
                case 0: case 1: case 8: acc += v; break;
                case 2: acc = fmax(acc, v); break;
                case 3: acc = fmin(acc, v); break;
                case 4: acc *= v; break;
                case 5: acc += fabs(v); break;
                case 6: case 7: acc += v * v; break;
                case 9: break;
                }
            }
    if (k == 9) {
        double s = 0.0;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 4; c++) {
                    int64_t idx[3] = {a, b, c};
                    bool    in     = true;
                    for (int d = 0; d < 3; d++)
                        if (!red[d] && idx[d] != oidx[d])
                            in = false;
                    if (in)
                        s += exp(x[(a * 3 + b) * 4 + c] - mx);
                }
        return mx + log(s);
    }
    return k == 1 ? acc / cnt : k == 6 ? sqrt(acc) : k == 8 ? log(acc) : acc;
}

START_TEST(test_reduce_forms)
{
    enum { S = 24 };
    const int64_t dims[3] = {2, 3, 4};
    float         x[S];
    fill(x, S, 0.2, 1.5);
    /* axes sets: {1}, {0, 2} (as 0, -1), all */
    const bool sets[3][3] = {{false, true, false}, {true, false, true}, {true, true, true}};
    for (int k = 0; k < N_REDUCE; k++)
        for (int form = 0; form < 4; form++)
            for (int si = 0; si < 3; si++)
                for (int keep = 0; keep < 2; keep++) {
                    /* form 0: attribute at opset 11; 1: constant input at
                     * opset 18 (13 for ReduceSum); 2: input via Constant
                     * folding is skipped here (needs Constant); 3: no axes */
                    if (form == 2 || (form == 3 && si != 2))
                        continue;
                    int64_t axes[3];
                    int     na = 0;
                    for (int d = 0; d < 3; d++)
                        if (sets[si][d])
                            axes[na++] = d == 2 && si == 1 ? -1 : d;
                    int opset = form == 1 ? (k == 0 ? 13 : 18) : 11;
                    lrpx_test_model *m = lrpx_test_model_new(opset);
                    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, dims);
                    if (form == 0)
                        lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"),
                                             LT_INTS_N("axes", na, axes),
                                             LT_INT("keepdims", keep), NULL);
                    else if (form == 1) {
                        lrpx_test_model_init_i64(m, "axes", 1, (int64_t[]){na}, axes);
                        lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x", "axes"),
                                             LT_IO("y"), LT_INT("keepdims", keep), NULL);
                    } else {
                        lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"),
                                             LT_INT("keepdims", keep), NULL);
                    }
                    lrpx_test_model_output(m, "y");
                    lrpx_model  *model = load_ok(m);
                    struct tin   in    = {"x", 3, {2, 3, 4}, x};
                    lrpx_session *s    = run_ok(model, &in, 1);
                    lrpx_tensor_view yv;
                    ck_assert_int_eq(lrpx_session_value(s, "y", &yv), LRPX_OK);
                    /* shape */
                    int orank = 0;
                    for (int d = 0; d < 3; d++)
                        if (!sets[si][d] || keep) {
                            ck_assert_int_eq(yv.dims[orank], sets[si][d] ? 1 : dims[d]);
                            orank++;
                        }
                    ck_assert_int_eq(yv.rank, orank);
                    /* values, in output order */
                    float   want[S];
                    int64_t n = 0, o[3];
                    for (o[0] = 0; o[0] < (sets[si][0] ? 1 : 2); o[0]++)
                        for (o[1] = 0; o[1] < (sets[si][1] ? 1 : 3); o[1]++)
                            for (o[2] = 0; o[2] < (sets[si][2] ? 1 : 4); o[2]++)
                                want[n++] = (float)ref_reduce(k, x, sets[si], o);
                    ck_assert_int_eq(yv.n_elems, n);
                    ck_assert_tensor_near(yv.data, want, n, 1e-5, 1e-6);
                    lrpx_session_free(s);
                    lrpx_model_free(model);
                    lrpx_test_model_free(m);
                }
}
END_TEST

START_TEST(test_reduce_noop_and_ints)
{
    /* ReduceSum-13 with an empty constant axes input: reduce all, or
     * nothing with noop_with_empty_axes = 1 */
    float x[6] = {1, 2, 3, 4, 5, 6};
    for (int noop = 0; noop < 2; noop++) {
        lrpx_test_model *m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3});
        lrpx_test_model_init_i64(m, "axes", 1, (int64_t[]){0}, (int64_t[]){0});
        lrpx_test_model_node(m, "ReduceSum", "r", LT_IO("x", "axes"), LT_IO("y"),
                             LT_INT("noop_with_empty_axes", noop), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model  *model = load_ok(m);
        struct tin   in    = {"x", 2, {2, 3}, x};
        lrpx_session *s    = run_ok(model, &in, 1);
        int64_t      n;
        const float *y = value_f32(s, "y", &n);
        if (noop) {
            ck_assert_int_eq(n, 6);
            ck_assert_tensor_near(y, x, 6, 0.0, 0.0);
        } else {
            ck_assert_int_eq(n, 1);
            ck_assert_float_eq(y[0], 21.0f);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* int64 reductions, folded at plan time (all inputs constant):
     * Sum, Prod, Max, Min, Mean (truncating) of [[3, -4, 5], [2, 7, -1]]
     * over axis 1: sums 4, 8; products -60, -14; max 5, 7; min -4, -1;
     * means 4/3 -> 1, 8/3 -> 2 */
    static const int64_t xi[6] = {3, -4, 5, 2, 7, -1};
    static const int64_t want[5][2] = {{4, 8}, {-60, -14}, {5, 7}, {-4, -1}, {1, 2}};
    const char *ops[5] = {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceMean"};
    lrpx_test_model *m = lrpx_test_model_new(11);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){1});
    lrpx_test_model_init_i64(m, "c", 2, (int64_t[]){2, 3}, xi);
    char names[5][8];
    for (int k = 0; k < 5; k++) {
        snprintf(names[k], sizeof names[k], "y%d", k);
        lrpx_test_model_node(m, ops[k], NULL, LT_IO("c"), LT_IO(names[k]), LT_INTS("axes", 1),
                             LT_INT("keepdims", 0), NULL);
        lrpx_test_model_output(m, names[k]);
    }
    lrpx_test_model_node(m, "Identity", NULL, LT_IO("x"), LT_IO("xo"), NULL);
    lrpx_test_model_output(m, "xo");
    lrpx_model  *model = load_ok(m);
    float        one   = 1.0f;
    struct tin   in    = {"x", 1, {1}, &one};
    lrpx_session *s    = run_ok(model, &in, 1);
    for (int k = 0; k < 5; k++) {
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_value(s, names[k], &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT64);
        ck_assert_int_eq(v.n_elems, 2);
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(((const int64_t *)v.data)[i], want[k][i]);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

START_TEST(test_reduce_relevance)
{
    enum { S = 24 };
    float x[S];
    fill(x, S, -0.5, 1.5);
    x[3] = x[7] = 2.0f;   /* tie for the maximum along axis 1 (c = 3, a = 0) */
    x[1] = x[9] = -1.0f;  /* tie for the minimum (c = 1, a = 0) */
    /* kinds with a rule: Sum, Mean, Max, Min, L1, L2, SumSquare, LogSum */
    const int kinds[] = {0, 1, 2, 3, 5, 6, 7, 8};
    const bool red[3] = {false, true, false};
    for (unsigned ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++) {
        int k = kinds[ki];
        lrpx_test_model *m = lrpx_test_model_new(11);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 4});
        lrpx_test_model_node(m, reduce_ops[k], "r", LT_IO("x"), LT_IO("y"), LT_INTS("axes", 1),
                             LT_INT("keepdims", 0), NULL);
        lrpx_test_model_output(m, "y");
        float *xx = x, xpos[S];
        if (k == 8) {    /* log-sum of positive values */
            for (int i = 0; i < S; i++)
                xpos[i] = fabsf(x[i]) + 0.1f;
            xx = xpos;
        }
        lrpx_model  *model = load_ok(m);
        struct tin   in    = {"x", 3, {2, 3, 4}, xx};
        lrpx_session *s    = run_ok(model, &in, 1);
        float        r[8];
        fill(r, 8, 0.2, 1.0);
        double stab = 1e-3;
        int    n_modes = k == 2 || k == 3 ? LRPX_MAXPOOL_COUNT : 1;
        for (int mode = 0; mode < n_modes; mode++) {
            float want[S];
            for (int a = 0; a < 2; a++)
                for (int c = 0; c < 4; c++) {
                    int64_t o[3] = {a, 0, c};
                    double  R = r[a * 4 + c], ext = ref_reduce(k == 3 ? 3 : 2, xx, red, o);
                    double  sum = 0.0, ties = 0.0;
                    int     first = -1;
                    for (int b = 0; b < 3; b++) {
                        double v = xx[(a * 3 + b) * 4 + c];
                        sum += k == 5 ? fabs(v) : (k == 6 || k == 7) ? v * v : v;
                        if (v == ext) {
                            ties += 1.0;
                            if (first < 0)
                                first = b;
                        }
                    }
                    for (int b = 0; b < 3; b++) {
                        double v = xx[(a * 3 + b) * 4 + c], w;
                        if (k == 2 || k == 3) {
                            if (mode == LRPX_MAXPOOL_WINNER)
                                w = b == first ? R : 0.0;
                            else if (mode == LRPX_MAXPOOL_WINNER_SPLIT)
                                w = v == ext ? R / ties : 0.0;
                            else
                                w = v / lrpx__stabilize(sum, stab) * R;
                        } else if (k == 1) {
                            w = (v / 3) / lrpx__stabilize(sum / 3, stab) * R;
                        } else {
                            double z = k == 5 ? fabs(v) : (k == 6 || k == 7) ? v * v : v;
                            w = z / lrpx__stabilize(sum, stab) * R;
                        }
                        want[(a * 3 + b) * 4 + c] = (float)w;
                    }
                }
            ck_assert_int_eq(relevance_pass(s, "y", r, (lrpx_maxpool_mode)mode, stab), LRPX_OK);
            ck_assert_tensor_near(relevance_of(s, "x"), want, S, 1e-5, 1e-6);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* ---- malformed models ---- */

static lrpx_test_model *
one_node(int opset, int rank, const int64_t *dims)
{
    lrpx_test_model *m = lrpx_test_model_new(opset);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, rank, dims);
    lrpx_test_model_output(m, "y");
    return m;
}

#define DIMS4 4, (int64_t[]){1, 2, 5, 5}

START_TEST(test_malformed)
{
    lrpx_test_model *m;

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_nokernel", LT_IO("x"), LT_IO("y"), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_nokernel", "kernel_shape");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_klen", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2, 2), NULL);
    expect_load_error(m, LRPX_ESHAPE, "mp_klen", "kernel_shape");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_ktype", LT_IO("x"), LT_IO("y"),
                         LT_INT("kernel_shape", 2), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_ktype", "kernel_shape");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_k0", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 0, 2), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_k0", "kernel_shape");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_stride0", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("strides", 1, 0), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_stride0", "strides");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_negpad", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("pads", 0, -1, 0, 0), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_negpad", "pads");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_padlen", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("pads", 1, 1), NULL);
    expect_load_error(m, LRPX_ESHAPE, "mp_padlen", "pads");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_huge", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("pads", 0, 0, 0, (int64_t)1 << 40),
                         NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_huge", "out of range");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_big", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 4, 4), LT_INTS("dilations", 2, 1), NULL);
    expect_load_error(m, LRPX_ESHAPE, "mp_big", "larger than the padded input");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_autopad", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_STRING("auto_pad", "SAME"), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_autopad", "auto_pad");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_order", LT_IO("x"), LT_IO("y", "i"),
                         LT_INTS("kernel_shape", 2, 2), LT_INT("storage_order", 2), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_order", "storage_order");

    m = one_node(12, DIMS4);
    lrpx_test_model_node(m, "MaxPool", "mp_ceil", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INT("ceil_mode", 3), NULL);
    expect_load_error(m, LRPX_EPARSE, "mp_ceil", "ceil_mode");

    m = one_node(12, 2, (int64_t[]){2, 5});
    lrpx_test_model_node(m, "MaxPool", "mp_rank", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2), NULL);
    expect_load_error(m, LRPX_ESHAPE, "mp_rank", "rank");

    m = one_node(11, DIMS4);
    lrpx_test_model_node(m, "AveragePool", "ap_cip", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INT("count_include_pad", 2), NULL);
    expect_load_error(m, LRPX_EPARSE, "ap_cip", "count_include_pad");

    /* BatchNormalization: training, extra outputs, wrong parameter sizes */
    float p3[3] = {1, 1, 1};
    m = one_node(15, DIMS4);
    for (int i = 0; i < 4; i++) {
        const char *nm[4] = {"s", "b", "m", "v"};
        lrpx_test_model_init_f32(m, nm[i], 1, (int64_t[]){2}, p3);
    }
    lrpx_test_model_node(m, "BatchNormalization", "bn_train", LT_IO("x", "s", "b", "m", "v"),
                         LT_IO("y"), LT_INT("training_mode", 1), NULL);
    expect_load_error(m, LRPX_EUNSUPPORTED, "bn_train", "training_mode");

    m = one_node(9, DIMS4);
    for (int i = 0; i < 4; i++) {
        const char *nm[4] = {"s", "b", "m", "v"};
        lrpx_test_model_init_f32(m, nm[i], 1, (int64_t[]){2}, p3);
    }
    lrpx_test_model_node(m, "BatchNormalization", "bn_outs", LT_IO("x", "s", "b", "m", "v"),
                         LT_IO("y", "rm", "rv"), NULL);
    expect_load_error(m, LRPX_EUNSUPPORTED, "bn_outs", "training");

    m = one_node(9, DIMS4);
    for (int i = 0; i < 4; i++) {
        const char *nm[4] = {"s", "b", "m", "v"};
        lrpx_test_model_init_f32(m, nm[i], 1, (int64_t[]){i == 2 ? 3 : 2}, p3);
    }
    lrpx_test_model_node(m, "BatchNormalization", "bn_size", LT_IO("x", "s", "b", "m", "v"),
                         LT_IO("y"), NULL);
    expect_load_error(m, LRPX_ESHAPE, "bn_size", "input_mean");

    /* InstanceNormalization scale size */
    m = one_node(6, DIMS4);
    lrpx_test_model_init_f32(m, "s", 1, (int64_t[]){3}, p3);
    lrpx_test_model_init_f32(m, "b", 1, (int64_t[]){2}, p3);
    lrpx_test_model_node(m, "InstanceNormalization", "in_size", LT_IO("x", "s", "b"), LT_IO("y"),
                         NULL);
    expect_load_error(m, LRPX_ESHAPE, "in_size", "scale");

    /* LRN without size / with size 0 */
    m = one_node(13, DIMS4);
    lrpx_test_model_node(m, "LRN", "lrn_nosize", LT_IO("x"), LT_IO("y"), NULL);
    expect_load_error(m, LRPX_EPARSE, "lrn_nosize", "size");
    m = one_node(13, DIMS4);
    lrpx_test_model_node(m, "LRN", "lrn_size0", LT_IO("x"), LT_IO("y"), LT_INT("size", 0), NULL);
    expect_load_error(m, LRPX_EPARSE, "lrn_size0", "size");

    /* LayerNormalization: axis out of range, Scale that does not broadcast */
    m = one_node(17, DIMS4);
    lrpx_test_model_init_f32(m, "s", 1, (int64_t[]){1}, p3);
    lrpx_test_model_node(m, "LayerNormalization", "ln_axis", LT_IO("x", "s"), LT_IO("y"),
                         LT_INT("axis", 4), NULL);
    expect_load_error(m, LRPX_EPARSE, "ln_axis", "axis");
    m = one_node(17, DIMS4);
    lrpx_test_model_init_f32(m, "s", 1, (int64_t[]){3}, p3);
    lrpx_test_model_node(m, "LayerNormalization", "ln_scale", LT_IO("x", "s"), LT_IO("y"), NULL);
    expect_load_error(m, LRPX_ESHAPE, "ln_scale", "broadcast");

    /* Softmax axis out of range (opset 11 and 13) */
    for (int opset = 11; opset <= 13; opset += 2) {
        m = one_node(opset, DIMS4);
        lrpx_test_model_node(m, "Softmax", "sm_axis", LT_IO("x"), LT_IO("y"), LT_INT("axis", -5),
                             NULL);
        expect_load_error(m, LRPX_EPARSE, "sm_axis", "axis");
    }

    /* Reduce: axis out of range, keepdims 2, an axes input at an opset
     * that takes the attribute */
    m = one_node(11, DIMS4);
    lrpx_test_model_node(m, "ReduceMean", "rm_axis", LT_IO("x"), LT_IO("y"), LT_INTS("axes", 4),
                         NULL);
    expect_load_error(m, LRPX_EPARSE, "rm_axis", "axis 4");
    m = one_node(11, DIMS4);
    lrpx_test_model_node(m, "ReduceMean", "rm_atype", LT_IO("x"), LT_IO("y"), LT_INT("axes", 1),
                         NULL);
    expect_load_error(m, LRPX_EPARSE, "rm_atype", "axes");
    m = one_node(11, DIMS4);
    lrpx_test_model_node(m, "ReduceMax", "rm_keep", LT_IO("x"), LT_IO("y"), LT_INT("keepdims", 2),
                         NULL);
    expect_load_error(m, LRPX_EPARSE, "rm_keep", "keepdims");
    m = one_node(13, DIMS4);
    lrpx_test_model_init_i64(m, "axes", 1, (int64_t[]){1}, (int64_t[]){1});
    lrpx_test_model_node(m, "ReduceMean", "rm_input", LT_IO("x", "axes"), LT_IO("y"), NULL);
    expect_load_error(m, LRPX_EPARSE, "rm_input", "attribute");

    /* int8 input to ReduceMean: dtype not supported, named */
    m = lrpx_test_model_new(11);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_INT8, 2, (int64_t[]){2, 2});
    lrpx_test_model_output(m, "y");
    lrpx_test_model_node(m, "ReduceMean", "rm_i8", LT_IO("x"), LT_IO("y"), NULL);
    expect_load_error(m, LRPX_EUNSUPPORTED, "rm_i8", "int8");
}
END_TEST

/* Axes fed at run time (as the ONNX backend tests do): the plan follows
 * the data, a later run with other axes of the same shape re-plans, and a
 * bad axis is an error naming the node. */
START_TEST(test_reduce_fed_axes)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    /* no declared shapes: no load-time trial plan */
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, -1, NULL);
    lrpx_test_model_input(m, "axes", LRPX_DTYPE_INT64, -1, NULL);
    lrpx_test_model_node(m, "ReduceSum", "rs", LT_IO("x", "axes"), LT_IO("y"),
                         LT_INT("keepdims", 0), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model = load_ok(m);
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    float   x[6] = {1, 2, 3, 4, 5, 6};
    int64_t ax   = 1;
    ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, x),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, "axes", LRPX_DTYPE_INT64, 1, (int64_t[]){1}, &ax),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    int64_t      n;
    const float *y = value_f32(s, "y", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_float_eq(y[0], 6.0f);
    ck_assert_float_eq(y[1], 15.0f);
    ax = 0;
    ck_assert_int_eq(lrpx_session_set_input(s, "axes", LRPX_DTYPE_INT64, 1, (int64_t[]){1}, &ax),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    y = value_f32(s, "y", &n);
    ck_assert_int_eq(n, 3);
    ck_assert_float_eq(y[0], 5.0f);
    ck_assert_float_eq(y[1], 7.0f);
    ck_assert_float_eq(y[2], 9.0f);
    ax = 2;
    ck_assert_int_eq(lrpx_session_set_input(s, "axes", LRPX_DTYPE_INT64, 1, (int64_t[]){1}, &ax),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_EPARSE);
    const char *msg = lrpx_session_errmsg(s);
    ck_assert_msg(strstr(msg, "'rs'") && strstr(msg, "axis 2"), "%s", msg);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

static Suite *
ops_pool_suite(void)
{
    Suite *s = suite_create("ops_pool");
    TCase *tc;

    tc = tcase_create("maxpool_hand");
    tcase_add_test(tc, test_maxpool_hand_forward);
    tcase_add_test(tc, test_maxpool_hand_relevance);
    suite_add_tcase(s, tc);

    tc = tcase_create("pool");
    tcase_add_test(tc, test_pool_ceil_mode);
    tcase_add_loop_test(tc, test_pool_grid, 0, 2 * N_POOL_GRID);
    tcase_add_test(tc, test_pool_3d);
    tcase_add_test(tc, test_global_pools);
    tcase_add_test(tc, test_conservation);
    suite_add_tcase(s, tc);

    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fd_pools);
    tcase_add_test(tc, test_fd_norms);
    tcase_add_test(tc, test_fd_softmax);
    tcase_add_test(tc, test_fd_reduce);
    suite_add_tcase(s, tc);

    tc = tcase_create("norm");
    tcase_add_test(tc, test_batchnorm_forms);
    tcase_add_test(tc, test_norm_forward);
    suite_add_tcase(s, tc);

    tc = tcase_create("softmax");
    tcase_add_test(tc, test_softmax_axes);
    tcase_add_test(tc, test_softmax_no_relevance);
    suite_add_tcase(s, tc);

    tc = tcase_create("reduce");
    tcase_add_test(tc, test_reduce_forms);
    tcase_add_test(tc, test_reduce_noop_and_ints);
    tcase_add_test(tc, test_reduce_relevance);
    tcase_add_test(tc, test_reduce_fed_axes);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ops_pool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
