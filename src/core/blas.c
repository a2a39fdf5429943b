/*
 * blas.c - which CBLAS is linked, its kernel core, and its thread count.
 *
 * Each BLAS has its own calls for these (OpenBLAS, BLIS, MKL), so they are
 * weak references: the one that is linked resolves, the others stay NULL.
 * This works however libnnfs is loaded (also dlopen RTLD_LOCAL from
 * Python), since libnnfs's own references are resolved through its own
 * dependencies.  cblas.h is not included here (dense.c owns it).
 *
 * More than one may be loaded: with NNFS_BLAS=BLIS on Debian, LAPACKE
 * brings in OpenBLAS too (through liblapack.so.3).  The one whose calls
 * are used is the one that provides cblas_sgemm to libnnfs, found with
 * dladdr and dlsym; if that cannot be told, the first present in the
 * order OpenBLAS, BLIS, MKL.  A thread count is given to all present.
 */
#define _GNU_SOURCE 1   /* dladdr */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NN__WEAK __attribute__((weak))

/* OpenBLAS */
extern char *openblas_get_config(void) NN__WEAK;
extern char *openblas_get_corename(void) NN__WEAK;
extern void openblas_set_num_threads(int n) NN__WEAK;
extern int openblas_get_num_threads(void) NN__WEAK;
/* OpenBLAS built with DYNAMIC_ARCH: its core table and (re)selection */
extern void *gotoblas NN__WEAK;
extern void gotoblas_dynamic_init(void) NN__WEAK;
extern void gotoblas_dynamic_quit(void) NN__WEAK;
/* BLIS */
extern const char *bli_info_get_version_str(void) NN__WEAK;
extern void bli_thread_set_num_threads(long n) NN__WEAK;
extern long bli_thread_get_num_threads(void) NN__WEAK;
extern int bli_arch_query_id(void) NN__WEAK;
extern const char *bli_arch_string(int id) NN__WEAK;
/* Intel MKL */
extern void MKL_Set_Num_Threads(int n) NN__WEAK;
extern int MKL_Get_Max_Threads(void) NN__WEAK;

enum { NN__BLAS_UNKNOWN, NN__BLAS_OPENBLAS, NN__BLAS_BLIS, NN__BLAS_MKL };
static int nn__blas_kind = NN__BLAS_UNKNOWN;
static pthread_once_t nn__kind_once = PTHREAD_ONCE_INIT;

/* The load address of the object that defines function f (NULL if f is
   absent or dladdr cannot tell). */
static const void *nn__object_of(uintptr_t f)
{
    Dl_info d;
    if (f == 0 || dladdr((const void *)f, &d) == 0) return NULL;
    return d.dli_fbase;
}

/* Which BLAS provides cblas_sgemm.  First by name lookup from the
   providing object, which also searches its dependencies (Debian's
   openblas-pthread/libblas.so.3 is a wrapper over libopenblas.so.0);
   then by comparing the objects that define the markers with it (a BLAS
   linked into the executable). */
static void nn__blas_identify(void)
{
    const struct {
        const char *name;
        uintptr_t addr;   /* 0 when absent */
        int kind;
    } m[3] = {
        {"openblas_get_config", (uintptr_t)openblas_get_config,
         NN__BLAS_OPENBLAS},
        {"bli_info_get_version_str", (uintptr_t)bli_info_get_version_str,
         NN__BLAS_BLIS},
        {"MKL_Get_Max_Threads", (uintptr_t)MKL_Get_Max_Threads,
         NN__BLAS_MKL}};
    uintptr_t sg = nn__sgemm_address();
    const void *prov = nn__object_of(sg);
    Dl_info d;
    int i;
    if (prov == NULL) return;
    if (dladdr((const void *)sg, &d) != 0 && d.dli_fname != NULL) {
        void *h = dlopen(d.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
        if (h != NULL) {
            for (i = 0; i < 3 && nn__blas_kind == NN__BLAS_UNKNOWN; i++)
                if (dlsym(h, m[i].name) != NULL) nn__blas_kind = m[i].kind;
            dlclose(h);   /* (RTLD_NOLOAD took a reference) */
            if (nn__blas_kind != NN__BLAS_UNKNOWN) return;
        }
    }
    for (i = 0; i < 3 && nn__blas_kind == NN__BLAS_UNKNOWN; i++)
        if (nn__object_of(m[i].addr) == prov) nn__blas_kind = m[i].kind;
}

/* Whether to use the calls of BLAS `kind`, present (have != 0): it is
   the provider of cblas_sgemm, or the provider is unknown and no BLAS
   before it in the order OpenBLAS, BLIS, MKL is present. */
static int nn__blas_use(int kind, int have)
{
    pthread_once(&nn__kind_once, nn__blas_identify);
    if (!have) return 0;
    if (nn__blas_kind != NN__BLAS_UNKNOWN) return nn__blas_kind == kind;
    switch (kind) {
    case NN__BLAS_OPENBLAS: return 1;
    case NN__BLAS_BLIS: return openblas_get_config == NULL;
    default:
        return openblas_get_config == NULL &&
               bli_info_get_version_str == NULL;
    }
}
#define NN__USE_OPENBLAS(f) nn__blas_use(NN__BLAS_OPENBLAS, (f) != NULL)
#define NN__USE_BLIS(f) nn__blas_use(NN__BLAS_BLIS, (f) != NULL)
#define NN__USE_MKL(f) nn__blas_use(NN__BLAS_MKL, (f) != NULL)

/*====== Choosing OpenBLAS's core ======*/

/* OpenBLAS 0.3.21 (Debian's) picks its Haswell kernels on AMD Zen 4/5,
   although those CPUs run the AVX-512 kernels it has for Intel (SkylakeX,
   Cooperlake) about 1.8x faster for sgemm.  When libnnfs is loaded (after
   OpenBLAS has initialised itself, since it is our dependency) and the
   BLAS is such a DYNAMIC_ARCH OpenBLAS on a Haswell or Zen core of a CPU
   whose CPU and operating system support AVX-512 F/DQ/BW/VL, we ask
   OpenBLAS to choose again with OPENBLAS_CORETYPE set to the best AVX-512
   core (Cooperlake with AVX512_BF16, else SkylakeX): gotoblas_dynamic_quit
   then gotoblas_dynamic_init, the same calls OpenBLAS makes itself at
   load and unload.  The environment variable is set only for the
   duration of that call and then restored.
     NNFS_BLAS_CORE unset or "auto": the upgrade above, whatever made
       OpenBLAS choose Haswell or Zen (its detection, or an
       OPENBLAS_CORETYPE=Haswell set for the whole machine, as on the
       project's build hosts);
     NNFS_BLAS_CORE=keep: never touch the BLAS's choice;
     NNFS_BLAS_CORE=<name>: ask OpenBLAS for that core (e.g. SkylakeX).
   The outcome is reported by nn_info(NN_INFO_BLAS_CORE_CHOICE). */
static char nn__core_choice[160] = "not applicable";

#if defined(NNFS_HAVE_X86_KERNELS) && defined(__GNUC__)
#include <cpuid.h>
/* 2: AVX-512 with BF16, 1: AVX-512 F/DQ/BW/VL usable, 0: neither */
static int nn__avx512_level(void)
{
    unsigned a, b, c, d, xlo, xhi;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return 0;
    if (!((c >> 27) & 1)) return 0;   /* OSXSAVE */
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 0xe6) != 0xe6) return 0;   /* XMM, YMM, opmask, ZMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) &&
          ((b >> 31) & 1)))
        return 0;
    if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 5) & 1))
        return 2;
    return 1;
}
#else
static int nn__avx512_level(void) { return 0; }
#endif

static void nn__reselect_core(const char *want, const char *why)
{
    char before[48], saved[64];
    const char *after, *prev = getenv("OPENBLAS_CORETYPE");
    int had = prev != NULL && strlen(prev) < sizeof saved;
    if (had) snprintf(saved, sizeof saved, "%s", prev);
    snprintf(before, sizeof before, "%s", openblas_get_corename());
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0) {
        snprintf(nn__core_choice, sizeof nn__core_choice,
                 "kept %s (setenv failed)", before);
        return;
    }
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    if (had) setenv("OPENBLAS_CORETYPE", saved, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    after = openblas_get_corename();
    snprintf(nn__core_choice, sizeof nn__core_choice, "%s -> %s (%s)%s%s",
             before, after, why,
             strcasecmp(after, want) == 0 ? "" : "; OpenBLAS does not know ",
             strcasecmp(after, want) == 0 ? "" : want);
}

__attribute__((constructor)) static void nn__blas_pick_core(void)
{
    const char *env = getenv("NNFS_BLAS_CORE"), *core;
    int level;
    if (!NN__USE_OPENBLAS(openblas_get_corename) ||
        gotoblas_dynamic_init == NULL || gotoblas_dynamic_quit == NULL ||
        &gotoblas == NULL)
        return;   /* not a DYNAMIC_ARCH OpenBLAS doing the products */
    core = openblas_get_corename();
    if (env != NULL && strcmp(env, "keep") == 0) {
        snprintf(nn__core_choice, sizeof nn__core_choice,
                 "kept %s (NNFS_BLAS_CORE=keep)", core);
        return;
    }
    if (env != NULL && env[0] != '\0' && strcmp(env, "auto") != 0) {
        nn__reselect_core(env, "NNFS_BLAS_CORE");
        return;
    }
    level = nn__avx512_level();
    if (level == 0 || (strcasecmp(core, "Haswell") != 0 &&
                       strcasecmp(core, "Zen") != 0)) {
        snprintf(nn__core_choice, sizeof nn__core_choice, "kept %s", core);
        return;
    }
    nn__reselect_core(level == 2 ? "Cooperlake" : "SkylakeX",
                      "AVX-512 available");
}

const char *nn__blas_core_choice(void)
{
    return nn__core_choice;
}

static pthread_once_t nn__blas_once = PTHREAD_ONCE_INIT;
static char nn__blas_name_buf[96];
static char nn__blas_core_buf[48];

static void nn__blas_describe(void)
{
    if (NN__USE_OPENBLAS(openblas_get_config)) {
        /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": keep two words */
        const char *cfg = openblas_get_config();
        size_t n = 0;
        int words = 0;
        while (cfg[n] != '\0' && n + 1 < sizeof nn__blas_name_buf) {
            if (cfg[n] == ' ' && ++words == 2) break;
            n++;
        }
        memcpy(nn__blas_name_buf, cfg, n);
        nn__blas_name_buf[n] = '\0';
    } else if (NN__USE_BLIS(bli_info_get_version_str)) {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "BLIS %s",
                 bli_info_get_version_str());
    } else if (NN__USE_MKL(MKL_Get_Max_Threads)) {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "Intel MKL");
    } else {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "CBLAS");
    }
    nn__blas_core_buf[0] = '\0';
    if (NN__USE_BLIS(bli_info_get_version_str) &&
        bli_arch_query_id != NULL && bli_arch_string != NULL)
        /* the sub-configuration BLIS chose, e.g. "zen3" */
        snprintf(nn__blas_core_buf, sizeof nn__blas_core_buf, "%s",
                 bli_arch_string(bli_arch_query_id()));
    if (NN__USE_OPENBLAS(openblas_get_corename))
        snprintf(nn__blas_core_buf, sizeof nn__blas_core_buf, "%s",
                 openblas_get_corename());
}

const char *nn__blas_name(void)
{
    pthread_once(&nn__blas_once, nn__blas_describe);
    return nn__blas_name_buf;
}

const char *nn__blas_core(void)
{
    pthread_once(&nn__blas_once, nn__blas_describe);
    return nn__blas_core_buf;
}

/* Sets every BLAS present (one doing the products, another serving
   LAPACKE); succeeds when the one doing the products was among them. */
int nn__blas_set_threads(int n)
{
    int ok = -1;
    if (openblas_set_num_threads != NULL) {
        openblas_set_num_threads(n);
        if (NN__USE_OPENBLAS(openblas_set_num_threads)) ok = 0;
    }
    if (bli_thread_set_num_threads != NULL) {
        bli_thread_set_num_threads((long)n);
        if (NN__USE_BLIS(bli_thread_set_num_threads)) ok = 0;
    }
    if (MKL_Set_Num_Threads != NULL) {
        MKL_Set_Num_Threads(n);
        if (NN__USE_MKL(MKL_Set_Num_Threads)) ok = 0;
    }
    return ok;
}

int nn__blas_can_set_threads(void)
{
    return NN__USE_OPENBLAS(openblas_set_num_threads) ||
           NN__USE_BLIS(bli_thread_set_num_threads) ||
           NN__USE_MKL(MKL_Set_Num_Threads);
}

int nn__blas_get_threads(void)
{
    if (NN__USE_OPENBLAS(openblas_get_num_threads))
        return openblas_get_num_threads();
    if (NN__USE_BLIS(bli_thread_get_num_threads))
        return (int)bli_thread_get_num_threads();
    if (NN__USE_MKL(MKL_Get_Max_Threads)) return MKL_Get_Max_Threads();
    return 0;
}

/* nn_set_num_threads and nn_get_num_threads: parallel.c (the count is
   also the number of in-process replicas). */

const char *nn_version(void)
{
    return NN__STR(NN_VERSION_MAJOR) "." NN__STR(NN_VERSION_MINOR) "."
           NN__STR(NN_VERSION_PATCH);
}

unsigned nn_version_number(void)
{
    return NN_VERSION_NUMBER;
}

const char *nn_info(int32_t key)
{
    switch (key) {
    case NN_INFO_VERSION: return nn_version();
    case NN_INFO_BLAS: return nn__blas_name();
    case NN_INFO_BLAS_CORE: return nn__blas_core();
    case NN_INFO_KERNELS: return nn__kernels()->name;
    case NN_INFO_KERNELS_BUILT: return nn__kernels_built();
    case NN_INFO_BLAS_CORE_CHOICE: return nn__blas_core_choice();
    default: return NULL;
    }
}
