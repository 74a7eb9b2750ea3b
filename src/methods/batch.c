/* The batch driver of the attribution methods: rows (perturbed or
 * interpolated copies of the input) are made by the method, fed through
 * the session's aux session in chunks of the internal batch size, and
 * handed back with their scores and gradients.
 *
 * The aux session is a second session of the same model, kept by the
 * caller's session (s->aux) so that its plan, made for the chunk's batch
 * size, survives from one call to the next; the caller's own input, plan
 * and buffers stay as they were. It gets the caller's replaced constants
 * (lrpx__session_set_const: model-randomisation's weights). Every chunk has the same number of rows
 * (the last is padded with copies of its last row, whose results are
 * dropped): a different batch size would make the aux session plan again.
 * Rows do not interact (inference graphs), so the chunking changes
 * nothing but the time.
 */
#include <string.h>

#include "methods/methods_impl.h"

/* The aux session, made on first use, with the caller's thread count. */
static lrpx_status
aux_session(struct lrpx_meth *m, lrpx_session **out)
{
    lrpx_session *s = m->s;
    int           n_in = lrpx__session_n_inputs(s);
    if (n_in != 1)
        return lrpx__error(&s->err, LRPX_EUNSUPPORTED,
                           "%s: %s feeds batches of perturbed inputs, which needs a model with "
                           "one fed input (this one has %d)", s->model->g.path,
                           lrpx_attr_method_name(m->o->method), n_in);
    if (!s->aux) {
        lrpx_status rc = lrpx_session_init(s->model, &s->aux);
        if (rc != LRPX_OK) {
            rc = lrpx__error(&s->err, rc, "the second session for batches: %s",
                             s->aux ? lrpx_session_errmsg(s->aux) : "out of memory");
            lrpx_session_free(s->aux);
            s->aux = NULL;
            return rc;
        }
    }
    if (s->aux_const_gen != s->const_gen) {       /* the caller's replaced weights */
        lrpx_status rc = lrpx__session_sync_consts(s->aux, s);
        if (rc != LRPX_OK)
            return lrpx__error(&s->err, rc, "the second session for batches: %s",
                               lrpx_session_errmsg(s->aux));
        s->aux_const_gen = s->const_gen;
    }
    if (lrpx_session_threads(s->aux) != s->n_threads)
        lrpx_session_set_threads(s->aux, s->n_threads);
    s->aux->grad_mode = LRPX_GRAD_PLAIN;
    *out = s->aux;
    return LRPX_OK;
}

/* An aux failure, reported on the caller's session. */
static lrpx_status
aux_error(struct lrpx_meth *m, lrpx_status rc, int64_t rows)
{
    const char *hint = rc == LRPX_ELIMIT || rc == LRPX_ENOMEM
                           ? " (fewer rows per pass: internal_batch, --internal-batch)" : "";
    return lrpx__error(&m->s->err, rc, "%s, batch of %lld rows: %s%s",
                       lrpx_attr_method_name(m->o->method), (long long)rows,
                       lrpx_session_errmsg(m->s->aux), hint);
}

/* One chunk of c rows in xr (sample of each in smp) through the aux
 * session: scores and, when grad, the input gradient. */
static lrpx_status
chunk_eval(struct lrpx_meth *m, lrpx_session *a, const struct lrpx_rows *job, int64_t c,
           const float *xr, const int64_t *smp, float *seed, const float **grad,
           const float **outp)
{
    int64_t dims[LRPX_MAX_RANK];
    memcpy(dims, m->dims, sizeof dims);
    dims[0]        = c;
    lrpx_status rc = lrpx_session_set_input(a, m->in_name, LRPX_DTYPE_FLOAT32, m->rank, dims, xr);
    if (rc == LRPX_OK)
        rc = lrpx__session_ensure_run(a);
    if (rc != LRPX_OK)
        return aux_error(m, rc, c);
    int v = lrpx__exec_seed_value(a, &m->o->lrp);
    if (v < 0)
        return aux_error(m, LRPX_EINVAL, c);
    if (a->plan.x.vals[v].n_elems != c * m->n_out)
        return lrpx__error(&m->s->err, LRPX_ESHAPE, "%s: the output has %lld values for a "
                           "batch of %lld rows, expected %lld per row", m->s->model->g.path,
                           (long long)a->plan.x.vals[v].n_elems, (long long)c,
                           (long long)m->n_out);
    *outp = a->plan.x.vals[v].f32;
    *grad = NULL;
    if (!job->grad)
        return LRPX_OK;
    for (int64_t r = 0; r < c; r++)
        memcpy(seed + r * m->n_out, m->w + smp[r] * m->n_out, (size_t)m->n_out * sizeof(float));
    if ((rc = lrpx__exec_backward(a, LRPX_PHASE_BACKWARD, v, seed)) != LRPX_OK)
        return aux_error(m, rc, c);
    if (!(*grad = a->plan.x.back[m->in_value]))
        return lrpx__error(&m->s->err, LRPX_EINVAL, "no gradient reached input '%s'",
                           m->in_name);
    return LRPX_OK;
}

lrpx_status
lrpx__meth_rows(struct lrpx_meth *m, const struct lrpx_rows *job)
{
    lrpx_session *a = NULL;
    lrpx_status   rc = aux_session(m, &a);
    if (rc != LRPX_OK || job->n_rows < 1)
        return rc;
    const struct lrpx_value *val = &m->s->model->g.values[m->in_value];
    int64_t fixed = val->kind != LRPX_VALUE_CONST && val->decl_rank > 0 && val->decl_dims[0] > 0
                        ? val->decl_dims[0] : 0;
    int64_t ib    = m->o->internal_batch > 0 ? m->o->internal_batch : 64;
    int64_t c     = fixed ? fixed : job->n_rows < ib ? job->n_rows : ib;
    float   *xr   = lrpx__malloc((size_t)(c * m->per) * sizeof(float));
    float   *seed = lrpx__malloc((size_t)(c * m->n_out) * sizeof(float));
    int64_t *smp  = lrpx__malloc((size_t)c * sizeof(int64_t));
    if (!xr || !seed || !smp) {
        rc = lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for a batch of %lld rows",
                         (long long)c);
        goto done;
    }
    for (int64_t r0 = 0; r0 < job->n_rows && rc == LRPX_OK; r0 += c) {
        int64_t cnt = job->n_rows - r0 < c ? job->n_rows - r0 : c;
        for (int64_t r = 0; r < cnt; r++)
            job->fill(job->ctx, r0 + r, xr + r * m->per, &smp[r]);
        for (int64_t r = cnt; r < c; r++) {     /* padding: repeat the last row */
            memcpy(xr + r * m->per, xr + (cnt - 1) * m->per, (size_t)m->per * sizeof(float));
            smp[r] = smp[cnt - 1];
        }
        const float *grad = NULL, *outp = NULL;
        if ((rc = chunk_eval(m, a, job, c, xr, smp, seed, &grad, &outp)) != LRPX_OK)
            break;
        for (int64_t r = 0; r < cnt; r++)
            job->take(job->ctx, r0 + r, xr + r * m->per, grad ? grad + r * m->per : NULL,
                      lrpx__meth_score(m, smp[r], outp + r * m->n_out));
    }
done:
    lrpx__free(xr);
    lrpx__free(seed);
    lrpx__free(smp);
    return rc;
}
