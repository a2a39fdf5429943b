/*
 * train_kernels.c - element-wise work of training beyond the forward and
 * backward kernels: the optimizers' updates as the NNFS course defines
 * them, L1/L2 regularization and dropout.  Compiled once per instruction
 * set like the other kernels (-DNN__ISA=generic|avx2|avx512).
 *
 * Each returns the amax (base/base.h) of the updated weights so the caller
 * keeps max|W| exact for its overflow proofs.  The loops are plain
 * restrict loops with the integer max trick, so they vectorize without
 * -ffast-math; sqrtf vectorizes because kernels build with
 * -fno-math-errno.
 */
#include "isa.h"

#include <math.h>

/* SGD with momentum: v = mu v - lr g; w += v */
uint32_t NN__K(nn__opt_momentum)(float *restrict w,
                                 float *restrict v,
                                 const float *restrict g, size_t n,
                                 float lr, float mu)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: opt_momentum */
    for (i = 0; i < n; i++) {
        float u = mu * v[i] - lr * g[i];
        float nw = w[i] + u;
        uint32_t b = nn__absbits(nw);
        v[i] = u;
        w[i] = nw;
        m = b > m ? b : m;
    }
    return m;
}

/* Adagrad: c += g^2; w -= lr g / (sqrt(c) + eps) */
uint32_t NN__K(nn__opt_adagrad)(float *restrict w, float *restrict c,
                                const float *restrict g, size_t n,
                                float lr, float eps)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: opt_adagrad */
    for (i = 0; i < n; i++) {
        float cc = c[i] + g[i] * g[i];
        float nw = w[i] - lr * g[i] / (sqrtf(cc) + eps);
        uint32_t b = nn__absbits(nw);
        c[i] = cc;
        w[i] = nw;
        m = b > m ? b : m;
    }
    return m;
}

/* RMSprop: c = rho c + (1 - rho) g^2; w -= lr g / (sqrt(c) + eps), with
   one_rho = 1 - rho rounded from double (1.0f - rho would be off by up to
   FLT_EPSILON / (1 - rho) relative) */
uint32_t NN__K(nn__opt_rmsprop)(float *restrict w, float *restrict c,
                                const float *restrict g, size_t n,
                                float lr, float one_rho, float eps)
{
    uint32_t m = 0;
    size_t i;
    float rho = 1.0f - one_rho;
    /* nn-vec: opt_rmsprop */
    for (i = 0; i < n; i++) {
        float cc = rho * c[i] + one_rho * g[i] * g[i];
        float nw = w[i] - lr * g[i] / (sqrtf(cc) + eps);
        uint32_t b = nn__absbits(nw);
        c[i] = cc;
        w[i] = nw;
        m = b > m ? b : m;
    }
    return m;
}

/* Adam with bias correction: m = b1 m + (1 - b1) g,
   v = b2 v + (1 - b2) g^2, w -= lr (m c1) / (sqrt(v c2) + eps) with
   c1 = 1 / (1 - b1^t), c2 = 1 / (1 - b2^t) computed by the caller, who
   also passes one_b1 = 1 - b1 and one_b2 = 1 - b2 rounded from double. */
uint32_t NN__K(nn__opt_adam)(float *restrict w, float *restrict mo,
                             float *restrict ve,
                             const float *restrict g, size_t n,
                             float lr, float one_b1, float one_b2,
                             float c1, float c2, float eps)
{
    uint32_t m = 0;
    size_t i;
    float b1 = 1.0f - one_b1, b2 = 1.0f - one_b2;
    /* nn-vec: opt_adam */
    for (i = 0; i < n; i++) {
        float mm = b1 * mo[i] + one_b1 * g[i];
        float vv = b2 * ve[i] + one_b2 * g[i] * g[i];
        float nw = w[i] - lr * (mm * c1) / (sqrtf(vv * c2) + eps);
        uint32_t b = nn__absbits(nw);
        mo[i] = mm;
        ve[i] = vv;
        w[i] = nw;
        m = b > m ? b : m;
    }
    return m;
}

/* w += alpha * sign(w) + beta * w, the gradient of L1 and L2 penalties
   (d/dw l1 |w| = l1 sign(w), d/dw l2 w^2 = 2 l2 w; the caller passes
   alpha = l1, beta = 2 l2), added into the gradient g; returns amax of g.
   sign(0) = 0, as numpy.sign. */
uint32_t NN__K(nn__opt_regularize)(float *restrict g,
                                   const float *restrict w, size_t n,
                                   float l1, float l2x2)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: opt_regularize */
    for (i = 0; i < n; i++) {
        float s = (float)(w[i] > 0.0f) - (float)(w[i] < 0.0f);
        float ng = g[i] + l1 * s + l2x2 * w[i];
        uint32_t b = nn__absbits(ng);
        g[i] = ng;
        m = b > m ? b : m;
    }
    return m;
}

/* sum of l1 |w| + l2 w^2 in double (lane accumulators keep the loop
   vectorizable without reassociation) */
double NN__K(nn__opt_penalty)(const float *restrict w, size_t n,
                              double l1, double l2)
{
    double a1[8] = {0}, a2[8] = {0}, s1 = 0, s2 = 0;
    size_t i, j, nb = n / 8 * 8;
    for (i = 0; i < nb; i += 8) {
        /* not vectorized by GCC 12 (float -> double lane sums), so no
           nn-vec marker: only nn_net_regularization_loss uses it */
        for (j = 0; j < 8; j++) {
            double v = (double)w[i + j];
            a1[j] += fabs(v);
            a2[j] += v * v;
        }
    }
    for (; i < n; i++) {
        double v = (double)w[i];
        s1 += fabs(v);
        s2 += v * v;
    }
    for (j = 0; j < 8; j++) {
        s1 += a1[j];
        s2 += a2[j];
    }
    return l1 * s1 + l2 * s2;
}

/* d = a * mask (mask holds 0 or 1 / keep); returns amax of d */
uint32_t NN__K(nn__dropout_apply)(float *restrict d,
                                  const float *restrict a,
                                  const float *restrict mask,
                                  size_t n)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: dropout_apply */
    for (i = 0; i < n; i++) {
        float v = a[i] * mask[i];
        uint32_t b = nn__absbits(v);
        d[i] = v;
        m = b > m ? b : m;
    }
    return m;
}

/* g *= mask, in place: backward through inverted dropout */
void NN__K(nn__dropout_back)(float *restrict g,
                             const float *restrict mask, size_t n)
{
    size_t i;
    /* nn-vec: dropout_back */
    for (i = 0; i < n; i++) g[i] *= mask[i];
}
