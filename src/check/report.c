/* The results of `lrpx check` for people and for CI: a text summary, one
 * JSON object, JUnit XML (the test-report format GitHub Actions' test
 * reporters and GitLab's artifacts:reports:junit read) and GitHub Actions
 * workflow commands (::error annotations at the check's line of the spec).
 * Files are written atomically (lrpx__write_atomic). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check/check_impl.h"

static const char *const outcome_names[LRPX_CHECK_OUTCOME_COUNT] = {"pass", "fail", "error"};

const char *
lrpx__check_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < LRPX_CHECK_OUTCOME_COUNT ? outcome_names[outcome] : "?";
}

int
lrpx_check_n_results(const lrpx_check *c)
{
    return c && c->results ? c->n_items : 0;
}

lrpx_status
lrpx_check_result_get(const lrpx_check *c, int i, lrpx_check_result *out)
{
    if (!c || !out || !c->results || i < 0 || i >= c->n_items)
        return LRPX_EINVAL;
    const struct lrpx_check_item        *it = &c->items[i];
    const struct lrpx_check_result_impl *r  = &c->results[i];
    *out = (lrpx_check_result){
        .name = it->name, .kind = lrpx__check_kind_names[it->kind], .index = it->index,
        .line = it->line, .outcome = (lrpx_check_outcome)r->outcome, .value = r->value,
        .threshold = r->threshold, .relation = r->relation, .quantity = r->quantity,
        .message = r->message, .n_samples = r->n_samples, .samples = r->samples,
        .seconds = r->seconds};
    return LRPX_OK;
}

static void
count(const lrpx_check *c, int n[LRPX_CHECK_OUTCOME_COUNT])
{
    memset(n, 0, sizeof(int) * LRPX_CHECK_OUTCOME_COUNT);
    for (int i = 0; i < lrpx_check_n_results(c); i++)
        n[c->results[i].outcome]++;
}

int
lrpx_check_n_failed(const lrpx_check *c)
{
    int n[LRPX_CHECK_OUTCOME_COUNT];
    count(c, n);
    return n[LRPX_CHECK_FAIL] + n[LRPX_CHECK_ERROR];
}

/* ---- text ---- */

static lrpx_status
write_text(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const lrpx_check *c = ctx;
    int               n[LRPX_CHECK_OUTCOME_COUNT];
    (void)err;
    count(c, n);
    fprintf(f, "lrpx check %s (spec %s)\n", c->model_path, c->spec_path);
    for (int i = 0; i < c->n_items; i++) {
        const struct lrpx_check_result_impl *r = &c->results[i];
        static const char *const tag[] = {"PASS ", "FAIL ", "ERROR"};
        fprintf(f, "  %s  %-28s %s\n", tag[r->outcome], c->items[i].name, r->message);
    }
    fprintf(f, "%d passed, %d failed, %d errors (%.2f s)\n", n[LRPX_CHECK_PASS],
            n[LRPX_CHECK_FAIL], n[LRPX_CHECK_ERROR], c->seconds);
    return LRPX_OK;
}

/* ---- JSON ---- */

static void
json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void
json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static lrpx_status
write_json(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const lrpx_check *c = ctx;
    int               n[LRPX_CHECK_OUTCOME_COUNT];
    (void)err;
    count(c, n);
    fputs("{\"model\": ", f);
    json_string(f, c->model_path);
    fputs(", \"spec\": ", f);
    json_string(f, c->spec_path);
    fputs(", \"name\": ", f);
    if (c->suite)
        json_string(f, c->suite);
    else
        fputs("null", f);
    fprintf(f, ", \"passed\": %d, \"failed\": %d, \"errors\": %d, \"seconds\": %.3f, "
            "\"checks\": [", n[LRPX_CHECK_PASS], n[LRPX_CHECK_FAIL], n[LRPX_CHECK_ERROR],
            c->seconds);
    for (int i = 0; i < c->n_items; i++) {
        const struct lrpx_check_item        *it = &c->items[i];
        const struct lrpx_check_result_impl *r  = &c->results[i];
        fprintf(f, "%s\n  {\"index\": %d, \"name\": ", i ? "," : "", it->index);
        json_string(f, it->name);
        fputs(", \"kind\": ", f);
        json_string(f, lrpx__check_kind_names[it->kind]);
        fprintf(f, ", \"line\": %d, \"outcome\": \"%s\", \"value\": ", it->line,
                outcome_names[r->outcome]);
        json_number(f, r->value);
        fputs(", \"relation\": ", f);
        json_string(f, r->relation);
        fputs(", \"threshold\": ", f);
        json_number(f, r->threshold);
        fputs(", \"quantity\": ", f);
        json_string(f, r->quantity);
        fputs(", \"message\": ", f);
        json_string(f, r->message);
        fputs(", \"samples\": [", f);
        for (int k = 0; k < r->n_samples; k++) {
            if (k)
                fputs(", ", f);
            json_number(f, r->samples[k]);
        }
        fprintf(f, "], \"seconds\": %.4f}", r->seconds);
    }
    fputs("\n]}\n", f);
    return LRPX_OK;
}

/* ---- JUnit XML ---- */

/* Text or attribute content: the five entities; control characters XML
 * 1.0 does not allow become '?'. */
static void
xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&':  fputs("&amp;", f); break;
        case '<':  fputs("&lt;", f); break;
        case '>':  fputs("&gt;", f); break;
        case '"':  fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\t': fputc('\t', f); break;
        default:   fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f); break;
        }
    }
}

static lrpx_status
write_junit(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const lrpx_check *c = ctx;
    int               n[LRPX_CHECK_OUTCOME_COUNT];
    (void)err;
    count(c, n);
    char      stamp[32] = "";
    time_t    t         = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"lrpx check\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
            "time=\"%.3f\">\n", c->n_items, n[LRPX_CHECK_FAIL], n[LRPX_CHECK_ERROR], c->seconds);
    fputs("  <testsuite name=\"", f);
    xml_text(f, c->suite ? c->suite : c->model_path);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"%.3f\" "
            "timestamp=\"%s\">\n", c->n_items, n[LRPX_CHECK_FAIL], n[LRPX_CHECK_ERROR],
            c->seconds, stamp);
    fputs("    <properties>\n      <property name=\"model\" value=\"", f);
    xml_text(f, c->model_path);
    fputs("\"/>\n      <property name=\"spec\" value=\"", f);
    xml_text(f, c->spec_path);
    fputs("\"/>\n    </properties>\n", f);
    for (int i = 0; i < c->n_items; i++) {
        const struct lrpx_check_item        *it = &c->items[i];
        const struct lrpx_check_result_impl *r  = &c->results[i];
        fputs("    <testcase name=\"", f);
        xml_text(f, it->name);
        fprintf(f, "\" classname=\"lrpx.check.%s\" file=\"", lrpx__check_kind_names[it->kind]);
        xml_text(f, c->spec_path);
        fprintf(f, "\" line=\"%d\" time=\"%.4f\"", it->line, r->seconds);
        if (r->outcome == LRPX_CHECK_PASS) {
            fputs(">\n      <system-out>", f);
            xml_text(f, r->message);
            fputs("</system-out>\n    </testcase>\n", f);
            continue;
        }
        const char *el = r->outcome == LRPX_CHECK_FAIL ? "failure" : "error";
        fprintf(f, ">\n      <%s message=\"", el);
        xml_text(f, r->message);
        fprintf(f, "\" type=\"%s\">", lrpx__check_kind_names[it->kind]);
        xml_text(f, r->message);
        if (r->n_samples > 0) {
            fputs("&#10;per sample:", f);
            for (int k = 0; k < r->n_samples; k++)
                fprintf(f, " %.6g", r->samples[k]);
        }
        fprintf(f, "</%s>\n    </testcase>\n", el);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    return LRPX_OK;
}

/* ---- GitHub Actions workflow commands ---- */

/* Escapes of a command's data (property: also ':' and ','). */
static void
gh_escape(FILE *f, const char *s, bool property)
{
    for (; s && *s; s++) {
        if (*s == '%')
            fputs("%25", f);
        else if (*s == '\r')
            fputs("%0D", f);
        else if (*s == '\n')
            fputs("%0A", f);
        else if (property && *s == ':')
            fputs("%3A", f);
        else if (property && *s == ',')
            fputs("%2C", f);
        else
            fputc(*s, f);
    }
}

static lrpx_status
write_github(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const lrpx_check *c = ctx;
    int               n[LRPX_CHECK_OUTCOME_COUNT];
    (void)err;
    count(c, n);
    for (int i = 0; i < c->n_items; i++) {
        const struct lrpx_check_item        *it = &c->items[i];
        const struct lrpx_check_result_impl *r  = &c->results[i];
        if (r->outcome == LRPX_CHECK_PASS)
            continue;
        fputs("::error file=", f);
        gh_escape(f, c->spec_path, true);
        if (it->line > 0)
            fprintf(f, ",line=%d", it->line);
        fputs(",title=", f);
        char title[512];
        snprintf(title, sizeof title, "lrpx check %s: %s", r->outcome == LRPX_CHECK_FAIL
                 ? "failed" : "could not evaluate", it->name);
        gh_escape(f, title, true);
        fputs("::", f);
        gh_escape(f, r->message, false);
        fputc('\n', f);
    }
    fprintf(f, "::notice title=lrpx check::%d passed, %d failed, %d errors\n",
            n[LRPX_CHECK_PASS], n[LRPX_CHECK_FAIL], n[LRPX_CHECK_ERROR]);
    return LRPX_OK;
}

lrpx_status
lrpx_check_write(const lrpx_check *c, lrpx_check_format format, const char *path,
                 char *errbuf, size_t errlen)
{
    static const lrpx__write_fn writers[LRPX_CHECK_FORMAT_COUNT] = {
        [LRPX_CHECK_FORMAT_TEXT] = write_text,   [LRPX_CHECK_FORMAT_JSON] = write_json,
        [LRPX_CHECK_FORMAT_JUNIT] = write_junit, [LRPX_CHECK_FORMAT_GITHUB] = write_github};
    struct lrpx_err err = {LRPX_OK, ""};
    lrpx_status     rc;
    if (!c || !c->results || (unsigned)format >= LRPX_CHECK_FORMAT_COUNT) {
        rc = lrpx__error(&err, LRPX_EINVAL, "no results to write (run the checks first)");
    } else if (!path) {
        rc = writers[format](stdout, c, &err);
        if (rc == LRPX_OK && fflush(stdout) != 0)
            rc = lrpx__error(&err, LRPX_EIO, "cannot write to standard output");
    } else {
        rc = lrpx__write_atomic(path, writers[format], c, &err);
    }
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", rc == LRPX_OK ? "" : err.msg);
    return rc;
}
