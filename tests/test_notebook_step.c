/*
 * test_notebook_step.c - one full training step of the seed notebooks'
 * spiral network (nn_data_spiral 100 x 3 classes, Dense 2-64 ReLU,
 * Dense 64-3 softmax, categorical cross-entropy, plain SGD with the
 * course's learning rate 1.0) against a double-precision reference written
 * here: its own dense forward, ReLU, softmax, clipped CCE, backward (the
 * course's combined softmax + CCE gradient (p - y) / N) and SGD update,
 * starting from the library's initial weights read through
 * nn_net_get_params.  Every tensor (output, loss, dW, db of both layers,
 * updated W, b) is compared with a per-tensor relative error
 * ||lib - ref|| / ||ref||; the one-hot (nn_backward) and label
 * (nn_backward_labels) paths must both match.
 */
#include "nntest.h"

#include <math.h>
#include <stdlib.h>

#define NB_SAMPLES 100
#define NB_CLASSES 3
#define NB_N (NB_SAMPLES * NB_CLASSES)
#define NB_IN 2
#define NB_HID 64
#define NB_LR 1.0

/* Tolerances on ||lib - ref|| / ||ref|| (float32 work against double;
   the measured values are printed).  The forward, loss and updated
   weights are O(u) = 6e-8 quantities (measured <= 7e-8 over seeds 1-3);
   the gradients go through sums of 300 rows of float work (measured
   <= 7e-7).  The biases start at 0, so the updated biases are -lr db and
   carry the gradient's error.  A wrong formula or a missed term gives
   O(1e-2) or more. */
#define TOL_OUT 1e-6
#define TOL_LOSS 1e-6
#define TOL_GRAD 1e-5
#define TOL_PARAM 1e-6

static double rel_err(const float *got, const double *ref, size_t n)
{
    double d2 = 0, r2 = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        d2 += d * d;
        r2 += ref[i] * ref[i];
    }
    return sqrt(d2) / (r2 > 0 ? sqrt(r2) : 1.0);
}

struct ref_step {
    double out[NB_N * NB_CLASSES];
    double loss;
    double dw1[NB_IN * NB_HID], db1[NB_HID];
    double dw2[NB_HID * NB_CLASSES], db2[NB_CLASSES];
    double w1n[NB_IN * NB_HID], b1n[NB_HID];
    double w2n[NB_HID * NB_CLASSES], b2n[NB_CLASSES];
};

/* The reference: everything in double from the float inputs. */
static void reference_step(const float *x, const int32_t *lab,
                           const float *w1, const float *b1,
                           const float *w2, const float *b2,
                           struct ref_step *r)
{
    static double z1[NB_N * NB_HID], h[NB_N * NB_HID];
    static double dz2[NB_N * NB_CLASSES], dh[NB_N * NB_HID];
    size_t s, i, j, k;
    double loss = 0;
    memset(r, 0, sizeof *r);
    for (s = 0; s < NB_N; s++) {
        double z2[NB_CLASSES], mx, sum = 0, p;
        for (j = 0; j < NB_HID; j++) {
            double a = b1[j];
            for (i = 0; i < NB_IN; i++)
                a += (double)x[s * NB_IN + i] * w1[i * NB_HID + j];
            z1[s * NB_HID + j] = a;
            h[s * NB_HID + j] = a > 0 ? a : 0;
        }
        for (k = 0; k < NB_CLASSES; k++) {
            double a = b2[k];
            for (j = 0; j < NB_HID; j++)
                a += h[s * NB_HID + j] * w2[j * NB_CLASSES + k];
            z2[k] = a;
        }
        mx = z2[0];
        for (k = 1; k < NB_CLASSES; k++) mx = fmax(mx, z2[k]);
        for (k = 0; k < NB_CLASSES; k++) sum += exp(z2[k] - mx);
        for (k = 0; k < NB_CLASSES; k++) {
            r->out[s * NB_CLASSES + k] = exp(z2[k] - mx) / sum;
            dz2[s * NB_CLASSES + k] = (r->out[s * NB_CLASSES + k]
                - ((int32_t)k == lab[s] ? 1.0 : 0.0)) / NB_N;
        }
        p = r->out[s * NB_CLASSES + (size_t)lab[s]];
        p = fmin(fmax(p, 1e-7), 1 - 1e-7);
        loss -= log(p);
    }
    r->loss = loss / NB_N;
    /* layer 2: dW2 = h^T dz2, db2 = sum dz2, dh = dz2 W2^T */
    for (s = 0; s < NB_N; s++) {
        for (k = 0; k < NB_CLASSES; k++) {
            double g = dz2[s * NB_CLASSES + k];
            r->db2[k] += g;
            for (j = 0; j < NB_HID; j++)
                r->dw2[j * NB_CLASSES + k] += h[s * NB_HID + j] * g;
        }
        for (j = 0; j < NB_HID; j++) {
            double a = 0;
            for (k = 0; k < NB_CLASSES; k++)
                a += dz2[s * NB_CLASSES + k] * w2[j * NB_CLASSES + k];
            /* ReLU derivative: 1 for z > 0, 0 for z <= 0 */
            dh[s * NB_HID + j] = z1[s * NB_HID + j] > 0 ? a : 0;
        }
    }
    /* layer 1 */
    for (s = 0; s < NB_N; s++)
        for (j = 0; j < NB_HID; j++) {
            double g = dh[s * NB_HID + j];
            r->db1[j] += g;
            for (i = 0; i < NB_IN; i++)
                r->dw1[i * NB_HID + j] += (double)x[s * NB_IN + i] * g;
        }
    for (i = 0; i < NB_IN * NB_HID; i++)
        r->w1n[i] = (double)w1[i] - NB_LR * r->dw1[i];
    for (j = 0; j < NB_HID; j++) r->b1n[j] = (double)b1[j] - NB_LR * r->db1[j];
    for (i = 0; i < NB_HID * NB_CLASSES; i++)
        r->w2n[i] = (double)w2[i] - NB_LR * r->dw2[i];
    for (k = 0; k < NB_CLASSES; k++)
        r->b2n[k] = (double)b2[k] - NB_LR * r->db2[k];
}

/* ReLU inputs within 1e-5 of 0 would make the float and double kink
   decisions differ; report the closest so a failure there is explained. */
static double min_abs_z1(const float *x, const float *w1, const float *b1)
{
    double m = INFINITY;
    size_t s, i, j;
    for (s = 0; s < NB_N; s++)
        for (j = 0; j < NB_HID; j++) {
            double a = b1[j];
            for (i = 0; i < NB_IN; i++)
                a += (double)x[s * NB_IN + i] * w1[i * NB_HID + j];
            if (a != 0 && fabs(a) < m) m = fabs(a);
        }
    return m;
}

static void check(const char *what, double err, double tol, int use_labels)
{
    printf("  %-8s %s rel err %.3e (tol %.0e)\n",
           use_labels ? "labels" : "one-hot", what, err, tol);
    if (!(err <= tol))
        nnt_fail(__FILE__, __LINE__, "notebook step (%s): %s relative "
                 "error %.3e > %.0e", use_labels ? "labels" : "one-hot",
                 what, err, tol);
    nnt_pass();
}

static void run_step(int use_labels)
{
    static float x[NB_N * NB_IN], onehot[NB_N * NB_CLASSES];
    static float out[NB_N * NB_CLASSES];
    static float w1[NB_IN * NB_HID], b1[NB_HID];
    static float w2[NB_HID * NB_CLASSES], b2[NB_CLASSES];
    static float dw1[NB_IN * NB_HID], db1[NB_HID];
    static float dw2[NB_HID * NB_CLASSES], db2[NB_CLASSES];
    static float w1n[NB_IN * NB_HID], b1n[NB_HID];
    static float w2n[NB_HID * NB_CLASSES], b2n[NB_CLASSES];
    static int32_t lab[NB_N];
    static struct ref_step r;
    const size_t sizes[3] = {NB_IN, NB_HID, NB_CLASSES};
    const int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = NULL;
    float loss = 0;
    size_t s;
    uint64_t seed = nnt_seed();

    NNT_OK(nn_data_spiral(x, lab, NB_SAMPLES, NB_CLASSES, seed));
    memset(onehot, 0, sizeof onehot);
    for (s = 0; s < NB_N; s++) {
        NNT_TRUE(lab[s] >= 0 && lab[s] < NB_CLASSES);
        onehot[s * NB_CLASSES + (size_t)lab[s]] = 1.0f;
    }
    NNT_OK(nn_net_create(&net, 2, sizes, acts, seed ^ 0x5EED));
    NNT_OK(nn_net_get_params(net, 0, w1, b1));
    NNT_OK(nn_net_get_params(net, 1, w2, b2));
    reference_step(x, lab, w1, b1, w2, b2, &r);

    NNT_OK(nn_forward(net, x, NB_N, out));
    if (use_labels)
        NNT_OK(nn_backward_labels(net, lab, &loss));
    else
        NNT_OK(nn_backward(net, NN_LOSS_CCE, onehot, &loss));
    NNT_OK(nn_net_get_grads(net, 0, dw1, db1));
    NNT_OK(nn_net_get_grads(net, 1, dw2, db2));
    NNT_OK(nn_sgd_step(net, (float)NB_LR));
    NNT_OK(nn_net_get_params(net, 0, w1n, b1n));
    NNT_OK(nn_net_get_params(net, 1, w2n, b2n));

    printf("  seed %llu, loss lib %.9g ref %.12g, min |z1| %.2e\n",
           (unsigned long long)seed, (double)loss, r.loss,
           min_abs_z1(x, w1, b1));
    check("output", rel_err(out, r.out, NB_N * NB_CLASSES), TOL_OUT,
          use_labels);
    check("loss", fabs((double)loss - r.loss) / r.loss, TOL_LOSS,
          use_labels);
    check("dW1", rel_err(dw1, r.dw1, NB_IN * NB_HID), TOL_GRAD, use_labels);
    check("db1", rel_err(db1, r.db1, NB_HID), TOL_GRAD, use_labels);
    check("dW2", rel_err(dw2, r.dw2, NB_HID * NB_CLASSES), TOL_GRAD,
          use_labels);
    check("db2", rel_err(db2, r.db2, NB_CLASSES), TOL_GRAD, use_labels);
    check("W1'", rel_err(w1n, r.w1n, NB_IN * NB_HID), TOL_PARAM,
          use_labels);
    check("b1'", rel_err(b1n, r.b1n, NB_HID), TOL_GRAD, use_labels);
    check("W2'", rel_err(w2n, r.w2n, NB_HID * NB_CLASSES), TOL_PARAM,
          use_labels);
    check("b2'", rel_err(b2n, r.b2n, NB_CLASSES), TOL_GRAD, use_labels);
    nn_net_destroy(net);
}

NN_TEST(notebook_spiral_step_onehot_vs_double)
{
    run_step(0);
}

NN_TEST(notebook_spiral_step_labels_vs_double)
{
    run_step(1);
}
