/* lrpx_session_explain: the LRP front end. One call
 *
 *   1. runs the forward pass if the inputs changed and builds the seed at
 *      the explained output (lrpx__exec_seed: one-hot times the logit per
 *      sample, or a caller tensor; a trailing Softmax/LogSoftmax skipped);
 *   2. resolves a rule per node (resolve.c: composite, then overrides);
 *   3. runs the canonizers (canonize.c): a bias Add or BatchNormalization
 *      right after a linear layer is merged into it for this pass; gives
 *      the nodes of the transformer kinds their rules' relevance functions
 *      (transformer.c: bilinear products, Softmax, activations, the heads
 *      and members of patterns);
 *   4. allocates the rule kernels' work buffers (sized by the largest
 *      node that needs them; kept in the session between calls);
 *   5. runs the reverse-topological driver (lrpx__exec_backward, phase
 *      RELEVANCE), which records per-node sums of relevance in and out.
 *
 * The relevance maps stay in the session's back buffers until the next
 * set_input / run / explain / gradient; rule texts and sums stay for
 * lrpx_session_explained_node.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"

static void
append_desc(char *desc, size_t size, const char *what)
{
    size_t l = strlen(desc);
    if (l + strlen(what) + 1 < size)
        memcpy(desc + l, what, strlen(what) + 1);
}

/* Work buffer `slot` of the session with at least n floats: kept from the
 * last explanation when large enough, else replaced. NULL on OOM. */
static float *
keep_buf(lrpx_session *s, int slot, int64_t n)
{
    if (n < 1)
        n = 1;
    if (s->lrp_buf[slot] && s->lrp_buf_n[slot] >= n)
        return s->lrp_buf[slot];
    lrpx__free(s->lrp_buf[slot]);
    s->lrp_buf_n[slot] = 0;
    s->lrp_buf[slot]   = lrpx__malloc((size_t)n * sizeof(float));
    if (s->lrp_buf[slot])
        s->lrp_buf_n[slot] = n;
    return s->lrp_buf[slot];
}

/* The relevance function, pattern and extra value of node ni of a
 * transformer kind for this pass (its xf in *xf); returns max(max_xf, the
 * work floats it needs). */
static int64_t
xf_setup(lrpx_session *s, const struct lrpx_lrp_plan_info *pi, int ni, struct lrpx_lrp_xf *xf,
         int64_t max_xf)
{
    const struct lrpx_exec    *x   = &s->plan.x;
    const struct lrpx_node    *n   = &s->model->g.nodes[ni];
    struct lrpx_rule_cfg      *c   = &s->rules[ni];
    enum lrpx_kind             k   = (enum lrpx_kind)pi->kind[ni];
    const struct lrpx_pattern *pat = NULL;
    if (pi->pat_of[ni] >= 0 && k != LRPX_KIND_MEMBER) {
        pat         = &pi->pats[pi->pat_of[ni]];
        c->relevance = lrpx__lrp_xf_pattern_fn(c->rule);
        c->has_extra   = true;
        c->extra_value = pat->src;
    } else if (lrpx__lrp_xf_fn(k, c->rule)) {
        /* (an absorbed bias Add keeps the canonizer's function) */
        c->relevance = lrpx__lrp_xf_fn(k, c->rule);
    }
    xf->pat = pat;
    c->xf   = xf;
    int64_t need = lrpx__lrp_xf_need(x, n, c->rule, pat);
    return need > max_xf ? need : max_xf;
}

lrpx_status
lrpx_session_explain(lrpx_session *s, const struct lrpx_lrp_options *o)
{
    struct lrpx_lrp_options def;
    if (!s)
        return LRPX_EINVAL;
    if (!o) {
        lrpx_lrp_options_default(&def);
        o = &def;
    }
    const struct lrpx_graph *g    = &s->model->g;
    int                      v    = -1;
    float                   *seed = NULL;
    lrpx_status              rc   = lrpx__exec_seed(s, o, LRPX_PHASE_RELEVANCE, &v, &seed);
    if (rc != LRPX_OK)
        return rc;
    /* the seed may have re-run the forward pass; rules follow that plan */
    float                    *box = NULL;
    struct lrpx_lrp_plan_info pi;
    if ((rc = lrpx__lrp_resolve(s, o, &box, &pi)) != LRPX_OK) {
        lrpx__free(seed);
        return rc;
    }
    struct lrpx_plan       *p    = &s->plan;
    struct lrpx_exec       *x    = &p->x;
    struct lrpx_lrp_linear *lins = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *lins);
    struct lrpx_lrp_xf     *xfs  = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *xfs);
    struct lrpx_lrp_work    work = {0};
    if (!lins || !xfs) {
        rc = lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for the relevance pass");
        goto done;
    }

    /* canonizers, and the largest buffers any linear node needs */
    int64_t max_in = 0, max_out = 0, max_w = 0, max_xf = 0;
    for (int r = 0; r < p->n_run && rc == LRPX_OK; r++) {
        int                     ni = p->run[r];
        const struct lrpx_node *n  = &g->nodes[ni];
        if (pi.kind[ni] != LRPX_KIND_LINEAR) {
            max_xf = xf_setup(s, &pi, ni, &xfs[ni], max_xf);
            continue;
        }
        struct lrpx_lrp_linear *lin = &lins[ni];
        if ((rc = lrpx__lrp_canonize(s, ni, lin)) != LRPX_OK)
            break;
        s->rules[ni].lin = lin;
        const char *nm   = n->name[0] ? n->name : n->op_type;
        for (int k = 0; k < 2; k++) {
            int ai = k == 0 ? lin->add_node : lin->bn_node;
            if (ai < 0)
                continue;
            s->rules[ai].relevance = lrpx__lrp_forward_absorbed;
            snprintf(s->rule_desc[ai], sizeof s->rule_desc[ai], "fused into %.36s", nm);
            append_desc(s->rule_desc[ni], sizeof s->rule_desc[ni], k == 0 ? " +bias" : " +bn");
        }
        int64_t a, b, c;
        lrpx__lrp_linear_need(x, n, &s->rules[ni], &a, &b, &c);
        max_in  = a > max_in ? a : max_in;
        max_out = b > max_out ? b : max_out;
        max_w   = c > max_w ? c : max_w;
    }
    if (rc != LRPX_OK)
        goto done;
    work.n_in  = max_in;
    work.n_out = max_out;
    work.n_w   = max_w;
    for (int i = 0; i < 4; i++) {
        work.in[i]  = keep_buf(s, i, max_in);
        work.out[i] = keep_buf(s, 4 + i, max_out);
        if (!work.in[i] || !work.out[i])
            rc = LRPX_ENOMEM;
    }
    for (int i = 0; i < 2 && max_w; i++)
        if (!(work.w[i] = keep_buf(s, 8 + i, max_w)))
            rc = LRPX_ENOMEM;
    if (rc != LRPX_OK) {
        rc = lrpx__error(&s->err, LRPX_ENOMEM,
                         "out of memory for the LRP work buffers (%lld + %lld + %lld floats)",
                         (long long)max_in * 4, (long long)max_out * 4, (long long)max_w * 2);
        goto done;
    }
    for (int ni = 0; ni < g->n_nodes; ni++)
        lins[ni].work = &work;
    if (max_xf > 0) {
        float *xbuf = keep_buf(s, 10, max_xf);
        if (!xbuf) {
            rc = lrpx__error(&s->err, LRPX_ENOMEM,
                             "out of memory for the relevance work buffer (%lld floats)",
                             (long long)max_xf);
            goto done;
        }
        for (int ni = 0; ni < g->n_nodes; ni++) {
            xfs[ni].buf   = xbuf;
            xfs[ni].n_buf = max_xf;
        }
    }

    x->rules = s->rules;
    rc       = lrpx__exec_backward(s, LRPX_PHASE_RELEVANCE, v, seed);

done:
    /* nothing of the pass may dangle in the rule table kept for reports */
    if (s->rules)
        for (int ni = 0; ni < g->n_nodes; ni++) {
            s->rules[ni].lin       = NULL;
            s->rules[ni].xf        = NULL;
            s->rules[ni].relevance = NULL;
            s->rules[ni].has_extra = false;
            s->rules[ni].low_c     = NULL;
            s->rules[ni].high_c    = NULL;
        }
    if (lins)
        for (int ni = 0; ni < g->n_nodes; ni++)
            lrpx__lrp_linear_release(&lins[ni]);
    lrpx__free(lins);
    lrpx__free(xfs);
    lrpx__lrp_plan_info_free(&pi);
    lrpx__free(box);
    lrpx__free(seed);
    if (rc != LRPX_OK)
        s->n_explained = 0;
    return rc;
}

int
lrpx_session_n_explained(const lrpx_session *s)
{
    if (!s || !s->have_back || s->back_phase != LRPX_PHASE_RELEVANCE || !s->explained)
        return 0;
    return s->n_explained;
}

lrpx_status
lrpx_session_explained_node(const lrpx_session *s, int i, lrpx_node_relevance *out)
{
    if (!s)
        return LRPX_EINVAL;
    int n_explained = lrpx_session_n_explained(s);
    if (!out)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "lrpx_session_explained_node: NULL out");
    if (n_explained == 0)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no relevance pass yet: call "
                                          "lrpx_session_explain first");
    if (i < 0 || i >= n_explained)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "explained node %d is out of range "
                                          "(0..%d)", i, n_explained - 1);
    int                     ni = s->explained[i];
    const struct lrpx_node *n  = &s->model->g.nodes[ni];
    memset(out, 0, sizeof *out);
    out->name    = n->name;
    out->op_type = n->op_type;
    out->rule    = s->rule_desc ? s->rule_desc[ni] : "";
    out->r_in    = s->r_in[ni];
    out->r_out   = s->r_out[ni];
    return LRPX_OK;
}

lrpx_status
lrpx_session_explained_output(const lrpx_session *s, int64_t sample, int64_t *cls,
                              double *value)
{
    if (!s)
        return LRPX_EINVAL;
    if (!s->have_back || !s->seed_class || !s->seed_logit)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "no explained output yet: call "
                                          "lrpx_session_explain or lrpx_session_gradient first");
    if (sample < 0 || sample >= s->n_samples)
        return lrpx__session_getter_error(s, LRPX_EINVAL, "sample %lld is out of range "
                                          "(0..%lld)", (long long)sample,
                                          (long long)s->n_samples - 1);
    if (cls)
        *cls = s->seed_class[sample];
    if (value)
        *value = s->seed_logit[sample];
    return LRPX_OK;
}
