/* One levelled logging macro for the library (LRPX_LOG), set by the
 * LRPX_LOG_LEVEL environment variable: 0 silent (default) .. 4 debug. */
#include <stdio.h>
#include <stdlib.h>

#include "lrpx_internal.h"

static int
log_level(void)
{
    static int level = -1;
    if (level < 0) {
        const char *e = getenv("LRPX_LOG_LEVEL");
        level = e ? atoi(e) : 0;
    }
    return level;
}

void
lrpx__log(enum lrpx_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    if ((int)level > log_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
