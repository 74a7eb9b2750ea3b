/* Declarations shared by every part of lrpx and not exported: allocation,
 * arenas, error messages, logging, the internal tensor type. */
#ifndef LRPX_INTERNAL_H
#define LRPX_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lrpx.h"

/* ---- allocation (src/util/alloc.c) ---- */

/* All allocation goes through these, so tests can fail the N-th one. */
void *lrpx__malloc(size_t size);
void *lrpx__calloc(size_t n, size_t size);
void *lrpx__realloc(void *p, size_t size);
void  lrpx__free(void *p);
char *lrpx__strdup(const char *s);
/* Tests: make allocation number n (1-based, counted from now) and every
 * later one fail; 0 turns failure off. lrpx__alloc_count returns the
 * allocations made since the last lrpx__alloc_fail_after (allocations are
 * counted only after the first call). Both are safe to call while other
 * threads allocate. */
void     lrpx__alloc_fail_after(int64_t n);
int64_t  lrpx__alloc_count(void);

#define LRPX_FREE(p) do { lrpx__free(p); (p) = NULL; } while (0)

/* Overflow-checked size arithmetic: return false when the result does not
 * fit. */
bool lrpx__mul_size(size_t a, size_t b, size_t *out);
bool lrpx__mul_i64(int64_t a, int64_t b, int64_t *out);

/* ---- bump arenas (src/util/arena.c) ---- */

/* A chain of blocks; everything allocated from it is freed at once.
 * Allocations are 64-byte aligned and zeroed. */
struct lrpx_arena_block;
struct lrpx_arena {
    struct lrpx_arena_block *head;
    size_t                   used_total;   /* bytes handed out */
    size_t                   limit;        /* 0: no limit      */
    bool                     limit_hit;    /* an allocation failed on the limit
                                              (LRPX_ELIMIT, not ENOMEM) */
};

void  lrpx__arena_init(struct lrpx_arena *a, size_t limit);
void *lrpx__arena_alloc(struct lrpx_arena *a, size_t size);     /* NULL on OOM/limit */
/* The same without zeroing, for buffers the caller fills completely (a
 * large one is then faulted in once, by the caller's writes). */
void *lrpx__arena_alloc_uninit(struct lrpx_arena *a, size_t size);
void *lrpx__arena_calloc(struct lrpx_arena *a, size_t n, size_t size);
char *lrpx__arena_strdup(struct lrpx_arena *a, const char *s);
char *lrpx__arena_strndup(struct lrpx_arena *a, const char *s, size_t n);
void  lrpx__arena_free(struct lrpx_arena *a);

/* ---- error messages (src/util/error.c) ---- */

#define LRPX_ERRMSG_SIZE 1024

/* Each handle owns one of these; lrpx__error formats into it and returns the
 * code, so errors are reported once, where they are detected:
 *     return lrpx__error(err, LRPX_ESHAPE, "W has rank %d, expected 4", r); */
struct lrpx_err {
    lrpx_status status;
    char        msg[LRPX_ERRMSG_SIZE];
};

lrpx_status lrpx__error(struct lrpx_err *err, lrpx_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lrpx_status lrpx__verror(struct lrpx_err *err, lrpx_status status, const char *fmt, va_list ap);
/* Put "prefix: " in front of the current message (for callers that add the
 * file name). */
void lrpx__error_prefix(struct lrpx_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lrpx__error_clear(struct lrpx_err *err);
/* Finish a public function that reports through (errbuf, errlen), the
 * convention of docs/errors.md: errbuf receives err's message when rc is an
 * error and "" when it is LRPX_OK (err may then be NULL), truncated to
 * errlen bytes and always terminated; NULL or errlen 0: nothing. Returns
 * rc, so a function can end with
 *     return lrpx__errbuf_done(rc, &err, errbuf, errlen); */
lrpx_status lrpx__errbuf_done(lrpx_status rc, const struct lrpx_err *err, char *errbuf,
                              size_t errlen);

/* ---- files (src/util/file.c) ---- */

#include <stdio.h>
#include <sys/stat.h>

/* Open path for reading only if it is a regular file, without blocking on
 * a FIFO or device. Returns the stream and fills *st; NULL otherwise, with
 * *not_regular true when the path exists but is not a regular file, else
 * errno set by open/fdopen. */
FILE *lrpx__fopen_regular_file(const char *path, struct stat *st, bool *not_regular);
/* The message for a failed lrpx__fopen_regular_file: "PATH: not a regular
 * file" (LRPX_EIO) or "PATH: cannot open: REASON" (LRPX_EIO, LRPX_ENOMEM
 * for errnum ENOMEM). Returns the status. */
lrpx_status lrpx__open_error(const char *path, bool not_regular, int errnum,
                             struct lrpx_err *err);

/* How large a file lrpx__slurp accepts, and what a larger one is. */
struct lrpx_file_cap {
    size_t      max_bytes;   /* larger files are refused before any read   */
    lrpx_status status;      /* for them: LRPX_ELIMIT, or LRPX_EPARSE where
                                such a size means "not this kind of file"  */
    const char *kind;        /* "a colour table", for the message; NULL    */
};

/* Read all of the regular file path into *buf (lrpx__malloc, free with
 * lrpx__free), *len bytes followed by a '\0' that *len does not count, so
 * text parsers may treat it as a string. Never blocks on a FIFO. Messages
 * start with the path:
 *   LRPX_EIO      "PATH: not a regular file", "PATH: cannot open: REASON",
 *                 a read error, a file that shrank while being read;
 *   cap->status   "PATH: N bytes, over the limit of CAP bytes for KIND";
 *   LRPX_ENOMEM.
 * On failure *buf is NULL and *len 0. */
lrpx_status lrpx__slurp(const char *path, const struct lrpx_file_cap *cap, void **buf,
                        size_t *len, struct lrpx_err *err);

/* A whole file in memory for as long as its owner lives: mapped (private,
 * copy on write: the file never changes through it, and pages are read
 * from the page cache only when touched) or, where mapping fails (an
 * empty file, a file system without mmap), read by lrpx__slurp. A file
 * truncated by another process while mapped makes later reads of the lost
 * pages fault (SIGBUS), as for every mmap-based reader. */
struct lrpx_file_map {
    uint8_t *addr;       /* len bytes, then (read, not mapped) a '\0'     */
    size_t   len;
    bool     mapped;     /* false: addr is from lrpx__malloc              */
};
/* Same checks, limits and messages as lrpx__slurp. */
lrpx_status lrpx__file_map(const char *path, const struct lrpx_file_cap *cap,
                           struct lrpx_file_map *map, struct lrpx_err *err);
void        lrpx__file_unmap(struct lrpx_file_map *map);   /* zeroed map: no-op */
/* The bytes [p, p + n) of a mapping will not be read again soon: give
 * back the whole pages inside them (they are read again from the page
 * cache if touched). Nothing for a map that was read. */
void        lrpx__file_map_drop(const struct lrpx_file_map *map, const void *p, size_t n);

/* Writes the whole output to f; returns LRPX_OK or an error in err (the
 * reason only: lrpx__write_atomic puts the path in front). */
typedef lrpx_status (*lrpx__write_fn)(FILE *f, const void *ctx, struct lrpx_err *err);
/* Replace path with what fn writes, atomically: fn writes to a new
 * temporary ".NAME.XXXXXX" in path's folder (unique, created with O_EXCL,
 * mode 0666 less the umask), which is flushed, synced, closed and renamed
 * over path. On any failure the temporary is removed and path is left as
 * it was: readers and concurrent writers see a whole old or a whole new
 * file, never part of one. Messages start with the path; LRPX_EIO for the
 * file system, LRPX_ENOMEM, LRPX_EINVAL for a path without a file name, or
 * what fn returned. */
lrpx_status lrpx__write_atomic(const char *path, lrpx__write_fn fn, const void *ctx,
                               struct lrpx_err *err);
/* The same with LRPX_WRITE_* flags (include/lrpx.h): LRPX_WRITE_NO_SYNC
 * leaves out the fsync (still whole-or-nothing for other processes and
 * after a kill, but not after a power cut). */
lrpx_status lrpx__write_atomic_ex(const char *path, lrpx__write_fn fn, const void *ctx,
                                  int flags, struct lrpx_err *err);

/* ---- CPU features (src/util/cpu.c) ---- */

/* Probed once per process, safe from any thread. Bits of one mask so a
 * caller can ask for several at once: lrpx__cpu_has(LRPX_CPU_AVX2 | LRPX_CPU_FMA). */
enum lrpx_cpu_feature {
    LRPX_CPU_AVX2    = 1u << 0,
    LRPX_CPU_FMA     = 1u << 1,
    LRPX_CPU_AVX512F = 1u << 2,   /* with the OS saving the zmm registers */
};
bool lrpx__cpu_has(unsigned features);
/* Tests: make lrpx__cpu_has answer as if the CPU lacked these features
 * (0: the probe's answer again), to compare the narrower kernels with the
 * wider ones on one machine. */
void lrpx__cpu_hide(unsigned features);

/* ---- seeded random numbers (src/util/rng.c) ---- */

/* xoshiro256** seeded through SplitMix64; the caller owns the state, and
 * each (seed, a, b) is its own stream, so results depend on the seed only
 * (never on threads, batching or call order elsewhere). */
struct lrpx_rng {
    uint64_t s[4];
};
void     lrpx__rng_init(struct lrpx_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t lrpx__rng_next(struct lrpx_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double   lrpx__rng_uniform(struct lrpx_rng *r);
/* Standard normal (Box-Muller, one value per call). */
double   lrpx__rng_normal(struct lrpx_rng *r);

/* ---- logging (src/util/log.c) ---- */

enum lrpx_log_level { LRPX_LOG_ERROR = 1, LRPX_LOG_WARN, LRPX_LOG_INFO, LRPX_LOG_DEBUG };
/* Level from the LRPX_LOG_LEVEL environment variable (0 = silent, default). */
void lrpx__log(enum lrpx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define LRPX_LOG(level, ...) lrpx__log(LRPX_LOG_##level, __VA_ARGS__)

/* Programmer errors only; compiled out in release builds. Never for
 * anything that comes from a file. */
#include <assert.h>
#define LRPX_ASSERT(x) assert(x)

/* ---- tensors (src/util/tensor.c) ---- */

struct lrpx_tensor {
    lrpx_dtype dtype;
    int        rank;
    int64_t    dims[LRPX_MAX_RANK];
    int64_t    n_elems;
    union {
        void    *data;
        float   *f32;
        double  *f64;
        int64_t *i64;
        int32_t *i32;
        int8_t  *i8;
        uint8_t *u8;
        uint8_t *b;     /* bool: one byte, 0 or 1 */
    };
};

/* Set dtype/rank/dims and n_elems (data untouched). Returns false when the
 * element count overflows int64 or a dim is negative. */
bool    lrpx__tensor_shape(struct lrpx_tensor *t, lrpx_dtype dtype, int rank, const int64_t *dims);
int64_t lrpx__tensor_bytes(const struct lrpx_tensor *t);
/* "1x3x224x224" (rank 0: "scalar") into buf. */
const char *lrpx__dims_str(const int64_t *dims, int rank, char *buf, size_t size);
/* Element i as double / int64, whatever the dtype. */
double  lrpx__tensor_get_f64(const struct lrpx_tensor *t, int64_t i);
int64_t lrpx__tensor_get_i64(const struct lrpx_tensor *t, int64_t i);
/* Row-major strides in elements. */
void    lrpx__strides(const int64_t *dims, int rank, int64_t *strides);

#endif /* LRPX_INTERNAL_H */
