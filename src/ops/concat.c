/* Concat — join tensors along one axis.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Concat.html  (opsets 1, 4, 11, 13)
 *       axis defaults to 1 in opset 1 and is required from 4; negative from
 *       11. All inputs share dtype, rank and the dims off the axis. Any
 *       element type (int64 shape vectors in exported graphs).
 * LRP:  a pure rearrangement: each input gets back the slab of gradient or
 *       relevance that covers the elements it contributed.
 */
#include <string.h>

#include "ops/kernels/move_impl.h"
#include "util/parallel.h"

struct concat_params {
    int64_t outer;      /* product of the dims before the axis          */
    int64_t row;        /* output elements per outer index              */
    /* per input: elements per outer index and its offset in a row;
     * n_inputs entries each follow the struct */
    int64_t chunk_off[];
};

static lrpx_status
concat_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *first = NULL;
    for (int i = 0; i < n->n_inputs; i++) {
        lrpx_status rc = lrpx__move_check_dtype(x, n, i);
        if (rc != LRPX_OK)
            return rc;
        if (!first)
            first = lrpx__in(x, n, i);
    }
    const int r = first->rank;
    if (r == 0)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot concatenate scalars");

    if (x->opset >= 4 && !lrpx__attr_find(n, "axis"))
        return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'axis' is missing");
    int         axis;
    lrpx_status rc = lrpx__move_axis(x, n, lrpx__attr_int(n, "axis", 1), r, "axis", &axis);
    if (rc != LRPX_OK)
        return rc;

    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, first->dims, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const struct lrpx_tensor *t = lrpx__in(x, n, i);
        if (t->dtype != first->dtype)
            return lrpx__node_error(x, n, LRPX_EINVAL, "input %d has dtype %s, input 0 %s", i,
                                    lrpx_dtype_name(t->dtype), lrpx_dtype_name(first->dtype));
        if (t->rank != r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "input %d has rank %d, input 0 rank %d",
                                    i, t->rank, r);
        for (int k = 0; k < r; k++)
            if (k != axis && t->dims[k] != first->dims[k]) {
                char a[128], b[128];
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "input %d has shape %s, input 0 %s (axis %d)", i,
                                        lrpx__dims_str(t->dims, r, a, sizeof a),
                                        lrpx__dims_str(first->dims, r, b, sizeof b), axis);
            }
        if (t->dims[axis] > INT64_MAX - dims[axis])
            return lrpx__node_error(x, n, LRPX_ESHAPE, "concatenated size overflows int64");
        dims[axis] += t->dims[axis];
    }
    rc = lrpx__set_output(x, n, 0, first->dtype, r, dims);
    if (rc != LRPX_OK)
        return rc;

    struct concat_params *p =
        lrpx__params_alloc(x, n, sizeof *p + 2 * (size_t)n->n_inputs * sizeof(int64_t));
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    if (lrpx__out(x, n, 0)->n_elems == 0)
        return LRPX_OK;   /* nothing to move; partial products could overflow */
    int64_t inner = 1;
    for (int k = axis + 1; k < r; k++)
        inner *= dims[k];
    p->outer = 1;
    for (int k = 0; k < axis; k++)
        p->outer *= dims[k];
    p->row = dims[axis] * inner;
    int64_t off = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        int64_t chunk              = lrpx__in(x, n, i)->dims[axis] * inner;
        p->chunk_off[2 * i]        = chunk;
        p->chunk_off[2 * i + 1]    = off;
        off += chunk;
    }
    return LRPX_OK;
}

/* The copies of one input, in blocks of up to CONCAT_BLOCK bytes spread
 * over the session's threads. */
#define CONCAT_BLOCK ((size_t)64 << 10)

struct concat_ctx {
    uint8_t       *dst;
    const uint8_t *src;
    size_t         row, chunk;      /* bytes: output row, this input's part */
    int64_t        n_blocks;        /* per outer index                       */
};

static void
concat_range(void *ctx_, int64_t k0, int64_t k1)
{
    const struct concat_ctx *c = ctx_;
    for (int64_t k = k0; k < k1; k++) {
        const int64_t o = k / c->n_blocks;
        const size_t  b = (size_t)(k % c->n_blocks) * CONCAT_BLOCK;
        const size_t  len = c->chunk - b < CONCAT_BLOCK ? c->chunk - b : CONCAT_BLOCK;
        memcpy(c->dst + (size_t)o * c->row + b, c->src + (size_t)o * c->chunk + b, len);
    }
}

static lrpx_status
concat_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct concat_params *p   = LRPX_PARAMS(x, n, struct concat_params);
    struct lrpx_tensor         *out = lrpx__out(x, n, 0);
    const size_t                es  = lrpx_dtype_size(out->dtype);

    for (int i = 0; i < n->n_inputs; i++) {
        const uint8_t *src   = lrpx__in(x, n, i)->data;
        const int64_t  chunk = p->chunk_off[2 * i];
        const int64_t  off   = p->chunk_off[2 * i + 1];
        if (chunk == 0)
            continue;
        struct concat_ctx c = {(uint8_t *)out->data + (size_t)off * es, src,
                               (size_t)p->row * es, (size_t)chunk * es, 0};
        c.n_blocks = (int64_t)((c.chunk + CONCAT_BLOCK - 1) / CONCAT_BLOCK);
        lrpx__parallel_for(x->pool, p->outer * c.n_blocks,
                           1 + (int64_t)(CONCAT_BLOCK / c.chunk), concat_range, &c);
    }
    return LRPX_OK;
}

static lrpx_status
concat_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct concat_params *p    = LRPX_PARAMS(x, n, struct concat_params);
    const float                *gout = lrpx__back_out(x, n, 0);
    if (!gout)
        return LRPX_OK;

    for (int i = 0; i < n->n_inputs; i++) {
        float *gin = lrpx__back_in(x, n, i);
        if (!gin)
            continue;
        const int64_t chunk = p->chunk_off[2 * i];
        const int64_t off   = p->chunk_off[2 * i + 1];
        /* added, never assigned: the same value may appear twice in the
         * inputs, or feed other nodes */
        for (int64_t o = 0; o < p->outer; o++) {
            const float *g = gout + o * p->row + off;
            float       *d = gin + o * chunk;
            for (int64_t t = 0; t < chunk; t++)
                d[t] += g[t];
        }
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_concat = {
    .onnx_name     = "Concat",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 255,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = concat_prepare,
    .forward       = concat_forward,
    .backward      = concat_backward,
    .relevance     = concat_backward,
};
