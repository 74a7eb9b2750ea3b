/* Bump arenas: a model owns one for its graph and weights, a session one
 * per shape plan. Nothing allocated from an arena is freed on its own. */
#include <string.h>
#include <sys/mman.h>

#include "lrpx_internal.h"

#define ARENA_ALIGN      64
#define ARENA_BLOCK_MIN  ((size_t)1 << 20)

struct lrpx_arena_block {
    struct lrpx_arena_block *next;
    void                    *raw;    /* what lrpx__malloc returned */
    size_t                   size;   /* usable bytes after the header */
    size_t                   used;
    /* data follows, aligned */
};

/* Header size rounded up so data starts aligned. */
#define BLOCK_HDR (((sizeof(struct lrpx_arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)

void
lrpx__arena_init(struct lrpx_arena *a, size_t limit)
{
    a->head       = NULL;
    a->used_total = 0;
    a->limit      = limit;
    a->limit_hit  = false;
}

/* Blocks of at least this size ask for transparent huge pages: filling
 * hundreds of MB of weights or activations then takes one page fault per
 * 2 MiB instead of one per 4 KiB. */
#define ARENA_HUGE_MIN ((size_t)4 << 20)
#define ARENA_HUGE     ((uintptr_t)2 << 20)

static void
arena_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo = ((uintptr_t)p + ARENA_HUGE - 1) & ~(ARENA_HUGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(ARENA_HUGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* advice: failure is harmless */
#else
    (void)p, (void)n;
#endif
}

void *
lrpx__arena_alloc_uninit(struct lrpx_arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < size)
        return NULL;
    if (a->limit && (need > a->limit || a->used_total > a->limit - need)) {
        a->limit_hit = true;
        return NULL;
    }
    struct lrpx_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t bsize = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;
        if (bsize > SIZE_MAX - BLOCK_HDR - ARENA_ALIGN)
            return NULL;
        /* through the hook, so OOM injection reaches arenas too */
        void *raw = lrpx__malloc(BLOCK_HDR + bsize + ARENA_ALIGN);
        if (!raw)
            return NULL;
        if (bsize >= ARENA_HUGE_MIN)
            arena_advise_huge(raw, BLOCK_HDR + bsize + ARENA_ALIGN);
        uintptr_t aligned = ((uintptr_t)raw + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
        b       = (struct lrpx_arena_block *)aligned;
        b->raw  = raw;
        b->next = a->head;
        b->size = bsize;
        b->used = 0;
        a->head = b;
    }
    char *p = (char *)b + BLOCK_HDR + b->used;
    b->used += need;
    a->used_total += need;
    return p;
}

void *
lrpx__arena_alloc(struct lrpx_arena *a, size_t size)
{
    void *p = lrpx__arena_alloc_uninit(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *
lrpx__arena_calloc(struct lrpx_arena *a, size_t n, size_t size)
{
    size_t total;
    if (!lrpx__mul_size(n, size, &total))
        return NULL;
    return lrpx__arena_alloc(a, total);
}

char *
lrpx__arena_strndup(struct lrpx_arena *a, const char *s, size_t n)
{
    char *d = lrpx__arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *
lrpx__arena_strdup(struct lrpx_arena *a, const char *s)
{
    return lrpx__arena_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

void
lrpx__arena_free(struct lrpx_arena *a)
{
    struct lrpx_arena_block *b = a->head;
    while (b) {
        struct lrpx_arena_block *next = b->next;
        lrpx__free(b->raw);
        b = next;
    }
    a->head       = NULL;
    a->used_total = 0;
}
