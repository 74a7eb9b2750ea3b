/* The loader's entry point (protobuf types stay inside src/onnx/). */
#ifndef LRPX_LOAD_H
#define LRPX_LOAD_H

#include "core/graph.h"

/* Parse a serialized ModelProto into g (g->path, g->dir and g->arena must be
 * set). Names and attributes are copied into g->arena; so are the weights,
 * except when buf is map->addr (map non-NULL, kept as long as g): then an
 * initializer's raw_data aligned for its type stays in the mapping and
 * g's tensor points at it. */
lrpx_status lrpx__load_graph(const uint8_t *buf, size_t len, const struct lrpx_load_options *opts,
                             const struct lrpx_file_map *map, struct lrpx_graph *g,
                             struct lrpx_err *err);

#endif /* LRPX_LOAD_H */
