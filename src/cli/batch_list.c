/* The inputs of lrpx batch: a folder walked recursively or a manifest
 * (CSV or JSONL), and the shard of them this process explains. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "batch.h"

uint64_t
batch_key_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void
batch_list_free(struct batch_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].path);
        free(l->items[i].out_rel);
        free(l->items[i].mask);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* The output name of a key: the key itself when it is a plain relative
 * path; else '/' at the start dropped and "." / ".." parts renamed, so the
 * outputs stay inside --out. */
static char *
out_name(const char *key)
{
    size_t n   = strlen(key);
    char  *out = malloc(3 * n + 2), *o = out;
    if (!out)
        return NULL;
    const char *p = key;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t      l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0)
            break;
        if (o != out)
            *o++ = '/';
        if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.')) {
            memcpy(o, l == 1 ? "_." : "_..", l + 1);
            o += l + 1;
        } else {
            memcpy(o, p, l);
            o += l;
        }
        p += l;
    }
    *o = '\0';
    return out;
}

static int
list_add(const char *cmd, struct batch_list *l, const char *key, const char *path,
         const char *mask, int64_t label, int64_t target)
{
    if (strpbrk(key, "\n\r"))
        return cli_error(cmd, "an input name holds a line break; lrpx batch keeps one name per "
                         "line (inputs.txt): rename it");
    if (l->n == l->cap) {
        int                cap  = l->cap ? l->cap * 2 : 256;
        struct batch_item *grow = realloc(l->items, (size_t)cap * sizeof *grow);
        if (!grow)
            return cli_error(cmd, "out of memory for %d inputs", l->n);
        l->items = grow;
        l->cap   = cap;
    }
    struct batch_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->key     = strdup(key);
    it->path    = strdup(path);
    it->out_rel = out_name(key);
    it->mask    = mask ? strdup(mask) : NULL;
    it->label   = label;
    it->target  = target;
    l->n++;
    if (!it->key || !it->path || !it->out_rel || (mask && !it->mask))
        return cli_error(cmd, "out of memory");
    l->has_labels |= label >= 0;
    return CLI_OK;
}

static bool
wanted_file(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
                   !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".npy"));
}

/* Folders still to read: a stack of relative paths. A folder whose real
 * path is skip (the run's --out, when it lies below the inputs) is left
 * out. */
static int
walk(const char *cmd, const char *root, const char *skip, struct batch_list *l)
{
    char **stack = malloc(sizeof *stack);
    int    n = 1, cap = 1, rc = CLI_OK;
    if (!stack || !(stack[0] = strdup("")))
        return cli_error(cmd, "out of memory");
    while (n > 0 && rc == CLI_OK) {
        char *rel = stack[--n];
        char  dir[8192];
        snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
        DIR *d = opendir(dir);
        if (!d) {
            rc = cli_error(cmd, "%s: cannot open folder: %s", dir, strerror(errno));
            free(rel);
            break;
        }
        struct dirent *e;
        while (rc == CLI_OK && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char key[4096], path[8192];
            struct stat sb;
            if (snprintf(key, sizeof key, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                    (int)sizeof key ||
                !batch_join(path, sizeof path, root, key)) {
                rc = cli_error(cmd, "%s/%s: path too long", dir, e->d_name);
                break;
            }
            if (stat(path, &sb) != 0)
                continue;                       /* a dangling link */
            char real[PATH_MAX];
            if (S_ISDIR(sb.st_mode) && skip && realpath(path, real) && !strcmp(real, skip))
                continue;
            if (S_ISDIR(sb.st_mode)) {
                if (n == cap) {
                    char **grow = realloc(stack, (size_t)(cap *= 2) * sizeof *stack);
                    if (!grow) {
                        rc = cli_error(cmd, "out of memory");
                        break;
                    }
                    stack = grow;
                }
                if (!(stack[n++] = strdup(key)))
                    rc = cli_error(cmd, "out of memory");
            } else if (S_ISREG(sb.st_mode) && wanted_file(e->d_name)) {
                rc = list_add(cmd, l, key, path, NULL, -1, -1);
            }
        }
        closedir(d);
        free(rel);
    }
    while (n > 0)
        free(stack[--n]);
    free(stack);
    return rc;
}

static int
cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct batch_item *)a)->key, ((const struct batch_item *)b)->key);
}

static void
list_hash(struct batch_list *l)
{
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < l->n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "\n%lld\n%lld\n", (long long)l->items[i].label,
                 (long long)l->items[i].target);
        h = (h ^ batch_key_hash(l->items[i].key)) * 1099511628211ULL;
        h = (h ^ batch_key_hash(buf)) * 1099511628211ULL;
    }
    l->hash = h;
}

int
batch_list_dir(const char *cmd, const char *dir, const char *skip, struct batch_list *l)
{
    struct stat sb;
    memset(l, 0, sizeof *l);
    if (stat(dir, &sb) != 0)
        return cli_error(cmd, "--inputs %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cli_error(cmd, "--inputs %s: not a folder (a list of files is a --manifest)", dir);
    char skip_real[PATH_MAX];
    int  rc = walk(cmd, dir, skip && realpath(skip, skip_real) ? skip_real : NULL, l);
    if (rc == CLI_OK && l->n == 0)
        rc = cli_error(cmd, "--inputs %s: no .png, .jpg, .jpeg or .npy file in it", dir);
    if (rc != CLI_OK) {
        batch_list_free(l);
        return rc;
    }
    qsort(l->items, (size_t)l->n, sizeof *l->items, cmp_key);
    list_hash(l);
    return CLI_OK;
}

/* ---- manifests ---- */

bool
batch_parse_class(const char *s, char **classes, int n_classes, int64_t *out)
{
    long long k;
    *out = -1;
    if (!*s)
        return true;
    if (cli_parse_int(s, &k)) {
        *out = k;
        return k >= 0;
    }
    for (int i = 0; i < n_classes; i++)
        if (!strcmp(s, classes[i])) {
            *out = i;
            return true;
        }
    return false;
}

/* One CSV record of line (RFC 4180 quoting: "a,b" and "" for a quote)
 * into fields; returns the count or -1 for a bad quote. Cuts line in
 * place. */
static int
csv_fields(char *line, char **fields, int max)
{
    int   n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            char *w = ++p;
            fields[n++] = w;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            if (*p && *p != ',')
                return -1;
        } else {
            fields[n++] = p;
            while (*p && *p != ',')
                p++;
        }
        if (!*p)
            return n;
        *p++ = '\0';
    }
}

enum { COL_PATH, COL_LABEL, COL_TARGET, COL_MASK, N_COLS };
static const char *const col_names[N_COLS] = {"path", "label", "target", "mask"};

/* "path" relative to the manifest's folder unless absolute. */
static int
add_entry(const char *cmd, struct batch_list *l, const char *base, const char *where,
          const char *const vals[N_COLS], char **classes, int n_classes)
{
    int64_t label, target;
    if (!vals[COL_PATH] || !*vals[COL_PATH])
        return cli_error(cmd, "%s: no path", where);
    if (!batch_parse_class(vals[COL_LABEL] ? vals[COL_LABEL] : "", classes, n_classes, &label))
        return cli_error(cmd, "%s: label '%s' is neither a class index nor a class name",
                         where, vals[COL_LABEL]);
    if (!batch_parse_class(vals[COL_TARGET] ? vals[COL_TARGET] : "", classes, n_classes, &target))
        return cli_error(cmd, "%s: target '%s' is neither a class index nor a class name",
                         where, vals[COL_TARGET]);
    const char *key = vals[COL_PATH];
    while (key[0] == '.' && key[1] == '/')
        key += 2;
    char path[8192], mask[8192];
    if (key[0] == '/')
        snprintf(path, sizeof path, "%s", key);
    else if (!batch_join(path, sizeof path, base, key))
        return cli_error(cmd, "%s: path too long", where);
    const char *m = vals[COL_MASK] && *vals[COL_MASK] ? vals[COL_MASK] : NULL;
    if (m && m[0] != '/' && !batch_join(mask, sizeof mask, base, m))
        return cli_error(cmd, "%s: mask path too long", where);
    return list_add(cmd, l, key, path, m ? (m[0] == '/' ? m : mask) : NULL, label, target);
}

static int
manifest_csv(const char *cmd, const char *file, char **lines, int n_lines, const char *base,
             char **classes, int n_classes, struct batch_list *l)
{
    char *f[64];
    int   col[N_COLS] = {-1, -1, -1, -1};
    int   nh          = n_lines > 0 ? csv_fields(lines[0], f, 64) : 0;
    if (nh < 0)
        return cli_error(cmd, "%s:1: bad quoting in the header", file);
    for (int i = 0; i < nh; i++)
        for (int c = 0; c < N_COLS; c++)
            if (!strcmp(f[i], col_names[c]))
                col[c] = i;
    if (col[COL_PATH] < 0)
        return cli_error(cmd, "%s:1: the header names no 'path' column (CSV manifests start "
                         "with a header such as path,label,target,mask)", file);
    for (int i = 1; i < n_lines; i++) {
        if (!lines[i][0])
            continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", file, i + 1);
        int nf = csv_fields(lines[i], f, 64);
        if (nf < 0)
            return cli_error(cmd, "%s: bad quoting", where);
        if (nf != nh)
            return cli_error(cmd, "%s: %d fields, the header has %d", where, nf, nh);
        const char *vals[N_COLS];
        for (int c = 0; c < N_COLS; c++)
            vals[c] = col[c] >= 0 ? f[col[c]] : NULL;
        int rc = add_entry(cmd, l, base, where, vals, classes, n_classes);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

static int
manifest_jsonl(const char *cmd, const char *file, char **lines, int n_lines, const char *base,
               char **classes, int n_classes, struct batch_list *l)
{
    for (int i = 0; i < n_lines; i++) {
        if (!lines[i][0])
            continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", file, i + 1);
        cJSON *o = cJSON_Parse(lines[i]);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            return cli_error(cmd, "%s: not a JSON object", where);
        }
        const char *vals[N_COLS] = {NULL};
        char        num[2][32];
        int         rc = CLI_OK;
        for (cJSON *e = o->child; e && rc == CLI_OK; e = e->next) {
            int c = 0;
            while (c < N_COLS && strcmp(e->string, col_names[c]))
                c++;
            if (c == N_COLS)
                rc = cli_error(cmd, "%s: unknown key \"%s\" (path, label, target, mask)", where,
                               e->string);
            else if (cJSON_IsString(e))
                vals[c] = e->valuestring;
            else if (cJSON_IsNumber(e) && (c == COL_LABEL || c == COL_TARGET) &&
                     e->valuedouble == (double)(long long)e->valuedouble) {
                snprintf(num[c - COL_LABEL], sizeof num[0], "%lld", (long long)e->valuedouble);
                vals[c] = num[c - COL_LABEL];
            } else if (!cJSON_IsNull(e))
                rc = cli_error(cmd, "%s: \"%s\" must be a %s", where, e->string,
                               c == COL_LABEL || c == COL_TARGET ? "class index or name"
                                                                 : "string");
        }
        if (rc == CLI_OK)
            rc = add_entry(cmd, l, base, where, vals, classes, n_classes);
        cJSON_Delete(o);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

int
batch_list_manifest(const char *cmd, const char *file, char **classes, int n_classes,
                    struct batch_list *l)
{
    memset(l, 0, sizeof *l);
    struct batch_lines bl;
    int                rc = batch_lines_read(cmd, file, false, true, &bl);
    if (rc != CLI_OK)
        return rc;
    for (int i = 0; i < bl.n; i++) {      /* CRLF files */
        size_t k = strlen(bl.line[i]);
        if (k && bl.line[i][k - 1] == '\r')
            bl.line[i][k - 1] = '\0';
    }
    char base[4096];
    const char *slash = strrchr(file, '/');
    snprintf(base, sizeof base, "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
    if (slash == file)
        snprintf(base, sizeof base, "/");
    int first = 0;
    while (first < bl.n && !bl.line[first][0])
        first++;
    bool json = first < bl.n && bl.line[first][0] == '{';
    rc = json ? manifest_jsonl(cmd, file, bl.line, bl.n, base, classes, n_classes, l)
              : manifest_csv(cmd, file, bl.line, bl.n, base, classes, n_classes, l);
    batch_lines_free(&bl);
    if (rc == CLI_OK && l->n == 0)
        rc = cli_error(cmd, "%s: lists no input", file);
    if (rc != CLI_OK) {
        batch_list_free(l);
        return rc;
    }
    list_hash(l);
    return CLI_OK;
}

static int
cmp_out(const void *a, const void *b)
{
    const struct batch_item *x = *(const struct batch_item *const *)a;
    const struct batch_item *y = *(const struct batch_item *const *)b;
    int c = strcmp(x->out_rel, y->out_rel);
    return c ? c : strcmp(x->key, y->key);
}

int
batch_list_check(const char *cmd, const struct batch_list *l, int64_t n_classes)
{
    const struct batch_item **v = malloc((size_t)(l->n ? l->n : 1) * sizeof *v);
    if (!v)
        return cli_error(cmd, "out of memory");
    int rc = CLI_OK;
    for (int i = 0; i < l->n && rc == CLI_OK; i++) {
        const struct batch_item *it = &l->items[i];
        v[i] = it;
        if (n_classes > 0 && (it->label >= n_classes || it->target >= n_classes))
            rc = cli_error(cmd, "%s: %s %lld, but the model has %lld classes", it->key,
                           it->target >= n_classes ? "target" : "label",
                           (long long)(it->target >= n_classes ? it->target : it->label),
                           (long long)n_classes);
    }
    if (rc == CLI_OK)
        qsort(v, (size_t)l->n, sizeof *v, cmp_out);
    for (int i = 1; i < l->n && rc == CLI_OK; i++)
        if (!strcmp(v[i - 1]->out_rel, v[i]->out_rel))
            rc = !strcmp(v[i - 1]->key, v[i]->key)
                     ? cli_error(cmd, "%s is listed twice", v[i]->key)
                     : cli_error(cmd, "%s and %s would write the same output files",
                                 v[i - 1]->key, v[i]->key);
    free(v);
    return rc;
}

/* ---- shards ---- */

static bool
env_int(const char *name, long long *out)
{
    const char *v = getenv(name);
    return v && *v && cli_parse_int(v, out);
}

int
batch_shard_resolve(const char *cmd, const char *flag, int shards, int *index, int *count,
                    const char **source)
{
    long long i, n, lo = 0, step = 1;
    *index  = 0;
    *count  = 1;
    *source = NULL;
    if (flag) {
        const char *slash = strchr(flag, '/');
        char        a[32];
        if (!slash || (size_t)(slash - flag) >= sizeof a)
            return cli_usage_error(cmd, "--shard needs I/N with 0 <= I < N");
        snprintf(a, sizeof a, "%.*s", (int)(slash - flag), flag);
        if (!cli_parse_int(a, &i) || !cli_parse_int(slash + 1, &n) || n < 1 || n > 1000000 ||
            i < 0 || i >= n)
            return cli_usage_error(cmd, "--shard needs I/N with 0 <= I < N, not '%s'", flag);
        if (shards && shards != n)
            return cli_usage_error(cmd, "--shards %d contradicts --shard %s", shards, flag);
        *source = "--shard";
    } else if (getenv("SLURM_ARRAY_TASK_ID")) {
        if (!env_int("SLURM_ARRAY_TASK_ID", &i))
            return cli_usage_error(cmd, "SLURM_ARRAY_TASK_ID='%s' is not a whole number",
                                   getenv("SLURM_ARRAY_TASK_ID"));
        if (!env_int("SLURM_ARRAY_TASK_COUNT", &n) && !(n = shards))
            return cli_usage_error(cmd, "SLURM_ARRAY_TASK_ID is set but not "
                                   "SLURM_ARRAY_TASK_COUNT: give --shards N");
        if (shards && shards != n)
            return cli_usage_error(cmd, "--shards %d contradicts SLURM_ARRAY_TASK_COUNT=%lld",
                                   shards, n);
        env_int("SLURM_ARRAY_TASK_MIN", &lo);
        env_int("SLURM_ARRAY_TASK_STEP", &step);
        if (step < 1 || i < lo || (i - lo) % step || (i - lo) / step >= n)
            return cli_usage_error(cmd, "Slurm task %lld is not one of %lld tasks from %lld by "
                                   "%lld (use --array=0-%lld, or --shard I/N)",
                                   i, n, lo, step, n - 1);
        i       = (i - lo) / step;
        *source = "SLURM_ARRAY_TASK_ID";
    } else if (getenv("JOB_COMPLETION_INDEX")) {
        if (!env_int("JOB_COMPLETION_INDEX", &i) || i < 0)
            return cli_usage_error(cmd, "JOB_COMPLETION_INDEX='%s' is not an index",
                                   getenv("JOB_COMPLETION_INDEX"));
        if (!shards)
            return cli_usage_error(cmd, "JOB_COMPLETION_INDEX is set: give the number of "
                                   "shards (the Job's completions) with --shards N");
        n = shards;
        if (i >= n)
            return cli_usage_error(cmd, "JOB_COMPLETION_INDEX=%lld is not below --shards %lld",
                                   i, n);
        *source = "JOB_COMPLETION_INDEX";
    } else {
        if (shards > 1)
            return cli_usage_error(cmd, "--shards N goes with JOB_COMPLETION_INDEX or "
                                   "SLURM_ARRAY_TASK_ID (or use --shard I/N)");
        return CLI_OK;
    }
    *index = (int)i;
    *count = (int)n;
    return CLI_OK;
}

void
batch_list_shard(struct batch_list *l, int index, int count)
{
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        if (batch_key_hash(l->items[i].key) % (uint64_t)count == (uint64_t)index) {
            l->items[k++] = l->items[i];
            continue;
        }
        free(l->items[i].key);
        free(l->items[i].path);
        free(l->items[i].out_rel);
        free(l->items[i].mask);
    }
    l->n = k;
}
