/* ConstantOfShape — a tensor of the shape given by input 0, every element
 * equal to the one-element `value` attribute (default float32 0).
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__ConstantOfShape.html  (opset 9)
 *       The shape input must be known at prepare; an empty shape gives a
 *       scalar. Any numeric value type.
 * LRP:  the output does not depend on float data: no gradient, no
 *       relevance.
 */
#include <string.h>

#include "ops/kernels/move_impl.h"

struct constant_of_shape_params {
    size_t  esize;
    uint8_t value[16];
};

static lrpx_status
constant_of_shape_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct constant_of_shape_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");

    lrpx_dtype              dtype = LRPX_DTYPE_FLOAT32;
    const struct lrpx_attr *a     = lrpx__attr_find(n, "value");
    p->esize                      = sizeof(float);   /* value stays 0.0f */
    if (a) {
        if (a->type != LRPX_ATTR_TENSOR)
            return lrpx__node_error(x, n, LRPX_EINVAL, "attribute 'value' is not a tensor");
        if (a->t.n_elems != 1)
            return lrpx__node_error(x, n, LRPX_EINVAL, "value has %lld elements, expected 1",
                                    (long long)a->t.n_elems);
        dtype    = a->t.dtype;
        p->esize = lrpx_dtype_size(dtype);
        if (p->esize == 0 || p->esize > sizeof p->value)
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "value has unsupported dtype %s",
                                    lrpx_dtype_name(dtype));
        memcpy(p->value, a->t.data, p->esize);
    }

    int64_t     dims[LRPX_MAX_RANK];
    int         rank;
    lrpx_status rc = lrpx__move_ints(x, n, 0, "shape", dims, LRPX_MAX_RANK, &rank);
    if (rc != LRPX_OK)
        return rc;
    return lrpx__set_output(x, n, 0, dtype, rank, dims);
}

static lrpx_status
constant_of_shape_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct constant_of_shape_params *p   = LRPX_PARAMS(x, n, struct constant_of_shape_params);
    struct lrpx_tensor                    *out = lrpx__out(x, n, 0);
    uint8_t                               *d   = out->data;

    for (int64_t i = 0; i < out->n_elems; i++)
        memcpy(d + (size_t)i * p->esize, p->value, p->esize);
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_constant_of_shape = {
    .onnx_name     = "ConstantOfShape",
    .since_version = 9,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = constant_of_shape_prepare,
    .forward       = constant_of_shape_forward,
};
