/* Which rule each node of a plan gets: first the node's kind (its op
 * descriptor's LRP class, core/op.h; a MatMul of two computed values is
 * bilinear; the transformer patterns of src/graph/patterns.c make their
 * last node the pattern's norm or activation and the others members),
 * then the composite's rule per kind and first layer, then the
 * "SELECTOR=RULE" overrides in order (later ones win), then the rule texts
 * lrpx_session_explained_node reports. The words and their parsing are
 * spec.c. Every node gets the stabiliser (the options', else the
 * composite's) and the options' max-pool mode. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"
#include "core/linear.h"

void
lrpx__lrp_plan_info_free(struct lrpx_lrp_plan_info *pi)
{
    lrpx__patterns_free(pi->pats, pi->n_pats);
    lrpx__free(pi->kind);
    lrpx__free(pi->pat_of);
    memset(pi, 0, sizeof *pi);
}

/* Patterns and kinds of the session's plan into pi. */
static lrpx_status
plan_kinds(lrpx_session *s, struct lrpx_lrp_plan_info *pi)
{
    const struct lrpx_graph *g = &s->model->g;
    const struct lrpx_plan  *p = &s->plan;
    memset(pi, 0, sizeof *pi);
    pi->kind   = lrpx__calloc((size_t)g->n_nodes + 1, 1);
    pi->pat_of = lrpx__malloc(((size_t)g->n_nodes + 1) * sizeof *pi->pat_of);
    if (!pi->kind || !pi->pat_of ||
        lrpx__graph_find_patterns(&p->x, p->run, p->n_run, &pi->pats, &pi->n_pats) != LRPX_OK) {
        lrpx__lrp_plan_info_free(pi);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory resolving LRP rules");
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const struct lrpx_node *n = &g->nodes[ni];
        pi->pat_of[ni]            = -1;
        enum lrpx_kind k          = LRPX_KIND_OTHER;
        switch (n->def ? n->def->lrp_class : LRPX_LRP_CLASS_OTHER) {
        case LRPX_LRP_CLASS_LINEAR:
            if (lrpx__lrp_is_linear(n) && p->x.params && p->x.params[ni])
                k = lrpx__linear_roles(&p->x, n)->w_known ? LRPX_KIND_LINEAR
                                                           : LRPX_KIND_BILINEAR;
            break;
        case LRPX_LRP_CLASS_MAXLIKE:    k = LRPX_KIND_MAXLIKE; break;
        case LRPX_LRP_CLASS_SOFTMAX:    k = LRPX_KIND_SOFTMAX; break;
        case LRPX_LRP_CLASS_NORM:       k = LRPX_KIND_NORM; break;
        case LRPX_LRP_CLASS_GATE:
        case LRPX_LRP_CLASS_ACTIVATION: k = LRPX_KIND_ACTIVATION; break;
        default: break;
        }
        pi->kind[ni] = (uint8_t)k;
    }
    for (int i = 0; i < pi->n_pats; i++) {
        const struct lrpx_pattern *pt = &pi->pats[i];
        for (int j = 0; j < pt->n_nodes; j++) {
            pi->pat_of[pt->nodes[j]] = i;
            pi->kind[pt->nodes[j]]   = LRPX_KIND_MEMBER;
        }
        pi->kind[pt->head] = pt->kind == LRPX_PATTERN_NORM ? LRPX_KIND_NORM
                                                           : LRPX_KIND_ACTIVATION;
    }
    return LRPX_OK;
}

static void
apply_spec(struct lrpx_rule_cfg *c, const struct lrpx_rule_spec *sp, float *box)
{
    if (sp->is_maxpool) {
        c->maxpool = sp->maxpool;
        return;
    }
    c->rule = sp->rule;
    switch (sp->rule) {
    case LRPX_RULE_EPSILON:   c->eps = sp->p1; break;
    case LRPX_RULE_GAMMA:     c->gamma = sp->p1; break;
    case LRPX_RULE_ALPHABETA: c->alpha = sp->p1; c->beta = sp->p2; break;
    case LRPX_RULE_ZBOX:
        c->low  = sp->p1;
        c->high = sp->p2;
        c->n_c  = sp->n_c;
        c->low_c = c->high_c = NULL;
        if (sp->n_c > 0 && box) {
            memcpy(box, sp->low_c, sizeof(float) * (size_t)sp->n_c);
            memcpy(box + LRPX_LRP_MAX_BOX_C, sp->high_c, sizeof(float) * (size_t)sp->n_c);
            c->low_c  = box;
            c->high_c = box + LRPX_LRP_MAX_BOX_C;
        }
        break;
    default: break;
    }
}

/* The rule composite comp gives a node of kind k (LRPX_RULE_NONE: none). */
static lrpx_rule
composite_rule(const struct lrpx_composite *comp, enum lrpx_kind k, const struct lrpx_node *n)
{
    switch (k) {
    case LRPX_KIND_LINEAR:     return comp->layer[n->def->linear->kind];
    case LRPX_KIND_BILINEAR:   return comp->bilinear;
    case LRPX_KIND_SOFTMAX:    return comp->softmax;
    case LRPX_KIND_NORM:       return comp->norm;
    case LRPX_KIND_ACTIVATION: return comp->activation;
    default:                   return LRPX_RULE_NONE;
    }
}

lrpx_status
lrpx__lrp_resolve(lrpx_session *s, const struct lrpx_lrp_options *o, float **box_out,
                  struct lrpx_lrp_plan_info *pi)
{
    const struct lrpx_graph *g = &s->model->g;
    const struct lrpx_plan  *p = &s->plan;
    *box_out                   = NULL;
    memset(pi, 0, sizeof *pi);

    char cname[sizeof o->composite + 1];
    memcpy(cname, o->composite, sizeof o->composite);
    cname[sizeof o->composite] = '\0';
    const struct lrpx_composite *comp = lrpx__lrp_composite_find(cname);
    if (!comp) {
        char list[256];
        lrpx__lrp_composite_list(list, sizeof list);
        return lrpx__error(&s->err, LRPX_EINVAL, "unknown composite '%s' (expected one of %s)",
                           cname, list);
    }
    if (o->n_overrides < 0 || o->n_overrides > LRPX_LRP_MAX_OVERRIDES)
        return lrpx__error(&s->err, LRPX_EINVAL, "n_overrides %d is out of range (0..%d)",
                           o->n_overrides, LRPX_LRP_MAX_OVERRIDES);
    if (o->n_box_c < 0 || o->n_box_c > (o->box_low_c ? 1 << 20 : LRPX_LRP_MAX_BOX_C))
        return lrpx__error(&s->err, LRPX_EINVAL, "n_box_c %d is out of range", o->n_box_c);
    if (!isnan(o->stabilizer) && !(o->stabilizer >= 0.0 && isfinite(o->stabilizer)))
        return lrpx__error(&s->err, LRPX_EINVAL, "stabilizer %g is not a number >= 0",
                           o->stabilizer);
    const double stab = isnan(o->stabilizer) ? comp->stab : o->stabilizer;

    lrpx_status rc = plan_kinds(s, pi);
    if (rc != LRPX_OK)
        return rc;
    struct lrpx_rule_spec *specs = lrpx__calloc((size_t)o->n_overrides + 1, sizeof *specs);
    float *box = lrpx__calloc((size_t)(o->n_overrides + 1) * 2 * LRPX_LRP_MAX_BOX_C,
                              sizeof(float));
    lrpx__free(s->rules);
    lrpx__free(s->rule_desc);
    s->rules     = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *s->rules);
    s->rule_desc = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *s->rule_desc);
    if (!specs || !box || !s->rules || !s->rule_desc) {
        lrpx__free(specs);
        lrpx__free(box);
        lrpx__lrp_plan_info_free(pi);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory resolving LRP rules");
    }
    for (int i = 0; i < o->n_overrides && rc == LRPX_OK; i++) {
        char err[512];
        char text[sizeof o->overrides[0] + 1];
        memcpy(text, o->overrides[i], sizeof o->overrides[0]);
        text[sizeof o->overrides[0]] = '\0';
        if (lrpx__lrp_spec_parse(text, &specs[i], err, sizeof err) != LRPX_OK)
            rc = lrpx__error(&s->err, LRPX_EINVAL, "%s", err);
    }

    /* per-channel bounds of the options (the caller's arrays, or the
     * struct's own when box_low_c is NULL) */
    const float *olo = o->n_box_c > 0 ? (o->box_low_c ? o->box_low_c : o->box_low_own) : NULL;
    const float *ohi = o->n_box_c > 0 ? (o->box_high_c ? o->box_high_c : o->box_high_own) : NULL;

    /* defaults and composite */
    int first_any = -1, first_conv = -1, n_linear = 0;
    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n = &g->nodes[p->run[i]];
        if (pi->kind[p->run[i]] != LRPX_KIND_LINEAR)
            continue;
        if (first_any < 0)
            first_any = p->run[i];
        if (first_conv < 0 && n->def->linear->kind == LRPX_LAYER_CONV)
            first_conv = p->run[i];
        n_linear++;
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        struct lrpx_rule_cfg *c = &s->rules[ni];
        const struct lrpx_node *n = &g->nodes[ni];
        enum lrpx_kind          k = (enum lrpx_kind)pi->kind[ni];
        c->rule      = composite_rule(comp, k, n);
        c->eps       = LRPX_LRP_DEFAULT_EPS;
        c->gamma     = LRPX_LRP_DEFAULT_GAMMA;
        c->alpha     = 1.0;
        c->beta      = 0.0;
        c->low       = o->box_low;
        c->high      = o->box_high;
        c->zero_bias = o->zero_bias != 0;
        c->maxpool   = o->maxpool;
        c->stab      = stab;
        if (k != LRPX_KIND_LINEAR)
            continue;
        if (c->rule == LRPX_RULE_ALPHABETA) {
            c->alpha = comp->alpha;
            c->beta  = comp->beta;
        }
        if ((comp->first == LRPX_FIRST_LINEAR && ni == first_any) ||
            (comp->first == LRPX_FIRST_CONV && ni == first_conv)) {
            c->rule = comp->first_rule;
            if (c->rule == LRPX_RULE_ZBOX) {
                c->n_c    = o->n_box_c;
                c->low_c  = olo;
                c->high_c = ohi;
                if (o->n_box_c == 0 && !(o->box_low <= o->box_high))
                    rc = lrpx__error(&s->err, LRPX_EINVAL,
                                     "composite %s needs the input bounds of its first layer "
                                     "(box_low <= box_high; lrpx explain --low L --high H)",
                                     comp->name);
            }
        }
    }

    /* overrides, in order: later ones win */
    for (int i = 0; i < o->n_overrides && rc == LRPX_OK; i++) {
        const struct lrpx_rule_spec *sp = &specs[i];
        int matched = 0, lin_idx = 0;
        for (int r = 0; r < p->n_run && rc == LRPX_OK; r++) {
            int                     ni   = p->run[r];
            const struct lrpx_node *n    = &g->nodes[ni];
            enum lrpx_kind          k    = (enum lrpx_kind)pi->kind[ni];
            bool                    lin  = k == LRPX_KIND_LINEAR;
            bool                    fits = (sp->kinds & LRPX_KIND_BIT(k)) != 0;
            bool                    hit  = false;
            int                     at   = ni;      /* where the rule goes */
            switch (sp->sel) {
            case LRPX_SEL_ALL:   hit = fits; break;
            case LRPX_SEL_OP:    hit = fits && !strcmp(n->op_type, sp->sel_text); break;
            case LRPX_SEL_FIRST: hit = ni == first_any; break;
            case LRPX_SEL_INDEX: hit = lin && lin_idx == sp->index; break;
            case LRPX_SEL_KIND:  hit = k == sp->kind; break;
            case LRPX_SEL_NAME:
                hit = !strcmp(n->name, sp->sel_text);
                if (hit && k == LRPX_KIND_MEMBER) {     /* the pattern's head */
                    at   = pi->pats[pi->pat_of[ni]].head;
                    k    = (enum lrpx_kind)pi->kind[at];
                    fits = (sp->kinds & LRPX_KIND_BIT(k)) != 0;
                }
                break;
            }
            if (lin)
                lin_idx++;
            if (!hit)
                continue;
            matched++;
            if (!fits) {
                char label[512], what[160];
                what[0] = '\0';
                for (int b = 0, m = 0; b < LRPX_KIND_COUNT; b++)
                    if ((sp->kinds >> b) & 1)
                        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s",
                                 m++ ? ", " : "", lrpx__lrp_kind_name((enum lrpx_kind)b));
                rc = lrpx__error(&s->err, LRPX_EINVAL,
                                 "rule override '%.128s': %s is one of the %s; the rule applies "
                                 "to %s only", o->overrides[i],
                                 lrpx__node_label(g, &g->nodes[at], label, sizeof label),
                                 lrpx__lrp_kind_name(k), what);
                break;
            }
            apply_spec(&s->rules[at], sp, box + (size_t)i * 2 * LRPX_LRP_MAX_BOX_C);
        }
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_NAME)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': %s has no node named '%s' (among the nodes "
                             "the input reaches)", o->overrides[i], g->path, sp->sel_text);
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_INDEX)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': the model has %d linear layers (index 0..%d)",
                             o->overrides[i], n_linear, n_linear - 1);
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_FIRST)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': the model has no linear layer",
                             o->overrides[i]);
    }

    /* zbox needs bounds wherever it ended up */
    for (int ni = 0; ni < g->n_nodes && rc == LRPX_OK; ni++) {
        const struct lrpx_rule_cfg *c = &s->rules[ni];
        const struct lrpx_node     *n = &g->nodes[ni];
        if (pi->kind[ni] == LRPX_KIND_LINEAR && c->rule == LRPX_RULE_ZBOX && c->n_c == 0 &&
            !(c->low <= c->high)) {
            char label[512];
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "%s: rule zbox needs bounds low <= high (options box_low/box_high "
                             "or zbox:LOW,HIGH)", lrpx__node_label(g, n, label, sizeof label));
        }
    }

    /* texts */
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const struct lrpx_node *n = &g->nodes[ni];
        enum lrpx_kind          k = (enum lrpx_kind)pi->kind[ni];
        if (k == LRPX_KIND_MEMBER) {
            const struct lrpx_node *h = &g->nodes[pi->pats[pi->pat_of[ni]].head];
            snprintf(s->rule_desc[ni], sizeof s->rule_desc[ni], "in %.40s",
                     h->name[0] ? h->name : h->op_type);
            continue;
        }
        lrpx__lrp_rule_text(&s->rules[ni], k,
                            n->def && n->def->lrp_class == LRPX_LRP_CLASS_PROPORTIONAL,
                            s->rule_desc[ni], sizeof s->rule_desc[ni]);
        if (pi->pat_of[ni] >= 0) {          /* a pattern's head: its size */
            const struct lrpx_pattern *pt = &pi->pats[pi->pat_of[ni]];
            size_t l = strlen(s->rule_desc[ni]);
            snprintf(s->rule_desc[ni] + l, sizeof s->rule_desc[ni] - l, " [%d]", pt->n_nodes);
        }
    }
    lrpx__free(specs);
    if (rc != LRPX_OK) {
        lrpx__free(box);
        lrpx__lrp_plan_info_free(pi);
        return rc;
    }
    *box_out = box;
    return LRPX_OK;
}
