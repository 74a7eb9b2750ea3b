/* Numpy-style broadcasting for element-wise ops: iteration plans, row
 * runners, gradient reduction and the shared prepare step. See
 * broadcast_impl.h for the plan's design. */
#include <stdio.h>
#include <string.h>

#include "ops/kernels/broadcast_impl.h"
#include "core/rules.h"
#include "util/parallel.h"

/* ---- plans ---- */

bool
lrpx__bcast_init(struct lrpx_bcast *it, int out_rank, const int64_t *out_dims,
                 int n_ops, const int *ranks, const int64_t *const *dims)
{
    memset(it, 0, sizeof *it);
    if (n_ops < 0 || n_ops > LRPX_BCAST_MAX_OPS || out_rank < 0 || out_rank > LRPX_MAX_RANK)
        return false;
    it->n_ops = n_ops;

    /* per operand row-major strides, aligned on the right */
    int64_t st[LRPX_BCAST_MAX_OPS][LRPX_MAX_RANK];
    for (int k = 0; k < n_ops; k++) {
        int r = ranks[k];
        if (r < 0 || r > out_rank)
            return false;
        int64_t s = 1;
        for (int d = out_rank - 1; d >= 0; d--) {
            int kd = d - (out_rank - r);          /* operand axis, < 0: absent */
            int64_t od = kd >= 0 ? dims[k][kd] : 1;
            if (od != 1 && od != out_dims[d])
                return false;
            st[k][d] = (od == 1) ? 0 : s;
            s *= od;
        }
    }

    int64_t n = 1;
    for (int d = 0; d < out_rank; d++)
        n *= out_dims[d];
    it->n_elems = n;

    /* drop size-1 output dims, merge dims every operand walks contiguously */
    int rank = 0;
    for (int d = 0; d < out_rank; d++) {
        if (out_dims[d] == 1)
            continue;
        bool merge = rank > 0;
        for (int k = 0; k < n_ops && merge; k++)
            if (it->strides[k][rank - 1] != st[k][d] * out_dims[d])
                merge = false;
        if (merge) {
            it->dims[rank - 1] *= out_dims[d];
            for (int k = 0; k < n_ops; k++)
                it->strides[k][rank - 1] = st[k][d];
        } else {
            it->dims[rank] = out_dims[d];
            for (int k = 0; k < n_ops; k++)
                it->strides[k][rank] = st[k][d];
            rank++;
        }
    }
    if (rank == 0) {                       /* scalar or all ones: one element */
        it->dims[0] = 1;
        for (int k = 0; k < n_ops; k++)
            it->strides[k][0] = 0;
        rank = 1;
    }
    it->rank = rank;
    return true;
}

/* Rows [o0, o1) of the walk (a row: the innermost merged dim). */
static void
bcast_rows(const struct lrpx_bcast *it, lrpx_bcast_fn fn, void *ctx, int64_t o0, int64_t o1)
{
    const int     rank  = it->rank;
    const int64_t inner = it->dims[rank - 1];
    int           istr[LRPX_BCAST_MAX_OPS];
    int64_t       off[LRPX_BCAST_MAX_OPS] = {0};
    int64_t       idx[LRPX_MAX_RANK]      = {0};

    /* the innermost merged dim of a contiguous operand has stride 0 or 1 */
    for (int k = 0; k < it->n_ops; k++)
        istr[k] = it->strides[k][rank - 1] != 0;
    /* the multi-index of row o0 */
    {
        int64_t r = o0;
        for (int d = rank - 2; d >= 0; d--) {
            idx[d] = r % it->dims[d];
            r /= it->dims[d];
            for (int k = 0; k < it->n_ops; k++)
                off[k] += idx[d] * it->strides[k][d];
        }
    }

    int64_t out_off = o0 * inner;
    for (int64_t o = o0; o < o1; o++) {
        fn(ctx, inner, out_off, off, istr);
        out_off += inner;
        for (int d = rank - 2; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < it->n_ops; k++)
                off[k] += it->strides[k][d];
            if (idx[d] < it->dims[d])
                break;
            for (int k = 0; k < it->n_ops; k++)
                off[k] -= it->strides[k][d] * it->dims[d];
            idx[d] = 0;
        }
    }
}

void
lrpx__bcast_foreach(const struct lrpx_bcast *it, lrpx_bcast_fn fn, void *ctx)
{
    if (it->n_elems <= 0)
        return;
    bcast_rows(it, fn, ctx, 0, it->n_elems / it->dims[it->rank - 1]);
}

struct bcast_mt_ctx {
    const struct lrpx_bcast *it;
    lrpx_bcast_fn            fn;
    void                    *ctx;
};

static void
bcast_mt_range(void *c_, int64_t o0, int64_t o1)
{
    const struct bcast_mt_ctx *c = c_;
    bcast_rows(c->it, c->fn, c->ctx, o0, o1);
}

void
lrpx__bcast_foreach_mt(const struct lrpx_bcast *it, lrpx_bcast_fn fn, void *ctx,
                       struct lrpx_pool *pool)
{
    if (it->n_elems <= 0)
        return;
    const int64_t       inner = it->dims[it->rank - 1];
    struct bcast_mt_ctx c     = {it, fn, ctx};
    lrpx__parallel_for(pool, it->n_elems / inner, 1 + (1 << 14) / inner, bcast_mt_range,
                       &c);
}

/* ---- binary and copy runners ---- */

struct bin_ctx {
    lrpx_bcast_row2 row;
    char           *y;
    const char     *a, *b;
    size_t          ys, as, bs;
};

static void
bin_row(void *ctx, int64_t n, int64_t out_off, const int64_t *off, const int *inner)
{
    struct bin_ctx *c = ctx;
    c->row(c->y + (size_t)out_off * c->ys, c->a + (size_t)off[0] * c->as, inner[0],
           c->b + (size_t)off[1] * c->bs, inner[1], n);
}

void
lrpx__bcast_binary(const struct lrpx_bcast *it, lrpx_bcast_row2 row,
                   void *y, size_t y_size, const void *a, size_t a_size,
                   const void *b, size_t b_size)
{
    struct bin_ctx c = {row, y, a, b, y_size, a_size, b_size};
    lrpx__bcast_foreach(it, bin_row, &c);
}

void
lrpx__bcast_binary_mt(const struct lrpx_bcast *it, lrpx_bcast_row2 row,
                      void *y, size_t y_size, const void *a, size_t a_size,
                      const void *b, size_t b_size, struct lrpx_pool *pool)
{
    struct bin_ctx c = {row, y, a, b, y_size, a_size, b_size};
    lrpx__bcast_foreach_mt(it, bin_row, &c, pool);
}

struct copy_ctx {
    char       *y;
    const char *a;
    size_t      size;
};

static void
copy_row(void *ctx, int64_t n, int64_t out_off, const int64_t *off, const int *inner)
{
    struct copy_ctx *c = ctx;
    char            *y = c->y + (size_t)out_off * c->size;
    const char      *a = c->a + (size_t)off[0] * c->size;
    if (inner[0]) {
        memcpy(y, a, (size_t)n * c->size);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy(y + (size_t)i * c->size, a, c->size);
}

void
lrpx__bcast_copy(const struct lrpx_bcast *it, void *y, const void *a, size_t size)
{
    struct copy_ctx c = {y, a, size};
    lrpx__bcast_foreach(it, copy_row, &c);
}

/* ---- gradient of a broadcast ---- */

struct reduce_ctx {
    float       *dst;
    const float *src;
    double       scale;
};

static void
reduce_row(void *ctx, int64_t n, int64_t out_off, const int64_t *off, const int *inner)
{
    struct reduce_ctx *c   = ctx;
    const float       *src = c->src + out_off;
    float             *dst = c->dst + off[0];
    if (inner[0]) {
        for (int64_t i = 0; i < n; i++)
            dst[i] += (float)(c->scale * src[i]);
        return;
    }
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += src[i];
    dst[0] += (float)(c->scale * s);
}

bool
lrpx__bcast_reduce_add(float *dst, int dst_rank, const int64_t *dst_dims,
                       const float *src, int src_rank, const int64_t *src_dims,
                       float scale)
{
    struct lrpx_bcast it;
    const int64_t    *dd[1] = {dst_dims};
    if (!lrpx__bcast_init(&it, src_rank, src_dims, 1, &dst_rank, dd))
        return false;
    struct reduce_ctx c = {dst, src, scale};
    lrpx__bcast_foreach(&it, reduce_row, &c);
    return true;
}

/* ---- shared prepare ---- */

lrpx_status
lrpx__elem_check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                       unsigned allowed)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    if (!t)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input %d is missing", i);
    lrpx_dtype dt = t->dtype;
    if ((unsigned)dt < 32 && (allowed & (1u << dt)))
        return LRPX_OK;
    if (dt == LRPX_DTYPE_FLOAT16 || dt == LRPX_DTYPE_STRING || dt == 16 /* bfloat16 */)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "input %d is %s: lrpx does not compute in this type", i,
                                dt == 16 ? "bfloat16" : lrpx_dtype_name(dt));
    char   names[160] = "";
    size_t len        = 0;
    for (int k = 1; k < LRPX_DTYPE_COUNT && len + 12 < sizeof names; k++)
        if (allowed & (1u << k))
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    lrpx_dtype_name((lrpx_dtype)k));
    return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "input %d has type %s; lrpx's %s takes %s",
                            i, lrpx_dtype_name(dt), n->op_type, names);
}

void
lrpx__elem_shape(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                 struct lrpx_elem_shape *out)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, i);
    out->rank = t->rank;
    memcpy(out->dims, t->dims, sizeof out->dims);
    if (x->opset >= 7 || i != 1 || lrpx__attr_int(n, "broadcast", 0) == 0)
        return;
    /* legacy: B's dims sit inside A's, starting at `axis` (default: suffix) */
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    if (t->n_elems == 1 && t->rank > a->rank) {
        out->rank = 0;
        return;
    }
    int64_t axis = lrpx__attr_int(n, "axis", a->rank - t->rank);
    if (axis < 0)
        axis += a->rank;
    if (axis < 0 || axis + t->rank > a->rank)
        return;                              /* caught by the shape check */
    out->rank = a->rank;
    for (int d = 0; d < a->rank; d++)
        out->dims[d] = 1;
    for (int d = 0; d < t->rank; d++)
        out->dims[axis + d] = t->dims[d];
}

lrpx_status
lrpx__elem_prepare(struct lrpx_exec *x, const struct lrpx_node *n, int first,
                   unsigned allowed, lrpx_dtype out_dtype, bool legacy,
                   struct lrpx_bcast *it)
{
    lrpx_status rc;
    if (n->n_inputs < 1)
        return lrpx__node_error(x, n, LRPX_EPARSE, "needs at least one input");
    for (int i = 0; i < n->n_inputs; i++)
        if (!lrpx__in(x, n, i))
            return lrpx__node_error(x, n, LRPX_EINVAL, "input %d is missing", i);
    if ((rc = lrpx__elem_check_dtype(x, n, first, allowed)) != LRPX_OK)
        return rc;
    lrpx_dtype dt = lrpx__in(x, n, first)->dtype;
    for (int i = first + 1; i < n->n_inputs; i++)
        if (lrpx__in(x, n, i)->dtype != dt)
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "input %d has type %s but input %d has %s", i,
                                    lrpx_dtype_name(lrpx__in(x, n, i)->dtype), first,
                                    lrpx_dtype_name(dt));

    /* output shape: fold the inputs left to right */
    struct lrpx_tensor acc;
    memset(&acc, 0, sizeof acc);
    struct lrpx_elem_shape sh[LRPX_BCAST_MAX_OPS];
    const bool old = legacy && x->opset < 7 && n->n_inputs == 2 &&
                     lrpx__attr_int(n, "broadcast", 0) != 0;
    for (int i = 0; i < n->n_inputs; i++) {
        struct lrpx_elem_shape s;
        lrpx__elem_shape(x, n, i, &s);
        if (old && i == 1) {
            /* the legacy form only broadcasts B into A's shape */
            const struct lrpx_tensor *a = lrpx__in(x, n, 0);
            bool ok = s.rank == a->rank || s.rank == 0;
            for (int d = 0; ok && d < s.rank; d++)
                ok = s.dims[d] == 1 || s.dims[d] == a->dims[d];
            if (!ok) {
                char ba[96], bb[96];
                const struct lrpx_tensor *b = lrpx__in(x, n, 1);
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                    "B (%s) does not fit inside A (%s) at axis %lld (broadcast=1, opset %lld)",
                    lrpx__dims_str(b->dims, b->rank, bb, sizeof bb),
                    lrpx__dims_str(a->dims, a->rank, ba, sizeof ba),
                    (long long)lrpx__attr_int(n, "axis", a->rank - b->rank),
                    (long long)x->opset);
            }
        }
        if (i < LRPX_BCAST_MAX_OPS)
            sh[i] = s;
        struct lrpx_tensor cur;
        memset(&cur, 0, sizeof cur);
        if (!lrpx__tensor_shape(&cur, dt, s.rank, s.dims))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "input %d has an invalid shape", i);
        if (i == 0) {
            acc = cur;
            continue;
        }
        int     rank;
        int64_t dims[LRPX_MAX_RANK];
        if ((rc = lrpx__broadcast_shape(x, n, &acc, &cur, &rank, dims)) != LRPX_OK)
            return rc;
        if (!lrpx__tensor_shape(&acc, dt, rank, dims))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "broadcast shape overflows");
    }
    if ((rc = lrpx__set_output(x, n, 0, out_dtype == LRPX_DTYPE_UNDEFINED ? dt : out_dtype,
                               acc.rank, acc.dims)) != LRPX_OK)
        return rc;
    if (!it)
        return LRPX_OK;

    int            ranks[LRPX_BCAST_MAX_OPS];
    const int64_t *dims[LRPX_BCAST_MAX_OPS];
    if (n->n_inputs > LRPX_BCAST_MAX_OPS)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "too many inputs (%d)", n->n_inputs);
    for (int i = 0; i < n->n_inputs; i++) {
        ranks[i] = sh[i].rank;
        dims[i]  = sh[i].dims;
    }
    if (!lrpx__bcast_init(it, acc.rank, acc.dims, n->n_inputs, ranks, dims))
        return lrpx__node_error(x, n, LRPX_ESHAPE, "inputs do not broadcast");
    return LRPX_OK;
}

lrpx_status
lrpx__unary_prepare(struct lrpx_exec *x, const struct lrpx_node *n, unsigned allowed)
{
    lrpx_status rc = lrpx__elem_check_dtype(x, n, 0, allowed);
    if (rc != LRPX_OK)
        return rc;
    return lrpx__set_output_like(x, n, 0, lrpx__in(x, n, 0));
}

lrpx_status
lrpx__back_not_f32(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *t = lrpx__in(x, n, 0);
    return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                            "gradients and relevance are computed for float32 only, "
                            "not %s", t ? lrpx_dtype_name(t->dtype) : "?");
}

/* ---- shared forward/backward of binary ops ---- */

lrpx_status
lrpx__binary_prepare(struct lrpx_exec *x, const struct lrpx_node *n, unsigned allowed,
                     lrpx_dtype out_dtype)
{
    struct lrpx_bcast *it = lrpx__params_alloc(x, n, sizeof *it);
    if (!it)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    if (n->n_inputs != 2)
        return lrpx__node_error(x, n, LRPX_EPARSE, "takes 2 inputs, not %d", n->n_inputs);
    return lrpx__elem_prepare(x, n, 0, allowed, out_dtype, true, it);
}

lrpx_status
lrpx__binary_forward(struct lrpx_exec *x, const struct lrpx_node *n,
                     const struct lrpx_bcast *it, const lrpx_bcast_row2 *table)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0);
    const struct lrpx_tensor *b = lrpx__in(x, n, 1);
    struct lrpx_tensor       *y = lrpx__out(x, n, 0);
    lrpx_bcast_row2           row = table[a->dtype];
    if (!row)      /* prepare admitted a dtype the op has no kernel for */
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(a->dtype));
    lrpx__bcast_binary_mt(it, row, y->data, lrpx_dtype_size(y->dtype), a->data,
                          lrpx_dtype_size(a->dtype), b->data, lrpx_dtype_size(b->dtype),
                          x->pool);
    return LRPX_OK;
}

/* Operands and output of one shape: the rows are cut into ranges over
 * the threads (each element is computed by the same code wherever the
 * cuts fall, so the bits do not depend on the thread count). */
struct elem_flat_ctx {
    lrpx_bcast_fn fn;
    void         *ctx;
    int           n_ops;
};

static void
elem_flat_range(void *c_, int64_t i0, int64_t i1)
{
    const struct elem_flat_ctx *c = c_;
    int64_t                     off[LRPX_BCAST_MAX_OPS];
    int                         inner[LRPX_BCAST_MAX_OPS];
    for (int k = 0; k < c->n_ops; k++) {
        off[k]   = i0;
        inner[k] = 1;
    }
    c->fn(c->ctx, i1 - i0, i0, off, inner);
}

lrpx_status
lrpx__elem_back_run(struct lrpx_exec *x, const struct lrpx_node *n,
                    const struct lrpx_bcast *it, int first, lrpx_bcast_fn row,
                    struct lrpx_back_ctx *ctx)
{
    const float *g = lrpx__back_out(x, n, 0);
    if (!g)
        return LRPX_OK;
    bool any = false;
    for (int k = 0; k < it->n_ops; k++) {
        const struct lrpx_tensor *t  = lrpx__in(x, n, first + k);
        float                    *gb = lrpx__back_in(x, n, first + k);
        ctx->op[k]  = t && t->dtype == LRPX_DTYPE_FLOAT32 ? t->f32 : NULL;
        ctx->gin[k] = gb;
        if (gb && !ctx->op[k])
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "gradients and relevance are computed for float32 "
                                    "only, input %d is %s", first + k,
                                    t ? lrpx_dtype_name(t->dtype) : "?");
        any = any || gb;
    }
    if (!any)
        return LRPX_OK;
    const struct lrpx_tensor *y = lrpx__out(x, n, 0);
    ctx->y = y->dtype == LRPX_DTYPE_FLOAT32 ? y->f32 : NULL;
    ctx->g = g;
    bool flat = x->pool != NULL;
    for (int k = 0; k < it->n_ops && flat; k++) {
        const struct lrpx_tensor *t = lrpx__in(x, n, first + k);
        flat = t && t->n_elems == it->n_elems;
    }
    if (flat) {
        struct elem_flat_ctx fc = {row, ctx, it->n_ops};
        lrpx__parallel_for(x->pool, it->n_elems, 1 << 15, elem_flat_range, &fc);
        return LRPX_OK;
    }
    lrpx__bcast_foreach(it, row, ctx);
    return LRPX_OK;
}

struct pass_add_ctx {
    float       *gi;
    const float *g;
    double       scale;
};

LRPX_TARGET_CLONES
static void
pass_add_range(void *c_, int64_t i0, int64_t i1)
{
    const struct pass_add_ctx *c  = c_;
    float *restrict            gi = c->gi;
    const float *restrict      g  = c->g;
    const double               sc = c->scale;
    if (sc == 1.0)
        for (int64_t i = i0; i < i1; i++)
            gi[i] += g[i];
    else     /* as reduce_row */
        for (int64_t i = i0; i < i1; i++)
            gi[i] += (float)(sc * g[i]);
}

void
lrpx__add_scaled(struct lrpx_pool *pool, float *dst, const float *src, int64_t n, double scale)
{
    struct pass_add_ctx c = {dst, src, scale};
    lrpx__parallel_for(pool, n, 1 << 15, pass_add_range, &c);
}

lrpx_status
lrpx__elem_pass_to(struct lrpx_exec *x, const struct lrpx_node *n, int i, float scale)
{
    float       *gi = lrpx__back_in(x, n, i);
    const float *g  = lrpx__back_out(x, n, 0);
    if (!gi || !g)
        return LRPX_OK;
    struct lrpx_elem_shape    s;
    const struct lrpx_tensor *y = lrpx__out(x, n, 0);
    lrpx__elem_shape(x, n, i, &s);
    int64_t n_in = 1;
    for (int k = 0; k < s.rank; k++)
        n_in *= s.dims[k];
    if (n_in == y->n_elems) {        /* no broadcast: a plain sum */
        lrpx__add_scaled(x->pool, gi, g, n_in, scale);
        return LRPX_OK;
    }
    if (!lrpx__bcast_reduce_add(gi, s.rank, s.dims, g, y->rank, y->dims, scale))
        return lrpx__node_error(x, n, LRPX_ESHAPE, "input %d does not broadcast to the output",
                                i);
    return LRPX_OK;
}

/* ---- variadic ops ---- */

lrpx_status
lrpx__variadic_prepare(struct lrpx_exec *x, const struct lrpx_node *n, unsigned allowed,
                       size_t scratch_per_elem)
{
    lrpx_status rc = lrpx__elem_prepare(x, n, 0, allowed, LRPX_DTYPE_UNDEFINED, false, NULL);
    if (rc != LRPX_OK)
        return rc;
    struct lrpx_variadic *p = lrpx__params_alloc(
        x, n, sizeof *p + (size_t)n->n_inputs * sizeof p->it[0]);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    p->n_inputs = n->n_inputs;
    const struct lrpx_tensor *y = lrpx__out(x, n, 0);
    for (int i = 0; i < n->n_inputs; i++) {
        const struct lrpx_tensor *t  = lrpx__in(x, n, i);
        const int64_t            *dd = t->dims;
        if (!lrpx__bcast_init(&p->it[i], y->rank, y->dims, 1, &t->rank, &dd))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "input %d does not broadcast", i);
    }
    size_t bytes;
    if (!lrpx__mul_size((size_t)y->n_elems, scratch_per_elem, &bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "scratch size overflows");
    lrpx__scratch_request(x, bytes);
    return LRPX_OK;
}

struct acc_ctx {
    lrpx_bcast_row2 row;
    char           *y;
    const char     *b;
    size_t          ys, bs;
};

static void
acc_row(void *ctx, int64_t n, int64_t out_off, const int64_t *off, const int *inner)
{
    struct acc_ctx *c = ctx;
    char           *y = c->y + (size_t)out_off * c->ys;
    c->row(y, y, 1, c->b + (size_t)off[0] * c->bs, inner[0], n);
}

lrpx_status
lrpx__variadic_forward(struct lrpx_exec *x, const struct lrpx_node *n,
                       const lrpx_bcast_row2 *table)
{
    const struct lrpx_variadic *p = LRPX_PARAMS(x, n, struct lrpx_variadic);
    struct lrpx_tensor         *y = lrpx__out(x, n, 0);
    size_t                      size = lrpx_dtype_size(y->dtype);
    lrpx_bcast_row2             row  = table[y->dtype];
    if (!row)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no kernel for %s",
                                lrpx_dtype_name(y->dtype));
    lrpx__bcast_copy(&p->it[0], y->data, lrpx__in(x, n, 0)->data, size);
    for (int i = 1; i < p->n_inputs; i++) {
        struct acc_ctx c = {row, y->data, lrpx__in(x, n, i)->data, size, size};
        lrpx__bcast_foreach(&p->it[i], acc_row, &c);
    }
    return LRPX_OK;
}

struct winner_ctx {
    const float *xi, *y, *g;
    float       *gi;
    uint8_t     *claimed;
};

static void
winner_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *inner)
{
    struct winner_ctx *c  = ctx;
    const float       *xi = c->xi + off[0];
    float             *gi = c->gi ? c->gi + off[0] : NULL;
    const int          s  = inner[0];
    for (int64_t k = 0; k < n; k++) {
        if (c->claimed[o + k] || xi[k * s] != c->y[o + k])
            continue;
        c->claimed[o + k] = 1;
        if (gi)
            gi[k * s] += c->g[o + k];
    }
}

lrpx_status
lrpx__variadic_winner_back(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_variadic *p = LRPX_PARAMS(x, n, struct lrpx_variadic);
    const float                *g = lrpx__back_out(x, n, 0);
    const struct lrpx_tensor   *y = lrpx__out(x, n, 0);
    if (!g)
        return LRPX_OK;
    bool any = false;
    for (int i = 0; i < p->n_inputs; i++)
        any = any || lrpx__back_in(x, n, i);
    if (!any)
        return LRPX_OK;
    if (y->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__back_not_f32(x, n);
    if (x->scratch_size < (size_t)y->n_elems)
        return lrpx__node_error(x, n, LRPX_EINVAL, "scratch too small");
    struct winner_ctx c = {.y = y->f32, .g = g, .claimed = x->scratch};
    memset(c.claimed, 0, (size_t)y->n_elems);
    for (int i = 0; i < p->n_inputs; i++) {
        c.xi = lrpx__in(x, n, i)->f32;
        c.gi = lrpx__back_in(x, n, i);
        lrpx__bcast_foreach(&p->it[i], winner_row, &c);
    }
    return LRPX_OK;
}

struct prop_ctx {
    const float *xi, *r;
    float       *ri;
    double      *z;
    double       eps, scale;
};

static void
prop_sum_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *inner)
{
    struct prop_ctx *c  = ctx;
    const float     *xi = c->xi + off[0];
    for (int64_t k = 0; k < n; k++)
        c->z[o + k] += c->scale * xi[k * inner[0]];
}

static void
prop_split_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *inner)
{
    struct prop_ctx *c  = ctx;
    const float     *xi = c->xi + off[0];
    const int        s  = inner[0];
    LRPX_ACC_ROW(c->ri + off[0], s, n,
                 c->scale * xi[i * s] * (c->r[o + i] / lrpx__stabilize(c->z[o + i], c->eps)));
}

lrpx_status
lrpx__variadic_winner_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    /* scratch: one "already routed" flag per output element for backward */
    return lrpx__variadic_prepare(x, n, LRPX_DT_NUMERIC, 1);
}

lrpx_status
lrpx__variadic_winner_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    int n_rel = 0, last = -1;
    for (int i = 0; i < n->n_inputs; i++)
        if (lrpx__back_in(x, n, i)) {
            n_rel++;
            last = i;
        }
    if (n_rel == 0)
        return LRPX_OK;
    if (n_rel == 1)
        return lrpx__elem_pass_to(x, n, last, 1.0f);
    return lrpx__variadic_winner_back(x, n);
}

lrpx_status
lrpx__variadic_proportional(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_variadic *p = LRPX_PARAMS(x, n, struct lrpx_variadic);
    const float                *r = lrpx__back_out(x, n, 0);
    const struct lrpx_tensor   *y = lrpx__out(x, n, 0);
    bool                        any = false;
    for (int i = 0; i < p->n_inputs; i++)
        any = any || lrpx__back_in(x, n, i);
    if (!r || !any)
        return LRPX_OK;
    if (y->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__back_not_f32(x, n);
    if (x->scratch_size < (size_t)y->n_elems * sizeof(double))
        return lrpx__node_error(x, n, LRPX_EINVAL, "scratch too small");

    /* Mean's contributions are x_i / K; Sum's are x_i */
    const double    scale = strcmp(n->op_type, "Mean") == 0 ? 1.0 / p->n_inputs : 1.0;
    struct prop_ctx c     = {.r = r, .z = x->scratch, .scale = scale,
                             .eps = lrpx__rule(x, n)->stab};
    memset(c.z, 0, (size_t)y->n_elems * sizeof(double));
    for (int i = 0; i < p->n_inputs; i++) {
        c.xi = lrpx__in(x, n, i)->f32;
        lrpx__bcast_foreach(&p->it[i], prop_sum_row, &c);
    }
    for (int i = 0; i < p->n_inputs; i++) {
        if (!(c.ri = lrpx__back_in(x, n, i)))
            continue;
        c.xi = lrpx__in(x, n, i)->f32;
        lrpx__bcast_foreach(&p->it[i], prop_split_row, &c);
    }
    return LRPX_OK;
}
