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

#include "core/op.h"

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

/* ---- BatchNormalization as a per-channel affine map (shared with the
 * LRP canonizer, src/lrp/canonize.c) ---- */

bool
lrpx__bn_is_inference(const struct lrpx_node *bn)
{
    if (bn->op != LRPX_OP_BATCH_NORMALIZATION || bn->n_inputs != 5 || bn->n_outputs < 1 ||
        bn->outputs[0] < 0)
        return false;
    for (int k = 1; k < bn->n_outputs; k++)
        if (bn->outputs[k] >= 0)
            return false;                        /* training outputs requested */
    return lrpx__attr_int(bn, "training_mode", 0) == 0 && lrpx__attr_int(bn, "spatial", 1) == 1;
}

void
lrpx__bn_fold(const struct lrpx_bn_params *p, const float *w, int64_t n_w,
              const struct lrpx_chan_layout *l, float *w_out, float *scale_out,
              float *shift_out)
{
    for (int64_t c = 0; c < p->n_c && (scale_out || shift_out); c++) {
        double a = p->scale[c] / sqrt((double)p->var[c] + p->eps);
        if (scale_out)
            scale_out[c] = (float)a;
        if (shift_out)
            shift_out[c] = (float)(p->bias[c] - a * p->mean[c]);
    }
    /* W' rounded once from double */
    for (int64_t i = 0; i < n_w; i++) {
        int64_t c = lrpx__chan_of(l, i);
        w_out[i]  = (float)(w[i] * (p->scale[c] / sqrt((double)p->var[c] + p->eps)));
    }
}

/* Try to fold BN node `bi` into the linear layer that produces its input;
 * *done says whether it did (false: left alone). */
static lrpx_status
fold_bn(struct lrpx_graph *g, int bi, bool *done)
{
    *done                = false;
    struct lrpx_node *bn = &g->nodes[bi];
    if (!lrpx__bn_is_inference(bn))
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
    struct lrpx_bn_params bp = {scale->f32, bias->f32, mean->f32, var->f32,
                                lrpx__attr_float(bn, "epsilon", 1e-5f), C};

    /* the layer: linear with a bias input, unit scales, and a weight whose
     * slices belong to output channels (axis 1) */
    int                           li    = g->values[x].producer;
    struct lrpx_node             *layer = &g->nodes[li];
    const struct lrpx_linear_def *lin   = layer->def ? layer->def->linear : NULL;
    if (!lin || lin->b_index < 0 || layer->n_outputs != 1 || layer->outputs[0] != x ||
        (lin->weight_scale && lin->weight_scale(layer) != 1.0) ||
        (lin->bias_scale && lin->bias_scale(layer) != 1.0))
        return LRPX_OK;
    const struct lrpx_tensor *W = const_input(g, layer, lin->w_index);
    bool has_b = layer->n_inputs > lin->b_index && layer->inputs[lin->b_index] >= 0;
    const struct lrpx_tensor *B = has_b ? const_input(g, layer, lin->b_index) : NULL;
    struct lrpx_chan_layout   cl;
    if (!W || (has_b && !B) || !lin->channel_layout ||
        !lin->channel_layout(layer, W, lin->in_index, 2, &cl) || cl.n_c != C ||
        (B && B->n_elems != C))
        return LRPX_OK;

    int wv = new_const(g, g->values[layer->inputs[lin->w_index]].name, ".bnfold", W->rank,
                       W->dims);
    int64_t cdim[1] = {C};
    int bv = new_const(g, layer->name[0] ? layer->name : g->values[x].name, ".bnfold_bias", 1, cdim);
    if (wv < 0 || bv < 0)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory folding BatchNormalization",
                           g->path);
    float *b2 = g->values[bv].data.f32;
    lrpx__bn_fold(&bp, W->f32, W->n_elems, &cl, g->values[wv].data.f32, NULL, NULL);
    for (int64_t m = 0; m < C; m++) {
        double a = bp.scale[m] / sqrt((double)bp.var[m] + bp.eps);
        double b = B ? (double)B->f32[m] : 0.0;
        b2[m]    = (float)(a * (b - bp.mean[m]) + bp.bias[m]);
    }

    /* rewire: layer reads W', b' and writes the BN's output */
    int n_in = lin->b_index + 1 > layer->n_inputs ? lin->b_index + 1 : layer->n_inputs;
    int *ins = lrpx__arena_calloc(&g->arena, (size_t)n_in + 1, sizeof(int));
    if (!ins)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory folding BatchNormalization",
                           g->path);
    for (int k = 0; k < n_in; k++)
        ins[k] = k < layer->n_inputs ? layer->inputs[k] : -1;
    ins[lin->w_index]     = wv;
    ins[lin->b_index]     = bv;
    layer->inputs         = ins;
    layer->n_inputs       = n_in;
    int y                 = bn->outputs[0];
    layer->outputs[0]     = y;
    g->values[y].producer = li;
    g->values[x].producer = -1;
    bn->n_outputs = 0;
    bn->n_inputs  = 0;
    *done         = true;
    return LRPX_OK;
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
        if (n->def->inference_identity && n->def->inference_identity(g, n) &&
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
        if (n->op != LRPX_OP_BATCH_NORMALIZATION)
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
