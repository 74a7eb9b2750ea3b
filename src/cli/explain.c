/* lrpx explain MODEL INPUT: explain a prediction with any attribution
 * method (--method; default layer-wise relevance propagation with its
 * per-layer conservation report), and lrpx gradient MODEL INPUT: the
 * gradient or gradient x input. Both go through lrpx_session_attribute
 * (docs/methods.md). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char explain_usage[] =
    "usage: lrpx explain MODEL INPUT [--method NAME[,NAME...]] [METHOD FLAGS]\n"
    "                    [--composite NAME] [--rule SEL=RULE]...\n"
    "                    [--rules FILE] [--target K | --seed-npy FILE]\n"
    "                    [--maxpool MODE] [--zero-bias] [--stabilizer E]\n"
    "                    [--low L --high H] [--per-token] [--tokens FILE]\n"
    "                    [--token-strip OUT.png|OUT.html]\n"
    "                    [-o REL.npy] [--layer NAME -o2 FILE]... [--output NAME]\n"
    "                    [--json] [--print-rules] [--list-rules [--markdown]]\n"
    "\n"
    "Explain the model's prediction for INPUT (.npy, a missing batch dimension\n"
    "added; JPEG/PNG images or a folder, preprocessed, several make a batch)\n"
    "with an attribution method, by default layer-wise relevance propagation.\n"
    "The explained output is the predicted class (or --target K) of every\n"
    "sample; a trailing Softmax is skipped. Prints the class, the logit and\n"
    "the sum of the map; for LRP, per layer, the relevance entering and\n"
    "leaving it; for integrated gradients F(baseline) and the completeness\n"
    "gap; for taylor F(root), the residual and the distance to the root.\n";

static const char gradient_usage[] =
    "usage: lrpx gradient MODEL INPUT [--target K] [-o G.npy] [--times-input]\n"
    "                     [--output NAME] [--json]\n"
    "\n"
    "Gradient of the predicted class's logit (or --target K) with respect to\n"
    "the input (INPUT as for lrpx explain: .npy, images or a folder;\n"
    "sensitivity analysis); --times-input multiplies it by the input\n"
    "(gradient x input). A trailing Softmax is skipped.\n";

#define MAX_LAYERS 64
#define STR_(x)    #x
#define STR(x)     STR_(x)

/* "a,b,c" into v (at most max values); returns the count or -1. */
static int
parse_list(const char *s, float *v, int max)
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

/* Sum of the relevance of sample b (the view's first axis is the batch). */
static double
sample_sum(const lrpx_tensor_view *v, int64_t b, int64_t n_samples)
{
    const float *d   = v->data;
    int64_t      per = n_samples > 0 && v->rank >= 1 && v->dims[0] == n_samples
                           ? v->n_elems / n_samples : v->n_elems;
    int64_t      off = per == v->n_elems ? 0 : b * per;
    double       s   = 0.0;
    for (int64_t i = 0; i < per; i++)
        s += d[off + i];
    return s;
}

static const char *
class_name(char **classes, int n, int64_t k)
{
    return classes && k >= 0 && k < n ? classes[k] : NULL;
}


struct explain_args {
    struct lrpx_attr_options ao;   /* ao.lrp: the rules and the seed       */
    struct cli_viz         *viz;
    const char             *out_path, *seed_path;
    const char             *tokens_path, *strip_path;
    bool                    per_token;
    const char             *layers[MAX_LAYERS], *layer_out[MAX_LAYERS];
    int                     n_layers, n_layer_out, n_low, n_high;
    float                   lows[LRPX_LRP_MAX_BOX_C], highs[LRPX_LRP_MAX_BOX_C];
    bool                    json, print_rules, fold_bn, list_rules, markdown, times_input;
    /* the method flags: -1 / NaN / NULL until given (method_checks) */
    int                     steps, samples, root_iters, internal_batch, quadrature, of;
    double                  sigma, fill, baseline;
    long long               seed;
    int                     n_stride, n_seed, n_composite, n_maxpool;  /* seen */
    const char             *baseline_path, *noise_path, *mask_path;
};

static int
arg_composite(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    a->n_composite++;
    cli_viz_note_composite(a->viz, val);
    return lrpx_lrp_options_set_composite(&a->ao.lrp, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_rule(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    return lrpx_lrp_options_parse_rule(&a->ao.lrp, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_rules_file(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a  = ctx;
    a->n_composite++;
    lrpx_status          st = lrpx_lrp_options_load_json(&a->ao.lrp, val, msg, size);
    cli_guard_input(val, "the rules file");
    return st == LRPX_OK ? CLI_OK : st == LRPX_EINVAL || st == LRPX_EPARSE ? CLI_USAGE : CLI_FAIL;
}

static int
arg_target(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    long long            k;
    (void)msg, (void)size;
    if (!cli_parse_int(val, &k) || k < 0)
        return CLI_USAGE;
    a->ao.lrp.seed   = LRPX_SEED_TARGET;
    a->ao.lrp.target = k;
    cli_viz_note_target(a->viz, k);
    return CLI_OK;
}

static int
arg_maxpool(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    a->n_maxpool++;
    return lrpx_lrp_options_parse_maxpool(val, &a->ao.lrp.maxpool) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_low(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return (a->n_low = parse_list(val, a->lows, LRPX_LRP_MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

static int
arg_high(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return (a->n_high = parse_list(val, a->highs, LRPX_LRP_MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

/* Append val to a list of at most MAX_LAYERS names. */
static int
push_name(const char **list, int *n, const char *val, char *msg, size_t size)
{
    if (*n == MAX_LAYERS) {
        snprintf(msg, size, "at most %d", MAX_LAYERS);
        return CLI_USAGE;
    }
    list[(*n)++] = val;
    return CLI_OK;
}

static int
arg_layer(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    return push_name(a->layers, &a->n_layers, val, msg, size);
}

static int
arg_layer_out(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    return push_name(a->layer_out, &a->n_layer_out, val, msg, size);
}

/* ---- --method and the method flags ---- */

/* "NAME" or "NAME,NAME,...": the first is the method of -o and --heatmap;
 * all are columns of --grid. Repeating --method adds columns. */
static int
arg_method(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    char                 buf[64];
    while (*val) {
        const char *c = strchr(val, ',');
        size_t      l = c ? (size_t)(c - val) : strlen(val);
        if (l == 0 || l >= sizeof buf)
            return CLI_USAGE;
        memcpy(buf, val, l);
        buf[l] = '\0';
        lrpx_attr_method m;
        if (lrpx_attr_method_parse(buf, &m) != LRPX_OK) {
            size_t k = (size_t)snprintf(msg, size, "'%s' is not a method; one of:", buf);
            for (int i = 0; i < LRPX_ATTR_COUNT && k < size; i++)
                k += (size_t)snprintf(msg + k, size - k, " %s",
                                      lrpx_attr_method_name((lrpx_attr_method)i));
            return CLI_USAGE;
        }
        if (a->viz->n_methods == CLI_VIZ_MAX) {
            snprintf(msg, size, "at most %d methods", CLI_VIZ_MAX);
            return CLI_USAGE;
        }
        cli_viz_note_method(a->viz, m);
        if (!c)
            break;
        val = c + 1;
        if (!*val)
            return CLI_USAGE;
    }
    return CLI_OK;
}

/* zeros, a number, or a .npy file (read once the model is loaded) */
static int
arg_baseline(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    if (!strcmp(val, "zeros") || !strcmp(val, "zero")) {
        a->baseline = 0.0;
    } else if (cli_parse_double(val, &a->baseline)) {
        if (!isfinite(a->baseline))
            return CLI_USAGE;
    } else {
        a->baseline_path = val;
    }
    return CLI_OK;
}

/* "C,H,W": one whole number >= 1 per axis of a sample */
static int
int_list(const char *val, int64_t *out, int *n)
{
    float v[LRPX_MAX_RANK];
    int   k = parse_list(val, v, LRPX_MAX_RANK - 1);
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
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return int_list(val, a->ao.patch, &a->ao.patch_rank);
}

static int
arg_patch_stride(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    int                  n = 0, rc = int_list(val, a->ao.patch_stride, &n);
    if (rc == CLI_OK && a->ao.patch_rank && n != a->ao.patch_rank) {
        snprintf(msg, size, "as many values as --patch (%d)", a->ao.patch_rank);
        return CLI_USAGE;
    }
    a->n_stride = n;
    return rc;
}

static int
arg_rng_seed(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    a->n_seed = 1;
    return cli_parse_int(val, &a->seed) && a->seed >= 0 ? CLI_OK : CLI_USAGE;
}

#define ARG(field) offsetof(struct explain_args, field)
/* flags explain and gradient share */
#define TARGET_FLAG(what)                                                                    \
    {"--target", NULL, "K", what, CLI_CALL, .call = arg_target,                              \
     .need = "a class index >= 0"}
#define COMMON_FLAGS                                                                         \
    {"--output", NULL, "NAME", "explain this graph output instead of the first", CLI_STRING,  \
     ARG(ao.lrp.output_name), .need = "a name"},                                                   \
    {"--json", NULL, NULL, "machine-readable report on stdout", CLI_TRUE, .off = ARG(json)}

static const struct cli_flag explain_flags[] = {
    {"--composite", NULL, "NAME", NULL, CLI_CALL, .call = arg_composite, .need = "a name"},
    {"--rule", NULL, "SEL=RULE",
     "override, later ones win (SEL, RULE and MODE below;\n"
     "--list-rules explains each)",
     CLI_CALL, .call = arg_rule, .need = "SELECTOR=RULE"},
    {"--rules", NULL, "FILE",
     "the same as JSON: {\"composite\": ..., \"rules\": [{\"select\":\n"
     "\"Conv\", \"rule\": \"gamma:0.25\"}], \"maxpool\": \"sum\", ...}",
     CLI_CALL, .call = arg_rules_file, .need = "a JSON file"},
    TARGET_FLAG("explain class K instead of the predicted one"),
    {"--seed-npy", NULL, "FILE", "full output relevance (shape of the output) as the seed",
     CLI_STRING, .off = ARG(seed_path), .need = "a file"},
    {"--maxpool", NULL, "MODE", "relevance through every max pool (default winner)", CLI_CALL,
     .call = arg_maxpool, .need = "winner, winner-split or sum"},
    {"--zero-bias", NULL, NULL, "leave biases out of the rules", CLI_SET, .off = ARG(ao.lrp.zero_bias),
     .set = 1},
    {"--stabilizer", NULL, "E", "the e of every epsilon-type split but the linear layers'\n"
     "epsilon: Add, ReduceMean, norm, uniform, ... (default\nthe composite's: 1e-6, cp_lrp 0)",
     CLI_DOUBLE, ARG(ao.lrp.stabilizer), .lo = 0, .hi = 1e300, .need = "a number >= 0"},
    {"--low", NULL, "L", "input bounds for z^B (a number, or a comma list per\nchannel)",
     CLI_CALL, .call = arg_low, .need = "a number or a comma list (at most " STR(LRPX_LRP_MAX_BOX_C) ")"},
    {"--high", NULL, "H", "the upper bounds, as --low", CLI_CALL, .call = arg_high,
     .need = "a number or a comma list (at most " STR(LRPX_LRP_MAX_BOX_C) ")"},
    {"-o", NULL, "REL.npy", "write the input relevance (shape of the input)", CLI_STRING,
     ARG(out_path), .need = "a path"},
    {"--per-token", NULL, NULL, "text models (input [batch, tokens, dim]): print the\n"
     "relevance of each token, summed over dim", CLI_TRUE, .off = ARG(per_token)},
    {"--tokens", NULL, "FILE", "the token strings, one per line (implies --per-token)",
     CLI_STRING, ARG(tokens_path), .need = "a file"},
    {"--token-strip", NULL, "FILE", "draw the tokens coloured by relevance: .png or .html\n"
     "(implies --per-token; --cmap chooses the colours)", CLI_STRING, ARG(strip_path),
     .need = "a .png or .html path"},
    {"--layer", NULL, "NAME", "write the relevance at value NAME to the -o2 FILE of the\n"
     "same position (pairs in order)", CLI_CALL, .call = arg_layer, .need = "a value name"},
    {"-o2", NULL, "FILE", "the file for a --layer", CLI_CALL, .call = arg_layer_out,
     .need = "a path"},
    COMMON_FLAGS,
    {"--no-fold-batchnorm", NULL, NULL,
     "keep BatchNormalization nodes (the relevance pass\n"
     "still merges them into the layer before them)",
     CLI_FALSE, .off = ARG(fold_bn)},
    {"--print-rules", NULL, NULL, "list the rule each visited node got, and stop", CLI_TRUE,
     .off = ARG(print_rules)},
    {"--list-rules", NULL, NULL, "list the rules, max-pool modes, selectors and composites,\n"
     "and stop (no MODEL needed)", CLI_TRUE, .off = ARG(list_rules)},
    {"--markdown", NULL, NULL, "--list-rules as the Markdown tables of docs/lrp.md", CLI_TRUE,
     .off = ARG(markdown)},
    {NULL}};

static const struct cli_flag gradient_flags[] = {
    TARGET_FLAG("differentiate class K"),
    {"-o", NULL, "G.npy", "write the map (shape of the input)", CLI_STRING, .off = ARG(out_path),
     .need = "a path"},
    {"--times-input", NULL, NULL, "gradient x input", CLI_TRUE, .off = ARG(times_input)},
    COMMON_FLAGS,
    {NULL}};

static const struct cli_choice quadrature_names[] = {
#define X(name, text) {text, LRPX_QUADRATURE_##name},
    LRPX_QUADRATURE_MAP(X)
#undef X
    {NULL, 0}};
static const struct cli_choice of_names[] = {
    {"gradient", LRPX_ATTR_GRADIENT}, {"saliency", LRPX_ATTR_SALIENCY},
    {"gradxinput", LRPX_ATTR_GRADIENT_X_INPUT}, {NULL, 0}};

/* explain's --method and the flags of the methods (docs/methods.md) */
static const struct cli_flag method_flags[] = {
    {"--method", NULL, "NAME[,NAME]", NULL, CLI_CALL, .call = arg_method,
     .need = "a method name (or a comma list)"},
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

/* Which methods take a flag: checked after parsing, so that a flag given
 * to a method that ignores it is a usage error. */
#define MB(m) (1u << LRPX_ATTR_##m)
#define NOISE (MB(SMOOTHGRAD) | MB(SMOOTHGRAD_SQ) | MB(VARGRAD))
enum { F_INT, F_COUNT, F_BOOL, F_DOUBLE, F_PTR };   /* unset: -1, 0, false, NaN, NULL */
static const struct method_flag {
    const char *name;
    unsigned    methods;
    int         kind;
    size_t      off;
} method_flag_use[] = {
    {"--baseline", MB(INTEGRATED_GRADIENTS), F_DOUBLE, ARG(baseline)},
    {"--baseline", MB(INTEGRATED_GRADIENTS), F_PTR, ARG(baseline_path)},
    {"--quadrature", MB(INTEGRATED_GRADIENTS), F_INT, ARG(quadrature)},
    {"--steps", MB(INTEGRATED_GRADIENTS), F_INT, ARG(steps)},
    {"--samples", NOISE, F_INT, ARG(samples)},
    {"--sigma", NOISE, F_DOUBLE, ARG(sigma)},
    {"--seed", NOISE, F_COUNT, ARG(n_seed)},
    {"--noise", NOISE, F_PTR, ARG(noise_path)},
    {"--of", NOISE, F_INT, ARG(of)},
    {"--patch", MB(OCCLUSION), F_COUNT, ARG(ao.patch_rank)},
    {"--patch-stride", MB(OCCLUSION), F_COUNT, ARG(n_stride)},
    {"--fill", MB(OCCLUSION) | MB(FEATURE_ABLATION), F_DOUBLE, ARG(fill)},
    {"--feature-mask", MB(FEATURE_ABLATION), F_PTR, ARG(mask_path)},
    {"--root-iters", MB(TAYLOR), F_INT, ARG(root_iters)},
    {"--internal-batch", MB(INTEGRATED_GRADIENTS) | NOISE | MB(OCCLUSION) |
                             MB(FEATURE_ABLATION) | MB(TAYLOR), F_INT, ARG(internal_batch)},
    {"--composite/--rules", MB(LRP), F_COUNT, ARG(n_composite)},
    {"--rule", MB(LRP), F_COUNT, ARG(ao.lrp.n_overrides)},
    {"--maxpool", MB(LRP), F_COUNT, ARG(n_maxpool)},
    {"--zero-bias", MB(LRP), F_COUNT, ARG(ao.lrp.zero_bias)},
    {"--low/--high", MB(LRP) | MB(TAYLOR), F_COUNT, ARG(n_low)},
    {"--layer", MB(LRP), F_COUNT, ARG(n_layers)},
    {"--print-rules", MB(LRP), F_BOOL, ARG(print_rules)},
};
#undef NOISE
#undef MB
#undef ARG

/* Parse the command line of explain (explain true) or gradient into a, viz
 * and in; *model the MODEL. CLI_HELP: the help was printed. */
static int
parse_args(const char *cmd, bool explain, int argc, char **argv, struct explain_args *a,
           struct cli_viz *viz, struct cli_inputs *in, const char **model)
{
    struct cli_flag_group groups[3 + CLI_VIZ_GROUPS] = {
        {explain ? explain_flags : gradient_flags, a, NULL, NULL, NULL},
        cli_input_group(in),
    };
    int n_groups = 2;
    if (explain)
        groups[n_groups++] = (struct cli_flag_group){method_flags, a, NULL,
                                                     "attribution methods:", NULL};
    n_groups += cli_viz_groups(viz, groups + n_groups);
    int rc       = cli_parse_model_inputs(cmd, argc, argv, groups, n_groups, in, model);
    if (rc == CLI_HELP) {
        fputs(explain ? explain_usage : gradient_usage, stdout);
        fputs("\n", stdout);
        if (explain) {
            fputs("  --method NAME[,NAME]  the method (default lrp); several: --grid columns\n",
                  stdout);
            for (int i = 0; i < LRPX_ATTR_COUNT; i++)
                printf("      %-22s %s\n", lrpx_attr_method_name((lrpx_attr_method)i),
                       lrpx_attr_method_help((lrpx_attr_method)i));
            fputs("  --composite NAME    rule preset (default epsilon_plus):\n", stdout);
            cli_rules_help_line(stdout, LRPX_LRP_DOC_COMPOSITE, "                      ", 22);
        }
        cli_print_flags(stdout, groups, n_groups);
        if (explain) {
            fputs("\nthe rule-spec language (--rule SEL=RULE, --maxpool MODE):\n", stdout);
            cli_rules_help_line(stdout, LRPX_LRP_DOC_SELECTOR, "  SEL   ", 8);
            cli_rules_help_line(stdout, LRPX_LRP_DOC_RULE, "  RULE  ", 8);
            cli_rules_help_line(stdout, LRPX_LRP_DOC_MAXPOOL, "  MODE  ", 8);
        }
        return CLI_HELP;
    }
    if (rc != CLI_OK)
        return rc;
    if (a->list_rules)
        return CLI_OK;
    if (a->markdown)
        return cli_usage_error(cmd, "--markdown goes with --list-rules");
    if (cli_check_model_input(cmd, *model, in->n) != CLI_OK || cli_viz_check(cmd, viz) != CLI_OK)
        return CLI_USAGE;
    return CLI_OK;
}

/* Before any work: no output (-o, -o2, --heatmap, --grid) may be a file the
 * command reads. */
static int
guard_files(const char *cmd, const lrpx_model *m, const char *model_path,
            const struct cli_inputs *in, const struct explain_args *a)
{
    cli_guard_model(m, model_path);
    cli_guard_inputs(in);
    cli_guard_input(a->seed_path, "the seed file");
    cli_guard_input(a->tokens_path, "the tokens file");
    if (cli_viz_guard(cmd, a->viz) != CLI_OK || cli_guard_output(cmd, "-o", a->out_path) != CLI_OK ||
        cli_guard_output(cmd, "--token-strip", a->strip_path) != CLI_OK)
        return CLI_USAGE;
    for (int i = 0; i < a->n_layer_out; i++)
        if (cli_guard_output(cmd, "-o2", a->layer_out[i]) != CLI_OK)
            return CLI_USAGE;
    return CLI_OK;
}

/* Every method flag given must belong to one of the chosen methods; then
 * the given values go into a->ao (the others keep the library defaults). */
static int
method_checks(const char *cmd, struct explain_args *a)
{
    const struct cli_viz *v      = a->viz;
    unsigned              chosen = v->n_methods ? 0 : 1u << LRPX_ATTR_LRP;
    for (int k = 0; k < v->n_methods; k++)
        chosen |= 1u << v->methods[k];
    for (size_t i = 0; i < sizeof method_flag_use / sizeof method_flag_use[0]; i++) {
        const struct method_flag *f = &method_flag_use[i];
        const char               *p = (const char *)a + f->off;
        bool given = f->kind == F_INT      ? *(const int *)p != -1
                   : f->kind == F_COUNT    ? *(const int *)p != 0
                   : f->kind == F_BOOL     ? *(const bool *)p
                   : f->kind == F_DOUBLE   ? !isnan(*(const double *)p)
                                           : *(const char *const *)p != NULL;
        if (!given || (f->methods & chosen))
            continue;
        char names[256] = "";
        for (int m = 0, k = 0; m < LRPX_ATTR_COUNT; m++)
            if (f->methods & (1u << m))
                k += snprintf(names + k, sizeof names - (size_t)k, "%s%s", k ? ", " : "",
                              lrpx_attr_method_name((lrpx_attr_method)m));
        return cli_usage_error(cmd, "%s goes with --method %s (the method is %s)", f->name,
                               names, lrpx_attr_method_name(v->n_methods ? v->methods[0]
                                                                         : LRPX_ATTR_LRP));
    }
    struct lrpx_attr_options *o = &a->ao;
    o->method = v->n_methods ? v->methods[0] : LRPX_ATTR_LRP;
    if (a->steps != -1)
        o->steps = a->steps;
    if (a->quadrature != -1)
        o->quadrature = (lrpx_quadrature)a->quadrature;
    if (!isnan(a->baseline))
        o->baseline = a->baseline;
    if (a->samples != -1)
        o->samples = a->samples;
    if (!isnan(a->sigma))
        o->sigma = a->sigma;
    if (a->n_seed)
        o->seed = (uint64_t)a->seed;
    if (a->of != -1)
        o->of = (lrpx_attr_method)a->of;
    if (!isnan(a->fill))
        o->fill = a->fill;
    if (a->root_iters != -1)
        o->root_iters = a->root_iters;
    if (a->internal_batch != -1)
        o->internal_batch = a->internal_batch;
    if (a->n_stride && !o->patch_rank)
        return cli_usage_error(cmd, "--patch-stride needs --patch");
    if (o->quadrature != LRPX_QUADRATURE_GAUSS_LEGENDRE && o->steps < 2)
        return cli_usage_error(cmd, "--steps must be at least 2 for %s",
                               lrpx_quadrature_name(o->quadrature));
    return CLI_OK;
}

/* A .npy for a method option as a view; float64 arrays become float32
 * (floats true) in place. */
static int
side_npy(const char *cmd, const char *flag, const char *path, bool floats, lrpx_npy **npy,
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

static void
json_num(const char *key, double v)
{
    if (isfinite(v))
        printf(", \"%s\": %.9g", key, v);
    else
        printf(", \"%s\": null", key);
}

/* The per-sample lines of a method other than LRP. */
static void
print_method_samples(lrpx_session *s, const struct cli_viz *v, const struct lrpx_attr_options *o,
                     const lrpx_tensor_view *map, char **classes, int n_cls, bool json)
{
    int64_t n = v->batches[0].n;
    for (int64_t b = 0; b < n; b++) {
        lrpx_attr_report r = {.cls = -1, .score = NAN, .ref_score = NAN, .gap = NAN,
                              .distance = NAN};
        if (cli_viz_trick(v) || lrpx_session_attribution_report(s, b, &r) != LRPX_OK)
            r.cls = cli_viz_class(s, v, b, &r.score);     /* tricks: class and score */
        r.sum          = sample_sum(map, b, n);
        const char *cn = class_name(classes, n_cls, r.cls);
        bool        ig = o->method == LRPX_ATTR_INTEGRATED_GRADIENTS;
        bool        ty = o->method == LRPX_ATTR_TAYLOR;
        if (json) {
            printf(b ? ", {\"class\": %lld, \"class_name\": " : "{\"class\": %lld, \"class_name\": ",
                   (long long)r.cls);
            if (cn)
                cli_json_string(stdout, cn);
            else
                printf("null");
            json_num("logit", r.score);
            json_num("attribution_sum", r.sum);
            if (ig) {
                json_num("baseline_score", r.ref_score);
                json_num("completeness_gap", r.gap);
            }
            if (ty) {
                json_num("root_score", r.ref_score);
                json_num("residual", r.gap);
                json_num("root_distance", r.distance);
            }
            if (!cli_viz_trick(v))
                printf(", \"evaluations\": %lld", (long long)r.n_evals);
            printf("}");
            continue;
        }
        printf("sample %lld: class %lld%s%s%s  logit %.6g  attribution sum %.6g", (long long)b,
               (long long)r.cls, cn ? " (" : "", cn ? cn : "", cn ? ")" : "", r.score, r.sum);
        if (ig && isfinite(r.gap))
            printf("  F(baseline) %.6g  completeness gap %.3g (%.2g%% of F(x) - F(baseline))",
                   r.ref_score, r.gap,
                   r.score != r.ref_score ? 100.0 * r.gap / (r.score - r.ref_score) : 0.0);
        if (ty && isfinite(r.gap))
            printf("  F(root) %.3g  residual %.4g  |x - root| %.4g", r.ref_score, r.gap,
                   r.distance);
        putchar('\n');
    }
}

int
cmd_explain(int argc, char **argv)
{
    const char         *model_path = NULL;
    struct cli_inputs   in         = {.n = 0};
    char                err[1024];
    struct cli_viz      viz;
    struct explain_args a = {.viz = &viz, .fold_bn = true, .steps = -1, .samples = -1,
                             .root_iters = -1, .internal_batch = -1, .quadrature = -1,
                             .of = -1, .sigma = NAN, .fill = NAN, .baseline = NAN};
    cli_viz_init(&viz);
    lrpx_attr_options_default(&a.ao);
    struct lrpx_lrp_options *o = &a.ao.lrp;
    const char *out_path = NULL, *seed_path = NULL;

    int prc = parse_args("explain", true, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    if (a.list_rules)
        return cli_list_rules(a.markdown);
    if ((prc = method_checks("explain", &a)) != CLI_OK)
        return prc;
    const bool lrp = a.ao.method == LRPX_ATTR_LRP;
    out_path  = a.out_path;
    seed_path = a.seed_path;
    if (a.n_layers != a.n_layer_out)
        return cli_usage_error("explain", "each --layer NAME needs one -o2 FILE (%d vs %d)",
                               a.n_layers, a.n_layer_out);
    if ((a.n_low > 0) != (a.n_high > 0) || (a.n_low > 0 && a.n_low != a.n_high))
        return cli_usage_error("explain", "--low and --high go together, with as many values");
    if (seed_path && o->seed == LRPX_SEED_TARGET)
        return cli_usage_error("explain", "--target and --seed-npy exclude each other");
    if (a.n_low == 1) {
        o->box_low  = a.lows[0];
        o->box_high = a.highs[0];
        if (!(o->box_low <= o->box_high))
            return cli_usage_error("explain", "--low must not exceed --high");
    } else if (a.n_low > 1) {
        o->box_low_c  = a.lows;
        o->box_high_c = a.highs;
        o->n_box_c    = a.n_low;
    }

    lrpx_model *m = cli_load_model_ex("explain", model_path, false, a.fold_bn);
    if (!m)
        return CLI_FAIL;
    if (guard_files("explain", m, model_path, &in, &a) != CLI_OK) {
        lrpx_model_free(m);
        return CLI_USAGE;
    }
    lrpx_session *s       = NULL;
    lrpx_npy     *seed    = NULL, *base = NULL, *noise = NULL, *mask = NULL;
    char        **classes = NULL;
    int           n_cls   = 0, rc = CLI_OK;
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("explain", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    rc = cli_viz_inputs("explain", s, m, model_path, in.list, in.n, &viz, o);
    if (rc != CLI_OK)
        goto done;
    if (seed_path) {
        if (lrpx_npy_read(seed_path, &seed, err, sizeof err) != LRPX_OK) {
            rc = cli_error("explain", "%s", err);
            goto done;
        }
        if (seed->dtype != LRPX_DTYPE_FLOAT32) {
            rc = cli_error("explain", "%s: the seed must be float32", seed_path);
            goto done;
        }
        o->seed         = LRPX_SEED_TENSOR;
        o->seed_data    = seed->data;
        o->seed_n_elems = seed->n_elems;
    }
    if ((rc = side_npy("explain", "--baseline", a.baseline_path, true, &base,
                       &a.ao.baseline_data)) != CLI_OK ||
        (rc = side_npy("explain", "--noise", a.noise_path, true, &noise, &a.ao.noise)) !=
            CLI_OK ||
        (rc = side_npy("explain", "--feature-mask", a.mask_path, false, &mask,
                       &a.ao.feature_mask)) != CLI_OK)
        goto done;
    a.ao.input_name = in.list[0].name;
    if (cli_viz_explain(s, &a.ao, &viz) != LRPX_OK) {
        rc = cli_error("explain", "%s", lrpx_session_errmsg(s));
        goto done;
    }

    int n_ex = lrp ? lrpx_session_n_explained(s) : 0;
    if (a.print_rules) {
        if (a.json)
            printf("{\"rules\": [");
        for (int i = n_ex - 1, first = 1; i >= 0; i--, first = 0) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            if (a.json) {
                printf(first ? "{\"name\": " : ", {\"name\": ");
                cli_json_string(stdout, nr.name);
                printf(", \"op\": ");
                cli_json_string(stdout, nr.op_type);
                printf(", \"rule\": ");
                cli_json_string(stdout, nr.rule);
                printf("}");
            } else {
                printf("%-32s %-20s %s\n", nr.name[0] ? nr.name : "(unnamed)", nr.op_type,
                       nr.rule[0] ? nr.rule : "-");
            }
        }
        if (a.json)
            printf("]}\n");
        goto done;
    }

    lrpx_tensor_view rel = viz.map_view;
    if ((rc = cli_viz_heatmap("explain", &viz, &rel)) != CLI_OK)
        goto done;
    if (out_path && (rc = cli_write_npy("explain", out_path, &rel)) != CLI_OK)
        goto done;
    for (int i = 0; i < a.n_layers; i++) {
        lrpx_tensor_view lv;
        if (lrpx_session_relevance(s, a.layers[i], &lv) != LRPX_OK) {
            rc = cli_error("explain", "--layer %s: no such value, or no relevance reached it",
                           a.layers[i]);
            goto done;
        }
        if ((rc = cli_write_npy("explain", a.layer_out[i], &lv)) != CLI_OK)
            goto done;
    }

    classes = cli_load_classes(model_path, &n_cls);
    const char *mname = lrpx_attr_method_name(a.ao.method);
    if (a.json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"method\": ");
        cli_json_string(stdout, mname);
        if (lrp) {
            printf(", \"composite\": ");
            cli_json_string(stdout, o->composite);
        }
        printf(", \"samples\": [");
    } else if (lrp) {
        printf("composite %s\n", o->composite);
    } else {
        printf("method %s\n", mname);
    }
    if (!lrp) {
        print_method_samples(s, &viz, &a.ao, &rel, classes, n_cls, a.json);
        if (a.json) {
            printf("], \"attribution\": ");
            if (out_path)
                cli_json_string(stdout, out_path);
            else
                printf("null");
            printf("}\n");
        } else if (out_path) {
            printf("\nwrote %s ", out_path);
            cli_print_dims(stdout, rel.dims, rel.rank);
            putchar('\n');
        }
        rc = cli_viz_grid("explain", s, m, model_path, &a.ao, &viz);
        goto done;
    }
    int64_t n_samples = 0;
    while (lrpx_session_explained_output(s, n_samples, NULL, NULL) == LRPX_OK)
        n_samples++;
    for (int64_t b = 0; b < n_samples; b++) {
        int64_t cls;
        double  logit;
        lrpx_session_explained_output(s, b, &cls, &logit);
        double      sum = sample_sum(&rel, b, n_samples);
        const char *cn  = class_name(classes, n_cls, cls);
        if (a.json) {
            printf(b ? ", {\"class\": %lld, \"class_name\": " : "{\"class\": %lld, \"class_name\": ",
                   (long long)cls);
            if (cn)
                cli_json_string(stdout, cn);
            else
                printf("null");
            printf(", \"logit\": %.9g, \"relevance_sum\": %.9g}", logit, sum);
        } else {
            printf("sample %lld: class %lld%s%s%s  logit %.6g  relevance sum %.6g",
                   (long long)b, (long long)cls, cn ? " (" : "", cn ? cn : "", cn ? ")" : "",
                   logit, sum);
            if (logit != 0.0)
                printf("  (%.2f%% of the logit)", 100.0 * sum / logit);
            putchar('\n');
        }
    }
    if (a.json) {
        printf("], \"layers\": [");
    } else {
        printf("\nrelevance per layer (output to input; in = entering the node, out = passed "
               "to its inputs):\n");
        printf("  %-28s %-18s %-22s %14s %14s %9s\n", "node", "op", "rule", "in", "out",
               "out/in");
    }
    for (int i = 0; i < n_ex; i++) {
        lrpx_node_relevance nr;
        lrpx_session_explained_node(s, i, &nr);
        if (a.json) {
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_string(stdout, nr.name);
            printf(", \"op\": ");
            cli_json_string(stdout, nr.op_type);
            printf(", \"rule\": ");
            cli_json_string(stdout, nr.rule);
            printf(", \"r_in\": %.9g, \"r_out\": %.9g}", nr.r_in, nr.r_out);
        } else {
            char ratio[32] = "-";
            if (nr.r_in != 0.0)
                snprintf(ratio, sizeof ratio, "%.4f", nr.r_out / nr.r_in);
            printf("  %-28.28s %-18.18s %-22.22s %14.6g %14.6g %9s\n",
                   nr.name[0] ? nr.name : "(unnamed)", nr.op_type, nr.rule[0] ? nr.rule : "-",
                   nr.r_in, nr.r_out, ratio);
        }
    }
    struct cli_tokens tok = {0};
    if (a.per_token || a.tokens_path || a.strip_path) {
        if ((rc = cli_tokens_reduce("explain", a.tokens_path, &rel, &tok)) != CLI_OK)
            goto done;
        if (a.json)
            printf("], \"tokens\": ");
        cli_tokens_print(&tok, a.json);
        if (a.strip_path)
            rc = cli_tokens_strip("explain", a.strip_path, &tok, viz.cmap);
        cli_tokens_free(&tok);
        if (rc != CLI_OK)
            goto done;
    } else if (a.json) {
        printf("]");
    }
    if (a.json) {
        printf(", \"relevance\": ");
        if (out_path)
            cli_json_string(stdout, out_path);
        else
            printf("null");
        printf("}\n");
    } else if (out_path) {
        printf("\nwrote %s ", out_path);
        cli_print_dims(stdout, rel.dims, rel.rank);
        putchar('\n');
    }
    rc = cli_viz_grid("explain", s, m, model_path, &a.ao, &viz);
done:
    cli_viz_free(&viz);
    cli_free_classes(classes, n_cls);
    lrpx_npy_free(seed);
    lrpx_npy_free(base);
    lrpx_npy_free(noise);
    lrpx_npy_free(mask);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}

int
cmd_gradient(int argc, char **argv)
{
    const char         *model_path = NULL;
    struct cli_inputs   in         = {.n = 0};
    struct cli_viz      viz;
    struct explain_args a = {.viz = &viz, .fold_bn = true};
    cli_viz_init(&viz);
    lrpx_attr_options_default(&a.ao);

    int prc = parse_args("gradient", false, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    const char *out_path    = a.out_path;
    bool        json        = a.json, times_input = a.times_input;
    a.ao.method = times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT;
    cli_viz_note_method(&viz, a.ao.method);

    lrpx_model *m = cli_load_model("gradient", model_path, false);
    if (!m)
        return CLI_FAIL;
    if (guard_files("gradient", m, model_path, &in, &a) != CLI_OK) {
        lrpx_model_free(m);
        return CLI_USAGE;
    }
    lrpx_session *s       = NULL;
    char        **classes = NULL;
    int           n_cls   = 0, rc = CLI_OK;
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("gradient", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    rc = cli_viz_inputs("gradient", s, m, model_path, in.list, in.n, &viz, NULL);
    if (rc != CLI_OK)
        goto done;
    a.ao.input_name = in.list[0].name;
    if (cli_viz_explain(s, &a.ao, &viz) != LRPX_OK) {
        rc = cli_error("gradient", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    lrpx_tensor_view mv = viz.map_view;
    if ((rc = cli_viz_heatmap("gradient", &viz, &mv)) != CLI_OK)
        goto done;
    if (out_path && (rc = cli_write_npy("gradient", out_path, &mv)) != CLI_OK)
        goto done;

    classes           = cli_load_classes(model_path, &n_cls);
    int64_t n_samples = viz.batches[0].n;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"map\": \"%s\", \"samples\": [",
               times_input ? "gradient_x_input" : "gradient");
    }
    for (int64_t b = 0; b < n_samples; b++) {
        double  logit, sum = sample_sum(&mv, b, n_samples), amax = 0.0;
        int64_t cls = cli_viz_class(s, &viz, b, &logit);
        for (int64_t i = 0; i < mv.n_elems; i++)
            amax = fmax(amax, fabs(((const float *)mv.data)[i]));
        const char *cn = class_name(classes, n_cls, cls);
        if (json) {
            printf(b ? ", {\"class\": %lld, \"class_name\": " : "{\"class\": %lld, \"class_name\": ",
                   (long long)cls);
            if (cn)
                cli_json_string(stdout, cn);
            else
                printf("null");
            printf(", \"logit\": %.9g, \"sum\": %.9g, \"max_abs\": %.9g}", logit, sum, amax);
        } else {
            printf("sample %lld: class %lld%s%s%s  logit %.6g  %s sum %.6g  max |.| %.6g\n",
                   (long long)b, (long long)cls, cn ? " (" : "", cn ? cn : "", cn ? ")" : "",
                   logit, times_input ? "gradient x input" : "gradient", sum, amax);
        }
    }
    if (json)
        printf("]}\n");
    else if (out_path) {
        printf("wrote %s ", out_path);
        cli_print_dims(stdout, mv.dims, mv.rank);
        putchar('\n');
    }
    rc = cli_viz_grid("gradient", s, m, model_path, &a.ao, &viz);
done:
    cli_viz_free(&viz);
    cli_free_classes(classes, n_cls);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
