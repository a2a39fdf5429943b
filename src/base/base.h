/*
 * base.h - the base layer every module of libnnfs includes: enum counts,
 * errors and handle tags (error.c), allocation and overflow-checked sizes
 * (alloc.c), little-endian and float-bit helpers, and the deterministic
 * random numbers (rng.c).  It includes nothing of libnnfs but nnfs.h.
 *
 * Nothing declared in a module header of src/ is exported from
 * libnnfs.so (hidden visibility plus the version script); the white-box
 * tests link the static archive to reach it (tests/internal.h).
 */
#ifndef NNFS_BASE_H
#define NNFS_BASE_H

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
#define NN__N_TRAIN_SETTING 11 /* NN_TRAIN_LOSS .. NN_TRAIN_FIRST_EPOCH */
_Static_assert(NN_ACT_SOFTMAX == NN__N_ACT - 1, "NN__N_ACT");
_Static_assert(NN_LOSS_MAE == NN__N_LOSS - 1, "NN__N_LOSS");
_Static_assert(NN_OPT_ADAM == NN__N_OPT - 1, "NN__N_OPT");
_Static_assert(NN_OPT_CURRENT_LEARNING_RATE == NN__N_OPT_SETTING - 1,
               "NN__N_OPT_SETTING");
_Static_assert(NN_TRAIN_FIRST_EPOCH == NN__N_TRAIN_SETTING - 1,
               "NN__N_TRAIN_SETTING");

/* Count the elements of an initializer list of T, for a _Static_assert
   on a table written inside a struct initializer. */
#define NN__COUNT(T, ...) (sizeof((T[]){__VA_ARGS__}) / sizeof(T))
/* The spelling of a macro's value as a string literal (NN__ISA's name,
   the version numbers). */
#define NN__STR2(x) #x
#define NN__STR(x) NN__STR2(x)

/*====== Errors (error.c) ======*/

/* Format a message into this thread's error buffer and return status.
   Never allocates, so it works when memory is exhausted. */
int nn__fail(int status, const char *fmt, ...) NN__PRINTF(2, 3);
/* Put a prefix (fmt, ...) before the message a failed callee left, first
   removing the callee's own "strip_fn: " (strip_fn may be NULL): the
   message is kept whole, up to the buffer's end.  Returns status. */
int nn__fail_wrap(int status, const char *strip_fn, const char *fmt, ...)
    NN__PRINTF(3, 4);

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
/* Pass a failed status up unchanged (zstd's FORWARD_IF_ERROR); the
   callee has already written the message. */
#define NN__FORWARD(expr)                                               \
    do {                                                                \
        int nn__st = (expr);                                            \
        if (NN__UNLIKELY(nn__st != NN_OK)) return nn__st;               \
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

/*====== Little-endian encoding and float bits (file images, kernels) ======*/

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

/* |x| as bits: the integer the amax reductions compare */
static inline uint32_t nn__absbits(float x)
{
    return nn__f32_bits(x) & 0x7fffffffu;
}

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
static inline double nn__amaxd(uint32_t bits)
{
    return (double)nn__amax_to_float(bits);
}
/* The larger of two amax results (or any two uint32). */
static inline uint32_t nn__umax(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
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

#endif /* NNFS_BASE_H */
