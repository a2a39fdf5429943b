/*
 * blas.c - which CBLAS is linked, its kernel core, and its thread count.
 *
 * Each BLAS has its own calls for these (OpenBLAS, BLIS, MKL), so they are
 * weak references: the one that is linked resolves, the others stay NULL.
 * This works however libnnfs is loaded (also dlopen RTLD_LOCAL from
 * Python), since libnnfs's own references are resolved through its own
 * dependencies.  cblas.h is not included here (dense.c owns it).
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NN__WEAK __attribute__((weak))

/* OpenBLAS */
extern char *openblas_get_config(void) NN__WEAK;
extern char *openblas_get_corename(void) NN__WEAK;
extern void openblas_set_num_threads(int n) NN__WEAK;
extern int openblas_get_num_threads(void) NN__WEAK;
/* BLIS */
extern const char *bli_info_get_version_str(void) NN__WEAK;
extern void bli_thread_set_num_threads(long n) NN__WEAK;
extern long bli_thread_get_num_threads(void) NN__WEAK;
/* Intel MKL */
extern void MKL_Set_Num_Threads(int n) NN__WEAK;
extern int MKL_Get_Max_Threads(void) NN__WEAK;

static pthread_once_t nn__blas_once = PTHREAD_ONCE_INIT;
static char nn__blas_name_buf[96];
static char nn__blas_core_buf[48];

static void nn__blas_describe(void)
{
    if (openblas_get_config != NULL) {
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
    } else if (bli_info_get_version_str != NULL) {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "BLIS %s",
                 bli_info_get_version_str());
    } else if (MKL_Get_Max_Threads != NULL) {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "Intel MKL");
    } else {
        snprintf(nn__blas_name_buf, sizeof nn__blas_name_buf, "CBLAS");
    }
    nn__blas_core_buf[0] = '\0';
    if (openblas_get_corename != NULL)
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

int nn__blas_set_threads(int n)
{
    if (openblas_set_num_threads != NULL) {
        openblas_set_num_threads(n);
        return 0;
    }
    if (bli_thread_set_num_threads != NULL) {
        bli_thread_set_num_threads((long)n);
        return 0;
    }
    if (MKL_Set_Num_Threads != NULL) {
        MKL_Set_Num_Threads(n);
        return 0;
    }
    return -1;
}

int nn__blas_get_threads(void)
{
    if (openblas_get_num_threads != NULL) return openblas_get_num_threads();
    if (bli_thread_get_num_threads != NULL)
        return (int)bli_thread_get_num_threads();
    if (MKL_Get_Max_Threads != NULL) return MKL_Get_Max_Threads();
    return 0;
}

int nn_set_num_threads(int n)
{
    NN__CHECK(n < 1, NN_ERR_INVALID_ARG,
              "nn_set_num_threads: n = %d, must be at least 1", n);
    NN__CHECK(nn__blas_set_threads(n) != 0, NN_ERR_UNSUPPORTED,
              "nn_set_num_threads: %s offers no way to set its thread count",
              nn__blas_name());
    return NN_OK;
}

int nn_get_num_threads(void)
{
    return nn__blas_get_threads();
}

#define NN__STR2(x) #x
#define NN__STR(x) NN__STR2(x)

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
    default: return NULL;
    }
}
