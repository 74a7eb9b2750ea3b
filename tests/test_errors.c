/* Suite "errors": the error convention of the public API (docs/errors.md).
 *
 *   errbuf   every function that takes (char *errbuf, size_t errlen) writes
 *            "" on success and a message on failure, NUL-terminated and
 *            truncated to errlen bytes, never past them; NULL/0 is allowed;
 *   handles  every session getter that fails leaves its reason in
 *            lrpx_session_errmsg.
 *
 * The table below calls each errbuf function once in a way that must
 * succeed and once in a way that must fail; the reference for "failed" is
 * the status the header documents for that misuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"

/* A 6x4 RGB image / pixmap with some values in it. */
static lrpx_image *
small_image(void)
{
    lrpx_image *img;
    ck_assert_int_eq(lrpx_image_init(6, 4, 3, &img), LRPX_OK);
    for (int i = 0; i < 6 * 4 * 3; i++)
        img->data[i] = (float)((i * 37) % 256);
    return img;
}

static lrpx_pixmap *
small_pixmap(void)
{
    lrpx_pixmap *pm;
    ck_assert_int_eq(lrpx_pixmap_init(6, 4, 3, &pm), LRPX_OK);
    return pm;
}

/* ---- one call per function: ok != 0 must succeed, ok == 0 must fail ---- */

#define E char *eb, size_t el

static lrpx_status
c_set_composite(int ok, E)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    return lrpx_lrp_options_set_composite(&o, ok ? "lrp0" : "nope", eb, el);
}

static lrpx_status
c_parse_rule(int ok, E)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    return lrpx_lrp_options_parse_rule(&o, ok ? "*=zplus" : "Conv", eb, el);
}

static lrpx_status
c_rules_load(int ok, E)
{
    lrpx_test_write_file(lrpx_test_scratch("r.json"), "{}", 2);
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    return lrpx_lrp_options_load_json(&o, lrpx_test_scratch(ok ? "r.json" : "none.json"), eb, el);
}

static lrpx_status
c_rules_parse(int ok, E)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    return lrpx_lrp_options_parse_json(&o, ok ? "{}" : "[", ok ? 2 : 1, "r", eb, el);
}

static lrpx_status
c_box_bounds(int ok, E)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    float low[3], high[3];
    int   n;
    return lrpx_preprocess_box_bounds(ok ? &pp : NULL, low, high, &n, eb, el);
}

static lrpx_status
c_npy_write(int ok, E)
{
    const float x[2] = { 1, 2 };
    return lrpx_npy_write(lrpx_test_scratch("a.npy"), ok ? LRPX_DTYPE_FLOAT32 : LRPX_DTYPE_FLOAT16,
                          1, (int64_t[]){ 2 }, x, eb, el);
}

static lrpx_status
c_npy_write_ex(int ok, E)
{
    const float x[2] = { 1, 2 };
    return lrpx_npy_write_ex(lrpx_test_scratch(ok ? "a.npy" : "missing-folder/a.npy"),
                             LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 2 }, x, LRPX_WRITE_NO_SYNC, eb,
                             el);
}

static lrpx_status
c_spray(int ok, E)
{
    /* two tight pairs of points and one between them; fewer than 3 fails */
    const float        maps[5 * 2] = { 0, 0, 0.1f, 0, 5, 5, 5.1f, 5, 2.5f, 2.5f };
    lrpx_spray_result *r           = NULL;
    struct lrpx_spray_options o;
    lrpx_spray_options_default(&o);
    o.n_neighbors = 2;
    lrpx_status st = lrpx_spray(maps, ok ? 5 : 2, 2, &o, &r, eb, el);
    lrpx_spray_result_free(r);
    return st;
}

static lrpx_status
c_npy_read(int ok, E)
{
    const float x[2] = { 1, 2 };
    ck_assert_int_eq(lrpx_npy_write(lrpx_test_scratch("a.npy"), LRPX_DTYPE_FLOAT32, 1,
                                    (int64_t[]){ 2 }, x, NULL, 0), LRPX_OK);
    lrpx_npy   *a;
    lrpx_status rc = lrpx_npy_read(lrpx_test_scratch(ok ? "a.npy" : "b.npy"), &a, eb, el);
    lrpx_npy_free(a);
    return rc;
}

static lrpx_status
c_image_load(int ok, E)
{
    lrpx_image *img;
    lrpx_status rc = lrpx_image_load(ok ? lrpx_test_path("images/photos/astronaut.jpg")
                                        : lrpx_test_scratch("none.jpg"), NULL, &img, eb, el);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
c_image_load_buffer(int ok, E)
{
    size_t      len;
    uint8_t    *buf = lrpx_test_read_file(lrpx_test_path("images/photos/astronaut.jpg"), &len);
    lrpx_image *img;
    lrpx_status rc = lrpx_image_load_buffer(buf, ok ? len : 8, "mem", NULL, &img, eb, el);
    lrpx_image_free(img);
    free(buf);
    return rc;
}

static lrpx_status
c_preset(int ok, E)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    return lrpx_preprocess_preset(&pp, ok ? "imagenet" : "nope", eb, el);
}

static lrpx_status
c_from_shape(int ok, E)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    return lrpx_preprocess_from_shape(&pp, ok ? 4 : 2, (int64_t[]){ 1, 3, 8, 8 }, eb, el);
}

static lrpx_status
c_pp_load(int ok, E)
{
    lrpx_test_write_file(lrpx_test_scratch("p.json"), "{}", 2);
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    return lrpx_preprocess_load_json(&pp, lrpx_test_scratch(ok ? "p.json" : "none.json"), eb, el);
}

static lrpx_status
c_pp_parse(int ok, E)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    return lrpx_preprocess_parse_json(&pp, ok ? "{}" : "[", ok ? 2 : 1, eb, el);
}

static lrpx_status
c_image_preprocess(int ok, E)
{
    lrpx_image            *img = small_image();
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    lrpx_image_tensor *t;
    lrpx_status        rc = lrpx_image_preprocess(ok ? img : NULL, &pp, &t, eb, el);
    lrpx_image_tensor_free(t);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
c_image_prepare(int ok, E)
{
    lrpx_image            *img = small_image();
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    lrpx_image *out;
    lrpx_status rc = lrpx_image_prepare(ok ? img : NULL, &pp, &out, NULL, eb, el);
    lrpx_image_free(out);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
c_image_resize(int ok, E)
{
    lrpx_image *img = small_image(), *out;
    lrpx_status rc  = lrpx_image_resize(img, ok ? 3 : 0, 2, LRPX_INTERP_BILINEAR, 1, &out, eb, el);
    lrpx_image_free(out);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
c_unproject(int ok, E)
{
    lrpx_image         *map = small_image(), *out;
    lrpx_image_geometry g   = { 12, 8, 6, 4, 0, 0, ok ? 6 : 5, 4 };
    lrpx_status         rc  = lrpx_image_unproject(map, &g, &out, eb, el);
    lrpx_image_free(out);
    lrpx_image_free(map);
    return rc;
}

static lrpx_status
c_pixmap_from_image(int ok, E)
{
    lrpx_image  *img = small_image();
    lrpx_pixmap *pm;
    lrpx_status  rc = lrpx_pixmap_from_image(ok ? img : NULL, &pm, eb, el);
    lrpx_pixmap_free(pm);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
c_save_png(int ok, E)
{
    lrpx_pixmap *pm = small_pixmap();
    lrpx_status  rc = lrpx_pixmap_save_png(pm, lrpx_test_scratch(ok ? "a.png" : "no/a.png"), eb, el);
    lrpx_pixmap_free(pm);
    return rc;
}

static lrpx_status
c_save_jpeg(int ok, E)
{
    lrpx_pixmap *pm = small_pixmap();
    lrpx_status  rc = lrpx_pixmap_save_jpeg(pm, lrpx_test_scratch("a.jpg"), ok ? 90 : 101, eb, el);
    lrpx_pixmap_free(pm);
    return rc;
}

static lrpx_status
c_save(int ok, E)
{
    lrpx_pixmap *pm = small_pixmap();
    lrpx_status  rc = lrpx_pixmap_save(pm, lrpx_test_scratch(ok ? "a.png" : "a.bmp"), 0, eb, el);
    lrpx_pixmap_free(pm);
    return rc;
}

static lrpx_status
c_colormap_load(int ok, E)
{
    lrpx_test_write_file(lrpx_test_scratch("c.txt"), "0 0 0 0\n1 1 1 1\n", 16);
    lrpx_colormap *c;
    lrpx_status    rc = lrpx_colormap_load(lrpx_test_scratch(ok ? "c.txt" : "none.txt"), &c, eb, el);
    lrpx_colormap_free(c);
    return rc;
}

static lrpx_status
c_colormap_parse(int ok, E)
{
    const char    *text = ok ? "0 0 0 0\n1 1 1 1\n" : "0.5 0 0 0\n";
    lrpx_colormap *c;
    lrpx_status    rc = lrpx_colormap_parse(text, strlen(text), "c", &c, eb, el);
    lrpx_colormap_free(c);
    return rc;
}

static lrpx_status
c_heatmap_reduce(int ok, E)
{
    const float      r[4] = { 1, -1, 2, 0 };
    lrpx_tensor_view v    = { .dtype = ok ? LRPX_DTYPE_FLOAT32 : LRPX_DTYPE_INT32, .rank = 2,
                              .dims = { 2, 2 }, .n_elems = 4, .data = r };
    lrpx_image      *out;
    lrpx_status rc = lrpx_heatmap_reduce(&v, LRPX_LAYOUT_NCHW, LRPX_HEAT_REDUCE_SUM, &out, eb, el);
    lrpx_image_free(out);
    return rc;
}

/* A one-channel map for render/scale; ok == 0 gives three channels. */
static lrpx_image *
heat_map(int ok)
{
    lrpx_image *m;
    ck_assert_int_eq(lrpx_image_init(4, 2, ok ? 1 : 3, &m), LRPX_OK);
    m->data[0] = 1.0f;
    return m;
}

static lrpx_status
c_heatmap_render(int ok, E)
{
    lrpx_image  *map = heat_map(ok);
    lrpx_pixmap *pm;
    lrpx_status  rc = lrpx_heatmap_render(map, NULL, &pm, eb, el);
    lrpx_pixmap_free(pm);
    lrpx_image_free(map);
    return rc;
}

static lrpx_status
c_heatmap_scale(int ok, E)
{
    lrpx_image *map = heat_map(ok);
    double      lo, hi;
    lrpx_status rc = lrpx_heatmap_scale(map, NULL, &lo, &hi, eb, el);
    lrpx_image_free(map);
    return rc;
}

static lrpx_status
c_overlay(int ok, E)
{
    lrpx_pixmap *a = small_pixmap(), *b = small_pixmap(), *out;
    lrpx_status  rc = lrpx_pixmap_overlay(a, b, ok ? 0.5 : 2.0, &out, eb, el);
    lrpx_pixmap_free(out);
    lrpx_pixmap_free(a);
    lrpx_pixmap_free(b);
    return rc;
}

static lrpx_status
c_grid(int ok, E)
{
    lrpx_pixmap       *a        = small_pixmap(), *out;
    const lrpx_pixmap *cells[1] = { a };
    lrpx_status        rc       = lrpx_pixmap_grid(cells, NULL, ok ? 1 : 0, NULL, &out, eb, el);
    lrpx_pixmap_free(out);
    lrpx_pixmap_free(a);
    return rc;
}

static lrpx_status
c_panel(int ok, E)
{
    lrpx_pixmap *a = small_pixmap(), *out;
    lrpx_status  rc = lrpx_pixmap_panel(a, ok ? a : NULL, &out, eb, el);
    lrpx_pixmap_free(out);
    lrpx_pixmap_free(a);
    return rc;
}

static lrpx_status
c_token_strip(int ok, E)
{
    const float       rel[2] = {0.5f, -1.0f};
    const char *const tok[2] = {"good", "bad"};
    lrpx_pixmap      *out    = NULL;
    lrpx_status       rc     = lrpx_token_strip_render(rel, tok, ok ? 2 : 0, NULL, 0, 0, &out,
                                                       eb, el);
    lrpx_pixmap_free(out);
    return rc;
}

static lrpx_status
c_token_html(int ok, E)
{
    const float       rel[2] = {0.5f, -1.0f};
    const char *const tok[2] = {"good", "bad"};
    return lrpx_token_strip_save_html(rel, tok, 2, 1, NULL,
                                      lrpx_test_scratch(ok ? "t.html" : "no/such/t.html"), eb, el);
}

static lrpx_status
c_check_parse(int ok, E)
{
    static const char spec[] = "{\"checks\": [{\"kind\": \"loads\"}]}";
    lrpx_check       *c;
    lrpx_status       st = lrpx_check_parse(spec, ok ? strlen(spec) : 5, "spec", NULL, &c, eb, el);
    lrpx_check_free(c);
    return st;
}

static lrpx_status
c_check_load(int ok, E)
{
    static const char spec[] = "{\"checks\": [{\"kind\": \"loads\"}]}";
    lrpx_test_write_file(lrpx_test_scratch("c.json"), spec, strlen(spec));
    lrpx_check *c;
    lrpx_status st = lrpx_check_load(lrpx_test_scratch(ok ? "c.json" : "none.json"), &c, eb, el);
    lrpx_check_free(c);
    return st;
}

static lrpx_status
c_check_write(int ok, E)
{
    static const char spec[] = "{\"checks\": [{\"kind\": \"loads\"}]}";
    lrpx_check       *c;
    ck_assert_int_eq(lrpx_check_parse(spec, strlen(spec), "spec", NULL, &c, NULL, 0), LRPX_OK);
    ck_assert_int_eq(lrpx_check_run(c, lrpx_test_path("models/fmnist_cnn.onnx")), LRPX_OK);
    lrpx_status st = lrpx_check_write(c, LRPX_CHECK_FORMAT_JUNIT,
                                      lrpx_test_scratch(ok ? "r.xml" : "no/such/r.xml"), eb, el);
    lrpx_check_free(c);
    return st;
}

static lrpx_status
c_metric_parse(int ok, E)
{
    lrpx_metric *m;
    lrpx_status  rc = lrpx_metric_parse(ok ? "region-perturbation:patch-size=4" : "pixel-flip", &m,
                                        eb, el);
    lrpx_metric_free(m);
    return rc;
}

static lrpx_status
c_file_write(int ok, E)
{
    return lrpx_file_write(lrpx_test_scratch(ok ? "report.md" : "missing-folder/report.md"),
                           "# r\n", 4, eb, el);
}

static lrpx_status
c_density_fit(int ok, E)
{
    float            x[8] = {0, 1, 2, 4, 1, 3, 5, 0};
    lrpx_tensor_view v    = {.dtype = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {ok ? 4 : 1, 2},
                             .n_elems = ok ? 8 : 2, .data = x};
    lrpx_density    *d;
    lrpx_status      rc = lrpx_density_fit(&v, NULL, &d, eb, el);
    lrpx_density_free(d);
    return rc;
}

#undef E

static const struct {
    const char *name;
    lrpx_status (*call)(int ok, char *errbuf, size_t errlen);
} calls[] = {
    { "lrpx_lrp_options_set_composite", c_set_composite     },
    { "lrpx_lrp_options_parse_rule",    c_parse_rule        },
    { "lrpx_lrp_options_load_json",     c_rules_load        },
    { "lrpx_lrp_options_parse_json",    c_rules_parse       },
    { "lrpx_preprocess_box_bounds",     c_box_bounds        },
    { "lrpx_npy_write",                 c_npy_write         },
    { "lrpx_npy_write_ex",              c_npy_write_ex      },
    { "lrpx_spray",                     c_spray             },
    { "lrpx_npy_read",                  c_npy_read          },
    { "lrpx_image_load",                c_image_load        },
    { "lrpx_image_load_buffer",         c_image_load_buffer },
    { "lrpx_preprocess_preset",         c_preset            },
    { "lrpx_preprocess_from_shape",     c_from_shape        },
    { "lrpx_preprocess_load_json",      c_pp_load           },
    { "lrpx_preprocess_parse_json",     c_pp_parse          },
    { "lrpx_image_preprocess",          c_image_preprocess  },
    { "lrpx_image_prepare",             c_image_prepare     },
    { "lrpx_image_resize",              c_image_resize      },
    { "lrpx_image_unproject",           c_unproject         },
    { "lrpx_pixmap_from_image",         c_pixmap_from_image },
    { "lrpx_pixmap_save_png",           c_save_png          },
    { "lrpx_pixmap_save_jpeg",          c_save_jpeg         },
    { "lrpx_pixmap_save",               c_save              },
    { "lrpx_colormap_load",             c_colormap_load     },
    { "lrpx_colormap_parse",            c_colormap_parse    },
    { "lrpx_heatmap_reduce",            c_heatmap_reduce    },
    { "lrpx_heatmap_render",            c_heatmap_render    },
    { "lrpx_heatmap_scale",             c_heatmap_scale     },
    { "lrpx_pixmap_overlay",            c_overlay           },
    { "lrpx_pixmap_grid",               c_grid              },
    { "lrpx_pixmap_panel",              c_panel             },
    { "lrpx_token_strip_render",        c_token_strip       },
    { "lrpx_token_strip_save_html",     c_token_html        },
    { "lrpx_check_load",                c_check_load        },
    { "lrpx_check_parse",               c_check_parse       },
    { "lrpx_check_write",               c_check_write       },
    { "lrpx_metric_parse",              c_metric_parse      },
    { "lrpx_file_write",                c_file_write        },
    { "lrpx_density_fit",               c_density_fit       },
};
#define N_CALLS ((int)(sizeof calls / sizeof calls[0]))

/* Every declaration in include/lrpx.h that takes an errbuf is in the table
 * (counted from the header text, independently of the table). */
START_TEST(test_table_is_complete)
{
    size_t len;
    char  *h = lrpx_test_read_file(lrpx_test_path("../include/lrpx.h"), &len);
    int    n = 0;
    for (const char *p = h; (p = strstr(p, "char *errbuf")) != NULL; p++)
        n++;
    free(h);
    ck_assert_msg(n == N_CALLS, "include/lrpx.h has %d functions with errbuf, the table %d", n,
                  N_CALLS);
}
END_TEST

START_TEST(test_errbuf_convention)
{
    const char *name = calls[_i].name;
    char        buf[512];

    /* success: "" */
    memset(buf, 'z', sizeof buf);
    buf[sizeof buf - 1] = '\0';
    lrpx_status rc      = calls[_i].call(1, buf, sizeof buf);
    ck_assert_msg(rc == LRPX_OK, "%s: %s: %s", name, lrpx_status_name(rc), buf);
    ck_assert_msg(buf[0] == '\0', "%s succeeded but left '%.40s' in errbuf", name, buf);

    /* failure: a message */
    memset(buf, 'z', sizeof buf);
    buf[sizeof buf - 1] = '\0';
    lrpx_status fail    = calls[_i].call(0, buf, sizeof buf);
    ck_assert_msg(fail != LRPX_OK, "%s: the failing call succeeded", name);
    size_t n = strlen(buf);
    ck_assert_msg(n > 0 && n < sizeof buf - 1 && buf[0] != 'z', "%s failed (%s) without a message",
                  name, lrpx_status_name(fail));

    /* truncated to errlen, nothing written past it */
    char tiny[16];
    memset(tiny, 'z', sizeof tiny);
    ck_assert_int_eq(calls[_i].call(0, tiny, 6), fail);
    ck_assert_msg(strlen(tiny) == 5 && memcmp(tiny, buf, 5) == 0, "%s: truncation", name);
    for (size_t k = 6; k < sizeof tiny; k++)
        ck_assert_msg(tiny[k] == 'z', "%s wrote past errlen", name);

    /* no buffer at all */
    ck_assert_int_eq(calls[_i].call(0, NULL, 0), fail);
    ck_assert_int_eq(calls[_i].call(0, tiny, 0), fail);
}
END_TEST

/* ---- session getters ---- */

/* x[1,4] -> Relu -> y: a session that can run, explain and take gradients. */
static void
relu_session(lrpx_test_model **tm, lrpx_model **model, lrpx_session **s)
{
    *tm = lrpx_test_model_new(13);
    lrpx_test_model_input(*tm, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    lrpx_test_model_node(*tm, "Relu", "r1", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(*tm, "y");
    ck_assert_int_eq(lrpx_test_model_load(*tm, model), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(*model, s), LRPX_OK);
}

/* status want, and the session's message now holds every needle */
#define expect_getter_error(s, rc, want, ...)                                               \
    do {                                                                                  \
        const char *needles_[] = { __VA_ARGS__, NULL };                                   \
        ck_assert_msg((rc) == (want), "%s, expected %s", lrpx_status_name(rc),            \
                      lrpx_status_name(want));                                            \
        for (int k_ = 0; needles_[k_]; k_++)                                              \
            ck_assert_msg(strstr(lrpx_session_errmsg(s), needles_[k_]),                   \
                          "message lacks '%s': '%s'", needles_[k_], lrpx_session_errmsg(s)); \
    } while (0)

START_TEST(test_session_getters)
{
    lrpx_test_model    *tm;
    lrpx_model         *model;
    lrpx_session       *s;
    lrpx_tensor_view    v;
    lrpx_node_relevance nr;
    int64_t             cls;
    double              val;
    relu_session(&tm, &model, &s);

    /* before any pass */
    expect_getter_error(s, lrpx_session_output(s, 0, &v), LRPX_EINVAL, "lrpx_session_run");
    expect_getter_error(s, lrpx_session_value(s, "y", &v), LRPX_EINVAL, "lrpx_session_run");
    expect_getter_error(s, lrpx_session_relevance(s, NULL, &v), LRPX_EINVAL,
                        "lrpx_session_explain");
    expect_getter_error(s, lrpx_session_gradient_of(s, NULL, &v), LRPX_EINVAL,
                        "lrpx_session_gradient");
    expect_getter_error(s, lrpx_session_explained_node(s, 0, &nr), LRPX_EINVAL,
                        "lrpx_session_explain");
    expect_getter_error(s, lrpx_session_explained_output(s, 0, &cls, &val), LRPX_EINVAL,
                        "lrpx_session_explain");

    const float x[4] = { 1, -2, 3, -4 };
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 }, x),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
    expect_getter_error(s, lrpx_session_output(s, 1, &v), LRPX_EINVAL, "output 1", "0..0");
    expect_getter_error(s, lrpx_session_output(s, -1, &v), LRPX_EINVAL, "output -1");
    expect_getter_error(s, lrpx_session_value(s, "nope", &v), LRPX_EINVAL, "'nope'");
    ck_assert_int_eq(lrpx_session_value(s, "y", &v), LRPX_OK);

    ck_assert_int_eq(lrpx_session_explain(s, NULL), LRPX_OK);
    expect_getter_error(s, lrpx_session_relevance(s, "nope", &v), LRPX_EINVAL, "'nope'");
    expect_getter_error(s, lrpx_session_gradient_of(s, "x", &v), LRPX_EINVAL,
                        "lrpx_session_gradient");
    ck_assert_int_eq(lrpx_session_relevance(s, "x", &v), LRPX_OK);
    int n = lrpx_session_n_explained(s);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(lrpx_session_explained_node(s, 0, &nr), LRPX_OK);
    expect_getter_error(s, lrpx_session_explained_node(s, n, &nr), LRPX_EINVAL, "node 1",
                        "0..0");
    expect_getter_error(s, lrpx_session_explained_node(s, 0, NULL), LRPX_EINVAL, "NULL");
    ck_assert_int_eq(lrpx_session_explained_output(s, 0, &cls, &val), LRPX_OK);
    expect_getter_error(s, lrpx_session_explained_output(s, 1, &cls, &val), LRPX_EINVAL,
                        "sample 1", "0..0");

    ck_assert_int_eq(lrpx_session_gradient(s, NULL), LRPX_OK);
    expect_getter_error(s, lrpx_session_relevance(s, "x", &v), LRPX_EINVAL,
                        "lrpx_session_explain");
    ck_assert_int_eq(lrpx_session_gradient_of(s, "x", &v), LRPX_OK);

    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(tm);
}
END_TEST

static Suite *
errors_suite(void)
{
    Suite *s  = suite_create("errors");
    TCase *tc = tcase_create("errbuf");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_table_is_complete);
    tcase_add_loop_test(tc, test_errbuf_convention, 0, N_CALLS);
    suite_add_tcase(s, tc);

    tc = tcase_create("getters");
    tcase_add_test(tc, test_session_getters);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(errors_suite());
}
