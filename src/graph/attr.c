/* Attribute getters: typed reads with defaults. A wrong type counts as
 * absent here; ops that must reject it check lrpx__attr_find's type. */
#include <string.h>

#include "core/graph.h"

const struct lrpx_attr *
lrpx__attr_find(const struct lrpx_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t
lrpx__attr_int(const struct lrpx_node *n, const char *name, int64_t def)
{
    const struct lrpx_attr *a = lrpx__attr_find(n, name);
    return a && a->type == LRPX_ATTR_INT ? a->i : def;
}

float
lrpx__attr_float(const struct lrpx_node *n, const char *name, float def)
{
    const struct lrpx_attr *a = lrpx__attr_find(n, name);
    if (a && a->type == LRPX_ATTR_FLOAT)
        return a->f;
    return def;
}

const char *
lrpx__attr_string(const struct lrpx_node *n, const char *name, const char *def)
{
    const struct lrpx_attr *a = lrpx__attr_find(n, name);
    return a && a->type == LRPX_ATTR_STRING ? a->s : def;
}

/* An empty list points here rather than at NULL, so that callers may
 * memcpy(dst, list, 0) (memcpy from NULL is undefined even for 0 bytes). */
static const int64_t no_ints[1];
static const float   no_floats[1];

int
lrpx__attr_ints(const struct lrpx_node *n, const char *name, const int64_t **out)
{
    const struct lrpx_attr *a = lrpx__attr_find(n, name);
    if (a && a->type == LRPX_ATTR_INTS && a->n_ints > 0) {
        *out = a->ints;
        return a->n_ints;
    }
    *out = no_ints;
    return 0;
}

int
lrpx__attr_floats(const struct lrpx_node *n, const char *name, const float **out)
{
    const struct lrpx_attr *a = lrpx__attr_find(n, name);
    if (a && a->type == LRPX_ATTR_FLOATS && a->n_floats > 0) {
        *out = a->floats;
        return a->n_floats;
    }
    *out = no_floats;
    return 0;
}
