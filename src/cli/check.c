/* lrpx check MODEL --spec CHECKS.json: the CI gate for exported models.
 * Flags from a table, then the library does the work (lrpx_check_*):
 * exit 0 when every check passes, 1 when any fails or cannot be evaluated,
 * 2 for usage errors and malformed specs (the message names the JSON path
 * of the mistake). docs/ci.md describes the spec. */
#include <stddef.h>

#include "cli.h"

static const char check_usage[] =
    "usage: lrpx check MODEL --spec CHECKS.json [--json] [--junit FILE.xml] [--github]\n"
    "\n"
    "Check an exported model against a spec: it loads, every operator is\n"
    "supported, opset and input/output names and shapes, outputs against\n"
    "reference outputs, labels, and its explanations (regression against a\n"
    "stored map, relevance mass in a mask, AOPC, conservation, similarity to\n"
    "a randomised model), each with its threshold. Prints a summary (or\n"
    "--json); exit status 0 when all pass, 1 when any fails or cannot be\n"
    "evaluated, 2 for a usage error or a malformed spec. docs/ci.md lists\n"
    "every field of the spec.\n";

struct check_args {
    const char *spec, *junit;
    bool        json, github;
};

#define ARG(field) offsetof(struct check_args, field)
static const struct cli_flag check_flags[] = {
    {"--spec", NULL, "CHECKS.json", "the checks and their thresholds (JSON)", CLI_STRING,
     ARG(spec), .need = "a file"},
    {"--json", NULL, NULL, "print the results as one JSON object instead of the summary",
     CLI_TRUE, .off = ARG(json)},
    {"--junit", NULL, "FILE.xml", "also write JUnit XML (for GitHub Actions and GitLab CI)",
     CLI_STRING, ARG(junit), .need = "a file name"},
    {"--github", NULL, NULL, "also print GitHub Actions annotations (::error at the\n"
     "check's line of the spec)", CLI_TRUE, .off = ARG(github)},
    {NULL}};
#undef ARG

/* The progress bar over the checks (a terminal only, not --quiet). */
static void
check_progress(void *ctx, int done, int total)
{
    struct cli_progress *pr = ctx;
    if (done == 0)
        cli_progress_start(pr, "check", "checks", total);
    else
        cli_progress_step(pr, done - pr->done);
}

int
cmd_check(int argc, char **argv)
{
    struct check_args     a         = {0};
    struct cli_flag_group groups[1] = {{.flags = check_flags, .ctx = &a}};
    const char           *model     = NULL;
    int                   n_pos;
    int rc = cli_parse_flags("check", argc, argv, groups, 1, &model, 1, &n_pos);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "check", check_usage, groups, 1);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (!model)
        return cli_usage_error("check", "missing MODEL");
    if (!a.spec)
        return cli_usage_error("check", "missing --spec CHECKS.json");
    if (a.json && a.github)
        return cli_usage_error("check", "--json and --github both print on stdout; choose one "
                               "(--junit FILE.xml writes a file)");

    /* the report may not replace the model or the spec (the files the spec
     * names are read by the library later; a report over one of them is
     * caught here when it is the model or the spec only) */
    cli_guard_model(NULL, model);
    cli_guard_input(a.spec, "the spec");
    if (a.junit && cli_guard_output("check", "--junit", a.junit) != CLI_OK)
        return CLI_USAGE;

    char        err[1024];
    lrpx_check *c;
    lrpx_status st = lrpx_check_load(a.spec, &c, err, sizeof err);
    if (st == LRPX_EPARSE)
        return cli_usage_error("check", "%s", err);
    if (st != LRPX_OK)
        return cli_usage_error("check", "%s (%s)", err, lrpx_status_name(st));
    struct cli_progress pr = {0};
    lrpx_check_set_progress(c, check_progress, &pr);
    st = lrpx_check_run(c, model);
    cli_progress_end(&pr);
    if (st != LRPX_OK) {
        lrpx_check_free(c);
        return cli_error("check", "out of memory");
    }
    for (int i = 0; cli_verbosity.verbose && i < lrpx_check_n_results(c); i++) {
        lrpx_check_result r;
        if (lrpx_check_result_get(c, i, &r) == LRPX_OK)
            fprintf(stderr, r.seconds < 0.01 ? "lrpx check: %s: %.2f ms\n"
                                             : "lrpx check: %s: %.0f ms\n",
                    r.name, r.seconds * 1e3);
    }
    rc = lrpx_check_n_failed(c) ? CLI_FAIL : CLI_OK;
    if (a.junit && lrpx_check_write(c, LRPX_CHECK_FORMAT_JUNIT, a.junit, err, sizeof err) !=
                       LRPX_OK)
        rc = cli_error("check", "--junit: %s", err);
    if (lrpx_check_write(c, a.json ? LRPX_CHECK_FORMAT_JSON : LRPX_CHECK_FORMAT_TEXT, NULL, err,
                         sizeof err) != LRPX_OK ||
        (a.github &&
         lrpx_check_write(c, LRPX_CHECK_FORMAT_GITHUB, NULL, err, sizeof err) != LRPX_OK))
        rc = cli_error("check", "%s", err);
    lrpx_check_free(c);
    return rc;
}
