/* Spectral relevance analysis (SpRAy): spectral clustering of relevance
 * maps, after Lapuschkin et al., "Unmasking Clever Hans predictors and
 * assessing what machines really learn", Nature Communications 10, 1096
 * (2019), with the clustering of Ng, Jordan and Weiss (NIPS 2001) and the
 * eigengap heuristic of von Luxburg, "A tutorial on spectral clustering"
 * (Statistics and Computing 17, 2007).
 *
 *   1. Euclidean distances between the n maps (rows of x), from the Gram
 *      matrix (cblas_dsyrk);
 *   2. the k-nearest-neighbour graph C (ties to the lower index),
 *      symmetrised: A = (C + C^T) / 2;
 *   3. the normalised Laplacian L = I - D^-1/2 A D^-1/2 and its smallest
 *      eigenvalues and eigenvectors (LAPACK dsyevr through LAPACKE);
 *   4. the number of clusters c: the largest gap lambda_c - lambda_c-1
 *      for c = 1..max_clusters (or the one asked for);
 *   5. the rows of the first c eigenvectors, scaled to length 1, clustered
 *      by k-means (k-means++ seeding from a fixed seed, restarts, the
 *      lowest inertia kept); clusters numbered by size;
 *   6. a 2-D embedding: eigenvectors 2 and 3 of the random-walk Laplacian
 *      (D^-1/2 times those of L), signs fixed so the largest entry is
 *      positive.
 * Dense: n x n doubles (n <= LRPX_SPRAY_MAX_MAPS). OpenBLAS runs on one
 * thread (lrpx's rule), so the result is the same bits run after run. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "lrpx_internal.h"
#include "util/parallel.h"

void
lrpx_spray_options_default(struct lrpx_spray_options *o)
{
    memset(o, 0, sizeof *o);
    o->n_restarts = 10;
}

void
lrpx_spray_result_free(lrpx_spray_result *r)
{
    if (!r)
        return;
    lrpx__free(r->eigenvalues);
    lrpx__free(r->labels);
    lrpx__free(r->sizes);
    lrpx__free(r->embedding);
    lrpx__free(r);
}

static lrpx_status
spray_fail(char *errbuf, size_t errlen, lrpx_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static lrpx_status
spray_fail(char *errbuf, size_t errlen, lrpx_status st, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* splitmix64: the k-means++ draws */
static double
rng_uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z          = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z          = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* The k nearest neighbours of every row (distances d2, n x n): C[i][j] =
 * 1 for them; then a = (C + C^T) / 2 into d2's place. */
static bool
knn_graph(double *d2, int n, int k)
{
    int    *nb = lrpx__malloc((size_t)n * (size_t)k * sizeof *nb);
    double *nd = lrpx__malloc((size_t)k * sizeof *nd);
    if (!nb || !nd) {
        lrpx__free(nb);
        lrpx__free(nd);
        return false;
    }
    for (int i = 0; i < n; i++) {
        int *row = nb + (size_t)i * k, cnt = 0;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            double v = d2[(size_t)i * n + j];
            if (cnt == k && !(v < nd[k - 1]))
                continue;                   /* ties keep the lower index */
            int p = cnt < k ? cnt++ : k - 1;
            while (p > 0 && v < nd[p - 1]) {
                nd[p]  = nd[p - 1];
                row[p] = row[p - 1];
                p--;
            }
            nd[p]  = v;
            row[p] = j;
        }
    }
    memset(d2, 0, (size_t)n * (size_t)n * sizeof *d2);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < k; t++) {
            int j = nb[(size_t)i * k + t];
            d2[(size_t)i * n + j] += 0.5;
            d2[(size_t)j * n + i] += 0.5;
        }
    lrpx__free(nb);
    lrpx__free(nd);
    return true;
}

/* k-means on the n rows of u (n x c, row-major); labels out; returns the
 * inertia. */
static double
kmeans(const double *u, int n, int c, uint64_t *rng, int *labels, double *cent, double *dmin)
{
    /* k-means++: the first centre at random, each next one drawn with
     * probability proportional to the squared distance to the nearest */
    int first = (int)(rng_uniform(rng) * n);
    memcpy(cent, u + (size_t)first * c, (size_t)c * sizeof *cent);
    for (int i = 0; i < n; i++)
        dmin[i] = INFINITY;
    for (int q = 1; q <= c; q++) {
        double total = 0.0;
        for (int i = 0; i < n; i++) {
            double d = 0.0;
            for (int t = 0; t < c; t++) {
                double e = u[(size_t)i * c + t] - cent[(size_t)(q - 1) * c + t];
                d += e * e;
            }
            dmin[i] = fmin(dmin[i], d);
            total += dmin[i];
        }
        if (q == c)
            break;
        double r    = rng_uniform(rng) * total;
        int    pick = n - 1;
        for (int i = 0; i < n; i++)
            if ((r -= dmin[i]) < 0.0) {
                pick = i;
                break;
            }
        memcpy(cent + (size_t)q * c, u + (size_t)pick * c, (size_t)c * sizeof *cent);
    }
    /* Lloyd's iterations */
    double inertia = 0.0;
    for (int it = 0; it < 300; it++) {
        bool moved = false;
        inertia    = 0.0;
        for (int i = 0; i < n; i++) {
            int    best = 0;
            double bd   = INFINITY;
            for (int q = 0; q < c; q++) {
                double d = 0.0;
                for (int t = 0; t < c; t++) {
                    double e = u[(size_t)i * c + t] - cent[(size_t)q * c + t];
                    d += e * e;
                }
                if (d < bd) {
                    bd   = d;
                    best = q;
                }
            }
            moved |= it == 0 || labels[i] != best;
            labels[i] = best;
            inertia += bd;
        }
        if (!moved)
            break;
        for (int q = 0; q < c; q++) {
            int cnt = 0;
            memset(cent + (size_t)q * c, 0, (size_t)c * sizeof *cent);
            for (int i = 0; i < n; i++)
                if (labels[i] == q) {
                    cnt++;
                    for (int t = 0; t < c; t++)
                        cent[(size_t)q * c + t] += u[(size_t)i * c + t];
                }
            for (int t = 0; cnt && t < c; t++)
                cent[(size_t)q * c + t] /= cnt;
        }
    }
    return inertia;
}

/* Number clusters by size (largest first; ties: the lower first member). */
static void
relabel(int *labels, int n, int c, int *sizes)
{
    int map[LRPX_SPRAY_MAX_CLUSTERS], first[LRPX_SPRAY_MAX_CLUSTERS], order[LRPX_SPRAY_MAX_CLUSTERS];
    int cnt[LRPX_SPRAY_MAX_CLUSTERS] = {0};
    for (int q = 0; q < c; q++)
        first[q] = n;
    for (int i = 0; i < n; i++) {
        cnt[labels[i]]++;
        if (first[labels[i]] == n)
            first[labels[i]] = i;
    }
    for (int q = 0; q < c; q++)
        order[q] = q;
    for (int a = 1; a < c; a++)          /* insertion sort: c is small */
        for (int b = a; b > 0; b--) {
            int x = order[b - 1], y = order[b];
            if (cnt[y] > cnt[x] || (cnt[y] == cnt[x] && first[y] < first[x])) {
                order[b - 1] = y;
                order[b]     = x;
            }
        }
    for (int q = 0; q < c; q++) {
        map[order[q]] = q;
        sizes[q]      = cnt[order[q]];
    }
    for (int i = 0; i < n; i++)
        labels[i] = map[labels[i]];
}

lrpx_status
lrpx_spray(const float *maps, int n, int64_t dim, const struct lrpx_spray_options *opts,
           lrpx_spray_result **out, char *errbuf, size_t errlen)
{
    struct lrpx_spray_options o;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out)
        return spray_fail(errbuf, errlen, LRPX_EINVAL, "lrpx_spray: out is NULL");
    *out = NULL;
    if (!maps || dim < 1)
        return spray_fail(errbuf, errlen, LRPX_EINVAL, "lrpx_spray: no maps");
    if (n < 3)
        return spray_fail(errbuf, errlen, LRPX_EINVAL, "%d map%s: SpRAy needs at least 3", n,
                          n == 1 ? "" : "s");
    if (n > LRPX_SPRAY_MAX_MAPS)
        return spray_fail(errbuf, errlen, LRPX_ELIMIT, "%d maps: at most %d (the Laplacian is "
                          "a dense n x n matrix); take a sample", n, LRPX_SPRAY_MAX_MAPS);
    if (opts)
        o = *opts;
    else
        lrpx_spray_options_default(&o);
    if (o.n_neighbors < 0 || o.max_clusters < 0 || o.n_clusters < 0 || o.n_eigen < 0 ||
        o.n_clusters > LRPX_SPRAY_MAX_CLUSTERS || o.max_clusters > LRPX_SPRAY_MAX_CLUSTERS)
        return spray_fail(errbuf, errlen, LRPX_EINVAL, "lrpx_spray: negative options, or more "
                          "than %d clusters", LRPX_SPRAY_MAX_CLUSTERS);
    for (int64_t i = 0; i < (int64_t)n * dim; i++)
        if (!isfinite(maps[i]))
            return spray_fail(errbuf, errlen, LRPX_EINVAL, "map %lld holds a value that is not "
                              "finite", (long long)(i / dim));
    int k     = o.n_neighbors ? o.n_neighbors : 10;
    k         = k < n - 1 ? k : n - 1;
    int max_c = o.max_clusters ? o.max_clusters : 10;
    max_c     = max_c < n - 1 ? max_c : n - 1;
    int c_fix = o.n_clusters < n ? o.n_clusters : n;
    int m     = o.n_eigen ? o.n_eigen : (c_fix > max_c ? c_fix : max_c) + 1;
    if (m < 3)
        m = 3;
    if (m < c_fix)
        m = c_fix;
    if (m > n)
        m = n;

    size_t  nn   = (size_t)n * (size_t)n;
    double *x    = lrpx__malloc((size_t)n * (size_t)dim * sizeof *x);
    double *g    = lrpx__malloc(nn * sizeof *g);
    double *z    = lrpx__malloc((size_t)n * (size_t)m * sizeof *z);
    double *w    = lrpx__malloc((size_t)n * sizeof *w);
    double *deg  = lrpx__malloc((size_t)n * sizeof *deg);
    lapack_int *sup = lrpx__malloc(2 * (size_t)m * sizeof *sup);
    lrpx_spray_result *r = lrpx__calloc(1, sizeof *r);
    lrpx_status        st = LRPX_OK;
    if (!x || !g || !z || !w || !deg || !sup || !r) {
        st = spray_fail(errbuf, errlen, LRPX_ENOMEM, "out of memory for %d maps", n);
        goto done;
    }
    lrpx__threads_blas_serial();
    for (int64_t i = 0; i < (int64_t)n * dim; i++)
        x[i] = maps[i];
    /* squared distances from the Gram matrix (upper triangle) */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, (int)dim, 1.0, x, (int)dim, 0.0, g, n);
    for (int i = 0; i < n; i++)
        w[i] = g[(size_t)i * n + i];
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            double d = fmax(w[i] + w[j] - 2.0 * g[(size_t)i * n + j], 0.0);
            g[(size_t)i * n + j] = g[(size_t)j * n + i] = i == j ? 0.0 : d;
        }
    if (!knn_graph(g, n, k)) {
        st = spray_fail(errbuf, errlen, LRPX_ENOMEM, "out of memory for %d maps", n);
        goto done;
    }
    /* L = I - D^-1/2 A D^-1/2 */
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < n; j++)
            s += g[(size_t)i * n + j];
        deg[i] = 1.0 / sqrt(s);              /* s >= k / 2 > 0 */
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            g[(size_t)i * n + j] = (i == j ? 1.0 : 0.0) - deg[i] * g[(size_t)i * n + j] * deg[j];
    lapack_int found = 0;
    lapack_int info  = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'I', 'U', n, g, n, 0.0, 0.0, 1, m,
                                      0.0, &found, w, z, n, sup);
    if (info != 0 || found != m) {
        st = spray_fail(errbuf, errlen, info < 0 ? LRPX_EINVAL : LRPX_ENOMEM,
                        "LAPACK dsyevr failed (info %d, %d of %d eigenvalues)", (int)info,
                        (int)found, m);
        goto done;
    }
    /* signs: the largest entry of each eigenvector positive */
    for (int e = 0; e < m; e++) {
        double *v = z + (size_t)e * n;
        int     a = 0;
        for (int i = 1; i < n; i++)
            if (fabs(v[i]) > fabs(v[a]))
                a = i;
        if (v[a] < 0)
            for (int i = 0; i < n; i++)
                v[i] = -v[i];
    }
    int c = c_fix;
    if (c == 0) {                            /* the eigengap */
        c          = 1;
        double gap = -1.0;
        for (int q = 1; q <= max_c && q < m; q++)
            if (w[q] - w[q - 1] > gap) {
                gap = w[q] - w[q - 1];
                c   = q;
            }
    }
    r->n           = n;
    r->n_clusters  = c;
    r->n_eigen     = m;
    r->n_neighbors = k;
    r->eigenvalues = lrpx__malloc((size_t)m * sizeof *r->eigenvalues);
    r->labels      = lrpx__calloc((size_t)n, sizeof *r->labels);
    r->sizes       = lrpx__calloc((size_t)c, sizeof *r->sizes);
    r->embedding   = lrpx__calloc(2 * (size_t)n, sizeof *r->embedding);
    double *u      = lrpx__malloc((size_t)n * (size_t)c * sizeof *u);
    double *cent   = lrpx__malloc((size_t)c * (size_t)c * sizeof *cent);
    int    *lab    = lrpx__malloc((size_t)n * sizeof *lab);
    if (!r->eigenvalues || !r->labels || !r->sizes || !r->embedding || !u || !cent || !lab) {
        lrpx__free(u);
        lrpx__free(cent);
        lrpx__free(lab);
        st = spray_fail(errbuf, errlen, LRPX_ENOMEM, "out of memory for %d maps", n);
        goto done;
    }
    memcpy(r->eigenvalues, w, (size_t)m * sizeof *w);
    for (int i = 0; i < n; i++) {
        double len = 0.0;
        for (int q = 0; q < c; q++)
            len += z[(size_t)q * n + i] * z[(size_t)q * n + i];
        len = len > 0 ? 1.0 / sqrt(len) : 0.0;
        for (int q = 0; q < c; q++)
            u[(size_t)i * c + q] = z[(size_t)q * n + i] * len;
        for (int e = 0; e < 2 && e + 1 < m; e++)
            r->embedding[2 * (size_t)i + e] = z[(size_t)(e + 1) * n + i] * deg[i];
    }
    if (c > 1) {
        uint64_t rng  = o.seed;
        double   best = INFINITY;
        for (int t = 0; t < (o.n_restarts > 0 ? o.n_restarts : 1); t++) {
            double in = kmeans(u, n, c, &rng, lab, cent, w);
            if (in < best) {
                best = in;
                memcpy(r->labels, lab, (size_t)n * sizeof *lab);
            }
        }
    }
    relabel(r->labels, n, c, r->sizes);
    lrpx__free(u);
    lrpx__free(cent);
    lrpx__free(lab);
    *out = r;
    r    = NULL;
done:
    lrpx_spray_result_free(r);
    lrpx__free(x);
    lrpx__free(g);
    lrpx__free(z);
    lrpx__free(w);
    lrpx__free(deg);
    lrpx__free(sup);
    return st;
}
