/*
 * idx.c - the IDX format of MNIST and Fashion-MNIST, plain or gzip.
 *
 * One parser (nn__idx_parse) serves the file functions, the buffer entry
 * point and the fuzzer.  It validates the header completely before it
 * allocates, bounds every allocation by the declared payload (itself
 * capped by NN_IDX_MAX_BYTES), and for gzip requires the stream to end
 * exactly where the declared payload ends: a short stream is truncated, a
 * longer one or bytes after the last gzip member are damage.  Several
 * gzip members back to back are one stream, their data concatenated (as
 * gunzip reads them).  zlib allocates through the library's allocator, so
 * allocation failures inject here too.
 *
 * With libdeflate (NNFS_HAVE_LIBDEFLATE) a gzip file first takes a fast
 * path: one-shot decompression into a block sized by the gzip trailer's
 * ISIZE, accepted only when every member decodes with its CRC, the input
 * is used up and the bytes fill the block exactly as the header declares.
 * The trailer is untrusted, so the block is at most the size the zlib path
 * starts with (8 times the compressed size, or 64 KiB); anything else
 * (a larger claim, several members whose last ISIZE is not the total,
 * any damage) goes to the zlib path, which decides and words the error.
 */
#define _DEFAULT_SOURCE 1   /* MADV_HUGEPAGE */
#include "base/base.h"
#include "io.h"

#include <string.h>
#include <zlib.h>
#ifdef NNFS_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define NN__IDX_MAX_DIMS 4u
#define NN__IDX_MAX_HEADER (4u + 4u * NN__IDX_MAX_DIMS)
/* A compressed file larger than the largest payload is certainly not one
   (deflate expands incompressible data by well under 1%). */
#define NN__IDX_MAX_FILE ((uint64_t)NN_IDX_MAX_BYTES + (1u << 20))
#ifdef NNFS_HAVE_LIBDEFLATE
#define NN__HAVE_FAST_GZIP 1
#else
#define NN__HAVE_FAST_GZIP 0
#endif

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

/* At the end of a gzip member: when another member follows (its magic
   1F 8B next), restart zlib on it and return 1.  Anything else after the
   member stays in avail_in, for the caller to report. */
static int nn__gz_next_member(z_stream *zs)
{
    if (zs->avail_in < 2 || zs->next_in[0] != 0x1F || zs->next_in[1] != 0x8B)
        return 0;
    return inflateReset(zs) == Z_OK;
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
        if (*zr == Z_STREAM_END && nn__gz_next_member(zs)) {
            *zr = Z_OK;   /* the next member continues the data */
            continue;
        }
        if (*zr != Z_OK) break;   /* Z_BUF_ERROR: input exhausted */
    }
    *got = done;
    return done < want;
}

/* Ask for transparent huge pages on a large fresh block: fewer page faults
   when it is first written (only a hint; the kernel may ignore it). */
static void nn__idx_hugepages(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
    if (n >= ((size_t)8 << 20) && e > a)
        (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

/* The most bytes a gzip stream of `size` bytes is trusted to hold before
   its data is seen: 8 times its size, or 64 KiB (the start of the zlib
   path's growing buffer). */
static size_t nn__gz_first_block(size_t size)
{
    size_t cap = size > SIZE_MAX / 8 ? SIZE_MAX : size * 8;
    return cap < ((size_t)1 << 16) ? (size_t)1 << 16 : cap;
}

/* The decompressed size the last gzip member's trailer claims (ISIZE),
   when the claim is a plausible IDX image within nn__gz_first_block;
   0 otherwise. */
static size_t nn__gz_claim(const unsigned char *buf, size_t size)
{
    size_t isize;
    if (size < 18 + 4) return 0;
    isize = (size_t)buf[size - 4] | (size_t)buf[size - 3] << 8 |
            (size_t)buf[size - 2] << 16 | (size_t)buf[size - 1] << 24;
    if (isize < 9 || isize > nn__gz_first_block(size) ||
        isize > NN__IDX_MAX_HEADER + (size_t)NN_IDX_MAX_BYTES)
        return 0;
    return isize;
}

/* Fast path: decompress every member of buf into dst (exactly total
   bytes).  1 when the stream decodes cleanly (CRCs checked), uses all of
   buf and fills dst exactly; 0 otherwise (dst may be written). */
static int nn__gz_fast(const unsigned char *buf, size_t size,
                       unsigned char *dst, size_t total)
{
#ifdef NNFS_HAVE_LIBDEFLATE
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t pos = 0, done = 0;
    int ok = 0;
    if (d == NULL) return 0;   /* the zlib path decides */
    for (;;) {
        size_t used = 0, got = 0;
        if (libdeflate_gzip_decompress_ex(d, buf + pos, size - pos,
                                          dst + done, total - done, &used,
                                          &got) != LIBDEFLATE_SUCCESS)
            break;
        pos += used;
        done += got;
        if (pos == size) {
            ok = done == total;
            break;
        }
        if (size - pos < 2 || buf[pos] != 0x1F || buf[pos + 1] != 0x8B)
            break;
    }
    libdeflate_free_decompressor(d);
    return ok;
#else
    (void)buf;
    (void)size;
    (void)dst;
    (void)total;
    return 0;
#endif
}

/* The fast path's check of what it decoded: the header is valid and the
   data fills the rest exactly. */
static int nn__gz_fast_fits(const unsigned char *dst, size_t total,
                            size_t *hdr, size_t *count, size_t *sample,
                            uint32_t *ndims, const char *fn,
                            const char *name)
{
    /* a header error set here is set again by the zlib path, which reads
       the same bytes */
    if (nn__idx_header(dst, total, hdr, count, sample, ndims, fn, name) !=
        NN_OK)
        return 0;
    return total - *hdr == *count * *sample;
}

/* ---- the fast path: the whole stream decoded in one call into a block
   of the size the gzip trailer claims.  *done is set when it gave a
   valid IDX image; else the zlib path reads the stream again. */
static int nn__idx_gunzip_fast(const unsigned char *buf, size_t size,
                               size_t have, const unsigned char **data,
                               unsigned char **owned, size_t *count,
                               size_t *sample, uint32_t *ndims, int *done,
                               const char *fn, const char *name)
{
    unsigned char *out = nn__malloc(have);
    size_t hdr = 0;

    if (out == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory for the "
                        "%zu bytes of IDX data", fn, name, have);
    nn__idx_hugepages(out, have);
    if (nn__gz_fast(buf, size, out, have) &&
        nn__gz_fast_fits(out, have, &hdr, count, sample, ndims, fn, name)) {
        *data = out + hdr;
        *owned = out;
        *done = 1;
        return NN_OK;
    }
    nn__free(out);
    return NN_OK;
}

static int nn__gz_nomem(const char *fn, const char *name)
{
    return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory in zlib", fn, name);
}

static int nn__gz_nomem_data(size_t payload, const char *fn,
                             const char *name)
{
    return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory for the %zu "
                    "bytes of IDX data", fn, name, payload);
}

/* zlib's message belongs to the stream: formatted before it ends */
static int nn__gz_damaged(const z_stream *zs, int zr, const char *fn,
                          const char *name)
{
    const char *msg = zs->msg ? zs->msg : "no detail";
    return nn__fail(NN_ERR_FORMAT, "%s: %s: damaged gzip data: zlib says "
                    "\"%s\" (%d)", fn, name, msg, zr);
}

/* ---- a zlib stream on buf, through the library's allocator */
static int nn__gz_open(z_stream *zs, const unsigned char *buf, size_t size,
                       const char *fn, const char *name)
{
    int zr;
    memset(zs, 0, sizeof *zs);
    zs->zalloc = nn__zalloc;
    zs->zfree = nn__zfree;
    zs->next_in = (Bytef *)(uintptr_t)buf;   /* zlib does not write it */
    zs->avail_in = (uInt)size;
    zr = inflateInit2(zs, 16 + MAX_WBITS);   /* gzip wrapper only */
    if (zr == Z_MEM_ERROR)
        return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory starting zlib",
                        fn, name);
    NN__CHECK(zr != Z_OK, NN_ERR_FORMAT, "%s: %s: zlib inflateInit2 failed "
              "(%d)", fn, name, zr);
    return NN_OK;
}

/* ---- the IDX header: the 4-byte magic, then the dimensions it
   announces, inflated and checked; *zr_out is zlib's last status */
static int nn__gz_head(z_stream *zs, size_t *count, size_t *sample,
                       uint32_t *ndims, int *zr_out, const char *fn,
                       const char *name)
{
    unsigned char head[NN__IDX_MAX_HEADER];
    size_t got, hdr = 0;
    int zr;

    nn__inflate_into(zs, head, 4, &got, &zr);
    if (got == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08 &&
        head[3] >= 1 && head[3] <= NN__IDX_MAX_DIMS) {
        size_t more = 4 * (size_t)head[3], g2;
        nn__inflate_into(zs, head + 4, more, &g2, &zr);
        got += g2;
    }
    *zr_out = zr;
    if (zr == Z_MEM_ERROR) return nn__gz_nomem(fn, name);
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
        return nn__gz_damaged(zs, zr, fn, name);
    return nn__idx_header(head, got, &hdr, count, sample, ndims, fn, name);
}

/* ---- the payload, into *out.  The buffer grows with the data actually
   inflated (doubling, from 64 KiB or 8 times the compressed size), so a
   small stream that declares a huge payload cannot cause a huge
   allocation: the largest block is at most twice what the stream really
   holds, or that start.  A well-compressed real file (ratio under 8)
   takes one block.  *out is the caller's to free, also on failure. */
static int nn__gz_payload(z_stream *zs, size_t size, size_t payload,
                          unsigned char **out, size_t *have_out,
                          int *zr_out, const char *fn, const char *name)
{
    size_t cap, have = 0;
    int zr;

    cap = size > SIZE_MAX / 8 ? payload : size * 8;
    if (cap < ((size_t)1 << 16)) cap = (size_t)1 << 16;
    if (cap > payload) cap = payload;
    *out = nn__malloc(cap);
    if (*out == NULL) return nn__gz_nomem_data(payload, fn, name);
    for (;;) {
        size_t g;
        unsigned char *grown;
        nn__inflate_into(zs, *out + have, cap - have, &g, &zr);
        have += g;
        if (have < cap || cap == payload || zr == Z_STREAM_END) break;
        g = cap > payload / 2 ? payload : cap * 2;
        grown = nn__malloc(g);
        if (grown == NULL) return nn__gz_nomem_data(payload, fn, name);
        memcpy(grown, *out, have);
        nn__free(*out);
        *out = grown;
        cap = g;
    }
    *have_out = have;
    *zr_out = zr;
    if (zr == Z_MEM_ERROR) return nn__gz_nomem(fn, name);
    return NN_OK;
}

/* ---- the stream after the payload: complete, then ended (its trailer,
   CRC-32 and length, checked by zlib), with no bytes after it */
static int nn__gz_tail(z_stream *zs, size_t payload, size_t have, int zr,
                       size_t count, size_t sample, const char *fn,
                       const char *name)
{
    unsigned char extra;
    size_t got;

    if (have < payload) {
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR)
            return nn__gz_damaged(zs, zr, fn, name);
        return nn__fail(NN_ERR_FORMAT, "%s: %s: truncated: the header "
                        "declares %zu data bytes (%zu x %zu), the gzip "
                        "stream holds %zu", fn, name, payload, count,
                        sample, have);
    }
    if (zr != Z_STREAM_END) {
        /* the payload is complete: the stream must end here */
        nn__inflate_into(zs, &extra, 1, &got, &zr);
        NN__CHECK(got != 0, NN_ERR_FORMAT, "%s: %s: the gzip stream holds "
                  "more than the %zu data bytes the header declares", fn,
                  name, payload);
        if (zr == Z_MEM_ERROR) return nn__gz_nomem(fn, name);
        if (zr != Z_STREAM_END) {
            if (zr == Z_DATA_ERROR) return nn__gz_damaged(zs, zr, fn, name);
            return nn__fail(NN_ERR_FORMAT, "%s: %s: truncated gzip stream "
                            "(no end or trailer)", fn, name);
        }
    }
    NN__CHECK(zs->avail_in != 0, NN_ERR_FORMAT, "%s: %s: %zu bytes after "
              "the end of the gzip stream", fn, name, (size_t)zs->avail_in);
    return NN_OK;
}

/* ---- the zlib path on an open stream: header, payload, tail */
static int nn__gz_inflate(z_stream *zs, size_t size, unsigned char **out,
                          size_t *count, size_t *sample, uint32_t *ndims,
                          const char *fn, const char *name)
{
    size_t payload, have = 0;
    int zr;

    NN__FORWARD(nn__gz_head(zs, count, sample, ndims, &zr, fn, name));
    payload = *count * *sample;   /* checked against the limit */
    NN__CHECK(zr == Z_STREAM_END && payload > 0, NN_ERR_FORMAT, "%s: %s: "
              "truncated: the gzip stream ends after the IDX header", fn,
              name);
    NN__FORWARD(nn__gz_payload(zs, size, payload, out, &have, &zr, fn,
                               name));
    return nn__gz_tail(zs, payload, have, zr, *count, *sample, fn, name);
}

static int nn__idx_gunzip(const unsigned char *buf, size_t size,
                          const unsigned char **data, unsigned char **owned,
                          size_t *count, size_t *sample, uint32_t *ndims,
                          int fast, const char *fn, const char *name)
{
    z_stream zs;
    unsigned char *out = NULL;
    size_t have;
    int st, done = 0;

    NN__CHECK(size > NN__IDX_MAX_FILE, NN_ERR_FORMAT, "%s: %s: %zu bytes of "
              "gzip data is over the limit of %llu", fn, name, size,
              (unsigned long long)NN__IDX_MAX_FILE);
    have = nn__gz_claim(buf, size);
    if (NN__HAVE_FAST_GZIP && fast && have != 0) {
        NN__FORWARD(nn__idx_gunzip_fast(buf, size, have, data, owned, count,
                                        sample, ndims, &done, fn, name));
        if (done) return NN_OK;
    }
    NN__FORWARD(nn__gz_open(&zs, buf, size, fn, name));
    st = nn__gz_inflate(&zs, size, &out, count, sample, ndims, fn, name);
    inflateEnd(&zs);
    if (st != NN_OK) {
        nn__free(out);
        return st;
    }
    *data = out;
    *owned = out;
    return NN_OK;
}

static int nn__is_gzip(const unsigned char *buf, size_t size)
{
    return size >= 2 && buf[0] == 0x1F && buf[1] == 0x8B;
}

/* nn__idx_parse; fast 0 skips the libdeflate path (already tried). */
static int nn__idx_parse_ex(const unsigned char *buf, size_t size,
                            const unsigned char **data, unsigned char **owned,
                            size_t *count, size_t *sample_size,
                            uint32_t *ndims, int fast, const char *fn,
                            const char *name)
{
    size_t hdr = 0, payload;

    *data = NULL;
    *owned = NULL;
    if (nn__is_gzip(buf, size))
        return nn__idx_gunzip(buf, size, data, owned, count, sample_size,
                              ndims, fast, fn, name);
    NN__FORWARD(nn__idx_header(buf, size, &hdr, count, sample_size, ndims,
                               fn, name));
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

int nn__idx_parse(const unsigned char *buf, size_t size,
                  const unsigned char **data, unsigned char **owned,
                  size_t *count, size_t *sample_size, uint32_t *ndims,
                  const char *fn, const char *name)
{
    return nn__idx_parse_ex(buf, size, data, owned, count, sample_size,
                            ndims, 1, fn, name);
}

/*====== Public entry points ======*/

/* The 256 values a byte scales to, each computed as the plain expression
   would (a division, rounded once), so a lookup is bit-identical to it. */
static void nn__idx_table(float tab[256], int32_t scale)
{
    int v;
    for (v = 0; v < 256; v++) {
        switch (scale) {
        case NN_SCALE_UNIT: tab[v] = (float)v / 255.0f; break;
        case NN_SCALE_SYMMETRIC:
            tab[v] = ((float)v - 127.5f) / 127.5f;
            break;
        default: tab[v] = (float)v; break;
        }
    }
}

static void nn__idx_scale(float *restrict out,
                          const unsigned char *restrict in, size_t n,
                          int32_t scale)
{
    float tab[256];
    size_t i;
    nn__idx_table(tab, scale);
    for (i = 0; i < n; i++) out[i] = tab[in[i]];
}

/* In place: the n bytes at in, inside the block of out, become n floats
   at out.  Safe when in >= (unsigned char *)out + 3 * n: float i (bytes
   4i..4i+3 of out) is written after byte i is read and before any byte
   j > i, which lies at in + j >= out + 3n + i + 1 > out + 4i + 3.  (in is
   an argument of its own, not an offset from out: GCC 12's modref pass
   dropped the whole call when it was.) */
static void nn__idx_widen(float *out, const unsigned char *in, size_t n,
                          int32_t scale)
{
    float tab[256];
    size_t i;
    nn__idx_table(tab, scale);
    for (i = 0; i < n; i++) {
        unsigned char v = in[i];
        out[i] = tab[v];
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

    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    NN__CHECK(buf == NULL && size != 0, NN_ERR_INVALID_ARG,
              "%s: buf is NULL with size %zu", fn, size);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    NN__FORWARD(nn__idx_parse(buf, size, &data, &owned, &c, &s, &nd, fn,
                              "buffer"));
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
    int st;
    NN__FORWARD(nn__read_file(path, NN__IDX_MAX_FILE, file, &size, fn));
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

    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    NN__FORWARD(nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn));
    nn__free(owned);
    nn__free(file);
    *count = c;
    *sample_size = s;
    return NN_OK;
}

/* Read path whole, check its shape against count x sample_size and scale
   rows [first, first + rows) into out: the shared body of nn_idx_read and
   nn_idx_read_rows, after their argument checks. */
static int nn__idx_read_block(const char *path, float *out, size_t first,
                              size_t rows, size_t count, size_t sample_size,
                              int32_t scale, const char *fn)
{
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s;
    uint32_t nd;

    NN__FORWARD(nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn));
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

int nn_idx_read(const char *path, float *out, size_t count,
                size_t sample_size, int32_t scale)
{
    static const char fn[] = "nn_idx_read";
    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(out, fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    return nn__idx_read_block(path, out, 0, count, count, sample_size, scale,
                              fn);
}

int nn_idx_read_labels(const char *path, int32_t *labels, size_t count)
{
    static const char fn[] = "nn_idx_read_labels";
    unsigned char *file = NULL, *owned = NULL;
    const unsigned char *data;
    size_t c, s, i;
    uint32_t nd;

    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(labels, fn);
    NN__FORWARD(nn__idx_file(path, &file, &owned, &data, &c, &s, &nd, fn));
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

/* nn_idx_load's fast path: a gzip file decompressed by libdeflate straight
   into the last quarter of the float block it returns, then widened in
   place.  The block (4 bytes per byte the trailer claims) is bounded by
   nn__gz_claim, so at most 32 times the file's size before the data is
   seen.  NN_OK with *out set; -1 when the zlib path must decide;
   NN_ERR_NOMEM. */
static int nn__idx_load_fast(const unsigned char *file, size_t size,
                             int32_t scale, float **out, size_t *count,
                             size_t *sample_size, const char *fn,
                             const char *path)
{
    size_t total = nn__is_gzip(file, size) && size <= NN__IDX_MAX_FILE
                       ? nn__gz_claim(file, size)
                       : 0;
    size_t bytes, hdr = 0, c, s;
    unsigned char *tail;
    uint32_t nd;
    float *x;

    if (!NN__HAVE_FAST_GZIP || total == 0 ||
        !nn__mul_ok(total, sizeof(float), &bytes))
        return -1;
    x = nn__malloc(bytes);
    if (x == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory for the %zu "
                        "floats of IDX data", fn, path, total);
    nn__idx_hugepages(x, bytes);
    tail = (unsigned char *)x + 3 * total;
    if (!nn__gz_fast(file, size, tail, total) ||
        !nn__gz_fast_fits(tail, total, &hdr, &c, &s, &nd, fn, path)) {
        nn__free(x);
        return -1;
    }
    nn__idx_widen(x, tail + hdr, c * s, scale);
    *out = x;
    *count = c;
    *sample_size = s;
    return NN_OK;
}

/* ---- the file parsed (fast: libdeflate allowed), and rows [*first,
   *first + *rows) of part `part` of `parts` (nn_mpi_shard's split; part 0
   of 1 is the whole file) converted into new floats; frees file */
static int nn__idx_convert(unsigned char *file, size_t size, int32_t scale,
                           size_t part, size_t parts, int fast, float **out,
                           size_t *first, size_t *rows, size_t *count,
                           size_t *sample_size, const char *fn,
                           const char *path)
{
    unsigned char *owned = NULL;
    const unsigned char *data;
    size_t c, s, q, r, b, k, bytes;
    uint32_t nd;
    float *x;
    int st = nn__idx_parse_ex(file, size, &data, &owned, &c, &s, &nd, fast,
                              fn, path);
    if (st != NN_OK) {
        nn__free(file);
        return st;
    }
    q = c / parts;
    r = c % parts;
    b = part * q + (part < r ? part : r);
    k = q + (part < r ? 1 : 0);
    x = nn__mul_ok(k * s + 1, sizeof(float), &bytes) ? nn__malloc(bytes)
                                                     : NULL;
    if (x == NULL) {
        nn__free(owned);
        nn__free(file);
        return nn__fail(NN_ERR_NOMEM, "%s: %s: out of memory for the %zu "
                        "floats of IDX data", fn, path, k * s);
    }
    nn__idx_hugepages(x, bytes);
    nn__idx_scale(x, data + b * s, k * s, scale);
    nn__free(owned);
    nn__free(file);
    *out = x;
    *first = b;
    *rows = k;
    *count = c;
    *sample_size = s;
    return NN_OK;
}

int nn_idx_load(const char *path, int32_t scale, float **out, size_t *count,
                size_t *sample_size)
{
    static const char fn[] = "nn_idx_load";
    unsigned char *file = NULL;
    size_t size, first, rows;
    int st;

    NN__CHECK_PTR(out, fn);
    *out = NULL;
    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    NN__FORWARD(nn__read_file(path, NN__IDX_MAX_FILE, &file, &size, fn));
    st = nn__idx_load_fast(file, size, scale, out, count, sample_size, fn,
                           path);
    if (st != -1) {
        nn__free(file);
        return st;
    }
    /* the zlib path (or a plain file): the data is complete before the
       floats are allocated */
    return nn__idx_convert(file, size, scale, 0, 1, 0, out, &first, &rows,
                           count, sample_size, fn, path);
}

int nn_idx_load_part(const char *path, int32_t scale, size_t part,
                     size_t parts, float **out, size_t *first, size_t *rows,
                     size_t *count, size_t *sample_size)
{
    static const char fn[] = "nn_idx_load_part";
    unsigned char *file = NULL;
    size_t size;

    NN__CHECK_PTR(out, fn);
    *out = NULL;
    NN__CHECK_PTR(path, fn);
    NN__CHECK_PTR(first, fn);
    NN__CHECK_PTR(rows, fn);
    NN__CHECK_PTR(count, fn);
    NN__CHECK_PTR(sample_size, fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    NN__CHECK(parts == 0 || part >= parts, NN_ERR_INVALID_ARG,
              "%s: part %zu of %zu (0 <= part < parts)", fn, part, parts);
    NN__FORWARD(nn__read_file(path, NN__IDX_MAX_FILE, &file, &size, fn));
    /* the bytes of the whole file (one decompression, checked whole),
       then only this part's rows converted */
    return nn__idx_convert(file, size, scale, part, parts, 1, out, first,
                           rows, count, sample_size, fn, path);
}

void nn_idx_free(float *data)
{
    nn__free(data);
}

int nn_idx_read_rows(const char *path, float *out, size_t first,
                     size_t rows, size_t count, size_t sample_size,
                     int32_t scale)
{
    static const char fn[] = "nn_idx_read_rows";
    NN__CHECK_PTR(path, fn);
    NN__CHECK(out == NULL && rows > 0, NN_ERR_INVALID_ARG, "%s: out is NULL",
              fn);
    NN__CHECK(!nn__scale_ok(scale), NN_ERR_INVALID_ARG, "%s: scale %d is "
              "not an NN_SCALE_* value", fn, (int)scale);
    NN__CHECK(first > count || rows > count - first, NN_ERR_SHAPE,
              "%s: rows [%zu, %zu + %zu) are outside the %zu samples", fn,
              first, first, rows, count);
    return nn__idx_read_block(path, out, first, rows, count, sample_size,
                              scale, fn);
}
