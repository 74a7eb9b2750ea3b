/* lrpx_session: bind inputs, (re)plan when their shapes change, run the
 * forward pass and hand out views of the results. */
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "core/rules.h"
#include "core/op.h"
#include "util/parallel.h"

lrpx_status
lrpx_session_init(const lrpx_model *m, lrpx_session **out)
{
    lrpx_session *s = *out = lrpx__calloc(1, sizeof *s);
    if (!s)
        return LRPX_ENOMEM;
    s->model      = m;
    s->seed_value = -1;
    s->n_threads  = lrpx__threads_default();
    const char *prof = getenv("LRPX_PROFILE");
    if (prof && strcmp(prof, "1") == 0) {
        s->prof_ns    = lrpx__calloc((size_t)m->g.n_nodes + 1, sizeof *s->prof_ns);
        s->prof_calls = lrpx__calloc((size_t)m->g.n_nodes + 1, sizeof *s->prof_calls);
        if (!s->prof_ns || !s->prof_calls)
            return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
    }
    lrpx__arena_init(&s->back_arena, (size_t)m->opts.max_total_bytes);
    if (m->inspect_only) {
        for (int i = 0; i < m->g.n_nodes; i++)
            if (!m->g.nodes[i].def) {
                char label[512];
                return lrpx__error(&s->err, LRPX_EUNSUPPORTED,
                                   "%s: operator %.100s is not supported at opset %lld",
                                   lrpx__node_label(&m->g, &m->g.nodes[i], label, sizeof label),
                                   m->g.nodes[i].op_type, (long long)m->g.opset);
            }
    }
    /* feeds: graph inputs, then initializers the caller may override */
    int n_over = 0;
    for (int v = 0; v < m->g.n_values; v++)
        n_over += m->g.values[v].overridable;
    s->feeds = lrpx__calloc((size_t)(m->g.n_inputs + n_over) + 1, sizeof *s->feeds);
    if (!s->feeds)
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
    for (int i = 0; i < m->g.n_inputs; i++)
        s->feeds[s->n_feeds++].value = m->g.inputs[i];
    return LRPX_OK;
}

const char *
lrpx_session_errmsg(const lrpx_session *s)
{
    return s ? s->err.msg : "out of memory";
}

static void
back_free(lrpx_session *s)
{
    lrpx__arena_free(&s->back_arena);
    s->have_back  = false;
    s->back_phase = LRPX_PHASE_PREPARE;
    s->plan.x.back = NULL;
}

void
lrpx_session_free(lrpx_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_feeds; i++)
        lrpx__free(s->feeds[i].t.data);
    lrpx__free(s->feeds);
    if (s->have_plan)
        lrpx__plan_free(&s->plan);
    back_free(s);
    lrpx__free(s->rules);
    lrpx__free(s->rule_desc);
    lrpx__free(s->r_in);
    lrpx__free(s->r_out);
    lrpx__free(s->visited);
    lrpx__free(s->seed_class);
    lrpx__free(s->seed_logit);
    lrpx__free(s->explained);
    lrpx__free(s->prof_ns);
    lrpx__free(s->prof_calls);
    for (int i = 0; i < (int)(sizeof s->lrp_buf / sizeof s->lrp_buf[0]); i++)
        lrpx__free(s->lrp_buf[i]);
    lrpx__free(s->attr);
    lrpx__free(s->attr_rep);
    lrpx_session_free(s->aux);
    lrpx__pool_free(s->pool);
    lrpx__free(s);
}

static void
invalidate(lrpx_session *s, bool shapes_changed)
{
    s->ran = false;
    /* the results of the last backward pass are stale; its buffers belong
     * to the plan and are reused (zeroed) while the plan stands */
    if (shapes_changed)
        back_free(s);
    else
        s->back_phase = LRPX_PHASE_PREPARE;
    if (shapes_changed && s->have_plan) {
        lrpx__plan_free(&s->plan);
        s->have_plan = false;
    }
}

lrpx_status
lrpx_session_set_input(lrpx_session *s, const char *name, lrpx_dtype dtype, int rank,
                       const int64_t *dims, const void *data)
{
    const struct lrpx_graph *g = &s->model->g;
    struct lrpx_feed        *f = NULL;
    if (!name) {
        if (s->n_feeds == 0)
            return lrpx__error(&s->err, LRPX_EINVAL, "%s: the model has no inputs to feed", g->path);
        f = &s->feeds[0];
    } else {
        for (int i = 0; i < s->n_feeds && !f; i++)
            if (!s->feeds[i].as_const && strcmp(g->values[s->feeds[i].value].name, name) == 0)
                f = &s->feeds[i];
        if (!f) {
            for (int v = 0; v < g->n_values && !f; v++)
                if (g->values[v].overridable && strcmp(g->values[v].name, name) == 0) {
                    f        = &s->feeds[s->n_feeds++];
                    f->value = v;
                }
        }
        if (!f)
            return lrpx__error(&s->err, LRPX_EINVAL, "%s: the model has no input named '%s'",
                               g->path, name);
    }
    const struct lrpx_value *val = &g->values[f->value];
    if (rank < 0 || rank > LRPX_MAX_RANK || (rank > 0 && !dims))
        return lrpx__error(&s->err, LRPX_EINVAL, "input '%s': bad rank %d", val->name, rank);
    lrpx_dtype want = val->kind == LRPX_VALUE_CONST ? val->data.dtype : val->decl_dtype;
    if (want == LRPX_DTYPE_UNDEFINED)
        want = dtype;
    bool convert = dtype == LRPX_DTYPE_FLOAT64 && want == LRPX_DTYPE_FLOAT32;
    if (dtype != want && !convert)
        return lrpx__error(&s->err, LRPX_EINVAL, "input '%s' has type %s, got %s", val->name,
                           lrpx_dtype_name(want), lrpx_dtype_name(dtype));
    if (lrpx_dtype_size(want) == 0)
        return lrpx__error(&s->err, LRPX_EUNSUPPORTED, "input '%s': type %s is not supported",
                           val->name, lrpx_dtype_name(want));
    /* declared static dims must match; symbolic ones are bound here */
    int         decl_rank = val->kind == LRPX_VALUE_CONST ? val->data.rank : val->decl_rank;
    const int64_t *decl   = val->kind == LRPX_VALUE_CONST ? val->data.dims : val->decl_dims;
    char        d1[128], d2[128];
    if (decl_rank >= 0 && decl_rank != rank)
        return lrpx__error(&s->err, LRPX_ESHAPE, "input '%s' has rank %d, got shape %s", val->name,
                           decl_rank, lrpx__dims_str(dims, rank, d1, sizeof d1));
    for (int k = 0; k < rank; k++) {
        if (dims[k] < 0)
            return lrpx__error(&s->err, LRPX_ESHAPE, "input '%s': negative dimension", val->name);
        if (decl_rank >= 0 && decl[k] >= 0 && decl[k] != dims[k] && val->kind != LRPX_VALUE_CONST)
            return lrpx__error(&s->err, LRPX_ESHAPE, "input '%s' has shape %s, got %s",
                               val->name, lrpx__dims_str(decl, decl_rank, d1, sizeof d1),
                               lrpx__dims_str(dims, rank, d2, sizeof d2));
    }
    struct lrpx_tensor t = {0};
    if (!lrpx__tensor_shape(&t, want, rank, dims))
        return lrpx__error(&s->err, LRPX_ELIMIT, "input '%s': element count overflows", val->name);
    int64_t bytes = lrpx__tensor_bytes(&t);
    if (s->model->opts.max_tensor_bytes > 0 && bytes > s->model->opts.max_tensor_bytes)
        return lrpx__error(&s->err, LRPX_ELIMIT, "input '%s': %lld bytes exceed the tensor limit",
                           val->name, (long long)bytes);
    if (t.n_elems > 0 && !data)
        return lrpx__error(&s->err, LRPX_EINVAL, "input '%s': no data", val->name);
    t.data = lrpx__malloc((size_t)(bytes ? bytes : 1));
    if (!t.data)
        return lrpx__error(&s->err, LRPX_ENOMEM, "input '%s': out of memory", val->name);
    if (convert)
        for (int64_t i = 0; i < t.n_elems; i++)
            t.f32[i] = (float)((const double *)data)[i];
    else if (bytes)
        memcpy(t.data, data, (size_t)bytes);

    bool same = f->set && f->t.rank == rank && memcmp(f->t.dims, t.dims, sizeof t.dims) == 0;
    /* the plan read this input's data (e.g. a fed Reshape shape): re-plan */
    if (s->have_plan && s->plan.x.data_dep[f->value])
        same = false;
    lrpx__free(f->t.data);
    f->t   = t;
    f->set = true;
    invalidate(s, !same);
    return LRPX_OK;
}

lrpx_status
lrpx__session_set_const(lrpx_session *s, int v, const float *data)
{
    const struct lrpx_graph *g = &s->model->g;
    if (v < 0 || v >= g->n_values || g->values[v].kind != LRPX_VALUE_CONST ||
        g->values[v].data.dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(&s->err, LRPX_EINVAL, "%s: value %d is not a float32 constant",
                           g->path, v);
    int k = 0;
    while (k < s->n_feeds && !(s->feeds[k].as_const && s->feeds[k].value == v))
        k++;
    if (!data) {
        if (k < s->n_feeds) {               /* drop it: the model's data again */
            lrpx__free(s->feeds[k].t.data);
            s->feeds[k] = s->feeds[--s->n_feeds];
            s->const_gen++;
            invalidate(s, true);
        }
        return LRPX_OK;
    }
    const struct lrpx_tensor *src = &g->values[v].data;
    if (k == s->n_feeds) {
        /* room for this one and every overridable initializer that
         * lrpx_session_set_input may still append */
        int n_over = 0;
        for (int i = 0; i < g->n_values; i++)
            n_over += g->values[i].overridable;
        struct lrpx_feed *nf =
            lrpx__realloc(s->feeds, (size_t)(s->n_feeds + n_over + 2) * sizeof *nf);
        if (!nf)
            return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
        s->feeds = nf;
        memset(&nf[k], 0, sizeof nf[k]);
        nf[k].t = *src;
        nf[k].t.data = lrpx__malloc((size_t)(src->n_elems ? src->n_elems : 1) * sizeof(float));
        if (!nf[k].t.data)
            return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
        nf[k].value    = v;
        nf[k].set      = true;
        nf[k].as_const = true;
        s->n_feeds++;
    }
    memcpy(s->feeds[k].t.data, data, (size_t)src->n_elems * sizeof(float));
    s->const_gen++;
    invalidate(s, true);                    /* weights are packed per plan */
    return LRPX_OK;
}

int
lrpx__session_n_inputs(const lrpx_session *s)
{
    int n = 0;
    for (int i = 0; i < s->n_feeds; i++)
        n += !s->feeds[i].as_const;
    return n;
}

lrpx_status
lrpx__session_sync_consts(lrpx_session *dst, const lrpx_session *src)
{
    lrpx_status rc = LRPX_OK;
    for (int i = dst->n_feeds - 1; i >= 0 && rc == LRPX_OK; i--) {
        if (!dst->feeds[i].as_const)
            continue;
        bool kept = false;
        for (int k = 0; k < src->n_feeds && !kept; k++)
            kept = src->feeds[k].as_const && src->feeds[k].value == dst->feeds[i].value;
        if (!kept)
            rc = lrpx__session_set_const(dst, dst->feeds[i].value, NULL);
    }
    for (int k = 0; k < src->n_feeds && rc == LRPX_OK; k++)
        if (src->feeds[k].as_const)
            rc = lrpx__session_set_const(dst, src->feeds[k].value, src->feeds[k].t.f32);
    return rc;
}

lrpx_status
lrpx__session_ensure_run(lrpx_session *s)
{
    const struct lrpx_graph *g = &s->model->g;
    if (s->model->inspect_only)
        return lrpx__error(&s->err, LRPX_EUNSUPPORTED,
                           "%s: the model has unsupported operators and can only be inspected",
                           g->path);
    for (int i = 0; i < s->n_feeds; i++)
        if (!s->feeds[i].set)
            return lrpx__error(&s->err, LRPX_EINVAL, "%s: input '%s' was not set", g->path,
                               g->values[s->feeds[i].value].name);
    if (s->ran)
        return LRPX_OK;
    lrpx_status rc;
    if (!s->have_plan) {
        rc = lrpx__plan_build(s->model, s->feeds, s->n_feeds, true,
                              s->keep == LRPX_KEEP_OUTPUTS, &s->plan, &s->err);
        if (rc != LRPX_OK) {
            lrpx__plan_free(&s->plan);
            return rc;
        }
        s->have_plan = true;
    }
    for (int i = 0; i < s->n_feeds; i++)
        s->plan.x.vals[s->feeds[i].value].data = s->feeds[i].t.data;
    /* lrpx splits the work over its own threads; OpenBLAS runs serially
     * inside them (two sets of threads would fight over the cores) */
    if (s->n_threads > 1 && !s->pool)
        s->pool = lrpx__pool_init(s->n_threads);   /* NULL: serial */
    lrpx__threads_blas_serial();
    s->plan.x.err      = &s->err;
    s->plan.x.pool     = s->pool;
    s->plan.x.batch_invariant = s->batch_invariant;
    s->plan.prof_ns    = s->prof_ns;
    s->plan.prof_calls = s->prof_calls;
    rc                 = lrpx__exec_forward(&s->plan);
    if (rc != LRPX_OK)
        return rc;
    s->ran = true;
    return LRPX_OK;
}

lrpx_status
lrpx__session_ensure_run_all(lrpx_session *s)
{
    if (s->keep != LRPX_KEEP_ALL) {
        s->keep = LRPX_KEEP_ALL;
        if (s->have_plan && s->plan.compact)
            invalidate(s, true);
    }
    return lrpx__session_ensure_run(s);
}

lrpx_status
lrpx_session_set_keep(lrpx_session *s, lrpx_keep keep)
{
    if ((unsigned)keep >= LRPX_KEEP_COUNT)
        return lrpx__error(&s->err, LRPX_EINVAL, "lrpx_session_set_keep: unknown mode %d",
                           (int)keep);
    if (keep != s->keep) {
        s->keep = keep;
        if (s->have_plan)
            invalidate(s, true);     /* the buffers are laid out anew */
    }
    return LRPX_OK;
}

lrpx_status
lrpx_session_run(lrpx_session *s)
{
    s->ran        = false;
    s->back_phase = LRPX_PHASE_PREPARE;   /* stale results, buffers kept */
    return lrpx__session_ensure_run(s);
}

static void
make_view(const struct lrpx_tensor *t, lrpx_tensor_view *out)
{
    memset(out, 0, sizeof *out);
    out->dtype   = t->dtype;
    out->rank    = t->rank;
    out->n_elems = t->n_elems;
    out->data    = t->data;
    memcpy(out->dims, t->dims, sizeof out->dims);
}

lrpx_status
lrpx__session_getter_error(const lrpx_session *s, lrpx_status status, const char *fmt, ...)
{
    /* sessions are always made by lrpx_session_init, never const objects */
    struct lrpx_session *w = (struct lrpx_session *)s;
    va_list              ap;
    va_start(ap, fmt);
    lrpx__verror(&w->err, status, fmt, ap);
    va_end(ap);
    return status;
}

lrpx_status
lrpx_session_output(const lrpx_session *s, int i, lrpx_tensor_view *out)
{
    const struct lrpx_graph *g = &s->model->g;
    if (!out)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "lrpx_session_output: NULL out");
    if (!s->ran)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no outputs yet: call "
                                          "lrpx_session_run first");
    if (i < 0 || i >= g->n_outputs)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "output %d is out of range (0..%d)", i,
                                          g->n_outputs - 1);
    make_view(&s->plan.x.vals[g->outputs[i]], out);
    return LRPX_OK;
}

int
lrpx__session_value_index(const lrpx_session *s, const char *name)
{
    const struct lrpx_graph *g = &s->model->g;
    int                      v = lrpx__graph_find_value(g, name);
    if (v < 0)
        lrpx__session_getter_error(s, LRPX_EINVAL, "%s: no value named '%s'", g->path, name);
    return v;
}

lrpx_status
lrpx_session_value(const lrpx_session *s, const char *name, lrpx_tensor_view *out)
{
    if (!name || !out)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "lrpx_session_value: NULL argument");
    if (!s->ran)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no values yet: call "
                                          "lrpx_session_run first");
    int v = lrpx__session_value_index(s, name);
    if (v < 0)
        return LRPX_EINVAL;
    if (!s->plan.x.vals[v].data)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "value '%s' holds no data: the last "
                                          "run did not need it", name);
    if (s->plan.compact && s->plan.shared[v])
        return lrpx__session_getter_error(s, LRPX_EINVAL, "value '%s' was not kept: the "
                                          "session keeps only the outputs "
                                          "(lrpx_session_set_keep)", name);
    make_view(&s->plan.x.vals[v], out);
    return LRPX_OK;
}

lrpx_status
lrpx_session_set_threads(lrpx_session *s, int n_threads)
{
    int n = n_threads <= 0 ? lrpx__threads_default()
          : n_threads > LRPX_MAX_THREADS ? LRPX_MAX_THREADS : n_threads;
    if (n != s->n_threads) {
        lrpx__pool_free(s->pool);
        s->pool        = NULL;
        s->plan.x.pool = NULL;
        s->n_threads   = n;
    }
    return LRPX_OK;
}

void
lrpx_session_set_progress(lrpx_session *s, lrpx_progress_fn fn, void *user)
{
    if (!s)
        return;
    s->progress      = fn;
    s->progress_user = user;
}

void
lrpx__progress_begin(lrpx_session *s, int64_t total)
{
    s->progress_done  = 0;
    s->progress_total = total;
}

void
lrpx__progress_step(lrpx_session *s)
{
    if (s->progress && s->progress_done < s->progress_total)
        s->progress(s->progress_user, ++s->progress_done, s->progress_total);
}

int
lrpx_session_threads(const lrpx_session *s)
{
    return s->n_threads;
}

lrpx_status
lrpx_session_set_batch_invariant(lrpx_session *s, int on)
{
    if (s->batch_invariant != (on != 0)) {
        s->batch_invariant = on != 0;
        s->ran             = false;               /* outputs of the other mode */
        s->back_phase      = LRPX_PHASE_PREPARE;
    }
    return LRPX_OK;
}

int
lrpx_session_profile(const lrpx_session *s, int by_node, lrpx_profile_entry *out, int max)
{
    const struct lrpx_graph *g = &s->model->g;
    int                      n = 0;
    if (!s->prof_ns)
        return 0;
    if (by_node) {
        const struct lrpx_plan *p = &s->plan;
        for (int i = 0; s->have_plan && i < p->n_run; i++) {
            const struct lrpx_node *nd = &g->nodes[p->run[i]];
            if (n < max)
                out[n] = (lrpx_profile_entry){nd->name, nd->op_type, s->prof_calls[p->run[i]],
                                              (double)s->prof_ns[p->run[i]] * 1e-6};
            n++;
        }
        return n;
    }
    for (int op = 0; op < LRPX_OP_COUNT; op++) {
        lrpx_profile_entry e = {NULL, NULL, 0, 0.0};
        for (int i = 0; i < g->n_nodes; i++) {
            if (g->nodes[i].op != op || !s->prof_calls[i])
                continue;
            e.name = e.op_type = g->nodes[i].op_type;
            e.n_calls += s->prof_calls[i];
            e.total_ms += (double)s->prof_ns[i] * 1e-6;
        }
        if (!e.n_calls)
            continue;
        if (n < max)
            out[n] = e;
        n++;
    }
    return n;
}
