/*
 * metrics.c - accuracy and loss values of outputs, without a network.
 */
#include "base/base.h"
#include "kernels/kernels.h"

#include <math.h>

static int nn__check_out(const char *fn, const float *out, size_t batch,
                         size_t n_out)
{
    size_t n;
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    NN__CHECK(batch == 0, NN_ERR_INVALID_ARG, "%s: batch is 0", fn);
    NN__CHECK(n_out == 0, NN_ERR_INVALID_ARG, "%s: n_out is 0", fn);
    NN__CHECK(!nn__mul_ok(batch, n_out, &n) || n > SIZE_MAX / sizeof(float),
              NN_ERR_SHAPE, "%s: batch * n_out = %zu * %zu overflows", fn,
              batch, n_out);
    return NN_OK;
}

static int nn__check_labels(const char *fn, const int32_t *labels,
                            size_t batch, size_t n_out)
{
    size_t i;
    NN__CHECK(labels == NULL, NN_ERR_INVALID_ARG, "%s: labels is NULL", fn);
    for (i = 0; i < batch; i++)
        NN__CHECK(labels[i] < 0 || (size_t)labels[i] >= n_out, NN_ERR_SHAPE,
                  "%s: labels[%zu] = %d is outside [0, %zu)", fn, i,
                  (int)labels[i], n_out);
    return NN_OK;
}

static int nn__check_finite(const char *fn, const char *what, const float *x,
                            size_t n)
{
    size_t i;
    if (nn__kernels()->amax(x, n) < NN__NONFINITE_BITS) return NN_OK;
    for (i = 0; i < n && isfinite(x[i]); i++) continue;
    return nn__fail(NN_ERR_NONFINITE, "%s: %s[%zu] is %s", fn, what, i,
                    isnan(x[i]) ? "NaN" : "infinite");
}

int nn_accuracy(const float *out, size_t batch, size_t n_out,
                const int32_t *labels, float *accuracy_out)
{
    static const char fn[] = "nn_accuracy";
    size_t i, j, hits = 0;
    NN__FORWARD(nn__check_out(fn, out, batch, n_out));
    NN__FORWARD(nn__check_labels(fn, labels, batch, n_out));
    NN__CHECK(accuracy_out == NULL, NN_ERR_INVALID_ARG,
              "%s: accuracy_out is NULL", fn);
    for (i = 0; i < batch; i++) {
        const float *row = out + i * n_out;
        size_t best = 0;
        for (j = 0; j < n_out; j++)
            NN__CHECK(isnan(row[j]), NN_ERR_NONFINITE,
                      "%s: out[%zu] (row %zu, column %zu) is NaN", fn,
                      i * n_out + j, i, j);
        /* first maximum wins, as numpy.argmax */
        for (j = 1; j < n_out; j++)
            if (row[j] > row[best]) best = j;
        hits += best == (size_t)labels[i];
    }
    *accuracy_out = (float)((double)hits / (double)batch);
    return NN_OK;
}

int nn_loss_compute(int32_t loss, const float *out, const float *targets,
                    size_t batch, size_t n_out, float *loss_out)
{
    static const char fn[] = "nn_loss_compute";
    double v;
    NN__FORWARD(nn__check_out(fn, out, batch, n_out));
    NN__CHECK(targets == NULL, NN_ERR_INVALID_ARG, "%s: targets is NULL", fn);
    NN__CHECK(loss_out == NULL, NN_ERR_INVALID_ARG, "%s: loss_out is NULL",
              fn);
    NN__CHECK(loss < 0 || loss >= NN__N_LOSS, NN_ERR_INVALID_ARG,
              "%s: loss = %d is not an NN_LOSS_* value", fn, (int)loss);
    NN__FORWARD(nn__check_finite(fn, "out", out, batch * n_out));
    NN__FORWARD(nn__check_finite(fn, "targets", targets, batch * n_out));
    v = nn__kernels()->loss[loss](out, targets, NULL, batch, n_out);
    NN__CHECK(!isfinite(v), NN_ERR_NONFINITE, "%s: the loss is not finite",
              fn);
    *loss_out = (float)v;
    return NN_OK;
}

int nn_loss_compute_labels(const float *out, const int32_t *labels,
                           size_t batch, size_t n_out, float *loss_out)
{
    static const char fn[] = "nn_loss_compute_labels";
    double v;
    NN__FORWARD(nn__check_out(fn, out, batch, n_out));
    NN__FORWARD(nn__check_labels(fn, labels, batch, n_out));
    NN__CHECK(loss_out == NULL, NN_ERR_INVALID_ARG, "%s: loss_out is NULL",
              fn);
    NN__FORWARD(nn__check_finite(fn, "out", out, batch * n_out));
    v = nn__kernels()->cce_labels(out, labels, NULL, batch, n_out);
    NN__CHECK(!isfinite(v), NN_ERR_NONFINITE, "%s: the loss is not finite",
              fn);
    *loss_out = (float)v;
    return NN_OK;
}

int nn_accuracy_binary(const float *out, const float *targets, size_t batch,
                       size_t n_out, float *accuracy_out)
{
    static const char fn[] = "nn_accuracy_binary";
    size_t i, n, hits = 0;
    NN__FORWARD(nn__check_out(fn, out, batch, n_out));
    NN__CHECK(targets == NULL, NN_ERR_INVALID_ARG, "%s: targets is NULL", fn);
    NN__CHECK(accuracy_out == NULL, NN_ERR_INVALID_ARG,
              "%s: accuracy_out is NULL", fn);
    n = batch * n_out;
    NN__FORWARD(nn__check_finite(fn, "out", out, n));
    NN__FORWARD(nn__check_finite(fn, "targets", targets, n));
    for (i = 0; i < n; i++) hits += (out[i] > 0.5f) == (targets[i] > 0.5f);
    *accuracy_out = (float)((double)hits / (double)n);
    return NN_OK;
}

int nn_accuracy_regression(const float *out, const float *targets,
                           size_t batch, size_t n_out, float precision,
                           float *accuracy_out)
{
    static const char fn[] = "nn_accuracy_regression";
    size_t i, n, hits = 0;
    NN__FORWARD(nn__check_out(fn, out, batch, n_out));
    NN__CHECK(targets == NULL, NN_ERR_INVALID_ARG, "%s: targets is NULL", fn);
    NN__CHECK(accuracy_out == NULL, NN_ERR_INVALID_ARG,
              "%s: accuracy_out is NULL", fn);
    NN__CHECK(!(precision > 0.0f) || !isfinite(precision),
              NN_ERR_INVALID_ARG, "%s: precision = %g must be finite and > 0",
              fn, (double)precision);
    n = batch * n_out;
    NN__FORWARD(nn__check_finite(fn, "out", out, n));
    NN__FORWARD(nn__check_finite(fn, "targets", targets, n));
    for (i = 0; i < n; i++) hits += fabsf(out[i] - targets[i]) < precision;
    *accuracy_out = (float)((double)hits / (double)n);
    return NN_OK;
}
