/* Numpy-style (multidirectional) broadcasting for element-wise ops: an
 * iteration plan over an output shape and up to LRPX_BCAST_MAX_OPS operands,
 * the prepare step shared by the element-wise ops, and the reduction of a
 * broadcast gradient back to an operand's shape.
 *
 * The plan drops size-1 output dimensions and merges neighbouring dimensions
 * that every operand walks contiguously (or not at all). What is left is a
 * list of rows: the innermost merged dimension, along which each operand
 * either advances by one element (inner stride 1) or stays put (inner
 * stride 0, a broadcast). This covers the usual fast paths without special
 * cases: equal shapes become one row; a scalar operand is a row with stride 0;
 * N×C×H×W with N×C×1×1 (or 1×C×1×1) becomes N·C rows of H·W elements in which
 * the per-channel operand is constant; anything else is the general strided
 * walk. Row kernels test the two strides once per row, so the inner loops are
 * plain and vectorizable. */
#ifndef LRPX_BROADCAST_IMPL_H
#define LRPX_BROADCAST_IMPL_H

#include "core/op.h"

#define LRPX_BCAST_MAX_OPS 4

struct lrpx_bcast {
    int     n_ops;                                     /* operands            */
    int     rank;                                      /* >= 1, after merging */
    int64_t dims[LRPX_MAX_RANK];
    int64_t strides[LRPX_BCAST_MAX_OPS][LRPX_MAX_RANK]; /* elements, 0: bcast  */
    int64_t n_elems;                                   /* output elements     */
};

/* Plan the walk over the output shape (out_rank, out_dims) for n_ops operands
 * of shapes (ranks[k], dims[k]), aligned on the right as numpy does. Returns
 * false when an operand does not broadcast to the output (a dim that is
 * neither 1 nor the output's) or there are too many operands. */
bool lrpx__bcast_init(struct lrpx_bcast *it, int out_rank, const int64_t *out_dims,
                      int n_ops, const int *ranks, const int64_t *const *dims);

/* Row callback: n elements; the output starts at element out_off (rows are
 * consecutive in the output) and operand k at element off[k], advancing by
 * inner[k] (0 or 1) per element. */
typedef void (*lrpx_bcast_fn)(void *ctx, int64_t n, int64_t out_off,
                              const int64_t *off, const int *inner);

/* Call fn for every row of the plan, in output order. Nothing for an empty
 * output. */
void lrpx__bcast_foreach(const struct lrpx_bcast *it, lrpx_bcast_fn fn, void *ctx);
/* The same with the rows spread over the threads of pool (src/util/
 * parallel.h; NULL: serial). fn must only write the output row it is
 * given. */
void lrpx__bcast_foreach_mt(const struct lrpx_bcast *it, lrpx_bcast_fn fn, void *ctx,
                            struct lrpx_pool *pool);

/* Binary row kernel: y[i] = f(a[i*sa], b[i*sb]) for i < n, sa, sb in {0, 1};
 * the pointers are already offset to the row. y may alias a (sa == 1). */
typedef void (*lrpx_bcast_row2)(void *y, const void *a, int sa, const void *b, int sb,
                                int64_t n);

/* Run a binary kernel over a 2-operand plan; *_size are element sizes. */
void lrpx__bcast_binary(const struct lrpx_bcast *it, lrpx_bcast_row2 row,
                        void *y, size_t y_size, const void *a, size_t a_size,
                        const void *b, size_t b_size);
void lrpx__bcast_binary_mt(const struct lrpx_bcast *it, lrpx_bcast_row2 row,
                           void *y, size_t y_size, const void *a, size_t a_size,
                           const void *b, size_t b_size, struct lrpx_pool *pool);

/* Copy operand 0 of a 1-operand plan (elements of `size` bytes) to y,
 * broadcasting it to the plan's output shape. */
void lrpx__bcast_copy(const struct lrpx_bcast *it, void *y, const void *a, size_t size);

/* dst += scale * src summed over the broadcast positions: src has the shape
 * (src_rank, src_dims), and dst's shape (dst_rank, dst_dims) broadcasts to
 * it. This is the gradient of a broadcast: it brings an output-shaped
 * gradient or relevance back to an operand. Sums are taken in double.
 * Returns false when dst's shape does not broadcast to src's. */
bool lrpx__bcast_reduce_add(float *dst, int dst_rank, const int64_t *dst_dims,
                            const float *src, int src_rank, const int64_t *src_dims,
                            float scale);

/* ---- prepare step shared by the element-wise ops ---- */

/* Bit for a dtype in an allowed-type mask. */
#define LRPX_DT(t) (1u << LRPX_DTYPE_##t)
#define LRPX_DT_FLOATS   (LRPX_DT(FLOAT32) | LRPX_DT(FLOAT64))
#define LRPX_DT_SIGNED   (LRPX_DT(INT8) | LRPX_DT(INT16) | LRPX_DT(INT32) | LRPX_DT(INT64))
#define LRPX_DT_UNSIGNED (LRPX_DT(UINT8) | LRPX_DT(UINT16) | LRPX_DT(UINT32) | LRPX_DT(UINT64))
#define LRPX_DT_INTS     (LRPX_DT_SIGNED | LRPX_DT_UNSIGNED)
#define LRPX_DT_NUMERIC  (LRPX_DT_FLOATS | LRPX_DT_INTS)

/* Check that input i is present (else LRPX_EINVAL) and its dtype is in
 * `allowed`. Otherwise LRPX_EUNSUPPORTED, as lrpx__check_dtype does: for
 * float16, bfloat16 and strings "lrpx does not compute in this type", for
 * other types the list of types lrpx takes for the op. The message names
 * the node. */
lrpx_status lrpx__elem_check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                                   unsigned allowed);

/* For n-ary element-wise ops (Add, Mul, Equal, Sum, Where, ...): inputs
 * first..n_inputs-1 must all be present with input `first`'s dtype (which
 * must be in `allowed`); output 0 gets the broadcast shape of inputs
 * 0..n_inputs-1 and dtype out_dtype (LRPX_DTYPE_UNDEFINED: input first's).
 * Input i < first (Where's condition, Pow's base) only takes part in the
 * shape. With `legacy` (binary ops at opset < 7) the attributes
 * broadcast/axis of the old limited broadcasting are honoured.
 * If `it` is non-NULL it receives the plan over inputs 0..n_inputs-1 (at
 * most LRPX_BCAST_MAX_OPS). Errors name the node: ESHAPE when the shapes do
 * not broadcast, EINVAL on mixed dtypes (a model the spec does not allow),
 * EUNSUPPORTED for a type lrpx does not take. */
lrpx_status lrpx__elem_prepare(struct lrpx_exec *x, const struct lrpx_node *n, int first,
                               unsigned allowed, lrpx_dtype out_dtype, bool legacy,
                               struct lrpx_bcast *it);

/* Shape operand i takes in the plan: its own, or for the legacy broadcast
 * of opset < 7 its dims padded to the rank of input 0 around `axis`. */
struct lrpx_elem_shape {
    int     rank;
    int64_t dims[LRPX_MAX_RANK];
};

/* The shape of input i as the element-wise plan saw it (legacy broadcasting
 * included). Valid after lrpx__elem_prepare. */
void lrpx__elem_shape(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                      struct lrpx_elem_shape *out);

/* Prepare of a unary element-wise op: input 0 present with a dtype in
 * `allowed`; output 0 gets its dtype and shape. */
lrpx_status lrpx__unary_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                unsigned allowed);

/* ---- shared forward/backward of binary ops ---- */

/* Prepare of a binary op whose params are just the plan: allocates a
 * struct lrpx_bcast as the node's params and fills it (see
 * lrpx__elem_prepare; inputs 0 and 1 share a dtype in `allowed`). */
lrpx_status lrpx__binary_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                 unsigned allowed, lrpx_dtype out_dtype);

/* Forward of a binary op: y = f(a, b) with the kernel for input 0's dtype
 * from table (indexed by dtype), over the plan it. */
lrpx_status lrpx__binary_forward(struct lrpx_exec *x, const struct lrpx_node *n,
                                 const struct lrpx_bcast *it, const lrpx_bcast_row2 *table);

/* Context of a float32 backward/relevance row over a 2- or 3-operand plan:
 * op[k] are the operands (offset by off[k] in the row callback), y the
 * output and g its gradient/relevance (offset by out_off), gin[k] the
 * operands' gradient/relevance buffers (NULL when not wanted). */
struct lrpx_back_ctx {
    const float *op[LRPX_BCAST_MAX_OPS];
    float       *gin[LRPX_BCAST_MAX_OPS];
    const float *y;
    const float *g;
    double       eps;         /* relevance: the stabilizer of the node's rule */
    double       scale;       /* free for the op                              */
    const void  *extra;       /* free for the op                              */
};

/* Fill ctx for node n (inputs first..first+n_ops-1 are the plan's operands;
 * operand buffers of non-float32 inputs are left NULL and must not be
 * wanted) and run row over the plan. Returns at once when no operand wants
 * a gradient; errors (naming the node) when a wanted one is not float32. */
lrpx_status lrpx__elem_back_run(struct lrpx_exec *x, const struct lrpx_node *n,
                                const struct lrpx_bcast *it, int first,
                                lrpx_bcast_fn row, struct lrpx_back_ctx *ctx);

/* dst[i] += src[i] (scale 1) or dst[i] += (float)(scale * src[i]) over the
 * pool's threads; the same bits for any thread count. */
void lrpx__add_scaled(struct lrpx_pool *pool, float *dst, const float *src, int64_t n,
                      double scale);

/* Relevance (or gradient) of output 0 handed to input i unchanged apart
 * from the broadcast: R_i += reduce(scale * R_out) to input i's shape. Used
 * where one operand takes all the relevance (Mul by a constant, Div, Pow). */
lrpx_status lrpx__elem_pass_to(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                               float scale);

/* ---- variadic ops (Sum, Mean, Max, Min) ---- */

/* Params of a variadic op: for each input, its plan (1 operand) over the
 * output shape. */
struct lrpx_variadic {
    int               n_inputs;
    struct lrpx_bcast it[];
};

/* Prepare: all inputs present, one dtype in `allowed`, output = broadcast
 * of all; allocates struct lrpx_variadic as the node's params and requests
 * scratch_per_elem bytes of scratch per output element (for the backward
 * passes). */
lrpx_status lrpx__variadic_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                   unsigned allowed, size_t scratch_per_elem);

/* Forward: y = input 0 (broadcast), then y = f(y, input i) for i = 1, 2, ...
 * with the kernel for the dtype from table (operand a is y itself). */
lrpx_status lrpx__variadic_forward(struct lrpx_exec *x, const struct lrpx_node *n,
                                   const lrpx_bcast_row2 *table);

/* Backward of Max/Min (also their relevance when several inputs carry
 * relevance): each output element's gradient goes to the first input
 * (in input order) whose value equals the output there. Uses one byte of
 * scratch per output element. */
lrpx_status lrpx__variadic_winner_back(struct lrpx_exec *x, const struct lrpx_node *n);

/* Prepare of Max/Min: lrpx__variadic_prepare for the numeric types with the
 * one byte of scratch per output element that lrpx__variadic_winner_back
 * uses. */
lrpx_status lrpx__variadic_winner_prepare(struct lrpx_exec *x, const struct lrpx_node *n);

/* Relevance of Max/Min: when a single input carries relevance it receives
 * all of it (summed over the broadcast, lrpx__elem_pass_to); when several
 * do, lrpx__variadic_winner_back routes each output element's relevance. */
lrpx_status lrpx__variadic_winner_relevance(struct lrpx_exec *x, const struct lrpx_node *n);

/* Relevance of Sum (and Mean: the contributions x_i / K): proportional split
 * R_i += x_i / stab(sum_k x_k) * R, summed over the broadcast, with the
 * sum taken in double (8 bytes of scratch per output element). */
lrpx_status lrpx__variadic_proportional(struct lrpx_exec *x, const struct lrpx_node *n);

/* ---- kernel generators ---- */

/* A binary row kernel `name` (type lrpx_bcast_row2) for operands of type T,
 * computing in type W (e.g. an unsigned type, so that integer overflow wraps
 * instead of being undefined), storing type TO: y = (TO)(EXPR), where EXPR
 * reads the W values `av` and `bv`. */
#define LRPX_ROW2(name, T, W, TO, EXPR)                                         \
    static void name(void *y_, const void *a_, int sa, const void *b_, int sb, \
                     int64_t n)                                                 \
    {                                                                           \
        TO *y = y_;                                                             \
        const T *a = a_, *b = b_;                                               \
        if (sa && sb) {                                                         \
            for (int64_t i = 0; i < n; i++) {                                   \
                const W av = (W)a[i], bv = (W)b[i];                             \
                y[i] = (TO)(EXPR);                                              \
            }                                                                   \
        } else if (sa) {                                                        \
            const W bv = (W)b[0];                                               \
            for (int64_t i = 0; i < n; i++) {                                   \
                const W av = (W)a[i];                                           \
                y[i] = (TO)(EXPR);                                              \
            }                                                                   \
        } else if (sb) {                                                        \
            const W av = (W)a[0];                                               \
            for (int64_t i = 0; i < n; i++) {                                   \
                const W bv = (W)b[i];                                           \
                y[i] = (TO)(EXPR);                                              \
            }                                                                   \
        } else {                                                                \
            const W av = (W)a[0], bv = (W)b[0];                                 \
            const TO v = (TO)(EXPR);                                            \
            for (int64_t i = 0; i < n; i++)                                     \
                y[i] = v;                                                       \
        }                                                                       \
    }

/* Kernels pfx_f32 ... pfx_u64 for the ten numeric types with result type
 * equal to the operand type. Integer arithmetic is done in uint32_t/uint64_t
 * (wrapping, as two's complement hardware does and as ONNX Runtime gives).
 * Use it for +, -, *; not for comparisons or division. */
#define LRPX_ROW2_WRAPPING(pfx, EXPR)                        \
    LRPX_ROW2(pfx##_f32, float, float, float, EXPR)          \
    LRPX_ROW2(pfx##_f64, double, double, double, EXPR)       \
    LRPX_ROW2(pfx##_i8, int8_t, uint32_t, int8_t, EXPR)      \
    LRPX_ROW2(pfx##_i16, int16_t, uint32_t, int16_t, EXPR)   \
    LRPX_ROW2(pfx##_i32, int32_t, uint32_t, int32_t, EXPR)   \
    LRPX_ROW2(pfx##_i64, int64_t, uint64_t, int64_t, EXPR)   \
    LRPX_ROW2(pfx##_u8, uint8_t, uint32_t, uint8_t, EXPR)    \
    LRPX_ROW2(pfx##_u16, uint16_t, uint32_t, uint16_t, EXPR) \
    LRPX_ROW2(pfx##_u32, uint32_t, uint32_t, uint32_t, EXPR) \
    LRPX_ROW2(pfx##_u64, uint64_t, uint64_t, uint64_t, EXPR)

/* Same, computing in the operand type itself and storing TO (e.g. uint8_t
 * for comparisons, or the operand type for Min/Max): the two float types,
 * the eight integer types, or all ten. */
#define LRPX_ROW2_NATURAL_FLOATS(pfx, TO_SAME, EXPR)                  \
    LRPX_ROW2(pfx##_f32, float, float, TO_SAME(float), EXPR)          \
    LRPX_ROW2(pfx##_f64, double, double, TO_SAME(double), EXPR)
#define LRPX_ROW2_NATURAL_INTS(pfx, TO_SAME, EXPR)                    \
    LRPX_ROW2(pfx##_i8, int8_t, int8_t, TO_SAME(int8_t), EXPR)        \
    LRPX_ROW2(pfx##_i16, int16_t, int16_t, TO_SAME(int16_t), EXPR)    \
    LRPX_ROW2(pfx##_i32, int32_t, int32_t, TO_SAME(int32_t), EXPR)    \
    LRPX_ROW2(pfx##_i64, int64_t, int64_t, TO_SAME(int64_t), EXPR)    \
    LRPX_ROW2(pfx##_u8, uint8_t, uint8_t, TO_SAME(uint8_t), EXPR)     \
    LRPX_ROW2(pfx##_u16, uint16_t, uint16_t, TO_SAME(uint16_t), EXPR) \
    LRPX_ROW2(pfx##_u32, uint32_t, uint32_t, TO_SAME(uint32_t), EXPR) \
    LRPX_ROW2(pfx##_u64, uint64_t, uint64_t, TO_SAME(uint64_t), EXPR)
#define LRPX_ROW2_NATURAL(pfx, TO_SAME, EXPR)   \
    LRPX_ROW2_NATURAL_FLOATS(pfx, TO_SAME, EXPR) \
    LRPX_ROW2_NATURAL_INTS(pfx, TO_SAME, EXPR)
#define LRPX_TO_SAME(T) T
#define LRPX_TO_BOOL(T) uint8_t

/* Designated initializers of a dtype-indexed table of the kernels above. */
#define LRPX_ROW2_TABLE(pfx)                                              \
    [LRPX_DTYPE_FLOAT32] = pfx##_f32, [LRPX_DTYPE_FLOAT64] = pfx##_f64,   \
    [LRPX_DTYPE_INT8] = pfx##_i8,     [LRPX_DTYPE_INT16] = pfx##_i16,     \
    [LRPX_DTYPE_INT32] = pfx##_i32,   [LRPX_DTYPE_INT64] = pfx##_i64,     \
    [LRPX_DTYPE_UINT8] = pfx##_u8,    [LRPX_DTYPE_UINT16] = pfx##_u16,    \
    [LRPX_DTYPE_UINT32] = pfx##_u32,  [LRPX_DTYPE_UINT64] = pfx##_u64

/* Accumulate into a gradient/relevance row that advances by s (0 or 1):
 * g[i*s] += EXPR(i) for i < n. With s == 0 every term lands on g[0]; they
 * are summed in double first. EXPR may use the loop index `i`. */
#define LRPX_ACC_ROW(g, s, n, EXPR)                          \
    do {                                                     \
        if (s) {                                             \
            for (int64_t i = 0; i < (n); i++)                \
                (g)[i] += (float)(EXPR);                     \
        } else {                                             \
            double acc_ = 0.0;                               \
            for (int64_t i = 0; i < (n); i++)                \
                acc_ += (double)(EXPR);                      \
            (g)[0] += (float)acc_;                           \
        }                                                    \
    } while (0)

/* Element-wise map over n values: y[i] = EXPR with `v` = x[i] (type T). */
#define LRPX_MAP(T, TO, xp, yp, n, EXPR)                     \
    do {                                                     \
        const T *x_ = (xp);                                  \
        TO      *y_ = (yp);                                  \
        for (int64_t i_ = 0, n_ = (n); i_ < n_; i_++) {      \
            const T v = x_[i_];                              \
            y_[i_] = (TO)(EXPR);                             \
        }                                                    \
    } while (0)

/* Body of a unary op's backward for float32: gx += EXPR, where EXPR may use
 * the input `v`, the output `y` and the output gradient `g` (floats).
 * Returns from the enclosing function. */
#define LRPX_UNARY_BACKWARD(x, n, EXPR)                                          \
    do {                                                                         \
        float       *gx_ = lrpx__back_in((x), (n), 0);                           \
        const float *gy_ = lrpx__back_out((x), (n), 0);                          \
        if (!gx_ || !gy_)                                                        \
            return LRPX_OK;                                                      \
        const struct lrpx_tensor *tx_ = lrpx__in((x), (n), 0);                   \
        const struct lrpx_tensor *ty_ = lrpx__out((x), (n), 0);                  \
        if (tx_->dtype != LRPX_DTYPE_FLOAT32)                                    \
            return lrpx__back_not_f32((x), (n));                                 \
        for (int64_t i_ = 0; i_ < tx_->n_elems; i_++) {                          \
            const float v = tx_->f32[i_], y = ty_->f32[i_], g = gy_[i_];         \
            (void)v;                                                             \
            (void)y;                                                             \
            gx_[i_] += (float)(EXPR);                                            \
        }                                                                        \
        return LRPX_OK;                                                          \
    } while (0)

/* The error of a backward/relevance pass through a value that is not
 * float32 (gradients are float32 only). */
lrpx_status lrpx__back_not_f32(struct lrpx_exec *x, const struct lrpx_node *n);

#endif /* LRPX_BROADCAST_IMPL_H */
