/* Transformer patterns: groups of nodes that the relevance pass treats as
 * one layer, whatever the exporter wrote (src/graph/patterns.c). */
#ifndef LRPX_GRAPH_PATTERNS_H
#define LRPX_GRAPH_PATTERNS_H

#include "core/exec.h"

enum lrpx_pattern_kind {
    LRPX_PATTERN_NORM = 0,     /* LayerNorm or RMSNorm written out node by node */
    LRPX_PATTERN_ACTIVATION,   /* an element-wise x * g(x): GELU, SiLU, ...      */
    LRPX_PATTERN_COUNT
};

/* y = f(x) computed by n_nodes nodes whose only computed input is x. */
struct lrpx_pattern {
    enum lrpx_pattern_kind kind;
    int  src;        /* value x                                            */
    int  tail;       /* value y, the same number of elements as x          */
    int  cut;        /* NORM: the per-row statistic (sigma or 1/sigma) the  */
                     /* norm rule holds constant; -1 for ACTIVATION         */
    int  head;       /* the node producing y                                */
    /* NORM, how y depends on x with cut held constant, for the closed form
     * of the norm rule: y = gamma (x - [centred] mean(x)) f + beta per row
     * of the last axis, f = 1 / cut (Div) or cut (recip: Mul) */
    bool centred;
    bool recip;
    int  gamma;      /* the constant of the Mul after the Div/Mul, -1: none */
    int  n_nodes;
    int *nodes;      /* the nodes in run (topological) order, head last     */
};

/* Find the patterns among the nodes a plan runs (run[0..n_run), in
 * topological order), with constness and shapes from x:
 *
 * NORM        D = Div(c, s) or Mul(c, r) where s (r) is a per-row statistic
 *             of c (same shape, last axis 1) computed from c alone by
 *             element-wise nodes and reductions over the last axis (the
 *             variance branch Pow, ReduceMean, Add eps, Sqrt [, Reciprocal]);
 *             when c = Sub(x, ReduceMean(x)) the centring joins (LayerNorm,
 *             source x), else the source is c (RMSNorm); then an optional
 *             Mul by a constant (gamma) and an optional Add of a constant
 *             (beta). cut is s (r).
 * ACTIVATION  M = Mul(a, b) of two computed values that both come from one
 *             value x through element-wise nodes (Div by sqrt 2, Erf, Add 1;
 *             Sigmoid; Tanh, Pow, ...; a value with several readers ends
 *             the walk and becomes the source), then any chain of Mul or
 *             Div by a constant (the GELU's 0.5).
 *
 * Every value inside a pattern other than y has no reader outside it and is
 * not a graph output. A node belongs to one pattern at most (NORM is
 * matched first). *out is lrpx__malloc'ed (NULL when none are found);
 * free it with lrpx__patterns_free. Returns LRPX_OK or LRPX_ENOMEM. */
lrpx_status lrpx__graph_find_patterns(const struct lrpx_exec *x, const int *run, int n_run,
                                      struct lrpx_pattern **out, int *n_out);
void        lrpx__patterns_free(struct lrpx_pattern *p, int n);

#endif /* LRPX_GRAPH_PATTERNS_H */
