/* The session thread pool (see parallel.h).
 *
 * One job at a time: the caller publishes the loop (fn, ctx, n, ranges),
 * bumps the generation counter and runs range 0 itself; worker i runs
 * range i and counts down `left`. Waiting on either side first spins for a
 * short while (a loop region of a forward pass often lasts only tens of
 * microseconds, and waking a sleeping thread costs about as much), yielding
 * the core to other runnable threads while it spins, then sleeps on a
 * condition variable. */
#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "lrpx_internal.h"
#include "util/parallel.h"

/* polls of the generation / countdown before sleeping */
#define POOL_SPIN 2000

struct lrpx_pool {
    int              n_threads;      /* workers + the caller              */
    int              n_workers;      /* started                            */
    pthread_t       *tid;
    pthread_mutex_t  mu;
    pthread_cond_t   cv_job;         /* a new generation, or stop          */
    pthread_cond_t   cv_done;        /* left reached 0                     */
    atomic_uint_fast64_t gen;
    atomic_int       left;
    bool             stop;           /* under mu                           */
    /* the current job, written before gen is bumped */
    lrpx_range_fn    fn;
    void            *ctx;
    int64_t          n;
    int              n_ranges;
};

struct pool_worker {
    struct lrpx_pool *pool;
    int               index;         /* 1 .. n_threads - 1 */
};

static inline void
pool_relax(int i)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((i & 63) == 63)
        sched_yield();
}

static void
pool_run_range(struct lrpx_pool *p, int r)
{
    if (r >= p->n_ranges)
        return;
    const int64_t b = p->n * r / p->n_ranges, e = p->n * (r + 1) / p->n_ranges;
    if (b < e)
        p->fn(p->ctx, b, e);
}

static void *
pool_worker_main(void *arg)
{
    struct lrpx_pool *p    = ((struct pool_worker *)arg)->pool;
    const int         me   = ((struct pool_worker *)arg)->index;
    uint_fast64_t     seen = 0;
    lrpx__free(arg);

    for (;;) {
        uint_fast64_t g = atomic_load_explicit(&p->gen, memory_order_acquire);
        for (int i = 0; g == seen && i < POOL_SPIN; i++) {
            pool_relax(i);
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
                   !p->stop)
                pthread_cond_wait(&p->cv_job, &p->mu);
            bool stop = p->stop;
            pthread_mutex_unlock(&p->mu);
            if (stop)
                return NULL;
        }
        seen = g;
        pool_run_range(p, me);
        if (atomic_fetch_sub_explicit(&p->left, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

struct lrpx_pool *
lrpx__pool_init(int n_threads)
{
    if (n_threads <= 1)
        return NULL;
    struct lrpx_pool *p = lrpx__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->tid = lrpx__calloc((size_t)n_threads, sizeof *p->tid);
    if (!p->tid || pthread_mutex_init(&p->mu, NULL) != 0) {
        lrpx__free(p->tid);
        lrpx__free(p);
        return NULL;
    }
    pthread_cond_init(&p->cv_job, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->left, 0);
    for (int i = 1; i < n_threads; i++) {
        struct pool_worker *w = lrpx__malloc(sizeof *w);
        if (!w)
            break;
        w->pool  = p;
        w->index = i;
        if (pthread_create(&p->tid[p->n_workers], NULL, pool_worker_main, w) != 0) {
            lrpx__free(w);
            break;
        }
        p->n_workers++;
    }
    p->n_threads = p->n_workers + 1;
    if (p->n_threads <= 1) {
        lrpx__pool_free(p);
        return NULL;
    }
    return p;
}

void
lrpx__pool_free(struct lrpx_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv_job);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->cv_job);
    pthread_cond_destroy(&p->cv_done);
    pthread_mutex_destroy(&p->mu);
    lrpx__free(p->tid);
    lrpx__free(p);
}

int
lrpx__pool_threads(const struct lrpx_pool *p)
{
    return p ? p->n_threads : 1;
}

void
lrpx__parallel_for(struct lrpx_pool *p, int64_t n, int64_t grain, lrpx_range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t t = p ? p->n_threads : 1;
    if (t > n / grain)
        t = n / grain;
    if (t <= 1) {
        fn(ctx, 0, n);
        return;
    }
    p->fn       = fn;
    p->ctx      = ctx;
    p->n        = n;
    p->n_ranges = (int)t;
    atomic_store_explicit(&p->left, p->n_workers, memory_order_relaxed);
    /* the release publishes the job; taking the lock before the broadcast
     * means a worker about to sleep either sees the new generation or is
     * already waiting */
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv_job);
    pthread_mutex_unlock(&p->mu);

    pool_run_range(p, 0);

    for (int i = 0; atomic_load_explicit(&p->left, memory_order_acquire) != 0 && i < POOL_SPIN;
         i++)
        pool_relax(i);
    if (atomic_load_explicit(&p->left, memory_order_acquire) != 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->left, memory_order_acquire) != 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

static int
threads_env(const char *name)
{
    const char *e = getenv(name);
    if (!e || !*e)
        return 0;
    char *end;
    long  v = strtol(e, &end, 10);
    if (*end || v < 1)
        return 0;
    return v > LRPX_MAX_THREADS ? LRPX_MAX_THREADS : (int)v;
}

int
lrpx__threads_default(void)
{
    int n = threads_env("LRPX_NUM_THREADS");
    if (!n)
        n = threads_env("OPENBLAS_NUM_THREADS");
    if (!n) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c < 1 ? 1 : c > LRPX_MAX_THREADS ? LRPX_MAX_THREADS : (int)c;
    }
    return n;
}

/* OpenBLAS keeps its thread count in a plain global: passes of sessions on
 * several threads take turns at reading and setting it, and the lock orders
 * every change before the sgemm calls of the passes that follow. */
static pthread_mutex_t blas_mu = PTHREAD_MUTEX_INITIALIZER;

void
lrpx__threads_blas_serial(void)
{
    pthread_mutex_lock(&blas_mu);
    if (openblas_get_num_threads() != 1)
        openblas_set_num_threads(1);
    pthread_mutex_unlock(&blas_mu);
}
