/* Canonizers of the relevance pass: layers that the rules must see as one
 * linear layer although the graph writes them as two nodes.
 *
 * - Bias Add: L -> Add(y, c) with c a constant (TensorFlow-style exports
 *   write Dense as MatMul + Add, and some Conv exports keep the bias in a
 *   separate Add). c becomes part of L's bias.
 * - BatchNormalization: L -> BN with constant statistics. The pair is the
 *   linear layer W' = a W (a = scale / sqrt(var + eps) per output
 *   channel), b' = a (b - mean) + B, as Zennit's SequentialMergeBatchNorm
 *   canonizer merges it. (With the default load options the graph passes
 *   already fold most of these; this catches the rest: fold_batchnorm = 0,
 *   MatMul layers, statistics that only become constant while planning.)
 * - Both, in the order L -> Add -> BN.
 *
 * L is a Conv, ConvTranspose, Gemm or MatMul with a constant weight whose
 * output is read by the absorbed node only (and is not a graph output).
 *
 * How the pass uses it: the absorbed node's relevance function is replaced
 * (struct lrpx_rule_cfg.relevance) by lrpx__lrp_forward_absorbed, which
 * forwards R at the pair's output unchanged to L's output; L's rule then
 * runs with the merged weight and bias, and with z = the pair's output
 * (`tail`, computed by the forward pass) where the rule needs the
 * unmodified output. Conservation per node stays readable: the absorbed
 * node reports r_in = r_out, L reports the pair's loss.
 */
#include <math.h>
#include <string.h>

#include "lrp/lrp_impl.h"
#include "core/linear.h"

lrpx_status
lrpx__lrp_forward_absorbed(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const float *r = lrpx__back_out(x, n, 0);
    if (!r)
        return LRPX_OK;
    int64_t m = lrpx__out(x, n, 0)->n_elems;
    for (int i = 0; i < n->n_inputs; i++) {
        float *ri = lrpx__back_in(x, n, i);
        if (!ri)
            continue;
        if (lrpx__in(x, n, i)->n_elems != m)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "fused node: input %d has %lld values, "
                                    "output %lld", i, (long long)lrpx__in(x, n, i)->n_elems,
                                    (long long)m);
        for (int64_t k = 0; k < m; k++)
            ri[k] += r[k];
    }
    return LRPX_OK;
}

void
lrpx__lrp_linear_release(struct lrpx_lrp_linear *lin)
{
    LRPX_FREE(lin->w_own);
    LRPX_FREE(lin->bn_scale);
    LRPX_FREE(lin->bn_shift);
}

/* The single consumer of value v in the plan, or -1. */
static int
only_consumer(const lrpx_session *s, int v)
{
    const struct lrpx_value *val = &s->model->g.values[v];
    if (val->is_output || val->n_consumers != 1)
        return -1;
    return val->consumers[0];
}

static bool
same_shape(const struct lrpx_tensor *a, const struct lrpx_tensor *b)
{
    return a->rank == b->rank && memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank) == 0;
}

/* Add node ai reading v (L's output) and a float32 constant broadcasting
 * into v's shape: returns the constant's value index, else -1. */
static int
bias_add(const lrpx_session *s, int ai, int v)
{
    const struct lrpx_exec *x = &s->plan.x;
    const struct lrpx_node *a = &s->model->g.nodes[ai];
    if (a->op != LRPX_OP_ADD || a->n_inputs != 2 || a->n_outputs != 1 ||
        a->outputs[0] < 0 || !a->def)
        return -1;
    int c = a->inputs[0] == v ? a->inputs[1] : a->inputs[0];
    if (c < 0 || c == v || (a->inputs[0] != v && a->inputs[1] != v) || !x->known[c])
        return -1;
    const struct lrpx_tensor *ct = &x->vals[c];
    if (ct->dtype != LRPX_DTYPE_FLOAT32 || !ct->data || ct->rank > x->vals[v].rank)
        return -1;
    if (!same_shape(&x->vals[a->outputs[0]], &x->vals[v]))
        return -1;                       /* the constant widens the output */
    return c;
}

/* BN node bi reading value v (the output of linear node li): fill lin's
 * bn_* and w_own; *done false when the node is not an inference BN with
 * constant parameters of v's channels that the layer's weight can take. */
static lrpx_status
merge_bn(lrpx_session *s, int li, int bi, int v, struct lrpx_lrp_linear *lin, bool *done)
{
    const struct lrpx_exec *x  = &s->plan.x;
    const struct lrpx_node *bn = &s->model->g.nodes[bi];
    const struct lrpx_node *n  = &s->model->g.nodes[li];
    *done = false;
    if (!lrpx__bn_is_inference(bn) || bn->inputs[0] != v)
        return LRPX_OK;
    const struct lrpx_tensor *p[4];
    int64_t                   n_c = x->vals[v].rank >= 2 ? x->vals[v].dims[1] : -1;
    for (int k = 0; k < 4; k++) {
        int pv = bn->inputs[k + 1];
        if (pv < 0 || !x->known[pv])
            return LRPX_OK;
        p[k] = &x->vals[pv];
        if (p[k]->dtype != LRPX_DTYPE_FLOAT32 || p[k]->n_elems != n_c || !p[k]->data)
            return LRPX_OK;
    }
    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    const struct lrpx_tensor       *w     = lrpx__in(x, n, roles->w_index);
    struct lrpx_chan_layout         cl;
    if (!n->def->linear->channel_layout ||
        !n->def->linear->channel_layout(n, w, roles->in_index, x->vals[v].rank, &cl) ||
        cl.n_c != n_c)
        return LRPX_OK;

    lin->bn_scale = lrpx__malloc((size_t)n_c * sizeof(float) + 1);
    lin->bn_shift = lrpx__malloc((size_t)n_c * sizeof(float) + 1);
    lin->w_own    = lrpx__malloc((size_t)(w->n_elems ? w->n_elems : 1) * sizeof(float));
    if (!lin->bn_scale || !lin->bn_shift || !lin->w_own) {
        lrpx__lrp_linear_release(lin);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory merging BatchNormalization");
    }
    struct lrpx_bn_params bp = {p[0]->f32, p[1]->f32, p[2]->f32, p[3]->f32,
                                lrpx__attr_float(bn, "epsilon", 1e-5f), n_c};
    lrpx__bn_fold(&bp, w->f32, w->n_elems, &cl, lin->w_own, lin->bn_scale, lin->bn_shift);
    lin->w       = lin->w_own;
    lin->bn_c    = n_c;
    lin->bn_node = bi;
    lin->tail    = bn->outputs[0];
    *done        = true;
    return LRPX_OK;
}

lrpx_status
lrpx__lrp_canonize(lrpx_session *s, int li, struct lrpx_lrp_linear *lin)
{
    const struct lrpx_exec         *x     = &s->plan.x;
    const struct lrpx_node         *n     = &s->model->g.nodes[li];
    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    lin->tail      = n->outputs[0];
    lin->add_node  = lin->add_const = lin->bn_node = -1;
    lin->w         = lrpx__in(x, n, roles->w_index)->f32;
    lin->wscale    = n->def->linear->weight_scale ? n->def->linear->weight_scale(n) : 1.0;
    if (!roles->w_known || n->n_outputs != 1 || n->outputs[0] < 0)
        return LRPX_OK;

    int v  = n->outputs[0];
    int ci = only_consumer(s, v);
    if (ci < 0)
        return LRPX_OK;
    int c = bias_add(s, ci, v);
    if (c >= 0) {
        lin->add_node  = ci;
        lin->add_const = c;
        lin->tail      = s->model->g.nodes[ci].outputs[0];
        v              = lin->tail;
        if ((ci = only_consumer(s, v)) < 0)
            return LRPX_OK;
    }
    bool done;
    return merge_bn(s, li, ci, v, lin, &done);
}
