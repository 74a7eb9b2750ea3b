/* Suite "image": decoding, preprocessing, colour maps, heatmaps, output.
 *
 * References are independent of lrpx:
 *   - the .npy files in testdata/expected/image come from PIL 9.4 / torchvision 0.14 /
 *     matplotlib 3.6 on the photos in testdata/images/photos
 *     (scripts/gen_image_refs.py): decoded pixels, bilinear/nearest
 *     resizes, Resize + CenterCrop, luma, colour-map samples;
 *   - normalisation, colour-map formulas (LRP toolbox, Zennit), heatmap
 *     pixels, overlay and the font glyphs are recomputed here from their
 *     definitions;
 *   - corrupt, truncated and hostile files are made here, byte by byte.
 * Each comparison prints its numbers (max / mean |diff| in grey levels).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_impl.h"
#include "lrpx_test.h"

static char scratch[LRPX_TEST_PATH_MAX];

static void
setup(void)
{
    lrpx_test_tmpdir(scratch, sizeof scratch);
}

static void
teardown(void)
{
    lrpx_test_rmtree(scratch);
}

static const char *
scratch_path(const char *name)
{
    static char p[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(p, sizeof p, "%s/%s", scratch, name);
    return p;
}

/* No temporary of an atomic write (".NAME.XXXXXX") is left in the scratch
 * folder. */
static void
assert_no_temporaries(void)
{
    DIR *d = opendir(scratch);
    ck_assert_msg(d != NULL, "cannot open %s", scratch);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            closedir(d);
            ck_assert_msg(0, "temporary '%s' left behind", e->d_name);
        }
    closedir(d);
}

static const char *
photo(const char *name)
{
    static char p[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(p, sizeof p, "%s", lrpx_test_path("images/photos"));
    size_t n = strlen(p);
    lrpx_test_snprintf(p + n, sizeof p - n, "/%s", name);
    return p;
}

static lrpx_npy *
ref(const char *name)
{
    char rel[256];
    lrpx_test_snprintf(rel, sizeof rel, "expected/image/%s", name);
    return lrpx_test_npy_load(lrpx_test_path(rel));
}

static double
npy_at(const lrpx_npy *a, int64_t i)
{
    switch (a->dtype) {
    case LRPX_DTYPE_UINT8:   return ((const uint8_t *)a->data)[i];
    case LRPX_DTYPE_INT32:   return ((const int32_t *)a->data)[i];
    case LRPX_DTYPE_FLOAT64: return ((const double *)a->data)[i];
    case LRPX_DTYPE_FLOAT32: return ((const float *)a->data)[i];
    default: ck_abort_msg("unexpected reference dtype %d", (int)a->dtype);
    }
    return 0.0;
}

static lrpx_image *
load_ok(const char *path)
{
    char        err[512];
    lrpx_image *img = NULL;
    lrpx_status rc  = lrpx_image_load(path, NULL, &img, err, sizeof err);
    ck_assert_msg(rc == LRPX_OK, "%s: %s (%s)", path, lrpx_status_name(rc), err);
    return img;
}

struct diff {
    double max, mean;
    int64_t n_off;       /* samples that differ at all */
};

/* img (HWC float) against ref (H,W) or (H,W,C) times scale. */
static struct diff
compare_ref(const lrpx_image *img, const lrpx_npy *r, double scale, const char *what)
{
    int rc = r->rank == 2 ? 1 : (int)r->dims[2];
    ck_assert_msg(r->rank == 2 || r->rank == 3, "%s: reference rank %d", what, r->rank);
    ck_assert_msg(img->height == r->dims[0] && img->width == r->dims[1] && img->channels == rc,
                  "%s: got %dx%dx%d, reference %lldx%lldx%d", what, img->height, img->width,
                  img->channels, (long long)r->dims[0], (long long)r->dims[1], rc);
    struct diff d = {0, 0, 0};
    for (int64_t i = 0; i < r->n_elems; i++) {
        double e = fabs(img->data[i] - npy_at(r, i) * scale);
        if (e > d.max)
            d.max = e;
        d.mean += e;
        d.n_off += e > 1e-6;
    }
    d.mean /= (double)r->n_elems;
    return d;
}

/* ---- decode ---- */

struct decode_case {
    const char *file, *npy;
    int         channels;
    double      scale;      /* reference * scale = expected sample */
    double      max_diff;
};

static const struct decode_case decode_cases[] = {
    {"astronaut.jpg",           "astronaut_decoded.npy",           3, 1.0,         1.0},
    {"chelsea_progressive.jpg", "chelsea_progressive_decoded.npy", 3, 1.0,         1.0},
    {"coffee_gray.jpg",         "coffee_gray_decoded.npy",         1, 1.0,         1.0},
    {"china_cmyk.jpg",          "china_cmyk_decoded.npy",          3, 1.0,         1.0},
    {"flower_exif6.jpg",        "flower_exif6_decoded.npy",        3, 1.0,         1.0},
    {"orient_2.jpg",            "orient_2_decoded.npy",            3, 1.0,         1.0},
    {"orient_3.jpg",            "orient_3_decoded.npy",            3, 1.0,         1.0},
    {"orient_4.jpg",            "orient_4_decoded.npy",            3, 1.0,         1.0},
    {"orient_5.jpg",            "orient_5_decoded.npy",            3, 1.0,         1.0},
    {"orient_7.jpg",            "orient_7_decoded.npy",            3, 1.0,         1.0},
    {"orient_8.jpg",            "orient_8_decoded.npy",            3, 1.0,         1.0},
    {"orient_8.png",            "orient_8_png_decoded.npy",        3, 1.0,         1.0},
    {"astronaut_rgb.png",       "astronaut_rgb_decoded.npy",       3, 1.0,         1.0},
    {"coffee_rgba.png",         "coffee_rgba_decoded.npy",         4, 1.0,         1.0},
    {"chelsea_palette.png",     "chelsea_palette_decoded.npy",     3, 1.0,         1.0},
    /* 16-bit: v * 255 / 65535 exactly, so a float-rounding tolerance */
    {"camera_gray16.png",       "camera_gray16_decoded.npy",       1, 1.0 / 257.0, 1e-4},
    {"camera_ga_adam7.png",     "camera_ga_adam7_decoded.npy",     2, 1.0,         1.0},
    {"chelsea_rgb16_adam7.png", "chelsea_rgb16_adam7_decoded.npy", 3, 1.0 / 257.0, 1e-4},
};
#define N_DECODE ((int)(sizeof decode_cases / sizeof decode_cases[0]))

START_TEST(test_decode_matches_pil)
{
    const struct decode_case *c   = &decode_cases[_i];
    lrpx_image               *img = load_ok(photo(c->file));
    lrpx_npy                 *r   = ref(c->npy);
    ck_assert_int_eq(img->channels, c->channels);
    struct diff d = compare_ref(img, r, c->scale, c->file);
    printf("decode %-24s %4dx%-4d c%d  max|diff| %.3g  mean %.3g  (%lld samples differ)\n",
           c->file, img->width, img->height, img->channels, d.max, d.mean,
           (long long)d.n_off);
    ck_assert_msg(d.max <= c->max_diff, "%s: max |diff| %g > %g", c->file, d.max, c->max_diff);
    ck_assert_str_eq(img->format, strstr(c->file, ".png") ? "png" : "jpeg");
    lrpx_npy_free(r);
    lrpx_image_free(img);
}
END_TEST

START_TEST(test_orientation_info)
{
    char                           err[256];
    struct lrpx_image_load_options o;
    lrpx_image                    *img;
    lrpx_image_load_options_default(&o);
    o.apply_orientation = 0;
    ck_assert_int_eq(lrpx_image_load(photo("flower_exif6.jpg"), &o, &img, err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(img->width, 240);
    ck_assert_int_eq(img->height, 160);
    ck_assert_int_eq(img->orientation, 1);
    lrpx_image_free(img);

    img = load_ok(photo("flower_exif6.jpg"));
    ck_assert_int_eq(img->width, 160);
    ck_assert_int_eq(img->height, 240);
    ck_assert_int_eq(img->file_width, 240);
    ck_assert_int_eq(img->file_height, 160);
    ck_assert_int_eq(img->orientation, 6);
    lrpx_image_free(img);

    img = load_ok(photo("astronaut.jpg"));
    ck_assert_int_eq(img->orientation, 1);
    ck_assert_int_eq(img->bit_depth, 8);
    lrpx_image_free(img);
}
END_TEST

/* A TIFF block with entries {tag, type, count, value} written in byte order
 * big (true) or little; returns its length. */
static size_t
make_tiff(uint8_t *b, bool big, const uint16_t (*e)[3], int n, uint32_t value_of_last)
{
    size_t p = 0;
#define PUT16(v) do { uint16_t v_ = (uint16_t)(v);                                    \
        b[p++] = big ? v_ >> 8 : v_ & 0xff; b[p++] = big ? v_ & 0xff : v_ >> 8; } while (0)
#define PUT32(v) do { uint32_t w_ = (uint32_t)(v);                                    \
        if (big) { PUT16(w_ >> 16); PUT16(w_); } else { PUT16(w_); PUT16(w_ >> 16); } } while (0)
    b[p++] = big ? 'M' : 'I';
    b[p++] = big ? 'M' : 'I';
    PUT16(42);
    PUT32(8);
    PUT16(n);
    for (int i = 0; i < n; i++) {
        PUT16(e[i][0]);
        PUT16(e[i][1]);
        PUT32(e[i][2]);
        if (i == n - 1) {
            PUT16(value_of_last);  /* SHORT left-aligned */
            PUT16(0);
        } else {
            PUT32(0);
        }
    }
    PUT32(0);
#undef PUT16
#undef PUT32
    return p;
}

START_TEST(test_exif_parser)
{
    uint8_t        b[256];
    const uint16_t two[2][3] = {{0x010F, 2, 4}, {0x0112, 3, 1}};
    for (int big = 0; big <= 1; big++)
        for (uint32_t v = 0; v <= 10; v++) {
            size_t n = make_tiff(b, big, two, 2, v);
            int    o = lrpx__exif_orientation(b, n);
            ck_assert_int_eq(o, v >= 1 && v <= 8 ? (int)v : 0);
            /* every truncation either still finds it or gives 0, and never
             * reads past the end (ASan/valgrind watch this) */
            for (size_t k = 0; k < n; k++) {
                uint8_t *t = malloc(k ? k : 1);
                memcpy(t, b, k);
                int ot = lrpx__exif_orientation(t, k);
                ck_assert(ot == 0 || ot == o);
                free(t);
            }
        }
    /* wrong type (LONG), wrong magic, IFD offset past the end, huge count */
    const uint16_t bad_type[1][3] = {{0x0112, 4, 1}};
    size_t         n              = make_tiff(b, false, bad_type, 1, 6);
    ck_assert_int_eq(lrpx__exif_orientation(b, n), 0);
    const uint16_t one[1][3] = {{0x0112, 3, 1}};
    n = make_tiff(b, false, one, 1, 6);
    ck_assert_int_eq(lrpx__exif_orientation(b, n), 6);
    b[2] = 43;
    ck_assert_int_eq(lrpx__exif_orientation(b, n), 0);
    b[2] = 42;
    b[4] = 0xF0, b[5] = 0xFF, b[6] = 0xFF, b[7] = 0xFF;     /* IFD at 0xFFFFFFF0 */
    ck_assert_int_eq(lrpx__exif_orientation(b, n), 0);
    n = make_tiff(b, false, one, 1, 6);
    b[8] = 0xFF, b[9] = 0xFF;                               /* 65535 entries */
    ck_assert_int_eq(lrpx__exif_orientation(b, n), 6);      /* reads the one present */
    ck_assert_int_eq(lrpx__exif_orientation(NULL, 0), 0);
}
END_TEST

/* ---- resize and crop against PIL / torchvision ---- */

struct resize_case {
    const char *file, *npy;
    lrpx_resize_mode resize;
    int              a, b;        /* SHORTER: a; EXACT: a x b */
    int              cw, ch;      /* crop, 0 none */
    lrpx_interp      interp;
    lrpx_color       color;
    int              sub;         /* reference keeps every sub-th row/column */
};

static const struct resize_case resize_cases[] = {
    {"astronaut.jpg",           "astronaut_imagenet_u8.npy",      LRPX_RESIZE_SHORTER, 256, 0,
     224, 224, LRPX_INTERP_BILINEAR, LRPX_COLOR_RGB, 1},
    {"chelsea_progressive.jpg", "chelsea_r128_c111x101_u8.npy",   LRPX_RESIZE_SHORTER, 128, 0,
     101, 111, LRPX_INTERP_BILINEAR, LRPX_COLOR_RGB, 1},
    {"chelsea_progressive.jpg", "chelsea_r20_c40x25_u8.npy",      LRPX_RESIZE_SHORTER, 20, 0,
     25, 40, LRPX_INTERP_BILINEAR, LRPX_COLOR_RGB, 1},
    {"coffee_gray.jpg",         "coffee_gray_exact28_u8.npy",     LRPX_RESIZE_EXACT, 28, 28,
     0, 0, LRPX_INTERP_BILINEAR, LRPX_COLOR_GRAY, 1},
    {"china_cmyk.jpg",          "china_exact100x80_u8.npy",       LRPX_RESIZE_EXACT, 100, 80,
     0, 0, LRPX_INTERP_BILINEAR, LRPX_COLOR_RGB, 1},
    {"astronaut_rgb.png",       "astronaut_rgb_up160x144_u8.npy", LRPX_RESIZE_EXACT, 160, 144,
     0, 0, LRPX_INTERP_BILINEAR, LRPX_COLOR_RGB, 1},
    {"astronaut_rgb.png",       "astronaut_rgb_gray_u8.npy",      LRPX_RESIZE_NONE, 0, 0,
     0, 0, LRPX_INTERP_BILINEAR, LRPX_COLOR_GRAY, 1},
    {"astronaut_rgb.png",       "astronaut_rgb_gray28_u8.npy",    LRPX_RESIZE_EXACT, 28, 28,
     0, 0, LRPX_INTERP_BILINEAR, LRPX_COLOR_GRAY, 1},
    {"chelsea_progressive.jpg", "chelsea_nearest75x50_u8.npy",    LRPX_RESIZE_EXACT, 75, 50,
     0, 0, LRPX_INTERP_NEAREST, LRPX_COLOR_RGB, 1},
    {"chelsea_progressive.jpg", "chelsea_nearest37x23_u8.npy",    LRPX_RESIZE_EXACT, 37, 23,
     0, 0, LRPX_INTERP_NEAREST, LRPX_COLOR_RGB, 1},
    {"chelsea_progressive.jpg", "chelsea_nearest450x310_u8.npy",  LRPX_RESIZE_EXACT, 450, 310,
     0, 0, LRPX_INTERP_NEAREST, LRPX_COLOR_RGB, 7},
};
#define N_RESIZE ((int)(sizeof resize_cases / sizeof resize_cases[0]))

static lrpx_image *
prepare_case(const struct resize_case *c, const lrpx_image *img, int quantize,
             lrpx_image_geometry *g)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    pp.resize         = c->resize;
    pp.resize_shorter = c->a;
    pp.resize_width   = c->a;
    pp.resize_height  = c->b;
    pp.crop_width     = c->cw ? c->cw : -1;
    pp.crop_height    = c->ch ? c->ch : -1;
    pp.interp         = c->interp;
    pp.color          = c->color;
    pp.quantize       = quantize;
    char        err[256];
    lrpx_image *out;
    lrpx_status rc = lrpx_image_prepare(img, &pp, &out, g, err, sizeof err);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", c->npy, err);
    return out;
}

/* Keep every sub-th row and column of img (in place of a copy). */
static lrpx_image *
subsample(lrpx_image *img, int sub)
{
    if (sub == 1)
        return img;
    int         w = (img->width + sub - 1) / sub, h = (img->height + sub - 1) / sub;
    int         c = img->channels;
    lrpx_image *s;
    ck_assert_int_eq(lrpx_image_init(w, h, c, &s), LRPX_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(s->data + ((size_t)y * w + x) * c,
                   img->data + ((size_t)y * sub * img->width + (size_t)x * sub) * c,
                   sizeof(float) * c);
    lrpx_image_free(img);
    return s;
}

START_TEST(test_resize_matches_pil)
{
    const struct resize_case *c   = &resize_cases[_i];
    lrpx_image               *img = load_ok(photo(c->file));
    lrpx_npy                 *r   = ref(c->npy);
    lrpx_image_geometry       g;

    /* quantize on (default): PIL's own fixed-point arithmetic */
    lrpx_image *q  = subsample(prepare_case(c, img, 1, &g), c->sub);
    struct diff dq = compare_ref(q, r, 1.0, c->npy);
    /* quantize off: float all the way */
    lrpx_image *f  = subsample(prepare_case(c, img, 0, &g), c->sub);
    struct diff df = compare_ref(f, r, 1.0, c->npy);
    printf("resize %-32s %s  quantized: max %.3g mean %.3g   float: max %.3g mean %.4g "
           "(grey levels)\n", c->npy, c->interp == LRPX_INTERP_NEAREST ? "nearest " : "bilinear",
           dq.max, dq.mean, df.max, df.mean);
    /* PIL rounds each pass to 8 bits; so does the quantized path, and it
     * should agree exactly. The float path keeps fractions: within 1 grey
     * level on average (1/255 after scaling to [0, 1]). */
    ck_assert_msg(dq.max <= 1.0 && dq.mean <= 0.01, "%s quantized: max %g mean %g", c->npy,
                  dq.max, dq.mean);
    ck_assert_msg(df.mean <= 1.0 && df.max <= 2.0, "%s float: max %g mean %g", c->npy, df.max,
                  df.mean);
    lrpx_image_free(q);
    lrpx_image_free(f);
    lrpx_npy_free(r);
    lrpx_image_free(img);
}
END_TEST

START_TEST(test_crop_geometry)
{
    lrpx_image         *img = load_ok(photo("chelsea_progressive.jpg"));   /* 300x200 */
    lrpx_image_geometry g;
    lrpx_image         *p = prepare_case(&resize_cases[1], img, 1, &g);
    /* 300x200 -> 192x128; (192-101)/2 = 45.5 -> 46 (half to even),
     * (128-111)/2 = 8.5 -> 8 */
    ck_assert_int_eq(g.src_width, 300);
    ck_assert_int_eq(g.src_height, 200);
    ck_assert_int_eq(g.resized_width, 192);
    ck_assert_int_eq(g.resized_height, 128);
    ck_assert_int_eq(g.crop_x, 46);
    ck_assert_int_eq(g.crop_y, 8);
    ck_assert_int_eq(g.width, 101);
    ck_assert_int_eq(g.height, 111);
    lrpx_image_free(p);
    /* padded crop: 300x200 -> 30x20, crop 25 wide 40 high:
     * x: (30-25)/2 = 2.5 -> 2; y: padded by (40-20)//2 = 10 on top */
    p = prepare_case(&resize_cases[2], img, 1, &g);
    ck_assert_int_eq(g.resized_width, 30);
    ck_assert_int_eq(g.resized_height, 20);
    ck_assert_int_eq(g.crop_x, 2);
    ck_assert_int_eq(g.crop_y, -10);
    for (int x = 0; x < 25 * 3; x++)
        ck_assert(p->data[x] == 0.0f);          /* first row is padding */
    lrpx_image_free(p);
    lrpx_image_free(img);
}
END_TEST

/* ---- preprocessing to a tensor ---- */

static const double imagenet_mean[3] = {0.485, 0.456, 0.406};
static const double imagenet_std[3]  = {0.229, 0.224, 0.225};

START_TEST(test_preprocess_imagenet)
{
    char                   err[256];
    lrpx_image            *img = load_ok(photo("astronaut.jpg"));
    lrpx_npy              *r   = ref("astronaut_imagenet_u8.npy");      /* 224x224x3 */
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_preset(&pp, "imagenet", err, sizeof err), LRPX_OK);
    int64_t shape[4] = {1, 3, 224, 224};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, shape, err, sizeof err), LRPX_OK);

    for (int variant = 0; variant < 2; variant++) {
        /* 0: RGB NCHW (torchvision); 1: BGR NHWC */
        if (variant == 1) {
            pp.color  = LRPX_COLOR_BGR;
            pp.layout = LRPX_LAYOUT_NHWC;
            /* mean/std follow the output channel order */
            for (int c = 0; c < 3; c++) {
                pp.mean[c] = imagenet_mean[2 - c];
                pp.std[c]  = imagenet_std[2 - c];
            }
        }
        lrpx_image_tensor *t;
        ck_assert_msg(lrpx_image_preprocess(img, &pp, &t, err, sizeof err) == LRPX_OK, "%s",
                      err);
        ck_assert_int_eq(t->view.dtype, LRPX_DTYPE_FLOAT32);
        ck_assert_int_eq(t->view.rank, 4);
        ck_assert_int_eq(t->view.n_elems, 3 * 224 * 224);
        ck_assert_ptr_eq(t->view.data, t->data);
        double worst = 0.0;
        for (int y = 0; y < 224; y++)
            for (int x = 0; x < 224; x++)
                for (int c = 0; c < 3; c++) {
                    double v = ((const uint8_t *)r->data)[(y * 224 + x) * 3 + c];
                    double e = (v / 255.0 - imagenet_mean[c]) / imagenet_std[c];
                    float  a;
                    if (variant == 0) {
                        ck_assert(t->view.dims[1] == 3 && t->view.dims[3] == 224);
                        a = t->data[(c * 224 + y) * 224 + x];
                    } else {
                        ck_assert(t->view.dims[1] == 224 && t->view.dims[3] == 3);
                        a = t->data[(y * 224 + x) * 3 + (2 - c)];
                    }
                    if (fabs(a - e) > worst)
                        worst = fabs(a - e);
                }
        printf("preprocess imagenet %s: max |diff| vs torchvision pipeline %.3g\n",
               variant ? "BGR NHWC" : "RGB NCHW", worst);
        ck_assert_msg(worst < 1e-5, "worst %g", worst);
        ck_assert_int_eq(t->geom.resized_width, 256);
        ck_assert_int_eq(t->geom.crop_x, 16);
        lrpx_image_tensor_free(t);
    }
    lrpx_npy_free(r);
    lrpx_image_free(img);
}
END_TEST

START_TEST(test_preprocess_presets)
{
    char        err[256];
    lrpx_image *img = load_ok(photo("coffee_gray.jpg"));
    lrpx_npy   *r   = ref("coffee_gray_exact28_u8.npy");
    /* N x 1 x 28 x 28: gray, exact 28x28 resize, from the shape alone */
    struct {
        const char *preset;
        double      scale, mean, std;
    } presets[] = {
        {"zero-one", 1 / 255.0, 0.0, 1.0},
        {"minus-one-one", 1 / 255.0, 0.5, 0.5},
        {"none", 1.0, 0.0, 1.0},
    };
    for (int k = 0; k < 3; k++) {
        struct lrpx_preprocess pp;
        lrpx_preprocess_init(&pp);
        ck_assert_int_eq(lrpx_preprocess_preset(&pp, presets[k].preset, err, sizeof err),
                         LRPX_OK);
        int64_t shape[4] = {-1, 1, 28, 28};
        ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, shape, err, sizeof err), LRPX_OK);
        ck_assert_int_eq(pp.color, LRPX_COLOR_GRAY);
        ck_assert_int_eq(pp.layout, LRPX_LAYOUT_NCHW);
        ck_assert_int_eq(pp.resize, LRPX_RESIZE_EXACT);
        lrpx_image_tensor *t;
        ck_assert_msg(lrpx_image_preprocess(img, &pp, &t, err, sizeof err) == LRPX_OK, "%s",
                      err);
        ck_assert_int_eq(t->view.dims[1], 1);
        ck_assert_int_eq(t->view.dims[2], 28);
        double worst = 0.0;
        for (int i = 0; i < 28 * 28; i++) {
            double e = (((const uint8_t *)r->data)[i] * presets[k].scale - presets[k].mean) /
                       presets[k].std;
            worst = fmax(worst, fabs(t->data[i] - e));
        }
        ck_assert_msg(worst < 1e-5, "%s: worst %g", presets[k].preset, worst);
        lrpx_image_tensor_free(t);
    }
    lrpx_npy_free(r);
    lrpx_image_free(img);

    /* names */
    ck_assert_str_eq(lrpx_preprocess_preset_name(0), "imagenet");
    ck_assert_ptr_null(lrpx_preprocess_preset_name(4));
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_preset(&pp, "imagenette", err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "imagenette"));
    ck_assert_ptr_nonnull(strstr(err, "minus-one-one"));
}
END_TEST

START_TEST(test_preprocess_from_shape)
{
    char                   err[256];
    struct lrpx_preprocess pp;

    lrpx_preprocess_init(&pp);
    int64_t nhwc[4] = {1, 64, 48, 3};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, nhwc, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pp.layout, LRPX_LAYOUT_NHWC);
    ck_assert_int_eq(pp.color, LRPX_COLOR_RGB);
    ck_assert_int_eq(pp.resize_width, 48);
    ck_assert_int_eq(pp.resize_height, 64);

    /* imagenet preset + a 224 model: the preset's crop stays */
    lrpx_preprocess_init(&pp);
    lrpx_preprocess_preset(&pp, "imagenet", NULL, 0);
    int64_t in224[4] = {1, 3, 224, 224};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, in224, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pp.crop_width, 224);
    ck_assert_int_eq(pp.resize_shorter, 256);
    /* ... a 299 model conflicts */
    int64_t in299[4] = {1, 3, 299, 299};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, in299, err, sizeof err), LRPX_ESHAPE);
    ck_assert_ptr_nonnull(strstr(err, "224x224"));
    ck_assert_ptr_nonnull(strstr(err, "299"));

    /* shorter-side resize without a crop gets the model's size as crop */
    lrpx_preprocess_init(&pp);
    pp.resize         = LRPX_RESIZE_SHORTER;
    pp.resize_shorter = 160;
    int64_t in128[4] = {1, 3, 128, 128};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, in128, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pp.crop_width, 128);
    ck_assert_int_eq(pp.crop_height, 128);

    /* symbolic sizes: channels only */
    lrpx_preprocess_init(&pp);
    int64_t sym[4] = {-1, 3, -1, -1};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, sym, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pp.resize, LRPX_RESIZE_UNSET);
    ck_assert_int_eq(pp.color, LRPX_COLOR_RGB);

    /* not an image input */
    int64_t flat[2] = {1, 784};
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 2, flat, err, sizeof err), LRPX_ESHAPE);
    ck_assert_ptr_nonnull(strstr(err, "1x784"));
    int64_t five[4] = {1, 5, 32, 32};
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, five, err, sizeof err), LRPX_ESHAPE);
    int64_t batch[4] = {8, 3, 32, 32};
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, batch, err, sizeof err), LRPX_ESHAPE);
    /* gray settings against an RGB model */
    lrpx_preprocess_init(&pp);
    pp.color = LRPX_COLOR_GRAY;
    ck_assert_int_eq(lrpx_preprocess_from_shape(&pp, 4, in224, err, sizeof err), LRPX_ESHAPE);
    /* 3 means for a gray input is refused at preprocess time */
    lrpx_preprocess_init(&pp);
    lrpx_preprocess_preset(&pp, "imagenet", NULL, 0);
    pp.color = LRPX_COLOR_GRAY;
    lrpx_image        *img;
    lrpx_image_tensor *t;
    ck_assert_int_eq(lrpx_image_init(8, 8, 3, &img), LRPX_OK);
    ck_assert_int_eq(lrpx_image_preprocess(img, &pp, &t, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(t);
    pp.color  = LRPX_COLOR_RGB;
    pp.std[1] = 0.0;
    ck_assert_int_eq(lrpx_image_preprocess(img, &pp, &t, err, sizeof err), LRPX_EINVAL);
    lrpx_image_free(img);
}
END_TEST

START_TEST(test_preprocess_json)
{
    char                   err[256];
    struct lrpx_preprocess pp;
    const char *good = "{ \"preset\": \"imagenet\", \"crop\": {\"width\": 200, \"height\": 180},\n"
                       "  \"resize\": {\"shorter\": 232}, \"mean\": 0.5, \"std\": [0.1, 0.2, 0.3],\n"
                       "  \"color\": \"BGR\", \"layout\": \"nhwc\", \"interpolation\": \"nearest\",\n"
                       "  \"antialias\": false, \"quantize\": false, \"alpha\": \"white\",\n"
                       "  \"name\": \"mine\", \"comment\": \"anything\" }";
    lrpx_preprocess_init(&pp);
    ck_assert_msg(lrpx_preprocess_parse_json(&pp, good, strlen(good), err, sizeof err) == LRPX_OK,
                  "%s", err);
    ck_assert_int_eq(pp.resize, LRPX_RESIZE_SHORTER);
    ck_assert_int_eq(pp.resize_shorter, 232);
    ck_assert_int_eq(pp.crop_width, 200);
    ck_assert_int_eq(pp.crop_height, 180);
    ck_assert_int_eq(pp.n_mean, 3);
    ck_assert(pp.mean[2] == 0.5 && pp.std[2] == 0.3);
    ck_assert(pp.scale == 1.0 / 255.0);                      /* from the preset */
    ck_assert_int_eq(pp.color, LRPX_COLOR_BGR);
    ck_assert_int_eq(pp.layout, LRPX_LAYOUT_NHWC);
    ck_assert_int_eq(pp.interp, LRPX_INTERP_NEAREST);
    ck_assert_int_eq(pp.antialias, 0);
    ck_assert_int_eq(pp.quantize, 0);
    ck_assert_int_eq(pp.alpha, LRPX_ALPHA_WHITE);
    ck_assert_str_eq(pp.name, "mine");

    const char *exact = "{\"resize\": {\"width\": 32, \"height\": 24}, \"crop\": \"none\", "
                        "\"scale\": 0.5}";
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_parse_json(&pp, exact, strlen(exact), err, sizeof err),
                     LRPX_OK);
    ck_assert_int_eq(pp.resize, LRPX_RESIZE_EXACT);
    ck_assert_int_eq(pp.resize_width, 32);
    ck_assert_int_eq(pp.crop_width, -1);
    ck_assert(pp.scale == 0.5);

    struct {
        const char *text, *needle;
    } bad[] = {
        {"{\"rezise\": 256}", "rezise"},
        {"{\"resize\": -3}", "resize"},
        {"{\"resize\": 2.5}", "resize"},
        {"{\"crop\": {\"width\": 3}}", "crop"},
        {"{\"preset\": \"imagenot\"}", "imagenot"},
        {"{\"mean\": [1, 2]}", "mean"},
        {"{\"color\": \"cmyk\"}", "color"},
        {"{\"antialias\": 1}", "antialias"},
        {"{\"scale\": 0}", "scale"},
        {"[1, 2]", "object"},
        {"{\"resize\": 256,\n \"crop\": }", "line 2"},
        {"", "JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lrpx_preprocess_init(&pp);
        lrpx_status rc = lrpx_preprocess_parse_json(&pp, bad[i].text, strlen(bad[i].text), err,
                                                    sizeof err);
        ck_assert_msg(rc == LRPX_EPARSE, "'%s' gave %s", bad[i].text, lrpx_status_name(rc));
        ck_assert_msg(strstr(err, bad[i].needle), "'%s': message '%s' lacks '%s'", bad[i].text,
                      err, bad[i].needle);
    }

    /* from a file; a missing file */
    const char *path = scratch_path("pre.json");
    lrpx_test_write_file(path, exact, strlen(exact));
    lrpx_preprocess_init(&pp);
    ck_assert_int_eq(lrpx_preprocess_load_json(&pp, path, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pp.resize_height, 24);
    lrpx_test_write_file(path, "{\"oops\": 1}", 11);
    ck_assert_int_eq(lrpx_preprocess_load_json(&pp, path, err, sizeof err), LRPX_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(lrpx_preprocess_load_json(&pp, scratch_path("nope.json"), err, sizeof err),
                     LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, "nope.json"));
}
END_TEST

START_TEST(test_alpha_white)
{
    char                   err[256];
    lrpx_image            *img = load_ok(photo("coffee_rgba.png"));
    lrpx_npy              *r   = ref("coffee_rgba_on_white.npy");
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    pp.alpha = LRPX_ALPHA_WHITE;
    lrpx_image *out;
    ck_assert_int_eq(lrpx_image_prepare(img, &pp, &out, NULL, err, sizeof err), LRPX_OK);
    struct diff d = compare_ref(out, r, 1.0, "on white");
    printf("alpha over white: max %.3g mean %.3g\n", d.max, d.mean);
    ck_assert(d.max <= 1.0);
    lrpx_image_free(out);
    /* dropping alpha keeps the colour channels as they are */
    pp.alpha = LRPX_ALPHA_DROP;
    ck_assert_int_eq(lrpx_image_prepare(img, &pp, &out, NULL, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(out->channels, 3);
    for (int i = 0; i < out->width * out->height; i++)
        for (int c = 0; c < 3; c++)
            ck_assert(out->data[i * 3 + c] == img->data[i * 4 + c]);
    lrpx_image_free(out);
    lrpx_npy_free(r);
    lrpx_image_free(img);
}
END_TEST

START_TEST(test_unproject)
{
    char                err[256];
    lrpx_image_geometry g = {.src_width = 40, .src_height = 30, .resized_width = 40,
                             .resized_height = 30, .crop_x = 5, .crop_y = 3,
                             .width = 20, .height = 10};
    lrpx_image *map, *full;
    ck_assert_int_eq(lrpx_image_init(20, 10, 1, &map), LRPX_OK);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 20; x++)
            map->data[y * 20 + x] = (float)(1000 * y + x + 1);
    /* crop only: the map goes back to (5, 3), zero elsewhere */
    ck_assert_int_eq(lrpx_image_unproject(map, &g, &full, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(full->width, 40);
    ck_assert_int_eq(full->height, 30);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++) {
            bool  in = x >= 5 && x < 25 && y >= 3 && y < 13;
            float e  = in ? (float)(1000 * (y - 3) + (x - 5) + 1) : 0.0f;
            ck_assert_msg(full->data[y * 40 + x] == e, "(%d,%d)", x, y);
        }
    lrpx_image_free(full);

    /* with a resize: a constant map comes back constant inside the window
     * (away from its border) and zero far outside it */
    lrpx_image_geometry g2 = {.src_width = 300, .src_height = 200, .resized_width = 192,
                              .resized_height = 128, .crop_x = 46, .crop_y = 8,
                              .width = 101, .height = 111};
    lrpx_image *m2;
    ck_assert_int_eq(lrpx_image_init(101, 111, 1, &m2), LRPX_OK);
    for (int i = 0; i < 101 * 111; i++)
        m2->data[i] = 2.0f;
    ck_assert_int_eq(lrpx_image_unproject(m2, &g2, &full, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(full->width, 300);
    /* window in source coordinates: x 46..147 * 300/192 = 71.9..229.7 */
    ck_assert_float_eq_tol(full->data[100 * 300 + 150], 2.0f, 1e-5f);
    ck_assert_float_eq(full->data[100 * 300 + 10], 0.0f);
    ck_assert_float_eq(full->data[100 * 300 + 290], 0.0f);
    lrpx_image_free(full);
    /* size mismatch */
    ck_assert_int_eq(lrpx_image_unproject(map, &g2, &full, err, sizeof err), LRPX_ESHAPE);
    ck_assert_ptr_null(full);
    lrpx_image_free(m2);
    lrpx_image_free(map);
}
END_TEST

/* ---- bad input ---- */

static void
expect_fail(const void *buf, size_t len, const char *name, lrpx_status want, const char *needle)
{
    char        err[512] = "";
    lrpx_image *img      = (lrpx_image *)1;
    lrpx_status rc       = lrpx_image_load_buffer(buf, len, name, NULL, &img, err, sizeof err);
    ck_assert_msg(rc == want, "%s (%zu bytes): %s, want %s (%s)", name, len,
                  lrpx_status_name(rc), lrpx_status_name(want), err);
    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(err, name) == err, "message '%s' does not start with '%s'", err, name);
    if (needle)
        ck_assert_msg(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

START_TEST(test_not_images)
{
    char        err[512];
    lrpx_image *img;
    ck_assert_int_eq(lrpx_image_load(scratch_path("missing.jpg"), NULL, &img, err, sizeof err),
                     LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, "missing.jpg"));
    ck_assert_ptr_null(img);

    const char *txt = "just some text, not a picture\n";
    lrpx_test_write_file(scratch_path("notes.jpg"), txt, strlen(txt));
    ck_assert_int_eq(lrpx_image_load(scratch_path("notes.jpg"), NULL, &img, err, sizeof err),
                     LRPX_EIMAGE);
    ck_assert_ptr_nonnull(strstr(err, "notes.jpg"));
    ck_assert_ptr_nonnull(strstr(err, "not a JPEG or PNG"));
    ck_assert_int_eq(lrpx_image_load(scratch, NULL, &img, err, sizeof err), LRPX_EIO);

    expect_fail("", 0, "empty.png", LRPX_EIMAGE, "empty");
    expect_fail("GIF89a\x01\x00\x01\x00", 10, "anim.gif", LRPX_EIMAGE, "GIF");
    expect_fail("\x93NUMPY\x01\x00", 8, "x.npy", LRPX_EIMAGE, "NumPy");
    expect_fail("\xff\xd8", 2, "short.jpg", LRPX_EIMAGE, "not a JPEG");
    expect_fail("\xff\xd8\xff", 3, "soi.jpg", LRPX_EIMAGE, NULL);
    expect_fail("\x89PNG\r\n\x1a\n", 8, "sig.png", LRPX_EIMAGE, NULL);

    /* random bytes, bare and behind each format's signature */
    uint8_t  buf[4096];
    uint32_t s = 12345;
    for (int rep = 0; rep < 60; rep++) {
        size_t n = 16 + (size_t)(rep * 67) % (sizeof buf - 16);
        for (size_t i = 0; i < n; i++) {
            s      = s * 1103515245u + 12345u;
            buf[i] = (uint8_t)(s >> 16);
        }
        if (rep % 3 == 1)
            memcpy(buf, "\xff\xd8\xff\xe0", 4);
        if (rep % 3 == 2)
            memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
        if (rep % 3 == 0 && buf[0] == 0xff)
            buf[0] = 0;
        expect_fail(buf, n, "random.bin", LRPX_EIMAGE, NULL);
    }
}
END_TEST

static const char *const codec_files[] = {
    "astronaut.jpg", "chelsea_progressive.jpg", "china_cmyk.jpg", "coffee_gray.jpg",
    "astronaut_rgb.png", "chelsea_palette.png", "camera_gray16.png", "camera_ga_adam7.png",
};
#define N_CODEC ((int)(sizeof codec_files / sizeof codec_files[0]))

START_TEST(test_truncated)
{
    size_t   len;
    uint8_t *buf = lrpx_test_read_file(photo(codec_files[_i]), &len);
    bool     png = strstr(codec_files[_i], ".png") != NULL;
    /* half the file, with the reason in the message */
    expect_fail(buf, len / 2, codec_files[_i], LRPX_EIMAGE,
                png ? "unexpected end of file" : "Premature end");
    /* and 40 cuts from the first bytes to the last one */
    for (int k = 1; k <= 40; k++) {
        size_t cut = k == 40 ? len - 1 : len * (size_t)k / 40;
        expect_fail(buf, cut, codec_files[_i], LRPX_EIMAGE, NULL);
    }
    free(buf);
}
END_TEST

static uint32_t
crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Recompute the CRC of every chunk that lies inside the buffer. */
static void
png_fix_crcs(uint8_t *b, size_t len)
{
    size_t p = 8;
    while (p + 12 <= len) {
        uint32_t n = (uint32_t)b[p] << 24 | (uint32_t)b[p + 1] << 16 | (uint32_t)b[p + 2] << 8 |
                     b[p + 3];
        if (n > len - p - 12)
            break;
        put_be32(b + p + 8 + n, crc32_png(b + p + 4, 4 + (size_t)n));
        p += 12 + (size_t)n;
    }
}

START_TEST(test_corrupted)
{
    /* flip random bytes past the signature; anything may come out except a
     * crash, a leak or a silent failure */
    size_t   len;
    uint8_t *orig = lrpx_test_read_file(photo(codec_files[_i]), &len);
    uint8_t *buf  = malloc(len);
    bool     png  = strstr(codec_files[_i], ".png") != NULL;
    uint32_t s    = 777u + (uint32_t)_i;
    int      n_ok = 0, n_err = 0;
    for (int rep = 0; rep < 150; rep++) {
        memcpy(buf, orig, len);
        int flips = 1 + rep % 8;
        for (int f = 0; f < flips; f++) {
            s = s * 1103515245u + 12345u;
            size_t at = 8 + (s >> 8) % (len - 8);
            s = s * 1103515245u + 12345u;
            buf[at] ^= (uint8_t)(1 + (s >> 16) % 255);
        }
        /* every other PNG case gets valid CRCs again, so the damage reaches
         * the chunk parsers and zlib instead of stopping at the CRC check */
        if (png && rep % 2)
            png_fix_crcs(buf, len);
        char        err[512] = "";
        lrpx_image *img      = NULL;
        lrpx_status rc = lrpx_image_load_buffer(buf, len, "fuzz", NULL, &img, err, sizeof err);
        if (rc == LRPX_OK) {
            ck_assert_ptr_nonnull(img);
            n_ok++;
        } else {
            ck_assert_ptr_null(img);
            ck_assert_msg(rc == LRPX_EIMAGE || rc == LRPX_ELIMIT, "%s", lrpx_status_name(rc));
            ck_assert_msg(strlen(err) > strlen("fuzz: "), "empty message");
            n_err++;
        }
        lrpx_image_free(img);
    }
    printf("corrupted %-24s %d decoded, %d refused\n", codec_files[_i], n_ok, n_err);
    free(buf);
    free(orig);
}
END_TEST

START_TEST(test_limits)
{
    char                           err[512];
    lrpx_image                    *img;
    struct lrpx_image_load_options o;
    lrpx_image_load_options_default(&o);
    ck_assert_int_eq(o.max_pixels, 100000000);
    o.max_pixels = 1000;
    ck_assert_int_eq(lrpx_image_load(photo("astronaut.jpg"), &o, &img, err, sizeof err),
                     LRPX_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err, "astronaut.jpg"));
    ck_assert_int_eq(lrpx_image_load(photo("astronaut_rgb.png"), &o, &img, err, sizeof err),
                     LRPX_ELIMIT);
    lrpx_image_load_options_default(&o);
    o.max_file_bytes = 100;
    ck_assert_int_eq(lrpx_image_load(photo("astronaut.jpg"), &o, &img, err, sizeof err),
                     LRPX_ELIMIT);

    /* headers claiming 60000 x 60000 pixels: refused before any pixel
     * memory is taken */
    size_t   len;
    uint8_t *buf = lrpx_test_read_file(photo("astronaut.jpg"), &len);
    size_t   sof = 0;
    for (size_t i = 2; i + 9 < len; i++)
        if (buf[i] == 0xFF && buf[i + 1] == 0xC0) {
            sof = i;
            break;
        }
    ck_assert_msg(sof > 0, "no SOF0 marker");
    buf[sof + 5] = 0xEA, buf[sof + 6] = 0x60;      /* height 60000 */
    buf[sof + 7] = 0xEA, buf[sof + 8] = 0x60;      /* width 60000  */
    expect_fail(buf, len, "huge.jpg", LRPX_ELIMIT, "60000x60000");
    free(buf);

    buf = lrpx_test_read_file(photo("astronaut_rgb.png"), &len);
    /* IHDR data at 16..28, CRC over "IHDR" + data at 29..32 */
    put_be32(buf + 16, 60000);
    put_be32(buf + 20, 60000);
    put_be32(buf + 29, crc32_png(buf + 12, 17));
    expect_fail(buf, len, "huge.png", LRPX_ELIMIT, "60000x60000");
    free(buf);
}
END_TEST

/* Fail the n-th allocation, n = 1, 2, ... until the call succeeds: every
 * failure must be LRPX_ENOMEM and leak nothing (ASan / valgrind). */
START_TEST(test_oom)
{
    size_t   jlen, plen;
    uint8_t *jpg = lrpx_test_read_file(photo("orient_3.jpg"), &jlen);
    uint8_t *png = lrpx_test_read_file(photo("orient_8.png"), &plen);
    int      n_fail = 0;
    for (int what = 0; what < 4; what++) {
        for (int64_t n = 1;; n++) {
            char         err[256];
            lrpx_image  *img = NULL, *map = NULL;
            lrpx_pixmap *pm  = NULL;
            lrpx_status  rc;
            struct lrpx_preprocess pp;
            lrpx_image_tensor     *t = NULL;
            if (what >= 2) {            /* inputs made before failures start */
                rc = lrpx_image_load_buffer(jpg, jlen, "o.jpg", NULL, &img, err, sizeof err);
                ck_assert_int_eq(rc, LRPX_OK);
            }
            lrpx__alloc_fail_after(n);
            switch (what) {
            case 0:
                rc = lrpx_image_load_buffer(jpg, jlen, "o.jpg", NULL, &img, err, sizeof err);
                break;
            case 1:
                rc = lrpx_image_load_buffer(png, plen, "o.png", NULL, &img, err, sizeof err);
                break;
            case 2:
                lrpx_preprocess_init(&pp);
                lrpx_preprocess_preset(&pp, "imagenet", NULL, 0);
                pp.resize_shorter = 20;
                pp.crop_width = pp.crop_height = 16;
                rc = lrpx_image_preprocess(img, &pp, &t, err, sizeof err);
                break;
            default: {
                /* the RGB image itself as an H x W x 3 "relevance" */
                lrpx_tensor_view v = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 3,
                                      .dims = {img->height, img->width, 3},
                                      .n_elems = 3LL * img->height * img->width,
                                      .data = img->data};
                rc = lrpx_heatmap_reduce(&v, LRPX_LAYOUT_NHWC, LRPX_HEAT_REDUCE_SUM, &map, err,
                                         sizeof err);
                if (rc == LRPX_OK) {
                    struct lrpx_heatmap_options ho;
                    lrpx_heatmap_options_default(&ho);
                    ho.percentile = 99.0;
                    rc = lrpx_heatmap_render(map, &ho, &pm, err, sizeof err);
                }
                break;
            }
            }
            lrpx__alloc_fail_after(0);
            lrpx_image_free(img);
            lrpx_image_free(map);
            lrpx_pixmap_free(pm);
            lrpx_image_tensor_free(t);
            if (rc == LRPX_OK)
                break;
            ck_assert_msg(rc == LRPX_ENOMEM, "case %d, allocation %lld: %s (%s)", what,
                          (long long)n, lrpx_status_name(rc), err);
            n_fail++;
            ck_assert_msg(n < 1000, "case %d never succeeds", what);
        }
    }
    printf("oom: %d injected allocation failures, all LRPX_ENOMEM\n", n_fail);
    free(jpg);
    free(png);
}
END_TEST

/* ---- colour maps ---- */

static void
check_rgb(const lrpx_colormap *cm, double u, double r, double g, double b, double tol)
{
    double c[3];
    lrpx_colormap_eval(cm, u, c);
    ck_assert_msg(fabs(c[0] - r) <= tol && fabs(c[1] - g) <= tol && fabs(c[2] - b) <= tol,
                  "%s(%g) = (%g, %g, %g), want (%g, %g, %g)", lrpx_colormap_name(cm), u, c[0],
                  c[1], c[2], r, g, b);
}

START_TEST(test_colormap_ends_and_centre)
{
    static const struct {
        const char *name;
        double      rgb[3][3];    /* u = 0, 0.5, 1 */
    } t[] = {
        {"bwr",           {{0, 0, 1},      {1, 1, 1},       {1, 0, 0}}},
        {"seismic",       {{0, 0, 0.3},    {1, 1, 1},       {0.5, 0, 0}}},
        {"coldnhot",      {{0, 1, 1},      {0, 0, 0},       {1, 1, 1}}},
        {"gray-red",      {{0, 0, 1},      {0.8, 0.8, 0.8}, {1, 0, 0}}},
        {"black-firered", {{1, 1, 1},      {0, 0, 0},       {1, 1, 1}}},
        {"hot",           {{0.0416, 0, 0}, {1, 0.35417, 0}, {1, 1, 1}}},
        {"gray",          {{0, 0, 0},      {0.5, 0.5, 0.5}, {1, 1, 1}}},
        {"afmhot",        {{0, 0, 0},      {1, 0.5, 0},     {1, 1, 1}}},
    };
    int n = 0;
    while (lrpx_colormap_builtin_name(n))
        n++;
    ck_assert_int_eq(n, 8);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const lrpx_colormap *cm = lrpx_colormap_builtin(t[i].name);
        ck_assert_msg(cm != NULL, "%s", t[i].name);
        ck_assert_str_eq(lrpx_colormap_name(cm), t[i].name);
        for (int k = 0; k < 3; k++)
            check_rgb(cm, k * 0.5, t[i].rgb[k][0], t[i].rgb[k][1], t[i].rgb[k][2], 1e-4);
        check_rgb(cm, -3.0, t[i].rgb[0][0], t[i].rgb[0][1], t[i].rgb[0][2], 1e-4);
        check_rgb(cm, 7.0, t[i].rgb[2][0], t[i].rgb[2][1], t[i].rgb[2][2], 1e-4);
        check_rgb(cm, NAN, t[i].rgb[1][0], t[i].rgb[1][1], t[i].rgb[1][2], 1e-4);
    }
    ck_assert_ptr_null(lrpx_colormap_builtin("viridis"));
}
END_TEST

START_TEST(test_colormap_matplotlib)
{
    static const char *const names[] = {"bwr", "seismic", "hot", "gray", "afmhot"};
    for (int k = 0; k < 5; k++) {
        char file[64];
        snprintf(file, sizeof file, "cmap_%s.npy", names[k]);
        lrpx_npy *r = ref(file);                   /* 101 x 3 at u = i / 100 */
        ck_assert_int_eq(r->dims[0], 101);
        double worst = 0.0;
        for (int i = 0; i <= 100; i++) {
            double c[3];
            lrpx_colormap_eval(lrpx_colormap_builtin(names[k]), i / 100.0, c);
            for (int ch = 0; ch < 3; ch++)
                worst = fmax(worst, fabs(c[ch] - npy_at(r, i * 3 + ch)));
        }
        printf("colormap %-8s vs matplotlib: max |diff| %.2g\n", names[k], worst);
        /* matplotlib's lookup table (65536 entries here) is off by at most
         * slope / 65535 */
        ck_assert_msg(worst < 1e-3, "%s: %g", names[k], worst);
        lrpx_npy_free(r);
    }
}
END_TEST

static double
clip(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

START_TEST(test_colormap_lrp_toolbox)
{
    /* gray-red and black-firered as the LRP toolbox's render.py defines
     * them, of x in [-1, 1]; coldnhot as Zennit's node list with the
     * centre at 0.5 */
    const lrpx_colormap *gr = lrpx_colormap_builtin("gray-red");
    const lrpx_colormap *bf = lrpx_colormap_builtin("black-firered");
    const lrpx_colormap *ch = lrpx_colormap_builtin("coldnhot");
    for (int i = 0; i <= 400; i++) {
        double x = -1.0 + i / 200.0, u = (x + 1.0) / 2.0, e[3];
        const double base = 0.8;
        if (x < 0) {
            e[0] = base + x * base;
            e[1] = base + x * base;
            e[2] = base - x * (1 - base);
        } else {
            e[0] = base + x * (1 - base);
            e[1] = base - x * base;
            e[2] = base - x * base;
        }
        check_rgb(gr, u, e[0], e[1], e[2], 1e-12);

        double hrp = clip(x - 0.00, 0, 0.25) / 0.25, hgp = clip(x - 0.25, 0, 0.25) / 0.25;
        double hbp = clip(x - 0.50, 0, 0.50) / 0.50, hbn = clip(-x - 0.00, 0, 0.25) / 0.25;
        double hgn = clip(-x - 0.25, 0, 0.25) / 0.25, hrn = clip(-x - 0.50, 0, 0.50) / 0.50;
        check_rgb(bf, u, hrp + hrn, hgp + hgn, hbp + hbn, 1e-12);

        /* coldnhot: cyan -1, blue -1/2, black 0, red 1/3, yellow 2/3, white 1 */
        double t;
        if (x <= -0.5)
            t = (x + 1.0) / 0.5, e[0] = 0, e[1] = 1 - t, e[2] = 1;
        else if (x <= 0)
            t = (x + 0.5) / 0.5, e[0] = 0, e[1] = 0, e[2] = 1 - t;
        else if (x <= 1.0 / 3)
            t = x * 3, e[0] = t, e[1] = 0, e[2] = 0;
        else if (x <= 2.0 / 3)
            t = (x - 1.0 / 3) * 3, e[0] = 1, e[1] = t, e[2] = 0;
        else
            t = (x - 2.0 / 3) * 3, e[0] = 1, e[1] = 1, e[2] = t;
        check_rgb(ch, u, e[0], e[1], e[2], 1e-9);
    }
}
END_TEST

START_TEST(test_colormap_custom)
{
    char           err[256];
    lrpx_colormap *cm;
    const char    *text = "# black to white to red\n"
                          "0   0 0 0\n"
                          "0.5 1 1 1   # centre\n"
                          "\n"
                          "1.0 1 0 0\n";
    ck_assert_int_eq(lrpx_colormap_parse(text, strlen(text), "mine", &cm, err, sizeof err),
                     LRPX_OK);
    ck_assert_str_eq(lrpx_colormap_name(cm), "mine");
    check_rgb(cm, 0.25, 0.5, 0.5, 0.5, 1e-12);
    check_rgb(cm, 0.75, 1.0, 0.5, 0.5, 1e-12);
    lrpx_colormap_free(cm);

    const char *jump = "range 255\n0 0 0 0\n0.5 0 0 0\n0.5 255 255 255\n1 255 255 255\n";
    ck_assert_int_eq(lrpx_colormap_parse(jump, strlen(jump), NULL, &cm, err, sizeof err),
                     LRPX_OK);
    check_rgb(cm, 0.4999, 0, 0, 0, 1e-12);
    check_rgb(cm, 0.5, 1, 1, 1, 1e-12);
    lrpx_colormap_free(cm);

    const char *path = scratch_path("map.txt");
    lrpx_test_write_file(path, text, strlen(text));
    ck_assert_int_eq(lrpx_colormap_load(path, &cm, err, sizeof err), LRPX_OK);
    ck_assert_str_eq(lrpx_colormap_name(cm), "map.txt");
    lrpx_colormap_free(cm);
    ck_assert_int_eq(lrpx_colormap_load(scratch_path("none.txt"), &cm, err, sizeof err),
                     LRPX_EIO);

    struct {
        const char *text, *needle;
    } bad[] = {
        {"0 0 0 0\n0.5 1 1\n1 1 1 1\n", "line 2"},
        {"0 0 0 0\n0.7 1 1 1\n0.6 1 1 1\n1 0 0 0\n", "line 3"},
        {"0 0 0 0\n1 1 2 1\n", "line 2"},
        {"0.1 0 0 0\n1 1 1 1\n", "first at 0"},
        {"0 0 0 0\n", "two stops"},
        {"0 0 0 0 extra\n1 1 1 1\n", "line 1"},
        {"0 0 0 0\nrange 255\n1 1 1 1\n", "line 2"},
        {"0 nan 0 0\n1 1 1 1\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm = (lrpx_colormap *)1;
        lrpx_status rc = lrpx_colormap_parse(bad[i].text, strlen(bad[i].text), "bad.txt", &cm,
                                             err, sizeof err);
        ck_assert_msg(rc == LRPX_EPARSE, "case %zu: %s", i, lrpx_status_name(rc));
        ck_assert_ptr_null(cm);
        ck_assert_msg(strstr(err, bad[i].needle) && strstr(err, "bad.txt"),
                      "case %zu: '%s' lacks '%s'", i, err, bad[i].needle);
    }
}
END_TEST

/* ---- heatmaps ---- */

static lrpx_image *
map_from(const float *v, int w, int h)
{
    lrpx_image *m;
    ck_assert_int_eq(lrpx_image_init(w, h, 1, &m), LRPX_OK);
    memcpy(m->data, v, sizeof(float) * (size_t)w * h);
    return m;
}

static uint8_t
to8(double c)
{
    return (uint8_t)floor(c * 255.0 + 0.5);
}

START_TEST(test_heatmap_reduce)
{
    char err[256];
    /* 1 x 3 x 2 x 2, NCHW */
    float            r[12] = {1, 2, 3, 4, -1, 0, 2, -4, 3, -2, 1, 0};
    lrpx_tensor_view v     = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {1, 3, 2, 2},
                              .n_elems = 12, .data = r};
    lrpx_image      *m;
    ck_assert_int_eq(lrpx_heatmap_reduce(&v, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_OK);
    ck_assert_int_eq(m->width, 2);
    ck_assert_int_eq(m->height, 2);
    ck_assert_int_eq(m->channels, 1);
    float sum[4] = {3, 0, 6, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(m->data[i], sum[i]);
    lrpx_image_free(m);
    ck_assert_int_eq(lrpx_heatmap_reduce(&v, LRPX_LAYOUT_UNSET, LRPX_HEAT_REDUCE_L2, &m, err,
                                         sizeof err), LRPX_OK);
    for (int i = 0; i < 4; i++) {
        double e = sqrt((double)r[i] * r[i] + (double)r[4 + i] * r[4 + i] +
                        (double)r[8 + i] * r[8 + i]);
        ck_assert_float_eq_tol(m->data[i], (float)e, 1e-6f);
    }
    lrpx_image_free(m);
    /* the same numbers read as 1 x 2 x 2 x 3 (NHWC): pixel i = r[3i..3i+2] */
    lrpx_tensor_view vh = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 4, .dims = {1, 2, 2, 3},
                           .n_elems = 12, .data = r};
    ck_assert_int_eq(lrpx_heatmap_reduce(&vh, LRPX_LAYOUT_NHWC, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(m->data[i], r[3 * i] + r[3 * i + 1] + r[3 * i + 2]);
    lrpx_image_free(m);
    /* rank 2 */
    lrpx_tensor_view v2 = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {3, 4},
                           .n_elems = 12, .data = r};
    ck_assert_int_eq(lrpx_heatmap_reduce(&v2, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_OK);
    ck_assert_int_eq(m->width, 4);
    ck_assert_float_eq(m->data[5], r[5]);
    lrpx_image_free(m);
    /* wrong shapes and types */
    lrpx_tensor_view b = v;
    b.dims[0] = 2;
    ck_assert_int_eq(lrpx_heatmap_reduce(&b, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_ESHAPE);
    ck_assert_ptr_nonnull(strstr(err, "2x3x2x2"));
    b = v;
    b.n_elems = 11;
    ck_assert_int_eq(lrpx_heatmap_reduce(&b, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_ESHAPE);
    b = v;
    b.dtype = LRPX_DTYPE_INT32;
    ck_assert_int_eq(lrpx_heatmap_reduce(&b, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_EUNSUPPORTED);
    b = v;
    b.rank = 5;
    ck_assert_int_eq(lrpx_heatmap_reduce(&b, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &m, err,
                                         sizeof err), LRPX_ESHAPE);
}
END_TEST

START_TEST(test_heatmap_render_bwr)
{
    /* bwr from its definition: blue (0,0,1) -> white at 0.5 -> red (1,0,0) */
    float        r[10] = {0.0f, 2.0f, -2.0f, 1.0f, -0.5f, 0.25f, -1.75f, 1.9f, 0.0f, -0.1f};
    lrpx_image  *m     = map_from(r, 5, 2);
    lrpx_pixmap *pm;
    char         err[256];
    ck_assert_int_eq(lrpx_heatmap_render(m, NULL, &pm, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pm->channels, 3);
    for (int i = 0; i < 10; i++) {
        double u = (r[i] / 2.0 + 1.0) / 2.0, e[3];
        if (u < 0.5)
            e[0] = e[1] = 2 * u, e[2] = 1;
        else
            e[0] = 1, e[1] = e[2] = 2 - 2 * u;
        for (int c = 0; c < 3; c++)
            ck_assert_msg(pm->data[i * 3 + c] == to8(e[c]), "pixel %d channel %d: %d vs %d", i,
                          c, pm->data[i * 3 + c], to8(e[c]));
    }
    /* zero is white, +max red, -max blue */
    ck_assert(pm->data[0] == 255 && pm->data[1] == 255 && pm->data[2] == 255);
    ck_assert(pm->data[3] == 255 && pm->data[4] == 0 && pm->data[5] == 0);
    ck_assert(pm->data[6] == 0 && pm->data[7] == 0 && pm->data[8] == 255);
    lrpx_pixmap_free(pm);

    double lo, hi;
    ck_assert_int_eq(lrpx_heatmap_scale(m, NULL, &lo, &hi, err, sizeof err), LRPX_OK);
    ck_assert(lo == -2.0 && hi == 2.0);
    lrpx_image_free(m);

    /* all zero: everything at the centre colour */
    float z[4] = {0, 0, 0, 0};
    m = map_from(z, 2, 2);
    ck_assert_int_eq(lrpx_heatmap_render(m, NULL, &pm, err, sizeof err), LRPX_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(pm->data[i], 255);
    lrpx_pixmap_free(pm);
    lrpx_image_free(m);
}
END_TEST

START_TEST(test_heatmap_percentile_gamma)
{
    char  err[256];
    float r[100];
    for (int i = 0; i < 100; i++)
        r[i] = (float)(i % 2 ? -(i + 1) : (i + 1)) * 0.01f;  /* |r| = 0.01 .. 1.00 */
    r[37] = 50.0f;                                            /* one outlier */
    lrpx_image                 *m = map_from(r, 10, 10);
    struct lrpx_heatmap_options o;
    lrpx_heatmap_options_default(&o);
    o.percentile = 90.0;
    /* the 90th percentile of |r| by linear interpolation, computed here */
    float a[100];
    for (int i = 0; i < 100; i++)
        a[i] = fabsf(r[i]);
    for (int i = 1; i < 100; i++)                             /* insertion sort */
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            float t = a[j];
            a[j]     = a[j - 1];
            a[j - 1] = t;
        }
    double pos = 0.9 * 99, v = a[(int)pos] + (a[(int)pos + 1] - a[(int)pos]) * (pos - (int)pos);
    double lo, hi;
    ck_assert_int_eq(lrpx_heatmap_scale(m, &o, &lo, &hi, err, sizeof err), LRPX_OK);
    ck_assert_double_eq_tol(hi, v, 1e-6);
    ck_assert_double_eq_tol(lo, -v, 1e-6);

    o.gamma = 0.5;
    lrpx_pixmap *pm;
    ck_assert_int_eq(lrpx_heatmap_render(m, &o, &pm, err, sizeof err), LRPX_OK);
    ck_assert(pm->data[37 * 3] == 255 && pm->data[37 * 3 + 1] == 0);   /* clipped: red */
    for (int i = 0; i < 100; i++) {
        double x = clip(r[i] / v, -1, 1);
        x = x < 0 ? -sqrt(-x) : sqrt(x);
        double u = (x + 1) / 2, e1 = u < 0.5 ? 2 * u : 2 - 2 * u;
        ck_assert_msg(pm->data[i * 3 + 1] == to8(e1), "pixel %d: %d vs %d", i,
                      pm->data[i * 3 + 1], to8(e1));
    }
    lrpx_pixmap_free(pm);

    /* MINMAX with gray: min -> black, max -> white */
    lrpx_heatmap_options_default(&o);
    o.norm = LRPX_HEAT_NORM_MINMAX;
    o.cmap = lrpx_colormap_builtin("gray");
    ck_assert_int_eq(lrpx_heatmap_render(m, &o, &pm, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pm->data[37 * 3], 255);
    ck_assert_int_eq(pm->data[99 * 3], 0);                    /* -1.00 is the minimum */
    double mn = -1.0, mx = 50.0;
    ck_assert_int_eq(pm->data[0], to8((r[0] - mn) / (mx - mn)));
    lrpx_pixmap_free(pm);

    /* bad options */
    lrpx_heatmap_options_default(&o);
    o.percentile = 0.0;
    ck_assert_int_eq(lrpx_heatmap_render(m, &o, &pm, err, sizeof err), LRPX_EINVAL);
    o.percentile = 100.0;
    o.gamma      = -1.0;
    ck_assert_int_eq(lrpx_heatmap_render(m, &o, &pm, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(pm);
    lrpx_image_free(m);

    /* non-finite values: NaN at the centre, ignored for the scale */
    float nf[4] = {NAN, INFINITY, 1.0f, -0.5f};
    m = map_from(nf, 4, 1);
    ck_assert_int_eq(lrpx_heatmap_scale(m, NULL, &lo, &hi, err, sizeof err), LRPX_OK);
    ck_assert(hi == 1.0);
    ck_assert_int_eq(lrpx_heatmap_render(m, NULL, &pm, err, sizeof err), LRPX_OK);
    ck_assert(pm->data[0] == 255 && pm->data[1] == 255 && pm->data[2] == 255);
    ck_assert(pm->data[3] == 255 && pm->data[4] == 0);
    lrpx_pixmap_free(pm);
    lrpx_image_free(m);
}
END_TEST

START_TEST(test_overlay_and_grid)
{
    char         err[256];
    lrpx_pixmap *base, *heat, *out;
    ck_assert_int_eq(lrpx_pixmap_init(3, 2, 1, &base), LRPX_OK);
    ck_assert_int_eq(lrpx_pixmap_init(3, 2, 3, &heat), LRPX_OK);
    for (int i = 0; i < 6; i++) {
        base->data[i]         = (uint8_t)(40 * i);
        heat->data[3 * i]     = 250;
        heat->data[3 * i + 1] = 0;
        heat->data[3 * i + 2] = (uint8_t)(17 * i);
    }
    ck_assert_int_eq(lrpx_pixmap_overlay(base, heat, 0.25, &out, err, sizeof err), LRPX_OK);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++) {
            double e = 0.75 * base->data[i] + 0.25 * heat->data[3 * i + c];
            ck_assert_int_eq(out->data[3 * i + c], (int)floor(e + 0.5));
        }
    lrpx_pixmap_free(out);
    ck_assert_int_eq(lrpx_pixmap_overlay(base, heat, 1.5, &out, err, sizeof err), LRPX_EINVAL);

    /* grid: 3 cells in 2 columns, gap 4, labels at scale 1 */
    lrpx_pixmap *big;
    ck_assert_int_eq(lrpx_pixmap_init(10, 6, 3, &big), LRPX_OK);
    memset(big->data, 7, 10 * 6 * 3);
    const lrpx_pixmap       *cells[3]  = {base, heat, big};
    const char *const        labels[3] = {"in", NULL, "R"};
    struct lrpx_grid_options go;
    lrpx_grid_options_default(&go);
    go.n_cols      = 2;
    go.label_scale = 1;
    ck_assert_int_eq(lrpx_pixmap_grid(cells, labels, 3, &go, &out, err, sizeof err), LRPX_OK);
    /* boxes 10x6, label band 8 + 4: width 2*10 + 3*4, height 2*(6+12) + 3*4 */
    ck_assert_int_eq(out->width, 32);
    ck_assert_int_eq(out->height, 48);
    /* cell 0 (3x2, gray) centred in box (4,4)-(14,10): top-left (7,6) */
    ck_assert_int_eq(out->data[(6 * 32 + 7) * 3 + 0], base->data[0]);
    ck_assert_int_eq(out->data[(7 * 32 + 9) * 3 + 2], base->data[5]);
    ck_assert_int_eq(out->data[(5 * 32 + 7) * 3], 255);          /* background */
    /* cell 2 fills its box at (4, 26) */
    ck_assert_int_eq(out->data[(26 * 32 + 4) * 3], 7);
    /* label "R" (5 px wide) centred under box 2: x 4 + (10 - 5) / 2 = 6,
     * y 26 + 6 + 4 = 36; R's top row is 0x1E: columns 0..3 set */
    ck_assert_int_eq(out->data[(36 * 32 + 6) * 3], 0);
    ck_assert_int_eq(out->data[(36 * 32 + 10) * 3], 255);
    lrpx_pixmap_free(out);

    ck_assert_int_eq(lrpx_pixmap_panel(base, heat, &out, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(out->width, 3 * 4 + 2 * 3);
    ck_assert_int_eq(out->height, 2 + 2 * 4);
    lrpx_pixmap_free(out);
    ck_assert_int_eq(lrpx_pixmap_grid(cells, NULL, 0, NULL, &out, err, sizeof err), LRPX_EINVAL);

    lrpx_pixmap_free(big);
    lrpx_pixmap_free(base);
    lrpx_pixmap_free(heat);
}
END_TEST

START_TEST(test_text)
{
    /* the glyphs as drawn by hand: '#' marks a set pixel */
    static const char *const glyph_I[7] = {".###.", "..#..", "..#..", "..#..", "..#..", "..#..",
                                           ".###."};
    static const char *const glyph_4[7] = {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.",
                                           "...#."};
    lrpx_pixmap  *pm;
    const uint8_t ink[3] = {0, 0, 0};
    ck_assert_int_eq(lrpx_pixmap_init(12, 8, 3, &pm), LRPX_OK);
    memset(pm->data, 255, 12 * 8 * 3);
    ck_assert_int_eq(lrpx_pixmap_draw_text(pm, 0, 0, "I4", 1, ink), 11);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 12; x++) {
            bool set = false;
            if (y < 7 && x < 5)
                set = glyph_I[y][x] == '#';
            if (y < 7 && x >= 6 && x < 11)
                set = glyph_4[y][x - 6] == '#';
            ck_assert_msg((pm->data[(y * 12 + x) * 3] == 0) == set, "(%d,%d)", x, y);
        }
    /* clipped at the edges, no crash; scale 2 doubles */
    ck_assert_int_eq(lrpx_pixmap_draw_text(pm, -7, 5, "A\nB\x01", 2, ink), 2 * 11);
    lrpx_pixmap_free(pm);
}
END_TEST

/* ---- output ---- */

START_TEST(test_png_round_trip)
{
    char err[512];
    for (int ch = 1; ch <= 3; ch += 2) {
        lrpx_pixmap *pm;
        ck_assert_int_eq(lrpx_pixmap_init(37, 23, ch, &pm), LRPX_OK);
        for (int i = 0; i < 37 * 23 * ch; i++)
            pm->data[i] = (uint8_t)((i * 131 + 7) % 256);
        const char *path = scratch_path(ch == 1 ? "g.png" : "c.PNG");
        char        keep[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(keep, sizeof keep, "%s", path);
        ck_assert_msg(lrpx_pixmap_save(pm, keep, 0, err, sizeof err) == LRPX_OK, "%s", err);
        lrpx_image *img = load_ok(keep);
        ck_assert_int_eq(img->width, 37);
        ck_assert_int_eq(img->height, 23);
        ck_assert_int_eq(img->channels, ch);
        for (int i = 0; i < 37 * 23 * ch; i++)
            ck_assert_msg(img->data[i] == pm->data[i], "sample %d", i);
        lrpx_image_free(img);
        assert_no_temporaries();
        lrpx_pixmap_free(pm);
    }
}
END_TEST

START_TEST(test_jpeg_write)
{
    char        err[512];
    lrpx_image *src = load_ok(photo("astronaut_rgb.png"));
    lrpx_pixmap *pm;
    ck_assert_int_eq(lrpx_pixmap_from_image(src, &pm, err, sizeof err), LRPX_OK);
    char path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s", scratch_path("face.JPG"));
    ck_assert_msg(lrpx_pixmap_save(pm, path, 95, err, sizeof err) == LRPX_OK, "%s", err);
    lrpx_image *back = load_ok(path);
    ck_assert_str_eq(back->format, "jpeg");
    double mae = 0.0;
    for (int i = 0; i < 128 * 128 * 3; i++)
        mae += fabs(back->data[i] - src->data[i]);
    mae /= 128 * 128 * 3;
    printf("jpeg q95 round trip: mean |diff| %.3f grey levels\n", mae);
    ck_assert(mae < 3.0);
    lrpx_image_free(back);
    ck_assert_int_eq(lrpx_pixmap_save_jpeg(pm, path, 101, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_pixmap_save(pm, scratch_path("x.bmp"), 0, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "x.bmp"));
    lrpx_pixmap_free(pm);
    lrpx_image_free(src);
}
END_TEST

START_TEST(test_atomic_write)
{
    char         err[512];
    lrpx_pixmap *pm;
    ck_assert_int_eq(lrpx_pixmap_init(4, 4, 3, &pm), LRPX_OK);
    /* the folder does not exist */
    ck_assert_int_eq(lrpx_pixmap_save_png(pm, scratch_path("no/such/dir/a.png"), err,
                                          sizeof err), LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, "a.png"));

    /* an existing file survives a failed write: here an allocation fails,
     * at each place in turn (the temporary's name, libpng's buffers) */
    char path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s", scratch_path("keep.png"));
    lrpx_test_write_file(path, "old", 3);
    lrpx_status rc = LRPX_ENOMEM;
    int         k;
    for (k = 1; k < 1000 && rc != LRPX_OK; k++) {
        lrpx__alloc_fail_after(k);
        rc = lrpx_pixmap_save_png(pm, path, err, sizeof err);
        lrpx__alloc_fail_after(0);
        if (rc == LRPX_OK)
            break;
        ck_assert_msg(rc == LRPX_ENOMEM || rc == LRPX_EIMAGE, "allocation %d: %s: %s", k,
                      lrpx_status_name(rc), err);
        ck_assert_msg(strstr(err, "keep.png"), "allocation %d: %s", k, err);
        size_t len;
        char  *old = lrpx_test_read_file(path, &len);
        ck_assert_msg(len == 3 && memcmp(old, "old", 3) == 0, "allocation %d", k);
        free(old);
        assert_no_temporaries();
    }
    ck_assert_msg(rc == LRPX_OK && k > 1, "allocation %d: %s", k, err);

    /* the rename fails (the target is a non-empty folder): the temporary is
     * removed again */
    char dir[LRPX_TEST_PATH_MAX], inner[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(dir, sizeof dir, "%s", scratch_path("out.png"));
    lrpx_test_snprintf(inner, sizeof inner, "%s/x", dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    lrpx_test_write_file(inner, "x", 1);
    ck_assert_int_eq(lrpx_pixmap_save_png(pm, dir, err, sizeof err), LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, "rename"));
    assert_no_temporaries();

    /* success replaces the old file */
    ck_assert_int_eq(lrpx_pixmap_save_png(pm, path, err, sizeof err), LRPX_OK);
    lrpx_image *img = load_ok(path);
    ck_assert_int_eq(img->width, 4);
    lrpx_image_free(img);
    lrpx_pixmap_free(pm);
}
END_TEST

START_TEST(test_pixmap_from_image)
{
    char        err[256];
    lrpx_image *img;
    ck_assert_int_eq(lrpx_image_init(3, 1, 4, &img), LRPX_OK);
    float v[12] = {-3.0f, 0.49f, 0.5f, 200.0f, 254.6f, 300.0f, NAN, 9.0f, 1.5f, 2.5f, 3.5f, 4.0f};
    memcpy(img->data, v, sizeof v);
    lrpx_pixmap *pm;
    ck_assert_int_eq(lrpx_pixmap_from_image(img, &pm, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(pm->channels, 3);
    /* alpha (200, 9, 4) dropped; halves round up; NaN -> 0 */
    const uint8_t want[9] = {0, 0, 1, 255, 255, 0, 2, 3, 4};
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(pm->data[i], want[i]);
    lrpx_pixmap_free(pm);
    lrpx_image_free(img);
    ck_assert_int_eq(lrpx_image_init(0, 3, 1, &img), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_image_init(3, 3, 5, &img), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_image_init(70000, 70000, 1, &img), LRPX_ELIMIT);
}
END_TEST

static Suite *
image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc;

    tc = tcase_create("decode");
    tcase_add_loop_test(tc, test_decode_matches_pil, 0, N_DECODE);
    tcase_add_test(tc, test_orientation_info);
    tcase_add_test(tc, test_exif_parser);
    suite_add_tcase(s, tc);

    tc = tcase_create("resize");
    tcase_add_loop_test(tc, test_resize_matches_pil, 0, N_RESIZE);
    tcase_add_test(tc, test_crop_geometry);
    suite_add_tcase(s, tc);

    tc = tcase_create("preprocess");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_preprocess_imagenet);
    tcase_add_test(tc, test_preprocess_presets);
    tcase_add_test(tc, test_preprocess_from_shape);
    tcase_add_test(tc, test_preprocess_json);
    tcase_add_test(tc, test_alpha_white);
    tcase_add_test(tc, test_unproject);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_not_images);
    tcase_add_loop_test(tc, test_truncated, 0, N_CODEC);
    tcase_add_loop_test(tc, test_corrupted, 0, N_CODEC);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_oom);
    suite_add_tcase(s, tc);

    tc = tcase_create("colormap");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_colormap_ends_and_centre);
    tcase_add_test(tc, test_colormap_matplotlib);
    tcase_add_test(tc, test_colormap_lrp_toolbox);
    tcase_add_test(tc, test_colormap_custom);
    suite_add_tcase(s, tc);

    tc = tcase_create("heatmap");
    tcase_add_test(tc, test_heatmap_reduce);
    tcase_add_test(tc, test_heatmap_render_bwr);
    tcase_add_test(tc, test_heatmap_percentile_gamma);
    tcase_add_test(tc, test_overlay_and_grid);
    tcase_add_test(tc, test_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("output");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_png_round_trip);
    tcase_add_test(tc, test_jpeg_write);
    tcase_add_test(tc, test_atomic_write);
    tcase_add_test(tc, test_pixmap_from_image);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(image_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
