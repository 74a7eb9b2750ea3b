/* Suite "methods": the attribution methods of lrpx_session_attribute.
 *
 *   reference   every case of testdata/expected/methods/index.json (made by
 *               scripts/methods_reference.py, a float64 PyTorch
 *               re-implementation of Captum 0.8.0's definitions) run
 *               through the C API: the map within 1e-4 relative L2, the
 *               class, F(baseline) and the convergence delta of integrated
 *               gradients; the index must hold every Captum-defined method
 *   quadrature  the float32 alphas and weights against the values printed
 *               in the Captum spec (Gauss-Legendre n = 16 and 50, the
 *               Riemann entries PyTorch's linspace rounds away from the
 *               nearest float32)
 *   batching    integrated gradients and occlusion do not depend on the
 *               internal batch size; a batch equals its samples one by one
 *   noise       drawn noise: sigma 0 gives saliency exactly, the seed
 *               decides the draw, and on a linear model vargrad of
 *               gradxinput recovers sigma^2 w^2 (the noise's variance)
 *   taylor      on a linear model the root and the map are analytic; on
 *               the bundled CNN the root has |F| <= 1e-3 |F(x)| and the
 *               reported residual is sum(R) - F(x)
 *   modes       deconvnet/guided backprop leave later gradients plain; the
 *               report and the tricks with any method
 *   errors      bad options: the status and a message naming the field
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"

/* ---- helpers ---- */

static double
rel_l2(const float *a, const float *ref, int64_t n)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static lrpx_model *
load(const char *rel)
{
    lrpx_model *m  = NULL;
    lrpx_status rc = lrpx_model_load_file(lrpx_test_path(rel), NULL, &m);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", rel, m ? lrpx_model_errmsg(m) : "out of memory");
    return m;
}

/* A session over m with x set (rank 4: a missing batch axis added). */
static lrpx_session *
session_with(lrpx_model *m, const lrpx_npy *x, int64_t batch)
{
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    int64_t dims[LRPX_MAX_RANK];
    int     rank = x->rank;
    memcpy(dims, x->dims, sizeof dims);
    if (rank == 3) {
        memmove(dims + 1, dims, 3 * sizeof *dims);
        dims[0] = 1;
        rank    = 4;
    }
    if (batch > 0)
        dims[0] = batch;
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, rank, dims, x->data),
                     LRPX_OK);
    return s;
}

static const float *
attribution(lrpx_session *s, int64_t *n)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_attribution(s, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_FLOAT32);
    if (n)
        *n = v.n_elems;
    return v.data;
}

static void
attribute_ok(lrpx_session *s, const struct lrpx_attr_options *o)
{
    lrpx_status rc = lrpx_session_attribute(s, o);
    ck_assert_msg(rc == LRPX_OK, "%s: %s (%s)", lrpx_attr_method_name(o->method),
                  lrpx_session_errmsg(s), lrpx_status_name(rc));
}

/* ==== the float64 reference of Captum's definitions ==== */

static cJSON *ref_index;     /* parsed once, before Check forks */
static int    n_ref_cases;

static cJSON *
ref_case(int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(ref_index, "cases"), i);
}

static const char *
jstr(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(c, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
jnum(const cJSON *c, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItem(c, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* "images/x.npy" or "images/x.npy[:K]" (the first K samples) */
static lrpx_npy *
load_input(const char *spec, int64_t *batch)
{
    char        path[512];
    const char *br = strchr(spec, '[');
    size_t      l  = br ? (size_t)(br - spec) : strlen(spec);
    ck_assert_uint_lt(l, sizeof path);
    memcpy(path, spec, l);
    path[l] = '\0';
    *batch  = br ? atoll(br + 2) : 0;
    return lrpx_test_npy_load(lrpx_test_path(path));
}

/* The int list of key into out (at most max); returns the count. */
static int
jints(const cJSON *c, const char *key, int64_t *out, int max)
{
    const cJSON *a = cJSON_GetObjectItem(c, key);
    int          n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        ck_assert_int_lt(n, max);
        out[n++] = (int64_t)e->valuedouble;
    }
    return n;
}

static lrpx_tensor_view
npy_view(const lrpx_npy *a)
{
    lrpx_tensor_view v = {.dtype = a->dtype, .rank = a->rank, .n_elems = a->n_elems,
                          .data = a->data};
    memcpy(v.dims, a->dims, sizeof v.dims);
    return v;
}

START_TEST(test_reference)
{
    const cJSON *c      = ref_case(_i);
    const char  *name   = jstr(c, "name");
    const char  *method = jstr(c, "method");
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(method);

    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    ck_assert_msg(lrpx_attr_method_parse(method, &o.method) == LRPX_OK, "%s: method %s", name,
                  method);
    if (cJSON_GetObjectItem(c, "target")) {
        o.lrp.seed   = LRPX_SEED_TARGET;
        o.lrp.target = (int64_t)jnum(c, "target", 0);
    }
    lrpx_npy *side = NULL;
    if (jstr(c, "quadrature"))
        ck_assert_int_eq(lrpx_quadrature_parse(jstr(c, "quadrature"), &o.quadrature), LRPX_OK);
    o.steps   = (int)jnum(c, "steps", o.steps);
    o.samples = (int)jnum(c, "samples", o.samples);
    o.fill    = jnum(c, "fill", 0.0);
    if (jstr(c, "of"))
        ck_assert_int_eq(lrpx_attr_method_parse(jstr(c, "of"), &o.of), LRPX_OK);
    const char *side_key = jstr(c, "baseline") ? "baseline" : jstr(c, "noise") ? "noise"
                         : jstr(c, "feature_mask") ? "feature_mask" : NULL;
    if (side_key) {
        side                   = lrpx_test_npy_load(lrpx_test_path(jstr(c, side_key)));
        lrpx_tensor_view *dest = !strcmp(side_key, "baseline") ? &o.baseline_data
                               : !strcmp(side_key, "noise")    ? &o.noise
                                                               : &o.feature_mask;
        *dest = npy_view(side);
    } else {
        o.baseline = jnum(c, "baseline", 0.0);
    }
    o.patch_rank = jints(c, "patch", o.patch, LRPX_MAX_RANK);
    ck_assert_int_eq(jints(c, "patch_stride", o.patch_stride, LRPX_MAX_RANK), o.patch_rank);

    lrpx_model   *m = load(jstr(c, "model"));
    int64_t       batch;
    lrpx_npy     *x = load_input(jstr(c, "input"), &batch);
    lrpx_session *s = session_with(m, x, batch);
    attribute_ok(s, &o);
    int64_t      n;
    const float *a   = attribution(s, &n);
    lrpx_npy    *ref = lrpx_test_npy_load(lrpx_test_path(jstr(c, "expected")));
    ck_assert_int_eq(ref->n_elems, n);
    double err = rel_l2(a, ref->data, n);
    printf("%-34s %-20s rel L2 %.3g\n", name, method, err);
    ck_assert_msg(err <= 1e-4, "%s: relative L2 %.3g against the float64 reference", name, err);

    /* class, score and the integrated-gradients numbers per sample */
    const cJSON *cls = cJSON_GetObjectItem(c, "classes");
    for (int b = 0; b < cJSON_GetArraySize(cls); b++) {
        lrpx_attr_report r;
        ck_assert_int_eq(lrpx_session_attribution_report(s, b, &r), LRPX_OK);
        ck_assert_int_eq(r.cls, (int64_t)cJSON_GetArrayItem(cls, b)->valuedouble);
        double score = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "scores"), b)->valuedouble;
        ck_assert_double_eq_tol(r.score, score, 1e-5 * fmax(1.0, fabs(score)));
        if (!strcmp(method, "integrated-gradients")) {
            double fb = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "ref_score"), b)->valuedouble;
            double dl = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "delta"), b)->valuedouble;
            ck_assert_double_eq_tol(r.ref_score, fb, 1e-5 * fmax(1.0, fabs(fb)));
            /* the delta is small: compare on the scale of the score change */
            ck_assert_msg(fabs(r.gap - dl) <= 1e-4 * fmax(1.0, fabs(score - fb)),
                          "%s: convergence delta %.9g, reference %.9g", name, r.gap, dl);
        } else {
            ck_assert(isnan(r.ref_score) && isnan(r.gap));
        }
    }
    ck_assert_int_eq(lrpx_session_attribution_report(s, cJSON_GetArraySize(cls), &(lrpx_attr_report){0}),
                     LRPX_EINVAL);
    lrpx_npy_free(ref);
    lrpx_npy_free(side);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* The index covers every Captum-defined method, every quadrature rule,
 * the three noise tunnels, each model and a batch. */
START_TEST(test_reference_coverage)
{
    static const char *const need[] = {
        "saliency", "gradxinput", "deconvnet", "guided-backprop", "occlusion",
        "feature-ablation", "smoothgrad", "smoothgrad-sq", "vargrad", "gradient",
        "q:gausslegendre", "q:riemann_left", "q:riemann_right", "q:riemann_middle",
        "q:riemann_trapezoid", "m:models/fmnist_cnn.onnx", "m:models/tie_cnn.onnx",
        "m:models/zoo_small/resnet_tiny.onnx"};
    ck_assert_int_ge(n_ref_cases, 50);
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
        bool found = false;
        for (int i = 0; i < n_ref_cases && !found; i++) {
            const cJSON *c = ref_case(i);
            const char  *w = need[k];
            if (!strncmp(w, "q:", 2))
                found = jstr(c, "quadrature") && !strcmp(jstr(c, "quadrature"), w + 2);
            else if (!strncmp(w, "m:", 2))
                found = !strcmp(jstr(c, "model"), w + 2);
            else
                found = !strcmp(jstr(c, "method"), w);
        }
        ck_assert_msg(found, "the reference index has no case for %s", need[k]);
    }
}
END_TEST

/* ==== quadrature points against the Captum spec's printed values ==== */

START_TEST(test_quadrature_gauss_legendre)
{
    /* n = 16: float64 values of k = 0..7 (k >= 8 mirrored in float64) */
    static const double a16[8] = {0.005299532504175031, 0.0277124884633837,
                                  0.06718439880608412,  0.1222977958224985,
                                  0.19106187779867811,  0.2709916111713863,
                                  0.35919822461037054,  0.4524937450811813};
    static const double w16[8] = {0.013576229705877019, 0.031126761969323853,
                                  0.047579255841246296, 0.062314485627767015,
                                  0.07479799440828838,  0.08457825969750131,
                                  0.0913017075224618,   0.09472530522753429};
    float a[50], w[50];
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_GAUSS_LEGENDRE, 16, a, w), LRPX_OK);
    for (int k = 0; k < 16; k++) {
        float ea = k < 8 ? (float)a16[k] : (float)(1.0 - a16[15 - k]);
        float ew = (float)w16[k < 8 ? k : 15 - k];
        ck_assert_msg(a[k] == ea && w[k] == ew, "n=16 k=%d: %.9g %.9g, expected %.9g %.9g", k,
                      a[k], w[k], ea, ew);
    }
    /* n = 50: the spec prints 9 significant digits of each float32 */
    static const double a50[50] = {
        0.000566797797, 0.00298401527, 0.0073229582, 0.0135678072, 0.0216945224, 0.0316716917,
        0.043460723,    0.0570160113,  0.0722851157, 0.089208968,  0.107722081,  0.127752855,
        0.14922376,     0.172051772,   0.19614853,   0.221420854,  0.24777092,   0.275096834,
        0.303292841,    0.33224988,    0.361855894,  0.391996384,  0.422554702,  0.453412652,
        0.484450817,    0.515549183,   0.546587348,  0.577445269,  0.608003616,  0.638144076,
        0.66775012,     0.696707129,   0.724903166,  0.752229095,  0.778579175,  0.803851485,
        0.827948213,    0.850776255,   0.872247159,  0.892277896,  0.910791039,  0.927714884,
        0.942983985,    0.956539273,   0.968328297,  0.978305459,  0.986432195,  0.992677033,
        0.997016013,    0.999433219};
    static const double w50[25] = {
        0.00145431131, 0.00337989954, 0.00529527431, 0.00719041144, 0.00905778073,
        0.0108901216,  0.0126803368,  0.0144214965,  0.0161068644,  0.0177299175,
        0.0192843787,  0.0207642317,  0.0221637525,  0.0234775264,  0.0247004684,
        0.0258278511,  0.0268553104,  0.0277788732,  0.0285949633,  0.0293004252,
        0.0298925284,  0.0303689856,  0.030727949,   0.0309680346,  0.0310883075};
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_GAUSS_LEGENDRE, 50, a, w), LRPX_OK);
    double sum = 0.0;
    for (int k = 0; k < 50; k++) {
        ck_assert_msg(a[k] == (float)a50[k], "n=50 alpha %d: %.9g, spec %.9g", k, a[k], a50[k]);
        double ew = w50[k < 25 ? k : 49 - k];
        ck_assert_msg(w[k] == (float)ew, "n=50 weight %d: %.9g, spec %.9g", k, w[k], ew);
        sum += w[k];
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-6);
}
END_TEST

/* Riemann rules: every alpha is the float32 nearest to its mathematical
 * value except the listed ones, which are the spec's values. */
struct rcase {
    lrpx_quadrature q;
    int             n;
    int             n_ex;
    int             idx[20];
    double          val[20];
};

static double
riemann_exact(lrpx_quadrature q, int n, int k)
{
    switch (q) {
    case LRPX_QUADRATURE_RIEMANN_LEFT:  return (double)k / n;
    case LRPX_QUADRATURE_RIEMANN_RIGHT: return (double)(k + 1) / n;
    case LRPX_QUADRATURE_RIEMANN_MIDDLE: return (k + 0.5) / n;
    default:                            return (double)k / (n - 1);
    }
}

START_TEST(test_quadrature_riemann)
{
    static const struct rcase cs[] = {
        {LRPX_QUADRATURE_RIEMANN_TRAPEZOID, 16, 7, {3, 6, 7, 8, 9, 10, 12},
         {0.200000018, 0.400000036, 0.466666698, 0.533333302, 0.599999964, 0.666666627,
          0.799999952}},
        {LRPX_QUADRATURE_RIEMANN_LEFT, 16, 0, {0}, {0}},
        {LRPX_QUADRATURE_RIEMANN_RIGHT, 16, 0, {0}, {0}},
        {LRPX_QUADRATURE_RIEMANN_MIDDLE, 16, 0, {0}, {0}},
        {LRPX_QUADRATURE_RIEMANN_TRAPEZOID, 50, 13, {5, 7, 10, 14, 15, 17, 20, 21, 23, 34, 43, 44, 45},
         {0.102040812, 0.142857134, 0.204081625, 0.285714269, 0.306122422, 0.346938759,
          0.408163249, 0.428571403, 0.46938774, 0.693877518, 0.877551079, 0.897959232,
          0.918367386}},
        {LRPX_QUADRATURE_RIEMANN_LEFT, 50, 15, {5, 9, 10, 18, 20, 23, 27, 30, 32, 34, 35, 38, 39, 42, 48},
         {0.099999994, 0.179999992, 0.199999988, 0.359999985, 0.399999976, 0.459999979,
          0.539999962, 0.599999964, 0.640000045, 0.680000067, 0.700000048, 0.76000005,
          0.780000031, 0.840000033, 0.960000038}},
        {LRPX_QUADRATURE_RIEMANN_RIGHT, 50, 11, {4, 5, 8, 9, 13, 14, 20, 23, 34, 38, 45},
         {0.099999994, 0.11999999, 0.179999992, 0.199999988, 0.279999971, 0.299999982,
          0.420000017, 0.480000019, 0.700000048, 0.780000031, 0.919999957}},
        {LRPX_QUADRATURE_RIEMANN_MIDDLE, 50, 18,
         {2, 4, 5, 10, 13, 16, 18, 20, 21, 23, 24, 27, 30, 32, 34, 35, 38, 45},
         {0.049999997, 0.0899999961, 0.109999992, 0.210000008, 0.269999981, 0.329999983,
          0.369999975, 0.409999967, 0.429999977, 0.469999969, 0.48999998, 0.549999952,
          0.609999955, 0.650000036, 0.690000057, 0.710000038, 0.770000041, 0.909999967}},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        const struct rcase *c = &cs[i];
        float               a[50], w[50];
        ck_assert_int_eq(lrpx_quadrature_points(c->q, c->n, a, w), LRPX_OK);
        double wsum = 0.0;
        for (int k = 0; k < c->n; k++) {
            float want = (float)riemann_exact(c->q, c->n, k);
            for (int e = 0; e < c->n_ex; e++)
                if (c->idx[e] == k)
                    want = (float)c->val[e];
            ck_assert_msg(a[k] == want, "%s n=%d alpha %d: %.9g, expected %.9g",
                          lrpx_quadrature_name(c->q), c->n, k, a[k], want);
            wsum += w[k];
        }
        bool trap = c->q == LRPX_QUADRATURE_RIEMANN_TRAPEZOID;
        ck_assert_float_eq(w[1], (float)(1.0 / c->n));
        ck_assert_float_eq(w[0], (float)(trap ? 0.5 / c->n : 1.0 / c->n));
        ck_assert_double_eq_tol(wsum, trap ? (c->n - 1.0) / c->n : 1.0, 1e-6);
    }
    float a[4], w[4];
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_RIEMANN_LEFT, 1, a, w), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_GAUSS_LEGENDRE, 1, a, w), LRPX_OK);
    ck_assert_float_eq(a[0], 0.5f);
    ck_assert_float_eq(w[0], 1.0f);
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_GAUSS_LEGENDRE, 0, a, w), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_COUNT, 4, a, w), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_quadrature_points(LRPX_QUADRATURE_GAUSS_LEGENDRE, 4, NULL, w),
                     LRPX_EINVAL);
}
END_TEST

/* ==== names ==== */

START_TEST(test_names)
{
    for (int i = 0; i < LRPX_ATTR_COUNT; i++) {
        lrpx_attr_method m;
        const char      *nm = lrpx_attr_method_name((lrpx_attr_method)i);
        ck_assert_ptr_nonnull(nm);
        ck_assert_ptr_nonnull(lrpx_attr_method_help((lrpx_attr_method)i));
        ck_assert_int_eq(lrpx_attr_method_parse(nm, &m), LRPX_OK);
        ck_assert_int_eq(m, i);
    }
    lrpx_attr_method m;
    ck_assert_ptr_null(lrpx_attr_method_name(LRPX_ATTR_COUNT));
    ck_assert_int_eq(lrpx_attr_method_parse("integrated_gradients", &m), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_attr_method_parse(NULL, &m), LRPX_EINVAL);
    ck_assert_str_eq(lrpx_attr_method_name(LRPX_ATTR_INTEGRATED_GRADIENTS), "integrated-gradients");
    lrpx_quadrature q;
    ck_assert_int_eq(lrpx_quadrature_parse("riemann_trapezoid", &q), LRPX_OK);
    ck_assert_int_eq(q, LRPX_QUADRATURE_RIEMANN_TRAPEZOID);
    ck_assert_int_eq(lrpx_quadrature_parse("trapezoid", &q), LRPX_EINVAL);
}
END_TEST

/* ==== batching ==== */

START_TEST(test_internal_batch)
{
    lrpx_npy        *mk   = lrpx_test_npy_load(lrpx_test_path("expected/methods/fmnist_mask7.npy"));
    lrpx_tensor_view mask = npy_view(mk);
    lrpx_model      *m    = load("models/fmnist_cnn.onnx");
    lrpx_npy     *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_session *s = session_with(m, x, 3);
    static const lrpx_attr_method ms[] = {LRPX_ATTR_INTEGRATED_GRADIENTS, LRPX_ATTR_OCCLUSION,
                                          LRPX_ATTR_SMOOTHGRAD, LRPX_ATTR_FEATURE_ABLATION};
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        struct lrpx_attr_options o;
        lrpx_attr_options_default(&o);
        o.method     = ms[k];
        o.steps      = 9;
        o.samples    = 5;
        o.quadrature = LRPX_QUADRATURE_RIEMANN_RIGHT;
        o.patch_rank = 3;                       /* 25 patches, overlapping */
        o.patch[0] = 1, o.patch[1] = o.patch[2] = 8;
        o.patch_stride[0] = 1, o.patch_stride[1] = o.patch_stride[2] = 5;
        o.feature_mask = mask;                  /* 16 groups of 7x7 pixels */
        float  *first = NULL;
        int64_t n     = 0;
        /* other batch sizes round the forward pass differently in the last
         * bit; the score differences of occlusion and ablation cancel,
         * which magnifies that */
        double tol = ms[k] == LRPX_ATTR_OCCLUSION || ms[k] == LRPX_ATTR_FEATURE_ABLATION
                         ? 1e-5 : 1e-6;
        static const int ibs[] = {0, 1, 7};
        for (size_t j = 0; j < sizeof ibs / sizeof ibs[0]; j++) {
            o.internal_batch = ibs[j];
            attribute_ok(s, &o);
            const float *a = attribution(s, &n);
            if (!first) {
                first = malloc((size_t)n * sizeof *first);
                ck_assert_ptr_nonnull(first);
                memcpy(first, a, (size_t)n * sizeof *first);
                continue;
            }
            double err = rel_l2(a, first, n);
            ck_assert_msg(err <= tol, "%s: internal batch %d moves the map by %.3g",
                          lrpx_attr_method_name(ms[k]), ibs[j], err);
        }
        /* the batch of three equals each sample alone */
        for (int b = 0; b < 3; b++) {
            lrpx_session *one = session_with(m, &(lrpx_npy){.dtype = LRPX_DTYPE_FLOAT32,
                                                              .rank = 4,
                                                              .dims = {1, 1, 28, 28},
                                                              .n_elems = 784,
                                                              .data = (float *)x->data + b * 784},
                                             0);
            o.internal_batch = 0;
            attribute_ok(one, &o);
            double err = rel_l2(attribution(one, NULL), first + b * 784, 784);
            ck_assert_msg(err <= tol, "%s: sample %d of a batch differs from it alone by %.3g",
                          lrpx_attr_method_name(ms[k]), b, err);
            lrpx_session_free(one);
        }
        free(first);
    }
    lrpx_npy_free(mk);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* Per-sample targets (lrp.seed LRPX_SEED_TARGETS, as lrpx_session_evaluate
 * uses them): every method explains sample b of a batch for targets[b],
 * as it explains that sample alone for LRPX_SEED_TARGET targets[b]. */
START_TEST(test_targets_per_sample)
{
    lrpx_model    *m          = load("models/fmnist_cnn.onnx");
    lrpx_npy      *x          = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_session  *s          = session_with(m, x, 3);
    const int64_t  targets[3] = {1, 5, 9};
    for (int k = 0; k < LRPX_ATTR_COUNT; k++) {
        struct lrpx_attr_options o;
        lrpx_attr_options_default(&o);
        o.method        = (lrpx_attr_method)k;
        o.steps         = 6;
        o.samples       = 4;
        o.root_iters    = 10;
        o.lrp.seed      = LRPX_SEED_TARGETS;
        o.lrp.targets   = targets;
        o.lrp.n_targets = 3;
        attribute_ok(s, &o);
        const float *batch = attribution(s, NULL);
        for (int b = 0; b < 3; b++) {
            lrpx_attr_report r;
            ck_assert_int_eq(lrpx_session_attribution_report(s, b, &r), LRPX_OK);
            ck_assert_int_eq(r.cls, targets[b]);
        }
        float *maps = malloc(3 * 784 * sizeof *maps);
        ck_assert_ptr_nonnull(maps);
        memcpy(maps, batch, 3 * 784 * sizeof *maps);
        for (int b = 0; b < 3; b++) {
            lrpx_session *one = session_with(m, &(lrpx_npy){.dtype = LRPX_DTYPE_FLOAT32,
                                                              .rank = 4,
                                                              .dims = {1, 1, 28, 28},
                                                              .n_elems = 784,
                                                              .data = (float *)x->data + b * 784},
                                             0);
            struct lrpx_attr_options o1 = o;
            o1.lrp.seed   = LRPX_SEED_TARGET;
            o1.lrp.target = targets[b];
            attribute_ok(one, &o1);
            /* batch 1 rounds the forward pass differently in the last bit;
             * the score differences of occlusion and ablation magnify it */
            double tol = k == LRPX_ATTR_OCCLUSION || k == LRPX_ATTR_FEATURE_ABLATION ? 1e-4 : 1e-5;
            double err = rel_l2(attribution(one, NULL), maps + b * 784, 784);
            ck_assert_msg(err <= tol, "%s: sample %d for target %lld differs from it alone by "
                          "%.3g", lrpx_attr_method_name(o.method), b, (long long)targets[b], err);
            lrpx_session_free(one);
        }
        free(maps);
    }
    /* one target per sample, or it is refused */
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    o.lrp.seed      = LRPX_SEED_TARGETS;
    o.lrp.targets   = targets;
    o.lrp.n_targets = 2;
    ck_assert_int_eq(lrpx_session_attribute(s, &o), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s), "2 targets for a batch of 3"));
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ==== smoothgrad with drawn noise ==== */

/* y = W x + b over 12 inputs and 3 classes (no hidden layer). */
static lrpx_model *
linear_model(const float *w, const float *bias)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){-1, 12});
    lrpx_test_model_init_f32(tm, "W", 2, (int64_t[]){3, 12}, w);
    lrpx_test_model_init_f32(tm, "B", 1, (int64_t[]){3}, bias);
    lrpx_test_model_node(tm, "Gemm", "fc", LT_IO("x", "W", "B"), LT_IO("y"), LT_INT("transB", 1),
                         NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *m;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    lrpx_test_model_free(tm);
    return m;
}

static const float lin_w[36] = {
    0.5f,  -1.0f, 0.25f, 2.0f,  -0.75f, 1.5f,  0.1f,  -0.2f, 0.3f,  -0.4f, 0.6f,  1.0f,
    -0.3f, 0.8f,  0.9f,  -1.1f, 0.4f,   0.2f,  -0.6f, 0.7f,  1.2f,  -0.5f, 0.35f, -0.9f,
    1.3f,  0.45f, -0.8f, 0.15f, 0.65f,  -1.4f, 0.55f, 0.05f, -0.25f, 0.95f, -0.7f, 0.85f};
static const float lin_b[3]  = {0.3f, -0.2f, 0.1f};
static const float lin_x[12] = {0.9f, 0.1f, 0.4f, 0.8f, 0.2f, 0.7f,
                                0.3f, 0.6f, 0.5f, 0.0f, 1.0f, 0.45f};

/* A session of the linear model with lin_x set. */
static lrpx_session *
linear_session(lrpx_model **m)
{
    lrpx_session *s;
    *m = linear_model(lin_w, lin_b);
    ck_assert_int_eq(lrpx_session_init(*m, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 12},
                                            lin_x),
                     LRPX_OK);
    return s;
}

START_TEST(test_noise_drawn)
{
    lrpx_model   *m;
    lrpx_session *s = linear_session(&m);
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    /* sigma 0: the noisy copies are x; smoothgrad is saliency, vargrad 0 */
    o.method = LRPX_ATTR_SALIENCY;
    attribute_ok(s, &o);
    float sal[12];
    memcpy(sal, attribution(s, NULL), sizeof sal);
    lrpx_attr_report rep;
    ck_assert_int_eq(lrpx_session_attribution_report(s, 0, &rep), LRPX_OK);
    int64_t t = rep.cls;
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(sal[i], fabsf(lin_w[t * 12 + i]));
    o.method  = LRPX_ATTR_SMOOTHGRAD;
    o.sigma   = 0.0;
    o.samples = 7;
    attribute_ok(s, &o);
    ck_assert_tensor_near(attribution(s, NULL), sal, 12, 1e-6, 0.0);
    o.method = LRPX_ATTR_VARGRAD;      /* 0 up to float32 rounding of the means */
    attribute_ok(s, &o);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq_tol(attribution(s, NULL)[i], 0.0f, 1e-6f * sal[i] * sal[i]);

    /* vargrad of gradxinput on a linear model: Var(x + e) w^2 = s^2 w^2,
     * s = sigma * (max x - min x) = 0.2 */
    o.method  = LRPX_ATTR_VARGRAD;
    o.of      = LRPX_ATTR_GRADIENT_X_INPUT;
    o.sigma   = 0.2;
    o.samples = 4000;
    o.seed    = 42;
    attribute_ok(s, &o);
    const float *v     = attribution(s, NULL);
    double       ratio = 0.0;
    for (int i = 0; i < 12; i++) {
        double w2 = (double)lin_w[t * 12 + i] * lin_w[t * 12 + i];
        ratio += v[i] / (0.04 * w2) / 12.0;
    }
    /* each estimate has a relative sd of sqrt(2 / 4000) = 2.2%; their mean 0.65% */
    ck_assert_msg(fabs(ratio - 1.0) < 0.03, "drawn noise variance / sigma^2 = %.4f", ratio);
    /* smoothgrad of gradxinput: the mean of x + e is x */
    o.method = LRPX_ATTR_SMOOTHGRAD;
    attribute_ok(s, &o);
    v = attribution(s, NULL);
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq_tol(v[i], lin_x[i] * lin_w[t * 12 + i],
                                5 * 0.2 / sqrt(4000.0) * fabs(lin_w[t * 12 + i]) + 1e-6);

    /* the seed decides the draw; the internal batch does not */
    float a1[12], a2[12];
    o.samples = 16;
    attribute_ok(s, &o);
    memcpy(a1, attribution(s, NULL), sizeof a1);
    o.internal_batch = 3;
    attribute_ok(s, &o);
    ck_assert_mem_eq(attribution(s, NULL), a1, sizeof a1);
    o.seed = 43;
    attribute_ok(s, &o);
    memcpy(a2, attribution(s, NULL), sizeof a2);
    ck_assert(memcmp(a1, a2, sizeof a1) != 0);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ==== taylor ==== */

START_TEST(test_taylor_linear)
{
    lrpx_model   *m;
    lrpx_session *s = linear_session(&m);
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    o.method = LRPX_ATTR_TAYLOR;
    attribute_ok(s, &o);
    lrpx_attr_report r;
    ck_assert_int_eq(lrpx_session_attribution_report(s, 0, &r), LRPX_OK);
    /* F = w.x + b: the root along w is x - F w / |w|^2, so
     * R_i = w_i (F w_i / |w|^2) and the residual is 0 */
    const float *w = lin_w + r.cls * 12;
    double       f = lin_b[r.cls], ww = 0.0, want[12];
    for (int i = 0; i < 12; i++) {
        f += (double)w[i] * lin_x[i];
        ww += (double)w[i] * w[i];
    }
    for (int i = 0; i < 12; i++)
        want[i] = w[i] * (f * w[i] / ww);
    float got[12];
    memcpy(got, attribution(s, NULL), sizeof got);
    double gd[12];
    for (int i = 0; i < 12; i++)
        gd[i] = got[i];
    ck_assert_tensor_near_f64(gd, want, 12, 1e-4, 1e-6 * fabs(f));
    ck_assert_double_eq_tol(r.score, f, 1e-5 * fabs(f));
    ck_assert_double_eq_tol(r.ref_score, 0.0, 1e-4 * fabs(f));
    ck_assert_double_eq_tol(r.gap, 0.0, 1e-4 * fabs(f));
    ck_assert_double_eq_tol(r.distance, fabs(f) / sqrt(ww), 1e-4 * fabs(f) / sqrt(ww));

    /* a domain that cuts the line: the root stays inside [0.2, 0.95] */
    o.lrp.box_low  = 0.2;
    o.lrp.box_high = 0.95;
    attribute_ok(s, &o);
    ck_assert_int_eq(lrpx_session_attribution_report(s, 0, &r), LRPX_OK);
    const float *a = attribution(s, NULL);
    for (int i = 0; i < 12; i++) {
        /* R_i = w_i (x_i - root_i): the root is x_i - R_i / w_i */
        double root = lin_x[i] - a[i] / w[i];
        ck_assert_msg(root >= 0.2 - 1e-5 && root <= 0.95 + 1e-5, "root %d = %g", i, root);
    }
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

START_TEST(test_taylor_fmnist)
{
    lrpx_model *m = load("models/fmnist_cnn.onnx");
    for (int img = 0; img < 4; img++) {
        char path[64];
        snprintf(path, sizeof path, "images/fmnist_%d_%s.npy", img,
                 (const char *[]){"ankle_boot", "pullover", "trouser", "shirt"}[img]);
        lrpx_npy     *x = lrpx_test_npy_load(lrpx_test_path(path));
        lrpx_session *s = session_with(m, x, 0);
        struct lrpx_attr_options o;
        lrpx_attr_options_default(&o);
        o.method       = LRPX_ATTR_TAYLOR;
        o.lrp.box_low  = 0.0;
        o.lrp.box_high = 1.0;
        attribute_ok(s, &o);
        lrpx_attr_report r;
        ck_assert_int_eq(lrpx_session_attribution_report(s, 0, &r), LRPX_OK);
        int64_t      n;
        const float *a   = attribution(s, &n);
        double       sum = 0.0;
        for (int64_t i = 0; i < n; i++)
            sum += a[i];
        printf("taylor image %d: F(x) %.4f F(root) %.3g residual %.4f |x - root| %.4f evals %lld\n",
               img, r.score, r.ref_score, r.gap, r.distance, (long long)r.n_evals);
        ck_assert_msg(fabs(r.ref_score) <= 1e-3 * fabs(r.score), "image %d: F(root) = %g", img,
                      r.ref_score);
        ck_assert_double_eq_tol(r.gap, sum - r.score, 1e-6 * fabs(r.score));
        ck_assert_double_eq_tol(r.sum, sum, 1e-9 * fabs(sum) + 1e-12);
        ck_assert(r.distance > 0.0 && isfinite(r.distance));
        lrpx_npy_free(x);
        lrpx_session_free(s);
    }
    lrpx_model_free(m);
}
END_TEST

/* ==== relu modes, reports, tricks ==== */

START_TEST(test_modes_reset)
{
    lrpx_model   *m = load("models/fmnist_cnn.onnx");
    lrpx_npy     *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_3_shirt.npy"));
    lrpx_session *s = session_with(m, x, 0);
    ck_assert_int_eq(lrpx_session_gradient(s, NULL), LRPX_OK);
    lrpx_tensor_view g;
    ck_assert_int_eq(lrpx_session_gradient_of(s, NULL, &g), LRPX_OK);
    float *plain = malloc(784 * sizeof *plain);
    ck_assert_ptr_nonnull(plain);
    memcpy(plain, g.data, 784 * sizeof *plain);
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    o.method = LRPX_ATTR_GUIDED_BACKPROP;
    attribute_ok(s, &o);
    /* guided backprop is not the gradient here, and the gradient after it is */
    ck_assert(rel_l2(attribution(s, NULL), plain, 784) > 0.1);
    ck_assert_int_eq(lrpx_session_gradient(s, NULL), LRPX_OK);
    ck_assert_int_eq(lrpx_session_gradient_of(s, NULL, &g), LRPX_OK);
    ck_assert_mem_eq(g.data, plain, 784 * sizeof *plain);
    /* method gradient = lrpx_session_gradient; lrp = lrpx_session_explain */
    o.method = LRPX_ATTR_GRADIENT;
    attribute_ok(s, &o);
    ck_assert_mem_eq(attribution(s, NULL), plain, 784 * sizeof *plain);
    o.method = LRPX_ATTR_LRP;
    attribute_ok(s, &o);
    lrpx_tensor_view rel;
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &rel), LRPX_OK);
    ck_assert_mem_eq(attribution(s, NULL), rel.data, 784 * sizeof(float));
    free(plain);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

START_TEST(test_tricks_any_method)
{
    lrpx_model   *m = load("models/fmnist_cnn.onnx");
    lrpx_npy     *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_0_ankle_boot.npy"));
    lrpx_session *s = session_with(m, x, 0);
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    o.method = LRPX_ATTR_INTEGRATED_GRADIENTS;
    o.steps  = 8;
    attribute_ok(s, &o);
    float *plain = malloc(784 * sizeof *plain), *tr = malloc(784 * sizeof *tr);
    ck_assert(plain && tr);
    memcpy(plain, attribution(s, NULL), 784 * sizeof *plain);
    /* translation by 0: one pass, the method's own map */
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.method             = o.method;
    to.attr               = &o;
    lrpx_tensor_view xv   = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {1, 1, 28, 28},
                             .n_elems = 784, .data = x->data};
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, tr), LRPX_OK);
    ck_assert_tensor_near(tr, plain, 784, 0.0, 0.0);   /* equal (-0 == 0) */
    /* K = 1: nine shifted maps averaged, close to but not the plain map */
    to.translate = 1;
    ck_assert_int_eq(lrpx_session_explain_translated(s, &xv, NULL, &to, tr), LRPX_OK);
    double d = rel_l2(tr, plain, 784);
    ck_assert_msg(d > 1e-3 && d < 1.0, "translation-averaged IG differs by %g", d);
    free(plain);
    free(tr);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

/* ==== errors ==== */

struct err_case {
    const char *label;
    void (*set)(struct lrpx_attr_options *o, lrpx_npy *side);
    lrpx_status status;
    const char *msg;          /* a part of the message */
};

static void e_steps(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_INTEGRATED_GRADIENTS; o->steps = 1;
  o->quadrature = LRPX_QUADRATURE_RIEMANN_LEFT; }
static void e_method(struct lrpx_attr_options *o, lrpx_npy *a) { (void)a; o->method = LRPX_ATTR_COUNT; }
static void e_baseline(struct lrpx_attr_options *o, lrpx_npy *a)
{ o->method = LRPX_ATTR_INTEGRATED_GRADIENTS;
  o->baseline_data = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = 2,
                                        .dims = {27, 28}, .n_elems = 756, .data = a->data}; }
static void e_noise(struct lrpx_attr_options *o, lrpx_npy *a)
{ o->method = LRPX_ATTR_SMOOTHGRAD; o->samples = 3;
  o->noise = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = 4,
                                .dims = {2, 1, 28, 28}, .n_elems = 1568, .data = a->data}; }
static void e_patch(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_OCCLUSION; o->patch_rank = 3;
  o->patch[0] = 1, o->patch[1] = 29, o->patch[2] = 4; }
static void e_stride(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_OCCLUSION; o->patch_rank = 3;
  o->patch[0] = 1, o->patch[1] = 4, o->patch[2] = 4; o->patch_stride[1] = 5; }
static void e_patch_rank(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_OCCLUSION; o->patch_rank = 2; o->patch[0] = o->patch[1] = 4; }
static void e_mask(struct lrpx_attr_options *o, lrpx_npy *a)
{ o->method = LRPX_ATTR_FEATURE_ABLATION;
  o->feature_mask = (lrpx_tensor_view){.dtype = LRPX_DTYPE_FLOAT32, .rank = 2,
                                       .dims = {28, 28}, .n_elems = 784, .data = a->data}; }
static void e_mask_shape(struct lrpx_attr_options *o, lrpx_npy *a)
{ o->method = LRPX_ATTR_FEATURE_ABLATION;
  o->feature_mask = (lrpx_tensor_view){.dtype = LRPX_DTYPE_UINT8, .rank = 3,
                                       .dims = {2, 28, 28}, .n_elems = 1568, .data = a->data}; }
static void e_samples(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_VARGRAD; o->samples = 0; }
static void e_sigma(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_SMOOTHGRAD; o->sigma = -1.0; }
static void e_of(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_SMOOTHGRAD; o->of = LRPX_ATTR_OCCLUSION; }
static void e_fill(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_OCCLUSION; o->fill = NAN; }
static void e_target(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_OCCLUSION; o->lrp.seed = LRPX_SEED_TARGET; o->lrp.target = 10; }
static void e_input(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_SALIENCY; o->input_name = "nope"; }
static void e_batch(struct lrpx_attr_options *o, lrpx_npy *a)
{ (void)a; o->method = LRPX_ATTR_SALIENCY; o->internal_batch = -1; }

START_TEST(test_errors)
{
    static const struct err_case cs[] = {
        {"steps", e_steps, LRPX_EINVAL, "steps 1 is out of range (2..10000 for riemann_left)"},
        {"method", e_method, LRPX_EINVAL, "unknown attribution method"},
        {"baseline", e_baseline, LRPX_EINVAL, "the baseline has shape 27x28, which does not broadcast to the input's shape 1x1x28x28"},
        {"noise", e_noise, LRPX_EINVAL, "smoothgrad: the noise is float32 2x1x28x28; it must be float32 3x1x28x28"},
        {"patch", e_patch, LRPX_EINVAL, "occlusion: the patch's axis 1 is 29, the input's 28"},
        {"stride", e_stride, LRPX_EINVAL, "the stride 5 of axis 1 must be 1..4"},
        {"patch rank", e_patch_rank, LRPX_EINVAL, "the patch has 2 values"},
        {"mask dtype", e_mask, LRPX_EINVAL, "the mask must hold integers"},
        {"mask shape", e_mask_shape, LRPX_EINVAL, "the feature mask has shape 2x28x28"},
        {"samples", e_samples, LRPX_EINVAL, "vargrad: samples 0 is out of range"},
        {"sigma", e_sigma, LRPX_EINVAL, "sigma must be a finite number >= 0"},
        {"of", e_of, LRPX_EINVAL, "averages gradient, saliency or gradxinput, not occlusion"},
        {"fill", e_fill, LRPX_EINVAL, "the fill value is not finite"},
        {"target", e_target, LRPX_EINVAL, "target class 10 is out of range"},
        {"input", e_input, LRPX_EINVAL, "no value named 'nope'"},
        {"internal batch", e_batch, LRPX_EINVAL, "internal_batch -1 is out of range"},
    };
    lrpx_model   *m = load("models/fmnist_cnn.onnx");
    lrpx_npy     *x = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_session *s = session_with(m, x, 1);
    ck_assert_int_eq(lrpx_session_attribution(s, &(lrpx_tensor_view){0}), LRPX_EINVAL);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        struct lrpx_attr_options o;
        lrpx_attr_options_default(&o);
        cs[i].set(&o, x);
        lrpx_status rc = lrpx_session_attribute(s, &o);
        ck_assert_msg(rc == cs[i].status, "%s: %s (%s)", cs[i].label, lrpx_status_name(rc),
                      lrpx_session_errmsg(s));
        ck_assert_msg(strstr(lrpx_session_errmsg(s), cs[i].msg), "%s: message '%s' lacks '%s'",
                      cs[i].label, lrpx_session_errmsg(s), cs[i].msg);
        /* a failed call leaves no result behind */
        ck_assert_int_eq(lrpx_session_attribution(s, &(lrpx_tensor_view){0}), LRPX_EINVAL);
    }
    ck_assert_int_eq(lrpx_session_attribute(NULL, NULL), LRPX_EINVAL);
    /* a model with two inputs cannot batch perturbed copies */
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(tm, "a", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3});
    lrpx_test_model_input(tm, "b", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3});
    lrpx_test_model_node(tm, "Add", "add", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model *m2;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m2), LRPX_OK);
    lrpx_session *s2;
    ck_assert_int_eq(lrpx_session_init(m2, &s2), LRPX_OK);
    const float v[3] = {1, 2, 3};
    ck_assert_int_eq(lrpx_session_set_input(s2, "a", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, v),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s2, "b", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, v),
                     LRPX_OK);
    struct lrpx_attr_options o;
    lrpx_attr_options_default(&o);
    o.method = LRPX_ATTR_OCCLUSION;
    ck_assert_int_eq(lrpx_session_attribute(s2, &o), LRPX_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(s2), "needs a model with one fed input"));
    o.method = LRPX_ATTR_GRADIENT_X_INPUT;     /* one pass: fine */
    attribute_ok(s2, &o);
    lrpx_session_free(s2);
    lrpx_model_free(m2);
    lrpx_test_model_free(tm);
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}
END_TEST

static Suite *
methods_suite(void)
{
    Suite *s = suite_create("methods");
    /* read before any test runs (Check's asserts need a running test; a
     * missing or empty index fails test_reference_coverage) */
    const char *dir = getenv("LRPX_TESTDATA");
    char        path[4096];
    snprintf(path, sizeof path, "%s/expected/methods/index.json", dir ? dir : "testdata");
    FILE *f = fopen(path, "rb");
    if (f) {
        static char text[1 << 20];
        size_t      len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        ref_index = cJSON_ParseWithLength(text, len);
    }
    n_ref_cases = ref_index ? cJSON_GetArraySize(cJSON_GetObjectItem(ref_index, "cases")) : 0;

    TCase *t = tcase_create("reference");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, test_reference, 0, n_ref_cases);
    tcase_add_test(t, test_reference_coverage);
    suite_add_tcase(s, t);
    t = tcase_create("api");
    tcase_set_timeout(t, 600);        /* generous: sanitizer builds on a busy machine */
    tcase_add_test(t, test_quadrature_gauss_legendre);
    tcase_add_test(t, test_quadrature_riemann);
    tcase_add_test(t, test_names);
    tcase_add_test(t, test_internal_batch);
    tcase_add_test(t, test_targets_per_sample);
    tcase_add_test(t, test_noise_drawn);
    tcase_add_test(t, test_taylor_linear);
    tcase_add_test(t, test_taylor_fmnist);
    tcase_add_test(t, test_modes_reset);
    tcase_add_test(t, test_tricks_any_method);
    tcase_add_test(t, test_errors);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    int rc = lrpx_test_main(methods_suite());
    cJSON_Delete(ref_index);
    return rc;
}
