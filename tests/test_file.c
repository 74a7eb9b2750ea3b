/* Suite "file": lrpx__slurp and lrpx__write_atomic (src/util/file.c).
 *
 * The references are the bytes the tests wrote themselves (with the C
 * library, lrpx_test_write_file) and what the file system reports: stat,
 * the folder's entries after a write. Concurrent writers run as forked
 * processes that start together at a pipe. Every file reader of the
 * library (lrpx__slurp among them) is checked on a FIFO and a missing file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lrpx_test.h"
#include "onnx/tensor_pb.h"

/* The names in the scratch folder other than `keep` (may be NULL): what a
 * write left behind. Fails the test when there is any; `when` says after
 * what. */
static void
assert_only(const char *keep, const char *when)
{
    DIR *d = opendir(lrpx_test_scratch(NULL));
    ck_assert_msg(d != NULL, "cannot open %s", lrpx_test_scratch(NULL));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (keep && strcmp(e->d_name, keep) == 0)
            continue;
        closedir(d);
        ck_assert_msg(0, "%s: '%s' left in the folder", when, e->d_name);
    }
    closedir(d);
}

static const struct lrpx_file_cap cap_1k = { 1024, LRPX_ELIMIT, "a test file" };

/* ---- slurp ---- */

START_TEST(test_slurp_text)
{
    const char *p = lrpx_test_scratch("a.txt");
    lrpx_test_write_file(p, "hello\nworld", 11);
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf;
    size_t len;
    ck_assert_int_eq(lrpx__slurp(p, &cap_1k, &buf, &len, &err), LRPX_OK);
    ck_assert_uint_eq(len, 11);
    ck_assert(memcmp(buf, "hello\nworld", 11) == 0);
    ck_assert_int_eq(((char *)buf)[11], '\0');   /* terminated for text parsers */
    lrpx__free(buf);

    /* exactly at the cap is allowed */
    char big[1024];
    memset(big, 'x', sizeof big);
    lrpx_test_write_file(p, big, sizeof big);
    ck_assert_int_eq(lrpx__slurp(p, &cap_1k, &buf, &len, &err), LRPX_OK);
    ck_assert_uint_eq(len, 1024);
    lrpx__free(buf);
}
END_TEST

START_TEST(test_slurp_empty)
{
    const char *p = lrpx_test_scratch("empty");
    lrpx_test_write_file(p, "", 0);
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf = NULL;
    size_t len = 99;
    ck_assert_int_eq(lrpx__slurp(p, &cap_1k, &buf, &len, &err), LRPX_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(((char *)buf)[0], '\0');
    lrpx__free(buf);
}
END_TEST

START_TEST(test_slurp_over_cap)
{
    const char *p = lrpx_test_scratch("big.bin");
    char        b[1025];
    memset(b, 1, sizeof b);
    lrpx_test_write_file(p, b, sizeof b);
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf = (void *)1;
    size_t len = 99;
    ck_assert_int_eq(lrpx__slurp(p, &cap_1k, &buf, &len, &err), LRPX_ELIMIT);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    /* the file, its size, the cap and what kind of file it should be */
    ck_assert_msg(strstr(err.msg, p) == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "1025 bytes"), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "1024 bytes"), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "a test file"), "%s", err.msg);

    /* the caller chooses the status: here "too large to be one" */
    const struct lrpx_file_cap parse_cap = { 16, LRPX_EPARSE, NULL };
    ck_assert_int_eq(lrpx__slurp(p, &parse_cap, &buf, &len, &err), LRPX_EPARSE);
    ck_assert_msg(strstr(err.msg, "over the limit of 16 bytes"), "%s", err.msg);
}
END_TEST

START_TEST(test_slurp_missing)
{
    const char     *p = lrpx_test_scratch("no/such/file.txt");
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf;
    size_t len;
    ck_assert_int_eq(lrpx__slurp(p, &cap_1k, &buf, &len, &err), LRPX_EIO);
    ck_assert_ptr_null(buf);
    ck_assert_msg(strstr(err.msg, p) == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, strerror(ENOENT)), "%s", err.msg);
}
END_TEST

START_TEST(test_slurp_directory)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf;
    size_t len;
    ck_assert_int_eq(lrpx__slurp(lrpx_test_scratch(NULL), &cap_1k, &buf, &len, &err), LRPX_EIO);
    ck_assert_msg(strstr(err.msg, "not a regular file"), "%s", err.msg);
}
END_TEST

START_TEST(test_slurp_oom)
{
    const char *p = lrpx_test_scratch("a.txt");
    lrpx_test_write_file(p, "abc", 3);
    struct lrpx_err err;
    lrpx__error_clear(&err);
    void  *buf;
    size_t len;
    lrpx__alloc_fail_after(1);
    lrpx_status rc = lrpx__slurp(p, &cap_1k, &buf, &len, &err);
    lrpx__alloc_fail_after(0);
    ck_assert_int_eq(rc, LRPX_ENOMEM);
    ck_assert_ptr_null(buf);
    ck_assert_msg(strstr(err.msg, p) == err.msg, "%s", err.msg);
}
END_TEST

/* Every file reader of the library, on one path: the status and message
 * it gives (msg receives the message). */
static lrpx_status
read_slurp(const char *p, char *msg, size_t size)
{
    struct lrpx_err err;
    void           *buf;
    size_t          len;
    lrpx__error_clear(&err);
    lrpx_status rc = lrpx__slurp(p, &cap_1k, &buf, &len, &err);
    if (rc == LRPX_OK)
        lrpx__free(buf);
    snprintf(msg, size, "%s", err.msg);
    return rc;
}

static lrpx_status
read_model(const char *p, char *msg, size_t size)
{
    lrpx_model *m;
    lrpx_status rc = lrpx_model_load_file(p, NULL, &m);
    snprintf(msg, size, "%s", lrpx_model_errmsg(m));
    lrpx_model_free(m);
    return rc;
}

static lrpx_status
read_tensor_pb(const char *p, char *msg, size_t size)
{
    struct lrpx_err    err;
    struct lrpx_tensor t;
    lrpx__error_clear(&err);
    lrpx_status rc = lrpx__tensor_pb_read(p, &t, NULL, &err);
    lrpx__tensor_pb_free(&t, NULL);
    snprintf(msg, size, "%s", err.msg);
    return rc;
}

static lrpx_status
read_npy(const char *p, char *msg, size_t size)
{
    lrpx_npy   *a;
    lrpx_status rc = lrpx_npy_read(p, &a, msg, size);
    lrpx_npy_free(a);
    return rc;
}

static lrpx_status
read_image(const char *p, char *msg, size_t size)
{
    lrpx_image *img;
    lrpx_status rc = lrpx_image_load(p, NULL, &img, msg, size);
    lrpx_image_free(img);
    return rc;
}

static lrpx_status
read_colormap(const char *p, char *msg, size_t size)
{
    lrpx_colormap *c;
    lrpx_status    rc = lrpx_colormap_load(p, &c, msg, size);
    lrpx_colormap_free(c);
    return rc;
}

static lrpx_status
read_preprocess(const char *p, char *msg, size_t size)
{
    struct lrpx_preprocess pp;
    lrpx_preprocess_init(&pp);
    return lrpx_preprocess_load_json(&pp, p, msg, size);
}

static lrpx_status
read_rules(const char *p, char *msg, size_t size)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    return lrpx_lrp_options_load_json(&o, p, msg, size);
}

static const struct {
    const char *name;
    lrpx_status (*read)(const char *p, char *msg, size_t size);
} readers[] = {
    { "lrpx__slurp",                read_slurp      },
    { "lrpx_model_load_file",       read_model      },
    { "lrpx__tensor_pb_read",       read_tensor_pb  },
    { "lrpx_npy_read",              read_npy        },
    { "lrpx_image_load",            read_image      },
    { "lrpx_colormap_load",         read_colormap   },
    { "lrpx_preprocess_load_json",  read_preprocess },
    { "lrpx_lrp_options_load_json", read_rules      },
};

/* The reader of readers[*i] on a FIFO with no writer (a plain open would
 * wait for one forever): LRPX_EIO, "PATH: not a regular file". */
static int
fifo_refused(const void *arg)
{
    int         i = *(const int *)arg;
    const char *p = lrpx_test_scratch("fifo");
    char        msg[1024];
    lrpx_status rc = readers[i].read(p, msg, sizeof msg);
    if (rc == LRPX_EIO && strstr(msg, p) && strstr(msg, "not a regular file"))
        return 0;
    fprintf(stderr, "%s on a FIFO: %s: %s\n", readers[i].name, lrpx_status_name(rc), msg);
    return 1;
}

/* Each reader refuses a FIFO at once (run in a child under an alarm, so a
 * hang fails instead of stalling the run) and a missing file, naming the
 * path. */
START_TEST(test_readers_fifo_and_missing)
{
    const char *name = readers[_i].name;
    ck_assert_int_eq(mkfifo(lrpx_test_scratch("fifo"), 0600), 0);
    lrpx_test_in_child(name, 10, fifo_refused, &_i);

    char        missing[LRPX_TEST_PATH_MAX], msg[1024];
    lrpx_test_snprintf(missing, sizeof missing, "%s", lrpx_test_scratch("missing"));
    lrpx_status rc = readers[_i].read(missing, msg, sizeof msg);
    ck_assert_msg(rc == LRPX_EIO && strstr(msg, missing), "%s on a missing file: %s: %s", name,
                  lrpx_status_name(rc), msg);
}
END_TEST

/* ---- atomic write ---- */

struct bytes {
    const char *data;
    size_t      len;
    size_t      chunk;      /* write in pieces of this size, flushing each */
    lrpx_status fail;       /* LRPX_OK, or fail after writing half */
};

static lrpx_status
write_bytes(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const struct bytes *b     = ctx;
    size_t              n     = b->fail == LRPX_OK ? b->len : b->len / 2;
    size_t              chunk = b->chunk ? b->chunk : n;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        if (fwrite(b->data + off, 1, k, f) != k)
            return lrpx__error(err, LRPX_EIO, "fwrite failed");
        if (b->chunk)
            fflush(f);
    }
    if (b->fail != LRPX_OK)
        return lrpx__error(err, b->fail, "the writer gave up");
    return LRPX_OK;
}

static void
assert_content(const char *path, const char *want, size_t want_len)
{
    size_t len;
    char  *got = lrpx_test_read_file(path, &len);
    ck_assert_msg(len == want_len && memcmp(got, want, len) == 0,
                  "%s: %zu bytes, expected %zu", path, len, want_len);
    free(got);
}

START_TEST(test_write_replaces)
{
    const char *p = lrpx_test_scratch("out.bin");
    char        path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s", p);
    struct lrpx_err err;
    lrpx__error_clear(&err);

    /* a new file, with the umask applied to 0666 as for fopen */
    mode_t       old_mask = umask(022);
    struct bytes one      = { "first version", 13, 0, LRPX_OK };
    lrpx_status  rc       = lrpx__write_atomic(path, write_bytes, &one, &err);
    umask(old_mask);
    ck_assert_msg(rc == LRPX_OK, "%s", err.msg);
    assert_content(path, "first version", 13);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    assert_only("out.bin", "a new file");

    /* an existing one is replaced */
    struct bytes two = { "second", 6, 0, LRPX_OK };
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &two, &err), LRPX_OK);
    assert_content(path, "second", 6);
    assert_only("out.bin", "a replaced file");

    /* an empty output */
    struct bytes none = { "", 0, 0, LRPX_OK };
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &none, &err), LRPX_OK);
    assert_content(path, "", 0);

    /* a relative path writes into the current folder */
    char cwd[LRPX_TEST_PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(lrpx_test_scratch(NULL)), 0);
    rc = lrpx__write_atomic("rel.bin", write_bytes, &one, &err);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_msg(rc == LRPX_OK, "%s", err.msg);
    assert_content(lrpx_test_scratch("rel.bin"), "first version", 13);
}
END_TEST

START_TEST(test_write_failure_keeps_old)
{
    char path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s", lrpx_test_scratch("keep.bin"));
    lrpx_test_write_file(path, "old", 3);
    struct lrpx_err err;
    lrpx__error_clear(&err);

    /* the writer fails half way: the old content stays, no temporary */
    struct bytes half = { "new content that never lands", 29, 4, LRPX_EIMAGE };
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &half, &err), LRPX_EIMAGE);
    ck_assert_msg(strstr(err.msg, path) == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "the writer gave up"), "%s", err.msg);
    assert_content(path, "old", 3);
    assert_only("keep.bin", "a failed writer");

    /* the same for a path that did not exist: it still does not */
    lrpx_test_snprintf(path, sizeof path, "%s", lrpx_test_scratch("never.bin"));
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &half, &err), LRPX_EIMAGE);
    ck_assert_int_ne(access(path, F_OK), 0);
    assert_only("keep.bin", "a failed writer of a new file");
}
END_TEST

START_TEST(test_write_bad_places)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    struct bytes one = { "x", 1, 0, LRPX_OK };
    char         path[LRPX_TEST_PATH_MAX];

    /* the folder does not exist */
    lrpx_test_snprintf(path, sizeof path, "%s", lrpx_test_scratch("no/such/dir/a.bin"));
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &one, &err), LRPX_EIO);
    ck_assert_msg(strstr(err.msg, path) == err.msg, "%s", err.msg);

    /* the rename fails (the target is a non-empty folder): the temporary
     * is removed again and the folder is untouched */
    lrpx_test_snprintf(path, sizeof path, "%s", lrpx_test_scratch("out"));
    ck_assert_int_eq(mkdir(path, 0755), 0);
    lrpx_test_write_file(lrpx_test_scratch("out/x"), "x", 1);
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &one, &err), LRPX_EIO);
    ck_assert_msg(strstr(err.msg, "rename"), "%s", err.msg);
    assert_only("out", "a failed rename");
    assert_content(lrpx_test_scratch("out/x"), "x", 1);

    /* no file name */
    lrpx_test_snprintf(path, sizeof path, "%s/", lrpx_test_scratch(NULL));
    ck_assert_int_eq(lrpx__write_atomic(path, write_bytes, &one, &err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx__write_atomic("", write_bytes, &one, &err), LRPX_EINVAL);
    assert_only("out", "a path without a name");
}
END_TEST

/* A name of 250 bytes: ".NAME.XXXXXX" would pass NAME_MAX (255), so the
 * temporary's name is shortened. */
START_TEST(test_write_long_name)
{
    char name[251];
    memset(name, 'n', 250);
    name[250] = '\0';
    char path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s/%s", lrpx_test_scratch(NULL), name);
    struct lrpx_err err;
    lrpx__error_clear(&err);
    struct bytes one = { "long", 4, 0, LRPX_OK };
    ck_assert_msg(lrpx__write_atomic(path, write_bytes, &one, &err) == LRPX_OK, "%s", err.msg);
    assert_content(path, "long", 4);
    assert_only(name, "a long name");
}
END_TEST

/* Two processes write the same path at once, many times, while this one
 * reads it: every read and the final file hold one writer's whole output,
 * never a mix or a part, and no temporary is left. With one fixed
 * temporary name ("PATH.tmp") the writers would truncate and interleave in
 * the same file. */
enum { RACE_BYTES = 1 << 20, RACE_ROUNDS = 12 };

static char *
race_content(char c)
{
    char *b = malloc(RACE_BYTES);
    ck_assert_ptr_nonnull(b);
    memset(b, c, RACE_BYTES);
    return b;
}

/* 'A' or 'B' when all of buf is that letter and it has the full length;
 * 0 otherwise. */
static char
race_whole(const char *buf, size_t len)
{
    if (len != RACE_BYTES)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (buf[i] != buf[0])
            return 0;
    return buf[0] == 'A' || buf[0] == 'B' ? buf[0] : 0;
}

START_TEST(test_write_concurrent)
{
    char path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(path, sizeof path, "%s", lrpx_test_scratch("shared.bin"));
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    fflush(NULL);
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0) {
            signal(SIGALRM, SIG_DFL);
            alarm(60);
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 0)   /* wait until the parent closes */
                _exit(3);
            char           *data = race_content(w ? 'B' : 'A');
            struct bytes    b    = { data, RACE_BYTES, 64 * 1024, LRPX_OK };
            struct lrpx_err err;
            for (int r = 0; r < RACE_ROUNDS; r++)
                if (lrpx__write_atomic(path, write_bytes, &b, &err) != LRPX_OK) {
                    fprintf(stderr, "writer %d round %d: %s\n", w, r, err.msg);
                    _exit(1);
                }
            free(data);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]);   /* both writers start now */

    /* read while they write */
    int  n_reads = 0, n_bad = 0, status[2];
    bool done[2] = { false, false };
    while (!done[0] || !done[1]) {
        struct lrpx_err            err;
        void                      *buf;
        size_t                     len;
        const struct lrpx_file_cap cap = { 2 * RACE_BYTES, LRPX_ELIMIT, NULL };
        if (lrpx__slurp(path, &cap, &buf, &len, &err) == LRPX_OK) {
            n_reads++;
            n_bad += race_whole(buf, len) == 0;
            lrpx__free(buf);
        }
        for (int w = 0; w < 2; w++)
            if (!done[w] && waitpid(pids[w], &status[w], WNOHANG) == pids[w])
                done[w] = true;
    }
    for (int w = 0; w < 2; w++)
        ck_assert_msg(WIFEXITED(status[w]) && WEXITSTATUS(status[w]) == 0,
                      "writer %d failed (see its message above)", w);
    ck_assert_msg(n_bad == 0, "%d of %d reads saw a partial or mixed file", n_bad, n_reads);
    size_t len;
    char  *final = lrpx_test_read_file(path, &len);
    ck_assert_msg(race_whole(final, len) != 0, "the final file is a mix or a part (%zu bytes)",
                  len);
    free(final);
    assert_only("shared.bin", "two concurrent writers");
}
END_TEST

static Suite *
file_suite(void)
{
    Suite *s  = suite_create("file");
    TCase *tc = tcase_create("slurp");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_slurp_text);
    tcase_add_test(tc, test_slurp_empty);
    tcase_add_test(tc, test_slurp_over_cap);
    tcase_add_test(tc, test_slurp_missing);
    tcase_add_test(tc, test_slurp_directory);
    tcase_add_test(tc, test_slurp_oom);
    tcase_add_loop_test(tc, test_readers_fifo_and_missing, 0,
                        (int)(sizeof readers / sizeof readers[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("write_atomic");
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_write_replaces);
    tcase_add_test(tc, test_write_failure_keeps_old);
    tcase_add_test(tc, test_write_bad_places);
    tcase_add_test(tc, test_write_long_name);
    tcase_add_test(tc, test_write_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(file_suite());
}
