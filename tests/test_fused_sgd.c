/*
 * test_fused_sgd.c - nn_backward_sgd / nn_backward_labels_sgd, the update
 * fused into the gradient product (W += -lr X^T dZ with beta = 1).
 *
 * Reference: a clone of the same net runs nn_backward, the test reads its
 * gradients (nn_net_get_grads) and steps its own double copy of the
 * parameters, W - lr dW, then rounds once.  The fused parameters must match
 * that within 2 ulps of max(|W|, lr |dW|) elementwise (the BLAS may fuse
 * the multiply-add: one rounding instead of the two of nn_sgd_step).  Also:
 * the loss equals nn_backward's bit for bit, the gradients are gone
 * afterwards (NN_ERR_STATE), the fallback paths (L2 penalty, a step that
 * would overflow) give exactly nn_backward + nn_sgd_step or a clean
 * failure, bad arguments change nothing, and 200 fused steps track 200
 * unfused ones.
 */
#include "nntest.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F_MAXP 8192
#define F_BATCH 37

struct f_case {
    size_t n_layers;
    size_t sizes[6];
    int32_t acts[5];
    int32_t loss;       /* -1: labels */
};

static const struct f_case f_cases[] = {
    {2, {2, 64, 3}, {NN_ACT_RELU, NN_ACT_SOFTMAX}, -1},
    {2, {2, 64, 3}, {NN_ACT_RELU, NN_ACT_SOFTMAX}, NN_LOSS_CCE},
    {3, {5, 17, 9, 1}, {NN_ACT_TANH, NN_ACT_RELU, NN_ACT_SIGMOID},
     NN_LOSS_BCE},
    {4, {3, 33, 65, 8, 2}, {NN_ACT_SIGMOID, NN_ACT_RELU, NN_ACT_TANH,
                            NN_ACT_LINEAR}, NN_LOSS_MSE},
    {2, {7, 16, 4}, {NN_ACT_RELU, NN_ACT_LINEAR}, NN_LOSS_MAE},
};
#define F_NCASES (sizeof f_cases / sizeof f_cases[0])

static float f_x[F_BATCH * 8], f_t[F_BATCH * 8];
static int32_t f_lab[F_BATCH];

static void f_data(const struct f_case *c, unsigned seed)
{
    size_t n_in = c->sizes[0], n_out = c->sizes[c->n_layers], i, j;
    srand(seed);
    for (i = 0; i < F_BATCH * n_in; i++)
        f_x[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    for (i = 0; i < F_BATCH; i++) {
        f_lab[i] = (int32_t)(rand() % (int)n_out);
        for (j = 0; j < n_out; j++) {
            float u = (float)rand() / (float)RAND_MAX;
            if (c->loss == NN_LOSS_CCE)
                f_t[i * n_out + j] = (int32_t)j == f_lab[i] ? 1.0f : 0.0f;
            else if (c->loss == NN_LOSS_BCE)
                f_t[i * n_out + j] = u < 0.5f ? 0.0f : 1.0f;
            else
                f_t[i * n_out + j] = u * 4.0f - 2.0f;
        }
    }
}

static nn_net *f_clone(const nn_net *net)
{
    static unsigned char buf[1 << 17];
    size_t size = 0;
    nn_net *out = NULL;
    if (nn_net_save_buffer(net, buf, sizeof buf, &size) != NN_OK) return NULL;
    if (nn_net_load_buffer(&out, buf, size) != NN_OK) return NULL;
    return out;
}

/* every layer's w then b through get (nn_net_get_params or
   nn_net_get_grads); the count, 0 on failure */
static size_t f_read(const nn_net *net,
                     int (*get)(const nn_net *, size_t, float *, float *),
                     float *p)
{
    size_t L = nn_net_num_layers(net), i, at = 0;
    for (i = 0; i < L; i++) {
        size_t nw = nn_net_layer_inputs(net, i) * nn_net_layer_outputs(net, i);
        if (get(net, i, p + at, p + at + nw) != NN_OK) return 0;
        at += nw + nn_net_layer_outputs(net, i);
    }
    return at;
}

static size_t f_params(const nn_net *net, float *p)
{
    return f_read(net, nn_net_get_params, p);
}

static size_t f_grads(const nn_net *net, float *g)
{
    return f_read(net, nn_net_get_grads, g);
}

static int f_backward(nn_net *net, const struct f_case *c, float *loss)
{
    return c->loss < 0 ? nn_backward_labels(net, f_lab, loss)
                       : nn_backward(net, c->loss, f_t, loss);
}

static int f_fused(nn_net *net, const struct f_case *c, float lr,
                   float *loss)
{
    return c->loss < 0 ? nn_backward_labels_sgd(net, f_lab, lr, loss)
                       : nn_backward_sgd(net, c->loss, f_t, lr, loss);
}

static float f_p0[F_MAXP], f_p1[F_MAXP], f_g[F_MAXP], f_q[F_MAXP];

/* 1 when the BLAS is OpenBLAS, whose products sum in the same order
   whatever beta (the tolerances below are tight for it) */
static int f_openblas(void)
{
    return strstr(nn_info(NN_INFO_BLAS), "OpenBLAS") != NULL;
}

NN_TEST(fused_sgd_matches_double_step)
{
    static const float lrs[] = {0.5f, 0.01f, -0.2f};
    double worst = 0;
    /* The reference gradient is the beta = 0 product.  OpenBLAS sums X^T
       dZ in the same order with beta = 1, so the fused W' is within 2
       ulps (lr * sum, the add, the reference's own dW rounding); another
       BLAS may order the two calls' sums differently (BLIS 0.9, zen3:
       2.1 ulps), so it gets 4. */
    double ulps = f_openblas() ? 2.0 : 4.0;
    size_t ci, li;
    for (ci = 0; ci < F_NCASES; ci++) {
        const struct f_case *c = &f_cases[ci];
        for (li = 0; li < sizeof lrs / sizeof lrs[0]; li++) {
            nn_net *a = NULL, *b;
            float la, lb, lr = lrs[li];
            size_t n, i, L;
            NNT_OK(nn_net_create(&a, c->n_layers, c->sizes, c->acts,
                                 100 + ci));
            b = f_clone(a);
            NNT_TRUE(b != NULL);
            f_data(c, (unsigned)(7 * ci + li));
            n = f_params(a, f_p0);
            NNT_TRUE(n > 0 && n <= F_MAXP);
            /* a: the unfused reference's gradients */
            NNT_OK(nn_forward(a, f_x, F_BATCH, NULL));
            NNT_OK(f_backward(a, c, &la));
            NNT_EQ_SIZE(f_grads(a, f_g), n);
            /* b: fused */
            NNT_OK(nn_forward(b, f_x, F_BATCH, NULL));
            NNT_OK(f_fused(b, c, lr, &lb));
            NNT_TRUE(la == lb);
            NNT_EQ_SIZE(f_params(b, f_p1), n);
            for (i = 0; i < n; i++) {
                double ref = (double)f_p0[i] - (double)lr * (double)f_g[i];
                double scale = fmax(fabs((double)f_p0[i]),
                                    fabs((double)lr * (double)f_g[i]));
                double err = fabs((double)f_p1[i] - ref);
                double tol = ulps * FLT_EPSILON * scale + 1e-30;
                if (err / tol > worst) worst = err / tol;
                NNT_LE(err, tol);
            }
            /* the gradients are not kept; the cached forward is stale */
            L = nn_net_num_layers(b);
            NNT_STATUS(nn_net_get_grads(b, L - 1, f_g, f_g + 64), NN_ERR_STATE);
            NNT_STATUS(nn_sgd_step(b, lr), NN_ERR_STATE);
            NNT_STATUS(f_backward(b, c, NULL), NN_ERR_STATE);
            nn_net_destroy(a);
            nn_net_destroy(b);
        }
    }
    printf("  worst |fused - double step| / (2 eps scale): %.3f\n", worst);
}

/* 200 steps on the spiral with labels: fused and unfused parameters stay
   within float drift of each other and both learn. */
NN_TEST(fused_sgd_trajectory_tracks_unfused)
{
    enum { N = 300, STEPS = 200 };
    static float x[N * 2];
    static int32_t y[N];
    static const size_t sizes[] = {2, 64, 3};
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *a = NULL, *b;
    float la = 0, lb = 0, first = 0;
    double dmax = 0, pmax = 0;
    size_t n, i;
    int s;
    NNT_OK(nn_data_spiral(x, y, 100, 3, 0));
    NNT_OK(nn_net_create(&a, 2, sizes, acts, 3));
    b = f_clone(a);
    NNT_TRUE(b != NULL);
    for (s = 0; s < STEPS; s++) {
        NNT_OK(nn_forward(a, x, N, NULL));
        NNT_OK(nn_backward_labels(a, y, &la));
        NNT_OK(nn_sgd_step(a, 1.0f));
        NNT_OK(nn_forward(b, x, N, NULL));
        NNT_OK(nn_backward_labels_sgd(b, y, 1.0f, &lb));
        if (s == 0) first = lb;
    }
    n = f_params(a, f_p0);
    NNT_EQ_SIZE(f_params(b, f_p1), n);
    for (i = 0; i < n; i++) {
        dmax = fmax(dmax, fabs((double)f_p0[i] - (double)f_p1[i]));
        pmax = fmax(pmax, fabs((double)f_p0[i]));
    }
    printf("  after %d steps: loss %.5f (unfused %.5f, first %.5f), "
           "max |dW| %.2e of max |W| %.2f\n", STEPS, lb, la, first, dmax,
           pmax);
    /* 200 steps at lr 1 amplify any rounding difference (a ReLU input
       near 0 lands on the other side): with OpenBLAS's summation order
       the runs stay within 1e-3 of the largest weight; BLIS 0.9 reached
       1.08e-3, so another BLAS gets 1e-2 */
    NNT_LE(dmax, (f_openblas() ? 1e-3 : 1e-2) * pmax);
    NNT_LE(fabs((double)la - (double)lb), 1e-3);
    NNT_LE(lb, first - 0.05f);
    nn_net_destroy(a);
    nn_net_destroy(b);
}

/* With an L2 penalty the call takes the unfused path: exactly nn_backward
   + nn_sgd_step, bit for bit; gradients dropped afterwards all the same. */
NN_TEST(fused_sgd_penalty_falls_back_exactly)
{
    const struct f_case *c = &f_cases[3];
    nn_net *a = NULL, *b;
    float la, lb;
    size_t n;
    NNT_OK(nn_net_create(&a, c->n_layers, c->sizes, c->acts, 9));
    NNT_OK(nn_net_set_layer_option(a, 1, NN_LAYER_L2_WEIGHTS, 1e-3));
    b = f_clone(a);
    NNT_TRUE(b != NULL);
    f_data(c, 5);
    NNT_OK(nn_forward(a, f_x, F_BATCH, NULL));
    NNT_OK(f_backward(a, c, &la));
    NNT_OK(nn_sgd_step(a, 0.05f));
    NNT_OK(nn_forward(b, f_x, F_BATCH, NULL));
    NNT_OK(f_fused(b, c, 0.05f, &lb));
    NNT_TRUE(la == lb);
    n = f_params(a, f_p0);
    NNT_EQ_SIZE(f_params(b, f_p1), n);
    NNT_TRUE(memcmp(f_p0, f_p1, n * sizeof(float)) == 0);
    NNT_STATUS(nn_sgd_step(b, 0.05f), NN_ERR_STATE);
    nn_net_destroy(a);
    nn_net_destroy(b);
}

/* Bad arguments and a step that would overflow: a status naming the
   function, parameters unchanged. */
NN_TEST(fused_sgd_errors_change_nothing)
{
    const struct f_case *c = &f_cases[1];
    nn_net *net = NULL;
    size_t n;
    NNT_OK(nn_net_create(&net, c->n_layers, c->sizes, c->acts, 4));
    f_data(c, 11);
    n = f_params(net, f_p0);
    NNT_STATUS(nn_backward_sgd(NULL, NN_LOSS_CCE, f_t, 0.1f, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward_labels_sgd(NULL, f_lab, 0.1f, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward_sgd(net, NN_LOSS_CCE, f_t, 0.1f, NULL),
               NN_ERR_STATE);          /* no forward yet */
    NNT_MSG_HAS("nn_backward_sgd");
    NNT_OK(nn_forward(net, f_x, F_BATCH, NULL));
    NNT_STATUS(nn_backward_sgd(net, NN_LOSS_CCE, NULL, 0.1f, NULL),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("targets");
    NNT_STATUS(nn_backward_labels_sgd(net, NULL, 0.1f, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward_sgd(net, 17, f_t, 0.1f, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward_sgd(net, NN_LOSS_CCE, f_t, NAN, NULL),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("learning_rate");
    NNT_STATUS(nn_backward_sgd(net, NN_LOSS_CCE, f_t, INFINITY, NULL),
               NN_ERR_NONFINITE);
    f_lab[3] = 3;                      /* outside [0, 3) */
    NNT_STATUS(nn_backward_labels_sgd(net, f_lab, 0.1f, NULL),
               NN_ERR_SHAPE);
    f_lab[3] = 0;
    NNT_EQ_SIZE(f_params(net, f_q), n);
    NNT_TRUE(memcmp(f_p0, f_q, n * sizeof(float)) == 0);
    /* and the net still trains */
    NNT_OK(nn_backward_sgd(net, NN_LOSS_CCE, f_t, 0.1f, NULL));
    nn_net_destroy(net);
}

/* A step that would overflow: MSE against targets of 1e15 gives
   gradients near 1e15; with lr 1e30 the bounds refuse the fused path and
   the unfused update would overflow: NN_ERR_NONFINITE naming the call,
   parameters unchanged, the net still usable. */
NN_TEST(fused_sgd_overflow_is_refused)
{
    const struct f_case *c = &f_cases[3];
    nn_net *net = NULL;
    size_t n, i;
    NNT_OK(nn_net_create(&net, c->n_layers, c->sizes, c->acts, 12));
    f_data(c, 13);
    for (i = 0; i < F_BATCH * 2; i++) f_t[i] = 1e15f;
    n = f_params(net, f_p0);
    NNT_OK(nn_forward(net, f_x, F_BATCH, NULL));
    NNT_STATUS(nn_backward_sgd(net, NN_LOSS_MSE, f_t, 1e30f, NULL),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("nn_backward_sgd");
    NNT_EQ_SIZE(f_params(net, f_q), n);
    NNT_TRUE(memcmp(f_p0, f_q, n * sizeof(float)) == 0);
    NNT_OK(nn_forward(net, f_x, F_BATCH, NULL));
    NNT_OK(nn_backward_sgd(net, NN_LOSS_MSE, f_t, 1e-20f, NULL));
    nn_net_destroy(net);
}

/* A gradient that itself overflows float while lr is small (or 0): the
   fused product would form X^T dZ = inf before scaling it, so the call
   must take the unfused path and fail like nn_backward (found in review:
   W became -inf, or NaN for lr 0). */
NN_TEST(fused_sgd_overflowing_gradient_small_lr)
{
    static const size_t sizes[] = {1, 1, 1};
    static const int32_t acts[] = {NN_ACT_LINEAR, NN_ACT_LINEAR};
    static const float lrs[] = {1e-3f, 1e-30f, 0.0f};
    const float x[1] = {1e30f}, t[1] = {0.0f}, w1[1] = {1.0f}, b1[1] = {0};
    const float w2[1] = {1e-21f}, b2[1] = {0};
    float p0[4], p1[4];
    nn_net *net = NULL;
    size_t li;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 1));
    NNT_OK(nn_net_set_params(net, 0, w1, b1));
    NNT_OK(nn_net_set_params(net, 1, w2, b2));
    NNT_EQ_SIZE(f_params(net, p0), 4);
    NNT_OK(nn_forward(net, x, 1, NULL));
    NNT_STATUS(nn_backward(net, NN_LOSS_MSE, t, NULL), NN_ERR_NONFINITE);
    for (li = 0; li < sizeof lrs / sizeof lrs[0]; li++) {
        NNT_STATUS(nn_backward_sgd(net, NN_LOSS_MSE, t, lrs[li], NULL),
                   NN_ERR_NONFINITE);
        NNT_EQ_SIZE(f_params(net, p1), 4);
        NNT_TRUE(memcmp(p0, p1, sizeof p0) == 0);
    }
    NNT_OK(nn_forward(net, x, 1, NULL));   /* still usable */
    nn_net_destroy(net);
}
