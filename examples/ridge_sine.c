/*
 * ridge_sine.c - the closed-form ridge readout (nn_net_fit_readout) on the
 * course's sine regression: a 1-64-64-1 network (tanh, tanh, linear) on
 * y = sin(2 pi x), 1000 points of x in [0, 1] (nn_data_sine).
 *
 *  (a) Random hidden layers (layer 0 Gaussian with biases spread so the
 *      tanh units switch at different x, layer 1 orthogonal), then only
 *      the readout fitted by ridge regression: one call, no training.
 *  (b) Adam (the course's learning rate 0.005, decay 1e-3) for EPOCHS
 *      full-batch epochs on every parameter, from three starts: the
 *      fitted readout of (a) (warm start); the same hidden layers with
 *      the readout as nn_net_init draws it (Glorot uniform, zero bias);
 *      and nn_net_create's default initialisation of the whole network
 *      (from scratch).
 * Errors are measured against sin itself on the 1000 points.  The fit's
 * time is the best of 5 calls (each gives the same weights); the first
 * call also pays for the BLAS threads' start.
 *
 *   ridge_sine [EPOCHS [LAMBDA]]    (defaults 300, 1e-4)
 * Exit status 0 when the readout alone reaches mse < 1e-6 and largest
 * error < 0.01, and the warm start is at least as good as both other
 * starts after the same number of epochs.
 */
#include <nnfs.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());   \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

enum { N = 1000, H = 64 };

static const double PI = 3.14159265358979323846;

static double now_ms(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* mse and largest error of the network against sin(2 pi x) */
static void score(nn_net *net, const float *x, double *mse, double *maxerr)
{
    static float out[N];
    int i;
    CHECK(nn_predict(net, x, N, out));
    *mse = 0.0;
    *maxerr = 0.0;
    for (i = 0; i < N; i++) {
        double e = fabs((double)out[i] - sin(2.0 * PI * (double)x[i]));
        *mse += e * e;
        if (e > *maxerr) *maxerr = e;
    }
    *mse /= N;
}

/* The random hidden layers: W0 ~ 8 N(0, 1) (the library's generator),
   b0 = -W0 c with the switching points c evenly spread over [0, 1], so
   tanh(W0 x + b0) covers the interval; layer 1 orthogonal. */
static void random_features(nn_net *net)
{
    float w0[H], b0[H];
    int j;
    CHECK(nn_net_init(net, 0, NN_INIT_NORMAL, 8.0, 1));
    CHECK(nn_net_init(net, 1, NN_INIT_ORTHOGONAL, 1.0, 2));
    CHECK(nn_net_init(net, 2, NN_INIT_DEFAULT, 1.0, 3));
    CHECK(nn_net_get_params(net, 0, w0, NULL));
    for (j = 0; j < H; j++)
        b0[j] = -w0[j] * (float)((j + 0.5) / H);
    CHECK(nn_net_set_params(net, 0, NULL, b0));
}

/* Adam, the course's settings (learning rate 0.005, decay 1e-3), epochs
   full-batch steps; returns the milliseconds taken. */
static double train(nn_net *net, const float *x, const float *y, long epochs)
{
    nn_optimizer *opt;
    double t0 = now_ms();
    long e;
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.005));
    CHECK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-3));
    for (e = 0; e < epochs; e++) {
        CHECK(nn_forward(net, x, N, NULL));
        CHECK(nn_backward(net, NN_LOSS_MSE, y, NULL));
        CHECK(nn_optimizer_step(opt));
    }
    nn_optimizer_destroy(opt);
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    static float x[N], y[N];
    size_t sizes[4] = {1, H, H, 1};
    int32_t acts[3] = {NN_ACT_TANH, NN_ACT_TANH, NN_ACT_LINEAR};
    long epochs = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
    double lambda = argc > 2 ? strtod(argv[2], NULL) : 1e-4;
    nn_net *warm, *cold, *scratch;
    int32_t method = -1;
    double fit_mse = 0, t_fit, t_warm, t_cold, t0;
    double mse_ro, max_ro, mse_init, max_init, mse_warm, max_warm, mse_cold,
           max_cold, mse_scr, max_scr, t_scr;
    int ok, rep;

    CHECK(nn_data_sine(x, y, N));
    CHECK(nn_net_create(&warm, 3, sizes, acts, 0));
    CHECK(nn_net_create(&cold, 3, sizes, acts, 0));
    CHECK(nn_net_create(&scratch, 3, sizes, acts, 0));
    random_features(warm);
    random_features(cold);
    score(cold, x, &mse_init, &max_init);

    /* (a) the readout alone */
    t_fit = 1e30;
    for (rep = 0; rep < 5; rep++) {
        t0 = now_ms();
        CHECK(nn_net_fit_readout(warm, x, y, N, lambda, &method, &fit_mse));
        t0 = now_ms() - t0;
        if (t0 < t_fit) t_fit = t0;
    }
    score(warm, x, &mse_ro, &max_ro);
    printf("(a) ridge readout (lambda %g, %s): mse vs sin %.3g, largest "
           "error %.3g, %.2f ms (fit mse vs targets %.3g); random readout "
           "before: mse %.3g\n", lambda,
           method == NN_READOUT_SVD ? "LAPACKE_sgelsd" : "LAPACKE_sposv",
           mse_ro, max_ro, t_fit, fit_mse, mse_init);

    /* (b) warm start against scratch, equal epochs */
    t_warm = train(warm, x, y, epochs);
    score(warm, x, &mse_warm, &max_warm);
    t_cold = train(cold, x, y, epochs);
    score(cold, x, &mse_cold, &max_cold);
    t_scr = train(scratch, x, y, epochs);
    score(scratch, x, &mse_scr, &max_scr);
    printf("(b) Adam %ld epochs from the ridge readout: mse %.3g, largest "
           "error %.3g, %.0f ms (+ %.2f ms fit)\n", epochs, mse_warm,
           max_warm, t_warm, t_fit);
    printf("    Adam %ld epochs from the same hidden layers, readout "
           "drawn: mse %.3g, largest error %.3g, %.0f ms\n", epochs,
           mse_cold, max_cold, t_cold);
    printf("    Adam %ld epochs from scratch (nn_net_create's init): mse "
           "%.3g, largest error %.3g, %.0f ms\n", epochs, mse_scr, max_scr,
           t_scr);

    ok = mse_ro < 1e-6 && max_ro < 0.01 && mse_warm <= mse_cold &&
         mse_warm <= mse_scr;
    printf("readout alone mse < 1e-6 and largest error < 0.01, warm start "
           "<= both others at %ld epochs: %s\n", epochs,
           ok ? "reached" : "NOT reached");
    nn_net_destroy(warm);
    nn_net_destroy(cold);
    nn_net_destroy(scratch);
    return ok ? 0 : 1;
}
