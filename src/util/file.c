/* Opening untrusted paths: only regular files, never blocking on a FIFO or
 * device (a plain fopen of a FIFO waits for a writer forever); atomic
 * output: a unique temporary next to the target, renamed over it. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
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

static bool
write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

lrpx_status
lrpx__file_write_atomic(const char *path, const struct lrpx_buf *parts, int n_parts, bool sync,
                        char *errbuf, size_t errlen)
{
#define WFAIL(st, ...) (snprintf(msg, sizeof msg, __VA_ARGS__), \
                        errbuf && errlen ? (void)snprintf(errbuf, errlen, "%s: %s", path, msg) \
                                         : (void)0, (st))
    char msg[LRPX_ERRMSG_SIZE];
    /* PATH.tmp-PID-N: unique per process and call, so two writers of one
     * target (threads or processes) never share a temporary */
    static atomic_ulong counter;
    size_t plen = strlen(path);
    char  *tmp  = lrpx__malloc(plen + 64);
    if (!tmp)
        return WFAIL(LRPX_ENOMEM, "out of memory");
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, plen + 64, "%s.tmp-%ld-%lu", path, (long)getpid(),
                 atomic_fetch_add(&counter, 1));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        lrpx__free(tmp);
        return WFAIL(LRPX_EIO, "cannot create a temporary file next to it: %s", strerror(e));
    }
    lrpx_status rc = LRPX_OK;
    for (int i = 0; i < n_parts && rc == LRPX_OK; i++)
        if (!write_all(fd, parts[i].data, parts[i].len))
            rc = WFAIL(LRPX_EIO, "write failed: %s", strerror(errno));
    /* fsync fails with EINVAL/EROFS on files that cannot be synced */
    if (rc == LRPX_OK && sync && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = WFAIL(LRPX_EIO, "fsync failed: %s", strerror(errno));
    if (close(fd) != 0 && rc == LRPX_OK)
        rc = WFAIL(LRPX_EIO, "close failed: %s", strerror(errno));
    if (rc == LRPX_OK && rename(tmp, path) != 0)
        rc = WFAIL(LRPX_EIO, "cannot rename the temporary file into place: %s", strerror(errno));
    if (rc != LRPX_OK)
        unlink(tmp);
    lrpx__free(tmp);
    return rc;
#undef WFAIL
}
