/* Suite "hostile": malformed and hostile models never crash, hang, read
 * outside the model's folder or take gigabytes; each gives a status and a
 * message naming the file (and the node where there is one).
 *
 * Two kinds of cases:
 *
 *   files   the .onnx files of testdata/hostile, written by
 *           scripts/gen_hostile_models.py:
 *           minimized reproducers of bugs found by fuzzing (libFuzzer with a
 *           structure-aware ModelProto mutator; docs/testing.md, "Fuzzing")
 *           and hand-written attacks on the limits. The table below says at
 *           which stage each must fail and how; every file in the folder
 *           must be in it.
 *   graphs  built here in memory (lrpx_test_model) or as raw protobuf bytes:
 *           100k-node chains, 1000-input nodes, megabyte names, huge
 *           attribute lists, 100k-deep message nesting, external data that
 *           points at /dev/zero, a FIFO, a folder, past the end of a file.
 *
 * Memory claims are checked with the process's peak RSS (getrusage): a
 * case that must not allocate gigabytes must not raise it by more than a
 * few tens of MB.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lrpx_test.h"

/* ---- helpers ---- */

/* Peak resident set size of this process, in MB. */
static double
peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* Linux: KB */
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Assert status `want` and that every needle is in msg. */
#define expect_error(rc, msg, want, ...)                                                  \
    do {                                                                                \
        const char *needles_[] = { __VA_ARGS__, NULL };                                 \
        const char *msg_       = (msg);                                                 \
        ck_assert_msg((rc) == (want), "status %s, expected %s: %s", lrpx_status_name(rc), \
                      lrpx_status_name(want), msg_);                                    \
        ck_assert_msg(strlen(msg_) < LRPX_ERRMSG_SIZE, "message too long");             \
        for (int k_ = 0; needles_[k_]; k_++)                                            \
            ck_assert_msg(strstr(msg_, needles_[k_]) != NULL, "message lacks '%s': %s", \
                          needles_[k_], msg_);                                          \
    } while (0)

/* Set every graph input of a loaded model to zeros of its declared shape
 * (symbolic dims 1). */
static void
feed_zeros(lrpx_model *model, lrpx_session *s)
{
    for (int i = 0; i < lrpx_model_n_inputs(model); i++) {
        lrpx_value_info vi;
        ck_assert_int_eq(lrpx_model_input_info(model, i, &vi), LRPX_OK);
        ck_assert_msg(vi.rank >= 0, "input '%s' has no shape", vi.name);
        int64_t dims[LRPX_MAX_RANK], n = 1;
        for (int k = 0; k < vi.rank; k++) {
            dims[k] = vi.dims[k] < 0 ? 1 : vi.dims[k];
            n *= dims[k];
        }
        ck_assert_msg(n <= 1 << 20, "input '%s' too large for a test", vi.name);
        size_t es  = lrpx_dtype_size(vi.dtype);
        void  *buf = calloc((size_t)(n ? n : 1), es ? es : 4);
        ck_assert_ptr_nonnull(buf);
        lrpx_status rc = lrpx_session_set_input(s, vi.name, vi.dtype, vi.rank, dims, buf);
        free(buf);
        ck_assert_msg(rc == LRPX_OK, "set_input '%s': %s", vi.name, lrpx_session_errmsg(s));
    }
}

/* ---- the files of testdata/hostile ---- */

enum stage {
    AT_LOAD,      /* lrpx_model_load_file fails                         */
    AT_RUN,       /* loads; lrpx_session_run fails                      */
    AT_EXPLAIN,   /* runs; lrpx_session_explain and _gradient both fail */
    WORKS,        /* loads and runs (what is odd in it is ignored); explain
                     and gradient may fail but must return               */
};

struct hostile_file {
    const char *file;
    enum stage  stage;
    lrpx_status status;
    const char *needle;       /* besides the file name: node, value, reason */
                              /* (NULL for WORKS)                           */
};

static const struct hostile_file hostile_files[] = {
    /* found by fuzzing */
    {"omitted_required_input.onnx", AT_LOAD, LRPX_EPARSE, "node 'rs' (#0, ReduceSum): required input 0"},
    {"resize_omitted_x.onnx", AT_LOAD, LRPX_EPARSE, "node 'rz' (#0, Resize): required input 0"},
    {"empty_output_explain.onnx", AT_EXPLAIN, LRPX_EINVAL, "output 'x' is empty"},
    {"reduce_empty_huge_dims.onnx", AT_LOAD, LRPX_ELIMIT, "node 'rs' (#0, ReduceSum)"},
    {"reduce_empty_output.onnx", WORKS, LRPX_OK, NULL},
    {"sum_empty_explain.onnx", WORKS, LRPX_OK, NULL},
    {"split_attr_not_list.onnx", AT_LOAD, LRPX_EPARSE, "node 'sp' (#0, Split): attribute split"},
    {"maxpool_empty_long.onnx", AT_LOAD, LRPX_ELIMIT, "node 'mp' (#0, MaxPool)"},
    {"convtranspose_bn_bad_group.onnx", AT_LOAD, LRPX_ESHAPE, "node 'ct' (#0, ConvTranspose)"},
    /* hand-written */
    {"initializer_input_mismatch.onnx", AT_LOAD, LRPX_ESHAPE, "graph input 'W' is declared with shape 2x2"},
    {"negative_dim_value_info.onnx", AT_LOAD, LRPX_EPARSE, "value 'x' has negative dimension -4"},
    {"negative_dim_output.onnx", AT_LOAD, LRPX_EPARSE, "value 'y' has negative dimension -7"},
    /* value_info of intermediate values is not read */
    {"negative_dim_intermediate.onnx", WORKS, LRPX_OK, NULL},
    {"constant_dims_overflow.onnx", AT_LOAD, LRPX_ELIMIT, "node 'k' (#0, Constant)"},
    {"constant_of_shape_huge.onnx", AT_LOAD, LRPX_ELIMIT, "node 'cos' (#0, ConstantOfShape)"},
    {"expand_huge.onnx", AT_LOAD, LRPX_ELIMIT, "node 'ex' (#0, Expand)"},
    {"tile_huge.onnx", AT_LOAD, LRPX_ELIMIT, "node 'tl' (#0, Tile)"},
    {"range_tiny_delta.onnx", AT_LOAD, LRPX_ELIMIT, "node 'rg' (#0, Range)"},
    {"resize_huge_scales.onnx", AT_LOAD, LRPX_ELIMIT, "node 'rz' (#0, Resize)"},
    {"pad_huge.onnx", AT_LOAD, LRPX_ELIMIT, "node 'pd' (#0, Pad)"},
};
#define N_HOSTILE_FILES ((int)(sizeof hostile_files / sizeof hostile_files[0]))

START_TEST(test_hostile_file)
{
    const struct hostile_file *h = &hostile_files[_i];
    char rel[256];
    lrpx_test_snprintf(rel, sizeof rel, "hostile/%s", h->file);
    const char *path  = lrpx_test_path(rel);
    double      rss0  = peak_rss_mb();
    double      t0    = now_s();
    lrpx_model *model = NULL;
    lrpx_status rc    = lrpx_model_load_file(path, NULL, &model);
    ck_assert_ptr_nonnull(model);
    if (h->stage == WORKS) {
        ck_assert_msg(rc == LRPX_OK, "%s: %s", h->file, lrpx_model_errmsg(model));
        lrpx_session *s;
        ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
        feed_zeros(model, s);
        rc = lrpx_session_run(s);
        ck_assert_msg(rc == LRPX_OK, "%s: %s", h->file, lrpx_session_errmsg(s));
        /* explaining may fail (e.g. nothing to explain), never crash */
        struct lrpx_lrp_options lo;
        lrpx_lrp_options_default(&lo);
        rc = lrpx_session_explain(s, &lo);
        ck_assert_msg(rc == LRPX_OK || lrpx_session_errmsg(s)[0], "%s: explain", h->file);
        rc = lrpx_session_gradient(s, &lo);
        ck_assert_msg(rc == LRPX_OK || lrpx_session_errmsg(s)[0], "%s: gradient", h->file);
        lrpx_session_free(s);
    } else if (h->stage == AT_LOAD) {
        expect_error(rc, lrpx_model_errmsg(model), h->status, h->file, h->needle);
    } else {
        ck_assert_msg(rc == LRPX_OK, "%s: %s", h->file, lrpx_model_errmsg(model));
        lrpx_session *s;
        ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
        feed_zeros(model, s);
        rc = lrpx_session_run(s);
        if (h->stage == AT_RUN) {
            expect_error(rc, lrpx_session_errmsg(s), h->status, h->file, h->needle);
        } else {
            ck_assert_msg(rc == LRPX_OK, "%s: %s", h->file, lrpx_session_errmsg(s));
            struct lrpx_lrp_options lo;
            lrpx_lrp_options_default(&lo);
            rc = lrpx_session_explain(s, &lo);
            expect_error(rc, lrpx_session_errmsg(s), h->status, h->file, h->needle);
            rc = lrpx_session_gradient(s, &lo);
            expect_error(rc, lrpx_session_errmsg(s), h->status, h->file, h->needle);
        }
        lrpx_session_free(s);
    }
    lrpx_model_free(model);
    /* each of these files is a few hundred bytes */
    ck_assert_msg(peak_rss_mb() - rss0 < 64.0, "%s: peak RSS grew by %.0f MB", h->file,
                  peak_rss_mb() - rss0);
    ck_assert_msg(now_s() - t0 < 10.0, "%s: took %.1f s", h->file, now_s() - t0);
}
END_TEST

/* Every file of testdata/hostile has an entry above (a new reproducer
 * cannot be forgotten), and every entry has its file. */
START_TEST(test_hostile_table_complete)
{
    const char *dir = lrpx_test_path("hostile");
    DIR        *d   = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int            n_files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".onnx") != 0)
            continue;
        n_files++;
        bool listed = false;
        for (int i = 0; i < N_HOSTILE_FILES && !listed; i++)
            listed = strcmp(hostile_files[i].file, e->d_name) == 0;
        ck_assert_msg(listed, "testdata/hostile/%s is not in the table of test_hostile.c",
                      e->d_name);
    }
    closedir(d);
    ck_assert_int_eq(n_files, N_HOSTILE_FILES);
}
END_TEST

/* ---- long chains, wide nodes, long names, long lists ---- */

/* x[1,4] -> op -> v1 -> op -> ... -> v<n> */
static lrpx_test_model *
chain_model(const char *op, int n)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "v0", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, 4 });
    char in[32], out[32];
    for (int i = 0; i < n; i++) {
        snprintf(in, sizeof in, "v%d", i);
        snprintf(out, sizeof out, "v%d", i + 1);
        lrpx_test_model_node(m, op, NULL, LT_IO(in), LT_IO(out), NULL);
    }
    lrpx_test_model_output(m, out);
    return m;
}

/* 100k Identity nodes: removed by the graph passes in linear time (they
 * used to relink the whole graph per node: about 50 minutes), then the
 * output is the input. */
START_TEST(test_identity_chain_100k)
{
    lrpx_test_model *m  = chain_model("Identity", 100000);
    const float      x[4] = { 1.0f, -2.0f, 3.0f, -4.0f };
    double           t0 = now_s();
    lrpx_model      *model;
    lrpx_session    *s;
    lrpx_test_run_f32(m, 2, (int64_t[]){ 1, 4 }, x, &model, &s);
    ck_assert_msg(now_s() - t0 < 20.0, "100k Identity nodes took %.1f s", now_s() - t0);
    ck_assert_int_eq(lrpx_model_n_nodes(model, 0), 100000);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, x, 4, 0.0, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* 100k Relu nodes: sorted, planned, run and explained without recursion.
 * For a chain of Relus the relevance is passed through unchanged, so the
 * input relevance is the seed (the logit at the arg max) at the arg max. */
START_TEST(test_relu_chain_100k_explain)
{
    lrpx_test_model *m    = chain_model("Relu", 100000);
    const float      x[4] = { 0.5f, -2.0f, 3.0f, 1.0f };
    lrpx_model      *model;
    lrpx_session    *s;
    lrpx_test_run_f32(m, 2, (int64_t[]){ 1, 4 }, x, &model, &s);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    const float want[4] = { 0.5f, 0.0f, 3.0f, 1.0f };
    ck_assert_tensor_near((const float *)y.data, want, 4, 0.0, 0.0);

    struct lrpx_lrp_options lo;
    lrpx_lrp_options_default(&lo);
    lrpx_status rc = lrpx_session_explain(s, &lo);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_session_errmsg(s));
    lrpx_tensor_view r;
    ck_assert_int_eq(lrpx_session_relevance(s, NULL, &r), LRPX_OK);
    const float rwant[4] = { 0.0f, 0.0f, 3.0f, 0.0f };
    ck_assert_tensor_near((const float *)r.data, rwant, 4, 1e-6, 1e-6);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* Sum with 1000 inputs: more than any op takes (255), refused by name;
 * 2000 inputs: over the loader's per-node limit. */
START_TEST(test_node_with_1000_inputs)
{
    static const int counts[2]   = { 1000, 2000 };
    static const lrpx_status want[2] = { LRPX_EPARSE, LRPX_ELIMIT };
    for (int c = 0; c < 2; c++) {
        lrpx_test_model *m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 3 });
        const char **ins = calloc((size_t)counts[c] + 1, sizeof *ins);
        ck_assert_ptr_nonnull(ins);
        for (int i = 0; i < counts[c]; i++)
            ins[i] = "x";
        lrpx_test_model_node(m, "Sum", "wide", ins, LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model *model;
        lrpx_status rc = lrpx_test_model_load(m, &model);
        expect_error(rc, lrpx_model_errmsg(model), want[c], "<memory>", "node 'wide'", "Sum");
        lrpx_model_free(model);
        free(ins);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* A 1 MB node name and a 1 MB op type: the message is cut to fit, but still
 * says which node and why (names are shortened, the reason is kept). */
START_TEST(test_megabyte_names)
{
    size_t len  = (size_t)1 << 20;
    char  *name = malloc(len + 1);
    char  *op   = malloc(len + 1);
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(op);
    memset(name, 'n', len);
    memset(op, 'O', len);
    name[len] = op[len] = '\0';

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 3 });
    lrpx_test_model_node(m, op, name, LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    expect_error(rc, lrpx_model_errmsg(model), LRPX_EUNSUPPORTED, "<memory>: node 'nnnn",
                 "(#0, OOOO", "is not supported at opset 13");
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* a known op under a long name, reading a long-named input, is fine */
    m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, name, LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 3 });
    lrpx_test_model_node(m, "Relu", name + 1, LT_IO(name), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_session *s;
    const float   x[3] = { -1.0f, 0.5f, 2.0f }, want[3] = { 0.0f, 0.5f, 2.0f };
    lrpx_test_run_f32(m, 1, (int64_t[]){ 3 }, x, &model, &s);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 3, 0.0, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    free(name);
    free(op);
}
END_TEST

/* Attributes with a million ints: refused by the op with the node named. */
START_TEST(test_huge_int_list_attributes)
{
    int      n = 1000000;
    int64_t *v = malloc((size_t)n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < n; i++)
        v[i] = (i % 2) ? INT64_MAX : INT64_MIN + i;
    static const char *const ops[3]   = { "Transpose", "MaxPool", "Squeeze" };
    static const char *const attrs[3] = { "perm", "kernel_shape", "axes" };
    for (int c = 0; c < 3; c++) {
        lrpx_test_model *m = lrpx_test_model_new(12);
        lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, (int64_t[]){ 1, 1, 2, 2 });
        lrpx_test_model_node(m, ops[c], "big", LT_IO("x"), LT_IO("y"),
                             LT_INTS_N(attrs[c], n, v), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model *model;
        lrpx_status rc = lrpx_test_model_load(m, &model);
        ck_assert_msg(rc != LRPX_OK, "%s with %d %s loaded", ops[c], n, attrs[c]);
        ck_assert_msg(strstr(lrpx_model_errmsg(model), "node 'big'") != NULL, "%s",
                      lrpx_model_errmsg(model));
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
    free(v);
}
END_TEST

/* ---- protobuf-level attacks ---- */

static size_t
put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* Graph -> Node "If" -> Attribute "body" -> Graph -> ... depth times, as
 * raw protobuf (built inside out in one buffer, no recursion). */
static uint8_t *
nested_model(int depth, size_t *len)
{
    size_t   cap = (size_t)depth * 40 + 64;
    uint8_t *buf = malloc(cap), *tmp = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(tmp);
    size_t n = 0;   /* the current GraphProto's bytes are buf[0..n) */
    for (int i = 0; i < depth; i++) {
        uint8_t hdr[64];
        size_t  h = 0;
        /* NodeProto { op_type: "If" (4), attribute (5) { name: "body" (1), g (6) { graph } } } */
        size_t attr_len = 6 + 1 + put_varint(hdr, n) + n;    /* name field + g field */
        size_t node_len = 4 + 1 + put_varint(hdr, attr_len) + attr_len;
        h += put_varint(tmp + h, (1 << 3) | 2);               /* GraphProto.node */
        h += put_varint(tmp + h, node_len);
        h += put_varint(tmp + h, (4 << 3) | 2);               /* NodeProto.op_type */
        h += put_varint(tmp + h, 2);
        memcpy(tmp + h, "If", 2), h += 2;
        h += put_varint(tmp + h, (5 << 3) | 2);               /* NodeProto.attribute */
        h += put_varint(tmp + h, attr_len);
        h += put_varint(tmp + h, (1 << 3) | 2);               /* AttributeProto.name */
        h += put_varint(tmp + h, 4);
        memcpy(tmp + h, "body", 4), h += 4;
        h += put_varint(tmp + h, (6 << 3) | 2);               /* AttributeProto.g */
        h += put_varint(tmp + h, n);
        ck_assert_uint_le(h + n, cap);
        memcpy(tmp + h, buf, n);
        n = h + n;
        uint8_t *t = buf;
        buf = tmp;
        tmp = t;
    }
    /* ModelProto { ir_version: 7, graph (7), opset_import (8) { version: 13 } } */
    size_t h = 0;
    h += put_varint(tmp + h, (1 << 3) | 0);
    h += put_varint(tmp + h, 7);
    h += put_varint(tmp + h, (7 << 3) | 2);
    h += put_varint(tmp + h, n);
    memcpy(tmp + h, buf, n);
    n += h;
    tmp[n++] = (8 << 3) | 2;
    tmp[n++] = 2;
    tmp[n++] = (2 << 3) | 0;
    tmp[n++] = 13;
    free(buf);
    *len = n;
    return tmp;
}

/* Subgraphs nested 100k deep (a 2 MB file): protobuf-c would recurse once
 * per level and overflow the stack (it did: SIGSEGV); the loader refuses
 * the depth first. A shallow nesting gets as far as the unsupported If. */
START_TEST(test_deep_message_nesting)
{
    static const int         depths[2] = { 100000, 3 };
    static const lrpx_status want[2]   = { LRPX_ELIMIT, LRPX_EUNSUPPORTED };
    static const char *const why[2]    = { "nested more than", "operator If" };
    for (int c = 0; c < 2; c++) {
        size_t      len;
        uint8_t    *buf = nested_model(depths[c], &len);
        lrpx_model *model;
        lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, NULL, &model);
        expect_error(rc, lrpx_model_errmsg(model), want[c], "<memory>", why[c]);
        lrpx_model_free(model);
        free(buf);
    }
}
END_TEST

/* Five million empty NodeProtos in 10 MB: about 100 bytes of protobuf-c
 * structs per 2 bytes of file. The parser's budget (16 x file + 64 MiB)
 * stops it well before the 500+ MB it would take. */
START_TEST(test_parse_amplification)
{
    size_t   n_nodes = 5000000;
    size_t   glen    = 2 * n_nodes;
    uint8_t *buf     = malloc(glen + 32);
    ck_assert_ptr_nonnull(buf);
    size_t n = 0;
    buf[n++] = (1 << 3) | 0;
    buf[n++] = 7;
    buf[n++] = (7 << 3) | 2;
    n += put_varint(buf + n, glen);
    for (size_t i = 0; i < n_nodes; i++) {
        buf[n++] = (1 << 3) | 2;
        buf[n++] = 0;
    }
    double      rss0 = peak_rss_mb();
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_buffer(buf, n, NULL, NULL, &model);
    expect_error(rc, lrpx_model_errmsg(model), LRPX_ELIMIT, "<memory>", "parsing needs more than");
    ck_assert_msg(peak_rss_mb() - rss0 < 300.0, "peak RSS grew by %.0f MB", peak_rss_mb() - rss0);
    lrpx_model_free(model);
    free(buf);
}
END_TEST

/* ---- limits ---- */

/* The defaults are modest: a file of a few bytes can ask for a tensor of
 * max_tensor_bytes (docs/errors.md, "Limits"). */
START_TEST(test_default_limits)
{
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    ck_assert_int_eq(o.max_tensor_bytes, (int64_t)1 << 30);
    ck_assert_int_eq(o.max_total_bytes, (int64_t)4 << 30);
}
END_TEST

/* Weights, activations and backward buffers share max_total_bytes: each
 * arena used to get the whole budget on its own. x[1,N] -> Relu -> Relu:
 * activations 2 x 4N bytes, gradient buffers 3 x 4N. */
START_TEST(test_total_budget_is_shared)
{
    const int64_t    N = 1 << 20;                 /* 4 MiB per tensor */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, N });
    lrpx_test_model_node(m, "Relu", "r1", LT_IO("x"), LT_IO("a"), NULL);
    lrpx_test_model_node(m, "Relu", "r2", LT_IO("a"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    float *x = calloc((size_t)N, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x[7] = 1.0f;

    /* 18 MiB: enough for the forward pass (8 MiB), not for the gradient
     * buffers on top (12 MiB more) */
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.max_total_bytes = 18 << 20;
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, &o, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2,
                                            (int64_t[]){ 1, N }, x), LRPX_OK);
    rc = lrpx_session_run(s);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_session_errmsg(s));
    struct lrpx_lrp_options lo;
    lrpx_lrp_options_default(&lo);
    rc = lrpx_session_gradient(s, &lo);
    expect_error(rc, lrpx_session_errmsg(s), LRPX_ELIMIT, "<memory>", "memory limit");
    lrpx_session_free(s);
    lrpx_model_free(model);

    /* 6 MiB: not even the activations (planned when the input is set;
     * the load-time check allocates only folded constants); the message
     * names the node whose buffer did not fit */
    o.max_total_bytes = 6 << 20;
    rc = lrpx_model_load_buffer(buf, len, NULL, &o, &model);
    ck_assert_msg(rc == LRPX_OK, "%s", lrpx_model_errmsg(model));
    ck_assert_int_eq(lrpx_session_init(model, &s), LRPX_OK);
    ck_assert_int_eq(lrpx_session_set_input(s, NULL, LRPX_DTYPE_FLOAT32, 2,
                                            (int64_t[]){ 1, N }, x), LRPX_OK);
    rc = lrpx_session_run(s);
    expect_error(rc, lrpx_session_errmsg(s), LRPX_ELIMIT, "node 'r2' (#1, Relu)", "memory limit");
    lrpx_session_free(s);
    lrpx_model_free(model);

    free(x);
    free(buf);
    lrpx_test_model_free(m);
}
END_TEST

/* Three ConstantOfShape nodes of 16 MiB each, summed: under the tensor
 * limit one by one, over a 40 MiB total together. */
START_TEST(test_folded_constants_total)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){ 1 });
    lrpx_test_model_init_i64(m, "shape", 1, (int64_t[]){ 1 }, (int64_t[]){ 4 << 20 });
    lrpx_test_model_node(m, "ConstantOfShape", "c0", LT_IO("shape"), LT_IO("c0"), NULL);
    lrpx_test_model_node(m, "ConstantOfShape", "c1", LT_IO("shape"), LT_IO("c1"), NULL);
    lrpx_test_model_node(m, "ConstantOfShape", "c2", LT_IO("shape"), LT_IO("c2"), NULL);
    lrpx_test_model_node(m, "Sum", "s", LT_IO("c0", "c1", "c2"), LT_IO("s"), NULL);
    lrpx_test_model_node(m, "ReduceSum", "r", LT_IO("s"), LT_IO("r"), LT_INT("keepdims", 0), NULL);
    lrpx_test_model_node(m, "Add", "add", LT_IO("x", "r"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.max_total_bytes = 40 << 20;
    lrpx_model *model;
    lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, &o, &model);
    expect_error(rc, lrpx_model_errmsg(model), LRPX_ELIMIT, "<memory>: node '", "memory limit");
    lrpx_model_free(model);
    free(buf);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- external data ---- */

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
    static char p[2][LRPX_TEST_PATH_MAX];
    static int  k;
    k = !k;
    lrpx_test_snprintf(p[k], sizeof p[k], "%s/%s", scratch, name);
    return p[k];
}

/* x[1,2] MatMul W[dims] with W's data outside the model file. */
static void
save_external(const char *file, const char *location, int64_t offset, int64_t d0, int64_t d1)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ 1, d0 });
    lrpx_test_model_init_external(m, "W", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){ d0, d1 },
                                  location, offset, -1);
    lrpx_test_model_node(m, "MatMul", "mm", LT_IO("x", "W"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, scratch_path(file));
    lrpx_test_model_free(m);
}

/* Each external location below must fail fast (a FIFO must not block the
 * open), name the initializer, and allocate nothing large: the 1 GiB W
 * whose file holds 16 bytes is refused before its buffer exists. */
START_TEST(test_external_data_hostile)
{
    const float w[4] = { 1, 2, 3, 4 };
    lrpx_test_write_file(scratch_path("w.bin"), w, sizeof w);
    ck_assert_int_eq(mkfifo(scratch_path("fifo"), 0600), 0);
    ck_assert_int_eq(mkdir(scratch_path("dir"), 0700), 0);
    ck_assert_int_eq(symlink("/dev/zero", scratch_path("zero")), 0);

    static const struct {
        const char *file, *location;
        int64_t     offset, d0, d1;
        lrpx_status status;
        const char *needle;
    } cases[] = {
        { "devzero.onnx", "/dev/zero", -1, 2, 2, LRPX_EINVAL, "is absolute" },
        { "link.onnx", "zero", -1, 2, 2, LRPX_EINVAL, "outside the model's folder" },
        { "fifo.onnx", "fifo", -1, 2, 2, LRPX_EIO, "not a regular file" },
        { "dir.onnx", "dir", -1, 2, 2, LRPX_EIO, "not a regular file" },
        { "dotdot.onnx", "../w.bin", -1, 2, 2, LRPX_EINVAL, "leaves the model's folder" },
        { "offset.onnx", "w.bin", 1000, 2, 2, LRPX_EPARSE, "at offset 1000" },
        { "offset_huge.onnx", "w.bin", INT64_MAX, 2, 2, LRPX_EPARSE, "has 16 bytes" },
        { "big.onnx", "w.bin", -1, 1 << 14, 1 << 14, LRPX_EPARSE, "needs 1073741824" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        save_external(cases[c].file, cases[c].location, cases[c].offset, cases[c].d0,
                      cases[c].d1);
        double      rss0 = peak_rss_mb(), t0 = now_s();
        lrpx_model *model;
        lrpx_status rc = lrpx_model_load_file(scratch_path(cases[c].file), NULL, &model);
        expect_error(rc, lrpx_model_errmsg(model), cases[c].status, cases[c].file,
                     "initializer 'W'", cases[c].needle);
        ck_assert_msg(peak_rss_mb() - rss0 < 64.0, "%s: peak RSS grew by %.0f MB",
                      cases[c].file, peak_rss_mb() - rss0);
        ck_assert_msg(now_s() - t0 < 5.0, "%s: took %.1f s", cases[c].file, now_s() - t0);
        lrpx_model_free(model);
    }
}
END_TEST

/* ---- suite ---- */

static Suite *
hostile_suite(void)
{
    Suite *s  = suite_create("hostile");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_hostile_file, 0, N_HOSTILE_FILES);
    tcase_add_test(tc, test_hostile_table_complete);
    suite_add_tcase(s, tc);

    tc = tcase_create("graphs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_identity_chain_100k);
    tcase_add_test(tc, test_relu_chain_100k_explain);
    tcase_add_test(tc, test_node_with_1000_inputs);
    tcase_add_test(tc, test_megabyte_names);
    tcase_add_test(tc, test_huge_int_list_attributes);
    tcase_add_test(tc, test_deep_message_nesting);
    tcase_add_test(tc, test_parse_amplification);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_default_limits);
    tcase_add_test(tc, test_total_budget_is_shared);
    tcase_add_test(tc, test_folded_constants_total);
    suite_add_tcase(s, tc);

    tc = tcase_create("external");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_external_data_hostile);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(hostile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
