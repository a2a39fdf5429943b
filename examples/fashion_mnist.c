/*
 * fashion_mnist.c - a 784-128-128-10 classifier (ReLU, ReLU, softmax) on
 * Fashion-MNIST from the Debian package dataset-fashion-mnist, trained
 * with Adam (learning rate 0.001, decay 1e-4) on mini-batches of 128
 * through nn_trainer, pixels scaled to [-1, 1] as in the course.  Reports
 * loss and accuracy per epoch, seconds per epoch, and the accuracy on the
 * 10000 test images.  With --checkpoint it saves the model and the Adam
 * state after every epoch, and --resume continues from such a file.
 *
 *   fashion_mnist [--epochs N] [--limit N] [--min-accuracy A]
 *                 [--dir DIR] [--checkpoint PATH] [--resume PATH]
 *
 * Exit status: 0 when the test accuracy reaches --min-accuracy (default
 * 0.875), 1 when not, 2 on an error, 77 when the data is not installed.
 */
#include <nnfs.h>

#include "fashion_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());   \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

struct run {
    const char *checkpoint;
    nn_net *net;
    nn_optimizer *opt;
    double last_seconds;
};

static int on_epoch(void *user, const nn_trainer *tr, int32_t event)
{
    struct run *r = user;
    double epoch, loss, acc, vloss, vacc, secs;
    (void)event;
    nn_trainer_metric(tr, NN_METRIC_EPOCH, &epoch);
    nn_trainer_metric(tr, NN_METRIC_LOSS, &loss);
    nn_trainer_metric(tr, NN_METRIC_ACCURACY, &acc);
    nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &vloss);
    nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &vacc);
    nn_trainer_metric(tr, NN_METRIC_SECONDS, &secs);
    printf("epoch %2ld  loss %.4f  acc %.4f  test_loss %.4f  test_acc %.4f"
           "  %.2f s\n", (long)epoch, loss, acc, vloss, vacc,
           secs - r->last_seconds);
    fflush(stdout);
    r->last_seconds = secs;
    if (r->checkpoint != NULL &&
        nn_checkpoint_save(r->net, r->opt, r->checkpoint) != NN_OK) {
        fprintf(stderr, "checkpoint: %s\n", nn_last_error());
        return 1;   /* stop */
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = "/usr/share/datasets/fashion-mnist", *resume = NULL;
    size_t sizes[4] = {784, 128, 128, 10}, limit = 0, n, nt;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_SOFTMAX};
    long epochs = 10;
    double min_acc = 0.875, vacc, secs, stopped;
    float *x, *xt;
    int32_t *y, *yt;
    struct run r = {NULL, NULL, NULL, 0};
    nn_trainer *tr;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) goto usage;
        if (strcmp(a, "--epochs") == 0) epochs = strtol(v, NULL, 10);
        else if (strcmp(a, "--limit") == 0) limit = strtoul(v, NULL, 10);
        else if (strcmp(a, "--min-accuracy") == 0) min_acc = atof(v);
        else if (strcmp(a, "--dir") == 0) dir = v;
        else if (strcmp(a, "--checkpoint") == 0) r.checkpoint = v;
        else if (strcmp(a, "--resume") == 0) resume = v;
        else goto usage;
        i++;
    }
    if (epochs < 1) goto usage;

    if (!fashion_load_splits(dir, limit, &x, &y, &n, &xt, &yt, &nt))
        return 77;
    if (resume != NULL) {
        CHECK(nn_checkpoint_load(&r.net, &r.opt, resume));
        if (r.opt == NULL) {
            fprintf(stderr, "%s holds no optimizer state\n", resume);
            return 2;
        }
        {
            double it;
            CHECK(nn_optimizer_get(r.opt, NN_OPT_ITERATIONS, &it));
            printf("resumed from %s after %.0f steps\n", resume, it);
        }
    } else {
        CHECK(nn_net_create(&r.net, 3, sizes, acts, 0));
        CHECK(nn_optimizer_create(&r.opt, r.net, NN_OPT_ADAM));
        CHECK(nn_optimizer_set(r.opt, NN_OPT_LEARNING_RATE, 0.001));
        CHECK(nn_optimizer_set(r.opt, NN_OPT_DECAY, 1e-4));
    }
    printf("784-128-128-10 on %zu training images, %zu test images; %s, "
           "%s, kernels %s, %d BLAS threads\n", n, nt, nn_info(NN_INFO_BLAS),
           nn_info(NN_INFO_BLAS_CORE), nn_info(NN_INFO_KERNELS),
           nn_get_num_threads());
    CHECK(nn_trainer_create(&tr, r.net, r.opt));
    CHECK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 128));
    CHECK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, (double)epochs));
    CHECK(nn_trainer_set_callback(tr, on_epoch, &r));
    CHECK(nn_trainer_fit(tr, x, NULL, y, n, xt, NULL, yt, nt));
    CHECK(nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &vacc));
    CHECK(nn_trainer_metric(tr, NN_METRIC_SECONDS, &secs));
    CHECK(nn_trainer_metric(tr, NN_METRIC_STOPPED, &stopped));
    if (stopped != 0) return 2;
    printf("test accuracy %.4f after %ld epochs, %.3f s per epoch "
           "(target >= %.3f): %s\n", vacc, epochs, secs / (double)epochs,
           min_acc, vacc >= min_acc ? "reached" : "NOT reached");
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(r.opt);
    nn_net_destroy(r.net);
    free(x);
    free(y);
    free(xt);
    free(yt);
    return vacc >= min_acc ? 0 : 1;

usage:
    fprintf(stderr, "usage: %s [--epochs N] [--limit N] [--min-accuracy A] "
            "[--dir DIR] [--checkpoint PATH] [--resume PATH]\n", argv[0]);
    return 2;
}
