/* Range — out[i] = start + i * delta for i < max(ceil((limit - start) /
 * delta), 0).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Range.html  (opset 11)
 *       Scalars start, limit, delta of one type: float32, float64, int16,
 *       int32 or int64. The output length depends on their values, so all
 *       three must be known at prepare (the planner then folds the node).
 * LRP:  no float data input: no gradient, no relevance.
 */
#include <math.h>

#include "ops/kernels/move_impl.h"

struct range_params {
    double  start_f, delta_f;
    int64_t start_i, delta_i;
};

static bool
range_is_int(lrpx_dtype t)
{
    return t == LRPX_DTYPE_INT16 || t == LRPX_DTYPE_INT32 || t == LRPX_DTYPE_INT64;
}

static lrpx_status
range_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    static const char *const names[3] = {"start", "limit", "delta"};
    const lrpx_dtype         dtype    = lrpx__in(x, n, 0)->dtype;
    if (!range_is_int(dtype) && dtype != LRPX_DTYPE_FLOAT32 && dtype != LRPX_DTYPE_FLOAT64)
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "unsupported dtype %s",
                                lrpx_dtype_name(dtype));
    for (int i = 0; i < 3; i++) {
        const struct lrpx_tensor *t = lrpx__in(x, n, i);
        if (t->dtype != dtype)
            return lrpx__node_error(x, n, LRPX_EINVAL, "%s has dtype %s, start %s", names[i],
                                    lrpx_dtype_name(t->dtype), lrpx_dtype_name(dtype));
        if (t->n_elems != 1)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "%s has %lld elements, expected a scalar",
                                    names[i], (long long)t->n_elems);
        if (!lrpx__in_known(x, n, i))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "%s must be constant (the output length depends on it)",
                                    names[i]);
    }
    struct range_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");

    int64_t count;
    if (range_is_int(dtype)) {
        int64_t s = lrpx__tensor_get_i64(lrpx__in(x, n, 0), 0);
        int64_t l = lrpx__tensor_get_i64(lrpx__in(x, n, 1), 0);
        int64_t d = lrpx__tensor_get_i64(lrpx__in(x, n, 2), 0);
        if (d == 0)
            return lrpx__node_error(x, n, LRPX_EINVAL, "delta is 0");
        /* exact, in unsigned arithmetic: limit - start may exceed int64 */
        if ((d > 0 && l <= s) || (d < 0 && l >= s)) {
            count = 0;
        } else {
            uint64_t span = d > 0 ? (uint64_t)l - (uint64_t)s : (uint64_t)s - (uint64_t)l;
            uint64_t step = d > 0 ? (uint64_t)d : 0 - (uint64_t)d;
            uint64_t c    = (span - 1) / step + 1;
            if (c > (uint64_t)INT64_MAX)
                return lrpx__node_error(x, n, LRPX_ELIMIT, "the range has too many elements");
            count = (int64_t)c;
        }
        p->start_i = s;
        p->delta_i = d;
    } else {
        double s = lrpx__tensor_get_f64(lrpx__in(x, n, 0), 0);
        double l = lrpx__tensor_get_f64(lrpx__in(x, n, 1), 0);
        double d = lrpx__tensor_get_f64(lrpx__in(x, n, 2), 0);
        if (d == 0.0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
            return lrpx__node_error(x, n, LRPX_EINVAL, "start, limit and delta must be finite and "
                                                       "delta non-zero (%g, %g, %g)", s, l, d);
        double c = ceil((l - s) / d);
        if (!(c < 9.0e18))
            return lrpx__node_error(x, n, LRPX_ELIMIT, "the range has too many elements");
        count = c > 0.0 ? (int64_t)c : 0;
        p->start_f = s;
        p->delta_f = d;
    }
    return lrpx__set_output(x, n, 0, dtype, 1, &count);
}

static lrpx_status
range_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct range_params *p   = LRPX_PARAMS(x, n, struct range_params);
    struct lrpx_tensor        *out = lrpx__out(x, n, 0);

    for (int64_t i = 0; i < out->n_elems; i++) {
        /* wrapping arithmetic: the values stay in range by construction */
        int64_t vi = (int64_t)((uint64_t)p->start_i + (uint64_t)i * (uint64_t)p->delta_i);
        double  vf = p->start_f + (double)i * p->delta_f;
        switch (out->dtype) {
        case LRPX_DTYPE_INT16:   ((int16_t *)out->data)[i] = (int16_t)vi; break;
        case LRPX_DTYPE_INT32:   out->i32[i] = (int32_t)vi; break;
        case LRPX_DTYPE_INT64:   out->i64[i] = vi; break;
        case LRPX_DTYPE_FLOAT32: out->f32[i] = (float)vf; break;
        case LRPX_DTYPE_FLOAT64: out->f64[i] = vf; break;
        default:                 break;
        }
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_range = {
    .onnx_name     = "Range",
    .since_version = 11,
    .n_inputs_min  = 3,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = range_prepare,
    .forward       = range_forward,
};
