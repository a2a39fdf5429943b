/*
 * test_crc32.c - nn__crc32 (zlib's crc32 fed in NN__CRC_CHUNK pieces) on
 * buffers longer than one piece, against a bit-at-a-time CRC written from
 * the definition (reflected polynomial 0xEDB88320, initial and final value
 * 0xFFFFFFFF).  The short vectors and the file goldens are in test_io.c
 * and test_pca.c.
 */
#include "nntest.h"

#include "internal.h"

#include <stdlib.h>

static uint32_t bitwise_crc32(uint32_t crc, const unsigned char *p,
                              size_t n)
{
    int k;
    crc = ~crc;
    while (n-- > 0) {
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

NN_TEST(io_crc32_chunks)
{
    /* two whole pieces and a partial one */
    size_t n = 2 * NN__CRC_CHUNK + 12345, i;
    size_t cuts[] = {0, 1, NN__CRC_CHUNK - 1, NN__CRC_CHUNK,
                     NN__CRC_CHUNK + 1, 2 * NN__CRC_CHUNK, n - 1, n};
    unsigned char *buf = malloc(n);
    uint64_t s = nnt_seed() | 1;
    uint32_t want;
    NNT_TRUE(buf != NULL);
    for (i = 0; i < n; i++) {   /* xorshift64 bytes */
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        buf[i] = (unsigned char)(s >> 56);
    }
    want = bitwise_crc32(0, buf, n);
    NNT_EQ_U64(nn__crc32(0, buf, n), want);
    /* chained over two pieces split anywhere, pieces of a chunk included */
    for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        NNT_EQ_U64(nn__crc32(nn__crc32(0, buf, cuts[i]), buf + cuts[i],
                             n - cuts[i]),
                   want);
    /* exactly one and exactly two pieces */
    NNT_EQ_U64(nn__crc32(0, buf, NN__CRC_CHUNK),
               bitwise_crc32(0, buf, NN__CRC_CHUNK));
    NNT_EQ_U64(nn__crc32(0, buf, 2 * NN__CRC_CHUNK),
               bitwise_crc32(0, buf, 2 * NN__CRC_CHUNK));
    /* nothing: the running value is returned unchanged */
    NNT_EQ_U64(nn__crc32(0, buf, 0), 0);
    NNT_EQ_U64(nn__crc32(want, buf, 0), want);
    free(buf);
}
