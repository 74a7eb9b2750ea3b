/* The topological executor: run the plan's nodes in order. Each op reports
 * its own errors with the node named (lrpx__node_error). */
#include "exec/session.h"
#include "ops/op.h"

lrpx_status
lrpx__exec_forward(struct lrpx_plan *p)
{
    struct lrpx_exec        *x = &p->x;
    const struct lrpx_graph *g = x->g;
    x->phase = LRPX_PHASE_FORWARD;
    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n  = &g->nodes[p->run[i]];
        lrpx_status             rc = n->def->forward(x, n);
        if (rc != LRPX_OK) {
            if (x->err->status != rc || !x->err->msg[0])
                lrpx__node_error(x, n, rc, "forward failed: %s", lrpx_status_str(rc));
            return rc;
        }
    }
    return LRPX_OK;
}
