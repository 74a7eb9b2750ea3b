/* Suite "npy": lrpx_npy_read / lrpx_npy_write.
 *
 * Reference files in testdata/npy/ were written by NumPy
 * (scripts/gen_npy_testdata.py); their values follow a formula that is
 * recomputed here: v[i] = ((7 i) mod 23) - 11 (divided by 4 for floats,
 * plus 11 for uint8), bools i mod 3 == 0. Hostile files are made here byte
 * by byte in a scratch folder.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static double
formula(lrpx_dtype t, int64_t i)
{
    int64_t v = ((7 * i) % 23) - 11;
    switch (t) {
    case LRPX_DTYPE_FLOAT32:
    case LRPX_DTYPE_FLOAT64: return (double)v / 4.0;
    case LRPX_DTYPE_UINT8:   return (double)(v + 11);
    case LRPX_DTYPE_BOOL:    return i % 3 == 0;
    default:                 return (double)v;
    }
}

static double
elem(const lrpx_npy *a, int64_t i)
{
    switch (a->dtype) {
    case LRPX_DTYPE_FLOAT32: return ((const float *)a->data)[i];
    case LRPX_DTYPE_FLOAT64: return ((const double *)a->data)[i];
    case LRPX_DTYPE_INT64:   return (double)((const int64_t *)a->data)[i];
    case LRPX_DTYPE_INT32:   return ((const int32_t *)a->data)[i];
    case LRPX_DTYPE_INT8:    return ((const int8_t *)a->data)[i];
    case LRPX_DTYPE_UINT8:
    case LRPX_DTYPE_BOOL:    return ((const uint8_t *)a->data)[i];
    default:                 ck_abort_msg("unexpected dtype"); return 0;
    }
}

static void
check_formula(const lrpx_npy *a, lrpx_dtype dtype, int rank, const int64_t *dims)
{
    ck_assert_int_eq(a->dtype, dtype);
    ck_assert_int_eq(a->rank, rank);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        ck_assert_int_eq(a->dims[i], dims[i]);
        n *= dims[i];
    }
    ck_assert_int_eq(a->n_elems, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(elem(a, i) == formula(dtype, i), "element %lld: %g, expected %g",
                      (long long)i, elem(a, i), formula(dtype, i));
}

/* ---- NumPy-written files ---- */

static const struct {
    const char *file;
    lrpx_dtype  dtype;
} ref_files[] = {
    { "npy/f4.npy", LRPX_DTYPE_FLOAT32 }, { "npy/f8.npy", LRPX_DTYPE_FLOAT64 },
    { "npy/i8.npy", LRPX_DTYPE_INT64 },   { "npy/i4.npy", LRPX_DTYPE_INT32 },
    { "npy/u1.npy", LRPX_DTYPE_UINT8 },   { "npy/i1.npy", LRPX_DTYPE_INT8 },
    { "npy/b1.npy", LRPX_DTYPE_BOOL },    { "npy/f4_v2.npy", LRPX_DTYPE_FLOAT32 },
    { "npy/f4_v3.npy", LRPX_DTYPE_FLOAT32 },
};

START_TEST(test_read_numpy_files)
{
    static const int64_t dims[3] = { 2, 3, 4 };
    lrpx_npy *a = lrpx_test_npy_load(lrpx_test_path(ref_files[_i].file));
    check_formula(a, ref_files[_i].dtype, 3, dims);
    lrpx_npy_free(a);
}
END_TEST

START_TEST(test_read_scalar_vector_empty)
{
    lrpx_npy *a = lrpx_test_npy_load(lrpx_test_path("npy/f4_scalar.npy"));
    ck_assert_int_eq(a->rank, 0);
    ck_assert_int_eq(a->n_elems, 1);
    ck_assert_float_eq(((float *)a->data)[0], -2.75f);
    lrpx_npy_free(a);

    static const int64_t five[1] = { 5 };
    a = lrpx_test_npy_load(lrpx_test_path("npy/f4_vector.npy"));
    check_formula(a, LRPX_DTYPE_FLOAT32, 1, five);
    lrpx_npy_free(a);

    a = lrpx_test_npy_load(lrpx_test_path("npy/i1_empty.npy"));
    ck_assert_int_eq(a->dtype, LRPX_DTYPE_INT8);
    ck_assert_int_eq(a->rank, 2);
    ck_assert_int_eq(a->dims[0], 0);
    ck_assert_int_eq(a->dims[1], 4);
    ck_assert_int_eq(a->n_elems, 0);
    lrpx_npy_free(a);
}
END_TEST

static void
expect_fail(const char *path, lrpx_status want, const char *needle)
{
    char      err[1024] = "untouched";
    lrpx_npy *a         = (lrpx_npy *)0x1;
    lrpx_status rc      = lrpx_npy_read(path, &a, err, sizeof err);
    ck_assert_msg(rc == want, "%s: got %s (%s), expected %s", path, lrpx_status_name(rc), err,
                  lrpx_status_name(want));
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err, path) != NULL, "message does not name the file: %s", err);
    if (needle)
        ck_assert_msg(strstr(err, needle) != NULL, "message lacks '%s': %s", needle, err);
}

START_TEST(test_read_unsupported_numpy_files)
{
    expect_fail(lrpx_test_path("npy/f4_fortran.npy"), LRPX_EUNSUPPORTED, "Fortran");
    expect_fail(lrpx_test_path("npy/f4_bigendian.npy"), LRPX_EUNSUPPORTED, "little-endian");
    expect_fail(lrpx_test_path("npy/u2.npy"), LRPX_EUNSUPPORTED, "<u2");
    expect_fail(lrpx_test_path("npy/structured.npy"), LRPX_EUNSUPPORTED, "structured");
    expect_fail(lrpx_test_path("npy/does_not_exist.npy"), LRPX_EIO, "cannot open");
}
END_TEST

/* ---- round trips ---- */

static const lrpx_dtype rt_types[] = {
    LRPX_DTYPE_FLOAT32, LRPX_DTYPE_FLOAT64, LRPX_DTYPE_INT64, LRPX_DTYPE_INT32,
    LRPX_DTYPE_UINT8,   LRPX_DTYPE_INT8,    LRPX_DTYPE_BOOL,
};

static void *
make_formula_data(lrpx_dtype t, int64_t n)
{
    size_t es = lrpx_dtype_size(t);
    char  *p  = malloc((size_t)n * es + 1);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++) {
        double v = formula(t, i);
        switch (t) {
        case LRPX_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
        case LRPX_DTYPE_FLOAT64: ((double *)p)[i] = v; break;
        case LRPX_DTYPE_INT64:   ((int64_t *)p)[i] = (int64_t)v; break;
        case LRPX_DTYPE_INT32:   ((int32_t *)p)[i] = (int32_t)v; break;
        case LRPX_DTYPE_INT8:    ((int8_t *)p)[i] = (int8_t)v; break;
        default:                 ((uint8_t *)p)[i] = (uint8_t)v; break;
        }
    }
    return p;
}

START_TEST(test_round_trip)
{
    lrpx_dtype t = rt_types[_i];
    static const int64_t shapes[][4] = { { 2, 3, 4, 5 }, { 7 }, { 1 }, { 0 } };
    static const int     ranks[]     = { 4, 1, 0, 2 };
    for (int s = 0; s < 4; s++) {
        int64_t n = 1;
        for (int d = 0; d < ranks[s]; d++)
            n *= shapes[s][d];
        void *data = make_formula_data(t, n);
        char  err[1024];
        const char *path = scratch_path("rt.npy");
        lrpx_status rc = lrpx_npy_write(path, t, ranks[s], shapes[s], data, err, sizeof err);
        ck_assert_msg(rc == LRPX_OK, "%s", err);

        /* header is 64-byte aligned and the file is exactly header + data */
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        size_t         len;
        unsigned char *raw = lrpx_test_read_file(path, &len);
        ck_assert_int_eq(memcmp(raw, "\x93NUMPY\x01\x00", 8), 0);
        size_t hl = (size_t)raw[8] | (size_t)raw[9] << 8;
        ck_assert_uint_eq((10 + hl) % 64, 0);
        ck_assert_uint_eq(raw[10 + hl - 1], '\n');
        ck_assert_uint_eq(len, 10 + hl + (size_t)n * lrpx_dtype_size(t));
        free(raw);

        lrpx_npy *a = lrpx_test_npy_load(path);
        if (n > 0)
            check_formula(a, t, ranks[s], shapes[s]);
        else
            ck_assert_int_eq(a->n_elems, 0);
        ck_assert_int_eq(a->rank, ranks[s]);
        lrpx_npy_free(a);
        free(data);
    }
}
END_TEST

START_TEST(test_write_errors)
{
    char    err[1024];
    float   x[4] = { 1, 2, 3, 4 };
    int64_t d4[1] = { 4 };
    int64_t neg[2] = { 2, -2 };
    int64_t huge[3] = { INT64_MAX / 2, 4, 4 };

    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT16, 1, d4, x, err,
                                    sizeof err), LRPX_EUNSUPPORTED);
    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT32, 9, d4, x, err,
                                    sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT32, 2, neg, x, err,
                                    sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT32, 3, huge, x, err,
                                    sizeof err), LRPX_ELIMIT);
    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT32, 1, d4, NULL, err,
                                    sizeof err), LRPX_EINVAL);
    /* a folder that does not exist: EIO naming the file, nothing left behind */
    const char *bad = scratch_path("missing/dir/a.npy");
    ck_assert_int_eq(lrpx_npy_write(bad, LRPX_DTYPE_FLOAT32, 1, d4, x, err, sizeof err),
                     LRPX_EIO);
    ck_assert_msg(strstr(err, "missing/dir/a.npy") != NULL, "%s", err);
    /* NULL errbuf is allowed */
    ck_assert_int_eq(lrpx_npy_write(scratch_path("a.npy"), LRPX_DTYPE_FLOAT16, 1, d4, x, NULL, 0),
                     LRPX_EUNSUPPORTED);
}
END_TEST

/* Writing over an existing file replaces it whole and leaves no temporary. */
START_TEST(test_write_atomic_replace)
{
    char        err[1024];
    const char *path = scratch_path("w.npy");
    float       a[3] = { 1, 2, 3 }, b[2] = { -1, -2 };
    int64_t     d3[1] = { 3 }, d2[1] = { 2 };
    ck_assert_int_eq(lrpx_npy_write(path, LRPX_DTYPE_FLOAT32, 1, d3, a, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(lrpx_npy_write(path, LRPX_DTYPE_FLOAT32, 1, d2, b, err, sizeof err), LRPX_OK);
    lrpx_npy *r = lrpx_test_npy_load(path);
    ck_assert_int_eq(r->n_elems, 2);
    ck_assert_tensor_near((float *)r->data, b, 2, 0.0, 0.0);
    lrpx_npy_free(r);

    /* a write into a read-only folder fails and leaves the old file intact */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(scratch, 0555), 0);
        ck_assert_int_eq(lrpx_npy_write(path, LRPX_DTYPE_FLOAT32, 1, d3, a, err, sizeof err),
                         LRPX_EIO);
        ck_assert_int_eq(chmod(scratch, 0755), 0);
        r = lrpx_test_npy_load(path);
        ck_assert_int_eq(r->n_elems, 2);
        lrpx_npy_free(r);
    }

    int  n_entries = 0;
    DIR *d         = opendir(scratch);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)   /* the temporaries are dot files */
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n_entries++;
    closedir(d);
    ck_assert_int_eq(n_entries, 1);
}
END_TEST

/* lrpx_npy_write_ex with LRPX_WRITE_NO_SYNC: the same bytes as the synced
 * writer; lrpx_file_write replaces the old file whole; a folder that does
 * not exist fails with the path named. */
START_TEST(test_write_no_sync)
{
    char        err[1024];
    const char *p1 = scratch_path("sync.npy"), *p2 = scratch_path("nosync.npy");
    float       a[6] = {1, -2, 3.5f, 4, 5, 6};
    int64_t     d[2] = {2, 3};
    ck_assert_int_eq(lrpx_npy_write(p1, LRPX_DTYPE_FLOAT32, 2, d, a, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(lrpx_npy_write_ex(p2, LRPX_DTYPE_FLOAT32, 2, d, a, LRPX_WRITE_NO_SYNC, err,
                                       sizeof err),
                     LRPX_OK);
    size_t n1, n2;
    char  *b1 = lrpx_test_read_file(p1, &n1), *b2 = lrpx_test_read_file(p2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    free(b1);
    free(b2);

    const char *pt = scratch_path("t.txt");
    ck_assert_int_eq(lrpx_file_write(pt, "hello\n", 6, err, sizeof err), LRPX_OK);
    ck_assert_int_eq(lrpx_file_write(pt, "bye", 3, err, sizeof err), LRPX_OK);
    char *t = lrpx_test_read_file(pt, &n1);
    ck_assert_uint_eq(n1, 3);
    ck_assert_int_eq(memcmp(t, "bye", 3), 0);
    free(t);
    const char *bad = scratch_path("no/such/folder/x.txt");
    ck_assert_int_eq(lrpx_npy_write_ex(bad, LRPX_DTYPE_FLOAT32, 2, d, a, LRPX_WRITE_NO_SYNC, err,
                                       sizeof err),
                     LRPX_EIO);
    ck_assert_ptr_nonnull(strstr(err, bad));
    ck_assert_int_eq(lrpx_npy_write_ex(NULL, LRPX_DTYPE_FLOAT32, 2, d, a, LRPX_WRITE_NO_SYNC, err,
                                       sizeof err),
                     LRPX_EINVAL);
}
END_TEST

/* ---- hostile files ---- */

/* A v1.0 file: magic, header text (padded with '\n' only if pad), then
 * n_data bytes of 0x41. hlen_override >= 0 writes that header length. */
static const char *
write_npy_n(const char *name, int major, const char *header, size_t hl, long hlen_override,
            size_t n_data)
{
    unsigned char buf[4096];
    size_t        off = 0;
    size_t        stated = hlen_override >= 0 ? (size_t)hlen_override : hl;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    off    = 8;
    if (major == 1) {
        buf[off++] = (unsigned char)(stated & 0xff);
        buf[off++] = (unsigned char)((stated >> 8) & 0xff);
    } else {
        for (int i = 0; i < 4; i++)
            buf[off++] = (unsigned char)((stated >> (8 * i)) & 0xff);
    }
    ck_assert_uint_lt(off + hl + n_data, sizeof buf);
    memcpy(buf + off, header, hl);
    off += hl;
    memset(buf + off, 0x41, n_data);
    off += n_data;
    const char *p = scratch_path(name);
    lrpx_test_write_file(p, buf, off);
    return p;
}

static const char *
write_npy(const char *name, int major, const char *header, long hlen_override, size_t n_data)
{
    return write_npy_n(name, major, header, strlen(header), hlen_override, n_data);
}

#define HDR(descr, fortran, shape) \
    "{'descr': '" descr "', 'fortran_order': " fortran ", 'shape': " shape ", }\n"

START_TEST(test_hand_written_good_headers)
{
    /* double quotes, no trailing comma, Python 2 'L' suffixes, v2 */
    const char *p = write_npy("g1.npy", 1,
                              "{\"shape\": (2L, 3L), \"descr\": \"<i4\", \"fortran_order\": False}",
                              -1, 24);
    lrpx_npy *a = lrpx_test_npy_load(p);
    ck_assert_int_eq(a->dtype, LRPX_DTYPE_INT32);
    ck_assert_int_eq(a->dims[0], 2);
    ck_assert_int_eq(a->dims[1], 3);
    ck_assert_int_eq(((int32_t *)a->data)[5], 0x41414141);
    lrpx_npy_free(a);

    p = write_npy("g2.npy", 2, HDR("|b1", "False", "(4,)"), -1, 4);
    a = lrpx_test_npy_load(p);
    ck_assert_int_eq(a->dtype, LRPX_DTYPE_BOOL);
    /* 0x41 is a true bool; lrpx normalises it to 1 */
    ck_assert_uint_eq(((uint8_t *)a->data)[3], 1);
    lrpx_npy_free(a);
}
END_TEST

START_TEST(test_hostile_headers)
{
    static const struct {
        const char *header;
        lrpx_status want;
        const char *needle;
    } cases[] = {
        /* header                                                want              in message */
        { "",                                                     LRPX_EPARSE,      "dict" },
        { "not a dict",                                           LRPX_EPARSE,      "dict" },
        { "{",                                                    LRPX_EPARSE,      "key" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",  LRPX_EPARSE,    "shape" },
        { "{'descr': '<f4', 'fortran_order': False}",             LRPX_EPARSE,      "shape" },
        { "{'descr': '<f4', 'shape': (1,)}",                      LRPX_EPARSE,      "fortran_order" },
        { "{'fortran_order': False, 'shape': (1,)}",              LRPX_EPARSE,      "descr" },
        { HDR("<f4", "False", "(1,)") "junk",                     LRPX_EPARSE,      "after" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
                                                                  LRPX_EPARSE,      "twice" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
                                                                  LRPX_EPARSE,      "extra" },
        { HDR("<f4", "Maybe", "(1,)"),                            LRPX_EPARSE,      "fortran_order" },
        { HDR("<f4", "Falsey", "(1,)"),                           LRPX_EPARSE,      "fortran_order" },
        { HDR("<f4", "False", "(-1,)"),                           LRPX_EPARSE,      "shape" },
        { HDR("<f4", "False", "(1.5,)"),                          LRPX_EPARSE,      "shape" },
        { HDR("<f4", "False", "[1]"),                             LRPX_EPARSE,      "tuple" },
        { HDR("<f4", "False", "(1,,)"),                           LRPX_EPARSE,      "shape" },
        { "{'descr': '<f4\\'', 'fortran_order': False, 'shape': (1,)}", LRPX_EPARSE, "quoted" },
        { "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}", LRPX_EPARSE,    NULL },
        { HDR("<f2", "False", "(1,)"),                            LRPX_EUNSUPPORTED, "<f2" },
        { HDR("<U4", "False", "(1,)"),                            LRPX_EUNSUPPORTED, "<U4" },
        { HDR("O", "False", "(1,)"),                              LRPX_EUNSUPPORTED, "dtype" },
        { HDR(">i8", "False", "(1,)"),                            LRPX_EUNSUPPORTED, "little-endian" },
        { HDR("<f4", "True", "(1,)"),                             LRPX_EUNSUPPORTED, "Fortran" },
        /* rank and overflow */
        { HDR("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"),     LRPX_ELIMIT,      "dimensions" },
        { HDR("<f4", "False", "(99999999999999999999,)"),         LRPX_ELIMIT,      "int64" },
        { HDR("<f4", "False", "(4294967296, 4294967296)"),        LRPX_ELIMIT,      "elements" },
        { HDR("<f8", "False", "(4611686018427387904,)"),          LRPX_ELIMIT,      "overflow" },
        /* a shape far larger than the file: refused before allocating */
        { HDR("<f4", "False", "(1000000000000,)"),                LRPX_EIO,         "truncated" },
        { HDR("<f4", "False", "(3,)"),                            LRPX_EIO,         "truncated" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "h%zu.npy", k);
        /* 8 data bytes: less than every shape above needs except (1,) */
        const char *p = write_npy(name, 1, cases[k].header, -1, 8);
        char        err[1024];
        lrpx_npy   *a  = NULL;
        lrpx_status rc = lrpx_npy_read(p, &a, err, sizeof err);
        ck_assert_msg(rc == cases[k].want, "case %zu %s: got %s (%s), expected %s", k,
                      cases[k].header, lrpx_status_name(rc), err,
                      lrpx_status_name(cases[k].want));
        ck_assert_ptr_null(a);
        ck_assert_msg(strstr(err, p) != NULL, "case %zu: message lacks the path: %s", k, err);
        if (cases[k].needle)
            ck_assert_msg(strstr(err, cases[k].needle) != NULL, "case %zu: message lacks '%s': %s",
                          k, cases[k].needle, err);
    }
}
END_TEST

START_TEST(test_hostile_framing)
{
    const char *ok = HDR("<f4", "False", "(2,)");
    /* trailing data after the array */
    expect_fail(write_npy("t1.npy", 1, ok, -1, 12), LRPX_EPARSE, "after the array");
    /* header length runs past the end of the file */
    expect_fail(write_npy("t2.npy", 1, ok, 60000, 0), LRPX_EPARSE, "past the end");
    expect_fail(write_npy("t3.npy", 2, ok, 0x7fffffff, 0), LRPX_ELIMIT, "limit");
    /* header length shorter than the text: the dict is cut */
    expect_fail(write_npy("t4.npy", 1, ok, 20, 0), LRPX_EPARSE, NULL);
    /* unknown major version */
    expect_fail(write_npy("t5.npy", 4, ok, -1, 8), LRPX_EUNSUPPORTED, "version");
    /* NUL inside the header */
    expect_fail(write_npy_n("t6.npy", 1, "{'descr': '<f4'\0 }", 18, -1, 8), LRPX_EPARSE, "NUL");

    /* bad magic, empty file, cut inside the prelude */
    lrpx_test_write_file(scratch_path("m1.npy"), "\x93NUMPX\x01\x00\x10\x00xxxxxxxxxxxxxxxx", 26);
    expect_fail(scratch_path("m1.npy"), LRPX_EPARSE, "magic");
    lrpx_test_write_file(scratch_path("m2.npy"), "", 0);
    expect_fail(scratch_path("m2.npy"), LRPX_EPARSE, "short");
    lrpx_test_write_file(scratch_path("m3.npy"), "\x93NUMPY\x02\x00\x10", 9);
    expect_fail(scratch_path("m3.npy"), LRPX_EPARSE, "short");
    /* a folder is not a file */
    expect_fail(scratch, LRPX_EIO, NULL);
}
END_TEST

/* A FIFO is refused at once instead of waiting for a writer. Checked in a
 * child with an alarm, so a hang cannot stall the run (also with CK_FORK=no). */
START_TEST(test_fifo_does_not_hang)
{
    const char *p = scratch_path("fifo.npy");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Check's own SIGALRM handler is inherited: it would kill the
         * whole process group, so restore the default first */
        signal(SIGALRM, SIG_DFL);
        alarm(10);
        lrpx_npy   *a  = NULL;
        char        err[1024];
        lrpx_status rc = lrpx_npy_read(p, &a, err, sizeof err);
        _exit(rc == LRPX_EIO && a == NULL && strstr(err, "regular") ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "lrpx_npy_read on a FIFO hung or crashed (signal %d)",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "lrpx_npy_read on a FIFO did not return LRPX_EIO 'not a regular file'");
}
END_TEST

/* Every prefix of a valid file fails cleanly (never crashes, never OK). */
START_TEST(test_every_truncation)
{
    size_t         len;
    unsigned char *raw = lrpx_test_read_file(lrpx_test_path("npy/f8.npy"), &len);
    for (size_t cut = 0; cut < len; cut++) {
        const char *p = scratch_path("cut.npy");
        lrpx_test_write_file(p, raw, cut);
        char        err[1024];
        lrpx_npy   *a  = NULL;
        lrpx_status rc = lrpx_npy_read(p, &a, err, sizeof err);
        ck_assert_msg(rc == LRPX_EIO || rc == LRPX_EPARSE, "cut at %zu: %s (%s)", cut,
                      lrpx_status_name(rc), err);
        ck_assert_ptr_null(a);
    }
    free(raw);
}
END_TEST

START_TEST(test_null_arguments)
{
    char      err[64];
    lrpx_npy *a;
    ck_assert_int_eq(lrpx_npy_read(NULL, &a, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(lrpx_npy_read("x.npy", NULL, err, sizeof err), LRPX_EINVAL);
    /* tiny message buffers are truncated, not overrun */
    char tiny[8];
    memset(tiny, 'z', sizeof tiny);
    ck_assert_int_eq(lrpx_npy_read("/nonexistent/x.npy", &a, tiny, 4), LRPX_EIO);
    ck_assert_uint_eq(strlen(tiny), 3);
    ck_assert_int_eq(tiny[5], 'z');
    lrpx_npy_free(NULL);
}
END_TEST

/* OOM: every allocation of a read can fail; each failure is ENOMEM. */
START_TEST(test_read_oom)
{
    const char *path = lrpx_test_path("npy/i4.npy");
    for (int64_t n = 1; n < 100; n++) {
        lrpx__alloc_fail_after(n);
        char        err[1024];
        lrpx_npy   *a  = NULL;
        lrpx_status rc = lrpx_npy_read(path, &a, err, sizeof err);
        lrpx__alloc_fail_after(0);
        if (rc == LRPX_OK) {
            ck_assert_int_gt(n, 1);
            lrpx_npy_free(a);
            return;
        }
        ck_assert_msg(rc == LRPX_ENOMEM, "fail at %lld: %s (%s)", (long long)n,
                      lrpx_status_name(rc), err);
        ck_assert_ptr_null(a);
    }
    ck_abort_msg("read never succeeded");
}
END_TEST

static Suite *
npy_suite(void)
{
    Suite *s  = suite_create("npy");
    TCase *tc = tcase_create("read");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_read_numpy_files, 0,
                        (int)(sizeof ref_files / sizeof ref_files[0]));
    tcase_add_test(tc, test_read_scalar_vector_empty);
    tcase_add_test(tc, test_read_unsupported_numpy_files);
    tcase_add_test(tc, test_hand_written_good_headers);
    tcase_add_test(tc, test_hostile_headers);
    tcase_add_test(tc, test_hostile_framing);
    tcase_add_test(tc, test_fifo_does_not_hang);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_null_arguments);
    tcase_add_test(tc, test_read_oom);
    suite_add_tcase(s, tc);

    tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_round_trip, 0, (int)(sizeof rt_types / sizeof rt_types[0]));
    tcase_add_test(tc, test_write_errors);
    tcase_add_test(tc, test_write_atomic_replace);
    tcase_add_test(tc, test_write_no_sync);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(npy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
