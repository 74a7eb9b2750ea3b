/* lrpx_file_write: any bytes (reports, tables, SVG) written the way the
 * library writes its own files, through lrpx__write_atomic. */
#include <errno.h>
#include <string.h>

#include "lrpx_internal.h"

struct bytes {
    const void *data;
    size_t      len;
};

static lrpx_status
write_bytes(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const struct bytes *b = ctx;
    if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
        return lrpx__error(err, LRPX_EIO, "write failed: %s", strerror(errno));
    return LRPX_OK;
}

lrpx_status
lrpx_file_write(const char *path, const void *data, size_t len, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    lrpx_status     rc;
    if (!path || (!data && len))
        rc = lrpx__error(&err, LRPX_EINVAL, "lrpx_file_write: %s is NULL",
                         path ? "data" : "path");
    else
        rc = lrpx__write_atomic(path, write_bytes, &(struct bytes){data, len}, &err);
    return lrpx__errbuf_done(rc, &err, errbuf, errlen);
}
