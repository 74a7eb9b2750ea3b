/* Model parameter randomisation (Adebayo et al. 2018, "Sanity checks for
 * saliency maps"): the one routine both users share.
 *
 *   - lrpx_session_evaluate's model-randomisation (src/eval/randomisation.c)
 *     replaces the constants of a second session layer by layer
 *     (lrpx__session_set_const), so the model is never written;
 *   - lrpx_load_options.randomize_layers (lrpx check's randomisation
 *     assertion) draws them into the loaded graph once, after the
 *     BatchNorm folding, so a folded BatchNormalization is randomised with
 *     its layer.
 *
 * The layers are the linear nodes (Conv, ConvTranspose, Gemm, MatMul) with
 * a constant float weight, in execution order. A layer's weight and bias
 * are drawn from PyTorch's default initialisation of Conv and Linear
 * layers, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from lrpx's generator
 * restarted at seed + 1 for every layer (as Quantus's MPRT calls
 * torch.manual_seed(seed + 1) before each layer's reset_parameters): the
 * distribution is PyTorch's, the numbers are not. So a layer gets the same
 * values whichever other layers are randomised, and a run is reproduced
 * exactly by its seed. */
#include <math.h>

#include "core/op.h"

int
lrpx__graph_linear_layers(const struct lrpx_graph *g, struct lrpx_rand_layer *out)
{
    int n = 0;
    for (int oi = 0; oi < g->n_order; oi++) {
        const struct lrpx_node *nd = &g->nodes[g->order[oi]];
        if (!nd->def || !nd->def->linear)
            continue;
        const struct lrpx_linear_def *ld = nd->def->linear;
        int wi = ld->w_index, swap = 0;
        int wv = wi < nd->n_inputs ? nd->inputs[wi] : -1;
        if (wv < 0 || g->values[wv].kind != LRPX_VALUE_CONST) {   /* MatMul(W, x) */
            wv   = ld->in_index < nd->n_inputs ? nd->inputs[ld->in_index] : -1;
            swap = 1;
        }
        if (wv < 0 || g->values[wv].kind != LRPX_VALUE_CONST ||
            g->values[wv].data.dtype != LRPX_DTYPE_FLOAT32 || g->values[wv].data.rank < 1)
            continue;
        /* inputs per output, as PyTorch counts them: Conv [M, C/g, k...]
         * -> C/g * k...; Gemm B [K, N] or [N, K] (transB) -> K; MatMul's
         * weight by the side it multiplies from */
        const struct lrpx_tensor *t = &g->values[wv].data;
        int64_t fan = t->n_elems / (t->dims[0] ? t->dims[0] : 1);
        if (t->rank == 2) {
            bool in_first = nd->op == LRPX_OP_GEMM ? !lrpx__attr_int(nd, "transB", 0) : !swap;
            fan           = in_first ? t->dims[0] : t->dims[1];
        }
        int bv = ld->b_index >= 0 && ld->b_index < nd->n_inputs ? nd->inputs[ld->b_index] : -1;
        if (bv >= 0 && (g->values[bv].kind != LRPX_VALUE_CONST ||
                        g->values[bv].data.dtype != LRPX_DTYPE_FLOAT32))
            bv = -1;
        if (out)
            out[n] = (struct lrpx_rand_layer){g->order[oi], wv, bv, fan > 0 ? fan : 1};
        n++;
    }
    return n;
}

void
lrpx__graph_layer_draw(const struct lrpx_graph *g, const struct lrpx_rand_layer *l,
                       uint64_t seed, float *w, float *b)
{
    struct lrpx_rng rng;
    double          bound = 1.0 / sqrt((double)l->fan_in);
    lrpx__rng_init(&rng, seed + 1, UINT64_MAX - 1, 0);
    int64_t nw = g->values[l->w].data.n_elems;
    for (int64_t i = 0; i < nw; i++)
        w[i] = (float)(bound * (2.0 * lrpx__rng_uniform(&rng) - 1.0));
    int64_t nb = l->b >= 0 ? g->values[l->b].data.n_elems : 0;
    for (int64_t i = 0; i < nb; i++)
        b[i] = (float)(bound * (2.0 * lrpx__rng_uniform(&rng) - 1.0));
}

lrpx_status
lrpx__graph_randomize(struct lrpx_graph *g, int n_layers, uint64_t seed, int *n_done)
{
    *n_done = 0;
    int n   = lrpx__graph_linear_layers(g, NULL);
    if (n == 0)
        return LRPX_OK;
    struct lrpx_rand_layer *l = lrpx__malloc((size_t)n * sizeof *l);
    bool *seen = lrpx__calloc((size_t)g->n_values + 1, sizeof *seen);
    if (!l || !seen) {
        lrpx__free(l);
        lrpx__free(seen);
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory", g->path);
    }
    lrpx__graph_linear_layers(g, l);
    for (int k = n; k-- > 0 && (n_layers < 0 || *n_done < n_layers);) {
        /* a weight shared by two layers (or read as a graph input) keeps
         * the values its first (topmost) layer drew */
        if (seen[l[k].w] || g->values[l[k].w].overridable)
            continue;
        seen[l[k].w] = true;
        bool own_b   = l[k].b >= 0 && !seen[l[k].b] && !g->values[l[k].b].overridable;
        if (own_b)
            seen[l[k].b] = true;
        else
            l[k].b = -1;
        lrpx__graph_layer_draw(g, &l[k], seed, g->values[l[k].w].data.f32,
                               own_b ? g->values[l[k].b].data.f32 : NULL);
        (*n_done)++;
    }
    lrpx__free(l);
    lrpx__free(seen);
    return LRPX_OK;
}
