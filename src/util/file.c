/* Files, the one way lrpx reads and writes them:
 *
 *   reading   only regular files, opened without blocking (a plain open of
 *             a FIFO waits for a writer forever), the size checked against
 *             a cap before anything is allocated;
 *   writing   atomically: a temporary with a unique name in the same
 *             folder, flushed and synced, then renamed over the target, so
 *             readers see the old file or the whole new one, and two
 *             processes writing the same path never mix their bytes.
 *
 * Every message starts with the path it is about. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lrpx_internal.h"

/* ---- reading ---- */

/* open(2) for reading that refuses anything but a regular file. Returns the
 * descriptor, or -1 with *not_regular set (the path exists and is something
 * else) or errno from open. */
static int
open_regular(const char *path, struct stat *st, bool *not_regular)
{
    *not_regular = false;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        *not_regular = true;
        return -1;
    }
    /* reads of a regular file never block; clear the flag all the same */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *
lrpx__fopen_regular_file(const char *path, struct stat *st, bool *not_regular)
{
    int fd = open_regular(path, st, not_regular);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

lrpx_status
lrpx__open_error(const char *path, bool not_regular, int errnum, struct lrpx_err *err)
{
    if (not_regular)
        return lrpx__error(err, LRPX_EIO, "%s: not a regular file", path);
    return lrpx__error(err, errnum == ENOMEM ? LRPX_ENOMEM : LRPX_EIO, "%s: cannot open: %s",
                       path, strerror(errnum));
}

/* Read exactly n bytes (a regular file returns short counts only at its
 * end or on signals). Returns the bytes read; errno is set when < n. */
static size_t
read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* open_regular, then the size checked against cap: *fd open on success. */
static lrpx_status
open_capped(const char *path, const struct lrpx_file_cap *cap, struct stat *st, int *fd,
            struct lrpx_err *err)
{
    bool not_regular;
    *fd = open_regular(path, st, &not_regular);
    if (*fd < 0)
        return lrpx__open_error(path, not_regular, errno, err);
    if ((uintmax_t)st->st_size > (uintmax_t)cap->max_bytes || (uintmax_t)st->st_size >= SIZE_MAX) {
        close(*fd);
        *fd = -1;
        return lrpx__error(err, cap->status, "%s: %jd bytes, over the limit of %zu bytes%s%s",
                           path, (intmax_t)st->st_size, cap->max_bytes,
                           cap->kind ? " for " : "", cap->kind ? cap->kind : "");
    }
    return LRPX_OK;
}

lrpx_status
lrpx__slurp(const char *path, const struct lrpx_file_cap *cap, void **buf, size_t *len,
            struct lrpx_err *err)
{
    *buf = NULL;
    *len = 0;
    struct stat st;
    int         fd;
    lrpx_status rc = open_capped(path, cap, &st, &fd, err);
    if (rc != LRPX_OK)
        return rc;
    size_t n = (size_t)st.st_size;
    char  *b = lrpx__malloc(n + 1);
    if (!b) {
        close(fd);
        return lrpx__error(err, LRPX_ENOMEM, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = read_full(fd, b, n);
    int    e   = errno;
    close(fd);
    if (got < n) {
        lrpx__free(b);
        if (e)
            return lrpx__error(err, LRPX_EIO, "%s: read error: %s", path, strerror(e));
        return lrpx__error(err, LRPX_EIO, "%s: the file shrank while being read (%zu of %zu "
                           "bytes)", path, got, n);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return LRPX_OK;
}

lrpx_status
lrpx__file_map(const char *path, const struct lrpx_file_cap *cap, struct lrpx_file_map *map,
               struct lrpx_err *err)
{
    memset(map, 0, sizeof *map);
    struct stat st;
    int         fd;
    lrpx_status rc = open_capped(path, cap, &st, &fd, err);
    if (rc != LRPX_OK)
        return rc;
    void *p = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE, fd, 0)
                             : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED) {
        void *buf;
        rc        = lrpx__slurp(path, cap, &buf, &map->len, err);
        map->addr = buf;
        return rc;
    }
    /* the parser walks the file front to back once */
    madvise(p, (size_t)st.st_size, MADV_WILLNEED);
    map->addr   = p;
    map->len    = (size_t)st.st_size;
    map->mapped = true;
    return LRPX_OK;
}

void
lrpx__file_unmap(struct lrpx_file_map *map)
{
    if (map->mapped)
        munmap(map->addr, map->len);
    else
        lrpx__free(map->addr);
    memset(map, 0, sizeof *map);
}

void
lrpx__file_map_drop(const struct lrpx_file_map *map, const void *p, size_t n)
{
    if (!map || !map->mapped)
        return;
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* ---- writing ---- */

/* The temporary's name: ".NAME.XXXXXX" beside path, the X from the process
 * id, a per-process counter and the clock (like mkstemp's, which we do not
 * use because it creates files with mode 0600 where an output should get
 * 0666 less the umask). */
#define TMP_NAME_MAX 200   /* of NAME, so the temporary stays under NAME_MAX */

static void
tmp_name(char *tmp, size_t dir_len, const char *name, size_t name_len)
{
    static const char    digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static atomic_ullong counter;   /* outputs may be written from many threads */
    struct timespec      ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)getpid() * 0x9E3779B97F4A7C15ull ^
                           atomic_fetch_add(&counter, 1) * 0xC2B2AE3D27D4EB4Full ^
                           (unsigned long long)ts.tv_nsec ^ (unsigned long long)ts.tv_sec << 30;
    char *p = tmp + dir_len;
    *p++    = '.';
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = '.';
    for (int i = 0; i < 6; i++, x /= sizeof digits - 1)
        *p++ = digits[x % (sizeof digits - 1)];
    *p = '\0';
}

/* Create the temporary with O_EXCL, trying new names while they exist. */
static int
tmp_create(const char *path, char *tmp)
{
    const char *slash    = strrchr(path, '/');
    size_t      dir_len  = slash ? (size_t)(slash - path) + 1 : 0;
    const char *name     = path + dir_len;
    size_t      name_len = strlen(name);
    if (name_len > TMP_NAME_MAX)
        name_len = TMP_NAME_MAX;
    memcpy(tmp, path, dir_len);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        tmp_name(tmp, dir_len, name, name_len);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    return fd;
}

lrpx_status
lrpx__write_atomic(const char *path, lrpx__write_fn fn, const void *ctx, struct lrpx_err *err)
{
    return lrpx__write_atomic_ex(path, fn, ctx, 0, err);
}

lrpx_status
lrpx__write_atomic_ex(const char *path, lrpx__write_fn fn, const void *ctx, int flags,
                      struct lrpx_err *err)
{
    const char *slash = strrchr(path, '/');
    if (!path[0] || (slash && !slash[1]))
        return lrpx__error(err, LRPX_EINVAL, "'%s': not a file name", path);
    /* path, '.', at most TMP_NAME_MAX more (the name shortened), ".XXXXXX" */
    char *tmp = lrpx__malloc(strlen(path) + 9);
    if (!tmp)
        return lrpx__error(err, LRPX_ENOMEM, "%s: out of memory", path);
    int fd = tmp_create(path, tmp);
    if (fd < 0) {
        lrpx_status rc = lrpx__error(err, LRPX_EIO, "%s: cannot create a temporary file "
                                     "beside it: %s", path, strerror(errno));
        lrpx__free(tmp);
        return rc;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        lrpx_status rc = lrpx__error(err, LRPX_ENOMEM, "%s: out of memory", path);
        close(fd);
        unlink(tmp);
        lrpx__free(tmp);
        return rc;
    }

    lrpx_status rc = fn(f, ctx, err);
    if (rc != LRPX_OK)
        lrpx__error_prefix(err, "%s", path);
    if (rc == LRPX_OK && (fflush(f) != 0 || ferror(f)))
        rc = lrpx__error(err, LRPX_EIO, "%s: write error: %s", path, strerror(errno));
    /* fsync fails with EINVAL on files that cannot be synced (some special
     * file systems); that is not a write error */
    if (rc == LRPX_OK && !(flags & LRPX_WRITE_NO_SYNC) && fsync(fileno(f)) != 0 &&
        errno != EINVAL && errno != EROFS)
        rc = lrpx__error(err, LRPX_EIO, "%s: cannot sync: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == LRPX_OK)
        rc = lrpx__error(err, LRPX_EIO, "%s: cannot close: %s", path, strerror(errno));
    if (rc == LRPX_OK && rename(tmp, path) != 0)
        rc = lrpx__error(err, LRPX_EIO, "%s: cannot rename the temporary file %s into place: %s",
                         path, tmp, strerror(errno));
    if (rc != LRPX_OK)
        unlink(tmp);
    lrpx__free(tmp);
    return rc;
}
