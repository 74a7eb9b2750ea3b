/* Max — element-wise maximum of one or more inputs, numpy broadcasting.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Max.html  (opsets 1, 6, 8, 12, 13;
 *       before 8 all inputs have one shape, which broadcasting also covers)
 * Types: all ten numeric types. NaN propagates, as in numpy.maximum.
 * Backward: the gradient of each output element goes to the first input
 *       (in input order) that attains the maximum there; ties do not split.
 * LRP:  when a single input carries relevance (the others are constants,
 *       e.g. Max(x, 0) as a clamp) it receives all relevance, like an
 *       activation (summed over the broadcast); when several do, each
 *       output element's relevance goes to the input that won it, as the
 *       gradient does (winner takes all, as in MaxPool).
 */
#include <math.h>

#include "ops/kernels/broadcast_impl.h"

LRPX_ROW2_NATURAL_FLOATS(max, LRPX_TO_SAME, (av >= bv || isnan(av)) ? av : bv)
LRPX_ROW2_NATURAL_INTS(max, LRPX_TO_SAME, av >= bv ? av : bv)

static const lrpx_bcast_row2 max_rows[LRPX_DTYPE_COUNT] = {LRPX_ROW2_TABLE(max)};

static lrpx_status
max_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    return lrpx__variadic_forward(x, n, max_rows);
}

const struct lrpx_op_def lrpx__op_max = {
    .onnx_name     = "Max",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 255,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = lrpx__variadic_winner_prepare,
    .forward       = max_forward,
    .backward      = lrpx__variadic_winner_back,
    .relevance     = lrpx__variadic_winner_relevance,
};
