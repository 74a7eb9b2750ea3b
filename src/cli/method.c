/* The attribution method of a command and its flags, one table for every
 * command that explains (explain, eval, compare): --method, the LRP rules
 * (--composite, --rule, --rules, --maxpool, --zero-bias, --low/--high)
 * and the flags of the other methods (--baseline, --steps, --samples,
 * ...). A flag given to a method that ignores it is a usage error
 * (cli_method_check). docs/methods.md describes every method. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

void
cli_method_init(struct cli_method *cm, bool composite_methods)
{
    memset(cm, 0, sizeof *cm);
    lrpx_attr_options_default(&cm->ao);
    cm->composite_methods = composite_methods;
    cm->steps = cm->samples = cm->root_iters = cm->internal_batch = -1;
    cm->quadrature = cm->of = -1;
    cm->sigma = cm->fill = cm->baseline = NAN;
}

void
cli_method_free(struct cli_method *cm)
{
    lrpx_npy_free(cm->baseline_npy);
    lrpx_npy_free(cm->noise_npy);
    lrpx_npy_free(cm->mask_npy);
    cm->baseline_npy = cm->noise_npy = cm->mask_npy = NULL;
}

int
cli_parse_floats(const char *s, float *v, int max)
{
    int n = 0;
    while (*s) {
        const char *c = strchr(s, ',');
        char        buf[64];
        size_t      l = c ? (size_t)(c - s) : strlen(s);
        if (l == 0 || l >= sizeof buf || n >= max)
            return -1;
        memcpy(buf, s, l);
        buf[l] = '\0';
        double d;
        if (!cli_parse_double(buf, &d) || !isfinite(d))
            return -1;
        v[n++] = (float)d;
        if (!c)
            break;
        s = c + 1;
        if (!*s)
            return -1;
    }
    return n;
}

/* ---- LRP ---- */

static int
arg_composite(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    cm->n_composite++;
    if (cm->n_composites < CLI_VIZ_MAX)
        cm->composites[cm->n_composites++] = val;
    return lrpx_lrp_options_set_composite(&cm->ao.lrp, val, msg, size) == LRPX_OK ? CLI_OK
                                                                                 : CLI_USAGE;
}

static int
arg_rule(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    return lrpx_lrp_options_parse_rule(&cm->ao.lrp, val, msg, size) == LRPX_OK ? CLI_OK
                                                                              : CLI_USAGE;
}

static int
arg_rules_file(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    cm->n_composite++;
    lrpx_status st = lrpx_lrp_options_load_json(&cm->ao.lrp, val, msg, size);
    cli_guard_input(val, "the rules file");
    return st == LRPX_OK ? CLI_OK : st == LRPX_EINVAL || st == LRPX_EPARSE ? CLI_USAGE : CLI_FAIL;
}

static int
arg_maxpool(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    cm->n_maxpool++;
    return lrpx_lrp_options_parse_maxpool(val, &cm->ao.lrp.maxpool) == LRPX_OK ? CLI_OK
                                                                              : CLI_USAGE;
}

static int
arg_low(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    return (cm->n_low = cli_parse_floats(val, cm->lows, LRPX_LRP_MAX_BOX_C)) >= 1 ? CLI_OK
                                                                                 : CLI_USAGE;
}

static int
arg_high(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    return (cm->n_high = cli_parse_floats(val, cm->highs, LRPX_LRP_MAX_BOX_C)) >= 1 ? CLI_OK
                                                                                   : CLI_USAGE;
}

/* ---- --method and the method flags ---- */

/* "NAME" or "NAME,NAME,...": the first is the method of -o and --heatmap;
 * all are columns of --grid (explain) or of the results (eval, compare).
 * Repeating --method adds methods. With composite_methods a composite
 * name stands for LRP with that composite. */
static int
arg_method(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    char               buf[64];
    while (*val) {
        const char *c = strchr(val, ',');
        size_t      l = c ? (size_t)(c - val) : strlen(val);
        if (l == 0 || l >= sizeof buf)
            return CLI_USAGE;
        memcpy(buf, val, l);
        buf[l] = '\0';
        lrpx_attr_method         m;
        const char              *comp = NULL;
        struct lrpx_lrp_options  probe;
        lrpx_lrp_options_default(&probe);
        if (lrpx_attr_method_parse(buf, &m) != LRPX_OK) {
            if (!cm->composite_methods ||
                lrpx_lrp_options_set_composite(&probe, buf, NULL, 0) != LRPX_OK) {
                size_t k = (size_t)snprintf(msg, size, "'%s' is not a method; one of:", buf);
                for (int i = 0; i < LRPX_ATTR_COUNT && k < size; i++)
                    k += (size_t)snprintf(msg + k, size - k, " %s",
                                          lrpx_attr_method_name((lrpx_attr_method)i));
                if (cm->composite_methods && k < size)
                    snprintf(msg + k, size - k, ", or an LRP composite (epsilon_plus_flat, ...)");
                return CLI_USAGE;
            }
            m    = LRPX_ATTR_LRP;
            comp = probe.composite;
        }
        if (cm->n_methods == CLI_VIZ_MAX) {
            snprintf(msg, size, "at most %d methods", CLI_VIZ_MAX);
            return CLI_USAGE;
        }
        cm->methods[cm->n_methods] = m;
        snprintf(cm->method_composite[cm->n_methods], sizeof cm->method_composite[0], "%s",
                 comp ? comp : "");
        cm->n_methods++;
        if (!c)
            break;
        val = c + 1;
        if (!*val)
            return CLI_USAGE;
    }
    return CLI_OK;
}

/* zeros, a number, or a .npy file (read by cli_method_load) */
static int
arg_baseline(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    if (!strcmp(val, "zeros") || !strcmp(val, "zero")) {
        cm->baseline = 0.0;
    } else if (cli_parse_double(val, &cm->baseline)) {
        if (!isfinite(cm->baseline))
            return CLI_USAGE;
    } else {
        cm->baseline_path = val;
    }
    return CLI_OK;
}

/* "C,H,W": one whole number >= 1 per axis of a sample */
static int
int_list(const char *val, int64_t *out, int *n)
{
    float v[LRPX_MAX_RANK];
    int   k = cli_parse_floats(val, v, LRPX_MAX_RANK - 1);
    if (k < 1)
        return CLI_USAGE;
    for (int i = 0; i < k; i++) {
        if (v[i] < 1 || v[i] > 1e9 || v[i] != floorf(v[i]))
            return CLI_USAGE;
        out[i] = (int64_t)v[i];
    }
    *n = k;
    return CLI_OK;
}

static int
arg_patch(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    return int_list(val, cm->ao.patch, &cm->ao.patch_rank);
}

static int
arg_patch_stride(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    int                n  = 0, rc = int_list(val, cm->ao.patch_stride, &n);
    if (rc == CLI_OK && cm->ao.patch_rank && n != cm->ao.patch_rank) {
        snprintf(msg, size, "as many values as --patch (%d)", cm->ao.patch_rank);
        return CLI_USAGE;
    }
    cm->n_stride = n;
    return rc;
}

static int
arg_rng_seed(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_method *cm = ctx;
    (void)msg, (void)size;
    cm->n_seed = 1;
    return cli_parse_int(val, &cm->seed) && cm->seed >= 0 ? CLI_OK : CLI_USAGE;
}

static const struct cli_choice quadrature_names[] = {
#define X(name, text) {text, LRPX_QUADRATURE_##name},
    LRPX_QUADRATURE_MAP(X)
#undef X
    {NULL, 0}};
static const struct cli_choice of_names[] = {
    {"gradient", LRPX_ATTR_GRADIENT}, {"saliency", LRPX_ATTR_SALIENCY},
    {"gradxinput", LRPX_ATTR_GRADIENT_X_INPUT}, {NULL, 0}};

#define ARG(field) offsetof(struct cli_method, field)
static const struct cli_flag method_flags[] = {
    {"--method", "--methods", "NAME[,NAME]", NULL, CLI_CALL, .call = arg_method,
     .need = "a method name (or a comma list)"},
    {"--composite", NULL, "NAME", NULL, CLI_CALL, .call = arg_composite, .need = "a name"},
    {"--rule", NULL, "SEL=RULE",
     "LRP: override, later ones win (SEL, RULE and MODE\n"
     "below; lrpx explain --list-rules explains each)",
     CLI_CALL, .call = arg_rule, .need = "SELECTOR=RULE"},
    {"--rules", NULL, "FILE",
     "LRP: the same as JSON: {\"composite\": ..., \"rules\":\n"
     "[{\"select\": \"Conv\", \"rule\": \"gamma:0.25\"}], \"maxpool\":\n"
     "\"sum\", ...}",
     CLI_CALL, .call = arg_rules_file, .need = "a JSON file"},
    {"--maxpool", NULL, "MODE", "LRP: relevance through every max pool (default winner)",
     CLI_CALL, .call = arg_maxpool, .need = "winner, winner-split or sum"},
    {"--zero-bias", NULL, NULL, "LRP: leave biases out of the rules", CLI_SET,
     .off = ARG(ao.lrp.zero_bias), .set = 1},
    {"--stabilizer", NULL, "E",
     "LRP: the e of every epsilon-type split but the linear\n"
     "layers' epsilon: Add, ReduceMean, norm, uniform, ...\n"
     "(default the composite's: 1e-6, cp_lrp 0)",
     CLI_DOUBLE, .off = ARG(ao.lrp.stabilizer), .lo = 0, .hi = 1e300, .need = "a number >= 0"},
    {"--low", NULL, "L",
     "LRP, taylor: input bounds for z^B (a number, or a\n"
     "comma list per channel; default from the image settings)",
     CLI_CALL, .call = arg_low,
     .need = "a number or a comma list (at most " STR(LRPX_LRP_MAX_BOX_C) ")"},
    {"--high", NULL, "H", "the upper bounds, as --low", CLI_CALL, .call = arg_high,
     .need = "a number or a comma list (at most " STR(LRPX_LRP_MAX_BOX_C) ")"},
    {"--baseline", NULL, "zeros|V|FILE",
     "integrated gradients: the baseline, 0 (default), a\n"
     "number or a .npy (the input's shape or one sample's)",
     CLI_CALL, .call = arg_baseline, .need = "zeros, a number or a .npy file"},
    {"--quadrature", NULL, "RULE",
     "integrated gradients: gausslegendre (default),\n"
     "riemann_left, riemann_right, riemann_middle,\n"
     "riemann_trapezoid (Captum's rules and points)",
     CLI_CHOICE, .off = ARG(quadrature), .choices = quadrature_names},
    {"--steps", NULL, "N", "integrated gradients: points on the path (default 50)", CLI_INT,
     ARG(steps), .lo = 1, .hi = 10000},
    {"--samples", NULL, "N", "smoothgrad family: noisy copies per sample (default 50)",
     CLI_INT, ARG(samples), .lo = 1, .hi = 1000000},
    {"--sigma", NULL, "S",
     "smoothgrad family: noise std as a fraction of the\n"
     "sample's value range max - min (default 0.15)",
     CLI_DOUBLE, ARG(sigma), .lo = 0.0, .hi = 1e6},
    {"--seed", NULL, "N", "smoothgrad family: the noise generator's seed (default 0)",
     CLI_CALL, .call = arg_rng_seed, .need = "a whole number >= 0"},
    {"--noise", NULL, "FILE.npy",
     "smoothgrad family: add this noise instead of drawing it:\n"
     "[N, sample shape] (N = --samples; or batch x N rows)",
     CLI_STRING, ARG(noise_path), .need = "a .npy file"},
    {"--of", NULL, "MAP",
     "smoothgrad family: the map averaged: gradient,\n"
     "saliency (default) or gradxinput",
     CLI_CHOICE, .off = ARG(of), .choices = of_names},
    {"--patch", NULL, "C,H,W",
     "occlusion: the patch over one sample's axes (default\n"
     "all channels and 1/8 of each side)",
     CLI_CALL, .call = arg_patch, .need = "whole numbers >= 1, one per axis of a sample"},
    {"--patch-stride", NULL, "C,H,W", "occlusion: the patch's step (default 1; half the\n"
     "default patch)", CLI_CALL, .call = arg_patch_stride,
     .need = "whole numbers >= 1, one per axis of a sample"},
    {"--fill", NULL, "V", "occlusion, feature-ablation: the value put in (default 0)",
     CLI_DOUBLE, ARG(fill), .lo = -1e30, .hi = 1e30},
    {"--feature-mask", NULL, "FILE.npy",
     "feature-ablation: integer group ids, broadcastable to\n"
     "the input (default: every element its own group)",
     CLI_STRING, ARG(mask_path), .need = "a .npy file"},
    {"--root-iters", NULL, "N", "taylor: steps of the root search (default 50)", CLI_INT,
     ARG(root_iters), .lo = 1, .hi = 100000},
    {"--internal-batch", NULL, "N",
     "rows per pass of the methods that run many inputs\n"
     "(default 64; does not change the result)",
     CLI_INT, ARG(internal_batch), .lo = 1, .hi = 1 << 20},
    {NULL}};

struct cli_flag_group
cli_method_group(struct cli_method *cm)
{
    return (struct cli_flag_group){.flags = method_flags, .ctx = cm, .title = "attribution methods:"};
}

void
cli_method_help(FILE *f, const struct cli_method *cm)
{
    cli_help_item(f, "--method NAME[,NAME]",
                  cm->composite_methods
                      ? "the method (default lrp; the list below); several:\n"
                        "one result each; an LRP composite name means lrp with it"
                      : "the method (default lrp; the list below); several:\n"
                        "--grid columns",
                  CLI_HELP_COL);
    cli_rules_help_item(f, LRPX_LRP_DOC_COMPOSITE, "--composite NAME",
                        "LRP rule preset (default epsilon_plus):\n", CLI_HELP_COL);
}

void
cli_method_help_rules(FILE *f)
{
    cli_help_section(f, "the methods (--method NAME):");
    for (int i = 0; i < LRPX_ATTR_COUNT; i++)
        cli_help_item(f, lrpx_attr_method_name((lrpx_attr_method)i),
                      lrpx_attr_method_help((lrpx_attr_method)i), CLI_HELP_COL);
    cli_help_section(f, "the rule-spec language (--rule SEL=RULE, --maxpool MODE):");
    cli_rules_help_item(f, LRPX_LRP_DOC_SELECTOR, "SEL", "", 8);
    cli_rules_help_item(f, LRPX_LRP_DOC_RULE, "RULE", "", 8);
    cli_rules_help_item(f, LRPX_LRP_DOC_MAXPOOL, "MODE", "", 8);
}

/* ---- which methods take a flag ---- */

#define MB(m) (1u << LRPX_ATTR_##m)
#define NOISE (MB(SMOOTHGRAD) | MB(SMOOTHGRAD_SQ) | MB(VARGRAD))
static const struct cli_method_use method_flag_use[] = {
    {"--baseline", MB(INTEGRATED_GRADIENTS), CLI_USE_DOUBLE, ARG(baseline)},
    {"--baseline", MB(INTEGRATED_GRADIENTS), CLI_USE_PTR, ARG(baseline_path)},
    {"--quadrature", MB(INTEGRATED_GRADIENTS), CLI_USE_INT, ARG(quadrature)},
    {"--steps", MB(INTEGRATED_GRADIENTS), CLI_USE_INT, ARG(steps)},
    {"--samples", NOISE, CLI_USE_INT, ARG(samples)},
    {"--sigma", NOISE, CLI_USE_DOUBLE, ARG(sigma)},
    {"--seed", NOISE, CLI_USE_COUNT, ARG(n_seed)},
    {"--noise", NOISE, CLI_USE_PTR, ARG(noise_path)},
    {"--of", NOISE, CLI_USE_INT, ARG(of)},
    {"--patch", MB(OCCLUSION), CLI_USE_COUNT, ARG(ao.patch_rank)},
    {"--patch-stride", MB(OCCLUSION), CLI_USE_COUNT, ARG(n_stride)},
    {"--fill", MB(OCCLUSION) | MB(FEATURE_ABLATION), CLI_USE_DOUBLE, ARG(fill)},
    {"--feature-mask", MB(FEATURE_ABLATION), CLI_USE_PTR, ARG(mask_path)},
    {"--root-iters", MB(TAYLOR), CLI_USE_INT, ARG(root_iters)},
    {"--internal-batch", MB(INTEGRATED_GRADIENTS) | NOISE | MB(OCCLUSION) |
                             MB(FEATURE_ABLATION) | MB(TAYLOR), CLI_USE_INT, ARG(internal_batch)},
    {"--composite/--rules", MB(LRP), CLI_USE_COUNT, ARG(n_composite)},
    {"--rule", MB(LRP), CLI_USE_COUNT, ARG(ao.lrp.n_overrides)},
    {"--maxpool", MB(LRP), CLI_USE_COUNT, ARG(n_maxpool)},
    {"--zero-bias", MB(LRP), CLI_USE_COUNT, ARG(ao.lrp.zero_bias)},
    {"--low/--high", MB(LRP) | MB(TAYLOR), CLI_USE_COUNT, ARG(n_low)},
};
#undef NOISE
#undef MB
#undef ARG

/* The methods given (LRP when none) as a bit set. */
static unsigned
chosen_methods(const struct cli_method *cm)
{
    unsigned chosen = cm->n_methods ? 0 : 1u << LRPX_ATTR_LRP;
    for (int k = 0; k < cm->n_methods; k++)
        chosen |= 1u << cm->methods[k];
    return chosen;
}

int
cli_method_uses(const char *cmd, const struct cli_method *cm, const struct cli_method_use *uses,
                int n, const void *base)
{
    unsigned chosen = chosen_methods(cm);
    for (int i = 0; i < n; i++) {
        const struct cli_method_use *f = &uses[i];
        const char                  *p = (const char *)base + f->off;
        bool given = f->kind == CLI_USE_INT      ? *(const int *)p != -1
                   : f->kind == CLI_USE_COUNT    ? *(const int *)p != 0
                   : f->kind == CLI_USE_BOOL     ? *(const bool *)p
                   : f->kind == CLI_USE_DOUBLE   ? !isnan(*(const double *)p)
                                                 : *(const char *const *)p != NULL;
        if (!given || (f->methods & chosen))
            continue;
        char names[256] = "";
        for (int m = 0, k = 0; m < LRPX_ATTR_COUNT; m++)
            if (f->methods & (1u << m))
                k += snprintf(names + k, sizeof names - (size_t)k, "%s%s", k ? ", " : "",
                              lrpx_attr_method_name((lrpx_attr_method)m));
        return cli_usage_error(cmd, "%s goes with --method %s (the method is %s)", f->flag,
                               names, lrpx_attr_method_name(cm->n_methods ? cm->methods[0]
                                                                          : LRPX_ATTR_LRP));
    }
    return CLI_OK;
}

int
cli_method_check(const char *cmd, struct cli_method *cm)
{
    int rc = cli_method_uses(cmd, cm, method_flag_use,
                             (int)(sizeof method_flag_use / sizeof method_flag_use[0]), cm);
    if (rc != CLI_OK)
        return rc;
    struct lrpx_attr_options *o = &cm->ao;
    o->method = cm->n_methods ? cm->methods[0] : LRPX_ATTR_LRP;
    if (cm->steps != -1)
        o->steps = cm->steps;
    if (cm->quadrature != -1)
        o->quadrature = (lrpx_quadrature)cm->quadrature;
    if (!isnan(cm->baseline))
        o->baseline = cm->baseline;
    if (cm->samples != -1)
        o->samples = cm->samples;
    if (!isnan(cm->sigma))
        o->sigma = cm->sigma;
    if (cm->n_seed)
        o->seed = (uint64_t)cm->seed;
    if (cm->of != -1)
        o->of = (lrpx_attr_method)cm->of;
    if (!isnan(cm->fill))
        o->fill = cm->fill;
    if (cm->root_iters != -1)
        o->root_iters = cm->root_iters;
    if (cm->internal_batch != -1)
        o->internal_batch = cm->internal_batch;
    if (cm->n_stride && !o->patch_rank)
        return cli_usage_error(cmd, "--patch-stride needs --patch");
    if (o->quadrature != LRPX_QUADRATURE_GAUSS_LEGENDRE && o->steps < 2)
        return cli_usage_error(cmd, "--steps must be at least 2 for %s",
                               lrpx_quadrature_name(o->quadrature));
    if ((cm->n_low > 0) != (cm->n_high > 0) || (cm->n_low > 0 && cm->n_low != cm->n_high))
        return cli_usage_error(cmd, "--low and --high go together, with as many values");
    if (cm->n_low == 1) {
        o->lrp.box_low  = cm->lows[0];
        o->lrp.box_high = cm->highs[0];
        if (!(o->lrp.box_low <= o->lrp.box_high))
            return cli_usage_error(cmd, "--low must not exceed --high");
    } else if (cm->n_low > 1) {
        o->lrp.box_low_c  = cm->lows;
        o->lrp.box_high_c = cm->highs;
        o->lrp.n_box_c    = cm->n_low;
    }
    return CLI_OK;
}

void
cli_method_guard(const struct cli_method *cm)
{
    cli_guard_input(cm->baseline_path, "the baseline file");
    cli_guard_input(cm->noise_path, "the noise file");
    cli_guard_input(cm->mask_path, "the feature mask");
}

int
cli_npy_view(const char *cmd, const char *flag, const char *path, bool floats, lrpx_npy **npy,
             lrpx_tensor_view *v)
{
    char err[1024];
    if (!path)
        return CLI_OK;
    if (lrpx_npy_read(path, npy, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "%s %s", flag, err);
    lrpx_npy *a = *npy;
    if (floats && a->dtype == LRPX_DTYPE_FLOAT64) {
        for (int64_t i = 0; i < a->n_elems; i++)
            ((float *)a->data)[i] = (float)((const double *)a->data)[i];
        a->dtype = LRPX_DTYPE_FLOAT32;
    }
    if (floats && a->dtype != LRPX_DTYPE_FLOAT32)
        return cli_error(cmd, "%s %s: the values must be float32 or float64, not %s", flag, path,
                         lrpx_dtype_name(a->dtype));
    memset(v, 0, sizeof *v);
    v->dtype   = a->dtype;
    v->rank    = a->rank;
    v->n_elems = a->n_elems;
    v->data    = a->data;
    memcpy(v->dims, a->dims, sizeof v->dims);
    return CLI_OK;
}

int
cli_method_load(const char *cmd, struct cli_method *cm)
{
    int rc;
    if ((rc = cli_npy_view(cmd, "--baseline", cm->baseline_path, true, &cm->baseline_npy,
                           &cm->ao.baseline_data)) != CLI_OK ||
        (rc = cli_npy_view(cmd, "--noise", cm->noise_path, true, &cm->noise_npy,
                           &cm->ao.noise)) != CLI_OK)
        return rc;
    return cli_npy_view(cmd, "--feature-mask", cm->mask_path, false, &cm->mask_npy,
                        &cm->ao.feature_mask);
}

int
cli_method_count(const struct cli_method *cm)
{
    return cm->n_methods ? cm->n_methods : 1;
}

int
cli_method_options(const struct cli_method *cm, int k, struct lrpx_attr_options *out,
                   char *label, size_t size)
{
    *out = cm->ao;
    if (cm->n_methods)
        out->method = cm->methods[k];
    if (cm->n_methods && cm->method_composite[k][0] &&
        lrpx_lrp_options_set_composite(&out->lrp, cm->method_composite[k], NULL, 0) != LRPX_OK)
        return CLI_USAGE;        /* checked while parsing */
    if (label && out->method == LRPX_ATTR_LRP)
        snprintf(label, size, "%s%s", out->lrp.composite, out->lrp.n_overrides ? "+rules" : "");
    else if (label)
        snprintf(label, size, "%s", lrpx_attr_method_name(out->method));
    return CLI_OK;
}
