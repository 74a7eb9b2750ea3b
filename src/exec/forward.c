/* The topological executor: run the plan's nodes in order, except those a
 * producer computes along with its own output (x->fused). Each op reports
 * its own errors with the node named (lrpx__node_error). With profiling on
 * (p->prof_ns set, see lrpx_session_profile) each node's wall time is added
 * to its total (a fused node's time counts to its producer). */
#include <time.h>

#include "exec/session.h"
#include "core/op.h"

static int64_t
forward_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

lrpx_status
lrpx__exec_forward(struct lrpx_plan *p)
{
    struct lrpx_exec        *x = &p->x;
    const struct lrpx_graph *g = x->g;
    x->phase = LRPX_PHASE_FORWARD;
    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n  = &g->nodes[p->run[i]];
        if (x->fused[p->run[i]])
            continue;          /* computed by its producer */
        if (lrpx__outputs_empty(x, n))
            continue;
        const int64_t           t0 = p->prof_ns ? forward_now_ns() : 0;
        lrpx_status             rc = n->def->forward(x, n);
        if (p->prof_ns) {
            p->prof_ns[p->run[i]] += forward_now_ns() - t0;
            p->prof_calls[p->run[i]]++;
        }
        if (rc != LRPX_OK) {
            if (x->err->status != rc || !x->err->msg[0])
                lrpx__node_error(x, n, rc, "forward failed: %s", lrpx_status_str(rc));
            return rc;
        }
    }
    return LRPX_OK;
}
