/* Graph passes that run once at load, before sorting:
 *
 * - BatchNormalization folding: a BN (inference form, constant statistics)
 *   whose input is the only use of a Conv / ConvTranspose / Gemm output
 *   with constant weights is merged into that layer:
 *       a = scale / sqrt(var + eps)
 *       W'[m, ...] = a[m] W[m, ...]            (per output channel m)
 *       b'[m]      = a[m] (b[m] - mean[m]) + B[m]
 *   The layer then writes the BN's output. This is also the canonizer the
 *   relevance pass wants (Zennit merges BN into the preceding layer the
 *   same way), so explanations of a folded and an unfolded export agree.
 *   Turned off with lrpx_load_options.fold_batchnorm = 0.
 * - Identity and inference-mode Dropout removal: consumers read the input
 *   directly (kept when the output is a graph output).
 *
 * Dead nodes (reaching no output) are dropped by the topological sort and
 * constant subgraphs are folded per input shape by the planner
 * (src/exec/plan.c).
 */
#include <math.h>
#include <string.h>

#include "core/graph.h"

static const struct lrpx_tensor *
const_input(const struct lrpx_graph *g, const struct lrpx_node *n, int i)
{
    if (i >= n->n_inputs || n->inputs[i] < 0)
        return NULL;
    const struct lrpx_value *v = &g->values[n->inputs[i]];
    if (v->kind != LRPX_VALUE_CONST || v->overridable || v->data.dtype != LRPX_DTYPE_FLOAT32)
        return NULL;
    return &v->data;
}

static bool
only_use(const struct lrpx_graph *g, int v, int node)
{
    const struct lrpx_value *val = &g->values[v];
    return !val->is_output && val->n_consumers == 1 && val->consumers[0] == node;
}

/* New constant value with the given shape (float32, zeroed). */
static int
new_const(struct lrpx_graph *g, const char *base, const char *suffix, int rank,
          const int64_t *dims)
{
    if (g->n_values >= g->cap_values)
        return -1;
    int                v   = g->n_values;
    struct lrpx_value *val = &g->values[v];
    memset(val, 0, sizeof *val);
    size_t l  = strlen(base) + strlen(suffix) + 1;
    char  *nm = lrpx__arena_alloc(&g->arena, l);
    if (!nm)
        return -1;
    strcpy(nm, base);
    strcat(nm, suffix);
    val->name     = nm;
    val->kind     = LRPX_VALUE_CONST;
    val->producer = -1;
    if (!lrpx__tensor_shape(&val->data, LRPX_DTYPE_FLOAT32, rank, dims))
        return -1;
    val->data.data = lrpx__arena_calloc(&g->arena, (size_t)val->data.n_elems + 1, sizeof(float));
    if (!val->data.data)
        return -1;
    val->decl_dtype = LRPX_DTYPE_FLOAT32;
    val->decl_rank  = rank;
    memcpy(val->decl_dims, dims, sizeof(int64_t) * (size_t)rank);
    g->n_values++;
    return v;
}

static bool
set_float_attr(struct lrpx_node *n, const char *name, float value)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0 && n->attrs[i].type == LRPX_ATTR_FLOAT) {
            n->attrs[i].f = value;
            return true;
        }
    return false;
}

/* Try to fold BN node `bi`; returns true when done (false: left alone). */
static lrpx_status
fold_bn(struct lrpx_graph *g, int bi, bool *done)
{
    *done                 = false;
    struct lrpx_node *bn  = &g->nodes[bi];
    if (bn->n_inputs != 5 || bn->n_outputs < 1 || bn->outputs[0] < 0)
        return LRPX_OK;
    for (int k = 1; k < bn->n_outputs; k++)
        if (bn->outputs[k] >= 0)
            return LRPX_OK;                      /* training outputs requested */
    if (lrpx__attr_int(bn, "training_mode", 0) != 0 || lrpx__attr_int(bn, "spatial", 1) != 1)
        return LRPX_OK;
    int x = bn->inputs[0];
    if (x < 0 || g->values[x].producer < 0 || !only_use(g, x, bi))
        return LRPX_OK;
    const struct lrpx_tensor *scale = const_input(g, bn, 1), *bias = const_input(g, bn, 2),
                             *mean = const_input(g, bn, 3), *var = const_input(g, bn, 4);
    if (!scale || !bias || !mean || !var)
        return LRPX_OK;
    int64_t C = scale->n_elems;
    if (bias->n_elems != C || mean->n_elems != C || var->n_elems != C)
        return LRPX_OK;
    float eps = lrpx__attr_float(bn, "epsilon", 1e-5f);

    int               li    = g->values[x].producer;
    struct lrpx_node *layer = &g->nodes[li];
    bool is_conv  = strcmp(layer->op_type, "Conv") == 0;
    bool is_convt = strcmp(layer->op_type, "ConvTranspose") == 0;
    bool is_gemm  = strcmp(layer->op_type, "Gemm") == 0;
    if (!layer->def || (!is_conv && !is_convt && !is_gemm) || layer->n_outputs != 1 ||
        layer->outputs[0] != x)
        return LRPX_OK;
    const struct lrpx_tensor *W = const_input(g, layer, 1);
    const struct lrpx_tensor *B = layer->n_inputs > 2 && layer->inputs[2] >= 0
                                      ? const_input(g, layer, 2) : NULL;
    if (!W || (layer->n_inputs > 2 && layer->inputs[2] >= 0 && !B))
        return LRPX_OK;

    /* output channel of each weight element, and the layer's channel count */
    int64_t group = lrpx__attr_int(layer, "group", 1);
    int64_t M, inner = 1, outer = 1, per_group = 0;
    bool    trans_b = false;
    float   beta    = 1.0f;
    if (is_conv) {
        if (W->rank < 3)
            return LRPX_OK;
        M = W->dims[0];
        for (int k = 1; k < W->rank; k++)
            inner *= W->dims[k];
    } else if (is_convt) {
        /* a group count that does not divide the input channels is
         * refused later by ConvTranspose itself; here it would divide by 0 */
        if (W->rank < 3 || group < 1 || group > W->dims[0] || W->dims[0] % group != 0)
            return LRPX_OK;
        per_group = W->dims[1];
        M         = per_group * group;
        outer     = W->dims[0];
        for (int k = 2; k < W->rank; k++)
            inner *= W->dims[k];
    } else {
        if (W->rank != 2 || lrpx__attr_int(layer, "transA", 0) != 0)
            return LRPX_OK;
        trans_b = lrpx__attr_int(layer, "transB", 0) != 0;
        M       = trans_b ? W->dims[0] : W->dims[1];
        beta    = lrpx__attr_float(layer, "beta", 1.0f);
        if (lrpx__attr_float(layer, "alpha", 1.0f) != 1.0f)
            return LRPX_OK;
    }
    if (M != C || (B && B->n_elems != C))
        return LRPX_OK;
    if (is_gemm && lrpx__attr_find(layer, "beta") && !set_float_attr(layer, "beta", beta))
        return LRPX_OK;

    int wv = new_const(g, g->values[layer->inputs[1]].name, ".bnfold", W->rank, W->dims);
    int64_t cdim[1] = {C};
    int bv = new_const(g, layer->name[0] ? layer->name : g->values[x].name, ".bnfold_bias", 1, cdim);
    if (wv < 0 || bv < 0)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory folding BatchNormalization",
                           g->path);
    float       *w2 = g->values[wv].data.f32;
    float       *b2 = g->values[bv].data.f32;
    const float *w  = W->f32;
    for (int64_t m = 0; m < C; m++) {
        double a = scale->f32[m] / sqrt((double)var->f32[m] + eps);
        double b = B ? (double)B->f32[m] * (is_gemm ? beta : 1.0f) : 0.0;
        b2[m]    = (float)(a * (b - mean->f32[m]) + bias->f32[m]);
    }
    for (int64_t i = 0; i < W->n_elems; i++) {
        int64_t m;
        if (is_conv)
            m = i / inner;
        else if (is_convt) {
            int64_t c = i / (per_group * inner), j = (i / inner) % per_group;
            m         = (c / (outer / group)) * per_group + j;
        } else
            m = trans_b ? i / W->dims[1] : i % W->dims[1];
        w2[i] = (float)(w[i] * (scale->f32[m] / sqrt((double)var->f32[m] + eps)));
    }
    if (is_gemm)
        set_float_attr(layer, "beta", 1.0f);

    /* rewire: layer reads W', b' and writes the BN's output */
    int *ins = lrpx__arena_calloc(&g->arena, 4, sizeof(int));
    if (!ins)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory folding BatchNormalization",
                           g->path);
    ins[0]           = layer->inputs[0];
    ins[1]           = wv;
    ins[2]           = bv;
    layer->inputs    = ins;
    layer->n_inputs  = 3;
    int y            = bn->outputs[0];
    layer->outputs[0] = y;
    g->values[y].producer = li;
    g->values[x].producer = -1;
    bn->n_outputs = 0;
    bn->n_inputs  = 0;
    *done         = true;
    return LRPX_OK;
}

static bool
dropout_is_identity(const struct lrpx_graph *g, const struct lrpx_node *n)
{
    if (n->n_outputs > 1 && n->outputs[1] >= 0)
        return false;                    /* mask requested */
    if (n->n_inputs > 2 && n->inputs[2] >= 0) {
        const struct lrpx_value *t = &g->values[n->inputs[2]];
        if (t->kind != LRPX_VALUE_CONST || t->overridable || t->data.n_elems != 1 ||
            lrpx__tensor_get_i64(&t->data, 0) != 0)
            return false;                /* training mode possible */
    }
    return true;   /* inference: Dropout is the identity (as ONNX Runtime) */
}

/* Identity/Dropout removal works on aliases: the node's output becomes an
 * alias of (the value behind) its input, and node inputs are rewritten
 * through the aliases once at the end. Nothing is relinked per node, so a
 * chain of 100k Identity nodes costs O(nodes + values), not O(n^2). */
static int
alias_root(int *alias, int v)
{
    int r = v;
    while (alias[r] >= 0)
        r = alias[r];
    while (alias[v] >= 0) {      /* path compression, iterative */
        int next = alias[v];
        alias[v] = r;
        v        = next;
    }
    return r;
}

/* Bypass node ni (output 0 == input 0): consumers will read the input. */
static bool
bypass(struct lrpx_graph *g, int ni, int *alias)
{
    struct lrpx_node *n = &g->nodes[ni];
    if (n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0)
        return false;
    for (int k = 1; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0)
            return false;            /* extra outputs requested: keep the node */
    int in = alias_root(alias, n->inputs[0]), out = n->outputs[0];
    /* a graph output keeps its node; in == out is a cycle (Identity x -> y,
     * Identity y -> x), left for the topological sort to report */
    if (g->values[out].is_output || in == out)
        return false;
    alias[out]              = in;
    g->values[out].producer = -1;
    n->n_outputs            = 0;
    n->n_inputs             = 0;
    return true;
}

lrpx_status
lrpx__graph_passes(struct lrpx_graph *g, bool fold_batchnorm, int *n_removed)
{
    *n_removed = 0;
    lrpx_status rc;

    /* Identity / inference Dropout */
    int *alias = lrpx__malloc(((size_t)g->n_values + 1) * sizeof *alias);
    if (!alias)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory", g->path);
    for (int v = 0; v < g->n_values; v++)
        alias[v] = -1;
    int n_bypassed = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        struct lrpx_node *n = &g->nodes[i];
        if (!n->def)
            continue;
        if ((strcmp(n->op_type, "Identity") == 0 ||
             (strcmp(n->op_type, "Dropout") == 0 && dropout_is_identity(g, n))) &&
            bypass(g, i, alias))
            n_bypassed++;
    }
    if (n_bypassed) {
        for (int i = 0; i < g->n_nodes; i++)
            for (int k = 0; k < g->nodes[i].n_inputs; k++)
                if (g->nodes[i].inputs[k] >= 0)
                    g->nodes[i].inputs[k] = alias_root(alias, g->nodes[i].inputs[k]);
    }
    lrpx__free(alias);
    if (n_bypassed && (rc = lrpx__graph_link(g)) != LRPX_OK)
        return rc;
    *n_removed += n_bypassed;

    /* BatchNormalization folding. A fold only changes links that later
     * folds do not look at (the BN's input had the BN as its only
     * consumer; weights are constants), so the links are rebuilt once. */
    int n_folded = 0;
    for (int i = 0; i < g->n_nodes && fold_batchnorm; i++) {
        struct lrpx_node *n = &g->nodes[i];
        if (!n->def || strcmp(n->op_type, "BatchNormalization") != 0)
            continue;
        bool done = false;
        if ((rc = fold_bn(g, i, &done)) != LRPX_OK)
            return rc;
        n_folded += done;
    }
    if (n_folded && (rc = lrpx__graph_link(g)) != LRPX_OK)
        return rc;
    *n_removed += n_folded;
    return LRPX_OK;
}
