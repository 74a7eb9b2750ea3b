/* The loader's entry point (protobuf types stay inside src/onnx/). */
#ifndef LRPX_LOAD_H
#define LRPX_LOAD_H

#include "core/graph.h"

/* Parse a serialized ModelProto into g (g->path, g->dir and g->arena must be
 * set). Names, attributes and weights are copied into g->arena. */
lrpx_status lrpx__load_graph(const uint8_t *buf, size_t len, const struct lrpx_load_options *opts,
                             struct lrpx_graph *g, struct lrpx_err *err);

#endif /* LRPX_LOAD_H */
