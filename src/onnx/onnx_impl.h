/* Loader internals: the only header that includes the generated protobuf-c
 * code. Nothing outside src/onnx/ includes it (tests excepted). */
#ifndef LRPX_ONNX_IMPL_H
#define LRPX_ONNX_IMPL_H

#include "onnx.pb-c.h"
#include "lrpx_internal.h"

/* protobuf-c allocator that forwards to lrpx__malloc/lrpx__free */
extern ProtobufCAllocator lrpx__pb_allocator;

/* Where tensor data comes from and goes to. */
struct lrpx_tensor_src {
    const char        *base_dir;     /* external data folder, NULL: refused  */
    struct lrpx_arena *arena;        /* NULL: lrpx__malloc (caller frees)    */
    int64_t            max_bytes;    /* one tensor; 0: no limit              */
    const char        *what;         /* "initializer 'W'" for messages       */
};

/* TensorProto → tensor (data copied, 64-byte aligned when from an arena).
 * Checks dims, dtype, that the data covers the shape, and external data
 * paths. */
lrpx_status lrpx__tensor_from_proto(const Onnx__TensorProto *tp,
                                    const struct lrpx_tensor_src *src,
                                    struct lrpx_tensor *out, struct lrpx_err *err);

#endif /* LRPX_ONNX_IMPL_H */
