/* Reduce* kernels: axes parsing, forward, gradient and relevance for every
 * reduction kind (conventions in reduce_impl.h). */
#include <math.h>
#include <string.h>

#include "core/rules.h"
#include "ops/kernels/reduce_impl.h"

static const char *const reduce_names[] = {
    [LRPX_REDUCE_SUM] = "ReduceSum",           [LRPX_REDUCE_MEAN] = "ReduceMean",
    [LRPX_REDUCE_MAX] = "ReduceMax",           [LRPX_REDUCE_MIN] = "ReduceMin",
    [LRPX_REDUCE_PROD] = "ReduceProd",         [LRPX_REDUCE_L1] = "ReduceL1",
    [LRPX_REDUCE_L2] = "ReduceL2",             [LRPX_REDUCE_SUM_SQUARE] = "ReduceSumSquare",
    [LRPX_REDUCE_LOG_SUM] = "ReduceLogSum",    [LRPX_REDUCE_LOG_SUM_EXP] = "ReduceLogSumExp",
};

/* Visit every input element i with the index o of the output it reduces
 * into (row-major odometer over the merged dims). The body (the macro's
 * last arguments) must not use `continue`. */
#define REDUCE_FOR_EACH(p, i, o, ...)                                         \
    do {                                                                      \
        int64_t idx_[LRPX_MAX_RANK] = {0};                                    \
        int64_t o = 0;                                                        \
        for (int64_t i = 0; i < (p)->n_in; i++) {                             \
            __VA_ARGS__                                                       \
            for (int d_ = (p)->rank - 1; d_ >= 0; d_--) {                     \
                o += (p)->ostr[d_];                                           \
                if (++idx_[d_] < (p)->dims[d_])                               \
                    break;                                                    \
                o -= (p)->ostr[d_] * (p)->dims[d_];                           \
                idx_[d_] = 0;                                                 \
            }                                                                 \
        }                                                                     \
    } while (0)

/* ---- prepare ---- */

static bool
reduce_dtype_ok(enum lrpx_reduce_kind kind, lrpx_dtype t)
{
    if (t == LRPX_DTYPE_FLOAT32 || t == LRPX_DTYPE_FLOAT64)
        return true;
    bool intk = kind == LRPX_REDUCE_SUM || kind == LRPX_REDUCE_MEAN ||
                kind == LRPX_REDUCE_MAX || kind == LRPX_REDUCE_MIN ||
                kind == LRPX_REDUCE_PROD || kind == LRPX_REDUCE_L1 ||
                kind == LRPX_REDUCE_SUM_SQUARE;
    if (t == LRPX_DTYPE_INT32 || t == LRPX_DTYPE_INT64)
        return intk;
    if (t == LRPX_DTYPE_INT8 || t == LRPX_DTYPE_UINT8)
        return kind == LRPX_REDUCE_MAX || kind == LRPX_REDUCE_MIN;
    return false;
}

static lrpx_status
reduce_mark(struct lrpx_exec *x, const struct lrpx_node *n, int64_t axis, int rank,
            bool *reduced)
{
    if (axis < -rank || axis >= rank)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "axis %lld is out of range for an input of rank %d",
                                (long long)axis, rank);
    reduced[axis < 0 ? axis + rank : axis] = true;
    return LRPX_OK;
}

/* Product of the dims that are (or are not) reduced: 0 when one of them
 * is 0, else the product, with *ok false when it overflows. */
static int64_t
reduce_product(const struct lrpx_tensor *in, const bool *reduced, bool want, bool *ok)
{
    for (int d = 0; d < in->rank; d++)
        if (reduced[d] == want && in->dims[d] == 0)
            return 0;
    int64_t prod = 1;
    for (int d = 0; d < in->rank; d++)
        if (reduced[d] == want && !lrpx__mul_i64(prod, in->dims[d], &prod)) {
            *ok = false;
            return 1;
        }
    return prod;
}

lrpx_status
lrpx__reduce_prepare(struct lrpx_exec *x, const struct lrpx_node *n, enum lrpx_reduce_kind kind)
{
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const struct lrpx_tensor *ax = lrpx__in(x, n, 1);
    bool                      reduced[LRPX_MAX_RANK] = {false};
    int64_t                   n_axes = 0;
    lrpx_status               rc;

    if (!reduce_dtype_ok(kind, in->dtype))
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED, "%s of dtype %s is not supported",
                                reduce_names[kind], lrpx_dtype_name(in->dtype));

    bool axes_input = kind == LRPX_REDUCE_SUM ? x->opset >= 13 : x->opset >= 18;
    if (ax && !axes_input)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "has an axes input, but at opset %lld %s takes axes as an "
                                "attribute", (long long)x->opset, reduce_names[kind]);
    if (ax && ax->n_elems > 0) {
        if (ax->dtype != LRPX_DTYPE_INT64 && ax->dtype != LRPX_DTYPE_INT32)
            return lrpx__node_error(x, n, LRPX_EPARSE, "input axes has dtype %s, expected int64",
                                    lrpx_dtype_name(ax->dtype));
        if (!lrpx__in_known(x, n, 1))
            return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                    "input axes must be constant (known before the run); it "
                                    "decides the output shape");
        for (int64_t i = 0; i < ax->n_elems; i++)
            if ((rc = reduce_mark(x, n, lrpx__tensor_get_i64(ax, i), in->rank, reduced)) != LRPX_OK)
                return rc;
        n_axes = ax->n_elems;
    } else if (!ax) {
        /* the attribute (also tolerated in the input form when no input
         * is given) */
        const int64_t          *v;
        int                     na = lrpx__attr_ints(n, "axes", &v);
        const struct lrpx_attr *aa = lrpx__attr_find(n, "axes");
        if (aa && aa->type != LRPX_ATTR_INTS)
            return lrpx__node_error(x, n, LRPX_EPARSE, "attribute axes must be a list of ints");
        for (int i = 0; i < na; i++)
            if ((rc = reduce_mark(x, n, v[i], in->rank, reduced)) != LRPX_OK)
                return rc;
        n_axes = na;
    }

    int64_t keepdims = lrpx__attr_int(n, "keepdims", 1);
    if (keepdims != 0 && keepdims != 1)
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute keepdims = %lld, expected 0 or 1",
                                (long long)keepdims);
    int64_t noop = axes_input ? lrpx__attr_int(n, "noop_with_empty_axes", 0) : 0;
    if (noop != 0 && noop != 1)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute noop_with_empty_axes = %lld, expected 0 or 1",
                                (long long)noop);

    struct lrpx_reduce_params *p = lrpx__params_alloc(x, n, sizeof *p);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->kind = kind;
    if (n_axes == 0) {
        if (noop) {
            p->noop = true;
            p->n_in = p->n_out = in->n_elems;
            p->count = 1;
            return lrpx__set_output_like(x, n, 0, in);
        }
        for (int d = 0; d < in->rank; d++)
            reduced[d] = true;
    }

    /* output shape */
    int64_t odims[LRPX_MAX_RANK];
    int     orank = 0;
    for (int d = 0; d < in->rank; d++)
        if (!reduced[d])
            odims[orank++] = in->dims[d];
        else if (keepdims)
            odims[orank++] = 1;

    /* merged iteration dims: drop size-1 dims, merge neighbours of the
     * same kind */
    bool kind_of[LRPX_MAX_RANK];
    p->rank  = 0;
    p->n_in  = in->n_elems;
    p->n_out = 1;
    p->count = 1;
    if (in->n_elems == 0) {
        /* nothing to visit; the other dims of an empty input may multiply
         * past int64, so the counts are taken with zeros first */
        bool ok = true;
        p->count = reduce_product(in, reduced, true, &ok);
        p->n_out = reduce_product(in, reduced, false, &ok);
        if (!ok && p->n_out != 0)
            return lrpx__node_error(x, n, LRPX_ELIMIT, "output too large");
        if (!ok)
            p->count = 0;
    }
    for (int d = 0; d < in->rank && in->n_elems > 0; d++) {
        int64_t s = in->dims[d];
        if (reduced[d])
            p->count *= s;
        else
            p->n_out *= s;
        if (s == 1)
            continue;
        if (p->rank > 0 && kind_of[p->rank - 1] == reduced[d]) {
            p->dims[p->rank - 1] *= s;
        } else {
            kind_of[p->rank] = reduced[d];
            p->dims[p->rank++] = s;
        }
    }
    int64_t st = 1;
    for (int d = p->rank - 1; d >= 0; d--) {
        p->ostr[d] = kind_of[d] ? 0 : st;
        if (!kind_of[d])
            st *= p->dims[d];
    }

    size_t bytes;
    /* per output: three doubles (forward, gradient) and the window
     * statistics of the max-pool modes (struct lrpx_maxlike) */
    if (!lrpx__mul_size((size_t)p->n_out, 3 * sizeof(double) + sizeof(struct lrpx_maxlike),
                        &bytes))
        return lrpx__node_error(x, n, LRPX_ELIMIT, "output too large");
    lrpx__scratch_request(x, bytes);
    return lrpx__set_output(x, n, 0, in->dtype, orank, odims);
}

/* ---- forward ---- */

static inline double
reduce_val(const struct lrpx_tensor *t, int64_t i)
{
    return t->dtype == LRPX_DTYPE_FLOAT32 ? (double)t->f32[i] : lrpx__tensor_get_f64(t, i);
}

static void
reduce_store(struct lrpx_tensor *y, int64_t o, double fv, int64_t iv, bool is_float)
{
    switch (y->dtype) {
    case LRPX_DTYPE_FLOAT32: y->f32[o] = (float)fv; break;
    case LRPX_DTYPE_FLOAT64: y->f64[o] = fv; break;
    case LRPX_DTYPE_INT64:   y->i64[o] = is_float ? (int64_t)fv : iv; break;
    case LRPX_DTYPE_INT32:   y->i32[o] = (int32_t)iv; break;
    case LRPX_DTYPE_INT8:    y->i8[o] = (int8_t)iv; break;
    case LRPX_DTYPE_UINT8:   y->u8[o] = (uint8_t)iv; break;
    default: break;
    }
}

static void
reduce_forward_float(const struct lrpx_reduce_params *p, const struct lrpx_tensor *in,
                     struct lrpx_tensor *y, double *acc, double *aux)
{
    enum lrpx_reduce_kind k = p->kind;
    double init = k == LRPX_REDUCE_MAX || k == LRPX_REDUCE_LOG_SUM_EXP ? -INFINITY
                : k == LRPX_REDUCE_MIN                               ? INFINITY
                : k == LRPX_REDUCE_PROD                              ? 1.0
                                                                     : 0.0;
    for (int64_t o = 0; o < p->n_out; o++) {
        acc[o] = init;
        aux[o] = 0.0;
    }
    REDUCE_FOR_EACH(p, i, o, {
        double v = reduce_val(in, i);
        switch (k) {
        case LRPX_REDUCE_SUM:
        case LRPX_REDUCE_MEAN:
        case LRPX_REDUCE_LOG_SUM:    acc[o] += v; break;
        case LRPX_REDUCE_L1:         acc[o] += fabs(v); break;
        case LRPX_REDUCE_L2:
        case LRPX_REDUCE_SUM_SQUARE: acc[o] += v * v; break;
        case LRPX_REDUCE_PROD:       acc[o] *= v; break;
        case LRPX_REDUCE_MIN:        if (v < acc[o]) acc[o] = v; break;
        default: /* MAX, LOG_SUM_EXP (first pass: the maximum) */
            if (v > acc[o])
                acc[o] = v;
            break;
        }
    });
    if (k == LRPX_REDUCE_LOG_SUM_EXP) {
        REDUCE_FOR_EACH(p, i, o, {
            double m = isinf(acc[o]) ? 0.0 : acc[o];
            aux[o] += exp(reduce_val(in, i) - m);
        });
        for (int64_t o = 0; o < p->n_out; o++)
            acc[o] = (isinf(acc[o]) ? 0.0 : acc[o]) + log(aux[o]);
    }
    for (int64_t o = 0; o < p->n_out; o++) {
        double v = acc[o];
        switch (k) {
        case LRPX_REDUCE_MEAN:    v = p->count > 0 ? v / (double)p->count : NAN; break;
        case LRPX_REDUCE_L2:      v = sqrt(v); break;
        case LRPX_REDUCE_LOG_SUM: v = log(v); break;
        default: break;
        }
        reduce_store(y, o, v, 0, true);
    }
}

static void
reduce_forward_int(const struct lrpx_reduce_params *p, const struct lrpx_tensor *in,
                   struct lrpx_tensor *y, uint64_t *acc)
{
    enum lrpx_reduce_kind k = p->kind;
    /* unsigned arithmetic: overflow wraps (as ONNX Runtime) instead of
     * being undefined */
    uint64_t init = k == LRPX_REDUCE_MAX ? (uint64_t)INT64_MIN
                  : k == LRPX_REDUCE_MIN ? (uint64_t)INT64_MAX
                  : k == LRPX_REDUCE_PROD ? 1u
                                          : 0u;
    for (int64_t o = 0; o < p->n_out; o++)
        acc[o] = init;
    REDUCE_FOR_EACH(p, i, o, {
        int64_t  v = lrpx__tensor_get_i64(in, i);
        uint64_t u = (uint64_t)v;
        switch (k) {
        case LRPX_REDUCE_MAX:        if (v > (int64_t)acc[o]) acc[o] = u; break;
        case LRPX_REDUCE_MIN:        if (v < (int64_t)acc[o]) acc[o] = u; break;
        case LRPX_REDUCE_PROD:       acc[o] *= u; break;
        case LRPX_REDUCE_L1:         acc[o] += v < 0 ? 0u - u : u; break;
        case LRPX_REDUCE_SUM_SQUARE: acc[o] += u * u; break;
        default:                     acc[o] += u; break;   /* SUM, MEAN */
        }
    });
    for (int64_t o = 0; o < p->n_out; o++) {
        int64_t v = (int64_t)acc[o];
        if (k == LRPX_REDUCE_MEAN)
            v = p->count > 0 ? v / p->count : 0;
        reduce_store(y, o, 0.0, v, false);
    }
}

lrpx_status
lrpx__reduce_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_reduce_params *p  = LRPX_PARAMS(x, n, struct lrpx_reduce_params);
    const struct lrpx_tensor        *in = lrpx__in(x, n, 0);
    struct lrpx_tensor              *y  = lrpx__out(x, n, 0);

    if (p->noop) {
        if (in->n_elems > 0)
            memcpy(y->data, in->data, (size_t)lrpx__tensor_bytes(in));
        return LRPX_OK;
    }
    if (p->n_out == 0)
        return LRPX_OK;          /* empty output: no scratch was asked for */
    if (in->dtype == LRPX_DTYPE_FLOAT32 || in->dtype == LRPX_DTYPE_FLOAT64)
        reduce_forward_float(p, in, y, x->scratch, (double *)x->scratch + p->n_out);
    else
        reduce_forward_int(p, in, y, x->scratch);
    return LRPX_OK;
}

/* ---- gradient ---- */

/* Window statistics of every output group (core/rules.h): the first
 * extremum, its flat input index (-1 for an empty group), ties, sum. They
 * live in the scratch after the three doubles per output. */
static struct lrpx_maxlike *
reduce_extremum(const struct lrpx_reduce_params *p, const struct lrpx_tensor *in, bool is_max,
                void *scratch)
{
    struct lrpx_maxlike *m = (struct lrpx_maxlike *)((double *)scratch + 3 * p->n_out);
    for (int64_t o = 0; o < p->n_out; o++)
        lrpx__maxlike_init(&m[o], is_max);
    REDUCE_FOR_EACH(p, i, o, { lrpx__maxlike_add(&m[o], reduce_val(in, i), i); });
    return m;
}

static void
reduce_sum_of(const struct lrpx_reduce_params *p, const struct lrpx_tensor *in, int how,
              double *acc)
{
    for (int64_t o = 0; o < p->n_out; o++)
        acc[o] = 0.0;
    REDUCE_FOR_EACH(p, i, o, {
        double v = reduce_val(in, i);
        acc[o] += how == 0 ? v : how == 1 ? fabs(v) : v * v;
    });
}

lrpx_status
lrpx__reduce_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_reduce_params *p  = LRPX_PARAMS(x, n, struct lrpx_reduce_params);
    const struct lrpx_tensor        *in = lrpx__in(x, n, 0);
    const float                     *gy = lrpx__back_out(x, n, 0);
    float                           *gx = lrpx__back_in(x, n, 0);

    if (!gy || !gx)
        return LRPX_OK;
    if (p->noop) {
        for (int64_t i = 0; i < p->n_in; i++)
            gx[i] += gy[i];
        return LRPX_OK;
    }
    /* scratch exists only when prepare asked for it (not for a no-op or
     * an empty output) */
    if (p->n_out == 0)
        return LRPX_OK;
    double  *a = x->scratch;
    double  *b = a + p->n_out;
    switch (p->kind) {
    case LRPX_REDUCE_SUM:
        REDUCE_FOR_EACH(p, i, o, { gx[i] += gy[o]; });
        break;
    case LRPX_REDUCE_MEAN: {
        double inv = p->count > 0 ? 1.0 / (double)p->count : 0.0;
        REDUCE_FOR_EACH(p, i, o, { gx[i] += (float)(gy[o] * inv); });
        break;
    }
    case LRPX_REDUCE_MAX:
    case LRPX_REDUCE_MIN:
    {
        /* all of g to the first extremum (as MaxPool) */
        const struct lrpx_maxlike *m = reduce_extremum(p, in, p->kind == LRPX_REDUCE_MAX,
                                                       x->scratch);
        for (int64_t o = 0; o < p->n_out; o++)
            if (m[o].arg >= 0)
                gx[m[o].arg] += gy[o];
        break;
    }
    case LRPX_REDUCE_PROD:
        /* a: product of the non-zero elements, b: number of zeros */
        for (int64_t o = 0; o < p->n_out; o++) {
            a[o] = 1.0;
            b[o] = 0.0;
        }
        REDUCE_FOR_EACH(p, i, o, {
            double v = reduce_val(in, i);
            if (v == 0.0)
                b[o] += 1.0;
            else
                a[o] *= v;
        });
        REDUCE_FOR_EACH(p, i, o, {
            double v = reduce_val(in, i), d = 0.0;
            if (b[o] == 0.0)
                d = a[o] / v;
            else if (b[o] == 1.0 && v == 0.0)
                d = a[o];
            gx[i] += (float)(gy[o] * d);
        });
        break;
    case LRPX_REDUCE_L1:
        REDUCE_FOR_EACH(p, i, o, {
            double v = reduce_val(in, i);
            gx[i] += (float)(gy[o] * (v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : 0.0));
        });
        break;
    case LRPX_REDUCE_L2:
        reduce_sum_of(p, in, 2, a);
        REDUCE_FOR_EACH(p, i, o, {
            double yn = sqrt(a[o]);
            gx[i] += yn > 0.0 ? (float)(gy[o] * reduce_val(in, i) / yn) : 0.0f;
        });
        break;
    case LRPX_REDUCE_SUM_SQUARE:
        REDUCE_FOR_EACH(p, i, o, { gx[i] += (float)(2.0 * reduce_val(in, i) * gy[o]); });
        break;
    case LRPX_REDUCE_LOG_SUM:
        reduce_sum_of(p, in, 0, a);
        REDUCE_FOR_EACH(p, i, o, { gx[i] += (float)(gy[o] / a[o]); });
        break;
    case LRPX_REDUCE_LOG_SUM_EXP:
    {
        /* d/dx_i = softmax_i over the group */
        const struct lrpx_maxlike *m = reduce_extremum(p, in, true, x->scratch);
        for (int64_t o = 0; o < p->n_out; o++) {
            a[o] = m[o].best;
            b[o] = 0.0;
        }
        REDUCE_FOR_EACH(p, i, o, { b[o] += exp(reduce_val(in, i) - a[o]); });
        REDUCE_FOR_EACH(p, i, o, {
            gx[i] += (float)(gy[o] * exp(reduce_val(in, i) - a[o]) / b[o]);
        });
        break;
    }
    }
    return LRPX_OK;
}

/* ---- relevance ---- */

lrpx_status
lrpx__reduce_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_reduce_params *p    = LRPX_PARAMS(x, n, struct lrpx_reduce_params);
    const struct lrpx_tensor        *in   = lrpx__in(x, n, 0);
    const float                     *rout = lrpx__back_out(x, n, 0);
    float                           *rin  = lrpx__back_in(x, n, 0);
    const struct lrpx_rule_cfg      *rule = lrpx__rule(x, n);

    if (!rout || !rin)
        return LRPX_OK;
    if (p->noop) {
        for (int64_t i = 0; i < p->n_in; i++)
            rin[i] += rout[i];
        return LRPX_OK;
    }
    if (p->n_out == 0)
        return LRPX_OK;
    double  *a = x->scratch;
    double  *b = a + p->n_out;
    switch (p->kind) {
    case LRPX_REDUCE_SUM:
    case LRPX_REDUCE_MEAN:
    case LRPX_REDUCE_LOG_SUM:
    case LRPX_REDUCE_L1:
    case LRPX_REDUCE_L2:
    case LRPX_REDUCE_SUM_SQUARE: {
        int how = p->kind == LRPX_REDUCE_L1 ? 1
                : p->kind == LRPX_REDUCE_L2 || p->kind == LRPX_REDUCE_SUM_SQUARE ? 2
                                                                                 : 0;
        reduce_sum_of(p, in, how, a);
        /* b[o] = R_o / stab(z_o); for Mean z_ij = x_i / count, z_o = mean */
        for (int64_t o = 0; o < p->n_out; o++) {
            if (p->kind == LRPX_REDUCE_MEAN) {
                double cnt = (double)p->count;
                b[o] = rout[o] / (cnt * lrpx__stabilize(a[o] / cnt, rule->stab));
            } else {
                b[o] = rout[o] / lrpx__stabilize(a[o], rule->stab);
            }
        }
        REDUCE_FOR_EACH(p, i, o, {
            double v = reduce_val(in, i);
            double z = how == 0 ? v : how == 1 ? fabs(v) : v * v;
            rin[i] += (float)(z * b[o]);
        });
        break;
    }
    case LRPX_REDUCE_MAX:
    case LRPX_REDUCE_MIN:
    {
        const struct lrpx_maxlike *m = reduce_extremum(p, in, p->kind == LRPX_REDUCE_MAX,
                                                       x->scratch);
        REDUCE_FOR_EACH(p, i, o, {
            if (lrpx__maxlike_single(&m[o], rule->maxpool)) {
                if (i == m[o].arg)
                    rin[i] += rout[o];
            } else {
                rin[i] += (float)lrpx__maxlike_share(&m[o], rule->maxpool, rule->stab, rout[o],
                                                     reduce_val(in, i), i);
            }
        });
        break;
    }
    default:
        return lrpx__node_error(x, n, LRPX_EUNSUPPORTED,
                                "%s has no relevance rule", reduce_names[p->kind]);
    }
    return LRPX_OK;
}
