/*
 * binary_spiral.c - the course's binary logistic regression: a 2-64-1
 * network (ReLU, one sigmoid output) with binary cross-entropy on 2-class
 * spiral data, L2 penalty 5e-4 on the hidden layer's weights and biases,
 * Adam (learning rate 0.001, decay 5e-7), 10000 epochs, then a check on a
 * fresh set.  The course reports about 0.9 training accuracy.
 *
 *   binary_spiral [EPOCHS]   exit status 0 when training accuracy >= 0.80
 */
#include <nnfs.h>

#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());   \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

enum { SAMPLES = 100, CLASSES = 2, N = SAMPLES * CLASSES };

int main(int argc, char **argv)
{
    static float x[N * 2], t[N], out[N];
    static int32_t y[N];
    size_t sizes[3] = {2, 64, 1};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SIGMOID};
    long epochs = argc > 1 ? strtol(argv[1], NULL, 10) : 10000, epoch;
    nn_net *net;
    nn_optimizer *opt;
    float loss = 0, reg = 0, acc = 0;
    double lr;
    int i;

    CHECK(nn_data_spiral(x, y, SAMPLES, CLASSES, 0));
    for (i = 0; i < N; i++) t[i] = (float)y[i];   /* 0/1 targets */
    CHECK(nn_net_create(&net, 2, sizes, acts, 0));
    CHECK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 5e-4));
    CHECK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_BIASES, 5e-4));
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.001));
    CHECK(nn_optimizer_set(opt, NN_OPT_DECAY, 5e-7));

    for (epoch = 0; epoch <= epochs; epoch++) {
        CHECK(nn_forward(net, x, N, out));
        CHECK(nn_backward(net, NN_LOSS_BCE, t, &loss));
        CHECK(nn_net_regularization_loss(net, &reg));
        CHECK(nn_accuracy_binary(out, t, N, 1, &acc));
        if (epoch % 100 == 0) {
            CHECK(nn_optimizer_get(opt, NN_OPT_CURRENT_LEARNING_RATE, &lr));
            printf("epoch: %ld, acc: %.3f, loss: %.3f (data_loss: %.3f, "
                   "reg_loss: %.3f), lr: %.10g\n", epoch, (double)acc,
                   (double)(loss + reg), (double)loss, (double)reg, lr);
        }
        if (epoch < epochs) CHECK(nn_optimizer_step(opt));
    }
    {
        static float xt[N * 2], tt[N];
        static int32_t yt[N];
        float vloss = 0, vacc = 0;
        CHECK(nn_data_spiral(xt, yt, SAMPLES, CLASSES, 1));
        for (i = 0; i < N; i++) tt[i] = (float)yt[i];
        CHECK(nn_predict(net, xt, N, out));
        CHECK(nn_loss_compute(NN_LOSS_BCE, out, tt, N, 1, &vloss));
        CHECK(nn_accuracy_binary(out, tt, N, 1, &vacc));
        printf("validation, acc: %.3f, loss: %.3f\n", (double)vacc,
               (double)vloss);
    }
    printf("training accuracy %.3f (target >= 0.80): %s\n", (double)acc,
           acc >= 0.80f ? "reached" : "NOT reached");
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return acc >= 0.80f ? 0 : 1;
}
