/* lrpx's own single-precision matrix product for the forward pass of
 * convolutions: C = A B (+ bias per row), where A (the weights) is packed
 * once per plan and B (activations, im2col columns or Winograd-transformed
 * tiles) is read in place, row-major with any row stride. Built for x86-64
 * CPUs with AVX2 and FMA (checked at run time); elsewhere
 * lrpx__pgemm_available() is false and callers use lrpx__sgemm (OpenBLAS).
 *
 * Why not OpenBLAS here: it packs both operands on every call. The weights
 * never change, so packing them once saves that pass, and B is small enough
 * per column strip to stay in the L1 cache, so it needs no packing at all.
 * That matters most for the thin products of small feature maps (7x7,
 * 14x14), where OpenBLAS spends a large share of its time copying.
 *
 * Each element of C is its K products summed in order of k by fused
 * multiply-adds, then the bias added, with the same code for every element:
 * the result does not depend on how the columns are split over threads,
 * and without the bias followed by adding it gives the same bits. */
#ifndef LRPX_PGEMM_IMPL_H
#define LRPX_PGEMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lrpx_pool;

/* An element-wise activation computed together with a convolution's output
 * z and stored to a second tensor of the same shape (the output of the
 * Relu or Clip node that consumes z, which then need not run): the same
 * values those ops give, NaN rules included. */
enum lrpx_act_kind { LRPX_ACT_NONE = 0, LRPX_ACT_RELU, LRPX_ACT_CLIP };
struct lrpx_act {
    enum lrpx_act_kind kind;
    float              lo, hi;     /* LRPX_ACT_CLIP bounds             */
    float             *out;        /* same layout as the product's C   */
};

/* relu(v) = v > 0 ? v : 0 (NaN -> 0); clip(v) = min(max(v, lo), hi) in the
 * order of Clip (NaN stays NaN) */
static inline float
lrpx__act_apply(enum lrpx_act_kind kind, float lo, float hi, float v)
{
    if (kind == LRPX_ACT_RELU)
        return v > 0.0f ? v : 0.0f;
    const float l = v < lo ? lo : v;
    return l > hi ? hi : l;
}

/* True when this CPU runs the kernels (AVX2 and FMA). */
bool   lrpx__pgemm_available(void);

/* Floats of the packed form of an m x k matrix (64-byte aligned buffers
 * keep the kernels' loads aligned). */
size_t lrpx__pgemm_packed_floats(int64_t m, int64_t k);
/* Pack A (m x k, row stride lda) into dst (lrpx__pgemm_packed_floats) for
 * products with about n_hint columns: the kernel shape (tiles of 6 rows x
 * 16 columns, or of 16 rows x 6 columns for few columns) is chosen to waste
 * the least on partial tiles (n_hint <= 0: the 6 x 16 shape), and recorded
 * in dst. Either shape gives the same bits. */
void   lrpx__pgemm_pack(const float *a, int64_t lda, int64_t m, int64_t k, int64_t n_hint,
                        float *dst);

/* C (m x n, row stride ldc) = A B + bias, A packed by lrpx__pgemm_pack,
 * B k x n with row stride ldb; bias: m values or NULL; act: NULL or an
 * activation of C also stored to act->out (row stride ldc). The columns
 * are spread over the pool's threads (NULL: the caller's). Needs
 * lrpx__pgemm_available(). */
void   lrpx__pgemm(struct lrpx_pool *pool, int64_t m, int64_t n, int64_t k, const float *ap,
                   const float *b, int64_t ldb, const float *bias, float *c, int64_t ldc,
                   const struct lrpx_act *act);

#endif /* LRPX_PGEMM_IMPL_H */
