/* bench_modes.h - the ways of using 2 cores for one training step, and
   the machine's parallel capacity, shared by bench_train --modes and
   bench_mpi --modes (bench_modes.c). */
#ifndef NNFS_BENCH_MODES_H
#define NNFS_BENCH_MODES_H

#include "bench_common.h"

/* the in-process modes: 1 thread, the BLAS's 2 threads, 2 replicas and
   the default policy (NN_PARALLEL_AUTO) with 2 threads */
enum { M_ONE, M_BLAS2, M_REP2, M_AUTO2, M_N };
#define MODES_MAXR 64   /* rounds kept */

extern const char *const mode_names[M_N];

/* w's network (ReLU hidden layers, softmax output, seed 1) and a batch
   of inputs and labels for it; exits on failure. */
void modes_workload(const struct workload *w, nn_net **net, float **x,
                    int32_t **labels);

/* One workload's network (and Adam's state with adam), its whole batch
   and labels, and each mode's inner repetitions (modes_warm). */
struct modes_net {
    const struct workload *w;
    nn_net *net;
    nn_optimizer *opt;
    float *x;
    int32_t *labels;
    int adam;
    int inner[M_N];
};

void modes_net_init(struct modes_net *s, const struct workload *w, int adam);
void modes_net_free(struct modes_net *s);

/* Forward and backward of rows [begin, begin + rows) of the batch; with
   SGD and fuse the update is fused into the backward
   (nn_backward_labels_sgd, as nn_trainer_fit does), else the gradients
   are left for modes_update. */
void modes_fwd_bwd(const struct modes_net *s, size_t begin, size_t rows,
                   int fuse);
/* The update: nn_sgd_step (lr 1e-4), or nn_optimizer_step with adam. */
void modes_update(const struct modes_net *s);

/* Thread count and parallel mode for mode m. */
void mode_set(int m);
/* Let OpenBLAS's spinning worker threads park (see bench_modes.c). */
void modes_settle(void);
/* Inner repetitions so one sample lasts >= ~20 ms. */
int modes_inner_for(double one);
/* Warm every mode up (scratch, threads) and size its inner loop. */
void modes_warm(struct modes_net *s);
/* One sample of mode m: seconds per training step of the whole batch. */
double modes_sample(const struct modes_net *s, int m);

/* Capacity probe: fill and size it once, then each sample is two
   concurrent single-threaded cblas_sgemm loops against one (2.0 = two
   full cores), taken after mode_set(M_ONE) and modes_settle. */
void cap_init(void);
double cap_sample(void);

/* One JSON line, bench name `bench`: the workload, each mode's median
   over the r rounds (t and cap are sorted in place), its ratio to one
   thread, the capacity; extra (may be "") is more ",key:value" fields
   printed before reps. */
void modes_print(const char *bench, const struct modes_net *s,
                 double t[M_N][MODES_MAXR], double *cap, int r,
                 const char *extra);

#endif
