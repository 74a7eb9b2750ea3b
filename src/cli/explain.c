/* lrpx explain MODEL INPUT: layer-wise relevance propagation of one
 * prediction (relevance map as .npy, per-layer conservation report), and
 * lrpx gradient MODEL INPUT: sensitivity (gradient) or gradient x input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char explain_help[] =
    "usage: lrpx explain MODEL INPUT [--composite NAME] [--rule SEL=RULE]...\n"
    "                    [--rules FILE] [--target K | --seed-npy FILE]\n"
    "                    [--maxpool winner|winner-split|sum] [--zero-bias]\n"
    "                    [--low L --high H] [-o REL.npy] [--layer NAME -o2 FILE]...\n"
    "                    [--output NAME] [--json] [--print-rules]\n"
    "\n"
    "Explain the model's prediction for INPUT (.npy, a missing batch dimension\n"
    "added; JPEG/PNG images or a folder, preprocessed, several make a batch)\n"
    "with layer-wise relevance propagation. The explained output is the\n"
    "predicted class (or --target K) of every sample, seeded with its logit; a\n"
    "trailing Softmax is skipped. Prints the class, the logit, the sum of the\n"
    "input relevance and, per layer, the relevance entering and leaving it.\n"
    "\n"
    "  --composite NAME  rule preset (default epsilon_plus): epsilon_plus,\n"
    "                    epsilon_plus_flat, epsilon_alpha2_beta1,\n"
    "                    epsilon_alpha2_beta1_flat, epsilon_gamma_box (needs\n"
    "                    --low/--high, which image inputs default to the\n"
    "                    preprocessed black and white), lrp0, epsilon\n"
    "  --rule SEL=RULE   override, later ones win. SEL: *, an op type (Conv, Gemm,\n"
    "                    MaxPool, ...), first, index:N, name:NODE. RULE: zero,\n"
    "                    epsilon[:EPS], gamma[:G], alphabeta:A,B, zplus,\n"
    "                    zbox:LOW,HIGH, wsquare, flat, pass; for max pools winner,\n"
    "                    winner-split, sum\n"
    "  --rules FILE      the same as JSON: {\"composite\": ..., \"rules\": [{\"select\":\n"
    "                    \"Conv\", \"rule\": \"gamma:0.25\"}], \"maxpool\": \"sum\", ...}\n"
    "  --target K        explain class K instead of the predicted one\n"
    "  --seed-npy FILE   full output relevance (shape of the output) as the seed\n"
    "  --maxpool MODE    max-pool relevance: winner (default; ties go to the first\n"
    "                    maximum), winner-split (ties share), sum (as a sum-pool)\n"
    "  --zero-bias       leave biases out of the rules\n"
    "  --low L --high H  input bounds for z^B (numbers, or comma lists per channel)\n"
    "  -o REL.npy        write the input relevance (shape of the input)\n"
    "  --layer NAME -o2 FILE  write the relevance at value NAME (pairs in order)\n"
    "  --output NAME     explain this graph output instead of the first\n"
    "  --no-fold-batchnorm  keep BatchNormalization nodes (the relevance pass\n"
    "                    still merges them into the layer before them)\n"
    "  --json            machine-readable report on stdout\n"
    "  --print-rules     list the rule each visited node got, and stop\n";

static const char gradient_help[] =
    "usage: lrpx gradient MODEL INPUT [--target K] [-o G.npy] [--times-input]\n"
    "                     [--output NAME] [--json]\n"
    "\n"
    "Gradient of the predicted class's logit (or --target K) with respect to\n"
    "the input (INPUT as for lrpx explain: .npy, images or a folder;\n"
    "sensitivity analysis); --times-input multiplies it by the input\n"
    "(gradient x input). A trailing Softmax is skipped.\n"
    "\n"
    "  -o G.npy        write the map (shape of the input)\n"
    "  --target K      differentiate class K\n"
    "  --times-input   gradient x input\n"
    "  --output NAME   use this graph output instead of the first\n"
    "  --json          machine-readable report on stdout\n";

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

int
cmd_explain(int argc, char **argv)
{
    static float            lows[16], highs[16];
    const char             *model_path = NULL, *out_path = NULL, *seed_path = NULL;
    const char             *layers[MAX_LAYERS], *layer_out[MAX_LAYERS];
    int                     n_layers = 0, n_layer_out = 0, n_low = -1, n_high = -1;
    struct cli_inputs       in = {.n = 0};
    bool                    json = false, print_rules = false, fold_bn = true;
    char                    err[1024];
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    struct cli_viz viz;
    cli_viz_init(&viz);

    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        int         r;
        long long   k;
        cli_viz_observe(argc, argv, i, &viz);
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(explain_help, stdout);
            fputs(cli_viz_help, stdout);
            putchar('\n');
            fputs(cli_prep_help, stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--print-rules")) {
            print_rules = true;
        } else if (!strcmp(argv[i], "--zero-bias")) {
            o.zero_bias = 1;
        } else if (!strcmp(argv[i], "--no-fold-batchnorm")) {
            fold_bn = false;
        } else if ((r = cli_flag_value(argc, argv, &i, "--composite", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "--composite needs a name");
            if (lrpx_lrp_options_set_composite(&o, val, err, sizeof err) != LRPX_OK)
                return cli_usage_error("explain", "--composite: %s", err);
        } else if ((r = cli_flag_value(argc, argv, &i, "--rule", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "--rule needs SELECTOR=RULE");
            if (lrpx_lrp_options_parse_rule(&o, val, err, sizeof err) != LRPX_OK)
                return cli_usage_error("explain", "--rule: %s", err);
        } else if ((r = cli_flag_value(argc, argv, &i, "--rules", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "--rules needs a JSON file");
            lrpx_status st = lrpx_lrp_options_load_json(&o, val, err, sizeof err);
            if (st == LRPX_EINVAL || st == LRPX_EPARSE)
                return cli_usage_error("explain", "--rules: %s", err);
            if (st != LRPX_OK)
                return cli_error("explain", "--rules: %s", err);
        } else if ((r = cli_flag_value(argc, argv, &i, "--target", &val)) != 0) {
            if (r < 0 || !cli_parse_int(val, &k) || k < 0)
                return cli_usage_error("explain", "--target needs a class index >= 0");
            o.seed   = LRPX_SEED_TARGET;
            o.target = k;
        } else if ((r = cli_flag_value(argc, argv, &i, "--seed-npy", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "--seed-npy needs a file");
            seed_path = val;
        } else if ((r = cli_flag_value(argc, argv, &i, "--maxpool", &val)) != 0) {
            if (r < 0 || lrpx_lrp_options_parse_maxpool(val, &o.maxpool) != LRPX_OK)
                return cli_usage_error("explain", "--maxpool needs winner, winner-split or sum");
        } else if ((r = cli_flag_value(argc, argv, &i, "--low", &val)) != 0) {
            if (r < 0 || (n_low = parse_list(val, lows, 16)) < 1)
                return cli_usage_error("explain", "--low needs a number or a comma list "
                                       "(at most 16)");
        } else if ((r = cli_flag_value(argc, argv, &i, "--high", &val)) != 0) {
            if (r < 0 || (n_high = parse_list(val, highs, 16)) < 1)
                return cli_usage_error("explain", "--high needs a number or a comma list "
                                       "(at most 16)");
        } else if ((r = cli_flag_value(argc, argv, &i, "-o", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "-o needs a path");
            out_path = val;
        } else if ((r = cli_flag_value(argc, argv, &i, "--layer", &val)) != 0) {
            if (r < 0 || n_layers == MAX_LAYERS)
                return cli_usage_error("explain", "--layer needs a value name (at most %d)",
                                       MAX_LAYERS);
            layers[n_layers++] = val;
        } else if ((r = cli_flag_value(argc, argv, &i, "-o2", &val)) != 0) {
            if (r < 0 || n_layer_out == MAX_LAYERS)
                return cli_usage_error("explain", "-o2 needs a path");
            layer_out[n_layer_out++] = val;
        } else if ((r = cli_flag_value(argc, argv, &i, "--output", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("explain", "--output needs a name");
            o.output_name = val;
        } else if (cli_input_flag("explain", argc, argv, &i, &in, &r)) {
            if (r != CLI_OK)
                return r;
        } else if (cli_viz_flag("explain", argc, argv, &i, &viz, &r)) {
            if (r != CLI_OK)
                return r;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("explain", "unknown option '%s'",
                                   argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else if (cli_input_add("explain", &in, NULL, argv[i]) != CLI_OK) {
            return CLI_USAGE;
        }
    }
    if (cli_check_model_input("explain", model_path, in.n) != CLI_OK ||
        cli_viz_check("explain", &viz) != CLI_OK)
        return CLI_USAGE;
    if (n_layers != n_layer_out)
        return cli_usage_error("explain", "each --layer NAME needs one -o2 FILE (%d vs %d)",
                               n_layers, n_layer_out);
    if ((n_low > 0) != (n_high > 0) || (n_low > 0 && n_low != n_high))
        return cli_usage_error("explain", "--low and --high go together, with as many values");
    if (seed_path && o.seed == LRPX_SEED_TARGET)
        return cli_usage_error("explain", "--target and --seed-npy exclude each other");
    if (n_low == 1) {
        o.box_low  = lows[0];
        o.box_high = highs[0];
        if (!(o.box_low <= o.box_high))
            return cli_usage_error("explain", "--low must not exceed --high");
    } else if (n_low > 1) {
        o.box_low_c  = lows;
        o.box_high_c = highs;
        o.n_box_c    = n_low;
    }

    lrpx_model *m = cli_load_model_ex("explain", model_path, false, fold_bn);
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
    rc = cli_viz_inputs("explain", s, m, model_path, in.list, in.n, &viz, &o);
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
        o.seed         = LRPX_SEED_TENSOR;
        o.seed_data    = seed->data;
        o.seed_n_elems = seed->n_elems;
    }
    if (cli_viz_explain(s, &o, &viz, LRPX_ATTR_LRP) != LRPX_OK) {
        rc = cli_error("explain", "%s", lrpx_session_errmsg(s));
        goto done;
    }

    int n_ex = lrpx_session_n_explained(s);
    if (print_rules) {
        if (json)
            printf("{\"rules\": [");
        for (int i = n_ex - 1, first = 1; i >= 0; i--, first = 0) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            if (json) {
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
        if (json)
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
    for (int i = 0; i < n_layers; i++) {
        lrpx_tensor_view lv;
        if (lrpx_session_relevance(s, layers[i], &lv) != LRPX_OK) {
            rc = cli_error("explain", "--layer %s: no such value, or no relevance reached it",
                           layers[i]);
            goto done;
        }
        if ((rc = cli_write_npy("explain", layer_out[i], &lv)) != CLI_OK)
            goto done;
    }

    classes = cli_load_classes(model_path, &n_cls);
    int64_t n_samples = 0;
    while (lrpx_session_explained_output(s, n_samples, NULL, NULL) == LRPX_OK)
        n_samples++;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"composite\": ");
        cli_json_string(stdout, o.composite);
        printf(", \"samples\": [");
    } else {
        printf("composite %s\n", o.composite);
    }
    for (int64_t b = 0; b < n_samples; b++) {
        int64_t cls;
        double  logit;
        lrpx_session_explained_output(s, b, &cls, &logit);
        double      sum = sample_sum(&rel, b, n_samples);
        const char *cn  = class_name(classes, n_cls, cls);
        if (json) {
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
    if (json) {
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
        if (json) {
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
    if (json) {
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
    rc = cli_viz_grid("explain", s, m, model_path, &o, &viz, LRPX_ATTR_LRP);
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
    const char             *model_path = NULL, *out_path = NULL;
    struct cli_inputs       in = {.n = 0};
    bool                    json = false, times_input = false;
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    struct cli_viz viz;
    cli_viz_init(&viz);

    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        int         r;
        long long   k;
        cli_viz_observe(argc, argv, i, &viz);
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(gradient_help, stdout);
            fputs(cli_viz_help, stdout);
            putchar('\n');
            fputs(cli_prep_help, stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--times-input")) {
            times_input = true;
        } else if ((r = cli_flag_value(argc, argv, &i, "--target", &val)) != 0) {
            if (r < 0 || !cli_parse_int(val, &k) || k < 0)
                return cli_usage_error("gradient", "--target needs a class index >= 0");
            o.seed   = LRPX_SEED_TARGET;
            o.target = k;
        } else if ((r = cli_flag_value(argc, argv, &i, "-o", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("gradient", "-o needs a path");
            out_path = val;
        } else if ((r = cli_flag_value(argc, argv, &i, "--output", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("gradient", "--output needs a name");
            o.output_name = val;
        } else if (cli_input_flag("gradient", argc, argv, &i, &in, &r)) {
            if (r != CLI_OK)
                return r;
        } else if (cli_viz_flag("gradient", argc, argv, &i, &viz, &r)) {
            if (r != CLI_OK)
                return r;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("gradient", "unknown option '%s'",
                                   argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else if (cli_input_add("gradient", &in, NULL, argv[i]) != CLI_OK) {
            return CLI_USAGE;
        }
    }
    if (cli_check_model_input("gradient", model_path, in.n) != CLI_OK ||
        cli_viz_check("gradient", &viz) != CLI_OK)
        return CLI_USAGE;

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
    if (cli_viz_explain(s, &o, &viz,
                        times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT) != LRPX_OK) {
        rc = cli_error("gradient", "%s", lrpx_session_errmsg(s));
        goto done;
    }
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
    rc = cli_viz_grid("gradient", s, m, model_path, &o, &viz,
                      times_input ? LRPX_ATTR_GRADIENT_X_INPUT : LRPX_ATTR_GRADIENT);
done:
    cli_viz_free(&viz);
    free(map);
    cli_free_classes(classes, n_cls);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
