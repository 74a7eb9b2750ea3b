/* lrpx spray OUT_DIR --class K: spectral relevance analysis (SpRAy) of the
 * maps a batch run (or a merge) wrote for one class. The maps are summed
 * over channels, downsized, scaled to length 1 and clustered by
 * lrpx_spray; the report (spray.md, spray.json, the eigenvalue spectrum and
 * a 2-D embedding as SVG, each cluster's mean heatmap and typical members
 * as PNG) goes to REPORT_DIR. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

static const char spray_usage[] =
    "usage: lrpx spray OUT_DIR --class K [-o REPORT_DIR] [--by explained|label|predicted]\n"
    "                  [--size S] [--neighbors N] [--clusters C | --max-clusters M]\n"
    "                  [--max-maps N] [--examples E] [-q]\n"
    "\n"
    "Spectral relevance analysis (Lapuschkin et al., Nature Communications\n"
    "2019) of the relevance maps an lrpx batch run (or merge) wrote to\n"
    "OUT_DIR, for the inputs of class K (an index or a class name): each map\n"
    "summed over channels, downsized to S pixels on its longer side, scaled to\n"
    "length 1; their k-nearest-neighbour graph; the eigenvalues of its\n"
    "normalised Laplacian (LAPACK); as many clusters as the largest eigengap\n"
    "says. A cluster is a strategy of the model for the class: a small one\n"
    "whose mean heatmap sits off the object (a watermark, a frame) is a\n"
    "\"Clever Hans\" strategy. Writes REPORT_DIR (default OUT_DIR/spray-K):\n"
    "spray.md, spray.json, spectrum.svg, embedding.svg, cluster_C_mean.png\n"
    "and cluster_C_examples.png.\n";

struct spray_args {
    const char *cls, *out;
    int         by, size, neighbors, clusters, max_clusters, max_maps, examples;
};

enum { BY_EXPLAINED, BY_LABEL, BY_PREDICTED };
static const struct cli_choice by_names[] = {
    {"explained", BY_EXPLAINED}, {"label", BY_LABEL}, {"predicted", BY_PREDICTED}, {NULL, 0}};
static const char *const by_keys[] = {"explained", "label", "predicted"};

#define ARG(f) offsetof(struct spray_args, f)
static const struct cli_flag spray_flags[] = {
    {"--class", NULL, "K", "the class (index or name)", CLI_STRING, ARG(cls),
     .need = "a class index or name"},
    {"-o", NULL, "REPORT_DIR", "where the report goes (default OUT_DIR/spray-K)", CLI_STRING,
     ARG(out), .need = "a folder"},
    {"--by", NULL, "FIELD", "which class of a result counts: explained (default),\n"
     "label or predicted", CLI_CHOICE, ARG(by), .choices = by_names},
    {"--size", NULL, "S", "downsize the maps to S pixels on the longer side\n"
     "(default: half the map, at most 32)", CLI_INT, ARG(size), .lo = 2, .hi = 256},
    {"--neighbors", NULL, "N", "k of the nearest-neighbour graph (default 10)", CLI_INT,
     ARG(neighbors), .lo = 1, .hi = 1000},
    {"--clusters", NULL, "C", "this many clusters instead of the eigengap's", CLI_INT,
     ARG(clusters), .lo = 1, .hi = LRPX_SPRAY_MAX_CLUSTERS},
    {"--max-clusters", NULL, "M", "the eigengap chooses at most M clusters (default 10)",
     CLI_INT, ARG(max_clusters), .lo = 1, .hi = LRPX_SPRAY_MAX_CLUSTERS},
    {"--max-maps", NULL, "N", "at most N maps (default 5000): those whose keys hash\n"
     "lowest (FNV-1a), a sample that does not depend on order", CLI_INT, ARG(max_maps),
     .lo = 3, .hi = LRPX_SPRAY_MAX_MAPS},
    {"--examples", NULL, "E", "members shown per cluster (default 8)", CLI_INT, ARG(examples),
     .lo = 1, .hi = 64},
    {NULL}};
#undef ARG

/* One selected map. */
struct member {
    const char *key, *rel;        /* owned by the cJSON lines */
    uint64_t    hash;
};

struct spray_ctx {
    const char        *dir;
    struct spray_args *a;
    lrpx_layout        layout;
    char               root[PATH_MAX];   /* the inputs' folder             */
    struct member     *m;
    int                n;
    int                h, w;             /* the maps (after the channel sum) */
    int                sh, sw;           /* downsized                        */
    float             *x;                /* n x (sh * sw), length 1 each      */
    lrpx_spray_result *r;
};

static int
cmp_hash(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    return x->hash != y->hash ? (x->hash > y->hash) - (x->hash < y->hash) : strcmp(x->key, y->key);
}

static int
cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

/* The channel-summed map of member i (1 channel, h x w), or NULL with the
 * error printed. */
static lrpx_image *
load_map(const char *cmd, const struct spray_ctx *c, int i)
{
    char        p[8192], err[1024];
    lrpx_npy   *a   = NULL;
    lrpx_image *red = NULL;
    if (!batch_join(p, sizeof p, c->dir, c->m[i].rel)) {
        cli_error(cmd, "%s: path too long", c->m[i].rel);
        return NULL;
    }
    if (lrpx_npy_read(p, &a, err, sizeof err) != LRPX_OK) {
        cli_error(cmd, "%s", err);
        return NULL;
    }
    lrpx_tensor_view v = {a->dtype, a->rank, {0}, a->n_elems, a->data};
    memcpy(v.dims, a->dims, sizeof v.dims);
    if (lrpx_heatmap_reduce(&v, c->layout, LRPX_HEAT_REDUCE_SUM, &red, err, sizeof err) != LRPX_OK)
        cli_error(cmd, "%s: %s", p, err);
    lrpx_npy_free(a);
    return red;
}

/* Scale v (n floats) to length 1 (a zero map stays zero). */
static void
unit_length(float *v, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    if (s > 0.0)
        for (int64_t i = 0; i < n; i++)
            v[i] = (float)(v[i] / sqrt(s));
}

static int
load_maps(const char *cmd, struct spray_ctx *c)
{
    char err[1024];
    for (int i = 0; i < c->n; i++) {
        lrpx_image *red = load_map(cmd, c, i), *small = NULL;
        if (!red)
            return CLI_FAIL;
        if (i == 0) {
            c->h = red->height;
            c->w = red->width;
            int s = c->a->size ? c->a->size : (c->h > c->w ? c->h : c->w) / 2;
            if (!c->a->size && s > 32)
                s = 32;
            if (s < 2)
                s = 2;
            c->sw = c->w >= c->h ? s : (int)lround((double)s * c->w / c->h);
            c->sh = c->h >= c->w ? s : (int)lround((double)s * c->h / c->w);
            c->sw = c->sw < 1 ? 1 : c->sw;
            c->sh = c->sh < 1 ? 1 : c->sh;
            c->x  = malloc((size_t)c->n * (size_t)(c->sw * c->sh) * sizeof *c->x);
            if (!c->x) {
                lrpx_image_free(red);
                return cli_error(cmd, "out of memory for %d maps", c->n);
            }
        } else if (red->height != c->h || red->width != c->w) {
            lrpx_image_free(red);
            return cli_error(cmd, "%s: a %dx%d map among %dx%d ones; SpRAy compares maps of "
                             "one size", c->m[i].rel, red->width, red->height, c->w, c->h);
        }
        lrpx_status st = lrpx_image_resize(red, c->sw, c->sh, LRPX_INTERP_BILINEAR, 1, &small,
                                           err, sizeof err);
        lrpx_image_free(red);
        if (st != LRPX_OK)
            return cli_error(cmd, "%s: %s", c->m[i].rel, err);
        float *row = c->x + (size_t)i * (size_t)(c->sw * c->sh);
        memcpy(row, small->data, (size_t)(c->sw * c->sh) * sizeof *row);
        unit_length(row, c->sw * c->sh);
        lrpx_image_free(small);
    }
    return CLI_OK;
}

/* ---- pictures ---- */

static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* An SVG picture of w x h on white, written to a memory stream (*buf). */
static FILE *
svg_open(char **buf, size_t *len, double w, double h)
{
    *buf    = NULL;
    FILE *f = open_memstream(buf, len);
    if (f)
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
                "height=\"100%%\" fill=\"white\"/>\n", w, h);
    return f;
}

/* The eigenvalues as dots, the chosen gap marked. */
static char *
spectrum_svg(const lrpx_spray_result *r, size_t *len)
{
    const double W = 480, H = 300, L = 50, R = 20, T = 20, B = 40;
    char        *buf;
    FILE        *f = svg_open(&buf, len, W, H);
    if (!f)
        return NULL;
    double       top = 0.0;
    for (int e = 0; e < r->n_eigen; e++)
        top = fmax(top, r->eigenvalues[e]);
    top = top > 0 ? top * 1.1 : 1.0;
#define X(e) (L + ((e) + 0.5) * (W - L - R) / r->n_eigen)
#define Y(v) (H - B - (v) / top * (H - T - B))
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L,
            H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L, T,
            L, H - B);
    for (int t = 0; t <= 4; t++) {
        double v = top / 1.1 * t / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", L - 4,
                Y(v) + 4, v);
    }
    if (r->n_clusters < r->n_eigen) {
        double gx = (X(r->n_clusters - 1) + X(r->n_clusters)) / 2;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                "stroke-dasharray=\"4 3\"/>\n<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">"
                "eigengap: %d cluster%s</text>\n", gx, T, gx, H - B, gx + 4, T + 12,
                r->n_clusters, r->n_clusters == 1 ? "" : "s");
    }
    fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"", f);
    for (int e = 0; e < r->n_eigen; e++)
        fprintf(f, "%.1f,%.1f ", X(e), Y(r->eigenvalues[e]));
    fputs("\"/>\n", f);
    for (int e = 0; e < r->n_eigen; e++) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#1f77b4\"/>\n", X(e),
                Y(r->eigenvalues[e]));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", X(e),
                H - B + 16, e + 1);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">eigenvalue index "
            "(normalised Laplacian of the %d-nearest-neighbour graph)</text>\n</svg>\n",
            (L + W - R) / 2, H - 6, r->n_neighbors);
#undef X
#undef Y
    fclose(f);
    return buf;
}

/* The range of the embedding's two coordinates (never empty). */
static void
embedding_bounds(const lrpx_spray_result *r, double lo[2], double hi[2])
{
    lo[0] = lo[1] = INFINITY;
    hi[0] = hi[1] = -INFINITY;
    for (int i = 0; i < r->n; i++)
        for (int e = 0; e < 2; e++) {
            lo[e] = fmin(lo[e], r->embedding[2 * i + e]);
            hi[e] = fmax(hi[e], r->embedding[2 * i + e]);
        }
    for (int e = 0; e < 2; e++)
        if (!(hi[e] > lo[e])) {
            lo[e] -= 1;
            hi[e] += 1;
        }
}

/* The 2-D spectral embedding, one dot per map coloured by cluster. */
static char *
embedding_svg(const lrpx_spray_result *r, size_t *len)
{
    const double W = 480, H = 400, M = 30, LEG = 110;
    char        *buf;
    FILE        *f = svg_open(&buf, len, W, H);
    double       lo[2], hi[2];
    if (!f)
        return NULL;
    embedding_bounds(r, lo, hi);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#888\"/>\n", M, M, W - LEG - M, H - 2 * M);
    for (int i = 0; i < r->n; i++) {
        double x = M + (r->embedding[2 * i] - lo[0]) / (hi[0] - lo[0]) * (W - LEG - 2 * M);
        double y = H - M - (r->embedding[2 * i + 1] - lo[1]) / (hi[1] - lo[1]) * (H - 2 * M);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" fill-opacity=\"0.75\"/>\n",
                x, y, palette[r->labels[i] % 10]);
    }
    for (int q = 0; q < r->n_clusters; q++) {
        double y = M + 10 + 18 * q;
        fprintf(f, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"%s\"/><text x=\"%.0f\" "
                "y=\"%.0f\">cluster %d (%d)</text>\n", W - LEG + 10, y, palette[q % 10],
                W - LEG + 20, y + 4, q, r->sizes[q]);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">spectral embedding "
            "(eigenvectors 2 and 3)</text>\n</svg>\n", (W - LEG) / 2 + M / 2, M - 10);
    fclose(f);
    return buf;
}

/* The same scatter as a PNG (480 x 400, dots of radius 4, a legend). */
static lrpx_pixmap *
embedding_png(const lrpx_spray_result *r)
{
    enum { W = 480, H = 400, M = 20, LEG = 120 };
    lrpx_pixmap *pm;
    if (lrpx_pixmap_init(W, H, 3, &pm) != LRPX_OK)
        return NULL;
    memset(pm->data, 255, (size_t)W * H * 3);
    double lo[2], hi[2];
    embedding_bounds(r, lo, hi);
    for (int q = -1; q < r->n_clusters; q++)         /* q = -1: the legend's dots */
        for (int i = 0; i < (q < 0 ? r->n_clusters : r->n); i++) {
            int  k = q < 0 ? i : r->labels[i];
            int  cx, cy;
            if (q < 0) {
                cx = W - LEG + 10;
                cy = M + 10 + 18 * i;
            } else {
                if (k != q)
                    continue;
                cx = M + (int)lround((r->embedding[2 * i] - lo[0]) / (hi[0] - lo[0]) *
                                     (W - LEG - 2 * M));
                cy = H - M - (int)lround((r->embedding[2 * i + 1] - lo[1]) / (hi[1] - lo[1]) *
                                         (H - 2 * M));
            }
            unsigned rgb = (unsigned)strtoul(palette[k % 10] + 1, NULL, 16);
            for (int y = cy - 4; y <= cy + 4; y++)
                for (int x = cx - 4; x <= cx + 4; x++)
                    if (x >= 0 && y >= 0 && x < W && y < H &&
                        (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 16) {
                        uint8_t *px = pm->data + ((size_t)y * W + x) * 3;
                        px[0]       = (uint8_t)(rgb >> 16);
                        px[1]       = (uint8_t)(rgb >> 8);
                        px[2]       = (uint8_t)rgb;
                    }
        }
    static const uint8_t black[3] = {0, 0, 0};
    for (int q = 0; q < r->n_clusters; q++) {
        char t[48];
        snprintf(t, sizeof t, "cluster %d (%d)", q, r->sizes[q]);
        lrpx_pixmap_draw_text(pm, W - LEG + 20, M + 6 + 18 * q, t, 1, black);
    }
    return pm;
}

/* Nearest-neighbour enlargement so small maps are visible. */
static lrpx_pixmap *
enlarge(lrpx_pixmap *pm, int target)
{
    int f = pm && pm->width < target ? (target + pm->width - 1) / pm->width : 1;
    if (!pm || f <= 1)
        return pm;
    lrpx_pixmap *out;
    if (lrpx_pixmap_init(pm->width * f, pm->height * f, pm->channels, &out) != LRPX_OK) {
        lrpx_pixmap_free(pm);
        return NULL;
    }
    for (int y = 0; y < out->height; y++)
        for (int x = 0; x < out->width; x++)
            memcpy(out->data + ((size_t)y * out->width + x) * pm->channels,
                   pm->data + ((size_t)(y / f) * pm->width + x / f) * pm->channels,
                   (size_t)pm->channels);
    lrpx_pixmap_free(pm);
    return out;
}

static lrpx_pixmap *
render(const lrpx_image *map)
{
    lrpx_pixmap *pm = NULL;
    if (lrpx_heatmap_render(map, NULL, &pm, NULL, 0) != LRPX_OK)
        return NULL;
    return enlarge(pm, 112);
}

/* Write pm (taken over: freed here) as DIR/NAME. */
static int
save_png(const char *cmd, const char *dir, const char *name, lrpx_pixmap *pm)
{
    char p[8192], err[1024];
    int  rc = CLI_OK;
    if (!pm)
        rc = cli_error(cmd, "%s: out of memory", name);
    else if (!batch_join(p, sizeof p, dir, name))
        rc = cli_error(cmd, "%s: path too long", dir);
    else if (cli_guard_output(cmd, "-o", p) != CLI_OK)
        rc = CLI_USAGE;
    else if (lrpx_pixmap_save(pm, p, 0, err, sizeof err) != LRPX_OK)
        rc = cli_error(cmd, "%s", err);
    lrpx_pixmap_free(pm);
    return rc;
}

/* The input image under a member's map, resized to the map (NULL when it
 * cannot be read, e.g. a .npy input). */
static lrpx_pixmap *
input_picture(const struct spray_ctx *c, int i)
{
    char        p[8192];
    lrpx_image *img = NULL, *small = NULL;
    lrpx_pixmap *pm = NULL;
    const char *k   = c->m[i].key;
    if (k[0] == '/')
        snprintf(p, sizeof p, "%s", k);
    else if (!batch_join(p, sizeof p, c->root, k))
        return NULL;
    if (lrpx_image_load(p, NULL, &img, NULL, 0) == LRPX_OK &&
        lrpx_image_resize(img, c->w, c->h, LRPX_INTERP_BILINEAR, 1, &small, NULL, 0) == LRPX_OK)
        lrpx_pixmap_from_image(small, &pm, NULL, 0);
    lrpx_image_free(img);
    lrpx_image_free(small);
    return enlarge(pm, 112);
}

static const char *
base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

struct near {
    double d;
    int    i;
};

static int
cmp_near(const void *a, const void *b)
{
    const struct near *x = a, *y = b;
    return x->d != y->d ? (x->d > y->d) - (x->d < y->d) : x->i - y->i;
}

/* cluster_Q_mean.png and cluster_Q_examples.png: the mean of the members'
 * maps (each of length 1, full size), and the members nearest to the
 * cluster's mean in the downsized space: image and heatmap. */
static int
cluster_pictures(const char *cmd, const struct spray_ctx *c, const char *out, int q,
                 int *examples, int *n_examples)
{
    const lrpx_spray_result *r   = c->r;
    int64_t                  hw  = (int64_t)c->h * c->w, d = (int64_t)c->sh * c->sw;
    double                  *sum = calloc((size_t)hw, sizeof *sum);
    double                  *cen = calloc((size_t)d, sizeof *cen);
    lrpx_image              *mean = NULL;
    int                      rc = CLI_OK, cnt = 0;
    char                     name[64], err[512];
    if (!sum || !cen || lrpx_image_init(c->w, c->h, 1, &mean) != LRPX_OK)
        rc = cli_error(cmd, "out of memory");
    for (int i = 0; i < c->n && rc == CLI_OK; i++) {
        if (r->labels[i] != q)
            continue;
        lrpx_image *m = load_map(cmd, c, i);
        if (!m) {
            rc = CLI_FAIL;
            break;
        }
        unit_length(m->data, hw);
        for (int64_t k = 0; k < hw; k++)
            sum[k] += m->data[k];
        for (int64_t k = 0; k < d; k++)
            cen[k] += c->x[(size_t)i * d + k];
        lrpx_image_free(m);
        cnt++;
    }
    if (rc == CLI_OK && cnt) {
        for (int64_t k = 0; k < hw; k++)
            mean->data[k] = (float)(sum[k] / cnt);
        snprintf(name, sizeof name, "cluster_%d_mean.png", q);
        rc = save_png(cmd, out, name, render(mean));
    }
    /* typical members: nearest to the centre */
    struct near *by = malloc((size_t)(cnt ? cnt : 1) * sizeof *by);
    int          k  = 0;
    if (!by && rc == CLI_OK)
        rc = cli_error(cmd, "out of memory");
    for (int i = 0; i < c->n && rc == CLI_OK; i++) {
        if (r->labels[i] != q)
            continue;
        double s = 0.0;
        for (int64_t t = 0; t < d; t++) {
            double e = c->x[(size_t)i * d + t] - cen[t] / cnt;
            s += e * e;
        }
        by[k++] = (struct near){s, i};
    }
    if (rc == CLI_OK)
        qsort(by, (size_t)k, sizeof *by, cmp_near);
    *n_examples = k < c->a->examples ? k : c->a->examples;
    for (int e = 0; rc == CLI_OK && e < *n_examples; e++)
        examples[e] = by[e].i;
    free(by);
    lrpx_pixmap **cells  = calloc((size_t)(2 * c->a->examples), sizeof *cells);
    const char  **labels = calloc((size_t)(2 * c->a->examples), sizeof *labels);
    int           n_cells = 0;
    for (int e = 0; rc == CLI_OK && cells && labels && e < *n_examples; e++) {
        int         i   = examples[e];
        lrpx_image *m   = load_map(cmd, c, i);
        lrpx_pixmap *pic = input_picture(c, i);
        if (!m) {
            lrpx_pixmap_free(pic);
            rc = CLI_FAIL;
            break;
        }
        if (pic) {
            cells[n_cells]    = pic;
            labels[n_cells++] = base_name(c->m[i].key);
        }
        cells[n_cells]    = render(m);
        labels[n_cells++] = pic ? "" : base_name(c->m[i].key);
        lrpx_image_free(m);
        if (!cells[n_cells - 1])
            rc = cli_error(cmd, "out of memory");
    }
    if (rc == CLI_OK && n_cells) {
        struct lrpx_grid_options go;
        lrpx_pixmap             *grid = NULL;
        lrpx_grid_options_default(&go);
        go.n_cols      = n_cells > 8 ? 8 : n_cells;
        go.label_scale = 1;
        if (lrpx_pixmap_grid((const lrpx_pixmap *const *)cells, labels, n_cells, &go, &grid, err,
                             sizeof err) != LRPX_OK)
            rc = cli_error(cmd, "grid: %s", err);
        snprintf(name, sizeof name, "cluster_%d_examples.png", q);
        rc = rc == CLI_OK ? save_png(cmd, out, name, grid) : (lrpx_pixmap_free(grid), rc);
    }
    for (int e = 0; cells && e < n_cells; e++)
        lrpx_pixmap_free(cells[e]);
    free(cells);
    free(labels);
    lrpx_image_free(mean);
    free(sum);
    free(cen);
    return rc;
}

/* ---- the report ---- */

static int
write_report(const char *cmd, struct spray_ctx *c, const char *out, int64_t cls,
             const char *cls_name)
{
    const lrpx_spray_result *r   = c->r;
    int                     *ex  = malloc((size_t)c->a->examples * sizeof *ex);
    int                      rc  = ex ? CLI_OK : cli_error(cmd, "out of memory");
    size_t                   len = 0;
    char                    *svg;
    if (rc == CLI_OK) {
        svg = spectrum_svg(r, &len);
        rc  = svg ? batch_write(cmd, out, "spectrum.svg", svg, len)
                  : cli_error(cmd, "out of memory");
        free(svg);
    }
    if (rc == CLI_OK) {
        svg = embedding_svg(r, &len);
        rc  = svg ? batch_write(cmd, out, "embedding.svg", svg, len)
                  : cli_error(cmd, "out of memory");
        free(svg);
    }
    if (rc == CLI_OK)
        rc = save_png(cmd, out, "embedding.png", embedding_png(r));
    char  *js = NULL, *md = NULL;
    size_t n_js = 0, n_md = 0;
    FILE  *fj = open_memstream(&js, &n_js), *fm = open_memstream(&md, &n_md);
    if (!fj || !fm)
        rc = cli_error(cmd, "out of memory");
    if (rc == CLI_OK) {
        fprintf(fj, "{\"run\": ");
        cli_json_string(fj, c->dir);
        fprintf(fj, ", \"class\": %lld, \"class_name\": ", (long long)cls);
        cli_json_string_or_null(fj, cls_name);
        fprintf(fj, ", \"by\": \"%s\", \"n_maps\": %d, \"map_size\": [%d, %d], "
                "\"downsized\": [%d, %d], \"neighbors\": %d, \"n_clusters\": %d, "
                "\"chosen_by\": \"%s\",\n \"eigenvalues\": [", by_keys[c->a->by], c->n, c->h,
                c->w, c->sh, c->sw, r->n_neighbors, r->n_clusters,
                c->a->clusters ? "--clusters" : "eigengap");
        for (int e = 0; e < r->n_eigen; e++)
            fprintf(fj, "%s%.9g", e ? ", " : "", r->eigenvalues[e]);
        fputs("],\n \"clusters\": [", fj);
        fprintf(fm, "# SpRAy: class %lld%s%s%s\n\n", (long long)cls, cls_name ? " (" : "",
                cls_name ? cls_name : "", cls_name ? ")" : "");
        fprintf(fm, "Spectral relevance analysis (Lapuschkin et al., Nature Communications 10, "
                "1096, 2019) of the %d relevance maps of `%s` whose %s class is %lld. Each map "
                "was summed over channels, downsized from %dx%d to %dx%d and scaled to length "
                "1; the graph joins each map to its %d nearest neighbours. The largest gap "
                "among the smallest eigenvalues of its normalised Laplacian %s **%d "
                "cluster%s**.\n\n", c->n, c->dir, by_keys[c->a->by], (long long)cls, c->w, c->h,
                c->sw, c->sh, r->n_neighbors,
                c->a->clusters ? "was overridden by --clusters:" : "gives", r->n_clusters,
                r->n_clusters == 1 ? "" : "s");
        fputs("![eigenvalue spectrum](spectrum.svg)\n![spectral embedding](embedding.svg)\n\n"
              "(embedding.png: the embedding as a PNG.)\n\n"
              "| cluster | maps | share | mean heatmap | typical members (image, heatmap) |\n"
              "|---|---|---|---|---|\n", fm);
    }
    for (int q = 0; q < r->n_clusters && rc == CLI_OK; q++) {
        int n_ex = 0;
        rc       = cluster_pictures(cmd, c, out, q, ex, &n_ex);
        fprintf(fj, "%s\n  {\"id\": %d, \"size\": %d, \"mean_heatmap\": \"cluster_%d_mean.png\", "
                "\"examples\": \"cluster_%d_examples.png\", \"typical\": [", q ? "," : "", q,
                r->sizes[q], q, q);
        for (int e = 0; e < n_ex; e++) {
            fputs(e ? ", " : "", fj);
            cli_json_string(fj, c->m[ex[e]].key);
        }
        fputs("], \"members\": [", fj);
        for (int i = 0, k = 0; i < c->n; i++)
            if (r->labels[i] == q) {
                fputs(k++ ? ", " : "", fj);
                cli_json_string(fj, c->m[i].key);
            }
        fputs("]}", fj);
        fprintf(fm, "| %d | %d | %.1f%% | ![](cluster_%d_mean.png) | ![](cluster_%d_examples.png) |\n",
                q, r->sizes[q], 100.0 * r->sizes[q] / c->n, q, q);
    }
    if (fj) {
        fputs("],\n \"embedding\": [", fj);
        for (int i = 0; i < c->n; i++) {
            fprintf(fj, "%s\n  {\"input\": ", i ? "," : "");
            cli_json_string(fj, c->m[i].key);
            fprintf(fj, ", \"cluster\": %d, \"x\": %.9g, \"y\": %.9g}", r->labels[i],
                    r->embedding[2 * i], r->embedding[2 * i + 1]);
        }
        fputs("]}\n", fj);
        fclose(fj);
    }
    if (fm) {
        fputs("\nspray.json lists every cluster's members and each map's place in the "
              "embedding.\n", fm);
        fclose(fm);
    }
    if (rc == CLI_OK)
        rc = batch_write(cmd, out, "spray.json", js, n_js);
    if (rc == CLI_OK)
        rc = batch_write(cmd, out, "spray.md", md, n_md);
    free(js);
    free(md);
    free(ex);
    return rc;
}

int
cmd_spray(int argc, char **argv)
{
    const char       *cmd = "spray", *pos[1];
    struct spray_args a   = {.by = BY_EXPLAINED, .max_maps = 5000, .examples = 8};
    int               n_pos;
    struct cli_flag_group g[] = {{.flags = spray_flags, .ctx = &a}, cli_verbosity_group()};
    int rc = cli_parse_flags(cmd, argc, argv, g, 2, pos, 1, &n_pos);
    if (rc == CLI_HELP) {
        cli_print_help(stdout, cmd, spray_usage, g, 2);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (!n_pos)
        return cli_usage_error(cmd, "missing OUT_DIR (the --out folder of lrpx batch or merge)");
    if (!a.cls)
        return cli_usage_error(cmd, "missing --class K");
    if (a.clusters && a.max_clusters)
        return cli_usage_error(cmd, "--clusters and --max-clusters exclude each other");

    struct spray_ctx   c   = {.dir = pos[0], .a = &a, .layout = LRPX_LAYOUT_NCHW};
    cli_guard_input(pos[0], "the run's file");          /* results.jsonl, run.json, ... */
    struct batch_lines bl  = {0};
    cJSON            **obj = NULL, *run = NULL;
    char             **names = NULL, p[8192], out[8192];
    int                n_names = 0;
    int64_t            cls;
    char              *text = batch_join(p, sizeof p, c.dir, "run.json") ? batch_slurp(p, NULL)
                                                                         : NULL;
    if (!text)
        return cli_error(cmd, "%s/run.json: %s (not the --out folder of lrpx batch or merge?)",
                         c.dir, strerror(errno));
    run           = cJSON_Parse(text);
    free(text);
    cJSON *set    = cJSON_GetObjectItemCaseSensitive(run, "settings");
    cJSON *model  = cJSON_GetObjectItemCaseSensitive(set, "model");
    cJSON *root   = cJSON_GetObjectItemCaseSensitive(run, "inputs_root");
    cJSON *layout = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(set, "preprocess"), "layout");
    if (!cJSON_IsString(model) || !cJSON_IsString(root)) {
        cJSON_Delete(run);
        return cli_error(cmd, "%s/run.json: no model or inputs_root", c.dir);
    }
    snprintf(c.root, sizeof c.root, "%s", root->valuestring);
    if (cJSON_IsNumber(layout) && layout->valueint == LRPX_LAYOUT_NHWC)
        c.layout = LRPX_LAYOUT_NHWC;
    names = cli_load_classes(model->valuestring, &n_names);
    if (!batch_parse_class(a.cls, names, n_names, &cls) || cls < 0) {
        rc = cli_usage_error(cmd, "--class %s: neither a class index nor one of the model's "
                             "class names", a.cls);
        goto done;
    }
    const char *cls_name = cls < n_names ? names[cls] : NULL;
    if (!batch_join(p, sizeof p, c.dir, "results.jsonl") ||
        (rc = batch_lines_read(cmd, p, false, false, &bl)) != CLI_OK)
        goto done;
    obj = calloc((size_t)(bl.n ? bl.n : 1), sizeof *obj);
    c.m = calloc((size_t)(bl.n ? bl.n : 1), sizeof *c.m);
    if (!obj || !c.m) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    for (int i = 0; i < bl.n; i++) {
        obj[i]     = batch_parse_line(bl.line[i], strlen(bl.line[i]));
        cJSON *f   = cJSON_GetObjectItemCaseSensitive(obj[i], by_keys[a.by]);
        cJSON *rel = cJSON_GetObjectItemCaseSensitive(obj[i], "relevance");
        if (!obj[i] || !cJSON_IsNumber(f) || (int64_t)f->valuedouble != cls ||
            !cJSON_IsString(rel))
            continue;
        const char *key = cJSON_GetObjectItemCaseSensitive(obj[i], "input")->valuestring;
        c.m[c.n++]      = (struct member){key, rel->valuestring, batch_key_hash(key)};
    }
    if (c.n < 3) {
        rc = cli_error(cmd, "%s: %d map%s of class %lld (by %s): SpRAy needs at least 3", c.dir,
                       c.n, c.n == 1 ? "" : "s", (long long)cls, by_keys[a.by]);
        goto done;
    }
    if (c.n > a.max_maps) {        /* a sample by hash: the same whatever the order */
        if (!cli_verbosity.quiet)
            fprintf(stderr, "lrpx spray: %d maps of class %lld; using the %d whose keys hash "
                    "lowest (--max-maps)\n", c.n, (long long)cls, a.max_maps);
        qsort(c.m, (size_t)c.n, sizeof *c.m, cmp_hash);
        c.n = a.max_maps;
    }
    qsort(c.m, (size_t)c.n, sizeof *c.m, cmp_key);
    if ((rc = load_maps(cmd, &c)) != CLI_OK)
        goto done;
    struct lrpx_spray_options so;
    char                      err[1024];
    lrpx_spray_options_default(&so);
    so.n_neighbors  = a.neighbors;
    so.n_clusters   = a.clusters;
    so.max_clusters = a.max_clusters;
    if (lrpx_spray(c.x, c.n, (int64_t)c.sw * c.sh, &so, &c.r, err, sizeof err) != LRPX_OK) {
        rc = cli_error(cmd, "%s", err);
        goto done;
    }
    if (a.out)
        snprintf(out, sizeof out, "%s", a.out);
    else
        snprintf(out, sizeof out, "%s/spray-%lld", c.dir, (long long)cls);
    if (!batch_join(p, sizeof p, out, "x") || (rc = batch_mkdirs_for(cmd, p)) != CLI_OK ||
        (rc = write_report(cmd, &c, out, cls, cls_name)) != CLI_OK)
        goto done;
    if (!cli_verbosity.quiet) {
        printf("class %lld%s%s%s: %d maps, %d cluster%s (%s):", (long long)cls,
               cls_name ? " (" : "", cls_name ? cls_name : "", cls_name ? ")" : "", c.n,
               c.r->n_clusters, c.r->n_clusters == 1 ? "" : "s",
               a.clusters ? "--clusters" : "eigengap");
        for (int q = 0; q < c.r->n_clusters; q++)
            printf("%s %d", q ? "," : "", c.r->sizes[q]);
        printf("; report in %s/spray.md\n", out);
    }
done:
    for (int i = 0; obj && i < bl.n; i++)
        cJSON_Delete(obj[i]);
    free(obj);
    free(c.m);
    free(c.x);
    lrpx_spray_result_free(c.r);
    batch_lines_free(&bl);
    cli_free_classes(names, n_names);
    cJSON_Delete(run);
    return rc;
}
