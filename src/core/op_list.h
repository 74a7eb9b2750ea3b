/* The one list of ops lrpx implements: enum tag and file stem
 * (src/ops/<stem>.c defines lrpx__op_<stem>). Keep it sorted. */
#ifndef LRPX_OP_LIST_H
#define LRPX_OP_LIST_H

/*        enum tag                 file stem */
#define LRPX_OP_LIST(X)                                  \
    X(ABS,                      abs)                      \
    X(ADD,                      add)                      \
    X(AND,                      and)                      \
    X(AVERAGE_POOL,             average_pool)             \
    X(BATCH_NORMALIZATION,      batch_normalization)      \
    X(CAST,                     cast)                     \
    X(CEIL,                     ceil)                     \
    X(CLIP,                     clip)                     \
    X(CONCAT,                   concat)                   \
    X(CONSTANT,                 constant)                 \
    X(CONSTANT_OF_SHAPE,        constant_of_shape)        \
    X(CONV,                     conv)                     \
    X(CONV_TRANSPOSE,           conv_transpose)           \
    X(DEPTH_TO_SPACE,           depth_to_space)           \
    X(DIV,                      div)                      \
    X(DROPOUT,                  dropout)                  \
    X(ELU,                      elu)                      \
    X(EQUAL,                    equal)                    \
    X(ERF,                      erf)                      \
    X(EXP,                      exp)                      \
    X(EXPAND,                   expand)                   \
    X(FLATTEN,                  flatten)                  \
    X(FLOOR,                    floor)                    \
    X(GATHER,                   gather)                   \
    X(GEMM,                     gemm)                     \
    X(GLOBAL_AVERAGE_POOL,      global_average_pool)      \
    X(GLOBAL_MAX_POOL,          global_max_pool)          \
    X(GREATER,                  greater)                  \
    X(GREATER_OR_EQUAL,         greater_or_equal)         \
    X(HARD_SIGMOID,             hard_sigmoid)             \
    X(HARD_SWISH,               hard_swish)               \
    X(IDENTITY,                 identity)                 \
    X(INSTANCE_NORMALIZATION,   instance_normalization)   \
    X(LAYER_NORMALIZATION,      layer_normalization)      \
    X(LEAKY_RELU,               leaky_relu)               \
    X(LESS,                     less)                     \
    X(LESS_OR_EQUAL,            less_or_equal)            \
    X(LOG,                      log)                      \
    X(LOG_SOFTMAX,              log_softmax)              \
    X(LRN,                      lrn)                      \
    X(MAT_MUL,                  mat_mul)                  \
    X(MAX,                      max)                      \
    X(MAX_POOL,                 max_pool)                 \
    X(MEAN,                     mean)                     \
    X(MIN,                      min)                      \
    X(MUL,                      mul)                      \
    X(NEG,                      neg)                      \
    X(NON_ZERO,                 non_zero)                 \
    X(NOT,                      not)                      \
    X(OR,                       or)                       \
    X(PAD,                      pad)                      \
    X(POW,                      pow)                      \
    X(PRELU,                    prelu)                    \
    X(RANGE,                    range)                    \
    X(RECIPROCAL,               reciprocal)               \
    X(REDUCE_L1,                reduce_l1)                \
    X(REDUCE_L2,                reduce_l2)                \
    X(REDUCE_LOG_SUM,           reduce_log_sum)           \
    X(REDUCE_LOG_SUM_EXP,       reduce_log_sum_exp)       \
    X(REDUCE_MAX,               reduce_max)               \
    X(REDUCE_MEAN,              reduce_mean)              \
    X(REDUCE_MIN,               reduce_min)               \
    X(REDUCE_PROD,              reduce_prod)              \
    X(REDUCE_SUM,               reduce_sum)               \
    X(REDUCE_SUM_SQUARE,        reduce_sum_square)        \
    X(RELU,                     relu)                     \
    X(RESHAPE,                  reshape)                  \
    X(RESIZE,                   resize)                   \
    X(SELU,                     selu)                     \
    X(SHAPE,                    shape)                    \
    X(SIGMOID,                  sigmoid)                  \
    X(SIGN,                     sign)                     \
    X(SIZE,                     size)                     \
    X(SLICE,                    slice)                    \
    X(SOFTMAX,                  softmax)                  \
    X(SOFTPLUS,                 softplus)                 \
    X(SPACE_TO_DEPTH,           space_to_depth)           \
    X(SPLIT,                    split)                    \
    X(SQRT,                     sqrt)                     \
    X(SQUEEZE,                  squeeze)                  \
    X(SUB,                      sub)                      \
    X(SUM,                      sum)                      \
    X(TANH,                     tanh)                     \
    X(TILE,                     tile)                     \
    X(TRANSPOSE,                transpose)                \
    X(UNSQUEEZE,                unsqueeze)                \
    X(UPSAMPLE,                 upsample)                 \
    X(WHERE,                    where)

#endif /* LRPX_OP_LIST_H */
