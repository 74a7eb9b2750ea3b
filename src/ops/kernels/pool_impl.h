/* Window geometry shared by the pooling ops (MaxPool, AveragePool): parsing
 * of kernel_shape / strides / dilations / pads / auto_pad / ceil_mode into
 * output sizes and per-dimension padding, and an iterator over the taps of
 * one pooling window that lie inside the input.
 *
 * Conventions (the spec's formulas, plus the PyTorch / ONNX Runtime rule
 * for ceil_mode that a window which would start inside the end padding is
 * dropped, so every window begins inside the input or the start padding):
 *   k_eff = (kernel - 1) * dilation + 1
 *   NOTSET: out = floor_or_ceil((in + pad_head + pad_tail - k_eff) / stride) + 1
 *   VALID:  the same with no padding
 *   SAME_*: out = ceil(in / stride), total pad = max(0, (out-1)*stride + k_eff - in),
 *           SAME_UPPER puts the odd cell at the end, SAME_LOWER at the start.
 * Taps are visited in row-major window order (first spatial dimension
 * outermost), i.e. in increasing input offset: the "first maximum" of a
 * window is the one PyTorch's max-pool gradient picks.
 */
#ifndef LRPX_POOL_IMPL_H
#define LRPX_POOL_IMPL_H

#include "core/op.h"

#define LRPX_POOL_MAX_SPATIAL (LRPX_MAX_RANK - 2)

struct lrpx_pool_geom {
    int     n_spatial;
    int64_t n_planes;                         /* N * C                        */
    int64_t in[LRPX_POOL_MAX_SPATIAL];        /* input spatial sizes          */
    int64_t out[LRPX_POOL_MAX_SPATIAL];       /* output spatial sizes         */
    int64_t kernel[LRPX_POOL_MAX_SPATIAL];
    int64_t stride[LRPX_POOL_MAX_SPATIAL];
    int64_t dilation[LRPX_POOL_MAX_SPATIAL];
    int64_t pad_head[LRPX_POOL_MAX_SPATIAL];
    int64_t pad_tail[LRPX_POOL_MAX_SPATIAL];
    int64_t in_stride[LRPX_POOL_MAX_SPATIAL]; /* row-major, within a plane    */
    int64_t in_plane;                         /* elements per input plane     */
    int64_t out_plane;                        /* elements per output plane    */
    int64_t out_dims[LRPX_MAX_RANK];          /* N, C, out[...]               */
    int     out_rank;
    /* per dimension and output position o (lrpx__pool_tables): the valid
     * taps t in [lo, hi) (input coordinate o*stride - pad_head + t*dilation
     * inside the input) and the taps inside the padded extent, np */
    int64_t *lo[LRPX_POOL_MAX_SPATIAL];
    int64_t *hi[LRPX_POOL_MAX_SPATIAL];
    int64_t *np[LRPX_POOL_MAX_SPATIAL];
};

/* Parse the pooling attributes of node n for input `in` (rank >= 3, dims
 * N x C x D1 ...) into g. Checks every attribute and reports malformed
 * ones with the node named (EPARSE for values the spec forbids, ESHAPE for
 * lengths that do not match the input's spatial rank or a kernel larger
 * than the padded input). */
lrpx_status lrpx__pool_geom_parse(struct lrpx_exec *x, const struct lrpx_node *n,
                                  const struct lrpx_tensor *in,
                                  struct lrpx_pool_geom *g);

/* Bytes of the tap tables for g (0 with *ok = false on overflow). */
size_t lrpx__pool_table_bytes(const struct lrpx_pool_geom *g, bool *ok);
/* Point g's tables into mem (lrpx__pool_table_bytes bytes, 8-aligned) and
 * fill them. */
void   lrpx__pool_tables(struct lrpx_pool_geom *g, int64_t *mem);

/* The shared part of MaxPool/AveragePool prepare: parse the geometry of
 * node n and allocate its params, params_size bytes of a struct whose FIRST
 * member is struct lrpx_pool_geom, followed by the tap tables; the geometry
 * is copied in and the tables filled. NULL on error, with *rc and the
 * message set. */
void *lrpx__pool_params_alloc(struct lrpx_exec *x, const struct lrpx_node *n,
                              const struct lrpx_tensor *in, size_t params_size,
                              lrpx_status *rc);

/* Iterator over the taps of one window that lie inside the input. */
struct lrpx_pool_iter {
    const struct lrpx_pool_geom *g;
    int64_t lo[LRPX_POOL_MAX_SPATIAL];   /* first valid tap per dimension */
    int64_t hi[LRPX_POOL_MAX_SPATIAL];   /* one past the last valid tap   */
    int64_t base[LRPX_POOL_MAX_SPATIAL]; /* input coordinate of tap 0     */
    int64_t t[LRPX_POOL_MAX_SPATIAL];    /* current tap                   */
    int64_t coord[LRPX_POOL_MAX_SPATIAL];/* current input coordinate      */
    int64_t off;                         /* current offset in the plane   */
    double  n_padded;                    /* taps inside the padded input  */
};

/* Start the window of output position opos (spatial multi-index); needs
 * the tables. Returns false when the window holds no input element at all
 * (only possible with unusual padding/dilation); it->n_padded is set
 * either way. */
bool lrpx__pool_iter_begin(struct lrpx_pool_iter *it, const struct lrpx_pool_geom *g,
                           const int64_t *opos);
/* Advance to the next tap; false when the window is done. */
static inline bool
lrpx__pool_iter_next(struct lrpx_pool_iter *it)
{
    const struct lrpx_pool_geom *g = it->g;
    for (int d = g->n_spatial - 1; d >= 0; d--) {
        if (++it->t[d] < it->hi[d]) {
            it->coord[d] += g->dilation[d];
            it->off += g->dilation[d] * g->in_stride[d];
            return true;
        }
        /* wrap this dimension back to its first valid tap */
        int64_t back = (it->t[d] - 1 - it->lo[d]) * g->dilation[d];
        it->t[d]      = it->lo[d];
        it->coord[d] -= back;
        it->off      -= back * g->in_stride[d];
    }
    return false;
}

/* ---- GlobalAveragePool, GlobalMaxPool ---- */

/* Params: one plane (window) per (n, c). */
struct lrpx_global_pool {
    int64_t n_planes;   /* N * C               */
    int64_t plane;      /* elements per (n, c) */
};

/* Prepare of a global pool (op names the op in messages): X float32 or
 * float64 of rank >= 2; allocates struct lrpx_global_pool as the node's
 * params; output N x C x 1 x ... x 1 of X's dtype. */
lrpx_status lrpx__global_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n,
                                      const char *op);

/* Advance a spatial output multi-index in row-major order. */
static inline void
lrpx__pool_opos_next(const struct lrpx_pool_geom *g, int64_t *opos)
{
    for (int d = g->n_spatial - 1; d >= 0; d--) {
        if (++opos[d] < g->out[d])
            return;
        opos[d] = 0;
    }
}

#endif /* LRPX_POOL_IMPL_H */
