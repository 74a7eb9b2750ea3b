/* Opening untrusted paths: only regular files, never blocking on a FIFO or
 * device (a plain fopen of a FIFO waits for a writer forever). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lrpx_internal.h"

FILE *
lrpx__fopen_regular_file(const char *path, struct stat *st, bool *not_regular)
{
    *not_regular = false;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        *not_regular = true;
        return NULL;
    }
    /* reads of a regular file never block; clear the flag all the same */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}
