/* lrpx preprocess IMAGE... -o X.npy: the exact tensor a model would
 * receive for these images, for inspection and for other tools. */
#include <stddef.h>
#include <string.h>

#include "cli.h"

static const char preprocess_usage[] =
    "usage: lrpx preprocess IMAGE|FOLDER... -o X.npy [--model MODEL]\n"
    "                       [--preprocess P] [flags]\n"
    "\n"
    "Decode the images (JPEG/PNG; a folder means all images in it, sorted),\n"
    "preprocess them and write the float32 batch (N images -> first axis N)\n"
    "that lrpx run/explain would feed. --model fills settings from the model:\n"
    "its MODEL.preprocess.json and its input shape (channels, layout, size).\n"
    "Prints the shape and the settings used.\n";

struct preprocess_args {
    const char *out_path, *model_path, *input_name;
};

#define ARG(field) offsetof(struct preprocess_args, field)
static const struct cli_flag preprocess_flags[] = {
    {"-o", NULL, "X.npy", "output (written atomically)", CLI_STRING, .off = ARG(out_path),
     .need = "a path"},
    {"--model", NULL, "MODEL", "ONNX model whose first input (or --input-name) is fed",
     CLI_STRING, .off = ARG(model_path), .need = "an ONNX file"},
    {"--input-name", NULL, "N", "which model input to prepare for", CLI_STRING,
     ARG(input_name), .need = "a name"},
    {NULL}};
#undef ARG

static const char *
color_name(lrpx_color c)
{
    return c == LRPX_COLOR_GRAY ? "gray" : c == LRPX_COLOR_BGR ? "bgr" : "rgb";
}

int
cmd_preprocess(int argc, char **argv)
{
    struct preprocess_args a = {NULL, NULL, NULL};
    const char            *paths[256];
    int                    n_paths;
    struct cli_prep        prep;
    cli_prep_init(&prep);
    struct cli_flag_group groups[] = {{.flags = preprocess_flags, .ctx = &a},
                                      cli_prep_group(&prep)};
    int                   n_groups = (int)(sizeof groups / sizeof groups[0]);
    int rc = cli_parse_flags("preprocess", argc, argv, groups, n_groups, paths,
                             (int)(sizeof paths / sizeof paths[0]), &n_paths);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "preprocess", preprocess_usage, groups, n_groups);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    const char *out_path = a.out_path, *model_path = a.model_path, *input_name = a.input_name;
    if (n_paths == 0)
        return cli_usage_error("preprocess", "missing IMAGE");
    if (!out_path)
        return cli_usage_error("preprocess", "missing -o X.npy");

    for (int i = 0; i < n_paths; i++)
        cli_guard_input(paths[i], "an input image");
    cli_guard_input(prep.preset, "the preprocessing file");
    lrpx_model *m = NULL;
    if (model_path && !(m = cli_load_model("preprocess", model_path, true)))
        return CLI_FAIL;
    if (model_path)
        cli_guard_model(m, model_path);
    if (cli_guard_output("preprocess", "-o", out_path) != CLI_OK) {
        lrpx_model_free(m);
        return CLI_USAGE;
    }
    struct cli_batch b;
    rc = cli_batch_load("preprocess", m, model_path, input_name, paths, n_paths, &prep, true,
                            &b);
    if (rc == CLI_OK && !b.is_image) {
        rc = cli_error("preprocess", "%s: not an image (this command prepares JPEG/PNG files)",
                       b.samples[0].path);
        cli_batch_free(&b);
    }
    if (rc != CLI_OK) {
        lrpx_model_free(m);
        return rc;
    }
    rc = cli_write_npy("preprocess", out_path, &b.view);
    if (rc == CLI_OK) {
        const struct lrpx_preprocess *p = &b.pp;
        printf("wrote %s float32 ", out_path);
        cli_print_dims(stdout, b.view.dims, b.view.rank);
        printf(" (%s, %s", b.layout == LRPX_LAYOUT_NHWC ? "NHWC" : "NCHW", color_name(p->color));
        if (p->resize == LRPX_RESIZE_SHORTER)
            printf(", shorter side %d", p->resize_shorter);
        else if (p->resize == LRPX_RESIZE_EXACT)
            printf(", resize %dx%d", p->resize_width, p->resize_height);
        if (p->crop_width > 0)
            printf(", crop %dx%d", p->crop_width, p->crop_height);
        printf(", scale %.9g", p->scale != 0.0 ? p->scale : 1.0);
        int nm = p->n_mean ? p->n_mean : 1;
        printf(", mean");
        for (int c = 0; c < nm; c++)
            printf(" %g", p->n_mean ? p->mean[c] : 0.0);
        printf(", std");
        for (int c = 0; c < nm; c++)
            printf(" %g", p->n_mean ? p->std[c] : 1.0);
        printf(")\n");
        for (int k = 0; k < b.n; k++)
            printf("  %d: %s (%dx%d -> %dx%d)\n", k, b.samples[k].path,
                   b.samples[k].geom.src_width, b.samples[k].geom.src_height,
                   b.samples[k].geom.width, b.samples[k].geom.height);
    }
    cli_batch_free(&b);
    lrpx_model_free(m);
    return rc;
}
