/* Where — output = condition ? X : Y, element-wise with numpy broadcasting
 * of all three inputs.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Where.html  (opsets 9, 16)
 * Types: condition bool; X, Y any numeric type or bool (elements are copied,
 *       so only their size matters).
 * Backward: the output gradient goes to the branch each element was taken
 *       from (summed over the broadcast); the condition gets none.
 * LRP:  the same routing: the relevance of each output element passes
 *       unchanged to the selected branch, as for a data-movement op (this
 *       is the backward function). The condition is bool and carries none.
 */
#include <string.h>

#include "ops/kernels/broadcast_impl.h"

static lrpx_status
where_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc;
    if ((rc = lrpx__elem_check_dtype(x, n, 0, LRPX_DT(BOOL))) != LRPX_OK)
        return rc;
    struct lrpx_bcast *it = lrpx__params_alloc(x, n, sizeof *it);
    if (!it)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    return lrpx__elem_prepare(x, n, 1, LRPX_DT_NUMERIC | LRPX_DT(BOOL),
                              LRPX_DTYPE_UNDEFINED, false, it);
}

struct where_ctx {
    const uint8_t *c;
    const char    *a, *b;
    char          *y;
    size_t         size;
};

#define WHERE_ROW(T)                                                   \
    do {                                                               \
        T       *y = (T *)(w->y) + o;                                  \
        const T *a = (const T *)(w->a) + off[1];                       \
        const T *b = (const T *)(w->b) + off[2];                       \
        for (int64_t i = 0; i < n; i++)                                \
            y[i] = c[i * in[0]] ? a[i * in[1]] : b[i * in[2]];         \
    } while (0)

static void
where_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct where_ctx *w = ctx;
    const uint8_t          *c = w->c + off[0];
    switch (w->size) {
    case 1: WHERE_ROW(uint8_t); break;
    case 2: WHERE_ROW(uint16_t); break;
    case 4: WHERE_ROW(uint32_t); break;
    default: WHERE_ROW(uint64_t); break;
    }
}

static lrpx_status
where_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *a = lrpx__in(x, n, 1);
    struct where_ctx          w = {
        .c = lrpx__in(x, n, 0)->b, .a = a->data, .b = lrpx__in(x, n, 2)->data,
        .y = lrpx__out(x, n, 0)->data, .size = lrpx_dtype_size(a->dtype),
    };
    lrpx__bcast_foreach(LRPX_PARAMS(x, n, struct lrpx_bcast), where_row, &w);
    return LRPX_OK;
}

static void
where_backward_row(void *ctx, int64_t n, int64_t o, const int64_t *off, const int *in)
{
    const struct lrpx_back_ctx *w = ctx;
    const uint8_t              *c = (const uint8_t *)w->extra + off[0];
    const float                *g = w->g + o;
    const int                   sc = in[0];
    if (w->gin[1])
        LRPX_ACC_ROW(w->gin[1] + off[1], in[1], n, c[i * sc] ? g[i] : 0.0f);
    if (w->gin[2])
        LRPX_ACC_ROW(w->gin[2] + off[2], in[2], n, c[i * sc] ? 0.0f : g[i]);
}

static lrpx_status
where_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct lrpx_back_ctx c = {.extra = lrpx__in(x, n, 0)->b};
    /* the condition is operand 0 of the plan; it is bool and wants nothing */
    return lrpx__elem_back_run(x, n, LRPX_PARAMS(x, n, struct lrpx_bcast), 0,
                               where_backward_row, &c);
}

const struct lrpx_op_def lrpx__op_where = {
    .onnx_name     = "Where",
    .since_version = 9,
    .n_inputs_min  = 3,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = where_prepare,
    .forward       = where_forward,
    .backward      = where_backward,
    .relevance     = where_backward,
};
