/* Randomisation: model-randomisation (Adebayo et al. 2018, Quantus's MPRT)
 * and random-logit (Sixt et al. 2020), with the similarity functions they
 * use (Spearman's rank correlation, SSIM of the flat maps).
 *
 * model-randomisation re-initialises the weights of linear layers in
 * memory: a second session on the same model whose constants are replaced
 * (lrpx__session_set_const), so the model itself is never written.
 * random-logit draws the off-target class exactly as numpy's legacy
 * generator does after numpy.random.seed(seed) (MT19937, masked rejection),
 * so the class matches Quantus's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/eval.h"
#include "eval/eval_impl.h"
#include "core/op.h"

/* ---- similarity ---- */

/* The metric's similarity of two flat maps: Spearman, or SSIM of the flat
 * signal (NaN when shorter than its window). */
static double
similarity(const struct eval_ctx *e, const float *a, const float *b, int64_t n)
{
    double      r  = NAN;
    lrpx_status rc = eval_choice(e->m, K_SIMILARITY_FUNC) == SIM_SSIM
                         ? lrpx__eval_ssim(a, b, 1, 1, n, &r)
                         : lrpx__eval_spearman(a, b, n, &r);
    return rc == LRPX_OK ? r : NAN;
}

/* ---- numpy's legacy MT19937 ---- */

struct mt19937 {
    uint32_t key[624];
    int      pos;
};

static void
mt_seed(struct mt19937 *m, uint32_t seed)
{
    for (int i = 0; i < 624; i++) {
        m->key[i] = seed;
        seed      = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)i + 1u;
    }
    m->pos = 624;
}

static uint32_t
mt_next(struct mt19937 *m)
{
    if (m->pos == 624) {
        for (int i = 0; i < 624; i++) {
            uint32_t y = (m->key[i] & 0x80000000u) | (m->key[(i + 1) % 624] & 0x7fffffffu);
            m->key[i]  = m->key[(i + 397) % 624] ^ (y >> 1) ^ (y & 1u ? 0x9908b0dfu : 0u);
        }
        m->pos = 0;
    }
    uint32_t y = m->key[m->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

/* numpy.random.seed(seed); numpy.random.choice([k for k < n if k != y]) */
static int64_t
off_class(uint32_t seed, int64_t n, int64_t y)
{
    struct mt19937 m;
    mt_seed(&m, seed);
    uint32_t rng = (uint32_t)(n - 2), mask = rng, v;   /* randint(0, n - 1) */
    for (int s = 1; s < 32; s <<= 1)
        mask |= mask >> s;
    if (rng == 0)
        v = 0;
    else
        while ((v = mt_next(&m) & mask) > rng)
            ;
    return (int64_t)v < y ? (int64_t)v : (int64_t)v + 1;
}

static lrpx_status
random_logit(struct eval_ctx *e, const float *a, float *maps)
{
    int64_t  nc = eval_int(e->m, K_NUM_CLASSES);
    int64_t *off = lrpx__malloc((size_t)e->n * sizeof *off);
    if (!off)
        return lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    for (int64_t i = 0; i < e->n; i++)
        off[i] = off_class((uint32_t)eval_int(e->m, K_SEED), nc, e->targets[i]);
    lrpx_status rc = eval_explain(e, e->x, e->n, off, maps, NULL);
    if (rc == LRPX_EINVAL && strstr(lrpx_session_errmsg(e->s), "out of range"))
        rc = lrpx__error(&e->s->err, LRPX_EINVAL,
                         "num-classes=%lld, but the model has fewer classes "
                         "(set num-classes to its number of outputs)", (long long)nc);
    for (int64_t i = 0; i < e->n && rc == LRPX_OK; i++) {
        eval_postprocess(e, maps + i * e->f, e->f);   /* explained one by one */
        eval_set_score(e, i, LRPX_SCORE_NUMBER,
                       similarity(e, a + i * e->f, maps + i * e->f, e->f));
        eval_add_extra(e, i, "off_class", (double)off[i]);
    }
    lrpx__free(off);
    return rc;
}

/* ---- model-randomisation ---- */

/* Layer l of the model re-initialised on session rs (the shared routine
 * of src/graph/randomize.c); buf holds room for its weight and bias. */
static lrpx_status
randomise(lrpx_session *rs, const struct lrpx_graph *g, const struct lrpx_rand_layer *l,
          uint64_t seed, float *bw, float *bb)
{
    lrpx__graph_layer_draw(g, l, seed, bw, bb);
    lrpx_status rc = lrpx__session_set_const(rs, l->w, bw);
    if (rc == LRPX_OK && l->b >= 0)
        rc = lrpx__session_set_const(rs, l->b, bb);
    return rc;
}

/* Maps of all inputs on session rs (normalised per chunk), their
 * similarity to a as curve point `pt`. */
static lrpx_status
curve_point(struct eval_ctx *e, lrpx_session *rs, const float *a, float *maps, double *curves,
            int64_t n_pts, int64_t pt)
{
    lrpx_session *keep = e->s;
    e->s               = rs;
    lrpx_status rc     = eval_explain_steps(e, e->x, e->n, e->targets, maps, NULL);
    e->s               = keep;
    if (rc != LRPX_OK)
        return rs == keep ? rc : lrpx__error(&keep->err, rc, "%s", lrpx_session_errmsg(rs));
    for (int64_t i = 0; i < e->n; i++)
        curves[i * n_pts + pt] = similarity(e, a + i * e->f, maps + i * e->f, e->f);
    return LRPX_OK;
}

static lrpx_status
model_randomisation(struct eval_ctx *e, const float *a, float *maps)
{
    const lrpx_metric       *m = e->m;
    const struct lrpx_graph *g = &e->s->model->g;
    bool avg = eval_bool(m, K_RETURN_AVERAGE_CORRELATION), last = eval_bool(m, K_RETURN_LAST_CORRELATION),
         skip = eval_bool(m, K_SKIP_LAYERS);
    if (avg && last)
        return lrpx__error(&e->s->err, LRPX_EINVAL, "model-randomisation: "
                           "return-average-correlation and return-last-correlation exclude each other");
    if (avg && skip)
        return lrpx__error(&e->s->err, LRPX_EINVAL, "model-randomisation: "
                           "return-average-correlation needs every layer (skip-layers=false)");
    int n_layers = lrpx__graph_linear_layers(g, NULL);
    if (n_layers == 0)
        return lrpx__error(&e->s->err, LRPX_EINVAL,
                           "model-randomisation: the model has no linear layer with constant weights");
    struct lrpx_rand_layer *layers = lrpx__malloc((size_t)n_layers * sizeof *layers);
    int64_t       n_pts  = 1 + (skip ? 1 : n_layers);
    double       *curves = lrpx__malloc((size_t)(e->n * n_pts) * sizeof *curves);
    int64_t       maxw   = 1;
    lrpx_session *rs     = NULL;
    float        *buf    = NULL;
    lrpx_status   rc     = LRPX_OK;
    if (!layers || !curves || !(e->r->labels = lrpx__calloc((size_t)n_pts, sizeof(char *))))
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    if (rc == LRPX_OK) {
        lrpx__graph_linear_layers(g, layers);
        for (int l = 0; l < n_layers; l++)
            for (int k = 0; k < 2; k++) {
                int v = k ? layers[l].b : layers[l].w;
                if (v >= 0 && g->values[v].data.n_elems > maxw)
                    maxw = g->values[v].data.n_elems;
            }
        if (!(buf = lrpx__malloc((size_t)maxw * 2 * sizeof *buf)))
            rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    }
    if (rc == LRPX_OK && lrpx_session_init(e->s->model, &rs) != LRPX_OK)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "model-randomisation: %s",
                         rs ? lrpx_session_errmsg(rs) : "out of memory");
    if (rc == LRPX_OK) {
        lrpx_session_set_threads(rs, lrpx_session_threads(e->s));
        e->r->n_labels = (int)n_pts;
        e->r->labels[0] = lrpx__strdup("original");
        rc              = curve_point(e, e->s, a, maps, curves, n_pts, 0);
    }
    int order = eval_choice(m, K_LAYER_ORDER);
    for (int step = 0, pt = 1; rc == LRPX_OK && step < n_layers; step++) {
        const struct lrpx_rand_layer *l = &layers[order == LAYERS_TOP_DOWN ? n_layers - 1 - step : step];
        if (order == LAYERS_INDEPENDENT && step > 0) {   /* the model's weights back */
            const struct lrpx_rand_layer *p = &layers[step - 1];
            if ((rc = lrpx__session_set_const(rs, p->w, NULL)) == LRPX_OK && p->b >= 0)
                rc = lrpx__session_set_const(rs, p->b, NULL);
        }
        if (rc == LRPX_OK)
            rc = randomise(rs, g, l, (uint64_t)eval_int(m, K_SEED), buf, buf + maxw);
        if (rc != LRPX_OK) {
            rc = lrpx__error(&e->s->err, rc, "model-randomisation: %s", lrpx_session_errmsg(rs));
            break;
        }
        if (skip && step + 1 < n_layers)
            continue;
        const char *name = g->nodes[l->node].name;
        e->r->labels[pt] = lrpx__strdup(name[0] ? name : g->nodes[l->node].op_type);
        rc = curve_point(e, rs, a, maps, curves, n_pts, pt);
        pt++;
    }
    for (int64_t i = 0; rc == LRPX_OK && i < e->n; i++) {
        const double *c = curves + i * n_pts;
        double        mean = 0.0;
        for (int64_t k = 0; k < n_pts; k++)
            mean += c[k];
        mean /= (double)n_pts;                  /* "original" included, as Quantus does */
        if ((rc = eval_set_curve(e, i, c, n_pts)) != LRPX_OK)
            break;
        if (avg)
            eval_set_score(e, i, LRPX_SCORE_NUMBER, mean);
        else if (last)
            eval_set_score(e, i, LRPX_SCORE_NUMBER, c[n_pts - 1]);
        e->r->s[i].summary = c[n_pts - 1];
    }
    for (int i = 0; rc == LRPX_OK && e->r->labels && i < e->r->n_labels; i++)
        if (!e->r->labels[i])
            rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    lrpx_session_free(rs);
    lrpx__free(layers);
    lrpx__free(curves);
    lrpx__free(buf);
    return rc;
}

lrpx_status
eval_randomisation(struct eval_ctx *e)
{
    int64_t     per;
    float      *a    = NULL;
    lrpx_status rc   = eval_given_maps(e, MAPS_FULL, &a, &per);
    float      *maps = lrpx__malloc((size_t)(e->n * e->f) * sizeof *maps);
    if (rc == LRPX_OK && !maps)
        rc = lrpx__error(&e->s->err, LRPX_ENOMEM, "out of memory");
    if (rc == LRPX_OK)
        rc = e->m->id == LRPX_METRIC_RANDOM_LOGIT ? random_logit(e, a, maps)
                                                   : model_randomisation(e, a, maps);
    lrpx__free(a);
    lrpx__free(maps);
    return rc;
}
