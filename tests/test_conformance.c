/* Suite "conformance": the ONNX backend test data
 * (/usr/share/libonnx-testdata/data/{node,pytorch-converted,pytorch-operator,
 * simple}, Debian package libonnx-testdata) run through lrpx.
 *
 * Every test folder holds model.onnx and test_data_set_N/{input,output}_N.pb
 * (serialized TensorProtos written by the ONNX project from NumPy
 * references). For each folder: load the model, bind input_N.pb to the
 * model's N-th fed input, run, and compare output_N.pb with output N:
 * same dtype and shape, |a - e| <= atol + rtol |e| for floats (NaN equals
 * NaN), exact for integers and bools.
 *
 * A test is SKIPPED, not failed, when lrpx reports LRPX_EUNSUPPORTED and the
 * model uses an op that is not in lrpx's op table, when its inputs or outputs
 * are not plain tensors (sequences, optionals, maps) or when the data files
 * hold types lrpx does not read (float16, strings), and when it is listed in
 * skip_list below. Everything else that does not match is a FAILURE, and
 * the Check test fails if there is any.
 *
 * Environment:
 *   LRPX_CONFORMANCE_FILTER=substr   only tests whose name contains substr
 *   LRPX_CONFORMANCE_LIST=1          also print a Markdown table of results
 *   LRPX_CONFORMANCE_TIMEOUT=s       time limit per model (default 120 s)
 *   LRPX_ONNX_TESTDATA=dir           another copy of the data folder
 *
 * Unless CK_FORK=no, every test runs in a child process with a time limit,
 * so a crash or hang is reported as that test's failure.
 * See docs/conformance.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lrpx_test.h"
#include "onnx.pb-c.h"
#include "onnx/tensor_pb.h"
#include "core/op.h"

#define CONF_RTOL          1e-4
#define CONF_ATOL          1e-5
#define CONF_TIME_LIMIT_S  120     /* per model; LRPX_CONFORMANCE_TIMEOUT overrides */

static const char *const conf_dirs[] = { "node", "pytorch-converted", "pytorch-operator",
                                         "simple" };

/* Tests skipped on purpose. "test" is a folder name ("test_x"), a
 * qualified one ("node/test_x"), or either with a trailing '*' to match a
 * prefix ("test_cast_FLOAT16*"). Give the reason; keep it sorted. */
static const struct {
    const char *test;
    const char *reason;
} skip_list[] = {
    /* test                              reason */
    { "test_batchnorm_epsilon_training_mode", "training mode (batch statistics); lrpx is inference-only" },
    { "test_batchnorm_example_training_mode", "training mode (batch statistics); lrpx is inference-only" },
    { "test_cast_BFLOAT16_to_FLOAT",     "bfloat16 is not supported" },
    { "test_cast_DOUBLE_to_FLOAT16",     "float16 is not supported" },
    { "test_cast_FLOAT16_to_DOUBLE",     "float16 is not supported" },
    { "test_cast_FLOAT16_to_FLOAT",      "float16 is not supported" },
    { "test_cast_FLOAT_to_BFLOAT16",     "bfloat16 is not supported" },
    { "test_cast_FLOAT_to_FLOAT16",      "float16 is not supported" },
    { "test_cast_FLOAT_to_STRING",       "string tensors are not supported" },
    { "test_cast_STRING_to_FLOAT",       "string tensors are not supported" },
    { "test_castlike_BFLOAT16_to_FLOAT*", "bfloat16 is not supported" },
    { "test_castlike_DOUBLE_to_FLOAT16*", "float16 is not supported" },
    { "test_castlike_FLOAT16_to_DOUBLE*", "float16 is not supported" },
    { "test_castlike_FLOAT16_to_FLOAT*",  "float16 is not supported" },
    { "test_castlike_FLOAT_to_BFLOAT16*", "bfloat16 is not supported" },
    { "test_castlike_FLOAT_to_FLOAT16*",  "float16 is not supported" },
    { "test_castlike_FLOAT_to_STRING*",   "string tensors are not supported" },
    { "test_castlike_STRING_to_FLOAT*",   "string tensors are not supported" },
    { "test_max_float16",                "float16 is not supported" },
    { "test_min_float16",                "float16 is not supported" },
    { "test_training_dropout",           "training-mode Dropout is random; lrpx is inference-only" },
    { "test_training_dropout_default",   "training-mode Dropout is random; lrpx is inference-only" },
    { "test_training_dropout_default_mask", "training-mode Dropout is random; lrpx is inference-only" },
    { "test_training_dropout_mask",      "training-mode Dropout is random; lrpx is inference-only" },
    { NULL, NULL },
};

/* Per-test tolerances where the default (rtol 1e-4, atol 1e-5) is too tight
 * for a float32 implementation; say why. */
static const struct {
    const char *test;
    double      rtol, atol;
    const char *why;
} tolerance_list[] = {
    /* test                              rtol   atol   why */
    { NULL, 0, 0, NULL },
};

enum outcome { OUT_PASS = 0, OUT_FAIL, OUT_SKIP };
static const char *const outcome_names[] = { "PASS", "FAIL", "SKIP" };

struct result {
    enum outcome outcome;
    char         reason[900];
};

/* ---- small helpers ---- */

static bool
file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of sub-folders of dir starting with prefix (malloc'd). */
static char **
list_dirs(const char *dir, const char *prefix, int *n_out)
{
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    int    n = 0, cap = 64;
    char **v = malloc((size_t)cap * sizeof *v);
    ck_assert_ptr_nonnull(v);
    struct dirent *e;
    size_t         pl = strlen(prefix);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, pl) != 0)
            continue;
        char        p[LRPX_TEST_PATH_MAX];
        struct stat st;
        lrpx_test_snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (n == cap) {
            cap *= 2;
            v = realloc(v, (size_t)cap * sizeof *v);
            ck_assert_ptr_nonnull(v);
        }
        v[n] = strdup(e->d_name);
        ck_assert_ptr_nonnull(v[n]);
        n++;
    }
    closedir(d);
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    *n_out = n;
    return v;
}

static void
free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* One line: newlines and tabs in messages become spaces. */
static void
set_reason(struct result *r, enum outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_reason(struct result *r, enum outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    for (char *p = r->reason; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    r->outcome = o;
}

static const char *
short_name(const char *qualified)
{
    const char *s = strchr(qualified, '/');
    return s ? s + 1 : qualified;
}

/* entry is "test_x", "node/test_x", or either ending in '*' for a prefix */
static bool
name_matches(const char *entry, const char *qualified)
{
    size_t n = strlen(entry);
    if (n > 0 && entry[n - 1] == '*')
        return strncmp(entry, qualified, n - 1) == 0
               || strncmp(entry, short_name(qualified), n - 1) == 0;
    return strcmp(entry, qualified) == 0 || strcmp(entry, short_name(qualified)) == 0;
}

/* ---- what the model contains, read with protobuf-c independently of
 * the lrpx loader ---- */

#define MAX_OPS 64

struct model_facts {
    bool    parsed;
    int64_t opset;
    int     n_ops;
    char    ops[MAX_OPS][64];        /* unique "Op" or "domain:Op", file order */
    char    unsupported[64];         /* first op lrpx has no entry for, ""     */
    char    non_tensor[256];         /* first input/output that is no tensor   */
};

static bool
default_domain(const char *d)
{
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

static const char *
type_kind(const Onnx__TypeProto *t)
{
    if (!t)
        return NULL;
    switch (t->value_case) {
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:        return NULL;
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:      return "a sequence";
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:           return "a map";
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:      return "an optional";
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
    default:                                         return NULL;
    }
}

static void
read_facts(const char *model_path, struct model_facts *f)
{
    memset(f, 0, sizeof *f);
    /* regular files only, and no waiting on a FIFO */
    int fd = open(model_path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    FILE       *fp = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(fp = fdopen(fd, "rb"))) {
        close(fd);
        return;
    }
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    rewind(fp);
    if (len <= 0) {
        fclose(fp);
        return;
    }
    uint8_t *buf = malloc((size_t)len);
    size_t   got = buf ? fread(buf, 1, (size_t)len, fp) : 0;
    fclose(fp);
    Onnx__ModelProto *m = got == (size_t)len ? onnx__model_proto__unpack(NULL, got, buf) : NULL;
    free(buf);
    if (!m)
        return;
    f->parsed = true;
    for (size_t i = 0; i < m->n_opset_import; i++)
        if (m->opset_import[i] && default_domain(m->opset_import[i]->domain))
            f->opset = m->opset_import[i]->version;
    const Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; g && i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (!n || !n->op_type)
            continue;
        char op[64];
        if (default_domain(n->domain))
            snprintf(op, sizeof op, "%s", n->op_type);
        else
            snprintf(op, sizeof op, "%s:%s", n->domain, n->op_type);
        bool seen = false;
        for (int k = 0; k < f->n_ops && !seen; k++)
            seen = strcmp(f->ops[k], op) == 0;
        if (!seen && f->n_ops < MAX_OPS)
            snprintf(f->ops[f->n_ops++], sizeof f->ops[0], "%s", op);
        if (!f->unsupported[0]
            && (!default_domain(n->domain) || lrpx__op_lookup(n->op_type, f->opset) < 0))
            snprintf(f->unsupported, sizeof f->unsupported, "%s", op);
    }
    /* graph inputs that are not initializers, and outputs */
    for (size_t i = 0; g && i < g->n_input && !f->non_tensor[0]; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        if (!vi || !vi->name)
            continue;
        bool is_init = false;
        for (size_t k = 0; k < g->n_initializer && !is_init; k++)
            is_init = g->initializer[k] && g->initializer[k]->name
                      && strcmp(g->initializer[k]->name, vi->name) == 0;
        const char *kind = type_kind(vi->type);
        if (!is_init && kind)
            snprintf(f->non_tensor, sizeof f->non_tensor, "input '%s' is %s", vi->name, kind);
    }
    for (size_t i = 0; g && i < g->n_output && !f->non_tensor[0]; i++) {
        const Onnx__ValueInfoProto *vi   = g->output[i];
        const char                 *kind = vi ? type_kind(vi->type) : NULL;
        if (kind)
            snprintf(f->non_tensor, sizeof f->non_tensor, "output '%s' is %s", vi->name, kind);
    }
    onnx__model_proto__free_unpacked(m, NULL);
}

/* ---- one test ---- */

/* A failure with LRPX_EUNSUPPORTED is a skip when the model uses an op lrpx
 * does not have. */
static void
unsupported_or_fail(struct result *r, const struct model_facts *f, lrpx_status rc,
                    const char *stage, const char *msg)
{
    if (rc == LRPX_EUNSUPPORTED && f->unsupported[0])
        set_reason(r, OUT_SKIP, "unsupported op %s", f->unsupported);
    else
        set_reason(r, OUT_FAIL, "%s: %s: %s", stage, lrpx_status_name(rc), msg);
}

static void
run_data_set(const char *dir, const char *set, const lrpx_model *model,
             const struct model_facts *f, double rtol, double atol, struct result *r)
{
    char          p[LRPX_TEST_PATH_MAX];
    lrpx_session *s  = NULL;
    lrpx_status   rc = lrpx_session_init(model, &s);
    if (rc != LRPX_OK) {
        unsupported_or_fail(r, f, rc, "session_init",
                            s ? lrpx_session_errmsg(s) : lrpx_model_errmsg(model));
        lrpx_session_free(s);
        return;
    }

    int n_inputs = lrpx_model_n_inputs(model);
    int n_files  = 0;
    for (;; n_files++) {
        lrpx_test_snprintf(p, sizeof p, "%s/%s/input_%d.pb", dir, set, n_files);
        if (!file_exists(p))
            break;
    }
    if (n_files > n_inputs) {
        set_reason(r, OUT_FAIL, "%s: %d input files but the model has %d fed inputs", set, n_files,
                   n_inputs);
        goto out;
    }
    for (int i = 0; i < n_files; i++) {
        struct lrpx_err    err;
        struct lrpx_tensor t;
        char              *name = NULL;
        lrpx_value_info    info;
        memset(&t, 0, sizeof t);
        lrpx__error_clear(&err);
        lrpx_test_snprintf(p, sizeof p, "%s/%s/input_%d.pb", dir, set, i);
        rc = lrpx__tensor_pb_read(p, &t, &name, &err);
        if (rc != LRPX_OK) {
            set_reason(r, rc == LRPX_EUNSUPPORTED ? OUT_SKIP : OUT_FAIL, "%s/input_%d.pb: %s: %s",
                       set, i, lrpx_status_name(rc), err.msg);
            lrpx__tensor_pb_free(&t, name);
            goto out;
        }
        rc = lrpx_model_input_info(model, i, &info);
        if (rc == LRPX_OK)
            rc = lrpx_session_set_input(s, info.name, t.dtype, t.rank, t.dims, t.data);
        lrpx__tensor_pb_free(&t, name);
        if (rc != LRPX_OK) {
            unsupported_or_fail(r, f, rc, "set_input", lrpx_session_errmsg(s));
            goto out;
        }
    }

    rc = lrpx_session_run(s);
    if (rc != LRPX_OK) {
        unsupported_or_fail(r, f, rc, "run", lrpx_session_errmsg(s));
        goto out;
    }

    int n_outputs = lrpx_model_n_outputs(model);
    int n_out     = 0;
    for (;; n_out++) {
        lrpx_test_snprintf(p, sizeof p, "%s/%s/output_%d.pb", dir, set, n_out);
        if (!file_exists(p))
            break;
    }
    if (n_out != n_outputs) {
        set_reason(r, OUT_FAIL, "%s: %d output files but the model has %d outputs", set, n_out,
                   n_outputs);
        goto out;
    }
    for (int i = 0; i < n_out; i++) {
        struct lrpx_err    err;
        struct lrpx_tensor e;
        char              *name = NULL;
        lrpx_tensor_view   v;
        lrpx_value_info    info;
        char               msg[600];
        memset(&e, 0, sizeof e);
        lrpx__error_clear(&err);
        lrpx_test_snprintf(p, sizeof p, "%s/%s/output_%d.pb", dir, set, i);
        rc = lrpx__tensor_pb_read(p, &e, &name, &err);
        if (rc != LRPX_OK) {
            set_reason(r, rc == LRPX_EUNSUPPORTED ? OUT_SKIP : OUT_FAIL, "%s/output_%d.pb: %s: %s",
                       set, i, lrpx_status_name(rc), err.msg);
            lrpx__tensor_pb_free(&e, name);
            goto out;
        }
        rc = lrpx_session_output(s, i, &v);
        if (rc != LRPX_OK) {
            set_reason(r, OUT_FAIL, "%s: output %d: %s: %s", set, i, lrpx_status_name(rc),
                       lrpx_session_errmsg(s));
            lrpx__tensor_pb_free(&e, name);
            goto out;
        }
        bool ok = lrpx_test_view_cmp(&v, &e, rtol, atol, msg, sizeof msg);
        lrpx__tensor_pb_free(&e, name);
        if (!ok) {
            const char *oname = lrpx_model_output_info(model, i, &info) == LRPX_OK ? info.name : "?";
            set_reason(r, OUT_FAIL, "%s: output %d '%s': %s", set, i, oname, msg);
            goto out;
        }
    }
out:
    lrpx_session_free(s);
}

static void
run_one(const char *dir, const char *qualified, const struct model_facts *f, struct result *r)
{
    char p[LRPX_TEST_PATH_MAX];
    memset(r, 0, sizeof *r);
    r->outcome = OUT_PASS;

    for (int i = 0; skip_list[i].test; i++)
        if (name_matches(skip_list[i].test, qualified)) {
            set_reason(r, OUT_SKIP, "skip list: %s", skip_list[i].reason);
            return;
        }
    double rtol = CONF_RTOL, atol = CONF_ATOL;
    for (int i = 0; tolerance_list[i].test; i++)
        if (name_matches(tolerance_list[i].test, qualified)) {
            rtol = tolerance_list[i].rtol;
            atol = tolerance_list[i].atol;
        }
    if (f->non_tensor[0]) {
        set_reason(r, OUT_SKIP, "%s", f->non_tensor);
        return;
    }

    lrpx_model *model = NULL;
    lrpx_test_snprintf(p, sizeof p, "%s/model.onnx", dir);
    lrpx_status rc = lrpx_model_load_file(p, NULL, &model);
    if (rc != LRPX_OK) {
        unsupported_or_fail(r, f, rc, "load", model ? lrpx_model_errmsg(model) : "(no handle)");
        lrpx_model_free(model);
        return;
    }

    int    n_sets;
    char **sets = list_dirs(dir, "test_data_set_", &n_sets);
    if (n_sets == 0)
        set_reason(r, OUT_FAIL, "no test_data_set_* folder");
    for (int i = 0; i < n_sets && r->outcome == OUT_PASS; i++)
        run_data_set(dir, sets[i], model, f, rtol, atol, r);
    free_list(sets, n_sets);
    lrpx_model_free(model);
}

/* In a child process with a time limit, so a crash is this test's failure
 * and not the end of the run. */
static unsigned
time_limit(void)
{
    const char *e = getenv("LRPX_CONFORMANCE_TIMEOUT");
    long        v = e ? strtol(e, NULL, 10) : 0;
    return v > 0 && v < 86400 ? (unsigned)v : CONF_TIME_LIMIT_S;
}

static void
run_one_isolated(const char *dir, const char *qualified, const struct model_facts *f,
                 struct result *r)
{
    int fds[2];
    if (pipe(fds) != 0) {
        set_reason(r, OUT_FAIL, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        set_reason(r, OUT_FAIL, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        /* Check's own SIGALRM handler is inherited: it would kill the
         * whole process group, so restore the default first */
        signal(SIGALRM, SIG_DFL);
        alarm(time_limit());
        struct result cr;
        run_one(dir, qualified, f, &cr);
        size_t off = 0;
        while (off < sizeof cr) {
            ssize_t w = write(fds[1], (char *)&cr + off, sizeof cr - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    size_t off = 0;
    while (off < sizeof *r) {
        ssize_t got = read(fds[0], (char *)r + off, sizeof *r - off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        off += (size_t)got;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            set_reason(r, OUT_FAIL, "timed out after %u s", time_limit());
        else
            set_reason(r, OUT_FAIL, "crashed with signal %d (%s)", sig, strsignal(sig));
    } else if (off != sizeof *r) {
        set_reason(r, OUT_FAIL, "child exited (status %d) without a result",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    r->reason[sizeof r->reason - 1] = '\0';
}

/* ---- summary per op ---- */

struct op_count {
    char name[64];
    int  n[3];            /* by enum outcome */
};

struct op_table {
    struct op_count *v;
    int              n, cap;
};

static void
op_count_add(struct op_table *t, const char *op, enum outcome o)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, op) == 0) {
            t->v[i].n[o]++;
            return;
        }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 128;
        t->v   = realloc(t->v, (size_t)t->cap * sizeof *t->v);
        ck_assert_ptr_nonnull(t->v);
    }
    memset(&t->v[t->n], 0, sizeof t->v[t->n]);
    snprintf(t->v[t->n].name, sizeof t->v[t->n].name, "%s", op);
    t->v[t->n].n[o] = 1;
    t->n++;
}

static int
cmp_op(const void *a, const void *b)
{
    return strcmp(((const struct op_count *)a)->name, ((const struct op_count *)b)->name);
}

/* ---- the Check test ---- */

START_TEST(test_onnx_backend_data)
{
    if (!lrpx_test_have_onnx_data()) {
        printf("SKIP conformance: %s not found (install libonnx-testdata)\n",
               lrpx_test_onnx_data(""));
        return;
    }
    const char *filter  = getenv("LRPX_CONFORMANCE_FILTER");
    const char *list_e  = getenv("LRPX_CONFORMANCE_LIST");
    const char *fork_e  = getenv("CK_FORK");
    bool        listing = list_e && *list_e && strcmp(list_e, "0") != 0;
    bool        isolate = !(fork_e && strcmp(fork_e, "no") == 0);

    struct op_table ops = { 0 };
    int             totals[3] = { 0, 0, 0 };
    char          **table = NULL;          /* Markdown rows for LIST */
    int             n_table = 0, cap_table = 0;

    for (size_t d = 0; d < sizeof conf_dirs / sizeof conf_dirs[0]; d++) {
        char root[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(root, sizeof root, "%s", lrpx_test_onnx_data(conf_dirs[d]));
        int    n_tests;
        char **tests = list_dirs(root, "test_", &n_tests);
        for (int i = 0; i < n_tests; i++) {
            char qualified[512], dir[LRPX_TEST_PATH_MAX];
            lrpx_test_snprintf(qualified, sizeof qualified, "%s/%s", conf_dirs[d], tests[i]);
            if (filter && *filter && !strstr(qualified, filter))
                continue;
            lrpx_test_snprintf(dir, sizeof dir, "%s/%s", root, tests[i]);

            struct model_facts f;
            char               model_path[LRPX_TEST_PATH_MAX];
            lrpx_test_snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
            read_facts(model_path, &f);

            struct result r;
            if (isolate)
                run_one_isolated(dir, qualified, &f, &r);
            else
                run_one(dir, qualified, &f, &r);

            totals[r.outcome]++;
            if (r.outcome == OUT_PASS)
                printf("PASS %s\n", qualified);
            else
                printf("%s %s: %s\n", outcome_names[r.outcome], qualified, r.reason);
            fflush(stdout);
            for (int k = 0; k < f.n_ops; k++)
                op_count_add(&ops, f.ops[k], r.outcome);
            if (f.n_ops == 0)
                op_count_add(&ops, f.parsed ? "(no nodes)" : "(unparsable model)", r.outcome);

            if (listing) {
                char opsbuf[512] = "";
                size_t off = 0;
                for (int k = 0; k < f.n_ops && off < sizeof opsbuf; k++)
                    off += (size_t)snprintf(opsbuf + off, sizeof opsbuf - off, "%s%s",
                                            k ? ", " : "", f.ops[k]);
                for (char *c = r.reason; *c; c++)     /* '|' would split the cell */
                    if (*c == '|')
                        *c = '/';
                char row[2048];
                snprintf(row, sizeof row, "| %s | %s | %s | %s |", qualified, opsbuf,
                         outcome_names[r.outcome], r.outcome == OUT_PASS ? "" : r.reason);
                if (n_table == cap_table) {
                    cap_table = cap_table ? 2 * cap_table : 256;
                    table     = realloc(table, (size_t)cap_table * sizeof *table);
                    ck_assert_ptr_nonnull(table);
                }
                table[n_table] = strdup(row);
                ck_assert_ptr_nonnull(table[n_table]);
                n_table++;
            }
        }
        free_list(tests, n_tests);
    }

    qsort(ops.v, (size_t)ops.n, sizeof *ops.v, cmp_op);
    printf("\nper op (a test counts for every op its model uses):\n");
    printf("  %-32s %6s %6s %6s\n", "op", "pass", "fail", "skip");
    for (int i = 0; i < ops.n; i++)
        printf("  %-32s %6d %6d %6d\n", ops.v[i].name, ops.v[i].n[OUT_PASS], ops.v[i].n[OUT_FAIL],
               ops.v[i].n[OUT_SKIP]);
    int total = totals[0] + totals[1] + totals[2];
    printf("\nconformance: %d tests: %d passed, %d failed, %d skipped", total, totals[OUT_PASS],
           totals[OUT_FAIL], totals[OUT_SKIP]);
    if (filter && *filter)
        printf(" (filter '%s')", filter);
    printf("\n");

    if (listing) {
        printf("\n| test | ops | result | detail |\n|---|---|---|---|\n");
        for (int i = 0; i < n_table; i++) {
            printf("%s\n", table[i]);
            free(table[i]);
        }
    }
    free(table);
    free(ops.v);
    fflush(stdout);
    ck_assert_msg(totals[OUT_FAIL] == 0, "%d of %d conformance tests failed (see the FAIL lines)",
                  totals[OUT_FAIL], total);
}
END_TEST

static Suite *
conformance_suite(void)
{
    Suite *s  = suite_create("conformance");
    TCase *tc = tcase_create("onnx_backend");
    /* the whole run is one test; each model has its own limit */
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_onnx_backend_data);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(conformance_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
