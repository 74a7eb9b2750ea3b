/* Helpers shared by the lrpx subcommands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
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
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'lrpx %s --help')\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int
cli_flag_value(int argc, char **argv, int *i, const char *flag, const char **value)
{
    size_t fl = strlen(flag);
    if (strncmp(argv[*i], flag, fl) != 0)
        return 0;
    if (argv[*i][fl] == '=') {          /* --flag=value */
        *value = argv[*i] + fl + 1;
        return 1;
    }
    if (argv[*i][fl] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
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
    lrpx_status rc = lrpx_model_load_file(path, &o, &m);
    if (rc != LRPX_OK) {
        cli_error(cmd, "%s (%s)", lrpx_model_errmsg(m), lrpx_status_name(rc));
        lrpx_model_free(m);
        return NULL;
    }
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

int
cli_input_flag(const char *cmd, int argc, char **argv, int *i, struct cli_inputs *in, int *rc)
{
    const char *val = NULL;
    int         r   = cli_flag_value(argc, argv, i, "--input", &val);
    if (r == 0)
        return 0;
    const char *eq = r > 0 ? strchr(val, '=') : NULL;
    if (!eq || eq == val || !eq[1]) {
        *rc = cli_usage_error(cmd, "--input needs NAME=FILE");
        return 1;
    }
    if (in->n == CLI_MAX_INPUTS) {
        *rc = cli_usage_error(cmd, "too many inputs");
        return 1;
    }
    snprintf(in->names[in->n], sizeof in->names[0], "%.*s", (int)(eq - val), val);
    *rc = cli_input_add(cmd, in, in->names[in->n], eq + 1);
    return 1;
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

char **
cli_load_classes(const char *model_path, int *n_classes)
{
    *n_classes = 0;
    char   path[4096];
    size_t l = strlen(model_path);
    if (l < 5 || l + 1 > sizeof path || strcmp(model_path + l - 5, ".onnx") != 0)
        return NULL;
    snprintf(path, sizeof path, "%.*s.json", (int)(l - 5), model_path);
    FILE *f = fopen(path, "rb");
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
    char err[1024];
    if (lrpx_npy_write(path, v->dtype, v->rank, v->dims, v->data, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "%s", err);
    return CLI_OK;
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
