/*
 * refnet.h - an independent double-precision reference MLP, the yardstick
 * of the gradient and numerics tests (docs/RELIABILITY.md T9-T11).
 *
 * Written from the definitions in include/nnfs.h only: plain loops, libm
 * exp/log/tanh in double, no BLAS, nothing of the library's internals.
 *
 *   forward   Z_k = A_{k-1} W_k + b_k, A_k = act_k(Z_k), A_0 = x
 *   losses    the four NN_LOSS_* means with the 1e-7 clip, and CCE
 *             against integer labels
 *   backward  dW_k = A_{k-1}^T dZ_k, db_k = column sums of dZ_k,
 *             dA_{k-1} = dZ_k W_k^T, with the library's documented
 *             conventions: softmax + CCE uses (p - t) / batch; CCE and BCE
 *             differentiate through the clipped probability; the MAE
 *             derivative is 0 at p == t; ReLU's derivative is 0 at z <= 0.
 */
#ifndef NNFS_TESTS_REFNET_H
#define NNFS_TESTS_REFNET_H

#include <stddef.h>
#include <stdint.h>

#define REF_MAX_LAYERS 8

struct ref_net {
    size_t n_layers;
    size_t sizes[REF_MAX_LAYERS + 1];
    int32_t act[REF_MAX_LAYERS];
    double *w[REF_MAX_LAYERS];     /* [n_in][n_out], row-major */
    double *b[REF_MAX_LAYERS];     /* [n_out] */
    double *dw[REF_MAX_LAYERS];    /* gradients of the last ref_backward */
    double *db[REF_MAX_LAYERS];
    size_t batch;                  /* rows of the last ref_forward */
    size_t cap;                    /* rows the caches below hold */
    double *a[REF_MAX_LAYERS + 1]; /* a[0] = x, a[k + 1] = layer k output */
    double *z[REF_MAX_LAYERS];     /* layer k before its activation */
};

/* Shape as nn_net_create takes it; parameters start at 0.  Returns 0, or
   -1 if n_layers is out of [1, REF_MAX_LAYERS] or memory runs out. */
int ref_create(struct ref_net *r, size_t n_layers, const size_t *sizes,
               const int32_t *act);
void ref_destroy(struct ref_net *r);

/* Layer parameters from float buffers (widened exactly); either may be
   NULL to keep the current values. */
void ref_set_layer(struct ref_net *r, size_t layer, const float *w,
                   const float *b);

/* Forward pass on batch rows of x.  Returns 0, -1 on allocation failure. */
int ref_forward(struct ref_net *r, const double *x, size_t batch);
/* The last layer's output of the last ref_forward (batch x n_out). */
const double *ref_output(const struct ref_net *r);

/* Mean loss of the last forward against targets (batch x n_out) or
   labels (batch entries). */
double ref_loss(const struct ref_net *r, int32_t loss, const double *t);
double ref_loss_labels(const struct ref_net *r, const int32_t *labels);

/* Backward pass for the last forward; fills dw and db of every layer and
   returns the loss.  Returns NaN on allocation failure. */
double ref_backward(struct ref_net *r, int32_t loss, const double *t);
double ref_backward_labels(struct ref_net *r, const int32_t *labels);

#endif /* NNFS_TESTS_REFNET_H */
