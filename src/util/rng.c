/* lrpx's one seeded generator: xoshiro256** (Blackman & Vigna 2018) whose
 * state is filled by SplitMix64 (Steele, Lea & Flood 2014) from a seed and
 * two stream numbers. A stream per (seed, a, b) lets every user draw its
 * own numbers (one input, one step, one layer), so results are the same on
 * every machine and build, whatever the thread count or batching. Not for
 * cryptography. */
#include <math.h>

#include "lrpx_internal.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z          = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z          = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void
lrpx__rng_init(struct lrpx_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed ^ splitmix64(&(uint64_t){a * 0xD1B54A32D192ED03ull + b});
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
lrpx__rng_next(struct lrpx_rng *r)
{
    uint64_t *s = r->s;
    uint64_t  v = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return v;
}

double
lrpx__rng_uniform(struct lrpx_rng *r)
{
    return (double)(lrpx__rng_next(r) >> 11) * 0x1.0p-53;
}

double
lrpx__rng_normal(struct lrpx_rng *r)
{
    double u1 = ((double)(lrpx__rng_next(r) >> 11) + 1.0) * 0x1.0p-53;   /* (0, 1] */
    double u2 = lrpx__rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
