/*
 * isa.h - naming of the element-wise kernels, which are compiled once
 * per instruction set: with -DNN__ISA=avx2, NN__K(nn__relu_fwd) names
 * nn__relu_fwd_avx2.  The one naming macro of the kernels; included by
 * the kernel translation units only (kernels.c builds the tables from
 * these names, cpu.c picks one).
 */
#ifndef NNFS_KERNELS_ISA_H
#define NNFS_KERNELS_ISA_H

#include "kernels.h"   /* the table types, base.h */

#ifndef NN__ISA
#  error "kernel sources are compiled with -DNN__ISA=<isa>"
#endif

#define NN__KCAT2(a, b) a##_##b
#define NN__KCAT(a, b) NN__KCAT2(a, b)
#define NN__K(name) NN__KCAT(name, NN__ISA)

/* Narrow rows (3 or 10 classes) would give the vectorizer 3-element
   loops: such blocks are processed as one flat array against a bias row
   repeated NN__TILE / cols times. */
#define NN__TILE 240   /* multiple of 1..6, 8, 10, 12, 15, 16, 20, 24 */
#define NN__NARROW 64  /* rows narrower than this use the tiled path */
/* Wide rows carry their max-magnitude reduction in this many lanes (one
   AVX-512 vector, two AVX2 vectors) across rows. */
#define NN__LANES 16

/* activations.c */
uint32_t NN__K(nn__bias_linear)(float *z, const float *b, size_t rows,
                                size_t cols);
uint32_t NN__K(nn__bias_relu)(float *z, const float *b, size_t rows,
                              size_t cols);
uint32_t NN__K(nn__bias_sigmoid)(float *z, const float *b, size_t rows,
                                 size_t cols);
uint32_t NN__K(nn__bias_tanh)(float *z, const float *b, size_t rows,
                              size_t cols);
uint32_t NN__K(nn__bias_softmax)(float *z, const float *b, size_t rows,
                                 size_t cols);
uint32_t NN__K(nn__bwd_linear)(float *dz, const float *a, float *db,
                               size_t rows, size_t cols);
uint32_t NN__K(nn__bwd_relu)(float *dz, const float *a, float *db,
                             size_t rows, size_t cols);
uint32_t NN__K(nn__bwd_sigmoid)(float *dz, const float *a, float *db,
                                size_t rows, size_t cols);
uint32_t NN__K(nn__bwd_tanh)(float *dz, const float *a, float *db,
                             size_t rows, size_t cols);
uint32_t NN__K(nn__bwd_softmax)(float *dz, const float *a, float *db,
                                size_t rows, size_t cols);
/* losses.c */
double NN__K(nn__loss_cce)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols);
double NN__K(nn__loss_bce)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols);
double NN__K(nn__loss_mse)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols);
double NN__K(nn__loss_mae)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols);
double NN__K(nn__loss_cce_labels)(const float *p, const int32_t *labels,
                                  float *g, size_t rows, size_t cols);
double NN__K(nn__loss_softmax_cce)(const float *p, const float *t, float *g,
                                   size_t rows, size_t cols);
double NN__K(nn__loss_softmax_cce_labels)(const float *p,
                                          const int32_t *labels, float *g,
                                          size_t rows, size_t cols);
/* update.c */
uint32_t NN__K(nn__amax)(const float *x, size_t n);
uint32_t NN__K(nn__copy_amax)(float *dst, const float *src, size_t n);
uint32_t NN__K(nn__sgd)(float *w, const float *g, size_t n, float lr);
/* train_kernels.c */
uint32_t NN__K(nn__opt_momentum)(float *w, float *v, const float *g,
                                 size_t n, float lr, float mu);
uint32_t NN__K(nn__opt_adagrad)(float *w, float *c, const float *g,
                                size_t n, float lr, float eps);
uint32_t NN__K(nn__opt_rmsprop)(float *w, float *c, const float *g,
                                size_t n, float lr, float one_rho,
                                float eps);
uint32_t NN__K(nn__opt_adam)(float *w, float *mo, float *ve, const float *g,
                             size_t n, float lr, float one_b1, float one_b2,
                             float c1, float c2, float eps);
uint32_t NN__K(nn__opt_regularize)(float *g, const float *w, size_t n,
                                   float l1, float l2x2);
double NN__K(nn__opt_penalty)(const float *w, size_t n, double l1,
                              double l2);
uint32_t NN__K(nn__dropout_apply)(float *d, const float *a,
                                  const float *mask, size_t n);
void NN__K(nn__dropout_back)(float *g, const float *mask, size_t n);

#endif /* NNFS_KERNELS_ISA_H */
