/* Density models of real examples, the "experts" of activation
 * maximisation (docs/interpretation.md): a Gaussian, or a mixture of K
 * Gaussians fitted by EM.
 *
 * Both live in the space of the data's principal axes. The data's mean mu
 * and its covariance's top `rank` eigenvectors U (D x r) are found first;
 * a point x has coordinates y = U^T (x - mu) on them and a residual
 * x - mu - U y off them. The model is
 *
 *     log p(x) = log sum_k pi_k N(y; m_k, S_k)                (r dimensions)
 *              + log N(residual; 0, s2 I)                      (D - r)
 *
 * with s2 the mean variance the r axes leave out. With r = D (small
 * inputs) there is no residual and, U being a rotation, this is the
 * ordinary full-covariance model of x. With r < D it is "low rank plus
 * diagonal": for one Gaussian, covariance U diag(lambda) U^T +
 * s2 (I - U U^T), probabilistic PCA (Tipping & Bishop 1999). reg is added
 * to every variance, as scikit-learn's reg_covar.
 *
 * The eigenvectors come from LAPACK's dsyevr (through LAPACKE, as in
 * SpRAy): of the D x D covariance when D <= N, else of the N x N Gram
 * matrix of the centred data (same nonzero eigenvalues, U = Xc^T V /
 * sqrt(N lambda)). EM follows scikit-learn's GaussianMixture (k-means
 * initialisation, here the best of 10 seeded k-means++ starts with
 * Lloyd's iterations; stop when the mean log-likelihood gains less than
 * tol).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "lrpx_internal.h"

#define DENSITY_MAX_ELEMS   ((int64_t)1 << 26)   /* N * D doubles held at once   */
#define DENSITY_MAX_EIG     8192                 /* min(N, D): the eigenproblem  */
#define DENSITY_FULL_DIM    256                  /* D up to this: rank D         */
#define DENSITY_LOW_RANK    64                   /* otherwise, by default        */

struct comp {
    double  weight, log_weight;
    double *mean;       /* r                                   */
    double *chol;       /* r x r, lower: S_k = L L^T           */
    double  log_det;    /* log det S_k                         */
};

struct lrpx_density {
    lrpx_density_kind kind;
    int64_t           dim, n_samples;
    int               rank, n_comp, n_iter, converged;
    double           *mu;            /* D                                     */
    double           *axes;          /* D x r, row-major: axes[i * r + j]     */
    double           *lambda;        /* r eigenvalues (descending)            */
    double            s2;            /* residual variance (r < D)             */
    double            mean_ll;       /* mean log-likelihood of the data       */
    struct comp      *comp;
};

void
lrpx_density_options_default(struct lrpx_density_options *o)
{
    memset(o, 0, sizeof *o);
    o->kind       = LRPX_DENSITY_GAUSSIAN;
    o->components = 10;
    o->rank       = 0;
    o->reg        = 1e-6;
    o->max_iter   = 100;
    o->tol        = 1e-3;
    o->seed       = 0;
}

void
lrpx_density_free(lrpx_density *d)
{
    if (!d)
        return;
    for (int k = 0; d->comp && k < d->n_comp; k++) {
        lrpx__free(d->comp[k].mean);
        lrpx__free(d->comp[k].chol);
    }
    lrpx__free(d->comp);
    lrpx__free(d->mu);
    lrpx__free(d->axes);
    lrpx__free(d->lambda);
    lrpx__free(d);
}

/* ---- small dense algebra (r x r, double) ---- */

/* Cholesky of the r x r matrix a (lower, in place). false: not positive
 * definite. */
static bool
cholesky(double *a, int r)
{
    for (int j = 0; j < r; j++) {
        double s = a[j * r + j];
        for (int k = 0; k < j; k++)
            s -= a[j * r + k] * a[j * r + k];
        if (!(s > 0.0))
            return false;
        s            = sqrt(s);
        a[j * r + j] = s;
        for (int i = j + 1; i < r; i++) {
            double t = a[i * r + j];
            for (int k = 0; k < j; k++)
                t -= a[i * r + k] * a[j * r + k];
            a[i * r + j] = t / s;
        }
        for (int k = j + 1; k < r; k++)
            a[j * r + k] = 0.0;
    }
    return true;
}

/* Solve L w = v (forward), in place. */
static void
solve_lower(const double *l, int r, double *v)
{
    for (int i = 0; i < r; i++) {
        double t = v[i];
        for (int k = 0; k < i; k++)
            t -= l[i * r + k] * v[k];
        v[i] = t / l[i * r + i];
    }
}

/* Solve L^T w = v (backward), in place. */
static void
solve_upper_t(const double *l, int r, double *v)
{
    for (int i = r - 1; i >= 0; i--) {
        double t = v[i];
        for (int k = i + 1; k < r; k++)
            t -= l[k * r + i] * v[k];
        v[i] = t / l[i * r + i];
    }
}

/* log N(y; m, L L^T) into the return value; when sol is not NULL it
 * receives S^-1 (y - m). w: r doubles of scratch. */
static double
comp_log_pdf(const struct comp *c, int r, const double *y, double *w, double *sol)
{
    for (int i = 0; i < r; i++)
        w[i] = y[i] - c->mean[i];
    solve_lower(c->chol, r, w);
    double q = 0.0;
    for (int i = 0; i < r; i++)
        q += w[i] * w[i];
    if (sol) {
        memcpy(sol, w, (size_t)r * sizeof *sol);
        solve_upper_t(c->chol, r, sol);
    }
    return -0.5 * (q + c->log_det + r * log(2.0 * M_PI));
}

static double
log_sum_exp(const double *v, int n)
{
    double mx = -INFINITY, s = 0.0;
    for (int i = 0; i < n; i++)
        mx = v[i] > mx ? v[i] : mx;
    if (!isfinite(mx))
        return mx;
    for (int i = 0; i < n; i++)
        s += exp(v[i] - mx);
    return mx + log(s);
}

/* ---- fitting ---- */

/* Principal axes of the centred data xc (n x D): d->axes, d->lambda and
 * d->rank (lowered when eigenvalues vanish), given the wanted rank r. */
static lrpx_status
principal_axes(lrpx_density *d, const double *xc, int64_t n, int r, struct lrpx_err *err)
{
    int64_t D    = d->dim;
    bool    gram = n < D;
    int     m    = (int)(gram ? n : D);
    double *a    = lrpx__malloc((size_t)m * (size_t)m * sizeof *a);
    double *w    = lrpx__malloc((size_t)m * sizeof *w);
    double *z    = lrpx__malloc((size_t)m * (size_t)r * sizeof *z);
    int    *sup  = lrpx__malloc((size_t)(2 * r) * sizeof *sup);
    lrpx_status rc = LRPX_OK;
    if (!a || !w || !z || !sup) {
        rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for the covariance (%d x %d)", m, m);
        goto done;
    }
    /* column-major for LAPACK; the matrices are symmetric, so this is the
     * row-major product too (upper triangle filled) */
    if (gram)
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, m, (int)D, 1.0 / (double)n, xc,
                    (int)D, 0.0, a, m);
    else
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, m, (int)n, 1.0 / (double)n, xc,
                    (int)D, 0.0, a, m);
    lapack_int found = 0;
    lapack_int info  = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'I', 'U', m, a, m, 0.0, 0.0,
                                      m - r + 1, m, 0.0, &found, w, z, m, sup);
    if (info == LAPACK_WORK_MEMORY_ERROR) {
        rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for the eigensolver");
        goto done;
    }
    if (info != 0 || found != r) {
        rc = lrpx__error(err, LRPX_EINVAL, "the eigensolver did not converge on the "
                         "covariance (LAPACK dsyevr info %d, %d of %d eigenvalues)", (int)info, (int)found, r);
        goto done;
    }
    /* descending order; drop axes whose variance vanishes (data of lower
     * rank than asked) */
    double top  = w[r - 1] > 0.0 ? w[r - 1] : 0.0;
    int    kept = 0;
    for (int j = 0; j < r; j++) {
        double lam = w[r - 1 - j];
        if (gram && !(lam > top * 1e-12 && lam > 0.0))
            break;
        kept++;
    }
    if (kept < 1) {
        rc = lrpx__error(err, LRPX_EINVAL, "the examples do not vary (all %lld are the same)",
                         (long long)n);
        goto done;
    }
    d->rank   = kept;
    d->axes   = lrpx__malloc((size_t)D * (size_t)kept * sizeof *d->axes);
    d->lambda = lrpx__malloc((size_t)kept * sizeof *d->lambda);
    if (!d->axes || !d->lambda) {
        rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for the principal axes");
        goto done;
    }
    for (int j = 0; j < kept; j++) {
        int           src = r - 1 - j;
        const double *v   = z + (size_t)src * (size_t)m;
        double        lam = w[src];
        d->lambda[j]      = lam > 0.0 ? lam : 0.0;
        if (!gram) {
            for (int64_t i = 0; i < D; i++)
                d->axes[i * kept + j] = v[i];
            continue;
        }
        /* u = Xc^T v / sqrt(n lambda) */
        double sc = 1.0 / sqrt((double)n * lam);
        for (int64_t i = 0; i < D; i++)
            d->axes[i * kept + j] = 0.0;
        for (int64_t s = 0; s < n; s++) {
            double c = v[s] * sc;
            for (int64_t i = 0; i < D; i++)
                d->axes[i * kept + j] += c * xc[s * D + i];
        }
    }
done:
    lrpx__free(a);
    lrpx__free(w);
    lrpx__free(z);
    lrpx__free(sup);
    return rc;
}

static lrpx_status
comp_alloc(lrpx_density *d, int K, struct lrpx_err *err)
{
    d->n_comp = K;
    d->comp   = lrpx__calloc((size_t)K, sizeof *d->comp);
    if (!d->comp)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for %d components", K);
    for (int k = 0; k < K; k++) {
        d->comp[k].mean = lrpx__calloc((size_t)d->rank, sizeof(double));
        d->comp[k].chol = lrpx__calloc((size_t)d->rank * (size_t)d->rank, sizeof(double));
        if (!d->comp[k].mean || !d->comp[k].chol)
            return lrpx__error(err, LRPX_ENOMEM, "out of memory for %d components", K);
    }
    return LRPX_OK;
}

/* The M step from responsibilities resp (n x K) on coordinates y (n x r);
 * also the first fit from a hard assignment. */
static lrpx_status
m_step(lrpx_density *d, const double *y, int64_t n, const double *resp, double reg,
       struct lrpx_err *err)
{
    int r = d->rank, K = d->n_comp;
    for (int k = 0; k < K; k++) {
        struct comp *c  = &d->comp[k];
        double       nk = 10.0 * DBL_EPSILON;
        for (int64_t s = 0; s < n; s++)
            nk += resp[s * K + k];
        for (int i = 0; i < r; i++) {
            double t = 0.0;
            for (int64_t s = 0; s < n; s++)
                t += resp[s * K + k] * y[s * r + i];
            c->mean[i] = t / nk;
        }
        double *cov = c->chol;
        memset(cov, 0, (size_t)r * (size_t)r * sizeof *cov);
        for (int64_t s = 0; s < n; s++) {
            double g = resp[s * K + k];
            if (g == 0.0)
                continue;
            const double *ys = y + s * r;
            for (int i = 0; i < r; i++) {
                double di = g * (ys[i] - c->mean[i]);
                for (int j = 0; j <= i; j++)
                    cov[i * r + j] += di * (ys[j] - c->mean[j]);
            }
        }
        for (int i = 0; i < r; i++) {
            for (int j = 0; j <= i; j++)
                cov[i * r + j] /= nk;
            cov[i * r + i] += reg;
        }
        if (!cholesky(cov, r))
            return lrpx__error(err, LRPX_EINVAL, "component %d's covariance is not positive "
                               "definite: raise reg (now %g)", k, reg);
        c->log_det = 0.0;
        for (int i = 0; i < r; i++)
            c->log_det += 2.0 * log(cov[i * r + i]);
        c->weight     = nk / (double)n;
        c->log_weight = log(c->weight);
    }
    return LRPX_OK;
}

/* E step: resp (n x K) and the mean log-likelihood over y (r dims). */
static double
e_step(const lrpx_density *d, const double *y, int64_t n, double *resp, double *scratch)
{
    int    r = d->rank, K = d->n_comp;
    double total = 0.0;
    for (int64_t s = 0; s < n; s++) {
        double *lr = resp + s * K;
        for (int k = 0; k < K; k++)
            lr[k] = d->comp[k].log_weight + comp_log_pdf(&d->comp[k], r, y + s * r, scratch, NULL);
        double lse = log_sum_exp(lr, K);
        total     += lse;
        for (int k = 0; k < K; k++)
            lr[k] = exp(lr[k] - lse);
    }
    return total / (double)n;
}

#define KMEANS_RESTARTS 10

/* One k-means++ seeding (from rng) and Lloyd's iterations on y: the
 * labels; returns the inertia (sum of squared distances to the centres).
 * dist: n doubles of scratch. */
static double
kmeans_once(const double *y, int64_t n, int r, int K, struct lrpx_rng *rng_, double *centre,
            double *dist, int *label)
{
    struct lrpx_rng rng = *rng_;
    int64_t first = (int64_t)(lrpx__rng_uniform(&rng) * (double)n);
    memcpy(centre, y + first * r, (size_t)r * sizeof *centre);
    for (int k = 1; k < K; k++) {
        double total = 0.0;
        for (int64_t s = 0; s < n; s++) {
            double best = INFINITY;
            for (int j = 0; j < k; j++) {
                double q = 0.0;
                for (int i = 0; i < r; i++) {
                    double t = y[s * r + i] - centre[j * r + i];
                    q += t * t;
                }
                best = q < best ? q : best;
            }
            dist[s] = best;
            total  += best;
        }
        double  u    = lrpx__rng_uniform(&rng) * total;
        int64_t pick = n - 1;
        for (int64_t s = 0; s < n; s++) {
            u -= dist[s];
            if (u < 0.0) {
                pick = s;
                break;
            }
        }
        memcpy(centre + k * r, y + pick * r, (size_t)r * sizeof *centre);
    }
    for (int it = 0; it < 300; it++) {
        bool moved = false;
        for (int64_t s = 0; s < n; s++) {
            double best = INFINITY;
            int    arg  = 0;
            for (int j = 0; j < K; j++) {
                double q = 0.0;
                for (int i = 0; i < r; i++) {
                    double t = y[s * r + i] - centre[j * r + i];
                    q += t * t;
                }
                if (q < best) {
                    best = q;
                    arg  = j;
                }
            }
            if (it == 0 || label[s] != arg)
                moved = true;
            label[s] = arg;
        }
        if (!moved)
            break;
        for (int j = 0; j < K; j++) {
            int64_t cnt = 0;
            double *c   = centre + j * r;
            for (int64_t s = 0; s < n; s++)
                cnt += label[s] == j;
            if (cnt == 0)
                continue;   /* an empty cluster keeps its centre */
            for (int i = 0; i < r; i++)
                c[i] = 0.0;
            for (int64_t s = 0; s < n; s++)
                if (label[s] == j)
                    for (int i = 0; i < r; i++)
                        c[i] += y[s * r + i];
            for (int i = 0; i < r; i++)
                c[i] /= (double)cnt;
        }
    }
    double inertia = 0.0;
    for (int64_t s = 0; s < n; s++)
        for (int i = 0; i < r; i++) {
            double t = y[s * r + i] - centre[label[s] * r + i];
            inertia += t * t;
        }
    return inertia;
}

/* k-means with KMEANS_RESTARTS seeded k-means++ starts, the one of least
 * inertia kept (one start can end in a poor local optimum, and EM started
 * from it in another): a hard assignment into resp (one-hot rows). dist: n
 * doubles, label: n ints of scratch. */
static void
kmeans(const double *y, int64_t n, int r, int K, uint64_t seed, double *centre, double *dist,
       int *label, double *resp)
{
    int   *best    = lrpx__malloc((size_t)n * sizeof *best);
    double best_in = INFINITY;
    for (int t = 0; t < (best ? KMEANS_RESTARTS : 1); t++) {
        struct lrpx_rng rng;
        lrpx__rng_init(&rng, seed, UINT64_MAX - 3, (uint64_t)t);   /* k-means++ */
        double in = kmeans_once(y, n, r, K, &rng, centre, dist, label);
        if (best && in < best_in) {
            best_in = in;
            memcpy(best, label, (size_t)n * sizeof *best);
        }
    }
    const int *lab = best ? best : label;
    for (int64_t s = 0; s < n; s++)
        for (int j = 0; j < K; j++)
            resp[s * K + j] = j == lab[s] ? 1.0 : 0.0;
    lrpx__free(best);
}

static lrpx_status
check_options(const lrpx_tensor_view *data, const struct lrpx_density_options *o,
              struct lrpx_err *err)
{
    if (!data || !data->data)
        return lrpx__error(err, LRPX_EINVAL, "no examples to fit the density on");
    if (data->dtype != LRPX_DTYPE_FLOAT32)
        return lrpx__error(err, LRPX_EINVAL, "the examples are %s, expected float32",
                           lrpx_dtype_name(data->dtype));
    if (data->rank < 2 || data->dims[0] < 2)
        return lrpx__error(err, LRPX_EINVAL, "the examples must be a stack of at least 2 "
                           "(first axis), got rank %d", data->rank);
    if ((unsigned)o->kind >= LRPX_DENSITY_COUNT)
        return lrpx__error(err, LRPX_EINVAL, "unknown density kind %d", (int)o->kind);
    if (o->kind == LRPX_DENSITY_GMM && (o->components < 1 || o->components > 1000))
        return lrpx__error(err, LRPX_EINVAL, "components %d is out of range (1..1000)",
                           o->components);
    if (o->kind == LRPX_DENSITY_GMM && o->components > data->dims[0])
        return lrpx__error(err, LRPX_EINVAL, "%d components need at least as many examples, "
                           "got %lld", o->components, (long long)data->dims[0]);
    if (o->rank < 0)
        return lrpx__error(err, LRPX_EINVAL, "rank %d is negative", o->rank);
    if (!(o->reg >= 0.0) || !isfinite(o->reg))
        return lrpx__error(err, LRPX_EINVAL, "reg must be a finite number >= 0");
    if (o->max_iter < 1 || o->max_iter > 100000)
        return lrpx__error(err, LRPX_EINVAL, "max_iter %d is out of range (1..100000)",
                           o->max_iter);
    if (!(o->tol >= 0.0) || !isfinite(o->tol))
        return lrpx__error(err, LRPX_EINVAL, "tol must be a finite number >= 0");
    int64_t n = data->dims[0], D = data->n_elems / n;
    if (D < 1 || n * D != data->n_elems)
        return lrpx__error(err, LRPX_EINVAL, "the examples have no values");
    if (n > DENSITY_MAX_ELEMS / D || (n < D ? n : D) > DENSITY_MAX_EIG)
        return lrpx__error(err, LRPX_ELIMIT, "%lld examples of %lld values are too many to fit "
                           "(at most %lld values in all, min(examples, values) <= %d)",
                           (long long)n, (long long)D, (long long)DENSITY_MAX_ELEMS,
                           DENSITY_MAX_EIG);
    for (int64_t i = 0; i < data->n_elems; i++)
        if (!isfinite(((const float *)data->data)[i]))
            return lrpx__error(err, LRPX_EINVAL, "example %lld holds a value that is not finite",
                               (long long)(i / D));
    return LRPX_OK;
}

static lrpx_status
fit(lrpx_density *d, const float *x, int64_t n, const struct lrpx_density_options *o,
    struct lrpx_err *err)
{
    int64_t D  = d->dim;
    double *xc = lrpx__malloc((size_t)(n * D) * sizeof *xc);
    double *y = NULL, *resp = NULL, *centre = NULL, *scratch = NULL, *dist = NULL;
    int    *label = NULL;
    d->mu      = lrpx__calloc((size_t)D, sizeof *d->mu);
    if (!xc || !d->mu) {
        lrpx__free(xc);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for %lld examples",
                           (long long)n);
    }
    for (int64_t s = 0; s < n; s++)
        for (int64_t i = 0; i < D; i++)
            d->mu[i] += x[s * D + i];
    for (int64_t i = 0; i < D; i++)
        d->mu[i] /= (double)n;
    double trace = 0.0;
    for (int64_t s = 0; s < n; s++)
        for (int64_t i = 0; i < D; i++) {
            double t        = x[s * D + i] - d->mu[i];
            xc[s * D + i]   = t;
            trace          += t * t;
        }
    trace /= (double)n;

    int64_t m = n < D ? n : D;
    int     r = o->rank ? o->rank : D <= DENSITY_FULL_DIM ? (int)D : DENSITY_LOW_RANK;
    if (r > m)
        r = (int)m;
    if (r > D)
        r = (int)D;
    lrpx_status rc = principal_axes(d, xc, n, r, err);
    if (rc != LRPX_OK)
        goto done;
    r = d->rank;
    if (r < D) {
        double kept = 0.0;
        for (int j = 0; j < r; j++)
            kept += d->lambda[j];
        d->s2 = (trace - kept) / (double)(D - r);
        d->s2 = (d->s2 > 0.0 ? d->s2 : 0.0) + o->reg;
        if (!(d->s2 > 0.0)) {
            rc = lrpx__error(err, LRPX_EINVAL, "the examples span only %d of %lld dimensions: "
                             "the residual variance is 0 (set reg > 0)", r, (long long)D);
            goto done;
        }
    }
    /* coordinates on the axes */
    y = lrpx__malloc((size_t)(n * r) * sizeof *y);
    int K = o->kind == LRPX_DENSITY_GMM ? o->components : 1;
    resp    = lrpx__malloc((size_t)(n * K) * sizeof *resp);
    centre  = lrpx__malloc((size_t)(K * r) * sizeof *centre);
    scratch = lrpx__malloc((size_t)r * sizeof *scratch);
    dist    = lrpx__malloc((size_t)n * sizeof *dist);
    label   = lrpx__malloc((size_t)n * sizeof *label);
    if (!y || !resp || !centre || !scratch || !dist || !label) {
        rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for the fit");
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, r, (int)D, 1.0, xc, (int)D,
                d->axes, r, 0.0, y, r);
    if ((rc = comp_alloc(d, K, err)) != LRPX_OK)
        goto done;
    if (K == 1) {
        /* one Gaussian: on its own axes the covariance is diag(lambda) */
        struct comp *c = &d->comp[0];
        c->weight      = 1.0;
        c->log_weight  = 0.0;
        c->log_det     = 0.0;
        for (int i = 0; i < r; i++) {
            double v           = d->lambda[i] + o->reg;
            if (!(v > 0.0)) {
                rc = lrpx__error(err, LRPX_EINVAL, "the examples do not vary along axis %d: "
                                 "set reg > 0", i);
                goto done;
            }
            c->chol[i * r + i] = sqrt(v);
            c->log_det        += log(v);
        }
        d->n_iter    = 0;
        d->converged = 1;
        d->mean_ll   = e_step(d, y, n, resp, scratch);
    } else {
        kmeans(y, n, r, K, o->seed, centre, dist, label, resp);
        if ((rc = m_step(d, y, n, resp, o->reg, err)) != LRPX_OK)
            goto done;
        double prev = -INFINITY;
        for (d->n_iter = 1; d->n_iter <= o->max_iter; d->n_iter++) {
            double ll = e_step(d, y, n, resp, scratch);
            if ((rc = m_step(d, y, n, resp, o->reg, err)) != LRPX_OK)
                goto done;
            if (fabs(ll - prev) < o->tol) {
                d->converged = 1;
                break;
            }
            prev = ll;
        }
        if (d->n_iter > o->max_iter)
            d->n_iter = o->max_iter;
        d->mean_ll = e_step(d, y, n, resp, scratch);
    }
    if (r < D) {
        /* the residual's share: -1/2 (|xc|^2 - |y|^2) / s2 - (D - r)/2 log(2 pi s2) */
        double res = 0.0;
        for (int64_t s = 0; s < n; s++) {
            double a = 0.0, b = 0.0;
            for (int64_t i = 0; i < D; i++)
                a += xc[s * D + i] * xc[s * D + i];
            for (int i = 0; i < r; i++)
                b += y[s * r + i] * y[s * r + i];
            res += a - b;
        }
        d->mean_ll += -0.5 * res / (double)n / d->s2 -
                      0.5 * (double)(D - r) * log(2.0 * M_PI * d->s2);
    }
done:
    lrpx__free(xc);
    lrpx__free(y);
    lrpx__free(resp);
    lrpx__free(centre);
    lrpx__free(scratch);
    lrpx__free(dist);
    lrpx__free(label);
    return rc;
}

lrpx_status
lrpx_density_fit(const lrpx_tensor_view *data, const struct lrpx_density_options *opts,
                 lrpx_density **out, char *errbuf, size_t errlen)
{
    struct lrpx_err              err = {0};
    struct lrpx_density_options def;
    if (out)
        *out = NULL;
    if (!opts) {
        lrpx_density_options_default(&def);
        opts = &def;
    }
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL out"), &err, errbuf,
                                 errlen);
    lrpx_status rc = check_options(data, opts, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    lrpx_density *d = lrpx__calloc(1, sizeof *d);
    if (!d)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ENOMEM, "out of memory"), &err, errbuf,
                                 errlen);
    d->kind      = opts->kind;
    d->n_samples = data->dims[0];
    d->dim       = data->n_elems / d->n_samples;
    rc           = fit(d, data->data, d->n_samples, opts, &err);
    if (rc != LRPX_OK) {
        lrpx_density_free(d);
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    }
    *out = d;
    return lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);
}

int64_t
lrpx_density_dim(const lrpx_density *d)
{
    return d ? d->dim : 0;
}

lrpx_status
lrpx_density_get_info(const lrpx_density *d, lrpx_density_info *out)
{
    if (!d || !out)
        return LRPX_EINVAL;
    memset(out, 0, sizeof *out);
    out->kind         = d->kind;
    out->dim          = d->dim;
    out->n_samples    = d->n_samples;
    out->components   = d->n_comp;
    out->rank         = d->rank;
    out->n_iter       = d->n_iter;
    out->converged    = d->converged;
    out->resid_var    = d->rank < d->dim ? d->s2 : NAN;
    out->mean_log_lik = d->mean_ll;
    return LRPX_OK;
}

lrpx_status
lrpx_density_component(const lrpx_density *d, int k, double *weight, double *mean, double *cov)
{
    if (!d || k < 0 || k >= d->n_comp)
        return LRPX_EINVAL;
    const struct comp *c = &d->comp[k];
    int64_t            D = d->dim;
    int                r = d->rank;
    if (weight)
        *weight = c->weight;
    if (mean)
        for (int64_t i = 0; i < D; i++) {
            double t = d->mu[i];
            for (int j = 0; j < r; j++)
                t += d->axes[i * r + j] * c->mean[j];
            mean[i] = t;
        }
    if (!cov)
        return LRPX_OK;
    /* U S U^T + s2 (I - U U^T), S = L L^T */
    double *us = lrpx__malloc((size_t)(D * r) * sizeof *us);
    double *s  = lrpx__malloc((size_t)r * (size_t)r * sizeof *s);
    if (!us || !s) {
        lrpx__free(us);
        lrpx__free(s);
        return LRPX_ENOMEM;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, r, r, 1.0, c->chol, r, c->chol, r,
                0.0, s, r);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, r, r, 1.0, d->axes, r, s, r,
                0.0, us, r);
    double s2 = d->rank < D ? d->s2 : 0.0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, r, 1.0, us, r, d->axes,
                r, 0.0, cov, (int)D);
    if (s2 != 0.0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, r, -s2, d->axes, r,
                    d->axes, r, 1.0, cov, (int)D);
        for (int64_t i = 0; i < D; i++)
            cov[i * D + i] += s2;
    }
    lrpx__free(us);
    lrpx__free(s);
    return LRPX_OK;
}

lrpx_status
lrpx_density_log_prob(const lrpx_density *d, const float *x, int64_t n, double *logp,
                      float *grad)
{
    if (!d || !x || n < 0 || (!logp && !grad))
        return LRPX_EINVAL;
    int64_t D = d->dim;
    int     r = d->rank, K = d->n_comp;
    size_t  need = (size_t)D + (size_t)r * (size_t)(3 + K) + (size_t)K;
    double *buf  = lrpx__malloc(need * sizeof *buf);
    if (!buf)
        return LRPX_ENOMEM;
    double *xc = buf, *y = xc + D, *w = y + r, *gy = w + r, *lk = gy + r,
           *sols = lk + K;   /* sols: K x r */
    for (int64_t s = 0; s < n; s++) {
        const float *xs = x + s * D;
        for (int64_t i = 0; i < D; i++)
            xc[i] = (double)xs[i] - d->mu[i];
        for (int j = 0; j < r; j++)
            y[j] = 0.0;
        for (int64_t i = 0; i < D; i++) {
            const double *u = d->axes + i * r;
            for (int j = 0; j < r; j++)
                y[j] += u[j] * xc[i];
        }
        for (int k = 0; k < K; k++)
            lk[k] = d->comp[k].log_weight +
                    comp_log_pdf(&d->comp[k], r, y, w, grad ? sols + (size_t)k * r : NULL);
        double lp  = log_sum_exp(lk, K);
        double res = 0.0;
        if (r < D) {
            double a = 0.0, b = 0.0;
            for (int64_t i = 0; i < D; i++)
                a += xc[i] * xc[i];
            for (int j = 0; j < r; j++)
                b += y[j] * y[j];
            res = a - b;
            lp += -0.5 * res / d->s2 - 0.5 * (double)(D - r) * log(2.0 * M_PI * d->s2);
        }
        if (logp)
            logp[s] = lp;
        if (!grad)
            continue;
        /* d/dy: -sum_k gamma_k S_k^-1 (y - m_k) */
        double lse = log_sum_exp(lk, K);
        for (int j = 0; j < r; j++)
            gy[j] = 0.0;
        for (int k = 0; k < K; k++) {
            double g = exp(lk[k] - lse);
            for (int j = 0; j < r; j++)
                gy[j] -= g * sols[(size_t)k * r + j];
        }
        /* d/dx = U gy - (xc - U y) / s2 */
        float *gs = grad + s * D;
        for (int64_t i = 0; i < D; i++) {
            const double *u  = d->axes + i * r;
            double        uy = 0.0, ug = 0.0;
            for (int j = 0; j < r; j++) {
                uy += u[j] * y[j];
                ug += u[j] * gy[j];
            }
            double v = ug;
            if (r < D)
                v -= (xc[i] - uy) / d->s2;
            gs[i] = (float)v;
        }
    }
    lrpx__free(buf);
    return LRPX_OK;
}
