/* Helpers shared by the lrpx subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int
cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    cli_progress_clear();
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    cli_progress_clear();
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'lrpx %s --help')\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

bool
cli_parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

bool
cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

lrpx_model *
cli_load_model(const char *cmd, const char *path, bool allow_unsupported)
{
    return cli_load_model_ex(cmd, path, allow_unsupported, true);
}

lrpx_model *
cli_load_model_ex(const char *cmd, const char *path, bool allow_unsupported, bool fold_bn)
{
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.allow_unsupported = allow_unsupported;
    o.fold_batchnorm    = fold_bn;
    lrpx_model *m;
    double      t0 = cli_now();
    lrpx_status rc = lrpx_model_load_file(path, &o, &m);
    if (rc != LRPX_OK) {
        cli_error(cmd, "%s (%s)", lrpx_model_errmsg(m), lrpx_status_name(rc));
        lrpx_model_free(m);
        return NULL;
    }
    cli_verbose(cmd, t0, "load %s:", path);
    return m;
}

int
cli_input_add(const char *cmd, struct cli_inputs *in, const char *name, const char *path)
{
    if (in->n == CLI_MAX_INPUTS)
        return cli_usage_error(cmd, "too many inputs");
    in->list[in->n].name = name;
    in->list[in->n].path = path;
    in->n++;
    return CLI_OK;
}

static int
input_named(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_inputs *in = ctx;
    const char        *eq = strchr(val, '=');
    if (!eq || eq == val || !eq[1])
        return CLI_USAGE;
    if (in->n == CLI_MAX_INPUTS) {
        snprintf(msg, size, "too many inputs (at most %d)", CLI_MAX_INPUTS);
        return CLI_USAGE;
    }
    char *name = in->names[in->n_names++];
    snprintf(name, sizeof in->names[0], "%.*s", (int)(eq - val), val);
    in->list[in->n].name = name;
    in->list[in->n].path = eq + 1;
    in->n++;
    return CLI_OK;
}

static const struct cli_flag input_flags[] = {
    {"--input", NULL, "NAME=FILE", "a file for the model input NAME (repeat for each)",
     CLI_CALL, .call = input_named, .need = "NAME=FILE"},
    {NULL}};

struct cli_flag_group
cli_input_group(struct cli_inputs *in)
{
    return (struct cli_flag_group){.flags = input_flags, .ctx = in};
}

int
cli_inputs_positional(const char *cmd, struct cli_inputs *in, const char *const *paths, int n)
{
    if (in->n + n > CLI_MAX_INPUTS)
        return cli_usage_error(cmd, "too many inputs (at most %d)", CLI_MAX_INPUTS);
    memmove(in->list + n, in->list, (size_t)in->n * sizeof in->list[0]);
    for (int i = 0; i < n; i++) {
        in->list[i].name = NULL;
        in->list[i].path = paths[i];
    }
    in->n += n;
    return CLI_OK;
}

int
cli_parse_model_inputs(const char *cmd, int argc, char **argv,
                       const struct cli_flag_group *groups, int n_groups, struct cli_inputs *in,
                       const char **model)
{
    const char *pos[CLI_MAX_INPUTS + 1];
    int         n_pos;
    int rc = cli_parse_flags(cmd, argc, argv, groups, n_groups, pos, CLI_MAX_INPUTS + 1, &n_pos);
    if (rc != CLI_OK)
        return rc;
    *model = n_pos ? pos[0] : NULL;
    if (n_pos > 1 && cli_inputs_positional(cmd, in, pos + 1, n_pos - 1) != CLI_OK)
        return CLI_USAGE;
    return CLI_OK;
}

int
cli_check_model_input(const char *cmd, const char *model_path, int n_inputs)
{
    if (!model_path)
        return cli_usage_error(cmd, "missing MODEL");
    if (n_inputs == 0)
        return cli_usage_error(cmd, "missing INPUT");
    return CLI_OK;
}

/* cli_set_input and the other input readers are in input.c. */

/* ---- class names: a tiny reader for "class_names" (or "classes"): ["a", ...] ---- */

FILE *
cli_fopen_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    return f;
}

char **
cli_load_classes(const char *model_path, int *n_classes)
{
    *n_classes = 0;
    char   path[4096];
    size_t l = strlen(model_path);
    if (l < 5 || l + 1 > sizeof path || strcmp(model_path + l - 5, ".onnx") != 0)
        return NULL;
    snprintf(path, sizeof path, "%.*s.json", (int)(l - 5), model_path);
    FILE *f = cli_fopen_regular(path);
    if (!f)
        return NULL;
    char  *buf = malloc(1 << 20);
    size_t n   = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf)
        return NULL;
    buf[n]     = '\0';
    char **out = NULL;
    const char *p = strstr(buf, "\"class_names\"");
    if (!p)
        p = strstr(buf, "\"classes\"");
    if (p && (p = strchr(p, '['))) {
        p++;
        int cap = 0;
        while (*p && *p != ']') {
            const char *q = strchr(p, '"');
            if (!q)
                break;
            const char *e = strchr(q + 1, '"');
            if (!e)
                break;
            if (*n_classes == cap) {
                cap       = cap ? cap * 2 : 16;
                char **nw = realloc(out, (size_t)cap * sizeof *out);
                if (!nw)
                    break;
                out = nw;
            }
            out[*n_classes] = strndup(q + 1, (size_t)(e - q - 1));
            if (!out[*n_classes])
                break;
            (*n_classes)++;
            p = e + 1;
            while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r' || *p == '\t')
                p++;
        }
    }
    free(buf);
    return out;
}

void
cli_free_classes(char **classes, int n)
{
    for (int i = 0; i < n; i++)
        free(classes[i]);
    free(classes);
}

int
cli_write_npy(const char *cmd, const char *path, const lrpx_tensor_view *v)
{
    char   err[1024];
    double t0 = cli_now();
    if (cli_guard_output(cmd, "output", path) != CLI_OK)
        return CLI_USAGE;
    if (lrpx_npy_write(path, v->dtype, v->rank, v->dims, v->data, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "%s", err);
    cli_verbose(cmd, t0, "write %s:", path);
    return CLI_OK;
}

void
cli_put_number(FILE *f, double v, int digits, const char *nonfinite)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs(nonfinite, f);
}

void
cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void
cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void
cli_json_string_or_null(FILE *f, const char *s)
{
    if (s)
        cli_json_string(f, s);
    else
        fputs("null", f);
}

char *
cli_json_quoted(const char *s)
{
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    cli_json_string(f, s);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void
cli_json_floats(FILE *f, const lrpx_tensor_view *v)
{
    fputc('[', f);
    for (int64_t i = 0; i < v->n_elems; i++) {
        double x;
        switch (v->dtype) {
        case LRPX_DTYPE_FLOAT32: x = ((const float *)v->data)[i]; break;
        case LRPX_DTYPE_FLOAT64: x = ((const double *)v->data)[i]; break;
        case LRPX_DTYPE_INT64:   x = (double)((const int64_t *)v->data)[i]; break;
        case LRPX_DTYPE_INT32:   x = ((const int32_t *)v->data)[i]; break;
        case LRPX_DTYPE_BOOL:
        case LRPX_DTYPE_UINT8:   x = ((const uint8_t *)v->data)[i]; break;
        case LRPX_DTYPE_INT8:    x = ((const int8_t *)v->data)[i]; break;
        default:                 x = NAN; break;
        }
        if (i)
            fputc(',', f);
        if (isfinite(x))
            fprintf(f, "%.9g", x);
        else
            fputs("null", f);
    }
    fputc(']', f);
}

void
cli_print_dims(FILE *f, const int64_t *dims, int rank)
{
    fputc('[', f);
    for (int k = 0; k < rank; k++)
        fprintf(f, k ? ", %lld" : "%lld", (long long)dims[k]);
    fputc(']', f);
}
