/* Split — cut a tensor into consecutive parts along one axis.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Split.html  (opsets 1, 2, 11, 13, 18)
 *       axis defaults to 0, negative from 11. Part sizes: `split`
 *       attribute (opsets 1-12; opset 1 also takes it as input 1), input 1
 *       from opset 13 (known at prepare). Without sizes the axis is cut in
 *       equal parts, one per output; with the opset-18 `num_outputs`
 *       attribute the last part may be smaller. Any element type.
 * LRP:  a pure rearrangement: each output's gradient or relevance goes
 *       back to the slab it was cut from.
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

struct split_params {
    int64_t outer;      /* product of the dims before the axis       */
    int64_t row;        /* input elements per outer index            */
    int64_t chunk_off[];/* per output: elements per outer index, offset */
};

static lrpx_status
split_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in    = lrpx__in(x, n, 0);
    const int                 r     = in->rank;
    const int                 n_out = n->n_outputs;

    if (r == 0)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot split a scalar");
    int axis;
    rc = lrpx__move_axis(x, n, lrpx__attr_int(n, "axis", 0), r, "axis", &axis);
    if (rc != LRPX_OK)
        return rc;
    const int64_t dim = in->dims[axis];

    struct split_params *p =
        lrpx__params_alloc(x, n, sizeof *p + 2 * (size_t)n_out * sizeof(int64_t));
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t *len = p->chunk_off;   /* part lengths first, turned into chunks below */

    /* ---- part sizes ---- */
    const struct lrpx_attr *num = lrpx__attr_find(n, "num_outputs");
    bool from_input = lrpx__in(x, n, 1) != NULL && (x->opset >= 13 || x->opset < 2);
    if (from_input || (x->opset < 13 && lrpx__attr_find(n, "split"))) {
        int64_t sizes_buf[256];
        int     count;
        if (from_input) {
            rc = lrpx__move_ints(x, n, 1, "split", sizes_buf, 256, &count);
            if (rc != LRPX_OK)
                return rc;
        } else {
            const int64_t *s;
            if (lrpx__attr_find(n, "split")->type != LRPX_ATTR_INTS)
                return lrpx__node_error(x, n, LRPX_EPARSE,
                                        "attribute split must be a list of ints");
            count = lrpx__attr_ints(n, "split", &s);
            if (count > 256)
                count = 256;   /* rejected below: it cannot match n_out */
            if (count > 0)
                memcpy(sizes_buf, s, (size_t)count * sizeof *s);
        }
        if (count != n_out)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "split has %d sizes for %d outputs",
                                    count, n_out);
        int64_t sum = 0;
        for (int k = 0; k < n_out; k++) {
            if (sizes_buf[k] < 0 || sizes_buf[k] > dim - sum)
                return lrpx__node_error(x, n, LRPX_ESHAPE,
                                        "split sizes do not add up to %lld (split[%d] = %lld)",
                                        (long long)dim, k, (long long)sizes_buf[k]);
            sum += sizes_buf[k];
            len[2 * k] = sizes_buf[k];
        }
        if (sum != dim)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "split sizes add up to %lld, axis has %lld",
                                    (long long)sum, (long long)dim);
    } else if (num) {
        if (num->i != n_out)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "num_outputs = %lld but %d outputs",
                                    (long long)num->i, n_out);
        int64_t part = (dim + n_out - 1) / n_out, left = dim;
        for (int k = 0; k < n_out; k++) {
            len[2 * k] = part < left ? part : left;
            left -= len[2 * k];
        }
    } else {
        if (dim % n_out != 0)
            return lrpx__node_error(x, n, LRPX_ESHAPE,
                                    "axis of size %lld does not split into %d equal parts",
                                    (long long)dim, n_out);
        for (int k = 0; k < n_out; k++)
            len[2 * k] = dim / n_out;
    }

    /* ---- outputs and copy plan ---- */
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, in->dims, sizeof dims);
    for (int k = 0; k < n_out; k++) {
        dims[axis] = len[2 * k];
        if (lrpx__out(x, n, k)) {
            rc = lrpx__set_output(x, n, k, in->dtype, r, dims);
            if (rc != LRPX_OK)
                return rc;
        }
    }
    if (in->n_elems == 0) {
        p->outer = 0;   /* nothing to move; partial products could overflow */
        return LRPX_OK;
    }
    int64_t inner = 1;
    for (int k = axis + 1; k < r; k++)
        inner *= in->dims[k];
    p->outer = 1;
    for (int k = 0; k < axis; k++)
        p->outer *= in->dims[k];
    p->row = dim * inner;
    int64_t off = 0;
    for (int k = 0; k < n_out; k++) {
        int64_t chunk          = len[2 * k] * inner;
        p->chunk_off[2 * k]     = chunk;
        p->chunk_off[2 * k + 1] = off;
        off += chunk;
    }
    return LRPX_OK;
}

static lrpx_status
split_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct split_params *p  = LRPX_PARAMS(x, n, struct split_params);
    const struct lrpx_tensor  *in = lrpx__in(x, n, 0);
    const size_t               es = lrpx_dtype_size(in->dtype);

    for (int k = 0; k < n->n_outputs; k++) {
        struct lrpx_tensor *out   = lrpx__out(x, n, k);
        const int64_t       chunk = p->chunk_off[2 * k];
        const int64_t       off   = p->chunk_off[2 * k + 1];
        if (!out || chunk == 0)
            continue;
        for (int64_t o = 0; o < p->outer; o++)
            memcpy((uint8_t *)out->data + (size_t)(o * chunk) * es,
                   (const uint8_t *)in->data + (size_t)(o * p->row + off) * es,
                   (size_t)chunk * es);
    }
    return LRPX_OK;
}

static lrpx_status
split_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct split_params *p   = LRPX_PARAMS(x, n, struct split_params);
    float                     *gin = lrpx__back_in(x, n, 0);
    if (!gin)
        return LRPX_OK;

    for (int k = 0; k < n->n_outputs; k++) {
        const float  *gout  = lrpx__back_out(x, n, k);
        const int64_t chunk = p->chunk_off[2 * k];
        const int64_t off   = p->chunk_off[2 * k + 1];
        if (!gout)
            continue;
        /* added, never assigned: the input may feed other nodes */
        for (int64_t o = 0; o < p->outer; o++) {
            const float *g = gout + o * chunk;
            float       *d = gin + o * p->row + off;
            for (int64_t t = 0; t < chunk; t++)
                d[t] += g[t];
        }
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_split = {
    .onnx_name     = "Split",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 255,
    .prepare       = split_prepare,
    .forward       = split_forward,
    .backward      = split_backward,
    .relevance     = split_backward,
};
