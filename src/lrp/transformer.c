/* The rules of the nodes of transformers other than linear layers
 * (docs/transformers.md; AttnLRP: Achtibat et al., ICML 2024; CP-LRP: Ali et
 * al., ICML 2022). Notation: R is the relevance at a node's output y,
 * stab_e(d) = d + e sign(d) with e the node's stabiliser (0 where d = 0
 * when e = 0), J the node's (or pattern's) Jacobian.
 *
 *   uniform     Z = A.B of two computed values:  S = R / stab_e(Z),
 *               R_A = 1/2 A . (S B^T),  R_B = 1/2 B . (A^T S)
 *   const-attn  the operand produced by Softmax is a constant:
 *               R_other = other . J_other^T (R / stab_e(Z))
 *   taylor      R_x = x . J^T (R / y), 0 where y = 0: for Softmax this is
 *               x (R - y sum R) per row (AttnLRP's rule); for an
 *               activation (or an ACTIVATION pattern) x f'(x) R / y, the
 *               gradient x input of CP-LRP
 *   block       nothing passes
 *   norm        a NORM pattern with its statistic held constant:
 *               R_x = x . J_cut^T (R / stab_e(y)) (LayerNormalization
 *               nodes have the same rule in their own file)
 *   pass        a pattern as the identity: R_x = R_y
 *
 * J^T u is computed by the nodes' own backward functions (the exported
 * GELU's five nodes give its true derivative, a written-out LayerNorm its
 * Jacobian) on private buffers: for the duration of one call the back
 * buffers of the values involved are swapped for pieces of the pass's work
 * buffer (struct lrpx_lrp_xf), the cut value's for NULL, and restored.
 */
#include <math.h>
#include <string.h>

#include "lrp/lrp_impl.h"
#include "ops/kernels/softmax_impl.h"
#include "util/parallel.h"

#define MAX_SWAP (3 * 64 + 4)

struct swap {
    int    n;
    int    v[MAX_SWAP];
    float *saved[MAX_SWAP];
};

static bool
swap_set(struct lrpx_exec *x, struct swap *sw, int v, float *buf)
{
    for (int i = 0; i < sw->n; i++)
        if (sw->v[i] == v) {
            x->back[v] = buf;
            return true;
        }
    if (sw->n == MAX_SWAP)
        return false;
    sw->v[sw->n]     = v;
    sw->saved[sw->n] = x->back[v];
    sw->n++;
    x->back[v] = buf;
    return true;
}

static void
swap_restore(struct lrpx_exec *x, struct swap *sw)
{
    for (int i = sw->n; i-- > 0;)
        x->back[sw->v[i]] = sw->saved[i];
}

/* A piece of n floats of the work buffer, zeroed; NULL when it is used up. */
static float *
carve(float **next, float *end, int64_t n)
{
    if (n > end - *next)
        return NULL;
    float *p = *next;
    memset(p, 0, (size_t)n * sizeof *p);
    *next += n;
    return p;
}

/* g_k = J^T u from value `from` to the values src[k] (g[k] zeroed by the
 * caller), through nodes[0..n_nodes) in run order, with value `cut` (or
 * -1) carrying no gradient. */
static lrpx_status
local_grad(struct lrpx_exec *x, const struct lrpx_node *at, const int *nodes, int n_nodes,
           int from, const float *u, const int *src, float *const *g, int n_src, int cut,
           float *work, float *end)
{
    struct swap sw = {0};
    lrpx_status rc = LRPX_OK;
    bool        ok = true;
    for (int k = 0; k < n_src; k++)
        ok = ok && swap_set(x, &sw, src[k], g[k]);
    for (int i = 0; i < n_nodes && ok; i++) {
        const struct lrpx_node *n = &x->g->nodes[nodes[i]];
        for (int o = 0; o < n->n_outputs && ok; o++) {
            int v = n->outputs[o];
            if (v < 0 || !x->back[v])
                continue;
            float *b = v == from ? (float *)u : carve(&work, end, x->vals[v].n_elems);
            ok       = b && swap_set(x, &sw, v, b);
        }
    }
    if (ok && cut >= 0)
        ok = swap_set(x, &sw, cut, NULL);
    if (!ok) {
        swap_restore(x, &sw);
        return lrpx__node_error(x, at, LRPX_ENOMEM, "relevance work buffer too small");
    }
    x->phase = LRPX_PHASE_BACKWARD;
    for (int i = n_nodes; i-- > 0 && rc == LRPX_OK;) {
        const struct lrpx_node *n = &x->g->nodes[nodes[i]];
        if (lrpx__outputs_empty(x, n))
            continue;
        if (!n->def->backward)
            rc = lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                  "the rule of node '%s' needs this node's gradient, which lrpx "
                                  "does not have", at->name);
        else
            rc = n->def->backward(x, n);
    }
    x->phase = LRPX_PHASE_RELEVANCE;
    swap_restore(x, &sw);
    return rc;
}

static const struct lrpx_lrp_xf *
xf_of(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__rule(x, n)->xf;
}

/* R_src += scale * src . J^T (R_from / stab_e(y_from)) through nodes. */
static lrpx_status
gradient_rule(struct lrpx_exec *x, const struct lrpx_node *at, const int *nodes, int n_nodes,
              int from, const int *src, int n_src, int cut, double e, double scale)
{
    const struct lrpx_lrp_xf *xf = xf_of(x, at);
    const float              *r  = x->back[from];
    if (!r)
        return LRPX_OK;
    if (!xf || !xf->buf)
        return lrpx__node_error(x, at, LRPX_EINVAL, "no work buffer for the relevance rule");
    float  *next = xf->buf, *end = xf->buf + xf->n_buf;
    int64_t nf   = x->vals[from].n_elems;
    float  *u    = carve(&next, end, nf);
    float  *g[2] = {NULL, NULL};
    for (int k = 0; k < n_src; k++)
        g[k] = carve(&next, end, x->vals[src[k]].n_elems);
    if (!u || (n_src > 0 && !g[0]) || (n_src > 1 && !g[1]))
        return lrpx__node_error(x, at, LRPX_ENOMEM, "relevance work buffer too small");
    lrpx__lrp_divide(x->pool, u, r, x->vals[from].f32, nf, e);
    lrpx_status rc = local_grad(x, at, nodes, n_nodes, from, u, src, g, n_src, cut, next, end);
    for (int k = 0; k < n_src && rc == LRPX_OK; k++) {
        float *rin = x->back[src[k]];
        if (rin)
            lrpx__lrp_accumulate(x->pool, rin, x->vals[src[k]].f32, g[k],
                                 x->vals[src[k]].n_elems, scale);
    }
    return rc;
}

/* ---- single nodes ---- */

/* taylor on a Softmax node in closed form: u = R / y (0 where y = 0) and
 * J^T u = y (u - <u, y>) give R_x = x (R - y S) with S the sum of R over
 * the row's y != 0 (and 0 where y = 0), from the stored output y; no
 * exp again, no work buffer. Rows over the session's threads, each row by
 * the same code whatever the thread count. */
struct softmax_taylor {
    const struct lrpx_softmax_params *p;
    const float *x, *y, *r;
    float       *rin;
};

static void
softmax_taylor_rows(void *ctx, int64_t o0, int64_t o1)
{
    const struct softmax_taylor *c = ctx;
    const int64_t len = c->p->len, in = c->p->inner;
    for (int64_t o = o0; o < o1; o++)
        for (int64_t i = 0; i < in; i++) {
            const int64_t base = o * len * in + i;
            double        sum  = 0.0;
            for (int64_t j = 0; j < len; j++)
                if (c->y[base + j * in] != 0.0f)
                    sum += c->r[base + j * in];
            for (int64_t j = 0; j < len; j++) {
                const int64_t k = base + j * in;
                if (c->y[k] != 0.0f)
                    c->rin[k] = (float)(c->rin[k] +
                                        (double)c->x[k] * (c->r[k] - (double)c->y[k] * sum));
            }
        }
}

/* taylor on one node (Softmax, an activation): input 0 is x */
static lrpx_status
xf_taylor(struct lrpx_exec *x, const struct lrpx_node *n)
{
    int self = lrpx__node_idx(x, n);
    if (lrpx__node_is(n, LRPX_LRP_CLASS_SOFTMAX) && x->params[self]) {
        const float *r   = lrpx__back_out(x, n, 0);
        float       *rin = lrpx__back_in(x, n, 0);
        if (!r || !rin)
            return LRPX_OK;
        const struct lrpx_softmax_params *p = x->params[self];
        struct softmax_taylor c = {p, lrpx__in(x, n, 0)->f32, lrpx__out(x, n, 0)->f32, r, rin};
        lrpx__parallel_for(x->pool, p->outer, 1 + 4096 / (p->len * p->inner + 1),
                           softmax_taylor_rows, &c);
        return LRPX_OK;
    }
    return gradient_rule(x, n, &self, 1, n->outputs[0], &n->inputs[0], 1, -1, 0.0, 1.0);
}

static lrpx_status
xf_nothing(struct lrpx_exec *x, const struct lrpx_node *n)
{
    (void)x;
    (void)n;
    return LRPX_OK;
}

static bool
from_softmax(const struct lrpx_exec *x, int v)
{
    int p = x->g->values[v].producer;
    return p >= 0 && lrpx__node_is(&x->g->nodes[p], LRPX_LRP_CLASS_SOFTMAX);
}

static bool
all_zero(const float *r, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (r[i] != 0.0f)
            return false;
    return true;
}

static lrpx_status
xf_uniform(struct lrpx_exec *x, const struct lrpx_node *n)
{
    int self = lrpx__node_idx(x, n);
    int n_src = n->inputs[0] == n->inputs[1] ? 1 : 2;
    return gradient_rule(x, n, &self, 1, n->outputs[0], n->inputs, n_src, -1,
                         lrpx__rule(x, n)->stab, 0.5);
}

static lrpx_status
xf_const_attn(struct lrpx_exec *x, const struct lrpx_node *n)
{
    int        self = lrpx__node_idx(x, n);
    const bool s0 = from_softmax(x, n->inputs[0]), s1 = from_softmax(x, n->inputs[1]);
    const float *r = lrpx__back_out(x, n, 0);
    if (s0 == s1) {
        if (!r || all_zero(r, lrpx__out(x, n, 0)->n_elems))
            return LRPX_OK;                  /* q.k^T behind a blocked Softmax */
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "rule const-attn needs exactly one operand produced by Softmax "
                                "(the attention); here %s", s0 ? "both are" : "neither is");
    }
    int keep = s0 ? 1 : 0;
    return gradient_rule(x, n, &self, 1, n->outputs[0], &n->inputs[keep], 1,
                         n->inputs[1 - keep], lrpx__rule(x, n)->stab, 1.0);
}

/* ---- patterns (the head does the work, the other nodes nothing) ---- */

static lrpx_status
xf_pattern(struct lrpx_exec *x, const struct lrpx_node *n, double e, bool cut)
{
    const struct lrpx_pattern *p = xf_of(x, n) ? xf_of(x, n)->pat : NULL;
    if (!p)
        return lrpx__node_error(x, n, LRPX_EINVAL, "pattern rule on a node that heads none");
    return gradient_rule(x, n, p->nodes, p->n_nodes, p->tail, &p->src, 1, cut ? p->cut : -1, e,
                         1.0);
}

static lrpx_status
xf_pattern_taylor(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return xf_pattern(x, n, 0.0, false);
}

/* The norm rule in closed form, for a NORM pattern whose y is gamma (x -
 * [mean(x)]) f + beta per row of the last axis (patterns.h): with f held
 * constant, g = gamma f R / stab_e(y) and R_x = x (g - [mean(g)]), the
 * gradient route's J_cut^T without running the pattern's nodes. Rows over
 * the session's threads, each by the same code whatever the count. */
struct norm_rows {
    const float *x, *y, *r, *cut, *gamma;
    float       *rin;
    int64_t      m;
    int64_t      n_gamma;     /* 0 (none), 1 or m */
    bool         centred, recip;
    double       e;
};

LRPX_TARGET_CLONES static void
norm_rows(void *ctx, int64_t r0, int64_t r1)
{
    const struct norm_rows *c = ctx;
    const int64_t           m = c->m;
    const double            e = c->e;
    const float            *gv = c->n_gamma == m && m > 1 ? c->gamma : NULL;
    const double            g1 = c->n_gamma == 1 ? c->gamma[0] : 1.0;
    for (int64_t row = r0; row < r1; row++) {
        const float *x = c->x + row * m, *y = c->y + row * m, *r = c->r + row * m;
        float       *rin = c->rin + row * m;
        const double f    = c->recip ? (double)c->cut[row] : 1.0 / (double)c->cut[row];
        const double fg   = f * g1;
        double       mean = 0.0;
        if (c->centred) {
            if (gv)
                for (int64_t k = 0; k < m; k++)
                    mean += gv[k] * fg * lrpx__stab_div(r[k], y[k], e);
            else
                for (int64_t k = 0; k < m; k++)
                    mean += fg * lrpx__stab_div(r[k], y[k], e);
            mean /= (double)m;
        }
        if (gv)
            for (int64_t k = 0; k < m; k++)
                rin[k] = (float)(rin[k] + (double)x[k] * (gv[k] * fg * lrpx__stab_div(r[k], y[k], e) - mean));
        else
            for (int64_t k = 0; k < m; k++)
                rin[k] = (float)(rin[k] + (double)x[k] * (fg * lrpx__stab_div(r[k], y[k], e) - mean));
    }
}

/* The closed form for pattern p, or false when p is not of its shape. */
static bool
norm_closed(struct lrpx_exec *x, const struct lrpx_pattern *p, double e)
{
    const struct lrpx_tensor *ts = &x->vals[p->src], *ty = &x->vals[p->tail];
    const struct lrpx_tensor *tc = p->cut >= 0 ? &x->vals[p->cut] : NULL;
    const struct lrpx_tensor *tg = p->gamma >= 0 ? &x->vals[p->gamma] : NULL;
    if (!tc || ts->rank < 1 || !ts->f32 || !ty->f32 || !tc->f32 || ts->n_elems != ty->n_elems)
        return false;
    const int64_t m = ts->dims[ts->rank - 1];
    if (m < 1 || tc->n_elems * m != ts->n_elems)
        return false;
    int64_t ng = 0;
    if (tg) {
        if (tg->dtype != LRPX_DTYPE_FLOAT32 || !tg->f32)
            return false;
        if (tg->n_elems == 1)
            ng = 1;
        else if (tg->n_elems == m && tg->rank >= 1 && tg->dims[tg->rank - 1] == m)
            ng = m;
        else
            return false;
    }
    float *rin = x->back[p->src];
    const float *r = x->back[p->tail];
    if (!rin || !r)
        return true;
    struct norm_rows c = {ts->f32, ty->f32, r, tc->f32, tg ? tg->f32 : NULL, rin, m, ng,
                          p->centred, p->recip, e};
    lrpx__parallel_for(x->pool, tc->n_elems, 1 + 4096 / m, norm_rows, &c);
    return true;
}

static lrpx_status
xf_pattern_norm(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_pattern *p = xf_of(x, n) ? xf_of(x, n)->pat : NULL;
    if (p && norm_closed(x, p, lrpx__rule(x, n)->stab))
        return LRPX_OK;
    return xf_pattern(x, n, lrpx__rule(x, n)->stab, true);
}

static lrpx_status
xf_pattern_pass(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_pattern *p = xf_of(x, n) ? xf_of(x, n)->pat : NULL;
    if (!p)
        return lrpx__node_error(x, n, LRPX_EINVAL, "pattern rule on a node that heads none");
    const float *r   = x->back[p->tail];
    float       *rin = x->back[p->src];
    if (r && rin)
        for (int64_t i = 0; i < x->vals[p->src].n_elems; i++)
            rin[i] += r[i];
    return LRPX_OK;
}

/* ---- what the front end asks ---- */

lrpx_status (*lrpx__lrp_xf_fn(enum lrpx_kind kind, lrpx_rule rule))(struct lrpx_exec *,
                                                                    const struct lrpx_node *)
{
    switch (kind) {
    case LRPX_KIND_MEMBER:
        return xf_nothing;
    case LRPX_KIND_BILINEAR:
        return rule == LRPX_RULE_UNIFORM ? xf_uniform
             : rule == LRPX_RULE_CONST_ATTN ? xf_const_attn : NULL;
    case LRPX_KIND_SOFTMAX:
        return rule == LRPX_RULE_TAYLOR ? xf_taylor : rule == LRPX_RULE_BLOCK ? xf_nothing : NULL;
    case LRPX_KIND_ACTIVATION:
        return rule == LRPX_RULE_TAYLOR ? xf_taylor : NULL;
    default:
        return NULL;
    }
}

/* The same for the head of pattern p. */
lrpx_status (*lrpx__lrp_xf_pattern_fn(lrpx_rule rule))(struct lrpx_exec *,
                                                      const struct lrpx_node *)
{
    switch (rule) {
    case LRPX_RULE_NORM:   return xf_pattern_norm;
    case LRPX_RULE_TAYLOR: return xf_pattern_taylor;
    default:               return xf_pattern_pass;
    }
}

int64_t
lrpx__lrp_xf_need(const struct lrpx_exec *x, const struct lrpx_node *n, lrpx_rule rule,
                  const struct lrpx_pattern *pat)
{
    int64_t need = 0;
    if (pat) {
        if (rule != LRPX_RULE_NORM && rule != LRPX_RULE_TAYLOR)
            return 0;
        need = x->vals[pat->tail].n_elems + x->vals[pat->src].n_elems;
        for (int i = 0; i < pat->n_nodes; i++) {
            const struct lrpx_node *m = &x->g->nodes[pat->nodes[i]];
            for (int o = 0; o < m->n_outputs; o++)
                if (m->outputs[o] >= 0)
                    need += x->vals[m->outputs[o]].n_elems;
        }
        return need;
    }
    if (rule != LRPX_RULE_UNIFORM && rule != LRPX_RULE_CONST_ATTN && rule != LRPX_RULE_TAYLOR)
        return 0;
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0)
            need += 2 * x->vals[n->outputs[o]].n_elems;
    for (int i = 0; i < n->n_inputs && i < 2; i++)
        if (n->inputs[i] >= 0)
            need += x->vals[n->inputs[i]].n_elems;
    return need;
}
