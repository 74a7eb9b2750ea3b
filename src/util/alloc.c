/* The one allocation hook. Everything lrpx allocates (protobuf-c included)
 * comes through here, so tests can make the N-th allocation fail and check
 * that every path unwinds with LRPX_ENOMEM and leaks nothing. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_internal.h"

/* The counters are process-wide test hooks; lrpx handles are otherwise
 * independent. Sessions allocate from many threads at once, so the counters
 * are atomic, and they count only once a test has armed them: a program
 * that never calls lrpx__alloc_fail_after pays one relaxed load per
 * allocation and shares no written cache line between threads. */
static atomic_bool         alloc_armed;
static atomic_int_fast64_t alloc_count;
static atomic_int_fast64_t alloc_fail_at;   /* 0: never */

static bool
alloc_should_fail(void)
{
    if (!atomic_load_explicit(&alloc_armed, memory_order_relaxed))
        return false;
    int64_t n  = (int64_t)atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    int64_t at = (int64_t)atomic_load_explicit(&alloc_fail_at, memory_order_relaxed);
    return at > 0 && n >= at;
}

void
lrpx__alloc_fail_after(int64_t n)
{
    atomic_store_explicit(&alloc_count, 0, memory_order_relaxed);
    atomic_store_explicit(&alloc_fail_at, n, memory_order_relaxed);
    atomic_store_explicit(&alloc_armed, true, memory_order_release);
}

int64_t
lrpx__alloc_count(void)
{
    return (int64_t)atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

void *
lrpx__malloc(size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *
lrpx__calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *
lrpx__realloc(void *p, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void
lrpx__free(void *p)
{
    free(p);
}

char *
lrpx__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char  *d = lrpx__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

bool
lrpx__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

bool
lrpx__mul_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0)
        return false;
    if (a != 0 && b > INT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}
