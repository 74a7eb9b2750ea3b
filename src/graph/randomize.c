/* Model parameter randomisation (Adebayo et al. 2018, "Sanity checks for
 * saliency maps"), the cascading top-down form: the weights and biases of
 * the last N linear layers (Conv, ConvTranspose, Gemm, MatMul with a
 * constant weight), counted from the output in execution order, are drawn
 * again from PyTorch's default initialisation of Conv and Linear layers,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both. Runs once at load
 * (lrpx_load_options.randomize_layers), after the BatchNorm folding, so a
 * folded BatchNormalization is randomised with its layer.
 *
 * Layer k from the top draws from its own stream (the seed and k), so the
 * top layers get the same values whatever N is, and a run is reproduced
 * exactly by its seed. The values are not PyTorch's: its generator is not
 * reproduced, only the distribution. */
#include <math.h>

#include "core/op.h"

/* Inputs per output of the weight w of linear node n, as PyTorch counts
 * them for its own layers: Conv weight [M, C/g, k...] -> C/g * k...;
 * Gemm B [N, K] (transB) or [K, N] -> K; MatMul B [..., K, N] -> K. */
static int64_t
fan_in(const struct lrpx_node *n, const struct lrpx_tensor *w)
{
    if (w->rank < 1 || w->dims[0] < 1)
        return 0;
    if (n->op == LRPX_OP_GEMM)
        return w->rank == 2 ? w->dims[lrpx__attr_int(n, "transB", 0) ? 1 : 0] : 0;
    if (n->op == LRPX_OP_MAT_MUL)
        return w->rank >= 2 ? w->dims[w->rank - 2] : w->dims[0];
    return w->n_elems / w->dims[0];
}

static struct lrpx_tensor *
const_f32(struct lrpx_graph *g, const struct lrpx_node *n, int i, bool *seen)
{
    if (i < 0 || i >= n->n_inputs || n->inputs[i] < 0)
        return NULL;
    struct lrpx_value *v = &g->values[n->inputs[i]];
    if (v->kind != LRPX_VALUE_CONST || v->overridable || v->data.dtype != LRPX_DTYPE_FLOAT32 ||
        seen[n->inputs[i]])
        return NULL;
    seen[n->inputs[i]] = true;
    return &v->data;
}

lrpx_status
lrpx__graph_randomize(struct lrpx_graph *g, int n_layers, uint64_t seed, int *n_done)
{
    *n_done    = 0;
    bool *seen = lrpx__calloc((size_t)g->n_values + 1, sizeof *seen);
    if (!seen)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory", g->path);
    for (int k = g->n_order; k-- > 0 && (n_layers < 0 || *n_done < n_layers);) {
        const struct lrpx_node *n = &g->nodes[g->order[k]];
        if (!lrpx__node_is(n, LRPX_LRP_CLASS_LINEAR))
            continue;
        const struct lrpx_linear_def *ld = n->def->linear;
        struct lrpx_tensor           *w  = const_f32(g, n, ld->w_index, seen);
        int64_t                       fi = w ? fan_in(n, w) : 0;
        if (fi < 1)
            continue;
        struct lrpx_tensor *b = const_f32(g, n, ld->b_index, seen);
        struct lrpx_rng     r;
        lrpx__rng_seed(&r, seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(*n_done + 1)));
        double bound = 1.0 / sqrt((double)fi);
        for (int64_t i = 0; i < w->n_elems; i++)
            w->f32[i] = (float)((2.0 * lrpx__rng_uniform(&r) - 1.0) * bound);
        for (int64_t i = 0; b && i < b->n_elems; i++)
            b->f32[i] = (float)((2.0 * lrpx__rng_uniform(&r) - 1.0) * bound);
        (*n_done)++;
    }
    lrpx__free(seen);
    return LRPX_OK;
}
