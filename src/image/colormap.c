/* Colour maps: piecewise-linear RGB over u in [0, 1].
 *
 * The built-ins are re-derived from their published definitions, with the
 * centre of every diverging map at exactly u = 0.5 so that zero relevance
 * gets the centre colour (matplotlib's 256-entry tables and Zennit's
 * 0..255 node indices put it half a step off):
 *   bwr, seismic, hot, gray, afmhot: matplotlib's segment data (_cm.py);
 *     afmhot's gnuplot functions r = 2u, g = 2u - 1/2, b = 2u - 1 (clipped)
 *     are linear between u = 0, 1/4, 1/2, 3/4, 1;
 *   coldnhot: Zennit's "0ff,00f,80:000,f00,ff0,fff": cyan, blue, black at
 *     the centre, then red, yellow, white evenly spaced in the upper half;
 *   gray-red, black-firered: the LRP toolbox's render.py functions of
 *     x = 2u - 1 in [-1, 1]. gray-red blends gray 0.8 to blue (x = -1) and
 *     red (x = 1); black-firered is black at 0 and goes red, yellow, white
 *     (x = 1/4, 1/2, 1) and blue, cyan, white (x = -1/4, -1/2, -1).
 * Two stops at one position make a jump; u exactly at a jump takes the
 * upper colour.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_impl.h"

#define CMAP_MAX_STOPS 256

struct cmap_stop {
    double pos;
    double rgb[3];
};

struct lrpx_colormap {
    const char             *name;
    int                     n_stops;
    const struct cmap_stop *stops;
    char                    name_buf[64];   /* loaded maps only */
};

/*                       position      r        g        b   */
static const struct cmap_stop stops_bwr[] = {
    {0.0,      {0.0,    0.0,   1.0}},
    {0.5,      {1.0,    1.0,   1.0}},
    {1.0,      {1.0,    0.0,   0.0}},
};
static const struct cmap_stop stops_seismic[] = {
    {0.0,      {0.0,    0.0,   0.3}},
    {0.25,     {0.0,    0.0,   1.0}},
    {0.5,      {1.0,    1.0,   1.0}},
    {0.75,     {1.0,    0.0,   0.0}},
    {1.0,      {0.5,    0.0,   0.0}},
};
static const struct cmap_stop stops_coldnhot[] = {
    {0.0,      {0.0,    1.0,   1.0}},
    {0.25,     {0.0,    0.0,   1.0}},
    {0.5,      {0.0,    0.0,   0.0}},
    {4.0 / 6,  {1.0,    0.0,   0.0}},
    {5.0 / 6,  {1.0,    1.0,   0.0}},
    {1.0,      {1.0,    1.0,   1.0}},
};
static const struct cmap_stop stops_gray_red[] = {
    {0.0,      {0.0,    0.0,   1.0}},
    {0.5,      {0.8,    0.8,   0.8}},
    {1.0,      {1.0,    0.0,   0.0}},
};
static const struct cmap_stop stops_black_firered[] = {
    {0.0,      {1.0,    1.0,   1.0}},
    {0.25,     {0.0,    1.0,   1.0}},
    {0.375,    {0.0,    0.0,   1.0}},
    {0.5,      {0.0,    0.0,   0.0}},
    {0.625,    {1.0,    0.0,   0.0}},
    {0.75,     {1.0,    1.0,   0.0}},
    {1.0,      {1.0,    1.0,   1.0}},
};
static const struct cmap_stop stops_hot[] = {
    {0.0,      {0.0416, 0.0,   0.0}},
    {0.365079, {1.0,    0.0,   0.0}},
    {0.746032, {1.0,    1.0,   0.0}},
    {1.0,      {1.0,    1.0,   1.0}},
};
static const struct cmap_stop stops_gray[] = {
    {0.0,      {0.0,    0.0,   0.0}},
    {1.0,      {1.0,    1.0,   1.0}},
};
static const struct cmap_stop stops_afmhot[] = {
    {0.0,      {0.0,    0.0,   0.0}},
    {0.25,     {0.5,    0.0,   0.0}},
    {0.5,      {1.0,    0.5,   0.0}},
    {0.75,     {1.0,    1.0,   0.5}},
    {1.0,      {1.0,    1.0,   1.0}},
};

#define CMAP(n, s) {n, (int)(sizeof s / sizeof s[0]), s, ""}
static const struct lrpx_colormap builtins[] = {
    CMAP("bwr",           stops_bwr),
    CMAP("seismic",       stops_seismic),
    CMAP("coldnhot",      stops_coldnhot),
    CMAP("gray-red",      stops_gray_red),
    CMAP("black-firered", stops_black_firered),
    CMAP("hot",           stops_hot),
    CMAP("gray",          stops_gray),
    CMAP("afmhot",        stops_afmhot),
};
#undef CMAP
#define N_BUILTINS ((int)(sizeof builtins / sizeof builtins[0]))

const lrpx_colormap *
lrpx_colormap_builtin(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < N_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

const char *
lrpx_colormap_builtin_name(int i)
{
    return i >= 0 && i < N_BUILTINS ? builtins[i].name : NULL;
}

const char *
lrpx_colormap_name(const lrpx_colormap *cmap)
{
    return cmap ? cmap->name : "";
}

void
lrpx_colormap_eval(const lrpx_colormap *cmap, double u, double rgb[3])
{
    if (!cmap)
        cmap = &builtins[0];
    if (isnan(u))
        u = 0.5;
    if (u < 0.0)
        u = 0.0;
    if (u > 1.0)
        u = 1.0;
    const struct cmap_stop *s = cmap->stops;
    int                     n = cmap->n_stops;
    /* last stop at or below u (stops are sorted; there are few) */
    int i = 0;
    while (i + 1 < n && s[i + 1].pos <= u)
        i++;
    if (i + 1 >= n || u <= s[i].pos) {
        memcpy(rgb, s[i].rgb, 3 * sizeof(double));
        return;
    }
    double t = (u - s[i].pos) / (s[i + 1].pos - s[i].pos);
    for (int c = 0; c < 3; c++)
        rgb[c] = s[i].rgb[c] + (s[i + 1].rgb[c] - s[i].rgb[c]) * t;
}

void
lrpx_colormap_free(lrpx_colormap *cmap)
{
    if (!cmap)
        return;
    for (int i = 0; i < N_BUILTINS; i++)
        if (cmap == &builtins[i])
            return;                       /* defensive: built-ins are static */
    lrpx__free((void *)cmap->stops);
    lrpx__free(cmap);
}

/* ---- text tables ---- */

static lrpx_status
cmap_parse(const char *text, size_t len, const char *name, lrpx_colormap **out,
           struct lrpx_err *err)
{
    struct cmap_stop *stops = lrpx__malloc(sizeof *stops * CMAP_MAX_STOPS);
    if (!stops)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory");
    int    n = 0, line = 0;
    double range = 1.0;
    size_t pos = 0;
    char   buf[256];
    while (pos < len) {
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        line++;
        size_t l = e - pos;
        if (l >= sizeof buf) {
            lrpx__free(stops);
            return lrpx__error(err, LRPX_EPARSE, "line %d: longer than %zu bytes", line,
                               sizeof buf - 1);
        }
        memcpy(buf, text + pos, l);
        buf[l] = '\0';
        pos = e + 1;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *p = buf;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            continue;
        if (strncmp(p, "range", 5) == 0 && isspace((unsigned char)p[5])) {
            char  *q;
            double r = strtod(p + 5, &q);
            while (isspace((unsigned char)*q))
                q++;
            if (*q || (r != 1.0 && r != 255.0) || n > 0) {
                lrpx__free(stops);
                return lrpx__error(err, LRPX_EPARSE, "line %d: 'range' takes 1 or 255 and "
                                   "comes before the stops", line);
            }
            range = r;
            continue;
        }
        double v[4];
        char  *q = p;
        int    k;
        for (k = 0; k < 4; k++) {
            char *endp;
            errno = 0;
            v[k]  = strtod(q, &endp);
            if (endp == q || errno == ERANGE || !isfinite(v[k]))
                break;
            q = endp;
        }
        while (isspace((unsigned char)*q) || *q == '\r')
            q++;
        if (k != 4 || *q) {
            lrpx__free(stops);
            return lrpx__error(err, LRPX_EPARSE, "line %d: expected 'position r g b'", line);
        }
        if (n == CMAP_MAX_STOPS) {
            lrpx__free(stops);
            return lrpx__error(err, LRPX_EPARSE, "line %d: more than %d stops", line,
                               CMAP_MAX_STOPS);
        }
        if (v[0] < 0.0 || v[0] > 1.0 || (n > 0 && v[0] < stops[n - 1].pos)) {
            lrpx__free(stops);
            return lrpx__error(err, LRPX_EPARSE, "line %d: position %g is not in [0, 1] or "
                               "goes down", line, v[0]);
        }
        for (int c = 0; c < 3; c++) {
            if (v[c + 1] < 0.0 || v[c + 1] > range) {
                lrpx__free(stops);
                return lrpx__error(err, LRPX_EPARSE, "line %d: colour %g is not in [0, %g]",
                                   line, v[c + 1], range);
            }
            stops[n].rgb[c] = v[c + 1] / range;
        }
        stops[n].pos = v[0];
        n++;
    }
    if (n < 2 || stops[0].pos != 0.0 || stops[n - 1].pos != 1.0) {
        lrpx__free(stops);
        return lrpx__error(err, LRPX_EPARSE, "a colour map needs at least two stops, the "
                           "first at 0 and the last at 1");
    }
    lrpx_colormap *cm = lrpx__calloc(1, sizeof *cm);
    if (!cm) {
        lrpx__free(stops);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory");
    }
    snprintf(cm->name_buf, sizeof cm->name_buf, "%s", name ? name : "custom");
    cm->name    = cm->name_buf;
    cm->n_stops = n;
    cm->stops   = stops;
    *out = cm;
    return LRPX_OK;
}

lrpx_status
lrpx_colormap_parse(const char *text, size_t len, const char *name, lrpx_colormap **out,
                    char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc;
    if (!out || (!text && len))
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL argument");
    else {
        *out = NULL;
        rc = cmap_parse(text ? text : "", len, name, out, &err);
        if (rc != LRPX_OK)
            lrpx__error_prefix(&err, "%s", name ? name : "colour map");
    }
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_colormap_load(const char *path, lrpx_colormap **out, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!out || !path)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf,
                                 errlen);
    *out = NULL;
    static const struct lrpx_file_cap cap = {64 * 1024, LRPX_EPARSE, "a colour table"};
    void       *buf;
    size_t      n;
    lrpx_status rc = lrpx__slurp(path, &cap, &buf, &n, &err);
    if (rc == LRPX_OK) {
        const char *base = strrchr(path, '/');
        rc = cmap_parse(buf, n, base ? base + 1 : path, out, &err);
        if (rc != LRPX_OK)
            lrpx__error_prefix(&err, "%s", path);
    }
    lrpx__free(buf);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}
