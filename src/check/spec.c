/* The spec file of `lrpx check` (docs/ci.md): JSON read with cJSON, then
 * every member matched against one table of fields. A field belongs to
 * some kinds of check; an unknown field, a field of another kind, a wrong
 * type or an out-of-range value is refused with its JSON path
 * ("$.checks[2].min_mass: expected a number, got a string"), never
 * ignored. Relative paths are taken from the spec's folder.
 *
 *   {"name": "fmnist export",
 *    "defaults": {"input": "x.npy", "method": "lrp"},
 *    "checks": [{"kind": "loads"},
 *               {"kind": "localisation", "mask": [4, 4, 20, 20], "min_mass": 0.6}]}
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check/check_impl.h"

const char *const lrpx__check_kind_names[LRPX_CHECK_KIND_COUNT] = {
#define X(tag, name, what) [LRPX_CHECK_##tag] = name,
    LRPX_CHECK_KIND_LIST(X)
#undef X
};

struct parser {
    struct lrpx_check *c;
    const char        *name;       /* the spec, for messages */
    const char        *base_dir;
    char              *errbuf;
    size_t             errlen;
};

static bool
fail(struct parser *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(struct parser *p, const char *path, const char *fmt, ...)
{
    if (!p->errbuf || !p->errlen)
        return false;
    int n = snprintf(p->errbuf, p->errlen, "%s: %s: ", p->name, path);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->errbuf + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static const char *
type_name(const cJSON *j)
{
    return cJSON_IsNumber(j) ? "a number" : cJSON_IsString(j) ? "a string"
         : cJSON_IsBool(j) ? (cJSON_IsTrue(j) ? "true" : "false") : cJSON_IsNull(j) ? "null"
         : cJSON_IsArray(j) ? "an array" : cJSON_IsObject(j) ? "an object" : "something else";
}

static bool
want(struct parser *p, const char *path, const cJSON *j, bool ok, const char *what)
{
    return ok || fail(p, path, "expected %s, got %s", what, type_name(j));
}

static char *
dup(struct parser *p, const char *s)
{
    return lrpx__arena_strdup(&p->c->arena, s);
}

/* path relative to the spec's folder, unless absolute */
static const char *
spec_path(struct parser *p, const char *path, const char *s)
{
    if (!*s) {
        fail(p, path, "expected a file name, got \"\"");
        return NULL;
    }
    if (s[0] == '/' || !p->base_dir)
        return dup(p, s);
    size_t n   = strlen(p->base_dir) + strlen(s) + 2;
    char  *out = lrpx__arena_alloc(&p->c->arena, n);
    if (out)
        snprintf(out, n, "%s/%s", p->base_dir, s);
    return out;
}

static bool
whole(const cJSON *j, double lo, double hi)
{
    return cJSON_IsNumber(j) && j->valuedouble == floor(j->valuedouble) &&
           j->valuedouble >= lo && j->valuedouble <= hi;
}

static bool
get_int64(struct parser *p, const char *path, const cJSON *j, double lo, double hi,
          int64_t *out)
{
    if (!cJSON_IsNumber(j))
        return want(p, path, j, false, "a whole number");
    if (!whole(j, lo, hi))
        return fail(p, path, "expected a whole number from %.0f to %.0f, got %.17g", lo, hi,
                    j->valuedouble);
    *out = (int64_t)j->valuedouble;
    return true;
}

/* An array of whole numbers >= 0 into the arena. */
static bool
int_list(struct parser *p, const char *path, const cJSON *j, const int64_t **out, int *n)
{
    if (!want(p, path, j, cJSON_IsArray(j), "an array of whole numbers"))
        return false;
    int      count = cJSON_GetArraySize(j);
    int64_t *v     = lrpx__arena_calloc(&p->c->arena, (size_t)count + 1, sizeof *v);
    if (!v)
        return fail(p, path, "out of memory");
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (!get_int64(p, sub, e, 0, 9007199254740992.0, &v[i]))
            return false;
    }
    *out = v;
    *n   = count;
    return true;
}

/* ---- fields with their own parsers ---- */

typedef bool (*field_fn)(struct parser *p, const char *path, const cJSON *j,
                         struct lrpx_check_item *it);

static bool
add_feed(struct parser *p, const char *path, struct lrpx_check_item *it, const char *name,
         const char *file)
{
    if (it->n_feeds == LRPX_CHECK_MAX_FEEDS)
        return fail(p, path, "at most %d inputs", LRPX_CHECK_MAX_FEEDS);
    const char *f = spec_path(p, path, file);
    if (!f)
        return false;
    it->feed_names[it->n_feeds] = name ? dup(p, name) : NULL;
    it->feed_paths[it->n_feeds] = f;
    it->n_feeds++;
    return true;
}

static bool
f_input(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (!want(p, path, j, cJSON_IsString(j), "a .npy file name"))
        return false;
    it->n_feeds = 0;
    return add_feed(p, path, it, NULL, j->valuestring);
}

static bool
f_inputs(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (!want(p, path, j, cJSON_IsObject(j) && j->child, "an object {\"INPUT NAME\": \"FILE.npy\"}"))
        return false;
    it->n_feeds = 0;
    for (const cJSON *e = j->child; e; e = e->next) {
        char sub[512];
        snprintf(sub, sizeof sub, "%.300s.%.200s", path, e->string);
        if (!want(p, sub, e, cJSON_IsString(e), "a .npy file name") ||
            !add_feed(p, sub, it, e->string, e->valuestring))
            return false;
    }
    return true;
}

static bool
f_method(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (cJSON_IsString(j)) {
        char names[1024];
        if (lrpx__check_method_set(&it->method, j->valuestring) != LRPX_OK)
            return fail(p, path, "unknown method \"%s\" (known: %s)", j->valuestring,
                        lrpx__check_method_names(names, sizeof names));
        return true;
    }
    if (!want(p, path, j, cJSON_IsObject(j), "a method name or an object {\"name\": ...}"))
        return false;
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
    char         sub[512];
    snprintf(sub, sizeof sub, "%s.name", path);
    if (nm && !want(p, sub, nm, cJSON_IsString(nm), "a method name"))
        return false;
    char names[1024];
    if (lrpx__check_method_set(&it->method, nm ? nm->valuestring : "lrp") != LRPX_OK)
        return fail(p, sub, "unknown method \"%s\" (known: %s)", nm->valuestring,
                    lrpx__check_method_names(names, sizeof names));
    /* the other members are the rule file's (lrpx_lrp_options_parse_json) */
    cJSON *rest = cJSON_Duplicate(j, 1);
    if (!rest)
        return fail(p, path, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "name");
    bool ok = true;
    if (rest->child && it->method.ao.method != LRPX_ATTR_LRP) {
        snprintf(sub, sizeof sub, "%s.%s", path, rest->child->string);
        ok = fail(p, sub, "unknown field (method \"%s\" takes no options)", it->method.name);
    } else if (rest->child) {
        char       *text = cJSON_PrintUnformatted(rest);
        char        msg[512];
        lrpx_status st   = text ? lrpx_lrp_options_parse_json(&it->method.ao.lrp, text, strlen(text),
                                                              "method", msg, sizeof msg)
                                : LRPX_ENOMEM;
        if (st != LRPX_OK)
            /* "method: unknown key ..." -> "$.checks[2].method: unknown key ..." */
            ok = fail(p, path, "%s", st == LRPX_ENOMEM ? "out of memory"
                                     : strncmp(msg, "method: ", 8) ? msg : msg + 8);
        cJSON_free(text);
    }
    cJSON_Delete(rest);
    return ok;
}

static bool
f_target(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (cJSON_IsArray(j))
        return int_list(p, path, j, &it->targets, &it->n_targets) &&
               (it->n_targets > 0 || fail(p, path, "expected at least one class"));
    int64_t *v = lrpx__arena_alloc(&p->c->arena, sizeof *v);
    if (!v)
        return fail(p, path, "out of memory");
    if (!get_int64(p, path, j, 0, 9007199254740992.0, v))
        return false;
    it->targets   = v;
    it->n_targets = 1;
    return true;
}

static bool
f_labels(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (cJSON_IsString(j))
        return (it->labels_path = spec_path(p, path, j->valuestring)) != NULL;
    if (!cJSON_IsArray(j))
        return want(p, path, j, false, "an array of classes or a .npy file name");
    return int_list(p, path, j, &it->labels, &it->n_labels) &&
           (it->n_labels > 0 || fail(p, path, "expected at least one label"));
}

static bool
f_mask(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (cJSON_IsString(j))
        return (it->mask_path = spec_path(p, path, j->valuestring)) != NULL;
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 4)
        return want(p, path, j, false, "a mask file (.npy, .png) or a box [x, y, width, height]");
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (!get_int64(p, sub, e, i < 2 ? 0 : 1, 1 << 30, &it->box[i]))
            return false;
    }
    it->has_box = true;
    return true;
}

static bool
f_layers(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    if (cJSON_IsString(j) && !strcmp(j->valuestring, "all")) {
        it->layers = -1;
        return true;
    }
    int64_t v;
    if (!cJSON_IsNumber(j))
        return want(p, path, j, false, "a number of layers or \"all\"");
    if (!get_int64(p, path, j, 1, 1 << 30, &v))
        return false;
    it->layers = (int)v;
    return true;
}

static bool
f_baseline(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    static const char *const names[] = {"black", "white", "mean"};
    if (cJSON_IsNumber(j)) {
        if (!isfinite(j->valuedouble))
            return fail(p, path, "expected a finite number");
        it->baseline       = LRPX_CHECK_BASELINE_VALUE;
        it->baseline_value = j->valuedouble;
        return true;
    }
    if (cJSON_IsString(j))
        for (int k = 0; k < 3; k++)
            if (!strcmp(j->valuestring, names[k])) {
                it->baseline = k;
                return true;
            }
    if (cJSON_IsString(j))
        return fail(p, path, "expected \"black\", \"white\", \"mean\" or a number, got \"%s\" "
                    "(Quantus's \"uniform\" draws from numpy's generator: not reproducible here)",
                    j->valuestring);
    return want(p, path, j, false, "\"black\", \"white\", \"mean\" or a number");
}

/* One expected value of kind io: {"name": ..., "dtype": ..., "shape": [...]} */
static bool
io_value(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_value *v)
{
    if (!want(p, path, j, cJSON_IsObject(j), "an object {\"name\", \"dtype\", \"shape\"}"))
        return false;
    v->rank  = -1;
    v->dtype = LRPX_DTYPE_UNDEFINED;
    for (const cJSON *e = j->child; e; e = e->next) {
        char sub[512];
        snprintf(sub, sizeof sub, "%.300s.%.200s", path, e->string);
        if (!strcmp(e->string, "name")) {
            if (!want(p, sub, e, cJSON_IsString(e), "a string"))
                return false;
            v->name = dup(p, e->valuestring);
        } else if (!strcmp(e->string, "dtype")) {
            if (!want(p, sub, e, cJSON_IsString(e), "an element type name"))
                return false;
            for (int t = 1; t < LRPX_DTYPE_COUNT && !v->dtype; t++)
                if (!strcmp(e->valuestring, lrpx_dtype_name((lrpx_dtype)t)))
                    v->dtype = (lrpx_dtype)t;
            if (!v->dtype)
                return fail(p, sub, "unknown element type \"%s\" (float32, int64, uint8, ...)",
                            e->valuestring);
        } else if (!strcmp(e->string, "shape")) {
            int r = cJSON_GetArraySize(e);
            if (!want(p, sub, e, cJSON_IsArray(e), "an array of dimensions"))
                return false;
            if (r > LRPX_MAX_RANK)
                return fail(p, sub, "at most %d dimensions", LRPX_MAX_RANK);
            v->rank = r;
            int k   = 0;
            for (const cJSON *d = e->child; d; d = d->next, k++) {
                char dsub[600];
                snprintf(dsub, sizeof dsub, "%.500s[%d]", sub, k);
                v->dims[k] = -1;
                if (cJSON_IsString(d))
                    v->sym[k] = dup(p, d->valuestring);
                else if (cJSON_IsNumber(d)) {
                    if (!get_int64(p, dsub, d, 0, 9007199254740992.0, &v->dims[k]))
                        return false;
                } else if (!cJSON_IsNull(d))
                    return want(p, dsub, d, false, "a size, a symbolic name or null");
            }
        } else {
            return fail(p, sub, "unknown field (an input or output takes name, dtype, shape)");
        }
    }
    return v->name || fail(p, path, "missing field \"name\"");
}

static bool
io_list(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_value **out,
        int *n)
{
    if (!want(p, path, j, cJSON_IsArray(j), "an array of {\"name\", \"dtype\", \"shape\"}"))
        return false;
    int count = cJSON_GetArraySize(j);
    *out      = lrpx__arena_calloc(&p->c->arena, (size_t)count + 1, sizeof **out);
    if (!*out)
        return fail(p, path, "out of memory");
    int i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (!io_value(p, sub, e, &(*out)[i]))
            return false;
    }
    *n = count;
    return true;
}

static bool
f_io_inputs(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    it->io_inputs_set = true;
    return io_list(p, path, j, &it->io_inputs, &it->n_io_inputs);
}

static bool
f_io_outputs(struct parser *p, const char *path, const cJSON *j, struct lrpx_check_item *it)
{
    it->io_outputs_set = true;
    return io_list(p, path, j, &it->io_outputs, &it->n_io_outputs);
}

/* ---- the table ---- */

#define K(tag) (1u << LRPX_CHECK_##tag)
#define K_MAP  (K(EXPLANATION) | K(LOCALISATION) | K(FAITHFULNESS) | K(CONSERVATION) | \
                K(RANDOMISATION))
#define K_RUN  (K(OUTPUTS) | K(LABELS) | K_MAP)
#define K_ALL  ((1u << LRPX_CHECK_KIND_COUNT) - 1)

/* F_INT stores an int, F_INT64 an int64_t, F_CHOICE an int */
enum field_type { F_STRING, F_PATH, F_NUMBER, F_INT, F_INT64, F_BOOL, F_CHOICE, F_CALL };

struct choice {
    const char *name;
    int         value;
};

struct field {
    const char          *key;
    unsigned             kinds;       /* kinds that take it                   */
    unsigned             required;    /* kinds that need it                   */
    bool                 in_defaults; /* may stand in "defaults"              */
    enum field_type      type;
    size_t               off;
    double               lo, hi;      /* F_NUMBER, F_INT                      */
    const struct choice *choices;     /* F_CHOICE                             */
    field_fn             call;        /* F_CALL                               */
};

static const struct choice aggregates[] = {
    {"mean", LRPX_CHECK_AGG_MEAN}, {"min", LRPX_CHECK_AGG_MIN}, {"max", LRPX_CHECK_AGG_MAX}, {0}};
static const struct choice distances[] = {
    {"cosine", LRPX_CHECK_DIST_COSINE}, {"ssim", LRPX_CHECK_DIST_SSIM}, {0}};
static const struct choice similarities[] = {{"spearman", LRPX_CHECK_SIM_SPEARMAN},
                                             {"ssim", LRPX_CHECK_SIM_SSIM},
                                             {"cosine", LRPX_CHECK_SIM_COSINE},
                                             {0}};
static const struct choice orders[] = {
    {"morf", LRPX_CHECK_ORDER_MORF}, {"lerf", LRPX_CHECK_ORDER_LERF}, {0}};
static const struct choice layouts[] = {{"nchw", 0}, {"nhwc", 1}, {0}};

#define OFF(f) offsetof(struct lrpx_check_item, f)
#define BIG    1e300

/* F(key, kinds, kinds that need it, allowed in "defaults", type, ...) */
#define F(k, kinds_, req, def, type_, ...)                                             \
    {.key = (k), .kinds = (kinds_), .required = (req), .in_defaults = (def),             \
     .type = (type_), __VA_ARGS__}
#define LO_HI(l, h) .lo = (l), .hi = (h)

static const struct field fields[] = {
    F("name",            K_ALL,  0, false, F_STRING, .off = OFF(name)),
    F("input",           K_RUN,  0, true,  F_CALL,   .call = f_input),
    F("inputs",          K_RUN,  0, true,  F_CALL,   .call = f_inputs),
    F("output",          K_RUN,  0, true,  F_STRING, .off = OFF(output)),
    F("method",          K_MAP,  0, true,  F_CALL,   .call = f_method),
    F("target",          K_MAP,  0, true,  F_CALL,   .call = f_target),
    F("aggregate",       K_MAP,  0, true,  F_CHOICE, .off = OFF(aggregate), .choices = aggregates),
    F("layout",          K_MAP,  0, true,  F_CHOICE, .off = OFF(nhwc), .choices = layouts),
    F("min",             K(OPSET), 0, false, F_INT64, .off = OFF(opset_min), LO_HI(1, 1e9)),
    F("max",             K(OPSET), 0, false, F_INT64, .off = OFF(opset_max), LO_HI(1, 1e9)),
    F("inputs",          K(IO),  0, false, F_CALL,   .call = f_io_inputs),
    F("outputs",         K(IO),  0, false, F_CALL,   .call = f_io_outputs),
    F("expected",        K(OUTPUTS), K(OUTPUTS), false, F_PATH, .off = OFF(expected)),
    F("rtol",            K(OUTPUTS), 0, false, F_NUMBER, .off = OFF(rtol), LO_HI(0, BIG)),
    F("atol",            K(OUTPUTS), 0, false, F_NUMBER, .off = OFF(atol), LO_HI(0, BIG)),
    F("labels",          K(LABELS), K(LABELS), false, F_CALL, .call = f_labels),
    F("min_accuracy",    K(LABELS), 0, false, F_NUMBER, .off = OFF(threshold), LO_HI(0, 1)),
    F("reference",       K(EXPLANATION), K(EXPLANATION), false, F_PATH, .off = OFF(reference)),
    F("distance",        K(EXPLANATION), 0, false, F_CHOICE, .off = OFF(distance),
      .choices = distances),
    F("max_distance",    K(EXPLANATION), K(EXPLANATION), false, F_NUMBER,
      .off = OFF(threshold), LO_HI(0, 2)),
    F("mask",            K(LOCALISATION), K(LOCALISATION), false, F_CALL, .call = f_mask),
    F("min_mass",        K(LOCALISATION), K(LOCALISATION), false, F_NUMBER,
      .off = OFF(threshold), LO_HI(-BIG, BIG)),
    F("min_aopc",        K(FAITHFULNESS), K(FAITHFULNESS), false, F_NUMBER,
      .off = OFF(threshold), LO_HI(-BIG, BIG)),
    F("patch_size",      K(FAITHFULNESS), 0, false, F_INT, .off = OFF(patch_size),
      LO_HI(1, 1 << 20)),
    F("order",           K(FAITHFULNESS), 0, false, F_CHOICE, .off = OFF(order), .choices = orders),
    F("regions_evaluation", K(FAITHFULNESS), 0, false, F_INT, .off = OFF(regions),
      LO_HI(1, 1 << 30)),
    F("perturb_baseline", K(FAITHFULNESS), 0, false, F_CALL, .call = f_baseline),
    F("softmax",         K(FAITHFULNESS), 0, false, F_BOOL, .off = OFF(softmax)),
    F("abs",             K(LOCALISATION) | K(FAITHFULNESS) | K(RANDOMISATION), 0, false, F_BOOL,
      .off = OFF(abs)),
    F("normalise",       K(LOCALISATION) | K(FAITHFULNESS) | K(RANDOMISATION), 0, false, F_BOOL,
      .off = OFF(normalise)),
    F("max_error",       K(CONSERVATION), K(CONSERVATION), false, F_NUMBER,
      .off = OFF(threshold), LO_HI(0, BIG)),
    F("relative",        K(CONSERVATION), 0, false, F_BOOL, .off = OFF(relative)),
    F("max_similarity",  K(RANDOMISATION), K(RANDOMISATION), false, F_NUMBER,
      .off = OFF(threshold), LO_HI(-1, 1)),
    F("similarity",      K(RANDOMISATION), 0, false, F_CHOICE, .off = OFF(similarity),
      .choices = similarities),
    F("layers",          K(RANDOMISATION), 0, false, F_CALL, .call = f_layers),
    F("seed",            K(RANDOMISATION), 0, false, F_INT64, .off = OFF(seed),
      LO_HI(0, 9007199254740992.0)),
};
#undef F
#undef LO_HI
#define N_FIELDS (int)(sizeof fields / sizeof fields[0])
#undef OFF

/* "name, input, ..." of the fields kind k (or "defaults", k < 0) takes. */
static void
field_list(int k, char *buf, size_t size)
{
    size_t n = 0;
    buf[0]   = '\0';
    if (k >= 0)
        n += (size_t)snprintf(buf, size, "kind");
    for (int i = 0; i < N_FIELDS && n < size; i++) {
        bool ok = k < 0 ? fields[i].in_defaults : (fields[i].kinds >> k) & 1;
        bool again = false;                    /* "inputs" of two meanings */
        for (int j = 0; j < i; j++)
            again |= !strcmp(fields[j].key, fields[i].key) &&
                     (k < 0 ? fields[j].in_defaults : (fields[j].kinds >> k) & 1);
        if (ok && !again)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", fields[i].key);
    }
}

static bool
set_field(struct parser *p, const char *path, const struct field *f, const cJSON *j,
          struct lrpx_check_item *it)
{
    void *at = (char *)it + f->off;
    switch (f->type) {
    case F_STRING:
        if (!want(p, path, j, cJSON_IsString(j), "a string"))
            return false;
        return (*(const char **)at = dup(p, j->valuestring)) != NULL;
    case F_PATH:
        if (!want(p, path, j, cJSON_IsString(j), "a file name"))
            return false;
        return (*(const char **)at = spec_path(p, path, j->valuestring)) != NULL;
    case F_NUMBER:
        if (!want(p, path, j, cJSON_IsNumber(j), "a number"))
            return false;
        if (!(j->valuedouble >= f->lo && j->valuedouble <= f->hi))
            return fail(p, path, "expected a number from %g to %g, got %.17g", f->lo, f->hi,
                        j->valuedouble);
        *(double *)at = j->valuedouble;
        return true;
    case F_INT:
    case F_INT64: {
        int64_t v;
        if (!get_int64(p, path, j, f->lo, f->hi, &v))
            return false;
        if (f->type == F_INT)
            *(int *)at = (int)v;
        else
            *(int64_t *)at = v;
        return true;
    }
    case F_BOOL:
        if (!want(p, path, j, cJSON_IsBool(j), "true or false"))
            return false;
        *(bool *)at = cJSON_IsTrue(j);
        return true;
    case F_CHOICE:
        if (cJSON_IsString(j))
            for (const struct choice *c = f->choices; c->name; c++)
                if (!strcmp(j->valuestring, c->name)) {
                    *(int *)at = c->value;
                    return true;
                }
        {
            char list[256];
            size_t n = 0;
            for (const struct choice *c = f->choices; c->name && n < sizeof list; c++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s\"%s\"",
                                      c == f->choices ? "" : c[1].name ? ", " : " or ", c->name);
            if (cJSON_IsString(j))
                return fail(p, path, "expected %s, got \"%s\"", list, j->valuestring);
            return want(p, path, j, false, list);
        }
    case F_CALL:
        return f->call(p, path, j, it);
    }
    return false;
}

static bool
seen_key(const bool *seen, const char *key)
{
    for (int i = 0; i < N_FIELDS; i++)
        if (seen[i] && !strcmp(fields[i].key, key))
            return true;
    return false;
}

/* Members of object j into it; k is the kind (-1: the defaults object). */
static bool
parse_members(struct parser *p, const char *path, const cJSON *j, int k,
              struct lrpx_check_item *it, bool *seen)
{
    for (const cJSON *e = j->child; e; e = e->next) {
        char sub[512];
        snprintf(sub, sizeof sub, "%.300s.%.200s", path, e->string);
        if (k >= 0 && !strcmp(e->string, "kind"))
            continue;
        const struct field *f = NULL;
        for (int i = 0; i < N_FIELDS && !f; i++)
            if (!strcmp(fields[i].key, e->string) &&
                (k < 0 ? fields[i].in_defaults : (fields[i].kinds >> k) & 1)) {
                if (seen[i])
                    return fail(p, sub, "given twice");
                f       = &fields[i];
                seen[i] = true;
            }
        /* "input" and "inputs" (of the checks that run the model) say the same */
        if (f && ((f->call == f_input && seen_key(seen, "inputs")) ||
                  (f->call == f_inputs && seen_key(seen, "input"))))
            return fail(p, sub, "give \"input\" or \"inputs\", not both");
        if (!f) {
            char list[1024];
            field_list(k, list, sizeof list);
            if (k < 0)
                return fail(p, sub, "unknown field (\"defaults\" takes %s)", list);
            return fail(p, sub, "unknown field (a check of kind \"%s\" takes %s)",
                        lrpx__check_kind_names[k], list);
        }
        if (!set_field(p, sub, f, e, it))
            return false;
    }
    return true;
}

/* What every check starts from before the defaults and its own fields. */
static void
item_init(struct lrpx_check_item *it)
{
    memset(it, 0, sizeof *it);
    lrpx__check_method_set(&it->method, "lrp");
    it->rtol       = 1e-4;
    it->atol       = 1e-5;
    it->threshold  = 1.0;                 /* min_accuracy of labels */
    it->opset_min  = 1;
    it->opset_max  = 1000000000;
    it->normalise  = true;                /* Quantus's default for the three */
    it->softmax    = true;                /* RegionPerturbation's default    */
    it->relative   = true;
    it->patch_size = 8;                   /* RegionPerturbation's defaults   */
    it->regions    = 100;
    it->layers     = -1;
    it->seed       = 42;                  /* Quantus MPRT's default seed     */
}

static bool
parse_check(struct parser *p, const cJSON *j, int i, const struct lrpx_check_item *defaults,
            struct lrpx_check_item *it)
{
    char path[64];
    snprintf(path, sizeof path, "$.checks[%d]", i);
    if (!want(p, path, j, cJSON_IsObject(j), "an object {\"kind\": ...}"))
        return false;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
    char         kinds[512];
    size_t       n = 0;
    for (int k = 0; k < LRPX_CHECK_KIND_COUNT; k++)
        n += (size_t)snprintf(kinds + n, sizeof kinds - n, "%s%s", k ? ", " : "",
                              lrpx__check_kind_names[k]);
    if (!kind)
        return fail(p, path, "missing field \"kind\" (one of %s)", kinds);
    char sub[128];
    snprintf(sub, sizeof sub, "%s.kind", path);
    if (!want(p, sub, kind, cJSON_IsString(kind), "a kind name"))
        return false;
    int k = -1;
    for (int t = 0; t < LRPX_CHECK_KIND_COUNT; t++)
        if (!strcmp(kind->valuestring, lrpx__check_kind_names[t]))
            k = t;
    if (k < 0)
        return fail(p, sub, "unknown kind \"%s\" (one of %s)", kind->valuestring, kinds);

    *it       = *defaults;
    it->kind  = (enum lrpx_check_kind)k;
    it->index = i;
    /* per kind: what Quantus uses by default */
    if (k == LRPX_CHECK_RANDOMISATION)
        it->abs = true;                   /* MPRT: abs=True, normalise=True */
    bool seen[N_FIELDS] = {false};
    if (!parse_members(p, path, j, k, it, seen))
        return false;
    for (int f = 0; f < N_FIELDS; f++)
        if ((fields[f].required >> k) & 1 && !seen[f])
            return fail(p, path, "missing field \"%s\" (a check of kind \"%s\" needs it)",
                        fields[f].key, lrpx__check_kind_names[k]);
    if ((1u << k) & K_RUN && it->n_feeds == 0)
        return fail(p, path, "missing field \"input\" (or \"inputs\", here or in "
                    "\"defaults\")");
    if (k == LRPX_CHECK_OPSET && it->opset_min > it->opset_max)
        return fail(p, path, "\"min\" (%lld) is above \"max\" (%lld)",
                    (long long)it->opset_min, (long long)it->opset_max);
    if (k == LRPX_CHECK_IO && !it->io_inputs_set && !it->io_outputs_set)
        return fail(p, path, "expected \"inputs\" or \"outputs\" (or both)");
    return true;
}

/* Line of each element of the top-level "checks" array (0 unknown), from
 * the text: cJSON keeps no positions. Strings and escapes are skipped. */
static void
check_lines(const char *text, size_t len, int *lines, int n)
{
    int         depth = 0, line = 1, i = 0, checks_depth = 0;
    const char *key = NULL;
    size_t      key_len = 0;
    for (size_t k = 0; k < len; k++) {
        char ch = text[k];
        if (ch == '\n') {
            line++;
        } else if (ch == '"') {
            size_t s = ++k;
            while (k < len && text[k] != '"')
                k += text[k] == '\\' ? 2 : 1;
            if (depth == 1) {
                key     = text + s;
                key_len = k - s;
            }
        } else if (ch == '{' || ch == '[') {
            depth++;
            if (ch == '[' && depth == 2 && key && key_len == 6 && !memcmp(key, "checks", 6))
                checks_depth = 2;
            else if (checks_depth && depth == checks_depth + 1 && i < n)
                lines[i++] = line;
        } else if (ch == '}' || ch == ']') {
            depth--;
            if (depth < 2)
                checks_depth = 0;
        }
    }
}

lrpx_status
lrpx__check_parse(struct lrpx_check *c, const char *text, size_t len, const char *name,
                  const char *base_dir, char *errbuf, size_t errlen)
{
    struct parser p = {c, name, base_dir, errbuf, errlen};
    cJSON        *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at   = cJSON_GetErrorPtr();
        int         line = 1, col = 1;
        for (const char *q = text; at && q < at && q < text + len; q++, col++)
            if (*q == '\n') {
                line++;
                col = 0;
            }
        snprintf(errbuf, errlen, "%s: not valid JSON (line %d, column %d)", name, line, col);
        return LRPX_EPARSE;
    }
    lrpx_status            rc = LRPX_EPARSE;
    struct lrpx_check_item defaults;
    item_init(&defaults);
    const cJSON *checks = NULL;
    if (!want(&p, "$", root, cJSON_IsObject(root), "an object {\"checks\": [...]}"))
        goto done;
    /* "defaults" first: the checks start from it */
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    bool         seen[N_FIELDS] = {false};
    if (d && (!want(&p, "$.defaults", d, cJSON_IsObject(d), "an object") ||
              !parse_members(&p, "$.defaults", d, -1, &defaults, seen)))
        goto done;
    for (const cJSON *e = root->child; e; e = e->next) {
        char sub[512];
        snprintf(sub, sizeof sub, "$.%s", e->string);
        if (!strcmp(e->string, "checks")) {
            checks = e;
        } else if (!strcmp(e->string, "version")) {
            if (!want(&p, sub, e, cJSON_IsNumber(e), "a number") ||
                (e->valuedouble != 1 && !fail(&p, sub, "this lrpx reads version 1")))
                goto done;
        } else if (!strcmp(e->string, "name")) {
            if (!want(&p, sub, e, cJSON_IsString(e), "a string"))
                goto done;
            c->suite = dup(&p, e->valuestring);
        } else if (strcmp(e->string, "defaults")) {
            fail(&p, sub, "unknown field (the spec takes version, name, defaults, checks)");
            goto done;
        }
    }
    if (!checks) {
        fail(&p, "$", "missing field \"checks\"");
        goto done;
    }
    if (!want(&p, "$.checks", checks, cJSON_IsArray(checks), "an array of checks"))
        goto done;
    c->n_items = cJSON_GetArraySize(checks);
    if (c->n_items == 0) {
        fail(&p, "$.checks", "expected at least one check");
        goto done;
    }
    c->items = lrpx__arena_calloc(&c->arena, (size_t)c->n_items, sizeof *c->items);
    int *lines = lrpx__arena_calloc(&c->arena, (size_t)c->n_items, sizeof *lines);
    if (!c->items || !lines) {
        snprintf(errbuf, errlen, "%s: out of memory", name);
        rc = LRPX_ENOMEM;
        goto done;
    }
    check_lines(text, len, lines, c->n_items);
    int i = 0;
    for (const cJSON *e = checks->child; e; e = e->next, i++) {
        struct lrpx_check_item *it = &c->items[i];
        if (!parse_check(&p, e, i, &defaults, it))
            goto done;
        it->line = lines[i];
        if (!it->name) {
            char nm[64];
            snprintf(nm, sizeof nm, "%s (checks[%d])", lrpx__check_kind_names[it->kind], i);
            if (!(it->name = dup(&p, nm))) {
                snprintf(errbuf, errlen, "%s: out of memory", name);
                rc = LRPX_ENOMEM;
                goto done;
            }
        }
    }
    rc = LRPX_OK;
done:
    cJSON_Delete(root);
    return rc;
}

lrpx_status
lrpx_check_load(const char *path, lrpx_check **out, char *errbuf, size_t errlen)
{
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!path || !out) {
        if (out)
            *out = NULL;
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "NULL path");
        return LRPX_EINVAL;
    }
    *out = NULL;
    struct lrpx_err            err = {LRPX_OK, ""};
    const struct lrpx_file_cap cap = {(size_t)1 << 24, LRPX_ELIMIT, "a check spec"};
    void                      *buf;
    size_t                     len;
    lrpx_status                rc  = lrpx__slurp(path, &cap, &buf, &len, &err);
    if (rc != LRPX_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", err.msg);
        return rc;
    }
    /* relative names in the spec are taken from its folder */
    char        dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    rc = lrpx_check_parse((const char *)buf, len, path, dir, out, errbuf, errlen);
    lrpx__free(buf);
    return rc;
}
