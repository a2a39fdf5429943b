/*
 * alloc.c - the one place the library gets memory from.
 *
 * Every block is over-allocated from the underlying malloc and aligned to
 * NN__ALIGN bytes (a cache line and a full AVX-512 vector), with the raw
 * pointer stored just below the aligned one.  A live-block counter lets
 * the tests prove that nothing leaks, including after injected failures.
 */
#include "base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long nn__live;

/* The underlying allocator: the C library's unless nn_set_allocator gave
   one.  Only changed while no block is live, so every block is freed by
   the function family that allocated it. */
static void *(*nn__alloc_fn)(void *user, size_t size);
static void (*nn__free_fn)(void *user, void *ptr);
static void *nn__alloc_user;

int nn_set_allocator(void *(*alloc_fn)(void *user, size_t size),
                     void (*free_fn)(void *user, void *ptr), void *user)
{
    long live;
    NN__CHECK((alloc_fn == NULL) != (free_fn == NULL), NN_ERR_INVALID_ARG,
              "nn_set_allocator: alloc_fn is %s but free_fn is %s (give both "
              "or neither)", alloc_fn ? "set" : "NULL",
              free_fn ? "set" : "NULL");
    live = atomic_load_explicit(&nn__live, memory_order_acquire);
    NN__CHECK(live != 0, NN_ERR_STATE,
              "nn_set_allocator: %ld library blocks are live (destroy every "
              "handle and free every buffer first)", live);
    nn__alloc_fn = alloc_fn;
    nn__free_fn = free_fn;
    nn__alloc_user = alloc_fn ? user : NULL;
    return NN_OK;
}

void *nn__malloc(size_t size)
{
    size_t total;
    unsigned char *raw, *p;

    /* room for alignment slack and the stored raw pointer */
    if (!nn__add_ok(size, NN__ALIGN + sizeof(void *), &total)) return NULL;
    raw = nn__alloc_fn ? nn__alloc_fn(nn__alloc_user, total) : malloc(total);
    if (raw == NULL) return NULL;
    p = (unsigned char *)(((uintptr_t)raw + sizeof(void *) + NN__ALIGN - 1)
                          & ~(uintptr_t)(NN__ALIGN - 1));
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    atomic_fetch_add_explicit(&nn__live, 1, memory_order_relaxed);
    return p;
}

void *nn__calloc(size_t count, size_t size)
{
    size_t bytes;
    void *p;
    if (!nn__mul_ok(count, size, &bytes)) return NULL;
    p = nn__malloc(bytes);
    if (p != NULL) memset(p, 0, bytes);
    return p;
}

void nn__free(void *p)
{
    void *raw;
    if (p == NULL) return;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    atomic_fetch_sub_explicit(&nn__live, 1, memory_order_relaxed);
    if (nn__free_fn) nn__free_fn(nn__alloc_user, raw);
    else free(raw);
}

long nn__alloc_live(void)
{
    return atomic_load_explicit(&nn__live, memory_order_relaxed);
}
