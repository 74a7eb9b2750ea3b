/* Running the checks of a spec against one model (lrpx_check_run). Each
 * check becomes one result: PASS, FAIL (the model does not meet it) or
 * ERROR (it could not be evaluated: a missing file, a shape that does not
 * fit, a metric that is undefined). Metrics come from src/eval/; the only
 * thing decided here is how a number compares with its threshold.
 *
 * Maps are made one sample at a time (batch 1), each for its own class:
 * the "target" of the check, else the class the model predicts. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check/check_impl.h"
#include "eval/eval.h"

/* ---- methods: every method of lrpx_session_attribute, by name ---- */

lrpx_status
lrpx__check_method_set(struct lrpx_check_method *m, const char *name)
{
    lrpx_attr_method method;
    if (lrpx_attr_method_parse(name, &method) != LRPX_OK)
        return LRPX_EINVAL;
    lrpx_attr_options_default(&m->ao);
    m->ao.method = method;
    m->name      = lrpx_attr_method_name(method);
    return LRPX_OK;
}

const char *
lrpx__check_method_names(char *buf, size_t size)
{
    size_t n = 0;
    buf[0]   = '\0';
    for (int k = 0; k < LRPX_ATTR_COUNT && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", k ? ", " : "",
                              lrpx_attr_method_name((lrpx_attr_method)k));
    return buf;
}

/* ---- one check's context ---- */

struct run {
    const struct lrpx_check_item  *it;
    struct lrpx_check_result_impl *r;
    const char                    *model_path;
    lrpx_model                    *m;
    lrpx_session                  *s;
};

static void
say(struct run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct run *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->r->message, sizeof u->r->message, fmt, ap);
    va_end(ap);
}

/* An error result; returns LRPX_OK so the run goes on. */
static lrpx_status
error_result(struct run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static lrpx_status
error_result(struct run *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->r->message, sizeof u->r->message, fmt, ap);
    va_end(ap);
    u->r->outcome = LRPX_CHECK_ERROR;
    return LRPX_OK;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- inputs ---- */

struct feeds {
    int               n;
    const char       *names[LRPX_CHECK_MAX_FEEDS];   /* model input names      */
    lrpx_npy         *arr[LRPX_CHECK_MAX_FEEDS];
    float            *f32[LRPX_CHECK_MAX_FEEDS];     /* float64 converted      */
    lrpx_tensor_view  v[LRPX_CHECK_MAX_FEEDS];       /* with the batch axis    */
    int64_t           n_samples;
};

static void
feeds_free(struct feeds *f)
{
    for (int i = 0; i < f->n; i++) {
        lrpx_npy_free(f->arr[i]);
        lrpx__free(f->f32[i]);
    }
    memset(f, 0, sizeof *f);
}

static bool
input_info(const lrpx_model *m, const char *name, lrpx_value_info *vi)
{
    for (int i = 0; i < lrpx_model_n_inputs(m); i++)
        if (lrpx_model_input_info(m, i, vi) == LRPX_OK && (!name || !strcmp(vi->name, name)))
            return true;
    return false;
}

/* Read the check's input files: a missing batch axis is added, float64
 * data for a float32 input converted. */
static bool
feeds_load(struct run *u, struct feeds *f)
{
    const struct lrpx_check_item *it = u->it;
    char                          err[1024];
    for (int i = 0; i < it->n_feeds; i++) {
        lrpx_value_info vi;
        if (!input_info(u->m, it->feed_names[i], &vi)) {
            error_result(u, "the model has no input named \"%s\"", it->feed_names[i]);
            return false;
        }
        f->names[f->n] = vi.name;
        lrpx_npy **a   = &f->arr[f->n];
        f->n++;
        if (lrpx_npy_read(it->feed_paths[i], a, err, sizeof err) != LRPX_OK) {
            error_result(u, "%s", err);
            return false;
        }
        lrpx_tensor_view *v = &f->v[f->n - 1];
        v->dtype            = (*a)->dtype;
        v->rank             = (*a)->rank;
        v->n_elems          = (*a)->n_elems;
        v->data             = (*a)->data;
        memcpy(v->dims, (*a)->dims, sizeof v->dims);
        if (vi.rank == v->rank + 1 && v->rank < LRPX_MAX_RANK) {
            memmove(v->dims + 1, v->dims, (size_t)v->rank * sizeof v->dims[0]);
            v->dims[0] = 1;
            v->rank++;
        }
        if (v->rank < 1 || v->dims[0] < 1) {
            error_result(u, "%s: no samples (shape without a batch axis)", it->feed_paths[i]);
            return false;
        }
        if (v->dtype == LRPX_DTYPE_FLOAT64 && vi.dtype == LRPX_DTYPE_FLOAT32) {
            float *d = lrpx__malloc((size_t)(v->n_elems ? v->n_elems : 1) * sizeof *d);
            if (!d) {
                error_result(u, "out of memory");
                return false;
            }
            for (int64_t k = 0; k < v->n_elems; k++)
                d[k] = (float)((const double *)v->data)[k];
            f->f32[f->n - 1] = d;
            v->data          = d;
            v->dtype         = LRPX_DTYPE_FLOAT32;
        }
        if (f->n == 1)
            f->n_samples = v->dims[0];
        else if (v->dims[0] != f->n_samples) {
            error_result(u, "%s has %lld samples, %s has %lld", it->feed_paths[i],
                         (long long)v->dims[0], it->feed_paths[0], (long long)f->n_samples);
            return false;
        }
    }
    return true;
}

/* Set samples [b, b + count) of every input on session s. */
static bool
feeds_set(struct run *u, lrpx_session *s, const struct feeds *f, int64_t b, int64_t count)
{
    for (int i = 0; i < f->n; i++) {
        const lrpx_tensor_view *v   = &f->v[i];
        int64_t                 per = v->n_elems / v->dims[0];
        int64_t                 dims[LRPX_MAX_RANK];
        memcpy(dims, v->dims, sizeof dims);
        dims[0]     = count;
        size_t   es = lrpx_dtype_size(v->dtype);
        lrpx_status rc = lrpx_session_set_input(s, f->names[i], v->dtype, v->rank, dims,
                                                (const char *)v->data + (size_t)(b * per) * es);
        if (rc != LRPX_OK) {
            error_result(u, "input \"%s\": %s", f->names[i], lrpx_session_errmsg(s));
            return false;
        }
    }
    return true;
}

/* Element i of a view as a double. */
static double
view_at(const lrpx_tensor_view *v, int64_t i)
{
    switch (v->dtype) {
    case LRPX_DTYPE_FLOAT32: return ((const float *)v->data)[i];
    case LRPX_DTYPE_FLOAT64: return ((const double *)v->data)[i];
    case LRPX_DTYPE_INT64:   return (double)((const int64_t *)v->data)[i];
    case LRPX_DTYPE_INT32:   return ((const int32_t *)v->data)[i];
    case LRPX_DTYPE_INT8:    return ((const int8_t *)v->data)[i];
    case LRPX_DTYPE_UINT8:
    case LRPX_DTYPE_BOOL:    return ((const uint8_t *)v->data)[i];
    default:                 return NAN;
    }
}

static bool
output_index(struct run *u, int *idx)
{
    *idx = 0;
    if (!u->it->output)
        return true;
    for (int i = 0; i < lrpx_model_n_outputs(u->m); i++) {
        lrpx_value_info vi;
        if (lrpx_model_output_info(u->m, i, &vi) == LRPX_OK && !strcmp(vi.name, u->it->output)) {
            *idx = i;
            return true;
        }
    }
    error_result(u, "the model has no output named \"%s\"", u->it->output);
    return false;
}

/* The chosen output of every sample, run one sample at a time, as doubles:
 * *out holds n_samples * *per values (lrpx__malloc'd). */
static bool
forward_all(struct run *u, const struct feeds *f, double **out, int64_t *per)
{
    int oi;
    *out = NULL;
    if (!output_index(u, &oi))
        return false;
    for (int64_t b = 0; b < f->n_samples; b++) {
        lrpx_tensor_view o;
        if (!feeds_set(u, u->s, f, b, 1))
            return false;
        if (lrpx_session_run(u->s) != LRPX_OK || lrpx_session_output(u->s, oi, &o) != LRPX_OK) {
            error_result(u, "%s", lrpx_session_errmsg(u->s));
            return false;
        }
        if (b == 0) {
            *per = o.n_elems;
            *out = lrpx__malloc((size_t)(o.n_elems * f->n_samples + 1) * sizeof **out);
            if (!*out) {
                error_result(u, "out of memory");
                return false;
            }
        } else if (o.n_elems != *per) {
            error_result(u, "sample %lld gives %lld output values, sample 0 %lld", (long long)b,
                         (long long)o.n_elems, (long long)*per);
            return false;
        }
        for (int64_t i = 0; i < o.n_elems; i++)
            (*out)[b * *per + i] = view_at(&o, i);
    }
    return true;
}

static int64_t
argmax(const double *v, int64_t n)
{
    int64_t k = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[k])
            k = i;
    return k;
}

/* ---- samples and thresholds ---- */

static bool
alloc_samples(struct run *u, int64_t n)
{
    u->r->samples = lrpx__calloc((size_t)(n ? n : 1), sizeof *u->r->samples);
    if (!u->r->samples) {
        error_result(u, "out of memory");
        return false;
    }
    u->r->n_samples = (int)n;
    return true;
}

/* Aggregate the per-sample values and decide. at_least: value >= threshold
 * passes, else value <= threshold. what: "relevance mass inside the mask". */
static void
decide(struct run *u, bool at_least, const char *what)
{
    struct lrpx_check_result_impl *r   = u->r;
    const char *agg_name[] = {"mean", "min", "max"};
    double      v = r->n_samples ? (u->it->aggregate == LRPX_CHECK_AGG_MEAN ? 0.0
                                    : r->samples[0]) : NAN;
    int         worst = 0;
    for (int i = 0; i < r->n_samples; i++) {
        double x = r->samples[i];
        if (isnan(x)) {
            error_result(u, "%s is undefined for sample %d", what, i);
            return;
        }
        if (u->it->aggregate == LRPX_CHECK_AGG_MEAN)
            v += x / r->n_samples;
        else if (u->it->aggregate == LRPX_CHECK_AGG_MIN)
            v = fmin(v, x);
        else
            v = fmax(v, x);
        if (at_least ? x < r->samples[worst] : x > r->samples[worst])
            worst = i;
    }
    r->value     = v;
    r->threshold = u->it->threshold;
    r->relation  = at_least ? ">=" : "<=";
    r->quantity  = what;
    bool ok      = at_least ? v >= r->threshold : v <= r->threshold;
    r->outcome   = ok ? LRPX_CHECK_PASS : LRPX_CHECK_FAIL;
    if (r->n_samples == 1)
        say(u, "%s %.6g %s %.6g", what, v, ok ? r->relation : at_least ? "<" : ">",
            r->threshold);
    else
        say(u, "%s %.6g %s %.6g (%s of %d samples; %s %.6g at sample %d)", what, v,
            ok ? r->relation : at_least ? "<" : ">", r->threshold, agg_name[u->it->aggregate],
            r->n_samples, at_least ? "lowest" : "highest", r->samples[worst], worst);
}

/* ---- structure checks ---- */

static lrpx_status
check_ops(struct run *u)
{
    int  bad = 0;
    char list[512] = "";
    for (int i = 0; i < lrpx_model_n_nodes(u->m, 0); i++) {
        lrpx_node_info ni;
        if (lrpx_model_node_info(u->m, 0, i, &ni) != LRPX_OK || ni.supported)
            continue;
        if (!strstr(list, ni.op_type) && strlen(list) + strlen(ni.op_type) + 3 < sizeof list)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", bad ? ", " : "",
                     ni.op_type);
        bad++;
    }
    u->r->value     = bad;
    u->r->threshold = 0;
    u->r->relation  = "<=";
    u->r->quantity  = "unsupported nodes";
    u->r->outcome   = bad ? LRPX_CHECK_FAIL : LRPX_CHECK_PASS;
    if (bad)
        say(u, "%d node%s with operators lrpx does not support at opset %lld: %s", bad,
            bad > 1 ? "s" : "", (long long)lrpx_model_opset(u->m), list);
    else
        say(u, "all %d nodes supported at opset %lld", lrpx_model_n_nodes(u->m, 0),
            (long long)lrpx_model_opset(u->m));
    return LRPX_OK;
}

static lrpx_status
check_opset(struct run *u)
{
    int64_t o = lrpx_model_opset(u->m);
    bool    ok = o >= u->it->opset_min && o <= u->it->opset_max;
    u->r->value   = (double)o;
    u->r->quantity = "opset";
    u->r->outcome = ok ? LRPX_CHECK_PASS : LRPX_CHECK_FAIL;
    say(u, "opset %lld %s [%lld, %lld]", (long long)o, ok ? "in" : "outside",
        (long long)u->it->opset_min, (long long)u->it->opset_max);
    return LRPX_OK;
}

/* One expected value against the model's; appends mismatches to msg. */
static int
io_compare(const struct lrpx_check_value *e, const lrpx_value_info *vi, const char *what,
           char *msg, size_t size)
{
    size_t n   = strlen(msg);
    int    bad = 0;
#define MISMATCH(...)                                                                 \
    do {                                                                              \
        n += (size_t)snprintf(msg + n, n < size ? size - n : 0, "%s", n ? "; " : ""); \
        n += (size_t)snprintf(msg + n, n < size ? size - n : 0, __VA_ARGS__);         \
        bad++;                                                                        \
    } while (0)
    if (!vi) {
        MISMATCH("no %s named \"%s\"", what, e->name);
        return bad;
    }
    if (e->dtype && vi->dtype != e->dtype)
        MISMATCH("%s \"%s\" is %s, expected %s", what, e->name, lrpx_dtype_name(vi->dtype),
                 lrpx_dtype_name(e->dtype));
    if (e->rank >= 0 && vi->rank != e->rank)
        MISMATCH("%s \"%s\" has rank %d, expected %d", what, e->name, vi->rank, e->rank);
    else
        for (int k = 0; e->rank >= 0 && k < e->rank; k++) {
            if (e->dims[k] >= 0 && vi->dims[k] < 0)
                MISMATCH("%s \"%s\" dimension %d is symbolic \"%s\", expected %lld", what,
                         e->name, k, vi->dim_params[k] ? vi->dim_params[k] : "",
                         (long long)e->dims[k]);
            else if (e->dims[k] >= 0 && vi->dims[k] != e->dims[k])
                MISMATCH("%s \"%s\" dimension %d is %lld, expected %lld", what, e->name, k,
                         (long long)vi->dims[k], (long long)e->dims[k]);
            if (e->sym[k] && (vi->dims[k] >= 0 || !vi->dim_params[k] ||
                              strcmp(vi->dim_params[k], e->sym[k])))
                MISMATCH("%s \"%s\" dimension %d is %s%s%s, expected symbolic \"%s\"", what,
                         e->name, k, vi->dims[k] >= 0 ? "" : "\"",
                         vi->dims[k] >= 0 ? "fixed" : vi->dim_params[k] ? vi->dim_params[k]
                                                                        : "unnamed",
                         vi->dims[k] >= 0 ? "" : "\"", e->sym[k]);
        }
#undef MISMATCH
    return bad;
}

static lrpx_status
check_io(struct run *u)
{
    const struct lrpx_check_item *it = u->it;
    char msg[sizeof u->r->message] = "";
    int  bad = 0;
    for (int side = 0; side < 2; side++) {
        bool set = side ? it->io_outputs_set : it->io_inputs_set;
        int  ne  = side ? it->n_io_outputs : it->n_io_inputs;
        int  nm  = side ? lrpx_model_n_outputs(u->m) : lrpx_model_n_inputs(u->m);
        const struct lrpx_check_value *ev = side ? it->io_outputs : it->io_inputs;
        const char *what = side ? "output" : "input";
        if (!set)
            continue;
        if (ne != nm) {
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof msg - n, "%s%d %ss, expected %d", n ? "; " : "", nm, what,
                     ne);
            bad++;
        }
        for (int i = 0; i < ne; i++) {
            lrpx_value_info vi;
            bool            found = false;
            for (int k = 0; k < nm && !found; k++)
                found = (side ? lrpx_model_output_info(u->m, k, &vi)
                              : lrpx_model_input_info(u->m, k, &vi)) == LRPX_OK &&
                        !strcmp(vi.name, ev[i].name);
            bad += io_compare(&ev[i], found ? &vi : NULL, what, msg, sizeof msg);
        }
    }
    u->r->value    = bad;
    u->r->quantity = "mismatches";
    u->r->outcome  = bad ? LRPX_CHECK_FAIL : LRPX_CHECK_PASS;
    if (bad)
        say(u, "%s", msg);
    else
        say(u, "inputs and outputs as expected");
    return LRPX_OK;
}

/* ---- outputs and labels ---- */

static lrpx_status
check_outputs(struct run *u, const struct feeds *f)
{
    double   *out = NULL;
    int64_t   per = 0;
    lrpx_npy *e   = NULL;
    char      err[1024];
    if (!forward_all(u, f, &out, &per))
        goto done;
    if (lrpx_npy_read(u->it->expected, &e, err, sizeof err) != LRPX_OK) {
        error_result(u, "%s", err);
        goto done;
    }
    int64_t n = per * f->n_samples;
    if (e->n_elems != n) {
        error_result(u, "%s has %lld values, the model gave %lld (%lld samples)", u->it->expected,
                     (long long)e->n_elems, (long long)n, (long long)f->n_samples);
        goto done;
    }
    lrpx_tensor_view ev = {.dtype = e->dtype, .n_elems = e->n_elems, .data = e->data};
    int64_t          n_bad = 0, worst = -1;
    double           worst_excess = 0.0, max_diff = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x = out[i], y = view_at(&ev, i), d = fabs(x - y);
        double tol = u->it->atol + u->it->rtol * fabs(y);
        bool   same = d <= tol || (isnan(x) && isnan(y)) || (isinf(x) && x == y);
        if (!isnan(d))
            max_diff = fmax(max_diff, d);
        if (!same) {
            n_bad++;
            if (worst < 0 || isnan(d) || d - tol > worst_excess) {
                worst        = i;
                worst_excess = isnan(d) ? INFINITY : d - tol;
            }
        }
    }
    u->r->value     = (double)n_bad;
    u->r->threshold = 0;
    u->r->relation  = "<=";
    u->r->quantity  = "values outside rtol/atol";
    u->r->outcome   = n_bad ? LRPX_CHECK_FAIL : LRPX_CHECK_PASS;
    if (n_bad)
        say(u, "%lld of %lld values differ by more than atol %g + rtol %g * |expected|; worst "
            "at sample %lld, value %lld: got %.9g, expected %.9g", (long long)n_bad,
            (long long)n, u->it->atol, u->it->rtol, (long long)(worst / per),
            (long long)(worst % per), out[worst], view_at(&ev, worst));
    else
        say(u, "all %lld values within atol %g + rtol %g * |expected| (largest difference "
            "%.3g)", (long long)n, u->it->atol, u->it->rtol, max_diff);
done:
    lrpx__free(out);
    lrpx_npy_free(e);
    return LRPX_OK;
}

static lrpx_status
check_labels(struct run *u, const struct feeds *f)
{
    double        *out = NULL;
    int64_t        per = 0;
    lrpx_npy      *l   = NULL;
    const int64_t *labels = u->it->labels;
    int64_t        n_labels = u->it->n_labels;
    char           err[1024];
    int64_t       *own = NULL;
    if (u->it->labels_path) {
        if (lrpx_npy_read(u->it->labels_path, &l, err, sizeof err) != LRPX_OK) {
            error_result(u, "%s", err);
            goto done;
        }
        lrpx_tensor_view lv = {.dtype = l->dtype, .n_elems = l->n_elems, .data = l->data};
        own = lrpx__malloc((size_t)(l->n_elems + 1) * sizeof *own);
        if (!own) {
            error_result(u, "out of memory");
            goto done;
        }
        for (int64_t i = 0; i < l->n_elems; i++) {
            double d = view_at(&lv, i);
            if (!(d >= 0 && d == floor(d))) {
                error_result(u, "%s: value %lld is not a class index", u->it->labels_path,
                             (long long)i);
                goto done;
            }
            own[i] = (int64_t)d;
        }
        labels   = own;
        n_labels = l->n_elems;
    }
    if (n_labels != f->n_samples) {
        error_result(u, "%lld labels for %lld samples", (long long)n_labels,
                     (long long)f->n_samples);
        goto done;
    }
    if (!forward_all(u, f, &out, &per) || !alloc_samples(u, f->n_samples))
        goto done;
    int64_t wrong = 0, first = -1;
    for (int64_t b = 0; b < f->n_samples; b++) {
        int64_t k       = argmax(out + b * per, per);
        u->r->samples[b] = k == labels[b];
        if (k != labels[b]) {
            if (first < 0)
                first = b;
            wrong++;
        }
    }
    u->r->value     = 1.0 - (double)wrong / (double)f->n_samples;
    u->r->threshold = u->it->threshold;
    u->r->relation  = ">=";
    u->r->quantity  = "accuracy";
    u->r->outcome   = u->r->value >= u->r->threshold ? LRPX_CHECK_PASS : LRPX_CHECK_FAIL;
    if (wrong)
        say(u, "accuracy %.6g %s %.6g: %lld of %lld samples wrong; first: sample %lld is "
            "class %lld, expected %lld", u->r->value,
            u->r->outcome == LRPX_CHECK_PASS ? ">=" : "<", u->r->threshold, (long long)wrong,
            (long long)f->n_samples, (long long)first, (long long)argmax(out + first * per, per),
            (long long)labels[first]);
    else
        say(u, "all %lld samples get their labels", (long long)f->n_samples);
done:
    lrpx__free(out);
    lrpx__free(own);
    lrpx_npy_free(l);
    return LRPX_OK;
}

/* ---- maps ---- */

/* The geometry of one sample of the explained input, as C x H x W. */
struct geom {
    int64_t c, h, w, n;
    bool    nhwc;
};

static bool
geom_of(struct run *u, const struct feeds *f, struct geom *g)
{
    const lrpx_tensor_view *v = &f->v[0];
    int                     r = v->rank - 1;
    g->nhwc = u->it->nhwc != 0;
    g->n    = v->n_elems / v->dims[0];
    g->c = 1, g->h = 1, g->w = g->n;
    if (r == 3) {
        g->c = g->nhwc ? v->dims[3] : v->dims[1];
        g->h = g->nhwc ? v->dims[1] : v->dims[2];
        g->w = g->nhwc ? v->dims[2] : v->dims[3];
    } else if (r == 2) {
        g->h = v->dims[1];
        g->w = v->dims[2];
        g->nhwc = false;
    } else if (r != 1) {
        error_result(u, "input \"%s\" has rank %d; maps need samples of rank 1 to 3",
                     f->names[0], v->rank);
        return false;
    }
    if (f->v[0].dtype != LRPX_DTYPE_FLOAT32) {
        error_result(u, "input \"%s\" is %s; maps need float32", f->names[0],
                     lrpx_dtype_name(f->v[0].dtype));
        return false;
    }
    return true;
}

/* In place, for an NHWC input: one sample from HWC to CHW (back: CHW to
 * HWC); tmp holds n floats. Nothing for NCHW. */
static void
swap_layout(float *x, const struct geom *g, float *tmp, bool back)
{
    if (!g->nhwc)
        return;
    for (int64_t y = 0; y < g->h; y++)
        for (int64_t xx = 0; xx < g->w; xx++)
            for (int64_t k = 0; k < g->c; k++) {
                int64_t chw = (k * g->h + y) * g->w + xx, hwc = (y * g->w + xx) * g->c + k;
                tmp[back ? hwc : chw] = x[back ? chw : hwc];
            }
    memcpy(x, tmp, (size_t)g->n * sizeof *x);
}

static void
to_chw(float *x, const struct geom *g, float *tmp)
{
    swap_layout(x, g, tmp, false);
}

/* Maps of every sample (n_samples x g->n floats, CHW), the class each
 * explains and its explained output (logit). cls may hold fixed classes
 * (targets) on entry: fixed true. */
struct maps {
    float   *a;
    int64_t *cls;
    double  *logit;
};

static void
maps_free(struct maps *mp)
{
    LRPX_FREE(mp->a);
    LRPX_FREE(mp->cls);
    LRPX_FREE(mp->logit);
}

static bool
target_of(struct run *u, int64_t n_samples, int64_t b, int64_t *t)
{
    if (u->it->n_targets == 0) {
        *t = -1;
        return true;
    }
    if (u->it->n_targets != 1 && u->it->n_targets != n_samples) {
        error_result(u, "%d targets for %lld samples (give one, or one per sample)",
                     u->it->n_targets, (long long)n_samples);
        return false;
    }
    *t = u->it->targets[u->it->n_targets == 1 ? 0 : b];
    return true;
}

/* classes: NULL to take the check's targets (or the predictions); else the
 * class of every sample (the maps of a randomised model explain the classes
 * of the original). */
static bool
make_maps(struct run *u, lrpx_session *s, const struct feeds *f, const struct geom *g,
          const int64_t *classes, struct maps *mp)
{
    int64_t N = f->n_samples;
    mp->a     = lrpx__malloc((size_t)(N * g->n + 1) * sizeof *mp->a);
    mp->cls   = lrpx__malloc((size_t)(N + 1) * sizeof *mp->cls);
    mp->logit = lrpx__malloc((size_t)(N + 1) * sizeof *mp->logit);
    float *tmp = lrpx__malloc((size_t)(g->n + 1) * sizeof *tmp);
    bool   ok  = mp->a && mp->cls && mp->logit && tmp;
    if (!ok)
        error_result(u, "out of memory");
    for (int64_t b = 0; b < N && ok; b++) {
        struct lrpx_attr_options ao = u->it->method.ao;
        int64_t                  t  = classes ? classes[b] : -1;
        if (!classes && !(ok = target_of(u, N, b, &t)))
            break;
        if (t >= 0) {
            ao.lrp.seed   = LRPX_SEED_TARGET;
            ao.lrp.target = t;
        }
        ao.lrp.output_name = u->it->output;
        ao.input_name      = f->names[0];
        if (!(ok = feeds_set(u, s, f, b, 1)))
            break;
        lrpx_tensor_view v;
        lrpx_attr_report rep;
        if (lrpx_session_attribute(s, &ao) != LRPX_OK ||
            lrpx_session_attribution(s, &v) != LRPX_OK ||
            lrpx_session_attribution_report(s, 0, &rep) != LRPX_OK) {
            ok = false;
            error_result(u, "sample %lld: %s", (long long)b, lrpx_session_errmsg(s));
            break;
        }
        if (v.n_elems != g->n || v.dtype != LRPX_DTYPE_FLOAT32) {
            ok = false;
            error_result(u, "sample %lld: the map has %lld values, the input %lld",
                         (long long)b, (long long)v.n_elems, (long long)g->n);
            break;
        }
        memcpy(mp->a + b * g->n, v.data, (size_t)g->n * sizeof *mp->a);
        mp->cls[b]   = rep.cls;
        mp->logit[b] = rep.score;
        to_chw(mp->a + b * g->n, g, tmp);
    }
    lrpx__free(tmp);
    return ok;
}

/* ---- explanation regression ---- */

static lrpx_status
check_explanation(struct run *u, const struct feeds *f, const struct geom *g)
{
    struct maps mp  = {0};
    lrpx_npy   *ref = NULL;
    float      *rf  = NULL, *tmp = NULL;
    char        err[1024];
    if (lrpx_npy_read(u->it->reference, &ref, err, sizeof err) != LRPX_OK) {
        error_result(u, "%s", err);
        goto done;
    }
    if (ref->n_elems != f->n_samples * g->n ||
        (ref->dtype != LRPX_DTYPE_FLOAT32 && ref->dtype != LRPX_DTYPE_FLOAT64)) {
        error_result(u, "%s: %lld %s values; the maps of %lld samples have %lld float values",
                     u->it->reference, (long long)ref->n_elems, lrpx_dtype_name(ref->dtype),
                     (long long)f->n_samples, (long long)(f->n_samples * g->n));
        goto done;
    }
    rf  = lrpx__malloc((size_t)(ref->n_elems + 1) * sizeof *rf);
    tmp = lrpx__malloc((size_t)(g->n + 1) * sizeof *tmp);
    if (!rf || !tmp) {
        error_result(u, "out of memory");
        goto done;
    }
    lrpx_tensor_view rv = {.dtype = ref->dtype, .n_elems = ref->n_elems, .data = ref->data};
    for (int64_t i = 0; i < ref->n_elems; i++)
        rf[i] = (float)view_at(&rv, i);
    if (!make_maps(u, u->s, f, g, NULL, &mp) || !alloc_samples(u, f->n_samples))
        goto done;
    for (int64_t b = 0; b < f->n_samples; b++) {
        float *a = mp.a + b * g->n, *r = rf + b * g->n;
        to_chw(r, g, tmp);
        double d;
        if (u->it->distance == LRPX_CHECK_DIST_COSINE) {
            d = 1.0 - lrpx__eval_cosine(a, r, g->n);
        } else if (lrpx__eval_ssim(a, r, g->c, g->h, g->w, &d) != LRPX_OK) {
            error_result(u, "SSIM needs maps of at least 7 x 7, or rows of 7 (these are %lld x %lld)",
                         (long long)g->h, (long long)g->w);
            goto done;
        } else {
            d = 1.0 - d;
        }
        u->r->samples[b] = d;
    }
    decide(u, false, u->it->distance == LRPX_CHECK_DIST_COSINE ? "cosine distance to the "
                     "reference" : "SSIM distance (1 - SSIM) to the reference");
done:
    maps_free(&mp);
    lrpx_npy_free(ref);
    lrpx__free(rf);
    lrpx__free(tmp);
    return LRPX_OK;
}

/* ---- localisation ---- */

/* The mask of every sample as n_samples x g->n bytes (CHW), from a box, a
 * .npy (per sample or one for all; all channels or one plane) or an image
 * (one plane for all samples). */
static uint8_t *
load_mask(struct run *u, const struct geom *g, int64_t N)
{
    const struct lrpx_check_item *it = u->it;
    int64_t  plane = g->h * g->w;
    uint8_t *s     = lrpx__calloc((size_t)(N * g->n + 1), 1);
    uint8_t *one   = lrpx__calloc((size_t)(N * g->n + 1), 1);   /* as read */
    char     err[1024];
    int64_t  n_read = 0;                                        /* values in one */
    if (!s || !one) {
        error_result(u, "out of memory");
        goto fail;
    }
    if (it->has_box) {
        const int64_t *bx = it->box;
        if (bx[0] + bx[2] > g->w || bx[1] + bx[3] > g->h) {
            error_result(u, "the box [%lld, %lld, %lld, %lld] does not fit in %lld x %lld "
                         "(width x height)", (long long)bx[0], (long long)bx[1],
                         (long long)bx[2], (long long)bx[3], (long long)g->w, (long long)g->h);
            goto fail;
        }
        for (int64_t y = bx[1]; y < bx[1] + bx[3]; y++)
            for (int64_t x = bx[0]; x < bx[0] + bx[2]; x++)
                one[y * g->w + x] = 1;
        n_read = plane;
    } else {
        const char *path = it->mask_path;
        size_t      l    = strlen(path);
        bool        npy  = l >= 4 && !strcmp(path + l - 4, ".npy");
        if (npy) {
            lrpx_npy *m;
            if (lrpx_npy_read(path, &m, err, sizeof err) != LRPX_OK) {
                error_result(u, "%s", err);
                goto fail;
            }
            lrpx_tensor_view mv = {.dtype = m->dtype, .n_elems = m->n_elems, .data = m->data};
            n_read              = m->n_elems;
            bool fits = n_read == N * g->n || n_read == g->n || n_read == N * plane ||
                        n_read == plane;
            for (int64_t i = 0; fits && i < n_read; i++)
                one[i] = view_at(&mv, i) != 0.0;
            lrpx_npy_free(m);
            if (!fits) {
                error_result(u, "%s has %lld values; a mask has %lld (%lld samples x %lld) or "
                             "%lld, or one plane of %lld x %lld per sample or for all", path,
                             (long long)n_read, (long long)(N * g->n), (long long)N,
                             (long long)g->n, (long long)g->n, (long long)g->h, (long long)g->w);
                goto fail;
            }
        } else {
            lrpx_image *img;
            if (lrpx_image_load(path, NULL, &img, err, sizeof err) != LRPX_OK) {
                error_result(u, "%s", err);
                goto fail;
            }
            bool fits = img->width == g->w && img->height == g->h;
            for (int64_t i = 0; fits && i < plane; i++)
                one[i] = img->data[i * img->channels] != 0.0f;
            if (!fits)
                error_result(u, "%s is %d x %d; the input is %lld x %lld", path, img->width,
                             img->height, (long long)g->w, (long long)g->h);
            lrpx_image_free(img);
            if (!fits)
                goto fail;
            n_read = plane;
        }
    }
    /* spread over samples and channels */
    float *tmp = lrpx__malloc((size_t)(g->n + 1) * sizeof *tmp);
    float *fl  = lrpx__malloc((size_t)(g->n + 1) * sizeof *fl);
    if (!tmp || !fl) {
        lrpx__free(tmp);
        lrpx__free(fl);
        error_result(u, "out of memory");
        goto fail;
    }
    for (int64_t b = 0; b < N; b++) {
        uint8_t *d = s + b * g->n;
        if (n_read == N * g->n || n_read == g->n) {
            const uint8_t *src = one + (n_read == g->n ? 0 : b * g->n);
            for (int64_t i = 0; i < g->n; i++)     /* full masks follow the input's layout */
                fl[i] = src[i];
            to_chw(fl, g, tmp);
            for (int64_t i = 0; i < g->n; i++)
                d[i] = fl[i] != 0.0f;
        } else {
            const uint8_t *src = one + (n_read == plane ? 0 : b * plane);
            for (int64_t k = 0; k < g->c; k++)
                memcpy(d + k * plane, src, (size_t)plane);
        }
    }
    lrpx__free(tmp);
    lrpx__free(fl);
    lrpx__free(one);
    return s;
fail:
    lrpx__free(s);
    lrpx__free(one);
    return NULL;
}

static lrpx_status
check_localisation(struct run *u, const struct feeds *f, const struct geom *g)
{
    struct maps mp = {0};
    uint8_t    *s  = load_mask(u, g, f->n_samples);
    float      *scratch = NULL;
    if (!s || !make_maps(u, u->s, f, g, NULL, &mp) || !alloc_samples(u, f->n_samples))
        goto done;
    if (!(scratch = lrpx__malloc((size_t)(g->n + 1) * sizeof *scratch))) {
        error_result(u, "out of memory");
        goto done;
    }
    for (int64_t b = 0; b < f->n_samples; b++) {
        float *a = mp.a + b * g->n;
        lrpx__eval_normalise_abs(a, g->n, u->it->normalise, u->it->abs);
        u->r->samples[b] = lrpx__eval_relevance_mass(a, s + b * g->n, g->n, scratch);
    }
    decide(u, true, "relevance mass inside the mask");
done:
    maps_free(&mp);
    lrpx__free(s);
    lrpx__free(scratch);
    return LRPX_OK;
}

/* ---- faithfulness ---- */

/* lrpx eval's region-perturbation of each sample on its own (the map
 * normalised per sample here, so the metric's own normalise is off), the
 * perturbed copies batched through the session; the AOPC with its k = 0
 * term from the curve. */
static lrpx_status
check_faithfulness(struct run *u, const struct feeds *f, const struct geom *g)
{
    const struct lrpx_check_item *it = u->it;
    struct maps       mp = {0};
    float            *a1 = NULL, *tmp = NULL;
    lrpx_metric      *m  = NULL;
    lrpx_eval_result *r  = NULL;
    char              spec[256], base[64], err[512];
    int               oi;
    if (f->n != 1)
        return error_result(u, "faithfulness needs a model with one input (this one has %d)",
                            f->n);
    if (f->v[0].rank != 4)
        return error_result(u, "faithfulness needs image inputs of rank 4 (this one has rank "
                            "%d)", f->v[0].rank);
    static const char *const baselines[] = {"black", "white", "mean"};
    if (it->baseline == LRPX_CHECK_BASELINE_VALUE)
        snprintf(base, sizeof base, "%.17g", it->baseline_value);
    else
        snprintf(base, sizeof base, "%s", baselines[it->baseline]);
    snprintf(spec, sizeof spec, "region-perturbation:patch-size=%d,order=%s,"
             "regions-evaluation=%d,perturb-baseline=%s,softmax=%s,normalise=false,abs=false",
             it->patch_size, it->order == LRPX_CHECK_ORDER_LERF ? "lerf" : "morf", it->regions,
             base, it->softmax ? "true" : "false");
    if (lrpx_metric_parse(spec, &m, err, sizeof err) != LRPX_OK) {
        error_result(u, "%s", err);
        goto done;
    }
    if (!output_index(u, &oi) || !make_maps(u, u->s, f, g, NULL, &mp) ||
        !alloc_samples(u, f->n_samples))
        goto done;
    a1  = lrpx__malloc((size_t)(g->n + 1) * sizeof *a1);
    tmp = lrpx__malloc((size_t)(g->n + 1) * sizeof *tmp);
    if (!a1 || !tmp) {
        error_result(u, "out of memory");
        goto done;
    }
    for (int64_t b = 0; b < f->n_samples; b++) {
        memcpy(a1, mp.a + b * g->n, (size_t)g->n * sizeof *a1);
        lrpx__eval_normalise_abs(a1, g->n, it->normalise, it->abs);
        swap_layout(a1, g, tmp, true);
        lrpx_tensor_view xv = f->v[0];
        xv.dims[0]          = 1;
        xv.n_elems          = g->n;
        xv.data             = (const float *)f->v[0].data + b * g->n;
        lrpx_tensor_view av = xv;
        av.data             = a1;
        struct lrpx_eval_options eo;
        lrpx_eval_options_default(&eo);
        eo.x          = &xv;
        eo.attr       = &av;
        eo.input_name = f->names[0];
        eo.nhwc       = g->nhwc;
        eo.targets    = &mp.cls[b];
        lrpx_eval_sample es;
        if (lrpx__eval_run(u->s, m, &eo, it->output, &r) != LRPX_OK ||
            lrpx_eval_result_sample(r, 0, &es) != LRPX_OK) {
            error_result(u, "sample %lld: region perturbation: %s", (long long)b,
                         lrpx_session_errmsg(u->s));
            goto done;
        }
        u->r->samples[b] = lrpx__eval_aopc0(es.curve, es.n_curve);
        lrpx_eval_result_free(r);
        r = NULL;
    }
    decide(u, true, "AOPC");
done:
    maps_free(&mp);
    lrpx_metric_free(m);
    lrpx_eval_result_free(r);
    lrpx__free(a1);
    lrpx__free(tmp);
    return LRPX_OK;
}

/* ---- conservation ---- */

static lrpx_status
check_conservation(struct run *u, const struct feeds *f, const struct geom *g)
{
    struct maps mp = {0};
    if (!make_maps(u, u->s, f, g, NULL, &mp) || !alloc_samples(u, f->n_samples))
        goto done;
    for (int64_t b = 0; b < f->n_samples; b++) {
        double sum = 0.0;
        for (int64_t i = 0; i < g->n; i++)
            sum += mp.a[b * g->n + i];
        double e = fabs(sum - mp.logit[b]);
        u->r->samples[b] = u->it->relative ? e / fabs(mp.logit[b]) : e;
    }
    decide(u, false, u->it->relative ? "relative conservation error |sum R - logit| / |logit|"
                                     : "conservation error |sum R - logit|");
done:
    maps_free(&mp);
    return LRPX_OK;
}

/* ---- randomisation ---- */

static lrpx_status
check_randomisation(struct run *u, const struct feeds *f, const struct geom *g)
{
    struct maps   mp = {0}, mr = {0};
    lrpx_model   *rm = NULL;
    lrpx_session *rs = NULL;
    struct lrpx_load_options lo;
    lrpx_load_options_default(&lo);
    lo.randomize_layers = u->it->layers;
    lo.randomize_seed   = (uint64_t)u->it->seed;
    if (lrpx_model_load_file(u->model_path, &lo, &rm) != LRPX_OK) {
        error_result(u, "randomised model: %s", lrpx_model_errmsg(rm));
        goto done;
    }
    if (lrpx_model_n_randomized(rm) == 0) {
        error_result(u, "the model has no linear layer with constant weights to randomise");
        goto done;
    }
    if (lrpx_session_init(rm, &rs) != LRPX_OK) {
        error_result(u, "randomised model: %s", lrpx_session_errmsg(rs));
        goto done;
    }
    if (!make_maps(u, u->s, f, g, NULL, &mp) || !make_maps(u, rs, f, g, mp.cls, &mr) ||
        !alloc_samples(u, f->n_samples))
        goto done;
    for (int64_t b = 0; b < f->n_samples; b++) {
        float *a = mp.a + b * g->n, *r = mr.a + b * g->n;
        lrpx__eval_normalise_abs(a, g->n, u->it->normalise, u->it->abs);
        lrpx__eval_normalise_abs(r, g->n, u->it->normalise, u->it->abs);
        double      sim = NAN;
        lrpx_status rc  = LRPX_OK;
        if (u->it->similarity == LRPX_CHECK_SIM_SPEARMAN)
            rc = lrpx__eval_spearman(a, r, g->n, &sim);
        else if (u->it->similarity == LRPX_CHECK_SIM_SSIM)
            rc = lrpx__eval_ssim(a, r, g->c, g->h, g->w, &sim);
        else
            sim = lrpx__eval_cosine(a, r, g->n);
        if (rc != LRPX_OK) {
            error_result(u, rc == LRPX_ENOMEM ? "out of memory"
                         : "SSIM needs maps of at least 7 x 7, or rows of 7");
            goto done;
        }
        u->r->samples[b] = sim;
    }
    static const char *const what[] = {
        "Spearman correlation with the randomised model's map",
        "SSIM with the randomised model's map", "cosine similarity with the randomised model's map"};
    decide(u, false, what[u->it->similarity]);
    size_t n = strlen(u->r->message);
    snprintf(u->r->message + n, sizeof u->r->message - n, " (%d layer%s randomised)",
             lrpx_model_n_randomized(rm), lrpx_model_n_randomized(rm) > 1 ? "s" : "");
done:
    maps_free(&mp);
    maps_free(&mr);
    lrpx_session_free(rs);
    lrpx_model_free(rm);
    return LRPX_OK;
}

/* ---- the run ---- */

static lrpx_status
run_item(struct run *u)
{
    const struct lrpx_check_item *it = u->it;
    switch (it->kind) {
    case LRPX_CHECK_OPS:   return check_ops(u);
    case LRPX_CHECK_OPSET: return check_opset(u);
    case LRPX_CHECK_IO:    return check_io(u);
    default:               break;
    }
    struct feeds f = {0};
    struct geom  g;
    if (feeds_load(u, &f)) {
        if (it->kind == LRPX_CHECK_OUTPUTS)
            check_outputs(u, &f);
        else if (it->kind == LRPX_CHECK_LABELS)
            check_labels(u, &f);
        else if (geom_of(u, &f, &g)) {
            if (it->kind == LRPX_CHECK_EXPLANATION)
                check_explanation(u, &f, &g);
            else if (it->kind == LRPX_CHECK_LOCALISATION)
                check_localisation(u, &f, &g);
            else if (it->kind == LRPX_CHECK_FAITHFULNESS)
                check_faithfulness(u, &f, &g);
            else if (it->kind == LRPX_CHECK_CONSERVATION)
                check_conservation(u, &f, &g);
            else
                check_randomisation(u, &f, &g);
        }
    }
    feeds_free(&f);
    return LRPX_OK;
}

static void
results_free(lrpx_check *c)
{
    for (int i = 0; c->results && i < c->n_items; i++)
        lrpx__free(c->results[i].samples);
    LRPX_FREE(c->results);
    LRPX_FREE(c->model_path);
}

lrpx_status
lrpx_check_run(lrpx_check *c, const char *model_path)
{
    if (!c || !model_path)
        return LRPX_EINVAL;
    results_free(c);
    c->model_path = lrpx__strdup(model_path);
    c->results    = lrpx__calloc((size_t)c->n_items, sizeof *c->results);
    if (!c->model_path || !c->results) {
        results_free(c);
        return LRPX_ENOMEM;
    }
    double                   t0 = now();
    struct lrpx_load_options lo;
    lrpx_load_options_default(&lo);
    lo.allow_unsupported = 1;          /* so ops_supported can name them */
    lrpx_model  *m  = NULL;
    lrpx_session *s = NULL;
    lrpx_status  load = lrpx_model_load_file(model_path, &lo, &m);
    char         why[LRPX_ERRMSG_SIZE] = "";
    if (load != LRPX_OK)
        snprintf(why, sizeof why, "%s (%s)", lrpx_model_errmsg(m), lrpx_status_name(load));
    else if (lrpx_session_init(m, &s) != LRPX_OK)
        snprintf(why, sizeof why, "%s", lrpx_session_errmsg(s));
    double t_load = now() - t0;
    if (c->progress)
        c->progress(c->progress_ctx, 0, c->n_items);
    for (int i = 0; i < c->n_items; i++) {
        if (i > 0 && c->progress)
            c->progress(c->progress_ctx, i, c->n_items);
        struct run u = {&c->items[i], &c->results[i], model_path, m, s};
        double     t = now();
        u.r->value = u.r->threshold = NAN;
        u.r->relation = u.r->quantity = "";
        if (c->items[i].kind == LRPX_CHECK_LOADS) {
            u.r->outcome = load == LRPX_OK ? LRPX_CHECK_PASS : LRPX_CHECK_FAIL;
            if (load == LRPX_OK)
                say(&u, "%d nodes, opset %lld, %lld parameters", lrpx_model_n_nodes(m, 0),
                    (long long)lrpx_model_opset(m), (long long)lrpx_model_n_params(m));
            else
                say(&u, "%s", why);
            u.r->seconds = t_load;
            continue;
        }
        if (load != LRPX_OK) {
            error_result(&u, "the model did not load: %s", why);
        } else if (!s && c->items[i].kind != LRPX_CHECK_OPS &&
                   c->items[i].kind != LRPX_CHECK_OPSET && c->items[i].kind != LRPX_CHECK_IO) {
            error_result(&u, "the model cannot run: %s", why);
        } else {
            lrpx_status rc = run_item(&u);
            if (rc == LRPX_ENOMEM)
                error_result(&u, "out of memory");
        }
        u.r->seconds = now() - t;
    }
    if (c->progress)
        c->progress(c->progress_ctx, c->n_items, c->n_items);
    lrpx_session_free(s);
    lrpx_model_free(m);
    c->seconds = now() - t0;
    return LRPX_OK;
}

/* ---- handle ---- */

void
lrpx_check_set_progress(lrpx_check *c, lrpx_check_progress_fn fn, void *ctx)
{
    if (!c)
        return;
    c->progress     = fn;
    c->progress_ctx = ctx;
}

lrpx_status
lrpx_check_parse(const char *text, size_t len, const char *name, const char *base_dir,
                 lrpx_check **out, char *errbuf, size_t errlen)
{
    if (!errbuf)
        errlen = 0;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out)
        return LRPX_EINVAL;
    *out = NULL;
    if (!text) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "NULL spec text");
        return LRPX_EINVAL;
    }
    lrpx_check *c = lrpx__calloc(1, sizeof *c);
    if (!c)
        return LRPX_ENOMEM;
    lrpx__arena_init(&c->arena, 0);
    c->spec_path = lrpx__arena_strdup(&c->arena, name ? name : "spec");
    lrpx_status rc = c->spec_path ? lrpx__check_parse(c, text, len, c->spec_path, base_dir,
                                                      errbuf, errlen)
                                  : LRPX_ENOMEM;
    if (rc != LRPX_OK) {
        lrpx_check_free(c);
        return rc;
    }
    *out = c;
    return LRPX_OK;
}

void
lrpx_check_free(lrpx_check *c)
{
    if (!c)
        return;
    results_free(c);
    lrpx__arena_free(&c->arena);
    lrpx__free(c);
}
