/* Conv — N-D convolution (1-D, 2-D, 3-D) with groups, strides, dilations,
 * explicit or automatic padding and an optional per-channel bias:
 *   Y[b, m, o] = B[m] + sum_{c in group(m), k} W[m, c, k] X[b, c, o*s - p + k*d]
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Conv.html  (opsets 1, 11;
 *       float32). kernel_shape is optional and checked against W; pads are
 *       ignored when auto_pad is SAME_UPPER, SAME_LOWER or VALID.
 * Kernels: src/ops/kernels/conv_impl.c (im2col + sgemm, pointwise and depthwise
 *       paths).
 * LRP:  a linear layer: lrpx__lrp_linear applies the node's rule through
 *       conv_linear (apply = the convolution with a substitute weight and no
 *       bias, apply_t = its data gradient, add_bias = + B per channel).
 * Backward: gradients for X, and for W and B when they carry one (e.g.
 *       weights fed as graph inputs).
 */
#include <math.h>
#include <stdlib.h>

#include "core/rules.h"
#include "ops/kernels/broadcast_impl.h"
#include "ops/kernels/conv_impl.h"
#include "core/linear.h"
#include "ops/kernels/pgemm_impl.h"

/* How the forward pass runs, chosen per plan in prepare:
 *   CONV_WINOGRAD  Winograd F(2x2, 3x3) from weights transformed once;
 *   CONV_PGEMM     im2col (or the input itself, 1x1) times the weights by
 *                  lrpx__pgemm, on AVX2+FMA CPUs, weights packed once when
 *                  constant, else per call into the scratch;
 *   CONV_PLAIN     im2col + OpenBLAS, and all depthwise convolutions.
 * The LRP hooks use the same kernels as the forward pass with the weight
 * they are given: Winograd where it fits (the weight transformed per call
 * into the scratch; apply_t as the convolution of the adjoint: kernel
 * rotated by 180 degrees, channel axes swapped, padding 2 - pad), else
 * CONV_PGEMM or CONV_PLAIN and the data gradient, so apply() with the real
 * weight reproduces the forward output up to rounding. */
enum conv_algo { CONV_PLAIN, CONV_PGEMM, CONV_WINOGRAD };

/* weights kept prepared per node: the weight and two variants covers every
 * rule (gamma: W+gW+, W+gW-; zbox: W, W+, W-) */
#define CONV_LRP_PREP 3

struct conv_params {
    struct lrpx_linear_roles roles;      /* first member (LRPX_LINEAR_PARAMS) */
    struct lrpx_conv_geom    geom;
    size_t                   scratch;    /* bytes: im2col, then packing    */
    size_t                   pack_off;   /* where packing starts, or 0     */
    enum conv_algo           algo;
    bool                     pgemm;      /* not Winograd: use lrpx__pgemm  */
    float                   *wt;         /* Winograd or packed weights,    */
                                         /* plan arena; NULL: none         */
    bool                     wino_packed;
    /* Winograd in the LRP hooks, with the weight they are given: apply
     * (fwd) on geom, apply_t (bwd) on tgeom, the adjoint as a convolution;
     * transformed into the scratch at u_off (temporary for packing and
     * then the transforms' own scratch at 0) */
    struct lrp_wino {
        bool   on, packed;
        size_t u_off, bytes;
    }                        lrp_fwd, lrp_bwd;
    struct lrpx_conv_geom    tgeom;
    /* a 2-D depthwise stride-1 convolution: its adjoint is the depthwise
     * convolution on tgeom with each kernel rotated by 180 degrees (the
     * bwd form of lrp_prep), used by apply_t and the data gradient */
    bool                     dw_adj;
    /* a 1x1 stride-1 unpadded convolution with the packed product: the
     * adjoint is the product with W^T, packed per group (the bwd form of
     * lrp_prep), used by apply_t */
    bool                     pw_adj;
    size_t                   lrp_scratch; /* bytes the LRP hooks need      */
    /* the LRP hooks' weights, prepared once per plan (x->lrp_wkey: the
     * node's weight and its rule variants, W+, W-, ...): fwd the Winograd
     * transform or the packed form for apply, bwd the Winograd transform
     * of the adjoint (or the rotated depthwise kernels) for apply_t; plan
     * arena, made on first use */
    struct conv_lrp_prep {
        uint64_t key;
        float   *fwd, *bwd;
        bool     failed[2];      /* no memory: prepared per call       */
    }                        lrp_prep[CONV_LRP_PREP];
    /* the data gradient's part when other readers add to the same buffer
     * (conv_bwd_prepared), plan arena, made on first use */
    float                   *gtmp;
    bool                     gtmp_failed;
    /* a Relu or Clip reading output 0, computed here (x->fused), into the
     * buffer of value act_value; act.kind NONE when there is none */
    struct lrpx_act          act;
    int                      act_value;
};
LRPX_LINEAR_PARAMS(struct conv_params);

/* Whether Winograd's 16 products (K = the input channels) go to the packed
 * product: with the AVX2 tiles only from 96 input channels (below, OpenBLAS
 * was faster: docs/performance.md), with the AVX-512 tiles always
 * (LRPX_WINO_K96=1 restores the threshold for comparisons). */
static bool
wino_pgemm_k(const struct lrpx_conv_geom *g)
{
    return g->in_c >= 96 ||
           (lrpx__cpu_has(LRPX_CPU_AVX512F) && getenv("LRPX_WINO_K96") == NULL);
}

/* Scratch layout of Winograd in an LRP hook on geometry g: the larger of
 * the transforms' scratch and the temporary for packing, then U. */
static void
lrp_wino_plan(const struct lrpx_conv_geom *g, bool pgemm, struct lrp_wino *w)
{
    size_t uf, ub, tb, head;

    w->on = false;
    if (!lrpx__winograd_fits(g))
        return;
    w->packed = pgemm && wino_pgemm_k(g);     /* as conv_choose */
    uf        = lrpx__winograd_weight_floats(g, w->packed);
    if (!lrpx__mul_size(uf, sizeof(float), &ub) ||
        !lrpx__mul_size((size_t)16 * (size_t)g->out_c, (size_t)g->in_c * sizeof(float), &tb))
        return;
    head = lrpx__winograd_scratch_bytes(g);
    if (w->packed && tb > head)
        head = tb;
    w->u_off = (head + 63) & ~(size_t)63;
    if (w->u_off < head || w->u_off + ub < ub)
        return;
    w->bytes = w->u_off + ub;
    w->on    = true;
}

/* The adjoint of a 3x3, stride-1, undilated, ungrouped convolution as a
 * convolution: from the output side to the input side, with the kernel
 * rotated by 180 degrees and its channel axes swapped, begin padding
 * 2 - pad (the end padding follows from the sizes). False when it is not
 * one Winograd takes. */
static bool
lrp_adjoint_geom(const struct lrpx_conv_geom *g, struct lrpx_conv_geom *t)
{
    if (!lrpx__winograd_fits(g) || g->pad[1] > 2 || g->pad[2] > 2)
        return false;
    *t = *g;
    t->in_c    = g->out_c;
    t->out_c   = g->in_c;
    t->cin_g   = g->cout_g;
    t->cout_g  = g->cin_g;
    t->in_size = g->out_size;
    t->out_size = g->in_size;
    for (int i = 0; i < LRPX_CONV_MAX_SP; i++) {
        t->in_sp[i]  = g->out_sp[i];
        t->out_sp[i] = g->in_sp[i];
    }
    t->pad[1]    = 2 - g->pad[1];
    t->pad[2]    = 2 - g->pad[2];
    t->pointwise = false;
    t->depthwise = false;
    return lrpx__winograd_fits(t);
}

/* The adjoint of a 2-D depthwise stride-1 convolution (one output
 * channel per input channel) as a depthwise convolution from the output
 * side: the kernels rotated by 180 degrees, begin padding
 * dilation (kernel - 1) - pad. False when it is not of that kind. */
static bool
dw_adjoint_geom(const struct lrpx_conv_geom *g, struct lrpx_conv_geom *t)
{
    if (!g->depthwise || g->cout_g != 1 || g->cin_g != 1 || g->kernel[0] != 1 ||
        g->in_sp[0] != 1 || g->out_sp[0] != 1)
        return false;
    *t = *g;
    for (int i = 1; i < LRPX_CONV_MAX_SP; i++) {
        const int64_t pb = g->dilation[i] * (g->kernel[i] - 1) - g->pad[i];
        if (g->stride[i] != 1 || g->pad[i] < 0 || pb < 0)
            return false;
        t->pad[i]    = pb;
        t->in_sp[i]  = g->out_sp[i];
        t->out_sp[i] = g->in_sp[i];
    }
    t->in_size  = g->out_size;
    t->out_size = g->in_size;
    return true;
}

/* Pick the algorithm, prepare its weights and request the scratch. The
 * weight is transformed or packed only when constant (it is done once,
 * here), and not in the load-time trial plan, which only checks shapes;
 * without the memory for that copy (allocation failure, memory limit)
 * CONV_PGEMM packs per call and Winograd is not used. */
static lrpx_status
conv_choose(struct lrpx_exec *x, const struct lrpx_node *n, struct conv_params *p)
{
    const struct lrpx_conv_geom *g = &p->geom;
    size_t                       bytes, im2col = lrpx__conv_scratch_bytes(g);

    p->algo     = CONV_PLAIN;
    p->pgemm    = lrpx__pgemm_available() && !g->depthwise;
    p->scratch  = im2col;
    if (p->pgemm) {
        p->pack_off = (im2col + 63) & ~(size_t)63;
        if (!lrpx__mul_size(lrpx__conv_packed_floats(g), sizeof(float), &bytes) ||
            p->pack_off + bytes < bytes)
            return lrpx__node_error(x, n, LRPX_ELIMIT, "packed weights too large");
        p->scratch = p->pack_off + bytes;
        p->algo    = CONV_PGEMM;
    }
    lrpx__scratch_request(x, p->scratch);
    p->lrp_scratch = p->scratch;
    lrp_wino_plan(g, p->pgemm, &p->lrp_fwd);
    p->lrp_bwd.on = false;
    p->dw_adj     = false;
    if (lrp_adjoint_geom(g, &p->tgeom))
        lrp_wino_plan(&p->tgeom, p->pgemm, &p->lrp_bwd);
    else
        p->dw_adj = dw_adjoint_geom(g, &p->tgeom);
    p->pw_adj = p->pgemm && g->pointwise && !g->depthwise;
    if (p->lrp_fwd.on && p->lrp_fwd.bytes > p->lrp_scratch)
        p->lrp_scratch = p->lrp_fwd.bytes;
    if (p->lrp_bwd.on && p->lrp_bwd.bytes > p->lrp_scratch)
        p->lrp_scratch = p->lrp_bwd.bytes;
    lrpx__scratch_request(x, p->lrp_scratch);
    if (x->trial || !p->roles.w_known)
        return LRPX_OK;
    /* the 16 products of Winograd have K = in_c: below ~96 input channels
     * OpenBLAS's kernels do them faster (measured, docs/performance.md) */
    const bool wino_pgemm = p->pgemm && wino_pgemm_k(g);
    if (lrpx__winograd_fits(g) &&
        lrpx__mul_size(lrpx__winograd_weight_floats(g, wino_pgemm), sizeof(float), &bytes) &&
        (p->wt = lrpx__arena_alloc(x->arena, bytes)) != NULL) {
        if (lrpx__winograd_weights(g, lrpx__in(x, n, 1)->f32, p->wt, wino_pgemm) != LRPX_OK)
            return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for Winograd weights");
        p->algo        = CONV_WINOGRAD;
        p->wino_packed = wino_pgemm;
        lrpx__scratch_request(x, lrpx__winograd_scratch_bytes(g));
        return LRPX_OK;
    }
    if (p->pgemm && lrpx__mul_size(lrpx__conv_packed_floats(g), sizeof(float), &bytes) &&
        (p->wt = lrpx__arena_alloc(x->arena, bytes)) != NULL)
        lrpx__conv_pack(g, lrpx__in(x, n, 1)->f32, p->wt);
    return LRPX_OK;
}

/* out = conv(in; w) + bias (bias may be NULL) by the plan's algorithm, or
 * (plain) by CONV_PGEMM / CONV_PLAIN with weight w: the LRP hooks; act: the
 * fused activation or NULL */
static void
conv_run(struct lrpx_exec *x, const struct conv_params *p, const float *in, const float *w,
         bool use_wt, const float *bias, float *out, uint8_t *scratch,
         const struct lrpx_act *act)
{
    if (use_wt && p->algo == CONV_WINOGRAD) {
        lrpx__winograd_fwd(&p->geom, in, p->wt, p->wino_packed, bias, out, (float *)scratch,
                           x->pool, act);
    } else if (p->pgemm) {
        float *wp = use_wt && p->wt ? p->wt : (float *)(scratch + p->pack_off);
        if (wp != p->wt)
            lrpx__conv_pack(&p->geom, w, wp);
        lrpx__conv_fwd_packed(&p->geom, in, wp, bias, out, (float *)scratch, x->pool, act);
    } else {
        lrpx__conv_fwd_bias(&p->geom, in, w, bias, out, (float *)scratch, x->pool, act);
    }
}

static lrpx_status
conv_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_dtype(x, n, 1, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
        return rc;

    struct conv_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    int64_t dims[LRPX_MAX_RANK];
    if ((rc = lrpx__conv_prepare_common(x, n, false, &p->geom, &p->roles, dims)) != LRPX_OK)
        return rc;

    if ((rc = conv_choose(x, n, p)) != LRPX_OK)
        return rc;
    p->act_value = lrpx__fuse_act(x, n, &p->act);
    return lrpx__set_output(x, n, 0, LRPX_DTYPE_FLOAT32, lrpx__in(x, n, 0)->rank, dims);
}

static lrpx_status
conv_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const struct lrpx_tensor *b = lrpx__in(x, n, 2);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    lrpx_status rc;

    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    struct lrpx_act act = p->act;
    act.out = p->act_value >= 0 ? x->vals[p->act_value].f32 : NULL;
    conv_run(x, p, lrpx__in(x, n, 0)->f32, lrpx__in(x, n, 1)->f32, true,
             b != NULL ? b->f32 : NULL, y->f32, x->scratch, act.out ? &act : NULL);
    return LRPX_OK;
}

static const float *conv_lrp_prepared(struct lrpx_exec *x, struct conv_params *p,
                                      const float *w, bool bwd, void *scratch);

/* gin = W^T gout for a 1x1 stride-1 convolution, per sample and group,
 * with W^T packed per group in u (conv_lrp_prepared, bwd) */
static void
conv_pointwise_t(struct lrpx_exec *x, const struct conv_params *p, const float *u,
                 const float *gout, float *gin)
{
    const struct lrpx_conv_geom *f   = &p->geom;
    const size_t                 per = lrpx__pgemm_packed_floats(f->cin_g, f->cout_g);
    for (int64_t b = 0; b < f->batch; b++)
        for (int64_t gi = 0; gi < f->group; gi++)
            lrpx__pgemm(x->pool, f->cin_g, f->in_size, f->cout_g, u + (size_t)gi * per,
                        gout + (b * f->out_c + gi * f->cout_g) * f->out_size, f->out_size,
                        NULL, gin + (b * f->in_c + gi * f->cin_g) * f->in_size, f->in_size,
                        NULL);
}

/* Where this node's part of its data input's gradient goes when a kernel
 * writes it rather than adding it: when the node is the only reader of
 * that input, the gradient buffer itself (zeroed for the pass; *sole set),
 * otherwise a buffer of the plan (made once, p->gtmp) whose contents the
 * caller adds. NULL when neither can be had (then the caller falls back to
 * the kernels that add). */
static float *
conv_grad_dest(struct lrpx_exec *x, const struct lrpx_node *n, struct conv_params *p, float *gx,
               bool *sole)
{
    const int v = n->inputs[0];
    if (v < 0)
        return NULL;
    for (int k = 1; k < n->n_inputs; k++)
        if (n->inputs[k] == v)
            return NULL;
    *sole = x->g->values[v].n_consumers == 1;
    if (*sole)
        return gx;
    size_t bytes;
    if (!p->gtmp && !p->gtmp_failed) {
        p->gtmp        = lrpx__mul_size((size_t)x->vals[v].n_elems, sizeof(float), &bytes)
                             ? lrpx__arena_alloc_uninit(x->arena, bytes) : NULL;
        p->gtmp_failed = p->gtmp == NULL;
    }
    return p->gtmp;
}

/* The data gradient by a weight form kept for the plan (as the LRP hooks
 * keep it), written where conv_grad_dest says: the Winograd convolution of
 * the adjoint when it fits, else for a 1x1 stride-1 convolution the
 * product of the packed W^T with the output gradient per sample and group.
 * False when neither applies. */
static bool
conv_bwd_prepared(struct lrpx_exec *x, const struct lrpx_node *n, const float *gy, float *gx)
{
    struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    bool                sole;
    float              *dst;
    if (!p->roles.w_known || !(p->lrp_bwd.on || p->pw_adj) ||
        !(dst = conv_grad_dest(x, n, p, gx, &sole)))
        return false;
    x->lrp_wkey    = LRPX_WKEY_PLAIN;
    const float *u = conv_lrp_prepared(x, p, lrpx__in(x, n, 1)->f32, true, x->scratch);
    x->lrp_wkey    = 0;
    if (!u)
        return false;
    if (p->lrp_bwd.on)
        lrpx__winograd_fwd(&p->tgeom, gy, u, p->lrp_bwd.packed, NULL, dst, (float *)x->scratch,
                           x->pool, NULL);
    else
        conv_pointwise_t(x, p, u, gy, dst);
    if (!sole)
        lrpx__add_scaled(x->pool, gx, dst, x->vals[n->inputs[0]].n_elems, 1.0);
    return true;
}

/* The data gradient of a depthwise stride-1 convolution as the depthwise
 * convolution of the adjoint (rotated kernels kept for the plan), added
 * into gx. False when it does not apply. */
static bool
conv_bwd_dw(struct lrpx_exec *x, const struct lrpx_node *n, const float *gy, float *gx)
{
    struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    if (!p->roles.w_known || !p->dw_adj || n->inputs[0] == n->inputs[1])
        return false;
    x->lrp_wkey    = LRPX_WKEY_PLAIN;
    const float *u = conv_lrp_prepared(x, p, lrpx__in(x, n, 1)->f32, true, x->scratch);
    x->lrp_wkey    = 0;
    if (!u)
        return false;
    lrpx__conv_fwd(&p->tgeom, gy, u, gx, true, x->scratch, x->pool);
    return true;
}

static lrpx_status
conv_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const float *gy = lrpx__back_out(x, n, 0);
    float *gx = lrpx__back_in(x, n, 0);
    float *gw = lrpx__back_in(x, n, 1);
    float *gb = lrpx__back_in(x, n, 2);
    lrpx_status rc;

    if (gy == NULL)
        return LRPX_OK;
    if ((rc = lrpx__conv_check_scratch(x, n, p->scratch)) != LRPX_OK)
        return rc;
    if (gx != NULL && !conv_bwd_prepared(x, n, gy, gx) && !conv_bwd_dw(x, n, gy, gx))
        lrpx__conv_bwd_data(&p->geom, gy, lrpx__in(x, n, 1)->f32, gx, true, x->scratch,
                            x->pool);
    if (gw != NULL)
        lrpx__conv_bwd_weight(&p->geom, lrpx__in(x, n, 0)->f32, gy, gw, x->scratch);
    if (gb != NULL)
        lrpx__channel_bias_grad(gy, gb, p->geom.batch, p->geom.out_c, p->geom.out_size);
    return LRPX_OK;
}

/* ---- linear form for the LRP rules ---- */

/* out = conv(in; w) on g by Winograd with w transformed into the scratch
 * (flip: w is the forward weight and g the adjoint's geometry); false when
 * it cannot be done (the scratch is short, or no memory for packing), out
 * untouched */
static bool
lrp_wino_run(struct lrpx_exec *x, const struct lrp_wino *lw, const struct lrpx_conv_geom *g,
             const float *in, const float *w, bool flip, float *out, void *scratch)
{
    if (!lw->on || scratch == NULL || x->scratch_size < lw->bytes)
        return false;
    float *u = (float *)((uint8_t *)scratch + lw->u_off);
    if (lrpx__winograd_weights_ex(g, w, u, lw->packed, flip, (float *)scratch) != LRPX_OK)
        return false;
    lrpx__winograd_fwd(g, in, u, lw->packed, NULL, out, (float *)scratch, x->pool, NULL);
    return true;
}

/* The prepared form of weight w (key x->lrp_wkey) for apply (bwd false:
 * Winograd on geom, else packed) or apply_t (bwd: Winograd on tgeom),
 * made now if it is new; NULL when there is none (no key, no Winograd or
 * packing for this direction, no memory): the caller prepares per call. */
static const float *
conv_lrp_prepared(struct lrpx_exec *x, struct conv_params *p, const float *w, bool bwd,
                  void *scratch)
{
    const uint64_t         key = x->lrp_wkey;
    const struct lrp_wino *lw  = bwd ? &p->lrp_bwd : &p->lrp_fwd;
    const bool             dw  = bwd && p->dw_adj;
    const bool             pw  = bwd && p->pw_adj && !lw->on;
    if (!key || (!lw->on && !dw && !pw && (bwd || !p->pgemm)) ||
        (scratch == NULL && !dw && !pw) || (lw->on && x->scratch_size < lw->bytes))
        return NULL;
    struct conv_lrp_prep *e = NULL;
    for (int i = 0; i < CONV_LRP_PREP && !e; i++)
        if (p->lrp_prep[i].key == key)
            e = &p->lrp_prep[i];
    for (int i = 0; i < CONV_LRP_PREP && !e; i++)
        if (p->lrp_prep[i].key == 0) {
            e      = &p->lrp_prep[i];
            e->key = key;
        }
    if (!e || e->failed[bwd])
        return NULL;
    float **slot = bwd ? &e->bwd : &e->fwd;
    if (*slot)
        return *slot;
    const struct lrpx_conv_geom *g = bwd ? &p->tgeom : &p->geom;
    size_t bytes;
    float *u = NULL;
    const size_t pw_per = pw ? lrpx__pgemm_packed_floats(p->geom.cin_g, p->geom.cout_g) : 0;
    if (lrpx__mul_size(dw      ? (size_t)(g->out_c * g->k_size)
                       : pw     ? (size_t)p->geom.group * pw_per
                       : lw->on ? lrpx__winograd_weight_floats(g, lw->packed)
                                : lrpx__conv_packed_floats(g), sizeof(float), &bytes))
        u = lrpx__arena_alloc(x->arena, bytes);
    if (u && pw) {
        /* per group, W^T (cin_g x cout_g) packed for products over the plane */
        const struct lrpx_conv_geom *f  = &p->geom;
        float                       *wt = lrpx__malloc((size_t)(f->cin_g * f->cout_g + 1) *
                                                       sizeof(float));
        if (!wt)
            u = NULL;
        for (int64_t gi = 0; wt && gi < f->group; gi++) {
            const float *w_g = w + gi * f->cout_g * f->cin_g;
            for (int64_t o = 0; o < f->cout_g; o++)
                for (int64_t i = 0; i < f->cin_g; i++)
                    wt[i * f->cout_g + o] = w_g[o * f->cin_g + i];
            lrpx__pgemm_pack(wt, f->cout_g, f->cin_g, f->cout_g, f->in_size,
                             u + (size_t)gi * pw_per);
        }
        lrpx__free(wt);
    } else if (u && dw) {
        /* each channel's kernel rotated by 180 degrees */
        const int64_t k = g->k_size;
        for (int64_t m = 0; m < g->out_c; m++)
            for (int64_t i = 0; i < k; i++)
                u[m * k + i] = w[m * k + (k - 1 - i)];
    } else if (u && lw->on &&
               lrpx__winograd_weights_ex(g, w, u, lw->packed, bwd, (float *)scratch) != LRPX_OK)
        u = NULL;      /* the arena keeps the block until the plan goes */
    else if (u && !lw->on)
        lrpx__conv_pack(g, w, u);
    if (!u)
        e->failed[bwd] = true;
    return *slot = u;
}

static bool
conv_prepared(struct lrpx_exec *x, const struct lrpx_node *n, uint64_t key)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    for (int i = 0; i < CONV_LRP_PREP; i++)
        if (key && p->lrp_prep[i].key == key)
            return p->lrp_prep[i].fwd && p->lrp_prep[i].bwd;
    return false;
}

static void
conv_apply(struct lrpx_exec *x, const struct lrpx_node *n, const float *in, const float *w,
           float *out, void *scratch)
{
    struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const float        *u = conv_lrp_prepared(x, p, w, false, scratch);
    if (u && p->lrp_fwd.on) {
        lrpx__winograd_fwd(&p->geom, in, u, p->lrp_fwd.packed, NULL, out, (float *)scratch,
                           x->pool, NULL);
        return;
    }
    if (u) {
        lrpx__conv_fwd_packed(&p->geom, in, u, NULL, out, (float *)scratch, x->pool, NULL);
        return;
    }
    if (lrp_wino_run(x, &p->lrp_fwd, &p->geom, in, w, false, out, scratch))
        return;
    conv_run(x, p, in, w, false, NULL, out, scratch, NULL);
}

static void
conv_apply_t(struct lrpx_exec *x, const struct lrpx_node *n, const float *gout,
             const float *w, float *gin, void *scratch)
{
    struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    const float        *u = conv_lrp_prepared(x, p, w, true, scratch);
    if (u && p->dw_adj) {
        lrpx__conv_fwd(&p->tgeom, gout, u, gin, false, scratch, x->pool);
        return;
    }
    if (u && p->pw_adj && !p->lrp_bwd.on) {
        conv_pointwise_t(x, p, u, gout, gin);
        return;
    }
    if (u) {
        lrpx__winograd_fwd(&p->tgeom, gout, u, p->lrp_bwd.packed, NULL, gin, (float *)scratch,
                           x->pool, NULL);
        return;
    }
    if (lrp_wino_run(x, &p->lrp_bwd, &p->tgeom, gout, w, true, gin, scratch))
        return;
    lrpx__conv_bwd_data(&p->geom, gout, w, gin, false, scratch, x->pool);
}

static void
conv_add_bias(struct lrpx_exec *x, const struct lrpx_node *n, const float *b, float *out)
{
    const struct conv_params *p = LRPX_PARAMS(x, n, struct conv_params);
    lrpx__channel_bias_add(out, b, p->geom.batch, p->geom.out_c, p->geom.out_size);
}

static size_t
conv_scratch_bytes(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return LRPX_PARAMS(x, n, struct conv_params)->lrp_scratch;
}

/* W [M, C/group, k...]: output channel m owns the slice W[m]. */
static bool
conv_channel_layout(const struct lrpx_node *n, const struct lrpx_tensor *w, int in_index,
                    int out_rank, struct lrpx_chan_layout *l)
{
    (void)n;
    (void)out_rank;
    if (in_index != 0 || w->rank < 3 || w->dims[0] < 1)
        return false;
    *l = (struct lrpx_chan_layout){.inner = w->n_elems / w->dims[0], .per = w->dims[0],
                                   .n_c = w->dims[0]};
    return l->inner > 0;
}

static const struct lrpx_linear_def conv_linear = {
    .in_index       = 0,
    .w_index        = 1,
    .b_index        = 2,
    .kind           = LRPX_LAYER_CONV,
    .apply          = conv_apply,
    .apply_t        = conv_apply_t,
    .prepared       = conv_prepared,
    .add_bias       = conv_add_bias,
    .scratch_bytes  = conv_scratch_bytes,
    .channel_layout = conv_channel_layout,
};

const struct lrpx_op_def lrpx__op_conv = {
    .onnx_name     = "Conv",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = conv_prepare,
    .forward       = conv_forward,
    .backward      = conv_backward,
    .relevance     = lrpx__lrp_linear,
    .linear        = &conv_linear,
    .lrp_class     = LRPX_LRP_CLASS_LINEAR,
};
