/* The op table, filled by index from op_list.h so that a missing entry
 * cannot go unnoticed, and the op_type → op lookup. */
#include <string.h>

#include "core/op.h"

const struct lrpx_op_def *const lrpx__op_table[LRPX_OP_COUNT] = {
#define X(tag, stem) [LRPX_OP_##tag] = &lrpx__op_##stem,
    LRPX_OP_LIST(X)
#undef X
};

int
lrpx__op_lookup(const char *op_type, int64_t opset)
{
    for (int i = 0; i < LRPX_OP_COUNT; i++) {
        const struct lrpx_op_def *d = lrpx__op_table[i];
        if (strcmp(d->onnx_name, op_type) == 0 && opset >= d->since_version)
            return i;
    }
    return -1;
}
