/* LayerNormalization — normalise over the trailing dimensions from `axis`:
 *   mu = mean(x[..., axis:]), r = 1/sqrt(var + eps) (biased variance),
 *   y = (x - mu) r * Scale + B,
 * Scale and B broadcast (numpy rules, one-directional) to X.shape[axis:].
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__LayerNormalization.html
 *       (opset 17), float32. Attributes axis (default -1), epsilon (1e-5),
 *       stash_type (statistics are always computed in double here, which
 *       satisfies any stash type). Optional outputs Mean and InvStdDev have
 *       X's shape with the dimensions from axis set to 1.
 *       since_version is 1: ONNX Runtime accepts this op in the default
 *       domain below opset 17 (its pre-standard contrib registration with the
 *       same signature), and graph optimisers emit it in such models.
 * Gradient: g_x = r (gh - mean(gh) - xh mean(gh xh)) with gh = Scale g_y,
 *       xh = (x - mu) r; plus the paths through the Mean and InvStdDev
 *       outputs when they carry gradients; g_Scale = sum g_y xh and
 *       g_B = sum g_y (reduced over broadcast positions) when requested.
 * LRP:  by the node's rule (docs/transformers.md):
 *       norm (AttnLRP, CP-LRP): sigma = sqrt(var + eps) is a constant and
 *         the affine rest y = A x + B, A = diag(Scale / sigma)(I - 11^T/m),
 *         takes the epsilon-rule with the node's stabiliser e, B inside z:
 *             g = Scale R / (sigma stab_e(y)),   R_x = x (g - mean(g))
 *         (the gradient with sigma held constant, times x, after R / y);
 *       pass (the classic composites): R_x = R_y element by element.
 *       Relevance arriving at Mean/InvStdDev is not propagated.
 */
#include <math.h>
#include <string.h>

#include "core/rules.h"

struct layer_normalization_params {
    float    epsilon;
    int64_t  groups;       /* prod(X.shape[:axis])                          */
    int64_t  m;            /* prod(X.shape[axis:])                          */
    /* parameter index of normalized position k: k (full), 0 (scalar) or
     * map[k] (general broadcasting) */
    int      mode[2];      /* Scale, B: 0 full, 1 scalar, 2 mapped, 3 absent */
    int64_t *map[2];
};

enum { LN_FULL = 0, LN_SCALAR, LN_MAPPED, LN_ABSENT };

static inline int64_t
layer_normalization_pidx(const struct layer_normalization_params *p, int which, int64_t k)
{
    switch (p->mode[which]) {
    case LN_FULL:   return k;
    case LN_MAPPED: return p->map[which][k];
    default:        return 0;
    }
}

/* Check that param tensor t broadcasts to dims[0..nr) and fill map if
 * needed (map may be NULL in the sizing pass). */
static lrpx_status
layer_normalization_bcast(struct lrpx_exec *x, const struct lrpx_node *n, const char *name,
                          const struct lrpx_tensor *t, const int64_t *dims, int nr,
                          int64_t m, int *mode, int64_t *map)
{
    char b1[96], b2[96];

    if (t->rank > nr)
        goto bad;
    for (int i = 0; i < t->rank; i++) {
        int64_t td = t->dims[t->rank - 1 - i], xd = dims[nr - 1 - i];
        if (td != 1 && td != xd)
            goto bad;
    }
    if (t->n_elems == m) {
        *mode = LN_FULL;
    } else if (t->n_elems == 1) {
        *mode = LN_SCALAR;
    } else {
        *mode = LN_MAPPED;
        if (map) {
            int64_t pstr[LRPX_MAX_RANK] = {0}, tstr[LRPX_MAX_RANK], idx[LRPX_MAX_RANK] = {0};
            lrpx__strides(t->dims, t->rank, tstr);
            for (int i = 0; i < t->rank; i++)
                pstr[nr - t->rank + i] = t->dims[i] == 1 ? 0 : tstr[i];
            int64_t off = 0;
            for (int64_t k = 0; k < m; k++) {
                map[k] = off;
                for (int d = nr - 1; d >= 0; d--) {
                    off += pstr[d];
                    if (++idx[d] < dims[d])
                        break;
                    off -= pstr[d] * idx[d];
                    idx[d] = 0;
                }
            }
        }
    }
    return LRPX_OK;
bad:
    return lrpx__node_error(x, n, LRPX_ESHAPE,
                            "input %s of shape %s does not broadcast to the normalized "
                            "shape %s", name, lrpx__dims_str(t->dims, t->rank, b1, sizeof b1),
                            lrpx__dims_str(dims, nr, b2, sizeof b2));
}

static lrpx_status
layer_normalization_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    static const char *const names[2] = {"Scale", "B"};
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    lrpx_status               rc;

    for (int i = 0; i < 3; i++) {
        if (i < 2 && !lrpx__in(x, n, i))
            return lrpx__node_error(x, n, LRPX_EPARSE, "input %s is missing",
                                    i == 0 ? "X" : "Scale");
        if (lrpx__in(x, n, i) && (rc = lrpx__check_dtype(x, n, i, LRPX_DTYPE_FLOAT32)) != LRPX_OK)
            return rc;
    }
    int     r    = in->rank;
    int64_t axis = lrpx__attr_int(n, "axis", -1);
    if (r < 1 || axis < -r || axis >= r)
        return lrpx__node_error(x, n, LRPX_EPARSE,
                                "attribute axis = %lld is out of range for an input of rank %d",
                                (long long)axis, r);
    if (axis < 0)
        axis += r;
    float eps = lrpx__attr_float(n, "epsilon", 1e-5f);
    if (!(eps >= 0.0f))
        return lrpx__node_error(x, n, LRPX_EPARSE, "attribute epsilon = %g is negative",
                                (double)eps);

    int64_t groups = 1, m = 1;
    for (int d = 0; d < r; d++) {
        if (d < axis)
            groups *= in->dims[d];
        else
            m *= in->dims[d];
    }

    /* sizing pass: which parameters need an index map */
    int    mode[2];
    size_t bytes = sizeof(struct layer_normalization_params);
    for (int w = 0; w < 2; w++) {
        const struct lrpx_tensor *t = lrpx__in(x, n, 1 + w);
        mode[w] = LN_ABSENT;
        if (t && (rc = layer_normalization_bcast(x, n, names[w], t, in->dims + axis,
                                                 r - (int)axis, m, &mode[w], NULL)) != LRPX_OK)
            return rc;
        if (mode[w] == LN_MAPPED) {
            size_t mb;
            if (!lrpx__mul_size((size_t)m, sizeof(int64_t), &mb) || bytes + mb < bytes)
                return lrpx__node_error(x, n, LRPX_ELIMIT, "normalized shape too large");
            bytes += mb;
        }
    }
    struct layer_normalization_params *p = lrpx__params_alloc(x, n, bytes);
    if (!p)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory for parameters");
    p->epsilon = eps;
    p->groups  = groups;
    p->m       = m;
    int64_t *next = (int64_t *)(p + 1);
    for (int w = 0; w < 2; w++) {
        p->mode[w] = mode[w];
        p->map[w]  = NULL;
        if (mode[w] == LN_MAPPED) {
            p->map[w] = next;
            next += m;
            layer_normalization_bcast(x, n, names[w], lrpx__in(x, n, 1 + w), in->dims + axis,
                                      r - (int)axis, m, &p->mode[w], p->map[w]);
        }
    }

    lrpx__scratch_request(x, (size_t)m * sizeof(double));
    if ((rc = lrpx__set_output_like(x, n, 0, in)) != LRPX_OK)
        return rc;
    int64_t sdims[LRPX_MAX_RANK];
    for (int d = 0; d < r; d++)
        sdims[d] = d < axis ? in->dims[d] : 1;
    for (int o = 1; o < 3; o++)
        if (lrpx__out(x, n, o) &&
            (rc = lrpx__set_output(x, n, o, LRPX_DTYPE_FLOAT32, r, sdims)) != LRPX_OK)
            return rc;
    return LRPX_OK;
}

static void
layer_normalization_stats(const float *xp, int64_t m, double eps, double *mu, double *inv)
{
    double s = 0.0, v = 0.0;
    for (int64_t k = 0; k < m; k++)
        s += xp[k];
    *mu = m > 0 ? s / (double)m : 0.0;
    for (int64_t k = 0; k < m; k++) {
        double c = xp[k] - *mu;
        v += c * c;
    }
    v    = m > 0 ? v / (double)m : 0.0;
    *inv = 1.0 / sqrt(v + eps);
}

static lrpx_status
layer_normalization_forward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct layer_normalization_params *p =
        LRPX_PARAMS(x, n, struct layer_normalization_params);
    const float              *xd    = lrpx__in(x, n, 0)->f32;
    const float              *scale = lrpx__in(x, n, 1)->f32;
    const struct lrpx_tensor *bt    = lrpx__in(x, n, 2);
    float                    *yd    = lrpx__out(x, n, 0)->f32;
    struct lrpx_tensor       *mo    = lrpx__out(x, n, 1);
    struct lrpx_tensor       *io    = lrpx__out(x, n, 2);

    for (int64_t g = 0; g < p->groups; g++) {
        const float *xp = xd + g * p->m;
        float       *yp = yd + g * p->m;
        double       mu, inv;
        layer_normalization_stats(xp, p->m, p->epsilon, &mu, &inv);
        for (int64_t k = 0; k < p->m; k++) {
            double v = (xp[k] - mu) * inv * scale[layer_normalization_pidx(p, 0, k)];
            if (bt)
                v += bt->f32[layer_normalization_pidx(p, 1, k)];
            yp[k] = (float)v;
        }
        if (mo)
            mo->f32[g] = (float)mu;
        if (io)
            io->f32[g] = (float)inv;
    }
    return LRPX_OK;
}

static lrpx_status
layer_normalization_backward(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct layer_normalization_params *p =
        LRPX_PARAMS(x, n, struct layer_normalization_params);
    const float *xd    = lrpx__in(x, n, 0)->f32;
    const float *scale = lrpx__in(x, n, 1)->f32;
    const float *gy    = lrpx__back_out(x, n, 0);
    const float *gmu   = lrpx__back_out(x, n, 1);
    const float *ginv  = lrpx__back_out(x, n, 2);
    float       *gx    = lrpx__back_in(x, n, 0);
    float       *gs    = lrpx__back_in(x, n, 1);
    float       *gb    = lrpx__back_in(x, n, 2);

    if (p->m == 0)
        return LRPX_OK;
    double m = (double)p->m;
    for (int64_t g = 0; g < p->groups; g++) {
        const float *xp = xd + g * p->m;
        double       mu, inv, sgh = 0.0, sghxh = 0.0;
        layer_normalization_stats(xp, p->m, p->epsilon, &mu, &inv);
        if (gy)
            for (int64_t k = 0; k < p->m; k++) {
                double xh = (xp[k] - mu) * inv;
                double gk = gy[g * p->m + k];
                double gh = gk * scale[layer_normalization_pidx(p, 0, k)];
                sgh   += gh;
                sghxh += gh * xh;
                if (gs)
                    gs[layer_normalization_pidx(p, 0, k)] += (float)(gk * xh);
                if (gb)
                    gb[layer_normalization_pidx(p, 1, k)] += (float)gk;
            }
        if (!gx)
            continue;
        double gm = gmu ? gmu[g] : 0.0, gi = ginv ? ginv[g] : 0.0;
        for (int64_t k = 0; k < p->m; k++) {
            double xh = (xp[k] - mu) * inv, v = 0.0;
            if (gy) {
                double gh = gy[g * p->m + k] * scale[layer_normalization_pidx(p, 0, k)];
                v += inv * (gh - sgh / m - xh * sghxh / m);
            }
            /* d mu / dx_k = 1/m; d inv / dx_k = -inv^2 xh / m */
            v += gm / m - gi * inv * inv * xh / m;
            gx[g * p->m + k] += (float)v;
        }
    }
    return LRPX_OK;
}

static lrpx_status
layer_normalization_relevance(struct lrpx_exec *x, const struct lrpx_node *n)
{
    const struct lrpx_rule_cfg *cfg = lrpx__rule(x, n);
    if (cfg->rule != LRPX_RULE_NORM)
        return lrpx__back_identity(x, n);
    const struct layer_normalization_params *p =
        LRPX_PARAMS(x, n, struct layer_normalization_params);
    const float *xd    = lrpx__in(x, n, 0)->f32;
    const float *scale = lrpx__in(x, n, 1)->f32;
    const float *yd    = lrpx__out(x, n, 0)->f32;
    const float *r     = lrpx__back_out(x, n, 0);
    float       *rx    = lrpx__back_in(x, n, 0);
    double      *g     = x->scratch;
    if (!r || !rx || p->m == 0)
        return LRPX_OK;
    for (int64_t grp = 0; grp < p->groups; grp++) {
        const int64_t o = grp * p->m;
        double        mu, inv, sum = 0.0;
        layer_normalization_stats(xd + o, p->m, p->epsilon, &mu, &inv);
        for (int64_t k = 0; k < p->m; k++) {
            g[k] = scale[layer_normalization_pidx(p, 0, k)] * inv * r[o + k] /
                   lrpx__stabilize(yd[o + k], cfg->stab);
            sum += g[k];
        }
        double mean = sum / (double)p->m;
        for (int64_t k = 0; k < p->m; k++)
            rx[o + k] += (float)(xd[o + k] * (g[k] - mean));
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_layer_normalization = {
    .onnx_name     = "LayerNormalization",
    .since_version = 1,
    .n_inputs_min  = 2,
    .n_inputs_max  = 3,
    .n_outputs_min = 1,
    .n_outputs_max = 3,
    .prepare       = layer_normalization_prepare,
    .forward       = layer_normalization_forward,
    .backward      = layer_normalization_backward,
    .relevance     = layer_normalization_relevance,
    .lrp_class     = LRPX_LRP_CLASS_NORM,
};
