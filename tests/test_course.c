/*
 * test_course.c - the NNFS course's headline results, as fast tests (the
 * full programs are in examples/).  Each network is trained through the
 * public API with the course's settings, and judged by the test's own
 * double-precision evaluation of the final parameters (mlp64.h), against
 * libm's sin for the sine fit: not by the library's reported metrics.
 *
 *   spiral 2-64-3, Adam lr 0.05 decay 5e-7, 10000 epochs: median accuracy
 *     of three weight seeds >= 0.93 (course 0.967), with the library's
 *     default He-uniform weights: from the course's 0.01 randn weights even
 *     an exact double-precision replay of the course's algorithm ends at
 *     0.83-0.92 for seeds 0-5 (the course's 0.967 is its seed's luck); and
 *     the first epochs step for step against that double replay
 *   binary 2-64-1 sigmoid + BCE, L2 5e-4 on the hidden layer, Adam lr
 *     0.001 decay 5e-7, 10000 epochs: accuracy >= 0.85 (course ~0.9)
 *   sine 1-64-64-1, init 0.1 randn, Adam lr 0.005 decay 1e-3, 3000
 *     epochs: MSE against sin(2 pi x) <= 1e-4, max error <= 0.05
 *   (2, 7, 7, 3, 1) on f(x, y) = (x + 4)^3 + 4 y: validation MSE falls by
 *     three orders of magnitude
 */
#include "nntest.h"
#include "mlp64.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#ifndef SINE_EPOCHS
#define SINE_EPOCHS 3000
#endif
#ifndef XY_N
#define XY_N 2000
#endif
#ifndef XY_LR
#define XY_LR 0.005
#endif
#ifndef XY_EPOCHS
#define XY_EPOCHS 20
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double accuracy64(const nn_net *net, const float *x,
                         const int32_t *y, size_t n)
{
    struct m64 m;
    double *o, hits = 0;
    size_t i, no = nn_net_layer_outputs(net, nn_net_num_layers(net) - 1);
    NNT_TRUE(m64_from_net(&m, net) == 0);
    o = malloc(n * no * sizeof *o);
    NNT_TRUE(o != NULL && m64_forward(&m, x, n, o) == 0);
    for (i = 0; i < n; i++)
        hits += no == 1 ? (o[i] > 0.5) == (y[i] == 1)
                        : m64_argmax(o + i * no, no) == (size_t)y[i];
    free(o);
    m64_free(&m);
    return hits / (double)n;
}

static nn_trainer *full_batch(nn_net *net, nn_optimizer *opt, int32_t loss,
                              long epochs)
{
    nn_trainer *tr = NULL;
    NNT_OK(nn_trainer_create(&tr, net, opt));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, loss));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, (double)epochs));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, 0));   /* as the course */
    return tr;
}

/* The course's spiral training in double (forward, CCE through softmax,
   backward, Adam with bias correction and decay), written from the
   formulas, from a library net's initial parameters. */
enum { SP_S = 100, SP_C = 3, SP_N = SP_S * SP_C, SP_H = 64,
       SP_P = 2 * SP_H + SP_H + SP_H * SP_C + SP_C };
struct sp64 {
    double p[SP_P], m[SP_P], v[SP_P], g[SP_P];   /* W1 B1 W2 B2 */
    double z1[SP_N * SP_H], a1[SP_N * SP_H], pr[SP_N * SP_C];
    double it;
};

static void sp64_load(struct sp64 *r, const nn_net *net)
{
    float w[SP_H * SP_C > 2 * SP_H ? SP_H * SP_C : 2 * SP_H], b[SP_H];
    size_t i;
    memset(r, 0, sizeof *r);
    NNT_OK(nn_net_get_params(net, 0, w, b));
    for (i = 0; i < 2 * SP_H; i++) r->p[i] = w[i];
    for (i = 0; i < SP_H; i++) r->p[2 * SP_H + i] = b[i];
    NNT_OK(nn_net_get_params(net, 1, w, b));
    for (i = 0; i < SP_H * SP_C; i++) r->p[3 * SP_H + i] = w[i];
    for (i = 0; i < SP_C; i++) r->p[3 * SP_H + SP_H * SP_C + i] = b[i];
}

/* forward; returns the accuracy, *loss the mean clipped CCE */
static double sp64_forward(struct sp64 *r, const float *x, const int32_t *y,
                           double *loss)
{
    const double *w1 = r->p, *b1 = r->p + 2 * SP_H, *w2 = r->p + 3 * SP_H;
    const double *b2 = w2 + SP_H * SP_C;
    double hits = 0, l = 0;
    size_t i, j, k;
    for (i = 0; i < SP_N; i++)
        for (j = 0; j < SP_H; j++) {
            double s = b1[j] + x[2 * i] * w1[j] + x[2 * i + 1] * w1[SP_H + j];
            r->z1[i * SP_H + j] = s;
            r->a1[i * SP_H + j] = s > 0 ? s : 0;
        }
    for (i = 0; i < SP_N; i++) {
        double z[SP_C], mx = -HUGE_VAL, sum = 0, *pr = r->pr + i * SP_C;
        for (j = 0; j < SP_C; j++) {
            double s = b2[j];
            for (k = 0; k < SP_H; k++)
                s += r->a1[i * SP_H + k] * w2[k * SP_C + j];
            z[j] = s;
            mx = s > mx ? s : mx;
        }
        for (j = 0; j < SP_C; j++) sum += exp(z[j] - mx);
        for (j = 0; j < SP_C; j++) pr[j] = exp(z[j] - mx) / sum;
        hits += m64_argmax(pr, SP_C) == (size_t)y[i];
        l -= log(m64_clip(pr[y[i]]));
    }
    *loss = l / SP_N;
    return hits / SP_N;
}

static void sp64_step(struct sp64 *r, const float *x, const int32_t *y,
                      double lr0, double decay)
{
    double *gw1 = r->g, *gb1 = r->g + 2 * SP_H, *gw2 = r->g + 3 * SP_H;
    double *gb2 = gw2 + SP_H * SP_C, *w2 = r->p + 3 * SP_H;
    double lr = lr0 * (1.0 / (1.0 + decay * r->it));
    double c1 = 1 - pow(0.9, r->it + 1), c2 = 1 - pow(0.999, r->it + 1);
    size_t i, j, k;
    memset(r->g, 0, sizeof r->g);
    for (i = 0; i < SP_N; i++) {
        double dz[SP_C];
        for (j = 0; j < SP_C; j++) {   /* softmax + CCE: (p - t) / N */
            dz[j] = (r->pr[i * SP_C + j] - ((int32_t)j == y[i])) / SP_N;
            gb2[j] += dz[j];
            for (k = 0; k < SP_H; k++)
                gw2[k * SP_C + j] += r->a1[i * SP_H + k] * dz[j];
        }
        for (k = 0; k < SP_H; k++) {
            double s = 0;
            for (j = 0; j < SP_C; j++) s += dz[j] * w2[k * SP_C + j];
            if (r->z1[i * SP_H + k] <= 0) continue;
            gb1[k] += s;
            gw1[k] += x[2 * i] * s;
            gw1[SP_H + k] += x[2 * i + 1] * s;
        }
    }
    for (i = 0; i < SP_P; i++) {
        r->m[i] = 0.9 * r->m[i] + 0.1 * r->g[i];
        r->v[i] = 0.999 * r->v[i] + 0.001 * r->g[i] * r->g[i];
        r->p[i] += -lr * (r->m[i] / c1) / (sqrt(r->v[i] / c2) + 1e-7);
    }
    r->it += 1;
}

static nn_net *spiral_net(uint64_t seed, nn_optimizer **opt)
{
    size_t sizes[3] = {2, SP_H, SP_C};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, seed));
    NNT_OK(nn_optimizer_create(opt, net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(*opt, NN_OPT_LEARNING_RATE, 0.05));
    NNT_OK(nn_optimizer_set(*opt, NN_OPT_DECAY, 5e-7));
    return net;
}

NN_TEST(course_spiral_tracks_double_reference)
{
    /* The library's float training follows the course's algorithm run in
       double from the same start, step for step, until the trajectories
       part: at lr 0.05 the training is chaotic (Adam turns rounding noise
       in near-zero gradients into full steps, and ReLU units flip), so a
       second double run started one float ulp away is the yardstick of
       how far apart two correct runs drift. */
    static float x[SP_N * 2];
    static int32_t y[SP_N];
    static struct sp64 r, rp, lib;
    static const int marks[5] = {10, 25, 50, 100, 200};
    nn_optimizer *opt = NULL;
    nn_net *net = spiral_net(0, &opt);
    nn_trainer *tr = full_batch(net, opt, NN_LOSS_CCE, 1);
    double loss_ref, loss_p, lib_loss, acc_ref, acc_p, acc_lib;
    int e = 0, k;
    size_t i;
    NNT_OK(nn_data_spiral(x, y, SP_S, SP_C, 0));
    sp64_load(&r, net);
    sp64_load(&rp, net);
    for (i = 0; i < SP_P; i++)   /* +-1 float ulp (2^-24 relative) */
        rp.p[i] *= 1 + (double)((int)(i * 7 % 3) - 1) * 0x1p-24;
    for (k = 0; k < 5; k++) {
        double d_lib = 0, d_pert = 0, big = 0;
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, marks[k] - e));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, SP_N, NULL, NULL, NULL, 0));
        for (; e < marks[k]; e++) {
            sp64_forward(&r, x, y, &loss_ref);
            sp64_step(&r, x, y, 0.05, 5e-7);
            sp64_forward(&rp, x, y, &loss_p);
            sp64_step(&rp, x, y, 0.05, 5e-7);
        }
        sp64_load(&lib, net);
        for (i = 0; i < SP_P; i++) {
            d_lib = fmax(d_lib, fabs(lib.p[i] - r.p[i]));
            d_pert = fmax(d_pert, fabs(rp.p[i] - r.p[i]));
            big = fmax(big, fabs(r.p[i]));
        }
        acc_ref = sp64_forward(&r, x, y, &loss_ref);
        acc_p = sp64_forward(&rp, x, y, &loss_p);
        acc_lib = sp64_forward(&lib, x, y, &lib_loss);
        printf("  epoch %3d: max |w - w_double| %.3g, double vs double "
               "1 ulp apart %.3g (max |w| %.3g); loss %.6f / %.6f / %.6f, "
               "accuracy %.4f / %.4f / %.4f\n", e, d_lib, d_pert, big,
               lib_loss, loss_ref, loss_p, acc_lib, acc_ref, acc_p);
        if (marks[k] <= 50) {   /* still within float rounding */
            NNT_LE(d_lib, (marks[k] < 50 ? 1e-5 : 5e-5) * big);
            NNT_NEAR(lib_loss, loss_ref, 1e-5 * loss_ref);
        } else if (marks[k] == 100) {
            /* parting, but the loss is still the reference's */
            NNT_NEAR(lib_loss, loss_ref, 1e-2 * loss_ref);
        }   /* by 200 even the two double runs differ: printed only */
    }
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

NN_TEST(course_spiral_adam)
{
    /* 10000 epochs: the course reports 0.967.  Adam at lr 0.05 spikes, so
       the last epoch lands anywhere from ~0.91 to ~0.97 with the weight
       seed (the double-precision replay above gives 0.96-0.97 for seeds
       0-5 from the same start): judge the median of three seeds, and
       every seed against a floor. */
    static float x[SP_N * 2];
    static int32_t y[SP_N];
    double acc[3], lib_acc, loss, t0, med;
    int s;
    NNT_OK(nn_data_spiral(x, y, SP_S, SP_C, 0));
    for (s = 0; s < 3; s++) {
        nn_optimizer *opt = NULL;
        nn_net *net = spiral_net((uint64_t)s, &opt);
        nn_trainer *tr = full_batch(net, opt, NN_LOSS_CCE, 10000);
        t0 = now();
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, SP_N, NULL, NULL, NULL, 0));
        t0 = now() - t0;
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_ACCURACY, &lib_acc));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_LOSS, &loss));
        acc[s] = accuracy64(net, x, y, SP_N);
        printf("  spiral 2-64-3 seed %d, 10000 epochs in %.2f s: accuracy "
               "%.4f (double re-evaluation; last epoch reported %.4f), loss "
               "%.4f\n", s, t0, acc[s], lib_acc, loss);
        NNT_LE(0.85, acc[s]);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
    /* the median of three */
    med = fmax(fmin(acc[0], acc[1]), fmin(fmax(acc[0], acc[1]), acc[2]));
    printf("  median training accuracy %.4f (target >= 0.93)\n", med);
    NNT_LE(0.93, med);
}

NN_TEST(course_binary_logistic_spiral)
{
    enum { S = 100, C = 2, N = S * C };
    static float x[N * 2], t[N], xv[N * 2];
    static int32_t y[N], yv[N];
    size_t sizes[3] = {2, 64, 1}, i;
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SIGMOID};
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr;
    double acc, vacc, loss, reg, t0;
    NNT_OK(nn_data_spiral(x, y, S, C, 0));
    NNT_OK(nn_data_spiral(xv, yv, S, C, 1));   /* the course's test set */
    for (i = 0; i < N; i++) t[i] = (float)y[i];
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 0));
    NNT_OK(nn_net_init(net, NN_ALL_LAYERS, NN_INIT_NORMAL, 0.01, 0));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 5e-4));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_BIASES, 5e-4));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, 5e-7));   /* lr 0.001 */
    tr = full_batch(net, opt, NN_LOSS_BCE, 10000);
    t0 = now();
    NNT_OK(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0));
    t0 = now() - t0;
    NNT_OK(nn_trainer_metric(tr, NN_METRIC_LOSS, &loss));
    NNT_OK(nn_trainer_metric(tr, NN_METRIC_REG_LOSS, &reg));
    acc = accuracy64(net, x, y, N);
    vacc = accuracy64(net, xv, yv, N);
    printf("  binary 2-64-1, 10000 epochs in %.2f s: accuracy %.4f, "
           "validation %.4f, data loss %.4f, reg loss %.4f\n", t0, acc, vacc,
           loss, reg);
    NNT_LE(0.85, acc);
    NNT_LE(0.80, vacc);
    NNT_TRUE(reg > 0);
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

NN_TEST(course_sine_regression)
{
    enum { N = 1000 };
    static float x[N], y[N];
    static double o[N];
    size_t sizes[4] = {1, 64, 64, 1}, i;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_LINEAR};
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr;
    struct m64 m;
    double mse = 0, maxerr = 0, t0, lib_acc;
    NNT_OK(nn_data_sine(x, y, N));
    NNT_OK(nn_net_create(&net, 3, sizes, acts, 0));
    NNT_OK(nn_net_init(net, NN_ALL_LAYERS, NN_INIT_NORMAL, 0.1, 0));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.005));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-3));
    tr = full_batch(net, opt, NN_LOSS_MSE, SINE_EPOCHS);
    t0 = now();
    NNT_OK(nn_trainer_fit(tr, x, y, NULL, N, NULL, NULL, NULL, 0));
    t0 = now() - t0;
    NNT_OK(nn_trainer_metric(tr, NN_METRIC_ACCURACY, &lib_acc));
    NNT_TRUE(m64_from_net(&m, net) == 0);
    NNT_TRUE(m64_forward(&m, x, N, o) == 0);
    for (i = 0; i < N; i++) {
        double e = fabs(o[i] - sin(2 * M_PI * (double)i / N));
        mse += e * e;
        if (e > maxerr) maxerr = e;
    }
    mse /= N;
    printf("  sine 1-64-64-1, %d epochs in %.2f s: MSE vs sin %.3g, max "
           "error %.3g (last epoch accuracy, std/250, %.3f)\n", SINE_EPOCHS,
           t0, mse, maxerr, lib_acc);
    /* the course's fit is within its precision, std(y) / 250 ~ 0.0028,
       almost everywhere */
    NNT_LE(mse, 1e-4);
    NNT_LE(maxerr, 0.05);
    m64_free(&m);
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

/* the notebook's generator: x, y uniform in [0, 1), target
   (x + 4)^3 + 4 y plus N(0, 0.1^2) noise (the test's own splitmix64) */
static uint64_t xy_state = 42;
static double xy_uniform(void)
{
    uint64_t z = (xy_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static void xy_data(float *x, float *t, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double a = xy_uniform(), b = xy_uniform();
        double u = xy_uniform(), v = xy_uniform();
        double noise = sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
        x[2 * i] = (float)a;
        x[2 * i + 1] = (float)b;
        t[i] = (float)(pow(a + 4, 3) + 4 * b + 0.1 * noise);
    }
}

static double mse64(const nn_net *net, const float *x, const float *t,
                    size_t n)
{
    struct m64 m;
    double *o = malloc(n * sizeof *o), s;
    NNT_TRUE(o != NULL && m64_from_net(&m, net) == 0);
    NNT_TRUE(m64_forward(&m, x, n, o) == 0);
    s = m64_loss(NN_LOSS_MSE, o, t, NULL, n, 1);
    free(o);
    m64_free(&m);
    return s;
}

NN_TEST(course_regression_xy)
{
    enum { N = XY_N, NV = 1000 };
    static float x[N * 2], t[N], xv[NV * 2], tv[NV];
    size_t sizes[5] = {2, 7, 7, 3, 1};
    int32_t acts[4] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_RELU, NN_ACT_LINEAR};
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    double first, last, t0;
    xy_data(x, t, N);
    xy_data(xv, tv, NV);
    NNT_OK(nn_net_create(&net, 4, sizes, acts, 0));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, XY_LR));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, 1e-4));
    NNT_OK(nn_trainer_create(&tr, net, opt));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, NN_LOSS_MSE));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 32));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, XY_EPOCHS));
    first = mse64(net, xv, tv, NV);
    t0 = now();
    NNT_OK(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0));
    t0 = now() - t0;
    last = mse64(net, xv, tv, NV);
    printf("  (2, 7, 7, 3, 1) on (x + 4)^3 + 4y, %d x %d epochs of batch 32 "
           "in %.2f s: validation MSE %.1f -> %.4g (ratio %.2g)\n", N,
           XY_EPOCHS, t0, first, last, last / first);
    NNT_LE(last / first, 1e-3);
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}
