/* The lrpx command-line tool with images: runs the built binary
 * ($LRPX_CLI, set by tests/meson.build) through posix_spawn.
 *
 *   - image inputs give the same logits as the bundled .npy inputs
 *     (testdata/expected, made by PyTorch), with the model's preset file
 *     and with the default preprocessing from the input shape;
 *   - `lrpx run --batch N` over a folder equals the images run one by one;
 *   - `lrpx preprocess` writes exactly the .npy tensors of the test data;
 *   - heatmaps: pixels against a bwr rendering of the written relevance
 *     computed here from the colour map's formula; sizes of panels,
 *     original-geometry maps, grids and sliding-window maps;
 *   - bad inputs (missing, empty, text, random, truncated and corrupted
 *     JPEG/PNG, a GIF, an empty folder, images mixed with arrays): exit
 *     status 1, a message naming the file, and no output file (-o,
 *     --heatmap, --grid) or temporary left behind;
 *   - bad flags: exit status 2;
 *   - an output that is one of the command's inputs (model, external data,
 *     images, arrays, folder members, rules/seed files; by any name, through
 *     symbolic and hard links) is refused with exit status 2 and the input
 *     is left as it was.
 *   - explain --method: the maps of the methods' flags against the float64
 *     references of tests/test_methods.c (the same files), the JSON
 *     report's fields, --grid columns per method, method flag errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"

/* the scratch folder of the test, and paths in it */
#define tmp       lrpx_test_scratch(NULL)
#define tpath(nm) lrpx_test_scratch(nm)
#define slurp     lrpx_test_read_text

static char err_text[65536];
static char out_text[65536];

/* Run lrpx with the arguments (NULL-terminated); stdout and stderr are
 * kept in out_text / err_text. Returns the exit status (-1: signal). */
static int
run_cli(const char *first, ...)
{
    const char *argv[64];
    int         n = 0;
    va_list     ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return lrpx_test_run_cli(tmp, out_text, sizeof out_text, err_text, sizeof err_text, argv);
}


static bool
exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Nothing but the inputs the test wrote: no outputs, no temporaries. */
static void
assert_no_outputs(const char *const *inputs)
{
    DIR *d = opendir(tmp);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        bool known = false;
        for (int i = 0; inputs[i]; i++)
            known |= !strcmp(inputs[i], e->d_name);
        ck_assert_msg(known, "left behind: %s/%s", tmp, e->d_name);
    }
    closedir(d);
}

static const char *MODEL = "models/fmnist_cnn.onnx";

/* ---- images give the .npy logits ---- */

START_TEST(test_run_image_matches_npy)
{
    static const char *names[] = {"0_ankle_boot", "1_pullover", "2_trouser", "3_shirt",
                                  "4_coat", "5_sandal", "6_sneaker", "7_dress"};
    char img[256], exp[256];
    snprintf(img, sizeof img, "images/fmnist_%s.png", names[_i]);
    snprintf(exp, sizeof exp, "expected/fmnist_cnn_%d.npy", _i);
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path(exp));

    /* the bundled model, with its fmnist_cnn.preprocess.json */
    ck_assert_msg(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path(img), "-o",
                          tpath("a.npy"), NULL) == 0, "%s", err_text);
    lrpx_npy *a = lrpx_test_npy_load(tpath("a.npy"));
    ck_assert_int_eq(a->n_elems, ref->n_elems);
    ck_assert_tensor_near((const float *)a->data, (const float *)ref->data, a->n_elems, 1e-5,
                          1e-5);
    ck_assert_ptr_nonnull(strstr(out_text, "class"));

    /* a copy without the preset file: the default (zero-one, and gray
     * 28x28 from the input shape) must give the same */
    size_t len;
    void  *model = lrpx_test_read_file(lrpx_test_path(MODEL), &len);
    lrpx_test_write_file(tpath("m.onnx"), model, len);
    free(model);
    ck_assert_msg(run_cli("run", tpath("m.onnx"), lrpx_test_path(img), "-o", tpath("b.npy"),
                          NULL) == 0, "%s", err_text);
    lrpx_npy *b = lrpx_test_npy_load(tpath("b.npy"));
    ck_assert_tensor_near((const float *)b->data, (const float *)ref->data, b->n_elems, 1e-5,
                          1e-5);
    lrpx_npy_free(a);
    lrpx_npy_free(b);
    lrpx_npy_free(ref);
}
END_TEST

START_TEST(test_batch_and_folder)
{
    /* a folder of the 8 images = the bundled 8-image batch */
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path("expected/fmnist_cnn_batch8.npy"));
    ck_assert_msg(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path("images"), "-o",
                          tpath("o.npy"), NULL) == 0, "%s", err_text);
    lrpx_npy *a = lrpx_test_npy_load(tpath("o.npy"));
    ck_assert_int_eq(a->rank, 2);
    ck_assert_int_eq(a->dims[0], 8);
    ck_assert_tensor_near((const float *)a->data, (const float *)ref->data, a->n_elems, 1e-5,
                          1e-5);
    lrpx_npy_free(a);
    /* two files in the order given */
    ck_assert_msg(run_cli("run", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_3_shirt.png"),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"), "-o",
                          tpath("p.npy"), NULL) == 0, "%s", err_text);
    a = lrpx_test_npy_load(tpath("p.npy"));
    ck_assert_int_eq(a->dims[0], 2);
    ck_assert_tensor_near((const float *)a->data, (const float *)ref->data + 3 * 10, 10, 1e-5,
                          1e-5);
    ck_assert_tensor_near((const float *)a->data + 10, (const float *)ref->data, 10, 1e-5, 1e-5);
    lrpx_npy_free(a);
    lrpx_npy_free(ref);
}
END_TEST

/* --batch N: the folder in passes of N samples gives the outputs of the
 * images run one at a time (and PyTorch's), and reports samples/second */
START_TEST(test_run_batch_chunks)
{
    static const char *names[] = {"0_ankle_boot", "1_pullover", "2_trouser", "3_shirt",
                                  "4_coat", "5_sandal", "6_sneaker", "7_dress"};
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path("expected/fmnist_cnn_batch8.npy"));
    float     one[8 * 10];
    for (int i = 0; i < 8; i++) {
        char img[256];
        snprintf(img, sizeof img, "images/fmnist_%s.png", names[i]);
        ck_assert_msg(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path(img), "-o",
                              tpath("one.npy"), NULL) == 0, "%s", err_text);
        lrpx_npy *a = lrpx_test_npy_load(tpath("one.npy"));
        ck_assert_int_eq(a->n_elems, 10);
        memcpy(one + i * 10, a->data, sizeof(float) * 10);
        lrpx_npy_free(a);
    }
    static const char *sizes[] = {"1", "3", "8", "20"};
    for (int k = 0; k < 4; k++) {
        ck_assert_msg(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path("images"), "--batch",
                              sizes[k], "-o", tpath("b.npy"), NULL) == 0, "%s", err_text);
        ck_assert_msg(strstr(err_text, "8 samples in") && strstr(err_text, "per second"), "%s",
                      err_text);
        lrpx_npy *b = lrpx_test_npy_load(tpath("b.npy"));
        ck_assert_int_eq(b->rank, 2);
        ck_assert_int_eq(b->dims[0], 8);
        ck_assert_tensor_near((const float *)b->data, one, 80, 1e-5, 1e-5);
        ck_assert_tensor_near((const float *)b->data, (const float *)ref->data, 80, 1e-5, 1e-5);
        if (k == 0)     /* one sample per pass: the very same passes */
            ck_assert_mem_eq(b->data, one, sizeof one);
        lrpx_npy_free(b);
        /* --quiet: no rate line, the same outputs */
        ck_assert_msg(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path("images"), "--batch",
                              sizes[k], "--quiet", "-o", tpath("q.npy"), NULL) == 0, "%s",
                      err_text);
        ck_assert_msg(!strstr(err_text, "per second"), "--quiet: %s", err_text);
    }
    ck_assert_int_eq(run_cli("run", lrpx_test_path(MODEL), lrpx_test_path("images"), "--batch",
                             "0", NULL), 2);
    lrpx_npy_free(ref);
}
END_TEST

START_TEST(test_preprocess_command)
{
    ck_assert_msg(run_cli("preprocess", lrpx_test_path("images"), "--model",
                          lrpx_test_path(MODEL), "-o", tpath("x.npy"), NULL) == 0, "%s",
                  err_text);
    lrpx_npy *a   = lrpx_test_npy_load(tpath("x.npy"));
    lrpx_npy *ref = lrpx_test_npy_load(lrpx_test_path("images/fmnist_batch8.npy"));
    ck_assert_int_eq(a->rank, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(a->dims[k], ref->dims[k]);
    ck_assert_tensor_near((const float *)a->data, (const float *)ref->data, a->n_elems, 0.0,
                          0.0);
    lrpx_npy_free(a);
    lrpx_npy_free(ref);

    /* imagenet on a photo: 1x3x224x224, and the flags change it */
    ck_assert_msg(run_cli("preprocess", lrpx_test_path("images/photos/chelsea_progressive.jpg"),
                          "--preprocess", "imagenet", "-o", tpath("c.npy"), NULL) == 0, "%s",
                  err_text);
    a = lrpx_test_npy_load(tpath("c.npy"));
    ck_assert_int_eq(a->dims[1], 3);
    ck_assert_int_eq(a->dims[2], 224);
    ck_assert_int_eq(a->dims[3], 224);
    lrpx_npy_free(a);
    ck_assert_msg(run_cli("preprocess", lrpx_test_path("images/photos/chelsea_progressive.jpg"),
                          "--preprocess", "imagenet", "--crop", "100x80", "--layout", "nhwc",
                          "--gray", "--mean", "0.5", "--std", "0.25", "-o", tpath("d.npy"),
                          NULL) == 0, "%s", err_text);
    a = lrpx_test_npy_load(tpath("d.npy"));
    ck_assert_int_eq(a->dims[1], 80);
    ck_assert_int_eq(a->dims[2], 100);
    ck_assert_int_eq(a->dims[3], 1);
    /* gray in [0, 1] normalised by 0.5, 0.25: within [-2, 2] */
    for (int64_t i = 0; i < a->n_elems; i++)
        ck_assert(fabsf(((float *)a->data)[i]) <= 2.0f + 1e-6f);
    lrpx_npy_free(a);
    /* a JSON settings file */
    const char *js = "{\"resize\": {\"width\": 40, \"height\": 30}, \"color\": \"bgr\", "
                     "\"scale\": 1}";
    lrpx_test_write_file(tpath("p.json"), js, strlen(js));
    ck_assert_msg(run_cli("preprocess", lrpx_test_path("images/photos/astronaut.jpg"),
                          "--preprocess", tpath("p.json"), "-o", tpath("e.npy"), NULL) == 0,
                  "%s", err_text);
    a = lrpx_test_npy_load(tpath("e.npy"));
    ck_assert_int_eq(a->dims[1], 3);
    ck_assert_int_eq(a->dims[2], 30);
    ck_assert_int_eq(a->dims[3], 40);
    lrpx_npy_free(a);
}
END_TEST

/* ---- heatmaps ---- */

static lrpx_image *
load_png(const char *path)
{
    lrpx_image *img;
    char        err[512];
    ck_assert_msg(lrpx_image_load(path, NULL, &img, err, sizeof err) == LRPX_OK, "%s", err);
    return img;
}

/* bwr of r / max|r| by its definition: blue (0,0,1) - white - red (1,0,0). */
static void
bwr(double r, double vmax, int rgb[3])
{
    double u = vmax > 0 ? (fmax(-1.0, fmin(1.0, r / vmax)) + 1.0) / 2.0 : 0.5;
    double c[3];
    if (u < 0.5) {
        c[0] = c[1] = 2.0 * u;
        c[2]        = 1.0;
    } else {
        c[0]        = 1.0;
        c[1] = c[2] = 2.0 - 2.0 * u;
    }
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lrint(c[k] * 255.0);
}

START_TEST(test_heatmap_pixels)
{
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"), "-o",
                          tpath("r.npy"), "--heatmap", tpath("h.png"), NULL) == 0, "%s",
                  err_text);
    lrpx_npy   *r   = lrpx_test_npy_load(tpath("r.npy"));
    lrpx_image *img = load_png(tpath("h.png"));
    ck_assert_int_eq(img->width, 28);
    ck_assert_int_eq(img->height, 28);
    ck_assert_int_eq(img->channels, 3);
    const float *rv   = r->data;
    double       vmax = 0.0;
    for (int64_t i = 0; i < r->n_elems; i++)
        vmax = fmax(vmax, fabs(rv[i]));
    ck_assert(vmax > 0.0);
    int worst = 0;
    for (int i = 0; i < 28 * 28; i++) {
        int e[3];
        bwr(rv[i], vmax, e);
        for (int k = 0; k < 3; k++) {
            int d = abs((int)img->data[i * 3 + k] - e[k]);
            worst = d > worst ? d : worst;
        }
    }
    ck_assert_msg(worst <= 1, "heatmap differs from bwr by %d grey levels", worst);
    lrpx_image_free(img);
    lrpx_npy_free(r);

    /* panel: image | heatmap with the grid's 4 px gaps; overlay keeps the size */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"), "--heatmap",
                          tpath("p.png"), "--panel", "--overlay", "0.5", "--cmap", "coldnhot",
                          "--clip", "99", "--gamma", "0.5", NULL) == 0, "%s", err_text);
    img = load_png(tpath("p.png"));
    ck_assert_int_eq(img->width, 2 * 28 + 3 * 4);
    ck_assert_int_eq(img->height, 28 + 2 * 4);
    lrpx_image_free(img);

    /* a photo mapped back to its own geometry, written as JPEG */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/photos/chelsea_progressive.jpg"), "--heatmap",
                          tpath("g.jpg"), "--original-geometry", "--overlay", "0.6",
                          "--jpeg-quality", "80", NULL) == 0, "%s", err_text);
    img = load_png(tpath("g.jpg"));
    ck_assert_str_eq(img->format, "jpeg");
    ck_assert_int_eq(img->width, 300);
    ck_assert_int_eq(img->height, 200);
    lrpx_image_free(img);

    /* gradient --heatmap, a batch gives one file per image */
    ck_assert_msg(run_cli("gradient", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_1_pullover.png"),
                          lrpx_test_path("images/fmnist_2_trouser.png"), "--times-input",
                          "--heatmap", tpath("gr.png"), "--reduce", "norm", "--cmap", "hot",
                          NULL) == 0, "%s", err_text);
    ck_assert(exists(tpath("gr_0.png")));
    ck_assert(exists(tpath("gr_1.png")));
    ck_assert(!exists(tpath("gr.png")));
}
END_TEST

START_TEST(test_grid_translate_window)
{
    /* 2 images x 3 composites: 2 rows, 4 columns of 28x28 cells scaled by
     * 6 (to at least 160 px), 4 px gaps */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"),
                          lrpx_test_path("images/fmnist_5_sandal.png"), "--grid",
                          tpath("grid.png"), "--composite", "epsilon_plus", "--composite",
                          "epsilon_alpha2_beta1_flat", "--composite", "epsilon_gamma_box",
                          NULL) == 0, "%s", err_text);
    lrpx_image *img = load_png(tpath("grid.png"));
    ck_assert_int_eq(img->width, 4 * 168 + 5 * 4);
    ck_assert(img->height > 2 * 168 + 3 * 4);
    lrpx_image_free(img);
    /* several targets */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"), "--grid",
                          tpath("grid2.png"), "--target", "9", "--target", "7", "--target", "5",
                          NULL) == 0, "%s", err_text);
    img = load_png(tpath("grid2.png"));
    ck_assert_int_eq(img->width, 2 * 168 + 3 * 4);
    ck_assert(img->height > 3 * 168 + 4 * 4);
    lrpx_image_free(img);

    /* --translate: the map keeps the input's shape */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/fmnist_0_ankle_boot.png"), "--translate", "1",
                          "-o", tpath("t.npy"), NULL) == 0, "%s",
                  err_text);
    lrpx_npy *t = lrpx_test_npy_load(tpath("t.npy"));
    ck_assert_int_eq(t->n_elems, 28 * 28);
    lrpx_npy_free(t);

    /* --window on a photo resized to 56x42: the map has the image's size */
    ck_assert_msg(run_cli("explain", lrpx_test_path(MODEL),
                          lrpx_test_path("images/photos/astronaut.jpg"), "--resize", "56x42",
                          "--window", "28x28", "--stride", "14", "-o", tpath("w.npy"),
                          "--heatmap", tpath("w.png"), "--panel", NULL) == 0, "%s", err_text);
    t = lrpx_test_npy_load(tpath("w.npy"));
    ck_assert_int_eq(t->rank, 4);
    ck_assert_int_eq(t->dims[2], 42);
    ck_assert_int_eq(t->dims[3], 56);
    lrpx_npy_free(t);
    img = load_png(tpath("w.png"));
    ck_assert_int_eq(img->width, 2 * 56 + 3 * 4);
    lrpx_image_free(img);
}
END_TEST

/* ---- bad inputs: exit 1, the file named, nothing written ---- */

static void
flip_copy(const char *src, const char *dst, size_t at, uint8_t mask, size_t keep)
{
    size_t   len;
    uint8_t *b = lrpx_test_read_file(src, &len);
    if (at < len)
        b[at] ^= mask;
    lrpx_test_write_file(dst, b, keep && keep < len ? keep : len);
    free(b);
}

START_TEST(test_bad_inputs)
{
    char jpg[LRPX_TEST_PATH_MAX], png[LRPX_TEST_PATH_MAX];   /* test_path buffers rotate */
    lrpx_test_snprintf(jpg, sizeof jpg, "%s", lrpx_test_path("images/photos/astronaut.jpg"));
    lrpx_test_snprintf(png, sizeof png, "%s", lrpx_test_path("images/fmnist_0_ankle_boot.png"));
    lrpx_test_write_file(tpath("empty.png"), "", 0);
    lrpx_test_write_file(tpath("text.png"), "hello, world\n", 13);
    lrpx_test_write_file(tpath("anim.gif"), "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);
    uint8_t rnd[512];
    for (int i = 0; i < 512; i++)
        rnd[i] = (uint8_t)((i * 2654435761u) >> 13);
    lrpx_test_write_file(tpath("random.jpg"), rnd, sizeof rnd);
    flip_copy(jpg, tpath("trunc.jpg"), 0, 0, 9000);
    flip_copy(png, tpath("trunc.png"), 0, 0, 200);
    flip_copy(png, tpath("crc.png"), 60, 0x40, 0);        /* a CRC error */
    {                                                     /* JPEG with its SOS data cut */
        size_t   len;
        uint8_t *b = lrpx_test_read_file(jpg, &len);
        lrpx_test_write_file(tpath("cut.jpg"), b, len / 2);
        free(b);
    }
    ck_assert_int_eq(mkdir(tpath("nothing"), 0755), 0);
    ck_assert_int_eq(mkdir(tpath("dir.png"), 0755), 0);
    lrpx_test_write_file(tpath("nothing/notes.txt"), "x", 1);
    size_t len;
    void  *npy = lrpx_test_read_file(lrpx_test_path("images/fmnist_0_ankle_boot.npy"), &len);
    lrpx_test_write_file(tpath("a.npy"), npy, len);
    free(npy);
    lrpx_test_write_file(tpath("bad.npy"), "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", 25);

    static const char *const inputs[] = {"empty.png", "text.png", "anim.gif", "random.jpg",
                                         "trunc.jpg", "trunc.png", "crc.png", "cut.jpg",
                                         "nothing", "a.npy", "bad.npy", "dir.png", NULL};
    struct {
        const char *file, *second, *expect;
    } cases[] = {
        {"empty.png", NULL, "empty.png"},
        {"text.png", NULL, "text.png"},
        {"anim.gif", NULL, "GIF"},
        {"random.jpg", NULL, "random.jpg"},
        {"trunc.jpg", NULL, "trunc.jpg"},
        {"trunc.png", NULL, "trunc.png"},
        {"crc.png", NULL, "crc.png"},
        {"cut.jpg", NULL, "cut.jpg"},
        {"nothing", NULL, "no JPEG or PNG"},
        {"missing.png", NULL, "missing.png"},
        {"trunc.png", "crc.png", "trunc.png"},             /* first of a batch bad         */
        {png, "crc.png", "crc.png"},                       /* second file of a batch bad  */
        {"bad.npy", NULL, "bad.npy"},
        {png, "a.npy", "cannot share"},                    /* images and arrays mixed     */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char in1[LRPX_TEST_PATH_MAX], in2[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(in1, sizeof in1, "%s",
                           cases[c].file[0] == '/' ? cases[c].file : tpath(cases[c].file));
        if (cases[c].second)
            lrpx_test_snprintf(in2, sizeof in2, "%s", tpath(cases[c].second));
        const char *sec = cases[c].second ? in2 : NULL;
        /* explain with every output kind */
        int rc = sec ? run_cli("explain", lrpx_test_path(MODEL), in1, sec, "-o",
                               tpath("out.npy"), "--heatmap", tpath("out.png"), "--grid",
                               tpath("grid.png"), NULL)
                     : run_cli("explain", lrpx_test_path(MODEL), in1, "-o", tpath("out.npy"),
                               "--heatmap", tpath("out.png"), "--grid", tpath("grid.png"),
                               NULL);
        ck_assert_msg(rc == 1, "case %zu (%s): exit %d, stderr: %s", c, cases[c].file, rc,
                      err_text);
        ck_assert_msg(strstr(err_text, cases[c].expect) != NULL,
                      "case %zu: message does not name '%s': %s", c, cases[c].expect, err_text);
        ck_assert_msg(!strncmp(err_text, "lrpx explain: ", 14), "case %zu: %s", c, err_text);
        assert_no_outputs(inputs);
        /* run -o, preprocess -o, gradient --heatmap */
        rc = sec ? run_cli("run", lrpx_test_path(MODEL), in1, sec, "-o", tpath("out.npy"), NULL)
                 : run_cli("run", lrpx_test_path(MODEL), in1, "-o", tpath("out.npy"), NULL);
        ck_assert_msg(rc == 1, "run, case %zu: exit %d", c, rc);
        rc = sec ? run_cli("gradient", lrpx_test_path(MODEL), in1, sec, "-o", tpath("g.npy"),
                           "--heatmap", tpath("g.png"), NULL)
                 : run_cli("gradient", lrpx_test_path(MODEL), in1, "-o", tpath("g.npy"),
                           "--heatmap", tpath("g.png"), NULL);
        ck_assert_msg(rc == 1, "gradient, case %zu: exit %d", c, rc);
        rc = sec ? run_cli("preprocess", in1, sec, "--model", lrpx_test_path(MODEL), "-o",
                           tpath("pp.npy"), NULL)
                 : run_cli("preprocess", in1, "--model", lrpx_test_path(MODEL), "-o",
                           tpath("pp.npy"), NULL);
        ck_assert_msg(rc == 1, "preprocess, case %zu: exit %d: %s", c, rc, err_text);
        assert_no_outputs(inputs);
    }
    /* an output that cannot be written: no temporary is left behind */
    int rc = run_cli("explain", lrpx_test_path(MODEL), png, "--heatmap", tpath("dir.png"),
                     NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(err_text, "dir.png"));
    assert_no_outputs(inputs);
    rc = run_cli("explain", lrpx_test_path(MODEL), png, "--grid", tpath("dir.png"), NULL);
    ck_assert_int_eq(rc, 1);
    assert_no_outputs(inputs);
}
END_TEST

/* lrpx eval: JSON Lines with every parameter, usage errors (exit 2) that
 * name the bad part, failures (exit 1) that name the file. */
START_TEST(test_eval_command)
{
    char x[LRPX_TEST_PATH_MAX], m[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(x, sizeof x, "%s", lrpx_test_path("images/fmnist_0_ankle_boot.npy"));
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    ck_assert_msg(run_cli("eval", m, x, "--metric", "region-perturbation:patch-size=7",
                          "--metric", "relevance-rank", "--mask", "7,7,14,14", "--json", NULL) == 0,
                  "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "\"metric\": \"region-perturbation\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"patch-size\": 7, \"order\": \"morf\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"regions-evaluation\": 100"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"target\": 9"));
    ck_assert_ptr_nonnull(strstr(out_text, "\"metric\": \"relevance-rank\""));
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "pixel-flip", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "unknown metric 'pixel-flip'"));
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "continuity:nr_steps=3", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "unknown parameter 'nr_steps'"));
    ck_assert_int_eq(run_cli("eval", m, x, NULL), 2);                      /* no --metric */
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "sparseness", "--csv", "--json", NULL), 2);
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "pointing-game", "--mask", "20,20,14,14",
                             NULL), 2);                                    /* box outside */
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "pointing-game", "--mask",
                             tpath("missing.npy"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "missing.npy"));
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "relevance-mass", NULL), 1);   /* no mask */
    ck_assert_ptr_nonnull(strstr(err_text, "needs a mask"));
    /* an image mask of another size is resized (nearest, pixel centres:
     * output y reads floor((y + 0.5) S / 28)) to the input's 28x28: the
     * box 7,7,14,14 drawn at 84x84 (pixels 21..62) and at 42x42 (10..31:
     * y = 6 reads 9, 7 reads 11, 20 reads 30, 21 reads 32) scores as the
     * box itself; at 14x14, pixels 3..10 become rows 6..21 (6,6,16,16) */
    static const struct { int side, lo, hi; const char *box; } cases[3] = {
        {84, 21, 62, "7,7,14,14"}, {42, 10, 31, "7,7,14,14"}, {14, 3, 10, "6,6,16,16"}};
    for (int k = 0; k < 3; k++) {
        ck_assert_msg(run_cli("eval", m, x, "--metric", "relevance-mass", "--mask", cases[k].box,
                              "--json", NULL) == 0, "%s", err_text);
        char        *box_out = strdup(out_text);
        int          side = cases[k].side;
        lrpx_pixmap *pm;
        char         png[LRPX_TEST_PATH_MAX], name[32], perr[256];
        ck_assert_int_eq(lrpx_pixmap_init(side, side, 1, &pm), LRPX_OK);
        for (int y = cases[k].lo; y <= cases[k].hi; y++)
            memset(pm->data + y * side + cases[k].lo, 255, (size_t)(cases[k].hi - cases[k].lo + 1));
        lrpx_test_snprintf(name, sizeof name, "mask%d.png", side);
        lrpx_test_snprintf(png, sizeof png, "%s", tpath(name));
        ck_assert_int_eq(lrpx_pixmap_save_png(pm, png, perr, sizeof perr), LRPX_OK);
        lrpx_pixmap_free(pm);
        ck_assert_msg(run_cli("eval", m, x, "--metric", "relevance-mass", "--mask", png,
                              "--json", NULL) == 0, "%s", err_text);
        ck_assert_str_eq(out_text, box_out);
        free(box_out);
    }
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "sparseness", "--relevance", x, "--method",
                             "gradient", NULL), 2);
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "sparseness", "--method", "nope", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "'nope' is not a method"));
    /* any method of explain, with explain's method flags; several methods
     * give one row each; a composite name is LRP with it */
    ck_assert_msg(run_cli("eval", m, x, "--metric", "sparseness", "--method",
                          "integrated-gradients,occlusion,epsilon_plus_flat", "--steps", "8",
                          "--patch", "1,7,7", "--json", NULL) == 0, "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "\"method\": \"integrated-gradients\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"method\": \"occlusion\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"method\": \"epsilon_plus_flat\""));
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "sparseness", "--method", "gradient",
                             "--steps", "8", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--steps goes with --method integrated-gradients"));
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "sparseness", "--method", "gradient",
                             "--rule", "Conv=zplus", NULL), 2);
    /* eval's --seed seeds the smoothgrad family too: the same seed, the
     * same scores */
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "max-sensitivity:nr-samples=2", "--method",
                             "smoothgrad", "--samples", "3", "--seed", "7", "--csv", NULL), 0);
    char first[4096];
    lrpx_test_snprintf(first, sizeof first, "%s", out_text);
    ck_assert_int_eq(run_cli("eval", m, x, "--metric", "max-sensitivity:nr-samples=2", "--method",
                             "smoothgrad", "--samples", "3", "--seed", "7", "--csv", NULL), 0);
    ck_assert_str_eq(out_text, first);
    ck_assert_int_eq(run_cli("eval", "--help", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "--quadrature"));
    ck_assert_ptr_null(strstr(strstr(out_text, "\n  --noise") + 1, "\n  --noise"));   /* once */
}
END_TEST

START_TEST(test_usage_errors)
{
    char png[LRPX_TEST_PATH_MAX], m[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(png, sizeof png, "%s", lrpx_test_path("images/fmnist_0_ankle_boot.png"));
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    ck_assert_int_eq(run_cli("explain", m, png, "--overlay", "1.5", "--heatmap", "x.png", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, png, "--panel", NULL), 2);    /* no --heatmap */
    ck_assert_int_eq(run_cli("explain", m, png, "--cmap", "nope", "--heatmap", "x.png", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, png, "--window", "28", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, png, "--stride", "3", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, png, "--translate", "-1", NULL), 2);
    ck_assert_int_eq(run_cli("run", m, png, "--resize", "0", NULL), 2);
    ck_assert_int_eq(run_cli("run", m, png, "--mean", "1,2", NULL), 2);
    ck_assert_int_eq(run_cli("run", m, png, "--color", "cmyk", NULL), 2);
    ck_assert_int_eq(run_cli("preprocess", png, NULL), 2);             /* no -o */
    ck_assert_int_eq(run_cli("explain", m, png, "--jpeg-quality", "0", "--heatmap", "x.jpg",
                             NULL), 2);
    /* the table-driven flag parser: missing values, values on switches,
     * unknown flags, --flag=VALUE, help from the tables */
    ck_assert_int_eq(run_cli("explain", m, png, "--maxpool", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--maxpool needs winner, winner-split or sum"));
    ck_assert_int_eq(run_cli("explain", m, png, "--json=1", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--json takes no value"));
    ck_assert_int_eq(run_cli("run", m, png, "--bogus", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "unknown option '--bogus'"));
    ck_assert_int_eq(run_cli("run", m, png, "--top=0", NULL), 2);
    ck_assert_int_eq(run_cli("info", m, m, NULL), 2);                  /* two MODELs */
    ck_assert_int_eq(run_cli("explain", m, png, "--markdown", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, png, "--rules", tpath("none.json"), NULL), 1);
    ck_assert_int_eq(run_cli("explain", m, png, "--target=3", "--json", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "\"class\": 3,"));
    ck_assert_int_eq(run_cli("run", m, "--input", NULL), 2);
    ck_assert_int_eq(run_cli("run", m, "--input", "noequals", NULL), 2);
    const char *cmds[] = {"explain", "gradient", "run", "bench", "info", "preprocess"};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        ck_assert_int_eq(run_cli(cmds[c], "--help", NULL), 0);
        ck_assert_msg(strstr(out_text, "usage: lrpx ") != NULL, "%s --help: %s", cmds[c],
                      out_text);
    }
    ck_assert_int_eq(run_cli("explain", "--help", NULL), 0);
    for (const char *f = "--heatmap\0--translate\0--resize\0--input\0--rule\0alphabeta:A,B\0";
         *f; f += strlen(f) + 1)
        ck_assert_msg(strstr(out_text, f) != NULL, "explain --help lacks %s", f);
    /* settings that cannot fit the model: exit 1 with both sizes */
    ck_assert_int_eq(run_cli("run", m, png, "--crop", "30", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "28"));
    ck_assert_int_eq(run_cli("run", m, png, "--preprocess", "nosuch", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "imagenet"));
}
END_TEST

/* Token-level output of a text model: the per-token numbers are the input
 * relevance (-o) summed over the embedding dimension; the strip is written
 * as PNG and HTML; a token file of the wrong length is an error. */
START_TEST(test_tokens)
{
    /* copies: lrpx_test_path and tpath share their rotating buffers */
    char model[LRPX_TEST_PATH_MAX], input[LRPX_TEST_PATH_MAX], tokens[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(model, sizeof model, "%s", lrpx_test_path("models/transformers/bert_op17.onnx"));
    lrpx_test_snprintf(input, sizeof input, "%s", lrpx_test_path("models/transformers/bert_text_1.npy"));
    lrpx_test_snprintf(tokens, sizeof tokens, "%s",
                       lrpx_test_path("models/transformers/bert_text_1.tokens.txt"));
    ck_assert_msg(run_cli("explain", model, input, "--composite", "attn_lrp", "--tokens", tokens,
                          "-o", tpath("r.npy"), "--token-strip", tpath("s.png"), "--json",
                          NULL) == 0, "%s", err_text);
    lrpx_npy *r = lrpx_test_npy_load(tpath("r.npy"));
    ck_assert_int_eq(r->n_elems, 12 * 32);
    const char *p = strstr(out_text, "\"tokens\": [[");
    ck_assert_msg(p != NULL, "%s", out_text);
    for (int i = 0; i < 12; i++) {
        double sum = 0;
        for (int d = 0; d < 32; d++)
            sum += ((const float *)r->data)[i * 32 + d];
        p = strstr(p, "\"relevance\": ");
        ck_assert_ptr_nonnull(p);
        p += strlen("\"relevance\": ");
        ck_assert_double_eq_tol(strtod(p, NULL), sum, 1e-5 * (1 + fabs(sum)));
    }
    ck_assert_ptr_nonnull(strstr(out_text, "{\"token\": \"awful\""));
    lrpx_npy_free(r);
    lrpx_image *img;
    char        err[512];
    ck_assert_int_eq(lrpx_image_load(tpath("s.png"), NULL, &img, err, sizeof err), LRPX_OK);
    ck_assert_int_gt(img->width, 12 * 12);
    lrpx_image_free(img);
    ck_assert_msg(run_cli("explain", model, input, "--composite", "cp_lrp", "--tokens", tokens,
                          "--token-strip", tpath("s.html"), NULL) == 0, "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "relevance per token"));
    char html[16384];
    slurp(tpath("s.html"), html, sizeof html);
    int n_span = 0;
    for (const char *q = html; (q = strstr(q, "<span")); q++)
        n_span++;
    ck_assert_int_eq(n_span, 12);
    ck_assert_ptr_nonnull(strstr(html, ">awful</span>"));
    /* three tokens for twelve positions */
    lrpx_test_write_file(tpath("few.txt"), "a\nb\nc\n", 6);
    ck_assert_int_eq(run_cli("explain", model, input, "--composite", "attn_lrp", "--tokens",
                             tpath("few.txt"), "--token-strip", tpath("bad.png"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "has 3 tokens"));
    ck_assert(!exists(tpath("bad.png")));
    ck_assert_int_eq(run_cli("explain", model, input, "--token-strip", tpath("x.gif"),
                             "--composite", "attn_lrp", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, ".png or .html"));
}
END_TEST

/* ---- no output ever destroys an input ---- */

static bool
same_bytes(const char *a, const char *b)
{
    size_t   la, lb;
    uint8_t *x = lrpx_test_read_file(a, &la), *y = lrpx_test_read_file(b, &lb);
    bool     eq = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static void
copy_file(const char *src, const char *dst)
{
    size_t len;
    void  *b = lrpx_test_read_file(src, &len);
    lrpx_test_write_file(dst, b, len);
    free(b);
}

START_TEST(test_outputs_never_clobber_inputs)
{
    char m[LRPX_TEST_PATH_MAX], png[LRPX_TEST_PATH_MAX], npy[LRPX_TEST_PATH_MAX];
    char rules[LRPX_TEST_PATH_MAX], lnk[LRPX_TEST_PATH_MAX], hard[LRPX_TEST_PATH_MAX];
    char pics[LRPX_TEST_PATH_MAX], pic0[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", tpath("net.onnx"));
    lrpx_test_snprintf(png, sizeof png, "%s", tpath("in.png"));
    lrpx_test_snprintf(npy, sizeof npy, "%s", tpath("in.npy"));
    lrpx_test_snprintf(rules, sizeof rules, "%s", tpath("rules.json"));
    lrpx_test_snprintf(lnk, sizeof lnk, "%s", tpath("link.png"));
    lrpx_test_snprintf(hard, sizeof hard, "%s", tpath("hard.onnx"));
    lrpx_test_snprintf(pics, sizeof pics, "%s", tpath("pics"));
    lrpx_test_snprintf(pic0, sizeof pic0, "%s", tpath("pics/a.png"));
    copy_file(lrpx_test_path(MODEL), m);
    copy_file(lrpx_test_path("images/fmnist_0_ankle_boot.png"), png);
    copy_file(lrpx_test_path("images/fmnist_0_ankle_boot.npy"), npy);
    lrpx_test_write_file(rules, "{\"composite\": \"epsilon\"}", 25);
    ck_assert_int_eq(symlink(png, lnk), 0);
    ck_assert_int_eq(link(m, hard), 0);
    ck_assert_int_eq(mkdir(pics, 0755), 0);
    copy_file(png, pic0);

    struct {
        const char *argv[12];
        const char *victim, *original;
    } cases[] = {
        {{"explain", m, png, "-o", m}, m, MODEL},
        {{"explain", m, png, "--heatmap", png}, png, "images/fmnist_0_ankle_boot.png"},
        {{"explain", m, png, "--heatmap", lnk}, png, "images/fmnist_0_ankle_boot.png"},
        {{"explain", m, png, "--grid", png}, png, "images/fmnist_0_ankle_boot.png"},
        {{"explain", m, npy, "-o", hard}, m, MODEL},                     /* hard link */
        {{"explain", m, npy, "--layer", "input", "-o2", npy}, npy,
         "images/fmnist_0_ankle_boot.npy"},
        {{"explain", m, npy, "--rules", rules, "-o", rules}, NULL, NULL},
        {{"explain", m, npy, "--seed-npy", npy, "-o", npy}, npy,
         "images/fmnist_0_ankle_boot.npy"},
        {{"explain", m, pics, "--heatmap", pic0}, pic0, "images/fmnist_0_ankle_boot.png"},
        {{"gradient", m, npy, "-o", npy}, npy, "images/fmnist_0_ankle_boot.npy"},
        {{"gradient", m, png, "--heatmap", lnk}, png, "images/fmnist_0_ankle_boot.png"},
        {{"run", m, npy, "-o", npy}, npy, "images/fmnist_0_ankle_boot.npy"},
        {{"run", m, "--input", NULL}, m, MODEL},            /* --input input=npy -o m */
        {{"preprocess", png, "-o", png}, png, "images/fmnist_0_ankle_boot.png"},
        {{"preprocess", png, "--model", m, "-o", m}, m, MODEL},
    };
    char named[LRPX_TEST_PATH_MAX + 8];
    lrpx_test_snprintf(named, sizeof named, "input=%s", npy);
    cases[12].argv[3] = named;
    cases[12].argv[4] = "-o";
    cases[12].argv[5] = m;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *const *a = cases[c].argv;
        int rc = run_cli(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
        ck_assert_msg(rc == 2, "case %zu: exit %d (%s)", c, rc, err_text);
        ck_assert_msg(strstr(err_text, "refusing to overwrite") != NULL, "case %zu: %s", c,
                      err_text);
        if (cases[c].victim)
            ck_assert_msg(same_bytes(cases[c].victim, lrpx_test_path(cases[c].original)),
                          "case %zu: %s changed", c, cases[c].victim);
        else
            ck_assert_msg(strstr(err_text, "rules file") != NULL, "case %zu: %s", c, err_text);
    }
    /* an external-data file of the model, by any name */
    float w[3] = {1, 2, 3};
    lrpx_test_write_file(tpath("w.bin"), w, sizeof w);
    lrpx_test_model *em = lrpx_test_model_new(13);
    lrpx_test_model_input(em, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3});
    lrpx_test_model_init_external(em, "W", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, "w.bin",
                                  -1, -1);
    lrpx_test_model_node(em, "Add", "add", LT_IO("x", "W"), LT_IO("y"), NULL);
    lrpx_test_model_output(em, "y");
    lrpx_test_model_save(em, tpath("ext.onnx"));
    lrpx_test_model_free(em);
    /* x.npy: float32 [1, 3] through the library's own writer */
    char npy_err[256];
    ck_assert_int_eq(lrpx_npy_write(tpath("x.npy"), LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, w,
                                    npy_err, sizeof npy_err), LRPX_OK);
    ck_assert_int_eq(symlink("w.bin", tpath("w-alias.bin")), 0);
    ck_assert_msg(run_cli("run", tpath("ext.onnx"), tpath("x.npy"), "--json", NULL) == 0, "%s",
                  err_text);
    ck_assert_int_eq(run_cli("run", tpath("ext.onnx"), tpath("x.npy"), "-o",
                             tpath("w-alias.bin"), NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "external-data"));
    size_t wl;
    void  *wb = lrpx_test_read_file(tpath("w.bin"), &wl);
    ck_assert(wl == sizeof w && memcmp(wb, w, sizeof w) == 0);
    free(wb);
    /* FIFOs never block the CLI: as an input, as the class-name file */
    ck_assert_int_eq(mkfifo(tpath("fifo.png"), 0644), 0);
    ck_assert_int_eq(run_cli("run", m, tpath("fifo.png"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "not a regular file"));
    ck_assert_int_eq(mkfifo(tpath("net.json"), 0644), 0);
    ck_assert_msg(run_cli("run", m, npy, "--top", "1", NULL) == 0, "%s", err_text);
    /* an unrelated existing output is replaced as before */
    lrpx_test_write_file(tpath("old.npy"), "old", 3);
    ck_assert_int_eq(run_cli("explain", m, npy, "-o", tpath("old.npy"), NULL), 0);
    lrpx_npy *r = lrpx_test_npy_load(tpath("old.npy"));
    ck_assert_int_eq(r->rank, 4);
    lrpx_npy_free(r);
}
END_TEST

/* ---- explain --method ---- */

static double
npy_rel_l2(const char *actual, const char *expected)
{
    lrpx_npy *a = lrpx_test_npy_load(actual), *e = lrpx_test_npy_load(expected);
    ck_assert_int_eq(a->n_elems, e->n_elems);
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < a->n_elems; i++) {
        double d = (double)((const float *)a->data)[i] - ((const float *)e->data)[i];
        num += d * d;
        den += (double)((const float *)e->data)[i] * ((const float *)e->data)[i];
    }
    lrpx_npy_free(a);
    lrpx_npy_free(e);
    return sqrt(num / den);
}

START_TEST(test_methods_cli)
{
    char m[LRPX_TEST_PATH_MAX], i0[LRPX_TEST_PATH_MAX], i3[LRPX_TEST_PATH_MAX];
    char ref[LRPX_TEST_PATH_MAX], side[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    lrpx_test_snprintf(i0, sizeof i0, "%s", lrpx_test_path("images/fmnist_0_ankle_boot.npy"));
    lrpx_test_snprintf(i3, sizeof i3, "%s", lrpx_test_path("images/fmnist_3_shirt.npy"));
    /* each: the flags, and the reference case of testdata/expected/methods */
    lrpx_test_snprintf(side, sizeof side, "%s",
                       lrpx_test_path("expected/methods/fmnist_baseline.npy"));
    ck_assert_int_eq(run_cli("explain", m, i3, "--method", "integrated-gradients", "--quadrature",
                             "riemann_trapezoid", "--steps", "50", "--baseline", side, "-o",
                             tpath("a.npy"), "--json", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "\"method\": \"integrated-gradients\""));
    ck_assert_ptr_nonnull(strstr(out_text, "\"completeness_gap\": "));
    ck_assert_ptr_nonnull(strstr(out_text, "\"baseline_score\": "));
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist3_ig_trapezoid50_b.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    ck_assert_int_eq(run_cli("explain", m, i3, "--method=integrated-gradients", "--quadrature",
                             "riemann_left", "--steps=7", "--baseline", "0.25", "-o",
                             tpath("a.npy"), NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "completeness gap"));
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist3_ig_left7_scalar.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "integrated-gradients", "--steps", "16",
                             "--target", "2", "-o", tpath("a.npy"), NULL), 0);
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist0_ig_gl16_target2.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    ck_assert_int_eq(run_cli("explain", m, i3, "--method", "occlusion", "--patch", "1,5,5",
                             "--patch-stride", "1,3,3", "--fill", "0.5", "-o", tpath("a.npy"),
                             NULL), 0);
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist3_occ_1x5x5_s3.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    lrpx_test_snprintf(side, sizeof side, "%s",
                       lrpx_test_path("expected/methods/fmnist_mask7.npy"));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "feature-ablation", "--feature-mask",
                             side, "-o", tpath("a.npy"), NULL), 0);
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist0_ablation7.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    lrpx_test_snprintf(side, sizeof side, "%s",
                       lrpx_test_path("expected/methods/fmnist_noise8.npy"));
    ck_assert_int_eq(run_cli("explain", m, i3, "--method", "smoothgrad", "--noise", side,
                             "--samples", "8", "--of", "gradxinput", "--internal-batch", "3",
                             "-o", tpath("a.npy"), NULL), 0);
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist3_smoothgrad_gradxinput.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);

    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "guided-backprop", "-o",
                             tpath("a.npy"), "--heatmap", tpath("h.png"), NULL), 0);
    lrpx_test_snprintf(ref, sizeof ref, "%s",
                       lrpx_test_path("expected/methods/fmnist0_guided-backprop.npy"));
    ck_assert_double_le(npy_rel_l2(tpath("a.npy"), ref), 1e-4);
    ck_assert(exists(tpath("h.png")));

    /* taylor's report; a grid with one column per method (and composite) */
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "taylor", "--json", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "\"residual\": "));
    ck_assert_ptr_nonnull(strstr(out_text, "\"root_score\": "));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "saliency,lrp", "--method",
                             "occlusion", "--composite", "epsilon_plus", "--composite",
                             "epsilon_alpha2_beta1", "--grid", tpath("g.png"), "--zoom", "2",
                             NULL), 0);
    lrpx_image *g;
    char        err[256];
    ck_assert_int_eq(lrpx_image_load(tpath("g.png"), NULL, &g, err, sizeof err), LRPX_OK);
    /* image + saliency + 2 composites + occlusion: 5 cells of 56 px and 6 gaps of 4 */
    ck_assert_int_eq(g->width, 5 * 56 + 6 * 4);
    lrpx_image_free(g);

    /* method flags that do not fit the method, bad values */
    ck_assert_int_eq(run_cli("explain", m, i0, "--steps", "8", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--steps goes with --method integrated-gradients"));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "saliency", "--composite",
                             "epsilon_plus", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--composite/--rules goes with --method lrp"));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "occlusion,feature-ablation",
                             "--fill", "1", NULL), 0);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "bogus", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "'bogus' is not a method; one of: lrp gradient"));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "occlusion", "--patch", "0,4,4",
                             NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "occlusion", "--patch-stride",
                             "1,2,2", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "integrated-gradients",
                             "--quadrature", "simpson", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "integrated-gradients",
                             "--quadrature", "riemann_left", "--steps", "1", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "smoothgrad", "--of", "lrp", NULL), 2);
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "smoothgrad", "--seed", "-3", NULL), 2);
    /* values the library refuses: exit 1 with its message, no file */
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "occlusion", "--patch", "1,30,4",
                             "-o", tpath("x.npy"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "the patch's axis 1 is 30, the input's 28"));
    ck_assert(!exists(tpath("x.npy")));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "smoothgrad", "--noise",
                             tpath("none.npy"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "--noise"));
    ck_assert_int_eq(run_cli("explain", m, i0, "--method", "feature-ablation", "--feature-mask",
                             i3, NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "the mask must hold integers"));
    ck_assert_int_eq(run_cli("explain", "--help", NULL), 0);
    for (const char *f = "integrated-gradients\0--quadrature\0--feature-mask\0guided-backprop\0";
         *f; f += strlen(f) + 1)
        ck_assert_msg(strstr(out_text, f) != NULL, "explain --help lacks %s", f);
}
END_TEST

/* ---- lrpx compare ---- */

static cJSON *
read_json(const char *path)
{
    size_t len;
    char  *text = lrpx_test_read_file(path, &len);
    cJSON *j    = cJSON_ParseWithLength(text, len);
    free(text);
    ck_assert_msg(j != NULL, "%s is not JSON", path);
    return j;
}

static bool
starts_with_bytes(const char *path, const void *magic, size_t n)
{
    size_t   len;
    uint8_t *b  = lrpx_test_read_file(path, &len);
    bool     ok = len >= n && memcmp(b, magic, n) == 0;
    free(b);
    return ok;
}

/* Two models (the bundled CNN and a copy with its preprocessing) x two
 * methods over the 8 rows of fmnist_batch8.npy: every report file, well
 * formed; --resume after deleting results and the summary gives the same
 * scores; usage errors exit 2, failures 1. */
START_TEST(test_compare)
{
    char m2[LRPX_TEST_PATH_MAX], x[LRPX_TEST_PATH_MAX], rep[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m2, sizeof m2, "%s", tpath("copy.onnx"));
    lrpx_test_snprintf(x, sizeof x, "%s", lrpx_test_path("images/fmnist_batch8.npy"));
    lrpx_test_snprintf(rep, sizeof rep, "%s", tpath("report"));
    copy_file(lrpx_test_path(MODEL), m2);
    copy_file(lrpx_test_path("models/fmnist_cnn.preprocess.json"), tpath("copy.preprocess.json"));
    char m1[LRPX_TEST_PATH_MAX];      /* lrpx_test_path's buffers are reused */
    lrpx_test_snprintf(m1, sizeof m1, "%s", lrpx_test_path(MODEL));
#define COMPARE_ARGS                                                                          \
    "compare", "--models", m1, m2, "--inputs", x, "--methods", "gradient,epsilon_plus_flat",  \
        "--metrics", "pixel-flipping:features-in-step=112",                                   \
        "region-perturbation:patch-size=7,regions-evaluation=4", "sparseness",                \
        "--grid-inputs", "2", "-o", rep
    ck_assert_msg(run_cli(COMPARE_ARGS, NULL) == 0, "%s", err_text);
    static const char *const files[] = {"summary.md", "summary.csv", "summary.json",
                                        "curves.svg", "curves.png", "grid.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char f[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(f, sizeof f, "%s/%s", rep, files[i]);
        ck_assert_msg(exists(f), "%s", files[i]);
    }
    ck_assert(starts_with_bytes(tpath("report/curves.png"), "\x89PNG\r\n\x1a\n", 8));
    ck_assert(starts_with_bytes(tpath("report/grid.png"), "\x89PNG\r\n\x1a\n", 8));
    ck_assert(starts_with_bytes(tpath("report/curves.svg"), "<?xml", 5));
    slurp(tpath("report/curves.svg"), out_text, sizeof out_text);
    ck_assert_ptr_nonnull(strstr(out_text, "</svg>\n"));
    ck_assert_ptr_nonnull(strstr(out_text, "<polyline"));
    ck_assert_ptr_nonnull(strstr(out_text, ">epsilon_plus_flat</text>"));    /* the legend */
    /* summary.md: a row per (model, method), a column per metric */
    slurp(tpath("report/summary.md"), out_text, sizeof out_text);
    ck_assert_ptr_nonnull(strstr(out_text, "| fmnist_cnn | gradient |"));
    ck_assert_ptr_nonnull(strstr(out_text, "| copy | epsilon_plus_flat |"));
    ck_assert_ptr_nonnull(strstr(out_text, " ± "));
    /* summary.csv: header + 2 models x 2 methods x (3 metrics + time) */
    slurp(tpath("report/summary.csv"), out_text, sizeof out_text);
    int lines = 0;
    for (const char *p = out_text; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_int_eq(lines, 1 + 2 * 2 * 4);
    ck_assert_ptr_nonnull(strstr(out_text, "\"region-perturbation:patch-size=7,regions-evaluation=4\""));
    /* summary.json */
    cJSON *j = read_json(tpath("report/summary.json"));
    cJSON *res = cJSON_GetObjectItem(j, "results");
    ck_assert_int_eq(cJSON_GetArraySize(res), 4);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "n_inputs")->valueint, 8);
    cJSON *r0;
    cJSON_ArrayForEach(r0, res)
    {
        cJSON *sc = cJSON_GetObjectItem(r0, "scores");
        ck_assert_int_eq(cJSON_GetArraySize(sc), 3);
        cJSON *pf = cJSON_GetObjectItem(sc, "pixel-flipping:features-in-step=112");
        ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(pf, "summary"), "n")->valueint, 8);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pf, "mean_curve")), 7);
        cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(r0, "metrics"), "explanation_time_ms");
        ck_assert(cJSON_GetObjectItem(t, "mean")->valuedouble > 0);
    }
    /* the two models are the same network: the same scores */
    ck_assert(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "scores"),
                            cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2), "scores"), 1));
    /* --resume: delete results, maps and the summary; the rest is reused */
    unlink(tpath("report/units/m0-k1-i3.txt"));
    unlink(tpath("report/units/m1-k0-i0.txt"));
    unlink(tpath("report/units/m1-k1-i1.map.npy"));
    unlink(tpath("report/summary.json"));
    unlink(tpath("report/summary.md"));
    lrpx_test_write_file(tpath("report/units/m0-k0-i5.txt"), "lrpx-compare-unit 1 junk", 24);
    ck_assert_msg(run_cli(COMPARE_ARGS, "--resume", NULL) == 0, "%s", err_text);
    cJSON *j2 = read_json(tpath("report/summary.json"));
    cJSON *a, *b = cJSON_GetObjectItem(j2, "results")->child;
    cJSON_ArrayForEach(a, res)
    {
        ck_assert(cJSON_Compare(cJSON_GetObjectItem(a, "scores"), cJSON_GetObjectItem(b, "scores"),
                                1));
        b = b->next;
    }
    cJSON_Delete(j2);
    /* another command line does not reuse the results */
    ck_assert_int_eq(run_cli(COMPARE_ARGS, "--resume", "--target", "3", NULL), 0);
    j2 = read_json(tpath("report/summary.json"));
    ck_assert(!cJSON_Compare(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "scores"),
                             cJSON_GetObjectItem(cJSON_GetArrayItem(
                                                     cJSON_GetObjectItem(j2, "results"), 0),
                                                 "scores"),
                             1));
    cJSON_Delete(j2);
    cJSON_Delete(j);
    /* one mask per input: all inside for the even inputs (relevance-mass
     * 1), empty for the odd ones (NaN, left out of the mean): 1 over 4 */
    uint8_t masks[8 * 784];
    for (int i = 0; i < 8; i++)
        memset(masks + i * 784, i % 2 == 0, 784);
    char mk[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(mk, sizeof mk, "%s", tpath("masks.npy"));
    ck_assert_int_eq(lrpx_npy_write(mk, LRPX_DTYPE_UINT8, 4, (int64_t[]){8, 1, 28, 28}, masks,
                                    NULL, 0), LRPX_OK);
    ck_assert_msg(run_cli("compare", "--models", m1, "--inputs", x, "--metrics", "relevance-mass",
                          "--mask", mk, "--methods", "gradient", "-o", tpath("masked"), NULL) == 0,
                  "%s", err_text);
    j2 = read_json(tpath("masked/summary.json"));
    cJSON *rm = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                        cJSON_GetObjectItem(j2, "results"), 0), "scores"),
                                    "relevance-mass");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "summary"), "mean")
                                ->valuedouble, 1.0, 1e-6);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "summary"), "n")->valueint, 4);
    cJSON_Delete(j2);
    /* usage errors and failures */
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", x, "-o", rep, NULL), 2);
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", x, "--metrics", "nope", "-o",
                             rep, NULL), 2);
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", x, "--metrics", "sparseness",
                             "--methods", "gradient", "--steps", "4", "-o", rep, NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--steps goes with --method integrated-gradients"));
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", tmp, "--metrics",
                             "sparseness", "-o", tmp, NULL), 2);          /* report = input folder */
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", x, "--metrics", "sparseness",
                             "-o", tpath("report/summary.md/x"), NULL), 1);
    ck_assert_int_eq(run_cli("compare", "--models", tpath("missing.onnx"), "--inputs", x,
                             "--metrics", "sparseness", "-o", tpath("r2"), NULL), 1);
    ck_assert_int_eq(run_cli("compare", "--models", m1, "--inputs", x, "--metrics",
                             "relevance-mass", "-o", tpath("r3"), NULL), 1);   /* no mask */
    ck_assert_ptr_nonnull(strstr(err_text, "needs a mask"));
    ck_assert_int_eq(run_cli("compare", "--help", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "--resume"));
#undef COMPARE_ARGS
}
END_TEST

static Suite *
cli_suite(void)
{
    Suite *s  = suite_create("cli");
    TCase *tc = tcase_create("images");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_run_image_matches_npy, 0, 8);
    tcase_add_test(tc, test_batch_and_folder);
    tcase_add_test(tc, test_run_batch_chunks);
    tcase_add_test(tc, test_preprocess_command);
    suite_add_tcase(s, tc);

    tc = tcase_create("heatmaps");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_heatmap_pixels);
    tcase_add_test(tc, test_grid_translate_window);
    tcase_add_test(tc, test_tokens);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_bad_inputs);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_eval_command);
    tcase_add_test(tc, test_outputs_never_clobber_inputs);
    suite_add_tcase(s, tc);

    tc = tcase_create("methods");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_methods_cli);
    suite_add_tcase(s, tc);

    tc = tcase_create("compare");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_compare);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
