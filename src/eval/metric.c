/* The metrics as data: names, Quantus 0.6.0 classes, formulas and every
 * parameter with its default. The parser (lrpx_metric_parse), the JSON of
 * the parameters, `lrpx eval --help` and docs/evaluation.md all read these
 * tables, so a default is written once. Defaults are texts parsed by the
 * same parser as the user's values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_impl.h"
#include "lrp/lrp_impl.h"

enum ptype { T_BOOL, T_INT, T_NUM, T_NUM_OR_NONE, T_CHOICE, T_BASELINE };

struct key_def {
    const char  *name;
    enum ptype   type;
    double       lo, hi;
    const char  *choices[6];   /* T_CHOICE, T_BASELINE; NULL-terminated */
    const char  *help;
};

static const struct key_def keys[K_COUNT] = {
    [K_ABS] = {"abs", T_BOOL, 0, 0, {0}, "take |a| (after normalise)"},
    [K_NORMALISE] = {"normalise", T_BOOL, 0, 0, {0},
                     "divide a by max|a| over the whole batch handed over"},
    [K_SOFTMAX] = {"softmax", T_BOOL, 0, 0, {0},
                   "score softmax probabilities instead of logits"},
    [K_BATCH_SIZE] = {"batch-size", T_INT, 1, 1e6, {0},
                      "Quantus's chunk of samples: maps explained again are\n"
                      "normalised over a chunk"},
    [K_FEATURES_IN_STEP] = {"features-in-step", T_INT, 1, 1e9, {0},
                            "features replaced per step (must divide the count)"},
    [K_PERTURB_BASELINE] = {"perturb-baseline", T_BASELINE, -INFINITY, INFINITY,
                            {"black", "white", "mean", "uniform", "blur", NULL},
                            "replacement value: black=min, white=max, mean, uniform\n"
                            "(one seeded draw per step), blur (box blur), or a number"},
    [K_UNIFORM_LOW] = {"uniform-low", T_NUM, -INFINITY, INFINITY, {0}, "uniform baseline: low"},
    [K_UNIFORM_HIGH] = {"uniform-high", T_NUM, -INFINITY, INFINITY, {0},
                        "uniform baseline: high"},
    [K_BLUR_KERNEL_SIZE] = {"blur-kernel-size", T_INT, 1, 1e6, {0},
                            "blur baseline: box filter side (lrpx's)"},
    [K_RETURN_AUC_PER_SAMPLE] = {"return-auc-per-sample", T_BOOL, 0, 0, {0},
                                 "return the curve's trapezoid area instead of the curve"},
    [K_PATCH_SIZE] = {"patch-size", T_INT, 1, 1e6, {0}, "side P of the square patches"},
    [K_ORDER] = {"order", T_CHOICE, 0, 0, {"morf", "lerf", "random", NULL},
                 "most relevant first, least relevant first, or seeded random"},
    [K_REGIONS_EVALUATION] = {"regions-evaluation", T_INT, 1, 1e9, {0},
                              "patches removed (curve length)"},
    [K_NR_STEPS] = {"nr-steps", T_INT, 1, 1e6, {0}, "translations"},
    [K_RETURN_NAN] = {"return-nan-when-prediction-changes", T_BOOL, 0, 0, {0},
                      "NaN for a step whose predicted class changed"},
    [K_NR_SAMPLES] = {"nr-samples", T_INT, 1, 1e7, {0}, "perturbed copies per input"},
    [K_PERTURB_MEAN] = {"perturb-mean", T_NUM, -INFINITY, INFINITY, {0}, "Gaussian noise mean"},
    [K_PERTURB_STD] = {"perturb-std", T_NUM, 0, INFINITY, {0}, "Gaussian noise std"},
    [K_LOWER_BOUND] = {"lower-bound", T_NUM, -INFINITY, INFINITY, {0},
                       "uniform noise U(-lower, lower), or U(lower, upper)"},
    [K_UPPER_BOUND] = {"upper-bound", T_NUM_OR_NONE, -INFINITY, INFINITY, {0},
                       "none, or the upper end of the noise"},
    [K_WEIGHTED] = {"weighted", T_BOOL, 0, 0, {0},
                    "weighted hits (Quantus 0.6.0 raises on true; refused)"},
    [K_MAX_SIZE] = {"max-size", T_NUM, 0, 1, {0}, "weighted only"},
    [K_SIMILARITY_FUNC] = {"similarity-func", T_CHOICE, 0, 0, {"spearman", "ssim", NULL},
                           "Spearman rank correlation or SSIM of the flat maps"},
    [K_LAYER_ORDER] = {"layer-order", T_CHOICE, 0, 0,
                       {"top_down", "bottom_up", "independent", NULL},
                       "cascading from the output, from the input, or one layer\nat a time"},
    [K_SEED] = {"seed", T_INT, 0, 4294967295.0, {0}, "Quantus's seed of this metric"},
    [K_RETURN_AVERAGE_CORRELATION] = {"return-average-correlation", T_BOOL, 0, 0, {0},
                                      "score = mean of the curve (its first point too)"},
    [K_RETURN_LAST_CORRELATION] = {"return-last-correlation", T_BOOL, 0, 0, {0},
                                   "score = the fully randomised model's similarity"},
    [K_SKIP_LAYERS] = {"skip-layers", T_BOOL, 0, 0, {0},
                       "compare only with the fully randomised model"},
    [K_NUM_CLASSES] = {"num-classes", T_INT, 2, 1e9, {0},
                       "classes the random off-target class is drawn from"},
};

struct param {
    enum eval_key key;
    const char   *def;
};

struct metric_def {
    const char  *quantus;
    const char  *summary;
    const char  *formula;
    const char  *result;
    struct param params[16];      /* ends with def == NULL */
};

#define BASELINE_PARAMS                                                                  \
    {K_PERTURB_BASELINE, "black"}, {K_UNIFORM_LOW, "0"}, {K_UNIFORM_HIGH, "1"},           \
        {K_BLUR_KERNEL_SIZE, "15"}

static const struct metric_def metrics[LRPX_METRIC_COUNT] = {
    [LRPX_METRIC_PIXEL_FLIPPING] = {
        "PixelFlipping",
        "Bach et al. 2015: remove features most relevant first, record the output",
        "r = stable argsort(-a) over all F = C*H*W elements (a 1-channel map is\n"
        "copied to every channel); z = x; for k = 1..F/s: z[r[(k-1)s .. ks-1]] =\n"
        "baseline(z); c_k = f(z). f(x) itself is not recorded.\n"
        "AUC = sum_{k=1}^{n-1} (c_k + c_{k+1}) / 2",
        "curve [c_1 .. c_n]; score null, or the AUC with return-auc-per-sample",
        {{K_FEATURES_IN_STEP, "1"}, BASELINE_PARAMS, {K_ABS, "false"}, {K_NORMALISE, "true"},
         {K_RETURN_AUC_PER_SAMPLE, "false"}, {K_SOFTMAX, "true"}, {0, NULL}}},
    [LRPX_METRIC_REGION_PERTURBATION] = {
        "RegionPerturbation",
        "Samek et al. 2017: remove PxP patches in order, record the output drop (AOPC)",
        "pad H, W to multiples of P (x edge-padded, a zero-padded, split floor/ceil);\n"
        "patch j = grid block (bi, bj), all channels; S_j = sum of a over it;\n"
        "order morf: stable argsort(-S), lerf: argsort(S); y0 = f(x); for the first\n"
        "K = min(regions-evaluation, patches): z[patch] = baseline(z over the padded\n"
        "array), d_k = y0 - f(crop(z)). AOPC = mean_k d_k",
        "curve [d_1 .. d_K]; score null; extra aopc (mean of the curve) and auc",
        {{K_PATCH_SIZE, "8"}, {K_ORDER, "morf"}, {K_REGIONS_EVALUATION, "100"}, BASELINE_PARAMS,
         {K_ABS, "false"}, {K_NORMALISE, "true"}, {K_SOFTMAX, "true"}, {0, NULL}}},
    [LRPX_METRIC_SELECTIVITY] = {
        "Selectivity",
        "Montavon et al. 2018: the output as all PxP patches are removed, most relevant first",
        "patches, padding and baseline as region-perturbation, order morf, every patch:\n"
        "curve [f(z_1) .. f(z_P)] (outputs, not differences; f(x) not included)",
        "curve; score null; extra auc",
        {{K_PATCH_SIZE, "8"}, BASELINE_PARAMS, {K_ABS, "false"}, {K_NORMALISE, "true"},
         {K_SOFTMAX, "true"}, {0, NULL}}},
    [LRPX_METRIC_LERF_MORF_AREA] = {
        "",
        "the area between the LeRF and MoRF region-perturbation curves (lrpx's)",
        "d^morf, d^lerf = region-perturbation curves with order morf and lerf;\n"
        "area = mean_k (d^morf_k - d^lerf_k) = mean_k (f_lerf(z_k) - f_morf(z_k))",
        "score = the area (larger: the ranking separates relevant from irrelevant);\n"
        "curve [d^morf_k - d^lerf_k]",
        {{K_PATCH_SIZE, "8"}, {K_REGIONS_EVALUATION, "100"}, BASELINE_PARAMS, {K_ABS, "false"},
         {K_NORMALISE, "true"}, {K_SOFTMAX, "true"}, {0, NULL}}},
    [LRPX_METRIC_CONTINUITY] = {
        "Continuity",
        "Montavon et al. 2018: largest explanation change per input change under translation",
        "dx = floor((2W+1)/nr-steps), t_k = -W + k dx (k = 1..nr-steps), x_t = x moved\n"
        "by t_k along the width, uncovered columns = min(x); a0 = E(x), a_t = E(x_t)\n"
        "(each normalised/abs'd); r_k = |a0 - a_t|_1 / (|x - x_t|_2 + 1e-9);\n"
        "score = max_k r_k. The given map is not used (Quantus 0.6.0).",
        "score",
        {{K_NR_STEPS, "28"}, {K_ABS, "true"}, {K_NORMALISE, "true"}, {K_RETURN_NAN, "false"},
         {K_SOFTMAX, "false"}, {K_BATCH_SIZE, "64"}, {0, NULL}}},
    [LRPX_METRIC_LOCAL_LIPSCHITZ] = {
        "LocalLipschitzEstimate",
        "Alvarez-Melis & Jaakkola 2018: max |a - a_k|_2 / |x - x_k|_2 over noisy copies",
        "x_k = float32(x + n_k), n_k ~ N(perturb-mean, perturb-std^2) per feature (or\n"
        "row k of --noise); a_k = E(x_k); L_k = |a - a_k|_2 / (|x - x_k|_2 + 1e-10);\n"
        "score = nanmax_k L_k",
        "score",
        {{K_NR_SAMPLES, "200"}, {K_PERTURB_MEAN, "0"}, {K_PERTURB_STD, "0.1"}, {K_ABS, "false"},
         {K_NORMALISE, "true"}, {K_RETURN_NAN, "false"}, {K_SOFTMAX, "true"},
         {K_BATCH_SIZE, "64"}, {0, NULL}}},
    [LRPX_METRIC_MAX_SENSITIVITY] = {
        "MaxSensitivity",
        "Yeh et al. 2019: max |a - a_k|_2 / |a|_2 over noisy copies",
        "x_k = float32(x + n_k), n_k ~ U(-lower, lower) (U(lower, upper) when upper-bound\n"
        "is set) per feature (or row k of --noise); a_k = E(x_k);\n"
        "S_k = |a - a_k|_2 / |a|_2; score = nanmax_k S_k",
        "score",
        {{K_NR_SAMPLES, "200"}, {K_LOWER_BOUND, "0.2"}, {K_UPPER_BOUND, "none"},
         {K_ABS, "false"}, {K_NORMALISE, "false"}, {K_RETURN_NAN, "false"},
         {K_SOFTMAX, "false"}, {K_BATCH_SIZE, "64"}, {0, NULL}}},
    [LRPX_METRIC_RELEVANCE_MASS] = {
        "RelevanceMassAccuracy",
        "Arras et al. 2022: the share of relevance inside the mask",
        "RMA = sum_i a_i [s_i] / sum_i a_i (a summed over channels first when it\n"
        "has several; NaN for an empty mask)",
        "score",
        {{K_ABS, "false"}, {K_NORMALISE, "true"}, {0, NULL}}},
    [LRPX_METRIC_RELEVANCE_RANK] = {
        "RelevanceRankAccuracy",
        "Arras et al. 2022: the share of the K most relevant pixels inside the mask",
        "K = |s|; r = stable argsort(-a); RRA = |{r_1..r_K} in s| / K (NaN if K = 0)",
        "score",
        {{K_ABS, "true"}, {K_NORMALISE, "true"}, {0, NULL}}},
    [LRPX_METRIC_POINTING_GAME] = {
        "PointingGame",
        "Zhang et al. 2018: does a maximum of the map lie inside the mask",
        "hit = exists i: s_i and a_i == max_j a_j (every tied maximum counts;\n"
        "an empty mask is a hit, as in Quantus 0.6.0)",
        "score (bool)",
        {{K_WEIGHTED, "false"}, {K_MAX_SIZE, "1"}, {K_ABS, "false"}, {K_NORMALISE, "true"},
         {0, NULL}}},
    [LRPX_METRIC_SPARSENESS] = {
        "Sparseness",
        "Chalasani et al. 2020: Gini index of the map",
        "v = sort_ascending(a + 1e-7) (float32), i = 1..F:\n"
        "G = sum_i (2i - F - 1) v_i / (F sum_i v_i); 0 uniform, near 1 concentrated",
        "score",
        {{K_ABS, "true"}, {K_NORMALISE, "true"}, {0, NULL}}},
    [LRPX_METRIC_COMPLEXITY] = {
        "Complexity",
        "Bhatt et al. 2020: entropy of the map's fractional contributions",
        "p_i = a_i / sum_j |a_j|; H = -sum_i p_i ln(p_i + 1e-12) (NaN with negative a)",
        "score",
        {{K_ABS, "true"}, {K_NORMALISE, "true"}, {0, NULL}}},
    [LRPX_METRIC_COMPLETENESS] = {
        "Completeness",
        "Sundararajan et al. 2017: does the map sum to the output change",
        "x_b = x with every feature = baseline(x); score = (sum_i a_i ==\n"
        "f(x) - f(x_b)), float32 sums compared exactly (Quantus); extra\n"
        "attribution_sum and output_delta give the two sides",
        "score (bool); extra attribution_sum, output_delta",
        {BASELINE_PARAMS, {K_ABS, "false"}, {K_NORMALISE, "true"}, {K_SOFTMAX, "false"},
         {0, NULL}}},
    [LRPX_METRIC_MODEL_RANDOMISATION] = {
        "MPRT",
        "Adebayo et al. 2018: similarity of the maps as layers are re-initialised",
        "layers = linear nodes with constant weights (Conv, ConvTranspose, Gemm,\n"
        "MatMul; BatchNorm is folded into them), re-initialised in memory with\n"
        "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's reset_parameters law) from\n"
        "lrpx's generator seeded with seed + 1 for every layer; curve =\n"
        "[sim(a, E_original(x)), sim(a, E_1(x)), ...] per randomised model",
        "curve (labels: original, then the layers); score null, or the mean of the\n"
        "curve (return-average-correlation) or its last point (return-last-correlation)",
        {{K_SIMILARITY_FUNC, "spearman"}, {K_LAYER_ORDER, "top_down"}, {K_SEED, "42"},
         {K_RETURN_AVERAGE_CORRELATION, "false"}, {K_RETURN_LAST_CORRELATION, "false"},
         {K_SKIP_LAYERS, "false"}, {K_ABS, "true"}, {K_NORMALISE, "true"},
         {K_SOFTMAX, "false"}, {K_BATCH_SIZE, "64"}, {0, NULL}}},
    [LRPX_METRIC_RANDOM_LOGIT] = {
        "RandomLogit",
        "Sixt et al. 2020: similarity of the map to the map of a random other class",
        "numpy.random.seed(seed); y' = numpy.random.choice([k != y for k < num-classes])\n"
        "(reproduced: MT19937); score = sim(a, E(x, y')) of the flat maps",
        "score",
        {{K_SIMILARITY_FUNC, "ssim"}, {K_NUM_CLASSES, "1000"}, {K_SEED, "42"},
         {K_ABS, "false"}, {K_NORMALISE, "true"}, {K_SOFTMAX, "false"}, {0, NULL}}},
};

static const char *const metric_names[LRPX_METRIC_COUNT] = {
#define X(tag, name, family) [LRPX_METRIC_##tag] = name,
    LRPX_METRIC_MAP(X)
#undef X
};
static const char *const metric_families[LRPX_METRIC_COUNT] = {
#define X(tag, name, family) [LRPX_METRIC_##tag] = family,
    LRPX_METRIC_MAP(X)
#undef X
};

const char *
lrpx_metric_id_name(lrpx_metric_id id)
{
    return (unsigned)id < LRPX_METRIC_COUNT ? metric_names[id] : NULL;
}

static int
n_params(lrpx_metric_id id)
{
    int n = 0;
    while (metrics[id].params[n].def)
        n++;
    return n;
}

static bool
parse_bool(const char *s, double *v)
{
    if (!strcmp(s, "true") || !strcmp(s, "True")) {
        *v = 1;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False")) {
        *v = 0;
        return true;
    }
    return false;
}

static bool
parse_number(const char *s, double *v)
{
    char *end;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static int
choice_index(const struct key_def *k, const char *s)
{
    for (int c = 0; k->choices[c]; c++)
        if (!strcmp(s, k->choices[c]))
            return c;
    return -1;
}

static void
choices_text(const struct key_def *k, char *buf, size_t size)
{
    size_t l = 0;
    buf[0]   = '\0';
    for (int c = 0; k->choices[c] && l < size; c++)
        l += (size_t)snprintf(buf + l, size - l, "%s%s", c ? ", " : "", k->choices[c]);
}

/* Parse one value for key k; false with a message on error. */
static bool
parse_value(enum eval_key key, const char *s, struct eval_value *out, char *err, size_t errlen)
{
    const struct key_def *k = &keys[key];
    char                  list[128];
    out->none   = false;
    out->choice = -1;
    out->num    = 0;
    switch (k->type) {
    case T_BOOL:
        if (parse_bool(s, &out->num))
            return true;
        lrpx__lrp_errf(err, errlen, "%s=%s: needs true or false", k->name, s);
        return false;
    case T_INT:
        if (parse_number(s, &out->num) && out->num == floor(out->num) && out->num >= k->lo &&
            out->num <= k->hi)
            return true;
        lrpx__lrp_errf(err, errlen, "%s=%s: needs a whole number from %.0f to %.0f", k->name, s, k->lo,
             k->hi);
        return false;
    case T_NUM_OR_NONE:
        if (!strcmp(s, "none") || !strcmp(s, "None")) {
            out->none = true;
            out->num  = NAN;
            return true;
        }
        /* fall through */
    case T_NUM:
        if (parse_number(s, &out->num) && out->num >= k->lo && out->num <= k->hi)
            return true;
        lrpx__lrp_errf(err, errlen, "%s=%s: needs a number%s%s", k->name, s,
             k->lo == 0 && k->hi == INFINITY ? " >= 0" : k->lo == 0 && k->hi == 1 ? " in [0, 1]" : "",
             k->type == T_NUM_OR_NONE ? " or none" : "");
        return false;
    case T_CHOICE:
    case T_BASELINE:
        if ((out->choice = choice_index(k, s)) >= 0)
            return true;
        if (k->type == T_BASELINE && parse_number(s, &out->num)) {
            out->choice = BASE_CONST;
            return true;
        }
        choices_text(k, list, sizeof list);
        lrpx__lrp_errf(err, errlen, "%s=%s: needs one of %s%s", k->name, s, list,
             k->type == T_BASELINE ? " or a number" : "");
        return false;
    }
    return false;
}

static int
find_metric(const char *name, size_t len)
{
    for (int i = 0; i < LRPX_METRIC_COUNT; i++)
        if (strlen(metric_names[i]) == len && !strncmp(name, metric_names[i], len))
            return i;
    return -1;
}

/* The metric's parameter slot for key text; -1 if it has none. */
static int
find_param(lrpx_metric_id id, const char *key, size_t len)
{
    for (int i = 0; metrics[id].params[i].def; i++) {
        const char *n = keys[metrics[id].params[i].key].name;
        if (strlen(n) == len && !strncmp(key, n, len))
            return i;
    }
    return -1;
}

static void
param_list(lrpx_metric_id id, char *buf, size_t size)
{
    size_t l = 0;
    buf[0]   = '\0';
    for (int i = 0; metrics[id].params[i].def && l < size; i++)
        l += (size_t)snprintf(buf + l, size - l, "%s%s", i ? ", " : "",
                              keys[metrics[id].params[i].key].name);
}

lrpx_status
lrpx_metric_parse(const char *spec, lrpx_metric **out, char *err, size_t errlen)
{
    char buf[1024];
    if (out)
        *out = NULL;
    if (!spec || !out) {
        lrpx__lrp_errf(err, errlen, "NULL argument");
        return LRPX_EINVAL;
    }
    const char *colon = strchr(spec, ':');
    size_t      nlen  = colon ? (size_t)(colon - spec) : strlen(spec);
    int         id    = find_metric(spec, nlen);
    if (id < 0) {
        size_t l = 0;
        for (int i = 0; i < LRPX_METRIC_COUNT && l < sizeof buf; i++)
            l += (size_t)snprintf(buf + l, sizeof buf - l, "%s%s", i ? ", " : "", metric_names[i]);
        lrpx__lrp_errf(err, errlen, "unknown metric '%.*s' (metrics: %s)", (int)(nlen > 100 ? 100 : nlen),
             spec, buf);
        return LRPX_EINVAL;
    }
    lrpx_metric *m = lrpx__calloc(1, sizeof *m);
    if (!m) {
        lrpx__lrp_errf(err, errlen, "out of memory");
        return LRPX_ENOMEM;
    }
    m->id = (lrpx_metric_id)id;
    for (int i = 0; metrics[id].params[i].def; i++) {
        enum eval_key k = metrics[id].params[i].key;
        m->has[k]       = true;
        if (!parse_value(k, metrics[id].params[i].def, &m->v[k], buf, sizeof buf)) {
            lrpx__lrp_errf(err, errlen, "internal: bad default %s", buf);   /* tables are checked by tests */
            lrpx__free(m);
            return LRPX_EINVAL;
        }
    }
    bool        seen[16] = {false};
    const char *p        = colon ? colon + 1 : NULL;
    while (p) {
        const char *comma = strchr(p, ',');
        size_t      len   = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq    = memchr(p, '=', len);
        if (len == 0 || !eq || len >= sizeof buf) {
            lrpx__lrp_errf(err, errlen, "%s: '%.*s' is not KEY=VALUE", metric_names[id],
                 (int)(len > 100 ? 100 : len), p);
            lrpx__free(m);
            return LRPX_EINVAL;
        }
        int slot = find_param(m->id, p, (size_t)(eq - p));
        if (slot < 0) {
            param_list(m->id, buf, sizeof buf);
            lrpx__lrp_errf(err, errlen, "%s: unknown parameter '%.*s' (it takes: %s)", metric_names[id],
                 (int)(eq - p > 100 ? 100 : eq - p), p, buf);
            lrpx__free(m);
            return LRPX_EINVAL;
        }
        if (seen[slot]) {
            lrpx__lrp_errf(err, errlen, "%s: %s is given twice", metric_names[id],
                 keys[metrics[id].params[slot].key].name);
            lrpx__free(m);
            return LRPX_EINVAL;
        }
        seen[slot] = true;
        char val[256];
        size_t vlen = len - (size_t)(eq + 1 - p);
        if (vlen >= sizeof val)
            vlen = sizeof val - 1;
        memcpy(val, eq + 1, vlen);
        val[vlen] = '\0';
        char msg[512];
        if (!parse_value(metrics[id].params[slot].key, val, &m->v[metrics[id].params[slot].key],
                         msg, sizeof msg)) {
            lrpx__lrp_errf(err, errlen, "%s: %s", metric_names[id], msg);
            lrpx__free(m);
            return LRPX_EINVAL;
        }
        p = comma ? comma + 1 : NULL;
    }
    *out = m;
    return lrpx__errbuf_done(LRPX_OK, NULL, err, errlen);
}

void
lrpx_metric_free(lrpx_metric *m)
{
    lrpx__free(m);
}

lrpx_metric_id
lrpx_metric_kind(const lrpx_metric *m)
{
    return m ? m->id : LRPX_METRIC_COUNT;
}

size_t
lrpx_metric_params_json(const lrpx_metric *m, char *buf, size_t size)
{
    char   tmp[64];
    size_t l = 0;
#define PUT(...)                                                                              \
    do {                                                                                      \
        int w_ = snprintf(size > l ? buf + l : NULL, size > l ? size - l : 0, __VA_ARGS__);   \
        l += w_ > 0 ? (size_t)w_ : 0;                                                          \
    } while (0)
    if (size)
        buf[0] = '\0';
    PUT("{");
    for (int i = 0; m && metrics[m->id].params[i].def; i++) {
        enum eval_key            k = metrics[m->id].params[i].key;
        const struct key_def    *d = &keys[k];
        const struct eval_value *v = &m->v[k];
        PUT("%s\"%s\": ", i ? ", " : "", d->name);
        if (d->type == T_BOOL)
            PUT("%s", v->num != 0 ? "true" : "false");
        else if (v->none)
            PUT("null");
        else if (v->choice >= 0 && v->choice != BASE_CONST)
            PUT("\"%s\"", d->choices[v->choice]);
        else {
            snprintf(tmp, sizeof tmp, "%.17g", v->num);
            PUT("%s", tmp);
        }
    }
    PUT("}");
#undef PUT
    return l;
}

lrpx_status
lrpx_metric_doc_get(lrpx_metric_id id, lrpx_metric_doc *out)
{
    if ((unsigned)id >= LRPX_METRIC_COUNT || !out)
        return LRPX_EINVAL;
    const struct metric_def *d = &metrics[id];
    out->name     = metric_names[id];
    out->family   = metric_families[id];
    out->quantus  = d->quantus;
    out->summary  = d->summary;
    out->formula  = d->formula;
    out->result   = d->result;
    out->n_params = n_params(id);
    return LRPX_OK;
}

lrpx_status
lrpx_metric_param_doc_get(lrpx_metric_id id, int i, lrpx_metric_param_doc *out)
{
    static const char *const type_names[] = {
        [T_BOOL] = "bool", [T_INT] = "int", [T_NUM] = "number", [T_NUM_OR_NONE] = "number|none",
        [T_CHOICE] = "choice", [T_BASELINE] = "choice|number"};
    if ((unsigned)id >= LRPX_METRIC_COUNT || !out || i < 0 || i >= n_params(id))
        return LRPX_EINVAL;
    const struct key_def *k = &keys[metrics[id].params[i].key];
    out->name         = k->name;
    out->type         = type_names[k->type];
    out->default_text = metrics[id].params[i].def;
    out->help         = k->help;
    out->choices      = k->choices[0] ? k->choices : NULL;
    return LRPX_OK;
}
