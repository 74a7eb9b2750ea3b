/* Which rule each node of a plan gets: the composite's rule per layer kind
 * and first layer, then the "SELECTOR=RULE" overrides in order (later ones
 * win), then the rule texts lrpx_session_explained_node reports. The words
 * and their parsing are spec.c; which nodes a rule reaches is the op
 * descriptor's LRP class (core/op.h). Every non-linear node gets the
 * stabiliser 1e-6 for its proportional split and the options' max-pool
 * mode. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"

static void
apply_spec(struct lrpx_rule_cfg *c, const struct lrpx_rule_spec *sp, float *box)
{
    if (sp->target == LRPX_LRP_CLASS_MAXLIKE) {
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

lrpx_status
lrpx__lrp_resolve(lrpx_session *s, const struct lrpx_lrp_options *o, float **box_out)
{
    const struct lrpx_graph *g = &s->model->g;
    const struct lrpx_plan  *p = &s->plan;
    *box_out                   = NULL;

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
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory resolving LRP rules");
    }
    lrpx_status rc = LRPX_OK;
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
        if (!lrpx__lrp_is_linear(n))
            continue;
        if (first_any < 0)
            first_any = p->run[i];
        if (first_conv < 0 && n->def->linear->kind == LRPX_LAYER_CONV)
            first_conv = p->run[i];
        n_linear++;
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        struct lrpx_rule_cfg *c = &s->rules[ni];
        c->rule      = LRPX_RULE_EPSILON;
        c->eps       = LRPX_LRP_DEFAULT_EPS;
        c->gamma     = LRPX_LRP_DEFAULT_GAMMA;
        c->alpha     = 1.0;
        c->beta      = 0.0;
        c->low       = o->box_low;
        c->high      = o->box_high;
        c->zero_bias = o->zero_bias != 0;
        c->maxpool   = o->maxpool;
        c->stab      = LRPX_LRP_DEFAULT_STAB;
        const struct lrpx_node *n = &g->nodes[ni];
        if (!lrpx__lrp_is_linear(n))
            continue;
        c->rule = comp->layer[n->def->linear->kind];
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
            int                     ni  = p->run[r];
            const struct lrpx_node *n   = &g->nodes[ni];
            bool                    lin = lrpx__lrp_is_linear(n);
            bool                    fits = lrpx__node_is(n, sp->target) &&
                                           (sp->target != LRPX_LRP_CLASS_LINEAR || lin);
            bool                    hit = false;
            switch (sp->sel) {
            case LRPX_SEL_ALL:   hit = fits; break;
            case LRPX_SEL_OP:    hit = !strcmp(n->op_type, sp->sel_text); break;
            case LRPX_SEL_FIRST: hit = ni == first_any; break;
            case LRPX_SEL_INDEX: hit = lin && lin_idx == sp->index; break;
            case LRPX_SEL_NAME:  hit = !strcmp(n->name, sp->sel_text); break;
            }
            if (lin)
                lin_idx++;
            if (!hit)
                continue;
            matched++;
            if (!fits) {
                char label[512], ops[256];
                rc = lrpx__error(&s->err, LRPX_EINVAL,
                                 "rule override '%.128s': %s is a %s; the rule applies to %s "
                                 "(%s) only", o->overrides[i],
                                 lrpx__node_label(g, n, label, sizeof label), n->op_type,
                                 sp->target == LRPX_LRP_CLASS_LINEAR ? "linear layers"
                                                                      : "max pools",
                                 lrpx__op_names(sp->target, -1, ops, sizeof ops));
                break;
            }
            apply_spec(&s->rules[ni], sp, box + (size_t)i * 2 * LRPX_LRP_MAX_BOX_C);
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
        if (lrpx__lrp_is_linear(n) && c->rule == LRPX_RULE_ZBOX && c->n_c == 0 &&
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
        lrpx__lrp_rule_text(&s->rules[ni], n->def ? n->def->lrp_class : LRPX_LRP_CLASS_OTHER,
                            s->rule_desc[ni], sizeof s->rule_desc[ni]);
    }
    lrpx__free(specs);
    if (rc != LRPX_OK) {
        lrpx__free(box);
        return rc;
    }
    *box_out = box;
    return LRPX_OK;
}
