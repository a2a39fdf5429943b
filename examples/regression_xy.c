/*
 * regression_xy.c - the course notebook's regression network: sizes
 * (2, 7, 7, 3, 1), ReLU hidden layers and a linear output, fitted to
 * f(x, y) = (x + 4)^3 + 4 y (plus N(0, 0.1^2) noise) for (x, y) uniform in
 * [0, 1)^2, with mean squared error on mini-batches of 32.  The notebook
 * trains it with plain SGD; here Adam (learning rate 0.02, decay 1e-4)
 * through nn_trainer.  The mean squared error starts near 9000 (targets
 * are 64 to 130) and must fall by at least three orders of magnitude.
 *
 *   regression_xy [EPOCHS]   exit status 0 when final/initial loss < 1e-3
 */
#include <nnfs.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());   \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

enum { N = 10000, N_VAL = 1000 };

/* the example's own generator (splitmix64): uniform [0, 1) and normal */
static uint64_t state = 42;
static double uniform(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static double normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * 3.14159265358979 * v);
}

static double f(double x, double y) { return pow(x + 4.0, 3.0) + 4.0 * y; }

static void make(float *x, float *t, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        x[2 * i] = (float)uniform();
        x[2 * i + 1] = (float)uniform();
        t[i] = (float)(f(x[2 * i], x[2 * i + 1]) + 0.1 * normal());
    }
}

static int report(void *user, const nn_trainer *tr, int32_t event)
{
    double epoch, loss, vloss, acc;
    (void)user;
    (void)event;
    nn_trainer_metric(tr, NN_METRIC_EPOCH, &epoch);
    nn_trainer_metric(tr, NN_METRIC_LOSS, &loss);
    nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &vloss);
    nn_trainer_metric(tr, NN_METRIC_ACCURACY, &acc);
    if ((long)epoch % 5 == 0 || epoch == 1)
        printf("epoch: %ld, loss: %.4f, acc: %.3f, val_loss: %.4f\n",
               (long)epoch, loss, acc, vloss);
    return 0;
}

int main(int argc, char **argv)
{
    static float x[N * 2], t[N], xv[N_VAL * 2], tv[N_VAL], out[N_VAL];
    size_t sizes[5] = {2, 7, 7, 3, 1};
    int32_t acts[4] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_RELU, NN_ACT_LINEAR};
    long epochs = argc > 1 ? strtol(argv[1], NULL, 10) : 60;
    nn_net *net;
    nn_optimizer *opt;
    nn_trainer *tr;
    float first = 0, last = 0;

    make(x, t, N);
    make(xv, tv, N_VAL);
    CHECK(nn_net_create(&net, 4, sizes, acts, 0));
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.005));
    CHECK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-4));

    CHECK(nn_predict(net, xv, N_VAL, out));
    CHECK(nn_loss_compute(NN_LOSS_MSE, out, tv, N_VAL, 1, &first));
    printf("before training: validation loss %.1f\n", (double)first);

    CHECK(nn_trainer_create(&tr, net, opt));
    CHECK(nn_trainer_set(tr, NN_TRAIN_LOSS, NN_LOSS_MSE));
    CHECK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 32));
    CHECK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, (double)epochs));
    CHECK(nn_trainer_set_callback(tr, report, NULL));
    CHECK(nn_trainer_fit(tr, x, t, NULL, N, xv, tv, NULL, N_VAL));

    CHECK(nn_predict(net, xv, N_VAL, out));
    CHECK(nn_loss_compute(NN_LOSS_MSE, out, tv, N_VAL, 1, &last));
    printf("f(0.5, 0.5) = %.3f, network: ", f(0.5, 0.5));
    {
        float q[2] = {0.5f, 0.5f}, o;
        CHECK(nn_predict(net, q, 1, &o));
        printf("%.3f\n", (double)o);
    }
    printf("validation loss %.1f -> %.4f (ratio %.2g, target < 1e-3): %s\n",
           (double)first, (double)last, (double)(last / first),
           last / first < 1e-3f ? "reached" : "NOT reached");
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return last / first < 1e-3f ? 0 : 1;
}
