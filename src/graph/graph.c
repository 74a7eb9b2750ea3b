/* Graph bookkeeping: consumer links, lookup by name, node labels for
 * messages, and the topological order (Kahn's algorithm, iterative: the
 * model file is untrusted and may be deep). */
#include <stdio.h>
#include <string.h>

#include "core/graph.h"

int
lrpx__graph_find_value(const struct lrpx_graph *g, const char *name)
{
    for (int v = 0; v < g->n_values; v++)
        if (strcmp(g->values[v].name, name) == 0)
            return v;
    return -1;
}

bool
lrpx__graph_add_file(struct lrpx_graph *g, const char *path)
{
    for (int i = 0; i < g->n_files; i++)
        if (strcmp(g->files[i], path) == 0)
            return true;
    if (g->n_files == g->cap_files) {
        /* the arena cannot grow a block: take a new one, twice the size */
        int          cap   = g->cap_files ? 2 * g->cap_files : 4;
        const char **files = lrpx__arena_calloc(&g->arena, (size_t)cap, sizeof *files);
        if (!files)
            return false;
        if (g->n_files)
            memcpy(files, g->files, (size_t)g->n_files * sizeof *files);
        g->files     = files;
        g->cap_files = cap;
    }
    const char *copy = lrpx__arena_strdup(&g->arena, path);
    if (!copy)
        return false;
    g->files[g->n_files++] = copy;
    return true;
}

const char *
lrpx__node_label(const struct lrpx_graph *g, const struct lrpx_node *n, char *buf, size_t size)
{
    snprintf(buf, size, "%s: node '%.200s' (#%d, %.100s)", g->path, n->name, n->index, n->op_type);
    return buf;
}

lrpx_status
lrpx__graph_link(struct lrpx_graph *g)
{
    /* count, then fill: consumers[] holds a node once per input slot;
     * called again after passes rewire the graph */
    for (int v = 0; v < g->n_values; v++)
        g->values[v].n_consumers = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0)
                g->values[g->nodes[i].inputs[k]].n_consumers++;
    /* one block for all lists (an arena allocation per value would cost
     * 64 bytes each, every time the passes relink) */
    size_t total = 0;
    for (int v = 0; v < g->n_values; v++)
        total += (size_t)g->values[v].n_consumers;
    int *block = lrpx__arena_calloc(&g->arena, total + 1, sizeof(int));
    if (!block)
        return lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory", g->path);
    for (int v = 0; v < g->n_values; v++) {
        struct lrpx_value *val = &g->values[v];
        val->consumers   = block;
        block           += val->n_consumers;
        val->n_consumers = 0;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int v = g->nodes[i].inputs[k];
            if (v >= 0)
                g->values[v].consumers[g->values[v].n_consumers++] = i;
        }
    return LRPX_OK;
}

lrpx_status
lrpx__graph_toposort(struct lrpx_graph *g)
{
    lrpx_status rc     = LRPX_OK;
    int        *stack  = lrpx__calloc((size_t)g->n_values + 1, sizeof(int));
    uint8_t    *needed = lrpx__calloc((size_t)g->n_nodes + 1, 1);
    int        *indeg  = lrpx__calloc((size_t)g->n_nodes + 1, sizeof(int));
    g->order = lrpx__arena_calloc(&g->arena, (size_t)g->n_nodes + 1, sizeof(int));
    if (!stack || !needed || !indeg || !g->order) {
        rc = lrpx__error(g->err, LRPX_ENOMEM, "%s: out of memory", g->path);
        goto done;
    }

    /* nodes some output depends on (each value pushed at most once via its
     * producer's mark, so the stack never exceeds n_values) */
    int sp = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        int p = g->values[g->outputs[i]].producer;
        if (p >= 0 && !needed[p]) {
            needed[p]   = 1;
            stack[sp++] = p;
        }
    }
    while (sp > 0) {
        const struct lrpx_node *n = &g->nodes[stack[--sp]];
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            int p = v >= 0 ? g->values[v].producer : -1;
            if (p >= 0 && !needed[p]) {
                needed[p]   = 1;
                stack[sp++] = p;
            }
        }
    }

    int n_needed = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!needed[i])
            continue;
        n_needed++;
        const struct lrpx_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            if (v >= 0 && g->values[v].producer >= 0)
                indeg[i]++;
        }
    }
    /* Kahn; the queue reuses `stack` (each node enters once). Ready nodes
     * are taken in file order for a deterministic result. */
    int head = 0, tail = 0;
    int *queue = stack;
    for (int i = 0; i < g->n_nodes; i++)
        if (needed[i] && indeg[i] == 0)
            queue[tail++] = i;
    g->n_order = 0;
    while (head < tail) {
        int i = queue[head++];
        g->order[g->n_order++] = i;
        const struct lrpx_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_outputs; k++) {
            int v = n->outputs[k];
            if (v < 0)
                continue;
            const struct lrpx_value *val = &g->values[v];
            for (int c = 0; c < val->n_consumers; c++) {
                int j = val->consumers[c];
                if (needed[j] && --indeg[j] == 0)
                    queue[tail++] = j;
            }
        }
    }
    if (g->n_order != n_needed) {
        /* The nodes left wait on a cycle or are on one. Each waits on the
         * producer of some input that is also left: stepping back that way
         * n_nodes times ends on a cycle, whose node the message names. */
        int i = 0;
        while (!(needed[i] && indeg[i] > 0))
            i++;
        for (int step = 0; step < g->n_nodes; step++) {
            const struct lrpx_node *n = &g->nodes[i];
            for (int k = 0; k < n->n_inputs; k++) {
                int p = n->inputs[k] >= 0 ? g->values[n->inputs[k]].producer : -1;
                if (p >= 0 && indeg[p] > 0) {
                    i = p;
                    break;
                }
            }
        }
        char label[512];
        rc = lrpx__error(g->err, LRPX_EPARSE, "%s: is part of a cycle (the graph must be acyclic)",
                         lrpx__node_label(g, &g->nodes[i], label, sizeof label));
    }
done:
    lrpx__free(stack);
    lrpx__free(needed);
    lrpx__free(indeg);
    return rc;
}
