/*
 * kernels.c - the table of one instruction set's element-wise kernels,
 * nn__kernels_<isa>, compiled once per ISA like the kernels themselves.
 */
#include "kernels.h"

#define NN__TABLE NN__KCAT(nn__kernels, NN__ISA)
#define NN__STR2(x) #x
#define NN__STR(x) NN__STR2(x)

const struct nn__kernels NN__TABLE = {
    NN__STR(NN__ISA),
    {NN__K(nn__bias_linear), NN__K(nn__bias_relu), NN__K(nn__bias_sigmoid),
     NN__K(nn__bias_tanh), NN__K(nn__bias_softmax)},
    {NN__K(nn__bwd_linear), NN__K(nn__bwd_relu), NN__K(nn__bwd_sigmoid),
     NN__K(nn__bwd_tanh), NN__K(nn__bwd_softmax)},
    {NN__K(nn__loss_cce), NN__K(nn__loss_bce), NN__K(nn__loss_mse),
     NN__K(nn__loss_mae)},
    NN__K(nn__loss_cce_labels),
    NN__K(nn__loss_softmax_cce),
    NN__K(nn__loss_softmax_cce_labels),
    NN__K(nn__amax),
    NN__K(nn__copy_amax),
    NN__K(nn__sgd)};
