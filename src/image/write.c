/* Atomic file output for PNG/JPEG: write "PATH.tmp", flush, fsync, close,
 * rename over PATH. rename(2) within one directory is atomic, so readers see
 * the old file or the whole new one, never a part; on any failure the
 * temporary is removed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "image/image_impl.h"

lrpx_status
lrpx__write_atomic(const char *path, lrpx__write_fn fn, const void *ctx, struct lrpx_err *err)
{
    size_t n   = strlen(path);
    char  *tmp = lrpx__malloc(n + sizeof ".tmp");
    if (!tmp)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory");
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", sizeof ".tmp");

    lrpx_status rc = LRPX_OK;
    FILE       *f  = fopen(tmp, "wb");
    if (!f) {
        rc = lrpx__error(err, LRPX_EIO, "cannot create %s: %s", tmp, strerror(errno));
        lrpx__free(tmp);
        return rc;
    }
    rc = fn(f, ctx, err);
    if (rc == LRPX_OK && (fflush(f) != 0 || ferror(f)))
        rc = lrpx__error(err, LRPX_EIO, "write error on %s: %s", tmp, strerror(errno));
    /* fsync fails with EINVAL on files that cannot be synced (pipes,
     * some special file systems); that is not a write error */
    if (rc == LRPX_OK && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS)
        rc = lrpx__error(err, LRPX_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && rc == LRPX_OK)
        rc = lrpx__error(err, LRPX_EIO, "cannot close %s: %s", tmp, strerror(errno));
    if (rc == LRPX_OK && rename(tmp, path) != 0)
        rc = lrpx__error(err, LRPX_EIO, "cannot rename %s to %s: %s", tmp, path,
                         strerror(errno));
    if (rc != LRPX_OK)
        remove(tmp);
    lrpx__free(tmp);
    return rc;
}

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

static lrpx_status
save_done(lrpx_status rc, const struct lrpx_err *err, char *errbuf, size_t errlen)
{
    if (rc != LRPX_OK)
        lrpx__errbuf_set(err, errbuf, errlen);
    else if (errbuf && errlen)
        errbuf[0] = '\0';
    return rc;
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
        if (rc == LRPX_EIMAGE || rc == LRPX_ENOMEM)
            lrpx__error_prefix(&err, "%s", path);
    }
    return save_done(rc, &err, errbuf, errlen);
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
        if (rc == LRPX_EIMAGE || rc == LRPX_ENOMEM)
            lrpx__error_prefix(&err, "%s", path);
    }
    return save_done(rc, &err, errbuf, errlen);
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
    return save_done(err.status, &err, errbuf, errlen);
}
