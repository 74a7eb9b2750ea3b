/* `lrpx explain --batch N` and `lrpx gradient --batch N` as programs: the
 * samples of a folder go through the session N per pass, and everything
 * written or printed must be what one pass over all samples gives.
 *
 *   - the 8 Fashion-MNIST images of testdata/images with --batch 1, 2 and 5
 *     (5 does not divide 8) against no --batch: LRP (default composite,
 *     with --json, the per-layer report and a --layer map), integrated
 *     gradients, smoothgrad (drawn noise), gradient and gradient x input:
 *     the .npy maps within 1e-5 relative L2 and the per-sample lines the
 *     same text but for a last printed digit (a pass of one sample rounds
 *     its matrix-vector products differently);
 *   - the gradient in passes of 3 against PyTorch's
 *     (testdata/expected/fmnist_cnn_<i>_grad.npy, scripts/train_fmnist.py)
 *     within 1e-4, and gradient x input against PyTorch's gradient times
 *     the image;
 *   - the tensors given per sample are cut per pass: a --seed-npy of one
 *     row per sample, an integrated-gradients --baseline of one image per
 *     sample, a feature-ablation --feature-mask of one image of groups per
 *     sample and smoothgrad --noise rows of each sample give for every
 *     sample in passes of 3 the map of that image explained alone with
 *     its own row;
 *   - a model whose batch is fixed at 1 (a linear layer built here)
 *     explains the folder one sample per pass by default; its gradient is
 *     the weight row of the predicted class, computed here in double;
 *   - the 8 rows of one .npy are 8 samples: one line each (the folder's
 *     lines), and gradient's --json sum and max_abs of each row's own map;
 *   - "lrpx CMD: 8 samples in T s, X per second (N per pass)" on stderr
 *     with several samples, not with --quiet, one sample or in --json's
 *     stdout;
 *   - --batch 0, negative, not a number, empty, a fraction, and --batch
 *     with --translate: exit status 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli_util.h"

enum { N_IMG = 8, PIX = 28 * 28, N_CLS = 10 };

/* the files of testdata/images, in the folder's order */
static const char *const IMG_NAMES[N_IMG] = {"0_ankle_boot", "1_pullover", "2_trouser", "3_shirt",
                                             "4_coat",       "5_sandal",   "6_sneaker", "7_dress"};

/* the bundled CNN and the folder of its 8 images (lrpx_test_path's
 * buffers rotate: copies kept for the whole test) */
static char model_path[LRPX_TEST_PATH_MAX], images_dir[LRPX_TEST_PATH_MAX];

static void
setup(void)
{
    cli_setup();
    lrpx_test_snprintf(model_path, sizeof model_path, "%s",
                       lrpx_test_path("models/fmnist_cnn.onnx"));
    lrpx_test_snprintf(images_dir, sizeof images_dir, "%s", lrpx_test_path("images"));
}

/* The lines of out_text that start with "sample " (the per-sample
 * report), into buf. */
static void
sample_lines(char *buf, size_t size)
{
    size_t k = 0;
    buf[0]   = '\0';
    for (const char *p = out_text; *p;) {
        const char *e = strchr(p, '\n');
        size_t      l = e ? (size_t)(e - p + 1) : strlen(p);
        if (!strncmp(p, "sample ", 7) && k + l < size) {
            memcpy(buf + k, p, l);
            k += l;
            buf[k] = '\0';
        }
        p += l;
    }
}

/* The value of a printed number token ("(67.08%", "2.13892", "1e-05") and
 * one unit of its last digit (0 for a whole number); false when it is not
 * a number. */
static bool
token_number(const char *t, size_t len, double *v, double *unit)
{
    char buf[64];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, t, len);
    buf[len]  = '\0';
    char *p   = buf + (buf[0] == '(');
    char *end = NULL;
    *v        = strtod(p, &end);
    if (end == p || (*end && strcmp(end, "%") && strcmp(end, ")") && strcmp(end, "%)")))
        return false;
    const char *dot = strchr(p, '.'), *e = strpbrk(p, "eE");
    int         dec = 0;
    for (const char *q = dot ? dot + 1 : end; dot && q < (e ? e : end) && *q >= '0' && *q <= '9';
         q++)
        dec++;
    /* whole numbers (class indices, sample numbers) must agree exactly */
    *unit = !dot && !e ? 0.0 : pow(10.0, -dec) * (e ? pow(10.0, strtod(e + 1, NULL)) : 1.0);
    return true;
}

/* Two reports the same text, except that a number may differ by one unit
 * in its last printed digit or 1e-5 relative (a pass of one sample rounds
 * its matrix-vector products differently; docs/cli.md). */
static bool
lines_match(const char *a, const char *b)
{
    while (*a || *b) {
        size_t la = strcspn(a, " \n"), lb = strcspn(b, " \n");
        double x, y, ux, uy;
        if (!(la == lb && !strncmp(a, b, la)) &&
            !(token_number(a, la, &x, &ux) && token_number(b, lb, &y, &uy) &&
              fabs(x - y) <= fmax(ux, uy) * 1.000001 + 1e-5 * fabs(x)))
            return false;
        a += la;
        b += lb;
        if (*a != *b)
            return false;
        if (*a) {
            a++;
            b++;
        }
    }
    return true;
}

/* The per-layer lines of the LRP report ("  name op rule in out ratio"),
 * in and out parsed, into in[] / out[]; returns how many. */
static int
layer_sums(double *in, double *out, int max)
{
    const char *p = strstr(out_text, "relevance per layer");
    int         n = 0;
    if (!p)
        return 0;
    p = strchr(p, '\n');
    p = p ? strchr(p + 1, '\n') : NULL; /* the column header */
    while (p && p[1] == ' ' && n < max) {
        char   name[64], op[32], rule[64];
        double a, b;
        if (sscanf(p + 1, "%63s %31s %63s %lf %lf", name, op, rule, &a, &b) != 5)
            break;
        in[n]    = a;
        out[n++] = b;
        p        = strchr(p + 1, '\n');
    }
    return n;
}

static lrpx_npy *
load(const char *path)
{
    return lrpx_test_npy_load(path);
}

static void
assert_maps_near(const char *got_path, const lrpx_npy *want, double tol, const char *what)
{
    lrpx_npy *g = load(got_path);
    ck_assert_int_eq(g->rank, want->rank);
    for (int k = 0; k < g->rank; k++)
        ck_assert_int_eq(g->dims[k], want->dims[k]);
    double err = lrpx_test_rel_err_f32(g->data, want->data, g->n_elems);
    ck_assert_msg(err <= tol, "%s: relative L2 error %.3g > %.3g", what, err, tol);
    lrpx_npy_free(g);
}

/* One command over the folder without --batch and with --batch 1, 2, 5:
 * the maps (-o) within 1e-5, the same per-sample lines, the samples per
 * second line with the pass size. extra: the command's other arguments
 * (NULL-terminated, at most 8). */
static void
check_chunked(const char *cmd, const char *const *extra)
{
    char        want_lines[8192], got_lines[8192];
    double      want_in[64], want_out[64], in[64], out[64];
    const char *args[24];
    int         n = 0;
    args[n++]     = cmd;
    args[n++]     = model_path;
    args[n++]     = images_dir;
    for (int i = 0; extra[i]; i++)
        args[n++] = extra[i];
    args[n++] = "-o";
    args[n++] = tpath("all.npy");
    args[n]   = NULL;
    ck_assert_msg(run_cli_argv(args, NULL) == 0, "%s", err_text);
    char rate[64];
    snprintf(rate, sizeof rate, "lrpx %s: %d samples in ", cmd, N_IMG);
    ck_assert_msg(strstr(err_text, rate) && strstr(err_text, "per second (8 per pass)"), "%s",
                  err_text);
    sample_lines(want_lines, sizeof want_lines);
    ck_assert_msg(strstr(want_lines, "sample 7:"), "%s", out_text);
    int       n_layers = layer_sums(want_in, want_out, 64);
    lrpx_npy *want     = load(tpath("all.npy"));
    ck_assert_int_eq(want->dims[0], N_IMG);

    static const char *const sizes[] = {"1", "2", "5"};
    for (int k = 0; k < 3; k++) {
        args[n - 1] = tpath("part.npy");
        args[n]     = "--batch";
        args[n + 1] = sizes[k];
        args[n + 2] = NULL;
        ck_assert_msg(run_cli_argv(args, NULL) == 0, "--batch %s: %s", sizes[k], err_text);
        char pass[64];
        snprintf(pass, sizeof pass, "per second (%s per pass)", sizes[k]);
        ck_assert_msg(strstr(err_text, rate) && strstr(err_text, pass), "%s", err_text);
        char what[128];
        snprintf(what, sizeof what, "%s %s --batch %s", cmd, extra[0] ? extra[0] : "", sizes[k]);
        assert_maps_near(tpath("part.npy"), want, 1e-5, what);
        sample_lines(got_lines, sizeof got_lines);
        /* the same text; another pass size may move a last digit (the
         * library's products may round a sample differently by batch) */
        ck_assert_msg(lines_match(got_lines, want_lines),
                      "%s: the per-sample lines differ:"
                      "\n%s\nagainst one pass:\n%s",
                      what, got_lines, want_lines);
        /* LRP: the per-layer sums are over every sample */
        ck_assert_int_eq(layer_sums(in, out, 64), n_layers);
        for (int i = 0; i < n_layers; i++) {
            ck_assert_msg(fabs(in[i] - want_in[i]) <= 1e-5 * fabs(want_in[i]) + 1e-9,
                          "%s: layer %d in %.9g vs %.9g", what, i, in[i], want_in[i]);
            ck_assert_msg(fabs(out[i] - want_out[i]) <= 1e-5 * fabs(want_out[i]) + 1e-9,
                          "%s: layer %d out %.9g vs %.9g", what, i, out[i], want_out[i]);
        }
    }
    lrpx_npy_free(want);
}

START_TEST(test_explain_lrp_chunks)
{
    /* the comparison of printed lines can fail */
    ck_assert(lines_match("sample 5: class 5  max |.| 2.13892 (67.08%)\n",
                          "sample 5: class 5  max |.| 2.13893 (67.09%)\n"));
    ck_assert(!lines_match("sample 5: class 5  max 2.13892\n", "sample 5: class 4  max 2.13892\n"));
    ck_assert(!lines_match("sample 5: class 5  max 2.13892\n", "sample 5: class 5  max 2.13896\n"));
    ck_assert(!lines_match("sample 5: class 5  sum 1e-05\n", "sample 5: class 5  sum 3e-05\n"));
    ck_assert(!lines_match("sample 5: class 5\n", "sample 5: class 5\nsample 6: class 1\n"));
    check_chunked("explain", (const char *const[]){NULL});
    /* the conservation report has all 10 nodes of the CNN */
    double in[64], out[64];
    ck_assert_int_eq(layer_sums(in, out, 64), 10);
}
END_TEST

START_TEST(test_explain_methods_chunks)
{
    check_chunked("explain",
                  (const char *const[]){"--method", "integrated-gradients", "--steps", "16", NULL});
    ck_assert_ptr_nonnull(strstr(out_text, "completeness gap"));
    check_chunked("explain", (const char *const[]){"--method", "smoothgrad", "--samples", "12",
                                                   "--seed", "7", NULL});
}
END_TEST

START_TEST(test_gradient_chunks)
{
    check_chunked("gradient", (const char *const[]){NULL});
    check_chunked("gradient", (const char *const[]){"--times-input", NULL});
}
END_TEST

/* --json: the samples of every pass, in order, and the --layer map
 * joined along axis 0; the rate line stays on stderr */
START_TEST(test_explain_json_and_layer)
{
    const char *layer = "/features/features.3/Conv_output_0";
    char        one[65536];
    ck_assert_msg(run_cli("explain", model_path, images_dir, "--json", "--layer", layer, "-o2",
                          tpath("l_all.npy"), NULL) == 0,
                  "%s", err_text);
    memcpy(one, out_text, sizeof one);
    ck_assert_msg(run_cli("explain", model_path, images_dir, "--json", "--layer", layer, "-o2",
                          tpath("l_3.npy"), "--batch", "3", NULL) == 0,
                  "%s", err_text);
    ck_assert_ptr_nonnull(strstr(err_text, "(3 per pass)"));
    cJSON *a = cJSON_Parse(one), *b = cJSON_Parse(out_text);
    ck_assert_msg(a && b, "not JSON: %s", out_text);
    ck_assert_ptr_null(strstr(out_text, "per second"));
    cJSON *sa = cJSON_GetObjectItem(a, "samples"), *sb = cJSON_GetObjectItem(b, "samples");
    ck_assert_int_eq(cJSON_GetArraySize(sa), N_IMG);
    ck_assert_int_eq(cJSON_GetArraySize(sb), N_IMG);
    for (int i = 0; i < N_IMG; i++) {
        cJSON *x = cJSON_GetArrayItem(sa, i), *y = cJSON_GetArrayItem(sb, i);
        ck_assert_int_eq(cJSON_GetObjectItem(x, "class")->valueint,
                         cJSON_GetObjectItem(y, "class")->valueint);
        const char *keys[] = {"logit", "relevance_sum"};
        for (int k = 0; k < 2; k++) {
            double u = cJSON_GetObjectItem(x, keys[k])->valuedouble;
            double v = cJSON_GetObjectItem(y, keys[k])->valuedouble;
            ck_assert_msg(fabs(u - v) <= 1e-5 * fabs(u), "sample %d %s: %.9g vs %.9g", i, keys[k],
                          v, u);
        }
    }
    cJSON *la = cJSON_GetObjectItem(a, "layers"), *lb = cJSON_GetObjectItem(b, "layers");
    ck_assert_int_eq(cJSON_GetArraySize(la), cJSON_GetArraySize(lb));
    for (int i = 0; i < cJSON_GetArraySize(la); i++) {
        double u = cJSON_GetObjectItem(cJSON_GetArrayItem(la, i), "r_out")->valuedouble;
        double v = cJSON_GetObjectItem(cJSON_GetArrayItem(lb, i), "r_out")->valuedouble;
        ck_assert_msg(fabs(u - v) <= 1e-5 * fabs(u), "layer %d: %.9g vs %.9g", i, v, u);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    lrpx_npy *want = load(tpath("l_all.npy"));
    ck_assert_int_eq(want->dims[0], N_IMG);
    assert_maps_near(tpath("l_3.npy"), want, 1e-5, "--layer in passes of 3");
    lrpx_npy_free(want);
}
END_TEST

/* ---- against PyTorch ---- */

START_TEST(test_gradient_chunks_pytorch)
{
    ck_assert_msg(run_cli("gradient", model_path, images_dir, "--batch", "3", "-o", tpath("g.npy"),
                          NULL) == 0,
                  "%s", err_text);
    ck_assert_msg(run_cli("gradient", model_path, images_dir, "--batch", "3", "--times-input", "-o",
                          tpath("gx.npy"), NULL) == 0,
                  "%s", err_text);
    lrpx_npy *g = load(tpath("g.npy")), *gx = load(tpath("gx.npy"));
    ck_assert_int_eq(g->n_elems, N_IMG * PIX);
    ck_assert_int_eq(gx->n_elems, N_IMG * PIX);
    for (int i = 0; i < N_IMG; i++) {
        char ref[128], img[128];
        snprintf(ref, sizeof ref, "expected/fmnist_cnn_%d_grad.npy", i);
        snprintf(img, sizeof img, "images/fmnist_%s.npy", IMG_NAMES[i]);
        lrpx_npy *r = load(lrpx_test_path(ref)), *x = load(lrpx_test_path(img));
        ck_assert_int_eq(r->n_elems, PIX);
        double err = lrpx_test_rel_err_f32((const float *)g->data + i * PIX, r->data, PIX);
        ck_assert_msg(err <= 1e-4, "gradient of image %d: %.3g from PyTorch", i, err);
        float *want = r->data;
        for (int e = 0; e < PIX; e++)
            want[e] *= ((const float *)x->data)[e];
        err = lrpx_test_rel_err_f32((const float *)gx->data + i * PIX, want, PIX);
        ck_assert_msg(err <= 1e-4, "gradient x input of image %d: %.3g from PyTorch", i, err);
        lrpx_npy_free(r);
        lrpx_npy_free(x);
    }
    lrpx_npy_free(g);
    lrpx_npy_free(gx);
}
END_TEST

/* ---- tensors given per sample ---- */

/* Write a float32 .npy of the given shape. */
/* A .npy of the given shape: float32, or (groups) the numbers as int64
 * group ids (their floor shifted to >= 0). */
static void
write_npy(const char *path, int rank, const int64_t *dims, const float *data, bool groups)
{
    char    err[512];
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    int64_t *ids = groups ? malloc(sizeof(int64_t) * (size_t)n) : NULL;
    for (int64_t i = 0; groups && i < n; i++)
        ids[i] = (int64_t)floorf(data[i]) + 1000;
    ck_assert_msg(lrpx_npy_write(path, groups ? LRPX_DTYPE_INT64 : LRPX_DTYPE_FLOAT32, rank, dims,
                                 groups ? (const void *)ids : data, err, sizeof err) == LRPX_OK,
                  "%s", err);
    free(ids);
}

/* Deterministic numbers in [-a, a) (a linear congruential generator). */
static void
fill(float *x, int64_t n, uint64_t seed, float a)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = a * (2.0f * (float)((seed >> 40) & 0xffffff) / 16777216.0f - 1.0f);
    }
}

/* The folder explained in passes of 3 with the per-sample file (flag,
 * rows_per rows per sample of the sample's shape, numbers in
 * [-amplitude, amplitude)) equals each image explained
 * alone with its own rows. */
static void
check_per_sample_file(const char *flag, int64_t rows_per, int rank, const int64_t *sample_dims,
                      float amplitude, const char *const *extra)
{
    int64_t per = 1;
    for (int k = 0; k < rank - 1; k++)
        per *= sample_dims[k];
    float  *all = malloc(sizeof(float) * (size_t)(N_IMG * rows_per * per));
    int64_t dims[LRPX_MAX_RANK];
    ck_assert_ptr_nonnull(all);
    fill(all, N_IMG * rows_per * per, 12345, amplitude);
    dims[0] = N_IMG * rows_per;
    memcpy(dims + 1, sample_dims, sizeof(int64_t) * (size_t)(rank - 1));
    bool groups = !strcmp(flag, "--feature-mask");
    write_npy(tpath("per_all.npy"), rank, dims, all, groups);

    const char *args[24];
    int         n = 0;
    args[n++]     = "explain";
    args[n++]     = model_path;
    int at        = n++; /* the input */
    args[n++]     = flag;
    int file      = n++;
    for (int i = 0; extra[i]; i++)
        args[n++] = extra[i];
    args[n++] = "-o";
    int out   = n++;
    args[n]   = NULL;

    args[at]    = images_dir;
    args[file]  = tpath("per_all.npy");
    args[out]   = tpath("chunked.npy");
    args[n]     = "--batch";
    args[n + 1] = "3";
    args[n + 2] = NULL;
    ck_assert_msg(run_cli_argv(args, NULL) == 0, "%s: %s", flag, err_text);
    args[n]     = NULL;
    lrpx_npy *c = load(tpath("chunked.npy"));
    ck_assert_int_eq(c->n_elems, N_IMG * PIX);
    for (int i = 0; i < N_IMG; i++) {
        char img[128];
        snprintf(img, sizeof img, "images/fmnist_%s.png", IMG_NAMES[i]);
        dims[0] = rows_per;
        write_npy(tpath("per_one.npy"), rank, dims, all + i * rows_per * per, groups);
        args[at]   = lrpx_test_path(img);
        args[file] = tpath("per_one.npy");
        args[out]  = tpath("one.npy");
        ck_assert_msg(run_cli_argv(args, NULL) == 0, "%s, image %d: %s", flag, i, err_text);
        lrpx_npy *o = load(tpath("one.npy"));
        ck_assert_int_eq(o->n_elems, PIX);
        double err = lrpx_test_rel_err_f32((const float *)c->data + i * PIX, o->data, PIX);
        /* a pass of one row takes other matrix-product paths, and random
         * seeds make sums that cancel: 1e-4 (a row cut wrongly is O(1)) */
        ck_assert_msg(err <= 1e-4, "%s: image %d in passes of 3 is %.3g from the image alone", flag,
                      i, err);
        lrpx_npy_free(o);
    }
    lrpx_npy_free(c);
    free(all);
}

START_TEST(test_per_sample_tensors)
{
    /* a full output seed: one row of 10 logits' relevance per sample */
    check_per_sample_file("--seed-npy", 1, 2, (const int64_t[]){N_CLS}, 3.0f,
                          (const char *const[]){NULL});
    /* a baseline image per sample */
    check_per_sample_file(
        "--baseline", 1, 4, (const int64_t[]){1, 28, 28}, 0.5f,
        (const char *const[]){"--method", "integrated-gradients", "--steps", "8", NULL});
    /* integer groups of pixels per sample (about 12 groups each) */
    check_per_sample_file("--feature-mask", 1, 4, (const int64_t[]){1, 28, 28}, 6.0f,
                          (const char *const[]){"--method", "feature-ablation", NULL});
    /* 4 noise rows per sample (batch x samples) */
    check_per_sample_file("--noise", 4, 4, (const int64_t[]){1, 28, 28}, 0.2f,
                          (const char *const[]){"--method", "smoothgrad", "--samples", "4", NULL});
}
END_TEST

/* ---- a model of fixed batch 1 ---- */

START_TEST(test_fixed_batch_model)
{
    float w[N_CLS * PIX], bias[N_CLS];
    fill(w, N_CLS * PIX, 99, 0.05f);
    fill(bias, N_CLS, 7, 0.1f);
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "input", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 28, 28});
    lrpx_test_model_init_f32(m, "W", 2, (int64_t[]){N_CLS, PIX}, w);
    lrpx_test_model_init_f32(m, "B", 1, (int64_t[]){N_CLS}, bias);
    lrpx_test_model_node(m, "Flatten", "flat", LT_IO("input"), LT_IO("f"), NULL);
    lrpx_test_model_node(m, "Gemm", "fc", LT_IO("f", "W", "B"), LT_IO("logits"),
                         LT_INT("transB", 1), NULL);
    lrpx_test_model_output(m, "logits");
    lrpx_test_model_save(m, tpath("fixed.onnx"));
    lrpx_test_model_free(m);

    /* the default: the model's batch, one sample per pass */
    ck_assert_msg(
        run_cli("gradient", tpath("fixed.onnx"), images_dir, "-o", tpath("g.npy"), NULL) == 0, "%s",
        err_text);
    ck_assert_msg(strstr(err_text, "8 samples in") && strstr(err_text, "(1 per pass)"), "%s",
                  err_text);
    lrpx_npy *g = load(tpath("g.npy"));
    ck_assert_int_eq(g->rank, 4);
    ck_assert_int_eq(g->dims[0], N_IMG);
    for (int i = 0; i < N_IMG; i++) {
        char img[128];
        snprintf(img, sizeof img, "images/fmnist_%s.npy", IMG_NAMES[i]);
        lrpx_npy *x    = load(lrpx_test_path(img));
        int       best = 0;
        double    top  = -INFINITY;
        for (int c = 0; c < N_CLS; c++) {
            double z = bias[c];
            for (int e = 0; e < PIX; e++)
                z += (double)w[c * PIX + e] * ((const float *)x->data)[e];
            if (z > top) {
                top  = z;
                best = c;
            }
        }
        double err = lrpx_test_rel_err_f32((const float *)g->data + i * PIX, w + best * PIX, PIX);
        ck_assert_msg(err <= 1e-6, "image %d: the gradient is %.3g from W[%d]", i, err, best);
        lrpx_npy_free(x);
    }
    lrpx_npy_free(g);
    /* more samples per pass than the model takes: the error names them */
    ck_assert_int_eq(run_cli("gradient", tpath("fixed.onnx"), images_dir, "--batch", "3", "-o",
                             tpath("h.npy"), NULL),
                     1);
    ck_assert_msg(strstr(err_text, "samples 0 to 2 of 8"), "%s", err_text);
    ck_assert(!exists(tpath("h.npy")));
}
END_TEST

/* ---- the rows of one .npy are samples ---- */

START_TEST(test_rows_of_one_npy)
{
    char want[8192], got[8192], x8[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(x8, sizeof x8, "%s", lrpx_test_path("images/fmnist_batch8.npy"));
    /* the folder of the same 8 images: one line per sample */
    ck_assert_msg(run_cli("gradient", model_path, images_dir, "-q", NULL) == 0, "%s", err_text);
    sample_lines(want, sizeof want);
    ck_assert_msg(run_cli("gradient", model_path, x8, "--batch", "3", "-q", NULL) == 0, "%s",
                  err_text);
    sample_lines(got, sizeof got);
    ck_assert_msg(lines_match(got, want), "%s\nagainst the folder's\n%s", got, want);
    ck_assert_msg(run_cli("explain", model_path, images_dir, "--method", "saliency", "-q", NULL) ==
                      0,
                  "%s", err_text);
    sample_lines(want, sizeof want);
    ck_assert_msg(
        run_cli("explain", model_path, x8, "--method", "saliency", "--batch", "3", "-q", NULL) == 0,
        "%s", err_text);
    sample_lines(got, sizeof got);
    ck_assert_msg(strstr(got, "sample 7:") && lines_match(got, want),
                  "%s\nagainst the folder's\n%s", got, want);

    /* --json: each sample's sum and largest |g| are its own row's */
    ck_assert_msg(run_cli("gradient", model_path, x8, "--batch", "3", "--json", "-o",
                          tpath("g.npy"), NULL) == 0,
                  "%s", err_text);
    cJSON    *j  = cJSON_Parse(out_text);
    lrpx_npy *g  = load(tpath("g.npy"));
    cJSON    *sm = cJSON_GetObjectItem(j, "samples");
    ck_assert_int_eq(cJSON_GetArraySize(sm), N_IMG);
    for (int i = 0; i < N_IMG; i++) {
        const float *r   = (const float *)g->data + i * PIX;
        double       sum = 0.0, amax = 0.0;
        for (int e = 0; e < PIX; e++) {
            sum += r[e];
            amax = fmax(amax, fabs(r[e]));
        }
        cJSON *x = cJSON_GetArrayItem(sm, i);
        double u = cJSON_GetObjectItem(x, "sum")->valuedouble;
        double v = cJSON_GetObjectItem(x, "max_abs")->valuedouble;
        ck_assert_msg(fabs(u - sum) <= 1e-6 * (fabs(sum) + amax), "sample %d sum %.9g vs %.9g", i,
                      u, sum);
        ck_assert_msg(fabs(v - amax) <= 1e-7 * amax, "sample %d max_abs %.9g vs %.9g", i, v, amax);
    }
    lrpx_npy_free(g);
    cJSON_Delete(j);
}
END_TEST

/* ---- the rate line and bad values ---- */

START_TEST(test_rate_line_and_errors)
{
    const char *m = model_path, *dir = images_dir;
    ck_assert_msg(run_cli("explain", m, dir, "--quiet", "--batch", "3", NULL) == 0, "%s", err_text);
    ck_assert_msg(!strstr(err_text, "per second"), "%s", err_text);
    ck_assert_msg(run_cli("gradient", m, lrpx_test_path("images/fmnist_3_shirt.png"), "--batch",
                          "3", NULL) == 0,
                  "%s", err_text);
    ck_assert_msg(!strstr(err_text, "per second"), "one sample: %s", err_text);
    ck_assert_msg(run_cli("gradient", m, dir, "--json", NULL) == 0, "%s", err_text);
    ck_assert_msg(strstr(err_text, "lrpx gradient: 8 samples in"), "%s", err_text);
    ck_assert_ptr_null(strstr(out_text, "per second"));

    static const char *const bad[] = {"0", "-2", "abc", "", "1.5", "3x", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(run_cli("explain", m, dir, "--batch", bad[i], NULL), 2);
        ck_assert_msg(strstr(err_text, "--batch"), "%s", err_text);
        ck_assert_int_eq(run_cli("gradient", m, dir, "--batch", bad[i], NULL), 2);
        ck_assert_msg(strstr(err_text, "--batch"), "%s", err_text);
    }
    ck_assert_int_eq(run_cli("gradient", m, dir, "--batch", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, dir, "--batch", "2", "--translate", "1", NULL), 2);
    ck_assert_msg(strstr(err_text, "--translate"), "%s", err_text);
}
END_TEST

static Suite *
explain_batch_suite(void)
{
    Suite *s  = suite_create("explain_batch");
    TCase *tc = tcase_create("passes");
    tcase_add_checked_fixture(tc, setup, cli_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_explain_lrp_chunks);
    tcase_add_test(tc, test_explain_methods_chunks);
    tcase_add_test(tc, test_gradient_chunks);
    tcase_add_test(tc, test_explain_json_and_layer);
    tcase_add_test(tc, test_gradient_chunks_pytorch);
    tcase_add_test(tc, test_per_sample_tensors);
    tcase_add_test(tc, test_fixed_batch_model);
    tcase_add_test(tc, test_rows_of_one_npy);
    tcase_add_test(tc, test_rate_line_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(explain_batch_suite());
}
