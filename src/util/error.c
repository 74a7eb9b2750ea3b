/* Per-handle error messages (SQLite style): the message lives in the handle
 * that failed, is set once where the error is found, and is read with
 * lrpx_*_errmsg. */
#include <stdio.h>
#include <string.h>

#include "lrpx_internal.h"

lrpx_status
lrpx__verror(struct lrpx_err *err, lrpx_status status, const char *fmt, va_list ap)
{
    err->status = status;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return status;
}

lrpx_status
lrpx__error(struct lrpx_err *err, lrpx_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lrpx__verror(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void
lrpx__error_prefix(struct lrpx_err *err, const char *fmt, ...)
{
    char    prefix[LRPX_ERRMSG_SIZE / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t n = strlen(prefix);
    /* shift the message right by n + 2 ("prefix: "), truncating its end */
    memmove(err->msg + n + 2, err->msg, sizeof err->msg - n - 3);
    err->msg[sizeof err->msg - 1] = '\0';
    memcpy(err->msg, prefix, n);
    err->msg[n]     = ':';
    err->msg[n + 1] = ' ';
}

lrpx_status
lrpx__errbuf_done(lrpx_status rc, const struct lrpx_err *err, char *errbuf, size_t errlen)
{
    if (errbuf && errlen > 0)
        snprintf(errbuf, errlen, "%s", rc == LRPX_OK ? "" : err->msg);
    return rc;
}

void
lrpx__error_clear(struct lrpx_err *err)
{
    err->status = LRPX_OK;
    err->msg[0] = '\0';
}

/* ---- status and dtype names ---- */

const char *
lrpx_status_str(lrpx_status status)
{
    switch (status) {
#define X(name, text) case LRPX_##name: return text;
    LRPX_STATUS_MAP(X)
#undef X
    default: return "unknown status";
    }
}

const char *
lrpx_status_name(lrpx_status status)
{
    switch (status) {
#define X(name, text) case LRPX_##name: return "LRPX_" #name;
    LRPX_STATUS_MAP(X)
#undef X
    default: return "LRPX_?";
    }
}
