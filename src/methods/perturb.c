/* The perturbation methods, as Captum 0.8.0 computes them
 * (../shared/specs/captum-methods.md, sections 6 and 7).
 *
 *   occlusion         windows of shape s over one sample's axes, started
 *                     every r (P_d = ceil((D_d - s_d) / r_d) + 1 positions
 *                     per axis, the last window clipped at the edge),
 *                     numbered with the first axis fastest; each window is
 *                     set to the fill value, d_k = fl(F(x) - F(x_k)), and
 *                     every element gets fl(A / N): the float32 sum of the
 *                     d_k of the windows covering it over their count.
 *   feature ablation  elements with the same integer id form a group;
 *                     each group is set to the fill value at once and all
 *                     its elements get d_j = fl(F(x) - F(x_j)).
 *
 * Rows are window-major (window k of sample b is row k * batch + b), so
 * each element's sum runs in window order as in Captum.
 */
#include <stdlib.h>
#include <string.h>

#include "methods/methods_impl.h"

#define MAX_SP (LRPX_MAX_RANK - 1)

/* ---- occlusion ---- */

struct occ {
    struct lrpx_meth *m;
    int               sd;                 /* axes of one sample            */
    int64_t           dim[MAX_SP], win[MAX_SP], stride[MAX_SP], pos[MAX_SP];
    float             fill;
    float            *acc, *cnt;          /* n * per, per                  */
};

/* The box [lo, hi) of window k. */
static void
occ_window(const struct occ *c, int64_t k, int64_t *lo, int64_t *hi)
{
    for (int d = 0; d < c->sd; d++) {    /* the first axis varies fastest */
        lo[d] = (k % c->pos[d]) * c->stride[d];
        hi[d] = lo[d] + c->win[d] < c->dim[d] ? lo[d] + c->win[d] : c->dim[d];
        k /= c->pos[d];
    }
}

/* Call fn(ctx, offset) for every element of the box (row-major offsets
 * within one sample). */
static void
box_each(const struct occ *c, const int64_t *lo, const int64_t *hi,
         void (*fn)(void *ctx, int64_t off), void *ctx)
{
    int64_t at[MAX_SP];
    memcpy(at, lo, sizeof at);
    for (;;) {
        int64_t off = 0;
        for (int d = 0; d < c->sd; d++)
            off = off * c->dim[d] + at[d];
        fn(ctx, off);
        int d = c->sd - 1;
        while (d >= 0 && ++at[d] == hi[d]) {
            at[d] = lo[d];
            d--;
        }
        if (d < 0)
            return;
    }
}

struct occ_op {
    float *dst;
    float  v;
};

static void
op_set(void *ctx, int64_t off)
{
    struct occ_op *p = ctx;
    p->dst[off]      = p->v;
}

static void
op_add(void *ctx, int64_t off)
{
    struct occ_op *p = ctx;
    p->dst[off] += p->v;
}

static void
occ_fill(void *ctx, int64_t r, float *row, int64_t *sample)
{
    const struct occ *c = ctx;
    int64_t           lo[MAX_SP], hi[MAX_SP];
    *sample = r % c->m->n;
    memcpy(row, c->m->x + *sample * c->m->per, (size_t)c->m->per * sizeof(float));
    occ_window(c, r / c->m->n, lo, hi);
    box_each(c, lo, hi, op_set, &(struct occ_op){row, c->fill});
}

static void
occ_take(void *ctx, int64_t r, const float *row, const float *g, double score)
{
    struct occ *c = ctx;
    int64_t     b = r % c->m->n, lo[MAX_SP], hi[MAX_SP];
    (void)row, (void)g;
    occ_window(c, r / c->m->n, lo, hi);
    float d = (float)c->m->rep[b].score - (float)score;
    box_each(c, lo, hi, op_add, &(struct occ_op){c->acc + b * c->m->per, d});
}

/* Window shape and stride: given, or the default (the whole first axis,
 * 1/8 of the others, stride half the window). */
static lrpx_status
occ_geometry(struct lrpx_meth *m, struct occ *c, int64_t *n_win)
{
    const struct lrpx_attr_options *o = m->o;
    c->sd = m->rank - 1;
    if (c->sd < 1)
        return lrpx__error(&m->s->err, LRPX_EINVAL, "occlusion needs an input with axes "
                           "besides the batch axis");
    if (o->patch_rank && o->patch_rank != c->sd)
        return lrpx__error(&m->s->err, LRPX_EINVAL, "occlusion: the patch has %d values, one "
                           "sample of input '%s' has %d axes", o->patch_rank, m->in_name, c->sd);
    *n_win = 1;
    for (int d = 0; d < c->sd; d++) {
        c->dim[d] = m->dims[d + 1];
        if (o->patch_rank) {
            c->win[d]    = o->patch[d];
            c->stride[d] = o->patch_stride[d] ? o->patch_stride[d] : 1;
        } else {
            c->win[d]    = d == 0 && c->sd > 1 ? c->dim[d] : c->dim[d] / 8 > 0 ? c->dim[d] / 8 : 1;
            c->stride[d] = c->win[d] / 2 > 0 ? c->win[d] / 2 : 1;
        }
        if (c->win[d] < 1 || c->win[d] > c->dim[d])
            return lrpx__error(&m->s->err, LRPX_EINVAL, "occlusion: the patch's axis %d is "
                               "%lld, the input's %lld", d, (long long)c->win[d],
                               (long long)c->dim[d]);
        if (c->stride[d] < 1 || (c->stride[d] > c->win[d] && c->win[d] != c->dim[d]))
            return lrpx__error(&m->s->err, LRPX_EINVAL, "occlusion: the stride %lld of axis %d "
                               "must be 1..%lld (the patch), or elements between patches "
                               "would not be covered", (long long)c->stride[d], d,
                               (long long)c->win[d]);
        c->pos[d] = (c->dim[d] - c->win[d] + c->stride[d] - 1) / c->stride[d] + 1;
        if (*n_win > ((int64_t)1 << 40) / c->pos[d])
            return lrpx__error(&m->s->err, LRPX_ELIMIT, "occlusion: too many patches");
        *n_win *= c->pos[d];
    }
    return LRPX_OK;
}

lrpx_status
lrpx__meth_occlusion(struct lrpx_meth *m)
{
    struct occ  c = {.m = m, .fill = (float)m->o->fill};
    int64_t     n_win = 0;
    lrpx_status rc = occ_geometry(m, &c, &n_win);
    if (rc != LRPX_OK)
        return rc;
    c.acc = lrpx__calloc((size_t)(m->n * m->per + m->per), sizeof(float));
    if (!c.acc)
        return lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for occlusion");
    c.cnt = c.acc + m->n * m->per;
    for (int64_t k = 0; k < n_win; k++) {
        int64_t lo[MAX_SP], hi[MAX_SP];
        occ_window(&c, k, lo, hi);
        box_each(&c, lo, hi, op_add, &(struct occ_op){c.cnt, 1.0f});
    }
    struct lrpx_rows job = {.n_rows = n_win * m->n, .grad = false, .fill = occ_fill,
                            .take = occ_take, .ctx = &c};
    if ((rc = lrpx__meth_rows(m, &job)) == LRPX_OK) {
        for (int64_t i = 0; i < m->n * m->per; i++)
            m->out[i] = c.acc[i] / c.cnt[i % m->per];
        for (int64_t b = 0; b < m->n; b++)
            m->rep[b].n_evals = n_win + 1;
    }
    lrpx__free(c.acc);
    return rc;
}

/* ---- feature ablation ---- */

struct abl {
    struct lrpx_meth *m;
    float             fill;
    int64_t          *order;       /* n * per: element offsets, grouped     */
    int64_t          *grp_sample;  /* per group: sample, first, count       */
    int64_t          *grp_first, *grp_len;
};

static void
abl_fill(void *ctx, int64_t r, float *row, int64_t *sample)
{
    const struct abl *c = ctx;
    *sample = c->grp_sample[r];
    memcpy(row, c->m->x + *sample * c->m->per, (size_t)c->m->per * sizeof(float));
    for (int64_t j = 0; j < c->grp_len[r]; j++)
        row[c->order[c->grp_first[r] + j]] = c->fill;
}

static void
abl_take(void *ctx, int64_t r, const float *row, const float *g, double score)
{
    struct abl *c = ctx;
    int64_t     b = c->grp_sample[r];
    (void)row, (void)g;
    float d = (float)c->m->rep[b].score - (float)score;
    for (int64_t j = 0; j < c->grp_len[r]; j++)
        c->m->out[b * c->m->per + c->order[c->grp_first[r] + j]] = d;
}

/* qsort context is not portable: sort (id, offset) pairs instead */
struct id_off {
    int64_t id, off;
};

static int
cmp_id_off(const void *a, const void *b)
{
    const struct id_off *p = a, *q = b;
    if (p->id != q->id)
        return p->id < q->id ? -1 : 1;
    return p->off < q->off ? -1 : p->off > q->off;
}

/* The group id of every element: the mask broadcast to the input, or the
 * element's own offset within its sample. */
static lrpx_status
abl_ids(struct lrpx_meth *m, int64_t *ids)
{
    const lrpx_tensor_view *v     = &m->o->feature_mask;
    const int64_t           total = m->n * m->per;
    if (!v->data) {
        for (int64_t i = 0; i < total; i++)
            ids[i] = i % m->per;
        return LRPX_OK;
    }
    if (v->dtype != LRPX_DTYPE_INT64 && v->dtype != LRPX_DTYPE_INT32 &&
        v->dtype != LRPX_DTYPE_UINT8 && v->dtype != LRPX_DTYPE_INT8 &&
        v->dtype != LRPX_DTYPE_BOOL)
        return lrpx__error(&m->s->err, LRPX_EINVAL, "feature ablation: the mask must hold "
                           "integers (int64, int32, uint8, int8 or bool), not %s",
                           lrpx_dtype_name(v->dtype));
    int64_t    *idx;
    lrpx_status rc = lrpx__meth_broadcast(m, v, "feature mask", &idx);
    if (rc != LRPX_OK)
        return rc;
    for (int64_t i = 0; i < total; i++) {
        int64_t k = idx[i];
        switch (v->dtype) {
        case LRPX_DTYPE_INT64: ids[i] = ((const int64_t *)v->data)[k]; break;
        case LRPX_DTYPE_INT32: ids[i] = ((const int32_t *)v->data)[k]; break;
        case LRPX_DTYPE_INT8:  ids[i] = ((const int8_t *)v->data)[k]; break;
        default:               ids[i] = ((const uint8_t *)v->data)[k]; break;
        }
    }
    lrpx__free(idx);
    return LRPX_OK;
}

lrpx_status
lrpx__meth_feature_ablation(struct lrpx_meth *m)
{
    const int64_t  total = m->n * m->per;
    struct abl     c     = {.m = m, .fill = (float)m->o->fill};
    int64_t       *ids   = lrpx__malloc((size_t)total * sizeof *ids);
    struct id_off *pairs = lrpx__malloc((size_t)m->per * sizeof *pairs);
    c.order              = lrpx__malloc((size_t)total * sizeof *c.order);
    c.grp_sample         = lrpx__malloc((size_t)total * 3 * sizeof(int64_t));
    lrpx_status rc       = LRPX_OK;
    if (!ids || !pairs || !c.order || !c.grp_sample) {
        rc = lrpx__error(&m->s->err, LRPX_ENOMEM, "out of memory for feature ablation");
        goto done;
    }
    c.grp_first = c.grp_sample + total;
    c.grp_len   = c.grp_first + total;
    if ((rc = abl_ids(m, ids)) != LRPX_OK)
        goto done;
    /* groups of each sample in increasing id order (as Captum visits ids) */
    int64_t n_grp = 0;
    for (int64_t b = 0; b < m->n; b++) {
        for (int64_t i = 0; i < m->per; i++)
            pairs[i] = (struct id_off){ids[b * m->per + i], i};
        qsort(pairs, (size_t)m->per, sizeof *pairs, cmp_id_off);
        for (int64_t i = 0; i < m->per; i++) {
            c.order[b * m->per + i] = pairs[i].off;
            if (i == 0 || pairs[i].id != pairs[i - 1].id) {
                c.grp_sample[n_grp] = b;
                c.grp_first[n_grp]  = b * m->per + i;
                c.grp_len[n_grp++]  = 0;
            }
            c.grp_len[n_grp - 1]++;
        }
        m->rep[b].n_evals = 1;
    }
    /* grp_first indexes order[], which holds offsets within the sample */
    struct lrpx_rows job = {.n_rows = n_grp, .grad = false, .fill = abl_fill,
                            .take = abl_take, .ctx = &c};
    if ((rc = lrpx__meth_rows(m, &job)) == LRPX_OK)
        for (int64_t j = 0; j < n_grp; j++)
            m->rep[c.grp_sample[j]].n_evals++;
done:
    lrpx__free(ids);
    lrpx__free(pairs);
    lrpx__free(c.order);
    lrpx__free(c.grp_sample);
    return rc;
}
