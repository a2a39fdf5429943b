/*
 * nntest.h - the libnnfs test framework (libuv style: one runner, a test
 * per function, typed asserts that print file and line).
 *
 *   NN_TEST(name) { ... }      defines and registers a test
 *   NNT_TRUE(c) NNT_EQ_INT(a, b) NNT_EQ_SIZE(a, b) NNT_EQ_U64(a, b)
 *   NNT_EQ_STR(a, b) NNT_NEAR(a, b, tol) NNT_LE(a, b)
 *   NNT_OK(call)               call returns NN_OK (prints nn_last_error)
 *   NNT_STATUS(call, code)     call returns code and leaves a message
 *
 * A failed assert prints "file:line: ..." and ends the current test (the
 * runner goes on with the next one).  Every test reads the run's seed with
 * nnt_seed(); the runner prints it and accepts --seed N.
 */
#ifndef NNTEST_H
#define NNTEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nnfs.h"

typedef void (*nnt_fn)(void);
void nnt_register(const char *name, nnt_fn fn, const char *file);

#define NN_TEST(name)                                                   \
    static void nnt_test_##name(void);                                  \
    __attribute__((constructor)) static void nnt_reg_##name(void)       \
    {                                                                   \
        nnt_register(#name, nnt_test_##name, __FILE__);                 \
    }                                                                   \
    static void nnt_test_##name(void)

/* Failure reporting; nnt_fail does not return. */
_Noreturn void nnt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nnt_pass(void);            /* counts one passed check */
uint64_t nnt_seed(void);        /* the run's seed (printed by the runner) */
const char *nnt_tmpdir(void);   /* a fresh directory for this test */
const char *nnt_datadir(void);  /* tests/data in the source tree */

#define NNT_TRUE(c)                                                     \
    do { if (c) nnt_pass();                                             \
         else nnt_fail(__FILE__, __LINE__, "expected %s", #c); } while (0)

#define NNT_EQ_INT(a, b)                                                \
    do { long long nnt_a = (long long)(a), nnt_b = (long long)(b);      \
         if (nnt_a == nnt_b) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld",    \
                       #a, #b, nnt_a, nnt_b); } while (0)

#define NNT_EQ_SIZE(a, b)                                               \
    do { size_t nnt_a = (size_t)(a), nnt_b = (size_t)(b);               \
         if (nnt_a == nnt_b) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__, "%s == %s: %zu != %zu",      \
                       #a, #b, nnt_a, nnt_b); } while (0)

#define NNT_EQ_U64(a, b)                                                \
    do { unsigned long long nnt_a = (unsigned long long)(a),            \
                            nnt_b = (unsigned long long)(b);            \
         if (nnt_a == nnt_b) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__,                              \
                       "%s == %s: 0x%016llx != 0x%016llx",              \
                       #a, #b, nnt_a, nnt_b); } while (0)

#define NNT_EQ_STR(a, b)                                                \
    do { const char *nnt_a = (a), *nnt_b = (b);                         \
         if (nnt_a && nnt_b && strcmp(nnt_a, nnt_b) == 0) nnt_pass();   \
         else nnt_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"",\
                       #a, #b, nnt_a ? nnt_a : "(null)",                \
                       nnt_b ? nnt_b : "(null)"); } while (0)

#define NNT_NEAR(a, b, tol)                                             \
    do { double nnt_a = (double)(a), nnt_b = (double)(b),               \
                nnt_t = (double)(tol);                                  \
         double nnt_d = nnt_a > nnt_b ? nnt_a - nnt_b : nnt_b - nnt_a;  \
         if (nnt_d <= nnt_t) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__,                              \
                       "|%s - %s| <= %s: |%.9g - %.9g| = %.3g > %.3g",  \
                       #a, #b, #tol, nnt_a, nnt_b, nnt_d, nnt_t);       \
    } while (0)

#define NNT_LE(a, b)                                                    \
    do { double nnt_a = (double)(a), nnt_b = (double)(b);               \
         if (nnt_a <= nnt_b) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__, "%s <= %s: %.9g > %.9g",     \
                       #a, #b, nnt_a, nnt_b); } while (0)

#define NNT_OK(call)                                                    \
    do { int nnt_s = (call);                                            \
         if (nnt_s == NN_OK) nnt_pass();                                \
         else nnt_fail(__FILE__, __LINE__, "%s: status %d (%s): %s",    \
                       #call, nnt_s, nn_strerror(nnt_s),                \
                       nn_last_error()); } while (0)

/* The call must return `code` and leave a non-empty message. */
#define NNT_STATUS(call, code)                                          \
    do { int nnt_s = (call), nnt_c = (code);                            \
         if (nnt_s != nnt_c)                                            \
             nnt_fail(__FILE__, __LINE__, "%s: status %d (%s), "        \
                      "expected %d (%s); message: %s", #call, nnt_s,    \
                      nn_strerror(nnt_s), nnt_c, nn_strerror(nnt_c),    \
                      nn_last_error());                                 \
         else if (nnt_c != NN_OK && nn_last_error()[0] == '\0')         \
             nnt_fail(__FILE__, __LINE__, "%s: no error message", #call);\
         else nnt_pass(); } while (0)

/* The last error message contains the given text. */
#define NNT_MSG_HAS(text)                                               \
    do { if (strstr(nn_last_error(), (text)) != NULL) nnt_pass();       \
         else nnt_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"",\
                       nn_last_error(), (text)); } while (0)

#endif /* NNTEST_H */
