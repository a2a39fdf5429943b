/*
 * nnfs.h - libnnfs, dense neural networks in C on cblas_sgemm.
 *
 * This header is the manual.  Everything a program may rely on is declared
 * and documented here; nothing else of the library is public.
 *
 * Conventions (apply to every function below):
 *
 *  - Data is float32, row-major, one sample per row.  A batch x of `batch`
 *    samples with n features is batch * n floats, sample i at x + i * n.
 *  - Dense layer k has weights W_k of shape [n_in][n_out] (row-major, the
 *    NNFS (n_inputs, n_neurons) layout) and biases b_k of n_out floats.
 *    Forward: Z = X W + b, then the layer's activation.
 *  - Functions that can fail return int: NN_OK (0) or a positive NN_ERR_*
 *    status.  On failure nothing observable changes (weights, gradients,
 *    optimizer state, files on disk), out-pointers to handles are set to
 *    NULL, and nn_last_error() in the same thread describes the failure,
 *    naming the function, the argument and the numbers at fault.
 *  - The caller owns every buffer it passes; the library copies in and out
 *    and never keeps a caller's pointer after the call returns.
 *  - A handle may be used by one thread at a time.  Distinct handles may be
 *    used from distinct threads concurrently.
 *  - The library never prints, never aborts and never exits.
 *  - Counts are size_t.  Enum-like values are int32_t and the numbers below
 *    are part of the ABI: they are only ever appended, never renumbered.
 *
 * ABI policy: the SONAME is libnnfs.so.MAJOR.  Within one MAJOR, functions
 * and constants are only added; a published signature never changes (a new
 * variant gets a new name).  Only nn_* symbols are exported.
 */
#ifndef NNFS_H
#define NNFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NNFS_BUILDING_LIBRARY) && defined(__GNUC__)
#  define NN_API __attribute__((visibility("default")))
#else
#  define NN_API
#endif

/*====== Version ======*/

#define NN_VERSION_MAJOR 0
#define NN_VERSION_MINOR 1
#define NN_VERSION_PATCH 0
#define NN_VERSION_NUMBER \
    (NN_VERSION_MAJOR * 10000 + NN_VERSION_MINOR * 100 + NN_VERSION_PATCH)

/* "MAJOR.MINOR.PATCH" of the library actually loaded.  Never NULL.
   Since 0.1. */
NN_API const char *nn_version(void);

/* NN_VERSION_NUMBER of the library actually loaded, so a program can compare
   the header it was built with against the library it runs with.
   Since 0.1. */
NN_API unsigned nn_version_number(void);

/*====== Status codes (append only) ======*/

enum {
    NN_OK = 0,               /* success */
    NN_ERR_INVALID_ARG = 1,  /* NULL where a pointer is required, zero
                                size, unknown enum value, out-of-range index */
    NN_ERR_SHAPE = 2,        /* sizes do not agree or exceed a limit (batch
                                too large, label outside [0, n_out), ...) */
    NN_ERR_NOMEM = 3,        /* an allocation failed */
    NN_ERR_IO = 4,           /* the operating system refused a read/write */
    NN_ERR_FORMAT = 5,       /* a model or data file is truncated, corrupt,
                                of another version or inconsistent */
    NN_ERR_NONFINITE = 6,    /* NaN or infinity met in inputs, targets,
                                loss, gradients or parameters */
    NN_ERR_STATE = 7,        /* call out of order (nn_backward with no
                                nn_forward before it, ...) */
    NN_ERR_UNSUPPORTED = 8   /* valid request this build cannot serve */
};

/* Static English text for a status code; "unknown status" for values that
   are not codes.  Never NULL.  Since 0.1. */
NN_API const char *nn_strerror(int status);

/* This thread's last failure message, "" if no call of this thread has
   failed yet.  A successful call does not clear it.  The text lives in
   thread-local storage and stays valid until this thread's next failing
   call.  Never NULL.  Since 0.1. */
NN_API const char *nn_last_error(void);

/*====== Activations and losses (append only) ======*/

enum {
    NN_ACT_LINEAR = 0,   /* a = z */
    NN_ACT_RELU = 1,     /* a = max(0, z); derivative 0 at z <= 0 */
    NN_ACT_SIGMOID = 2,  /* a = 1 / (1 + exp(-z)) */
    NN_ACT_TANH = 3,     /* a = tanh(z) */
    NN_ACT_SOFTMAX = 4   /* a_j = exp(z_j - max z) / sum_k exp(z_k - max z),
                            per sample */
};

/* Losses are the mean over the batch of the per-sample loss, with p the
   network output and t the target:
     NN_LOSS_CCE  -sum_j t_j log(clip(p_j)), clip to [1e-7, 1 - 1e-7]
     NN_LOSS_BCE  mean over outputs of
                  -(t log(clip(p)) + (1 - t) log(1 - clip(p)))
     NN_LOSS_MSE  mean over outputs of (p - t)^2
     NN_LOSS_MAE  mean over outputs of |p - t|
   Gradients are those of these means.  As in the NNFS course, the
   derivative of a clipped log uses the clipped probability (so it stays
   finite at p = 0 and p = 1), and the MAE derivative at p = t is 0.
   A softmax output with CCE uses the combined gradient (p - t) / batch. */
enum {
    NN_LOSS_CCE = 0,
    NN_LOSS_BCE = 1,
    NN_LOSS_MSE = 2,
    NN_LOSS_MAE = 3
};

/*====== Network ======*/

typedef struct nn_net nn_net;

/* Limits on any network the library creates or loads.  Since 0.1. */
#define NN_MAX_LAYERS 256u              /* dense layers */
#define NN_MAX_WIDTH (1u << 20)         /* inputs or outputs of one layer */
#define NN_MAX_PARAMS ((size_t)1 << 28) /* weights + biases, all layers */

/* Create a network of n_layers dense layers.
     sizes        n_layers + 1 entries: the input width, then each layer's
                  width; each in [1, NN_MAX_WIDTH].
     activations  n_layers NN_ACT_* values, one per layer.
     seed         seed of the library's own generator (xoshiro256** seeded
                  through splitmix64) that draws the weights: same seed, same
                  weights, bit for bit, on every platform and compiler.
   Weights are uniform: He, U(-sqrt(6/n_in), +sqrt(6/n_in)), for ReLU
   layers, Glorot, U(-sqrt(6/(n_in+n_out)), +...), for the others; drawn
   layer by layer in row-major order.  Biases start at 0.
   *out receives the new handle, NULL on failure.
   Returns NN_OK; NN_ERR_INVALID_ARG (out, sizes or activations NULL,
   n_layers 0, a size 0, an unknown activation); NN_ERR_SHAPE (more than
   NN_MAX_LAYERS layers, a width over NN_MAX_WIDTH, more than NN_MAX_PARAMS
   parameters); NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_net_create(nn_net **out, size_t n_layers, const size_t *sizes,
                         const int32_t *activations, uint64_t seed);

/* Weight initialisation schemes (append only).
     NN_INIT_DEFAULT  what nn_net_create draws: He-uniform
                      U(-sqrt(6/n_in), +) for ReLU layers, Glorot-uniform
                      U(-sqrt(6/(n_in+n_out)), +) otherwise; gain scales it
                      (1 = the standard scheme)
     NN_INIT_NORMAL   gain * N(0, 1), the NNFS course's
                      0.01 * np.random.randn(n_inputs, n_neurons)
     NN_INIT_UNIFORM  U(-gain, gain)
     NN_INIT_ORTHOGONAL  gain * a Haar-random orthogonal matrix (Saxe et
                      al.; QR of a Gaussian by LAPACK): W^T W = gain^2 I
                      if n_in >= n_out, W W^T = gain^2 I otherwise */
enum {
    NN_INIT_DEFAULT = 0,
    NN_INIT_NORMAL = 1,
    NN_INIT_UNIFORM = 2,
    NN_INIT_ORTHOGONAL = 3
};

/* Layer index meaning "every layer" for nn_net_init. */
#define NN_ALL_LAYERS ((size_t)-1)

/* Re-initialise the weights of one layer, or of every layer with
   NN_ALL_LAYERS, with scheme and gain, drawing from the library's
   generator seeded with seed (for NN_ALL_LAYERS one stream, layer by
   layer, so nn_net_init(net, NN_ALL_LAYERS, NN_INIT_DEFAULT, 1.0, s)
   reproduces nn_net_create with seed s).  Biases are set to 0.  Like
   nn_net_set_params it makes the last forward stale.
   Returns NN_OK; NN_ERR_INVALID_ARG (net NULL, layer out of range,
   unknown scheme, gain negative); NN_ERR_NONFINITE (gain not finite).
   Since 0.1. */
NN_API int nn_net_init(nn_net *net, size_t layer, int32_t scheme,
                       double gain, uint64_t seed);

/* Free a network and everything it owns.  NULL is a no-op.  Since 0.1. */
NN_API void nn_net_destroy(nn_net *net);

/* Shape queries.  They return 0 for a NULL net or a layer >= n_layers
   (and nn_net_layer_activation returns -1).  Since 0.1. */
NN_API size_t nn_net_num_layers(const nn_net *net);
NN_API size_t nn_net_layer_inputs(const nn_net *net, size_t layer);
NN_API size_t nn_net_layer_outputs(const nn_net *net, size_t layer);
NN_API int32_t nn_net_layer_activation(const nn_net *net, size_t layer);
/* Total number of parameters (weights and biases of all layers). */
NN_API size_t nn_net_num_params(const nn_net *net);

/* Copy layer `layer`'s parameters out of (get) or into (set) caller
   buffers: weights n_in * n_out floats in the [n_in][n_out] layout, biases
   n_out floats.  Either pointer may be NULL to skip it (both NULL is
   allowed and does nothing).  set validates every value first: NaN or
   infinity gives NN_ERR_NONFINITE and changes nothing.  A successful set
   makes the last nn_forward stale: nn_backward then needs a new forward.
   Returns NN_OK; NN_ERR_INVALID_ARG (net NULL, layer >= n_layers);
   NN_ERR_NONFINITE (set only).  Since 0.1. */
NN_API int nn_net_get_params(const nn_net *net, size_t layer,
                             float *weights, float *biases);
NN_API int nn_net_set_params(nn_net *net, size_t layer,
                             const float *weights, const float *biases);

/* Copy layer `layer`'s gradients of the last nn_backward (same shapes as
   the parameters).  Either pointer may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_STATE (no nn_backward has
   succeeded on this net yet).  Since 0.1. */
NN_API int nn_net_get_grads(const nn_net *net, size_t layer,
                            float *dweights, float *dbiases);

/*====== Training step ======*/

/* Forward pass on `batch` rows of x (batch * n_in floats, n_in the input
   width).  This is the training pass: layers with a dropout rate drop
   outputs (nn_predict never does).  Keeps what nn_backward needs (a copy of x and every layer's
   output), in scratch that belongs to the net: it grows when a larger batch
   arrives and is reused afterwards, so steady-state steps allocate nothing.
   out (batch * n_out floats, n_out the last width) receives the final
   activation's output; out may be NULL.
   Every input and every layer's output is checked: NaN or infinity gives
   NN_ERR_NONFINITE, and then the previous forward (if any) is still the one
   nn_backward uses.
   Returns NN_OK; NN_ERR_INVALID_ARG (net or x NULL, batch 0);
   NN_ERR_SHAPE (batch over INT_MAX or batch * width overflowing);
   NN_ERR_NOMEM; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_forward(nn_net *net, const float *x, size_t batch, float *out);

/* Backward pass for the batch of the last successful nn_forward.
     loss      NN_LOSS_*.
     targets   batch * n_out floats: one-hot or soft targets for CCE,
               values for BCE/MSE/MAE.
     loss_out  may be NULL; receives the mean data loss of the batch.
   Overwrites every layer's gradients (nn_net_get_grads).  The loss and all
   gradients are checked to be finite before any gradient is written.
   Returns NN_OK; NN_ERR_INVALID_ARG (net or targets NULL, unknown loss);
   NN_ERR_STATE (no successful nn_forward since the net was created, loaded
   or its parameters last changed); NN_ERR_NONFINITE (a target, the loss or
   a gradient is not finite); NN_ERR_NOMEM (only the first time the
   library's magnitude bounds cannot prove a gradient finite, with weights
   or penalties near the float range: it then takes, once, a block of
   nn_net_num_params floats to compute that gradient exactly before
   publishing it; nothing changed).  Since 0.1. */
NN_API int nn_backward(nn_net *net, int32_t loss, const float *targets,
                       float *loss_out);

/* Same for CCE with integer class labels: batch entries, each in
   [0, n_out).  A label outside that range gives NN_ERR_SHAPE, naming the
   index and value.  Since 0.1. */
NN_API int nn_backward_labels(nn_net *net, const int32_t *labels,
                              float *loss_out);

/* Plain gradient descent with the gradients of the last nn_backward:
   W -= learning_rate * dW, b -= learning_rate * db, for every layer.
   If the new parameters would not all be finite nothing is changed and
   NN_ERR_NONFINITE is returned.  A successful step makes the last forward
   stale (nn_backward needs a new nn_forward).
   Returns NN_OK; NN_ERR_INVALID_ARG (net NULL); NN_ERR_NONFINITE
   (learning_rate or a new parameter not finite); NN_ERR_STATE (no
   successful nn_backward yet).  Since 0.1. */
NN_API int nn_sgd_step(nn_net *net, float learning_rate);

/* nn_backward then nn_sgd_step in one call, with the update fused into
   the gradient product: W <- W - learning_rate X^T dZ is one
   cblas_sgemm with beta = 1 (no dW written, no separate update pass, no
   zeroing of dW by the BLAS), b <- b - learning_rate db.  Same arguments,
   loss and result as the two calls, to float rounding (the product's
   accumulation may round once instead of twice).  The gradients are not
   kept: afterwards nn_net_get_grads and nn_sgd_step return NN_ERR_STATE
   until the next nn_backward.  The fused path is taken when the
   library's magnitude bounds prove every new parameter finite and no
   layer has an L1/L2 penalty; otherwise the call runs nn_backward and
   nn_sgd_step (same results, same cost as calling them).  For the
   momentum, Adagrad, RMSprop and Adam optimizers use nn_backward and
   nn_optimizer_step.
   Returns NN_OK and the statuses of nn_backward and nn_sgd_step
   (NN_ERR_NONFINITE for a non-finite learning_rate, checked after the
   pointers, the loss and the state, before the batch is read).  On
   failure the parameters are unchanged; if the unfused update failed,
   the gradients of this batch are kept as by nn_backward.  Since 0.1. */
NN_API int nn_backward_sgd(nn_net *net, int32_t loss, const float *targets,
                           float learning_rate, float *loss_out);

/* Same with class labels, as nn_backward_labels.  Since 0.1. */
NN_API int nn_backward_labels_sgd(nn_net *net, const int32_t *labels,
                                  float learning_rate, float *loss_out);

/*====== Regularization and dropout ======*/

/* Per-layer options (append only), set with nn_net_set_layer_option.
   All start at 0 (off).
     NN_LAYER_L1_WEIGHTS, NN_LAYER_L2_WEIGHTS, NN_LAYER_L1_BIASES,
     NN_LAYER_L2_BIASES: penalty coefficients (finite, >= 0).  The
       regularization loss of a layer is
         l1_w sum|W| + l2_w sum W^2 + l1_b sum|b| + l2_b sum b^2
       and nn_backward adds its gradient (l1 sign(w) + 2 l2 w, sign(0) = 0)
       to the layer's gradients, as the NNFS course does.  The data loss
       that nn_backward reports does not include it: see
       nn_net_regularization_loss.
     NN_LAYER_DROPOUT: rate in [0, 1) of the layer's outputs that
       nn_forward drops (inverted dropout: kept outputs are divided by
       1 - rate, so nn_predict, which never drops, needs no rescaling).
       Masks come from the net's own generator (seeded by nn_net_create,
       saved with the model).  Not allowed on the last layer. */
enum {
    NN_LAYER_L1_WEIGHTS = 0,
    NN_LAYER_L2_WEIGHTS = 1,
    NN_LAYER_L1_BIASES = 2,
    NN_LAYER_L2_BIASES = 3,
    NN_LAYER_DROPOUT = 4
};

/* Set or read one per-layer option.  Setting NN_LAYER_DROPOUT makes the
   last nn_forward stale (its masks no longer apply).
   Returns NN_OK; NN_ERR_INVALID_ARG (net or value_out NULL, layer out of
   range, unknown option, value out of range, dropout on the last layer);
   NN_ERR_NONFINITE (value NaN or infinite).  Since 0.1. */
NN_API int nn_net_set_layer_option(nn_net *net, size_t layer, int32_t option,
                                   double value);
NN_API int nn_net_get_layer_option(const nn_net *net, size_t layer,
                                   int32_t option, double *value_out);

/* The regularization loss of the current parameters, summed over layers
   (0 when no penalty is set).
   Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_net_regularization_loss(const nn_net *net, float *loss_out);

/*====== Optimizers ======*/

typedef struct nn_optimizer nn_optimizer;

/* Optimizer kinds (append only). */
enum {
    NN_OPT_SGD = 0,      /* v = momentum v - lr_t g; w += v
                            (momentum 0: w -= lr_t g) */
    NN_OPT_ADAGRAD = 1,  /* c += g^2; w -= lr_t g / (sqrt(c) + epsilon) */
    NN_OPT_RMSPROP = 2,  /* c = rho c + (1 - rho) g^2;
                            w -= lr_t g / (sqrt(c) + epsilon) */
    NN_OPT_ADAM = 3      /* m = beta1 m + (1 - beta1) g;
                            v = beta2 v + (1 - beta2) g^2;
                            w -= lr_t m^ / (sqrt(v^) + epsilon) with
                            m^ = m / (1 - beta1^t), v^ = v / (1 - beta2^t),
                            t = iterations + 1 */
};

/* Optimizer settings (append only), as doubles.  Defaults are the NNFS
   course's:
     NN_OPT_LEARNING_RATE  lr >= 0; default 1.0 (SGD, Adagrad), 0.001
                           (RMSprop, Adam)
     NN_OPT_DECAY          >= 0, default 0: lr_t = lr / (1 + decay * it)
     NN_OPT_MOMENTUM       SGD only, in [0, 1), default 0
     NN_OPT_EPSILON        Adagrad, RMSprop, Adam; > 0, default 1e-7
     NN_OPT_RHO            RMSprop only, in [0, 1), default 0.9
     NN_OPT_BETA1          Adam only, in [0, 1), default 0.9
     NN_OPT_BETA2          Adam only, in [0, 1), default 0.999
     NN_OPT_ITERATIONS     steps taken so far (it above); an integer >= 0;
                           settable to resume a schedule
     NN_OPT_CURRENT_LEARNING_RATE  read only: lr_t for the next step */
enum {
    NN_OPT_LEARNING_RATE = 0,
    NN_OPT_DECAY = 1,
    NN_OPT_MOMENTUM = 2,
    NN_OPT_EPSILON = 3,
    NN_OPT_RHO = 4,
    NN_OPT_BETA1 = 5,
    NN_OPT_BETA2 = 6,
    NN_OPT_ITERATIONS = 7,
    NN_OPT_CURRENT_LEARNING_RATE = 8
};

/* Create an optimizer of kind NN_OPT_* for net, with zeroed state
   (momentums, caches, moments) sized to the net.  The optimizer refers to
   net: destroy the optimizer before the net, and use both from one thread
   at a time.
   Returns NN_OK; NN_ERR_INVALID_ARG (out or net NULL, unknown kind);
   NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_optimizer_create(nn_optimizer **out, nn_net *net, int32_t kind);

/* NULL is a no-op.  Since 0.1. */
NN_API void nn_optimizer_destroy(nn_optimizer *opt);

/* The kind of opt, -1 for NULL.  Since 0.1. */
NN_API int32_t nn_optimizer_kind(const nn_optimizer *opt);

/* Change or read one setting.  A setting that does not apply to the kind
   (momentum for Adam, ...) is NN_ERR_INVALID_ARG, as is a value outside
   its range or a set of NN_OPT_CURRENT_LEARNING_RATE.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_optimizer_set(nn_optimizer *opt, int32_t setting, double value);
NN_API int nn_optimizer_get(const nn_optimizer *opt, int32_t setting,
                            double *value_out);

/* One update of every layer's parameters from the gradients of the last
   nn_backward of the optimizer's net, then iterations += 1.  If the new
   parameters would not all be finite, nothing changes (parameters, state,
   iterations) and NN_ERR_NONFINITE is returned.  Like nn_sgd_step, a
   successful step makes the last forward stale.
   Returns NN_OK; NN_ERR_INVALID_ARG (opt NULL); NN_ERR_STATE (no
   successful nn_backward yet); NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_optimizer_step(nn_optimizer *opt);

/* Zero the state and the iteration count, keeping the settings.
   Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_optimizer_reset(nn_optimizer *opt);

/*====== Inference and metrics ======*/

/* Inference: the network's output for batch rows of x into out
   (batch * n_out floats, required).  Unlike nn_forward it keeps no
   training state (the last nn_forward stays available to nn_backward),
   works through the batch in blocks so its scratch stays small whatever
   the batch, and reads x in place.
   Returns NN_OK; NN_ERR_INVALID_ARG (net, x or out NULL, batch 0);
   NN_ERR_SHAPE; NN_ERR_NOMEM (first call only); NN_ERR_NONFINITE (an input
   or an output is not finite; out may then hold partial results).
   Since 0.1. */
NN_API int nn_predict(nn_net *net, const float *x, size_t batch, float *out);

/* Classification accuracy of outputs against class labels: the fraction of
   the batch rows of out (batch * n_out floats) whose argmax (the first
   maximum, as NumPy's argmax) equals the label.
   Returns NN_OK; NN_ERR_INVALID_ARG (a pointer NULL, batch or n_out 0);
   NN_ERR_SHAPE (a label outside [0, n_out)); NN_ERR_NONFINITE (NaN in
   out).  Since 0.1. */
NN_API int nn_accuracy(const float *out, size_t batch, size_t n_out,
                       const int32_t *labels, float *accuracy_out);

/* Binary accuracy, as the NNFS course measures a sigmoid output: the
   fraction of the batch * n_out outputs with (out > 0.5) == (target > 0.5).
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_accuracy_binary(const float *out, const float *targets,
                              size_t batch, size_t n_out,
                              float *accuracy_out);

/* Regression accuracy, as the course measures it: the fraction of outputs
   with |out - target| < precision (the course uses std(targets) / 250).
   Returns NN_OK; NN_ERR_INVALID_ARG (also precision <= 0);
   NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_accuracy_regression(const float *out, const float *targets,
                                  size_t batch, size_t n_out,
                                  float precision, float *accuracy_out);

/* The loss value of outputs against targets, the same number nn_backward
   reports, without a network: out and targets are batch * n_out floats.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_loss_compute(int32_t loss, const float *out,
                           const float *targets, size_t batch, size_t n_out,
                           float *loss_out);

/* CCE of outputs against integer labels (batch entries in [0, n_out)).
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE (label out of range);
   NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_loss_compute_labels(const float *out, const int32_t *labels,
                                  size_t batch, size_t n_out,
                                  float *loss_out);

/*====== Data ======*/

/* The NNFS course's spiral data set (nnfs.datasets.spiral_data): for each
   class c, `samples` points with radius r = linspace(0, 1, samples) and
   angle t = linspace(4c, 4(c+1), samples) + N(0, 0.2^2) noise, at
   (r sin(2.5 t), r cos(2.5 t)).  Rows are grouped by class.
     x       samples * classes * 2 floats
     labels  samples * classes class indices; may be NULL
   The noise comes from the library's generator seeded with seed: same seed,
   same data on every platform.
   Returns NN_OK; NN_ERR_INVALID_ARG (x NULL, samples or classes 0);
   NN_ERR_SHAPE (samples * classes over INT32_MAX).  Since 0.1. */
NN_API int nn_data_spiral(float *x, int32_t *labels, size_t samples,
                          size_t classes, uint64_t seed);

/* The course's vertical data set (nnfs.datasets.vertical_data): class c
   has `samples` points at (N(c/3, 0.1^2), N(0.5, 0.1^2)).  Same buffers,
   statuses and seeding as nn_data_spiral.  Since 0.1. */
NN_API int nn_data_vertical(float *x, int32_t *labels, size_t samples,
                            size_t classes, uint64_t seed);

/* The course's sine data set (nnfs.datasets.sine_data): x_i = i / samples
   and y_i = sin(2 pi x_i) for i in [0, samples); x and y samples floats
   each.  Deterministic (no noise).
   Returns NN_OK; NN_ERR_INVALID_ARG (x or y NULL, samples 0);
   NN_ERR_SHAPE.  Since 0.1. */
NN_API int nn_data_sine(float *x, float *y, size_t samples);

/* Shuffle rows in place with one seeded permutation applied to x
   (rows * cols floats) and, when not NULL, to y (rows * y_cols floats) and
   labels (rows entries), so samples stay paired.  Fisher-Yates with the
   library's generator: same seed, same order everywhere.
   Returns NN_OK; NN_ERR_INVALID_ARG (x NULL, rows or cols 0, y given with
   y_cols 0); NN_ERR_SHAPE (sizes overflow).  Since 0.1. */
NN_API int nn_data_shuffle(float *x, size_t rows, size_t cols, float *y,
                           size_t y_cols, int32_t *labels, uint64_t seed);

/* IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed
   (recognised by the gzip magic 1F 8B, decompressed with zlib).  Header:
   two zero bytes, a type byte (only 0x08, unsigned byte, is accepted), the
   number of dimensions (1..4), then each dimension as a big-endian 32-bit
   count; the data follows and must fill the file exactly.  Dimension 0 is
   the sample count; a sample is the product of the others (1 for a label
   file).  Limits: at most NN_IDX_MAX_BYTES of data after decompression.
   Every violation is NN_ERR_FORMAT with a message naming the path, the
   field and the numbers. */
#define NN_IDX_MAX_BYTES ((size_t)1 << 31)

/* Scaling of IDX bytes to floats (append only). */
enum {
    NN_SCALE_NONE = 0,      /* the byte value, 0..255 */
    NN_SCALE_UNIT = 1,      /* v / 255, in [0, 1] */
    NN_SCALE_SYMMETRIC = 2  /* (v - 127.5) / 127.5, in [-1, 1] (the course's
                               Fashion-MNIST scaling) */
};

/* Read an IDX file's shape: *count samples of *sample_size values each.
   Validates the whole file (header, size, gzip stream) but keeps nothing.
   Returns NN_OK; NN_ERR_INVALID_ARG (a NULL argument); NN_ERR_IO (cannot
   open or read); NN_ERR_FORMAT (not IDX, damaged, truncated, over the
   limit); NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_idx_info(const char *path, size_t *count, size_t *sample_size);

/* Read an IDX file of count samples of sample_size bytes into out
   (count * sample_size floats), scaled by scale (NN_SCALE_*).  count and
   sample_size must equal what nn_idx_info reports, so a wrong pairing of
   files is caught.  out is written only on success.
   Returns NN_OK; NN_ERR_INVALID_ARG (NULL, unknown scale); NN_ERR_SHAPE
   (count or sample_size differ from the file); NN_ERR_IO; NN_ERR_FORMAT;
   NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_idx_read(const char *path, float *out, size_t count,
                       size_t sample_size, int32_t scale);

/* nn_idx_read for rows [first, first + rows) of the file only: out
   receives rows * sample_size floats.  The whole file is still read and
   checked (an IDX file has no index, and a gzip stream's check covers it
   all), but only the rows asked for are converted and kept: what one rank
   of a data-parallel run needs for its shard (nnfs_mpi.h).
   Returns as nn_idx_read, plus NN_ERR_SHAPE (the rows outside [0, count)).
   Since 0.2. */
NN_API int nn_idx_read_rows(const char *path, float *out, size_t first,
                            size_t rows, size_t count, size_t sample_size,
                            int32_t scale);

/* Read an IDX label file (one dimension, count bytes) into labels.
   Same statuses as nn_idx_read.  Since 0.1. */
NN_API int nn_idx_read_labels(const char *path, int32_t *labels,
                              size_t count);

/* Parse an IDX image already in memory (plain or gzip), the same checks as
   the file functions: *count and *sample_size receive its shape; when out
   is not NULL it receives the scaled values (count * sample_size floats,
   capacity floats available).  For fuzzing and for embedded data.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE (capacity too small);
   NN_ERR_FORMAT; NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_idx_parse_buffer(const void *buf, size_t size, float *out,
                               size_t capacity, int32_t scale,
                               size_t *count, size_t *sample_size);

/*====== Training loop ======*/

/* For programs that do not want to write their own loop: mini-batches,
   epochs, shuffling, validation, accuracy, and a progress callback.
   A fit allocates its buffers once at the start; its steps allocate
   nothing. */
typedef struct nn_trainer nn_trainer;

/* Accuracy kinds (append only). */
enum {
    NN_ACCURACY_NONE = 0,         /* not measured */
    NN_ACCURACY_CATEGORICAL = 1,  /* argmax(out) == label, or == argmax of
                                     the target row */
    NN_ACCURACY_BINARY = 2,       /* nn_accuracy_binary */
    NN_ACCURACY_REGRESSION = 3    /* nn_accuracy_regression */
};

/* Trainer settings (append only), as doubles:
     NN_TRAIN_LOSS        NN_LOSS_* for targets (default NN_LOSS_CCE);
                          labels always train with CCE
     NN_TRAIN_BATCH_SIZE  rows per step, 0 (default) = the whole set
     NN_TRAIN_EPOCHS      passes over the data, >= 1 (default 1)
     NN_TRAIN_SHUFFLE     1 (default): a new order each epoch; 0: as given
     NN_TRAIN_SEED        seed of the shuffling (default 0)
     NN_TRAIN_ACCURACY    NN_ACCURACY_* (default: categorical for labels or
                          CCE, binary for BCE, regression for MSE and MAE)
     NN_TRAIN_PRECISION   regression tolerance; 0 (default) = std of the
                          training targets / 250, as the course
     NN_TRAIN_REPORT_EVERY  also call the callback every N steps (default
                          0: at the end of each epoch only) */
enum {
    NN_TRAIN_LOSS = 0,
    NN_TRAIN_BATCH_SIZE = 1,
    NN_TRAIN_EPOCHS = 2,
    NN_TRAIN_SHUFFLE = 3,
    NN_TRAIN_SEED = 4,
    NN_TRAIN_ACCURACY = 5,
    NN_TRAIN_PRECISION = 6,
    NN_TRAIN_REPORT_EVERY = 7
};

/* Metrics (append only), read with nn_trainer_metric during a callback or
   after a fit:
     NN_METRIC_EPOCH       current epoch, from 1
     NN_METRIC_STEP        steps taken in this fit
     NN_METRIC_LOSS        mean data loss: of the last step at a step
                           event, of the epoch at an epoch event
     NN_METRIC_ACCURACY    accuracy, same scope (NaN if not measured)
     NN_METRIC_REG_LOSS    regularization loss of the current parameters
     NN_METRIC_VAL_LOSS    loss on the validation data at the last epoch
                           end (NaN without validation data)
     NN_METRIC_VAL_ACCURACY  accuracy on it (NaN likewise)
     NN_METRIC_LEARNING_RATE  the optimizer's current learning rate
     NN_METRIC_SECONDS     wall-clock seconds since the fit started
     NN_METRIC_STEPS_PER_EPOCH
     NN_METRIC_STOPPED     1 if the callback stopped the fit, else 0 */
enum {
    NN_METRIC_EPOCH = 0,
    NN_METRIC_STEP = 1,
    NN_METRIC_LOSS = 2,
    NN_METRIC_ACCURACY = 3,
    NN_METRIC_REG_LOSS = 4,
    NN_METRIC_VAL_LOSS = 5,
    NN_METRIC_VAL_ACCURACY = 6,
    NN_METRIC_LEARNING_RATE = 7,
    NN_METRIC_SECONDS = 8,
    NN_METRIC_STEPS_PER_EPOCH = 9,
    NN_METRIC_STOPPED = 10
};

/* Callback events (append only). */
enum { NN_EVENT_STEP = 0, NN_EVENT_EPOCH = 1 };

/* Progress callback: called at the end of every epoch and, with
   NN_TRAIN_REPORT_EVERY, every N steps.  It may read metrics with
   nn_trainer_metric; it must not call nn_trainer_fit.  Return 0 to go on,
   non-zero to stop the fit early (nn_trainer_fit then returns NN_OK and
   NN_METRIC_STOPPED reads 1). */
typedef int (*nn_progress_fn)(void *user, const nn_trainer *trainer,
                              int32_t event);

/* Create a trainer for net, updated by opt (which must belong to net).
   The trainer refers to both: destroy it first.
   Returns NN_OK; NN_ERR_INVALID_ARG (a pointer NULL); NN_ERR_NOMEM.
   Since 0.1. */
NN_API int nn_trainer_create(nn_trainer **out, nn_net *net,
                             nn_optimizer *opt);
/* NULL is a no-op.  Since 0.1. */
NN_API void nn_trainer_destroy(nn_trainer *trainer);

/* Change or read a setting (NN_TRAIN_*).  nn_trainer_get reports -1 for
   NN_TRAIN_ACCURACY while it is left to be chosen from the data.
   Returns NN_OK; NN_ERR_INVALID_ARG (unknown setting, value out of range
   or not an integer where one is needed); NN_ERR_NONFINITE; NN_ERR_STATE
   (set during a fit, from the callback).  Since 0.1. */
NN_API int nn_trainer_set(nn_trainer *trainer, int32_t setting, double value);
NN_API int nn_trainer_get(const nn_trainer *trainer, int32_t setting,
                          double *value_out);

/* Install the progress callback (fn NULL removes it); user is passed back
   unchanged.  Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_trainer_set_callback(nn_trainer *trainer, nn_progress_fn fn,
                                   void *user);

/* Read a metric (NN_METRIC_*).
   Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_trainer_metric(const nn_trainer *trainer, int32_t metric,
                             double *value_out);

/* Train on n samples: x is n * n_in floats; exactly one of targets
   (n * n_out floats) and labels (n class indices in [0, n_out)) is given.
   Validation data (n_val rows, same layout) is optional: val_x NULL or
   n_val 0 skips it.  Every input is validated before the first step
   (finite values, labels in range).  Each step is all-or-nothing, but a
   fit is many steps: if one fails the fit stops there and returns its
   status, with the net and optimizer as after the last good step and the
   message naming the epoch and step.  All the memory the steps need is
   taken before the first step (NN_ERR_NOMEM then changes nothing),
   including nn_backward's exact-check block of nn_net_num_params floats,
   so no step allocates.  Each step is nn_forward (with shuffling, the
   rows are gathered by its own copy of the batch), then nn_backward(_labels)
   and nn_optimizer_step, except that with plain SGD (NN_OPT_SGD, momentum
   0) the step is nn_backward(_labels)_sgd at the optimizer's current
   learning rate, counted as one optimizer step: the update is fused into
   the gradient product where its bounds allow (see nn_backward_sgd), and
   no gradients are kept, so nn_net_get_grads after such a fit returns
   NN_ERR_STATE.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE; NN_ERR_NONFINITE;
   NN_ERR_NOMEM; NN_ERR_STATE (called from its own callback).  Since 0.1. */
NN_API int nn_trainer_fit(nn_trainer *trainer, const float *x,
                          const float *targets, const int32_t *labels,
                          size_t n, const float *val_x,
                          const float *val_targets, const int32_t *val_labels,
                          size_t n_val);

/*====== Persistence ======*/

/* Model file format, version 1, little-endian throughout: a 32-byte header
   (magic 89 4E 4E 46 0D 0A 1A 0A, format version, byte-order mark, total
   size, section count), sections (layer table, parameters), and a CRC-32
   (the zlib/PNG polynomial) of everything before it.  The encoding is
   canonical: loading a file and saving it again gives the same bytes.
   The loader accepts at most NN_MAX_LAYERS layers, widths up to
   NN_MAX_WIDTH and NN_MAX_PARAMS parameters, and a file whose declared
   size equals its actual size. */

/* Save to path.  Atomic: the model is written to a new temporary file in
   the same directory ("<path>.tmp-" and 16 hex digits), flushed to disk,
   then renamed over path, and the directory is flushed, so on any failure
   up to the rename the old file at path is intact and the temporary file
   is removed.  One exception to "nothing changes on failure": if only the
   final flush of the directory fails (a file system that cannot flush
   directories is not a failure), NN_ERR_IO is returned with a message
   saying the new model is in place at path but the rename may not survive
   a crash.  A symbolic link at path is replaced, not followed; the new
   file gets mode 0666 less the umask.
   Returns NN_OK; NN_ERR_INVALID_ARG (net or path NULL, path empty);
   NN_ERR_NOMEM; NN_ERR_IO (naming the path, the system call and errno
   text).  Since 0.1. */
NN_API int nn_net_save(const nn_net *net, const char *path);

/* Load a model saved by nn_net_save.  *out receives a new handle (free it
   with nn_net_destroy), NULL on failure.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_IO (the file cannot be opened
   or read); NN_ERR_FORMAT (truncated, corrupt, another format version,
   over a limit, or inconsistent); NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_net_load(nn_net **out, const char *path);

/* The same format in memory.  nn_net_save_buffer writes the model into
   buf (capacity bytes) and its size into *size_out.  With buf NULL it only
   reports the size needed.  If capacity is too small it returns
   NN_ERR_SHAPE, writes nothing to buf and still sets *size_out.
   nn_net_load_buffer parses size bytes at buf (read only; the pointer is
   not kept).  Same statuses as the file functions, without NN_ERR_IO;
   NN_ERR_INVALID_ARG for a NULL net, size_out, out or buf.
   Since 0.1. */
NN_API int nn_net_save_buffer(const nn_net *net, void *buf, size_t capacity,
                              size_t *size_out);
NN_API int nn_net_load_buffer(nn_net **out, const void *buf, size_t size);

/*====== Checkpoints (optimizer state with the model) ======*/

/* A checkpoint is a model file (format version 1, see Persistence) with
   one more section, "OPTM": the optimizer's kind, its settings, its
   iteration count and its state arrays (SGD momentums, Adagrad/RMSprop
   caches, Adam's two moments), all bit-exact.  Training resumed from a
   checkpoint continues exactly as if it had never stopped: the same
   weights, the same learning-rate schedule, the same next step.  The
   layer options and the dropout generator's state travel with the model
   as in nn_net_save.  nn_net_load reads a checkpoint too (it validates the
   optimizer state and ignores it); nn_checkpoint_load reads a plain model
   file and gives *opt_out = NULL.  Saving is atomic exactly as for
   nn_net_save, and loading rejects anything damaged with NN_ERR_FORMAT
   (settings out of range, non-finite state, negative caches, sizes that do
   not match the layers). */

/* Save net and the optimizer opt that trains it (opt NULL saves the model
   alone, like nn_net_save).
   Returns NN_OK; NN_ERR_INVALID_ARG (net or path NULL, path empty, opt
   created for another net); NN_ERR_NOMEM; NN_ERR_IO.  Since 0.1. */
NN_API int nn_checkpoint_save(const nn_net *net, const nn_optimizer *opt,
                              const char *path);

/* Load a checkpoint: *net_out receives the network and *opt_out its
   optimizer (bound to *net_out; destroy it first), or NULL when the file
   holds no optimizer state.  Both are NULL on failure.
   Returns NN_OK; NN_ERR_INVALID_ARG (a NULL argument); NN_ERR_IO;
   NN_ERR_FORMAT; NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_checkpoint_load(nn_net **net_out, nn_optimizer **opt_out,
                              const char *path);

/* The same in memory, with the conventions of nn_net_save_buffer and
   nn_net_load_buffer.  Since 0.1. */
NN_API int nn_checkpoint_save_buffer(const nn_net *net,
                                     const nn_optimizer *opt, void *buf,
                                     size_t capacity, size_t *size_out);
NN_API int nn_checkpoint_load_buffer(nn_net **net_out,
                                     nn_optimizer **opt_out, const void *buf,
                                     size_t size);

/*====== Allocator ======*/

/* Route every allocation of the library (networks, optimizers, trainers,
   work buffers, file and gzip buffers) through alloc_fn and free_fn, called
   with user as their first argument.  The library aligns blocks itself
   (64 bytes) on top of what alloc_fn returns, so alloc_fn needs only
   malloc's alignment; it returns NULL when it cannot allocate, and the
   library call then fails with NN_ERR_NOMEM, leaves its arguments
   unchanged and keeps nothing.  free_fn receives exactly the pointers
   alloc_fn returned, never NULL.  Both NULL restores the C library's
   malloc and free.  The BLAS and LAPACK allocate on their own and are not
   routed.
   Call it while no library memory is live (before creating the first
   handle, or after destroying the last), and not concurrently with any
   other library call: every thread uses the same functions.
   Returns NN_OK; NN_ERR_INVALID_ARG (exactly one of alloc_fn, free_fn is
   NULL); NN_ERR_STATE (library blocks are live; nothing changed).
   Since 0.1. */
NN_API int nn_set_allocator(void *(*alloc_fn)(void *user, size_t size),
                            void (*free_fn)(void *user, void *ptr),
                            void *user);

/*====== Linear algebra (LAPACKE) ======*/

/* Singular values of layer `layer`'s weight matrix W ([n_in][n_out]),
   computed by LAPACKE_sgesdd on a copy, in descending order.  out
   receives min(n_in, n_out) floats (capacity is its length); *count
   receives that number.  W is not changed.  Returns NN_OK;
   NN_ERR_INVALID_ARG (net or count NULL, out NULL with capacity > 0,
   layer out of range; LAPACK info < 0); NN_ERR_SHAPE (capacity less
   than min(n_in, n_out)); NN_ERR_NONFINITE (W holds NaN or infinity, or
   sgesdd did not converge: info > 0, named in the message);
   NN_ERR_NOMEM; NN_ERR_UNSUPPORTED (a side beyond INT_MAX).  On
   failure out and *count are unchanged.  Reads net only.  Since 0.1. */
NN_API int nn_net_layer_singular_values(const nn_net *net, size_t layer,
                                        float *out, size_t capacity,
                                        size_t *count);

/* The largest singular value of layer `layer`'s W (its operator 2-norm)
   in *norm_out.  Status codes as nn_net_layer_singular_values (norm_out
   NULL: NN_ERR_INVALID_ARG).  Since 0.1. */
NN_API int nn_net_layer_spectral_norm(const nn_net *net, size_t layer,
                                      double *norm_out);

/* How nn_net_fit_readout solved its system (append only). */
enum {
    NN_READOUT_CHOLESKY = 0, /* LAPACKE_sposv on the normal equations */
    NN_READOUT_SVD = 1       /* LAPACKE_sgelsd least squares (fallback) */
};

/* Closed-form readout: fit the last layer's weights W ([p][q], p its
   inputs, q = n_out) and biases b by ridge regression on A, the outputs
   of the layer before it for the inputs x (x itself for a 1-layer net),
   computed as nn_predict computes them (no dropout):
       minimise |A W + b - targets|^2 + lambda |W|^2   (b not penalised).
   The bias is eliminated by centring (b = mean(targets) - mean(A) W), so
   this is the same as augmenting A with a column of ones whose penalty is
   0.  The system (Ac^T Ac + lambda I) W = Ac^T Yc (Ac, Yc column-centred)
   is solved by Cholesky, LAPACKE_sposv; if that reports the matrix not
   positive definite, or LAPACKE_spocon estimates its reciprocal condition
   number below p * FLT_EPSILON, the fit falls back to LAPACKE_sgelsd (SVD)
   on [Ac; sqrt(lambda) I] W = [Yc; 0] (Ac W = Yc when lambda is 0), whose
   minimum-norm W (singular values under max(rows, p) * FLT_EPSILON times
   the largest count as 0) is the answer when A's columns are collinear.
   A fast baseline, or a warm start for gradient training.
     x          batch * n_in floats; targets batch * q floats.
     lambda     the ridge penalty, finite, in [0, FLT_MAX] (0: plain
                least squares).
     method_out may be NULL; receives NN_READOUT_CHOLESKY or
                NN_READOUT_SVD.
     mse_out    may be NULL; receives the mean squared error of the fitted
                layer's outputs against targets (over batch * q values,
                NN_LOSS_MSE's value; the penalty is not included).
   The last layer's activation must be NN_ACT_LINEAR.  Only the last
   layer's W and b change (as by nn_net_set_params, the last nn_forward
   becomes stale); the earlier layers, gradients, options, the dropout
   generator and any optimizer's state are kept.  Scratch is allocated for
   the call and freed before it returns (about batch * (2 * width + q) +
   p * (p + 2 q) floats, and (batch + p) * p more for the SVD fallback).
   Returns NN_OK; NN_ERR_INVALID_ARG (net, x or targets NULL, batch 0,
   lambda negative or over FLT_MAX, the last layer not linear; LAPACK
   info < 0); NN_ERR_NONFINITE (lambda, an input or a target NaN or
   infinite, a hidden output, A^T A, A^T Y or the solution overflowing
   the float range, or sgelsd not converging: info > 0, named in the
   message); NN_ERR_UNSUPPORTED (batch + p beyond INT_MAX, LAPACK's
   sizes); NN_ERR_SHAPE (batch * width overflowing memory sizes);
   NN_ERR_NOMEM.  On failure the net is unchanged and *method_out and
   *mse_out are not written.  Since 0.1. */
NN_API int nn_net_fit_readout(nn_net *net, const float *x,
                              const float *targets, size_t batch,
                              double lambda, int32_t *method_out,
                              double *mse_out);

/*====== PCA and whitening (LAPACKE) ======*/

/* Principal component analysis of input data, to reduce x to k features
   (optionally whitened) before a network sees it.  A fitted PCA is an
   opaque handle; it reads and writes float32 row-major data like the rest
   of the library.
     fit        mean mu (summed and kept in double) and the unbiased sample
                covariance C = (X - mu)^T (X - mu) / (rows - 1) (float
                ssyrk on blocks of centred rows, blocks added in double),
                then its eigen-decomposition by LAPACKE_dsyevd in double.
                The components are the eigenvectors of the k largest
                eigenvalues, in descending order of eigenvalue, each of
                unit length and signed so that its entry of largest
                magnitude (the first one on ties) is positive.  Negative
                eigenvalues (rounding on rank-deficient data) are set to 0.
     transform  y = (x - mu) V (x - mu computed in double, rounded to
                float once), V = [cols][k] with the components as
                columns; with NN_PCA_WHITEN column j is divided by
                sqrt(variance_j + epsilon), so the transformed training
                data has identity covariance (for epsilon 0).
     inverse    x = y V^T + mu (with whitening the scaling is undone), the
                projection of x onto the span of the components when k <
                cols and x itself (to float rounding) when k = cols.
   A PCA handle is read-only after nn_pca_fit / nn_pca_load: any number of
   threads may transform with one handle concurrently. */
typedef struct nn_pca nn_pca;

/* Flags of nn_pca_fit (append only). */
enum {
    NN_PCA_WHITEN = 1    /* divide each component by sqrt(variance + eps) */
};

/* Fit a PCA of k components to rows samples of cols features (x is
   rows * cols floats).  flags: 0 or NN_PCA_WHITEN.  epsilon (>= 0) is
   added to each variance before whitening divides by its square root;
   it is kept but unused without NN_PCA_WHITEN.  x is only read.
   *out receives the new handle (free with nn_pca_destroy), NULL on
   failure.
   Returns NN_OK; NN_ERR_INVALID_ARG (out or x NULL, rows < 2, cols 0,
   k 0, unknown flags, epsilon negative; LAPACK info < 0);
   NN_ERR_SHAPE (k > cols, cols over NN_MAX_WIDTH, rows * cols
   overflowing); NN_ERR_NONFINITE (epsilon or a value of x NaN or
   infinite, naming its row and column; a sum of squares overflowing
   float; with NN_PCA_WHITEN a kept variance + epsilon so small that the
   scale is not a finite float, e.g. 0 for constant data and epsilon 0;
   LAPACKE_dsyevd did not converge: info > 0); NN_ERR_NOMEM (also when
   LAPACKE cannot allocate its workspace); NN_ERR_UNSUPPORTED (cols over
   INT_MAX).  Every LAPACK failure names LAPACKE_dsyevd and its info.
   Memory: about 12 * cols^2 bytes of scratch plus LAPACK's workspace
   (about 16 * cols^2 bytes, allocated by LAPACKE itself and so not
   routed through nn_set_allocator).
   Since 0.1. */
NN_API int nn_pca_fit(nn_pca **out, const float *x, size_t rows,
                      size_t cols, size_t k, int32_t flags, double epsilon);

/* Free a PCA.  NULL is a no-op.  Since 0.1. */
NN_API void nn_pca_destroy(nn_pca *pca);

/* Project rows samples of x (rows * cols floats, cols =
   nn_pca_num_features) onto the components: out receives rows * k
   floats (k = nn_pca_num_components), whitened if the PCA was fitted
   with NN_PCA_WHITEN.  x is checked completely before out is written.
   Allocates a block of at most 512 rows of scratch per call.
   Returns NN_OK; NN_ERR_INVALID_ARG (a pointer NULL, rows 0);
   NN_ERR_SHAPE (rows * cols overflowing); NN_ERR_NONFINITE (a value of x
   not finite, or a row so far from the mean that its projection could
   overflow float); NN_ERR_NOMEM.  On failure out is unchanged.
   Since 0.1. */
NN_API int nn_pca_transform(const nn_pca *pca, const float *x, size_t rows,
                            float *out);

/* Map rows transformed samples y (rows * k floats) back to the input
   space: out receives rows * cols floats, y V^T + mu (whitening undone).
   Allocates nothing.  Statuses as nn_pca_transform (NN_ERR_NONFINITE for
   a non-finite y or one whose reconstruction could overflow float).  On
   failure out is unchanged.  Since 0.1. */
NN_API int nn_pca_inverse_transform(const nn_pca *pca, const float *y,
                                    size_t rows, float *out);

/* Input width cols and number of components k; 0 for a NULL pca.
   Since 0.1. */
NN_API size_t nn_pca_num_features(const nn_pca *pca);
NN_API size_t nn_pca_num_components(const nn_pca *pca);

/* Copy the mean (cols doubles: it is kept in double so that data far
   from the origin is centred to float precision) and the components
   (k * cols floats, row j = component j, unit length, descending
   variance) into caller buffers; either may be NULL to skip it.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_params(const nn_pca *pca, double *mean,
                             float *components);

/* The variance along each component (k doubles: the eigenvalues of the
   sample covariance, descending, >= 0) and the fraction of the total
   variance (the covariance's trace) each explains (k doubles; 0 when the
   total is 0).  Either may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_variance(const nn_pca *pca, double *variance,
                               double *ratio);

/* The flags and epsilon given to nn_pca_fit.  Either pointer may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_settings(const nn_pca *pca, int32_t *flags,
                               double *epsilon);

/* PCA files (docs/FORMAT.md, "PCA files"), little-endian: magic
   89 4E 50 43 0D 0A 1A 0A, version 1, byte-order mark, total size,
   cols, k, flags, epsilon, total variance, the variances, the mean and
   the components, and a CRC-32 of everything before it.  Canonical:
   loading and saving again gives the same bytes, and a loaded PCA
   transforms bit for bit like the one saved.
   nn_pca_save writes atomically exactly as nn_net_save does (temporary
   file, fsync, rename, directory fsync; on failure the old file is
   intact).  nn_pca_load reads it back; *out receives a new handle, NULL on
   failure.  Truncated, extended, corrupt (CRC), foreign or inconsistent
   data (k outside [1, cols], unknown flags, non-finite values, variances
   negative or not descending, components not of unit length) gives
   NN_ERR_FORMAT.
   nn_pca_save_buffer writes the image into buf (capacity bytes) and its
   size into *size_out; with buf NULL it only reports the size; if
   capacity is too small it returns NN_ERR_SHAPE, writes nothing to buf
   and still sets *size_out.  nn_pca_load_buffer parses size bytes at buf.
   Returns NN_OK; NN_ERR_INVALID_ARG (a NULL pointer, path empty);
   NN_ERR_SHAPE (save_buffer only); NN_ERR_IO (files: naming the path,
   the system call and errno text); NN_ERR_FORMAT (load only);
   NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_pca_save(const nn_pca *pca, const char *path);
NN_API int nn_pca_load(nn_pca **out, const char *path);
NN_API int nn_pca_save_buffer(const nn_pca *pca, void *buf, size_t capacity,
                              size_t *size_out);
NN_API int nn_pca_load_buffer(nn_pca **out, const void *buf, size_t size);

/*====== Threads and build information ======*/

/* Threads libnnfs may use for every network in the process: the BLAS's
   threads (openblas_set_num_threads, or the equivalent of BLIS or MKL;
   every one of them that is loaded, e.g. BLIS for the products and the
   OpenBLAS behind LAPACKE) and, since 0.2, the number of in-process
   replicas (see nn_set_parallel_mode).  The call sets the BLAS to n
   threads at once; afterwards, under NN_PARALLEL_AUTO and
   NN_PARALLEL_REPLICAS, training and inference calls set the BLAS to 1
   thread while they run on replicas and back to n when they use the
   BLAS's threads.
   Returns NN_OK; NN_ERR_INVALID_ARG (n < 1); NN_ERR_UNSUPPORTED (the BLAS
   in use has no way to set its thread count).  Since 0.1. */
NN_API int nn_set_num_threads(int n);

/* The count last given to nn_set_num_threads; before any, the threads the
   BLAS will use, or 0 if it cannot tell.  Since 0.1. */
NN_API int nn_get_num_threads(void);

/* How training and inference use the nn_set_num_threads threads (append
   only). */
enum {
    NN_PARALLEL_AUTO = 0,     /* the default: per call, whichever of the
                                 two below (or one thread) is faster for
                                 the network's size and the batch */
    NN_PARALLEL_BLAS = 1,     /* the BLAS's own threads split each product;
                                 everything else on the calling thread (the
                                 behaviour of 0.1) */
    NN_PARALLEL_REPLICAS = 2  /* data-parallel replicas: the batch's rows
                                 are split over the threads (the calling
                                 one and pool threads created once and
                                 parked between calls), each running the
                                 forward and backward of its rows with a
                                 single-threaded BLAS; the weight gradients
                                 are then formed in parallel over blocks of
                                 each weight matrix's rows, the bias
                                 gradients summed over the threads' partial
                                 sums in a fixed order, and the optimizer
                                 update split over the parameters */
};

/* Choose how the threads are used, for every network in the process.
   With NN_PARALLEL_REPLICAS (and NN_PARALLEL_AUTO when it picks replicas)
   nn_forward, nn_backward, nn_backward_labels, their _sgd forms,
   nn_optimizer_step and nn_trainer_fit split their work over
   nn_get_num_threads() threads (at most 64, at most one per row).  A
   given thread count gives bit-identical results run after run, whatever
   other threads do; results differ from one thread's only by float
   rounding: each block's mean loss gradient is rescaled to the batch's
   (one rounding) and the bias gradients are summed block by block.  The
   products themselves are the same single cblas_sgemm calls on blocks.
   NN_PARALLEL_AUTO uses one thread for steps of fewer than 2^20
   multiply-adds in the forward (batch x parameters); the BLAS's threads
   from 2^31 (products that large OpenBLAS splits well itself); replicas
   between when every thread gets at least 8 rows, else the BLAS's threads
   for 2^26 or more, else one thread.  Under NN_PARALLEL_AUTO the optimizer
   update is split from 2^20 parameters (not after a call that chose the
   BLAS's threads); under NN_PARALLEL_REPLICAS always.  The thresholds were measured on 2 cores (README,
   "Training on several cores and machines").  One dispatch of replicas
   runs at a time in the process: concurrent callers wait their turn.  A
   waiting thread polls NNFS_SPIN times (environment, read when the pool
   starts; default 2000, tens of microseconds) before it sleeps.
   Returns NN_OK; NN_ERR_INVALID_ARG (mode not an NN_PARALLEL_* value).
   Since 0.2. */
NN_API int nn_set_parallel_mode(int32_t mode);

/* The mode in force (NN_PARALLEL_AUTO unless set).  Since 0.2. */
NN_API int32_t nn_get_parallel_mode(void);

/* All the gradients of the last backward as one block of n =
   nn_net_num_params(net) floats, in the layers' order, each layer its
   weights [n_in][n_out] then its biases: what data-parallel training
   across processes all-reduces (nnfs_mpi.h).  get copies them out; set
   copies a block in (e.g. the mean over all processes) for the next
   nn_optimizer_step or nn_sgd_step, which then also works after a fused
   nn_backward_sgd.  set checks every value first and changes nothing on
   failure.
   Returns NN_OK; NN_ERR_INVALID_ARG (a NULL pointer); NN_ERR_SHAPE (n not
   the parameter count); NN_ERR_STATE (get: no nn_backward has stored
   gradients: none yet, or the last was fused with its update); NN_ERR_NONFINITE (set: a value NaN or infinite,
   named by its index).  Since 0.2. */
NN_API int nn_net_get_grad_block(const nn_net *net, float *dst, size_t n);
NN_API int nn_net_set_grad_block(nn_net *net, const float *src, size_t n);

/* Keys for nn_info (append only). */
enum {
    NN_INFO_VERSION = 0,     /* "0.1.0" */
    NN_INFO_BLAS = 1,        /* the BLAS library, e.g. "OpenBLAS 0.3.21" */
    NN_INFO_BLAS_CORE = 2,   /* its kernel core, e.g. "SkylakeX"; "" if
                                the BLAS does not say */
    NN_INFO_KERNELS = 3,     /* libnnfs kernel set in use: "generic",
                                "avx2" or "avx512" */
    NN_INFO_KERNELS_BUILT = 4, /* kernel sets compiled in, space-separated */
    NN_INFO_BLAS_CORE_CHOICE = 5 /* what libnnfs did about the BLAS core at
                                    load: "Haswell -> Cooperlake", "kept
                                    Haswell (NNFS_BLAS_CORE=keep)", "not
                                    applicable" (not a DYNAMIC_ARCH
                                    OpenBLAS) */
};

/* The BLAS core.  Debian's OpenBLAS 0.3.21 runs its Haswell (AVX2) kernels
   on AMD Zen 4/5 CPUs that also run its AVX-512 kernels, which are about
   1.8x faster for sgemm.  So when libnnfs is loaded, if the BLAS is an
   OpenBLAS built with DYNAMIC_ARCH that runs Haswell or Zen kernels (by
   its own detection or because OPENBLAS_CORETYPE=Haswell is set) on a CPU
   and operating system with AVX-512 F/DQ/BW/VL, libnnfs asks OpenBLAS to
   choose again, naming Cooperlake (with AVX512_BF16) or SkylakeX.  The
   choice applies to the whole process (cblas_sgemm called by the program
   itself too).  Environment:
     NNFS_BLAS_CORE=keep     leave OpenBLAS's choice alone;
     NNFS_BLAS_CORE=NAME     ask for that OpenBLAS core (e.g. SkylakeX);
     NNFS_BLAS_CORE=auto     the default described above.
   nn_info(NN_INFO_BLAS_CORE) names the core in use and
   nn_info(NN_INFO_BLAS_CORE_CHOICE) what was done. */

/* Static text describing the build and the running machine, for the key
   NN_INFO_*; NULL for an unknown key.  The kernel set is chosen once, at
   first use, from what the CPU and the operating system support; the
   environment variable NNFS_ARCH=generic|avx2|avx512 caps it (a set the
   machine cannot run falls back to the best one it can).  Since 0.1. */
NN_API const char *nn_info(int32_t key);

#ifdef __cplusplus
}
#endif

#endif /* NNFS_H */
