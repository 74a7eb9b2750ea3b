/* Branch-free float32 math that the compiler can vectorise (no calls into
 * libm inside hot loops), for element-wise ops.
 *
 * exp: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 split
 * into a 16-bit head, so n * head is exact, and a tail), exp(r) from its
 * Taylor polynomial to degree 7 (truncation error r^8 / 8! < 6e-9, under
 * half an ulp), times 2^n built in the exponent bits. Within 2 ulp of the
 * correctly rounded result for the argument range below (1.2 ulp at most
 * over every float32 in [-87, 0], checked against double precision while
 * writing it; tests/test_kernels.c sweeps Sigmoid densely). */
#ifndef LRPX_VMATH_IMPL_H
#define LRPX_VMATH_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* c ? a : b as bit operations. A plain ?: whose arms compute something
 * gets turned into a branch (with the default -ftrapping-math the compiler
 * will not speculate the arithmetic), and a branch stops vectorisation. */
static inline float
lrpx__selectf(bool c, float a, float b)
{
    uint32_t ua, ub, m = (uint32_t)0 - (uint32_t)c;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    const uint32_t r = (ua & m) | (ub & ~m);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* exp(x) for x in [-87.6, 0] (callers clamp: below -87.68 the scale 2^n
 * would leave the normal range; results below 2^-126 come out subnormal
 * from the final multiplication). */
static inline float
lrpx__expf_nonpos(float x)
{
    const float log2e   = 1.44269504088896341f;
    const float ln2_hi  = 0.693145751953125f;        /* 0x3f317200 */
    const float ln2_lo  = 1.42860682030941723e-6f;   /* ln 2 - ln2_hi */
    const float shifter = 12582912.0f;               /* 1.5 * 2^23: rounds */
    float n = (x * log2e + shifter) - shifter;       /* round to nearest */
    float r = x - n * ln2_hi;
    r       = r - n * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;          /* 2^n, n in [-126, 0] */
    float   scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* 1 / (1 + exp(-v)), computed from exp(-|v|) so nothing overflows; exactly
 * 0 below -87.6 (the true value is below 9e-39 there) and 1 above 17, NaN
 * for NaN. */
static inline float
lrpx__sigmoidf(float v)
{
    const float a  = fabsf(v);                          /* NaN stays NaN */
    const bool  in = a <= 87.6f;                        /* false for NaN */
    const float e  = lrpx__selectf(in, lrpx__expf_nonpos(-lrpx__selectf(in, a, 87.6f)), 0.0f);
    const float s  = 1.0f / (1.0f + e);
    const float y  = lrpx__selectf(v >= 0.0f, s, e * s); /* e / (1 + e)   */
    return lrpx__selectf(v == v, y, v);
}

#endif /* LRPX_VMATH_IMPL_H */
