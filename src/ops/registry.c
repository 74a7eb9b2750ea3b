/* The op table, filled by index from op_list.h so that a missing entry
 * cannot go unnoticed, and the op_type → op lookup. */
#include <stdio.h>
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

const char *
lrpx__op_names(enum lrpx_lrp_class c, int kind, char *buf, size_t size)
{
    size_t k = 0;
    if (size)
        buf[0] = '\0';
    for (int i = 0; i < LRPX_OP_COUNT && k < size; i++) {
        const struct lrpx_op_def *d = lrpx__op_table[i];
        if (d->lrp_class != c || (kind >= 0 && (!d->linear || (int)d->linear->kind != kind)))
            continue;
        int w = snprintf(buf + k, size - k, "%s%s", k ? ", " : "", d->onnx_name);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return buf;
}
