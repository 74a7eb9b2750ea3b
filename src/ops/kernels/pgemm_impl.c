/* The packed-weight matrix product of pgemm_impl.h.
 *
 * K runs in blocks (PG_KC_*); within a block C is covered by tiles held in
 * 12 AVX registers, in one of two shapes:
 *
 *   R (6 rows x 16 columns): for each k, 16 values of B's row k are loaded
 *     and 6 values of A's column k broadcast. A is packed per K block as
 *     panels of 6 rows stored k-major; each 16-column strip of a K block of
 *     B (16 KiB at most) is copied to an aligned buffer that stays in L1
 *     while the row panels pass over it. Columns past n are masked (the
 *     last, partial strip is read in place).
 *   C (16 rows x 6 columns): the transpose, for products with few columns
 *     (small feature maps), where 16-column strips would be mostly empty:
 *     16 values of A's column k are loaded and 6 values of B's row k
 *     broadcast. A is packed as panels of 16 rows; each 6-column group of a
 *     K block of B is copied into a small contiguous buffer first.
 *
 * Rows past m are zero in the packed A and never stored. Both shapes do
 * the same operations per element of C (products in order of k by fused
 * multiply-adds, partial sums stored between K blocks, bias added last), so
 * they give the same bits.
 *
 * The packed buffer starts with a header of PG_HDR floats: the shape, m
 * and k. */
#include <string.h>

#include "lrpx_internal.h"
#include "ops/kernels/pgemm_impl.h"
#include "util/parallel.h"

#define PG_HDR 16          /* header floats (keeps the panels aligned) */

enum pg_shape { PG_R = 1, PG_C = 2 };

/* K block: shape R keeps a 16-column strip of it in L1 (16 KiB); shape C
 * a 6-column group (12 KiB), and its longer blocks halve the transposing
 * stores of partial sums */
#define PG_KC_R 256
#define PG_KC_C 512

/* rows x columns of a tile */
#define PG_R_MR 6
#define PG_R_NR 16
#define PG_C_MR 16
#define PG_C_NR 6

static int64_t
pg_ceil(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

size_t
lrpx__pgemm_packed_floats(int64_t m, int64_t k)
{
    const int64_t rows = pg_ceil(m, 6) * 6 > pg_ceil(m, 16) * 16 ? pg_ceil(m, 6) * 6
                                                                 : pg_ceil(m, 16) * 16;
    return PG_HDR + (size_t)rows * (size_t)k;
}

/* The shape with the lower estimated cost, in cycles of one core: 6 per k
 * per tile (12 FMAs), plus per tile and K block the stores of its partial
 * sums (R: 12 vector stores; C: the transposing scalar copy, about 200),
 * plus the copies of B (each element of B once per shape). With few rows
 * or short K the C shape's stores and copies are not repaid. n_hint <= 0
 * asks for R. */
static enum pg_shape
pg_choose(int64_t m, int64_t n, int64_t k)
{
    if (n <= 0)
        return PG_R;
    const double kb_r = (double)pg_ceil(k, PG_KC_R), kb_c = (double)pg_ceil(k, PG_KC_C);
    const double tr   = (double)pg_ceil(m, PG_R_MR) *
                        ((double)(n / PG_R_NR) + (n % PG_R_NR == 0 ? 0.0 : n % PG_R_NR <= 8 ? 0.5 : 1.0));
    const double tc   = (double)(pg_ceil(m, PG_C_MR) * pg_ceil(n, PG_C_NR));
    const double r    = tr * (6.0 * (double)k + 24.0 * kb_r) + (double)k * (double)n;
    const double c    = tc * (6.0 * (double)k + 200.0 * kb_c) + 2.0 * (double)k * (double)n;
    return c < 0.95 * r ? PG_C : PG_R;
}

void
lrpx__pgemm_pack(const float *a, int64_t lda, int64_t m, int64_t k, int64_t n_hint, float *dst)
{
    const enum pg_shape shape = pg_choose(m, n_hint, k);
    const int           mr    = shape == PG_R ? PG_R_MR : PG_C_MR;
    const int64_t       KC    = shape == PG_R ? PG_KC_R : PG_KC_C;
    const int64_t       mp    = pg_ceil(m, mr);
    memset(dst, 0, PG_HDR * sizeof(float));
    dst[0] = (float)shape;
    dst[1] = (float)m;        /* exact up to 2^24: recorded for checks only */
    dst += PG_HDR;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
        const int64_t kc = k - k0 < KC ? k - k0 : KC;
        for (int64_t r = 0; r < mp; r++)
            for (int64_t kk = 0; kk < kc; kk++)
                for (int i = 0; i < mr; i++) {
                    const int64_t row = r * mr + i;
                    *dst++ = row < m ? a[row * lda + k0 + kk] : 0.0f;
                }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

bool
lrpx__pgemm_available(void)
{
    return lrpx__cpu_has(LRPX_CPU_AVX2 | LRPX_CPU_FMA);
}

#define PG_TARGET __attribute__((target("avx2,fma")))

/* lanes [0, nr) of the two halves of a 16-column tile */
static const int32_t pg_mask[32] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                    -1, -1, -1, -1, 0,  0,  0,  0,  0,  0,  0,  0,
                                    0,  0,  0,  0,  0,  0,  0,  0};

/* The 12 FMAs of one k: acc[i][h] += x_i * (y_h), with x broadcast from
 * xs[0..5] and y the two vectors. */
#define PG_STEP(xs, y0, y1)                                                            \
    do {                                                                               \
        __m256 bc_ = _mm256_broadcast_ss((xs) + 0);                                    \
        c00 = _mm256_fmadd_ps(bc_, y0, c00);                                           \
        c01 = _mm256_fmadd_ps(bc_, y1, c01);                                           \
        bc_ = _mm256_broadcast_ss((xs) + 1);                                           \
        c10 = _mm256_fmadd_ps(bc_, y0, c10);                                           \
        c11 = _mm256_fmadd_ps(bc_, y1, c11);                                           \
        bc_ = _mm256_broadcast_ss((xs) + 2);                                           \
        c20 = _mm256_fmadd_ps(bc_, y0, c20);                                           \
        c21 = _mm256_fmadd_ps(bc_, y1, c21);                                           \
        bc_ = _mm256_broadcast_ss((xs) + 3);                                           \
        c30 = _mm256_fmadd_ps(bc_, y0, c30);                                           \
        c31 = _mm256_fmadd_ps(bc_, y1, c31);                                           \
        bc_ = _mm256_broadcast_ss((xs) + 4);                                           \
        c40 = _mm256_fmadd_ps(bc_, y0, c40);                                           \
        c41 = _mm256_fmadd_ps(bc_, y1, c41);                                           \
        bc_ = _mm256_broadcast_ss((xs) + 5);                                           \
        c50 = _mm256_fmadd_ps(bc_, y0, c50);                                           \
        c51 = _mm256_fmadd_ps(bc_, y1, c51);                                           \
    } while (0)

/* ---- shape R: C[0:mr, 0:nr] (mr <= 6, nr <= 16) ---- */

/* the activation of 8 lanes (see lrpx__act_apply for the operand order) */
__attribute__((always_inline)) PG_TARGET static inline __m256
pg_act(const struct lrpx_act *act, __m256 v)
{
    if (act->kind == LRPX_ACT_RELU)
        return _mm256_max_ps(v, _mm256_setzero_ps());
    return _mm256_min_ps(_mm256_set1_ps(act->hi), _mm256_max_ps(_mm256_set1_ps(act->lo), v));
}

__attribute__((always_inline)) PG_TARGET static inline void
pg_tile_r(bool partial, int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
          int64_t ldc, int mr, int nr, const float *bias, bool first,
          const struct lrpx_act *act, float *ca)
{
    __m256i m0 = _mm256_setzero_si256(), m1 = m0;
    if (partial) {
        m0 = _mm256_loadu_si256((const __m256i *)(pg_mask + 16 - nr));
        m1 = _mm256_loadu_si256((const __m256i *)(pg_mask + 24 - nr));
    }
    __m256 acc[6][2];
    for (int i = 0; i < 6; i++) {
        if (i >= mr || first) {
            acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        } else if (partial) {
            acc[i][0] = _mm256_maskload_ps(c + i * ldc, m0);
            acc[i][1] = _mm256_maskload_ps(c + i * ldc + 8, m1);
        } else {
            acc[i][0] = _mm256_loadu_ps(c + i * ldc);
            acc[i][1] = _mm256_loadu_ps(c + i * ldc + 8);
        }
    }
    __m256 c00 = acc[0][0], c01 = acc[0][1], c10 = acc[1][0], c11 = acc[1][1];
    __m256 c20 = acc[2][0], c21 = acc[2][1], c30 = acc[3][0], c31 = acc[3][1];
    __m256 c40 = acc[4][0], c41 = acc[4][1], c50 = acc[5][0], c51 = acc[5][1];
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = partial ? _mm256_maskload_ps(b, m0) : _mm256_loadu_ps(b);
        const __m256 b1 = partial ? _mm256_maskload_ps(b + 8, m1) : _mm256_loadu_ps(b + 8);
        PG_STEP(a, b0, b1);
        a += PG_R_MR;
        b += ldb;
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
    acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
    acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
    for (int i = 0; i < mr; i++) {
        if (bias) {
            const __m256 bv = _mm256_set1_ps(bias[i]);
            acc[i][0]       = _mm256_add_ps(acc[i][0], bv);
            acc[i][1]       = _mm256_add_ps(acc[i][1], bv);
        }
        if (partial) {
            _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
            _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
        } else {
            _mm256_storeu_ps(c + i * ldc, acc[i][0]);
            _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
        }
        if (!act)
            continue;
        const __m256 y0 = pg_act(act, acc[i][0]), y1 = pg_act(act, acc[i][1]);
        if (partial) {
            _mm256_maskstore_ps(ca + i * ldc, m0, y0);
            _mm256_maskstore_ps(ca + i * ldc + 8, m1, y1);
        } else {
            _mm256_storeu_ps(ca + i * ldc, y0);
            _mm256_storeu_ps(ca + i * ldc + 8, y1);
        }
    }
}

PG_TARGET static void
pg_tile_r_full(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
               int mr, const float *bias, bool first, const struct lrpx_act *act, float *ca)
{
    pg_tile_r(false, kc, a, b, ldb, c, ldc, mr, PG_R_NR, bias, first, act, ca);
}

PG_TARGET static void
pg_tile_r_part(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
               int mr, int nr, const float *bias, bool first, const struct lrpx_act *act,
               float *ca)
{
    pg_tile_r(true, kc, a, b, ldb, c, ldc, mr, nr, bias, first, act, ca);
}

/* A partial strip of at most 8 columns: one vector per row, half the work
 * of a full tile (same operations per element, so the same bits). */
PG_TARGET static void
pg_tile_r_half(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
               int mr, int nr, const float *bias, bool first, const struct lrpx_act *act,
               float *ca)
{
    const __m256i m0 = _mm256_loadu_si256((const __m256i *)(pg_mask + 16 - nr));
    __m256        acc[6];
    for (int i = 0; i < 6; i++)
        acc[i] = i >= mr || first ? _mm256_setzero_ps() : _mm256_maskload_ps(c + i * ldc, m0);
    __m256 c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5];
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_maskload_ps(b, m0);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, c5);
        a += PG_R_MR;
        b += ldb;
    }
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;
    for (int i = 0; i < mr; i++) {
        if (bias)
            acc[i] = _mm256_add_ps(acc[i], _mm256_set1_ps(bias[i]));
        _mm256_maskstore_ps(c + i * ldc, m0, acc[i]);
        if (act)
            _mm256_maskstore_ps(ca + i * ldc, m0, pg_act(act, acc[i]));
    }
}

/* ---- shape C: C[0:mr, 0:nr] (mr <= 16, nr <= 6) from the packed A panel
 * a (kc x 16) and the copied B group bg (kc x 6) ---- */

PG_TARGET static void
pg_tile_c(int64_t kc, const float *a, const float *bg, float *c, int64_t ldc, int mr, int nr,
          const float *bias, bool first, const struct lrpx_act *act, float *ca)
{
    /* acc[j][h]: column j, rows 8h .. 8h + 7 */
    float t[PG_C_NR][PG_C_MR];
    if (first) {
        memset(t, 0, sizeof t);
    } else {
        for (int j = 0; j < PG_C_NR; j++)
            for (int i = 0; i < PG_C_MR; i++)
                t[j][i] = i < mr && j < nr ? c[i * ldc + j] : 0.0f;
    }
    __m256 c00 = _mm256_loadu_ps(t[0]), c01 = _mm256_loadu_ps(t[0] + 8);
    __m256 c10 = _mm256_loadu_ps(t[1]), c11 = _mm256_loadu_ps(t[1] + 8);
    __m256 c20 = _mm256_loadu_ps(t[2]), c21 = _mm256_loadu_ps(t[2] + 8);
    __m256 c30 = _mm256_loadu_ps(t[3]), c31 = _mm256_loadu_ps(t[3] + 8);
    __m256 c40 = _mm256_loadu_ps(t[4]), c41 = _mm256_loadu_ps(t[4] + 8);
    __m256 c50 = _mm256_loadu_ps(t[5]), c51 = _mm256_loadu_ps(t[5] + 8);
    for (int64_t k = 0; k < kc; k++) {
        const __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
        PG_STEP(bg, a0, a1);
        a += PG_C_MR;
        bg += PG_C_NR;
    }
    _mm256_storeu_ps(t[0], c00), _mm256_storeu_ps(t[0] + 8, c01);
    _mm256_storeu_ps(t[1], c10), _mm256_storeu_ps(t[1] + 8, c11);
    _mm256_storeu_ps(t[2], c20), _mm256_storeu_ps(t[2] + 8, c21);
    _mm256_storeu_ps(t[3], c30), _mm256_storeu_ps(t[3] + 8, c31);
    _mm256_storeu_ps(t[4], c40), _mm256_storeu_ps(t[4] + 8, c41);
    _mm256_storeu_ps(t[5], c50), _mm256_storeu_ps(t[5] + 8, c51);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            const float z  = bias ? t[j][i] + bias[i] : t[j][i];
            c[i * ldc + j] = z;
            if (act)
                ca[i * ldc + j] = lrpx__act_apply(act->kind, act->lo, act->hi, z);
        }
}

/* ---- shape R on AVX-512: tiles of up to 12 rows (two packed 6-row
 * panels) x 32 columns, 24 accumulators of the 32 zmm registers. The packed
 * A and the K blocks are those of the AVX2 kernels, and every element of C
 * gets the same operations in the same order (fused multiply-adds in order
 * of k, partial sums stored between K blocks, bias last), so the two
 * kernels give the same bits. ---- */

#define PG_Z_NR 32
#define PG_TARGET_Z __attribute__((target("avx2,fma,avx512f")))

__attribute__((always_inline)) PG_TARGET_Z static inline __m512
pg_act_z(const struct lrpx_act *act, __m512 v)
{
    if (act->kind == LRPX_ACT_RELU)
        return _mm512_max_ps(v, _mm512_setzero_ps());
    return _mm512_min_ps(_mm512_set1_ps(act->hi), _mm512_max_ps(_mm512_set1_ps(act->lo), v));
}

/* C[0:mr, 0:nr] (mr <= 6 np, nr <= 32) from np panels (a0, and a1 when np
 * is 2) and B (kc x nr, row stride ldb); nv vectors per row: 2 (up to 32
 * columns) or 1 (up to 16: half the work for a narrow last strip). The
 * AVX2 pg_act/pg_tile_r above are the same steps on 8 lanes. */
__attribute__((always_inline)) PG_TARGET_Z static inline void
pg_tile_z(const int np, const int nv, const bool partial, int64_t kc, const float *a0,
          const float *a1, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,
          const float *bias, bool first, const struct lrpx_act *act, float *ca)
{
    __mmask16 m[2] = {0xffff, 0xffff};
    if (partial) {
        m[0] = (__mmask16)(nr >= 16 ? 0xffff : (1u << nr) - 1);
        m[1] = (__mmask16)(nr <= 16 ? 0 : nr >= 32 ? 0xffff : (1u << (nr - 16)) - 1);
    }
    /* the rows of C this tile stores (each 64 or 128 bytes, so two or
     * three cache lines unaligned) are fetched while the products run: with
     * a short K (a stem's 27 or 147 taps) the stores would otherwise wait
     * for their lines */
    if (first)
        for (int i = 0; i < mr; i++) {
            const char *row = (const char *)(c + i * ldc);
            _mm_prefetch(row, _MM_HINT_T0);
            _mm_prefetch(row + 64 * nv - 1, _MM_HINT_T0);
            if (act) {
                const char *arow = (const char *)(ca + i * ldc);
                _mm_prefetch(arow, _MM_HINT_T0);
                _mm_prefetch(arow + 64 * nv - 1, _MM_HINT_T0);
            }
        }
    __m512 acc[12][2];
#pragma GCC unroll 12
    for (int i = 0; i < 6 * np; i++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            acc[i][v] = first || i >= mr ? _mm512_setzero_ps()
                                         : _mm512_maskz_loadu_ps(m[v], c + i * ldc + 16 * v);
    for (int64_t k = 0; k < kc; k++) {
        __m512 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            bv[v] = partial ? _mm512_maskz_loadu_ps(m[v], b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 12
        for (int i = 0; i < 6 * np; i++) {
            const __m512 x = _mm512_set1_ps(i < 6 ? a0[i] : a1[i - 6]);
#pragma GCC unroll 2
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm512_fmadd_ps(x, bv[v], acc[i][v]);
        }
        a0 += PG_R_MR;
        a1 += PG_R_MR;
        b += ldb;
    }
#pragma GCC unroll 12
    for (int i = 0; i < 6 * np; i++) {
        if (i >= mr)
            break;
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) {
            if (bias)
                acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_set1_ps(bias[i]));
            _mm512_mask_storeu_ps(c + i * ldc + 16 * v, m[v], acc[i][v]);
            if (act)
                _mm512_mask_storeu_ps(ca + i * ldc + 16 * v, m[v], pg_act_z(act, acc[i][v]));
        }
    }
}

#define PG_TILE_Z_FN(name, NP, NV, PARTIAL)                                                \
    PG_TARGET_Z static void name(int64_t kc, const float *a0, const float *a1,             \
                                 const float *b, int64_t ldb, float *c, int64_t ldc,       \
                                 int mr, int nr, const float *bias, bool first,            \
                                 const struct lrpx_act *act, float *ca)                    \
    {                                                                                      \
        pg_tile_z(NP, NV, PARTIAL, kc, a0, a1, b, ldb, c, ldc, mr, nr, bias, first, act,   \
                  ca);                                                                     \
    }
PG_TILE_Z_FN(pg_tile_z2_full, 2, 2, false)
PG_TILE_Z_FN(pg_tile_z1_full, 1, 2, false)
PG_TILE_Z_FN(pg_tile_z2_part, 2, 2, true)
PG_TILE_Z_FN(pg_tile_z1_part, 1, 2, true)
PG_TILE_Z_FN(pg_tile_z2_half, 2, 1, true)
PG_TILE_Z_FN(pg_tile_z1_half, 1, 1, true)

PG_TARGET_Z static void
pg_copy_strip_z(int64_t kc, const float *b, int64_t ldb, float *bs)
{
    for (int64_t kk = 0; kk < kc; kk++, b += ldb, bs += PG_Z_NR) {
        _mm512_store_ps(bs, _mm512_loadu_ps(b));
        _mm512_store_ps(bs + 16, _mm512_loadu_ps(b + 16));
    }
}

/* ---- drivers ---- */

struct pg_ctx {
    enum pg_shape shape;
    bool          z;            /* shape R with the AVX-512 tiles        */
    int64_t       m, n, k, mp, ldb, ldc;
    const float  *ap, *b, *bias;
    float        *c;
    const struct lrpx_act *act;
    bool          by_cols;      /* threads split the column groups, else */
                                /* the row panels                        */
};

/* Copy a full 16-column strip of a K block of B into bs (kc x 16,
 * aligned): rows of B at an arbitrary stride would straddle cache lines and
 * crowd a few cache sets. */
PG_TARGET static void
pg_copy_strip(int64_t kc, const float *b, int64_t ldb, float *bs)
{
    for (int64_t kk = 0; kk < kc; kk++, b += ldb, bs += PG_R_NR) {
        _mm256_store_ps(bs, _mm256_loadu_ps(b));
        _mm256_store_ps(bs + 8, _mm256_loadu_ps(b + 8));
    }
}

/* One shape-R tile: np row panels (1, or 2 with the AVX-512 tiles) from
 * the panel at a (the next one kc * PG_R_MR floats on) times B's strip of
 * nr columns. */
static void
pg_tile_r_any(const struct pg_ctx *x, int np, int64_t kc, const float *a, const float *b,
              int64_t ldb, float *c, int mr, int nr, const float *bias, bool first,
              const struct lrpx_act *act, float *ca)
{
    const int64_t ldc = x->ldc;
    const float  *a1  = a + PG_R_MR * kc;
    if (!x->z) {
        if (nr == PG_R_NR)
            pg_tile_r_full(kc, a, b, ldb, c, ldc, mr, bias, first, act, ca);
        else if (nr <= 8)
            pg_tile_r_half(kc, a, b, ldb, c, ldc, mr, nr, bias, first, act, ca);
        else
            pg_tile_r_part(kc, a, b, ldb, c, ldc, mr, nr, bias, first, act, ca);
    } else if (nr == PG_Z_NR) {
        (np == 2 ? pg_tile_z2_full : pg_tile_z1_full)(kc, a, a1, b, ldb, c, ldc, mr, nr, bias,
                                                      first, act, ca);
    } else if (nr <= 16) {
        (np == 2 ? pg_tile_z2_half : pg_tile_z1_half)(kc, a, a1, b, ldb, c, ldc, mr, nr, bias,
                                                      first, act, ca);
    } else {
        (np == 2 ? pg_tile_z2_part : pg_tile_z1_part)(kc, a, a1, b, ldb, c, ldc, mr, nr, bias,
                                                      first, act, ca);
    }
}

/* shape R: column strips [s0, s1) x row panels [r0, r1); with the AVX-512
 * tiles the strips are 32 columns wide and the panels go two at a time */
static void
pg_block_r(const struct pg_ctx *x, int64_t s0, int64_t s1, int64_t r0, int64_t r1)
{
    float         strip[PG_KC_R * PG_Z_NR] __attribute__((aligned(64)));
    const int     NR   = x->z ? PG_Z_NR : PG_R_NR;
    const int64_t step = x->z ? 2 : 1;
    for (int64_t k0 = 0; k0 < x->k; k0 += PG_KC_R) {
        const int64_t kc    = x->k - k0 < PG_KC_R ? x->k - k0 : PG_KC_R;
        const float  *apk   = x->ap + k0 * x->mp * PG_R_MR;
        const bool    first = k0 == 0, last = k0 + kc >= x->k;
        for (int64_t s = s0; s < s1; s++) {
            const int64_t j   = s * NR;
            const int     nr  = (int)(x->n - j < NR ? x->n - j : NR);
            const float  *bs  = x->b + k0 * x->ldb + j;
            int64_t       ldb = x->ldb;
            if (nr == NR && r1 - r0 > step) {
                (x->z ? pg_copy_strip_z : pg_copy_strip)(kc, bs, ldb, strip);
                bs  = strip;
                ldb = NR;
            }
            for (int64_t r = r0; r < r1; r += step) {
                const int     np   = r + step <= r1 ? (int)step : 1;
                const int64_t rows = x->m - r * PG_R_MR;
                const int     mr   = (int)(rows < PG_R_MR * np ? rows : PG_R_MR * np);
                const int64_t off  = r * PG_R_MR * x->ldc + j;
                const struct lrpx_act *act = last ? x->act : NULL;
                pg_tile_r_any(x, np, kc, apk + r * PG_R_MR * kc, bs, ldb, x->c + off, mr, nr,
                              x->bias && last ? x->bias + r * PG_R_MR : NULL, first, act,
                              act ? act->out + off : NULL);
            }
        }
    }
}

/* shape C: column groups [s0, s1) x row panels [r0, r1) */
static void
pg_block_c(const struct pg_ctx *x, int64_t s0, int64_t s1, int64_t r0, int64_t r1)
{
    float bg[PG_KC_C * PG_C_NR];
    for (int64_t k0 = 0; k0 < x->k; k0 += PG_KC_C) {
        const int64_t kc    = x->k - k0 < PG_KC_C ? x->k - k0 : PG_KC_C;
        const float  *apk   = x->ap + k0 * x->mp * PG_C_MR;
        const bool    first = k0 == 0, last = k0 + kc >= x->k;
        for (int64_t s = s0; s < s1; s++) {
            const int64_t j  = s * PG_C_NR;
            const int     nr = (int)(x->n - j < PG_C_NR ? x->n - j : PG_C_NR);
            for (int64_t kk = 0; kk < kc; kk++) {
                const float *src = x->b + (k0 + kk) * x->ldb + j;
                for (int jj = 0; jj < PG_C_NR; jj++)
                    bg[kk * PG_C_NR + jj] = jj < nr ? src[jj] : 0.0f;
            }
            for (int64_t r = r0; r < r1; r++) {
                const int mr = (int)(x->m - r * PG_C_MR < PG_C_MR ? x->m - r * PG_C_MR
                                                                   : PG_C_MR);
                const int64_t          off = r * PG_C_MR * x->ldc + j;
                const struct lrpx_act *act = last ? x->act : NULL;
                pg_tile_c(kc, apk + r * PG_C_MR * kc, bg, x->c + off, x->ldc, mr, nr,
                          x->bias && last ? x->bias + r * PG_C_MR : NULL, first, act,
                          act ? act->out + off : NULL);
            }
        }
    }
}

static void
pg_range(void *ctx, int64_t u0, int64_t u1)
{
    const struct pg_ctx *x  = ctx;
    const int64_t        nr = x->z ? PG_Z_NR : x->shape == PG_R ? PG_R_NR : PG_C_NR;
    const int64_t        s0 = x->by_cols ? u0 : 0, s1 = x->by_cols ? u1 : pg_ceil(x->n, nr);
    const int64_t        r0 = x->by_cols ? 0 : u0, r1 = x->by_cols ? x->mp : u1;
    if (x->shape == PG_R)
        pg_block_r(x, s0, s1, r0, r1);
    else
        pg_block_c(x, s0, s1, r0, r1);
}

void
lrpx__pgemm(struct lrpx_pool *pool, int64_t m, int64_t n, int64_t k, const float *ap,
            const float *b, int64_t ldb, const float *bias, float *c, int64_t ldc,
            const struct lrpx_act *act)
{
    if (m <= 0 || n <= 0)
        return;
    if (act && act->kind == LRPX_ACT_NONE)
        act = NULL;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                c[i * ldc + j] = bias ? bias[i] : 0.0f;
                if (act)
                    act->out[i * ldc + j] =
                        lrpx__act_apply(act->kind, act->lo, act->hi, c[i * ldc + j]);
            }
        return;
    }
    const enum pg_shape shape = ap[0] == (float)PG_C ? PG_C : PG_R;
    const bool          z  = shape == PG_R && lrpx__cpu_has(LRPX_CPU_AVX512F);
    const int64_t       mr = shape == PG_R ? PG_R_MR : PG_C_MR;
    const int64_t       nr = z ? PG_Z_NR : shape == PG_R ? PG_R_NR : PG_C_NR;
    const int64_t       groups = pg_ceil(n, nr), mp = pg_ceil(m, mr);
    const int64_t       t = lrpx__pool_threads(pool);
    /* how the work is split changes no bit: each element of C is computed
     * by the same operations wherever it falls */
    struct pg_ctx x = {shape, z, m, n, k, mp, ldb, ldc, ap + PG_HDR, b, bias, c, act,
                       groups >= 4 * t};
    /* about 1 MFLOP per range at least: smaller ranges cost more to hand
     * out than they take */
    const int64_t per_unit = 2 * k * (x.by_cols ? nr * m : mr * n);
    lrpx__parallel_for(pool, x.by_cols ? groups : mp, 1 + (1 << 20) / (per_unit + 1), pg_range,
                       &x);
}

#else /* not x86-64 with GCC-style intrinsics */

bool
lrpx__pgemm_available(void)
{
    return false;
}

void
lrpx__pgemm(struct lrpx_pool *pool, int64_t m, int64_t n, int64_t k, const float *ap,
            const float *b, int64_t ldb, const float *bias, float *c, int64_t ldc,
            const struct lrpx_act *act)
{
    (void)pool, (void)m, (void)n, (void)k, (void)ap, (void)b, (void)ldb, (void)bias;
    (void)c, (void)ldc, (void)act;
}

#endif
