/* lrpx_session_attribute: one entry point that computes an attribution map
 * by method name, so that lrpx eval, lrpx compare and the tricks pass a
 * name through and a new method is one row of the table below.
 *
 *   lrp          lrpx_session_explain with the caller's options
 *   COMPOSITE    LRP with that composite (the caller's overrides kept)
 *   gradient     lrpx_session_gradient: d logit / d input
 *   gradxinput   the gradient times the input that was fed
 *
 * Rows are in the order of enum lrpx_attr_method, whose values index it.
 */
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"

struct attr_method {
    const char      *name;
    const char      *alias;
    lrpx_attr_method kind;
};

static const struct attr_method methods[] = {
    {"lrp",        NULL,               LRPX_ATTR_LRP},
    {"gradient",   NULL,               LRPX_ATTR_GRADIENT},
    {"gradxinput", "gradient_x_input", LRPX_ATTR_GRADIENT_X_INPUT},
};
_Static_assert(sizeof methods / sizeof methods[0] == LRPX_ATTR_COUNT,
               "one row per lrpx_attr_method");

const char *
lrpx_attr_method_name(int i)
{
    return i >= 0 && i < LRPX_ATTR_COUNT ? methods[i].name : NULL;
}

/* The method a name stands for; a composite name means LRP with it
 * (*composite set). False when the name is neither. */
static bool
method_find(const char *name, lrpx_attr_method *kind, const char **composite)
{
    *composite = NULL;
    for (int i = 0; i < LRPX_ATTR_COUNT; i++)
        if (!strcmp(name, methods[i].name) || (methods[i].alias && !strcmp(name, methods[i].alias))) {
            *kind = methods[i].kind;
            return true;
        }
    if (lrpx__lrp_composite_find(name)) {
        *kind      = LRPX_ATTR_LRP;
        *composite = name;
        return true;
    }
    return false;
}

/* The fed value the map is taken at: input_name, else the first input. */
static const char *
input_value_name(const lrpx_session *s, const char *input_name)
{
    const struct lrpx_graph *g = &s->model->g;
    if (input_name)
        return input_name;
    return g->n_inputs > 0 ? g->values[g->inputs[0]].name : NULL;
}

lrpx_status
lrpx_session_attribute(lrpx_session *s, const char *method, const struct lrpx_lrp_options *opts,
                       const int64_t *targets, int64_t n_targets, const char *input_name,
                       float *out, int64_t n)
{
    if (!s)
        return LRPX_EINVAL;
    if (!out || n < 0)
        return lrpx__error(&s->err, LRPX_EINVAL, "attribute: NULL output");
    struct lrpx_lrp_options o;
    if (opts)
        o = *opts;
    else
        lrpx_lrp_options_default(&o);
    lrpx_attr_method kind;
    const char      *composite;
    if (!method)
        method = "lrp";
    if (!method_find(method, &kind, &composite)) {
        char names[512];
        lrpx__lrp_composite_list(names, sizeof names);
        return lrpx__error(&s->err, LRPX_EINVAL,
                           "unknown method '%.100s': lrp, gradient, gradxinput or a composite (%s)",
                           method, names);
    }
    if (composite)
        snprintf(o.composite, sizeof o.composite, "%s", composite);
    if (targets) {
        o.seed      = LRPX_SEED_TARGETS;
        o.targets   = targets;
        o.n_targets = n_targets;
    }
    lrpx_status      rc = kind == LRPX_ATTR_LRP ? lrpx_session_explain(s, &o)
                                                : lrpx_session_gradient(s, &o);
    lrpx_tensor_view v;
    if (rc != LRPX_OK)
        return rc;
    const char *in = input_value_name(s, input_name);
    rc = kind == LRPX_ATTR_LRP ? lrpx_session_relevance(s, in, &v) : lrpx_session_gradient_of(s, in, &v);
    if (rc != LRPX_OK)
        return lrpx__error(&s->err, LRPX_EINVAL, "no %s reached input '%s'",
                           kind == LRPX_ATTR_LRP ? "relevance" : "gradient", in ? in : "?");
    if (v.n_elems != n || v.dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(&s->err, LRPX_ESHAPE, "the map has %lld values, the caller expects %lld",
                           (long long)v.n_elems, (long long)n);
    const float *m = v.data;
    if (kind == LRPX_ATTR_GRADIENT_X_INPUT) {
        lrpx_tensor_view xv;
        if (lrpx_session_value(s, in, &xv) != LRPX_OK || xv.dtype != LRPX_DTYPE_FLOAT32 ||
            xv.n_elems != n)
            return lrpx__error(&s->err, LRPX_EINVAL, "gradxinput: input '%s' is not float32", in);
        const float *xs = xv.data;
        for (int64_t i = 0; i < n; i++)
            out[i] = m[i] * xs[i];
    } else {
        memcpy(out, m, (size_t)n * sizeof *out);
    }
    return LRPX_OK;
}
