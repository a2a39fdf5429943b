/*
 * test_abi_constants.c - every constant of the ABI pinned to its number
 * (RELIABILITY.md T15c).  abidiff does not see a renumbered int enum, so
 * this is the gate: a change here is an ABI break, never a test update.
 */
#include "nntest.h"

#define PIN(name, value) _Static_assert((name) == (value), #name " changed")

/* status codes, from ABI.md */
PIN(NN_OK, 0);
PIN(NN_ERR_INVALID_ARG, 1);
PIN(NN_ERR_SHAPE, 2);
PIN(NN_ERR_NOMEM, 3);
PIN(NN_ERR_IO, 4);
PIN(NN_ERR_FORMAT, 5);
PIN(NN_ERR_NONFINITE, 6);
PIN(NN_ERR_STATE, 7);
PIN(NN_ERR_UNSUPPORTED, 8);
/* activations and losses, from ABI.md */
PIN(NN_ACT_LINEAR, 0);
PIN(NN_ACT_RELU, 1);
PIN(NN_ACT_SIGMOID, 2);
PIN(NN_ACT_TANH, 3);
PIN(NN_ACT_SOFTMAX, 4);
PIN(NN_LOSS_CCE, 0);
PIN(NN_LOSS_BCE, 1);
PIN(NN_LOSS_MSE, 2);
PIN(NN_LOSS_MAE, 3);
/* additions of 0.1 */
PIN(NN_INFO_VERSION, 0);
PIN(NN_INFO_BLAS, 1);
PIN(NN_INFO_BLAS_CORE, 2);
PIN(NN_INFO_KERNELS, 3);
PIN(NN_INFO_KERNELS_BUILT, 4);
PIN(NN_MAX_LAYERS, 256);
PIN(NN_MAX_WIDTH, 1048576);
PIN(NN_MAX_PARAMS, 268435456);

NN_TEST(abi_constants_pinned)
{
    /* The same values at run time, through the library's own strings:
       the status table must line up with the numbers. */
    NNT_EQ_STR(nn_strerror(NN_OK), "no error");
    NNT_EQ_STR(nn_strerror(NN_ERR_NOMEM), "out of memory");
    NNT_EQ_STR(nn_strerror(NN_ERR_UNSUPPORTED), "not supported by this build");
    NNT_EQ_INT(sizeof(size_t), sizeof(void *));
}
