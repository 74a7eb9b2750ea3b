/* lrpx_session_maximize: activation maximisation, the interpretation
 * technique of Montavon, Samek & Mueller 2017, section 3
 * (docs/interpretation.md).
 *
 * Gradient ascent on v, the input x itself or the code z of a generator
 * x = g(z), of
 *
 *     J(v) = score_K(x) + w log p(x) - lambda |v - v0|^2
 *
 * score_K the class's logit or log-probability, p an optional density of
 * real examples (the "expert", density.c). One step:
 *   1. x = v, or x = g(v) by a forward pass of the decoder session;
 *   2. the classifier's forward and gradient pass at x (rolled by a random
 *      shift with jitter, the gradient rolled back), seeded at the logits
 *      with dscore/dlogits (one-hot, or one-hot minus softmax);
 *   3. plus w d log p / dx from the expert;
 *   4. with a decoder, dJ/dz = J_g(z)^T dJ/dx: the decoder's gradient pass
 *      seeded at its output with dJ/dx (LRPX_SEED_TENSOR);
 *   5. v += step (dJ/dv - 2 lambda (v - v0)); in input space then the
 *      blur and the box.
 * Every point's J and its parts are recorded: the trajectory.
 */
#include <math.h>
#include <string.h>

#include "methods/methods_impl.h"

struct lrpx_maximize_result {
    int64_t             n_steps;
    lrpx_maximize_step *steps;
    float              *x, *z;       /* the last point                        */
    lrpx_tensor_view    x_view, z_view;
};

void
lrpx_maximize_options_default(struct lrpx_maximize_options *o)
{
    memset(o, 0, sizeof *o);
    o->target        = -1;
    o->score         = LRPX_MAX_SCORE_AUTO;
    o->iters         = 200;
    o->step          = 0.1;
    o->lambda        = 0.01;
    o->box_low       = NAN;
    o->box_high      = NAN;
    o->blur_every    = 1;
    o->init_sigma    = 0.1;
    o->start_value   = NAN;
    o->expert_weight = 1.0;
}

void
lrpx_maximize_result_free(lrpx_maximize_result *r)
{
    if (!r)
        return;
    lrpx__free(r->steps);
    lrpx__free(r->x);
    lrpx__free(r->z);
    lrpx__free(r);
}

int64_t
lrpx_maximize_result_n_steps(const lrpx_maximize_result *r)
{
    return r ? r->n_steps : 0;
}

lrpx_status
lrpx_maximize_result_step(const lrpx_maximize_result *r, int64_t i, lrpx_maximize_step *out)
{
    if (!r || !out || i < 0 || i >= r->n_steps)
        return LRPX_EINVAL;
    *out = r->steps[i];
    return LRPX_OK;
}

lrpx_status
lrpx_maximize_result_prototype(const lrpx_maximize_result *r, lrpx_tensor_view *out)
{
    if (!r || !out)
        return LRPX_EINVAL;
    *out = r->x_view;
    return LRPX_OK;
}

lrpx_status
lrpx_maximize_result_code(const lrpx_maximize_result *r, lrpx_tensor_view *out)
{
    if (!r || !out || !r->z)
        return LRPX_EINVAL;
    *out = r->z_view;
    return LRPX_OK;
}

/* ---- one call ---- */

struct actmax {
    lrpx_session                       *s, *dec;
    const struct lrpx_maximize_options *o;
    struct lrpx_err                    *err;
    lrpx_max_score                      score;
    const char                         *x_name, *z_name, *g_name;
    int                                 x_rank, z_rank;
    int64_t                             x_dims[LRPX_MAX_RANK], z_dims[LRPX_MAX_RANK];
    int64_t                             nx, nz, nv;    /* floats of x, z, v  */
    int64_t                             n_cls;
    float                              *v, *v0, *x, *xj, *gx, *gv, *tmp, *lo, *hi;
    float                              *seed;
    struct lrpx_rng                     rng;
};

static double
normal(struct lrpx_rng *r)
{
    double u1 = 1.0 - lrpx__rng_uniform(r);   /* (0, 1] */
    double u2 = lrpx__rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* The declared shape of input `name` (NULL: the first) of session s's
 * model with the batch set to 1; *sym: a symbolic dimension besides it. */
static lrpx_status
input_shape(lrpx_session *s, const char *name, const char **out_name, int *rank, int64_t *dims,
            bool *sym)
{
    const lrpx_model *m = s->model;
    int               n = lrpx_model_n_inputs(m);
    *sym                = false;
    for (int i = 0; i < n; i++) {
        lrpx_value_info info;
        if (lrpx_model_input_info(m, i, &info) != LRPX_OK)
            continue;
        if (name && strcmp(name, info.name))
            continue;
        if (info.dtype != LRPX_DTYPE_FLOAT32 || info.rank < 1)
            return lrpx__error(&s->err, LRPX_EINVAL, "%s: input '%s' is not a float32 tensor "
                               "with a batch axis", m->g.path, info.name);
        *out_name = info.name;
        *rank     = info.rank;
        for (int k = 0; k < info.rank; k++) {
            dims[k] = info.dims[k];
            if (k == 0 && dims[k] < 0)
                dims[k] = 1;
            else if (dims[k] < 0)
                *sym = true;
        }
        if (dims[0] != 1)
            return lrpx__error(&s->err, LRPX_ESHAPE, "%s: input '%s' has a fixed batch of %lld; "
                               "activation maximisation feeds one sample", m->g.path, info.name,
                               (long long)dims[0]);
        return LRPX_OK;
    }
    if (name)
        return lrpx__error(&s->err, LRPX_EINVAL, "%s: no input named '%s'", m->g.path, name);
    return lrpx__error(&s->err, LRPX_EINVAL, "%s: the model has no inputs", m->g.path);
}

static lrpx_status
check_options(lrpx_session *s, const struct lrpx_maximize_options *o)
{
    struct lrpx_err *e = &s->err;
    if (o->target < 0)
        return lrpx__error(e, LRPX_EINVAL, "no class to maximise: set target (>= 0), got %lld",
                           (long long)o->target);
    if ((unsigned)o->score >= LRPX_MAX_SCORE_COUNT)
        return lrpx__error(e, LRPX_EINVAL, "unknown score %d", (int)o->score);
    if (o->iters < 0 || o->iters > 1000000)
        return lrpx__error(e, LRPX_EINVAL, "iters %d is out of range (0..1000000)", o->iters);
    if (!isfinite(o->step) || !(o->step > 0.0))
        return lrpx__error(e, LRPX_EINVAL, "step must be a finite number > 0");
    if (!isfinite(o->lambda) || o->lambda < 0.0)
        return lrpx__error(e, LRPX_EINVAL, "lambda must be a finite number >= 0");
    if (!(o->blur_sigma >= 0.0) || o->blur_sigma > 100.0)
        return lrpx__error(e, LRPX_EINVAL, "blur_sigma must be in 0..100 pixels");
    if (o->blur_every < 1)
        return lrpx__error(e, LRPX_EINVAL, "blur_every %d must be >= 1", o->blur_every);
    if (o->jitter < 0 || o->jitter > 1000)
        return lrpx__error(e, LRPX_EINVAL, "jitter %d is out of range (0..1000 pixels)",
                           o->jitter);
    if (!(o->init_sigma >= 0.0) || !isfinite(o->init_sigma))
        return lrpx__error(e, LRPX_EINVAL, "init_sigma must be a finite number >= 0");
    if (isinf(o->start_value))
        return lrpx__error(e, LRPX_EINVAL, "start_value is not finite");
    if (!isfinite(o->expert_weight))
        return lrpx__error(e, LRPX_EINVAL, "expert_weight is not finite");
    if (isnan(o->box_low) != isnan(o->box_high))
        return lrpx__error(e, LRPX_EINVAL, "box_low and box_high must be set together");
    if (!isnan(o->box_low) && !(o->box_low <= o->box_high))
        return lrpx__error(e, LRPX_EINVAL, "box_low %g is above box_high %g", o->box_low,
                           o->box_high);
    if (o->n_box_c < 0 || (o->n_box_c > 0 && (!o->box_low_c || !o->box_high_c)))
        return lrpx__error(e, LRPX_EINVAL, "n_box_c %d needs box_low_c and box_high_c",
                           o->n_box_c);
    for (int c = 0; c < o->n_box_c; c++)
        if (!(o->box_low_c[c] <= o->box_high_c[c]))
            return lrpx__error(e, LRPX_EINVAL, "channel %d: box low %g is not below high %g", c,
                               (double)o->box_low_c[c], (double)o->box_high_c[c]);
    if (o->decoder == s)
        return lrpx__error(e, LRPX_EINVAL, "the decoder must be a session of its own");
    return LRPX_OK;
}

/* Shapes: x from the model input (or the start point, or the decoder's
 * output), z from the decoder's input. */
static lrpx_status
shapes(struct actmax *a)
{
    lrpx_session                       *s = a->s;
    const struct lrpx_maximize_options *o = a->o;
    char                                d1[128], d2[128];
    bool                                sym;
    lrpx_status rc = input_shape(s, o->input_name, &a->x_name, &a->x_rank, a->x_dims, &sym);
    if (rc != LRPX_OK)
        return rc;
    if (a->dec) {
        bool zsym;
        rc = input_shape(a->dec, o->decoder_input, &a->z_name, &a->z_rank, a->z_dims, &zsym);
        if (rc != LRPX_OK)
            return lrpx__error(&s->err, rc, "decoder: %s", lrpx_session_errmsg(a->dec));
        if (zsym)
            return lrpx__error(&s->err, LRPX_ESHAPE, "decoder %s: its input '%s' has symbolic "
                               "dimensions besides the batch", a->dec->model->g.path, a->z_name);
        a->nz = 1;
        for (int k = 0; k < a->z_rank; k++)
            a->nz *= a->z_dims[k];
        /* the decoder's output at z = 0 gives x's shape */
        float *zero = lrpx__calloc((size_t)a->nz, sizeof *zero);
        if (!zero)
            return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
        rc = lrpx_session_set_input(a->dec, a->z_name, LRPX_DTYPE_FLOAT32, a->z_rank, a->z_dims,
                                    zero);
        lrpx__free(zero);
        if (rc == LRPX_OK)
            rc = lrpx_session_run(a->dec);
        if (rc != LRPX_OK)
            return lrpx__error(&s->err, rc, "decoder: %s", lrpx_session_errmsg(a->dec));
        lrpx_tensor_view out;
        int              oi = 0;
        if (o->decoder_output) {
            oi = -1;
            for (int i = 0; i < lrpx_model_n_outputs(a->dec->model); i++) {
                lrpx_value_info info;
                if (lrpx_model_output_info(a->dec->model, i, &info) == LRPX_OK &&
                    !strcmp(info.name, o->decoder_output))
                    oi = i;
            }
            if (oi < 0)
                return lrpx__error(&s->err, LRPX_EINVAL, "decoder %s: no output named '%s'",
                                   a->dec->model->g.path, o->decoder_output);
        }
        lrpx_value_info oinfo;
        lrpx_model_output_info(a->dec->model, oi, &oinfo);
        a->g_name = oinfo.name;
        if (lrpx_session_output(a->dec, oi, &out) != LRPX_OK || out.dtype != LRPX_DTYPE_FLOAT32)
            return lrpx__error(&s->err, LRPX_EINVAL, "decoder %s: output '%s' is not float32",
                               a->dec->model->g.path, a->g_name);
        bool fits = out.rank == a->x_rank;
        for (int k = 0; fits && k < out.rank; k++)
            fits = a->x_dims[k] < 0 || a->x_dims[k] == out.dims[k];
        if (!fits)
            return lrpx__error(&s->err, LRPX_ESHAPE, "decoder %s: its output '%s' has shape %s, "
                               "which does not fit the input '%s' of %s (%s)",
                               a->dec->model->g.path, a->g_name,
                               lrpx__dims_str(out.dims, out.rank, d1, sizeof d1), a->x_name,
                               s->model->g.path,
                               lrpx__dims_str(a->x_dims, a->x_rank, d2, sizeof d2));
        memcpy(a->x_dims, out.dims, sizeof a->x_dims);
        sym = false;
    } else if (o->start.data) {
        const lrpx_tensor_view *st = &o->start;
        int  off  = st->rank == a->x_rank - 1 ? 1 : 0;
        bool fits = st->dtype == LRPX_DTYPE_FLOAT32 && st->rank + off == a->x_rank &&
                    (off || st->dims[0] == 1);
        for (int k = off; fits && k < a->x_rank; k++)
            fits = a->x_dims[k] < 0 || a->x_dims[k] == st->dims[k - off];
        if (!fits)
            return lrpx__error(&s->err, LRPX_EINVAL, "the start point (%s, shape %s) does not "
                               "fit input '%s' (%s)", lrpx_dtype_name(st->dtype),
                               lrpx__dims_str(st->dims, st->rank, d1, sizeof d1), a->x_name,
                               lrpx__dims_str(a->x_dims, a->x_rank, d2, sizeof d2));
        for (int k = off; k < a->x_rank; k++)
            a->x_dims[k] = st->dims[k - off];
        sym = false;
    }
    if (sym)
        return lrpx__error(&s->err, LRPX_ESHAPE, "%s: input '%s' has symbolic dimensions "
                           "besides the batch (%s): give a start point of the size wanted",
                           s->model->g.path, a->x_name,
                           lrpx__dims_str(a->x_dims, a->x_rank, d1, sizeof d1));
    a->nx = 1;
    for (int k = 0; k < a->x_rank; k++)
        a->nx *= a->x_dims[k];
    a->nv = a->dec ? a->nz : a->nx;
    if (a->dec && o->start.data && o->start.n_elems != a->nz)
        return lrpx__error(&s->err, LRPX_EINVAL, "the start code has %lld values, the "
                           "decoder's input '%s' %lld", (long long)o->start.n_elems, a->z_name,
                           (long long)a->nz);
    if (a->dec && o->start.data && o->start.dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(&s->err, LRPX_EINVAL, "the start code is not float32");
    if (o->expert && lrpx_density_dim(o->expert) != a->nx)
        return lrpx__error(&s->err, LRPX_EINVAL, "the expert models %lld values, input '%s' "
                           "has %lld (%s)", (long long)lrpx_density_dim(o->expert), a->x_name,
                           (long long)a->nx, lrpx__dims_str(a->x_dims, a->x_rank, d1, sizeof d1));
    if ((o->blur_sigma > 0.0 || o->jitter > 0) && a->x_rank != 4)
        return lrpx__error(&s->err, LRPX_EINVAL, "blur and jitter need an image input (rank 4), "
                           "input '%s' has rank %d", a->x_name, a->x_rank);
    return LRPX_OK;
}

/* Per-element box of x (lo/hi NULL when unbounded). */
static lrpx_status
box(struct actmax *a)
{
    const struct lrpx_maximize_options *o = a->o;
    if (o->n_box_c == 0 && isnan(o->box_low))
        return LRPX_OK;
    int     caxis = o->nhwc && a->x_rank == 4 ? 3 : 1;
    int64_t C     = a->x_rank > caxis ? a->x_dims[caxis] : 1;
    if (o->n_box_c > 1 && o->n_box_c != C)
        return lrpx__error(&a->s->err, LRPX_EINVAL, "the box has %d channels, input '%s' %lld",
                           o->n_box_c, a->x_name, (long long)C);
    a->lo = lrpx__malloc((size_t)a->nx * sizeof *a->lo);
    a->hi = lrpx__malloc((size_t)a->nx * sizeof *a->hi);
    if (!a->lo || !a->hi)
        return lrpx__error(&a->s->err, LRPX_ENOMEM, "out of memory");
    int64_t inner = 1;
    for (int k = caxis + 1; k < a->x_rank; k++)
        inner *= a->x_dims[k];
    for (int64_t i = 0; i < a->nx; i++) {
        int64_t c = C > 1 ? (i / inner) % C : 0;
        if (o->n_box_c > 0) {
            int k   = o->n_box_c == 1 ? 0 : (int)c;
            a->lo[i] = o->box_low_c[k];
            a->hi[i] = o->box_high_c[k];
        } else {
            a->lo[i] = (float)o->box_low;
            a->hi[i] = (float)o->box_high;
        }
    }
    return LRPX_OK;
}

static void
clip(const struct actmax *a, float *x)
{
    if (!a->lo)
        return;
    for (int64_t i = 0; i < a->nx; i++)
        x[i] = x[i] < a->lo[i] ? a->lo[i] : x[i] > a->hi[i] ? a->hi[i] : x[i];
}

/* The geometry of a rank-4 input: planes of H x W, a plane's element
 * (c, y, x) at base + y * sy + x * sx. */
struct planes {
    int64_t C, H, W, sy, sx;
};
static struct planes
planes_of(const struct actmax *a)
{
    const int64_t *d = a->x_dims;
    if (a->o->nhwc)
        return (struct planes){d[3], d[1], d[2], d[2] * d[3], d[3]};
    return (struct planes){d[1], d[2], d[3], d[3], 1};
}
static int64_t
plane_base(const struct actmax *a, const struct planes *p, int64_t c)
{
    return a->o->nhwc ? c : c * p->H * p->W;
}

/* dst = src rolled by (dy, dx), circularly, in every plane. */
static void
roll(const struct actmax *a, const float *src, float *dst, int64_t dy, int64_t dx)
{
    struct planes p = planes_of(a);
    for (int64_t c = 0; c < p.C; c++) {
        int64_t b = plane_base(a, &p, c);
        for (int64_t y = 0; y < p.H; y++)
            for (int64_t x = 0; x < p.W; x++) {
                int64_t ty = ((y + dy) % p.H + p.H) % p.H, tx = ((x + dx) % p.W + p.W) % p.W;
                dst[b + ty * p.sy + tx * p.sx] = src[b + y * p.sy + x * p.sx];
            }
    }
}

/* Gaussian blur of x in place (separable, borders repeated); tmp: nx. */
static void
blur(const struct actmax *a, float *x, float *tmp)
{
    double sigma = a->o->blur_sigma;
    int    rad   = (int)ceil(3.0 * sigma);
    if (rad < 1)
        return;
    if (rad > 64)
        rad = 64;
    double k[129], sum = 0.0;
    for (int i = -rad; i <= rad; i++)
        sum += k[i + rad] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * rad; i++)
        k[i] /= sum;
    struct planes p = planes_of(a);
    for (int pass = 0; pass < 2; pass++) {
        const float *src = pass ? tmp : x;
        float       *dst = pass ? x : tmp;
        for (int64_t c = 0; c < p.C; c++) {
            int64_t b = plane_base(a, &p, c);
            for (int64_t y = 0; y < p.H; y++)
                for (int64_t xx = 0; xx < p.W; xx++) {
                    double t = 0.0;
                    for (int i = -rad; i <= rad; i++) {
                        int64_t yy = pass ? y + i : y, xi = pass ? xx : xx + i;
                        yy = yy < 0 ? 0 : yy >= p.H ? p.H - 1 : yy;
                        xi = xi < 0 ? 0 : xi >= p.W ? p.W - 1 : xi;
                        t += k[i + rad] * src[b + yy * p.sy + xi * p.sx];
                    }
                    dst[b + y * p.sy + xx * p.sx] = (float)t;
                }
        }
    }
}

/* x = g(v) (decoder) or v. */
static lrpx_status
decode(struct actmax *a)
{
    if (!a->dec) {
        memcpy(a->x, a->v, (size_t)a->nx * sizeof *a->x);
        return LRPX_OK;
    }
    lrpx_status rc = lrpx_session_set_input(a->dec, a->z_name, LRPX_DTYPE_FLOAT32, a->z_rank,
                                            a->z_dims, a->v);
    if (rc == LRPX_OK)
        rc = lrpx_session_run(a->dec);
    lrpx_tensor_view out;
    if (rc == LRPX_OK)
        rc = lrpx_session_value(a->dec, a->g_name, &out);
    if (rc != LRPX_OK)
        return lrpx__error(&a->s->err, rc, "decoder: %s", lrpx_session_errmsg(a->dec));
    if (out.n_elems != a->nx)
        return lrpx__error(&a->s->err, LRPX_ESHAPE, "decoder: output '%s' changed size",
                           a->g_name);
    memcpy(a->x, out.data, (size_t)a->nx * sizeof *a->x);
    return LRPX_OK;
}

/* The classifier at x: the logits' class values into st, and (grad) the
 * gradient of the score with respect to x into a->gx. */
static lrpx_status
classify(struct actmax *a, const float *x, lrpx_maximize_step *st, bool grad)
{
    lrpx_session           *s = a->s;
    struct lrpx_lrp_options lo;
    lrpx_lrp_options_default(&lo);
    lo.output_name  = a->o->output_name;
    lo.skip_softmax = 1;
    lrpx_status rc  = lrpx_session_set_input(s, a->x_name, LRPX_DTYPE_FLOAT32, a->x_rank,
                                             a->x_dims, x);
    if (rc == LRPX_OK)
        rc = lrpx__session_ensure_run_all(s);
    if (rc != LRPX_OK)
        return rc;
    int v = lrpx__exec_seed_value(s, &lo);
    if (v < 0)
        return LRPX_EINVAL;
    const struct lrpx_tensor *t = &s->plan.x.vals[v];
    if (a->n_cls == 0) {
        a->n_cls = t->n_elems;
        if (a->o->target >= a->n_cls)
            return lrpx__error(&s->err, LRPX_EINVAL, "%s: class %lld is out of range (output "
                               "'%s' has %lld classes)", s->model->g.path,
                               (long long)a->o->target, s->model->g.values[v].name,
                               (long long)a->n_cls);
        a->seed = lrpx__malloc((size_t)a->n_cls * sizeof *a->seed);
        if (!a->seed)
            return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory");
    }
    if (t->n_elems != a->n_cls)
        return lrpx__error(&s->err, LRPX_ESHAPE, "the output changed size");
    const float *z  = t->f32;
    int64_t      K  = a->o->target, arg = 0;
    double       mx = z[0];
    for (int64_t k = 1; k < a->n_cls; k++)
        if (z[k] > mx) {
            mx  = z[k];
            arg = k;
        }
    double se = 0.0;
    for (int64_t k = 0; k < a->n_cls; k++)
        se += exp((double)z[k] - mx);
    double lse    = mx + log(se);
    st->logit     = z[K];
    st->log_prob  = (double)z[K] - lse;
    st->predicted = arg;
    if (!grad)
        return LRPX_OK;
    for (int64_t k = 0; k < a->n_cls; k++) {
        double d = k == K ? 1.0 : 0.0;
        if (a->score == LRPX_MAX_SCORE_LOGPROB)
            d -= exp((double)z[k] - lse);
        a->seed[k] = (float)d;
    }
    lo.seed         = LRPX_SEED_TENSOR;
    lo.seed_data    = a->seed;
    lo.seed_n_elems = a->n_cls;
    if ((rc = lrpx_session_gradient(s, &lo)) != LRPX_OK)
        return rc;
    lrpx_tensor_view g;
    if ((rc = lrpx_session_gradient_of(s, a->x_name, &g)) != LRPX_OK)
        return rc;
    memcpy(a->gx, g.data, (size_t)a->nx * sizeof *a->gx);
    return LRPX_OK;
}

/* Evaluate the current v: decode, classify (with the gradient dJ/dv in
 * a->gv when grad), the expert, the penalty. */
static lrpx_status
evaluate(struct actmax *a, lrpx_maximize_step *st, bool grad)
{
    const struct lrpx_maximize_options *o = a->o;
    lrpx_status rc = decode(a);
    if (rc != LRPX_OK)
        return rc;
    int64_t dy = 0, dx = 0;
    if (grad && o->jitter > 0) {
        dy = (int64_t)(lrpx__rng_uniform(&a->rng) * (2 * o->jitter + 1)) - o->jitter;
        dx = (int64_t)(lrpx__rng_uniform(&a->rng) * (2 * o->jitter + 1)) - o->jitter;
    }
    if (dy || dx) {
        /* the gradient at the rolled copy, rolled back; the record at x */
        roll(a, a->x, a->xj, dy, dx);
        if ((rc = classify(a, a->xj, st, true)) != LRPX_OK)
            return rc;
        roll(a, a->gx, a->tmp, -dy, -dx);
        memcpy(a->gx, a->tmp, (size_t)a->nx * sizeof *a->gx);
        lrpx_maximize_step here;
        if ((rc = classify(a, a->x, &here, false)) != LRPX_OK)
            return rc;
        st->logit     = here.logit;
        st->log_prob  = here.log_prob;
        st->predicted = here.predicted;
    } else if ((rc = classify(a, a->x, st, grad)) != LRPX_OK) {
        return rc;
    }
    double score = a->score == LRPX_MAX_SCORE_LOGPROB ? st->log_prob : st->logit;
    st->expert_log_p = NAN;
    double ej        = 0.0;
    if (o->expert) {
        rc = lrpx_density_log_prob(o->expert, a->x, 1, &st->expert_log_p, grad ? a->tmp : NULL);
        if (rc != LRPX_OK)
            return lrpx__error(&a->s->err, rc, "out of memory for the expert");
        ej = o->expert_weight * st->expert_log_p;
        if (grad)
            for (int64_t i = 0; i < a->nx; i++)
                a->gx[i] += (float)(o->expert_weight * a->tmp[i]);
    }
    double pen = 0.0;
    for (int64_t i = 0; i < a->nv; i++) {
        double d = (double)a->v[i] - a->v0[i];
        pen += d * d;
    }
    st->penalty   = o->lambda * pen;
    st->objective = score + ej - st->penalty;
    if (!grad)
        return LRPX_OK;
    if (a->dec) {
        /* dJ/dz = J_g^T dJ/dx: the decoder's gradient pass seeded with gx */
        struct lrpx_lrp_options lo;
        lrpx_lrp_options_default(&lo);
        lo.output_name  = a->g_name;
        lo.skip_softmax = 0;
        lo.seed         = LRPX_SEED_TENSOR;
        lo.seed_data    = a->gx;
        lo.seed_n_elems = a->nx;
        lrpx_tensor_view g;
        rc = lrpx_session_gradient(a->dec, &lo);
        if (rc == LRPX_OK)
            rc = lrpx_session_gradient_of(a->dec, a->z_name, &g);
        if (rc != LRPX_OK)
            return lrpx__error(&a->s->err, rc, "decoder: %s", lrpx_session_errmsg(a->dec));
        memcpy(a->gv, g.data, (size_t)a->nz * sizeof *a->gv);
    } else {
        memcpy(a->gv, a->gx, (size_t)a->nx * sizeof *a->gv);
    }
    for (int64_t i = 0; i < a->nv; i++)
        a->gv[i] -= (float)(2.0 * o->lambda * ((double)a->v[i] - a->v0[i]));
    return LRPX_OK;
}

/* v0 and the first point v. */
static void
start(struct actmax *a)
{
    const struct lrpx_maximize_options *o = a->o;
    for (int64_t i = 0; i < a->nv; i++) {
        double base = 0.0, width = 1.0;
        if (o->start.data)
            base = ((const float *)o->start.data)[i];
        else if (!isnan(o->start_value))
            base = o->start_value;
        else if (!a->dec && a->lo)
            base = 0.5 * ((double)a->lo[i] + a->hi[i]);
        if (!a->dec && a->lo)
            width = (double)a->hi[i] - a->lo[i];
        a->v0[i] = (float)base;
        a->v[i]  = (float)(base + (o->init_sigma > 0.0 ? o->init_sigma * width * normal(&a->rng)
                                                       : 0.0));
    }
    if (!a->dec)
        clip(a, a->v);
}

static lrpx_status
run(struct actmax *a, lrpx_maximize_result *r)
{
    const struct lrpx_maximize_options *o = a->o;
    lrpx_status rc;
    start(a);
    lrpx__progress_begin(a->s, o->iters);
    for (int it = 0; it <= o->iters; it++) {
        bool last = it == o->iters;
        if ((rc = evaluate(a, &r->steps[it], !last)) != LRPX_OK)
            return rc;
        r->n_steps = it + 1;
        if (last)
            break;
        for (int64_t i = 0; i < a->nv; i++)
            a->v[i] += (float)(o->step * a->gv[i]);
        if (!a->dec) {
            if (o->blur_sigma > 0.0 && (it + 1) % o->blur_every == 0)
                blur(a, a->v, a->tmp);
            clip(a, a->v);
        }
        lrpx__progress_step(a->s);
    }
    memcpy(r->x, a->x, (size_t)a->nx * sizeof *r->x);
    if (a->dec)
        memcpy(r->z, a->v, (size_t)a->nz * sizeof *r->z);
    return LRPX_OK;
}

lrpx_status
lrpx_session_maximize(lrpx_session *s, const struct lrpx_maximize_options *o,
                      lrpx_maximize_result **out)
{
    if (out)
        *out = NULL;
    if (!s)
        return LRPX_EINVAL;
    if (!o || !out)
        return lrpx__error(&s->err, LRPX_EINVAL, "lrpx_session_maximize: NULL %s",
                           !o ? "options" : "out");
    lrpx_status rc = check_options(s, o);
    if (rc != LRPX_OK)
        return rc;
    struct actmax a = {.s = s, .dec = o->decoder, .o = o, .err = &s->err};
    a.score         = o->score != LRPX_MAX_SCORE_AUTO ? o->score
                    : o->expert ? LRPX_MAX_SCORE_LOGPROB : LRPX_MAX_SCORE_LOGIT;
    lrpx__rng_init(&a.rng, o->seed, UINT64_MAX - 2, 0);   /* the start and the jitter */
    lrpx_maximize_result *r = NULL;
    if ((rc = shapes(&a)) != LRPX_OK || (rc = box(&a)) != LRPX_OK)
        goto done;
    size_t fx = (size_t)a.nx * sizeof(float), fv = (size_t)a.nv * sizeof(float);
    a.v       = lrpx__malloc(fv);
    a.v0      = lrpx__malloc(fv);
    a.gv      = lrpx__malloc(fv);
    a.x       = lrpx__malloc(fx);
    a.xj      = lrpx__malloc(fx);
    a.gx      = lrpx__malloc(fx);
    a.tmp     = lrpx__malloc(fx);
    r         = lrpx__calloc(1, sizeof *r);
    if (r) {
        r->steps = lrpx__calloc((size_t)o->iters + 1, sizeof *r->steps);
        r->x     = lrpx__malloc(fx);
        r->z     = a.dec ? lrpx__malloc(fv) : NULL;
    }
    if (!a.v || !a.v0 || !a.gv || !a.x || !a.xj || !a.gx || !a.tmp || !r || !r->steps ||
        !r->x || (a.dec && !r->z)) {
        rc = lrpx__error(&s->err, LRPX_ENOMEM, "out of memory for activation maximisation");
        goto done;
    }
    if ((rc = run(&a, r)) != LRPX_OK)
        goto done;
    r->x_view = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = a.x_rank,
                                   .n_elems = a.nx, .data = r->x};
    memcpy(r->x_view.dims, a.x_dims, sizeof a.x_dims);
    if (a.dec) {
        r->z_view = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = a.z_rank,
                                       .n_elems = a.nz, .data = r->z};
        memcpy(r->z_view.dims, a.z_dims, sizeof a.z_dims);
    }
    *out = r;
    r    = NULL;
done:
    lrpx_maximize_result_free(r);
    lrpx__free(a.v);
    lrpx__free(a.v0);
    lrpx__free(a.gv);
    lrpx__free(a.x);
    lrpx__free(a.xj);
    lrpx__free(a.gx);
    lrpx__free(a.tmp);
    lrpx__free(a.lo);
    lrpx__free(a.hi);
    lrpx__free(a.seed);
    return rc;
}
