/* Internals shared by the LRP front end (src/lrp/explain.c), the rule-spec
 * language (spec.c, rule_file.c), the rule resolution (resolve.c), the
 * canonizers (canonize.c) and the rule kernels of linear layers
 * (linear.c). Nothing here is seen by ops. */
#ifndef LRPX_LRP_IMPL_H
#define LRPX_LRP_IMPL_H

#include "exec/session.h"
#include "graph/patterns.h"
#include "core/rules.h"

/* Work buffers shared by every linear node of one relevance pass (nodes
 * run one at a time). Sizes are the largest any node needs; allocated by
 * the front end at explain time (never in forward, never in x->scratch,
 * which apply/apply_t use). */
struct lrpx_lrp_work {
    int64_t n_in, n_out, n_w;    /* floats per buffer                     */
    float  *in[4];               /* data-input sized                      */
    float  *out[4];              /* output sized                          */
    float  *w[2];                /* weight sized (modified weights)       */
};

/* One linear node in a pass: what the canonizers merged into it. */
struct lrpx_lrp_linear {
    struct lrpx_lrp_work *work;
    int          tail;           /* value holding the layer's (fused)     */
                                 /* output, z with the original weights   */
    int          add_node;       /* absorbed bias Add, or -1              */
    int          add_const;      /* its constant operand (value), or -1   */
    int          bn_node;        /* absorbed BatchNormalization, or -1    */
    const float *w;              /* weight to use: the model's or w_own   */
    float       *w_own;          /* W' = a W (BN merged), owned           */
    float       *bn_scale;       /* a[c] = gamma / sqrt(var + eps), owned */
    float       *bn_shift;       /* beta - a mean                         */
    int64_t      bn_c;           /* channels (axis 1 of the output)       */
    double       wscale;         /* Gemm alpha (1 for the others)         */
};

/* ---- canonize.c ---- */

/* Find the BN / bias-Add that directly follows linear node li in the plan
 * and fill lin (tail, absorbed nodes, merged weight). Allocates w_own /
 * bn_* with lrpx__malloc. Returns LRPX_OK (also when nothing is fused) or
 * LRPX_ENOMEM with the session message set. */
lrpx_status lrpx__lrp_canonize(lrpx_session *s, int li, struct lrpx_lrp_linear *lin);
/* Free what lrpx__lrp_canonize allocated. */
void        lrpx__lrp_linear_release(struct lrpx_lrp_linear *lin);
/* Relevance function of an absorbed node: R of output 0 is added
 * unchanged to every input that carries a relevance buffer. */
lrpx_status lrpx__lrp_forward_absorbed(struct lrpx_exec *x, const struct lrpx_node *n);

/* ---- linear.c ---- */

/* Floats of work buffers node n needs under rule cfg (sizes of the data
 * input, the output, and the weight if the rule modifies weights). */
void lrpx__lrp_linear_need(const struct lrpx_exec *x, const struct lrpx_node *n,
                           const struct lrpx_rule_cfg *cfg, int64_t *n_in, int64_t *n_out,
                           int64_t *n_w);
/* Whether n is a linear node lrpx can apply rules to (def->linear set). */
bool lrpx__lrp_is_linear(const struct lrpx_node *n);

/* ---- spec.c: the rule-spec language ---- */

/* What a node is for rule resolution in a plan: its op's LRP class, the
 * plan (MatMul of two computed values is bilinear) and the patterns
 * (a pattern's head takes the pattern's kind, its other nodes none). */
enum lrpx_kind {
    LRPX_KIND_OTHER = 0,     /* its op's own relevance function             */
    LRPX_KIND_LINEAR,        /* a linear layer with a constant weight        */
    LRPX_KIND_BILINEAR,      /* a product of two computed values (q.k^T)     */
    LRPX_KIND_SOFTMAX,       /* Softmax inside the network                   */
    LRPX_KIND_NORM,          /* LayerNormalization, or a NORM pattern         */
    LRPX_KIND_ACTIVATION,    /* element-wise nonlinearity, or a pattern       */
    LRPX_KIND_MAXLIKE,       /* max pools and max/min reductions             */
    LRPX_KIND_MEMBER,        /* inside a pattern, not its head               */
    LRPX_KIND_COUNT
};
#define LRPX_KIND_BIT(k) (1u << (k))
/* "no rule": the node keeps its op's relevance function (for bilinear
 * products and Softmax an error naming the node) */
#define LRPX_RULE_NONE LRPX_RULE_COUNT

/* Zennit's defaults */
#define LRPX_LRP_DEFAULT_EPS   1e-6
#define LRPX_LRP_DEFAULT_GAMMA 0.25
#define LRPX_LRP_DEFAULT_STAB  1e-6

enum lrpx_sel_kind {
    LRPX_SEL_ALL = 0,     /* "*"            */
    LRPX_SEL_OP,          /* "Conv"         */
    LRPX_SEL_FIRST,       /* "first"        */
    LRPX_SEL_INDEX,       /* "index:N"      */
    LRPX_SEL_NAME,        /* "name:NODE"    */
    LRPX_SEL_KIND,        /* "bilinear", "norm", ... */
};

/* Which layer of a composite gets its first-layer rule. */
enum lrpx_first_layer {
    LRPX_FIRST_NONE = 0,
    LRPX_FIRST_LINEAR,    /* the first linear layer (topological order) */
    LRPX_FIRST_CONV,      /* the first convolution                      */
};

struct lrpx_composite {
    const char           *name;
    enum lrpx_first_layer first;
    lrpx_rule             first_rule;
    lrpx_rule             layer[LRPX_LAYER_COUNT];   /* by layer kind      */
    double                alpha, beta;               /* of alphabeta there */
    /* the rules of the other kinds (LRPX_RULE_NONE: none) */
    lrpx_rule             bilinear, softmax, norm, activation;
    double                stab;                      /* default stabiliser */
};

/* One parsed "SELECTOR=RULE" specification. */
struct lrpx_rule_spec {
    enum lrpx_sel_kind  sel;
    char                sel_text[LRPX_LRP_OVERRIDE_MAX];   /* op type or node name */
    int64_t             index;
    enum lrpx_kind      kind;           /* LRPX_SEL_KIND                   */
    unsigned            kinds;          /* the kinds the rule fits (bits)  */
    bool                is_maxpool;     /* a max-pool mode, else a rule    */
    lrpx_rule           rule;
    double              p1, p2;         /* eps | gamma | alpha, beta | low, high */
    int                 n_c;            /* zbox per-channel: count (0: scalar) */
    float               low_c[LRPX_LRP_MAX_BOX_C];
    float               high_c[LRPX_LRP_MAX_BOX_C];
    lrpx_maxpool_mode   maxpool;
};

/* Parse "SELECTOR=RULE"; on error writes a message naming the bad part
 * into err (errlen bytes) and returns LRPX_EINVAL. */
lrpx_status lrpx__lrp_spec_parse(const char *text, struct lrpx_rule_spec *spec, char *err,
                                 size_t errlen);
/* Rule text as lrpx_session_explained_node reports it ("epsilon:1e-06",
 * "sum", "norm", "proportional" for proportional ops of kind OTHER, ""
 * for no rule). */
void        lrpx__lrp_rule_text(const struct lrpx_rule_cfg *cfg, enum lrpx_kind kind,
                                bool proportional, char *buf, size_t size);
/* The kinds ops of class c can be (bits). */
unsigned    lrpx__lrp_class_kinds(enum lrpx_lrp_class c);
/* "linear layers", "norms", ... for messages */
const char *lrpx__lrp_kind_name(enum lrpx_kind k);
/* The kinds a rule fits (bits). */
unsigned    lrpx__lrp_rule_kinds(lrpx_rule rule);
const struct lrpx_composite *lrpx__lrp_composite_find(const char *name);
/* Format a message into err (errlen bytes; nothing when err is NULL). */
void        lrpx__lrp_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The rule works with a modified weight (needs a weight-sized buffer). */
bool        lrpx__lrp_rule_modifies_w(lrpx_rule rule);
/* "a, b, c" of the composite names */
void        lrpx__lrp_composite_list(char *buf, size_t size);
/* Set o->composite to a known name, else write a message and return false. */
bool        lrpx__lrp_set_composite(struct lrpx_lrp_options *o, const char *name, char *err,
                                    size_t errlen);

/* ---- resolve.c ---- */

/* What resolution found in the plan: the patterns and each node's kind
 * and pattern (-1: none). Freed with lrpx__lrp_plan_info_free. */
struct lrpx_lrp_plan_info {
    struct lrpx_pattern *pats;
    int                  n_pats;
    uint8_t             *kind;        /* per node: enum lrpx_kind          */
    int                 *pat_of;      /* per node: its pattern or -1       */
};
void        lrpx__lrp_plan_info_free(struct lrpx_lrp_plan_info *pi);

/* Resolve composite + overrides into s->rules / s->rule_desc (allocated
 * here), with the patterns and kinds in *pi. Per-channel bounds parsed
 * from overrides are stored in *box (malloc, freed by the caller after the
 * pass). */
lrpx_status lrpx__lrp_resolve(lrpx_session *s, const struct lrpx_lrp_options *o, float **box,
                              struct lrpx_lrp_plan_info *pi);

/* ---- transformer.c: the rules of the other kinds ---- */

/* Per node of a pass: its pattern (NULL: none) and the shared buffer. */
struct lrpx_lrp_xf {
    const struct lrpx_pattern *pat;
    float                     *buf;       /* work floats, n_buf of them     */
    int64_t                    n_buf;
};
/* The relevance function of the head of a pattern under rule (norm,
 * taylor, or pass for anything else). */
lrpx_status (*lrpx__lrp_xf_pattern_fn(lrpx_rule rule))(struct lrpx_exec *,
                                                      const struct lrpx_node *);
/* Floats of work buffer node n needs for its rule (0: none). */
int64_t     lrpx__lrp_xf_need(const struct lrpx_exec *x, const struct lrpx_node *n,
                              lrpx_rule rule, const struct lrpx_pattern *pat);
/* The relevance function a node of this kind and rule gets for the pass
 * (NULL: its op's own). */
lrpx_status (*lrpx__lrp_xf_fn(enum lrpx_kind kind, lrpx_rule rule))(struct lrpx_exec *,
                                                                    const struct lrpx_node *);

/* r / stab_e(z) as lrpx__stabilize gives it, without a branch (so that
 * loops of it vectorise and signs that change at random cost nothing):
 * stab_e(z) = z + e sign(z) with sign(0) = +1 (NaN: NaN), and where that
 * is 0, lrpx__stabilize's infinity makes r * 0 */
static inline double
lrpx__stab_div(double r, double z, double e)
{
    const double sg  = (double)(z >= 0.0) - (double)(z < 0.0);
    const double d   = z + e * sg;
    const double isz = (double)(d == 0.0);
    return r / (d + isz) * (1.0 - isz);
}

/* The element-wise steps of the epsilon-type rules, vectorised and spread
 * over the pool's threads (each element by the same code, so the bits do
 * not depend on the thread count):
 *   divide      u = (float)(r / lrpx__stabilize(z, e))   (the same value)
 *   accumulate  rin = (float)(rin + scale * a g) in double; a NULL: g */
void lrpx__lrp_divide(struct lrpx_pool *pool, float *u, const float *r, const float *z,
                      int64_t n, double e);
void lrpx__lrp_accumulate(struct lrpx_pool *pool, float *rin, const float *a, const float *g,
                          int64_t n, double scale);

#endif /* LRPX_LRP_IMPL_H */
