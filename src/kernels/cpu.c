/*
 * cpu.c - the one kernel selector: choose the instruction set once, from
 * what the CPU and the operating system support, and hand out that ISA's
 * two tables (nn__kernels, nn__train_kernels; kernels.c defines them).
 * Built without ISA flags, so this file itself runs anywhere.
 *
 * Like xxHash's x86 dispatch: CPUID says what the CPU has, XGETBV says
 * whether the OS saves the wider registers (a CPU with AVX-512 under an OS
 * that does not enable it must not run AVX-512 code).  The environment
 * variable NNFS_ARCH=generic|avx2|avx512 caps the choice; it is read once,
 * at the first call that needs kernels.
 */
#include "base/base.h"
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(NNFS_HAVE_X86_KERNELS) && (defined(__x86_64__) || defined(__i386__))
#  include <cpuid.h>
#  define NN__X86 1
#else
#  define NN__X86 0
#endif

enum { NN__ISA_GENERIC = 0, NN__ISA_AVX2 = 1, NN__ISA_AVX512 = 2 };

static int nn__chosen;  /* the ISA in use (NN__ISA_*) */
static int nn__level;   /* highest ISA this machine can run */
static pthread_once_t nn__cpu_once = PTHREAD_ONCE_INIT;

#if NN__X86
static uint64_t nn__xgetbv(void)
{
    uint32_t lo, hi;
    /* the instruction by its bytes' name: no -mxsave needed */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int nn__detect(void)
{
    unsigned a, b, c, d;
    uint64_t xcr0;
    int avx_os, avx512_os, avx2, fma, avx512;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NN__ISA_GENERIC;
    fma = (c >> 12) & 1;
    /* OSXSAVE (bit 27) and AVX (bit 28) before XGETBV may run */
    if (!((c >> 27) & 1) || !((c >> 28) & 1)) return NN__ISA_GENERIC;
    xcr0 = nn__xgetbv();
    avx_os = (xcr0 & 0x6) == 0x6;              /* XMM and YMM state */
    avx512_os = (xcr0 & 0xe6) == 0xe6;         /* + opmask, ZMM halves */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return NN__ISA_GENERIC;
    avx2 = (b >> 5) & 1;
    /* F (16), DQ (17), BW (30), VL (31): what the avx512 build uses */
    avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) &&
             ((b >> 31) & 1);
    if (avx512 && avx2 && fma && avx512_os) return NN__ISA_AVX512;
    if (avx2 && fma && avx_os) return NN__ISA_AVX2;
    return NN__ISA_GENERIC;
}
#endif

static const struct nn__kernels *nn__table(int isa)
{
#if NN__X86
    if (isa == NN__ISA_AVX512) return &nn__kernels_avx512;
    if (isa == NN__ISA_AVX2) return &nn__kernels_avx2;
#endif
    (void)isa;
    return &nn__kernels_generic;
}

static void nn__cpu_init(void)
{
    const char *cap = getenv("NNFS_ARCH");
    int level = NN__ISA_GENERIC;
#if NN__X86
    level = nn__detect();
#endif
    nn__level = level;
    if (cap != NULL) {
        if (strcmp(cap, "generic") == 0) level = NN__ISA_GENERIC;
        else if (strcmp(cap, "avx2") == 0 && level > NN__ISA_AVX2)
            level = NN__ISA_AVX2;
        /* "avx512" or anything else: no cap beyond the machine's */
    }
    nn__chosen = level;
}

static const struct nn__train_kernels *nn__train_table(int isa)
{
#if NN__X86
    if (isa == NN__ISA_AVX512) return &nn__train_kernels_avx512;
    if (isa == NN__ISA_AVX2) return &nn__train_kernels_avx2;
#endif
    (void)isa;
    return &nn__train_kernels_generic;
}

const struct nn__kernels *nn__kernels(void)
{
    pthread_once(&nn__cpu_once, nn__cpu_init);
    return nn__table(nn__chosen);
}

const struct nn__train_kernels *nn__train_kernels(void)
{
    pthread_once(&nn__cpu_once, nn__cpu_init);
    return nn__train_table(nn__chosen);
}

const struct nn__kernels *nn__kernels_for(int isa)
{
    pthread_once(&nn__cpu_once, nn__cpu_init);
    if (isa < NN__ISA_GENERIC || isa > nn__level) return NULL;
    return nn__table(isa);
}

const char *nn__kernels_built(void)
{
#if NN__X86
    return "generic avx2 avx512";
#else
    return "generic";
#endif
}
