/* lrpx run MODEL INPUT: forward pass, top-K classes or JSON of all
 * outputs, outputs saved as .npy. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char run_usage[] =
    "usage: lrpx run MODEL INPUT... [--input NAME=FILE]... [-o OUT.npy | -o DIR]\n"
    "                [--top K] [--json] [--preprocess P | image flags]\n"
    "\n"
    "Run the model's forward pass. INPUT is a NumPy .npy file (float32, or\n"
    "float64 converted; a missing batch dimension is added), a JPEG/PNG image\n"
    "or a folder of images, for the first input; several INPUTs make one\n"
    "batch. Models with several inputs take --input NAME=FILE for each.\n"
    "The samples run --batch N at a time (default: the model's fixed batch\n"
    "size, else 32 for model files under 100 MB and 8 above); the outputs\n"
    "are those of one pass over all of them.\n";

struct run_args {
    const char *out_path;
    int         top, batch;
    bool        json, fold_bn;
};

#define ARG(field) offsetof(struct run_args, field)
static const struct cli_flag run_flags[] = {
    {"-o", NULL, "OUT.npy|DIR",
     "write the first output, or every output as\n"
     "DIR/<output name>.npy",
     CLI_STRING, .off = ARG(out_path), .need = "a path"},
    {"--top", NULL, "K", "print the K best classes of the first output (default 5)", CLI_INT,
     ARG(top), .lo = 1, .hi = 1000000, .need = "a positive whole number"},
    {"--json", NULL, NULL, "print every output as JSON instead", CLI_TRUE, .off = ARG(json)},
    {"--batch", NULL, "N",
     "run N samples per pass and print the samples per\n"
     "second (default: see above)",
     CLI_INT, ARG(batch), .lo = 1, .hi = 1 << 20, .need = "a positive whole number"},
    {"--no-fold-batchnorm", NULL, NULL,
     "run BatchNormalization nodes as they are instead\n"
     "of merging them into the preceding Conv/Gemm",
     CLI_FALSE, .off = ARG(fold_bn)},
    {NULL}};
#undef ARG

/* Output names may contain '/' or ':'; keep file names plain. */
static void
safe_name(const char *name, char *out, size_t size)
{
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < size; p++)
        out[k++] = (*p == '/' || *p == '\\' || *p == ':' || (p == name && *p == '.')) ? '_' : *p;
    out[k] = '\0';
    if (k == 0)
        snprintf(out, size, "output");
}

static void
print_top(const lrpx_tensor_view *v, int top, char **classes, int n_classes)
{
    int64_t batch   = v->rank >= 2 ? v->dims[0] : 1;
    int64_t n_class = batch ? v->n_elems / batch : 0;
    if (top > n_class)
        top = (int)n_class;
    int64_t *idx = malloc((size_t)(n_class ? n_class : 1) * sizeof *idx);
    if (!idx)
        return;
    for (int64_t b = 0; b < batch; b++) {
        const float *row = (const float *)v->data + b * n_class;
        for (int64_t k = 0; k < n_class; k++)
            idx[k] = k;
        /* partial selection sort: top is small */
        for (int t = 0; t < top; t++)
            for (int64_t k = t + 1; k < n_class; k++)
                if (row[idx[k]] > row[idx[t]]) {
                    int64_t s = idx[t];
                    idx[t]    = idx[k];
                    idx[k]    = s;
                }
        if (batch > 1)
            printf("sample %lld:\n", (long long)b);
        for (int t = 0; t < top; t++) {
            printf("  %2d. class %-5lld %12.6g", t + 1, (long long)idx[t], row[idx[t]]);
            if (classes && idx[t] < n_classes)
                printf("  %s", classes[idx[t]]);
            putchar('\n');
        }
    }
    free(idx);
}

/* Output i: of the chunked run when there was one, else the session's. */
static void
run_output(const lrpx_session *s, const lrpx_tensor_view *outs, int i, lrpx_tensor_view *v)
{
    if (outs)
        *v = outs[i];
    else
        lrpx_session_output(s, i, v);
}

/* The outputs of the model over every sample of the batches, `chunk`
 * samples (rows of axis 0 of every input) per pass, joined along axis 0
 * into outs[] (data malloc'ed, freed by the caller). */
static int
run_chunked(lrpx_session *s, const lrpx_model *m, const struct cli_batch *bs, int nb,
            int64_t n, int64_t chunk, lrpx_tensor_view *outs)
{
    int    n_out = lrpx_model_n_outputs(m), rc = CLI_OK;
    double t0    = cli_now();
    for (int64_t r0 = 0; r0 < n && rc == CLI_OK; r0 += chunk) {
        const int64_t rows = n - r0 < chunk ? n - r0 : chunk;
        for (int k = 0; k < nb; k++) {
            const lrpx_tensor_view *v   = &bs[k].view;
            const int64_t           per = v->n_elems / v->dims[0];
            int64_t                 dims[LRPX_MAX_RANK];
            memcpy(dims, v->dims, sizeof dims);
            dims[0] = rows;
            if (lrpx_session_set_input(s, bs[k].name, v->dtype, v->rank, dims,
                                       (const char *)v->data +
                                           (size_t)(r0 * per) * lrpx_dtype_size(v->dtype)) !=
                LRPX_OK)
                return cli_error("run", "samples %lld to %lld: %s", (long long)r0,
                                 (long long)(r0 + rows - 1), lrpx_session_errmsg(s));
        }
        if (lrpx_session_run(s) != LRPX_OK)
            return cli_error("run", "%s", lrpx_session_errmsg(s));
        for (int i = 0; i < n_out; i++) {
            lrpx_tensor_view v;
            lrpx_session_output(s, i, &v);
            if (v.rank < 1 || v.dims[0] != rows)
                return cli_error("run", "--batch: output %d does not have the samples on its "
                                 "first axis; run the inputs at once (--batch %lld)", i,
                                 (long long)n);
            const size_t row_bytes = (size_t)(v.n_elems / rows) * lrpx_dtype_size(v.dtype);
            if (r0 == 0) {
                outs[i]         = v;
                outs[i].dims[0] = n;
                outs[i].n_elems = v.n_elems / rows * n;
                outs[i].data    = malloc(row_bytes * (size_t)n + 1);
                if (!outs[i].data)
                    return cli_error("run", "out of memory for the outputs");
            }
            memcpy((char *)outs[i].data + row_bytes * (size_t)r0, v.data, row_bytes * (size_t)rows);
        }
    }
    cli_chunk_notice("run", n, cli_now() - t0, chunk);
    return rc;
}

int
cmd_run(int argc, char **argv)
{
    struct run_args   a  = {.top = 5, .fold_bn = true};
    struct cli_inputs in = {.n = 0};
    struct cli_prep   prep;
    cli_prep_init(&prep);
    const char           *model_path = NULL;
    struct cli_flag_group groups[]   = {{.flags = run_flags, .ctx = &a}, cli_input_group(&in),
                                        cli_prep_group(&prep)};
    int                   n_groups   = (int)(sizeof groups / sizeof groups[0]);
    int rc = cli_parse_model_inputs("run", argc, argv, groups, n_groups, &in, &model_path);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "run", run_usage, groups, n_groups);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    const char *out_path = a.out_path;
    if (cli_check_model_input("run", model_path, in.n) != CLI_OK)
        return CLI_USAGE;

    lrpx_model *m = cli_load_model_ex("run", model_path, false, a.fold_bn);
    if (!m)
        return CLI_FAIL;
    cli_guard_model(m, model_path);
    cli_guard_inputs(&in);
    cli_guard_input(prep.preset, "the preprocessing file");
    if (cli_guard_output("run", "-o", out_path) != CLI_OK) {
        lrpx_model_free(m);
        return CLI_USAGE;
    }
    lrpx_session     *s    = NULL;
    struct cli_batch *bs   = NULL;
    int               nb   = 0;
    lrpx_tensor_view *outs = NULL;     /* joined outputs of a chunked run */
    if (lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("run", "%s", lrpx_session_errmsg(s));
        goto done;
    }
    /* only the outputs are read: activations share buffers */
    lrpx_session_set_keep(s, LRPX_KEEP_OUTPUTS);
    rc = cli_set_inputs("run", s, m, model_path, in.list, in.n, &prep, false, true, &bs, &nb);
    if (rc != CLI_OK)
        goto done;
    /* the samples: axis 0 of every input, when they agree */
    int64_t n_samp = nb > 0 && bs[0].view.rank >= 1 ? bs[0].view.dims[0] : 0;
    for (int k = 1; k < nb; k++)
        if (bs[k].view.rank < 1 || bs[k].view.dims[0] != n_samp)
            n_samp = 0;
    int64_t chunk = a.batch > 0 ? a.batch : cli_default_chunk(m, model_path, false);
    double  t0    = cli_now();
    if (n_samp > chunk) {
        outs = calloc((size_t)lrpx_model_n_outputs(m) + 1, sizeof *outs);
        if (!outs) {
            rc = cli_error("run", "out of memory");
            goto done;
        }
        if ((rc = run_chunked(s, m, bs, nb, n_samp, chunk, outs)) != CLI_OK)
            goto done;
    } else {
        for (int k = 0; k < nb && rc == CLI_OK; k++)
            rc = cli_batch_set("run", s, &bs[k]);
        if (rc != CLI_OK)
            goto done;
        if (lrpx_session_run(s) != LRPX_OK) {
            rc = cli_error("run", "%s", lrpx_session_errmsg(s));
            goto done;
        }
        if (a.batch > 0)
            cli_chunk_notice("run", n_samp, cli_now() - t0, n_samp);
    }
    cli_verbose("run", t0, "forward pass:");

    int n_out = lrpx_model_n_outputs(m);
    if (out_path) {
        size_t l = strlen(out_path);
        if (l > 4 && strcmp(out_path + l - 4, ".npy") == 0) {
            lrpx_tensor_view v;
            run_output(s, outs, 0, &v);
            rc = cli_write_npy("run", out_path, &v);
        } else {
            if (mkdir(out_path, 0777) != 0 && errno != EEXIST) {
                rc = cli_error("run", "%s: cannot create folder: %s", out_path, strerror(errno));
                goto done;
            }
            for (int i = 0; i < n_out && rc == CLI_OK; i++) {
                lrpx_tensor_view v;
                lrpx_value_info  vi;
                run_output(s, outs, i, &v);
                lrpx_model_output_info(m, i, &vi);
                char name[256], path[4096];
                safe_name(vi.name, name, sizeof name);
                snprintf(path, sizeof path, "%s/%s.npy", out_path, name);
                rc = cli_write_npy("run", path, &v);
            }
        }
        if (rc != CLI_OK)
            goto done;
    }
    if (a.json) {
        printf("{\"outputs\": [");
        for (int i = 0; i < n_out; i++) {
            lrpx_tensor_view v;
            lrpx_value_info  vi;
            run_output(s, outs, i, &v);
            lrpx_model_output_info(m, i, &vi);
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_string(stdout, vi.name);
            printf(", \"dtype\": \"%s\", \"shape\": ", lrpx_dtype_name(v.dtype));
            cli_print_dims(stdout, v.dims, v.rank);
            printf(", \"data\": ");
            cli_json_floats(stdout, &v);
            printf("}");
        }
        printf("]}\n");
    } else {
        lrpx_tensor_view v;
        run_output(s, outs, 0, &v);
        if (v.dtype == LRPX_DTYPE_FLOAT32) {
            int    n_classes = 0;
            char **classes   = cli_load_classes(model_path, &n_classes);
            print_top(&v, a.top, classes, n_classes);
            cli_free_classes(classes, n_classes);
        } else {
            printf("output 0: %s ", lrpx_dtype_name(v.dtype));
            cli_print_dims(stdout, v.dims, v.rank);
            putchar('\n');
        }
    }
done:
    if (outs)
        for (int i = 0; i < lrpx_model_n_outputs(m); i++)
            free((void *)outs[i].data);
    free(outs);
    cli_batches_free(bs, nb);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
