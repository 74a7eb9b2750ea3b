/* The internal tensor type: shape bookkeeping and typed element access. */
#include <stdio.h>
#include <string.h>

#include "lrpx_internal.h"

/* Sizes by onnx.TensorProto.DataType; 0 where lrpx holds no such data. */
static const size_t dtype_sizes[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_FLOAT32] = 4, [LRPX_DTYPE_UINT8] = 1,  [LRPX_DTYPE_INT8] = 1,
    [LRPX_DTYPE_UINT16]  = 2, [LRPX_DTYPE_INT16] = 2,  [LRPX_DTYPE_INT32] = 4,
    [LRPX_DTYPE_INT64]   = 8, [LRPX_DTYPE_BOOL]  = 1,  [LRPX_DTYPE_FLOAT16] = 2,
    [LRPX_DTYPE_FLOAT64] = 8, [LRPX_DTYPE_UINT32] = 4, [LRPX_DTYPE_UINT64] = 8,
};

static const char *const dtype_names[LRPX_DTYPE_COUNT] = {
    [LRPX_DTYPE_UNDEFINED] = "undefined", [LRPX_DTYPE_FLOAT32] = "float32",
    [LRPX_DTYPE_UINT8] = "uint8",   [LRPX_DTYPE_INT8] = "int8",
    [LRPX_DTYPE_UINT16] = "uint16", [LRPX_DTYPE_INT16] = "int16",
    [LRPX_DTYPE_INT32] = "int32",   [LRPX_DTYPE_INT64] = "int64",
    [LRPX_DTYPE_STRING] = "string", [LRPX_DTYPE_BOOL] = "bool",
    [LRPX_DTYPE_FLOAT16] = "float16", [LRPX_DTYPE_FLOAT64] = "float64",
    [LRPX_DTYPE_UINT32] = "uint32", [LRPX_DTYPE_UINT64] = "uint64",
};

size_t
lrpx_dtype_size(lrpx_dtype dtype)
{
    return (unsigned)dtype < LRPX_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

const char *
lrpx_dtype_name(lrpx_dtype dtype)
{
    if ((unsigned)dtype < LRPX_DTYPE_COUNT && dtype_names[dtype])
        return dtype_names[dtype];
    return "?";
}

bool
lrpx__tensor_shape(struct lrpx_tensor *t, lrpx_dtype dtype, int rank, const int64_t *dims)
{
    if (rank < 0 || rank > LRPX_MAX_RANK)
        return false;
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        if (!lrpx__mul_i64(n, dims[i], &n))
            return false;
    /* bytes must fit too */
    int64_t bytes;
    if (!lrpx__mul_i64(n, 8, &bytes))
        return false;
    t->dtype = dtype;
    t->rank  = rank;
    memset(t->dims, 0, sizeof t->dims);
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->n_elems = n;
    return true;
}

int64_t
lrpx__tensor_bytes(const struct lrpx_tensor *t)
{
    return t->n_elems * (int64_t)lrpx_dtype_size(t->dtype);
}

const char *
lrpx__dims_str(const int64_t *dims, int rank, char *buf, size_t size)
{
    if (rank == 0) {
        snprintf(buf, size, "scalar");
        return buf;
    }
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && off < size; i++) {
        int n = snprintf(buf + off, size - off, i ? "x%lld" : "%lld", (long long)dims[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    return buf;
}

double
lrpx__tensor_get_f64(const struct lrpx_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case LRPX_DTYPE_FLOAT32: return t->f32[i];
    case LRPX_DTYPE_FLOAT64: return t->f64[i];
    case LRPX_DTYPE_INT64:   return (double)t->i64[i];
    case LRPX_DTYPE_INT32:   return t->i32[i];
    case LRPX_DTYPE_INT8:    return t->i8[i];
    case LRPX_DTYPE_UINT8:
    case LRPX_DTYPE_BOOL:    return t->u8[i];
    case LRPX_DTYPE_INT16:   return ((const int16_t *)t->data)[i];
    case LRPX_DTYPE_UINT16:  return ((const uint16_t *)t->data)[i];
    case LRPX_DTYPE_UINT32:  return ((const uint32_t *)t->data)[i];
    case LRPX_DTYPE_UINT64:  return (double)((const uint64_t *)t->data)[i];
    default:                 return 0.0;
    }
}

int64_t
lrpx__tensor_get_i64(const struct lrpx_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case LRPX_DTYPE_FLOAT32: return (int64_t)t->f32[i];
    case LRPX_DTYPE_FLOAT64: return (int64_t)t->f64[i];
    case LRPX_DTYPE_INT64:   return t->i64[i];
    case LRPX_DTYPE_INT32:   return t->i32[i];
    case LRPX_DTYPE_INT8:    return t->i8[i];
    case LRPX_DTYPE_UINT8:
    case LRPX_DTYPE_BOOL:    return t->u8[i];
    case LRPX_DTYPE_INT16:   return ((const int16_t *)t->data)[i];
    case LRPX_DTYPE_UINT16:  return ((const uint16_t *)t->data)[i];
    case LRPX_DTYPE_UINT32:  return ((const uint32_t *)t->data)[i];
    case LRPX_DTYPE_UINT64:  return (int64_t)((const uint64_t *)t->data)[i];
    default:                 return 0;
    }
}

void
lrpx__strides(const int64_t *dims, int rank, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}
