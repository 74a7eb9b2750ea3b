/* The rule-spec language as the CLI shows it: `lrpx explain --list-rules`
 * (a table, or Markdown for docs/lrp.md with --markdown) and the RULE,
 * SELECTOR, MODE and composite lines of `lrpx explain --help`, all from
 * lrpx_lrp_doc_entry, i.e. from the tables the parser itself uses. */
#include <string.h>

#include "cli.h"

static const char *const kind_title[LRPX_LRP_DOC_COUNT] = {
    [LRPX_LRP_DOC_RULE]      = "rules",
    [LRPX_LRP_DOC_MAXPOOL]   = "max-pool modes",
    [LRPX_LRP_DOC_SELECTOR]  = "selectors (SELECTOR=RULE)",
    [LRPX_LRP_DOC_COMPOSITE] = "composites",
};

static const char *const kind_head[LRPX_LRP_DOC_COUNT] = {
    [LRPX_LRP_DOC_RULE]      = "| rule | what it does | fits |\n|---|---|---|\n",
    [LRPX_LRP_DOC_MAXPOOL]   = "| max-pool mode | what it does |\n|---|---|\n",
    [LRPX_LRP_DOC_SELECTOR]  = "| selector | picks |\n|---|---|\n",
    [LRPX_LRP_DOC_COMPOSITE] = "| composite | layers |\n|---|---|\n",
};

int
cli_list_rules(bool markdown)
{
    lrpx_lrp_doc d;
    int          last = -1;
    for (int i = 0; lrpx_lrp_doc_entry(i, &d) == LRPX_OK; i++) {
        if ((int)d.kind != last) {
            if (markdown) {
                printf("%s%s", last >= 0 ? "\n" : "", kind_head[d.kind]);
            } else {
                printf("%s%s", last >= 0 ? "\n" : "", kind_title[d.kind]);
                if (d.applies[0] && d.kind == LRPX_LRP_DOC_MAXPOOL)
                    printf(" (%s)", d.applies);
                printf(":\n");
            }
            last = (int)d.kind;
        }
        const char *text = d.kind == LRPX_LRP_DOC_COMPOSITE ? d.applies : d.help;
        const char *note = d.kind == LRPX_LRP_DOC_COMPOSITE && d.help[0] ? d.help : NULL;
        if (markdown && d.kind == LRPX_LRP_DOC_RULE)
            printf("| `%s` | %s | %s |\n", d.syntax, text, d.applies);
        else if (markdown)
            printf("| `%s` | %s%s%s%s |\n", d.syntax, text, note ? " (" : "", note ? note : "",
                   note ? ")" : "");
        else if (d.kind == LRPX_LRP_DOC_RULE)
            printf("  %-26s %s [%s]\n", d.syntax, text, d.applies);
        else
            printf("  %-26s %s%s%s%s\n", d.syntax, text, note ? " (" : "", note ? note : "",
                   note ? ")" : "");
    }
    if (markdown) {
        lrpx_lrp_doc_entry(LRPX_RULE_COUNT, &d);
        printf("\nLinear layers are Conv, ConvTranspose, Gemm and MatMul with a constant "
               "operand; products of two computed values are MatMul (or Gemm) without one; "
               "norms are LayerNormalization and the LayerNorm/RMSNorm patterns; activations "
               "are the element-wise nonlinearities (Relu, Tanh, Erf, ...) and the GELU/SiLU "
               "patterns (docs/transformers.md). The max-pool modes apply to %s.\n",
               d.applies);
    }
    return CLI_OK;
}

/* "a, b, c" of the syntaxes of one kind, wrapped for --help at `indent`. */
void
cli_rules_help_item(FILE *f, int kind, const char *term, const char *lead, int col)
{
    char         text[2048];
    lrpx_lrp_doc d;
    size_t       k    = (size_t)snprintf(text, sizeof text, "%s", lead);
    int          line = 0;                       /* characters on this line */
    for (int i = 0; lrpx_lrp_doc_entry(i, &d) == LRPX_OK && k < sizeof text; i++) {
        if ((int)d.kind != kind)
            continue;
        int len = (int)strlen(d.syntax) + 2;
        if (line && line + len > 79 - col) {     /* wrap after the comma */
            k += (size_t)snprintf(text + k, sizeof text - k, ",\n");
            line = 0;
        }
        if (k < sizeof text) {
            int w = snprintf(text + k, sizeof text - k, "%s%s", line ? ", " : "", d.syntax);
            k += (size_t)w;
            line += w;
        }
    }
    cli_help_item(f, term, text, col);
}
