/*
 * kernels.c - the tables of one instruction set's kernels, nn__kernels_<isa>
 * (forward, backward, losses, plain SGD) and nn__train_kernels_<isa>
 * (optimizer updates, regularization, dropout), compiled once per ISA like
 * the kernels themselves: the one place that defines the per-ISA tables.
 */
#include "isa.h"

/* The tables indexed by NN_ACT_* and NN_LOSS_*, in enum order. */
#define NN__BIAS_ACT                                                    \
    NN__K(nn__bias_linear), NN__K(nn__bias_relu), NN__K(nn__bias_sigmoid), \
        NN__K(nn__bias_tanh), NN__K(nn__bias_softmax)
#define NN__ACT_BWD                                                     \
    NN__K(nn__bwd_linear), NN__K(nn__bwd_relu), NN__K(nn__bwd_sigmoid), \
        NN__K(nn__bwd_tanh), NN__K(nn__bwd_softmax)
#define NN__LOSS                                                        \
    NN__K(nn__loss_cce), NN__K(nn__loss_bce), NN__K(nn__loss_mse),      \
        NN__K(nn__loss_mae)
_Static_assert(NN__COUNT(nn__bias_act_fn, NN__BIAS_ACT) == NN__N_ACT,
               "bias_act: one kernel per NN_ACT_* value");
_Static_assert(NN__COUNT(nn__act_bwd_fn, NN__ACT_BWD) == NN__N_ACT,
               "act_bwd: one kernel per NN_ACT_* value");
_Static_assert(NN__COUNT(nn__loss_fn, NN__LOSS) == NN__N_LOSS,
               "loss: one kernel per NN_LOSS_* value");

const struct nn__kernels NN__K(nn__kernels) = {
    NN__STR(NN__ISA),
    {NN__BIAS_ACT},
    {NN__ACT_BWD},
    {NN__LOSS},
    NN__K(nn__loss_cce_labels),
    NN__K(nn__loss_softmax_cce),
    NN__K(nn__loss_softmax_cce_labels),
    NN__K(nn__amax),
    NN__K(nn__copy_amax),
    NN__K(nn__sgd)};

const struct nn__train_kernels NN__K(nn__train_kernels) = {
    NN__K(nn__opt_momentum), NN__K(nn__opt_adagrad),
    NN__K(nn__opt_rmsprop), NN__K(nn__opt_adam),
    NN__K(nn__opt_regularize), NN__K(nn__opt_penalty),
    NN__K(nn__dropout_apply), NN__K(nn__dropout_back)};
