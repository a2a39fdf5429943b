/*
 * sine.c - the course's regression: a 1-64-64-1 network (ReLU, ReLU,
 * linear) fitted to y = sin(2 pi x) on 1000 points with mean squared
 * error, Adam (learning rate 0.005, decay 1e-3) and the course's weight
 * initialisation 0.1 * randn, 10000 epochs.  Accuracy is the course's:
 * |prediction - y| < std(y) / 250.  Adam can spike late in training, so
 * the result is judged on the error of the final network against sin
 * itself: mean squared error below 1e-3 and largest error below 0.1.
 *
 *   sine [EPOCHS]     exit status 0 when both limits are met
 */
#include <nnfs.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());   \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

enum { N = 1000 };

int main(int argc, char **argv)
{
    static float x[N], y[N], out[N];
    size_t sizes[4] = {1, 64, 64, 1};
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_LINEAR};
    long epochs = argc > 1 ? strtol(argv[1], NULL, 10) : 10000, epoch;
    nn_net *net;
    nn_optimizer *opt;
    float loss = 0, acc = 0, precision;
    double mean = 0, var = 0, mse = 0, maxerr = 0, lr;
    int i;

    CHECK(nn_data_sine(x, y, N));
    for (i = 0; i < N; i++) mean += y[i];
    mean /= N;
    for (i = 0; i < N; i++) var += (y[i] - mean) * (y[i] - mean);
    precision = (float)(sqrt(var / N) / 250.0);

    CHECK(nn_net_create(&net, 3, sizes, acts, 0));
    CHECK(nn_net_init(net, NN_ALL_LAYERS, NN_INIT_NORMAL, 0.1, 0));
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.005));
    CHECK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-3));

    for (epoch = 0; epoch <= epochs; epoch++) {
        CHECK(nn_forward(net, x, N, out));
        CHECK(nn_backward(net, NN_LOSS_MSE, y, &loss));
        if (epoch % 100 == 0) {
            CHECK(nn_accuracy_regression(out, y, N, 1, precision, &acc));
            CHECK(nn_optimizer_get(opt, NN_OPT_CURRENT_LEARNING_RATE, &lr));
            printf("epoch: %ld, acc: %.3f, loss: %.6f, lr: %.10g\n", epoch,
                   (double)acc, (double)loss, lr);
        }
        if (epoch < epochs) CHECK(nn_optimizer_step(opt));
    }
    CHECK(nn_predict(net, x, N, out));
    for (i = 0; i < N; i++) {
        double e = fabs((double)out[i] - sin(2.0 * 3.14159265358979323846 * (double)x[i]));
        mse += e * e;
        if (e > maxerr) maxerr = e;
    }
    mse /= N;
    printf("final network against sin(2 pi x): mse %.3g, largest error "
           "%.3g (limits 1e-3, 0.1): %s\n", mse, maxerr,
           mse < 1e-3 && maxerr < 0.1 ? "reached" : "NOT reached");
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return mse < 1e-3 && maxerr < 0.1 ? 0 : 1;
}
