/* Loader internals: the only header that includes the generated protobuf-c
 * code. Nothing outside src/onnx/ includes it (tests excepted). */
#ifndef LRPX_ONNX_IMPL_H
#define LRPX_ONNX_IMPL_H

#include "onnx.pb-c.h"
#include "lrpx_internal.h"

#include <stdio.h>

/* protobuf-c allocator for one unpack of len bytes, forwarding to
 * lrpx__malloc/lrpx__free: records a failed allocation (to
 * tell OOM from a corrupt file once unpack returns NULL) and refuses to
 * allocate past a budget (16 x len + 64 MiB, at most max_total when > 0),
 * so a small hostile file cannot make the parser take gigabytes. */
struct lrpx_pb_state {
    bool   failed;    /* an allocation failed: LRPX_ENOMEM      */
    bool   over;      /* the budget ran out: LRPX_ELIMIT        */
    size_t used;
    size_t limit;     /* 0: none                                */
};
ProtobufCAllocator lrpx__pb_allocator_state(struct lrpx_pb_state *st, size_t len,
                                            int64_t max_total);

struct lrpx_graph;

/* Where tensor data comes from and goes to. */
struct lrpx_tensor_src {
    const char        *base_dir;     /* external data folder, NULL: refused  */
    struct lrpx_arena *arena;        /* NULL: lrpx__malloc (caller frees)    */
    int64_t            max_bytes;    /* one tensor; 0: no limit              */
    const char        *what;         /* "initializer 'W'" for messages       */
    struct lrpx_graph *files;        /* external data files read are added
                                        to its list; NULL: not recorded     */
    /* raw_data kept out of the protobuf-c parse (load.c): when raw_set,
     * raw_len bytes at raw are the tensor's raw_data, not tp->raw_data */
    bool               raw_set;
    const uint8_t     *raw;
    size_t             raw_len;
    /* raw lies in this mapping, which lives as long as the tensor: the
     * tensor may point at it when aligned for its type (zero copy), and
     * after a copy the mapped pages are given back; NULL: copy */
    const struct lrpx_file_map *map;
};

/* TensorProto → tensor (data copied, 64-byte aligned when from an arena;
 * or pointing into src->map, aligned to its element size at least).
 * Checks dims, dtype, that the data covers the shape, and external data
 * paths. */
lrpx_status lrpx__tensor_from_proto(const Onnx__TensorProto *tp,
                                    const struct lrpx_tensor_src *src,
                                    struct lrpx_tensor *out, struct lrpx_err *err);

#endif /* LRPX_ONNX_IMPL_H */
