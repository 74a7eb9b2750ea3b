/* LRP rule configuration per node and the relevance function of linear
 * layers, as ops see them. Formulas and references: docs/lrp.md; the
 * front end (rule resolution, canonizers, work buffers) is in
 * src/lrp/lrp_impl.h. */
#ifndef LRPX_RULES_H
#define LRPX_RULES_H

#include <math.h>

#include "core/op.h"

struct lrpx_lrp_linear;
struct lrpx_lrp_xf;

/* The rule one node uses in a relevance pass (resolved from the composite
 * and the overrides before the pass starts). */
struct lrpx_rule_cfg {
    lrpx_rule         rule;        /* linear layers; the transformer rules of    */
                                   /* bilinear products, Softmax, norms and      */
                                   /* activations (LRPX_RULE_COUNT: none)        */
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
    /* transformer rules (src/lrp/transformer.c): the pattern a node heads
     * and the pass's work buffers; has_extra: the relevance function also
     * adds into value extra_value (a pattern's source), which the driver
     * then counts as one of the node's inputs */
    const struct lrpx_lrp_xf *xf;
    bool              has_extra;
    int               extra_value;
};

/* The rule of node n in the current relevance pass. */
static inline const struct lrpx_rule_cfg *
lrpx__rule(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return &x->rules[lrpx__node_idx(x, n)];
}

/* z + eps * sign(z), with sign(0) = +1 (Zennit's stabilizer). With eps 0
 * (LRP-0, CP-LRP) a zero denominator becomes infinite, so that r / stab
 * is 0 there: a zero output passes no relevance. */
static inline double
lrpx__stabilize(double z, double eps)
{
    double d = z >= 0.0 ? z + eps : z - eps;
    return d != 0.0 ? d : INFINITY;
}

/* ---- the max-pool modes (MaxPool, GlobalMaxPool, ReduceMax, ReduceMin:
 * lrp_class MAXLIKE), written once for every op that pools by a maximum
 * or a minimum. A window is scanned twice: lrpx__maxlike_add over its
 * elements gathers the statistics, then each element receives
 * lrpx__maxlike_share of the window's R (or, when lrpx__maxlike_single,
 * all of R goes to the element `arg`). ---- */

struct lrpx_maxlike {
    double  best, sum;   /* the extremum; the sum of the window's values  */
    int64_t arg;         /* position of the first extremum, -1: empty      */
    int64_t ties;        /* elements equal to best                         */
    bool    is_max;      /* maximum (pools, ReduceMax) or minimum          */
};

static inline void
lrpx__maxlike_init(struct lrpx_maxlike *m, bool is_max)
{
    m->best = m->sum = 0.0;
    m->arg    = -1;
    m->ties   = 0;
    m->is_max = is_max;
}

static inline void
lrpx__maxlike_add(struct lrpx_maxlike *m, double v, int64_t pos)
{
    m->sum += v;
    if (m->arg < 0 || (m->is_max ? v > m->best : v < m->best)) {
        m->best = v;
        m->arg  = pos;
        m->ties = 1;
    } else if (v == m->best) {
        m->ties++;
    }
}

/* All of R goes to m->arg under this mode (no second scan needed). */
static inline bool
lrpx__maxlike_single(const struct lrpx_maxlike *m, lrpx_maxpool_mode mode)
{
    return mode == LRPX_MAXPOOL_WINNER || (mode == LRPX_MAXPOOL_WINNER_SPLIT && m->ties <= 1);
}

/* The part of the window's relevance r that element (v, pos) receives:
 * WINNER all to the first extremum; WINNER_SPLIT shared evenly by the
 * tied extrema; SUM as a sum-pool, v / stab(sum) r. */
static inline double
lrpx__maxlike_share(const struct lrpx_maxlike *m, lrpx_maxpool_mode mode, double stab, double r,
                    double v, int64_t pos)
{
    switch (mode) {
    case LRPX_MAXPOOL_SUM:
        return v * (r / lrpx__stabilize(m->sum, stab));
    case LRPX_MAXPOOL_WINNER_SPLIT:
        if (m->ties > 1)
            return v == m->best ? r / (double)m->ties : 0.0;
        return pos == m->arg ? r : 0.0;
    default:
        return pos == m->arg ? r : 0.0;
    }
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
