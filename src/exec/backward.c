/* The reverse-topological executors: the gradient (vector-Jacobian
 * products) and the relevance pass share one driver. Buffers are zeroed,
 * the chosen output is seeded, and nodes are visited in reverse order;
 * each adds into its inputs' buffers, so a value read by several nodes
 * (residual Add, Concat, fan-out) receives the sum. Nodes that nothing
 * reaches are skipped. */
#include <math.h>
#include <string.h>

#include "exec/session.h"
#include "util/parallel.h"
#include "core/rules.h"
#include "core/op.h"
#include "ops/kernels/broadcast_impl.h"

/* ---- shared helper for ops ---- */

lrpx_status
lrpx__back_identity(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const float *go = lrpx__back_out(x, n, 0);
    float       *gi = lrpx__back_in(x, n, 0);
    if (!go || !gi)
        return LRPX_OK;
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    const struct lrpx_tensor *out = lrpx__out(x, n, 0);
    if (in->n_elems != out->n_elems)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "pass-through needs equal sizes (%lld vs %lld)",
                                (long long)in->n_elems, (long long)out->n_elems);
    lrpx__add_scaled(x->pool, gi, go, in->n_elems, 1.0);
    return LRPX_OK;
}

/* ---- buffers ---- */

static lrpx_status
back_oom(lrpx_session *s)
{
    const struct lrpx_arena *a = &s->back_arena;
    if (a->limit_hit)
        return lrpx__error(&s->err, LRPX_ELIMIT,
                           "%s: the backward pass needs more than the memory limit of %lld bytes "
                           "(weights, activations and gradients together)",
                           s->model->g.path, (long long)s->model->opts.max_total_bytes);
    return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the backward pass");
}

static void
zero_range(void *ctx, int64_t i0, int64_t i1)
{
    memset((float *)ctx + i0, 0, (size_t)(i1 - i0) * sizeof(float));
}

/* a[0..n) = 0, large buffers split over the threads */
static void
zero_floats(struct lrpx_pool *pool, float *a, int64_t n)
{
    if (n < (1 << 16))
        memset(a, 0, (size_t)n * sizeof(float));
    else
        lrpx__parallel_for(pool, n, 1 << 15, zero_range, a);
}

/* One float buffer per non-constant float value the plan computes or is
 * fed; NULL for integers and constants (no gradient flows into them). */
static lrpx_status
back_alloc(lrpx_session *s)
{
    struct lrpx_plan        *p = &s->plan;
    struct lrpx_exec        *x = &p->x;
    const struct lrpx_graph *g = x->g;
    if (!s->have_back) {
        /* the buffers share max_total_bytes with the weights and the plan */
        const lrpx_model *m = s->model;
        lrpx__arena_free(&s->back_arena);
        lrpx__arena_init(&s->back_arena,
                         lrpx__budget_left(m->opts.max_total_bytes,
                                           m->g.arena.used_total + p->arena.used_total));
        x->back = lrpx__arena_calloc(&s->back_arena, (size_t)g->n_values + 1, sizeof *x->back);
        if (!x->back)
            return back_oom(s);
        for (int v = 0; v < g->n_values; v++) {
            const struct lrpx_tensor *t = &x->vals[v];
            if (x->known[v] || t->dtype != LRPX_DTYPE_FLOAT32 || !t->data)
                continue;
            x->back[v] = lrpx__arena_calloc(&s->back_arena, (size_t)(t->n_elems ? t->n_elems : 1),
                                            sizeof(float));
            if (!x->back[v])
                return back_oom(s);
        }
        s->have_back = true;
    } else {
        for (int v = 0; v < g->n_values; v++)
            if (x->back[v])
                zero_floats(x->pool, x->back[v], x->vals[v].n_elems);
    }
    size_t nn = (size_t)g->n_nodes + 1;
    lrpx__free(s->r_in);
    lrpx__free(s->r_out);
    lrpx__free(s->visited);
    lrpx__free(s->explained);
    s->r_in      = lrpx__calloc(nn, sizeof *s->r_in);
    s->r_out     = lrpx__calloc(nn, sizeof *s->r_out);
    s->visited   = lrpx__calloc(nn, 1);
    s->explained = lrpx__calloc(nn, sizeof *s->explained);
    s->n_explained = 0;
    if (!s->r_in || !s->r_out || !s->visited || !s->explained)
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the backward pass");
    return LRPX_OK;
}

/* Sum in double, in 8 interleaved partial sums (vectorised; the same
 * order, so the same value, on every CPU and thread count). */
LRPX_TARGET_CLONES
static double
sum_f32(const float *a, int64_t n)
{
    double  p[8] = {0};
    int64_t i    = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            p[j] += a[i + j];
    double s = 0.0;
    for (; i < n; i++)
        s += a[i];
    for (int j = 0; j < 8; j++)
        s += p[j];
    return s;
}

/* Whether input k of n is the first slot that reads its value (a value
 * read twice, as in Mul(x, x), is summed once). */
static bool
first_use(const struct lrpx_node *n, int k)
{
    for (int j = 0; j < k; j++)
        if (n->inputs[j] == n->inputs[k])
            return false;
    return true;
}

lrpx_status
lrpx__exec_backward(lrpx_session *s, enum lrpx_phase phase, int seed_value, const float *seed)
{
    lrpx_status rc = lrpx__session_ensure_run_all(s);
    if (rc != LRPX_OK)
        return rc;
    if ((rc = back_alloc(s)) != LRPX_OK)
        return rc;
    struct lrpx_plan        *p = &s->plan;
    struct lrpx_exec        *x = &p->x;
    const struct lrpx_graph *g = x->g;
    if (!x->back[seed_value])
        return lrpx__error(&s->err, LRPX_EINVAL,
                           "%s: value '%s' is constant or not float32; nothing to explain",
                           g->path, g->values[seed_value].name);
    memcpy(x->back[seed_value], seed, (size_t)x->vals[seed_value].n_elems * sizeof(float));
    s->seed_value = seed_value;
    s->back_phase = phase;
    x->phase      = phase;
    x->grad_mode  = phase == LRPX_PHASE_BACKWARD ? s->grad_mode : LRPX_GRAD_PLAIN;
    x->err        = &s->err;

    /* the sums are for the conservation report (relevance passes only:
     * nothing reads them after a gradient pass); a buffer's sum is kept
     * until a node writes into it (vsum_ok), so each is summed once per
     * node that writes it rather than once per node that reads it */
    const bool sums    = phase == LRPX_PHASE_RELEVANCE;
    uint8_t   *reached = lrpx__calloc((size_t)g->n_values + 1, 1);
    uint8_t   *vsum_ok = sums ? lrpx__calloc((size_t)g->n_values + 1, 1) : NULL;
    double    *vsum    = sums ? lrpx__calloc((size_t)g->n_values + 1, sizeof *vsum) : NULL;
    if (!reached || (sums && (!vsum_ok || !vsum))) {
        lrpx__free(reached);
        lrpx__free(vsum_ok);
        lrpx__free(vsum);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the backward pass");
    }
    reached[seed_value] = 1;
#define VSUM(v) (vsum_ok[v] ? vsum[v] \
                            : (vsum_ok[v] = 1, vsum[v] = sum_f32(x->back[v], x->vals[v].n_elems)))

    /* the node producing the seed comes last in run order among those
     * that matter; everything after it is skipped by `reached` */
    for (int i = p->n_run; i-- > 0;) {
        int                     ni = p->run[i];
        const struct lrpx_node *n  = &g->nodes[ni];
        bool                    any = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && reached[n->outputs[k]])
                any = true;
        if (!any || lrpx__outputs_empty(x, n))
            continue;
        lrpx_status (*fn)(struct lrpx_exec *, const struct lrpx_node *) =
            phase == LRPX_PHASE_RELEVANCE ? n->def->relevance : n->def->backward;
        /* a canonizer may replace it (src/lrp/canonize.c: fused BN / bias) */
        if (phase == LRPX_PHASE_RELEVANCE && x->rules && x->rules[ni].relevance)
            fn = x->rules[ni].relevance;
        if (!fn) {
            rc = lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "%s",
                                  phase != LRPX_PHASE_RELEVANCE ? "this operator has no gradient"
                                  : n->def->lrp_class == LRPX_LRP_CLASS_SOFTMAX
                                      ? "a Softmax inside the network has no rule in this "
                                        "composite (--composite attn_lrp or cp_lrp, or --rule "
                                        "softmax=taylor)"
                                      : "this operator has no relevance rule; it cannot be explained");
            break;
        }
        /* relevance entering the node and leaving it, for conservation; a
         * pattern's head also writes the pattern's source (extra) */
        int extra = phase == LRPX_PHASE_RELEVANCE && x->rules && x->rules[ni].has_extra
                        ? x->rules[ni].extra_value : -1;
        for (int k = 0; k < n->n_inputs && extra >= 0; k++)
            if (n->inputs[k] == extra)
                extra = -1;
        double r_in = 0.0, before = 0.0;
        for (int k = 0; sums && k < n->n_outputs; k++) {
            int v = n->outputs[k];
            if (v >= 0 && x->back[v])
                r_in += VSUM(v);
        }
        for (int k = 0; sums && k <= n->n_inputs; k++) {
            int v = k < n->n_inputs ? n->inputs[k] : extra;
            /* a buffer nothing has written to yet is still zero */
            if (v >= 0 && x->back[v] && (k == n->n_inputs || first_use(n, k)) && reached[v])
                before += VSUM(v);
        }
        rc = fn(x, n);
        if (rc != LRPX_OK)
            break;
        double after = 0.0;
        for (int k = 0; sums && k <= n->n_inputs; k++) {
            int v = k < n->n_inputs ? n->inputs[k] : extra;
            if (v >= 0)
                vsum_ok[v] = 0;     /* written by fn */
        }
        for (int k = 0; k <= n->n_inputs; k++) {
            int v = k < n->n_inputs ? n->inputs[k] : extra;
            if (v >= 0 && x->back[v]) {
                if (sums && (k == n->n_inputs || first_use(n, k)))
                    after += VSUM(v);
                reached[v] = 1;
            }
        }
        s->r_in[ni]                     = r_in;
        s->r_out[ni]                    = after - before;
        s->visited[ni]                  = 1;
        s->explained[s->n_explained++]  = ni;
    }
#undef VSUM
    lrpx__free(reached);
    lrpx__free(vsum_ok);
    lrpx__free(vsum);
    return rc;
}

/* ---- seeding ---- */

int
lrpx__exec_seed_value(lrpx_session *s, const struct lrpx_lrp_options *o)
{
    const struct lrpx_graph *g = &s->model->g;
    int v = g->outputs[0];
    if (o->output_name && o->output_name[0]) {
        v = lrpx__session_value_index(s, o->output_name);
        if (v < 0)
            return -1;
    }
    /* a trailing Softmax/LogSoftmax: explain the logits before it */
    int prod = g->values[v].producer;
    if (o->skip_softmax && prod >= 0 && g->nodes[prod].def &&
        g->nodes[prod].def->output_normalizer && g->nodes[prod].inputs[0] >= 0)
        v = g->nodes[prod].inputs[0];
    const struct lrpx_tensor *t = &s->plan.x.vals[v];
    if (t->dtype != LRPX_DTYPE_FLOAT32 || !t->data) {
        lrpx__error(&s->err, LRPX_EINVAL, "%s: output '%s' is not a float32 tensor", g->path,
                    g->values[v].name);
        return -1;
    }
    return v;
}

lrpx_status
lrpx__exec_seed(lrpx_session *s, const struct lrpx_lrp_options *o, enum lrpx_phase phase,
                int *seed_value, float **seed)
{
    const struct lrpx_graph *g = &s->model->g;
    *seed = NULL;
    lrpx_status rc = lrpx__session_ensure_run_all(s);
    if (rc != LRPX_OK)
        return rc;
    int v = lrpx__exec_seed_value(s, o);
    if (v < 0)
        return LRPX_EINVAL;
    const struct lrpx_tensor *t = &s->plan.x.vals[v];
    int64_t batch   = t->rank >= 2 ? t->dims[0] : 1;
    int64_t classes = batch ? t->n_elems / batch : 0;
    float  *sd      = lrpx__calloc((size_t)(t->n_elems ? t->n_elems : 1), sizeof *sd);
    lrpx__free(s->seed_class);
    lrpx__free(s->seed_logit);
    s->seed_class = lrpx__calloc((size_t)batch + 1, sizeof *s->seed_class);
    s->seed_logit = lrpx__calloc((size_t)batch + 1, sizeof *s->seed_logit);
    if (!sd || !s->seed_class || !s->seed_logit) {
        lrpx__free(sd);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
    }
    s->n_samples = batch;
    if (o->seed == LRPX_SEED_TENSOR) {
        if (!o->seed_data || o->seed_n_elems != t->n_elems) {
            lrpx__free(sd);
            return lrpx__error(&s->err, LRPX_EINVAL,
                               "%s: the output relevance has %lld values, output '%s' has %lld",
                               g->path, (long long)o->seed_n_elems, g->values[v].name,
                               (long long)t->n_elems);
        }
        memcpy(sd, o->seed_data, (size_t)t->n_elems * sizeof *sd);
        for (int64_t b = 0; b < batch; b++) {
            s->seed_class[b] = -1;
            s->seed_logit[b] = sum_f32(sd + b * classes, classes);
        }
    } else {
        if (batch > 0 && classes == 0) {
            /* a class seed needs a class: an empty output has none */
            lrpx__free(sd);
            return lrpx__error(&s->err, LRPX_EINVAL,
                               "%s: output '%.200s' is empty (shape %s): no class to explain",
                               g->path, g->values[v].name,
                               lrpx__dims_str(t->dims, t->rank, (char[128]){0}, 128));
        }
        if (o->seed == LRPX_SEED_TARGETS && (!o->targets || o->n_targets != batch)) {
            lrpx__free(sd);
            return lrpx__error(&s->err, LRPX_EINVAL,
                               "%s: %lld targets for a batch of %lld samples", g->path,
                               (long long)(o->targets ? o->n_targets : 0), (long long)batch);
        }
        for (int64_t b = 0; b < batch; b++) {
            const float *row = t->f32 + b * classes;
            int64_t      c   = 0;
            if (o->seed == LRPX_SEED_TARGET || o->seed == LRPX_SEED_TARGETS) {
                c = o->seed == LRPX_SEED_TARGET ? o->target : o->targets[b];
                if (c < 0 || c >= classes) {
                    lrpx__free(sd);
                    return lrpx__error(&s->err, LRPX_EINVAL,
                                       "%s: target class %lld is out of range (output '%s' has %lld classes)",
                                       g->path, (long long)c, g->values[v].name, (long long)classes);
                }
            } else {
                for (int64_t k = 1; k < classes; k++)
                    if (row[k] > row[c])
                        c = k;
            }
            s->seed_class[b] = c;
            s->seed_logit[b] = row[c];
            sd[b * classes + c] = phase == LRPX_PHASE_RELEVANCE ? row[c] : 1.0f;
        }
    }
    *seed_value = v;
    *seed       = sd;
    return LRPX_OK;
}

/* ---- public gradient API ---- */

lrpx_status
lrpx_session_gradient(lrpx_session *s, const struct lrpx_lrp_options *o)
{
    struct lrpx_lrp_options def;
    if (!o) {
        lrpx_lrp_options_default(&def);
        o = &def;
    }
    int         v;
    float      *seed;
    lrpx_status rc = lrpx__exec_seed(s, o, LRPX_PHASE_BACKWARD, &v, &seed);
    if (rc != LRPX_OK)
        return rc;
    rc = lrpx__exec_backward(s, LRPX_PHASE_BACKWARD, v, seed);
    lrpx__free(seed);
    return rc;
}

static lrpx_status
back_view(const lrpx_session *s, enum lrpx_phase phase, const char *name, lrpx_tensor_view *out)
{
    const struct lrpx_graph *g    = &s->model->g;
    bool                     rel  = phase == LRPX_PHASE_RELEVANCE;
    const char              *what = rel ? "relevance" : "gradient";
    if (!out)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "%s: NULL out", what);
    if (!s->have_back || s->back_phase != phase)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no %s yet: call %s first", what,
                                          rel ? "lrpx_session_explain" : "lrpx_session_gradient");
    if (!name && !g->n_inputs)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "%s: the model has no fed input; "
                                          "name a value", what);
    int v = name ? lrpx__session_value_index(s, name) : g->inputs[0];
    if (v < 0)
        return LRPX_EINVAL;
    if (!s->plan.x.back[v])
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no %s at '%s': the pass does not "
                                          "reach it", what, g->values[v].name);
    const struct lrpx_tensor *t = &s->plan.x.vals[v];
    memset(out, 0, sizeof *out);
    out->dtype   = LRPX_DTYPE_FLOAT32;
    out->rank    = t->rank;
    out->n_elems = t->n_elems;
    out->data    = s->plan.x.back[v];
    memcpy(out->dims, t->dims, sizeof out->dims);
    return LRPX_OK;
}

lrpx_status
lrpx_session_gradient_of(const lrpx_session *s, const char *name, lrpx_tensor_view *out)
{
    return back_view(s, LRPX_PHASE_BACKWARD, name, out);
}

lrpx_status
lrpx_session_relevance(const lrpx_session *s, const char *name, lrpx_tensor_view *out)
{
    return back_view(s, LRPX_PHASE_RELEVANCE, name, out);
}
