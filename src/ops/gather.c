/* Gather — pick slices along one axis by index:
 *     out[i_0..i_{a-1}, j_0..j_{q-1}, i_{a+1}..] = data[i_0.., idx[j], i_{a+1}..]
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Gather.html  (opsets 1, 11, 13)
 *       axis defaults to 0 (negative from 11); indices int32 or int64,
 *       negative ones count from the back of the axis. Any data type
 *       (int64 shape vectors in exported graphs). An index out of range is
 *       an error naming the node, found at prepare when the indices are
 *       known, else in forward.
 * LRP:  each output element is a copy of one data element: gradient and
 *       relevance are scatter-added back to it (an element picked twice
 *       collects both shares).
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

struct gather_params {
    int64_t outer;     /* product of the data dims before the axis */
    int64_t axis_len;  /* data.dims[axis]                          */
    int64_t inner;     /* product of the data dims after the axis  */
    int     axis;
};

/* Index k of the indices tensor, normalized, or -1 when out of range. */
static int64_t
gather_index(const struct lrpx_tensor *idx, int64_t k, int64_t len)
{
    int64_t i = idx->dtype == LRPX_DTYPE_INT64 ? idx->i64[k] : idx->i32[k];
    if (i < 0)
        i += len;   /* i >= INT64_MIN, len >= 0: no overflow */
    return i >= 0 && i < len ? i : -1;
}

static lrpx_status
gather_check(struct lrpx_exec *x, const struct lrpx_node *n, const struct gather_params *p)
{
    const struct lrpx_tensor *idx = lrpx__in(x, n, 1);
    for (int64_t k = 0; k < idx->n_elems; k++)
        if (gather_index(idx, k, p->axis_len) < 0) {
            long long v = idx->dtype == LRPX_DTYPE_INT64 ? (long long)idx->i64[k]
                                                         : (long long)idx->i32[k];
            return lrpx__node_error(x, n, LRPX_EINVAL,
                                    "index %lld (element %lld of indices) is out of range "
                                    "[-%lld, %lld) for axis %d",
                                    v, (long long)k, (long long)p->axis_len,
                                    (long long)p->axis_len, p->axis);
        }
    return LRPX_OK;
}

static lrpx_status
gather_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *data = lrpx__in(x, n, 0);
    const struct lrpx_tensor *idx  = lrpx__in(x, n, 1);
    if (!idx)
        return lrpx__node_error(x, n, LRPX_EINVAL, "input 1 (indices) is missing");
    if (idx->dtype != LRPX_DTYPE_INT64 && idx->dtype != LRPX_DTYPE_INT32)
        return lrpx__node_error(x, n, LRPX_EINVAL, "indices have dtype %s, expected int32/int64",
                                lrpx_dtype_name(idx->dtype));
    if (data->rank == 0)
        return lrpx__node_error(x, n, LRPX_ESHAPE, "cannot gather from a scalar");

    struct gather_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    rc = lrpx__move_axis(x, n, lrpx__attr_int(n, "axis", 0), data->rank, "axis", &p->axis);
    if (rc != LRPX_OK)
        return rc;
    const int a    = p->axis;
    const int rank = data->rank - 1 + idx->rank;
    if (rank > LRPX_MAX_RANK)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "output rank %d exceeds %d", rank,
                                LRPX_MAX_RANK);
    int64_t dims[LRPX_MAX_RANK];
    int     r = 0;
    for (int k = 0; k < a; k++)
        dims[r++] = data->dims[k];
    for (int k = 0; k < idx->rank; k++)
        dims[r++] = idx->dims[k];
    for (int k = a + 1; k < data->rank; k++)
        dims[r++] = data->dims[k];
    rc = lrpx__set_output(x, n, 0, data->dtype, rank, dims);
    if (rc != LRPX_OK)
        return rc;

    p->axis_len = data->dims[a];
    if (data->n_elems == 0 || idx->n_elems == 0) {
        p->outer = 0;   /* nothing to move; partial products could overflow */
        p->inner = 0;
    } else {
        p->outer = 1;
        for (int k = 0; k < a; k++)
            p->outer *= data->dims[k];
        p->inner = 1;
        for (int k = a + 1; k < data->rank; k++)
            p->inner *= data->dims[k];
    }
    /* constant indices: report a bad one now, whatever the data (fed
     * indices are not asked for: their values do not decide the shape,
     * and asking would make the plan depend on them) */
    if (x->known[n->inputs[1]])
        return gather_check(x, n, p);
    return LRPX_OK;
}

static lrpx_status
gather_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct gather_params *p    = LRPX_PARAMS(x, n, struct gather_params);
    const struct lrpx_tensor   *data = lrpx__in(x, n, 0);
    const struct lrpx_tensor   *idx  = lrpx__in(x, n, 1);
    struct lrpx_tensor         *out  = lrpx__out(x, n, 0);
    const size_t                es   = lrpx_dtype_size(data->dtype);
    const size_t                row  = (size_t)p->inner * es;

    /* data-dependent, so checked on every run (an empty axis rejects
     * every index) */
    lrpx_status rc = gather_check(x, n, p);
    if (rc != LRPX_OK || p->outer == 0)
        return rc;

    const int64_t  q   = idx->n_elems;
    uint8_t       *dst = out->data;
    const uint8_t *src = data->data;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t k = 0; k < q; k++) {
            int64_t i = gather_index(idx, k, p->axis_len);
            memcpy(dst + (size_t)(o * q + k) * row,
                   src + (size_t)(o * p->axis_len + i) * row, row);
        }
    return LRPX_OK;
}

static lrpx_status
gather_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct gather_params *p    = LRPX_PARAMS(x, n, struct gather_params);
    const struct lrpx_tensor   *idx  = lrpx__in(x, n, 1);
    float                      *gin  = lrpx__back_in(x, n, 0);
    const float                *gout = lrpx__back_out(x, n, 0);
    if (!gin || !gout)
        return LRPX_OK;

    const int64_t q = idx->n_elems;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t k = 0; k < q; k++) {
            int64_t i = gather_index(idx, k, p->axis_len);
            if (i < 0)
                continue;   /* forward has rejected it already */
            const float *g = gout + (o * q + k) * p->inner;
            float       *d = gin + (o * p->axis_len + i) * p->inner;
            for (int64_t t = 0; t < p->inner; t++)
                d[t] += g[t];
        }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_gather = {
    .onnx_name     = "Gather",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 2,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = gather_prepare,
    .forward       = gather_forward,
    .backward      = gather_backward,
    .relevance     = gather_backward,
};
