/* The transformer pattern pass: LayerNorm / RMSNorm written out node by node
 * (opset < 17 exports) and gated element-wise activations (GELU's
 * Div -> Erf -> Add -> Mul -> Mul, SiLU's x * Sigmoid(x), the tanh GELU)
 * found in a plan, so that the relevance pass gives them the rule of one
 * LayerNormalization or one activation whatever the exporter did (see
 * patterns.h for the exact shapes, docs/transformers.md for the rules).
 *
 * The walk is iterative (no recursion on an untrusted graph) and costs
 * O(nodes + edges) per candidate anchor, bounded by the pattern size.
 */
#include <string.h>

#include "graph/patterns.h"
#include "core/op.h"

/* A pattern being built: its nodes, and the values it reads from outside. */
#define MAX_MEMBERS 64

struct grow {
    const struct lrpx_exec *x;
    const int              *pos;       /* node -> run position, -1: not run */
    const uint8_t          *taken;     /* node already in a pattern         */
    int                     n_nodes;
    int                     nodes[MAX_MEMBERS];
    int                     src;       /* the one computed source, -1: none */
    bool                    bad;       /* two sources, too large, ...       */
};

static bool
computed(const struct lrpx_exec *x, int v)
{
    return v >= 0 && !x->known[v] && x->vals[v].dtype == LRPX_DTYPE_FLOAT32;
}

static int64_t
count_of(const struct lrpx_exec *x, int v)
{
    return x->vals[v].n_elems;
}

/* The single reader of value v, or -1 (several, none, or a graph output). */
static int
only_reader(const struct lrpx_graph *g, int v)
{
    const struct lrpx_value *val = &g->values[v];
    if (val->is_output || val->n_consumers != 1)
        return -1;
    return val->consumers[0];
}

static bool
member(const struct grow *gr, int node)
{
    for (int i = 0; i < gr->n_nodes; i++)
        if (gr->nodes[i] == node)
            return true;
    return false;
}

static void
add_member(struct grow *gr, int node)
{
    if (member(gr, node))
        return;
    if (gr->n_nodes == MAX_MEMBERS) {
        gr->bad = true;
        return;
    }
    gr->nodes[gr->n_nodes++] = node;
}

/* A node the pass may take: run by the plan, in no pattern yet, known op. */
static bool
usable(const struct grow *gr, int node)
{
    return node >= 0 && gr->pos[node] >= 0 && !gr->taken[node] && gr->x->g->nodes[node].def &&
           gr->x->g->nodes[node].n_outputs >= 1;
}

/* The computed inputs of node n: their count, the first two in *a, *b. */
static int
computed_inputs(const struct lrpx_exec *x, const struct lrpx_node *n, int *a, int *b)
{
    int k = 0;
    *a = *b = -1;
    for (int i = 0; i < n->n_inputs; i++) {
        if (!computed(x, n->inputs[i]))
            continue;
        if (k == 0)
            *a = n->inputs[i];
        else if (k == 1)
            *b = n->inputs[i];
        k++;
    }
    return k;
}

/* Value s has the shape of c with the last axis 1 (a per-row statistic). */
static bool
row_of(const struct lrpx_exec *x, int s, int c)
{
    const struct lrpx_tensor *ts = &x->vals[s], *tc = &x->vals[c];
    if (ts->rank != tc->rank || tc->rank < 1 || ts->dims[ts->rank - 1] != 1 ||
        tc->dims[tc->rank - 1] <= 1)
        return false;
    for (int d = 0; d + 1 < tc->rank; d++)
        if (ts->dims[d] != tc->dims[d])
            return false;
    return true;
}

/* Walk back from value v: its producer joins when v has exactly one reader
 * (inside the pattern), is not a graph output, and the producer is
 * element-wise with n_same elements out (rows: or any element-wise node,
 * or a reduction of one computed input over its last axis, for the
 * statistic of a norm); otherwise v is a source of the pattern. */
static void
grow_back(struct grow *gr, int v0, int64_t n_same, bool rows)
{
    const struct lrpx_exec  *x = gr->x;
    const struct lrpx_graph *g = x->g;
    int                      stack[MAX_MEMBERS * 4], sp = 0;
    stack[sp++] = v0;
    while (sp > 0 && !gr->bad) {
        int v = stack[--sp];
        if (!computed(x, v))
            continue;
        int                     p  = g->values[v].producer;
        const struct lrpx_node *pn = p >= 0 ? &g->nodes[p] : NULL;
        bool                    ok = pn && usable(gr, p) && only_reader(g, v) >= 0 &&
                  member(gr, only_reader(g, v));
        if (ok) {
            int a, b, k = computed_inputs(x, pn, &a, &b);
            if (pn->def->elementwise)
                ok = rows || count_of(x, v) == n_same;
            else
                ok = rows && k == 1 && pn->n_inputs >= 1 && pn->inputs[0] == a &&
                     row_of(x, v, a);
        }
        if (!ok) {
            if (gr->src >= 0 && gr->src != v)
                gr->bad = true;
            gr->src = v;
            continue;
        }
        if (member(gr, p))
            continue;
        add_member(gr, p);
        for (int i = 0; i < pn->n_inputs; i++)
            if (computed(x, pn->inputs[i])) {
                if (sp == (int)(sizeof stack / sizeof stack[0])) {
                    gr->bad = true;
                    break;
                }
                stack[sp++] = pn->inputs[i];
            }
    }
}

/* Node after value t that continues a tail: its only reader, of op `op`,
 * whose other operands are constants, with t's element count out (Div:
 * t must be the dividend). -1 when there is none. */
static int
tail_step(const struct grow *gr, int t, int op)
{
    const struct lrpx_exec *x = gr->x;
    int                     c = only_reader(x->g, t);
    if (!usable(gr, c))
        return -1;
    const struct lrpx_node *cn = &x->g->nodes[c];
    int a, b;
    if (cn->op != op || cn->n_outputs != 1 || cn->outputs[0] < 0 ||
        computed_inputs(x, cn, &a, &b) != 1 || a != t ||
        count_of(x, cn->outputs[0]) != count_of(x, t))
        return -1;
    if (op == LRPX_OP_DIV && cn->inputs[0] != t)
        return -1;
    return c;
}

/* Every reader of value v is a member. */
static bool
readers_inside(const struct grow *gr, int v)
{
    const struct lrpx_value *val = &gr->x->g->values[v];
    if (val->is_output)
        return false;
    for (int i = 0; i < val->n_consumers; i++)
        if (!member(gr, val->consumers[i]))
            return false;
    return true;
}

/* The constant operand of node k (a Mul with one computed input). */
static int
const_operand(const struct lrpx_exec *x, int k)
{
    const struct lrpx_node *n = &x->g->nodes[k];
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && !computed(x, n->inputs[i]))
            return n->inputs[i];
    return -1;
}

/* NORM anchored at node di (Div or Mul); fills gr, *tail, *cut and the
 * closed-form description in *form (centred, recip, gamma). */
static bool
match_norm(struct grow *gr, int di, int *tail, int *cut, struct lrpx_pattern *form)
{
    const struct lrpx_exec *x = gr->x;
    const struct lrpx_node *d = &x->g->nodes[di];
    int a, b;
    if ((d->op != LRPX_OP_DIV && d->op != LRPX_OP_MUL) || d->n_outputs != 1 ||
        d->outputs[0] < 0 || computed_inputs(x, d, &a, &b) != 2 || d->n_inputs != 2)
        return false;
    int c = d->inputs[0], s = d->inputs[1];
    if (d->op == LRPX_OP_MUL && row_of(x, c, s)) {       /* Mul(r, c) */
        c = d->inputs[1];
        s = d->inputs[0];
    }
    if (!row_of(x, s, c) || count_of(x, d->outputs[0]) != count_of(x, c))
        return false;
    add_member(gr, di);
    grow_back(gr, s, 0, true);
    if (gr->bad || gr->src != c || gr->n_nodes < 2)
        return false;
    /* centring: c = Sub(x, ReduceMean(x)) read only by the pattern */
    int pc = x->g->values[c].producer, src = c;
    if (usable(gr, pc) && readers_inside(gr, c)) {
        const struct lrpx_node *sub = &x->g->nodes[pc];
        int xin = sub->n_inputs == 2 ? sub->inputs[0] : -1;
        int mu  = sub->n_inputs == 2 ? sub->inputs[1] : -1;
        int pm  = mu >= 0 ? x->g->values[mu].producer : -1;
        if (sub->op == LRPX_OP_SUB && computed(x, xin) && computed(x, mu) && row_of(x, mu, xin) &&
            only_reader(x->g, mu) == pc && usable(gr, pm) &&
            x->g->nodes[pm].op == LRPX_OP_REDUCE_MEAN && x->g->nodes[pm].inputs[0] == xin &&
            count_of(x, c) == count_of(x, xin)) {
            add_member(gr, pc);
            add_member(gr, pm);
            src = xin;
            form->centred = true;
        }
    }
    form->recip = d->op == LRPX_OP_MUL;
    /* gamma, then beta */
    int t = d->outputs[0], k;
    if ((k = tail_step(gr, t, LRPX_OP_MUL)) >= 0) {
        add_member(gr, k);
        t = x->g->nodes[k].outputs[0];
        form->gamma = const_operand(x, k);
    }
    if ((k = tail_step(gr, t, LRPX_OP_ADD)) >= 0) {
        add_member(gr, k);
        t = x->g->nodes[k].outputs[0];
    }
    gr->src = src;
    *tail   = t;
    *cut    = s;
    return !gr->bad;
}

/* ACTIVATION anchored at node mi (a Mul of two computed values). */
static bool
match_activation(struct grow *gr, int mi, int *tail)
{
    const struct lrpx_exec *x = gr->x;
    const struct lrpx_node *m = &x->g->nodes[mi];
    int a, b;
    if (m->op != LRPX_OP_MUL || m->n_outputs != 1 || m->outputs[0] < 0 ||
        computed_inputs(x, m, &a, &b) != 2)
        return false;
    int64_t n = count_of(x, m->outputs[0]);
    if (count_of(x, a) != n || count_of(x, b) != n)
        return false;
    add_member(gr, mi);
    grow_back(gr, a, n, false);
    grow_back(gr, b, n, false);
    if (gr->bad || gr->src < 0 || gr->n_nodes < 2 || count_of(x, gr->src) != n)
        return false;
    int t = m->outputs[0], k;
    while ((k = tail_step(gr, t, LRPX_OP_MUL)) >= 0 || (k = tail_step(gr, t, LRPX_OP_DIV)) >= 0) {
        add_member(gr, k);
        if (gr->bad)
            return false;
        t = x->g->nodes[k].outputs[0];
    }
    *tail = t;
    return true;
}

void
lrpx__patterns_free(struct lrpx_pattern *p, int n)
{
    for (int i = 0; p && i < n; i++)
        lrpx__free(p[i].nodes);
    lrpx__free(p);
}

/* Append the pattern in gr; marks its nodes taken. */
static lrpx_status
keep(struct grow *gr, uint8_t *taken, enum lrpx_pattern_kind kind, int tail, int cut,
     const struct lrpx_pattern *form, struct lrpx_pattern **out, int *n_out, int *cap)
{
    if (*n_out == *cap) {
        int   nc = *cap ? *cap * 2 : 8;
        void *np = lrpx__realloc(*out, (size_t)nc * sizeof **out);
        if (!np)
            return LRPX_ENOMEM;
        *out = np;
        *cap = nc;
    }
    /* members in run order */
    for (int i = 1; i < gr->n_nodes; i++)
        for (int j = i; j > 0 && gr->pos[gr->nodes[j]] < gr->pos[gr->nodes[j - 1]]; j--) {
            int t           = gr->nodes[j];
            gr->nodes[j]     = gr->nodes[j - 1];
            gr->nodes[j - 1] = t;
        }
    struct lrpx_pattern *p = &(*out)[*n_out];
    p->nodes = lrpx__malloc((size_t)gr->n_nodes * sizeof *p->nodes);
    if (!p->nodes)
        return LRPX_ENOMEM;
    memcpy(p->nodes, gr->nodes, (size_t)gr->n_nodes * sizeof *p->nodes);
    p->n_nodes = gr->n_nodes;
    p->kind    = kind;
    p->src     = gr->src;
    p->tail    = tail;
    p->cut     = cut;
    p->head    = gr->x->g->values[tail].producer;
    p->centred = form->centred;
    p->recip   = form->recip;
    p->gamma   = form->gamma;
    for (int i = 0; i < gr->n_nodes; i++)
        taken[gr->nodes[i]] = 1;
    (*n_out)++;
    return LRPX_OK;
}

lrpx_status
lrpx__graph_find_patterns(const struct lrpx_exec *x, const int *run, int n_run,
                          struct lrpx_pattern **out, int *n_out)
{
    const struct lrpx_graph *g = x->g;
    *out   = NULL;
    *n_out = 0;
    int     *pos   = lrpx__malloc(((size_t)g->n_nodes + 1) * sizeof *pos);
    uint8_t *taken = lrpx__calloc((size_t)g->n_nodes + 1, 1);
    if (!pos || !taken) {
        lrpx__free(pos);
        lrpx__free(taken);
        return LRPX_ENOMEM;
    }
    for (int i = 0; i < g->n_nodes; i++)
        pos[i] = -1;
    for (int i = 0; i < n_run; i++)
        pos[run[i]] = i;
    lrpx_status rc  = LRPX_OK;
    int         cap = 0;
    for (int pass = 0; pass < LRPX_PATTERN_COUNT && rc == LRPX_OK; pass++) {
        /* activations from the last node back: the outer product of a
         * GELU (x * (1 + tanh(...))) claims its inner ones (x * x * x) */
        for (int k = 0; k < n_run && rc == LRPX_OK; k++) {
            int         i  = pass == LRPX_PATTERN_NORM ? k : n_run - 1 - k;
            struct grow gr = {.x = x, .pos = pos, .taken = taken, .src = -1};
            int         tail = -1, cut = -1;
            struct lrpx_pattern form = {.gamma = -1};
            if (!usable(&gr, run[i]))
                continue;
            bool ok = pass == LRPX_PATTERN_NORM ? match_norm(&gr, run[i], &tail, &cut, &form)
                                                : match_activation(&gr, run[i], &tail);
            if (ok)
                rc = keep(&gr, taken, (enum lrpx_pattern_kind)pass, tail, cut, &form, out, n_out,
                          &cap);
        }
    }
    lrpx__free(pos);
    lrpx__free(taken);
    if (rc != LRPX_OK) {
        lrpx__patterns_free(*out, *n_out);
        *out   = NULL;
        *n_out = 0;
    }
    return rc;
}
