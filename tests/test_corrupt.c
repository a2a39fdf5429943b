/*
 * test_corrupt.c - exhaustive corrupt-input sweeps with the allocation
 * bound of docs/RELIABILITY.md T5/P5, through the nn_set_allocator hook:
 *   - a saved model (3 mixed layers) truncated at every length and with
 *     every byte replaced (xor 0x01, 0x80, 0xFF): always NN_ERR_FORMAT,
 *     *out NULL, nothing kept, and no single allocation larger than the
 *     input size + 64 KiB;
 *   - an IDX image file, plain and gzip, the same sweeps.  IDX has no
 *     checksum, so a changed data byte of a plain file is accepted and
 *     must decode to exactly that byte (the reference is the changed input
 *     scaled in the test); any other change is NN_ERR_FORMAT.  gzip carries
 *     a CRC-32 and length of the data, so an accepted gzip variant (a
 *     changed mtime, XFL or OS byte) must decode to exactly the original.
 */
#include "nntest.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static size_t k_peak;
static long k_live;

static void *k_alloc(void *user, size_t size)
{
    void *p;
    (void)user;
    if (size > k_peak) k_peak = size;
    p = malloc(size);
    if (p != NULL) k_live++;
    return p;
}

static void k_free(void *user, void *ptr)
{
    (void)user;
    k_live--;
    free(ptr);
}

static const unsigned char k_xor[3] = {0x01, 0x80, 0xFF};
#define K_SLACK ((size_t)64 * 1024)

NN_TEST(corrupt_model_every_cut_and_byte)
{
    size_t sizes[4] = {3, 5, 4, 2}, n = 0, i, cases = 0, worst = 0;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = NULL;
    unsigned char *good, *bad;
    int x, st;

    NNT_OK(nn_set_allocator(k_alloc, k_free, NULL));
    NNT_OK(nn_net_create(&net, 3, sizes, acts, 9));
    NNT_OK(nn_net_save_buffer(net, NULL, 0, &n));
    good = malloc(n);
    bad = malloc(n);
    NNT_TRUE(good != NULL && bad != NULL);
    NNT_OK(nn_net_save_buffer(net, good, n, &n));
    nn_net_destroy(net);
    NNT_EQ_INT(k_live, 0);
    for (i = 0; i < n; i++) {          /* every truncation, 0 .. n-1 */
        net = (nn_net *)good;          /* must be reset to NULL */
        memcpy(bad, good, i);
        k_peak = 0;
        st = nn_net_load_buffer(&net, i ? bad : good, i);
        if (i == 0 && st == NN_ERR_INVALID_ARG) st = NN_ERR_FORMAT;
        if (st != NN_ERR_FORMAT || net != NULL || k_live != 0 ||
            k_peak > i + K_SLACK)
            nnt_fail(__FILE__, __LINE__, "cut at %zu: status %d, peak %zu",
                     i, st, k_peak);
        if (k_peak > worst) worst = k_peak;
        cases++;
    }
    for (i = 0; i < n; i++)            /* every byte, three new values */
        for (x = 0; x < 3; x++) {
            memcpy(bad, good, n);
            bad[i] ^= k_xor[x];
            net = (nn_net *)good;
            k_peak = 0;
            st = nn_net_load_buffer(&net, bad, n);
            if (st != NN_ERR_FORMAT || net != NULL || k_live != 0 ||
                k_peak > n + K_SLACK)
                nnt_fail(__FILE__, __LINE__, "byte %zu ^ 0x%02X: status %d, "
                         "peak %zu", i, k_xor[x], st, k_peak);
            if (k_peak > worst) worst = k_peak;
            cases++;
        }
    nnt_pass();
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  %zu-byte model: %zu corrupt variants, all NN_ERR_FORMAT; "
           "largest allocation %zu bytes (bound: size + 64 KiB)\n", n, cases,
           worst);
    free(good);
    free(bad);
}

/* parse buf; returns the status and fills out (capacity cap) */
static int k_idx(const unsigned char *buf, size_t n, float *out, size_t cap,
                 size_t *cnt, size_t *ss)
{
    int st = nn_idx_parse_buffer(buf, n, NULL, 0, NN_SCALE_UNIT, cnt, ss);
    if (st != NN_OK) return st;
    if (*cnt * *ss > cap) return -1;
    return nn_idx_parse_buffer(buf, n, out, cap, NN_SCALE_UNIT, cnt, ss);
}

NN_TEST(corrupt_idx_every_cut_and_byte)
{
    enum { CNT = 3, R = 4, C = 5, P = CNT * R * C, S = 16 + P };
    unsigned char raw[S], bad[S + 64], gz[S + 64];
    float out[P + 8];
    size_t i, j, cnt, ss, gzn, cases = 0, accepted = 0, gz_ok = 0;
    size_t worst = 0;
    const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, CNT, 0, 0, 0, R,
                                   0, 0, 0, C};
    z_stream z;
    int x, st, pass;

    memcpy(raw, hdr, 16);
    for (i = 0; i < P; i++) raw[16 + i] = (unsigned char)(i * 37u + 11u);
    memset(&z, 0, sizeof z);
    NNT_EQ_INT(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                            Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = raw;
    z.avail_in = S;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    NNT_EQ_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
    gzn = sizeof gz - z.avail_out;
    deflateEnd(&z);

    NNT_OK(nn_set_allocator(k_alloc, k_free, NULL));
    for (pass = 0; pass < 2; pass++) {
        const unsigned char *good = pass ? gz : raw;
        size_t n = pass ? gzn : (size_t)S;
        for (i = 0; i < n; i++) {      /* truncations */
            memcpy(bad, good, i);
            k_peak = 0;
            st = k_idx(bad, i, out, P, &cnt, &ss);
            if (i == 0 && st == NN_ERR_INVALID_ARG) st = NN_ERR_FORMAT;
            if (st != NN_ERR_FORMAT || k_live != 0 || k_peak > i + K_SLACK)
                nnt_fail(__FILE__, __LINE__, "%s cut at %zu: status %d, "
                         "peak %zu", pass ? "gzip" : "plain", i, st, k_peak);
            if (k_peak > worst) worst = k_peak;
            cases++;
        }
        for (i = 0; i < n; i++)        /* every byte changed */
            for (x = 0; x < 3; x++) {
                memcpy(bad, good, n);
                bad[i] ^= k_xor[x];
                k_peak = 0;
                st = k_idx(bad, n, out, P, &cnt, &ss);
                cases++;
                if (k_live != 0 || k_peak > n + K_SLACK + (pass ? P : 0))
                    nnt_fail(__FILE__, __LINE__, "%s byte %zu: peak %zu, "
                             "live %ld", pass ? "gzip" : "plain", i, k_peak,
                             k_live);
                if (k_peak > worst) worst = k_peak;
                if (st == NN_ERR_FORMAT) continue;
                if (st != NN_OK || cnt != CNT || ss != R * C ||
                    (!pass && i < 16))
                    nnt_fail(__FILE__, __LINE__, "%s byte %zu ^ 0x%02X: "
                             "status %d accepted", pass ? "gzip" : "plain",
                             i, k_xor[x], st);
                /* the reference: the bytes the file really holds */
                for (j = 0; j < P; j++) {
                    unsigned char v = pass ? raw[16 + j] : bad[16 + j];
                    if (out[j] != (float)v / 255.0f) {
                        nnt_fail(__FILE__, __LINE__, "%s byte %zu: value "
                                 "%zu is %g, want %u/255", pass ? "gzip" :
                                 "plain", i, j, (double)out[j], v);
                        break;
                    }
                }
                accepted++;
                if (pass) gz_ok++;
            }
        /* trailing bytes, wrong type, wrong dimension count */
        memcpy(bad, good, n);
        bad[n] = 0;
        st = k_idx(bad, n + 1, out, P, &cnt, &ss);
        NNT_STATUS(st, NN_ERR_FORMAT);
        cases++;
    }
    memcpy(bad, raw, S);
    bad[2] = 0x0D;   /* float elements */
    NNT_STATUS(k_idx(bad, S, out, P, &cnt, &ss), NN_ERR_FORMAT);
    bad[2] = 0x08;
    bad[3] = 2;      /* 2 dimensions: the sizes no longer match */
    NNT_STATUS(k_idx(bad, S, out, P, &cnt, &ss), NN_ERR_FORMAT);
    cases += 2;
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  IDX %d bytes plain, %zu gzip: %zu corrupt variants; %zu "
           "accepted (plain data bytes, and %zu unchecked gzip header "
           "bytes) with exactly the bytes the file holds; the rest "
           "NN_ERR_FORMAT; largest allocation %zu\n", (int)S, gzn, cases,
           accepted, gz_ok, worst);
}
