/* The internal DAG: values (tensors by name) and nodes (op applications),
 * with producer/consumer links. Built by the loader (src/onnx/load.c), which
 * is the only place that sees protobuf types; owned by lrpx_model. */
#ifndef LRPX_GRAPH_H
#define LRPX_GRAPH_H

#include "lrpx_internal.h"

/* ---- attributes (parsed from AttributeProto by the loader) ---- */

enum lrpx_attr_type {
    LRPX_ATTR_UNDEFINED = 0,
    LRPX_ATTR_FLOAT,
    LRPX_ATTR_INT,
    LRPX_ATTR_STRING,
    LRPX_ATTR_TENSOR,
    LRPX_ATTR_FLOATS,
    LRPX_ATTR_INTS,
    LRPX_ATTR_STRINGS,
    LRPX_ATTR_OTHER,      /* graphs, sparse tensors, type protos: kept by name only */
};

struct lrpx_attr {
    const char         *name;
    enum lrpx_attr_type type;
    float               f;
    int64_t             i;
    const char         *s;          /* NUL-terminated copy (may hold NULs before) */
    size_t              s_len;
    struct lrpx_tensor  t;          /* LRPX_ATTR_TENSOR                           */
    int                 n_ints;
    const int64_t      *ints;
    int                 n_floats;
    const float        *floats;
    int                 n_strings;
    const char *const  *strings;
};

/* ---- values ---- */

enum lrpx_value_kind {
    LRPX_VALUE_INTERMEDIATE = 0,   /* produced by a node                       */
    LRPX_VALUE_INPUT,              /* fed by the caller                        */
    LRPX_VALUE_CONST,              /* initializer or Constant: data known      */
};

struct lrpx_value {
    const char          *name;
    enum lrpx_value_kind kind;
    int                  producer;          /* node index, -1 for inputs/consts  */
    int                  n_consumers;
    int                 *consumers;         /* node indices (a node twice if it  */
                                            /* reads the value twice)            */
    bool                 is_output;         /* a graph output                    */
    /* Declared type (graph inputs/outputs/value_info); rank -1 = unknown,
     * dims -1 = symbolic or unknown, with the symbol in dim_params. */
    lrpx_dtype           decl_dtype;
    int                  decl_rank;
    int64_t              decl_dims[LRPX_MAX_RANK];
    const char          *dim_params[LRPX_MAX_RANK];
    /* LRPX_VALUE_CONST: the data, owned by the model arena, 64-byte aligned.
     * An initializer that is also a graph input stays CONST unless fed. */
    struct lrpx_tensor   data;
    bool                 overridable;       /* const that is also a graph input  */
};

/* ---- nodes ---- */

struct lrpx_op_def;

struct lrpx_node {
    const char               *name;        /* "" when the file gives none        */
    const char               *op_type;
    const char               *domain;
    int                       index;       /* position in the file               */
    int                       op;          /* enum lrpx_op, -1 if unsupported    */
    const struct lrpx_op_def *def;         /* NULL if unsupported                */
    int                       n_inputs;
    int                      *inputs;      /* value index, -1 = omitted optional */
    int                       n_outputs;
    int                      *outputs;     /* value index, -1 = omitted optional */
    int                       n_attrs;
    struct lrpx_attr         *attrs;
};

/* ---- graph ---- */

struct lrpx_graph {
    const char        *path;        /* model file as given, for messages        */
    const char        *dir;         /* its folder, for external data            */
    int64_t            opset;       /* default domain ("" or "ai.onnx")         */
    int64_t            ir_version;

    int                n_values;
    int                cap_values;  /* room for values the passes add      */
    struct lrpx_value *values;
    int                n_nodes;
    struct lrpx_node  *nodes;

    int                n_inputs;    /* fed graph inputs (not initializers)      */
    int               *inputs;      /* value indices                            */
    int                n_outputs;
    int               *outputs;

    int                n_order;     /* topological order of the nodes that some */
    int               *order;       /* output needs (Kahn), node indices        */

    /* the files read: the model (when loaded from a file), then each
     * external data file, resolved paths, each once (lrpx_model_file) */
    int                n_files;
    int                cap_files;
    const char       **files;

    struct lrpx_arena  arena;       /* names, attributes, weights               */
    struct lrpx_err   *err;         /* the model's message buffer               */
};

/* ---- graph functions (src/graph/graph.c) ---- */

/* Value by name, -1 if absent. */
int lrpx__graph_find_value(const struct lrpx_graph *g, const char *name);
/* Add path (copied into the arena) to g->files unless it is there already.
 * Returns false when out of memory. */
bool lrpx__graph_add_file(struct lrpx_graph *g, const char *path);
/* Fill consumers and producers, check single assignment; names the node on
 * error. */
lrpx_status lrpx__graph_link(struct lrpx_graph *g);
/* Kahn order of the nodes that reach an output; cycles and missing inputs
 * are LRPX_EPARSE with the node named. Iterative, no recursion. */
lrpx_status lrpx__graph_toposort(struct lrpx_graph *g);
/* Graph passes before sorting (src/graph/passes.c): BatchNormalization
 * folded into a preceding Conv/ConvTranspose/Gemm whose output nothing
 * else reads, Identity and inference Dropout removed (consumers rewired).
 * Links are rebuilt. Returns the number of nodes removed in *n_removed. */
lrpx_status lrpx__graph_passes(struct lrpx_graph *g, bool fold_batchnorm, int *n_removed);
/* Model randomisation (src/graph/randomize.c), one routine for
 * lrpx_load_options.randomize_layers and lrpx_session_evaluate's
 * model-randomisation. A layer that can be re-initialised: a linear node
 * with a constant float weight (value w), its bias (value b, -1: none) and
 * the fan-in of PyTorch's initialisation. */
struct lrpx_rand_layer {
    int     node;
    int     w, b;
    int64_t fan_in;
};
/* The layers in execution order into out (NULL: only count); the count. */
int  lrpx__graph_linear_layers(const struct lrpx_graph *g, struct lrpx_rand_layer *out);
/* The new weight (w, as many values as l->w has) and bias (b, when l->b >=
 * 0) of layer l: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from lrpx's generator
 * restarted at seed + 1 (the same numbers for a layer whatever else is
 * randomised). */
void lrpx__graph_layer_draw(const struct lrpx_graph *g, const struct lrpx_rand_layer *l,
                            uint64_t seed, float *w, float *b);
/* After the sort: the last n_layers layers (-1: all) drawn again in place.
 * *n_done receives how many were. */
lrpx_status lrpx__graph_randomize(struct lrpx_graph *g, int n_layers, uint64_t seed,
                                  int *n_done);

/* BatchNormalization as the per-channel affine map y = a x + (B - a mean),
 * a = scale / sqrt(var + eps): the load-time folding and the LRP canonizer
 * (src/lrp/canonize.c) merge it into a linear layer the same way. */
struct lrpx_bn_params {
    const float *scale, *bias, *mean, *var;
    double       eps;
    int64_t      n_c;
};
struct lrpx_chan_layout;
/* bn is a BatchNormalization in inference form (five inputs, only Y
 * requested, no training mode, spatial). */
bool lrpx__bn_is_inference(const struct lrpx_node *bn);
/* w_out[i] = a[c(i)] w[i] for the n_w weights of layout l, rounded once
 * from double; scale_out/shift_out (n_c each, may be NULL) receive a and
 * B - a mean. */
void lrpx__bn_fold(const struct lrpx_bn_params *p, const float *w, int64_t n_w,
                   const struct lrpx_chan_layout *l, float *w_out, float *scale_out,
                   float *shift_out);
/* "model.onnx: node 'conv1' (#3, Conv)" into buf, for messages. */
const char *lrpx__node_label(const struct lrpx_graph *g, const struct lrpx_node *n,
                             char *buf, size_t size);

/* ---- attribute getters (src/graph/attr.c) ---- */

const struct lrpx_attr *lrpx__attr_find(const struct lrpx_node *n, const char *name);
int64_t     lrpx__attr_int(const struct lrpx_node *n, const char *name, int64_t def);
float       lrpx__attr_float(const struct lrpx_node *n, const char *name, float def);
const char *lrpx__attr_string(const struct lrpx_node *n, const char *name, const char *def);
/* Returns the count (0 when absent or of another type) and points *out at
 * the values (never NULL, also for an empty list). */
int         lrpx__attr_ints(const struct lrpx_node *n, const char *name, const int64_t **out);
int         lrpx__attr_floats(const struct lrpx_node *n, const char *name, const float **out);

#endif /* LRPX_GRAPH_H */
