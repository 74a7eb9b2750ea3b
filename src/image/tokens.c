/* Token strips: per-token relevance of a text model as a row of boxes,
 * each token's text on the colour its relevance maps to (the heatmap's
 * colour map and scale), wrapping into lines, as a picture or as an HTML
 * page (docs/transformers.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image/image_impl.h"

#define STRIP_PAD 3                       /* pixels around a token's text */

lrpx_status
lrpx_token_strip_render(const float *rel, const char *const *tokens, int n,
                        const struct lrpx_heatmap_options *opts, int scale, int max_width,
                        lrpx_pixmap **out, char *errbuf, size_t errlen)
{
    struct lrpx_heatmap_options def;
    if (out)
        *out = NULL;
    if (!rel || !out || n < 1 || n > 1 << 20) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "token strip: no tokens");
        return LRPX_EINVAL;
    }
    if (!opts) {
        lrpx_heatmap_options_default(&def);
        opts = &def;
    }
    if (scale < 1)
        scale = 2;
    if (max_width < 64)
        max_width = 900;
    /* the scale: as lrpx_heatmap_render does for a 1 x n map */
    lrpx_image *map;
    lrpx_status rc = lrpx_image_init(n, 1, 1, &map);
    if (rc != LRPX_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "token strip: out of memory");
        return rc;
    }
    for (int i = 0; i < n; i++)
        map->data[i] = rel[i];
    double lo, hi;
    rc = lrpx_heatmap_scale(map, opts, &lo, &hi, errbuf, errlen);
    lrpx_image_free(map);
    if (rc != LRPX_OK)
        return rc;
    const lrpx_colormap *cm = opts->cmap ? opts->cmap : lrpx_colormap_builtin("bwr");

    /* layout: boxes of text width + padding, lines of at most max_width */
    const int gw = 6 * scale, gh = 8 * scale, box_h = gh + 2 * STRIP_PAD, gap = 4;
    int       x = gap, y = gap, width = 0;
    int      *bx = lrpx__malloc((size_t)n * 2 * sizeof *bx);
    if (!bx) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "token strip: out of memory");
        return LRPX_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        const char *t = tokens && tokens[i] ? tokens[i] : "?";
        int         w = (int)strlen(t);
        w             = (w > 40 ? 40 : w < 1 ? 1 : w) * gw + 2 * STRIP_PAD;
        if (x > gap && x + w + gap > max_width) {
            x = gap;
            y += box_h + gap;
        }
        bx[2 * i]     = x;
        bx[2 * i + 1] = y;
        x += w + gap;
        width = x > width ? x : width;
    }
    lrpx_pixmap *pm;
    rc = lrpx_pixmap_init(width, y + box_h + gap, 3, &pm);
    if (rc != LRPX_OK) {
        lrpx__free(bx);
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "token strip: %s", lrpx_status_str(rc));
        return rc;
    }
    memset(pm->data, 255, (size_t)pm->width * (size_t)pm->height * 3);
    static const uint8_t black[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        const char *t = tokens && tokens[i] ? tokens[i] : "?";
        char        cut[41];
        snprintf(cut, sizeof cut, "%s", t);
        int    w = (int)strlen(cut);
        w        = (w < 1 ? 1 : w) * gw + 2 * STRIP_PAD;
        double u = hi > lo ? (rel[i] - lo) / (hi - lo) : 0.5;
        if (!isfinite(u))
            u = 0.5;
        if (opts->gamma > 0 && opts->gamma != 1.0) {
            double c = 2 * u - 1;
            u        = 0.5 + 0.5 * (c < 0 ? -1 : 1) * pow(fabs(c), opts->gamma);
        }
        double rgb[3];
        lrpx_colormap_eval(cm, u, rgb);
        for (int yy = bx[2 * i + 1]; yy < bx[2 * i + 1] + box_h; yy++)
            for (int xx = bx[2 * i]; xx < bx[2 * i] + w; xx++)
                for (int c = 0; c < 3; c++)
                    pm->data[((size_t)yy * (size_t)pm->width + (size_t)xx) * 3 + (size_t)c] =
                        (uint8_t)lrint(fmin(fmax(rgb[c], 0.0), 1.0) * 255.0);
        lrpx_pixmap_draw_text(pm, bx[2 * i] + STRIP_PAD, bx[2 * i + 1] + STRIP_PAD, cut, scale,
                              black);
    }
    lrpx__free(bx);
    *out = pm;
    return LRPX_OK;
}

/* ---- HTML ---- */

struct strip_html {
    const float              *rel;
    const char *const        *tokens;
    int                       n, n_rows;
    const lrpx_colormap      *cm;
};

static void
html_text(FILE *f, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:  fputc(*t, f); break;
        }
    }
}

static lrpx_status
strip_html_write(FILE *f, const void *ctx_, struct lrpx_err *err)
{
    const struct strip_html *c = ctx_;
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lrpx token "
               "relevance</title>\n<style>body{font-family:sans-serif} .t{padding:2px 4px;"
               "margin:1px;border-radius:3px;display:inline-block;font-family:monospace}"
               "</style></head><body>\n");
    for (int s = 0; s < c->n_rows; s++) {
        const float *r    = c->rel + (size_t)s * (size_t)c->n;
        double       amax = 0;
        for (int i = 0; i < c->n; i++)
            amax = fmax(amax, fabs(r[i]));
        fprintf(f, "<p>\n");
        for (int i = 0; i < c->n; i++) {
            double rgb[3];
            lrpx_colormap_eval(c->cm, amax > 0 ? 0.5 + 0.5 * r[i] / amax : 0.5, rgb);
            fprintf(f, "<span class=\"t\" title=\"%.6g\" style=\"background:#%02x%02x%02x\">",
                    r[i], (unsigned)lrint(rgb[0] * 255), (unsigned)lrint(rgb[1] * 255),
                    (unsigned)lrint(rgb[2] * 255));
            html_text(f, c->tokens && c->tokens[i] ? c->tokens[i] : "?");
            fprintf(f, "</span>\n");
        }
        fprintf(f, "</p>\n");
    }
    fprintf(f, "</body></html>\n");
    return ferror(f) ? lrpx__error(err, LRPX_EIO, "write error") : LRPX_OK;
}

lrpx_status
lrpx_token_strip_save_html(const float *rel, const char *const *tokens, int n, int n_rows,
                           const lrpx_colormap *cmap, const char *path, char *errbuf,
                           size_t errlen)
{
    if (!rel || !path || n < 1 || n_rows < 1) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "token strip: no tokens");
        return LRPX_EINVAL;
    }
    struct strip_html c = {rel, tokens, n, n_rows,
                           cmap ? cmap : lrpx_colormap_builtin("bwr")};
    struct lrpx_err err;
    lrpx_status     rc = lrpx__write_atomic(path, strip_html_write, &c, &err);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}
