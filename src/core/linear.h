/* Which inputs of a linear node (Conv, ConvTranspose, Gemm, MatMul) are the
 * data, the weight and the bias in the current plan. They start as the
 * def's usual roles (struct lrpx_linear_def: data 0, weight 1, bias 2);
 * MatMul and Gemm swap data and weight when only the first operand is a
 * constant (y = W x written as MatMul(W, x)), and a missing bias is -1.
 * The LRP kernels read the roles from here, not from the def. */
#ifndef LRPX_CORE_LINEAR_H
#define LRPX_CORE_LINEAR_H

#include <stddef.h>

#include "core/op.h"

/* Stored by prepare as the FIRST member of the params of every op whose
 * def has .linear set (LRPX_LINEAR_PARAMS checks it at compile time). */
struct lrpx_linear_roles {
    int  in_index;     /* data input: apply() maps it to output 0          */
    int  w_index;      /* weight input: apply() takes a substitute for it  */
    int  b_index;      /* bias input, -1 when absent or the op has none    */
    bool w_known;      /* the weight is constant (initializer or folded);  */
                       /* false for e.g. MatMul of two activations, where  */
                       /* the "weight" operand is still an activation      */
};

/* x->lrp_wkey (core/exec.h) of a linear node's own constant weight, not
 * scaled: the LRP rules and a gradient pass name it the same, so an op
 * keeps one prepared form of it for both. */
#define LRPX_WKEY_PLAIN ((uint64_t)0x9e3779b97f4a7c15ull)

/* Put after the params struct of a linear op. */
#define LRPX_LINEAR_PARAMS(type)                                               \
    _Static_assert(offsetof(type, roles) == 0,                                 \
                   #type ": struct lrpx_linear_roles roles must come first "   \
                   "(lrpx__linear_roles reads it there)")

/* Roles of linear node n in the plan of x (valid after its prepare). */
static inline const struct lrpx_linear_roles *
lrpx__linear_roles(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return (const struct lrpx_linear_roles *)x->params[lrpx__node_idx(x, n)];
}

/* The def's usual roles for node n in plan x, swapped (data <-> weight)
 * when `swap`; the bias role only when the node has that input. */
static inline void
lrpx__linear_roles_init(struct lrpx_linear_roles *r, const struct lrpx_exec *x,
                        const struct lrpx_node *n, bool swap)
{
    const struct lrpx_linear_def *d = n->def->linear;
    r->in_index = swap ? d->w_index : d->in_index;
    r->w_index  = swap ? d->in_index : d->w_index;
    r->b_index  = d->b_index >= 0 && d->b_index < n->n_inputs && n->inputs[d->b_index] >= 0
                      ? d->b_index : -1;
    r->w_known  = lrpx__in_const(x, n, r->w_index);
}

#endif /* LRPX_CORE_LINEAR_H */
