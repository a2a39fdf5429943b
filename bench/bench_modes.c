/* bench_modes.c - one training step under each way of using 2 cores, and
   the capacity probe: what bench_train --modes and bench_mpi --modes
   share (bench_modes.h). */
#include "bench_modes.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());          \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

const char *const mode_names[M_N] = {"one_thread", "blas_2", "replicas_2",
                                     "default_2"};

void modes_workload(const struct workload *w, nn_net **net, float **x,
                    int32_t **labels)
{
    size_t L = w->n_layers, B = w->batch, i, l;
    int32_t acts[MAXL];
    for (l = 0; l < L; l++)
        acts[l] = l + 1 < L ? NN_ACT_RELU : NN_ACT_SOFTMAX;
    CHECK(nn_net_create(net, L, w->sizes, acts, 1));
    *x = malloc(sizeof(float) * B * w->sizes[0]);
    *labels = malloc(sizeof(int32_t) * B);
    if (!*x || !*labels) exit(2);
    bench_fill(*x, B * w->sizes[0], 3);
    for (i = 0; i < B; i++) (*labels)[i] = (int32_t)(i % w->sizes[L]);
}

void modes_net_init(struct modes_net *s, const struct workload *w, int adam)
{
    s->w = w;
    s->adam = adam;
    s->opt = NULL;
    modes_workload(w, &s->net, &s->x, &s->labels);
    if (adam) CHECK(nn_optimizer_create(&s->opt, s->net, NN_OPT_ADAM));
}

void modes_net_free(struct modes_net *s)
{
    nn_optimizer_destroy(s->opt);
    nn_net_destroy(s->net);
    free(s->x);
    free(s->labels);
}

void modes_fwd_bwd(const struct modes_net *s, size_t begin, size_t rows,
                   int fuse)
{
    CHECK(nn_forward(s->net, s->x + begin * s->w->sizes[0], rows, NULL));
    if (fuse && !s->adam)
        CHECK(nn_backward_labels_sgd(s->net, s->labels + begin, 1e-4f,
                                     NULL));
    else
        CHECK(nn_backward_labels(s->net, s->labels + begin, NULL));
}

void modes_update(const struct modes_net *s)
{
    if (s->adam) CHECK(nn_optimizer_step(s->opt));
    else CHECK(nn_sgd_step(s->net, 1e-4f));
}

/* the in-process step: SGD fused into the backward, or Adam after it */
static void modes_step(const struct modes_net *s)
{
    modes_fwd_bwd(s, 0, s->w->batch, 1);
    if (s->adam) modes_update(s);
}

void mode_set(int m)
{
    CHECK(nn_set_num_threads(m == M_ONE ? 1 : 2));
    CHECK(nn_set_parallel_mode(m == M_BLAS2   ? NN_PARALLEL_BLAS
                               : m == M_REP2 ? NN_PARALLEL_REPLICAS
                                             : NN_PARALLEL_AUTO));
}

/* OpenBLAS's worker threads spin ~0.1 s (THREAD_TIMEOUT) after a 2-thread
   call or a change of its thread count, on the core the next mode's
   replicas (or the other MPI rank) need: let them park before timing */
void modes_settle(void)
{
    struct timespec ts = {0, 250000000};
    nanosleep(&ts, NULL);
}

int modes_inner_for(double one)
{
    int n = 1;
    while (n * one < 0.02 && n < 100000) n *= 2;
    return n;
}

void modes_warm(struct modes_net *s)
{
    double t0;
    int m;
    for (m = 0; m < M_N; m++) {
        mode_set(m);
        modes_step(s);
        modes_step(s);
        t0 = bench_now();
        modes_step(s);
        s->inner[m] = modes_inner_for(bench_now() - t0);
    }
}

double modes_sample(const struct modes_net *s, int m)
{
    double t0;
    int j;
    mode_set(m);
    modes_step(s);   /* the switch's own cost stays out of the sample */
    modes_settle();
    t0 = bench_now();
    for (j = 0; j < s->inner[m]; j++) modes_step(s);
    return (bench_now() - t0) / s->inner[m];
}

/* Two concurrent single-threaded sgemm loops against one: the machine's
   parallel capacity at that moment (2.0 = two full cores).  Threads are
   made per sample; the loop lasts ~20 ms so that cost is noise. */
#define CAP_N 192
static float cap_a[2][CAP_N * CAP_N], cap_b[2][CAP_N * CAP_N],
    cap_c[2][CAP_N * CAP_N];
static int cap_iters = 1;

static void *cap_loop(void *arg)
{
    int k = (int)(intptr_t)arg, i;
    for (i = 0; i < cap_iters; i++)
        /* C <- A B: M = N = K = CAP_N, all leading dimensions CAP_N */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, CAP_N, CAP_N,
                    CAP_N, 1.0f, cap_a[k], CAP_N, cap_b[k], CAP_N, 0.0f,
                    cap_c[k], CAP_N);
    return NULL;
}

void cap_init(void)
{
    double c0;
    bench_fill(cap_a[0], CAP_N * CAP_N, 1);
    bench_fill(cap_a[1], CAP_N * CAP_N, 2);
    bench_fill(cap_b[0], CAP_N * CAP_N, 3);
    bench_fill(cap_b[1], CAP_N * CAP_N, 4);
    mode_set(M_ONE);
    cap_iters = 1;
    cap_loop((void *)(intptr_t)0);
    c0 = bench_now();
    cap_loop((void *)(intptr_t)0);
    cap_iters = modes_inner_for(bench_now() - c0);
}

double cap_sample(void)
{
    pthread_t th;
    double t0, t1, t2;
    mode_set(M_ONE);
    modes_settle();
    t0 = bench_now();
    cap_loop((void *)(intptr_t)0);
    t1 = bench_now();
    if (pthread_create(&th, NULL, cap_loop, (void *)(intptr_t)1) != 0)
        return 0;
    cap_loop((void *)(intptr_t)0);
    pthread_join(th, NULL);
    t2 = bench_now();
    return 2.0 * (t1 - t0) / (t2 - t1);
}

void modes_print(const char *bench, const struct modes_net *s,
                 double t[M_N][MODES_MAXR], double *cap, int r,
                 const char *extra)
{
    const struct workload *w = s->w;
    size_t L = w->n_layers, l;
    double mn, med[M_N], p90, cmed;
    int m;

    bench_json_head(bench, 2);
    printf(",\"workload\":\"%s\",\"batch\":%zu,\"optimizer\":\"%s\","
           "\"layers\":\"", w->name, w->batch,
           s->adam ? "adam" : "sgd_fused");
    for (l = 0; l <= L; l++) printf("%zu%s", w->sizes[l], l < L ? "-" : "");
    printf("\"");
    for (m = 0; m < M_N; m++) {
        bench_stats(t[m], r, &mn, &med[m], &p90);
        printf(",\"%s_median_s\":%.6g", mode_names[m], med[m]);
    }
    for (m = 1; m < M_N; m++)
        printf(",\"%s_ratio\":%.3f", mode_names[m], med[m] / med[M_ONE]);
    bench_stats(cap, r, &mn, &cmed, &p90);
    printf(",\"capacity_2_sgemm\":%.3f,\"capacity_min\":%.3f,"
           "\"capacity_p90\":%.3f%s,\"reps\":%d}\n", cmed, mn, p90, extra, r);
    fflush(stdout);
}
