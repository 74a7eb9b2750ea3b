/* Pooling window geometry: attribute parsing and the window iterator
 * declared in pool_impl.h (conventions are described there). */
#include <string.h>

#include "ops/kernels/pool_impl.h"

/* Attribute values above this are rejected: it keeps every sum and product
 * of two of them inside int64. */
#define POOL_ATTR_MAX ((int64_t)1 << 31)

static lrpx_status
pool_read_ints(struct lrpx_exec *x, const struct lrpx_node *n, const char *name,
               int want, int64_t min, int64_t def, int64_t *out)
{
    const int64_t          *v;
    int                     count = lrpx__attr_ints(n, name, &v);
    const struct lrpx_attr *a     = lrpx__attr_find(n, name);

    if (a && a->type != LRPX_ATTR_INTS)
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute %s must be a list of ints", name);
    if (count == 0) {
        for (int i = 0; i < want; i++)
            out[i] = def;
        return LRPX_OK;
    }
    if (count != want)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "attribute %s has %d values, expected %d for the input's "
                                "spatial rank", name, count, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < min || v[i] > POOL_ATTR_MAX)
            return lrpx__node_error(x, n, LRPX_EPARSE,
                                    "attribute %s[%d] = %lld is out of range [%lld, %lld]",
                                    name, i, (long long)v[i], (long long)min,
                                    (long long)POOL_ATTR_MAX);
        out[i] = v[i];
    }
    return LRPX_OK;
}

lrpx_status
lrpx__pool_geom_parse(struct lrpx_exec *x, const struct lrpx_node *n,
                      const struct lrpx_tensor *in, struct lrpx_pool_geom *g)
{
    lrpx_status rc;

    memset(g, 0, sizeof *g);
    if (in->rank < 3)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "input has rank %d, expected N x C x D1 x ... (rank >= 3)",
                                in->rank);
    int nd       = in->rank - 2;
    g->n_spatial = nd;
    /* an empty input's other dims may multiply past int64 */
    if (!lrpx__mul_i64(in->dims[0], in->dims[1], &g->n_planes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "input shape too large");

    if (!lrpx__attr_find(n, "kernel_shape"))
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute kernel_shape is required");
    int64_t pads[2 * LRPX_POOL_MAX_SPATIAL];
    if ((rc = pool_read_ints(x, n, "kernel_shape", nd, 1, 1, g->kernel)) != LRPX_OK ||
        (rc = pool_read_ints(x, n, "strides", nd, 1, 1, g->stride)) != LRPX_OK ||
        (rc = pool_read_ints(x, n, "dilations", nd, 1, 1, g->dilation)) != LRPX_OK ||
        (rc = pool_read_ints(x, n, "pads", 2 * nd, 0, 0, pads)) != LRPX_OK)
        return rc;

    int64_t ceil_mode = lrpx__attr_int(n, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute ceil_mode = %lld, expected 0 or 1",
                                (long long)ceil_mode);

    const char *auto_pad = lrpx__attr_string(n, "auto_pad", "NOTSET");
    enum { PAD_NOTSET, PAD_VALID, PAD_SAME_UPPER, PAD_SAME_LOWER } mode;
    if (strcmp(auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
        mode = PAD_NOTSET;
    else if (strcmp(auto_pad, "VALID") == 0)
        mode = PAD_VALID;
    else if (strcmp(auto_pad, "SAME_UPPER") == 0)
        mode = PAD_SAME_UPPER;
    else if (strcmp(auto_pad, "SAME_LOWER") == 0)
        mode = PAD_SAME_LOWER;
    else
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute auto_pad = '%s', expected NOTSET, VALID, "
                                "SAME_UPPER or SAME_LOWER", auto_pad);

    g->out_rank    = in->rank;
    g->out_dims[0] = in->dims[0];
    g->out_dims[1] = in->dims[1];
    g->in_plane    = 1;
    g->out_plane   = 1;
    for (int d = 0; d < nd; d++) {
        int64_t size  = in->dims[2 + d];
        int64_t k_eff = (g->kernel[d] - 1) * g->dilation[d] + 1;
        int64_t s     = g->stride[d];
        int64_t out;

        g->in[d] = size;
        if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
            /* spec: ceil(in / stride) outputs, padding split around them;
             * ceil_mode does not apply */
            out           = (size + s - 1) / s;
            int64_t total = (out - 1) * s + k_eff - size;
            if (total < 0)
                total = 0;
            g->pad_head[d] = mode == PAD_SAME_UPPER ? total / 2 : total - total / 2;
            g->pad_tail[d] = total - g->pad_head[d];
        } else {
            if (mode == PAD_NOTSET) {
                g->pad_head[d] = pads[d];
                g->pad_tail[d] = pads[nd + d];
            }
            int64_t span = size + g->pad_head[d] + g->pad_tail[d] - k_eff;
            if (span < 0)
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "spatial dim %d: kernel extent %lld is larger than the "
                                        "padded input %lld", d, (long long)k_eff,
                                        (long long)(size + g->pad_head[d] + g->pad_tail[d]));
            out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
            /* a window starting in the end padding would see no input:
             * drop it (PyTorch / ONNX Runtime) */
            if (ceil_mode && out > 1 && (out - 1) * s >= size + g->pad_head[d])
                out--;
        }
        g->out[d]          = out;
        g->out_dims[2 + d] = out;
        if (!lrpx__mul_i64(g->out_plane, out, &g->out_plane) ||
            !lrpx__mul_i64(g->in_plane, size, &g->in_plane))
            return lrpx__node_error(x, n, LRPX_ELIMIT, "input or output shape too large");
    }
    /* the window tables (3 int64 per output position, per axis) follow
     * the output's extent: an empty output can be long on one axis */
    bool   ok;
    size_t tb = lrpx__pool_table_bytes(g, &ok);
    if (!ok || (x->max_tensor_bytes > 0 && tb > (size_t)x->max_tensor_bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT,
                                "the output extent needs window tables over the tensor limit "
                                "of %lld bytes", (long long)x->max_tensor_bytes);
    lrpx__strides(g->in, nd, g->in_stride);
    return LRPX_OK;
}

size_t
lrpx__pool_table_bytes(const struct lrpx_pool_geom *g, bool *ok)
{
    size_t total = 0, bytes;
    *ok = true;
    for (int d = 0; d < g->n_spatial; d++) {
        if (!lrpx__mul_size((size_t)g->out[d], 3 * sizeof(int64_t), &bytes) ||
            total + bytes < total) {
            *ok = false;
            return 0;
        }
        total += bytes;
    }
    return total;
}

void *
lrpx__pool_params_alloc(struct lrpx_exec *x, const struct lrpx_node *n,
                        const struct lrpx_tensor *in, size_t params_size, lrpx_status *rc)
{
    struct lrpx_pool_geom g;
    if ((*rc = lrpx__pool_geom_parse(x, n, in, &g)) != LRPX_OK)
        return NULL;
    bool   ok;
    size_t tb   = lrpx__pool_table_bytes(&g, &ok);
    size_t head = (params_size + 7) & ~(size_t)7;      /* tables are int64 */
    if (!ok || head + tb < tb) {
        *rc = lrpx__node_error(x, n, LRPX_ELIMIT, "output too large");
        return NULL;
    }
    char *p = lrpx__params_alloc(x, n, head + tb);
    if (!p) {
        *rc = lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
        return NULL;
    }
    struct lrpx_pool_geom *pg = (struct lrpx_pool_geom *)p;
    *pg                       = g;
    lrpx__pool_tables(pg, (int64_t *)(p + head));
    return p;
}

void
lrpx__pool_tables(struct lrpx_pool_geom *g, int64_t *mem)
{
    for (int d = 0; d < g->n_spatial; d++) {
        int64_t dil = g->dilation[d], k = g->kernel[d], in = g->in[d];
        g->lo[d] = mem;
        g->hi[d] = mem + g->out[d];
        g->np[d] = mem + 2 * g->out[d];
        mem += 3 * g->out[d];
        for (int64_t o = 0; o < g->out[d]; o++) {
            int64_t base  = o * g->stride[d] - g->pad_head[d];
            int64_t lo    = base < 0 ? (-base + dil - 1) / dil : 0;
            int64_t last  = in - 1 - base;            /* >= 0 iff tap 0 can be inside */
            int64_t hi    = last < 0 ? 0 : last / dil + 1;
            int64_t plast = in + g->pad_tail[d] - 1 - base;
            int64_t np    = plast < 0 ? 0 : plast / dil + 1;
            if (hi > k)
                hi = k;
            if (lo > hi)
                lo = hi;
            g->lo[d][o] = lo;
            g->hi[d][o] = hi;
            g->np[d][o] = np > k ? k : np;
        }
    }
}

bool
lrpx__pool_iter_begin(struct lrpx_pool_iter *it, const struct lrpx_pool_geom *g,
                      const int64_t *opos)
{
    bool   empty    = false;
    double n_padded = 1.0;

    it->g   = g;
    it->off = 0;
    for (int d = 0; d < g->n_spatial; d++) {
        int64_t o    = opos[d];
        int64_t base = o * g->stride[d] - g->pad_head[d];
        int64_t lo   = g->lo[d][o], hi = g->hi[d][o];
        n_padded *= (double)g->np[d][o];
        if (lo >= hi)
            empty = true;
        it->lo[d]    = lo;
        it->hi[d]    = hi;
        it->base[d]  = base;
        it->t[d]     = lo;
        it->coord[d] = base + lo * g->dilation[d];
        it->off     += it->coord[d] * g->in_stride[d];
    }
    it->n_padded = n_padded;
    return !empty;
}

lrpx_status
lrpx__global_pool_prepare(struct lrpx_exec *x, const struct lrpx_node *n, const char *op)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);

    if (in->dtype != LRPX_DTYPE_FLOAT32 && in->dtype != LRPX_DTYPE_FLOAT64)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input X has dtype %s; %s supports float32 and float64",
                                lrpx_dtype_name(in->dtype), op);
    if (in->rank < 2)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "input has rank %d, expected N x C x D1 x ... (rank >= 2)",
                                in->rank);
    struct lrpx_global_pool *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    int64_t dims[LRPX_MAX_RANK];
    p->n_planes = in->dims[0] * in->dims[1];
    p->plane    = 1;
    dims[0]     = in->dims[0];
    dims[1]     = in->dims[1];
    for (int d = 2; d < in->rank; d++) {
        p->plane *= in->dims[d];
        dims[d]   = 1;
    }
    return lrpx__set_output(x, n, 0, in->dtype, in->rank, dims);
}
