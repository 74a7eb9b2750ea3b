/* Attribution methods by name (LRPX_ATTR_METHOD_MAP in lrpx.h) and the one
 * entry point that computes any method's map for the inputs a session
 * holds: the CLI's tricks, the Python package and C callers all go
 * through lrpx_session_attribute, so a new method is one list line in
 * lrpx.h and one case here. */
#include <stdio.h>
#include <string.h>

#include "lrp/lrp_impl.h"

static const char *const method_names[LRPX_ATTR_COUNT] = {
#define X(tag, text) [LRPX_ATTR_##tag] = text,
    LRPX_ATTR_METHOD_MAP(X)
#undef X
};

const char *
lrpx_attr_method_name(lrpx_attr_method method)
{
    return (unsigned)method < LRPX_ATTR_COUNT ? method_names[method] : NULL;
}

lrpx_status
lrpx_attr_method_parse(const char *name, lrpx_attr_method *out, char *errbuf, size_t errlen)
{
    for (int i = 0; name && out && i < LRPX_ATTR_COUNT; i++)
        if (!strcmp(name, method_names[i])) {
            *out = (lrpx_attr_method)i;
            return LRPX_OK;
        }
    if (errbuf && errlen) {
        size_t k = (size_t)snprintf(errbuf, errlen, "unknown method '%.64s' (known:",
                                    name ? name : "(null)");
        for (int i = 0; i < LRPX_ATTR_COUNT && k < errlen; i++)
            k += (size_t)snprintf(errbuf + k, errlen - k, " %s", method_names[i]);
        if (k < errlen)
            snprintf(errbuf + k, errlen - k, ")");
    }
    return LRPX_EINVAL;
}

lrpx_status
lrpx_session_attribute(lrpx_session *s, lrpx_attr_method method,
                       const struct lrpx_lrp_options *lo, const char *input_name, float *out,
                       int64_t n_out)
{
    if (!s)
        return LRPX_EINVAL;
    if ((unsigned)method >= LRPX_ATTR_COUNT || !out)
        return lrpx__error(&s->err, LRPX_EINVAL, "bad method (%d) or no output buffer",
                           (int)method);
    lrpx_status      rc;
    lrpx_tensor_view v, x;
    bool             lrp = method == LRPX_ATTR_LRP;
    rc = lrp ? lrpx_session_explain(s, lo) : lrpx_session_gradient(s, lo);
    if (rc != LRPX_OK)
        return rc;
    rc = lrp ? lrpx_session_relevance(s, input_name, &v)
             : lrpx_session_gradient_of(s, input_name, &v);
    if (rc != LRPX_OK)
        return lrpx__error(&s->err, LRPX_EINVAL, "no %s reached the input",
                           lrp ? "relevance" : "gradient");
    if (v.n_elems != n_out || v.dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(&s->err, LRPX_ESHAPE, "the map has %lld values, the buffer %lld",
                           (long long)v.n_elems, (long long)n_out);
    const float *m = v.data;
    if (method != LRPX_ATTR_GRADIENT_X_INPUT) {
        memcpy(out, m, (size_t)n_out * sizeof *out);
        return LRPX_OK;
    }
    const char *name = input_name;
    if (!name) {
        lrpx_value_info vi;
        if ((rc = lrpx_model_input_info(s->model, 0, &vi)) != LRPX_OK)
            return lrpx__error(&s->err, rc, "the model has no input");
        name = vi.name;
    }
    if (lrpx_session_value(s, name, &x) != LRPX_OK || x.dtype != LRPX_DTYPE_FLOAT32 ||
        x.n_elems != n_out)
        return lrpx__error(&s->err, LRPX_EINVAL, "gradxinput: input '%.200s' is not a float32 "
                           "tensor of %lld values", name, (long long)n_out);
    const float *xs = x.data;
    for (int64_t i = 0; i < n_out; i++)
        out[i] = m[i] * xs[i];
    return LRPX_OK;
}
