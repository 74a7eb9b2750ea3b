/* Convolution geometry and kernels shared by Conv and ConvTranspose, and
 * the sgemm wrapper shared with Gemm and MatMul. See conv_impl.h for the
 * "conv terms" convention.
 *
 * General convolutions run as im2col + sgemm per group and batch item,
 * chunked over output rows so the column buffer stays below
 * CONV_CHUNK_BYTES; pointwise ones (1x1, stride 1, no padding) multiply the
 * input directly; depthwise ones (one input channel per group) use direct
 * loops, where a GEMM with a single-channel K would be mostly overhead. */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "ops/conv_impl.h"

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
 * for output rows [r0, r1). */
static void
conv_im2col(const struct lrpx_conv_geom *g, const float *in, int64_t r0, int64_t r1,
            float *col)
{
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];
    float *dst = col;

    for (int64_t c = 0; c < g->cin_g; c++) {
        const float *in_c = in + c * g->in_size;
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
                const float *src = in_c + row * iw;
                if (lo > 0)
                    memset(dst, 0, (size_t)lo * sizeof(float));
                if (sw == 1) {
                    if (hi > lo)
                        memcpy(dst + lo, src + iw0 + lo, (size_t)(hi - lo) * sizeof(float));
                } else {
                    for (int64_t o = lo; o < hi; o++)
                        dst[o] = src[iw0 + o * sw];
                }
                if (hi < ow)
                    memset(dst + hi, 0, (size_t)(ow - hi) * sizeof(float));
            }
        }
    }
}

/* The adjoint of conv_im2col: in += scatter(col). */
static void
conv_col2im(const struct lrpx_conv_geom *g, const float *col, int64_t r0, int64_t r1,
            float *in)
{
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];
    const float *src = col;

    for (int64_t c = 0; c < g->cin_g; c++) {
        float *in_c = in + c * g->in_size;
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

/* ---- depthwise (cin_g == 1): output channel m reads input channel
 * m / cout_g ---- */

static void
conv_dw_fwd(const struct lrpx_conv_geom *g, const float *in, const float *w, float *out,
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

static void
conv_dw_bwd_data(const struct lrpx_conv_geom *g, const float *gout, const float *w,
                 float *gin)
{
    const int64_t rows = g->out_sp[0] * g->out_sp[1];
    const int64_t ow = g->out_sp[2], iw = g->in_sp[2], sw = g->stride[2];

    for (int64_t b = 0; b < g->batch; b++)
    for (int64_t m = 0; m < g->out_c; m++) {
        float       *gin_c  = gin + (b * g->in_c + m / g->cout_g) * g->in_size;
        const float *w_m    = w + m * g->k_size;
        const float *gout_m = gout + (b * g->out_c + m) * g->out_size;
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
                    for (int64_t o = lo; o < hi; o++)
                        dst[iw0 + o * sw] += wv * src[o];
                }
            }
        }
    }
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
               bool accumulate, float *scratch)
{
    if (g->depthwise) {
        conv_dw_fwd(g, in, w, out, accumulate);
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
            lrpx__sgemm(false, false, g->cout_g, g->out_size, g->cin_g, 1.0f, w_g, g->cin_g,
                        in_g, g->in_size, beta, out_g, g->out_size);
            continue;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
            const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
            const int64_t nc = (r1 - r0) * ow;
            conv_im2col(g, in_g, r0, r1, scratch);
            lrpx__sgemm(false, false, g->cout_g, nc, ckk, 1.0f, w_g, ckk, scratch, nc,
                        beta, out_g + r0 * ow, g->out_size);
        }
    }
}

void
lrpx__conv_bwd_data(const struct lrpx_conv_geom *g, const float *gout, const float *w,
                    float *gin, bool accumulate, float *scratch)
{
    if (!accumulate && !g->pointwise && g->batch * g->in_c * g->in_size > 0)
        memset(gin, 0, (size_t)(g->batch * g->in_c * g->in_size) * sizeof(float));
    if (g->depthwise) {
        conv_dw_bwd_data(g, gout, w, gin);
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
            lrpx__sgemm(true, false, g->cin_g, g->in_size, g->cout_g, 1.0f, w_g, g->cin_g,
                        gout_g, g->out_size, accumulate ? 1.0f : 0.0f, gin_g, g->in_size);
            continue;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += g->rows_per_chunk) {
            const int64_t r1 = r0 + g->rows_per_chunk < rows ? r0 + g->rows_per_chunk : rows;
            const int64_t nc = (r1 - r0) * ow;
            lrpx__sgemm(true, false, ckk, nc, g->cout_g, 1.0f, w_g, ckk, gout_g + r0 * ow,
                        g->out_size, 0.0f, scratch, nc);
            conv_col2im(g, scratch, r0, r1, gin_g);
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
            conv_im2col(g, in_g, r0, r1, scratch);
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

/* ---- sgemm ---- */

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
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb,
                beta, c, (blasint)ldc);
}
