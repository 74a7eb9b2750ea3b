/* lrpx info MODEL: inputs, outputs, opset, op histogram, parameters, and
 * which ops are not supported. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char info_usage[] =
    "usage: lrpx info MODEL [--passes] [--json]\n"
    "\n"
    "Show a model's inputs and outputs (with symbolic dimensions), its opset,\n"
    "the number of parameters, how often each operator occurs, and whether\n"
    "lrpx supports every operator (listing those it does not).\n"
    "Exit status: 0 when every operator is supported, 1 otherwise or on error.\n";

struct info_args {
    bool json, fold_bn, passes;
};

#define ARG(field) offsetof(struct info_args, field)
static const struct cli_flag info_flags[] = {
    {"--passes", NULL, NULL,
     "also show the graph after lrpx's passes (constant\n"
     "folding, dead-node removal): node count and histogram",
     CLI_TRUE, .off = ARG(passes)},
    {"--json", NULL, NULL, "machine-readable output", CLI_TRUE, .off = ARG(json)},
    {"--no-fold-batchnorm", NULL, NULL, "keep BatchNormalization nodes (no folding pass)",
     CLI_FALSE, .off = ARG(fold_bn)},
    {NULL}};
#undef ARG

struct op_count {
    const char *op;
    int         count;
    int         supported;
};

static int
histogram(const lrpx_model *m, int after, struct op_count **out)
{
    int              n   = lrpx_model_n_nodes(m, after);
    struct op_count *h   = calloc((size_t)n + 1, sizeof *h);
    int              n_h = 0;
    for (int i = 0; h && i < n; i++) {
        lrpx_node_info ni;
        lrpx_model_node_info(m, after, i, &ni);
        int j = 0;
        while (j < n_h && strcmp(h[j].op, ni.op_type) != 0)
            j++;
        if (j == n_h) {
            h[n_h].op        = ni.op_type;
            h[n_h].supported = ni.supported;
            n_h++;
        }
        h[j].count++;
    }
    /* most frequent first, then by name */
    for (int a = 0; a < n_h; a++)
        for (int b = a + 1; b < n_h; b++)
            if (h[b].count > h[a].count ||
                (h[b].count == h[a].count && strcmp(h[b].op, h[a].op) < 0)) {
                struct op_count t = h[a];
                h[a] = h[b];
                h[b] = t;
            }
    *out = h;
    return h ? n_h : 0;
}

static void
print_value(FILE *f, const lrpx_value_info *vi, bool json)
{
    if (json) {
        fputs("{\"name\": ", f);
        cli_json_string(f, vi->name);
        fprintf(f, ", \"dtype\": \"%s\", \"shape\": ", lrpx_dtype_name(vi->dtype));
        if (vi->rank < 0) {
            fputs("null}", f);
            return;
        }
        fputc('[', f);
        for (int k = 0; k < vi->rank; k++) {
            if (k)
                fputs(", ", f);
            if (vi->dims[k] >= 0)
                fprintf(f, "%lld", (long long)vi->dims[k]);
            else if (vi->dim_params[k])
                cli_json_string(f, vi->dim_params[k]);
            else
                fputs("null", f);
        }
        fputs("]}", f);
        return;
    }
    fprintf(f, "  %-24s %-8s ", vi->name, lrpx_dtype_name(vi->dtype));
    if (vi->rank < 0) {
        fputs("(shape unknown)\n", f);
        return;
    }
    fputc('[', f);
    for (int k = 0; k < vi->rank; k++) {
        if (k)
            fputs(", ", f);
        if (vi->dims[k] >= 0)
            fprintf(f, "%lld", (long long)vi->dims[k]);
        else
            fputs(vi->dim_params[k] ? vi->dim_params[k] : "?", f);
    }
    fputs("]\n", f);
}

int
cmd_info(int argc, char **argv)
{
    struct info_args      a = {.fold_bn = true};
    const char           *path;
    int                   n_pos;
    struct cli_flag_group groups[] = {{.flags = info_flags, .ctx = &a}};
    int rc = cli_parse_flags("info", argc, argv, groups, 1, &path, 1, &n_pos);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "info", info_usage, groups, 1);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (n_pos == 0)
        return cli_usage_error("info", "missing MODEL");
    bool json = a.json, fold_bn = a.fold_bn, passes = a.passes;
    lrpx_model *m = cli_load_model_ex("info", path, true, fold_bn);
    if (!m)
        return CLI_FAIL;

    struct op_count *h0 = NULL, *h1 = NULL;
    int              n0 = histogram(m, 0, &h0);
    int              n1 = passes ? histogram(m, 1, &h1) : 0;
    int              n_unsup = 0;
    for (int j = 0; j < n0; j++)
        n_unsup += !h0[j].supported;

    FILE *f = stdout;
    if (json) {
        fputs("{\"model\": ", f);
        cli_json_string(f, path);
        fprintf(f, ", \"opset\": %lld, \"parameters\": %lld, \"inputs\": [",
                (long long)lrpx_model_opset(m), (long long)lrpx_model_n_params(m));
        for (int i = 0; i < lrpx_model_n_inputs(m); i++) {
            lrpx_value_info vi;
            lrpx_model_input_info(m, i, &vi);
            if (i)
                fputs(", ", f);
            print_value(f, &vi, true);
        }
        fputs("], \"outputs\": [", f);
        for (int i = 0; i < lrpx_model_n_outputs(m); i++) {
            lrpx_value_info vi;
            lrpx_model_output_info(m, i, &vi);
            if (i)
                fputs(", ", f);
            print_value(f, &vi, true);
        }
        fprintf(f, "], \"nodes\": %d, \"ops\": {", lrpx_model_n_nodes(m, 0));
        for (int j = 0; j < n0; j++) {
            if (j)
                fputs(", ", f);
            cli_json_string(f, h0[j].op);
            fprintf(f, ": %d", h0[j].count);
        }
        fputs("}, \"unsupported\": [", f);
        for (int j = 0, k = 0; j < n0; j++)
            if (!h0[j].supported) {
                if (k++)
                    fputs(", ", f);
                cli_json_string(f, h0[j].op);
            }
        fputc(']', f);
        if (passes) {
            fprintf(f, ", \"after_passes\": {\"nodes\": %d, \"ops\": {", lrpx_model_n_nodes(m, 1));
            for (int j = 0; j < n1; j++) {
                if (j)
                    fputs(", ", f);
                cli_json_string(f, h1[j].op);
                fprintf(f, ": %d", h1[j].count);
            }
            fputs("}}", f);
        }
        fputs("}\n", f);
    } else {
        fprintf(f, "model:      %s\n", path);
        fprintf(f, "opset:      %lld\n", (long long)lrpx_model_opset(m));
        fprintf(f, "parameters: %lld\n", (long long)lrpx_model_n_params(m));
        fprintf(f, "inputs:\n");
        for (int i = 0; i < lrpx_model_n_inputs(m); i++) {
            lrpx_value_info vi;
            lrpx_model_input_info(m, i, &vi);
            print_value(f, &vi, false);
        }
        fprintf(f, "outputs:\n");
        for (int i = 0; i < lrpx_model_n_outputs(m); i++) {
            lrpx_value_info vi;
            lrpx_model_output_info(m, i, &vi);
            print_value(f, &vi, false);
        }
        fprintf(f, "nodes:      %d\n", lrpx_model_n_nodes(m, 0));
        for (int j = 0; j < n0; j++)
            fprintf(f, "  %-28s %5d%s\n", h0[j].op, h0[j].count,
                    h0[j].supported ? "" : "   (not supported)");
        if (passes) {
            fprintf(f, "after passes (constant folding, dead-node removal): %d nodes\n",
                    lrpx_model_n_nodes(m, 1));
            for (int j = 0; j < n1; j++)
                fprintf(f, "  %-28s %5d\n", h1[j].op, h1[j].count);
        }
        if (n_unsup) {
            fprintf(f, "supported:  no, %d operator type%s not supported:", n_unsup,
                    n_unsup > 1 ? "s are" : " is");
            for (int j = 0; j < n0; j++)
                if (!h0[j].supported)
                    fprintf(f, " %s", h0[j].op);
            fputc('\n', f);
        } else {
            fprintf(f, "supported:  yes, every operator\n");
        }
    }
    free(h0);
    free(h1);
    lrpx_model_free(m);
    return n_unsup ? CLI_FAIL : CLI_OK;
}
