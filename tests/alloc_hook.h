/*
 * alloc_hook.h - the failing allocator the allocation-failure tests
 * install with nn_set_allocator (test_oom.c, test_pca.c, test_ridge.c):
 * it counts calls and live blocks and fails the k-th call (or, persistent,
 * every call from the k-th on).
 */
#ifndef NNFS_TESTS_ALLOC_HOOK_H
#define NNFS_TESTS_ALLOC_HOOK_H

#include <stddef.h>

extern long h_calls;          /* alloc_fn calls since the last h_arm */
extern long h_fail_at;        /* 0: never fail */
extern int h_persistent;
extern long h_failed;         /* failures injected */
extern long h_live;           /* blocks from alloc_fn not yet freed */
extern size_t h_peak;         /* largest single request seen */

void *h_alloc(void *user, size_t size);
void h_free(void *user, void *ptr);
/* Reset the counts and fail call k (k 0: none), or every call from k on
   when persistent. */
void h_arm(long k, int persistent);
void h_disarm(void);

#endif
