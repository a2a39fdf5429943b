/*
 * losses.c - loss values and their gradients with respect to the output.
 *
 * Values are the contract's (nnfs.h): means over the batch (and over the
 * outputs for BCE, MSE, MAE), with probabilities clipped to
 * [1e-7, 1 - 1e-7] before any log.  The gradient of a clipped log uses the
 * clipped probability, as the NNFS course does, so it is finite even at
 * p = 0 or 1.  Sums are accumulated in double over blocks of per-element
 * terms: the term loop vectorizes (vecmath.h log), the sum uses 8 double
 * lanes so it vectorizes without reassociation flags.
 */
#include "isa.h"
#include "vecmath.h"

#define NN__CLIP_LO 1e-7f          /* the contract's clip */
#define NN__CLIP_HI (1.0f - 1e-7f)
#define NN__CHUNK 256

static inline float nn__clip(float p)
{
    float q = p < NN__CLIP_LO ? NN__CLIP_LO : p;
    return q > NN__CLIP_HI ? NN__CLIP_HI : q;
}

static double nn__dsum(const float *restrict x, size_t n)
{
    double acc[8] = {0}, s = 0;
    size_t i, l, nb = n / 8 * 8;
    /* nn-vec: loss_sum */
    for (i = 0; i < nb; i += 8) {
        for (l = 0; l < 8; l++) acc[l] += (double)x[i + l];
    }
    for (; i < n; i++) s += (double)x[i];
    for (l = 0; l < 8; l++) s += acc[l];
    return s;
}

/* -sum_r log(clip(p[r][labels[r]])): the label probabilities are gathered
   a chunk at a time so the log runs vectorized (a scalar log per row was
   the largest element-wise cost of the spiral step after the
   activations). */
static double nn__labels_nll(const float *p, const int32_t *labels,
                             size_t rows, size_t cols)
{
    float q[NN__CHUNK];
    double total = 0;
    size_t r, k;
    for (r = 0; r < rows; r += NN__CHUNK) {
        size_t len = rows - r < NN__CHUNK ? rows - r : NN__CHUNK;
        for (k = 0; k < len; k++)
            q[k] = p[(r + k) * cols + (size_t)labels[r + k]];
        /* nn-vec: labels_nll */
        for (k = 0; k < len; k++) q[k] = -nn__logf(nn__clip(q[k]));
        total += nn__dsum(q, len);
    }
    return total;
}

/* CCE with (soft) targets: -sum_j t_j log(clip(p_j)), g = -t / clip(p) /
   rows. */
double NN__K(nn__loss_cce)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols)
{
    float tmp[NN__CHUNK];
    float inv = 1.0f / (float)rows;
    size_t n = rows * cols, i, k;
    double total = 0;
    for (i = 0; i < n; i += NN__CHUNK) {
        size_t len = n - i < NN__CHUNK ? n - i : NN__CHUNK;
        const float *restrict pi = p + i, *restrict ti = t + i;
        /* nn-vec: cce_terms */
        for (k = 0; k < len; k++) tmp[k] = -ti[k] * nn__logf(nn__clip(pi[k]));
        total += nn__dsum(tmp, len);
        if (g != NULL) {
            float *restrict gi = g + i;
            /* nn-vec: cce_grad */
            for (k = 0; k < len; k++) gi[k] = -ti[k] / nn__clip(pi[k]) * inv;
        }
    }
    return total / (double)rows;
}

/* BCE: mean over outputs of -(t log q + (1 - t) log(1 - q)), q = clip(p);
   g = -(t / q - (1 - t) / (1 - q)) / (rows cols). */
double NN__K(nn__loss_bce)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols)
{
    float tmp[NN__CHUNK];
    size_t n = rows * cols, i, k;
    float inv = 1.0f / (float)n;
    double total = 0;
    for (i = 0; i < n; i += NN__CHUNK) {
        size_t len = n - i < NN__CHUNK ? n - i : NN__CHUNK;
        const float *restrict pi = p + i, *restrict ti = t + i;
        /* nn-vec: bce_terms */
        for (k = 0; k < len; k++) {
            float q = nn__clip(pi[k]);
            tmp[k] = -(ti[k] * nn__logf(q) +
                       (1.0f - ti[k]) * nn__logf(1.0f - q));
        }
        total += nn__dsum(tmp, len);
        if (g != NULL) {
            float *restrict gi = g + i;
            /* nn-vec: bce_grad */
            for (k = 0; k < len; k++) {
                float q = nn__clip(pi[k]);
                gi[k] = -(ti[k] / q - (1.0f - ti[k]) / (1.0f - q)) * inv;
            }
        }
    }
    return total / (double)n;
}

/* MSE: mean of (p - t)^2; g = 2 (p - t) / (rows cols). */
double NN__K(nn__loss_mse)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols)
{
    float tmp[NN__CHUNK];
    size_t n = rows * cols, i, k;
    float scale = 2.0f / (float)n;
    double total = 0;
    for (i = 0; i < n; i += NN__CHUNK) {
        size_t len = n - i < NN__CHUNK ? n - i : NN__CHUNK;
        const float *restrict pi = p + i, *restrict ti = t + i;
        /* nn-vec: mse_terms */
        for (k = 0; k < len; k++) {
            float d = pi[k] - ti[k];
            tmp[k] = d * d;
        }
        total += nn__dsum(tmp, len);
        if (g != NULL) {
            float *restrict gi = g + i;
            /* nn-vec: mse_grad */
            for (k = 0; k < len; k++) gi[k] = (pi[k] - ti[k]) * scale;
        }
    }
    return total / (double)n;
}

/* MAE: mean of |p - t|; g = sign(p - t) / (rows cols), sign(0) = 0. */
double NN__K(nn__loss_mae)(const float *p, const float *t, float *g,
                           size_t rows, size_t cols)
{
    float tmp[NN__CHUNK];
    size_t n = rows * cols, i, k;
    float inv = 1.0f / (float)n;
    double total = 0;
    for (i = 0; i < n; i += NN__CHUNK) {
        size_t len = n - i < NN__CHUNK ? n - i : NN__CHUNK;
        const float *restrict pi = p + i, *restrict ti = t + i;
        /* nn-vec: mae_terms */
        for (k = 0; k < len; k++) {
            float d = pi[k] - ti[k];
            tmp[k] = d < 0.0f ? -d : d;
        }
        total += nn__dsum(tmp, len);
        if (g != NULL) {
            float *restrict gi = g + i;
            /* nn-vec: mae_grad */
            for (k = 0; k < len; k++) {
                float d = pi[k] - ti[k];
                gi[k] = ((float)(d > 0.0f) - (float)(d < 0.0f)) * inv;
            }
        }
    }
    return total / (double)n;
}

/* CCE against labels: -log(clip(p[label])), g zero but at the label,
   -1 / clip(p) / rows.  One log per row: no vector loop needed. */
double NN__K(nn__loss_cce_labels)(const float *p, const int32_t *labels,
                                  float *g, size_t rows, size_t cols)
{
    float inv = 1.0f / (float)rows;
    size_t r;
    if (g != NULL) {
        memset(g, 0, rows * cols * sizeof(float));
        for (r = 0; r < rows; r++) {
            size_t at = r * cols + (size_t)labels[r];
            g[at] = -1.0f / nn__clip(p[at]) * inv;
        }
    }
    return nn__labels_nll(p, labels, rows, cols) / (double)rows;
}

/* Softmax output with CCE: the combined gradient (p - t) / rows. */
double NN__K(nn__loss_softmax_cce)(const float *p, const float *t, float *g,
                                   size_t rows, size_t cols)
{
    float inv = 1.0f / (float)rows;
    size_t n = rows * cols, k;
    double value = NN__K(nn__loss_cce)(p, t, NULL, rows, cols);
    if (g != NULL) {
        /* nn-vec: softmax_cce_grad */
        for (k = 0; k < n; k++) g[k] = (p[k] - t[k]) * inv;
    }
    return value;
}

/* Softmax with CCE against labels: g = (p - onehot(label)) / rows. */
double NN__K(nn__loss_softmax_cce_labels)(const float *p,
                                          const int32_t *labels, float *g,
                                          size_t rows, size_t cols)
{
    float inv = 1.0f / (float)rows;
    size_t r, k, n = rows * cols;
    if (g != NULL) {
        /* nn-vec: softmax_cce_labels_grad */
        for (k = 0; k < n; k++) g[k] = p[k] * inv;
    }
    if (g != NULL)
        for (r = 0; r < rows; r++) {
            size_t at = r * cols + (size_t)labels[r];
            g[at] = (p[at] - 1.0f) * inv;
        }
    return nn__labels_nll(p, labels, rows, cols) / (double)rows;
}
