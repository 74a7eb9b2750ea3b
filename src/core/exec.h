/* The execution context shared by shape planning (prepare), the forward
 * executor, the gradient executor (vector-Jacobian products) and the
 * relevance executor. One context belongs to one session and one set of
 * input shapes (a "plan"). Ops see the world only through it. */
#ifndef LRPX_EXEC_H
#define LRPX_EXEC_H

#include "core/graph.h"

struct lrpx_rule_cfg;
struct lrpx_pool;

enum lrpx_phase {
    LRPX_PHASE_PREPARE = 0,   /* shapes, params, scratch sizes; may allocate */
    LRPX_PHASE_FORWARD,       /* arithmetic only; must not allocate          */
    LRPX_PHASE_BACKWARD,      /* gradient: add J^T g_out into g_in           */
    LRPX_PHASE_RELEVANCE,     /* LRP: add R_in from R_out                    */
};

/* How Relu back-propagates in the gradient phase (the attribution methods
 * deconvnet and guided-backprop change it at every Relu node). */
enum lrpx_grad_mode {
    LRPX_GRAD_PLAIN = 0,      /* g_in = g_out * 1[x > 0]                      */
    LRPX_GRAD_DECONV,         /* g_in = max(0, g_out)                         */
    LRPX_GRAD_GUIDED,         /* g_in = max(0, g_out * 1[x > 0])              */
};

struct lrpx_exec {
    const struct lrpx_graph *g;
    struct lrpx_err         *err;         /* the session's message buffer      */
    int64_t                  opset;
    enum lrpx_phase          phase;
    enum lrpx_grad_mode      grad_mode;   /* BACKWARD phase only; Relu reads it */

    /* per value (g->n_values): shape, dtype and data. During prepare, data
     * is set only where it is known (constants, folded values); known[v]
     * says so. After prepare every needed value has a buffer. */
    struct lrpx_tensor      *vals;
    uint8_t                 *known;
    /* per value: fed by the caller (graph input); data_dep: the plan read
     * that feed's data while planning (shapes that depend on data) */
    uint8_t                 *fed;
    uint8_t                 *data_dep;
    bool                     trial;          /* load-time check: no data yet  */
    bool                     trial_blocked;  /* it needed data it lacks       */

    /* per node (g->n_nodes): op parameters parsed in prepare (arena) */
    void                   **params;
    /* per node: 1 when a producer's forward also writes this node's
     * output (an activation fused into a Conv, see conv.c); the forward
     * executor then skips the node. Set in prepare, only for nodes that run
     * (not folded). The backward passes visit such nodes as usual. */
    uint8_t                 *fused;

    /* per value: float32 gradient or relevance buffer with vals[v].n_elems
     * entries, NULL where the value carries none (ints, constants). Both
     * backward passes write here: only one runs at a time. */
    float                  **back;

    /* per node: the LRP rule chosen for it (relevance phase only) */
    const struct lrpx_rule_cfg *rules;
    /* set by the LRP rules around each call of a linear op's apply or
     * apply_t: which weight it is given (the node's constant weight or one
     * of its rule variants, W+, W-, ...), the same key for the same weight
     * throughout the plan; 0 for a weight of unknown provenance. An op may
     * keep a prepared form (transformed, packed) per key for the plan. */
    uint64_t                 lrp_wkey;

    /* scratch shared by all nodes of one pass, sized in prepare */
    size_t                   scratch_need;
    size_t                   scratch_size;
    void                    *scratch;

    struct lrpx_arena       *arena;        /* the plan's arena                 */
    int64_t                  max_tensor_bytes;

    /* the session's threads for the ops' loops (lrpx__parallel_for in
     * src/util/parallel.h) during a pass; NULL (serial) while planning or
     * with one thread */
    struct lrpx_pool        *pool;
    /* products whose rows are samples give each sample the same bits in
     * any batch (lrpx_session_set_batch_invariant, lrpx__sgemm_rows) */
    bool                     batch_invariant;
};

/* ---- access to a node's tensors ---- */

/* Input/output i of n, or NULL when it is omitted (optional). */
static inline struct lrpx_tensor *
lrpx__in(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return (i < n->n_inputs && n->inputs[i] >= 0) ? &x->vals[n->inputs[i]] : NULL;
}

static inline struct lrpx_tensor *
lrpx__out(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return (i < n->n_outputs && n->outputs[i] >= 0) ? &x->vals[n->outputs[i]] : NULL;
}

/* During prepare: is input i's data known? True for constants and values
 * folded from them, and for a fed input whose data the caller has set (its
 * data then becomes part of the plan: setting it again re-plans). */
bool lrpx__in_known(struct lrpx_exec *x, const struct lrpx_node *n, int i);

/* Is input i a constant (an initializer or folded from constants)? Unlike
 * lrpx__in_known, fed inputs never count: use this to decide which operand
 * is a weight. */
static inline bool
lrpx__in_const(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return i < n->n_inputs && n->inputs[i] >= 0 && x->known[n->inputs[i]];
}

/* Gradient/relevance buffer of input/output i, NULL if it carries none. */
static inline float *
lrpx__back_in(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return (i < n->n_inputs && n->inputs[i] >= 0) ? x->back[n->inputs[i]] : NULL;
}

static inline float *
lrpx__back_out(const struct lrpx_exec *x, const struct lrpx_node *n, int i)
{
    return (i < n->n_outputs && n->outputs[i] >= 0) ? x->back[n->outputs[i]] : NULL;
}

/* True when every output of n has no elements: the executors then skip
 * its forward, backward and relevance functions (there is nothing to
 * compute, and kernels need not handle empty buffers or scratch). */
static inline bool
lrpx__outputs_empty(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0 && x->vals[n->outputs[k]].n_elems > 0)
            return false;
    return true;
}

static inline int
lrpx__node_idx(const struct lrpx_exec *x, const struct lrpx_node *n)
{
    return (int)(n - x->g->nodes);
}

/* ---- prepare-time helpers (src/exec/plan.c) ---- */

/* Format "FILE: node 'NAME' (#I, OP): <message>" into the session message
 * and return status. */
lrpx_status lrpx__node_error(struct lrpx_exec *x, const struct lrpx_node *n,
                             lrpx_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set output i's dtype and shape (prepare). Checks rank, overflow and the
 * tensor byte limit; the message names the node. */
lrpx_status lrpx__set_output(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                             lrpx_dtype dtype, int rank, const int64_t *dims);
/* Same dtype and shape as input `from`. */
lrpx_status lrpx__set_output_like(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                                  const struct lrpx_tensor *from);

/* Zeroed, aligned memory from the plan arena, for params in prepare.
 * Stores the pointer in x->params for the node. NULL on OOM (the caller
 * returns LRPX_ENOMEM via lrpx__node_error). */
void *lrpx__params_alloc(struct lrpx_exec *x, const struct lrpx_node *n, size_t size);
#define LRPX_PARAMS(x, n, type) ((type *)(x)->params[lrpx__node_idx((x), (n))])

/* Fuse the Relu or constant-bound Clip reading output 0 of n into n's
 * forward pass (Conv, BatchNormalization; plan.c): sets *act, marks the
 * fused node in x->fused and returns its output value, or -1. */
struct lrpx_act;
int lrpx__fuse_act(struct lrpx_exec *x, const struct lrpx_node *n, struct lrpx_act *act);

/* Ask for `bytes` of scratch during prepare; the executor gives every node
 * the same buffer (x->scratch) of the largest size asked for. */
static inline void
lrpx__scratch_request(struct lrpx_exec *x, size_t bytes)
{
    if (bytes > x->scratch_need)
        x->scratch_need = bytes;
}

/* Check helpers: set the message and return the status, or LRPX_OK. */
lrpx_status lrpx__check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                              lrpx_dtype want);
lrpx_status lrpx__check_float(struct lrpx_exec *x, const struct lrpx_node *n, int i);
lrpx_status lrpx__check_rank(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                             int min_rank, int max_rank);

/* Numpy broadcasting of two shapes; ESHAPE with the node named when they do
 * not broadcast. */
lrpx_status lrpx__broadcast_shape(struct lrpx_exec *x, const struct lrpx_node *n,
                                  const struct lrpx_tensor *a, const struct lrpx_tensor *b,
                                  int *rank, int64_t *dims);

#endif /* LRPX_EXEC_H */
