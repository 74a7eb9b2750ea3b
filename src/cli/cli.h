/* The lrpx command-line tool: a thin client of include/lrpx.h only. */
#ifndef LRPX_CLI_H
#define LRPX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "lrpx.h"

/* exit codes (CLI_HELP: cli_parse_flags saw --help; the command prints its
 * help and exits 0) */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_HELP = 3 };

/* Report an error on stderr as "lrpx CMD: message" and return CLI_FAIL. */
int  cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a usage error (bad flags), returning CLI_USAGE. */
int  cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- flags (src/cli/flags.c): one table per group of flags ---- */

/* How a flag's value is checked and stored at its field (ctx + off). */
enum cli_flag_type {
    CLI_TRUE,     /* switch: bool field = true                            */
    CLI_FALSE,    /* switch: bool field = false                           */
    CLI_SET,      /* switch: int field = .set                             */
    CLI_STRING,   /* const char * field = the value                       */
    CLI_INT,      /* int field, whole number in [lo, hi]                  */
    CLI_DOUBLE,   /* double field, finite number in [lo, hi]              */
    CLI_CHOICE,   /* int field = the value of the matching .choices name  */
    CLI_CALL,     /* .call(ctx, value, msg, size): CLI_OK, CLI_USAGE (bad
                     value) or CLI_FAIL (e.g. a file it reads); msg may say
                     why. No value is taken (NULL) when .arg is NULL      */
};
struct cli_choice {
    const char *name;
    int         value;
};
struct cli_flag {
    const char             *name, *alias;  /* "--color", "--colour"        */
    const char             *arg;           /* value's name in --help; NULL: switch */
    const char             *help;          /* lines separated by '\n'; NULL: hidden */
    enum cli_flag_type      type;
    size_t                  off;           /* offsetof the field in ctx    */
    double                  lo, hi;        /* CLI_INT, CLI_DOUBLE           */
    const struct cli_choice *choices;      /* CLI_CHOICE, ends with {NULL}  */
    int                     set;           /* CLI_SET                       */
    int (*call)(void *ctx, const char *value, char *msg, size_t size);
    const char             *need;          /* "--x needs <need>"; NULL: from type */
};
/* A table (ends with an entry whose name is NULL) and the struct its
 * offsets point into. seen (may be NULL) is set when any of its flags was
 * given; title and footer frame its part of --help. skip (may be NULL):
 * space-separated names of flags of the table this command does not take
 * from it (a shared table whose flag the command defines otherwise). */
struct cli_flag_group {
    const struct cli_flag *flags;
    void                  *ctx;
    bool                  *seen;
    const char            *title, *footer;
    const char            *skip;
};
/* Parse argv[1..] against the groups; other arguments are positional (at
 * most max_positional, in order). Returns CLI_OK, CLI_HELP for --help/-h,
 * or CLI_USAGE with the error printed. */
int  cli_parse_flags(const char *cmd, int argc, char **argv, const struct cli_flag_group *groups,
                     int n_groups, const char **positional, int max_positional,
                     int *n_positional);
/* The options part of --help, from the same tables. */
void cli_print_flags(FILE *out, const struct cli_flag_group *groups, int n_groups);

/* ---- help text and man pages (src/cli/help.c) ----
 * Every command prints its help through these, as text for --help or as
 * a man page for the hidden --help-man (cli_parse_flags turns that on);
 * meson makes lrpx(1) and lrpx-COMMAND(1) from it at build time. */
#define CLI_HELP_COL 22                  /* the column of a flag's help  */
void cli_help_set_man(bool on);
bool cli_help_is_man(void);
/* "usage: lrpx CMD ...\n  ...\n\nDescription...": synopsis lines up to
 * the first blank line, then paragraphs. cmd NULL: lrpx itself. */
void cli_help_usage(FILE *f, const char *cmd, const char *usage);
/* "  TERM   text" with text at column col; '\n' in text continues it. */
void cli_help_item(FILE *f, const char *term, const char *text, int col);
void cli_help_section(FILE *f, const char *title);
void cli_help_text(FILE *f, const char *text);
/* Man pages only: exit status, environment, see also. */
void cli_help_end(FILE *f, const char *cmd);
/* usage, the flag tables, the end: the whole help of a plain command. */
void cli_print_help(FILE *f, const char *cmd, const char *usage,
                    const struct cli_flag_group *groups, int n_groups);

/* ---- output habits (src/cli/progress.c) ---- */

/* --quiet / --verbose, one process-wide setting: every command adds
 * cli_verbosity_group() to its flag groups. */
struct cli_verbosity {
    bool quiet, verbose;
};
extern struct cli_verbosity cli_verbosity;
struct cli_flag_group cli_verbosity_group(void);
double cli_now(void);                    /* monotonic seconds                */
/* stderr is a terminal and NO_COLOR is unset or empty */
bool   cli_color(void);
/* --verbose: "lrpx CMD: <what> N ms" with the time since `since`. */
void   cli_verbose(const char *cmd, double since, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A notice on stderr unless --quiet. */
void   cli_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A progress bar over total items, on stderr only when it is a terminal
 * (and not --quiet): "CMD: LABEL done/total [####....] m:ss left".
 * cli_progress_end erases it. */
struct cli_progress {
    const char *cmd, *label;
    int64_t     total, done;
    double      t0, last;
    bool        on, color;
};
void cli_progress_start(struct cli_progress *p, const char *cmd, const char *label,
                        int64_t total);
void cli_progress_step(struct cli_progress *p, int64_t n);
void cli_progress_end(struct cli_progress *p);
/* Erase the bar on the screen, if any (before an error message). */
void cli_progress_clear(void);

/* The commands (src/cli/main.c): the i-th name (NULL past the end) and
 * the one-line summary of a command (NULL: of lrpx itself). */
const char *cli_command_name(int i);
const char *cli_command_summary(const char *cmd);
/* fopen(path, "rb") of a regular file only, never blocking on a FIFO or a
 * device (errno EISDIR or EINVAL otherwise). */
FILE *cli_fopen_regular(const char *path);
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

/* The input files of a command line: positional INPUTs (name NULL) first,
 * then each --input NAME=FILE, at most CLI_MAX_INPUTS. */
#define CLI_MAX_INPUTS 64
struct cli_inputs {
    struct cli_input list[CLI_MAX_INPUTS];
    char             names[CLI_MAX_INPUTS][256];
    int              n, n_names;
};
/* The --input NAME=FILE flag, appending to in. */
struct cli_flag_group cli_input_group(struct cli_inputs *in);
/* Put the positional INPUT paths before the named ones; CLI_OK or the usage
 * error printed. */
int  cli_inputs_positional(const char *cmd, struct cli_inputs *in, const char *const *paths,
                           int n);
/* cli_parse_flags for commands of the form MODEL INPUT...: *model is the
 * first positional argument (NULL if none), the others are INPUTs. */
int  cli_parse_model_inputs(const char *cmd, int argc, char **argv,
                            const struct cli_flag_group *groups, int n_groups,
                            struct cli_inputs *in, const char **model);
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
void cli_json_string_or_null(FILE *f, const char *s);       /* NULL: null */
/* s as a JSON string literal, quotes included (malloc'd; NULL: no memory). */
char *cli_json_quoted(const char *s);
/* v with digits significant digits, or the text nonfinite ("null" in
 * JSON) for NaN and infinities. */
void cli_put_number(FILE *f, double v, int digits, const char *nonfinite);
/* A CSV field, quoted (RFC 4180) when it holds a comma, quote or newline. */
void cli_csv_field(FILE *f, const char *s);
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
void cli_prep_init(struct cli_prep *p);
/* The preprocessing flags, storing into p. */
struct cli_flag_group cli_prep_group(struct cli_prep *p);
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
/* Rows [r0, r0 + rows) of axis 0 of every batch on the session (one pass
 * of --batch); n is the rows of all. CLI_OK or the error printed. */
int  cli_batches_set_rows(const char *cmd, lrpx_session *s, const struct cli_batch *bs, int nb,
                          int64_t r0, int64_t rows, int64_t n);
/* z^B bounds of the batch's preprocessing (black and white pixels) into
 * o's per-channel box when o has none; low/high hold cap floats. */
bool cli_box_defaults(const struct cli_batch *b, struct lrpx_lrp_options *o, float *low,
                      float *high, int cap);

/* ---- samples per pass (src/cli/chunk.c) ---- */

/* --batch's default for model m (file model_path): the model's fixed
 * batch size, else by the file's size: run 32 (8 from 100 MB), explain and
 * gradient 8 (1 from 100 MB; they keep every activation of a pass). */
int64_t cli_default_chunk(const lrpx_model *m, const char *model_path, bool explain);
/* The samples of the batches: axis 0 of every input when they agree,
 * else 0 (one pass). */
int64_t cli_batches_rows(const struct cli_batch *bs, int nb);
/* "lrpx CMD: S samples in T s, X per second (N per pass)" on stderr
 * unless --quiet. */
void    cli_chunk_notice(const char *cmd, int64_t n, double sec, int64_t per_pass);

/* ---- heatmaps, grids and tricks for explain/gradient (src/cli/viz.c) ---- */

#define CLI_VIZ_MAX 32
/* What a pass reported for one sample. */
struct cli_viz_sample {
    bool             has_report, has_output;
    lrpx_attr_report rep;                          /* the method's report    */
    int64_t          cls;                          /* explained output       */
    double           value;
};
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
    int               n_methods;                   /* --method, in order      */
    lrpx_attr_method  methods[CLI_VIZ_MAX];
    int               batch;                       /* --batch (0: default)   */
    bool              one_pass;                    /* the first pass is enough
                                                      (--print-rules)        */
    /* values whose relevance cli_viz_explain keeps (--layer), joined over
     * the passes into kept[i] (data NULL: no relevance reached it) */
    const char      **keep;
    int               n_keep;
    lrpx_tensor_view *kept;
    /* after cli_viz_inputs / cli_viz_explain */
    struct cli_batch *batches;
    int               n_batches;
    int64_t           n_rows;                      /* samples (0: one pass)  */
    int64_t           per_pass;                    /* samples per pass       */
    float             box_low[3], box_high[3];
    float            *map;                         /* trick or joined map    */
    lrpx_tensor_view  map_view;                    /* the map of the pass(es) */
    const char       *cmd;                         /* for the progress bar   */
    struct cli_viz_sample *smp;                    /* per sample, n_smp      */
    int64_t           n_smp;
    int64_t           n_explained;                 /* samples 0.. with an
                                                      explained output       */
    lrpx_node_relevance *nodes;                    /* LRP: per node, summed  */
    int               n_nodes;                     /* over the passes        */
    int64_t           set_r0, set_rows;            /* rows on the session (-1: unknown) */
};
void        cli_viz_init(struct cli_viz *v);
void        cli_viz_free(struct cli_viz *v);
/* The picture, trick and preprocessing flags, storing into v. */
#define CLI_VIZ_GROUPS 3
int         cli_viz_groups(struct cli_viz *v, struct cli_flag_group groups[CLI_VIZ_GROUPS]);
/* Record a --composite / --target / --method of the command line for
 * --grid. */
void        cli_viz_note_composite(struct cli_viz *v, const char *name);
void        cli_viz_note_target(struct cli_viz *v, int64_t target);
void        cli_viz_note_method(struct cli_viz *v, lrpx_attr_method method);
int         cli_viz_check(const char *cmd, struct cli_viz *v);
/* Record the colour-map and preprocessing files as inputs and refuse a
 * --heatmap/--grid that is an input (call after the inputs are recorded). */
int         cli_viz_guard(const char *cmd, const struct cli_viz *v);
bool        cli_viz_trick(const struct cli_viz *v);
/* Load and set the inputs (not set with --window); fill o's z^B bounds
 * from the image settings when o (may be NULL) has none. */
int         cli_viz_inputs(const char *cmd, lrpx_session *s, const lrpx_model *m,
                           const char *model_path, const struct cli_input *inputs,
                           int n_inputs, struct cli_viz *v, struct lrpx_lrp_options *o);
/* The explanation of method ao (lrpx_session_attribute), plain or with
 * --translate / --window. Plain: the samples go through the session
 * v->per_pass at a time (--batch) with the tensors given per sample (seed,
 * baseline, noise, feature mask, targets) cut to each pass, and the results
 * are joined: v->map_view is the map of all samples (the session's
 * attribution after one pass, else v->map), v->smp the per-sample
 * reports, v->nodes the LRP per-node sums, v->kept the --layer maps; with
 * more than one sample, the samples per second on stderr. CLI_OK or the
 * error printed. */
int         cli_viz_explain(const char *cmd, lrpx_session *s, const struct lrpx_attr_options *ao,
                            struct cli_viz *v);
/* The samples: rows of axis 0 of the inputs (a .npy may hold several),
 * else the files of the first input. */
int64_t     cli_viz_n_samples(const struct cli_viz *v);
/* Sample k's attribution report (not after a trick); false when none. */
bool        cli_viz_report(const struct cli_viz *v, int64_t k, lrpx_attr_report *r);
/* Sample k's explained class and value (lrpx_session_explained_output of
 * its pass); false when none. */
bool        cli_viz_output(const struct cli_viz *v, int64_t k, int64_t *cls, double *value);
/* The class (and *score, may be NULL) sample k was explained for: from
 * the attribution report, or after a trick from the session's last pass;
 * -1 (and NaN) when unknown. */
int64_t     cli_viz_class(const lrpx_session *s, const struct cli_viz *v, int64_t k,
                          double *score);
/* --heatmap: render and write (nothing is written on failure). */
int         cli_viz_heatmap(const char *cmd, struct cli_viz *v, const lrpx_tensor_view *map);
/* --grid: explain again per method (and LRP composite) and target, lay
 * out and write. */
int         cli_viz_grid(const char *cmd, lrpx_session *s, const lrpx_model *m,
                         const char *model_path, const struct lrpx_attr_options *ao,
                         struct cli_viz *v);

/* The pieces of --grid, for other reports (lrpx compare): the colour map
 * (*owned to free, may be NULL), the heatmap picture of sample k of a map
 * shaped like batch b's input, the picture under it (photo, preprocessed
 * image or a .npy stretched to 0..255), and the labelled grid of n_cells
 * pictures in rows of n_cols written to path (small pictures enlarged;
 * cells may be replaced by enlarged copies, the caller frees both). */
int         cli_viz_colormap(const char *cmd, const struct cli_viz *v, const lrpx_colormap **cm,
                             lrpx_colormap **owned);
int         cli_viz_render(const char *cmd, const struct cli_viz *v, const lrpx_colormap *cm,
                           const struct cli_batch *b, const lrpx_tensor_view *map, int64_t k,
                           lrpx_pixmap **out);
int         cli_viz_picture(const char *cmd, const struct cli_viz *v, const struct cli_batch *b,
                            int64_t k, lrpx_pixmap **out);
int         cli_viz_write_grid(const char *cmd, const struct cli_viz *v, lrpx_pixmap **cells,
                               char **labels, int n_cells, int n_cols, const char *path);
/* Free n cells and labels (malloc'ed, NULL entries allowed) and both arrays. */
void        cli_viz_cells_free(lrpx_pixmap **cells, char **labels, int n);

/* ---- the attribution method and its flags (src/cli/method.c) ---- */

/* What explain, eval and compare take to make a map: --method (several:
 * one result each), the LRP rule flags and the other methods' flags. */
struct cli_method {
    struct lrpx_attr_options ao;   /* after cli_method_check: the options of
                                      the first method, every flag applied */
    bool             composite_methods;   /* --method takes LRP composites  */
    int              n_methods;           /* --method, in order             */
    lrpx_attr_method methods[CLI_VIZ_MAX];
    char             method_composite[CLI_VIZ_MAX][LRPX_LRP_COMPOSITE_MAX];  /* "" */
    int              n_composites;        /* --composite, in order          */
    const char      *composites[CLI_VIZ_MAX];
    int              n_low, n_high;
    float            lows[LRPX_LRP_MAX_BOX_C], highs[LRPX_LRP_MAX_BOX_C];
    /* the method flags: -1 / NaN / NULL until given */
    int              steps, samples, root_iters, internal_batch, quadrature, of;
    double           sigma, fill, baseline;
    long long        seed;
    int              n_seed, n_stride, n_composite, n_maxpool;   /* seen */
    const char      *baseline_path, *noise_path, *mask_path;
    lrpx_npy        *baseline_npy, *noise_npy, *mask_npy;       /* loaded */
};
/* composite_methods: --method also takes a composite name (LRP with it). */
void cli_method_init(struct cli_method *cm, bool composite_methods);
void cli_method_free(struct cli_method *cm);
struct cli_flag_group cli_method_group(struct cli_method *cm);
/* --method's list of methods and --composite's presets, for --help. */
void cli_method_help(FILE *f, const struct cli_method *cm);
/* The rule-spec language (SEL, RULE, MODE), for the end of --help. */
void cli_method_help_rules(FILE *f);
/* Which methods a flag goes with: the field at off (in the struct base
 * points to) says whether it was given. */
enum { CLI_USE_INT, CLI_USE_COUNT, CLI_USE_BOOL, CLI_USE_DOUBLE, CLI_USE_PTR };
struct cli_method_use {
    const char *flag;
    unsigned    methods;       /* bit set of lrpx_attr_method */
    int         kind;          /* unset: -1, 0, false, NaN, NULL */
    size_t      off;
};
/* The usage error for a given flag none of the chosen methods takes. */
int  cli_method_uses(const char *cmd, const struct cli_method *cm,
                     const struct cli_method_use *uses, int n, const void *base);
/* After parsing: the flag checks above, then the values given go into
 * cm->ao (the others keep the library's defaults). */
int  cli_method_check(const char *cmd, struct cli_method *cm);
/* Record the method's files as inputs (cli_guard_input). */
void cli_method_guard(const struct cli_method *cm);
/* Read --baseline/--noise/--feature-mask files into cm->ao. */
int  cli_method_load(const char *cmd, struct cli_method *cm);
/* The methods to run (at least 1), and the options and label ("gradient",
 * "epsilon_plus_flat", "epsilon_plus+rules") of method k. */
int  cli_method_count(const struct cli_method *cm);
int  cli_method_options(const struct cli_method *cm, int k, struct lrpx_attr_options *out,
                        char *label, size_t size);
/* A .npy as a tensor view (*npy keeps the data; floats: float64 becomes
 * float32, other types are refused). path NULL: nothing. */
int  cli_npy_view(const char *cmd, const char *flag, const char *path, bool floats,
                  lrpx_npy **npy, lrpx_tensor_view *v);
/* "a,b,c" into v (at most max finite numbers); the count or -1. */
int  cli_parse_floats(const char *s, float *v, int max);


/* ---- evaluation (src/cli/eval.c) ---- */

/* What eval and compare score with: --metric/--metrics SPEC (parsed when
 * given), --mask, --seed and --batch, one flag table. */
#define CLI_MAX_METRICS 32
struct cli_scoring {
    const char *metrics[CLI_MAX_METRICS];
    int         n_metrics;
    const char *mask;
    int         seed, batch;
};
struct cli_flag_group cli_scoring_group(struct cli_scoring *sc);
/* Score with metric SPEC (checked when it was given) on session s:
 * lrpx_session_evaluate, *res the result (free with
 * lrpx_eval_result_free). On failure the error, "SPEC (what): reason", is
 * printed. */
int  cli_score(const char *cmd, lrpx_session *s, const char *spec,
               const struct lrpx_eval_options *eo, const char *what, lrpx_eval_result **res);

/* The localisation mask of --mask SPEC for batch b's input: a .npy
 * (*npy), an image of the input's size or a box "x,y,w,h" (*box, bytes
 * 0/1), as a view. Returns CLI_OK or the error printed. */
int  cli_eval_mask(const char *cmd, const char *spec, const struct cli_batch *b,
                   lrpx_npy **npy, uint8_t **box, lrpx_tensor_view *out);

/* The label of sample j of batch b of n samples: the file, and the row
 * when a file holds several ("x.npy[3]"). */
void cli_sample_label(const struct cli_batch *b, int64_t n, int64_t j, char *buf, size_t size);

/* ---- no output destroys an input (src/cli/guard.c) ---- */

/* Record a file the command reads (a folder: every file in it), what: how
 * messages call it ("the model", "an input", ...). Missing paths are
 * skipped (their reader reports them). */
void cli_guard_input(const char *path, const char *what);
/* The model, its external-data files (m may be NULL) and the class-name and
 * preprocessing files beside it. */
void cli_guard_model(const lrpx_model *m, const char *model_path);
void cli_guard_inputs(const struct cli_inputs *in);
/* CLI_OK, or the usage error printed when path (if it exists) is the same
 * file (device and inode) as a recorded input. flag names the option. */
int  cli_guard_output(const char *cmd, const char *flag, const char *path);
/* The same for n (flag, path) pairs; NULL paths are skipped. */
int  cli_guard_outputs(const char *cmd, const char *const *flags_and_paths, int n);

/* ---- the rule-spec language (src/cli/rules.c) ---- */

/* `lrpx explain --list-rules`: every rule, max-pool mode, selector and
 * composite with what it does; markdown: docs/lrp.md's tables. */
int  cli_list_rules(bool markdown);
/* A help item (cli_help_item) whose text is lead followed by the
 * syntaxes of one lrpx_lrp_doc_kind as a comma list wrapped at 79
 * columns. */
void cli_rules_help_item(FILE *f, int kind, const char *term, const char *lead, int col);

/* ---- token-level relevance (src/cli/tokens.c) ---- */

/* The relevance of an embedded sequence [batch, tokens, dim] summed over
 * dim: rel[s * n_tokens + i]; names from --tokens (NULL: none). */
struct cli_tokens {
    int    n_tokens, n_samples;
    float *rel;
    char **names;
    int    n_names;
};
/* Reduce rel (and read tokens_path, may be NULL: one token per line, as
 * many as positions). CLI_OK or the error printed. */
int  cli_tokens_reduce(const char *cmd, const char *tokens_path, const lrpx_tensor_view *rel,
                       struct cli_tokens *t);
/* The per-token table (json: a JSON array of samples of {token, relevance}). */
void cli_tokens_print(const struct cli_tokens *t, bool json);
/* The coloured strip as PNG or HTML (by the extension); cmap NULL: bwr. */
int  cli_tokens_strip(const char *cmd, const char *path, const struct cli_tokens *t,
                      const char *cmap);
void cli_tokens_free(struct cli_tokens *t);

int cmd_preprocess(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_gradient(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_spray(int argc, char **argv);

#endif /* LRPX_CLI_H */
