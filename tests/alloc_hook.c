/* alloc_hook.c - see alloc_hook.h. */
#include "alloc_hook.h"

#include <stdlib.h>

long h_calls, h_fail_at, h_failed, h_live;
int h_persistent;
size_t h_peak;

void *h_alloc(void *user, size_t size)
{
    void *p;
    (void)user;
    h_calls++;
    if (h_fail_at > 0 &&
        (h_calls == h_fail_at || (h_persistent && h_calls > h_fail_at))) {
        h_failed++;
        return NULL;
    }
    p = malloc(size);
    if (p != NULL) h_live++;
    if (size > h_peak) h_peak = size;
    return p;
}

void h_free(void *user, void *ptr)
{
    (void)user;
    h_live--;
    free(ptr);
}

void h_arm(long k, int persistent)
{
    h_calls = 0;
    h_failed = 0;
    h_fail_at = k;
    h_persistent = persistent;
}

void h_disarm(void) { h_fail_at = 0; }
