/* CPU-feature probes: the one place that asks the processor what it can
 * do. The probe runs once per process (pthread_once), so kernels on many
 * threads can ask at every call.
 *
 * LRPX_CPU_DISABLE=avx512 (or avx2, which implies avx512 and fma) hides
 * features from the probe, to time or test the narrower kernels on a CPU
 * that has the wider ones. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_internal.h"

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static unsigned       cpu_features;
static atomic_uint    cpu_hidden;      /* lrpx__cpu_hide, tests only */

static void
cpu_probe(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        cpu_features |= LRPX_CPU_AVX2;
    if (__builtin_cpu_supports("fma"))
        cpu_features |= LRPX_CPU_FMA;
    /* __builtin_cpu_supports also checks that the OS enabled the zmm state */
    if (__builtin_cpu_supports("avx512f"))
        cpu_features |= LRPX_CPU_AVX512F;
#endif
    const char *off = getenv("LRPX_CPU_DISABLE");
    if (off && strstr(off, "avx512"))
        cpu_features &= ~(unsigned)LRPX_CPU_AVX512F;
    if (off && strstr(off, "avx2"))
        cpu_features &= ~(unsigned)(LRPX_CPU_AVX2 | LRPX_CPU_FMA | LRPX_CPU_AVX512F);
}

bool
lrpx__cpu_has(unsigned features)
{
    pthread_once(&cpu_once, cpu_probe);
    const unsigned have = cpu_features & ~atomic_load_explicit(&cpu_hidden, memory_order_relaxed);
    return (have & features) == features;
}

void
lrpx__cpu_hide(unsigned features)
{
    atomic_store_explicit(&cpu_hidden, features, memory_order_relaxed);
}
