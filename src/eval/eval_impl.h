/* Internals of the evaluation metrics (src/eval/): the parameter tables
 * (metric.c), the shared machinery that feeds perturbed inputs through the
 * session in batches (context.c), and one file per metric family. */
#ifndef LRPX_EVAL_IMPL_H
#define LRPX_EVAL_IMPL_H

#include "exec/session.h"

/* Every parameter any metric takes; each metric lists the ones it has
 * (with its own default) in metric.c. */
enum eval_key {
    K_ABS = 0,
    K_NORMALISE,
    K_SOFTMAX,
    K_BATCH_SIZE,
    K_FEATURES_IN_STEP,
    K_PERTURB_BASELINE,
    K_UNIFORM_LOW,
    K_UNIFORM_HIGH,
    K_BLUR_KERNEL_SIZE,
    K_RETURN_AUC_PER_SAMPLE,
    K_PATCH_SIZE,
    K_ORDER,
    K_REGIONS_EVALUATION,
    K_NR_STEPS,
    K_RETURN_NAN,
    K_NR_SAMPLES,
    K_PERTURB_MEAN,
    K_PERTURB_STD,
    K_LOWER_BOUND,
    K_UPPER_BOUND,
    K_WEIGHTED,
    K_MAX_SIZE,
    K_SIMILARITY_FUNC,
    K_LAYER_ORDER,
    K_SEED,
    K_RETURN_AVERAGE_CORRELATION,
    K_RETURN_LAST_CORRELATION,
    K_SKIP_LAYERS,
    K_NUM_CLASSES,
    K_COUNT
};

/* choices, in the order of their names in metric.c */
enum { BASE_BLACK = 0, BASE_WHITE, BASE_MEAN, BASE_UNIFORM, BASE_BLUR, BASE_CONST };
enum { ORDER_MORF = 0, ORDER_LERF, ORDER_RANDOM };
enum { SIM_SPEARMAN = 0, SIM_SSIM };
enum { LAYERS_TOP_DOWN = 0, LAYERS_BOTTOM_UP, LAYERS_INDEPENDENT };

/* A parameter's value: a number (bools 0/1, choices their index), or
 * none (an optional number left unset). A baseline given as a number is
 * choice BASE_CONST with the number. */
struct eval_value {
    double num;       /* numbers and bools                                 */
    int    choice;    /* choices: the index; -1 for numbers                */
    bool   none;
};

struct lrpx_metric {
    lrpx_metric_id    id;
    bool              has[K_COUNT];
    struct eval_value v[K_COUNT];
};

static inline double
eval_num(const lrpx_metric *m, enum eval_key k)
{
    return m->v[k].num;
}
static inline int
eval_int(const lrpx_metric *m, enum eval_key k)
{
    return (int)m->v[k].num;
}
static inline int
eval_choice(const lrpx_metric *m, enum eval_key k)
{
    return m->v[k].choice;
}
static inline bool
eval_bool(const lrpx_metric *m, enum eval_key k)
{
    return m->v[k].num != 0.0;
}

/* ---- results (evaluate.c) ---- */

#define EVAL_MAX_EXTRA 4
struct eval_sample_res {
    int64_t         target;
    lrpx_score_kind kind;
    double          score;
    double          summary;
    int64_t         n_curve;
    double         *curve;                  /* lrpx__malloc */
    int             n_extra;
    const char     *extra_names[EVAL_MAX_EXTRA];
    double          extra[EVAL_MAX_EXTRA];
};

struct lrpx_eval_result {
    int64_t                 n;
    struct eval_sample_res *s;
    int                     n_labels;       /* curve labels (shared)         */
    char                  **labels;
};

/* ---- the context a metric runs in (context.c) ---- */

struct eval_ctx {
    lrpx_session                   *s;
    const lrpx_metric              *m;
    const struct lrpx_eval_options *o;
    struct lrpx_eval_result        *r;
    int64_t  n;                 /* samples                                   */
    int      rank;              /* of x, batch axis included                 */
    int64_t  dims[LRPX_MAX_RANK];
    int64_t  f;                 /* features (floats) per sample              */
    int64_t  c, h, w;           /* rank 4: channels, height, width; else
                                   c = 1, h = 1, w = f                       */
    bool     nhwc;
    const float *x;             /* n * f                                     */
    int64_t *targets;           /* n                                         */
    int      max_batch;         /* samples per session pass                  */
    uint64_t seed;
    const char *output_name;    /* the scored output; NULL: the first        */
    /* the caller's method options with the input name and per-sample
     * targets (eval_explain sets the targets of each batch) */
    struct lrpx_attr_options method;
};

/* Index of element (c, y, x) in one sample. */
static inline int64_t
eval_at(const struct eval_ctx *e, int64_t c, int64_t y, int64_t x)
{
    return e->nhwc ? (y * e->w + x) * e->c + c : (c * e->h + y) * e->w + x;
}

/* Model outputs for n samples xs (n * e->f floats), fed in batches: f[i] =
 * the logit of class cls[i] (softmax 0) or its softmax probability (1);
 * argmax[i] the predicted class (either may be NULL). */
lrpx_status eval_predict(struct eval_ctx *e, const float *xs, int64_t n, const int64_t *cls,
                         bool softmax, float *f, int64_t *argmax);
/* Attribution maps (method e->method) of n samples xs for classes cls, into maps
 * (n * e->f floats); argmax (may be NULL) the predicted classes. */
lrpx_status eval_explain(struct eval_ctx *e, const float *xs, int64_t n, const int64_t *cls,
                         float *maps, int64_t *argmax);
/* Quantus's normalise (a / max|a| over all n * per values, float32; all
 * zero: unchanged) then abs, as the metric's parameters say. */
void        eval_postprocess(const struct eval_ctx *e, float *a, int64_t count);
/* The maps to score, postprocessed, for all samples: the caller's or
 * explained. MAPS_FULL: a map without the channel axis is copied to every
 * channel; MAPS_GIVEN: as given; MAPS_PIXELS: summed over channels (before
 * normalise/abs). *per receives the floats per sample. Caller frees. */
enum eval_maps { MAPS_FULL, MAPS_GIVEN, MAPS_PIXELS };
lrpx_status eval_given_maps(struct eval_ctx *e, enum eval_maps how, float **out, int64_t *per);
/* n explanations of perturbed copies, normalised the way Quantus does it
 * for a step: per chunk of batch-size samples. xs holds n samples, maps
 * receives them; argmax may be NULL. */
lrpx_status eval_explain_steps(struct eval_ctx *e, const float *xs, int64_t n,
                               const int64_t *cls, float *maps, int64_t *argmax);

/* numpy's float32 pairwise summation (np.sum of a float32 array) */
float       eval_sum_f32(const float *a, int64_t n);
/* stable order of a[0..n-1]: descending (most relevant first) or not */
lrpx_status eval_argsort(const float *a, int64_t n, bool descending, int64_t *idx);

/* Seeded draws use lrpx's generator (lrpx__rng_*, src/util/rng.c): a
 * stream per (seed, input, step), so draws do not depend on batching. */

/* The perturbation baseline of the metric's parameters for array z of n
 * values (computed on z as it is now): fills val[0..n-1] with the value
 * each position would take (constant for all but blur). rng for uniform. */
void eval_baseline(const struct eval_ctx *e, const float *z, int64_t c, int64_t h, int64_t w,
                   struct lrpx_rng *rng, float *val);

/* Result helpers */
void eval_set_score(struct eval_ctx *e, int64_t i, lrpx_score_kind kind, double score);
lrpx_status eval_set_curve(struct eval_ctx *e, int64_t i, const double *curve, int64_t n);
void eval_add_extra(struct eval_ctx *e, int64_t i, const char *name, double v);
/* trapezoid with unit spacing */
double eval_trapezoid(const double *y, int64_t n);

/* ---- the metric families ---- */
lrpx_status eval_faithfulness(struct eval_ctx *e);    /* faithfulness.c */
lrpx_status eval_robustness(struct eval_ctx *e);      /* robustness.c   */
lrpx_status eval_localisation(struct eval_ctx *e);    /* localisation.c */
lrpx_status eval_complexity(struct eval_ctx *e);      /* complexity.c: also completeness */
lrpx_status eval_randomisation(struct eval_ctx *e);   /* randomisation.c */

#endif /* LRPX_EVAL_IMPL_H */
