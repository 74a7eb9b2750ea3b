/* Suite "lrp": the explanation pass (src/lrp/, lrpx_session_explain).
 *
 *   rules      every rule on Gemm, MatMul + bias Add, Conv (strides, pads,
 *              dilations, groups, with and without bias) and ConvTranspose,
 *              negative inputs, against a float64 reference written here
 *              from the rule's formula in the textbook "contribution"
 *              form (z_ij = a_ji x_i over a dense matrix A of the layer,
 *              built by applying a float64 layer of this file to unit
 *              vectors) - a different formulation from the library's
 *              modified-weight products; max |R - R_ref| <= 1e-5 max |R_ref|
 *   properties LRP-0 equals gradient x input (central differences) on
 *              bias-free ReLU networks; z+ conserves the logit; a residual
 *              network conserves under LRP-0 with zero_bias
 *   canonizers a BatchNorm-preserving model and its folded twin (folded in
 *              float64 here, and by the loader) give the same relevance;
 *              MatMul + Add + BatchNorm equals the folded Gemm
 *   maxpool    a hand-computed 2x2 example for winner, winner-split, sum
 *   models     the bundled Fashion-MNIST CNN: every composite runs (sum and
 *              logit printed), the gradient matches PyTorch's, a batch is
 *              explained per sample; reference maps of
 *              scripts/lrp_reference.py (an independent PyTorch
 *              re-implementation of Zennit's rule definitions, not Zennit
 *              itself) for the bundled model and the small zoo models:
 *              max |R - R_ref| <= 1e-4 max |R_ref|
 *   options    rule specs, JSON rule files, bad options and unsupported
 *              graphs give LRPX_EINVAL / EPARSE / EUNSUPPORTED with a message
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"
#include "core/op.h"

/* ---- helpers ---- */

static int64_t
prod(const int64_t *d, int r)
{
    int64_t p = 1;
    for (int k = 0; k < r; k++)
        p *= d[k];
    return p;
}

static double
stab(double z, double e)
{
    return z >= 0 ? z + e : z - e;
}

/* max |a - ref| / max |ref| */
static double
rel_err(const float *a, const double *ref, int64_t n, int64_t *worst)
{
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        m = fmax(m, fabs(ref[i]));
        double d = fabs((double)a[i] - ref[i]);
        if (d > e) {
            e = d;
            if (worst)
                *worst = i;
        }
    }
    return m > 0 ? e / m : e;
}

static double
sum_f32(const float *a, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

static lrpx_model *
load(lrpx_test_model *tm, bool fold_bn)
{
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(tm, &buf, &len);
    struct lrpx_load_options lo;
    lrpx_load_options_default(&lo);
    lo.fold_batchnorm = fold_bn;
    lrpx_model *m;
    lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, &lo, &m);
    free(buf);
    ck_assert_msg(rc == LRPX_OK, "load: %s: %s", lrpx_status_name(rc),
                  m ? lrpx_model_errmsg(m) : "(no handle)");
    return m;
}

static lrpx_model *
load_file(const char *rel, bool fold_bn)
{
    struct lrpx_load_options lo;
    lrpx_load_options_default(&lo);
    lo.fold_batchnorm = fold_bn;
    lrpx_model *m;
    lrpx_status rc = lrpx_model_load_file(lrpx_test_path(rel), &lo, &m);
    ck_assert_msg(rc == LRPX_OK, "load %s: %s", rel, m ? lrpx_model_errmsg(m) : "(no handle)");
    return m;
}

static lrpx_session *
session(lrpx_model *m, int rank, const int64_t *dims, const float *x)
{
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    lrpx_status rc = lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, rank, dims, x);
    ck_assert_msg(rc == LRPX_OK, "set_input: %s", lrpx_session_errmsg(s));
    return s;
}

static void
explain_ok(lrpx_session *s, const struct lrpx_lrp_options *o)
{
    lrpx_status rc = lrpx_session_explain(s, o);
    ck_assert_msg(rc == LRPX_OK, "explain: %s: %s", lrpx_status_name(rc),
                  lrpx_session_errmsg(s));
}

static const float *
input_rel(lrpx_session *s, int64_t *n)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &v), LRPX_OK);
    if (n)
        *n = v.n_elems;
    return v.data;
}

static void
add_rule(struct lrpx_lrp_options *o, const char *spec)
{
    char err[512];
    ck_assert_msg(lrpx_lrp_options_parse_rule(o, spec, err, sizeof err) == LRPX_OK, "%s: %s",
                  spec, err);
}

/* ---- float64 layers of this file (for the dense matrices) ---- */

struct conv_case {
    const char *label;
    bool        transpose;
    int64_t     batch, c_in, h, w, m, kh, kw;
    int64_t     sh, sw, pt, pl, pb, pr, dh, dw, group;
    bool        bias;
};

static void
conv_out_hw(const struct conv_case *c, int64_t *oh, int64_t *ow)
{
    if (!c->transpose) {
        *oh = (c->h + c->pt + c->pb - c->dh * (c->kh - 1) - 1) / c->sh + 1;
        *ow = (c->w + c->pl + c->pr - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    } else {
        *oh = (c->h - 1) * c->sh - c->pt - c->pb + c->dh * (c->kh - 1) + 1;
        *ow = (c->w - 1) * c->sw - c->pl - c->pr + c->dw * (c->kw - 1) + 1;
    }
}

/* y = conv(x; w) (no bias), float64, whole batch. Conv: w [M, C/g, kh, kw];
 * ConvTranspose: w [C, M/g, kh, kw]. */
static void
conv64(const struct conv_case *c, const double *x, const double *w, double *y)
{
    int64_t oh, ow;
    conv_out_hw(c, &oh, &ow);
    int64_t cg = c->c_in / c->group, mg = c->m / c->group;
    memset(y, 0, sizeof(double) * (size_t)(c->batch * c->m * oh * ow));
    for (int64_t b = 0; b < c->batch; b++)
        for (int64_t ci = 0; ci < c->c_in; ci++)
            for (int64_t mo = 0; mo < mg; mo++)
                for (int64_t ky = 0; ky < c->kh; ky++)
                    for (int64_t kx = 0; kx < c->kw; kx++) {
                        int64_t grp = ci / cg, m = grp * mg + mo;
                        double  wv  = c->transpose
                                          ? w[((ci * mg + mo) * c->kh + ky) * c->kw + kx]
                                          : w[((m * cg + ci % cg) * c->kh + ky) * c->kw + kx];
                        if (!c->transpose) {
                            for (int64_t oy = 0; oy < oh; oy++)
                                for (int64_t ox = 0; ox < ow; ox++) {
                                    int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                                    int64_t ix = ox * c->sw - c->pl + kx * c->dw;
                                    if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                                        continue;
                                    y[((b * c->m + m) * oh + oy) * ow + ox] +=
                                        wv * x[((b * c->c_in + ci) * c->h + iy) * c->w + ix];
                                }
                        } else {
                            for (int64_t iy = 0; iy < c->h; iy++)
                                for (int64_t ix = 0; ix < c->w; ix++) {
                                    int64_t oy = iy * c->sh - c->pt + ky * c->dh;
                                    int64_t ox = ix * c->sw - c->pl + kx * c->dw;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                                        continue;
                                    y[((b * c->m + m) * oh + oy) * ow + ox] +=
                                        wv * x[((b * c->c_in + ci) * c->h + iy) * c->w + ix];
                                }
                        }
                    }
}

static void
conv64_layer(const void *ctx, const double *w, const double *x, double *y)
{
    conv64(ctx, x, w, y);
}

/* ---- the dense reference ---- */

struct dense {
    int64_t n_in, n_out;
    double *a;       /* [n_out][n_in]                         */
    double *a1;      /* structure: the layer with unit weights */
    double *b;       /* bias contribution per output, or NULL  */
};

static void
dense_free(struct dense *d)
{
    free(d->a);
    free(d->a1);
    free(d->b);
}

struct ref_rule {
    lrpx_rule   rule;
    double      p1, p2;            /* eps | gamma | alpha, beta | low, high */
    const float *low_c, *high_c;   /* zbox per channel (axis 1)             */
    int64_t     c_in, inner;       /* for the per-channel bounds            */
    bool        zero_bias;
};

static double
bound_at(const struct ref_rule *r, bool high, int64_t i)
{
    if (!r->low_c)
        return high ? r->p2 : r->p1;
    int64_t c = (i / r->inner) % r->c_in;
    return high ? r->high_c[c] : r->low_c[c];
}

/* R_in from R_out by the rule's textbook formula over contributions. */
static void
ref_linear(const struct dense *d, const struct ref_rule *r, const double *x, const double *rout,
           double *rin)
{
    const double e  = 1e-6;     /* stabilizer of the non-epsilon rules */
    int64_t      ni = d->n_in, no = d->n_out;
    memset(rin, 0, sizeof(double) * (size_t)ni);
    for (int64_t j = 0; j < no; j++) {
        const double *aj = d->a + j * ni, *a1 = d->a1 + j * ni;
        double        bj = d->b ? d->b[j] : 0.0, bz = r->zero_bias ? 0.0 : bj;
        double        z = bj, zb = bz, P = 0, N = 0, D = 0;
        for (int64_t i = 0; i < ni; i++) {
            double zij = aj[i] * x[i];
            z += zij;
            zb += zij;
        }
        switch (r->rule) {
        case LRPX_RULE_ZERO:
        case LRPX_RULE_EPSILON: {
            double s = r->rule == LRPX_RULE_ZERO ? (zb != 0 ? rout[j] / zb : 0.0)
                                                 : rout[j] / stab(zb, r->p1);
            for (int64_t i = 0; i < ni; i++)
                rin[i] += aj[i] * x[i] * s;
            break;
        }
        case LRPX_RULE_ALPHABETA:
        case LRPX_RULE_ZPLUS: {
            double al = r->rule == LRPX_RULE_ZPLUS ? 1.0 : r->p1;
            double be = r->rule == LRPX_RULE_ZPLUS ? 0.0 : r->p2;
            P = fmax(bz, 0.0);
            N = fmin(bz, 0.0);
            for (int64_t i = 0; i < ni; i++) {
                P += fmax(aj[i] * x[i], 0.0);
                N += fmin(aj[i] * x[i], 0.0);
            }
            for (int64_t i = 0; i < ni; i++)
                rin[i] += al * fmax(aj[i] * x[i], 0.0) * rout[j] / stab(P, e) -
                          be * fmin(aj[i] * x[i], 0.0) * rout[j] / stab(N, e);
            break;
        }
        case LRPX_RULE_GAMMA: {
            double g = r->p1;
            P = bz + g * fmax(bz, 0.0);
            N = bz + g * fmin(bz, 0.0);
            for (int64_t i = 0; i < ni; i++) {
                double zij = aj[i] * x[i];
                P += zij + g * fmax(zij, 0.0);
                N += zij + g * fmin(zij, 0.0);
            }
            for (int64_t i = 0; i < ni; i++) {
                double zij = aj[i] * x[i];
                if (z > 0)
                    rin[i] += (zij + g * fmax(zij, 0.0)) * rout[j] / stab(P, e);
                else if (z < 0)
                    rin[i] += (zij + g * fmin(zij, 0.0)) * rout[j] / stab(N, e);
            }
            break;
        }
        case LRPX_RULE_ZBOX: {
            for (int64_t i = 0; i < ni; i++)
                D += aj[i] * x[i] - fmax(aj[i], 0.0) * bound_at(r, false, i) -
                     fmin(aj[i], 0.0) * bound_at(r, true, i);
            for (int64_t i = 0; i < ni; i++)
                rin[i] += (aj[i] * x[i] - fmax(aj[i], 0.0) * bound_at(r, false, i) -
                           fmin(aj[i], 0.0) * bound_at(r, true, i)) * rout[j] / stab(D, e);
            break;
        }
        case LRPX_RULE_WSQUARE: {
            D = bz * bz;
            for (int64_t i = 0; i < ni; i++)
                D += aj[i] * aj[i];
            for (int64_t i = 0; i < ni; i++)
                rin[i] += aj[i] * aj[i] * rout[j] / stab(D, e);
            break;
        }
        case LRPX_RULE_FLAT: {
            for (int64_t i = 0; i < ni; i++)
                D += a1[i];
            for (int64_t i = 0; i < ni; i++)
                rin[i] += a1[i] * rout[j] / stab(D, e);
            break;
        }
        case LRPX_RULE_PASS:
            ck_assert_int_eq(ni, no);
            rin[j] += rout[j];
            break;
        default:
            ck_abort_msg("rule %d", (int)r->rule);
        }
    }
}

/* How much float32 rounding of output j's denominator(s) can be amplified
 * under rule r: sum |terms| / |denominator| (1 for sums of one sign). */
static double
ref_cond(const struct dense *d, const struct ref_rule *r, const double *x, int64_t j)
{
    const double  e  = 1e-6;
    int64_t       ni = d->n_in;
    const double *aj = d->a + j * ni;
    double        bj = d->b ? d->b[j] : 0.0, bz = r->zero_bias ? 0.0 : bj;
    double        z = bj, zb = bz, az = fabs(bj), azb = fabs(bz);
    for (int64_t i = 0; i < ni; i++) {
        z += aj[i] * x[i];
        zb += aj[i] * x[i];
        az += fabs(aj[i] * x[i]);
        azb += fabs(aj[i] * x[i]);
    }
    switch (r->rule) {
    case LRPX_RULE_ZERO:
        return zb != 0 ? azb / fabs(zb) : 0.0;
    case LRPX_RULE_EPSILON:
        return azb / fabs(stab(zb, r->p1));
    case LRPX_RULE_GAMMA: {
        double g = r->p1, den = 0, abs_terms = 0;
        bool   p = z > 0;
        den = abs_terms = 0;
        double b = bz + g * (p ? fmax(bz, 0.0) : fmin(bz, 0.0));
        den += b;
        abs_terms += fabs(b);
        for (int64_t i = 0; i < ni; i++) {
            double zij = aj[i] * x[i], t = zij + g * (p ? fmax(zij, 0.0) : fmin(zij, 0.0));
            den += t;
            abs_terms += fabs(t);
        }
        return fmax(az / fabs(z), abs_terms / fabs(stab(den, e)));
    }
    case LRPX_RULE_ZBOX: {
        double den = 0, abs_terms = 0;
        for (int64_t i = 0; i < ni; i++) {
            double t = aj[i] * x[i] - fmax(aj[i], 0.0) * bound_at(r, false, i) -
                       fmin(aj[i], 0.0) * bound_at(r, true, i);
            den += t;
            abs_terms += fabs(t);
        }
        return abs_terms / fabs(stab(den, e));
    }
    default:
        return 1.0;
    }
}

/* Build the dense matrix of a float64 layer fn by unit vectors. */
typedef void (*layer64_fn)(const void *ctx, const double *w, const double *x, double *y);

static void
dense_build(struct dense *d, layer64_fn fn, const void *ctx, const double *w, const double *w1,
            int64_t n_in, int64_t n_out)
{
    d->n_in  = n_in;
    d->n_out = n_out;
    d->a     = calloc((size_t)(n_in * n_out), sizeof(double));
    d->a1    = calloc((size_t)(n_in * n_out), sizeof(double));
    double *e = calloc((size_t)n_in, sizeof(double)), *y = calloc((size_t)n_out, sizeof(double));
    ck_assert(d->a && d->a1 && e && y);
    for (int64_t i = 0; i < n_in; i++) {
        e[i] = 1.0;
        fn(ctx, w, e, y);
        for (int64_t j = 0; j < n_out; j++)
            d->a[j * n_in + i] = y[j];
        fn(ctx, w1, e, y);
        for (int64_t j = 0; j < n_out; j++)
            d->a1[j * n_in + i] = y[j];
        e[i] = 0.0;
    }
    free(e);
    free(y);
}

/* statistics printed at the end of the rule tests */
static int     n_checked;
static int64_t n_masked, n_outputs;
static double  max_err;

/* ---- rule cases ---- */

struct rule_case {
    const char *spec;      /* override for every linear node                 */
    bool        zero_bias;
};

static const struct rule_case rule_cases[] = {
    {"*=zero", false},
    {"*=epsilon", false},
    {"*=epsilon:0.25", false},
    {"*=gamma", false},
    {"*=gamma:1.5", false},
    {"*=alphabeta:2,1", false},
    {"*=alphabeta:1.5,0.5", false},
    {"*=zplus", false},
    {"*=zbox:-1.5,2", false},
    {"*=wsquare", false},
    {"*=flat", false},
    {"*=epsilon:0.01", true},
    {"*=gamma", true},
    {"*=alphabeta:2,1", true},
    {"*=wsquare", true},
    {"*=zero", true},
};
#define N_RULE_CASES ((int)(sizeof rule_cases / sizeof rule_cases[0]))

static void
ref_rule_from_spec(const char *spec, bool zero_bias, struct ref_rule *r)
{
    memset(r, 0, sizeof *r);
    r->zero_bias = zero_bias;
    const char *t = strchr(spec, '=') + 1;
    if (!strncmp(t, "zero", 4))
        r->rule = LRPX_RULE_ZERO;
    else if (!strncmp(t, "epsilon", 7)) {
        r->rule = LRPX_RULE_EPSILON;
        r->p1   = t[7] == ':' ? atof(t + 8) : 1e-6;
    } else if (!strncmp(t, "gamma", 5)) {
        r->rule = LRPX_RULE_GAMMA;
        r->p1   = t[5] == ':' ? atof(t + 6) : 0.25;
    } else if (!strncmp(t, "alphabeta:", 10)) {
        r->rule = LRPX_RULE_ALPHABETA;
        r->p1   = atof(t + 10);
        r->p2   = atof(strchr(t, ',') + 1);
    } else if (!strncmp(t, "zplus", 5))
        r->rule = LRPX_RULE_ZPLUS;
    else if (!strncmp(t, "zbox:", 5)) {
        r->rule = LRPX_RULE_ZBOX;
        r->p1   = atof(t + 5);
        r->p2   = atof(strchr(t, ',') + 1);
    } else if (!strncmp(t, "wsquare", 7))
        r->rule = LRPX_RULE_WSQUARE;
    else if (!strncmp(t, "flat", 4))
        r->rule = LRPX_RULE_FLAT;
    else if (!strncmp(t, "pass", 4))
        r->rule = LRPX_RULE_PASS;
    else
        ck_abort_msg("spec %s", spec);
}

/* Explain `model` (input x, output seeded with rout) under spec, compare
 * the relevance at value rel_value (NULL: the input) with the dense
 * reference of the layer, whose input is x_layer. Outputs whose
 * denominator is ill-conditioned (sum |terms| > 30 |denominator|, where
 * float32 rounding of z alone would exceed the tolerance) get no seed
 * relevance: the rules are linear in R, so the others are still checked
 * exactly. */
static void
check_rule(lrpx_model *model, int rank, const int64_t *dims, const float *x,
           const char *rel_value, const float *x_layer, const float *rout, int64_t n_out,
           const struct dense *d, const char *spec, bool zero_bias,
           const struct ref_rule *extra, const char *label)
{
    struct ref_rule r;
    if (extra)
        r = *extra;
    else
        ref_rule_from_spec(spec, zero_bias, &r);
    r.zero_bias = zero_bias;
    int64_t n   = d->n_in;
    double *x64 = malloc(sizeof(double) * (size_t)n);
    double *r64 = malloc(sizeof(double) * (size_t)n_out);
    double *ref = malloc(sizeof(double) * (size_t)n);
    float  *rm  = malloc(sizeof(float) * (size_t)n_out);
    ck_assert(x64 && r64 && ref && rm);
    for (int64_t i = 0; i < n; i++)
        x64[i] = x_layer[i];
    int masked = 0;
    for (int64_t j = 0; j < n_out; j++) {
        bool ok = ref_cond(d, &r, x64, j) <= 30.0;
        rm[j]   = ok ? rout[j] : 0.0f;
        r64[j]  = rm[j];
        masked += !ok;
    }
    ck_assert_msg(masked * 4 <= n_out, "%s, %s: %d of %lld outputs ill-conditioned", label, spec,
                  masked, (long long)n_out);

    lrpx_session           *s = session(model, rank, dims, x);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    strcpy(o.composite, "lrp0");
    o.zero_bias    = zero_bias;
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = rm;
    o.seed_n_elems = n_out;
    add_rule(&o, spec);
    explain_ok(s, &o);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_relevance(s, rel_value, &v), LRPX_OK);
    ck_assert_int_eq(v.n_elems, n);
    const float *rel = v.data;

    ref_linear(d, &r, x64, r64, ref);
    int64_t worst = -1;
    double  err   = rel_err(rel, ref, n, &worst);
    ck_assert_msg(err <= 1e-5, "%s, %s%s: relative error %.3g at %lld (lrpx %.9g, reference %.9g)",
                  label, spec, zero_bias ? " zero_bias" : "", err, (long long)worst,
                  worst >= 0 ? rel[worst] : 0.0, worst >= 0 ? ref[worst] : 0.0);
    n_checked++;
    max_err = fmax(max_err, err);
    n_masked += masked;
    n_outputs += n_out;
    free(x64);
    free(r64);
    free(ref);
    free(rm);
    lrpx_session_free(s);
}

/* ---- Gemm / MatMul cases ---- */

struct gemm_case {
    const char *label;
    int         kind;      /* 0 Gemm(x, W), 1 Gemm(W, x) (roles swap), 2 MatMul(x, W) + Add(b) */
    int64_t     m, k, n;   /* x [m, k] (kind 1: x [k, n], W [m, k]); W [k, n]                  */
    bool        trans_b, bias;
    float       alpha, beta;
};

static const struct gemm_case gemm_cases[] = {
    {"gemm k7 n5 bias", 0, 2, 7, 5, false, true, 1.0f, 1.0f},
    {"gemm transB no bias", 0, 3, 6, 4, true, false, 1.0f, 1.0f},
    {"gemm alpha 0.7 beta 1.5", 0, 2, 5, 6, true, true, 0.7f, 1.5f},
    {"gemm W x (swapped roles)", 1, 4, 6, 3, false, true, 1.0f, 1.0f},
    {"matmul + bias add", 2, 3, 8, 5, false, true, 1.0f, 1.0f},
};

struct gemm_ctx {
    const struct gemm_case *c;
};

static void
gemm64(const void *ctx, const double *w, const double *x, double *y)
{
    const struct gemm_case *c = ((const struct gemm_ctx *)ctx)->c;
    if (c->kind == 1) {               /* y [m, n] = alpha W [m, k] x [k, n] */
        for (int64_t i = 0; i < c->m; i++)
            for (int64_t j = 0; j < c->n; j++) {
                double s = 0;
                for (int64_t k = 0; k < c->k; k++)
                    s += w[i * c->k + k] * x[k * c->n + j];
                y[i * c->n + j] = c->alpha * s;
            }
        return;
    }
    for (int64_t i = 0; i < c->m; i++)
        for (int64_t j = 0; j < c->n; j++) {
            double s = 0;
            for (int64_t k = 0; k < c->k; k++)
                s += x[i * c->k + k] * (c->trans_b ? w[j * c->k + k] : w[k * c->n + j]);
            y[i * c->n + j] = c->alpha * s;
        }
}

START_TEST(test_rules_gemm)
{
    const struct gemm_case *c = &gemm_cases[_i];
    lrpx_test_rng_seed(100 + (uint64_t)_i);
    int64_t xd[2], wd[2], yd[2] = {c->m, c->n};
    if (c->kind == 1) {
        xd[0] = c->k; xd[1] = c->n;
        wd[0] = c->m; wd[1] = c->k;
    } else {
        xd[0] = c->m; xd[1] = c->k;
        wd[0] = c->trans_b ? c->n : c->k;
        wd[1] = c->trans_b ? c->k : c->n;
    }
    int64_t n_x = prod(xd, 2), n_w = prod(wd, 2), n_y = prod(yd, 2);
    int64_t bd[1] = {c->n};
    float  *x = malloc(sizeof(float) * (size_t)n_x), *w = malloc(sizeof(float) * (size_t)n_w);
    float  *b = malloc(sizeof(float) * (size_t)c->n), *rout = malloc(sizeof(float) * (size_t)n_y);
    lrpx_test_fill(x, n_x, -1, 1);
    lrpx_test_fill(w, n_w, -1, 1);
    lrpx_test_fill(b, c->n, -0.5, 0.5);
    lrpx_test_fill(rout, n_y, -1, 1);

    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, xd);
    lrpx_test_model_init_f32(tm, "W", 2, wd, w);
    if (c->bias)
        lrpx_test_model_init_f32(tm, "B", 1, bd, b);
    if (c->kind == 0)
        lrpx_test_model_node(tm, "Gemm", "gemm", c->bias ? LT_IO("x", "W", "B") : LT_IO("x", "W"),
                             LT_IO("y"), LT_INT("transB", c->trans_b), LT_FLOAT("alpha", c->alpha),
                             LT_FLOAT("beta", c->beta), NULL);
    else if (c->kind == 1) {
        /* the data operand is computed (a fed input would count as known
         * while planning): t = -x, y = W t */
        lrpx_test_model_node(tm, "Neg", "neg", LT_IO("x"), LT_IO("t"), NULL);
        lrpx_test_model_node(tm, "Gemm", "gemm", c->bias ? LT_IO("W", "t", "B") : LT_IO("W", "t"),
                             LT_IO("y"), NULL);
    }
    else {
        lrpx_test_model_node(tm, "MatMul", "mm", LT_IO("x", "W"), LT_IO("t"), NULL);
        lrpx_test_model_node(tm, "Add", "bias", LT_IO("t", "B"), LT_IO("y"), NULL);
    }
    lrpx_test_model_output(tm, "y");
    lrpx_model *model = load(tm, true);

    struct gemm_ctx ctx = {c};
    double *w64 = malloc(sizeof(double) * (size_t)n_w), *w1 = malloc(sizeof(double) * (size_t)n_w);
    for (int64_t i = 0; i < n_w; i++) {
        w64[i] = w[i];
        w1[i]  = 1.0 / c->alpha;           /* flat: unit effective weights */
    }
    struct dense d = {0};
    dense_build(&d, gemm64, &ctx, w64, w1, n_x, n_y);
    if (c->bias) {
        d.b = calloc((size_t)n_y, sizeof(double));
        for (int64_t i = 0; i < c->m; i++)
            for (int64_t j = 0; j < c->n; j++)
                d.b[i * c->n + j] = (c->kind == 0 ? c->beta : 1.0) * b[j];
    }
    float *xl = malloc(sizeof(float) * (size_t)n_x);     /* what the layer sees */
    for (int64_t i = 0; i < n_x; i++)
        xl[i] = c->kind == 1 ? -x[i] : x[i];
    for (int r = 0; r < N_RULE_CASES; r++)
        check_rule(model, 2, xd, x, c->kind == 1 ? "t" : NULL, xl, rout, n_y, &d,
                   rule_cases[r].spec, rule_cases[r].zero_bias, NULL, c->label);
    free(xl);
    printf("rules on %-30s %d rule checks, max relative error %.2g, %lld of %lld seeded outputs "
           "left out as ill-conditioned\n", c->label, n_checked, max_err, (long long)n_masked,
           (long long)n_outputs);

    dense_free(&d);
    free(w64);
    free(w1);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(x);
    free(w);
    free(b);
    free(rout);
}
END_TEST

/* ---- Conv / ConvTranspose cases ---- */

static const struct conv_case conv_cases[] = {
    /* label                          T  b  C  H  W  M  kh kw sh sw pt pl pb pr dh dw g  bias */
    {"conv 3x3 pad 1 bias",           0, 2, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
    {"conv stride 2 asym pads",       0, 1, 4, 7, 6, 6, 3, 2, 2, 2, 1, 0, 0, 1, 1, 1, 1, false},
    {"conv dilation 2 group 2",       0, 2, 4, 6, 6, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2, true},
    {"conv depthwise",                0, 1, 3, 5, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, true},
    {"conv pointwise",                0, 2, 2, 4, 3, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false},
    {"conv stride 2 no pad",          0, 1, 2, 7, 7, 3, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, true},
    {"convtranspose stride 2 pad 1",  1, 1, 3, 3, 4, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true},
    {"convtranspose group 2",         1, 2, 4, 3, 3, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 2, false},
};

START_TEST(test_rules_conv)
{
    const struct conv_case *c = &conv_cases[_i];
    lrpx_test_rng_seed(200 + (uint64_t)_i);
    int64_t oh, ow;
    conv_out_hw(c, &oh, &ow);
    int64_t xd[4] = {c->batch, c->c_in, c->h, c->w}, yd[4] = {c->batch, c->m, oh, ow};
    int64_t wd[4] = {c->transpose ? c->c_in : c->m,
                     c->transpose ? c->m / c->group : c->c_in / c->group, c->kh, c->kw};
    int64_t n_x = prod(xd, 4), n_y = prod(yd, 4), n_w = prod(wd, 4), bd[1] = {c->m};
    float  *x = malloc(sizeof(float) * (size_t)n_x), *w = malloc(sizeof(float) * (size_t)n_w);
    float  *b = malloc(sizeof(float) * (size_t)c->m), *rout = malloc(sizeof(float) * (size_t)n_y);
    lrpx_test_fill(x, n_x, -1, 1);
    lrpx_test_fill(w, n_w, -1, 1);
    lrpx_test_fill(b, c->m, -0.5, 0.5);
    lrpx_test_fill(rout, n_y, -1, 1);

    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, xd);
    lrpx_test_model_init_f32(tm, "W", 4, wd, w);
    if (c->bias)
        lrpx_test_model_init_f32(tm, "B", 1, bd, b);
    lrpx_test_model_node(tm, c->transpose ? "ConvTranspose" : "Conv", "conv",
                         c->bias ? LT_IO("x", "W", "B") : LT_IO("x", "W"), LT_IO("y"),
                         LT_INTS("kernel_shape", c->kh, c->kw), LT_INTS("strides", c->sh, c->sw),
                         LT_INTS("pads", c->pt, c->pl, c->pb, c->pr),
                         LT_INTS("dilations", c->dh, c->dw), LT_INT("group", c->group), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *model = load(tm, true);

    double *w64 = malloc(sizeof(double) * (size_t)n_w), *w1 = malloc(sizeof(double) * (size_t)n_w);
    for (int64_t i = 0; i < n_w; i++) {
        w64[i] = w[i];
        w1[i]  = 1.0;
    }
    struct dense d = {0};
    dense_build(&d, conv64_layer, c, w64, w1, n_x, n_y);
    if (c->bias) {
        d.b = calloc((size_t)n_y, sizeof(double));
        for (int64_t j = 0; j < n_y; j++)
            d.b[j] = b[(j / (oh * ow)) % c->m];
    }
    for (int r = 0; r < N_RULE_CASES; r++)
        check_rule(model, 4, xd, x, NULL, x, rout, n_y, &d, rule_cases[r].spec,
                   rule_cases[r].zero_bias, NULL, c->label);
    /* per-channel z^B bounds (axis 1 of the input) */
    float lo[16], hi[16];
    char  spec[256] = "*=zbox:[", *p;
    for (int k = 0; k < c->c_in; k++) {
        lo[k] = (float)lrpx_test_uniform(-2, -0.5);
        hi[k] = (float)lrpx_test_uniform(0.5, 2);
    }
    p = spec + strlen(spec);
    for (int k = 0; k < c->c_in; k++)
        p += sprintf(p, "%s%.9g", k ? "," : "", lo[k]);
    p += sprintf(p, "],[");
    for (int k = 0; k < c->c_in; k++)
        p += sprintf(p, "%s%.9g", k ? "," : "", hi[k]);
    sprintf(p, "]");
    struct ref_rule zr = {.rule = LRPX_RULE_ZBOX, .low_c = lo, .high_c = hi, .c_in = c->c_in,
                          .inner = c->h * c->w};
    check_rule(model, 4, xd, x, NULL, x, rout, n_y, &d, spec, false, &zr, c->label);
    /* pass where the layer keeps the shape */
    if (n_x == n_y && c->c_in == c->m && oh == c->h && ow == c->w)
        check_rule(model, 4, xd, x, NULL, x, rout, n_y, &d, "*=pass", false, NULL, c->label);
    printf("rules on %-30s %d rule checks, max relative error %.2g, %lld of %lld seeded outputs "
           "left out as ill-conditioned\n", c->label, n_checked, max_err, (long long)n_masked,
           (long long)n_outputs);

    dense_free(&d);
    free(w64);
    free(w1);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
    free(x);
    free(w);
    free(b);
    free(rout);
}
END_TEST

/* ---- small networks ---- */

/* x [1, 10] -> Gemm -> Relu -> Gemm -> Relu -> Gemm -> y [1, 4], transB
 * weights; biases only when with_bias. */
static lrpx_test_model *
mlp(bool with_bias, double wlo)
{
    static const int64_t sizes[4] = {10, 8, 6, 4};
    lrpx_test_model     *tm       = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 10});
    const char *ins[3]  = {"x", "a1", "a2"};
    const char *outs[3] = {"z1", "z2", "y"};
    for (int l = 0; l < 3; l++) {
        char    wn[8], bn[8];
        int64_t wd[2] = {sizes[l + 1], sizes[l]}, bd[1] = {sizes[l + 1]};
        float   w[80], b[8];
        lrpx_test_fill(w, wd[0] * wd[1], wlo, 1);
        lrpx_test_fill(b, bd[0], -0.3, 0.3);
        snprintf(wn, sizeof wn, "W%d", l);
        snprintf(bn, sizeof bn, "B%d", l);
        lrpx_test_model_init_f32(tm, wn, 2, wd, w);
        if (with_bias) {
            lrpx_test_model_init_f32(tm, bn, 1, bd, b);
            lrpx_test_model_node(tm, "Gemm", NULL, LT_IO(ins[l], wn, bn), LT_IO(outs[l]),
                                 LT_INT("transB", 1), NULL);
        } else {
            lrpx_test_model_node(tm, "Gemm", NULL, LT_IO(ins[l], wn), LT_IO(outs[l]),
                                 LT_INT("transB", 1), NULL);
        }
        if (l < 2)
            lrpx_test_model_node(tm, "Relu", NULL, LT_IO(outs[l]), LT_IO(ins[l + 1]), NULL);
    }
    lrpx_test_model_output(tm, "y");
    return tm;
}

/* x [1, 2, 6, 6] -> Conv 3x3 pad 1 (3 ch) -> Relu -> MaxPool 2 -> Flatten
 * -> Gemm (27 -> 4) -> y, no biases. */
static lrpx_test_model *
small_cnn(double wlo)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    float            w1[54], w2[108];
    lrpx_test_fill(w1, 54, wlo, 1);
    lrpx_test_fill(w2, 108, wlo, 1);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 6, 6});
    lrpx_test_model_init_f32(tm, "W1", 4, (int64_t[]){3, 2, 3, 3}, w1);
    lrpx_test_model_init_f32(tm, "W2", 2, (int64_t[]){4, 27}, w2);
    lrpx_test_model_node(tm, "Conv", "conv", LT_IO("x", "W1"), LT_IO("c"),
                         LT_INTS("pads", 1, 1, 1, 1), NULL);
    lrpx_test_model_node(tm, "Relu", "relu", LT_IO("c"), LT_IO("r"), NULL);
    lrpx_test_model_node(tm, "MaxPool", "pool", LT_IO("r"), LT_IO("p"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("strides", 2, 2), NULL);
    lrpx_test_model_node(tm, "Flatten", "flat", LT_IO("p"), LT_IO("f"), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("f", "W2"), LT_IO("y"), LT_INT("transB", 1),
                         NULL);
    lrpx_test_model_output(tm, "y");
    return tm;
}

/* logit `cls` of output 0 for input x */
static double
logit_of(lrpx_session *s, int rank, const int64_t *dims, const float *x, int64_t cls)
{
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, rank, dims, x), LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    return ((const float *)y.data)[cls];
}

START_TEST(test_lrp0_is_gradient_times_input)
{
    for (int net = 0; net < 2; net++) {
        lrpx_test_rng_seed(300 + (uint64_t)net);
        lrpx_test_model *tm   = net == 0 ? mlp(false, -1) : small_cnn(-1);
        int              rank = net == 0 ? 2 : 4;
        int64_t          dims[4] = {1, 10, 0, 0};
        if (net == 1) {
            dims[1] = 2;
            dims[2] = dims[3] = 6;
        }
        int64_t n = prod(dims, rank);
        float  *x = malloc(sizeof(float) * (size_t)n), *xp = malloc(sizeof(float) * (size_t)n);
        lrpx_test_fill(x, n, -1, 1);
        lrpx_model             *m = load(tm, true);
        lrpx_session           *s = session(m, rank, dims, x);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        strcpy(o.composite, "lrp0");
        explain_ok(s, &o);
        int64_t cls;
        double  logit;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, &logit), LRPX_OK);
        float *rel = malloc(sizeof(float) * (size_t)n);
        memcpy(rel, input_rel(s, NULL), sizeof(float) * (size_t)n);
        /* gradient x input by central differences of the forward pass */
        double *gx = malloc(sizeof(double) * (size_t)n), h = 1e-3;
        for (int64_t i = 0; i < n; i++) {
            memcpy(xp, x, sizeof(float) * (size_t)n);
            xp[i]     = (float)(x[i] + h);
            double fp = logit_of(s, rank, dims, xp, cls);
            xp[i]     = (float)(x[i] - h);
            double fm = logit_of(s, rank, dims, xp, cls);
            gx[i]     = x[i] * (fp - fm) / ((double)(float)(x[i] + h) - (double)(float)(x[i] - h));
        }
        double err = rel_err(rel, gx, n, NULL);
        ck_assert_msg(err <= 1e-3, "net %d: LRP-0 vs gradient x input: relative error %.3g", net,
                      err);
        printf("lrp0 == gradient x input (%s): max relative difference %.2g\n",
               net ? "cnn" : "mlp", err);
        free(gx);
        free(rel);
        free(x);
        free(xp);
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_zplus_conserves)
{
    for (int net = 0; net < 2; net++) {
        lrpx_test_rng_seed(400 + (uint64_t)net);
        lrpx_test_model *tm   = net == 0 ? mlp(false, -1) : small_cnn(-1);
        int              rank = net == 0 ? 2 : 4;
        int64_t          dims[4] = {1, 10, 0, 0};
        if (net == 1) {
            dims[1] = 2;
            dims[2] = dims[3] = 6;
        }
        int64_t n = prod(dims, rank);
        float  *x = malloc(sizeof(float) * (size_t)n);
        lrpx_test_fill(x, n, 0, 1);
        lrpx_model             *m = load(tm, true);
        lrpx_session           *s = session(m, rank, dims, x);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        add_rule(&o, "*=zplus");
        explain_ok(s, &o);
        double logit;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, NULL, &logit), LRPX_OK);
        double sum = sum_f32(input_rel(s, NULL), n);
        ck_assert_msg(logit > 0, "net %d: pick a seed with a positive logit", net);
        ck_assert_msg(fabs(sum - logit) <= 1e-5 * fabs(logit),
                      "net %d: z+ relevance sum %.9g, logit %.9g", net, sum, logit);
        printf("z+ conservation (%s): sum %.9g logit %.9g\n", net ? "cnn" : "mlp", sum, logit);
        free(x);
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_residual_conserves)
{
    lrpx_test_rng_seed(500);
    lrpx_test_model *tm = lrpx_test_model_new(13);
    float            w[3][64], b[3][8];
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 8});
    for (int l = 0; l < 3; l++) {
        char wn[4] = {'W', (char)('0' + l), 0}, bn[4] = {'B', (char)('0' + l), 0};
        int64_t rows = l == 2 ? 3 : 8;
        lrpx_test_fill(w[l], rows * 8, -0.5, 1);
        lrpx_test_fill(b[l], rows, -0.3, 0.3);
        lrpx_test_model_init_f32(tm, wn, 2, (int64_t[]){rows, 8}, w[l]);
        lrpx_test_model_init_f32(tm, bn, 1, (int64_t[]){rows}, b[l]);
    }
    lrpx_test_model_node(tm, "Gemm", "fc0", LT_IO("x", "W0", "B0"), LT_IO("z0"),
                         LT_INT("transB", 1), NULL);
    lrpx_test_model_node(tm, "Relu", "r0", LT_IO("z0"), LT_IO("h"), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc1", LT_IO("h", "W1", "B1"), LT_IO("z1"),
                         LT_INT("transB", 1), NULL);
    lrpx_test_model_node(tm, "Relu", "r1", LT_IO("z1"), LT_IO("r"), NULL);
    lrpx_test_model_node(tm, "Add", "res", LT_IO("h", "r"), LT_IO("s"), NULL);
    lrpx_test_model_node(tm, "Gemm", "fc2", LT_IO("s", "W2", "B2"), LT_IO("y"),
                         LT_INT("transB", 1), NULL);
    lrpx_test_model_output(tm, "y");
    float x[8];
    lrpx_test_fill(x, 8, -1, 1);
    lrpx_model             *m = load(tm, true);
    lrpx_session           *s = session(m, 2, (int64_t[]){1, 8}, x);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    strcpy(o.composite, "lrp0");
    o.zero_bias = 1;
    explain_ok(s, &o);
    double logit;
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, NULL, &logit), LRPX_OK);
    double sum = sum_f32(input_rel(s, NULL), 8);
    ck_assert_msg(fabs(sum - logit) <= 1e-5 * fabs(logit), "residual MLP: sum %.9g logit %.9g",
                  sum, logit);
    /* and per node: what enters leaves */
    for (int i = 0; i < lrpx_session_n_explained(s); i++) {
        lrpx_node_relevance nr;
        ck_assert_int_eq(lrpx_session_explained_node(s, i, &nr), LRPX_OK);
        ck_assert_msg(fabs(nr.r_in - nr.r_out) <= 1e-5 * fabs(logit), "%s (%s): in %.9g out %.9g",
                      nr.name, nr.rule, nr.r_in, nr.r_out);
    }
    printf("residual MLP, lrp0 + zero_bias: sum %.9g logit %.9g\n", sum, logit);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    /* the small ResNet of the zoo (BN folded, Add, MaxPool, GlobalAveragePool).
     * LRP-0 + zero_bias conserves there too in exact arithmetic, but its
     * convolutions then divide by near-zero bias-free z (relevance 1e4
     * times the logit cancels), beyond float32; z+ on the convolutions
     * keeps every denominator a sum of one sign. The 1e-6 stabilizers of
     * ~20 nodes may lose up to ~1e-5 of the logit. */
    m = load_file("models/zoo_small/resnet_tiny.onnx", true);
    lrpx_npy *in = lrpx_test_npy_load(lrpx_test_path("models/zoo_small/resnet_tiny.input.npy"));
    s            = session(m, in->rank, in->dims, in->data);
    add_rule(&o, "Conv=zplus");
    explain_ok(s, &o);
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, NULL, &logit), LRPX_OK);
    sum = sum_f32(input_rel(s, NULL), in->n_elems);
    printf("resnet_tiny, Conv zplus, Gemm LRP-0, zero_bias: sum %.9g logit %.9g (relative %.2g)\n",
           sum, logit, fabs(sum - logit) / fabs(logit));
    ck_assert_msg(fabs(sum - logit) <= 1e-4 * fabs(logit), "resnet_tiny: sum %.9g logit %.9g",
                  sum, logit);
    lrpx_npy_free(in);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ---- canonizers ---- */

static const char *const twin_composites[] = {"epsilon_plus_flat", "epsilon_alpha2_beta1",
                                              "epsilon_gamma_box", "lrp0", "epsilon_plus"};

/* Explain the two models with each composite; relevance must agree. */
static void
check_twins(lrpx_model *a, lrpx_model *b, int rank, const int64_t *dims, const float *x,
            const char *label, bool with_zero_bias)
{
    int64_t n = prod(dims, rank);
    for (size_t k = 0; k < sizeof twin_composites / sizeof twin_composites[0]; k++) {
        for (int zb = 0; zb < 1 + with_zero_bias; zb++) {
            struct lrpx_lrp_options o;
            lrpx_lrp_options_default(&o);
            strcpy(o.composite, twin_composites[k]);
            o.box_low   = -1;
            o.box_high  = 1;
            o.zero_bias = zb;
            lrpx_session *sa = session(a, rank, dims, x), *sb = session(b, rank, dims, x);
            explain_ok(sa, &o);
            explain_ok(sb, &o);
            double err = lrpx_test_rel_err_f32(input_rel(sa, NULL), input_rel(sb, NULL), n);
            ck_assert_msg(err <= 1e-5, "%s, %s%s: twins differ by %.3g", label,
                          twin_composites[k], zb ? " zero_bias" : "", err);
            lrpx_session_free(sa);
            lrpx_session_free(sb);
        }
    }
}

/* BatchNormalization(s, b, m, v, eps) of n_c channels from value `in` to
 * `out` in test model t. */
static void
add_bn(lrpx_test_model *t, const char *in, const char *out, int64_t n_c, const float *sc,
       const float *sh, const float *mu, const float *var, double eps)
{
    lrpx_test_model_init_f32(t, "s", 1, (int64_t[]){n_c}, sc);
    lrpx_test_model_init_f32(t, "b", 1, (int64_t[]){n_c}, sh);
    lrpx_test_model_init_f32(t, "m", 1, (int64_t[]){n_c}, mu);
    lrpx_test_model_init_f32(t, "v", 1, (int64_t[]){n_c}, var);
    lrpx_test_model_node(t, "BatchNormalization", "bn", LT_IO(in, "s", "b", "m", "v"), LT_IO(out),
                         LT_FLOAT("epsilon", (float)eps), NULL);
}

START_TEST(test_batchnorm_twins)
{
    lrpx_test_rng_seed(600);
    /* Conv(3->4, bias) -> BN -> Relu -> GlobalAveragePool -> Flatten -> Gemm */
    float   w[108], cb[4], sc[4], sh[4], mu[4], var[4], fc[12], x[108];
    int64_t xd[4] = {1, 3, 6, 6};
    lrpx_test_fill(w, 108, -1, 1);
    lrpx_test_fill(cb, 4, -0.5, 0.5);
    lrpx_test_fill(sc, 4, -1.5, 1.5);          /* negative scales flip weight signs */
    lrpx_test_fill(sh, 4, -0.5, 0.5);
    lrpx_test_fill(mu, 4, -0.5, 0.5);
    lrpx_test_fill(var, 4, 0.2, 2);
    lrpx_test_fill(fc, 12, -1, 1);
    lrpx_test_fill(x, 108, -1, 1);
    float  wf[108], bf[4];
    double eps = 1e-3;
    for (int m = 0; m < 4; m++) {
        double a = sc[m] / sqrt((double)var[m] + eps);
        bf[m]    = (float)(a * (cb[m] - mu[m]) + sh[m]);
        for (int i = 0; i < 27; i++)
            wf[m * 27 + i] = (float)(a * w[m * 27 + i]);
    }
    lrpx_test_model *t[2];
    for (int k = 0; k < 2; k++) {
        t[k] = lrpx_test_model_new(13);
        lrpx_test_model_input(t[k], "x", LRPX_DTYPE_FLOAT32, 4, xd);
        lrpx_test_model_init_f32(t[k], "W", 4, (int64_t[]){4, 3, 3, 3}, k ? wf : w);
        lrpx_test_model_init_f32(t[k], "B", 1, (int64_t[]){4}, k ? bf : cb);
        lrpx_test_model_init_f32(t[k], "F", 2, (int64_t[]){3, 4}, fc);
        lrpx_test_model_node(t[k], "Conv", "conv", LT_IO("x", "W", "B"), LT_IO(k ? "n" : "c"),
                             LT_INTS("pads", 1, 1, 1, 1), NULL);
        if (!k)
            add_bn(t[k], "c", "n", 4, sc, sh, mu, var, eps);
        lrpx_test_model_node(t[k], "Relu", "relu", LT_IO("n"), LT_IO("r"), NULL);
        lrpx_test_model_node(t[k], "GlobalAveragePool", "gap", LT_IO("r"), LT_IO("g"), NULL);
        lrpx_test_model_node(t[k], "Flatten", "flat", LT_IO("g"), LT_IO("f"), NULL);
        lrpx_test_model_node(t[k], "Gemm", "fc", LT_IO("f", "F"), LT_IO("y"), LT_INT("transB", 1),
                             NULL);
        lrpx_test_model_output(t[k], "y");
    }
    /* the BN kept in the graph (merged by the relevance canonizer) vs the
     * twin folded here, and vs the loader's folding */
    lrpx_model *kept = load(t[0], false), *twin = load(t[1], true), *loader = load(t[0], true);
    check_twins(kept, twin, 4, xd, x, "Conv+BN kept vs folded twin", true);
    check_twins(kept, loader, 4, xd, x, "Conv+BN kept vs loader-folded", true);
    /* the rule text shows the fusion */
    {
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        lrpx_session *s = session(kept, 4, xd, x);
        explain_ok(s, &o);
        bool seen = false;
        for (int i = 0; i < lrpx_session_n_explained(s); i++) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            if (!strcmp(nr.op_type, "BatchNormalization")) {
                ck_assert_str_eq(nr.rule, "fused into conv");
                ck_assert_msg(fabs(nr.r_in - nr.r_out) <= 1e-12 * fabs(nr.r_in) + 1e-30,
                              "fused BN must forward R unchanged");
                seen = true;
            }
            if (!strcmp(nr.op_type, "Conv"))
                ck_assert_str_eq(nr.rule, "zplus +bn");
        }
        ck_assert(seen);
        lrpx_session_free(s);
    }
    lrpx_model_free(kept);
    lrpx_model_free(twin);
    lrpx_model_free(loader);
    lrpx_test_model_free(t[0]);
    lrpx_test_model_free(t[1]);

    /* MatMul -> Add(bias) -> BN (rank 2) vs Gemm with the folded W', b' */
    float   mw[30], mb[5], s5[5], b5[5], m5[5], v5[5], g2[15], x2[12];
    int64_t xd2[2] = {2, 6};
    lrpx_test_fill(mw, 30, -1, 1);
    lrpx_test_fill(mb, 5, -0.5, 0.5);
    lrpx_test_fill(s5, 5, -1.5, 1.5);
    lrpx_test_fill(b5, 5, -0.5, 0.5);
    lrpx_test_fill(m5, 5, -0.5, 0.5);
    lrpx_test_fill(v5, 5, 0.2, 2);
    lrpx_test_fill(g2, 15, -1, 1);
    lrpx_test_fill(x2, 12, -1, 1);
    float mwf[30], mbf[5];
    for (int j = 0; j < 5; j++) {
        double a = s5[j] / sqrt((double)v5[j] + 1e-5);
        mbf[j]   = (float)(a * (mb[j] - m5[j]) + b5[j]);
        for (int i = 0; i < 6; i++)
            mwf[i * 5 + j] = (float)(a * mw[i * 5 + j]);
    }
    for (int k = 0; k < 2; k++) {
        t[k] = lrpx_test_model_new(13);
        lrpx_test_model_input(t[k], "x", LRPX_DTYPE_FLOAT32, 2, xd2);
        lrpx_test_model_init_f32(t[k], "W", 2, (int64_t[]){6, 5}, k ? mwf : mw);
        lrpx_test_model_init_f32(t[k], "B", 1, (int64_t[]){5}, k ? mbf : mb);
        lrpx_test_model_init_f32(t[k], "G", 2, (int64_t[]){5, 3}, g2);
        if (!k) {
            lrpx_test_model_init_f32(t[k], "s", 1, (int64_t[]){5}, s5);
            lrpx_test_model_init_f32(t[k], "b", 1, (int64_t[]){5}, b5);
            lrpx_test_model_init_f32(t[k], "m", 1, (int64_t[]){5}, m5);
            lrpx_test_model_init_f32(t[k], "v", 1, (int64_t[]){5}, v5);
            lrpx_test_model_node(t[k], "MatMul", "mm", LT_IO("x", "W"), LT_IO("t"), NULL);
            lrpx_test_model_node(t[k], "Add", "add", LT_IO("B", "t"), LT_IO("u"), NULL);
            lrpx_test_model_node(t[k], "BatchNormalization", "bn", LT_IO("u", "s", "b", "m", "v"),
                                 LT_IO("n"), NULL);
        } else {
            lrpx_test_model_node(t[k], "Gemm", "mm", LT_IO("x", "W", "B"), LT_IO("n"), NULL);
        }
        lrpx_test_model_node(t[k], "Relu", "relu", LT_IO("n"), LT_IO("r"), NULL);
        lrpx_test_model_node(t[k], "MatMul", "out", LT_IO("r", "G"), LT_IO("y"), NULL);
        lrpx_test_model_output(t[k], "y");
    }
    kept = load(t[0], true);   /* the loader does not fold MatMul/Add/BN */
    twin = load(t[1], true);
    check_twins(kept, twin, 2, xd2, x2, "MatMul+Add+BN vs folded Gemm", true);
    lrpx_model_free(kept);
    lrpx_model_free(twin);
    lrpx_test_model_free(t[0]);
    lrpx_test_model_free(t[1]);
}
END_TEST

START_TEST(test_batchnorm_twins_zoo)
{
    /* resnet_tiny_bn keeps its BatchNormalization nodes; resnet_tiny is the
     * same network exported with them folded */
    lrpx_npy *in = lrpx_test_npy_load(lrpx_test_path("models/zoo_small/resnet_tiny_bn.input.npy"));
    lrpx_model *kept   = load_file("models/zoo_small/resnet_tiny_bn.onnx", false);
    lrpx_model *loader = load_file("models/zoo_small/resnet_tiny_bn.onnx", true);
    lrpx_model *twin   = load_file("models/zoo_small/resnet_tiny.onnx", true);
    /* without zero_bias: dropping the (large, BN-folded) biases makes the
     * denominators of this network ill-conditioned in float32, so twins
     * would differ by rounding noise (see test_residual_conserves) */
    check_twins(kept, loader, in->rank, in->dims, in->data, "resnet_tiny_bn kept vs loader-folded",
                false);
    check_twins(kept, twin, in->rank, in->dims, in->data, "resnet_tiny_bn kept vs resnet_tiny",
                false);
    lrpx_model_free(kept);
    lrpx_model_free(loader);
    lrpx_model_free(twin);
    lrpx_npy_free(in);
}
END_TEST

/* ---- max pool by hand ---- */

START_TEST(test_maxpool_hand)
{
    /* x = [[1 3 2 2]      windows: {1,3,3,0} -> 3 (tied at (0,1), (1,0)),
     *      [3 0 1 2]]              {2,2,1,2} -> 2 (tied at (0,2), (0,3), (1,3)) */
    static const float x[8]    = {1, 3, 2, 2, 3, 0, 1, 2};
    static const float seed[2] = {6, 4};
    static const float expect[3][8] = {
        /* winner: the first maximum in row-major window order */
        {0, 6, 4, 0, 0, 0, 0, 0},
        /* winner-split: tied maxima share */
        {0, 3, 4.0f / 3, 4.0f / 3, 3, 0, 0, 4.0f / 3},
        /* sum: x_i / sum(window) */
        {6.0f / 7, 18.0f / 7, 8.0f / 7, 8.0f / 7, 18.0f / 7, 0, 4.0f / 7, 8.0f / 7},
    };
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 2, 4});
    lrpx_test_model_node(tm, "MaxPool", "pool", LT_IO("x"), LT_IO("y"),
                         LT_INTS("kernel_shape", 2, 2), LT_INTS("strides", 2, 2), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *m = load(tm, true);
    for (int mode = 0; mode < 3; mode++) {
        for (int via = 0; via < 2; via++) {
            lrpx_session           *s = session(m, 4, (int64_t[]){1, 1, 2, 4}, x);
            struct lrpx_lrp_options o;
            lrpx_lrp_options_default(&o);
            o.seed         = LRPX_SEED_TENSOR;
            o.seed_data    = seed;
            o.seed_n_elems = 2;
            static const char *const names[3] = {"winner", "winner-split", "sum"};
            if (via == 0) {
                o.maxpool = (lrpx_maxpool_mode)mode;
            } else {
                char spec[64];
                snprintf(spec, sizeof spec, "MaxPool=%s", names[mode]);
                add_rule(&o, spec);
            }
            explain_ok(s, &o);
            ck_assert_tensor_near(input_rel(s, NULL), expect[mode], 8, 1e-5, 1e-6);
            lrpx_node_relevance nr;
            ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_OK);
            ck_assert_str_eq(nr.rule, names[mode]);
            lrpx_session_free(s);
        }
    }
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* The max-pool modes on every max-like op (MaxPool above; here
 * GlobalMaxPool, ReduceMax and ReduceMin), by the global option and by a
 * per-op override, against hand-computed maps. Rows {2,1,1,3} and
 * {0,0,5,1}, seeds 6 and 4: ties at the minima 1 and 0. */
START_TEST(test_maxlike_hand)
{
    static const float x[8]    = {2, 1, 1, 3, 0, 0, 5, 1};
    static const float seed[2] = {6, 4};
    /* sum mode is the same for max and min: x_i / row sum * seed */
    static const float sum[8] = {12.0f / 7, 6.0f / 7, 6.0f / 7, 18.0f / 7, 0, 0,
                                 20.0f / 6, 4.0f / 6};
    static const float max_win[8] = {0, 0, 0, 6, 0, 0, 4, 0};   /* single maxima   */
    static const float min_win[8] = {0, 6, 0, 0, 4, 0, 0, 0};   /* the first minima */
    static const float min_split[8] = {0, 3, 3, 0, 2, 2, 0, 0};
    static const char *const names[3] = {"winner", "winner-split", "sum"};
    struct {
        const char *op;
        int64_t     dims[4];
        bool        is_min;
    } cases[] = {
        {"GlobalMaxPool", {1, 2, 1, 4}, false},
        {"ReduceMax",     {1, 1, 2, 4}, false},
        {"ReduceMin",     {1, 1, 2, 4}, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lrpx_test_model *tm = lrpx_test_model_new(13);
        lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 4, cases[c].dims);
        if (!strcmp(cases[c].op, "GlobalMaxPool"))
            lrpx_test_model_node(tm, cases[c].op, "pool", LT_IO("x"), LT_IO("y"), NULL);
        else
            lrpx_test_model_node(tm, cases[c].op, "pool", LT_IO("x"), LT_IO("y"),
                                 LT_INTS("axes", 3), LT_INT("keepdims", 0), NULL);
        lrpx_test_model_output(tm, "y");
        lrpx_model *m = load(tm, true);
        for (int mode = 0; mode < 3; mode++)
        for (int via = 0; via < 3; via++) {
            lrpx_session           *s = session(m, 4, cases[c].dims, x);
            struct lrpx_lrp_options o;
            lrpx_lrp_options_default(&o);
            o.seed         = LRPX_SEED_TENSOR;
            o.seed_data    = seed;
            o.seed_n_elems = 2;
            char spec[64];
            if (via == 0) {
                o.maxpool = (lrpx_maxpool_mode)mode;
            } else {
                /* by op type, and by "*", which reaches every max-like op */
                snprintf(spec, sizeof spec, "%s=%s", via == 1 ? cases[c].op : "*", names[mode]);
                add_rule(&o, spec);
            }
            explain_ok(s, &o);
            const float *want = mode == 2 ? sum : cases[c].is_min ? (mode ? min_split : min_win)
                                                                  : max_win;
            char msg[512];
            ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT32, input_rel(s, NULL), want, 8, NULL,
                                            0, 1e-5, 1e-6, msg, sizeof msg),
                          "%s %s via %d: %s", cases[c].op, names[mode], via, msg);
            lrpx_node_relevance nr;
            ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_OK);
            ck_assert_str_eq(nr.rule, names[mode]);
            lrpx_session_free(s);
        }
        /* a linear rule does not fit a max-like op */
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        char spec[64], err[512] = "";
        snprintf(spec, sizeof spec, "%s=zplus", cases[c].op);
        ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, spec, err, sizeof err), LRPX_EINVAL);
        ck_assert_msg(strstr(err, "not to") && strstr(err, cases[c].op), "%s", err);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* t[0] has the BN, t[1] is its twin folded by the test: the BN kept (merged
 * by the relevance canonizer) and folded by the loader both explain as the
 * twin. Frees the test models. */
static void
check_bn_layout(lrpx_test_model *t[2], int rank, const int64_t *xd, const float *x,
                const char *label)
{
    lrpx_model *kept = load(t[0], false), *twin = load(t[1], true), *loader = load(t[0], true);
    char        l[128];
    ck_assert_msg(lrpx_model_n_nodes(loader, 1) == lrpx_model_n_nodes(loader, 0) - 1,
                  "%s: the loader did not fold the BN", label);
    snprintf(l, sizeof l, "%s, kept vs twin", label);
    check_twins(kept, twin, rank, xd, x, l, true);
    snprintf(l, sizeof l, "%s, loader-folded vs twin", label);
    check_twins(loader, twin, rank, xd, x, l, true);
    lrpx_model_free(kept);
    lrpx_model_free(twin);
    lrpx_model_free(loader);
    lrpx_test_model_free(t[0]);
    lrpx_test_model_free(t[1]);
}

/* BN statistics for n_c channels; a[m] = sc / sqrt(var + eps) and the
 * folded bias of a layer bias cb. */
static void
bn_stats(int n_c, float *sc, float *sh, float *mu, float *var, float *cb, double eps, double *a,
         float *bf)
{
    lrpx_test_fill(cb, n_c, -0.5, 0.5);
    lrpx_test_fill(sc, n_c, -1.5, 1.5);          /* negative scales flip weight signs */
    lrpx_test_fill(sh, n_c, -0.5, 0.5);
    lrpx_test_fill(mu, n_c, -0.5, 0.5);
    lrpx_test_fill(var, n_c, 0.2, 2);
    for (int m = 0; m < n_c; m++) {
        a[m]  = sc[m] / sqrt((double)var[m] + eps);
        bf[m] = (float)(a[m] * (cb[m] - mu[m]) + sh[m]);
    }
}

/* BatchNormalization after ConvTranspose (groups) and after Gemm (W as
 * [K, N] and [N, K]): the loader's folding and the relevance canonizer
 * against a twin whose weights this test folds itself. */
START_TEST(test_batchnorm_twins_layouts)
{
    lrpx_test_rng_seed(610);
    double eps = 1e-3, a[6];
    /* ConvTranspose: X [1, 4, 3, 3], W [4, 3, 2, 2], group 2 -> 6 channels */
    {
        float   w[48], cb[6], sc[6], sh[6], mu[6], var[6], fc[12], x[36], wf[48], bf[6];
        int64_t xd[4] = {1, 4, 3, 3};
        lrpx_test_fill(w, 48, -1, 1);
        lrpx_test_fill(fc, 12, -1, 1);
        lrpx_test_fill(x, 36, -1, 1);
        bn_stats(6, sc, sh, mu, var, cb, eps, a, bf);
        for (int i = 0; i < 48; i++) {     /* W[c, j, k]: channel (c / 2) * 3 + j */
            int c = i / 12, j = (i / 4) % 3;
            wf[i] = (float)(a[(c / 2) * 3 + j] * w[i]);
        }
        lrpx_test_model *t[2];
        for (int k = 0; k < 2; k++) {
            t[k] = lrpx_test_model_new(13);
            lrpx_test_model_input(t[k], "x", LRPX_DTYPE_FLOAT32, 4, xd);
            lrpx_test_model_init_f32(t[k], "W", 4, (int64_t[]){4, 3, 2, 2}, k ? wf : w);
            lrpx_test_model_init_f32(t[k], "B", 1, (int64_t[]){6}, k ? bf : cb);
            lrpx_test_model_init_f32(t[k], "F", 2, (int64_t[]){2, 6}, fc);
            lrpx_test_model_node(t[k], "ConvTranspose", "convt", LT_IO("x", "W", "B"),
                                 LT_IO(k ? "n" : "c"), LT_INT("group", 2), NULL);
            if (!k)
                add_bn(t[k], "c", "n", 6, sc, sh, mu, var, eps);
            lrpx_test_model_node(t[k], "Relu", "relu", LT_IO("n"), LT_IO("r"), NULL);
            lrpx_test_model_node(t[k], "GlobalAveragePool", "gap", LT_IO("r"), LT_IO("g"), NULL);
            lrpx_test_model_node(t[k], "Flatten", "flat", LT_IO("g"), LT_IO("f"), NULL);
            lrpx_test_model_node(t[k], "Gemm", "fc", LT_IO("f", "F"), LT_IO("y"),
                                 LT_INT("transB", 1), NULL);
            lrpx_test_model_output(t[k], "y");
        }
        check_bn_layout(t, 4, xd, x, "ConvTranspose(group 2)+BN");
    }
    /* Gemm [1, 5] x W -> 4 channels, W stored [5, 4] and (transB) [4, 5] */
    for (int tb = 0; tb < 2; tb++) {
        float   w[20], cb[4], sc[4], sh[4], mu[4], var[4], fc[8], x[5], wf[20], bf[4];
        int64_t xd[2] = {1, 5};
        lrpx_test_fill(w, 20, -1, 1);
        lrpx_test_fill(fc, 8, -1, 1);
        lrpx_test_fill(x, 5, -1, 1);
        bn_stats(4, sc, sh, mu, var, cb, eps, a, bf);
        for (int i = 0; i < 20; i++)
            wf[i] = (float)(a[tb ? i / 5 : i % 4] * w[i]);
        lrpx_test_model *t[2];
        for (int k = 0; k < 2; k++) {
            t[k] = lrpx_test_model_new(13);
            lrpx_test_model_input(t[k], "x", LRPX_DTYPE_FLOAT32, 2, xd);
            lrpx_test_model_init_f32(t[k], "W", 2, tb ? (int64_t[]){4, 5} : (int64_t[]){5, 4},
                                     k ? wf : w);
            lrpx_test_model_init_f32(t[k], "B", 1, (int64_t[]){4}, k ? bf : cb);
            lrpx_test_model_init_f32(t[k], "F", 2, (int64_t[]){4, 2}, fc);
            lrpx_test_model_node(t[k], "Gemm", "dense", LT_IO("x", "W", "B"),
                                 LT_IO(k ? "n" : "c"), LT_INT("transB", tb), NULL);
            if (!k)
                add_bn(t[k], "c", "n", 4, sc, sh, mu, var, eps);
            lrpx_test_model_node(t[k], "Relu", "relu", LT_IO("n"), LT_IO("r"), NULL);
            lrpx_test_model_node(t[k], "MatMul", "fc", LT_IO("r", "F"), LT_IO("y"), NULL);
            lrpx_test_model_output(t[k], "y");
        }
        check_bn_layout(t, 2, xd, x, tb ? "Gemm(transB)+BN" : "Gemm+BN");
    }
}
END_TEST

/* What the relevance pass knows of an op is its descriptor: every linear
 * op has the linear hooks, every op with a rule choice can be explained,
 * and the op lists in messages come from the classes. */
START_TEST(test_op_descriptors)
{
    int n_linear = 0, n_maxlike = 0;
    for (int i = 0; i < LRPX_OP_COUNT; i++) {
        const struct lrpx_op_def *d = lrpx__op_table[i];
        ck_assert_msg((d->lrp_class == LRPX_LRP_CLASS_LINEAR) == (d->linear != NULL),
                      "%s: lrp_class LINEAR and .linear must go together", d->onnx_name);
        if (d->linear) {
            ck_assert_msg(d->linear->apply && d->linear->apply_t && d->linear->add_bias &&
                          d->linear->scratch_bytes && d->linear->channel_layout &&
                          d->linear->w_index >= 0 && d->linear->in_index >= 0 &&
                          d->linear->kind < LRPX_LAYER_COUNT,
                          "%s: incomplete linear descriptor", d->onnx_name);
            n_linear++;
        }
        /* (Softmax has its rules from the pass: taylor, block, or none) */
        if (d->lrp_class != LRPX_LRP_CLASS_OTHER && d->lrp_class != LRPX_LRP_CLASS_SOFTMAX)
            ck_assert_msg(d->relevance != NULL, "%s: class %d without relevance", d->onnx_name,
                          d->lrp_class);
        if (d->lrp_class == LRPX_LRP_CLASS_ACTIVATION || d->lrp_class == LRPX_LRP_CLASS_GATE)
            ck_assert_msg(d->elementwise && d->backward, "%s: an activation must be element-wise "
                          "with a gradient (the taylor rule uses it)", d->onnx_name);
        n_maxlike += d->lrp_class == LRPX_LRP_CLASS_MAXLIKE;
    }
    ck_assert_int_eq(n_linear, 4);
    ck_assert_int_eq(n_maxlike, 4);
    char buf[256];
    ck_assert_str_eq(lrpx__op_names(LRPX_LRP_CLASS_LINEAR, LRPX_LAYER_CONV, buf, sizeof buf),
                     "Conv, ConvTranspose");
    ck_assert_str_eq(lrpx__op_names(LRPX_LRP_CLASS_LINEAR, LRPX_LAYER_DENSE, buf, sizeof buf),
                     "Gemm, MatMul");
    ck_assert_str_eq(lrpx__op_names(LRPX_LRP_CLASS_MAXLIKE, -1, buf, sizeof buf),
                     "GlobalMaxPool, MaxPool, ReduceMax, ReduceMin");
    ck_assert_str_eq(lrpx__op_names(LRPX_LRP_CLASS_GATE, -1, buf, sizeof buf),
                     "HardSigmoid, Sigmoid, Tanh");
}
END_TEST

/* The rule-spec language as data agrees with what the parser accepts. */
START_TEST(test_rule_tables)
{
    int n_rule = 0, n_mode = 0, n_sel = 0, n_comp = 0, i = 0;
    lrpx_lrp_doc d;
    for (; lrpx_lrp_doc_entry(i, &d) == LRPX_OK; i++) {
        ck_assert_ptr_nonnull(d.syntax);
        ck_assert_ptr_nonnull(d.help);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        char spec[128], err[512] = "";
        switch (d.kind) {
        case LRPX_LRP_DOC_RULE: {
            /* the syntax starts with the rule's name; the bare name parses
             * where no parameter is required */
            const char *name = lrpx_rule_name((lrpx_rule)n_rule);
            ck_assert_msg(!strncmp(d.syntax, name, strlen(name)), "%s vs %s", d.syntax, name);
            /* linear rules name linear layers first; the others fit
             * MatMul (bilinear), Softmax, LayerNormalization or Tanh */
            static const char *const fit_op[][2] = {
                {"linear layers", "Conv"}, {"products", "MatMul"}, {"Softmax", "Softmax"},
                {"norms", "LayerNormalization"}, {"activations", "Tanh"}};
            const char *op = NULL;
            for (int k = 0; k < 5 && !op; k++)
                if (!strncmp(d.applies, fit_op[k][0], strlen(fit_op[k][0])))
                    op = fit_op[k][1];
            ck_assert_msg(op != NULL, "%s: applies to '%s'", d.syntax, d.applies);
            snprintf(spec, sizeof spec, "%s=%s", op, name);
            bool needs = strchr(d.syntax, ':') && !strstr(d.syntax, "[:");
            ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, spec, err, sizeof err),
                             needs ? LRPX_EINVAL : LRPX_OK);
            n_rule++;
            break;
        }
        case LRPX_LRP_DOC_MAXPOOL: {
            lrpx_maxpool_mode m;
            ck_assert_int_eq(lrpx_lrp_options_parse_maxpool(d.syntax, &m), LRPX_OK);
            ck_assert_int_eq(m, n_mode);
            ck_assert_str_eq(lrpx_maxpool_mode_name(m), d.syntax);
            ck_assert_ptr_nonnull(strstr(d.applies, "ReduceMin"));
            snprintf(spec, sizeof spec, "ReduceMin=%s", d.syntax);
            ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, spec, err, sizeof err), LRPX_OK);
            n_mode++;
            break;
        }
        case LRPX_LRP_DOC_SELECTOR:
            n_sel++;
            break;
        case LRPX_LRP_DOC_COMPOSITE:
            ck_assert_str_eq(d.syntax, lrpx_lrp_composite_name(n_comp));
            ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, d.syntax, err, sizeof err),
                             LRPX_OK);
            n_comp++;
            break;
        default:
            ck_abort_msg("entry %d: kind %d", i, d.kind);
        }
    }
    ck_assert_int_eq(n_rule, LRPX_RULE_COUNT);
    ck_assert_int_eq(n_mode, LRPX_MAXPOOL_COUNT);
    ck_assert_int_eq(n_sel, 10);
    ck_assert_int_eq(n_comp, 9);
    ck_assert_ptr_null(lrpx_lrp_composite_name(n_comp));
    ck_assert_int_eq(lrpx_lrp_doc_entry(-1, &d), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_lrp_doc_entry(0, NULL), LRPX_EINVAL);
    ck_assert_str_eq(lrpx_maxpool_mode_name(LRPX_MAXPOOL_COUNT), "?");
}
END_TEST

/* ---- the bundled model ---- */

static const char *const fmnist_images[8] = {
    "images/fmnist_0_ankle_boot.npy", "images/fmnist_1_pullover.npy",
    "images/fmnist_2_trouser.npy",    "images/fmnist_3_shirt.npy",
    "images/fmnist_4_coat.npy",       "images/fmnist_5_sandal.npy",
    "images/fmnist_6_sneaker.npy",    "images/fmnist_7_dress.npy",
};

static lrpx_session *
fmnist_session(lrpx_model *m, int i, lrpx_npy **keep)
{
    lrpx_npy *a     = lrpx_test_npy_load(lrpx_test_path(fmnist_images[i]));
    int64_t   d[4]  = {1, 1, 28, 28};
    lrpx_session *s = session(m, 4, d, a->data);
    *keep           = a;
    return s;
}

START_TEST(test_fmnist_composites)
{
    lrpx_model *m = load_file("models/fmnist_cnn.onnx", true);
    for (int i = 0; lrpx_lrp_composite_name(i); i++) {
        const char *c = lrpx_lrp_composite_name(i);
        lrpx_npy   *a;
        lrpx_session *s = fmnist_session(m, 0, &a);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, c, NULL, 0), LRPX_OK);
        o.box_low  = 0;
        o.box_high = 1;
        explain_ok(s, &o);
        int64_t cls;
        double  logit;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, &logit), LRPX_OK);
        ck_assert_int_eq(cls, 9);                  /* ankle boot, as PyTorch predicts */
        int64_t      n;
        const float *r   = input_rel(s, &n);
        double       sum = sum_f32(r, n);
        for (int64_t k = 0; k < n; k++)
            ck_assert_msg(isfinite(r[k]), "%s: non-finite relevance", c);
        ck_assert_int_eq(lrpx_session_n_explained(s), 10);
        printf("fmnist image 0, %-26s logit %.6f relevance sum %.6f\n", c, logit, sum);
        lrpx_npy_free(a);
        lrpx_session_free(s);
    }
    lrpx_model_free(m);
}
END_TEST

/* Under valgrind OpenBLAS picks other kernels (valgrind hides some CPU
 * features), the forward pass rounds differently (logits move by ~3e-6)
 * and MaxPool windows that PyTorch sees as exact ties stop being ties, so
 * the gradient legitimately routes elsewhere (docs/bundled-model.md, "MaxPool
 * ties decide the gradient"; 117 of image 2's 784 values change). The
 * comparison with PyTorch is then reported, not enforced. */
static bool
under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload");
}

START_TEST(test_fmnist_gradient)
{
    lrpx_model *m = load_file("models/fmnist_cnn.onnx", true);
    for (int i = 0; i < 8; i++) {
        lrpx_npy     *a;
        lrpx_session *s = fmnist_session(m, i, &a);
        ck_assert_int_eq(lrpx_session_gradient(s, NULL), LRPX_OK);
        lrpx_tensor_view g;
        ck_assert_int_eq(lrpx_session_gradient_of(s, NULL, &g), LRPX_OK);
        char path[64];
        snprintf(path, sizeof path, "expected/fmnist_cnn_%d_grad.npy", i);
        lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path(path));
        ck_assert_int_eq(ref->n_elems, g.n_elems);
        double err = lrpx_test_rel_err_f32(g.data, ref->data, g.n_elems);
        if (under_valgrind())
            printf("image %d: gradient vs PyTorch %.3g (under valgrind: not enforced)\n", i, err);
        else
            ck_assert_msg(err <= 1e-5, "image %d: gradient differs from PyTorch by %.3g", i, err);
        lrpx_npy_free(ref);
        lrpx_npy_free(a);
        lrpx_session_free(s);
    }
    lrpx_model_free(m);
}
END_TEST

START_TEST(test_fmnist_batch_per_sample)
{
    lrpx_model *m  = load_file("models/fmnist_cnn.onnx", true);
    lrpx_npy   *bt = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    ck_assert_int_eq(bt->dims[0], 8);
    lrpx_session           *s = session(m, bt->rank, bt->dims, bt->data);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    strcpy(o.composite, "epsilon_plus_flat");
    explain_ok(s, &o);
    const float *rb = input_rel(s, NULL);
    for (int i = 0; i < 8; i++) {
        lrpx_npy     *a;
        lrpx_session *one = fmnist_session(m, i, &a);
        explain_ok(one, &o);
        int64_t c1, cb;
        double  l1, lb;
        ck_assert_int_eq(lrpx_session_explained_output(one, 0, &c1, &l1), LRPX_OK);
        ck_assert_int_eq(lrpx_session_explained_output(s, i, &cb, &lb), LRPX_OK);
        ck_assert_int_eq(c1, cb);
        double err = lrpx_test_rel_err_f32(rb + i * 784, input_rel(one, NULL), 784);
        ck_assert_msg(err <= 1e-5, "sample %d: batch vs single differ by %.3g", i, err);
        lrpx_npy_free(a);
        lrpx_session_free(one);
    }
    ck_assert_int_eq(lrpx_session_explained_output(s, 8, NULL, NULL), LRPX_EINVAL);
    lrpx_npy_free(bt);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ---- reference maps (scripts/lrp_reference.py) ---- */

START_TEST(test_reference_maps)
{
    cJSON *root = lrpx_test_json_load("expected/lrp/index.json");
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(root, "maps");
    ck_assert(cJSON_IsArray(maps));
    int n_maps = 0;
    for (const cJSON *e = maps->child; e; e = e->next, n_maps++) {
        const char *file  = cJSON_GetObjectItemCaseSensitive(e, "file")->valuestring;
        const char *model = cJSON_GetObjectItemCaseSensitive(e, "model")->valuestring;
        const char *input = cJSON_GetObjectItemCaseSensitive(e, "input")->valuestring;
        const char *comp  = cJSON_GetObjectItemCaseSensitive(e, "composite")->valuestring;
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(e, "low");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(e, "high");
        int64_t      cls_ref = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "class")->valuedouble;

        lrpx_model *m = load_file(model, true);
        lrpx_npy   *x = lrpx_test_npy_load(lrpx_test_path(input));
        int64_t     dims[LRPX_MAX_RANK];
        int         rank = x->rank;
        memcpy(dims, x->dims, sizeof dims);
        if (rank == 3) {                            /* add the batch axis */
            memmove(dims + 1, dims, 3 * sizeof dims[0]);
            dims[0] = 1;
            rank    = 4;
        }
        lrpx_session           *s = session(m, rank, dims, x->data);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, comp, NULL, 0), LRPX_OK);
        float lc[16], hc[16];
        if (cJSON_IsArray(lo)) {
            o.n_box_c = cJSON_GetArraySize(lo);
            for (int k = 0; k < o.n_box_c; k++) {
                lc[k] = (float)cJSON_GetArrayItem(lo, k)->valuedouble;
                hc[k] = (float)cJSON_GetArrayItem(hi, k)->valuedouble;
            }
            o.box_low_c  = lc;
            o.box_high_c = hc;
        } else {
            o.box_low  = lo->valuedouble;
            o.box_high = hi->valuedouble;
        }
        explain_ok(s, &o);
        int64_t cls;
        ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, NULL), LRPX_OK);
        ck_assert_int_eq(cls, cls_ref);
        char path[512];
        snprintf(path, sizeof path, "expected/lrp/%s", file);
        lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path(path));
        int64_t   n;
        const float *r = input_rel(s, &n);
        ck_assert_int_eq(n, ref->n_elems);
        double err = lrpx_test_rel_err_f32(r, ref->data, n);
        printf("reference %-46s relative error %.2g\n", file, err);
        ck_assert_msg(err <= 1e-4, "%s: relative error %.3g", file, err);
        lrpx_npy_free(ref);
        lrpx_npy_free(x);
        lrpx_session_free(s);
        lrpx_model_free(m);
    }
    ck_assert_int_ge(n_maps, 20);
    cJSON_Delete(root);
}
END_TEST

/* ---- options and errors ---- */

START_TEST(test_rule_specs)
{
    static const struct {
        const char *spec;
        const char *needle;    /* NULL: valid */
    } specs[] = {
        {"Conv=gamma:0.25", NULL},
        {"*=epsilon", NULL},
        {"first=flat", NULL},
        {"index:3=zbox:-1,1", NULL},
        {"name:layer=1=alphabeta:2,1", NULL},          /* the last '=' splits */
        {"MaxPool=sum", NULL},
        {"*=winner-split", NULL},
        {"Gemm=epsilon:0.1", NULL},
        {"first=zbox:[-2.1,-2.0,-1.8],[2.2,2.4,2.6]", NULL},
        {"Conv=gama", "unknown rule 'gama'"},
        {"Relu=epsilon", "not to Relu"},
        {"MaxPool=zplus", "not to MaxPool"},
        {"Conv=sum", "not to Conv"},
        {"first=sum", "picks linear layers"},
        {"Conv=alphabeta:2,0.5", "alpha - beta = 1"},
        {"Conv=alphabeta:-1,-2", "alpha >= 0"},
        {"Conv=alphabeta:2", "two numbers"},
        {"Conv=epsilon:-1", "not a valid epsilon"},
        {"Conv=epsilon:abc", "not a valid epsilon"},
        {"Conv=zbox:1", "zbox needs bounds"},
        {"Conv=zbox:2,1", "above high"},
        {"Conv=zbox:[1,2],[3]", "same length"},
        {"Conv=zplus:1", "takes no parameter"},
        {"Convv=zplus", "unknown selector 'Convv'"},
        {"index:x=zplus", "whole number"},
        {"name:=zplus", "needs a node name"},
        {"Conv", "SELECTOR=RULE"},
        {"=zplus", "SELECTOR=RULE"},
        {"Conv=", "SELECTOR=RULE"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        char        err[512] = "";
        lrpx_status rc       = lrpx_lrp_options_parse_rule(&o, specs[i].spec, err, sizeof err);
        if (!specs[i].needle) {
            ck_assert_msg(rc == LRPX_OK, "%s: %s", specs[i].spec, err);
            ck_assert_int_eq(o.n_overrides, 1);
            ck_assert_str_eq(o.overrides[0], specs[i].spec);
        } else {
            ck_assert_msg(rc == LRPX_EINVAL, "%s accepted", specs[i].spec);
            ck_assert_msg(strstr(err, specs[i].needle), "%s: message '%s' lacks '%s'",
                          specs[i].spec, err, specs[i].needle);
            ck_assert_int_eq(o.n_overrides, 0);
        }
    }
    /* capacity: LRPX_LRP_MAX_OVERRIDES overrides */
    struct lrpx_lrp_options o;
    char                    err[512];
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(sizeof o.overrides / sizeof o.overrides[0], LRPX_LRP_MAX_OVERRIDES);
    for (int i = 0; i < LRPX_LRP_MAX_OVERRIDES; i++)
        ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "*=zplus", NULL, 0), LRPX_OK);
    ck_assert_int_eq(lrpx_lrp_options_parse_rule(&o, "*=zplus", err, sizeof err), LRPX_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "at most %d", LRPX_LRP_MAX_OVERRIDES);
    ck_assert_msg(strstr(err, want), "%s", err);
    /* one spec: up to LRPX_LRP_OVERRIDE_MAX - 1 characters */
    char spec[LRPX_LRP_OVERRIDE_MAX + 1];
    for (int len = LRPX_LRP_OVERRIDE_MAX - 1; len <= LRPX_LRP_OVERRIDE_MAX; len++) {
        int sel = len - (int)strlen("name:=zero");
        snprintf(spec, sizeof spec, "name:%.*s=zero", sel,
                 "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                 "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
        ck_assert_int_eq((int)strlen(spec), len);
        lrpx_lrp_options_default(&o);
        lrpx_status rc = lrpx_lrp_options_parse_rule(&o, spec, err, sizeof err);
        if (len < LRPX_LRP_OVERRIDE_MAX) {
            ck_assert_msg(rc == LRPX_OK, "%d characters: %s", len, err);
            ck_assert_str_eq(o.overrides[0], spec);
        } else {
            ck_assert_int_eq(rc, LRPX_EINVAL);
            snprintf(want, sizeof want, "longer than %d characters", LRPX_LRP_OVERRIDE_MAX - 1);
            ck_assert_msg(strstr(err, want), "%s", err);
        }
    }
    /* per-channel zbox bounds: up to LRPX_LRP_MAX_BOX_C channels */
    for (int n = LRPX_LRP_MAX_BOX_C; n <= LRPX_LRP_MAX_BOX_C + 1; n++) {
        size_t k = (size_t)snprintf(spec, sizeof spec, "first=zbox:[");
        for (int c = 0; c < n; c++)
            k += (size_t)snprintf(spec + k, sizeof spec - k, "%s-1", c ? "," : "");
        k += (size_t)snprintf(spec + k, sizeof spec - k, "],[");
        for (int c = 0; c < n; c++)
            k += (size_t)snprintf(spec + k, sizeof spec - k, "%s1", c ? "," : "");
        snprintf(spec + k, sizeof spec - k, "]");
        lrpx_lrp_options_default(&o);
        lrpx_status rc = lrpx_lrp_options_parse_rule(&o, spec, err, sizeof err);
        ck_assert_msg(rc == (n <= LRPX_LRP_MAX_BOX_C ? LRPX_OK : LRPX_EINVAL), "%d channels: %s",
                      n, err);
    }
    /* composites and max-pool names */
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "epsilon_gamma_box", err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_lrp_options_set_composite(&o, "zennit", err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "epsilon_plus_flat"));
    lrpx_maxpool_mode mm;
    ck_assert_int_eq(lrpx_lrp_options_parse_maxpool("sum", &mm), LRPX_OK);
    ck_assert_int_eq(mm, LRPX_MAXPOOL_SUM);
    ck_assert_int_eq(lrpx_lrp_options_parse_maxpool("max", &mm), LRPX_EINVAL);
}
END_TEST

START_TEST(test_rule_json)
{
    struct lrpx_lrp_options o;
    char                    err[512];
    static const char good[] =
        "{\"composite\": \"epsilon_gamma_box\", \"low\": [-2, -1.5, -1], \"high\": [2, 1.5, 1],"
        " \"maxpool\": \"winner-split\", \"zero_bias\": true,"
        " \"rules\": [{\"select\": \"Gemm\", \"rule\": \"epsilon:0.01\"}, \"first=flat\"]}";
    lrpx_lrp_options_default(&o);
    ck_assert_msg(lrpx_lrp_options_parse_json(&o, good, strlen(good), "good", err, sizeof err) ==
                      LRPX_OK, "%s", err);
    ck_assert_str_eq(o.composite, "epsilon_gamma_box");
    ck_assert_int_eq(o.n_box_c, 3);
    ck_assert_ptr_null(o.box_low_c);
    ck_assert_float_eq(o.box_low_own[1], -1.5f);
    ck_assert_float_eq(o.box_high_own[2], 1.0f);
    ck_assert_int_eq(o.maxpool, LRPX_MAXPOOL_WINNER_SPLIT);
    ck_assert_int_eq(o.zero_bias, 1);
    ck_assert_int_eq(o.n_overrides, 2);
    ck_assert_str_eq(o.overrides[0], "Gemm=epsilon:0.01");
    ck_assert_str_eq(o.overrides[1], "first=flat");

    static const struct {
        const char *text;
        lrpx_status rc;
        const char *needle;
    } bad[] = {
        {"{\"composite\": \"epsilon_plus\",", LRPX_EPARSE, "not valid JSON"},
        {"[1, 2]", LRPX_EINVAL, "must be an object"},
        {"{\"composit\": \"lrp0\"}", LRPX_EINVAL, "unknown key \"composit\""},
        {"{\"composite\": \"lrp1\"}", LRPX_EINVAL, "unknown composite 'lrp1'"},
        {"{\"maxpool\": \"max\"}", LRPX_EINVAL, "\"maxpool\""},
        {"{\"zero_bias\": 1}", LRPX_EINVAL, "\"zero_bias\""},
        {"{\"low\": 0}", LRPX_EINVAL, "go together"},
        {"{\"low\": [0, 1], \"high\": 1}", LRPX_EINVAL, "same length"},
        {"{\"low\": \"a\", \"high\": 1}", LRPX_EINVAL, "\"low\""},
        /* one channel more than LRPX_LRP_MAX_BOX_C (16) */
        {"{\"low\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], \"high\": 1}", LRPX_EINVAL, "1 to 16 numbers"},
        {"{\"rules\": [\"Conv=zplus\", \"Relu=epsilon\"]}", LRPX_EINVAL, "rules[1]"},
        {"{\"rules\": [{\"select\": \"Conv\"}]}", LRPX_EINVAL, "rules[0]"},
        {"{\"rules\": [{\"select\": \"Conv\", \"rule\": \"zplus\", \"x\": 1}]}", LRPX_EINVAL,
         "rules[0]"},
        {"{\"rules\": {\"Conv\": \"zplus\"}}", LRPX_EINVAL, "must be an array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lrpx_lrp_options_default(&o);
        err[0]         = '\0';
        lrpx_status rc = lrpx_lrp_options_parse_json(&o, bad[i].text, strlen(bad[i].text), "r.json",
                                                     err, sizeof err);
        ck_assert_msg(rc == bad[i].rc, "%s: %s (%s)", bad[i].text, lrpx_status_name(rc), err);
        ck_assert_msg(strstr(err, bad[i].needle), "%s: message '%s' lacks '%s'", bad[i].text, err,
                      bad[i].needle);
        ck_assert_int_eq(o.n_overrides, 0);           /* all or nothing */
        ck_assert_str_eq(o.composite, "epsilon_plus");
    }
    /* from a file */
    char dir[LRPX_TEST_PATH_MAX], path[LRPX_TEST_PATH_MAX + 16];
    lrpx_test_tmpdir(dir, sizeof dir);
    lrpx_test_snprintf(path, sizeof path, "%s/rules.json", dir);
    lrpx_test_write_file(path, good, strlen(good));
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_lrp_options_load_json(&o, path, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(o.n_overrides, 2);
    lrpx_test_snprintf(path, sizeof path, "%s/missing.json", dir);
    ck_assert_int_eq(lrpx_lrp_options_load_json(&o, path, err, sizeof err), LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, "missing.json"));
    lrpx_test_rmtree(dir);
}
END_TEST

START_TEST(test_explain_errors)
{
    lrpx_test_rng_seed(700);
    lrpx_test_model *tm = small_cnn(-1);
    float            x[72];
    lrpx_test_fill(x, 72, -1, 1);
    int64_t     d[4] = {1, 2, 6, 6};
    lrpx_model *m    = load(tm, true);
    struct {
        const char *composite;
        const char *spec;
        lrpx_status rc;
        const char *needle;
    } cases[] = {
        {"zennit", NULL, LRPX_EINVAL, "unknown composite 'zennit'"},
        {"epsilon_gamma_box", NULL, LRPX_EINVAL, "needs the input bounds"},
        {"epsilon_plus", "name:nope=zplus", LRPX_EINVAL, "no node named 'nope'"},
        {"epsilon_plus", "index:2=zplus", LRPX_EINVAL, "2 linear layers"},
        {"epsilon_plus", "name:relu=zplus", LRPX_EINVAL, "linear layers"},
        {"epsilon_plus", "name:conv=winner", LRPX_EINVAL, "max pools"},
        {"epsilon_plus", "Conv=pass", LRPX_EINVAL, "rule 'pass' needs"},
        {"epsilon_plus", "Gemm=pass", LRPX_EINVAL, "rule 'pass' needs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lrpx_session           *s = session(m, 4, d, x);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        snprintf(o.composite, sizeof o.composite, "%s", cases[i].composite);
        if (cases[i].spec)
            add_rule(&o, cases[i].spec);
        lrpx_status rc = lrpx_session_explain(s, &o);
        ck_assert_msg(rc == cases[i].rc, "%s %s: %s (%s)", cases[i].composite,
                      cases[i].spec ? cases[i].spec : "", lrpx_status_name(rc),
                      lrpx_session_errmsg(s));
        ck_assert_msg(strstr(lrpx_session_errmsg(s), cases[i].needle), "message '%s' lacks '%s'",
                      lrpx_session_errmsg(s), cases[i].needle);
        ck_assert_int_eq(lrpx_session_n_explained(s), 0);
        lrpx_node_relevance nr;
        ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_EINVAL);
        lrpx_session_free(s);
    }
    /* a target out of range */
    lrpx_session           *s = session(m, 4, d, x);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed   = LRPX_SEED_TARGET;
    o.target = 4;
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EINVAL);
    o.target = 3;
    explain_ok(s, &o);
    int64_t cls;
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, NULL), LRPX_OK);
    ck_assert_int_eq(cls, 3);
    lrpx_node_relevance nr;
    ck_assert_int_eq(lrpx_session_explained_node(s, lrpx_session_n_explained(s), &nr),
                     LRPX_EINVAL);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    /* MatMul of two computed values: no rule */
    tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){3, 3});
    lrpx_test_model_node(tm, "Relu", "r", LT_IO("x"), LT_IO("a"), NULL);
    lrpx_test_model_node(tm, "Neg", "n", LT_IO("x"), LT_IO("b"), NULL);
    lrpx_test_model_node(tm, "MatMul", "attn", LT_IO("b", "a"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    m = load(tm, true);
    float x9[9];
    lrpx_test_fill(x9, 9, 0, 1);
    s = session(m, 2, (int64_t[]){3, 3}, x9);
    lrpx_lrp_options_default(&o);
    ck_assert_int_eq(lrpx_session_explain(s, &o), LRPX_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "attn"));
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

START_TEST(test_rules_report)
{
    /* which rule each node gets: composite, first layer, overrides */
    lrpx_test_rng_seed(800);
    lrpx_test_model *tm = small_cnn(-1);
    float            x[72];
    lrpx_test_fill(x, 72, 0, 1);
    lrpx_model             *m = load(tm, true);
    lrpx_session           *s = session(m, 4, (int64_t[]){1, 2, 6, 6}, x);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    strcpy(o.composite, "epsilon_gamma_box");
    o.box_low  = 0;
    o.box_high = 1;
    o.maxpool  = LRPX_MAXPOOL_SUM;
    explain_ok(s, &o);
    static const char *const expect[][2] = {
        {"fc", "epsilon:1e-06"}, {"flat", ""}, {"pool", "sum"}, {"relu", "pass"},
        {"conv", "zbox:0,1"}};
    ck_assert_int_eq(lrpx_session_n_explained(s), 5);
    for (int i = 0; i < 5; i++) {
        lrpx_node_relevance nr;
        ck_assert_int_eq(lrpx_session_explained_node(s, i, &nr), LRPX_OK);
        ck_assert_str_eq(nr.name, expect[i][0]);
        ck_assert_str_eq(nr.rule, expect[i][1]);
    }
    /* overrides: later ones win; first / index / name / op type */
    lrpx_lrp_options_default(&o);
    add_rule(&o, "*=gamma:0.5");
    add_rule(&o, "first=wsquare");
    add_rule(&o, "index:1=alphabeta:3,2");
    add_rule(&o, "name:pool=winner-split");
    explain_ok(s, &o);
    lrpx_node_relevance nr;
    lrpx_session_explained_node(s, 0, &nr);
    ck_assert_str_eq(nr.rule, "alphabeta:3,2");
    lrpx_session_explained_node(s, 2, &nr);
    ck_assert_str_eq(nr.rule, "winner-split");
    lrpx_session_explained_node(s, 4, &nr);
    ck_assert_str_eq(nr.rule, "wsquare");
    lrpx_lrp_options_default(&o);
    strcpy(o.composite, "epsilon_plus_flat");
    add_rule(&o, "Gemm=epsilon:0.5");
    explain_ok(s, &o);
    lrpx_session_explained_node(s, 0, &nr);
    ck_assert_str_eq(nr.rule, "epsilon:0.5");
    lrpx_session_explained_node(s, 4, &nr);
    ck_assert_str_eq(nr.rule, "flat");
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

static Suite *
lrp_suite(void)
{
    Suite *s = suite_create("lrp");
    TCase *t = tcase_create("rules");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, test_rules_gemm, 0, (int)(sizeof gemm_cases / sizeof gemm_cases[0]));
    tcase_add_loop_test(t, test_rules_conv, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
    suite_add_tcase(s, t);

    t = tcase_create("properties");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_lrp0_is_gradient_times_input);
    tcase_add_test(t, test_zplus_conserves);
    tcase_add_test(t, test_residual_conserves);
    tcase_add_test(t, test_maxpool_hand);
    tcase_add_test(t, test_maxlike_hand);
    suite_add_tcase(s, t);

    t = tcase_create("canonizers");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_batchnorm_twins);
    tcase_add_test(t, test_batchnorm_twins_zoo);
    tcase_add_test(t, test_batchnorm_twins_layouts);
    suite_add_tcase(s, t);

    t = tcase_create("models");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_fmnist_composites);
    tcase_add_test(t, test_fmnist_gradient);
    tcase_add_test(t, test_fmnist_batch_per_sample);
    tcase_add_test(t, test_reference_maps);
    suite_add_tcase(s, t);

    t = tcase_create("options");
    tcase_add_test(t, test_rule_specs);
    tcase_add_test(t, test_rule_json);
    tcase_add_test(t, test_explain_errors);
    tcase_add_test(t, test_rules_report);
    tcase_add_test(t, test_op_descriptors);
    tcase_add_test(t, test_rule_tables);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lrp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
