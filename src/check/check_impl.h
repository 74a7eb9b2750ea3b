/* Internals of `lrpx check` (include/lrpx.h, "CI checks"; docs/ci.md):
 *
 *   spec.c     the spec file (JSON) into a list of checks, refusing unknown
 *              fields and wrong types with the JSON path of the mistake
 *   run.c      each check against a model: loads the model once, feeds the
 *              inputs, computes maps and asks src/eval/ for the metrics
 *              (eval/eval.h: lrpx__eval_run and the shared similarities),
 *              then compares with the threshold (the only place that knows
 *              about thresholds)
 *   report.c   the results as text, JSON, JUnit XML and GitHub annotations
 *
 * Everything a spec holds lives in the check's arena.
 */
#ifndef LRPX_CHECK_IMPL_H
#define LRPX_CHECK_IMPL_H

#include "lrpx_internal.h"

/* The kinds of check: tag, name in the spec, what it measures. */
#define LRPX_CHECK_KIND_LIST(X)                                                        \
    X(LOADS,         "loads",         "the model file loads")                          \
    X(OPS,           "ops_supported", "every operator is supported at the model's opset") \
    X(OPSET,         "opset",         "the model's opset lies in [min, max]")           \
    X(IO,            "io",            "input and output names, element types and shapes") \
    X(OUTPUTS,       "outputs",       "outputs on given inputs equal reference outputs within rtol/atol") \
    X(LABELS,        "labels",        "given inputs get given labels")                 \
    X(EXPLANATION,   "explanation",   "a map stays within a cosine/SSIM distance of a stored one") \
    X(LOCALISATION,  "localisation",  "relevance mass inside a mask >= min_mass")       \
    X(FAITHFULNESS,  "faithfulness",  "region-perturbation AOPC >= min_aopc")           \
    X(CONSERVATION,  "conservation",  "|sum of the map - explained logit| <= max_error") \
    X(RANDOMISATION, "randomisation", "similarity to the map of a randomised model <= max_similarity")

enum lrpx_check_kind {
#define X(tag, name, what) LRPX_CHECK_##tag,
    LRPX_CHECK_KIND_LIST(X)
#undef X
    LRPX_CHECK_KIND_COUNT
};

extern const char *const lrpx__check_kind_names[LRPX_CHECK_KIND_COUNT];

/* An explanation method: any of LRPX_ATTR_METHOD_MAP by its name, with its
 * options (lrpx_session_attribute). */
struct lrpx_check_method {
    const char              *name;     /* lrpx_attr_method_name            */
    struct lrpx_attr_options ao;       /* method, rules (lrp), defaults    */
};

/* faithfulness: the region-perturbation parameters (names as lrpx eval's) */
enum lrpx_check_order { LRPX_CHECK_ORDER_MORF = 0, LRPX_CHECK_ORDER_LERF };
enum lrpx_check_baseline {
    LRPX_CHECK_BASELINE_BLACK = 0,     /* "black", "white", "mean", or */
    LRPX_CHECK_BASELINE_WHITE,
    LRPX_CHECK_BASELINE_MEAN,
    LRPX_CHECK_BASELINE_VALUE,         /* a number (baseline_value)    */
};

enum lrpx_check_aggregate { LRPX_CHECK_AGG_MEAN = 0, LRPX_CHECK_AGG_MIN, LRPX_CHECK_AGG_MAX };
enum lrpx_check_distance { LRPX_CHECK_DIST_COSINE = 0, LRPX_CHECK_DIST_SSIM };
enum lrpx_check_similarity {
    LRPX_CHECK_SIM_SPEARMAN = 0,
    LRPX_CHECK_SIM_SSIM,
    LRPX_CHECK_SIM_COSINE,
};

/* An expected graph input or output (kind io). */
struct lrpx_check_value {
    const char *name;
    lrpx_dtype  dtype;                    /* UNDEFINED: any                 */
    int         rank;                     /* -1: shape not checked          */
    int64_t     dims[LRPX_MAX_RANK];      /* -1: symbolic, named by sym[k]  */
    const char *sym[LRPX_MAX_RANK];       /*     (NULL: any dimension)      */
};

#define LRPX_CHECK_MAX_FEEDS 16

struct lrpx_check_item {
    enum lrpx_check_kind kind;
    const char          *name;            /* as given, or NULL               */
    int                  index;           /* position in "checks"            */
    int                  line;            /* of the spec file, 0 unknown     */

    /* inputs: file per model input name (NULL name: the first input) */
    int                  n_feeds;
    const char          *feed_names[LRPX_CHECK_MAX_FEEDS];
    const char          *feed_paths[LRPX_CHECK_MAX_FEEDS];
    const char          *output;          /* output name, NULL: the first    */
    struct lrpx_check_method method;
    int                  n_targets;       /* 0: the predicted class          */
    const int64_t       *targets;         /* 1 (all samples) or per sample   */
    int                  aggregate;       /* enum lrpx_check_aggregate       */
    int                  nhwc;            /* layout of image inputs (box)    */

    /* thresholds and parameters (those of the kind) */
    double               threshold;       /* min_* or max_* of the kind      */
    double               rtol, atol;
    const char          *expected;        /* outputs                         */
    const char          *reference;       /* explanation                     */
    int                  distance;        /* enum lrpx_check_distance        */
    const char          *labels_path;     /* labels: a .npy, or the list     */
    int                  n_labels;
    const int64_t       *labels;
    const char          *mask_path;       /* localisation: a .npy or image,  */
    bool                 has_box;         /* or a box x, y, w, h             */
    int64_t              box[4];
    int64_t              opset_min, opset_max;
    int                  n_io_inputs, n_io_outputs;
    struct lrpx_check_value *io_inputs, *io_outputs;
    bool                 io_inputs_set, io_outputs_set;
    bool                 abs, normalise, softmax, relative;
    int                  patch_size, regions;
    int                  order;           /* enum lrpx_check_order            */
    int                  baseline;        /* enum lrpx_check_baseline         */
    double               baseline_value;
    int                  similarity;      /* enum lrpx_check_similarity      */
    int                  layers;          /* randomisation: -1 all           */
    int64_t              seed;
};

struct lrpx_check_result_impl {
    int         outcome;                  /* lrpx_check_outcome              */
    double      value, threshold;
    const char *relation;                 /* ">=", "<=" or ""                */
    const char *quantity;
    char        message[1024];
    int         n_samples;
    double     *samples;                  /* lrpx__malloc'd                  */
    double      seconds;
};

struct lrpx_check {
    struct lrpx_arena       arena;        /* the spec                        */
    const char             *spec_path;
    const char             *suite;        /* "name" of the spec              */
    lrpx_check_progress_fn  progress;     /* lrpx_check_set_progress         */
    void                   *progress_ctx;
    int                     n_items;
    struct lrpx_check_item *items;
    /* the last run */
    char                   *model_path;   /* lrpx__malloc'd copy             */
    struct lrpx_check_result_impl *results;
    double                  seconds;
};

/* spec.c */
lrpx_status lrpx__check_parse(struct lrpx_check *c, const char *text, size_t len,
                              const char *name, const char *base_dir, char *errbuf,
                              size_t errlen);
/* run.c */
lrpx_status lrpx__check_method_set(struct lrpx_check_method *m, const char *name);
/* "lrp, gradient, ..." into buf */
const char *lrpx__check_method_names(char *buf, size_t size);
/* report.c */
const char *lrpx__check_outcome_name(int outcome);

#endif /* LRPX_CHECK_IMPL_H */
