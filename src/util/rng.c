/* A small seeded generator (SplitMix64, Steele, Lea & Flood 2014): the same
 * numbers for a seed on every machine and build, whatever the thread
 * count, because every user owns its state. Not for cryptography. */
#include "lrpx_internal.h"

void
lrpx__rng_seed(struct lrpx_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t
lrpx__rng_next(struct lrpx_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double
lrpx__rng_uniform(struct lrpx_rng *r)
{
    return (double)(lrpx__rng_next(r) >> 11) * 0x1.0p-53;
}
