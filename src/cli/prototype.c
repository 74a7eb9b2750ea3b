/* lrpx prototype MODEL --class K -o PROTO.npy: activation maximisation,
 * the paper's interpretation of a class by a prototype input
 * (lrpx_session_maximize, docs/interpretation.md): plain, with a density
 * expert fitted on real examples, or in a decoder's code space. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char prototype_usage[] =
    "usage: lrpx prototype MODEL --class K -o PROTO.npy [--image PROTO.png]\n"
    "                     [--expert gaussian:DATA | --expert gmm:K:DATA]\n"
    "                     [--decoder DEC.onnx] [--iters N] [--step S]\n"
    "                     [--lambda L] [--blur SIGMA] [--jitter P] [--seed N]\n"
    "                     [--json]\n"
    "\n"
    "Find an input that the model takes for class K (activation\n"
    "maximisation): gradient ascent on the input x of\n"
    "  score_K(x) - lambda |x - x0|^2\n"
    "from x0 (the middle of the input's box, or --start) plus seeded noise,\n"
    "x kept in the box of the model's preprocessing (black to white). With\n"
    "--expert, a Gaussian (or a mixture of K Gaussians, EM) fitted on real\n"
    "examples DATA (a .npy stack or a folder of images) adds log p(x) and the\n"
    "score is the class's log-probability. With --decoder, the code z of a\n"
    "generator x = g(z) is optimised instead, score_K(g(z)) - lambda |z|^2,\n"
    "and the prototype is g(z). Writes the prototype as .npy (the model's\n"
    "input shape) and as a picture; prints the class score before and after;\n"
    "--json records every step.\n";

struct prototype_args {
    struct lrpx_maximize_options mo;
    int         cls;
    const char *out_path, *image_path, *expert_spec, *decoder_path, *start_path, *preprocess;
    int         expert_rank, zoom;
    double      expert_reg;
    bool        json, no_box;
    double      low, high;
    int         seed;
};

static const struct cli_choice score_choices[] = {
    {"auto", LRPX_MAX_SCORE_AUTO}, {"logit", LRPX_MAX_SCORE_LOGIT},
    {"log-prob", LRPX_MAX_SCORE_LOGPROB}, {NULL, 0}};

#define ARG(field) offsetof(struct prototype_args, field)
static const struct cli_flag prototype_flags[] = {
    {"--class", NULL, "K", "the class to maximise (required)", CLI_INT, ARG(cls), .lo = 0,
     .hi = 2147483647, .need = "a class index >= 0"},
    {"-o", NULL, "PROTO.npy", "write the prototype (the model's input shape)", CLI_STRING,
     ARG(out_path), .need = "a path"},
    {"--image", NULL, "FILE", "write the prototype as a picture (.png, .jpg), the box\n"
     "mapped to black..white", CLI_STRING, ARG(image_path), .need = "a .png or .jpg path"},
    {"--zoom", NULL, "N", "enlarge the picture N times (nearest neighbour)", CLI_INT, ARG(zoom),
     .lo = 1, .hi = 16},
    {"--score", NULL, "S", "what is raised: logit, log-prob (log softmax), or auto\n"
     "(default: log-prob with --expert, else logit)", CLI_CHOICE, ARG(mo.score),
     .choices = score_choices},
    {"--iters", NULL, "N", "gradient steps (default 200)", CLI_INT, ARG(mo.iters), .lo = 0,
     .hi = 1000000},
    {"--step", NULL, "S", "step size (default 0.1)", CLI_DOUBLE, ARG(mo.step), .lo = 1e-12,
     .hi = 1e12},
    {"--lambda", NULL, "L", "weight of |v - v0|^2 (default 0.01)", CLI_DOUBLE, ARG(mo.lambda),
     .lo = 0, .hi = 1e12},
    {"--blur", NULL, "SIGMA", "blur x with a Gaussian of SIGMA pixels after each step\n"
     "(images; default 0: off)", CLI_DOUBLE, ARG(mo.blur_sigma), .lo = 0, .hi = 100},
    {"--blur-every", NULL, "N", "blur only every N steps (default 1)", CLI_INT,
     ARG(mo.blur_every), .lo = 1, .hi = 1000000},
    {"--jitter", NULL, "P", "take each gradient at x rolled by up to P pixels\n"
     "(images; default 0: off)", CLI_INT, ARG(mo.jitter), .lo = 0, .hi = 1000},
    {"--start", NULL, "X0", "the start and anchor x0 (with --decoder, z0): a .npy, or a\n"
     "number for every value (default: the middle of the box)", CLI_STRING,
     ARG(start_path), .need = "a .npy file or a number"},
    {"--init-sigma", NULL, "S", "noise added to x0 for the first point, times the box\n"
     "width (default 0.1)", CLI_DOUBLE, ARG(mo.init_sigma), .lo = 0, .hi = 1e6},
    {"--seed", NULL, "N", "seed of the noise and the jitter (default 0)", CLI_INT, ARG(seed),
     .lo = 0, .hi = 2147483647},
    {"--expert", NULL, "SPEC", "gaussian:DATA or gmm:K:DATA, DATA a .npy stack or a\n"
     "folder of images (preprocessed as the model's inputs)", CLI_STRING, ARG(expert_spec),
     .need = "gaussian:DATA or gmm:K:DATA"},
    {"--expert-rank", NULL, "R", "principal axes the expert models (default: all for\n"
     "inputs up to 256 values, else 64)", CLI_INT, ARG(expert_rank), .lo = 1,
     .hi = 8192},
    {"--expert-reg", NULL, "R", "added to every variance of the expert (default 1e-6)",
     CLI_DOUBLE, ARG(expert_reg), .lo = 0, .hi = 1e12},
    {"--expert-weight", NULL, "W", "weight of log p(x) (default 1)", CLI_DOUBLE,
     ARG(mo.expert_weight), .lo = -1e12, .hi = 1e12},
    {"--decoder", NULL, "DEC.onnx", "optimise the code z of this generator; its output must\n"
     "have the model input's shape", CLI_STRING, ARG(decoder_path), .need = "an ONNX file"},
    {"--preprocess", NULL, "P", "the preprocessing that sets the box (a preset or a JSON\n"
     "file; default MODEL.preprocess.json)", CLI_STRING, ARG(preprocess),
     .need = "a preset or a file"},
    {"--low", NULL, "L", "lower bound of x (with --high; instead of the box of the\n"
     "preprocessing)", CLI_DOUBLE, ARG(low), .lo = -1e30, .hi = 1e30},
    {"--high", NULL, "H", "upper bound of x", CLI_DOUBLE, ARG(high), .lo = -1e30, .hi = 1e30},
    {"--no-box", NULL, NULL, "leave x unbounded", CLI_TRUE, .off = ARG(no_box)},
    {"--input-name", NULL, "N", "the model input to optimise (default the first)", CLI_STRING,
     ARG(mo.input_name), .need = "a name"},
    {"--output", NULL, "NAME", "the graph output whose class is raised (default the\n"
     "first; a trailing Softmax is skipped)", CLI_STRING, ARG(mo.output_name),
     .need = "a name"},
    {"--json", NULL, NULL, "machine-readable report with every step on stdout", CLI_TRUE,
     .off = ARG(json)},
    {NULL}};
#undef ARG

/* --expert SPEC: kind, components and the data path (points into spec). */
static int
parse_expert(const char *spec, struct lrpx_density_options *d, const char **data)
{
    lrpx_density_options_default(d);
    if (!strncmp(spec, "gaussian:", 9) && spec[9]) {
        d->kind = LRPX_DENSITY_GAUSSIAN;
        *data   = spec + 9;
        return CLI_OK;
    }
    if (!strncmp(spec, "gmm:", 4)) {
        const char *p = spec + 4, *colon = strchr(p, ':');
        char        num[32];
        long long   k;
        if (!colon || colon == p || (size_t)(colon - p) >= sizeof num || !colon[1])
            goto bad;
        memcpy(num, p, (size_t)(colon - p));
        num[colon - p] = '\0';
        if (!cli_parse_int(num, &k) || k < 1 || k > 1000)
            return cli_usage_error("prototype", "--expert %s: K must be a whole number in "
                                   "1..1000", spec);
        d->kind       = LRPX_DENSITY_GMM;
        d->components = (int)k;
        *data         = colon + 1;
        return CLI_OK;
    }
bad:
    return cli_usage_error("prototype", "--expert '%s': expected gaussian:DATA or gmm:K:DATA "
                           "(DATA a .npy stack or a folder of images)", spec);
}

/* The box of the model's input from its preprocessing (black and white
 * pixels), into lo/hi per channel. *n 0: none known. */
static int
input_box(const struct prototype_args *a, const char *model_path, const lrpx_model *m,
          float *lo, float *hi, int *n, struct lrpx_preprocess *pp)
{
    struct cli_prep prep;
    char            path[4096], err[1024];
    bool            known;
    *n = 0;
    cli_prep_init(&prep);
    prep.preset = a->preprocess;
    if (cli_prep_resolve("prototype", &prep, model_path, m, a->mo.input_name, true, true, pp,
                         &known) != CLI_OK)
        return CLI_FAIL;
    if (a->no_box)
        return CLI_OK;
    if (!isnan(a->low)) {
        lo[0] = (float)a->low;
        hi[0] = (float)a->high;
        *n    = 1;
        return CLI_OK;
    }
    bool have = a->preprocess || (cli_model_preprocess_path(model_path, path, sizeof path) &&
                                  access(path, F_OK) == 0);
    if (!have)
        return CLI_OK;
    if (lrpx_preprocess_box_bounds(pp, lo, hi, n, err, sizeof err) != LRPX_OK)
        return cli_error("prototype", "the box of the preprocessing: %s", err);
    return CLI_OK;
}

/* The prototype as an 8-bit picture: each channel's box (or its own range
 * when unbounded) to 0..255. */
static int
write_picture(const struct prototype_args *a, const lrpx_tensor_view *x, bool nhwc,
              bool bgr, const float *lo, const float *hi, int n_box)
{
    int64_t C = 1, H, W;
    if (x->rank == 4) {
        C = nhwc ? x->dims[3] : x->dims[1];
        H = nhwc ? x->dims[1] : x->dims[2];
        W = nhwc ? x->dims[2] : x->dims[3];
    } else if (x->rank == 3) {
        H = x->dims[1];
        W = x->dims[2];
    } else {
        return cli_error("prototype", "--image: the input has shape of rank %d, not an image",
                         x->rank);
    }
    if (C != 1 && C != 3)
        return cli_error("prototype", "--image: the input has %lld channels (1 or 3 make a "
                         "picture)", (long long)C);
    int          z = a->zoom > 1 ? a->zoom : 1;
    lrpx_pixmap *pm;
    if (lrpx_pixmap_init((int)(W * z), (int)(H * z), (int)C, &pm) != LRPX_OK)
        return cli_error("prototype", "--image: out of memory");
    const float *d = x->data;
    for (int64_t c = 0; c < C; c++) {
        double l = n_box ? lo[n_box == 1 ? 0 : c] : INFINITY, h = n_box ? hi[n_box == 1 ? 0 : c]
                                                                    : -INFINITY;
        for (int64_t i = 0; !n_box && i < H * W; i++) {
            float v = d[nhwc ? i * C + c : c * H * W + i];
            l       = v < l ? v : l;
            h       = v > h ? v : h;
        }
        int64_t oc = bgr && C == 3 ? 2 - c : c;
        for (int64_t y = 0; y < H * z; y++)
            for (int64_t xx = 0; xx < W * z; xx++) {
                int64_t i = (y / z) * W + xx / z;
                double  v = d[nhwc ? i * C + c : c * H * W + i];
                double  u = h > l ? (v - l) / (h - l) * 255.0 : 0.0;
                u         = u < 0 ? 0 : u > 255 ? 255 : u;
                pm->data[(y * W * z + xx) * C + oc] = (uint8_t)lround(u);
            }
    }
    char        err[1024];
    lrpx_status st = lrpx_pixmap_save(pm, a->image_path, 90, err, sizeof err);
    lrpx_pixmap_free(pm);
    return st == LRPX_OK ? CLI_OK : cli_error("prototype", "--image %s", err);
}

static void
json_step(const lrpx_maximize_step *st)
{
    printf("{\"objective\": ");
    cli_put_number(stdout, st->objective, 9, "null");
    printf(", \"logit\": ");
    cli_put_number(stdout, st->logit, 9, "null");
    printf(", \"log_prob\": ");
    cli_put_number(stdout, st->log_prob, 9, "null");
    printf(", \"expert_log_p\": ");
    cli_put_number(stdout, st->expert_log_p, 9, "null");
    printf(", \"penalty\": ");
    cli_put_number(stdout, st->penalty, 9, "null");
    printf(", \"predicted\": %lld}", (long long)st->predicted);
}

static void
report(const struct prototype_args *a, const char *model_path, const lrpx_maximize_result *r,
       char **classes, int n_classes, const lrpx_density_info *ei)
{
    int64_t            n = lrpx_maximize_result_n_steps(r);
    lrpx_maximize_step first, last;
    lrpx_maximize_result_step(r, 0, &first);
    lrpx_maximize_result_step(r, n - 1, &last);
    const char *cn   = a->mo.target < n_classes ? classes[a->mo.target] : NULL;
    const char *pn   = last.predicted < n_classes ? classes[last.predicted] : NULL;
    const char *mode = a->decoder_path ? "decoder" : a->expert_spec ? "expert" : "plain";
    if (!a->json) {
        printf("class %lld%s%s%s (%s): logit %.4g -> %.4g, p %.4g -> %.4g after %lld steps\n",
               (long long)a->mo.target, cn ? " (" : "", cn ? cn : "", cn ? ")" : "", mode,
               first.logit, last.logit, exp(first.log_prob), exp(last.log_prob),
               (long long)(n - 1));
        printf("predicted: %lld%s%s%s", (long long)last.predicted, pn ? " (" : "", pn ? pn : "",
               pn ? ")" : "");
        if (!isnan(last.expert_log_p))
            printf(", expert log p(x) %.6g", last.expert_log_p);
        printf("\nwrote %s%s%s\n", a->out_path, a->image_path ? " and " : "",
               a->image_path ? a->image_path : "");
        return;
    }
    printf("{\"model\": ");
    cli_json_string(stdout, model_path);
    printf(", \"class\": %lld, \"class_name\": ", (long long)a->mo.target);
    if (cn)
        cli_json_string(stdout, cn);
    else
        printf("null");
    printf(", \"mode\": \"%s\", \"score\": \"%s\"", mode,
           a->mo.score == LRPX_MAX_SCORE_LOGPROB ||
                   (a->mo.score == LRPX_MAX_SCORE_AUTO && a->expert_spec)
               ? "log-prob" : "logit");
    printf(", \"iters\": %lld, \"step\": ", (long long)(n - 1));
    cli_put_number(stdout, a->mo.step, 9, "null");
    printf(", \"lambda\": ");
    cli_put_number(stdout, a->mo.lambda, 9, "null");
    printf(", \"seed\": %d", a->seed);
    if (ei) {
        printf(", \"expert\": {\"spec\": ");
        cli_json_string(stdout, a->expert_spec);
        printf(", \"examples\": %lld, \"rank\": %d, \"components\": %d, \"em_iterations\": %d, "
               "\"mean_log_lik\": ", (long long)ei->n_samples, ei->rank, ei->components,
               ei->n_iter);
        cli_put_number(stdout, ei->mean_log_lik, 9, "null");
        printf("}");
    }
    printf(", \"prototype\": ");
    cli_json_string(stdout, a->out_path);
    if (a->image_path) {
        printf(", \"image\": ");
        cli_json_string(stdout, a->image_path);
    }
    lrpx_tensor_view zv;
    if (lrpx_maximize_result_code(r, &zv) == LRPX_OK) {
        printf(", \"code\": ");
        cli_json_floats(stdout, &zv);
    }
    printf(", \"final\": ");
    json_step(&last);
    printf(", \"predicted_name\": ");
    if (pn)
        cli_json_string(stdout, pn);
    else
        printf("null");
    printf(", \"trajectory\": [");
    for (int64_t i = 0; i < n; i++) {
        lrpx_maximize_step st;
        lrpx_maximize_result_step(r, i, &st);
        printf(i ? ",\n  " : "\n  ");
        json_step(&st);
    }
    printf("]}\n");
}

static void
on_progress(void *user, int64_t done, int64_t total)
{
    struct cli_progress *p = user;
    (void)total;
    cli_progress_step(p, done - p->done);
}

/* The expert: parse, load DATA as the model's inputs, fit. */
static int
fit_expert(const struct prototype_args *a, const char *model_path, const lrpx_model *m,
           lrpx_density **out, lrpx_density_info *info)
{
    struct lrpx_density_options dop;
    const char                 *data;
    int rc = parse_expert(a->expert_spec, &dop, &data);
    if (rc != CLI_OK)
        return rc;
    dop.rank = a->expert_rank;
    if (!isnan(a->expert_reg))
        dop.reg = a->expert_reg;
    dop.seed = (uint64_t)a->seed;
    struct cli_prep prep;
    cli_prep_init(&prep);
    prep.preset = a->preprocess;
    struct cli_batch b;
    const char      *paths[1] = {data};
    if ((rc = cli_batch_load("prototype", m, model_path, a->mo.input_name, paths, 1, &prep, true,
                             &b)) != CLI_OK)
        return rc;
    char        err[1024];
    double      t0 = cli_now();
    lrpx_status st = lrpx_density_fit(&b.view, &dop, out, err, sizeof err);
    cli_batch_free(&b);
    if (st != LRPX_OK)
        return cli_error("prototype", "--expert %s: %s", a->expert_spec, err);
    lrpx_density_get_info(*out, info);
    cli_verbose("prototype", t0, "expert fit (%lld examples, rank %d, %d components)",
                (long long)info->n_samples, info->rank, info->components);
    return CLI_OK;
}

static int
parse(int argc, char **argv, struct prototype_args *a, const char **model_path)
{
    const char           *pos[2];
    int                   n_pos;
    struct cli_flag_group groups[] = {{.flags = prototype_flags, .ctx = a},
                                      cli_verbosity_group()};
    int                   n_groups = (int)(sizeof groups / sizeof groups[0]);
    int rc = cli_parse_flags("prototype", argc, argv, groups, n_groups, pos, 2, &n_pos);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "prototype", prototype_usage, groups, n_groups);
        return CLI_HELP;
    }
    if (rc != CLI_OK)
        return rc;
    if (n_pos != 1)
        return cli_usage_error("prototype", n_pos ? "one MODEL only (the prototype is made, not "
                               "read)" : "missing MODEL");
    *model_path = pos[0];
    if (a->cls < 0)
        return cli_usage_error("prototype", "missing --class K");
    a->mo.target = a->cls;
    if (!a->out_path)
        return cli_usage_error("prototype", "missing -o PROTO.npy");
    if (isnan(a->low) != isnan(a->high))
        return cli_usage_error("prototype", "--low and --high go together");
    if (!isnan(a->low) && !(a->low < a->high))
        return cli_usage_error("prototype", "--low %g must be below --high %g", a->low, a->high);
    if (a->no_box && !isnan(a->low))
        return cli_usage_error("prototype", "--no-box and --low/--high exclude each other");
    if (a->decoder_path && a->expert_spec)
        return cli_usage_error("prototype", "--expert and --decoder exclude each other");
    if (a->image_path) {
        const char *dot = strrchr(a->image_path, '.');
        if (!dot || (strcasecmp(dot, ".png") && strcasecmp(dot, ".jpg") &&
                     strcasecmp(dot, ".jpeg")))
            return cli_usage_error("prototype", "--image %s: the picture must be .png, .jpg or "
                                   ".jpeg", a->image_path);
    }
    if (a->expert_spec) {
        struct lrpx_density_options d;
        const char                 *data;
        if ((rc = parse_expert(a->expert_spec, &d, &data)) != CLI_OK)
            return rc;
        cli_guard_input(data, "the expert's examples");
    }
    cli_guard_input(a->decoder_path, "the decoder");
    double sv;
    if (a->start_path && !cli_parse_double(a->start_path, &sv))
        cli_guard_input(a->start_path, "the start point");
    cli_guard_input(a->preprocess, "the preprocessing file");
    return CLI_OK;
}

int
cmd_prototype(int argc, char **argv)
{
    struct prototype_args a;
    memset(&a, 0, sizeof a);
    lrpx_maximize_options_default(&a.mo);
    a.low = a.high = a.expert_reg = NAN;
    a.cls          = -1;
    const char *model_path = NULL;
    int         rc         = parse(argc, argv, &a, &model_path);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? CLI_OK : rc;
    a.mo.seed = (uint64_t)a.seed;

    lrpx_model   *m = NULL, *dm = NULL;
    lrpx_session *s = NULL, *ds = NULL;
    lrpx_density *expert = NULL;
    lrpx_npy     *start  = NULL;
    lrpx_maximize_result *r = NULL;
    char        **classes   = NULL;
    int           n_classes = 0;
    lrpx_density_info ei;
    double        t0 = cli_now();
    if (!(m = cli_load_model("prototype", model_path, false))) {
        rc = CLI_FAIL;
        goto done;
    }
    cli_guard_model(m, model_path);
    const char *outs[] = {"-o", a.out_path, "--image", a.image_path};
    if ((rc = cli_guard_outputs("prototype", outs, 2)) != CLI_OK)
        goto done;
    cli_verbose("prototype", t0, "load");
    float                  lo[LRPX_MAX_RANK * 2], hi[LRPX_MAX_RANK * 2];
    int                    n_box;
    struct lrpx_preprocess pp;
    if ((rc = input_box(&a, model_path, m, lo, hi, &n_box, &pp)) != CLI_OK)
        goto done;
    if (n_box) {
        a.mo.box_low_c  = lo;
        a.mo.box_high_c = hi;
        a.mo.n_box_c    = n_box;
    }
    a.mo.nhwc = pp.layout == LRPX_LAYOUT_NHWC;
    double sv;
    if (a.start_path && cli_parse_double(a.start_path, &sv)) {
        a.mo.start_value = sv;
    } else if (a.start_path) {
        char err[1024];
        if (lrpx_npy_read(a.start_path, &start, err, sizeof err) != LRPX_OK) {
            rc = cli_error("prototype", "--start %s", err);
            goto done;
        }
        if (start->dtype != LRPX_DTYPE_FLOAT32) {
            rc = cli_error("prototype", "--start %s: %s, expected float32", a.start_path,
                           lrpx_dtype_name(start->dtype));
            goto done;
        }
        a.mo.start = (lrpx_tensor_view){.dtype = start->dtype, .rank = start->rank,
                                        .n_elems = start->n_elems, .data = start->data};
        memcpy(a.mo.start.dims, start->dims, sizeof start->dims);
    }
    if (a.expert_spec) {
        if ((rc = fit_expert(&a, model_path, m, &expert, &ei)) != CLI_OK)
            goto done;
        a.mo.expert = expert;
    }
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("prototype", "%s", s ? lrpx_session_errmsg(s) : "out of memory");
        goto done;
    }
    if (a.decoder_path) {
        if (!(dm = cli_load_model("prototype", a.decoder_path, false))) {
            rc = CLI_FAIL;
            goto done;
        }
        if (lrpx_session_init(dm, &ds) != LRPX_OK) {
            rc = cli_error("prototype", "%s", ds ? lrpx_session_errmsg(ds) : "out of memory");
            goto done;
        }
        a.mo.decoder = ds;
    }
    struct cli_progress pr;
    cli_progress_start(&pr, "prototype", "steps", a.mo.iters);
    lrpx_session_set_progress(s, on_progress, &pr);
    t0             = cli_now();
    lrpx_status st = lrpx_session_maximize(s, &a.mo, &r);
    cli_progress_end(&pr);
    if (st != LRPX_OK) {
        rc = cli_error("prototype", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    cli_verbose("prototype", t0, "%d steps", a.mo.iters);
    lrpx_tensor_view x;
    lrpx_maximize_result_prototype(r, &x);
    if (a.image_path &&
        (rc = write_picture(&a, &x, a.mo.nhwc, pp.color == LRPX_COLOR_BGR, lo, hi,
                            n_box)) != CLI_OK)
        goto done;
    if ((rc = cli_write_npy("prototype", a.out_path, &x)) != CLI_OK)
        goto done;
    classes = cli_load_classes(model_path, &n_classes);
    report(&a, model_path, r, classes, n_classes, expert ? &ei : NULL);
done:
    cli_free_classes(classes, n_classes);
    lrpx_maximize_result_free(r);
    lrpx_session_free(ds);
    lrpx_model_free(dm);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_density_free(expert);
    lrpx_npy_free(start);
    return rc;
}
