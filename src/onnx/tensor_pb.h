/* Reading serialized onnx.TensorProto files (.pb), as in the ONNX backend
 * test data. Used by tests and the CLI; protobuf types stay hidden. */
#ifndef LRPX_TENSOR_PB_H
#define LRPX_TENSOR_PB_H

#include "lrpx_internal.h"

/* Read path into *out (data from lrpx__malloc); *name_out (may be NULL)
 * receives the tensor's name (lrpx__malloc, "" if none). Free both with
 * lrpx__tensor_pb_free. Returns LRPX_OK, LRPX_EIO, LRPX_EPARSE,
 * LRPX_EUNSUPPORTED (e.g. not a TensorProto, float16, strings). */
lrpx_status lrpx__tensor_pb_read(const char *path, struct lrpx_tensor *out, char **name_out,
                                 struct lrpx_err *err);
void        lrpx__tensor_pb_free(struct lrpx_tensor *t, char *name);

#endif /* LRPX_TENSOR_PB_H */
