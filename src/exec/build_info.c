/* What this build of the library is: version, the ONNX opsets it covers,
 * its optional parts and the vector code the CPU gets (lrpx --version). */
#include <pthread.h>
#include <stdio.h>

#include "core/op.h"
#include "util/parallel.h"
#include "lrpx_internal.h"

/* The newest opset of the ONNX backend tests the conformance suite runs
 * (Debian's libonnx-testdata, ONNX 1.12; docs/conformance.md). */
#define LRPX_OPSET_TESTED 17

#define STR2(x) #x
#define STR(x)  STR2(x)

const char *
lrpx_version(void)
{
    return STR(LRPX_VERSION_MAJOR) "." STR(LRPX_VERSION_MINOR) "." STR(LRPX_VERSION_PATCH);
}

int
lrpx_version_number(void)
{
    return LRPX_VERSION_NUMBER;
}

void
lrpx_opset_range(int64_t *lo, int64_t *hi)
{
    int64_t min = LRPX_OPSET_TESTED;
    for (int i = 0; i < LRPX_OP_COUNT; i++)
        if (lrpx__op_table[i]->since_version < min)
            min = lrpx__op_table[i]->since_version;
    if (lo)
        *lo = min;
    if (hi)
        *hi = LRPX_OPSET_TESTED;
}

static pthread_once_t features_once = PTHREAD_ONCE_INIT;
static char           features_text[128];

static void
features_make(void)
{
    /* the widest kernels the run-time dispatch picks on this CPU (after
     * LRPX_CPU_DISABLE) */
    const char *simd = "baseline";
#ifdef LRPX_HAVE_TARGET_CLONES
    if (lrpx__cpu_has(LRPX_CPU_AVX2 | LRPX_CPU_FMA))
        simd = lrpx__cpu_has(LRPX_CPU_AVX512F) ? "avx512f+avx2+fma" : "avx2+fma";
#endif
    snprintf(features_text, sizeof features_text, "%s%ssimd:%s",
             LRPX_HAVE_JPEG ? "jpeg " : "", LRPX_HAVE_PNG ? "png " : "", simd);
}

const char *
lrpx_features(void)
{
    pthread_once(&features_once, features_make);
    return features_text;
}
