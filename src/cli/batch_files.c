/* Files of lrpx batch, merge and spray: paths, folders, whole files and
 * JSON lines. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"

bool
batch_join(char *buf, size_t size, const char *dir, const char *name)
{
    size_t l = strlen(dir);
    return snprintf(buf, size, "%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", name) <
           (int)size;
}

int
batch_mkdirs_for(const char *cmd, const char *path)
{
    char buf[8192];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cli_error(cmd, "%s: path too long", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return CLI_OK;
    *slash = '\0';
    struct stat sb;
    if (stat(buf, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? CLI_OK : cli_error(cmd, "%s: not a folder", buf);
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p     = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cli_error(cmd, "cannot make folder %s: %s", buf, strerror(errno));
        if (!c)
            break;
        *p = c;
    }
    return CLI_OK;
}

int
batch_write(const char *cmd, const char *dir, const char *name, const char *text, size_t len)
{
    char p[8192], err[1024];
    if (name && !batch_join(p, sizeof p, dir, name))
        return cli_error(cmd, "%s: path too long", dir);
    if (cli_guard_output(cmd, "output", name ? p : dir) != CLI_OK)     /* not an input */
        return CLI_USAGE;
    if (lrpx_file_write(name ? p : dir, text, len, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "%s", err);
    return CLI_OK;
}

char *
batch_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char  *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *grow = realloc(buf, cap *= 2);
        if (!grow)
            free(buf);
        buf = grow;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        errno = buf ? EIO : ENOMEM;
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int
batch_lines_read(const char *cmd, const char *path, bool missing_ok, bool keep_last,
                 struct batch_lines *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    out->text = batch_slurp(path, &len);
    if (!out->text) {
        if (missing_ok && errno == ENOENT)
            return CLI_OK;
        return cli_error(cmd, "%s: %s", path, strerror(errno));
    }
    if (memchr(out->text, '\0', len)) {
        free(out->text);
        out->text = NULL;
        return cli_error(cmd, "%s: not a text file (it holds NUL bytes)", path);
    }
    int n = 1;
    for (size_t i = 0; i < len; i++)
        n += out->text[i] == '\n';
    if (!(out->line = malloc((size_t)n * sizeof *out->line))) {
        batch_lines_free(out);
        return cli_error(cmd, "out of memory");
    }
    char *p = out->text;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (!nl) {
            if (keep_last)
                out->line[out->n++] = p;
            else
                out->torn = true;
            break;
        }
        *nl                 = '\0';
        out->line[out->n++] = p;
        p                   = nl + 1;
    }
    return CLI_OK;
}

void
batch_lines_free(struct batch_lines *bl)
{
    free(bl->text);
    free(bl->line);
    memset(bl, 0, sizeof *bl);
}

cJSON *
batch_parse_line(const char *line, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(o) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "input"))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
