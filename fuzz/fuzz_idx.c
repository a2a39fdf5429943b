/*
 * fuzz_idx.c - libFuzzer target for nn_idx_parse_buffer (plain and gzip
 * IDX files; zlib allocates through the library's allocator).
 *
 * The first call asks only for the shape; if the data fit in 64 MiB the
 * second call decodes them, and every value must lie in [0, 1] for
 * NN_SCALE_UNIT.  A too-small capacity must give NN_ERR_SHAPE.  No block
 * may stay live after either call.
 */
#include "nnfs.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0, ss = 0, n, i, c2 = 0, s2 = 0;
    float *out;
    int st;

    st = nn_idx_parse_buffer(data, size, NULL, 0, NN_SCALE_UNIT, &count, &ss);
    if (nn__alloc_live() != 0) abort();
    if (st != NN_OK) return 0;
    if (ss != 0 && count > (size_t)(16u << 20) / ss) return 0;
    n = count * ss;
    if (n > 0) {
        st = nn_idx_parse_buffer(data, size, (float *)(void *)&i, 0,
                                 NN_SCALE_UNIT, &c2, &s2);
        if (st != NN_ERR_SHAPE) abort();
    }
    out = malloc((n ? n : 1) * sizeof *out);
    if (out == NULL) return 0;
    st = nn_idx_parse_buffer(data, size, out, n, NN_SCALE_UNIT, &c2, &s2);
    if (st != NN_OK || c2 != count || s2 != ss) abort();
    for (i = 0; i < n; i++)
        if (!(out[i] >= 0.0f && out[i] <= 1.0f)) abort();
    free(out);
    if (nn__alloc_live() != 0) abort();
    return 0;
}
