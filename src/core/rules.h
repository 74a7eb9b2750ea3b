/* LRP rule configuration per node and the relevance function of linear
 * layers, as ops see them. Formulas and references: docs/lrp.md; the
 * front end (rule resolution, canonizers, work buffers) is in
 * src/lrp/lrp_impl.h. */
#ifndef LRPX_RULES_H
#define LRPX_RULES_H

#include "core/op.h"

struct lrpx_lrp_linear;

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
                                   /* AveragePool, Sum, ReduceMean) and of the   */
                                   /* non-epsilon linear rules, default 1e-6     */

    /* Set by lrpx_session_explain for one pass; zero/NULL when a caller
     * fills the table itself (tests), which means "no canonizer":
     * relevance  replaces the op's relevance function for this node: a
     *            BatchNormalization or bias Add fused into the linear layer
     *            before it forwards R unchanged (src/lrp/canonize.c);
     * lin        linear nodes: merged parameters of a fused pair and the
     *            shared work buffers (src/lrp/lrp_impl.h). */
    lrpx_status (*relevance)(struct lrpx_exec *x, const struct lrpx_node *n);
    const struct lrpx_lrp_linear *lin;
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

/* Ops whose output sums contributions (Add, Sum, Mean, AveragePool,
 * GlobalAveragePool, ReduceMean, ReduceSum, BatchNormalization as an affine
 * map) split R in proportion to them in their own relevance functions,
 * stabilized with lrpx__stabilize(z, rule->stab); see docs/lrp.md. */

#endif /* LRPX_RULES_H */
