/* Suite "spray": lrpx_spray, spectral clustering of maps.
 *
 *   - cliques: c groups of m nearly equal points far apart, with k = m - 1
 *     neighbours, make a graph of c disjoint complete graphs K_m, whose
 *     normalised Laplacian has eigenvalue 0 c times and m / (m - 1) for the
 *     rest (a formula, evaluated here); the eigengap picks c, the clusters
 *     are the groups, and the spectral embedding puts each group on one
 *     point;
 *   - noisy blobs of sizes 50, 30 and 20 (points drawn here): recovered
 *     exactly, clusters numbered by size; a fixed cluster count;
 *   - the same input twice gives the same bits; bad arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

static uint64_t rng_state;

static double
uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double
gauss(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Every map of group g has label g, and groups are numbered in the order
 * of their sizes: the cluster of map i is group[i] when sizes decrease. */
static void
assert_clusters_are_groups(const lrpx_spray_result *r, const int *group, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(r->labels[i] == group[i], "map %d: cluster %d, group %d", i, r->labels[i],
                      group[i]);
}

START_TEST(test_cliques_spectrum)
{
    enum { C = 3, M = 8, D = 6, N = C * M };
    float x[N * D];
    int   group[N];
    for (int g = 0; g < C; g++)
        for (int p = 0; p < M; p++) {
            int i    = g * M + p;
            group[i] = g;
            for (int d = 0; d < D; d++)
                x[i * D + d] = (float)((d == g ? 100.0 : 0.0) + 0.01 * ((p * 7 + d * 3) % 11));
        }
    struct lrpx_spray_options o;
    lrpx_spray_options_default(&o);
    o.n_neighbors = M - 1;
    o.max_clusters = 6;
    lrpx_spray_result *r;
    char               err[256];
    ck_assert_msg(lrpx_spray(x, N, D, &o, &r, err, sizeof err) == LRPX_OK, "%s", err);
    ck_assert_int_eq(r->n_eigen, 7);
    for (int e = 0; e < r->n_eigen; e++) {
        double want = e < C ? 0.0 : (double)M / (M - 1);
        ck_assert_msg(fabs(r->eigenvalues[e] - want) < 1e-9, "eigenvalue %d: %.12g, want %.12g",
                      e, r->eigenvalues[e], want);
    }
    ck_assert_int_eq(r->n_clusters, C);
    ck_assert_int_eq(r->n_neighbors, M - 1);
    for (int g = 0; g < C; g++)
        ck_assert_int_eq(r->sizes[g], M);
    assert_clusters_are_groups(r, group, N);    /* equal sizes: by first member */
    /* the embedding: one point per clique, three different points */
    for (int i = 0; i < N; i++)
        for (int e = 0; e < 2; e++)
            ck_assert(fabs(r->embedding[2 * i + e] - r->embedding[2 * (group[i] * M) + e]) < 1e-9);
    for (int a = 0; a < C; a++)
        for (int b = a + 1; b < C; b++)
            ck_assert(hypot(r->embedding[2 * a * M] - r->embedding[2 * b * M],
                            r->embedding[2 * a * M + 1] - r->embedding[2 * b * M + 1]) > 1e-3);
    lrpx_spray_result_free(r);
}
END_TEST

/* blobs of 50, 30 and 20 points in 20 dimensions, shuffled */
enum { NB = 100, DB = 20 };

static void
make_blobs(float *x, int *group)
{
    static const int sizes[3] = {50, 30, 20};
    int              order[NB], k = 0;
    for (int g = 0; g < 3; g++)
        for (int p = 0; p < sizes[g]; p++)
            group[k++] = g;
    for (int i = 0; i < NB; i++)
        order[i] = i;
    rng_state = 99;
    for (int i = NB - 1; i > 0; i--) {
        int j    = (int)(uniform() * (i + 1));
        int t    = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int shuffled[NB];
    for (int i = 0; i < NB; i++)
        shuffled[i] = group[order[i]];
    memcpy(group, shuffled, sizeof shuffled);
    for (int i = 0; i < NB; i++)
        for (int d = 0; d < DB; d++)
            x[i * DB + d] = (float)((d % 3 == group[i] ? 6.0 : 0.0) + gauss());
}

START_TEST(test_blobs)
{
    static float x[NB * DB];
    int          group[NB];
    make_blobs(x, group);
    lrpx_spray_result *r, *r2;
    char               err[256];
    ck_assert_msg(lrpx_spray(x, NB, DB, NULL, &r, err, sizeof err) == LRPX_OK, "%s", err);
    ck_assert_int_eq(r->n_clusters, 3);
    ck_assert_int_eq(r->sizes[0], 50);
    ck_assert_int_eq(r->sizes[1], 30);
    ck_assert_int_eq(r->sizes[2], 20);
    assert_clusters_are_groups(r, group, NB);
    /* eigenvalues ascending, the first 0, all in [0, 2] */
    ck_assert(fabs(r->eigenvalues[0]) < 1e-9);
    for (int e = 1; e < r->n_eigen; e++) {
        ck_assert(r->eigenvalues[e] >= r->eigenvalues[e - 1]);
        ck_assert(r->eigenvalues[e] <= 2.0 + 1e-9);
    }
    /* the same bits again */
    ck_assert_int_eq(lrpx_spray(x, NB, DB, NULL, &r2, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(memcmp(r->labels, r2->labels, NB * sizeof *r->labels), 0);
    ck_assert_int_eq(memcmp(r->eigenvalues, r2->eigenvalues, (size_t)r->n_eigen * sizeof(double)),
                     0);
    ck_assert_int_eq(memcmp(r->embedding, r2->embedding, 2 * NB * sizeof(double)), 0);
    lrpx_spray_result_free(r2);
    lrpx_spray_result_free(r);

    /* two clusters when asked: the two smaller blobs merge or the largest
     * splits, but every blob stays whole or the sizes add up */
    struct lrpx_spray_options o;
    lrpx_spray_options_default(&o);
    o.n_clusters = 2;
    ck_assert_int_eq(lrpx_spray(x, NB, DB, &o, &r, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(r->n_clusters, 2);
    ck_assert_int_eq(r->sizes[0] + r->sizes[1], NB);
    ck_assert_int_ge(r->sizes[0], r->sizes[1]);
    lrpx_spray_result_free(r);
}
END_TEST

START_TEST(test_bad_arguments)
{
    float              x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    lrpx_spray_result *r     = (lrpx_spray_result *)1;
    char               err[256];
    ck_assert_int_eq(lrpx_spray(x, 2, 6, NULL, &r, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, "at least 3"));
    ck_assert_int_eq(lrpx_spray(NULL, 3, 4, NULL, &r, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_spray(x, 3, 4, NULL, NULL, err, sizeof err), LRPX_EINVAL);
    x[5] = NAN;
    ck_assert_int_eq(lrpx_spray(x, 3, 4, NULL, &r, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "map 1"));
    x[5] = 5;
    struct lrpx_spray_options o;
    lrpx_spray_options_default(&o);
    o.n_clusters = LRPX_SPRAY_MAX_CLUSTERS + 1;
    ck_assert_int_eq(lrpx_spray(x, 3, 4, &o, &r, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_spray(x, LRPX_SPRAY_MAX_MAPS + 1, 1, NULL, &r, err, sizeof err),
                     LRPX_ELIMIT);
    /* three maps: a graph of 2 neighbours each works */
    ck_assert_int_eq(lrpx_spray(x, 3, 4, NULL, &r, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(r->n, 3);
    ck_assert_int_eq(r->n_neighbors, 2);
    lrpx_spray_result_free(r);
    lrpx_spray_result_free(NULL);
}
END_TEST

static Suite *
spray_suite(void)
{
    Suite *s  = suite_create("spray");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cliques_spectrum);
    tcase_add_test(tc, test_blobs);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(spray_suite());
}
