/* Which inputs of a linear node (Conv, ConvTranspose, Gemm, MatMul) are the
 * data, the weight and the bias in the current plan. The static fields of
 * struct lrpx_linear_def give the usual roles (data 0, weight 1, bias 2);
 * MatMul and Gemm swap data and weight when only the first operand is a
 * constant (y = W x written as MatMul(W, x)), and a missing bias is -1.
 * The LRP kernels should read the roles from here, not from the def. */
#ifndef LRPX_CORE_LINEAR_H
#define LRPX_CORE_LINEAR_H

#include "core/op.h"

/* Stored by prepare as the FIRST member of the params of every op whose
 * def has .linear set. */
struct lrpx_linear_roles {
    int  in_index;     /* data input: apply() maps it to output 0          */
    int  w_index;      /* weight input: apply() takes a substitute for it  */
    int  b_index;      /* bias input, -1 when absent or the op has none    */
    bool w_known;      /* the weight is constant (initializer or folded);  */
                       /* false for e.g. MatMul of two activations, where  */
                       /* the "weight" operand is still an activation      */
};

/* Roles of linear node n in the plan of x (valid after its prepare). */
static inline const struct lrpx_linear_roles *
lrpx__linear_roles(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return (const struct lrpx_linear_roles *)x->params[lrpx__node_idx(x, n)];
}

#endif /* LRPX_CORE_LINEAR_H */
