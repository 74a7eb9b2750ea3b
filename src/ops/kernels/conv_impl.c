/* Convolution geometry and kernels shared by Conv and ConvTranspose. See
 * conv_impl.h for the "conv terms" convention.
 *
 * General convolutions run as im2col + sgemm per group and batch item,
 * chunked over output rows so the column buffer stays below
 * CONV_CHUNK_BYTES; pointwise ones (1x1, stride 1, no padding) multiply the
 * input directly; depthwise ones (one input channel per group) use direct
 * loops, where a GEMM with a single-channel K would be mostly overhead. */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "ops/kernels/conv_impl.h"
#include "core/linear.h"
#include "ops/kernels/pgemm_impl.h"
#include "util/parallel.h"

/* Upper bound of the im2col buffer (one chunk of output rows). */
#define CONV_CHUNK_BYTES ((size_t)8 << 20)

/* ---- geometry ---- */

static lrpx_status
conv_attr_list(struct lrpx_exec *x, const struct lrpx_node *n, const char *name,
               int want, int64_t def, int64_t min, int64_t *out)
{
    const int64_t *v;
    int cnt = lrpx__attr_ints(n, name, &v);

    if (cnt == 0) {
        for (int i = 0; i < want; i++)
            out[i] = def;
        return LRPX_OK;
    }
    if (cnt != want)
        return lrpx__node_error(x, n, LRPX_EINVAL, "attribute '%s' has %d values, expected %d",
                                name, cnt, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < min || v[i] > INT32_MAX)
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "attribute '%s'[%d] = %lld is out of range (%lld..%d)",
                                    name, i, (long long)v[i], (long long)min, INT32_MAX);
        out[i] = v[i];
    }
    return LRPX_OK;
}

enum conv_auto_pad { AUTO_PAD_NOTSET, AUTO_PAD_SAME_UPPER, AUTO_PAD_SAME_LOWER, AUTO_PAD_VALID };

static lrpx_status
conv_auto_pad(struct lrpx_exec *x, const struct lrpx_node *n, enum conv_auto_pad *out)
{
    const char *s = lrpx__attr_string(n, "auto_pad", "NOTSET");

    if (strcmp(s, "NOTSET") == 0 || s[0] == '\0')
        *out = AUTO_PAD_NOTSET;
    else if (strcmp(s, "SAME_UPPER") == 0)
        *out = AUTO_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0)
        *out = AUTO_PAD_SAME_LOWER;
    else if (strcmp(s, "VALID") == 0)
        *out = AUTO_PAD_VALID;
    else
        return lrpx__node_error(x, n, LRPX_EINVAL, "unknown auto_pad '%s'", s);
    return LRPX_OK;
}

lrpx_status
lrpx__conv_geom_init(struct lrpx_exec *x, const struct lrpx_node *n, bool transposed,
                     struct lrpx_conv_geom *g, int64_t *out_dims)
{
    const struct lrpx_tensor *xt = lrpx__in(x, n, 0);
    const struct lrpx_tensor *wt = lrpx__in(x, n, 1);
    char  b1[96], b2[96];
    lrpx_status rc;

    memset(g, 0, sizeof *g);
    if (xt == NULL || wt == NULL)
        return lrpx__node_error(x, n, LRPX_EINVAL, "needs inputs X and W");
    if (xt->rank < 3)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "X has shape %s; expected [N, C, spatial...] (rank >= 3)",
                                lrpx__dims_str(xt->dims, xt->rank, b1, sizeof b1));
    if (wt->rank != xt->rank)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "W has shape %s (rank %d) but X %s (rank %d)",
                                lrpx__dims_str(wt->dims, wt->rank, b1, sizeof b1), wt->rank,
                                lrpx__dims_str(xt->dims, xt->rank, b2, sizeof b2), xt->rank);
    const int ns = xt->rank - 2;
    if (ns > LRPX_CONV_MAX_SP)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "%d spatial axes; at most %d are supported", ns, LRPX_CONV_MAX_SP);

    int64_t kshape[LRPX_CONV_MAX_SP], strides[LRPX_CONV_MAX_SP], dil[LRPX_CONV_MAX_SP];
    int64_t pads[2 * LRPX_CONV_MAX_SP], opad[LRPX_CONV_MAX_SP];
    enum conv_auto_pad ap = AUTO_PAD_NOTSET;

    if ((rc = conv_attr_list(x, n, "strides", ns, 1, 1, strides)) != LRPX_OK ||
        (rc = conv_attr_list(x, n, "dilations", ns, 1, 1, dil)) != LRPX_OK ||
        (rc = conv_attr_list(x, n, "pads", 2 * ns, 0, 0, pads)) != LRPX_OK ||
        (rc = conv_auto_pad(x, n, &ap)) != LRPX_OK)
        return rc;
    if (transposed &&
        (rc = conv_attr_list(x, n, "output_padding", ns, 0, 0, opad)) != LRPX_OK)
        return rc;

    for (int i = 0; i < ns; i++) {
        kshape[i] = wt->dims[2 + i];
        if (kshape[i] < 1)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "W has shape %s: empty kernel",
                                    lrpx__dims_str(wt->dims, wt->rank, b1, sizeof b1));
    }
    {
        const int64_t *ks;
        int nk = lrpx__attr_ints(n, "kernel_shape", &ks);
        if (nk != 0) {
            if (nk != ns)
                return lrpx__node_error(x, n, LRPX_EINVAL,
                                        "attribute 'kernel_shape' has %d values, expected %d",
                                        nk, ns);
            for (int i = 0; i < ns; i++)
                if (ks[i] != kshape[i])
                    return lrpx__node_error(x, n, LRPX_ESHAPE,
                                            "kernel_shape %s does not match W %s",
                                            lrpx__dims_str(ks, nk, b1, sizeof b1),
                                            lrpx__dims_str(wt->dims, wt->rank, b2, sizeof b2));
        }
    }

    const int64_t group = lrpx__attr_int(n, "group", 1);
    if (group < 1 || group > INT32_MAX)
        return lrpx__node_error(x, n, LRPX_EINVAL, "group = %lld must be positive",
                                (long long)group);

    /* channels: Conv X [N, C, ..], W [M, C/group, ..] -> Y [N, M, ..];
     * ConvTranspose X [N, C, ..], W [C, M/group, ..] -> Y [N, M, ..] */
    const int64_t c_x = xt->dims[1];
    int64_t m_y;
    if (!transposed) {
        m_y = wt->dims[0];
        if (c_x % group != 0 || m_y % group != 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "group = %lld does not divide the channels "
                                    "(X has %lld, W %lld)",
                                    (long long)group, (long long)c_x, (long long)m_y);
        if (wt->dims[1] != c_x / group)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "W has shape %s: dim 1 must be C/group = %lld "
                                    "(X %s, group %lld)",
                                    lrpx__dims_str(wt->dims, wt->rank, b1, sizeof b1),
                                    (long long)(c_x / group),
                                    lrpx__dims_str(xt->dims, xt->rank, b2, sizeof b2),
                                    (long long)group);
        g->in_c   = c_x;
        g->out_c  = m_y;
        g->cin_g  = c_x / group;
        g->cout_g = m_y / group;
    } else {
        if (wt->dims[0] != c_x || c_x % group != 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "W has shape %s: dim 0 must equal X channels %lld, "
                                    "divisible by group %lld",
                                    lrpx__dims_str(wt->dims, wt->rank, b1, sizeof b1),
                                    (long long)c_x, (long long)group);
        if (!lrpx__mul_i64(wt->dims[1], group, &m_y))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "output channel count overflows");
        g->in_c   = m_y;
        g->out_c  = c_x;
        g->cin_g  = wt->dims[1];
        g->cout_g = c_x / group;
    }
    g->n_sp  = ns;
    g->batch = xt->dims[0];
    g->group = group;

    out_dims[0] = xt->dims[0];
    out_dims[1] = m_y;

    for (int a = 0; a < LRPX_CONV_MAX_SP; a++) {
        g->in_sp[a] = g->out_sp[a] = g->kernel[a] = 1;
        g->stride[a] = g->dilation[a] = 1;
        g->pad[a] = 0;
    }

    const int64_t *oshape = NULL;
    int n_oshape = 0;
    if (transposed) {
        n_oshape = lrpx__attr_ints(n, "output_shape", &oshape);
        if (n_oshape != 0 && n_oshape != ns && n_oshape != ns + 2)
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "attribute 'output_shape' has %d values, expected %d",
                                    n_oshape, ns);
        if (n_oshape == ns + 2)   /* full shape given: use its spatial part */
            oshape += 2;
    }

    for (int i = 0; i < ns; i++) {
        const int     a   = LRPX_CONV_MAX_SP - ns + i;
        const int64_t in  = xt->dims[2 + i];
        const int64_t k   = kshape[i], s = strides[i], d = dil[i];
        const int64_t dk  = (k - 1) * d + 1;    /* < 2^62: k <= n_elems, d <= 2^31 */
        int64_t pb = pads[i], pe = pads[ns + i], out;

        if (!transposed) {
            if (ap == AUTO_PAD_SAME_UPPER || ap == AUTO_PAD_SAME_LOWER) {
                out = (in + s - 1) / s;
                int64_t total = (out - 1) * s + dk - in;
                if (total < 0)
                    total = 0;
                pb = ap == AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
                pe = total - pb;
            } else {
                if (ap == AUTO_PAD_VALID)
                    pb = pe = 0;
                if (in + pb + pe < dk)
                    return lrpx__node_error(x, n, LRPX_ESHAPE,
                                            "kernel extent %lld (kernel %lld, dilation %lld) "
                                            "exceeds padded input %lld on spatial axis %d",
                                            (long long)dk, (long long)k, (long long)d,
                                            (long long)(in + pb + pe), i);
                out = (in + pb + pe - dk) / s + 1;
            }
            if (in < 1)
                return lrpx__node_error(x, n, LRPX_ESHAPE, "X has an empty spatial axis %d", i);
            g->in_sp[a]  = in;
            g->out_sp[a] = out;
            out_dims[2 + i] = out;
        } else {
            if (opad[i] >= s && opad[i] >= d)
                return lrpx__node_error(x, n, LRPX_EINVAL,
                                        "output_padding[%d] = %lld must be smaller than the "
                                        "stride (%lld) or the dilation (%lld)",
                                        i, (long long)opad[i], (long long)s, (long long)d);
            if (in < 1)
                return lrpx__node_error(x, n, LRPX_ESHAPE, "X has an empty spatial axis %d", i);
            /* full (unpadded) extent of the transposed convolution */
            int64_t full;
            if (!lrpx__mul_i64(s, in - 1, &full) || full > INT64_MAX / 4)
                return lrpx__node_error(x, n, LRPX_ESHAPE, "output size overflows");
            full += opad[i] + dk;
            if (n_oshape != 0 || ap == AUTO_PAD_SAME_UPPER || ap == AUTO_PAD_SAME_LOWER) {
                if (n_oshape != 0) {
                    out = oshape[i];
                    if (out < 1 || out > INT64_MAX / 4)
                        return lrpx__node_error(x, n, LRPX_EINVAL,
                                                "output_shape[%d] = %lld is out of range",
                                                i, (long long)out);
                } else {
                    out = s * in;   /* <= full + s, no overflow */
                }
                /* a requested output larger than the full extent is padded
                 * with zeros (plus bias) at the end, as ONNX Runtime does */
                int64_t total = full - out;
                if (total < 0)
                    total = 0;
                pb = ap == AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            } else {
                if (ap == AUTO_PAD_VALID)
                    pb = pe = 0;
                out = full - pb - pe;
                if (out < 1)
                    return lrpx__node_error(x, n, LRPX_ESHAPE,
                                            "pads %lld+%lld leave no output on spatial axis %d "
                                            "(full extent %lld)",
                                            (long long)pb, (long long)pe, i, (long long)full);
            }
            g->in_sp[a]  = out;
            g->out_sp[a] = in;
            out_dims[2 + i] = out;
        }
        g->kernel[a]   = k;
        g->stride[a]   = s;
        g->dilation[a] = d;
        g->pad[a]      = pb;
    }

    g->in_size = g->in_sp[0] * g->in_sp[1] * g->in_sp[2];
    g->out_size = g->out_sp[0] * g->out_sp[1] * g->out_sp[2];
    g->k_size = g->kernel[0] * g->kernel[1] * g->kernel[2];
    /* in_size and out_size are bounded by the tensors (checked by
     * lrpx__set_output for the output), k_size by W */

    g->pointwise = true;
    for (int a = 0; a < LRPX_CONV_MAX_SP; a++)
        if (g->kernel[a] != 1 || g->stride[a] != 1 || g->pad[a] != 0 ||
            g->in_sp[a] != g->out_sp[a])
            g->pointwise = false;
    g->depthwise = !g->pointwise && g->cin_g == 1;

    const int64_t ow = g->out_sp[2], rows = g->out_sp[0] * g->out_sp[1];
    size_t row_bytes;
    if (!lrpx__mul_size((size_t)(g->cin_g * g->k_size), (size_t)ow, &row_bytes) ||
        !lrpx__mul_size(row_bytes, sizeof(float), &row_bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "im2col buffer size overflows");
    int64_t rpc = row_bytes == 0 ? rows : (int64_t)(CONV_CHUNK_BYTES / row_bytes);
    if (rpc < 1)
        rpc = 1;
    if (rpc > rows)
        rpc = rows;
    g->rows_per_chunk = rpc;
    if (!g->pointwise && !g->depthwise &&
        (int64_t)row_bytes > x->max_tensor_bytes && x->max_tensor_bytes > 0)
        return lrpx__node_error(x, n, LRPX_ELIMIT,
                                "im2col buffer of one output row (%zu bytes) exceeds the "
                                "tensor byte limit", row_bytes);
    return LRPX_OK;
}

lrpx_status
lrpx__conv_prepare_common(struct lrpx_exec *x, const struct lrpx_node *n, bool transposed,
                          struct lrpx_conv_geom *g, struct lrpx_linear_roles *roles,
                          int64_t *out_dims)
{
    lrpx_status rc;
    if ((rc = lrpx__conv_geom_init(x, n, transposed, g, out_dims)) != LRPX_OK)
        return rc;

    const struct lrpx_tensor *b   = lrpx__in(x, n, 2);
    int64_t                   b_c = transposed ? g->in_c : g->out_c;
    if (b != NULL) {
        char buf[96];
        if ((rc = lrpx__check_dtype(x, n, 2, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
            return rc;
        if (b->rank != 1 || b->dims[0] != b_c)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "bias B has shape %s, expected [%lld]",
                                    lrpx__dims_str(b->dims, b->rank, buf, sizeof buf),
                                    (long long)b_c);
    }
    lrpx__linear_roles_init(roles, x, n, false);
    return LRPX_OK;
}

size_t
lrpx__conv_scratch_bytes(const struct lrpx_conv_geom *g)
{
    if (g->pointwise || g->depthwise)
        return 0;
    return (size_t)(g->cin_g * g->k_size) * (size_t)(g->rows_per_chunk * g->out_sp[2]) *
           sizeof(float);
}

lrpx_status
lrpx__conv_check_scratch(struct lrpx_exec *x, const struct lrpx_node *n, size_t need)
{
    if (need > 0 && (x->scratch == NULL || x->scratch_size < need))
        return lrpx__node_error(x, n, LRPX_EINVAL,
                                "internal: scratch of %zu bytes requested, %zu available",
                                need, x->scratch_size);
    return LRPX_OK;
}

/* ---- im2col / col2im ---- */

/* Output columns [lo, hi) whose input column iw0 + ow * s lies in [0, iw). */
static void
conv_span(int64_t iw0, int64_t s, int64_t iw, int64_t ow, int64_t *lo, int64_t *hi)
{
    int64_t l = iw0 >= 0 ? 0 : (-iw0 + s - 1) / s;
    int64_t h = iw - 1 - iw0 < 0 ? 0 : (iw - 1 - iw0) / s + 1;

    if (l > ow)
        l = ow;
    if (h > ow)
        h = ow;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

/* Input row (d, h) read by output row r at taps (kd, kh), or -1 when it
 * falls into the padding. */
static inline int64_t
conv_in_row(const struct lrpx_conv_geom *g, int64_t r, int64_t kd, int64_t kh)
{
    const int64_t od = r / g->out_sp[1], oh = r % g->out_sp[1];
    const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
    const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];

    if (id < 0 || id >= g->in_sp[0] || ih < 0 || ih >= g->in_sp[1])
        return -1;
    return id * g->in_sp[1] + ih;
}

/* col [cin_g * k_size, (r1 - r0) * ow] from the group's input channels,
 * for output rows [r0, r1); channels [c0, c1) of the group. */
struct conv_im2col_ctx {
    const struct lrpx_conv_geom *g;
    const float                 *in;
    int64_t                      r0, r1;
    float                       *col;
};

LRPX_TARGET_CLONES
static void
conv_im2col_range(void *ctx_, int64_t c0, int64_t c1)
{
    const struct conv_im2col_ctx *cx = ctx_;
    const struct lrpx_conv_geom  *g  = cx->g;
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];
    const int64_t r0 = cx->r0, r1 = cx->r1;
    float        *dst = cx->col + c0 * g->k_size * (r1 - r0) * ow;

    for (int64_t c = c0; c < c1; c++) {
        const float *in_c = cx->in + c * g->in_size;
        for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
        for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
            const int64_t iw0 = kw * g->dilation[2] - g->pad[2];
            int64_t lo, hi;
            conv_span(iw0, sw, iw, ow, &lo, &hi);
            for (int64_t r = r0; r < r1; r++, dst += ow) {
                const int64_t row = conv_in_row(g, r, kd, kh);
                if (row < 0) {
                    memset(dst, 0, (size_t)ow * sizeof(float));
                    continue;
                }
                const float *src = in_c + row * iw + iw0;
                if (lo > 0)
                    memset(dst, 0, (size_t)lo * sizeof(float));
                if (sw == 1) {
                    if (hi > lo)
                        memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
                } else if (sw == 2) {
                    for (int64_t o = lo; o < hi; o++)
                        dst[o] = src[2 * o];
                } else {
                    for (int64_t o = lo; o < hi; o++)
                        dst[o] = src[o * sw];
                }
                if (hi < ow)
                    memset(dst + hi, 0, (size_t)(ow - hi) * sizeof(float));
            }
        }
    }
}

static void
conv_im2col(const struct lrpx_conv_geom *g, const float *in, int64_t r0, int64_t r1,
            float *col, struct lrpx_pool *pool)
{
    struct conv_im2col_ctx c = {g, in, r0, r1, col};
    const int64_t per_c = g->k_size * (r1 - r0) * g->out_sp[2];
    lrpx__parallel_for(pool, g->cin_g, 1 + (1 << 14) / (per_c + 1), conv_im2col_range, &c);
}

/* The adjoint of conv_im2col: in += scatter(col), for channels [c0, c1)
 * of the group (each channel writes only its own plane, in the same order
 * whichever thread runs it). */
struct conv_col2im_ctx {
    const struct lrpx_conv_geom *g;
    const float                 *col;
    int64_t                      r0, r1;
    float                       *in;
};

LRPX_TARGET_CLONES
static void
conv_col2im_range(void *ctx_, int64_t c0, int64_t c1)
{
    const struct conv_col2im_ctx *cx = ctx_;
    const struct lrpx_conv_geom  *g  = cx->g;
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];
    const int64_t r0 = cx->r0, r1 = cx->r1;
    const float  *src = cx->col + c0 * g->k_size * (r1 - r0) * ow;

    for (int64_t c = c0; c < c1; c++) {
        float *in_c = cx->in + c * g->in_size;
        for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
        for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
            const int64_t iw0 = kw * g->dilation[2] - g->pad[2];
            int64_t lo, hi;
            conv_span(iw0, sw, iw, ow, &lo, &hi);
            for (int64_t r = r0; r < r1; r++, src += ow) {
                const int64_t row = conv_in_row(g, r, kd, kh);
                if (row < 0)
                    continue;
                float *drow = in_c + row * iw;
                if (sw == 1) {
                    for (int64_t o = lo; o < hi; o++)
                        drow[iw0 + o] += src[o];
                } else {
                    for (int64_t o = lo; o < hi; o++)
                        drow[iw0 + o * sw] += src[o];
                }
            }
        }
    }
}

static void
conv_col2im(const struct lrpx_conv_geom *g, const float *col, int64_t r0, int64_t r1,
            float *in, struct lrpx_pool *pool)
{
    struct conv_col2im_ctx c = {g, col, r0, r1, in};
    const int64_t per_c = g->k_size * (r1 - r0) * g->out_sp[2];
    lrpx__parallel_for(pool, g->cin_g, 1 + (1 << 14) / (per_c + 1), conv_col2im_range, &c);
}

static void conv_dw_fwd_nd(const struct lrpx_conv_geom *g, const float *in, const float *w,
                           float *out, bool accumulate);

/* ---- depthwise (cin_g == 1): output channel m reads input channel
 * m / cout_g ---- */

/* 2-D (and 1-D) depthwise forward for channels [c0, c1) of batch * out_c.
 * Per output row, the kernel rows point at their input rows, or at a row of
 * zeros where they fall into the padding; then each output adds its taps
 * in order (kernel row, then column) onto the bias (or 0, or what out holds
 * when accumulating). The columns whose taps all lie inside the row run a
 * branch-free loop with the kernel size fixed (3x3, 5x5), which the
 * compiler vectorises over the columns; the few border columns check each
 * tap. */
#define CONV_DW_ROW_MAX 4096    /* widest input row of the fast path */
#define CONV_DW_KMAX    7       /* largest kernel side of the fast path */

struct conv_dw_ctx {
    const struct lrpx_conv_geom *g;
    const float                 *in, *w, *bias;
    float                       *out;
    bool                         accumulate;
    bool                         avx;           /* conv_dw_avx*        */
    int64_t                      ow_a, ow_b;    /* interior columns */
    const struct lrpx_act       *act;           /* fused activation    */
};

/* rp[kh] = rows[kh] - pw; with the sizes and DW constant the taps are
 * fixed offsets from KH pointers (few registers, no spills) */
#define CONV_DW_INTERIOR(KH, KW, SW, DW)                                         \
    for (int64_t o = ow_a; o < ow_b; o++) {                                  \
        float acc = dst[o];                                                 \
        _Pragma("GCC unroll 8")                                             \
        for (int64_t kh = 0; kh < (KH); kh++)                               \
            _Pragma("GCC unroll 8")                                         \
            for (int64_t kw = 0; kw < (KW); kw++)                           \
                acc = acc + wk[kh * (KW) + kw] * rp[kh][o * (SW) + kw * (DW)]; \
        dst[o] = acc;                                                       \
    }

/* the fused activation of channel plane ch, while it is in cache */
static inline void
conv_dw_act_plane(const struct conv_dw_ctx *c, const float *z, int64_t ch)
{
    if (!c->act)
        return;
    const int64_t n = c->g->out_size;
    float        *y = c->act->out + ch * n;
    for (int64_t i = 0; i < n; i++)
        y[i] = lrpx__act_apply(c->act->kind, c->act->lo, c->act->hi, z[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CONV_DW_AVX 1

/* One channel of an undilated K x K depthwise convolution (K 3 or 5) of
 * stride S (1 or 2) with AVX2. The input plane is first copied into
 * a zero-padded buffer (padded column col = input column col - pw), so
 * every output row is whole vectors of 8 (the last one masked) with no
 * border cases; for stride 2 the buffer holds the even and the odd padded
 * columns as two planes, so the taps of 8 neighbouring outputs are again 8
 * neighbouring floats. Each output is the bias (or what out holds, when
 * accumulating) plus its taps in order (kernel row, then column), each
 * product rounded then added: the same arithmetic as the portable loop, so
 * the result does not depend on the CPU. The caller checks the buffer fits
 * (CONV_DW_PAD_MAX). */
#define CONV_DW_PAD_MAX 16384

static const int32_t conv_dw_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* rows and (per plane) columns of the padded buffer: every input row a
 * window touches, the columns likewise plus 8 of slack for the last
 * vector's unused lanes */
static void
conv_dw_pad_dims(const struct lrpx_conv_geom *g, int64_t *ph_rows, int64_t *pw_cols,
                 int64_t *planes)
{
    const int64_t s = g->stride[2], k = g->kernel[2];
    *ph_rows = (g->out_sp[1] - 1) * g->stride[1] + g->kernel[1];
    *pw_cols = g->out_sp[2] + (k - 1) / s + 8;
    *planes  = s;
}

__attribute__((target("avx2"), always_inline)) static inline void
conv_dw_avx_k(const int K, const int S, const struct conv_dw_ctx *c, const float *in_c,
              const float *w_m, float *out_m, float b0, float *pad)
{
    const struct lrpx_conv_geom *g = c->g;
    const int64_t OH = g->out_sp[1], OW = g->out_sp[2], IH = g->in_sp[1], IW = g->in_sp[2];
    const int64_t ph = g->pad[1], pw = g->pad[2];
    int64_t       PH, PW, NP;
    conv_dw_pad_dims(g, &PH, &PW, &NP);
    /* plane q, column j holds padded column S * j + q */
    for (int64_t r = 0; r < PH; r++) {
        const int64_t ih = r - ph;
        for (int q = 0; q < S; q++) {
            float *d = pad + (q * PH + r) * PW;
            if (ih < 0 || ih >= IH) {
                memset(d, 0, (size_t)PW * sizeof(float));
                continue;
            }
            const float *src = in_c + ih * IW;
            if (S == 1) {
                const int64_t lo = pw < PW ? pw : PW, hi = pw + IW < PW ? pw + IW : PW;
                memset(d, 0, (size_t)lo * sizeof(float));
                if (hi > lo)
                    memcpy(d + lo, src + (lo - pw), (size_t)(hi - lo) * sizeof(float));
                memset(d + hi, 0, (size_t)(PW - hi) * sizeof(float));
            } else {
                /* j in [jl, jh): input column S j + q - pw inside the row */
                int64_t jl = pw - q <= 0 ? 0 : (pw - q + S - 1) / S;
                int64_t jh = IW + pw - q <= 0 ? 0 : (IW + pw - q + S - 1) / S;
                jl         = jl < PW ? jl : PW;
                jh         = jh < PW ? (jh > jl ? jh : jl) : PW;
                const float *sq = src + q - pw;
                for (int64_t j = 0; j < jl; j++)
                    d[j] = 0.0f;
                for (int64_t j = jl; j < jh; j++)
                    d[j] = sq[S * j];
                for (int64_t j = jh; j < PW; j++)
                    d[j] = 0.0f;
            }
        }
    }
    __m256 wv[25];
    for (int k = 0; k < K * K; k++)
        wv[k] = _mm256_set1_ps(w_m[k]);
    const bool    acc_in = c->accumulate;
    const __m256  bv     = _mm256_set1_ps(b0);
    const int64_t tail   = OW % 8;
    const __m256i tmask  = _mm256_loadu_si256((const __m256i *)(conv_dw_mask + 8 - tail));
    for (int64_t oh = 0; oh < OH; oh++) {
        float  *dst = out_m + oh * OW;
        int64_t o   = 0;
        /* tap (kh, kw) of output o: plane kw % S, row S oh + kh, column
         * o + kw / S */
/* acc + w * x, rounded twice like the portable loop (no fused multiply-add:
 * the same bits on every CPU, and as the LRP hooks compute) */
#define CONV_DW_MAC(acc, w, x) _mm256_add_ps((acc), _mm256_mul_ps((w), (x)))
#define CONV_DW_TAP(kh, kw, off) \
    (pad + ((kw) % S * PH + S * oh + (kh)) * PW + o + (kw) / S + (off))
        for (; o + 16 <= OW; o += 16) {
            __m256 a0 = acc_in ? _mm256_loadu_ps(dst + o) : bv;
            __m256 a1 = acc_in ? _mm256_loadu_ps(dst + o + 8) : bv;
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++) {
                    a0 = CONV_DW_MAC(a0, wv[kh * K + kw], _mm256_loadu_ps(CONV_DW_TAP(kh, kw, 0)));
                    a1 = CONV_DW_MAC(a1, wv[kh * K + kw], _mm256_loadu_ps(CONV_DW_TAP(kh, kw, 8)));
                }
            _mm256_storeu_ps(dst + o, a0);
            _mm256_storeu_ps(dst + o + 8, a1);
        }
        for (; o < OW; o += 8) {
            const bool part = o + 8 > OW;
            __m256     a0   = !acc_in ? bv
                            : part    ? _mm256_maskload_ps(dst + o, tmask)
                                      : _mm256_loadu_ps(dst + o);
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++)
                    a0 = CONV_DW_MAC(a0, wv[kh * K + kw], _mm256_loadu_ps(CONV_DW_TAP(kh, kw, 0)));
            if (part)
                _mm256_maskstore_ps(dst + o, tmask, a0);
            else
                _mm256_storeu_ps(dst + o, a0);
        }
#undef CONV_DW_TAP
#undef CONV_DW_MAC
    }
}

#define CONV_DW_AVX_FN(name, K, S)                                                      \
    __attribute__((target("avx2"))) static void name(                                    \
        const struct conv_dw_ctx *c, const float *in_c, const float *w_m, float *out_m, \
        float b0, float *pad)                                                           \
    {                                                                                   \
        conv_dw_avx_k(K, S, c, in_c, w_m, out_m, b0, pad);                              \
    }
CONV_DW_AVX_FN(conv_dw_avx3s1, 3, 1)
CONV_DW_AVX_FN(conv_dw_avx3s2, 3, 2)
CONV_DW_AVX_FN(conv_dw_avx5s1, 5, 1)
CONV_DW_AVX_FN(conv_dw_avx5s2, 5, 2)

static bool
conv_dw_avx_ok(const struct lrpx_conv_geom *g)
{
    const bool ok = lrpx__cpu_has(LRPX_CPU_AVX2);
    int64_t PH, PW, NP;
    conv_dw_pad_dims(g, &PH, &PW, &NP);
    return ok && g->stride[1] == g->stride[2] && (g->stride[1] == 1 || g->stride[1] == 2) &&
           g->dilation[1] == 1 && g->dilation[2] == 1 && g->kernel[1] == g->kernel[2] &&
           (g->kernel[1] == 3 || g->kernel[1] == 5) && NP * PH * PW <= CONV_DW_PAD_MAX;
}
#else
#define CONV_DW_AVX 0
#endif

LRPX_TARGET_CLONES
static void
conv_dw2d_range(void *ctx_, int64_t c0, int64_t c1)
{
    const struct conv_dw_ctx    *c = ctx_;
    const struct lrpx_conv_geom *g = c->g;
    const int64_t OH = g->out_sp[1], OW = g->out_sp[2], IH = g->in_sp[1], IW = g->in_sp[2];
    const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], sw = g->stride[2];
    const int64_t dh = g->dilation[1], dw = g->dilation[2], ph = g->pad[1], pw = g->pad[2];
    const int64_t ow_a = c->ow_a, ow_b = c->ow_b;
    const float  *rows[CONV_DW_KMAX], *rp[CONV_DW_KMAX];
#if CONV_DW_AVX
    /* the padded plane of conv_dw_avx_k, or the row of zeros below */
    float         pad[CONV_DW_PAD_MAX > CONV_DW_ROW_MAX ? CONV_DW_PAD_MAX : CONV_DW_ROW_MAX];
    float        *zeros = pad;
#else
    float         zeros[CONV_DW_ROW_MAX];
#endif

    if (!c->avx)
        for (int64_t j = 0; j < IW; j++)
            zeros[j] = 0.0f;
    for (int64_t ch = c0; ch < c1; ch++) {
        const int64_t b = ch / g->out_c, m = ch % g->out_c;
        const float  *in_c  = c->in + (b * g->in_c + m / g->cout_g) * g->in_size;
        const float  *w_m   = c->w + m * g->k_size;
        float        *out_m = c->out + ch * g->out_size;
        const float   b0    = c->bias ? c->bias[m] : 0.0f;
#if CONV_DW_AVX
        if (c->avx) {
            if (KH == 3)
                (sh == 1 ? conv_dw_avx3s1 : conv_dw_avx3s2)(c, in_c, w_m, out_m, b0, pad);
            else
                (sh == 1 ? conv_dw_avx5s1 : conv_dw_avx5s2)(c, in_c, w_m, out_m, b0, pad);
            conv_dw_act_plane(c, out_m, ch);
            continue;
        }
#endif
        float         wk[CONV_DW_KMAX * CONV_DW_KMAX];   /* local: no aliasing */
        for (int64_t k = 0; k < KH * KW; k++)
            wk[k] = w_m[k];
        for (int64_t oh = 0; oh < OH; oh++) {
            float *dst = out_m + oh * OW;
            for (int64_t kh = 0; kh < KH; kh++) {
                const int64_t ih = oh * sh - ph + kh * dh;
                rows[kh] = ih < 0 || ih >= IH ? zeros : in_c + ih * IW;
                rp[kh]   = rows[kh] - pw;
            }
            if (!c->accumulate)
                for (int64_t o = 0; o < OW; o++)
                    dst[o] = b0;
            /* border columns: only the taps inside the row */
            for (int64_t o = 0; o < OW; o++) {
                if (o == ow_a)
                    o = ow_b;
                if (o >= OW)
                    break;
                float acc = dst[o];
                for (int64_t kh = 0; kh < KH; kh++)
                    for (int64_t kw = 0; kw < KW; kw++) {
                        const int64_t iw = o * sw - pw + kw * dw;
                        if (iw >= 0 && iw < IW)
                            acc = acc + wk[kh * KW + kw] * rows[kh][iw];
                    }
                dst[o] = acc;
            }
            if (KH == 3 && KW == 3 && sw == 1 && dw == 1) {
                CONV_DW_INTERIOR(3, 3, 1, 1)
            } else if (KH == 3 && KW == 3 && sw == 2 && dw == 1) {
                CONV_DW_INTERIOR(3, 3, 2, 1)
            } else if (KH == 5 && KW == 5 && sw == 1 && dw == 1) {
                CONV_DW_INTERIOR(5, 5, 1, 1)
            } else if (KH == 5 && KW == 5 && sw == 2 && dw == 1) {
                CONV_DW_INTERIOR(5, 5, 2, 1)
            } else {
                CONV_DW_INTERIOR(KH, KW, sw, dw)
            }
        }
        conv_dw_act_plane(c, out_m, ch);
    }
}

/* Forward of a depthwise conv; bias (out_c values) may be NULL. With
 * accumulate the bias must be NULL (out already holds the start). */
static void
conv_dw_fwd(const struct lrpx_conv_geom *g, const float *in, const float *w,
            const float *bias, float *out, bool accumulate, struct lrpx_pool *pool,
            const struct lrpx_act *act)
{
    if (g->kernel[0] == 1 && g->in_sp[0] == 1 && g->out_sp[0] == 1 &&
        g->in_sp[2] <= CONV_DW_ROW_MAX && g->kernel[1] <= CONV_DW_KMAX &&
        g->kernel[2] <= CONV_DW_KMAX) {
        struct conv_dw_ctx c = {g, in, w, bias, out, accumulate, false, 0, 0,
                                act && act->kind != LRPX_ACT_NONE ? act : NULL};
#if CONV_DW_AVX
        c.avx = conv_dw_avx_ok(g);
#endif
        const int64_t OW = g->out_sp[2], IW = g->in_sp[2], sw = g->stride[2];
        const int64_t reach = (g->kernel[2] - 1) * g->dilation[2];
        /* interior: o * sw - pw >= 0 and o * sw - pw + reach < IW */
        c.ow_a = (g->pad[2] + sw - 1) / sw;
        c.ow_b = IW - 1 - reach + g->pad[2] < 0 ? 0 : (IW - 1 - reach + g->pad[2]) / sw + 1;
        if (c.ow_a > OW)
            c.ow_a = OW;
        if (c.ow_b > OW)
            c.ow_b = OW;
        if (c.ow_b < c.ow_a)
            c.ow_b = c.ow_a;
        lrpx__parallel_for(pool, g->batch * g->out_c, 1, conv_dw2d_range, &c);
        return;
    }
    if (bias && !accumulate) {
        lrpx__channel_bias_fill(out, bias, g->batch, g->out_c, g->out_size);
        accumulate = true;
    }
    conv_dw_fwd_nd(g, in, w, out, accumulate);
    lrpx__act_pass(pool, act, out, g->batch * g->out_c * g->out_size);
}

static void
conv_dw_fwd_nd(const struct lrpx_conv_geom *g, const float *in, const float *w, float *out,
               bool accumulate)
{
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t m = 0; m < g->out_c; m++) {
        const float *in_c  = in + (b * g->in_c + m / g->cout_g) * g->in_size;
        const float *w_m   = w + m * g->k_size;
        float       *out_m = out + (b * g->out_c + m) * g->out_size;
        for (int64_t r = 0; r < rows; r++) {
            float *dst = out_m + r * ow;
            if (!accumulate)
                memset(dst, 0, (size_t)ow * sizeof(float));
            for (int64_t kd = 0; kd < g->kernel[0]; kd++)
            for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
                const int64_t row = conv_in_row(g, r, kd, kh);
                if (row < 0)
                    continue;
                const float *src = in_c + row * iw;
                const float *wk  = w_m + (kd * g->kernel[1] + kh) * g->kernel[2];
                for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                    const int64_t iw0 = kw * g->dilation[2] - g->pad[2];
                    const float   wv  = wk[kw];
                    int64_t lo, hi;
                    conv_span(iw0, sw, iw, ow, &lo, &hi);
                    if (sw == 1) {
                        for (int64_t o = lo; o < hi; o++)
                            dst[o] += wv * src[iw0 + o];
                    } else {
                        for (int64_t o = lo; o < hi; o++)
                            dst[o] += wv * src[iw0 + o * sw];
                    }
                }
            }
        }
    }
}

/* The depthwise data gradient for planes (b, input channel) [p0, p1):
 * each plane receives its cout_g output channels in order, so the result
 * is the same whichever thread runs it. */
struct conv_dw_bwd_ctx {
    const struct lrpx_conv_geom *g;
    const float                 *gout, *w;
    float                       *gin;
};

LRPX_TARGET_CLONES
static void
conv_dw_bwd_range(void *ctx_, int64_t p0, int64_t p1)
{
    const struct conv_dw_bwd_ctx *cx = ctx_;
    const struct lrpx_conv_geom  *g  = cx->g;
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];

    for (int64_t pl = p0; pl < p1; pl++) {
        const int64_t b = pl / g->in_c, ic = pl % g->in_c;
        float        *gin_c = cx->gin + pl * g->in_size;
        for (int64_t m = ic * g->cout_g; m < (ic + 1) * g->cout_g; m++) {
            const float *w_m    = cx->w + m * g->k_size;
            const float *gout_m = cx->gout + (b * g->out_c + m) * g->out_size;
            for (int64_t r = 0; r < rows; r++) {
                const float *src = gout_m + r * ow;
                for (int64_t kd = 0; kd < g->kernel[0]; kd++)
                for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
                    const int64_t row = conv_in_row(g, r, kd, kh);
                    if (row < 0)
                        continue;
                    float       *dst = gin_c + row * iw;
                    const float *wk  = w_m + (kd * g->kernel[1] + kh) * g->kernel[2];
                    for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                        const int64_t iw0 = kw * g->dilation[2] - g->pad[2];
                        const float   wv  = wk[kw];
                        int64_t lo, hi;
                        conv_span(iw0, sw, iw, ow, &lo, &hi);
                        if (sw == 1) {
                            float *d = dst + iw0;
                            for (int64_t o = lo; o < hi; o++)
                                d[o] += wv * src[o];
                        } else {
                            for (int64_t o = lo; o < hi; o++)
                                dst[iw0 + o * sw] += wv * src[o];
                        }
                    }
                }
            }
        }
    }
}

static void
conv_dw_bwd_data(const struct lrpx_conv_geom *g, const float *gout, const float *w,
                 float *gin, struct lrpx_pool *pool)
{
    struct conv_dw_bwd_ctx c = {g, gout, w, gin};
    lrpx__parallel_for(pool, g->batch * g->in_c, 1 + (1 << 14) / (g->in_size * g->cout_g + 1),
                       conv_dw_bwd_range, &c);
}

static void
conv_dw_bwd_weight(const struct lrpx_conv_geom *g, const float *in, const float *gout,
                   float *gw)
{
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];

    for (int64_t m = 0; m < g->out_c; m++) {
        float *gw_m = gw + m * g->k_size;
        for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
        for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
            const int64_t iw0 = kw * g->dilation[2] - g->pad[2];
            int64_t lo, hi;
            double acc = 0.0;
            conv_span(iw0, sw, iw, ow, &lo, &hi);
            for (int64_t b = 0; b < g->batch; b++) {
                const float *in_c   = in + (b * g->in_c + m / g->cout_g) * g->in_size;
                const float *gout_m = gout + (b * g->out_c + m) * g->out_size;
                for (int64_t r = 0; r < rows; r++) {
                    const int64_t row = conv_in_row(g, r, kd, kh);
                    if (row < 0)
                        continue;
                    const float *src = in_c + row * iw;
                    const float *go  = gout_m + r * ow;
                    float s = 0.0f;
                    for (int64_t o = lo; o < hi; o++)
                        s += go[o] * src[iw0 + o * sw];
                    acc += s;
                }
            }
            gw_m[(kd * g->kernel[1] + kh) * g->kernel[2] + kw] += (float)acc;
        }
    }
}

/* ---- the three products ---- */

void
lrpx__conv_fwd(const struct lrpx_conv_geom *g, const float *in, const float *w, float *out,
               bool accumulate, float *scratch, struct lrpx_pool *pool)
{
    if (g->depthwise) {
        conv_dw_fwd(g, in, w, NULL, out, accumulate, pool, NULL);
        return;
    }
    const int64_t ckk = g->cin_g * g->k_size, ow = g->out_sp[2];
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const float beta = accumulate ? 1.0f : 0.0f;

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t gi = 0; gi < g->group; gi++) {
        const float *in_g  = in + (b * g->in_c + gi * g->cin_g) * g->in_size;
        const float *w_g   = w + gi * g->cout_g * ckk;
        float       *out_g = out + (b * g->out_c + gi * g->cout_g) * g->out_size;
        if (g->pointwise) {
            lrpx__sgemm_mt(pool, false, false, g->cout_g, g->out_size, g->cin_g, 1.0f, w_g,
                           g->cin_g, in_g, g->in_size, beta, out_g, g->out_size);
            continue;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
            const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
            const int64_t nc = (r1 - r0) * ow;
            conv_im2col(g, in_g, r0, r1, scratch, pool);
            lrpx__sgemm_mt(pool, false, false, g->cout_g, nc, ckk, 1.0f, w_g, ckk, scratch,
                           nc, beta, out_g + r0 * ow, g->out_size);
        }
    }
}

size_t
lrpx__conv_packed_floats(const struct lrpx_conv_geom *g)
{
    return (size_t)g->group * lrpx__pgemm_packed_floats(g->cout_g, g->cin_g * g->k_size);
}

void
lrpx__conv_pack(const struct lrpx_conv_geom *g, const float *w, float *wp)
{
    const int64_t ckk = g->cin_g * g->k_size;
    const size_t  per = lrpx__pgemm_packed_floats(g->cout_g, ckk);
    /* the product's columns: the whole plane (1x1) or one im2col chunk */
    const int64_t n   = g->pointwise ? g->out_size : g->rows_per_chunk * g->out_sp[2];
    for (int64_t gi = 0; gi < g->group; gi++)
        lrpx__pgemm_pack(w + gi * g->cout_g * ckk, ckk, g->cout_g, ckk, n,
                         wp + (size_t)gi * per);
}

void
lrpx__conv_fwd_packed(const struct lrpx_conv_geom *g, const float *in, const float *wp,
                      const float *bias, float *out, float *scratch, struct lrpx_pool *pool,
                      const struct lrpx_act *act)
{
    struct lrpx_act a = act ? *act : (struct lrpx_act){LRPX_ACT_NONE, 0.0f, 0.0f, NULL};
    const int64_t ckk = g->cin_g * g->k_size, ow = g->out_sp[2];
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const size_t  per  = lrpx__pgemm_packed_floats(g->cout_g, ckk);

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t gi = 0; gi < g->group; gi++) {
        const float *in_g   = in + (b * g->in_c + gi * g->cin_g) * g->in_size;
        const float *ap     = wp + (size_t)gi * per;
        const float *bias_g = bias ? bias + gi * g->cout_g : NULL;
        const int64_t off_g = (b * g->out_c + gi * g->cout_g) * g->out_size;
        float        *out_g = out + off_g;
        /* the activation runs as a sequential pass over the group's
         * output just made (still in cache): writing it from the product's
         * tiles, two outputs in many rows at once, was slower on buffers
         * that are not in cache (docs/performance.md) */
        if (g->pointwise) {
            lrpx__pgemm(pool, g->cout_g, g->out_size, g->cin_g, ap, in_g, g->in_size, bias_g,
                        out_g, g->out_size, NULL);
        } else {
            for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
                const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
                const int64_t nc = (r1 - r0) * ow;
                conv_im2col(g, in_g, r0, r1, scratch, pool);
                lrpx__pgemm(pool, g->cout_g, nc, ckk, ap, scratch, nc, bias_g, out_g + r0 * ow,
                            g->out_size, NULL);
            }
        }
        if (act) {
            a.out = act->out + off_g;
            lrpx__act_pass(pool, &a, out_g, g->cout_g * g->out_size);
        }
    }
}

/* out[b, c, :] = bias[c] for planes (b, c) in [p0, p1) */
struct conv_bias_ctx {
    float       *out;
    const float *bias;
    int64_t      channels, size;
};

LRPX_TARGET_CLONES
static void
conv_bias_range(void *ctx_, int64_t p0, int64_t p1)
{
    const struct conv_bias_ctx *c = ctx_;
    for (int64_t pl = p0; pl < p1; pl++) {
        float      *o = c->out + pl * c->size;
        const float v = c->bias[pl % c->channels];
        for (int64_t i = 0; i < c->size; i++)
            o[i] = v;
    }
}

/* act->out[i] = act(z[i]) for i in [i0, i1) */
struct conv_act_ctx {
    const struct lrpx_act *act;
    const float           *z;
};

LRPX_TARGET_CLONES
static void
conv_act_range(void *ctx_, int64_t i0, int64_t i1)
{
    const struct conv_act_ctx *c = ctx_;
    const enum lrpx_act_kind   k = c->act->kind;
    const float                lo = c->act->lo, hi = c->act->hi;
    float                     *y = c->act->out;
    if (k == LRPX_ACT_RELU)
        for (int64_t i = i0; i < i1; i++)
            y[i] = c->z[i] > 0.0f ? c->z[i] : 0.0f;
    else
        for (int64_t i = i0; i < i1; i++) {
            const float l = c->z[i] < lo ? lo : c->z[i];
            y[i] = l > hi ? hi : l;
        }
}

void
lrpx__act_pass(struct lrpx_pool *pool, const struct lrpx_act *act, const float *z, int64_t n)
{
    if (!act || act->kind == LRPX_ACT_NONE)
        return;
    struct conv_act_ctx c = {act, z};
    lrpx__parallel_for(pool, n, 1 << 15, conv_act_range, &c);
}

void
lrpx__conv_fwd_bias(const struct lrpx_conv_geom *g, const float *in, const float *w,
                    const float *bias, float *out, float *scratch, struct lrpx_pool *pool,
                    const struct lrpx_act *act)
{
    if (g->depthwise) {
        conv_dw_fwd(g, in, w, bias, out, false, pool, act);
        return;
    }
    if (bias) {
        struct conv_bias_ctx c = {out, bias, g->out_c, g->out_size};
        lrpx__parallel_for(pool, g->batch * g->out_c, 1 + (1 << 14) / (g->out_size + 1),
                           conv_bias_range, &c);
    }
    lrpx__conv_fwd(g, in, w, out, bias != NULL, scratch, pool);
    lrpx__act_pass(pool, act, out, g->batch * g->out_c * g->out_size);
}

void
lrpx__conv_bwd_data(const struct lrpx_conv_geom *g, const float *gout, const float *w,
                    float *gin, bool accumulate, float *scratch, struct lrpx_pool *pool)
{
    if (!accumulate && !g->pointwise && g->batch * g->in_c * g->in_size > 0)
        memset(gin, 0, (size_t)(g->batch * g->in_c * g->in_size) * sizeof(float));
    if (g->depthwise) {
        conv_dw_bwd_data(g, gout, w, gin, pool);
        return;
    }
    const int64_t ckk = g->cin_g * g->k_size, ow = g->out_sp[2];
    const int64_t rows = g->out_sp[0] * g->out_sp[1];

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t gi = 0; gi < g->group; gi++) {
        float       *gin_g  = gin + (b * g->in_c + gi * g->cin_g) * g->in_size;
        const float *w_g    = w + gi * g->cout_g * ckk;
        const float *gout_g = gout + (b * g->out_c + gi * g->cout_g) * g->out_size;
        if (g->pointwise) {
            lrpx__sgemm_mt(pool, true, false, g->cin_g, g->in_size, g->cout_g, 1.0f, w_g,
                           g->cin_g, gout_g, g->out_size, accumulate ? 1.0f : 0.0f, gin_g,
                           g->in_size);
            continue;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
            const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
            const int64_t nc = (r1 - r0) * ow;
            lrpx__sgemm_mt(pool, true, false, ckk, nc, g->cout_g, 1.0f, w_g, ckk,
                           gout_g + r0 * ow, g->out_size, 0.0f, scratch, nc);
            conv_col2im(g, scratch, r0, r1, gin_g, pool);
        }
    }
}

void
lrpx__conv_bwd_weight(const struct lrpx_conv_geom *g, const float *in, const float *gout,
                      float *gw, float *scratch)
{
    if (g->depthwise) {
        conv_dw_bwd_weight(g, in, gout, gw);
        return;
    }
    const int64_t ckk = g->cin_g * g->k_size, ow = g->out_sp[2];
    const int64_t rows = g->out_sp[0] * g->out_sp[1];

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t gi = 0; gi < g->group; gi++) {
        const float *in_g   = in + (b * g->in_c + gi * g->cin_g) * g->in_size;
        float       *gw_g   = gw + gi * g->cout_g * ckk;
        const float *gout_g = gout + (b * g->out_c + gi * g->cout_g) * g->out_size;
        if (g->pointwise) {
            lrpx__sgemm(false, true, g->cout_g, g->cin_g, g->out_size, 1.0f, gout_g,
                        g->out_size, in_g, g->in_size, 1.0f, gw_g, g->cin_g);
            continue;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
            const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
            const int64_t nc = (r1 - r0) * ow;
            conv_im2col(g, in_g, r0, r1, scratch, NULL);
            lrpx__sgemm(false, true, g->cout_g, ckk, nc, 1.0f, gout_g + r0 * ow, g->out_size,
                        scratch, nc, 1.0f, gw_g, ckk);
        }
    }
}

/* ---- bias ---- */

void
lrpx__channel_bias_fill(float *out, const float *bias, int64_t batch, int64_t channels,
                        int64_t size)
{
    for (int64_t b = 0; b < batch; b++)
    for (int64_t c = 0; c < channels; c++) {
        float *o = out + (b * channels + c) * size;
        const float v = bias[c];
        for (int64_t i = 0; i < size; i++)
            o[i] = v;
    }
}

void
lrpx__channel_bias_add(float *out, const float *bias, int64_t batch, int64_t channels,
                       int64_t size)
{
    for (int64_t b = 0; b < batch; b++)
    for (int64_t c = 0; c < channels; c++) {
        float *o = out + (b * channels + c) * size;
        const float v = bias[c];
        for (int64_t i = 0; i < size; i++)
            o[i] += v;
    }
}

void
lrpx__channel_bias_grad(const float *gout, float *gb, int64_t batch, int64_t channels,
                        int64_t size)
{
    for (int64_t c = 0; c < channels; c++) {
        double acc = 0.0;
        for (int64_t b = 0; b < batch; b++) {
            const float *g = gout + (b * channels + c) * size;
            for (int64_t i = 0; i < size; i++)
                acc += g[i];
        }
        gb[c] += (float)acc;
    }
}
