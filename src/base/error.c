/*
 * error.c - status strings and the thread-local last-error message.
 */
#include "base.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

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
    "not supported by this build",                /* NN_ERR_UNSUPPORTED */
    "handle of the wrong type or already destroyed" /* NN_ERR_MISUSE */
};

#define NN__N_STATUS (sizeof nn__status_text / sizeof nn__status_text[0])
_Static_assert(NN__N_STATUS == NN_ERR_MISUSE + 1,
               "one string per status code");

/* Fixed-size thread-local buffer: reporting must work when allocation has
   just failed, so it never allocates.  Room for two paths of PATH_MAX
   bytes and the text around them (a failed save names the target and its
   temporary file), so a long path does not push the reason out. */
#ifdef PATH_MAX
#define NN__ERRBUF_BYTES (2 * PATH_MAX + 1024)
#else
#define NN__ERRBUF_BYTES (2 * 4096 + 1024)
#endif
static _Thread_local char nn__errbuf[NN__ERRBUF_BYTES];

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
    int n;
    va_start(ap, fmt);
    /* vsnprintf truncates safely; a message that still does not fit (a
       path longer than PATH_MAX) ends in "..." so the cut shows.  It
       names the function first, and messages with two paths give their
       reason before the second. */
    n = vsnprintf(nn__errbuf, sizeof nn__errbuf, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof nn__errbuf)
        memcpy(nn__errbuf + sizeof nn__errbuf - 4, "...", 4);
    return status;
}

int nn__fail_wrap(int status, const char *strip_fn, const char *fmt, ...)
{
    char pre[512];
    const char *inner = nn__errbuf;
    size_t plen, ilen, cap = sizeof nn__errbuf - 1;
    va_list ap;
    int n, cut;

    /* the failed callee's message, less its own "name: " */
    if (strip_fn != NULL) {
        size_t fl = strlen(strip_fn);
        if (strncmp(inner, strip_fn, fl) == 0 &&
            strncmp(inner + fl, ": ", 2) == 0)
            inner += fl + 2;
    }
    va_start(ap, fmt);
    n = vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    plen = n < 0 ? 0 : (size_t)n < sizeof pre ? (size_t)n : sizeof pre - 1;
    /* shift the message right in place, then put the prefix before it:
       no copy buffer, so it is cut only where the whole buffer ends */
    ilen = strlen(inner);
    cut = plen + ilen > cap;
    if (cut) ilen = cap - plen;
    memmove(nn__errbuf + plen, inner, ilen);
    memcpy(nn__errbuf, pre, plen);
    nn__errbuf[plen + ilen] = '\0';
    if (cut) memcpy(nn__errbuf + cap - 3, "...", 4);
    return status;
}

/*====== Handle tags ======*/

static const struct {
    uint64_t tag;
    const char *name;
} nn__handle_types[] = {
    {NN__TAG_NET, "nn_net"},
    {NN__TAG_OPTIMIZER, "nn_optimizer"},
    {NN__TAG_TRAINER, "nn_trainer"},
    {NN__TAG_PCA, "nn_pca"},
};
#define NN__N_HANDLE_TYPES \
    (sizeof nn__handle_types / sizeof nn__handle_types[0])

static const char *nn__handle_name(uint64_t tag)
{
    size_t i;
    for (i = 0; i < NN__N_HANDLE_TYPES; i++)
        if (nn__handle_types[i].tag == tag) return nn__handle_types[i].name;
    return NULL;
}

int nn__handle_check(const void *h, uint64_t tag, const char *arg,
                     const char *fn)
{
    uint64_t got;
    const char *want, *live, *dead;
    if (h == NULL) return NN_OK;
    memcpy(&got, h, sizeof got);   /* the first member of every handle */
    if (NN__LIKELY(got == tag)) return NN_OK;
    want = nn__handle_name(tag);
    live = nn__handle_name(got);
    dead = nn__handle_name(got ^ NN__TAG_DEAD);
    if (got == (tag ^ NN__TAG_DEAD))
        return nn__fail(NN_ERR_MISUSE, "%s: %s is not a live %s (it was "
                        "destroyed)", fn, arg, want);
    if (live != NULL)
        return nn__fail(NN_ERR_MISUSE, "%s: %s is not a live %s (it is an "
                        "%s)", fn, arg, want, live);
    if (dead != NULL)
        return nn__fail(NN_ERR_MISUSE, "%s: %s is not a live %s (it is a "
                        "destroyed %s)", fn, arg, want, dead);
    return nn__fail(NN_ERR_MISUSE, "%s: %s is not a live %s (no libnnfs "
                    "handle tag at that address)", fn, arg, want);
}
