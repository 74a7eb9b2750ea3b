/* PNG/JPEG output, atomic through lrpx__write_atomic (src/util/file.c):
 * readers see the old file or the whole new one, never a part. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "image/image_impl.h"

/* ---- pixmap output ---- */

struct save_ctx {
    const lrpx_pixmap *pm;
    int                quality;
};

static lrpx_status
save_png(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const struct save_ctx *s = ctx;
    return lrpx__png_encode(s->pm, f, err);
}

static lrpx_status
save_jpeg(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const struct save_ctx *s = ctx;
    return lrpx__jpeg_encode(s->pm, f, s->quality, err);
}

static lrpx_status
save_check(const lrpx_pixmap *pm, const char *path, struct lrpx_err *err)
{
    if (!path || !*path)
        return lrpx__error(err, LRPX_EINVAL, "no output path");
    if (!pm || !pm->data || pm->width < 1 || pm->height < 1 ||
        (pm->channels != 1 && pm->channels != 3))
        return lrpx__error(err, LRPX_EINVAL, "%s: bad pixmap", path);
    return LRPX_OK;
}

lrpx_status
lrpx_pixmap_save_png(const lrpx_pixmap *pm, const char *path, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc = save_check(pm, path, &err);
    if (rc == LRPX_OK) {
        struct save_ctx ctx = {pm, 0};
        rc = lrpx__write_atomic(path, save_png, &ctx, &err);
    }
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_pixmap_save_jpeg(const lrpx_pixmap *pm, const char *path, int quality, char *errbuf,
                      size_t errlen)
{
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx_status rc = save_check(pm, path, &err);
    if (rc == LRPX_OK && quality == 0)
        quality = 90;
    if (rc == LRPX_OK && (quality < 1 || quality > 100))
        rc = lrpx__error(&err, LRPX_EINVAL, "%s: JPEG quality %d is not in 1..100", path,
                         quality);
    if (rc == LRPX_OK) {
        struct save_ctx ctx = {pm, quality};
        rc = lrpx__write_atomic(path, save_jpeg, &ctx, &err);
    }
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}

lrpx_status
lrpx_pixmap_save(const lrpx_pixmap *pm, const char *path, int quality, char *errbuf,
                 size_t errlen)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    const char *sep = path ? strrchr(path, '/') : NULL;
    if (dot && (!sep || dot > sep)) {
        if (strcasecmp(dot, ".png") == 0)
            return lrpx_pixmap_save_png(pm, path, errbuf, errlen);
        if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
            return lrpx_pixmap_save_jpeg(pm, path, quality, errbuf, errlen);
    }
    struct lrpx_err err;
    lrpx__error_clear(&err);
    lrpx__error(&err, LRPX_EINVAL, "%s: cannot tell the format; use .png, .jpg or .jpeg",
                path ? path : "(null)");
    return lrpx__errbuf_done(err.status, &err, errbuf, errlen);
}
