/* One levelled logging macro for the library (LRPX_LOG), set by the
 * LRPX_LOG_LEVEL environment variable: 0 silent (default) .. 4 debug, read
 * once per process (from any thread). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "lrpx_internal.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int            log_level;

static void
log_read_env(void)
{
    const char *e = getenv("LRPX_LOG_LEVEL");
    log_level     = e ? atoi(e) : 0;
}

void
lrpx__log(enum lrpx_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    pthread_once(&log_once, log_read_env);
    if ((int)level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
