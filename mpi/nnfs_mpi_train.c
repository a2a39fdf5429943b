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

/* The command line. */
struct opts {
    const char *ti, *tl, *vi, *vl, *ckpt, *resume;
    size_t hidden, bs, kill_rank, kill_step;
    int epochs;
    uint64_t seed;
};

/* This rank's shards of the training and (optional) test sets. */
struct data {
    float *x, *vx;
    int32_t *y, *vy;
    size_t n, cols, vn, vcols;
};

/* The network, its optimizer and the per-rank training buffers. */
struct train {
    nn_net *net;
    nn_optimizer *opt;
    size_t *perm;
    float *xb, *vo;
    int32_t *yb;
    size_t steps, lb, first_epoch;
};

/* Reads the options into *o (and sets the thread count); 0 when the
   required ones are there, else rank 0 prints the usage and it is 2. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    const char *kill;
    o->ti = arg_str(argc, argv, "--train-images");
    o->tl = arg_str(argc, argv, "--train-labels");
    o->vi = arg_str(argc, argv, "--test-images");
    o->vl = arg_str(argc, argv, "--test-labels");
    o->ckpt = arg_str(argc, argv, "--checkpoint");
    o->resume = arg_str(argc, argv, "--resume");
    o->hidden = (size_t)arg_num(argc, argv, "--hidden", 128);
    o->epochs = (int)arg_num(argc, argv, "--epochs", 5);
    o->bs = (size_t)arg_num(argc, argv, "--batch", 128);
    o->seed = (uint64_t)arg_num(argc, argv, "--seed", 1);
    nn_set_num_threads((int)arg_num(argc, argv, "--threads", 1));
    /* for the fault test: --kill-at R:S makes rank R SIGKILL itself
       before global step S (counted over all epochs, from 1) */
    o->kill_rank = 0;
    o->kill_step = 0;
    kill = arg_str(argc, argv, "--kill-at");
    if (kill != NULL &&
        sscanf(kill, "%zu:%zu", &o->kill_rank, &o->kill_step) != 2)
        o->kill_step = 0;
    if (o->ti != NULL && o->tl != NULL && o->bs != 0 && o->hidden != 0)
        return 0;
    if (rank == 0)
        fprintf(stderr, "usage: mpirun -np N %s --train-images F "
                "--train-labels F [--test-images F --test-labels F] "
                "[--hidden 128] [--epochs 5] [--batch 128] [--lr 0.001] "
                "[--seed 1] [--threads 1] [--checkpoint PATH] "
                "[--resume PATH]\n", argv[0]);
    return 2;
}

/* This rank's shards of the training set and, when both test files are
   given, of the test set (same column count). */
static void load_data(const struct opts *o, struct data *d)
{
    int st = read_shard(o->ti, o->tl, &d->x, &d->y, &d->n, &d->cols);
    agree_or_exit(st, "reading the training data");
    if (o->vi != NULL && o->vl != NULL) {
        st = read_shard(o->vi, o->vl, &d->vx, &d->vy, &d->vn, &d->vcols);
        if (st == NN_OK && d->vcols != d->cols) st = NN_ERR_SHAPE;
        agree_or_exit(st, "reading the test data");
    }
}

/* The network and its Adam optimizer: loaded from --resume, or created
   on every rank with rank 0's parameters broadcast. */
static void setup_net(int argc, char **argv, const struct opts *o,
                      const struct data *d, struct train *t)
{
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    size_t sizes[3];
    int st;
    sizes[0] = d->cols;
    sizes[1] = o->hidden;
    sizes[2] = 10;
    if (o->resume != NULL) {
        st = nn_checkpoint_load(&t->net, &t->opt, o->resume);
        if (st == NN_OK && t->opt == NULL) st = NN_ERR_FORMAT;
        agree_or_exit(st, "loading the checkpoint");
        return;
    }
    st = nn_net_create(&t->net, 2, sizes, acts, o->seed);
    if (st == NN_OK) st = nn_optimizer_create(&t->opt, t->net, NN_OPT_ADAM);
    if (st == NN_OK)
        st = nn_optimizer_set(t->opt, NN_OPT_LEARNING_RATE,
                              arg_num(argc, argv, "--lr", 0.001));
    agree_or_exit(st, "creating the network");
    st = nn_mpi_broadcast_net(t->net, 0, MPI_COMM_WORLD);
    agree_or_exit(st, "broadcasting the parameters");
}

/* Steps per epoch from the global row count, this rank's share of each
   global batch, the first epoch to run, and the batch buffers. */
static void plan_training(const struct opts *o, const struct data *d,
                          struct train *t)
{
    unsigned long long nl = d->n, ng;
    size_t b0;
    int st;
    MPI_Allreduce(&nl, &ng, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    t->steps = ((size_t)ng + o->bs - 1) / o->bs;
    nn_mpi_shard(o->bs, rank, size, &b0, &t->lb);
    if (t->lb == 0) t->lb = 1;
    t->first_epoch = 1;
    if (o->resume != NULL) {
        /* continue after the checkpoint's last whole epoch */
        double it = 0;
        nn_optimizer_get(t->opt, NN_OPT_ITERATIONS, &it);
        t->first_epoch = (size_t)it / t->steps + 1;
    }
    t->perm = malloc((d->n ? d->n : 1) * sizeof(size_t));
    t->xb = malloc(t->lb * d->cols * sizeof(float));
    t->yb = malloc(t->lb * sizeof(int32_t));
    t->vo = malloc((d->vn ? d->vn : 1) * 10 * sizeof(float));
    st = t->xb && t->yb && t->vo && t->perm ? NN_OK : NN_ERR_NOMEM;
    agree_or_exit(st, "allocating batches");
}

/* One step of epoch e: this rank's rows forward and backward, the
   gradients all-reduced, the Adam step; the rows it used, *loss their
   mean loss. */
static size_t train_step(const struct opts *o, const struct data *d,
                         struct train *t, size_t e, size_t s, float *loss)
{
    size_t r0 = s * t->lb, i,
           rows = r0 < d->n ? (d->n - r0 < t->lb ? d->n - r0 : t->lb) : 0;
    int st = NN_OK;
    *loss = 0;
    if (o->kill_step > 0 && (size_t)rank == o->kill_rank &&
        (e - 1) * t->steps + s + 1 == o->kill_step)
        raise(SIGKILL);
    if (rows > 0) {
        for (i = 0; i < rows; i++) {
            memcpy(t->xb + i * d->cols, d->x + t->perm[r0 + i] * d->cols,
                   d->cols * sizeof(float));
            t->yb[i] = d->y[t->perm[r0 + i]];
        }
        st = nn_forward(t->net, t->xb, rows, NULL);
        if (st == NN_OK) st = nn_backward_labels(t->net, t->yb, loss);
    }
    agree_or_exit(st, "training step");
    st = nn_mpi_allreduce_grads(t->net, rows, MPI_COMM_WORLD);
    if (st != NN_OK) agree_or_exit(st, "all-reduce");
    st = nn_optimizer_step(t->opt);
    agree_or_exit(st, "optimizer step");
    return rows;
}

/* Epoch e over this rank's shard; the global mean training loss. */
static double train_epoch(const struct opts *o, const struct data *d,
                          struct train *t, size_t e)
{
    double m = 0, lsum = 0;
    size_t seen = 0, s;
    epoch_order(t->perm, d->n, o->seed, e);
    for (s = 0; s < t->steps; s++) {
        float loss;
        size_t rows = train_step(o, d, t, e, s, &loss);
        lsum += (double)loss * (double)rows;
        seen += rows;
    }
    m = seen ? lsum / (double)seen : 0;
    nn_mpi_mean(&m, 1, seen, MPI_COMM_WORLD);
    return m;
}

/* The test accuracy, averaged over the ranks' test shards. */
static double evaluate(const struct data *d, struct train *t)
{
    float acc = 0;
    double a;
    int st = d->vn > 0 ? nn_predict(t->net, d->vx, d->vn, t->vo) : NN_OK;
    if (st == NN_OK && d->vn > 0)
        st = nn_accuracy(t->vo, d->vn, 10, d->vy, &acc);
    agree_or_exit(st, "evaluating");
    a = (double)acc;
    nn_mpi_mean(&a, 1, d->vn, MPI_COMM_WORLD);
    return a;
}

/* Rank 0 writes the checkpoint (atomic); every rank agrees on the result. */
static void save_checkpoint(const struct opts *o, const struct train *t)
{
    int st = rank == 0 ? nn_checkpoint_save(t->net, t->opt, o->ckpt) : NN_OK;
    agree_or_exit(st, "writing the checkpoint");
}

static void cleanup(struct data *d, struct train *t)
{
    nn_optimizer_destroy(t->opt);
    nn_net_destroy(t->net);
    free(d->x);
    free(d->y);
    free(d->vx);
    free(d->vy);
    free(t->perm);
    free(t->xb);
    free(t->yb);
    free(t->vo);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct data d = {NULL, NULL, NULL, NULL, 0, 0, 0, 0};
    struct train t;
    size_t e;
    double t0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (parse_args(argc, argv, &o) != 0) {
        MPI_Finalize();
        return 2;
    }
    memset(&t, 0, sizeof t);
    load_data(&o, &d);
    setup_net(argc, argv, &o, &d, &t);
    plan_training(&o, &d, &t);

    t0 = now();
    for (e = t.first_epoch; e <= (size_t)o.epochs; e++) {
        double m[2] = {0, 0};
        m[0] = train_epoch(&o, &d, &t, e);
        if (d.vn > 0 || o.vi != NULL) m[1] = evaluate(&d, &t);
        if (o.ckpt != NULL) save_checkpoint(&o, &t);
        if (rank == 0) {
            printf("epoch %zu: loss %.4f", e, m[0]);
            if (o.vi != NULL) printf(", test accuracy %.4f", m[1]);
            printf(", %.2f s (%d ranks)\n", now() - t0, size);
            fflush(stdout);
        }
    }
    cleanup(&d, &t);
    MPI_Finalize();
    return 0;
}
