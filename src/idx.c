/*
 * idx.c - the IDX format of MNIST and Fashion-MNIST, plain or gzip.
 *
 * One parser (nn__idx_parse) serves the file functions, the buffer entry
 * point and the fuzzer.  It validates the header completely before it
 * allocates, bounds every allocation by the declared payload (itself
 * capped by NN_IDX_MAX_BYTES), and for gzip requires the stream to end
 * exactly where the declared payload ends: a short stream is truncated, a
 * longer one or bytes after the gzip member are damage.  zlib allocates
 * through the library's allocator, so allocation failures inject here too.
 */
#include "internal.h"

#include <string.h>
#include <zlib.h>

#define NN__IDX_MAX_DIMS 4u
#define NN__IDX_MAX_HEADER (4u + 4u * NN__IDX_MAX_DIMS)
/* A compressed file larger than the largest payload is certainly not one
   (deflate expands incompressible data by well under 1%). */
#define NN__IDX_MAX_FILE ((uint64_t)NN_IDX_MAX_BYTES + (1u << 20))

static uint32_t nn__be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *nn__idx_type_name(unsigned t)
{
    switch (t) {
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

/* Validate the header in h (n bytes available, n >= 4 checked here);
   report the header length and the shape.  Never reads past n. */
static int nn__idx_header(const unsigned char *h, size_t n, size_t *hdr,
                          size_t *count, size_t *sample, uint32_t *ndims,
                          const char *fn, const char *name)
{
    size_t total, i;
    uint32_t nd;

    NN__CHECK(n < 4, NN_ERR_FORMAT, "%s: %s: %zu bytes is too short for an "
              "IDX header (4 bytes at least)", fn, name, n);
    NN__CHECK(h[0] != 0 || h[1] != 0, NN_ERR_FORMAT, "%s: %s: not an IDX "
              "file: the magic starts %02X %02X, expected 00 00", fn, name,
              h[0], h[1]);
    NN__CHECK(h[2] != 0x08, NN_ERR_FORMAT, "%s: %s: IDX element type 0x%02X "
              "(%s) is not supported; only 0x08 (unsigned byte)", fn, name,
              h[2], nn__idx_type_name(h[2]));
    nd = h[3];
    NN__CHECK(nd < 1 || nd > NN__IDX_MAX_DIMS, NN_ERR_FORMAT,
              "%s: %s: %u dimensions; an IDX file here has 1 to %u", fn,
              name, nd, NN__IDX_MAX_DIMS);
    NN__CHECK(n < 4 + 4 * (size_t)nd, NN_ERR_FORMAT, "%s: %s: truncated "
              "header: %u dimensions need %zu bytes, the data has %zu", fn,
              name, nd, 4 + 4 * (size_t)nd, n);
    total = 1;
    for (i = 0; i < nd; i++) {
        uint32_t d = nn__be32(h + 4 + 4 * i);
        NN__CHECK(d == 0, NN_ERR_FORMAT, "%s: %s: dimension %zu is 0", fn,
                  name, i);
        NN__CHECK(!nn__mul_ok(total, d, &total) || total > NN_IDX_MAX_BYTES,
                  NN_ERR_FORMAT, "%s: %s: dimensions declare more than the "
                  "limit of %zu bytes (NN_IDX_MAX_BYTES)", fn, name,
                  (size_t)NN_IDX_MAX_BYTES);
    }
    *hdr = 4 + 4 * (size_t)nd;
    *count = nn__be32(h + 4);
    *sample = total / *count;
    *ndims = nd;
    return NN_OK;
}

static voidpf nn__zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return nn__calloc(items, size);
}

static void nn__zfree(voidpf opaque, voidpf p)
{
    (void)opaque;
    nn__free(p);
}

/* Inflate exactly `want` bytes into out from the running stream; 1 if the
   stream ended early (*got tells how much came). */
static int nn__inflate_into(z_stream *zs, unsigned char *out, size_t want,
                            size_t *got, int *zr)
{
    size_t done = 0;
    *zr = Z_OK;
    while (done < want) {
        size_t chunk = want - done;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        zs->next_out = out + done;
        zs->avail_out = (uInt)chunk;
        *zr = inflate(zs, Z_NO_FLUSH);
        done += chunk - zs->avail_out;
        if (*zr == Z_STREAM_END) break;
        if (*zr != Z_OK) break;   /* Z_BUF_ERROR: input exhausted */
    }
    *got = done;
    return done < want;
}

static int nn__idx_gunzip(const unsigned char *buf, size_t size,
                          const unsigned char **data, unsigned char **owned,
                          size_t *count, size_t *sample, uint32_t *ndims,
                          const char *fn, const char *name)
{
    z_stream zs;
    unsigned char head[NN__IDX_MAX_HEADER], extra;
    unsigned char *out = NULL;
    size_t got, hdr = 0, payload, have, cap;
    int zr, st;

    NN__CHECK(size > NN__IDX_MAX_FILE, NN_ERR_FORMAT, "%s: %s: %zu bytes of "
              "gzip data is over the limit of %llu", fn, name, size,
              (unsigned long long)NN__IDX_MAX_FILE);
    memset(&zs, 0, sizeof zs);
    zs.zalloc = nn__zalloc;
    zs.zfree = nn__zfree;
    zs.next_in = (Bytef *)(uintptr_t)buf;   /* zlib does not write it */
    zs.avail_in = (uInt)size;
    zr = inflateInit2(&zs, 16 + MAX_WBITS);   /* gzip wrapper only */
    if (zr == Z_MEM_ERROR)
        return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory starting zlib",
                        fn, name);
    NN__CHECK(zr != Z_OK, NN_ERR_FORMAT, "%s: %s: zlib inflateInit2 failed "
              "(%d)", fn, name, zr);

    /* the 4-byte magic, then the dimensions it announces */
    nn__inflate_into(&zs, head, 4, &got, &zr);
    if (got == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 &&
        head[3] >= 1 && head[3] <= NN__IDX_MAX_DIMS) {
        size_t more = 4 * (size_t)head[3], g2;
        nn__inflate_into(&zs, head + 4, more, &g2, &zr);
        got += g2;
    }
    if (zr == Z_MEM_ERROR) goto nomem;
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) goto damaged;
    st = nn__idx_header(head, got, &hdr, count, sample, ndims, fn, name);
    if (st != NN_OK) {
        inflateEnd(&zs);
        return st;
    }
    payload = *count * *sample;   /* checked against the limit */
    if (zr == Z_STREAM_END && payload > 0) goto truncated_at_header;

    /* The buffer grows with the data actually inflated (doubling, from
       64 KiB or 8 times the compressed size), so a small stream that
       declares a huge payload cannot cause a huge allocation: the largest
       block is at most twice what the stream really holds, or that start.
       A well-compressed real file (ratio under 8) takes one block. */
    cap = size > SIZE_MAX / 8 ? payload : size * 8;
    if (cap < ((size_t)1 << 16)) cap = (size_t)1 << 16;
    if (cap > payload) cap = payload;
    out = nn__malloc(cap);
    if (out == NULL) goto nomem_data;
    have = 0;
    for (;;) {
        size_t g;
        unsigned char *grown;
        nn__inflate_into(&zs, out + have, cap - have, &g, &zr);
        have += g;
        if (have < cap || cap == payload || zr == Z_STREAM_END) break;
        g = cap > payload / 2 ? payload : cap * 2;
        grown = nn__malloc(g);
        if (grown == NULL) goto nomem_data;
        memcpy(grown, out, have);
        nn__free(out);
        out = grown;
        cap = g;
    }
    if (zr == Z_MEM_ERROR) goto nomem;
    if (have < payload) {
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR)
            goto damaged;
        inflateEnd(&zs);
        nn__free(out);
        return nn__fail(NN_ERR_FORMAT, "%s: %s: truncated: the header "
                        "declares %zu data bytes (%zu x %zu), the gzip "
                        "stream holds %zu", fn, name, payload, *count,
                        *sample, have);
    }
    if (zr != Z_STREAM_END) {
        /* the payload is complete: the stream must end here, with its
           trailer (CRC-32 and length) checked by zlib */
        nn__inflate_into(&zs, &extra, 1, &got, &zr);
        if (got != 0) {
            inflateEnd(&zs);
            nn__free(out);
            return nn__fail(NN_ERR_FORMAT, "%s: %s: the gzip stream holds "
                            "more than the %zu data bytes the header "
                            "declares", fn, name, payload);
        }
        if (zr == Z_MEM_ERROR) goto nomem;
        if (zr != Z_STREAM_END) {
            if (zr == Z_DATA_ERROR) goto damaged;
            inflateEnd(&zs);
            nn__free(out);
            return nn__fail(NN_ERR_FORMAT, "%s: %s: truncated gzip stream "
                            "(no end or trailer)", fn, name);
        }
    }
    if (zs.avail_in != 0) {
        size_t left = zs.avail_in;
        inflateEnd(&zs);
        nn__free(out);
        return nn__fail(NN_ERR_FORMAT, "%s: %s: %zu bytes after the end of "
                        "the gzip stream", fn, name, left);
    }
    inflateEnd(&zs);
    *data = out;
    *owned = out;
    return NN_OK;

truncated_at_header:
    inflateEnd(&zs);
    return nn__fail(NN_ERR_FORMAT, "%s: %s: truncated: the gzip stream ends "
                    "after the IDX header", fn, name);
nomem:
    inflateEnd(&zs);
    nn__free(out);
    return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory in zlib", fn, name);
nomem_data:
    inflateEnd(&zs);
    nn__free(out);
    return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory for the %zu "
                    "bytes of IDX data", fn, name, payload);
damaged:
    {
        const char *msg = zs.msg ? zs.msg : "no detail";
        int st2 = nn__fail(NN_ERR_FORMAT, "%s: %s: damaged gzip data: zlib "
                           "says \"%s\" (%d)", fn, name, msg, zr);
        inflateEnd(&zs);
        nn__free(out);
        return st2;
    }
}

int nn__idx_parse(const unsigned char *buf, size_t size,
                  const unsigned char **data, unsigned char **owned,
                  size_t *count, size_t *sample_size, uint32_t *ndims,
                  const char *fn, const char *name)
{
    size_t hdr = 0, payload;
    int st;

    *data = NULL;
    *owned = NULL;
    if (size >= 2 && buf[0] == 0x1F && buf[1] == 0x8B)
        return nn__idx_gunzip(buf, size, data, owned, count, sample_size,
                              ndims, fn, name);
    st = nn__idx_header(buf, size, &hdr, count, sample_size, ndims, fn, name);
    if (st != NN_OK) return st;
    payload = *count * *sample_size;
    NN__CHECK(size - hdr < payload, NN_ERR_FORMAT, "%s: %s: truncated: the "
              "header declares %zu data bytes (%zu x %zu), the file holds "
              "%zu", fn, name, payload, *count, *sample_size, size - hdr);
    NN__CHECK(size - hdr > payload, NN_ERR_FORMAT, "%s: %s: %zu bytes after "
              "the %zu data bytes the header declares (wrong file or "
              "damaged header)", fn, name, size - hdr - payload, payload);
    *data = buf + hdr;
    return NN_OK;
}

/*====== Public entry points ======*/

static void nn__idx_scale(float *out, const unsigned char *in, size_t n,
                          int32_t scale)
{
    size_t i;
    switch (scale) {
    case NN_SCALE_UNIT:
        for (i = 0; i < n; i++) out[i] = (float)in[i] / 255.0f;
        break;
    case NN_SCALE_SYMMETRIC:
        for (i = 0; i < n; i++) out[i] = ((float)in[i] - 127.5f) / 127.5f;
        break;
    default:
        for (i = 0; i < n; i++) out[i] = (float)in[i];
        break;
    }
}

static int nn__scale_ok(int32_t scale)
{
    return scale == NN_SCALE_NONE || scale == NN_SCALE_UNIT ||
           scale == NN_SCALE_SYMMETRIC;
}

int nn_idx_parse_buffer(const void *buf, size_t size, float *out,
                        size_t capacity, int32_t scale, size_t *count,
                        size_t *sample_size)
{
    static const char fn[] = "nn_idx_parse_buffer";
    const unsigned char *data;
    unsigned char *owned;
    size_t c, s;
    uint32_t nd;
    int st;

    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    NN__CHECK(buf == NULL && size != 0, NN_ERR_INVALID_ARG,
              "%s: buf is NULL with size %zu", fn, size);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    st = nn__idx_parse(buf, size, &data, &owned, &c, &s, &nd, fn, "buffer");
    if (st != NN_OK) return st;
    if (out != NULL && capacity < c * s) {
        nn__free(owned);
        return nn__fail(NN_ERR_SHAPE, "%s: capacity %zu floats is less than "
                        "the %zu x %zu the data holds", fn, capacity, c, s);
    }
    if (out != NULL) nn__idx_scale(out, data, c * s, scale);
    nn__free(owned);
    *count = c;
    *sample_size = s;
    return NN_OK;
}

/* Read and parse path; on NN_OK the caller frees *file and *owned. */
static int nn__idx_file(const char *path, unsigned char **file,
                        unsigned char **owned, const unsigned char **data,
                        size_t *c, size_t *s, uint32_t *nd, const char *fn)
{
    size_t size;
    int st = nn__read_file(path, NN__IDX_MAX_FILE, file, &size, fn);
    if (st != NN_OK) return st;
    st = nn__idx_parse(*file, size, data, owned, c, s, nd, fn, path);
    if (st != NN_OK) {
        nn__free(*file);
        *file = NULL;
    }
    return st;
}

int nn_idx_info(const char *path, size_t *count, size_t *sample_size)
{
    static const char fn[] = "nn_idx_info";
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s;
    uint32_t nd;
    int st;

    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    st = nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn);
    if (st != NN_OK) return st;
    nn__free(owned);
    nn__free(file);
    *count = c;
    *sample_size = s;
    return NN_OK;
}

int nn_idx_read(const char *path, float *out, size_t count,
                size_t sample_size, int32_t scale)
{
    static const char fn[] = "nn_idx_read";
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s;
    uint32_t nd;
    int st;

    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(out, fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    st = nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn);
    if (st != NN_OK) return st;
    if (c != count || s != sample_size) {
        nn__free(owned);
        nn__free(file);
        return nn__fail(NN_ERR_SHAPE, "%s: \"%s\" holds %zu samples of %zu "
                        "values; the call asked for count %zu, sample_size "
                        "%zu", fn, path, c, s, count, sample_size);
    }
    nn__idx_scale(out, data, c * s, scale);
    nn__free(owned);
    nn__free(file);
    return NN_OK;
}

int nn_idx_read_labels(const char *path, int32_t *labels, size_t count)
{
    static const char fn[] = "nn_idx_read_labels";
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s, i;
    uint32_t nd;
    int st;

    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(labels, fn);
    st = nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn);
    if (st != NN_OK) return st;
    if (nd != 1 || c != count) {
        nn__free(owned);
        nn__free(file);
        if (nd != 1)
            return nn__fail(NN_ERR_SHAPE, "%s: \"%s\" has %u dimensions; a "
                            "label file has 1", fn, path, nd);
        return nn__fail(NN_ERR_SHAPE, "%s: \"%s\" holds %zu labels; the call "
                        "asked for count %zu", fn, path, c, count);
    }
    for (i = 0; i < c; i++) labels[i] = (int32_t)data[i];
    nn__free(owned);
    nn__free(file);
    return NN_OK;
}

int nn_idx_read_rows(const char *path, float *out, size_t first,
                     size_t rows, size_t count, size_t sample_size,
                     int32_t scale)
{
    static const char fn[] = "nn_idx_read_rows";
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s;
    uint32_t nd;
    int st;

    NN__CHECK_PTR(path, fn);
    NN__CHECK(out == NULL && rows > 0, NN_ERR_INVALID_ARG, "%s: out is NULL",
              fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    NN__CHECK(first > count || rows > count - first, NN_ERR_SHAPE,
              "%s: rows [%zu, %zu + %zu) are outside the %zu samples", fn,
              first, first, rows, count);
    st = nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn);
    if (st != NN_OK) return st;
    if (c != count || s != sample_size) {
        nn__free(owned);
        nn__free(file);
        return nn__fail(NN_ERR_SHAPE, "%s: \"%s\" holds %zu samples of %zu "
                        "values; the call asked for count %zu, sample_size "
                        "%zu", fn, path, c, s, count, sample_size);
    }
    nn__idx_scale(out, data + first * s, rows * s, scale);
    nn__free(owned);
    nn__free(file);
    return NN_OK;
}
