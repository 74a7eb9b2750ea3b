/* Text and layout on pixmaps: a built-in 5x7 font for ASCII 32..126 and a
 * grid helper for "image | heatmap" panels with labels.
 *
 * Each glyph is 7 rows of 5 bits, bit 4 the leftmost column; a glyph cell
 * is 6x8 pixels (one column and one row of spacing), times the scale.
 */
#include <string.h>

#include "image/image_impl.h"

#define FONT_W     5
#define FONT_H     7
#define FONT_CELLW 6
#define FONT_CELLH 8

/* rows top to bottom, for characters ' ' (32) .. '~' (126) */
static const uint8_t font5x7[95][FONT_H] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ' ' */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, /* !   */
    {0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00}, /* "   */
    {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}, /* #   */
    {0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04}, /* $   */
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, /* %   */
    {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D}, /* &   */
    {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '   */
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, /* (   */
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, /* )   */
    {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00}, /* *   */
    {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}, /* +   */
    {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}, /* ,   */
    {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}, /* -   */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}, /* .   */
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}, /* /   */
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, /* 0   */
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}, /* 1   */
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, /* 2   */
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}, /* 3   */
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, /* 4   */
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}, /* 5   */
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, /* 6   */
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7   */
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, /* 8   */
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}, /* 9   */
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}, /* :   */
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08}, /* ;   */
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, /* <   */
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}, /* =   */
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, /* >   */
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, /* ?   */
    {0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E}, /* @   */
    {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}, /* A   */
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}, /* B   */
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, /* C   */
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}, /* D   */
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, /* E   */
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}, /* F   */
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, /* G   */
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, /* H   */
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, /* I   */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}, /* J   */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, /* K   */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}, /* L   */
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, /* M   */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, /* N   */
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, /* O   */
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}, /* P   */
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, /* Q   */
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}, /* R   */
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, /* S   */
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* T   */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, /* U   */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}, /* V   */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, /* W   */
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}, /* X   */
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, /* Y   */
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}, /* Z   */
    {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E}, /* [   */
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}, /* \   */
    {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}, /* ]   */
    {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00}, /* ^   */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}, /* _   */
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* `   */
    {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}, /* a   */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}, /* b   */
    {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}, /* c   */
    {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}, /* d   */
    {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}, /* e   */
    {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}, /* f   */
    {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}, /* g   */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, /* h   */
    {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}, /* i   */
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}, /* j   */
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, /* k   */
    {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, /* l   */
    {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}, /* m   */
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, /* n   */
    {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}, /* o   */
    {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}, /* p   */
    {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}, /* q   */
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, /* r   */
    {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}, /* s   */
    {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}, /* t   */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}, /* u   */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}, /* v   */
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}, /* w   */
    {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}, /* x   */
    {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}, /* y   */
    {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}, /* z   */
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02}, /* {   */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* |   */
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08}, /* }   */
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00}, /* ~   */
};

/* Clip rectangle [x0, x1) x [y0, y1) inside the pixmap. */
struct draw_clip {
    int x0, y0, x1, y1;
};

static void
draw_glyph(lrpx_pixmap *pm, const struct draw_clip *clip, int x, int y, unsigned char ch,
           int scale, const uint8_t rgb[3])
{
    if (ch < 32 || ch > 126)
        ch = '?';
    const uint8_t *g = font5x7[ch - 32];
    for (int r = 0; r < FONT_H; r++)
        for (int col = 0; col < FONT_W; col++) {
            if (!(g[r] >> (FONT_W - 1 - col) & 1))
                continue;
            for (int dy = 0; dy < scale; dy++)
                for (int dx = 0; dx < scale; dx++) {
                    int px = x + col * scale + dx, py = y + r * scale + dy;
                    if (px < clip->x0 || px >= clip->x1 || py < clip->y0 || py >= clip->y1)
                        continue;
                    uint8_t *p = pm->data + ((size_t)py * pm->width + px) * pm->channels;
                    if (pm->channels == 3) {
                        p[0] = rgb[0];
                        p[1] = rgb[1];
                        p[2] = rgb[2];
                    } else {
                        p[0] = (uint8_t)((rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114 + 500) /
                                         1000);
                    }
                }
        }
}

/* Width in pixels of the longest line of text at this scale. */
static int
draw_text_width(const char *text, int scale)
{
    int best = 0, cur = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            cur = 0;
            continue;
        }
        cur++;
        if (cur > best)
            best = cur;
    }
    /* the last cell's spacing column is not part of the text */
    return best ? (best * FONT_CELLW - 1) * scale : 0;
}

static int
draw_text_clipped(lrpx_pixmap *pm, const struct draw_clip *clip, int x, int y,
                  const char *text, int scale, const uint8_t rgb[3])
{
    int cx = x, cy = y;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            cx = x;
            cy += FONT_CELLH * scale;
            continue;
        }
        draw_glyph(pm, clip, cx, cy, (unsigned char)*p, scale, rgb);
        cx += FONT_CELLW * scale;
    }
    return draw_text_width(text, scale);
}

int
lrpx_pixmap_draw_text(lrpx_pixmap *pm, int x, int y, const char *text, int scale,
                      const uint8_t rgb[3])
{
    static const uint8_t black[3] = {0, 0, 0};
    if (!pm || !pm->data || !text)
        return 0;
    if (scale < 1)
        scale = 1;
    if (scale > 64)
        scale = 64;
    struct draw_clip clip = {0, 0, pm->width, pm->height};
    return draw_text_clipped(pm, &clip, x, y, text, scale, rgb ? rgb : black);
}

/* ---- grids ---- */

void
lrpx_grid_options_default(struct lrpx_grid_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->n_cols      = 0;
    opts->gap         = 4;
    opts->label_scale = 2;
    memset(opts->background, 255, 3);
    memset(opts->text, 0, 3);
}

static lrpx_status
grid_done(lrpx_status rc, const struct lrpx_err *err, char *errbuf, size_t errlen)
{
    if (rc != LRPX_OK)
        lrpx__errbuf_set(err, errbuf, errlen);
    else if (errbuf && errlen)
        errbuf[0] = '\0';
    return rc;
}

lrpx_status
lrpx_pixmap_grid(const lrpx_pixmap *const *cells, const char *const *labels, int n,
                 const struct lrpx_grid_options *opts, lrpx_pixmap **out, char *errbuf,
                 size_t errlen)
{
    struct lrpx_err          err;
    struct lrpx_grid_options o;
    lrpx__error_clear(&err);
    if (!out)
        return grid_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!cells || n < 1)
        return grid_done(lrpx__error(&err, LRPX_EINVAL, "a grid needs at least one cell"),
                         &err, errbuf, errlen);
    lrpx_grid_options_default(&o);
    if (opts)
        o = *opts;
    if (o.gap < 0 || o.gap > 4096 || o.label_scale < 1 || o.label_scale > 64 || o.n_cols < 0)
        return grid_done(lrpx__error(&err, LRPX_EINVAL, "bad grid options (gap %d, label "
                                     "scale %d, columns %d)", o.gap, o.label_scale, o.n_cols),
                         &err, errbuf, errlen);
    int  cols = o.n_cols == 0 || o.n_cols > n ? n : o.n_cols;
    int  rows = (n + cols - 1) / cols;
    int  bw = 0, bh = 0;
    bool any_label = false;
    for (int i = 0; i < n; i++) {
        const lrpx_pixmap *c = cells[i];
        if (!c || !c->data || (c->channels != 1 && c->channels != 3))
            return grid_done(lrpx__error(&err, LRPX_EINVAL, "grid cell %d is missing or not a "
                                         "gray/RGB pixmap", i), &err, errbuf, errlen);
        if (c->width > bw)
            bw = c->width;
        if (c->height > bh)
            bh = c->height;
        if (labels && labels[i] && labels[i][0])
            any_label = true;
    }
    int     lh = any_label ? FONT_CELLH * o.label_scale + o.gap : 0;
    int64_t W  = (int64_t)cols * bw + (int64_t)(cols + 1) * o.gap;
    int64_t H  = (int64_t)rows * (bh + lh) + (int64_t)(rows + 1) * o.gap;
    if (W > INT32_MAX || H > INT32_MAX || W * H * 3 > INT32_MAX)
        return grid_done(lrpx__error(&err, LRPX_ELIMIT, "grid of %lldx%lld pixels is too large",
                                     (long long)W, (long long)H), &err, errbuf, errlen);
    lrpx_pixmap *pm;
    lrpx_status  rc = lrpx__pixmap_new((int)W, (int)H, 3, &pm, &err);
    if (rc != LRPX_OK)
        return grid_done(rc, &err, errbuf, errlen);
    for (size_t i = 0; i < (size_t)W * H; i++)
        memcpy(pm->data + i * 3, o.background, 3);

    for (int i = 0; i < n; i++) {
        const lrpx_pixmap *c  = cells[i];
        int                bx = o.gap + (i % cols) * (bw + o.gap);
        int                by = o.gap + (i / cols) * (bh + lh + o.gap);
        int                x0 = bx + (bw - c->width) / 2;
        int                y0 = by + (bh - c->height) / 2;
        for (int y = 0; y < c->height; y++)
            for (int x = 0; x < c->width; x++) {
                const uint8_t *s = c->data + ((size_t)y * c->width + x) * c->channels;
                uint8_t       *d = pm->data + ((size_t)(y0 + y) * W + x0 + x) * 3;
                d[0] = s[0];
                d[1] = s[c->channels == 3 ? 1 : 0];
                d[2] = s[c->channels == 3 ? 2 : 0];
            }
        if (labels && labels[i] && labels[i][0]) {
            /* one line, centred under the box, cut at the box edges */
            char   line[256];
            size_t k = 0;
            for (const char *p = labels[i]; *p && *p != '\n' && k + 1 < sizeof line; p++)
                line[k++] = *p;
            line[k] = '\0';
            int              tw   = draw_text_width(line, o.label_scale);
            int              tx   = tw < bw ? bx + (bw - tw) / 2 : bx;
            int              ty   = by + bh + o.gap;
            struct draw_clip clip = {bx, ty, bx + bw, ty + FONT_CELLH * o.label_scale};
            draw_text_clipped(pm, &clip, tx, ty, line, o.label_scale, o.text);
        }
    }
    *out = pm;
    return grid_done(LRPX_OK, &err, errbuf, errlen);
}

lrpx_status
lrpx_pixmap_panel(const lrpx_pixmap *left, const lrpx_pixmap *right, lrpx_pixmap **out,
                  char *errbuf, size_t errlen)
{
    const lrpx_pixmap *cells[2] = {left, right};
    return lrpx_pixmap_grid(cells, NULL, 2, NULL, out, errbuf, errlen);
}
