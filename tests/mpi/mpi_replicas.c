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
 *   mpi_replicas bucket    a 1100-1000-10 net (1111010 parameters, more
 *                          than NN_MPI_BUCKET = 2^20: two pieces): the
 *                          reduced gradient against a double-precision
 *                          sum_r rows_r g_r / sum_r rows_r of the ranks'
 *                          own gradients (gathered to rank 0), every
 *                          element within 4 u sum_r w_r |g_r| (u = 2^-24:
 *                          one rounding of the scaling and at most
 *                          size - 1 <= 2 of the float sum, plus one spare),
 *                          the same bits on every rank; with 3 ranks the
 *                          last has 0 rows and no gradients; 0 rows on
 *                          every rank is NN_ERR_INVALID_ARG on every rank.
 *   mpi_replicas attach    nn_mpi_trainer_attach: nn_trainer_fit on each
 *                          rank's shard against one process's plain fit:
 *                          full batch (Adam, 100 epochs, 128 rows; 3 ranks
 *                          43 + 43 + 42), and mini-batches (128 rows per
 *                          rank, 2 steps of 64 each, the one process's x
 *                          arranged so its batch s is the ranks' blocks s
 *                          in rank order): epoch losses within 1e-5
 *                          relative, the validation loss on the whole
 *                          validation set within 1e-5 relative and its
 *                          accuracy equal, final parameters within
 *                          1e-4 (1 + |p|) (as equiv: float sums in another
 *                          order, amplified where Adam divides by small
 *                          second moments) and identical on every rank; a
 *                          NaN in rank 1's x: NN_ERR_NONFINITE on every
 *                          rank, the message starting "rank 1: ".
 *   mpi_replicas ckpt      rank 0 saves a checkpoint (after 3 Adam steps)
 *                          in a directory of its own, every rank loads it
 *                          with nn_mpi_checkpoint_load; one more Adam step
 *                          gives the same bits on every rank as on rank
 *                          0's original; a missing file on root gives
 *                          NN_ERR_IO on every rank.
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
#include <unistd.h>

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

static void gen(float *x, int32_t *y, size_t n, size_t ni, size_t no,
                uint64_t s)
{
    size_t i;
    for (i = 0; i < n * ni; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
    }
    for (i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        y[i] = (int32_t)((s >> 33) % no);
    }
}

#define BR 24
#define BI 1100
#define BH 1000
#define BO 10
#define BNP ((size_t)BI * BH + BH + (size_t)BH * BO + BO)

static int bucket(void)
{
    static const size_t bs[3] = {BI, BH, BO};
    static const int32_t ba[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    float *x = malloc(sizeof(float) * BR * BI), *g = malloc(BNP * 4);
    float *g0 = malloc(BNP * 4), *mine = calloc(BNP, 4), *all = NULL;
    unsigned long long cnt, *cnts = NULL;
    int32_t y[BR];
    nn_net *net = NULL;
    size_t begin = 0, count = 0, j;
    int users = size == 3 ? 2 : size, r, st;
    double worst = 0, total = 0;
    CHECK(BNP > NN_MPI_BUCKET);
    if (x == NULL || g == NULL || g0 == NULL || mine == NULL) return 1;
    gen(x, y, BR, BI, BO, 0xb0c4e7ull);
    if (rank < users) nn_mpi_shard(BR, rank, users, &begin, &count);
    CHECK(nn_net_create(&net, 2, bs, ba, 7) == NN_OK);
    if (count > 0) {
        CHECK(nn_forward(net, x + begin * BI, count, NULL) == NN_OK);
        CHECK(nn_backward_labels(net, y + begin, NULL) == NN_OK);
        CHECK(nn_net_get_grad_block(net, mine, BNP) == NN_OK);
    }
    if (rank == 0) {
        all = malloc(BNP * 4 * (size_t)size);
        cnts = malloc(sizeof *cnts * (size_t)size);
        if (all == NULL || cnts == NULL) return 1;
    }
    cnt = count;
    MPI_Gather(&cnt, 1, MPI_UNSIGNED_LONG_LONG, cnts, 1,
               MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    MPI_Gather(mine, (int)BNP, MPI_FLOAT, all, (int)BNP, MPI_FLOAT, 0,
               MPI_COMM_WORLD);
    CHECK(nn_mpi_allreduce_grads(net, count, MPI_COMM_WORLD) == NN_OK);
    CHECK(nn_net_get_grad_block(net, g, BNP) == NN_OK);
    memcpy(g0, g, BNP * 4);
    MPI_Bcast(g0, (int)BNP, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(g0, g, BNP * 4) == 0);
    if (rank == 0) {
        size_t bad_at = BNP;
        for (r = 0; r < size; r++) total += (double)cnts[r];
        for (j = 0; j < BNP; j++) {
            double ref = 0, mag = 0, d;
            for (r = 0; r < size; r++) {
                double w = (double)cnts[r] / total;
                ref += w * (double)all[(size_t)r * BNP + j];
                mag += w * fabs((double)all[(size_t)r * BNP + j]);
            }
            d = fabs((double)g[j] - ref);
            if (d > 4 * mag / 16777216.0 && bad_at == BNP) bad_at = j;
            if (mag > 0 && d / mag > worst) worst = d / mag;
        }
        CHECK(bad_at == BNP);
        if (bad_at != BNP)
            fprintf(stderr, "element %zu: %.9g, reference %.9g\n", bad_at,
                    (double)g[bad_at], (double)g0[bad_at]);
        printf("bucket: %d ranks, %zu parameters in %zu pieces, rows "
               "%llu..%llu: max |g - ref| / sum_r w_r |g_r| = %.3g "
               "(bound 4 u = %.3g); the same bits on every rank\n", size,
               BNP, (BNP + NN_MPI_BUCKET - 1) / NN_MPI_BUCKET, cnts[size - 1],
               cnts[0], worst, 4 / 16777216.0);
    }
    /* no rank has rows: the same failure everywhere, gradients kept */
    st = nn_mpi_allreduce_grads(net, 0, MPI_COMM_WORLD);
    CHECK(st == NN_ERR_INVALID_ARG);
    CHECK(strstr(nn_mpi_last_error(), "no rank has rows") != NULL);
    CHECK(nn_net_get_grad_block(net, g, BNP) == NN_OK);
    CHECK(memcmp(g0, g, BNP * 4) == 0);
    nn_net_destroy(net);
    free(x); free(g); free(g0); free(mine); free(all); free(cnts);
    return bad;
}

/*---- attach: nn_trainer_fit across the ranks ----*/

#define EP 100
struct curve { double loss[EP], vloss, vacc; int n; };

static int on_epoch(void *user, const nn_trainer *t, int32_t event)
{
    struct curve *c = user;
    double v = 0;
    if (event != NN_EVENT_EPOCH) return 0;
    nn_trainer_metric(t, NN_METRIC_LOSS, &v);
    if (c->n < EP) c->loss[c->n++] = v;
    nn_trainer_metric(t, NN_METRIC_VAL_LOSS, &c->vloss);
    nn_trainer_metric(t, NN_METRIC_VAL_ACCURACY, &c->vacc);
    return 0;
}

/* one fit from the same initial net (seed 100) on every rank */
static int fit(const float *x, const int32_t *y, size_t n, size_t batch,
               const float *vx, const int32_t *vy, size_t nv, int dist,
               struct curve *c, float *p)
{
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    size_t l, off = 0;
    int st;
    memset(c, 0, sizeof *c);
    CHECK(nn_net_create(&net, L, sizes, acts, 100) == NN_OK);
    CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM) == NN_OK);
    CHECK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.01) == NN_OK);
    CHECK(nn_trainer_create(&tr, net, opt) == NN_OK);
    CHECK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, EP) == NN_OK);
    CHECK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, (double)batch) == NN_OK);
    CHECK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, 0) == NN_OK);
    CHECK(nn_trainer_set_callback(tr, on_epoch, c) == NN_OK);
    if (dist) CHECK(nn_mpi_trainer_attach(tr, MPI_COMM_WORLD) == NN_OK);
    st = nn_trainer_fit(tr, x, NULL, y, n, vx, NULL, vy, nv);
    for (l = 0; l < L; l++) {
        size_t nw = sizes[l] * sizes[l + 1];
        nn_net_get_params(net, l, p + off, p + off + nw);
        off += nw + sizes[l + 1];
    }
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return st;
}

/* rank 0: d against the one process's r; every rank: rank 0's bits */
static void compare(const char *what, const struct curve *d,
                    const struct curve *r, const float *pd,
                    const float *pr)
{
    static float p0[NP];
    double worst = 0, wp = 0;
    size_t j;
    int i;
    memcpy(p0, pd, sizeof p0);
    MPI_Bcast(p0, NP, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(p0, pd, sizeof p0) == 0);
    if (rank != 0) return;
    CHECK(d->n == EP && r->n == EP);
    for (i = 0; i < EP && i < d->n; i++) {
        double e = fabs(d->loss[i] - r->loss[i]) / fabs(r->loss[i]);
        if (e > worst) worst = e;
    }
    CHECK(worst <= 1e-5);
    CHECK(fabs(d->vloss - r->vloss) <= 1e-5 * fabs(r->vloss));
    CHECK(d->vacc == r->vacc);
    for (j = 0; j < NP; j++) {
        double e = fabs((double)pd[j] - pr[j]) / (1.0 + fabs((double)pr[j]));
        if (e > wp) wp = e;
    }
    CHECK(wp <= 1e-4);
    printf("attach %s: %d ranks, loss %.5f -> %.5f, max relative epoch-"
           "loss difference %.3g, validation loss %.6f vs %.6f, accuracy "
           "%.4f vs %.4f, max |p - p1| / (1 + |p1|) %.3g, identical on "
           "every rank\n", what, size, r->loss[0], r->loss[EP - 1], worst,
           d->vloss, r->vloss, d->vacc, r->vacc, wp);
}

#define NV 50
static int attach(void)
{
    static struct curve cd, cr;
    static float pd[NP], pr[NP];
    size_t n = (size_t)size * 128, b, vb, vc, s, q, i;
    float *x = malloc(sizeof(float) * n * NI), *x1 = malloc(sizeof(float) *
                                                         n * NI);
    int32_t *y = malloc(sizeof(int32_t) * n), *y1 = malloc(sizeof(int32_t) *
                                                         n);
    float vx[NV * NI];
    int32_t vy[NV];
    char mine[512], first[512];
    int st;
    if (x == NULL || x1 == NULL || y == NULL || y1 == NULL) return 1;
    gen(x, y, n, NI, NO, 0xfeedull);
    gen(vx, vy, NV, NI, NO, 0xbeefull);
    nn_mpi_shard(NV, rank, size, &vb, &vc);
    /* full batch: 128 rows shared by nn_mpi_shard */
    nn_mpi_shard(128, rank, size, &b, &q);
    if (rank == 0)
        CHECK(fit(x, y, 128, 0, vx, vy, NV, 0, &cr, pr) == NN_OK);
    CHECK(fit(x + b * NI, y + b, q, 0, vx + vb * NI, vy + vb, vc, 1, &cd,
              pd) == NN_OK);
    compare("full batch", &cd, &cr, pd, pr);
    /* mini-batches: rank r owns rows [128 r, 128 r + 128), 2 steps of 64;
       the one process's batch s is every rank's block s in rank order */
    for (s = 0; s < 2; s++)
        for (q = 0; q < (size_t)size; q++)
            for (i = 0; i < 64; i++) {
                size_t from = q * 128 + s * 64 + i;
                size_t to = s * 64 * (size_t)size + q * 64 + i;
                memcpy(x1 + to * NI, x + from * NI, sizeof(float) * NI);
                y1[to] = y[from];
            }
    if (rank == 0)
        CHECK(fit(x1, y1, n, 64 * (size_t)size, vx, vy, NV, 0, &cr, pr) ==
              NN_OK);
    CHECK(fit(x + (size_t)rank * 128 * NI, y + (size_t)rank * 128, 128,
              64 * (size_t)size, vx + vb * NI, vy + vb, vc, 1, &cd, pd) ==
          NN_OK);
    compare("mini-batch", &cd, &cr, pd, pr);
    /* a NaN in rank 1's rows: every rank stops with rank 1's error */
    nn_mpi_shard(128, rank, size, &b, &q);
    if (rank == 1) x[(b + 3) * NI + 2] = NAN;
    st = fit(x + b * NI, y + b, q, 0, NULL, NULL, 0, 1, &cd, pd);
    CHECK(st == NN_ERR_NONFINITE);
    snprintf(mine, sizeof mine, "%s", nn_last_error());
    memcpy(first, mine, sizeof first);
    MPI_Bcast(first, (int)sizeof first, MPI_CHAR, 0, MPI_COMM_WORLD);
    CHECK(strcmp(first, mine) == 0);
    CHECK(strncmp(mine, "rank 1: ", 8) == 0);
    if (rank == 0) printf("attach, NaN on rank 1: every rank: %s\n", mine);
    free(x); free(x1); free(y); free(y1);
    return bad;
}

/*---- nn_mpi_checkpoint_load ----*/

static void params_of(const nn_net *net, float *p)
{
    size_t l, off = 0;
    for (l = 0; l < L; l++) {
        size_t nw = sizes[l] * sizes[l + 1];
        nn_net_get_params(net, l, p + off, p + off + nw);
        off += nw + sizes[l + 1];
    }
}

static void adam_step(nn_net *net, nn_optimizer *opt)
{
    CHECK(nn_forward(net, xs, B, NULL) == NN_OK);
    CHECK(nn_backward_labels(net, ys, NULL) == NN_OK);
    CHECK(nn_optimizer_step(opt) == NN_OK);
}

static int ckpt(void)
{
    static float p[NP], p0[NP], porig[NP];
    char dir[64] = "", path[128] = "", missing[128] = "";
    nn_net *net = NULL, *orig = NULL;
    nn_optimizer *opt = NULL, *oorig = NULL;
    int st, i;
    if (rank == 0) {   /* a file only rank 0 knows */
        snprintf(dir, sizeof dir, "/tmp/nnfs_mpi_ckpt_XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/c.nnfs", dir);
        snprintf(missing, sizeof missing, "%s/missing.nnfs", dir);
        CHECK(nn_net_create(&orig, L, sizes, acts, 3) == NN_OK);
        CHECK(nn_optimizer_create(&oorig, orig, NN_OPT_ADAM) == NN_OK);
        for (i = 0; i < 3; i++) adam_step(orig, oorig);
        CHECK(nn_checkpoint_save(orig, oorig, path) == NN_OK);
        adam_step(orig, oorig);
        params_of(orig, porig);
    }
    st = nn_mpi_checkpoint_load(&net, &opt, rank == 0 ? path : NULL, 0,
                                MPI_COMM_WORLD);
    CHECK(st == NN_OK && net != NULL && opt != NULL);
    if (st == NN_OK && opt != NULL) {
        adam_step(net, opt);
        params_of(net, p);
        memcpy(p0, p, sizeof p);
        MPI_Bcast(p0, NP, MPI_FLOAT, 0, MPI_COMM_WORLD);
        CHECK(memcmp(p0, p, sizeof p) == 0);
        if (rank == 0) CHECK(memcmp(porig, p, sizeof p) == 0);
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    net = NULL;
    opt = NULL;
    st = nn_mpi_checkpoint_load(&net, &opt, rank == 0 ? missing : NULL, 0,
                                MPI_COMM_WORLD);
    CHECK(st == NN_ERR_IO && net == NULL && opt == NULL);
    CHECK(strncmp(nn_mpi_last_error(), "rank 0: nn_mpi_checkpoint_load: "
                  "cannot open", 42) == 0);
    if (rank == 0) {
        printf("ckpt: %d ranks resumed from rank 0's file: the next Adam "
               "step identical to the original's on every rank; missing "
               "file: %s\n", size, nn_mpi_last_error());
        unlink(path);
        rmdir(dir);
    }
    nn_optimizer_destroy(oorig);
    nn_net_destroy(orig);
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
    else if (argc >= 2 && strcmp(argv[1], "bucket") == 0) r = bucket();
    else if (argc >= 2 && strcmp(argv[1], "attach") == 0 && size >= 2)
        r = attach();
    else if (argc >= 2 && strcmp(argv[1], "ckpt") == 0) r = ckpt();
    else if (argc >= 3 && strcmp(argv[1], "kill") == 0 && size >= 2)
        r = equiv(atoi(argv[2]));
    else if (rank == 0)
        fprintf(stderr, "usage: mpirun -np N %s equiv|badinput|bucket|attach|ckpt|kill STEP\n",
                argv[0]);
    MPI_Allreduce(&r, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any != 0;
}
