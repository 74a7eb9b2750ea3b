/* The op descriptor. Every ONNX op lrpx implements is one file in src/ops/
 * that defines `const struct lrpx_op_def lrpx__op_<stem>` and one line in
 * op_list.h; see docs/adding-an-op.md. */
#ifndef LRPX_OP_H
#define LRPX_OP_H

#include "core/exec.h"
#include "core/op_list.h"

/* What an op is for the relevance pass: which rules and options reach it
 * (rule resolution, --rule selectors, rule texts) and how other ops treat
 * its output. docs/lrp.md has the table; the op file's header comment says
 * what its relevance function does. */
enum lrpx_lrp_class {
    LRPX_LRP_CLASS_OTHER = 0,      /* its own relevance function, no choice   */
    LRPX_LRP_CLASS_LINEAR,         /* a linear layer: the linear rules, by    */
                                   /* .linear (composites, zero ... flat)    */
    LRPX_LRP_CLASS_MAXLIKE,        /* max pools and max/min reductions: the   */
                                   /* max-pool modes (winner, ..., sum)       */
    LRPX_LRP_CLASS_PROPORTIONAL,   /* sums of contributions: R split in       */
                                   /* proportion, stabilised by rule->stab    */
    LRPX_LRP_CLASS_GATE,           /* a squashing activation: as a Mul        */
                                   /* operand it is a gate and gets no R;     */
                                   /* also an activation (below)              */
    LRPX_LRP_CLASS_ACTIVATION,     /* an element-wise nonlinearity: the       */
                                   /* activation rules (pass, taylor)         */
    LRPX_LRP_CLASS_SOFTMAX,        /* Softmax inside the network: taylor,     */
                                   /* block                                    */
    LRPX_LRP_CLASS_NORM,           /* LayerNormalization: norm, pass          */
    LRPX_LRP_CLASS_COUNT
};

/* Which layer map of a composite a linear op takes (Zennit's
 * Convolution and Dense layer classes). */
enum lrpx_layer_kind {
    LRPX_LAYER_CONV = 0,
    LRPX_LAYER_DENSE,
    LRPX_LAYER_COUNT
};

/* Output channel of each weight element of a linear layer, for merging a
 * per-channel affine map that follows it (BatchNormalization) into the
 * weight: element i belongs to channel lrpx__chan_of(l, i) of n_c. */
struct lrpx_chan_layout {
    int64_t inner;        /* elements per (channel, outer position) run  */
    int64_t per;          /* channels per group                          */
    int64_t group_span;   /* leading-axis entries per group; 0: none     */
    int64_t n_c;          /* channels in all                             */
};

static inline int64_t
lrpx__chan_of(const struct lrpx_chan_layout *l, int64_t i)
{
    int64_t c = (i / l->inner) % l->per;
    if (l->group_span > 0)
        c += i / (l->inner * l->per) / l->group_span * l->per;
    return c;
}

/* For linear layers (Conv, ConvTranspose, Gemm, MatMul): the pieces the
 * LRP rule kernels in src/lrp/ and the graph passes combine. `in` is the
 * data input, `w` the (possibly modified) weight with the shape of the
 * weight input. */
struct lrpx_linear_def {
    /* the inputs' usual roles, as the graph passes see them: data, weight,
     * bias (-1: the op has no bias input). A plan may swap data and weight
     * (struct lrpx_linear_roles in core/linear.h, set from these by
     * lrpx__linear_roles_init). */
    int in_index;
    int w_index;
    int b_index;
    enum lrpx_layer_kind kind;
    /* out = f(in; w), no bias; out has the shape of output 0 */
    void (*apply)(struct lrpx_exec *x, const struct lrpx_node *n,
                  const float *in, const float *w, float *out, void *scratch);
    /* gin = J^T gout for f(.; w) (overwrites gin, shape of the data input) */
    void (*apply_t)(struct lrpx_exec *x, const struct lrpx_node *n,
                    const float *gout, const float *w, float *gin, void *scratch);
    /* out += bias, broadcast as the op does (b has the bias input's shape) */
    void (*add_bias)(struct lrpx_exec *x, const struct lrpx_node *n,
                     const float *b, float *out);
    /* optional: true when apply and apply_t, given the weight with key
     * x->lrp_wkey's value `key` (core/exec.h), use forms of it prepared
     * earlier in the plan and no longer read the weight itself (the rules
     * then skip computing that weight variant) */
    bool (*prepared)(struct lrpx_exec *x, const struct lrpx_node *n, uint64_t key);
    /* scratch bytes apply/apply_t need (prepare must have requested it) */
    size_t (*scratch_bytes)(struct lrpx_exec *x, const struct lrpx_node *n);
    /* factors the op applies to the weight and to the bias term (Gemm's
     * alpha and beta); NULL: 1 */
    double (*weight_scale)(const struct lrpx_node *n);
    double (*bias_scale)(const struct lrpx_node *n);
    /* channel layout of weight w when the data is input in_index and the
     * output has rank out_rank (channels on axis 1); false when the layer
     * has no per-output-channel weight slices there. NULL: never. */
    bool (*channel_layout)(const struct lrpx_node *n, const struct lrpx_tensor *w,
                           int in_index, int out_rank, struct lrpx_chan_layout *l);
};

struct lrpx_op_def {
    const char *onnx_name;          /* ONNX op_type, e.g. "Conv"                  */
    int         since_version;      /* lowest opset this implementation accepts   */
    uint8_t     n_inputs_min;       /* inputs 0..min-1 are required: the planner
                                       refuses an empty name there            */
    uint8_t     n_inputs_max;
    uint8_t     n_outputs_min;
    uint8_t     n_outputs_max;

    /* per plan: parse attributes into params, check dtypes, set output
     * shapes, request scratch */
    lrpx_status (*prepare)(struct lrpx_exec *x, const struct lrpx_node *n);
    /* inference: read inputs, write preallocated outputs; must not allocate */
    lrpx_status (*forward)(struct lrpx_exec *x, const struct lrpx_node *n);
    /* gradient: add J^T * back(outputs) into back(inputs) that are non-NULL;
     * NULL = the op is not differentiable here (an error on the path) */
    lrpx_status (*backward)(struct lrpx_exec *x, const struct lrpx_node *n);
    /* relevance: add R(inputs) from R(outputs); NULL = cannot be explained
     * (an error naming the node, never a silent pass-through) */
    lrpx_status (*relevance)(struct lrpx_exec *x, const struct lrpx_node *n);
    /* linear layers only (lrp_class LINEAR), else NULL */
    const struct lrpx_linear_def *linear;

    /* ---- what the passes need to know ---- */
    enum lrpx_lrp_class lrp_class;
    /* the output normalises scores (Softmax, LogSoftmax): an explanation of
     * the graph output starts at its input, the logits */
    bool output_normalizer;
    /* output element i is a function of element i of each input (after
     * broadcasting): the transformer pattern pass (src/graph/patterns.c)
     * follows such nodes when it gathers a GELU or a LayerNorm */
    bool elementwise;
    /* node n computes the identity at inference (Identity; Dropout outside
     * training mode): the graph passes remove it. NULL: never. */
    bool (*inference_identity)(const struct lrpx_graph *g, const struct lrpx_node *n);
};

enum lrpx_op {
#define X(tag, stem) LRPX_OP_##tag,
    LRPX_OP_LIST(X)
#undef X
    LRPX_OP_COUNT
};

#define X(tag, stem) extern const struct lrpx_op_def lrpx__op_##stem;
LRPX_OP_LIST(X)
#undef X

extern const struct lrpx_op_def *const lrpx__op_table[LRPX_OP_COUNT];

/* An opset that admits every implementation (rule selectors name op types
 * without a model). */
#define LRPX_OPSET_ANY INT64_MAX

/* Op for an ONNX op_type at the model's opset, or -1. */
int lrpx__op_lookup(const char *op_type, int64_t opset);
/* "A, B, C" of the ops of class c (kind: with LINEAR, only that layer
 * kind; -1 any), for messages and help; returns buf. */
const char *lrpx__op_names(enum lrpx_lrp_class c, int kind, char *buf, size_t size);
/* The op of node n is of class c (false for unsupported ops). */
static inline bool
lrpx__node_is(const struct lrpx_node *n, enum lrpx_lrp_class c)
{
    return n->def && n->def->lrp_class == c;
}

/* ---- shared relevance/backward helpers (src/exec/backward.c) ---- */

/* Relevance (or gradient) of output 0 added unchanged to input 0: for
 * element-wise activations and ops that only move or reshape data where
 * output element i comes from input element i (same count). */
lrpx_status lrpx__back_identity(struct lrpx_exec *x, const struct lrpx_node *n);

#endif /* LRPX_OP_H */
