/* The one allocation hook. Everything lrpx allocates (protobuf-c included)
 * comes through here, so tests can make the N-th allocation fail and check
 * that every path unwinds with LRPX_ENOMEM and leaks nothing. */
#include <stdlib.h>
#include <string.h>

#include "lrpx_internal.h"

/* The counters are process-wide test hooks; lrpx handles are otherwise
 * independent. They are not atomic: OOM injection is single-threaded. */
static int64_t alloc_count;
static int64_t alloc_fail_at;   /* 0: never */

static bool
alloc_should_fail(void)
{
    alloc_count++;
    return alloc_fail_at > 0 && alloc_count >= alloc_fail_at;
}

void
lrpx__alloc_fail_after(int64_t n)
{
    alloc_count   = 0;
    alloc_fail_at = n;
}

int64_t
lrpx__alloc_count(void)
{
    return alloc_count;
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
