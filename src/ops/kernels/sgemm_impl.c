/* Row-major single-precision GEMM for Conv, ConvTranspose, Gemm, MatMul
 * and the LRP rule kernels: OpenBLAS through cblas (sgemv for one-row
 * products), a reference loop for sizes beyond BLAS's int, and a split of
 * one product over the session's thread pool. See sgemm_impl.h. */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "ops/kernels/sgemm_impl.h"
#include "util/parallel.h"

/* Reference loop for problems whose sizes do not fit BLAS's int. */
static void
sgemm_naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
            int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
        double acc = 0.0;
        for (int64_t p = 0; p < k; p++)
            acc += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                   (tb ? b[j * ldb + p] : b[p * ldb + j]);
        float *cij = &c[i * ldc + j];
        *cij = (float)(alpha * acc) + (beta == 0.0f ? 0.0f : beta * *cij);
    }
}

/* ---- sgemm over the pool: blocks of columns (or of rows, when there
 * are few columns), each multiplied by OpenBLAS in one thread ---- */

struct sgemm_mt_ctx {
    bool         ta, tb, by_cols;
    int64_t      m, n, k, lda, ldb, ldc, n_blocks;
    float        alpha, beta;
    const float *a, *b;
    float       *c;
};

/* Blocks have a fixed width, whatever the thread count, so a product
 * gives the same bits on any number of threads (OpenBLAS may round an edge
 * tile differently; the tiles are then the same ones). */
#define SGEMM_BLOCK 256

/* start of block i over [0, len) */
static int64_t
sgemm_block_start(int64_t len, int64_t i, int64_t n_blocks)
{
    if (i >= n_blocks)
        return len;
    int64_t s = i * SGEMM_BLOCK;
    return s < len ? s : len;
}

static void
sgemm_mt_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct sgemm_mt_ctx *c = ctx_;
    for (int64_t i = i0; i < i1; i++) {
        if (c->by_cols) {
            const int64_t j0 = sgemm_block_start(c->n, i, c->n_blocks);
            const int64_t j1 = sgemm_block_start(c->n, i + 1, c->n_blocks);
            lrpx__sgemm(c->ta, c->tb, c->m, j1 - j0, c->k, c->alpha, c->a, c->lda,
                        c->b + (c->tb ? j0 * c->ldb : j0), c->ldb, c->beta, c->c + j0, c->ldc);
        } else {
            const int64_t r0 = sgemm_block_start(c->m, i, c->n_blocks);
            const int64_t r1 = sgemm_block_start(c->m, i + 1, c->n_blocks);
            lrpx__sgemm(c->ta, c->tb, r1 - r0, c->n, c->k, c->alpha,
                        c->a + (c->ta ? r0 : r0 * c->lda), c->lda, c->b, c->ldb, c->beta,
                        c->c + r0 * c->ldc, c->ldc);
        }
    }
}

void
lrpx__sgemm_mt(struct lrpx_pool *pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
               float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc)
{
    /* below ~2 MFLOP a split costs more than it gains */
    bool by_cols = n >= m;
    int64_t n_blocks = ((by_cols ? n : m) + SGEMM_BLOCK - 1) / SGEMM_BLOCK;
    if (n_blocks <= 1 || m <= 0 || n <= 0 || (double)m * (double)n * (double)k < 1e6 ||
        (m < 32 && n < 32)) {
        lrpx__sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    struct sgemm_mt_ctx cx = {ta, tb, by_cols, m, n, k, lda, ldb, ldc, n_blocks,
                              alpha, beta, a, b, c};
    lrpx__parallel_for(pool, n_blocks, 1, sgemm_mt_range, &cx);
}

void
lrpx__sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
            int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
        ldc > INT_MAX) {
        sgemm_naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (m == 1) {
        /* one row (a dense layer at batch 1): a matrix-vector product reads
         * B once; sgemm would pack (copy) all of B first */
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? (blasint)n : (blasint)k,
                    tb ? (blasint)k : (blasint)n, alpha, b, (blasint)ldb, a,
                    ta ? (blasint)lda : 1, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb,
                beta, c, (blasint)ldc);
}

size_t
lrpx__sgemm_rows_scratch(int64_t n, int64_t k)
{
    return (size_t)LRPX_SGEMM_ROW_BLOCK * (size_t)(n + k) * sizeof(float);
}

void
lrpx__sgemm_rows(struct lrpx_pool *pool, bool invariant, float *scratch, bool ta, bool tb,
                 int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    const int64_t rb = LRPX_SGEMM_ROW_BLOCK;
    if (!invariant || m <= 0 || n <= 0) {
        lrpx__sgemm_mt(pool, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int64_t r0 = 0;
    for (; r0 + rb <= m; r0 += rb)
        lrpx__sgemm_mt(pool, ta, tb, rb, n, k, alpha, ta ? a + r0 : a + r0 * lda, lda, b, ldb,
                       beta, c + r0 * ldc, ldc);
    const int64_t rest = m - r0;
    if (rest == 0)
        return;
    /* the last rows, as a whole block: op(A) rows r0.. and zeros below
     * (stored transposed, K x rb, when ta), C's rows likewise */
    float *ap = scratch, *cp = scratch + rb * k;
    memset(ap, 0, (size_t)(rb * k) * sizeof(float));
    for (int64_t i = 0; i < rest; i++)
        for (int64_t p = 0; p < k; p++) {
            if (ta)
                ap[p * rb + i] = a[p * lda + r0 + i];
            else
                ap[i * k + p] = a[(r0 + i) * lda + p];
        }
    memset(cp, 0, (size_t)(rb * n) * sizeof(float));
    if (beta != 0.0f)
        for (int64_t i = 0; i < rest; i++)
            memcpy(cp + i * n, c + (r0 + i) * ldc, (size_t)n * sizeof(float));
    lrpx__sgemm_mt(pool, ta, tb, rb, n, k, alpha, ap, ta ? rb : k, b, ldb, beta, cp, n);
    for (int64_t i = 0; i < rest; i++)
        memcpy(c + (r0 + i) * ldc, cp + i * n, (size_t)n * sizeof(float));
}
