/*
 * test_api.c - the contract of include/nnfs.h: status codes and their
 * messages, argument validation, call order, shape queries, and results
 * with known values (the NNFS notebooks' worked examples).
 */
#include "nntest.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

static nn_net *make_net(size_t n_layers, const size_t *sizes,
                        const int32_t *acts, uint64_t seed)
{
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, n_layers, sizes, acts, seed));
    return net;
}

NN_TEST(api_status_strings_and_version)
{
    int codes[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, INT_MAX, INT_MIN};
    size_t i, j;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        NNT_TRUE(nn_strerror(codes[i]) != NULL);
    /* every real code has its own text; others share "unknown status" */
    for (i = 0; i <= NN_ERR_MISUSE; i++)
        for (j = i + 1; j <= NN_ERR_MISUSE; j++)
            NNT_TRUE(strcmp(nn_strerror((int)i), nn_strerror((int)j)) != 0);
    NNT_EQ_STR(nn_strerror(NN_ERR_MISUSE + 1), "unknown status");
    NNT_EQ_STR(nn_strerror(-1), "unknown status");
    NNT_EQ_STR(nn_version(), "0.1.0");
    NNT_EQ_INT(nn_version_number(), NN_VERSION_NUMBER);
    NNT_EQ_INT(NN_VERSION_NUMBER, NN_VERSION_MAJOR * 10000 +
               NN_VERSION_MINOR * 100 + NN_VERSION_PATCH);
    NNT_TRUE(nn_last_error() != NULL);
}

NN_TEST(api_info)
{
    const char *k = nn_info(NN_INFO_KERNELS), *built = nn_info(NN_INFO_KERNELS_BUILT);
    NNT_EQ_STR(nn_info(NN_INFO_VERSION), nn_version());
    NNT_TRUE(nn_info(NN_INFO_BLAS) != NULL && nn_info(NN_INFO_BLAS)[0] != 0);
    NNT_TRUE(nn_info(NN_INFO_BLAS_CORE) != NULL);
    NNT_TRUE(k != NULL && built != NULL);
    NNT_TRUE(strstr(built, k) != NULL);         /* in use implies built */
    NNT_TRUE(strstr(built, "generic") != NULL);
    NNT_TRUE(nn_info(-1) == NULL);
    NNT_TRUE(nn_info(NN_INFO_BLAS_CORE_CHOICE) != NULL &&
             nn_info(NN_INFO_BLAS_CORE_CHOICE)[0] != 0);
    NNT_TRUE(nn_info(NN_INFO_BLAS_CORE_CHOICE + 1) == NULL);
    NNT_TRUE(nn_info(INT32_MAX) == NULL);
    printf("  BLAS %s, core %s, kernels %s (built: %s)\n",
           nn_info(NN_INFO_BLAS), nn_info(NN_INFO_BLAS_CORE), k, built);
}

NN_TEST(api_create_validation)
{
    size_t sizes[3] = {2, 4, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = (nn_net *)&net;   /* garbage that must become NULL */
    size_t big[3] = {2, (size_t)NN_MAX_WIDTH + 1, 3};
    size_t zero[3] = {2, 0, 3};
    size_t wide[3] = {NN_MAX_WIDTH, NN_MAX_WIDTH, 1};
    int32_t bad_acts[3] = {-1, 5, INT32_MAX};
    size_t many[NN_MAX_LAYERS + 2];
    int32_t many_acts[NN_MAX_LAYERS + 1];
    size_t i;

    NNT_STATUS(nn_net_create(NULL, 2, sizes, acts, 0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_create: out");
    NNT_STATUS(nn_net_create(&net, 2, NULL, acts, 0), NN_ERR_INVALID_ARG);
    NNT_TRUE(net == NULL);
    NNT_MSG_HAS("sizes");
    NNT_STATUS(nn_net_create(&net, 2, sizes, NULL, 0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("activations");
    NNT_STATUS(nn_net_create(&net, 0, sizes, acts, 0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("n_layers");
    NNT_STATUS(nn_net_create(&net, 2, zero, acts, 0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("sizes[1] is 0");
    NNT_STATUS(nn_net_create(&net, 2, big, acts, 0), NN_ERR_SHAPE);
    NNT_MSG_HAS("sizes[1] = 1048577");
    NNT_STATUS(nn_net_create(&net, 2, wide, acts, 0), NN_ERR_SHAPE);
    NNT_MSG_HAS("NN_MAX_PARAMS");
    for (i = 0; i < 3; i++) {
        int32_t a[2] = {NN_ACT_RELU, bad_acts[i]};
        char want[64];
        NNT_STATUS(nn_net_create(&net, 2, sizes, a, 0), NN_ERR_INVALID_ARG);
        snprintf(want, sizeof want, "activations[1] = %d", (int)bad_acts[i]);
        NNT_MSG_HAS(want);
        NNT_TRUE(net == NULL);
    }
    for (i = 0; i < NN_MAX_LAYERS + 2; i++) many[i] = 2;
    for (i = 0; i < NN_MAX_LAYERS + 1; i++) many_acts[i] = NN_ACT_TANH;
    NNT_STATUS(nn_net_create(&net, NN_MAX_LAYERS + 1, many, many_acts, 0),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("NN_MAX_LAYERS");
    /* exactly at the limit is fine */
    NNT_OK(nn_net_create(&net, NN_MAX_LAYERS, many, many_acts, 0));
    NNT_EQ_SIZE(nn_net_num_layers(net), NN_MAX_LAYERS);
    nn_net_destroy(net);
    nn_net_destroy(NULL);
}

NN_TEST(api_queries)
{
    size_t sizes[4] = {5, 7, 1, 3};
    int32_t acts[3] = {NN_ACT_TANH, NN_ACT_LINEAR, NN_ACT_SIGMOID};
    nn_net *net = make_net(3, sizes, acts, 7);
    NNT_EQ_SIZE(nn_net_num_layers(net), 3);
    NNT_EQ_SIZE(nn_net_layer_inputs(net, 0), 5);
    NNT_EQ_SIZE(nn_net_layer_outputs(net, 0), 7);
    NNT_EQ_SIZE(nn_net_layer_inputs(net, 2), 1);
    NNT_EQ_SIZE(nn_net_layer_outputs(net, 2), 3);
    NNT_EQ_INT(nn_net_layer_activation(net, 1), NN_ACT_LINEAR);
    NNT_EQ_SIZE(nn_net_num_params(net), 5 * 7 + 7 + 7 * 1 + 1 + 1 * 3 + 3);
    NNT_EQ_SIZE(nn_net_layer_inputs(net, 3), 0);
    NNT_EQ_SIZE(nn_net_layer_outputs(net, 3), 0);
    NNT_EQ_INT(nn_net_layer_activation(net, 3), -1);
    NNT_EQ_SIZE(nn_net_num_layers(NULL), 0);
    NNT_EQ_SIZE(nn_net_num_params(NULL), 0);
    NNT_EQ_INT(nn_net_layer_activation(NULL, 0), -1);
    nn_net_destroy(net);
}

NN_TEST(api_params_roundtrip_and_validation)
{
    size_t sizes[3] = {3, 4, 2};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_LINEAR};
    nn_net *net = make_net(2, sizes, acts, 3);
    float w[12], b[4], w2[12], b2[4], g[12];
    size_t i;
    for (i = 0; i < 12; i++) w[i] = (float)i * 0.25f - 1.0f;
    for (i = 0; i < 4; i++) b[i] = (float)i;
    NNT_OK(nn_net_set_params(net, 0, w, b));
    NNT_OK(nn_net_get_params(net, 0, w2, b2));
    NNT_TRUE(memcmp(w, w2, sizeof w) == 0 && memcmp(b, b2, sizeof b) == 0);
    /* NULL pointers skip; both NULL is a no-op */
    NNT_OK(nn_net_set_params(net, 0, NULL, NULL));
    NNT_OK(nn_net_get_params(net, 0, NULL, b2));
    NNT_OK(nn_net_set_params(net, 0, NULL, b));
    NNT_STATUS(nn_net_get_params(NULL, 0, w2, b2), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_get_params: net is NULL");
    NNT_STATUS(nn_net_set_params(net, 2, w, b), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("layer = 2 is outside [0, 2)");
    NNT_STATUS(nn_net_get_params(net, SIZE_MAX, w, b), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_get_grads(net, 0, g, NULL), NN_ERR_STATE);
    NNT_MSG_HAS("nn_net_get_grads");
    NNT_STATUS(nn_net_get_grads(net, 9, g, NULL), NN_ERR_INVALID_ARG);
    /* a NaN in the biases: nothing written, the weights included */
    w[3] = 100.0f;
    b[2] = NAN;
    NNT_STATUS(nn_net_set_params(net, 0, w, b), NN_ERR_NONFINITE);
    NNT_MSG_HAS("biases[2] is NaN");
    NNT_OK(nn_net_get_params(net, 0, w2, NULL));
    NNT_TRUE(w2[3] != 100.0f);
    nn_net_destroy(net);
}

NN_TEST(api_call_order)
{
    size_t sizes[3] = {2, 3, 2};
    int32_t acts[2] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = make_net(2, sizes, acts, 11);
    float x[4] = {0.5f, -1.0f, 2.0f, 0.25f}, t[4] = {1, 0, 0, 1}, loss;
    int32_t y[2] = {0, 1};

    NNT_STATUS(nn_backward(net, NN_LOSS_CCE, t, &loss), NN_ERR_STATE);
    NNT_MSG_HAS("nn_backward: no successful nn_forward");
    NNT_STATUS(nn_backward_labels(net, y, &loss), NN_ERR_STATE);
    NNT_STATUS(nn_sgd_step(net, 0.1f), NN_ERR_STATE);
    NNT_MSG_HAS("nn_sgd_step: no nn_backward");
    NNT_OK(nn_forward(net, x, 2, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_CCE, t, &loss));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));   /* again is fine */
    NNT_OK(nn_sgd_step(net, 0.1f));
    /* the step changed the weights: the cached forward is stale */
    NNT_STATUS(nn_backward(net, NN_LOSS_CCE, t, &loss), NN_ERR_STATE);
    NNT_OK(nn_sgd_step(net, 0.1f));                   /* grads remain */
    NNT_OK(nn_forward(net, x, 2, NULL));
    NNT_OK(nn_backward_labels(net, y, &loss));
    /* set_params also makes the forward stale */
    {
        float b[2] = {0, 0};
        NNT_OK(nn_net_set_params(net, 1, NULL, b));
        NNT_STATUS(nn_backward_labels(net, y, &loss), NN_ERR_STATE);
    }
    nn_net_destroy(net);
}

NN_TEST(api_forward_backward_validation)
{
    size_t sizes[3] = {2, 3, 10};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = make_net(2, sizes, acts, 5);
    float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    float t[40] = {0}, loss = -1.0f;
    int32_t y[4] = {0, 1, 2, 3}, bad[4] = {0, 1, 2, 12};
    int32_t losses[3] = {-1, 4, INT32_MAX};
    size_t i;

    NNT_STATUS(nn_forward(NULL, x, 4, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_forward(net, NULL, 4, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_forward: x is NULL");
    NNT_STATUS(nn_forward(net, x, 0, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("batch is 0");
    NNT_STATUS(nn_forward(net, x, (size_t)INT_MAX + 1, NULL), NN_ERR_SHAPE);
    NNT_STATUS(nn_forward(net, x, SIZE_MAX, NULL), NN_ERR_SHAPE);
    NNT_STATUS(nn_predict(net, x, SIZE_MAX / 2, t), NN_ERR_SHAPE);
    NNT_OK(nn_forward(net, x, 4, NULL));
    NNT_STATUS(nn_backward(NULL, NN_LOSS_CCE, t, &loss), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward(net, NN_LOSS_CCE, NULL, &loss),
               NN_ERR_INVALID_ARG);
    for (i = 0; i < 3; i++) {
        NNT_STATUS(nn_backward(net, losses[i], t, &loss), NN_ERR_INVALID_ARG);
        NNT_MSG_HAS("is not an NN_LOSS_* value");
    }
    NNT_STATUS(nn_backward_labels(net, NULL, &loss), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_backward_labels(net, bad, &loss), NN_ERR_SHAPE);
    NNT_MSG_HAS("nn_backward_labels: labels[3] = 12 is outside [0, 10)");
    bad[3] = -1;
    NNT_STATUS(nn_backward_labels(net, bad, &loss), NN_ERR_SHAPE);
    NNT_MSG_HAS("labels[3] = -1");
    NNT_TRUE(loss == -1.0f);   /* untouched on failure */
    NNT_STATUS(nn_net_get_grads(net, 0, t, NULL), NN_ERR_STATE);
    NNT_OK(nn_backward_labels(net, y, &loss));
    NNT_TRUE(loss > 0.0f);
    NNT_STATUS(nn_sgd_step(NULL, 0.1f), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_sgd_step(net, NAN), NN_ERR_NONFINITE);
    NNT_MSG_HAS("learning_rate is NaN");
    NNT_STATUS(nn_sgd_step(net, INFINITY), NN_ERR_NONFINITE);
    NNT_STATUS(nn_predict(net, x, 4, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_predict: out is NULL");
    nn_net_destroy(net);
}

NN_TEST(api_predict_matches_forward)
{
    /* Inference in blocks of rows gives what the training forward gives,
       and leaves the training state alone. */
    size_t sizes[4] = {6, 40, 17, 5}, batch = 700, i;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = make_net(3, sizes, acts, nnt_seed());
    float *x = malloc(batch * 6 * sizeof(float));
    float *a = malloc(batch * 5 * sizeof(float));
    float *b = malloc(batch * 5 * sizeof(float));
    float g1[6 * 40], g2[6 * 40], loss;
    int32_t *y = malloc(batch * sizeof(int32_t));
    double worst = 0;
    srand((unsigned)nnt_seed());
    for (i = 0; i < batch * 6; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
    for (i = 0; i < batch; i++) y[i] = (int32_t)(i % 5);
    NNT_OK(nn_forward(net, x, batch, a));
    NNT_OK(nn_backward_labels(net, y, &loss));
    NNT_OK(nn_net_get_grads(net, 0, g1, NULL));
    for (i = 0; i < batch * 5; i++) b[i] = NAN;
    NNT_OK(nn_predict(net, x, batch, b));
    for (i = 0; i < batch * 5; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > worst) worst = d;
    }
    NNT_LE(worst, 1e-6);
    /* the forward of the training step is still the one backward uses */
    NNT_OK(nn_backward_labels(net, y, &loss));
    NNT_OK(nn_net_get_grads(net, 0, g2, NULL));
    NNT_TRUE(memcmp(g1, g2, sizeof g1) == 0);
    nn_net_destroy(net);
    free(x); free(a); free(b); free(y);
}

NN_TEST(api_predict_refuses_overlapping_out)
{
    /* issue 13: out == x returned NN_OK with wrong values (a 3-3 net gave
       all zeros; 2-4-3, batch 1000: 1848 of 3000 outputs wrong).  Any
       overlap is now NN_ERR_INVALID_ARG and changes neither buffer;
       buffers that only touch still work, and nn_forward in place stays
       right. */
    size_t s33[2] = {3, 3}, s243[3] = {2, 4, 3}, batch = 1000, i, shift;
    int32_t a1[1] = {NN_ACT_SOFTMAX}, a2[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *n33 = make_net(1, s33, a1, nnt_seed());
    nn_net *n243 = make_net(2, s243, a2, nnt_seed() + 1);
    float *buf = malloc((batch * 5 + 8) * sizeof(float));
    float *keep = malloc((batch * 5 + 8) * sizeof(float));
    float *ref = malloc(batch * 3 * sizeof(float));
    srand((unsigned)nnt_seed());
    for (i = 0; i < batch * 5 + 8; i++)
        buf[i] = (float)rand() / RAND_MAX - 0.5f;
    memcpy(keep, buf, (batch * 5 + 8) * sizeof(float));

    NNT_STATUS(nn_predict(n33, buf, batch, buf), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("out overlaps x");
    NNT_STATUS(nn_predict(n243, buf, batch, buf), NN_ERR_INVALID_ARG);
    /* partial overlaps, both directions, down to one shared float */
    for (shift = 1; shift < 8; shift += 3) {
        NNT_STATUS(nn_predict(n243, buf + shift, batch, buf),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_predict(n243, buf, batch, buf + shift),
                   NN_ERR_INVALID_ARG);
    }
    NNT_STATUS(nn_predict(n243, buf, batch, buf + batch * 2 - 1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_predict(n243, buf + batch * 3 - 1, batch, buf),
               NN_ERR_INVALID_ARG);
    NNT_TRUE(memcmp(buf, keep, (batch * 5 + 8) * sizeof(float)) == 0);

    /* touching but disjoint: x = buf[0, 2000), out = buf[2000, 5000) */
    NNT_OK(nn_forward(n243, keep, batch, ref));
    NNT_OK(nn_predict(n243, buf, batch, buf + batch * 2));
    for (i = 0; i < batch * 3; i++)
        NNT_NEAR(buf[batch * 2 + i], ref[i], 1e-6);

    /* nn_forward copies through its own buffers: in place is allowed
       (3-3: out has the width of x) */
    memcpy(buf, keep, batch * 3 * sizeof(float));
    NNT_OK(nn_forward(n33, keep, batch, ref));
    NNT_OK(nn_forward(n33, buf, batch, buf));
    NNT_TRUE(memcmp(buf, ref, batch * 3 * sizeof(float)) == 0);

    nn_net_destroy(n33);
    nn_net_destroy(n243);
    free(buf); free(keep); free(ref);
}

NN_TEST(api_accuracy_and_loss_known_values)
{
    /* notebook 000: outputs and classes of the CCE worked example */
    float out[9] = {0.7f, 0.1f, 0.2f, 0.1f, 0.5f, 0.4f, 0.02f, 0.9f, 0.08f};
    int32_t y[3] = {0, 1, 1}, y2[3] = {0, 2, 1}, bad[3] = {0, 1, 3};
    float t[9] = {1, 0, 0, 0, 1, 0, 0, 1, 0}, acc, loss;
    float tie[4] = {0.5f, 0.5f, 0.2f, 0.2f};
    int32_t ty[2] = {0, 1};
    double want = (-log(0.7) - log(0.5) - log(0.9)) / 3.0;

    NNT_OK(nn_accuracy(out, 3, 3, y, &acc));
    NNT_NEAR(acc, 1.0, 0);
    NNT_OK(nn_accuracy(out, 3, 3, y2, &acc));
    NNT_NEAR(acc, 2.0 / 3.0, 1e-7);
    NNT_OK(nn_accuracy(tie, 2, 2, ty, &acc));   /* ties: first maximum */
    NNT_NEAR(acc, 0.5, 0);
    NNT_STATUS(nn_accuracy(out, 3, 3, bad, &acc), NN_ERR_SHAPE);
    NNT_MSG_HAS("labels[2] = 3 is outside [0, 3)");
    NNT_STATUS(nn_accuracy(out, 3, 3, y, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_accuracy(out, 0, 3, y, &acc), NN_ERR_INVALID_ARG);
    NNT_OK(nn_loss_compute_labels(out, y, 3, 3, &loss));
    NNT_NEAR(loss, want, 1e-6);
    NNT_OK(nn_loss_compute(NN_LOSS_CCE, out, t, 3, 3, &loss));
    NNT_NEAR(loss, want, 1e-6);
    /* MSE and MAE of the same arrays, by hand */
    {
        double mse = 0, mae = 0;
        int i;
        for (i = 0; i < 9; i++) {
            mse += ((double)out[i] - t[i]) * ((double)out[i] - t[i]);
            mae += fabs((double)out[i] - t[i]);
        }
        NNT_OK(nn_loss_compute(NN_LOSS_MSE, out, t, 3, 3, &loss));
        NNT_NEAR(loss, mse / 9.0, 1e-7);
        NNT_OK(nn_loss_compute(NN_LOSS_MAE, out, t, 3, 3, &loss));
        NNT_NEAR(loss, mae / 9.0, 1e-7);
    }
    out[4] = NAN;
    NNT_STATUS(nn_accuracy(out, 3, 3, y, &acc), NN_ERR_NONFINITE);
    NNT_STATUS(nn_loss_compute(NN_LOSS_CCE, out, t, 3, 3, &loss),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("out[4] is NaN");
    NNT_STATUS(nn_loss_compute(7, out, t, 3, 3, &loss), NN_ERR_INVALID_ARG);
}

NN_TEST(api_threads_setting)
{
    int n = nn_get_num_threads();
    NNT_STATUS(nn_set_num_threads(0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_set_num_threads: n = 0");
    NNT_STATUS(nn_set_num_threads(-3), NN_ERR_INVALID_ARG);
    NNT_OK(nn_set_num_threads(1));
    NNT_EQ_INT(nn_get_num_threads(), 1);
    NNT_OK(nn_set_num_threads(2));
    NNT_EQ_INT(nn_get_num_threads(), 2);
    NNT_OK(nn_set_num_threads(n > 0 ? n : 1));
}

/* The last-error text is per thread: a failure in one thread is never
   seen by another. */
static void *error_thread(void *arg)
{
    int *ok = arg;
    int i;
    *ok = 1;
    for (i = 0; i < 20000; i++) {
        char want[64];
        nn_set_num_threads(-i - 1);
        snprintf(want, sizeof want, "n = %d,", -i - 1);
        if (strstr(nn_last_error(), want) == NULL) *ok = 0;
    }
    return NULL;
}

NN_TEST(api_last_error_is_thread_local)
{
    pthread_t th[4];
    int ok[4], i;
    NNT_STATUS(nn_forward(NULL, NULL, 0, NULL), NN_ERR_INVALID_ARG);
    for (i = 0; i < 4; i++)
        NNT_EQ_INT(pthread_create(&th[i], NULL, error_thread, &ok[i]), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        NNT_EQ_INT(ok[i], 1);
    }
    NNT_MSG_HAS("nn_forward: net is NULL");
}
