/* Rule kernels of the linear layers (Conv, ConvTranspose, Gemm, MatMul):
 * the relevance function every such op points its .relevance at. Each
 * rule is written as a few products with the op's lrpx_linear_def:
 * f(x; W) = apply (no bias), f^T(s; W) = apply_t (the data gradient), so
 * one implementation serves every layer type. Notation (docs/lrp.md):
 *
 *   z = f(x; W) + b     the layer's output        R   relevance at z
 *   x+ = max(x, 0), x- = min(x, 0), W+ / W- and b+ / b- likewise
 *   stab(d) = d + e sign(d), sign(0) = +1 (e: the rule's stabilizer)
 *
 *   zero       R_in = x . f^T(R / z; W)            (0 where z = 0)
 *   epsilon    R_in = x . f^T(R / stab_eps(z); W)
 *   alphabeta  P = f(x+; W+) + f(x-; W-) + b+,  N = f(x+; W-) + f(x-; W+) + b-
 *              R_in = alpha [x+ . f^T(R/stab(P); W+) + x- . f^T(R/stab(P); W-)]
 *                   - beta  [x+ . f^T(R/stab(N); W-) + x- . f^T(R/stab(N); W+)]
 *   zplus      alphabeta with alpha 1, beta 0 (negative inputs allowed)
 *   gamma      Wp = W + g W+, Wn = W + g W-, bp = b + g b+, bn = b + g b-
 *              P = f(x+; Wp) + f(x-; Wn) + bp,  N = f(x+; Wn) + f(x-; Wp) + bn
 *              sP = [z > 0] R / stab(P),  sN = [z < 0] R / stab(N)
 *              R_in = x+ . (f^T(sP; Wp) + f^T(sN; Wn)) + x- . (f^T(sP; Wn) + f^T(sN; Wp))
 *   zbox       D = f(x; W) - f(L; W+) - f(H; W-)   (the biases cancel)
 *              R_in = x . f^T(R/stab(D); W) - L . f^T(R/stab(D); W+) - H . f^T(R/stab(D); W-)
 *   wsquare    R_in = f^T(R / stab(f(1; W^2) + b^2); W^2)
 *   flat       R_in = f^T(R / stab(f(1; 1)); 1)      (no bias)
 *   pass       R_in = R (input and output of the same shape)
 *
 * These follow the definitions of Zennit's rules (zennit/rules.py:
 * Epsilon, AlphaBeta, ZPlus, the generalised Gamma, ZBox, WSquare, Flat,
 * Pass), re-implemented here; zero_bias drops b everywhere. The bias is
 * handled as its contribution to the output (an output-shaped tensor), so
 * Gemm's beta C, a fused bias Add and a merged BatchNorm need no special
 * cases. Gemm's alpha is folded into the weight before it is modified
 * (m(alpha W) / alpha is passed to apply, which multiplies by alpha).
 *
 * Relevance is added into the data input's buffer, never assigned. Work
 * buffers come from the pass (struct lrpx_lrp_linear, allocated by
 * lrpx_session_explain); without them (a caller that filled the rule
 * table itself) they are allocated here for the call.
 */
#include <math.h>
#include <string.h>

#include "lrp/lrp_impl.h"
#include "core/linear.h"
#include "ops/kernels/broadcast_impl.h"
#include "util/parallel.h"

bool
lrpx__lrp_is_linear(const struct lrpx_node *n)
{
    return lrpx__node_is(n, LRPX_LRP_CLASS_LINEAR) && n->def->linear;
}

void
lrpx__lrp_linear_need(const struct lrpx_exec *x, const struct lrpx_node *n,
                      const struct lrpx_rule_cfg *cfg, int64_t *n_in, int64_t *n_out,
                      int64_t *n_w)
{
    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    const struct lrpx_tensor       *in    = lrpx__in(x, n, roles->in_index);
    const struct lrpx_tensor       *w     = lrpx__in(x, n, roles->w_index);
    const struct lrpx_tensor       *out   = lrpx__out(x, n, 0);
    *n_in  = in ? in->n_elems : 0;
    *n_out = out ? out->n_elems : 0;
    *n_w   = w && lrpx__lrp_rule_modifies_w(cfg->rule) ? w->n_elems : 0;
}

/* ---- one call ---- */

struct lin_ctx {
    struct lrpx_exec             *x;
    const struct lrpx_node       *n;
    const struct lrpx_linear_def *def;
    const struct lrpx_rule_cfg   *cfg;
    const struct lrpx_tensor     *in_t;   /* data input (for per-channel bounds) */
    const float                  *in;
    int64_t                       n_in;
    const float                  *w;      /* weight (merged when a BN is fused)  */
    int64_t                       n_w;
    double                        ws;     /* Gemm alpha                         */
    const float                  *rout;
    int64_t                       n_out;
    float                        *rin;
    const float                  *z_fwd;  /* the forward output (fused tail)    */
    const float                  *bias;   /* bias contribution or NULL          */
    /* bias_inner > 0: bias holds one value per channel (axis 1 of the
     * output, bias_c of them), each for bias_inner consecutive outputs */
    int64_t                       bias_c, bias_inner;
    struct lrpx_lrp_work         *wk;
    /* the weights' identities for the op (x->lrp_wkey): of w, and of what
     * wmodify last wrote to wk->w[0] and wk->w[1]; all 0 (unknown) unless
     * w is the node's constant weight, so the op may keep prepared forms */
    uint64_t                      key_w;
    uint64_t                     *key_mod;
};

/* The identity of weight w in a call of apply/apply_t. */
static uint64_t
wkey_of(const struct lin_ctx *c, const float *w)
{
    if (w == c->w)
        return c->key_w;
    for (int i = 0; i < 2; i++)
        if (w == c->wk->w[i])
            return c->key_mod[i];
    return 0;
}

static void
fwd(const struct lin_ctx *c, const float *in, const float *w, float *out)
{
    c->x->lrp_wkey = wkey_of(c, w);
    c->def->apply(c->x, c->n, in, w, out, c->x->scratch);
    c->x->lrp_wkey = 0;
}

static void
bwd(const struct lin_ctx *c, const float *gout, const float *w, float *gin)
{
    c->x->lrp_wkey = wkey_of(c, w);
    c->def->apply_t(c->x, c->n, gout, w, gin, c->x->scratch);
    c->x->lrp_wkey = 0;
}

/* Weight modifiers, applied to the effective weight ws * W and divided by
 * ws again (apply multiplies by it). */
enum wmod { WM_POS, WM_NEG, WM_GAMMA_POS, WM_GAMMA_NEG, WM_SQUARE, WM_ONE, WM_COUNT };

/* A key for weight variant m (WM_COUNT: the weight itself) of the node's
 * weight scaled by ws: never 0, equal only for the same variant. */
static uint64_t
wkey_make(int m, double gamma, double ws)
{
    uint64_t g, w, h = 1469598103934665603ull;
    memcpy(&g, &gamma, sizeof g);
    memcpy(&w, &ws, sizeof w);
    const uint64_t parts[3] = {(uint64_t)m, g, w};
    for (int i = 0; i < 3; i++)
        h = (h ^ parts[i]) * 1099511628211ull;
    return h | 1;
}

static void
wmodify(const struct lin_ctx *c, enum wmod m, double gamma, float *out)
{
    const double ws = c->ws, inv = 1.0 / ws;
    const uint64_t key = c->key_w ? wkey_make((int)m, gamma, ws) : 0;
    for (int i = 0; i < 2; i++)
        if (out == c->wk->w[i])
            c->key_mod[i] = key;
    if (key && c->def->prepared && c->def->prepared(c->x, c->n, key))
        return;     /* the op kept what it needs from an earlier pass */
    for (int64_t i = 0; i < c->n_w; i++) {
        double w = ws * c->w[i], r;
        switch (m) {
        case WM_POS:       r = w > 0 ? w : 0; break;
        case WM_NEG:       r = w < 0 ? w : 0; break;
        case WM_GAMMA_POS: r = w + gamma * (w > 0 ? w : 0); break;
        case WM_GAMMA_NEG: r = w + gamma * (w < 0 ? w : 0); break;
        case WM_SQUARE:    r = w * w; break;
        default:           r = 1.0; break;
        }
        out[i] = (float)(r * inv);
    }
}

/* ---- element-wise loops ----
 * Each element is computed by the same code whichever thread runs it, so
 * the results do not depend on the thread count; the loops are written
 * branch-free so that they vectorise (an AVX2 copy chosen at run time). */

#define EW_GRAIN (1 << 14)

struct ew_ctx {
    float       *dst;
    const float *a, *b, *z;
    float       *d2;
    double       s, e;
    int          mask;
    int          neg;     /* split: set when some a[i] < 0 */
};

LRPX_TARGET_CLONES
static void
ew_has_neg(void *ctx, int64_t i0, int64_t i1)
{
    struct ew_ctx        *c = ctx;
    const float *restrict a = c->a;
    int                   neg = 0;
    for (int64_t i = i0; i < i1; i++)
        neg |= a[i] < 0.0f;
    if (neg)
        __atomic_store_n(&c->neg, 1, __ATOMIC_RELAXED);
}

LRPX_TARGET_CLONES
static void
ew_split(void *ctx, int64_t i0, int64_t i1)
{
    const struct ew_ctx  *c  = ctx;
    const float *restrict a  = c->a;
    float *restrict       xp = c->dst, *restrict xn = c->d2;
    for (int64_t i = i0; i < i1; i++) {
        const float v = a[i];
        xp[i] = v > 0.0f ? v : 0.0f;
        xn[i] = v < 0.0f ? v : 0.0f;
    }
}

/* dst += s * a . b (a NULL: dst += s * b) */
LRPX_TARGET_CLONES
static void
ew_acc(void *ctx, int64_t i0, int64_t i1)
{
    const struct ew_ctx  *c  = ctx;
    const double          sc = c->s;
    const float *restrict a  = c->a, *restrict b = c->b;
    float *restrict       d  = c->dst;
    if (a)
        for (int64_t i = i0; i < i1; i++)
            d[i] = (float)(d[i] + sc * ((double)a[i] * b[i]));
    else
        for (int64_t i = i0; i < i1; i++)
            d[i] = (float)(d[i] + sc * b[i]);
}

/* dst = a / stab(b, e), a the output relevance; mask +1: 0 where !(z > 0),
 * -1: 0 where !(z < 0). dst may be b (in place). */
LRPX_TARGET_CLONES
static void
ew_div(void *ctx, int64_t i0, int64_t i1)
{
    const struct ew_ctx *c = ctx;
    const double         e = c->e;
    const float         *a = c->a, *b = c->b, *z = c->z;
    float               *d = c->dst;
    if (c->mask == 0)
        for (int64_t i = i0; i < i1; i++)
            d[i] = (float)lrpx__stab_div(a[i], b[i], e);
    else
        for (int64_t i = i0; i < i1; i++) {
            const int   keep = c->mask > 0 ? z[i] > 0.0f : z[i] < 0.0f;
            const float v    = (float)lrpx__stab_div(a[i], b[i], e);
            d[i]             = keep ? v : 0.0f;
        }
}

static void
ew_run(const struct lin_ctx *c, int64_t n, lrpx_range_fn fn, struct ew_ctx *e)
{
    lrpx__parallel_for(c->x->pool, n, EW_GRAIN, fn, e);
}

/* the two steps the transformer rules share (lrp_impl.h) */
void
lrpx__lrp_divide(struct lrpx_pool *pool, float *u, const float *r, const float *z, int64_t n,
                 double e)
{
    struct ew_ctx k = {.dst = u, .a = r, .b = z, .e = e};
    lrpx__parallel_for(pool, n, EW_GRAIN, ew_div, &k);
}

void
lrpx__lrp_accumulate(struct lrpx_pool *pool, float *rin, const float *a, const float *g,
                     int64_t n, double scale)
{
    struct ew_ctx k = {.dst = rin, .a = a, .b = g, .s = scale};
    lrpx__parallel_for(pool, n, EW_GRAIN, ew_acc, &k);
}

/* xp = max(x, 0), xn = min(x, 0); returns whether any x < 0. */
static bool
split_input(const struct lin_ctx *c, float *xp, float *xn)
{
    struct ew_ctx e = {.dst = xp, .d2 = xn, .a = c->in};
    ew_run(c, c->n_in, ew_has_neg, &e);
    if (!e.neg)
        return false;
    ew_run(c, c->n_in, ew_split, &e);
    return true;
}

/* out += t over the output */
static void
add_out(const struct lin_ctx *c, float *out, const float *t)
{
    lrpx__add_scaled(c->x->pool, out, t, c->n_out, 1.0);
}

/* out += bias part: 0 all, 1 positive part, -1 negative part, 2 squared;
 * gamma != 0: b + gamma b+ (part 1) or b + gamma b- (part -1). */
struct bias_ctx {
    float       *out;
    const float *b;
    int          part;
    double       gamma;
    int64_t      n_c, inner;   /* per channel (ew_bias_planes) */
};

LRPX_TARGET_CLONES
static void
ew_bias(void *ctx, int64_t i0, int64_t i1)
{
    const struct bias_ctx *c = ctx;
    const float *restrict  bv = c->b;
    float *restrict        o  = c->out;
    const double           gm = c->gamma;
    if (c->part == 2)
        for (int64_t j = i0; j < i1; j++) {
            const double b = bv[j];
            o[j]           = (float)(o[j] + b * b);
        }
    else if (gm != 0.0 && c->part > 0)
        for (int64_t j = i0; j < i1; j++) {
            const double b = bv[j];
            o[j]           = (float)(o[j] + (b + gm * (b > 0 ? b : 0.0)));
        }
    else if (gm != 0.0)
        for (int64_t j = i0; j < i1; j++) {
            const double b = bv[j];
            o[j]           = (float)(o[j] + (b + gm * (b < 0 ? b : 0.0)));
        }
    else if (c->part > 0)
        for (int64_t j = i0; j < i1; j++) {
            const double b = bv[j];
            o[j]           = (float)(o[j] + (b > 0 ? b : 0.0));
        }
    else if (c->part < 0)
        for (int64_t j = i0; j < i1; j++) {
            const double b = bv[j];
            o[j]           = (float)(o[j] + (b < 0 ? b : 0.0));
        }
    else
        for (int64_t j = i0; j < i1; j++)
            o[j] = (float)(o[j] + (double)bv[j]);
}

/* the bias part of one value per channel, over output planes [p0, p1):
 * the same arithmetic as ew_bias on the broadcast bias */
LRPX_TARGET_CLONES
static void
ew_bias_planes(void *ctx, int64_t p0, int64_t p1)
{
    const struct bias_ctx *c  = ctx;
    const double           gm = c->gamma;
    const int64_t          in = c->inner;
    for (int64_t pl = p0; pl < p1; pl++) {
        const double b = c->b[pl % c->n_c];
        double       r;
        if (c->part == 2)
            r = b * b;
        else if (gm != 0.0)
            r = b + gm * (c->part > 0 ? (b > 0 ? b : 0.0) : (b < 0 ? b : 0.0));
        else if (c->part > 0)
            r = b > 0 ? b : 0.0;
        else if (c->part < 0)
            r = b < 0 ? b : 0.0;
        else
            r = b;
        float *restrict o = c->out + pl * in;
        for (int64_t j = 0; j < in; j++)
            o[j] = (float)(o[j] + r);
    }
}

static void
add_bias_part(const struct lin_ctx *c, float *out, int part, double gamma)
{
    if (!c->bias || c->cfg->zero_bias)
        return;
    struct bias_ctx b = {out, c->bias, part, gamma, c->bias_c, c->bias_inner};
    if (c->bias_inner > 0)
        lrpx__parallel_for(c->x->pool, c->n_out / c->bias_inner,
                           1 + EW_GRAIN / c->bias_inner, ew_bias_planes, &b);
    else
        lrpx__parallel_for(c->x->pool, c->n_out, EW_GRAIN, ew_bias, &b);
}

/* rin += scale * a . g (a NULL: rin += scale * g) */
static void
accumulate(const struct lin_ctx *c, const float *a, const float *g, double scale)
{
    lrpx__lrp_accumulate(c->x->pool, c->rin, a, g, c->n_in, scale);
}

/* s = R / stab(d) in place over d; mask: +1 keep where z > 0, -1 where
 * z < 0, 0 everywhere. */
static void
divide(const struct lin_ctx *c, float *d, double e, const float *z, int mask)
{
    struct ew_ctx k = {.dst = d, .a = c->rout, .b = d, .z = z, .e = e, .mask = mask};
    ew_run(c, c->n_out, ew_div, &k);
}

/* ---- the rules ---- */

static void
rule_epsilon(const struct lin_ctx *c, bool zero)
{
    float       *s = c->wk->out[0];
    float       *g = c->wk->in[0];
    const float *z = c->z_fwd;
    if (c->bias && c->cfg->zero_bias) {   /* z without the bias */
        fwd(c, c->in, c->w, c->wk->out[1]);
        z = c->wk->out[1];
    }
    if (zero)
        for (int64_t j = 0; j < c->n_out; j++)
            s[j] = z[j] != 0.0f ? (float)(c->rout[j] / (double)z[j]) : 0.0f;
    else
        lrpx__lrp_divide(c->x->pool, s, c->rout, z, c->n_out, c->cfg->eps);
    bwd(c, s, c->w, g);
    accumulate(c, c->in, g, 1.0);
}

static void
rule_alphabeta(const struct lin_ctx *c, double alpha, double beta)
{
    struct lrpx_lrp_work *k  = c->wk;
    float                *wp = k->w[0], *wn = k->w[1];
    float                *xp = k->in[0], *xn = k->in[1], *g = k->in[2];
    float                *p = k->out[0], *q = k->out[1], *t = k->out[2];
    wmodify(c, WM_POS, 0, wp);
    bool neg = split_input(c, xp, xn);
    if (!neg)
        xp = (float *)c->in;
    if (neg || beta != 0.0)     /* W- is needed only for x- or the beta part */
        wmodify(c, WM_NEG, 0, wn);
    const double e = c->cfg->stab;

    /* positive contributions */
    fwd(c, xp, wp, p);
    if (neg) {
        fwd(c, xn, wn, t);
        add_out(c, p, t);
    }
    add_bias_part(c, p, 1, 0);
    divide(c, p, e, NULL, 0);
    bwd(c, p, wp, g);
    accumulate(c, xp, g, alpha);
    if (neg) {
        bwd(c, p, wn, g);
        accumulate(c, xn, g, alpha);
    }
    if (beta == 0.0)
        return;
    /* negative contributions */
    fwd(c, xp, wn, q);
    if (neg) {
        fwd(c, xn, wp, t);
        add_out(c, q, t);
    }
    add_bias_part(c, q, -1, 0);
    divide(c, q, e, NULL, 0);
    bwd(c, q, wn, g);
    accumulate(c, xp, g, -beta);
    if (neg) {
        bwd(c, q, wp, g);
        accumulate(c, xn, g, -beta);
    }
}

static void
rule_gamma(const struct lin_ctx *c, double gamma)
{
    struct lrpx_lrp_work *k  = c->wk;
    float                *wp = k->w[0], *wn = k->w[1];
    float                *xp = k->in[0], *xn = k->in[1], *g = k->in[2];
    float                *p = k->out[0], *q = k->out[1], *t = k->out[2];
    wmodify(c, WM_GAMMA_POS, gamma, wp);
    wmodify(c, WM_GAMMA_NEG, gamma, wn);
    bool neg = split_input(c, xp, xn);
    if (!neg)
        xp = (float *)c->in;
    const double e = c->cfg->stab;

    fwd(c, xp, wp, p);
    fwd(c, xp, wn, q);
    if (neg) {
        fwd(c, xn, wn, t);
        add_out(c, p, t);
        fwd(c, xn, wp, t);
        add_out(c, q, t);
    }
    add_bias_part(c, p, 1, gamma);
    add_bias_part(c, q, -1, gamma);
    /* the sign of the unmodified output picks the branch */
    divide(c, p, e, c->z_fwd, 1);
    divide(c, q, e, c->z_fwd, -1);
    bwd(c, p, wp, g);
    accumulate(c, xp, g, 1.0);
    bwd(c, q, wn, g);
    accumulate(c, xp, g, 1.0);
    if (neg) {
        bwd(c, p, wn, g);
        accumulate(c, xn, g, 1.0);
        bwd(c, q, wp, g);
        accumulate(c, xn, g, 1.0);
    }
}

/* Fill buf (data-input sized) with a bound: scalar v or per channel
 * (axis 1) from vc[n_c]. */
static void
fill_bound(const struct lin_ctx *c, float *buf, double v, const float *vc, int n_c)
{
    if (!vc || n_c <= 0) {
        for (int64_t i = 0; i < c->n_in; i++)
            buf[i] = (float)v;
        return;
    }
    const struct lrpx_tensor *t     = c->in_t;
    int64_t                   inner = 1;
    for (int k = 2; k < t->rank; k++)
        inner *= t->dims[k];
    for (int64_t i = 0; i < c->n_in; i++)
        buf[i] = vc[(i / (inner ? inner : 1)) % n_c];
}

static void
rule_zbox(const struct lin_ctx *c)
{
    struct lrpx_lrp_work       *k   = c->wk;
    const struct lrpx_rule_cfg *cfg = c->cfg;
    float *wp = k->w[0], *wn = k->w[1];
    float *lo = k->in[0], *hi = k->in[1], *g = k->in[2];
    float *d = k->out[0], *t = k->out[1];
    wmodify(c, WM_POS, 0, wp);
    wmodify(c, WM_NEG, 0, wn);
    fill_bound(c, lo, cfg->low, cfg->low_c, cfg->n_c);
    fill_bound(c, hi, cfg->high, cfg->high_c, cfg->n_c);

    fwd(c, c->in, c->w, d);
    fwd(c, lo, wp, t);
    for (int64_t j = 0; j < c->n_out; j++)
        d[j] -= t[j];
    fwd(c, hi, wn, t);
    for (int64_t j = 0; j < c->n_out; j++)
        d[j] -= t[j];
    divide(c, d, cfg->stab, NULL, 0);
    bwd(c, d, c->w, g);
    accumulate(c, c->in, g, 1.0);
    bwd(c, d, wp, g);
    accumulate(c, lo, g, -1.0);
    bwd(c, d, wn, g);
    accumulate(c, hi, g, -1.0);
}

/* wsquare (square = true) and flat: the input is replaced by ones. */
static void
rule_ones(const struct lin_ctx *c, bool square)
{
    struct lrpx_lrp_work *k    = c->wk;
    float                *w1   = k->w[0];
    float                *ones = k->in[0], *g = k->in[1];
    float                *d    = k->out[0];
    wmodify(c, square ? WM_SQUARE : WM_ONE, 0, w1);
    for (int64_t i = 0; i < c->n_in; i++)
        ones[i] = 1.0f;
    fwd(c, ones, w1, d);
    if (square)
        add_bias_part(c, d, 2, 0);   /* Zennit squares every parameter */
    divide(c, d, c->cfg->stab, NULL, 0);
    bwd(c, d, w1, g);
    accumulate(c, NULL, g, 1.0);
}

/* ---- bias contribution ---- */

/* out += c broadcast (numpy, right-aligned) to out's shape. */
static void
broadcast_add(const struct lrpx_tensor *ct, const struct lrpx_tensor *out_t, float *out)
{
    int64_t cstr[LRPX_MAX_RANK] = {0}, stride = 1;
    int     r = out_t->rank, off = r - ct->rank;
    for (int k = ct->rank - 1; k >= 0; k--) {
        int ko = k + off;
        if (ko >= 0)
            cstr[ko] = ct->dims[k] == 1 ? 0 : stride;
        stride *= ct->dims[k];
    }
    int64_t idx[LRPX_MAX_RANK] = {0}, ci = 0;
    for (int64_t j = 0; j < out_t->n_elems; j++) {
        out[j] += ct->f32[ci];
        for (int k = r - 1; k >= 0; k--) {
            idx[k]++;
            ci += cstr[k];
            if (idx[k] < out_t->dims[k])
                break;
            ci -= cstr[k] * idx[k];
            idx[k] = 0;
        }
    }
}

/* The bias contribution of the (fused) layer into buf, or NULL when the
 * layer has none. */
static const float *
bias_fill(struct lin_ctx *c, const struct lrpx_lrp_linear *lin, int b_index, float *buf)
{
    const struct lrpx_tensor *b       = b_index >= 0 ? lrpx__in(c->x, c->n, b_index) : NULL;
    const struct lrpx_tensor *out_t   = lrpx__out(c->x, c->n, 0);
    bool                      has_add = lin->add_const >= 0, has_bn = lin->bn_node >= 0;
    if (!b && !has_add && !has_bn)
        return NULL;
    /* a 1-D bias of one value per output channel (axis 1), unscaled: kept
     * as it is (no output-sized copy) */
    if (b && b->f32 && !has_add && !has_bn && b->rank == 1 && out_t->rank >= 2 &&
        b->n_elems == out_t->dims[1] && out_t->n_elems > 0 && c->def->channel_layout &&
        (!c->n->def->linear->bias_scale || c->n->def->linear->bias_scale(c->n) == 1.0)) {
        const struct lrpx_linear_roles *roles = lrpx__linear_roles(c->x, c->n);
        struct lrpx_chan_layout         l;
        if (c->def->channel_layout(c->n, lrpx__in(c->x, c->n, roles->w_index), roles->in_index,
                                   out_t->rank, &l)) {
            c->bias_c     = out_t->dims[1];
            c->bias_inner = out_t->n_elems / (out_t->dims[0] * out_t->dims[1]);
            return b->f32;
        }
    }
    memset(buf, 0, (size_t)c->n_out * sizeof *buf);
    if (b && b->f32)
        c->def->add_bias(c->x, c->n, b->f32, buf);
    if (has_add)
        broadcast_add(&c->x->vals[lin->add_const], out_t, buf);
    if (has_bn) {
        int64_t inner = 1;
        for (int k = 2; k < out_t->rank; k++)
            inner *= out_t->dims[k];
        for (int64_t j = 0; j < c->n_out; j++) {
            int64_t ch = (j / (inner ? inner : 1)) % lin->bn_c;
            buf[j]     = (float)((double)lin->bn_scale[ch] * buf[j] + lin->bn_shift[ch]);
        }
    }
    return buf;
}

/* ---- entry point ---- */

static lrpx_status
work_alloc(struct lrpx_lrp_work *k, int64_t n_in, int64_t n_out, int64_t n_w)
{
    memset(k, 0, sizeof *k);
    k->n_in  = n_in;
    k->n_out = n_out;
    k->n_w   = n_w;
    for (int i = 0; i < 4; i++) {
        k->in[i]  = lrpx__malloc((size_t)(n_in ? n_in : 1) * sizeof(float));
        k->out[i] = lrpx__malloc((size_t)(n_out ? n_out : 1) * sizeof(float));
        if (!k->in[i] || !k->out[i])
            return LRPX_ENOMEM;
    }
    for (int i = 0; i < 2; i++)
        if (n_w && !(k->w[i] = lrpx__malloc((size_t)n_w * sizeof(float))))
            return LRPX_ENOMEM;
    return LRPX_OK;
}

static void
work_free(struct lrpx_lrp_work *k)
{
    for (int i = 0; i < 4; i++) {
        lrpx__free(k->in[i]);
        lrpx__free(k->out[i]);
    }
    for (int i = 0; i < 2; i++)
        lrpx__free(k->w[i]);
}

lrpx_status
lrpx__lrp_linear(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_rule_cfg     *cfg   = lrpx__rule(x, n);
    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    const struct lrpx_linear_def   *def   = n->def->linear;
    if (!def || !roles)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "not a linear layer");
    const float *rout = lrpx__back_out(x, n, 0);
    float       *rin  = lrpx__back_in(x, n, roles->in_index);
    if (rout && !rin && lrpx__back_in(x, n, roles->w_index))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "the operand taken as the weight (input %d) is a computed value "
                                "and the data operand (input %d) a constant; relevance would be "
                                "lost", roles->w_index, roles->in_index);
    if (!rout || !rin)
        return LRPX_OK;                        /* nothing flows here */
    if (!roles->w_known)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "both operands are computed values (e.g. attention): a product "
                                "has no rule in this composite (--composite attn_lrp or cp_lrp, "
                                "or --rule bilinear=uniform)");

    const struct lrpx_tensor *in_t  = lrpx__in(x, n, roles->in_index);
    const struct lrpx_tensor *w_t   = lrpx__in(x, n, roles->w_index);
    const struct lrpx_tensor *out_t = lrpx__out(x, n, 0);

    if (cfg->rule == LRPX_RULE_PASS) {
        char b1[96], b2[96];
        if (in_t->rank != out_t->rank ||
            memcmp(in_t->dims, out_t->dims, sizeof(int64_t) * (size_t)in_t->rank) != 0)
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "rule 'pass' needs an output of the input's shape "
                                    "(input %s, output %s)",
                                    lrpx__dims_str(in_t->dims, in_t->rank, b1, sizeof b1),
                                    lrpx__dims_str(out_t->dims, out_t->rank, b2, sizeof b2));
        for (int64_t i = 0; i < in_t->n_elems; i++)
            rin[i] += rout[i];
        return LRPX_OK;
    }
    if (cfg->rule == LRPX_RULE_ZBOX && cfg->n_c > 0 &&
        (in_t->rank < 2 || in_t->dims[1] != cfg->n_c))
        return lrpx__node_error(x, n, LRPX_EINVAL,
                                "rule 'zbox' has %d per-channel bounds but the input has %lld "
                                "channels (axis 1)",
                                cfg->n_c, in_t->rank >= 2 ? (long long)in_t->dims[1] : 1LL);
    if ((unsigned)cfg->rule >= LRPX_RULE_COUNT)
        return lrpx__node_error(x, n, LRPX_EINVAL, "unknown rule %d", (int)cfg->rule);

    /* merged parameters and buffers of the pass, or a standalone call */
    struct lrpx_lrp_linear local = {0};
    struct lrpx_lrp_work   own   = {0};
    const struct lrpx_lrp_linear *lin = cfg->lin;
    bool standalone = lin == NULL || lin->work == NULL;
    if (!lin) {
        local.tail      = n->outputs[0];
        local.add_node  = local.add_const = local.bn_node = -1;
        local.w         = w_t->f32;
        local.wscale    = n->def->linear->weight_scale ? n->def->linear->weight_scale(n) : 1.0;
        lin             = &local;
    }
    if (standalone) {
        int64_t ni, no, nw;
        lrpx__lrp_linear_need(x, n, cfg, &ni, &no, &nw);
        if (work_alloc(&own, ni, no, nw) != LRPX_OK) {
            work_free(&own);
            return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for the LRP rule");
        }
    }

    struct lin_ctx c = {
        .x     = x,
        .n     = n,
        .def   = def,
        .cfg   = cfg,
        .in_t  = in_t,
        .in    = in_t->f32,
        .n_in  = in_t->n_elems,
        .w     = lin->w,
        .n_w   = w_t->n_elems,
        .ws    = lin->wscale,
        .rout  = rout,
        .n_out = out_t->n_elems,
        .rin   = rin,
        .z_fwd = x->vals[lin->tail].f32,
        .wk    = standalone ? &own : lin->work,
    };
    uint64_t key_mod[2] = {0, 0};
    c.key_mod = key_mod;
    /* the node's own constant weight: the op may keep prepared forms of it
     * and its variants for the plan (merged BatchNorm weights are not) */
    c.key_w = !(lin->w == w_t->f32 && roles->w_known) ? 0
            : c.ws == 1.0                                ? LRPX_WKEY_PLAIN
                                                         : wkey_make(WM_COUNT, 0.0, c.ws);
    /* the epsilon rules read the bias only to drop it (zero_bias): z is
     * the forward output */
    const bool eps_rule = cfg->rule == LRPX_RULE_EPSILON || cfg->rule == LRPX_RULE_ZERO;
    c.bias = eps_rule && !cfg->zero_bias ? NULL : bias_fill(&c, lin, roles->b_index, c.wk->out[3]);

    switch (cfg->rule) {
    case LRPX_RULE_ZERO:      rule_epsilon(&c, true); break;
    case LRPX_RULE_EPSILON:   rule_epsilon(&c, false); break;
    case LRPX_RULE_GAMMA:     rule_gamma(&c, cfg->gamma); break;
    case LRPX_RULE_ALPHABETA: rule_alphabeta(&c, cfg->alpha, cfg->beta); break;
    case LRPX_RULE_ZPLUS:     rule_alphabeta(&c, 1.0, 0.0); break;
    case LRPX_RULE_ZBOX:      rule_zbox(&c); break;
    case LRPX_RULE_WSQUARE:   rule_ones(&c, true); break;
    case LRPX_RULE_FLAT:      rule_ones(&c, false); break;
    default:                  break;
    }
    if (standalone)
        work_free(&own);
    return LRPX_OK;
}
