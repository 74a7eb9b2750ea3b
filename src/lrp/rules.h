/* LRP rule configuration per node and the shared rule kernels for linear
 * layers. Formulas and references: docs/lrp.md. */
#ifndef LRPX_RULES_H
#define LRPX_RULES_H

#include "ops/op.h"

/* The rule one node uses in a relevance pass (resolved from the composite
 * and the overrides before the pass starts). */
struct lrpx_rule_cfg {
    lrpx_rule         rule;        /* linear layers                              */
    double            eps;         /* LRP-epsilon; also the stabilizer elsewhere */
    double            gamma;       /* LRP-gamma                                  */
    double            alpha, beta; /* LRP-alpha-beta, alpha - beta = 1           */
    double            low, high;   /* z^B bounds (scalar)                        */
    const float      *low_c;       /* z^B bounds per input channel, or NULL      */
    const float      *high_c;
    int               n_c;
    bool              zero_bias;   /* ignore the bias in the rule                */
    lrpx_maxpool_mode maxpool;     /* MaxPool nodes                               */
    double            stab;        /* stabilizer of proportional splits (Add,    */
                                   /* AveragePool, Sum, ReduceMean), default 1e-6 */
};

/* The rule of node n in the current relevance pass. */
static inline const struct lrpx_rule_cfg *
lrpx__rule(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return &x->rules[lrpx__node_idx(x, n)];
}

/* z + eps * sign(z), with sign(0) = +1 (Zennit's stabilizer). */
static inline double
lrpx__stabilize(double z, double eps)
{
    return z >= 0.0 ? z + eps : z - eps;
}

/* Relevance function of every linear op (struct lrpx_op_def.relevance for
 * Conv, ConvTranspose, Gemm, MatMul): applies the node's rule through the
 * op's lrpx_linear_def. */
lrpx_status lrpx__lrp_linear(struct lrpx_exec *x, const struct lrpx_node *n);

/* Split the relevance of output 0 over the inputs in proportion to their
 * contributions z_ij, stabilized by rule->stab: used by Add, Sum, Mean,
 * AveragePool, GlobalAveragePool, ReduceMean, ReduceSum. contrib(i, j) is
 * supplied by the op through its backward function: see
 * lrpx__lrp_proportional in src/lrp/proportional.c. */

#endif /* LRPX_RULES_H */
