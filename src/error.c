/*
 * error.c - status strings and the thread-local last-error message.
 */
#include "internal.h"

#include <stdio.h>

/* One table of error strings, indexed by status (zstd style). */
static const char *const nn__status_text[] = {
    "no error",                                   /* NN_OK */
    "invalid argument",                           /* NN_ERR_INVALID_ARG */
    "sizes do not agree or exceed a limit",       /* NN_ERR_SHAPE */
    "out of memory",                              /* NN_ERR_NOMEM */
    "input/output error",                         /* NN_ERR_IO */
    "file truncated, corrupt or of another format", /* NN_ERR_FORMAT */
    "NaN or infinity met",                        /* NN_ERR_NONFINITE */
    "call out of order",                          /* NN_ERR_STATE */
    "not supported by this build"                 /* NN_ERR_UNSUPPORTED */
};

#define NN__N_STATUS (sizeof nn__status_text / sizeof nn__status_text[0])

/* Fixed-size thread-local buffer: reporting must work when allocation has
   just failed, so it never allocates. */
static _Thread_local char nn__errbuf[512];

const char *nn_strerror(int status)
{
    if (status < 0 || (size_t)status >= NN__N_STATUS) return "unknown status";
    return nn__status_text[status];
}

const char *nn_last_error(void)
{
    return nn__errbuf;
}

int nn__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* vsnprintf truncates safely; a message cut at 511 bytes still names
       the function first. */
    vsnprintf(nn__errbuf, sizeof nn__errbuf, fmt, ap);
    va_end(ap);
    return status;
}
