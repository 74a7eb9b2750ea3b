/* CPU-feature probes: the one place that asks the processor what it can
 * do. The probe runs once per process (pthread_once), so kernels on many
 * threads can ask at every call. */
#include <pthread.h>

#include "lrpx_internal.h"

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static unsigned       cpu_features;

static void
cpu_probe(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        cpu_features |= LRPX_CPU_AVX2;
    if (__builtin_cpu_supports("fma"))
        cpu_features |= LRPX_CPU_FMA;
#endif
}

bool
lrpx__cpu_has(unsigned features)
{
    pthread_once(&cpu_once, cpu_probe);
    return (cpu_features & features) == features;
}
