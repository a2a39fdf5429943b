/*
 * parallel.c - the worker pool behind in-process replicas, the thread
 * count and mode settings, and the policy that picks, per call, between
 * one thread, the BLAS's own threads and replicas.
 *
 * Why a pool of our own and not the BLAS's threads: the products of
 * typical layers (batch 64-300, widths 10-800) are too small for OpenBLAS
 * to split well, and the element-wise passes around them stay on one
 * core.  Replicas split the batch's rows instead: every pass of a step
 * runs on its row block, each product still one single-threaded
 * cblas_sgemm on the block (issue 15: 0.57x-0.65x of one thread's
 * forward + backward on 2 cores, against 1.0x-1.07x for OpenBLAS's 2
 * threads on W2 and W4).
 *
 * Wake-ups.  Futex wake-ups are slow in this project's VMs (two
 * pthread_barrier_wait per step made a 12 us step 2.35x slower), so a
 * waiter first spins for a bounded time (NN__SPIN polls, about 30-60 us)
 * on an atomic and only then sleeps on a condition variable; a dispatch
 * or barrier release broadcasts only if someone sleeps.  Workers are
 * therefore never spinning while the BLAS's own threads run (the mode
 * that uses those never dispatches, and the spin ends long before).
 */
#include "base/base.h"
#include "core.h"
#include "parallel.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define NN__PAUSE() _mm_pause()
#else
#  define NN__PAUSE() ((void)0)
#endif

/* Polls before sleeping (a pause is ~10-40 ns on current x86 cores). */
#define NN__SPIN 2000

/*====== Settings ======*/

static atomic_int nn__threads;          /* 0: never set (use the BLAS's) */
static atomic_int nn__mode = NN_PARALLEL_AUTO;
static atomic_int nn__blas_now = -1;    /* what we last gave the BLAS */

unsigned nn__par_threads(void)
{
    int t = atomic_load(&nn__threads);
    if (t <= 0) {
        /* first use: the BLAS's own count (OpenBLAS: the cores), the
           count a program that never calls nn_set_num_threads had */
        t = nn__blas_get_threads();
        if (t <= 0) {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            t = c > 0 && c < INT_MAX ? (int)c : 1;
        }
        atomic_store(&nn__threads, t);
        atomic_store(&nn__blas_now, t);
    }
    return (unsigned)t;
}

/* Give the BLAS n threads unless that is already what it has from us. */
static void nn__blas_want(int n)
{
    if (atomic_exchange(&nn__blas_now, n) != n) (void)nn__blas_set_threads(n);
}

int nn_set_num_threads(int n)
{
    NN__CHECK(n < 1, NN_ERR_INVALID_ARG,
              "nn_set_num_threads: n = %d, must be at least 1", n);
    NN__CHECK(nn__blas_set_threads(n) != 0, NN_ERR_UNSUPPORTED,
              "nn_set_num_threads: %s offers no way to set its thread count",
              nn__blas_name());
    atomic_store(&nn__blas_now, n);
    atomic_store(&nn__threads, n);
    return NN_OK;
}

int nn_get_num_threads(void)
{
    return atomic_load(&nn__threads) > 0 ? atomic_load(&nn__threads)
                                         : nn__blas_get_threads();
}

int nn_set_parallel_mode(int32_t mode)
{
    NN__CHECK(mode < NN_PARALLEL_AUTO || mode > NN_PARALLEL_REPLICAS,
              NN_ERR_INVALID_ARG, "nn_set_parallel_mode: mode = %d is not "
              "an NN_PARALLEL_* value", (int)mode);
    (void)nn__par_threads();
    if (mode == NN_PARALLEL_BLAS) nn__blas_want((int)nn__par_threads());
    atomic_store(&nn__mode, (int)mode);
    return NN_OK;
}

int32_t nn_get_parallel_mode(void)
{
    return (int32_t)atomic_load(&nn__mode);
}

/*====== Policy ======*/

/* Measured with bench_train --modes on the 2-core AMD EPYC (Zen 5) host,
   OpenBLAS 0.3.21 Cooperlake kernels, 2026-12-05 (README, "Training on
   several cores and machines"): replicas beat one thread once a step's
   forward holds about 2^20 multiply-adds (W2 784-128-10 batch 128: 13M;
   W4: 14M), while the spiral W1 (2-64-3, batch 300: 0.1M) loses to the
   dispatch and barrier.  Below NN__MIN_ROWS rows per worker the blocks
   are too thin for the GEMM kernels; there the BLAS's own threads are
   used for large products only. */
#define NN__PAR_MIN_WORK ((double)(1u << 20))
#define NN__BLAS_MIN_WORK ((double)(1u << 26))
#define NN__MIN_ROWS 8u
#define NN__PAR_MIN_ELEMS ((size_t)1 << 16)

unsigned nn__par_rows(const nn_net *net, size_t batch)
{
    unsigned t = nn__par_threads(), n;
    int mode = atomic_load(&nn__mode);
    double work = (double)batch * (double)net->n_params;
    if (t > NN__PAR_MAX) t = NN__PAR_MAX;
    if (mode == NN_PARALLEL_BLAS || t == 1) {
        nn__blas_want((int)nn__par_threads());
        return 1;
    }
    n = batch < t ? (unsigned)batch : t;
    if (mode == NN_PARALLEL_AUTO) {
        if (work < NN__PAR_MIN_WORK) {
            n = 1;
        } else if (batch < (size_t)t * NN__MIN_ROWS) {
            if (work >= NN__BLAS_MIN_WORK) {
                nn__blas_want((int)nn__par_threads());
                return 1;
            }
            n = 1;
        }
    }
    nn__blas_want(1);
    return n;
}

unsigned nn__par_reserve_count(void)
{
    unsigned t = nn__par_threads();
    return t < NN__PAR_MAX ? t : NN__PAR_MAX;
}

unsigned nn__par_elems(size_t count)
{
    unsigned t = nn__par_threads();
    if (t > NN__PAR_MAX) t = NN__PAR_MAX;
    if (atomic_load(&nn__mode) == NN_PARALLEL_BLAS || t == 1 ||
        count < NN__PAR_MIN_ELEMS)
        return 1;
    return t;
}

/*====== Pool ======*/

static struct {
    pthread_t th[NN__PAR_MAX];
    unsigned born[NN__PAR_MAX];  /* gen when worker i was created */
    unsigned n_th;           /* pool threads running (workers 1..n_th) */
    atomic_uint gen;         /* dispatch generation */
    atomic_uint pending;     /* workers of this dispatch still running */
    atomic_uint bar_count, bar_gen;
    int sleepers, main_sleeps, bar_sleepers;
    atomic_int quit;
    nn__par_fn fn;
    void *ctx;
    unsigned n;
} nn__pool;
/* one dispatch at a time; m guards the sleeper counts and the condvars */
static pthread_mutex_t nn__pool_run = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nn__pool_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nn__pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t nn__pool_done = PTHREAD_COND_INITIALIZER;
static pthread_cond_t nn__pool_bar = PTHREAD_COND_INITIALIZER;

static void *nn__worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    /* the generation when the thread was made: a dispatch that started
       before this thread first ran is still this thread's to run */
    unsigned seen = nn__pool.born[id];
    for (;;) {
        unsigned i, g;
        for (i = 0; i < NN__SPIN; i++) {
            if (atomic_load_explicit(&nn__pool.gen, memory_order_acquire) !=
                seen)
                break;
            NN__PAUSE();
        }
        if (i == NN__SPIN) {
            pthread_mutex_lock(&nn__pool_m);
            while (atomic_load(&nn__pool.gen) == seen &&
                   !atomic_load(&nn__pool.quit)) {
                nn__pool.sleepers++;
                pthread_cond_wait(&nn__pool_wake, &nn__pool_m);
                nn__pool.sleepers--;
            }
            pthread_mutex_unlock(&nn__pool_m);
        }
        if (atomic_load(&nn__pool.quit)) return NULL;
        g = atomic_load_explicit(&nn__pool.gen, memory_order_acquire);
        seen = g;
        if (id < nn__pool.n) nn__pool.fn(nn__pool.ctx, id, nn__pool.n);
        if (atomic_fetch_sub_explicit(&nn__pool.pending, 1,
                                      memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&nn__pool_m);
            if (nn__pool.main_sleeps) pthread_cond_signal(&nn__pool_done);
            pthread_mutex_unlock(&nn__pool_m);
        }
    }
}

/* Have at least want - 1 pool threads (under nn__pool_run); returns the
   workers available, the caller included. */
static unsigned nn__pool_grow(unsigned want)
{
    while (nn__pool.n_th + 1 < want) {
        nn__pool.born[nn__pool.n_th + 1] = atomic_load(&nn__pool.gen);
        if (pthread_create(&nn__pool.th[nn__pool.n_th], NULL, nn__worker,
                           (void *)(uintptr_t)(nn__pool.n_th + 1)) != 0)
            break;
        nn__pool.n_th++;
    }
    return nn__pool.n_th + 1 < want ? nn__pool.n_th + 1 : want;
}

unsigned nn__par_run(unsigned n, nn__par_fn fn, void *ctx)
{
    unsigned i, have;
    pthread_mutex_lock(&nn__pool_run);
    have = nn__pool_grow(n);
    if (have < n) {
        /* the system refused a thread: the whole batch on this thread
           (a barrier cannot be run by workers taking turns) */
        pthread_mutex_unlock(&nn__pool_run);
        fn(ctx, 0, 1);
        return 1;
    }
    nn__pool.fn = fn;
    nn__pool.ctx = ctx;
    nn__pool.n = n;
    /* every pool thread wakes (those beyond n only count down) */
    atomic_store(&nn__pool.pending, nn__pool.n_th);
    pthread_mutex_lock(&nn__pool_m);
    atomic_fetch_add_explicit(&nn__pool.gen, 1, memory_order_release);
    if (nn__pool.sleepers > 0) pthread_cond_broadcast(&nn__pool_wake);
    pthread_mutex_unlock(&nn__pool_m);

    fn(ctx, 0, n);

    for (i = 0; i < NN__SPIN; i++) {
        if (atomic_load_explicit(&nn__pool.pending, memory_order_acquire) ==
            0)
            break;
        NN__PAUSE();
    }
    if (i == NN__SPIN) {
        pthread_mutex_lock(&nn__pool_m);
        while (atomic_load(&nn__pool.pending) != 0) {
            nn__pool.main_sleeps = 1;
            pthread_cond_wait(&nn__pool_done, &nn__pool_m);
        }
        nn__pool.main_sleeps = 0;
        pthread_mutex_unlock(&nn__pool_m);
    }
    pthread_mutex_unlock(&nn__pool_run);
    return n;
}

void nn__par_barrier(unsigned n)
{
    unsigned g, i;
    if (n <= 1) return;
    g = atomic_load_explicit(&nn__pool.bar_gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&nn__pool.bar_count, 1,
                                  memory_order_acq_rel) == n - 1) {
        atomic_store(&nn__pool.bar_count, 0);
        pthread_mutex_lock(&nn__pool_m);
        atomic_fetch_add_explicit(&nn__pool.bar_gen, 1, memory_order_release);
        if (nn__pool.bar_sleepers > 0) pthread_cond_broadcast(&nn__pool_bar);
        pthread_mutex_unlock(&nn__pool_m);
        return;
    }
    for (i = 0; i < NN__SPIN; i++) {
        if (atomic_load_explicit(&nn__pool.bar_gen, memory_order_acquire) !=
            g)
            return;
        NN__PAUSE();
    }
    pthread_mutex_lock(&nn__pool_m);
    while (atomic_load(&nn__pool.bar_gen) == g) {
        nn__pool.bar_sleepers++;
        pthread_cond_wait(&nn__pool_bar, &nn__pool_m);
        nn__pool.bar_sleepers--;
    }
    pthread_mutex_unlock(&nn__pool_m);
}

/* Stop the pool when the library is unloaded (dlclose), so no thread
   runs code that is gone. */
__attribute__((destructor)) static void nn__pool_stop(void)
{
    unsigned i;
    if (pthread_mutex_trylock(&nn__pool_run) != 0) return;
    pthread_mutex_lock(&nn__pool_m);
    atomic_store(&nn__pool.quit, 1);
    pthread_cond_broadcast(&nn__pool_wake);
    pthread_mutex_unlock(&nn__pool_m);
    for (i = 0; i < nn__pool.n_th; i++) pthread_join(nn__pool.th[i], NULL);
    nn__pool.n_th = 0;
    pthread_mutex_unlock(&nn__pool_run);
}

/*====== Per-net scratch ======*/

struct nn__par_net *nn__par_net_alloc(const nn_net *net, unsigned n)
{
    struct nn__par_net *p;
    size_t dbf = (size_t)n * net->width_sum;
    size_t mm = 4 * net->n_layers * (size_t)n;
    if (net->par != NULL && net->par->workers >= n) return NULL;
    p = nn__malloc(sizeof *p + NN__ALIGN + dbf * sizeof(float) +
                   mm * sizeof(uint32_t));
    if (p == NULL) return NULL;
    p->workers = n;
    p->db = (float *)(void *)((unsigned char *)p + NN__ALIGN);
    p->m = (uint32_t *)(void *)(p->db + dbf);
    return p;
}

void nn__par_net_install(nn_net *net, struct nn__par_net *p)
{
    if (p == NULL) return;
    nn__free(net->par);
    net->par = p;
}

int nn__par_net_reserve(nn_net *net, unsigned n, const char *fn)
{
    struct nn__par_net *p;
    if (net->par != NULL && net->par->workers >= n) return NN_OK;
    p = nn__par_net_alloc(net, n);
    NN__CHECK(p == NULL, NN_ERR_NOMEM, "%s: out of memory for the scratch "
              "of %u replicas", fn, n);
    nn__par_net_install(net, p);
    return NN_OK;
}
