/*
 * train.h - what the training layer shares: the optimizer's internals
 * that the trainer (trainer.c) and the checkpoints of io/ use
 * (optimizers.c).  Includes the layers below it: base, kernels, core.
 */
#ifndef NNFS_TRAIN_H
#define NNFS_TRAIN_H

#include "base/base.h"

/* optimizers.c: the net an optimizer updates. */
nn_net *nn__optimizer_net(const nn_optimizer *opt);
/* optimizers.c: 1 if opt's next step is plain W -= lr dW (SGD without
   momentum), with lr the rate nn_optimizer_step would use (decay
   applied); then nn__optimizer_count_step stands in for the step's
   count, for a caller that made the update itself (nn_trainer_fit's
   fused step). */
int nn__optimizer_plain_sgd(const nn_optimizer *opt, float *lr);
void nn__optimizer_count_step(nn_optimizer *opt);

/* optimizers.c: an optimizer's whole state, for checkpoints (io.c).
   set[] holds NN_OPT_LEARNING_RATE .. NN_OPT_BETA2 in that order; s2 is
   NULL unless kind is NN_OPT_ADAM; both hold net->n_params floats. */
#define NN__OPT_N_SETTINGS 7
struct nn__opt_state {
    int32_t kind;
    double set[NN__OPT_N_SETTINGS];
    uint64_t iterations;
    const float *s1, *s2;
};
void nn__optimizer_export(const nn_optimizer *opt, struct nn__opt_state *st);
/* Check a state read from a file without allocating: kind, every setting
   in range (settings that do not apply to the kind must hold their
   defaults, so the encoding stays canonical), iterations; the arrays are
   checked by the caller.  NN_ERR_FORMAT with a message naming fn. */
int nn__optimizer_check(const struct nn__opt_state *st, const char *fn);
/* A new optimizer for net with st's kind, settings and iterations
   (already checked) and zeroed state arrays; the caller fills them through
   nn__optimizer_arrays, then calls nn__optimizer_refresh_bounds. */
int nn__optimizer_import(nn_optimizer **out, nn_net *net,
                         const struct nn__opt_state *st, const char *fn);
void nn__optimizer_arrays(nn_optimizer *opt, float **s1, float **s2);
void nn__optimizer_refresh_bounds(nn_optimizer *opt);

#endif /* NNFS_TRAIN_H */
