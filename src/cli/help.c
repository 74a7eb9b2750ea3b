/* Help output in two forms from the same calls: plain text for --help,
 * or a man page (groff -man) for the hidden --help-man, which meson runs
 * at build time to make lrpx(1) and lrpx-COMMAND(1). The commands print
 * their help only through these functions (and cli_print_flags, which
 * uses them), so a man page cannot say something --help does not.
 *
 * Text layout of an item: "  TERM" then its text in a column (22 for
 * flags), continuation lines indented to it. */
#include <string.h>

#include "cli.h"

static bool help_man;

void
cli_help_set_man(bool on)
{
    help_man = on;
}

bool
cli_help_is_man(void)
{
    return help_man;
}

/* Text for groff: a backslash becomes \e, '-' becomes \- (a real minus,
 * so options can be copied from the page), and a line starting with '.'
 * or '\'' is protected by \&. n < 0: up to the NUL. */
static void
man_escape(FILE *f, const char *s, int n)
{
    bool bol = true;
    for (int i = 0; n < 0 ? s[i] != '\0' : i < n; i++) {
        char c = s[i];
        if (bol && (c == '.' || c == '\''))
            fputs("\\&", f);
        if (c == '\\')
            fputs("\\e", f);
        else if (c == '-')
            fputs("\\-", f);
        else
            fputc(c, f);
        bol = c == '\n';
    }
}

/* "lrpx explain" -> "LRPX-EXPLAIN" / "lrpx-explain" */
static void
page_name(char *buf, size_t size, const char *cmd, bool upper)
{
    snprintf(buf, size, "%s%s%s", upper ? "LRPX" : "lrpx", cmd ? "-" : "", cmd ? cmd : "");
    for (char *p = buf; upper && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
}

void
cli_help_usage(FILE *f, const char *cmd, const char *usage)
{
    if (!help_man) {
        fputs(usage, f);
        return;
    }
    char up[64], low[64];
    page_name(up, sizeof up, cmd, true);
    page_name(low, sizeof low, cmd, false);
    fprintf(f, ".TH %s 1 \"\" \"lrpx %s\" \"lrpx manual\"\n.SH NAME\n", up, lrpx_version());
    man_escape(f, low, -1);
    fputs(" \\- ", f);
    man_escape(f, cli_command_summary(cmd), -1);
    fputs("\n.SH SYNOPSIS\n.nf\n", f);
    /* the usage lines up to the first blank line, without "usage: " */
    const char *p   = usage;
    const char *end = strstr(usage, "\n\n");
    if (!end)
        end = usage + strlen(usage);
    if (!strncmp(p, "usage: ", 7))
        p += 7;
    for (bool first = true; p < end; first = false) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e  = nl ? nl : end;
        if (!first) {                    /* continuation lines, indented */
            while (*p == ' ' && p < e)
                p++;
            fputs("    ", f);
        }
        man_escape(f, p, (int)(e - p));
        fputc('\n', f);
        p = nl ? nl + 1 : end;
    }
    fputs(".fi\n.SH DESCRIPTION\n", f);
    if (*end) {
        /* paragraphs: blank lines become .PP */
        for (p = end + 2; *p;) {
            const char *nl = strchr(p, '\n');
            int         n  = nl ? (int)(nl - p) : (int)strlen(p);
            if (n == 0)
                fputs(".PP\n", f);
            else {
                man_escape(f, p, n);
                fputc('\n', f);
            }
            p += n + (nl ? 1 : 0);
        }
    }
    fputs(".SH OPTIONS\n", f);
}

void
cli_help_item(FILE *f, const char *term, const char *text, int col)
{
    if (help_man) {
        fputs(".TP\n.B ", f);
        man_escape(f, term, -1);
        fputc('\n', f);
        man_escape(f, text, -1);
        fputc('\n', f);
        return;
    }
    int w = fprintf(f, "  %s", term);
    if (w + 2 > col)
        w += fprintf(f, "  ");
    else
        w += fprintf(f, "%*s", col - w, "");
    for (const char *h = text;;) {
        const char *nl = strchr(h, '\n');
        int         n  = nl ? (int)(nl - h) : (int)strlen(h);
        fprintf(f, "%.*s\n", n, h);
        if (!nl)
            break;
        h = nl + 1;
        fprintf(f, "%*s", col, "");
    }
}

void
cli_help_section(FILE *f, const char *title)
{
    if (!help_man) {
        fprintf(f, "\n%s\n", title);
        return;
    }
    /* a title ends with ':' in the text form; not as a heading */
    size_t n = strlen(title);
    fputs(".SS \"", f);
    man_escape(f, title, (int)(n && title[n - 1] == ':' ? n - 1 : n));
    fputs("\"\n", f);
}

void
cli_help_text(FILE *f, const char *text)
{
    if (!help_man) {
        fputs(text, f);
        return;
    }
    fputs(".PP\n", f);
    for (const char *p = text; *p == ' '; p++)
        text++;
    man_escape(f, text, -1);
    if (text[0] && text[strlen(text) - 1] != '\n')
        fputc('\n', f);
}

void
cli_help_end(FILE *f, const char *cmd)
{
    if (!help_man)
        return;
    fputs(".SH EXIT STATUS\n"
          "0 on success, 1 when the command failed (a bad model, input or image, an\n"
          "unsupported operator), 2 for a usage error (an unknown flag, a missing or\n"
          "malformed value). Errors are one line on standard error, naming the file,\n"
          "the node and the reason.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n.B NO_COLOR\n"
          "when set (to anything), progress bars and messages use no colour.\n"
          ".TP\n.B LRPX_NUM_THREADS\n"
          "threads per session (default: OPENBLAS_NUM_THREADS, else the CPUs).\n"
          ".SH SEE ALSO\n", f);
    fputs(cmd ? ".BR lrpx (1)" : "", f);
    for (int i = 0; cli_command_name(i); i++) {
        if (cmd && !strcmp(cmd, cli_command_name(i)))
            continue;
        fprintf(f, "%s.BR lrpx\\-%s (1)", i || cmd ? ",\n" : "", cli_command_name(i));
    }
    fputs("\n.PP\nThe documentation in docs/ of the lrpx sources: cli.md, lrp.md,\n"
          "visualization.md; the library: lrpx.h; Python: python/README.md.\n", f);
}

void
cli_print_help(FILE *f, const char *cmd, const char *usage, const struct cli_flag_group *groups,
               int n_groups)
{
    cli_help_usage(f, cmd, usage);
    cli_print_flags(f, groups, n_groups);
    cli_help_end(f, cmd);
}
