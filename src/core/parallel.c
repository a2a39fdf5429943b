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
#include "kernels/kernels.h"
#include "core.h"
#include "parallel.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define NN__PAUSE() _mm_pause()
#else
#  define NN__PAUSE() ((void)0)
#endif

/* Polls before sleeping (a pause is ~10-40 ns on current x86 cores);
   NNFS_SPIN overrides, read when the pool starts.  Longer spins did not
   help on the loaded 2-core host (bench_train --modes --adam, W2). */
static unsigned nn__spin = 2000;
#define NN__SPIN nn__spin

/*====== Settings ======*/

static atomic_int nn__threads;          /* 0: never set (use the BLAS's) */
static atomic_int nn__mode = NN_PARALLEL_AUTO;
static atomic_int nn__blas_now = -1;    /* what we last gave the BLAS */
/* the last nn__par_rows chose replicas: under AUTO only then is the
   update split (its worker is awake; after a one-thread step it sleeps,
   and after one on the BLAS's threads those still spin, THREAD_TIMEOUT) */
static atomic_int nn__chose_rep;

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
    if (n > 1) atomic_store(&nn__chose_rep, 0);
    if (atomic_exchange(&nn__blas_now, n) != n) (void)nn__blas_set_threads(n);
}

int nn_set_num_threads(int n)
{
    NN__CHECK(n < 1, NN_ERR_INVALID_ARG,
              "nn_set_num_threads: n = %d, must be at least 1", n);
    NN__CHECK(!nn__blas_can_set_threads(), NN_ERR_UNSUPPORTED,
              "nn_set_num_threads: %s offers no way to set its thread count",
              nn__blas_name());
    (void)nn__par_threads();   /* the BLAS's count, if never set */
    atomic_store(&nn__threads, n);
    /* Under the BLAS mode the BLAS gets n threads now.  Otherwise the
       next call that uses the BLAS's threads gives them (nn__par_rows):
       every openblas_set_num_threads wakes OpenBLAS's idle threads, which
       then spin for its THREAD_TIMEOUT (~0.1 s) on the core the replicas
       need, so it is called only when the count really changes. */
    if (atomic_load(&nn__mode) == NN_PARALLEL_BLAS) nn__blas_want(n);
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
   OpenBLAS 0.3.21 Cooperlake kernels, 2026-12-05, interleaved rounds on a
   machine shared with other builds (README, "Training on several cores
   and machines"): with the fused SGD step, 2 replicas took 0.56-0.62x of
   one thread's step on W2 (784-128-10, batch 128: 13M multiply-adds in
   the forward) against 0.63-0.70x for OpenBLAS's 2 threads; W4
   (64-256x4-10, batch 64, 14M) 0.65x against 0.64x; the spiral W1
   (2-64-3, batch 300, 0.1M) 1.28x, slower, against 1.0x for either
   other choice; W3 (1024-4096-4096-1024, batch 256, 6.4G) 0.57x against
   0.53x for OpenBLAS, whose own split of products that large is the
   better one.  Hence: one thread below 2^20 multiply-adds; the BLAS's
   threads from 2^31 (and for products of 2^26 or more whose batch is too
   thin to split: below NN__MIN_ROWS rows per worker the blocks are too
   thin for the GEMM kernels); replicas between.  NN__MIN_ROWS was 8
   until the combined benchmark (bench_mpi --modes, 18:26-18:31 UTC,
   capacity 1.4-1.8 cores) gave W4, 32 rows per replica, 0.95-1.06 with
   replicas over four runs (BLAS 2 threads 1.05-1.23) while W2, 64 rows
   per replica, gained (0.71-1.03, default 0.62-1.00): below 64 rows a
   replica there is no reliable gain, and the default must not be slower
   than one thread. */
#define NN__PAR_MIN_WORK ((double)(1u << 20))
#define NN__BLAS_MIN_WORK ((double)(1u << 26))
#define NN__BLAS_BIG_WORK ((double)(1u << 31))
#define NN__MIN_ROWS 64u
/* The optimizer update is memory-bound and short (W2's Adam update: 32 us
   on one thread, 18 us split in two when the other core was free).  When
   a dispatch waited for every worker, one whose worker had to be woken
   cost 250-320 us on a loaded host, and only updates of 2^20 parameters
   were split; since the caller runs the tasks no worker has claimed, a
   sleeping worker costs the caller a wake-up call, and splitting from
   2^15 keeps the worker warm between the backward and the next forward
   (bench_mpi --modes --adam, W2: default 0.87-0.92 of one thread). */
#define NN__PAR_MIN_ELEMS ((size_t)1 << 15)

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
        } else if (work >= NN__BLAS_BIG_WORK) {
            nn__blas_want((int)nn__par_threads());
            return 1;
        } else if (batch < (size_t)t * NN__MIN_ROWS) {
            if (work >= NN__BLAS_MIN_WORK) {
                nn__blas_want((int)nn__par_threads());
                return 1;
            }
            n = 1;
        }
    }
    nn__blas_want(1);
    atomic_store(&nn__chose_rep, n > 1);
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
    int mode = atomic_load(&nn__mode);
    if (mode == NN_PARALLEL_BLAS || t == 1 || count < t) return 1;
    if (mode == NN_PARALLEL_AUTO &&
        (count < NN__PAR_MIN_ELEMS || !atomic_load(&nn__chose_rep)))
        return 1;
    return t;
}

/*====== Pool ======*/

/* A dispatch is up to two phases of n tasks each, (phase, t) with
   t = 0..n-1; phase 2's tasks start when all of phase 1's are done.  Any
   thread of the pool, and the caller, claims the next task with one
   compare-and-swap on `claim` (the dispatch's generation in the high 32
   bits, its task count in the next 16 and the next task in the low 16:
   the count is read with the generation, never a stale one beside a new
   generation, or the next dispatch's beside the last), so a worker that
   is asleep or not scheduled when the dispatch starts does not hold it
   up: the caller runs the tasks nobody has claimed.  Each task computes the same thing
   whichever thread runs it (the partition is by task, not by thread), so
   a thread count gives the same bits however the tasks are shared out;
   the caller waits only for tasks already claimed. */
static struct {
    pthread_t th[NN__PAR_MAX];
    unsigned n_th;           /* pool threads running */
    atomic_ullong claim;     /* gen << 32 | tasks << 16 | next task */
    atomic_uint done[2];     /* tasks finished, per phase */
    int sleepers;
    atomic_int quit;
    nn__par_fn fn[2];
    void *ctx;
    unsigned n;              /* tasks a phase (tasks = n x phases) */
} nn__pool;
/* one dispatch at a time; m guards the sleeper count and the condvar */
static pthread_mutex_t nn__pool_run = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nn__pool_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nn__pool_wake = PTHREAD_COND_INITIALIZER;

#define NN__GEN(v) ((unsigned)((v) >> 32))
#define NN__TASKS(v) ((unsigned)(((v) >> 16) & 0xffffu))
#define NN__TASK(v) ((unsigned)((v) & 0xffffu))

/* Wait (spin, then yield) until `count` reaches `want`: the tasks waited
   for are running on threads that claimed them. */
static void nn__pool_wait(atomic_uint *count, unsigned want)
{
    unsigned i = 0;
    while (atomic_load_explicit(count, memory_order_acquire) < want) {
        if (++i < NN__SPIN) NN__PAUSE();
        else sched_yield();
    }
}

/* Claim and run the tasks of generation gen until none is left; the
   claim word v was read by the caller. */
static void nn__pool_work(unsigned gen, unsigned long long v)
{
    for (;;) {
        unsigned task = NN__TASK(v), n, ph;
        if (NN__GEN(v) != gen || task >= NN__TASKS(v)) return;
        if (!atomic_compare_exchange_weak_explicit(
                &nn__pool.claim, &v, v + 1, memory_order_acq_rel,
                memory_order_acquire))
            continue;   /* v now holds the current word */
        /* claimed: the dispatch cannot end before this task is done, so
           its fn, ctx and n are stable */
        n = nn__pool.n;
        ph = task / n;
        if (ph == 1) nn__pool_wait(&nn__pool.done[0], n);
        nn__pool.fn[ph](nn__pool.ctx, task % n, n);
        atomic_fetch_add_explicit(&nn__pool.done[ph], 1,
                                  memory_order_release);
        v = atomic_load_explicit(&nn__pool.claim, memory_order_acquire);
    }
}

static void *nn__worker(void *arg)
{
    unsigned seen = (unsigned)(uintptr_t)arg;   /* the gen at creation */
    for (;;) {
        unsigned long long v;
        unsigned i;
        for (i = 0; i < NN__SPIN; i++) {
            v = atomic_load_explicit(&nn__pool.claim, memory_order_acquire);
            if (NN__GEN(v) != seen) break;
            NN__PAUSE();
        }
        if (i == NN__SPIN) {
            pthread_mutex_lock(&nn__pool_m);
            while (NN__GEN(atomic_load(&nn__pool.claim)) == seen &&
                   !atomic_load(&nn__pool.quit)) {
                nn__pool.sleepers++;
                pthread_cond_wait(&nn__pool_wake, &nn__pool_m);
                nn__pool.sleepers--;
            }
            pthread_mutex_unlock(&nn__pool_m);
        }
        if (atomic_load(&nn__pool.quit)) return NULL;
        v = atomic_load_explicit(&nn__pool.claim, memory_order_acquire);
        seen = NN__GEN(v);
        nn__pool_work(seen, v);
    }
}

/* Have at least want - 1 pool threads (under nn__pool_run).  Fewer, if
   the system refuses one, changes nothing but the speed: the caller runs
   the tasks nobody claims. */
static void nn__pool_grow(unsigned want)
{
    if (nn__pool.n_th == 0 && getenv("NNFS_SPIN") != NULL)
        nn__spin = (unsigned)atoi(getenv("NNFS_SPIN"));
    while (nn__pool.n_th + 1 < want) {
        uintptr_t gen = NN__GEN(atomic_load(&nn__pool.claim));
        if (pthread_create(&nn__pool.th[nn__pool.n_th], NULL, nn__worker,
                           (void *)gen) != 0)
            break;
        nn__pool.n_th++;
    }
}

static void nn__pool_dispatch(unsigned n, nn__par_fn fn1, nn__par_fn fn2,
                              void *ctx)
{
    unsigned long long v;
    unsigned gen;
    pthread_mutex_lock(&nn__pool_run);
    nn__pool_grow(n);
    nn__pool.fn[0] = fn1;
    nn__pool.fn[1] = fn2;
    nn__pool.ctx = ctx;
    nn__pool.n = n;
    atomic_store(&nn__pool.done[0], 0);
    atomic_store(&nn__pool.done[1], 0);
    gen = NN__GEN(atomic_load(&nn__pool.claim)) + 1;
    v = (unsigned long long)gen << 32 |
        (unsigned long long)(fn2 != NULL ? 2 * n : n) << 16;
    pthread_mutex_lock(&nn__pool_m);
    atomic_store_explicit(&nn__pool.claim, v, memory_order_release);
    if (nn__pool.sleepers > 0) pthread_cond_broadcast(&nn__pool_wake);
    pthread_mutex_unlock(&nn__pool_m);

    nn__pool_work(gen, v);
    /* everything is claimed: wait for the tasks others run */
    nn__pool_wait(&nn__pool.done[0], n);
    if (fn2 != NULL) nn__pool_wait(&nn__pool.done[1], n);
    pthread_mutex_unlock(&nn__pool_run);
}

void nn__par_run(unsigned n, nn__par_fn fn, void *ctx)
{
    nn__pool_dispatch(n, fn, NULL, ctx);
}

void nn__par_run2(unsigned n, nn__par_fn fn1, nn__par_fn fn2, void *ctx)
{
    nn__pool_dispatch(n, fn1, fn2, ctx);
}

/* Stop the pool when the library is unloaded (dlclose), so no thread
   runs code that is gone. */
__attribute__((destructor)) static void nn__pool_stop(void)
{
    unsigned i;
    if (pthread_mutex_trylock(&nn__pool_run) != 0) return;
    pthread_mutex_lock(&nn__pool_m);
    atomic_store(&nn__pool.quit, 1);
    atomic_fetch_add(&nn__pool.claim, 1ull << 32);   /* wake the spinners */
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
    size_t pf = (size_t)(n - 1) * 2 * NN__PREDICT_ROWS * net->width_max;
    if (net->par != NULL && net->par->workers >= n) return NULL;
    p = nn__malloc(sizeof *p + NN__ALIGN + (dbf + pf) * sizeof(float) +
                   mm * sizeof(uint32_t));
    if (p == NULL) return NULL;
    p->workers = n;
    p->db = (float *)(void *)((unsigned char *)p + NN__ALIGN);
    p->pred = p->db + dbf;
    p->m = (uint32_t *)(void *)(p->pred + pf);
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

/*====== The gradient block (replicas across processes) ======*/

int nn_net_get_grad_block(const nn_net *net, float *dst, size_t n)
{
    static const char fn[] = "nn_net_get_grad_block";
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK(dst == NULL, NN_ERR_INVALID_ARG, "%s: dst is NULL", fn);
    NN__CHECK(n != net->n_params, NN_ERR_SHAPE, "%s: n = %zu, the net has "
              "%zu parameters", fn, n, net->n_params);
    NN__CHECK(!net->has_grads, NN_ERR_STATE,
              "%s: no nn_backward has succeeded on this net yet", fn);
    memcpy(dst, net->grads, n * sizeof(float));
    return NN_OK;
}

int nn_net_set_grad_block(nn_net *net, const float *src, size_t n)
{
    static const char fn[] = "nn_net_set_grad_block";
    const struct nn__kernels *k = nn__kernels();
    size_t i, j;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK(src == NULL, NN_ERR_INVALID_ARG, "%s: src is NULL", fn);
    NN__CHECK(n != net->n_params, NN_ERR_SHAPE, "%s: n = %zu, the net has "
              "%zu parameters", fn, n, net->n_params);
    if (k->amax(src, n) >= NN__NONFINITE_BITS) {
        for (j = 0; j < n && isfinite(src[j]); j++) continue;
        return nn__fail(NN_ERR_NONFINITE, "%s: src[%zu] is %s", fn, j,
                        j < n && isnan(src[j]) ? "NaN" : "infinite");
    }
    memcpy(net->grads, src, n * sizeof(float));
    /* the optimizers' overflow proofs need a bound on each layer's
       gradient: here the exact maximum */
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->gbound = (double)nn__amax_to_float(
            k->amax(l->dw, l->n_in * l->n_out + l->n_out));
    }
    net->has_grads = 1;
    return NN_OK;
}
