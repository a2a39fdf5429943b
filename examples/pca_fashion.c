/*
 * pca_fashion.c - Fashion-MNIST reduced by PCA before a small MLP, against
 * the same MLP on the full 784 pixels.
 *
 * Fits nn_pca on the training images (pixels scaled to [-1, 1]), keeps
 * --components K of them (default 64; whitened with --whiten), and trains
 * K-128-10 (ReLU, softmax) with Adam (learning rate 0.001, decay 1e-4) on
 * mini-batches of 128 through nn_trainer; then trains 784-128-10 with the
 * same settings and seed on the raw pixels.  Reports the PCA fit time,
 * the variance the K components explain, and for both networks the test
 * accuracy and the training time per epoch.
 *
 *   pca_fashion [--components K] [--epochs N] [--limit N] [--whiten]
 *               [--min-accuracy A] [--no-baseline] [--save PATH]
 *               [--dir DIR]
 *
 * Exit status: 0 when the PCA network's test accuracy reaches
 * --min-accuracy (default 0.85), 1 when not, 2 on an error, 77 when the
 * data is not installed.
 */
#define _POSIX_C_SOURCE 200809L
#include <nnfs.h>

#include "fashion_data.h"

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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Train n_in-128-10 on x (n rows) and measure it on xt (nt rows).
   Returns the test accuracy; *epoch_s gets training seconds per epoch. */
static double train(const float *x, const int32_t *y, size_t n,
                    const float *xt, const int32_t *yt, size_t nt,
                    size_t n_in, long epochs, double *epoch_s)
{
    size_t sizes[3] = {n_in, 128, 10};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net;
    nn_optimizer *opt;
    nn_trainer *tr;
    double secs;
    float acc, *out = malloc(nt * 10 * sizeof *out);
    if (out == NULL) exit(2);
    CHECK(nn_net_create(&net, 2, sizes, acts, 0));
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.001));
    CHECK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-4));
    CHECK(nn_trainer_create(&tr, net, opt));
    CHECK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 128));
    CHECK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, (double)epochs));
    CHECK(nn_trainer_fit(tr, x, NULL, y, n, NULL, NULL, NULL, 0));
    CHECK(nn_trainer_metric(tr, NN_METRIC_SECONDS, &secs));
    CHECK(nn_predict(net, xt, nt, out));
    CHECK(nn_accuracy(out, nt, 10, yt, &acc));
    *epoch_s = secs / (double)epochs;
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    free(out);
    return (double)acc;
}

/* The command line's settings. */
struct opts {
    const char *dir, *save;
    size_t k, limit;
    long epochs;
    int whiten, baseline;
    double min_acc;
};

/* Fills *o from argv over the defaults; returns 0, or -1 on a bad or
   incomplete option. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    int i;
    o->dir = "/usr/share/datasets/fashion-mnist";
    o->save = NULL;
    o->k = 64;
    o->limit = 0;
    o->epochs = 10;
    o->whiten = 0;
    o->baseline = 1;
    o->min_acc = 0.85;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--whiten") == 0) { o->whiten = 1; continue; }
        if (strcmp(a, "--no-baseline") == 0) { o->baseline = 0; continue; }
        if (v == NULL) return -1;
        if (strcmp(a, "--components") == 0) o->k = strtoul(v, NULL, 10);
        else if (strcmp(a, "--epochs") == 0) o->epochs = strtol(v, NULL, 10);
        else if (strcmp(a, "--limit") == 0) o->limit = strtoul(v, NULL, 10);
        else if (strcmp(a, "--min-accuracy") == 0) o->min_acc = atof(v);
        else if (strcmp(a, "--save") == 0) o->save = v;
        else if (strcmp(a, "--dir") == 0) o->dir = v;
        else return -1;
        i++;
    }
    if (o->epochs < 1 || o->k < 1 || o->k > 784) return -1;
    return 0;
}

/* PCA on the training images x (n rows) only; the test images xt (nt
   rows) are projected with the training mean and components into *zt,
   the training images into *z.  Prints the fit's figures, saves the PCA
   when asked, and returns it; exits on any failure. */
static nn_pca *fit_pca(const struct opts *o, const float *x, size_t n,
                       const float *xt, size_t nt, float **z, float **zt)
{
    nn_pca *pca;
    double t0, t_fit, t_tr, ratio_sum = 0.0, *ratio;
    size_t j, k = o->k;

    t0 = now();
    CHECK(nn_pca_fit(&pca, x, n, 784, k, o->whiten ? NN_PCA_WHITEN : 0,
                     o->whiten ? 1e-5 : 0.0));
    t_fit = now() - t0;
    ratio = malloc(k * sizeof *ratio);
    *z = malloc(n * k * sizeof **z);
    *zt = malloc(nt * k * sizeof **zt);
    if (ratio == NULL || *z == NULL || *zt == NULL) exit(2);
    CHECK(nn_pca_get_variance(pca, NULL, ratio));
    for (j = 0; j < k; j++) ratio_sum += ratio[j];
    t0 = now();
    CHECK(nn_pca_transform(pca, x, n, *z));
    CHECK(nn_pca_transform(pca, xt, nt, *zt));
    t_tr = now() - t0;
    printf("PCA: %zu of 784 components%s explain %.1f%% of the variance; "
           "fit %.2f s, transform of %zu images %.2f s\n", k,
           o->whiten ? " (whitened)" : "", 100.0 * ratio_sum, t_fit, n + nt,
           t_tr);
    fflush(stdout);
    if (o->save != NULL) CHECK(nn_pca_save(pca, o->save));
    free(ratio);
    return pca;
}

/* Trains K-128-10 on the PCA features z/zt and, unless --no-baseline,
   784-128-10 on the raw pixels x/xt; prints both and returns the PCA
   network's test accuracy. */
static double compare(const struct opts *o, const float *z, const float *zt,
                      const float *x, const float *xt, const int32_t *y,
                      const int32_t *yt, size_t n, size_t nt)
{
    double acc_pca, acc_full, ep_pca, ep_full;

    acc_pca = train(z, y, n, zt, yt, nt, o->k, o->epochs, &ep_pca);
    printf("%4zu-128-10 on PCA features: test accuracy %.4f, %.3f s per "
           "epoch (%ld epochs)\n", o->k, acc_pca, ep_pca, o->epochs);
    fflush(stdout);
    if (o->baseline) {
        acc_full = train(x, y, n, xt, yt, nt, 784, o->epochs, &ep_full);
        printf(" 784-128-10 on raw pixels:   test accuracy %.4f, %.3f s per "
               "epoch (%ld epochs)\n", acc_full, ep_full, o->epochs);
        printf("PCA-%zu vs 784: accuracy %+.4f, epoch time x%.2f\n", o->k,
               acc_pca - acc_full, ep_pca / ep_full);
    }
    return acc_pca;
}

int main(int argc, char **argv)
{
    struct opts o;
    size_t n, nt;
    double acc_pca;
    float *x, *xt, *z, *zt;
    int32_t *y, *yt;
    nn_pca *pca;

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s [--components K] [--epochs N] "
                "[--limit N] [--whiten] [--min-accuracy A] [--no-baseline] "
                "[--save PATH] [--dir DIR]\n", argv[0]);
        return 2;
    }
    if (!fashion_load_splits(o.dir, o.limit, &x, &y, &n, &xt, &yt, &nt))
        return 77;
    printf("Fashion-MNIST: %zu training, %zu test images; %s, %s, kernels "
           "%s, %d BLAS threads\n", n, nt, nn_info(NN_INFO_BLAS),
           nn_info(NN_INFO_BLAS_CORE), nn_info(NN_INFO_KERNELS),
           nn_get_num_threads());
    pca = fit_pca(&o, x, n, xt, nt, &z, &zt);
    acc_pca = compare(&o, z, zt, x, xt, y, yt, n, nt);
    printf("target >= %.3f for the PCA network: %s\n", o.min_acc,
           acc_pca >= o.min_acc ? "reached" : "NOT reached");
    nn_pca_destroy(pca);
    free(z);
    free(zt);
    free(x);
    free(y);
    free(xt);
    free(yt);
    return acc_pca >= o.min_acc ? 0 : 1;
}
