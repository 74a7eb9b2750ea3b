/* lrpx — run ONNX models and explain their predictions with layer-wise
 * relevance propagation (Montavon, Samek, Müller 2017).
 *
 * Worked example (error handling shortened):
 *
 *     lrpx_model *model;
 *     if (lrpx_model_load_file("net.onnx", NULL, &model) != LRPX_OK) {
 *         fprintf(stderr, "%s\n", lrpx_model_errmsg(model));
 *         lrpx_model_free(model);
 *         return 1;
 *     }
 *     lrpx_session *s;
 *     lrpx_session_init(model, &s);
 *     int64_t dims[4] = {1, 1, 28, 28};
 *     lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 4, dims, pixels);
 *     lrpx_session_run(s);                       // forward pass
 *     lrpx_tensor_view logits;
 *     lrpx_session_output(s, 0, &logits);        // owned by s
 *
 *     struct lrpx_lrp_options lo;
 *     lrpx_lrp_options_default(&lo);             // composite epsilon_plus
 *     lrpx_session_explain(s, &lo);              // reverse-topological LRP
 *     lrpx_tensor_view rel;
 *     lrpx_session_relevance(s, NULL, &rel);     // same shape as the input
 *
 *     lrpx_session_free(s);
 *     lrpx_model_free(model);
 *
 * Every function that can fail returns an lrpx_status (docs/errors.md). The
 * message that goes with it is read from the handle (lrpx_model_errmsg,
 * lrpx_session_errmsg; a failed session getter sets it too), or, for
 * functions without a handle, written into the caller's (errbuf, errlen):
 * the message on failure, "" on success, cut to errlen bytes and always
 * terminated; errbuf may be NULL. The library never exits or aborts on bad
 * input.
 *
 * Threads: a loaded lrpx_model is never written again, so any number of
 * threads may create and use sessions on the same model at once (free the
 * model only after its last session). An lrpx_session must be used by one
 * thread at a time; different sessions, of the same model or of different
 * ones, may run on different threads concurrently. Loading models, and every
 * function without a handle (status text, option defaults, images, .npy
 * files), may be called from any thread. A session gives the same bits
 * whichever thread calls it and whatever other sessions run meanwhile
 * (docs/performance.md, "Determinism").
 */
#ifndef LRPX_H
#define LRPX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif /* __cplusplus */

#ifndef LRPX_API
#  if defined(__GNUC__)
#    define LRPX_API __attribute__((visibility("default"))) extern
#  else
#    define LRPX_API extern
#  endif
#endif

/* ---- status codes ---- */

/* One list defines each code, its symbol and its text; nothing can drift. */
#define LRPX_STATUS_MAP(X)                                               \
    X(OK,           "success")                                         \
    X(ENOMEM,       "out of memory")                                   \
    X(EIO,          "cannot read or write file")                       \
    X(EPARSE,       "malformed ONNX model")                            \
    X(EINVAL,       "invalid argument")                                \
    X(EUNSUPPORTED, "unsupported operator, attribute, opset or dtype") \
    X(ESHAPE,       "tensor shape mismatch")                           \
    X(ELIMIT,       "model exceeds a configured limit")                \
    X(EIMAGE,       "image decode or encode failed")

typedef enum lrpx_status {
#define X(name, text) LRPX_##name,
    LRPX_STATUS_MAP(X)
#undef X
    LRPX_STATUS_COUNT
} lrpx_status;                          /* LRPX_OK == 0; errors are > 0 */

LRPX_API const char *lrpx_status_str(lrpx_status status);   /* static text, never free */
LRPX_API const char *lrpx_status_name(lrpx_status status);  /* "LRPX_EPARSE"           */

/* ---- version and build ---- */

/* Semantic versioning of the library's ABI (CHANGELOG.md): PATCH changes
 * nothing in this header; MINOR only adds (functions, enum values before
 * a *_COUNT, nothing moved); MAJOR may break. Before 1.0 a MINOR bump may
 * break, so the soname is liblrpx.so.0.MINOR; from 1.0 on, liblrpx.so.MAJOR.
 * meson.build checks that these match the project version. */
#define LRPX_VERSION_MAJOR 0
#define LRPX_VERSION_MINOR 2
#define LRPX_VERSION_PATCH 0
#define LRPX_VERSION_NUMBER \
    (LRPX_VERSION_MAJOR * 10000 + LRPX_VERSION_MINOR * 100 + LRPX_VERSION_PATCH)

/* The version of the library that is running ("0.2.0"; static text) and
 * its number, to compare with LRPX_VERSION_NUMBER of the header a program
 * was built with. */
LRPX_API const char *lrpx_version(void);
LRPX_API int         lrpx_version_number(void);
/* The ONNX opsets of the default domain: *lo the lowest any operator
 * implementation accepts, *hi the newest that the ONNX backend tests lrpx
 * is checked against cover (docs/conformance.md). Newer models still load
 * when every operator they use is implemented. Either may be NULL. */
LRPX_API void        lrpx_opset_range(int64_t *lo, int64_t *hi);
/* The optional parts of this build and the CPU it runs on, as words
 * separated by spaces: "jpeg png simd:avx2+fma" (simd:baseline when the
 * vector copies are not built or the CPU lacks AVX2+FMA). Static text. */
LRPX_API const char *lrpx_features(void);

/* ---- element types ---- */

/* Values follow onnx.TensorProto.DataType so files map one to one. */
typedef enum lrpx_dtype {
    LRPX_DTYPE_UNDEFINED = 0,
    LRPX_DTYPE_FLOAT32   = 1,
    LRPX_DTYPE_UINT8     = 2,
    LRPX_DTYPE_INT8      = 3,
    LRPX_DTYPE_UINT16    = 4,
    LRPX_DTYPE_INT16     = 5,
    LRPX_DTYPE_INT32     = 6,
    LRPX_DTYPE_INT64     = 7,
    LRPX_DTYPE_STRING    = 8,
    LRPX_DTYPE_BOOL      = 9,
    LRPX_DTYPE_FLOAT16   = 10,
    LRPX_DTYPE_FLOAT64   = 11,
    LRPX_DTYPE_UINT32    = 12,
    LRPX_DTYPE_UINT64    = 13,
    LRPX_DTYPE_COUNT
} lrpx_dtype;

LRPX_API const char *lrpx_dtype_name(lrpx_dtype dtype);  /* "float32", "?" if unknown */
LRPX_API size_t      lrpx_dtype_size(lrpx_dtype dtype);  /* bytes, 0 if unsupported  */

#define LRPX_MAX_RANK 8

/* A borrowed view of a tensor. The data pointer is owned by the handle it
 * came from; see each getter for how long it stays valid. */
typedef struct lrpx_tensor_view {
    lrpx_dtype  dtype;
    int         rank;
    int64_t     dims[LRPX_MAX_RANK];
    int64_t     n_elems;
    const void *data;
} lrpx_tensor_view;

/* Declared type of a graph input or output. A dimension that the file leaves
 * symbolic or unknown is -1, with its name (if any) in dim_params[i]. */
typedef struct lrpx_value_info {
    const char *name;
    lrpx_dtype  dtype;
    int         rank;                     /* -1 when the file gives no shape */
    int64_t     dims[LRPX_MAX_RANK];
    const char *dim_params[LRPX_MAX_RANK];
} lrpx_value_info;

/* ---- model ---- */

typedef struct lrpx_model   lrpx_model;   /* immutable after load: graph + weights  */
typedef struct lrpx_session lrpx_session; /* one run: activations, gradients, relevance */

/* Limits for untrusted models (LRPX_ELIMIT when exceeded) and graph passes. */
struct lrpx_load_options {
    int64_t max_file_bytes;    /* model file, default 2 GiB                    */
    int64_t max_nodes;         /* default 1,000,000                            */
    int64_t max_tensor_bytes;  /* one tensor, default 1 GiB                    */
    int64_t max_total_bytes;   /* weights + one session's activations and
                                  gradient/relevance buffers, default 4 GiB;
                                  <= 0: no limit (docs/errors.md, "Limits") */
    int     fold_batchnorm;    /* default 1: BatchNorm into preceding Conv/Gemm */
    int     allow_unsupported; /* default 0; 1 loads graphs with unsupported ops
                                  for inspection only (lrpx info): sessions on
                                  such a model fail with LRPX_EUNSUPPORTED   */
    /* Model randomisation, the sanity check of Adebayo et al. 2018: the
     * weights and biases of the last randomize_layers linear layers (Conv,
     * ConvTranspose, Gemm, MatMul with a constant weight; counted from the
     * output in execution order, after BatchNorm folding) are drawn again
     * from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default layer
     * initialisation; not its random numbers), from randomize_seed. 0
     * (default): none; -1: all. lrpx_model_n_randomized tells how many were. */
    int      randomize_layers;
    uint64_t randomize_seed;
};

LRPX_API void lrpx_load_options_default(struct lrpx_load_options *opts);

/* CONSTRUCTOR: lrpx_model. opts may be NULL for the defaults. On failure *out
 * still receives a handle that carries the message (lrpx_model_errmsg),
 * except on LRPX_ENOMEM where *out may be NULL. Always release *out with
 * lrpx_model_free(). External tensor data is read relative to the model's
 * folder and may not leave it.
 * Returns: LRPX_OK, LRPX_EIO, LRPX_EPARSE, LRPX_EUNSUPPORTED, LRPX_ESHAPE,
 * LRPX_ELIMIT or LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_model_load_file(const char *path,
                                          const struct lrpx_load_options *opts,
                                          lrpx_model **out);
/* CONSTRUCTOR: lrpx_model from bytes in memory. base_dir is where external
 * data lives (NULL refuses external data). The buffer is not kept. */
LRPX_API lrpx_status lrpx_model_load_buffer(const void *buf, size_t len,
                                            const char *base_dir,
                                            const struct lrpx_load_options *opts,
                                            lrpx_model **out);
/* Owned by model; valid until the next call on it. Never NULL for a handle. */
LRPX_API const char *lrpx_model_errmsg(const lrpx_model *model);
LRPX_API void        lrpx_model_free(lrpx_model *model);   /* NULL is a no-op */

/* Introspection. Strings are owned by the model and live as long as it.
 * The *_info getters return LRPX_EINVAL for i out of range and leave no
 * message: a loaded model is never written again (threads may share it). */
LRPX_API int         lrpx_model_n_inputs(const lrpx_model *model);   /* fed inputs only */
LRPX_API int         lrpx_model_n_outputs(const lrpx_model *model);
LRPX_API lrpx_status lrpx_model_input_info(const lrpx_model *model, int i, lrpx_value_info *out);
LRPX_API lrpx_status lrpx_model_output_info(const lrpx_model *model, int i, lrpx_value_info *out);
/* The files the model was read from, for callers that must not write over
 * an input (compare st_dev and st_ino from stat, not names): for
 * lrpx_model_load_file, file 0 is the model itself; then every external
 * data file the loader opened, each once, in the order first read. Paths
 * are resolved (realpath: absolute, no symbolic links). A model from
 * lrpx_model_load_buffer lists its external data files only.
 * lrpx_model_file returns NULL when i is out of range. */
LRPX_API int         lrpx_model_n_files(const lrpx_model *model);
LRPX_API const char *lrpx_model_file(const lrpx_model *model, int i);
LRPX_API int64_t     lrpx_model_opset(const lrpx_model *model);      /* default domain */
LRPX_API int64_t     lrpx_model_n_params(const lrpx_model *model);   /* float weights  */
/* Linear layers that lrpx_load_options.randomize_layers re-initialised. */
LRPX_API int         lrpx_model_n_randomized(const lrpx_model *model);
/* Nodes in the order of the file (n_nodes_file) or after the graph passes
 * (n_nodes). op_type is the ONNX name; supported is 0 when lrpx has no
 * implementation for it at the model's opset. */
typedef struct lrpx_node_info {
    const char *name;
    const char *op_type;
    int         supported;
} lrpx_node_info;
LRPX_API int         lrpx_model_n_nodes(const lrpx_model *model, int after_passes);
LRPX_API lrpx_status lrpx_model_node_info(const lrpx_model *model, int after_passes, int i,
                                          lrpx_node_info *out);

/* ---- session ---- */

/* CONSTRUCTOR: lrpx_session over a loaded model (the model must outlive it).
 * Symbolic dimensions are bound when inputs are set. */
LRPX_API lrpx_status lrpx_session_init(const lrpx_model *model, lrpx_session **out);
LRPX_API const char *lrpx_session_errmsg(const lrpx_session *session);
LRPX_API void        lrpx_session_free(lrpx_session *session);  /* NULL is a no-op */

/* METHOD of lrpx_session: copy an input. name NULL means the first fed input.
 * A float64 input is converted to the declared type. Symbolic dimensions are
 * bound from dims; a mismatch with a static dimension is LRPX_ESHAPE. */
LRPX_API lrpx_status lrpx_session_set_input(lrpx_session *session, const char *name,
                                            lrpx_dtype dtype, int rank,
                                            const int64_t *dims, const void *data);
/* METHOD: forward pass over all graph outputs. */
LRPX_API lrpx_status lrpx_session_run(lrpx_session *session);
/* METHOD: output i of the last run. The view is owned by the session and valid
 * until the next set_input, run or free. The getters of a session return
 * LRPX_OK or LRPX_EINVAL (no pass yet, an index out of range, an unknown
 * name, NULL out), with the reason in lrpx_session_errmsg. */
LRPX_API lrpx_status lrpx_session_output(const lrpx_session *session, int i,
                                         lrpx_tensor_view *out);
/* What a run keeps. LRPX_KEEP_ALL (the default): every activation, for
 * lrpx_session_value and the backward passes. LRPX_KEEP_OUTPUTS: only the
 * graph outputs; the other activations share buffers as their lifetimes
 * allow and an activation fused into the layer that computes it (Relu,
 * Clip after a Conv) takes that layer's buffer, so a run touches much less
 * memory; lrpx_session_value of any other value then fails. explain,
 * gradient and the attribution methods still work: they switch the
 * session back to LRPX_KEEP_ALL (re-planned once). */
typedef enum lrpx_keep {
    LRPX_KEEP_ALL = 0,
    LRPX_KEEP_OUTPUTS,
    LRPX_KEEP_COUNT
} lrpx_keep;
/* METHOD: set what the following runs keep. Returns LRPX_OK or
 * LRPX_EINVAL (not a lrpx_keep). */
LRPX_API lrpx_status lrpx_session_set_keep(lrpx_session *session, lrpx_keep keep);
/* METHOD: any value of the last run by name (intermediate activations too,
 * unless the session keeps only outputs: lrpx_session_set_keep). */
LRPX_API lrpx_status lrpx_session_value(const lrpx_session *session, const char *name,
                                        lrpx_tensor_view *out);

/* METHOD: threads for this session's passes (OpenBLAS's sgemm and lrpx's
 * own loops: im2col, depthwise convolutions, pooling, element-wise ops).
 * n_threads <= 0 restores the default: the environment variable
 * LRPX_NUM_THREADS, else OPENBLAS_NUM_THREADS, else the online CPUs. Results
 * do not depend on the thread count: lrpx's loops compute every element the
 * same way, and matrix products are split into blocks of a fixed size
 * (docs/performance.md, "Determinism").
 * OpenBLAS's own count is process-wide:
 * a pass sets it to 1 when it is not (each block of a matrix product runs
 * on one of the session's threads). */
LRPX_API lrpx_status lrpx_session_set_threads(lrpx_session *session, int n_threads);
LRPX_API int         lrpx_session_threads(const lrpx_session *session);
/* METHOD: batch invariance. With on = 1, the products whose rows are
 * samples (Gemm and MatMul with the data as the first operand, the usual
 * dense layer) are made in blocks of 16 rows, each one product of exactly
 * 16 rows (the last one padded with zeros), so a sample's outputs,
 * gradient and relevance are the same bits whatever batch it is in and at
 * whatever position, batch 1 included (convolutions already run per
 * sample). With a fixed thread count, the results of a data set then do
 * not depend on how it is cut into batches (lrpx batch sets it, with one
 * thread per session). Costs up to 15 padded rows per dense product;
 * default 0. Returns LRPX_OK. */
LRPX_API lrpx_status lrpx_session_set_batch_invariant(lrpx_session *session, int on);

/* METHOD: a function that the session's routines of many passes (the
 * translation trick, sliding windows) call after each pass with the
 * passes done and their total, for progress bars. It is called on the
 * thread that called the routine, between passes; fn NULL turns it off. */
typedef void (*lrpx_progress_fn)(void *user, int64_t done, int64_t total);
LRPX_API void        lrpx_session_set_progress(lrpx_session *session, lrpx_progress_fn fn,
                                               void *user);

/* Profiling. When the environment variable LRPX_PROFILE is 1 at
 * lrpx_session_init, the session adds up the wall time of every node over
 * all its forward passes (constant-folded nodes excluded). by_node 0: one
 * entry per op type (name = op type); 1: one per node (name = node name, ""
 * when the file gives none), in execution order. Fills up to max entries and
 * returns how many there are (0 when profiling is off). Strings are owned by
 * the model. */
typedef struct lrpx_profile_entry {
    const char *name;
    const char *op_type;
    int64_t     n_calls;
    double      total_ms;
} lrpx_profile_entry;
LRPX_API int lrpx_session_profile(const lrpx_session *session, int by_node,
                                  lrpx_profile_entry *out, int max);

/* ---- explanations ---- */

/* Rules: for linear layers (Conv, ConvTranspose, Gemm, MatMul with a
 * constant operand), see docs/lrp.md; then the rules of the other nodes of
 * transformers (docs/transformers.md): products of two computed values,
 * Softmax, LayerNorm, element-wise nonlinearities. `pass` fits linear
 * layers, norms and activations. */
#define LRPX_RULE_MAP(X)                                 \
    X(ZERO,       "zero")       /* LRP-0               */ \
    X(EPSILON,    "epsilon")    /* LRP-epsilon         */ \
    X(GAMMA,      "gamma")      /* LRP-gamma           */ \
    X(ALPHABETA,  "alphabeta")  /* LRP-alpha-beta      */ \
    X(ZPLUS,      "zplus")      /* z+ = alpha1-beta0   */ \
    X(ZBOX,       "zbox")       /* z^B, bounded input  */ \
    X(WSQUARE,    "wsquare")    /* w^2                 */ \
    X(FLAT,       "flat")       /* flat                */ \
    X(PASS,       "pass")       /* relevance unchanged */ \
    X(UNIFORM,    "uniform")    /* AttnLRP: A.B, half each        */ \
    X(CONST_ATTN, "const-attn") /* CP-LRP: attention a constant   */ \
    X(TAYLOR,     "taylor")     /* x . J^T (R / y)                */ \
    X(BLOCK,      "block")      /* nothing passes                 */ \
    X(NORM,       "norm")       /* LayerNorm, sigma a constant    */

typedef enum lrpx_rule {
#define X(name, text) LRPX_RULE_##name,
    LRPX_RULE_MAP(X)
#undef X
    LRPX_RULE_COUNT
} lrpx_rule;

LRPX_API const char *lrpx_rule_name(lrpx_rule rule);

/* Relevance of max pools and max/min reductions (MaxPool, GlobalMaxPool,
 * ReduceMax, ReduceMin), see docs/lrp.md. */
#define LRPX_MAXPOOL_MAP(X)                                                 \
    X(WINNER,       "winner")       /* all relevance to the first maximum */ \
    X(WINNER_SPLIT, "winner-split") /* ties share the relevance evenly    */ \
    X(SUM,          "sum")          /* as sum-pool: in proportion to x    */

typedef enum lrpx_maxpool_mode {
#define X(name, text) LRPX_MAXPOOL_##name,
    LRPX_MAXPOOL_MAP(X)
#undef X
    LRPX_MAXPOOL_COUNT
} lrpx_maxpool_mode;

LRPX_API const char *lrpx_maxpool_mode_name(lrpx_maxpool_mode mode);

/* The rule-spec language as data, from the tables the parser uses: every
 * linear rule, max-pool mode, selector and composite with its syntax, one
 * line of help and what it applies to. `lrpx explain --list-rules` prints
 * it; help texts and docs/lrp.md's tables come from it. */
typedef enum lrpx_lrp_doc_kind {
    LRPX_LRP_DOC_RULE = 0,        /* a rule of linear layers               */
    LRPX_LRP_DOC_MAXPOOL,         /* a max-pool mode                       */
    LRPX_LRP_DOC_SELECTOR,        /* the SELECTOR of SELECTOR=RULE          */
    LRPX_LRP_DOC_COMPOSITE,       /* a composite (rule preset)              */
    LRPX_LRP_DOC_COUNT
} lrpx_lrp_doc_kind;

#define LRPX_LRP_DOC_TEXT_MAX 256
typedef struct lrpx_lrp_doc {
    lrpx_lrp_doc_kind kind;
    const char       *syntax;     /* "epsilon[:EPS]", "winner", "index:N", ... */
    const char       *help;       /* one sentence; static text                */
    char              applies[LRPX_LRP_DOC_TEXT_MAX];   /* the ops it reaches, */
                                  /* or a composite's layer map              */
} lrpx_lrp_doc;
/* Entry i (0-based, rules first, then max-pool modes, selectors,
 * composites). Returns LRPX_OK, or LRPX_EINVAL past the last entry or for
 * a NULL out. */
LRPX_API lrpx_status lrpx_lrp_doc_entry(int i, lrpx_lrp_doc *out);

/* How the relevance is seeded at the output. */
typedef enum lrpx_seed {
    LRPX_SEED_PREDICTED = 0,      /* one-hot at the arg max, times the logit */
    LRPX_SEED_TARGET,             /* one-hot at target, times the logit      */
    LRPX_SEED_TENSOR,             /* seed_data: full output relevance         */
    LRPX_SEED_TARGETS,            /* targets[b] per sample, times its logit   */
} lrpx_seed;

/* Sizes of the fixed arrays in struct lrpx_lrp_options. */
#define LRPX_LRP_COMPOSITE_MAX 48    /* bytes of composite, with its '\0'         */
#define LRPX_LRP_MAX_OVERRIDES 64    /* "SELECTOR=RULE" overrides                  */
#define LRPX_LRP_OVERRIDE_MAX  128   /* bytes of one override, with its '\0'      */
#define LRPX_LRP_MAX_BOX_C     16    /* channels of box_low_own / box_high_own and
                                        of per-channel zbox bounds in a rule spec
                                        or rule file                              */

/* Options of lrpx_session_explain. Fill with lrpx_lrp_options_default,
 * then set fields or use the helpers below (composite by name, "SEL=RULE"
 * overrides, a JSON rule file). docs/lrp.md has the rules and composites. */
struct lrpx_lrp_options {
    char           composite[LRPX_LRP_COMPOSITE_MAX];   /* "epsilon_plus" (default), ... */
    /* "SELECTOR=RULE" overrides applied after the composite, later ones
     * winning; see docs/lrp.md. The strings are copied. */
    int            n_overrides;
    char           overrides[LRPX_LRP_MAX_OVERRIDES][LRPX_LRP_OVERRIDE_MAX];
    /* z^B bounds of the first layer for epsilon_gamma_box, in the model's
     * input space: scalars (default NaN = unset, which that composite
     * refuses), or n_box_c per-channel values (axis 1 of the input) from
     * box_low_c/box_high_c (caller-owned) or, when those are NULL, from
     * box_low_own/box_high_own (at most LRPX_LRP_MAX_BOX_C; set by the
     * JSON loader). */
    double         box_low, box_high;
    const float   *box_low_c, *box_high_c;
    int            n_box_c;
    float          box_low_own[LRPX_LRP_MAX_BOX_C], box_high_own[LRPX_LRP_MAX_BOX_C];
    lrpx_maxpool_mode maxpool;
    int            zero_bias;         /* 1: biases ignored by the rules        */
    lrpx_seed      seed;
    int64_t        target;            /* for LRPX_SEED_TARGET                  */
    const float   *seed_data;         /* for LRPX_SEED_TENSOR, output-sized     */
    int64_t        seed_n_elems;
    int            skip_softmax;      /* default 1: explain the logits          */
    const char    *output_name;       /* NULL: the first graph output           */
    /* the stabiliser e of every epsilon-type split that is not a linear
     * layer's epsilon (Add, ReduceMean, pools, the norm and uniform rules)
     * and of the non-epsilon linear rules: stab(d) = d + e sign(d). NaN
     * (the default): the composite's, 1e-6 (0 for cp_lrp). */
    double         stabilizer;
    const int64_t *targets;           /* for LRPX_SEED_TARGETS: n_targets       */
    int64_t        n_targets;         /* classes, one per sample (caller-owned) */
};

LRPX_API void lrpx_lrp_options_default(struct lrpx_lrp_options *opts);
/* The i-th composite name ("epsilon_plus", ...), NULL past the end. */
LRPX_API const char *lrpx_lrp_composite_name(int i);
/* METHOD of struct lrpx_lrp_options: choose a composite by name.
 * Returns: LRPX_OK or LRPX_EINVAL (unknown; errbuf lists the names). */
LRPX_API lrpx_status lrpx_lrp_options_set_composite(struct lrpx_lrp_options *opts,
                                                    const char *name, char *errbuf,
                                                    size_t errlen);
/* METHOD: check and append one "SELECTOR=RULE" override. SELECTOR: *, an
 * ONNX op type (Conv, Gemm, MaxPool, ...), first, index:N (N-th linear
 * layer, 0-based), name:NODE. RULE: zero, epsilon[:EPS], gamma[:G],
 * alphabeta:A,B, zplus, zbox:LOW,HIGH (or zbox:[l1,..],[h1,..] per
 * channel), wsquare, flat, pass; for max pools winner, winner-split, sum.
 * errbuf (may be NULL) receives a message naming the bad part.
 * Returns: LRPX_OK or LRPX_EINVAL (bad syntax or values, alpha - beta != 1,
 * a rule that does not fit the op type, more than LRPX_LRP_MAX_OVERRIDES
 * overrides, a spec of LRPX_LRP_OVERRIDE_MAX bytes or more). */
LRPX_API lrpx_status lrpx_lrp_options_parse_rule(struct lrpx_lrp_options *opts,
                                                 const char *spec, char *errbuf,
                                                 size_t errlen);
/* "winner", "winner-split" or "sum" to a mode. Returns LRPX_OK or
 * LRPX_EINVAL. */
LRPX_API lrpx_status lrpx_lrp_options_parse_maxpool(const char *text, lrpx_maxpool_mode *mode);
/* METHOD: apply a JSON rule file on top of opts (all or nothing):
 *     {"composite": "epsilon_gamma_box", "low": -2.12, "high": 2.64,
 *      "maxpool": "sum", "zero_bias": false,
 *      "rules": [{"select": "Gemm", "rule": "epsilon:0.01"}, "first=flat"]}
 * Every key is optional; "low"/"high" may be arrays (per channel); unknown
 * keys are errors.
 * Returns: LRPX_OK, LRPX_EIO (cannot read, not a regular file), LRPX_EPARSE
 * (not JSON), LRPX_EINVAL (bad values, naming the key or rules[i]),
 * LRPX_ELIMIT (a file over 16 MiB), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_lrp_options_load_json(struct lrpx_lrp_options *opts, const char *path,
                                                char *errbuf, size_t errlen);
/* METHOD: the same from text (len bytes); name is used in messages. */
LRPX_API lrpx_status lrpx_lrp_options_parse_json(struct lrpx_lrp_options *opts, const char *text,
                                                 size_t len, const char *name, char *errbuf,
                                                 size_t errlen);

/* METHOD: run the forward pass (if not done for the current inputs) and
 * the reverse-topological relevance pass: rules resolved per node
 * (composite, then overrides), the seed at the output (one-hot times the
 * logit per sample, a trailing Softmax skipped), canonizers (bias Add and
 * BatchNormalization after a linear layer merged into it). opts NULL:
 * the defaults. Read the result with lrpx_session_relevance.
 * Returns: LRPX_OK; LRPX_EINVAL (bad options: unknown composite, rule,
 * target; the message names it); LRPX_EUNSUPPORTED (an op on the path
 * without a relevance rule, named); LRPX_ENOMEM; or a forward-pass error. */
LRPX_API lrpx_status lrpx_session_explain(lrpx_session *session,
                                          const struct lrpx_lrp_options *opts);
/* METHOD: relevance at a value after explain (NULL: the first fed input).
 * float32, shape of the value; owned by the session, valid until the next
 * set_input, run, explain, gradient or free. */
LRPX_API lrpx_status lrpx_session_relevance(const lrpx_session *session, const char *name,
                                            lrpx_tensor_view *out);
/* Per node: the rule used and the relevance that entered (sum over outputs)
 * and left it (sum over its inputs), for conservation reports. */
typedef struct lrpx_node_relevance {
    const char *name;
    const char *op_type;
    const char *rule;        /* "epsilon:1e-06", "pass", "sum", ...        */
    double      r_in;        /* sum of relevance at the node's outputs   */
    double      r_out;       /* sum of relevance it passed to its inputs  */
} lrpx_node_relevance;
/* Nodes the last relevance pass visited (0 before any), in visiting order
 * (reverse topological: i = 0 is the node next to the output). For a
 * BatchNormalization or bias Add merged into the layer before it the rule
 * reads "fused into NAME" and r_in == r_out. Strings live until the next
 * explain or free. Returns LRPX_OK or LRPX_EINVAL (i out of range; the
 * reason in lrpx_session_errmsg). */
LRPX_API int         lrpx_session_n_explained(const lrpx_session *session);
LRPX_API lrpx_status lrpx_session_explained_node(const lrpx_session *session, int i,
                                                 lrpx_node_relevance *out);
/* The class and logit that were explained for sample `sample` (cls -1 for
 * a tensor seed, whose sum is then *value). Returns LRPX_OK or LRPX_EINVAL
 * (no pass yet, sample out of range; the reason in lrpx_session_errmsg). */
LRPX_API lrpx_status lrpx_session_explained_output(const lrpx_session *session,
                                                   int64_t sample, int64_t *cls,
                                                   double *value);

/* METHOD: gradient (vector-Jacobian product) of the seeded output with
 * respect to every value; read it with lrpx_session_gradient_of. Uses
 * opts->seed/target/seed_data/output_name/skip_softmax only. */
LRPX_API lrpx_status lrpx_session_gradient(lrpx_session *session,
                                           const struct lrpx_lrp_options *opts);
LRPX_API lrpx_status lrpx_session_gradient_of(const lrpx_session *session, const char *name,
                                              lrpx_tensor_view *out);

/* ---- attribution methods (src/methods/, docs/methods.md) ---- */

/* Every way lrpx explains a prediction: name (as `lrpx explain --method`
 * takes it) and one line of help. The Captum-defined methods compute what
 * Captum 0.8.0 computes for the same settings (docs/methods.md).
 *         symbol                name                    help */
#define LRPX_ATTR_METHOD_MAP(X)                                                             \
    X(LRP,                  "lrp",                  "layer-wise relevance propagation "      \
      "(the LRP options' composite and rules)")                                             \
    X(GRADIENT,             "gradient",             "the gradient of the explained score")  \
    X(GRADIENT_X_INPUT,     "gradxinput",           "gradient times input "                 \
      "(Captum's InputXGradient)")                                                          \
    X(SALIENCY,             "saliency",             "absolute gradient (Captum's Saliency)")\
    X(SENSITIVITY,          "sensitivity",          "squared gradient (sensitivity "        \
      "analysis)")                                                                          \
    X(TAYLOR,               "taylor",               "simple Taylor decomposition at a "     \
      "root point found by a line search")                                                  \
    X(INTEGRATED_GRADIENTS, "integrated-gradients", "path integral of the gradient from a " \
      "baseline (Captum's IntegratedGradients)")                                            \
    X(SMOOTHGRAD,           "smoothgrad",           "mean map over noisy copies of the "    \
      "input (NoiseTunnel smoothgrad)")                                                     \
    X(SMOOTHGRAD_SQ,        "smoothgrad-sq",        "mean of the squared maps over noisy "  \
      "copies (smoothgrad_sq)")                                                             \
    X(VARGRAD,              "vargrad",              "variance of the maps over noisy "      \
      "copies (vargrad)")                                                                   \
    X(OCCLUSION,            "occlusion",            "score drop under a sliding patch, "    \
      "averaged over the patches (Captum's Occlusion)")                                     \
    X(FEATURE_ABLATION,     "feature-ablation",     "score drop when a feature group is "   \
      "replaced (Captum's FeatureAblation)")                                                \
    X(DECONVNET,            "deconvnet",            "gradient with max(0, g) at every Relu "\
      "(Captum's Deconvolution)")                                                           \
    X(GUIDED_BACKPROP,      "guided-backprop",      "gradient with max(0, g) behind every " \
      "Relu's mask (Captum's GuidedBackprop)")

typedef enum lrpx_attr_method {
#define X(name, text, help) LRPX_ATTR_##name,
    LRPX_ATTR_METHOD_MAP(X)
#undef X
    LRPX_ATTR_COUNT
} lrpx_attr_method;

/* "integrated-gradients" etc.; NULL out of range. Static text. */
LRPX_API const char *lrpx_attr_method_name(lrpx_attr_method method);
LRPX_API const char *lrpx_attr_method_help(lrpx_attr_method method);
/* Name to method. Returns LRPX_OK or LRPX_EINVAL (unknown name or NULL). */
LRPX_API lrpx_status lrpx_attr_method_parse(const char *name, lrpx_attr_method *method);

/* Quadrature rules of integrated gradients (Captum's `method`). */
#define LRPX_QUADRATURE_MAP(X)                     \
    X(GAUSS_LEGENDRE,    "gausslegendre")          \
    X(RIEMANN_LEFT,      "riemann_left")           \
    X(RIEMANN_RIGHT,     "riemann_right")          \
    X(RIEMANN_MIDDLE,    "riemann_middle")         \
    X(RIEMANN_TRAPEZOID, "riemann_trapezoid")

typedef enum lrpx_quadrature {
#define X(name, text) LRPX_QUADRATURE_##name,
    LRPX_QUADRATURE_MAP(X)
#undef X
    LRPX_QUADRATURE_COUNT
} lrpx_quadrature;

LRPX_API const char *lrpx_quadrature_name(lrpx_quadrature q);      /* NULL out of range */
LRPX_API lrpx_status lrpx_quadrature_parse(const char *name, lrpx_quadrature *q);
/* The n points of rule q on [0, 1] as integrated gradients uses them:
 * alphas[k] and weights[k] (n floats each, caller-owned), the float32
 * values Captum 0.8.0 computes (docs/methods.md: Gauss-Legendre nodes
 * rounded from float64; Riemann nodes as PyTorch's float32 linspace makes
 * them; Captum's trapezoid weights sum to (n-1)/n).
 * Returns: LRPX_OK or LRPX_EINVAL (n < 1, n < 2 for the Riemann rules,
 * n > 10000, an unknown rule, NULL arrays). */
LRPX_API lrpx_status lrpx_quadrature_points(lrpx_quadrature q, int n, float *alphas,
                                            float *weights);

/* Options of lrpx_session_attribute. Fill with lrpx_attr_options_default.
 * Tensors are caller-owned views that must stay valid during the call. */
struct lrpx_attr_options {
    lrpx_attr_method method;          /* default LRPX_ATTR_LRP                   */
    /* The explained output for every method (seed PREDICTED / TARGET /
     * TENSOR, target, output_name, skip_softmax); for LRP also the rules;
     * for taylor the input domain (box_low/high, per channel or scalar). */
    struct lrpx_lrp_options lrp;
    const char      *input_name;      /* NULL: the first fed input               */
    /* Methods that run many inputs (integrated gradients, the smoothgrad
     * family, occlusion, feature ablation, taylor) feed them through a
     * second session of the same model in batches of this many rows;
     * 0: 64. Batching does not change the mathematics. */
    int              internal_batch;

    /* integrated gradients */
    int              steps;           /* default 50                              */
    lrpx_quadrature  quadrature;      /* default GAUSS_LEGENDRE                  */
    double           baseline;        /* the baseline value when baseline_data   */
                                      /* is NULL (default 0)                     */
    lrpx_tensor_view baseline_data;   /* float32: the input's shape, one sample's */
                                      /* shape, or broadcastable (numpy rules)   */

    /* smoothgrad, smoothgrad-sq, vargrad */
    int              samples;         /* noisy copies per sample, default 50      */
    double           sigma;           /* noise std relative to max(x) - min(x) of */
                                      /* the sample, default 0.15               */
    uint64_t         seed;            /* of lrpx's generator, default 0           */
    lrpx_tensor_view noise;           /* float32 noise to add instead, data NULL: */
                                      /* draw it; [samples, sample shape] (the    */
                                      /* same for every sample) or [batch *       */
                                      /* samples, sample shape] (row b*samples+k) */
    lrpx_attr_method of;              /* the map averaged: GRADIENT, SALIENCY     */
                                      /* (default) or GRADIENT_X_INPUT           */

    /* occlusion: window shape and stride over one sample's axes (rank =
     * the input's rank - 1, in the input's axis order); patch_rank 0:
     * all channels and 1/8 of each other axis (at least 1), stride half the
     * window (at least 1) */
    int              patch_rank;
    int64_t          patch[LRPX_MAX_RANK];
    int64_t          patch_stride[LRPX_MAX_RANK];  /* 0 entries: 1             */
    double           fill;            /* occlusion and feature ablation: the     */
                                      /* replacement value, default 0            */

    /* feature ablation: integer group ids (int64, int32, uint8, int8 or
     * bool), broadcastable to the input; data NULL: every element is its
     * own group */
    lrpx_tensor_view feature_mask;

    /* taylor: at most this many gradient steps of the root search,
     * default 50 */
    int              root_iters;
};

LRPX_API void lrpx_attr_options_default(struct lrpx_attr_options *opts);

/* What a method found for one sample of the batch. */
typedef struct lrpx_attr_report {
    int64_t cls;          /* the explained class (-1 for a tensor seed)            */
    double  score;        /* the explained score F(x): the class logit, or for a   */
                          /* tensor seed the seed-weighted sum of the output       */
    double  sum;          /* the sum of the sample's attribution                   */
    double  ref_score;    /* integrated gradients: F(baseline); taylor: F(root);   */
                          /* NaN for the other methods                            */
    double  gap;          /* integrated gradients: sum - (F(x) - F(baseline)), the */
                          /* completeness gap (Captum's convergence delta);        */
                          /* taylor: sum - F(x), the residual; NaN otherwise       */
    double  distance;     /* taylor: |x - root| (Euclidean); NaN otherwise          */
    int64_t n_evals;      /* model evaluations (rows of forward or forward +       */
                          /* backward passes) spent on the sample                  */
} lrpx_attr_report;

/* METHOD of lrpx_session: explain the current input (set with
 * lrpx_session_set_input; the forward pass is run if needed) with
 * opts->method; opts NULL: LRP with the defaults. The class is fixed from
 * the input as given (the predicted class, or the target) and used for
 * every perturbed or interpolated copy. Methods that evaluate many inputs
 * use a second session of the same model kept by this one (its buffers
 * count against the same memory limit per session); the session's own
 * input, forward pass and gradient/relevance buffers are then left as
 * they were. LRP, gradient, gradxinput, saliency, sensitivity, deconvnet
 * and guided-backprop run on this session, so lrpx_session_relevance /
 * _gradient_of / _explained_* report their pass as usual.
 * Read the result with lrpx_session_attribution and the per-sample numbers
 * with lrpx_session_attribution_report.
 * Returns: LRPX_OK; LRPX_EINVAL (bad options, naming the field: steps,
 * samples, a baseline/noise/mask that does not fit the input, a patch
 * larger than the input, ...); LRPX_EUNSUPPORTED (a method that batches
 * inputs on a model with several fed inputs, or an op without a gradient
 * on the path); LRPX_ELIMIT; LRPX_ENOMEM; or a forward-pass error. */
LRPX_API lrpx_status lrpx_session_attribute(lrpx_session *session,
                                            const struct lrpx_attr_options *opts);
/* METHOD: the map of the last lrpx_session_attribute, float32, the shape of
 * the explained input. Owned by the session, valid until the next
 * lrpx_session_attribute or lrpx_session_free. Returns LRPX_OK or
 * LRPX_EINVAL (no attribution yet; the last one failed). */
LRPX_API lrpx_status lrpx_session_attribution(const lrpx_session *session,
                                              lrpx_tensor_view *out);
/* METHOD: the report of sample `sample` of the last attribution. Returns
 * LRPX_OK or LRPX_EINVAL (none yet, sample out of range, NULL out). */
LRPX_API lrpx_status lrpx_session_attribution_report(const lrpx_session *session,
                                                     int64_t sample,
                                                     lrpx_attr_report *out);

/* ---- the paper's tricks: translation averaging, sliding windows
 *      (src/lrp/tricks.c, docs/visualization.md) ---- */

/* What a shifted image shows where it has no pixels. */
typedef enum lrpx_shift_pad {
    LRPX_SHIFT_PAD_EDGE = 0,      /* repeat the border pixels (default)      */
    LRPX_SHIFT_PAD_ZERO,          /* zeros (in the model's input space)      */
    LRPX_SHIFT_PAD_COUNT
} lrpx_shift_pad;

#define LRPX_TRICK_MAX_TRANSLATE 64   /* largest translate: (2K+1)^2 passes */

struct lrpx_trick_options {
    lrpx_attr_method method;      /* the map averaged: any method             */
    const struct lrpx_attr_options *attr;  /* the method's other options     */
                                  /* (NULL: defaults); method, input_name and  */
                                  /* the LRP options of the call replace its   */
    const char      *input_name;  /* NULL: the first fed input                */
    int              nhwc;        /* x is N,H,W,C (default 0: N,C,H,W)        */
    int              translate;   /* K in 0..LRPX_TRICK_MAX_TRANSLATE: shifts
                                     in [-K, K]^2                              */
    lrpx_shift_pad   pad;
    int              window_width, window_height;   /* sliding window size    */
    int              stride_x, stride_y;            /* >= 1                   */
};
LRPX_API void lrpx_trick_options_default(struct lrpx_trick_options *opts);

/* METHOD of lrpx_session: the translation trick. x is a rank-4 float32
 * batch the model accepts. Each sample is explained on its own (batch 1)
 * at every shift (dy, dx) in [-K, K]^2: the image moved by (dy, dx) (the
 * uncovered border padded per opts->pad), its map moved back, and each
 * pixel's maps averaged over the shifts that kept it inside the frame. The
 * class is the one lo asks for; for LRPX_SEED_PREDICTED, the class
 * predicted for the unshifted sample, held fixed for every shift. out
 * receives x->n_elems floats (caller-owned, layout of x). Afterwards the
 * session holds the plain (unshifted) pass over the whole of x, so
 * lrpx_session_explained_* report it. lo NULL: the defaults.
 * Returns: LRPX_OK, LRPX_EINVAL (bad options or x), LRPX_ESHAPE, or what
 * set_input / explain / gradient return; the message is on the session. */
LRPX_API lrpx_status lrpx_session_explain_translated(lrpx_session *session,
                                                     const lrpx_tensor_view *x,
                                                     const struct lrpx_lrp_options *lo,
                                                     const struct lrpx_trick_options *opts,
                                                     float *out);
/* METHOD: sliding-window explanation of images larger than the model's
 * input. Windows of window_width x window_height start every stride
 * pixels from the top-left corner (stride <= window size); a last window
 * aligned to the right (bottom) border is added when the stride does not
 * land there, so every pixel is covered. Each window is fed as a batch-1 input (with
 * opts->translate > 0, explained with the translation trick) and its map
 * added at its place; each pixel is divided by the number of windows
 * covering it. The class: lo's target, or for LRPX_SEED_PREDICTED the
 * class with the largest sum over the windows of the explained output
 * (logits when a trailing Softmax is skipped). out: x->n_elems floats.
 * The session keeps the last window's pass.
 * Returns: LRPX_OK, LRPX_EINVAL (also a stride larger than the window),
 * LRPX_ESHAPE (a window larger than the image), or what set_input /
 * explain / gradient return. */
LRPX_API lrpx_status lrpx_session_explain_windows(lrpx_session *session,
                                                  const lrpx_tensor_view *x,
                                                  const struct lrpx_lrp_options *lo,
                                                  const struct lrpx_trick_options *opts,
                                                  float *out);
/* Number of window positions along one axis (0 when win > size or an
 * argument is < 1). */
LRPX_API int lrpx_window_count(int size, int win, int stride);

struct lrpx_preprocess;   /* images section below */
/* The z^B bounds an image preset implies: low[c] / high[c] are the model
 * inputs of a pure black and a pure white pixel after pp (scale, mean, std,
 * channel order), per output channel (*n_channels is 1 for gray, 3 for
 * colour; low and high hold at least 3). Put them in
 * lrpx_lrp_options.box_low_c/box_high_c/n_box_c for epsilon_gamma_box.
 * Returns: LRPX_OK, LRPX_EINVAL (bad settings, NULL args), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_preprocess_box_bounds(const struct lrpx_preprocess *pp, float *low,
                                                float *high, int *n_channels,
                                                char *errbuf, size_t errlen);

/* ---- evaluation metrics (src/eval/, docs/evaluation.md) ---- */

/* Metrics of explanation quality with the names, parameters, defaults and
 * quirks of Quantus 0.6.0 (../docs/evaluation.md states each formula):
 *
 *     lrpx_metric *m;
 *     lrpx_metric_parse("region-perturbation:patch-size=4,order=lerf", &m, err, sizeof err);
 *     struct lrpx_eval_options eo;
 *     lrpx_eval_options_default(&eo);
 *     eo.x = &batch;                      // N samples, float32
 *     struct lrpx_attr_options ao;        // how maps are made
 *     lrpx_attr_options_default(&ao);     // LRP ...
 *     lrpx_lrp_options_set_composite(&ao.lrp, "epsilon_plus_flat", NULL, 0);
 *     eo.method = &ao;                    // or eo.attr = maps to score
 *     lrpx_eval_result *r;
 *     lrpx_session_evaluate(s, m, &eo, &r);
 *     lrpx_eval_sample es;
 *     lrpx_eval_result_sample(r, 0, &es);   // es.score, es.curve ...
 *     lrpx_eval_result_free(r);
 *     lrpx_metric_free(m);
 */
#define LRPX_METRIC_MAP(X)                                                   \
    X(PIXEL_FLIPPING,      "pixel-flipping",      "faithfulness")           \
    X(REGION_PERTURBATION, "region-perturbation", "faithfulness")           \
    X(SELECTIVITY,         "selectivity",         "faithfulness")           \
    X(LERF_MORF_AREA,      "lerf-morf-area",      "faithfulness")           \
    X(CONTINUITY,          "continuity",          "robustness")             \
    X(LOCAL_LIPSCHITZ,     "local-lipschitz",     "robustness")             \
    X(MAX_SENSITIVITY,     "max-sensitivity",     "robustness")             \
    X(RELEVANCE_MASS,      "relevance-mass",      "localisation")           \
    X(RELEVANCE_RANK,      "relevance-rank",      "localisation")           \
    X(POINTING_GAME,       "pointing-game",       "localisation")           \
    X(SPARSENESS,          "sparseness",          "complexity")             \
    X(COMPLEXITY,          "complexity",          "complexity")             \
    X(COMPLETENESS,        "completeness",        "axioms")                 \
    X(MODEL_RANDOMISATION, "model-randomisation", "randomisation")          \
    X(RANDOM_LOGIT,        "random-logit",        "randomisation")

typedef enum lrpx_metric_id {
#define X(tag, name, family) LRPX_METRIC_##tag,
    LRPX_METRIC_MAP(X)
#undef X
    LRPX_METRIC_COUNT
} lrpx_metric_id;

/* "pixel-flipping", ...; NULL out of range. */
LRPX_API const char *lrpx_metric_id_name(lrpx_metric_id id);

/* A metric with its parameters (every one set: given or default). */
typedef struct lrpx_metric lrpx_metric;

/* CONSTRUCTOR: parse "NAME[:k=v,...]". Keys are Quantus's keyword
 * arguments in kebab case (patch_size -> patch-size), booleans true/false,
 * "none" for an optional number left unset. errbuf (may be NULL) names
 * the bad part. On failure *out is NULL.
 * Returns: LRPX_OK, LRPX_EINVAL (unknown metric or key, bad value; the
 * message lists what is allowed), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_metric_parse(const char *spec, lrpx_metric **out, char *errbuf,
                                       size_t errlen);
LRPX_API void           lrpx_metric_free(lrpx_metric *metric);   /* NULL is a no-op */
LRPX_API lrpx_metric_id lrpx_metric_kind(const lrpx_metric *metric);
/* Every parameter with its value, defaults included, as a JSON object
 * ({"patch-size": 8, "order": "morf", ...}) into buf (NUL-terminated,
 * cut at size). Returns the length it needs (like snprintf). */
LRPX_API size_t         lrpx_metric_params_json(const lrpx_metric *metric, char *buf,
                                                size_t size);

/* Documentation from the tables the parser uses (lrpx eval --help and
 * docs/evaluation.md are made from it). Static strings. */
typedef struct lrpx_metric_doc {
    const char *name;        /* "pixel-flipping"                           */
    const char *family;      /* "faithfulness", ...                        */
    const char *quantus;     /* the Quantus 0.6.0 class, or "" (lrpx's own) */
    const char *summary;     /* one line                                   */
    const char *formula;     /* the definition, plain text, several lines  */
    const char *result;      /* what score and curve hold                  */
    int         n_params;
} lrpx_metric_doc;
typedef struct lrpx_metric_param_doc {
    const char *name;        /* "patch-size"                              */
    const char *type;        /* "int", "number", "bool", "choice", ...    */
    const char *default_text;
    const char *help;
    const char *const *choices;  /* NULL-terminated names, or NULL          */
} lrpx_metric_param_doc;
/* Returns LRPX_OK or LRPX_EINVAL (out of range, NULL out). */
LRPX_API lrpx_status lrpx_metric_doc_get(lrpx_metric_id id, lrpx_metric_doc *out);
LRPX_API lrpx_status lrpx_metric_param_doc_get(lrpx_metric_id id, int i,
                                               lrpx_metric_param_doc *out);

/* What lrpx_session_evaluate scores. Fill with lrpx_eval_options_default. */
struct lrpx_eval_options {
    const lrpx_tensor_view *x;        /* float32 batch: N samples, the model
                                         input (rank >= 2, axis 0 = batch)  */
    const char       *input_name;     /* NULL: the first fed input          */
    int               nhwc;           /* rank 4 x is N,H,W,C (default N,C,H,W) */
    const int64_t    *targets;        /* N classes; NULL: the predicted ones */
    /* the maps to score: N x the sample shape, or without the channel
     * axis (N,H,W for N,C,H,W input); float32. NULL: explained with
     * method. Metrics that explain again (robustness, randomisation)
     * always use method. */
    const lrpx_tensor_view *attr;
    /* how maps are made: lrpx_session_attribute with these options (any
     * method; NULL: LRP with the defaults). Its input_name and seed are
     * replaced: every map explains its sample's target (LRPX_SEED_TARGETS). */
    const struct lrpx_attr_options *method;
    /* localisation masks, nonzero = inside: (H,W), (1,H,W), (N,H,W) or
     * (N,1,H,W); one mask for all samples or one per sample */
    const lrpx_tensor_view *mask;
    /* perturbations of local-lipschitz / max-sensitivity: float32,
     * [samples, sample shape]; row k is added to every input at step k.
     * NULL: drawn from lrpx's generator with `seed`. */
    const lrpx_tensor_view *noise;
    uint64_t          seed;           /* lrpx's generator (default 0)        */
    int               max_batch;      /* samples per session pass (0: 16)   */
};
LRPX_API void lrpx_eval_options_default(struct lrpx_eval_options *opts);

typedef struct lrpx_eval_result lrpx_eval_result;

/* METHOD of lrpx_session: compute metric m for every sample of opts->x,
 * as Quantus 0.6.0 does when called with x_batch = opts->x (its batch
 * quirks included: normalise divides by the largest |a| of the whole
 * batch handed over; see docs/evaluation.md). Perturbed inputs go through
 * the session in batches of max_batch (1 when the model's batch dimension
 * is fixed at 1). Results do not depend on the session's thread count.
 * *out receives the per-sample results (free with lrpx_eval_result_free);
 * NULL on failure.
 * Returns: LRPX_OK; LRPX_EINVAL (bad options: shapes, missing mask, a
 * parameter that does not fit the input, naming it); LRPX_ESHAPE; or what
 * set_input / run / attribute return. The message is on the session. */
LRPX_API lrpx_status lrpx_session_evaluate(lrpx_session *session, const lrpx_metric *m,
                                          const struct lrpx_eval_options *opts,
                                          lrpx_eval_result **out);

typedef enum lrpx_score_kind {
    LRPX_SCORE_NULL = 0,          /* none (curve metrics) or not finite     */
    LRPX_SCORE_NUMBER,
    LRPX_SCORE_BOOL,              /* score is 0 or 1                          */
} lrpx_score_kind;

/* One sample's result; pointers owned by the result. */
typedef struct lrpx_eval_sample {
    int64_t          target;      /* the class explained/scored              */
    lrpx_score_kind  kind;
    double           score;       /* the scalar Quantus returns (NaN/inf kept
                                     here; kind says NULL for them)          */
    int64_t          n_curve;     /* 0 when the metric returns no list       */
    const double    *curve;
    const char *const *curve_labels;  /* per point (layer names), or NULL    */
    double           summary;     /* one number to average over inputs: the
                                     score, else the curve's AOPC (region
                                     perturbation) or trapezoid area         */
    int              n_extra;     /* side values: "auc", "aopc",
                                     "attribution_sum", "output_delta", ...  */
    const char *const *extra_names;
    const double    *extra;
} lrpx_eval_sample;

LRPX_API int64_t     lrpx_eval_result_n(const lrpx_eval_result *r);
/* Returns LRPX_OK or LRPX_EINVAL (i out of range, NULL args). */
LRPX_API lrpx_status lrpx_eval_result_sample(const lrpx_eval_result *r, int64_t i,
                                             lrpx_eval_sample *out);
LRPX_API void        lrpx_eval_result_free(lrpx_eval_result *r);   /* NULL is a no-op */

/* ---- NumPy .npy files (src/io/npy.c) ---- */

/* An array read from a .npy file. C order, little-endian in memory as on
 * disk; bools are one byte, 0 or 1. */
typedef struct lrpx_npy {
    lrpx_dtype dtype;        /* FLOAT32, FLOAT64, INT64, INT32, UINT8, INT8, BOOL */
    int        rank;         /* 0 for a scalar                                     */
    int64_t    dims[LRPX_MAX_RANK];
    int64_t    n_elems;      /* product of dims (1 for a scalar, may be 0)         */
    void      *data;         /* n_elems * lrpx_dtype_size(dtype) bytes             */
} lrpx_npy;

/* CONSTRUCTOR: lrpx_npy from a .npy file (format 1.0, 2.0 or 3.0), dtypes
 * <f4 <f8 <i8 <i4 |u1 |i1 |b1. The header is checked before anything is
 * allocated, so hostile files cannot make it allocate more than the file
 * holds. On failure *out is NULL and errbuf (may be NULL) receives
 * "PATH: reason", truncated to errlen bytes. Release *out with
 * lrpx_npy_free().
 * Returns: LRPX_OK; LRPX_EIO if the file cannot be read or is shorter than
 * its shape; LRPX_EPARSE for a malformed header or trailing bytes;
 * LRPX_EUNSUPPORTED for other dtypes, big-endian data, Fortran order or an
 * unknown format version; LRPX_ELIMIT when the rank exceeds LRPX_MAX_RANK or
 * the element count overflows; LRPX_ENOMEM; LRPX_EINVAL for NULL args. */
LRPX_API lrpx_status lrpx_npy_read(const char *path, lrpx_npy **out,
                                   char *errbuf, size_t errlen);
/* DESTRUCTOR: lrpx_npy. NULL is a no-op. */
LRPX_API void        lrpx_npy_free(lrpx_npy *npy);
/* Write a C-order array as a .npy 1.0 file. dims has rank entries (may be
 * NULL for rank 0); data has the product of dims elements of dtype (one of
 * the dtypes lrpx_npy_read accepts). The file appears atomically: it is
 * written to a temporary next to path and renamed over it; on failure the
 * temporary is removed and an existing file at path is left untouched.
 * errbuf as for lrpx_npy_read.
 * Returns: LRPX_OK, LRPX_EIO, LRPX_EUNSUPPORTED (dtype), LRPX_EINVAL (rank,
 * negative dims, NULL data), LRPX_ELIMIT (size overflow) or LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_npy_write(const char *path, lrpx_dtype dtype, int rank,
                                    const int64_t *dims, const void *data,
                                    char *errbuf, size_t errlen);
/* Flags of lrpx_npy_write_ex. LRPX_WRITE_NO_SYNC skips the fsync before
 * the rename: the file still appears whole or not at all to other
 * processes and after the writer is killed, but a power cut may leave it
 * empty or short (a reader that needs more checks its size, as lrpx batch
 * --resume does); thousands of small files are written 10-100 times
 * faster. */
#define LRPX_WRITE_NO_SYNC 1
/* lrpx_npy_write with flags (0: the same as lrpx_npy_write). */
LRPX_API lrpx_status lrpx_npy_write_ex(const char *path, lrpx_dtype dtype, int rank,
                                       const int64_t *dims, const void *data, int flags,
                                       char *errbuf, size_t errlen);

/* ---- spectral relevance analysis, SpRAy (src/analysis/spray.c) ---- */

/* Lapuschkin et al., "Unmasking Clever Hans predictors and assessing what
 * machines really learn" (Nature Communications 10, 1096, 2019): the
 * relevance maps of one class, downsized and normalised by the caller, as
 * points; their k-nearest-neighbour graph; spectral clustering (the
 * smallest eigenvalues and eigenvectors of the normalised graph Laplacian,
 * by LAPACK); the number of clusters by the largest eigengap. Clusters of
 * maps are the strategies a model uses for the class: a small cluster whose
 * relevance sits on a watermark is a "Clever Hans" strategy. `lrpx spray`
 * builds a report on it (docs/scale-out.md). */
#define LRPX_SPRAY_MAX_MAPS     20000  /* the Laplacian is dense: n x n doubles */
#define LRPX_SPRAY_MAX_CLUSTERS 64

struct lrpx_spray_options {
    int      n_neighbors;   /* k of the kNN graph; 0: 10 (at most n - 1)       */
    int      max_clusters;  /* largest count the eigengap may choose; 0: 10    */
    int      n_clusters;    /* > 0: this many clusters, no eigengap            */
    int      n_eigen;       /* eigenvalues to compute and report; 0: one more
                               than the largest cluster count (at least 3)     */
    int      n_restarts;    /* k-means runs, the lowest inertia kept (10)      */
    uint64_t seed;          /* k-means++ seeding (0)                           */
};

typedef struct lrpx_spray_result {
    int     n;              /* maps                                            */
    int     n_clusters;
    int     n_eigen;
    int     n_neighbors;    /* k used                                          */
    double *eigenvalues;    /* n_eigen, ascending, in [0, 2]                   */
    int    *labels;         /* n: the cluster of each map; 0 is the largest    */
    int    *sizes;          /* n_clusters                                      */
    double *embedding;      /* n x 2: eigenvectors 2 and 3 of the random-walk
                               Laplacian (a spectral embedding for plots)      */
} lrpx_spray_result;

LRPX_API void        lrpx_spray_options_default(struct lrpx_spray_options *opts);
/* CONSTRUCTOR: cluster n maps of dim floats each (row-major, caller-owned).
 * opts NULL: the defaults. Deterministic: the same input gives the same
 * result. Release with lrpx_spray_result_free.
 * Returns: LRPX_OK; LRPX_EINVAL (fewer than 3 maps, non-finite values, bad
 * options; errbuf says which); LRPX_ELIMIT (more than LRPX_SPRAY_MAX_MAPS);
 * LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_spray(const float *maps, int n, int64_t dim,
                                const struct lrpx_spray_options *opts,
                                lrpx_spray_result **out, char *errbuf, size_t errlen);
LRPX_API void        lrpx_spray_result_free(lrpx_spray_result *result);  /* NULL: no-op */

/* Write len bytes of data as the file path, atomically as lrpx_npy_write
 * does (a temporary next to path, renamed over it; on failure path is left
 * as it was). For reports and tables (lrpx compare). errbuf as for
 * lrpx_npy_read. Returns: LRPX_OK, LRPX_EIO, LRPX_EINVAL (NULL path, NULL
 * data with len > 0, a path without a file name) or LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_file_write(const char *path, const void *data, size_t len,
                                     char *errbuf, size_t errlen);

/* ---- CI checks: `lrpx check MODEL --spec CHECKS.json` (src/check/,
 *      docs/ci.md) ---- */

/* A spec (a JSON list of checks with their thresholds) and, after
 * lrpx_check_run, one result per check:
 *
 *     lrpx_check *c;
 *     if (lrpx_check_load("checks.json", &c, err, sizeof err) != LRPX_OK)
 *         ... err: "checks.json: $.checks[2].min_mass: expected a number ..."
 *     lrpx_check_run(c, "model.onnx");
 *     lrpx_check_write(c, LRPX_CHECK_FORMAT_JUNIT, "report.xml", err, sizeof err);
 *     int failed = lrpx_check_n_failed(c);
 *     lrpx_check_free(c);
 */
typedef struct lrpx_check lrpx_check;

/* CONSTRUCTOR: parse a spec file; relative file names in it are taken from
 * its folder. Unknown fields, wrong types and out-of-range values are
 * refused, the message naming the place as a JSON path.
 * Returns: LRPX_OK; LRPX_EIO (cannot read); LRPX_ELIMIT (over 16 MiB);
 * LRPX_EPARSE (not JSON, or not a valid spec); LRPX_ENOMEM; LRPX_EINVAL
 * (NULL arguments). On failure *out is NULL. */
LRPX_API lrpx_status lrpx_check_load(const char *path, lrpx_check **out, char *errbuf,
                                     size_t errlen);
/* CONSTRUCTOR: the same from text (len bytes); name is used in messages,
 * base_dir (may be NULL: as given) for relative file names. */
LRPX_API lrpx_status lrpx_check_parse(const char *text, size_t len, const char *name,
                                      const char *base_dir, lrpx_check **out, char *errbuf,
                                      size_t errlen);
LRPX_API void        lrpx_check_free(lrpx_check *check);   /* NULL is a no-op */

/* METHOD: run every check against the model file (replacing the results of
 * an earlier run). A check that is not met, or cannot be evaluated, is a
 * result, not an error: a model that does not load fails the "loads"
 * check and makes every check that needs it an error.
 * Returns: LRPX_OK, LRPX_ENOMEM or LRPX_EINVAL (NULL arguments). */
LRPX_API lrpx_status lrpx_check_run(lrpx_check *check, const char *model_path);

/* Called by lrpx_check_run before each check (done = the checks finished
 * so far, total = all of them) and once at the end (done == total), e.g.
 * for a progress bar. */
typedef void (*lrpx_check_progress_fn)(void *ctx, int done, int total);
/* METHOD: set (fn NULL: remove) the progress callback of later runs. */
LRPX_API void lrpx_check_set_progress(lrpx_check *check, lrpx_check_progress_fn fn, void *ctx);

typedef enum lrpx_check_outcome {
    LRPX_CHECK_PASS = 0,
    LRPX_CHECK_FAIL,              /* measured, and the threshold is not met  */
    LRPX_CHECK_ERROR,             /* could not be evaluated (the message says) */
    LRPX_CHECK_OUTCOME_COUNT
} lrpx_check_outcome;

/* One check's result. Strings and samples are owned by the check and valid
 * until the next lrpx_check_run or lrpx_check_free. */
typedef struct lrpx_check_result {
    const char        *name;        /* as given in the spec, or "KIND #i"      */
    const char        *kind;        /* "loads", "localisation", ...            */
    int                index;       /* position in the spec's "checks"         */
    int                line;        /* its line in the spec file (0: unknown)  */
    lrpx_check_outcome outcome;
    double             value;       /* the measured quantity (NaN: none)       */
    double             threshold;   /* NaN: none                               */
    const char        *relation;    /* value RELATION threshold passes: ">=",
                                       "<=", or "" when there is none         */
    const char        *quantity;    /* what value is ("AOPC", ...), or ""      */
    const char        *message;     /* one line                                */
    int                n_samples;   /* per-sample values (0: none)             */
    const double      *samples;
    double             seconds;
} lrpx_check_result;

LRPX_API int         lrpx_check_n_results(const lrpx_check *check);   /* 0 before a run */
/* Returns LRPX_OK, or LRPX_EINVAL (i out of range, no run yet). */
LRPX_API lrpx_status lrpx_check_result_get(const lrpx_check *check, int i,
                                           lrpx_check_result *out);
/* Results of the last run that are not PASS (FAIL or ERROR). */
LRPX_API int         lrpx_check_n_failed(const lrpx_check *check);

typedef enum lrpx_check_format {
    LRPX_CHECK_FORMAT_TEXT = 0,   /* a summary for people                     */
    LRPX_CHECK_FORMAT_JSON,       /* one object: totals and every result      */
    LRPX_CHECK_FORMAT_JUNIT,      /* JUnit XML (GitHub Actions, GitLab CI)   */
    LRPX_CHECK_FORMAT_GITHUB,     /* GitHub Actions workflow commands:
                                     ::error for each failing check, at its
                                     line of the spec, and a ::notice total */
    LRPX_CHECK_FORMAT_COUNT
} lrpx_check_format;

/* Write the report of the last run in a format: to path, atomically
 * (written to a temporary in the same folder and renamed; on failure an
 * existing file is left as it was), or to standard output when path is
 * NULL. Returns: LRPX_OK, LRPX_EIO, LRPX_ENOMEM, LRPX_EINVAL (no run yet,
 * bad format). */
LRPX_API lrpx_status lrpx_check_write(const lrpx_check *check, lrpx_check_format format,
                                      const char *path, char *errbuf, size_t errlen);

/* ---- images and heatmaps (src/image) ---- */

/* From a photo to a model input and from a relevance map back to a picture:
 *
 *     lrpx_image *img;                             // float pixels, 0..255
 *     lrpx_image_load("cat.jpg", NULL, &img, err, sizeof err);
 *     struct lrpx_preprocess pp;
 *     lrpx_preprocess_init(&pp);
 *     lrpx_preprocess_preset(&pp, "imagenet", err, sizeof err);
 *     lrpx_preprocess_from_shape(&pp, info.rank, info.dims, err, sizeof err);
 *     lrpx_image_tensor *x;                        // 1x3x224x224 float32
 *     lrpx_image_preprocess(img, &pp, &x, err, sizeof err);
 *     lrpx_session_set_input(s, NULL, x->view.dtype, x->view.rank,
 *                            x->view.dims, x->view.data);
 *     ... lrpx_session_explain, lrpx_session_relevance(s, NULL, &rel) ...
 *     lrpx_image *map, *full;                      // 224x224, then original size
 *     lrpx_heatmap_reduce(&rel, pp.layout, LRPX_HEAT_REDUCE_SUM, &map, err, sizeof err);
 *     lrpx_image_unproject(map, &x->geom, &full, err, sizeof err);
 *     struct lrpx_heatmap_options ho;
 *     lrpx_heatmap_options_default(&ho);           // bwr, symmetric, max |R|
 *     lrpx_pixmap *heat, *photo, *blend;
 *     lrpx_heatmap_render(full, &ho, &heat, err, sizeof err);
 *     lrpx_pixmap_from_image(img, &photo, err, sizeof err);
 *     lrpx_pixmap_overlay(photo, heat, 0.6, &blend, err, sizeof err);
 *     lrpx_pixmap_save(blend, "cat_lrp.png", 0, err, sizeof err);
 *
 * Errors: every function that can fail returns an lrpx_status and writes
 * "FILE: reason" (or just the reason when no file is involved) into errbuf
 * on failure and "" on success, truncated to errlen bytes; errbuf may be
 * NULL. Output pointers are set to NULL on failure. Nothing here keeps global state; see
 * docs/visualization.md for the pipeline, presets and file formats. */

/* A decoded image (or a relevance map): float samples, HWC row-major,
 * data[(y * width + x) * channels + c]. Decoded pixels are in [0, 255]:
 * 8-bit files give whole numbers, 16-bit files v * 255 / 65535. Maps made by
 * lrpx_heatmap_reduce hold any float values in one channel. */
#define LRPX_IMAGE_FORMAT_MAX 8   /* bytes of lrpx_image.format, with '\0' */
typedef struct lrpx_image {
    int    width, height;
    int    channels;       /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA              */
    int    bit_depth;      /* of the source samples: 8 or 16; 32 for maps      */
    float *data;           /* width*height*channels floats, owned by the image */
    /* Where it came from. */
    int    file_width;     /* as stored in the file, before orientation        */
    int    file_height;
    int    orientation;    /* EXIF orientation 1..8 that was applied (1: none) */
    char   format[LRPX_IMAGE_FORMAT_MAX];   /* "jpeg", "png", or "" for images
                                               made in memory                */
} lrpx_image;

/* Options of lrpx_image_load; NULL means the defaults shown. */
struct lrpx_image_load_options {
    int64_t max_pixels;        /* width*height above this: LRPX_ELIMIT (100e6)   */
    int64_t max_file_bytes;    /* larger files: LRPX_ELIMIT (1 GiB)              */
    int     apply_orientation; /* 1: honour the EXIF orientation tag (default) */
};

LRPX_API void lrpx_image_load_options_default(struct lrpx_image_load_options *opts);

/* CONSTRUCTOR: lrpx_image from a JPEG or PNG file. The format is found from
 * the first bytes, never from the name. JPEG: gray, RGB/YCbCr, CMYK and YCCK
 * (converted to RGB with Adobe's inverted-CMYK convention, like PIL),
 * baseline or progressive; every libjpeg warning about corrupt or missing
 * data is an error. PNG: all colour types and bit depths; palettes and
 * 1/2/4-bit gray are expanded, tRNS becomes alpha, gAMA/iCCP are ignored.
 * The alpha channel is kept (channels 2 or 4); preprocessing drops it or
 * composites on white. The EXIF orientation (JPEG APP1, PNG eXIf) is applied
 * unless opts->apply_orientation is 0. libpng allocates through lrpx's
 * allocator; libjpeg-turbo uses its own malloc.
 * Returns: LRPX_OK; LRPX_EIO (cannot open or read, not a regular file: a
 * FIFO is refused, never waited on); LRPX_EIMAGE (not a
 * JPEG/PNG, corrupt, truncated, unsupported variant); LRPX_ELIMIT (pixel or
 * byte limit); LRPX_ENOMEM; LRPX_EINVAL (NULL path/out). */
LRPX_API lrpx_status lrpx_image_load(const char *path,
                                     const struct lrpx_image_load_options *opts,
                                     lrpx_image **out, char *errbuf, size_t errlen);
/* CONSTRUCTOR: as lrpx_image_load, from bytes in memory (not kept). name is
 * used in messages only and may be NULL ("<memory>"). */
LRPX_API lrpx_status lrpx_image_load_buffer(const void *buf, size_t len, const char *name,
                                            const struct lrpx_image_load_options *opts,
                                            lrpx_image **out, char *errbuf, size_t errlen);
/* CONSTRUCTOR: a zero-filled image, bit_depth 8, format "". channels 1..4.
 * Returns: LRPX_OK, LRPX_EINVAL (sizes), LRPX_ELIMIT (over 2^31 samples) or
 * LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_image_init(int width, int height, int channels, lrpx_image **out);
/* DESTRUCTOR: lrpx_image. NULL is a no-op. */
LRPX_API void        lrpx_image_free(lrpx_image *img);

/* ---- preprocessing ---- */

typedef enum lrpx_resize_mode {
    LRPX_RESIZE_UNSET = 0,     /* filled by from_shape, else NONE              */
    LRPX_RESIZE_NONE,
    LRPX_RESIZE_SHORTER,       /* shorter side to resize_shorter, keep aspect  */
    LRPX_RESIZE_EXACT,         /* to resize_width x resize_height               */
    LRPX_RESIZE_COUNT
} lrpx_resize_mode;

typedef enum lrpx_interp {
    LRPX_INTERP_UNSET = 0,     /* BILINEAR                                      */
    LRPX_INTERP_BILINEAR,      /* triangle filter, widened when shrinking (PIL) */
    LRPX_INTERP_NEAREST,       /* PIL's NEAREST: source floor((x + 0.5) * scale) */
    LRPX_INTERP_COUNT
} lrpx_interp;

typedef enum lrpx_color {
    LRPX_COLOR_UNSET = 0,      /* filled by from_shape, else RGB                */
    LRPX_COLOR_RGB,
    LRPX_COLOR_BGR,
    LRPX_COLOR_GRAY,           /* ITU-R 601-2 luma, as PIL's convert("L")       */
    LRPX_COLOR_COUNT
} lrpx_color;

typedef enum lrpx_layout {
    LRPX_LAYOUT_UNSET = 0,     /* filled by from_shape, else NCHW               */
    LRPX_LAYOUT_NCHW,
    LRPX_LAYOUT_NHWC,
    LRPX_LAYOUT_COUNT
} lrpx_layout;

typedef enum lrpx_alpha {
    LRPX_ALPHA_DROP = 0,       /* ignore alpha, as PIL's convert("RGB") (default) */
    LRPX_ALPHA_WHITE,          /* composite over white                          */
    LRPX_ALPHA_COUNT
} lrpx_alpha;

/* How an image becomes a model input. The steps run in this order: alpha,
 * colour (gray/RGB), resize, centre crop, then per channel
 * (v * scale - mean[c]) / std[c], channel order and layout. Fields left
 * "unset" (the values lrpx_preprocess_init puts in) are filled by
 * lrpx_preprocess_from_shape or take the default noted. */
#define LRPX_PREPROCESS_NAME_MAX 32   /* bytes of lrpx_preprocess.name, with '\0' */
struct lrpx_preprocess {
    char             name[LRPX_PREPROCESS_NAME_MAX];   /* preset name, for messages
                                                          ("" if none; cut to fit) */
    lrpx_resize_mode resize;
    int              resize_shorter;  /* SHORTER: target of the shorter side    */
    int              resize_width;    /* EXACT                                  */
    int              resize_height;
    int              crop_width;      /* centre crop; 0 unset, -1 no crop       */
    int              crop_height;     /* (a crop larger than the image pads 0)  */
    lrpx_interp      interp;
    int              antialias;       /* -1 unset (1): widen filter when shrinking */
    int              quantize;        /* -1 unset (1): round to whole numbers after
                                         each step for 8-bit sources, as PIL does */
    double           scale;           /* 0 unset (1); 1/255 maps to [0, 1]     */
    int              n_mean;          /* 0 unset (mean 0, std 1); 1 or 3       */
    double           mean[3];         /* in output channel order (BGR if BGR)   */
    double           std[3];
    lrpx_color       color;
    lrpx_layout      layout;
    lrpx_alpha       alpha;
};

/* Where the model input lies in the image it came from, for mapping a
 * relevance map back (lrpx_image_unproject). The crop window starts at
 * (crop_x, crop_y) in the resized image; negative means zero padding. */
typedef struct lrpx_image_geometry {
    int src_width, src_height;          /* oriented source image          */
    int resized_width, resized_height;  /* after the resize step          */
    int crop_x, crop_y;
    int width, height;                  /* model input                    */
} lrpx_image_geometry;

/* A model input made from an image: float32, rank 4, batch 1, dims
 * {1,C,H,W} (NCHW) or {1,H,W,C} (NHWC). view.data points at data; both are
 * owned by the tensor. Release with lrpx_image_tensor_free. */
typedef struct lrpx_image_tensor {
    lrpx_tensor_view    view;
    float              *data;
    lrpx_image_geometry geom;
    lrpx_layout         layout;
    lrpx_color          color;
} lrpx_image_tensor;

/* Set every field to "unset". */
LRPX_API void        lrpx_preprocess_init(struct lrpx_preprocess *pp);
/* METHOD of struct lrpx_preprocess: set the fields a preset defines, leaving
 * the others. "imagenet": shorter side 256 bilinear, centre crop 224, /255,
 * mean 0.485 0.456 0.406, std 0.229 0.224 0.225, RGB, NCHW. "zero-one": /255.
 * "minus-one-one": /255, mean 0.5, std 0.5. "none": raw 0..255 floats.
 * Returns: LRPX_OK or LRPX_EINVAL (unknown name; the message lists them). */
LRPX_API lrpx_status lrpx_preprocess_preset(struct lrpx_preprocess *pp, const char *name,
                                            char *errbuf, size_t errlen);
/* The i-th preset name, NULL past the end. Static strings. */
LRPX_API const char *lrpx_preprocess_preset_name(int i);
/* METHOD: fill unset fields from a model input shape (rank 4; -1 or 0 for a
 * symbolic dimension). The channel axis is 1 (NCHW) when dims[1] is 1 or 3,
 * else 3 (NHWC); 1 channel means gray, 3 RGB. With a known H x W: no resize
 * and no crop set -> exact resize to W x H; a resize set but no crop ->
 * centre crop W x H.
 * Returns: LRPX_OK; LRPX_ESHAPE when the shape cannot be an image input or
 * conflicts with fields already set (crop size, channels, batch > 1). */
LRPX_API lrpx_status lrpx_preprocess_from_shape(struct lrpx_preprocess *pp, int rank,
                                                const int64_t *dims,
                                                char *errbuf, size_t errlen);
/* METHOD: apply a JSON preset file on top of pp (format in
 * docs/visualization.md: {"preset": "imagenet", "resize": 256, "crop": 224,
 * "mean": [...], ...}). Unknown keys are errors.
 * Returns: LRPX_OK, LRPX_EIO (cannot read, not a regular file), LRPX_EPARSE
 * (bad JSON or values, a file over 1 MiB), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_preprocess_load_json(struct lrpx_preprocess *pp, const char *path,
                                               char *errbuf, size_t errlen);
/* METHOD: the same from a string (len bytes, need not be NUL-terminated). */
LRPX_API lrpx_status lrpx_preprocess_parse_json(struct lrpx_preprocess *pp, const char *text,
                                                size_t len, char *errbuf, size_t errlen);

/* CONSTRUCTOR: lrpx_image_tensor from img. Unset fields take their defaults.
 * Returns: LRPX_OK; LRPX_EINVAL (bad field values, e.g. std 0); LRPX_ELIMIT
 * (output over 2^31 values); LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_image_preprocess(const lrpx_image *img,
                                           const struct lrpx_preprocess *pp,
                                           lrpx_image_tensor **out,
                                           char *errbuf, size_t errlen);
/* DESTRUCTOR: lrpx_image_tensor. NULL is a no-op. */
LRPX_API void        lrpx_image_tensor_free(lrpx_image_tensor *t);
/* CONSTRUCTOR: the geometric and colour steps only (alpha, colour, resize,
 * crop): the picture the model sees, 0..255, 1 or 3 channels in RGB order.
 * geom may be NULL. Same returns as lrpx_image_preprocess. */
LRPX_API lrpx_status lrpx_image_prepare(const lrpx_image *img,
                                        const struct lrpx_preprocess *pp,
                                        lrpx_image **out, lrpx_image_geometry *geom,
                                        char *errbuf, size_t errlen);
/* CONSTRUCTOR: img resized to width x height, all channels, float math (no
 * rounding). Bilinear widens its filter when shrinking if antialias is 1.
 * Returns: LRPX_OK, LRPX_EINVAL, LRPX_ELIMIT, LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_image_resize(const lrpx_image *img, int width, int height,
                                       lrpx_interp interp, int antialias,
                                       lrpx_image **out, char *errbuf, size_t errlen);
/* CONSTRUCTOR: the inverse geometry. map is geom->width x geom->height (any
 * channels); the result is geom->src_width x geom->src_height: the map is
 * put back at the crop window (zero outside it) and resized bilinearly to
 * the source size. For display: values are resampled, sums are not kept.
 * Returns: LRPX_OK, LRPX_ESHAPE (map size differs from geom), LRPX_EINVAL,
 * LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_image_unproject(const lrpx_image *map,
                                          const lrpx_image_geometry *geom,
                                          lrpx_image **out, char *errbuf, size_t errlen);

/* ---- 8-bit pictures, PNG/JPEG output ---- */

/* 8-bit pixels, HWC row-major, 1 (gray) or 3 (RGB) channels. */
typedef struct lrpx_pixmap {
    int      width, height, channels;
    uint8_t *data;                     /* owned by the pixmap */
} lrpx_pixmap;

/* CONSTRUCTOR: a pixmap filled with 0. Returns LRPX_OK, LRPX_EINVAL,
 * LRPX_ELIMIT or LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_pixmap_init(int width, int height, int channels, lrpx_pixmap **out);
/* DESTRUCTOR: lrpx_pixmap. NULL is a no-op. */
LRPX_API void        lrpx_pixmap_free(lrpx_pixmap *pm);
/* CONSTRUCTOR: round and clamp an image to 8 bits; alpha is dropped (gray
 * stays gray, RGBA becomes RGB). */
LRPX_API lrpx_status lrpx_pixmap_from_image(const lrpx_image *img, lrpx_pixmap **out,
                                            char *errbuf, size_t errlen);
/* Write a PNG (8-bit gray/RGB) or a baseline JPEG (quality 1..100, 0 for
 * 90). The file appears atomically: it is written to a temporary with a
 * unique name (".NAME.XXXXXX") in PATH's folder and renamed over PATH; on
 * any error the temporary is removed and an existing PATH is untouched, and
 * two processes writing one PATH leave one whole file.
 * lrpx_pixmap_save picks the format from the extension (.png, .jpg, .jpeg,
 * any case) and passes quality to JPEG.
 * Returns: LRPX_OK, LRPX_EIO (open/write/rename), LRPX_EIMAGE (encoder
 * error), LRPX_EINVAL (unknown extension, bad quality, NULL args). */
LRPX_API lrpx_status lrpx_pixmap_save_png(const lrpx_pixmap *pm, const char *path,
                                          char *errbuf, size_t errlen);
LRPX_API lrpx_status lrpx_pixmap_save_jpeg(const lrpx_pixmap *pm, const char *path,
                                           int quality, char *errbuf, size_t errlen);
LRPX_API lrpx_status lrpx_pixmap_save(const lrpx_pixmap *pm, const char *path,
                                      int quality, char *errbuf, size_t errlen);

/* ---- colour maps and heatmaps ---- */

/* A colour map: piecewise-linear RGB over [0, 1]. Built-ins (static, never
 * freed): "bwr", "seismic", "coldnhot", "gray-red", "black-firered", "hot",
 * "gray", "afmhot"; diverging maps have their centre colour at exactly 0.5,
 * so zero relevance is white for bwr, black for coldnhot. */
typedef struct lrpx_colormap lrpx_colormap;

/* The built-in map of that name, NULL if there is none. */
LRPX_API const lrpx_colormap *lrpx_colormap_builtin(const char *name);
/* The i-th built-in name, NULL past the end. */
LRPX_API const char          *lrpx_colormap_builtin_name(int i);
/* CONSTRUCTOR: a colour map from a text table, one stop per line:
 * "position r g b" with position in [0, 1] non-decreasing from 0 to 1 and
 * r g b in [0, 1] (or 0..255 after a line "range 255"); '#' starts a
 * comment. Two stops at one position make a jump. At most 256 stops.
 * Returns: LRPX_OK, LRPX_EIO (cannot read, not a regular file), LRPX_EPARSE
 * (with the line number; a file over 64 KiB), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_colormap_load(const char *path, lrpx_colormap **out,
                                        char *errbuf, size_t errlen);
/* CONSTRUCTOR: the same from text (len bytes); name is used in messages. */
LRPX_API lrpx_status lrpx_colormap_parse(const char *text, size_t len, const char *name,
                                         lrpx_colormap **out, char *errbuf, size_t errlen);
/* DESTRUCTOR: a loaded colour map. NULL is a no-op (built-ins are const
 * and must not be passed). */
LRPX_API void        lrpx_colormap_free(lrpx_colormap *cmap);
LRPX_API const char *lrpx_colormap_name(const lrpx_colormap *cmap);
/* rgb[0..2] in [0, 1] at u (clamped to [0, 1]; NaN gives the centre). */
LRPX_API void        lrpx_colormap_eval(const lrpx_colormap *cmap, double u, double rgb[3]);

typedef enum lrpx_heat_reduce {
    LRPX_HEAT_REDUCE_SUM = 0,  /* sum over channels (signed, default)  */
    LRPX_HEAT_REDUCE_L2,       /* Euclidean norm over channels (>= 0)  */
    LRPX_HEAT_REDUCE_COUNT
} lrpx_heat_reduce;

typedef enum lrpx_heat_norm {
    LRPX_HEAT_NORM_SYMMETRIC = 0, /* [-v, v] -> [0, 1]; 0 lands on the centre (default) */
    LRPX_HEAT_NORM_MINMAX,        /* [lo, hi] -> [0, 1]                                   */
    LRPX_HEAT_NORM_COUNT
} lrpx_heat_norm;

struct lrpx_heatmap_options {
    const lrpx_colormap *cmap;   /* NULL: bwr                                          */
    lrpx_heat_norm       norm;
    double percentile;  /* SYMMETRIC: v = this percentile of |R| (100 = max, default);
                           MINMAX: lo/hi = the (100-p)th / pth percentiles of R   */
    double vmax;        /* > 0: fixed scale instead of the data: v = vmax
                           (SYMMETRIC), [lo, hi] = [-vmax, vmax] (MINMAX)        */
    double gamma;       /* sign(x)|x|^gamma after normalising to [-1,1]; 1 = off */
};

LRPX_API void        lrpx_heatmap_options_default(struct lrpx_heatmap_options *opts);
/* CONSTRUCTOR: one-channel map (bit_depth 32) from a relevance tensor.
 * Accepted shapes: rank 2 (H,W); rank 3 (C,H,W) or (H,W,C) by layout; rank 4
 * with batch 1 (NCHW/NHWC by layout; UNSET means NCHW). Only float32.
 * Returns: LRPX_OK, LRPX_ESHAPE, LRPX_EUNSUPPORTED (dtype), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_heatmap_reduce(const lrpx_tensor_view *rel, lrpx_layout layout,
                                         lrpx_heat_reduce how, lrpx_image **out,
                                         char *errbuf, size_t errlen);
/* CONSTRUCTOR: RGB pixmap of a one-channel map: normalise (opts), apply
 * gamma, look up the colour map, round to 8 bits. Non-finite values are
 * ignored when finding the scale; NaN maps to the centre. opts NULL means
 * the defaults. Returns: LRPX_OK, LRPX_EINVAL (channels != 1, bad
 * percentile/gamma), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_heatmap_render(const lrpx_image *map,
                                         const struct lrpx_heatmap_options *opts,
                                         lrpx_pixmap **out, char *errbuf, size_t errlen);
/* The map values that lrpx_heatmap_render sends to u = 0 and u = 1 (before
 * gamma; lo = -hi for SYMMETRIC), for colour bars and tests. Same returns
 * as lrpx_heatmap_render. */
LRPX_API lrpx_status lrpx_heatmap_scale(const lrpx_image *map,
                                        const struct lrpx_heatmap_options *opts,
                                        double *lo, double *hi, char *errbuf, size_t errlen);
/* CONSTRUCTOR: (1 - alpha) * base + alpha * heat, per pixel, rounded. Same
 * width/height required (LRPX_ESHAPE); a gray base is used as RGB. alpha in
 * [0, 1] (LRPX_EINVAL). */
LRPX_API lrpx_status lrpx_pixmap_overlay(const lrpx_pixmap *base, const lrpx_pixmap *heat,
                                         double alpha, lrpx_pixmap **out,
                                         char *errbuf, size_t errlen);

/* Grid layout: cells in rows of n_cols, each centred in a box as large as
 * the largest cell, gap pixels between boxes and around them, an optional
 * label under each cell in the built-in 5x7 font (printable ASCII; other
 * bytes show as '?'), scaled by label_scale. */
struct lrpx_grid_options {
    int     n_cols;          /* 0: all in one row                       */
    int     gap;             /* pixels, default 4                       */
    int     label_scale;     /* font scale, default 2 (10x14 per glyph)  */
    uint8_t background[3];   /* default white                           */
    uint8_t text[3];         /* default black                           */
};
LRPX_API void        lrpx_grid_options_default(struct lrpx_grid_options *opts);
/* CONSTRUCTOR: an RGB pixmap laying out n cells (gray cells become RGB).
 * labels may be NULL, and so may any labels[i]. Labels wider than the box
 * are cut. Returns: LRPX_OK, LRPX_EINVAL (n < 1, NULL cell), LRPX_ELIMIT
 * (result over 2^31 bytes), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_pixmap_grid(const lrpx_pixmap *const *cells, const char *const *labels,
                                      int n, const struct lrpx_grid_options *opts,
                                      lrpx_pixmap **out, char *errbuf, size_t errlen);
/* CONSTRUCTOR: image | heatmap side by side with the grid defaults and no
 * labels. */
LRPX_API lrpx_status lrpx_pixmap_panel(const lrpx_pixmap *left, const lrpx_pixmap *right,
                                       lrpx_pixmap **out, char *errbuf, size_t errlen);
/* CONSTRUCTOR: a token strip: the n tokens of a text model (NULL or a NULL
 * entry shows '?') in a row of boxes, each box in the colour its relevance
 * rel[i] takes under opts (colour map, symmetric scale, gamma, as
 * lrpx_heatmap_render; NULL: the defaults), the text in black in the
 * built-in font at scale (< 1: 2), lines wrapped at max_width pixels (< 64:
 * 900). Tokens longer than 40 characters are cut.
 * Returns: LRPX_OK, LRPX_EINVAL (n < 1, NULL rel/out), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_token_strip_render(const float *rel, const char *const *tokens,
                                             int n, const struct lrpx_heatmap_options *opts,
                                             int scale, int max_width, lrpx_pixmap **out,
                                             char *errbuf, size_t errlen);
/* The same as an HTML page: n_rows sequences of n tokens (rel holds
 * n_rows * n values), one paragraph each, every token a <span> coloured by
 * its relevance over the row's largest |R| (cmap NULL: bwr), the value in
 * its title. Written atomically (a temporary renamed over path).
 * Returns: LRPX_OK, LRPX_EINVAL, LRPX_EIO. */
LRPX_API lrpx_status lrpx_token_strip_save_html(const float *rel, const char *const *tokens,
                                                int n, int n_rows, const lrpx_colormap *cmap,
                                                const char *path, char *errbuf, size_t errlen);
/* METHOD of lrpx_pixmap: draw text with its top-left corner at (x, y); '\n'
 * starts a new line. Pixels outside the pixmap are skipped. Each glyph cell
 * is 6*scale x 8*scale. Returns the width in pixels of the longest line. */
LRPX_API int         lrpx_pixmap_draw_text(lrpx_pixmap *pm, int x, int y, const char *text,
                                           int scale, const uint8_t rgb[3]);

/* ---- interpretation: activation maximisation (src/methods/actmax.c,
 *      density.c; docs/interpretation.md) ---- */

/* A density model of real examples, the "expert" of activation
 * maximisation: a Gaussian or a mixture of Gaussians over the examples'
 * values, modelled on their top `rank` principal axes, with one shared
 * variance for the rest (low rank plus diagonal; rank D: the full
 * covariance). Immutable after the fit: threads may share it. */
typedef enum lrpx_density_kind {
    LRPX_DENSITY_GAUSSIAN = 0,    /* one Gaussian (mean and covariance)      */
    LRPX_DENSITY_GMM,             /* K Gaussians, fitted by EM                */
    LRPX_DENSITY_COUNT
} lrpx_density_kind;

struct lrpx_density_options {
    lrpx_density_kind kind;       /* default GAUSSIAN                         */
    int      components;          /* GMM: K in 1..1000, default 10            */
    int      rank;                /* principal axes modelled (at most the
                                     examples' count and D); 0 (default): all
                                     D when D <= 256, else 64                  */
    double   reg;                 /* added to every variance, default 1e-6
                                     (scikit-learn's reg_covar)               */
    int      max_iter;            /* EM iterations, default 100               */
    double   tol;                 /* EM stops when the mean log-likelihood
                                     gains less, default 1e-3                  */
    uint64_t seed;                /* k-means++ initialisation of EM           */
};
LRPX_API void lrpx_density_options_default(struct lrpx_density_options *opts);

typedef struct lrpx_density lrpx_density;

/* CONSTRUCTOR: fit a density on data, a float32 stack of N >= 2 examples
 * (axis 0; each example the other axes, D values). opts NULL: the
 * defaults. On failure *out is NULL.
 * Returns: LRPX_OK; LRPX_EINVAL (bad options, fewer than 2 examples, more
 * components than examples, values that are not finite, examples that do
 * not vary, a covariance that is not positive definite: raise reg);
 * LRPX_ELIMIT (N * D over 2^26, or min(N, D) over 8192); LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_density_fit(const lrpx_tensor_view *data,
                                      const struct lrpx_density_options *opts,
                                      lrpx_density **out, char *errbuf, size_t errlen);
LRPX_API void        lrpx_density_free(lrpx_density *d);   /* NULL is a no-op */
LRPX_API int64_t     lrpx_density_dim(const lrpx_density *d);   /* D; 0 for NULL */

typedef struct lrpx_density_info {
    lrpx_density_kind kind;
    int64_t dim;                  /* D, values per example                    */
    int64_t n_samples;            /* examples fitted on                       */
    int     components;
    int     rank;                 /* principal axes kept                      */
    int     n_iter;               /* EM iterations run (0 for a Gaussian)     */
    int     converged;            /* EM met tol (always 1 for a Gaussian)     */
    double  resid_var;            /* the variance off the axes (NaN: rank D)  */
    double  mean_log_lik;         /* mean log p over the examples             */
} lrpx_density_info;
/* Returns LRPX_OK or LRPX_EINVAL (NULL arguments). */
LRPX_API lrpx_status lrpx_density_get_info(const lrpx_density *d, lrpx_density_info *out);
/* Component k: its weight, mean (D doubles) and covariance (D x D
 * doubles, row-major: U S U^T + resid_var (I - U U^T)); any of the three
 * may be NULL. Returns LRPX_OK, LRPX_EINVAL (k out of range), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_density_component(const lrpx_density *d, int k, double *weight,
                                            double *mean, double *cov);
/* log p(x) of n rows of D floats into logp (n doubles, may be NULL) and
 * its gradient d log p / dx into grad (n * D floats, may be NULL).
 * Returns LRPX_OK, LRPX_EINVAL (NULL arguments), LRPX_ENOMEM. */
LRPX_API lrpx_status lrpx_density_log_prob(const lrpx_density *d, const float *x, int64_t n,
                                           double *logp, float *grad);

/* The class score that activation maximisation raises. */
typedef enum lrpx_max_score {
    LRPX_MAX_SCORE_AUTO = 0,      /* LOGPROB with an expert, else LOGIT       */
    LRPX_MAX_SCORE_LOGIT,         /* f_K(x), the class's logit                 */
    LRPX_MAX_SCORE_LOGPROB,       /* log p(class K | x): log softmax_K         */
    LRPX_MAX_SCORE_COUNT
} lrpx_max_score;

/* Options of lrpx_session_maximize. Fill with lrpx_maximize_options_default.
 * v is what is optimised: the input x, or with a decoder the code z of
 * x = g(z). Each step is v <- v + step * dJ/dv with
 *     J = score_K(x) + expert_weight * log p(x) - lambda |v - v0|^2,
 * then (input space) a blur every blur_every steps and the box. */
struct lrpx_maximize_options {
    int64_t          target;      /* the class K (default -1: must be set)    */
    lrpx_max_score   score;
    const char      *output_name; /* NULL: the first output; a trailing       */
                                  /* Softmax/LogSoftmax is skipped (logits)   */
    const char      *input_name;  /* NULL: the first fed input                */
    int              iters;       /* steps, default 200 (0: just evaluate v0)  */
    double           step;        /* default 0.1                              */
    double           lambda;      /* default 0.01                             */
    /* box of the input (e.g. lrpx_preprocess_box_bounds): scalars (NaN,
     * the default: unbounded) or n_box_c per-channel values (caller-owned;
     * channel axis 1, or the last with nhwc) */
    double           box_low, box_high;
    const float     *box_low_c, *box_high_c;
    int              n_box_c;
    int              nhwc;        /* rank-4 input is N,H,W,C (default N,C,H,W) */
    /* regularisers of rank-4 inputs: a Gaussian blur of x (sigma in pixels,
     * 0: off) every blur_every steps, and each gradient taken at a copy of
     * x rolled by up to jitter pixels in each direction (0: off) */
    double           blur_sigma;
    int              blur_every;  /* default 1                                */
    int              jitter;
    /* v0: start and anchor of the penalty, one sample's input (or code)
     * with or without the batch axis; data NULL: start_value everywhere,
     * or when that is NaN (the default) the middle of the box (0 unbounded
     * or for a code). The first point is v0 plus Gaussian noise of
     * init_sigma times the box width (times 1 unbounded or for a code),
     * drawn from seed, then boxed. */
    lrpx_tensor_view start;
    double           start_value;
    double           init_sigma;  /* default 0.1                              */
    uint64_t         seed;
    /* the expert: a density of the input's values (lrpx_density_dim = the
     * values of one sample), NULL: none */
    const lrpx_density *expert;
    double           expert_weight;   /* default 1                            */
    /* code space: a session of the generator g (its model must outlive the
     * call); NULL: optimise the input. Its first fed input (or
     * decoder_input) is z, of its declared shape with batch 1; its first
     * output (or decoder_output) must have the model input's shape. */
    lrpx_session    *decoder;
    const char      *decoder_input, *decoder_output;
};
LRPX_API void lrpx_maximize_options_default(struct lrpx_maximize_options *opts);

typedef struct lrpx_maximize_result lrpx_maximize_result;

/* One point of the ascent: step 0 is the first point, step i the point
 * after i updates. */
typedef struct lrpx_maximize_step {
    double  objective;            /* J                                        */
    double  logit;                /* f_K(x)                                   */
    double  log_prob;             /* log softmax_K                            */
    double  expert_log_p;         /* log p(x) under the expert; NaN: none     */
    double  penalty;              /* lambda |v - v0|^2                        */
    int64_t predicted;            /* the class with the largest logit         */
} lrpx_maximize_step;

/* METHOD of lrpx_session: activation maximisation of class opts->target
 * (Montavon, Samek, Mueller 2017, section 3): gradient ascent from a seeded
 * start, with the expert or in the decoder's code space when given. The
 * session's input and passes are replaced (they hold the last point); its
 * progress function (lrpx_session_set_progress) is called after every
 * step. *out receives the result (free with lrpx_maximize_result_free);
 * NULL on failure.
 * Returns: LRPX_OK; LRPX_EINVAL (a class out of range, bad options naming
 * the field, an expert of another size, a start that does not fit);
 * LRPX_ESHAPE (a decoder output that does not fit the model input, an
 * input with symbolic dimensions besides the batch and no start);
 * LRPX_EUNSUPPORTED (an op without a gradient on the path); LRPX_ENOMEM;
 * or a pass's error. The message is on the session. */
LRPX_API lrpx_status lrpx_session_maximize(lrpx_session *session,
                                           const struct lrpx_maximize_options *opts,
                                           lrpx_maximize_result **out);
LRPX_API void        lrpx_maximize_result_free(lrpx_maximize_result *r);   /* NULL: no-op */
/* Points recorded: iters + 1. */
LRPX_API int64_t     lrpx_maximize_result_n_steps(const lrpx_maximize_result *r);
/* Returns LRPX_OK or LRPX_EINVAL (i out of range, NULL arguments). */
LRPX_API lrpx_status lrpx_maximize_result_step(const lrpx_maximize_result *r, int64_t i,
                                               lrpx_maximize_step *out);
/* The prototype x (the last point; with a decoder g(z)), float32 with the
 * model input's shape, batch 1; and the code z (LRPX_EINVAL without a
 * decoder). Owned by the result. */
LRPX_API lrpx_status lrpx_maximize_result_prototype(const lrpx_maximize_result *r,
                                                    lrpx_tensor_view *out);
LRPX_API lrpx_status lrpx_maximize_result_code(const lrpx_maximize_result *r,
                                               lrpx_tensor_view *out);

#ifdef __cplusplus
}
#endif /* __cplusplus */

#endif /* LRPX_H */
