/* The pipeline of lrpx batch: decoder threads read and preprocess chunks
 * of --batch inputs ahead of the workers; each worker owns one session
 * (one thread, batch-invariant products) and explains the chunks it takes,
 * writing the .npy maps and heatmaps; the main thread appends the result
 * lines of each chunk in input order once it is done, and shows progress.
 * At most `window` chunks are between decoding and commit, so a killed
 * run loses only those.
 *
 *   decoders --READY--> workers --DONE--> main thread (results.jsonl)
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

enum chunk_state { CH_WAIT = 0, CH_DECODING, CH_READY, CH_COMPUTING, CH_DONE };

/* One input on its way through the pipeline. */
struct sample {
    float  *x;                    /* preprocessed, one sample (batch 1)   */
    int     rank;
    int64_t dims[LRPX_MAX_RANK];
    int64_t n_elems;
    char   *err;                  /* could not be used: why               */
    int64_t predicted, explained;
    double  logit, sum;
    double  t_decode, t_explain, t_metrics, t_write;   /* ms */
    char   *metrics;              /* the JSON object of the metrics       */
};

struct run {
    const char        *cmd;
    struct batch_job  *job;
    struct sample     *smp;
    int                batch, n_chunks, window;
    pthread_mutex_t    mu;
    pthread_cond_t     cv;
    int                next_decode, next_commit, n_taken;
    unsigned char     *state;
    bool               stop;
    char               fatal[2048];
};

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stop the run with an error (the first one wins). */
static void
fail(struct run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->mu);
    if (!r->fatal[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->fatal, sizeof r->fatal, fmt, ap);
        va_end(ap);
    }
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static int
chunk_end(const struct run *r, int c)
{
    int e = (c + 1) * r->batch;
    return e < r->job->n_todo ? e : r->job->n_todo;
}

/* ---- decoding ---- */

/* A .npy array as one float32 sample: a missing batch axis added,
 * float64 converted. */
static bool
decode_npy(const struct run *r, const char *path, struct sample *sm, char *err, size_t size)
{
    lrpx_npy *a;
    if (lrpx_npy_read(path, &a, err, size) != LRPX_OK)
        return false;
    bool ok = false;
    int  rank = a->rank;
    memcpy(sm->dims, a->dims, sizeof sm->dims);
    if (r->job->decl_rank == rank + 1 && rank < LRPX_MAX_RANK) {
        memmove(sm->dims + 1, sm->dims, (size_t)rank * sizeof sm->dims[0]);
        sm->dims[0] = 1;
        rank++;
    }
    if (a->dtype != LRPX_DTYPE_FLOAT32 && a->dtype != LRPX_DTYPE_FLOAT64)
        snprintf(err, size, "%s: %s, not float32 or float64", path, lrpx_dtype_name(a->dtype));
    else if (rank < 1 || sm->dims[0] != 1)
        snprintf(err, size, "%s: one sample per file (batch dimension 1) is expected", path);
    else if (!(sm->x = malloc((size_t)(a->n_elems ? a->n_elems : 1) * sizeof(float))))
        snprintf(err, size, "%s: out of memory", path);
    else
        ok = true;
    if (ok) {
        for (int64_t i = 0; i < a->n_elems; i++)
            sm->x[i] = a->dtype == LRPX_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
                                                      : (float)((const double *)a->data)[i];
        sm->rank    = rank;
        sm->n_elems = a->n_elems;
    }
    lrpx_npy_free(a);
    return ok;
}

static bool
decode_image(const struct run *r, const char *path, struct sample *sm, char *err, size_t size)
{
    lrpx_image        *img = NULL;
    lrpx_image_tensor *t   = NULL;
    char               msg[1024];
    if (lrpx_image_load(path, NULL, &img, err, size) != LRPX_OK)
        return false;
    lrpx_status st = lrpx_image_preprocess(img, &r->job->pp, &t, msg, sizeof msg);
    lrpx_image_free(img);
    if (st != LRPX_OK) {
        snprintf(err, size, "%s: preprocessing: %s", path, msg);
        return false;
    }
    sm->x       = t->data;             /* taken over from the tensor */
    t->data     = NULL;
    sm->rank    = t->view.rank;
    sm->n_elems = t->view.n_elems;
    memcpy(sm->dims, t->view.dims, sizeof sm->dims);
    lrpx_image_tensor_free(t);
    return true;
}

static void
decode_one(const struct run *r, const struct batch_item *it, struct sample *sm)
{
    char   err[1536] = "";
    double t0        = now_ms();
    size_t l         = strlen(it->path);
    bool   npy       = l > 4 && !strcasecmp(it->path + l - 4, ".npy");
    if (!(npy ? decode_npy(r, it->path, sm, err, sizeof err)
              : decode_image(r, it->path, sm, err, sizeof err)))
        sm->err = strdup(err[0] ? err : "cannot be read");
    sm->t_decode = now_ms() - t0;
}

static void *
decoder_main(void *arg)
{
    struct run *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->next_decode < r->n_chunks &&
               r->next_decode >= r->next_commit + r->window)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop || r->next_decode >= r->n_chunks)
            break;
        int c       = r->next_decode++;
        r->state[c] = CH_DECODING;
        pthread_mutex_unlock(&r->mu);
        for (int i = c * r->batch; i < chunk_end(r, c); i++)
            decode_one(r, r->job->todo[i], &r->smp[i]);
        pthread_mutex_lock(&r->mu);
        r->state[c] = CH_READY;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- explaining ---- */

struct worker {
    struct run   *r;
    lrpx_session *s;
    float        *x, *map;            /* stacked inputs and maps, grown */
    int64_t       cap;
};

/* The methods that make a map in one pass of the session itself: a
 * sample's bits do not depend on the batch it is in (batch-invariant
 * products). The others run perturbed or interpolated copies through a
 * second session in batches of their own; they take one input per call,
 * so those batches depend on the input alone. */
bool
batch_method_one_pass(lrpx_attr_method m)
{
    return m == LRPX_ATTR_LRP || m == LRPX_ATTR_GRADIENT || m == LRPX_ATTR_GRADIENT_X_INPUT ||
           m == LRPX_ATTR_SALIENCY || m == LRPX_ATTR_SENSITIVITY || m == LRPX_ATTR_DECONVNET ||
           m == LRPX_ATTR_GUIDED_BACKPROP;
}

/* The map of the set input by the run's method (lrpx_session_attribute);
 * map receives n_elems floats shaped like the input. */
static lrpx_status
attribute(lrpx_session *s, const struct lrpx_attr_options *ao, int64_t n_elems, float *map)
{
    lrpx_tensor_view v;
    lrpx_status      st = lrpx_session_attribute(s, ao);
    if (st == LRPX_OK)
        st = lrpx_session_attribution(s, &v);
    if (st == LRPX_OK && (v.n_elems != n_elems || v.dtype != LRPX_DTYPE_FLOAT32))
        st = LRPX_ESHAPE;
    if (st == LRPX_OK)
        memcpy(map, v.data, (size_t)n_elems * sizeof(float));
    return st;
}

static bool
same_shape(const struct sample *a, const struct sample *b)
{
    return a->rank == b->rank && !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]);
}

static int64_t
item_target(const struct run *r, const struct batch_item *it)
{
    return it->target >= 0 ? it->target : r->job->cfg->target;
}

/* relevance/NAME.npy or heatmaps/NAME.png below --out */
static bool
out_path(const struct run *r, const struct batch_item *it, bool heat, char *buf, size_t size)
{
    return snprintf(buf, size, "%s/%s/%s.%s", r->job->cfg->out_dir, heat ? "heatmaps" : "relevance",
                    it->out_rel, heat ? "png" : "npy") < (int)size;
}

/* Write the map of one sample (and its heatmap). false: the message in
 * err. */
static bool
write_outputs(struct worker *w, const struct batch_item *it, const struct sample *sm,
              const float *map, char *err, size_t size)
{
    const struct run *r = w->r;
    char              path[8192];
    if (!out_path(r, it, false, path, sizeof path) || batch_mkdirs_for(r->cmd, path) != CLI_OK ||
        lrpx_npy_write_ex(path, LRPX_DTYPE_FLOAT32, sm->rank, sm->dims, map, LRPX_WRITE_NO_SYNC,
                          err, size) != LRPX_OK) {
        if (!err[0])
            snprintf(err, size, "%.1000s: cannot write", path);
        return false;
    }
    if (!r->job->cfg->heatmaps)
        return true;
    const struct batch_cfg *cfg = r->job->cfg;
    lrpx_tensor_view        v   = {LRPX_DTYPE_FLOAT32, sm->rank, {0}, sm->n_elems, map};
    memcpy(v.dims, sm->dims, sizeof v.dims);
    lrpx_image  *red  = NULL;
    lrpx_pixmap *heat = NULL;
    struct lrpx_heatmap_options ho;
    lrpx_heatmap_options_default(&ho);
    ho.cmap       = lrpx_colormap_builtin(cfg->cmap ? cfg->cmap : "bwr");
    ho.percentile = cfg->clip;
    lrpx_layout lay = r->job->pp.layout == LRPX_LAYOUT_NHWC ? LRPX_LAYOUT_NHWC : LRPX_LAYOUT_NCHW;
    bool ok = lrpx_heatmap_reduce(&v, lay, LRPX_HEAT_REDUCE_SUM, &red, err, size) == LRPX_OK &&
              lrpx_heatmap_render(red, &ho, &heat, err, size) == LRPX_OK &&
              out_path(r, it, true, path, sizeof path) &&
              batch_mkdirs_for(r->cmd, path) == CLI_OK &&
              lrpx_pixmap_save(heat, path, 0, err, size) == LRPX_OK;
    lrpx_image_free(red);
    lrpx_pixmap_free(heat);
    return ok;
}

/* ---- metrics ---- */

/* A localisation mask for a sample: "x,y,w,h" (a box in input pixels), a
 * .npy (nonzero = inside) or an image of the input's size (>= 128 inside),
 * as lrpx eval's --mask. *npy or *box own the data of *v. */
static bool
mask_load(const char *spec, const struct sample *sm, bool nhwc, lrpx_npy **npy, uint8_t **box,
          lrpx_tensor_view *v, char *err, size_t size)
{
    int64_t   h = sm->rank == 4 ? sm->dims[nhwc ? 1 : 2] : 1;
    int64_t   w = sm->rank == 4 ? sm->dims[nhwc ? 2 : 3] : sm->dims[sm->rank - 1];
    long long b[4];
    int       n = 0;
    memset(v, 0, sizeof *v);
    if (sscanf(spec, "%lld,%lld,%lld,%lld%n", &b[0], &b[1], &b[2], &b[3], &n) == 4 && !spec[n]) {
        if (b[0] < 0 || b[1] < 0 || b[2] < 1 || b[3] < 1 || b[0] + b[2] > w || b[1] + b[3] > h) {
            snprintf(err, size, "mask %s: the box must lie inside the %lldx%lld input", spec,
                     (long long)w, (long long)h);
            return false;
        }
        if (!(*box = calloc((size_t)(h * w), 1))) {
            snprintf(err, size, "out of memory");
            return false;
        }
        for (long long y = b[1]; y < b[1] + b[3]; y++)
            memset(*box + y * w + b[0], 1, (size_t)b[2]);
    } else {
        size_t l = strlen(spec);
        if (l > 4 && !strcasecmp(spec + l - 4, ".npy")) {
            if (lrpx_npy_read(spec, npy, err, size) != LRPX_OK)
                return false;
            v->dtype   = (*npy)->dtype;
            v->rank    = (*npy)->rank;
            v->n_elems = (*npy)->n_elems;
            v->data    = (*npy)->data;
            memcpy(v->dims, (*npy)->dims, sizeof v->dims);
            return true;
        }
        lrpx_image *img;
        if (lrpx_image_load(spec, NULL, &img, err, size) != LRPX_OK)
            return false;
        bool ok = img->width == w && img->height == h && (*box = malloc((size_t)(h * w)));
        if (ok)
            for (int64_t p = 0; p < h * w; p++)
                (*box)[p] = img->data[p * img->channels] >= 128.0f;
        else
            snprintf(err, size, "mask %s: the image is %dx%d, the input %lldx%lld", spec,
                     img->width, img->height, (long long)w, (long long)h);
        lrpx_image_free(img);
        if (!ok)
            return false;
    }
    *v = (lrpx_tensor_view){.dtype = LRPX_DTYPE_UINT8, .rank = 2, .dims = {h, w},
                            .n_elems = h * w, .data = *box};
    return true;
}

/* The run's metrics of one sample (x and map: its input and map) with
 * lrpx_session_evaluate on the worker's session, one sample per call so
 * that the values do not depend on the batch (Quantus normalises over the
 * batch handed over). sm->metrics: the JSON object of the results line.
 * A metric that cannot be computed for the input (no mask, ...) makes it a
 * failed input; false only when the run must stop. */
static bool
score_sample(struct worker *w, struct sample *sm, const struct batch_item *it, const float *x,
             const float *map)
{
    struct run             *r   = w->r;
    const struct batch_cfg *cfg = r->job->cfg;
    const char             *ms  = it->mask ? it->mask : cfg->sc.mask;
    bool                    nhwc = r->job->pp.layout == LRPX_LAYOUT_NHWC;
    lrpx_npy               *mnpy = NULL;
    uint8_t                *mbox = NULL;
    lrpx_tensor_view        mv, xv = {LRPX_DTYPE_FLOAT32, sm->rank, {0}, sm->n_elems, x};
    char                    err[1536] = "";
    char                   *text = NULL;
    size_t                  len  = 0;
    FILE                   *f    = NULL;
    double                  t0   = now_ms();
    memcpy(xv.dims, sm->dims, sizeof xv.dims);
    lrpx_tensor_view av = xv;
    av.data             = map;
    if (ms && !mask_load(ms, sm, nhwc, &mnpy, &mbox, &mv, err, sizeof err))
        goto done;
    struct lrpx_eval_options eo;
    lrpx_eval_options_default(&eo);
    eo.x         = &xv;
    eo.nhwc      = nhwc;
    eo.targets   = &sm->explained;
    eo.attr      = &av;
    eo.method    = &cfg->meth.ao;
    eo.mask      = ms ? &mv : NULL;
    eo.seed      = cfg->meth.ao.seed;
    eo.max_batch = 16;
    if (!(f = open_memstream(&text, &len))) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    fputc('{', f);
    for (int j = 0; j < cfg->sc.n_metrics; j++) {
        lrpx_eval_result *res = NULL;
        lrpx_eval_sample  es;
        if (lrpx_session_evaluate(w->s, cfg->metrics[j], &eo, &res) != LRPX_OK ||
            lrpx_eval_result_sample(res, 0, &es) != LRPX_OK) {
            snprintf(err, sizeof err, "metric %s: %s", cfg->sc.metrics[j],
                     lrpx_session_errmsg(w->s));
            lrpx_eval_result_free(res);
            goto done;
        }
        fputs(j ? ", " : "", f);
        cli_json_string(f, cfg->sc.metrics[j]);
        fputs(": ", f);
        /* one number per input, as merge averages them: the score (1/0
         * for a hit), else the curve's summary (AOPC, area) */
        cli_put_number(f, es.summary, 9, "null");
        lrpx_eval_result_free(res);
    }
    fputc('}', f);
done:
    if (f && fclose(f) != 0 && !err[0])
        snprintf(err, sizeof err, "out of memory");
    lrpx_npy_free(mnpy);
    free(mbox);
    sm->t_metrics = now_ms() - t0;
    if (err[0]) {
        free(text);
        char msg[2048];
        snprintf(msg, sizeof msg, "%s: %s", it->key, err);
        if (!(sm->err = strdup(msg))) {
            fail(r, "out of memory");
            return false;
        }
        return true;
    }
    sm->metrics = text;
    return true;
}

/* Samples [a, b) of the todo list: one shape, one target, all read. */
static bool
explain_run(struct worker *w, int a, int b)
{
    struct run             *r   = w->r;
    const struct batch_cfg *cfg = r->job->cfg;
    const struct sample    *s0  = &r->smp[a];
    int64_t                 per = s0->n_elems, n = b - a;
    if (n * per > w->cap) {
        free(w->x);
        free(w->map);
        w->cap = n * per;
        w->x   = malloc((size_t)w->cap * sizeof(float));
        w->map = malloc((size_t)w->cap * sizeof(float));
        if (!w->x || !w->map) {
            w->cap = 0;
            fail(r, "out of memory for a batch of %lld inputs", (long long)n);
            return false;
        }
    }
    for (int i = a; i < b; i++)
        memcpy(w->x + (i - a) * per, r->smp[i].x, (size_t)per * sizeof(float));
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, s0->dims, sizeof dims);
    dims[0]                   = n;
    struct lrpx_attr_options ao = cfg->meth.ao;
    int64_t                  t  = item_target(r, r->job->todo[a]);
    if (t >= 0) {
        ao.lrp.seed   = LRPX_SEED_TARGET;
        ao.lrp.target = t;
    }
    double      t0 = now_ms();
    lrpx_status st = lrpx_session_set_input(w->s, NULL, LRPX_DTYPE_FLOAT32, s0->rank, dims, w->x);
    if (st == LRPX_ESHAPE) {       /* inputs of a shape the model does not take */
        for (int i = a; i < b; i++) {
            char msg[2048];
            snprintf(msg, sizeof msg, "%s: %s", r->job->todo[i]->key, lrpx_session_errmsg(w->s));
            if (!(r->smp[i].err = strdup(msg))) {
                fail(r, "out of memory");
                return false;
            }
        }
        return true;
    }
    if (st == LRPX_OK)
        st = lrpx_session_run(w->s);
    if (st == LRPX_OK)
        st = attribute(w->s, &ao, n * per, w->map);
    lrpx_tensor_view y;
    if (st == LRPX_OK && (st = lrpx_session_output(w->s, 0, &y)) == LRPX_OK &&
        (y.dtype != LRPX_DTYPE_FLOAT32 || y.rank < 1 || y.dims[0] != n))
        st = LRPX_ESHAPE;
    if (st != LRPX_OK) {
        fail(r, "%s%s: %s", r->job->todo[a]->key, n > 1 ? " and the inputs after it" : "",
             lrpx_session_errmsg(w->s));
        return false;
    }
    double  t_each = (now_ms() - t0) / (double)n;
    int64_t n_cls  = y.n_elems / n;
    for (int i = a; i < b; i++) {
        struct sample *sm = &r->smp[i];
        const float   *yi = (const float *)y.data + (i - a) * n_cls;
        const float   *mi = w->map + (i - a) * per;
        sm->predicted     = 0;
        for (int64_t k = 1; k < n_cls; k++)
            if (yi[k] > yi[sm->predicted])
                sm->predicted = k;
        lrpx_attr_report rep = {.cls = -1, .score = NAN};
        lrpx_session_attribution_report(w->s, i - a, &rep);
        sm->explained = rep.cls;
        sm->logit     = rep.score;
        sm->sum = 0.0;
        for (int64_t k = 0; k < per; k++)
            sm->sum += mi[k];
        sm->t_explain = t_each;
    }
    /* metrics after every sample's numbers are read: they use the session */
    for (int i = a; i < b && cfg->sc.n_metrics; i++)
        if (!score_sample(w, &r->smp[i], r->job->todo[i], w->x + (i - a) * per,
                          w->map + (i - a) * per))
            return false;
    for (int i = a; i < b; i++) {
        struct sample *sm = &r->smp[i];
        if (sm->err)
            continue;
        double t1        = now_ms();
        char   err[1536] = "";
        if (!write_outputs(w, r->job->todo[i], sm, w->map + (i - a) * per, err, sizeof err)) {
            fail(r, "%s", err);
            return false;
        }
        sm->t_write = now_ms() - t1;
    }
    return true;
}

static void
explain_chunk(struct worker *w, int c)
{
    struct run *r = w->r;
    int         a = c * r->batch, e = chunk_end(r, c);
    while (a < e) {
        if (r->smp[a].err) {
            a++;
            continue;
        }
        int b = a + 1;       /* a run of one shape and one target */
        while (b < e && !r->smp[b].err && same_shape(&r->smp[a], &r->smp[b]) &&
               item_target(r, r->job->todo[a]) == item_target(r, r->job->todo[b]))
            b++;
        if (!explain_run(w, a, b))
            return;
        a = b;
    }
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct run    *r = w->r;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        int c = -1;
        for (int k = r->next_commit; k < r->next_decode && c < 0; k++)
            if (r->state[k] == CH_READY)
                c = k;
        if (c >= 0 && !r->stop) {
            r->state[c] = CH_COMPUTING;
            r->n_taken++;
            pthread_mutex_unlock(&r->mu);
            explain_chunk(w, c);
            pthread_mutex_lock(&r->mu);
            r->state[c] = CH_DONE;
            pthread_cond_broadcast(&r->cv);
            continue;
        }
        if (r->stop || r->n_taken == r->n_chunks)
            break;
        pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- committing ---- */

static void
json_class(FILE *f, int64_t k)
{
    if (k >= 0)
        fprintf(f, "%lld", (long long)k);
    else
        fputs("null", f);
}

/* The result line of an input (the key order is part of the format:
 * docs/scale-out.md). */
static void
result_line(FILE *f, const struct run *r, const struct batch_item *it, const struct sample *sm)
{
    char rel[8192], heat[8192];
    snprintf(rel, sizeof rel, "relevance/%s.npy", it->out_rel);
    snprintf(heat, sizeof heat, "heatmaps/%s.png", it->out_rel);
    fputs("{\"input\": ", f);
    cli_json_string(f, it->key);
    fputs(", \"label\": ", f);
    json_class(f, it->label);
    fputs(", \"target\": ", f);
    json_class(f, item_target(r, it));
    fprintf(f, ", \"predicted\": %lld, \"explained\": %lld, \"logit\": %.9g, "
            "\"relevance_sum\": %.9g, \"metrics\": %s, \"mask\": ",
            (long long)sm->predicted, (long long)sm->explained, sm->logit, sm->sum,
            sm->metrics ? sm->metrics : "{}");
    cli_json_string_or_null(f, it->mask ? it->mask : r->job->cfg->sc.mask);
    fputs(", \"relevance\": ", f);
    cli_json_string(f, rel);
    fputs(", \"heatmap\": ", f);
    cli_json_string_or_null(f, r->job->cfg->heatmaps ? heat : NULL);
    fprintf(f, ", \"time_ms\": {\"decode\": %.3f, \"explain\": %.3f, \"metrics\": %.3f, "
            "\"write\": %.3f}}\n", sm->t_decode, sm->t_explain, sm->t_metrics, sm->t_write);
}

static bool
write_fd(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* Append the lines of chunk c: results in one write, so a kill leaves at
 * most a torn last line (dropped by --resume); then the errors. */
static bool
commit_chunk(struct run *r, int c)
{
    char  *res = NULL;
    size_t n_res = 0;
    FILE  *fr = open_memstream(&res, &n_res);
    bool   ok = fr != NULL;
    for (int i = c * r->batch; ok && i < chunk_end(r, c); i++)
        if (!r->smp[i].err)
            result_line(fr, r, r->job->todo[i], &r->smp[i]);
    if (fr)
        fclose(fr);
    ok = ok && write_fd(r->job->results_fd, res, n_res);
    free(res);
    for (int i = c * r->batch; i < chunk_end(r, c); i++) {
        struct sample *sm = &r->smp[i];
        if (sm->err) {
            char *k = cli_json_quoted(r->job->todo[i]->key), *e = cli_json_quoted(sm->err);
            char  line[8192];
            int   n = k && e ? snprintf(line, sizeof line, "{\"input\": %s, \"error\": %.4000s}\n",
                                        k, e)
                             : -1;
            ok = ok && n > 0 && n < (int)sizeof line && write_fd(r->job->errors_fd, line, (size_t)n);
            free(k);
            free(e);
        }
        r->job->ms_decode += sm->t_decode;
        r->job->ms_explain += sm->err ? 0.0 : sm->t_explain;
        r->job->ms_write += sm->err ? 0.0 : sm->t_write;
        r->job->ms_metrics += sm->t_metrics;
        r->job->n_failed += sm->err != NULL;
        r->job->n_ok += sm->err == NULL;
        free(sm->x);
        free(sm->err);
        free(sm->metrics);
        sm->x       = NULL;
        sm->err     = NULL;
        sm->metrics = NULL;
    }
    return ok;
}

int
batch_run(const char *cmd, struct batch_job *job)
{
    const struct batch_cfg *cfg = job->cfg;
    struct run              r   = {.cmd = cmd, .job = job, .batch = cfg->batch};
    int                     n_workers = cfg->threads, n_dec = cfg->threads / 4 + 1;
    r.n_chunks = (job->n_todo + r.batch - 1) / r.batch;
    r.window   = 2 * n_workers + n_dec + 1;
    r.smp      = calloc((size_t)(job->n_todo ? job->n_todo : 1), sizeof *r.smp);
    r.state    = calloc((size_t)(r.n_chunks ? r.n_chunks : 1), 1);
    struct worker *ws  = calloc((size_t)n_workers, sizeof *ws);
    pthread_t     *tid = calloc((size_t)(n_workers + n_dec), sizeof *tid);
    if (!r.smp || !r.state || !ws || !tid) {
        free(r.smp);
        free(r.state);
        free(ws);
        free(tid);
        return cli_error(cmd, "out of memory for %d inputs", job->n_todo);
    }
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    int n_started = 0, rc = CLI_OK;
    for (int i = 0; i < n_workers && rc == CLI_OK; i++) {
        ws[i].r = &r;
        if (lrpx_session_init(job->model, &ws[i].s) != LRPX_OK) {
            rc = cli_error(cmd, "%s", lrpx_session_errmsg(ws[i].s));
            break;
        }
        /* one thread per session and batch-invariant products: a sample's
         * bits do not depend on --threads, --batch or the shard */
        lrpx_session_set_threads(ws[i].s, 1);
        lrpx_session_set_batch_invariant(ws[i].s, 1);
    }
    for (int i = 0; i < n_dec && rc == CLI_OK; i++)
        if (pthread_create(&tid[n_started], NULL, decoder_main, &r) == 0)
            n_started++;
        else
            rc = cli_error(cmd, "cannot start a thread");
    for (int i = 0; i < n_workers && rc == CLI_OK; i++)
        if (pthread_create(&tid[n_started], NULL, worker_main, &ws[i]) == 0)
            n_started++;
        else
            rc = cli_error(cmd, "cannot start a thread");
    struct cli_progress bar;
    double              t_start = cli_now();
    cli_progress_start(&bar, cmd, "inputs", job->n_todo);
    pthread_mutex_lock(&r.mu);
    while (rc == CLI_OK && !r.stop && r.next_commit < r.n_chunks) {
        int c = r.next_commit;
        while (!r.stop && r.state[c] != CH_DONE)
            pthread_cond_wait(&r.cv, &r.mu);
        if (r.stop)
            break;
        pthread_mutex_unlock(&r.mu);
        bool ok = commit_chunk(&r, c);
        pthread_mutex_lock(&r.mu);
        if (!ok) {
            snprintf(r.fatal, sizeof r.fatal, "%s/results.jsonl: write failed: %s",
                     cfg->out_dir, strerror(errno));
            r.stop = true;
        }
        r.next_commit++;
        pthread_cond_broadcast(&r.cv);
        cli_progress_step(&bar, chunk_end(&r, c) - c * r.batch);
    }
    r.stop = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < n_started; i++)
        pthread_join(tid[i], NULL);
    cli_progress_end(&bar);
    cli_verbose(cmd, t_start, "%d inputs (decode %.0f ms, explain %.0f ms, write %.0f ms, "
                "metrics %.0f ms, summed over the threads):", job->n_ok + job->n_failed,
                job->ms_decode, job->ms_explain, job->ms_write, job->ms_metrics);
    if (rc == CLI_OK && r.fatal[0])
        rc = cli_error(cmd, "%s", r.fatal);
    for (int i = 0; i < job->n_todo; i++) {
        free(r.smp[i].x);
        free(r.smp[i].err);
        free(r.smp[i].metrics);
    }
    for (int i = 0; i < n_workers; i++) {
        lrpx_session_free(ws[i].s);
        free(ws[i].x);
        free(ws[i].map);
    }
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    free(r.smp);
    free(r.state);
    free(ws);
    free(tid);
    return rc;
}
