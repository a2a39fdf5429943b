/*
 * parallel.h - in-process data-parallel replicas (parallel.c, replicas.c).
 *
 * A worker pool created once and reused: pool threads parked on a
 * condition variable (after a short bounded spin, so back-to-back
 * dispatches do not pay a futex wake-up).  A dispatch runs the tasks
 * fn(ctx, t, n), t = 0..n-1, and with nn__par_run2 a second phase of n
 * tasks that starts when the first has finished (the backward's row phase,
 * then its parameter phase); the caller and the pool threads claim the
 * tasks one at a time, so the caller runs those no thread has claimed and
 * a sleeping or descheduled worker never holds a dispatch up.  The result
 * depends on the tasks, not on which thread ran them.  One dispatch at a
 * time in the process: concurrent callers queue on a mutex (a given
 * thread count gives the same bits however calls interleave).
 */
#ifndef NNFS_PARALLEL_H
#define NNFS_PARALLEL_H

#include "base/base.h"
#include "core.h"

#define NN__PAR_MAX 64   /* most workers a dispatch uses */

typedef void (*nn__par_fn)(void *ctx, unsigned t, unsigned n);

/* Run the tasks fn(ctx, t, n) for t = 0..n-1 on the calling thread and
   the pool, and wait for all; n is what nn__par_rows / nn__par_elems
   returned (> 1).  Every task runs (the caller runs those no pool thread
   claims, also when the system refused a thread), so the caller combines
   the tasks' results over n. */
void nn__par_run(unsigned n, nn__par_fn fn, void *ctx);
/* The same with a second phase: fn2(ctx, t, n) for t = 0..n-1 once every
   fn1 task has finished. */
void nn__par_run2(unsigned n, nn__par_fn fn1, nn__par_fn fn2, void *ctx);

/* Workers for a forward or backward of `batch` rows on net: 1 means the
   calling thread alone (the serial code).  Also puts the BLAS at the
   thread count that choice needs (1 under replicas; the set count when
   the BLAS's own threads are chosen).  The policy is described in
   parallel.c and in nn_set_parallel_mode's documentation. */
unsigned nn__par_rows(const nn_net *net, size_t batch);
/* Workers for an element-wise pass over n floats (optimizer update). */
unsigned nn__par_elems(size_t n);
/* The thread count in force (nn_set_num_threads, else the BLAS's). */
unsigned nn__par_threads(void);

/* Worker t's share [*a, *b) of count items split over n workers: the
   first count % n workers get one more. */
static inline void nn__par_split(size_t count, unsigned t, unsigned n,
                                 size_t *a, size_t *b)
{
    size_t q = count / n, r = count % n;
    *a = (size_t)t * q + ((size_t)t < r ? (size_t)t : r);
    *b = *a + q + ((size_t)t < r ? 1 : 0);
}

/*====== Row-block passes of net.c (replicas.c) ======*/

/* A net's replica scratch (net->par), one block: bias partial sums
   [workers][width_sum], nn_predict's scratch, and four tables of per-layer per-worker maxima
   [4][n_layers][workers].  Grown, never shrunk; freed with the net. */
struct nn__par_net {
    unsigned workers;
    float *db;
    uint32_t *m;
    /* nn_predict's scratch for workers 1..workers-1 (worker 0 uses
       net->pred): 2 NN__PREDICT_ROWS x width_max floats each */
    float *pred;
};
/* nn_predict on n replicas; NN_OK, or non-zero (no message) when the
   caller should run the serial code: out of memory for the scratch, or a
   non-finite value met (the serial code then reports it exactly). */
int nn__par_predict(nn_net *net, const float *x, size_t batch, float *out,
                    unsigned n);
/* Make net->par hold n workers (NN_ERR_NOMEM names fn, changes nothing). */
int nn__par_net_reserve(nn_net *net, unsigned n, const char *fn);
/* The two halves, for an all-or-nothing reserve: a new block for n
   workers (NULL if net->par already holds n, or out of memory), and
   putting it in place (NULL: nothing to do). */
struct nn__par_net *nn__par_net_alloc(const nn_net *net, unsigned n);
void nn__par_net_install(nn_net *net, struct nn__par_net *p);
/* Workers to reserve for: the thread count, at most NN__PAR_MAX. */
unsigned nn__par_reserve_count(void);
/* Table k's entry for layer i, worker t (n workers in this dispatch). */
static inline uint32_t *nn__par_m(const nn_net *net, int k, size_t i,
                                  unsigned t, unsigned n)
{
    return net->par->m + ((size_t)k * net->n_layers + i) * n + t;
}
enum { NN__PM_ACT, NN__PM_DROP, NN__PM_DZ, NN__PM_AUX };

struct nn__par_fwd {
    nn_net *net;
    const float *x;
    const size_t *rows;   /* NULL: x is the batch itself */
    size_t batch;
    int s;                /* cache slot */
    uint32_t xmax[NN__PAR_MAX];
};
/* The forward of slot s over worker t's rows (masks already drawn):
   maxima in tables NN__PM_ACT and NN__PM_DROP. */
void nn__par_forward_fn(void *ctx, unsigned t, unsigned n);

struct nn__par_bwd {
    nn_net *net;
    int s;
    size_t batch;
    int32_t loss;
    const float *targets;
    const int32_t *labels;
    const float *fused_lr;     /* NULL: store the gradients */
    double value[NN__PAR_MAX]; /* each block's share of the mean loss */
    double wbound[NN_MAX_LAYERS]; /* fused: bound on each new |W| */
    /* set by every worker alike after the barrier: 0 nothing more done
       (the caller finishes serially), 1 gradients stored, 2 fused SGD */
    int done;
};
/* The backward's two phases (nn__par_run2): dL/dz over task t's rows
   (maxima in NN__PM_DZ, bias partials in net->par->db); then, once every
   task's rows are done, the bias sums over t's columns and, when
   provable, dW over t's rows of each W (stored or fused into W; new bias
   maxima in NN__PM_AUX). */
void nn__par_backward_rows_fn(void *ctx, unsigned t, unsigned n);
void nn__par_backward_fn(void *ctx, unsigned t, unsigned n);

/* Offsets in net's backward scratch (as net.c's nn__dz, nn__db). */
static inline float *nn__par_dz(const nn_net *net, size_t batch, size_t i)
{
    size_t off = 0, j;
    for (j = 0; j < i; j++) off += batch * net->layers[j].n_out;
    return net->dz + off;
}
static inline size_t nn__par_db_off(const nn_net *net, size_t i)
{
    size_t off = 0, j;
    for (j = 0; j < i; j++) off += net->layers[j].n_out;
    return off;
}

#endif /* NNFS_PARALLEL_H */
