/*
 * names.c - the lowercase names of the NN_ACT_*, NN_LOSS_* and NN_OPT_*
 * values, the one copy the CLI and the Python binding read them from.
 */
#include "base.h"

static const char *const nn__act_names[] = {"linear", "relu", "sigmoid",
                                            "tanh", "softmax"};
_Static_assert(sizeof nn__act_names / sizeof *nn__act_names == NN__N_ACT,
               "nn__act_names: one name per NN_ACT_* value");

static const char *const nn__loss_names[] = {"cce", "bce", "mse", "mae"};
_Static_assert(sizeof nn__loss_names / sizeof *nn__loss_names == NN__N_LOSS,
               "nn__loss_names: one name per NN_LOSS_* value");

static const char *const nn__optimizer_names[] = {"sgd", "adagrad",
                                                  "rmsprop", "adam"};
_Static_assert(sizeof nn__optimizer_names / sizeof *nn__optimizer_names ==
                   NN__N_OPT,
               "nn__optimizer_names: one name per NN_OPT_* kind");

const char *nn_activation_name(int32_t act)
{
    return act >= 0 && act < NN__N_ACT ? nn__act_names[act] : NULL;
}

const char *nn_loss_name(int32_t loss)
{
    return loss >= 0 && loss < NN__N_LOSS ? nn__loss_names[loss] : NULL;
}

const char *nn_optimizer_name(int32_t kind)
{
    return kind >= 0 && kind < NN__N_OPT ? nn__optimizer_names[kind] : NULL;
}
