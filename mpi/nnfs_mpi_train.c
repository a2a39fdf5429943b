/*
 * nnfs_mpi_train.c - the nnfs-mpi program: data-parallel training of an
 * MLP classifier on an IDX pair (MNIST / Fashion-MNIST) over the ranks of
 * MPI_COMM_WORLD, on libnnfs_mpi.
 *
 *   mpirun -np N nnfs-mpi --train-images F --train-labels F
 *       [--test-images F --test-labels F] [--hidden 128] [--epochs 5]
 *       [--batch 128] [--lr 0.001] [--seed 1] [--threads 1]
 *       [--checkpoint PATH] [--resume PATH] [--kill-at RANK:STEP]
 *
 * Each rank keeps only its shard of the rows (nn_mpi_shard); every step
 * each rank shuffles within its shard, runs forward and backward on its
 * share of the global batch (batch / N rows, the remainder spread), the
 * gradients are all-reduced weighted by rows (the global batch's mean),
 * and every rank makes the same Adam step.  Test metrics are reduced over
 * the ranks' shards of the test set.  --checkpoint: rank 0 writes the
 * checkpoint (atomic, nn_checkpoint_save) after each epoch; --resume: every
 * rank loads it and training goes on from the epoch after the last one
 * the checkpoint completed, up to --epochs in all (the epochs' row orders
 * depend only on the seed, the epoch and the rank, so a resumed run ends
 * with the parameters of an uninterrupted one).  Any failure on any rank stops all ranks with the failing
 * rank's message (nn_mpi_agree) and exit status 1.
 */
#include "nnfs_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rank, size;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* This epoch's order of the n rows of this rank's shard: a Fisher-Yates
   shuffle of 0..n-1 from a generator seeded by (seed, epoch, rank), so a
   run resumed at epoch e draws exactly the orders an uninterrupted run
   draws (splitmix64). */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void epoch_order(size_t *perm, size_t n, uint64_t seed, size_t epoch)
{
    uint64_t s = seed * 1000003u + epoch * 7919u + (uint64_t)rank * 31u;
    size_t i;
    for (i = 0; i < n; i++) perm[i] = i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)(mix(&s) % i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Stop every rank if any failed. */
static void agree_or_exit(int st, const char *what)
{
    st = nn_mpi_agree(st, MPI_COMM_WORLD);
    if (st == NN_OK) return;
    if (rank == 0)
        fprintf(stderr, "nnfs-mpi: %s: %s (%s)\n", what,
                nn_mpi_last_error(), nn_strerror(st));
    MPI_Finalize();
    exit(1);
}

/* This rank's shard of an IDX pair: *x (count x *cols), *y. */
static int read_shard(const char *img, const char *lab, float **x,
                      int32_t **y, size_t *count, size_t *cols)
{
    size_t n, sz, nl, one, begin;
    int32_t *lall = NULL;
    int st = nn_idx_info(img, &n, &sz);
    if (st == NN_OK) st = nn_idx_info(lab, &nl, &one);
    if (st == NN_OK && (nl != n || one != 1)) {
        fprintf(stderr, "nnfs-mpi: rank %d: %s has %zu labels for %zu "
                "images\n", rank, lab, nl, n);
        return NN_ERR_SHAPE;
    }
    if (st != NN_OK) return st;
    nn_mpi_shard(n, rank, size, &begin, count);
    *cols = sz;
    /* only this rank's rows are converted and kept (the labels are one
       byte a row: read whole, kept in part) */
    lall = malloc(n * sizeof(int32_t));
    *x = malloc((*count ? *count : 1) * sz * sizeof(float));
    *y = malloc((*count ? *count : 1) * sizeof(int32_t));
    if (!lall || !*x || !*y) st = NN_ERR_NOMEM;
    if (st == NN_OK)
        st = nn_idx_read_rows(img, *x, begin, *count, n, sz,
                              NN_SCALE_SYMMETRIC);
    if (st == NN_OK) st = nn_idx_read_labels(lab, lall, n);
    if (st == NN_OK) memcpy(*y, lall + begin, *count * sizeof(int32_t));
    free(lall);
    return st;
}

static const char *arg_str(int argc, char **argv, const char *name)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

static double arg_num(int argc, char **argv, const char *name, double def)
{
    const char *s = arg_str(argc, argv, name);
    return s != NULL ? atof(s) : def;
}

int main(int argc, char **argv)
{
    const char *ti, *tl, *vi, *vl, *ckpt, *resume;
    size_t n, cols, vn = 0, vcols = 0, hidden, bs, lb, steps, s, e, i;
    size_t sizes[3], gn;
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX}, *y = NULL, *vy = NULL,
            *yb = NULL;
    float *x = NULL, *vx = NULL, *xb = NULL, *vo = NULL;
    size_t *perm = NULL, first_epoch = 1, kill_rank = 0, kill_step = 0;
    const char *kill;
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    int epochs, st = NN_OK;
    double t0;
    unsigned long long nl, ng;
    uint64_t seed;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ti = arg_str(argc, argv, "--train-images");
    tl = arg_str(argc, argv, "--train-labels");
    vi = arg_str(argc, argv, "--test-images");
    vl = arg_str(argc, argv, "--test-labels");
    ckpt = arg_str(argc, argv, "--checkpoint");
    resume = arg_str(argc, argv, "--resume");
    hidden = (size_t)arg_num(argc, argv, "--hidden", 128);
    epochs = (int)arg_num(argc, argv, "--epochs", 5);
    bs = (size_t)arg_num(argc, argv, "--batch", 128);
    seed = (uint64_t)arg_num(argc, argv, "--seed", 1);
    nn_set_num_threads((int)arg_num(argc, argv, "--threads", 1));
    /* for the fault test: --kill-at R:S makes rank R SIGKILL itself
       before global step S (counted over all epochs, from 1) */
    kill = arg_str(argc, argv, "--kill-at");
    if (kill != NULL && sscanf(kill, "%zu:%zu", &kill_rank, &kill_step) != 2)
        kill_step = 0;
    if (ti == NULL || tl == NULL || bs == 0 || hidden == 0) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -np N %s --train-images F "
                    "--train-labels F [--test-images F --test-labels F] "
                    "[--hidden 128] [--epochs 5] [--batch 128] [--lr 0.001] "
                    "[--seed 1] [--threads 1] [--checkpoint PATH] "
                    "[--resume PATH]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }

    st = read_shard(ti, tl, &x, &y, &n, &cols);
    agree_or_exit(st, "reading the training data");
    if (vi != NULL && vl != NULL) {
        st = read_shard(vi, vl, &vx, &vy, &vn, &vcols);
        if (st == NN_OK && vcols != cols) st = NN_ERR_SHAPE;
        agree_or_exit(st, "reading the test data");
    }
    sizes[0] = cols;
    sizes[1] = hidden;
    sizes[2] = 10;
    if (resume != NULL) {
        st = nn_checkpoint_load(&net, &opt, resume);
        if (st == NN_OK && opt == NULL) st = NN_ERR_FORMAT;
        agree_or_exit(st, "loading the checkpoint");
    } else {
        st = nn_net_create(&net, 2, sizes, acts, seed);
        if (st == NN_OK) st = nn_optimizer_create(&opt, net, NN_OPT_ADAM);
        if (st == NN_OK)
            st = nn_optimizer_set(opt, NN_OPT_LEARNING_RATE,
                                  arg_num(argc, argv, "--lr", 0.001));
        agree_or_exit(st, "creating the network");
        st = nn_mpi_broadcast_net(net, 0, MPI_COMM_WORLD);
        agree_or_exit(st, "broadcasting the parameters");
    }

    /* steps per epoch from the global row count; this rank's share of
       each global batch */
    nl = n;
    MPI_Allreduce(&nl, &ng, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    gn = (size_t)ng;
    steps = (gn + bs - 1) / bs;
    {
        size_t b0;
        nn_mpi_shard(bs, rank, size, &b0, &lb);
        if (lb == 0) lb = 1;
    }
    if (resume != NULL) {
        /* continue after the checkpoint's last whole epoch */
        double it = 0;
        nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it);
        first_epoch = (size_t)it / steps + 1;
    }
    perm = malloc((n ? n : 1) * sizeof(size_t));
    xb = malloc(lb * cols * sizeof(float));
    yb = malloc(lb * sizeof(int32_t));
    vo = malloc((vn ? vn : 1) * 10 * sizeof(float));
    st = xb && yb && vo && perm ? NN_OK : NN_ERR_NOMEM;
    agree_or_exit(st, "allocating batches");

    t0 = now();
    for (e = first_epoch; e <= (size_t)epochs; e++) {
        double m[2] = {0, 0}, lsum = 0;
        size_t seen = 0;
        epoch_order(perm, n, seed, e);
        for (s = 0; s < steps; s++) {
            size_t r0 = s * lb, rows = r0 < n ? (n - r0 < lb ? n - r0 : lb)
                                              : 0;
            float loss = 0;
            if (kill_step > 0 && (size_t)rank == kill_rank &&
                (e - 1) * steps + s + 1 == kill_step)
                raise(SIGKILL);
            if (rows > 0) {
                for (i = 0; i < rows; i++) {
                    memcpy(xb + i * cols, x + perm[r0 + i] * cols,
                           cols * sizeof(float));
                    yb[i] = y[perm[r0 + i]];
                }
                st = nn_forward(net, xb, rows, NULL);
                if (st == NN_OK) st = nn_backward_labels(net, yb, &loss);
            }
            agree_or_exit(st, "training step");
            st = nn_mpi_allreduce_grads(net, rows, MPI_COMM_WORLD);
            if (st != NN_OK) agree_or_exit(st, "all-reduce");
            st = nn_optimizer_step(opt);
            agree_or_exit(st, "optimizer step");
            lsum += (double)loss * (double)rows;
            seen += rows;
        }
        m[0] = seen ? lsum / (double)seen : 0;
        nn_mpi_mean(m, 1, seen, MPI_COMM_WORLD);
        if (vn > 0 || vi != NULL) {
            float acc = 0;
            double a;
            st = vn > 0 ? nn_predict(net, vx, vn, vo) : NN_OK;
            if (st == NN_OK && vn > 0)
                st = nn_accuracy(vo, vn, 10, vy, &acc);
            agree_or_exit(st, "evaluating");
            a = (double)acc;
            nn_mpi_mean(&a, 1, vn, MPI_COMM_WORLD);
            m[1] = a;
        }
        if (ckpt != NULL) {
            st = rank == 0 ? nn_checkpoint_save(net, opt, ckpt) : NN_OK;
            agree_or_exit(st, "writing the checkpoint");
        }
        if (rank == 0) {
            printf("epoch %zu: loss %.4f", e, m[0]);
            if (vi != NULL) printf(", test accuracy %.4f", m[1]);
            printf(", %.2f s (%d ranks)\n", now() - t0, size);
            fflush(stdout);
        }
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    free(x);
    free(y);
    free(vx);
    free(vy);
    free(perm);
    free(xb);
    free(yb);
    free(vo);
    MPI_Finalize();
    return 0;
}
