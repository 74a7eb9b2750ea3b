/* lrpx_image and lrpx_pixmap: construction, loading (format by magic bytes,
 * EXIF orientation), conversion to 8 bits. The codecs live in jpeg.c and
 * png.c; this file reads the file and picks one. */
#include <stdio.h>
#include <string.h>

#include "image/image_impl.h"

/* ---- construction ---- */

/* Sample counts are kept below 2^31 so that int indexing never overflows
 * anywhere in src/image, whatever the size limits say. */
#define IMAGE_MAX_SAMPLES ((int64_t)INT32_MAX)

lrpx_status
lrpx__image_new(int width, int height, int channels, lrpx_image **out, struct lrpx_err *err)
{
    *out = NULL;
    if (width < 1 || height < 1 || channels < 1 || channels > 4)
        return lrpx__error(err, LRPX_EINVAL, "bad image size %dx%dx%d", width, height, channels);
    int64_t n = (int64_t)width * height * channels;
    if (n > IMAGE_MAX_SAMPLES)
        return lrpx__error(err, LRPX_ELIMIT, "image %dx%dx%d has more than 2^31 samples",
                           width, height, channels);
    lrpx_image *img = lrpx__calloc(1, sizeof *img);
    if (!img)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory");
    img->data = lrpx__calloc((size_t)n, sizeof(float));
    if (!img->data) {
        lrpx__free(img);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for a %dx%d image", width, height);
    }
    img->width       = width;
    img->height      = height;
    img->channels    = channels;
    img->bit_depth   = 8;
    img->file_width  = width;
    img->file_height = height;
    img->orientation = 1;
    *out = img;
    return LRPX_OK;
}

lrpx_status
lrpx_image_init(int width, int height, int channels, lrpx_image **out)
{
    struct lrpx_err err;
    if (!out)
        return LRPX_EINVAL;
    return lrpx__image_new(width, height, channels, out, &err);
}

void
lrpx_image_free(lrpx_image *img)
{
    if (!img)
        return;
    lrpx__free(img->data);
    lrpx__free(img);
}

lrpx_status
lrpx__pixmap_new(int width, int height, int channels, lrpx_pixmap **out, struct lrpx_err *err)
{
    *out = NULL;
    if (width < 1 || height < 1 || (channels != 1 && channels != 3))
        return lrpx__error(err, LRPX_EINVAL, "bad pixmap size %dx%dx%d", width, height, channels);
    int64_t n = (int64_t)width * height * channels;
    if (n > IMAGE_MAX_SAMPLES)
        return lrpx__error(err, LRPX_ELIMIT, "pixmap %dx%dx%d has more than 2^31 bytes",
                           width, height, channels);
    lrpx_pixmap *pm = lrpx__calloc(1, sizeof *pm);
    if (!pm)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory");
    pm->data = lrpx__calloc((size_t)n, 1);
    if (!pm->data) {
        lrpx__free(pm);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory for a %dx%d pixmap", width, height);
    }
    pm->width    = width;
    pm->height   = height;
    pm->channels = channels;
    *out = pm;
    return LRPX_OK;
}

lrpx_status
lrpx_pixmap_init(int width, int height, int channels, lrpx_pixmap **out)
{
    struct lrpx_err err;
    if (!out)
        return LRPX_EINVAL;
    return lrpx__pixmap_new(width, height, channels, out, &err);
}

void
lrpx_pixmap_free(lrpx_pixmap *pm)
{
    if (!pm)
        return;
    lrpx__free(pm->data);
    lrpx__free(pm);
}

static uint8_t
image_to_u8(float v)
{
    if (!(v > 0.0f))          /* also NaN */
        return 0;
    if (v >= 255.0f)
        return 255;
    return (uint8_t)(v + 0.5f);
}

lrpx_status
lrpx_pixmap_from_image(const lrpx_image *img, lrpx_pixmap **out, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    if (!out)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL output"), &err, errbuf, errlen);
    *out = NULL;
    if (!img || !img->data)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL image"), &err, errbuf, errlen);
    int         cin  = img->channels;
    int         cout = cin <= 2 ? 1 : 3;
    lrpx_pixmap *pm;
    lrpx_status rc = lrpx__pixmap_new(img->width, img->height, cout, &pm, &err);
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);
    size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < cout; c++)
            pm->data[i * cout + c] = image_to_u8(img->data[i * cin + c]);
    *out = pm;
    return lrpx__errbuf_done(LRPX_OK, &err, errbuf, errlen);
}

/* ---- orientation ---- */

/* Source pixel of destination (x, y) for EXIF orientation o, where the
 * source is sw x sh. The eight cases are the dihedral group: 2 mirror,
 * 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
 * 8 rotate 90 counter-clockwise (what PIL's ImageOps.exif_transpose does). */
static void
orient_source(int o, int x, int y, int sw, int sh, int *sx, int *sy)
{
    switch (o) {
    case 2:  *sx = sw - 1 - x; *sy = y;          break;
    case 3:  *sx = sw - 1 - x; *sy = sh - 1 - y; break;
    case 4:  *sx = x;          *sy = sh - 1 - y; break;
    case 5:  *sx = y;          *sy = x;          break;
    case 6:  *sx = y;          *sy = sh - 1 - x; break;
    case 7:  *sx = sw - 1 - y; *sy = sh - 1 - x; break;
    case 8:  *sx = sw - 1 - y; *sy = x;          break;
    default: *sx = x;          *sy = y;          break;
    }
}

lrpx_status
lrpx__image_orient(lrpx_image **pimg, int orientation, struct lrpx_err *err)
{
    lrpx_image *src = *pimg;
    if (orientation < 2 || orientation > 8)
        return LRPX_OK;
    bool        swap = orientation >= 5;
    int         dw = swap ? src->height : src->width;
    int         dh = swap ? src->width : src->height;
    int         c  = src->channels;
    lrpx_image *dst;
    lrpx_status rc = lrpx__image_new(dw, dh, c, &dst, err);
    if (rc != LRPX_OK)
        return rc;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            int sx, sy;
            orient_source(orientation, x, y, src->width, src->height, &sx, &sy);
            memcpy(dst->data + ((size_t)y * dw + x) * c,
                   src->data + ((size_t)sy * src->width + sx) * c, (size_t)c * sizeof(float));
        }
    dst->bit_depth   = src->bit_depth;
    dst->file_width  = src->file_width;
    dst->file_height = src->file_height;
    dst->orientation = orientation;
    memcpy(dst->format, src->format, sizeof dst->format);
    lrpx_image_free(src);
    *pimg = dst;
    return LRPX_OK;
}

/* ---- loading ---- */

void
lrpx_image_load_options_default(struct lrpx_image_load_options *opts)
{
    opts->max_pixels        = LRPX_IMAGE_MAX_PIXELS;
    opts->max_file_bytes    = LRPX_IMAGE_MAX_FILE_BYTES;
    opts->apply_orientation = 1;
}

/* Name the formats people try most, so the message says what the file is. */
static const char *
image_sniff(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "jpeg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "GIF";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "WebP";
    if (n >= 2 && b[0] == 'B' && b[1] == 'M')
        return "BMP";
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
        return "TIFF";
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0)
        return "NumPy .npy";
    if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0)
        return "HEIF/AVIF/MP4";
    return NULL;
}

static lrpx_status
image_decode(const uint8_t *buf, size_t len, const struct lrpx_image_load_options *o,
             lrpx_image **out, struct lrpx_err *err)
{
    if (len == 0)
        return lrpx__error(err, LRPX_EIMAGE, "empty file");
    const char *kind = image_sniff(buf, len);
    lrpx_status rc;
    if (kind && strcmp(kind, "jpeg") == 0)
        rc = lrpx__jpeg_decode(buf, len, o, out, err);
    else if (kind && strcmp(kind, "png") == 0)
        rc = lrpx__png_decode(buf, len, o, out, err);
    else if (kind)
        return lrpx__error(err, LRPX_EIMAGE,
                           "%s file: only JPEG and PNG images are supported", kind);
    else {
        char hex[3 * 8 + 1] = "";
        for (size_t i = 0; i < len && i < 8; i++)
            snprintf(hex + 3 * i, sizeof hex - 3 * i, i ? " %02x" : "%02x", buf[i]);
        return lrpx__error(err, LRPX_EIMAGE,
                           "not a JPEG or PNG image (first bytes %s)", hex);
    }
    if (rc != LRPX_OK)
        return rc;
    (*out)->file_width  = (*out)->width;
    (*out)->file_height = (*out)->height;
    int orientation = (*out)->orientation;
    (*out)->orientation = 1;
    if (o->apply_orientation && orientation >= 2 && orientation <= 8) {
        rc = lrpx__image_orient(out, orientation, err);
        if (rc != LRPX_OK) {
            lrpx_image_free(*out);
            *out = NULL;
        }
    }
    return rc;
}

static lrpx_status
image_check_args(const struct lrpx_image_load_options *opts,
                 struct lrpx_image_load_options *o, lrpx_image **out, struct lrpx_err *err)
{
    if (!out)
        return lrpx__error(err, LRPX_EINVAL, "NULL output");
    *out = NULL;
    lrpx_image_load_options_default(o);
    if (opts)
        *o = *opts;
    if (o->max_pixels <= 0 || o->max_file_bytes <= 0)
        return lrpx__error(err, LRPX_EINVAL, "limits must be positive");
    return LRPX_OK;
}

lrpx_status
lrpx_image_load_buffer(const void *buf, size_t len, const char *name,
                       const struct lrpx_image_load_options *opts, lrpx_image **out,
                       char *errbuf, size_t errlen)
{
    struct lrpx_err                err;
    struct lrpx_image_load_options o;
    lrpx__error_clear(&err);
    lrpx_status rc = image_check_args(opts, &o, out, &err);
    if (rc == LRPX_OK && !buf && len)
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL buffer");
    if (rc == LRPX_OK && (uint64_t)len > (uint64_t)o.max_file_bytes)
        rc = lrpx__error(&err, LRPX_ELIMIT, "%zu bytes, over the limit of %lld", len,
                         (long long)o.max_file_bytes);
    if (rc == LRPX_OK)
        rc = image_decode(buf, len, &o, out, &err);
    if (rc != LRPX_OK)
        lrpx__error_prefix(&err, "%s", name ? name : "<memory>");
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_image_load(const char *path, const struct lrpx_image_load_options *opts,
                lrpx_image **out, char *errbuf, size_t errlen)
{
    struct lrpx_err                err;
    struct lrpx_image_load_options o;
    lrpx__error_clear(&err);
    lrpx_status rc = image_check_args(opts, &o, out, &err);
    if (rc == LRPX_OK && !path)
        rc = lrpx__error(&err, LRPX_EINVAL, "NULL path");
    if (rc != LRPX_OK)
        return lrpx__errbuf_done(rc, &err, errbuf, errlen);

    const struct lrpx_file_cap cap = {
        (uint64_t)o.max_file_bytes < SIZE_MAX ? (size_t)o.max_file_bytes : SIZE_MAX, LRPX_ELIMIT,
        "an image (max_file_bytes)"};
    void  *buf;
    size_t len;
    rc = lrpx__slurp(path, &cap, &buf, &len, &err);   /* the message names the file */
    if (rc == LRPX_OK) {
        rc = image_decode(buf, len, &o, out, &err);
        lrpx__free(buf);
        if (rc != LRPX_OK)
            lrpx__error_prefix(&err, "%s", path);
    }
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}
