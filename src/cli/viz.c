/* Pictures and the paper's tricks for `lrpx explain` and `lrpx gradient`:
 * --heatmap (with colour map, clipping, reduction, gamma, overlay, panel,
 * mapping back onto the photo), --grid (image x composite/target panels
 * with labels), --translate K and --window WxH --stride S. The maps come
 * from lrpx_session_explain / _gradient or lrpx_session_explain_translated
 * / _windows; everything is drawn with the public image API. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

void
cli_viz_init(struct cli_viz *v)
{
    memset(v, 0, sizeof *v);
    cli_prep_init(&v->prep);
    v->clip    = 100.0;
    v->gamma   = 1.0;
    v->overlay = -1.0;
    v->reduce  = LRPX_HEAT_REDUCE_SUM;
    v->pad     = LRPX_SHIFT_PAD_EDGE;
    v->set_r0  = v->set_rows = -1;
}

/* The per-sample reports and per-node sums of the last explanation. */
static void
viz_results_free(struct cli_viz *v)
{
    free(v->smp);
    v->smp         = NULL;
    v->n_smp       = 0;
    v->n_explained = 0;
    for (int i = 0; v->nodes && i < v->n_nodes; i++) {
        free((char *)v->nodes[i].name);
        free((char *)v->nodes[i].op_type);
        free((char *)v->nodes[i].rule);
    }
    free(v->nodes);
    v->nodes   = NULL;
    v->n_nodes = 0;
}

static void
viz_kept_free(struct cli_viz *v)
{
    for (int i = 0; v->kept && i < v->n_keep; i++)
        free((void *)v->kept[i].data);
    free(v->kept);
    v->kept = NULL;
}

void
cli_viz_free(struct cli_viz *v)
{
    cli_batches_free(v->batches, v->n_batches);
    free(v->map);
    viz_results_free(v);
    viz_kept_free(v);
    v->batches   = NULL;
    v->n_batches = 0;
    v->map       = NULL;
}

void
cli_viz_note_composite(struct cli_viz *v, const char *name)
{
    if (v->n_composites < CLI_VIZ_MAX)
        v->composites[v->n_composites++] = name;
}

void
cli_viz_note_target(struct cli_viz *v, int64_t target)
{
    if (v->n_targets < CLI_VIZ_MAX)
        v->targets[v->n_targets++] = target;
}

/* "A" or "AxB" (when two) as positive sizes up to 2^20; *b = *a for "A". */
static bool
parse_pair(const char *val, bool two, int *a, int *b)
{
    char *end;
    errno  = 0;
    long x = strtol(val, &end, 10), y = x;
    if (end != val && (*end == 'x' || *end == 'X'))
        y = strtol(end + 1, &end, 10);
    else if (two)
        return false;
    if (errno || end == val || *end || x < 1 || y < 1 || x > (1 << 20) || y > (1 << 20))
        return false;
    *a = (int)x;
    *b = (int)y;
    return true;
}

static int
viz_window(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_viz *v = ctx;
    (void)msg, (void)size;
    v->window = true;
    return parse_pair(val, true, &v->win_w, &v->win_h) ? CLI_OK : CLI_USAGE;
}

static int
viz_stride(void *ctx, const char *val, char *msg, size_t size)
{
    struct cli_viz *v = ctx;
    (void)msg, (void)size;
    return parse_pair(val, false, &v->stride_x, &v->stride_y) ? CLI_OK : CLI_USAGE;
}

static const struct cli_choice reduce_names[] = {
    {"sum", LRPX_HEAT_REDUCE_SUM}, {"norm", LRPX_HEAT_REDUCE_L2}, {"l2", LRPX_HEAT_REDUCE_L2},
    {NULL, 0}};
static const struct cli_choice pad_names[] = {
    {"edge", LRPX_SHIFT_PAD_EDGE}, {"zero", LRPX_SHIFT_PAD_ZERO}, {NULL, 0}};

#define VIZ(field) offsetof(struct cli_viz, field)
static const struct cli_flag picture_flags[] = {
    {"--heatmap", NULL, "OUT.png",
     "render the map (one file per image of a batch:\n"
     "OUT_0.png, OUT_1.png, ...); .jpg/.jpeg write JPEG",
     CLI_STRING, .off = VIZ(heatmap), .need = "an output file (.png, .jpg)"},
    {"--cmap", NULL, "NAME|FILE",
     "bwr (default), seismic, coldnhot, gray-red,\n"
     "black-firered, hot, gray, afmhot, or a table file",
     CLI_STRING, .off = VIZ(cmap), .need = "a colour map name or file"},
    {"--clip", NULL, "P", "scale by the P-th percentile of |R| (default 100)", CLI_DOUBLE,
     VIZ(clip), .lo = DBL_TRUE_MIN, .hi = 100.0, .need = "a percentile in (0, 100]"},
    {"--reduce", NULL, "sum|norm", "over channels (default sum)", CLI_CHOICE, .off = VIZ(reduce),
     .choices = reduce_names, .need = "sum or norm"},
    {"--gamma", NULL, "G", "sign(x)|x|^G after scaling (default 1)", CLI_DOUBLE, .off = VIZ(gamma),
     .lo = DBL_TRUE_MIN, .hi = 100.0, .need = "a number in (0, 100]"},
    {"--overlay", NULL, "ALPHA", "blend onto the image (0..1)", CLI_DOUBLE, .off = VIZ(overlay),
     .lo = 0.0, .hi = 1.0, .need = "an alpha in [0, 1]"},
    {"--panel", NULL, NULL, "image | heatmap side by side", CLI_TRUE, .off = VIZ(panel)},
    {"--original-geometry", NULL, NULL, "draw on the original photo (undo crop/resize)",
     CLI_TRUE, .off = VIZ(original_geometry)},
    {"--jpeg-quality", NULL, "Q", "1..100 (default 90)", CLI_INT, .off = VIZ(jpeg_quality), .lo = 1,
     .hi = 100},
    {"--zoom", NULL, "N", "enlarge the picture N times (nearest neighbour)", CLI_INT,
     VIZ(zoom), .lo = 1, .hi = 16},
    {"--grid", NULL, "OUT.png",
     "a labelled grid: one row per image (and target), one\n"
     "column per --composite (repeat --composite/--target)",
     CLI_STRING, .off = VIZ(grid), .need = "an output file (.png, .jpg)"},
    {NULL}};

static const struct cli_flag trick_flags[] = {
    {"--translate", NULL, "K", "average the maps over shifts in [-K, K]^2", CLI_INT,
     VIZ(translate), .lo = 0, .hi = LRPX_TRICK_MAX_TRANSLATE},
    {"--translate-pad", NULL, "edge|zero", "how shifted-in pixels are filled (edge)",
     CLI_CHOICE, .off = VIZ(pad), .choices = pad_names},
    {"--window", NULL, "WxH",
     "explain an image larger than the model window by\n"
     "window (WxH: the model's input size)",
     CLI_CALL, .call = viz_window, .need = "WxH (the model's input size)"},
    {"--stride", NULL, "S|SXxSY", "window step (default half a window)", CLI_CALL,
     .call = viz_stride, .need = "S or SXxSY (pixels >= 1)"},
    {NULL}};
#undef VIZ

int
cli_viz_groups(struct cli_viz *v, struct cli_flag_group groups[CLI_VIZ_GROUPS])
{
    groups[0] = (struct cli_flag_group){.flags = picture_flags, .ctx = v, .title = "pictures:"};
    groups[1] = (struct cli_flag_group){.flags = trick_flags, .ctx = v, .title = "tricks:"};
    groups[2] = cli_prep_group(&v->prep);
    return CLI_VIZ_GROUPS;
}

int
cli_viz_check(const char *cmd, struct cli_viz *v)
{
    bool draws = v->heatmap || v->grid;
    if (!draws && (v->overlay >= 0.0 || v->panel || v->original_geometry || v->cmap ||
                   v->jpeg_quality || v->zoom || v->clip != 100.0 || v->gamma != 1.0))
        return cli_usage_error(cmd, "--cmap/--clip/--gamma/--overlay/--panel/--zoom/"
                               "--original-geometry/--jpeg-quality need --heatmap or --grid");
    if (v->batch && cli_viz_trick(v))
        return cli_usage_error(cmd, "--batch does not go with --translate/--window (they "
                               "explain one image per pass)");
    if ((v->stride_x || v->stride_y) && !v->window)
        return cli_usage_error(cmd, "--stride goes with --window");
    if (v->window && v->original_geometry)
        return cli_usage_error(cmd, "--original-geometry does not go with --window (the map "
                               "already covers the whole image)");
    if (v->window && !v->stride_x) {
        v->stride_x = v->win_w / 2 > 0 ? v->win_w / 2 : 1;
        v->stride_y = v->win_h / 2 > 0 ? v->win_h / 2 : 1;
    }
    if (v->cmap && !lrpx_colormap_builtin(v->cmap)) {
        struct stat sb;
        if (stat(v->cmap, &sb) != 0)
            return cli_usage_error(cmd, "--cmap: '%s' is neither a built-in colour map "
                                   "(bwr, seismic, coldnhot, gray-red, black-firered, hot, "
                                   "gray, afmhot) nor a file", v->cmap);
    }
    return CLI_OK;
}

int
cli_viz_guard(const char *cmd, const struct cli_viz *v)
{
    if (v->cmap && !lrpx_colormap_builtin(v->cmap))
        cli_guard_input(v->cmap, "the colour map file");
    if (v->prep.preset)
        cli_guard_input(v->prep.preset, "the preprocessing file");
    const char *out[] = {"--heatmap", v->heatmap, "--grid", v->grid};
    return cli_guard_outputs(cmd, out, 2);
}

bool
cli_viz_trick(const struct cli_viz *v)
{
    return v->translate > 0 || v->window;
}

int
cli_viz_inputs(const char *cmd, lrpx_session *s, const lrpx_model *m, const char *model_path,
               const struct cli_input *inputs, int n_inputs, struct cli_viz *v,
               struct lrpx_lrp_options *o)
{
    v->cmd = cmd;
    /* the plain explanation sets the samples of each pass (cli_viz_explain) */
    int rc = cli_set_inputs(cmd, s, m, model_path, inputs, n_inputs, &v->prep,
                            cli_viz_trick(v) && !v->window, !v->window, &v->batches,
                            &v->n_batches);
    if (rc != CLI_OK)
        return rc;
    v->n_rows   = cli_batches_rows(v->batches, v->n_batches);
    v->per_pass = v->batch > 0 ? v->batch : cli_default_chunk(m, model_path, true);
    if (cli_viz_trick(v) && v->n_batches > 1)
        return cli_error(cmd, "--translate/--window work on models with one fed input");
    if (cli_viz_trick(v) && (v->batches[0].view.dtype != LRPX_DTYPE_FLOAT32 ||
                             v->batches[0].view.rank != 4))
        return cli_error(cmd, "--translate/--window need a rank-4 float32 input (an image "
                         "batch); %s is not", v->batches[0].samples[0].path);
    if (o)
        cli_box_defaults(&v->batches[0], o, v->box_low, v->box_high, 3);
    return CLI_OK;
}

/* The trick map of method ao into out (the first input's size). */
static lrpx_status
viz_trick_map(lrpx_session *s, const struct lrpx_attr_options *ao, const struct cli_viz *v,
              float *out)
{
    const struct cli_batch   *b = &v->batches[0];
    struct lrpx_trick_options to;
    lrpx_trick_options_default(&to);
    to.method        = ao->method;
    to.attr          = ao;
    to.input_name    = b->name;
    to.nhwc          = b->layout == LRPX_LAYOUT_NHWC;
    to.translate     = v->translate;
    to.pad           = v->pad;
    to.window_width  = v->win_w;
    to.window_height = v->win_h;
    to.stride_x      = v->stride_x ? v->stride_x : 1;
    to.stride_y      = v->stride_y ? v->stride_y : 1;
    return v->window ? lrpx_session_explain_windows(s, &b->view, &ao->lrp, &to, out)
                     : lrpx_session_explain_translated(s, &b->view, &ao->lrp, &to, out);
}

/* lrpx_session_set_progress to a progress bar; its total comes with the
 * first pass. */
static void
viz_progress(void *user, int64_t done, int64_t total)
{
    struct cli_progress *p = user;
    if (p->total != total)
        cli_progress_start(p, p->cmd, p->label, total);
    cli_progress_step(p, done - p->done);
}

/* ---- passes over the samples ---- */

/* The batch of the explained input (name NULL: the first). */
static const struct cli_batch *
viz_explained_batch(const struct cli_viz *v, const char *name)
{
    for (int k = 0; name && k < v->n_batches; k++)
        if (v->batches[k].name && !strcmp(v->batches[k].name, name))
            return &v->batches[k];
    return &v->batches[0];
}

/* A tensor given per sample (rank of the input, m rows per sample on axis
 * 0, n samples) cut to samples [r0, r0 + rows); a tensor of one sample or
 * one to broadcast stays as it is. */
static void
slice_rows(lrpx_tensor_view *t, int rank, int64_t n, int64_t m, int64_t r0, int64_t rows)
{
    if (!t->data || t->rank != rank || rank < 1 || n <= 1 || t->dims[0] != n * m)
        return;
    int64_t per = t->n_elems / t->dims[0];
    t->data     = (const char *)t->data +
              (size_t)(r0 * m * per) * lrpx_dtype_size(t->dtype);
    t->dims[0]  = rows * m;
    t->n_elems  = per * t->dims[0];
}

/* ao for the pass over samples [r0, r0 + rows) of n: the seed tensor, the
 * per-sample targets, baseline, noise rows and feature mask cut to them. */
static void
viz_pass_options(const struct cli_viz *v, const struct lrpx_attr_options *ao, int64_t r0,
                 int64_t rows, int64_t n, struct lrpx_attr_options *co)
{
    *co = *ao;
    if (rows == n)
        return;
    const struct lrpx_lrp_options *lo = &ao->lrp;
    if (lo->seed == LRPX_SEED_TENSOR && lo->seed_data && lo->seed_n_elems % n == 0) {
        int64_t per          = lo->seed_n_elems / n;
        co->lrp.seed_data    = lo->seed_data + r0 * per;
        co->lrp.seed_n_elems = rows * per;
    }
    if (lo->seed == LRPX_SEED_TARGETS && lo->targets && lo->n_targets == n) {
        co->lrp.targets   = lo->targets + r0;
        co->lrp.n_targets = rows;
    }
    int rank = viz_explained_batch(v, ao->input_name)->view.rank;
    slice_rows(&co->baseline_data, rank, n, 1, r0, rows);
    slice_rows(&co->feature_mask, rank, n, 1, r0, rows);
    if (ao->samples > 0)
        slice_rows(&co->noise, rank, n, ao->samples, r0, rows);
}

/* The float32 rows of a pass (samples [r0, r0 + rows)) into *dst, which
 * joins n samples along axis 0 in *buf (allocated by the first pass). */
static int
join_rows(const char *cmd, const char *what, const lrpx_tensor_view *src, int64_t r0,
          int64_t rows, int64_t n, lrpx_tensor_view *dst, float **buf)
{
    if (src->dtype != LRPX_DTYPE_FLOAT32 || src->rank < 1 || src->dims[0] != rows)
        return cli_error(cmd, "%s does not have the samples on its first axis; explain all %lld "
                         "samples in one pass (--batch %lld)", what, (long long)n, (long long)n);
    const int64_t per = src->n_elems / rows;
    if (r0 == 0) {
        free(*buf);
        if (!(*buf = malloc((size_t)(per * n) * sizeof(float) + 1)))
            return cli_error(cmd, "out of memory for %s", what);
        *dst         = *src;
        dst->dims[0] = n;
        dst->n_elems = per * n;
        dst->data    = *buf;
    } else if (dst->data != *buf || dst->rank != src->rank || dst->n_elems != per * n ||
               memcmp(dst->dims + 1, src->dims + 1, (size_t)(src->rank - 1) * sizeof(int64_t))) {
        return cli_error(cmd, "%s changes shape from one pass to the next", what);
    }
    memcpy(*buf + r0 * per, src->data, (size_t)(rows * per) * sizeof(float));
    return CLI_OK;
}

/* The LRP report of the session's pass: the first pass's nodes (strings
 * copied: the session's live until its next pass), then each pass's
 * relevance added, so the sums are over every sample. */
static int
viz_take_nodes(const char *cmd, const lrpx_session *s, struct cli_viz *v, bool first)
{
    int n = lrpx_session_n_explained(s);
    if (first) {
        if (!(v->nodes = calloc((size_t)(n > 0 ? n : 1), sizeof *v->nodes)))
            return cli_error(cmd, "out of memory");
        for (int i = 0; i < n; i++, v->n_nodes++) {
            lrpx_node_relevance nr;
            lrpx_session_explained_node(s, i, &nr);
            lrpx_node_relevance *d = &v->nodes[i];
            *d         = nr;
            d->name    = strdup(nr.name ? nr.name : "");
            d->op_type = strdup(nr.op_type ? nr.op_type : "");
            d->rule    = strdup(nr.rule ? nr.rule : "");
            if (!d->name || !d->op_type || !d->rule) {
                v->n_nodes++;
                return cli_error(cmd, "out of memory");
            }
        }
        return CLI_OK;
    }
    if (n != v->n_nodes)
        return cli_error(cmd, "the relevance passes over the samples visited %d and %d nodes",
                         v->n_nodes, n);
    for (int i = 0; i < n; i++) {
        lrpx_node_relevance nr;
        lrpx_session_explained_node(s, i, &nr);
        if (strcmp(nr.name ? nr.name : "", v->nodes[i].name))
            return cli_error(cmd, "the relevance passes over the samples visited '%s' and '%s'",
                             v->nodes[i].name, nr.name ? nr.name : "");
        v->nodes[i].r_in += nr.r_in;
        v->nodes[i].r_out += nr.r_out;
    }
    return CLI_OK;
}

/* The relevance of the --layer values after the pass over samples
 * [r0, r0 + rows) of n (all: rows == n) into v->kept; a value the
 * relevance did not reach keeps data NULL (n_elems -1). */
static int
viz_take_kept(const char *cmd, const lrpx_session *s, struct cli_viz *v, int64_t r0,
              int64_t rows, int64_t n)
{
    for (int i = 0; i < v->n_keep; i++) {
        lrpx_tensor_view lv, *d = &v->kept[i];
        float           *buf = (float *)d->data;
        if (d->n_elems < 0)
            continue;
        if (lrpx_session_relevance(s, v->keep[i], &lv) != LRPX_OK ||
            lv.dtype != LRPX_DTYPE_FLOAT32) {
            free(buf);
            d->data    = NULL;
            d->n_elems = -1;
            continue;
        }
        int  rc;
        char what[300];
        snprintf(what, sizeof what, "the relevance at --layer %s", v->keep[i]);
        if (rows == n) {      /* one pass: a copy, whatever its shape */
            if (!(buf = malloc((size_t)lv.n_elems * sizeof(float) + 1)))
                return cli_error(cmd, "out of memory for %s", what);
            memcpy(buf, lv.data, (size_t)lv.n_elems * sizeof(float));
            *d      = lv;
            d->data = buf;
            continue;
        }
        rc      = join_rows(cmd, what, &lv, r0, rows, n, d, &buf);
        d->data = buf;
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

/* The per-sample results of the session's pass over samples
 * [r0, r0 + rows) into v->smp (rows < 0: one pass over all, as many
 * samples as the session reports). report: ask for the attribution
 * report (not after a trick). */
static int
viz_take_samples(const char *cmd, const lrpx_session *s, struct cli_viz *v, int64_t r0,
                 int64_t rows, bool report)
{
    lrpx_attr_report r;
    if (rows < 0) {
        rows = 0;
        while ((report && lrpx_session_attribution_report(s, rows, &r) == LRPX_OK) ||
               lrpx_session_explained_output(s, rows, NULL, NULL) == LRPX_OK)
            rows++;
    }
    if (r0 + rows > v->n_smp) {
        struct cli_viz_sample *p = realloc(v->smp, (size_t)(r0 + rows + 1) * sizeof *p);
        if (!p)
            return cli_error(cmd, "out of memory");
        memset(p + v->n_smp, 0, (size_t)(r0 + rows + 1 - v->n_smp) * sizeof *p);
        v->smp   = p;
        v->n_smp = r0 + rows;
    }
    for (int64_t j = 0; j < rows; j++) {
        struct cli_viz_sample *x = &v->smp[r0 + j];
        x->has_report = report && lrpx_session_attribution_report(s, j, &x->rep) == LRPX_OK;
        x->has_output = lrpx_session_explained_output(s, j, &x->cls, &x->value) == LRPX_OK;
    }
    v->n_explained = 0;
    while (v->n_explained < v->n_smp && v->smp[v->n_explained].has_output)
        v->n_explained++;
    return CLI_OK;
}

/* Method ao over every sample, v->per_pass per pass (all in one when the
 * inputs do not agree on their samples). main: the command's explanation
 * (the map in v->map_view, the LRP node sums and --layer maps kept);
 * else a --grid column: the map copied to dst (the first input's size).
 * Errors are printed, after the prefix what. */
static int
viz_passes(const char *cmd, const char *what, lrpx_session *s,
           const struct lrpx_attr_options *ao, struct cli_viz *v, float *dst, bool main)
{
    const int64_t n      = v->n_rows;
    const int64_t per    = v->per_pass > 0 && v->per_pass < n ? v->per_pass : n;
    const bool    single = per >= n;
    const bool    lrp    = ao->method == LRPX_ATTR_LRP;
    const int64_t total  = dst ? v->batches[0].view.n_elems : 0;
    int           rc     = CLI_OK;
    free(v->smp);
    v->smp         = NULL;
    v->n_smp       = 0;
    v->n_explained = 0;
    for (int64_t r0 = 0; r0 < (n > 0 ? n : 1) && rc == CLI_OK; r0 += per) {
        const int64_t rows = single ? n : (n - r0 < per ? n - r0 : per);
        if (v->set_r0 != r0 || v->set_rows != rows) {
            v->set_r0 = v->set_rows = -1;
            if ((rc = cli_batches_set_rows(cmd, s, v->batches, v->n_batches, r0, rows, n)) !=
                CLI_OK)
                return rc;
            v->set_r0   = r0;
            v->set_rows = rows;
        }
        struct lrpx_attr_options co;
        lrpx_tensor_view         mv;
        viz_pass_options(v, ao, r0, rows, n, &co);
        if (lrpx_session_attribute(s, &co) != LRPX_OK ||
            lrpx_session_attribution(s, &mv) != LRPX_OK) {
            if (single)
                return cli_error(cmd, "%s%s", what, lrpx_session_errmsg(s));
            return cli_error(cmd, "%ssamples %lld to %lld of %lld: %s", what, (long long)r0,
                             (long long)(r0 + rows - 1), (long long)n, lrpx_session_errmsg(s));
        }
        if (dst && single) {
            if (mv.dtype != LRPX_DTYPE_FLOAT32 || mv.n_elems != total)
                return cli_error(cmd, "%sthe map has %lld elements, the input %lld", what,
                                 (long long)mv.n_elems, (long long)total);
            memcpy(dst, mv.data, (size_t)total * sizeof(float));
        } else if (dst) {
            if (mv.dtype != LRPX_DTYPE_FLOAT32 || mv.rank < 1 || mv.dims[0] != rows ||
                mv.n_elems * n != total * rows)
                return cli_error(cmd, "%sthe map does not have the input's samples on its "
                                 "first axis", what);
            memcpy(dst + r0 * (total / n), mv.data, (size_t)mv.n_elems * sizeof(float));
        } else if (single) {
            free(v->map);
            v->map      = NULL;
            v->map_view = mv;
        } else if ((rc = join_rows(cmd, "the map", &mv, r0, rows, n, &v->map_view, &v->map)) !=
                   CLI_OK) {
            return rc;
        }
        rc = viz_take_samples(cmd, s, v, r0, single ? -1 : rows, true);
        if (rc == CLI_OK && main && lrp)
            rc = viz_take_nodes(cmd, s, v, r0 == 0);
        if (rc == CLI_OK && main)
            rc = viz_take_kept(cmd, s, v, r0, rows, n);
        if (single || (main && v->one_pass))
            break;
    }
    return rc;
}

/* The trick map of method ao (--translate / --window) into v->map. */
static int
viz_explain_trick(const char *cmd, lrpx_session *s, const struct lrpx_attr_options *ao,
                  struct cli_viz *v)
{
    const struct cli_batch *b = &v->batches[0];
    free(v->map);
    v->map = malloc((size_t)b->view.n_elems * sizeof(float));
    if (!v->map)
        return cli_error(cmd, "out of memory for the map");
    struct cli_progress pr;                  /* the passes of the trick */
    cli_progress_start(&pr, cmd, "passes", 0);
    lrpx_session_set_progress(s, viz_progress, &pr);
    lrpx_status st = viz_trick_map(s, ao, v, v->map);
    lrpx_session_set_progress(s, NULL, NULL);
    cli_progress_end(&pr);
    if (st != LRPX_OK)
        return cli_error(cmd, "%s", lrpx_session_errmsg(s));
    cli_verbose(pr.cmd, pr.t0, "%lld passes of the %s:", (long long)pr.done,
                v->window ? "sliding window" : "translation trick");
    v->map_view      = b->view;
    v->map_view.data = v->map;
    if (v->window) {
        const lrpx_tensor_view *x  = &b->view;
        bool                    nh = b->layout == LRPX_LAYOUT_NHWC;
        int h = (int)x->dims[nh ? 1 : 2], w = (int)x->dims[nh ? 2 : 3];
        cli_notice("sliding window: %d x %d windows of %dx%d (stride %dx%d) over %dx%d; "
                "the per-layer report is the last window's\n",
                lrpx_window_count(w, v->win_w, v->stride_x),
                lrpx_window_count(h, v->win_h, v->stride_y), v->win_w, v->win_h, v->stride_x,
                v->stride_y, w, h);
    }
    /* the session holds the plain pass (translation) or the last window */
    int rc = viz_take_samples(cmd, s, v, 0, -1, false);
    if (rc == CLI_OK && ao->method == LRPX_ATTR_LRP)
        rc = viz_take_nodes(cmd, s, v, true);
    if (rc == CLI_OK)
        rc = viz_take_kept(cmd, s, v, 0, 1, 1);
    return rc;
}

int
cli_viz_explain(const char *cmd, lrpx_session *s, const struct lrpx_attr_options *ao,
                struct cli_viz *v)
{
    viz_results_free(v);
    viz_kept_free(v);
    if (v->n_keep && !(v->kept = calloc((size_t)v->n_keep, sizeof *v->kept)))
        return cli_error(cmd, "out of memory");
    if (cli_viz_trick(v))
        return viz_explain_trick(cmd, s, ao, v);
    double t0 = cli_now();
    int    rc = viz_passes(cmd, "", s, ao, v, NULL, true);
    if (rc == CLI_OK && v->n_rows > 1 && !v->one_pass)
        cli_chunk_notice(cmd, v->n_rows, cli_now() - t0,
                         v->per_pass < v->n_rows ? v->per_pass : v->n_rows);
    return rc;
}

int64_t
cli_viz_n_samples(const struct cli_viz *v)
{
    return v->n_rows > 0 ? v->n_rows : v->n_batches > 0 ? v->batches[0].n : 0;
}

bool
cli_viz_report(const struct cli_viz *v, int64_t k, lrpx_attr_report *r)
{
    if (cli_viz_trick(v) || k < 0 || k >= v->n_smp || !v->smp[k].has_report)
        return false;
    *r = v->smp[k].rep;
    return true;
}

bool
cli_viz_output(const struct cli_viz *v, int64_t k, int64_t *cls, double *value)
{
    if (k < 0 || k >= v->n_smp || !v->smp[k].has_output)
        return false;
    if (cls)
        *cls = v->smp[k].cls;
    if (value)
        *value = v->smp[k].value;
    return true;
}

int64_t
cli_viz_class(const lrpx_session *s, const struct cli_viz *v, int64_t k, double *score)
{
    lrpx_attr_report r;
    int64_t          cls = -1;
    double           sc  = NAN;
    (void)s;
    if (cli_viz_report(v, k, &r)) {
        cls = r.cls;
        sc  = r.score;
    } else if (!cli_viz_output(v, k, &cls, &sc)) {
        cls = -1;
        sc  = NAN;
    }
    if (score)
        *score = sc;
    return cls;
}

void
cli_viz_note_method(struct cli_viz *v, lrpx_attr_method method)
{
    if (v->n_methods < CLI_VIZ_MAX)
        v->methods[v->n_methods++] = method;
}

/* ---- drawing ---- */

/* Pixels of a .npy sample (rank 4, 1 or 3 channels) stretched to 0..255. */
static lrpx_status
tensor_pixmap(const struct cli_batch *b, int64_t k, lrpx_pixmap **out)
{
    const lrpx_tensor_view *x = &b->view;
    *out                      = NULL;
    if (x->dtype != LRPX_DTYPE_FLOAT32 || x->rank != 4)
        return LRPX_EINVAL;
    bool    nhwc = b->layout == LRPX_LAYOUT_NHWC ||
                (b->layout == LRPX_LAYOUT_UNSET && x->dims[1] != 1 && x->dims[1] != 3 &&
                 (x->dims[3] == 1 || x->dims[3] == 3));
    int64_t c = nhwc ? x->dims[3] : x->dims[1], h = nhwc ? x->dims[1] : x->dims[2];
    int64_t w = nhwc ? x->dims[2] : x->dims[3];
    if ((c != 1 && c != 3) || h > INT32_MAX || w > INT32_MAX)
        return LRPX_EINVAL;
    const float *d = (const float *)x->data + k * c * h * w;
    double       lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < c * h * w; i++)
        if (isfinite(d[i])) {
            lo = fmin(lo, d[i]);
            hi = fmax(hi, d[i]);
        }
    if (!(hi > lo))
        hi = lo + 1.0;
    lrpx_status rc = lrpx_pixmap_init((int)w, (int)h, (int)c, out);
    if (rc != LRPX_OK)
        return rc;
    for (int64_t y = 0; y < h; y++)
        for (int64_t xx = 0; xx < w; xx++)
            for (int64_t ch = 0; ch < c; ch++) {
                double v = nhwc ? d[(y * w + xx) * c + ch] : d[(ch * h + y) * w + xx];
                v        = isfinite(v) ? (v - lo) / (hi - lo) * 255.0 : 0.0;
                (*out)->data[(y * w + xx) * c + ch] = (uint8_t)lrint(fmin(fmax(v, 0.0), 255.0));
            }
    return LRPX_OK;
}

int
cli_viz_picture(const char *cmd, const struct cli_viz *v, const struct cli_batch *b, int64_t k,
            lrpx_pixmap **out)
{
    char err[512];
    if (b->is_image) {
        const struct cli_sample *sm = &b->samples[k];
        if (lrpx_pixmap_from_image(v->original_geometry ? sm->photo : sm->seen, out, err,
                                   sizeof err) != LRPX_OK)
            return cli_error(cmd, "%s", err);
        return CLI_OK;
    }
    if (tensor_pixmap(b, k, out) != LRPX_OK)
        return cli_error(cmd, "%s: --overlay/--panel/--grid need an image input (or a rank-4 "
                         "array with 1 or 3 channels)", b->samples[0].path);
    return CLI_OK;
}

int
cli_viz_colormap(const char *cmd, const struct cli_viz *v, const lrpx_colormap **cm,
         lrpx_colormap **owned)
{
    char err[512];
    *owned = NULL;
    *cm    = lrpx_colormap_builtin(v->cmap ? v->cmap : "bwr");
    if (*cm)
        return CLI_OK;
    if (lrpx_colormap_load(v->cmap, owned, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "--cmap %s", err);
    *cm = *owned;
    return CLI_OK;
}

int
cli_viz_render(const char *cmd, const struct cli_viz *v, const lrpx_colormap *cm,
              const struct cli_batch *b, const lrpx_tensor_view *map, int64_t k,
              lrpx_pixmap **out)
{
    char             err[512];
    int              rc  = CLI_OK;
    lrpx_image      *red = NULL, *full = NULL;
    lrpx_pixmap     *heat = NULL, *base = NULL, *mix = NULL;
    lrpx_tensor_view sv   = *map;
    *out                  = NULL;
    if (map->dtype != LRPX_DTYPE_FLOAT32)
        return cli_error(cmd, "the map is %s, not float32", lrpx_dtype_name(map->dtype));
    if (sv.rank >= 2 && sv.dims[0] == b->n && b->n > 0) {
        int64_t per = sv.n_elems / b->n;
        sv.dims[0]  = 1;
        sv.n_elems  = per;
        sv.data     = (const float *)map->data + k * per;
    }
    lrpx_layout lay = b->layout == LRPX_LAYOUT_UNSET ? LRPX_LAYOUT_NCHW : b->layout;
    if (!b->is_image && b->layout == LRPX_LAYOUT_UNSET && sv.rank == 4 && sv.dims[1] != 1 &&
        sv.dims[1] != 3 && (sv.dims[3] == 1 || sv.dims[3] == 3))
        lay = LRPX_LAYOUT_NHWC;
    if (lrpx_heatmap_reduce(&sv, lay, v->reduce, &red, err, sizeof err) != LRPX_OK) {
        rc = cli_error(cmd, "heatmap: %s", err);
        goto done;
    }
    const lrpx_image *draw = red;
    if (v->original_geometry && b->is_image) {
        if (lrpx_image_unproject(red, &b->samples[k].geom, &full, err, sizeof err) != LRPX_OK) {
            rc = cli_error(cmd, "--original-geometry: %s", err);
            goto done;
        }
        draw = full;
    }
    struct lrpx_heatmap_options ho;
    lrpx_heatmap_options_default(&ho);
    ho.cmap       = cm;
    ho.percentile = v->clip;
    ho.gamma      = v->gamma;
    if (lrpx_heatmap_render(draw, &ho, &heat, err, sizeof err) != LRPX_OK) {
        rc = cli_error(cmd, "heatmap: %s", err);
        goto done;
    }
    if (v->overlay >= 0.0 || v->panel) {
        if ((rc = cli_viz_picture(cmd, v, b, k, &base)) != CLI_OK)
            goto done;
        if (base->width != heat->width || base->height != heat->height) {
            rc = cli_error(cmd, "the image is %dx%d but the map %dx%d", base->width,
                           base->height, heat->width, heat->height);
            goto done;
        }
    }
    if (v->overlay >= 0.0) {
        if (lrpx_pixmap_overlay(base, heat, v->overlay, &mix, err, sizeof err) != LRPX_OK) {
            rc = cli_error(cmd, "--overlay: %s", err);
            goto done;
        }
        lrpx_pixmap_free(heat);
        heat = mix;
        mix  = NULL;
    }
    if (v->panel) {
        if (lrpx_pixmap_panel(base, heat, &mix, err, sizeof err) != LRPX_OK) {
            rc = cli_error(cmd, "--panel: %s", err);
            goto done;
        }
        lrpx_pixmap_free(heat);
        heat = mix;
        mix  = NULL;
    }
    *out = heat;
    heat = NULL;
done:
    lrpx_image_free(red);
    lrpx_image_free(full);
    lrpx_pixmap_free(heat);
    lrpx_pixmap_free(base);
    lrpx_pixmap_free(mix);
    return rc;
}

/* OUT.png -> OUT_3.png for sample 3 of a batch. */
static void
numbered_path(const char *path, int64_t k, int64_t n, char *buf, size_t size)
{
    if (n <= 1) {
        snprintf(buf, size, "%s", path);
        return;
    }
    const char *dot   = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        dot = path + strlen(path);
    snprintf(buf, size, "%.*s_%lld%s", (int)(dot - path), path, (long long)k, dot);
}

static bool
path_is_jpeg(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int
save(const char *cmd, const struct cli_viz *v, const lrpx_pixmap *pm, const char *path)
{
    char err[1024];
    if (cli_guard_output(cmd, "picture", path) != CLI_OK)
        return CLI_USAGE;
    if (lrpx_pixmap_save(pm, path, path_is_jpeg(path) ? v->jpeg_quality : 0, err, sizeof err) !=
        LRPX_OK)
        return cli_error(cmd, "%s", err);
    return CLI_OK;
}

static lrpx_pixmap *upscale(lrpx_pixmap *pm, int f);

int
cli_viz_heatmap(const char *cmd, struct cli_viz *v, const lrpx_tensor_view *map)
{
    if (!v->heatmap)
        return CLI_OK;
    const struct cli_batch *b = &v->batches[0];
    const lrpx_colormap    *cm;
    lrpx_colormap          *owned;
    int                     rc = cli_viz_colormap(cmd, v, &cm, &owned);
    if (rc != CLI_OK)
        return rc;
    /* render every picture first, then write: a failure leaves no file */
    lrpx_pixmap **pics = calloc((size_t)b->n, sizeof *pics);
    if (!pics)
        rc = cli_error(cmd, "out of memory");
    for (int64_t k = 0; rc == CLI_OK && k < b->n; k++)
        if ((rc = cli_viz_render(cmd, v, cm, b, map, k, &pics[k])) == CLI_OK && v->zoom > 1 &&
            !(pics[k] = upscale(pics[k], v->zoom)))
            rc = cli_error(cmd, "out of memory");
    for (int64_t k = 0; rc == CLI_OK && k < b->n; k++) {
        char path[4096];
        numbered_path(v->heatmap, k, b->n, path, sizeof path);
        rc = save(cmd, v, pics[k], path);
    }
    for (int64_t k = 0; pics && k < b->n; k++)
        lrpx_pixmap_free(pics[k]);
    free(pics);
    lrpx_colormap_free(owned);
    return rc;
}

/* Nearest-neighbour enlargement by an integer factor (small inputs such as
 * 28x28 become readable grid cells). */
static lrpx_pixmap *
upscale(lrpx_pixmap *pm, int f)
{
    if (f <= 1)
        return pm;
    lrpx_pixmap *out;
    if (lrpx_pixmap_init(pm->width * f, pm->height * f, pm->channels, &out) != LRPX_OK) {
        lrpx_pixmap_free(pm);
        return NULL;
    }
    int c = pm->channels;
    for (int y = 0; y < out->height; y++)
        for (int x = 0; x < out->width; x++)
            memcpy(out->data + ((size_t)y * out->width + x) * c,
                   pm->data + ((size_t)(y / f) * pm->width + x / f) * c, (size_t)c);
    lrpx_pixmap_free(pm);
    return out;
}

static const char *
base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The columns of --grid: one per method, and for LRP one per --composite
 * when several were given. */
static int
grid_columns(const struct cli_viz *v, lrpx_attr_method *method, int *composite)
{
    int n = 0;
    for (int k = 0; k < (v->n_methods ? v->n_methods : 1); k++) {
        lrpx_attr_method mk = v->n_methods ? v->methods[k] : LRPX_ATTR_LRP;
        int              nc = mk == LRPX_ATTR_LRP && v->n_composites ? v->n_composites : 1;
        for (int c = 0; c < nc && n < CLI_VIZ_MAX; c++, n++) {
            method[n]    = mk;
            composite[n] = mk == LRPX_ATTR_LRP && v->n_composites ? c : -1;
        }
    }
    return n;
}

void
cli_viz_cells_free(lrpx_pixmap **cells, char **labels, int n)
{
    for (int i = 0; cells && i < n; i++)
        lrpx_pixmap_free(cells[i]);
    for (int i = 0; labels && i < n; i++)
        free(labels[i]);
    free(cells);
    free(labels);
}

int
cli_viz_write_grid(const char *cmd, const struct cli_viz *v, lrpx_pixmap **cells,
                   char **labels, int n_cells, int n_cols, const char *path)
{
    char err[1024];
    int  rc = CLI_OK, w = 0;
    /* enlarge small cells (each to about 160 pixels wide, or --zoom);
     * labels at scale 2 if they fit */
    for (int i = 0; i < n_cells && rc == CLI_OK; i++) {
        int cw = cells[i]->width, f = v->zoom ? v->zoom : cw < 160 ? (160 + cw - 1) / cw : 1;
        if (!(cells[i] = upscale(cells[i], f)))
            rc = cli_error(cmd, "out of memory");
        else if (cells[i]->width > w)
            w = cells[i]->width;
    }
    if (rc != CLI_OK)
        return rc;
    size_t longest = 0;
    for (int i = 0; i < n_cells; i++)
        if (labels[i] && strlen(labels[i]) > longest)
            longest = strlen(labels[i]);
    struct lrpx_grid_options go;
    lrpx_grid_options_default(&go);
    go.n_cols      = n_cols;
    go.label_scale = (size_t)w >= longest * 12 ? 2 : 1;
    lrpx_pixmap *grid;
    if (lrpx_pixmap_grid((const lrpx_pixmap *const *)cells, (const char *const *)labels,
                         n_cells, &go, &grid, err, sizeof err) != LRPX_OK)
        return cli_error(cmd, "%s: %s", path, err);
    rc = save(cmd, v, grid, path);
    lrpx_pixmap_free(grid);
    return rc;
}

int
cli_viz_grid(const char *cmd, lrpx_session *s, const lrpx_model *m, const char *model_path,
             const struct lrpx_attr_options *ao, struct cli_viz *v)
{
    (void)m;
    if (!v->grid)
        return CLI_OK;
    lrpx_attr_method        col_method[CLI_VIZ_MAX];
    int                     col_comp[CLI_VIZ_MAX];
    const struct cli_batch *b      = &v->batches[0];
    int                     n_meth = grid_columns(v, col_method, col_comp);
    int                     n_tgt  = v->n_targets ? v->n_targets : 1;
    int                     n_rows = (int)b->n * n_tgt, n_cols = 1 + n_meth;
    int                     n_cells = n_rows * n_cols;
    lrpx_pixmap           **cells  = calloc((size_t)n_cells, sizeof *cells);
    char                  **labels = calloc((size_t)n_cells, sizeof *labels);
    float                  *maps   = malloc((size_t)b->view.n_elems * sizeof(float));
    struct lrpx_attr_options *co   = malloc(sizeof *co);
    int                     n_cls  = 0;
    char                  **classes = cli_load_classes(model_path, &n_cls);
    const lrpx_colormap    *cm     = NULL;
    lrpx_colormap          *owned  = NULL;
    int                     rc     = CLI_OK;
    char                    err[1024];
    if (!cells || !labels || !maps || !co) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    if ((rc = cli_viz_colormap(cmd, v, &cm, &owned)) != CLI_OK)
        goto done;
    struct cli_viz cv = *v;      /* cells are heatmaps (with overlay), no panel */
    cv.panel          = false;
    struct cli_progress pr;
    cli_progress_start(&pr, cmd, "grid maps", (int64_t)n_tgt * n_meth);
    for (int t = 0; t < n_tgt && rc == CLI_OK; t++)
        for (int c = 0; c < n_meth && rc == CLI_OK; c++, cli_progress_step(&pr, 1)) {
            *co        = *ao;
            co->method = col_method[c];
            if (col_comp[c] >= 0 &&
                lrpx_lrp_options_set_composite(&co->lrp, v->composites[col_comp[c]], err,
                                               sizeof err) != LRPX_OK) {
                rc = cli_usage_error(cmd, "--composite: %s", err);
                break;
            }
            if (v->n_targets) {
                co->lrp.seed   = LRPX_SEED_TARGET;
                co->lrp.target = v->targets[t];
            }
            lrpx_tensor_view mv = b->view;
            mv.dtype            = LRPX_DTYPE_FLOAT32;
            mv.data             = maps;
            const char *what = co->method == LRPX_ATTR_LRP ? co->lrp.composite
                                                           : lrpx_attr_method_name(co->method);
            char        pre[128];
            snprintf(pre, sizeof pre, "--grid (%s%s): ", what, v->n_targets ? ", target" : "");
            if (cli_viz_trick(v)) {
                if (viz_trick_map(s, co, v, maps) != LRPX_OK)
                    rc = cli_error(cmd, "%s%s", pre, lrpx_session_errmsg(s));
                else           /* the labels' classes: of this pass */
                    rc = viz_take_samples(cmd, s, v, 0, -1, false);
            } else {           /* the samples per pass of the explanation */
                rc = viz_passes(cmd, pre, s, co, v, maps, false);
            }
            if (rc != CLI_OK)
                break;
            for (int64_t k = 0; k < b->n && rc == CLI_OK; k++) {
                int row = (int)k * n_tgt + t;
                int idx = row * n_cols + 1 + c;
                rc      = cli_viz_render(cmd, &cv, cm, b, &mv, k, &cells[idx]);
                char lab[160];
                int64_t cls = v->n_targets ? v->targets[t] : cli_viz_class(s, v, k, NULL);
                const char *cn = classes && cls >= 0 && cls < n_cls ? classes[cls] : NULL;
                char        cl[64];
                if (cn)
                    snprintf(cl, sizeof cl, "%s", cn);
                else
                    snprintf(cl, sizeof cl, "class %lld", (long long)cls);
                if (n_tgt > 1 || n_meth == 1)
                    snprintf(lab, sizeof lab, "%s %s", what, cl);
                else
                    snprintf(lab, sizeof lab, "%s", what);
                size_t l = strlen(lab);
                if (v->translate > 0)
                    snprintf(lab + l, sizeof lab - l, " K=%d", v->translate);
                else if (v->window)
                    snprintf(lab + l, sizeof lab - l, " window");
                labels[idx] = strdup(lab);
            }
        }
    cli_progress_end(&pr);
    cli_verbose(cmd, pr.t0, "%d grid maps:", n_tgt * n_meth);
    /* the image column */
    for (int64_t k = 0; k < b->n && rc == CLI_OK; k++)
        for (int t = 0; t < n_tgt && rc == CLI_OK; t++) {
            int idx = ((int)k * n_tgt + t) * n_cols;
            rc      = cli_viz_picture(cmd, &cv, b, k, &cells[idx]);
            labels[idx] = strdup(base_name(b->samples[k].path));
        }
    if (rc == CLI_OK)
        rc = cli_viz_write_grid(cmd, v, cells, labels, n_cells, n_cols, v->grid);
done:
    cli_viz_cells_free(cells, labels, n_cells);
    free(maps);
    free(co);
    cli_free_classes(classes, n_cls);
    lrpx_colormap_free(owned);
    return rc;
}
