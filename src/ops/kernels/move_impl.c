/* Strided views and small helpers for the data-movement ops; see
 * move_impl.h. */
#include <string.h>

#include "ops/kernels/move_impl.h"

/* ---- view iteration ---- */

static int64_t
view_count(const struct lrpx_view *v)
{
    /* zeros first: an empty view's other dims may multiply past int64 */
    for (int k = 0; k < v->rank; k++)
        if (v->dims[k] <= 0)
            return 0;
    int64_t n = 1;
    for (int k = 0; k < v->rank; k++)
        n *= v->dims[k];
    return n;
}

/* Drop size-1 axes and merge neighbours that are contiguous on both sides.
 * The other side is always row-major, so axes k and k+1 merge when
 * strides[k] == strides[k+1] * dims[k+1]. The result has rank >= 1. */
static void
view_simplify(const struct lrpx_view *v, struct lrpx_view *s)
{
    s->rank   = 0;
    s->offset = v->offset;
    for (int k = 0; k < v->rank; k++) {
        if (v->dims[k] == 1)
            continue;
        int r = s->rank;
        if (r > 0 && s->strides[r - 1] == v->strides[k] * v->dims[k]) {
            s->dims[r - 1] *= v->dims[k];
            s->strides[r - 1] = v->strides[k];
        } else {
            s->dims[r]    = v->dims[k];
            s->strides[r] = v->strides[k];
            s->rank++;
        }
    }
    if (s->rank == 0) {
        s->rank       = 1;
        s->dims[0]    = 1;
        s->strides[0] = 0;
    }
}

/* Odometer over all axes but the last: `off` is the viewed offset of the
 * current row's first element. */
struct view_iter {
    struct lrpx_view s;
    int64_t          idx[LRPX_VIEW_MAX_RANK];
    int64_t          off;
    int64_t          rows;
    int64_t          inner;
    int64_t          istride;
};

static bool
view_iter_init(struct view_iter *it, const struct lrpx_view *v)
{
    int64_t n = view_count(v);
    if (n <= 0)
        return false;
    view_simplify(v, &it->s);
    memset(it->idx, 0, sizeof it->idx);
    it->off     = it->s.offset;
    it->inner   = it->s.dims[it->s.rank - 1];
    it->istride = it->s.strides[it->s.rank - 1];
    it->rows    = n / it->inner;
    return true;
}

static void
view_iter_next(struct view_iter *it)
{
    for (int k = it->s.rank - 2; k >= 0; k--) {
        it->off += it->s.strides[k];
        if (++it->idx[k] < it->s.dims[k])
            return;
        it->off -= it->s.strides[k] * it->s.dims[k];
        it->idx[k] = 0;
    }
}

/* Copy one row of `inner` elements of size ES between a strided and a
 * contiguous side. memcpy with a constant size compiles to one move and is
 * alias-safe for any element type. */
#define ROW_COPY(ES, DST_AT, SRC_AT)                                   \
    for (int64_t t = 0; t < it.inner; t++)                             \
        memcpy((DST_AT), (SRC_AT), (ES))

void
lrpx__view_gather(void *dst, const void *src, size_t esize, const struct lrpx_view *v)
{
    struct view_iter it;
    if (!view_iter_init(&it, v))
        return;
    uint8_t       *d  = dst;
    const uint8_t *s  = src;
    const int64_t  es = (int64_t)esize;
    for (int64_t row = 0; row < it.rows; row++) {
        const uint8_t *sp = s + it.off * es;
        if (it.istride == 1) {
            memcpy(d, sp, (size_t)(it.inner * es));
        } else {
            const int64_t step = it.istride * es;
            switch (esize) {
            case 1: ROW_COPY(1, d + t, sp + t * step); break;
            case 2: ROW_COPY(2, d + t * 2, sp + t * step); break;
            case 4: ROW_COPY(4, d + t * 4, sp + t * step); break;
            case 8: ROW_COPY(8, d + t * 8, sp + t * step); break;
            default: ROW_COPY(esize, d + t * es, sp + t * step); break;
            }
        }
        d += it.inner * es;
        view_iter_next(&it);
    }
}

#undef ROW_COPY

void
lrpx__view_scatter_add(float *dst, const float *src, const struct lrpx_view *v)
{
    struct view_iter it;
    if (!view_iter_init(&it, v))
        return;
    for (int64_t row = 0; row < it.rows; row++) {
        float *dp = dst + it.off;
        if (it.istride == 0) {
            /* a broadcast row: sum it once (in double: long rows of a
             * replicated scalar lose little this way) */
            double acc = 0.0;
            for (int64_t t = 0; t < it.inner; t++)
                acc += src[t];
            dp[0] += (float)acc;
        } else {
            for (int64_t t = 0; t < it.inner; t++)
                dp[t * it.istride] += src[t];
        }
        src += it.inner;
        view_iter_next(&it);
    }
}

/* ---- generic op bodies ---- */

lrpx_status
lrpx__view_op_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    const struct lrpx_view   *v   = LRPX_PARAMS(x, n, struct lrpx_view);

    lrpx__view_gather(out->data, in->data, lrpx_dtype_size(in->dtype), v);
    return LRPX_OK;
}

lrpx_status
lrpx__view_op_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    float       *gin  = lrpx__back_in(x, n, 0);
    const float *gout = lrpx__back_out(x, n, 0);

    /* added, never assigned: the input may feed several nodes */
    if (gin && gout)
        lrpx__view_scatter_add(gin, gout, LRPX_PARAMS(x, n, struct lrpx_view));
    return LRPX_OK;
}

lrpx_status
lrpx__move_copy_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    int64_t                   bytes = lrpx__tensor_bytes(in);

    if (bytes > 0 && out->data != in->data)
        memcpy(out->data, in->data, (size_t)bytes);
    return LRPX_OK;
}

void
lrpx__move_strides(const struct lrpx_tensor *t, int64_t *strides)
{
    if (t->n_elems == 0) {
        for (int k = 0; k < t->rank; k++)
            strides[k] = 0;
        return;
    }
    lrpx__strides(t->dims, t->rank, strides);
}

void *
lrpx__move_known_output(struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    struct lrpx_tensor *t     = lrpx__out(x, n, i);
    int64_t             bytes = lrpx__tensor_bytes(t);
    t->data = lrpx__arena_alloc(x->arena, (size_t)(bytes > 0 ? bytes : 1));
    if (t->data)
        x->known[n->outputs[i]] = 1;
    return t->data;
}

/* ---- checks ---- */

lrpx_status
lrpx__move_check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!t)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d is missing", i);
    if (lrpx_dtype_size(t->dtype) == 0)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "input %d has unsupported dtype %s", i,
                                lrpx_dtype_name(t->dtype));
    return LRPX_OK;
}

lrpx_status
lrpx__move_axis(struct lrpx_exec *x, const struct lrpx_node *n, int64_t axis, int rank,
                const char *what, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "%s = %lld is out of range [%d, %d]", what,
                                (long long)axis, -rank, rank - 1);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return LRPX_OK;
}

lrpx_status
lrpx__move_ints(struct lrpx_exec *x, const struct lrpx_node *n, int i, const char *what,
                int64_t *out, int max, int *count)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!t)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d (%s) is missing", i, what);
    if (!lrpx__in_known(x, n, i))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input %d (%s) must be constant (known before the run)", i, what);
    if (t->dtype != LRPX_DTYPE_INT64 && t->dtype != LRPX_DTYPE_INT32)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d (%s) has dtype %s, expected int64",
                                i, what, lrpx_dtype_name(t->dtype));
    if (t->rank > 1)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d (%s) has rank %d, expected 1", i,
                                what, t->rank);
    if (t->n_elems > max)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d (%s) has %lld values, at most %d allowed",
                                i, what, (long long)t->n_elems, max);
    for (int64_t k = 0; k < t->n_elems; k++)
        out[k] = lrpx__tensor_get_i64(t, k);
    *count = (int)t->n_elems;
    return LRPX_OK;
}
