/*
 * kernels.h - the element-wise kernels as the rest of libnnfs sees them:
 * two tables of function pointers per instruction set (struct nn__kernels
 * for forward, backward, losses and plain SGD; struct nn__train_kernels
 * for the optimizers' updates, regularization and dropout), defined in
 * kernels.c, and the one selector that picks the instruction set (cpu.c).
 * The kernel sources themselves include isa.h.
 */
#ifndef NNFS_KERNELS_H
#define NNFS_KERNELS_H

#include "base/base.h"

/* Every kernel works on row-major blocks of rows x cols floats with row
   stride cols.  Pointers need no particular alignment.  Loss kernels
   return the mean loss as a double and, if g is not NULL, write the
   gradient of that mean with respect to p into g. */
typedef uint32_t (*nn__bias_act_fn)(float *z, const float *b, size_t rows,
                                    size_t cols);
typedef uint32_t (*nn__act_bwd_fn)(float *dz, const float *a, float *db,
                                   size_t rows, size_t cols);
typedef double (*nn__loss_fn)(const float *p, const float *t, float *g,
                              size_t rows, size_t cols);
typedef double (*nn__loss_labels_fn)(const float *p, const int32_t *labels,
                                     float *g, size_t rows, size_t cols);

struct nn__kernels {
    const char *name;                 /* "generic", "avx2", "avx512" */

    /* z = act(z + b) row by row, in place (z holds X W on entry).
       Returns the amax of the result.  Indexed by NN_ACT_*. */
    nn__bias_act_fn bias_act[NN__N_ACT];

    /* Backward through an activation, in place: dz holds dL/da on entry
       and dL/dz on return, computed from the activation's output a
       (relu: a > 0; sigmoid: a (1 - a); tanh: 1 - a^2; linear: 1;
       softmax: a_j (g_j - sum_k g_k a_k) per row).  db (cols floats) gets
       the column sums of dL/dz (the bias gradient).  Returns the amax of
       dz.  Indexed by NN_ACT_*; a is unused for linear. */
    nn__act_bwd_fn act_bwd[NN__N_ACT];

    /* Loss of p against targets t, indexed by NN_LOSS_*; g = dL/dp. */
    nn__loss_fn loss[NN__N_LOSS];
    /* CCE against labels; g = dL/dp (zero except at the label). */
    nn__loss_labels_fn cce_labels;
    /* Softmax output with CCE: g = (p - t) / rows is dL/dz directly. */
    nn__loss_fn softmax_cce;
    nn__loss_labels_fn softmax_cce_labels;

    /* amax of n floats. */
    uint32_t (*amax)(const float *x, size_t n);
    /* dst = src, returning the amax of src (one pass). */
    uint32_t (*copy_amax)(float *dst, const float *src, size_t n);
    /* w -= lr * g, returning the amax of the new w. */
    uint32_t (*sgd)(float *w, const float *g, size_t n, float lr);
};

/* Training kernels (train_kernels.c; the table in kernels.c): optimizer
   updates, regularization, dropout.  Updates return the amax of the new
   weights. */
struct nn__train_kernels {
    uint32_t (*momentum)(float *w, float *v, const float *g, size_t n,
                         float lr, float mu);
    uint32_t (*adagrad)(float *w, float *c, const float *g, size_t n,
                        float lr, float eps);
    /* the decay rates come as 1 - rho, 1 - beta computed in double: in
       float, 1.0f - 0.999f is 1.3e-5 off 0.001 */
    uint32_t (*rmsprop)(float *w, float *c, const float *g, size_t n,
                        float lr, float one_rho, float eps);
    uint32_t (*adam)(float *w, float *m, float *v, const float *g, size_t n,
                     float lr, float one_b1, float one_b2, float c1, float c2,
                     float eps);
    /* g += l1 sign(w) + l2x2 w; returns amax of g */
    uint32_t (*regularize)(float *g, const float *w, size_t n, float l1,
                           float l2x2);
    /* sum l1 |w| + l2 w^2 */
    double (*penalty)(const float *w, size_t n, double l1, double l2);
    /* d = a * mask; returns amax of d */
    uint32_t (*dropout_apply)(float *d, const float *a, const float *mask,
                              size_t n);
    /* g *= mask */
    void (*dropout_back)(float *g, const float *mask, size_t n);
};
extern const struct nn__train_kernels nn__train_kernels_generic;
#if defined(NNFS_HAVE_X86_KERNELS)
extern const struct nn__train_kernels nn__train_kernels_avx2;
extern const struct nn__train_kernels nn__train_kernels_avx512;
#endif

/* The tables compiled in (cpu.c decides which one runs). */
extern const struct nn__kernels nn__kernels_generic;
#if defined(NNFS_HAVE_X86_KERNELS)
extern const struct nn__kernels nn__kernels_avx2;
extern const struct nn__kernels nn__kernels_avx512;
#endif

/* cpu.c, the one selector: the tables in use, for the instruction set
   chosen once (thread-safe) from CPUID/XGETBV, capped by NNFS_ARCH. */
const struct nn__kernels *nn__kernels(void);
const struct nn__train_kernels *nn__train_kernels(void);
/* The table for one ISA if this build has it and this machine can run it,
   else NULL.  isa: 0 generic, 1 avx2, 2 avx512. */
const struct nn__kernels *nn__kernels_for(int isa);
/* Space-separated names of the tables compiled in. */
const char *nn__kernels_built(void);

#endif /* NNFS_KERNELS_H */
