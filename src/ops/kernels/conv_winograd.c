/* Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped 2-D
 * convolutions (Lavin & Gray 2016, "Fast Algorithms for Convolutional
 * Neural Networks"): each 2x2 block of outputs ("tile") comes from a 4x4
 * input patch d and the 3x3 kernel g as
 *
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A
 *
 * with (.) element-wise and
 *
 *     B^T = | 1  0 -1  0 |     G = | 1    0    0   |     A^T = | 1  1  1  0 |
 *           | 0  1  1  0 |         | 1/2  1/2  1/2 |           | 0  1 -1 -1 |
 *           | 0 -1  1  0 |         | 1/2 -1/2  1/2 |
 *           | 0  1  0 -1 |         | 0    0    1   |
 *
 * Summed over input channels, the element-wise products become 16
 * independent matrix products, one per position e of the 4x4 transform
 * domain: M_e [out_c x tiles] = U_e [out_c x in_c] V_e [in_c x tiles], done
 * by sgemm. That takes 16 multiplications per tile and channel pair instead
 * of 36. The transforms only add and subtract (G's halves are exact), so
 * the result differs from the direct sum by rounding alone: a few float32
 * ulps of the largest terms (tests/test_kernels.c compares it with a
 * float64 direct convolution).
 *
 * U = G g G^T is computed once per plan from the constant weight (in
 * double, rounded once). Tiles are processed in chunks of whole tile rows
 * so the transformed input V and product M stay in cache. */
#include <string.h>

#include "ops/kernels/conv_impl.h"
#include "ops/kernels/pgemm_impl.h"
#include "util/parallel.h"

/* target size of V + M for one chunk */
#define WINO_CHUNK_BYTES ((size_t)3 << 20)
/* most tiles in a row (output width 2 * WINO_MAX_TW) */
#define WINO_MAX_TW 256

bool
lrpx__winograd_fits(const struct lrpx_conv_geom *g)
{
    if (g->group != 1 || g->kernel[0] != 1 || g->in_sp[0] != 1 || g->out_sp[0] != 1)
        return false;
    if (g->kernel[1] != 3 || g->kernel[2] != 3 || g->stride[1] != 1 || g->stride[2] != 1 ||
        g->dilation[1] != 1 || g->dilation[2] != 1 || g->pad[1] < 0 || g->pad[2] < 0)
        return false;
    /* small channel counts leave the GEMMs too thin to gain, and tiny
     * images waste most of each tile row */
    if (g->in_c < 16 || g->out_c < 16 || g->out_sp[1] < 4 || g->out_sp[2] < 4)
        return false;
    /* the transforms keep one tile row on the stack */
    if ((g->out_sp[2] + 1) / 2 > WINO_MAX_TW)
        return false;
    return true;
}

/* tiles per row and column, tile rows per chunk */
static void
wino_tiles(const struct lrpx_conv_geom *g, int64_t *th, int64_t *tw, int64_t *rows_c)
{
    *th = (g->out_sp[1] + 1) / 2;
    *tw = (g->out_sp[2] + 1) / 2;
    const size_t per_tile = 16 * (size_t)(g->in_c + g->out_c) * sizeof(float);
    int64_t      r        = (int64_t)(WINO_CHUNK_BYTES / per_tile) / *tw;
    if (r * *tw < 96)           /* keep the GEMMs at least ~96 columns wide */
        r = (96 + *tw - 1) / *tw;
    if (r < 1)
        r = 1;
    if (r > *th)
        r = *th;
    *rows_c = r;
}

size_t
lrpx__winograd_scratch_bytes(const struct lrpx_conv_geom *g)
{
    int64_t th, tw, rc;
    wino_tiles(g, &th, &tw, &rc);
    return 16 * (size_t)(g->in_c + g->out_c) * (size_t)(rc * tw) * sizeof(float);
}

size_t
lrpx__winograd_weight_floats(const struct lrpx_conv_geom *g, bool packed)
{
    return 16 * (packed ? lrpx__pgemm_packed_floats(g->out_c, g->in_c)
                        : (size_t)g->out_c * (size_t)g->in_c);
}

/* flip: w is stored [in_c][out_c][3][3] (g's channel axes swapped) and
 * each kernel is rotated by 180 degrees: the weight of the adjoint.
 * Blocks of WINO_WB input channels at a time, so the compiler vectorises
 * the transforms across kernels. */
#define WINO_WB 32
LRPX_TARGET_CLONES
static void
wino_weights_plain(const struct lrpx_conv_geom *g, const float *w, float *u, bool flip)
{
    const int64_t oc = g->out_c, ic = g->in_c;
    for (int64_t o = 0; o < oc; o++)
        for (int64_t c0 = 0; c0 < ic; c0 += WINO_WB) {
            const int nb = (int)(ic - c0 < WINO_WB ? ic - c0 : WINO_WB);
            double    k[9][WINO_WB], t[4][3][WINO_WB];
            for (int b = 0; b < nb; b++) {
                const float *k0 = w + (flip ? (c0 + b) * oc + o : o * ic + c0 + b) * 9;
                for (int i = 0; i < 9; i++)
                    k[i][b] = k0[flip ? 8 - i : i];
            }
            for (int j = 0; j < 3; j++)             /* t = G k (columns)  */
                for (int b = 0; b < nb; b++) {
                    const double a = k[j][b], bb = k[3 + j][b], d = k[6 + j][b];
                    t[0][j][b] = a;
                    t[1][j][b] = 0.5 * (a + bb + d);
                    t[2][j][b] = 0.5 * (a - bb + d);
                    t[3][j][b] = d;
                }
            for (int i = 0; i < 4; i++) {           /* r = t G^T (rows)   */
                float *r0 = u + ((int64_t)(4 * i + 0) * oc + o) * ic + c0;
                float *r1 = u + ((int64_t)(4 * i + 1) * oc + o) * ic + c0;
                float *r2 = u + ((int64_t)(4 * i + 2) * oc + o) * ic + c0;
                float *r3 = u + ((int64_t)(4 * i + 3) * oc + o) * ic + c0;
                for (int b = 0; b < nb; b++) {
                    const double a = t[i][0][b], bb = t[i][1][b], d = t[i][2][b];
                    r0[b] = (float)a;
                    r1[b] = (float)(0.5 * (a + bb + d));
                    r2[b] = (float)(0.5 * (a - bb + d));
                    r3[b] = (float)d;
                }
            }
        }
}

lrpx_status
lrpx__winograd_weights_ex(const struct lrpx_conv_geom *g, const float *w, float *u,
                          bool packed, bool flip, float *tmp)
{
    if (!packed) {
        wino_weights_plain(g, w, u, flip);
        return LRPX_OK;
    }
    const size_t mat   = (size_t)g->out_c * (size_t)g->in_c;
    float       *plain = tmp ? tmp : lrpx__malloc(16 * mat * sizeof(float));
    if (!plain)
        return LRPX_ENOMEM;
    wino_weights_plain(g, w, plain, flip);
    const size_t per = lrpx__pgemm_packed_floats(g->out_c, g->in_c);
    int64_t      th, tw, rows_c;
    wino_tiles(g, &th, &tw, &rows_c);
    for (int e = 0; e < 16; e++)
        lrpx__pgemm_pack(plain + e * mat, g->in_c, g->out_c, g->in_c, rows_c * tw, u + e * per);
    if (plain != tmp)
        lrpx__free(plain);
    return LRPX_OK;
}

lrpx_status
lrpx__winograd_weights(const struct lrpx_conv_geom *g, const float *w, float *u, bool packed)
{
    return lrpx__winograd_weights_ex(g, w, u, packed, false, NULL);
}

/* ---- transforms of one chunk (tile rows [tr0, tr1)) ---- */

struct wino_ctx {
    const struct lrpx_conv_geom *g;
    const float                 *in, *u, *bias;
    bool                         packed;
    const struct lrpx_act       *act;       /* fused activation or NULL  */
    float                       *out;
    float                       *v, *m;     /* [16][in_c][nt], [16][out_c][nt] */
    int64_t                      tw, tr0, tr1, nt;
};

/* V for input channels [c0, c1) */
LRPX_TARGET_CLONES
static void
wino_input_range(void *ctx_, int64_t c0, int64_t c1)
{
    const struct wino_ctx       *c = ctx_;
    const struct lrpx_conv_geom *g = c->g;
    const int64_t IH = g->in_sp[1], IW = g->in_sp[2], ph = g->pad[1], pw = g->pad[2];
    const int64_t TW = c->tw, len = 2 * TW + 2, ic = g->in_c, nt = c->nt;
    /* padded copies of the 4 input rows of a tile row, and the row
     * transforms t_j (j = 0..3) of each, per tile */
    float rows[4][2 * WINO_MAX_TW + 2];
    float t[4][4][WINO_MAX_TW];
    const int64_t lo = pw < len ? pw : len, hi = pw + IW < len ? pw + IW : len;

    for (int r = 0; r < 4; r++) {
        for (int64_t k = 0; k < lo; k++)
            rows[r][k] = 0.0f;
        for (int64_t k = hi; k < len; k++)
            rows[r][k] = 0.0f;
    }
    for (int64_t ch = c0; ch < c1; ch++) {
        const float *x = c->in + ch * g->in_size;
        for (int64_t tr = c->tr0; tr < c->tr1; tr++) {
            const int64_t base = (tr - c->tr0) * TW;
            for (int r = 0; r < 4; r++) {
                const int64_t ih = 2 * tr - ph + r;
                float        *p  = rows[r];
                if (ih < 0 || ih >= IH) {
                    for (int64_t k = lo; k < hi; k++)
                        p[k] = 0.0f;
                } else {
                    const float *src = x + ih * IW - pw;
                    for (int64_t k = lo; k < hi; k++)
                        p[k] = src[k];
                }
                for (int64_t j = 0; j < TW; j++) {   /* d B along the row */
                    const float d0 = p[2 * j], d1 = p[2 * j + 1];
                    const float d2 = p[2 * j + 2], d3 = p[2 * j + 3];
                    t[r][0][j] = d0 - d2;
                    t[r][1][j] = d1 + d2;
                    t[r][2][j] = d2 - d1;
                    t[r][3][j] = d1 - d3;
                }
            }
            for (int col = 0; col < 4; col++) {      /* B^T (.) down the rows */
                float *v0 = c->v + ((int64_t)(0 * 4 + col) * ic + ch) * nt + base;
                float *v1 = c->v + ((int64_t)(1 * 4 + col) * ic + ch) * nt + base;
                float *v2 = c->v + ((int64_t)(2 * 4 + col) * ic + ch) * nt + base;
                float *v3 = c->v + ((int64_t)(3 * 4 + col) * ic + ch) * nt + base;
                for (int64_t j = 0; j < TW; j++) {
                    const float a0 = t[0][col][j], a1 = t[1][col][j];
                    const float a2 = t[2][col][j], a3 = t[3][col][j];
                    v0[j] = a0 - a2;
                    v1[j] = a1 + a2;
                    v2[j] = a2 - a1;
                    v3[j] = a1 - a3;
                }
            }
        }
    }
}

/* outputs of channels [o0, o1) from M */
LRPX_TARGET_CLONES
static void
wino_output_range(void *ctx_, int64_t o0, int64_t o1)
{
    const struct wino_ctx       *c = ctx_;
    const struct lrpx_conv_geom *g = c->g;
    const int64_t OH = g->out_sp[1], OW = g->out_sp[2], oc = g->out_c;
    const int64_t TW = c->tw, nt = c->nt, full = OW / 2;
    float s[4][2][WINO_MAX_TW];

    for (int64_t o = o0; o < o1; o++) {
        const float b = c->bias ? c->bias[o] : 0.0f;
        float      *y = c->out + o * g->out_size;
        for (int64_t tr = c->tr0; tr < c->tr1; tr++) {
            const int64_t base = (tr - c->tr0) * TW;
            for (int r = 0; r < 4; r++) {            /* m A along each row */
                const float *m0 = c->m + ((int64_t)(r * 4 + 0) * oc + o) * nt + base;
                const float *m1 = c->m + ((int64_t)(r * 4 + 1) * oc + o) * nt + base;
                const float *m2 = c->m + ((int64_t)(r * 4 + 2) * oc + o) * nt + base;
                const float *m3 = c->m + ((int64_t)(r * 4 + 3) * oc + o) * nt + base;
                for (int64_t j = 0; j < TW; j++) {
                    s[r][0][j] = m0[j] + m1[j] + m2[j];
                    s[r][1][j] = m1[j] - m2[j] - m3[j];
                }
            }
            /* A^T (.) down the rows: output rows 2 tr (from s0 + s1 + s2)
             * and 2 tr + 1 (from s1 - s2 - s3) */
            float *y0 = y + 2 * tr * OW, *y1 = y0 + OW;
            for (int64_t j = 0; j < full; j++) {
                y0[2 * j]     = s[0][0][j] + s[1][0][j] + s[2][0][j] + b;
                y0[2 * j + 1] = s[0][1][j] + s[1][1][j] + s[2][1][j] + b;
            }
            if (OW & 1)
                y0[2 * full] = s[0][0][full] + s[1][0][full] + s[2][0][full] + b;
            if (2 * tr + 1 >= OH)
                continue;
            for (int64_t j = 0; j < full; j++) {
                y1[2 * j]     = s[1][0][j] - s[2][0][j] - s[3][0][j] + b;
                y1[2 * j + 1] = s[1][1][j] - s[2][1][j] - s[3][1][j] + b;
            }
            if (OW & 1)
                y1[2 * full] = s[1][0][full] - s[2][0][full] - s[3][0][full] + b;
        }
        if (c->act) {   /* the activation of the rows just written */
            const int64_t r0 = 2 * c->tr0, r1 = 2 * c->tr1 < OH ? 2 * c->tr1 : OH;
            const float  *z  = y + r0 * OW;
            float        *a  = c->act->out + o * g->out_size + r0 * OW;
            for (int64_t i = 0; i < (r1 - r0) * OW; i++)
                a[i] = lrpx__act_apply(c->act->kind, c->act->lo, c->act->hi, z[i]);
        }
    }
}

/* M_e = U_e V_e for transform positions e in [e0, e1) */
static void
wino_gemm_range(void *ctx_, int64_t e0, int64_t e1)
{
    const struct wino_ctx *c = ctx_;
    const int64_t ic = c->g->in_c, oc = c->g->out_c, nt = c->nt;
    const size_t per = lrpx__pgemm_packed_floats(oc, ic);
    for (int64_t e = e0; e < e1; e++) {
        if (c->packed)
            lrpx__pgemm(NULL, oc, nt, ic, c->u + e * per, c->v + e * ic * nt, nt, NULL,
                        c->m + e * oc * nt, nt, NULL);
        else
            lrpx__sgemm(false, false, oc, nt, ic, 1.0f, c->u + e * oc * ic, ic,
                        c->v + e * ic * nt, nt, 0.0f, c->m + e * oc * nt, nt);
    }
}

void
lrpx__winograd_fwd(const struct lrpx_conv_geom *g, const float *in, const float *u, bool packed,
                   const float *bias, float *out, float *scratch, struct lrpx_pool *pool,
                   const struct lrpx_act *act)
{
    int64_t TH, TW, rows_c;
    wino_tiles(g, &TH, &TW, &rows_c);
    const int64_t ic = g->in_c, oc = g->out_c;

    for (int64_t b = 0; b < g->batch; b++) {
        const float *in_b  = in + b * ic * g->in_size;
        float       *out_b = out + b * oc * g->out_size;
        for (int64_t tr0 = 0; tr0 < TH; tr0 += rows_c) {
            const int64_t tr1 = tr0 + rows_c < TH ? tr0 + rows_c : TH;
            const int64_t nt  = (tr1 - tr0) * TW;
            struct lrpx_act ab = act ? *act : (struct lrpx_act){LRPX_ACT_NONE, 0, 0, NULL};
            ab.out = act ? act->out + b * oc * g->out_size : NULL;
            struct wino_ctx c = {g, in_b, u, bias, packed,
                                 act && act->kind != LRPX_ACT_NONE ? &ab : NULL, out_b, scratch,
                                 scratch + 16 * ic * nt, TW, tr0, tr1, nt};
            lrpx__parallel_for(pool, ic, 4, wino_input_range, &c);
            lrpx__parallel_for(pool, 16, 1, wino_gemm_range, &c);
            lrpx__parallel_for(pool, oc, 4, wino_output_range, &c);
        }
    }
}
