/* lrpx eval MODEL INPUT... --metric NAME[:k=v,...]...: score explanations
 * with the metrics of src/eval/ (Quantus 0.6.0's definitions). The maps
 * are explained with --method and the method flags (method.c, shared with
 * explain) or read with --relevance; results go out as a table, CSV or JSON Lines. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char eval_usage[] =
    "usage: lrpx eval MODEL INPUT... --metric NAME[:k=v,...]... [--method NAME[,NAME]]\n"
    "                 [METHOD FLAGS] [--relevance R.npy] [--target K[,K...]]\n"
    "                 [--mask FILE|x,y,w,h] [--noise FILE.npy] [--seed N] [--batch N]\n"
    "                 [--csv | --json] [--list-metrics [--markdown]]\n"
    "\n"
    "Score explanations of the model's predictions for INPUT (.npy arrays with or\n"
    "without the batch axis, JPEG/PNG images or folders; all inputs make one batch,\n"
    "as Quantus's x_batch) with metrics defined as in Quantus 0.6.0. The maps are\n"
    "explained with --method (any method of lrpx explain, with the same flags;\n"
    "default lrp; several give one result each) or read from --relevance.\n"
    "Parameters are Quantus's keyword arguments in kebab case (patch_size ->\n"
    "patch-size), booleans true/false. docs/evaluation.md has every formula.\n";

#define MAX_TARGETS 4096

struct eval_args {
    struct cli_method       meth;
    struct cli_prep         prep;
    struct cli_scoring      sc;
    const char             *relevance, *noise;
    int64_t                 targets[MAX_TARGETS];
    int                     n_targets;
    bool                    csv, json, list, markdown;
};

static int
arg_metric(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_scoring *sc = ctx;
    lrpx_metric        *m;
    if (sc->n_metrics == CLI_MAX_METRICS) {
        snprintf(msg, size, "at most %d", CLI_MAX_METRICS);
        return CLI_USAGE;
    }
    if (lrpx_metric_parse(val, &m, msg, size) != LRPX_OK)
        return CLI_USAGE;
    lrpx_metric_free(m);
    sc->metrics[sc->n_metrics++] = val;
    return CLI_OK;
}

#define SC(field) offsetof(struct cli_scoring, field)
static const struct cli_flag scoring_flags[] = {
    {"--metric", "--metrics", "NAME[:k=v,...]",
     "a metric and its parameters, as Quantus's keyword arguments\n"
     "in kebab case (repeatable; lrpx eval --list-metrics)",
     CLI_CALL, .call = arg_metric, .need = "a metric"},
    {"--mask", NULL, "FILE|x,y,w,h",
     "localisation mask: .npy (nonzero = inside), an image (>= 128\ninside; "
     "another size than the input's is resized to it, nearest\nneighbour), "
     "or a box in input pixels",
     CLI_STRING, SC(mask), .need = "a file or x,y,w,h"},
    {"--seed", NULL, "N",
     "lrpx's generator: the metrics' noise and uniform baseline,\n"
     "and the smoothgrad family's noise (default 0)",
     CLI_INT, SC(seed), .lo = 0, .hi = 2147483647},
    {"--batch", NULL, "N", "perturbed inputs per session pass (default 16)", CLI_INT, SC(batch),
     .lo = 1, .hi = 4096},
    {NULL}};
#undef SC

struct cli_flag_group
cli_scoring_group(struct cli_scoring *sc)
{
    return (struct cli_flag_group){.flags = scoring_flags, .ctx = sc, .title = "scoring:"};
}

int
cli_score(const char *cmd, lrpx_session *s, const char *spec, const struct lrpx_eval_options *eo,
          const char *what, lrpx_eval_result **res)
{
    lrpx_metric *m;
    *res = NULL;
    if (lrpx_metric_parse(spec, &m, NULL, 0) != LRPX_OK)     /* checked when given */
        return cli_error(cmd, "%s: out of memory", spec);
    lrpx_status st = lrpx_session_evaluate(s, m, eo, res);
    lrpx_metric_free(m);
    if (st != LRPX_OK)
        return cli_error(cmd, "%s (%s): %s", spec, what, lrpx_session_errmsg(s));
    return CLI_OK;
}

static int
arg_targets(void *ctx, const char *val, char *msg, size_t size)
{
    struct eval_args *a = ctx;
    const char       *p = val;
    a->n_targets        = 0;
    while (*p) {
        char     *end;
        long long k = strtoll(p, &end, 10);
        if (end == p || k < 0 || a->n_targets == MAX_TARGETS || (*end && *end != ',')) {
            snprintf(msg, size, "needs a class index >= 0 or a comma list of them");
            return CLI_USAGE;
        }
        a->targets[a->n_targets++] = k;
        p = *end ? end + 1 : end;
    }
    return a->n_targets ? CLI_OK : CLI_USAGE;
}

#define ARG(field) offsetof(struct eval_args, field)
static const struct cli_flag eval_flags[] = {
    {"--relevance", NULL, "R.npy",
     "score these maps (shape of the inputs, or without the\nchannel axis) instead of explaining",
     CLI_STRING, ARG(relevance), .need = "a .npy file"},
    {"--target", NULL, "K[,K...]", "classes to explain/score (one, or one per input;\n"
     "default: the predicted ones)", CLI_CALL, .call = arg_targets, .need = "class indices"},
    {"--noise", NULL, "FILE.npy",
     "perturbations of local-lipschitz/max-sensitivity, float32\n[samples, input shape without "
     "batch]", CLI_STRING, ARG(noise), .need = "a .npy file"},
    {"--csv", NULL, NULL, "CSV on stdout", CLI_TRUE, .off = ARG(csv)},
    {"--json", NULL, NULL, "JSON Lines on stdout, one object per input and metric", CLI_TRUE,
     .off = ARG(json)},
    {"--list-metrics", NULL, NULL, "describe every metric and stop (no MODEL needed)", CLI_TRUE,
     .off = ARG(list)},
    {"--markdown", NULL, NULL, "--list-metrics as Markdown (docs/evaluation.md)", CLI_TRUE,
     .off = ARG(markdown)},
    {NULL}};
#undef ARG

/* Text as one Markdown table cell: newlines become spaces, '|' is escaped. */
static void
md_cell(FILE *f, const char *text)
{
    for (const char *h = text; *h; h++)
        if (*h == '|')
            fputs("\\|", f);
        else
            fputc(*h == '\n' ? ' ' : *h, f);
}

/* Every metric with its formula and parameters (help, --list-metrics):
 * Markdown, or one help item per metric (text, or a man page under
 * --help-man, where the parameters are separated by "; ", as groff fills
 * the lines of an item). */
static void
print_metrics(FILE *f, bool markdown)
{
    const char *sep = cli_help_is_man() ? "; " : "\n";
    for (int id = 0; id < LRPX_METRIC_COUNT; id++) {
        lrpx_metric_doc d;
        lrpx_metric_doc_get((lrpx_metric_id)id, &d);
        char   text[4096];
        size_t k = 0;
        if (markdown) {
            fprintf(f, "### `%s` (%s%s%s%s)\n\n%s.\n\n```\n%s\n```\n\nResult: %s.\n\n", d.name,
                    d.family, d.quantus[0] ? ", Quantus `" : ", lrpx's own", d.quantus,
                    d.quantus[0] ? "`" : "", d.summary, d.formula, d.result);
            fprintf(f, "| parameter | type | default | meaning |\n|---|---|---|---|\n");
        } else {
            k = (size_t)snprintf(text, sizeof text, "(%s%s%s): %s", d.family,
                                 d.quantus[0] ? ", Quantus " : "", d.quantus, d.summary);
        }
        for (int i = 0; i < d.n_params; i++) {
            lrpx_metric_param_doc p;
            lrpx_metric_param_doc_get((lrpx_metric_id)id, i, &p);
            char type[128];
            if (p.choices) {
                size_t l = 0;
                for (int c = 0; p.choices[c] && l < sizeof type; c++)
                    l += (size_t)snprintf(type + l, sizeof type - l, "%s%s", c ? "|" : "",
                                          p.choices[c]);
                if (!strcmp(p.type, "choice|number") && l < sizeof type)
                    snprintf(type + l, sizeof type - l, "|number");
            } else {
                snprintf(type, sizeof type, "%s", p.type);
            }
            if (markdown) {       /* a '|' in a cell would end it: \| */
                fprintf(f, "| `%s` | ", p.name);
                md_cell(f, type);
                fprintf(f, " | `%s` | ", p.default_text);
                md_cell(f, p.help);
                fputs(" |\n", f);
            } else if (k < sizeof text) {
                k += (size_t)snprintf(text + k, sizeof text - k, "%s%s=%s  (%s)", sep, p.name,
                                      p.default_text, type);
            }
        }
        if (markdown)
            fputs("\n", f);
        else
            cli_help_item(f, d.name, text, CLI_HELP_COL);
    }
}

/* An h x w byte mask as a tensor view. */
static int
box_view(const uint8_t *box, int64_t h, int64_t w, lrpx_tensor_view *out)
{
    *out = (lrpx_tensor_view){.dtype = LRPX_DTYPE_UINT8, .rank = 2, .dims = {h, w},
                              .n_elems = h * w, .data = box};
    return CLI_OK;
}

int
cli_eval_mask(const char *cmd, const char *spec, const struct cli_batch *b, lrpx_npy **npy,
              uint8_t **box, lrpx_tensor_view *out)
{
    const lrpx_tensor_view *x    = &b->view;
    bool                    nhwc = b->layout == LRPX_LAYOUT_NHWC;
    int64_t h = x->rank == 4 ? x->dims[nhwc ? 1 : 2] : 1;
    int64_t w = x->rank == 4 ? x->dims[nhwc ? 2 : 3] : x->dims[x->rank - 1];
    long long v[4];
    int       n = 0;
    char      err[1024];
    memset(out, 0, sizeof *out);
    if (sscanf(spec, "%lld,%lld,%lld,%lld%n", &v[0], &v[1], &v[2], &v[3], &n) == 4 && !spec[n]) {
        if (v[0] < 0 || v[1] < 0 || v[2] < 1 || v[3] < 1 || v[0] + v[2] > w || v[1] + v[3] > h)
            return cli_usage_error(cmd, "--mask %s: the box must lie inside the %lldx%lld input",
                                   spec, (long long)w, (long long)h);
        if (!(*box = calloc((size_t)(h * w), 1)))
            return cli_error(cmd, "out of memory");
        for (long long y = v[1]; y < v[1] + v[3]; y++)
            memset(*box + y * w + v[0], 1, (size_t)v[2]);
        return box_view(*box, h, w, out);
    }
    FILE *f = cli_fopen_regular(spec);
    char  magic[6] = {0};
    if (!f)
        return cli_error(cmd, "--mask %s: cannot open (a file, or x,y,w,h)", spec);
    size_t got = fread(magic, 1, 6, f);
    fclose(f);
    if (got == 6 && !memcmp(magic, "\x93NUMPY", 6))
        return cli_npy_view(cmd, "--mask", spec, false, npy, out);
    lrpx_image *img;
    if (lrpx_image_load(spec, NULL, &img, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "--mask %s", err);
    if (!(*box = malloc((size_t)(h * w)))) {
        lrpx_image_free(img);
        return cli_error(cmd, "out of memory");
    }
    /* another size than the input: nearest neighbour, pixel centres
     * (output (y, x) reads source (floor((y + 0.5) H / h), ...)) */
    for (int64_t y = 0; y < h; y++)
        for (int64_t xx = 0; xx < w; xx++) {
            int64_t sy = (int64_t)(((double)y + 0.5) * img->height / (double)h);
            int64_t sx = (int64_t)(((double)xx + 0.5) * img->width / (double)w);
            sy         = sy < img->height ? sy : img->height - 1;
            sx         = sx < img->width ? sx : img->width - 1;
            (*box)[y * w + xx] = img->data[(sy * img->width + sx) * img->channels] >= 128.0f;
        }
    lrpx_image_free(img);
    return box_view(*box, h, w, out);
}

/* One result row in the chosen format. */
static void
print_row(const struct eval_args *a, const char *input, const char *method,
          const char *metric, const char *params, const lrpx_eval_sample *es)
{
    if (a->json) {
        printf("{\"input\": ");
        cli_json_string(stdout, input);
        printf(", \"method\": ");
        cli_json_string(stdout, method);
        printf(", \"target\": %lld, \"metric\": ", (long long)es->target);
        cli_json_string(stdout, metric);
        printf(", \"params\": %s, \"score\": ", params);
        if (es->kind == LRPX_SCORE_BOOL)
            fputs(es->score != 0 ? "true" : "false", stdout);
        else if (es->kind == LRPX_SCORE_NUMBER)
            cli_put_number(stdout, es->score, 9, "null");
        else
            fputs("null", stdout);
        printf(", \"curve\": ");
        if (es->n_curve) {
            for (int64_t k = 0; k < es->n_curve; k++) {
                fputs(k ? ", " : "[", stdout);
                cli_put_number(stdout, es->curve[k], 9, "null");
            }
            fputs("]", stdout);
        } else {
            fputs("null", stdout);
        }
        if (es->curve_labels) {
            printf(", \"curve_labels\": [");
            for (int64_t k = 0; k < es->n_curve; k++) {
                fputs(k ? ", " : "", stdout);
                cli_json_string(stdout, es->curve_labels[k]);
            }
            fputs("]", stdout);
        }
        printf(", \"extra\": {");
        for (int k = 0; k < es->n_extra; k++) {
            printf("%s\"%s\": ", k ? ", " : "", es->extra_names[k]);
            cli_put_number(stdout, es->extra[k], 9, "null");
        }
        printf("}}\n");
        return;
    }
    char score[64];
    if (es->kind == LRPX_SCORE_BOOL)
        snprintf(score, sizeof score, "%s", es->score != 0 ? "true" : "false");
    else if (es->kind == LRPX_SCORE_NUMBER)
        snprintf(score, sizeof score, "%.9g", es->score);
    else if (es->n_curve == 0 && isnan(es->score))
        snprintf(score, sizeof score, "nan");
    else
        snprintf(score, sizeof score, "%s", a->csv ? "" : "-");
    if (a->csv) {
        printf("%s,%s,%lld,%s,%s,", input, method, (long long)es->target, metric, score);
        for (int64_t k = 0; k < es->n_curve; k++)
            printf("%s%.9g", k ? ";" : "", es->curve[k]);
        printf(",");
        for (int k = 0; k < es->n_extra; k++)
            printf("%s%s=%.9g", k ? ";" : "", es->extra_names[k], es->extra[k]);
        printf("\n");
        return;
    }
    printf("%-24.24s %-18.18s %6lld  %-20.20s %14s", input, method, (long long)es->target, metric,
           score);
    if (es->n_curve)
        printf("  curve[%lld]", (long long)es->n_curve);
    for (int k = 0; k < es->n_extra; k++)
        printf("  %s=%.6g", es->extra_names[k], es->extra[k]);
    printf("\n");
}

void
cli_sample_label(const struct cli_batch *b, int64_t n, int64_t j, char *buf, size_t size)
{
    int64_t per = b->n ? n / b->n : 1;
    if (per <= 1)
        snprintf(buf, size, "%s", b->samples[j < b->n ? j : b->n - 1].path);
    else
        snprintf(buf, size, "%s[%lld]", b->samples[j / per].path, (long long)(j % per));
}

int
cmd_eval(int argc, char **argv)
{
    const char       *model_path = NULL;
    struct cli_inputs in         = {.n = 0};
    struct eval_args  a          = {.n_targets = 0};
    cli_method_init(&a.meth, true);
    cli_prep_init(&a.prep);
    struct cli_flag_group groups[5] = {
        {.flags = eval_flags, .ctx = &a},
        cli_scoring_group(&a.sc),
        cli_input_group(&in),
        cli_method_group(&a.meth),
        cli_prep_group(&a.prep),
    };
    groups[3].skip = "--seed --noise";      /* eval's own (the metrics' and methods') */
    int rc = cli_parse_model_inputs("eval", argc, argv, groups, 5, &in, &model_path);
    if (rc == CLI_HELP) {
        cli_help_usage(stdout, "eval", eval_usage);
        if (!cli_help_is_man())
            fputs("\n", stdout);
        cli_method_help(stdout, &a.meth);
        cli_print_flags(stdout, groups, 5);
        cli_method_help_rules(stdout);
        cli_help_section(stdout, "metrics and their parameters (NAME:k=v,...; defaults shown):");
        print_metrics(stdout, false);
        cli_help_end(stdout, "eval");
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (a.list) {
        print_metrics(stdout, a.markdown);
        return CLI_OK;
    }
    if (a.markdown)
        return cli_usage_error("eval", "--markdown goes with --list-metrics");
    if (cli_check_model_input("eval", model_path, in.n) != CLI_OK)
        return CLI_USAGE;
    if (a.sc.n_metrics == 0)
        return cli_usage_error("eval", "no --metric given (lrpx eval --help lists them)");
    if (a.csv && a.json)
        return cli_usage_error("eval", "--csv and --json exclude each other");
    if (a.relevance && a.meth.n_methods)
        return cli_usage_error("eval", "--relevance and --method exclude each other");
    if ((rc = cli_method_check("eval", &a.meth)) != CLI_OK)
        return rc;

    lrpx_model       *m     = cli_load_model("eval", model_path, false);
    lrpx_session     *s     = NULL;
    struct cli_batch *bs    = NULL;
    int               n_bs  = 0;
    lrpx_npy         *rel   = NULL, *noise = NULL, *mask_npy = NULL;
    uint8_t          *box   = NULL;
    lrpx_eval_result *res   = NULL;
    lrpx_metric      *metric = NULL;
    struct cli_progress pr   = {0};
    char              method[160], label[1100];
    float             low[3], high[3];
    if (!m)
        return CLI_FAIL;
    cli_guard_model(m, model_path);
    cli_guard_inputs(&in);
    cli_method_guard(&a.meth);
    cli_guard_input(a.relevance, "the relevance file");
    cli_guard_input(a.noise, "the noise file");
    cli_guard_input(a.sc.mask, "the mask");
    if (a.prep.preset)
        cli_guard_input(a.prep.preset, "the preprocessing file");
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("eval", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    rc = cli_set_inputs("eval", s, m, model_path, in.list, in.n, &a.prep, false, true, &bs, &n_bs);
    if (rc != CLI_OK || (rc = cli_method_load("eval", &a.meth)) != CLI_OK)
        goto done;
    const struct cli_batch *b = &bs[0];
    if (b->view.dtype != LRPX_DTYPE_FLOAT32 || b->view.rank < 2) {
        rc = cli_error("eval", "%s: the input must be a float32 batch (rank >= 2)",
                       b->samples[0].path);
        goto done;
    }
    cli_box_defaults(b, &a.meth.ao.lrp, low, high, 3);
    a.meth.ao.seed = (uint64_t)a.sc.seed;
    int64_t n = b->view.dims[0];
    if (a.n_targets > 1 && a.n_targets != n) {
        rc = cli_usage_error("eval", "--target: %d classes for %lld inputs", a.n_targets,
                             (long long)n);
        goto done;
    }
    int64_t *targets = NULL;
    if (a.n_targets) {
        targets = a.targets;
        for (int64_t i = a.n_targets; i < n && i < MAX_TARGETS; i++)
            a.targets[i] = a.targets[0];
        if (n > MAX_TARGETS) {
            rc = cli_usage_error("eval", "--target: at most %d inputs", MAX_TARGETS);
            goto done;
        }
    }
    struct lrpx_eval_options eo;
    lrpx_eval_options_default(&eo);
    eo.x          = &b->view;
    eo.input_name = b->name;
    eo.nhwc       = b->layout == LRPX_LAYOUT_NHWC;
    eo.targets    = targets;
    eo.seed       = (uint64_t)a.sc.seed;
    eo.max_batch  = a.sc.batch;
    lrpx_tensor_view rv, nv, mv;
    if ((rc = cli_npy_view("eval", "--relevance", a.relevance, true, &rel, &rv)) != CLI_OK ||
        (rc = cli_npy_view("eval", "--noise", a.noise, true, &noise, &nv)) != CLI_OK)
        goto done;
    eo.attr  = a.relevance ? &rv : NULL;
    eo.noise = a.noise ? &nv : NULL;
    if (a.sc.mask) {
        if ((rc = cli_eval_mask("eval", a.sc.mask, b, &mask_npy, &box, &mv)) != CLI_OK)
            goto done;
        eo.mask = &mv;
    }
    if (!a.json && !a.csv)
        printf("%-24s %-18s %6s  %-20s %14s\n", "input", "method", "target", "metric", "score");
    else if (a.csv)
        printf("input,method,target,metric,score,curve,extra\n");
    int n_methods = a.relevance ? 1 : cli_method_count(&a.meth);
    cli_progress_start(&pr, "eval", "metrics", (int64_t)n_methods * a.sc.n_metrics);
    for (int k = 0; k < n_methods; k++) {
        struct lrpx_attr_options ao;
        cli_method_options(&a.meth, k, &ao, method, sizeof method);
        if (a.relevance)
            snprintf(method, sizeof method, "relevance:%s", a.relevance);
        eo.method = &ao;
        for (int j = 0; j < a.sc.n_metrics; j++) {
            double t0 = cli_now();
            if ((rc = cli_score("eval", s, a.sc.metrics[j], &eo, method, &res)) != CLI_OK)
                goto done;
            lrpx_metric_parse(a.sc.metrics[j], &metric, NULL, 0);
            if (!metric) {
                rc = cli_error("eval", "out of memory");
                goto done;
            }
            char params[2048];
            lrpx_metric_params_json(metric, params, sizeof params);
            const char *name = lrpx_metric_id_name(lrpx_metric_kind(metric));
            cli_progress_clear();
            cli_verbose("eval", t0, "%s (%s):", name, method);
            for (int64_t i = 0; i < lrpx_eval_result_n(res); i++) {
                lrpx_eval_sample es;
                lrpx_eval_result_sample(res, i, &es);
                cli_sample_label(b, n, i, label, sizeof label);
                print_row(&a, label, method, name, params, &es);
            }
            lrpx_eval_result_free(res);
            res = NULL;
            lrpx_metric_free(metric);
            metric = NULL;
            cli_progress_step(&pr, 1);
        }
    }
    rc = CLI_OK;
done:
    cli_progress_end(&pr);
    lrpx_eval_result_free(res);
    lrpx_metric_free(metric);
    lrpx_npy_free(rel);
    lrpx_npy_free(noise);
    lrpx_npy_free(mask_npy);
    free(box);
    cli_method_free(&a.meth);
    cli_batches_free(bs, n_bs);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
