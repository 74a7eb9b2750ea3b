/* Model inputs from files, shared by run, explain, gradient, bench and
 * preprocess:
 *
 *   - a .npy array (found by its magic "\x93NUMPY", not by its name);
 *   - a JPEG or PNG image (magic bytes too), preprocessed for the model;
 *   - several files for one input: one batch (images must come out the
 *     same size; arrays must have the same shape);
 *   - a folder: every JPEG/PNG in it, sorted by name (other files are
 *     skipped).
 *
 * The preprocessing settings are, in this order: --preprocess NAME|FILE,
 * else the model's "<model>.preprocess.json", else "zero-one" (pixels / 255);
 * then the individual flags (--resize, --crop, ...) override fields; then
 * the model's input shape fills what is still unset (layout, gray/RGB,
 * size). See docs/visualization.md. */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

void
cli_prep_init(struct cli_prep *p)
{
    memset(p, 0, sizeof *p);
    lrpx_preprocess_init(&p->set);
}

/* "N" or "WxH" (or "none" when allow_none): sizes 1..2^20. Returns 1 for a
 * single number, 2 for WxH, 3 for none, 0 on error. */
static int
parse_size(const char *s, int *w, int *h)
{
    if (!strcmp(s, "none"))
        return 3;
    char     *end;
    long long a, b;
    errno = 0;
    a     = strtoll(s, &end, 10);
    if (errno || end == s || a < 1 || a > (1 << 20))
        return 0;
    if (*end == '\0') {
        *w = *h = (int)a;
        return 1;
    }
    if (*end != 'x' && *end != 'X')
        return 0;
    const char *t = end + 1;
    b             = strtoll(t, &end, 10);
    if (errno || end == t || *end || b < 1 || b > (1 << 20))
        return 0;
    *w = (int)a;
    *h = (int)b;
    return 2;
}

/* "a,b,c": 1 or 3 finite numbers. Returns the count or 0. */
static int
parse_stats(const char *s, double v[3])
{
    int n = 0;
    while (n < 3) {
        char  *end;
        errno = 0;
        v[n]  = strtod(s, &end);
        if (errno || end == s || !isfinite(v[n]))
            return 0;
        n++;
        if (*end == '\0')
            break;
        if (*end != ',')
            return 0;
        s = end + 1;
        if (n == 3)
            return 0;
    }
    return n == 1 || n == 3 ? n : 0;
}

/* A number or a fraction "a/b". */
static bool
parse_scale(const char *s, double *out)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return cli_parse_double(s, out) && *out != 0.0;
    char buf[64];
    if ((size_t)(slash - s) >= sizeof buf)
        return false;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    double a, b;
    if (!cli_parse_double(buf, &a) || !cli_parse_double(slash + 1, &b) || b == 0.0)
        return false;
    *out = a / b;
    return isfinite(*out) && *out != 0.0;
}

static int
prep_resize(void *ctx, const char *val, char *msg, size_t size)
{
    struct lrpx_preprocess *s = &((struct cli_prep *)ctx)->set;
    int                     w = 0, h = 0, k = parse_size(val, &w, &h);
    (void)msg, (void)size;
    if (k == 1) {
        s->resize         = LRPX_RESIZE_SHORTER;
        s->resize_shorter = w;
    } else if (k == 2) {
        s->resize        = LRPX_RESIZE_EXACT;
        s->resize_width  = w;
        s->resize_height = h;
    } else if (k == 3) {
        s->resize = LRPX_RESIZE_NONE;
    }
    return k == 0 ? CLI_USAGE : CLI_OK;
}

static int
prep_crop(void *ctx, const char *val, char *msg, size_t size)
{
    struct lrpx_preprocess *s = &((struct cli_prep *)ctx)->set;
    int                     w = 0, h = 0, k = parse_size(val, &w, &h);
    (void)msg, (void)size;
    if (k == 3) {
        s->crop_width = s->crop_height = -1;
    } else if (k) {
        s->crop_width  = w;
        s->crop_height = h;
    }
    return k == 0 ? CLI_USAGE : CLI_OK;
}

static int
prep_scale(void *ctx, const char *val, char *msg, size_t size)
{
    (void)msg, (void)size;
    return parse_scale(val, &((struct cli_prep *)ctx)->set.scale) ? CLI_OK : CLI_USAGE;
}

static int
prep_mean(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_prep *p = ctx;
    (void)msg, (void)size;
    return (p->n_mean = parse_stats(val, p->mean)) ? CLI_OK : CLI_USAGE;
}

static int
prep_std(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_prep *p = ctx;
    if (!(p->n_std = parse_stats(val, p->std)))
        return CLI_USAGE;
    for (int c = 0; c < p->n_std; c++)
        if (p->std[c] == 0.0) {
            snprintf(msg, size, "must not be 0");
            return CLI_USAGE;
        }
    return CLI_OK;
}

static const struct cli_choice interp_names[] = {
    {"bilinear", LRPX_INTERP_BILINEAR}, {"nearest", LRPX_INTERP_NEAREST}, {NULL, 0}};
static const struct cli_choice color_names[] = {
    {"rgb", LRPX_COLOR_RGB}, {"bgr", LRPX_COLOR_BGR}, {"gray", LRPX_COLOR_GRAY},
    {"grey", LRPX_COLOR_GRAY}, {NULL, 0}};
static const struct cli_choice layout_names[] = {
    {"nchw", LRPX_LAYOUT_NCHW}, {"nhwc", LRPX_LAYOUT_NHWC}, {NULL, 0}};
static int
prep_alpha(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_prep *p = ctx;
    (void)msg, (void)size;
    if (strcmp(val, "drop") && strcmp(val, "white"))
        return CLI_USAGE;
    p->set.alpha = strcmp(val, "drop") ? LRPX_ALPHA_WHITE : LRPX_ALPHA_DROP;
    p->alpha_set = true;
    return CLI_OK;
}

#define PREP(field) offsetof(struct cli_prep, field)
static const struct cli_flag prep_flags[] = {
    {"--preprocess", NULL, "P",
     "preset imagenet, zero-one, minus-one-one, none, or a\n"
     "JSON settings file (default: MODEL.preprocess.json\n"
     "beside the model if there is one, else zero-one)",
     CLI_STRING, .off = PREP(preset), .need = "a preset name or a JSON file"},
    {"--resize", NULL, "N|WxH|none", "shorter side to N, or exactly W x H", CLI_CALL,
     .call = prep_resize, .need = "N (shorter side), WxH or none"},
    {"--crop", NULL, "N|WxH|none", "centre crop", CLI_CALL, .call = prep_crop,
     .need = "N, WxH or none"},
    {"--interp", NULL, "bilinear|nearest", "resampling filter (default bilinear)", CLI_CHOICE,
     PREP(set.interp), .choices = interp_names},
    {"--no-antialias", NULL, NULL, "do not widen the filter when shrinking", CLI_SET,
     PREP(set.antialias), .set = 0},
    {"--no-quantize", NULL, NULL, "do not round to whole numbers between steps", CLI_SET,
     PREP(set.quantize), .set = 0},
    {"--scale", NULL, "S", "multiply pixels (0..255) by S, e.g. 1/255", CLI_CALL,
     .call = prep_scale, .need = "a non-zero number or a fraction a/b"},
    {"--mean", NULL, "M[,M,M]", "(v * scale - mean) / std per channel", CLI_CALL,
     .call = prep_mean, .need = "1 or 3 numbers (comma-separated)"},
    {"--std", NULL, "S[,S,S]", "the std of that formula", CLI_CALL, .call = prep_std,
     .need = "1 or 3 numbers (comma-separated)"},
    {"--color", "--colour", "rgb|bgr|gray", "channel order of the tensor", CLI_CHOICE,
     PREP(set.color), .choices = color_names, .need = "rgb, bgr or gray"},
    {"--gray", "--grey", NULL, "the same as --color gray", CLI_SET, .off = PREP(set.color),
     .set = LRPX_COLOR_GRAY},
    {"--bgr", NULL, NULL, "the same as --color bgr", CLI_SET, .off = PREP(set.color),
     .set = LRPX_COLOR_BGR},
    {"--layout", NULL, "nchw|nhwc", "tensor layout", CLI_CHOICE, .off = PREP(set.layout),
     .choices = layout_names},
    {"--alpha", NULL, "drop|white", "what to do with a transparent PNG", CLI_CALL,
     .call = prep_alpha, .need = "drop or white"},
    {NULL}};
#undef PREP

struct cli_flag_group
cli_prep_group(struct cli_prep *p)
{
    return (struct cli_flag_group){
        .flags = prep_flags, .ctx = p, .seen = &p->any_flag,
        .title = "image inputs (JPEG/PNG, found by their first bytes; several files or a\n"
                 "folder make a batch):",
        .footer = "  The model's input shape fills in the rest (channels, layout, size).\n"};
}

/* Copy the fields the flags set onto pp. */
static void
prep_apply_flags(struct lrpx_preprocess *pp, const struct cli_prep *p)
{
    const struct lrpx_preprocess *s = &p->set;
    if (s->resize != LRPX_RESIZE_UNSET) {
        pp->resize         = s->resize;
        pp->resize_shorter = s->resize_shorter;
        pp->resize_width   = s->resize_width;
        pp->resize_height  = s->resize_height;
    }
    if (s->crop_width != 0) {
        pp->crop_width  = s->crop_width;
        pp->crop_height = s->crop_height;
    }
    if (s->interp != LRPX_INTERP_UNSET)
        pp->interp = s->interp;
    if (s->antialias >= 0)
        pp->antialias = s->antialias;
    if (s->quantize >= 0)
        pp->quantize = s->quantize;
    if (s->scale != 0.0)
        pp->scale = s->scale;
    if (s->color != LRPX_COLOR_UNSET)
        pp->color = s->color;
    if (s->layout != LRPX_LAYOUT_UNSET)
        pp->layout = s->layout;
    if (p->alpha_set)
        pp->alpha = s->alpha;
    if (p->n_mean || p->n_std) {
        double mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
        int    n       = pp->n_mean ? pp->n_mean : 1;
        for (int c = 0; c < 3; c++) {
            if (pp->n_mean) {
                mean[c] = pp->mean[n == 1 ? 0 : c];
                std[c]  = pp->std[n == 1 ? 0 : c];
            }
        }
        if (p->n_mean && p->n_std)      /* both given: they decide the count */
            n = p->n_mean > p->n_std ? p->n_mean : p->n_std;
        if (p->n_mean > n)
            n = p->n_mean;
        if (p->n_std > n)
            n = p->n_std;
        for (int c = 0; c < 3; c++) {
            if (p->n_mean)
                mean[c] = p->mean[p->n_mean == 1 ? 0 : c];
            if (p->n_std)
                std[c] = p->std[p->n_std == 1 ? 0 : c];
        }
        pp->n_mean = n;
        memcpy(pp->mean, mean, sizeof mean);
        memcpy(pp->std, std, sizeof std);
    }
}

bool
cli_model_preprocess_path(const char *model_path, char *buf, size_t size)
{
    if (!model_path)
        return false;
    size_t l    = strlen(model_path);
    int    stem = (int)l;
    if (l > 5 && !strcmp(model_path + l - 5, ".onnx"))
        stem -= 5;
    return snprintf(buf, size, "%.*s.preprocess.json", stem, model_path) < (int)size;
}

/* Whether the text names a file rather than a preset: preset names win,
 * then anything that looks like a path or exists. */
static bool
looks_like_file(const char *s)
{
    for (int i = 0; lrpx_preprocess_preset_name(i); i++)
        if (!strcmp(s, lrpx_preprocess_preset_name(i)))
            return false;
    size_t      l = strlen(s);
    struct stat sb;
    return strchr(s, '/') || (l > 5 && !strcmp(s + l - 5, ".json")) || stat(s, &sb) == 0;
}

/* The declared info of a model input (NULL name: the first). */
static bool
input_info(const lrpx_model *m, const char *name, lrpx_value_info *vi)
{
    for (int i = 0; m && i < lrpx_model_n_inputs(m); i++) {
        if (lrpx_model_input_info(m, i, vi) != LRPX_OK)
            continue;
        if ((!name && i == 0) || (name && !strcmp(name, vi->name)))
            return true;
    }
    return false;
}

int
cli_prep_resolve(const char *cmd, const struct cli_prep *p, const char *model_path,
                 const lrpx_model *m, const char *input_name, bool fit_size, bool image,
                 struct lrpx_preprocess *pp, bool *known)
{
    char err[1024], mpath[4096];
    lrpx_preprocess_init(pp);
    *known = image || p->preset || p->any_flag;
    lrpx_status st = LRPX_OK;
    if (p->preset) {
        if (looks_like_file(p->preset))
            st = lrpx_preprocess_load_json(pp, p->preset, err, sizeof err);
        else
            st = lrpx_preprocess_preset(pp, p->preset, err, sizeof err);
        if (st != LRPX_OK)
            return cli_error(cmd, "--preprocess %s", err);
    } else if (!p->no_model_file && cli_model_preprocess_path(model_path, mpath, sizeof mpath) &&
               access(mpath, F_OK) == 0) {
        if ((st = lrpx_preprocess_load_json(pp, mpath, err, sizeof err)) != LRPX_OK)
            return cli_error(cmd, "%s", err);
        *known = true;
    } else {
        lrpx_preprocess_preset(pp, "zero-one", NULL, 0);
    }
    prep_apply_flags(pp, p);
    lrpx_value_info vi;
    if (!image || !input_info(m, input_name, &vi) || vi.rank < 0)
        return CLI_OK;
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, vi.dims, sizeof dims);
    if (vi.rank == 4) {
        dims[0] = -1;                       /* the batch is the number of files */
        if (!fit_size) {                    /* sliding window: keep the image size */
            bool nchw = pp->layout == LRPX_LAYOUT_NCHW ||
                        (pp->layout == LRPX_LAYOUT_UNSET &&
                         (dims[1] == 1 || dims[1] == 3 || (dims[1] <= 0 && dims[3] <= 0)));
            dims[nchw ? 2 : 1] = dims[nchw ? 3 : 2] = -1;
        }
    }
    if (lrpx_preprocess_from_shape(pp, vi.rank, dims, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "input '%s' of %s: %s", vi.name, model_path ? model_path : "the model",
                         err);
    return CLI_OK;
}

/* ---- files ---- */

enum file_kind { KIND_NPY, KIND_IMAGE, KIND_OTHER };

static enum file_kind
sniff(const char *path)
{
    unsigned char b[8] = {0};
    FILE         *f   = cli_fopen_regular(path);
    if (!f)
        return KIND_OTHER;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 6 && !memcmp(b, "\x93NUMPY", 6))
        return KIND_NPY;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return KIND_IMAGE;
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return KIND_IMAGE;
    return KIND_OTHER;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append path (or, for a folder, its images sorted) to the list. */
static int
expand_path(const char *cmd, const char *path, char ***list, int *n, int *cap)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return cli_error(cmd, "%s: %s", path, strerror(errno));
    char **found = NULL;
    int    n_found = 0, cap_found = 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return cli_error(cmd, "%s: cannot open folder: %s", path, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            size_t l  = strlen(path) + strlen(e->d_name) + 2;
            char  *fp = malloc(l);
            if (!fp)
                break;
            snprintf(fp, l, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
            struct stat fs;
            if (stat(fp, &fs) != 0 || !S_ISREG(fs.st_mode) || sniff(fp) != KIND_IMAGE) {
                free(fp);
                continue;
            }
            if (n_found == cap_found) {
                cap_found   = cap_found ? cap_found * 2 : 16;
                char **grow = realloc(found, (size_t)cap_found * sizeof *found);
                if (!grow) {
                    free(fp);
                    break;
                }
                found = grow;
            }
            found[n_found++] = fp;
        }
        closedir(d);
        if (n_found == 0) {
            free(found);
            return cli_error(cmd, "%s: the folder holds no JPEG or PNG image", path);
        }
        qsort(found, (size_t)n_found, sizeof *found, cmp_str);
    } else {
        found = malloc(sizeof *found);
        if (found && !(found[0] = strdup(path))) {
            free(found);
            found = NULL;
        }
        if (!found)
            return cli_error(cmd, "out of memory");
        n_found = 1;
    }
    int rc = CLI_OK;
    for (int k = 0; k < n_found; k++) {
        if (rc == CLI_OK && *n == *cap) {
            *cap        = *cap ? *cap * 2 : 16;
            char **grow = realloc(*list, (size_t)*cap * sizeof **list);
            if (!grow)
                rc = cli_error(cmd, "out of memory");
            else
                *list = grow;
        }
        if (rc == CLI_OK)
            (*list)[(*n)++] = found[k];
        else
            free(found[k]);
    }
    free(found);
    return rc;
}

void
cli_batch_free(struct cli_batch *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++) {
        free(b->samples[i].path);
        lrpx_image_free(b->samples[i].photo);
        lrpx_image_free(b->samples[i].seen);
    }
    free(b->samples);
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Images: decode, preprocess, stack. */
static int
load_images(const char *cmd, struct cli_batch *b, struct cli_progress *pr)
{
    char    err[1024];
    int64_t per = 0;
    for (int i = 0; i < b->n; i++) {
        struct cli_sample *sm = &b->samples[i];
        lrpx_image_tensor *t  = NULL;
        lrpx_status st = lrpx_image_load(sm->path, NULL, &sm->photo, err, sizeof err);
        if (st != LRPX_OK)
            return cli_error(cmd, "%s", err);
        if ((st = lrpx_image_preprocess(sm->photo, &b->pp, &t, err, sizeof err)) != LRPX_OK)
            return cli_error(cmd, "%s: preprocessing: %s", sm->path, err);
        if (lrpx_image_prepare(sm->photo, &b->pp, &sm->seen, NULL, err, sizeof err) != LRPX_OK) {
            lrpx_image_tensor_free(t);
            return cli_error(cmd, "%s: preprocessing: %s", sm->path, err);
        }
        sm->geom = t->geom;
        if (i == 0) {
            per    = t->view.n_elems;
            b->data = malloc((size_t)per * (size_t)b->n * sizeof(float));
            if (!b->data) {
                lrpx_image_tensor_free(t);
                return cli_error(cmd, "out of memory for %d images", b->n);
            }
            b->view       = t->view;
            b->view.dims[0] = b->n;
            b->view.n_elems = per * b->n;
            b->layout       = t->layout;
        } else if (memcmp(t->view.dims + 1, b->view.dims + 1, 3 * sizeof(int64_t)) != 0) {
            char a[64], c[64];
            snprintf(a, sizeof a, "%lldx%lld", (long long)b->samples[0].geom.width,
                     (long long)b->samples[0].geom.height);
            snprintf(c, sizeof c, "%dx%d", t->geom.width, t->geom.height);
            lrpx_image_tensor_free(t);
            return cli_error(cmd, "%s: preprocessed to %s but %s gave %s; a batch needs one "
                             "size (set --resize/--crop)", sm->path, c, b->samples[0].path, a);
        }
        memcpy((float *)b->data + per * i, t->data, (size_t)per * sizeof(float));
        lrpx_image_tensor_free(t);
        cli_progress_step(pr, 1);
    }
    b->view.data = b->data;
    return CLI_OK;
}

/* Arrays: read, add a missing batch axis, stack along axis 0. */
static int
load_arrays(const char *cmd, const lrpx_model *m, struct cli_batch *b, struct cli_progress *pr)
{
    char            err[1024];
    lrpx_value_info vi;
    int             decl_rank = input_info(m, b->name, &vi) ? vi.rank : -1;
    lrpx_dtype      decl_type = decl_rank >= 0 ? vi.dtype : LRPX_DTYPE_UNDEFINED;
    size_t          off       = 0;
    for (int i = 0; i < b->n; i++) {
        lrpx_npy *a;
        if (lrpx_npy_read(b->samples[i].path, &a, err, sizeof err) != LRPX_OK)
            return cli_error(cmd, "%s", err);
        int64_t dims[LRPX_MAX_RANK];
        int     rank = a->rank;
        memcpy(dims, a->dims, sizeof dims);
        if (decl_rank == rank + 1 && rank < LRPX_MAX_RANK) {
            memmove(dims + 1, dims, (size_t)rank * sizeof dims[0]);
            dims[0] = 1;
            rank++;
        }
        /* float64 for a float32 input is converted here, so the tricks and
         * heatmaps see the same numbers as the model */
        lrpx_dtype dt = a->dtype == LRPX_DTYPE_FLOAT64 && decl_type == LRPX_DTYPE_FLOAT32
                            ? LRPX_DTYPE_FLOAT32 : a->dtype;
        size_t esz = lrpx_dtype_size(dt);
        if (i == 0) {
            if (b->n > 1 && rank < 1) {
                lrpx_npy_free(a);
                return cli_error(cmd, "%s: a scalar cannot be batched", b->samples[i].path);
            }
            b->view.dtype = dt;
            b->view.rank  = rank;
            memcpy(b->view.dims, dims, sizeof dims);
            b->view.n_elems = a->n_elems;
            if (b->n > 1)
                b->view.dims[0] *= b->n;
            b->data = malloc((size_t)(a->n_elems ? a->n_elems : 1) * esz * (size_t)b->n);
            if (!b->data) {
                lrpx_npy_free(a);
                return cli_error(cmd, "out of memory");
            }
        } else if (dt != b->view.dtype || rank != b->view.rank ||
                   memcmp(dims + 1, b->view.dims + 1, (size_t)(rank - 1) * sizeof dims[0]) ||
                   dims[0] * b->n != b->view.dims[0]) {
            lrpx_npy_free(a);
            return cli_error(cmd, "%s: shape or type differs from %s; a batch needs one shape",
                             b->samples[i].path, b->samples[0].path);
        }
        if (dt != a->dtype) {
            float        *d = (float *)((char *)b->data + off);
            const double *s = a->data;
            for (int64_t k = 0; k < a->n_elems; k++)
                d[k] = (float)s[k];
        } else {
            memcpy((char *)b->data + off, a->data, (size_t)a->n_elems * esz);
        }
        off += (size_t)a->n_elems * esz;
        lrpx_npy_free(a);
        cli_progress_step(pr, 1);
    }
    b->view.n_elems *= b->n;
    b->view.data = b->data;
    b->layout    = b->pp_known ? b->pp.layout : LRPX_LAYOUT_UNSET;
    return CLI_OK;
}

int
cli_batch_load(const char *cmd, const lrpx_model *m, const char *model_path, const char *name,
               const char *const *paths, int n_paths, const struct cli_prep *prep,
               bool fit_size, struct cli_batch *b)
{
    struct cli_prep def;
    char          **list = NULL;
    int             n = 0, cap = 0, rc = CLI_OK;
    memset(b, 0, sizeof *b);
    b->name = name;
    if (!prep) {
        cli_prep_init(&def);
        prep = &def;
    }
    for (int i = 0; i < n_paths && rc == CLI_OK; i++)
        rc = expand_path(cmd, paths[i], &list, &n, &cap);
    if (rc == CLI_OK && !(b->samples = calloc((size_t)(n ? n : 1), sizeof *b->samples)))
        rc = cli_error(cmd, "out of memory");
    if (rc != CLI_OK) {
        for (int i = 0; i < n; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    b->n = n;
    for (int i = 0; i < n; i++)
        b->samples[i].path = list[i];
    free(list);

    /* one kind per batch */
    int n_img = 0, n_npy = 0;
    for (int i = 0; i < n; i++) {
        enum file_kind k = sniff(b->samples[i].path);
        n_img += k == KIND_IMAGE;
        n_npy += k == KIND_NPY;
        if (k == KIND_OTHER) {
            char        err[1024];
            lrpx_image *img = NULL;
            FILE       *f   = cli_fopen_regular(b->samples[i].path);
            if (!f) {
                rc = cli_error(cmd, "%s: %s", b->samples[i].path,
                               errno == EINVAL ? "not a regular file" : strerror(errno));
            } else {
                fclose(f);
                /* the image loader names other formats (GIF, BMP, ...) */
                lrpx_image_load(b->samples[i].path, NULL, &img, err, sizeof err);
                lrpx_image_free(img);
                const char *fb = strstr(err, "(first bytes");
                if (strstr(err, "not a JPEG or PNG image"))
                    rc = cli_error(cmd, "%s: not a .npy array, JPEG or PNG image%s%s",
                                   b->samples[i].path, fb ? " " : "", fb ? fb : "");
                else
                    rc = cli_error(cmd, "%s (inputs are .npy arrays, JPEG or PNG images)", err);
            }
            goto fail;
        }
    }
    b->is_image = n_img > 0;
    if (n_img && n_npy) {
        rc = cli_error(cmd, "%s: images and .npy arrays cannot share one input",
                       b->samples[0].path);
        goto fail;
    }
    rc = cli_prep_resolve(cmd, prep, model_path, m, name, fit_size, b->is_image, &b->pp,
                          &b->pp_known);
    if (rc == CLI_OK) {
        struct cli_progress pr;
        cli_progress_start(&pr, cmd, b->is_image ? "images" : "arrays", b->n);
        rc = b->is_image ? load_images(cmd, b, &pr) : load_arrays(cmd, m, b, &pr);
        cli_progress_end(&pr);
        if (rc == CLI_OK)
            cli_verbose(cmd, pr.t0, "read %d %s for %s:", b->n, b->is_image ? "images" : "arrays",
                        name ? name : "the first input");
    }
    if (rc == CLI_OK)
        return CLI_OK;
fail:
    cli_batch_free(b);
    return rc;
}

int
cli_batch_set(const char *cmd, lrpx_session *s, const struct cli_batch *b)
{
    lrpx_status st = lrpx_session_set_input(s, b->name, b->view.dtype, b->view.rank,
                                            b->view.dims, b->view.data);
    if (st != LRPX_OK)
        return cli_error(cmd, "%s%s: %s%s", b->samples[0].path, b->n > 1 ? " and the others" : "",
                         lrpx_session_errmsg(s),
                         b->n > 1 && b->view.rank >= 1 && st == LRPX_ESHAPE
                             ? " (a batch of several files needs a model whose batch dimension "
                               "is free; give one file at a time)"
                             : "");
    return CLI_OK;
}

int
cli_batches_set_rows(const char *cmd, lrpx_session *s, const struct cli_batch *bs, int nb,
                     int64_t r0, int64_t rows, int64_t n)
{
    for (int k = 0; k < nb; k++) {
        const lrpx_tensor_view *v = &bs[k].view;
        if (r0 == 0 && rows == n) {
            int rc = cli_batch_set(cmd, s, &bs[k]);
            if (rc != CLI_OK)
                return rc;
            continue;
        }
        const int64_t per = v->dims[0] ? v->n_elems / v->dims[0] : 0;
        int64_t       dims[LRPX_MAX_RANK];
        memcpy(dims, v->dims, sizeof dims);
        dims[0] = rows;
        if (lrpx_session_set_input(s, bs[k].name, v->dtype, v->rank, dims,
                                   (const char *)v->data +
                                       (size_t)(r0 * per) * lrpx_dtype_size(v->dtype)) != LRPX_OK)
            return cli_error(cmd, "samples %lld to %lld of %lld: %s", (long long)r0,
                             (long long)(r0 + rows - 1), (long long)n, lrpx_session_errmsg(s));
    }
    return CLI_OK;
}

int
cli_set_inputs(const char *cmd, lrpx_session *s, const lrpx_model *m, const char *model_path,
               const struct cli_input *inputs, int n_inputs, const struct cli_prep *prep,
               bool set, bool fit, struct cli_batch **batches, int *n_batches)
{
    struct cli_batch *bs    = calloc((size_t)(n_inputs ? n_inputs : 1), sizeof *bs);
    const char      **paths = calloc((size_t)(n_inputs ? n_inputs : 1), sizeof *paths);
    int               nb = 0, rc = CLI_OK;
    char             *used = calloc((size_t)(n_inputs ? n_inputs : 1), 1);
    if (!bs || !paths || !used) {
        free(bs);
        free(paths);
        free(used);
        return cli_error(cmd, "out of memory");
    }
    /* every file for one input name (NULL: the first input) makes a batch */
    for (int i = 0; i < n_inputs && rc == CLI_OK; i++) {
        if (used[i])
            continue;
        int np = 0;
        for (int j = i; j < n_inputs; j++) {
            bool same = (!inputs[i].name && !inputs[j].name) ||
                        (inputs[i].name && inputs[j].name && !strcmp(inputs[i].name, inputs[j].name));
            if (same) {
                used[j]     = 1;
                paths[np++] = inputs[j].path;
            }
        }
        rc = cli_batch_load(cmd, m, model_path, inputs[i].name, paths, np, prep, fit,
                            &bs[nb]);
        if (rc == CLI_OK)
            nb++;
        if (rc == CLI_OK && set)
            rc = cli_batch_set(cmd, s, &bs[nb - 1]);
    }
    free(paths);
    free(used);
    if (rc != CLI_OK || !batches) {
        for (int i = 0; i < nb; i++)
            cli_batch_free(&bs[i]);
        free(bs);
        return rc;
    }
    *batches   = bs;
    *n_batches = nb;
    return CLI_OK;
}

void
cli_batches_free(struct cli_batch *bs, int n)
{
    for (int i = 0; bs && i < n; i++)
        cli_batch_free(&bs[i]);
    free(bs);
}

int
cli_set_input(const char *cmd, lrpx_session *s, const lrpx_model *m, const struct cli_input *in)
{
    return cli_set_inputs(cmd, s, m, NULL, in, 1, NULL, true, true, NULL, NULL);
}

bool
cli_box_defaults(const struct cli_batch *b, struct lrpx_lrp_options *o, float *low,
                 float *high, int cap)
{
    if (!b || !b->pp_known || !isnan(o->box_low) || o->n_box_c > 0)
        return false;
    int n = 0;
    if (lrpx_preprocess_box_bounds(&b->pp, low, high, &n, NULL, 0) != LRPX_OK || n < 1 || n > cap)
        return false;
    o->box_low_c  = low;
    o->box_high_c = high;
    o->n_box_c    = n;
    return true;
}
