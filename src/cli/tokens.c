/* Token-level output of lrpx explain for text models whose input is an
 * embedded sequence [batch, tokens, dim]: the relevance summed over the
 * embedding dimension per token, printed (with the strings of --tokens
 * FILE, one per line) and drawn as a coloured strip (PNG through
 * lrpx_token_strip_render, or HTML). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void
cli_tokens_free(struct cli_tokens *t)
{
    for (int i = 0; i < t->n_names; i++)
        free(t->names[i]);
    free(t->names);
    free(t->rel);
    memset(t, 0, sizeof *t);
}

/* One token per line; a trailing '\r' is dropped, empty lines are tokens. */
static int
tokens_read(const char *cmd, const char *path, struct cli_tokens *t)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_error(cmd, "--tokens %s: cannot open the file", path);
    char line[1024];
    int  cap = 0, rc = CLI_OK;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (t->n_names == cap) {
            cap        = cap ? cap * 2 : 64;
            char **grw = cap <= (1 << 20) ? realloc(t->names, (size_t)cap * sizeof *grw) : NULL;
            if (!grw) {
                rc = cli_error(cmd, "--tokens %s: too many tokens or out of memory", path);
                break;
            }
            t->names = grw;
        }
        if (!(t->names[t->n_names] = strdup(line))) {
            rc = cli_error(cmd, "out of memory");
            break;
        }
        t->n_names++;
    }
    fclose(f);
    return rc;
}

int
cli_tokens_reduce(const char *cmd, const char *tokens_path, const lrpx_tensor_view *rel,
                  struct cli_tokens *t)
{
    memset(t, 0, sizeof *t);
    if (rel->dtype != LRPX_DTYPE_FLOAT32 || rel->rank < 2 || rel->dims[rel->rank - 1] < 1 ||
        rel->dims[rel->rank - 2] < 1)
        return cli_error(cmd, "per-token relevance needs an input of shape [batch, tokens, dim] "
                              "(the embedded sequence); this one has rank %d", rel->rank);
    int64_t dim = rel->dims[rel->rank - 1], n = rel->dims[rel->rank - 2];
    t->n_tokens  = (int)n;
    t->n_samples = (int)(rel->n_elems / (n * dim));
    t->rel       = calloc((size_t)(n * t->n_samples) + 1, sizeof *t->rel);
    if (!t->rel)
        return cli_error(cmd, "out of memory");
    const float *r = rel->data;
    for (int64_t s = 0; s < t->n_samples; s++)
        for (int64_t i = 0; i < n; i++) {
            double sum = 0;
            for (int64_t d = 0; d < dim; d++)
                sum += r[(s * n + i) * dim + d];
            t->rel[s * n + i] = (float)sum;
        }
    if (tokens_path) {
        int rc = tokens_read(cmd, tokens_path, t);
        if (rc == CLI_OK && t->n_names != t->n_tokens)
            rc = cli_error(cmd, "--tokens %s has %d tokens; the input has %d positions",
                           tokens_path, t->n_names, t->n_tokens);
        if (rc != CLI_OK) {
            cli_tokens_free(t);
            return rc;
        }
    }
    return CLI_OK;
}

static const char *
token_name(const struct cli_tokens *t, int i, char *buf, size_t size)
{
    if (t->names)
        return t->names[i];
    snprintf(buf, size, "#%d", i);
    return buf;
}

void
cli_tokens_print(const struct cli_tokens *t, bool json)
{
    char buf[32];
    if (json) {
        printf("[");
        for (int s = 0; s < t->n_samples; s++) {
            printf(s ? ", [" : "[");
            for (int i = 0; i < t->n_tokens; i++) {
                printf(i ? ", {\"token\": " : "{\"token\": ");
                cli_json_string(stdout, token_name(t, i, buf, sizeof buf));
                printf(", \"relevance\": %.9g}", t->rel[s * t->n_tokens + i]);
            }
            printf("]");
        }
        printf("]");
        return;
    }
    for (int s = 0; s < t->n_samples; s++) {
        double amax = 0;
        for (int i = 0; i < t->n_tokens; i++)
            amax = fmax(amax, fabs(t->rel[s * t->n_tokens + i]));
        printf("\nrelevance per token (sample %d, summed over the embedding dimension):\n", s);
        for (int i = 0; i < t->n_tokens; i++) {
            float v   = t->rel[s * t->n_tokens + i];
            int   bar = amax > 0 ? (int)lrint(20.0 * fabs(v) / amax) : 0;
            printf("  %4d  %-16.16s %12.6g  %s%.*s\n", i, token_name(t, i, buf, sizeof buf), v,
                   v < 0 ? "-" : "+", bar, "####################");
        }
    }
}

int
cli_tokens_strip(const char *cmd, const char *path, const struct cli_tokens *t,
                 const char *cmap_name)
{
    const lrpx_colormap *cm = lrpx_colormap_builtin(cmap_name ? cmap_name : "bwr");
    if (!cm)
        return cli_error(cmd, "--token-strip: unknown colour map '%s'", cmap_name);
    size_t l = strlen(path);
    char   err[512];
    if (l > 5 && (!strcmp(path + l - 5, ".html") || !strcmp(path + l - 4, ".htm"))) {
        if (lrpx_token_strip_save_html(t->rel, (const char *const *)t->names, t->n_tokens,
                                       t->n_samples, cm, path, err, sizeof err) != LRPX_OK)
            return cli_error(cmd, "--token-strip: %s", err);
        return CLI_OK;
    }
    if (l < 5 || strcmp(path + l - 4, ".png"))
        return cli_error(cmd, "--token-strip %s: the name must end in .png or .html", path);
    struct lrpx_heatmap_options ho;
    lrpx_heatmap_options_default(&ho);
    ho.cmap = cm;
    lrpx_pixmap *pm = NULL;
    /* samples one under the other: one strip per sample, in a grid column */
    lrpx_pixmap **strips = calloc((size_t)t->n_samples, sizeof *strips);
    if (!strips)
        return cli_error(cmd, "out of memory");
    int rc = CLI_OK;
    for (int s = 0; s < t->n_samples && rc == CLI_OK; s++)
        if (lrpx_token_strip_render(t->rel + s * t->n_tokens, (const char *const *)t->names,
                                    t->n_tokens, &ho, 2, 900, &strips[s], err, sizeof err) !=
            LRPX_OK)
            rc = cli_error(cmd, "--token-strip: %s", err);
    if (rc == CLI_OK) {
        struct lrpx_grid_options go;
        lrpx_grid_options_default(&go);
        go.n_cols = 1;
        if (lrpx_pixmap_grid((const lrpx_pixmap *const *)strips, NULL, t->n_samples, &go, &pm,
                             err, sizeof err) != LRPX_OK ||
            lrpx_pixmap_save(pm, path, 0, err, sizeof err) != LRPX_OK)
            rc = cli_error(cmd, "--token-strip: %s", err);
    }
    for (int s = 0; s < t->n_samples; s++)
        lrpx_pixmap_free(strips[s]);
    free(strips);
    lrpx_pixmap_free(pm);
    return rc;
}
