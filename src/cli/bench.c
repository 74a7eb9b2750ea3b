/* lrpx bench MODEL INPUT: time the forward pass (and optionally an
 * explanation) in-process, for scripts/bench*.sh. Prints one JSON line. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char bench_help[] =
    "usage: lrpx bench MODEL INPUT [-n N] [--warmup W] [--explain COMPOSITE]\n"
    "\n"
    "Time N forward passes (after W warm-up runs) and print the median,\n"
    "minimum and maximum in milliseconds as one JSON line. With --explain,\n"
    "also time N explanations (forward + relevance pass) with that\n"
    "composite. Threads: OpenBLAS follows OPENBLAS_NUM_THREADS.\n"
    "\n"
    "  -n N        timed runs (default 10)\n"
    "  --warmup W  untimed runs first (default 2)\n";

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
print_stats(const char *key, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    printf("\"%s\": {\"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f}", key, med, t[0],
           t[n - 1]);
}

int
cmd_bench(int argc, char **argv)
{
    const char *model_path = NULL, *input = NULL, *composite = NULL;
    long long   n = 10, warmup = 2;
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        int         r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(bench_help, stdout);
            return CLI_OK;
        } else if ((r = cli_flag_value(argc, argv, &i, "-n", &val)) != 0) {
            if (r < 0 || !cli_parse_int(val, &n) || n < 1 || n > 100000)
                return cli_usage_error("bench", "-n needs a positive whole number");
        } else if ((r = cli_flag_value(argc, argv, &i, "--warmup", &val)) != 0) {
            if (r < 0 || !cli_parse_int(val, &warmup) || warmup < 0 || warmup > 100000)
                return cli_usage_error("bench", "--warmup needs a whole number >= 0");
        } else if ((r = cli_flag_value(argc, argv, &i, "--explain", &val)) != 0) {
            if (r < 0)
                return cli_usage_error("bench", "--explain needs a composite name");
            composite = val;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("bench", "unknown option '%s'", argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else if (!input) {
            input = argv[i];
        } else {
            return cli_usage_error("bench", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model_path || !input)
        return cli_usage_error("bench", "needs MODEL and INPUT");
    double load0 = now_ms();
    lrpx_model *m = cli_load_model("bench", model_path, false);
    if (!m)
        return CLI_FAIL;
    double        load_ms = now_ms() - load0;
    lrpx_session *s       = NULL;
    int           rc      = CLI_OK;
    double       *t       = calloc((size_t)n, sizeof *t);
    if (!t || lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("bench", "%s", s ? lrpx_session_errmsg(s) : "out of memory");
        goto done;
    }
    struct cli_input in = {NULL, input};
    if ((rc = cli_set_input("bench", s, m, &in)) != CLI_OK)
        goto done;
    for (long long i = 0; i < warmup + n; i++) {
        double t0 = now_ms();
        if (lrpx_session_run(s) != LRPX_OK) {
            rc = cli_error("bench", "%s", lrpx_session_errmsg(s));
            goto done;
        }
        if (i >= warmup)
            t[i - warmup] = now_ms() - t0;
    }
    printf("{\"model\": ");
    cli_json_string(stdout, model_path);
    printf(", \"load_ms\": %.3f, ", load_ms);
    print_stats("run", t, (int)n);
    if (composite) {
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        snprintf(o.composite, sizeof o.composite, "%s", composite);
        for (long long i = 0; i < warmup + n; i++) {
            /* a new input invalidates the forward pass: time forward + LRP */
            if ((rc = cli_set_input("bench", s, m, &in)) != CLI_OK)
                goto done;
            double t0 = now_ms();
            if (lrpx_session_explain(s, &o) != LRPX_OK) {
                printf("}\n");
                rc = cli_error("bench", "%s", lrpx_session_errmsg(s));
                goto done;
            }
            if (i >= warmup)
                t[i - warmup] = now_ms() - t0;
        }
        printf(", \"explain_composite\": \"%s\", ", composite);
        print_stats("explain", t, (int)n);
    }
    printf("}\n");
done:
    free(t);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
