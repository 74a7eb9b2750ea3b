/* From an lrpx_image to a model input tensor, and back.
 *
 * The steps and their order follow the usual torchvision pipeline
 * (Image.open(...).convert("RGB") -> Resize -> CenterCrop -> ToTensor ->
 * Normalize):
 *   1. alpha: dropped (PIL convert("RGB")) or composited over white;
 *   2. colour: gray -> RGB by copying, RGB -> gray by ITU-R 601-2 luma
 *      L = R*299/1000 + G*587/1000 + B*114/1000 (PIL convert("L"), which
 *      computes it in 16-bit fixed point: (19595 R + 38470 G + 7471 B +
 *      2^15) >> 16);
 *   3. resize (resize.c): the shorter side to N with the longer side
 *      int(N * long / short), as torchvision's Resize(N), or to W x H;
 *   4. centre crop: offset round((size - crop) / 2) with Python's
 *      round-half-even, and zero padding when the crop is larger, as
 *      torchvision's CenterCrop;
 *   5. (v * scale - mean[c]) / std[c] in double, stored as float32, in
 *      RGB or BGR order, NCHW or NHWC.
 * With quantize (the default) and an 8-bit source, steps 1-4 round to whole
 * numbers exactly where PIL works in uint8, so the result equals
 * torchvision's on the same file.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "image/image_impl.h"

/* ---- the settings struct ---- */

void
lrpx_preprocess_init(struct lrpx_preprocess *pp)
{
    memset(pp, 0, sizeof *pp);
    pp->resize    = LRPX_RESIZE_UNSET;
    pp->interp    = LRPX_INTERP_UNSET;
    pp->antialias = -1;
    pp->quantize  = -1;
    pp->color     = LRPX_COLOR_UNSET;
    pp->layout    = LRPX_LAYOUT_UNSET;
    pp->alpha     = LRPX_ALPHA_DROP;
}

static const char *const preset_names[] = {"imagenet", "zero-one", "minus-one-one", "none"};
#define N_PRESETS ((int)(sizeof preset_names / sizeof preset_names[0]))

const char *
lrpx_preprocess_preset_name(int i)
{
    return i >= 0 && i < N_PRESETS ? preset_names[i] : NULL;
}

static void
pp_set_stats(struct lrpx_preprocess *pp, int n, double m0, double m1, double m2,
             double s0, double s1, double s2)
{
    pp->n_mean  = n;
    pp->mean[0] = m0;
    pp->mean[1] = m1;
    pp->mean[2] = m2;
    pp->std[0]  = s0;
    pp->std[1]  = s1;
    pp->std[2]  = s2;
}

static lrpx_status
pp_preset(struct lrpx_preprocess *pp, const char *name, struct lrpx_err *err)
{
    if (!name)
        return lrpx__error(err, LRPX_EINVAL, "NULL preset name");
    if (strcmp(name, "imagenet") == 0) {
        pp->resize         = LRPX_RESIZE_SHORTER;
        pp->resize_shorter = 256;
        pp->crop_width     = 224;
        pp->crop_height    = 224;
        pp->interp         = LRPX_INTERP_BILINEAR;
        pp->scale          = 1.0 / 255.0;
        pp_set_stats(pp, 3, 0.485, 0.456, 0.406, 0.229, 0.224, 0.225);
        pp->color  = LRPX_COLOR_RGB;
        pp->layout = LRPX_LAYOUT_NCHW;
    } else if (strcmp(name, "zero-one") == 0) {
        pp->scale = 1.0 / 255.0;
        pp_set_stats(pp, 1, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0);
    } else if (strcmp(name, "minus-one-one") == 0) {
        pp->scale = 1.0 / 255.0;
        pp_set_stats(pp, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
    } else if (strcmp(name, "none") == 0) {
        pp->scale = 1.0;
        pp_set_stats(pp, 1, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0);
    } else {
        return lrpx__error(err, LRPX_EINVAL,
                           "unknown preprocessing preset '%s' (imagenet, zero-one, "
                           "minus-one-one, none)", name);
    }
    snprintf(pp->name, sizeof pp->name, "%s", name);
    return LRPX_OK;
}

lrpx_status
lrpx_preprocess_preset(struct lrpx_preprocess *pp, const char *name, char *errbuf,
                       size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc = pp ? pp_preset(pp, name, &err)
                        : lrpx__error(&err, LRPX_EINVAL, "NULL preprocess settings");
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

/* ---- filling from a model input shape ---- */

static lrpx_status
pp_from_shape(struct lrpx_preprocess *pp, int rank, const int64_t *dims, struct lrpx_err *err)
{
    char shape[96];
    if (rank < 0 || rank > LRPX_MAX_RANK || (rank > 0 && !dims))
        return lrpx__error(err, LRPX_EINVAL, "bad shape (rank %d)", rank);
    lrpx__dims_str(dims, rank, shape, sizeof shape);
    if (rank != 4)
        return lrpx__error(err, LRPX_ESHAPE,
                           "an image input has rank 4 (NCHW or NHWC); the model's input "
                           "is %s", shape);
    if (dims[0] > 1)
        return lrpx__error(err, LRPX_ESHAPE,
                           "the model's input %s has a fixed batch of %lld; an image gives 1",
                           shape, (long long)dims[0]);
    if ((unsigned)pp->layout >= LRPX_LAYOUT_COUNT)
        return lrpx__error(err, LRPX_EINVAL, "bad layout %d", (int)pp->layout);
    if (pp->layout == LRPX_LAYOUT_UNSET) {
        if (dims[1] == 1 || dims[1] == 3 || (dims[1] <= 0 && dims[3] <= 0))
            pp->layout = LRPX_LAYOUT_NCHW;
        else if (dims[3] == 1 || dims[3] == 3)
            pp->layout = LRPX_LAYOUT_NHWC;
        else
            return lrpx__error(err, LRPX_ESHAPE,
                               "input %s has no channel axis of size 1 or 3", shape);
    }
    bool    nchw = pp->layout == LRPX_LAYOUT_NCHW;
    int64_t c    = nchw ? dims[1] : dims[3];
    int64_t h    = nchw ? dims[2] : dims[1];
    int64_t w    = nchw ? dims[3] : dims[2];
    const char *lname = nchw ? "NCHW" : "NHWC";
    if (c > 0) {
        if (c != 1 && c != 3)
            return lrpx__error(err, LRPX_ESHAPE, "input %s (%s) has %lld channels; images "
                               "give 1 or 3", shape, lname, (long long)c);
        if (pp->color == LRPX_COLOR_UNSET)
            pp->color = c == 1 ? LRPX_COLOR_GRAY : LRPX_COLOR_RGB;
        else if ((pp->color == LRPX_COLOR_GRAY) != (c == 1))
            return lrpx__error(err, LRPX_ESHAPE, "input %s (%s) has %lld channels but the "
                               "settings ask for %s", shape, lname, (long long)c,
                               pp->color == LRPX_COLOR_GRAY ? "gray" : "colour");
    }
    if (h <= 0 || w <= 0)
        return LRPX_OK;                    /* symbolic size: nothing to fill */
    if (h > INT32_MAX || w > INT32_MAX)
        return lrpx__error(err, LRPX_ESHAPE, "input %s is too large for an image", shape);
    if (pp->crop_width == 0 && pp->crop_height == 0) {
        if (pp->resize == LRPX_RESIZE_UNSET) {
            pp->resize        = LRPX_RESIZE_EXACT;
            pp->resize_width  = (int)w;
            pp->resize_height = (int)h;
            pp->crop_width = pp->crop_height = -1;
        } else if (pp->resize == LRPX_RESIZE_EXACT && pp->resize_width == w &&
                   pp->resize_height == h) {
            pp->crop_width = pp->crop_height = -1;
        } else {
            pp->crop_width  = (int)w;
            pp->crop_height = (int)h;
        }
    } else if (pp->crop_width > 0 || pp->crop_height > 0) {
        if (pp->crop_width != w || pp->crop_height != h)
            return lrpx__error(err, LRPX_ESHAPE, "the settings crop to %dx%d but the model "
                               "takes %lldx%lld (input %s, %s)", pp->crop_width,
                               pp->crop_height, (long long)w, (long long)h, shape, lname);
    } else if (pp->resize == LRPX_RESIZE_EXACT &&
               (pp->resize_width != w || pp->resize_height != h)) {
        return lrpx__error(err, LRPX_ESHAPE, "the settings resize to %dx%d without a crop "
                           "but the model takes %lldx%lld (input %s)", pp->resize_width,
                           pp->resize_height, (long long)w, (long long)h, shape);
    }
    return LRPX_OK;
}

lrpx_status
lrpx_preprocess_from_shape(struct lrpx_preprocess *pp, int rank, const int64_t *dims,
                           char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc = pp ? pp_from_shape(pp, rank, dims, &err)
                        : lrpx__error(&err, LRPX_EINVAL, "NULL preprocess settings");
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

/* ---- JSON settings ---- */

static bool
json_int(const cJSON *v, int *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= 1.0 && d <= 1 << 20) || d != floor(d))
        return false;
    *out = (int)d;
    return true;
}

/* A size: a number (square or shorter side), {"width": W, "height": H}, or
 * the string "none". which: "resize" or "crop". */
static lrpx_status
json_size(const cJSON *v, const char *which, struct lrpx_preprocess *pp, struct lrpx_err *err)
{
    bool resize = strcmp(which, "resize") == 0;
    int  a, b;
    if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) {
        if (resize)
            pp->resize = LRPX_RESIZE_NONE;
        else
            pp->crop_width = pp->crop_height = -1;
        return LRPX_OK;
    }
    if (json_int(v, &a)) {
        if (resize) {
            pp->resize         = LRPX_RESIZE_SHORTER;
            pp->resize_shorter = a;
        } else {
            pp->crop_width = pp->crop_height = a;
        }
        return LRPX_OK;
    }
    if (cJSON_IsObject(v)) {
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(v, "shorter");
        const cJSON *w  = cJSON_GetObjectItemCaseSensitive(v, "width");
        const cJSON *h  = cJSON_GetObjectItemCaseSensitive(v, "height");
        int n_keys = cJSON_GetArraySize(v);
        if (resize && sh && n_keys == 1 && json_int(sh, &a)) {
            pp->resize         = LRPX_RESIZE_SHORTER;
            pp->resize_shorter = a;
            return LRPX_OK;
        }
        if (w && h && n_keys == 2 && json_int(w, &a) && json_int(h, &b)) {
            if (resize) {
                pp->resize        = LRPX_RESIZE_EXACT;
                pp->resize_width  = a;
                pp->resize_height = b;
            } else {
                pp->crop_width  = a;
                pp->crop_height = b;
            }
            return LRPX_OK;
        }
    }
    return lrpx__error(err, LRPX_EPARSE,
                       "\"%s\": expected a positive integer, %s{\"width\": W, \"height\": H} "
                       "or \"none\"", which, resize ? "{\"shorter\": N}, " : "");
}

/* mean or std: a number or an array of 1 or 3 numbers. */
static lrpx_status
json_stats(const cJSON *v, const char *which, double vals[3], int *n, struct lrpx_err *err)
{
    if (cJSON_IsNumber(v)) {
        vals[0] = vals[1] = vals[2] = v->valuedouble;
        *n = 1;
        return LRPX_OK;
    }
    int k = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    if (k == 1 || k == 3) {
        for (int i = 0; i < k; i++) {
            const cJSON *e = cJSON_GetArrayItem(v, i);
            if (!cJSON_IsNumber(e))
                goto bad;
            vals[i] = e->valuedouble;
        }
        if (k == 1)
            vals[1] = vals[2] = vals[0];
        *n = k;
        return LRPX_OK;
    }
bad:
    return lrpx__error(err, LRPX_EPARSE, "\"%s\": expected a number or an array of 1 or 3 "
                       "numbers", which);
}

static lrpx_status
json_enum(const cJSON *v, const char *which, const char *const *names, int n_names,
          int *out, struct lrpx_err *err)
{
    if (cJSON_IsString(v))
        for (int i = 0; i < n_names; i++)
            if (names[i] && strcasecmp(v->valuestring, names[i]) == 0) {
                *out = i;
                return LRPX_OK;
            }
    char list[160] = "";
    for (int i = 0; i < n_names; i++)
        if (names[i]) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s\"%s\"", l ? ", " : "", names[i]);
        }
    return lrpx__error(err, LRPX_EPARSE, "\"%s\": expected one of %s", which, list);
}

static lrpx_status
json_bool(const cJSON *v, const char *which, int *out, struct lrpx_err *err)
{
    if (!cJSON_IsBool(v))
        return lrpx__error(err, LRPX_EPARSE, "\"%s\": expected true or false", which);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return LRPX_OK;
}

static lrpx_status
pp_json(struct lrpx_preprocess *pp, const char *text, size_t len, struct lrpx_err *err)
{
    static const char *const interp_names[] = {[LRPX_INTERP_BILINEAR] = "bilinear",
                                               [LRPX_INTERP_NEAREST]  = "nearest"};
    static const char *const color_names[]  = {[LRPX_COLOR_RGB] = "rgb",
                                               [LRPX_COLOR_BGR] = "bgr",
                                               [LRPX_COLOR_GRAY] = "gray"};
    static const char *const layout_names[] = {[LRPX_LAYOUT_NCHW] = "nchw",
                                               [LRPX_LAYOUT_NHWC] = "nhwc"};
    static const char *const alpha_names[]  = {[LRPX_ALPHA_DROP]  = "drop",
                                               [LRPX_ALPHA_WHITE] = "white"};
    const char *end  = NULL;
    cJSON      *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        int    line = 1;
        for (size_t i = 0; i < off; i++)
            line += text[i] == '\n';
        return lrpx__error(err, LRPX_EPARSE, "invalid JSON near line %d (byte %zu)", line, off);
    }
    lrpx_status rc = LRPX_OK;
    if (!cJSON_IsObject(root)) {
        rc = lrpx__error(err, LRPX_EPARSE, "expected a JSON object {...}");
        goto done;
    }
    /* the preset goes first, whatever the key order, so keys override it */
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(root, "preset");
    if (preset) {
        if (!cJSON_IsString(preset)) {
            rc = lrpx__error(err, LRPX_EPARSE, "\"preset\": expected a name");
            goto done;
        }
        if ((rc = pp_preset(pp, preset->valuestring, err)) != LRPX_OK) {
            err->status = rc = LRPX_EPARSE;
            goto done;
        }
    }
    double mean[3], stdv[3];
    int    n_mean = 0, n_std = 0;
    for (const cJSON *it = root->child; it && rc == LRPX_OK; it = it->next) {
        const char *k = it->string;
        int         e = 0;
        if (strcmp(k, "preset") == 0 || strcmp(k, "comment") == 0)
            continue;
        if (strcmp(k, "name") == 0) {
            if (!cJSON_IsString(it))
                rc = lrpx__error(err, LRPX_EPARSE, "\"name\": expected a string");
            else
                snprintf(pp->name, sizeof pp->name, "%s", it->valuestring);
        } else if (strcmp(k, "resize") == 0 || strcmp(k, "crop") == 0) {
            rc = json_size(it, k, pp, err);
        } else if (strcmp(k, "interpolation") == 0) {
            if ((rc = json_enum(it, k, interp_names, LRPX_INTERP_COUNT, &e, err)) == LRPX_OK)
                pp->interp = (lrpx_interp)e;
        } else if (strcmp(k, "color") == 0 || strcmp(k, "colour") == 0) {
            if ((rc = json_enum(it, k, color_names, LRPX_COLOR_COUNT, &e, err)) == LRPX_OK)
                pp->color = (lrpx_color)e;
        } else if (strcmp(k, "layout") == 0) {
            if ((rc = json_enum(it, k, layout_names, LRPX_LAYOUT_COUNT, &e, err)) == LRPX_OK)
                pp->layout = (lrpx_layout)e;
        } else if (strcmp(k, "alpha") == 0) {
            if ((rc = json_enum(it, k, alpha_names, LRPX_ALPHA_COUNT, &e, err)) == LRPX_OK)
                pp->alpha = (lrpx_alpha)e;
        } else if (strcmp(k, "antialias") == 0) {
            rc = json_bool(it, k, &pp->antialias, err);
        } else if (strcmp(k, "quantize") == 0) {
            rc = json_bool(it, k, &pp->quantize, err);
        } else if (strcmp(k, "scale") == 0) {
            if (!cJSON_IsNumber(it) || !(it->valuedouble != 0.0) || !isfinite(it->valuedouble))
                rc = lrpx__error(err, LRPX_EPARSE, "\"scale\": expected a non-zero number");
            else
                pp->scale = it->valuedouble;
        } else if (strcmp(k, "mean") == 0) {
            rc = json_stats(it, k, mean, &n_mean, err);
        } else if (strcmp(k, "std") == 0) {
            rc = json_stats(it, k, stdv, &n_std, err);
        } else {
            rc = lrpx__error(err, LRPX_EPARSE, "unknown key \"%s\" (see docs/visualization.md)",
                             k);
        }
    }
    if (rc != LRPX_OK)
        goto done;
    if (n_mean || n_std) {
        /* merge with what the preset set; one value stands for all three */
        int n = pp->n_mean;
        if (n_mean > n)
            n = n_mean;
        if (n_std > n)
            n = n_std;
        if (pp->n_mean == 0) {
            pp->mean[0] = pp->mean[1] = pp->mean[2] = 0.0;
            pp->std[0] = pp->std[1] = pp->std[2] = 1.0;
        } else if (pp->n_mean == 1) {
            pp->mean[1] = pp->mean[2] = pp->mean[0];
            pp->std[1] = pp->std[2] = pp->std[0];
        }
        if (n_mean)
            memcpy(pp->mean, mean, sizeof mean);
        if (n_std)
            memcpy(pp->std, stdv, sizeof stdv);
        pp->n_mean = n;
    }
done:
    cJSON_Delete(root);
    return rc;
}

lrpx_status
lrpx_preprocess_parse_json(struct lrpx_preprocess *pp, const char *text, size_t len,
                           char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc;
    if (!pp || (!text && len))
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL argument");
    else
        rc = pp_json(pp, text ? text : "", len, &err);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_preprocess_load_json(struct lrpx_preprocess *pp, const char *path, char *errbuf,
                          size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!pp || !path)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf, errlen);
    /* settings files are small; refuse anything that is clearly not one */
    static const struct lrpx_file_cap cap = {1 << 20, LRPX_EPARSE, "a settings file"};
    void       *buf;
    size_t      n;
    lrpx_status rc = lrpx__slurp(path, &cap, &buf, &n, &err);
    if (rc == LRPX_OK) {
        rc = pp_json(pp, buf, n, &err);
        if (rc != LRPX_OK)
            lrpx__error_prefix(&err, "%s", path);
    }
    lrpx__free(buf);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

/* ---- resolving defaults ---- */

static lrpx_status
pp_resolve(const struct lrpx_preprocess *in, struct lrpx_preprocess *r, struct lrpx_err *err)
{
    *r = *in;
    if ((unsigned)r->resize >= LRPX_RESIZE_COUNT || (unsigned)r->interp >= LRPX_INTERP_COUNT ||
        (unsigned)r->color >= LRPX_COLOR_COUNT || (unsigned)r->layout >= LRPX_LAYOUT_COUNT ||
        (unsigned)r->alpha >= LRPX_ALPHA_COUNT)
        return lrpx__error(err, LRPX_EINVAL, "preprocess settings: enum value out of range");
    if (r->resize == LRPX_RESIZE_UNSET)
        r->resize = LRPX_RESIZE_NONE;
    if (r->resize == LRPX_RESIZE_SHORTER && r->resize_shorter < 1)
        return lrpx__error(err, LRPX_EINVAL, "resize: shorter side %d", r->resize_shorter);
    if (r->resize == LRPX_RESIZE_EXACT && (r->resize_width < 1 || r->resize_height < 1))
        return lrpx__error(err, LRPX_EINVAL, "resize: size %dx%d", r->resize_width,
                           r->resize_height);
    if (r->crop_width <= 0 && r->crop_height <= 0)
        r->crop_width = r->crop_height = -1;
    else if (r->crop_width < 1 || r->crop_height < 1)
        return lrpx__error(err, LRPX_EINVAL, "crop: size %dx%d", r->crop_width, r->crop_height);
    if (r->interp == LRPX_INTERP_UNSET)
        r->interp = LRPX_INTERP_BILINEAR;
    if (r->antialias < 0)
        r->antialias = 1;
    if (r->quantize < 0)
        r->quantize = 1;
    if (r->scale == 0.0)
        r->scale = 1.0;
    if (!isfinite(r->scale))
        return lrpx__error(err, LRPX_EINVAL, "scale %g", r->scale);
    if (r->color == LRPX_COLOR_UNSET)
        r->color = LRPX_COLOR_RGB;
    if (r->layout == LRPX_LAYOUT_UNSET)
        r->layout = LRPX_LAYOUT_NCHW;
    if (r->n_mean == 0) {
        r->n_mean  = 1;
        r->mean[0] = 0.0;
        r->std[0]  = 1.0;
    }
    if (r->n_mean != 1 && r->n_mean != 3)
        return lrpx__error(err, LRPX_EINVAL, "n_mean %d (1 or 3)", r->n_mean);
    if (r->n_mean == 3 && r->color == LRPX_COLOR_GRAY)
        return lrpx__error(err, LRPX_EINVAL, "3 mean/std values for a gray (1-channel) input");
    for (int c = 0; c < r->n_mean; c++)
        if (!isfinite(r->mean[c]) || !isfinite(r->std[c]) || r->std[c] == 0.0)
            return lrpx__error(err, LRPX_EINVAL, "channel %d: mean %g, std %g", c, r->mean[c],
                               r->std[c]);
    if (r->n_mean == 1) {
        r->mean[1] = r->mean[2] = r->mean[0];
        r->std[1] = r->std[2] = r->std[0];
    }
    return LRPX_OK;
}

/* ---- the steps ---- */

static float
pp_round(double v, bool quantize)
{
    if (!quantize)
        return (float)v;
    v = floor(v + 0.5);
    return (float)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

/* Steps 1 and 2: alpha, then gray or RGB. */
static lrpx_status
pp_color(const lrpx_image *in, bool gray, lrpx_alpha alpha, bool quantize, lrpx_image **out,
         struct lrpx_err *err)
{
    int  cin       = in->channels;
    bool has_alpha = cin == 2 || cin == 4;
    int  ncol      = has_alpha ? cin - 1 : cin;
    int  cout      = gray ? 1 : 3;
    lrpx_status rc = lrpx__image_new(in->width, in->height, cout, out, err);
    if (rc != LRPX_OK)
        return rc;
    size_t n = (size_t)in->width * in->height;
    for (size_t i = 0; i < n; i++) {
        const float *s = in->data + i * cin;
        float        v[3];
        for (int c = 0; c < ncol; c++)
            v[c] = s[c];
        if (has_alpha && alpha == LRPX_ALPHA_WHITE) {
            double a = s[ncol] / 255.0;
            for (int c = 0; c < ncol; c++)
                v[c] = pp_round(v[c] * a + 255.0 * (1.0 - a), quantize);
        }
        float *d = (*out)->data + i * cout;
        if (gray && ncol == 3) {
            if (quantize) {
                long l = (long)v[0] * 19595 + (long)v[1] * 38470 + (long)v[2] * 7471 + 0x8000;
                d[0] = (float)(l >> 16);
            } else {
                d[0] = (float)(v[0] * 0.299 + v[1] * 0.587 + v[2] * 0.114);
            }
        } else if (gray) {
            d[0] = v[0];
        } else if (ncol == 1) {
            d[0] = d[1] = d[2] = v[0];
        } else {
            d[0] = v[0];
            d[1] = v[1];
            d[2] = v[2];
        }
    }
    (*out)->bit_depth = in->bit_depth;
    return LRPX_OK;
}

/* Python's round() of d / 2 for d >= 0: half to even. */
static int
pp_half_even(int d)
{
    int k = d / 2;
    return d % 2 == 0 || k % 2 == 0 ? k : k + 1;
}

static int
pp_crop_offset(int size, int crop)
{
    return crop > size ? -((crop - size) / 2) : pp_half_even(size - crop);
}

/* Step 4: window of crop_w x crop_h at (x0, y0), zero outside the image. */
static lrpx_status
pp_crop(const lrpx_image *in, int x0, int y0, int cw, int ch, lrpx_image **out,
        struct lrpx_err *err)
{
    int         c  = in->channels;
    lrpx_status rc = lrpx__image_new(cw, ch, c, out, err);
    if (rc != LRPX_OK)
        return rc;
    for (int y = 0; y < ch; y++) {
        int sy = y + y0;
        if (sy < 0 || sy >= in->height)
            continue;
        int xa = x0 < 0 ? -x0 : 0;                        /* first x inside */
        int xb = in->width - x0 < cw ? in->width - x0 : cw; /* one past last  */
        if (xb > xa)
            memcpy((*out)->data + ((size_t)y * cw + xa) * c,
                   in->data + ((size_t)sy * in->width + x0 + xa) * c,
                   sizeof(float) * (size_t)(xb - xa) * c);
    }
    (*out)->bit_depth = in->bit_depth;
    return LRPX_OK;
}

static void
pp_shorter(int w, int h, int n, int *nw, int *nh)
{
    /* torchvision: new_long = int(n * long / short), in double */
    if (w <= h) {
        *nw = n;
        *nh = (int)((double)n * h / w);
    } else {
        *nh = n;
        *nw = (int)((double)n * w / h);
    }
    if (*nw < 1)
        *nw = 1;
    if (*nh < 1)
        *nh = 1;
}

/* Steps 1-4 with resolved settings r. */
static lrpx_status
pp_prepare(const lrpx_image *img, const struct lrpx_preprocess *r, lrpx_image **out,
           lrpx_image_geometry *g, struct lrpx_err *err)
{
    *out = NULL;
    if (!img || !img->data || img->width < 1 || img->height < 1 || img->channels < 1 ||
        img->channels > 4)
        return lrpx__error(err, LRPX_EINVAL, "bad image");
    bool        quantize = r->quantize && img->bit_depth == 8;
    lrpx_image *cur, *next;
    lrpx_status rc = pp_color(img, r->color == LRPX_COLOR_GRAY, r->alpha, quantize, &cur, err);
    if (rc != LRPX_OK)
        return rc;

    memset(g, 0, sizeof *g);
    g->src_width  = img->width;
    g->src_height = img->height;
    int rw = img->width, rh = img->height;
    if (r->resize == LRPX_RESIZE_SHORTER)
        pp_shorter(img->width, img->height, r->resize_shorter, &rw, &rh);
    else if (r->resize == LRPX_RESIZE_EXACT) {
        rw = r->resize_width;
        rh = r->resize_height;
    }
    if ((int64_t)rw * rh > LRPX_IMAGE_MAX_PIXELS * 4) {
        lrpx_image_free(cur);
        return lrpx__error(err, LRPX_ELIMIT, "resize to %dx%d is too large", rw, rh);
    }
    if (rw != cur->width || rh != cur->height) {
        rc = lrpx__resample(cur, rw, rh, r->interp, r->antialias, quantize, &next, err);
        lrpx_image_free(cur);
        if (rc != LRPX_OK)
            return rc;
        cur = next;
    }
    g->resized_width  = rw;
    g->resized_height = rh;
    g->width          = rw;
    g->height         = rh;
    if (r->crop_width > 0) {
        int cw = r->crop_width, ch = r->crop_height;
        g->crop_x = pp_crop_offset(rw, cw);
        g->crop_y = pp_crop_offset(rh, ch);
        g->width  = cw;
        g->height = ch;
        if (cw != rw || ch != rh || g->crop_x != 0 || g->crop_y != 0) {
            rc = pp_crop(cur, g->crop_x, g->crop_y, cw, ch, &next, err);
            lrpx_image_free(cur);
            if (rc != LRPX_OK)
                return rc;
            cur = next;
        }
    }
    cur->file_width  = img->file_width;
    cur->file_height = img->file_height;
    cur->orientation = img->orientation;
    memcpy(cur->format, img->format, sizeof cur->format);
    *out = cur;
    return LRPX_OK;
}

lrpx_status
lrpx_image_prepare(const lrpx_image *img, const struct lrpx_preprocess *pp, lrpx_image **out,
                   lrpx_image_geometry *geom, char *errbuf, size_t errlen)
{
    struct lrpx_err        err;
    struct lrpx_preprocess r;
    lrpx_image_geometry    g;
    lrpx__error_clear(&err);
    if (!out || !pp)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf, errlen);
    *out = NULL;
    lrpx_status rc = pp_resolve(pp, &r, &err);
    if (rc == LRPX_OK)
        rc = pp_prepare(img, &r, out, &g, &err);
    if (rc == LRPX_OK && geom)
        *geom = g;
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_image_preprocess(const lrpx_image *img, const struct lrpx_preprocess *pp,
                      lrpx_image_tensor **out, char *errbuf, size_t errlen)
{
    struct lrpx_err        err;
    struct lrpx_preprocess r;
    lrpx_image_geometry    g;
    lrpx_image            *prep = NULL;
    lrpx_image_tensor     *t    = NULL;
    lrpx__error_clear(&err);
    if (!out || !pp)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf, errlen);
    *out = NULL;
    lrpx_status rc = pp_resolve(pp, &r, &err);
    if (rc == LRPX_OK)
        rc = pp_prepare(img, &r, &prep, &g, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);

    int    c = prep->channels, h = prep->height, w = prep->width;
    size_t n = (size_t)c * h * w;
    t = lrpx__calloc(1, sizeof *t);
    if (t)
        t->data = lrpx__malloc(n * sizeof(float));
    if (!t || !t->data) {
        lrpx__free(t);
        lrpx_image_free(prep);
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ENOMEM, "out of memory for a %dx%dx%d input",
                                   c, h, w), &err, errbuf, errlen);
    }
    bool nchw = r.layout == LRPX_LAYOUT_NCHW;
    bool bgr  = r.color == LRPX_COLOR_BGR;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int oc = 0; oc < c; oc++) {
                int    ic = bgr ? c - 1 - oc : oc;       /* output channel <- RGB channel */
                double v  = prep->data[((size_t)y * w + x) * c + ic];
                v = (v * r.scale - r.mean[oc]) / r.std[oc];
                size_t o = nchw ? ((size_t)oc * h + y) * w + x : ((size_t)y * w + x) * c + oc;
                t->data[o] = (float)v;
            }
    t->view.dtype   = LRPX_DTYPE_FLOAT32;
    t->view.rank    = 4;
    t->view.dims[0] = 1;
    t->view.dims[1] = nchw ? c : h;
    t->view.dims[2] = nchw ? h : w;
    t->view.dims[3] = nchw ? w : c;
    t->view.n_elems = (int64_t)n;
    t->view.data    = t->data;
    t->geom         = g;
    t->layout       = r.layout;
    t->color        = r.color;
    lrpx_image_free(prep);
    *out = t;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}

void
lrpx_image_tensor_free(lrpx_image_tensor *t)
{
    if (!t)
        return;
    lrpx__free(t->data);
    lrpx__free(t);
}

/* ---- back to the source geometry ---- */

lrpx_status
lrpx_image_unproject(const lrpx_image *map, const lrpx_image_geometry *g, lrpx_image **out,
                     char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!map || !map->data || !g)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf, errlen);
    if (g->src_width < 1 || g->src_height < 1 || g->resized_width < 1 ||
        g->resized_height < 1 || g->width < 1 || g->height < 1)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "bad geometry"), &err, errbuf, errlen);
    if (map->width != g->width || map->height != g->height)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_ESHAPE, "map is %dx%d but the model input was "
                                   "%dx%d", map->width, map->height, g->width, g->height),
                       &err, errbuf, errlen);
    /* undo the crop: the map sits at (-crop_x, -crop_y) of the resized image */
    lrpx_image *canvas;
    lrpx_status rc = pp_crop(map, -g->crop_x, -g->crop_y, g->resized_width, g->resized_height,
                             &canvas, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    lrpx_image *res = canvas;
    if (g->resized_width != g->src_width || g->resized_height != g->src_height) {
        rc = lrpx__resample(canvas, g->src_width, g->src_height, LRPX_INTERP_BILINEAR, 1, 0,
                            &res, &err);
        lrpx_image_free(canvas);
        if (rc != LRPX_OK)
            return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    }
    res->bit_depth = map->bit_depth;
    *out = res;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}
