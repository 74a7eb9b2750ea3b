/* Suite "models": real exported models against the outputs of the
 * framework that exported them.
 *
 * - testdata/models/zoo_small/NAME.onnx: small torchvision-style networks
 *   exported by scripts/export_zoo.py, with PyTorch's output for one real
 *   photo (NAME.torch.npy). Each must load with every op supported, run,
 *   agree within 1e-4 of the largest output magnitude, and give PyTorch's
 *   top-1 class.
 * - Models with BatchNormalization kept in the file: the folding pass
 *   (default) and the unfolded graph agree within float32 noise.
 * - the bundled Fashion-MNIST CNN on its 8 real test images, one at a time
 *   (batch dim added) and as a batch, against PyTorch (1e-5 relative).
 * - the TF-style NHWC graph against its numpy float64 reference.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lrpx_test.h"
#include "exec/session.h"   /* white box: which values a compact plan shares */

struct model_case {
    const char *name;      /* under testdata/models/zoo_small */
    bool        has_bn;    /* BatchNormalization nodes in the file */
};

static const struct model_case zoo_small[] = {
    {"alexnet_tiny", false},       {"densenet_tiny", true},
    {"efficientnet_tiny", false},  {"googlenet_tiny", false},
    {"mobilenet_v2_tiny", false},  {"mobilenet_v2_tiny_bn", true},
    {"resnet_tiny", false},        {"resnet_tiny_bn", true},
    {"squeezenet_tiny", false},
};
#define N_ZOO ((int)(sizeof zoo_small / sizeof zoo_small[0]))

/* Run model `path` on `input` (npy), return the first output copied into
 * out (n floats, at most cap). */
static int64_t
run_model(const char *path, const lrpx_npy *input, bool fold_bn, float *out, int64_t cap)
{
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.fold_batchnorm = fold_bn;
    lrpx_model *m;
    lrpx_status rc = lrpx_model_load_file(path, &o, &m);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", path, lrpx_model_errmsg(m));
    for (int i = 0; i < lrpx_model_n_nodes(m, 0); i++) {
        lrpx_node_info ni;
        ck_assert_int_eq(lrpx_model_node_info(m, 0, i, &ni), LRPX_OK);
        ck_assert_msg(ni.supported, "%s: op %s unsupported", path, ni.op_type);
    }
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    rc = lrpx_session_set_input(s, NULL, input->dtype, input->rank, input->dims, input->data);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", path, lrpx_session_errmsg(s));
    rc = lrpx_session_run(s);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", path, lrpx_session_errmsg(s));
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_FLOAT32);
    ck_assert_int_le(v.n_elems, cap);
    memcpy(out, v.data, (size_t)v.n_elems * sizeof(float));
    int64_t n = v.n_elems;
    lrpx_session_free(s);
    lrpx_model_free(m);
    return n;
}

static int64_t
argmax(const float *a, int64_t n)
{
    int64_t k = 0;
    for (int64_t i = 1; i < n; i++)
        if (a[i] > a[k])
            k = i;
    return k;
}

static double
max_abs(const float *a, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

static double
max_diff(const float *a, const float *b, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* The files of a small zoo model: NAME.onnx, NAME.input.npy, NAME.torch.npy */
struct zoo_files {
    char model[1024], input[1024], ref[1024];
};

static void
zoo_files(const struct model_case *c, struct zoo_files *f)
{
    const char *dir = lrpx_test_path("models/zoo_small");
    lrpx_test_snprintf(f->model, sizeof f->model, "%s/%s.onnx", dir, c->name);
    lrpx_test_snprintf(f->input, sizeof f->input, "%s/%s.input.npy", dir, c->name);
    lrpx_test_snprintf(f->ref, sizeof f->ref, "%s/%s.torch.npy", dir, c->name);
}

START_TEST(test_zoo_small)
{
    const struct model_case *c = &zoo_small[_i];
    struct zoo_files         f;
    zoo_files(c, &f);
    const char *path = f.model, *in_path = f.input, *ref_path = f.ref;
    lrpx_npy *in  = lrpx_test_npy_load(in_path);
    lrpx_npy *ref = lrpx_test_npy_load(ref_path);
    float     out[4096];
    int64_t   n = run_model(path, in, true, out, 4096);
    ck_assert_int_eq(n, ref->n_elems);
    const float *r   = ref->data;
    double       rel = max_diff(out, r, n) / max_abs(r, n);
    ck_assert_msg(rel <= 1e-4, "%s: max |lrpx - torch| / max |torch| = %.3g", c->name, rel);
    ck_assert_int_eq(argmax(out, n), argmax(r, n));
    if (c->has_bn) {
        /* the unfolded graph computes the same function; the two differ by
         * float32 rounding only, which this network amplifies to about the
         * size of PyTorch's own float32-vs-float64 difference */
        float   unf[4096];
        int64_t n2 = run_model(path, in, false, unf, 4096);
        ck_assert_int_eq(n2, n);
        double d = max_diff(out, unf, n) / max_abs(unf, n);
        ck_assert_msg(d <= 2e-5, "%s: folded vs unfolded BatchNorm differ by %.3g", c->name, d);
    }
    lrpx_npy_free(in);
    lrpx_npy_free(ref);
}
END_TEST

/* A session that keeps only outputs (buffers shared by lifetime, fused
 * activations in their layer's buffer) gives the same bits as one that
 * keeps everything, refuses intermediate values, and still explains
 * (switching back to keeping all). */
START_TEST(test_keep_outputs)
{
    const struct model_case *c = &zoo_small[_i];
    struct zoo_files         f;
    zoo_files(c, &f);
    lrpx_npy   *in = lrpx_test_npy_load(f.input);
    lrpx_model *m;
    ck_assert_msg(lrpx_model_load_file(f.model, NULL, &m) == LRPX_OK, "%s", lrpx_model_errmsg(m));
    lrpx_session *all, *outs;
    ck_assert_int_eq(lrpx_session_init(m, &all), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &outs), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_keep(outs, LRPX_KEEP_OUTPUTS), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_keep(outs, (lrpx_keep)LRPX_KEEP_COUNT), LRPX_EINVAL);
    lrpx_session *ss[2] = {all, outs};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(lrpx_session_set_input(ss[k], NULL, in->dtype, in->rank, in->dims,
                                                in->data), LRPX_OK);
        for (int rep = 0; rep < 2; rep++)      /* a second run over reused buffers */
            ck_assert_msg(lrpx_session_run(ss[k]) == LRPX_OK, "%s", lrpx_session_errmsg(ss[k]));
    }
    for (int i = 0; i < lrpx_model_n_outputs(m); i++) {
        lrpx_tensor_view a, b;
        ck_assert_int_eq(lrpx_session_output(all, i, &a), LRPX_OK);
        ck_assert_int_eq(lrpx_session_output(outs, i, &b), LRPX_OK);
        ck_assert_int_eq(a.n_elems, b.n_elems);
        ck_assert_msg(memcmp(a.data, b.data, (size_t)a.n_elems * lrpx_dtype_size(a.dtype)) == 0,
                      "%s: output %d differs when only outputs are kept", c->name, i);
    }
    /* a value whose buffer was shared cannot be read; the output can */
    int shared = -1;
    for (int v = 0; v < m->g.n_values && shared < 0; v++)
        if (outs->plan.compact && outs->plan.shared[v])
            shared = v;
    ck_assert_msg(shared >= 0, "%s: nothing shared", c->name);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_value(outs, m->g.values[shared].name, &v), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(lrpx_session_errmsg(outs), "not kept"));
    ck_assert_int_eq(lrpx_session_value(all, m->g.values[shared].name, &v), LRPX_OK);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    ck_assert_msg(lrpx_session_explain(outs, &o) == LRPX_OK, "%s", lrpx_session_errmsg(outs));
    ck_assert_int_eq(lrpx_session_explain(all, &o), LRPX_OK);
    lrpx_tensor_view ra, rb;
    ck_assert_int_eq(lrpx_session_relevance(all, NULL, &ra), LRPX_OK);
    ck_assert_int_eq(lrpx_session_relevance(outs, NULL, &rb), LRPX_OK);
    ck_assert(memcmp(ra.data, rb.data, (size_t)ra.n_elems * sizeof(float)) == 0);
    lrpx_session_free(all);
    lrpx_session_free(outs);
    lrpx_model_free(m);
    lrpx_npy_free(in);
}
END_TEST

START_TEST(test_fmnist_images)
{
    /* one image at a time, with the batch dimension missing in the file */
    for (int i = 0; i < 8; i++) {
        char pattern[64], ref_path[1024], in_path[1024] = "";
        lrpx_test_snprintf(pattern, sizeof pattern, "fmnist_%d_", i);
        /* images/fmnist_<i>_<label>.npy, as made by scripts/train_fmnist.py */
        static const char *names[] = {"ankle_boot", "pullover", "trouser", "shirt",
                                      "coat",       "sandal",   "sneaker", "dress"};
        char rel[256];
        lrpx_test_snprintf(rel, sizeof rel, "images/%s%s.npy", pattern, names[i]);
        lrpx_test_snprintf(in_path, sizeof in_path, "%s", lrpx_test_path(rel));
        lrpx_test_snprintf(rel, sizeof rel, "expected/fmnist_cnn_%d.npy", i);
        lrpx_test_snprintf(ref_path, sizeof ref_path, "%s", lrpx_test_path(rel));
        lrpx_npy *in  = lrpx_test_npy_load(in_path);
        lrpx_npy *ref = lrpx_test_npy_load(ref_path);
        ck_assert_int_eq(in->rank, 3);          /* 1x28x28: lrpx adds the batch */
        lrpx_npy in4 = *in;
        in4.rank     = 4;
        memmove(in4.dims + 1, in->dims, 3 * sizeof in->dims[0]);
        in4.dims[0] = 1;
        float   out[16];
        int64_t n = run_model(lrpx_test_path("models/fmnist_cnn.onnx"), &in4, true, out, 16);
        ck_assert_int_eq(n, 10);
        ck_assert_tensor_near(out, (const float *)ref->data, 10, 1e-5, 1e-5);
        lrpx_npy_free(in);
        lrpx_npy_free(ref);
    }
}
END_TEST

START_TEST(test_fmnist_batch)
{
    lrpx_npy *in  = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path("expected/fmnist_cnn_batch8.npy"));
    float     out[80];
    int64_t   n = run_model(lrpx_test_path("models/fmnist_cnn.onnx"), in, true, out, 80);
    ck_assert_int_eq(n, 80);
    ck_assert_tensor_near(out, (const float *)ref->data, 80, 1e-5, 1e-5);
    lrpx_npy_free(in);
    lrpx_npy_free(ref);
}
END_TEST

START_TEST(test_tf_style)
{
    lrpx_npy *in  = lrpx_test_npy_load(lrpx_test_path("models/tf_style_nhwc.input.npy"));
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path("models/tf_style_nhwc.expected.npy"));
    float     out[64];
    int64_t   n = run_model(lrpx_test_path("models/tf_style_nhwc.onnx"), in, true, out, 64);
    ck_assert_int_eq(n, ref->n_elems);
    /* the reference is float64 numpy, stored as float32 */
    ck_assert_tensor_near(out, (const float *)ref->data, n, 1e-4, 1e-6);
    lrpx_npy_free(in);
    lrpx_npy_free(ref);
}
END_TEST

static Suite *
models_suite(void)
{
    Suite *s = suite_create("models");
    TCase *t = tcase_create("zoo_small");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_zoo_small, 0, N_ZOO);
    tcase_add_loop_test(t, test_keep_outputs, 0, N_ZOO);
    suite_add_tcase(s, t);
    t = tcase_create("bundled");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_fmnist_images);
    tcase_add_test(t, test_fmnist_batch);
    tcase_add_test(t, test_tf_style);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(models_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
