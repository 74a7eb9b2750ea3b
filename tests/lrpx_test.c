/* Helpers shared by the Check test programs; see lrpx_test.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lrpx_test.h"
#include "onnx.pb-c.h"

/* ---- paths ---- */

void
lrpx_test_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < size, "path or text too long (%d bytes, buffer %zu): %s",
                  n, size, buf);
}

static char *
path_slot(void)
{
    static char slots[8][LRPX_TEST_PATH_MAX];
    static int  next;
    char       *s = slots[next];
    next = (next + 1) % 8;
    return s;
}

const char *
lrpx_test_path(const char *rel)
{
    const char *root = getenv("LRPX_TESTDATA");
    ck_assert_msg(root && *root, "LRPX_TESTDATA is not set (run the tests with meson test)");
    char *s = path_slot();
    lrpx_test_snprintf(s, LRPX_TEST_PATH_MAX, "%s/%s", root, rel);
    return s;
}

static const char *
onnx_data_root(void)
{
    const char *root = getenv("LRPX_ONNX_TESTDATA");
    return root && *root ? root : LRPX_TEST_ONNX_DATA;
}

const char *
lrpx_test_onnx_data(const char *rel)
{
    char *s = path_slot();
    lrpx_test_snprintf(s, LRPX_TEST_PATH_MAX, "%s/%s", onnx_data_root(), rel);
    return s;
}

bool
lrpx_test_have_onnx_data(void)
{
    struct stat st;
    return stat(onnx_data_root(), &st) == 0 && S_ISDIR(st.st_mode);
}

/* Scratch folders still to remove at exit, for tests that make one without
 * a teardown. (A failing check in a forked Check test ends it with _exit(),
 * which skips this hook and the teardown: failed tests leave their folder
 * behind for inspection.) */
#define MAX_TMPDIRS 16
static char tmpdirs[MAX_TMPDIRS][LRPX_TEST_PATH_MAX];
static bool tmpdirs_hooked;

static void
tmpdirs_cleanup(void)
{
    for (int i = 0; i < MAX_TMPDIRS; i++)
        if (tmpdirs[i][0]) {
            char dir[LRPX_TEST_PATH_MAX];      /* rmtree clears the slot */
            memcpy(dir, tmpdirs[i], sizeof dir);
            lrpx_test_rmtree(dir);
        }
}

void
lrpx_test_tmpdir(char *buf, size_t size)
{
    const char *t = getenv("TMPDIR");
    lrpx_test_snprintf(buf, size, "%s/lrpx-test-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp %s: %s", buf, strerror(errno));
    for (int i = 0; i < MAX_TMPDIRS; i++)
        if (!tmpdirs[i][0]) {
            snprintf(tmpdirs[i], sizeof tmpdirs[i], "%s", buf);
            break;
        }
    if (!tmpdirs_hooked) {
        atexit(tmpdirs_cleanup);
        tmpdirs_hooked = true;
    }
}

void
lrpx_test_rmtree(const char *dir)
{
    for (int i = 0; i < MAX_TMPDIRS; i++)
        if (tmpdirs[i][0] && strcmp(tmpdirs[i], dir) == 0)
            tmpdirs[i][0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char        p[LRPX_TEST_PATH_MAX];
        struct stat st;
        lrpx_test_snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            lrpx_test_rmtree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void
lrpx_test_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    size_t w  = len ? fwrite(buf, 1, len, f) : 0;
    int    rc = fclose(f);
    ck_assert_msg(w == len && rc == 0, "cannot write %s", path);
}

void *
lrpx_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    ck_assert(n >= 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t r = fread(buf, 1, (size_t)n, f);
    fclose(f);
    ck_assert_msg(r == (size_t)n, "short read on %s", path);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* ---- scratch folder of a test ---- */

static char scratch_dir[LRPX_TEST_PATH_MAX];

void
lrpx_test_scratch_setup(void)
{
    lrpx_test_tmpdir(scratch_dir, sizeof scratch_dir);
}

void
lrpx_test_scratch_teardown(void)
{
    lrpx_test_rmtree(scratch_dir);
    scratch_dir[0] = '\0';
}

const char *
lrpx_test_scratch(const char *name)
{
    ck_assert_msg(scratch_dir[0], "no scratch folder: add the lrpx_test_scratch_setup fixture");
    if (!name)
        return scratch_dir;
    char *s = path_slot();
    lrpx_test_snprintf(s, LRPX_TEST_PATH_MAX, "%s/%s", scratch_dir, name);
    return s;
}

/* ---- calls that might hang ---- */

void
lrpx_test_in_child(const char *what, unsigned seconds, int (*fn)(const void *arg),
                   const void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* Check's own SIGALRM handler is inherited: it would kill the
         * whole process group, so restore the default first */
        signal(SIGALRM, SIG_DFL);
        alarm(seconds);
        _exit(fn(arg) == 0 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "%s hung or crashed (signal %d)", what,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (see above)", what);
}

/* ---- comparisons ---- */

static bool
dtype_is_float(lrpx_dtype t)
{
    return t == LRPX_DTYPE_FLOAT32 || t == LRPX_DTYPE_FLOAT64;
}

static double
elem_f64(lrpx_dtype t, const void *p, int64_t i)
{
    return t == LRPX_DTYPE_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static bool
elem_i64(lrpx_dtype t, const void *p, int64_t i, int64_t *v)
{
    switch (t) {
    case LRPX_DTYPE_INT64:  *v = ((const int64_t *)p)[i]; return true;
    case LRPX_DTYPE_INT32:  *v = ((const int32_t *)p)[i]; return true;
    case LRPX_DTYPE_INT16:  *v = ((const int16_t *)p)[i]; return true;
    case LRPX_DTYPE_INT8:   *v = ((const int8_t *)p)[i]; return true;
    case LRPX_DTYPE_UINT8:
    case LRPX_DTYPE_BOOL:   *v = ((const uint8_t *)p)[i]; return true;
    case LRPX_DTYPE_UINT16: *v = ((const uint16_t *)p)[i]; return true;
    case LRPX_DTYPE_UINT32: *v = ((const uint32_t *)p)[i]; return true;
    case LRPX_DTYPE_UINT64: *v = (int64_t)((const uint64_t *)p)[i]; return true;
    default:                return false;
    }
}

static void
index_str(int64_t flat, const int64_t *dims, int rank, char *buf, size_t size)
{
    if (!dims || rank <= 0) {
        snprintf(buf, size, "[%lld]", (long long)flat);
        return;
    }
    int64_t idx[LRPX_MAX_RANK];
    int64_t r = flat;
    for (int d = rank - 1; d >= 0; d--) {
        int64_t dim = dims[d] > 0 ? dims[d] : 1;
        idx[d] = r % dim;
        r /= dim;
    }
    size_t off = 0;
    off += (size_t)snprintf(buf + off, size - off, "[");
    for (int d = 0; d < rank && off < size; d++)
        off += (size_t)snprintf(buf + off, size - off, d ? ",%lld" : "%lld", (long long)idx[d]);
    if (off < size)
        snprintf(buf + off, size - off, "] (flat %lld)", (long long)flat);
}

bool
lrpx_test_compare(lrpx_dtype dtype, const void *actual, const void *expected, int64_t n,
                  const int64_t *dims, int rank, double rtol, double atol, char *msg,
                  size_t msg_size)
{
    if (msg_size)
        msg[0] = '\0';
    if (n == 0)
        return true;
    if (!actual || !expected) {
        snprintf(msg, msg_size, "%s data pointer is NULL", !actual ? "actual" : "expected");
        return false;
    }
    char    idx[160];
    int64_t n_bad = 0, worst = -1;

    if (dtype_is_float(dtype)) {
        double worst_excess = -1.0;
        for (int64_t i = 0; i < n; i++) {
            double a = elem_f64(dtype, actual, i), e = elem_f64(dtype, expected, i);
            double excess;
            if (isnan(a) || isnan(e)) {
                if (isnan(a) && isnan(e))
                    continue;
                excess = INFINITY;
            } else if (isinf(a) || isinf(e)) {
                if (a == e)
                    continue;
                excess = INFINITY;
            } else {
                double diff = fabs(a - e), tol = atol + rtol * fabs(e);
                if (diff <= tol)
                    continue;
                excess = diff - tol;
            }
            n_bad++;
            if (excess > worst_excess) {
                worst_excess = excess;
                worst        = i;
            }
        }
        if (n_bad == 0)
            return true;
        double a = elem_f64(dtype, actual, worst), e = elem_f64(dtype, expected, worst);
        index_str(worst, dims, rank, idx, sizeof idx);
        snprintf(msg, msg_size,
                 "%lld of %lld elements differ; worst at %s: actual %.9g, expected %.9g, "
                 "|diff| %.3g > tol %.3g (rtol %g, atol %g)",
                 (long long)n_bad, (long long)n, idx, a, e, fabs(a - e), atol + rtol * fabs(e),
                 rtol, atol);
        return false;
    }

    int64_t probe;
    if (!elem_i64(dtype, actual, 0, &probe)) {
        snprintf(msg, msg_size, "cannot compare dtype %s", lrpx_dtype_name(dtype));
        return false;
    }
    uint64_t worst_diff = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t a, e;
        elem_i64(dtype, actual, i, &a);
        elem_i64(dtype, expected, i, &e);
        if (a == e)
            continue;
        n_bad++;
        uint64_t d = a > e ? (uint64_t)a - (uint64_t)e : (uint64_t)e - (uint64_t)a;
        if (worst < 0 || d > worst_diff) {
            worst_diff = d;
            worst      = i;
        }
    }
    if (n_bad == 0)
        return true;
    int64_t a, e;
    elem_i64(dtype, actual, worst, &a);
    elem_i64(dtype, expected, worst, &e);
    index_str(worst, dims, rank, idx, sizeof idx);
    snprintf(msg, msg_size, "%lld of %lld elements differ (%s, exact); worst at %s: "
                            "actual %lld, expected %lld",
             (long long)n_bad, (long long)n, lrpx_dtype_name(dtype), idx, (long long)a,
             (long long)e);
    return false;
}

bool
lrpx_test_view_cmp(const lrpx_tensor_view *view, const struct lrpx_tensor *expected,
                   double rtol, double atol, char *msg, size_t msg_size)
{
    char da[128], de[128];
    if (view->dtype != expected->dtype) {
        snprintf(msg, msg_size, "dtype %s, expected %s", lrpx_dtype_name(view->dtype),
                 lrpx_dtype_name(expected->dtype));
        return false;
    }
    bool same = view->rank == expected->rank;
    for (int i = 0; same && i < view->rank; i++)
        same = view->dims[i] == expected->dims[i];
    if (!same) {
        snprintf(msg, msg_size, "shape %s, expected %s",
                 lrpx__dims_str(view->dims, view->rank, da, sizeof da),
                 lrpx__dims_str(expected->dims, expected->rank, de, sizeof de));
        return false;
    }
    return lrpx_test_compare(view->dtype, view->data, expected->data, expected->n_elems,
                             expected->dims, expected->rank, rtol, atol, msg, msg_size);
}

/* ---- files ---- */

lrpx_npy *
lrpx_test_npy_load(const char *path)
{
    char      err[1024];
    lrpx_npy *npy = NULL;
    lrpx_status rc = lrpx_npy_read(path, &npy, err, sizeof err);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", lrpx_status_name(rc), err);
    return npy;
}

struct lrpx_tensor
lrpx_test_npy_tensor(const lrpx_npy *npy)
{
    struct lrpx_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype   = npy->dtype;
    t.rank    = npy->rank;
    t.n_elems = npy->n_elems;
    for (int i = 0; i < npy->rank; i++)
        t.dims[i] = npy->dims[i];
    t.data = npy->data;
    return t;
}

/* ---- in-memory ONNX models ---- */

/* Every protobuf struct, string and array of the model comes from tm_alloc
 * and is listed in `allocs`; graph-level lists grow in vecs. Nothing is
 * freed through protobuf-c, so there is no question of who owns what. */
struct vec {
    void  **p;
    size_t  n, cap;
};

struct lrpx_test_model {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    struct vec       opsets, nodes, inputs, outputs, inits, vinfo;
    struct vec       allocs;
};

static void
vec_push(struct vec *v, void *x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **p   = realloc(v->p, cap * sizeof *p);
        ck_assert_ptr_nonnull(p);
        v->p   = p;
        v->cap = cap;
    }
    v->p[v->n++] = x;
}

static void *
tm_alloc(lrpx_test_model *m, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    ck_assert_ptr_nonnull(p);
    vec_push(&m->allocs, p);
    return p;
}

static char *
tm_strdup(lrpx_test_model *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char  *d = tm_alloc(m, n);
    memcpy(d, s, n);
    return d;
}

static void *
tm_memdup(lrpx_test_model *m, const void *src, size_t n)
{
    void *d = tm_alloc(m, n);
    if (n)
        memcpy(d, src, n);
    return d;
}

static int64_t
ir_for_opset(int64_t opset)
{
    /* onnx/helper.py VERSION_TABLE: the IR version each opset came with */
    if (opset <= 6)  return 3;
    if (opset <= 8)  return 3;
    if (opset == 9)  return 4;
    if (opset == 10) return 5;
    if (opset == 11) return 6;
    if (opset <= 14) return 7;
    return 8;
}

lrpx_test_model *
lrpx_test_model_new(int64_t opset)
{
    lrpx_test_model *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    onnx__model_proto__init(&m->model);
    onnx__graph_proto__init(&m->graph);
    m->model.has_ir_version = 1;
    m->model.ir_version     = ir_for_opset(opset);
    m->model.producer_name  = tm_strdup(m, "lrpx-test");
    m->model.graph          = &m->graph;
    m->graph.name           = tm_strdup(m, "test");
    lrpx_test_model_opset_import(m, "", opset);
    return m;
}

void
lrpx_test_model_free(lrpx_test_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->allocs.n; i++)
        free(m->allocs.p[i]);
    free(m->allocs.p);
    free(m->opsets.p);
    free(m->nodes.p);
    free(m->inputs.p);
    free(m->outputs.p);
    free(m->inits.p);
    free(m->vinfo.p);
    free(m);
}

void
lrpx_test_model_set_ir_version(lrpx_test_model *m, int64_t ir_version)
{
    m->model.ir_version = ir_version;
}

void
lrpx_test_model_opset_import(lrpx_test_model *m, const char *domain, int64_t version)
{
    Onnx__OperatorSetIdProto *o = tm_alloc(m, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain      = tm_strdup(m, domain);
    o->has_version = 1;
    o->version     = version;
    vec_push(&m->opsets, o);
}

static Onnx__TypeProto *
make_type(lrpx_test_model *m, lrpx_dtype dtype, int rank, const int64_t *dims,
          const char *const *dim_params)
{
    ck_assert_int_le(rank, LRPX_MAX_RANK);
    Onnx__TypeProto         *t  = tm_alloc(m, sizeof *t);
    Onnx__TypeProto__Tensor *tt = tm_alloc(m, sizeof *tt);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    t->value_case    = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type   = tt;
    tt->has_elem_type = 1;
    tt->elem_type    = (int32_t)dtype;
    if (rank < 0)
        return t;
    Onnx__TensorShapeProto *s = tm_alloc(m, sizeof *s);
    onnx__tensor_shape_proto__init(s);
    s->n_dim = (size_t)rank;
    s->dim   = tm_alloc(m, (size_t)rank * sizeof *s->dim);
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = tm_alloc(m, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value  = dims[i];
        } else {
            char sym[32];
            snprintf(sym, sizeof sym, "N%d", i);
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param  = tm_strdup(m, dim_params && dim_params[i] ? dim_params[i] : sym);
        }
        s->dim[i] = d;
    }
    tt->shape = s;
    return t;
}

static Onnx__ValueInfoProto *
make_value_info(lrpx_test_model *m, const char *name, Onnx__TypeProto *type)
{
    Onnx__ValueInfoProto *v = tm_alloc(m, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = tm_strdup(m, name);
    v->type = type;
    return v;
}

void
lrpx_test_model_input(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                      const int64_t *dims)
{
    lrpx_test_model_input_sym(m, name, dtype, rank, dims, NULL);
}

void
lrpx_test_model_input_sym(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                          const int64_t *dims, const char *const *dim_params)
{
    vec_push(&m->inputs, make_value_info(m, name, make_type(m, dtype, rank, dims, dim_params)));
}

void
lrpx_test_model_output(lrpx_test_model *m, const char *name)
{
    vec_push(&m->outputs, make_value_info(m, name, NULL));
}

void
lrpx_test_model_output_typed(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                             const int64_t *dims)
{
    vec_push(&m->outputs, make_value_info(m, name, make_type(m, dtype, rank, dims, NULL)));
}

void
lrpx_test_model_value_info(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                           const int64_t *dims)
{
    vec_push(&m->vinfo, make_value_info(m, name, make_type(m, dtype, rank, dims, NULL)));
}

/* A TensorProto with name, type and dims, no data yet. */
static Onnx__TensorProto *
make_tensor(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
            const int64_t *dims, int64_t *n_elems)
{
    ck_assert_int_ge(rank, 0);
    Onnx__TensorProto *t = tm_alloc(m, sizeof *t);
    onnx__tensor_proto__init(t);
    if (name)
        t->name = tm_strdup(m, name);
    t->has_data_type = 1;
    t->data_type     = (int32_t)dtype;
    t->n_dims        = (size_t)rank;
    t->dims          = tm_memdup(m, dims, (size_t)rank * sizeof *dims);
    /* the product may overflow on purpose (malformed-model tests) */
    uint64_t n = 1;
    for (int i = 0; i < rank; i++)
        n = dims[i] >= 0 && n < ((uint64_t)1 << 40) ? n * (uint64_t)dims[i] : ((uint64_t)1 << 40);
    *n_elems = (int64_t)n;
    return t;
}

static size_t
data_bytes(lrpx_dtype dtype, int64_t n)
{
    size_t es = lrpx_dtype_size(dtype);
    ck_assert_msg(es > 0, "dtype %s has no element size", lrpx_dtype_name(dtype));
    ck_assert_msg(n >= 0 && n < ((int64_t)1 << 31), "tensor too large for a test (%lld)",
                  (long long)n);
    return (size_t)n * es;
}

static Onnx__TensorProto *
make_tensor_raw(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                const int64_t *dims, const void *data)
{
    int64_t            n;
    Onnx__TensorProto *t     = make_tensor(m, name, dtype, rank, dims, &n);
    size_t             bytes = data_bytes(dtype, n);
    t->has_raw_data   = 1;
    t->raw_data.len   = bytes;
    t->raw_data.data  = tm_memdup(m, data, bytes);
    return t;
}

void
lrpx_test_model_init(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                     const int64_t *dims, const void *data)
{
    vec_push(&m->inits, make_tensor_raw(m, name, dtype, rank, dims, data));
}

void
lrpx_test_model_init_f32(lrpx_test_model *m, const char *name, int rank, const int64_t *dims,
                         const float *data)
{
    int64_t            n;
    Onnx__TensorProto *t = make_tensor(m, name, LRPX_DTYPE_FLOAT32, rank, dims, &n);
    t->n_float_data      = (size_t)n;
    t->float_data        = tm_memdup(m, data, data_bytes(LRPX_DTYPE_FLOAT32, n));
    vec_push(&m->inits, t);
}

void
lrpx_test_model_init_i64(lrpx_test_model *m, const char *name, int rank, const int64_t *dims,
                         const int64_t *data)
{
    int64_t            n;
    Onnx__TensorProto *t = make_tensor(m, name, LRPX_DTYPE_INT64, rank, dims, &n);
    t->n_int64_data      = (size_t)n;
    t->int64_data        = tm_memdup(m, data, data_bytes(LRPX_DTYPE_INT64, n));
    vec_push(&m->inits, t);
}

void
lrpx_test_model_init_raw(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                         const int64_t *dims, const void *raw, size_t raw_len)
{
    int64_t            n;
    Onnx__TensorProto *t = make_tensor(m, name, dtype, rank, dims, &n);
    t->has_raw_data      = 1;
    t->raw_data.len      = raw_len;
    t->raw_data.data     = tm_memdup(m, raw, raw_len);
    vec_push(&m->inits, t);
}

static Onnx__StringStringEntryProto *
make_entry(lrpx_test_model *m, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = tm_alloc(m, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key   = tm_strdup(m, key);
    e->value = tm_strdup(m, value);
    return e;
}

void
lrpx_test_model_init_external(lrpx_test_model *m, const char *name, lrpx_dtype dtype, int rank,
                              const int64_t *dims, const char *location, int64_t offset,
                              int64_t length)
{
    int64_t            n;
    Onnx__TensorProto *t = make_tensor(m, name, dtype, rank, dims, &n);
    char               num[32];
    t->has_data_location = 1;
    t->data_location     = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data     = tm_alloc(m, 3 * sizeof *t->external_data);
    t->external_data[t->n_external_data++] = make_entry(m, "location", location);
    if (offset >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)offset);
        t->external_data[t->n_external_data++] = make_entry(m, "offset", num);
    }
    if (length >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)length);
        t->external_data[t->n_external_data++] = make_entry(m, "length", num);
    }
    vec_push(&m->inits, t);
}

static Onnx__AttributeProto *
make_attr(lrpx_test_model *m, const lrpx_test_attr *a)
{
    Onnx__AttributeProto *p = tm_alloc(m, sizeof *p);
    onnx__attribute_proto__init(p);
    p->name     = tm_strdup(m, a->name);
    p->has_type = 1;
    switch (a->type) {
    case LT_ATTR_INT:
        p->type  = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        p->has_i = 1;
        p->i     = a->i;
        break;
    case LT_ATTR_FLOAT:
        p->type  = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        p->has_f = 1;
        p->f     = a->f;
        break;
    case LT_ATTR_STRING:
        p->type   = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        p->has_s  = 1;
        p->s.len  = strlen(a->s);
        p->s.data = tm_memdup(m, a->s, p->s.len);
        break;
    case LT_ATTR_INTS:
        p->type   = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        p->n_ints = (size_t)a->n;
        p->ints   = tm_memdup(m, a->ints, (size_t)a->n * sizeof *a->ints);
        break;
    case LT_ATTR_FLOATS:
        p->type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        p->n_floats = (size_t)a->n;
        p->floats   = tm_memdup(m, a->floats, (size_t)a->n * sizeof *a->floats);
        break;
    case LT_ATTR_STRINGS:
        p->type      = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
        p->n_strings = (size_t)a->n;
        p->strings   = tm_alloc(m, (size_t)a->n * sizeof *p->strings);
        for (int i = 0; i < a->n; i++) {
            p->strings[i].len  = strlen(a->strings[i]);
            p->strings[i].data = tm_memdup(m, a->strings[i], p->strings[i].len);
        }
        break;
    case LT_ATTR_TENSOR:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
        p->t    = make_tensor_raw(m, NULL, a->dtype, a->rank, a->dims, a->data);
        break;
    default:
        ck_abort_msg("attribute '%s': unknown LT_ATTR type %d", a->name, (int)a->type);
    }
    return p;
}

static char **
copy_names(lrpx_test_model *m, const char *const *names, size_t *n)
{
    size_t k = 0;
    while (names && names[k])
        k++;
    char **out = tm_alloc(m, (k ? k : 1) * sizeof *out);
    for (size_t i = 0; i < k; i++)
        out[i] = tm_strdup(m, names[i]);
    *n = k;
    return out;
}

static void
add_node(lrpx_test_model *m, const char *domain, const char *op_type, const char *name,
         const char *const *inputs, const char *const *outputs, va_list ap)
{
    Onnx__NodeProto *node = tm_alloc(m, sizeof *node);
    onnx__node_proto__init(node);
    node->op_type = tm_strdup(m, op_type);
    if (name)
        node->name = tm_strdup(m, name);
    if (domain)
        node->domain = tm_strdup(m, domain);
    node->input  = copy_names(m, inputs, &node->n_input);
    node->output = copy_names(m, outputs, &node->n_output);

    const lrpx_test_attr *attrs[64];
    size_t                n_attrs = 0;
    const lrpx_test_attr *a;
    while ((a = va_arg(ap, const lrpx_test_attr *)) != NULL) {
        ck_assert_msg(n_attrs < 64, "node '%s': too many attributes", name ? name : op_type);
        attrs[n_attrs++] = a;
    }
    node->n_attribute = n_attrs;
    node->attribute   = tm_alloc(m, (n_attrs ? n_attrs : 1) * sizeof *node->attribute);
    for (size_t i = 0; i < n_attrs; i++)
        node->attribute[i] = make_attr(m, attrs[i]);
    vec_push(&m->nodes, node);
}

void
lrpx_test_model_node(lrpx_test_model *m, const char *op_type, const char *name,
                     const char *const *inputs, const char *const *outputs, ...)
{
    va_list ap;
    va_start(ap, outputs);
    add_node(m, NULL, op_type, name, inputs, outputs, ap);
    va_end(ap);
}

void
lrpx_test_model_node_domain(lrpx_test_model *m, const char *domain, const char *op_type,
                            const char *name, const char *const *inputs,
                            const char *const *outputs, ...)
{
    va_list ap;
    va_start(ap, outputs);
    add_node(m, domain, op_type, name, inputs, outputs, ap);
    va_end(ap);
}

void
lrpx_test_model_serialize(lrpx_test_model *m, uint8_t **buf, size_t *len)
{
    m->model.n_opset_import = m->opsets.n;
    m->model.opset_import   = (Onnx__OperatorSetIdProto **)m->opsets.p;
    m->graph.n_node         = m->nodes.n;
    m->graph.node           = (Onnx__NodeProto **)m->nodes.p;
    m->graph.n_input        = m->inputs.n;
    m->graph.input          = (Onnx__ValueInfoProto **)m->inputs.p;
    m->graph.n_output       = m->outputs.n;
    m->graph.output         = (Onnx__ValueInfoProto **)m->outputs.p;
    m->graph.n_initializer  = m->inits.n;
    m->graph.initializer    = (Onnx__TensorProto **)m->inits.p;
    m->graph.n_value_info   = m->vinfo.n;
    m->graph.value_info     = (Onnx__ValueInfoProto **)m->vinfo.p;

    size_t   n = onnx__model_proto__get_packed_size(&m->model);
    uint8_t *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    size_t w = onnx__model_proto__pack(&m->model, b);
    ck_assert_uint_eq(w, n);
    *buf = b;
    *len = n;
}

void
lrpx_test_model_save(lrpx_test_model *m, const char *path)
{
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    lrpx_test_write_file(path, buf, len);
    free(buf);
}

lrpx_status
lrpx_test_model_load(lrpx_test_model *m, lrpx_model **out)
{
    uint8_t *buf;
    size_t   len;
    lrpx_test_model_serialize(m, &buf, &len);
    lrpx_status rc = lrpx_model_load_buffer(buf, len, NULL, NULL, out);
    free(buf);
    return rc;
}

/* ---- running ---- */

int
lrpx_test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void
lrpx_test_run_f32(lrpx_test_model *m, int rank, const int64_t *dims, const float *x,
                  lrpx_model **model, lrpx_session **session)
{
    *model   = NULL;
    *session = NULL;
    lrpx_status rc = lrpx_test_model_load(m, model);
    ck_assert_msg(rc == LRPX_OK, "load: %s: %s", lrpx_status_name(rc),
                  *model ? lrpx_model_errmsg(*model) : "(no handle)");
    rc = lrpx_session_init(*model, session);
    ck_assert_msg(rc == LRPX_OK, "session_init: %s: %s", lrpx_status_name(rc),
                  *session ? lrpx_session_errmsg(*session) : lrpx_model_errmsg(*model));
    rc = lrpx_session_set_input(*session, NULL, LRPX_DTYPE_FLOAT32, rank, dims, x);
    ck_assert_msg(rc == LRPX_OK, "set_input: %s: %s", lrpx_status_name(rc),
                  lrpx_session_errmsg(*session));
    rc = lrpx_session_run(*session);
    ck_assert_msg(rc == LRPX_OK, "run: %s: %s", lrpx_status_name(rc),
                  lrpx_session_errmsg(*session));
}

double
lrpx_test_rel_err_f32(const float *a, const float *ref, int64_t n)
{
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)ref[i]));
        e = fmax(e, fabs((double)a[i] - ref[i]));
    }
    return m > 0 ? e / m : e;
}

/* ---- the command-line tool ---- */

extern char **environ;

void
lrpx_test_read_text(const char *path, char *buf, size_t size)
{
    buf[0]  = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n]   = '\0';
    fclose(f);
}

int
lrpx_test_run_cli(const char *dir, char *out, size_t out_size, char *err, size_t err_size,
                  const char *const *args)
{
    const char *cli = getenv("LRPX_CLI");
    ck_assert_msg(cli && *cli, "LRPX_CLI is not set (run the tests with meson test)");
    const char *argv[128];
    int         n = 0;
    argv[n++]     = cli;
    for (int i = 0; args[i]; i++) {
        ck_assert_msg(n < 127, "too many arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char so[LRPX_TEST_PATH_MAX + 16], se[LRPX_TEST_PATH_MAX + 16];
    lrpx_test_snprintf(so, sizeof so, "%s/.stdout", dir);
    lrpx_test_snprintf(se, sizeof se, "%s/.stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, so, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, se, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int   rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_msg(rc == 0, "posix_spawn %s: %s", argv[0], strerror(rc));
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    lrpx_test_read_text(so, out, out_size);
    lrpx_test_read_text(se, err, err_size);
    unlink(so);
    unlink(se);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

cJSON *
lrpx_test_json_load(const char *rel)
{
    size_t len;
    char  *text = lrpx_test_read_file(lrpx_test_path(rel), &len);
    cJSON *j    = cJSON_ParseWithLength(text, len);
    free(text);
    ck_assert_msg(j, "%s: not JSON", rel);
    return j;
}

double
lrpx_test_json_number(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(j), "no number \"%s\"", key);
    return j->valuedouble;
}

/* ---- random numbers ---- */

static uint64_t test_rng_state;

void
lrpx_test_rng_seed(uint64_t seed)
{
    test_rng_state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
}

double
lrpx_test_uniform(double lo, double hi)
{
    test_rng_state ^= test_rng_state << 13;
    test_rng_state ^= test_rng_state >> 7;
    test_rng_state ^= test_rng_state << 17;
    return lo + (hi - lo) * (double)(test_rng_state >> 11) / 9007199254740992.0;
}

void
lrpx_test_fill(float *a, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)lrpx_test_uniform(lo, hi);
}
