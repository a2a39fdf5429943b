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
 *  - Input and output buffers of one call must not overlap, unless the
 *    function says otherwise: nn_forward's out may alias its x (it reads x
 *    whole before writing out).  nn_predict, nn_pca_transform and
 *    nn_pca_inverse_transform check and refuse an overlap with
 *    NN_ERR_INVALID_ARG; nn_data_shuffle works in place by design.
 *  - A handle may be used by one thread at a time.  Distinct handles may be
 *    used from distinct threads concurrently.
 *  - A handle argument that is not a live handle of its type (another
 *    type's handle, one already destroyed) gives NN_ERR_MISUSE; NULL gives
 *    NN_ERR_INVALID_ARG (see "Handles" below nn_last_error).
 *  - The library never prints, never aborts and never exits.
 *  - Pointer parameters the call writes carry a comment in the declaration:
 *    [out] (written only; on failure handle out-pointers are set to NULL
 *    and other outputs are unchanged unless the function says otherwise)
 *    or [in,out] (read and written).  Every other pointer parameter is
 *    only read.
 *  - Handles that refer to others must go first: destroy a trainer before
 *    its optimizer, an optimizer before its net (see each *_destroy).
 *  - Counts are size_t.  Enum-like values are int32_t and the numbers below
 *    are part of the ABI: they are only ever appended, never renumbered.
 *
 * ABI policy: the SONAME is libnnfs.so.MAJOR.  Within one MAJOR, functions
 * and constants are only added; a published signature never changes (a new
 * variant gets a new name).  Only nn_* symbols are exported.
 *
 * Documents: docs/FORMAT.md (the model and PCA file formats), docs/ABI.md
 * (this ABI contract) and docs/RELIABILITY.md (the test plan) of the
 * source tree are installed with README.md in share/doc/nnfs/ under the
 * installation prefix, e.g. /usr/local/share/doc/nnfs/FORMAT.md.
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
    NN_ERR_UNSUPPORTED = 8,  /* valid request this build cannot serve */
    NN_ERR_MISUSE = 9        /* a handle argument is not a live handle of
                                its type: another type's handle passed
                                through an untyped FFI, or one already
                                destroyed (see "Handles" below).  Since 0.2. */
};

/* Static English text for a status code; "unknown status" for values that
   are not codes.  Never NULL.  Since 0.1. */
NN_API const char *nn_strerror(int status);

/* This thread's last failure message, "" if no call of this thread has
   failed yet.  The message is per thread: a failure on another thread
   never shows here.  It is only meaningful right after a call that
   returned a status other than NN_OK, read on the same thread before any
   other libnnfs call (a successful call does not clear it, so a stale
   message from an earlier failure may still be there; bindings that call
   from a thread pool must read it on the thread that made the failing
   call).  The text lives in thread-local storage and stays valid until
   this thread's next failing call.  It holds two PATH_MAX-long paths and
   their text whole; a message that still does not fit (a path longer
   than PATH_MAX) is cut and ends in "...".  Never NULL.  Since 0.1. */
NN_API const char *nn_last_error(void);

/* Handles.  nn_net, nn_optimizer, nn_trainer and nn_pca are opaque
   handles made by their create/load/fit functions and freed by their
   destroy.  Each carries a type tag (a 64-bit magic number, SQLite
   style), checked on entry by every function that takes the handle,
   including the handles kept inside others (an optimizer's net, a
   trainer's net and optimizer), and overwritten by destroy just before
   the memory is freed.  A handle of another type (an nn_optimizer passed
   as the net through an untyped FFI) or one already destroyed gives
   NN_ERR_MISUSE and changes nothing, with a message naming the function,
   the argument and what was found:
     "nn_forward: net is not a live nn_net (it is an nn_optimizer)"
     "nn_trainer_fit: trainer's net is not a live nn_net (it was
      destroyed)"
   A NULL handle is still NN_ERR_INVALID_ARG.  Functions that return no
   status report misuse through their return value and nn_last_error: the
   shape queries (nn_net_num_layers, ..., nn_pca_num_components) return
   0, nn_net_layer_activation and nn_optimizer_kind -1, and a destroy of a
   wrong-type or already-destroyed handle does nothing (it frees nothing a
   second time).
   What the check can catch: a handle of another libnnfs type, and use or
   destroy after destroy while the freed memory is still readable and not
   yet reused (with many allocators, and always under an nn_set_allocator
   whose free keeps blocks).  What it cannot catch: a freed handle whose
   memory was reused by another allocation (possibly a new handle of the
   same type, which then is the one used) or returned to the operating
   system (reading it may crash), and arbitrary pointers that are not
   handles at all (reading 8 bytes at them may crash; they give
   NN_ERR_MISUSE only if readable).  It is a safety net for bindings, not
   a substitute for ownership: destroy each handle exactly once, after
   every trainer and optimizer that refers to it.  Since 0.2. */

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
NN_API int nn_net_create(nn_net **out /* [out] */, size_t n_layers,
                         const size_t *sizes, const int32_t *activations,
                         uint64_t seed);

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
   unknown scheme, gain outside [0, 1e30]); NN_ERR_NONFINITE (gain not
   finite).  Since 0.1. */
NN_API int nn_net_init(nn_net *net, size_t layer, int32_t scheme,
                       double gain, uint64_t seed);

/* Free a network and everything it owns.  NULL is a no-op; a handle that
   is not a live nn_net (another type, already destroyed) is left alone
   and the message says so (see "Handles").  Lifetime order: destroy every
   trainer (nn_trainer_destroy) and then every optimizer
   (nn_optimizer_destroy) made for this net first; they refer to it, and
   using them after the net is destroyed is NN_ERR_MISUSE at best (see
   "Handles" for what the check cannot catch).  Since 0.1. */
NN_API void nn_net_destroy(nn_net *net);

/* Shape queries.  They return 0 for a NULL net or a layer >= n_layers
   (and nn_net_layer_activation returns -1), and the same for a net that
   is not a live nn_net, then also setting nn_last_error (see "Handles").
   Since 0.1. */
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
                             float *weights /* [out] */,
                             float *biases /* [out] */);
NN_API int nn_net_set_params(nn_net *net, size_t layer,
                             const float *weights, const float *biases);

/* Copy layer `layer`'s gradients of the last nn_backward (same shapes as
   the parameters).  Either pointer may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_STATE (no nn_backward has
   succeeded on this net yet).  Since 0.1. */
NN_API int nn_net_get_grads(const nn_net *net, size_t layer,
                            float *dweights /* [out] */,
                            float *dbiases /* [out] */);

/*====== Training step ======*/

/* Forward pass on `batch` rows of x (batch * n_in floats, n_in the input
   width).  This is the training pass: layers with a dropout rate drop
   outputs (nn_predict never does).  Keeps what nn_backward needs (a copy of x and every layer's
   output), in scratch that belongs to the net: it grows when a larger batch
   arrives and is reused afterwards, so steady-state steps allocate nothing.
   out (batch * n_out floats, n_out the last width) receives the final
   activation's output; out may be NULL, and may be x itself (or overlap
   it): x is copied in before out is written.
   Every input and every layer's output is checked: NaN or infinity gives
   NN_ERR_NONFINITE, and then the previous forward (if any) is still the one
   nn_backward uses.
   Returns NN_OK; NN_ERR_INVALID_ARG (net or x NULL, batch 0);
   NN_ERR_SHAPE (batch over INT_MAX or batch * width overflowing);
   NN_ERR_NOMEM; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_forward(nn_net *net, const float *x, size_t batch,
                      float *out /* [out] */);

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
                       float *loss_out /* [out] */);

/* Same for CCE with integer class labels: batch entries, each in
   [0, n_out).  A label outside that range gives NN_ERR_SHAPE, naming the
   index and value.  Since 0.1. */
NN_API int nn_backward_labels(nn_net *net, const int32_t *labels,
                              float *loss_out /* [out] */);

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
                           float learning_rate, float *loss_out /* [out] */);

/* Same with class labels, as nn_backward_labels.  Since 0.1. */
NN_API int nn_backward_labels_sgd(nn_net *net, const int32_t *labels,
                                  float learning_rate,
                                  float *loss_out /* [out] */);

/*====== Regularization and dropout ======*/

/* Per-layer options (append only), set with nn_net_set_layer_option.
   All start at 0 (off).
     NN_LAYER_L1_WEIGHTS, NN_LAYER_L2_WEIGHTS, NN_LAYER_L1_BIASES,
     NN_LAYER_L2_BIASES: penalty coefficients, in [0, FLT_MAX] (the
       gradient 2 l2 w is formed in float; larger is NN_ERR_INVALID_ARG).  The
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
                                   int32_t option,
                                   double *value_out /* [out] */);

/* The regularization loss of the current parameters, summed over layers
   (0 when no penalty is set), into *loss_out.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE (the loss overflows
   float, e.g. a huge coefficient on large weights: *loss_out is then not
   written; NN_METRIC_REG_LOSS reads +infinity).  Since 0.1. */
NN_API int nn_net_regularization_loss(const nn_net *net,
                                      float *loss_out /* [out] */);

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
     NN_OPT_LEARNING_RATE  lr in [0, FLT_MAX]; default 1.0 (SGD, Adagrad),
                           0.001 (RMSprop, Adam)
     NN_OPT_DECAY          in [0, FLT_MAX], default 0:
                           lr_t = lr / (1 + decay * it)
     NN_OPT_MOMENTUM       SGD only, in [0, 1) (and below 1 in float),
                           default 0
     NN_OPT_EPSILON        Adagrad, RMSprop, Adam; in (0, 1] and not 0 in
                           float, default 1e-7
     NN_OPT_RHO            RMSprop only, in [0, 1), default 0.9
     NN_OPT_BETA1          Adam only, in [0, 1), default 0.9
     NN_OPT_BETA2          Adam only, in [0, 1), default 0.999
     NN_OPT_ITERATIONS     steps taken so far (it above); an integer in
                           [0, 9e15]; settable to resume a schedule
   The same [0, 1) rule holds for RHO, BETA1 and BETA2.  NaN or infinity
   is NN_ERR_NONFINITE; any other value outside its range is
   NN_ERR_INVALID_ARG.
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
NN_API int nn_optimizer_create(nn_optimizer **out /* [out] */, nn_net *net,
                               int32_t kind);

/* Free an optimizer.  NULL is a no-op; a handle that is not a live
   nn_optimizer is left alone and the message says so (see "Handles").
   Lifetime order: destroy the trainers that use it first, and destroy it
   before its net (nn_net_destroy).  Since 0.1. */
NN_API void nn_optimizer_destroy(nn_optimizer *opt);

/* The kind of opt, -1 for NULL or a handle that is not a live
   nn_optimizer (then setting nn_last_error).  Since 0.1. */
NN_API int32_t nn_optimizer_kind(const nn_optimizer *opt);

/* Change or read one setting.  A setting that does not apply to the kind
   (momentum for Adam, ...) is NN_ERR_INVALID_ARG, as is a value outside
   its range or a set of NN_OPT_CURRENT_LEARNING_RATE.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_optimizer_set(nn_optimizer *opt, int32_t setting, double value);
NN_API int nn_optimizer_get(const nn_optimizer *opt, int32_t setting,
                            double *value_out /* [out] */);

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
   the batch, and reads x in place: out must not overlap x (refused, as
   out would overwrite rows not yet read; use nn_forward to work in place).
   Returns NN_OK; NN_ERR_INVALID_ARG (net, x or out NULL, batch 0, out
   overlapping x);
   NN_ERR_SHAPE; NN_ERR_NOMEM (first call only); NN_ERR_NONFINITE (an input
   or an output is not finite; out may then hold partial results).
   Since 0.1. */
NN_API int nn_predict(nn_net *net, const float *x, size_t batch,
                      float *out /* [out] */);

/* Classification accuracy of outputs against class labels: the fraction of
   the batch rows of out (batch * n_out floats) whose argmax (the first
   maximum, as NumPy's argmax) equals the label.
   Returns NN_OK; NN_ERR_INVALID_ARG (a pointer NULL, batch or n_out 0);
   NN_ERR_SHAPE (a label outside [0, n_out)); NN_ERR_NONFINITE (NaN in
   out).  Since 0.1. */
NN_API int nn_accuracy(const float *out, size_t batch, size_t n_out,
                       const int32_t *labels, float *accuracy_out /* [out] */);

/* Binary accuracy, as the NNFS course measures a sigmoid output: the
   fraction of the batch * n_out outputs with (out > 0.5) == (target > 0.5).
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_accuracy_binary(const float *out, const float *targets,
                              size_t batch, size_t n_out,
                              float *accuracy_out /* [out] */);

/* Regression accuracy, as the course measures it: the fraction of outputs
   with |out - target| < precision (the course uses std(targets) / 250).
   Returns NN_OK; NN_ERR_INVALID_ARG (also precision <= 0);
   NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_accuracy_regression(const float *out, const float *targets,
                                  size_t batch, size_t n_out, float precision,
                                  float *accuracy_out /* [out] */);

/* The loss value of outputs against targets, the same number nn_backward
   reports, without a network: out and targets are batch * n_out floats.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_loss_compute(int32_t loss, const float *out,
                           const float *targets, size_t batch, size_t n_out,
                           float *loss_out /* [out] */);

/* CCE of outputs against integer labels (batch entries in [0, n_out)).
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE (label out of range);
   NN_ERR_NONFINITE.  Since 0.1. */
NN_API int nn_loss_compute_labels(const float *out, const int32_t *labels,
                                  size_t batch, size_t n_out,
                                  float *loss_out /* [out] */);

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
NN_API int nn_data_spiral(float *x /* [out] */, int32_t *labels /* [out] */,
                          size_t samples, size_t classes, uint64_t seed);

/* The course's vertical data set (nnfs.datasets.vertical_data): class c
   has `samples` points at (N(c/3, 0.1^2), N(0.5, 0.1^2)).  Same buffers,
   statuses and seeding as nn_data_spiral.  Since 0.1. */
NN_API int nn_data_vertical(float *x /* [out] */, int32_t *labels /* [out] */,
                            size_t samples, size_t classes, uint64_t seed);

/* The course's sine data set (nnfs.datasets.sine_data): x_i = i / samples
   and y_i = sin(2 pi x_i) for i in [0, samples); x and y samples floats
   each.  Deterministic (no noise).
   Returns NN_OK; NN_ERR_INVALID_ARG (x or y NULL, samples 0);
   NN_ERR_SHAPE.  Since 0.1. */
NN_API int nn_data_sine(float *x /* [out] */, float *y /* [out] */,
                        size_t samples);

/* Shuffle rows in place with one seeded permutation applied to x
   (rows * cols floats) and, when not NULL, to y (rows * y_cols floats) and
   labels (rows entries), so samples stay paired.  Fisher-Yates with the
   library's generator: same seed, same order everywhere.
   Returns NN_OK; NN_ERR_INVALID_ARG (x NULL, rows or cols 0, y given with
   y_cols 0); NN_ERR_SHAPE (sizes overflow).  Since 0.1. */
NN_API int nn_data_shuffle(float *x /* [in,out] */, size_t rows, size_t cols,
                           float *y /* [in,out] */, size_t y_cols,
                           int32_t *labels /* [in,out] */, uint64_t seed);

/* IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed
   (recognised by the gzip magic 1F 8B, decompressed with zlib, or
   libdeflate when the library was built with it; several gzip members
   back to back are read as one stream, as gunzip does).  Header:
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
NN_API int nn_idx_info(const char *path, size_t *count /* [out] */,
                       size_t *sample_size /* [out] */);

/* Read an IDX file of count samples of sample_size bytes into out
   (count * sample_size floats), scaled by scale (NN_SCALE_*).  count and
   sample_size must equal what nn_idx_info reports, so a wrong pairing of
   files is caught.  out is written only on success.
   Returns NN_OK; NN_ERR_INVALID_ARG (NULL, unknown scale); NN_ERR_SHAPE
   (count or sample_size differ from the file); NN_ERR_IO; NN_ERR_FORMAT;
   NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_idx_read(const char *path, float *out /* [out] */, size_t count,
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
NN_API int nn_idx_read_labels(const char *path, int32_t *labels /* [out] */,
                              size_t count);

/* Parse an IDX image already in memory (plain or gzip), the same checks as
   the file functions: *count and *sample_size receive its shape; when out
   is not NULL it receives the scaled values (count * sample_size floats,
   capacity floats available).  For fuzzing and for embedded data.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE (capacity too small);
   NN_ERR_FORMAT; NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_idx_parse_buffer(const void *buf, size_t size,
                               float *out /* [out] */, size_t capacity,
                               int32_t scale, size_t *count /* [out] */,
                               size_t *sample_size /* [out] */);

/* Read an IDX file (images or labels) in one pass into a new array:
   *out receives count * sample_size floats scaled by scale (NN_SCALE_*),
   *count and *sample_size the shape; free *out with nn_idx_free.  The
   file is decompressed once (nn_idx_info followed by nn_idx_read
   decompresses it twice), and memory grows with the data actually
   decompressed, never to what the header declares: before the data is
   complete a block is at most 32 times the file's size or twice the data
   found so far, so a small file whose header declares a huge payload
   fails as truncated without a huge allocation.  The same checks as
   nn_idx_read.
   Returns NN_OK; NN_ERR_INVALID_ARG (NULL, unknown scale); NN_ERR_IO;
   NN_ERR_FORMAT; NN_ERR_NOMEM.  *out is NULL on failure.  Since 0.2. */
NN_API int nn_idx_load(const char *path, int32_t scale, float **out,
                       size_t *count, size_t *sample_size);

/* nn_idx_load for one part of the rows, as one process of a
   data-parallel run keeps (nnfs_mpi.h): the file's count rows split into
   parts parts as nn_mpi_shard splits them (part p gets count / parts
   rows, the first count % parts parts one more); *first and *rows receive
   this part's rows, *count the file's and *sample_size the row width;
   *out receives *rows * *sample_size floats (free with nn_idx_free).  The
   whole file is still decompressed and checked (IDX has no index and a
   gzip stream is checked whole), but only the part's rows are converted
   and kept, so each of N processes holds 1/N of the floats.  The same
   checks and memory bounds as nn_idx_load.
   Returns NN_OK; NN_ERR_INVALID_ARG (NULL, unknown scale, part >= parts);
   NN_ERR_IO; NN_ERR_FORMAT; NN_ERR_NOMEM.  *out is NULL on failure.
   Since 0.2. */
NN_API int nn_idx_load_part(const char *path, int32_t scale, size_t part,
                            size_t parts, float **out, size_t *first,
                            size_t *rows, size_t *count,
                            size_t *sample_size);

/* Free an array from nn_idx_load or nn_idx_load_part; NULL is a no-op.  The array is library
   memory (from the nn_set_allocator allocator, and live for its check)
   until freed here.  Since 0.2. */
NN_API void nn_idx_free(float *data);

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
     NN_TRAIN_BATCH_SIZE  rows per step, 0 (default) = the whole set; at
                          most INT_MAX
     NN_TRAIN_EPOCHS      passes over the data, >= 1 (default 1)
     NN_TRAIN_SHUFFLE     1 (default): a new order each epoch; 0: as given
     NN_TRAIN_SEED        seed of the shuffling (default 0)
     NN_TRAIN_ACCURACY    NN_ACCURACY_* (default: categorical for labels or
                          CCE, binary for BCE, regression for MSE and MAE)
     NN_TRAIN_PRECISION   regression tolerance; 0 (default) = std of the
                          training targets / 250, as the course
     NN_TRAIN_REPORT_EVERY  also call the callback every N steps (default
                          0: at the end of each epoch only)
     NN_TRAIN_X_COLS      the width of the caller's rows of x, in floats;
     NN_TRAIN_VAL_X_COLS  the same for val_x.  0 (default): not declared.
                          The fit cannot see how wide the caller's rows are
                          (x and val_x are bare pointers and are read as
                          n_in wide); declared, a width other than the
                          net's n_in makes nn_trainer_fit return
                          NN_ERR_SHAPE before anything is read, instead of
                          reading past the end of a narrower buffer.  At
                          most NN_MAX_WIDTH.  Since 0.2.
     NN_TRAIN_FIRST_EPOCH the number of this fit's first epoch (default 1;
                          the fit runs NN_TRAIN_EPOCHS epochs from it).
                          Epoch e's shuffled order is drawn from (seed, e)
                          alone, so a fit resumed from a checkpoint taken
                          after epoch k, with NN_TRAIN_FIRST_EPOCH k + 1,
                          draws the orders an uninterrupted fit draws and
                          ends with its parameters.  NN_METRIC_EPOCH counts
                          from it.  Since 0.2.
   Integer settings (all but NN_TRAIN_PRECISION, which is in [0, FLT_MAX])
   must be whole numbers in [0, 9e15], the range a double holds exactly;
   NaN or infinity is NN_ERR_NONFINITE, anything else out of range
   NN_ERR_INVALID_ARG. */
enum {
    NN_TRAIN_LOSS = 0,
    NN_TRAIN_BATCH_SIZE = 1,
    NN_TRAIN_EPOCHS = 2,
    NN_TRAIN_SHUFFLE = 3,
    NN_TRAIN_SEED = 4,
    NN_TRAIN_ACCURACY = 5,
    NN_TRAIN_PRECISION = 6,
    NN_TRAIN_REPORT_EVERY = 7,
    NN_TRAIN_X_COLS = 8,
    NN_TRAIN_VAL_X_COLS = 9,
    NN_TRAIN_FIRST_EPOCH = 10
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
NN_API int nn_trainer_create(nn_trainer **out /* [out] */, nn_net *net,
                             nn_optimizer *opt);
/* Free a trainer.  NULL is a no-op; a handle that is not a live
   nn_trainer is left alone and the message says so (see "Handles").
   Lifetime order: destroy it before its optimizer and its net (trainer,
   then optimizer, then net).  Since 0.1. */
NN_API void nn_trainer_destroy(nn_trainer *trainer);

/* Change or read a setting (NN_TRAIN_*).  nn_trainer_get reports -1 for
   NN_TRAIN_ACCURACY while it is left to be chosen from the data.
   Returns NN_OK; NN_ERR_INVALID_ARG (unknown setting, value out of range
   or not an integer where one is needed); NN_ERR_NONFINITE; NN_ERR_STATE
   (set during a fit, from the callback).  Since 0.1. */
NN_API int nn_trainer_set(nn_trainer *trainer, int32_t setting, double value);
NN_API int nn_trainer_get(const nn_trainer *trainer, int32_t setting,
                          double *value_out /* [out] */);

/* Install the progress callback (fn NULL removes it); user is passed back
   unchanged.  Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_trainer_set_callback(nn_trainer *trainer, nn_progress_fn fn,
                                   void *user);

/* Read a metric (NN_METRIC_*).
   Returns NN_OK; NN_ERR_INVALID_ARG.  Since 0.1. */
NN_API int nn_trainer_metric(const nn_trainer *trainer, int32_t metric,
                             double *value_out /* [out] */);

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
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_SHAPE (also a declared
   NN_TRAIN_X_COLS or NN_TRAIN_VAL_X_COLS other than n_in); NN_ERR_NONFINITE;
   NN_ERR_NOMEM; NN_ERR_STATE (called from its own callback).  Since 0.1. */
NN_API int nn_trainer_fit(nn_trainer *trainer, const float *x,
                          const float *targets, const int32_t *labels,
                          size_t n, const float *val_x,
                          const float *val_targets, const int32_t *val_labels,
                          size_t n_val);

/* Data-parallel fits.  A communication layer (libnnfs_mpi's
   nn_mpi_trainer_attach in nnfs_mpi.h, or one of your own) makes the
   trainers of `size` processes (replicas) the parts of one fit.  Each
   replica holds the same net and optimizer state (broadcast them first)
   and passes nn_trainer_fit its own part of the rows: x (and val_x) are
   this replica's shard, any sizes, at least one training row each.  Then:
     - the settings, the net's shape, the loss and whether labels or
       targets are given must be the same on every replica (checked: a
       difference is NN_ERR_INVALID_ARG on every replica);
     - a step is one global batch: NN_TRAIN_BATCH_SIZE (0 = all rows) is
       the global batch B; an epoch has steps = ceil(N / B) steps for the
       N rows of all replicas, and in each a replica runs the forward and
       backward of its next n / steps rows (the first n % steps steps one
       more; none when n < steps and its rows ran out), the gradients
       become the mean over the global batch (NN_SYNC_GRADS), and every
       replica makes the same optimizer step (none in a step where no
       replica had rows; the fused SGD path is not used);
     - each replica shuffles its own rows, in an order drawn from (seed,
       epoch, rank);
     - the metrics (loss, accuracy, validation loss and accuracy, the
       regression precision) are over all replicas' rows (NN_SYNC_SUM), the
       same on every replica, and so is every callback's return: the fit
       stops on every replica when a callback on any of them says stop;
     - a failure on any replica (bad data, out of memory, a non-finite
       gradient) ends the fit on every replica with the lowest failing
       rank's status and message, the nets and optimizers as after the last
       good step on all of them.
   The sync function is collective: every replica's fit calls it the same
   number of times with the same op and n.  op NN_SYNC_SUM: values[0..n)
   become their sums over the replicas (the same bits on every replica).
   op NN_SYNC_GRADS: n is 1 and values[0] is the number of rows this
   replica's last backward ran on in this step (0: none); values[0] must
   become sum_r rows_r, and, when that is not 0, net's gradient block
   (nn_net_get_grad_block) sum_r rows_r g_r / sum_r rows_r (when it is 0
   the gradients are left alone and the trainer makes no update).  status is this replica's status before the call, and
   msg (msg_size bytes, NUL-terminated) its message when status is not
   NN_OK.  The function returns NN_OK when every replica passed NN_OK and
   its own work succeeded; otherwise, on every replica, the status of the
   lowest failing rank, with that rank's message (e.g. prefixed by "rank
   R: ") written into msg. */
enum { NN_SYNC_SUM = 0, NN_SYNC_GRADS = 1 };
typedef int (*nn_sync_fn)(void *user, int32_t op, nn_net *net,
                          double *values, size_t n, int32_t status,
                          char *msg, size_t msg_size);

/* Make trainer replica `rank` of `size` of a data-parallel fit, through
   fn (NULL: a plain fit again; size 1 with fn runs the data-parallel
   rules on one replica).  user is passed back unchanged.
   Returns NN_OK; NN_ERR_INVALID_ARG (size < 1, rank outside [0, size));
   NN_ERR_STATE (during a fit).  Since 0.2. */
NN_API int nn_trainer_set_sync(nn_trainer *trainer, int32_t rank,
                               int32_t size, nn_sync_fn fn, void *user);

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
   the same directory (path's last component, then ".tmp-" and 16 hex
   digits; a last component longer than NAME_MAX - 21 bytes is cut, at a
   UTF-8 character boundary, so the name always fits), flushed to disk,
   then renamed over path, and the directory is flushed, so on any failure
   up to the rename the old file at path is intact and the temporary file
   is removed.  Every file call after opening the directory is relative to
   it, so any path open(2) accepts saves, even one within 21 bytes of
   PATH_MAX.  One exception to "nothing changes on failure": if only the
   final flush of the directory fails (a file system that cannot flush
   directories is not a failure), NN_ERR_IO is returned with a message
   saying the new model is in place at path but the rename may not survive
   a crash.  A symbolic link at path is replaced, not followed; the new
   file gets mode 0666 less the umask.  Anything else at path that is not
   a regular file (a FIFO, a character or block device such as /dev/null,
   a socket, a directory), and a path ending in '/', is refused with
   NN_ERR_IO ("... is a FIFO, not a regular file; nothing was written")
   before anything is written; the directory must be readable (it is
   opened to be flushed).  The check is lstat(2) of path before the
   temporary file is made: a node created at path by another process
   between that check and the rename is still replaced (POSIX offers no
   rename that refuses one).
   Returns NN_OK; NN_ERR_INVALID_ARG (net or path NULL, path empty);
   NN_ERR_NOMEM; NN_ERR_IO (naming the path, the system call and errno
   text).  Since 0.1. */
NN_API int nn_net_save(const nn_net *net, const char *path);

/* Load a model saved by nn_net_save.  *out receives a new handle (free it
   with nn_net_destroy), NULL on failure.
   Returns NN_OK; NN_ERR_INVALID_ARG; NN_ERR_IO (the file cannot be opened
   or read); NN_ERR_FORMAT (truncated, corrupt, another format version,
   over a limit, or inconsistent); NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_net_load(nn_net **out /* [out] */, const char *path);

/* The same format in memory.  nn_net_save_buffer writes the model into
   buf (capacity bytes) and its size into *size_out.  With buf NULL it only
   reports the size needed.  If capacity is too small it returns
   NN_ERR_SHAPE, writes nothing to buf and still sets *size_out.
   nn_net_load_buffer parses size bytes at buf (read only; the pointer is
   not kept).  Same statuses as the file functions, without NN_ERR_IO;
   NN_ERR_INVALID_ARG for a NULL net, size_out, out or buf.
   Since 0.1. */
NN_API int nn_net_save_buffer(const nn_net *net, void *buf /* [out] */,
                              size_t capacity, size_t *size_out /* [out] */);
NN_API int nn_net_load_buffer(nn_net **out /* [out] */, const void *buf,
                              size_t size);

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
NN_API int nn_checkpoint_load(nn_net **net_out /* [out] */,
                              nn_optimizer **opt_out /* [out] */,
                              const char *path);

/* The same in memory, with the conventions of nn_net_save_buffer and
   nn_net_load_buffer.  Since 0.1. */
NN_API int nn_checkpoint_save_buffer(const nn_net *net,
                                     const nn_optimizer *opt,
                                     void *buf /* [out] */, size_t capacity,
                                     size_t *size_out /* [out] */);
NN_API int nn_checkpoint_load_buffer(nn_net **net_out /* [out] */,
                                     nn_optimizer **opt_out /* [out] */,
                                     const void *buf, size_t size);

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
   routed, nor is libdeflate's decompressor state (about 10 KiB for the
   duration of a gzip IDX read, when the library is built with libdeflate;
   if it cannot be allocated, zlib decompresses instead).
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
                                        float *out /* [out] */,
                                        size_t capacity,
                                        size_t *count /* [out] */);

/* The largest singular value of layer `layer`'s W (its operator 2-norm)
   in *norm_out.  Status codes as nn_net_layer_singular_values (norm_out
   NULL: NN_ERR_INVALID_ARG).  Since 0.1. */
NN_API int nn_net_layer_spectral_norm(const nn_net *net, size_t layer,
                                      double *norm_out /* [out] */);

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
                              double lambda, int32_t *method_out /* [out] */,
                              double *mse_out /* [out] */);

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
NN_API int nn_pca_fit(nn_pca **out /* [out] */, const float *x, size_t rows,
                      size_t cols, size_t k, int32_t flags, double epsilon);

/* Free a PCA.  NULL is a no-op; a handle that is not a live nn_pca is
   left alone and the message says so (see "Handles").  A PCA refers to no
   other handle.  Since 0.1. */
NN_API void nn_pca_destroy(nn_pca *pca);

/* Project rows samples of x (rows * cols floats, cols =
   nn_pca_num_features) onto the components: out receives rows * k
   floats (k = nn_pca_num_components), whitened if the PCA was fitted
   with NN_PCA_WHITEN.  x is checked completely before out is written.
   Allocates a block of at most 512 rows of scratch per call.  out must
   not overlap x.
   Returns NN_OK; NN_ERR_INVALID_ARG (a pointer NULL, rows 0, out
   overlapping x);
   NN_ERR_SHAPE (rows * cols overflowing); NN_ERR_NONFINITE (a value of x
   not finite, or a row so far from the mean that its projection could
   overflow float); NN_ERR_NOMEM.  On failure out is unchanged.
   Since 0.1. */
NN_API int nn_pca_transform(const nn_pca *pca, const float *x, size_t rows,
                            float *out /* [out] */);

/* Map rows transformed samples y (rows * k floats) back to the input
   space: out receives rows * cols floats, y V^T + mu (whitening undone).
   Allocates nothing.  out must not overlap y.  Statuses as
   nn_pca_transform (NN_ERR_INVALID_ARG for out overlapping y,
   NN_ERR_NONFINITE for
   a non-finite y or one whose reconstruction could overflow float).  On
   failure out is unchanged.  Since 0.1. */
NN_API int nn_pca_inverse_transform(const nn_pca *pca, const float *y,
                                    size_t rows, float *out /* [out] */);

/* Input width cols and number of components k; 0 for a NULL pca or one
   that is not a live nn_pca (then setting nn_last_error).  Since 0.1. */
NN_API size_t nn_pca_num_features(const nn_pca *pca);
NN_API size_t nn_pca_num_components(const nn_pca *pca);

/* Copy the mean (cols doubles: it is kept in double so that data far
   from the origin is centred to float precision) and the components
   (k * cols floats, row j = component j, unit length, descending
   variance) into caller buffers; either may be NULL to skip it.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_params(const nn_pca *pca, double *mean /* [out] */,
                             float *components /* [out] */);

/* The variance along each component (k doubles: the eigenvalues of the
   sample covariance, descending, >= 0) and the fraction of the total
   variance (the covariance's trace) each explains (k doubles; 0 when the
   total is 0).  Either may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_variance(const nn_pca *pca, double *variance /* [out] */,
                               double *ratio /* [out] */);

/* The flags and epsilon given to nn_pca_fit.  Either pointer may be NULL.
   Returns NN_OK; NN_ERR_INVALID_ARG (pca NULL).  Since 0.1. */
NN_API int nn_pca_get_settings(const nn_pca *pca, int32_t *flags /* [out] */,
                               double *epsilon /* [out] */);

/* PCA files (docs/FORMAT.md, "PCA files"; installed as
   share/doc/nnfs/FORMAT.md), little-endian: magic
   89 4E 50 43 0D 0A 1A 0A, version 1, byte-order mark, total size,
   cols, k, flags, epsilon, total variance, the variances, the mean and
   the components, and a CRC-32 of everything before it.  Canonical:
   loading and saving again gives the same bytes, and a loaded PCA
   transforms bit for bit like the one saved.
   nn_pca_save writes atomically exactly as nn_net_save does (temporary
   file, fsync, rename, directory fsync; on failure the old file is
   intact; a FIFO, device, socket or directory at path is refused with
   NN_ERR_IO before anything is written).  nn_pca_load reads it back;
   *out receives a new handle, NULL on failure.  Truncated, extended,
   corrupt (CRC), foreign or inconsistent data (k outside [1, cols],
   unknown flags, non-finite values, variances negative or not
   descending, components not of unit length) gives NN_ERR_FORMAT.
   nn_pca_save_buffer writes the image into buf (capacity bytes) and its
   size into *size_out; with buf NULL it only reports the size; if
   capacity is too small it returns NN_ERR_SHAPE, writes nothing to buf
   and still sets *size_out.  nn_pca_load_buffer parses size bytes at buf.
   Returns NN_OK; NN_ERR_INVALID_ARG (a NULL pointer, path empty);
   NN_ERR_SHAPE (save_buffer only); NN_ERR_IO (files: naming the path,
   the system call and errno text); NN_ERR_FORMAT (load only);
   NN_ERR_NOMEM.  Since 0.1. */
NN_API int nn_pca_save(const nn_pca *pca, const char *path);
NN_API int nn_pca_load(nn_pca **out /* [out] */, const char *path);
NN_API int nn_pca_save_buffer(const nn_pca *pca, void *buf /* [out] */,
                              size_t capacity, size_t *size_out /* [out] */);
NN_API int nn_pca_load_buffer(nn_pca **out /* [out] */, const void *buf,
                              size_t size);

/*====== ONNX interchange ======*/

/* ONNX (https://onnx.ai) models of dense networks, for ONNX Runtime,
   PyTorch and the other tools that read or write them.  Built when the
   library was configured with protobuf-c (CMake option NNFS_ONNX, AUTO by
   default: Debian's libprotobuf-c-dev and protobuf-c-compiler); in a build
   without it the four functions exist and return NN_ERR_UNSUPPORTED with a
   message saying how to enable them.

   Export writes IR version 7, opset 13: per layer i a Gemm node
   "layer<i>.gemm" (Y = X W + b, W the float32 initializer
   "layer<i>.weight" [n_in][n_out], b "layer<i>.bias" [n_out]) followed by
   its activation node (Relu, Sigmoid, Tanh, Softmax with axis = -1; none
   for linear).  The graph input "input" is float [N, n_in] and the output
   "output" float [N, n_out], N a symbolic batch dimension.
   producer_name is "libnnfs", producer_version nn_version(), and the
   metadata entry "loss" names the loss the output layer pairs with
   ("cce" for softmax, "bce" for sigmoid, "mse" otherwise; the model does
   not record the loss it was trained with).  Layer options (dropout,
   L1/L2) are training settings and are not exported.

   Import reads a chain of such layers: what export writes, and what
   torch.onnx.export writes for an nn.Sequential of nn.Linear and
   nn.ReLU / nn.Sigmoid / nn.Tanh / nn.Softmax(dim=-1 or 1) / nn.Identity:
   Gemm (alpha = beta = 1, transA = 0, transB 0 or 1, C of [n_out] or
   [1, n_out] or absent), or MatMul by an initializer optionally followed by
   Add of one, then at most one activation node per layer; Identity nodes
   anywhere; one Flatten (axis 1) on the graph input, whose trailing
   dimensions must be known.  Default-domain opsets 7 to 21.  Each weight
   must be a float32 initializer held in the file (raw_data or float_data,
   finite).  The new net has the layers' weights bit for bit (export then
   import gives identical parameters), no layer options, and the dropout
   generator of nn_net_create(..., seed 0).  Anything else is
   NN_ERR_UNSUPPORTED with a message naming the node, its op and the
   attribute or input in question (e.g. "node 'Conv_0' (op Conv): operator
   not supported"); bytes that are not a well-formed ONNX model are
   NN_ERR_FORMAT.  The input is untrusted: at most NN_ONNX_MAX_BYTES are
   read, the protobuf decoder's allocations are capped at 16 MiB plus twice
   the input's size (going over is NN_ERR_FORMAT), a graph of more than
   NN_ONNX_MAX_NODES nodes or initializers is refused (NN_ERR_FORMAT), IR
   versions 3 to 11 are read, and every size is checked against the
   NN_MAX_* limits before the net is allocated.  Every allocation goes
   through nn_set_allocator's hook. */
#define NN_ONNX_MAX_BYTES ((size_t)1 << 31)
#define NN_ONNX_MAX_NODES 4096u

/* Export net to path, atomically exactly as nn_net_save (temporary file,
   fsync, rename, directory fsync; on failure the old file is intact).
   Returns NN_OK; NN_ERR_INVALID_ARG (net or path NULL, path empty);
   NN_ERR_NOMEM; NN_ERR_IO; NN_ERR_UNSUPPORTED (built without ONNX).
   Since 0.2. */
NN_API int nn_net_export_onnx(const nn_net *net, const char *path);

/* The same into memory, with nn_net_save_buffer's conventions: buf
   (capacity bytes) [out] receives the model and *size_out [out] its size;
   with buf NULL only the size is reported; a capacity too small gives
   NN_ERR_SHAPE, writes nothing to buf and still sets *size_out.
   Returns NN_OK; NN_ERR_INVALID_ARG (net or size_out NULL); NN_ERR_SHAPE;
   NN_ERR_NOMEM; NN_ERR_UNSUPPORTED.  Since 0.2. */
NN_API int nn_net_export_onnx_buffer(const nn_net *net, void *buf /* [out] */,
                                     size_t capacity,
                                     size_t *size_out /* [out] */);

/* Import the ONNX model at path (nn_net_import_onnx) or in the size bytes
   at buf (read only, not kept).  *out [out] receives a new net (free it
   with nn_net_destroy), NULL on failure.
   Returns NN_OK; NN_ERR_INVALID_ARG (out, path or buf NULL, path empty);
   NN_ERR_IO (file: naming the path, the call and errno text);
   NN_ERR_FORMAT (not a well-formed ONNX model: truncated, corrupt, a
   required field missing, over a limit, a non-finite weight);
   NN_ERR_UNSUPPORTED (a well-formed model libnnfs cannot represent, or a
   build without ONNX); NN_ERR_SHAPE (layer sizes over the NN_MAX_*
   limits); NN_ERR_NOMEM.  Since 0.2. */
NN_API int nn_net_import_onnx(nn_net **out /* [out] */, const char *path);
NN_API int nn_net_import_onnx_buffer(nn_net **out /* [out] */, const void *buf,
                                     size_t size);

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
   The blocks are tasks that the calling thread and the pool's threads
   claim one at a time, so the caller runs those that no thread has taken
   (a sleeping or descheduled worker does not hold a step up); which
   thread runs a task does not change its result.
   NN_PARALLEL_AUTO uses one thread for steps of fewer than 2^20
   multiply-adds in the forward (batch x parameters); the BLAS's threads
   from 2^31 (products that large OpenBLAS splits well itself); replicas
   between when every thread gets at least 64 rows, else the BLAS's threads
   for 2^26 or more, else one thread.  Under NN_PARALLEL_AUTO the optimizer
   update is split from 2^15 parameters after a forward or backward that
   chose replicas; under NN_PARALLEL_REPLICAS always.  The thresholds were measured on 2 cores (README,
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

/*====== Names ======*/

/* The lowercase name of an NN_ACT_* value ("linear", "relu", "sigmoid",
   "tanh", "softmax"), of an NN_LOSS_* value ("cce", "bce", "mse", "mae")
   or of an NN_OPT_* optimizer kind ("sgd", "adagrad", "rmsprop", "adam"):
   the spellings the nnfs program and the Python binding accept.  NULL for
   a value that is not one of them.  The text is static (never freed) and
   the calls are safe from any thread.  The values of each of these enums
   run from 0 without gaps, so a loop from 0 until the first NULL lists
   every value the loaded library knows (which may be more than the header
   a program was compiled with), and finding a name in that loop is the
   name -> value parse:
       for (i = 0; nn_activation_name(i) != NULL; i++)
           if (strcmp(nn_activation_name(i), name) == 0) act = i;
   Since 0.2. */
NN_API const char *nn_activation_name(int32_t act);
NN_API const char *nn_loss_name(int32_t loss);
NN_API const char *nn_optimizer_name(int32_t kind);

#ifdef __cplusplus
}
#endif

#endif /* NNFS_H */
