/*
 * test_names.c - nn_activation_name, nn_loss_name, nn_optimizer_name
 * against the spellings documented in include/nnfs.h (and accepted by the
 * nnfs program and the Python binding), NULL outside the enums, and the
 * agreement of each name list with what the library's calls accept.
 */
#include "nntest.h"

#include "internal.h"

#include <limits.h>

/* The documented lists, typed here independently of src/names.c. */
static const char *const acts[] = {"linear", "relu", "sigmoid", "tanh",
                                   "softmax"};
static const char *const losses[] = {"cce", "bce", "mse", "mae"};
static const char *const opts[] = {"sgd", "adagrad", "rmsprop", "adam"};

typedef const char *(*name_fn)(int32_t);

static void check_list(name_fn name, const char *const *want, int32_t n)
{
    static const int32_t outside[] = {-1, -2, INT32_MIN, INT32_MAX, 1000};
    int32_t i, j;
    size_t k;
    for (i = 0; i < n; i++) {
        NNT_EQ_STR(name(i), want[i]);
        NNT_TRUE(name(i) == name(i));   /* static text, same pointer */
        /* name -> value by the loop the header shows: a round trip */
        for (j = 0; name(j) != NULL && strcmp(name(j), want[i]) != 0; j++)
            ;
        NNT_EQ_INT(j, i);
    }
    NNT_TRUE(name(n) == NULL);
    for (k = 0; k < sizeof outside / sizeof outside[0]; k++)
        NNT_TRUE(name(outside[k]) == NULL);
}

NN_TEST(names_documented_lists)
{
    check_list(nn_activation_name, acts, 5);
    check_list(nn_loss_name, losses, 4);
    check_list(nn_optimizer_name, opts, 4);
    /* the enum constants name what their comments in nnfs.h say */
    NNT_EQ_STR(nn_activation_name(NN_ACT_SOFTMAX), "softmax");
    NNT_EQ_STR(nn_activation_name(NN_ACT_LINEAR), "linear");
    NNT_EQ_STR(nn_loss_name(NN_LOSS_MAE), "mae");
    NNT_EQ_STR(nn_loss_name(NN_LOSS_BCE), "bce");
    NNT_EQ_STR(nn_optimizer_name(NN_OPT_RMSPROP), "rmsprop");
    NNT_EQ_STR(nn_optimizer_name(NN_OPT_ADAM), "adam");
    /* the internal counts the range checks use */
    NNT_EQ_INT(NN__N_ACT, 5);
    NNT_EQ_INT(NN__N_LOSS, 4);
    NNT_EQ_INT(NN__N_OPT, 4);
}

/* Every named value is accepted and the first unnamed one refused, by the
   calls that take it: the name lists and the range checks agree. */
NN_TEST(names_match_accepted_values)
{
    size_t sizes[2] = {3, 2};
    float p[2] = {0.25f, 0.75f}, t[2] = {0.0f, 1.0f}, loss = 0;
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    int32_t i;

    for (i = 0; nn_activation_name(i) != NULL; i++) {
        NNT_OK(nn_net_create(&net, 1, sizes, &i, 1));
        NNT_EQ_INT(nn_net_layer_activation(net, 0), i);
        nn_net_destroy(net);
        net = NULL;
    }
    NNT_EQ_INT(i, 5);
    NNT_STATUS(nn_net_create(&net, 1, sizes, &i, 1), NN_ERR_INVALID_ARG);
    NNT_TRUE(net == NULL);

    for (i = 0; nn_loss_name(i) != NULL; i++)
        NNT_OK(nn_loss_compute(i, p, t, 1, 2, &loss));
    NNT_EQ_INT(i, 4);
    NNT_STATUS(nn_loss_compute(i, p, t, 1, 2, &loss), NN_ERR_INVALID_ARG);

    {
        int32_t relu = NN_ACT_RELU;
        NNT_OK(nn_net_create(&net, 1, sizes, &relu, 1));
    }
    for (i = 0; nn_optimizer_name(i) != NULL; i++) {
        NNT_OK(nn_optimizer_create(&opt, net, i));
        NNT_EQ_INT(nn_optimizer_kind(opt), i);
        nn_optimizer_destroy(opt);
        opt = NULL;
    }
    NNT_EQ_INT(i, 4);
    NNT_STATUS(nn_optimizer_create(&opt, net, i), NN_ERR_INVALID_ARG);
    NNT_TRUE(opt == NULL);
    nn_net_destroy(net);
}
