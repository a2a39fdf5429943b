/*
 * mpi_replicas.c - libnnfs_mpi under mpirun (issue 15, items 2-4).
 *
 *   mpi_replicas equiv     N ranks x their shard of 128 rows (3 ranks:
 *                          43 + 43 + 42) against one process with the 128
 *                          rows, on rank 0: the gradients of the first
 *                          step per tensor within 1e-5 of the tensor's
 *                          largest magnitude (float summation over 128
 *                          rows and the ranks: see tests/test_replicas.c
 *                          for the derivation; here the measured figure is
 *                          printed), 100 Adam steps' loss curves within
 *                          1e-5 relative, and every rank's final
 *                          parameters bit-identical to rank 0's.
 *   mpi_replicas badinput  rank 1's x holds a NaN: every rank must stop
 *                          with the same status and message.
 *   mpi_replicas kill S    rank 1 kills itself (SIGKILL) at step S; the
 *                          job must end non-zero (checked by the CTest
 *                          script, under a timeout).
 * Exit 0 when every check holds.
 */
#include "nnfs_mpi.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B 128
#define NI 12
#define NO 6
#define L 3
#define NP (12 * 48 + 48 + 48 * 24 + 24 + 24 * 6 + 6)

static const size_t sizes[L + 1] = {NI, 48, 24, NO};
static const int32_t acts[L] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
static float xs[B * NI];
static int32_t ys[B];
static int rank, size, bad;

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s (%s | %s)\n", \
                    rank, __FILE__, __LINE__, #c, nn_last_error(),        \
                    nn_mpi_last_error());                                 \
            bad = 1;                                                      \
        }                                                                 \
    } while (0)

static void data(void)
{
    uint64_t s = 0x5ca1ab1eull;
    size_t i;
    for (i = 0; i < B * NI; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        xs[i] = (float)((double)(s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
    }
    for (i = 0; i < B; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ys[i] = (int32_t)((s >> 33) % NO);
    }
}

/* one process, all rows: the reference (rank 0 only) */
static void reference(float *loss, float *g0, float *p)
{
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    size_t l, off = 0;
    int i;
    CHECK(nn_net_create(&net, L, sizes, acts, 100) == NN_OK);
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM) == NN_OK);
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.01) == NN_OK);
    for (i = 0; i < 100; i++) {
        CHECK(nn_forward(net, xs, B, NULL) == NN_OK);
        CHECK(nn_backward_labels(net, ys, &loss[i]) == NN_OK);
        if (i == 0) CHECK(nn_net_get_grad_block(net, g0, NP) == NN_OK);
        CHECK(nn_optimizer_step(opt) == NN_OK);
    }
    for (l = 0; l < L; l++) {
        size_t nw = sizes[l] * sizes[l + 1];
        nn_net_get_params(net, l, p + off, p + off + nw);
        off += nw + sizes[l + 1];
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

static int equiv(int kill_at)
{
    static float lref[100], gref[NP], pref[NP], g0[NP], p[NP], p0[NP];
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    size_t begin, count, l, off = 0, j;
    double worst_g = 0, worst_l = 0;
    int i;

    if (rank == 0 && kill_at == 0) reference(lref, gref, pref);
    CHECK(nn_mpi_shard(B, rank, size, &begin, &count) == NN_OK);
    /* a different seed on each rank: the broadcast must make them one */
    CHECK(nn_net_create(&net, L, sizes, acts, 100u + (unsigned)rank) ==
          NN_OK);
    CHECK(nn_mpi_broadcast_net(net, 0, MPI_COMM_WORLD) == NN_OK);
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM) == NN_OK);
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.01) == NN_OK);
    for (i = 0; i < 100 && !bad; i++) {
        float lo = 0;
        double lm;
        if (kill_at > 0 && i == kill_at && rank == 1) raise(SIGKILL);
        CHECK(nn_forward(net, xs + begin * NI, count, NULL) == NN_OK);
        CHECK(nn_backward_labels(net, ys + begin, &lo) == NN_OK);
        CHECK(nn_mpi_allreduce_grads(net, count, MPI_COMM_WORLD) == NN_OK);
        if (i == 0) CHECK(nn_net_get_grad_block(net, g0, NP) == NN_OK);
        CHECK(nn_optimizer_step(opt) == NN_OK);
        lm = (double)lo;
        CHECK(nn_mpi_mean(&lm, 1, count, MPI_COMM_WORLD) == NN_OK);
        if (rank == 0 && kill_at == 0) {
            double r = fabs(lm - (double)lref[i]) / fabs((double)lref[i]);
            if (r > worst_l) worst_l = r;
            CHECK(r <= 1e-5);
        }
    }
    for (l = 0; l < L; l++) {
        size_t nw = sizes[l] * sizes[l + 1];
        nn_net_get_params(net, l, p + off, p + off + nw);
        off += nw + sizes[l + 1];
    }
    /* every rank ends with rank 0's bits */
    memcpy(p0, p, sizeof p);
    MPI_Bcast(p0, NP, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(p0, p, sizeof p) == 0);
    if (rank == 0) {
        off = 0;
        for (l = 0; l < L; l++) {   /* per tensor: weights, then biases */
            size_t part[2] = {sizes[l] * sizes[l + 1], sizes[l + 1]}, q;
            for (q = 0; q < 2; q++) {
                double gm = 0, e = 0;
                for (j = off; j < off + part[q]; j++) {
                    double a = fabs((double)gref[j]);
                    double d = fabs((double)g0[j] - (double)gref[j]);
                    if (a > gm) gm = a;
                    if (d > e) e = d;
                }
                CHECK(e <= 1e-5 * gm + 1e-12);
                if (gm > 0 && e / gm > worst_g) worst_g = e / gm;
                off += part[q];
            }
        }
        for (j = 0; j < NP; j++)
            CHECK(fabs((double)p[j] - pref[j]) <=
                  1e-4 * (1.0 + fabs((double)pref[j])));
        printf("%d ranks, shards of %zu..%zu rows: first gradients max "
               "|g - g1| / max|g1| per tensor %.3g; 100 Adam steps: loss "
               "%.4f -> %.4f, max relative loss difference %.3g; final "
               "parameters bit-identical on every rank\n", size, B / size,
               (B + size - 1) / size, worst_g, (double)lref[0],
               (double)lref[99], worst_l);
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return bad;
}

static int badinput(void)
{
    static float x[B * NI];
    nn_net *net = NULL;
    size_t begin, count;
    int st;
    char mine[512], first[512];
    memcpy(x, xs, sizeof x);
    nn_mpi_shard(B, 1, size, &begin, &count);
    x[(begin + 5) * NI + 3] = NAN;   /* a row of rank 1's shard */
    nn_mpi_shard(B, rank, size, &begin, &count);
    CHECK(nn_net_create(&net, L, sizes, acts, 1) == NN_OK);
    st = nn_forward(net, x + begin * NI, count, NULL);
    st = nn_mpi_agree(st, MPI_COMM_WORLD);
    CHECK(st == NN_ERR_NONFINITE);
    snprintf(mine, sizeof mine, "%s", nn_mpi_last_error());
    memcpy(first, mine, sizeof first);
    MPI_Bcast(first, (int)sizeof first, MPI_CHAR, 0, MPI_COMM_WORLD);
    CHECK(strcmp(first, mine) == 0);
    CHECK(strncmp(mine, "rank 1: nn_forward: x[", 22) == 0);
    if (rank == 0) printf("every rank stopped with: %s\n", mine);
    nn_net_destroy(net);
    return bad;
}

int main(int argc, char **argv)
{
    int r = 2, any;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    nn_set_num_threads(1);
    data();
    if (argc >= 2 && strcmp(argv[1], "equiv") == 0) r = equiv(0);
    else if (argc >= 2 && strcmp(argv[1], "badinput") == 0 && size >= 2)
        r = badinput();
    else if (argc >= 3 && strcmp(argv[1], "kill") == 0 && size >= 2)
        r = equiv(atoi(argv[2]));
    else if (rank == 0)
        fprintf(stderr, "usage: mpirun -np N %s equiv|badinput|kill STEP\n",
                argv[0]);
    MPI_Allreduce(&r, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any != 0;
}
