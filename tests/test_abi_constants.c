/*
 * test_abi_constants.c - every constant of the ABI pinned to its number
 * (docs/RELIABILITY.md T15c).  abidiff does not see a renumbered int enum, so
 * this is the gate: a change here is an ABI break, never a test update.
 */
#include "nntest.h"

#define PIN(name, value) _Static_assert((name) == (value), #name " changed")

/* status codes, from docs/ABI.md */
PIN(NN_OK, 0);
PIN(NN_ERR_INVALID_ARG, 1);
PIN(NN_ERR_SHAPE, 2);
PIN(NN_ERR_NOMEM, 3);
PIN(NN_ERR_IO, 4);
PIN(NN_ERR_FORMAT, 5);
PIN(NN_ERR_NONFINITE, 6);
PIN(NN_ERR_STATE, 7);
PIN(NN_ERR_UNSUPPORTED, 8);
PIN(NN_ERR_MISUSE, 9);   /* 0.2 */
/* activations and losses, from docs/ABI.md */
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
PIN(NN_INFO_BLAS_CORE_CHOICE, 5);
PIN(NN_MAX_LAYERS, 256);
PIN(NN_MAX_WIDTH, 1048576);
PIN(NN_MAX_PARAMS, 268435456);
/* every other enum of nnfs.h, at its 0.1 value (append only) */
PIN(NN_INIT_DEFAULT, 0);
PIN(NN_INIT_NORMAL, 1);
PIN(NN_INIT_UNIFORM, 2);
PIN(NN_INIT_ORTHOGONAL, 3);
PIN(NN_PCA_WHITEN, 1);
PIN(NN_READOUT_CHOLESKY, 0);
PIN(NN_READOUT_SVD, 1);
PIN(NN_LAYER_L1_WEIGHTS, 0);
PIN(NN_LAYER_L2_WEIGHTS, 1);
PIN(NN_LAYER_L1_BIASES, 2);
PIN(NN_LAYER_L2_BIASES, 3);
PIN(NN_LAYER_DROPOUT, 4);
PIN(NN_OPT_SGD, 0);
PIN(NN_OPT_ADAGRAD, 1);
PIN(NN_OPT_RMSPROP, 2);
PIN(NN_OPT_ADAM, 3);
PIN(NN_OPT_LEARNING_RATE, 0);
PIN(NN_OPT_DECAY, 1);
PIN(NN_OPT_MOMENTUM, 2);
PIN(NN_OPT_EPSILON, 3);
PIN(NN_OPT_RHO, 4);
PIN(NN_OPT_BETA1, 5);
PIN(NN_OPT_BETA2, 6);
PIN(NN_OPT_ITERATIONS, 7);
PIN(NN_OPT_CURRENT_LEARNING_RATE, 8);
PIN(NN_SCALE_NONE, 0);
PIN(NN_SCALE_UNIT, 1);
PIN(NN_SCALE_SYMMETRIC, 2);
PIN(NN_ACCURACY_NONE, 0);
PIN(NN_ACCURACY_CATEGORICAL, 1);
PIN(NN_ACCURACY_BINARY, 2);
PIN(NN_ACCURACY_REGRESSION, 3);
PIN(NN_TRAIN_LOSS, 0);
PIN(NN_TRAIN_BATCH_SIZE, 1);
PIN(NN_TRAIN_EPOCHS, 2);
PIN(NN_TRAIN_SHUFFLE, 3);
PIN(NN_TRAIN_SEED, 4);
PIN(NN_TRAIN_ACCURACY, 5);
PIN(NN_TRAIN_PRECISION, 6);
PIN(NN_TRAIN_REPORT_EVERY, 7);
PIN(NN_TRAIN_X_COLS, 8);
PIN(NN_TRAIN_VAL_X_COLS, 9);
PIN(NN_TRAIN_FIRST_EPOCH, 10);
PIN(NN_SYNC_SUM, 0);
PIN(NN_SYNC_GRADS, 1);
PIN(NN_METRIC_EPOCH, 0);
PIN(NN_METRIC_STEP, 1);
PIN(NN_METRIC_LOSS, 2);
PIN(NN_METRIC_ACCURACY, 3);
PIN(NN_METRIC_REG_LOSS, 4);
PIN(NN_METRIC_VAL_LOSS, 5);
PIN(NN_METRIC_VAL_ACCURACY, 6);
PIN(NN_METRIC_LEARNING_RATE, 7);
PIN(NN_METRIC_SECONDS, 8);
PIN(NN_METRIC_STEPS_PER_EPOCH, 9);
PIN(NN_METRIC_STOPPED, 10);
PIN(NN_INFO_BLAS_CORE_CHOICE, 5);

NN_TEST(abi_constants_pinned)
{
    /* The same values at run time, through the library's own strings:
       the status table must line up with the numbers. */
    NNT_EQ_STR(nn_strerror(NN_OK), "no error");
    NNT_EQ_STR(nn_strerror(NN_ERR_NOMEM), "out of memory");
    NNT_EQ_STR(nn_strerror(NN_ERR_UNSUPPORTED), "not supported by this build");
    NNT_EQ_STR(nn_strerror(NN_ERR_MISUSE),
               "handle of the wrong type or already destroyed");
    NNT_EQ_STR(nn_strerror(NN_ERR_MISUSE + 1), "unknown status");
    NNT_EQ_INT(sizeof(size_t), sizeof(void *));
}
