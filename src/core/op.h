/* The op descriptor. Every ONNX op lrpx implements is one file in src/ops/
 * that defines `const struct lrpx_op_def lrpx__op_<stem>` and one line in
 * op_list.h; see docs/adding-an-op.md. */
#ifndef LRPX_OP_H
#define LRPX_OP_H

#include "core/exec.h"
#include "core/op_list.h"

/* For linear layers (Conv, ConvTranspose, Gemm, MatMul): the pieces the
 * LRP rule kernels in src/lrp/ combine. `in` is the data input, `w` the
 * (possibly modified) weight with the shape of input w_index. */
struct lrpx_linear_def {
    int in_index;        /* data input                           */
    int w_index;         /* weight input (must be constant)       */
    int b_index;         /* bias input, -1 when the op has none   */
    /* out = f(in; w), no bias; out has the shape of output 0 */
    void (*apply)(struct lrpx_exec *x, const struct lrpx_node *n,
                  const float *in, const float *w, float *out, void *scratch);
    /* gin = J^T gout for f(.; w) (overwrites gin, shape of the data input) */
    void (*apply_t)(struct lrpx_exec *x, const struct lrpx_node *n,
                    const float *gout, const float *w, float *gin, void *scratch);
    /* out += bias, broadcast as the op does (b has the bias input's shape) */
    void (*add_bias)(struct lrpx_exec *x, const struct lrpx_node *n,
                     const float *b, float *out);
    /* scratch bytes apply/apply_t need (prepare must have requested it) */
    size_t (*scratch_bytes)(struct lrpx_exec *x, const struct lrpx_node *n);
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
    /* linear layers only, else NULL */
    const struct lrpx_linear_def *linear;
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

/* Op for an ONNX op_type at the model's opset, or -1. */
int lrpx__op_lookup(const char *op_type, int64_t opset);

/* ---- shared relevance/backward helpers (src/exec/backward.c) ---- */

/* Relevance (or gradient) of output 0 added unchanged to input 0: for
 * element-wise activations and ops that only move or reshape data where
 * output element i comes from input element i (same count). */
lrpx_status lrpx__back_identity(struct lrpx_exec *x, const struct lrpx_node *n);

#endif /* LRPX_OP_H */
