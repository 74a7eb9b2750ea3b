/* lrpx compare --models A.onnx B.onnx ... --methods M1,M2,... --inputs
 * DIR|FILES --metrics SPEC... -o REPORT_DIR: every (model, method) pair
 * over the same inputs, each model with its own preprocessing, scored
 * with the metrics of lrpx eval, and a report:
 *
 *   summary.md, summary.csv, summary.json   every metric's mean and
 *       standard error over the inputs per model and method, and the
 *       explanation time;
 *   curves.svg, curves.png   the mean faithfulness curves, one panel per
 *       model and curve metric, one line per method;
 *   grid.png   heatmaps of the first inputs (rows: models x inputs,
 *       columns: methods), drawn as explain --grid draws;
 *   units/   one file per (model, method, input): the scores, and for the
 *       grid's inputs the map, written atomically as each is done, so
 *       --resume continues from what is there.
 *
 * Each input is evaluated on its own (a batch of one, as Quantus called
 * per image), so its numbers do not depend on the other inputs and a run
 * can be resumed input by input. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char compare_usage[] =
    "usage: lrpx compare --models A.onnx [B.onnx ...] --inputs DIR|FILE...\n"
    "                    --metrics SPEC [SPEC ...] -o REPORT_DIR\n"
    "                    [--methods M1,M2,...] [METHOD FLAGS] [--target K]\n"
    "                    [--mask FILE|x,y,w,h] [--seed N] [--batch N]\n"
    "                    [--grid-inputs N] [--resume]\n"
    "\n"
    "Explain the same inputs with every method on every model (each model with\n"
    "its own preprocessing: MODEL.preprocess.json or the flags) and score each\n"
    "map with the metrics of lrpx eval (Quantus 0.6.0's definitions, one input\n"
    "at a time). REPORT_DIR receives summary.md/.csv/.json (mean and standard\n"
    "error over the inputs, per model and method, and the explanation time),\n"
    "curves.svg/.png (the mean faithfulness curves) and grid.png (heatmaps of\n"
    "the first inputs). Progress goes to a terminal only. --resume continues a\n"
    "run from the results REPORT_DIR/units holds for the same command line.\n"
    "--models, --inputs and --metrics take several values each.\n";

#define MAX_MODELS   16
#define MAX_METRICS  CLI_MAX_METRICS
#define MAX_GRID     64

struct compare_args {
    struct cli_method meth;
    struct cli_prep   prep;
    struct cli_inputs in;
    struct cli_scoring sc;           /* --metrics, --mask, --seed, --batch */
    const char       *models[MAX_MODELS];
    int               n_models;
    const char       *out_dir;
    int               target, grid_inputs;
    bool              resume;
};

static int
arg_model(void *ctx, const char *val, char *msg, size_t size)
{
    struct compare_args *a = ctx;
    if (a->n_models == MAX_MODELS) {
        snprintf(msg, size, "at most %d models", MAX_MODELS);
        return CLI_USAGE;
    }
    a->models[a->n_models++] = val;
    return CLI_OK;
}

static int
arg_input(void *ctx, const char *val, char *msg, size_t size)
{
    struct compare_args *a = ctx;
    (void)msg, (void)size;
    return cli_inputs_positional("compare", &a->in, &val, 1) == CLI_OK ? CLI_OK : CLI_FAIL;
}

#define ARG(field) offsetof(struct compare_args, field)
static const struct cli_flag compare_flags[] = {
    {"--models", "--model", "A.onnx ...", "the models (several values)", CLI_CALL,
     .call = arg_model, .need = "model files"},
    {"--inputs", "--input", "DIR|FILE ...",
     "the inputs: images, folders of images, .npy arrays (a\n"
     "file of N rows is N inputs); the same for every model",
     CLI_CALL, .call = arg_input, .need = "files or folders"},
    {"-o", NULL, "REPORT_DIR", "the report folder (made if missing)", CLI_STRING,
     ARG(out_dir), .need = "a folder"},
    {"--target", NULL, "K", "explain and score class K (default: the predicted one)",
     CLI_INT, ARG(target), .lo = 0, .hi = 1e9},
    {"--grid-inputs", NULL, "N", "inputs drawn in grid.png (default 4; 0: no grid)", CLI_INT,
     ARG(grid_inputs), .lo = 0, .hi = MAX_GRID},
    {"--resume", NULL, NULL, "keep the results REPORT_DIR already holds for this\n"
     "command line; compute only the missing ones", CLI_TRUE, .off = ARG(resume)},
    {NULL}};
#undef ARG

/* The flags that take several values: "--models a b" becomes "--models a
 * --models b" for the table-driven parser. */
static const char *const list_flags[] = {"--models", "--model", "--inputs", "--input",
                                         "--metrics", "--metric", NULL};

static char **
expand_lists(int argc, char **argv, int *out_argc)
{
    char **v = malloc((size_t)(2 * argc + 1) * sizeof *v);
    int    n = 0;
    if (!v)
        return NULL;
    for (int i = 0; i < argc; i++) {
        const char *flag = NULL;
        for (int k = 0; list_flags[k] && i > 0; k++)
            if (!strcmp(argv[i], list_flags[k]))
                flag = list_flags[k];
        v[n++] = argv[i];
        if (!flag || i + 1 >= argc)
            continue;
        v[n++] = argv[++i];                 /* the first value, whatever it is */
        while (i + 1 < argc && argv[i + 1][0] != '-') {
            v[n++] = (char *)flag;
            v[n++] = argv[++i];
        }
    }
    v[n]      = NULL;
    *out_argc = n;
    return v;
}

/* ---- the run's results ---- */

/* One (model, method, input). */
struct unit {
    bool     done;
    double   time;                /* seconds of lrpx_session_attribute    */
    int64_t  target;
    double   score[MAX_METRICS], summary[MAX_METRICS];
    int      kind[MAX_METRICS];
    int64_t  n_curve[MAX_METRICS];
    double  *curve[MAX_METRICS];
    float   *map;                 /* grid inputs: the map, else NULL      */
    int64_t  map_n;
};

struct run {
    const struct compare_args *a;
    int          n_methods;
    int64_t      n_inputs;
    char         model_label[MAX_MODELS][128];
    char         method_label[CLI_VIZ_MAX][160];
    char       **input_label;      /* n_inputs                             */
    struct unit *units;            /* [model][method][input]               */
    uint64_t     key;              /* of the command line                  */
    int64_t      n_total;          /* units                                */
    /* the progress bar counts the units to compute: a unit --resume
     * finds is taken off its total */
    struct cli_progress pr;
    char         pr_label[300];
};

static struct unit *
unit_at(const struct run *r, int mi, int k, int64_t i)
{
    return &r->units[((int64_t)mi * r->n_methods + k) * r->n_inputs + i];
}

/* FNV-1a over the arguments that decide the results (not -o, --resume,
 * --grid-inputs), so --resume only reuses units of the same run. */
static uint64_t
run_key(int argc, char **argv)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--resume"))
            continue;
        if (!strcmp(s, "-o") || !strcmp(s, "--grid-inputs")) {
            i++;
            continue;
        }
        if (!strncmp(s, "-o=", 3) || !strncmp(s, "--grid-inputs=", 14))
            continue;
        for (; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

static void
unit_path(const struct run *r, int mi, int k, int64_t i, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "%s/units/m%d-k%d-i%lld.%s", r->a->out_dir, mi, k, (long long)i, ext);
}

/* Write a text (built in memory) to path atomically. */
static int
write_text(const char *path, char *text, size_t len)
{
    char err[1024];
    if (cli_guard_output("compare", "-o", path) != CLI_OK)
        return CLI_USAGE;
    if (lrpx_file_write(path, text, len, err, sizeof err) != LRPX_OK)
        return cli_error("compare", "%s", err);
    return CLI_OK;
}

/* A text built with fprintf: open_memstream, then write_text. */
struct text {
    FILE  *f;
    char  *buf;
    size_t len;
};

static bool
text_open(struct text *t)
{
    t->buf = NULL;
    t->len = 0;
    t->f   = open_memstream(&t->buf, &t->len);
    return t->f != NULL;
}

static int
text_write(struct text *t, const char *path)
{
    int rc = fclose(t->f) == 0 ? write_text(path, t->buf, t->len)
                               : cli_error("compare", "out of memory for %s", path);
    free(t->buf);
    return rc;
}

/* Exact round trip through the unit files */
static void
put_num(FILE *f, double v)
{
    cli_put_number(f, v, 17, "nan");
}

static void
unit_clear(struct unit *u)
{
    for (int j = 0; j < MAX_METRICS; j++)
        free(u->curve[j]);
    free(u->map);
    memset(u, 0, sizeof *u);
}

static int
unit_save(const struct run *r, int mi, int k, int64_t i, const struct unit *u)
{
    char        path[4096];
    struct text t;
    if (!text_open(&t))
        return cli_error("compare", "out of memory");
    fprintf(t.f, "lrpx-compare-unit 1 %016llx\ntime ", (unsigned long long)r->key);
    put_num(t.f, u->time);
    fprintf(t.f, "\ntarget %lld\n", (long long)u->target);
    for (int j = 0; j < r->a->sc.n_metrics; j++) {
        fprintf(t.f, "metric %d %d ", j, u->kind[j]);
        put_num(t.f, u->score[j]);
        fputc(' ', t.f);
        put_num(t.f, u->summary[j]);
        fprintf(t.f, " %lld", (long long)u->n_curve[j]);
        for (int64_t c = 0; c < u->n_curve[j]; c++) {
            fputc(' ', t.f);
            put_num(t.f, u->curve[j][c]);
        }
        fputc('\n', t.f);
    }
    fputs("end\n", t.f);
    unit_path(r, mi, k, i, "txt", path, sizeof path);
    return text_write(&t, path);
}

/* The next number of a unit file; false at a bad token. */
static bool
next_num(char **p, double *v)
{
    char *end;
    *v = strtod(*p, &end);
    if (end == *p)
        return false;
    *p = end;
    return true;
}

/* Read a unit written by unit_save for this run; false (and u left
 * empty) when it is missing, of another run or damaged. */
static bool
unit_load(const struct run *r, int mi, int k, int64_t i, struct unit *u)
{
    char  path[4096], head[64];
    unit_path(r, mi, k, i, "txt", path, sizeof path);
    FILE *f = cli_fopen_regular(path);
    if (!f)
        return false;
    char  *buf = NULL;
    size_t cap = 0, len = 0;
    bool   ok  = true;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + 8192);
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    buf[len] = '\0';
    snprintf(head, sizeof head, "lrpx-compare-unit 1 %016llx\ntime ",
             (unsigned long long)r->key);
    char  *p = buf + strlen(head);
    double v = -1;
    ok = !strncmp(buf, head, strlen(head)) && next_num(&p, &u->time) &&
         !strncmp(p, "\ntarget ", 8);
    p += ok ? 8 : 0;
    ok = ok && next_num(&p, &v);
    u->target = (int64_t)v;
    for (int j = 0; ok && j < r->a->sc.n_metrics; j++) {
        double jj, kind, n;
        ok = !strncmp(p, "\nmetric ", 8);
        p += ok ? 8 : 0;
        ok = ok && next_num(&p, &jj) && jj == j && next_num(&p, &kind) &&
             next_num(&p, &u->score[j]) && next_num(&p, &u->summary[j]) && next_num(&p, &n) &&
             n >= 0 && n < 1e9;
        if (!ok)
            break;
        u->kind[j]    = (int)kind;
        u->n_curve[j] = (int64_t)n;
        u->curve[j]   = n > 0 ? malloc((size_t)n * sizeof(double)) : NULL;
        ok            = n == 0 || u->curve[j];
        for (int64_t c = 0; ok && c < u->n_curve[j]; c++)
            ok = next_num(&p, &u->curve[j][c]);
    }
    ok = ok && !strcmp(p, "\nend\n");
    free(buf);
    if (!ok) {
        for (int j = 0; j < MAX_METRICS; j++) {
            free(u->curve[j]);
            u->curve[j]   = NULL;
            u->n_curve[j] = 0;
        }
    }
    return ok;
}

/* The saved map of a grid input, n floats. */
static bool
map_load(const struct run *r, int mi, int k, int64_t i, int64_t n, struct unit *u)
{
    char      path[4096];
    lrpx_npy *npy = NULL;
    unit_path(r, mi, k, i, "map.npy", path, sizeof path);
    if (lrpx_npy_read(path, &npy, NULL, 0) != LRPX_OK || npy->dtype != LRPX_DTYPE_FLOAT32 ||
        npy->n_elems != n || !(u->map = malloc((size_t)n * sizeof(float)))) {
        lrpx_npy_free(npy);
        return false;
    }
    memcpy(u->map, npy->data, (size_t)n * sizeof(float));
    u->map_n = n;
    lrpx_npy_free(npy);
    return true;
}

/* ---- one model ---- */

/* Explain input i (batch of one) with ao and score it with every metric. */
static int
compute_unit(struct run *r, lrpx_session *s, const struct cli_batch *b, int64_t i,
             const struct lrpx_attr_options *ao0, const lrpx_tensor_view *mask,
             const char *label, struct unit *u)
{
    const struct compare_args *a  = r->a;
    struct lrpx_attr_options   ao = *ao0;
    lrpx_tensor_view           xi = b->view, mv;
    int64_t                    per = b->view.n_elems / r->n_inputs;
    xi.dims[0]                     = 1;
    xi.n_elems                     = per;
    xi.data                        = (const float *)b->view.data + i * per;
    ao.input_name                  = b->name;
    if (a->target >= 0) {
        ao.lrp.seed   = LRPX_SEED_TARGET;
        ao.lrp.target = a->target;
    }
    lrpx_status st = lrpx_session_set_input(s, b->name, xi.dtype, xi.rank, xi.dims, xi.data);
    double      t0 = cli_now();
    if (st == LRPX_OK)
        st = lrpx_session_attribute(s, &ao);
    u->time = cli_now() - t0;
    lrpx_attr_report rep;
    if (st == LRPX_OK && (st = lrpx_session_attribution(s, &mv)) == LRPX_OK)
        st = lrpx_session_attribution_report(s, 0, &rep);
    if (st != LRPX_OK)
        return cli_error("compare", "%s, %s: %s", label, r->input_label[i],
                         lrpx_session_errmsg(s));
    float *map = malloc((size_t)per * sizeof *map);
    if (!map)
        return cli_error("compare", "out of memory");
    memcpy(map, mv.data, (size_t)per * sizeof *map);
    mv.data   = map;
    u->target = rep.cls;
    struct lrpx_eval_options eo;
    lrpx_eval_options_default(&eo);
    eo.x          = &xi;
    eo.input_name = b->name;
    eo.nhwc       = b->layout == LRPX_LAYOUT_NHWC;
    eo.targets    = &u->target;
    eo.attr       = &mv;
    eo.method     = &ao;
    lrpx_tensor_view mi_view;             /* one mask per input: input i's */
    if (mask && (mask->rank == 3 || mask->rank == 4) && mask->dims[0] == r->n_inputs &&
        r->n_inputs > 1) {
        mi_view         = *mask;
        mi_view.dims[0] = 1;
        mi_view.n_elems = mask->n_elems / r->n_inputs;
        mi_view.data    = (const char *)mask->data +
                       i * mi_view.n_elems * (int64_t)lrpx_dtype_size(mask->dtype);
        mask            = &mi_view;
    }
    eo.mask       = mask;
    eo.seed       = (uint64_t)a->sc.seed;
    eo.max_batch  = a->sc.batch;
    int rc = CLI_OK;
    char what[512];
    snprintf(what, sizeof what, "%s, %s", label, r->input_label[i]);
    for (int j = 0; j < a->sc.n_metrics && rc == CLI_OK; j++) {
        lrpx_eval_result *res = NULL;
        lrpx_eval_sample  es;
        if ((rc = cli_score("compare", s, a->sc.metrics[j], &eo, what, &res)) != CLI_OK)
            break;
        lrpx_eval_result_sample(res, 0, &es);
        u->kind[j]    = (int)es.kind;
        u->score[j]   = es.score;
        u->summary[j] = es.summary;
        u->n_curve[j] = es.n_curve;
        u->curve[j]   = es.n_curve ? malloc((size_t)es.n_curve * sizeof(double)) : NULL;
        if (es.n_curve && !u->curve[j])
            rc = cli_error("compare", "out of memory");
        else if (es.n_curve)
            memcpy(u->curve[j], es.curve, (size_t)es.n_curve * sizeof(double));
        lrpx_eval_result_free(res);
    }
    if (rc == CLI_OK && i < a->grid_inputs) {
        u->map   = map;
        u->map_n = per;
        map      = NULL;
    }
    free(map);
    return rc;
}

/* Every method and input of model mi; then its rows of the grid. */
static int
run_model(struct run *r, int mi, lrpx_pixmap **cells, char **labels)
{
    const struct compare_args *a    = r->a;
    const char                *path = a->models[mi];
    lrpx_model                *m    = cli_load_model("compare", path, false);
    lrpx_session              *s    = NULL;
    struct cli_batch          *bs   = NULL;
    int                        n_bs = 0, rc = CLI_OK;
    lrpx_npy                  *mask_npy = NULL;
    uint8_t                   *box      = NULL;
    lrpx_tensor_view           mv;
    const lrpx_tensor_view    *mask     = NULL;
    char                       err[1024];
    if (!m)
        return CLI_FAIL;
    cli_guard_model(m, path);
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("compare", "%s: %s", path, lrpx_session_errmsg(s));
        goto done;
    }
    rc = cli_set_inputs("compare", s, m, path, a->in.list, a->in.n, &a->prep, false, true, &bs,
                        &n_bs);
    if (rc != CLI_OK)
        goto done;
    const struct cli_batch *b = &bs[0];
    if (n_bs != 1 || b->view.dtype != LRPX_DTYPE_FLOAT32 || b->view.rank < 2) {
        rc = cli_error("compare", "%s: the inputs must make one float32 batch (rank >= 2) for "
                       "the model's first input", path);
        goto done;
    }
    int64_t n = b->view.dims[0];
    if (!r->input_label) {
        r->n_inputs    = n;
        r->n_total     = (int64_t)a->n_models * r->n_methods * n;
        r->units       = calloc((size_t)r->n_total, sizeof *r->units);
        cli_progress_start(&r->pr, "compare", r->pr_label, r->n_total);
        r->input_label = calloc((size_t)n, sizeof *r->input_label);
        if (!r->units || !r->input_label) {
            rc = cli_error("compare", "out of memory");
            goto done;
        }
        for (int64_t i = 0; i < n; i++) {
            cli_sample_label(b, n, i, err, sizeof err);
            const char *slash = strrchr(err, '/');
            if (!(r->input_label[i] = strdup(slash ? slash + 1 : err))) {
                rc = cli_error("compare", "out of memory");
                goto done;
            }
        }
    } else if (n != r->n_inputs) {
        rc = cli_error("compare", "%s: the inputs make %lld samples for this model, %lld for "
                       "%s", path, (long long)n, (long long)r->n_inputs, a->models[0]);
        goto done;
    }
    if (a->sc.mask) {
        if ((rc = cli_eval_mask("compare", a->sc.mask, b, &mask_npy, &box, &mv)) != CLI_OK)
            goto done;
        mask = &mv;
    }
    for (int k = 0; k < r->n_methods && rc == CLI_OK; k++) {
        struct lrpx_attr_options ao;
        float                    low[3], high[3];
        cli_method_options(&a->meth, k, &ao, NULL, 0);
        cli_box_defaults(b, &ao.lrp, low, high, 3);
        snprintf(r->pr_label, sizeof r->pr_label, "%s, %s: maps", r->model_label[mi],
                 r->method_label[k]);
        for (int64_t i = 0; i < n && rc == CLI_OK; i++) {
            struct unit *u = unit_at(r, mi, k, i);
            if (a->resume && unit_load(r, mi, k, i, u) &&
                (i >= a->grid_inputs || map_load(r, mi, k, i, b->view.n_elems / n, u))) {
                u->done = true;
                r->pr.total--;
            } else {
                unit_clear(u);
                if ((rc = compute_unit(r, s, b, i, &ao, mask, r->method_label[k], u)) != CLI_OK)
                    break;
                char mp[4096];
                unit_path(r, mi, k, i, "map.npy", mp, sizeof mp);
                lrpx_tensor_view one = {.dtype = LRPX_DTYPE_FLOAT32, .rank = b->view.rank,
                                        .n_elems = u->map_n, .data = u->map};
                memcpy(one.dims, b->view.dims, sizeof one.dims);
                one.dims[0] = 1;
                if (u->map && (rc = cli_write_npy("compare", mp, &one)) != CLI_OK)
                    break;
                if ((rc = unit_save(r, mi, k, i, u)) != CLI_OK)
                    break;
                u->done = true;
                cli_progress_step(&r->pr, 1);
            }
        }
    }
    /* grid rows: the input, then one heatmap per method */
    int64_t                 gi = a->grid_inputs < n ? a->grid_inputs : n;
    const lrpx_colormap    *cm = NULL;
    lrpx_colormap          *owned = NULL;
    struct cli_viz          viz;
    cli_viz_init(&viz);
    if (rc == CLI_OK && gi > 0)
        rc = cli_viz_colormap("compare", &viz, &cm, &owned);
    int n_cols = 1 + r->n_methods;
    for (int64_t i = 0; i < gi && rc == CLI_OK; i++) {
        int row = (int)(mi * gi + i);
        rc      = cli_viz_picture("compare", &viz, b, i, &cells[row * n_cols]);
        /* labels fit the cells (28 characters at 160 pixels): the input
         * without its extension ("x.npy[3]" -> "x[3]"), after the model
         * when there are several */
        const char *in  = r->input_label[i], *dot = strrchr(in, '.');
        const char *nth = dot ? strchr(dot, '[') : NULL;
        int         len = dot && dot != in ? (int)(dot - in) : (int)strlen(in);
        if (a->n_models > 1)
            snprintf(err, sizeof err, "%s: %.*s%s", r->model_label[mi], len, in, nth ? nth : "");
        else
            snprintf(err, sizeof err, "%.*s%s", len, in, nth ? nth : "");
        err[28] = '\0';
        labels[row * n_cols] = strdup(err);
        for (int k = 0; k < r->n_methods && rc == CLI_OK; k++) {
            struct unit     *u  = unit_at(r, mi, k, i);
            lrpx_tensor_view hv = b->view;
            hv.dims[0]          = 1;
            hv.n_elems          = u->map_n;
            hv.data             = u->map;
            rc = cli_viz_render("compare", &viz, cm, b, &hv, 0, &cells[row * n_cols + 1 + k]);
            snprintf(err, sizeof err, "%s (class %lld)", r->method_label[k],
                     (long long)u->target);
            if (strlen(err) > 28)
                snprintf(err, sizeof err, "%.22s c%lld", r->method_label[k],
                         (long long)u->target);
            labels[row * n_cols + 1 + k] = strdup(err);
        }
    }
    lrpx_colormap_free(owned);
done:
    lrpx_npy_free(mask_npy);
    free(box);
    cli_batches_free(bs, n_bs);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}

/* ---- the summary ---- */

struct stat_ms {
    double mean, se;
    int64_t n;
};

/* Mean and standard error (sample standard deviation / sqrt(n)) of the
 * finite values. */
static struct stat_ms
stats(const double *v, int64_t n)
{
    struct stat_ms s = {NAN, NAN, 0};
    double         sum = 0.0, ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            sum += v[i];
            s.n++;
        }
    if (s.n == 0)
        return s;
    s.mean = sum / (double)s.n;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.se = s.n > 1 ? sqrt(ss / (double)(s.n - 1) / (double)s.n) : NAN;
    return s;
}

/* The per-input summary numbers of metric j (j < 0: the time in ms) of
 * (model, method) into v (n_inputs). */
static void
column(const struct run *r, int mi, int k, int j, double *v)
{
    for (int64_t i = 0; i < r->n_inputs; i++) {
        const struct unit *u = unit_at(r, mi, k, i);
        v[i] = j < 0 ? 1e3 * u->time : u->summary[j];
    }
}

/* What the averaged number of a metric is, and which way is better. */
static void
metric_meaning(const char *spec, const char **what, const char **better)
{
    lrpx_metric *m;
    char         params[2048] = "";
    *what = *better = "";
    if (lrpx_metric_parse(spec, &m, NULL, 0) != LRPX_OK)
        return;
    lrpx_metric_params_json(m, params, sizeof params);
    bool lerf = strstr(params, "\"order\": \"lerf\"") != NULL;
    switch (lrpx_metric_kind(m)) {
    case LRPX_METRIC_PIXEL_FLIPPING:      *what = "AUC of the MoRF curve"; *better = "lower"; break;
    case LRPX_METRIC_REGION_PERTURBATION: *what = "AOPC"; *better = lerf ? "lower" : "higher"; break;
    case LRPX_METRIC_SELECTIVITY:         *what = "AUC of the curve"; *better = "lower"; break;
    case LRPX_METRIC_LERF_MORF_AREA:      *what = "area between LeRF and MoRF"; *better = "higher"; break;
    case LRPX_METRIC_CONTINUITY:          *what = "largest change ratio"; *better = "lower"; break;
    case LRPX_METRIC_LOCAL_LIPSCHITZ:
    case LRPX_METRIC_MAX_SENSITIVITY:     *what = "score"; *better = "lower"; break;
    case LRPX_METRIC_RELEVANCE_MASS:
    case LRPX_METRIC_RELEVANCE_RANK:      *what = "score"; *better = "higher"; break;
    case LRPX_METRIC_POINTING_GAME:       *what = "fraction of hits"; *better = "higher"; break;
    case LRPX_METRIC_SPARSENESS:          *what = "Gini index"; *better = "higher"; break;
    case LRPX_METRIC_COMPLEXITY:          *what = "entropy"; *better = "lower"; break;
    case LRPX_METRIC_COMPLETENESS:        *what = "fraction complete"; *better = "higher"; break;
    case LRPX_METRIC_MODEL_RANDOMISATION: *what = "similarity after the last layer"; *better = "lower"; break;
    case LRPX_METRIC_RANDOM_LOGIT:        *what = "similarity to another class's map"; *better = "lower"; break;
    default: break;
    }
    lrpx_metric_free(m);
}

static void
md_cell(FILE *f, struct stat_ms s)
{
    if (s.n == 0)
        fputs(" n/a |", f);
    else if (isfinite(s.se))
        fprintf(f, " %.4g ± %.2g |", s.mean, s.se);
    else
        fprintf(f, " %.4g |", s.mean);
}

static void
json_stat(FILE *f, const char *key, struct stat_ms s)
{
    fprintf(f, "\"%s\": {\"mean\": ", key);
    cli_put_number(f, s.mean, 9, "null");
    fputs(", \"se\": ", f);
    cli_put_number(f, s.se, 9, "null");
    fprintf(f, ", \"n\": %lld}", (long long)s.n);
}

/* The mean curve of metric j over the inputs of (model, method) whose
 * curve has the first input's length; *n its length (0: none). Caller
 * frees. */
static double *
mean_curve(const struct run *r, int mi, int k, int j, int64_t *n)
{
    *n = unit_at(r, mi, k, 0)->n_curve[j];
    double *c = *n ? calloc((size_t)*n, sizeof *c) : NULL;
    int64_t cnt = 0;
    if (!c) {
        *n = 0;
        return NULL;
    }
    for (int64_t i = 0; i < r->n_inputs; i++) {
        const struct unit *u = unit_at(r, mi, k, i);
        if (u->n_curve[j] != *n)
            continue;
        for (int64_t p = 0; p < *n; p++)
            c[p] += u->curve[j][p];
        cnt++;
    }
    for (int64_t p = 0; p < *n; p++)
        c[p] /= (double)cnt;
    return c;
}

/* Curves worth drawing: the faithfulness family's. */
static bool
plotted(const char *spec)
{
    lrpx_metric *m;
    if (lrpx_metric_parse(spec, &m, NULL, 0) != LRPX_OK)
        return false;
    lrpx_metric_id id = lrpx_metric_kind(m);
    lrpx_metric_free(m);
    return id == LRPX_METRIC_PIXEL_FLIPPING || id == LRPX_METRIC_REGION_PERTURBATION ||
           id == LRPX_METRIC_SELECTIVITY || id == LRPX_METRIC_LERF_MORF_AREA;
}

static int
write_summary(const struct run *r, int argc, char **argv)
{
    const struct compare_args *a = r->a;
    char                       path[4096];
    double                    *v = malloc((size_t)r->n_inputs * sizeof *v);
    struct text                md, csv, js;
    int                        rc;
    if (!v || !text_open(&md) || !text_open(&csv) || !text_open(&js)) {
        free(v);
        return cli_error("compare", "out of memory");
    }
    /* summary.md */
    fprintf(md.f, "# lrpx compare\n\n%lld inputs, mean ± standard error over the inputs "
            "(each input scored on its own).\n\n| model | method |", (long long)r->n_inputs);
    for (int j = 0; j < a->sc.n_metrics; j++)
        fprintf(md.f, " %s |", a->sc.metrics[j]);
    fputs(" explanation time (ms) |\n|---|---|", md.f);
    for (int j = 0; j <= a->sc.n_metrics; j++)
        fputs("---|", md.f);
    fputc('\n', md.f);
    /* summary.csv */
    fputs("model,method,metric,mean,se,n\n", csv.f);
    /* summary.json */
    fputs("{\"command\": [", js.f);
    for (int i = 0; i < argc; i++) {
        fputs(i ? ", " : "", js.f);
        cli_json_string(js.f, argv[i]);
    }
    fprintf(js.f, "], \"n_inputs\": %lld, \"inputs\": [", (long long)r->n_inputs);
    for (int64_t i = 0; i < r->n_inputs; i++) {
        fputs(i ? ", " : "", js.f);
        cli_json_string(js.f, r->input_label[i]);
    }
    fputs("], \"metrics\": [", js.f);
    for (int j = 0; j < a->sc.n_metrics; j++) {
        const char *what, *better;
        metric_meaning(a->sc.metrics[j], &what, &better);
        fprintf(js.f, "%s{\"spec\": ", j ? ", " : "");
        cli_json_string(js.f, a->sc.metrics[j]);
        fprintf(js.f, ", \"number\": \"%s\", \"better\": \"%s\"}", what, better);
    }
    fputs("], \"results\": [", js.f);
    for (int mi = 0; mi < a->n_models; mi++)
        for (int k = 0; k < r->n_methods; k++) {
            fprintf(md.f, "| %s | %s |", r->model_label[mi], r->method_label[k]);
            fprintf(js.f, "%s{\"model\": ", mi || k ? ", " : "");
            cli_json_string(js.f, a->models[mi]);
            fputs(", \"method\": ", js.f);
            cli_json_string(js.f, r->method_label[k]);
            fputs(", \"metrics\": {", js.f);
            for (int j = -1; j < a->sc.n_metrics; j++) {
                column(r, mi, k, j, v);
                struct stat_ms st   = stats(v, r->n_inputs);
                const char    *name = j < 0 ? "explanation_time_ms" : a->sc.metrics[j];
                if (j >= 0)
                    md_cell(md.f, st);
                cli_csv_field(csv.f, r->model_label[mi]);
                fputc(',', csv.f);
                cli_csv_field(csv.f, r->method_label[k]);
                fputc(',', csv.f);
                cli_csv_field(csv.f, name);
                fputc(',', csv.f);
                put_num(csv.f, st.mean);
                fputc(',', csv.f);
                put_num(csv.f, st.se);
                fprintf(csv.f, ",%lld\n", (long long)st.n);
                if (j < 0) {
                    json_stat(js.f, "explanation_time_ms", st);
                    fputs("}, \"scores\": {", js.f);
                    continue;
                }
                fputs(j ? ", " : "", js.f);
                cli_json_string(js.f, name);
                fputs(": {", js.f);
                json_stat(js.f, "summary", st);
                int64_t n_c;
                double *c = mean_curve(r, mi, k, j, &n_c);
                fputs(", \"mean_curve\": ", js.f);
                for (int64_t p = 0; p < n_c; p++)
                    fprintf(js.f, "%s%.9g", p ? ", " : "[", c[p]);
                fputs(n_c ? "]}" : "null}", js.f);
                free(c);
            }
            column(r, mi, k, -1, v);
            md_cell(md.f, stats(v, r->n_inputs));
            fputs("}}", js.f);
            fputc('\n', md.f);
        }
    fputs("]}\n", js.f);
    fputs("\nThe number averaged per metric, and which way is better:\n\n", md.f);
    for (int j = 0; j < a->sc.n_metrics; j++) {
        const char *what, *better;
        metric_meaning(a->sc.metrics[j], &what, &better);
        fprintf(md.f, "* `%s`: %s (%s is better)\n", a->sc.metrics[j], what, better);
    }
    fputs("\nCurves: curves.svg (curves.png); heatmaps: grid.png.\n", md.f);
    free(v);
    snprintf(path, sizeof path, "%s/summary.md", a->out_dir);
    rc = text_write(&md, path);
    snprintf(path, sizeof path, "%s/summary.csv", a->out_dir);
    int rc2 = text_write(&csv, path);
    snprintf(path, sizeof path, "%s/summary.json", a->out_dir);
    int rc3 = text_write(&js, path);
    return rc != CLI_OK ? rc : rc2 != CLI_OK ? rc2 : rc3;
}

/* ---- curves.svg and curves.png: one layout, two painters ---- */

/* Coordinates are SVG pixels; the PNG painter scales them by k. */
struct canvas {
    FILE        *svg;
    lrpx_pixmap *pm;
    int          k;
};

static const uint8_t palette[10][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
static const uint8_t black[3] = {0, 0, 0}, grey[3] = {200, 200, 200};

static void
put_pixel(lrpx_pixmap *pm, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= pm->width || y >= pm->height)
        return;
    memcpy(pm->data + ((size_t)y * pm->width + x) * 3, rgb, 3);
}

static void
cv_line(struct canvas *c, double x0, double y0, double x1, double y1, const uint8_t rgb[3],
        double width)
{
    if (c->svg) {
        fprintf(c->svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#%02x%02x%02x\" stroke-width=\"%.1f\"/>\n",
                x0, y0, x1, y1, rgb[0], rgb[1], rgb[2], width);
        return;
    }
    double len = hypot(x1 - x0, y1 - y0) * c->k;
    int    n   = (int)ceil(len) + 1, h = (int)(width * c->k / 2);
    for (int t = 0; t <= n; t++) {
        double f = (double)t / n;
        int    x = (int)lround((x0 + f * (x1 - x0)) * c->k);
        int    y = (int)lround((y0 + f * (y1 - y0)) * c->k);
        for (int dy = -h; dy <= (h ? h - 1 : 0); dy++)
            for (int dx = -h; dx <= (h ? h - 1 : 0); dx++)
                put_pixel(c->pm, x + dx, y + dy, rgb);
    }
}

static void
cv_polyline(struct canvas *c, const double *xs, const double *ys, int64_t n,
            const uint8_t rgb[3])
{
    if (c->svg) {
        fprintf(c->svg, "<polyline fill=\"none\" stroke=\"#%02x%02x%02x\" stroke-width=\"1.5\" "
                "points=\"", rgb[0], rgb[1], rgb[2]);
        for (int64_t i = 0; i < n; i++)
            fprintf(c->svg, "%s%.2f,%.2f", i ? " " : "", xs[i], ys[i]);
        fputs("\"/>\n", c->svg);
        return;
    }
    for (int64_t i = 1; i < n; i++)
        cv_line(c, xs[i - 1], ys[i - 1], xs[i], ys[i], rgb, 1.5);
}

/* Text centred vertically on y; anchor 0 left, 1 middle, 2 right. */
static void
cv_text(struct canvas *c, double x, double y, const char *s, int anchor)
{
    if (c->svg) {
        static const char *const a[] = {"start", "middle", "end"};
        fprintf(c->svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                "dominant-baseline=\"middle\">", x, y, a[anchor]);
        for (; *s; s++)
            if (*s == '<')
                fputs("&lt;", c->svg);
            else if (*s == '&')
                fputs("&amp;", c->svg);
            else
                fputc(*s, c->svg);
        fputs("</text>\n", c->svg);
        return;
    }
    int w = (int)strlen(s) * 6 * c->k;
    int px = (int)(x * c->k) - (anchor == 1 ? w / 2 : anchor == 2 ? w : 0);
    lrpx_pixmap_draw_text(c->pm, px, (int)(y * c->k) - 4 * c->k, s, c->k, black);
}

enum { PANEL_W = 380, PANEL_H = 250, MARGIN_L = 64, MARGIN_R = 16, MARGIN_T = 30,
       MARGIN_B = 40, LEGEND_W = 230 };

struct figure {
    int     n_rows, n_cols;              /* curve metrics x models           */
    int     rows[MAX_METRICS];           /* the metric index of each row     */
    double *curves[MAX_MODELS][MAX_METRICS][CLI_VIZ_MAX];
    int64_t n[MAX_MODELS][MAX_METRICS][CLI_VIZ_MAX];
};

/* "0.0123" -> short tick labels */
static void
tick_label(double v, char *buf, size_t size)
{
    snprintf(buf, size, "%.3g", fabs(v) < 1e-12 ? 0.0 : v);
}

static void
draw_panel(struct canvas *c, const struct run *r, const struct figure *fg, int row, int mi,
           double ox, double oy)
{
    int    j   = fg->rows[row];
    double px0 = ox + MARGIN_L, px1 = ox + PANEL_W - MARGIN_R;
    double py0 = oy + MARGIN_T, py1 = oy + PANEL_H - MARGIN_B;
    double lo = INFINITY, hi = -INFINITY;
    int64_t n_max = 1;
    for (int k = 0; k < r->n_methods; k++)
        for (int64_t p = 0; p < fg->n[mi][j][k]; p++) {
            double v = fg->curves[mi][j][k][p];
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
            n_max = fg->n[mi][j][k] > n_max ? fg->n[mi][j][k] : n_max;
        }
    if (!isfinite(lo)) {
        lo = 0.0;
        hi = 1.0;
    }
    if (!(hi > lo)) {
        lo -= 0.5;
        hi += 0.5;
    }
    double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    char title[512], buf[64];
    snprintf(title, sizeof title, "%s: %s", r->model_label[mi], r->a->sc.metrics[j]);
    if (strlen(title) > 58)
        memcpy(title + 55, "...", 4);
    cv_text(c, (px0 + px1) / 2, oy + 14, title, 1);
    /* grid and ticks */
    for (int t = 0; t <= 4; t++) {
        double fy = py1 - t * (py1 - py0) / 4, vy = lo + t * (hi - lo) / 4;
        cv_line(c, px0, fy, px1, fy, grey, 1);
        tick_label(vy, buf, sizeof buf);
        cv_text(c, px0 - 5, fy, buf, 2);
        double fx = px0 + t * (px1 - px0) / 4;
        snprintf(buf, sizeof buf, "%lld", (long long)lround(1 + t * (double)(n_max - 1) / 4));
        cv_line(c, fx, py1, fx, py1 + 4, black, 1);
        cv_text(c, fx, py1 + 12, buf, 1);
    }
    cv_line(c, px0, py0, px0, py1, black, 1);
    cv_line(c, px0, py1, px1, py1, black, 1);
    cv_text(c, (px0 + px1) / 2, py1 + 28, "perturbation step", 1);
    /* the mean curve of each method */
    double *xs = malloc((size_t)n_max * sizeof *xs), *ys = malloc((size_t)n_max * sizeof *ys);
    for (int k = 0; xs && ys && k < r->n_methods; k++) {
        int64_t n = fg->n[mi][j][k];
        for (int64_t p = 0; p < n; p++) {
            double v = fg->curves[mi][j][k][p];
            xs[p]    = px0 + (n > 1 ? (double)p / (double)(n - 1) : 0.5) * (px1 - px0);
            ys[p]    = py1 - ((isfinite(v) ? v : lo) - lo) / (hi - lo) * (py1 - py0);
        }
        cv_polyline(c, xs, ys, n, palette[k % 10]);
    }
    free(xs);
    free(ys);
}

static void
draw_figure(struct canvas *c, const struct run *r, const struct figure *fg)
{
    for (int row = 0; row < fg->n_rows; row++)
        for (int mi = 0; mi < fg->n_cols; mi++)
            draw_panel(c, r, fg, row, mi, (double)mi * PANEL_W, (double)row * PANEL_H);
    double lx = (double)fg->n_cols * PANEL_W + 10;
    cv_text(c, lx, MARGIN_T, "mean over the inputs:", 0);
    for (int k = 0; k < r->n_methods; k++) {
        double y = MARGIN_T + 20 + 18 * k;
        cv_line(c, lx, y, lx + 24, y, palette[k % 10], 3);
        char lab[40];
        snprintf(lab, sizeof lab, "%.34s", r->method_label[k]);
        cv_text(c, lx + 30, y, lab, 0);
    }
}

static int
write_curves(const struct run *r)
{
    const struct compare_args *a  = r->a;
    struct figure             *fg = calloc(1, sizeof *fg);
    int                        rc = CLI_OK;
    char                       path[4096], err[1024];
    if (!fg)
        return cli_error("compare", "out of memory");
    fg->n_cols = a->n_models;
    for (int j = 0; j < a->sc.n_metrics; j++)
        if (plotted(a->sc.metrics[j]) && unit_at(r, 0, 0, 0)->n_curve[j] > 0)
            fg->rows[fg->n_rows++] = j;
    for (int mi = 0; mi < a->n_models; mi++)
        for (int row = 0; row < fg->n_rows; row++)
            for (int k = 0; k < r->n_methods; k++) {
                int j = fg->rows[row];
                fg->curves[mi][j][k] = mean_curve(r, mi, k, j, &fg->n[mi][j][k]);
            }
    if (fg->n_rows > 0) {
        int         w = fg->n_cols * PANEL_W + LEGEND_W, h = fg->n_rows * PANEL_H;
        struct text t;
        if (!text_open(&t)) {
            rc = cli_error("compare", "out of memory");
            goto done;
        }
        fprintf(t.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/"
                "2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\""
                "sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" "
                "fill=\"white\"/>\n", w, h + 10, w, h + 10);
        struct canvas c = {.svg = t.f};
        draw_figure(&c, r, fg);
        fputs("</svg>\n", t.f);
        snprintf(path, sizeof path, "%s/curves.svg", a->out_dir);
        if ((rc = text_write(&t, path)) != CLI_OK)
            goto done;
        struct canvas p = {.k = 2};
        if (lrpx_pixmap_init(2 * w, 2 * (h + 10), 3, &p.pm) != LRPX_OK) {
            rc = cli_error("compare", "out of memory for curves.png");
            goto done;
        }
        memset(p.pm->data, 255, (size_t)p.pm->width * p.pm->height * 3);
        draw_figure(&p, r, fg);
        snprintf(path, sizeof path, "%s/curves.png", a->out_dir);
        if ((rc = cli_guard_output("compare", "-o", path)) == CLI_OK &&
            lrpx_pixmap_save(p.pm, path, 0, err, sizeof err) != LRPX_OK)
            rc = cli_error("compare", "%s", err);
        lrpx_pixmap_free(p.pm);
    }
done:
    for (int mi = 0; mi < MAX_MODELS; mi++)
        for (int j = 0; j < MAX_METRICS; j++)
            for (int k = 0; k < CLI_VIZ_MAX; k++)
                free(fg->curves[mi][j][k]);
    free(fg);
    return rc;
}

/* ---- the command ---- */

/* "models/resnet18.onnx" -> "resnet18"; repeated names get "#2", ... */
static void
model_labels(struct run *r)
{
    for (int mi = 0; mi < r->a->n_models; mi++) {
        const char *p = r->a->models[mi], *slash = strrchr(p, '/');
        p        = slash ? slash + 1 : p;
        size_t l = strlen(p);
        if (l > 5 && !strcmp(p + l - 5, ".onnx"))
            l -= 5;
        snprintf(r->model_label[mi], sizeof r->model_label[mi], "%.*s", (int)(l > 100 ? 100 : l),
                 p);
        for (int o = 0; o < mi; o++)
            if (!strcmp(r->model_label[o], r->model_label[mi])) {
                size_t n = strlen(r->model_label[mi]);
                snprintf(r->model_label[mi] + n, sizeof r->model_label[mi] - n, "#%d", mi + 1);
                break;
            }
    }
}

static int
make_dir(const char *path)
{
    struct stat sb;
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return cli_error("compare", "%s: cannot make the folder: %s", path, strerror(errno));
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_error("compare", "%s: not a folder", path);
    return CLI_OK;
}

/* Before any work: the inputs are recorded, no output is one of them, and
 * REPORT_DIR is none of the input folders. */
static int
guard_files(const struct compare_args *a)
{
    static const char *const outs[] = {"summary.md", "summary.csv", "summary.json",
                                       "curves.svg", "curves.png", "grid.png"};
    char                     path[4096];
    struct stat              so, si;
    for (int mi = 0; mi < a->n_models; mi++)
        cli_guard_model(NULL, a->models[mi]);
    cli_guard_inputs(&a->in);
    cli_method_guard(&a->meth);
    cli_guard_input(a->sc.mask, "the mask");
    if (a->prep.preset)
        cli_guard_input(a->prep.preset, "the preprocessing file");
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", a->out_dir, outs[i]);
        if (cli_guard_output("compare", "-o", path) != CLI_OK)
            return CLI_USAGE;
    }
    if (stat(a->out_dir, &so) == 0)
        for (int i = 0; i < a->in.n; i++)
            if (stat(a->in.list[i].path, &si) == 0 && si.st_dev == so.st_dev &&
                si.st_ino == so.st_ino)
                return cli_usage_error("compare", "-o %s is an input folder; choose another "
                                       "report folder", a->out_dir);
    return CLI_OK;
}

int
cmd_compare(int argc0, char **argv0)
{
    int                 argc;
    char              **argv = expand_lists(argc0, argv0, &argc);
    struct compare_args a    = {.target = -1, .grid_inputs = 4};
    struct run          r    = {.a = &a};
    lrpx_pixmap       **cells  = NULL;
    char              **labels = NULL;
    int                 n_cells = 0, rc;
    if (!argv)
        return cli_error("compare", "out of memory");
    cli_method_init(&a.meth, true);
    cli_prep_init(&a.prep);
    struct cli_flag_group groups[4] = {
        {.flags = compare_flags, .ctx = &a},
        cli_scoring_group(&a.sc),
        cli_method_group(&a.meth),
        cli_prep_group(&a.prep),
    };
    groups[2].skip = "--seed --noise";      /* the scoring --seed; no noise file */
    const char *pos[1];
    int         n_pos;
    rc = cli_parse_flags("compare", argc, argv, groups, 4, pos, 0, &n_pos);
    if (rc == CLI_HELP) {
        cli_help_usage(stdout, "compare", compare_usage);
        if (!cli_help_is_man())
            fputs("\n", stdout);
        cli_method_help(stdout, &a.meth);
        cli_print_flags(stdout, groups, 4);
        cli_method_help_rules(stdout);
        cli_help_end(stdout, "compare");
        rc = CLI_OK;
        goto done;
    }
    if (rc != CLI_OK)
        goto done;
    if (a.n_models == 0 || a.in.n == 0 || a.sc.n_metrics == 0 || !a.out_dir) {
        rc = cli_usage_error("compare", "--models, --inputs, --metrics and -o are needed");
        goto done;
    }
    if ((rc = cli_method_check("compare", &a.meth)) != CLI_OK)
        goto done;
    if ((rc = guard_files(&a)) != CLI_OK)
        goto done;
    char units[4096];
    snprintf(units, sizeof units, "%s/units", a.out_dir);
    if ((rc = make_dir(a.out_dir)) != CLI_OK || (rc = make_dir(units)) != CLI_OK ||
        (rc = cli_method_load("compare", &a.meth)) != CLI_OK)
        goto done;
    a.meth.ao.seed = (uint64_t)a.sc.seed;
    r.n_methods    = cli_method_count(&a.meth);
    r.key          = run_key(argc0, argv0);
    for (int k = 0; k < r.n_methods; k++) {
        struct lrpx_attr_options ao;
        cli_method_options(&a.meth, k, &ao, r.method_label[k], sizeof r.method_label[k]);
    }
    model_labels(&r);
    int gi  = a.grid_inputs;
    n_cells = a.n_models * gi * (1 + r.n_methods);
    cells   = calloc((size_t)(n_cells ? n_cells : 1), sizeof *cells);
    labels  = calloc((size_t)(n_cells ? n_cells : 1), sizeof *labels);
    if (!cells || !labels) {
        rc = cli_error("compare", "out of memory");
        goto done;
    }
    for (int mi = 0; mi < a.n_models && rc == CLI_OK; mi++)
        rc = run_model(&r, mi, cells, labels);
    if (r.units)
        cli_progress_end(&r.pr);
    if (rc == CLI_OK)
        rc = write_summary(&r, argc0, argv0);
    if (rc == CLI_OK)
        rc = write_curves(&r);
    if (rc == CLI_OK && gi > 0) {
        char           path[4096];
        struct cli_viz viz;
        cli_viz_init(&viz);
        int used = 0;
        /* rows were laid out for --grid-inputs per model; fewer inputs
         * leave gaps, closed here */
        for (int i = 0; i < n_cells; i++)
            if (cells[i]) {
                cells[used]  = cells[i];
                labels[used] = labels[i];
                if (used != i) {
                    cells[i]  = NULL;
                    labels[i] = NULL;
                }
                used++;
            }
        snprintf(path, sizeof path, "%s/grid.png", a.out_dir);
        rc = cli_viz_write_grid("compare", &viz, cells, labels, used, 1 + r.n_methods, path);
    }
    if (rc == CLI_OK)
        printf("wrote %s/summary.md, summary.csv, summary.json, curves.svg, curves.png, "
               "grid.png\n", a.out_dir);
done:
    cli_viz_cells_free(cells, labels, n_cells);
    for (int64_t i = 0; r.units && i < r.n_total; i++)
        unit_clear(&r.units[i]);
    free(r.units);
    for (int64_t i = 0; r.input_label && i < r.n_inputs; i++)
        free(r.input_label[i]);
    free(r.input_label);
    cli_method_free(&a.meth);
    free(argv);
    return rc;
}
