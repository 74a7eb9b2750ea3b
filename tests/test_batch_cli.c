/* Suite "batch_cli": lrpx batch and lrpx merge run as programs.
 *
 *   - 240 real Fashion-MNIST test images (Debian's dataset-fashion-mnist,
 *     written here as PNG files in class folders, with a labelled CSV
 *     manifest) explained once by one process, and again by 4 shard
 *     processes running at once with other --batch/--threads; one shard
 *     is killed (SIGKILL) mid-way and resumed; the merge of the 4 folders
 *     must equal the single run line for line (timings aside) and every
 *     relevance map and heatmap byte for byte; the per-class counts of the
 *     summary must be the label counts of the data set;
 *   - shards: inputs.txt of every shard holds exactly the keys whose
 *     64-bit FNV-1a hash (computed here) is the shard index modulo N, and
 *     the Slurm and Kubernetes variables select the same shard as --shard;
 *   - the maps against PyTorch references (testdata/expected: LRP maps of
 *     scripts/lrp_reference.py, gradients of scripts/train_fmnist.py);
 *   - lrpx spray on a "Clever Hans" model: the marked images' strategy is
 *     separated from the plain one (cluster purity >= 0.9 against the marks
 *     the training script put on them; cut in two, the marked images are
 *     one cluster);
 *   - bad inputs and usage: an unreadable image (listed in errors.jsonl,
 *     exit 1, retried by --resume), contradicting flags (exit 2), merges
 *     of mismatched folders (exit 1, nothing written). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli_util.h"

static const char *MODEL = "models/fmnist_cnn.onnx";

/* ---- the data set ---- */

static uint8_t *
gz_read_all(const char *path, size_t *n)
{
    gzFile g = gzopen(path, "rb");
    ck_assert_msg(g != NULL, "%s: missing; install Debian's dataset-fashion-mnist "
                  "(scripts/setup.sh) or set LRPX_FMNIST_DIR", path);
    size_t   cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    int      k;
    ck_assert_ptr_nonnull(buf);
    while ((k = gzread(g, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)k;
        if (len == cap) {
            buf = realloc(buf, cap *= 2);
            ck_assert_ptr_nonnull(buf);
        }
    }
    gzclose(g);
    *n = len;
    return buf;
}

static const char *
fmnist_file(const char *name)
{
    static char buf[LRPX_TEST_PATH_MAX];
    const char *dir = getenv("LRPX_FMNIST_DIR");
    lrpx_test_snprintf(buf, sizeof buf, "%s/%s",
                       dir && *dir ? dir : "/usr/share/datasets/fashion-mnist", name);
    return buf;
}

static int
cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first n test images as cli_tmp/data/c<label>/t<index>.png and a CSV
 * manifest data/manifest.csv (path,label) in key order; label_count[k]
 * receives the number of images of class k. */
static void
make_fmnist(int n, int label_count[10])
{
    size_t   ni, nl;
    uint8_t *img = gz_read_all(fmnist_file("t10k-images-idx3-ubyte.gz"), &ni);
    uint8_t *lab = gz_read_all(fmnist_file("t10k-labels-idx1-ubyte.gz"), &nl);
    ck_assert_uint_ge(ni, 16 + (size_t)n * 784);
    ck_assert_uint_ge(nl, 8 + (size_t)n);
    ck_assert_int_eq(img[2], 8);          /* IDX: unsigned bytes, 3 axes */
    ck_assert_int_eq(img[3], 3);
    char **lines = calloc((size_t)n, sizeof *lines);
    ck_assert_ptr_nonnull(lines);
    memset(label_count, 0, 10 * sizeof *label_count);
    char err[512];
    for (int i = 0; i < n; i++) {
        int  c = lab[8 + i];
        char key[64], dir[64];
        snprintf(dir, sizeof dir, "data/c%d", c);
        mkdir(tpath("data"), 0777);
        mkdir(tpath(dir), 0777);
        snprintf(key, sizeof key, "c%d/t%05d.png", c, i);
        lrpx_pixmap *pm;
        ck_assert_int_eq(lrpx_pixmap_init(28, 28, 1, &pm), LRPX_OK);
        memcpy(pm->data, img + 16 + (size_t)i * 784, 784);
        char path[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(path, sizeof path, "%s/data/%s", cli_tmp, key);
        ck_assert_msg(lrpx_pixmap_save_png(pm, path, err, sizeof err) == LRPX_OK, "%s", err);
        lrpx_pixmap_free(pm);
        lines[i] = malloc(96);
        snprintf(lines[i], 96, "%s,%d\n", key, c);
        label_count[c]++;
    }
    qsort(lines, (size_t)n, sizeof *lines, cmp_cstr);
    FILE *f = fopen(tpath("data/manifest.csv"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("path,label\n", f);
    for (int i = 0; i < n; i++) {
        fputs(lines[i], f);
        free(lines[i]);
    }
    fclose(f);
    free(lines);
    free(img);
    free(lab);
}

/* ---- reading runs ---- */

/* Complete lines ('\n'-ended) of a file. */
static int
count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    int   n = 0, ch;
    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static char *
read_text(const char *path)
{
    size_t len;
    char  *t = lrpx_test_read_file(path, &len);
    return t;
}

/* The value of the string field `"key": "..."` of a result line (no
 * escapes in our paths). */
static void
field(const char *line, const char *key, char *buf, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    ck_assert_msg(p != NULL, "no %s in %s", key, line);
    p += strlen(pat);
    const char *e = strchr(p, '"');
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_lt((size_t)(e - p), size);
    snprintf(buf, size, "%.*s", (int)(e - p), p);
}

static bool
same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    char  *x = lrpx_test_read_file(a, &na), *y = lrpx_test_read_file(b, &nb);
    bool   same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* results.jsonl of run dir a and b: the same lines once timings are cut
 * and the output paths resolved to the same bytes. */
static void
assert_same_results(const char *dir_a, const char *dir_b)
{
    char pa[LRPX_TEST_PATH_MAX], pb[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(pa, sizeof pa, "%s/results.jsonl", dir_a);
    lrpx_test_snprintf(pb, sizeof pb, "%s/results.jsonl", dir_b);
    char *ta = read_text(pa), *tb = read_text(pb);
    char *sa, *sb;
    char *la = strtok_r(ta, "\n", &sa), *lb = strtok_r(tb, "\n", &sb);
    int   n  = 0;
    for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), n++) {
        const char *cut_a = strstr(la, ", \"relevance\": ");
        const char *cut_b = strstr(lb, ", \"relevance\": ");
        ck_assert_msg(cut_a && cut_b, "line %d lacks \"relevance\"", n + 1);
        ck_assert_msg(cut_a - la == cut_b - lb && !memcmp(la, lb, (size_t)(cut_a - la)),
                      "line %d differs:\n  %s\n  %s", n + 1, la, lb);
        ck_assert_msg(strstr(la, ", \"time_ms\": ") && strstr(lb, ", \"time_ms\": "),
                      "line %d: no timings", n + 1);
        const char *keys[2] = {"relevance", "heatmap"};
        bool        heat_a = !strstr(la, "\"heatmap\": null"), heat_b = !strstr(lb, "\"heatmap\": null");
        ck_assert_msg(heat_a == heat_b, "line %d: a heatmap on one side only", n + 1);
        for (int k = 0; k < (heat_a ? 2 : 1); k++) {
            char ra[1024], rb[1024], fa[LRPX_TEST_PATH_MAX * 2], fb[LRPX_TEST_PATH_MAX * 2];
            field(la, keys[k], ra, sizeof ra);
            field(lb, keys[k], rb, sizeof rb);
            snprintf(fa, sizeof fa, "%s/%s", dir_a, ra);
            snprintf(fb, sizeof fb, "%s/%s", dir_b, rb);
            ck_assert_msg(same_bytes(fa, fb), "line %d: %s and %s differ", n + 1, fa, fb);
        }
    }
    ck_assert_msg(!la && !lb, "%s and %s have different numbers of lines", pa, pb);
    ck_assert_int_gt(n, 0);
    free(ta);
    free(tb);
}

/* A hidden file below dir other than the run's .lock: a temporary of the
 * atomic writer (".NAME.XXXXXX") left behind. */
static bool
has_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool           found = false;
    while (!found && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[LRPX_TEST_PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        found = (e->d_name[0] == '.' && strcmp(e->d_name, ".lock") != 0) ||
                (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && has_temporaries(p));
    }
    closedir(d);
    return found;
}

static uint64_t
fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void
sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* ---- the shard/kill/resume/merge test ---- */

#define N_IMAGES 240

START_TEST(test_shards_kill_resume_merge)
{
    int label_count[10];
    make_fmnist(N_IMAGES, label_count);
    char m[LRPX_TEST_PATH_MAX], man[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    lrpx_test_snprintf(man, sizeof man, "%s", tpath("data/manifest.csv"));

    /* one process */
    const char *ref[] = {"batch", m, "--manifest", man, "--out", tpath("ref"), "--heatmaps",
                         "--threads", "2", "--batch", "16", NULL};
    ck_assert_msg(run_cli_argv(ref, NULL) == 0, "%s", err_text);
    ck_assert_int_eq(count_lines(tpath("ref/results.jsonl")), N_IMAGES);

    /* four processes at once, other batch sizes and thread counts */
    static const char *const batch[4]   = {"1", "4", "16", "33"};
    static const char *const threads[4] = {"1", "1", "2", "2"};
    char  out[4][LRPX_TEST_PATH_MAX], shard[4][16];
    pid_t pid[4];
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        lrpx_test_snprintf(out[i], sizeof out[i], "%s", tpath(name));
        snprintf(shard[i], sizeof shard[i], "%d/4", i);
        const char *args[] = {"batch", m, "--manifest", man, "--out", out[i], "--heatmaps",
                              "--shard", shard[i], "--batch", batch[i], "--threads",
                              threads[i], NULL};
        pid[i] = spawn_cli(args, NULL, name);
    }
    /* kill shard 1 once it has results, before it has all */
    char res1[LRPX_TEST_PATH_MAX + 32];
    lrpx_test_snprintf(res1, sizeof res1, "%s/results.jsonl", out[1]);
    int done_at_kill = 0;
    for (int t = 0; t < 60000; t++) {
        if ((done_at_kill = count_lines(res1)) >= 1)
            break;
        sleep_ms(1);
    }
    kill(pid[1], SIGKILL);
    int st1 = wait_cli(pid[1]);
    for (int i = 0; i < 4; i++)
        if (i != 1)
            ck_assert_msg(wait_cli(pid[i]) == 0, "shard %d failed", i);
    int assigned = count_lines(tpath("s1/inputs.txt"));
    ck_assert_msg(st1 == -1 && done_at_kill >= 1 && done_at_kill < assigned,
                  "shard 1 was not killed mid-way (status %d, %d of %d done): the test needs "
                  "a kill while it runs", st1, done_at_kill, assigned);
    int kept = count_lines(res1);                /* complete lines at the end */
    ck_assert_int_ge(kept, done_at_kill);

    /* resume: everything with a complete line is kept, the rest redone */
    const char *resume[] = {"batch", m, "--manifest", man, "--out", out[1], "--heatmaps",
                            "--shard", "1/4", "--batch", "4", "--resume", NULL};
    ck_assert_msg(run_cli_argv(resume, NULL) == 0, "%s", err_text);
    char want[64];
    snprintf(want, sizeof want, ", %d already done,", kept);
    ck_assert_msg(strstr(out_text, want) != NULL, "resume after %d lines: %s", kept, out_text);
    ck_assert_int_eq(count_lines(res1), assigned);
    ck_assert_msg(!has_temporaries(out[1]), "temporaries left in %s", out[1]);

    /* the shards hold each input once, by the documented hash */
    int total = 0;
    for (int i = 0; i < 4; i++) {
        char p[LRPX_TEST_PATH_MAX + 32];
        lrpx_test_snprintf(p, sizeof p, "%s/inputs.txt", out[i]);
        char *t = read_text(p), *save;
        for (char *k = strtok_r(t, "\n", &save); k; k = strtok_r(NULL, "\n", &save), total++)
            ck_assert_msg(fnv1a64(k) % 4 == (uint64_t)i, "%s in shard %d", k, i);
        free(t);
    }
    ck_assert_int_eq(total, N_IMAGES);

    /* merge = the single run */
    const char *merge[] = {"merge", out[0], out[1], out[2], out[3], "-o", tpath("all"), NULL};
    ck_assert_msg(run_cli_argv(merge, NULL) == 0, "%s", err_text);
    assert_same_results(tpath("ref"), tpath("all"));

    /* the summary counts the labels of the data set */
    char  *sum = read_text(tpath("all/summary.json"));
    cJSON *js  = cJSON_Parse(sum);
    ck_assert_ptr_nonnull(js);
    ck_assert_int_eq(cJSON_GetObjectItem(js, "n_inputs")->valueint, N_IMAGES);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(js, "labelled")));
    int    seen = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(js, "classes"))
    {
        int k = cJSON_GetObjectItem(c, "class")->valueint;
        ck_assert_int_eq(cJSON_GetObjectItem(c, "count")->valueint, label_count[k]);
        seen += label_count[k];
    }
    ck_assert_int_eq(seen, N_IMAGES);
    cJSON_Delete(js);
    free(sum);
}
END_TEST

/* ---- shards from the schedulers' variables ---- */

/* The 8 bundled test images as PNG files in cli_tmp/dir. */
static const char *
copy_pngs(const char *dir)
{
    static const char *const names[8] = {
        "fmnist_0_ankle_boot.png", "fmnist_1_pullover.png", "fmnist_2_trouser.png",
        "fmnist_3_shirt.png",      "fmnist_4_coat.png",     "fmnist_5_sandal.png",
        "fmnist_6_sneaker.png",    "fmnist_7_dress.png"};
    mkdir(tpath(dir), 0777);
    for (int i = 0; i < 8; i++) {
        char src[64], dst[128];
        snprintf(src, sizeof src, "images/%s", names[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
        size_t n;
        void  *b = lrpx_test_read_file(lrpx_test_path(src), &n);
        lrpx_test_write_file(tpath(dst), b, n);
        free(b);
    }
    return tpath(dir);
}

static void
shard_of_run(const char *dir, int *index, int *count)
{
    char p[LRPX_TEST_PATH_MAX + 16];
    lrpx_test_snprintf(p, sizeof p, "%s/run.json", dir);
    char  *t  = read_text(p);
    cJSON *js = cJSON_Parse(t);
    cJSON *sh = cJSON_GetObjectItem(js, "shard");
    *index    = cJSON_GetObjectItem(sh, "index")->valueint;
    *count    = cJSON_GetObjectItem(sh, "count")->valueint;
    cJSON_Delete(js);
    free(t);
}

START_TEST(test_scheduler_variables)
{
    char m[LRPX_TEST_PATH_MAX], imgs[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    lrpx_test_snprintf(imgs, sizeof imgs, "%s", copy_pngs("imgs"));
    static const struct {
        const char *env[5];
        const char *shards;
        int         index, count;
    } cases[] = {
        {{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=0", NULL},
         NULL, 2, 4},
        {{"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=1", NULL},
         NULL, 2, 4},                              /* sbatch --array=1-4 */
        {{"SLURM_ARRAY_TASK_ID=10", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=0",
          "SLURM_ARRAY_TASK_STEP=5", NULL},
         NULL, 2, 3},                              /* --array=0-10:5 */
        {{"JOB_COMPLETION_INDEX=1", NULL}, "3", 1, 3},
        {{NULL}, NULL, 0, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[16];
        snprintf(name, sizeof name, "v%zu", k);
        const char *args[] = {"batch", m, "--inputs", imgs, "--out", tpath(name), "-q",
                              cases[k].shards ? "--shards" : NULL, cases[k].shards, NULL};
        ck_assert_msg(run_cli_argv(args, cases[k].env) == 0, "case %zu: %s", k, err_text);
        int i, n;
        shard_of_run(tpath(name), &i, &n);
        ck_assert_int_eq(i, cases[k].index);
        ck_assert_int_eq(n, cases[k].count);
        /* the same inputs as --shard I/N */
        char flag[32], other[24], a[LRPX_TEST_PATH_MAX + 16], b[LRPX_TEST_PATH_MAX + 16];
        snprintf(flag, sizeof flag, "%d/%d", i, n);
        snprintf(other, sizeof other, "f%zu", k);
        const char *args2[] = {"batch", m, "--inputs", imgs, "--out", tpath(other), "-q",
                               "--shard", flag, NULL};
        ck_assert_msg(run_cli_argv(args2, NULL) == 0, "%s", err_text);
        lrpx_test_snprintf(a, sizeof a, "%s/inputs.txt", tpath(name));
        lrpx_test_snprintf(b, sizeof b, "%s/inputs.txt", tpath(other));
        ck_assert_msg(same_bytes(a, b), "case %zu: other inputs than --shard %s", k, flag);
    }
    /* what does not fit */
    static const char *const bad[][4] = {
        {"JOB_COMPLETION_INDEX=1", NULL},                                /* no --shards */
        {"SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_COUNT=4", NULL},     /* past the end */
        {"SLURM_ARRAY_TASK_ID=x", "SLURM_ARRAY_TASK_COUNT=4", NULL},
        {"SLURM_ARRAY_TASK_ID=1", NULL},                                 /* no count */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *args[] = {"batch", m, "--inputs", imgs, "--out", tpath("bad"), "-q", NULL};
        ck_assert_msg(run_cli_argv(args, bad[k]) == 2, "bad case %zu: %s", k, err_text);
        ck_assert(!exists(tpath("bad/results.jsonl")));
    }
}
END_TEST

/* ---- maps against PyTorch ---- */

START_TEST(test_methods_against_pytorch)
{
    /* images 0 and 3: the inputs of expected/lrp/fmnist_cnn__epsilon_plus_{0,1}.npy
     * (expected/lrp/index.json) and of expected/fmnist_cnn_{0,3}_grad.npy; the
     * logits are PyTorch's from index.json */
    static const char *const files[2] = {"fmnist_0_ankle_boot.npy", "fmnist_3_shirt.npy"};
    static const int         image[2] = {0, 3};
    static const double      logit[2] = {6.413039679435155, 4.04089778834393};
    char                     m[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    mkdir(tpath("in"), 0777);
    for (int i = 0; i < 2; i++) {
        char src[64], dst[64];
        snprintf(src, sizeof src, "images/%s", files[i]);
        snprintf(dst, sizeof dst, "in/%s", files[i]);
        size_t n;
        void  *b = lrpx_test_read_file(lrpx_test_path(src), &n);
        lrpx_test_write_file(tpath(dst), b, n);
        free(b);
    }
    static const char *const methods[3] = {"lrp", "gradient", "gradxinput"};
    for (int k = 0; k < 3; k++) {
        const char *args[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath(methods[k]),
                              "--method", methods[k], "-q", NULL};
        ck_assert_msg(run_cli_argv(args, NULL) == 0, "%s: %s", methods[k], err_text);
        for (int i = 0; i < 2; i++) {
            char got[128], ref[96], xin[64];
            snprintf(got, sizeof got, "%s/relevance/%s.npy", methods[k], files[i]);
            if (k == 0)
                snprintf(ref, sizeof ref, "expected/lrp/fmnist_cnn__epsilon_plus_%d.npy", i);
            else
                snprintf(ref, sizeof ref, "expected/fmnist_cnn_%d_grad.npy", image[i]);
            snprintf(xin, sizeof xin, "images/%s", files[i]);
            lrpx_npy *g = lrpx_test_npy_load(tpath(got));
            lrpx_npy *r = lrpx_test_npy_load(lrpx_test_path(ref));
            lrpx_npy *x = lrpx_test_npy_load(lrpx_test_path(xin));
            ck_assert_int_eq(g->n_elems, r->n_elems);
            ck_assert_int_eq(g->rank, 4);
            float *want = r->data;
            if (k == 2)                 /* gradient x input, from PyTorch's gradient */
                for (int64_t e = 0; e < r->n_elems; e++)
                    want[e] *= ((const float *)x->data)[e];
            double err = lrpx_test_rel_err_f32(g->data, want, g->n_elems);
            ck_assert_msg(err <= 1e-4, "%s %s: %.3g from the PyTorch reference", methods[k],
                          files[i], err);
            lrpx_npy_free(g);
            lrpx_npy_free(r);
            lrpx_npy_free(x);
        }
        char  res[64];
        snprintf(res, sizeof res, "%s/results.jsonl", methods[k]);
        char *t = read_text(tpath(res)), *save;
        int   i = 0;
        for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
            cJSON *o = cJSON_Parse(l);
            ck_assert_ptr_nonnull(o);
            double got = cJSON_GetObjectItem(o, "logit")->valuedouble;
            ck_assert_msg(fabs(got - logit[i]) <= 1e-5 * fabs(logit[i]), "%s: logit %.9g vs %.9g",
                          files[i], got, logit[i]);
            cJSON_Delete(o);
        }
        ck_assert_int_eq(i, 2);
        free(t);
    }
}
END_TEST

/* The other methods of lrpx explain through lrpx batch's --method and
 * their flags, against the PyTorch/Captum references of
 * testdata/expected/methods (scripts/methods_reference.py); the maps of
 * two runs with other --batch/--threads are the same bytes. */
START_TEST(test_other_methods_against_references)
{
    static const struct {
        const char *args[10];
        const char *expected;
        double      tol;
    } cases[] = {
        {{"--method", "saliency"}, "fmnist0_saliency", 1e-4},
        {{"--method", "guided-backprop"}, "fmnist0_guided-backprop", 1e-4},
        {{"--method", "integrated-gradients", "--steps", "16"}, "fmnist0_ig_gausslegendre16",
         1e-4},
        {{"--method", "occlusion", "--patch", "1,4,4", "--patch-stride", "1,2,2"},
         "fmnist0_occ_1x4x4_s2", 1e-4},
        {{"--method", "smoothgrad", "--samples", "8", "--of", "saliency", "--noise", "NOISE"},
         "fmnist0_smoothgrad_saliency", 1e-4},
    };
    char m[LRPX_TEST_PATH_MAX], noise[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    lrpx_test_snprintf(noise, sizeof noise, "%s",
                       lrpx_test_path("expected/methods/fmnist_noise8.npy"));
    mkdir(tpath("in"), 0777);
    static const char *const files[2] = {"fmnist_0_ankle_boot.npy", "fmnist_3_shirt.npy"};
    for (int i = 0; i < 2; i++) {
        char src[64], dst[64];
        snprintf(src, sizeof src, "images/%s", files[i]);
        snprintf(dst, sizeof dst, "in/%s", files[i]);
        size_t n;
        void  *b = lrpx_test_read_file(lrpx_test_path(src), &n);
        lrpx_test_write_file(tpath(dst), b, n);
        free(b);
    }
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int run = 0; run < 2; run++) {
            char        out[64];
            const char *argv[24];
            int         n = 0;
            snprintf(out, sizeof out, "%s_%d", cases[k].expected, run);
            argv[n++] = "batch";
            argv[n++] = m;
            argv[n++] = "--inputs";
            argv[n++] = tpath("in");
            argv[n++] = "--out";
            argv[n++] = tpath(out);
            argv[n++] = "--batch";
            argv[n++] = run ? "2" : "1";
            argv[n++] = "--threads";
            argv[n++] = run ? "2" : "1";
            argv[n++] = "-q";
            for (int a = 0; cases[k].args[a]; a++)
                argv[n++] = strcmp(cases[k].args[a], "NOISE") ? cases[k].args[a] : noise;
            argv[n] = NULL;
            ck_assert_msg(run_cli_argv(argv, NULL) == 0, "%s: %s", cases[k].expected, err_text);
        }
        char got[160], ref[128], d0[128], d1[128];
        snprintf(got, sizeof got, "%s_0/relevance/%s.npy", cases[k].expected, files[0]);
        snprintf(ref, sizeof ref, "expected/methods/%s.npy", cases[k].expected);
        lrpx_npy *g = lrpx_test_npy_load(tpath(got));
        lrpx_npy *r = lrpx_test_npy_load(lrpx_test_path(ref));
        ck_assert_int_eq(g->n_elems, r->n_elems);
        double err = lrpx_test_rel_err_f32(g->data, r->data, g->n_elems);
        ck_assert_msg(err <= cases[k].tol, "%s: %.3g from the reference", cases[k].expected,
                      err);
        lrpx_npy_free(g);
        lrpx_npy_free(r);
        snprintf(d0, sizeof d0, "%s_0", cases[k].expected);
        snprintf(d1, sizeof d1, "%s_1", cases[k].expected);
        char a0[LRPX_TEST_PATH_MAX], a1[LRPX_TEST_PATH_MAX];
        lrpx_test_snprintf(a0, sizeof a0, "%s", tpath(d0));
        lrpx_test_snprintf(a1, sizeof a1, "%s", tpath(d1));
        assert_same_results(a0, a1);
    }
    /* one method per run; a method's flag with another method */
    const char *two[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("x"), "--method",
                         "lrp,gradient", NULL};
    ck_assert_int_eq(run_cli_argv(two, NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "one --method per run"));
    const char *steps[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("x"), "--steps",
                           "5", NULL};
    ck_assert_int_eq(run_cli_argv(steps, NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--steps goes with --method integrated-gradients"));
    ck_assert(!exists(tpath("x")));
}
END_TEST

/* ---- metrics ---- */

/* Quantus's Sparseness (docs/evaluation.md) of a map, in double: a =
 * |R| / max|R| (normalise, then abs), v = sorted a + 1e-7, Gini index. */
static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
gini_of(const float *r, int64_t n)
{
    double mx = 0, num = 0, den = 0;
    for (int64_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(r[i]));
    double *v = malloc((size_t)n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fabs(r[i]) / mx + 1e-7;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    for (int64_t i = 0; i < n; i++) {
        num += (2.0 * (double)(i + 1) - (double)n - 1.0) * v[i];
        den += v[i];
    }
    free(v);
    return num / ((double)n * den);
}

/* Relevance mass accuracy with abs=true: the share of |R| inside the mask
 * (1 channel, 28x28). */
static double
mass_of(const float *r, const uint8_t *inside)
{
    double in = 0, all = 0;
    for (int i = 0; i < 784; i++) {
        all += fabs(r[i]);
        in += inside[i] ? fabs(r[i]) : 0.0;
    }
    return in / all;
}

/* Metrics per input (--metric like lrpx eval): the mask of each input from
 * the manifest (a PNG, a .npy, or --mask's box for the others); values
 * against the formulas computed here from the maps the run wrote; the
 * same lines for another --batch/--threads and for two shards merged; the
 * per-class means of the summary; an input a metric cannot score (no mask)
 * is a failed input. */
START_TEST(test_metrics_per_input)
{
    enum { N = 24 };
    int label_count[10];
    make_fmnist(N, label_count);
    char m[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    /* masks: rows 0, 3, 6, ... a PNG (left half white); rows 1, 4, ... a
     * .npy (top 10 rows); the others none (--mask 2,3,12,20) */
    uint8_t png_in[784], npy_in[784], box_in[784];
    for (int i = 0; i < 784; i++) {
        int y = i / 28, x = i % 28;
        png_in[i] = x < 14;
        npy_in[i] = y < 10;
        box_in[i] = x >= 2 && x < 14 && y >= 3 && y < 23;
    }
    lrpx_pixmap *pm;
    char         err[512];
    ck_assert_int_eq(lrpx_pixmap_init(28, 28, 1, &pm), LRPX_OK);
    for (int i = 0; i < 784; i++)
        pm->data[i] = png_in[i] ? 255 : 0;
    ck_assert_msg(lrpx_pixmap_save_png(pm, tpath("data/left.png"), err, sizeof err) == LRPX_OK,
                  "%s", err);
    lrpx_pixmap_free(pm);
    ck_assert_int_eq(lrpx_npy_write(tpath("data/top.npy"), LRPX_DTYPE_UINT8, 2,
                                    (int64_t[]){28, 28}, npy_in, err, sizeof err),
                     LRPX_OK);
    char *man = read_text(tpath("data/manifest.csv")), *save;
    FILE *f   = fopen(tpath("data/masks.csv"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("path,label,mask\n", f);
    int row = 0;
    for (char *l = strtok_r(man, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (!strcmp(l, "path,label"))
            continue;
        fprintf(f, "%s,%s\n", l, row % 3 == 0 ? "left.png" : row % 3 == 1 ? "top.npy" : "");
        row++;
    }
    fclose(f);
    free(man);
    ck_assert_int_eq(row, N);
    char mf[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(mf, sizeof mf, "%s", tpath("data/masks.csv"));

    const char *one[] = {"batch", m, "--manifest", mf, "--out", tpath("one"), "--metric",
                         "sparseness", "--metric", "relevance-mass:abs=true", "--mask",
                         "2,3,12,20", "--batch", "1", "--threads", "1", "-q", NULL};
    ck_assert_msg(run_cli_argv(one, NULL) == 0, "%s", err_text);
    char *t = read_text(tpath("one/results.jsonl"));
    int   n = 0;
    for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        cJSON *o = cJSON_Parse(l);
        ck_assert_ptr_nonnull(o);
        const char *mask = cJSON_GetStringValue(cJSON_GetObjectItem(o, "mask"));
        const char *rel  = cJSON_GetStringValue(cJSON_GetObjectItem(o, "relevance"));
        cJSON      *ms   = cJSON_GetObjectItem(o, "metrics");
        ck_assert_ptr_nonnull(mask);
        char p[LRPX_TEST_PATH_MAX * 2];
        lrpx_test_snprintf(p, sizeof p, "%s/%s", tpath("one"), rel);
        lrpx_npy *r = lrpx_test_npy_load(p);
        ck_assert_int_eq(r->n_elems, 784);
        const uint8_t *in = strstr(mask, "left.png") ? png_in
                            : strstr(mask, "top.npy") ? npy_in
                                                      : box_in;
        ck_assert_msg(in != box_in || !strcmp(mask, "2,3,12,20"), "mask %s", mask);
        double sp = cJSON_GetObjectItem(ms, "sparseness")->valuedouble;
        double rm = cJSON_GetObjectItem(ms, "relevance-mass:abs=true")->valuedouble;
        ck_assert_msg(fabs(sp - gini_of(r->data, 784)) <= 1e-5, "line %d: sparseness %.9g vs %.9g",
                      n + 1, sp, gini_of(r->data, 784));
        ck_assert_msg(fabs(rm - mass_of(r->data, in)) <= 1e-5, "line %d: mass %.9g vs %.9g",
                      n + 1, rm, mass_of(r->data, in));
        lrpx_npy_free(r);
        cJSON_Delete(o);
    }
    free(t);
    ck_assert_int_eq(n, N);

    /* other batches and threads, and two shards merged: the same lines */
    const char *many[] = {"batch", m, "--manifest", mf, "--out", tpath("many"), "--metric",
                          "sparseness", "--metric", "relevance-mass:abs=true", "--mask",
                          "2,3,12,20", "--batch", "5", "--threads", "2", "-q", NULL};
    ck_assert_msg(run_cli_argv(many, NULL) == 0, "%s", err_text);
    char one_dir[LRPX_TEST_PATH_MAX], many_dir[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(one_dir, sizeof one_dir, "%s", tpath("one"));
    lrpx_test_snprintf(many_dir, sizeof many_dir, "%s", tpath("many"));
    assert_same_results(one_dir, many_dir);
    for (int s = 0; s < 2; s++) {
        char name[8], shard[8];
        snprintf(name, sizeof name, "h%d", s);
        snprintf(shard, sizeof shard, "%d/2", s);
        const char *a[] = {"batch", m, "--manifest", mf, "--out", tpath(name), "--metric",
                           "sparseness", "--metric", "relevance-mass:abs=true", "--mask",
                           "2,3,12,20", "--shard", shard, "-q", NULL};
        ck_assert_msg(run_cli_argv(a, NULL) == 0, "%s", err_text);
    }
    ck_assert_msg(run_cli("merge", tpath("h0"), tpath("h1"), "-o", tpath("all"), NULL) == 0,
                  "%s", err_text);
    ck_assert_msg(strstr(out_text, "m1 = mean of sparseness, m2 = mean of relevance-mass:abs=true")
                      && strstr(out_text, "mean rel. sum           m1           m2"),
                  "%s", out_text);
    char all_dir[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(all_dir, sizeof all_dir, "%s", tpath("all"));
    assert_same_results(one_dir, all_dir);

    /* the summary's metric means per class (the labels') are the means of
     * the lines */
    double sum[10] = {0};
    int    cnt[10] = {0};
    t              = read_text(tpath("one/results.jsonl"));
    for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(l);
        int    k = cJSON_GetObjectItem(o, "label")->valueint;     /* classes by label */
        sum[k] += cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metrics"), "sparseness")->valuedouble;
        cnt[k]++;
        cJSON_Delete(o);
    }
    free(t);
    char  *js  = read_text(tpath("all/summary.json"));
    cJSON *sj  = cJSON_Parse(js), *c;
    int    got = 0;
    ck_assert_ptr_nonnull(sj);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(sj, "classes"))
    {
        int    k    = cJSON_GetObjectItem(c, "class")->valueint;
        cJSON *mean = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "metrics"), "sparseness");
        ck_assert_msg(mean != NULL, "class %d: no sparseness mean in %s", k, js);
        ck_assert_msg(fabs(mean->valuedouble - sum[k] / cnt[k]) <= 1e-6,
                      "class %d: mean %.9g vs %.9g", k, mean->valuedouble, sum[k] / cnt[k]);
        got += cnt[k];
    }
    ck_assert_int_eq(got, N);
    cJSON_Delete(sj);
    free(js);

    /* relevance mass without a mask for some inputs: those fail, with why */
    const char *nomask[] = {"batch", m, "--manifest", mf, "--out", tpath("nm"), "--metric",
                            "relevance-mass", "-q", NULL};
    ck_assert_int_eq(run_cli_argv(nomask, NULL), 1);
    ck_assert_int_eq(count_lines(tpath("nm/results.jsonl")), N - N / 3);
    ck_assert_int_eq(count_lines(tpath("nm/errors.jsonl")), N / 3);
    char *errs = read_text(tpath("nm/errors.jsonl"));
    ck_assert_msg(strstr(errs, "metric relevance-mass: ") && strstr(errs, "mask"), "%s", errs);
    free(errs);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_bad_input_and_resume)
{
    char m[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    mkdir(tpath("in"), 0777);
    size_t n;
    char  *png = lrpx_test_read_file(lrpx_test_path("images/fmnist_2_trouser.png"), &n);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "in/ok%d.png", i);
        lrpx_test_write_file(tpath(name), png, n);
    }
    lrpx_test_write_file(tpath("in/cut.png"), png, n / 2);      /* truncated */
    lrpx_test_write_file(tpath("in/notes.txt"), "not an input", 12);
    const char *args[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("o"), "-q", NULL};
    ck_assert_int_eq(run_cli_argv(args, NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "1 input could not be used"));
    ck_assert_int_eq(count_lines(tpath("o/results.jsonl")), 5);
    char *errs = read_text(tpath("o/errors.jsonl"));
    ck_assert_msg(strstr(errs, "\"input\": \"cut.png\"") != NULL, "%s", errs);
    free(errs);
    ck_assert(!exists(tpath("o/relevance/cut.png.npy")));
    ck_assert(!exists(tpath("o/relevance/notes.txt.npy")));

    /* the same command again refuses to overwrite; --resume redoes cut.png */
    ck_assert_int_eq(run_cli_argv(args, NULL), 2);
    lrpx_test_write_file(tpath("in/cut.png"), png, n);
    const char *res[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("o"), "--resume",
                         NULL};
    ck_assert_msg(run_cli_argv(res, NULL) == 0, "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "1 input explained, 5 already done, 0 failed"));
    ck_assert_int_eq(count_lines(tpath("o/results.jsonl")), 6);
    ck_assert_int_eq(count_lines(tpath("o/errors.jsonl")), 0);

    /* a results file whose maps went missing: those inputs are redone */
    ck_assert_int_eq(unlink(tpath("o/relevance/ok3.png.npy")), 0);
    ck_assert_msg(run_cli_argv(res, NULL) == 0, "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "1 input explained, 5 already done"));
    ck_assert(exists(tpath("o/relevance/ok3.png.npy")));

    /* an --out below --inputs is not read as inputs on --resume */
    const char *inside[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("in/run"),
                            "--heatmaps", "--resume", NULL};
    ck_assert_msg(run_cli_argv(inside, NULL) == 0, "%s", err_text);
    ck_assert_msg(run_cli_argv(inside, NULL) == 0, "%s", err_text);
    ck_assert_ptr_nonnull(strstr(out_text, "0 inputs explained, 6 already done"));

    /* other settings do not resume */
    const char *other[] = {"batch", m, "--inputs", tpath("in"), "--out", tpath("o"), "--resume",
                           "--composite", "epsilon", NULL};
    ck_assert_int_eq(run_cli_argv(other, NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "other settings"));
    free(png);
}
END_TEST

START_TEST(test_usage_and_merge_errors)
{
    char m[LRPX_TEST_PATH_MAX], imgs[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path(MODEL));
    lrpx_test_snprintf(imgs, sizeof imgs, "%s", copy_pngs("imgs"));
    const char *o = tpath("u");
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, NULL), 2);               /* no --out */
    ck_assert_int_eq(run_cli("batch", m, "--out", o, NULL), 2);                     /* no inputs */
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--manifest", "x.csv", "--out", o,
                             NULL), 2);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", o, "--shard", "4/4", NULL),
                     2);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", o, "--shard", "1", NULL), 2);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", o, "--method", "gradient",
                             "--composite", "epsilon", NULL), 2);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", o, "--target", "10", NULL),
                     2);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", o, "--metric", "x", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "unknown metric"));
    ck_assert(!exists(o));
    /* an output that is an input (here through a symbolic link): refused
     * before any work, the input untouched */
    mkdir(tpath("g"), 0777);
    mkdir(tpath("g/relevance"), 0777);
    mkdir(tpath("gin"), 0777);
    size_t n_in;
    char  *x0 = lrpx_test_read_file(lrpx_test_path("images/fmnist_0_ankle_boot.npy"), &n_in);
    lrpx_test_write_file(tpath("g/relevance/x.npy.npy"), x0, n_in);
    ck_assert_int_eq(symlink("../g/relevance/x.npy.npy", tpath("gin/x.npy")), 0);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", tpath("gin"), "--out", tpath("g"), NULL), 2);
    ck_assert_msg(strstr(err_text, "is one of the inputs") != NULL, "%s", err_text);
    ck_assert(!exists(tpath("g/results.jsonl")));
    size_t n_after;
    char  *x1 = lrpx_test_read_file(tpath("g/relevance/x.npy.npy"), &n_after);
    ck_assert(n_after == n_in && !memcmp(x0, x1, n_in));
    free(x0);
    free(x1);
    /* the model as the run's results file */
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", tpath("mo"), NULL), 0);
    ck_assert_int_eq(unlink(tpath("mo/results.jsonl")), 0);
    ck_assert_int_eq(symlink(m, tpath("mo/results.jsonl")), 0);
    ck_assert_int_eq(run_cli("batch", m, "--inputs", imgs, "--out", tpath("mo"), "--resume",
                             NULL), 2);
    ck_assert_msg(strstr(err_text, "model") != NULL, "%s", err_text);
    /* manifests: a class name that does not exist, a file listed twice */
    const char one[] = "path,label\nimages/a.png,Robot\n";
    lrpx_test_write_file(tpath("m1.csv"), one, strlen(one));
    ck_assert_int_eq(run_cli("batch", m, "--manifest", tpath("m1.csv"), "--out", o, NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "m1.csv:2"));
    const char two[] = "{\"path\": \"a.png\"}\n{\"path\": \"./a.png\", \"label\": \"Trouser\"}\n";
    lrpx_test_write_file(tpath("m2.jsonl"), two, strlen(two));
    ck_assert_int_eq(run_cli("batch", m, "--manifest", tpath("m2.jsonl"), "--out", o, NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "a.png is listed twice"));
    ck_assert(!exists(tpath("u/results.jsonl")));

    /* merges that must not happen, and gaps */
    const char *a[] = {"batch", m, "--inputs", imgs, "--out", tpath("a0"), "--shard", "0/2", "-q",
                       NULL};
    const char *b[] = {"batch", m, "--inputs", imgs, "--out", tpath("a1"), "--shard", "1/2", "-q",
                       "--composite", "epsilon", NULL};
    const char *c[] = {"batch", m, "--inputs", imgs, "--out", tpath("a2"), "--shard", "1/2", "-q",
                       NULL};
    ck_assert_int_eq(run_cli_argv(a, NULL), 0);
    ck_assert_int_eq(run_cli_argv(b, NULL), 0);
    ck_assert_int_eq(run_cli_argv(c, NULL), 0);
    ck_assert_int_eq(run_cli("merge", tpath("a0"), tpath("a1"), "-o", tpath("mm"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "different settings"));
    ck_assert_int_eq(run_cli("merge", tpath("a0"), tpath("a0"), "-o", tpath("mm"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "both shard 0/2"));
    ck_assert_int_eq(run_cli("merge", tpath("a0"), "-o", tpath("mm"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "shard 1/2: not given"));
    ck_assert(!exists(tpath("mm/results.jsonl")));
    ck_assert_int_eq(run_cli("merge", tpath("a0"), "-o", tpath("mm"), "--allow-gaps", "-q", NULL),
                     0);
    ck_assert(exists(tpath("mm/results.jsonl")));
    ck_assert_int_eq(run_cli("merge", tpath("a0"), tpath("a2"), "-o", tpath("a0"), NULL), 2);
    /* an output that is a shard's file by another name: refused, untouched */
    mkdir(tpath("ln"), 0777);
    ck_assert_int_eq(symlink("../a0/results.jsonl", tpath("ln/results.jsonl")), 0);
    int a0_lines = count_lines(tpath("a0/results.jsonl"));
    ck_assert_int_eq(run_cli("merge", tpath("a0"), tpath("a2"), "-o", tpath("ln"), NULL), 2);
    ck_assert_msg(strstr(err_text, "refusing to overwrite") != NULL, "%s", err_text);
    ck_assert_int_eq(count_lines(tpath("a0/results.jsonl")), a0_lines);
    ck_assert_int_eq(run_cli("merge", tpath("a0"), tpath("a2"), "-o", tpath("ok"), "-q", NULL), 0);
    ck_assert_int_eq(count_lines(tpath("ok/results.jsonl")),
                     count_lines(tpath("a0/inputs.txt")) + count_lines(tpath("a2/inputs.txt")));
}
END_TEST

/* ---- SpRAy on a "Clever Hans" model ---- */

/* The marked and plain maps of the clusters of rep/spray.json: for each
 * cluster, its size and how many of its members are in marked[]. */
static int
cluster_counts(const char *json_path, char (*marked)[16], int n_marked, int *size, int *hits,
               int max)
{
    char  *js = read_text(json_path);
    cJSON *o  = cJSON_Parse(js), *c;
    int    n  = 0;
    ck_assert_ptr_nonnull(o);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "clusters"))
    {
        ck_assert_int_lt(n, max);
        cJSON *mem;
        size[n] = hits[n] = 0;
        cJSON_ArrayForEach(mem, cJSON_GetObjectItem(c, "members"))
        {
            size[n]++;
            for (int i = 0; i < n_marked; i++)
                hits[n] += !strcmp(mem->valuestring, marked[i]);
        }
        n++;
    }
    ck_assert_int_eq(n, cJSON_GetObjectItem(o, "n_clusters")->valueint);
    cJSON_Delete(o);
    free(js);
    return n;
}

/* The mean over the marked maps of run dir `run` of the signed relevance in
 * the mark's box (fmnist_hans.json: row, col and the pattern's size)
 * divided by the map's total |R|: > 0 when the mark speaks for the class. */
static double
mark_share(const char *run, char (*marked)[16], int n_marked)
{
    char  *meta = read_text(lrpx_test_path("models/fmnist_hans.json"));
    cJSON *mj = cJSON_Parse(meta), *mk = cJSON_GetObjectItem(mj, "mark");
    int    r0 = cJSON_GetObjectItem(mk, "row")->valueint;
    int    c0 = cJSON_GetObjectItem(mk, "col")->valueint;
    int    sz = cJSON_GetArraySize(cJSON_GetObjectItem(mk, "pattern"));
    cJSON_Delete(mj);
    free(meta);
    double total = 0.0;
    for (int i = 0; i < n_marked; i++) {
        char p[LRPX_TEST_PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/relevance/%s.npy", run, marked[i]);
        lrpx_npy    *a = lrpx_test_npy_load(p);
        const float *v = a->data;
        ck_assert_int_eq(a->n_elems, 28 * 28);
        double in = 0.0, all = 0.0;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                all += fabs(v[y * 28 + x]);
                if (y >= r0 && y < r0 + sz && x >= c0 && x < c0 + sz)
                    in += v[y * 28 + x];
            }
        total += in / all;
        lrpx_npy_free(a);
    }
    return total / n_marked;
}

/* testdata/models/fmnist_hans.onnx (scripts/train_spray_hans.py) learned
 * that a corner mark means Sandal from 40 % of its training sandals; the
 * 100 test sandals of testdata/spray_hans carry the mark or not (the
 * manifest's "marked" column, decided by the script). SpRAy over their
 * maps for class Sandal must separate the two strategies:
 *   - with the eigengap's cluster count, every cluster is at least 90 %
 *     marked or 90 % plain, and the marked clusters hold at least 90 % of
 *     the marked maps;
 *   - cut in two (--clusters 2), one cluster is the marked maps: at least
 *     90 % of it marked, and at least 90 % of the marked maps in it;
 *   - and that strategy is the Clever Hans one: on average the relevance
 *     in the mark's box is positive (the mark speaks for Sandal), while the
 *     bundled clean model, given the same images, counts the mark against
 *     Sandal. The maps are signed (epsilon_alpha2_beta1): with z+ in the
 *     first layer (epsilon_plus) a bright mark gets positive relevance from
 *     either model. */
START_TEST(test_spray_clever_hans)
{
    char m[LRPX_TEST_PATH_MAX], man[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(m, sizeof m, "%s", lrpx_test_path("models/fmnist_hans.onnx"));
    lrpx_test_snprintf(man, sizeof man, "%s", lrpx_test_path("spray_hans/manifest.csv"));
    const char *batch[] = {"batch", m, "--manifest", man, "--target", "5", "--out", tpath("run"),
                           "--composite", "epsilon_alpha2_beta1", "-q", NULL};
    ck_assert_msg(run_cli_argv(batch, NULL) == 0, "%s", err_text);
    const char *spray[] = {"spray", tpath("run"), "--class", "Sandal", "-o", tpath("rep"), NULL};
    ck_assert_msg(run_cli_argv(spray, NULL) == 0, "%s", err_text);
    static const char *const files[] = {"spray.md",      "spectrum.svg",      "embedding.svg",
                                        "embedding.png", "cluster_0_mean.png",
                                        "cluster_0_examples.png", "cluster_1_mean.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[64];
        snprintf(p, sizeof p, "rep/%s", files[i]);
        ck_assert_msg(exists(tpath(p)), "no %s", p);
    }
    /* the truth: the manifest's marked column */
    char *csv = read_text(man), *save;
    char  marked[128][16];
    int   n_marked = 0, n_rows = 0;
    strtok_r(csv, "\n", &save);                          /* header */
    for (char *l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n_rows++) {
        char *c1 = strchr(l, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        ck_assert_ptr_nonnull(c2);
        if (c2[1] == '1' && n_marked < 128)
            snprintf(marked[n_marked++], sizeof marked[0], "%.*s", (int)(c1 - l), l);
    }
    free(csv);
    ck_assert_int_ge(n_marked, 10);
    ck_assert_int_gt(n_rows, n_marked);

    int size[LRPX_SPRAY_MAX_CLUSTERS], hits[LRPX_SPRAY_MAX_CLUSTERS];
    int n = cluster_counts(tpath("rep/spray.json"), marked, n_marked, size, hits,
                           LRPX_SPRAY_MAX_CLUSTERS);
    ck_assert_int_ge(n, 2);
    int in_marked = 0, total = 0;
    for (int q = 0; q < n; q++) {
        int major = hits[q] * 2 > size[q] ? hits[q] : size[q] - hits[q];
        ck_assert_msg(major >= 0.9 * size[q], "cluster %d mixes the strategies: %d of %d marked",
                      q, hits[q], size[q]);
        in_marked += hits[q] * 2 > size[q] ? hits[q] : 0;
        total += size[q];
    }
    ck_assert_int_eq(total, n_rows);
    ck_assert_msg(in_marked >= 0.9 * n_marked, "only %d of %d marked maps in marked clusters",
                  in_marked, n_marked);

    const char *two[] = {"spray", tpath("run"), "--class", "5", "--clusters", "2", "-o",
                         tpath("rep2"), "-q", NULL};
    ck_assert_msg(run_cli_argv(two, NULL) == 0, "%s", err_text);
    n = cluster_counts(tpath("rep2/spray.json"), marked, n_marked, size, hits, 2);
    int q = hits[0] >= hits[1] ? 0 : 1;
    ck_assert_msg(hits[q] >= 0.9 * size[q] && hits[q] >= 0.9 * n_marked,
                  "the marked cluster of two: %d of its %d maps marked, %d of the %d marked maps",
                  hits[q], size[q], hits[q], n_marked);

    /* the mark is evidence for the class here, against it in the clean model */
    double hans = mark_share(tpath("run"), marked, n_marked);
    char   clean[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(clean, sizeof clean, "%s", lrpx_test_path("models/fmnist_cnn.onnx"));
    const char *control[] = {"batch", clean, "--manifest", man, "--target", "5", "--out",
                             tpath("clean"), "--composite", "epsilon_alpha2_beta1", "-q", NULL};
    ck_assert_msg(run_cli_argv(control, NULL) == 0, "%s", err_text);
    double plain = mark_share(tpath("clean"), marked, n_marked);
    ck_assert_msg(hans > 0.05 && plain < -0.05, "relevance share in the mark's box: %.3f for the "
                  "marked model, %.3f for the clean one", hans, plain);
}
END_TEST

static Suite *
batch_cli_suite(void)
{
    Suite *s  = suite_create("batch_cli");
    TCase *tc = tcase_create("shards");
    tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_shards_kill_resume_merge);
    tcase_add_test(tc, test_scheduler_variables);
    tcase_add_test(tc, test_methods_against_pytorch);
    tcase_add_test(tc, test_other_methods_against_references);
    tcase_add_test(tc, test_metrics_per_input);
    tcase_add_test(tc, test_spray_clever_hans);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_bad_input_and_resume);
    tcase_add_test(tc, test_usage_and_merge_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(batch_cli_suite());
}
