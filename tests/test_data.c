/*
 * test_data.c - data: nn_data_shuffle (pairs kept, a permutation, uniform
 * over permutations), what test_rng.c does not cover of the course's
 * spiral and vertical sets, and the IDX loader against files the test
 * writes itself (plain, and gzip through zlib directly) and the real
 * Fashion-MNIST files decoded independently with zlib's gzread.
 */
#include "nntest.h"
#include "internal.h"   /* nn__alloc_live */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <zlib.h>

/*====== nn_data_shuffle ======*/

NN_TEST(data_shuffle_keeps_pairs_and_permutes)
{
    enum { R = 1000, C = 3, YC = 2 };
    static float x[R * C], y[R * YC], x2[R * C], y2[R * YC];
    static int32_t lab[R], lab2[R];
    static unsigned char seen[R];
    size_t i, moved = 0;

    for (i = 0; i < R; i++) {
        x[i * C] = (float)i;
        x[i * C + 1] = -(float)i;
        x[i * C + 2] = 0.5f * (float)i;
        y[i * YC] = 2.0f * (float)i;
        y[i * YC + 1] = (float)i + 0.25f;
        lab[i] = (int32_t)i;
    }
    memcpy(x2, x, sizeof x);
    NNT_OK(nn_data_shuffle(x, R, C, y, YC, lab, 7));
    memset(seen, 0, sizeof seen);
    for (i = 0; i < R; i++) {
        size_t k = (size_t)x[i * C];
        NNT_TRUE(k < R);
        NNT_EQ_INT(seen[k], 0);
        seen[k] = 1;
        /* the whole row moved together, and y and labels with it */
        NNT_EQ_U64(x[i * C + 1] == -(float)k, 1);
        NNT_EQ_U64(x[i * C + 2] == 0.5f * (float)k, 1);
        NNT_EQ_U64(y[i * YC] == 2.0f * (float)k, 1);
        NNT_EQ_U64(y[i * YC + 1] == (float)k + 0.25f, 1);
        NNT_EQ_INT(lab[i], (int)k);
        moved += k != i;
    }
    NNT_TRUE(moved > R * 9 / 10);   /* a random permutation fixes ~1 */

    /* the same seed gives the same permutation whichever arrays come
       along; another seed another one */
    NNT_OK(nn_data_shuffle(x2, R, C, NULL, 0, NULL, 7));
    NNT_TRUE(memcmp(x, x2, sizeof x) == 0);
    for (i = 0; i < R; i++) {
        x2[i * C] = (float)i;
        lab2[i] = (int32_t)i;
        y2[i * YC] = y2[i * YC + 1] = 0;
    }
    NNT_OK(nn_data_shuffle(x2, R, 1, NULL, 0, lab2, 7));
    for (i = 0; i < R; i++) NNT_EQ_INT(lab2[i], lab[i]);
    for (i = 0; i < R; i++) lab2[i] = (int32_t)i;
    NNT_OK(nn_data_shuffle(x2, R, 1, NULL, 0, lab2, 8));
    for (moved = 0, i = 0; i < R; i++) moved += lab2[i] != lab[i];
    NNT_TRUE(moved > R / 2);

    /* one row: nothing to do */
    {
        float one[2] = {1, 2};
        int32_t l1 = 5;
        NNT_OK(nn_data_shuffle(one, 1, 2, NULL, 0, &l1, 1));
        NNT_EQ_U64(one[0] == 1 && one[1] == 2 && l1 == 5, 1);
    }

    /* rejected calls change nothing */
    memcpy(x2, x, sizeof x);
    NNT_STATUS(nn_data_shuffle(NULL, R, C, NULL, 0, NULL, 1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_data_shuffle(x, 0, C, NULL, 0, NULL, 1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_data_shuffle(x, R, 0, NULL, 0, NULL, 1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_data_shuffle(x, R, C, y, 0, NULL, 1), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("y_cols");
    NNT_STATUS(nn_data_shuffle(x, (size_t)1 << 40, (size_t)1 << 40, NULL, 0,
                               NULL, 1), NN_ERR_SHAPE);
    NNT_STATUS(nn_data_shuffle(x, R, C, y, (size_t)1 << 62, NULL, 1),
               NN_ERR_SHAPE);
    NNT_TRUE(memcmp(x, x2, sizeof x) == 0);
}

NN_TEST(data_shuffle_uniform)
{
    /* Fisher-Yates is uniform over the 24 orders of 4 rows: a chi-square
       test over 24000 seeds (23 degrees of freedom; 60 is p ~ 4e-5).
       Also each row lands in each position 1/4 of the time. */
    enum { N = 24000 };
    static const int fact[4] = {6, 2, 1, 1};
    double count[24] = {0}, chi = 0, pos[4][4] = {{0}};
    uint64_t s;
    int i, j;
    for (s = 0; s < N; s++) {
        float x[4] = {0, 1, 2, 3};
        int used[4] = {0}, code = 0;
        NNT_OK(nn_data_shuffle(x, 4, 1, NULL, 0, NULL, s * 7919 + 1));
        for (i = 0; i < 4; i++) {   /* Lehmer code of the order */
            int v = (int)x[i], less = 0;
            for (j = 0; j < v; j++) less += !used[j];
            used[v] = 1;
            code += less * fact[i];
            pos[v][i]++;
        }
        count[code]++;
    }
    for (i = 0; i < 24; i++)
        chi += (count[i] - N / 24.0) * (count[i] - N / 24.0) / (N / 24.0);
    printf("  24 orders of 4 rows over %d seeds: chi-square %.1f (23 dof)\n",
           N, chi);
    NNT_LE(chi, 60.0);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++)
            NNT_NEAR(pos[i][j] / N, 0.25, 5 * sqrt(0.25 * 0.75 / N));
}

/*====== The course's data sets, beyond test_rng.c ======*/

NN_TEST(data_vertical_second_axis_and_spiral_edges)
{
    /* vertical_data: y ~ N(0.5, 0.1^2) per class, independent of x (the
       course draws the two with separate randn calls) */
    enum { S = 4000, C = 4 };
    static float x[S * C * 2], sp[5 * 2 * 5];
    static int32_t lab[S * C], spl[5 * 5];
    size_t c, i;
    NNT_OK(nn_data_vertical(x, lab, S, C, 3));
    for (c = 0; c < C; c++) {
        double m0 = 0, m1 = 0, v1 = 0, cov = 0;
        for (i = 0; i < S; i++) {
            m0 += x[2 * (c * S + i)];
            m1 += x[2 * (c * S + i) + 1];
        }
        m0 /= S;
        m1 /= S;
        for (i = 0; i < S; i++) {
            double a = x[2 * (c * S + i)] - m0;
            double b = x[2 * (c * S + i) + 1] - m1;
            v1 += b * b;
            cov += a * b;
        }
        NNT_NEAR(m0, (double)c / 3.0, 5 * 0.1 / sqrt(S));
        NNT_NEAR(m1, 0.5, 5 * 0.1 / sqrt(S));
        NNT_NEAR(sqrt(v1 / S), 0.1, 0.006);
        /* correlation within 5 / sqrt(S) of 0 */
        NNT_NEAR(cov / v1, 0.0, 5.0 / sqrt(S) * 1.0);
    }
    /* spiral, 5 classes of 5: radius exactly linspace(0, 1, 5), labels
       grouped by class; the first point of every class is the origin */
    NNT_OK(nn_data_spiral(sp, spl, 5, 5, 11));
    for (c = 0; c < 5; c++)
        for (i = 0; i < 5; i++) {
            size_t r = c * 5 + i;
            double rad = hypot(sp[2 * r], sp[2 * r + 1]);
            NNT_EQ_INT(spl[r], (int)c);
            NNT_NEAR(rad, (double)i / 4.0, 1e-6);
            if (i == 0) NNT_EQ_U64(sp[2 * r] == 0 && sp[2 * r + 1] == 0, 1);
        }
    /* one sample per class: np.linspace(0, 1, 1) = [0], at the origin */
    NNT_OK(nn_data_spiral(sp, spl, 1, 3, 11));
    for (c = 0; c < 3; c++) {
        NNT_EQ_U64(sp[2 * c] == 0 && sp[2 * c + 1] == 0, 1);
        NNT_EQ_INT(spl[c], (int)c);
    }
}

/*====== IDX files ======*/

static size_t idx_make(unsigned char *buf, unsigned type, unsigned nd,
                       const uint32_t *dims, const unsigned char *data,
                       size_t n)
{
    size_t i, p = 0;
    buf[p++] = 0;
    buf[p++] = 0;
    buf[p++] = (unsigned char)type;
    buf[p++] = (unsigned char)nd;
    for (i = 0; i < nd; i++) {
        buf[p++] = (unsigned char)(dims[i] >> 24);
        buf[p++] = (unsigned char)(dims[i] >> 16);
        buf[p++] = (unsigned char)(dims[i] >> 8);
        buf[p++] = (unsigned char)dims[i];
    }
    memcpy(buf + p, data, n);
    return p + n;
}

/* gzip (RFC 1952) of in through zlib; returns the size, 0 on failure */
static size_t gz_make(const unsigned char *in, size_t n, unsigned char *out,
                      size_t cap)
{
    z_stream z;
    size_t size;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        return 0;
    }
    size = cap - z.avail_out;
    deflateEnd(&z);
    return size;
}

static const char *write_file(const char *name, const void *buf, size_t n)
{
    static char path[8][4096];
    static int k;
    char *p = path[k++ % 8];
    FILE *f;
    snprintf(p, 4096, "%s/%s", nnt_tmpdir(), name);
    f = fopen(p, "wb");
    NNT_TRUE(f != NULL);
    NNT_EQ_SIZE(fwrite(buf, 1, n, f), n);
    NNT_EQ_INT(fclose(f), 0);
    return p;
}

/* 5 images of 3 x 4 bytes, every one of 0, 1, 127, 128, 254, 255 among
   them, and their 5 labels */
enum { IC = 5, IS = 12 };
static unsigned char img_bytes[IC * IS];
static unsigned char lab_bytes[IC] = {9, 0, 3, 7, 1};

static void fill_images(void)
{
    size_t i;
    for (i = 0; i < IC * IS; i++)
        img_bytes[i] = (unsigned char)((i * 37 + 11) % 256);
    img_bytes[0] = 0;
    img_bytes[1] = 255;
    img_bytes[2] = 127;
    img_bytes[3] = 128;
    img_bytes[4] = 1;
    img_bytes[5] = 254;
}

static double scaled(unsigned char v, int32_t scale)
{
    return scale == NN_SCALE_UNIT ? v / 255.0
           : scale == NN_SCALE_SYMMETRIC ? (v - 127.5) / 127.5 : (double)v;
}

static void check_values(const float *out, int32_t scale)
{
    size_t i;
    for (i = 0; i < IC * IS; i++) {
        double want = scaled(img_bytes[i], scale);
        /* within an ulp of the double value (the float division rounds
           once) */
        NNT_NEAR(out[i], want, 6e-8 * fabs(want) + 1e-30);
    }
    /* the ends are exact */
    NNT_EQ_U64(out[0] == (float)scaled(0, scale), 1);
    NNT_EQ_U64(out[1] == (float)scaled(255, scale), 1);
}

NN_TEST(idx_plain_and_gzip_read)
{
    static unsigned char file[4096], gz[4096];
    static const int32_t scales[3] = {NN_SCALE_NONE, NN_SCALE_UNIT,
                                      NN_SCALE_SYMMETRIC};
    uint32_t dims3[3] = {IC, 3, 4}, dims1[1] = {IC};
    uint32_t dims2[2] = {IC, IS}, dims4[4] = {IC, 2, 3, 2};
    const char *paths[8];
    float out[IC * IS];
    int32_t labels[IC];
    size_t n, g, cnt, ss, i, p;
    int s;

    fill_images();
    n = idx_make(file, 0x08, 3, dims3, img_bytes, sizeof img_bytes);
    paths[0] = write_file("images-idx3-ubyte", file, n);
    g = gz_make(file, n, gz, sizeof gz);
    NNT_TRUE(g > 0);
    paths[1] = write_file("images-idx3-ubyte.gz", gz, g);
    /* gzip is told by its magic, not by the name */
    paths[2] = write_file("images-gz-without-suffix", gz, g);
    paths[3] = write_file("plain-named.gz", file, n);
    n = idx_make(file, 0x08, 2, dims2, img_bytes, sizeof img_bytes);
    paths[4] = write_file("images-idx2", file, n);
    n = idx_make(file, 0x08, 4, dims4, img_bytes, sizeof img_bytes);
    paths[5] = write_file("images-idx4", file, n);

    for (p = 0; p < 6; p++) {
        NNT_OK(nn_idx_info(paths[p], &cnt, &ss));
        NNT_EQ_SIZE(cnt, IC);
        NNT_EQ_SIZE(ss, IS);
        for (s = 0; s < 3; s++) {
            for (i = 0; i < IC * IS; i++) out[i] = -7.0f;
            NNT_OK(nn_idx_read(paths[p], out, IC, IS, scales[s]));
            check_values(out, scales[s]);
        }
    }
    /* symmetric scaling: 0 -> -1, 255 -> +1, 127 and 128 straddle 0 */
    NNT_OK(nn_idx_read(paths[1], out, IC, IS, NN_SCALE_SYMMETRIC));
    NNT_EQ_U64(out[0] == -1.0f && out[1] == 1.0f, 1);
    NNT_NEAR(out[2], -0.5 / 127.5, 1e-9);
    NNT_NEAR(out[3], 0.5 / 127.5, 1e-9);

    /* labels, plain and gzip */
    n = idx_make(file, 0x08, 1, dims1, lab_bytes, IC);
    paths[6] = write_file("labels-idx1-ubyte", file, n);
    g = gz_make(file, n, gz, sizeof gz);
    paths[7] = write_file("labels-idx1-ubyte.gz", gz, g);
    for (p = 6; p < 8; p++) {
        NNT_OK(nn_idx_info(paths[p], &cnt, &ss));
        NNT_EQ_SIZE(cnt, IC);
        NNT_EQ_SIZE(ss, 1);
        NNT_OK(nn_idx_read_labels(paths[p], labels, IC));
        for (i = 0; i < IC; i++) NNT_EQ_INT(labels[i], lab_bytes[i]);
        /* a label file read as data: one value per sample */
        NNT_OK(nn_idx_read(paths[p], out, IC, 1, NN_SCALE_NONE));
        for (i = 0; i < IC; i++) NNT_EQ_U64(out[i] == lab_bytes[i], 1);
    }

    /* the same bytes from memory */
    n = idx_make(file, 0x08, 3, dims3, img_bytes, sizeof img_bytes);
    g = gz_make(file, n, gz, sizeof gz);
    for (p = 0; p < 2; p++) {
        const unsigned char *b = p ? gz : file;
        size_t sz = p ? g : n;
        cnt = ss = 0;
        NNT_OK(nn_idx_parse_buffer(b, sz, NULL, 0, NN_SCALE_NONE, &cnt, &ss));
        NNT_EQ_SIZE(cnt, IC);
        NNT_EQ_SIZE(ss, IS);
        for (s = 0; s < 3; s++) {
            NNT_OK(nn_idx_parse_buffer(b, sz, out, IC * IS, scales[s], &cnt,
                                       &ss));
            check_values(out, scales[s]);
        }
        for (i = 0; i < IC * IS; i++) out[i] = -7.0f;
        NNT_STATUS(nn_idx_parse_buffer(b, sz, out, IC * IS - 1,
                                       NN_SCALE_NONE, &cnt, &ss),
                   NN_ERR_SHAPE);
        NNT_MSG_HAS("capacity");
        for (i = 0; i < IC * IS; i++) NNT_EQ_U64(out[i] == -7.0f, 1);
        NNT_STATUS(nn_idx_parse_buffer(b, sz, out, IC * IS, 3, &cnt, &ss),
                   NN_ERR_INVALID_ARG);
    }
}

/* A damaged file: nn_idx_info, nn_idx_read and nn_idx_parse_buffer all
   refuse it with NN_ERR_FORMAT and a message naming the file (or
   "buffer") and containing `what`; out is untouched. */
static void expect_format(const char *name, const unsigned char *buf,
                          size_t n, const char *what)
{
    const char *path = write_file(name, buf, n);
    float out[IC * IS];
    char msg[512];
    size_t cnt = 99, ss = 99, i;
    for (i = 0; i < IC * IS; i++) out[i] = -7.0f;
    NNT_STATUS(nn_idx_info(path, &cnt, &ss), NN_ERR_FORMAT);
    NNT_MSG_HAS(path);
    NNT_MSG_HAS("nn_idx_info");
    NNT_MSG_HAS(what);
    snprintf(msg, sizeof msg, "%s", strstr(nn_last_error(), name));
    NNT_STATUS(nn_idx_read(path, out, IC, IS, NN_SCALE_UNIT), NN_ERR_FORMAT);
    NNT_MSG_HAS(path);
    NNT_MSG_HAS(what);
    NNT_STATUS(nn_idx_read_labels(path, (int32_t *)(void *)out, IC),
               NN_ERR_FORMAT);
    NNT_MSG_HAS(path);
    for (i = 0; i < IC * IS; i++) NNT_EQ_U64(out[i] == -7.0f, 1);
    {
        float *lx = out;
        NNT_STATUS(nn_idx_load(path, NN_SCALE_UNIT, &lx, &cnt, &ss),
                   NN_ERR_FORMAT);
        NNT_MSG_HAS(path);
        NNT_MSG_HAS("nn_idx_load");
        NNT_MSG_HAS(what);
        NNT_TRUE(lx == NULL);
        NNT_EQ_SIZE(cnt, 99);
        NNT_EQ_INT(nn__alloc_live(), 0);
    }
    NNT_STATUS(nn_idx_parse_buffer(buf, n, out, IC * IS, NN_SCALE_NONE, &cnt,
                                   &ss), NN_ERR_FORMAT);
    NNT_MSG_HAS("buffer");
    NNT_MSG_HAS(what);
    for (i = 0; i < IC * IS; i++) NNT_EQ_U64(out[i] == -7.0f, 1);
    NNT_EQ_SIZE(cnt, 99);
    printf("  %s\n", msg);
}

NN_TEST(idx_rejects_damaged_files)
{
    static unsigned char good[4096], bad[4096], gz[4096], gz2[4096];
    uint32_t dims3[3] = {IC, 3, 4};
    size_t n, g, g2;

    fill_images();
    n = idx_make(good, 0x08, 3, dims3, img_bytes, sizeof img_bytes);

    expect_format("empty", good, 0, "too short");
    expect_format("three-bytes", good, 3, "too short");
    memcpy(bad, good, n);
    bad[0] = 0x01;
    expect_format("wrong-magic", bad, n, "magic");
    memcpy(bad, good, n);
    bad[1] = 0x08;
    expect_format("wrong-magic-2", bad, n, "magic");
    memcpy(bad, good, n);
    bad[2] = 0x0D;
    expect_format("type-float", bad, n, "0x0D");
    memcpy(bad, good, n);
    bad[2] = 0x09;
    expect_format("type-signed-byte", bad, n, "0x09");
    memcpy(bad, good, n);
    bad[3] = 0;
    expect_format("zero-dims", bad, n, "dimensions");
    bad[3] = 5;
    expect_format("five-dims", bad, n, "dimensions");
    expect_format("header-cut", good, 10, "truncated header");
    memcpy(bad, good, n);
    bad[11] = 0;   /* dimension 1 (rows) = 0 */
    expect_format("zero-dimension", bad, n, "dimension 1 is 0");
    expect_format("data-short-by-one", good, n - 1, "truncated");
    memcpy(bad, good, n);
    bad[n] = 0;
    expect_format("trailing-byte", bad, n + 1, "after");
    /* a wrong count in the header: 6 samples declared, 5 present */
    memcpy(bad, good, n);
    bad[7] = IC + 1;
    expect_format("count-too-large", bad, n, "truncated");
    bad[7] = IC - 1;
    expect_format("count-too-small", bad, n, "after");
    /* dimensions over NN_IDX_MAX_BYTES */
    {
        uint32_t huge[3] = {65536, 65536, 2};
        size_t hn = idx_make(bad, 0x08, 3, huge, img_bytes, 4);
        expect_format("over-the-limit", bad, hn, "limit");
    }

    /* gzip */
    g = gz_make(good, n, gz, sizeof gz);
    NNT_TRUE(g > 20);
    expect_format("gz-cut-in-half", gz, g / 2, "truncated");
    expect_format("gz-no-trailer", gz, g - 8, "truncated");
    memcpy(bad, gz, g);
    bad[g - 6] ^= 0x55;   /* CRC-32 of the trailer */
    expect_format("gz-bad-crc", bad, g, "damaged gzip");
    memcpy(bad, gz, g);
    bad[g] = 0;
    expect_format("gz-trailing-byte", bad, g + 1, "after the end");
    /* a valid gzip stream of a short or long payload */
    g2 = gz_make(good, n - 1, gz2, sizeof gz2);
    expect_format("gz-payload-short", gz2, g2, "truncated");
    memcpy(bad, good, n);
    bad[n] = 0;
    g2 = gz_make(bad, n + 1, gz2, sizeof gz2);
    expect_format("gz-payload-long", gz2, g2, "more than");
    /* the gzip of a non-IDX file, and of a header alone */
    memcpy(bad, good, n);
    bad[2] = 0x0C;
    g2 = gz_make(bad, n, gz2, sizeof gz2);
    expect_format("gz-type-int32", gz2, g2, "0x0C");
    g2 = gz_make(good, 16, gz2, sizeof gz2);
    expect_format("gz-header-only", gz2, g2, "truncated");
    /* gzip magic followed by garbage */
    memcpy(bad, gz, 2);
    memset(bad + 2, 0xAB, 40);
    expect_format("gz-garbage", bad, 42, "gzip");
    /* two gzip members: the second cut, damaged, or not a member */
    g2 = gz_make(good, 20, gz2, sizeof gz2);
    memcpy(bad, gz2, g2);
    g = gz_make(good + 20, n - 20, bad + g2, sizeof bad - g2);
    NNT_TRUE(g > 0);
    expect_format("gz2-second-cut", bad, g2 + g / 2, "truncated");
    expect_format("gz2-second-no-trailer", bad, g2 + g - 4, "truncated");
    bad[g2 + g - 6] ^= 0x55;
    expect_format("gz2-second-bad-crc", bad, g2 + g, "damaged gzip");
    bad[g2 + g - 6] ^= 0x55;
    bad[g2 + g] = 0x1F;   /* half a magic after the last member */
    expect_format("gz2-half-magic-after", bad, g2 + g + 1, "after the end");
    memcpy(bad + g2 + g, gz, 2);   /* a magic and nothing more */
    expect_format("gz2-magic-alone-after", bad, g2 + g + 2, "truncated");
    /* members whose data together run past the declared payload */
    memcpy(bad + g2 + g, gz2, g2);
    expect_format("gz3-payload-long", bad, g2 + g + g2, "more than");
}

/* A gzip file of several members (`cat a.gz b.gz`, as gunzip reads it)
   holds their data concatenated: cut the IDX file at every position
   (inside the magic, the dimensions, at the end of the header, inside the
   data), gzip the two pieces as separate members and read the result with
   every entry point; the same with an empty member first, in the middle
   and last.  The values compare with the bytes written. */
static size_t gz_members(const unsigned char *file, size_t n,
                         const size_t *cuts, size_t ncuts, unsigned char *out,
                         size_t cap)
{
    size_t i, at = 0, g = 0, m;
    for (i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        m = gz_make(file + at, end - at, out + g, cap - g);
        NNT_TRUE(m > 0);
        g += m;
        at = end;
    }
    return g;
}

static void check_members(const char *name, const unsigned char *gz,
                          size_t g, int labels)
{
    const char *path = write_file(name, gz, g);
    float out[IC * IS], *lx = NULL;
    int32_t lab[IC];
    size_t cnt = 0, ss = 0, i, want_ss = labels ? 1 : IS;
    const unsigned char *want = labels ? lab_bytes : img_bytes;

    NNT_OK(nn_idx_info(path, &cnt, &ss));
    NNT_EQ_SIZE(cnt, IC);
    NNT_EQ_SIZE(ss, want_ss);
    NNT_OK(nn_idx_read(path, out, IC, want_ss, NN_SCALE_NONE));
    for (i = 0; i < IC * want_ss; i++) NNT_EQ_U64(out[i] == want[i], 1);
    cnt = ss = 0;
    NNT_OK(nn_idx_parse_buffer(gz, g, out, IC * IS, NN_SCALE_NONE, &cnt,
                               &ss));
    NNT_EQ_SIZE(cnt * ss, IC * want_ss);
    for (i = 0; i < IC * want_ss; i++) NNT_EQ_U64(out[i] == want[i], 1);
    cnt = ss = 0;
    NNT_OK(nn_idx_load(path, NN_SCALE_NONE, &lx, &cnt, &ss));
    NNT_EQ_SIZE(cnt * ss, IC * want_ss);
    for (i = 0; i < IC * want_ss; i++) NNT_EQ_U64(lx[i] == want[i], 1);
    nn_idx_free(lx);
    if (labels) {
        NNT_OK(nn_idx_read_labels(path, lab, IC));
        for (i = 0; i < IC; i++) NNT_EQ_INT(lab[i], lab_bytes[i]);
    }
    NNT_EQ_INT(nn__alloc_live(), 0);
}

NN_TEST(idx_gzip_multi_member)
{
    static unsigned char file[4096], gz[16384], one[4096];
    uint32_t dims3[3] = {IC, 3, 4}, dims1[1] = {IC};
    size_t n, g, k, cut[3];
    char name[64];

    fill_images();
    n = idx_make(file, 0x08, 3, dims3, img_bytes, sizeof img_bytes);
    for (k = 1; k < n; k++) {
        cut[0] = k;
        g = gz_members(file, n, cut, 1, gz, sizeof gz);
        snprintf(name, sizeof name, "images-2-members-cut-%zu.gz", k);
        check_members(name, gz, g, 0);
    }
    /* empty members anywhere, and three non-empty ones */
    cut[0] = 0;
    cut[1] = 16;
    g = gz_members(file, n, cut, 2, gz, sizeof gz);
    check_members("images-empty-first.gz", gz, g, 0);
    cut[0] = 16;
    cut[1] = 16;
    g = gz_members(file, n, cut, 2, gz, sizeof gz);
    check_members("images-empty-middle.gz", gz, g, 0);
    cut[0] = n;
    g = gz_members(file, n, cut, 1, gz, sizeof gz);
    check_members("images-empty-last.gz", gz, g, 0);
    cut[0] = 5;
    cut[1] = 30;
    cut[2] = 31;
    g = gz_members(file, n, cut, 3, gz, sizeof gz);
    check_members("images-4-members.gz", gz, g, 0);
    /* a label file in two members, and one of the very `cat a.gz b.gz`
       kind: a whole member followed by an empty one */
    n = idx_make(file, 0x08, 1, dims1, lab_bytes, sizeof lab_bytes);
    cut[0] = 9;
    g = gz_members(file, n, cut, 1, gz, sizeof gz);
    check_members("labels-2-members.gz", gz, g, 1);
    g = gz_make(file, n, gz, sizeof gz);
    k = gz_make(file, 0, one, sizeof one);
    memcpy(gz + g, one, k);
    check_members("labels-then-empty.gz", gz, g + k, 1);
}

NN_TEST(idx_wrong_pairing_and_arguments)
{
    static unsigned char file[4096];
    uint32_t dims3[3] = {IC, 3, 4}, dims1[1] = {IC};
    const char *img, *lab;
    char missing[4200];
    float out[IC * IS];
    int32_t labels[IC + 1];
    size_t n, cnt, ss, i;

    fill_images();
    n = idx_make(file, 0x08, 3, dims3, img_bytes, sizeof img_bytes);
    img = write_file("img", file, n);
    n = idx_make(file, 0x08, 1, dims1, lab_bytes, IC);
    lab = write_file("lab", file, n);
    for (i = 0; i < IC * IS; i++) out[i] = -7.0f;

    /* counts or sample sizes that do not match the file */
    NNT_STATUS(nn_idx_read(img, out, IC - 1, IS, NN_SCALE_NONE),
               NN_ERR_SHAPE);
    NNT_MSG_HAS(img);
    NNT_MSG_HAS("count 4");
    NNT_STATUS(nn_idx_read(img, out, IC, 784, NN_SCALE_NONE), NN_ERR_SHAPE);
    NNT_MSG_HAS("sample_size 784");
    /* a label file where images are expected, and the reverse */
    NNT_STATUS(nn_idx_read(lab, out, IC, IS, NN_SCALE_NONE), NN_ERR_SHAPE);
    NNT_MSG_HAS(lab);
    NNT_STATUS(nn_idx_read_labels(img, labels, IC), NN_ERR_SHAPE);
    NNT_MSG_HAS(img);
    NNT_MSG_HAS("3 dimensions");
    NNT_STATUS(nn_idx_read_labels(lab, labels, IC + 1), NN_ERR_SHAPE);
    NNT_MSG_HAS("count 6");
    for (i = 0; i < IC * IS; i++) NNT_EQ_U64(out[i] == -7.0f, 1);

    /* the file cannot be read */
    snprintf(missing, sizeof missing, "%s/no-such-file", nnt_tmpdir());
    NNT_STATUS(nn_idx_info(missing, &cnt, &ss), NN_ERR_IO);
    NNT_MSG_HAS(missing);
    NNT_STATUS(nn_idx_read(missing, out, IC, IS, NN_SCALE_NONE), NN_ERR_IO);
    NNT_STATUS(nn_idx_read_labels(nnt_tmpdir(), labels, IC), NN_ERR_IO);

    /* arguments */
    NNT_STATUS(nn_idx_info(NULL, &cnt, &ss), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_info(img, NULL, &ss), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_info(img, &cnt, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read(NULL, out, IC, IS, 0), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read(img, NULL, IC, IS, 0), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read(img, out, IC, IS, 3), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read(img, out, IC, IS, -1), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read_labels(NULL, labels, IC), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_read_labels(lab, NULL, IC), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_parse_buffer(NULL, 10, NULL, 0, 0, &cnt, &ss),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_parse_buffer(file, n, NULL, 0, 0, NULL, &ss),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_idx_parse_buffer(NULL, 0, NULL, 0, 0, &cnt, &ss),
               NN_ERR_FORMAT);
}

/*====== The real Fashion-MNIST files ======*/

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist/"

/* The file decoded by zlib's own gzread: a reference independent of
   nn_idx_*.  Returns the bytes (malloc) and their number. */
static unsigned char *gz_slurp(const char *path, size_t *n)
{
    gzFile f = gzopen(path, "rb");
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    int got;
    if (f == NULL || buf == NULL) {
        if (f) gzclose(f);
        free(buf);
        return NULL;
    }
    while ((got = gzread(f, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)got;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                gzclose(f);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    gzclose(f);
    *n = len;
    return buf;
}

static void fmnist_set(const char *images, const char *labels, size_t count)
{
    size_t cnt, ss, n_img, n_lab, i, per_class[10] = {0};
    unsigned char *ref_img = gz_slurp(images, &n_img);
    unsigned char *ref_lab = gz_slurp(labels, &n_lab);
    float *x = malloc(count * 784 * sizeof *x);
    int32_t *y = malloc(count * sizeof *y);
    double worst = 0;
    NNT_TRUE(ref_img != NULL && ref_lab != NULL && x != NULL && y != NULL);
    NNT_EQ_SIZE(n_img, 16 + count * 784);
    NNT_EQ_SIZE(n_lab, 8 + count);

    NNT_OK(nn_idx_info(images, &cnt, &ss));
    NNT_EQ_SIZE(cnt, count);
    NNT_EQ_SIZE(ss, 28 * 28);
    NNT_OK(nn_idx_info(labels, &cnt, &ss));
    NNT_EQ_SIZE(cnt, count);
    NNT_EQ_SIZE(ss, 1);

    NNT_OK(nn_idx_read_labels(labels, y, count));
    /* published: train label[0] and test label[0] are 9 (Ankle boot);
       ten balanced classes */
    NNT_EQ_INT(y[0], 9);
    for (i = 0; i < count; i++) {
        NNT_TRUE(y[i] >= 0 && y[i] <= 9);
        NNT_EQ_INT(y[i], ref_lab[8 + i]);
        per_class[y[i]]++;
    }
    for (i = 0; i < 10; i++) NNT_EQ_SIZE(per_class[i], count / 10);

    /* the course's scaling, (v - 127.5) / 127.5, for every pixel */
    NNT_OK(nn_idx_read(images, x, count, 784, NN_SCALE_SYMMETRIC));
    for (i = 0; i < count * 784; i++) {
        double want = (ref_img[16 + i] - 127.5) / 127.5;
        double e = fabs(x[i] - want);
        if (e > worst) worst = e;
    }
    NNT_LE(worst, 1.2e-7);
    printf("  %s: %zu x 784, labels 0..9 x %zu each, max |pixel - "
           "(v - 127.5) / 127.5| %.3g\n", images, count, count / 10, worst);
    free(ref_img);
    free(ref_lab);
    free(x);
    free(y);
}

NN_TEST(idx_fashion_mnist_real_files)
{
    const char *ti = FMNIST_DIR "train-images-idx3-ubyte.gz";
    const char *tl = FMNIST_DIR "train-labels-idx1-ubyte.gz";
    FILE *f = fopen(ti, "rb");
    if (f == NULL) {
        printf("  SKIP: %s: %s (install the Debian package "
               "dataset-fashion-mnist)\n", ti, strerror(errno));
        return;
    }
    fclose(f);
    fmnist_set(ti, tl, 60000);
    fmnist_set(FMNIST_DIR "t10k-images-idx3-ubyte.gz",
               FMNIST_DIR "t10k-labels-idx1-ubyte.gz", 10000);
    /* the pairing check catches train images with test labels */
    {
        static int32_t y[10000];
        NNT_STATUS(nn_idx_read_labels(FMNIST_DIR
                                      "train-labels-idx1-ubyte.gz", y,
                                      10000), NN_ERR_SHAPE);
    }
}
