/*
 * data.c - the NNFS course's toy data sets, generated in the library.
 *
 * Same distributions as the nnfs package (nnfs.datasets), drawn from the
 * library's own generator and deterministic trigonometry (rng.c), so a
 * seed gives the same points on every platform.  Built with
 * -ffp-contract=off for the same reason.
 */
#include "base/base.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static int nn__data_check(const char *fn, const float *x, size_t samples,
                          size_t classes)
{
    size_t n;
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__CHECK(samples == 0, NN_ERR_INVALID_ARG, "%s: samples is 0", fn);
    NN__CHECK(classes == 0, NN_ERR_INVALID_ARG, "%s: classes is 0", fn);
    NN__CHECK(!nn__mul_ok(samples, classes, &n) || n > INT32_MAX,
              NN_ERR_SHAPE, "%s: samples * classes = %zu * %zu exceeds %d",
              fn, samples, classes, INT32_MAX);
    return NN_OK;
}

int nn_data_spiral(float *x, int32_t *labels, size_t samples, size_t classes,
                   uint64_t seed)
{
    struct nn__rng r;
    size_t c, i;
    NN__FORWARD(nn__data_check("nn_data_spiral", x, samples, classes));

    nn__rng_seed(&r, seed);
    for (c = 0; c < classes; c++) {
        for (i = 0; i < samples; i++) {
            size_t row = c * samples + i;
            /* np.linspace(0, 1, samples) and
               np.linspace(4c, 4(c+1), samples): a single sample sits at
               the start, as NumPy puts it */
            double f = samples > 1 ? (double)i / (double)(samples - 1) : 0.0;
            double t = 4.0 * (double)c + 4.0 * f + 0.2 * nn__rng_gauss(&r);
            double s, co;
            nn__det_sincos(2.5 * t, &s, &co);
            x[2 * row] = (float)(f * s);
            x[2 * row + 1] = (float)(f * co);
            if (labels != NULL) labels[row] = (int32_t)c;
        }
    }
    return NN_OK;
}

int nn_data_vertical(float *x, int32_t *labels, size_t samples,
                     size_t classes, uint64_t seed)
{
    struct nn__rng r;
    size_t c, i;
    NN__FORWARD(nn__data_check("nn_data_vertical", x, samples, classes));

    nn__rng_seed(&r, seed);
    for (c = 0; c < classes; c++) {
        for (i = 0; i < samples; i++) {
            size_t row = c * samples + i;
            /* nnfs: (randn * 0.1 + c / 3, randn * 0.1 + 0.5) */
            x[2 * row] = (float)(0.1 * nn__rng_gauss(&r) + (double)c / 3.0);
            x[2 * row + 1] = (float)(0.1 * nn__rng_gauss(&r) + 0.5);
            if (labels != NULL) labels[row] = (int32_t)c;
        }
    }
    return NN_OK;
}

int nn_data_sine(float *x, float *y, size_t samples)
{
    static const double two_pi = 6.28318530717958647692;
    size_t i;
    NN__FORWARD(nn__data_check("nn_data_sine", x, samples, 1));
    NN__CHECK(y == NULL, NN_ERR_INVALID_ARG, "nn_data_sine: y is NULL");
    for (i = 0; i < samples; i++) {
        /* nnfs: X = arange(samples) / samples, y = sin(2 pi X) */
        double xi = (double)i / (double)samples, s, c;
        nn__det_sincos(two_pi * xi, &s, &c);
        x[i] = (float)xi;
        y[i] = (float)s;
    }
    return NN_OK;
}

static void nn__swap_floats(float *a, float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

int nn_data_shuffle(float *x, size_t rows, size_t cols, float *y,
                    size_t y_cols, int32_t *labels, uint64_t seed)
{
    static const char fn[] = "nn_data_shuffle";
    struct nn__rng r;
    size_t i, cells;
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__CHECK(rows == 0, NN_ERR_INVALID_ARG, "%s: rows is 0", fn);
    NN__CHECK(cols == 0, NN_ERR_INVALID_ARG, "%s: cols is 0", fn);
    NN__CHECK(y != NULL && y_cols == 0, NN_ERR_INVALID_ARG,
              "%s: y is given but y_cols is 0", fn);
    NN__CHECK(!nn__mul_ok(rows, cols, &cells) ||
              (y != NULL && !nn__mul_ok(rows, y_cols, &cells)),
              NN_ERR_SHAPE, "%s: rows * cols overflows", fn);
    nn__rng_seed(&r, seed);
    /* Fisher-Yates, from the end: row i swaps with a uniform j <= i */
    for (i = rows - 1; i > 0; i--) {
        size_t j = (size_t)nn__rng_below(&r, (uint64_t)i + 1);
        if (j == i) continue;
        nn__swap_floats(x + i * cols, x + j * cols, cols);
        if (y != NULL) nn__swap_floats(y + i * y_cols, y + j * y_cols, y_cols);
        if (labels != NULL) {
            int32_t t = labels[i];
            labels[i] = labels[j];
            labels[j] = t;
        }
    }
    return NN_OK;
}
