/*
 * onnx_common.c - protobuf-c's allocator on top of the library's, with a
 * budget; the activation <-> operator table.
 */
#include "onnx_internal.h"

/* Each block carries its size in front, so pb_free can give the budget
   back (protobuf-c frees what it allocated when an unpack fails half
   way). */
#define NN__PB_HDR 16

static void *nn__pb_alloc_fn(void *data, size_t size)
{
    struct nn__pb_alloc *a = data;
    unsigned char *p;
    size_t total;
    if (!nn__add_ok(size, NN__PB_HDR, &total) || total > a->budget ||
        a->used > a->budget - total) {
        a->over_budget = 1;
        return NULL;
    }
    p = nn__malloc(total);
    if (p == NULL) {
        a->out_of_memory = 1;
        return NULL;
    }
    memcpy(p, &total, sizeof total);
    a->used += total;
    return p + NN__PB_HDR;
}

static void nn__pb_free_fn(void *data, void *ptr)
{
    struct nn__pb_alloc *a = data;
    unsigned char *p;
    size_t total;
    if (ptr == NULL) return;
    p = (unsigned char *)ptr - NN__PB_HDR;
    memcpy(&total, p, sizeof total);
    a->used -= total;
    nn__free(p);
}

void nn__pb_alloc_init(struct nn__pb_alloc *a, size_t budget)
{
    a->base.alloc = nn__pb_alloc_fn;
    a->base.free = nn__pb_free_fn;
    a->base.allocator_data = a;
    a->used = 0;
    a->budget = budget;
    a->over_budget = 0;
    a->out_of_memory = 0;
}

/* Indexed by NN_ACT_*. */
static const char *const nn__act_ops[] = {
    NULL, "Relu", "Sigmoid", "Tanh", "Softmax"
};
_Static_assert(sizeof nn__act_ops / sizeof nn__act_ops[0] ==
               NN_ACT_SOFTMAX + 1, "one operator per NN_ACT_*");

const char *nn__onnx_act_op(int32_t act)
{
    if (act < 0 || act > NN_ACT_SOFTMAX) return NULL;
    return nn__act_ops[act];
}
