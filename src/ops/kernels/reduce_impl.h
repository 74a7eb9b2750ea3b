/* Shared machinery of the Reduce* ops (one file per op, this file holds
 * the parsing and kernels they have in common).
 *
 * Axes: an attribute for every op below opset 13, and for all but ReduceSum
 * below opset 18; an optional second input for ReduceSum from opset 13 and
 * for all from opset 18. The axes decide the output shape, so they must be
 * known when the plan is built (lrpx__in_known: a constant, a folded value,
 * or a fed input whose data the plan then depends on), or be empty.
 * No axes or empty axes reduce over every dimension, unless
 * noop_with_empty_axes = 1 (input form only), which makes the op an
 * identity. Negative axes count from the end; repeats are allowed.
 * keepdims (default 1) keeps reduced dimensions as size 1.
 * Reducing an empty set gives the identity of the operation: 0 for sums,
 * 1 for ReduceProd, -inf for ReduceMax / ReduceLogSum(Exp), +inf for
 * ReduceMin, NaN for ReduceMean.
 *
 * Dtypes: float32 and float64 for all; int32 and int64 for Sum, Mean, Max,
 * Min, Prod, L1 and SumSquare (int64 accumulation, ReduceMean truncating);
 * int8 and uint8 for Max and Min.
 *
 * Gradients and relevance rules: see lrpx__reduce_backward and
 * lrpx__reduce_relevance in reduce_impl.c and each op's header.
 */
#ifndef LRPX_REDUCE_IMPL_H
#define LRPX_REDUCE_IMPL_H

#include "core/op.h"

enum lrpx_reduce_kind {
    LRPX_REDUCE_SUM = 0,
    LRPX_REDUCE_MEAN,
    LRPX_REDUCE_MAX,
    LRPX_REDUCE_MIN,
    LRPX_REDUCE_PROD,
    LRPX_REDUCE_L1,
    LRPX_REDUCE_L2,
    LRPX_REDUCE_SUM_SQUARE,
    LRPX_REDUCE_LOG_SUM,
    LRPX_REDUCE_LOG_SUM_EXP,
};

struct lrpx_reduce_params {
    enum lrpx_reduce_kind kind;
    bool    noop;                  /* empty axes + noop_with_empty_axes: y = x   */
    /* the input with size-1 dims dropped and neighbouring dims of the same
     * kind (reduced / kept) merged */
    int     rank;
    int64_t dims[LRPX_MAX_RANK];
    int64_t ostr[LRPX_MAX_RANK];   /* output step per dim, 0 for reduced dims   */
    int64_t n_in;                  /* input elements                             */
    int64_t n_out;                 /* output elements                            */
    int64_t count;                 /* input elements per output                  */
};

/* Parse axes/keepdims/noop, check the dtype for `kind`, set output 0 and
 * request scratch. */
lrpx_status lrpx__reduce_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                 enum lrpx_reduce_kind kind);
lrpx_status lrpx__reduce_forward(struct lrpx_exec *x, const struct lrpx_node *n);
/* Vector-Jacobian product for every kind. */
lrpx_status lrpx__reduce_backward(struct lrpx_exec *x, const struct lrpx_node *n);
/* LRP for the kinds that have a rule (not Prod, LogSumExp):
 *   Sum, Mean, LogSum: R_i += x_i / stab(sum x) R_j   (Mean: z_ij = x_i / count
 *                      and z_j = mean, the same ratio up to the stabilizer;
 *                      LogSum: log is treated as a pass-through activation)
 *   L1:                R_i += |x_i| / stab(sum |x|) R_j
 *   L2, SumSquare:     R_i += x_i^2 / stab(sum x^2) R_j
 *   Max, Min:          by lrpx__rule(x, n)->maxpool, as MaxPool: the first
 *                      extremum in row-major order, ties split, or the
 *                      sum-pool proportional split.
 * The stabilizer is lrpx__rule(x, n)->stab. */
lrpx_status lrpx__reduce_relevance(struct lrpx_exec *x, const struct lrpx_node *n);

#endif /* LRPX_REDUCE_IMPL_H */
