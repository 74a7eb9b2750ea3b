/* Constant — a tensor given by an attribute.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Constant.html  (opsets 1, 9, 11, 12, 13)
 *       `value` (a tensor of any numeric type), and from opset 12
 *       value_float / value_floats (float32 scalar / 1-D) and value_int /
 *       value_ints (int64 scalar / 1-D). value_string(s) and sparse_value
 *       are not supported. The node has no inputs, so the planner folds it
 *       (runs forward once at prepare).
 * LRP:  no inputs: nothing to propagate to.
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

struct constant_params {
    const void *src;
    size_t      bytes;
    union {
        float   f;
        int64_t i;
    } scalar;
};

static lrpx_status
constant_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    for (size_t k = 0; k < sizeof unsupported / sizeof *unsupported; k++)
        if (lrpx__attr_find(n, unsupported[k]))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "attribute '%s' is not supported",
                                    unsupported[k]);

    struct constant_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");

    const struct lrpx_attr *a;
    int64_t                 dims[LRPX_MAX_RANK] = {0};
    lrpx_dtype              dtype = LRPX_DTYPE_UNDEFINED;
    int                     rank  = 0;
    int                     found = 0;
    if ((a = lrpx__attr_find(n, "value")) != NULL) {
        found++;
        if (a->type != LRPX_ATTR_TENSOR)
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'value' is not a tensor");
        if (lrpx_dtype_size(a->t.dtype) == 0)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "value has unsupported dtype %s",
                                    lrpx_dtype_name(a->t.dtype));
        dtype = a->t.dtype;
        rank  = a->t.rank;
        memcpy(dims, a->t.dims, sizeof dims);
        p->src   = a->t.data;
        p->bytes = (size_t)lrpx__tensor_bytes(&a->t);
    }
    if ((a = lrpx__attr_find(n, "value_float")) != NULL) {
        found++;
        p->scalar.f = a->f;
        p->src      = &p->scalar.f;
        p->bytes    = sizeof(float);
        dtype       = LRPX_DTYPE_FLOAT32;
        rank        = 0;
    }
    if ((a = lrpx__attr_find(n, "value_int")) != NULL) {
        found++;
        p->scalar.i = a->i;
        p->src      = &p->scalar.i;
        p->bytes    = sizeof(int64_t);
        dtype       = LRPX_DTYPE_INT64;
        rank        = 0;
    }
    if ((a = lrpx__attr_find(n, "value_floats")) != NULL) {
        found++;
        p->src   = a->floats;
        p->bytes = (size_t)a->n_floats * sizeof(float);
        dtype    = LRPX_DTYPE_FLOAT32;
        rank     = 1;
        dims[0]  = a->n_floats;
    }
    if ((a = lrpx__attr_find(n, "value_ints")) != NULL) {
        found++;
        p->src   = a->ints;
        p->bytes = (size_t)a->n_ints * sizeof(int64_t);
        dtype    = LRPX_DTYPE_INT64;
        rank     = 1;
        dims[0]  = a->n_ints;
    }
    if (found != 1)
        return lrpx__node_error(x, n, LRPX_EINVAL,
                                "needs exactly one value attribute (value, value_float(s), "
                                "value_int(s)), has %d",
                                found);
    return lrpx__set_output(x, n, 0, dtype, rank, dims);
}

static lrpx_status
constant_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct constant_params *p = LRPX_PARAMS(x, n, struct constant_params);
    if (p->bytes > 0)
        memcpy(lrpx__out(x, n, 0)->data, p->src, p->bytes);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_constant = {
    .onnx_name     = "Constant",
    .since_version = 1,
    .n_inputs_min  = 0,
    .n_inputs_max  = 0,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = constant_prepare,
    .forward       = constant_forward,
};
