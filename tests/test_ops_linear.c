/* Suite "ops_linear": Conv, ConvTranspose, Gemm, MatMul.
 *
 *   forward    against float64 re-implementations written here from the
 *              ONNX definitions (groups, depthwise, dilations, strides,
 *              asymmetric pads, auto_pad, output_padding, output_shape,
 *              transposes, C broadcasting, numpy matmul broadcasting)
 *   backward   the gradient pass (lrpx_session_gradient with a random
 *              tensor seed s) against central finite differences of
 *              L = <s, y> for every input fed as a graph input (data,
 *              weights, bias). The ops are linear in each single input
 *              element, so the central difference is exact up to rounding;
 *              the large step keeps that rounding small.
 *   linear     the lrpx_linear_def of each op: <apply(x; w), g> equals
 *              <x, apply_t(g; w)> for random x, w, g, and apply + add_bias
 *              with the real weights reproduces the forward output
 *   errors     malformed attributes and shapes give the documented status
 *              and a message naming the node and its op
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "lrpx_test.h"
#include "core/linear.h"
#include "core/op.h"

/* ---- random numbers (xorshift64*, fixed seeds) ---- */

static uint64_t rng_state = 88172645463325252ull;

static void
rng_seed(uint64_t s)
{
    rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static double
rng_u(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void
rng_fill(float *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)(2.0 * rng_u() - 1.0);
}

static float *
rng_array(int64_t n)
{
    float *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(a);
    rng_fill(a, n);
    return a;
}

static int64_t
prod(const int64_t *d, int r)
{
    int64_t p = 1;
    for (int i = 0; i < r; i++)
        p *= d[i];
    return p;
}

/* ---- running models ---- */

/* A float32 graph input fed to the session. */
struct feed {
    const char *name;
    int         rank;
    int64_t     dims[LRPX_MAX_RANK];
    float      *data;
};

static void
feed_set(struct feed *f, const char *name, int rank, const int64_t *dims)
{
    f->name = name;
    f->rank = rank;
    memcpy(f->dims, dims, (size_t)rank * sizeof *dims);
    f->data = rng_array(prod(dims, rank));
}

static lrpx_session *
session_run(lrpx_test_model *tm, const struct feed *f, int n_f, lrpx_model **model)
{
    lrpx_session *s = NULL;
    lrpx_status   rc = lrpx_test_model_load(tm, model);
    ck_assert_msg(rc == LRPX_OK, "load: %s", *model ? lrpx_model_errmsg(*model) : "no model");
    ck_assert_int_eq(lrpx_session_init(*model, &s), LRPX_OK);
    for (int i = 0; i < n_f; i++) {
        rc = lrpx_session_set_input(s, f[i].name, LRPX_DTYPE_FLOAT32, f[i].rank, f[i].dims,
                                    f[i].data);
        ck_assert_msg(rc == LRPX_OK, "set_input %s: %s", f[i].name, lrpx_session_errmsg(s));
    }
    rc = lrpx_session_run(s);
    ck_assert_msg(rc == LRPX_OK, "run: %s", lrpx_session_errmsg(s));
    return s;
}

static void
feeds_free(struct feed *f, int n_f)
{
    for (int i = 0; i < n_f; i++)
        free(f[i].data);
}

/* Output 0 of s against a float64 reference of shape dims/rank. */
static void
check_output(lrpx_session *s, const double *ref, const int64_t *dims, int rank, double rtol,
             double atol)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_FLOAT32);
    ck_assert_int_eq(v.rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(v.dims[i] == dims[i], "output dim %d is %lld, expected %lld", i,
                      (long long)v.dims[i], (long long)dims[i]);
    double *act = malloc((size_t)(v.n_elems > 0 ? v.n_elems : 1) * sizeof(double));
    ck_assert_ptr_nonnull(act);
    for (int64_t i = 0; i < v.n_elems; i++)
        act[i] = ((const float *)v.data)[i];
    ck_assert_tensor_near_f64(act, ref, v.n_elems, rtol, atol);
    free(act);
}

/* Gradient of L = <seed, output 0> for every feed, against central
 * differences on up to 32 elements of each. */
static void
check_grad_fd(lrpx_test_model *tm, struct feed *f, int n_f)
{
    lrpx_model      *model;
    lrpx_session    *s = session_run(tm, f, n_f, &model);
    lrpx_tensor_view y;

    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    const int64_t ny = y.n_elems;
    float *seed = rng_array(ny);

    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = ny;
    o.skip_softmax = 0;
    lrpx_status rc = lrpx_session_gradient(s, &o);
    ck_assert_msg(rc == LRPX_OK, "gradient: %s", lrpx_session_errmsg(s));

    float *grad[8];
    ck_assert_int_le(n_f, 8);
    for (int i = 0; i < n_f; i++) {
        lrpx_tensor_view gv;
        const int64_t    n = prod(f[i].dims, f[i].rank);
        ck_assert_msg(lrpx_session_gradient_of(s, f[i].name, &gv) == LRPX_OK,
                      "no gradient for %s", f[i].name);
        ck_assert_int_eq(gv.n_elems, n);
        grad[i] = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        ck_assert_ptr_nonnull(grad[i]);
        memcpy(grad[i], gv.data, (size_t)n * sizeof(float));
    }

    const float h = 0.5f;
    for (int i = 0; i < n_f; i++) {
        const int64_t n = prod(f[i].dims, f[i].rank);
        double gmax = 0.0;
        for (int64_t j = 0; j < n; j++)
            gmax = fmax(gmax, fabs(grad[i][j]));
        const int n_check = n <= 32 ? (int)n : 32;
        for (int t = 0; t < n_check; t++) {
            const int64_t j = n <= 32 ? t : (int64_t)(rng_u() * (double)n);
            const float   orig = f[i].data[j];
            double        l[2];
            for (int side = 0; side < 2; side++) {
                f[i].data[j] = side == 0 ? orig + h : orig - h;
                ck_assert_int_eq(lrpx_session_set_input(s, f[i].name, LRPX_DTYPE_FLOAT32,
                                                        f[i].rank, f[i].dims, f[i].data),
                                 LRPX_OK);
                ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
                ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
                double acc = 0.0;
                for (int64_t k = 0; k < ny; k++)
                    acc += (double)seed[k] * ((const float *)y.data)[k];
                l[side] = acc;
            }
            f[i].data[j] = orig;
            ck_assert_int_eq(lrpx_session_set_input(s, f[i].name, LRPX_DTYPE_FLOAT32,
                                                    f[i].rank, f[i].dims, f[i].data),
                             LRPX_OK);
            const double fd = (l[0] - l[1]) / (2.0 * h);
            const double g  = grad[i][j];
            const double scale = fmax(fabs(g), 0.05 * gmax);
            ck_assert_msg(fabs(fd - g) <= 1e-3 * scale + 1e-6,
                          "d/d %s[%lld]: gradient %.7g, finite difference %.7g", f[i].name,
                          (long long)j, g, fd);
        }
    }
    for (int i = 0; i < n_f; i++)
        free(grad[i]);
    free(seed);
    lrpx_session_free(s);
    lrpx_model_free(model);
}

/* The first node of op_type in the session's graph. */
static const struct lrpx_node *
find_node(lrpx_session *s, const char *op_type)
{
    const struct lrpx_graph *g = s->plan.x.g;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op_type) == 0)
            return &g->nodes[i];
    ck_abort_msg("no %s node", op_type);
    return NULL;
}

/* The linear form of the node of op_type in a run session: adjointness of
 * apply/apply_t for random data, and apply(+ add_bias) with the real
 * operands against the forward output. */
static void
check_linear(lrpx_session *s, const char *op_type)
{
    struct lrpx_exec       *x = &s->plan.x;
    const struct lrpx_node *n = find_node(s, op_type);
    const struct lrpx_linear_def   *L = n->def->linear;
    ck_assert_ptr_nonnull(L);
    const struct lrpx_linear_roles *r = lrpx__linear_roles(x, n);
    ck_assert_ptr_nonnull(r);

    const struct lrpx_tensor *in = lrpx__in(x, n, r->in_index);
    const struct lrpx_tensor *wt = lrpx__in(x, n, r->w_index);
    const struct lrpx_tensor *bt = r->b_index >= 0 ? lrpx__in(x, n, r->b_index) : NULL;
    const struct lrpx_tensor *ot = lrpx__out(x, n, 0);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(wt);
    ck_assert_uint_le(L->scratch_bytes(x, n), x->scratch_size);

    float *xin = rng_array(in->n_elems), *w = rng_array(wt->n_elems);
    float *g = rng_array(ot->n_elems);
    float *y = malloc((size_t)(ot->n_elems + 1) * sizeof(float));
    float *gi = malloc((size_t)(in->n_elems + 1) * sizeof(float));
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_nonnull(gi);
    /* apply and apply_t overwrite their output: start from garbage */
    for (int64_t i = 0; i < ot->n_elems; i++)
        y[i] = 1e3f;
    for (int64_t i = 0; i < in->n_elems; i++)
        gi[i] = -1e3f;

    L->apply(x, n, xin, w, y, x->scratch);
    L->apply_t(x, n, g, w, gi, x->scratch);
    double a = 0.0, b = 0.0;
    for (int64_t i = 0; i < ot->n_elems; i++)
        a += (double)y[i] * g[i];
    for (int64_t i = 0; i < in->n_elems; i++)
        b += (double)xin[i] * gi[i];
    ck_assert_msg(fabs(a - b) <= 1e-5 * fmax(fmax(fabs(a), fabs(b)), 1e-30),
                  "%s: <apply(x), g> = %.9g but <x, apply_t(g)> = %.9g", op_type, a, b);

    /* the real operands reproduce the forward output */
    L->apply(x, n, in->f32, wt->f32, y, x->scratch);
    if (bt != NULL)
        L->add_bias(x, n, bt->f32, y);
    double *ref = malloc((size_t)(ot->n_elems + 1) * sizeof(double));
    double *act = malloc((size_t)(ot->n_elems + 1) * sizeof(double));
    ck_assert_ptr_nonnull(ref);
    ck_assert_ptr_nonnull(act);
    for (int64_t i = 0; i < ot->n_elems; i++) {
        ref[i] = ot->f32[i];
        act[i] = y[i];
    }
    ck_assert_tensor_near_f64(act, ref, ot->n_elems, 1e-5, 1e-6);
    free(ref);
    free(act);
    free(xin);
    free(w);
    free(g);
    free(y);
    free(gi);
}

/* ==== Conv / ConvTranspose ==== */

struct conv_case {
    const char *label;
    int         ns;                 /* spatial axes                        */
    int64_t     batch, c, m, group; /* X channels c, Y channels m          */
    int64_t     in[3], k[3];     /* spatial sizes, ns each          */
    int64_t     s[3], d[3];         /* s[0] == 0 / d[0] == 0: attr absent  */
    int64_t     pads[6];            /* begins then ends, ns each           */
    bool        has_pads;
    const char *auto_pad;           /* NULL: absent                        */
    bool        bias;
    bool        kshape;             /* give kernel_shape                   */
    int64_t     opad[3];            /* ConvTranspose: output_padding       */
    bool        has_opad;
    int64_t     oshape[3];          /* ConvTranspose: output_shape         */
    bool        has_oshape;
};

static const struct conv_case conv_cases[] = {
    { "2d plain", 2, 1, 3, 4, 1, {5, 6}, {3, 3}, {0}, {0}, {0}, false, NULL, true, true,
      {0}, false, {0}, false },
    { "2d no bias, no kernel_shape", 2, 2, 2, 3, 1, {6, 5}, {3, 2}, {0}, {0}, {0}, false,
      NULL, false, false, {0}, false, {0}, false },
    { "2d stride 2 asym pads", 2, 1, 3, 2, 1, {7, 6}, {3, 3}, {2, 2}, {0},
      {1, 0, 2, 1}, true, NULL, true, true, {0}, false, {0}, false },
    { "2d dilation 2 stride (2,1)", 2, 1, 2, 3, 1, {9, 8}, {3, 2}, {2, 1}, {2, 2},
      {1, 1, 1, 1}, true, NULL, true, false, {0}, false, {0}, false },
    { "2d groups 2", 2, 2, 4, 6, 2, {6, 5}, {3, 2}, {0}, {0}, {1, 0, 0, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "2d depthwise", 2, 1, 4, 4, 4, {7, 7}, {3, 3}, {0}, {0}, {1, 1, 1, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "2d depthwise x2 strided dilated", 2, 2, 3, 6, 3, {9, 8}, {3, 3}, {2, 2}, {2, 1},
      {2, 1, 0, 1}, true, NULL, true, true, {0}, false, {0}, false },
    { "2d pointwise 1x1", 2, 2, 5, 3, 1, {4, 6}, {1, 1}, {0}, {0}, {0}, false, NULL,
      true, true, {0}, false, {0}, false },
    { "2d pointwise grouped", 2, 1, 6, 4, 2, {3, 3}, {1, 1}, {0}, {0}, {0}, false, NULL,
      false, true, {0}, false, {0}, false },
    { "2d 1x1 stride 2", 2, 1, 3, 2, 1, {5, 5}, {1, 1}, {2, 2}, {0}, {0}, false, NULL,
      true, true, {0}, false, {0}, false },
    { "2d SAME_UPPER stride 2", 2, 1, 2, 3, 1, {6, 7}, {3, 4}, {2, 2}, {0}, {0}, false,
      "SAME_UPPER", true, true, {0}, false, {0}, false },
    { "2d SAME_LOWER stride 2", 2, 1, 2, 3, 1, {6, 7}, {3, 4}, {2, 2}, {0}, {0}, false,
      "SAME_LOWER", true, true, {0}, false, {0}, false },
    { "2d SAME_UPPER dilated", 2, 1, 2, 2, 1, {5, 6}, {2, 3}, {0}, {2, 2}, {0}, false,
      "SAME_UPPER", false, true, {0}, false, {0}, false },
    { "2d VALID ignores pads", 2, 1, 2, 2, 1, {6, 6}, {3, 3}, {1, 2}, {0}, {3, 3, 3, 3},
      true, "VALID", true, true, {0}, false, {0}, false },
    { "2d kernel = padded input", 2, 1, 1, 2, 1, {2, 3}, {4, 3}, {0}, {0}, {1, 0, 1, 0},
      true, NULL, true, true, {0}, false, {0}, false },
    { "1d", 1, 2, 3, 4, 1, {10}, {3}, {2}, {0}, {1, 2}, true, NULL, true, true,
      {0}, false, {0}, false },
    { "1d groups dilated", 1, 1, 4, 2, 2, {9}, {3}, {0}, {3}, {0}, false, NULL,
      true, false, {0}, false, {0}, false },
    { "1d depthwise", 1, 1, 3, 3, 3, {8}, {5}, {0}, {0}, {2, 2}, true, NULL, true,
      true, {0}, false, {0}, false },
    { "3d", 3, 1, 2, 3, 1, {4, 5, 4}, {2, 3, 2}, {1, 2, 1}, {0}, {1, 0, 1, 0, 1, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "3d groups dilated", 3, 2, 4, 2, 2, {5, 4, 5}, {2, 2, 2}, {0}, {2, 1, 2}, {0}, false, NULL,
      false, true, {0}, false, {0}, false },
    { "3d depthwise", 3, 1, 2, 2, 2, {4, 4, 4}, {3, 3, 3}, {0}, {0}, {1, 1, 1, 1, 1, 1}, true,
      NULL, true, true, {0}, false, {0}, false },
    /* many output rows: the im2col buffer is filled in several chunks */
    { "2d chunked im2col", 2, 1, 64, 2, 1, {130, 130}, {3, 3}, {0}, {0}, {0}, false, NULL,
      true, true, {0}, false, {0}, false },
};

static const struct conv_case convt_cases[] = {
    { "2d plain", 2, 1, 2, 3, 1, {3, 4}, {3, 3}, {0}, {0}, {0}, false, NULL, true, true,
      {0}, false, {0}, false },
    { "2d stride (3,2) pads", 2, 2, 2, 2, 1, {3, 3}, {3, 3}, {3, 2}, {0}, {1, 2, 1, 2},
      true, NULL, false, true, {0}, false, {0}, false },
    { "2d output_padding", 2, 1, 3, 2, 1, {4, 3}, {3, 3}, {3, 2}, {0}, {1, 1, 1, 1}, true,
      NULL, true, true, {1, 1}, true, {0}, false },
    { "2d dilation", 2, 1, 2, 2, 1, {3, 3}, {2, 2}, {0}, {2, 2}, {0}, false, NULL, true,
      false, {0}, false, {0}, false },
    { "2d groups", 2, 1, 4, 6, 2, {3, 4}, {3, 2}, {2, 1}, {0}, {0, 1, 1, 0}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "2d depthwise", 2, 2, 3, 3, 3, {4, 4}, {3, 3}, {2, 2}, {0}, {1, 1, 1, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "2d grouped dilated", 2, 1, 2, 4, 2, {3, 3}, {2, 3}, {2, 1}, {1, 2}, {0}, false, NULL,
      true, true, {0}, false, {0}, false },
    { "2d pointwise", 2, 1, 3, 2, 1, {3, 5}, {1, 1}, {0}, {0}, {0}, false, NULL, true,
      true, {0}, false, {0}, false },
    { "2d output_shape", 2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {0}, {0}, false, NULL,
      true, true, {0}, false, {9, 6}, true },
    { "2d output_shape + output_padding", 2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {0}, {0},
      false, NULL, true, true, {1, 1}, true, {8, 7}, true },
    { "2d SAME_UPPER", 2, 1, 2, 2, 1, {3, 4}, {3, 3}, {2, 2}, {0}, {0}, false,
      "SAME_UPPER", true, true, {0}, false, {0}, false },
    { "2d SAME_LOWER", 2, 1, 2, 2, 1, {3, 4}, {3, 3}, {2, 2}, {0}, {0}, false,
      "SAME_LOWER", true, true, {0}, false, {0}, false },
    { "1d", 1, 1, 2, 3, 1, {5}, {3}, {2}, {0}, {1, 0}, true, NULL, true, true,
      {1}, true, {0}, false },
    { "3d", 3, 1, 2, 2, 1, {2, 3, 2}, {2, 2, 3}, {2, 1, 2}, {0}, {0, 1, 0, 1, 0, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
    { "2d chunked", 2, 1, 2, 3, 1, {60, 70}, {3, 3}, {2, 2}, {0}, {1, 1, 1, 1}, true, NULL,
      true, true, {0}, false, {0}, false },
};

#define N_CONV_CASES  ((int)(sizeof conv_cases / sizeof conv_cases[0]))
#define N_CONVT_CASES ((int)(sizeof convt_cases / sizeof convt_cases[0]))

static int64_t
cc_stride(const struct conv_case *cc, int i)
{
    return cc->s[0] ? cc->s[i] : 1;
}

static int64_t
cc_dil(const struct conv_case *cc, int i)
{
    return cc->d[0] ? cc->d[i] : 1;
}

/* Output spatial size and begin padding per axis, from the ONNX formulas. */
static void
ref_geometry(const struct conv_case *cc, bool transposed, int64_t *out, int64_t *pb)
{
    for (int i = 0; i < cc->ns; i++) {
        const int64_t s = cc_stride(cc, i), dk = (cc->k[i] - 1) * cc_dil(cc, i) + 1;
        const int64_t in = cc->in[i];
        int64_t b = cc->has_pads ? cc->pads[i] : 0, e = cc->has_pads ? cc->pads[cc->ns + i] : 0;
        const bool same = cc->auto_pad && strncmp(cc->auto_pad, "SAME", 4) == 0;
        const bool upper = same && strcmp(cc->auto_pad, "SAME_UPPER") == 0;
        if (cc->auto_pad && strcmp(cc->auto_pad, "VALID") == 0)
            b = e = 0;
        if (!transposed) {
            if (same) {
                out[i] = (in + s - 1) / s;
                int64_t total = (out[i] - 1) * s + dk - in;
                if (total < 0)
                    total = 0;
                b = upper ? total / 2 : total - total / 2;
            } else {
                out[i] = (in + b + e - dk) / s + 1;
            }
        } else {
            const int64_t op = cc->has_opad ? cc->opad[i] : 0;
            const int64_t full = s * (in - 1) + op + dk;
            if (cc->has_oshape || same) {
                out[i] = cc->has_oshape ? cc->oshape[i] : in * s;
                int64_t total = full - out[i];
                if (total < 0)
                    total = 0;
                b = upper ? total / 2 : total - total / 2;
            } else {
                out[i] = full - b - e;
            }
        }
        pb[i] = b;
    }
}

/* Multi-index helpers over up to 3 spatial axes. */
static int64_t
flat(const int64_t *idx, const int64_t *dims, int ns)
{
    int64_t f = 0;
    for (int i = 0; i < ns; i++)
        f = f * dims[i] + idx[i];
    return f;
}

static void
unflat(int64_t f, const int64_t *dims, int ns, int64_t *idx)
{
    for (int i = ns - 1; i >= 0; i--) {
        idx[i] = f % dims[i];
        f /= dims[i];
    }
}

/* Conv: y[b, m, o] = B[m] + sum_{c, k} W[m, c, k] x[b, g*C/G + c, o*s - p + k*d]
 * ConvTranspose: y[b, g*M/G + m, i*s - p + k*d] += x[b, c, i] W[c, m, k]. */
static double *
ref_conv(const struct conv_case *cc, bool transposed, const float *x, const float *w,
         const float *bias, int64_t *ydims)
{
    const int ns = cc->ns;
    int64_t in[3], out[3], pb[3];
    for (int i = 0; i < ns; i++)
        in[i] = cc->in[i];
    ref_geometry(cc, transposed, out, pb);
    ydims[0] = cc->batch;
    ydims[1] = cc->m;
    for (int i = 0; i < ns; i++)
        ydims[2 + i] = out[i];
    const int64_t in_sz = prod(in, ns), out_sz = prod(out, ns), k_sz = prod(cc->k, ns);
    double *y = calloc((size_t)(cc->batch * cc->m * out_sz + 1), sizeof(double));
    ck_assert_ptr_nonnull(y);

    const int64_t cg = cc->c / cc->group, mg = cc->m / cc->group;
    int64_t o[3], k[3], p[3];
    if (!transposed) {
        for (int64_t b = 0; b < cc->batch; b++)
        for (int64_t m = 0; m < cc->m; m++)
        for (int64_t of = 0; of < out_sz; of++) {
            unflat(of, out, ns, o);
            double acc = bias ? bias[m] : 0.0;
            for (int64_t c = 0; c < cg; c++)
            for (int64_t kf = 0; kf < k_sz; kf++) {
                unflat(kf, cc->k, ns, k);
                bool inside = true;
                for (int a = 0; a < ns; a++) {
                    p[a] = o[a] * cc_stride(cc, a) - pb[a] + k[a] * cc_dil(cc, a);
                    inside = inside && p[a] >= 0 && p[a] < in[a];
                }
                if (!inside)
                    continue;
                const int64_t xc = (m / mg) * cg + c;
                acc += (double)w[(m * cg + c) * k_sz + kf] *
                       x[(b * cc->c + xc) * in_sz + flat(p, in, ns)];
            }
            y[(b * cc->m + m) * out_sz + of] = acc;
        }
    } else {
        for (int64_t b = 0; b < cc->batch; b++)
        for (int64_t m = 0; m < cc->m; m++)
        for (int64_t of = 0; of < out_sz; of++)
            y[(b * cc->m + m) * out_sz + of] = bias ? bias[m] : 0.0;
        for (int64_t b = 0; b < cc->batch; b++)
        for (int64_t c = 0; c < cc->c; c++)
        for (int64_t xf = 0; xf < in_sz; xf++) {
            unflat(xf, in, ns, o);
            const double xv = x[(b * cc->c + c) * in_sz + xf];
            for (int64_t mm = 0; mm < mg; mm++)
            for (int64_t kf = 0; kf < k_sz; kf++) {
                unflat(kf, cc->k, ns, k);
                bool inside = true;
                for (int a = 0; a < ns; a++) {
                    p[a] = o[a] * cc_stride(cc, a) - pb[a] + k[a] * cc_dil(cc, a);
                    inside = inside && p[a] >= 0 && p[a] < out[a];
                }
                if (!inside)
                    continue;
                const int64_t m = (c / cg) * mg + mm;
                y[(b * cc->m + m) * out_sz + flat(p, out, ns)] +=
                    xv * w[(c * mg + mm) * k_sz + kf];
            }
        }
    }
    return y;
}

/* Shapes of X, W and B of a case. */
static void
conv_shapes(const struct conv_case *cc, bool transposed, int64_t *xd, int64_t *wd, int64_t *bd)
{
    const int ns = cc->ns;
    xd[0] = cc->batch;
    xd[1] = cc->c;
    wd[0] = transposed ? cc->c : cc->m;
    wd[1] = transposed ? cc->m / cc->group : cc->c / cc->group;
    for (int i = 0; i < ns; i++) {
        xd[2 + i] = cc->in[i];
        wd[2 + i] = cc->k[i];
    }
    bd[0] = cc->m;
}

/* The one-node model of a case. X is input "x"; W and B are initializers
 * (w, b non-NULL) or graph inputs "W", "B". */
static lrpx_test_model *
conv_model(const struct conv_case *cc, bool transposed, const float *w, const float *b)
{
    const int ns = cc->ns;
    int64_t xd[5], wd[5], bd[1];
    conv_shapes(cc, transposed, xd, wd, bd);

    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, ns + 2, xd);
    if (w)
        lrpx_test_model_init_f32(tm, "W", ns + 2, wd, w);
    else
        lrpx_test_model_input(tm, "W", LRPX_DTYPE_FLOAT32, ns + 2, wd);
    if (cc->bias) {
        if (b)
            lrpx_test_model_init_f32(tm, "B", 1, bd, b);
        else
            lrpx_test_model_input(tm, "B", LRPX_DTYPE_FLOAT32, 1, bd);
    }

    lrpx_test_attr        at[8];
    const lrpx_test_attr *ap[9] = { 0 };
    int na = 0;
#define ADD_INTS(nm, cnt, arr)                                                             \
    do {                                                                                 \
        at[na] = (lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INTS, .n = (cnt),       \
                                   .ints = (arr) };                                      \
        ap[na] = &at[na];                                                                \
        na++;                                                                            \
    } while (0)
    if (cc->s[0])
        ADD_INTS("strides", ns, cc->s);
    if (cc->d[0])
        ADD_INTS("dilations", ns, cc->d);
    if (cc->has_pads)
        ADD_INTS("pads", 2 * ns, cc->pads);
    if (cc->kshape)
        ADD_INTS("kernel_shape", ns, cc->k);
    if (cc->has_opad)
        ADD_INTS("output_padding", ns, cc->opad);
    if (cc->has_oshape)
        ADD_INTS("output_shape", ns, cc->oshape);
#undef ADD_INTS
    if (cc->group != 1) {
        at[na] = (lrpx_test_attr){ .name = "group", .type = LT_ATTR_INT, .i = cc->group };
        ap[na] = &at[na];
        na++;
    }
    if (cc->auto_pad) {
        at[na] = (lrpx_test_attr){ .name = "auto_pad", .type = LT_ATTR_STRING,
                                   .s = cc->auto_pad };
        ap[na] = &at[na];
        na++;
    }
    lrpx_test_model_node(tm, transposed ? "ConvTranspose" : "Conv", "conv1",
                         cc->bias ? LT_IO("x", "W", "B") : LT_IO("x", "W"), LT_IO("y"),
                         ap[0], ap[1], ap[2], ap[3], ap[4], ap[5], ap[6], ap[7], NULL);
    lrpx_test_model_output(tm, "y");
    return tm;
}

static void
conv_forward_case(const struct conv_case *cc, bool transposed)
{
    const int ns = cc->ns;
    int64_t xd[5], wd[5], bd[1], yd[5];
    conv_shapes(cc, transposed, xd, wd, bd);
    rng_seed(17 + (uint64_t)cc->in[0] * 31 + (uint64_t)cc->k[0]);
    float *x = rng_array(prod(xd, ns + 2)), *w = rng_array(prod(wd, ns + 2));
    float *b = rng_array(cc->m);

    lrpx_test_model *tm = conv_model(cc, transposed, w, cc->bias ? b : NULL);
    struct feed f = { "x", ns + 2, { 0 }, x };
    memcpy(f.dims, xd, sizeof xd);
    lrpx_model   *model;
    lrpx_session *s = session_run(tm, &f, 1, &model);
    double *ref = ref_conv(cc, transposed, x, w, cc->bias ? b : NULL, yd);
    check_output(s, ref, yd, ns + 2, 1e-4, 1e-5);
    /* the linear form on the same node */
    check_linear(s, transposed ? "ConvTranspose" : "Conv");

    free(ref);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(x);
    free(w);
    free(b);
}

START_TEST(test_conv_forward)
{
    conv_forward_case(&conv_cases[_i], false);
}
END_TEST

START_TEST(test_conv_transpose_forward)
{
    conv_forward_case(&convt_cases[_i], true);
}
END_TEST

static void
conv_backward_case(const struct conv_case *cc, bool transposed)
{
    const int ns = cc->ns;
    int64_t xd[5], wd[5], bd[1];
    conv_shapes(cc, transposed, xd, wd, bd);
    rng_seed(91 + (uint64_t)cc->in[0] * 31 + (uint64_t)cc->k[0]);

    lrpx_test_model *tm = conv_model(cc, transposed, NULL, NULL);
    struct feed f[3];
    feed_set(&f[0], "x", ns + 2, xd);
    feed_set(&f[1], "W", ns + 2, wd);
    if (cc->bias)
        feed_set(&f[2], "B", 1, bd);
    const int n_f = cc->bias ? 3 : 2;
    check_grad_fd(tm, f, n_f);
    feeds_free(f, n_f);
    lrpx_test_model_free(tm);
}

/* The small cases (finite differences rerun the model twice per element). */
static const int conv_backward_cases[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 18,
                                           19, 20 };
static const int convt_backward_cases[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

START_TEST(test_conv_backward)
{
    conv_backward_case(&conv_cases[conv_backward_cases[_i]], false);
}
END_TEST

START_TEST(test_conv_transpose_backward)
{
    conv_backward_case(&convt_cases[convt_backward_cases[_i]], true);
}
END_TEST

/* ==== Gemm ==== */

struct gemm_case {
    int64_t m, n, k;
    int     ta, tb;
    float   alpha, beta;       /* beta < -100: attribute absent */
    int     c_rank;            /* -1: no C */
    int64_t c_dims[2];
};

static const struct gemm_case gemm_cases[] = {
    { 3, 4, 5, 0, 0, 1.0f, 1.0f, 2, { 3, 4 } },
    { 3, 4, 5, 1, 0, 0.5f, 2.0f, 1, { 4 } },
    { 3, 4, 5, 0, 1, 1.0f, -1.5f, 2, { 1, 4 } },
    { 3, 4, 5, 1, 1, -2.0f, 0.25f, 2, { 3, 1 } },
    { 2, 7, 3, 0, 1, 1.0f, 1.0f, 0, { 0 } },
    { 2, 7, 3, 1, 0, 1.0f, 1.0f, 1, { 1 } },
    { 4, 3, 6, 0, 0, 1.5f, 0.0f, 2, { 4, 3 } },
    { 4, 3, 6, 1, 1, 1.0f, 1.0f, -1, { 0 } },
    { 1, 10, 8, 0, 1, 1.0f, 1.0f, 1, { 10 } },
};
#define N_GEMM_CASES ((int)(sizeof gemm_cases / sizeof gemm_cases[0]))

static lrpx_test_model *
gemm_model(const struct gemm_case *gc, const float *b_const, int64_t *ad, int64_t *bd)
{
    ad[0] = gc->ta ? gc->k : gc->m;
    ad[1] = gc->ta ? gc->m : gc->k;
    bd[0] = gc->tb ? gc->n : gc->k;
    bd[1] = gc->tb ? gc->k : gc->n;
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "A", LRPX_DTYPE_FLOAT32, 2, ad);
    if (b_const)
        lrpx_test_model_init_f32(tm, "B", 2, bd, b_const);
    else
        lrpx_test_model_input(tm, "B", LRPX_DTYPE_FLOAT32, 2, bd);
    if (gc->c_rank >= 0)
        lrpx_test_model_input(tm, "C", LRPX_DTYPE_FLOAT32, gc->c_rank, gc->c_dims);
    lrpx_test_model_node(tm, "Gemm", "gemm1",
                         gc->c_rank >= 0 ? LT_IO("A", "B", "C") : LT_IO("A", "B"), LT_IO("Y"),
                         LT_INT("transA", gc->ta), LT_INT("transB", gc->tb),
                         LT_FLOAT("alpha", gc->alpha), LT_FLOAT("beta", gc->beta), NULL);
    lrpx_test_model_output(tm, "Y");
    return tm;
}

START_TEST(test_gemm_forward)
{
    const struct gemm_case *gc = &gemm_cases[_i];
    int64_t ad[2], bd[2];
    rng_seed(300 + (uint64_t)_i);
    lrpx_test_model *tm = gemm_model(gc, NULL, ad, bd);
    struct feed f[3];
    feed_set(&f[0], "A", 2, ad);
    feed_set(&f[1], "B", 2, bd);
    int n_f = 2;
    if (gc->c_rank >= 0)
        feed_set(&f[n_f++], "C", gc->c_rank, gc->c_dims);

    double *ref = malloc((size_t)(gc->m * gc->n) * sizeof(double));
    ck_assert_ptr_nonnull(ref);
    const int64_t cr = gc->c_rank == 2 ? gc->c_dims[0] : 1;
    const int64_t cc = gc->c_rank >= 1 ? gc->c_dims[gc->c_rank - 1] : 1;
    for (int64_t i = 0; i < gc->m; i++)
    for (int64_t j = 0; j < gc->n; j++) {
        double acc = 0.0;
        for (int64_t p = 0; p < gc->k; p++) {
            const double a = gc->ta ? f[0].data[p * gc->m + i] : f[0].data[i * gc->k + p];
            const double b = gc->tb ? f[1].data[j * gc->k + p] : f[1].data[p * gc->n + j];
            acc += a * b;
        }
        double y = gc->alpha * acc;
        if (gc->c_rank >= 0)
            y += gc->beta * f[2].data[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
        ref[i * gc->n + j] = y;
    }
    lrpx_model   *model;
    lrpx_session *s = session_run(tm, f, n_f, &model);
    const int64_t yd[2] = { gc->m, gc->n };
    check_output(s, ref, yd, 2, 1e-5, 1e-6);
    check_linear(s, "Gemm");
    free(ref);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    feeds_free(f, n_f);
}
END_TEST

START_TEST(test_gemm_backward)
{
    const struct gemm_case *gc = &gemm_cases[_i];
    int64_t ad[2], bd[2];
    rng_seed(400 + (uint64_t)_i);
    lrpx_test_model *tm = gemm_model(gc, NULL, ad, bd);
    struct feed f[3];
    feed_set(&f[0], "A", 2, ad);
    feed_set(&f[1], "B", 2, bd);
    int n_f = 2;
    if (gc->c_rank >= 0)
        feed_set(&f[n_f++], "C", gc->c_rank, gc->c_dims);
    check_grad_fd(tm, f, n_f);
    feeds_free(f, n_f);
    lrpx_test_model_free(tm);
}
END_TEST

/* Gemm(W, x) with W constant: x is the data input of the linear form */
START_TEST(test_gemm_const_a_roles)
{
    const int64_t ad[2] = { 3, 4 }, bd[2] = { 4, 2 };
    rng_seed(7);
    float *a = rng_array(12);
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_init_f32(tm, "A", 2, ad, a);
    lrpx_test_model_input(tm, "B", LRPX_DTYPE_FLOAT32, 2, bd);
    lrpx_test_model_node(tm, "Gemm", "g", LT_IO("A", "B"), LT_IO("Y"), LT_FLOAT("alpha", 0.5f),
                         NULL);
    lrpx_test_model_output(tm, "Y");
    struct feed f;
    feed_set(&f, "B", 2, bd);
    lrpx_model   *model;
    lrpx_session *s = session_run(tm, &f, 1, &model);
    const struct lrpx_linear_roles *r = lrpx__linear_roles(&s->plan.x, find_node(s, "Gemm"));
    ck_assert_int_eq(r->in_index, 1);
    ck_assert_int_eq(r->w_index, 0);
    ck_assert_int_eq(r->b_index, -1);
    ck_assert(r->w_known);
    check_linear(s, "Gemm");
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(f.data);
    free(a);
}
END_TEST

/* ==== MatMul ==== */

struct matmul_case {
    int     ra, rb;
    int64_t ad[5], bd[5];
};

static const struct matmul_case matmul_cases[] = {
    { 1, 1, { 5 }, { 5 } },
    { 1, 2, { 4 }, { 4, 3 } },
    { 2, 1, { 3, 4 }, { 4 } },
    { 2, 2, { 3, 4 }, { 4, 5 } },
    { 3, 2, { 2, 3, 4 }, { 4, 5 } },            /* folded into one GEMM   */
    { 4, 1, { 2, 1, 3, 4 }, { 4 } },
    { 1, 3, { 4 }, { 2, 4, 3 } },
    { 2, 3, { 3, 4 }, { 2, 4, 5 } },            /* A broadcast            */
    { 3, 3, { 2, 3, 4 }, { 2, 4, 2 } },
    { 4, 3, { 2, 1, 3, 4 }, { 3, 4, 2 } },      /* both broadcast         */
    { 3, 4, { 1, 2, 3 }, { 2, 1, 3, 2 } },
    { 3, 3, { 1, 3, 4 }, { 2, 4, 3 } },
    { 5, 2, { 2, 1, 2, 2, 3 }, { 3, 2 } },
};
#define N_MATMUL_CASES ((int)(sizeof matmul_cases / sizeof matmul_cases[0]))

/* numpy.matmul in float64: returns the output and its shape */
static double *
ref_matmul(const struct matmul_case *mc, const float *a, const float *b, int64_t *yd, int *yr)
{
    const int64_t m = mc->ra >= 2 ? mc->ad[mc->ra - 2] : 1, k = mc->ad[mc->ra - 1];
    const int64_t n = mc->rb >= 2 ? mc->bd[mc->rb - 1] : 1;
    const int ba = mc->ra > 2 ? mc->ra - 2 : 0, bb = mc->rb > 2 ? mc->rb - 2 : 0;
    const int br = ba > bb ? ba : bb;
    int64_t bdims[LRPX_MAX_RANK], adims[LRPX_MAX_RANK], bdm[LRPX_MAX_RANK];
    for (int i = 0; i < br; i++) {
        adims[i] = i - (br - ba) >= 0 ? mc->ad[i - (br - ba)] : 1;
        bdm[i]   = i - (br - bb) >= 0 ? mc->bd[i - (br - bb)] : 1;
        bdims[i] = adims[i] > bdm[i] ? adims[i] : bdm[i];
    }
    *yr = 0;
    for (int i = 0; i < br; i++)
        yd[(*yr)++] = bdims[i];
    if (mc->ra >= 2)
        yd[(*yr)++] = m;
    if (mc->rb >= 2)
        yd[(*yr)++] = n;
    const int64_t nb = prod(bdims, br);
    double *y = malloc((size_t)(nb * m * n + 1) * sizeof(double));
    ck_assert_ptr_nonnull(y);
    int64_t idx[LRPX_MAX_RANK];
    for (int64_t bi = 0; bi < nb; bi++) {
        unflat(bi, bdims, br, idx);
        int64_t ia = 0, ib = 0;
        for (int i = 0; i < br; i++) {
            ia = ia * adims[i] + (adims[i] == 1 ? 0 : idx[i]);
            ib = ib * bdm[i] + (bdm[i] == 1 ? 0 : idx[i]);
        }
        for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)a[(ia * m + i) * k + p] * b[(ib * k + p) * n + j];
            y[(bi * m + i) * n + j] = acc;
        }
    }
    return y;
}

static lrpx_test_model *
matmul_model(const struct matmul_case *mc, const float *a_const, const float *b_const)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    if (a_const)
        lrpx_test_model_init_f32(tm, "A", mc->ra, mc->ad, a_const);
    else
        lrpx_test_model_input(tm, "A", LRPX_DTYPE_FLOAT32, mc->ra, mc->ad);
    if (b_const)
        lrpx_test_model_init_f32(tm, "B", mc->rb, mc->bd, b_const);
    else
        lrpx_test_model_input(tm, "B", LRPX_DTYPE_FLOAT32, mc->rb, mc->bd);
    lrpx_test_model_node(tm, "MatMul", "mm1", LT_IO("A", "B"), LT_IO("Y"), NULL);
    lrpx_test_model_output(tm, "Y");
    return tm;
}

/* Forward against numpy semantics and the linear form, with B constant
 * (x W), with A constant (W x) and with both fed. */
START_TEST(test_matmul_forward)
{
    const struct matmul_case *mc = &matmul_cases[_i];
    rng_seed(500 + (uint64_t)_i);
    float *a = rng_array(prod(mc->ad, mc->ra)), *b = rng_array(prod(mc->bd, mc->rb));
    int64_t yd[LRPX_MAX_RANK];
    int     yr;
    double *ref = ref_matmul(mc, a, b, yd, &yr);

    for (int variant = 0; variant < 3; variant++) {
        lrpx_test_model *tm = matmul_model(mc, variant == 1 ? a : NULL, variant == 0 ? b : NULL);
        struct feed f[2];
        int n_f = 0;
        if (variant != 1) {
            f[n_f] = (struct feed){ "A", mc->ra, { 0 }, a };
            memcpy(f[n_f++].dims, mc->ad, sizeof mc->ad);
        }
        if (variant != 0) {
            f[n_f] = (struct feed){ "B", mc->rb, { 0 }, b };
            memcpy(f[n_f++].dims, mc->bd, sizeof mc->bd);
        }
        lrpx_model   *model;
        lrpx_session *s = session_run(tm, f, n_f, &model);
        check_output(s, ref, yd, yr, 1e-5, 1e-6);
        const struct lrpx_linear_roles *r = lrpx__linear_roles(&s->plan.x,
                                                               find_node(s, "MatMul"));
        ck_assert_int_eq(r->in_index, variant == 1 ? 1 : 0);
        ck_assert_int_eq(r->w_index, variant == 1 ? 0 : 1);
        ck_assert_int_eq(r->b_index, -1);
        ck_assert_int_eq(r->w_known, variant != 2);
        check_linear(s, "MatMul");
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(tm);
    }
    free(ref);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_matmul_backward)
{
    const struct matmul_case *mc = &matmul_cases[_i];
    rng_seed(600 + (uint64_t)_i);
    lrpx_test_model *tm = matmul_model(mc, NULL, NULL);
    struct feed f[2];
    feed_set(&f[0], "A", mc->ra, mc->ad);
    feed_set(&f[1], "B", mc->rb, mc->bd);
    check_grad_fd(tm, f, 2);
    feeds_free(f, 2);
    lrpx_test_model_free(tm);
}
END_TEST

/* ==== malformed nodes ==== */

struct err_case {
    const char *label;
    lrpx_status want;
    const char *op;
};

static const struct err_case err_cases[] = {
    { "negative pads", LRPX_EINVAL, "Conv" },
    { "kernel larger than padded input", LRPX_ESHAPE, "Conv" },
    { "group does not divide channels", LRPX_ESHAPE, "Conv" },
    { "weight rank mismatch", LRPX_ESHAPE, "Conv" },
    { "W dim 1 != C/group", LRPX_ESHAPE, "Conv" },
    { "kernel_shape differs from W", LRPX_ESHAPE, "Conv" },
    { "zero stride", LRPX_EINVAL, "Conv" },
    { "pads of the wrong length", LRPX_EINVAL, "Conv" },
    { "unknown auto_pad", LRPX_EINVAL, "Conv" },
    { "bias of the wrong length", LRPX_ESHAPE, "Conv" },
    { "four spatial axes", LRPX_EUNSUPPORTED, "Conv" },
    { "negative dilation", LRPX_EINVAL, "Conv" },
    { "group 0", LRPX_EINVAL, "Conv" },
    { "int64 input", LRPX_EUNSUPPORTED, "Conv" },
    { "output_padding >= stride", LRPX_EINVAL, "ConvTranspose" },
    { "W dim 0 != C", LRPX_ESHAPE, "ConvTranspose" },
    { "pads leave no output", LRPX_ESHAPE, "ConvTranspose" },
    { "negative pads", LRPX_EINVAL, "ConvTranspose" },
    { "K mismatch", LRPX_ESHAPE, "Gemm" },
    { "C does not broadcast", LRPX_ESHAPE, "Gemm" },
    { "rank-3 A", LRPX_ESHAPE, "Gemm" },
    { "K mismatch", LRPX_ESHAPE, "MatMul" },
    { "batch axes do not broadcast", LRPX_ESHAPE, "MatMul" },
    { "scalar operand", LRPX_ESHAPE, "MatMul" },
    { "dilation beyond int32", LRPX_EINVAL, "Conv" },
    { "negative output_shape", LRPX_EINVAL, "ConvTranspose" },
};
#define N_ERR_CASES ((int)(sizeof err_cases / sizeof err_cases[0]))

START_TEST(test_errors)
{
    const struct err_case *ec = &err_cases[_i];
    lrpx_test_model *tm = lrpx_test_model_new(13);
    static const float zeros[64];
    int64_t xd[6] = { 1, 1, 5, 5, 0, 0 }, wd[6] = { 1, 1, 3, 3, 0, 0 };
    int xr = 4, wr = 4;
    lrpx_dtype xt = LRPX_DTYPE_FLOAT32;
    const char *const *io3 = LT_IO("x", "W", "B");
    const char *const *ins = LT_IO("x", "W");
    /* attribute values live outside the switch (compound literals in a
     * case would die with its block) */
    static const int64_t neg_pads[] = { -1, 0, 0, 0 }, pads1[] = { 1, 1, 1, 1 };
    static const int64_t ks22[] = { 2, 2 }, s10[] = { 1, 0 }, two1[] = { 1, 1 };
    static const int64_t dil_neg[] = { 1, -2 }, s12[] = { 1, 2 }, pads2[] = { 2, 2, 2, 2 };
    static const int64_t neg_end[] = { 0, 0, -1, 0 }, huge[] = { 1, (int64_t)1 << 40 };
    static const int64_t neg_oshape[] = { 5, -5 };
    lrpx_test_attr at[2];
    int na = 0;
#define SET_INTS(nm, arr) \
    (at[na++] = (lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INTS, \
                                  .n = (int)(sizeof(arr) / sizeof(arr)[0]), .ints = (arr) })
#define SET_INT(nm, v) (at[na++] = (lrpx_test_attr){ .name = (nm), .type = LT_ATTR_INT, .i = (v) })
#define SET_STR(nm, v) \
    (at[na++] = (lrpx_test_attr){ .name = (nm), .type = LT_ATTR_STRING, .s = (v) })

    switch (_i) {
    case 0:  SET_INTS("pads", neg_pads); break;
    case 1:  xd[2] = xd[3] = 2; wd[2] = wd[3] = 5; SET_INTS("pads", pads1); break;
    case 2:  xd[1] = 3; wd[0] = 2; SET_INT("group", 2); break;
    case 3:  wr = 3; break;
    case 4:  xd[1] = 4; wd[0] = 2; wd[1] = 3; break;
    case 5:  SET_INTS("kernel_shape", ks22); break;
    case 6:  SET_INTS("strides", s10); break;
    case 7:  SET_INTS("pads", two1); break;
    case 8:  SET_STR("auto_pad", "SAME"); break;
    case 9:  ins = io3; break;
    case 10: xr = wr = 6; xd[2] = xd[3] = 2; xd[4] = xd[5] = 3;
             wd[2] = wd[3] = wd[4] = wd[5] = 1; break;
    case 11: SET_INTS("dilations", dil_neg); break;
    case 12: SET_INT("group", 0); break;
    case 13: xt = LRPX_DTYPE_INT64; break;
    case 14: SET_INTS("strides", s12); SET_INTS("output_padding", s12); break;
    case 15: xd[1] = 2; wd[0] = 3; break;
    case 16: xd[2] = xd[3] = 2; SET_INTS("pads", pads2); break;
    case 17: SET_INTS("pads", neg_end); break;
    case 18: xr = wr = 2; xd[0] = 2; xd[1] = 3; wd[0] = 4; wd[1] = 5; break;
    case 19: xr = wr = 2; xd[0] = 2; xd[1] = 3; wd[0] = 3; wd[1] = 4;
             ins = io3; break;
    case 20: xr = 3; xd[0] = 2; xd[1] = 3; xd[2] = 4; wr = 2; wd[0] = 4; wd[1] = 2; break;
    case 21: xr = wr = 2; xd[0] = 2; xd[1] = 3; wd[0] = 4; wd[1] = 2; break;
    case 22: xr = wr = 3; xd[0] = 2; xd[1] = 2; xd[2] = 3; wd[0] = 3; wd[1] = 3; wd[2] = 2;
             break;
    case 23: xr = 0; wr = 2; wd[0] = 1; wd[1] = 2; break;
    case 24: SET_INTS("dilations", huge); break;
    case 25: SET_INTS("output_shape", neg_oshape); break;
    default: ck_abort();
    }
#undef SET_INTS
#undef SET_INT
#undef SET_STR
    const lrpx_test_attr *a1 = na > 0 ? &at[0] : NULL, *a2 = na > 1 ? &at[1] : NULL;
    lrpx_test_model_input(tm, "x", xt, xr, xd);
    lrpx_test_model_init_f32(tm, "W", wr, wd, zeros);
    if (_i == 9)
        lrpx_test_model_init_f32(tm, "B", 1, (int64_t[]){ 2 }, zeros);
    if (_i == 19)
        lrpx_test_model_init_f32(tm, "B", 1, (int64_t[]){ 3 }, zeros);
    lrpx_test_model_node(tm, ec->op, "bad", ins, LT_IO("y"), a1, a2, NULL);
    lrpx_test_model_output(tm, "y");

    /* the error may surface at load (static shapes are planned then) or
     * when the session plans and runs */
    lrpx_model   *model = NULL;
    lrpx_session *s = NULL;
    lrpx_status   rc = lrpx_test_model_load(tm, &model);
    char msg[LRPX_ERRMSG_SIZE];
    if (rc != LRPX_OK) {
        snprintf(msg, sizeof msg, "%s", model ? lrpx_model_errmsg(model) : "");
    } else {
        ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
        int64_t in[64] = { 0 };
        ck_assert_int_le(prod(xd, xr), 64);
        rc = lrpx_session_set_input(s, "x", xt, xr, xd, in);
        if (rc == LRPX_OK)
            rc = lrpx_session_run(s);
        snprintf(msg, sizeof msg, "%s", lrpx_session_errmsg(s));
    }
    ck_assert_msg(rc == ec->want, "%s %s: status %s, expected %s (%s)", ec->op, ec->label,
                  lrpx_status_name(rc), lrpx_status_name(ec->want), msg);
    ck_assert_msg(strstr(msg, "'bad'") != NULL && strstr(msg, ec->op) != NULL,
                  "message does not name the node: %s", msg);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_linear_suite(void)
{
    Suite *su = suite_create("ops_linear");
    TCase *tc;

    tc = tcase_create("conv");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_conv_forward, 0, N_CONV_CASES);
    tcase_add_loop_test(tc, test_conv_backward, 0,
                        (int)(sizeof conv_backward_cases / sizeof conv_backward_cases[0]));
    suite_add_tcase(su, tc);

    tc = tcase_create("conv_transpose");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_conv_transpose_forward, 0, N_CONVT_CASES);
    tcase_add_loop_test(tc, test_conv_transpose_backward, 0,
                        (int)(sizeof convt_backward_cases / sizeof convt_backward_cases[0]));
    suite_add_tcase(su, tc);

    tc = tcase_create("gemm");
    tcase_add_loop_test(tc, test_gemm_forward, 0, N_GEMM_CASES);
    tcase_add_loop_test(tc, test_gemm_backward, 0, N_GEMM_CASES);
    tcase_add_test(tc, test_gemm_const_a_roles);
    suite_add_tcase(su, tc);

    tc = tcase_create("matmul");
    tcase_add_loop_test(tc, test_matmul_forward, 0, N_MATMUL_CASES);
    tcase_add_loop_test(tc, test_matmul_backward, 0, N_MATMUL_CASES);
    suite_add_tcase(su, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_errors, 0, N_ERR_CASES);
    suite_add_tcase(su, tc);
    return su;
}

int
main(void)
{
    SRunner *sr = srunner_create(ops_linear_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
