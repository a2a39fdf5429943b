/*
 * data.c - the NNFS course's toy data sets, generated in the library.
 *
 * Same distributions as the nnfs package (nnfs.datasets), drawn from the
 * library's own generator and deterministic trigonometry (rng.c), so a
 * seed gives the same points on every platform.  Built with
 * -ffp-contract=off for the same reason.
 */
#include "internal.h"

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
    int st = nn__data_check("nn_data_spiral", x, samples, classes);
    if (st != NN_OK) return st;

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
    int st = nn__data_check("nn_data_vertical", x, samples, classes);
    if (st != NN_OK) return st;

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
    int st = nn__data_check("nn_data_sine", x, samples, 1);
    if (st != NN_OK) return st;
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

/* Uniform integer in [0, bound) without modulo bias (rejection of the
   final partial range), bound >= 1. */
uint64_t nn__rng_below(struct nn__rng *r, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound, v;
    do {
        v = nn__rng_next(r);
    } while (v < threshold);
    return v % bound;
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

/*====== Weight initialisation ======*/

void nn__init_layer(struct nn__layer *l, int32_t scheme, double gain,
                    struct nn__rng *r)
{
    size_t j, n = l->n_in * l->n_out;
    double limit;
    switch (scheme) {
    case NN_INIT_NORMAL:
        for (j = 0; j < n; j++) l->w[j] = (float)(gain * nn__rng_gauss(r));
        break;
    case NN_INIT_UNIFORM:
        for (j = 0; j < n; j++)
            l->w[j] = (float)((2.0 * nn__rng_uniform(r) - 1.0) * gain);
        break;
    default:
        /* He-uniform for ReLU, Glorot-uniform otherwise: only sqrt and
           correctly rounded arithmetic, so the draw is the same
           everywhere */
        limit = gain * sqrt(6.0 / (l->act == NN_ACT_RELU
                                       ? (double)l->n_in
                                       : (double)(l->n_in + l->n_out)));
        for (j = 0; j < n; j++)
            l->w[j] = (float)((2.0 * nn__rng_uniform(r) - 1.0) * limit);
        break;
    }
    memset(l->b, 0, l->n_out * sizeof(float));
}

int nn_net_init(nn_net *net, size_t layer, int32_t scheme, double gain,
                uint64_t seed)
{
    static const char fn[] = "nn_net_init";
    struct nn__rng r;
    size_t i, lo, hi;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    if (layer != NN_ALL_LAYERS) {
        int st = nn__check_layer(net, layer, fn);
        if (st != NN_OK) return st;
    }
    NN__CHECK(scheme < NN_INIT_DEFAULT || scheme > NN_INIT_ORTHOGONAL,
              NN_ERR_INVALID_ARG, "%s: scheme = %d is not an NN_INIT_* "
              "value", fn, (int)scheme);
    NN__CHECK(!isfinite(gain), NN_ERR_NONFINITE, "%s: gain is %s", fn,
              isnan(gain) ? "NaN" : "infinite");
    NN__CHECK(gain < 0 || gain > 1e30, NN_ERR_INVALID_ARG,
              "%s: gain = %g is outside [0, 1e30]", fn, gain);
    lo = layer == NN_ALL_LAYERS ? 0 : layer;
    hi = layer == NN_ALL_LAYERS ? net->n_layers : layer + 1;
    nn__rng_seed(&r, seed);
    if (scheme == NN_INIT_ORTHOGONAL) {
        /* LAPACK may fail: draw every layer into scratch first, then
           copy, so a failure changes nothing */
        size_t tot = 0, off = 0;
        for (i = lo; i < hi; i++)
            tot += net->layers[i].n_in * net->layers[i].n_out;
        float *tmp = nn__malloc(tot * sizeof *tmp);
        if (tmp == NULL)
            return nn__fail(NN_ERR_NOMEM, "%s: no memory for %zu "
                            "weights", fn, tot);
        for (i = lo; i < hi; i++) {
            const struct nn__layer *l = &net->layers[i];
            int st = nn__orthogonal_draw(tmp + off, l->n_in, l->n_out,
                                         gain, &r, fn);
            if (st != NN_OK) { nn__free(tmp); return st; }
            off += l->n_in * l->n_out;
        }
        for (i = lo, off = 0; i < hi; i++) {
            struct nn__layer *l = &net->layers[i];
            memcpy(l->w, tmp + off, l->n_in * l->n_out * sizeof(float));
            memset(l->b, 0, l->n_out * sizeof(float));
            off += l->n_in * l->n_out;
        }
        nn__free(tmp);
    } else {
        for (i = lo; i < hi; i++)
            nn__init_layer(&net->layers[i], scheme, gain, &r);
    }
    nn__net_refresh_pmax(net);
    net->batch = 0;   /* the cached forward used the old parameters */
    return NN_OK;
}
