/* Cast — output = input converted to the type given by attribute `to`.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Cast.html  (opsets 1, 6, 9, 13)
 *       Before 6 `to` is a type name string ("FLOAT", "INT64", ...), from 6
 *       a TensorProto.DataType number.
 * Types: float32, float64, int8/16/32/64, uint8/16/32/64 and bool, in any
 *       direction. float16, bfloat16, string and complex are
 *       LRPX_EUNSUPPORTED (the node and the type are named).
 *       Float to integer truncates toward zero; NaN gives 0 and values
 *       outside the target range saturate (C leaves these undefined and
 *       runtimes differ). Integer to integer wraps (two's complement), as in
 *       numpy. Anything non-zero (NaN too) is true as bool; bool is 0 or 1.
 * Backward/LRP: identity: gradient and relevance pass through unchanged
 *       (buffers only exist between float32 values, so integer casts cut
 *       the path).
 */
#include <math.h>
#include <string.h>

#include "ops/kernels/broadcast_impl.h"

struct cast_params {
    lrpx_dtype to;
};

/* onnx.TensorProto.DataType names, for the opset < 6 string form and for
 * messages about types lrpx has no enum value for */
static const char *const cast_names[17] = {
    "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
    "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
};

#define CAST_TYPES_OK (LRPX_DT_NUMERIC | LRPX_DT(BOOL))

static lrpx_status
cast_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    struct cast_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    const struct lrpx_attr *a = lrpx__attr_find(n, "to");
    int64_t                 to = -1;
    if (!a)
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute 'to' is missing");
    if (a->type == LRPX_ATTR_INT)
        to = a->i;
    else if (a->type == LRPX_ATTR_STRING && a->s) {
        for (int k = 1; k < 17; k++)
            if (strcmp(a->s, cast_names[k]) == 0)
                to = k;
        if (to < 0)
            return lrpx__node_error(x, n, LRPX_EPARSE, "unknown type name to='%s'", a->s);
    } else
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute 'to' must be an int");
    if (to <= 0 || to > 16)
        return lrpx__node_error(x, n, LRPX_EPARSE, "to=%lld is not an ONNX data type",
                                (long long)to);
    if (!(CAST_TYPES_OK & (1u << to)))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "cast to %s: lrpx does not compute in this type",
                                cast_names[to]);
    p->to = (lrpx_dtype)to;
    lrpx_status rc = lrpx__elem_check_dtype(x, n, 0, CAST_TYPES_OK);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    return lrpx__set_output(x, n, 0, p->to, in->rank, in->dims);
}

/* ---- converters: to_<dst>_<kind>, kind d (from float), i (signed), u ---- */

#define CAST_DEF_FLOAT(NAME, T)                                 \
    static inline T to_##NAME##_d(double v) { return (T)v; }   \
    static inline T to_##NAME##_i(int64_t v) { return (T)v; }  \
    static inline T to_##NAME##_u(uint64_t v) { return (T)v; }

/* float to integer: truncate, NaN -> 0, saturate; integers wrap */
#define CAST_DEF_INT(NAME, T, MIN, MAX)                         \
    static inline T to_##NAME##_d(double v)                     \
    {                                                           \
        if (isnan(v))                                           \
            return 0;                                           \
        if (v <= (double)(MIN))                                 \
            return (MIN);                                       \
        if (v >= (double)(MAX))                                 \
            return (MAX);                                       \
        return (T)v;                                            \
    }                                                           \
    static inline T to_##NAME##_i(int64_t v) { return (T)v; }  \
    static inline T to_##NAME##_u(uint64_t v) { return (T)v; }

CAST_DEF_FLOAT(f32, float)
CAST_DEF_FLOAT(f64, double)
CAST_DEF_INT(i8, int8_t, INT8_MIN, INT8_MAX)
CAST_DEF_INT(i16, int16_t, INT16_MIN, INT16_MAX)
CAST_DEF_INT(i32, int32_t, INT32_MIN, INT32_MAX)
CAST_DEF_INT(i64, int64_t, INT64_MIN, INT64_MAX)
CAST_DEF_INT(u8, uint8_t, 0, UINT8_MAX)
CAST_DEF_INT(u16, uint16_t, 0, UINT16_MAX)
CAST_DEF_INT(u32, uint32_t, 0, UINT32_MAX)
CAST_DEF_INT(u64, uint64_t, 0, UINT64_MAX)

/* to bool: anything non-zero is true, NaN included (numpy's bool(nan)) */
static inline uint8_t
to_b_d(double v)
{
    return v != 0.0 || isnan(v);
}

static inline uint8_t
to_b_i(int64_t v)
{
    return v != 0;
}

static inline uint8_t
to_b_u(uint64_t v)
{
    return v != 0;
}


#define CAST_RD_d(v) ((double)(v))
#define CAST_RD_i(v) ((int64_t)(v))
#define CAST_RD_u(v) ((uint64_t)(v))
#define CAST_RD_b(v) ((uint64_t)((v) != 0))
#define CAST_KIND_d d
#define CAST_KIND_i i
#define CAST_KIND_u u
#define CAST_KIND_b u
#define CAST_CAT(a, b, c) CAST_CAT_(a, b, c)
#define CAST_CAT_(a, b, c) a##b##_##c

#define CAST_LOOP(DDT, DT, DNAME, ST, KIND)                                     \
    case LRPX_DTYPE_##DDT: {                                                    \
        const ST *s = (const ST *)in->data;                                     \
        DT       *d = (DT *)out->data;                                          \
        for (int64_t i = 0; i < in->n_elems; i++)                               \
            d[i] = CAST_CAT(to_, DNAME, CAST_KIND_##KIND)(CAST_RD_##KIND(s[i])); \
        break;                                                                  \
    }

#define CAST_SRC(SDT, ST, KIND)                                 \
    case LRPX_DTYPE_##SDT:                                      \
        switch (out->dtype) {                                   \
            CAST_LOOP(FLOAT32, float, f32, ST, KIND)            \
            CAST_LOOP(FLOAT64, double, f64, ST, KIND)           \
            CAST_LOOP(INT8, int8_t, i8, ST, KIND)               \
            CAST_LOOP(INT16, int16_t, i16, ST, KIND)            \
            CAST_LOOP(INT32, int32_t, i32, ST, KIND)            \
            CAST_LOOP(INT64, int64_t, i64, ST, KIND)            \
            CAST_LOOP(UINT8, uint8_t, u8, ST, KIND)             \
            CAST_LOOP(UINT16, uint16_t, u16, ST, KIND)          \
            CAST_LOOP(UINT32, uint32_t, u32, ST, KIND)          \
            CAST_LOOP(UINT64, uint64_t, u64, ST, KIND)          \
            CAST_LOOP(BOOL, uint8_t, b, ST, KIND)               \
        default:                                                \
            goto unsupported;                                   \
        }                                                       \
        break;

static lrpx_status
cast_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_tensor *in  = lrpx__in(x, n, 0);
    struct lrpx_tensor       *out = lrpx__out(x, n, 0);
    if (in->dtype == out->dtype) {
        if (in->n_elems)
            memcpy(out->data, in->data, (size_t)lrpx__tensor_bytes(in));
        return LRPX_OK;
    }
    switch (in->dtype) {
        CAST_SRC(FLOAT32, float, d)
        CAST_SRC(FLOAT64, double, d)
        CAST_SRC(INT8, int8_t, i)
        CAST_SRC(INT16, int16_t, i)
        CAST_SRC(INT32, int32_t, i)
        CAST_SRC(INT64, int64_t, i)
        CAST_SRC(UINT8, uint8_t, u)
        CAST_SRC(UINT16, uint16_t, u)
        CAST_SRC(UINT32, uint32_t, u)
        CAST_SRC(UINT64, uint64_t, u)
        CAST_SRC(BOOL, uint8_t, b)
    default:
        goto unsupported;
    }
    return LRPX_OK;
unsupported:
    return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "no conversion from %s to %s",
                            lrpx_dtype_name(in->dtype), lrpx_dtype_name(out->dtype));
}

const struct lrpx_op_def lrpx__op_cast = {
    .onnx_name     = "Cast",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 1,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = cast_prepare,
    .forward       = cast_forward,
    .backward      = lrpx__back_identity,
    .relevance     = lrpx__back_identity,
};
