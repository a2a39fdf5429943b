/*
 * internal.h - what the translation units of libnnfs share.  Nothing here
 * is exported from libnnfs.so (hidden visibility plus the version script);
 * the test runner links the static archive to reach it.
 */
#ifndef NNFS_INTERNAL_H
#define NNFS_INTERNAL_H

#include "nnfs.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#  define NN__PRINTF(f, a) __attribute__((format(printf, f, a)))
#  define NN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define NN__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#  define NN__PRINTF(f, a)
#  define NN__UNLIKELY(x) (x)
#  define NN__LIKELY(x) (x)
#endif

/*====== Enum counts ======*/

/* How many values each public enum that indexes a table has (values run
   from 0 to count - 1).  Range checks compare against these, and every
   table indexed by one of these enums carries a _Static_assert against
   its count (the ggml pattern): appending a value to an enum in nnfs.h
   means raising its count here, and the build then stops at each table
   that needs a new entry. */
#define NN__N_ACT 5           /* NN_ACT_* */
#define NN__N_LOSS 4          /* NN_LOSS_* */
#define NN__N_OPT 4           /* NN_OPT_SGD .. NN_OPT_ADAM */
#define NN__N_OPT_SETTING 9   /* NN_OPT_LEARNING_RATE .. _CURRENT_... */
#define NN__N_TRAIN_SETTING 10 /* NN_TRAIN_LOSS .. NN_TRAIN_VAL_X_COLS */
_Static_assert(NN_ACT_SOFTMAX == NN__N_ACT - 1, "NN__N_ACT");
_Static_assert(NN_LOSS_MAE == NN__N_LOSS - 1, "NN__N_LOSS");
_Static_assert(NN_OPT_ADAM == NN__N_OPT - 1, "NN__N_OPT");
_Static_assert(NN_OPT_CURRENT_LEARNING_RATE == NN__N_OPT_SETTING - 1,
               "NN__N_OPT_SETTING");
_Static_assert(NN_TRAIN_VAL_X_COLS == NN__N_TRAIN_SETTING - 1,
               "NN__N_TRAIN_SETTING");

/* Count the elements of an initializer list of T, for a _Static_assert
   on a table written inside a struct initializer. */
#define NN__COUNT(T, ...) (sizeof((T[]){__VA_ARGS__}) / sizeof(T))

/*====== Errors (error.c) ======*/

/* Format a message into this thread's error buffer and return status.
   Never allocates, so it works when memory is exhausted. */
int nn__fail(int status, const char *fmt, ...) NN__PRINTF(2, 3);

/* One-line exits in the zstd RETURN_ERROR_IF style.  The message should
   name the public function, the argument and the numbers. */
#define NN__CHECK(cond, status, ...)                                    \
    do {                                                                \
        if (NN__UNLIKELY(cond)) {                                       \
            /* return the status itself, not nn__fail's result, so     \
               static analyzers see the failure path return non-zero */ \
            (void)nn__fail((status), __VA_ARGS__);                      \
            return (status);                                            \
        }                                                               \
    } while (0)
#define NN__CHECK_PTR(p, fn) \
    NN__CHECK((p) == NULL, NN_ERR_INVALID_ARG, "%s: %s is NULL", (fn), #p)

/*====== Handle tags (error.c; SQLite's sqlite3SafetyCheckOk) ======*/

/* The first member of every handle struct (nn_net, nn_optimizer,
   nn_trainer, nn_pca) is a uint64_t tag: the live tag of its type from
   creation to destroy, then the dead tag of that type (live ^
   NN__TAG_DEAD) until the memory is freed.  Being first, it sits at the
   same offset in every handle, so a handle of another type passed through
   an untyped FFI is read at the right place.  Handles come from
   nn__malloc, so the tag is 8-byte aligned. */
#define NN__TAG_NET       0x3154454e73666e6eull  /* "nnfsNET1" */
#define NN__TAG_OPTIMIZER 0x3154504f73666e6eull  /* "nnfsOPT1" */
#define NN__TAG_TRAINER   0x314e525473666e6eull  /* "nnfsTRN1" */
#define NN__TAG_PCA       0x3141435073666e6eull  /* "nnfsPCA1" */
#define NN__TAG_DEAD      0xdeadbeefdeadbeefull  /* xor'ed in on destroy */

/* NN_OK if h is NULL (the caller's NULL check reports that) or a live
   handle of the type tagged `tag`; otherwise NN_ERR_MISUSE with the
   message "fn: arg is not a live nn_net (it is an nn_optimizer)", "...
   (it was destroyed)", "... (it is a destroyed nn_pca)" or "... (no
   libnnfs handle tag at that address)".  Reads 8 bytes at h. */
int nn__handle_check(const void *h, uint64_t tag, const char *arg,
                     const char *fn);
/* The one-line entry check of every public function taking a handle;
   _OR returns `ret` instead (getters returning a size, void destroys). */
#define NN__CHECK_HANDLE_OR(h, tag, arg, fn, ret)                       \
    do {                                                                \
        if (NN__UNLIKELY(nn__handle_check((h), (tag), (arg), (fn)) !=   \
                         NN_OK))                                        \
            return ret;                                                 \
    } while (0)
#define NN__CHECK_HANDLE(h, tag, arg, fn) \
    NN__CHECK_HANDLE_OR(h, tag, arg, fn, NN_ERR_MISUSE)
/* The tag written by a destroy just before the memory is freed: a
   second destroy or a later call then reports "was destroyed". */
#define NN__KILL_HANDLE(h) ((h)->tag ^= NN__TAG_DEAD)

/*====== Memory (alloc.c) ======*/

/* Every allocation of the library goes through these.  Blocks are aligned
   to NN__ALIGN bytes.  nn__malloc(0) returns a valid unique block.
   Failure returns NULL (the caller reports NN_ERR_NOMEM). */
#define NN__ALIGN 64
void *nn__malloc(size_t size);
void *nn__calloc(size_t count, size_t size);  /* overflow-checked */
void nn__free(void *p);                       /* NULL is a no-op */
/* Number of blocks currently allocated by the library. */
long nn__alloc_live(void);

/* Overflow-checked size arithmetic: return 0 on overflow, else 1. */
static inline int nn__mul_ok(size_t a, size_t b, size_t *r)
{
    if (b != 0 && a > SIZE_MAX / b) return 0;
    *r = a * b;
    return 1;
}
static inline int nn__add_ok(size_t a, size_t b, size_t *r)
{
    if (a > SIZE_MAX - b) return 0;
    *r = a + b;
    return 1;
}

/* 1 if the byte ranges [a, a + a_bytes) and [b, b + b_bytes) share a
   byte.  Compared as integers: the caller's buffers need not belong to
   one array, where pointer comparison would be undefined. */
static inline int nn__overlap(const void *a, size_t a_bytes, const void *b,
                              size_t b_bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (a_bytes == 0 || b_bytes == 0) return 0;
    return x < y ? y - x < a_bytes : x - y < b_bytes;
}

/*====== Little-endian encoding (io.c, pca.c file images) ======*/

static inline uint32_t nn__rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t nn__rd64(const unsigned char *p)
{
    return (uint64_t)nn__rd32(p) | (uint64_t)nn__rd32(p + 4) << 32;
}

static inline void nn__wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void nn__wr64(unsigned char *p, uint64_t v)
{
    nn__wr32(p, (uint32_t)v);
    nn__wr32(p + 4, (uint32_t)(v >> 32));
}

/* Floats cross as bit patterns: memcpy is the defined way to reinterpret,
   and IEEE binary32/64 share the host's integer byte order on every
   platform C11 + POSIX runs on. */
static inline uint32_t nn__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float nn__bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint64_t nn__f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double nn__bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* |x| as bits: the integer the amax reductions compare (see "amax" in
   kernels/kernels.h) */
static inline uint32_t nn__absbits(float x)
{
    return nn__f32_bits(x) & 0x7fffffffu;
}

/*====== Random numbers (rng.c) ======*/

/* xoshiro256** (Blackman and Vigna), state seeded by splitmix64 from a
   64-bit seed.  All arithmetic is integer or correctly rounded IEEE
   double, compiled without FP contraction, so every platform gives the
   same bits. */
struct nn__rng { uint64_t s[4]; };
void nn__rng_seed(struct nn__rng *r, uint64_t seed);
uint64_t nn__rng_next(struct nn__rng *r);
double nn__rng_uniform(struct nn__rng *r);     /* [0, 1), 53 bits */
float nn__rng_uniform_f(struct nn__rng *r);    /* [0, 1), 24 bits */
double nn__rng_gauss(struct nn__rng *r);       /* N(0, 1), Box-Muller */
uint64_t nn__rng_below(struct nn__rng *r, uint64_t bound); /* [0, bound) */
/* Deterministic double log/sin/cos (pure arithmetic, no libm), used where
   results must be identical everywhere (noise, orthogonal init). */
double nn__det_log(double x);                  /* x > 0 */
void nn__det_sincos(double x, double *s, double *c);

/*====== BLAS (dense.c is the only file that includes cblas.h) ======*/

/* Row-major products on float32.  Every dimension must be <= INT_MAX;
   they return NN_ERR_SHAPE (with a message) otherwise, before calling the
   BLAS, so the BLAS never sees an illegal argument. */
/* Z[batch][n_out] = X[batch][n_in] W[n_in][n_out] */
int nn__gemm_fwd(const float *x, const float *w, float *z, size_t batch,
                 size_t n_in, size_t n_out);
/* dW[n_in][n_out] = alpha X^T dZ + beta dW  (alpha 1, beta 0 in backward) */
int nn__gemm_dw(const float *x, const float *dz, float *dw, size_t batch,
                size_t n_in, size_t n_out, float alpha, float beta);
/* dW[m][n_out] = alpha X^T dZ + beta dW for a block of m columns of X
   (row stride ldx): the rows of dW that one replica forms (parallel.h). */
int nn__gemm_dw_ld(const float *x, size_t ldx, const float *dz, float *dw,
                   size_t batch, size_t m, size_t n_out, float alpha,
                   float beta);
/* dX[batch][n_in] = dZ[batch][n_out] W^T */
int nn__gemm_dx(const float *dz, const float *w, float *dx, size_t batch,
                size_t n_in, size_t n_out);

/* C[cols][cols] = X^T X for X[rows][cols], upper triangle only (the
   entries below the diagonal are left as they were); used by pca.c and
   ridge.c (A^T A of the readout's normal equations). */
int nn__syrk_xtx(const float *x, float *c, size_t rows, size_t cols);
/* dense.c: the address of the cblas_sgemm libnnfs calls (blas.c asks
   which library it lives in) */
uintptr_t nn__sgemm_address(void);

/* blas.c: what BLAS is linked, its core, threads.  No cblas.h there. */
const char *nn__blas_name(void);
const char *nn__blas_core(void);
const char *nn__blas_core_choice(void);
int nn__blas_set_threads(int n);   /* 0 ok, -1 unsupported */
int nn__blas_get_threads(void);    /* 0 unknown */

/*====== Element-wise kernels (activations.c, losses.c, update.c) ======*/

/* "amax" results: the bit pattern of the largest |value| seen, as a
   uint32.  Ordering the bits of non-negative floats orders the floats, and
   any NaN or infinity gives a value >= NN__NONFINITE_BITS, so one integer
   max reduction (which vectorizes without -ffast-math) yields both the
   magnitude bound and the finiteness check. */
#define NN__NONFINITE_BITS 0x7f800000u
static inline float nn__amax_to_float(uint32_t bits)
{
    return nn__bits_f32(bits);
}

/* Every kernel works on row-major blocks of rows x cols floats with row
   stride cols.  Pointers need no particular alignment.  Loss kernels
   return the mean loss as a double and, if g is not NULL, write the
   gradient of that mean with respect to p into g. */
typedef uint32_t (*nn__bias_act_fn)(float *z, const float *b, size_t rows,
                                    size_t cols);
typedef uint32_t (*nn__act_bwd_fn)(float *dz, const float *a, float *db,
                                   size_t rows, size_t cols);
typedef double (*nn__loss_fn)(const float *p, const float *t, float *g,
                              size_t rows, size_t cols);
typedef double (*nn__loss_labels_fn)(const float *p, const int32_t *labels,
                                     float *g, size_t rows, size_t cols);

struct nn__kernels {
    const char *name;                 /* "generic", "avx2", "avx512" */

    /* z = act(z + b) row by row, in place (z holds X W on entry).
       Returns the amax of the result.  Indexed by NN_ACT_*. */
    nn__bias_act_fn bias_act[NN__N_ACT];

    /* Backward through an activation, in place: dz holds dL/da on entry
       and dL/dz on return, computed from the activation's output a
       (relu: a > 0; sigmoid: a (1 - a); tanh: 1 - a^2; linear: 1;
       softmax: a_j (g_j - sum_k g_k a_k) per row).  db (cols floats) gets
       the column sums of dL/dz (the bias gradient).  Returns the amax of
       dz.  Indexed by NN_ACT_*; a is unused for linear. */
    nn__act_bwd_fn act_bwd[NN__N_ACT];

    /* Loss of p against targets t, indexed by NN_LOSS_*; g = dL/dp. */
    nn__loss_fn loss[NN__N_LOSS];
    /* CCE against labels; g = dL/dp (zero except at the label). */
    nn__loss_labels_fn cce_labels;
    /* Softmax output with CCE: g = (p - t) / rows is dL/dz directly. */
    nn__loss_fn softmax_cce;
    nn__loss_labels_fn softmax_cce_labels;

    /* amax of n floats. */
    uint32_t (*amax)(const float *x, size_t n);
    /* dst = src, returning the amax of src (one pass). */
    uint32_t (*copy_amax)(float *dst, const float *src, size_t n);
    /* w -= lr * g, returning the amax of the new w. */
    uint32_t (*sgd)(float *w, const float *g, size_t n, float lr);
};

/* Training kernels (train_kernels.c; the table in kernels.c): optimizer
   updates, regularization, dropout.  Updates return the amax of the new
   weights. */
struct nn__train_kernels {
    uint32_t (*momentum)(float *w, float *v, const float *g, size_t n,
                         float lr, float mu);
    uint32_t (*adagrad)(float *w, float *c, const float *g, size_t n,
                        float lr, float eps);
    /* the decay rates come as 1 - rho, 1 - beta computed in double: in
       float, 1.0f - 0.999f is 1.3e-5 off 0.001 */
    uint32_t (*rmsprop)(float *w, float *c, const float *g, size_t n,
                        float lr, float one_rho, float eps);
    uint32_t (*adam)(float *w, float *m, float *v, const float *g, size_t n,
                     float lr, float one_b1, float one_b2, float c1, float c2,
                     float eps);
    /* g += l1 sign(w) + l2x2 w; returns amax of g */
    uint32_t (*regularize)(float *g, const float *w, size_t n, float l1,
                           float l2x2);
    /* sum l1 |w| + l2 w^2 */
    double (*penalty)(const float *w, size_t n, double l1, double l2);
    /* d = a * mask; returns amax of d */
    uint32_t (*dropout_apply)(float *d, const float *a, const float *mask,
                              size_t n);
    /* g *= mask */
    void (*dropout_back)(float *g, const float *mask, size_t n);
};
extern const struct nn__train_kernels nn__train_kernels_generic;
#if defined(NNFS_HAVE_X86_KERNELS)
extern const struct nn__train_kernels nn__train_kernels_avx2;
extern const struct nn__train_kernels nn__train_kernels_avx512;
#endif

/* The tables compiled in (cpu.c decides which one runs). */
extern const struct nn__kernels nn__kernels_generic;
#if defined(NNFS_HAVE_X86_KERNELS)
extern const struct nn__kernels nn__kernels_avx2;
extern const struct nn__kernels nn__kernels_avx512;
#endif

/* cpu.c, the one selector: the tables in use, for the instruction set
   chosen once (thread-safe) from CPUID/XGETBV, capped by NNFS_ARCH. */
const struct nn__kernels *nn__kernels(void);
const struct nn__train_kernels *nn__train_kernels(void);
/* The table for one ISA if this build has it and this machine can run it,
   else NULL.  isa: 0 generic, 1 avx2, 2 avx512. */
const struct nn__kernels *nn__kernels_for(int isa);
/* Space-separated names of the tables compiled in. */
const char *nn__kernels_built(void);

/*====== Network (net.c) ======*/

struct nn__layer {
    size_t n_in, n_out;
    int32_t act;
    float *w;        /* [n_in][n_out] */
    float *b;        /* [n_out] */
    float *dw;       /* gradients of the last backward */
    float *db;
    uint32_t pmax;   /* amax over w and b, kept exact by every writer */
    double gbound;   /* upper bound on |dw| and |db| of the last backward */
    /* Regularization and dropout (used by the training features; saved
       in model files from format version 1 on).  0 = off. */
    double l1_w, l2_w, l1_b, l2_b;
    float dropout;   /* rate of units dropped after the activation */
    /* Where this layer's blocks sit in a forward cache slot, in floats per
       sample (times batch gives the offset): its input, its activation
       output, and with dropout the mask (0 or 1/keep) and the dropped
       output that the next layer reads. */
    size_t off_in, off_a, off_mask, off_d;
};

struct nn_net {
    uint64_t tag;        /* NN__TAG_NET: first member, see handle tags */
    size_t n_layers;
    struct nn__layer *layers;
    size_t n_params;
    size_t width_sum;    /* sum of the layers' n_out */
    size_t width_max;    /* max over sizes, inputs included */
    float *params;       /* one block: every layer's w then b */
    float *grads;        /* one block, same layout as params */

    /* Training cache, double-buffered: a forward writes into the slot that
       is not current and makes it current only on success, so a failing
       forward leaves the previous one usable.  Each slot holds the copy of
       x then every layer's output, batch rows each. */
    float *cache[2];
    size_t cache_cap[2];  /* floats each slot holds */
    size_t cache_row;     /* floats per sample in a slot (see off_*) */
    int cur;              /* slot of the last successful forward */
    size_t batch;         /* its batch; 0 = no usable forward */
    uint32_t *act_max;    /* [n_layers + 1] amax of x and of each output,
                             for the last successful forward */
    uint32_t *act_max_next;

    /* Backward scratch: dL/dz of every layer (batch x width_sum), and
       per-layer bias gradients and amax of dz before they are published. */
    float *dz;
    size_t dz_cap;
    float *db_scratch;    /* width_sum floats */
    float *gcheck;        /* n_params floats (grads' layout): a gradient
                             computed exactly when its bound cannot prove
                             it finite; taken the first time that happens
                             (or up front by nn_trainer_fit's reserve) */
    uint32_t *dz_max;     /* [n_layers] */
    int has_grads;        /* a backward has succeeded */

    /* Inference scratch: two blocks of NN__PREDICT_ROWS x width_max. */
    float *pred;

    /* Generator for dropout masks (saved with the model so a run resumes
       exactly). */
    struct nn__rng rng;

    /* Scratch of in-process replicas (parallel.h), NULL until used. */
    struct nn__par_net *par;
};

#define NN__PREDICT_ROWS 256

/* net.c: grow all of net's training and inference scratch for batches of
   up to `batch` rows, all or nothing (NN_ERR_NOMEM changes nothing). */
int nn__net_reserve(nn_net *net, size_t batch, const char *fn);
/* nn_forward on the rows x[rows[i]] (i < batch), gathered in its copy;
   errors name fn. */
int nn__forward_rows(nn_net *net, const float *x, const size_t *rows,
                     size_t batch, float *out, const char *fn);

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

/*====== Model files (io.c) ======*/

/* The operating-system calls the library makes for files, as a table the
   tests can replace to inject failures (SQLite VFS style).  Each returns
   what the POSIX call returns and sets errno on failure.  Names are taken
   relative to a directory descriptor (the *at calls; AT_FDCWD for a plain
   path), so a save never builds a path longer than the caller's. */
struct nn__io {
    int (*open)(int dirfd, const char *path, int flags, unsigned mode);
    long (*read)(int fd, void *buf, size_t n);
    long (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*close)(int fd);
    /* renameat(dirfd, from, dirfd, to): both names in one directory */
    int (*rename)(int dirfd, const char *from, const char *to);
    int (*unlink)(int dirfd, const char *path);   /* unlinkat(..., 0) */
    int (*fstat_size)(int fd, uint64_t *size);  /* st_size of a regular file */
    /* fstatat(dirfd, path, AT_SYMLINK_NOFOLLOW): *mode gets st_mode */
    int (*lstat_mode)(int dirfd, const char *path, unsigned *mode);
};
/* The table in use; tests may overwrite its members (and restore them). */
extern struct nn__io nn__io;
/* The default table (the real system calls). */
extern const struct nn__io nn__io_default;

/* Read all of path (a regular file of at most max_bytes) into a new
   nn__malloc block; buf_out and size_out receive it (free with nn__free).
   Statuses and messages as nn_net_load's (NN_ERR_IO, NN_ERR_FORMAT for an
   oversized or changing file, NN_ERR_NOMEM); fn names the caller. */
int nn__read_file(const char *path, uint64_t max_bytes,
                  unsigned char **buf_out, size_t *size_out, const char *fn);

/* Write an image of size bytes to path atomically (temporary file in the
   same directory, fsync, rename, directory fsync; see nn_net_save):
   write_image(ctx, buf) fills the size-byte buffer.  Statuses and
   messages as nn_net_save's (path NULL or empty: NN_ERR_INVALID_ARG;
   NN_ERR_NOMEM; NN_ERR_IO); fn names the caller. */
typedef void (*nn__image_writer)(const void *ctx, unsigned char *buf);
int nn__save_image(size_t size, nn__image_writer write_image,
                   const void *ctx, const char *path, const char *fn);

/* idx.c: parse an IDX image (plain or gzip).  *data receives a pointer to
   the count * sample_size payload bytes: inside buf for a plain file, or
   a new block in *owned (free with nn__free) for gzip. */
int nn__idx_parse(const unsigned char *buf, size_t size,
                  const unsigned char **data, unsigned char **owned,
                  size_t *count, size_t *sample_size, uint32_t *ndims,
                  const char *fn, const char *name);

/* Largest file nn_net_load will read (a model at every limit plus room). */
#define NN__MAX_FILE_BYTES ((uint64_t)NN_MAX_PARAMS * 16u + (1u << 22))

/* Parse a model image (shared by nn_net_load and nn_net_load_buffer). */
int nn__net_parse(nn_net **out, const unsigned char *buf, size_t size,
                  const char *fn);
/* Exact size of the image of net. */
size_t nn__net_image_size(const nn_net *net);
/* Write the image of net into buf (nn__net_image_size bytes). */
void nn__net_image_write(const nn_net *net, unsigned char *buf);
/* CRC-32 of n bytes (zlib's crc32, fed in NN__CRC_CHUNK pieces so any
   size_t works); crc is the running value, 0 to start. */
#define NN__CRC_CHUNK ((size_t)1 << 20)
uint32_t nn__crc32(uint32_t crc, const void *buf, size_t n);

/* net.c helpers used by io.c: allocate a network with the given shape and
   zeroed parameters (no RNG draw).  sizes/acts validated by the caller. */
int nn__net_alloc(nn_net **out, size_t n_layers, const size_t *sizes,
                  const int32_t *acts, const char *fn);
/* Validate a shape (layer count, widths, activations, parameter total);
   the message names fn. */
int nn__net_check_shape(size_t n_layers, const size_t *sizes,
                        const int32_t *acts, const char *fn);
/* The layer-index check every per-layer call shares (message names fn). */
int nn__check_layer(const nn_net *net, size_t layer, const char *fn);
/* init.c: draw layer l's weights with scheme/gain from r, zero its biases
   (pmax is the caller's to refresh). */
void nn__init_layer(struct nn__layer *l, int32_t scheme, double gain,
                    struct nn__rng *r);

/* init.c: w[n_in][n_out] <- gain * a Haar-orthogonal draw from r
   (orthonormal columns if n_in >= n_out, rows otherwise), by
   LAPACKE_sgeqrf + sorgqr.  fn names the caller in messages. */
int nn__orthogonal_draw(float *w, size_t n_in, size_t n_out, double gain,
                        struct nn__rng *r, const char *fn);

/* Recompute derived state (every layer's pmax, the cache layout for the
   dropout rates) after parameters and options were written wholesale. */
void nn__net_refresh_pmax(nn_net *net);

#endif /* NNFS_INTERNAL_H */
