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
    if (strcmp(a->op_type, "Add") != 0 || a->n_inputs != 2 || a->n_outputs != 1 ||
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

/* Output channel (axis 1 of the output) of each weight element, for
 * merging a per-channel scale; false when the layer's layout has no such
 * mapping. */
static bool
channel_of_weight(const struct lrpx_exec *x, const struct lrpx_node *n, int64_t n_c,
                  int64_t *map_inner, int64_t *map_kind)
{
    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    const struct lrpx_tensor       *w     = lrpx__in(x, n, roles->w_index);
    const struct lrpx_tensor       *out   = lrpx__out(x, n, 0);
    if (out->rank < 2 || out->dims[1] != n_c)
        return false;
    if (!strcmp(n->op_type, "Conv")) {
        if (w->rank < 3 || w->dims[0] != n_c)
            return false;
        *map_kind  = 0;
        *map_inner = w->n_elems / (w->dims[0] ? w->dims[0] : 1);
        return true;
    }
    if (!strcmp(n->op_type, "ConvTranspose")) {
        int64_t group = lrpx__attr_int(n, "group", 1);
        if (w->rank < 3 || group < 1 || w->dims[1] * group != n_c || w->dims[0] % group)
            return false;
        *map_kind  = 1;
        *map_inner = group;
        return true;
    }
    if (roles->in_index != 0 || w->rank != 2 || out->rank != 2)
        return false;
    if (!strcmp(n->op_type, "Gemm")) {
        bool tb = lrpx__attr_int(n, "transB", 0) != 0;
        if ((tb ? w->dims[0] : w->dims[1]) != n_c)
            return false;
        *map_kind = tb ? 2 : 3;
        return true;
    }
    if (!strcmp(n->op_type, "MatMul")) {
        if (w->dims[1] != n_c)
            return false;
        *map_kind = 3;
        return true;
    }
    return false;
}

static int64_t
weight_channel(const struct lrpx_tensor *w, int64_t i, int64_t kind, int64_t inner)
{
    switch (kind) {
    case 0:                                /* Conv [M, C/g, k...]       */
        return i / inner;
    case 1: {                              /* ConvTranspose [C, M/g, k] */
        int64_t group = inner, per = w->dims[1], k = 1;
        for (int d = 2; d < w->rank; d++)
            k *= w->dims[d];
        int64_t c = i / (per * k), j = (i / k) % per;
        return (c / (w->dims[0] / group)) * per + j;
    }
    case 2:                                /* Gemm transB [N, K]        */
        return i / w->dims[1];
    default:                               /* [K, N]                    */
        return i % w->dims[1];
    }
}

/* BN node bi reading value v: fill lin's bn_* and w_own; false when the
 * node is not an inference BN with constant parameters of v's channels. */
static lrpx_status
merge_bn(lrpx_session *s, int li, int bi, int v, struct lrpx_lrp_linear *lin, bool *done)
{
    const struct lrpx_exec *x  = &s->plan.x;
    const struct lrpx_node *bn = &s->model->g.nodes[bi];
    const struct lrpx_node *n  = &s->model->g.nodes[li];
    *done = false;
    if (strcmp(bn->op_type, "BatchNormalization") != 0 || !bn->def || bn->n_inputs != 5 ||
        bn->inputs[0] != v || bn->n_outputs < 1 || bn->outputs[0] < 0)
        return LRPX_OK;
    for (int k = 1; k < bn->n_outputs; k++)
        if (bn->outputs[k] >= 0)
            return LRPX_OK;
    if (lrpx__attr_int(bn, "training_mode", 0) != 0 || lrpx__attr_int(bn, "spatial", 1) != 1)
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
    int64_t inner = 1, kind = 0;
    if (!channel_of_weight(x, n, n_c, &inner, &kind))
        return LRPX_OK;

    const struct lrpx_linear_roles *roles = lrpx__linear_roles(x, n);
    const struct lrpx_tensor       *w     = lrpx__in(x, n, roles->w_index);
    double eps = lrpx__attr_float(bn, "epsilon", 1e-5f);
    lin->bn_scale = lrpx__malloc((size_t)n_c * sizeof(float) + 1);
    lin->bn_shift = lrpx__malloc((size_t)n_c * sizeof(float) + 1);
    lin->w_own    = lrpx__malloc((size_t)(w->n_elems ? w->n_elems : 1) * sizeof(float));
    if (!lin->bn_scale || !lin->bn_shift || !lin->w_own) {
        lrpx__lrp_linear_release(lin);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory merging BatchNormalization");
    }
    for (int64_t c = 0; c < n_c; c++) {
        double a = p[0]->f32[c] / sqrt((double)p[3]->f32[c] + eps);
        lin->bn_scale[c] = (float)a;
        lin->bn_shift[c] = (float)(p[1]->f32[c] - a * p[2]->f32[c]);
    }
    /* W' rounded once from double, as the load-time folding does */
    for (int64_t i = 0; i < w->n_elems; i++) {
        int64_t c     = weight_channel(w, i, kind, inner);
        lin->w_own[i] = (float)(w->f32[i] * (p[0]->f32[c] / sqrt((double)p[3]->f32[c] + eps)));
    }
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
    lin->wscale    = 1.0;
    if (!strcmp(n->op_type, "Gemm")) {
        double a    = lrpx__attr_float(n, "alpha", 1.0f);
        lin->wscale = a != 0.0 && isfinite(a) ? a : 1.0;
    }
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
