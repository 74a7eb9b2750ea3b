/* sgemm: the one GEMM entry of lrpx's float32 products (src/ops/kernels/
 * sgemm_impl.c). */
#ifndef LRPX_SGEMM_IMPL_H
#define LRPX_SGEMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lrpx_pool;

/* Row-major C = alpha * op(A) op(B) + beta * C with op = transpose when
 * ta/tb; A is m x k after op, B k x n, C m x n; lda/ldb/ldc are the row
 * strides of the stored matrices. Handles zero-sized problems (no-op, or
 * C scaled by beta when k == 0). */
void lrpx__sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb,
                 float beta, float *c, int64_t ldc);

/* The same spread over the threads of pool (NULL: the caller's): the
 * columns (or, with few columns, the rows) of C in blocks, each block a
 * single-threaded lrpx__sgemm. */
void lrpx__sgemm_mt(struct lrpx_pool *pool, bool ta, bool tb, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc);

/* Rows of C that are samples (a dense layer's batch): with `invariant`,
 * C is made in blocks of LRPX_SGEMM_ROW_BLOCK rows, each one
 * lrpx__sgemm_mt call of exactly that many rows (the last block padded
 * with zero rows in scratch), so a row's bits depend neither on m nor on
 * its position: a sample gets the same numbers in any batch
 * (lrpx_session_set_batch_invariant). Without it, lrpx__sgemm_mt. scratch
 * holds lrpx__sgemm_rows_scratch(n, k) bytes (unused without invariant). */
#define LRPX_SGEMM_ROW_BLOCK 16
size_t lrpx__sgemm_rows_scratch(int64_t n, int64_t k);
void   lrpx__sgemm_rows(struct lrpx_pool *pool, bool invariant, float *scratch, bool ta,
                        bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc);

#endif /* LRPX_SGEMM_IMPL_H */
