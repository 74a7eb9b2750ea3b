/* lrpx batch, merge and spray: the pieces they share (docs/scale-out.md).
 *
 * A batch run writes into its --out folder:
 *   run.json        the settings (model, method, rules, preprocessing, the
 *                   input list's hash) and the shard; --resume and merge
 *                   compare them
 *   inputs.txt      the inputs of this shard, one key per line
 *   results.jsonl   one line per finished input, in input order
 *   errors.jsonl    one line per input that could not be used (unreadable, or a shape
 *                   the model does not take)
 *   relevance/KEY.npy, heatmaps/KEY.png
 * A key is the input's path relative to --inputs DIR, or as the manifest
 * writes it. */
#ifndef LRPX_CLI_BATCH_H
#define LRPX_CLI_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* ---- inputs (src/cli/batch_list.c) ---- */

struct batch_item {
    char   *key;        /* relative path as listed: hashed for shards      */
    char   *path;       /* the file to read                                */
    char   *out_rel;    /* output name below relevance/ and heatmaps/      */
    char   *mask;       /* manifest's mask, passed through; NULL: none      */
    int64_t label;      /* -1: none                                         */
    int64_t target;     /* -1: the predicted class                          */
};

struct batch_list {
    struct batch_item *items;
    int                n, cap;
    uint64_t           hash;         /* of every key, label and target     */
    bool               has_labels;
};

void batch_list_free(struct batch_list *l);
/* Every .png/.jpg/.jpeg/.npy file below dir (any case; hidden entries
 * skipped, and the folder skip, the run's output, when it is below dir),
 * sorted by key. */
int  batch_list_dir(const char *cmd, const char *dir, const char *skip, struct batch_list *l);
/* A CSV (header line with a "path" column; optional label, target, mask)
 * or JSONL ({"path": ..., "label": ..., ...} per line) manifest. Paths are
 * relative to the manifest's folder; labels and targets are class indices
 * or names from classes (may be NULL). */
int  batch_list_manifest(const char *cmd, const char *file, char **classes, int n_classes,
                         struct batch_list *l);
/* A class as an index or a name from classes (may be NULL); "" gives -1.
 * false: neither. */
bool batch_parse_class(const char *s, char **classes, int n_classes, int64_t *out);
/* Keys must be unique and output names distinct; targets/labels below
 * n_classes (when > 0). */
int  batch_list_check(const char *cmd, const struct batch_list *l, int64_t n_classes);

/* 64-bit FNV-1a of the bytes of s: an input belongs to shard
 * batch_key_hash(key) % count. */
uint64_t batch_key_hash(const char *s);
/* The shard from --shard I/N (flag may be NULL), else SLURM_ARRAY_TASK_ID
 * with SLURM_ARRAY_TASK_COUNT (and _MIN, _STEP), else JOB_COMPLETION_INDEX
 * with --shards N (shards 0: not given). *count 1 when none. source names
 * where it came from. */
int  batch_shard_resolve(const char *cmd, const char *flag, int shards, int *index, int *count,
                         const char **source);
/* Keep the items of shard index of count (in order). */
void batch_list_shard(struct batch_list *l, int index, int count);

/* ---- files of a run (src/cli/batch_files.c) ---- */

/* "DIR/NAME" into buf; false if it does not fit. */
bool batch_join(char *buf, size_t size, const char *dir, const char *name);
/* mkdir -p of path's parent folders (path itself is a file). */
int  batch_mkdirs_for(const char *cmd, const char *path);
/* Write text to DIR/NAME (name NULL: to dir itself) atomically; the error
 * printed. CLI_OK or CLI_FAIL. */
int  batch_write(const char *cmd, const char *dir, const char *name, const char *text,
                 size_t len);
/* Whole file into a malloc'd, NUL-terminated buffer (NULL, errno set, on
 * failure). */
char *batch_slurp(const char *path, size_t *len);
/* One results line: parsed with cJSON; the caller frees with cJSON_Delete.
 * NULL for a line that is not a JSON object with a string "input". */
struct cJSON;
struct cJSON *batch_parse_line(const char *line, size_t len);
/* The lines of a text file, in order, each without its '\n'. A last line
 * without '\n' (cut by a kill) is left out and torn set, unless keep_last.
 * missing_ok: a file that does not exist gives no lines. */
struct batch_lines {
    char  *text;       /* the file, lines NUL-terminated in place */
    char **line;
    int    n;
    bool   torn;
};
int  batch_lines_read(const char *cmd, const char *path, bool missing_ok, bool keep_last,
                      struct batch_lines *out);
void batch_lines_free(struct batch_lines *bl);

/* ---- one run (src/cli/batch.c: settings, resume; batch_run.c: the
 *      pipeline) ---- */

struct batch_cfg {
    const char      *model_path, *inputs_dir, *manifest, *out_dir;
    struct cli_method meth;           /* meth.ao: the method and its options  */
    struct cli_prep  prep;
    const char      *target_name;     /* --target as given                   */
    int64_t          target;          /* resolved, -1: predicted             */
    const char      *shard_flag;
    int              shards;
    int              batch, threads;
    bool             resume, heatmaps;
    const char      *cmap;
    double           clip;
    struct cli_scoring sc;            /* --metric SPEC..., --mask (eval's)    */
    lrpx_metric     *metrics[CLI_MAX_METRICS];   /* sc.metrics parsed         */
};

/* What the pipeline needs besides the settings. */
struct batch_job {
    const struct batch_cfg  *cfg;
    const lrpx_model        *model;
    struct lrpx_preprocess   pp;          /* for image inputs            */
    int                      decl_rank;   /* the model input's rank      */
    struct batch_item      **todo;        /* in input order              */
    int                      n_todo, n_done_before, n_total;
    int                      results_fd, errors_fd;
    /* out */
    int                      n_ok, n_failed;
    double                   ms_decode, ms_explain, ms_write, ms_metrics;   /* sums */
};

/* Explain job->todo and append the lines. Returns CLI_OK (inputs that could
 * not be read are counted in n_failed and listed in errors.jsonl) or
 * CLI_FAIL on an error that stops the run (printed). */
int batch_run(const char *cmd, struct batch_job *job);
/* Methods whose map of an input is made in one pass of the session (any
 * batch); the others get one input per call. */
bool batch_method_one_pass(lrpx_attr_method m);

#endif /* LRPX_CLI_BATCH_H */
