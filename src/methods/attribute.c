/* lrpx_session_attribute: the front end of the attribution methods.
 *
 * One call
 *   1. finds the explained input (its shape, a copy of its data) and runs
 *      the forward pass on the caller's session;
 *   2. builds each sample's seed at the explained output with the seed
 *      options of LRP (lrpx__exec_seed: one-hot at the predicted class or
 *      the target, or a caller tensor) and records the class and score;
 *      perturbed or interpolated copies are all evaluated for that seed;
 *   3. runs the method: LRP and the gradient family on the caller's
 *      session (one backward pass of the batch; deconvnet and
 *      guided-backprop switch every Relu's backward with s->grad_mode),
 *      the others through lrpx__meth_rows (batch.c);
 *   4. keeps the map in s->attr and the reports in s->attr_rep.
 *
 * Definitions of every method: docs/methods.md.
 */
#include <math.h>
#include <string.h>

#include "methods/methods_impl.h"

/* ---- names ---- */

static const char *const method_names[LRPX_ATTR_COUNT] = {
#define X(name, text, help) text,
    LRPX_ATTR_METHOD_MAP(X)
#undef X
};

static const char *const method_help[LRPX_ATTR_COUNT] = {
#define X(name, text, help) help,
    LRPX_ATTR_METHOD_MAP(X)
#undef X
};

static const char *const quadrature_names[LRPX_QUADRATURE_COUNT] = {
#define X(name, text) text,
    LRPX_QUADRATURE_MAP(X)
#undef X
};

const char *
lrpx_attr_method_name(lrpx_attr_method m)
{
    return (unsigned)m < LRPX_ATTR_COUNT ? method_names[m] : NULL;
}

const char *
lrpx_attr_method_help(lrpx_attr_method m)
{
    return (unsigned)m < LRPX_ATTR_COUNT ? method_help[m] : NULL;
}

/* Index of name in a table of n names, or -1. */
static int
name_index(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

lrpx_status
lrpx_attr_method_parse(const char *name, lrpx_attr_method *m)
{
    int i = name_index(method_names, LRPX_ATTR_COUNT, name);
    if (i < 0 || !m)
        return LRPX_EINVAL;
    *m = (lrpx_attr_method)i;
    return LRPX_OK;
}

const char *
lrpx_quadrature_name(lrpx_quadrature q)
{
    return (unsigned)q < LRPX_QUADRATURE_COUNT ? quadrature_names[q] : NULL;
}

lrpx_status
lrpx_quadrature_parse(const char *name, lrpx_quadrature *q)
{
    int i = name_index(quadrature_names, LRPX_QUADRATURE_COUNT, name);
    if (i < 0 || !q)
        return LRPX_EINVAL;
    *q = (lrpx_quadrature)i;
    return LRPX_OK;
}

void
lrpx_attr_options_default(struct lrpx_attr_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = LRPX_ATTR_LRP;
    lrpx_lrp_options_default(&o->lrp);
    o->steps      = 50;
    o->quadrature = LRPX_QUADRATURE_GAUSS_LEGENDRE;
    o->samples    = 50;
    o->sigma      = 0.15;
    o->of         = LRPX_ATTR_SALIENCY;
    o->root_iters = 50;
}

/* ---- shared helpers ---- */

double
lrpx__meth_score(const struct lrpx_meth *m, int64_t b, const float *row)
{
    const float *w = m->w + b * m->n_out;
    double       s = 0.0;
    for (int64_t k = 0; k < m->n_out; k++)
        if (w[k] != 0.0f)
            s += (double)w[k] * row[k];
    return s;
}

lrpx_status
lrpx__meth_broadcast(struct lrpx_meth *m, const lrpx_tensor_view *v, const char *what,
                     int64_t **index)
{
    char d1[128], d2[128];
    *index = NULL;
    if (v->rank < 0 || v->rank > m->rank)
        goto bad;
    int64_t stride[LRPX_MAX_RANK] = {0}, st = 1, n = 1;
    for (int k = v->rank - 1; k >= 0; k--) {
        int64_t want = m->dims[m->rank - v->rank + k];
        if (v->dims[k] != want && v->dims[k] != 1)
            goto bad;
        stride[m->rank - v->rank + k] = v->dims[k] == 1 ? 0 : st;
        st *= v->dims[k];
    }
    for (int k = 0; k < v->rank; k++)
        n *= v->dims[k];
    if (n != v->n_elems)
        return lrpx__error(&m->s->err, LRPX_EINVAL, "%s: %lld values for the shape %s", what,
                           (long long)v->n_elems, lrpx__dims_str(v->dims, v->rank, d1, sizeof d1));
    int64_t total = m->n * m->per;
    int64_t *idx  = lrpx__malloc((size_t)(total ? total : 1) * sizeof *idx);
    if (!idx)
        return lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for the %s", what);
    for (int64_t i = 0; i < total; i++) {
        int64_t rest = i, off = 0;
        for (int k = m->rank - 1; k >= 0; k--) {
            off += (rest % m->dims[k]) * stride[k];
            rest /= m->dims[k];
        }
        idx[i] = off;
    }
    *index = idx;
    return LRPX_OK;
bad:
    return lrpx__error(&m->s->err, LRPX_EINVAL, "the %s has shape %s, which does not broadcast "
                       "to the input's shape %s", what,
                       lrpx__dims_str(v->dims, v->rank < 0 ? 0 : v->rank, d1, sizeof d1),
                       lrpx__dims_str(m->dims, m->rank, d2, sizeof d2));
}

/* ---- the gradient family and LRP, on the caller's session ---- */

static lrpx_status
gradient_family(struct lrpx_meth *m, int seed_value)
{
    lrpx_session *s    = m->s;
    lrpx_attr_method k = m->o->method;
    s->grad_mode = k == LRPX_ATTR_DECONVNET ? LRPX_GRAD_DECONV
                 : k == LRPX_ATTR_GUIDED_BACKPROP ? LRPX_GRAD_GUIDED : LRPX_GRAD_PLAIN;
    lrpx_status rc = lrpx__exec_backward(s, LRPX_PHASE_BACKWARD, seed_value, m->w);
    s->grad_mode   = LRPX_GRAD_PLAIN;
    if (rc != LRPX_OK)
        return rc;
    const float *g = s->plan.x.back[m->in_value];
    if (!g)
        return lrpx__error(&s->err, LRPX_EINVAL, "no gradient reached input '%s'", m->in_name);
    for (int64_t i = 0; i < m->n * m->per; i++) {
        float v = g[i];
        switch (k) {
        case LRPX_ATTR_GRADIENT_X_INPUT: v = m->x[i] * v; break;
        case LRPX_ATTR_SALIENCY:         v = fabsf(v); break;
        case LRPX_ATTR_SENSITIVITY:      v = v * v; break;
        default:                         break;
        }
        m->out[i] = v;
    }
    return LRPX_OK;
}

static lrpx_status
lrp(struct lrpx_meth *m)
{
    lrpx_session *s  = m->s;
    lrpx_status   rc = lrpx_session_explain(s, &m->o->lrp);
    if (rc != LRPX_OK)
        return rc;
    lrpx_tensor_view r;
    if (lrpx_session_relevance(s, m->in_name, &r) != LRPX_OK || r.n_elems != m->n * m->per)
        return lrpx__error(&s->err, LRPX_EINVAL, "no relevance reached input '%s'", m->in_name);
    memcpy(m->out, r.data, (size_t)r.n_elems * sizeof(float));
    return LRPX_OK;
}

/* ---- the front end ---- */

static lrpx_status
check_options(lrpx_session *s, const struct lrpx_attr_options *o)
{
    struct lrpx_err *e = &s->err;
    if ((unsigned)o->method >= LRPX_ATTR_COUNT)
        return lrpx__error(e, LRPX_EINVAL, "unknown attribution method %d", (int)o->method);
    if (o->internal_batch < 0 || o->internal_batch > 1 << 20)
        return lrpx__error(e, LRPX_EINVAL, "internal_batch %d is out of range (0..%d)",
                           o->internal_batch, 1 << 20);
    if (o->method == LRPX_ATTR_INTEGRATED_GRADIENTS) {
        if ((unsigned)o->quadrature >= LRPX_QUADRATURE_COUNT)
            return lrpx__error(e, LRPX_EINVAL, "unknown quadrature %d", (int)o->quadrature);
        int lo = o->quadrature == LRPX_QUADRATURE_GAUSS_LEGENDRE ? 1 : 2;
        if (o->steps < lo || o->steps > 10000)
            return lrpx__error(e, LRPX_EINVAL, "integrated gradients: steps %d is out of range "
                               "(%d..10000 for %s)", o->steps, lo,
                               lrpx_quadrature_name(o->quadrature));
        if (!isfinite(o->baseline))
            return lrpx__error(e, LRPX_EINVAL, "integrated gradients: the baseline is not finite");
    }
    if (o->method == LRPX_ATTR_SMOOTHGRAD || o->method == LRPX_ATTR_SMOOTHGRAD_SQ ||
        o->method == LRPX_ATTR_VARGRAD) {
        if (o->samples < 1 || o->samples > 1000000)
            return lrpx__error(e, LRPX_EINVAL, "%s: samples %d is out of range (1..1000000)",
                               lrpx_attr_method_name(o->method), o->samples);
        if (!(o->sigma >= 0.0) || !isfinite(o->sigma))
            return lrpx__error(e, LRPX_EINVAL, "%s: sigma must be a finite number >= 0",
                               lrpx_attr_method_name(o->method));
        if (o->of != LRPX_ATTR_GRADIENT && o->of != LRPX_ATTR_SALIENCY &&
            o->of != LRPX_ATTR_GRADIENT_X_INPUT)
            return lrpx__error(e, LRPX_EINVAL, "%s averages gradient, saliency or gradxinput, "
                               "not %s", lrpx_attr_method_name(o->method),
                               lrpx_attr_method_name(o->of) ? lrpx_attr_method_name(o->of) : "?");
    }
    if ((o->method == LRPX_ATTR_OCCLUSION || o->method == LRPX_ATTR_FEATURE_ABLATION) &&
        !isfinite(o->fill))
        return lrpx__error(e, LRPX_EINVAL, "%s: the fill value is not finite",
                           lrpx_attr_method_name(o->method));
    if (o->method == LRPX_ATTR_TAYLOR && (o->root_iters < 1 || o->root_iters > 100000))
        return lrpx__error(e, LRPX_EINVAL, "taylor: root_iters %d is out of range (1..100000)",
                           o->root_iters);
    return LRPX_OK;
}

/* Steps 1 and 2: the input, the forward pass, the seeds, the reports. */
static lrpx_status
setup(struct lrpx_meth *m, int *seed_value)
{
    lrpx_session            *s = m->s;
    const struct lrpx_graph *g = &s->model->g;
    lrpx_status              rc;
    if (s->n_feeds < 1)
        return lrpx__error(&s->err, LRPX_EINVAL, "%s: the model has no inputs to explain",
                           g->path);
    m->in_value = m->o->input_name ? lrpx__session_value_index(s, m->o->input_name)
                                   : s->feeds[0].value;
    if (m->in_value < 0)
        return LRPX_EINVAL;
    m->in_name = g->values[m->in_value].name;
    if ((rc = lrpx__exec_seed(s, &m->o->lrp, LRPX_PHASE_BACKWARD, seed_value, &m->w)) != LRPX_OK)
        return rc;
    const struct lrpx_tensor *xt = &s->plan.x.vals[m->in_value];
    bool                      fed = false;
    for (int i = 0; i < s->n_feeds; i++)
        fed = fed || s->feeds[i].value == m->in_value;
    if (!fed || xt->dtype != LRPX_DTYPE_FLOAT32 || xt->rank < 1 || !xt->data)
        return lrpx__error(&s->err, LRPX_EINVAL, "%s: input '%s' is not a fed float32 tensor "
                           "with a batch axis", g->path, m->in_name);
    m->rank = xt->rank;
    memcpy(m->dims, xt->dims, sizeof m->dims);
    m->n   = xt->dims[0];
    m->per = m->n ? xt->n_elems / m->n : 0;
    const struct lrpx_tensor *t = &s->plan.x.vals[*seed_value];
    if (s->n_samples != m->n || m->n < 1 || m->per < 1)
        return lrpx__error(&s->err, LRPX_ESHAPE, "%s: the explained output has %lld samples, "
                           "input '%s' %lld: the attribution methods need both to share the "
                           "batch axis", g->path, (long long)s->n_samples, m->in_name,
                           (long long)m->n);
    m->n_out = t->n_elems / m->n;
    m->x     = lrpx__malloc((size_t)(m->n * m->per) * sizeof(float));
    if (!m->x)
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for a copy of the input");
    memcpy(m->x, xt->f32, (size_t)(m->n * m->per) * sizeof(float));

    /* the result buffers, kept by the session */
    lrpx__free(s->attr);
    lrpx__free(s->attr_rep);
    s->attr_n   = 0;
    s->attr     = lrpx__calloc((size_t)(m->n * m->per), sizeof(float));
    s->attr_rep = lrpx__calloc((size_t)m->n, sizeof *s->attr_rep);
    if (!s->attr || !s->attr_rep)
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the attribution");
    m->out = s->attr;
    m->rep = s->attr_rep;
    for (int64_t b = 0; b < m->n; b++) {
        struct lrpx_attr_report *r = &m->rep[b];
        r->cls       = s->seed_class[b];
        r->score     = lrpx__meth_score(m, b, t->f32 + b * m->n_out);
        r->ref_score = NAN;
        r->gap       = NAN;
        r->distance  = NAN;
        r->n_evals   = 1;
    }
    return LRPX_OK;
}

lrpx_status
lrpx_session_attribute(lrpx_session *s, const struct lrpx_attr_options *o)
{
    struct lrpx_attr_options def;
    if (!s)
        return LRPX_EINVAL;
    if (!o) {
        lrpx_attr_options_default(&def);
        o = &def;
    }
    s->attr_n = 0;
    lrpx_status rc = check_options(s, o);
    if (rc != LRPX_OK)
        return rc;
    struct lrpx_meth m = {.s = s, .o = o};
    int              v = -1;
    if ((rc = setup(&m, &v)) != LRPX_OK)
        goto done;
    switch (o->method) {
    case LRPX_ATTR_LRP:
        rc = lrp(&m);
        break;
    case LRPX_ATTR_GRADIENT:
    case LRPX_ATTR_GRADIENT_X_INPUT:
    case LRPX_ATTR_SALIENCY:
    case LRPX_ATTR_SENSITIVITY:
    case LRPX_ATTR_DECONVNET:
    case LRPX_ATTR_GUIDED_BACKPROP:
        rc = gradient_family(&m, v);
        break;
    case LRPX_ATTR_INTEGRATED_GRADIENTS:
        rc = lrpx__meth_integrated_gradients(&m);
        break;
    case LRPX_ATTR_SMOOTHGRAD:
    case LRPX_ATTR_SMOOTHGRAD_SQ:
    case LRPX_ATTR_VARGRAD:
        rc = lrpx__meth_noise(&m);
        break;
    case LRPX_ATTR_OCCLUSION:
        rc = lrpx__meth_occlusion(&m);
        break;
    case LRPX_ATTR_FEATURE_ABLATION:
        rc = lrpx__meth_feature_ablation(&m);
        break;
    case LRPX_ATTR_TAYLOR:
        rc = lrpx__meth_taylor(&m);
        break;
    case LRPX_ATTR_COUNT:
        break;
    }
    if (rc == LRPX_OK) {
        for (int64_t b = 0; b < m.n; b++) {
            double sum = 0.0;
            for (int64_t i = 0; i < m.per; i++)
                sum += m.out[b * m.per + i];
            m.rep[b].sum = sum;
            if (o->method == LRPX_ATTR_INTEGRATED_GRADIENTS)
                m.rep[b].gap = sum - (m.rep[b].score - m.rep[b].ref_score);
            else if (o->method == LRPX_ATTR_TAYLOR)
                m.rep[b].gap = sum - m.rep[b].score;
        }
        lrpx_tensor_view *av = &s->attr_view;
        memset(av, 0, sizeof *av);
        av->dtype   = LRPX_DTYPE_FLOAT32;
        av->rank    = m.rank;
        av->n_elems = m.n * m.per;
        av->data    = s->attr;
        memcpy(av->dims, m.dims, sizeof av->dims);
        s->attr_n = m.n;
    }
done:
    lrpx__free(m.x);
    lrpx__free(m.w);
    return rc;
}

lrpx_status
lrpx_session_attribution(const lrpx_session *s, lrpx_tensor_view *out)
{
    if (!s || !out || s->attr_n < 1)
        return LRPX_EINVAL;
    *out = s->attr_view;
    return LRPX_OK;
}

lrpx_status
lrpx_session_attribution_report(const lrpx_session *s, int64_t sample, lrpx_attr_report *out)
{
    if (!s || !out || sample < 0 || sample >= s->attr_n)
        return LRPX_EINVAL;
    *out = s->attr_rep[sample];
    return LRPX_OK;
}
