/* The LRP rule flags shared by the commands that explain (explain, batch):
 * --composite, --rule, --rules, --maxpool, --zero-bias, --low/--high, all
 * stored into one struct lrpx_lrp_options through the library's parsers. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "cli.h"

void
cli_lrp_init(struct cli_lrp *l, struct cli_viz *viz)
{
    memset(l, 0, sizeof *l);
    lrpx_lrp_options_default(&l->o);
    l->viz = viz;
}

/* "a,b,c" into v (at most max values); returns the count or -1. */
static int
parse_list(const char *s, float *v, int max)
{
    int n = 0;
    while (*s) {
        const char *c = strchr(s, ',');
        char        buf[64];
        size_t      l = c ? (size_t)(c - s) : strlen(s);
        if (l == 0 || l >= sizeof buf || n >= max)
            return -1;
        memcpy(buf, s, l);
        buf[l] = '\0';
        double d;
        if (!cli_parse_double(buf, &d) || !isfinite(d))
            return -1;
        v[n++] = (float)d;
        if (!c)
            break;
        s = c + 1;
        if (!*s)
            return -1;
    }
    return n;
}

static int
lrp_composite(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l = ctx;
    if (l->viz)
        cli_viz_note_composite(l->viz, val);
    return lrpx_lrp_options_set_composite(&l->o, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
lrp_rule(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l = ctx;
    return lrpx_lrp_options_parse_rule(&l->o, val, msg, size) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
lrp_rules_file(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l  = ctx;
    lrpx_status     st = lrpx_lrp_options_load_json(&l->o, val, msg, size);
    return st == LRPX_OK ? CLI_OK : st == LRPX_EINVAL || st == LRPX_EPARSE ? CLI_USAGE : CLI_FAIL;
}

static int
lrp_maxpool(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l = ctx;
    (void)msg, (void)size;
    return lrpx_lrp_options_parse_maxpool(val, &l->o.maxpool) == LRPX_OK ? CLI_OK : CLI_USAGE;
}

static int
lrp_low(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l = ctx;
    (void)msg, (void)size;
    return (l->n_low = parse_list(val, l->lows, CLI_MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

static int
lrp_high(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_lrp *l = ctx;
    (void)msg, (void)size;
    return (l->n_high = parse_list(val, l->highs, CLI_MAX_BOX_C)) >= 1 ? CLI_OK : CLI_USAGE;
}

static const struct cli_flag lrp_flags[] = {
    /* --composite is listed by cli_lrp_help, with the library's names */
    {"--composite", NULL, "NAME", NULL, CLI_CALL, .call = lrp_composite, .need = "a name"},
    {"--rule", NULL, "SEL=RULE",
     "override, later ones win (SEL, RULE and MODE below;\n"
     "--list-rules explains each)",
     CLI_CALL, .call = lrp_rule, .need = "SELECTOR=RULE"},
    {"--rules", NULL, "FILE",
     "the same as JSON: {\"composite\": ..., \"rules\": [{\"select\":\n"
     "\"Conv\", \"rule\": \"gamma:0.25\"}], \"maxpool\": \"sum\", ...}",
     CLI_CALL, .call = lrp_rules_file, .need = "a JSON file"},
    {"--maxpool", NULL, "MODE", "relevance through every max pool (default winner)", CLI_CALL,
     .call = lrp_maxpool, .need = "winner, winner-split or sum"},
    {"--zero-bias", NULL, NULL, "leave biases out of the rules", CLI_SET,
     .off = offsetof(struct cli_lrp, o.zero_bias), .set = 1},
    {"--low", NULL, "L", "input bounds for z^B (a number, or a comma list per\nchannel)",
     CLI_CALL, .call = lrp_low, .need = "a number or a comma list (at most 16)"},
    {"--high", NULL, "H", "the upper bounds, as --low", CLI_CALL, .call = lrp_high,
     .need = "a number or a comma list (at most 16)"},
    {NULL}};

struct cli_flag_group
cli_lrp_group(struct cli_lrp *l)
{
    return (struct cli_flag_group){lrp_flags, l, &l->seen, NULL, NULL};
}

int
cli_lrp_finish(const char *cmd, struct cli_lrp *l)
{
    struct lrpx_lrp_options *o = &l->o;
    if ((l->n_low > 0) != (l->n_high > 0) || (l->n_low > 0 && l->n_low != l->n_high))
        return cli_usage_error(cmd, "--low and --high go together, with as many values");
    if (l->n_low == 1) {
        o->box_low  = l->lows[0];
        o->box_high = l->highs[0];
        if (!(o->box_low <= o->box_high))
            return cli_usage_error(cmd, "--low must not exceed --high");
    } else if (l->n_low > 1) {
        o->box_low_c  = l->lows;
        o->box_high_c = l->highs;
        o->n_box_c    = l->n_low;
    }
    return CLI_OK;
}

void
cli_lrp_help_composites(FILE *f)
{
    fputs("  --composite NAME    rule preset (default epsilon_plus):\n", f);
    cli_rules_help_line(f, LRPX_LRP_DOC_COMPOSITE, "                      ", 22);
}

void
cli_lrp_help_language(FILE *f)
{
    fputs("\nthe rule-spec language (--rule SEL=RULE, --maxpool MODE):\n", f);
    cli_rules_help_line(f, LRPX_LRP_DOC_SELECTOR, "  SEL   ", 8);
    cli_rules_help_line(f, LRPX_LRP_DOC_RULE, "  RULE  ", 8);
    cli_rules_help_line(f, LRPX_LRP_DOC_MAXPOOL, "  MODE  ", 8);
}
