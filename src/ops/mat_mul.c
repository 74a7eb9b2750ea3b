/* MatMul — matrix product with numpy.matmul semantics: the last two axes
 * are matrices ([..., M, K] x [..., K, N] -> [..., M, N]), the leading
 * (batch) axes broadcast; a 1-D A is a row vector [1, K] and a 1-D B a
 * column [K, 1], the added axis being dropped from the output.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__MatMul.html  (opsets 1, 9, 13;
 *       float32).
 * LRP:  a linear layer (lrpx__lrp_linear through mat_mul_linear). The data
 *       input is A and the weight B, unless only A is a constant (W x
 *       written as MatMul(W, x)), then they swap; with two non-constant
 *       operands B is still the "weight" and roles.w_known is false (see
 *       core/linear.h). No bias.
 * Backward: gradients for both operands, summed over broadcast batch axes.
 *
 * Products: on CPUs with the packed kernels (pgemm_impl.h: AVX2+FMA) every
 * product is C = pack(A') B' with A' packed per call into the scratch and
 * B' read in place: the forward A B; for a computed B (attention) the data
 * gradient gY B^T with B^T made per call into the scratch; the gradient of
 * B as A^T gY. The data gradient of a dense layer (a constant B, the
 * epsilon rule's product) stays with OpenBLAS, which multiplies by W^T as
 * fast without a transposed copy of the weights. Elsewhere, or when the
 * scratch is smaller than asked (a plan made without it), OpenBLAS through
 * lrpx__sgemm_mt. Either gives the same bits for any thread count.
 */
#include <string.h>

#include "core/rules.h"
#include "ops/kernels/pgemm_impl.h"
#include "ops/kernels/sgemm_impl.h"
#include "core/linear.h"
#include "util/parallel.h"

struct mat_mul_params {
    struct lrpx_linear_roles roles;      /* first member (LRPX_LINEAR_PARAMS) */
    int64_t m, n, k;
    int64_t n_batch;                     /* output matrices               */
    int     batch_rank;
    int64_t batch_dims[LRPX_MAX_RANK];
    int64_t a_stride[LRPX_MAX_RANK];     /* matrix index step of A and B  */
    int64_t b_stride[LRPX_MAX_RANK];     /* per batch axis (0: broadcast) */
    int64_t a_count, b_count;            /* matrices stored in A and B    */
    bool    fold_a;                      /* B is one matrix and A holds   */
                                         /* n_batch: one [n_batch*M, K]   */
                                         /* x [K, N] product              */
    bool    pg;                          /* products by lrpx__pgemm       */
    size_t  scratch;                     /* bytes the products need       */
};
LRPX_LINEAR_PARAMS(struct mat_mul_params);

static lrpx_status
mat_mul_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0), *b = lrpx__in(x, n, 1);
    char b1[96], b2[96];
    lrpx_status rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_dtype(x, n, 1, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_rank(x, n, 0, 1, LRPX_MAX_RANK)) != LRPX_OK ||
        (rc = lrpx__check_rank(x, n, 1, 1, LRPX_MAX_RANK)) != LRPX_OK)
        return rc;

    struct mat_mul_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    const int ra = a->rank, rb = b->rank;
    p->m = ra >= 2 ? a->dims[ra - 2] : 1;
    p->k = a->dims[ra - 1];
    const int64_t kb = rb >= 2 ? b->dims[rb - 2] : b->dims[0];
    p->n = rb >= 2 ? b->dims[rb - 1] : 1;
    if (kb != p->k)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "A %s and B %s do not multiply (K = %lld vs %lld)",
                                lrpx__dims_str(a->dims, a->rank, b1, sizeof b1),
                                lrpx__dims_str(b->dims, b->rank, b2, sizeof b2),
                                (long long)p->k, (long long)kb);

    /* broadcast the batch axes, right-aligned */
    const int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    const int br = ba > bb ? ba : bb;
    int64_t sa = 1, sb = 1;
    p->batch_rank = br;
    p->n_batch = 1;
    for (int i = br - 1; i >= 0; i--) {
        const int     ia = i - (br - ba), ib = i - (br - bb);
        const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "batch axes of A %s and B %s do not broadcast",
                                    lrpx__dims_str(a->dims, a->rank, b1, sizeof b1),
                                    lrpx__dims_str(b->dims, b->rank, b2, sizeof b2));
        p->batch_dims[i] = da > db ? da : db;
        if (da == 0 || db == 0)
            p->batch_dims[i] = 0;
        p->a_stride[i] = da == 1 ? 0 : sa;
        p->b_stride[i] = db == 1 ? 0 : sb;
        if (!lrpx__mul_i64(sa, da, &sa) || !lrpx__mul_i64(sb, db, &sb) ||
            !lrpx__mul_i64(p->n_batch, p->batch_dims[i], &p->n_batch))
            return lrpx__node_error(x, n, LRPX_ESHAPE, "batch size overflows");
    }
    p->a_count = sa;
    p->b_count = sb;
    p->fold_a  = p->b_count == 1 && p->a_count == p->n_batch;
    if (p->fold_a)
        lrpx__scratch_request(x, lrpx__sgemm_rows_scratch(p->n, p->k));

    int64_t dims[LRPX_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < br; i++)
        dims[rank++] = p->batch_dims[i];
    if (ra >= 2)
        dims[rank++] = p->m;
    if (rb >= 2)
        dims[rank++] = p->n;

    const bool swap = !lrpx__in_const(x, n, 1) && lrpx__in_const(x, n, 0);
    lrpx__linear_roles_init(&p->roles, x, n, swap);

    /* scratch of the packed products, in floats: the product packs A
     * (rows x K); the data gradient packs gY (rows x N) next to B^T and a
     * result of rows x K; the gradient of B packs A^T (K x M) next to A^T
     * itself and a result of K x N */
    p->pg = lrpx__pgemm_available();
    if (p->pg) {
        const int64_t rows = p->fold_a ? p->n_batch * p->m : p->m;
        const double  fa = (double)lrpx__pgemm_packed_floats(rows, p->k);
        const double  fg = (double)lrpx__pgemm_packed_floats(rows, p->n) +
                           (double)p->n * p->k + (double)rows * p->k;
        const double  fb = (double)lrpx__pgemm_packed_floats(p->k, p->m) +
                           (double)p->k * p->m + (double)p->k * p->n;
        double        f  = fa > fg ? fa : fg;
        f                = f > fb ? f : fb;
        /* three pieces, each rounded up to 16 floats (64 bytes), and the
         * start aligned to 64 bytes */
        const double bytes = (f + 64.0) * sizeof(float);
        if (bytes < 1e12) {
            p->scratch = (size_t)bytes;
            lrpx__scratch_request(x, p->scratch);
        } else {
            p->pg = false;
        }
    }

    return lrpx__set_output(x, n, 0, LRPX_DTYPE_FLOAT32, rank, dims);
}

/* Matrix indices into A and B of output matrix `bi`. */
static void
mat_mul_batch_index(const struct mat_mul_params *p, int64_t bi, int64_t *ia, int64_t *ib)
{
    int64_t a = 0, b = 0;

    for (int i = p->batch_rank - 1; i >= 0; i--) {
        const int64_t d = bi % p->batch_dims[i];
        bi /= p->batch_dims[i];
        a += d * p->a_stride[i];
        b += d * p->b_stride[i];
    }
    *ia = a;
    *ib = b;
}

/* ---- products ---- */

/* 64-byte aligned piece of n floats at *at of the scratch, then *at moves
 * past it */
static float *
mat_mul_piece(float **at, int64_t n)
{
    float *p = *at;
    *at += (n + 15) / 16 * 16;
    return p;
}

/* The scratch for the packed products, or NULL: use OpenBLAS. */
static float *
mat_mul_scratch(const struct lrpx_exec *x, const struct mat_mul_params *p)
{
    if (!p->pg || !x->scratch || x->scratch_size < p->scratch)
        return NULL;
    uintptr_t a = (uintptr_t)x->scratch;
    return (float *)(void *)(a % 64 == 0 ? (uint8_t *)x->scratch
                                          : (uint8_t *)x->scratch + (64 - a % 64));
}

/* dst (cols x rows) = src^T (src rows x cols, row stride ld) in blocks of
 * 32 x 32 */
static void
mat_mul_transpose(const float *src, int64_t rows, int64_t cols, int64_t ld, float *dst)
{
    for (int64_t i0 = 0; i0 < rows; i0 += 32)
        for (int64_t j0 = 0; j0 < cols; j0 += 32) {
            const int64_t i1 = i0 + 32 < rows ? i0 + 32 : rows;
            const int64_t j1 = j0 + 32 < cols ? j0 + 32 : cols;
            for (int64_t j = j0; j < j1; j++)
                for (int64_t i = i0; i < i1; i++)
                    dst[j * rows + i] = src[i * ld + j];
        }
}

/* c (m x n) = a (m x k) b (k x n) by pgemm, a packed into ap; add: c +=
 * instead, through t (m x n) */
static void
mat_mul_pg(struct lrpx_pool *pool, int64_t m, int64_t n, int64_t k, const float *a,
           const float *b, float *c, bool add, float *ap, float *t)
{
    lrpx__pgemm_pack(a, k, m, k, n, ap);
    lrpx__pgemm(pool, m, n, k, ap, b, n, NULL, add ? t : c, n, NULL);
    if (add)
        for (int64_t i = 0; i < m * n; i++)
            c[i] += t[i];
}

/* y = A B (overwrites y). With fold_a and the data in A, the rows are
 * samples (times tokens): batch-invariant if the session asks (then
 * OpenBLAS in fixed row blocks, not the packed kernels). */
static void
mat_mul_product(const struct lrpx_exec *x, const struct mat_mul_params *p, const float *a,
                const float *b, float *y)
{
    const int64_t mk = p->m * p->k, kn = p->k * p->n, mn = p->m * p->n;
    const bool    inv = x->batch_invariant && p->roles.in_index == 0;
    float        *s   = inv ? NULL : mat_mul_scratch(x, p);

    if (p->fold_a) {
        if (s)
            mat_mul_pg(x->pool, p->n_batch * p->m, p->n, p->k, a, b, y, false, s, NULL);
        else
            lrpx__sgemm_rows(x->pool, inv, x->scratch, false, false, p->n_batch * p->m, p->n,
                             p->k, 1.0f, a, p->k, b, p->n, 0.0f, y, p->n);
        return;
    }
    for (int64_t bi = 0; bi < p->n_batch; bi++) {
        int64_t ia, ib;
        mat_mul_batch_index(p, bi, &ia, &ib);
        if (s)
            mat_mul_pg(x->pool, p->m, p->n, p->k, a + ia * mk, b + ib * kn, y + bi * mn, false,
                       s, NULL);
        else
            lrpx__sgemm_mt(x->pool, false, false, p->m, p->n, p->k, 1.0f, a + ia * mk, p->k,
                           b + ib * kn, p->n, 0.0f, y + bi * mn, p->n);
    }
}

/* ga (+)= gY B^T, summed over broadcast batch axes (add: accumulate, else
 * overwrite); b_const: B is a constant */
static void
mat_mul_grad_a(struct lrpx_exec *x, const struct mat_mul_params *p, const float *gy,
               const float *b, bool b_const, float *ga, bool add)
{
    const int64_t mk = p->m * p->k, kn = p->k * p->n, mn = p->m * p->n;
    const bool    inv = x->batch_invariant && p->roles.in_index == 0;
    float        *s   = inv ? NULL : mat_mul_scratch(x, p);

    if (!add && !p->fold_a && p->a_count < p->n_batch) {
        /* several output matrices read one matrix of A: sum into zeros */
        if (p->a_count * mk > 0)
            memset(ga, 0, (size_t)(p->a_count * mk) * sizeof(float));
        add = true;
    }
    /* a constant weight (a dense layer): OpenBLAS multiplies by its
     * transpose about as fast as the packed kernels multiply by a
     * transposed copy (measured on vit_b_16's layers), and needs no copy */
    if (s && !b_const) {
        const int64_t rows = p->fold_a ? p->n_batch * p->m : p->m;
        float        *at   = s;
        float        *gp   = mat_mul_piece(&at, (int64_t)lrpx__pgemm_packed_floats(rows, p->n));
        float        *bt   = mat_mul_piece(&at, p->n * p->k);
        float        *t    = mat_mul_piece(&at, rows * p->k);
        for (int64_t bi = 0; bi < (p->fold_a ? 1 : p->n_batch); bi++) {
            int64_t ia = 0, ib = 0;
            if (!p->fold_a)
                mat_mul_batch_index(p, bi, &ia, &ib);
            mat_mul_transpose(b + ib * kn, p->k, p->n, p->n, bt);
            mat_mul_pg(x->pool, rows, p->k, p->n, gy + bi * mn, bt, ga + ia * mk, add, gp, t);
        }
        return;
    }
    if (!add && p->a_count * mk > 0)
        memset(ga, 0, (size_t)(p->a_count * mk) * sizeof(float));
    if (p->fold_a) {
        lrpx__sgemm_rows(x->pool, x->batch_invariant && p->roles.in_index == 0, x->scratch, false,
                         true, p->n_batch * p->m, p->k, p->n, 1.0f, gy, p->n, b, p->n, 1.0f, ga,
                         p->k);
        return;
    }
    for (int64_t bi = 0; bi < p->n_batch; bi++) {
        int64_t ia, ib;
        mat_mul_batch_index(p, bi, &ia, &ib);
        lrpx__sgemm_mt(x->pool, false, true, p->m, p->k, p->n, 1.0f, gy + bi * mn, p->n,
                       b + ib * kn, p->n, 1.0f, ga + ia * mk, p->k);
    }
}

/* gb (+)= A^T gY, summed over broadcast batch axes (add as in
 * mat_mul_grad_a) */
static void
mat_mul_grad_b(struct lrpx_exec *x, const struct mat_mul_params *p, const float *a,
               const float *gy, float *gb, bool add)
{
    const int64_t mk = p->m * p->k, kn = p->k * p->n, mn = p->m * p->n;
    float        *s = p->fold_a ? NULL : mat_mul_scratch(x, p);

    if (!add && (p->fold_a || p->b_count < p->n_batch || !s)) {
        if (p->b_count * kn > 0)
            memset(gb, 0, (size_t)(p->b_count * kn) * sizeof(float));
        add = true;
    }
    if (s) {
        float *at = s;
        float *ap = mat_mul_piece(&at, (int64_t)lrpx__pgemm_packed_floats(p->k, p->m));
        float *tr = mat_mul_piece(&at, p->k * p->m);
        float *t  = mat_mul_piece(&at, p->k * p->n);
        for (int64_t bi = 0; bi < p->n_batch; bi++) {
            int64_t ia, ib;
            mat_mul_batch_index(p, bi, &ia, &ib);
            mat_mul_transpose(a + ia * mk, p->m, p->k, p->k, tr);
            mat_mul_pg(x->pool, p->k, p->n, p->m, tr, gy + bi * mn, gb + ib * kn, add, ap, t);
        }
        return;
    }
    if (p->fold_a) {
        lrpx__sgemm_mt(x->pool, true, false, p->k, p->n, p->n_batch * p->m, 1.0f, a, p->k, gy,
                       p->n, 1.0f, gb, p->n);
        return;
    }
    for (int64_t bi = 0; bi < p->n_batch; bi++) {
        int64_t ia, ib;
        mat_mul_batch_index(p, bi, &ia, &ib);
        lrpx__sgemm_mt(x->pool, true, false, p->k, p->n, p->m, 1.0f, a + ia * mk, p->k,
                       gy + bi * mn, p->n, 1.0f, gb + ib * kn, p->n);
    }
}

/* ---- op ---- */

static lrpx_status
mat_mul_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct mat_mul_params *p = LRPX_PARAMS(x, n, struct mat_mul_params);

    mat_mul_product(x, p, lrpx__in(x, n, 0)->f32, lrpx__in(x, n, 1)->f32,
                    lrpx__out(x, n, 0)->f32);
    return LRPX_OK;
}

static lrpx_status
mat_mul_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct mat_mul_params *p = LRPX_PARAMS(x, n, struct mat_mul_params);
    const float *gy = lrpx__back_out(x, n, 0);
    float *ga = lrpx__back_in(x, n, 0);
    float *gb = lrpx__back_in(x, n, 1);

    if (gy == NULL)
        return LRPX_OK;
    if (ga != NULL)
        mat_mul_grad_a(x, p, gy, lrpx__in(x, n, 1)->f32, lrpx__in_const(x, n, 1), ga, true);
    if (gb != NULL)
        mat_mul_grad_b(x, p, lrpx__in(x, n, 0)->f32, gy, gb, true);
    return LRPX_OK;
}

/* ---- linear form for the LRP rules ---- */

static void
mat_mul_apply(struct lrpx_exec *x, const struct lrpx_node *n, const float *in,
              const float *w, float *out, void *scratch)
{
    const struct mat_mul_params *p = LRPX_PARAMS(x, n, struct mat_mul_params);
    (void)scratch;
    if (p->roles.in_index == 0)
        mat_mul_product(x, p, in, w, out);
    else
        mat_mul_product(x, p, w, in, out);
}

static void
mat_mul_apply_t(struct lrpx_exec *x, const struct lrpx_node *n, const float *gout,
                const float *w, float *gin, void *scratch)
{
    const struct mat_mul_params *p = LRPX_PARAMS(x, n, struct mat_mul_params);
    (void)scratch;
    if (p->roles.in_index == 0)
        mat_mul_grad_a(x, p, gout, w, p->roles.w_known, gin, false);
    else
        mat_mul_grad_b(x, p, w, gout, gin, false);
}

static void
mat_mul_add_bias(struct lrpx_exec *x, const struct lrpx_node *n, const float *b, float *out)
{
    /* MatMul has no bias input (roles.b_index is -1) */
    (void)x;
    (void)n;
    (void)b;
    (void)out;
}

/* the padded last row block of batch-invariant products */
static size_t
mat_mul_scratch_bytes(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct mat_mul_params *p = LRPX_PARAMS(x, n, struct mat_mul_params);
    size_t rows = p->fold_a ? lrpx__sgemm_rows_scratch(p->n, p->k) : 0;
    return p->scratch > rows ? p->scratch : rows;
}

/* A dense layer x [M, K] times W [K, N]: output channel n owns column n
 * of W. Not for batched products or y = W x (the channel axis 1 of the
 * output is then not N). */
static bool
mat_mul_channel_layout(const struct lrpx_node *n, const struct lrpx_tensor *w, int in_index,
                       int out_rank, struct lrpx_chan_layout *l)
{
    (void)n;
    if (in_index != 0 || w->rank != 2 || out_rank != 2 || w->dims[1] < 1)
        return false;
    *l = (struct lrpx_chan_layout){.inner = 1, .per = w->dims[1], .n_c = w->dims[1]};
    return true;
}

static const struct lrpx_linear_def mat_mul_linear = {
    .in_index       = 0,
    .w_index        = 1,
    .b_index        = -1,
    .kind           = LRPX_LAYER_DENSE,
    .apply          = mat_mul_apply,
    .apply_t        = mat_mul_apply_t,
    .add_bias       = mat_mul_add_bias,
    .scratch_bytes  = mat_mul_scratch_bytes,
    .channel_layout = mat_mul_channel_layout,
};

const struct lrpx_op_def lrpx__op_mat_mul = {
    .onnx_name     = "MatMul",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = mat_mul_prepare,
    .forward       = mat_mul_forward,
    .backward      = mat_mul_backward,
    .relevance     = lrpx__lrp_linear,
    .linear        = &mat_mul_linear,
    .lrp_class     = LRPX_LRP_CLASS_LINEAR,
};
