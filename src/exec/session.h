/* The model and session handles, and the plan: one shape-specialised,
 * constant-folded instance of the graph with its buffers. */
#ifndef LRPX_SESSION_H
#define LRPX_SESSION_H

#include "core/exec.h"

struct lrpx_model {
    struct lrpx_err          err;
    struct lrpx_graph        g;
    struct lrpx_load_options opts;
    bool                     inspect_only;   /* has unsupported ops            */
    uint8_t                 *folded;         /* per node, from the load-time   */
                                             /* trial plan; NULL if none ran   */
    int64_t                  n_params;
    int                      n_randomized;   /* layers randomize_layers redrew */
    /* the model file, mapped: initializers may point into it */
    struct lrpx_file_map     file;
};

struct lrpx_plan {
    struct lrpx_arena arena;
    struct lrpx_exec  x;
    int               n_run;      /* nodes executed at run time, in order   */
    int              *run;
    uint8_t          *folded;     /* per node: computed while planning      */
    bool              incomplete; /* trial plan stopped: shapes need data   */
    /* buffers shared by lifetime (lrpx_session_set_keep): per value, 1
     * where the buffer is reused, so the value is gone after the run */
    bool              compact;
    uint8_t          *shared;
    /* profiling (LRPX_PROFILE=1): per node, forward time in ns and calls,
     * owned by the session; NULL when off */
    int64_t          *prof_ns;
    int64_t          *prof_calls;
};

/* A value the caller feeds: a graph input, or an initializer it overrides. */
struct lrpx_feed {
    int                value;
    bool               set;
    bool               as_const;  /* replaces a constant's data: the plan  */
                                  /* still folds and packs it as a weight  */
    struct lrpx_tensor t;         /* data from lrpx__malloc                 */
};

struct lrpx_rule_cfg;

struct lrpx_session {
    struct lrpx_err    err;
    const lrpx_model  *model;
    int                n_feeds;
    struct lrpx_feed  *feeds;
    bool               have_plan;
    bool               ran;          /* forward done for the current inputs */
    struct lrpx_plan   plan;

    /* backward passes (gradient or relevance) */
    struct lrpx_arena  back_arena;   /* back buffers, per plan              */
    bool               have_back;    /* buffers allocated                    */
    enum lrpx_phase    back_phase;   /* what the buffers hold, or PREPARE    */
    struct lrpx_rule_cfg *rules;     /* per node, malloc                     */
    char             (*rule_desc)[48]; /* per node text, malloc              */
    double            *r_in, *r_out; /* per node sums of the last relevance pass */
    uint8_t           *visited;      /* per node: reached by the last pass   */
    int                seed_value;   /* value the last pass was seeded at    */
    int64_t            n_samples;
    int64_t           *seed_class;   /* per sample, -1 for a tensor seed     */
    double            *seed_logit;   /* per sample                           */
    /* per pass options resolved by the LRP front end */
    /* LRP work buffers (src/lrp/explain.c), kept between explanations so a
     * repeated explain does not fault in hundreds of MB again; grown as
     * needed, freed with the session */
    float             *lrp_buf[11];
    int64_t            lrp_buf_n[11];
    int                n_explained;
    int               *explained;    /* node indices visited, reverse order  */
    /* profiling: per node totals over all forward passes (malloc), NULL
     * unless LRPX_PROFILE=1 was set at lrpx_session_init */
    int64_t           *prof_ns;
    int64_t           *prof_calls;
    /* attribution methods (src/methods/): the relu backward mode of the
     * next gradient pass, the last map and its per-sample reports (malloc),
     * and the session that evaluates batches of perturbed inputs */
    enum lrpx_grad_mode grad_mode;
    float             *attr;
    lrpx_tensor_view   attr_view;
    struct lrpx_attr_report *attr_rep;
    int64_t            attr_n;       /* samples in attr_rep; 0: no result    */
    struct lrpx_session *aux;        /* lrpx_session_init'ed on first use     */
    /* constant replacements (lrpx__session_set_const): bumped at each
     * change; aux_const_gen: the value aux last copied them at */
    uint64_t           const_gen, aux_const_gen;
    lrpx_keep          keep;         /* lrpx_session_set_keep                */
    /* threads for the passes (lrpx_session_set_threads) and their pool,
     * made at the first pass that needs it (src/util/parallel.h) */
    int                n_threads;
    struct lrpx_pool  *pool;
    bool               batch_invariant;  /* lrpx_session_set_batch_invariant */
    /* lrpx_session_set_progress; the count of a routine of many passes */
    lrpx_progress_fn   progress;
    void              *progress_user;
    int64_t            progress_done, progress_total;
};

/* ---- plan (src/exec/plan.c) ---- */

/* Build a plan for the given fed shapes (feeds[i].t dims; data may be NULL
 * when alloc is false). alloc false: shapes and folding only (load-time
 * check). compact: activations share buffers by lifetime, only the graph
 * outputs survive a run (no backward pass can use such a plan). Errors go
 * to err. */
lrpx_status lrpx__plan_build(const lrpx_model *m, const struct lrpx_feed *feeds, int n_feeds,
                             bool alloc, bool compact, struct lrpx_plan *p,
                             struct lrpx_err *err);
void        lrpx__plan_free(struct lrpx_plan *p);
/* What is left of max_total_bytes (<= 0: no limit) once `used` bytes are
 * taken, as an arena limit: the model's weights, a session's plan and its
 * backward buffers share one budget. */
size_t      lrpx__budget_left(int64_t max_total, size_t used);

/* ---- executors ---- */

/* Forward pass over p->run (src/exec/forward.c). */
lrpx_status lrpx__exec_forward(struct lrpx_plan *p);

/* Reverse-topological pass (src/exec/backward.c). Runs the forward pass
 * first if needed, allocates and zeroes the back buffers, seeds value
 * `seed_value` with `seed` (n_elems floats), then calls each node's
 * backward (phase BACKWARD) or relevance (phase RELEVANCE) function in
 * reverse order, skipping nodes no relevance reaches. For RELEVANCE,
 * s->rules must be set (one per node). Records r_in/r_out per node. */
lrpx_status lrpx__exec_backward(lrpx_session *s, enum lrpx_phase phase, int seed_value,
                                const float *seed);

/* Which value an options struct explains: the graph output named (or the
 * first), or the logits before a trailing Softmax/LogSoftmax when
 * skip_softmax; it must be a computed float32 tensor. Needs a completed
 * forward pass. Returns the value index or -1 with the message set. */
int         lrpx__exec_seed_value(lrpx_session *s, const struct lrpx_lrp_options *opts);

/* Resolve which value to seed and build the seed for an options struct
 * (target class, predicted class or tensor; softmax skipping). For
 * RELEVANCE the one-hot is multiplied by the logit; for BACKWARD it is 1.
 * *seed is lrpx__malloc'ed. Needs a completed forward pass. */
lrpx_status lrpx__exec_seed(lrpx_session *s, const struct lrpx_lrp_options *opts,
                            enum lrpx_phase phase, int *seed_value, float **seed);

/* Make sure inputs are set and the forward pass is current. */
lrpx_status lrpx__session_ensure_run(lrpx_session *s);
/* A routine of `total` passes starts; one pass is done (calls the
 * session's progress function, if any). */
void lrpx__progress_begin(lrpx_session *s, int64_t total);
void lrpx__progress_step(lrpx_session *s);

/* Replace the data of constant (initializer) value v for this session's
 * passes, as if the model had been loaded with it: the plan is rebuilt and
 * treats it as a constant (weights stay "known" to the LRP rules). data:
 * the value's element count of floats, copied. data NULL restores the
 * model's own. Returns LRPX_OK, LRPX_EINVAL (not a float32 constant),
 * LRPX_ENOMEM. */
lrpx_status lrpx__session_set_const(lrpx_session *s, int v, const float *data);
/* Give dst (a session of the same model) src's constant replacements, and
 * only those. Returns what lrpx__session_set_const returns. */
lrpx_status lrpx__session_sync_consts(lrpx_session *dst, const lrpx_session *src);
/* The number of fed inputs (constant replacements not counted). */
int         lrpx__session_n_inputs(const lrpx_session *s);
/* The same for a backward pass, which needs every activation: a session
 * set to keep only outputs keeps everything from now on (re-planned). */
lrpx_status lrpx__session_ensure_run_all(lrpx_session *s);

/* The failure of a getter (a function taking a const session): writes the
 * session's message, which lrpx_session_errmsg then returns, and returns
 * status. The message is the one thing a getter writes; a session is used
 * by one thread at a time (include/lrpx.h, "Threads"). */
lrpx_status lrpx__session_getter_error(const lrpx_session *s, lrpx_status status,
                                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Value by name in the plan, or -1 with the session's message set. */
int lrpx__session_value_index(const lrpx_session *s, const char *name);

#endif /* LRPX_SESSION_H */
