/* lrpx_session_evaluate: check the options, set up the context (geometry,
 * targets, batch size), run the metric's family, hand back per-sample
 * results. The session keeps the last perturbed batch afterwards. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "eval/eval_impl.h"

void
lrpx_eval_options_default(struct lrpx_eval_options *o)
{
    memset(o, 0, sizeof *o);
}

void
lrpx_eval_result_free(lrpx_eval_result *r)
{
    if (!r)
        return;
    for (int64_t i = 0; i < r->n; i++)
        lrpx__free(r->s[i].curve);
    for (int i = 0; i < r->n_labels; i++)
        lrpx__free(r->labels[i]);
    lrpx__free(r->labels);
    lrpx__free(r->s);
    lrpx__free(r);
}

int64_t
lrpx_eval_result_n(const lrpx_eval_result *r)
{
    return r ? r->n : 0;
}

lrpx_status
lrpx_eval_result_sample(const lrpx_eval_result *r, int64_t i, lrpx_eval_sample *out)
{
    if (!r || !out || i < 0 || i >= r->n)
        return LRPX_EINVAL;
    const struct eval_sample_res *s = &r->s[i];
    memset(out, 0, sizeof *out);
    out->target       = s->target;
    out->kind         = s->kind;
    out->score        = s->score;
    out->n_curve      = s->n_curve;
    out->curve        = s->curve;
    out->curve_labels = r->n_labels == s->n_curve && r->labels ? (const char *const *)r->labels
                                                               : NULL;
    out->summary      = s->summary;
    out->n_extra      = s->n_extra;
    out->extra_names  = s->extra_names;
    out->extra        = s->extra;
    return LRPX_OK;
}

/* Geometry of opts->x; the declared batch size of the input (-1: free). */
static lrpx_status
setup_geometry(struct eval_ctx *e, int64_t *decl_batch)
{
    const lrpx_tensor_view  *x = e->o->x;
    lrpx_session            *s = e->s;
    const struct lrpx_graph *g = &s->model->g;
    if (!x || !x->data || x->dtype != LRPX_DTYPE_FLOAT32 || x->rank < 2 ||
        x->rank > LRPX_MAX_RANK)
        return lrpx__error(&s->err, LRPX_EINVAL,
                           "evaluate: x must be a float32 batch of rank >= 2");
    e->rank = x->rank;
    memcpy(e->dims, x->dims, sizeof e->dims);
    e->n = x->dims[0];
    if (e->n < 1 || x->n_elems % e->n || x->n_elems == 0)
        return lrpx__error(&s->err, LRPX_ESHAPE, "evaluate: x holds no samples");
    e->f    = x->n_elems / e->n;
    e->x    = x->data;
    e->nhwc = e->o->nhwc != 0;
    if (x->rank == 4) {
        e->c = e->nhwc ? x->dims[3] : x->dims[1];
        e->h = e->nhwc ? x->dims[1] : x->dims[2];
        e->w = e->nhwc ? x->dims[2] : x->dims[3];
    } else if (x->rank == 3) {
        e->nhwc = false;
        e->c    = x->dims[1];
        e->h    = 1;
        e->w    = x->dims[2];
    } else {
        e->nhwc = false;
        e->c    = 1;
        e->h    = 1;
        e->w    = e->f;
    }
    int v = e->o->input_name ? lrpx__graph_find_value(g, e->o->input_name)
                             : (g->n_inputs ? g->inputs[0] : -1);
    if (v < 0)
        return lrpx__error(&s->err, LRPX_EINVAL, "evaluate: the model has no input '%s'",
                           e->o->input_name ? e->o->input_name : "(first)");
    *decl_batch = g->values[v].decl_rank >= 1 ? g->values[v].decl_dims[0] : -1;
    return LRPX_OK;
}

lrpx_status
lrpx_session_evaluate(lrpx_session *s, const lrpx_metric *m, const struct lrpx_eval_options *o,
                      lrpx_eval_result **out)
{
    return lrpx__eval_run(s, m, o, NULL, out);
}

lrpx_status
lrpx__eval_run(lrpx_session *s, const lrpx_metric *m, const struct lrpx_eval_options *o,
               const char *output_name, lrpx_eval_result **out)
{
    if (out)
        *out = NULL;
    if (!s)
        return LRPX_EINVAL;
    if (!m || !o || !out)
        return lrpx__error(&s->err, LRPX_EINVAL, "evaluate: NULL argument");
    struct eval_ctx e = {.s = s, .m = m, .o = o, .seed = o->seed, .output_name = output_name};
    if (o->method)
        e.method = *o->method;
    else
        lrpx_attr_options_default(&e.method);
    e.method.input_name = o->input_name;
    e.method.lrp.seed   = LRPX_SEED_TARGETS;
    int64_t     decl = -1;
    lrpx_status rc = setup_geometry(&e, &decl);
    if (rc != LRPX_OK)
        return rc;
    e.max_batch = o->max_batch > 0 ? o->max_batch : 16;
    if (decl > 0)
        e.max_batch = (int)decl;            /* a fixed batch dimension */
    e.r = lrpx__calloc(1, sizeof *e.r);
    if (e.r)
        e.r->s = lrpx__calloc((size_t)e.n, sizeof *e.r->s);
    e.targets = lrpx__malloc((size_t)e.n * sizeof *e.targets);
    if (!e.r || !e.r->s || !e.targets) {
        lrpx_eval_result_free(e.r);
        lrpx__free(e.targets);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
    }
    e.r->n = e.n;
    if (o->targets)
        memcpy(e.targets, o->targets, (size_t)e.n * sizeof *e.targets);
    else
        rc = eval_predict(&e, e.x, e.n, NULL, false, NULL, e.targets);
    for (int64_t i = 0; i < e.n; i++) {
        e.r->s[i].target  = e.targets[i];
        e.r->s[i].score   = NAN;
        e.r->s[i].summary = NAN;
    }
    if (rc == LRPX_OK) {
        switch (m->id) {
        case LRPX_METRIC_PIXEL_FLIPPING:
        case LRPX_METRIC_REGION_PERTURBATION:
        case LRPX_METRIC_SELECTIVITY:
        case LRPX_METRIC_LERF_MORF_AREA:
            rc = eval_faithfulness(&e);
            break;
        case LRPX_METRIC_CONTINUITY:
        case LRPX_METRIC_LOCAL_LIPSCHITZ:
        case LRPX_METRIC_MAX_SENSITIVITY:
            rc = eval_robustness(&e);
            break;
        case LRPX_METRIC_RELEVANCE_MASS:
        case LRPX_METRIC_RELEVANCE_RANK:
        case LRPX_METRIC_POINTING_GAME:
            rc = eval_localisation(&e);
            break;
        case LRPX_METRIC_SPARSENESS:
        case LRPX_METRIC_COMPLEXITY:
        case LRPX_METRIC_COMPLETENESS:
            rc = eval_complexity(&e);
            break;
        case LRPX_METRIC_MODEL_RANDOMISATION:
        case LRPX_METRIC_RANDOM_LOGIT:
            rc = eval_randomisation(&e);
            break;
        default:
            rc = lrpx__error(&s->err, LRPX_EINVAL, "evaluate: unknown metric %d", (int)m->id);
        }
    }
    lrpx__free(e.targets);
    if (rc != LRPX_OK) {
        lrpx_eval_result_free(e.r);
        return rc;
    }
    *out = e.r;
    return LRPX_OK;
}
