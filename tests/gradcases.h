/*
 * gradcases.h - the networks of the gradient tests (docs/RELIABILITY.md T9),
 * used by test_grad.c (T10 plans to run them again with floating-point
 * traps on).
 *
 * Every output activation x every loss (5 x 4) plus CCE against integer
 * labels for every output activation, over hidden layers of every
 * activation, batches 1, 3 and 64, and widths from 1 to 257 (odd sizes
 * reach the BLAS edge kernels), with 2- and 3-layer nets.
 *
 * A fixture holds one case built deterministically from a seed, in the
 * library (parameters set with nn_net_set_params) and in the double
 * reference (the same float parameters read back with nn_net_get_params),
 * placed away from every kink so that finite differences with a step up
 * to GC_H are valid (T9d):
 *   - every ReLU pre-activation has |z| >= max(2h, 1.5 B), B a bound on
 *     how far one parameter step of h can move it;
 *   - MAE targets sit at least that far from the outputs;
 *   - CCE/BCE outputs stay inside the clip: sigmoid and softmax outputs
 *     in [1e-4, 1 - 1e-4], linear/relu/tanh outputs in (0.2, 0.8) (their
 *     last layer is scaled and its biases set for it).
 * gc_build asserts all of this with the nntest asserts.
 */
#ifndef NNFS_TESTS_GRADCASES_H
#define NNFS_TESTS_GRADCASES_H

#include <stddef.h>
#include <stdint.h>

#include "nnfs.h"
#include "refnet.h"

#define GC_LABELS (-1)      /* loss field: nn_backward_labels */
#define GC_H 1e-2           /* the largest finite-difference step used */
#define GC_MAX_LAYERS 3

struct gc_case {
    char name[96];
    size_t n_layers;
    size_t sizes[GC_MAX_LAYERS + 1];
    int32_t acts[GC_MAX_LAYERS];
    size_t batch;
    int32_t loss;           /* NN_LOSS_* or GC_LABELS */
};

struct gc_fix {
    struct gc_case c;
    nn_net *net;
    struct ref_net ref;     /* same parameters, in double */
    float *x;               /* batch x n_in */
    double *xd;
    float *t;               /* batch x n_out targets, NULL with labels */
    double *td;
    int32_t *labels;        /* batch labels, NULL with targets */
    float *w[GC_MAX_LAYERS], *b[GC_MAX_LAYERS];   /* as read back */
    double relu_min;        /* smallest |z| over ReLU layers (HUGE_VAL) */
    double relu_need;       /* the largest margin that was required */
    double mae_min;         /* smallest |p - t| (MAE), else HUGE_VAL */
};

/* Deterministic generator of the fixtures (splitmix64). */
static inline uint64_t gc_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline double gc_unif(uint64_t *s)   /* [0, 1) */
{
    return (double)(gc_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

size_t gc_num_cases(void);
void gc_case_get(size_t i, struct gc_case *c);

/* Build case i from seed (fails the running test on any problem). */
void gc_build(struct gc_fix *f, size_t i, uint64_t seed);
void gc_free(struct gc_fix *f);

/* Library step on the fixture: nn_forward (out may be NULL) then
   nn_backward or nn_backward_labels; returns the status of the first
   failing call, loss into *loss. */
int gc_lib_step(struct gc_fix *f, float *out, float *loss);
/* Reference step: forward and backward; returns the loss. */
double gc_ref_step(struct gc_fix *f);
/* Reference loss only (forward and loss), for finite differences. */
double gc_ref_loss(struct gc_fix *f);

/* Choose at most max of the n entries of a tensor to difference: all of
   them if n <= max, else the max / 3 largest |g| and random others.
   idx receives the indices (max entries); returns how many. */
size_t gc_pick(const double *g, size_t n, size_t max, uint64_t *rng,
               size_t *idx);

#endif /* NNFS_TESTS_GRADCASES_H */
