/*
 * vecmath.h - float exp, log, sigmoid and tanh as plain branch-free C, so
 * that loops calling them auto-vectorize (libm's expf/logf would stay
 * scalar calls).  Included only by the kernel translation units.
 *
 * Method (Cephes expf/logf/tanhf, S. Moshier): range reduction by bit
 * manipulation and a minimax polynomial.  Measured against libm in double
 * (tests/test_kernels.c, kernels_vecmath_exp_log_vs_libm, no-FMA build;
 * every 97th float, the test samples every 389th with the same maxima to
 * two digits): exp max relative error 7.9e-8 (0.96 ulp) on [-87.33,
 * 88.37]; log 8.0e-8 (0.79 ulp) on all normal positive floats; sigmoid
 * 1.4e-7 (2.4 ulp) and tanh 1.4e-7 (1.3 ulp) on [-20, 20] where the
 * result is normal.  The test asserts exp, log <= 1.5 ulp, sigmoid
 * <= 3, tanh <= 2.
 *
 * No FP exception for finite inputs beyond underflow: exp clamps its
 * argument so 2^n stays a normal float (arguments below -87.34 give 0,
 * above 88.37 give about 2.4e38, never infinity), which keeps sigmoid,
 * tanh and softmax free of FE_OVERFLOW.  NaN propagates.
 */
#ifndef NNFS_VECMATH_H
#define NNFS_VECMATH_H

#include "base/base.h"   /* nn__f32_bits, nn__bits_f32, nn__absbits */

#include <stdint.h>

/* Fused multiply-add only where the ISA has it (a libm fmaf call in the
   generic build would be a slow software emulation). */
#if defined(__FMA__)
#  define NN__FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#  define NN__FMA(a, b, c) ((a) * (b) + (c))
#endif


#define NN__EXP_HI 88.3762626647949f   /* 2^127 * e^0.35 < FLT_MAX */
#define NN__EXP_LO -87.3365447505531f  /* 2^-126 scale stays normal */

static inline float nn__expf(float x)
{
    /* round(x log2 e) with the 1.5 * 2^23 trick: exact for |v| < 2^22,
       adds and subtracts only (SSE2 has no round instruction) */
    const float shift = 12582912.0f;
    float xc = x > NN__EXP_HI ? NN__EXP_HI : x;
    float fx, r, z, p;
    int32_t n;
    xc = xc < NN__EXP_LO ? NN__EXP_LO : xc;
    fx = (xc * 1.44269504088896341f + shift) - shift;
    /* x NaN passes the clamps: converting NaN to int is undefined (UBSan
       float-cast-overflow), so take n = 0; r and p stay NaN */
    n = (int32_t)(fx == fx ? fx : 0.0f);
    /* r = x - n ln2 in two parts (Cody-Waite) */
    r = NN__FMA(fx, -0.693359375f, xc);
    r = NN__FMA(fx, 2.12194440e-4f, r);
    z = r * r;
    p = 1.9875691500e-4f;
    p = NN__FMA(p, r, 1.3981999507e-3f);
    p = NN__FMA(p, r, 8.3334519073e-3f);
    p = NN__FMA(p, r, 4.1665795894e-2f);
    p = NN__FMA(p, r, 1.6666665459e-1f);
    p = NN__FMA(p, r, 5.0000001201e-1f);
    p = NN__FMA(p, z, r) + 1.0f;
    p *= nn__bits_f32((uint32_t)(n + 127) << 23);
    return x < NN__EXP_LO ? 0.0f : p;
}

/* log for normal positive x (the losses only see clipped probabilities in
   [1e-7, 1 - 1e-7]). */
static inline float nn__logf(float x)
{
    uint32_t u = nn__f32_bits(x);
    float e = (float)((int32_t)(u >> 23) - 126);
    float m = nn__bits_f32((u & 0x007fffffu) | 0x3f000000u);   /* [0.5, 1) */
    float z, y;
    /* move m to [sqrt(1/2), sqrt(2)) and take m - 1 */
    int lo = m < 0.707106781186547524f;
    e = lo ? e - 1.0f : e;
    m = lo ? m + m - 1.0f : m - 1.0f;
    z = m * m;
    y = 7.0376836292e-2f;
    y = NN__FMA(y, m, -1.1514610310e-1f);
    y = NN__FMA(y, m, 1.1676998740e-1f);
    y = NN__FMA(y, m, -1.2420140846e-1f);
    y = NN__FMA(y, m, 1.4249322787e-1f);
    y = NN__FMA(y, m, -1.6668057665e-1f);
    y = NN__FMA(y, m, 2.0000714765e-1f);
    y = NN__FMA(y, m, -2.4999993993e-1f);
    y = NN__FMA(y, m, 3.3333331174e-1f);
    y = y * m * z;
    y = NN__FMA(e, -2.12194440e-4f, y);
    y = NN__FMA(z, -0.5f, y);
    return NN__FMA(e, 0.693359375f, m + y);
}

static inline float nn__sigmoidf(float x)
{
    return 1.0f / (1.0f + nn__expf(-x));
}

static inline float nn__tanhf(float x)
{
    float ax = x < 0.0f ? -x : x;
    float s = x * x, small, big;
    /* |x| < 0.625: odd polynomial (1 - 2/(e^2x + 1) would cancel) */
    small = -5.70498872745e-3f;
    small = NN__FMA(small, s, 2.06390887954e-2f);
    small = NN__FMA(small, s, -5.37397155531e-2f);
    small = NN__FMA(small, s, 1.33314422036e-1f);
    small = NN__FMA(small, s, -3.33332819422e-1f);
    small = NN__FMA(small * s, x, x);
    big = 1.0f - 2.0f / (nn__expf(ax + ax) + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

#endif /* NNFS_VECMATH_H */
