/* Threads for the passes of a session: a small pool of worker threads
 * (POSIX threads) that runs lrpx's own loops (im2col, depthwise and
 * Winograd transforms, pooling, element-wise ops) and splits matrix
 * products into blocks, each multiplied by OpenBLAS on one thread.
 * OpenBLAS itself is kept single-threaded (lrpx__threads_blas_serial), so
 * exactly one set of threads competes for the cores; its own spinning
 * workers and ours would otherwise fight over them.
 *
 * A loop is split into at most n contiguous ranges, one per thread. Every
 * element is computed by the same code whichever thread runs it, so the
 * element-wise loops give the same bits for any thread count; matrix
 * products are split into blocks of a fixed size shared by the threads,
 * so they too (see docs/performance.md). */
#ifndef LRPX_PARALLEL_H
#define LRPX_PARALLEL_H

#include <stdint.h>

struct lrpx_pool;

/* Work on items [begin, end) of a loop. */
typedef void (*lrpx_range_fn)(void *ctx, int64_t begin, int64_t end);

/* CONSTRUCTOR: a pool running loops on n_threads threads (the caller and
 * n_threads - 1 workers). NULL when n_threads <= 1 or the threads cannot
 * be made: loops then run in the caller. */
struct lrpx_pool *lrpx__pool_init(int n_threads);
void              lrpx__pool_free(struct lrpx_pool *pool);   /* NULL is a no-op */
/* Threads of the pool (1 for NULL). */
int               lrpx__pool_threads(const struct lrpx_pool *pool);

/* Run fn over [0, n) in at most lrpx__pool_threads(pool) ranges, giving
 * each at least `grain` items; returns when all are done. Not reentrant:
 * fn must not call lrpx__parallel_for on the same pool. */
void lrpx__parallel_for(struct lrpx_pool *pool, int64_t n, int64_t grain, lrpx_range_fn fn,
                        void *ctx);

/* The default thread count: LRPX_NUM_THREADS, else OPENBLAS_NUM_THREADS,
 * else the online CPUs (1..LRPX_MAX_THREADS). */
#define LRPX_MAX_THREADS 64
int lrpx__threads_default(void);

/* Make OpenBLAS single-threaded (process-wide) if it is not already. */
void lrpx__threads_blas_serial(void);

/* Hot loops that the compiler vectorises get an AVX2+FMA copy chosen at
 * run time on CPUs that have it (the binary still runs on any x86-64).
 * ISO C mode (-std=c11) keeps -ffp-contract=off, so both copies round the
 * same way. Not under ThreadSanitizer: the loader calls the copy-choosing
 * (ifunc) resolvers before the sanitizer's runtime is set up, and the
 * instrumented resolvers crash there. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(LRPX_NO_TARGET_CLONES) && !defined(__SANITIZE_THREAD__)
#define LRPX_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
/* also an AVX-512 copy: for loops bound by arithmetic rather than memory
 * (the exp of Sigmoid), where 16 lanes pay for themselves */
#define LRPX_TARGET_CLONES_512 \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define LRPX_HAVE_TARGET_CLONES 1
#else
#define LRPX_TARGET_CLONES
#define LRPX_TARGET_CLONES_512
#endif

#endif /* LRPX_PARALLEL_H */
