/*
 * core.h - the network handle and what works on it: the layers and their
 * scratch (net.c), the layer draws (init.c), the overflow proofs
 * (bounds.c), the products on the BLAS (dense.c, the only file that
 * includes cblas.h) and what BLAS is linked (blas.c).  The in-process
 * replicas have their own header, parallel.h.  Includes the base only
 * (core's sources include kernels/kernels.h too; nothing higher).
 */
#ifndef NNFS_CORE_H
#define NNFS_CORE_H

#include "base/base.h"

#include <float.h>

struct nn__par_net;   /* parallel.h */

/*====== BLAS (dense.c is the only file that includes cblas.h) ======*/

/* Row-major products on float32.  Every dimension must be <= INT_MAX;
   they return NN_ERR_SHAPE (with a message) otherwise, before calling the
   BLAS, so the BLAS never sees an illegal argument. */
/* Z[batch][n_out] = X[batch][n_in] W[n_in][n_out] */
int nn__gemm_fwd(const float *x, const float *w, float *z, size_t batch,
                 size_t n_in, size_t n_out);
/* dW[n_in][n_out] = alpha X^T dZ + beta dW  (alpha 1, beta 0 in backward) */
int nn__gemm_dw(const float *x, const float *dz, float *dw, size_t batch,
                size_t n_in, size_t n_out, float alpha, float beta);
/* dW[m][n_out] = alpha X^T dZ + beta dW for a block of m columns of X
   (row stride ldx): the rows of dW that one replica forms (parallel.h). */
int nn__gemm_dw_ld(const float *x, size_t ldx, const float *dz, float *dw,
                   size_t batch, size_t m, size_t n_out, float alpha,
                   float beta);
/* dX[batch][n_in] = dZ[batch][n_out] W^T */
int nn__gemm_dx(const float *dz, const float *w, float *dx, size_t batch,
                size_t n_in, size_t n_out);

/* C[cols][cols] = X^T X for X[rows][cols], upper triangle only (the
   entries below the diagonal are left as they were); used by pca.c and
   ridge.c (A^T A of the readout's normal equations). */
int nn__syrk_xtx(const float *x, float *c, size_t rows, size_t cols);
/* dense.c: the address of the cblas_sgemm libnnfs calls (blas.c asks
   which library it lives in) */
uintptr_t nn__sgemm_address(void);

/* blas.c: what BLAS is linked, its core, threads.  No cblas.h there. */
const char *nn__blas_name(void);
const char *nn__blas_core(void);
const char *nn__blas_core_choice(void);
int nn__blas_set_threads(int n);   /* 0 ok, -1 unsupported */
int nn__blas_get_threads(void);    /* 0 unknown */
int nn__blas_can_set_threads(void); /* 1 if nn__blas_set_threads works */

/*====== Network (net.c) ======*/

struct nn__layer {
    size_t n_in, n_out;
    int32_t act;
    float *w;        /* [n_in][n_out] */
    float *b;        /* [n_out] */
    float *dw;       /* gradients of the last backward */
    float *db;
    uint32_t pmax;   /* amax over w and b, kept exact by every writer */
    double gbound;   /* upper bound on |dw| and |db| of the last backward */
    /* Regularization and dropout (used by the training features; saved
       in model files from format version 1 on).  0 = off. */
    double l1_w, l2_w, l1_b, l2_b;
    float dropout;   /* rate of units dropped after the activation */
    /* Where this layer's blocks sit in a forward cache slot, in floats per
       sample (times batch gives the offset): its input, its activation
       output, and with dropout the mask (0 or 1/keep) and the dropped
       output that the next layer reads. */
    size_t off_in, off_a, off_mask, off_d;
};

struct nn_net {
    uint64_t tag;        /* NN__TAG_NET: first member, see handle tags */
    size_t n_layers;
    struct nn__layer *layers;
    size_t n_params;
    size_t width_sum;    /* sum of the layers' n_out */
    size_t width_max;    /* max over sizes, inputs included */
    float *params;       /* one block: every layer's w then b */
    float *grads;        /* one block, same layout as params */

    /* Training cache, double-buffered: a forward writes into the slot that
       is not current and makes it current only on success, so a failing
       forward leaves the previous one usable.  Each slot holds the copy of
       x then every layer's output, batch rows each. */
    float *cache[2];
    size_t cache_cap[2];  /* floats each slot holds */
    size_t cache_row;     /* floats per sample in a slot (see off_*) */
    int cur;              /* slot of the last successful forward */
    size_t batch;         /* its batch; 0 = no usable forward */
    uint32_t *act_max;    /* [n_layers + 1] amax of x and of each output,
                             for the last successful forward */
    uint32_t *act_max_next;

    /* Backward scratch: dL/dz of every layer (batch x width_sum), and
       per-layer bias gradients and amax of dz before they are published. */
    float *dz;
    size_t dz_cap;
    float *db_scratch;    /* width_sum floats */
    float *gcheck;        /* n_params floats (grads' layout): a gradient
                             computed exactly when its bound cannot prove
                             it finite; taken the first time that happens
                             (or up front by nn_trainer_fit's reserve) */
    uint32_t *dz_max;     /* [n_layers] */
    int has_grads;        /* a backward has succeeded */

    /* Inference scratch: two blocks of NN__PREDICT_ROWS x width_max. */
    float *pred;

    /* Generator for dropout masks (saved with the model so a run resumes
       exactly). */
    struct nn__rng rng;

    /* Scratch of in-process replicas (parallel.h), NULL until used. */
    struct nn__par_net *par;
};

#define NN__PREDICT_ROWS 256

/* net.c: grow all of net's training and inference scratch for batches of
   up to `batch` rows, all or nothing (NN_ERR_NOMEM changes nothing). */
int nn__net_reserve(nn_net *net, size_t batch, const char *fn);
/* nn_forward on the rows x[rows[i]] (i < batch), gathered in its copy;
   errors name fn. */
int nn__forward_rows(nn_net *net, const float *x, const size_t *rows,
                     size_t batch, float *out, const char *fn);

/*====== Shape, layers, initialisation (net.c, init.c) ======*/

/* net.c: allocate a network with the given shape and
   zeroed parameters (no RNG draw).  sizes/acts validated by the caller. */
int nn__net_alloc(nn_net **out, size_t n_layers, const size_t *sizes,
                  const int32_t *acts, const char *fn);
/* Validate a shape (layer count, widths, activations, parameter total);
   the message names fn. */
int nn__net_check_shape(size_t n_layers, const size_t *sizes,
                        const int32_t *acts, const char *fn);
/* The layer-index check every per-layer call shares (message names fn). */
int nn__check_layer(const nn_net *net, size_t layer, const char *fn);
/* init.c: draw layer l's weights with scheme/gain from r, zero its biases
   (pmax is the caller's to refresh). */
void nn__init_layer(struct nn__layer *l, int32_t scheme, double gain,
                    struct nn__rng *r);

/* init.c: w[n_in][n_out] <- gain * a Haar-orthogonal draw from r
   (orthonormal columns if n_in >= n_out, rows otherwise), by
   LAPACKE_sgeqrf + sorgqr.  fn names the caller in messages. */
int nn__orthogonal_draw(float *w, size_t n_in, size_t n_out, double gain,
                        struct nn__rng *r, const char *fn);

/* Recompute derived state (every layer's pmax, the cache layout for the
   dropout rates) after parameters and options were written wholesale. */
void nn__net_refresh_pmax(nn_net *net);

/*====== Overflow proofs (bounds.c) ======*/

/* A bound below this proves a float sum cannot overflow even with the
   rounding growth of a long dot product (factor < 2 for K <= 2^22). */
#define NN__SAFE_BOUND ((double)FLT_MAX / 8.0)
#define NN__SAFE_K ((size_t)1 << 22)

/* Bound on |dW| = |X^T dZ| (and |db|) of layer i for a batch whose dz
   has amax dz_max; nn__grad_bound takes net->dz_max[i]. */
double nn__grad_bound_of(const nn_net *net, size_t batch, size_t i,
                         uint32_t dz_max);
double nn__grad_bound(const nn_net *net, size_t batch, size_t i);
/* The rule of the fused SGD step, and of storing gradients without the
   exact check: no L1/L2 penalty, and every layer's product X^T dZ
   provably finite from the forward's maxima and dz_max[] (n_layers
   entries); with lr, also every new |W| (bounds into wbound). */
int nn__grads_provable(const nn_net *net, size_t batch,
                       const uint32_t *dz_max, const float *lr,
                       double *wbound);

#endif /* NNFS_CORE_H */
