/* lrpx explain MODEL INPUT: layer-wise relevance propagation of one
 * prediction (relevance map as .npy, per-layer conservation report), and
 * lrpx gradient MODEL INPUT: sensitivity (gradient) or gradient x input. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char explain_usage[] =
    "usage: lrpx explain MODEL INPUT [--composite NAME] [--rule SEL=RULE]...\n"
    "                    [--rules FILE] [--target K | --seed-npy FILE]\n"
    "                    [--maxpool MODE] [--zero-bias] [--low L --high H]\n"
    "                    [-o REL.npy] [--layer NAME -o2 FILE]... [--output NAME]\n"
    "                    [--json] [--print-rules] [--list-rules [--markdown]]\n"
    "\n"
    "Explain the model's prediction for INPUT (.npy, a missing batch dimension\n"
    "added; JPEG/PNG images or a folder, preprocessed, several make a batch)\n"
    "with layer-wise relevance propagation. The explained output is the\n"
    "predicted class (or --target K) of every sample, seeded with its logit; a\n"
    "trailing Softmax is skipped. Prints the class, the logit, the sum of the\n"
    "input relevance and, per layer, the relevance entering and leaving it.\n";

static const char gradient_usage[] =
    "usage: lrpx gradient MODEL INPUT [--target K] [-o G.npy] [--times-input]\n"
    "                     [--output NAME] [--json]\n"
    "\n"
    "Gradient of the predicted class's logit (or --target K) with respect to\n"
    "the input (INPUT as for lrpx explain: .npy, images or a folder;\n"
    "sensitivity analysis); --times-input multiplies it by the input\n"
    "(gradient x input). A trailing Softmax is skipped.\n";

#define MAX_LAYERS 64

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

#define MAX_BOX_C 16

struct explain_args {
    struct lrpx_lrp_options o;
    struct cli_viz         *viz;
    const char             *out_path, *seed_path;
    const char             *layers[MAX_LAYERS], *layer_out[MAX_LAYERS];
    int                     n_layers, n_layer_out, n_low, n_high;
    float                   lows[MAX_BOX_C], highs[MAX_BOX_C];
    bool                    json, print_rules, fold_bn, list_rules, markdown, times_input;
};

static int
arg_composite(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    cli_viz_note_composite(a->viz, val);
    return lrpx_lrp_options_set_composite(&a->o, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_rule(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    return lrpx_lrp_options_parse_rule(&a->o, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_rules_file(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a  = ctx;
    lrpx_status          st = lrpx_lrp_options_load_json(&a->o, val, msg, size);
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
    a->o.seed   = LRPX_SEED_TARGET;
    a->o.target = k;
    cli_viz_note_target(a->viz, k);
    return CLI_OK;
}

static int
arg_maxpool(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return lrpx_lrp_options_parse_maxpool(val, &a->o.maxpool) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
arg_low(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return (a->n_low = parse_list(val, a->lows, MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

static int
arg_high(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    (void)msg, (void)size;
    return (a->n_high = parse_list(val, a->highs, MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

static int
arg_layer(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    if (a->n_layers == MAX_LAYERS) {
        snprintf(msg, size, "at most %d", MAX_LAYERS);
        return CLI_USAGE;
    }
    a->layers[a->n_layers++] = val;
    return CLI_OK;
}

static int
arg_layer_out(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    if (a->n_layer_out == MAX_LAYERS) {
        snprintf(msg, size, "at most %d", MAX_LAYERS);
        return CLI_USAGE;
    }
    a->layer_out[a->n_layer_out++] = val;
    return CLI_OK;
}

#define ARG(field) offsetof(struct explain_args, field)
/* flags explain and gradient share */
#define TARGET_FLAG(what)                                                                    \
    {"--target", NULL, "K", what, CLI_CALL, .call = arg_target,                              \
     .need = "a class index >= 0"}
#define COMMON_FLAGS                                                                         \
    {"--output", NULL, "NAME", "explain this graph output instead of the first", CLI_STRING,  \
     ARG(o.output_name), .need = "a name"},                                                   \
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
    {"--zero-bias", NULL, NULL, "leave biases out of the rules", CLI_SET, .off = ARG(o.zero_bias),
     .set = 1},
    {"--low", NULL, "L", "input bounds for z^B (a number, or a comma list per\nchannel)",
     CLI_CALL, .call = arg_low, .need = "a number or a comma list (at most 16)"},
    {"--high", NULL, "H", "the upper bounds, as --low", CLI_CALL, .call = arg_high,
     .need = "a number or a comma list (at most 16)"},
    {"-o", NULL, "REL.npy", "write the input relevance (shape of the input)", CLI_STRING,
     ARG(out_path), .need = "a path"},
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
#undef ARG

/* Parse the command line of explain (explain true) or gradient into a, viz
 * and in; *model the MODEL. CLI_HELP: the help was printed. */
static int
parse_args(const char *cmd, bool explain, int argc, char **argv, struct explain_args *a,
           struct cli_viz *viz, struct cli_inputs *in, const char **model)
{
    struct cli_flag_group groups[2 + CLI_VIZ_GROUPS] = {
        {explain ? explain_flags : gradient_flags, a, NULL, NULL, NULL},
        cli_input_group(in),
    };
    int n_groups = 2 + cli_viz_groups(viz, groups + 2);
    int rc       = cli_parse_model_inputs(cmd, argc, argv, groups, n_groups, in, model);
    if (rc == CLI_HELP) {
        cli_help_usage(stdout, cmd, explain ? explain_usage : gradient_usage);
        if (!cli_help_is_man())
            fputs("\n", stdout);
        if (explain)
            cli_rules_help_item(stdout, LRPX_LRP_DOC_COMPOSITE, "--composite NAME",
                                "rule preset (default epsilon_plus):\n", CLI_HELP_COL);
        cli_print_flags(stdout, groups, n_groups);
        if (explain) {
            cli_help_section(stdout, "the rule-spec language (--rule SEL=RULE, --maxpool MODE):");
            cli_rules_help_item(stdout, LRPX_LRP_DOC_SELECTOR, "SEL", "", 8);
            cli_rules_help_item(stdout, LRPX_LRP_DOC_RULE, "RULE", "", 8);
            cli_rules_help_item(stdout, LRPX_LRP_DOC_MAXPOOL, "MODE", "", 8);
        }
        cli_help_end(stdout, cmd);
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

int
cmd_explain(int argc, char **argv)
{
    const char         *model_path = NULL;
    struct cli_inputs   in         = {.n = 0};
    char                err[1024];
    struct cli_viz      viz;
    struct explain_args a = {.viz = &viz, .fold_bn = true};
    cli_viz_init(&viz);
    lrpx_lrp_options_default(&a.o);
    struct lrpx_lrp_options *o = &a.o;
    const char *out_path = NULL, *seed_path = NULL;

    int prc = parse_args("explain", true, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    if (a.list_rules)
        return cli_list_rules(a.markdown);
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
    lrpx_session *s       = NULL;
    lrpx_npy     *seed    = NULL;
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
    double t0 = cli_now();
    if (cli_viz_explain(s, o, &viz, LRPX_ATTR_LRP) != LRPX_OK) {
        rc = cli_error("explain", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    cli_verbose("explain", t0, "forward and relevance passes:");

    int n_ex = lrpx_session_n_explained(s);
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

    lrpx_tensor_view rel;
    if (lrpx_session_relevance(s, in.list[0].name, &rel) != LRPX_OK) {
        rc = cli_error("explain", "no relevance reached the input");
        goto done;
    }
    cli_viz_map("explain", &viz, &rel);
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
    int64_t n_samples = 0;
    while (lrpx_session_explained_output(s, n_samples, NULL, NULL) == LRPX_OK)
        n_samples++;
    if (a.json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"composite\": ");
        cli_json_string(stdout, o->composite);
        printf(", \"samples\": [");
    } else {
        printf("composite %s\n", o->composite);
    }
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
        printf("], \"a.layers\": [");
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
    if (a.json) {
        printf("], \"relevance\": ");
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
    rc = cli_viz_grid("explain", s, m, model_path, o, &viz, LRPX_ATTR_LRP);
done:
    cli_viz_free(&viz);
    cli_free_classes(classes, n_cls);
    lrpx_npy_free(seed);
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
    lrpx_lrp_options_default(&a.o);
    struct lrpx_lrp_options *o = &a.o;

    int prc = parse_args("gradient", false, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    const char *out_path    = a.out_path;
    bool        json        = a.json, times_input = a.times_input;

    lrpx_model *m = cli_load_model("gradient", model_path, false);
    if (!m)
        return CLI_FAIL;
    lrpx_session *s       = NULL;
    float        *map     = NULL;
    char        **classes = NULL;
    int           n_cls   = 0, rc = CLI_OK;
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("gradient", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    rc = cli_viz_inputs("gradient", s, m, model_path, in.list, in.n, &viz, NULL);
    if (rc != CLI_OK)
        goto done;
    double t0 = cli_now();
    if (cli_viz_explain(s, o, &viz,
                        times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT) != LRPX_OK) {
        rc = cli_error("gradient", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    cli_verbose("gradient", t0, "forward and gradient passes:");
    lrpx_tensor_view gv;
    if (lrpx_session_gradient_of(s, in.list[0].name, &gv) != LRPX_OK) {
        rc = cli_error("gradient", "no gradient reached the input");
        goto done;
    }
    lrpx_tensor_view mv = gv;
    cli_viz_map("gradient", &viz, &mv);           /* the trick map is x input already */
    if (times_input && !cli_viz_trick(&viz)) {
        lrpx_value_info  vi;
        lrpx_tensor_view xv;
        const char      *in_name = in.list[0].name;
        if (!in_name) {
            lrpx_model_input_info(m, 0, &vi);
            in_name = vi.name;
        }
        if (lrpx_session_value(s, in_name, &xv) != LRPX_OK || xv.dtype != LRPX_DTYPE_FLOAT32 ||
            xv.n_elems != gv.n_elems) {
            rc = cli_error("gradient", "--times-input: the input is not a float32 tensor");
            goto done;
        }
        map = malloc((size_t)(gv.n_elems ? gv.n_elems : 1) * sizeof *map);
        if (!map) {
            rc = cli_error("gradient", "out of memory");
            goto done;
        }
        for (int64_t i = 0; i < gv.n_elems; i++)
            map[i] = ((const float *)gv.data)[i] * ((const float *)xv.data)[i];
        mv.data = map;
    }
    if ((rc = cli_viz_heatmap("gradient", &viz, &mv)) != CLI_OK)
        goto done;
    if (out_path && (rc = cli_write_npy("gradient", out_path, &mv)) != CLI_OK)
        goto done;

    classes           = cli_load_classes(model_path, &n_cls);
    int64_t n_samples = 0;
    while (lrpx_session_explained_output(s, n_samples, NULL, NULL) == LRPX_OK)
        n_samples++;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"map\": \"%s\", \"samples\": [",
               times_input ? "gradient_x_input" : "gradient");
    }
    for (int64_t b = 0; b < n_samples; b++) {
        int64_t cls;
        double  logit, sum = sample_sum(&mv, b, n_samples), amax = 0.0;
        lrpx_session_explained_output(s, b, &cls, &logit);
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
    rc = cli_viz_grid("gradient", s, m, model_path, o, &viz,
                      times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT);
done:
    cli_viz_free(&viz);
    free(map);
    cli_free_classes(classes, n_cls);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
