/* The command-line flags of every subcommand, from tables: one
 * struct cli_flag per flag says how its value is checked and where it is
 * stored, and the same table prints the options part of --help. The
 * subcommands hold no flag loops of their own.
 *
 *   static const struct cli_flag run_flags[] = {
 *       {"--top", NULL, "K", "print the K best classes (default 5)",
 *        CLI_INT, offsetof(struct run_args, top), .lo = 1, .hi = 1e6},
 *       {0}};
 *
 * Values come as "--flag VALUE" or "--flag=VALUE". A bad value is a usage
 * error "lrpx CMD: --flag needs <what>" (exit status 2). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"

/* Whether the group leaves out flag f (its skip list names it). */
static bool
skipped(const struct cli_flag_group *g, const struct cli_flag *f)
{
    size_t l = strlen(f->name);
    for (const char *p = g->skip; p && (p = strstr(p, f->name)); p += l)
        if ((p == g->skip || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' '))
            return true;
    return false;
}

static void *
field(const struct cli_flag_group *g, const struct cli_flag *f)
{
    return (char *)g->ctx + f->off;
}

/* The "needs ..." part of a usage error for a flag's value. */
static void
needs_text(const struct cli_flag *f, char *buf, size_t size)
{
    if (f->need) {
        snprintf(buf, size, "%s", f->need);
    } else if (f->type == CLI_CHOICE) {
        size_t k = 0;
        for (int c = 0; f->choices[c].name && k < size; c++)
            k += (size_t)snprintf(buf + k, size - k, "%s%s",
                                  c == 0 ? "" : f->choices[c + 1].name ? ", " : " or ",
                                  f->choices[c].name);
    } else if (f->type == CLI_INT) {
        snprintf(buf, size, "a whole number from %.0f to %.0f", f->lo, f->hi);
    } else if (f->type == CLI_DOUBLE) {
        snprintf(buf, size, "a number from %g to %g", f->lo, f->hi);
    } else {
        snprintf(buf, size, "%s", f->arg ? f->arg : "a value");
    }
}

/* Store val into the flag's field. Returns CLI_OK, CLI_USAGE when the value
 * is bad or CLI_FAIL (a handler's file could not be read); a handler may
 * have written its own message into msg. */
static int
store(const struct cli_flag_group *g, const struct cli_flag *f, const char *val, char *msg,
      size_t size)
{
    long long k;
    double    d;
    bool      ok = false;
    switch (f->type) {
    case CLI_TRUE:
    case CLI_FALSE:
        *(bool *)field(g, f) = f->type == CLI_TRUE;
        return CLI_OK;
    case CLI_SET:
        *(int *)field(g, f) = f->set;
        return CLI_OK;
    case CLI_STRING:
        *(const char **)field(g, f) = val;
        return CLI_OK;
    case CLI_INT:
        if ((ok = cli_parse_int(val, &k) && k >= f->lo && k <= f->hi))
            *(int *)field(g, f) = (int)k;
        break;
    case CLI_DOUBLE:
        if ((ok = cli_parse_double(val, &d) && d >= f->lo && d <= f->hi))
            *(double *)field(g, f) = d;
        break;
    case CLI_CHOICE:
        for (int c = 0; f->choices[c].name && !ok; c++)
            if ((ok = !strcmp(val, f->choices[c].name)))
                *(int *)field(g, f) = f->choices[c].value;
        break;
    case CLI_CALL:
        return f->call(g->ctx, val, msg, size);
    }
    return ok ? CLI_OK : CLI_USAGE;
}

static bool
takes_value(const struct cli_flag *f)
{
    return f->type != CLI_TRUE && f->type != CLI_FALSE && f->type != CLI_SET &&
           !(f->type == CLI_CALL && !f->arg);
}

/* The flag argv[i] names ("--flag" or "--flag=value"): its group and entry,
 * and in *inline_val the text after '=' (NULL if none). */
static const struct cli_flag *
lookup(const struct cli_flag_group *groups, int n_groups, const char *arg,
       const struct cli_flag_group **group, const char **inline_val)
{
    const char *eq  = strchr(arg, '=');
    size_t      len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (int g = 0; g < n_groups; g++)
        for (const struct cli_flag *f = groups[g].flags; f->name; f++) {
            const char *names[2] = {f->name, f->alias};
            if (skipped(&groups[g], f))
                continue;
            for (int a = 0; a < 2; a++)
                if (names[a] && strlen(names[a]) == len && !strncmp(arg, names[a], len)) {
                    *group      = &groups[g];
                    *inline_val = eq ? eq + 1 : NULL;
                    return f;
                }
        }
    return NULL;
}

int
cli_parse_flags(const char *cmd, int argc, char **argv, const struct cli_flag_group *groups,
                int n_groups, const char **positional, int max_positional, int *n_positional)
{
    *n_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
            return CLI_HELP;
        if (!strcmp(arg, "--help-man")) {         /* the man page, for meson */
            cli_help_set_man(true);
            return CLI_HELP;
        }
        if (arg[0] != '-' || !arg[1]) {
            if (*n_positional == max_positional)
                return cli_usage_error(cmd, "unexpected argument '%s'", arg);
            positional[(*n_positional)++] = arg;
            continue;
        }
        const struct cli_flag_group *g;
        const char                  *val;
        const struct cli_flag_group  common = cli_verbosity_group();
        const struct cli_flag       *f      = lookup(groups, n_groups, arg, &g, &val);
        if (!f)                                   /* --quiet, --verbose: every command */
            f = lookup(&common, 1, arg, &g, &val);
        if (!f)
            return cli_usage_error(cmd, "unknown option '%s'", arg);
        char need[256], msg[512] = "";
        needs_text(f, need, sizeof need);
        if (takes_value(f) && !val) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "%s needs %s", f->name, need);
            val = argv[++i];
        } else if (!takes_value(f) && val) {
            return cli_usage_error(cmd, "%s takes no value", f->name);
        }
        int rc = store(g, f, val, msg, sizeof msg);
        if (rc == CLI_FAIL)
            return cli_error(cmd, "%s: %s", f->name, msg);
        if (rc != CLI_OK && msg[0])
            return cli_usage_error(cmd, "%s: %s", f->name, msg);
        if (rc != CLI_OK)
            return cli_usage_error(cmd, "%s needs %s", f->name, need);
        if (g->seen)
            *g->seen = true;
    }
    return CLI_OK;
}

/* One flag: "--name, --alias ARG" and its help, in a column. */
static void
print_flag(FILE *out, const struct cli_flag *f)
{
    char term[128];
    snprintf(term, sizeof term, "%s%s%s%s%s", f->name, f->alias ? ", " : "",
             f->alias ? f->alias : "", f->arg ? " " : "", f->arg ? f->arg : "");
    cli_help_item(out, term, f->help ? f->help : "", CLI_HELP_COL);
}

static void
print_group(FILE *out, const struct cli_flag_group *g)
{
    if (g->title)
        cli_help_section(out, g->title);
    for (const struct cli_flag *f = g->flags; f->name; f++)
        if (f->help && !skipped(g, f))
            print_flag(out, f);
    if (g->footer)
        cli_help_text(out, g->footer);
}

void
cli_print_flags(FILE *out, const struct cli_flag_group *groups, int n_groups)
{
    const struct cli_flag_group common = cli_verbosity_group();
    for (int g = 0; g < n_groups; g++)
        print_group(out, &groups[g]);
    print_group(out, &common);                    /* the flags every command takes */
}
