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

/* the end of both usages: --batch */
#define BATCH_TEXT                                                                           \
    "The samples go through the model --batch N at a time (default: the\n"                   \
    "model's fixed batch size, else 8, or 1 for model files of 100 MB or more,\n"           \
    "since an explanation keeps every activation of its pass); the results are\n"            \
    "those of one pass over all samples.\n"

static const char explain_usage[] =
    "usage: lrpx explain MODEL INPUT [--method NAME[,NAME...]] [METHOD FLAGS]\n"
    "                    [--composite NAME] [--rule SEL=RULE]...\n"
    "                    [--rules FILE] [--target K | --seed-npy FILE]\n"
    "                    [--maxpool MODE] [--zero-bias] [--stabilizer E]\n"
    "                    [--low L --high H] [--per-token] [--tokens FILE]\n"
    "                    [--token-strip OUT.png|OUT.html]\n"
    "                    [-o REL.npy] [--layer NAME -o2 FILE]... [--output NAME]\n"
    "                    [--batch N]\n"
    "                    [--json] [--print-rules] [--list-rules [--markdown]]\n"
    "\n"
    "Explain the model's prediction for INPUT (.npy, a missing batch dimension\n"
    "added; JPEG/PNG images or a folder, preprocessed, several make a batch)\n"
    "with an attribution method, by default layer-wise relevance propagation.\n"
    "The explained output is the predicted class (or --target K) of every\n"
    "sample; a trailing Softmax is skipped. Prints the class, the logit and\n"
    "the sum of the map; for LRP, per layer, the relevance entering and\n"
    "leaving it; for integrated gradients F(baseline) and the completeness\n"
    "gap; for taylor F(root), the residual and the distance to the root.\n"
    "\n"
    BATCH_TEXT;

static const char gradient_usage[] =
    "usage: lrpx gradient MODEL INPUT [--target K] [-o G.npy] [--times-input]\n"
    "                     [--output NAME] [--batch N] [--json]\n"
    "\n"
    "Gradient of the predicted class's logit (or --target K) with respect to\n"
    "the input (INPUT as for lrpx explain: .npy, images or a folder;\n"
    "sensitivity analysis); --times-input multiplies it by the input\n"
    "(gradient x input). A trailing Softmax is skipped.\n"
    "\n"
    BATCH_TEXT;

#define MAX_LAYERS 64


/* The floats of sample b (the view's first axis is the batch; else all). */
static const float *
sample_span(const lrpx_tensor_view *v, int64_t b, int64_t n_samples, int64_t *per)
{
    *per = n_samples > 0 && v->rank >= 1 && v->dims[0] == n_samples ? v->n_elems / n_samples
                                                                     : v->n_elems;
    return (const float *)v->data + (*per == v->n_elems ? 0 : b * *per);
}

/* Sum of the relevance of sample b. */
static double
sample_sum(const lrpx_tensor_view *v, int64_t b, int64_t n_samples)
{
    int64_t      per;
    const float *d = sample_span(v, b, n_samples, &per);
    double       s = 0.0;
    for (int64_t i = 0; i < per; i++)
        s += d[i];
    return s;
}

static const char *
class_name(char **classes, int n, int64_t k)
{
    return classes && k >= 0 && k < n ? classes[k] : NULL;
}

struct explain_args {
    struct cli_method       meth;   /* meth.ao: the method, rules and seed  */
    struct cli_viz         *viz;
    const char             *out_path, *seed_path;
    const char             *tokens_path, *strip_path;
    bool                    per_token;
    const char             *layers[MAX_LAYERS], *layer_out[MAX_LAYERS];
    int                     n_layers, n_layer_out;
    int                     batch;
    bool                    json, print_rules, fold_bn, list_rules, markdown, times_input;
};

static int
arg_target(void *ctx, const char *val, char *msg, size_t size)
{
    struct explain_args *a = ctx;
    long long            k;
    (void)msg, (void)size;
    if (!cli_parse_int(val, &k) || k < 0)
        return CLI_USAGE;
    a->meth.ao.lrp.seed   = LRPX_SEED_TARGET;
    a->meth.ao.lrp.target = k;
    cli_viz_note_target(a->viz, k);
    return CLI_OK;
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

#define ARG(field) offsetof(struct explain_args, field)
/* flags explain and gradient share */
#define TARGET_FLAG(what)                                                                    \
    {"--target", NULL, "K", what, CLI_CALL, .call = arg_target,                              \
     .need = "a class index >= 0"}
#define COMMON_FLAGS                                                                         \
    {"--output", NULL, "NAME", "explain this graph output instead of the first", CLI_STRING,  \
     ARG(meth.ao.lrp.output_name), .need = "a name"},                                         \
    {"--batch", NULL, "N",                                                                    \
     "N samples per pass, with the samples per second on\n"                                  \
     "stderr (default: see above)",                                                          \
     CLI_INT, ARG(batch), .lo = 1, .hi = 1 << 20, .need = "a positive whole number"},          \
    {"--json", NULL, NULL, "machine-readable report on stdout", CLI_TRUE, .off = ARG(json)}

static const struct cli_flag explain_flags[] = {
    TARGET_FLAG("explain class K instead of the predicted one"),
    {"--seed-npy", NULL, "FILE", "full output relevance (shape of the output) as the seed",
     CLI_STRING, .off = ARG(seed_path), .need = "a file"},
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

/* explain's own flags that only LRP takes (the shared ones: method.c) */
static const struct cli_method_use lrp_flag_use[] = {
    {"--layer", 1u << LRPX_ATTR_LRP, CLI_USE_COUNT, ARG(n_layers)},
    {"--print-rules", 1u << LRPX_ATTR_LRP, CLI_USE_BOOL, ARG(print_rules)},
};
#undef ARG

/* Parse the command line of explain (explain true) or gradient into a, viz
 * and in; *model the MODEL. CLI_HELP: the help was printed. */
static int
parse_args(const char *cmd, bool explain, int argc, char **argv, struct explain_args *a,
           struct cli_viz *viz, struct cli_inputs *in, const char **model)
{
    struct cli_flag_group groups[3 + CLI_VIZ_GROUPS] = {
        {.flags = explain ? explain_flags : gradient_flags, .ctx = a},
        cli_input_group(in),
    };
    int n_groups = 2;
    if (explain)
        groups[n_groups++] = cli_method_group(&a->meth);
    n_groups += cli_viz_groups(viz, groups + n_groups);
    int rc       = cli_parse_model_inputs(cmd, argc, argv, groups, n_groups, in, model);
    if (rc == CLI_HELP) {
        cli_help_usage(stdout, cmd, explain ? explain_usage : gradient_usage);
        if (!cli_help_is_man())
            fputs("\n", stdout);
        if (explain)
            cli_method_help(stdout, &a->meth);
        cli_print_flags(stdout, groups, n_groups);
        if (explain)
            cli_method_help_rules(stdout);
        cli_help_end(stdout, cmd);
        return CLI_HELP;
    }
    if (rc != CLI_OK)
        return rc;
    viz->batch = a->batch;
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
    cli_method_guard(&a->meth);
    if (cli_viz_guard(cmd, a->viz) != CLI_OK || cli_guard_output(cmd, "-o", a->out_path) != CLI_OK ||
        cli_guard_output(cmd, "--token-strip", a->strip_path) != CLI_OK)
        return CLI_USAGE;
    for (int i = 0; i < a->n_layer_out; i++)
        if (cli_guard_output(cmd, "-o2", a->layer_out[i]) != CLI_OK)
            return CLI_USAGE;
    return CLI_OK;
}

/* The method flags (method.c) and explain's LRP-only ones; the methods and
 * composites become --grid columns. */
static int
method_checks(const char *cmd, struct explain_args *a)
{
    struct cli_method *cm = &a->meth;
    int                rc = cli_method_check(cmd, cm);
    if (rc == CLI_OK)
        rc = cli_method_uses(cmd, cm, lrp_flag_use,
                             (int)(sizeof lrp_flag_use / sizeof lrp_flag_use[0]), a);
    for (int k = 0; rc == CLI_OK && k < cm->n_methods; k++)
        cli_viz_note_method(a->viz, cm->methods[k]);
    for (int k = 0; rc == CLI_OK && k < cm->n_composites; k++)
        cli_viz_note_composite(a->viz, cm->composites[k]);
    return rc;
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
    int64_t n = cli_viz_n_samples(v);
    for (int64_t b = 0; b < n; b++) {
        lrpx_attr_report r = {.cls = -1, .score = NAN, .ref_score = NAN, .gap = NAN,
                              .distance = NAN};
        if (!cli_viz_report(v, b, &r))
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

/* The end of the report: the output file under key (JSON), or the line
 * saying it was written. */
static void
print_tail(bool json, const char *key, const char *out_path, const lrpx_tensor_view *map)
{
    if (json) {
        printf("], \"%s\": ", key);
        if (out_path)
            cli_json_string(stdout, out_path);
        else
            printf("null");
        printf("}\n");
    } else if (out_path) {
        printf("\nwrote %s ", out_path);
        cli_print_dims(stdout, map->dims, map->rank);
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
    struct explain_args a = {.viz = &viz, .fold_bn = true};
    cli_viz_init(&viz);
    cli_method_init(&a.meth, false);
    struct lrpx_lrp_options *o = &a.meth.ao.lrp;
    const char *out_path = NULL, *seed_path = NULL;

    int prc = parse_args("explain", true, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    if (a.list_rules)
        return cli_list_rules(a.markdown);
    if ((prc = method_checks("explain", &a)) != CLI_OK)
        return prc;
    const bool lrp = a.meth.ao.method == LRPX_ATTR_LRP;
    out_path  = a.out_path;
    seed_path = a.seed_path;
    if (a.n_layers != a.n_layer_out)
        return cli_usage_error("explain", "each --layer NAME needs one -o2 FILE (%d vs %d)",
                               a.n_layers, a.n_layer_out);
    if (seed_path && o->seed == LRPX_SEED_TARGET)
        return cli_usage_error("explain", "--target and --seed-npy exclude each other");

    lrpx_model *m = cli_load_model_ex("explain", model_path, false, a.fold_bn);
    if (!m)
        return CLI_FAIL;
    if (guard_files("explain", m, model_path, &in, &a) != CLI_OK) {
        lrpx_model_free(m);
        return CLI_USAGE;
    }
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
    if ((rc = cli_method_load("explain", &a.meth)) != CLI_OK)
        goto done;
    a.meth.ao.input_name = in.list[0].name;
    viz.keep             = a.layers;
    viz.n_keep           = a.n_layers;
    viz.one_pass         = a.print_rules;
    double t0 = cli_now();
    if ((rc = cli_viz_explain("explain", s, &a.meth.ao, &viz)) != CLI_OK)
        goto done;
    cli_verbose("explain", t0, "forward and %s passes:",
                lrp ? "relevance" : lrpx_attr_method_name(a.meth.ao.method));

    int n_ex = lrp ? viz.n_nodes : 0;
    if (a.print_rules) {
        if (a.json)
            printf("{\"rules\": [");
        for (int i = n_ex - 1, first = 1; i >= 0; i--, first = 0) {
            lrpx_node_relevance nr = viz.nodes[i];
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
        if (!viz.kept || !viz.kept[i].data) {
            rc = cli_error("explain", "--layer %s: no such value, or no relevance reached it",
                           a.layers[i]);
            goto done;
        }
        if ((rc = cli_write_npy("explain", a.layer_out[i], &viz.kept[i])) != CLI_OK)
            goto done;
    }

    classes = cli_load_classes(model_path, &n_cls);
    const char *mname = lrpx_attr_method_name(a.meth.ao.method);
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
        print_method_samples(s, &viz, &a.meth.ao, &rel, classes, n_cls, a.json);
        print_tail(a.json, "attribution", out_path, &rel);
        rc = cli_viz_grid("explain", s, m, model_path, &a.meth.ao, &viz);
        goto done;
    }
    int64_t n_samples = viz.n_explained;
    for (int64_t b = 0; b < n_samples; b++) {
        int64_t cls   = -1;
        double  logit = NAN;
        cli_viz_output(&viz, b, &cls, &logit);
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
        lrpx_node_relevance nr = viz.nodes[i];
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
    rc = cli_viz_grid("explain", s, m, model_path, &a.meth.ao, &viz);
done:
    cli_viz_free(&viz);
    cli_free_classes(classes, n_cls);
    lrpx_npy_free(seed);
    cli_method_free(&a.meth);
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
    cli_method_init(&a.meth, false);

    int prc = parse_args("gradient", false, argc, argv, &a, &viz, &in, &model_path);
    if (prc != CLI_OK)
        return prc == CLI_HELP ? CLI_OK : prc;
    const char *out_path    = a.out_path;
    bool        json        = a.json, times_input = a.times_input;
    a.meth.ao.method = times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT;
    cli_viz_note_method(&viz, a.meth.ao.method);

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
    a.meth.ao.input_name = in.list[0].name;
    double t0 = cli_now();
    if ((rc = cli_viz_explain("gradient", s, &a.meth.ao, &viz)) != CLI_OK)
        goto done;
    cli_verbose("gradient", t0, "forward and gradient passes:");
    lrpx_tensor_view mv = viz.map_view;
    if ((rc = cli_viz_heatmap("gradient", &viz, &mv)) != CLI_OK)
        goto done;
    if (out_path && (rc = cli_write_npy("gradient", out_path, &mv)) != CLI_OK)
        goto done;

    classes           = cli_load_classes(model_path, &n_cls);
    int64_t n_samples = cli_viz_n_samples(&viz);
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"map\": \"%s\", \"samples\": [",
               times_input ? "gradient_x_input" : "gradient");
    }
    for (int64_t b = 0; b < n_samples; b++) {
        double       logit, sum = sample_sum(&mv, b, n_samples), amax = 0.0;
        int64_t      cls = cli_viz_class(s, &viz, b, &logit), per;
        const float *d   = sample_span(&mv, b, n_samples, &per);
        for (int64_t i = 0; i < per; i++)
            amax = fmax(amax, fabs(d[i]));
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
    rc = cli_viz_grid("gradient", s, m, model_path, &a.meth.ao, &viz);
done:
    cli_viz_free(&viz);
    cli_free_classes(classes, n_cls);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
