/* lrpx_model: load a file or buffer, link and sort the graph, check every
 * shape with a trial plan, and answer questions about the model. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "onnx/load.h"
#include "onnx/tensor_pb.h"
#include "core/op.h"

void
lrpx_load_options_default(struct lrpx_load_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_file_bytes   = (int64_t)2 << 30;
    o->max_nodes        = 1000000;
    /* a hostile file of a few bytes can ask for tensors this large (a
     * ConstantOfShape or Expand folded at load), so these stay modest;
     * docs/errors.md, "Limits" */
    o->max_tensor_bytes = (int64_t)1 << 30;
    o->max_total_bytes  = (int64_t)4 << 30;
    o->fold_batchnorm   = 1;
}

static lrpx_model *
model_new(const char *path, const char *dir, const struct lrpx_load_options *opts)
{
    lrpx_model *m = lrpx__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (opts)
        m->opts = *opts;
    else
        lrpx_load_options_default(&m->opts);
    lrpx__arena_init(&m->g.arena, (size_t)m->opts.max_total_bytes);
    m->g.err  = &m->err;
    m->g.path = lrpx__arena_strdup(&m->g.arena, path);
    m->g.dir  = dir ? lrpx__arena_strdup(&m->g.arena, dir) : NULL;
    if (!m->g.path || (dir && !m->g.dir)) {
        lrpx__arena_free(&m->g.arena);
        lrpx__free(m);
        return NULL;
    }
    return m;
}

/* Default shapes for the load-time check: symbolic dims become 1. Returns
 * false when some input has no shape (the check then waits for real
 * inputs). */
static bool
trial_feeds(const lrpx_model *m, struct lrpx_feed *feeds, bool *symbolic)
{
    *symbolic = false;
    const struct lrpx_graph *g = &m->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const struct lrpx_value *val = &g->values[g->inputs[i]];
        if (val->decl_rank < 0 || val->decl_dtype == LRPX_DTYPE_UNDEFINED)
            return false;
        int64_t dims[LRPX_MAX_RANK];
        for (int k = 0; k < val->decl_rank; k++) {
            dims[k] = val->decl_dims[k] >= 0 ? val->decl_dims[k] : 1;
            *symbolic |= val->decl_dims[k] < 0;
        }
        memset(&feeds[i], 0, sizeof feeds[i]);
        feeds[i].value = g->inputs[i];
        if (!lrpx__tensor_shape(&feeds[i].t, val->decl_dtype, val->decl_rank, dims))
            return false;
    }
    return true;
}

static lrpx_status
model_finish(lrpx_model *m, const uint8_t *buf, size_t len)
{
    struct lrpx_graph *g  = &m->g;
    lrpx_status        rc = lrpx__load_graph(buf, len, &m->opts, m->file.mapped ? &m->file : NULL,
                                             g, &m->err);
    if (rc != LRPX_OK)
        return rc;
    if ((rc = lrpx__graph_link(g)) != LRPX_OK)
        return rc;
    int n_removed = 0;
    if ((rc = lrpx__graph_passes(g, m->opts.fold_batchnorm != 0, &n_removed)) != LRPX_OK)
        return rc;
    if ((rc = lrpx__graph_toposort(g)) != LRPX_OK)
        return rc;
    if (m->opts.randomize_layers != 0 &&
        (rc = lrpx__graph_randomize(g, m->opts.randomize_layers, m->opts.randomize_seed,
                                    &m->n_randomized)) != LRPX_OK)
        return rc;
    for (int v = 0; v < g->n_values; v++) {
        const struct lrpx_value *val = &g->values[v];
        if (val->kind == LRPX_VALUE_CONST &&
            (val->data.dtype == LRPX_DTYPE_FLOAT32 || val->data.dtype == LRPX_DTYPE_FLOAT64))
            m->n_params += val->data.n_elems;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].def)
            m->inspect_only = true;
    if (m->inspect_only)
        return LRPX_OK;

    /* shape inference now, so shape errors show at load time */
    struct lrpx_feed *feeds = lrpx__calloc((size_t)g->n_inputs + 1, sizeof *feeds);
    if (!feeds)
        return lrpx__error(&m->err, LRPX_ENOMEM, "%s: out of memory", g->path);
    bool symbolic;
    if (trial_feeds(m, feeds, &symbolic)) {
        struct lrpx_plan p;
        rc = lrpx__plan_build(m, feeds, g->n_inputs, false, false, &p, &m->err);
        if (rc == LRPX_ESHAPE && symbolic) {
            /* a symbolic dimension set to 1 may be what failed (an export
             * with a dynamic batch and a fixed view(2, -1)): the shapes are
             * checked again with the real inputs */
            LRPX_LOG(INFO, "load-time shape check skipped: %s", m->err.msg);
            lrpx__error_clear(&m->err);
            rc = LRPX_OK;
            p.incomplete = true;
        }
        if (rc == LRPX_OK && !p.incomplete) {
            m->folded = lrpx__arena_calloc(&g->arena, (size_t)g->n_nodes + 1, 1);
            if (m->folded)
                memcpy(m->folded, p.folded, (size_t)g->n_nodes);
        }
        lrpx__plan_free(&p);
    }
    lrpx__free(feeds);
    return rc;
}

lrpx_status
lrpx_model_load_buffer(const void *buf, size_t len, const char *base_dir,
                       const struct lrpx_load_options *opts, lrpx_model **out)
{
    *out = model_new("<memory>", base_dir, opts);
    if (!*out)
        return LRPX_ENOMEM;
    if (buf == NULL && len > 0)
        return lrpx__error(&(*out)->err, LRPX_EINVAL, "<memory>: NULL buffer");
    return model_finish(*out, buf, len);
}

lrpx_status
lrpx_model_load_file(const char *path, const struct lrpx_load_options *opts, lrpx_model **out)
{
    if (!path)
        path = "";
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    lrpx_model *m = *out = model_new(path, dir, opts);
    if (!m)
        return LRPX_ENOMEM;
    /* max_file_bytes <= 0 means the default, 2 GiB */
    int64_t                    max = m->opts.max_file_bytes;
    const struct lrpx_file_cap cap = {
        max > 0 && (uint64_t)max < SIZE_MAX ? (size_t)max : (size_t)2 << 30, LRPX_ELIMIT,
        "a model (max_file_bytes)"};
    /* mapped, not read: weights stay in the page cache and the model's
     * tensors point at them where they are aligned (load.c) */
    lrpx_status rc = lrpx__file_map(path, &cap, &m->file, &m->err);
    if (rc != LRPX_OK)
        return rc;
    /* the model is file 0, resolved as the external data files are */
    char real[PATH_MAX];
    if (!lrpx__graph_add_file(&m->g, realpath(path, real) ? real : path))
        return lrpx__error(&m->err, LRPX_ENOMEM, "%s: out of memory", path);
    rc = model_finish(m, m->file.addr, m->file.len);
    if (!m->file.mapped)
        lrpx__file_unmap(&m->file);     /* read, so every tensor was copied */
    return rc;
}

const char *
lrpx_model_errmsg(const lrpx_model *m)
{
    if (!m)
        return "out of memory";
    return m->err.msg;
}

void
lrpx_model_free(lrpx_model *m)
{
    if (!m)
        return;
    lrpx__arena_free(&m->g.arena);
    lrpx__file_unmap(&m->file);
    lrpx__free(m);
}

/* ---- introspection ---- */

int
lrpx_model_n_inputs(const lrpx_model *m)
{
    return m->g.n_inputs;
}

int
lrpx_model_n_outputs(const lrpx_model *m)
{
    return m->g.n_outputs;
}

static void
value_info(const struct lrpx_value *val, lrpx_value_info *out)
{
    memset(out, 0, sizeof *out);
    out->name  = val->name;
    out->dtype = val->decl_dtype;
    out->rank  = val->decl_rank;
    for (int k = 0; k < val->decl_rank && k < LRPX_MAX_RANK; k++) {
        out->dims[k]       = val->decl_dims[k];
        out->dim_params[k] = val->dim_params[k];
    }
}

lrpx_status
lrpx_model_input_info(const lrpx_model *m, int i, lrpx_value_info *out)
{
    if (i < 0 || i >= m->g.n_inputs)
        return LRPX_EINVAL;
    value_info(&m->g.values[m->g.inputs[i]], out);
    return LRPX_OK;
}

lrpx_status
lrpx_model_output_info(const lrpx_model *m, int i, lrpx_value_info *out)
{
    if (i < 0 || i >= m->g.n_outputs)
        return LRPX_EINVAL;
    value_info(&m->g.values[m->g.outputs[i]], out);
    return LRPX_OK;
}

int
lrpx_model_n_files(const lrpx_model *m)
{
    return m ? m->g.n_files : 0;
}

const char *
lrpx_model_file(const lrpx_model *m, int i)
{
    return m && i >= 0 && i < m->g.n_files ? m->g.files[i] : NULL;
}

int64_t
lrpx_model_opset(const lrpx_model *m)
{
    return m->g.opset;
}

int64_t
lrpx_model_n_params(const lrpx_model *m)
{
    return m->n_params;
}

int
lrpx_model_n_randomized(const lrpx_model *m)
{
    return m->n_randomized;
}

int
lrpx_model_n_nodes(const lrpx_model *m, int after_passes)
{
    if (!after_passes)
        return m->g.n_nodes;
    int n = 0;
    for (int i = 0; i < m->g.n_order; i++)
        if (!m->folded || !m->folded[m->g.order[i]])
            n++;
    return n;
}

lrpx_status
lrpx_model_node_info(const lrpx_model *m, int after_passes, int i, lrpx_node_info *out)
{
    const struct lrpx_graph *g = &m->g;
    const struct lrpx_node  *n = NULL;
    if (!after_passes) {
        if (i < 0 || i >= g->n_nodes)
            return LRPX_EINVAL;
        n = &g->nodes[i];
    } else {
        int k = 0;
        for (int j = 0; j < g->n_order && !n; j++) {
            int ni = g->order[j];
            if (m->folded && m->folded[ni])
                continue;
            if (k++ == i)
                n = &g->nodes[ni];
        }
        if (!n)
            return LRPX_EINVAL;
    }
    out->name      = n->name;
    out->op_type   = n->op_type;
    out->supported = n->def != NULL;
    return LRPX_OK;
}
