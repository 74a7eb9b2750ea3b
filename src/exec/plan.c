/* Planning: for one set of input shapes, walk the nodes in topological
 * order, let each op parse its attributes and infer its output shapes
 * (prepare), and compute right away every node whose inputs are all known
 * (constant folding: the Shape → Gather → Concat → Reshape chains of
 * PyTorch exports become constants). Then give every remaining value a
 * buffer from the plan's arena. Also the prepare-time helpers of exec.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exec/session.h"
#include "core/op.h"
#include "ops/kernels/pgemm_impl.h"

/* ---- helpers for ops (exec.h) ---- */

lrpx_status
lrpx__node_error(struct lrpx_exec *x, const struct lrpx_node *n, lrpx_status status,
                 const char *fmt, ...)
{
    char    msg[LRPX_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lrpx__error(x->err, status, "%s: node '%.200s' (#%d, %.100s): %s", x->g->path, n->name,
                       n->index, n->op_type, msg);
}

lrpx_status
lrpx__set_output(struct lrpx_exec *x, const struct lrpx_node *n, int i, lrpx_dtype dtype,
                 int rank, const int64_t *dims)
{
    if (i >= n->n_outputs || n->outputs[i] < 0)
        return LRPX_OK;   /* optional output not requested */
    struct lrpx_tensor *t = &x->vals[n->outputs[i]];
    if (rank < 0 || rank > LRPX_MAX_RANK)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "output %d would have rank %d (maximum %d)",
                                i, rank, LRPX_MAX_RANK);
    for (int k = 0; k < rank; k++)
        if (dims[k] < 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "output %d would have negative dimension %lld",
                                    i, (long long)dims[k]);
    if (!lrpx__tensor_shape(t, dtype, rank, dims))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "output %d: element count overflows", i);
    if (x->max_tensor_bytes > 0 && lrpx__tensor_bytes(t) > x->max_tensor_bytes)
        return lrpx__node_error(x, n, LRPX_ELIMIT, "output %d needs %lld bytes, limit %lld", i,
                                (long long)lrpx__tensor_bytes(t), (long long)x->max_tensor_bytes);
    t->data = NULL;
    return LRPX_OK;
}

lrpx_status
lrpx__set_output_like(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                      const struct lrpx_tensor *from)
{
    return lrpx__set_output(x, n, i, from->dtype, from->rank, from->dims);
}

/* Fuse the first Relu, or Clip with constant bounds, that reads output 0 of
 * n (a Conv, a BatchNormalization): n's forward pass then writes that
 * node's output too while the values are in cache, and the executor skips
 * it (x->fused). Only when n runs (its data input is not a constant) and
 * not in the trial plan. n's own output is stored unchanged: the backward
 * passes need it. Returns the fused node's output value and sets *act (kind
 * LRPX_ACT_NONE and -1 when nothing is fused). */
int
lrpx__fuse_act(struct lrpx_exec *x, const struct lrpx_node *n, struct lrpx_act *act)
{
    const struct lrpx_graph *g = x->g;
    const int                v = n->outputs[0];

    act->kind = LRPX_ACT_NONE;
    act->out  = NULL;
    if (x->trial || v < 0 || n->inputs[0] < 0 || x->known[n->inputs[0]])
        return -1;
    for (int i = 0; i < g->values[v].n_consumers; i++) {
        const int               ci = g->values[v].consumers[i];
        const struct lrpx_node *c  = &g->nodes[ci];
        if (!c->def || c->n_inputs < 1 || c->inputs[0] != v || c->n_outputs < 1 ||
            c->outputs[0] < 0 || x->fused[ci])
            continue;
        float lo = -INFINITY, hi = INFINITY;
        if (c->op == LRPX_OP_RELU) {
            act->kind = LRPX_ACT_RELU;
        } else if (c->op == LRPX_OP_CLIP) {
            bool ok = true;
            if (x->opset < 11) {
                ok = c->n_inputs == 1;
                lo = lrpx__attr_float(c, "min", -INFINITY);
                hi = lrpx__attr_float(c, "max", INFINITY);
            } else {
                for (int k = 1; k <= 2 && ok; k++) {
                    if (k >= c->n_inputs || c->inputs[k] < 0)
                        continue;
                    const struct lrpx_tensor *t = &x->vals[c->inputs[k]];
                    ok = x->known[c->inputs[k]] && t->dtype == LRPX_DTYPE_FLOAT32 &&
                         t->n_elems == 1 && t->data != NULL;
                    if (ok)
                        *(k == 1 ? &lo : &hi) = t->f32[0];
                }
            }
            if (!ok)
                continue;
            act->kind = LRPX_ACT_CLIP;
        } else {
            continue;
        }
        act->lo      = lo;
        act->hi      = hi;
        x->fused[ci] = 1;
        return c->outputs[0];
    }
    return -1;
}

void *
lrpx__params_alloc(struct lrpx_exec *x, const struct lrpx_node *n, size_t size)
{
    void *p = lrpx__arena_alloc(x->arena, size);
    x->params[lrpx__node_idx(x, n)] = p;
    return p;
}

lrpx_status
lrpx__check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i, lrpx_dtype want)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!t)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d is missing", i);
    if (t->dtype != want)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "input %d has type %s, expected %s", i,
                                lrpx_dtype_name(t->dtype), lrpx_dtype_name(want));
    return LRPX_OK;
}

lrpx_status
lrpx__check_float(struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return lrpx__check_dtype(x, n, i, LRPX_DTYPE_FLOAT32);
}

lrpx_status
lrpx__check_rank(struct lrpx_exec *x, const struct lrpx_node *n, int i, int min_rank,
                 int max_rank)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!t)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d is missing", i);
    if (t->rank < min_rank || t->rank > max_rank) {
        char d[128];
        return lrpx__node_error(x, n, LRPX_ESHAPE, "input %d has shape %s (rank %d), expected rank %d..%d",
                                i, lrpx__dims_str(t->dims, t->rank, d, sizeof d), t->rank,
                                min_rank, max_rank);
    }
    return LRPX_OK;
}

bool
lrpx__in_known(struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    if (i >= n->n_inputs || n->inputs[i] < 0)
        return false;
    int v = n->inputs[i];
    if (x->known[v])
        return true;
    if (x->fed[v]) {
        if (x->vals[v].data) {
            x->data_dep[v] = 1;
            return true;
        }
        if (x->trial)
            x->trial_blocked = true;
    }
    return false;
}

lrpx_status
lrpx__broadcast_shape(struct lrpx_exec *x, const struct lrpx_node *n, const struct lrpx_tensor *a,
                      const struct lrpx_tensor *b, int *rank, int64_t *dims)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int k = 0; k < r; k++) {
        int     ia = k - (r - a->rank), ib = k - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            dims[k] = da;
        else if (da == 1)
            dims[k] = db;
        else {
            char s1[128], s2[128];
            return lrpx__node_error(x, n, LRPX_ESHAPE, "shapes %s and %s do not broadcast",
                                    lrpx__dims_str(a->dims, a->rank, s1, sizeof s1),
                                    lrpx__dims_str(b->dims, b->rank, s2, sizeof s2));
        }
    }
    *rank = r;
    return LRPX_OK;
}

/* ---- planning ---- */

size_t
lrpx__budget_left(int64_t max_total, size_t used)
{
    if (max_total <= 0)
        return 0;                       /* no limit */
    if (used >= (size_t)max_total)
        return 1;                       /* spent: every allocation fails */
    return (size_t)max_total - used;
}

/* n: the node whose buffers were being allocated, NULL if none */
static lrpx_status
plan_oom(struct lrpx_plan *p, const lrpx_model *m, struct lrpx_err *err,
         const struct lrpx_node *n)
{
    char label[512];
    if (n)
        lrpx__node_label(&m->g, n, label, sizeof label);
    else
        snprintf(label, sizeof label, "%s", m->g.path);
    if (p->arena.limit_hit)
        return lrpx__error(err, LRPX_ELIMIT,
                           "%s: the model needs more than the memory limit of %lld bytes "
                           "(weights and activations together)",
                           label, (long long)m->opts.max_total_bytes);
    return lrpx__error(err, LRPX_ENOMEM, "%s: out of memory while planning", label);
}

static lrpx_status
alloc_value(struct lrpx_plan *p, const lrpx_model *m, struct lrpx_err *err, int v,
            const struct lrpx_node *n)
{
    struct lrpx_tensor *t = &p->x.vals[v];
    int64_t             bytes = lrpx__tensor_bytes(t);
    t->data = lrpx__arena_alloc(&p->arena, (size_t)(bytes ? bytes : 1));
    if (!t->data)
        return plan_oom(p, m, err, n);
    return LRPX_OK;
}

static lrpx_status
ensure_scratch(struct lrpx_plan *p, const lrpx_model *m, struct lrpx_err *err,
               const struct lrpx_node *n)
{
    struct lrpx_exec *x = &p->x;
    if (x->scratch_need > x->scratch_size) {
        x->scratch = lrpx__arena_alloc(&p->arena, x->scratch_need);
        if (!x->scratch)
            return plan_oom(p, m, err, n);
        x->scratch_size = x->scratch_need;
    }
    return LRPX_OK;
}

/* ---- buffers shared by lifetime (compact plans) ---- */

/* Freed buffers of a compact plan, reused best-fit. */
struct plan_free {
    void  **buf;
    size_t *size;
    int     n;
};

/* The value's buffer: a freed one large enough (the smallest), else new. */
static lrpx_status
alloc_shared(struct lrpx_plan *p, const lrpx_model *m, struct lrpx_err *err, int v,
             const struct lrpx_node *n, struct plan_free *fl, size_t *cap)
{
    struct lrpx_tensor *t    = &p->x.vals[v];
    const size_t        need = (size_t)(lrpx__tensor_bytes(t) ? lrpx__tensor_bytes(t) : 1);
    int                 best = -1;
    for (int i = 0; i < fl->n; i++)
        if (fl->size[i] >= need && (best < 0 || fl->size[i] < fl->size[best]))
            best = i;
    if (best >= 0) {
        t->data   = fl->buf[best];
        cap[v]    = fl->size[best];
        fl->buf[best]  = fl->buf[fl->n - 1];
        fl->size[best] = fl->size[fl->n - 1];
        fl->n--;
        return LRPX_OK;
    }
    cap[v] = need;
    return alloc_value(p, m, err, v, n);
}

/* Give activations buffers by lifetime: a value's buffer returns to the
 * free list after the last node that reads it, and an activation fused
 * into its producer (x->fused) shares the producer's output buffer when
 * that output has no other reader (the kernels write z and then act(z) to
 * the same element; Sigmoid s and then x * s for a fused SiLU Mul). Graph outputs keep their own buffers; shared[v] marks
 * the rest, which a caller cannot read after the run. */
static lrpx_status
plan_alloc_compact(struct lrpx_plan *p, const lrpx_model *m, struct lrpx_err *err)
{
    const struct lrpx_graph *g = &m->g;
    struct lrpx_exec        *x = &p->x;
    lrpx_status              rc = LRPX_OK;
    int   *last  = lrpx__calloc((size_t)g->n_values + 1, sizeof *last);
    size_t *cap  = lrpx__calloc((size_t)g->n_values + 1, sizeof *cap);
    uint8_t *own = lrpx__calloc((size_t)g->n_values + 1, 1);   /* buffer from this pass */
    struct plan_free fl = {lrpx__calloc((size_t)g->n_values + 1, sizeof(void *)),
                           lrpx__calloc((size_t)g->n_values + 1, sizeof(size_t)), 0};
    p->shared = lrpx__arena_calloc(&p->arena, (size_t)g->n_values + 1, 1);
    if (!last || !cap || !own || !fl.buf || !fl.size || !p->shared) {
        rc = plan_oom(p, m, err, NULL);
        goto done;
    }
    /* last reader of each value, in run order (outputs read by none die at
     * their producer) */
    for (int v = 0; v < g->n_values; v++)
        last[v] = -1;
    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n = &g->nodes[p->run[i]];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0)
                last[n->inputs[k]] = i;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && last[n->outputs[k]] < i)
                last[n->outputs[k]] = i;
    }
    for (int i = 0; i < p->n_run && rc == LRPX_OK; i++) {
        const struct lrpx_node *n = &g->nodes[p->run[i]];
        for (int k = 0; k < n->n_outputs && rc == LRPX_OK; k++) {
            const int v = n->outputs[k];
            if (v < 0 || own[v])
                continue;
            rc     = alloc_shared(p, m, err, v, n, &fl, cap);
            own[v] = 1;
            /* an activation this node computes along (fused): its output
             * now, in this buffer when v has no other reader */
            const struct lrpx_value *val = &g->values[v];
            for (int c = 0; c < val->n_consumers && rc == LRPX_OK; c++) {
                const struct lrpx_node *f = &g->nodes[val->consumers[c]];
                const int               a = f->n_outputs > 0 ? f->outputs[0] : -1;
                if (!x->fused[val->consumers[c]] || a < 0 || own[a])
                    continue;
                if (val->n_consumers == 1 && !val->is_output && !g->values[a].is_output &&
                    f->n_inputs >= 1 &&
                    (f->inputs[0] == v || (f->n_inputs == 2 && f->inputs[1] == v)) &&
                    lrpx__tensor_bytes(&x->vals[a]) == lrpx__tensor_bytes(&x->vals[v])) {
                    x->vals[a].data = x->vals[v].data;
                    cap[a]          = cap[v];
                    own[a]          = 2;        /* v's buffer, freed with v at */
                    last[v]         = last[a] > last[v] ? last[a] : last[v];   /* the later end */
                } else {
                    rc     = alloc_shared(p, m, err, a, f, &fl, cap);
                    own[a] = 1;
                    if (last[a] < i)
                        last[a] = i;
                }
            }
        }
        /* values whose last reader is this node give their buffer back
         * (after its outputs got theirs: a node never writes over its
         * inputs) */
        for (int v = 0; v < g->n_values && rc == LRPX_OK; v++) {
            if (own[v] != 1 || last[v] != i || g->values[v].is_output)
                continue;
            own[v]          = 3;                /* freed once */
            fl.buf[fl.n]    = x->vals[v].data;
            fl.size[fl.n++] = cap[v];
        }
    }
    for (int v = 0; v < g->n_values; v++)
        p->shared[v] = own[v] && !g->values[v].is_output;
    p->compact = true;
done:
    lrpx__free(last);
    lrpx__free(cap);
    lrpx__free(own);
    lrpx__free(fl.buf);
    lrpx__free(fl.size);
    return rc;
}

lrpx_status
lrpx__plan_build(const lrpx_model *m, const struct lrpx_feed *feeds, int n_feeds, bool alloc,
                 bool compact, struct lrpx_plan *p, struct lrpx_err *err)
{
    const struct lrpx_graph *g = &m->g;
    memset(p, 0, sizeof *p);
    lrpx__arena_init(&p->arena, lrpx__budget_left(m->opts.max_total_bytes, m->g.arena.used_total));
    struct lrpx_exec *x = &p->x;
    x->g                = g;
    x->err              = err;
    x->opset            = g->opset;
    x->phase            = LRPX_PHASE_PREPARE;
    x->arena            = &p->arena;
    x->max_tensor_bytes = m->opts.max_tensor_bytes;
    x->vals   = lrpx__arena_calloc(&p->arena, (size_t)g->n_values + 1, sizeof *x->vals);
    x->known  = lrpx__arena_calloc(&p->arena, (size_t)g->n_values + 1, 1);
    x->fed      = lrpx__arena_calloc(&p->arena, (size_t)g->n_values + 1, 1);
    x->data_dep = lrpx__arena_calloc(&p->arena, (size_t)g->n_values + 1, 1);
    x->trial    = !alloc;
    x->params = lrpx__arena_calloc(&p->arena, (size_t)g->n_nodes + 1, sizeof *x->params);
    x->fused  = lrpx__arena_calloc(&p->arena, (size_t)g->n_nodes + 1, 1);
    p->run    = lrpx__arena_calloc(&p->arena, (size_t)g->n_nodes + 1, sizeof *p->run);
    p->folded = lrpx__arena_calloc(&p->arena, (size_t)g->n_nodes + 1, 1);
    if (!x->vals || !x->known || !x->fed || !x->data_dep || !x->params || !x->fused || !p->run ||
        !p->folded)
        return plan_oom(p, m, err, NULL);

    for (int v = 0; v < g->n_values; v++) {
        const struct lrpx_value *val = &g->values[v];
        if (val->kind == LRPX_VALUE_CONST) {
            x->vals[v]  = val->data;
            x->known[v] = 1;
        }
    }
    for (int i = 0; i < n_feeds; i++) {
        int v       = feeds[i].value;
        x->vals[v]  = feeds[i].t;      /* shape; data may be NULL (trial) */
        x->known[v] = feeds[i].as_const;
        x->fed[v]   = !feeds[i].as_const;
    }

    lrpx_status rc = LRPX_OK;
    for (int oi = 0; oi < g->n_order; oi++) {
        const struct lrpx_node   *n = &g->nodes[g->order[oi]];
        const struct lrpx_op_def *d = n->def;
        char                      label[512];
        if (!d)
            return lrpx__error(err, LRPX_EUNSUPPORTED, "%s: operator %.100s is not supported at opset %lld",
                               lrpx__node_label(g, n, label, sizeof label), n->op_type,
                               (long long)g->opset);
        /* omitted trailing inputs count as absent */
        int n_in = n->n_inputs;
        while (n_in > 0 && n->inputs[n_in - 1] < 0)
            n_in--;
        if (n_in < d->n_inputs_min || n_in > d->n_inputs_max)
            return lrpx__error(err, LRPX_EPARSE, "%s: has %d inputs, %s takes %d to %d",
                               lrpx__node_label(g, n, label, sizeof label), n_in, d->onnx_name,
                               d->n_inputs_min, d->n_inputs_max);
        if (n->n_outputs < d->n_outputs_min || n->n_outputs > d->n_outputs_max)
            return lrpx__error(err, LRPX_EPARSE, "%s: has %d outputs, %s gives %d to %d",
                               lrpx__node_label(g, n, label, sizeof label), n->n_outputs,
                               d->onnx_name, d->n_outputs_min, d->n_outputs_max);
        /* the first n_inputs_min inputs and n_outputs_min outputs are
         * required: an empty name there is not an omitted optional one,
         * and ops rely on them being present */
        for (int k = 0; k < d->n_inputs_min; k++)
            if (n->inputs[k] < 0)
                return lrpx__error(err, LRPX_EPARSE, "%s: required input %d has no name",
                                   lrpx__node_label(g, n, label, sizeof label), k);
        for (int k = 0; k < d->n_outputs_min; k++)
            if (n->outputs[k] < 0)
                return lrpx__error(err, LRPX_EPARSE, "%s: required output %d has no name",
                                   lrpx__node_label(g, n, label, sizeof label), k);
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && x->vals[n->inputs[k]].dtype == LRPX_DTYPE_UNDEFINED)
                return lrpx__error(err, LRPX_EPARSE, "%s: input '%.200s' has no type (not computed before)",
                                   lrpx__node_label(g, n, label, sizeof label),
                                   g->values[n->inputs[k]].name);
        rc = d->prepare(x, n);
        if (rc != LRPX_OK) {
            if (x->trial && x->trial_blocked) {
                /* the shapes depend on input data not given yet: the check
                 * happens when the session plans with real inputs */
                lrpx__error_clear(err);
                p->incomplete = true;
                return LRPX_OK;
            }
            return rc;
        }
        bool all_known = true;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && !x->known[n->inputs[k]])
                all_known = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && x->vals[n->outputs[k]].dtype == LRPX_DTYPE_UNDEFINED)
                return lrpx__error(err, LRPX_EPARSE, "%s: output %d was not given a type by prepare",
                                   lrpx__node_label(g, n, label, sizeof label), k);
        if (all_known) {
            /* constant folding: compute now, keep the result in the plan */
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k] >= 0 &&
                    (rc = alloc_value(p, m, err, n->outputs[k], n)) != LRPX_OK)
                    return rc;
            if ((rc = ensure_scratch(p, m, err, n)) != LRPX_OK)
                return rc;
            x->phase = LRPX_PHASE_FORWARD;
            rc       = lrpx__outputs_empty(x, n) ? LRPX_OK : d->forward(x, n);
            x->phase = LRPX_PHASE_PREPARE;
            if (rc != LRPX_OK)
                return rc;
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k] >= 0)
                    x->known[n->outputs[k]] = 1;
            p->folded[g->order[oi]] = 1;
        } else {
            p->run[p->n_run++] = g->order[oi];
        }
    }
    if (!alloc)
        return LRPX_OK;
    if (compact) {
        if ((rc = plan_alloc_compact(p, m, err)) != LRPX_OK)
            return rc;
        return ensure_scratch(p, m, err, NULL);
    }

    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n = &g->nodes[p->run[i]];
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 &&
                (rc = alloc_value(p, m, err, n->outputs[k], n)) != LRPX_OK)
                return rc;
    }
    return ensure_scratch(p, m, err, NULL);
}

void
lrpx__plan_free(struct lrpx_plan *p)
{
    lrpx__arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}
