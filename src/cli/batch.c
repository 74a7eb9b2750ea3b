/* lrpx batch MODEL (--inputs DIR | --manifest FILE) --out DIR: explain a
 * whole data set, or the shard of it this process is given, resumably
 * (docs/scale-out.md). This file: the flags, the settings a run is
 * identified by (run.json), the output folder and what --resume keeps;
 * src/cli/batch_run.c is the pipeline, batch_list.c the inputs. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"

static const char batch_usage[] =
    "usage: lrpx batch MODEL (--inputs DIR | --manifest FILE) --out DIR\n"
    "                  [--method NAME] [--composite NAME] [--rule SEL=RULE]...\n"
    "                  [--target K] [--metric SPEC]... [--heatmaps]\n"
    "                  [--shard I/N | --shards N] [--resume] [--batch N]\n"
    "                  [--threads T] [preprocessing flags]\n"
    "\n"
    "Explain every input (JPEG/PNG images and .npy arrays below DIR, or the\n"
    "files a manifest lists) and write, below --out: relevance/KEY.npy per\n"
    "input, heatmaps/KEY.png with --heatmaps, and one JSON line per input in\n"
    "results.jsonl (input, label, target, predicted and explained class,\n"
    "logit, relevance sum, metrics, output paths, timings). KEY is the\n"
    "input's path relative to DIR, or as the manifest writes it. --method\n"
    "takes every method of lrpx explain, with the same flags.\n"
    "\n"
    "Shards: --shard I/N explains the inputs whose key hashes to I (64-bit\n"
    "FNV-1a modulo N), so N jobs cover everything once; without it the shard\n"
    "comes from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm job\n"
    "arrays) or JOB_COMPLETION_INDEX with --shards N (Kubernetes Indexed\n"
    "Jobs). 'lrpx merge' joins the shards' folders. The results of an input\n"
    "are the same bits whatever --threads, --batch or the sharding.\n";

static const char merge_hint[] =
    "\nresults.jsonl, one line per input (keys in this order):\n"
    "  input, label, target, predicted, explained, logit, relevance_sum,\n"
    "  metrics, mask, relevance, heatmap, time_ms\n"
    "Exit status 1 when an input could not be used (errors.jsonl lists them;\n"
    "--resume tries them again) or the run stopped.\n";

#define ARG(field) offsetof(struct batch_cfg, field)
static const struct cli_flag batch_flags[] = {
    {"--inputs", NULL, "DIR", "every .png/.jpg/.jpeg/.npy file below DIR", CLI_STRING,
     ARG(inputs_dir), .need = "a folder"},
    {"--manifest", NULL, "FILE",
     "a CSV (header: path,label,target,mask; only path is\n"
     "required) or JSONL ({\"path\": ..., \"label\": ...}) list;\n"
     "paths relative to its folder, classes by index or name",
     CLI_STRING, ARG(manifest), .need = "a CSV or JSONL file"},
    {"--out", NULL, "DIR", "where the results go (made if missing)", CLI_STRING, ARG(out_dir),
     .need = "a folder"},
    {"--target", NULL, "K", "explain class K, an index or a name (default: the\n"
     "predicted class; a manifest's target column wins)", CLI_STRING, ARG(target_name),
     .need = "a class index or name"},
    {"--heatmaps", NULL, NULL, "also write heatmaps/KEY.png", CLI_TRUE, .off = ARG(heatmaps)},
    {"--cmap", NULL, "NAME", "colour map of the heatmaps (default bwr)", CLI_STRING, ARG(cmap),
     .need = "a built-in colour map"},
    {"--clip", NULL, "P", "heatmap scale: the P-th percentile of |R| (default\n100)",
     CLI_DOUBLE, ARG(clip), .lo = 1e-9, .hi = 100.0, .need = "a percentile in (0, 100]"},
    {"--shard", NULL, "I/N", "explain shard I of N", CLI_STRING, ARG(shard_flag),
     .need = "I/N"},
    {"--shards", NULL, "N", "the number of shards when JOB_COMPLETION_INDEX (or\n"
     "SLURM_ARRAY_TASK_ID alone) gives the index", CLI_INT, ARG(shards), .lo = 1, .hi = 1e6},
    {"--resume", NULL, NULL, "continue a run in --out: inputs with results are skipped", CLI_TRUE,
     .off = ARG(resume)},
    {"--batch", NULL, "N", "inputs per session call (default 16; 1 for methods that\n"
     "run copies of an input, as integrated-gradients)", CLI_INT, ARG(batch), .lo = 1,
     .hi = 4096},
    {"--threads", NULL, "T", "sessions working at once (default: the CPUs)", CLI_INT,
     ARG(threads), .lo = 1, .hi = 256},
    {NULL}};
#undef ARG

/* ---- the settings that identify a run ---- */

static uint64_t
file_hash(const char *path, bool *ok)
{
    size_t len;
    char  *b = batch_slurp(path, &len);
    *ok      = b != NULL;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; b && i < len; i++)
        h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
    free(b);
    return h;
}

static void
json_floats(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        cli_put_number(f, v[i], 9, "null");
    }
    fputc(']', f);
}

/* Everything that changes a result, as one line of JSON: --resume and
 * merge require it unchanged. */
static char *
settings_json(const struct batch_cfg *c, const char *model_abs, uint64_t model_hash,
              const struct lrpx_preprocess *pp, const struct batch_list *l)
{
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const struct lrpx_attr_options *ao = &c->meth.ao;
    const struct lrpx_lrp_options  *o  = &ao->lrp;
    fputs("{\"model\": ", f);
    cli_json_string(f, model_abs);
    fprintf(f, ", \"model_fnv1a64\": \"%016llx\", \"method\": \"%s\", \"lrp\": ",
            (unsigned long long)model_hash, lrpx_attr_method_name(ao->method));
    if (ao->method == LRPX_ATTR_LRP || ao->method == LRPX_ATTR_TAYLOR) {
        fputs("{\"composite\": ", f);
        cli_json_string(f, o->composite);
        fputs(", \"rules\": [", f);
        for (int i = 0; i < o->n_overrides; i++) {
            fputs(i ? ", " : "", f);
            cli_json_string(f, o->overrides[i]);
        }
        double lo[LRPX_LRP_MAX_BOX_C], hi[LRPX_LRP_MAX_BOX_C];
        int    nb = o->n_box_c ? o->n_box_c : 1;
        for (int i = 0; i < nb; i++) {
            lo[i] = o->n_box_c ? o->box_low_c[i] : o->box_low;
            hi[i] = o->n_box_c ? o->box_high_c[i] : o->box_high;
        }
        fprintf(f, "], \"maxpool\": \"%s\", \"zero_bias\": %s, \"stabilizer\": ",
                lrpx_maxpool_mode_name(o->maxpool), o->zero_bias ? "true" : "false");
        cli_put_number(f, o->stabilizer, 17, "null");     /* NaN: the composite's */
        fputs(", \"low\": ", f);
        json_floats(f, lo, nb);
        fputs(", \"high\": ", f);
        json_floats(f, hi, nb);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    /* the other methods' settings (the defaults too: a run that relied on
     * them keeps them); files by content */
    fprintf(f, ", \"method_options\": {\"steps\": %d, \"quadrature\": \"%s\", "
            "\"baseline\": ", ao->steps, lrpx_quadrature_name(ao->quadrature));
    cli_put_number(f, ao->baseline, 17, "null");
    fprintf(f, ", \"samples\": %d, \"sigma\": ", ao->samples);
    cli_put_number(f, ao->sigma, 17, "null");
    fprintf(f, ", \"seed\": %llu, \"of\": \"%s\", \"patch\": [",
            (unsigned long long)ao->seed, lrpx_attr_method_name(ao->of));
    for (int i = 0; i < ao->patch_rank; i++)
        fprintf(f, "%s%lld", i ? ", " : "", (long long)ao->patch[i]);
    fputs("], \"patch_stride\": [", f);
    for (int i = 0; i < ao->patch_rank; i++)
        fprintf(f, "%s%lld", i ? ", " : "", (long long)(ao->patch_stride[i] ? ao->patch_stride[i]
                                                                           : 1));
    fputs("], \"fill\": ", f);
    cli_put_number(f, ao->fill, 17, "null");
    fprintf(f, ", \"root_iters\": %d", ao->root_iters);
    const char *files[3][2] = {{"baseline_file", c->meth.baseline_path},
                               {"noise_file", c->meth.noise_path},
                               {"feature_mask_file", c->meth.mask_path}};
    for (int i = 0; i < 3; i++) {
        bool ok = true;
        if (files[i][1])
            fprintf(f, ", \"%s\": \"%016llx\"", files[i][0],
                    (unsigned long long)file_hash(files[i][1], &ok));
    }
    fputs("}, \"metrics\": [", f);
    for (int i = 0; i < c->sc.n_metrics; i++) {
        char params[2048];
        lrpx_metric_params_json(c->metrics[i], params, sizeof params);
        fprintf(f, "%s{\"metric\": ", i ? ", " : "");
        cli_json_string(f, c->sc.metrics[i]);
        fprintf(f, ", \"params\": %s}", params);
    }
    fputs("], \"mask\": ", f);
    cli_json_string_or_null(f, c->sc.mask);
    fprintf(f, ", \"target\": %lld, \"preprocess\": {\"resize\": [%d, %d, %d, %d], "
            "\"crop\": [%d, %d], \"interp\": %d, \"antialias\": %d, \"quantize\": %d, "
            "\"scale\": %.17g, \"mean\": ",
            (long long)c->target, (int)pp->resize, pp->resize_shorter, pp->resize_width,
            pp->resize_height, pp->crop_width, pp->crop_height, (int)pp->interp, pp->antialias,
            pp->quantize, pp->scale);
    json_floats(f, pp->mean, pp->n_mean);
    fputs(", \"std\": ", f);
    json_floats(f, pp->std, pp->n_mean);
    fprintf(f, ", \"color\": %d, \"layout\": %d, \"alpha\": %d}, \"heatmaps\": ", (int)pp->color,
            (int)pp->layout, (int)pp->alpha);
    if (c->heatmaps) {
        fputs("{\"cmap\": ", f);
        cli_json_string(f, c->cmap ? c->cmap : "bwr");
        fprintf(f, ", \"clip\": %.9g}", c->clip);
    } else {
        fputs("null", f);
    }
    fprintf(f, ", \"inputs\": {\"n\": %d, \"fnv1a64\": \"%016llx\"}}", l->n,
            (unsigned long long)l->hash);
    fclose(f);
    return buf;
}

/* ---- the output folder ---- */

struct outdir {
    char results[8192], errors[8192], run[8192], inputs[8192], lock[8192];
    int  lock_fd;
};

static int
outdir_open(const char *cmd, const char *dir, struct outdir *d)
{
    d->lock_fd = -1;
    if (!batch_join(d->results, sizeof d->results, dir, "results.jsonl") ||
        !batch_join(d->errors, sizeof d->errors, dir, "errors.jsonl") ||
        !batch_join(d->run, sizeof d->run, dir, "run.json") ||
        !batch_join(d->inputs, sizeof d->inputs, dir, "inputs.txt") ||
        !batch_join(d->lock, sizeof d->lock, dir, ".lock"))
        return cli_error(cmd, "--out %s: path too long", dir);
    if (batch_mkdirs_for(cmd, d->lock) != CLI_OK)
        return CLI_FAIL;
    /* one writer per folder: a second job given the same --out (a
     * requeued task whose first run still lives) stops here */
    d->lock_fd = open(d->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (d->lock_fd < 0)
        return cli_error(cmd, "%s: %s", d->lock, strerror(errno));
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return cli_error(cmd, "--out %s: another lrpx batch is writing there", dir);
    return CLI_OK;
}

/* A key set for --resume: sorted keys, looked up by bsearch. */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The size every relevance file of this run has: from the first one that
 * reads as a complete .npy. */
static bool
expected_npy_size(const char *path, off_t *size)
{
    lrpx_npy   *a;
    struct stat sb;
    if (lrpx_npy_read(path, &a, NULL, 0) != LRPX_OK)
        return false;
    lrpx_npy_free(a);
    if (stat(path, &sb) != 0)
        return false;
    *size = sb.st_size;
    return true;
}

/* Lines of results.jsonl whose outputs are whole: kept (text in *kept,
 * their keys sorted in keys). Others are dropped, and so is a line torn by
 * a kill; results.jsonl is rewritten without them. */
static int
resume_scan(const char *cmd, const char *out_dir, const struct outdir *d, bool heatmaps,
            char ***keys, int *n_keys)
{
    struct batch_lines bl;
    int                rc = batch_lines_read(cmd, d->results, true, false, &bl);
    if (rc != CLI_OK)
        return rc;
    *keys   = malloc((size_t)(bl.n ? bl.n : 1) * sizeof **keys);
    *n_keys = 0;
    char  *kept  = NULL;
    size_t n_kept = 0;
    FILE  *f     = open_memstream(&kept, &n_kept);
    off_t  size  = -1;
    int    n_dropped = 0;
    if (!*keys || !f) {
        if (f)
            fclose(f);
        free(kept);
        batch_lines_free(&bl);
        return cli_error(cmd, "out of memory");
    }
    for (int i = 0; i < bl.n; i++) {
        cJSON *o  = batch_parse_line(bl.line[i], strlen(bl.line[i]));
        cJSON *rv = o ? cJSON_GetObjectItemCaseSensitive(o, "relevance") : NULL;
        cJSON *hm = o ? cJSON_GetObjectItemCaseSensitive(o, "heatmap") : NULL;
        char   p[8192];
        struct stat sb;
        bool   ok = cJSON_IsString(rv) && batch_join(p, sizeof p, out_dir, rv->valuestring);
        if (ok && size < 0)
            ok = expected_npy_size(p, &size);
        else if (ok)
            ok = stat(p, &sb) == 0 && sb.st_size == size;
        if (ok && heatmaps)
            ok = cJSON_IsString(hm) && batch_join(p, sizeof p, out_dir, hm->valuestring) &&
                 stat(p, &sb) == 0 && sb.st_size > 0;
        if (ok && !((*keys)[*n_keys] =
                        strdup(cJSON_GetObjectItemCaseSensitive(o, "input")->valuestring)))
            ok = false;
        if (ok) {
            (*n_keys)++;
            fprintf(f, "%s\n", bl.line[i]);
        } else {
            n_dropped++;
        }
        cJSON_Delete(o);
    }
    fclose(f);
    qsort(*keys, (size_t)*n_keys, sizeof **keys, cmp_str);
    for (int i = 1; i < *n_keys && rc == CLI_OK; i++)
        if (!strcmp((*keys)[i - 1], (*keys)[i]))
            rc = cli_error(cmd, "%s: %s has two lines", d->results, (*keys)[i]);
    if (rc == CLI_OK && (n_dropped || bl.torn)) {
        fprintf(stderr, "lrpx batch: --resume: %d result line%s dropped (output files missing "
                "or short, or cut by a kill): explained again\n", n_dropped + bl.torn,
                n_dropped + bl.torn == 1 ? "" : "s");
        rc = batch_write(cmd, d->results, NULL, kept, n_kept);
    }
    free(kept);
    batch_lines_free(&bl);
    return rc;
}

/* The atomic writer's temporaries are ".NAME.XXXXXX" (src/util/file.c).
 * An output wrongly taken for one is only explained again. */
static bool
is_temp_name(const char *name)
{
    size_t l = strlen(name);
    return name[0] == '.' && l > 8 && name[l - 7] == '.';
}

/* Remove temporaries a killed run left below DIR/sub. */
static void
remove_stale_temps(const char *dir)
{
    char **stack = malloc(sizeof *stack);
    int    n = 0, cap = 1;
    if (!stack || !(stack[n++] = strdup(dir))) {
        free(stack);
        return;
    }
    while (n > 0) {
        char *d  = stack[--n];
        DIR  *dh = opendir(d);
        struct dirent *e;
        while (dh && (e = readdir(dh))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[8192];
            struct stat sb;
            if (!batch_join(p, sizeof p, d, e->d_name) || lstat(p, &sb) != 0)
                continue;
            if (S_ISDIR(sb.st_mode)) {
                char **grow = n == cap ? realloc(stack, (size_t)(cap *= 2) * sizeof *stack)
                                       : stack;
                if (grow && (stack = grow) && (stack[n] = strdup(p)))
                    n++;
            } else if (is_temp_name(e->d_name)) {
                unlink(p);
            }
        }
        if (dh)
            closedir(dh);
        free(d);
    }
    free(stack);
}


/* run.json: the settings and the shard; on --resume it must say the same. */
static int
write_run_json(const char *cmd, const struct outdir *d, const char *settings, int index,
               int count, const char *source, const char *root, int n_listed, int n_assigned,
               bool resume)
{
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (!f)
        return cli_error(cmd, "out of memory");
    fprintf(f, "{\"lrpx_batch\": 1,\n \"settings\": %s,\n \"shard\": {\"index\": %d, "
            "\"count\": %d},\n \"shard_from\": ", settings, index, count);
    cli_json_string_or_null(f, source);
    fputs(",\n \"inputs_root\": ", f);
    cli_json_string(f, root);
    fprintf(f, ",\n \"n_listed\": %d, \"n_assigned\": %d}\n", n_listed, n_assigned);
    fclose(f);
    int    rc  = CLI_OK;
    size_t old_len;
    char  *old = batch_slurp(d->run, &old_len);
    if (resume && old) {
        cJSON *a = cJSON_Parse(old), *b = cJSON_Parse(buf);
        cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "settings");
        cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "settings");
        cJSON *ha = cJSON_GetObjectItemCaseSensitive(a, "shard");
        cJSON *hb = cJSON_GetObjectItemCaseSensitive(b, "shard");
        if (!sa || !cJSON_Compare(sa, sb, true)) {
            const char *what = "the file";
            for (cJSON *e = sb ? sb->child : NULL; sa && e; e = e->next)
                if (!cJSON_Compare(e, cJSON_GetObjectItemCaseSensitive(sa, e->string), true)) {
                    what = e->string;
                    break;
                }
            rc = cli_error(cmd, "--resume: %s was made with other settings (%s differs); "
                           "use the same ones or another --out", d->run, what);
        } else if (!cJSON_Compare(ha, hb, true)) {
            rc = cli_error(cmd, "--resume: %s holds another shard; use the same shard or "
                           "another --out", d->run);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    if (rc == CLI_OK && (!old || strcmp(old, buf)))
        rc = batch_write(cmd, d->run, NULL, buf, len);
    free(old);
    free(buf);
    return rc;
}

static int
write_inputs_txt(const char *cmd, const struct outdir *d, const struct batch_list *l)
{
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (!f)
        return cli_error(cmd, "out of memory");
    for (int i = 0; i < l->n; i++)
        fprintf(f, "%s\n", l->items[i].key);
    fclose(f);
    int rc = batch_write(cmd, d->inputs, NULL, buf, len);
    free(buf);
    return rc;
}

static int
parse_args(int argc, char **argv, struct batch_cfg *c, const char **model)
{
    struct cli_flag_group groups[] = {
        {.flags = batch_flags, .ctx = c},
        cli_scoring_group(&c->sc),
        cli_method_group(&c->meth),
        cli_prep_group(&c->prep),
        cli_verbosity_group(),
    };
    int         n_groups = (int)(sizeof groups / sizeof groups[0]);
    const char *pos[1];
    int         n_pos;
    groups[1].skip = "--seed --batch";   /* the method's --seed; batch's own --batch */
    int rc = cli_parse_flags("batch", argc, argv, groups, n_groups, pos, 1, &n_pos);
    if (rc == CLI_HELP) {
        cli_help_usage(stdout, "batch", batch_usage);
        if (!cli_help_is_man())
            fputs("\n", stdout);
        cli_help_item(stdout, "--method NAME",
                      "the method (default lrp; the list below), or an LRP\n"
                      "composite name (lrp with it); one per run",
                      CLI_HELP_COL);
        cli_rules_help_item(stdout, LRPX_LRP_DOC_COMPOSITE, "--composite NAME",
                            "LRP rule preset (default epsilon_plus):\n", CLI_HELP_COL);
        cli_print_flags(stdout, groups, n_groups);
        cli_method_help_rules(stdout);
        cli_help_text(stdout, merge_hint);
        cli_help_end(stdout, "batch");
        return CLI_HELP;
    }
    if (rc != CLI_OK)
        return rc;
    *model = n_pos ? pos[0] : NULL;
    if (!*model)
        return cli_usage_error("batch", "missing MODEL");
    if (!c->inputs_dir == !c->manifest)
        return cli_usage_error("batch", "give one of --inputs DIR or --manifest FILE");
    if (!c->out_dir)
        return cli_usage_error("batch", "missing --out DIR");
    if (c->meth.n_methods > 1)
        return cli_usage_error("batch", "one --method per run (a run's maps are of one "
                               "method; run again with another --out for another)");
    if (!c->heatmaps && (c->cmap || c->clip != 100.0))
        return cli_usage_error("batch", "--cmap and --clip go with --heatmaps");
    if (c->cmap && !lrpx_colormap_builtin(c->cmap))
        return cli_usage_error("batch", "--cmap: '%s' is not a built-in colour map", c->cmap);
    if ((rc = cli_method_check("batch", &c->meth)) != CLI_OK)
        return rc;
    for (int i = 0; i < c->sc.n_metrics; i++)          /* checked while parsing */
        if (lrpx_metric_parse(c->sc.metrics[i], &c->metrics[i], NULL, 0) != LRPX_OK)
            return cli_error("batch", "out of memory");
    /* a composite given as --method NAME: LRP with it */
    return cli_method_options(&c->meth, 0, &c->meth.ao, NULL, 0);
}

/* No output may be a file the run reads: the model, the manifest, the
 * method's and preprocessing files, and (checked per input in
 * guard_outputs) the inputs. */
static int
guard_files(const char *cmd, const struct batch_cfg *c, const lrpx_model *m,
            const char *model_path)
{
    static const char *const names[] = {"results.jsonl", "errors.jsonl", "run.json",
                                        "inputs.txt"};
    cli_guard_model(m, model_path);
    cli_guard_input(c->manifest, "the manifest");
    cli_method_guard(&c->meth);
    cli_guard_input(c->sc.mask, "the mask");
    if (c->prep.preset)
        cli_guard_input(c->prep.preset, "the preprocessing file");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[8192];
        if (batch_join(p, sizeof p, c->out_dir, names[i]) &&
            cli_guard_output(cmd, "--out", p) != CLI_OK)
            return CLI_USAGE;
    }
    return CLI_OK;
}

struct file_id {
    dev_t dev;
    ino_t ino;
};

static int
cmp_file_id(const void *a, const void *b)
{
    const struct file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The files of every listed input and mask (before sharding: one shard's output
 * must not be another shard's input), sorted; *n 0 when none exist. */
static struct file_id *
input_ids(const struct batch_list *l, int *n)
{
    struct file_id *ids = malloc((size_t)(l->n ? 2 * l->n : 1) * sizeof *ids);
    *n                  = 0;
    for (int i = 0; ids && i < 2 * l->n; i++) {
        const char *p = i % 2 ? l->items[i / 2].mask : l->items[i / 2].path;
        struct stat sb;
        if (p && stat(p, &sb) == 0)
            ids[(*n)++] = (struct file_id){sb.st_dev, sb.st_ino};
    }
    if (ids)
        qsort(ids, (size_t)*n, sizeof *ids, cmp_file_id);
    return ids;
}

/* The map and heatmap an input of l would get must not be an input. */
static int
guard_outputs(const char *cmd, const struct batch_cfg *c, const struct batch_list *l,
              const struct file_id *ids, int n_ids)
{
    for (int i = 0; i < l->n; i++)
        for (int h = 0; h < (c->heatmaps ? 2 : 1); h++) {
            char        p[8192];
            struct stat sb;
            if (snprintf(p, sizeof p, "%s/%s/%s.%s", c->out_dir, h ? "heatmaps" : "relevance",
                         l->items[i].out_rel, h ? "png" : "npy") >= (int)sizeof p ||
                stat(p, &sb) != 0)
                continue;
            struct file_id id = {sb.st_dev, sb.st_ino};
            if (n_ids && bsearch(&id, ids, (size_t)n_ids, sizeof id, cmp_file_id))
                return cli_usage_error(cmd, "--out %s: the output %s is one of the inputs; "
                                       "choose another --out", c->out_dir, p);
        }
    return CLI_OK;
}

/* The one fed input: float32, its rank, and whether its batch size is
 * fixed at 1 (then every session call takes one input). */
static int
model_input(const char *cmd, const lrpx_model *m, const char *path, int *rank,
            int64_t *n_classes, bool *fixed_one)
{
    lrpx_value_info vi, vo;
    if (lrpx_model_n_inputs(m) != 1 || lrpx_model_input_info(m, 0, &vi) != LRPX_OK)
        return cli_error(cmd, "%s: lrpx batch explains models with one input (this one has %d)",
                         path, lrpx_model_n_inputs(m));
    if (vi.dtype != LRPX_DTYPE_FLOAT32)
        return cli_error(cmd, "%s: the input '%s' is %s; lrpx batch needs float32", path,
                         vi.name, lrpx_dtype_name(vi.dtype));
    if (vi.rank >= 1 && vi.dims[0] > 1)
        return cli_error(cmd, "%s: the input '%s' has a fixed batch size of %lld; lrpx batch "
                         "needs 1 or a free batch dimension", path, vi.name,
                         (long long)vi.dims[0]);
    *fixed_one = vi.rank >= 1 && vi.dims[0] == 1;
    *rank      = vi.rank;
    *n_classes = 0;
    if (lrpx_model_output_info(m, 0, &vo) == LRPX_OK && vo.rank == 2 && vo.dims[1] > 0)
        *n_classes = vo.dims[1];
    return CLI_OK;
}

int
cmd_batch(int argc, char **argv)
{
    const char      *cmd = "batch", *model_path = NULL;
    struct batch_cfg c   = {.target = -1, .batch = 16, .clip = 100.0};
    cli_method_init(&c.meth, true);
    cli_prep_init(&c.prep);
    int rc = parse_args(argc, argv, &c, &model_path);
    if (rc != CLI_OK) {
        cli_method_free(&c.meth);
        for (int i = 0; i < c.sc.n_metrics; i++)
            lrpx_metric_free(c.metrics[i]);
        return rc == CLI_HELP ? CLI_OK : rc;
    }
    int         s_index, s_count;
    const char *s_source;
    if ((rc = batch_shard_resolve(cmd, c.shard_flag, c.shards, &s_index, &s_count, &s_source)) !=
        CLI_OK)
        return rc;
    if (c.threads == 0) {
        long n    = sysconf(_SC_NPROCESSORS_ONLN);
        c.threads = n > 0 ? (int)(n < 256 ? n : 256) : 1;
    }

    struct batch_list l       = {0};
    struct outdir     d       = {.lock_fd = -1};
    char            **classes = NULL, **done = NULL, *settings = NULL;
    int               n_cls = 0, n_done = 0, decl_rank = 0, results_fd = -1, errors_fd = -1;
    int64_t           n_out = 0;
    lrpx_model       *m     = cli_load_model(cmd, model_path, false);
    struct batch_job  job   = {.cfg = &c, .model = m};
    char              model_abs[PATH_MAX], root[PATH_MAX];
    bool              hash_ok;
    if (!m)
        return CLI_FAIL;
    bool fixed_one = false;
    if ((rc = model_input(cmd, m, model_path, &decl_rank, &n_out, &fixed_one)) != CLI_OK ||
        (rc = guard_files(cmd, &c, m, model_path)) != CLI_OK ||
        (rc = cli_method_load(cmd, &c.meth)) != CLI_OK)
        goto done;
    if (fixed_one || !batch_method_one_pass(c.meth.ao.method))
        c.batch = 1;
    classes = cli_load_classes(model_path, &n_cls);
    rc      = c.inputs_dir ? batch_list_dir(cmd, c.inputs_dir, c.out_dir, &l)
                           : batch_list_manifest(cmd, c.manifest, classes, n_cls, &l);
    if (rc != CLI_OK || (rc = batch_list_check(cmd, &l, n_out)) != CLI_OK)
        goto done;
    if (c.target_name && (!batch_parse_class(c.target_name, classes, n_cls, &c.target) ||
                          c.target < 0)) {
        rc = cli_usage_error(cmd, "--target %s: neither a class index nor one of the model's "
                             "class names", c.target_name);
        goto done;
    }
    if (c.target >= 0 && n_out > 0 && c.target >= n_out) {
        rc = cli_usage_error(cmd, "--target %lld, but the model has %lld classes",
                             (long long)c.target, (long long)n_out);
        goto done;
    }
    bool known;
    if ((rc = cli_prep_resolve(cmd, &c.prep, model_path, m, NULL, true, true, &job.pp, &known)) !=
        CLI_OK)
        goto done;
    float box_lo[3], box_hi[3];
    struct cli_batch pp_of = {.pp = job.pp, .pp_known = true};   /* the settings only */
    cli_box_defaults(&pp_of, &c.meth.ao.lrp, box_lo, box_hi, 3);
    uint64_t mh = file_hash(model_path, &hash_ok);
    if (!realpath(model_path, model_abs) || !hash_ok) {
        rc = cli_error(cmd, "%s: %s", model_path, strerror(errno));
        goto done;
    }
    const char *root_of = c.inputs_dir ? c.inputs_dir : c.manifest;
    if (!realpath(root_of, root)) {
        rc = cli_error(cmd, "%s: %s", root_of, strerror(errno));
        goto done;
    }
    if (c.manifest) {                   /* keys are relative to its folder */
        char *slash = strrchr(root, '/');
        slash[slash == root] = '\0';
    }
    if (!(settings = settings_json(&c, model_abs, mh, &job.pp, &l))) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    int             n_listed = l.n, n_ids;
    struct file_id *ids      = input_ids(&l, &n_ids);
    if (!ids) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    batch_list_shard(&l, s_index, s_count);
    rc = guard_outputs(cmd, &c, &l, ids, n_ids);
    free(ids);
    if (rc != CLI_OK)
        goto done;

    if ((rc = outdir_open(cmd, c.out_dir, &d)) != CLI_OK)
        goto done;
    if (access(d.results, F_OK) == 0 && !c.resume) {
        rc = cli_usage_error(cmd, "--out %s already holds a run: --resume continues it, or "
                             "choose another folder", c.out_dir);
        goto done;
    }
    if ((rc = write_run_json(cmd, &d, settings, s_index, s_count, s_source, root, n_listed, l.n,
                             c.resume)) != CLI_OK ||
        (rc = write_inputs_txt(cmd, &d, &l)) != CLI_OK)
        goto done;
    if (c.resume) {
        char sub[8192];
        for (int h = 0; h < 2; h++)
            if (batch_join(sub, sizeof sub, c.out_dir, h ? "heatmaps" : "relevance"))
                remove_stale_temps(sub);
        if ((rc = resume_scan(cmd, c.out_dir, &d, c.heatmaps, &done, &n_done)) != CLI_OK)
            goto done;
    }
    if ((rc = batch_write(cmd, d.errors, NULL, "", 0)) != CLI_OK)
        goto done;
    results_fd = open(d.results, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    errors_fd  = open(d.errors, O_WRONLY | O_APPEND | O_CLOEXEC);
    job.todo   = malloc((size_t)(l.n ? l.n : 1) * sizeof *job.todo);
    if (results_fd < 0 || errors_fd < 0 || !job.todo) {
        rc = cli_error(cmd, "%s: %s", c.out_dir, strerror(errno));
        goto done;
    }
    for (int i = 0; i < l.n; i++) {
        const char *k = l.items[i].key;
        if (!n_done || !bsearch(&k, done, (size_t)n_done, sizeof *done, cmp_str))
            job.todo[job.n_todo++] = &l.items[i];
    }
    job.decl_rank     = decl_rank;
    job.n_total       = l.n;
    job.n_done_before = l.n - job.n_todo;
    job.results_fd    = results_fd;
    job.errors_fd     = errors_fd;
    rc                = batch_run(cmd, &job);
    if (fsync(results_fd) != 0 && errno != EINVAL && rc == CLI_OK)
        rc = cli_error(cmd, "%s: %s", d.results, strerror(errno));
    if (!cli_verbosity.quiet)
        printf("%d input%s explained, %d already done, %d failed; results in %s\n", job.n_ok,
               job.n_ok == 1 ? "" : "s", job.n_done_before, job.n_failed, d.results);
    if (rc == CLI_OK && job.n_failed) {
        fprintf(stderr, "lrpx batch: %d input%s could not be used (listed in %s; --resume "
                "tries them again)\n", job.n_failed, job.n_failed == 1 ? "" : "s", d.errors);
        rc = CLI_FAIL;
    }
done:
    if (results_fd >= 0)
        close(results_fd);
    if (errors_fd >= 0)
        close(errors_fd);
    if (d.lock_fd >= 0)
        close(d.lock_fd);
    for (int i = 0; i < n_done; i++)
        free(done[i]);
    free(done);
    free(job.todo);
    free(settings);
    batch_list_free(&l);
    cli_free_classes(classes, n_cls);
    cli_method_free(&c.meth);
    for (int i = 0; i < c.sc.n_metrics; i++)
        lrpx_metric_free(c.metrics[i]);
    lrpx_model_free(m);
    return rc;
}
