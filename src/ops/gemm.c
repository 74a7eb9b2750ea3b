/* Gemm — Y = alpha * A' B' + beta * C, with A' = A^T when transA and
 * B' = B^T when transB; A' is M x K, B' K x N, Y M x N, and C (optional
 * from opset 11) broadcasts unidirectionally to [M, N].
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Gemm.html  (opsets 1, 6, 7,
 *       9, 11, 13; float32). The `broadcast` attribute of opsets < 7 is
 *       accepted and C is always broadcast (a superset of broadcast = 0).
 * LRP:  a linear layer (lrpx__lrp_linear through gemm_linear). The data
 *       input is A and the weight B, unless only A is a constant, then the
 *       roles swap (see core/linear.h); apply = alpha * A' B' with the
 *       substitute weight, add_bias adds beta * C.
 * Backward: gradients for A, B and C where they carry one.
 */
#include <math.h>
#include <string.h>

#include "core/rules.h"
#include "ops/kernels/sgemm_impl.h"
#include "core/linear.h"

struct gemm_params {
    struct lrpx_linear_roles roles;      /* first member (LRPX_LINEAR_PARAMS) */
    int64_t m, n, k;
    int64_t lda, ldb;                    /* stored row lengths of A, B  */
    bool    ta, tb;
    float   alpha, beta;
    int64_t c_rows, c_cols;              /* C as [c_rows, c_cols], each  */
                                         /* 1 or M / N; 0 when absent    */
};
LRPX_LINEAR_PARAMS(struct gemm_params);

static lrpx_status
gemm_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 0), *b = lrpx__in(x, n, 1);
    const struct lrpx_tensor *c = lrpx__in(x, n, 2);
    char b1[96], b2[96];
    lrpx_status rc;

    if ((rc = lrpx__check_dtype(x, n, 0, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_dtype(x, n, 1, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
        (rc = lrpx__check_rank(x, n, 0, 2, 2)) != LRPX_OK ||
        (rc = lrpx__check_rank(x, n, 1, 2, 2)) != LRPX_OK)
        return rc;

    struct gemm_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (p == NULL)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");

    p->ta    = lrpx__attr_int(n, "transA", 0) != 0;
    p->tb    = lrpx__attr_int(n, "transB", 0) != 0;
    p->alpha = lrpx__attr_float(n, "alpha", 1.0f);
    p->beta  = lrpx__attr_float(n, "beta", 1.0f);
    p->m     = p->ta ? a->dims[1] : a->dims[0];
    p->k     = p->ta ? a->dims[0] : a->dims[1];
    p->n     = p->tb ? b->dims[0] : b->dims[1];
    p->lda   = a->dims[1];
    p->ldb   = b->dims[1];
    const int64_t kb = p->tb ? b->dims[1] : b->dims[0];
    if (kb != p->k)
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "A %s%s and B %s%s do not multiply (K = %lld vs %lld)",
                                lrpx__dims_str(a->dims, a->rank, b1, sizeof b1),
                                p->ta ? " (transposed)" : "",
                                lrpx__dims_str(b->dims, b->rank, b2, sizeof b2),
                                p->tb ? " (transposed)" : "", (long long)p->k, (long long)kb);

    if (c != NULL) {
        if ((rc = lrpx__check_dtype(x, n, 2, LRPX_DTYPE_FLOAT32)) != LRPX_OK ||
            (rc = lrpx__check_rank(x, n, 2, 0, 2)) != LRPX_OK)
            return rc;
        p->c_rows = c->rank == 2 ? c->dims[0] : 1;
        p->c_cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        if ((p->c_rows != 1 && p->c_rows != p->m) || (p->c_cols != 1 && p->c_cols != p->n))
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "C %s does not broadcast to [%lld, %lld]",
                                    lrpx__dims_str(c->dims, c->rank, b1, sizeof b1),
                                    (long long)p->m, (long long)p->n);
    }

    /* y = W x written as Gemm(W, x): the constant operand is the weight */
    const bool swap = !lrpx__in_const(x, n, 1) && lrpx__in_const(x, n, 0);
    lrpx__linear_roles_init(&p->roles, x, n, swap);

    lrpx__scratch_request(x, lrpx__sgemm_rows_scratch(p->n, p->k));
    const int64_t dims[2] = { p->m, p->n };
    return lrpx__set_output(x, n, 0, LRPX_DTYPE_FLOAT32, 2, dims);
}

/* ---- products ---- */

/* y = alpha A' B' (+ y when accumulate). Y's rows are samples when the
 * data is A: batch-invariant then if the session asks (lrpx__sgemm_rows). */
static void
gemm_product(struct lrpx_exec *x, const struct gemm_params *p, const float *a, const float *b,
             float *y, bool accumulate)
{
    lrpx__sgemm_rows(x->pool, x->batch_invariant && p->roles.in_index == 0, x->scratch, p->ta,
                     p->tb, p->m, p->n, p->k, p->alpha, a, p->lda, b, p->ldb,
                     accumulate ? 1.0f : 0.0f, y, p->n);
}

/* ga = d<gy, alpha A' B'>/dA (+ ga when accumulate) */
static void
gemm_grad_a(struct lrpx_exec *x, const struct gemm_params *p, const float *gy, const float *b,
            float *ga, bool accumulate)
{
    const float beta = accumulate ? 1.0f : 0.0f;

    if (!p->ta)   /* dA = alpha gY B'^T          [M, K] */
        lrpx__sgemm_rows(x->pool, x->batch_invariant && p->roles.in_index == 0, x->scratch,
                         false, !p->tb, p->m, p->k, p->n, p->alpha, gy, p->n, b, p->ldb, beta,
                         ga, p->k);
    else          /* dA = alpha B' gY^T          [K, M] */
        lrpx__sgemm_mt(x->pool, p->tb, true, p->k, p->m, p->n, p->alpha, b, p->ldb, gy, p->n,
                       beta, ga, p->m);
}

/* gb = d<gy, alpha A' B'>/dB (+ gb when accumulate) */
static void
gemm_grad_b(const struct gemm_params *p, const float *a, const float *gy, float *gb,
            bool accumulate, struct lrpx_pool *pool)
{
    const float beta = accumulate ? 1.0f : 0.0f;

    if (!p->tb)   /* dB = alpha A'^T gY          [K, N] */
        lrpx__sgemm_mt(pool, !p->ta, false, p->k, p->n, p->m, p->alpha, a, p->lda, gy, p->n, beta,
                       gb, p->n);
    else          /* dB = alpha gY^T A'          [N, K] */
        lrpx__sgemm_mt(pool, true, p->ta, p->n, p->k, p->m, p->alpha, gy, p->n, a, p->lda, beta,
                       gb, p->k);
}

/* y += beta C, broadcast */
static void
gemm_add_c(const struct gemm_params *p, const float *c, float *y)
{
    for (int64_t i = 0; i < p->m; i++) {
        const float *crow = c + (p->c_rows == 1 ? 0 : i * p->c_cols);
        float       *yrow = y + i * p->n;
        if (p->c_cols == 1) {
            const float v = p->beta * crow[0];
            for (int64_t j = 0; j < p->n; j++)
                yrow[j] += v;
        } else {
            for (int64_t j = 0; j < p->n; j++)
                yrow[j] += p->beta * crow[j];
        }
    }
}

/* ---- op ---- */

static lrpx_status
gemm_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct gemm_params *p = LRPX_PARAMS(x, n, struct gemm_params);
    const struct lrpx_tensor *c = lrpx__in(x, n, 2);
    float *y = lrpx__out(x, n, 0)->f32;

    /* beta C first, then the product accumulates onto it */
    const bool with_c = c != NULL && p->beta != 0.0f;
    if (with_c) {
        if (p->m * p->n > 0)
            memset(y, 0, (size_t)(p->m * p->n) * sizeof(float));
        gemm_add_c(p, c->f32, y);
    }
    gemm_product(x, p, lrpx__in(x, n, 0)->f32, lrpx__in(x, n, 1)->f32, y, with_c);
    return LRPX_OK;
}

static lrpx_status
gemm_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct gemm_params *p = LRPX_PARAMS(x, n, struct gemm_params);
    const float *gy = lrpx__back_out(x, n, 0);
    float *ga = lrpx__back_in(x, n, 0);
    float *gb = lrpx__back_in(x, n, 1);
    float *gc = lrpx__back_in(x, n, 2);

    if (gy == NULL)
        return LRPX_OK;
    if (ga != NULL)
        gemm_grad_a(x, p, gy, lrpx__in(x, n, 1)->f32, ga, true);
    if (gb != NULL)
        gemm_grad_b(p, lrpx__in(x, n, 0)->f32, gy, gb, true, x->pool);
    if (gc != NULL) {
        for (int64_t i = 0; i < p->m; i++)
        for (int64_t j = 0; j < p->n; j++)
            gc[(p->c_rows == 1 ? 0 : i * p->c_cols) + (p->c_cols == 1 ? 0 : j)] +=
                p->beta * gy[i * p->n + j];
    }
    return LRPX_OK;
}

/* ---- linear form for the LRP rules ---- */

static void
gemm_apply(struct lrpx_exec *x, const struct lrpx_node *n, const float *in, const float *w,
           float *out, void *scratch)
{
    const struct gemm_params *p = LRPX_PARAMS(x, n, struct gemm_params);
    (void)scratch;
    if (p->roles.in_index == 0)
        gemm_product(x, p, in, w, out, false);
    else
        gemm_product(x, p, w, in, out, false);
}

static void
gemm_apply_t(struct lrpx_exec *x, const struct lrpx_node *n, const float *gout,
             const float *w, float *gin, void *scratch)
{
    const struct gemm_params *p = LRPX_PARAMS(x, n, struct gemm_params);
    (void)scratch;
    if (p->roles.in_index == 0)
        gemm_grad_a(x, p, gout, w, gin, false);
    else
        gemm_grad_b(p, w, gout, gin, false, x->pool);
}

static void
gemm_add_bias(struct lrpx_exec *x, const struct lrpx_node *n, const float *b, float *out)
{
    gemm_add_c(LRPX_PARAMS(x, n, struct gemm_params), b, out);
}

/* the padded last row block of batch-invariant products */
static size_t
gemm_scratch_bytes(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct gemm_params *p = LRPX_PARAMS(x, n, struct gemm_params);
    return lrpx__sgemm_rows_scratch(p->n, p->k);
}

/* alpha, the factor of the product (a zero or non-finite alpha is taken
 * as 1 by the rules, which would otherwise divide by it) */
static double
gemm_weight_scale(const struct lrpx_node *n)
{
    double a = lrpx__attr_float(n, "alpha", 1.0f);
    return a != 0.0 && isfinite(a) ? a : 1.0;
}

static double
gemm_bias_scale(const struct lrpx_node *n)
{
    return lrpx__attr_float(n, "beta", 1.0f);
}

/* The weight B is [K, N] ([N, K] with transB); output channel n (axis 1
 * of Y) owns column n of B'. Not when the constant is A (y = W x). */
static bool
gemm_channel_layout(const struct lrpx_node *n, const struct lrpx_tensor *w, int in_index,
                    int out_rank, struct lrpx_chan_layout *l)
{
    if (in_index != 0 || w->rank != 2 || out_rank != 2 || w->dims[0] < 1 || w->dims[1] < 1)
        return false;
    bool tb = lrpx__attr_int(n, "transB", 0) != 0;
    *l = tb ? (struct lrpx_chan_layout){.inner = w->dims[1], .per = w->dims[0], .n_c = w->dims[0]}
            : (struct lrpx_chan_layout){.inner = 1, .per = w->dims[1], .n_c = w->dims[1]};
    return true;
}

static const struct lrpx_linear_def gemm_linear = {
    .in_index       = 0,
    .w_index        = 1,
    .b_index        = 2,
    .kind           = LRPX_LAYER_DENSE,
    .apply          = gemm_apply,
    .apply_t        = gemm_apply_t,
    .add_bias       = gemm_add_bias,
    .scratch_bytes  = gemm_scratch_bytes,
    .weight_scale   = gemm_weight_scale,
    .bias_scale     = gemm_bias_scale,
    .channel_layout = gemm_channel_layout,
};

const struct lrpx_op_def lrpx__op_gemm = {
    .onnx_name     = "Gemm",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = gemm_prepare,
    .forward       = gemm_forward,
    .backward      = gemm_backward,
    .relevance     = lrpx__lrp_linear,
    .linear        = &gemm_linear,
    .lrp_class     = LRPX_LRP_CLASS_LINEAR,
};
