/* lrpx bench MODEL INPUT: time the forward pass (and optionally an
 * explanation) in-process, for scripts/bench*.sh. Prints one JSON line. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char bench_usage[] =
    "usage: lrpx bench MODEL INPUT [-n N] [--warmup W] [--threads T]\n"
    "                  [--explain COMPOSITE[,COMPOSITE...]] [--gradient]\n"
    "                  [--method NAME [--steps S]] [--low L --high H] [--keep-all]\n"
    "                  [--profile [--profile-top K]]\n"
    "\n"
    "Time N forward passes (after W warm-up runs) and print the median,\n"
    "minimum and maximum in milliseconds as one JSON line. With --explain,\n"
    "also time N explanations (forward + relevance pass) with each\n"
    "composite; with --gradient, N gradients (forward + backward pass);\n"
    "with --method, N attributions with that method and its default\n"
    "options (forward pass included; scripts/bench_ig.py). INPUT: .npy, a\n"
    "JPEG/PNG image or a folder of images (a batch); decoding and\n"
    "preprocessing are not timed.\n";

struct bench_args {
    const char *composite, *method;
    int         n, warmup, threads, top, steps;
    bool        profile, gradient, keep_all;
    double      low, high;
};

#define ARG(field) offsetof(struct bench_args, field)
static const struct cli_flag bench_flags[] = {
    {"-n", NULL, "N", "timed runs (default 10)", CLI_INT, .off = ARG(n), .lo = 1, .hi = 100000},
    {"--warmup", NULL, "W", "untimed runs first (default 2)", CLI_INT, .off = ARG(warmup), .lo = 0,
     .hi = 100000},
    {"--threads", NULL, "T",
     "threads for sgemm and lrpx's loops (default:\n"
     "LRPX_NUM_THREADS, else OPENBLAS_NUM_THREADS, else all CPUs)",
     CLI_INT, .off = ARG(threads), .lo = 1, .hi = 256},
    {"--explain", NULL, "COMPOSITE[,...]",
     "also time explanations with these composites\n"
     "(comma-separated)",
     CLI_STRING, ARG(composite), .need = "a composite name"},
    {"--gradient", NULL, NULL, "also time gradients of the predicted class", CLI_TRUE,
     .off = ARG(gradient)},
    {"--keep-all", NULL, NULL,
     "time runs that keep every activation (as a session\n"
     "that will explain does) instead of only the outputs",
     CLI_TRUE, .off = ARG(keep_all)},
    {"--low", NULL, "L", "input bounds for epsilon_gamma_box (default -3)", CLI_DOUBLE, ARG(low),
     .lo = -1e30, .hi = 1e30},
    {"--high", NULL, "H", "(default 3)", CLI_DOUBLE, ARG(high), .lo = -1e30, .hi = 1e30},
    {"--method", NULL, "NAME", "also time attributions with this method (lrpx explain\n"
     "--method names)", CLI_STRING, ARG(method), .need = "a method name"},
    {"--steps", NULL, "S", "integrated gradients' steps for --method (default 50)", CLI_INT,
     ARG(steps), .lo = 1, .hi = 10000},
    {"--profile", NULL, NULL,
     "also time every node (LRPX_PROFILE=1) and print the\n"
     "forward time per op type and the slowest nodes to stderr",
     CLI_TRUE, .off = ARG(profile)},
    {"--profile-top", NULL, "K", "how many slowest nodes to list (default 15)", CLI_INT,
     ARG(top), .lo = 0, .hi = 1000000},
    {NULL}};
#undef ARG

/* CPU time of the whole process (all its threads): less sensitive than the
 * wall clock to other programs competing for the cores */
static double
cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

static int
cmp_entry(const void *a, const void *b)
{
    double x = ((const lrpx_profile_entry *)a)->total_ms;
    double y = ((const lrpx_profile_entry *)b)->total_ms;
    return x > y ? -1 : x < y;
}

/* Per op type and the `top` slowest nodes, in ms per forward pass. */
static void
print_profile(const lrpx_session *s, double runs, long long top)
{
    for (int by_node = 0; by_node <= 1; by_node++) {
        int                 n = lrpx_session_profile(s, by_node, NULL, 0);
        lrpx_profile_entry *e = n > 0 ? calloc((size_t)n, sizeof *e) : NULL;
        if (!e)
            return;
        lrpx_session_profile(s, by_node, e, n);
        double total = 0.0;
        for (int i = 0; i < n; i++)
            total += e[i].total_ms;
        qsort(e, (size_t)n, sizeof *e, cmp_entry);
        fprintf(stderr, by_node ? "\nslowest nodes (ms per pass):\n"
                                : "forward time per op type (ms per pass, %% of total):\n");
        for (int i = 0; i < n && (!by_node || i < top); i++)
            fprintf(stderr, "  %-28s %-20s %9.3f  %5.1f%%  (%lld calls)\n",
                    e[i].name[0] ? e[i].name : "(unnamed)", by_node ? e[i].op_type : "",
                    e[i].total_ms / runs, 100.0 * e[i].total_ms / (total > 0 ? total : 1),
                    (long long)e[i].n_calls);
        if (!by_node)
            fprintf(stderr, "  %-28s %-20s %9.3f\n", "total", "", total / runs);
        free(e);
    }
}

/* Time warmup + n passes (explanations, or gradients when !explain) into
 * t, each after setting the input again. Prints nothing on success. */
static int
bench_passes(lrpx_session *s, const struct lrpx_lrp_options *o, struct cli_batch *batches,
             double *t, double *tc, long long warmup, long long n, bool explain)
{
    struct cli_progress pr;
    cli_progress_start(&pr, "bench", explain ? "explanations" : "gradients", warmup + n);
    for (long long i = 0; i < warmup + n; i++, cli_progress_step(&pr, 1)) {
        int rc = cli_batch_set("bench", s, &batches[0]);
        if (rc != CLI_OK)
            return rc;
        double t0 = (cli_now() * 1e3), c0 = cpu_ms();
        if ((explain ? lrpx_session_explain(s, o) : lrpx_session_gradient(s, o)) != LRPX_OK) {
            printf("}\n");
            return cli_error("bench", "%s", lrpx_session_errmsg(s));
        }
        if (i >= warmup) {
            t[i - warmup]  = (cli_now() * 1e3) - t0;
            tc[i - warmup] = cpu_ms() - c0;
        }
    }
    cli_progress_end(&pr);
    return CLI_OK;
}

int
cmd_bench(int argc, char **argv)
{
    struct bench_args a = {.n = 10, .warmup = 2, .top = 15, .low = -3.0, .high = 3.0};
    struct cli_prep   prep;
    cli_prep_init(&prep);
    const char           *pos[2];
    int                   n_pos;
    struct cli_flag_group groups[] = {{.flags = bench_flags, .ctx = &a}, cli_prep_group(&prep)};
    int                   n_groups = (int)(sizeof groups / sizeof groups[0]);
    int rc = cli_parse_flags("bench", argc, argv, groups, n_groups, pos, 2, &n_pos);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "bench", bench_usage, groups, n_groups);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (n_pos < 2)
        return cli_usage_error("bench", "needs MODEL and INPUT");
    const char *model_path = pos[0], *input = pos[1], *composite = a.composite;
    struct lrpx_attr_options ao;
    lrpx_attr_options_default(&ao);
    if (a.method && lrpx_attr_method_parse(a.method, &ao.method) != LRPX_OK)
        return cli_usage_error("bench", "--method: '%s' is not a method", a.method);
    if (a.steps > 0)
        ao.steps = a.steps;
    int         n = a.n, warmup = a.warmup, threads = a.threads, top = a.top;
    bool        profile = a.profile;
    if (profile)
        setenv("LRPX_PROFILE", "1", 1);
    double load0 = (cli_now() * 1e3);
    lrpx_model *m = cli_load_model("bench", model_path, false);
    if (!m)
        return CLI_FAIL;
    double        load_ms = (cli_now() * 1e3) - load0;
    lrpx_session *s       = NULL;
    double       *t       = calloc((size_t)n, sizeof *t);
    double       *tc      = calloc((size_t)n, sizeof *tc);
    struct cli_batch *batches = NULL;
    int               n_batches = 0;
    if (!t || !tc || lrpx_session_init(m, &s) != LRPX_OK) {
        rc = cli_error("bench", "%s", s ? lrpx_session_errmsg(s) : "out of memory");
        goto done;
    }
    if (threads > 0)
        lrpx_session_set_threads(s, (int)threads);
    /* inference as lrpx run does it; an explanation re-plans keeping all */
    if (!a.keep_all)
        lrpx_session_set_keep(s, LRPX_KEEP_OUTPUTS);
    struct cli_input in = {NULL, input};
    if ((rc = cli_set_inputs("bench", s, m, model_path, &in, 1, &prep, true, true, &batches,
                             &n_batches)) != CLI_OK)
        goto done;
    struct cli_progress pr;
    cli_progress_start(&pr, "bench", "runs", warmup + n);
    for (long long i = 0; i < warmup + n; i++, cli_progress_step(&pr, 1)) {
        double t0 = (cli_now() * 1e3), c0 = cpu_ms();
        if (lrpx_session_run(s) != LRPX_OK) {
            rc = cli_error("bench", "%s", lrpx_session_errmsg(s));
            goto done;
        }
        if (i >= warmup) {
            t[i - warmup]  = (cli_now() * 1e3) - t0;
            tc[i - warmup] = cpu_ms() - c0;
        }
    }
    cli_progress_end(&pr);
    printf("{\"model\": ");
    cli_json_string(stdout, model_path);
    printf(", \"load_ms\": %.3f, \"threads\": %d, ", load_ms, lrpx_session_threads(s));
    print_stats("run", t, (int)n);
    printf(", ");
    print_stats("run_cpu", tc, (int)n);
    if (profile)
        print_profile(s, (double)(warmup + n), top);
    /* each explanation or gradient gets a new input first, which
     * invalidates the forward pass: the time is forward + backward pass.
     * Keys: "explain" (the first composite, as before) and
     * "explain_<composite>" for each. */
    for (const char *c = composite; c && *c;) {
        const char *e   = strchr(c, ',');
        size_t      len = e ? (size_t)(e - c) : strlen(c);
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        snprintf(o.composite, sizeof o.composite, "%.*s", (int)len, c);
        o.box_low  = a.low;
        o.box_high = a.high;
        if ((rc = bench_passes(s, &o, batches, t, tc, warmup, n, true)) != CLI_OK)
            goto done;
        char key[sizeof o.composite + 16], key_cpu[sizeof key + 4];
        snprintf(key, sizeof key, "explain_%s", o.composite);
        if (c == composite) {
            printf(", \"explain_composite\": \"%s\", ", o.composite);
            print_stats("explain", t, (int)n);
        }
        printf(", ");
        print_stats(key, t, (int)n);
        snprintf(key_cpu, sizeof key_cpu, "%s_cpu", key);
        printf(", ");
        print_stats(key_cpu, tc, (int)n);
        c = e ? e + 1 : c + len;
    }
    if (a.gradient) {
        struct lrpx_lrp_options o;
        lrpx_lrp_options_default(&o);
        if ((rc = bench_passes(s, &o, batches, t, tc, warmup, n, false)) != CLI_OK)
            goto done;
        printf(", ");
        print_stats("gradient", t, (int)n);
        printf(", ");
        print_stats("gradient_cpu", tc, (int)n);
    }
    if (a.method) {
        for (long long i = 0; i < warmup + n; i++) {
            if ((rc = cli_batch_set("bench", s, &batches[0])) != CLI_OK)
                goto done;
            double t0 = (cli_now() * 1e3), c0 = cpu_ms();
            if (lrpx_session_attribute(s, &ao) != LRPX_OK) {
                printf("}\n");
                rc = cli_error("bench", "%s", lrpx_session_errmsg(s));
                goto done;
            }
            if (i >= warmup) {
                t[i - warmup]  = (cli_now() * 1e3) - t0;
                tc[i - warmup] = cpu_ms() - c0;
            }
        }
        printf(", \"method\": \"%s\", \"steps\": %d, ", lrpx_attr_method_name(ao.method),
               ao.steps);
        print_stats("attribute", t, (int)n);
        printf(", ");
        print_stats("attribute_cpu", tc, (int)n);
    }
    printf("}\n");
done:
    cli_batches_free(batches, n_batches);
    free(t);
    free(tc);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
