/* The lrpx command-line tool: a thin client of include/lrpx.h only. */
#ifndef LRPX_CLI_H
#define LRPX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "lrpx.h"

/* exit codes */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Report an error on stderr as "lrpx CMD: message" and return CLI_FAIL. */
int  cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a usage error (bad flags), returning CLI_USAGE. */
int  cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether argv[i] is flag (exact) and, for flags that take a value, fetch
 * it (advancing *i). Returns -1 when the value is missing. */
int  cli_flag_value(int argc, char **argv, int *i, const char *flag, const char **value);
bool cli_parse_int(const char *s, long long *out);
bool cli_parse_double(const char *s, double *out);

/* Load a model, printing the error on failure (NULL then). fold_bn 0 keeps
 * BatchNormalization nodes as they are (--no-fold-batchnorm). */
lrpx_model *cli_load_model(const char *cmd, const char *path, bool allow_unsupported);
lrpx_model *cli_load_model_ex(const char *cmd, const char *path, bool allow_unsupported,
                              bool fold_bn);

/* One named input file for a model. */
struct cli_input {
    const char *name;     /* NULL: the first fed input */
    const char *path;
};

/* The input files of a command line: positional INPUTs (name NULL) and
 * --input NAME=FILE, at most CLI_MAX_INPUTS. */
#define CLI_MAX_INPUTS 64
struct cli_inputs {
    struct cli_input list[CLI_MAX_INPUTS];
    char             names[CLI_MAX_INPUTS][256];
    int              n;
};
/* Append one input (name may be NULL); CLI_OK or the usage error printed. */
int  cli_input_add(const char *cmd, struct cli_inputs *in, const char *name, const char *path);
/* If argv[*i] is --input NAME=FILE, consume it and return 1 with *rc CLI_OK
 * or the usage error already printed; else 0. */
int  cli_input_flag(const char *cmd, int argc, char **argv, int *i, struct cli_inputs *in,
                    int *rc);
/* The usage errors for a missing MODEL or no INPUT; CLI_OK otherwise. */
int  cli_check_model_input(const char *cmd, const char *model_path, int n_inputs);

/* Read an input (a .npy array, a JPEG/PNG image or a folder of images,
 * default preprocessing) and set it on the session, adding a missing batch
 * dimension to arrays. Returns CLI_OK or prints the error. */
int  cli_set_input(const char *cmd, lrpx_session *s, const lrpx_model *m,
                   const struct cli_input *in);

/* Class names from "<model without .onnx>.json" ("class_names": [...]); NULL
 * if none. Free with cli_free_classes. */
char **cli_load_classes(const char *model_path, int *n_classes);
void   cli_free_classes(char **classes, int n);

/* Write a tensor view as .npy; prints the error on failure. */
int  cli_write_npy(const char *cmd, const char *path, const lrpx_tensor_view *v);
/* Print a float tensor as a JSON array (flat) to f. */
void cli_json_floats(FILE *f, const lrpx_tensor_view *v);
void cli_json_string(FILE *f, const char *s);
void cli_print_dims(FILE *f, const int64_t *dims, int rank);

/* ---- image inputs (src/cli/input.c) ---- */

/* Preprocessing chosen on the command line: --preprocess and the
 * individual flags. set holds only what flags gave ("unset" otherwise). */
struct cli_prep {
    const char            *preset;        /* --preprocess NAME or FILE.json  */
    struct lrpx_preprocess set;
    int                    n_mean, n_std; /* --mean / --std values given     */
    double                 mean[3], std[3];
    bool                   alpha_set;
    bool                   any_flag;
    bool                   no_model_file; /* ignore MODEL.preprocess.json     */
};
extern const char cli_prep_help[];
void cli_prep_init(struct cli_prep *p);
/* If argv[*i] is a preprocessing flag, consume it (and its value) and
 * return 1 with *rc CLI_OK or the usage error already printed; else 0. */
int  cli_prep_flag(const char *cmd, int argc, char **argv, int *i, struct cli_prep *p, int *rc);
/* "<model without .onnx>.preprocess.json" */
bool cli_model_preprocess_path(const char *model_path, char *buf, size_t size);
/* The settings for an input of m (m may be NULL): --preprocess, else the
 * model's preprocess file, else zero-one; then the flags; then (images
 * only) the input's shape, without its height/width when !fit_size.
 * *known: the settings describe the data (images, or anything given). */
int  cli_prep_resolve(const char *cmd, const struct cli_prep *p, const char *model_path,
                      const lrpx_model *m, const char *input_name, bool fit_size, bool image,
                      struct lrpx_preprocess *pp, bool *known);

/* One file of a batch. */
struct cli_sample {
    char               *path;
    lrpx_image         *photo;   /* decoded and upright; NULL for .npy       */
    lrpx_image         *seen;    /* after colour/resize/crop (0..255)        */
    lrpx_image_geometry geom;
};

/* The tensor for one model input and the files it came from. */
struct cli_batch {
    const char            *name;      /* input name, NULL: the first          */
    bool                   is_image;
    bool                   pp_known;
    struct lrpx_preprocess pp;        /* settings used (images) or given      */
    int                    n;         /* samples                              */
    struct cli_sample     *samples;
    lrpx_tensor_view       view;      /* data points at data                  */
    void                  *data;
    lrpx_layout            layout;    /* UNSET for arrays without settings    */
};

/* Load files (each a .npy, JPEG or PNG, or a folder of images) into one
 * batch for input `name`. fit_size 0 keeps the images' size (--window). */
int  cli_batch_load(const char *cmd, const lrpx_model *m, const char *model_path,
                    const char *name, const char *const *paths, int n_paths,
                    const struct cli_prep *prep, bool fit_size, struct cli_batch *b);
int  cli_batch_set(const char *cmd, lrpx_session *s, const struct cli_batch *b);
void cli_batch_free(struct cli_batch *b);
void cli_batches_free(struct cli_batch *bs, int n);
/* All inputs: files with the same name (NULL: the first input) make one
 * batch. set: put them on the session. batches (may be NULL) receives the
 * loaded batches (free with cli_batches_free). prep NULL: defaults. */
int  cli_set_inputs(const char *cmd, lrpx_session *s, const lrpx_model *m, const char *model_path,
                    const struct cli_input *inputs, int n_inputs, const struct cli_prep *prep,
                    bool set, bool fit, struct cli_batch **batches, int *n_batches);
/* z^B bounds of the batch's preprocessing (black and white pixels) into
 * o's per-channel box when o has none; low/high hold cap floats. */
bool cli_box_defaults(const struct cli_batch *b, struct lrpx_lrp_options *o, float *low,
                      float *high, int cap);

/* ---- heatmaps, grids and tricks for explain/gradient (src/cli/viz.c) ---- */

#define CLI_VIZ_MAX 32
struct cli_viz {
    struct cli_prep   prep;
    const char       *heatmap, *grid, *cmap;
    double            clip, gamma, overlay;        /* overlay < 0: off        */
    lrpx_heat_reduce  reduce;
    bool              panel, original_geometry;
    int               jpeg_quality;
    int               zoom;                        /* --heatmap enlargement  */
    int               translate;
    lrpx_shift_pad    pad;
    bool              window;
    int               win_w, win_h, stride_x, stride_y;
    int               n_composites, n_targets;     /* seen on the command line */
    const char       *composites[CLI_VIZ_MAX];
    int64_t           targets[CLI_VIZ_MAX];
    /* after cli_viz_inputs / cli_viz_explain */
    struct cli_batch *batches;
    int               n_batches;
    float             box_low[3], box_high[3];
    float            *map;                         /* trick map, or NULL     */
    lrpx_tensor_view  map_view;
    lrpx_attr_method  map_method;
};
extern const char cli_viz_help[];
void        cli_viz_init(struct cli_viz *v);
void        cli_viz_free(struct cli_viz *v);
/* Record --composite / --target values at argv[i] (does not consume). */
void        cli_viz_observe(int argc, char **argv, int i, struct cli_viz *v);
/* Consume a picture, trick or preprocessing flag (see cli_prep_flag). */
int         cli_viz_flag(const char *cmd, int argc, char **argv, int *i, struct cli_viz *v,
                         int *rc);
int         cli_viz_check(const char *cmd, struct cli_viz *v);
bool        cli_viz_trick(const struct cli_viz *v);
/* Load and set the inputs (not set with --window); fill o's z^B bounds
 * from the image settings when o (may be NULL) has none. */
int         cli_viz_inputs(const char *cmd, lrpx_session *s, const lrpx_model *m,
                           const char *model_path, const struct cli_input *inputs,
                           int n_inputs, struct cli_viz *v, struct lrpx_lrp_options *o);
/* The explanation pass: plain, or with --translate / --window (the map
 * is kept in v; the message of a failure is on the session). */
lrpx_status cli_viz_explain(lrpx_session *s, const struct lrpx_lrp_options *o,
                            struct cli_viz *v, lrpx_attr_method method);
/* Replace *map by the trick map when there is one. */
int         cli_viz_map(const char *cmd, struct cli_viz *v, lrpx_tensor_view *map);
/* --heatmap: render and write (nothing is written on failure). */
int         cli_viz_heatmap(const char *cmd, struct cli_viz *v, const lrpx_tensor_view *map);
/* --grid: explain again per composite and target, lay out and write. */
int         cli_viz_grid(const char *cmd, lrpx_session *s, const lrpx_model *m,
                         const char *model_path, const struct lrpx_lrp_options *o,
                         struct cli_viz *v, lrpx_attr_method method);

int cmd_preprocess(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_gradient(int argc, char **argv);

#endif /* LRPX_CLI_H */
