/* lrpx merge DIR... -o OUT: join the folders of lrpx batch shards into one
 * results.jsonl (sorted by input, output paths relative to OUT) with a
 * summary per class. Refuses folders made with other settings, a shard
 * given twice and an input with two results; reports gaps (shards not
 * given, inputs without a result) and writes nothing then, unless
 * --allow-gaps. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"

static const char merge_usage[] =
    "usage: lrpx merge DIR... -o OUT [--allow-gaps] [--quiet]\n"
    "\n"
    "Join the --out folders of lrpx batch runs (the shards of one data set)\n"
    "into OUT: results.jsonl (every input once, sorted by input; relevance and\n"
    "heatmap paths relative to OUT), run.json (their settings) and\n"
    "summary.json (per class: count, accuracy when the inputs are labelled,\n"
    "mean relevance sum, metric means), printed as a table. The folders must\n"
    "come from the same settings; a shard given twice or an input with two\n"
    "results is an error. Gaps (shards not given, inputs without a result)\n"
    "are listed and nothing is written, unless --allow-gaps.\n";

#define MAX_DIRS 4096

struct merge_args {
    const char *out;
    bool        allow_gaps;
};

static const struct cli_flag merge_flags[] = {
    {"-o", NULL, "OUT", "the merged folder (made if missing)", CLI_STRING,
     offsetof(struct merge_args, out), .need = "a folder"},
    {"--allow-gaps", NULL, NULL, "write the merge even when inputs are missing", CLI_TRUE,
     .off = offsetof(struct merge_args, allow_gaps)},
    {NULL}};

/* One shard folder. */
struct shard {
    const char        *dir;
    char               abs[PATH_MAX];
    cJSON             *run;
    int                index, count;
    struct batch_lines results, inputs, errors;
};

/* One result line. */
struct entry {
    const char *key;
    char       *line;       /* owned by the shard's batch_lines */
    cJSON      *obj;
    int         shard;
};

static int
cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return strcmp(x->key, y->key);
}

static int
cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
shard_load(const char *cmd, struct shard *s)
{
    char   p[8192];
    size_t len;
    if (!realpath(s->dir, s->abs))
        return cli_error(cmd, "%s: %s", s->dir, strerror(errno));
    if (!batch_join(p, sizeof p, s->dir, "run.json"))
        return cli_error(cmd, "%s: path too long", s->dir);
    char *text = batch_slurp(p, &len);
    if (!text)
        return cli_error(cmd, "%s: %s (not the --out folder of lrpx batch?)", p, strerror(errno));
    s->run = cJSON_Parse(text);
    free(text);
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(s->run, "shard");
    cJSON *i  = cJSON_GetObjectItemCaseSensitive(sh, "index");
    cJSON *n  = cJSON_GetObjectItemCaseSensitive(sh, "count");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->run, "settings")) ||
        !cJSON_IsNumber(i) || !cJSON_IsNumber(n) || n->valueint < 1 || i->valueint < 0 ||
        i->valueint >= n->valueint)
        return cli_error(cmd, "%s: not a run.json of lrpx batch", p);
    s->index = i->valueint;
    s->count = n->valueint;
    int rc = CLI_OK;
    const char *names[3] = {"results.jsonl", "inputs.txt", "errors.jsonl"};
    struct batch_lines *dst[3] = {&s->results, &s->inputs, &s->errors};
    for (int k = 0; k < 3 && rc == CLI_OK; k++)
        rc = batch_join(p, sizeof p, s->dir, names[k])
                 ? batch_lines_read(cmd, p, k != 1, false, dst[k])
                 : cli_error(cmd, "%s: path too long", s->dir);
    return rc;
}

/* The key of the settings where a and b first differ. */
static const char *
first_difference(const cJSON *a, const cJSON *b)
{
    for (const cJSON *e = a->child; e; e = e->next)
        if (!cJSON_Compare(e, cJSON_GetObjectItemCaseSensitive(b, e->string), true))
            return e->string;
    return "their keys";
}

/* to (absolute) relative to folder from (absolute). */
static bool
rel_path(const char *from, const char *to, char *buf, size_t size)
{
    size_t i = 0, common = 0;
    while (from[i] && from[i] == to[i]) {
        if (from[i] == '/')
            common = i;
        i++;
    }
    if (!from[i] && (to[i] == '/' || !to[i]))
        common = i;
    else if (!from[i] && common == 0 && i == 1)     /* from is "/" */
        common = 0;
    size_t k = 0;
    const char *f = from + common;
    while (*f == '/')
        f++;
    for (; *f; ) {                   /* one "../" per component of from left */
        if (k + 3 >= size)
            return false;
        memcpy(buf + k, "../", 3);
        k += 3;
        while (*f && *f != '/')
            f++;
        while (*f == '/')
            f++;
    }
    const char *t = to + common;
    while (*t == '/')
        t++;
    return snprintf(buf + k, size - k, "%s", t) < (int)(size - k);
}

/* Replace the JSON string value of `"key": OLD` in line by new_val. */
static char *
replace_value(const char *line, const char *key, const char *old_val, const char *new_val)
{
    char *a = cli_json_quoted(old_val), *b = cli_json_quoted(new_val), *out = NULL;
    char  needle[9000];
    const char *at = NULL;
    if (a && b && snprintf(needle, sizeof needle, "\"%s\": %s", key, a) < (int)sizeof needle)
        at = strstr(line, needle);
    if (at && (out = malloc(strlen(line) + strlen(b) + 1)))
        sprintf(out, "%.*s\"%s\": %s%s", (int)(at - line), line, key, b, at + strlen(needle));
    free(a);
    free(b);
    return out;
}

/* The line with its output paths relative to out_abs. */
static char *
rebase_line(const struct entry *e, const struct shard *s, const char *out_abs)
{
    char *line = strdup(e->line);
    const char *fields[2] = {"relevance", "heatmap"};
    for (int k = 0; k < 2 && line; k++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(e->obj, fields[k]);
        char   abs[8192], rel[8192];
        if (!cJSON_IsString(v))
            continue;
        if (v->valuestring[0] == '/')
            snprintf(abs, sizeof abs, "%s", v->valuestring);
        else if (!batch_join(abs, sizeof abs, s->abs, v->valuestring))
            continue;
        if (!rel_path(out_abs, abs, rel, sizeof rel))
            continue;
        char *next = replace_value(line, fields[k], v->valuestring, rel);
        free(line);
        line = next;
    }
    return line;
}

/* ---- summary ---- */

struct class_sum {
    int64_t cls;
    int     count, predicted, correct;
    double  rsum;
    cJSON  *metric_sums;     /* name -> [sum, count] */
};

static double
num(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The index of class k in cs (added if new; -1: out of memory). The array
 * may move: take pointers only after the last call. */
static int
class_at(struct class_sum **cs, int *n, int64_t k)
{
    for (int i = 0; i < *n; i++)
        if ((*cs)[i].cls == k)
            return i;
    struct class_sum *grow = realloc(*cs, (size_t)(*n + 1) * sizeof **cs);
    if (!grow)
        return -1;
    *cs = grow;
    memset(&grow[*n], 0, sizeof grow[*n]);
    grow[*n].cls         = k;
    grow[*n].metric_sums = cJSON_CreateObject();
    return (*n)++;
}

static int
cmp_class(const void *a, const void *b)
{
    const struct class_sum *x = a, *y = b;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

/* summary.json text; the table on stdout unless quiet. */
static char *
summary(const struct entry *es, int n, int n_missing, char **names, int n_names, bool quiet)
{
    bool labelled = n > 0;
    for (int i = 0; i < n; i++)
        labelled &= num(es[i].obj, "label", -1) >= 0;
    struct class_sum *cs = NULL;
    int               n_cs = 0, n_correct = 0;
    for (int i = 0; i < n; i++) {
        int64_t lab = (int64_t)num(es[i].obj, "label", -1);
        int64_t pre = (int64_t)num(es[i].obj, "predicted", -1);
        int ci = class_at(&cs, &n_cs, labelled ? lab : pre);
        int pi = class_at(&cs, &n_cs, pre);
        if (ci < 0 || pi < 0)
            break;
        struct class_sum *c = &cs[ci], *p = &cs[pi];
        c->count++;
        p->predicted++;
        c->correct += labelled && lab == pre;
        n_correct += labelled && lab == pre;
        c->rsum += num(es[i].obj, "relevance_sum", 0.0);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(es[i].obj, "metrics");
        for (const cJSON *m = ms ? ms->child : NULL; m; m = m->next) {
            if (!cJSON_IsNumber(m))
                continue;
            cJSON *acc = cJSON_GetObjectItemCaseSensitive(c->metric_sums, m->string);
            if (!acc) {
                double z[2] = {0, 0};
                acc = cJSON_CreateDoubleArray(z, 2);
                cJSON_AddItemToObject(c->metric_sums, m->string, acc);
            }
            cJSON_SetNumberValue(cJSON_GetArrayItem(acc, 0),
                                 cJSON_GetArrayItem(acc, 0)->valuedouble + m->valuedouble);
            cJSON_SetNumberValue(cJSON_GetArrayItem(acc, 1),
                                 cJSON_GetArrayItem(acc, 1)->valuedouble + 1);
        }
    }
    qsort(cs, (size_t)n_cs, sizeof *cs, cmp_class);
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (f) {
        fprintf(f, "{\"n_inputs\": %d, \"missing\": %d, \"labelled\": %s, \"accuracy\": ", n,
                n_missing, labelled ? "true" : "false");
        if (labelled)
            fprintf(f, "%.6g", (double)n_correct / n);
        else
            fputs("null", f);
        fprintf(f, ",\n \"grouped_by\": \"%s\", \"classes\": [", labelled ? "label" : "predicted");
        /* the metrics' names over all classes, in first-seen order, as
         * columns m1, m2, ... of the table */
        const char *mnames[64];
        int         n_m = 0;
        for (int i = 0; i < n_cs; i++)
            for (const cJSON *m = cs[i].metric_sums->child; m && n_m < 64; m = m->next) {
                int j = 0;
                while (j < n_m && strcmp(mnames[j], m->string))
                    j++;
                if (j == n_m)
                    mnames[n_m++] = m->string;
            }
        if (!quiet) {
            for (int j = 0; j < n_m; j++)
                printf("%sm%d = mean of %s%s", j ? ", " : "", j + 1, mnames[j],
                       j + 1 == n_m ? "\n" : "");
            printf("%-6s %-20s %8s %10s %10s %16s", "class", "name", "count", "predicted",
                   labelled ? "accuracy" : "", "mean rel. sum");
            for (int j = 0; j < n_m; j++)
                printf(" %11s%d", "m", j + 1);
            putchar('\n');
        }
        for (int i = 0; i < n_cs; i++) {
            const struct class_sum *c = &cs[i];
            const char *nm = c->cls >= 0 && c->cls < n_names ? names[c->cls] : NULL;
            fprintf(f, "%s\n  {\"class\": %lld, \"name\": ", i ? "," : "", (long long)c->cls);
            cli_json_string_or_null(f, nm);
            fprintf(f, ", \"count\": %d, \"predicted\": %d", c->count, c->predicted);
            if (labelled)
                fprintf(f, ", \"correct\": %d, \"accuracy\": %.6g", c->correct,
                        c->count ? (double)c->correct / c->count : 0.0);
            fprintf(f, ", \"mean_relevance_sum\": ");
            if (c->count)
                fprintf(f, "%.9g", c->rsum / c->count);
            else
                fputs("null", f);
            fputs(", \"metrics\": {", f);
            int k = 0;
            for (const cJSON *m = c->metric_sums->child; m; m = m->next, k++) {
                fprintf(f, "%s", k ? ", " : "");
                cli_json_string(f, m->string);
                fprintf(f, ": %.9g", cJSON_GetArrayItem(m, 0)->valuedouble /
                                         cJSON_GetArrayItem(m, 1)->valuedouble);
            }
            fputs("}}", f);
            if (!quiet) {
                char acc[32] = "";
                if (labelled && c->count)
                    snprintf(acc, sizeof acc, "%.2f%%", 100.0 * c->correct / c->count);
                printf("%-6lld %-20.20s %8d %10d %10s %16.6g", (long long)c->cls, nm ? nm : "-",
                       c->count, c->predicted, acc, c->count ? c->rsum / c->count : 0.0);
                for (int j = 0; j < n_m; j++) {
                    const cJSON *acc_m =
                        cJSON_GetObjectItemCaseSensitive(c->metric_sums, mnames[j]);
                    if (acc_m)
                        printf(" %12.6g", cJSON_GetArrayItem(acc_m, 0)->valuedouble /
                                              cJSON_GetArrayItem(acc_m, 1)->valuedouble);
                    else
                        printf(" %12s", "-");
                }
                putchar('\n');
            }
        }
        fputs("]}\n", f);
        fclose(f);
        if (!quiet && labelled)
            printf("accuracy %.2f%% over %d inputs\n", 100.0 * n_correct / n, n);
    }
    for (int i = 0; i < n_cs; i++)
        cJSON_Delete(cs[i].metric_sums);
    free(cs);
    return buf;
}

/* ---- gaps ---- */

/* Inputs of shard s without a result (its inputs.txt minus its lines);
 * prints up to a few. Returns the count. */
static int
shard_gaps(const struct shard *s, const struct entry *es, int n, int si)
{
    char **have = malloc((size_t)(n ? n : 1) * sizeof *have);
    int    n_have = 0, n_gap = 0;
    if (!have)
        return s->inputs.n;
    for (int i = 0; i < n; i++)
        if (es[i].shard == si)
            have[n_have++] = (char *)es[i].key;
    qsort(have, (size_t)n_have, sizeof *have, cmp_cstr);
    for (int i = 0; i < s->inputs.n; i++) {
        const char *k = s->inputs.line[i];
        if (bsearch(&k, have, (size_t)n_have, sizeof *have, cmp_cstr))
            continue;
        if (n_gap++ < 5) {
            const char *why = "not done";
            for (int e = 0; e < s->errors.n; e++) {
                cJSON *o = cJSON_Parse(s->errors.line[e]);
                cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "input");
                if (cJSON_IsString(in) && !strcmp(in->valuestring, k))
                    why = "could not be used (errors.jsonl)";
                cJSON_Delete(o);
            }
            fprintf(stderr, "  %s: %s %s\n", s->dir, k, why);
        }
    }
    if (n_gap > 5)
        fprintf(stderr, "  %s: ... and %d more\n", s->dir, n_gap - 5);
    free(have);
    return n_gap;
}

int
cmd_merge(int argc, char **argv)
{
    const char       *cmd = "merge";
    struct merge_args a   = {0};
    const char      **dirs = calloc(MAX_DIRS, sizeof *dirs);
    int               n_dirs = 0;
    struct cli_flag_group g[] = {{.flags = merge_flags, .ctx = &a}, cli_verbosity_group()};
    if (!dirs)
        return cli_error(cmd, "out of memory");
    int rc = cli_parse_flags(cmd, argc, argv, g, 2, dirs, MAX_DIRS, &n_dirs);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, cmd, merge_usage, g, 2);
        free(dirs);
        return CLI_OK;
    }
    if (rc == CLI_OK && n_dirs == 0)
        rc = cli_usage_error(cmd, "missing DIR (the --out folders of lrpx batch)");
    if (rc == CLI_OK && !a.out)
        rc = cli_usage_error(cmd, "missing -o OUT");
    if (rc != CLI_OK) {
        free(dirs);
        return rc;
    }
    struct shard *sh      = calloc((size_t)n_dirs, sizeof *sh);
    struct entry *es      = NULL;
    char        **names   = NULL;
    char         *text    = NULL;
    int           n_es = 0, n_names = 0, count = 0;
    char          out_abs[PATH_MAX];
    if (!sh) {
        free(dirs);
        return cli_error(cmd, "out of memory");
    }
    for (int i = 0; i < n_dirs && rc == CLI_OK; i++) {
        sh[i].dir = dirs[i];
        rc        = shard_load(cmd, &sh[i]);
        cli_guard_input(dirs[i], "a shard's file");   /* results.jsonl, run.json, ... */
    }
    /* one data set, one sharding, each shard once */
    for (int i = 1; i < n_dirs && rc == CLI_OK; i++) {
        cJSON *s0 = cJSON_GetObjectItemCaseSensitive(sh[0].run, "settings");
        cJSON *si = cJSON_GetObjectItemCaseSensitive(sh[i].run, "settings");
        if (!cJSON_Compare(s0, si, true))
            rc = cli_error(cmd, "%s and %s come from different settings (%s differs)",
                           sh[0].dir, sh[i].dir, first_difference(s0, si));
        else if (sh[i].count != sh[0].count)
            rc = cli_error(cmd, "%s is shard %d/%d but %s is shard %d/%d: one data set is cut "
                           "one way", sh[0].dir, sh[0].index, sh[0].count, sh[i].dir,
                           sh[i].index, sh[i].count);
        for (int j = 0; j < i && rc == CLI_OK; j++)
            if (sh[j].index == sh[i].index)
                rc = cli_error(cmd, "%s and %s are both shard %d/%d", sh[j].dir, sh[i].dir,
                               sh[i].index, sh[i].count);
    }
    int total = 0;
    for (int i = 0; i < n_dirs && rc == CLI_OK; i++)
        total += sh[i].results.n;
    if (rc == CLI_OK && !(es = calloc((size_t)(total ? total : 1), sizeof *es)))
        rc = cli_error(cmd, "out of memory");
    for (int i = 0; i < n_dirs && rc == CLI_OK; i++)
        for (int k = 0; k < sh[i].results.n && rc == CLI_OK; k++) {
            char  *line = sh[i].results.line[k];
            cJSON *o    = batch_parse_line(line, strlen(line));
            if (!o) {
                rc = cli_error(cmd, "%s/results.jsonl:%d: not a result line", sh[i].dir, k + 1);
                break;
            }
            es[n_es++] = (struct entry){
                cJSON_GetObjectItemCaseSensitive(o, "input")->valuestring, line, o, i};
        }
    if (rc == CLI_OK)
        qsort(es, (size_t)n_es, sizeof *es, cmp_entry);
    for (int i = 1; i < n_es && rc == CLI_OK; i++)
        if (!strcmp(es[i - 1].key, es[i].key))
            rc = cli_error(cmd, "%s has results in %s and in %s: refusing duplicates", es[i].key,
                           sh[es[i - 1].shard].dir, sh[es[i].shard].dir);
    if (rc != CLI_OK)
        goto done;

    /* gaps */
    cJSON *set = cJSON_GetObjectItemCaseSensitive(sh[0].run, "settings");
    int n_listed = (int)num(cJSON_GetObjectItemCaseSensitive(set, "inputs"), "n", 0);
    int n_missing = 0, assigned = 0;
    for (int i = 0; i < n_dirs; i++) {
        n_missing += shard_gaps(&sh[i], es, n_es, i);
        assigned += sh[i].inputs.n;
    }
    count = sh[0].count;
    for (int k = 0; k < count; k++) {
        bool have = false;
        for (int i = 0; i < n_dirs; i++)
            have |= sh[i].index == k;
        if (!have)
            fprintf(stderr, "  shard %d/%d: not given\n", k, count);
    }
    n_missing += n_listed - assigned;
    if (n_missing > 0) {
        fprintf(stderr, "lrpx merge: %d of %d inputs have no result%s\n", n_missing, n_listed,
                a.allow_gaps ? " (--allow-gaps: merged without them)" : "; nothing written "
                "(--allow-gaps merges what there is)");
        if (!a.allow_gaps) {
            rc = CLI_FAIL;
            goto done;
        }
    }

    /* write */
    char probe[8192];
    if (!batch_join(probe, sizeof probe, a.out, "x") || batch_mkdirs_for(cmd, probe) != CLI_OK ||
        !realpath(a.out, out_abs)) {
        rc = cli_error(cmd, "-o %s: %s", a.out, strerror(errno));
        goto done;
    }
    for (int i = 0; i < n_dirs; i++)
        if (!strcmp(sh[i].abs, out_abs)) {
            rc = cli_usage_error(cmd, "-o %s is one of the merged folders", a.out);
            goto done;
        }
    char  *res = NULL;
    size_t n_res = 0;
    FILE  *f = open_memstream(&res, &n_res);
    for (int i = 0; f && i < n_es; i++) {
        char *line = rebase_line(&es[i], &sh[es[i].shard], out_abs);
        fprintf(f, "%s\n", line ? line : es[i].line);
        free(line);
    }
    if (f)
        fclose(f);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(set, "model");
    if (cJSON_IsString(model))
        names = cli_load_classes(model->valuestring, &n_names);
    text = summary(es, n_es, n_missing, names, n_names, cli_verbosity.quiet);
    /* run.json of the merge: the settings, the folders, one "shard" */
    cJSON *run = cJSON_Duplicate(sh[0].run, true);
    cJSON *from = cJSON_CreateArray();
    for (int i = 0; i < n_dirs; i++)
        cJSON_AddItemToArray(from, cJSON_CreateString(sh[i].abs));
    cJSON_ReplaceItemInObject(run, "shard", cJSON_Parse("{\"index\": 0, \"count\": 1}"));
    cJSON_DeleteItemFromObject(run, "shard_from");
    cJSON_AddItemToObject(run, "merged_from", from);
    cJSON_ReplaceItemInObject(run, "n_assigned", cJSON_CreateNumber(n_es));
    char *run_text = cJSON_Print(run);
    cJSON_Delete(run);
    if (!res || !text || !run_text)
        rc = cli_error(cmd, "out of memory");
    if (rc == CLI_OK)
        rc = batch_write(cmd, a.out, "results.jsonl", res, n_res);
    if (rc == CLI_OK)
        rc = batch_write(cmd, a.out, "summary.json", text, strlen(text));
    if (rc == CLI_OK)
        rc = batch_write(cmd, a.out, "run.json", run_text, strlen(run_text));
    if (rc == CLI_OK && !cli_verbosity.quiet)
        printf("merged %d folder%s: %d results in %s/results.jsonl\n", n_dirs,
               n_dirs == 1 ? "" : "s", n_es, a.out);
    free(res);
    free(run_text);
done:
    for (int i = 0; i < n_es; i++)
        cJSON_Delete(es[i].obj);
    for (int i = 0; i < n_dirs; i++) {
        cJSON_Delete(sh[i].run);
        batch_lines_free(&sh[i].results);
        batch_lines_free(&sh[i].inputs);
        batch_lines_free(&sh[i].errors);
    }
    cli_free_classes(names, n_names);
    free(text);
    free(es);
    free(sh);
    free(dirs);
    return rc;
}
